using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise case of <see cref="GroupedConvolution"/> (one input channel per group, any channel multiplier):
    /// a direct kernel vectorized along the output row, for any stride and dilation, without gathers.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each input channel is copied into a zero-padded plane whose rows are split into <c>sw</c> phases: padded column
    /// <c>px</c> lives at <c>(px mod sw)·L + px / sw</c> of its row, with <c>L = ceil((W + 2pw) / sw)</c>. Output column
    /// <c>ox</c> of tap <c>kx</c> reads padded column <c>ox·sw + kx·dw</c>, which is element <c>ox + (kx·dw) / sw</c> of
    /// phase <c>(kx·dw) mod sw</c>: consecutive output columns read consecutive floats, so a vector of 16 (or 8)
    /// outputs is one unaligned load and one fused multiply-add per tap, at stride 1, 2 or 3 alike.
    /// </para>
    /// <para>
    /// The forward pass computes four output rows per tile (four independent accumulators per tap); rows end with an
    /// overlapping last vector (it writes the same values again), and rows narrower than a vector are one vector each,
    /// spilling into the next output row before that row is written. The backward pass, which accumulates, ends each row
    /// with scalar cells. The scalar path is the definition's loops, with no scratch.
    /// </para>
    /// </remarks>
    internal static class DepthwiseConvolution
    {
        // Tap offsets are kept on the stack; a kernel with more taps than this (none in practice) runs the scalar path.
        private const int MaxStackTaps = 1024;

        private readonly struct Layout
        {
            public readonly int PhaseLength, RowStride, PlaneLength;

            public Layout(in ConvolutionGeometry g)
            {
                int paddedWidth = g.InWidth + 2 * g.PaddingWidth;
                PhaseLength = (paddedWidth + g.StrideWidth - 1) / g.StrideWidth;
                RowStride = PhaseLength * g.StrideWidth;
                PlaneLength = (g.InHeight + 2 * g.PaddingHeight) * RowStride;
            }
        }

        // Floats a narrow row's vector may read past the end of the input plane.
        private const int Slack = 8;

        /// <summary>The padded input plane and the padded input-gradient plane, and a vector's slack after them.</summary>
        public static int ScratchLength(in ConvolutionGeometry g)
        {
            long plane = (long)(g.InHeight + 2 * g.PaddingHeight) * new Layout(g).RowStride;
            if (2 * plane + Slack > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The padded planes of this convolution do not fit in a span.");
            return (int)(2 * plane + Slack);
        }

        private static bool Vectorized(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated && g.KernelHeight * g.KernelWidth <= MaxStackTaps;

        // Offsets of each tap in the phase-split padded plane, relative to the start of the output row's first padded row.
        private static void TapOffsets(in ConvolutionGeometry g, in Layout layout, Span<int> offsets)
        {
            int t = 0;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                for (int kx = 0; kx < g.KernelWidth; kx++, t++)
                {
                    int column = kx * g.DilationWidth;
                    offsets[t] = ky * g.DilationHeight * layout.RowStride + column % g.StrideWidth * layout.PhaseLength + column / g.StrideWidth;
                }
            }
        }

        // Writes channel c of x into the interior of the padded plane (its border and phase slack stay as they are: zero).
        private static void Pad(ReadOnlySpan<float> x, int c, in ConvolutionGeometry g, in Layout layout, Span<float> plane)
        {
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth, pw = g.PaddingWidth;
            ref float source = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)c * height * width);
            ref float target = ref MemoryMarshal.GetReference(plane);
            for (int iy = 0; iy < height; iy++)
            {
                ref float row = ref Unsafe.Add(ref target, (nint)(iy + g.PaddingHeight) * layout.RowStride);
                ref float from = ref Unsafe.Add(ref source, iy * width);
                if (sw == 1)
                {
                    VectorRows.CopyRow(ref from, ref Unsafe.Add(ref row, pw), width);
                    continue;
                }
                int ix = 0;
                if (sw == 2)
                {
                    // Input column 2k goes to phase pw mod 2 at k + pw/2, column 2k + 1 to the other phase at k + (pw + 1)/2.
                    ref float evens = ref Unsafe.Add(ref row, (pw & 1) * layout.PhaseLength + pw / 2);
                    ref float odds = ref Unsafe.Add(ref row, ((pw + 1) & 1) * layout.PhaseLength + (pw + 1) / 2);
                    for (; ix <= width - 16; ix += 16)
                    {
                        var (e, o) = VectorRows.Deinterleave(ref Unsafe.Add(ref from, ix));
                        e.StoreUnsafe(ref evens, (nuint)(ix / 2));
                        o.StoreUnsafe(ref odds, (nuint)(ix / 2));
                    }
                }
                for (; ix < width; ix++)
                {
                    int px = ix + pw;
                    Unsafe.Add(ref row, px % sw * layout.PhaseLength + px / sw) = Unsafe.Add(ref from, ix);
                }
            }
        }

        // The reverse of Pad: the interior of the padded gradient plane, written to channel c of dx.
        private static void Unpad(ReadOnlySpan<float> plane, int c, in ConvolutionGeometry g, in Layout layout, Span<float> dx)
        {
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth, pw = g.PaddingWidth;
            ref float source = ref MemoryMarshal.GetReference(plane);
            ref float target = ref Unsafe.Add(ref MemoryMarshal.GetReference(dx), (nint)c * height * width);
            for (int iy = 0; iy < height; iy++)
            {
                ref float row = ref Unsafe.Add(ref source, (nint)(iy + g.PaddingHeight) * layout.RowStride);
                ref float to = ref Unsafe.Add(ref target, iy * width);
                if (sw == 1)
                {
                    VectorRows.CopyRow(ref Unsafe.Add(ref row, pw), ref to, width);
                    continue;
                }
                int ix = 0;
                if (sw == 2)
                {
                    ref float evens = ref Unsafe.Add(ref row, (pw & 1) * layout.PhaseLength + pw / 2);
                    ref float odds = ref Unsafe.Add(ref row, ((pw + 1) & 1) * layout.PhaseLength + (pw + 1) / 2);
                    for (; ix <= width - 16; ix += 16)
                    {
                        VectorRows.Interleave(Vector256.LoadUnsafe(ref evens, (nuint)(ix / 2)), Vector256.LoadUnsafe(ref odds, (nuint)(ix / 2)), ref Unsafe.Add(ref to, ix));
                    }
                }
                for (; ix < width; ix++)
                {
                    int px = ix + pw;
                    Unsafe.Add(ref to, ix) = Unsafe.Add(ref row, px % sw * layout.PhaseLength + px / sw);
                }
            }
        }

        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            if (!Vectorized(g, path))
            {
                ForwardScalar(g, x, weight, bias, y);
                return;
            }
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            Span<int> offsets = stackalloc int[taps];
            TapOffsets(g, layout, offsets);
            var plane = scratch.Slice(0, layout.PlaneLength);
            plane.Clear();
            ref float planeRef = ref MemoryMarshal.GetReference(plane);
            ref int offsetRef = ref MemoryMarshal.GetReference(offsets);
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated && outWidth >= 16;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                Pad(x, ic, g, layout, plane);
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    float b = bias.IsEmpty ? 0f : bias[oc];
                    ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), oc * taps);
                    int rowStep = g.StrideHeight * layout.RowStride;
                    int oy = 0;
                    if (outWidth < 8)
                    {
                        // Rows narrower than a vector: one vector per row, its lanes past the row spilling into the
                        // output rows after it, which are written later (rows and channels go in order). Rows within
                        // 8 floats of the end of y go by the scalar loop below.
                        for (; oy < g.OutHeight && oc * outPlane + oy * outWidth + 8 <= g.OutLength; oy++)
                        {
                            ref float input = ref Unsafe.Add(ref planeRef, (nint)oy * rowStep);
                            ref float output = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * outPlane + oy * outWidth);
                            NarrowRow256(ref input, ref w, ref offsetRef, taps, b, ref output);
                        }
                    }
                    // Four output rows at a time: four independent accumulator chains per tap, one weight broadcast.
                    for (; oy <= g.OutHeight - 4 && outWidth >= 8; oy += 4)
                    {
                        ref float input = ref Unsafe.Add(ref planeRef, (nint)oy * rowStep);
                        ref float output = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * outPlane + oy * outWidth);
                        if (wide) FourRows512(ref input, rowStep, ref w, ref offsetRef, taps, b, ref output, outWidth);
                        else FourRows256(ref input, rowStep, ref w, ref offsetRef, taps, b, ref output, outWidth);
                    }
                    for (; oy < g.OutHeight; oy++)
                    {
                        ref float input = ref Unsafe.Add(ref planeRef, (nint)oy * rowStep);
                        ref float output = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * outPlane + oy * outWidth);
                        if (wide) Row512(ref input, ref w, ref offsetRef, taps, b, ref output, outWidth);
                        else if (outWidth >= 8) Row256(ref input, ref w, ref offsetRef, taps, b, ref output, outWidth);
                        else RowScalar(ref input, ref w, ref offsetRef, taps, b, ref output, outWidth);
                    }
                }
            }
        }

        private static void FourRows512(ref float input, int rowStep, ref float w, ref int offsets, int taps, float bias, ref float output, int outWidth)
        {
            for (int ox = 0; ; ox += 16)
            {
                if (ox > outWidth - 16) ox = outWidth - 16; // the last vector overlaps the one before
                ref float r0 = ref Unsafe.Add(ref input, ox);
                ref float r1 = ref Unsafe.Add(ref r0, rowStep);
                ref float r2 = ref Unsafe.Add(ref r1, rowStep);
                ref float r3 = ref Unsafe.Add(ref r2, rowStep);
                var a0 = Vector512.Create(bias);
                var a1 = a0; var a2 = a0; var a3 = a0;
                for (int t = 0; t < taps; t++)
                {
                    nuint at = (nuint)Unsafe.Add(ref offsets, t);
                    var k = Vector512.Create(Unsafe.Add(ref w, t));
                    a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r0, at), k, a0);
                    a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r1, at), k, a1);
                    a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r2, at), k, a2);
                    a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r3, at), k, a3);
                }
                a0.StoreUnsafe(ref output, (nuint)ox);
                a1.StoreUnsafe(ref output, (nuint)(ox + outWidth));
                a2.StoreUnsafe(ref output, (nuint)(ox + 2 * outWidth));
                a3.StoreUnsafe(ref output, (nuint)(ox + 3 * outWidth));
                if (ox == outWidth - 16) break;
            }
        }

        private static void FourRows256(ref float input, int rowStep, ref float w, ref int offsets, int taps, float bias, ref float output, int outWidth)
        {
            for (int ox = 0; ; ox += 8)
            {
                if (ox > outWidth - 8) ox = outWidth - 8;
                ref float r0 = ref Unsafe.Add(ref input, ox);
                ref float r1 = ref Unsafe.Add(ref r0, rowStep);
                ref float r2 = ref Unsafe.Add(ref r1, rowStep);
                ref float r3 = ref Unsafe.Add(ref r2, rowStep);
                var a0 = Vector256.Create(bias);
                var a1 = a0; var a2 = a0; var a3 = a0;
                for (int t = 0; t < taps; t++)
                {
                    nuint at = (nuint)Unsafe.Add(ref offsets, t);
                    var k = Vector256.Create(Unsafe.Add(ref w, t));
                    a0 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r0, at), k, a0);
                    a1 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r1, at), k, a1);
                    a2 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r2, at), k, a2);
                    a3 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r3, at), k, a3);
                }
                a0.StoreUnsafe(ref output, (nuint)ox);
                a1.StoreUnsafe(ref output, (nuint)(ox + outWidth));
                a2.StoreUnsafe(ref output, (nuint)(ox + 2 * outWidth));
                a3.StoreUnsafe(ref output, (nuint)(ox + 3 * outWidth));
                if (ox == outWidth - 8) break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row512(ref float input, ref float w, ref int offsets, int taps, float bias, ref float output, int outWidth)
        {
            for (int ox = 0; ; ox += 16)
            {
                if (ox > outWidth - 16) ox = outWidth - 16; // the last vector overlaps the one before
                ref float start = ref Unsafe.Add(ref input, ox);
                var acc = Vector512.Create(bias);
                for (int t = 0; t < taps; t++)
                    acc = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref start, (nuint)Unsafe.Add(ref offsets, t)), Vector512.Create(Unsafe.Add(ref w, t)), acc);
                acc.StoreUnsafe(ref output, (nuint)ox);
                if (ox == outWidth - 16) break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row256(ref float input, ref float w, ref int offsets, int taps, float bias, ref float output, int outWidth)
        {
            for (int ox = 0; ; ox += 8)
            {
                if (ox > outWidth - 8) ox = outWidth - 8;
                ref float start = ref Unsafe.Add(ref input, ox);
                var acc = Vector256.Create(bias);
                for (int t = 0; t < taps; t++)
                    acc = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref start, (nuint)Unsafe.Add(ref offsets, t)), Vector256.Create(Unsafe.Add(ref w, t)), acc);
                acc.StoreUnsafe(ref output, (nuint)ox);
                if (ox == outWidth - 8) break;
            }
        }

        // 8 outputs from the row start, whatever the row's width (the caller keeps the extra lanes harmless).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void NarrowRow256(ref float input, ref float w, ref int offsets, int taps, float bias, ref float output)
        {
            var acc = Vector256.Create(bias);
            for (int t = 0; t < taps; t++)
                acc = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref input, (nuint)Unsafe.Add(ref offsets, t)), Vector256.Create(Unsafe.Add(ref w, t)), acc);
            acc.StoreUnsafe(ref output);
        }

        private static void RowScalar(ref float input, ref float w, ref int offsets, int taps, float bias, ref float output, int outWidth)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                float acc = bias;
                for (int t = 0; t < taps; t++) acc += Unsafe.Add(ref input, Unsafe.Add(ref offsets, t) + ox) * Unsafe.Add(ref w, t);
                Unsafe.Add(ref output, ox) = acc;
            }
        }

        public static void Backward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            if (!Vectorized(g, path))
            {
                BackwardScalar(g, x, weight, outputGradient, weightGradient, inputGradient);
                return;
            }
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            Span<int> offsets = stackalloc int[taps];
            TapOffsets(g, layout, offsets);
            var plane = scratch.Slice(0, layout.PlaneLength);
            var gradientPlane = scratch.Slice(layout.PlaneLength, layout.PlaneLength);
            plane.Clear();
            bool wantInput = !inputGradient.IsEmpty;
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated;
            ref float planeRef = ref MemoryMarshal.GetReference(plane);
            ref float gradientRef = ref MemoryMarshal.GetReference(gradientPlane);
            int rowStep = g.StrideHeight * layout.RowStride;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                Pad(x, ic, g, layout, plane);
                if (wantInput) gradientPlane.Clear();
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    ref float dy = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputGradient), (nint)oc * outPlane);
                    for (int t = 0; t < taps; t++)
                    {
                        int offset = offsets[t];
                        float w = weight[oc * taps + t];
                        float dw = wide
                            ? TapRows512(ref dy, ref Unsafe.Add(ref planeRef, offset), ref Unsafe.Add(ref gradientRef, offset), w, g.OutHeight, outWidth, rowStep, wantInput)
                            : TapRows256(ref dy, ref Unsafe.Add(ref planeRef, offset), ref Unsafe.Add(ref gradientRef, offset), w, g.OutHeight, outWidth, rowStep, wantInput);
                        if (!weightGradient.IsEmpty) weightGradient[oc * taps + t] += dw;
                    }
                }
                if (wantInput) Unpad(gradientPlane, ic, g, layout, inputGradient);
            }
        }

        // One tap over every output row: returns Σ dy · input (the tap's weight gradient) and, when asked, adds w · dy to
        // the padded input gradient at the same positions.
        private static float TapRows512(ref float dy, ref float input, ref float gradient, float w, int outHeight, int outWidth, int rowStep, bool wantInput)
        {
            // Four accumulators, rotated after each row, so consecutive rows' sums do not wait on each other.
            var acc = Vector512<float>.Zero;
            var acc1 = acc; var acc2 = acc; var acc3 = acc;
            var wv = Vector512.Create(w);
            float tail = 0f;
            int vectorEnd = outWidth & ~15;
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dy, oy * outWidth);
                ref float inRow = ref Unsafe.Add(ref input, (nint)oy * rowStep);
                ref float gRow = ref Unsafe.Add(ref gradient, (nint)oy * rowStep);
                int ox = 0;
                for (; ox < vectorEnd; ox += 16)
                {
                    var d = Vector512.LoadUnsafe(ref dyRow, (nuint)ox);
                    acc = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref inRow, (nuint)ox), acc);
                    if (wantInput) Fused.MultiplyAdd(d, wv, Vector512.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                }
                if (ox <= outWidth - 8)
                {
                    var d = Vector256.LoadUnsafe(ref dyRow, (nuint)ox);
                    acc += Vector512.Create(Vector256.LoadUnsafe(ref inRow, (nuint)ox) * d, Vector256<float>.Zero);
                    if (wantInput) Fused.MultiplyAdd(d, wv.GetLower(), Vector256.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                    ox += 8;
                }
                for (; ox < outWidth; ox++)
                {
                    float d = Unsafe.Add(ref dyRow, ox);
                    tail += d * Unsafe.Add(ref inRow, ox);
                    if (wantInput) Unsafe.Add(ref gRow, ox) += d * w;
                }
                (acc, acc1, acc2, acc3) = (acc1, acc2, acc3, acc);
            }
            return Vector512.Sum(acc + acc1 + (acc2 + acc3)) + tail;
        }

        private static float TapRows256(ref float dy, ref float input, ref float gradient, float w, int outHeight, int outWidth, int rowStep, bool wantInput)
        {
            // Four accumulators, rotated after each row, so consecutive rows' sums do not wait on each other.
            var acc = Vector256<float>.Zero;
            var acc1 = acc; var acc2 = acc; var acc3 = acc;
            var wv = Vector256.Create(w);
            float tail = 0f;
            int vectorEnd = outWidth & ~7;
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dy, oy * outWidth);
                ref float inRow = ref Unsafe.Add(ref input, (nint)oy * rowStep);
                ref float gRow = ref Unsafe.Add(ref gradient, (nint)oy * rowStep);
                int ox = 0;
                for (; ox < vectorEnd; ox += 8)
                {
                    var d = Vector256.LoadUnsafe(ref dyRow, (nuint)ox);
                    acc = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref inRow, (nuint)ox), acc);
                    if (wantInput) Fused.MultiplyAdd(d, wv, Vector256.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                }
                for (; ox < outWidth; ox++)
                {
                    float d = Unsafe.Add(ref dyRow, ox);
                    tail += d * Unsafe.Add(ref inRow, ox);
                    if (wantInput) Unsafe.Add(ref gRow, ox) += d * w;
                }
                (acc, acc1, acc2, acc3) = (acc1, acc2, acc3, acc);
            }
            return Vector256.Sum(acc + acc1 + (acc2 + acc3)) + tail;
        }

        // ------------------------------------------------------------------------------------------------------------
        // Scalar path: the definition's loops, bounds checked per tap.

        private static void ForwardScalar(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, inPlane = g.InHeight * g.InWidth;
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int ic = oc / multiplier;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float acc = bias.IsEmpty ? 0f : bias[oc];
                        for (int ky = 0; ky < g.KernelHeight; ky++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight) continue;
                            for (int kx = 0; kx < g.KernelWidth; kx++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix >= (uint)g.InWidth) continue;
                                acc += x[ic * inPlane + iy * g.InWidth + ix] * weight[oc * taps + ky * g.KernelWidth + kx];
                            }
                        }
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = acc;
                    }
                }
            }
        }

        private static void BackwardScalar(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, inPlane = g.InHeight * g.InWidth;
            bool wantInput = !inputGradient.IsEmpty;
            if (wantInput) inputGradient.Slice(0, g.InLength).Clear();
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int ic = oc / multiplier;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        float w = weight[oc * taps + ky * g.KernelWidth + kx];
                        float dw = 0f;
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight) continue;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix >= (uint)g.InWidth) continue;
                                float d = outputGradient[(oc * g.OutHeight + oy) * g.OutWidth + ox];
                                int at = ic * inPlane + iy * g.InWidth + ix;
                                dw += d * x[at];
                                if (wantInput) inputGradient[at] += d * w;
                            }
                        }
                        if (!weightGradient.IsEmpty) weightGradient[oc * taps + ky * g.KernelWidth + kx] += dw;
                    }
                }
            }
        }
    }
}
