using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The weight gradient by F(4x4, 3x3): the forward F(4x4)'s matrices (WinogradF4Convolution: points 0, ±1, ±2, ∞, Lavin's
    /// scaling of G) differentiated as F(2x2)'s are. d g = Gᵀ [Σ over tiles of (A dy Aᵀ) ⊙ (Bᵀ d B)] G with 4x4 tiles of d y
    /// and the 6x6 windows under them: 36 multiplications per 4x4 outputs, input channel and output channel, where F(2x2)
    /// takes 4 x 16 = 64. The products, chunks and register tiles are F(2x2)'s, over 36 positions instead of 16; a map of fewer
    /// than 16 tiles keeps a group of samples' transforms and runs the GEMMs once a group (Layout.GroupSamples), so that the
    /// 36 positions' sums are not loaded and stored for every few tiles.
    /// </summary>
    /// <remarks>
    /// Precision: A multiplies by up to 8 and B by up to 5 where F(2x2)'s multiply by 1, and G divides by 6 and 24, so the
    /// sums are about ten times less exact, as the forward F(4x4)'s are: within ~1e-5 of the sum of the terms' magnitudes
    /// (WinogradWeightGradientTests), against ~1e-6 for F(2x2).
    /// </remarks>
    internal static partial class WinogradWeightGradient
    {
        /// <summary>
        /// The tile a weight gradient by Winograd runs on: 4 (F(4x4, 3x3)) up to 128 x 256 channels where its 4x4 tiles cover
        /// each side of the output with at most 15% more cells than F(2x2)'s 2x2 tiles (sides of 5, 6, 9 and 10 cells take
        /// 20-33% more, and there the two measured even) or the side is 2 cells; 2 (F(2x2, 3x3)) elsewhere. Maps of fewer than 16
        /// tiles sum a group of samples' transforms at once (<see cref="Layout.GroupSamples"/>); without the groups, outputs under
        /// 12x12 measured 0.54-1.03x. At 256 x 256 channels the sums (36 x 256 x 256 floats, 9.4 MB) leave L2 and the tiles tie.
        /// KernelBench <c>wgrad-tiles</c> (summed over 16 samples, thread CPU, best of 40 interleaved rounds, load 1.6; F(2x2) /
        /// F(4x4), above 1 F(4x4) pays; an earlier run at load 2 on 12x12 and larger read 1.11-1.79x where this one reads
        /// 1.26-1.83x):
        /// <code>
        /// taken  @64x64: 16->16 1.65  32->32 1.56   @56x56: 32->32 1.56   @32x32: 16->16 1.63  16->32 1.83  32->32 1.68  64->64 1.42
        ///        @28x28: 16->16 1.62  48->48 1.51   @20x20: 20->20 1.50   @18x18 p0: 32->32 1.82   @17x17: 17->17 1.50
        ///        @16x16: 16->16 1.53  32->32 1.69  32->64 1.53  64->64 1.33  128->128 1.33   @15x15: 24->40 1.77   @14x14: 64->64 1.15
        ///        @13x13: 32->32 1.05   @12x12: 16->16 1.26  64->64 1.44   @10x10 p0: 64->64 1.52   @8x8: 16->16 1.41  32->32 1.60
        ///        64->64 1.50  96->96 1.44  128->128 1.40  128->256 1.21  256->128 1.27   @7x7: 16->16 1.43  64->64 1.63  128->128 1.55
        ///        @4x4: 16->16 1.59  32->32 1.80  64->64 1.73  128->128 1.70  128->256 1.68   @3x3: 64->64 1.76   @2x2: 64->64 1.43
        ///        128->128 1.48
        /// not    @16x16: 256->256 0.99   @8x8: 256->256 0.89   @4x4: 256->256 1.07   @10x10: 64->64 1.06   @9x9: 64->64 1.04
        ///        20->36 1.08   @6x6: 16->16 0.98  64->64 0.98  128->128 1.01   @5x5: 64->64 1.01  24->40 1.09   1x1 p0: 16->16 1.16
        /// </code>
        /// </summary>
        public static int TileFor(int inChannels, int height, int width, int outChannels, int padding)
        {
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            return (long)inChannels * outChannels <= 128 * 256 && FewCellsWasted(outHeight) && FewCellsWasted(outWidth) ? 4 : 2;
        }

        // Whether F(4x4)'s whole tiles cover a side of the output with at most 15% more cells than F(2x2)'s do (5, 6, 9 and 10
        // cells: 20-33% more, where the two measured even), or the side is 2 cells (one tile either way, F(4x4)'s sample groups
        // the gain).
        private static bool FewCellsWasted(int cells) => cells == 2 || cells >= 3 && 20 * 4 * ((cells + 3) / 4) <= 23 * 2 * ((cells + 1) / 2);

        // V[position][tile][ic] = (Bᵀ d B) of each tile's 6x6 window (stride 4), position a·6 + b: the forward F(4x4)'s window
        // transform (WinogradF4Convolution.TransformWindow).
        private static void TransformInput4(ReadOnlySpan<float> input, Span<float> transformed, int start, int count, in Layout l)
        {
            if (!Vector512Here)
            {
                TransformInput4x256(input, transformed, start, count, l);
                return;
            }
            ref float x0 = ref MemoryMarshal.GetReference(input);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            int columns = l.PaddedColumns, blockStride = l.PaddedRows * l.PaddedColumns * V;
            nuint positionStride = (nuint)l.InputPositionStride, cellStride = V, rowStride = (nuint)(columns * V);
            for (int block = 0; block < l.InLanes / V; block++)
            {
                ref float xb = ref Unsafe.Add(ref x0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float d = ref Unsafe.Add(ref xb, (4 * ty * columns + 4 * tx) * V);
                    ref float target = ref Unsafe.Add(ref v0, tile * l.InLanes + block * V);
                    WinogradF4Convolution.TransformWindow(ref d, cellStride, rowStride, ref target, positionStride);
                }
            }
        }

        // DY[position][tile][oc] = (A dy Aᵀ) of each 4x4 tile of d y, A = the forward's Aᵀ transposed (6x4; the rows
        // [1 0 0 0], [1 1 1 1], [1 −1 1 −1], [1 2 4 8], [1 −2 4 −8], [0 0 0 1]): rows of d y to six values each, then each of
        // the six columns to six positions. d y blocked: rows of `columns` cells, blocks `blockStride` floats apart.
        private static void TransformGradient4(ReadOnlySpan<float> gradient, int columns, int blockStride, Span<float> transformed, int start, int count, in Layout l)
        {
            if (!Vector512Here)
            {
                TransformGradient4x256(gradient, columns, blockStride, transformed, start, count, l);
                return;
            }
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float t0 = ref MemoryMarshal.GetReference(transformed);
            nuint positionStride = (nuint)l.GradientPositionStride, row = (nuint)(columns * V), down = 6 * positionStride;
            for (int block = 0; block < l.OutLanes / V; block++)
            {
                ref float gb = ref Unsafe.Add(ref g0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float e = ref Unsafe.Add(ref gb, (4 * ty * columns + 4 * tx) * V);
                    var (r00, r01, r02, r03, r04, r05) = ApplyA(ref e, V);
                    var (r10, r11, r12, r13, r14, r15) = ApplyA(ref Unsafe.Add(ref e, row), V);
                    var (r20, r21, r22, r23, r24, r25) = ApplyA(ref Unsafe.Add(ref e, 2 * row), V);
                    var (r30, r31, r32, r33, r34, r35) = ApplyA(ref Unsafe.Add(ref e, 3 * row), V);
                    ref float target = ref Unsafe.Add(ref t0, tile * l.OutLanes + block * V);
                    StoreA(r00, r10, r20, r30, ref target, down);
                    StoreA(r01, r11, r21, r31, ref Unsafe.Add(ref target, positionStride), down);
                    StoreA(r02, r12, r22, r32, ref Unsafe.Add(ref target, 2 * positionStride), down);
                    StoreA(r03, r13, r23, r33, ref Unsafe.Add(ref target, 3 * positionStride), down);
                    StoreA(r04, r14, r24, r34, ref Unsafe.Add(ref target, 4 * positionStride), down);
                    StoreA(r05, r15, r25, r35, ref Unsafe.Add(ref target, 5 * positionStride), down);
                }
            }
        }

        // A times (e0..e3) of a source, `stride` floats apart: e0, e0 + e1 + e2 + e3, e0 − e1 + e2 − e3, e0 + 2e1 + 4e2 + 8e3,
        // e0 − 2e1 + 4e2 − 8e3, e3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyA(ref float source, nuint stride)
        {
            var e0 = Vector512.LoadUnsafe(ref source); var e1 = Vector512.LoadUnsafe(ref source, stride);
            var e2 = Vector512.LoadUnsafe(ref source, 2 * stride); var e3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var (s1, s2, s3, s4) = ApplyAMiddle(e0, e1, e2, e3);
            return (e0, s1, s2, s3, s4, e3);
        }

        // A's four middle rows times (e0..e3).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyAMiddle(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3)
        {
            var four = Vector512.Create(4f);
            var even = e0 + e2; var odd = e1 + e3;
            var evenScaled = Fused.MultiplyAdd(e2, four, e0); var oddScaled = Fused.MultiplyAdd(e3, four, e1) * Vector512.Create(2f);
            return (even + odd, even - odd, evenScaled + oddScaled, evenScaled - oddScaled);
        }

        // A times (e0..e3), the six values stored targetStride floats apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreA(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, ref float target, nuint targetStride)
        {
            var (s1, s2, s3, s4) = ApplyAMiddle(e0, e1, e2, e3);
            e0.StoreUnsafe(ref target);
            s1.StoreUnsafe(ref target, targetStride);
            s2.StoreUnsafe(ref target, 2 * targetStride);
            s3.StoreUnsafe(ref target, 3 * targetStride);
            s4.StoreUnsafe(ref target, 4 * targetStride);
            e3.StoreUnsafe(ref target, 5 * targetStride);
        }

        // The nine taps [tap][16 lanes] of Gᵀ M G from the 36 positions of M (positionStride floats apart), G the forward
        // F(4x4)'s: [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]. Gᵀ down each column first
        // (three rows of six), then along each of those rows.
        private static void TapsOf4(ref float m, nuint positionStride, ref float taps)
        {
            Span<Vector512<float>> rows = stackalloc Vector512<float>[18];
            for (int b = 0; b < 6; b++)
            {
                var (g0, g1, g2) = ApplyGTransposed(Vector512.LoadUnsafe(ref m, (nuint)b * positionStride), Vector512.LoadUnsafe(ref m, (nuint)(6 + b) * positionStride),
                    Vector512.LoadUnsafe(ref m, (nuint)(12 + b) * positionStride), Vector512.LoadUnsafe(ref m, (nuint)(18 + b) * positionStride),
                    Vector512.LoadUnsafe(ref m, (nuint)(24 + b) * positionStride), Vector512.LoadUnsafe(ref m, (nuint)(30 + b) * positionStride));
                rows[b] = g0; rows[6 + b] = g1; rows[12 + b] = g2;
            }
            for (int k = 0; k < 3; k++)
            {
                var (g0, g1, g2) = ApplyGTransposed(rows[6 * k], rows[6 * k + 1], rows[6 * k + 2], rows[6 * k + 3], rows[6 * k + 4], rows[6 * k + 5]);
                g0.StoreUnsafe(ref taps, (nuint)(3 * k * V));
                g1.StoreUnsafe(ref taps, (nuint)((3 * k + 1) * V));
                g2.StoreUnsafe(ref taps, (nuint)((3 * k + 2) * V));
            }
        }

        // Gᵀ times (m0..m5): m0/4 − (m1 + m2)/6 + (m3 + m4)/24, (m2 − m1)/6 + (m3 − m4)/12, (m3 + m4 − m1 − m2)/6 + m5.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>) ApplyGTransposed(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2,
            Vector512<float> m3, Vector512<float> m4, Vector512<float> m5)
        {
            var sixth = Vector512.Create(1f / 6);
            var inner = m1 + m2; var outer = m3 + m4;
            var first = Fused.MultiplyAdd(m0, Vector512.Create(0.25f), Fused.MultiplyAdd(outer, Vector512.Create(1f / 24), -(inner * sixth)));
            var second = Fused.MultiplyAdd(m2 - m1, sixth, (m3 - m4) * Vector512.Create(1f / 12));
            var third = Fused.MultiplyAdd(outer - inner, sixth, m5);
            return (first, second, third);
        }
    }
}
