using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise forward pass with the channels in the vector lanes: sixteen channels at a time are turned into a
    /// zero-padded block of cells, [padded row][padded column][16 channels], every output cell's sixteen channels are summed
    /// over the taps with one load and one fused multiply-add per tap, and the sums are turned back into their planes.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The row kernels vectorize along an output row, so a 7x7 or 14x14 map fills a vector of 16 with 7 or 14 cells, a
    /// stride-2 row needs its columns split into phases first, and each channel pays its own edges, masks and copies. With
    /// the channels in the lanes every lane is useful whatever the map's width or stride: output cell (oy, ox) of tap
    /// (ky, kx) reads padded cell (oy·sh + ky, ox·sw + kx), one load of the 16 channels there. The price is
    /// the two turns (16x16 transposes in registers, DirectConvolution.Transpose16) of the input and output planes: it pays
    /// for 3x3 at stride 2 onto small maps (<see cref="LanesPays"/>), where the other kernels split each row into phases.
    /// </para>
    /// <para>
    /// A tile is up to 8 cells of an output row (8 accumulators against the fused multiply-add's latency), one base address
    /// and constant offsets to its cells' padded cells (the stride a type parameter). Each output's
    /// sum runs from the bias over the taps in order (ky, then kx), the padding's zeros included, as the unpadded kernel's
    /// does: the two give the same bits. Channels past the last group of 16 run on the row kernels. AVX-512 only; no dilation, no
    /// channel multiplier.
    /// </para>
    /// </remarks>
    internal static partial class DepthwiseConvolution
    {
        private const int Lanes = 16;

        /// <summary>Whether <see cref="ForwardLanes"/> takes this geometry on this machine.</summary>
        internal static bool LanesApplies(in ConvolutionGeometry g) =>
            Avx512F.IsSupported && g.GroupOutChannels == 1 && g.InChannels >= Lanes && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.InHeight * g.InWidth >= Lanes && g.OutHeight * g.OutWidth >= Lanes && g.KernelHeight * g.KernelWidth <= 49;

        /// <summary>Whether the lanes kernel is on (KernelBench turns it off to compare).</summary>
        internal static bool LanesEnabled = true;

        /// <summary>
        /// Where the lanes kernel beats the kernels that ran before it (KernelBench depthwise-lanes, +ReLU6, thread CPU µs, best
        /// of 40 interleaved rounds, 2026-12-03; before / lanes): 3x3 at stride 2 onto maps at most 8 wide, 128x14x14 27.2 /
        /// 15.9, 576x14x14 112 / 71, 96x16x16 18.0 / 12.2, 144x16x16 25.1 / 16.2, 48x13x13 9.6 / 6.2, 256x8x8 18.8 / 15.7.
        /// Not onto wider maps (64x32x32 34.8 / 33.6, 40x20x20 10.4 / 11.5, 64x28x28 33.2 / 33.9, 32x56x56 49.4 / 60.5), not
        /// 5x5 at stride 2 then (240x16x16 38.2 / 38.2, 672x14x14 97 / 104; see session 28 below), and not 3x3 at stride 1, where the row, flat-plane and
        /// unpadded kernels read each input row for several outputs and the two turns cost more than they save (256x7x7 14.5 /
        /// 19.4, 128x14x14 29.3 / 37.7, 16x56x56 32.4 / 73.8; 160x10x10 22.3 / 19.4 and 96x12x12 19.4 / 17.1 within the noise).
        /// 5x5 and 7x7 at stride 1 onto rows of 7-15 cells but 8 do pay (session 25), and since session 28 onto rows of 4-6 and
        /// at stride 2 onto rows of up to 8 (<c>LargeKernelOnNarrowRows</c>).
        /// </summary>
        internal static bool LanesPays(in ConvolutionGeometry g) => LanesEnabled && LanesShape(g);

        // The geometries LanesPays takes when the kernel is on: the forward's scratch makes room for it there only.
        private static bool LanesShape(in ConvolutionGeometry g) =>
            LanesApplies(g) && (g.StrideHeight == 2 && g.StrideWidth == 2 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.OutWidth <= 8
                || LargeKernelOnNarrowRows(g));

        // 5x5 and 7x7 at stride 1 onto rows of 7 to 15 cells but 8, where 25-49 taps per output pay for the two turns and the
        // row kernels fill a vector of 16 with 7-15 cells (KernelBench depthwise-lanes, +ReLU6, thread CPU µs, best of
        // interleaved rounds, 2026-12-04, two runs; before / lanes, the same bits): 7x7 96x14x14 43.1 / 18.1-27.6, 384x14x14
        // 178 / 114, 96x15x15 50.6 / 31.6, 96x13x13 36.4 / 24.5, 96x12x12 30.2 / 21.5, 96x10x10 24.4 / 17.1, 192x7x7 21.8 /
        // 17.2, 96x7x7 11.6 / 8.9; 5x5 96x14x14 23.7 / 17.3, 480x14x14 122 / 88, 96x12x12 20.0 / 13.3, 96x10x10 14.8 / 10.9,
        // 96x7x7 6.1 / 5.4, 672x7x7 40.2 / 39.0. Not onto 8-wide rows (the whole-plane pairs: 7x7 96x8x8 8.3 / 10.1, 192x8x8
        // 17.3 / 21.3), 4-wide then (384x4x4 13.9 / 18.9), nor 16+ (the shared-row tiles: 48x16x16 10.0 / 16.7, 96x16x16 17.9 /
        // 20.5, 96x28x28 77 / 106, 5x5 96x28x28 42 / 64).
        // Session 28, the weights turned 16 taps at a time (they were moved one float at a time, 400 and 784 moves a group of
        // 16 channels: most of a 4x4 map's time), KernelBench depthwise-lanes, +ReLU6, thread CPU µs, before / lanes, load
        // 2-4: at stride 1 onto rows of 4-7 cells too, 5x5 480x4x4 15.7 / 12.8, 960x4x4 31.6 / 26.2, 240x5x5 8.5 / 7.3, 240x6x6
        // 10.3 / 9.6, 7x7 384x4x4 22.2 / 15.7, 96x5x5 6.5 / 4.4, 96x6x6 8.2 / 6.2 (8 wide still not: 5x5 240x8x8 12.9 / 14.5);
        // and at stride 2 onto rows of up to 8 cells, as 3x3, 5x5 240x16x16 28.0 / 21.0, 672x14x14 60.2 / 51.8, 240x10x10 14.0 /
        // 7.8, 240x8x8 9.2 / 6.7, 72x16x16 6.2 / 5.6, 7x7 96x16x16 16.0 / 12.1, 96x12x12 15.3 / 9.0 (onto 16 wide not: 5x5
        // 72x32x32 23.2 / 29.0, 96x32x32 26.0 / 33.0).
        private static bool LargeKernelOnNarrowRows(in ConvolutionGeometry g) =>
            g.KernelHeight == g.KernelWidth && (g.KernelWidth == 5 || g.KernelWidth == 7)
            && (g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutWidth >= 4 && g.OutWidth < 16 && g.OutWidth != 8
                || g.StrideHeight == 2 && g.StrideWidth == 2 && g.OutWidth <= 8);

        /// <summary>The padded block of cells, the output cells, the weights by tap and the bias, each 16 lanes wide (the forward's scratch holds it where <see cref="LanesPays"/> may take the layer).</summary>
        internal static long LanesScratchLength(in ConvolutionGeometry g) =>
            ((long)(g.InHeight + 2 * g.PaddingHeight) * (g.InWidth + 2 * g.PaddingWidth) + (long)g.OutHeight * g.OutWidth + g.KernelHeight * g.KernelWidth + 1) * Lanes;

        /// <summary>The forward pass by the lanes kernel (<see cref="LanesApplies"/> must hold).</summary>
        internal static void ForwardLanes(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, float low, float high)
        {
            if (!LanesApplies(g)) throw new InvalidOperationException("The lanes depthwise kernel does not take this geometry here.");
            if (x.Length < g.InLength || y.Length < g.OutLength || weight.Length < g.WeightLength || scratch.Length < LanesScratchLength(g) || !bias.IsEmpty && bias.Length < g.OutChannels)
                throw new ArgumentException("A span is shorter than the geometry needs.");
            int paddedHeight = g.InHeight + 2 * g.PaddingHeight, paddedWidth = g.InWidth + 2 * g.PaddingWidth;
            int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth, taps = g.KernelHeight * g.KernelWidth;
            var padded = scratch.Slice(0, paddedHeight * paddedWidth * Lanes);
            var cells = scratch.Slice(padded.Length, outPlane * Lanes);
            var tapWeights = scratch.Slice(padded.Length + cells.Length, taps * Lanes);
            var biases = scratch.Slice(padded.Length + cells.Length + tapWeights.Length, Lanes);
            padded.Clear(); // the border stays zero; each group writes the interior only
            var clamp = new OutputClamp(low, high);
            int whole = g.InChannels / Lanes * Lanes;
            for (int c0 = 0; c0 < whole; c0 += Lanes)
            {
                ref float from = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), c0 * taps);
                ref float to = ref MemoryMarshal.GetReference(tapWeights);
                if (taps >= Lanes)
                {
                    // [16 channels][taps] to [taps][16 channels] in turns of 16 taps, the last ending at the last tap (taps two
                    // turns cover written twice, the same floats): 5x5 and 7x7 in 2 and 4 turns rather than 400 and 784 moves.
                    for (int t0 = 0; ; t0 += Lanes)
                    {
                        int first = Math.Min(t0, taps - Lanes);
                        DirectConvolution.Transpose16(ref Unsafe.Add(ref from, first), taps, ref Unsafe.Add(ref to, first * Lanes));
                        if (first == taps - Lanes) break;
                    }
                }
                else
                {
                    for (int lane = 0; lane < Lanes; lane++)
                    {
                        for (int t = 0; t < taps; t++) Unsafe.Add(ref to, t * Lanes + lane) = Unsafe.Add(ref from, lane * taps + t);
                    }
                }
                if (bias.IsEmpty) biases.Clear();
                else bias.Slice(c0, Lanes).CopyTo(biases);
                TurnIntoCells(x.Slice(c0 * inPlane, Lanes * inPlane), g, paddedWidth, padded);
                SumTaps(g, paddedWidth, padded, tapWeights, biases, cells, clamp);
                TurnIntoPlanes(cells, outPlane, y.Slice(c0 * outPlane, Lanes * outPlane));
            }
            if (whole == g.InChannels) return;
            // The channels past the last group of 16 on the row kernels (channels are independent).
            int rest = g.InChannels - whole;
            var restGeometry = new ConvolutionGeometry(rest, g.InHeight, g.InWidth, rest, g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth,
                g.PaddingHeight, g.PaddingWidth, 1, 1, rest);
            Forward(restGeometry, x.Slice(whole * inPlane, rest * inPlane), weight.Slice(whole * taps, rest * taps), bias.IsEmpty ? default : bias.Slice(whole, rest),
                y.Slice(whole * outPlane, rest * outPlane), scratch, DirectConvolution.KernelPath.Vector512, low, high);
        }

        // Sixteen channel planes into the interior of the padded block: 16 cells of the flat plane at a time, turned in registers,
        // straight into place where they lie in one input row, else one cell at a time from a turned block (the last 16 cells
        // overlap the ones before: written twice, the same floats).
        private static void TurnIntoCells(ReadOnlySpan<float> x, in ConvolutionGeometry g, int paddedWidth, Span<float> padded)
        {
            int width = g.InWidth, plane = g.InHeight * width, ph = g.PaddingHeight, pw = g.PaddingWidth;
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float target = ref MemoryMarshal.GetReference(padded);
            Span<float> turned = stackalloc float[Lanes * Lanes];
            ref float block = ref MemoryMarshal.GetReference(turned);
            for (int cell = 0; cell < plane; cell += Lanes)
            {
                int first = Math.Min(cell, plane - Lanes);
                int iy = first / width, ix = first - iy * width;
                ref float at = ref Unsafe.Add(ref target, ((iy + ph) * paddedWidth + ix + pw) * Lanes);
                if (ix + Lanes <= width)
                {
                    DirectConvolution.Transpose16(ref Unsafe.Add(ref source, first), plane, ref at);
                    continue;
                }
                DirectConvolution.Transpose16(ref Unsafe.Add(ref source, first), plane, ref block);
                for (int j = 0; j < Lanes; j++)
                {
                    Vector512.LoadUnsafe(ref block, (nuint)(j * Lanes)).StoreUnsafe(ref Unsafe.Add(ref target, ((iy + ph) * paddedWidth + ix + pw) * Lanes));
                    if (++ix == width) { ix = 0; iy++; }
                }
            }
        }

        // Every output cell's 16 channels: each output row in tiles of up to 8 cells (8, then what is left of the row), one
        // base address per tile and constant offsets to its cells (the stride a type, so the offsets are displacements).
        private static void SumTaps(in ConvolutionGeometry g, int paddedWidth, Span<float> padded, Span<float> tapWeights, Span<float> biases, Span<float> cells, OutputClamp clamp)
        {
            int outWidth = g.OutWidth, outHeight = g.OutHeight, sh = g.StrideHeight, sw = g.StrideWidth;
            var tile = new TapTile(ref MemoryMarshal.GetReference(padded), ref MemoryMarshal.GetReference(tapWeights), paddedWidth, g.KernelHeight, g.KernelWidth,
                Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(biases)), clamp);
            ref float o = ref MemoryMarshal.GetReference(cells);
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox += 8)
                {
                    int count = Math.Min(8, outWidth - ox);
                    nint from = ((nint)oy * sh * paddedWidth + (nint)ox * sw) * Lanes;
                    ref float to = ref Unsafe.Add(ref o, (oy * outWidth + ox) * Lanes);
                    if (sw == 1) RowTile<C1>(tile, count, from, ref to);
                    else if (sw == 2) RowTile<C2>(tile, count, from, ref to);
                    else
                    {
                        for (int j = 0; j < count; j++) tile.Run<C1, C1>(from + (nint)j * sw * Lanes, ref Unsafe.Add(ref to, j * Lanes));
                    }
                }
            }
        }

        // A tile of `count` (1-8) cells of a row, TStride padded cells apart.
        private static void RowTile<TStride>(TapTile tile, int count, nint from, ref float to) where TStride : struct, IConstant
        {
            switch (count)
            {
                case 8: tile.Run<C8, TStride>(from, ref to); break;
                case 7: tile.Run<C7, TStride>(from, ref to); break;
                case 6: tile.Run<C6, TStride>(from, ref to); break;
                case 5: tile.Run<C5, TStride>(from, ref to); break;
                case 4: tile.Run<C4, TStride>(from, ref to); break;
                case 3: tile.Run<C3, TStride>(from, ref to); break;
                case 2: tile.Run<C2, TStride>(from, ref to); break;
                default: tile.Run<C1, TStride>(from, ref to); break;
            }
        }

        private readonly ref struct TapTile
        {
            private readonly ref float _padded;
            private readonly ref float _weights;
            private readonly int _paddedWidth, _kernelHeight, _kernelWidth;
            private readonly Vector512<float> _bias, _low, _high;
            private readonly bool _none;

            public TapTile(ref float padded, ref float weights, int paddedWidth, int kernelHeight, int kernelWidth, Vector512<float> bias, OutputClamp clamp)
            {
                _padded = ref padded;
                _weights = ref weights;
                _paddedWidth = paddedWidth;
                _kernelHeight = kernelHeight;
                _kernelWidth = kernelWidth;
                _bias = bias;
                _none = clamp.IsNone;
                _low = Vector512.Create(clamp.Low);
                _high = Vector512.Create(clamp.High);
            }

            // TCells cells TStride padded cells apart, from padded float `from`; each a sum from the bias over the taps in order.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Run<TCells, TStride>(nint from, ref float to) where TCells : struct, IConstant where TStride : struct, IConstant
            {
                int n = TCells.Value;
                nint step = TStride.Value * Lanes;
                Vector512<float> s0 = _bias, s1 = _bias, s2 = _bias, s3 = _bias, s4 = _bias, s5 = _bias, s6 = _bias, s7 = _bias;
                ref float w = ref _weights;
                ref float row = ref Unsafe.Add(ref _padded, from);
                nint rowStep = (nint)_paddedWidth * Lanes;
                for (int ky = 0; ky < _kernelHeight; ky++, row = ref Unsafe.Add(ref row, rowStep))
                {
                    ref float tap = ref row;
                    for (int kx = 0; kx < _kernelWidth; kx++, tap = ref Unsafe.Add(ref tap, Lanes), w = ref Unsafe.Add(ref w, Lanes))
                    {
                        var wt = Vector512.LoadUnsafe(ref w);
                        s0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref tap), wt, s0);
                        if (n > 1) s1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, step)), wt, s1);
                        if (n > 2) s2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 2 * step)), wt, s2);
                        if (n > 3) s3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 3 * step)), wt, s3);
                        if (n > 4) s4 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 4 * step)), wt, s4);
                        if (n > 5) s5 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 5 * step)), wt, s5);
                        if (n > 6) s6 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 6 * step)), wt, s6);
                        if (n > 7) s7 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref tap, 7 * step)), wt, s7);
                    }
                }
                OutputClamp.Store(s0, _none, _low, _high, ref to);
                if (n > 1) OutputClamp.Store(s1, _none, _low, _high, ref Unsafe.Add(ref to, 1 * Lanes));
                if (n > 2) OutputClamp.Store(s2, _none, _low, _high, ref Unsafe.Add(ref to, 2 * Lanes));
                if (n > 3) OutputClamp.Store(s3, _none, _low, _high, ref Unsafe.Add(ref to, 3 * Lanes));
                if (n > 4) OutputClamp.Store(s4, _none, _low, _high, ref Unsafe.Add(ref to, 4 * Lanes));
                if (n > 5) OutputClamp.Store(s5, _none, _low, _high, ref Unsafe.Add(ref to, 5 * Lanes));
                if (n > 6) OutputClamp.Store(s6, _none, _low, _high, ref Unsafe.Add(ref to, 6 * Lanes));
                if (n > 7) OutputClamp.Store(s7, _none, _low, _high, ref Unsafe.Add(ref to, 7 * Lanes));
            }
        }

        // The output cells back into their 16 planes, 16 cells at a time (the last 16 overlapping the ones before).
        private static void TurnIntoPlanes(Span<float> cells, int outPlane, Span<float> y)
        {
            ref float source = ref MemoryMarshal.GetReference(cells);
            ref float target = ref MemoryMarshal.GetReference(y);
            for (int cell = 0; cell < outPlane; cell += Lanes)
            {
                int first = Math.Min(cell, outPlane - Lanes);
                DirectConvolution.Transpose16(ref Unsafe.Add(ref source, first * Lanes), Lanes, ref Unsafe.Add(ref target, first), outPlane);
            }
        }
    }
}
