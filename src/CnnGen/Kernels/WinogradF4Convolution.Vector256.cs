using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    // F(4x4, 3x3) where there is no AVX-512 but AVX2 and FMA: the Vector512 kernels' layouts unchanged (16-channel groups in
    // the padded input, V, M, the filters and the outputs; the same Layout, scratch and kept filters), each group's 16 lanes
    // taken as two Vector256 halves. The transforms are the Vector512 ones' operations, lane for lane. The GEMM's register
    // tile is 2 vectors (16 output channels) x 6 tiles (12 accumulators of the 16 ymm registers, where the Vector512 tiles
    // take up to 24 of 32), or 4 x 2. F(2x2, 5x5)'s own transforms: WinogradF4Convolution.F2x5.Vector256.cs.
    internal static partial class WinogradF4Convolution
    {
        private const int Half = V / 2;

        /// <summary>Whether the Vector512 kernels run here (AVX-512); otherwise, where <see cref="Runs"/>, the Vector256 ones.</summary>
        internal static bool Wide => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

        /// <summary>Whether this machine runs a layout of this kernel at all: 3x3 and 5x5 where <see cref="RunsHere"/>.</summary>
        internal static bool Runs(int kernel) => (kernel == 3 || kernel == 5) && RunsHere;

        /// <summary>
        /// Whether this machine runs the Winograd kernels with the channels in the lanes at all (these, and the line, polyphase
        /// and transposed ones on their GEMMs): AVX-512, or AVX2 and FMA, with SIMD enabled.
        /// </summary>
        internal static bool RunsHere => Simd.Enabled && (Wide || Vector256.IsHardwareAccelerated && Fma.IsSupported);

        // Where F(4x4, 3x3) on Vector256 measured faster than the Vector256 direct kernel (session 57, Zen 3 without AVX-512,
        // KernelBench winograd4, direct / F(4x4)): from 16 channels each way on outputs of 4x4 or more, 1.17-2.9x (16x32x32 -> 16
        // 1.53x, 64x8x8 -> 64 2.81x, 16x6x6 -> 16 1.17x, 16x4x4 -> 16 1.64x, 64x56x56 -> 64 2.06x); 24 or more onto 12 too (24x16x16
        // 1.25x, 48x32x32 1.62x). Fewer lose (8 -> 16 0.74-0.97x, 16 -> 8 0.85-0.86x, 12 -> 12 0.83-0.94x, 3 or 4 in 0.33-0.55x),
        // as do 2x2 outputs (256 channels 0.92x, 512 0.68x). The direct kernel runs at a quarter of the Vector512 one's rate, so
        // filters past half the L3 still pay up to 24 MiB (384x4x4 1.17x, 256x4x4 -> 512 1.26x, 256x7x7 -> 512 1.15x); beyond,
        // 512 -> 512 only on whole tiles from 8x8 (8x8 1.42x; 4x4 1.00x, 5x5 0.76x, 6x6 0.81x, 7x7 0.96x).
        private static bool Pays256(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (kernel == 5) return Pays5x5For256(inChannels, outChannels);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            if (outHeight * outWidth < 16 || !(inChannels >= 16 && outChannels >= 16 || inChannels >= 24 && outChannels >= 12)) return false;
            long filterBytes = 36L * 4 * inChannels * outChannels;
            int tiles = (outHeight + 3) / 4 * ((outWidth + 3) / 4);
            if (tiles < 4 && inChannels * outChannels > MaximumFewTileFilters256) return false;
            return filterBytes <= 24L << 20 || outHeight % 4 == 0 && outWidth % 4 == 0 && outHeight * outWidth >= 64;
        }

        // Outputs of fewer than 4 tiles (4x4 and smaller) against the Vector256 lanes kernel on kept packed weights (session
        // 61, KernelBench lanes256, F(4x4) / lanes): F(4x4) faster up to 128 -> 128 (16 -> 16 0.96x, 32 0.71x, 64 0.75x), a
        // tie or slower beyond (128 -> 256 0.90x, 256 -> 256 1.05x, 512 -> 512 1.76x), with its filters hot in the L3. In a
        // network they are not: a layer's 36 floats a weight pair come from memory for one or two tiles, where the lanes
        // kernel reads 1. VGG-13 for CIFAR at batch 1 (4x4 128 -> 256 and 256 -> 256 taken off F(4x4)): 2,202 -> 1,190 µs
        // with this limit, 1,407 with the limit at 128 -> 256.
        private const int MaximumFewTileFilters256 = 128 * 128;

        // F(2x2, 5x5) against the Vector256 direct kernel (session 60, Zen 3, KernelBench winograd5, direct / F(2x2)): from 12
        // channels each way that fill two thirds of their 16-lane groups, on any map, 1.12-2.7x (16x32x32 -> 16 1.38-1.50x,
        // 16x16x16 -> 32 1.97-2.22x, 64x8x8 -> 128 2.71x, 12x16x16 -> 16 1.42x, 12x16x16 -> 24 1.29-1.31x, 16x32x32 -> 12
        // 1.12x, 24x16x16 -> 24 1.41-1.46x, 33 -> 33 1.51x, 256x8x8 -> 256 1.57x, 256x4x4 -> 512 1.40x, even 128x5x5 -> 128 onto
        // one cell 2.08x); 24x32x32 -> 12 0.99x. Lanes left empty lose (17 -> 17 0.85x, 20 -> 20 1.05x), as do 8 channels in
        // (8 -> 16 0.84-1.00x, 6 -> 16 0.79x) or out (16 -> 8 0.74x), and filters past 24 MiB (512x4x4 -> 512, 37.7 MB, 0.86x).
        private static bool Pays5x5For256(int inChannels, int outChannels) =>
            inChannels >= 12 && outChannels >= 12 && inChannels * outChannels >= 192 && FillsLanes(inChannels) && FillsLanes(outChannels)
            && 36L * 4 * inChannels * outChannels <= 24L << 20;

        /// <summary>Off: the Vector256 GEMM takes 16 output channels x 6 tiles only, not 32 x 2 where a block has 32 or more.</summary>
        internal static bool PairedGroups256 { get; set; } = true;

        // U[position][ic][oc lanes] as the Vector512 Transform makes it: the 16 filters' taps gathered into [tap][16 lanes]
        // (zero past the last output channel), then G g Gᵀ on each half.
        private static void Transform256(ReadOnlySpan<float> weight, int outStride, int inStride, bool flip, Span<float> filters, in Layout l)
        {
            Span<float> taps = stackalloc float[9 * V];
            Span<Vector256<float>> t = stackalloc Vector256<float>[18];
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            var quarter = Vector256.Create(1f / 4); var sixth = Vector256.Create(-1f / 6);
            var a = Vector256.Create(1f / 24); var b = Vector256.Create(1f / 12); var c = Vector256.Create(1f / 6);
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                for (int ic = 0; ic < l.InChannels; ic++)
                {
                    GatherTaps(ref Unsafe.Add(ref w, group * V * outStride + ic * inStride), outStride, 9, lanes, flip, ref g);
                    ref float target = ref Unsafe.Add(ref u0, FilterAt(ic, group * V, l.InChannels, l.OutGroups));
                    for (int half = 0; half < V; half += Half)
                    {
                        for (int column = 0; column < 3; column++)
                        {
                            var (r0, r1, r2, r3, r4, r5) = ApplyG(Vector256.LoadUnsafe(ref g, (nuint)(column * V + half)),
                                Vector256.LoadUnsafe(ref g, (nuint)((3 + column) * V + half)), Vector256.LoadUnsafe(ref g, (nuint)((6 + column) * V + half)),
                                quarter, sixth, a, b, c);
                            t[column] = r0; t[3 + column] = r1; t[6 + column] = r2; t[9 + column] = r3; t[12 + column] = r4; t[15 + column] = r5;
                        }
                        for (int row = 0; row < 6; row++)
                        {
                            var (r0, r1, r2, r3, r4, r5) = ApplyG(t[3 * row], t[3 * row + 1], t[3 * row + 2], quarter, sixth, a, b, c);
                            ref float at = ref Unsafe.Add(ref target, (nuint)(row * 6) * positionStride + (nuint)half);
                            r0.StoreUnsafe(ref at); r1.StoreUnsafe(ref at, positionStride); r2.StoreUnsafe(ref at, 2 * positionStride);
                            r3.StoreUnsafe(ref at, 3 * positionStride); r4.StoreUnsafe(ref at, 4 * positionStride); r5.StoreUnsafe(ref at, 5 * positionStride);
                        }
                    }
                }
            }
        }

        // g[k·16 + lane] = tap k (taps − 1 − k when flipped) of the filter `lane` filters (outStride floats) after first, zero
        // from `lanes` on. Shared with Transform5For256.
        private static void GatherTaps(ref float first, int outStride, int taps, int lanes, bool flip, ref float g)
        {
            for (int k = 0; k < taps; k++)
                for (int lane = 0; lane < V; lane++)
                    Unsafe.Add(ref g, k * V + lane) = lane < lanes ? Unsafe.Add(ref first, lane * outStride + (flip ? taps - 1 - k : k)) : 0f;
        }

        // ApplyG's operations on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyG(
            Vector256<float> g0, Vector256<float> g1, Vector256<float> g2,
            Vector256<float> quarter, Vector256<float> minusSixth, Vector256<float> a, Vector256<float> b, Vector256<float> c)
        {
            var outer = g0 + g2;
            var even = g0 * a + g2 * c;
            var odd = g1 * b;
            return (g0 * quarter, (outer + g1) * minusSixth, (outer - g1) * minusSixth, even + odd, even - odd, g2);
        }

        // Pad's layout from NCHW: the margins as ClearMargins leaves them, then 8 channels x 8 cells of a row by one 8x8
        // transpose, the rest (a row's last cells, a group's channels past the last whole half, the lanes past the channels)
        // one float at a time.
        internal static void Pad256(ReadOnlySpan<float> x, Span<float> padded, int inChannels, int height, int width, int padding, int paddedWidth, int paddedGroupStride)
        {
            int groups = (inChannels + V - 1) / V;
            ClearMargins(padded, new PaddedMaps(inChannels, height, width, padding, paddedWidth, paddedGroupStride, groups * paddedGroupStride));
            ref float source = ref MemoryMarshal.GetReference(x);
            int plane = height * width, rowLength = paddedWidth * V;
            int vectorCells = width & ~(Half - 1);
            for (int group = 0; group < groups; group++)
            {
                ref float t0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), group * paddedGroupStride);
                int channels = Math.Min(V, inChannels - group * V), wholeHalves = channels / Half;
                ref float groupPlanes = ref Unsafe.Add(ref source, group * V * plane);
                for (int iy = 0; iy < height; iy++)
                {
                    ref float cells = ref Unsafe.Add(ref t0, (iy + padding) * rowLength + padding * V);
                    ref float sourceRow = ref Unsafe.Add(ref groupPlanes, iy * width);
                    for (int half = 0; half < wholeHalves * Half; half += Half)
                        for (int ix = 0; ix < vectorCells; ix += Half)
                            Gemm.Transpose8x8(ref Unsafe.Add(ref sourceRow, half * plane + ix), plane, ref Unsafe.Add(ref cells, ix * V + half), V);
                    for (int ix = 0; ix < width; ix++)
                        for (int lane = ix < vectorCells ? wholeHalves * Half : 0; lane < V; lane++)
                            Unsafe.Add(ref cells, ix * V + lane) = lane < channels ? Unsafe.Add(ref sourceRow, lane * plane + ix) : 0f;
                }
            }
        }

        // Zero floats [from, to) of a row: a few cells of 16, in vector stores rather than a Span.Clear call.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ClearCells(ref float row, int from, int to)
        {
            for (int at = from; at < to; at += Half) Vector256<float>.Zero.StoreUnsafe(ref row, (nuint)at);
        }

        // TransformInput's windows, each group as two halves.
        private static void TransformInput256(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            int step = l.Dilation, tilesPerPhase = l.TileRows * l.TileColumns;
            nuint rowStride = (nuint)(step * l.PaddedWidth * V), cellStride = (nuint)(step * V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int origin = Origin(t, step, tilesPerPhase, l.PaddedWidth, l, out int ty, out int tx);
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (origin + step * l.TileSize * (ty * l.PaddedWidth + tx)) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    TransformWindow256(ref d, cellStride, rowStride, ref target, positionStride);
                    TransformWindow256(ref Unsafe.Add(ref d, Half), cellStride, rowStride, ref Unsafe.Add(ref target, Half), positionStride);
                }
            }
        }

        // TransformWindow on 8 lanes. Shared with WinogradWeightGradient.
        internal static void TransformWindow256(ref float d, nuint cellStride, nuint rowStride, ref float target, nuint positionStride)
        {
            var (e00, e01, e02) = FirstHalfOfBt256(ref d, cellStride);
            var (e10, e11, e12) = FirstHalfOfBt256(ref Unsafe.Add(ref d, rowStride), cellStride);
            var (e20, e21, e22) = FirstHalfOfBt256(ref Unsafe.Add(ref d, 2 * rowStride), cellStride);
            var (e30, e31, e32) = FirstHalfOfBt256(ref Unsafe.Add(ref d, 3 * rowStride), cellStride);
            var (e40, e41, e42) = FirstHalfOfBt256(ref Unsafe.Add(ref d, 4 * rowStride), cellStride);
            var (e50, e51, e52) = FirstHalfOfBt256(ref Unsafe.Add(ref d, 5 * rowStride), cellStride);
            nuint down = 6 * positionStride;
            StoreBt(e00, e10, e20, e30, e40, e50, ref target, down);
            StoreBt(e01, e11, e21, e31, e41, e51, ref Unsafe.Add(ref target, positionStride), down);
            StoreBt(e02, e12, e22, e32, e42, e52, ref Unsafe.Add(ref target, 2 * positionStride), down);
            var (e03, e04, e05) = SecondHalfOfBt256(ref d, cellStride);
            var (e13, e14, e15) = SecondHalfOfBt256(ref Unsafe.Add(ref d, rowStride), cellStride);
            var (e23, e24, e25) = SecondHalfOfBt256(ref Unsafe.Add(ref d, 2 * rowStride), cellStride);
            var (e33, e34, e35) = SecondHalfOfBt256(ref Unsafe.Add(ref d, 3 * rowStride), cellStride);
            var (e43, e44, e45) = SecondHalfOfBt256(ref Unsafe.Add(ref d, 4 * rowStride), cellStride);
            var (e53, e54, e55) = SecondHalfOfBt256(ref Unsafe.Add(ref d, 5 * rowStride), cellStride);
            StoreBt(e03, e13, e23, e33, e43, e53, ref Unsafe.Add(ref target, 3 * positionStride), down);
            StoreBt(e04, e14, e24, e34, e44, e54, ref Unsafe.Add(ref target, 4 * positionStride), down);
            StoreBt(e05, e15, e25, e35, e45, e55, ref Unsafe.Add(ref target, 5 * positionStride), down);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>) FirstHalfOfBt256(ref float source, nuint stride)
        {
            var d0 = Vector256.LoadUnsafe(ref source); var d1 = Vector256.LoadUnsafe(ref source, stride);
            var d2 = Vector256.LoadUnsafe(ref source, 2 * stride); var d3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var d4 = Vector256.LoadUnsafe(ref source, 4 * stride);
            var four = Vector256.Create(4f);
            var sum12 = d1 + d2; var difference12 = d1 - d2;
            return (Fused.MultiplyAdd(d0, four, d4) - d2 * Vector256.Create(5f), d3 + d4 - sum12 * four, Fused.MultiplyAdd(difference12, four, d4 - d3));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>) SecondHalfOfBt256(ref float source, nuint stride)
        {
            var d1 = Vector256.LoadUnsafe(ref source, stride); var d2 = Vector256.LoadUnsafe(ref source, 2 * stride);
            var d3 = Vector256.LoadUnsafe(ref source, 3 * stride); var d4 = Vector256.LoadUnsafe(ref source, 4 * stride);
            var d5 = Vector256.LoadUnsafe(ref source, 5 * stride);
            var edge = d4 - d2; var odd = (d3 - d1) * Vector256.Create(2f);
            return (edge + odd, edge - odd, Fused.MultiplyAdd(d1, Vector256.Create(4f), d5) - d3 * Vector256.Create(5f));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreBt(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5,
            ref float target, nuint targetStride)
        {
            var four = Vector256.Create(4f); var five = Vector256.Create(5f); var two = Vector256.Create(2f);
            var sum12 = d1 + d2; var difference12 = d1 - d2;
            var edge = d4 - d2; var odd = (d3 - d1) * two;
            (Fused.MultiplyAdd(d0, four, d4) - d2 * five).StoreUnsafe(ref target);
            (d3 + d4 - sum12 * four).StoreUnsafe(ref target, targetStride);
            (Fused.MultiplyAdd(difference12, four, d4 - d3)).StoreUnsafe(ref target, 2 * targetStride);
            (edge + odd).StoreUnsafe(ref target, 3 * targetStride);
            (edge - odd).StoreUnsafe(ref target, 4 * targetStride);
            (Fused.MultiplyAdd(d1, four, d5) - d3 * five).StoreUnsafe(ref target, 5 * targetStride);
        }

        // Products' GEMMs: per block of output vectors (FilterAt's blocks) and position, the block's groups two at a time
        // (32 lanes x 2 tiles) where PairedGroups256, else one at a time (16 lanes x 6 tiles), tiles in blocks as even as they go;
        // the filters of each position its slot's where filterSlots is given (as Products). Shared with StridedWinogradConvolution.
        // 32 lanes x 3 tiles (session 57) wants 12 accumulators, 4 filter vectors and a broadcast, 17 of the 16 registers:
        // against it, 32 x 2 took 342 µs for 535 on 64x32x32 -> 64, 294 for 501 on 128x16x16 -> 128, 550 for 614 on 256x8x8
        // -> 256 (session 58, KernelBench winograd4 on Zen 3; 16 lanes alone: 391, 598, 858).
        // The blocks of tiles are worked out once (TileBlocks), and each run of equal blocks is one call of the register tile,
        // which loops over them: two calls and three divisions per block of 2 tiles (next to its 256 multiply-adds from 32
        // input channels) were a tenth of the strided network's batch-1 profile, its fastest call 186 -> 176 µs without them
        // (session 59; CIFAR 225.8 -> 216.0 µs at the 10% mark).
        internal static void Products256(Span<float> transformed, ReadOnlySpan<float> filters, Span<float> products, int count, int positions,
            int transformedPositionStride, int transformedGroupStride, int filterPositionStride, int productPositionStride, int productTileStride,
            int inChannels, int outGroups, ReadOnlySpan<byte> filterSlots = default)
        {
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            ref float m0 = ref MemoryMarshal.GetReference(products);
            int vectorBlocks = VectorBlocks(outGroups);
            bool paired = PairedGroups256;
            var pairs = new TileBlocks(count, 2);
            var singles = new TileBlocks(count, 6);
            for (int block = 0; block < vectorBlocks; block++)
            {
                var (start, vectors) = VectorBlock(outGroups, vectorBlocks, block);
                for (int position = 0; position < positions; position++)
                {
                    ref float v = ref Unsafe.Add(ref v0, position * transformedPositionStride);
                    ref float u = ref Unsafe.Add(ref u0, (filterSlots.IsEmpty ? position : filterSlots[position]) * filterPositionStride);
                    ref float m = ref Unsafe.Add(ref m0, position * productPositionStride);
                    ref float blockFilters = ref Unsafe.Add(ref u, inChannels * start * V);
                    int filterStride = vectors * V;
                    for (int group = 0; group < vectors;)
                    {
                        int groups = paired && group + 2 <= vectors ? 2 : 1;
                        var tiles = groups == 2 ? pairs : singles;
                        ref float groupFilters = ref Unsafe.Add(ref blockFilters, group * V);
                        ref float groupProducts = ref Unsafe.Add(ref m, (start + group) * V);
                        if (tiles.SmallBlocks > 0)
                            Run256Of(groups, tiles.Small, tiles.SmallBlocks, ref v, transformedGroupStride, inChannels, ref groupFilters, filterStride,
                                ref groupProducts, productTileStride);
                        if (tiles.LargeBlocks > 0)
                        {
                            int t0 = tiles.Small * tiles.SmallBlocks;
                            Run256Of(groups, tiles.Small + 1, tiles.LargeBlocks, ref Unsafe.Add(ref v, t0 * V), transformedGroupStride, inChannels, ref groupFilters,
                                filterStride, ref Unsafe.Add(ref groupProducts, t0 * productTileStride), productTileStride);
                        }
                        group += groups;
                    }
                }
            }
        }

        // count tiles in as few blocks of at most `most` as they go, as even as they go: SmallBlocks of Small tiles, then
        // LargeBlocks of Small + 1 (7 tiles by 2: 1 + 2 + 2 + 2).
        private readonly struct TileBlocks
        {
            public readonly int Small, SmallBlocks, LargeBlocks;

            public TileBlocks(int count, int most)
            {
                int blocks = (count + most - 1) / most;
                Small = count / blocks;
                LargeBlocks = count - Small * blocks;
                SmallBlocks = blocks - LargeBlocks;
            }
        }

        // `blocks` blocks of `tiles` tiles one after the other on the register tile for `groups` groups x `tiles` tiles.
        private static void Run256Of(int groups, int tiles, int blocks, ref float v, int groupStride, int inChannels, ref float u, int filterStride, ref float m, int productStride)
        {
            switch (groups * 8 + tiles)
            {
                case 9: Tile256<C2, C1>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 10: Tile256<C2, C2>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 11: Tile256<C2, C3>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 12: Tile256<C2, C4>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 13: Tile256<C2, C5>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 14: Tile256<C2, C6>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 17: Tile256<C4, C1>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 18: Tile256<C4, C2>(blocks, ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                default: throw new ArgumentOutOfRangeException(nameof(tiles));
            }
        }

        // M[tile][oc] for TVectors vectors of 8 output channels (2: one group, 4: two) x TTiles tiles, summed over the input
        // channels in their order (as Tile's lanes are): per input channel, TVectors filter loads, TTiles broadcasts of V;
        // `blocks` such tiles one after the other (the loop here, not around a call: the JIT would not inline this body).
        private static void Tile256<TVectors, TTiles>(int blocks, ref float v, int groupStride, int inChannels, ref float u, int filterStride, ref float m, int productStride)
            where TVectors : struct, IConstant where TTiles : struct, IConstant
        {
            for (int block = 0; block < blocks; block++, v = ref Unsafe.Add(ref v, TTiles.Value * V), m = ref Unsafe.Add(ref m, TTiles.Value * productStride))
            {
                var a0_0 = Vector256<float>.Zero; var a1_0 = Vector256<float>.Zero; var a2_0 = Vector256<float>.Zero; var a3_0 = Vector256<float>.Zero;
                var a0_1 = Vector256<float>.Zero; var a1_1 = Vector256<float>.Zero; var a2_1 = Vector256<float>.Zero; var a3_1 = Vector256<float>.Zero;
                var a0_2 = Vector256<float>.Zero; var a1_2 = Vector256<float>.Zero; var a2_2 = Vector256<float>.Zero; var a3_2 = Vector256<float>.Zero;
                var a0_3 = Vector256<float>.Zero; var a1_3 = Vector256<float>.Zero;
                var a0_4 = Vector256<float>.Zero; var a1_4 = Vector256<float>.Zero;
                var a0_5 = Vector256<float>.Zero; var a1_5 = Vector256<float>.Zero;
                for (int first = 0; first < inChannels; first += V)
                {
                    int count = Math.Min(V, inChannels - first);
                    ref float lane = ref Unsafe.Add(ref v, first / V * groupStride);
                    ref float filter = ref Unsafe.Add(ref u, first * filterStride);
                    for (int l = 0; l < count; l++)
                    {
                        var u0 = Vector256.LoadUnsafe(ref filter);
                        var u1 = Vector256.LoadUnsafe(ref filter, Half);
                        var u2 = TVectors.Value > 2 ? Vector256.LoadUnsafe(ref filter, 2 * Half) : default;
                        var u3 = TVectors.Value > 2 ? Vector256.LoadUnsafe(ref filter, 3 * Half) : default;
                        { var b = Vector256.Create(Unsafe.Add(ref lane, 0)); a0_0 = Fused.MultiplyAdd(u0, b, a0_0); a1_0 = Fused.MultiplyAdd(u1, b, a1_0); if (TVectors.Value > 2) { a2_0 = Fused.MultiplyAdd(u2, b, a2_0); a3_0 = Fused.MultiplyAdd(u3, b, a3_0); } }
                        if (TTiles.Value > 1) { var b = Vector256.Create(Unsafe.Add(ref lane, V)); a0_1 = Fused.MultiplyAdd(u0, b, a0_1); a1_1 = Fused.MultiplyAdd(u1, b, a1_1); if (TVectors.Value > 2) { a2_1 = Fused.MultiplyAdd(u2, b, a2_1); a3_1 = Fused.MultiplyAdd(u3, b, a3_1); } }
                        if (TTiles.Value > 2) { var b = Vector256.Create(Unsafe.Add(ref lane, 2 * V)); a0_2 = Fused.MultiplyAdd(u0, b, a0_2); a1_2 = Fused.MultiplyAdd(u1, b, a1_2); if (TVectors.Value > 2) { a2_2 = Fused.MultiplyAdd(u2, b, a2_2); a3_2 = Fused.MultiplyAdd(u3, b, a3_2); } }
                        if (TTiles.Value > 3) { var b = Vector256.Create(Unsafe.Add(ref lane, 3 * V)); a0_3 = Fused.MultiplyAdd(u0, b, a0_3); a1_3 = Fused.MultiplyAdd(u1, b, a1_3); }
                        if (TTiles.Value > 4) { var b = Vector256.Create(Unsafe.Add(ref lane, 4 * V)); a0_4 = Fused.MultiplyAdd(u0, b, a0_4); a1_4 = Fused.MultiplyAdd(u1, b, a1_4); }
                        if (TTiles.Value > 5) { var b = Vector256.Create(Unsafe.Add(ref lane, 5 * V)); a0_5 = Fused.MultiplyAdd(u0, b, a0_5); a1_5 = Fused.MultiplyAdd(u1, b, a1_5); }
                        lane = ref Unsafe.Add(ref lane, 1);
                        filter = ref Unsafe.Add(ref filter, filterStride);
                    }
                }
                { ref float row = ref m; a0_0.StoreUnsafe(ref row); a1_0.StoreUnsafe(ref row, Half); if (TVectors.Value > 2) { a2_0.StoreUnsafe(ref row, 2 * Half); a3_0.StoreUnsafe(ref row, 3 * Half); } }
                if (TTiles.Value > 1) { ref float row = ref Unsafe.Add(ref m, productStride); a0_1.StoreUnsafe(ref row); a1_1.StoreUnsafe(ref row, Half); if (TVectors.Value > 2) { a2_1.StoreUnsafe(ref row, 2 * Half); a3_1.StoreUnsafe(ref row, 3 * Half); } }
                if (TTiles.Value > 2) { ref float row = ref Unsafe.Add(ref m, 2 * productStride); a0_2.StoreUnsafe(ref row); a1_2.StoreUnsafe(ref row, Half); if (TVectors.Value > 2) { a2_2.StoreUnsafe(ref row, 2 * Half); a3_2.StoreUnsafe(ref row, 3 * Half); } }
                if (TTiles.Value > 3) { ref float row = ref Unsafe.Add(ref m, 3 * productStride); a0_3.StoreUnsafe(ref row); a1_3.StoreUnsafe(ref row, Half); }
                if (TTiles.Value > 4) { ref float row = ref Unsafe.Add(ref m, 4 * productStride); a0_4.StoreUnsafe(ref row); a1_4.StoreUnsafe(ref row, Half); }
                if (TTiles.Value > 5) { ref float row = ref Unsafe.Add(ref m, 5 * productStride); a0_5.StoreUnsafe(ref row); a1_5.StoreUnsafe(ref row, Half); }
            }
        }

        // TransformOutput (3x3) with each group's two halves.
        private static void TransformOutput256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, bool pool, in Layout l,
            in Target into)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), Layout.BiasOffset);
            ref float o0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputs), into.Offset);
            nuint positionStride = (nuint)l.ProductPositionStride;
            int pooledHeight = l.OutHeight / 2, pooledWidth = l.OutWidth / 2;
            int step = l.Dilation, tilesPerPhase = l.TileRows * l.TileColumns, h = l.OutHeight / step, w = l.OutWidth / step, pitch = step * into.RowCells;
            for (int t = first; t < first + count; t++)
            {
                int origin = Origin(t, step, tilesPerPhase, into.RowCells, l, out int ty, out int tx);
                for (int lanes = 0; lanes < l.OutLanes; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.OutLanes + lanes);
                    var (e10, e11, e12, e13) = ApplyAt256(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (e20, e21, e22, e23) = ApplyAt256(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    Vector256<float> s0 = e10 + e20, s1 = e11 + e21, s2 = e12 + e22, s3 = e13 + e23;
                    Vector256<float> d0 = e10 - e20, d1 = e11 - e21, d2 = e12 - e22, d3 = e13 - e23;
                    var (e00, e01, e02, e03) = ApplyAt256(ref m, positionStride);
                    Vector256<float> y00 = e00 + s0, y01 = e01 + s1, y02 = e02 + s2, y03 = e03 + s3;
                    var (e30, e31, e32, e33) = ApplyAt256(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (e40, e41, e42, e43) = ApplyAt256(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (y10, y20, y30) = Columns(e30, e40, s0, d0, ref y00);
                    var (y11, y21, y31) = Columns(e31, e41, s1, d1, ref y01);
                    var (y12, y22, y32) = Columns(e32, e42, s2, d2, ref y02);
                    var (y13, y23, y33) = Columns(e33, e43, s3, d3, ref y03);
                    var (e50, e51, e52, e53) = ApplyAt256(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    y30 += e50; y31 += e51; y32 += e52; y33 += e53;
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu); y02 = Finish(y02, bias, relu); y03 = Finish(y03, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu); y12 = Finish(y12, bias, relu); y13 = Finish(y13, bias, relu);
                    y20 = Finish(y20, bias, relu); y21 = Finish(y21, bias, relu); y22 = Finish(y22, bias, relu); y23 = Finish(y23, bias, relu);
                    y30 = Finish(y30, bias, relu); y31 = Finish(y31, bias, relu); y32 = Finish(y32, bias, relu); y33 = Finish(y33, bias, relu);
                    ref float target = ref Unsafe.Add(ref o0, group * into.GroupStride + origin * V + half);
                    if (pool)
                    {
                        int py = 2 * ty, px = 2 * tx;
                        Put(ref target, py, px, Max(y00, y01, y10, y11), pooledHeight, pooledWidth, into.RowCells);
                        Put(ref target, py, px + 1, Max(y02, y03, y12, y13), pooledHeight, pooledWidth, into.RowCells);
                        Put(ref target, py + 1, px, Max(y20, y21, y30, y31), pooledHeight, pooledWidth, into.RowCells);
                        Put(ref target, py + 1, px + 1, Max(y22, y23, y32, y33), pooledHeight, pooledWidth, into.RowCells);
                        continue;
                    }
                    StoreTile4x4(ref target, 4 * ty, 4 * tx, h, w, pitch, y00, y01, y02, y03, y10, y11, y12, y13, y20, y21, y22, y23, y30, y31, y32, y33, step);
                }
            }
        }

        // StoreTile4x4 on 8 lanes (target: the half's first lane). Shared with StridedWinogradConvolution.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreTile4x4(ref float target, int oy, int ox, int h, int w, int pitch,
            Vector256<float> y00, Vector256<float> y01, Vector256<float> y02, Vector256<float> y03,
            Vector256<float> y10, Vector256<float> y11, Vector256<float> y12, Vector256<float> y13,
            Vector256<float> y20, Vector256<float> y21, Vector256<float> y22, Vector256<float> y23,
            Vector256<float> y30, Vector256<float> y31, Vector256<float> y32, Vector256<float> y33, int step = 1)
        {
            if (oy + 4 <= h && ox + 4 <= w)
            {
                ref float cell = ref Unsafe.Add(ref target, (oy * pitch + ox * step) * V);
                nuint row = (nuint)(pitch * V), column = (nuint)(step * V);
                y00.StoreUnsafe(ref cell, 0); y01.StoreUnsafe(ref cell, column); y02.StoreUnsafe(ref cell, 2 * column); y03.StoreUnsafe(ref cell, 3 * column);
                cell = ref Unsafe.Add(ref cell, row);
                y10.StoreUnsafe(ref cell, 0); y11.StoreUnsafe(ref cell, column); y12.StoreUnsafe(ref cell, 2 * column); y13.StoreUnsafe(ref cell, 3 * column);
                cell = ref Unsafe.Add(ref cell, row);
                y20.StoreUnsafe(ref cell, 0); y21.StoreUnsafe(ref cell, column); y22.StoreUnsafe(ref cell, 2 * column); y23.StoreUnsafe(ref cell, 3 * column);
                cell = ref Unsafe.Add(ref cell, row);
                y30.StoreUnsafe(ref cell, 0); y31.StoreUnsafe(ref cell, column); y32.StoreUnsafe(ref cell, 2 * column); y33.StoreUnsafe(ref cell, 3 * column);
                return;
            }
            Put(ref target, oy, ox, y00, h, w, pitch, step); Put(ref target, oy, ox + 1, y01, h, w, pitch, step); Put(ref target, oy, ox + 2, y02, h, w, pitch, step); Put(ref target, oy, ox + 3, y03, h, w, pitch, step);
            Put(ref target, oy + 1, ox, y10, h, w, pitch, step); Put(ref target, oy + 1, ox + 1, y11, h, w, pitch, step); Put(ref target, oy + 1, ox + 2, y12, h, w, pitch, step); Put(ref target, oy + 1, ox + 3, y13, h, w, pitch, step);
            Put(ref target, oy + 2, ox, y20, h, w, pitch, step); Put(ref target, oy + 2, ox + 1, y21, h, w, pitch, step); Put(ref target, oy + 2, ox + 2, y22, h, w, pitch, step); Put(ref target, oy + 2, ox + 3, y23, h, w, pitch, step);
            Put(ref target, oy + 3, ox, y30, h, w, pitch, step); Put(ref target, oy + 3, ox + 1, y31, h, w, pitch, step); Put(ref target, oy + 3, ox + 2, y32, h, w, pitch, step); Put(ref target, oy + 3, ox + 3, y33, h, w, pitch, step);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyAt256(ref float source, nuint stride)
        {
            var m0 = Vector256.LoadUnsafe(ref source); var m1 = Vector256.LoadUnsafe(ref source, stride);
            var m2 = Vector256.LoadUnsafe(ref source, 2 * stride); var m3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector256.LoadUnsafe(ref source, 4 * stride); var m5 = Vector256.LoadUnsafe(ref source, 5 * stride);
            var sum12 = m1 + m2; var difference12 = m1 - m2; var sum34 = m3 + m4; var difference34 = m3 - m4;
            return (m0 + sum12 + sum34,
                Fused.MultiplyAdd(difference34, Vector256.Create(2f), difference12),
                Fused.MultiplyAdd(sum34, Vector256.Create(4f), sum12),
                Fused.MultiplyAdd(difference34, Vector256.Create(8f), difference12) + m5);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>) Columns(Vector256<float> e3, Vector256<float> e4,
            Vector256<float> sum12, Vector256<float> difference12, ref Vector256<float> y0)
        {
            var sum34 = e3 + e4; var difference34 = e3 - e4;
            y0 += sum34;
            return (Fused.MultiplyAdd(difference34, Vector256.Create(2f), difference12),
                Fused.MultiplyAdd(sum34, Vector256.Create(4f), sum12),
                Fused.MultiplyAdd(difference34, Vector256.Create(8f), difference12));
        }

        // The bias, then ReLU when asked. Shared with PolyphaseWinogradConvolution.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<float> Finish(Vector256<float> value, Vector256<float> bias, bool relu) =>
            relu ? Elementwise.Relu(value + bias) : value + bias;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Max(Vector256<float> topLeft, Vector256<float> topRight, Vector256<float> bottomLeft, Vector256<float> bottomRight) =>
            Pooling.Later(bottomRight, Pooling.Later(bottomLeft, Pooling.Later(topRight, topLeft)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Put(ref float target, int row, int column, Vector256<float> value, int height, int width, int pitch, int step = 1)
        {
            if (row < height && column < width) value.StoreUnsafe(ref target, (nuint)((row * pitch + column * step) * V));
        }

        // Unpack: each group's [cell][16 channels] into its channels' planes by 8x8 transposes, then the residual join (if any)
        // added in place: the same additions, per value, as Unpack's rows.
        internal static void Unpack256(Span<float> outputs, Span<float> y, int cells, int outChannels, int outputGroupStride, ReadOnlySpan<float> shortcut, bool reluAfterSum)
        {
            ref float source = ref MemoryMarshal.GetReference(outputs);
            ref float target = ref MemoryMarshal.GetReference(y);
            for (int group = 0; group < (outChannels + V - 1) / V; group++)
                ChannelBlocks.LanesToPlanes256(ref Unsafe.Add(ref source, group * outputGroupStride), cells, Math.Min(V, outChannels - group * V),
                    ref Unsafe.Add(ref target, group * V * cells), cells);
            if (shortcut.IsEmpty) return;
            var maps = y.Slice(0, outChannels * cells);
            if (reluAfterSum) Elementwise.SumRelu(maps, shortcut.Slice(0, maps.Length), maps);
            else Elementwise.Sum(maps, shortcut.Slice(0, maps.Length), maps);
        }
    }
}
