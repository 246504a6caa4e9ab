using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-2 3x3 convolution by Winograd's method on the Vector512 path (the 4x4 tile on Vector256 too:
    /// StridedWinogradConvolution.Vector256.cs), through the polyphase split: 81 multiplications
    /// per 4x4 output tile and input channel instead of 144 (5.06 per output instead of 9), or 25 per 2x2 tile instead of 36
    /// (6.25), or 45 per 2x4 tile (5.63). The filters are transformed once per weight change (<see cref="TransformFilters"/>); <see cref="TileFor"/> says
    /// where which tile measured faster than StridedConvolution's direct kernels.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Along one axis, y[i] = g0·d[2i] + g1·d[2i+1] + g2·d[2i+2]: a stride-1 two-tap convolution of the even samples with
    /// (g0, g2), Winograd's F(4, 2) (points 0, 1, −1, 2, ∞: 5 products for 4 outputs), plus g1 times the odd samples (4
    /// products, no transform). So a 4-output tile reads a 9-sample window d0..d8 and has 9 "positions": the 1-D transforms
    /// are block diagonal,
    /// Bᵀ: positions 0..4 = B₂ᵀ (d0, d2, d4, d6, d8), positions 5..8 = (d1, d3, d5, d7);
    /// G: positions 0..4 = G₂ (g0, g2), positions 5..8 = g1;
    /// Aᵀ: y = A₂ᵀ m[0..4] + m[5..8];
    /// with B₂ᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1], G₂ = [1/2 0; 1/2 1/2; 1/6 −1/6; 1/6 1/3;
    /// 0 1], A₂ᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 0; 0 1 −1 8 1]. In two dimensions the transforms apply along rows and
    /// columns: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A over 9x9 windows (stride 8) of the zero-padded input, which is the sum of
    /// the four phase convolutions (2x2, 2x1, 1x2 and 1x1 kernels: F(4x4, 2x2), F(4, 2) twice, and the plain product).
    /// The 2x2 tile is the same with F(2, 2) (points 0, 1, ∞): 5x5 windows (stride 4), B₂ᵀ = [1 −1 0; 0 1 0; 0 −1 1],
    /// G₂ = [1 0; 1 1; 0 1], A₂ᵀ = [1 1 0; 0 1 1].
    /// </para>
    /// <para>
    /// Everything else is <see cref="WinogradF4Convolution"/>'s: channels in the vector lanes, the input padded as
    /// [group][row][column][16 channels], V[position][group][tile][16], the 81 (25) GEMMs by its register tiles, the output
    /// transform adding the bias and applying ReLU in lanes, and the last 16x16 transposes to NCHW.
    /// </para>
    /// <para>
    /// Precision: the 4x4 tile's constants are at most 3 (Bᵀ) and 8 (Aᵀ) and 1/6 (G), as in F(4x4, 3x3) stride 1: an fp32
    /// result is within ~1e-5 of the sum of the magnitudes of the products (StridedWinogradConvolutionTests); the 2x2 tile's
    /// are ±1.
    /// </para>
    /// </remarks>
    internal static partial class StridedWinogradConvolution
    {
        private const int V = 16;

        /// <summary>The tile of 2 output rows x 4 columns (<see cref="Layout"/>'s tile argument).</summary>
        public const int Wide = 24;
        // Unpack's 1,024 floats, the most any step takes: the 2x4 tile's input row pass keeps 5 x 5 vectors, Pad 2 x 256
        // floats (the 4x4 tile's transforms keep their rows in registers).
        private const int StagingVectors = 64;

        /// <summary>Tiles a chunk takes instead of the rule's (0: the rule); KernelBench sets it to compare.</summary>
        internal static int ChunkTilesOverride { get; set; }

        internal readonly partial struct Layout
        {
            public readonly int InChannels, Height, Width, OutChannels, Padding, OutHeight, OutWidth, Tile, Positions;
            /// <summary>Outputs per tile down and across (4 and 4, 2 and 2, or 2 and 4 for <see cref="Wide"/>), and the windows' sides.</summary>
            public readonly int TileHeight, TileWidth, WindowHeight, WindowWidth;
            public readonly int TileRows, TileColumns, Tiles, InGroups, OutGroups, OutLanes;
            public readonly int PaddedHeight, PaddedWidth, PaddedGroupStride, ChunkTiles, Chunks;
            public readonly int TransformedGroupStride, TransformedPositionStride, ProductTileStride, FilterPositionStride, OutputGroupStride;
            public readonly int PaddedLength, TransformedLength, ProductLength, OutputLength;
            /// <summary>
            /// Transformed filters stored, fewer than <see cref="Positions"/>: along each axis every odd position's G row is
            /// the middle tap alone, so the positions of a window row (column) past its evens share one filter; the 4x4
            /// tile's 81 positions have 36, the 2x2 tile's 25 have 16, the 2x4 tile's 45 have 24.
            /// </summary>
            public readonly int FilterSlots;
            /// <summary>Each position's filter slot (<see cref="FilterSlots"/> of them), by position.</summary>
            internal readonly byte[] SlotOfPosition;
            /// <summary>Samples whose tiles make one GEMM (<see cref="ForwardSamples"/>): all their tiles in one chunk.</summary>
            public readonly int Samples;

            // tile: outputs per tile side, 4 (F(4, 2) on the even samples, 9x9 windows, 81 positions) or 2 (F(2, 2), 5x5 windows,
            // 25 positions: more products per output, 6.25 instead of 5.06, but filters a third the size and cheaper transforms),
            // or Wide: 2 rows of 4 (F(2, 2) down, F(4, 2) across, 5x9 windows, 45 positions: 5.63 products per output, twice
            // the 2x2 tile's outputs per tile, filters 1.8x its size).
            // samples: how many samples' tiles ForwardSamples puts side by side (1: a sample at a time, in chunks of tiles).
            public Layout(int inChannels, int height, int width, int outChannels, int padding, int tile = 4, int samples = 1)
            {
                if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples));
                if (tile != 2 && tile != 4 && tile != Wide) throw new ArgumentOutOfRangeException(nameof(tile), tile, "The tile is 2x2, 4x4 or Wide (2x4).");
                if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels));
                if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
                if (padding < 0 || height + 2 * padding < 3 || width + 2 * padding < 3)
                    throw new ArgumentOutOfRangeException(nameof(padding), padding, "The 3x3 kernel does not fit the padded input.");
                InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels; Padding = padding;
                OutHeight = (height + 2 * padding - 3) / 2 + 1;
                OutWidth = (width + 2 * padding - 3) / 2 + 1;
                Tile = tile;
                TileHeight = tile == Wide ? 2 : tile;
                TileWidth = tile == Wide ? 4 : tile;
                WindowHeight = 2 * TileHeight + 1; WindowWidth = 2 * TileWidth + 1;
                Positions = WindowHeight * WindowWidth;
                SlotOfPosition = SharedFiltersOff ? Identity(tile) : SharedSlots(tile);
                FilterSlots = SlotOfPosition[Positions - 1] + 1;
                TileRows = (OutHeight + TileHeight - 1) / TileHeight;
                TileColumns = (OutWidth + TileWidth - 1) / TileWidth;
                Tiles = TileRows * TileColumns;
                InGroups = (inChannels + V - 1) / V;
                OutGroups = (outChannels + V - 1) / V;
                OutLanes = OutGroups * V;
                // Every tile's window lies inside the buffer, and so does every input cell (with an odd padded size
                // the last padded row or column is read by no output: it is stored all the same).
                PaddedHeight = Math.Max(2 * TileHeight * TileRows + 1, height + padding);
                PaddedWidth = Math.Max(2 * TileWidth * TileColumns + 1, width + padding);
                PaddedGroupStride = PaddedHeight * PaddedWidth * V;
                PaddedLength = InGroups * PaddedGroupStride;
                int perTile = Positions * (InGroups * V + OutLanes);
                (ChunkTiles, Chunks) = WinogradF4Convolution.Chunking(Tiles, perTile, ChunkTilesOverride);
                Samples = samples;
                if (samples > 1)
                {
                    // The samples' tiles in one chunk: one sample alone (ForwardLinked) runs its tiles as one chunk too.
                    Chunks = 1;
                    ChunkTiles = Tiles * samples;
                }
                // One vector more than the data between positions: strides of a multiple of 4 KB would share L1 sets.
                TransformedGroupStride = ChunkTiles * V;
                TransformedPositionStride = InGroups * TransformedGroupStride + V;
                TransformedLength = Positions * TransformedPositionStride;
                // M is [tile][position][oc lanes]: the output transform reads a tile's positions front to back.
                ProductTileStride = Positions * OutLanes + V;
                ProductLength = ChunkTiles * ProductTileStride;
                FilterPositionStride = inChannels * OutLanes + V;
                OutputGroupStride = OutHeight * OutWidth * V;
                OutputLength = OutGroups * OutputGroupStride + V * V; // the last transpose reads up to 15 cells past the end
            }

            /// <summary>This layer's padded input, as the layer before writes it when linked.</summary>
            internal WinogradF4Convolution.PaddedMaps Maps => new(InChannels, Height, Width, Padding, PaddedWidth, PaddedGroupStride, PaddedLength);

            /// <summary>Floats of the transformed filters U[slot][input channel][output channel lanes].</summary>
            public int FiltersLength => FilterSlots * FilterPositionStride;

            // The transforms' intermediates, Pad's and Unpack's blocks (64 vectors), the bias in lanes, the channel sums, then the buffers.
            internal int StagingLength => BiasOffset + 2 * OutLanes;

            // The channel sums of a forward pass that ends in their means (after the bias lanes).
            internal int SumsOffset => BiasOffset + OutLanes;

            internal const int BiasOffset = StagingVectors * V;

            /// <summary>Floats of scratch <see cref="Forward"/> needs (with up to 15 skipped to start its buffers on a cache line).</summary>
            public int ScratchLength => StagingLength + PaddedLength + TransformedLength + ProductLength + OutputLength + V;
        }

        /// <summary>Every position its own filter slot, as before the slots were shared (KernelBench sets it to compare).</summary>
        internal static bool SharedFiltersOff { get; set; }

        private static readonly byte[] Slots4 = Slots(9, 5, 9, 5), Slots2 = Slots(5, 3, 5, 3), SlotsWide = Slots(5, 3, 9, 5);
        private static readonly byte[] Identity4 = Slots(9, 9, 9, 9), Identity2 = Slots(5, 5, 5, 5), IdentityWide = Slots(5, 5, 9, 9);

        private static byte[] SharedSlots(int tile) => tile == 4 ? Slots4 : tile == 2 ? Slots2 : SlotsWide;

        private static byte[] Identity(int tile) => tile == 4 ? Identity4 : tile == 2 ? Identity2 : IdentityWide;

        // Position (a, b) of a down x across window takes slot (min(a, evens down), min(b, evens across)): the evens their own,
        // the odd ones one slot per axis (evens = the window: every position its own).
        private static byte[] Slots(int down, int evensDown, int across, int evensAcross)
        {
            int slotsAcross = Math.Min(evensAcross + 1, across);
            var slots = new byte[down * across];
            for (int a = 0; a < down; a++)
                for (int b = 0; b < across; b++) slots[a * across + b] = (byte)(Math.Min(a, evensDown) * slotsAcross + Math.Min(b, evensAcross));
            return slots;
        }

        /// <summary>Where it measured faster than StridedConvolution's direct kernels (see <see cref="TileFor"/>).</summary>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int padding) => TileFor(inChannels, height, width, outChannels, padding) != 0;

        // Below these the direct kernels tie or win: 3 and 8 channels in 0.2-0.6x. 16 channels in tied (0.91-1.13x) until the
        // buffers started on cache lines (session 6): since then the 4x4 tile 1.20-1.24x on 16x16 and 32x32 outputs, the 2x4
        // tile 1.23-1.25x on 8x8, the 2x2 tile 1.06-1.07x on 4x4 (two runs, load 12-17).
        private const int MinimumInChannels = 16, MinimumOutChannels = 32;

        // Cin·Cout up to which the 2x4 tile's filters (45·Cin·Cout floats, 830 KB at 4608) stay in the 1 MB L2. Measured before
        // the positions shared filter slots (24·Cin·Cout floats now); in the strided network's chain (KernelBench strided-chain)
        // its 64 -> 128 layer on the 2x4 tile, above the limit, tied with the 2x2 tile (0.97-1.05x), so the limit stands.
        private const int MaximumWideFilters = 4608;

        // Cin·Cout up to which outputs of 16 to 63 cells pay: where 512-bit multiply-adds run at half rate (Zen 4, session 47)
        // 131072 (the 4x4 tile on 7x7 1.11-1.12x at 256 -> 512 and 512 -> 256, 0.94x at 512 -> 512; the 2x2 tile on 4x4 and
        // 6x6 1.18-1.25x even at 512 -> 512, kept under the same limit); elsewhere session 11's 8192, the 2x2 tile's filters
        // within the L2, where a full-rate direct kernel (twice as fast against the same filter bytes) was measured.
        private const long MaximumSmallOutputFiltersHalfRate = 131072, MaximumSmallOutputFilters = 8192;

        /// <summary>Cin·Cout up to which <see cref="TileFor"/> takes the 2x4 tile instead of <see cref="MaximumWideFilters"/> (0: that); KernelBench raises it to compare.</summary>
        internal static long WideFiltersLimit { get; set; }

        /// <summary>The tile for outputs under 256 cells instead of the rule's (−1: the rule; 0: the direct kernels); KernelBench sets it to compare.</summary>
        internal static int SmallOutputTileOverride { get; set; } = -1;

        /// <summary>
        /// The tile (4, 2 or <see cref="Wide"/>) that measured faster than the direct kernels for this shape, or 0 where they
        /// win. Measured with KernelBench <c>strided-winograd</c> (26 shapes, 3x3 stride 2 pad 1 + ReLU, weights prepared
        /// once, interleaved minima; the table in benchmarks/README.md): from 16 channels in and 32 out,
        /// outputs of 256 cells or more (16x16, 32x32): the 4x4 tile, 1.08-1.29x (the 2x2 tile 1.04-1.15x);
        /// outputs of 64 to 255 cells (8x8): where the 2x4 tiles cover the output as exactly as the 2x2 ones (width a multiple
        /// of 4) and their filters (45·Cin·Cout floats) stay in L2, Cin·Cout ≤ 4608, the 2x4 tile: 1.19-1.43x against the 2x2
        /// tile's 1.01-1.28x over 9 shapes (8x8 and 12x12, 24 to 96 channels; session 6, the table in benchmarks/README.md);
        /// the 2x2 tile where the 2x4 ones do not fit; above 4608 the 4x4 tile, since its filters are read block by block
        /// (FilterAt, session 37: 64 -> 128 1.31x against the 2x2 tile's 1.28x and 1.04x in the strided network's chain,
        /// 128 -> 128 1.46x against 1.30x, 128 -> 256 1.43x against 1.29x; before that 4 tiles could not share the filters
        /// streamed from the L3, 0.92-1.19x), unless the 2x2 tiles cover the output so much more closely that the 4x4 tile's
        /// own lead, about 1.2x on whole tiles (8x8, 11x11, 12x12), does not make up for it (session 47: 9x9 1.08-1.12x against
        /// 0.93x, 10x10 1.33-1.37x against 1.14-1.16x, 13x13 1.14x against 1.06x, 14x14 1.29-1.36x against 1.18-1.23x);
        /// outputs of 16 to 63 cells (session 47 on Zen 4, 27 shapes, the table in benchmarks/README.md), up to Cin·Cout 8192
        /// (131072 where 512-bit multiply-adds run at half rate, <see cref="Simd.HalfRateVector512"/>): where the 2x2 tiles
        /// cover the output exactly (both sides even: 4x4, 6x6), the 2x2 tile, 1.25-1.40x from 16 -> 32 to 512 -> 512; where the
        /// 4x4 tiles' cells are at least three in four real (7x7 as 8x8), the 4x4 tile, 1.03-1.25x (the 2x2 tile 0.93-1.06x);
        /// else (5x5: the 2x2 tile 0.97-0.99x, the 4x4 0.67-0.69x; 7x7 at 512 -> 512: 0.94-0.98x for all three) the direct kernels;
        /// smaller outputs (2x2, 3x3): the direct kernels (the 2x2 tile 0.4-0.9x).
        /// </summary>
        public static int TileFor(int inChannels, int height, int width, int outChannels, int padding) =>
            TileForRate(inChannels, height, width, outChannels, padding, Simd.HalfRateVector512);

        /// <summary><see cref="TileFor"/> for a unit whose 512-bit multiply-adds run at half rate or not (tests ask both).</summary>
        internal static int TileForRate(int inChannels, int height, int width, int outChannels, int padding, bool halfRateVector512)
        {
            if (!Runs || inChannels < MinimumInChannels || outChannels < MinimumOutChannels || padding < 0
                || height + 2 * padding < 3 || width + 2 * padding < 3) return 0;
            int outputHeight = (height + 2 * padding - 3) / 2 + 1, outputWidth = (width + 2 * padding - 3) / 2 + 1;
            if (!Vector512Here) return TileFor256(inChannels, outChannels, outputHeight, outputWidth);
            int cells = outputHeight * outputWidth;
            if (cells >= 256) return 4;
            if (SmallOutputTileOverride >= 0) return SmallOutputTileOverride;
            if (cells >= 64)
            {
                bool small = (long)inChannels * outChannels <= (WideFiltersLimit > 0 ? WideFiltersLimit : MaximumWideFilters);
                if (small) return outputWidth % 4 == 0 ? Wide : 2;
                return 6 * Covered(outputHeight, outputWidth, 2) >= 5 * Covered(outputHeight, outputWidth, 4) ? 4 : 2;
            }
            long filters = (long)inChannels * outChannels;
            if (cells < 16 || filters > (halfRateVector512 ? MaximumSmallOutputFiltersHalfRate : MaximumSmallOutputFilters)) return 0;
            if (outputHeight % 2 == 0 && outputWidth % 2 == 0) return 2;
            return MostlyRealIn4x4(outputHeight, outputWidth) ? 4 : 0;
        }

        // The output cells tiles of side `tile` compute, the partial ones at the bottom and right whole.
        private static int Covered(int outputHeight, int outputWidth, int tile) => (outputHeight + tile - 1) / tile * ((outputWidth + tile - 1) / tile) * tile * tile;

        /// <summary>Whether at least three in four of the cells the 4x4 tiles compute on this output are real (the rules' bar for the 4x4 tile).</summary>
        internal static bool MostlyRealIn4x4(int outputHeight, int outputWidth) => 4 * outputHeight * outputWidth >= 3 * Covered(outputHeight, outputWidth, 4);

        /// <summary>Whether this process can run the kernel at all: AVX-512 with SIMD enabled.</summary>
        public static bool Available => Simd.Enabled && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

        /// <summary>
        /// U = G g Gᵀ (9x9) of each 3x3 filter of a PyTorch-layout weight [outChannels x inChannels x 3 x 3], into
        /// <paramref name="filters"/> (<see cref="Layout.FiltersLength"/> floats); the lanes past the last output channel
        /// are zero. Once per weight change, and once per pass in training (StridedConvolution.Prepare); computed in double
        /// for 8 output channels at a time (the same operations in the same order as one filter at a time: the same floats),
        /// allocates nothing.
        /// </summary>
        public static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in Layout l) => TransformFilterSlots(weight, filters, l, transposed: false);

        // transposed: U[slot][output channel][input channel lanes] for the input gradient (TransformFiltersTransposed): the
        // same filters, the roles of the two channel axes swapped ("in" below is then the output channels).
        private static unsafe void TransformFilterSlots(ReadOnlySpan<float> weight, Span<float> filters, in Layout l, bool transposed)
        {
            Require(weight.Length >= l.OutChannels * l.InChannels * 9, nameof(weight));
            int length = transposed ? l.TransposedFiltersLength : l.FiltersLength;
            Require(filters.Length >= length, nameof(filters));
            // Pinned for the streaming stores (Streaming), which take an address.
            bool stream = Streaming.Pays(length);
            fixed (float* pinned = filters)
                TransformFilterSlots(weight, pinned, l, transposed, stream);
            if (stream) Streaming.Fence();
        }

        private static unsafe void TransformFilterSlots(ReadOnlySpan<float> weight, float* f0, in Layout l, bool transposed, bool stream)
        {
            int windowHeight = l.WindowHeight, windowWidth = l.WindowWidth;
            int stride = transposed ? l.TransposedFilterPositionStride : l.FilterPositionStride;
            int inChannels = transposed ? l.OutChannels : l.InChannels, outChannels = transposed ? l.InChannels : l.OutChannels;
            int outLanes = (outChannels + V - 1) / V * V;
            Span<float> taps = stackalloc float[V * V]; // [tap][lane], 9 taps used (a 16x16 transpose writes 16)
            // Per half of 8 lanes: g[k], then rows[a][j] = (G g)[a][j], then u[b] of one row a.
            Span<Vector512<double>> g = stackalloc Vector512<double>[2 * 9];
            Span<Vector512<double>> rows = stackalloc Vector512<double>[2 * 9 * 3];
            Span<Vector512<double>> column = stackalloc Vector512<double>[9];
            Span<Vector512<double>> u = stackalloc Vector512<double>[2 * 9];
            ref float t0 = ref MemoryMarshal.GetReference(taps);
            int laneStride = transposed ? 9 : inChannels * 9;
            var laneOffsets = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * laneStride; // lane l: l·laneStride
            // Blocks of 16 output channels outside: each lane then reads its weights [inChannels][9] front to back.
            for (int block = 0; block < outLanes; block += V)
            {
                int lanes = Math.Min(V, outChannels - block);
                if (lanes < V) taps.Clear();
                // A whole block takes each tap's 16 weights at once (lane l from output channel block + l): by the 16x16
                // transpose below (session 34, KernelBench strided-prepare: 64 -> 128 on the 2x2 tile 124 -> 107 µs with
                // ApplyG inlined), or gathered where that would read past the weights (at first all gathered: KernelBench
                // strided-over-batch's PrepareGroup, 64 -> 128 onto 4x4 213 -> 140 µs, 128 -> 256 onto 2x2 583 -> 550).
                bool wholeBlock = lanes == V;
                // Where row ic of this block's lanes lies in a slot's filters: FilterAt is linear in the row, so its divisions run
                // once a block instead of once a store (they were a third of the transform: KernelBench strided-prepare).
                int blockOrigin = WinogradF4Convolution.FilterAt(0, block, inChannels, outLanes / V);
                int rowStride = WinogradF4Convolution.FilterAt(1, block, inChannels, outLanes / V) - blockOrigin;
                for (int ic = 0; ic < inChannels; ic++)
                {
                    int first = (transposed ? ic * outChannels + block : block * inChannels + ic) * 9;
                    if (!wholeBlock)
                    {
                        // A last partial block: its lanes' taps copied one float at a time, the lanes past it zero.
                        for (int lane = 0; lane < lanes; lane++)
                        {
                            var source = weight.Slice(first + lane * laneStride, 9);
                            for (int k = 0; k < 9; k++) taps[k * V + lane] = source[k];
                        }
                    }
                    // A whole block's 16 rows of 9 taps turned into [tap][lane] by one 16x16 register transpose (its last 7
                    // columns are the next taps, unused), where the last row's 16 floats lie inside the weights and the
                    // transpose's AVX-512 shuffles run (the transform itself runs anywhere: tests call it without); else gathered.
                    bool turned = wholeBlock && Avx512F.IsSupported && first + (V - 1) * laneStride + V <= weight.Length;
                    if (turned) DirectConvolution.Transpose16(ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), first), laneStride, ref t0);
                    for (int k = 0; k < 9; k++)
                    {
                        var tap = wholeBlock && !turned ? GatherTap(weight, first + k, laneOffsets) : Vector512.LoadUnsafe(ref t0, (nuint)(k * V));
                        g[k] = Vector512.WidenLower(tap);
                        g[9 + k] = Vector512.WidenUpper(tap);
                    }
                    for (int half = 0; half < 2; half++)
                    {
                        for (int j = 0; j < 3; j++)
                        {
                            ApplyG(g[half * 9 + j], g[half * 9 + 3 + j], g[half * 9 + 6 + j], column, l.TileHeight);
                            for (int a = 0; a < windowHeight; a++) rows[(half * 9 + a) * 3 + j] = column[a];
                        }
                    }
                    var slots = l.SlotOfPosition;
                    for (int a = 0; a < windowHeight; a++)
                    {
                        // A row whose positions share the slots of the row before (the odd rows past the evens) is that row's filters.
                        if (a > 0 && slots[a * windowWidth] == slots[(a - 1) * windowWidth]) continue;
                        for (int half = 0; half < 2; half++)
                        {
                            int r = (half * 9 + a) * 3;
                            ApplyG(rows[r], rows[r + 1], rows[r + 2], u.Slice(half * 9, 9), l.TileWidth);
                        }
                        for (int b = 0; b < windowWidth; b++)
                        {
                            int slot = slots[a * windowWidth + b];
                            if (b > 0 && slot == slots[a * windowWidth + b - 1]) continue; // stored by the position before
                            Streaming.Store(Vector512.Narrow(u[b], u[9 + b]), f0 + (slot * stride + blockOrigin + ic * rowStride), stream);
                        }
                    }
                }
            }
        }

        // weight[first + offsets[l]] for the 16 lanes l; the caller's Require covered the last lane's filter.
        private static unsafe Vector512<float> GatherTap(ReadOnlySpan<float> weight, int first, Vector512<int> offsets)
        {
            // .NET exposes no 512-bit gather: two of AVX2's, lanes 0-7 and 8-15.
            fixed (float* start = &MemoryMarshal.GetReference(weight))
                return Vector512.Create(Avx2.GatherVector256(start + first, offsets.GetLower(), 4), Avx2.GatherVector256(start + first, offsets.GetUpper(), 4));
        }

        // G (9x3) times (g0, g1, g2): G₂ (g0, g2) in positions 0..4, g1 in 5..8. The 2x2 tile's (5x3): F(2, 2)'s
        // G = [1 0; 1 1; 0 1] (points 0, 1, ∞) on (g0, g2) in positions 0..2, g1 in 3..4. Halving is multiplying by 0.5
        // (the same double); thirds and sixths are divisions, as in the definition.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyG(Vector512<double> g0, Vector512<double> g1, Vector512<double> g2, Span<Vector512<double>> target, int tile)
        {
            if (tile == 2)
            {
                target[0] = g0;
                target[1] = g0 + g2;
                target[2] = g2;
                target[3] = target[4] = g1;
                return;
            }
            var half = Vector512.Create(0.5);
            target[0] = g0 * half;
            target[1] = (g0 + g2) * half;
            target[2] = (g0 - g2) / Vector512.Create(6.0);
            target[3] = g0 / Vector512.Create(6.0) + g2 / Vector512.Create(3.0);
            target[4] = g2;
            target[5] = target[6] = target[7] = target[8] = g1;
        }

        private static void Require(bool condition, string name)
        {
            if (!condition) throw new ArgumentException("The span is shorter than the layout needs.", name);
        }

        /// <summary>
        /// y = conv2d(x, weight, bias, 3x3, stride 2, padding) then ReLU when asked, for one sample: x [InChannels x Height x
        /// Width], filters from <see cref="TransformFilters"/>, bias [OutChannels] or empty, y [OutChannels x OH x OW] with
        /// OH = (Height + 2p − 3) / 2 + 1. Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, in Layout l) =>
            ForwardLinked(x, default, filters, bias, y, scratch, relu, l, default, Handoff.Maps);

        /// <summary>Where <see cref="ForwardLinked"/> puts its result.</summary>
        internal enum Handoff
        {
            /// <summary>y [OutChannels x OH x OW], PyTorch's layout.</summary>
            Maps,
            /// <summary>The next stride-2 Winograd layer's padded input ([group][padded row][padded column][16 channels], zero outside the maps).</summary>
            NextInput,
            /// <summary>y [OutChannels]: each channel's mean over its OH x OW cells (a global average pooling after the layer).</summary>
            Means,
        }

        /// <summary>
        /// <see cref="Forward"/> with the steps that only change the layout between two layers taken out: the input, when <paramref name="padded"/>
        /// is not empty, is already padded there by the layer before (as <see cref="Handoff.NextInput"/> writes it, for
        /// layout <paramref name="l"/>: x is not read, and the padding step skipped); the output, for
        /// <see cref="Handoff.NextInput"/>, goes straight into y as layout <paramref name="next"/>'s padded input (whose input
        /// is this layer's output), with no transposes back to NCHW, and for <see cref="Handoff.Means"/> into the channels'
        /// means, summed in the output transform.
        /// </summary>
        internal static void ForwardLinked(ReadOnlySpan<float> x, Span<float> padded, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, in Layout l, in WinogradF4Convolution.PaddedMaps next, Handoff handoff)
        {
            if (!RunsTile(l.Tile)) throw new PlatformNotSupportedException("StridedWinogradConvolution needs AVX-512, or AVX2 and FMA for the 4x4 tile.");
            int cells = l.OutHeight * l.OutWidth;
            if (padded.IsEmpty) Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            else Require(padded.Length >= l.PaddedLength, nameof(padded));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            if (handoff == Handoff.NextInput)
            {
                if (next.InChannels != l.OutChannels || next.Height != l.OutHeight || next.Width != l.OutWidth)
                    throw new ArgumentException("The next layer's input is not this layer's output.", nameof(next));
                Require(y.Length >= next.PaddedLength, nameof(y));
            }
            else Require(y.Length >= (handoff == Handoff.Means ? l.OutChannels : l.OutChannels * cells), nameof(y));
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));

            var (staging, ownPadded, transformed, products, outputs) = Buffers.In(scratch, bias, l);

            if (padded.IsEmpty)
            {
                // Pad clears every row and column of the buffer outside the image, those past height + padding included.
                padded = ownPadded;
                PadInput(x, padded, staging, l);
            }
            // The output transform's target: [group][row][column][16] cells, groupStride floats between groups, pitch cells a row,
            // from origin (a float offset).
            Sink sink;
            Span<float> target;
            if (handoff == Handoff.NextInput)
            {
                WinogradF4Convolution.ClearMargins(y, next);
                target = y;
                sink = new Sink(next.PaddedGroupStride, next.PaddedWidth, next.MapsOffset, means: false);
            }
            else
            {
                target = outputs;
                sink = new Sink(l.OutputGroupStride, l.OutWidth, 0, means: handoff == Handoff.Means);
                if (sink.Means) staging.Slice(l.SumsOffset, l.OutLanes).Clear();
            }
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TransformInput(padded, transformed, staging, first, count, l);
                Multiply(transformed, filters, products, count, l);
                TransformOutputs(products, staging, target, first, count, relu, l, sink);
            }
            if (handoff == Handoff.Maps) UnpackOutputs(outputs, y, staging, l);
            else if (handoff == Handoff.Means)
            {
                float scale = 1f / cells;
                var sums = staging.Slice(l.SumsOffset, l.OutChannels);
                for (int oc = 0; oc < l.OutChannels; oc++) y[oc] = sums[oc] * scale;
            }
        }

        /// <summary>
        /// <see cref="ForwardLinked"/> for <paramref name="count"/> samples (up to <see cref="Layout.Samples"/>) at once: each
        /// sample's tiles transformed side by side, so each position's product is one GEMM over every sample's tiles (count x
        /// Tiles rows) instead of a thin one per sample, the filters read once for all of them. Each sample's input is x's
        /// sample (NCHW, padded here), or, where <paramref name="padded"/> is not empty, its slot there (<paramref name="slot"/>
        /// floats apart, as the layer before left it: <see cref="Handoff.NextInput"/>). y holds each sample's maps [OutChannels
        /// x OH x OW], or with <paramref name="means"/> its channels' means [OutChannels]. The same operations per tile as one
        /// sample at a time on a layout of one sample: the same floats.
        /// </summary>
        internal static void ForwardSamples(ReadOnlySpan<float> x, Span<float> padded, int slot, int count, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, bool relu, in Layout l, bool means)
        {
            if (!RunsTile(l.Tile)) throw new PlatformNotSupportedException("StridedWinogradConvolution needs AVX-512, or AVX2 and FMA for the 4x4 tile.");
            if (count < 1 || count > l.Samples) throw new ArgumentOutOfRangeException(nameof(count), count, "From 1 to the layout's samples.");
            int cells = l.OutHeight * l.OutWidth, sampleIn = l.InChannels * l.Height * l.Width, sampleOut = means ? l.OutChannels : l.OutChannels * cells;
            if (padded.IsEmpty) Require(x.Length >= count * sampleIn, nameof(x));
            else Require(slot >= l.PaddedLength && padded.Length >= (count - 1) * slot + l.PaddedLength, nameof(padded));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            Require(y.Length >= count * sampleOut, nameof(y));
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));

            var (staging, ownPadded, transformed, products, outputs) = Buffers.In(scratch, bias, l);

            for (int s = 0; s < count; s++)
            {
                var input = padded.IsEmpty ? ownPadded : padded.Slice(s * slot, l.PaddedLength);
                if (padded.IsEmpty)
                    PadInput(x.Slice(s * sampleIn, sampleIn), input, staging, l);
                TransformInput(input, transformed.Slice(s * l.Tiles * V), staging, 0, l.Tiles, l);
            }
            Multiply(transformed, filters, products, count * l.Tiles, l);
            var sink = new Sink(l.OutputGroupStride, l.OutWidth, 0, means);
            for (int s = 0; s < count; s++)
            {
                var sampleProducts = products.Slice(s * l.Tiles * l.ProductTileStride);
                if (means) staging.Slice(l.SumsOffset, l.OutLanes).Clear();
                TransformOutputs(sampleProducts, staging, outputs, 0, l.Tiles, relu, l, sink);
                var target = y.Slice(s * sampleOut, sampleOut);
                if (!means) UnpackOutputs(outputs, target, staging, l);
                else
                {
                    float scale = 1f / cells;
                    var sums = staging.Slice(l.SumsOffset, l.OutChannels);
                    for (int oc = 0; oc < l.OutChannels; oc++) target[oc] = sums[oc] * scale;
                }
            }
        }

        // Where the output transform puts a tile's cells: stored into [group][row][column][16] (GroupStride floats between
        // groups, Pitch cells a row, from Origin), or, for Means, added to the group's sum in staging.
        internal readonly struct Sink
        {
            public readonly int GroupStride, Pitch, Origin;
            public readonly bool Means;

            public Sink(int groupStride, int pitch, int origin, bool means)
            {
                GroupStride = groupStride; Pitch = pitch; Origin = origin; Means = means;
            }
        }

        // The value when (row, column) is inside height x width, else zeros: a tile's sum over the cells of the maps.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Inside(Vector512<float> value, int row, int column, int height, int width) =>
            row < height && column < width ? value : Vector512<float>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddTo(ref float sum, Vector512<float> value) => (Vector512.LoadUnsafe(ref sum) + value).StoreUnsafe(ref sum);

        // One output row of a tile, 2 or 4 cells from (row, column): their sum for a global average pooling, cells outside
        // the maps counted as 0, in the order (y0 + y1) + (y2 + y3). A tile's total adds its rows in pairs the same way.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> RowTotal(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, int cells,
            int row, int column, int height, int width)
        {
            if (row < height && column + cells <= width) return cells == 2 ? y0 + y1 : (y0 + y1) + (y2 + y3);
            var pair = Inside(y0, row, column, height, width) + Inside(y1, row, column + 1, height, width);
            return cells == 2 ? pair : pair + (Inside(y2, row, column + 2, height, width) + Inside(y3, row, column + 3, height, width));
        }

        // One output row of a tile, 2 or 4 cells from (row, column), stored where inside height x width (pitch cells a row).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PutRow(ref float target, Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, int cells,
            int row, int column, int height, int width, int pitch)
        {
            WinogradF4Convolution.Put(ref target, row, column, y0, height, width, pitch);
            WinogradF4Convolution.Put(ref target, row, column + 1, y1, height, width, pitch);
            if (cells == 2) return;
            WinogradF4Convolution.Put(ref target, row, column + 2, y2, height, width, pitch);
            WinogradF4Convolution.Put(ref target, row, column + 3, y3, height, width, pitch);
        }

        // The steps shared with WinogradF4Convolution, on this machine's width: x into the padded input, the GEMMs of a chunk's
        // count tiles (U by filter slot), the outputs' [group][cell][16] back to NCHW.
        internal static void PadInput(ReadOnlySpan<float> x, Span<float> padded, Span<float> staging, in Layout l)
        {
            if (Vector512Here) WinogradF4Convolution.Pad(x, padded, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
            else WinogradF4Convolution.Pad256(x, padded, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
        }

        // d y [OutChannels x OH x OW] into [output group][row][column][16], rows and columns in whole tiles (the gradients').
        internal static void PadGradient(ReadOnlySpan<float> outputGradient, Span<float> gradient, Span<float> staging, in Layout l)
        {
            if (Vector512Here) WinogradF4Convolution.Pad(outputGradient, gradient, staging, l.OutChannels, l.OutHeight, l.OutWidth, 0, l.GradientPitch, l.GradientGroupStride);
            else WinogradF4Convolution.Pad256(outputGradient, gradient, l.OutChannels, l.OutHeight, l.OutWidth, 0, l.GradientPitch, l.GradientGroupStride);
        }

        internal static void Multiply(Span<float> transformed, ReadOnlySpan<float> filters, Span<float> products, int count, in Layout l) =>
            ProductsOnWidth(transformed, filters, products, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                l.FilterPositionStride, l.OutLanes, l.ProductTileStride, l.InChannels, l.OutGroups, l.SlotOfPosition);

        // WinogradF4Convolution.Products (by filter slot) on this machine's width; the input gradient's GEMMs take it too.
        private static void ProductsOnWidth(Span<float> transformed, ReadOnlySpan<float> filters, Span<float> products, int count, int positions,
            int transformedPositionStride, int transformedGroupStride, int filterPositionStride, int productPositionStride, int productTileStride,
            int inChannels, int outGroups, ReadOnlySpan<byte> filterSlots)
        {
            if (Vector512Here)
                WinogradF4Convolution.Products(transformed, filters, products, count, positions, transformedPositionStride, transformedGroupStride,
                    filterPositionStride, productPositionStride, productTileStride, inChannels, outGroups, filterSlots);
            else
                WinogradF4Convolution.Products256(transformed, filters, products, count, positions, transformedPositionStride, transformedGroupStride,
                    filterPositionStride, productPositionStride, productTileStride, inChannels, outGroups, filterSlots);
        }

        internal static void UnpackOutputs(Span<float> outputs, Span<float> y, Span<float> staging, in Layout l)
        {
            int cells = l.OutHeight * l.OutWidth;
            if (Vector512Here) WinogradF4Convolution.Unpack(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride);
            else WinogradF4Convolution.Unpack256(outputs, y, cells, l.OutChannels, l.OutputGroupStride, default, reluAfterSum: false);
        }

        // V[position][group][tile − first][16 channels] = Bᵀ d B of each tile's window, for the chunk's tiles: 9x9 for the 4x4
        // tile, 5x5 for the 2x2 tile, 5 rows by 9 columns for the 2x4 tile (4 rows and 8 columns apart).
        // M's tiles first..first + count back to outputs by the layout's tile (2x2, 2x4 or 4x4).
        internal static void TransformOutputs(Span<float> products, Span<float> staging, Span<float> target, int first, int count, bool relu, in Layout l, in Sink sink)
        {
            if (l.Tile == 4 && !Vector512Here) TransformOutput4x256(products, staging, target, first, count, relu, l, sink);
            else if (l.Tile == 2) TransformOutput2(products, staging, target, first, count, relu, l, sink);
            else if (l.Tile == Wide) TransformOutputWide(products, target, staging, first, count, relu, l, sink);
            else TransformOutput(products, staging, target, first, count, relu, l, sink);
        }

        // The scratch's parts, one sample's call or a group's alike: staging (the bias lanes filled), the own padded input, V,
        // M and the outputs. Every part's length is a multiple of 16 floats: from a 64-byte boundary each vector of the padded
        // input, V, M and the outputs is one cache line, not two.
        private readonly ref struct Buffers
        {
            private readonly Span<float> _staging, _ownPadded, _transformed, _products, _outputs;

            private Buffers(Span<float> scratch, scoped ReadOnlySpan<float> bias, scoped in Layout l)
            {
                scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
                _staging = scratch.Slice(0, l.StagingLength);
                int at = l.StagingLength;
                _ownPadded = scratch.Slice(at, l.PaddedLength); at += l.PaddedLength;
                _transformed = scratch.Slice(at, l.TransformedLength); at += l.TransformedLength;
                _products = scratch.Slice(at, l.ProductLength); at += l.ProductLength;
                _outputs = scratch.Slice(at, l.OutputLength);
                var biasLanes = _staging.Slice(Layout.BiasOffset, l.OutLanes);
                for (int oc = 0; oc < l.OutLanes; oc++) biasLanes[oc] = oc < l.OutChannels && !bias.IsEmpty ? bias[oc] : 0f;
            }

            public static Buffers In(Span<float> scratch, scoped ReadOnlySpan<float> bias, scoped in Layout l) => new(scratch, bias, l);

            public void Deconstruct(out Span<float> staging, out Span<float> ownPadded, out Span<float> transformed, out Span<float> products, out Span<float> outputs)
            {
                staging = _staging; ownPadded = _ownPadded; transformed = _transformed; products = _products; outputs = _outputs;
            }
        }

        internal static void TransformInput(Span<float> padded, Span<float> transformed, Span<float> staging, int first, int count, in Layout l)
        {
            if (l.Tile == 4 && !Vector512Here) TransformInput4x256(padded, transformed, first, count, l);
            else if (l.Tile == 2) TransformInput<EvensByF22, EvensByF22>(padded, transformed, staging, first, count, l);
            else if (l.Tile == Wide) TransformInput<EvensByF22, EvensByF42>(padded, transformed, staging, first, count, l);
            else TransformInput4(padded, transformed, first, count, l);
        }

        // Bᵀ along one axis of a window: F(m, 2)'s B₂ᵀ on the even samples (Evens results), the odd samples as they are.
        private interface IEvenTransform
        {
            static abstract int Window { get; }
            static abstract int Evens { get; }
            static abstract void Apply(ref float source, nuint sourceStride, ref float target, nuint targetStride);
        }

        private readonly struct EvensByF42 : IEvenTransform
        {
            public static int Window => 9;
            public static int Evens => 5;
            public static void Apply(ref float source, nuint sourceStride, ref float target, nuint targetStride) => ApplyEvenBt(ref source, sourceStride, ref target, targetStride);
        }

        private readonly struct EvensByF22 : IEvenTransform
        {
            public static int Window => 5;
            public static int Evens => 3;
            public static void Apply(ref float source, nuint sourceStride, ref float target, nuint targetStride) => ApplyEvenBt2(ref source, sourceStride, ref target, targetStride);
        }

        // Rows first, then columns: V[a·across + b] = (Bᵀ column b)[a], where column b < evens across comes from the rows'
        // transform and column evens + j is the window's odd column 2j + 1; down the columns likewise.
        private static void TransformInput<TDown, TAcross>(Span<float> padded, Span<float> transformed, Span<float> staging, int first, int count, in Layout l)
            where TDown : struct, IEvenTransform where TAcross : struct, IEvenTransform
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float e = ref MemoryMarshal.GetReference(staging);
            nuint rowStride = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride;
            int across = TAcross.Window, evensAcross = TAcross.Evens, down = TDown.Window, evensDown = TDown.Evens;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + ((down - 1) * ty * l.PaddedWidth + (across - 1) * tx) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    for (int i = 0; i < down; i++)
                        TAcross.Apply(ref Unsafe.Add(ref d, (nuint)i * rowStride), 2 * V, ref Unsafe.Add(ref e, i * evensAcross * V), V);
                    for (int b = 0; b < across; b++)
                    {
                        ref float column = ref b < evensAcross ? ref Unsafe.Add(ref e, b * V) : ref Unsafe.Add(ref d, (2 * (b - evensAcross) + 1) * V);
                        nuint columnStride = b < evensAcross ? (nuint)(evensAcross * V) : rowStride;
                        ref float to = ref Unsafe.Add(ref target, (nuint)b * positionStride);
                        TDown.Apply(ref column, 2 * columnStride, ref to, (nuint)across * positionStride);
                        for (int j = 0; j < down - evensDown; j++)
                            Vector512.LoadUnsafe(ref column, (2 * (nuint)j + 1) * columnStride).StoreUnsafe(ref to, (nuint)((evensDown + j) * across) * positionStride);
                    }
                }
            }
        }

        // The 4x4 tile's V = Bᵀ d B (TransformInput's generic walk, TDown and TAcross both F(4, 2)) with no row staged in
        // memory: each odd row's across transform and odd samples go straight to their positions (5-8 down), each odd
        // column's down transform straight from the window (5-8 across), and the even rows' across transforms, which the
        // down transforms of the even columns take, three columns and then two at a time in registers. Every value is
        // ApplyEvenBt's operations on the same samples, so V is the walk's, bit for bit.
        private static void TransformInput4(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint rowStride = (nuint)(l.PaddedWidth * V), across = (nuint)l.TransformedPositionStride, down = 9 * across;
            nuint evenRows = 2 * rowStride, evenColumns = 2 * V;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + 8 * (ty * l.PaddedWidth + tx) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    for (int k = 0; k < 4; k++)
                    {
                        ref float row = ref Unsafe.Add(ref d, (nuint)(2 * k + 1) * rowStride);
                        ref float to = ref Unsafe.Add(ref target, (nuint)(5 + k) * down);
                        ApplyEvenBt(ref row, evenColumns, ref to, across);
                        for (int j = 0; j < 4; j++) Vector512.LoadUnsafe(ref row, (nuint)(2 * j + 1) * V).StoreUnsafe(ref to, (nuint)(5 + j) * across);
                    }
                    for (int j = 0; j < 4; j++)
                        ApplyEvenBt(ref Unsafe.Add(ref d, (nuint)(2 * j + 1) * V), evenRows, ref Unsafe.Add(ref target, (nuint)(5 + j) * across), down);
                    var (a00, a01, a02) = FirstEvenBt(ref d, evenColumns);
                    var (a10, a11, a12) = FirstEvenBt(ref Unsafe.Add(ref d, evenRows), evenColumns);
                    var (a20, a21, a22) = FirstEvenBt(ref Unsafe.Add(ref d, 2 * evenRows), evenColumns);
                    var (a30, a31, a32) = FirstEvenBt(ref Unsafe.Add(ref d, 3 * evenRows), evenColumns);
                    var (a40, a41, a42) = FirstEvenBt(ref Unsafe.Add(ref d, 4 * evenRows), evenColumns);
                    StoreEvenBt(a00, a10, a20, a30, a40, ref target, down);
                    StoreEvenBt(a01, a11, a21, a31, a41, ref Unsafe.Add(ref target, across), down);
                    StoreEvenBt(a02, a12, a22, a32, a42, ref Unsafe.Add(ref target, 2 * across), down);
                    var (a03, a04) = LastEvenBt(ref d, evenColumns);
                    var (a13, a14) = LastEvenBt(ref Unsafe.Add(ref d, evenRows), evenColumns);
                    var (a23, a24) = LastEvenBt(ref Unsafe.Add(ref d, 2 * evenRows), evenColumns);
                    var (a33, a34) = LastEvenBt(ref Unsafe.Add(ref d, 3 * evenRows), evenColumns);
                    var (a43, a44) = LastEvenBt(ref Unsafe.Add(ref d, 4 * evenRows), evenColumns);
                    StoreEvenBt(a03, a13, a23, a33, a43, ref Unsafe.Add(ref target, 3 * across), down);
                    StoreEvenBt(a04, a14, a24, a34, a44, ref Unsafe.Add(ref target, 4 * across), down);
                }
            }
        }

        // B₂ᵀ's first three rows times (e0..e3) of a source (e4 is not read), in StoreEvenBt's operations.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>) FirstEvenBt(ref float source, nuint stride)
        {
            var e0 = Vector512.LoadUnsafe(ref source); var e1 = Vector512.LoadUnsafe(ref source, stride);
            var e2 = Vector512.LoadUnsafe(ref source, 2 * stride); var e3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var s = e3 - e1;
            return (Fused.MultiplyAdd(e0 - e2, Vector512.Create(2f), s), e1 + e2 - s, Fused.MultiplyAdd(e2, Vector512.Create(3f), -(e1 + e1 + e3)));
        }

        // B₂ᵀ's last two rows times (e1..e4) of a source (e0 is not read), in StoreEvenBt's operations.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>) LastEvenBt(ref float source, nuint stride)
        {
            var e1 = Vector512.LoadUnsafe(ref source, stride); var e2 = Vector512.LoadUnsafe(ref source, 2 * stride);
            var e3 = Vector512.LoadUnsafe(ref source, 3 * stride); var e4 = Vector512.LoadUnsafe(ref source, 4 * stride);
            var s = e3 - e1;
            return (s, Fused.MultiplyAdd(s, Vector512.Create(-2f), e4 - e2));
        }

        // B₂ᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1] times (e0..e4).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyEvenBt(ref float source, nuint sourceStride, ref float target, nuint targetStride) =>
            StoreEvenBt(Vector512.LoadUnsafe(ref source), Vector512.LoadUnsafe(ref source, sourceStride), Vector512.LoadUnsafe(ref source, 2 * sourceStride),
                Vector512.LoadUnsafe(ref source, 3 * sourceStride), Vector512.LoadUnsafe(ref source, 4 * sourceStride), ref target, targetStride);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreEvenBt(Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3, Vector512<float> e4,
            ref float target, nuint targetStride)
        {
            var two = Vector512.Create(2f);
            var s = e3 - e1;
            Fused.MultiplyAdd(e0 - e2, two, s).StoreUnsafe(ref target);
            (e1 + e2 - s).StoreUnsafe(ref target, targetStride);
            Fused.MultiplyAdd(e2, Vector512.Create(3f), -(e1 + e1 + e3)).StoreUnsafe(ref target, 2 * targetStride);
            s.StoreUnsafe(ref target, 3 * targetStride);
            Fused.MultiplyAdd(s, Vector512.Create(-2f), e4 - e2).StoreUnsafe(ref target, 4 * targetStride);
        }

        // Y = Aᵀ M A + bias per tile and group of 16 output channels, ReLU; into outputs[group][cell][16 channels].
        internal static void TransformOutput(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in Layout l, in Sink sink)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float e = ref MemoryMarshal.GetReference(staging);
            ref float biasLanes = ref Unsafe.Add(ref e, Layout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int h = l.OutHeight, w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + group * V);
                    // Rows: e[a][j] = (M[a][·] A)[j]; then columns: y[i][j] = (Aᵀ e[·][j])[i], each row added to the outputs
                    // it reaches as soon as it is made (rows 1 and 2 as their sum and difference), so no row waits in
                    // memory; the additions are the column transform's, in its order (ApplyAt's).
                    var (e10, e11, e12, e13) = ApplyAt(ref Unsafe.Add(ref m, 9 * positionStride), positionStride);
                    var (e20, e21, e22, e23) = ApplyAt(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    Vector512<float> s0 = e10 + e20, s1 = e11 + e21, s2 = e12 + e22, s3 = e13 + e23;
                    Vector512<float> d0 = e10 - e20, d1 = e11 - e21, d2 = e12 - e22, d3 = e13 - e23;
                    var (e00, e01, e02, e03) = ApplyAt(ref m, positionStride);
                    Vector512<float> y00 = e00 + s0, y01 = e01 + s1, y02 = e02 + s2, y03 = e03 + s3;
                    var (e30, e31, e32, e33) = ApplyAt(ref Unsafe.Add(ref m, 27 * positionStride), positionStride);
                    y00 += e30; y01 += e31; y02 += e32; y03 += e33;
                    Vector512<float> two = Vector512.Create(2f), four = Vector512.Create(4f), eight = Vector512.Create(8f);
                    Vector512<float> y10 = Fused.MultiplyAdd(e30, two, d0), y11 = Fused.MultiplyAdd(e31, two, d1);
                    Vector512<float> y12 = Fused.MultiplyAdd(e32, two, d2), y13 = Fused.MultiplyAdd(e33, two, d3);
                    Vector512<float> y20 = Fused.MultiplyAdd(e30, four, s0), y21 = Fused.MultiplyAdd(e31, four, s1);
                    Vector512<float> y22 = Fused.MultiplyAdd(e32, four, s2), y23 = Fused.MultiplyAdd(e33, four, s3);
                    Vector512<float> y30 = Fused.MultiplyAdd(e30, eight, d0), y31 = Fused.MultiplyAdd(e31, eight, d1);
                    Vector512<float> y32 = Fused.MultiplyAdd(e32, eight, d2), y33 = Fused.MultiplyAdd(e33, eight, d3);
                    var (e40, e41, e42, e43) = ApplyAt(ref Unsafe.Add(ref m, 36 * positionStride), positionStride);
                    y30 += e40; y31 += e41; y32 += e42; y33 += e43;
                    var (e50, e51, e52, e53) = ApplyAt(ref Unsafe.Add(ref m, 45 * positionStride), positionStride);
                    y00 += e50; y01 += e51; y02 += e52; y03 += e53;
                    var (e60, e61, e62, e63) = ApplyAt(ref Unsafe.Add(ref m, 54 * positionStride), positionStride);
                    y10 += e60; y11 += e61; y12 += e62; y13 += e63;
                    var (e70, e71, e72, e73) = ApplyAt(ref Unsafe.Add(ref m, 63 * positionStride), positionStride);
                    y20 += e70; y21 += e71; y22 += e72; y23 += e73;
                    var (e80, e81, e82, e83) = ApplyAt(ref Unsafe.Add(ref m, 72 * positionStride), positionStride);
                    y30 += e80; y31 += e81; y32 += e82; y33 += e83;
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu); y02 = Finish(y02, bias, relu); y03 = Finish(y03, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu); y12 = Finish(y12, bias, relu); y13 = Finish(y13, bias, relu);
                    y20 = Finish(y20, bias, relu); y21 = Finish(y21, bias, relu); y22 = Finish(y22, bias, relu); y23 = Finish(y23, bias, relu);
                    y30 = Finish(y30, bias, relu); y31 = Finish(y31, bias, relu); y32 = Finish(y32, bias, relu); y33 = Finish(y33, bias, relu);
                    int oy = 4 * ty, ox = 4 * tx;
                    if (sink.Means)
                    {
                        var total = (RowTotal(y00, y01, y02, y03, 4, oy, ox, h, w) + RowTotal(y10, y11, y12, y13, 4, oy + 1, ox, h, w))
                            + (RowTotal(y20, y21, y22, y23, 4, oy + 2, ox, h, w) + RowTotal(y30, y31, y32, y33, 4, oy + 3, ox, h, w));
                        AddTo(ref Unsafe.Add(ref e, l.SumsOffset + group * V), total);
                        continue;
                    }
                    ref float target = ref Unsafe.Add(ref o0, sink.Origin + group * sink.GroupStride);
                    WinogradF4Convolution.StoreTile4x4(ref target, oy, ox, h, w, sink.Pitch, y00, y01, y02, y03, y10, y11, y12, y13, y20, y21, y22, y23, y30, y31, y32, y33);
                }
            }
        }

        // Aᵀ (4x9) = [A₂ᵀ | I]: A₂ᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 0; 0 1 −1 8 1] on m0..m4, plus m5..m8.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyAt(ref float source, nuint stride)
        {
            var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, stride);
            var m2 = Vector512.LoadUnsafe(ref source, 2 * stride); var m3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector512.LoadUnsafe(ref source, 4 * stride);
            var sum12 = m1 + m2; var difference12 = m1 - m2;
            return (m0 + sum12 + m3 + Vector512.LoadUnsafe(ref source, 5 * stride),
                Fused.MultiplyAdd(m3, Vector512.Create(2f), difference12) + Vector512.LoadUnsafe(ref source, 6 * stride),
                Fused.MultiplyAdd(m3, Vector512.Create(4f), sum12) + Vector512.LoadUnsafe(ref source, 7 * stride),
                Fused.MultiplyAdd(m3, Vector512.Create(8f), difference12) + m4 + Vector512.LoadUnsafe(ref source, 8 * stride));
        }

        // F(2, 2)'s B₂ᵀ = [1 −1 0; 0 1 0; 0 −1 1] times (e0, e1, e2).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyEvenBt2(ref float source, nuint sourceStride, ref float target, nuint targetStride)
        {
            var e0 = Vector512.LoadUnsafe(ref source); var e1 = Vector512.LoadUnsafe(ref source, sourceStride);
            var e2 = Vector512.LoadUnsafe(ref source, 2 * sourceStride);
            (e0 - e1).StoreUnsafe(ref target);
            e1.StoreUnsafe(ref target, targetStride);
            (e2 - e1).StoreUnsafe(ref target, 2 * targetStride);
        }

        // The 2x2 tile: Y = Aᵀ M A + bias, ReLU, with Aᵀ (2x5) = [1 1 0 1 0; 0 1 1 0 1] (F(2, 2)'s [1 1 0; 0 1 1], then
        // the odd samples' products as they are).
        internal static void TransformOutput2(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in Layout l, in Sink sink)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), Layout.BiasOffset);
            ref float sums = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), l.SumsOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int h = l.OutHeight, w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + group * V);
                    // Rows: r[a] = (M[a][·] A), two values each; then the columns.
                    var (r00, r01) = ApplyAt2(ref m, positionStride);
                    var (r10, r11) = ApplyAt2(ref Unsafe.Add(ref m, 5 * positionStride), positionStride);
                    var (r20, r21) = ApplyAt2(ref Unsafe.Add(ref m, 10 * positionStride), positionStride);
                    var (r30, r31) = ApplyAt2(ref Unsafe.Add(ref m, 15 * positionStride), positionStride);
                    var (r40, r41) = ApplyAt2(ref Unsafe.Add(ref m, 20 * positionStride), positionStride);
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    var y00 = Finish(r00 + r10 + r30, bias, relu); var y01 = Finish(r01 + r11 + r31, bias, relu);
                    var y10 = Finish(r10 + r20 + r40, bias, relu); var y11 = Finish(r11 + r21 + r41, bias, relu);
                    int oy = 2 * ty, ox = 2 * tx, pitch = sink.Pitch;
                    if (sink.Means)
                    {
                        AddTo(ref Unsafe.Add(ref sums, group * V), RowTotal(y00, y01, default, default, 2, oy, ox, h, w) + RowTotal(y10, y11, default, default, 2, oy + 1, ox, h, w));
                        continue;
                    }
                    ref float target = ref Unsafe.Add(ref o0, sink.Origin + group * sink.GroupStride);
                    PutRow(ref target, y00, y01, default, default, 2, oy, ox, h, w, pitch);
                    PutRow(ref target, y10, y11, default, default, 2, oy + 1, ox, h, w, pitch);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>) ApplyAt2(ref float source, nuint stride)
        {
            var m1 = Vector512.LoadUnsafe(ref source, stride);
            return (Vector512.LoadUnsafe(ref source) + m1 + Vector512.LoadUnsafe(ref source, 3 * stride),
                m1 + Vector512.LoadUnsafe(ref source, 2 * stride) + Vector512.LoadUnsafe(ref source, 4 * stride));
        }

        // The 2x4 tile: Y = Aᵀ M A + bias, ReLU: along the rows the 4x4 tile's Aᵀ (ApplyAt, 9 positions to 4 columns), then
        // down the columns the 2x2 tile's [1 1 0 1 0; 0 1 1 0 1] (5 positions to 2 rows).
        internal static void TransformOutputWide(Span<float> products, Span<float> outputs, Span<float> staging, int first, int count, bool relu, in Layout l, in Sink sink)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), Layout.BiasOffset);
            ref float sums = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), l.SumsOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int h = l.OutHeight, w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + group * V);
                    var (r00, r01, r02, r03) = ApplyAt(ref m, positionStride);
                    var (r10, r11, r12, r13) = ApplyAt(ref Unsafe.Add(ref m, 9 * positionStride), positionStride);
                    var (r20, r21, r22, r23) = ApplyAt(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (r30, r31, r32, r33) = ApplyAt(ref Unsafe.Add(ref m, 27 * positionStride), positionStride);
                    var (r40, r41, r42, r43) = ApplyAt(ref Unsafe.Add(ref m, 36 * positionStride), positionStride);
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    int oy = 2 * ty, ox = 4 * tx, pitch = sink.Pitch;
                    var y00 = Finish(r00 + r10 + r30, bias, relu); var y01 = Finish(r01 + r11 + r31, bias, relu);
                    var y02 = Finish(r02 + r12 + r32, bias, relu); var y03 = Finish(r03 + r13 + r33, bias, relu);
                    var y10 = Finish(r10 + r20 + r40, bias, relu); var y11 = Finish(r11 + r21 + r41, bias, relu);
                    var y12 = Finish(r12 + r22 + r42, bias, relu); var y13 = Finish(r13 + r23 + r43, bias, relu);
                    if (sink.Means)
                    {
                        AddTo(ref Unsafe.Add(ref sums, group * V), RowTotal(y00, y01, y02, y03, 4, oy, ox, h, w) + RowTotal(y10, y11, y12, y13, 4, oy + 1, ox, h, w));
                        continue;
                    }
                    ref float target = ref Unsafe.Add(ref o0, sink.Origin + group * sink.GroupStride);
                    PutRow(ref target, y00, y01, y02, y03, 4, oy, ox, h, w, pitch);
                    PutRow(ref target, y10, y11, y12, y13, 4, oy + 1, ox, h, w, pitch);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Finish(Vector512<float> value, Vector512<float> bias, bool relu) =>
            relu ? Elementwise.Relu(value + bias) : value + bias;
    }
}
