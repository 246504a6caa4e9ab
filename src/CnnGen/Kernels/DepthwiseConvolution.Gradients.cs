using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    internal static partial class DepthwiseConvolution
    {
        // The backward's two gradients, each by the kernel shape that suits it (KernelBench depthwise-backward):
        //
        // - The weight gradient of a channel is one sum per tap over the output cells, Σ dy · input. A vector of dy is
        //   loaded once and meets the input under each of up to nine taps, one accumulator per tap (the scatter form loads
        //   dy and the input gradient again for every tap).
        // - At stride 1 the input gradient is itself a depthwise convolution: dx = dy, padded by (K−1)·d − p, correlated with
        //   each channel's kernel turned by 180°. The forward kernels run it (eight rows per tile, one store per output),
        //   where the scatter form loads and stores the whole input gradient once per tap.
        // - At other strides (one output channel per input channel) each cell of the padded, phase-split input-gradient
        //   plane gathers the few taps that reach it, from dy rows padded with zeros, and is stored once; the plane is then
        //   unpadded as the scatter form's is.

        // Taps summed in one sweep over dy: one accumulator each, with dy, the mask and a load beside them in registers.
        private const int TapsPerSweep = 9;

        /// <summary>
        /// The geometry whose forward pass is this layer's input gradient: stride 1, one input channel per output channel,
        /// and padding at most the dilated kernel's reach (the input gradient's first row then meets dy's first row);
        /// null where that does not hold and the scatter form runs.
        /// </summary>
        internal static ConvolutionGeometry? TransposedGeometry(in ConvolutionGeometry g)
        {
            if (g.StrideHeight != 1 || g.StrideWidth != 1 || g.GroupOutChannels != 1) return null;
            int reachHeight = (g.KernelHeight - 1) * g.DilationHeight, reachWidth = (g.KernelWidth - 1) * g.DilationWidth;
            int padHeight = reachHeight - g.PaddingHeight, padWidth = reachWidth - g.PaddingWidth;
            if (padHeight < 0 || padWidth < 0) return null;
            // At stride 1 the output is in + 2p − reach, so dy padded by reach − p each side gives back the input's size.
            if (g.OutHeight + 2 * padHeight - reachHeight != g.InHeight || g.OutWidth + 2 * padWidth - reachWidth != g.InWidth) return null;
            return new ConvolutionGeometry(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth, 1, 1,
                padHeight, padWidth, g.DilationHeight, g.DilationWidth, g.InChannels);
        }

        // Scratch of the input gradient by the transposed geometry: its forward's planes, then the turned kernels.
        private static long TransposedScratchLength(in ConvolutionGeometry g) =>
            TransposedGeometry(g) is { } t ? (long)ForwardScratchLength(t) + g.WeightLength : 0;

        /// <summary>Whether the input gradient is gathered: one output channel per input channel, not the transposed case.</summary>
        internal static bool GathersInputGradient(in ConvolutionGeometry g) => g.GroupOutChannels == 1 && TransposedGeometry(g) is null;

        // The gather's dy rows: zeros before them for the widest tap shift, and after them past the phase's last vector.
        private static int GatherRowLength(in ConvolutionGeometry g, in Layout layout) =>
            (g.KernelWidth - 1) * g.DilationWidth / g.StrideWidth + layout.PhaseLength + 16;

        // Scratch of the gathered input gradient: two padded gradient planes with a vector's overrun, two sets of padded dy
        // rows, then the taps each (row, phase) of the plane gathers: where each list starts, and per tap its dy offset and its index.
        private static long GatherScratchLength(in ConvolutionGeometry g)
        {
            if (!GathersInputGradient(g)) return 0;
            var layout = new Layout(g);
            return 2 * ((long)layout.PlaneLength + 16 + (long)g.OutHeight * GatherRowLength(g, layout)) + GatherListsLength(g);
        }

        // Each (ky, oy) pair meets one plane row, and each kx one of its phases: at most K² · outH taps in all the lists.
        private static long GatherListsLength(in ConvolutionGeometry g) =>
            (long)g.InHeight * g.StrideWidth + 1 + 2L * g.KernelHeight * g.KernelWidth * g.OutHeight;

        // dx of one output channel per input channel at any stride: padded row r, phase φ, element j of the gradient plane is
        // Σ w[ky, kx] · dy[oy, j − (kx·dw) / sw] over the taps with (kx·dw) mod sw = φ and r = oy·sh + ky·dh (the scatter
        // form's placements, read backwards). Which taps those are depends on the shape only: listed once, for every channel.
        private static void InputGradientByGather(in ConvolutionGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            int phaseLength = layout.PhaseLength, sh = g.StrideHeight, sw = g.StrideWidth;
            int left = (g.KernelWidth - 1) * g.DilationWidth / sw, rowLength = GatherRowLength(g, layout);
            int planeLength = layout.PlaneLength + 16, rowsLength = g.OutHeight * rowLength;
            // Two of each, used in turns: a channel's dy rows are copied while the channel before is gathered, and its
            // plane unpadded after the next channel's gather, so that no load meets the stores just before it (store
            // forwarding fails on loads that straddle them, and the load waits).
            var planes = scratch.Slice(0, 2 * planeLength);
            var rows = scratch.Slice(2 * planeLength, 2 * rowsLength);
            var lists = MemoryMarshal.Cast<float, int>(scratch.Slice(2 * (planeLength + rowsLength), (int)GatherListsLength(g)));
            int segments = g.InHeight * sw;
            var starts = lists.Slice(0, segments + 1);
            int entries = (lists.Length - segments - 1) / 2;
            var offsets = lists.Slice(segments + 1, entries);
            var tapIndices = lists.Slice(segments + 1 + entries, entries);
            int count = 0;
            for (int segment = 0; segment < segments; segment++)
            {
                starts[segment] = count;
                int r = g.PaddingHeight + segment / sw, phase = segment % sw;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    int reach = r - ky * g.DilationHeight;
                    if (reach < 0 || reach % sh != 0 || reach / sh >= g.OutHeight) continue;
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        int column = kx * g.DilationWidth;
                        if (column % sw != phase) continue;
                        offsets[count] = reach / sh * rowLength + left - column / sw;
                        tapIndices[count++] = ky * g.KernelWidth + kx;
                    }
                }
            }
            starts[segments] = count;
            rows.Clear();
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated && phaseLength > 8;
            ref float planesRef = ref MemoryMarshal.GetReference(planes);
            ref float rowsRef = ref MemoryMarshal.GetReference(rows);
            ref int offsetRef = ref MemoryMarshal.GetReference(offsets);
            ref int tapRef = ref MemoryMarshal.GetReference(tapIndices);
            ref float dyRef = ref MemoryMarshal.GetReference(outputGradient);
            CopyGatherRows(ref dyRef, g.OutHeight, outWidth, ref Unsafe.Add(ref rowsRef, left), rowLength);
            // Only the elements of each phase that Unpad reads (padded columns pw to pw + W − 1): phase φ holds column
            // j·sw + φ at element j.
            Span<int> phaseStart = stackalloc int[sw], phaseCount = stackalloc int[sw];
            for (int phase = 0; phase < sw; phase++)
            {
                int from = g.PaddingWidth >= phase ? (g.PaddingWidth - phase + sw - 1) / sw : 0;
                phaseStart[phase] = from;
                phaseCount[phase] = Math.Max(0, (g.PaddingWidth + g.InWidth - phase + sw - 1) / sw - from);
            }
            for (int c = 0; c < g.InChannels; c++)
            {
                if (c + 1 < g.InChannels)
                    CopyGatherRows(ref Unsafe.Add(ref dyRef, (nint)(c + 1) * outPlane), g.OutHeight, outWidth, ref Unsafe.Add(ref rowsRef, (c + 1) % 2 * rowsLength + left), rowLength);
                ref float channelRows = ref Unsafe.Add(ref rowsRef, c % 2 * rowsLength);
                ref float plane = ref Unsafe.Add(ref planesRef, c % 2 * planeLength);
                ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), c * taps);
                int segment = 0;
                for (int r = g.PaddingHeight; r < g.PaddingHeight + g.InHeight; r++)
                {
                    for (int phase = 0; phase < sw; phase++, segment++)
                    {
                        // Vectors from the phase's start past its end: the overrun lands on the next phase (or row), written after.
                        int from = phaseStart[phase];
                        ref float target = ref Unsafe.Add(ref plane, (nint)r * layout.RowStride + phase * phaseLength + from);
                        int first = starts[segment], listed = starts[segment + 1] - first;
                        ref float source = ref Unsafe.Add(ref channelRows, from);
                        if (wide) GatherPhase512(ref source, ref Unsafe.Add(ref offsetRef, first), ref Unsafe.Add(ref tapRef, first), listed, ref w, ref target, phaseCount[phase]);
                        else GatherPhase256(ref source, ref Unsafe.Add(ref offsetRef, first), ref Unsafe.Add(ref tapRef, first), listed, ref w, ref target, phaseCount[phase]);
                    }
                }
                if (c > 0) Unpad(planes.Slice((c - 1) % 2 * planeLength, planeLength), c - 1, g, layout, inputGradient);
            }
            Unpad(planes.Slice((g.InChannels - 1) % 2 * planeLength, planeLength), g.InChannels - 1, g, layout, inputGradient);
        }

        private static void CopyGatherRows(ref float dy, int height, int width, ref float rows, int rowLength)
        {
            for (int oy = 0; oy < height; oy++)
                VectorRows.CopyRow(ref Unsafe.Add(ref dy, oy * width), ref Unsafe.Add(ref rows, oy * rowLength), width);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void GatherPhase512(ref float rows, ref int offsets, ref int tapIndices, int count, ref float w, ref float target, int length)
        {
            for (int j = 0; j < length; j += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int i = 0; i < count; i++)
                    acc = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref w, Unsafe.Add(ref tapIndices, i))), Vector512.LoadUnsafe(ref rows, (nuint)(Unsafe.Add(ref offsets, i) + j)), acc);
                acc.StoreUnsafe(ref target, (nuint)j);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void GatherPhase256(ref float rows, ref int offsets, ref int tapIndices, int count, ref float w, ref float target, int length)
        {
            for (int j = 0; j < length; j += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int i = 0; i < count; i++)
                    acc = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w, Unsafe.Add(ref tapIndices, i))), Vector256.LoadUnsafe(ref rows, (nuint)(Unsafe.Add(ref offsets, i) + j)), acc);
                acc.StoreUnsafe(ref target, (nuint)j);
            }
        }

        // The input gradient of a stride-1 depthwise layer as the forward pass of its transposed geometry (see above).
        private static void InputGradientByCorrelation(in ConvolutionGeometry g, in ConvolutionGeometry transposed, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            int taps = g.KernelHeight * g.KernelWidth;
            int forwardScratch = ForwardScratchLength(transposed);
            var turned = scratch.Slice(forwardScratch, g.WeightLength);
            for (int c = 0; c < g.OutChannels; c++)
            {
                // Tap (ky, kx) of the turned kernel is tap (K−1−ky, K−1−kx) of the layer's: reversing the row-major taps.
                var from = weight.Slice(c * taps, taps);
                var to = turned.Slice(c * taps, taps);
                for (int t = 0; t < taps; t++) to[t] = from[taps - 1 - t];
            }
            Forward(transposed, outputGradient, turned, ReadOnlySpan<float>.Empty, inputGradient, scratch.Slice(0, forwardScratch), path);
        }

        // Adds each tap's Σ dy · input to the weight gradient, every channel and multiplier; the input plane padded as the
        // forward pads it.
        private static void WeightGradient(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            Span<int> offsets = stackalloc int[taps];
            TapOffsets(g, layout, offsets);
            Span<float> sums = stackalloc float[TapsPerSweep];
            // Each channel padded one channel ahead of its use, into the other of two planes (as the forward pass does it):
            // loads right after a copy's stores, at other alignments, would wait for those stores.
            int planeLength = layout.PlaneLength;
            var planes = scratch.Slice(0, 2 * planeLength);
            planes.Clear();
            Pad(x, 0, g, layout, planes.Slice(0, planeLength));
            // Rows of 16 or more on Vector512; narrower rows fill half a vector at most, so Vector256 does them in as many steps.
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated && outWidth >= 16;
            int rowStep = g.StrideHeight * layout.RowStride;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                if (ic + 1 < g.InChannels) Pad(x, ic + 1, g, layout, planes.Slice((ic + 1) % 2 * planeLength, planeLength));
                ref float planeRef = ref Unsafe.Add(ref MemoryMarshal.GetReference(planes), ic % 2 * planeLength);
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    var dy = outputGradient.Slice(oc * outPlane);
                    for (int first = 0; first < taps; first += TapsPerSweep)
                    {
                        int count = Math.Min(TapsPerSweep, taps - first);
                        var sweep = offsets.Slice(first, count);
                        if (wide) TapSums512(dy, ref planeRef, sweep, g.OutHeight, outWidth, rowStep, sums);
                        else TapSums256(dy, ref planeRef, sweep, g.OutHeight, outWidth, rowStep, sums);
                        for (int t = 0; t < count; t++) weightGradient[oc * taps + first + t] += sums[t];
                    }
                }
            }
        }

        // Σ over the output cells of dy times the input under each of up to nine taps (offsets into the padded plane; taps
        // past the count repeat the last and are not reported). A row's last columns fill a masked vector: dy and the input
        // both zeroed outside them, so a non-finite value there cannot reach the sums. Where a narrow row's vector would read
        // past the end of dy (the last rows of the last channel), the cells go one by one; its reads past the plane stay in
        // the scratch's slack (under 8 floats, rows under a vector wide).
        private static void TapSums512(ReadOnlySpan<float> dy, ref float plane, ReadOnlySpan<int> offsets, int outHeight, int outWidth, int rowStep, Span<float> sums)
        {
            int count = offsets.Length;
            nint o0 = offsets[0], o1 = offsets[Math.Min(1, count - 1)], o2 = offsets[Math.Min(2, count - 1)], o3 = offsets[Math.Min(3, count - 1)];
            nint o4 = offsets[Math.Min(4, count - 1)], o5 = offsets[Math.Min(5, count - 1)], o6 = offsets[Math.Min(6, count - 1)];
            nint o7 = offsets[Math.Min(7, count - 1)], o8 = offsets[Math.Min(8, count - 1)];
            var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0; var a8 = a0;
            Span<float> tail = stackalloc float[TapsPerSweep];
            tail.Clear();
            ref float dyRef = ref MemoryMarshal.GetReference(dy);
            int vectorEnd = outWidth & ~15, rest = outWidth - vectorEnd;
            // A row at least a vector wide ends with the vector that ends with it, its lanes already summed masked off (no
            // reads past the row); a narrower row's vector reaches past it, masked the same way.
            bool overlap = outWidth >= 16;
            int last = overlap ? outWidth - 16 : vectorEnd;
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var mask = (overlap ? Vector512.GreaterThanOrEqual(lanes, Vector512.Create(16 - rest)) : Vector512.LessThan(lanes, Vector512.Create(rest))).AsSingle();
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dyRef, oy * outWidth);
                ref float row = ref Unsafe.Add(ref plane, (nint)oy * rowStep);
                for (int ox = 0; ox < vectorEnd; ox += 16)
                {
                    var d = Vector512.LoadUnsafe(ref dyRow, (nuint)ox);
                    ref float at = ref Unsafe.Add(ref row, ox);
                    a0 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o0)), a0);
                    a1 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o1)), a1);
                    a2 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o2)), a2);
                    a3 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o3)), a3);
                    a4 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o4)), a4);
                    a5 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o5)), a5);
                    a6 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o6)), a6);
                    a7 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o7)), a7);
                    a8 = Fused.MultiplyAdd(d, Vector512.LoadUnsafe(ref Unsafe.Add(ref at, o8)), a8);
                }
                if (rest == 0) continue;
                if (overlap || oy * outWidth + vectorEnd + 16 <= dy.Length)
                {
                    var d = Vector512.ConditionalSelect(mask, Vector512.LoadUnsafe(ref dyRow, (nuint)last), Vector512<float>.Zero);
                    ref float at = ref Unsafe.Add(ref row, last);
                    a0 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o0)), a0);
                    a1 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o1)), a1);
                    a2 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o2)), a2);
                    a3 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o3)), a3);
                    a4 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o4)), a4);
                    a5 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o5)), a5);
                    a6 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o6)), a6);
                    a7 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o7)), a7);
                    a8 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o8)), a8);
                }
                else
                {
                    TapSumsScalar(ref dyRow, ref row, offsets, vectorEnd, outWidth, tail);
                }
            }
            StoreSums(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper(),
                a4.GetLower() + a4.GetUpper(), a5.GetLower() + a5.GetUpper(), a6.GetLower() + a6.GetUpper(), a7.GetLower() + a7.GetUpper(),
                a8.GetLower() + a8.GetUpper(), tail, sums);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Masked(Vector512<float> mask, ref float at) =>
            Vector512.ConditionalSelect(mask, Vector512.LoadUnsafe(ref at), Vector512<float>.Zero);

        // TapSums512 on Vector256: eight columns a step.
        private static void TapSums256(ReadOnlySpan<float> dy, ref float plane, ReadOnlySpan<int> offsets, int outHeight, int outWidth, int rowStep, Span<float> sums)
        {
            int count = offsets.Length;
            nint o0 = offsets[0], o1 = offsets[Math.Min(1, count - 1)], o2 = offsets[Math.Min(2, count - 1)], o3 = offsets[Math.Min(3, count - 1)];
            nint o4 = offsets[Math.Min(4, count - 1)], o5 = offsets[Math.Min(5, count - 1)], o6 = offsets[Math.Min(6, count - 1)];
            nint o7 = offsets[Math.Min(7, count - 1)], o8 = offsets[Math.Min(8, count - 1)];
            var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0; var a8 = a0;
            Span<float> tail = stackalloc float[TapsPerSweep];
            tail.Clear();
            ref float dyRef = ref MemoryMarshal.GetReference(dy);
            int vectorEnd = outWidth & ~7, rest = outWidth - vectorEnd;
            bool overlap = outWidth >= 8;
            int last = overlap ? outWidth - 8 : vectorEnd;
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var mask = (overlap ? Vector256.GreaterThanOrEqual(lanes, Vector256.Create(8 - rest)) : Vector256.LessThan(lanes, Vector256.Create(rest))).AsSingle();
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dyRef, oy * outWidth);
                ref float row = ref Unsafe.Add(ref plane, (nint)oy * rowStep);
                for (int ox = 0; ox < vectorEnd; ox += 8)
                {
                    var d = Vector256.LoadUnsafe(ref dyRow, (nuint)ox);
                    ref float at = ref Unsafe.Add(ref row, ox);
                    a0 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o0)), a0);
                    a1 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o1)), a1);
                    a2 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o2)), a2);
                    a3 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o3)), a3);
                    a4 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o4)), a4);
                    a5 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o5)), a5);
                    a6 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o6)), a6);
                    a7 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o7)), a7);
                    a8 = Fused.MultiplyAdd(d, Vector256.LoadUnsafe(ref Unsafe.Add(ref at, o8)), a8);
                }
                if (rest == 0) continue;
                if (overlap || oy * outWidth + vectorEnd + 8 <= dy.Length)
                {
                    var d = Vector256.ConditionalSelect(mask, Vector256.LoadUnsafe(ref dyRow, (nuint)last), Vector256<float>.Zero);
                    ref float at = ref Unsafe.Add(ref row, last);
                    a0 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o0)), a0);
                    a1 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o1)), a1);
                    a2 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o2)), a2);
                    a3 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o3)), a3);
                    a4 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o4)), a4);
                    a5 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o5)), a5);
                    a6 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o6)), a6);
                    a7 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o7)), a7);
                    a8 = Fused.MultiplyAdd(d, Masked(mask, ref Unsafe.Add(ref at, o8)), a8);
                }
                else
                {
                    TapSumsScalar(ref dyRow, ref row, offsets, vectorEnd, outWidth, tail);
                }
            }
            StoreSums(a0, a1, a2, a3, a4, a5, a6, a7, a8, tail, sums);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Masked(Vector256<float> mask, ref float at) =>
            Vector256.ConditionalSelect(mask, Vector256.LoadUnsafe(ref at), Vector256<float>.Zero);

        // Each accumulator's lanes summed, plus its tail, into sums (nine; the caller reads the taps it has). On AVX the first
        // eight in one tree of horizontal adds (8 sums for about a dozen instructions, where one Sum takes about eight).
        private static void StoreSums(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, Vector256<float> a4,
            Vector256<float> a5, Vector256<float> a6, Vector256<float> a7, Vector256<float> a8, ReadOnlySpan<float> tail, Span<float> sums)
        {
            if (Avx.IsSupported)
            {
                // hadd pairs neighbouring lanes within each 128-bit half: two rounds leave each accumulator's half sums, one
                // per half, and the halves' sum finishes them in tap order.
                var first = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                var second = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
                var total = Avx.Permute2x128(first, second, 0x20) + Avx.Permute2x128(first, second, 0x31);
                (total + Vector256.Create(tail.Slice(0, 8))).CopyTo(sums);
            }
            else
            {
                sums[0] = Vector256.Sum(a0) + tail[0]; sums[1] = Vector256.Sum(a1) + tail[1]; sums[2] = Vector256.Sum(a2) + tail[2];
                sums[3] = Vector256.Sum(a3) + tail[3]; sums[4] = Vector256.Sum(a4) + tail[4]; sums[5] = Vector256.Sum(a5) + tail[5];
                sums[6] = Vector256.Sum(a6) + tail[6]; sums[7] = Vector256.Sum(a7) + tail[7];
            }
            sums[8] = Vector256.Sum(a8) + tail[8];
        }

        // Columns from..end of one row, cell by cell, into each tap's running tail sum.
        private static void TapSumsScalar(ref float dyRow, ref float row, ReadOnlySpan<int> offsets, int from, int end, Span<float> tail)
        {
            for (int ox = from; ox < end; ox++)
            {
                float d = Unsafe.Add(ref dyRow, ox);
                for (int t = 0; t < offsets.Length; t++) tail[t] += d * Unsafe.Add(ref row, offsets[t] + ox);
            }
        }
    }
}
