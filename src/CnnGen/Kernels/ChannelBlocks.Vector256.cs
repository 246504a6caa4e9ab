using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    // The channel-blocked kernels on machines without Vector512 in hardware (AVX2 and FMA): a block's 16 channels as two
    // Vector256 halves, summed in the same order as the Vector512 tiles, lane for lane, so a chain's floats do not depend on
    // the machine. The generator links such chains without knowing the machine it runs on; before these tiles the chains ran
    // their scalar loops there (MobileNetV2-style at batch 1: 2,309 µs against ONNX Runtime's 142 on a Zen 3). CI runs the
    // whole suite with AVX-512 off too, so these tiles are tested on machines that have it.
    public static partial class ChannelBlocks
    {
        private static bool Vectorized256 =>
            VectorTiles && Simd.Enabled && Vector256.IsHardwareAccelerated && Fma.IsSupported && !Vector512.IsHardwareAccelerated;

        private readonly ref partial struct PointwiseTile
        {
            // n (1-8) cells x nb blocks (the last a half block when halfLast), block by block: up to 6 cells a tile, two
            // vectors each (12 accumulators, 2 weight loads and a broadcast per cell for each input channel), 7 and 8 cells
            // as two tiles of 4 and 3 or 4.
            private void Run256(int n, int nb, Output output, bool halfLast)
            {
                int first = n <= 6 ? n : (n + 1) / 2;
                for (int b = 0; b < nb; b++)
                {
                    bool half = halfLast && b == nb - 1;
                    Cells256(first, 0, b, half, output);
                    if (first < n) Cells256(n - first, first, b, half, output);
                }
            }

            private void Cells256(int n, int j0, int b, bool half, Output output)
            {
                if (half)
                    switch (n)
                    {
                        case 6: Tile256<C6, C1>(j0, b, output); break;
                        case 5: Tile256<C5, C1>(j0, b, output); break;
                        case 4: Tile256<C4, C1>(j0, b, output); break;
                        case 3: Tile256<C3, C1>(j0, b, output); break;
                        case 2: Tile256<C2, C1>(j0, b, output); break;
                        default: Tile256<C1, C1>(j0, b, output); break;
                    }
                else
                    switch (n)
                    {
                        case 6: Tile256<C6, C2>(j0, b, output); break;
                        case 5: Tile256<C5, C2>(j0, b, output); break;
                        case 4: Tile256<C4, C2>(j0, b, output); break;
                        case 3: Tile256<C3, C2>(j0, b, output); break;
                        case 2: Tile256<C2, C2>(j0, b, output); break;
                        default: Tile256<C1, C2>(j0, b, output); break;
                    }
            }

            // TCells cells from cell j0 x block b's THalves halves (1: a half block of at most 8 channels, its upper lanes
            // written 0; 2: a whole block); unused accumulators vanish at JIT time.
            private void Tile256<TCells, THalves>(int j0, int b, Output output) where TCells : struct, IConstant where THalves : struct, IConstant
            {
                int n = TCells.Value;
                bool whole = THalves.Value == 2;
                ref float y = ref Unsafe.Add(ref output.Block(b), j0 * 16);
                Vector256<float> l0, l1, l2, l3, l4, l5, h0, h1, h2, h3, h4, h5;
                if (_fromBias)
                {
                    ref float bias = ref Unsafe.Add(ref _bias, b * 16);
                    var bl = Vector256.LoadUnsafe(ref bias);
                    var bh = whole ? Vector256.LoadUnsafe(ref bias, 8) : default;
                    l0 = bl; l1 = bl; l2 = bl; l3 = bl; l4 = bl; l5 = bl;
                    h0 = bh; h1 = bh; h2 = bh; h3 = bh; h4 = bh; h5 = bh;
                }
                else
                {
                    // The sums the runs before left in y.
                    l0 = Vector256.LoadUnsafe(ref y); h0 = whole ? Vector256.LoadUnsafe(ref y, 8) : default;
                    l1 = n > 1 ? Vector256.LoadUnsafe(ref y, 16) : default; h1 = n > 1 && whole ? Vector256.LoadUnsafe(ref y, 24) : default;
                    l2 = n > 2 ? Vector256.LoadUnsafe(ref y, 32) : default; h2 = n > 2 && whole ? Vector256.LoadUnsafe(ref y, 40) : default;
                    l3 = n > 3 ? Vector256.LoadUnsafe(ref y, 48) : default; h3 = n > 3 && whole ? Vector256.LoadUnsafe(ref y, 56) : default;
                    l4 = n > 4 ? Vector256.LoadUnsafe(ref y, 64) : default; h4 = n > 4 && whole ? Vector256.LoadUnsafe(ref y, 72) : default;
                    l5 = n > 5 ? Vector256.LoadUnsafe(ref y, 80) : default; h5 = n > 5 && whole ? Vector256.LoadUnsafe(ref y, 88) : default;
                }
                nuint cell = (nuint)_input.Cell, lane = (nuint)_input.Lane;
                ref float x = ref Unsafe.Add(ref _x, j0 * _input.Cell);
                ref float w = ref Unsafe.Add(ref _w, b * _blockWeights);
                bool prefetch = _prefetch;
                for (int c0 = 0; c0 < _inChannels; c0 += 16)
                {
                    ref float xc = ref Unsafe.Add(ref x, (c0 >> 4) * _input.Block);
                    ref float wc = ref Unsafe.Add(ref w, c0 * 16);
                    int count = Math.Min(16, _inChannels - c0);
                    for (int l = 0; l < count; l++)
                    {
                        var wl = Vector256.LoadUnsafe(ref wc);
                        var wh = whole ? Vector256.LoadUnsafe(ref wc, 8) : default;
                        { var v = Vector256.Create(xc); l0 = Fused.MultiplyAdd(v, wl, l0); if (whole) h0 = Fused.MultiplyAdd(v, wh, h0); }
                        if (n > 1) { var v = Vector256.Create(Unsafe.Add(ref xc, cell)); l1 = Fused.MultiplyAdd(v, wl, l1); if (whole) h1 = Fused.MultiplyAdd(v, wh, h1); }
                        if (n > 2) { var v = Vector256.Create(Unsafe.Add(ref xc, 2 * cell)); l2 = Fused.MultiplyAdd(v, wl, l2); if (whole) h2 = Fused.MultiplyAdd(v, wh, h2); }
                        if (n > 3) { var v = Vector256.Create(Unsafe.Add(ref xc, 3 * cell)); l3 = Fused.MultiplyAdd(v, wl, l3); if (whole) h3 = Fused.MultiplyAdd(v, wh, h3); }
                        if (n > 4) { var v = Vector256.Create(Unsafe.Add(ref xc, 4 * cell)); l4 = Fused.MultiplyAdd(v, wl, l4); if (whole) h4 = Fused.MultiplyAdd(v, wh, h4); }
                        if (n > 5) { var v = Vector256.Create(Unsafe.Add(ref xc, 5 * cell)); l5 = Fused.MultiplyAdd(v, wl, l5); if (whole) h5 = Fused.MultiplyAdd(v, wh, h5); }
                        if (prefetch) Prefetch.Line(ref xc, 32);
                        xc = ref Unsafe.Add(ref xc, lane);
                        wc = ref Unsafe.Add(ref wc, 16);
                    }
                }
                // As the Vector512 tiles: max and min unconditionally, ±∞ where there are no bounds or sums stay for a later run.
                bool none = _clamp.IsNone || !_lastRun;
                var low = Vector256.Create(none ? float.NegativeInfinity : _clamp.Low);
                var high = Vector256.Create(none ? float.PositiveInfinity : _clamp.High);
                var zero = Vector256<float>.Zero;
                OutputClamp.Apply(l0, low, high).StoreUnsafe(ref y); (whole ? OutputClamp.Apply(h0, low, high) : zero).StoreUnsafe(ref y, 8);
                if (n > 1) { OutputClamp.Apply(l1, low, high).StoreUnsafe(ref y, 16); (whole ? OutputClamp.Apply(h1, low, high) : zero).StoreUnsafe(ref y, 24); }
                if (n > 2) { OutputClamp.Apply(l2, low, high).StoreUnsafe(ref y, 32); (whole ? OutputClamp.Apply(h2, low, high) : zero).StoreUnsafe(ref y, 40); }
                if (n > 3) { OutputClamp.Apply(l3, low, high).StoreUnsafe(ref y, 48); (whole ? OutputClamp.Apply(h3, low, high) : zero).StoreUnsafe(ref y, 56); }
                if (n > 4) { OutputClamp.Apply(l4, low, high).StoreUnsafe(ref y, 64); (whole ? OutputClamp.Apply(h4, low, high) : zero).StoreUnsafe(ref y, 72); }
                if (n > 5) { OutputClamp.Apply(l5, low, high).StoreUnsafe(ref y, 80); (whole ? OutputClamp.Apply(h5, low, high) : zero).StoreUnsafe(ref y, 88); }
            }
        }

        /// <summary>
        /// <paramref name="count"/> cells of [cell][16 channels] (16 floats apart) to the rows of <paramref name="channels"/>
        /// (at most 16) planes <paramref name="planeStride"/> floats apart, on Vector256: each whole half of the block 8 cells
        /// at a time through an 8 x 8 register transpose, the rest one value at a time. The blocked chains' NCHW output and the
        /// Vector256 stride-2 kernels' results and input gradients go out through it.
        /// </summary>
        internal static void LanesToPlanes256(ref float source, int count, int channels, ref float target, int planeStride)
        {
            int halves = channels / 8, cell = 0;
            for (; cell + 8 <= count; cell += 8)
                for (int h = 0; h < halves; h++)
                    Gemm.Transpose8x8(ref Unsafe.Add(ref source, cell * 16 + h * 8), 16, ref Unsafe.Add(ref target, h * 8 * planeStride + cell), planeStride);
            for (int l = halves * 8; l < channels; l++)
                for (int c = 0; c < cell; c++) Unsafe.Add(ref target, l * planeStride + c) = Unsafe.Add(ref source, c * 16 + l);
            for (; cell < count; cell++)
                for (int l = 0; l < channels; l++) Unsafe.Add(ref target, l * planeStride + cell) = Unsafe.Add(ref source, cell * 16 + l);
        }

        // n (1-8) output cells of one half of a block (8 channels; the references point at that half's lanes): the depthwise
        // sums over the k x k taps, row by row, from the bias, as DepthwiseTile's lanes.
        private static void DepthwiseCells256<TKernel>(int n, ref float inputRow, int rowStride, int step, int tapStep, ref float taps, ref float bias, OutputClamp clamp, ref float y)
            where TKernel : struct, IConstant
        {
            switch (n)
            {
                case 8: DepthwiseTile256<C8, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 7: DepthwiseTile256<C7, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 6: DepthwiseTile256<C6, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 5: DepthwiseTile256<C5, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 4: DepthwiseTile256<C4, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 3: DepthwiseTile256<C3, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                case 2: DepthwiseTile256<C2, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
                default: DepthwiseTile256<C1, TKernel>(ref inputRow, rowStride, step, tapStep, ref taps, ref bias, clamp, ref y); break;
            }
        }

        private static void DepthwiseTile256<TCells, TKernel>(ref float inputRow, int rowStride, int step, int tapStep, ref float taps, ref float bias, OutputClamp clamp, ref float y)
            where TCells : struct, IConstant where TKernel : struct, IConstant
        {
            int n = TCells.Value, kernel = TKernel.Value;
            var b = Vector256.LoadUnsafe(ref bias);
            Vector256<float> a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
            nuint s = (nuint)step;
            for (int ky = 0; ky < kernel; ky++)
            {
                ref float row = ref Unsafe.Add(ref inputRow, ky * rowStride);
                for (int kx = 0; kx < kernel; kx++)
                {
                    var k = Vector256.LoadUnsafe(ref taps, (nuint)((ky * kernel + kx) * 16));
                    ref float r = ref Unsafe.Add(ref row, kx * tapStep);
                    a0 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r), k, a0);
                    if (n > 1) a1 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, s), k, a1);
                    if (n > 2) a2 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 2 * s), k, a2);
                    if (n > 3) a3 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 3 * s), k, a3);
                    if (n > 4) a4 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 4 * s), k, a4);
                    if (n > 5) a5 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 5 * s), k, a5);
                    if (n > 6) a6 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 6 * s), k, a6);
                    if (n > 7) a7 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref r, 7 * s), k, a7);
                }
            }
            bool none = clamp.IsNone;
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            OutputClamp.Store(a0, none, low, high, ref y);
            if (n > 1) OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref y, 16));
            if (n > 2) OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref y, 32));
            if (n > 3) OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref y, 48));
            if (n > 4) OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref y, 64));
            if (n > 5) OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref y, 80));
            if (n > 6) OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref y, 96));
            if (n > 7) OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref y, 112));
        }
    }
}
