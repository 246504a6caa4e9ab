using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A pointwise convolution (1x1 kernel, stride 1, no padding, no groups) of one sample, for evaluation: a product over
    /// channels, y [outChannels x plane] = weight [outChannels x inChannels] · x [inChannels x plane] + bias, computed in
    /// register tiles with no packing and no second pass for the bias.
    /// </summary>
    /// <remarks>
    /// A tile is up to 4 output channels x up to 4 vectors of cells (16 floats each on Vector512, 8 on Vector256): per input
    /// channel, one load per vector of x and one broadcast weight per output channel feed 16 fused multiply-adds, the
    /// accumulators starting at the bias. The weights are read as PyTorch stores them ([outChannels x inChannels], a row per
    /// output channel), so nothing is packed per call. On planes of 128+ cells with 32+ channels each way, three vectors of
    /// cells are copied together and run 8-row tiles (PackedTallPays); on others of 256+ cells with 32+ channels each way (128+ cells with
    /// 256+ input channels; 16+ input channels on planes of a multiple of 1024 cells) a block of up to four vectors of cells is first copied together for every output channel to read
    /// (PacksBlocks); on planes of 65+ cells from fewer than 32 input channels, or onto 9-31 output channels from 32 or more, a
    /// tile is 8 output channels x up to 3 vectors (TallChunks, NarrowOutput), as on planes of 128+ cells whose input stays in
    /// L2 from 32+ input channels onto up to 192 (InPlaceTallPays, ahead of the copies). Cells past the last whole vector run
    /// as the plane's last vector of cells, overlapping the one before (computed twice, the same way), or, where one to four cells are left (TailAsDots: 7x7 and 14x14 maps), as dot products
    /// over the input channels; a plane of one to three vectors runs 8-row tiles; 8-15 cells run Vector256 tiles on the
    /// Vector512 path, and planes narrower than that dot products over the input channels. The sum over the input channels
    /// runs in their order, as in the definition (the dot products sum lanes of partial sums, then add the bias), so every
    /// path agrees to rounding with the others. An activation's bounds (a fused ReLU or ReLU6) are applied to the accumulators before they are stored.
    /// KernelBench pointwise-shapes (2026-12-02, load 25, µs, as it runs / cells past the last whole vector one at a time /
    /// 4-row tiles): 128->128 @14x14 35 / 117 / -, 256->256 @14x14 160 / 462 / -, 512->512 @7x7 149 / 408 / -, 40->240
    /// @10x10 11 / 84 / -, 96->96 @5x5 2.9 / 131 / 3.3, 512->512 @4x4 49 / - / 75, 256->512 @4x4 26 / - / 42, 1024->1024 @3x3
    /// 385 / 13,734 (weights streamed from memory), 512->512 @2x2 24 / 2,105; planes of whole vectors unchanged (16-128
    /// channels on 56x56 to 16x16 maps, 134-220 GFLOP/s).
    /// </remarks>
    public static class PointwiseConvolution
    {
        /// <summary>Whether a layer whose shape pays for it copies blocks of cells together first (KernelBench turns it off to compare).</summary>
        internal static bool BlockPacking = true;

        // Planes of 256 cells or more put an input channel's rows 1 KB or more apart, so the rows a tile reads for 32+ input
        // channels fall into the same few L1 sets and come from L2: a block of cells copied together first (reused by every
        // output channel) reads from L1. Planes of 128-255 cells (13x13-15x15 maps) with 256+ input channels too: their block
        // (64 KB) does not fit in L1 either way, and read from one contiguous copy instead of 256 rows 784 bytes apart it ran
        // faster (KernelBench pointwise-eval, 2026-12-02, load 12-36, four to seven runs, the order before / this: 256->128 @14x14
        // 1.03-1.22x; 256->64 @14x14 0.82-1.12x, about even). And planes of a multiple of 1024 cells from 16 input channels: their
        // rows 4 KB apart fall into the same L1 sets (so they run no chunks outer either), and 16-31 rows of 4 vectors already
        // overflow a set's 12 ways (pointwise-eval, 2026-12-02, load 7-14, three to five runs, in place / copied: 16->72 @32x32
        // 1.14-1.23x but 0.93x once, 16->96 @32x32 1.22-1.25x, 24->96 @32x32 1.21-1.29x, 16->32 @64x64 1.07-1.16x, 16->64 @32x32
        // 0.98-1.19x; not from 8: 8->32 @64x64 0.95x, 8->64 @32x32 0.99-1.00x; with 16 output channels copying lost, 16->16
        // @32x32 0.84-0.85x). From 32 input channels onto up to 192, where the input stays in L2, InPlaceTallPays takes these
        // planes instead.
        private static bool PacksBlocks(int inChannels, int plane, int outChannels) =>
            outChannels >= 32 && (plane >= 256 && inChannels >= 32 || SmallPlaneOrder && plane >= 128 && inChannels >= 256
            || AliasedPlanePacking && plane % 1024 == 0 && inChannels >= 16);

        /// <summary>Whether the shapes of PackedTallPays copy three vectors of cells together and run 8-row tiles over them (KernelBench turns it off to compare).</summary>
        internal static bool PackedTall = true;

        // Three vectors of cells copied together ([inChannels x 48], contiguous), then 8 output channels x 3 vectors a tile (24
        // accumulators, 8 broadcasts + 3 loads per input channel): the copy is read from L1 by every output channel, and the taller
        // tile spends fewer loads per FMA than 4 x 4. KernelBench pointwise-packed (2026-12-03, load 2.7, thread CPU, best of
        // interleaved rounds in both orders, the paths before / this): 256->128 @14x14 1.22-1.24x, 256->64 @14x14 1.17-1.19x,
        // 256->256 @8x8 1.11-1.12x, 32->64 @32x32 1.07-1.10x, 32->64 @28x28 1.06-1.09x, 128->128 @14x14 and @16x16 1.06-1.07x,
        // 96->576 @14x14 1.09x, ResNeXt's 64<->128 @32x32 1.04-1.07x, 64->64 @17x17 1.09-1.10x, 128->128 @13x13 1.05-1.06x. Not
        // from 16 input channels (16->32 @56x56 0.85-0.88x: the in-place 8 x 3 tiles of TallChunks), nor onto 16-24 output
        // channels (64->16 @16x16 0.79-0.80x, 24->24 @32x32 0.87-0.89x), nor on planes of 49-100 cells (7x7 0.89-0.97x, 8x8
        // 128->256 0.96-0.97x, 240->80 0.85-0.98x, 11x11 48->48 0.86-0.88x). Whole designs at batch 1 (pointwise-packed networks,
        // two runs): the bottlenecks 1.05x and 1.06x, MobileNetV1-112, MobileNetV3 and MobileNetV2 0.98-1.02x.
        private static bool PackedTallPays(int inChannels, int plane, int outChannels) =>
            plane >= 128 && outChannels >= 32 && inChannels >= 32;

        /// <summary>Whether planes of a multiple of 1024 cells with 16-31 input channels are copied in blocks (KernelBench turns it off to compare).</summary>
        internal static bool AliasedPlanePacking = true;

        /// <summary>Whether layers onto 9-31 output channels from 32+ input channels run 8-row tiles over chunks of three vectors (KernelBench turns it off to compare).</summary>
        internal static bool NarrowOutputTall = true;

        /// <summary>Whether the shapes of InPlaceTallPays run 8-row tiles in place rather than copied in blocks (KernelBench turns it off to compare).</summary>
        internal static bool InPlaceTall = true;

        // Inputs that stay in L2 (768 KB or less) on planes of 128+ cells, from 32+ input channels onto up to 192: 8 output
        // channels x 3 vectors a tile read in place, not copied in blocks first (PacksBlocks, PackedTallPays). The copies keep
        // input rows that share L1 sets (1-4 KB apart) out of L1, but from L2 the taller tile's loads keep up, and the copy's
        // pass is saved. Session 21 measured the copied 8-row tiles against 4-row ones, not against these. KernelBench
        // pointwise-shapes (2026-12-05, Zen 5, load 1-3, µs, copied / in place, interleaved): 192->32 @32x32 92.4 / 68.6,
        // 144->32 @32x32 70.5 / 48.5, 64->32 @32x32 30.3-30.9 / 21.8-22.0, 96->48 @32x32 61.1 / 49.3, 64->64 @32x32 48.9 / 43.0,
        // 128->128 @32x32 179.0 / 167.2, 32->192 @32x32 94.2 / 89.1, 120->40 @16x16 17.8 / 13.4, 72->40 @16x16 11.6 / 8.5,
        // 144->32 @16x16 15.8-19.1 / 11.3-12.5, 192->32 @16x16 20.9-21.2 / 14.7-14.9, 40->120 @16x16 13.8 / 12.8, 128->128
        // @16x16 44.6 / 40.8, 144->48 @28x28 67.1 / 51.0, 192->64 @28x28 114.8 / 96.3, 32->64 @28x28 20.2 / 16.6, 256->64
        // @14x14 37.7 / 31.7, 96->96 @14x14 20.5 / 17.8, 128->128 @13x13 30.0 / 26.7, 64->64 @15x15 11.3 / 9.5, 256->64 @12x12
        // 26.6 / 22.3. Even or slower onto 240 and more (40->240 @16x16 1.02x, 128->256 @32x32 0.99x, 64->512 @16x16 0.99x,
        // 32->1024 @16x16 0.97x), so not there; past L2 the copies ask for the next block ahead (PrefetchBlocks), which cold
        // inputs need. In whole networks (`zoo loop`, alternated rounds, mean µs per call, the 1024-cell planes alone):
        // ResNeXt-style (64 <-> 128 @32x32) 754-757 -> 728-736, DenseNet-style (36 and 48 -> 48 @32x32) 367-386 -> 358-363.
        private static bool InPlaceTallPays(int inChannels, int plane, int outChannels) =>
            inChannels >= 32 && outChannels <= 192 && plane >= 128 && (long)inChannels * plane <= 196_608;

        // Layers onto 9-31 output channels from 32 or more input channels (inverted residuals' projections: 144 -> 24, 96 -> 24,
        // 64 -> 16), which neither PacksBlocks nor PackedTallPays take: 8 output channels x 3 vectors of cells a tile, in place,
        // instead of 4 x 4, on any plane of 65+ cells. The input passes through the tiles once for every 8 output channels
        // instead of every 4, which pays most on planes of a multiple of 1024 cells, whose input rows (4 KB apart) share L1
        // sets and come from L2. KernelBench pointwise-shapes (2026-12-05, Zen 5, load 1-3, µs, 4-row / 8-row, interleaved):
        // 144->24 @32x32 50.1 / 34.2, 96->24 @32x32 34.5 / 23.4, 64->16 @32x32 15.3-16.0 / 11.0, 144->16 @32x32 33.1 / 23.2,
        // 120->24 @64x64 209 / 133, 96->16 @64x64 138 / 101, 32->24 @64x64 56.7 / 42.8, 32->16 @112x112 86.0 / 75.8, 144->24
        // @56x56 118 / 106, 96->24 @56x56 77.0-85.3 / 70.3-77.0, 144->24 @28x28 28.3 / 25.7, 96->24 @28x28 17.7-19.3 / 17.1-18.2,
        // 288->24 @16x16 20.2 / 15.8, 480->24 @16x16 34.0 / 26.3, 64->16 @16x16 3.47 / 2.74, 72->24 @48x48 52.3-55.9 / 39.9-45.5,
        // 60->30 @32x32 29.8 / 24.6, onto 10-12 channels 1.05-1.11x. The sums run over the input channels in the same order, so
        // the floats are the same.
        private static bool NarrowOutput(int inChannels, int outChannels) => inChannels >= 32 && outChannels > 8 && outChannels < 32;

        /// <summary>Whether planes of 128-255 cells take the orders of PacksBlocks and ChunksOuter (KernelBench turns it off to compare).</summary>
        internal static bool SmallPlaneOrder = true;

        // Whether a chunk of cells runs over every output channel (its input rows staying in L1) rather than 4 output channels
        // over every cell: planes of 256+ cells not copied in blocks (but not of a multiple of 1024 cells; see ForwardOn), and
        // planes of 128-255 cells from 64 input channels, where the chunk (64 cells, 16-32 KB at 64-128 channels) fits in L1
        // while the whole input (50-100 KB on 14x14) did not: KernelBench pointwise-eval (2026-12-02, load 12-36, four to
        // six runs, the order before / this): 64->128 @14x14 1.05-1.22x, 128->128 @14x14 0.89-1.12x, 64->256 @14x14 0.84-1.34x,
        // 96->576 @14x14 1.11-1.19x, 128->128 @13x13 1.01-1.10x, 64->64 @15x15 0.84-1.20x (most runs 1.07x or more).
        private static bool ChunksOuter(int inChannels, int plane) =>
            CellsOuter && (plane >= 256 ? plane % 1024 != 0 : SmallPlaneOrder && plane >= 128 && inChannels >= 64);

        // The block copies' prefetches (Prefetch.Lines): a block's copy reads a few lines from each of 32-256 input planes.
        // KernelBench blocked single (BLOCKED_AGAINST=prefetch, 2026-12-04, Zen 5, thread CPU, both orders), with / without,
        // the maps cold (BLOCKED_COLD): 256->64 @56x56 1.24x, 64->64 @56x56 1.22x, 256->128 @56x56 1.12x, 512->128 @28x28 1.11x,
        // 64->256 @56x56 1.06x, 128->512 @28x28 1.02x, 1024->256 @14x14 1.03x, 256->1024 @14x14 1.00x; the maps in cache
        // 0.98-0.99x (so not below Prefetch.MinimumFloats of input).
        /// <summary>Whether the block copies ask for the next block's cells ahead (KernelBench turns it off to compare).</summary>
        internal static bool PrefetchBlocks = true;

        [ThreadStatic]
        private static AlignedBuffer? t_block;

        // On a 64-byte boundary: the tiles load it a vector at a time.
        private static AlignedBuffer BlockBuffer(int length)
        {
            var buffer = t_block;
            if (buffer is null || buffer.Length < length) t_block = buffer = new AlignedBuffer(length);
            return buffer;
        }

        /// <summary>
        /// y[oc, i] = bias[oc] + Σ_c weight[oc, c] · x[c, i] for every output channel oc and cell i &lt; <paramref name="plane"/>;
        /// an empty <paramref name="bias"/> means none.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the bias neither empty nor outChannels long.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y) =>
            ForwardOn(x, inChannels, plane, weight, bias, outChannels, y, KernelPaths.Default);

        /// <summary>
        /// The same product with each output clamped to [<paramref name="low"/>, <paramref name="high"/>] in the tile's
        /// registers, as the element-wise kernels clamp (v &lt; low ? low : v, then v &gt; high ? high : v): a fused ReLU is
        /// (0, +∞), ReLU6 (0, 6).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
        /// <exception cref="ArgumentException">As the other overload, or <paramref name="low"/> is above <paramref name="high"/> or either is NaN.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, float low, float high) =>
            ForwardOn(x, inChannels, plane, weight, bias, outChannels, y, KernelPaths.Default, low, high);

        /// <summary>
        /// Floats of the transposed weights (<see cref="TransposeWeights"/>) a training pass keeps for a pointwise layer's
        /// input gradient, or 0 where the pass takes it as a GEMM (dx = weightᵀ · dy) instead: on the Vector512 path, from 48
        /// output channels (the product's depth) on maps of up to 128 cells. KernelBench <c>pointwise-training</c> (one sample,
        /// thread CPU, two runs, 2026-12-02, load 8-19), the tiles on weightᵀ against the GEMM: 1.13-1.15x 64->64 @8x8,
        /// 1.35-1.37x 16->96 @16x16, 1.44-1.46x 24->96 @8x8, 1.30-1.34x 40->240 @10x10, 1.09-1.10x 256->512 @7x7, 1.55-1.59x
        /// 256->512 @4x4, 1.68-1.71x 512->512 @4x4, 3.7-3.8x 1024->1024 @2x2; with 16-32 output channels the GEMM was faster
        /// (0.75-0.79x 64->16 @32x32, 0.91-0.97x 192->32 @28x28), on 14x14 maps too (0.89-0.93x 128->256, 0.95-0.97x 512->128),
        /// and from 16x16 up neither was (1.00-1.07x).
        /// </summary>
        public static int TransposedWeightsLength(int inChannels, int cells, int outChannels) =>
            KernelPaths.Default == KernelPath.Vector512 && Vector512.IsHardwareAccelerated && outChannels >= 48 && cells <= 128 ? inChannels * outChannels : 0;

        /// <summary>weight [outChannels x inChannels] (PyTorch's layout) to transposed [inChannels x outChannels].</summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void TransposeWeights(ReadOnlySpan<float> weight, int inChannels, int outChannels, Span<float> transposed)
        {
            Require(weight.Length >= outChannels * inChannels, nameof(weight), outChannels * inChannels);
            Require(transposed.Length >= outChannels * inChannels, nameof(transposed), outChannels * inChannels);
            Gemm.Transpose(weight, outChannels, inChannels, transposed);
        }

        /// <summary>
        /// The input gradient of a pointwise layer for one sample, dx [inChannels x plane] = weightᵀ · dy, from the weights
        /// transposed by <see cref="TransposeWeights"/>: the forward's tiles with the roles of the channels swapped (the sum over
        /// the output channels in their order, as the definition's).
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void InputGradient(ReadOnlySpan<float> outputGradient, int outChannels, int plane, ReadOnlySpan<float> transposedWeight, int inChannels, Span<float> inputGradient) =>
            ForwardOn(outputGradient, outChannels, plane, transposedWeight, default, inChannels, inputGradient, KernelPaths.Default);

        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, KernelPath path, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
        {
            var clamp = new OutputClamp(low, high);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plane);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            Require(x.Length >= inChannels * plane, nameof(x), inChannels * plane);
            Require(weight.Length >= outChannels * inChannels, nameof(weight), outChannels * inChannels);
            if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException("Expected " + outChannels + " floats or none.", nameof(bias));
            Require(y.Length >= outChannels * plane, nameof(y), outChannels * plane);

            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ws = ref MemoryMarshal.GetReference(weight);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int lanes = path == KernelPath.Vector512 && Vector512.IsHardwareAccelerated ? 16
                : path != KernelPath.Scalar && Vector256.IsHardwareAccelerated ? 8 : 0;
            // 8-15 cells (3x3 maps) on Vector256 tiles; fewer than a vector (2x2 and 1x1 maps, squeeze-and-excitation's 1x1 layers)
            // as dot products over the input channels: the cells were one at a time before (1-2 GFLOP/s; KernelBench pointwise-shapes).
            if (VectorTail && lanes == 16 && plane < 16 && Vector256.IsHardwareAccelerated) lanes = 8;
            if (VectorTail && lanes > 0 && plane < lanes && inChannels >= lanes)
            {
                DotCells(ref xs, inChannels, plane, 0, ref ws, bias, outChannels, clamp, ref ys, lanes == 16 || (path == KernelPath.Vector512 && Vector512.IsHardwareAccelerated));
                return;
            }
            if (lanes == 0 || plane < lanes)
            {
                ScalarCells(ref xs, inChannels, plane, 0, ref ws, bias, outChannels, clamp, ref ys);
                return;
            }
            // Whole vectors of cells; a last partial one is the plane's last vector of cells, overlapping the one before it
            // (those cells computed twice, the same way, so the same floats written twice), or its cells as dot products.
            bool dotTail = DotTail && TailAsDots(lanes, plane, inChannels);
            int vectorCount = VectorTail && !dotTail ? (plane + lanes - 1) / lanes : plane / lanes;
            int covered = Math.Min(plane, vectorCount * lanes); // the cells the vector tiles compute
            // A plane of one or two vectors gives a 4-row tile 4-8 accumulators, too few to hide the FMA's latency: 8 rows. Three
            // vectors (7x7 maps with the last cell as a dot product) too: 24 accumulators fed by 8 broadcasts and 3 loads per input
            // channel instead of 12 by 7 (KernelBench pointwise-eval, 2026-12-02, load 12-21, four runs, 128->256 @7x7 1.05-1.30x,
            // 256->256 1.00-1.30x, 128->512 1.05-1.25x, 160->960 1.05-1.29x).
            int tileRows = lanes == 16 && TallTiles && vectorCount <= (TallThree ? 3 : 2) ? 8 : 4;
            Span<float> b = stackalloc float[8];
            bool packedTall = PackedTall && lanes == 16 && PackedTallPays(inChannels, plane, outChannels);
            bool inPlaceTall = InPlaceTall && lanes == 16 && InPlaceTallPays(inChannels, plane, outChannels);
            if (!inPlaceTall && (packedTall || BlockPacking && PacksBlocks(inChannels, plane, outChannels)))
            {
                // A block of up to four vectors of cells at a time over every output channel: the block's input (inChannels x
                // 64 cells, 32 KB at 128 channels) stays in L1 while the weights stream, instead of the whole input passing
                // through for each 4 output channels.
                ref float block = ref MemoryMarshal.GetReference(BlockBuffer(inChannels * 4 * lanes).AsSpan());
                int blockVectors = packedTall ? 3 : lanes == 8 ? Vectors256 : 4, blockRows = packedTall ? 8 : tileRows;
                bool prefetch = PrefetchBlocks && (long)inChannels * plane >= Prefetch.MinimumFloats;
                for (int first = 0; first < vectorCount;)
                {
                    var (cell0, vectors, last) = Chunk(first, vectorCount, covered, lanes, blockVectors);
                    int blockStride = vectors * lanes, whole = (vectors - 1) * lanes;
                    // The next block's cells (as many as this one's), asked into the L2 while this block computes, where the
                    // input (512 KB or more) will not be there already.
                    int ahead = prefetch && cell0 + blockStride + blockStride - 1 < plane ? blockStride : 0;
                    for (int c = 0; c < inChannels; c++)
                    {
                        ref float from = ref Unsafe.Add(ref xs, c * plane + cell0);
                        if (ahead > 0) Prefetch.Lines(ref from, ahead, ahead);
                        ref float to = ref Unsafe.Add(ref block, c * blockStride);
                        MemoryMarshal.CreateReadOnlySpan(ref from, whole).CopyTo(MemoryMarshal.CreateSpan(ref to, whole));
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref from, last), lanes).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref to, whole), lanes));
                    }
                    for (int oc = 0; oc < outChannels; oc += blockRows)
                    {
                        int rows = Math.Min(blockRows, outChannels - oc);
                        Rows(lanes, oc, rows, vectors, ref block, inChannels, blockStride, whole, plane, ref ws, bias, b, clamp, ref Unsafe.Add(ref ys, cell0), last);
                    }
                    first += vectors;
                }
                RemainingCells(ref xs, inChannels, plane, vectorCount * lanes, ref ws, bias, outChannels, clamp, ref ys, dotTail);
                return;
            }
            // Planes of more than four vectors of cells from fewer than 32 input channels, not copied in blocks: 8-row tiles over
            // chunks of three vectors (24 accumulators, 8 broadcasts + 3 loads per input channel) instead of 4 x 4. Their sums
            // are short, so each tile's set-up and stores weigh; the taller tile spends fewer loads per FMA. KernelBench
            // pointwise-tall (2026-12-02, load 12-36, two or three runs, 4-row / 8-row): 16->32 @56x56 1.12-1.18x, 16->64 @56x56
            // 1.10-1.14x, 16->96 @56x56 1.10-1.17x, 24->24 @56x56 1.09-1.12x, 8->32 @56x56 1.21-1.29x, 3->16 @56x56 1.29-1.37x,
            // 24->144 @28x28 1.05-1.08x, 28->56 @28x28 1.05-1.07x, 12->48 @40x40 1.14-1.20x, 16->24 @17x17 1.07-1.12x; 1024
            // cells (4 output channels outer) 16->16 @32x32 1.21-1.31x, 24->16 1.36-1.39x, 8->64 1.10-1.12x; 65-255 cells
            // 24->96 @14x14 1.12-1.13x, 16->64 @12x12 1.27-1.30x, 16->96 @15x15 1.15-1.18x, 8->32 @14x14 1.34-1.36x, 24->144
            // @10x10 1.03-1.05x, 16->48 @9x9 1.26-1.30x, 8->24 @9x9 1.49-1.52x. Not on four vectors (24->96 @8x8 0.94-0.98x: a
            // chunk of three and one of one), nor on planes of a multiple of 4096 cells (8->32 @64x64 0.96-0.97x, 3->16 @64x64
            // 1.03x). From 32 input channels they tied with 4-row tiles in place (32->64 @28x28 0.99-1.00x, 32->32 @56x56
            // 0.98-1.02x), but they take layers onto 9-31 output channels (NarrowOutput) and inputs in L2 that would otherwise be
            // copied (InPlaceTallPays), where they beat those.
            bool tallChunks = TallChunks && lanes == 16 && plane > 64
                && (inChannels < 32 && plane % 4096 != 0 || NarrowOutputTall && NarrowOutput(inChannels, outChannels) || inPlaceTall);
            if (tallChunks) tileRows = 8;
            int chunkVectors = tallChunks ? 3 : lanes == 8 ? Vectors256 : 4;
            if (ChunksOuter(inChannels, plane))
            {
                // Large planes with few channels one way (not copied in blocks): a chunk of cells at a time over every output
                // channel, its few input rows staying in L1, instead of the whole input read from L2 for each 4 output channels.
                // Not on planes of a multiple of 1024 cells, whose output rows (4 KB apart) fall into the same L1 sets.
                // KernelBench pointwise-order (2026-12-02, load 10-11, three runs, µs, chunks of cells outer / 4 channels outer):
                // 16->64 @56x56 40.7/47.0 45.0/48.9 60.4/68.0; 64->16 @56x56 34.0/36.9 38.9/41.1 45.4/55.2; 16->16 @56x56
                // 12.8/16.9 10.6/12.0 10.5/11.9; 24->144 @28x28 31.1/36.3 31.2/35.3 30.6/35.4; 24->24 @56x56, 96->24 @28x28,
                // 128->24 @16x16, 512->16 @16x16, 16->512 @16x16, 3->64 @56x56 within the noise (±10%); 8->32 @64x64 (4096 cells)
                // 28.0/21.2 26.4/23.0 26.5/21.8 and 16->96 @32x32 (1024) 34.2/34.5 32.5/32.2 27.0/27.7: the rows that alias.
                for (int first = 0; first < vectorCount;)
                {
                    var (cell0, vectors, last) = Chunk(first, vectorCount, covered, lanes, chunkVectors);
                    for (int oc = 0; oc < outChannels; oc += tileRows)
                    {
                        int rows = Math.Min(tileRows, outChannels - oc);
                        Rows(lanes, oc, rows, vectors, ref Unsafe.Add(ref xs, cell0), inChannels, plane, last, plane, ref ws, bias, b, clamp, ref Unsafe.Add(ref ys, cell0), last);
                    }
                    first += vectors;
                }
            }
            else
            {
                for (int oc = 0; oc < outChannels; oc += tileRows)
                {
                    int rows = Math.Min(tileRows, outChannels - oc);
                    for (int first = 0; first < vectorCount;)
                    {
                        var (cell0, vectors, last) = Chunk(first, vectorCount, covered, lanes, chunkVectors);
                        Rows(lanes, oc, rows, vectors, ref Unsafe.Add(ref xs, cell0), inChannels, plane, last, plane, ref ws, bias, b, clamp, ref Unsafe.Add(ref ys, cell0), last);
                        first += vectors;
                    }
                }
            }
            RemainingCells(ref xs, inChannels, plane, vectorCount * lanes, ref ws, bias, outChannels, clamp, ref ys, dotTail);
        }

        // The cells from `first` on that the vector tiles left: as dot products, or one at a time.
        private static void RemainingCells(ref float xs, int inChannels, int plane, int first, ref float ws, ReadOnlySpan<float> bias, int outChannels,
            OutputClamp clamp, ref float ys, bool dots)
        {
            if (first == plane) return;
            if (dots) DotCells(ref xs, inChannels, plane, first, ref ws, bias, outChannels, clamp, ref ys, wide: true);
            else ScalarCells(ref xs, inChannels, plane, first, ref ws, bias, outChannels, clamp, ref ys);
        }

        /// <summary>
        /// Vectors of cells in a Vector256 tile of 4 output channels: 3, 12 accumulators, 3 loads and a broadcast of the 16 ymm
        /// registers, where 4 (16 accumulators, 21 registers) spilled. Session 58 on Zen 3, the zoo's rounds alternated, 3 / 4:
        /// MobileNetV2-style at batch 1 0.87x, ResNet-50 0.83x, MnasNet-style 0.94x, EfficientNet-lite-style 0.98x; 2 vectors 0.96x.
        /// </summary>
        internal static int Vectors256 { get; set; } = 3;

        /// <summary>Whether a last partial vector of cells may run as dot products (KernelBench turns it off to compare).</summary>
        internal static bool DotTail = true;

        // A plane's last partial vector of cells as dot products over the input channels (DotCells) instead of a whole
        // overlapping vector: where it is a single cell (7x7, 9x9, 15x15 maps: an overlapping vector computes 16 cells for 1),
        // or 2-4 cells after 8+ whole vectors (14x14), from 64 input channels in whole vectors (the dot products' lanes).
        // KernelBench pointwise-eval (2026-12-02, load 12-36, four to eight runs, the overlapping vector / dot products): 128->256
        // @7x7 1.17-1.24x, 256->256 @7x7 1.18-1.29x, 128->512 @7x7 1.14-1.27x, 160->960 @7x7 1.20-1.30x (with TallThree), 64->64
        // @9x9 0.98-1.06x, 64->64 @15x15 0.97-1.06x; 14x14 with 64-256 channels 0.99-1.15x. Not where it lost: 4 cells after 2
        // whole vectors (64->48 @6x6 0.86x), 40 input channels (40->240 @10x10 0.69x: 8 of them one at a time), 9 cells left
        // (96->96 @5x5 0.53x, 48->48 @11x11 0.73x, 128->128 @13x13 0.86x).
        private static bool TailAsDots(int lanes, int plane, int inChannels)
        {
            int tail = plane % lanes;
            return lanes == 16 && plane > lanes && inChannels >= 64 && inChannels % 16 == 0 && (tail == 1 || (tail > 0 && tail <= 4 && plane >= 128));
        }

        /// <summary>Whether the cells past the last whole vector run as the plane's last vector, overlapping (else one at a time; KernelBench compares).</summary>
        internal static bool VectorTail = true;

        /// <summary>Whether planes of 256+ cells not copied in blocks run a chunk of cells over every output channel (KernelBench compares).</summary>
        internal static bool CellsOuter = true;

        /// <summary>Whether a plane of one or two vectors of cells runs 8-row tiles (KernelBench turns it off to compare).</summary>
        internal static bool TallTiles = true;

        /// <summary>Whether planes of 65+ cells with few input channels run 8-row tiles over chunks of three vectors (KernelBench compares).</summary>
        internal static bool TallChunks = true;

        /// <summary>Whether a plane of three vectors of cells runs 8-row tiles (24 accumulators) too (KernelBench turns it off to compare).</summary>
        internal static bool TallThree = true;

        // The chunk of up to four vectors of cells that starts at vector `first`: its first cell, its vectors, and where its last
        // vector starts (from cell0): the last lanes cells the vectors cover for the last chunk. Five left are taken as 3 + 2, not 4 + 1.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (int Cell0, int Vectors, int Last) Chunk(int first, int vectorCount, int covered, int lanes, int most = 4)
        {
            int left = vectorCount - first;
            int vectors = left == 5 && most == 4 ? 3 : left == 4 && most == 3 ? 2 : Math.Min(most, left);
            int cell0 = first * lanes;
            int last = first + vectors == vectorCount ? covered - lanes - cell0 : (vectors - 1) * lanes;
            return (cell0, vectors, last);
        }

        // Output channels oc .. oc + rows - 1 over one chunk of cells: an 8-row tile, or tiles of up to 4 rows.
        private static void Rows(int lanes, int oc, int rows, int vectors, ref float x, int inChannels, int xStride, int xLast, int plane,
            ref float ws, ReadOnlySpan<float> bias, Span<float> b, OutputClamp clamp, ref float y, int yLast)
        {
            for (int r = 0; r < rows; r++) b[r] = bias.IsEmpty ? 0f : bias[oc + r];
            ref float w = ref Unsafe.Add(ref ws, oc * inChannels);
            ref float o = ref Unsafe.Add(ref y, oc * plane);
            if (rows == 8)
            {
                if (vectors == 1) Tall512<C1>(ref x, inChannels, xStride, xLast, plane, ref w, b, clamp, ref o, yLast);
                else if (vectors == 2) Tall512<C2>(ref x, inChannels, xStride, xLast, plane, ref w, b, clamp, ref o, yLast);
                else Tall512<C3>(ref x, inChannels, xStride, xLast, plane, ref w, b, clamp, ref o, yLast);
                return;
            }
            for (int r0 = 0; r0 < rows; r0 += 4)
            {
                int part = Math.Min(4, rows - r0);
                ref float wr = ref Unsafe.Add(ref w, r0 * inChannels);
                ref float or = ref Unsafe.Add(ref o, r0 * plane);
                if (lanes == 16) Tile512(part, vectors, ref x, inChannels, xStride, xLast, plane, ref wr, b.Slice(r0), clamp, ref or, yLast);
                else Tile256(part, vectors, ref x, inChannels, xStride, xLast, plane, ref wr, b.Slice(r0), clamp, ref or, yLast);
            }
        }

        [ThreadStatic]
        private static AlignedBuffer? t_cells;

        // Planes narrower than a vector, and the last cells of a plane from `first` on (TailAsDots): each output a dot product of
        // its weight row with the cell's channels (x transposed into rows of inChannels first), two output channels x up to four
        // cells at a time, in 16 (or 8) lanes of partial sums reduced at the end, the inChannels % lanes tail added in order,
        // then the bias.
        private static void DotCells(ref float xs, int inChannels, int plane, int first, ref float ws, ReadOnlySpan<float> bias, int outChannels,
            OutputClamp clamp, ref float ys, bool wide)
        {
            int count = plane - first;
            var cells = t_cells;
            if (cells is null || cells.Length < count * inChannels) t_cells = cells = new AlignedBuffer(Math.Max(count * inChannels, 1024));
            ref float xt = ref MemoryMarshal.GetReference(cells.AsSpan());
            for (int c = 0; c < inChannels; c++)
            {
                for (int i = 0; i < count; i++) Unsafe.Add(ref xt, i * inChannels + c) = Unsafe.Add(ref xs, c * plane + first + i);
            }
            ys = ref Unsafe.Add(ref ys, first);
            for (int oc = 0; oc < outChannels; oc += 2)
            {
                int rows = Math.Min(2, outChannels - oc);
                ref float w0 = ref Unsafe.Add(ref ws, oc * inChannels);
                ref float w1 = ref Unsafe.Add(ref w0, (rows - 1) * inChannels); // a repeat of row 0 when it is the last, not stored
                for (int cell = 0; cell < count; cell += 4)
                {
                    int tile = Math.Min(4, count - cell);
                    ref float x0 = ref Unsafe.Add(ref xt, cell * inChannels);
                    ref float y0 = ref Unsafe.Add(ref ys, oc * plane + cell);
                    if (wide)
                    {
                        switch (tile)
                        {
                            case 1: Dot512<C1>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            case 2: Dot512<C2>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            case 3: Dot512<C3>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            default: Dot512<C4>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                        }
                    }
                    else
                    {
                        switch (tile)
                        {
                            case 1: Dot256<C1>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            case 2: Dot256<C2>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            case 3: Dot256<C3>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                            default: Dot256<C4>(ref x0, inChannels, ref w0, ref w1, rows, plane, bias, oc, clamp, ref y0); break;
                        }
                    }
                }
            }
        }

        private static void Dot512<TCells>(ref float xt, int inChannels, ref float w0, ref float w1, int rows, int plane, ReadOnlySpan<float> bias, int oc,
            OutputClamp clamp, ref float y) where TCells : struct, IConstant
        {
            int cells = TCells.Value;
            nint n = inChannels;
            Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            nint c = 0;
            for (; c <= n - 16; c += 16)
            {
                var a = Vector512.LoadUnsafe(ref w0, (nuint)c);
                var b = Vector512.LoadUnsafe(ref w1, (nuint)c);
                var x = Vector512.LoadUnsafe(ref xt, (nuint)c);
                s00 = Fused.MultiplyAdd(a, x, s00);
                s10 = Fused.MultiplyAdd(b, x, s10);
                if (cells > 1)
                {
                    x = Vector512.LoadUnsafe(ref xt, (nuint)(n + c));
                    s01 = Fused.MultiplyAdd(a, x, s01);
                    s11 = Fused.MultiplyAdd(b, x, s11);
                }
                if (cells > 2)
                {
                    x = Vector512.LoadUnsafe(ref xt, (nuint)(2 * n + c));
                    s02 = Fused.MultiplyAdd(a, x, s02);
                    s12 = Fused.MultiplyAdd(b, x, s12);
                }
                if (cells > 3)
                {
                    x = Vector512.LoadUnsafe(ref xt, (nuint)(3 * n + c));
                    s03 = Fused.MultiplyAdd(a, x, s03);
                    s13 = Fused.MultiplyAdd(b, x, s13);
                }
            }
            float b0 = bias.IsEmpty ? 0f : bias[oc], b1 = bias.IsEmpty || rows < 2 ? 0f : bias[oc + rows - 1];
            DotFinish(Vector512.Sum(s00), ref w0, ref xt, c, n, b0, clamp, ref y);
            if (cells > 1) DotFinish(Vector512.Sum(s01), ref w0, ref Unsafe.Add(ref xt, n), c, n, b0, clamp, ref Unsafe.Add(ref y, 1));
            if (cells > 2) DotFinish(Vector512.Sum(s02), ref w0, ref Unsafe.Add(ref xt, 2 * n), c, n, b0, clamp, ref Unsafe.Add(ref y, 2));
            if (cells > 3) DotFinish(Vector512.Sum(s03), ref w0, ref Unsafe.Add(ref xt, 3 * n), c, n, b0, clamp, ref Unsafe.Add(ref y, 3));
            if (rows < 2) return;
            ref float y1 = ref Unsafe.Add(ref y, plane);
            DotFinish(Vector512.Sum(s10), ref w1, ref xt, c, n, b1, clamp, ref y1);
            if (cells > 1) DotFinish(Vector512.Sum(s11), ref w1, ref Unsafe.Add(ref xt, n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 1));
            if (cells > 2) DotFinish(Vector512.Sum(s12), ref w1, ref Unsafe.Add(ref xt, 2 * n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 2));
            if (cells > 3) DotFinish(Vector512.Sum(s13), ref w1, ref Unsafe.Add(ref xt, 3 * n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 3));
        }

        private static void Dot256<TCells>(ref float xt, int inChannels, ref float w0, ref float w1, int rows, int plane, ReadOnlySpan<float> bias, int oc,
            OutputClamp clamp, ref float y) where TCells : struct, IConstant
        {
            int cells = TCells.Value;
            nint n = inChannels;
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            nint c = 0;
            for (; c <= n - 8; c += 8)
            {
                var a = Vector256.LoadUnsafe(ref w0, (nuint)c);
                var b = Vector256.LoadUnsafe(ref w1, (nuint)c);
                var x = Vector256.LoadUnsafe(ref xt, (nuint)c);
                s00 = Fused.MultiplyAdd(a, x, s00);
                s10 = Fused.MultiplyAdd(b, x, s10);
                if (cells > 1)
                {
                    x = Vector256.LoadUnsafe(ref xt, (nuint)(n + c));
                    s01 = Fused.MultiplyAdd(a, x, s01);
                    s11 = Fused.MultiplyAdd(b, x, s11);
                }
                if (cells > 2)
                {
                    x = Vector256.LoadUnsafe(ref xt, (nuint)(2 * n + c));
                    s02 = Fused.MultiplyAdd(a, x, s02);
                    s12 = Fused.MultiplyAdd(b, x, s12);
                }
                if (cells > 3)
                {
                    x = Vector256.LoadUnsafe(ref xt, (nuint)(3 * n + c));
                    s03 = Fused.MultiplyAdd(a, x, s03);
                    s13 = Fused.MultiplyAdd(b, x, s13);
                }
            }
            float b0 = bias.IsEmpty ? 0f : bias[oc], b1 = bias.IsEmpty || rows < 2 ? 0f : bias[oc + rows - 1];
            DotFinish(Vector256.Sum(s00), ref w0, ref xt, c, n, b0, clamp, ref y);
            if (cells > 1) DotFinish(Vector256.Sum(s01), ref w0, ref Unsafe.Add(ref xt, n), c, n, b0, clamp, ref Unsafe.Add(ref y, 1));
            if (cells > 2) DotFinish(Vector256.Sum(s02), ref w0, ref Unsafe.Add(ref xt, 2 * n), c, n, b0, clamp, ref Unsafe.Add(ref y, 2));
            if (cells > 3) DotFinish(Vector256.Sum(s03), ref w0, ref Unsafe.Add(ref xt, 3 * n), c, n, b0, clamp, ref Unsafe.Add(ref y, 3));
            if (rows < 2) return;
            ref float y1 = ref Unsafe.Add(ref y, plane);
            DotFinish(Vector256.Sum(s10), ref w1, ref xt, c, n, b1, clamp, ref y1);
            if (cells > 1) DotFinish(Vector256.Sum(s11), ref w1, ref Unsafe.Add(ref xt, n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 1));
            if (cells > 2) DotFinish(Vector256.Sum(s12), ref w1, ref Unsafe.Add(ref xt, 2 * n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 2));
            if (cells > 3) DotFinish(Vector256.Sum(s13), ref w1, ref Unsafe.Add(ref xt, 3 * n), c, n, b1, clamp, ref Unsafe.Add(ref y1, 3));
        }

        // The lanes' sum, the channels past the last whole vector added in order, then the bias; clamped and stored.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void DotFinish(float sum, ref float w, ref float xt, nint c, nint n, float bias, OutputClamp clamp, ref float y)
        {
            for (; c < n; c++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref w, c), Unsafe.Add(ref xt, c), sum);
            y = clamp.Apply(bias + sum);
        }

        // Every cell from `cell` on, one output at a time in the definition's order (planes narrower than a vector; the scalar path).
        private static void ScalarCells(ref float xs, int inChannels, int plane, int cell, ref float ws, ReadOnlySpan<float> bias, int outChannels,
            OutputClamp clamp, ref float ys)
        {
            for (int oc = 0; oc < outChannels; oc++)
            {
                ref float row = ref Unsafe.Add(ref ws, oc * inChannels);
                float start = bias.IsEmpty ? 0f : bias[oc];
                for (int i = cell; i < plane; i++)
                {
                    float sum = start;
                    for (int c = 0; c < inChannels; c++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref row, c), Unsafe.Add(ref xs, c * plane + i), sum);
                    Unsafe.Add(ref ys, oc * plane + i) = clamp.Apply(sum);
                }
            }
        }

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }

        // Specializes the tile for its rows and vectors, so each shape has its own registers.
        private static void Tile512(int rows, int vectors, ref float x, int inChannels, int xStride, int xLast, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y, int yLast)
        {
            switch (rows * 4 + vectors)
            {
                case 4 + 1: Tile512<C1, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 2: Tile512<C1, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 3: Tile512<C1, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 4: Tile512<C1, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 1: Tile512<C2, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 2: Tile512<C2, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 3: Tile512<C2, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 4: Tile512<C2, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 1: Tile512<C3, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 2: Tile512<C3, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 3: Tile512<C3, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 4: Tile512<C3, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 1: Tile512<C4, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 2: Tile512<C4, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 3: Tile512<C4, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                default: Tile512<C4, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
            }
        }

        private static void Tile256(int rows, int vectors, ref float x, int inChannels, int xStride, int xLast, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y, int yLast)
        {
            switch (rows * 4 + vectors)
            {
                case 4 + 1: Tile256<C1, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 2: Tile256<C1, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 3: Tile256<C1, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 4 + 4: Tile256<C1, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 1: Tile256<C2, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 2: Tile256<C2, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 3: Tile256<C2, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 8 + 4: Tile256<C2, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 1: Tile256<C3, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 2: Tile256<C3, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 3: Tile256<C3, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 12 + 4: Tile256<C3, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 1: Tile256<C4, C1>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 2: Tile256<C4, C2>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                case 16 + 3: Tile256<C4, C3>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
                default: Tile256<C4, C4>(ref x, inChannels, xStride, xLast, plane, ref w, bias, clamp, ref y, yLast); break;
            }
        }

        // TRows output channels x TVectors vectors of 16 cells; unused accumulators vanish at JIT time.
        private static void Tile512<TRows, TVectors>(ref float x, int inChannels, int xStride, int xLast, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y, int yLast)
            where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            int rows = TRows.Value, vectors = TVectors.Value;
            Vector512<float> a00, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            a00 = Vector512.Create(bias[0]);
            if (vectors > 1) a01 = a00;
            if (vectors > 2) a02 = a00;
            if (vectors > 3) a03 = a00;
            if (rows > 1) { a10 = Vector512.Create(bias[1]); a11 = a10; a12 = a10; a13 = a10; }
            if (rows > 2) { a20 = Vector512.Create(bias[2]); a21 = a20; a22 = a20; a23 = a20; }
            if (rows > 3) { a30 = Vector512.Create(bias[3]); a31 = a30; a32 = a30; a33 = a30; }
            // The tile's last vector of cells starts at xLast (the plane's last 16 cells where they overlap the vector before).
            nuint o0 = (nuint)(vectors == 1 ? xLast : 0), o1 = (nuint)(vectors == 2 ? xLast : 16), o2 = (nuint)(vectors == 3 ? xLast : 32), o3 = (nuint)xLast;
            for (int c = 0; c < inChannels; c++)
            {
                ref float xc = ref Unsafe.Add(ref x, c * xStride);
                var x0 = Vector512.LoadUnsafe(ref xc, o0);
                var x1 = vectors > 1 ? Vector512.LoadUnsafe(ref xc, o1) : default;
                var x2 = vectors > 2 ? Vector512.LoadUnsafe(ref xc, o2) : default;
                var x3 = vectors > 3 ? Vector512.LoadUnsafe(ref xc, o3) : default;
                var w0 = Vector512.Create(Unsafe.Add(ref w, c));
                a00 = Fused.MultiplyAdd(w0, x0, a00);
                if (vectors > 1) a01 = Fused.MultiplyAdd(w0, x1, a01);
                if (vectors > 2) a02 = Fused.MultiplyAdd(w0, x2, a02);
                if (vectors > 3) a03 = Fused.MultiplyAdd(w0, x3, a03);
                if (rows > 1)
                {
                    var w1 = Vector512.Create(Unsafe.Add(ref w, inChannels + c));
                    a10 = Fused.MultiplyAdd(w1, x0, a10);
                    if (vectors > 1) a11 = Fused.MultiplyAdd(w1, x1, a11);
                    if (vectors > 2) a12 = Fused.MultiplyAdd(w1, x2, a12);
                    if (vectors > 3) a13 = Fused.MultiplyAdd(w1, x3, a13);
                }
                if (rows > 2)
                {
                    var w2 = Vector512.Create(Unsafe.Add(ref w, 2 * inChannels + c));
                    a20 = Fused.MultiplyAdd(w2, x0, a20);
                    if (vectors > 1) a21 = Fused.MultiplyAdd(w2, x1, a21);
                    if (vectors > 2) a22 = Fused.MultiplyAdd(w2, x2, a22);
                    if (vectors > 3) a23 = Fused.MultiplyAdd(w2, x3, a23);
                }
                if (rows > 3)
                {
                    var w3 = Vector512.Create(Unsafe.Add(ref w, 3 * inChannels + c));
                    a30 = Fused.MultiplyAdd(w3, x0, a30);
                    if (vectors > 1) a31 = Fused.MultiplyAdd(w3, x1, a31);
                    if (vectors > 2) a32 = Fused.MultiplyAdd(w3, x2, a32);
                    if (vectors > 3) a33 = Fused.MultiplyAdd(w3, x3, a33);
                }
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            Store512(a00, a01, a02, a03, vectors, yLast, none, low, high, ref y);
            if (rows > 1) Store512(a10, a11, a12, a13, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, plane));
            if (rows > 2) Store512(a20, a21, a22, a23, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 2 * plane));
            if (rows > 3) Store512(a30, a31, a32, a33, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 3 * plane));
        }

        // 8 output channels x TVectors (1-3) vectors of 16 cells: 8-24 accumulators where a plane has no more cells.
        private static void Tall512<TVectors>(ref float x, int inChannels, int xStride, int xLast, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y, int yLast)
            where TVectors : struct, IConstant
        {
            int vectors = TVectors.Value;
            Vector512<float> a0 = Vector512.Create(bias[0]), a1 = Vector512.Create(bias[1]), a2 = Vector512.Create(bias[2]), a3 = Vector512.Create(bias[3]);
            Vector512<float> a4 = Vector512.Create(bias[4]), a5 = Vector512.Create(bias[5]), a6 = Vector512.Create(bias[6]), a7 = Vector512.Create(bias[7]);
            Vector512<float> b0 = a0, b1 = a1, b2 = a2, b3 = a3, b4 = a4, b5 = a5, b6 = a6, b7 = a7;
            Vector512<float> c0 = a0, c1 = a1, c2 = a2, c3 = a3, c4 = a4, c5 = a5, c6 = a6, c7 = a7;
            nuint o0 = (nuint)(vectors == 1 ? xLast : 0), o1 = (nuint)(vectors == 2 ? xLast : 16), o2 = (nuint)xLast;
            nint n = inChannels;
            for (int c = 0; c < inChannels; c++)
            {
                ref float xc = ref Unsafe.Add(ref x, c * xStride);
                ref float wc = ref Unsafe.Add(ref w, c);
                var x0 = Vector512.LoadUnsafe(ref xc, o0);
                var x1 = vectors > 1 ? Vector512.LoadUnsafe(ref xc, o1) : default;
                var x2 = vectors > 2 ? Vector512.LoadUnsafe(ref xc, o2) : default;
                var v = Vector512.Create(wc);
                a0 = Fused.MultiplyAdd(v, x0, a0);
                if (vectors > 1) b0 = Fused.MultiplyAdd(v, x1, b0);
                if (vectors > 2) c0 = Fused.MultiplyAdd(v, x2, c0);
                v = Vector512.Create(Unsafe.Add(ref wc, n));
                a1 = Fused.MultiplyAdd(v, x0, a1);
                if (vectors > 1) b1 = Fused.MultiplyAdd(v, x1, b1);
                if (vectors > 2) c1 = Fused.MultiplyAdd(v, x2, c1);
                v = Vector512.Create(Unsafe.Add(ref wc, 2 * n));
                a2 = Fused.MultiplyAdd(v, x0, a2);
                if (vectors > 1) b2 = Fused.MultiplyAdd(v, x1, b2);
                if (vectors > 2) c2 = Fused.MultiplyAdd(v, x2, c2);
                v = Vector512.Create(Unsafe.Add(ref wc, 3 * n));
                a3 = Fused.MultiplyAdd(v, x0, a3);
                if (vectors > 1) b3 = Fused.MultiplyAdd(v, x1, b3);
                if (vectors > 2) c3 = Fused.MultiplyAdd(v, x2, c3);
                v = Vector512.Create(Unsafe.Add(ref wc, 4 * n));
                a4 = Fused.MultiplyAdd(v, x0, a4);
                if (vectors > 1) b4 = Fused.MultiplyAdd(v, x1, b4);
                if (vectors > 2) c4 = Fused.MultiplyAdd(v, x2, c4);
                v = Vector512.Create(Unsafe.Add(ref wc, 5 * n));
                a5 = Fused.MultiplyAdd(v, x0, a5);
                if (vectors > 1) b5 = Fused.MultiplyAdd(v, x1, b5);
                if (vectors > 2) c5 = Fused.MultiplyAdd(v, x2, c5);
                v = Vector512.Create(Unsafe.Add(ref wc, 6 * n));
                a6 = Fused.MultiplyAdd(v, x0, a6);
                if (vectors > 1) b6 = Fused.MultiplyAdd(v, x1, b6);
                if (vectors > 2) c6 = Fused.MultiplyAdd(v, x2, c6);
                v = Vector512.Create(Unsafe.Add(ref wc, 7 * n));
                a7 = Fused.MultiplyAdd(v, x0, a7);
                if (vectors > 1) b7 = Fused.MultiplyAdd(v, x1, b7);
                if (vectors > 2) c7 = Fused.MultiplyAdd(v, x2, c7);
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            Store512(a0, b0, c0, default, vectors, yLast, none, low, high, ref y);
            Store512(a1, b1, c1, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, plane));
            Store512(a2, b2, c2, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 2 * plane));
            Store512(a3, b3, c3, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 3 * plane));
            Store512(a4, b4, c4, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 4 * plane));
            Store512(a5, b5, c5, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 5 * plane));
            Store512(a6, b6, c6, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 6 * plane));
            Store512(a7, b7, c7, default, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 7 * plane));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store512(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, int vectors, int last,
            bool none, Vector512<float> low, Vector512<float> high, ref float y)
        {
            OutputClamp.Store(v0, none, low, high, ref Unsafe.Add(ref y, vectors == 1 ? last : 0));
            if (vectors > 1) OutputClamp.Store(v1, none, low, high, ref Unsafe.Add(ref y, vectors == 2 ? last : 16));
            if (vectors > 2) OutputClamp.Store(v2, none, low, high, ref Unsafe.Add(ref y, vectors == 3 ? last : 32));
            if (vectors > 3) OutputClamp.Store(v3, none, low, high, ref Unsafe.Add(ref y, last));
        }

        // The same tile on Vector256: TRows output channels x TVectors vectors of 8 cells.
        private static void Tile256<TRows, TVectors>(ref float x, int inChannels, int xStride, int xLast, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y, int yLast)
            where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            int rows = TRows.Value, vectors = TVectors.Value;
            Vector256<float> a00, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            a00 = Vector256.Create(bias[0]);
            if (vectors > 1) a01 = a00;
            if (vectors > 2) a02 = a00;
            if (vectors > 3) a03 = a00;
            if (rows > 1) { a10 = Vector256.Create(bias[1]); a11 = a10; a12 = a10; a13 = a10; }
            if (rows > 2) { a20 = Vector256.Create(bias[2]); a21 = a20; a22 = a20; a23 = a20; }
            if (rows > 3) { a30 = Vector256.Create(bias[3]); a31 = a30; a32 = a30; a33 = a30; }
            // The tile's last vector of cells starts at xLast (the plane's last 8 cells where they overlap the vector before).
            nuint o0 = (nuint)(vectors == 1 ? xLast : 0), o1 = (nuint)(vectors == 2 ? xLast : 8), o2 = (nuint)(vectors == 3 ? xLast : 16), o3 = (nuint)xLast;
            for (int c = 0; c < inChannels; c++)
            {
                ref float xc = ref Unsafe.Add(ref x, c * xStride);
                var x0 = Vector256.LoadUnsafe(ref xc, o0);
                var x1 = vectors > 1 ? Vector256.LoadUnsafe(ref xc, o1) : default;
                var x2 = vectors > 2 ? Vector256.LoadUnsafe(ref xc, o2) : default;
                var x3 = vectors > 3 ? Vector256.LoadUnsafe(ref xc, o3) : default;
                var w0 = Vector256.Create(Unsafe.Add(ref w, c));
                a00 = Fused.MultiplyAdd(w0, x0, a00);
                if (vectors > 1) a01 = Fused.MultiplyAdd(w0, x1, a01);
                if (vectors > 2) a02 = Fused.MultiplyAdd(w0, x2, a02);
                if (vectors > 3) a03 = Fused.MultiplyAdd(w0, x3, a03);
                if (rows > 1)
                {
                    var w1 = Vector256.Create(Unsafe.Add(ref w, inChannels + c));
                    a10 = Fused.MultiplyAdd(w1, x0, a10);
                    if (vectors > 1) a11 = Fused.MultiplyAdd(w1, x1, a11);
                    if (vectors > 2) a12 = Fused.MultiplyAdd(w1, x2, a12);
                    if (vectors > 3) a13 = Fused.MultiplyAdd(w1, x3, a13);
                }
                if (rows > 2)
                {
                    var w2 = Vector256.Create(Unsafe.Add(ref w, 2 * inChannels + c));
                    a20 = Fused.MultiplyAdd(w2, x0, a20);
                    if (vectors > 1) a21 = Fused.MultiplyAdd(w2, x1, a21);
                    if (vectors > 2) a22 = Fused.MultiplyAdd(w2, x2, a22);
                    if (vectors > 3) a23 = Fused.MultiplyAdd(w2, x3, a23);
                }
                if (rows > 3)
                {
                    var w3 = Vector256.Create(Unsafe.Add(ref w, 3 * inChannels + c));
                    a30 = Fused.MultiplyAdd(w3, x0, a30);
                    if (vectors > 1) a31 = Fused.MultiplyAdd(w3, x1, a31);
                    if (vectors > 2) a32 = Fused.MultiplyAdd(w3, x2, a32);
                    if (vectors > 3) a33 = Fused.MultiplyAdd(w3, x3, a33);
                }
            }
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            bool none = clamp.IsNone;
            Store256(a00, a01, a02, a03, vectors, yLast, none, low, high, ref y);
            if (rows > 1) Store256(a10, a11, a12, a13, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, plane));
            if (rows > 2) Store256(a20, a21, a22, a23, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 2 * plane));
            if (rows > 3) Store256(a30, a31, a32, a33, vectors, yLast, none, low, high, ref Unsafe.Add(ref y, 3 * plane));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store256(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, int vectors, int last,
            bool none, Vector256<float> low, Vector256<float> high, ref float y)
        {
            OutputClamp.Store(v0, none, low, high, ref Unsafe.Add(ref y, vectors == 1 ? last : 0));
            if (vectors > 1) OutputClamp.Store(v1, none, low, high, ref Unsafe.Add(ref y, vectors == 2 ? last : 8));
            if (vectors > 2) OutputClamp.Store(v2, none, low, high, ref Unsafe.Add(ref y, vectors == 3 ? last : 16));
            if (vectors > 3) OutputClamp.Store(v3, none, low, high, ref Unsafe.Add(ref y, last));
        }
    }
}
