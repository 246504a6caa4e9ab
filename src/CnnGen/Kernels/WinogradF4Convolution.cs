using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 3x3 convolution by Winograd's F(4x4, 3x3) on the Vector512 path, or on the Vector256 path where there is
    /// no AVX-512 (WinogradF4Convolution.Vector256.cs: the same layouts): 36 multiplications per 4x4 output tile
    /// and input channel instead of 144. The filters are transformed once per weight change (<see cref="TransformFilters"/>),
    /// not per call; <see cref="Pays"/> says where it measured faster than the direct kernel. A layout of kernel 5 runs 5x5
    /// convolutions by F(2x2, 5x5) on the same windows, transforms and GEMMs (WinogradF4Convolution.F2x5.cs, and its
    /// Vector256 transforms in WinogradF4Convolution.F2x5.Vector256.cs).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Lavin and Gray's matrices with the points 0, ±1, ±2, ∞: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A for each 6x6 window d (stride 4)
    /// of the zero-padded input. The 36 element-wise products, summed over input channels, are 36 small GEMMs
    /// M[position][tile][oc] = Σ_ic V[position][tile][ic] · U[position][ic][oc].
    /// </para>
    /// <para>
    /// Channels sit in the vector lanes throughout, not tiles: an 8x8 map is only 4 tiles and a 16x16 map 16, which would
    /// leave most lanes of a tile-lane kernel empty, while 16 to 256 channels fill them. The input is first transposed
    /// to [channel group][padded row][padded column][16 channels]; each tile's 6x6 window is then 36 vector loads, and the
    /// transform writes V[position][group][tile][16 channels]. The GEMM's register tile is 4 vectors of 16 output
    /// channels (filter loads) x 6 tiles (broadcasts of V), or 3 x 8, 2 x 12, 1 x 24: at most 24 accumulators. The output
    /// transform adds the bias, applies ReLU and the 2x2 max pooling in channel lanes, writes [group][row][column][16
    /// channels], and a last 16x16 transpose brings that to NCHW. Tiles are processed in chunks whose V and M stay in cache.
    /// </para>
    /// <para>
    /// Precision: the transforms multiply by up to 8 (A) and 5 (B) and divide by 6 and 24 (G), so an fp32 result is about
    /// ten times less exact than the direct kernel's: up to ~1e-5 of the sum of the magnitudes of the products on
    /// unit-scale data (9.3e-6 measured at worst), where the direct kernel stays within ~1e-6 (WinogradF4ConvolutionTests).
    /// </para>
    /// </remarks>
    internal static partial class WinogradF4Convolution
    {
        private const int V = 16;
        private const int Window = 6;
        private const int Positions = Window * Window;
        private const int UnpackCells = 4 * V;
        // Floats of V and M one chunk of tiles may take (512 KB, half of L2): they stay in L2 between the transforms and the
        // GEMMs. Measured against 32 K and 8 K floats: equal or faster (128x16x16 -> 128: 111 us against 133 us).
        private const int ChunkBudget = 128 * 1024;
        // But at least 24 tiles a chunk: each chunk reads all the transformed filters again (2.4 MB at 128 channels), so
        // 128x16x16 -> 128 in one chunk of 16 tiles took 97-104 µs, in two of 8 118-125 µs.
        private const int MinimumChunk = 24;

        /// <summary>
        /// How the Winograd kernels split their tiles into chunks whose V and M (<paramref name="perTileFloats"/> a tile) stay
        /// in L2 (<see cref="ChunkBudget"/>, at least <see cref="MinimumChunk"/> tiles, or <paramref name="chunkTilesOverride"/>
        /// where above 0): all chunks the same size, 64 tiles as 22 + 21 + 21, not 28 + 28 + 8. Shared with
        /// StridedWinogradConvolution, LaneTileLayout and LineWinogradConvolution.
        /// </summary>
        internal static (int ChunkTiles, int Chunks) Chunking(int tiles, int perTileFloats, int chunkTilesOverride = 0)
        {
            int most = Math.Min(tiles, chunkTilesOverride > 0 ? chunkTilesOverride : Math.Max(MinimumChunk, ChunkBudget / perTileFloats));
            int chunks = (tiles + most - 1) / most;
            return ((tiles + chunks - 1) / chunks, chunks);
        }

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, OutChannels, Padding, OutHeight, OutWidth;
            /// <summary>The filter's side (3: F(4x4, 3x3); 5: F(2x2, 5x5)) and the output tile's (4 or 2): both fill a 6x6 window.</summary>
            public readonly int Kernel, TileSize;
            /// <summary>
            /// 1, or the dilation d of a dilated convolution run as its d² phases (DilatedConvolution): Height,
            /// Width, Padding, OutHeight, OutWidth and the padded and output buffers are the whole map's; TileRows and
            /// TileColumns are one phase's, Tiles all phases' (phase by phase).
            /// </summary>
            public readonly int Dilation;
            public readonly int TileRows, TileColumns, Tiles, InGroups, OutGroups, OutLanes;
            public readonly int PaddedHeight, PaddedWidth, PaddedGroupStride, ChunkTiles, Chunks;
            public readonly int TransformedGroupStride, TransformedPositionStride, ProductPositionStride, FilterPositionStride, OutputGroupStride;
            public readonly int PaddedLength, TransformedLength, ProductLength, OutputLength;

            public Layout(int inChannels, int height, int width, int outChannels, int padding, int kernel = 3, int dilation = 1)
            {
                if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels));
                if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
                if (kernel != 3 && kernel != 5) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Only 3x3 (F(4x4, 3x3)) and 5x5 (F(2x2, 5x5)) kernels.");
                if (dilation < 1 || height % dilation != 0 || width % dilation != 0 || padding % dilation != 0)
                    throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "The map's sides and the padding must be multiples of the dilation.");
                // One phase's map: the map's rows and columns of one residue mod d.
                int phaseHeight = height / dilation, phaseWidth = width / dilation, phasePadding = padding / dilation;
                if (padding < 0 || phaseHeight + 2 * phasePadding < kernel || phaseWidth + 2 * phasePadding < kernel)
                    throw new ArgumentOutOfRangeException(nameof(padding), padding, "The kernel does not fit the padded input.");
                InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels; Padding = padding;
                Kernel = kernel;
                Dilation = dilation;
                TileSize = Window - kernel + 1;
                int phaseOutHeight = phaseHeight + 2 * phasePadding - kernel + 1, phaseOutWidth = phaseWidth + 2 * phasePadding - kernel + 1;
                OutHeight = dilation * phaseOutHeight;
                OutWidth = dilation * phaseOutWidth;
                TileRows = (phaseOutHeight + TileSize - 1) / TileSize;
                TileColumns = (phaseOutWidth + TileSize - 1) / TileSize;
                Tiles = dilation * dilation * TileRows * TileColumns;
                InGroups = (inChannels + V - 1) / V;
                OutGroups = (outChannels + V - 1) / V;
                OutLanes = OutGroups * V;
                // Every window of every tile, the partial ones at the bottom and right included, lies inside the buffer (a
                // phase's padded cell (r, c) is the map's padded cell (d·r + ry, d·c + rx)).
                PaddedHeight = dilation * (TileSize * TileRows + kernel - 1);
                PaddedWidth = dilation * (TileSize * TileColumns + kernel - 1);
                PaddedGroupStride = PaddedHeight * PaddedWidth * V;
                PaddedLength = InGroups * PaddedGroupStride;
                int perTile = Positions * (InGroups * V + OutLanes);
                (ChunkTiles, Chunks) = Chunking(Tiles, perTile);
                // The 36 positions are written as 36 streams: one vector more than the data apart, so that strides of a
                // multiple of 4 KB do not put them all in the same sets of the L1 cache.
                TransformedGroupStride = ChunkTiles * V;
                TransformedPositionStride = InGroups * TransformedGroupStride + V;
                TransformedLength = Positions * TransformedPositionStride;
                ProductPositionStride = ChunkTiles * OutLanes + V;
                ProductLength = Positions * ProductPositionStride;
                FilterPositionStride = inChannels * OutLanes + V;
                OutputGroupStride = OutHeight * OutWidth * V;
                OutputLength = OutGroups * OutputGroupStride + V * V; // the last transpose reads up to 15 cells past the end
            }

            /// <summary>Floats of the transformed filters U[position][input channel][output channel lanes].</summary>
            public int FiltersLength => Positions * FilterPositionStride;

            /// <summary>This layer's padded input, as the layer before writes it when linked.</summary>
            internal PaddedMaps Maps => new(InChannels, Height, Width, Padding, PaddedWidth, PaddedGroupStride, PaddedLength);

            // F(2x2, 5x5)'s output transform's rows (12 vectors) or four 16x16 transpose blocks, the bias in lanes, then the buffers.
            internal int StagingLength => BiasOffset + OutLanes;

            internal const int BiasOffset = UnpackCells * V;

            /// <summary>Floats of scratch <see cref="Forward"/> needs.</summary>
            public int ScratchLength => StagingLength + PaddedLength + TransformedLength + ProductLength + OutputLength + V;
        }

        private readonly struct C9 : IConstant { public static int Value => 9; }
        private readonly struct C10 : IConstant { public static int Value => 10; }
        private readonly struct C11 : IConstant { public static int Value => 11; }
        private readonly struct C12 : IConstant { public static int Value => 12; }
        private readonly struct C13 : IConstant { public static int Value => 13; }
        private readonly struct C14 : IConstant { public static int Value => 14; }
        private readonly struct C15 : IConstant { public static int Value => 15; }
        private readonly struct C16 : IConstant { public static int Value => 16; }
        private readonly struct C17 : IConstant { public static int Value => 17; }
        private readonly struct C18 : IConstant { public static int Value => 18; }
        private readonly struct C19 : IConstant { public static int Value => 19; }
        private readonly struct C20 : IConstant { public static int Value => 20; }
        private readonly struct C21 : IConstant { public static int Value => 21; }
        private readonly struct C22 : IConstant { public static int Value => 22; }
        private readonly struct C23 : IConstant { public static int Value => 23; }
        private readonly struct C24 : IConstant { public static int Value => 24; }

        /// <summary>
        /// Where F(4x4, 3x3) measured faster than the direct kernel and than F(2x2, 3x3) (KernelBench <c>winograd4</c>, 38
        /// shapes, the table in benchmarks/README.md): 16 or more channels in and out on outputs of 64 cells or more
        /// (1.4-1.7x at 16 channels, 2.1-3.3x at 32-256; over F(2x2), where that is used, 1.3-1.5x at 16 channels on 32x32
        /// and 64x64 maps), and 32 or more on outputs of 16 to 63 cells (4x4 and 6x6 maps: 2.0-2.3x at 32-64 channels,
        /// 1.2-1.8x at 128-256). It loses with fewer channels in or out: a 16-lane group costs the same transforms however
        /// many of its lanes are used (3 channels: 0.6-0.7x; 8 -> 8 0.8x); 16 channels on 4x4 and 6x6 maps measured
        /// 1.1-1.2x, too close to call. Since session 47 also 8 to 15 channels on outputs of 64 cells or more where
        /// Cin·Cout ≥ 128 (<see cref="MinimumFewChannelProduct"/>; 1.3-2.3x, session 3's 0.7-1.1x predates the current
        /// transforms).
        /// </summary>
        /// <remarks>
        /// 5x5 kernels, F(2x2, 5x5) (KernelBench <c>winograd5</c>, 46 shapes, the table in benchmarks/README.md): 32 or more
        /// channels in and out on any map (1.5-3.4x, 1x1 to 32x32 outputs) when the channels fill at least two thirds of their
        /// 16-lane groups (33 in and out 1.5-1.6x); on outputs of 64 cells or more from 8 channels in and 12 out
        /// (<see cref="MinimumOutChannels5x5"/>, session 47: 1.2-2.4x). It loses with fewer channels (8 -> 8 0.7-1.0x, 16 -> 8
        /// 0.97x, 3: 0.3-0.6x, LeNet's 1 -> 6 and 6 -> 16: 0.07x and 0.6-0.8x: a 2x2 tile pays the whole 6x6 window's
        /// transforms) and with 16 channels on a 2x2 output (0.7-0.8x); 16 on a 4x4 output measured 1.1x, too close to call.
        /// <para>
        /// Wide layers on small maps (session 6, VGG-11 for CIFAR at 0.54x ONNX Runtime): the filters, 36 floats per 9
        /// weights, are read once per call whatever the number of tiles, so a layer whose filters leave the L2 and which has
        /// few tiles waits on memory, where the direct kernel reads a quarter as much. KernelBench <c>winograd4</c> (filters
        /// hot in the L3, interleaved; F(4x4) against the lanes kernel on weights packed once): 512 -> 512 on 4x4 0.19x, 384 on
        /// 4x4 0.39x, 256 -> 512 on 4x4 0.41x, 256 on 4x4 0.82x, 128 -> 256 on 4x4 0.90x, 128 on 4x4 0.97x (a tie), 64 and 32
        /// on 4x4 1.6x (their filters fit the L2); with 4 tiles (8x8) 256 -> 256 2.6x faster than direct, 256 -> 512 1.3x, but
        /// 512 -> 512 (38 MB of filters, more than the L3) 0.70x. So: filters within 1 MiB on any map, within 16 MiB (half the
        /// L3: a network's other layers' filters share it) from 4 tiles on.
        /// </para>
        /// </remarks>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (!Runs(kernel)) return false;
            if (!Wide) return Pays256(inChannels, height, width, outChannels, kernel, padding);
            if (!FiltersFitTheirTiles(inChannels, height, width, outChannels, kernel, padding, Simd.HalfRateVector512)) return false;
            int cells = (height + 2 * padding - kernel + 1) * (width + 2 * padding - kernel + 1);
            if (kernel == 5)
                return FillsLanes(inChannels) && FillsLanes(outChannels) && inChannels >= 32 && outChannels >= 32
                    || cells >= 64 && inChannels >= 8 && outChannels >= MinimumOutChannels5x5 && inChannels * outChannels >= MinimumFewChannelProduct;
            return inChannels >= 8 && outChannels >= 8 && inChannels * outChannels >= MinimumFewChannelProduct && cells >= 64
                || inChannels >= 32 && outChannels >= 32 && cells >= 16;
        }

        // Cin·Cout from which 3x3 layers of 8 to 15 channels in or out pay on 64 cells or more (session 47, KernelBench
        // winograd4): 8 -> 16 1.46-1.82x, 16 -> 8 1.27x, 12 -> 12 1.44-1.68x, 12 -> 24 1.62x, 48 -> 12 1.90-2.31x; 8 -> 8
        // 0.78-0.79x (both channel groups half empty). Under 8 channels the generator keeps no filters (MinimumWinogradChannels).
        private const int MinimumFewChannelProduct = 128;

        // F(2x2, 5x5) on outputs of 64 cells or more (session 47, KernelBench winograd5): from 8 channels in, 12 out and
        // Cin·Cout 128: 8 -> 16 1.37-1.58x, 12 -> 24 1.63x, 24 -> 12 1.42x, 17 -> 17 1.24x, 20 -> 20 1.47x (session 5's
        // lane-filling limit, 0.8-1.15x at 17-20, no longer holds there); 16 -> 8 0.97x, 8 -> 8 0.71-0.96x.
        private const int MinimumOutChannels5x5 = 12;

        // The filters (36 positions x channels in x out, 4 bytes) within the L2, or, for outputs of 4 tiles or more, within half
        // the L3. Where 512-bit multiply-adds run at half rate (Simd.HalfRateVector512: Zen 4, session 47, the table in
        // benchmarks/README.md), for 3x3 kernels also: outputs of fewer than 4 tiles up to Cin·Cout 65536 (4x4 outputs 128 -> 128
        // 1.53x, 256 -> 256 1.44x against the lanes kernel; 256 -> 512 1.04x, 384 0.85x, 512 0.69x), and filters past half the
        // L3 from 4 tiles on where at least half the cells they compute are real (8x8 512 -> 512 2.93x, 7x7 1.54x, 6x6 1.33x,
        // 256 -> 512 on 7x7 2.26x; 5x5 512 -> 512, 25 of 64 cells, 0.90x). Those layers wait on the filters' bytes, so a
        // full-rate unit's direct kernel, twice as fast, keeps the limits measured there.
        internal static bool FiltersFitTheirTiles(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool halfRateVector512)
        {
            long filterBytes = 36L * 4 * inChannels * outChannels;
            int tile = kernel == 5 ? 2 : 4;
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            long tiles = (long)((outHeight + tile - 1) / tile) * ((outWidth + tile - 1) / tile);
            if (filterBytes <= 1 << 20 || tiles >= 4 && filterBytes <= 16 << 20) return true;
            if (kernel != 3 || !halfRateVector512) return false;
            if (tiles < 4) return (long)inChannels * outChannels <= MaximumFewTileFilters;
            return 2L * outHeight * outWidth >= tiles * 16;
        }

        // Cin·Cout up to which outputs of fewer than 4 tiles pay at half rate (the figures above).
        private const long MaximumFewTileFilters = 65536;

        // At least two thirds of the lanes of the 16-lane groups the channels take are used: every count from 16 on but 17-21.
        private static bool FillsLanes(int channels) => 3 * channels >= 2 * V * ((channels + V - 1) / V);

        /// <summary>
        /// U = G g Gᵀ of each 3x3 filter (5x5 with a layout of kernel 5) of a PyTorch-layout weight [outChannels x inChannels x k x k], into
        /// <paramref name="filters"/> (<see cref="Layout.FiltersLength"/> floats); once per weight change (large filters
        /// with streaming stores: they are read later, see <see cref="Streaming"/>).
        /// </summary>
        public static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in Layout l) => TransformFiltersOf(weight, filters, l, ahead: true);

        /// <summary>
        /// The same for a caller that reads them right away (a call's own transform into scratch): stored into the caches
        /// whatever their size.
        /// </summary>
        internal static void TransformFiltersForThisCall(ReadOnlySpan<float> weight, Span<float> filters, in Layout l) => TransformFiltersOf(weight, filters, l, ahead: false);

        private static void TransformFiltersOf(ReadOnlySpan<float> weight, Span<float> filters, in Layout l, bool ahead)
        {
            Require(weight.Length >= l.OutChannels * l.InChannels * l.Kernel * l.Kernel, nameof(weight));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            if (l.Kernel == 5)
            {
                Transform5(weight, outStride: l.InChannels * 25, inStride: 25, flip: false, filters, l);
                return;
            }
            Transform(weight, outStride: l.InChannels * 9, inStride: 9, flip: false, filters, ahead, l);
        }

        /// <summary>
        /// The filters of the "transposed" convolution that gives the input gradient of a stride-1 3x3 or 5x5 layer:
        /// w'[ic][oc][ky][kx] = w[oc][ic][k − 1 − ky][k − 1 − kx], for a weight [outChannels x inChannels x k x k]. The layout
        /// is that of the gradient's convolution: <paramref name="inChannels"/> outputs from <paramref name="outChannels"/>
        /// inputs, padding k − 1 − p.
        /// </summary>
        public static void TransformFiltersTransposed(ReadOnlySpan<float> weight, int outChannels, int inChannels, Span<float> filters, in Layout transposedLayout)
        {
            int kernel = transposedLayout.Kernel;
            if (kernel != 3 && kernel != 5) throw new ArgumentException("Only 3x3 and 5x5 input gradients run by Winograd.", nameof(transposedLayout));
            if (transposedLayout.InChannels != outChannels || transposedLayout.OutChannels != inChannels)
                throw new ArgumentException("The layout's channels must be the weight's, swapped.", nameof(transposedLayout));
            int taps = kernel * kernel;
            Require(weight.Length >= outChannels * inChannels * taps, nameof(weight));
            Require(filters.Length >= transposedLayout.FiltersLength, nameof(filters));
            if (kernel == 5) Transform5(weight, outStride: taps, inStride: inChannels * taps, flip: true, filters, transposedLayout);
            else Transform(weight, outStride: taps, inStride: inChannels * taps, flip: true, filters, ahead: true, transposedLayout);
        }

        private static void Require(bool condition, string name)
        {
            if (!condition) throw new ArgumentException("The span is shorter than the layout needs.", name);
        }

        // U[position][ic][oc lanes] from the taps at weight[oc·outStride + ic·inStride + k] (k = 8 − k when flipped), 16
        // output channels at a time; the lanes past the last output channel are zero.
        // (Ahead: prepared for later calls, so large filters are streamed.)
        private static unsafe void Transform(ReadOnlySpan<float> weight, int outStride, int inStride, bool flip, Span<float> filters, bool ahead, in Layout l)
        {
            if (!Wide)
            {
                Transform256(weight, outStride, inStride, flip, filters, l);
                return;
            }
            // Pinned for the streaming stores (Streaming), which take an address.
            bool stream = ahead && Streaming.Pays(l.FiltersLength);
            fixed (float* pinned = filters)
                Transform(weight, outStride, inStride, flip, pinned, stream, l);
            if (stream) Streaming.Fence();
        }

        private static unsafe void Transform(ReadOnlySpan<float> weight, int outStride, int inStride, bool flip, float* u0, bool stream, in Layout l)
        {
            Span<float> taps = stackalloc float[V * V];
            Span<Vector512<float>> t = stackalloc Vector512<float>[18];
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float w = ref MemoryMarshal.GetReference(weight);
            nuint positionStride = (nuint)l.FilterPositionStride;
            var quarter = Vector512.Create(1f / 4); var sixth = Vector512.Create(-1f / 6);
            var a = Vector512.Create(1f / 24); var b = Vector512.Create(1f / 12); var c = Vector512.Create(1f / 6);
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                for (int ic = 0; ic < l.InChannels; ic++)
                {
                    // taps[k][lane] = tap k (flipped: 8 − k) of output channel group·16 + lane's filter: one 16x16 transpose
                    // of the 16 filters' rows (16 floats from the first tap, 9 used) where those rows lie inside weight.
                    ref float first = ref Unsafe.Add(ref w, group * V * outStride + ic * inStride);
                    if (Avx512F.IsSupported && lanes == V && (group * V + V - 1) * outStride + ic * inStride + V <= weight.Length)
                    {
                        DirectConvolution.Transpose16(ref first, outStride, ref g);
                        if (flip)
                            for (int k = 0; k < 4; k++) Swap(ref Unsafe.Add(ref g, k * V), ref Unsafe.Add(ref g, (8 - k) * V));
                    }
                    else
                    {
                        for (int k = 0; k < 9; k++)
                            for (int lane = 0; lane < V; lane++)
                                Unsafe.Add(ref g, k * V + lane) = lane < lanes ? Unsafe.Add(ref first, lane * outStride + (flip ? 8 - k : k)) : 0f;
                    }
                    // G g: six rows of three; then each row times Gᵀ: six of six.
                    for (int column = 0; column < 3; column++)
                    {
                        var (r0, r1, r2, r3, r4, r5) = ApplyG(Vector512.LoadUnsafe(ref g, (nuint)(column * V)), Vector512.LoadUnsafe(ref g, (nuint)((3 + column) * V)),
                            Vector512.LoadUnsafe(ref g, (nuint)((6 + column) * V)), quarter, sixth, a, b, c);
                        t[column] = r0; t[3 + column] = r1; t[6 + column] = r2; t[9 + column] = r3; t[12 + column] = r4; t[15 + column] = r5;
                    }
                    float* target = u0 + FilterAt(ic, group * V, l.InChannels, l.OutGroups);
                    for (int row = 0; row < 6; row++)
                    {
                        var (r0, r1, r2, r3, r4, r5) = ApplyG(t[3 * row], t[3 * row + 1], t[3 * row + 2], quarter, sixth, a, b, c);
                        float* at = target + (nuint)(row * 6) * positionStride;
                        Streaming.Store(r0, at, stream);
                        Streaming.Store(r1, at + positionStride, stream);
                        Streaming.Store(r2, at + 2 * positionStride, stream);
                        Streaming.Store(r3, at + 3 * positionStride, stream);
                        Streaming.Store(r4, at + 4 * positionStride, stream);
                        Streaming.Store(r5, at + 5 * positionStride, stream);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Swap(ref float a, ref float b)
        {
            var first = Vector512.LoadUnsafe(ref a);
            Vector512.LoadUnsafe(ref b).StoreUnsafe(ref a);
            first.StoreUnsafe(ref b);
        }

        // G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1] times (g0, g1, g2).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyG(
            Vector512<float> g0, Vector512<float> g1, Vector512<float> g2,
            Vector512<float> quarter, Vector512<float> minusSixth, Vector512<float> a, Vector512<float> b, Vector512<float> c)
        {
            var outer = g0 + g2;
            var even = g0 * a + g2 * c;
            var odd = g1 * b;
            return (g0 * quarter, (outer + g1) * minusSixth, (outer - g1) * minusSixth, even + odd, even - odd, g2);
        }

        /// <summary>
        /// y = conv2d(x, weight, bias, l.Kernel x l.Kernel, stride 1, padding) then ReLU when asked, then 2x2 max pooling when asked, for one
        /// sample: x [InChannels x Height x Width], filters from <see cref="TransformFilters"/>, bias [OutChannels] or
        /// empty, y [OutChannels x OH x OW] (pooled: [OutChannels x OH/2 x OW/2]). Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, bool pool, in Layout l) =>
            ForwardLinked(x, default, filters, bias, y, scratch, relu, pool, l, default, handOn: false);

        // The chunks of tiles, from the padded input to the output transform's target.
        private static void Transform(Span<float> padded, ReadOnlySpan<float> filters, Span<float> transformed, Span<float> products, Span<float> staging,
            Span<float> target, bool relu, bool pool, in Layout l, in Target into)
        {
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                if (!Wide)
                {
                    TransformInput256(padded, transformed, first, count, l);
                    Products256(transformed, filters, products, count, Positions, l.TransformedPositionStride, l.TransformedGroupStride, l.FilterPositionStride,
                        l.ProductPositionStride, l.OutLanes, l.InChannels, l.OutGroups);
                    if (l.Kernel == 5) TransformOutput2For256(products, staging, target, first, count, relu, pool, l, into);
                    else TransformOutput256(products, staging, target, first, count, relu, pool, l, into);
                    continue;
                }
                TransformInput(padded, transformed, first, count, l);
                Products(transformed, filters, products, count, Positions, l.TransformedPositionStride, l.TransformedGroupStride, l.FilterPositionStride,
                    l.ProductPositionStride, l.OutLanes, l.InChannels, l.OutGroups);
                if (l.Kernel == 5) TransformOutput2(products, staging, target, first, count, relu, pool, l, into);
                else TransformOutput(products, staging, target, first, count, relu, pool, l, into);
            }
        }

        /// <summary>
        /// Where the output transform puts a tile's (pooled) cells: [group][row][column][16 channels], <see cref="GroupStride"/>
        /// floats between groups, <see cref="RowCells"/> cells a row, the map's first cell <see cref="Offset"/> floats in.
        /// </summary>
        internal readonly struct Target
        {
            public readonly int GroupStride, RowCells, Offset;

            private Target(int groupStride, int rowCells, int offset)
            {
                GroupStride = groupStride; RowCells = rowCells; Offset = offset;
            }

            /// <summary>The kernel's own outputs buffer, which <see cref="Unpack"/> turns into NCHW.</summary>
            public static Target Outputs(in Layout l, bool pool) => new(l.OutputGroupStride, pool ? l.OutWidth / 2 : l.OutWidth, 0);

            /// <summary>The next layer's padded input (<paramref name="next"/>): the maps inside its margins.</summary>
            public static Target NextInput(in PaddedMaps next) => new(next.PaddedGroupStride, next.PaddedWidth, next.MapsOffset);
        }

        /// <summary>
        /// A Winograd kernel's padded input as the layer before writes it (this kernel's, or StridedWinogradConvolution's: the
        /// same layout): [group][padded row][padded column][16 channels], the maps' cell (r, c) at (r + Padding, c + Padding),
        /// zeros elsewhere.
        /// </summary>
        internal readonly struct PaddedMaps
        {
            public readonly int InChannels, Height, Width, Padding, PaddedWidth, PaddedGroupStride, PaddedLength;

            public PaddedMaps(int inChannels, int height, int width, int padding, int paddedWidth, int paddedGroupStride, int paddedLength)
            {
                InChannels = inChannels; Height = height; Width = width; Padding = padding;
                PaddedWidth = paddedWidth; PaddedGroupStride = paddedGroupStride; PaddedLength = paddedLength;
            }

            /// <summary>Floats from a group's start to the maps' first cell (row and column Padding).</summary>
            public int MapsOffset => (Padding * PaddedWidth + Padding) * V;
        }

        /// <summary>
        /// <see cref="Forward"/> linked to the layers around it (<see cref="DirectConvolution.ForwardLinked"/>): where
        /// <paramref name="padded"/> is not empty it is this layer's input, padded already by the layer before (x is not read);
        /// with <paramref name="handOn"/>, y is the next layer's padded input (layout <paramref name="next"/>, whose input is
        /// this layer's (pooled) output), written with its margins zero, and nothing is turned back into NCHW. The same
        /// operations per tile as <see cref="Forward"/>, so the same floats. Where <paramref name="shortcut"/> is not empty (and
        /// not handOn), y is the layer's output plus the shortcut's maps (NCHW, y's shape), then ReLU with
        /// <paramref name="reluAfterSum"/>: a residual join taken as the maps are turned into NCHW, the same floats as
        /// <see cref="Elementwise.Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> (or <see cref="Elementwise.SumRelu"/>) after it.
        /// </summary>
        internal static void ForwardLinked(ReadOnlySpan<float> x, Span<float> padded, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, bool pool, in Layout l, in PaddedMaps next, bool handOn, ReadOnlySpan<float> shortcut = default, bool reluAfterSum = false)
        {
            if (!Runs(l.Kernel)) throw new PlatformNotSupportedException("WinogradF4Convolution needs AVX-512, or AVX2 and FMA.");
            if (l.Dilation > 1 && (handOn || !padded.IsEmpty)) throw new ArgumentException("A dilated layout is not linked.", nameof(l));
            if (pool && (l.OutHeight < 2 || l.OutWidth < 2)) throw new ArgumentException("A 2x2 pooling window needs an output of at least 2x2.", nameof(pool));
            if (pool && l.Dilation > 1) throw new ArgumentException("A dilated layout has no pooled output.", nameof(pool));
            int outHeight = pool ? l.OutHeight / 2 : l.OutHeight, outWidth = pool ? l.OutWidth / 2 : l.OutWidth;
            if (padded.IsEmpty) Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            else Require(padded.Length >= l.PaddedLength, nameof(padded));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            if (handOn)
            {
                if (next.InChannels != l.OutChannels || next.Height != outHeight || next.Width != outWidth)
                    throw new ArgumentException("The next layer's input is not this layer's output.", nameof(next));
                Require(y.Length >= next.PaddedLength, nameof(y));
            }
            else Require(y.Length >= l.OutChannels * outHeight * outWidth, nameof(y));
            if (!shortcut.IsEmpty)
            {
                if (handOn) throw new ArgumentException("A residual join is taken into NCHW maps, not into the next layer's padded input.", nameof(shortcut));
                Require(shortcut.Length >= l.OutChannels * outHeight * outWidth, nameof(shortcut));
            }
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));

            // Every buffer's length is a multiple of 16 floats: from a 64-byte boundary each vector of the padded input, V, M
            // and the outputs is one cache line, not two (ScratchLength has the 16 floats this may skip).
            var ownPadded = PaddedInput(scratch, l);
            scratch = scratch.Slice(FloatsToCacheLine(scratch));
            var staging = scratch.Slice(0, l.StagingLength);
            int at = l.StagingLength + l.PaddedLength;
            var transformed = scratch.Slice(at, l.TransformedLength); at += l.TransformedLength;
            var products = scratch.Slice(at, l.ProductLength); at += l.ProductLength;
            var outputs = scratch.Slice(at, l.OutputLength);
            var biasLanes = staging.Slice(Layout.BiasOffset, l.OutLanes);
            for (int oc = 0; oc < l.OutLanes; oc++) biasLanes[oc] = oc < l.OutChannels && !bias.IsEmpty ? bias[oc] : 0f;

            var input = padded.IsEmpty ? ownPadded : padded;
            if (padded.IsEmpty)
            {
                if (Wide) Pad(x, input, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
                else Pad256(x, input, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
            }
            if (!handOn)
            {
                Transform(input, filters, transformed, products, staging, outputs, relu, pool, l, Target.Outputs(l, pool));
                int cells = outHeight * outWidth;
                if (!Wide)
                {
                    Unpack256(outputs, y, cells, l.OutChannels, l.OutputGroupStride, shortcut, reluAfterSum);
                    return;
                }
                if (shortcut.IsEmpty) Unpack(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride);
                else if (reluAfterSum) Unpack<DirectConvolution.SumReluRows>(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride, shortcut);
                else Unpack<DirectConvolution.SumRows>(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride, shortcut);
                return;
            }
            ClearMargins(y, next);
            Transform(input, filters, transformed, products, staging, y, relu, pool, l, Target.NextInput(next));
        }

        // Zero a padded input's rows and columns outside its maps (what Pad clears), for the layer before to write the maps in
        // between. Shared with StridedWinogradConvolution.
        internal static void ClearMargins(Span<float> padded, in PaddedMaps maps)
        {
            int p = maps.Padding, rowLength = maps.PaddedWidth * V, rightStart = (p + maps.Width) * V;
            for (int group = 0; group < (maps.InChannels + V - 1) / V; group++)
            {
                var target = padded.Slice(group * maps.PaddedGroupStride, maps.PaddedGroupStride);
                target.Slice(0, p * rowLength).Clear();
                target.Slice((p + maps.Height) * rowLength).Clear();
                ref float t0 = ref MemoryMarshal.GetReference(target);
                for (int r = p; r < p + maps.Height; r++)
                {
                    ref float row = ref Unsafe.Add(ref t0, r * rowLength);
                    if (!Wide)
                    {
                        ClearCells(ref row, 0, p * V);
                        ClearCells(ref row, rightStart, rowLength);
                        continue;
                    }
                    for (int at = 0; at < p * V; at += V) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)at);
                    for (int at = rightStart; at < rowLength; at += V) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)at);
                }
            }
        }

        /// <summary>
        /// Where <see cref="Forward"/> leaves its input blocked and padded in <paramref name="scratch"/> (the same span it was
        /// given): [group][padded row][padded column][16 channels], the input's cell (r, c) at (r + Padding, c + Padding), zeros
        /// elsewhere (lanes past the channels too). Valid until scratch is written again.
        /// </summary>
        internal static Span<float> PaddedInput(Span<float> scratch, in Layout l) =>
            scratch.Slice(FloatsToCacheLine(scratch) + l.StagingLength, l.PaddedLength);

        // Floats from the start of span to the next 64-byte boundary (0-15). Only for scratch, whose contents do not outlive
        // a call: wherever the array lies this time is all that matters. Shared with StridedWinogradConvolution and
        // DepthwiseConvolution.
        internal static unsafe int FloatsToCacheLine(Span<float> span) =>
            (int)((64 - ((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) & 63)) & 63) / sizeof(float);

        // x [C x H x W] into [group][padded row][padded column][16 channels], zero outside the image: 16x16 transposes of
        // 16 channels x 16 consecutive cells of the plane; the scalar way where a block would read past x. The buffer's rows
        // are paddedWidth ≥ width + padding wide, paddedGroupStride / (16 paddedWidth) ≥ height + padding of them; staging
        // takes 2 x 256 floats. Shared with StridedWinogradConvolution.
        internal static void Pad(ReadOnlySpan<float> x, Span<float> padded, Span<float> staging, int inChannels, int height, int width, int padding,
            int paddedWidth, int paddedGroupStride)
        {
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float block = ref MemoryMarshal.GetReference(staging);
            int plane = height * width, p = padding, inGroups = (inChannels + V - 1) / V;
            int rowLength = paddedWidth * V, rightStart = (p + width) * V;
            for (int group = 0; group < inGroups; group++)
            {
                var target = padded.Slice(group * paddedGroupStride, paddedGroupStride);
                target.Slice(0, p * rowLength).Clear();
                target.Slice((p + height) * rowLength).Clear();
                ref float t0 = ref MemoryMarshal.GetReference(target);
                // The left and right margins are a few cells of 16 floats: vector stores, not two Span.Clear calls a row.
                for (int r = p; r < p + height; r++)
                {
                    ref float row = ref Unsafe.Add(ref t0, r * rowLength);
                    for (int at = 0; at < p * V; at += V) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)at);
                    for (int at = rightStart; at < rowLength; at += V) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)at);
                }
                int channels = Math.Min(V, inChannels - group * V);
                int iy = 0, ix = 0;
                for (int f = 0; f < plane; f += V)
                {
                    int cells = Math.Min(V, plane - f);
                    ref float first = ref Unsafe.Add(ref source, group * V * plane + f);
                    bool whole = channels == V && (group * V + V - 1) * plane + f + V <= inChannels * plane;
                    ref float rows = ref first;
                    int stride = plane;
                    if (!whole)
                    {
                        // Fewer than 16 channels, or the last cells of the last channel: staged as 16 rows of 16 (zeros
                        // past the channels and cells), then transposed the same way.
                        rows = ref Unsafe.Add(ref block, V * V);
                        stride = V;
                        for (int c = 0; c < V; c++)
                        {
                            ref float row = ref Unsafe.Add(ref rows, c * V);
                            if (c >= channels) Vector512<float>.Zero.StoreUnsafe(ref row);
                            else if (cells == V) Vector512.LoadUnsafe(ref first, (nuint)(c * plane)).StoreUnsafe(ref row);
                            else
                                for (int j = 0; j < V; j++) Unsafe.Add(ref row, j) = j < cells ? Unsafe.Add(ref first, c * plane + j) : 0f;
                        }
                    }
                    if (cells == V && ix + V <= width)
                    {
                        // 16 cells of one row: 16 consecutive padded cells, the transpose's own layout.
                        DirectConvolution.Transpose16(ref rows, stride, ref Unsafe.Add(ref t0, ((iy + p) * paddedWidth + ix + p) * V));
                        ix += V;
                        if (ix == width) { ix = 0; iy++; }
                        continue;
                    }
                    DirectConvolution.Transpose16(ref rows, stride, ref block);
                    for (int j = 0; j < cells; j++)
                    {
                        Vector512.LoadUnsafe(ref block, (nuint)(j * V)).StoreUnsafe(ref Unsafe.Add(ref t0, ((iy + p) * paddedWidth + ix + p) * V));
                        if (++ix == width) { ix = 0; iy++; }
                    }
                }
            }
        }

        // V[position][group][tile − first][16 channels] = Bᵀ d B of each tile's 6x6 window, for the chunk's tiles.
        private static void TransformInput(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            // A dilated layout's windows step d cells along the map's padded rows and columns (Layout.Dilation).
            int step = l.Dilation, tilesPerPhase = l.TileRows * l.TileColumns;
            nuint rowStride = (nuint)(step * l.PaddedWidth * V), cellStride = (nuint)(step * V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int origin = Origin(t, step, tilesPerPhase, l.PaddedWidth, l, out int ty, out int tx);
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (origin + step * l.TileSize * (ty * l.PaddedWidth + tx)) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    TransformWindow(ref d, cellStride, rowStride, ref target, positionStride);
                }
            }
        }

        /// <summary>
        /// Bᵀ d B of one 6x6 window (cells <paramref name="cellStride"/> floats apart along a row, rows <paramref name="rowStride"/>),
        /// 16 lanes each, stored at position a·6 + b, <paramref name="positionStride"/> floats apart. Rows first: e[i][b] = (d[i][·]
        /// B)[b]; then columns: (Bᵀ e[·][b])[a]. Three columns at a time, their 18 row values in registers rather than in memory
        /// (each half of a row by StoreBt's operations). Shared with the F(4x4) weight gradient (WinogradWeightGradient.F4.cs).
        /// The JIT calls it (too large to inline), once a window and channel group: the forward's and the weight gradient's
        /// times measured the same as with the body written into their loops (KernelBench transpose and wgrad-tiles).
        /// </summary>
        internal static void TransformWindow(ref float d, nuint cellStride, nuint rowStride, ref float target, nuint positionStride)
        {
            var (e00, e01, e02) = FirstHalfOfBt(ref d, cellStride);
            var (e10, e11, e12) = FirstHalfOfBt(ref Unsafe.Add(ref d, rowStride), cellStride);
            var (e20, e21, e22) = FirstHalfOfBt(ref Unsafe.Add(ref d, 2 * rowStride), cellStride);
            var (e30, e31, e32) = FirstHalfOfBt(ref Unsafe.Add(ref d, 3 * rowStride), cellStride);
            var (e40, e41, e42) = FirstHalfOfBt(ref Unsafe.Add(ref d, 4 * rowStride), cellStride);
            var (e50, e51, e52) = FirstHalfOfBt(ref Unsafe.Add(ref d, 5 * rowStride), cellStride);
            nuint down = 6 * positionStride;
            StoreBt(e00, e10, e20, e30, e40, e50, ref target, down);
            StoreBt(e01, e11, e21, e31, e41, e51, ref Unsafe.Add(ref target, positionStride), down);
            StoreBt(e02, e12, e22, e32, e42, e52, ref Unsafe.Add(ref target, 2 * positionStride), down);
            var (e03, e04, e05) = SecondHalfOfBt(ref d, cellStride);
            var (e13, e14, e15) = SecondHalfOfBt(ref Unsafe.Add(ref d, rowStride), cellStride);
            var (e23, e24, e25) = SecondHalfOfBt(ref Unsafe.Add(ref d, 2 * rowStride), cellStride);
            var (e33, e34, e35) = SecondHalfOfBt(ref Unsafe.Add(ref d, 3 * rowStride), cellStride);
            var (e43, e44, e45) = SecondHalfOfBt(ref Unsafe.Add(ref d, 4 * rowStride), cellStride);
            var (e53, e54, e55) = SecondHalfOfBt(ref Unsafe.Add(ref d, 5 * rowStride), cellStride);
            StoreBt(e03, e13, e23, e33, e43, e53, ref Unsafe.Add(ref target, 3 * positionStride), down);
            StoreBt(e04, e14, e24, e34, e44, e54, ref Unsafe.Add(ref target, 4 * positionStride), down);
            StoreBt(e05, e15, e25, e35, e45, e55, ref Unsafe.Add(ref target, 5 * positionStride), down);
        }

        // Tile t's row and column of tiles in its phase, and the cell of the phase's first cell in a buffer pitch cells wide:
        // the map's (ry, rx) for phase ry·d + rx, the tiles phase by phase (0 and t itself where the layout is not dilated).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Origin(int t, int step, int tilesPerPhase, int pitch, in Layout l, out int ty, out int tx)
        {
            int origin = 0;
            if (step > 1)
            {
                int phase = t / tilesPerPhase;
                t -= phase * tilesPerPhase;
                int ry = phase / step;
                origin = ry * pitch + phase - ry * step;
            }
            ty = t / l.TileColumns;
            tx = t - ty * l.TileColumns;
            return origin;
        }

        // Bᵀ's first three rows times (d0..d4) of a source (d5 is not read), in StoreBt's operations.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>) FirstHalfOfBt(ref float source, nuint stride)
        {
            var d0 = Vector512.LoadUnsafe(ref source); var d1 = Vector512.LoadUnsafe(ref source, stride);
            var d2 = Vector512.LoadUnsafe(ref source, 2 * stride); var d3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var d4 = Vector512.LoadUnsafe(ref source, 4 * stride);
            var four = Vector512.Create(4f);
            var sum12 = d1 + d2; var difference12 = d1 - d2;
            return (Fused.MultiplyAdd(d0, four, d4) - d2 * Vector512.Create(5f), d3 + d4 - sum12 * four, Fused.MultiplyAdd(difference12, four, d4 - d3));
        }

        // Bᵀ's last three rows times (d1..d5) of a source (d0 is not read), in StoreBt's operations.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>) SecondHalfOfBt(ref float source, nuint stride)
        {
            var d1 = Vector512.LoadUnsafe(ref source, stride); var d2 = Vector512.LoadUnsafe(ref source, 2 * stride);
            var d3 = Vector512.LoadUnsafe(ref source, 3 * stride); var d4 = Vector512.LoadUnsafe(ref source, 4 * stride);
            var d5 = Vector512.LoadUnsafe(ref source, 5 * stride);
            var edge = d4 - d2; var odd = (d3 - d1) * Vector512.Create(2f);
            return (edge + odd, edge - odd, Fused.MultiplyAdd(d1, Vector512.Create(4f), d5) - d3 * Vector512.Create(5f));
        }

        // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1] times (d0..d5), stored
        // targetStride floats apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreBt(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
            ref float target, nuint targetStride)
        {
            var four = Vector512.Create(4f); var five = Vector512.Create(5f); var two = Vector512.Create(2f);
            var sum12 = d1 + d2; var difference12 = d1 - d2;
            var edge = d4 - d2; var odd = (d3 - d1) * two;
            (Fused.MultiplyAdd(d0, four, d4) - d2 * five).StoreUnsafe(ref target);
            (d3 + d4 - sum12 * four).StoreUnsafe(ref target, targetStride);
            (Fused.MultiplyAdd(difference12, four, d4 - d3)).StoreUnsafe(ref target, 2 * targetStride);
            (edge + odd).StoreUnsafe(ref target, 3 * targetStride);
            (edge - odd).StoreUnsafe(ref target, 4 * targetStride);
            (Fused.MultiplyAdd(d1, four, d5) - d3 * five).StoreUnsafe(ref target, 5 * targetStride);
        }

        // M[position][tile][oc lanes] for the chunk: per position, blocks of output-channel vectors x tiles. V is
        // [position][group][tile][16], U [position][ic][oc lanes], M [position][tile][oc lanes] or [tile][position][oc lanes] (the
        // strides say which). Where filterSlots is given, U's position for each position is its slot there (the stride-2
        // kernel's positions share filters). Shared with StridedWinogradConvolution.
        internal static void Products(Span<float> transformed, ReadOnlySpan<float> filters, Span<float> products, int count, int positions,
            int transformedPositionStride, int transformedGroupStride, int filterPositionStride, int productPositionStride, int productTileStride,
            int inChannels, int outGroups, ReadOnlySpan<byte> filterSlots = default)
        {
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            ref float m0 = ref MemoryMarshal.GetReference(products);
            int vectorBlocks = VectorBlocks(outGroups), outLanes = outGroups * V;
            for (int position = 0; position < positions; position++)
            {
                ref float v = ref Unsafe.Add(ref v0, position * transformedPositionStride);
                ref float u = ref Unsafe.Add(ref u0, (filterSlots.IsEmpty ? position : filterSlots[position]) * filterPositionStride);
                ref float m = ref Unsafe.Add(ref m0, position * productPositionStride);
                for (int block = 0; block < vectorBlocks; block++)
                {
                    var (start, vectors) = VectorBlock(outGroups, vectorBlocks, block);
                    // Tile blocks as even as they go; the block's filter rows lie one after the other (FilterAt).
                    int most = vectors == 4 ? 6 : vectors == 3 ? 8 : vectors == 2 ? 12 : 24;
                    int tileBlocks = (count + most - 1) / most;
                    for (int tb = 0; tb < tileBlocks; tb++)
                    {
                        int t0 = tb * count / tileBlocks, tiles = (tb + 1) * count / tileBlocks - t0;
                        TileOf(vectors, tiles, ref Unsafe.Add(ref v, t0 * V), transformedGroupStride, inChannels, ref Unsafe.Add(ref u, inChannels * start * V), vectors * V,
                            ref Unsafe.Add(ref m, t0 * productTileStride + start * V), productTileStride);
                    }
                }
            }
        }

        /// <summary>
        /// Where output lane <paramref name="lane"/> of filter row <paramref name="row"/> (an input channel, or a tap's) lies in
        /// one position's filters of <paramref name="depth"/> rows and <paramref name="outGroups"/> vectors of lanes: each block
        /// of output vectors (<see cref="VectorBlock"/>) keeps its rows one after the other, so <see cref="Products"/> reads a
        /// block's filters front to back instead of a few vectors from every row. Where the filters come from the L3 or memory
        /// for few tiles that is a stream the prefetchers keep up with (session 37: a transposed 512x4x4 -> 256 layer's direct
        /// phases 648 -> 374 µs; the strided network's chain with its 64 -> 128 layer on the 4x4 tile 1.05x the rule's).
        /// </summary>
        internal static int FilterAt(int row, int lane, int depth, int outGroups)
        {
            int group = lane / V, blocks = VectorBlocks(outGroups);
            int block = ((group + 1) * blocks - 1) / outGroups; // the last block starting at or before the group
            var (start, vectors) = VectorBlock(outGroups, blocks, block);
            return depth * start * V + row * vectors * V + lane - start * V;
        }

        /// <summary>How many blocks of at most 4 output vectors the register tiles take outGroups vectors in.</summary>
        internal static int VectorBlocks(int outGroups) => (outGroups + 3) / 4;

        /// <summary>Block <paramref name="block"/>'s first vector and vectors: as even as they go (6 vectors as 3 + 3, not 4 + 2).</summary>
        internal static (int Start, int Vectors) VectorBlock(int outGroups, int vectorBlocks, int block)
        {
            int start = block * outGroups / vectorBlocks;
            return (start, (block + 1) * outGroups / vectorBlocks - start);
        }

        // Y = Aᵀ M A + bias per tile and group of 16 output channels, ReLU, the 2x2 maximum when pooling (PyTorch's scan
        // order, as Pooling); into outputs[group][cell][16 channels], cells of the (pooled) output only.
        private static void TransformOutput(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, bool pool, in Layout l,
            in Target into)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float e = ref MemoryMarshal.GetReference(staging);
            ref float biasLanes = ref Unsafe.Add(ref e, Layout.BiasOffset);
            ref float o0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputs), into.Offset);
            nuint positionStride = (nuint)l.ProductPositionStride;
            int pooledHeight = l.OutHeight / 2, pooledWidth = l.OutWidth / 2;
            // A dilated layout's tiles write every d-th cell of the map's rows and columns, phase (ry, rx) from (ry, rx).
            int step = l.Dilation, tilesPerPhase = l.TileRows * l.TileColumns, h = l.OutHeight / step, w = l.OutWidth / step, pitch = step * into.RowCells;
            for (int t = first; t < first + count; t++)
            {
                int origin = Origin(t, step, tilesPerPhase, into.RowCells, l, out int ty, out int tx);
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.OutLanes + group * V);
                    // Rows: e[a][j] = (M[a][·] A)[j]; then columns: y[i][j] = (Aᵀ e[·][j])[i], each row added to the outputs
                    // it reaches as soon as it is made (rows 1 and 2, and 3 and 4, as their sums and differences), so no row
                    // waits in memory; the additions are the column transform's, in its order (ApplyAt's).
                    var (e10, e11, e12, e13) = ApplyAt(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (e20, e21, e22, e23) = ApplyAt(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    Vector512<float> s0 = e10 + e20, s1 = e11 + e21, s2 = e12 + e22, s3 = e13 + e23;
                    Vector512<float> d0 = e10 - e20, d1 = e11 - e21, d2 = e12 - e22, d3 = e13 - e23;
                    var (e00, e01, e02, e03) = ApplyAt(ref m, positionStride);
                    Vector512<float> y00 = e00 + s0, y01 = e01 + s1, y02 = e02 + s2, y03 = e03 + s3;
                    var (e30, e31, e32, e33) = ApplyAt(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (e40, e41, e42, e43) = ApplyAt(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (y10, y20, y30) = Columns(e30, e40, s0, d0, ref y00);
                    var (y11, y21, y31) = Columns(e31, e41, s1, d1, ref y01);
                    var (y12, y22, y32) = Columns(e32, e42, s2, d2, ref y02);
                    var (y13, y23, y33) = Columns(e33, e43, s3, d3, ref y03);
                    var (e50, e51, e52, e53) = ApplyAt(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    y30 += e50; y31 += e51; y32 += e52; y33 += e53;
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu); y02 = Finish(y02, bias, relu); y03 = Finish(y03, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu); y12 = Finish(y12, bias, relu); y13 = Finish(y13, bias, relu);
                    y20 = Finish(y20, bias, relu); y21 = Finish(y21, bias, relu); y22 = Finish(y22, bias, relu); y23 = Finish(y23, bias, relu);
                    y30 = Finish(y30, bias, relu); y31 = Finish(y31, bias, relu); y32 = Finish(y32, bias, relu); y33 = Finish(y33, bias, relu);
                    ref float target = ref Unsafe.Add(ref o0, group * into.GroupStride + origin * V);
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

        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1] times (m0..m5).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyAt(ref float source, nuint stride)
        {
            var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, stride);
            var m2 = Vector512.LoadUnsafe(ref source, 2 * stride); var m3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector512.LoadUnsafe(ref source, 4 * stride); var m5 = Vector512.LoadUnsafe(ref source, 5 * stride);
            var sum12 = m1 + m2; var difference12 = m1 - m2; var sum34 = m3 + m4; var difference34 = m3 - m4;
            return (m0 + sum12 + sum34,
                Fused.MultiplyAdd(difference34, Vector512.Create(2f), difference12),
                Fused.MultiplyAdd(sum34, Vector512.Create(4f), sum12),
                Fused.MultiplyAdd(difference34, Vector512.Create(8f), difference12) + m5);
        }

        // One column of Aᵀ e from rows 3 and 4 and what rows 0-2 made of it: y0 (row 0 plus the sum of rows 1 and 2) completed,
        // y1-y3 begun (y3 waits for row 5), as ApplyAt would add them.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>) Columns(Vector512<float> e3, Vector512<float> e4,
            Vector512<float> sum12, Vector512<float> difference12, ref Vector512<float> y0)
        {
            var sum34 = e3 + e4; var difference34 = e3 - e4;
            y0 += sum34;
            return (Fused.MultiplyAdd(difference34, Vector512.Create(2f), difference12),
                Fused.MultiplyAdd(sum34, Vector512.Create(4f), sum12),
                Fused.MultiplyAdd(difference34, Vector512.Create(8f), difference12));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Finish(Vector512<float> value, Vector512<float> bias, bool relu) =>
            relu ? Elementwise.Relu(value + bias) : value + bias;

        // The window's maximum in row order: the first maximum wins, a NaN wins over everything.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Max(Vector512<float> topLeft, Vector512<float> topRight, Vector512<float> bottomLeft, Vector512<float> bottomRight) =>
            Pooling.Later(bottomRight, Pooling.Later(bottomLeft, Pooling.Later(topRight, topLeft)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Put(ref float target, int row, int column, Vector512<float> value, int height, int width) =>
            Put(ref target, row, column, value, height, width, width);

        // One cell's vector, stored at (row, column) of a target pitch cells a row and step cells a column, when inside
        // height x width.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Put(ref float target, int row, int column, Vector512<float> value, int height, int width, int pitch, int step = 1)
        {
            if (row < height && column < width) value.StoreUnsafe(ref target, (nuint)((row * pitch + column * step) * V));
        }

        // A 4x4 output tile at (oy, ox) of [row][column][16 channels] cells, pitch cells a row (height x width of them inside;
        // pitch = width unless the target is a padded layout or a dilated layout's phase) and step cells a column (a dilated
        // layout's d): four rows of four vectors, or cell by cell where the tile runs past the bottom or right edge. Shared
        // with StridedWinogradConvolution.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreTile4x4(ref float target, int oy, int ox, int h, int w, int pitch,
            Vector512<float> y00, Vector512<float> y01, Vector512<float> y02, Vector512<float> y03,
            Vector512<float> y10, Vector512<float> y11, Vector512<float> y12, Vector512<float> y13,
            Vector512<float> y20, Vector512<float> y21, Vector512<float> y22, Vector512<float> y23,
            Vector512<float> y30, Vector512<float> y31, Vector512<float> y32, Vector512<float> y33, int step = 1)
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

        // outputs[group][cell][16 channels] to y[channel][cell]. A whole group of 16 channels on planes that are not a
        // multiple of 1,024 floats (4 KB) apart: each 16x16 transpose of 16 cells x 16 channels straight into the 16 planes.
        // Planes a multiple of 4 KB apart put those 16 rows in the same set of the L1 cache, so there (and for the last
        // group's channels and cells) four transposes go to staging first, then 64 cells per channel row. KernelBench
        // transpose (benchmarks/README.md, session 12): straight 1.3-2.2x faster than staged from 7x7 to 16x16 planes,
        // 1.6-2.3x slower on 32x32. Staging takes 1,024 floats. Shared with StridedWinogradConvolution.
        internal static void Unpack(Span<float> outputs, Span<float> y, Span<float> staging, int cells, int outChannels, int outputGroupStride) =>
            Unpack<DirectConvolution.PlainRows>(outputs, y, staging, cells, outChannels, outputGroupStride, y);

        // The same, each value stored as TRows says: as it is, or plus the shortcut's value at the same place of its NCHW
        // maps (then ReLU), a residual join the block's last layer takes (DirectConvolution.ForwardJoined).
        internal static void Unpack<TRows>(Span<float> outputs, Span<float> y, Span<float> staging, int cells, int outChannels, int outputGroupStride,
            ReadOnlySpan<float> shortcut) where TRows : struct, DirectConvolution.IRowStore
        {
            ref float source = ref MemoryMarshal.GetReference(outputs);
            ref float block = ref MemoryMarshal.GetReference(staging);
            ref float target = ref MemoryMarshal.GetReference(y);
            ref float added = ref MemoryMarshal.GetReference(shortcut);
            for (int group = 0; group < (outChannels + V - 1) / V; group++)
            {
                int channels = Math.Min(V, outChannels - group * V);
                int start = 0;
                if (channels == V && cells % 1024 != 0)
                {
                    ref float planes = ref Unsafe.Add(ref target, group * V * cells);
                    ref float shortcutPlanes = ref Unsafe.Add(ref added, group * V * cells);
                    for (; start + V <= cells; start += V)
                        DirectConvolution.Transpose16<TRows>(ref Unsafe.Add(ref source, group * outputGroupStride + start * V), V, ref Unsafe.Add(ref planes, start), cells,
                            ref Unsafe.Add(ref shortcutPlanes, start));
                }
                for (int f = start; f < cells; f += UnpackCells)
                {
                    int count = Math.Min(UnpackCells, cells - f);
                    for (int b = 0; b < count; b += V)
                        DirectConvolution.Transpose16(ref Unsafe.Add(ref source, group * outputGroupStride + (f + b) * V), V, ref Unsafe.Add(ref block, b * V));
                    for (int c = 0; c < channels; c++)
                    {
                        ref float row = ref Unsafe.Add(ref target, (group * V + c) * cells + f);
                        ref float shortcutRow = ref Unsafe.Add(ref added, (group * V + c) * cells + f);
                        int j = 0;
                        for (; j + V <= count; j += V) TRows.Store(Vector512.LoadUnsafe(ref block, (nuint)(j * V + c * V)), ref row, (nuint)j, ref shortcutRow);
                        for (; j < count; j++)
                            Unsafe.Add(ref row, j) = TRows.Of(Unsafe.Add(ref block, (j & ~(V - 1)) * V + c * V + (j & (V - 1))), Unsafe.Add(ref shortcutRow, j));
                    }
                }
            }
        }

        // M[tile][oc] (TOc vectors of output channels x TTiles tiles) = Σ over input channels of V[ic][tile] · U[ic][oc], one
        // position. v: the block's first tile in V[group][tile][16 lanes]; u: U[ic][oc lanes] at the block's first vector;
        // m: M[tile][oc lanes] at the same. Per input channel: TOc filter loads, TTiles broadcasts, TOc x TTiles multiply-adds.
        private static void Tile<TOc, TTiles>(ref float v, int groupStride, int inChannels, ref float u, int filterStride, ref float m, int productStride)
            where TOc : struct, IConstant where TTiles : struct, IConstant
        {
            var a0_0 = Vector512<float>.Zero; var a1_0 = Vector512<float>.Zero; var a2_0 = Vector512<float>.Zero; var a3_0 = Vector512<float>.Zero;
            var a0_1 = Vector512<float>.Zero; var a1_1 = Vector512<float>.Zero; var a2_1 = Vector512<float>.Zero; var a3_1 = Vector512<float>.Zero;
            var a0_2 = Vector512<float>.Zero; var a1_2 = Vector512<float>.Zero; var a2_2 = Vector512<float>.Zero; var a3_2 = Vector512<float>.Zero;
            var a0_3 = Vector512<float>.Zero; var a1_3 = Vector512<float>.Zero; var a2_3 = Vector512<float>.Zero; var a3_3 = Vector512<float>.Zero;
            var a0_4 = Vector512<float>.Zero; var a1_4 = Vector512<float>.Zero; var a2_4 = Vector512<float>.Zero; var a3_4 = Vector512<float>.Zero;
            var a0_5 = Vector512<float>.Zero; var a1_5 = Vector512<float>.Zero; var a2_5 = Vector512<float>.Zero; var a3_5 = Vector512<float>.Zero;
            var a0_6 = Vector512<float>.Zero; var a1_6 = Vector512<float>.Zero; var a2_6 = Vector512<float>.Zero; var a3_6 = Vector512<float>.Zero;
            var a0_7 = Vector512<float>.Zero; var a1_7 = Vector512<float>.Zero; var a2_7 = Vector512<float>.Zero; var a3_7 = Vector512<float>.Zero;
            var a0_8 = Vector512<float>.Zero; var a1_8 = Vector512<float>.Zero; var a2_8 = Vector512<float>.Zero; var a3_8 = Vector512<float>.Zero;
            var a0_9 = Vector512<float>.Zero; var a1_9 = Vector512<float>.Zero; var a2_9 = Vector512<float>.Zero; var a3_9 = Vector512<float>.Zero;
            var a0_10 = Vector512<float>.Zero; var a1_10 = Vector512<float>.Zero; var a2_10 = Vector512<float>.Zero; var a3_10 = Vector512<float>.Zero;
            var a0_11 = Vector512<float>.Zero; var a1_11 = Vector512<float>.Zero; var a2_11 = Vector512<float>.Zero; var a3_11 = Vector512<float>.Zero;
            var a0_12 = Vector512<float>.Zero;
            var a0_13 = Vector512<float>.Zero;
            var a0_14 = Vector512<float>.Zero;
            var a0_15 = Vector512<float>.Zero;
            var a0_16 = Vector512<float>.Zero;
            var a0_17 = Vector512<float>.Zero;
            var a0_18 = Vector512<float>.Zero;
            var a0_19 = Vector512<float>.Zero;
            var a0_20 = Vector512<float>.Zero;
            var a0_21 = Vector512<float>.Zero;
            var a0_22 = Vector512<float>.Zero;
            var a0_23 = Vector512<float>.Zero;
            for (int first = 0; first < inChannels; first += V)
            {
                int count = Math.Min(V, inChannels - first);
                ref float lane = ref Unsafe.Add(ref v, first / V * groupStride);
                ref float filter = ref Unsafe.Add(ref u, first * filterStride);
                for (int l = 0; l < count; l++)
                {
                    var u0 = Vector512.LoadUnsafe(ref filter);
                    var u1 = TOc.Value > 1 ? Vector512.LoadUnsafe(ref filter, V) : default;
                    var u2 = TOc.Value > 2 ? Vector512.LoadUnsafe(ref filter, 2 * V) : default;
                    var u3 = TOc.Value > 3 ? Vector512.LoadUnsafe(ref filter, 3 * V) : default;
                    { var b = Vector512.Create(Unsafe.Add(ref lane, 0)); a0_0 = Fused.MultiplyAdd(u0, b, a0_0); if (TOc.Value > 1) a1_0 = Fused.MultiplyAdd(u1, b, a1_0); if (TOc.Value > 2) a2_0 = Fused.MultiplyAdd(u2, b, a2_0); if (TOc.Value > 3) a3_0 = Fused.MultiplyAdd(u3, b, a3_0); }
                    if (TTiles.Value > 1) { var b = Vector512.Create(Unsafe.Add(ref lane, 16)); a0_1 = Fused.MultiplyAdd(u0, b, a0_1); if (TOc.Value > 1) a1_1 = Fused.MultiplyAdd(u1, b, a1_1); if (TOc.Value > 2) a2_1 = Fused.MultiplyAdd(u2, b, a2_1); if (TOc.Value > 3) a3_1 = Fused.MultiplyAdd(u3, b, a3_1); }
                    if (TTiles.Value > 2) { var b = Vector512.Create(Unsafe.Add(ref lane, 32)); a0_2 = Fused.MultiplyAdd(u0, b, a0_2); if (TOc.Value > 1) a1_2 = Fused.MultiplyAdd(u1, b, a1_2); if (TOc.Value > 2) a2_2 = Fused.MultiplyAdd(u2, b, a2_2); if (TOc.Value > 3) a3_2 = Fused.MultiplyAdd(u3, b, a3_2); }
                    if (TTiles.Value > 3) { var b = Vector512.Create(Unsafe.Add(ref lane, 48)); a0_3 = Fused.MultiplyAdd(u0, b, a0_3); if (TOc.Value > 1) a1_3 = Fused.MultiplyAdd(u1, b, a1_3); if (TOc.Value > 2) a2_3 = Fused.MultiplyAdd(u2, b, a2_3); if (TOc.Value > 3) a3_3 = Fused.MultiplyAdd(u3, b, a3_3); }
                    if (TTiles.Value > 4) { var b = Vector512.Create(Unsafe.Add(ref lane, 64)); a0_4 = Fused.MultiplyAdd(u0, b, a0_4); if (TOc.Value > 1) a1_4 = Fused.MultiplyAdd(u1, b, a1_4); if (TOc.Value > 2) a2_4 = Fused.MultiplyAdd(u2, b, a2_4); if (TOc.Value > 3) a3_4 = Fused.MultiplyAdd(u3, b, a3_4); }
                    if (TTiles.Value > 5) { var b = Vector512.Create(Unsafe.Add(ref lane, 80)); a0_5 = Fused.MultiplyAdd(u0, b, a0_5); if (TOc.Value > 1) a1_5 = Fused.MultiplyAdd(u1, b, a1_5); if (TOc.Value > 2) a2_5 = Fused.MultiplyAdd(u2, b, a2_5); if (TOc.Value > 3) a3_5 = Fused.MultiplyAdd(u3, b, a3_5); }
                    if (TTiles.Value > 6) { var b = Vector512.Create(Unsafe.Add(ref lane, 96)); a0_6 = Fused.MultiplyAdd(u0, b, a0_6); if (TOc.Value > 1) a1_6 = Fused.MultiplyAdd(u1, b, a1_6); if (TOc.Value > 2) a2_6 = Fused.MultiplyAdd(u2, b, a2_6); if (TOc.Value > 3) a3_6 = Fused.MultiplyAdd(u3, b, a3_6); }
                    if (TTiles.Value > 7) { var b = Vector512.Create(Unsafe.Add(ref lane, 112)); a0_7 = Fused.MultiplyAdd(u0, b, a0_7); if (TOc.Value > 1) a1_7 = Fused.MultiplyAdd(u1, b, a1_7); if (TOc.Value > 2) a2_7 = Fused.MultiplyAdd(u2, b, a2_7); if (TOc.Value > 3) a3_7 = Fused.MultiplyAdd(u3, b, a3_7); }
                    if (TTiles.Value > 8) { var b = Vector512.Create(Unsafe.Add(ref lane, 128)); a0_8 = Fused.MultiplyAdd(u0, b, a0_8); if (TOc.Value > 1) a1_8 = Fused.MultiplyAdd(u1, b, a1_8); if (TOc.Value > 2) a2_8 = Fused.MultiplyAdd(u2, b, a2_8); if (TOc.Value > 3) a3_8 = Fused.MultiplyAdd(u3, b, a3_8); }
                    if (TTiles.Value > 9) { var b = Vector512.Create(Unsafe.Add(ref lane, 144)); a0_9 = Fused.MultiplyAdd(u0, b, a0_9); if (TOc.Value > 1) a1_9 = Fused.MultiplyAdd(u1, b, a1_9); if (TOc.Value > 2) a2_9 = Fused.MultiplyAdd(u2, b, a2_9); if (TOc.Value > 3) a3_9 = Fused.MultiplyAdd(u3, b, a3_9); }
                    if (TTiles.Value > 10) { var b = Vector512.Create(Unsafe.Add(ref lane, 160)); a0_10 = Fused.MultiplyAdd(u0, b, a0_10); if (TOc.Value > 1) a1_10 = Fused.MultiplyAdd(u1, b, a1_10); if (TOc.Value > 2) a2_10 = Fused.MultiplyAdd(u2, b, a2_10); if (TOc.Value > 3) a3_10 = Fused.MultiplyAdd(u3, b, a3_10); }
                    if (TTiles.Value > 11) { var b = Vector512.Create(Unsafe.Add(ref lane, 176)); a0_11 = Fused.MultiplyAdd(u0, b, a0_11); if (TOc.Value > 1) a1_11 = Fused.MultiplyAdd(u1, b, a1_11); if (TOc.Value > 2) a2_11 = Fused.MultiplyAdd(u2, b, a2_11); if (TOc.Value > 3) a3_11 = Fused.MultiplyAdd(u3, b, a3_11); }
                    if (TTiles.Value > 12) { var b = Vector512.Create(Unsafe.Add(ref lane, 192)); a0_12 = Fused.MultiplyAdd(u0, b, a0_12); }
                    if (TTiles.Value > 13) { var b = Vector512.Create(Unsafe.Add(ref lane, 208)); a0_13 = Fused.MultiplyAdd(u0, b, a0_13); }
                    if (TTiles.Value > 14) { var b = Vector512.Create(Unsafe.Add(ref lane, 224)); a0_14 = Fused.MultiplyAdd(u0, b, a0_14); }
                    if (TTiles.Value > 15) { var b = Vector512.Create(Unsafe.Add(ref lane, 240)); a0_15 = Fused.MultiplyAdd(u0, b, a0_15); }
                    if (TTiles.Value > 16) { var b = Vector512.Create(Unsafe.Add(ref lane, 256)); a0_16 = Fused.MultiplyAdd(u0, b, a0_16); }
                    if (TTiles.Value > 17) { var b = Vector512.Create(Unsafe.Add(ref lane, 272)); a0_17 = Fused.MultiplyAdd(u0, b, a0_17); }
                    if (TTiles.Value > 18) { var b = Vector512.Create(Unsafe.Add(ref lane, 288)); a0_18 = Fused.MultiplyAdd(u0, b, a0_18); }
                    if (TTiles.Value > 19) { var b = Vector512.Create(Unsafe.Add(ref lane, 304)); a0_19 = Fused.MultiplyAdd(u0, b, a0_19); }
                    if (TTiles.Value > 20) { var b = Vector512.Create(Unsafe.Add(ref lane, 320)); a0_20 = Fused.MultiplyAdd(u0, b, a0_20); }
                    if (TTiles.Value > 21) { var b = Vector512.Create(Unsafe.Add(ref lane, 336)); a0_21 = Fused.MultiplyAdd(u0, b, a0_21); }
                    if (TTiles.Value > 22) { var b = Vector512.Create(Unsafe.Add(ref lane, 352)); a0_22 = Fused.MultiplyAdd(u0, b, a0_22); }
                    if (TTiles.Value > 23) { var b = Vector512.Create(Unsafe.Add(ref lane, 368)); a0_23 = Fused.MultiplyAdd(u0, b, a0_23); }
                    lane = ref Unsafe.Add(ref lane, 1);
                    filter = ref Unsafe.Add(ref filter, filterStride);
                }
            }
            { ref float row = ref Unsafe.Add(ref m, 0 * productStride); a0_0.StoreUnsafe(ref row); if (TOc.Value > 1) a1_0.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_0.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_0.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 1) { ref float row = ref Unsafe.Add(ref m, 1 * productStride); a0_1.StoreUnsafe(ref row); if (TOc.Value > 1) a1_1.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_1.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_1.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 2) { ref float row = ref Unsafe.Add(ref m, 2 * productStride); a0_2.StoreUnsafe(ref row); if (TOc.Value > 1) a1_2.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_2.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_2.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 3) { ref float row = ref Unsafe.Add(ref m, 3 * productStride); a0_3.StoreUnsafe(ref row); if (TOc.Value > 1) a1_3.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_3.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_3.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 4) { ref float row = ref Unsafe.Add(ref m, 4 * productStride); a0_4.StoreUnsafe(ref row); if (TOc.Value > 1) a1_4.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_4.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_4.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 5) { ref float row = ref Unsafe.Add(ref m, 5 * productStride); a0_5.StoreUnsafe(ref row); if (TOc.Value > 1) a1_5.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_5.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_5.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 6) { ref float row = ref Unsafe.Add(ref m, 6 * productStride); a0_6.StoreUnsafe(ref row); if (TOc.Value > 1) a1_6.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_6.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_6.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 7) { ref float row = ref Unsafe.Add(ref m, 7 * productStride); a0_7.StoreUnsafe(ref row); if (TOc.Value > 1) a1_7.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_7.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_7.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 8) { ref float row = ref Unsafe.Add(ref m, 8 * productStride); a0_8.StoreUnsafe(ref row); if (TOc.Value > 1) a1_8.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_8.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_8.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 9) { ref float row = ref Unsafe.Add(ref m, 9 * productStride); a0_9.StoreUnsafe(ref row); if (TOc.Value > 1) a1_9.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_9.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_9.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 10) { ref float row = ref Unsafe.Add(ref m, 10 * productStride); a0_10.StoreUnsafe(ref row); if (TOc.Value > 1) a1_10.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_10.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_10.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 11) { ref float row = ref Unsafe.Add(ref m, 11 * productStride); a0_11.StoreUnsafe(ref row); if (TOc.Value > 1) a1_11.StoreUnsafe(ref row, 1 * V); if (TOc.Value > 2) a2_11.StoreUnsafe(ref row, 2 * V); if (TOc.Value > 3) a3_11.StoreUnsafe(ref row, 3 * V); }
            if (TTiles.Value > 12) { ref float row = ref Unsafe.Add(ref m, 12 * productStride); a0_12.StoreUnsafe(ref row); }
            if (TTiles.Value > 13) { ref float row = ref Unsafe.Add(ref m, 13 * productStride); a0_13.StoreUnsafe(ref row); }
            if (TTiles.Value > 14) { ref float row = ref Unsafe.Add(ref m, 14 * productStride); a0_14.StoreUnsafe(ref row); }
            if (TTiles.Value > 15) { ref float row = ref Unsafe.Add(ref m, 15 * productStride); a0_15.StoreUnsafe(ref row); }
            if (TTiles.Value > 16) { ref float row = ref Unsafe.Add(ref m, 16 * productStride); a0_16.StoreUnsafe(ref row); }
            if (TTiles.Value > 17) { ref float row = ref Unsafe.Add(ref m, 17 * productStride); a0_17.StoreUnsafe(ref row); }
            if (TTiles.Value > 18) { ref float row = ref Unsafe.Add(ref m, 18 * productStride); a0_18.StoreUnsafe(ref row); }
            if (TTiles.Value > 19) { ref float row = ref Unsafe.Add(ref m, 19 * productStride); a0_19.StoreUnsafe(ref row); }
            if (TTiles.Value > 20) { ref float row = ref Unsafe.Add(ref m, 20 * productStride); a0_20.StoreUnsafe(ref row); }
            if (TTiles.Value > 21) { ref float row = ref Unsafe.Add(ref m, 21 * productStride); a0_21.StoreUnsafe(ref row); }
            if (TTiles.Value > 22) { ref float row = ref Unsafe.Add(ref m, 22 * productStride); a0_22.StoreUnsafe(ref row); }
            if (TTiles.Value > 23) { ref float row = ref Unsafe.Add(ref m, 23 * productStride); a0_23.StoreUnsafe(ref row); }
        }

        // The register tile for oc vectors x tiles (at most 24 accumulators).
        private static void TileOf(int vectors, int tiles, ref float v, int groupStride, int inChannels, ref float u, int filterStride, ref float m, int productStride)
        {
            switch (vectors * 32 + tiles)
            {
                case 33: Tile<C1, C1>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 34: Tile<C1, C2>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 35: Tile<C1, C3>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 36: Tile<C1, C4>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 37: Tile<C1, C5>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 38: Tile<C1, C6>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 39: Tile<C1, C7>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 40: Tile<C1, C8>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 41: Tile<C1, C9>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 42: Tile<C1, C10>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 43: Tile<C1, C11>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 44: Tile<C1, C12>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 45: Tile<C1, C13>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 46: Tile<C1, C14>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 47: Tile<C1, C15>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 48: Tile<C1, C16>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 49: Tile<C1, C17>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 50: Tile<C1, C18>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 51: Tile<C1, C19>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 52: Tile<C1, C20>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 53: Tile<C1, C21>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 54: Tile<C1, C22>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 55: Tile<C1, C23>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 56: Tile<C1, C24>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 65: Tile<C2, C1>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 66: Tile<C2, C2>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 67: Tile<C2, C3>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 68: Tile<C2, C4>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 69: Tile<C2, C5>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 70: Tile<C2, C6>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 71: Tile<C2, C7>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 72: Tile<C2, C8>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 73: Tile<C2, C9>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 74: Tile<C2, C10>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 75: Tile<C2, C11>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 76: Tile<C2, C12>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 97: Tile<C3, C1>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 98: Tile<C3, C2>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 99: Tile<C3, C3>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 100: Tile<C3, C4>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 101: Tile<C3, C5>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 102: Tile<C3, C6>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 103: Tile<C3, C7>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 104: Tile<C3, C8>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 129: Tile<C4, C1>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 130: Tile<C4, C2>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 131: Tile<C4, C3>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 132: Tile<C4, C4>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 133: Tile<C4, C5>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                case 134: Tile<C4, C6>(ref v, groupStride, inChannels, ref u, filterStride, ref m, productStride); break;
                default: throw new ArgumentOutOfRangeException(nameof(tiles));
            }
        }
    }
}
