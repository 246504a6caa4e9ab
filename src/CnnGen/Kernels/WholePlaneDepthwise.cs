using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise forward pass for small maps on Vector512: each vector covers whole output rows (16 lanes = two rows
    /// of 8, four of 4, ...), so an 8x8 output plane is four Vector512s where the row kernel takes eight Vector256 rows.
    /// <see cref="DepthwiseConvolution.WholePlanePays"/> says where it is used (its measured table).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The input channel is split into <c>sh·sw</c> phase planes (input row <c>qy·sh + ry</c>, column <c>q·sw + rx</c> goes
    /// to phase (ry, rx) at row qy, column q), each stored flat with rows of exactly OW floats and zero rows above and below.
    /// Tap (ky, kx) then reads, for output cell (oy, ox), phase plane cell (oy + sy, ox + sx) with
    /// <c>ky·dh − ph = sy·sh + ry</c> and <c>kx·dw − pw = sx·sw + rx</c> (floor division): for a whole vector of cells that
    /// is one unaligned load at a constant offset. Rows outside the input read the zero rows; columns outside it would
    /// read the neighbouring row's cells instead, so those lanes are masked to zero (one AND per load) — the load then
    /// holds exactly what the zero-padded definition multiplies.
    /// </para>
    /// <para>
    /// Applies when the output row divides the vector, the plane is whole vectors and the input is exactly <c>OW·sw</c>
    /// wide (every phase row then holds all of its input columns). Each output's sum runs from the bias over the taps in
    /// order (ky, then kx), as in <see cref="DepthwiseConvolution"/>'s row kernel, so the two give the same bits.
    /// </para>
    /// </remarks>
    internal static class WholePlaneDepthwise
    {
        // Masks and tap offsets live on the stack.
        private const int MaxTaps = 49;

        // Channels split into the scratch a block at a time before any of them is computed, so that a channel's loads read
        // stores made several channels earlier rather than the ones just made.
        private const int BlockChannels = 8;

        internal readonly struct Layout
        {
            // Zero rows above and below each phase plane, zero floats before and after it, and one phase plane's length.
            public readonly int Top, Bottom, Front, PhaseLength;

            public Layout(in ConvolutionGeometry g)
            {
                int minSy = FloorDivide(-g.PaddingHeight, g.StrideHeight);
                int maxSy = FloorDivide((g.KernelHeight - 1) * g.DilationHeight - g.PaddingHeight, g.StrideHeight);
                int minSx = FloorDivide(-g.PaddingWidth, g.StrideWidth);
                int maxSx = FloorDivide((g.KernelWidth - 1) * g.DilationWidth - g.PaddingWidth, g.StrideWidth);
                Top = Math.Max(0, -minSy);
                Bottom = Math.Max(0, maxSy);
                Front = Math.Max(0, -minSx);
                int back = Math.Max(0, maxSx);
                PhaseLength = Front + (Top + g.OutHeight + Bottom) * g.OutWidth + back;
            }

            // One channel's phase planes.
            public int ChannelLength(in ConvolutionGeometry g) => g.StrideHeight * g.StrideWidth * PhaseLength;

            public int Length(in ConvolutionGeometry g) => Math.Min(BlockChannels, g.InChannels) * ChannelLength(g);
        }

        private static int FloorDivide(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        /// <summary>Whether the kernel applies to this depthwise geometry (with Vector512s: 16 lanes).</summary>
        public static bool Applies(in ConvolutionGeometry g) =>
            g.GroupInChannels == 1 && g.KernelHeight * g.KernelWidth <= MaxTaps && 16 % g.OutWidth == 0
            && g.OutHeight * g.OutWidth % 16 == 0 && g.InWidth == g.OutWidth * g.StrideWidth;

        public static int ScratchLength(in ConvolutionGeometry g) => new Layout(g).Length(g);

        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, float low, float high)
        {
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            var planes = scratch.Slice(0, layout.Length(g));
            planes.Clear();
            Span<int> offsets = stackalloc int[taps];
            Span<int> maskColumns = stackalloc int[taps];
            for (int ky = 0, t = 0; ky < g.KernelHeight; ky++)
            {
                int ey = ky * g.DilationHeight - g.PaddingHeight, sy = FloorDivide(ey, g.StrideHeight), ry = ey - sy * g.StrideHeight;
                for (int kx = 0; kx < g.KernelWidth; kx++, t++)
                {
                    int ex = kx * g.DilationWidth - g.PaddingWidth, sx = FloorDivide(ex, g.StrideWidth), rx = ex - sx * g.StrideWidth;
                    offsets[t] = (ry * g.StrideWidth + rx) * layout.PhaseLength + layout.Front + (layout.Top + sy) * outWidth + sx;
                    maskColumns[t] = sx;
                }
            }
            var clamp = new OutputClamp(low, high);
            ref float planeRef = ref MemoryMarshal.GetReference(planes);
            ref int offsetRef = ref MemoryMarshal.GetReference(offsets);
            int vectors = outPlane / 16, channelLength = layout.ChannelLength(g);
            Span<Vector512<float>> masks = stackalloc Vector512<float>[taps];
            for (int t = 0; t < taps; t++) masks[t] = ColumnMask512(maskColumns[t], outWidth);
            ref Vector512<float> maskRef = ref MemoryMarshal.GetReference(masks);
            for (int first = 0; first < g.InChannels; first += BlockChannels)
            {
                int last = Math.Min(g.InChannels, first + BlockChannels);
                for (int c = first; c < last; c++) Split(x, c, g, layout, planes.Slice((c - first) * channelLength, channelLength));
                int ic = first;
                // Planes of four vectors (8x8 maps), one output per input channel: two channels per tile, eight independent sums.
                for (; vectors == 4 && multiplier == 1 && ic <= last - 2; ic += 2)
                {
                    float b0 = bias.IsEmpty ? 0f : bias[ic], b1 = bias.IsEmpty ? 0f : bias[ic + 1];
                    PairTile512(ref Unsafe.Add(ref planeRef, (ic - first) * channelLength), channelLength, ref offsetRef, ref maskRef, taps,
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), ic * taps), b0, b1, clamp, ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)ic * outPlane));
                }
                for (; ic < last; ic++)
                {
                    ref float channelPlanes = ref Unsafe.Add(ref planeRef, (ic - first) * channelLength);
                    for (int m = 0; m < multiplier; m++)
                    {
                        int oc = ic * multiplier + m;
                        float b = bias.IsEmpty ? 0f : bias[oc];
                        ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), oc * taps);
                        ref float output = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * outPlane);
                        int v = 0;
                        for (; v <= vectors - 4; v += 4) Tile512<C4>(ref channelPlanes, v * 16, ref offsetRef, ref maskRef, taps, ref w, b, clamp, ref output);
                        for (; v < vectors; v++) Tile512<C1>(ref channelPlanes, v * 16, ref offsetRef, ref maskRef, taps, ref w, b, clamp, ref output);
                    }
                }
            }
        }

        // All ones in the lanes whose column ox (lane mod outWidth) moved by shift stays inside the row, zero in the others.
        private static Vector512<float> ColumnMask512(int shift, int outWidth)
        {
            // outWidth divides the vector, so it is a power of two and lane mod outWidth is lane & (outWidth - 1).
            var column = (Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) & Vector512.Create(outWidth - 1)) + Vector512.Create(shift);
            return Vector512.LessThan(column.AsUInt32(), Vector512.Create((uint)outWidth)).AsSingle();
        }

        // Channel c of x into the phase planes' rows (only cells that hold input: the rest stays as cleared, zero).
        private static void Split(ReadOnlySpan<float> x, int c, in ConvolutionGeometry g, in Layout layout, Span<float> planes)
        {
            int height = g.InHeight, width = g.InWidth, sh = g.StrideHeight, sw = g.StrideWidth, outWidth = g.OutWidth;
            int storedRows = g.OutHeight + layout.Bottom; // rows qy = 0 .. OH + Bottom - 1 can be read
            ref float source = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)c * height * width);
            ref float target = ref Unsafe.Add(ref MemoryMarshal.GetReference(planes), layout.Front + layout.Top * outWidth);
            for (int ry = 0; ry < sh; ry++)
            {
                int rows = Math.Min((height - ry + sh - 1) / sh, storedRows);
                if (sw == 1)
                {
                    ref float to = ref Unsafe.Add(ref target, ry * layout.PhaseLength);
                    if (sh == 1)
                    {
                        // Rows of exactly OW floats on both sides: one block.
                        int count = rows * width, i = 0;
                        if (Vector512.IsHardwareAccelerated)
                            for (; i <= count - 16; i += 16) Vector512.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref to, (nuint)i);
                        for (; i <= count - 8; i += 8) Vector256.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref to, (nuint)i);
                        for (; i < count; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref source, i);
                        continue;
                    }
                    for (int qy = 0; qy < rows; qy++)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref source, (qy * sh + ry) * width), width).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref to, qy * outWidth), width));
                    continue;
                }
                for (int qy = 0; qy < rows; qy++)
                {
                    ref float from = ref Unsafe.Add(ref source, (qy * sh + ry) * width);
                    int ix = 0;
                    if (sw == 2 && Vector256.IsHardwareAccelerated)
                    {
                        ref float evens = ref Unsafe.Add(ref target, ry * sw * layout.PhaseLength + qy * outWidth);
                        ref float odds = ref Unsafe.Add(ref evens, layout.PhaseLength);
                        for (; ix <= width - 16; ix += 16)
                        {
                            var (e, o) = VectorRows.Deinterleave(ref Unsafe.Add(ref from, ix));
                            e.StoreUnsafe(ref evens, (nuint)(ix / 2));
                            o.StoreUnsafe(ref odds, (nuint)(ix / 2));
                        }
                    }
                    if (sw == 2 && ix <= width - 8 && Vector256.IsHardwareAccelerated)
                    {
                        // 8 columns: 4 evens and 4 odds (rows of 4 after the stride).
                        ref float evens = ref Unsafe.Add(ref target, ry * sw * layout.PhaseLength + qy * outWidth);
                        var split = Vector256.Shuffle(Vector256.LoadUnsafe(ref Unsafe.Add(ref from, ix)), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
                        split.GetLower().StoreUnsafe(ref evens, (nuint)(ix / 2));
                        split.GetUpper().StoreUnsafe(ref Unsafe.Add(ref evens, layout.PhaseLength), (nuint)(ix / 2));
                        ix += 8;
                    }
                    if (ix == width) continue;
                    // The rest one by one, the phase and its column stepped rather than divided out.
                    ref float row = ref Unsafe.Add(ref target, ry * sw * layout.PhaseLength + qy * outWidth);
                    for (int rx = ix % sw, q = ix / sw; ix < width; ix++)
                    {
                        Unsafe.Add(ref row, rx * layout.PhaseLength + q) = Unsafe.Add(ref from, ix);
                        if (++rx == sw)
                        {
                            rx = 0;
                            q++;
                        }
                    }
                }
            }
        }

        // TVectors consecutive output vectors of one channel (16 cells each), from the bias over the taps in order.
        private static void Tile512<TVectors>(ref float planes, int first, ref int offsets, ref Vector512<float> masks, int taps, ref float w, float bias,
            OutputClamp clamp, ref float output) where TVectors : struct, IConstant
        {
            int count = TVectors.Value;
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0;
            ref float start = ref Unsafe.Add(ref planes, first);
            for (int t = 0; t < taps; t++)
            {
                ref float at = ref Unsafe.Add(ref start, Unsafe.Add(ref offsets, t));
                var mask = Unsafe.Add(ref masks, t);
                var k = Vector512.Create(Unsafe.Add(ref w, t));
                a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at) & mask, k, a0);
                if (count > 1)
                {
                    a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 16) & mask, k, a1);
                    a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 32) & mask, k, a2);
                    a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 48) & mask, k, a3);
                }
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            ref float o = ref Unsafe.Add(ref output, first);
            OutputClamp.Store(a0, none, low, high, ref o);
            if (count > 1)
            {
                OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref o, 16));
                OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref o, 32));
                OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref o, 48));
            }
        }

        // Two channels' planes of four vectors each (channelLength floats apart in the scratch, taps weights apart, 64 outputs apart).
        private static void PairTile512(ref float planes, int channelLength, ref int offsets, ref Vector512<float> masks, int taps, ref float w,
            float bias0, float bias1, OutputClamp clamp, ref float output)
        {
            var a0 = Vector512.Create(bias0);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0;
            var c0 = Vector512.Create(bias1);
            Vector512<float> c1 = c0, c2 = c0, c3 = c0;
            for (int t = 0; t < taps; t++)
            {
                ref float at = ref Unsafe.Add(ref planes, Unsafe.Add(ref offsets, t));
                ref float other = ref Unsafe.Add(ref at, channelLength);
                var mask = Unsafe.Add(ref masks, t);
                var k = Vector512.Create(Unsafe.Add(ref w, t));
                var l = Vector512.Create(Unsafe.Add(ref w, taps + t));
                a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at) & mask, k, a0);
                a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 16) & mask, k, a1);
                a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 32) & mask, k, a2);
                a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, 48) & mask, k, a3);
                c0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref other) & mask, l, c0);
                c1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref other, 16) & mask, l, c1);
                c2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref other, 32) & mask, l, c2);
                c3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref other, 48) & mask, l, c3);
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            OutputClamp.Store(a0, none, low, high, ref output);
            OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref output, 16));
            OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref output, 32));
            OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref output, 48));
            OutputClamp.Store(c0, none, low, high, ref Unsafe.Add(ref output, 64));
            OutputClamp.Store(c1, none, low, high, ref Unsafe.Add(ref output, 80));
            OutputClamp.Store(c2, none, low, high, ref Unsafe.Add(ref output, 96));
            OutputClamp.Store(c3, none, low, high, ref Unsafe.Add(ref output, 112));
        }
    }
}
