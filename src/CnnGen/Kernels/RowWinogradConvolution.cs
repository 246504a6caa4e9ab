using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 3x3 or 5x5 convolution from few input channels (RGB stems) by a one-dimensional Winograd along its rows
    /// and the plain sum down its columns, on the Vector512 path: each output row's 4 cells from F(4, 3) or F(4, 5) windows
    /// of 6 or 8 cells of each of the k input rows under it (k·(k + 3)/4 multiplications per cell instead of k²: 4.5
    /// instead of 9, 10 instead of 25). Below 8 input channels the two-dimensional Winograd's transforms cost more than they
    /// save (DirectConvolution.MinimumWinogradChannels); these are one axis of them, over k rows. DirectConvolution.ForwardByRows
    /// says where it runs (evaluation only).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Lanes hold tiles: tile t is output row t / S and columns 4(t mod S) … 4(t mod S) + 3, S = ⌈OW / 4⌉ tiles a row. An
    /// input row's windows are numbered the same way (r·S + s), so the window under tile t in the ky-th row of its kernel is
    /// window t + ky·S, and one tile vector's windows of each kernel row are one unaligned load of the transformed rows
    /// V[channel][position][window]. A window's cells are 8 consecutive floats of the padded input (rows of 4S + k − 1
    /// cells, zeros past the image), so 16 windows are a 16 x 8 transpose before Bᵀ. The products are broadcast filter
    /// values times those loads, 3 or 4 output channels a pass over the tiles (24 accumulators); Aᵀ runs on the
    /// accumulators, adds the bias, and interleaves the 4 outputs of 16 tiles into 64 consecutive cells of an output row of
    /// 4S cells (4t + i is cell i of tile t): straight into y through ReLU when the rows are whole tiles, else through
    /// rows of scratch that ReLU and the 2x2 pooling (PyTorch's order and NaN rule: Pooling.PoolRow) finish.
    /// </para>
    /// <para>
    /// The filters: U[block of 16 output channels][filter row c·k + ky][position][lane] = G of the row's k taps, zero past
    /// the last channel. The transforms are LineWinogradConvolution's (the points 0, ±1, ±2, ∞ and, for 8 cells, ±1/2), so
    /// the precision is theirs summed over the rows: within 3e-6 of the products' magnitudes in RowWinogradConvolutionTests
    /// (not the direct kernels' floats: training keeps those).
    /// </para>
    /// <para>
    /// Measured and not taken (KernelBench row-winograd): LeNet-5's layers (0.81-1.02x with filters prepared: one input
    /// channel gives too few products for the transforms, and its second layer's 10x10 map too few tiles), maps under 28x28.
    /// </para>
    /// </remarks>
    internal static class RowWinogradConvolution
    {
        private const int V = 16;

        /// <summary>The most input channels the kernel takes (below DirectConvolution.MinimumWinogradChannels).</summary>
        internal const int MaximumInChannels = 7;

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, OutChannels, Kernel, Padding, OutHeight, OutWidth;
            /// <summary>Tiles a row (S), the window's cells (k + 3), the tiles and their vectors.</summary>
            public readonly int TileColumns, Positions, Tiles, TileVectors;
            /// <summary>
            /// The padded input: rows of 4S + k − 1 cells, H + 2p of them a channel; its length has 2 floats past the last
            /// channel (a 3x3 window's 6 cells are read as 8).
            /// </summary>
            public readonly int PaddedWidth, PaddedRows, PaddedPlane, PaddedLength;
            /// <summary>Windows an input row (S), the windows of a channel's rows (transformed, vectors of them), and V's strides.</summary>
            public readonly int Windows, WindowVectors, PositionStride, ChannelStride, TransformedLength;
            /// <summary>
            /// The most output channels a pass over the tiles computes (4 with 6 positions, 3 with 8: 24 accumulators), U's
            /// floats a filter row and position (16 output channels, and with 8 positions a zero lane past them that a last
            /// group of 1 reads as its second), the filter rows a block of 16 output channels (InChannels·k), and U's length.
            /// </summary>
            public readonly int Group, LaneStride, FilterRows, OutBlocks, FiltersLength;
            /// <summary>A group's output channels' rows of 4S cells, with the last tile vector's spill.</summary>
            public readonly int WidePlane, WideLength;

            public Layout(int inChannels, int height, int width, int outChannels, int kernel, int padding)
            {
                // From 8 channels the two-dimensional Winograd runs; up to 7 a block's weights turn on the stack (TransformFilters).
                if (inChannels < 1 || inChannels > MaximumInChannels) throw new ArgumentOutOfRangeException(nameof(inChannels), "From 1 to 7 input channels.");
                if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
                if (kernel is not (3 or 5)) throw new ArgumentOutOfRangeException(nameof(kernel), "Only 3x3 and 5x5 kernels.");
                if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), "Padding is not negative.");
                int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
                if (height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
                    throw new ArgumentOutOfRangeException(nameof(height), "The kernel does not fit the padded input.");
                InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels; Kernel = kernel; Padding = padding;
                OutHeight = outHeight; OutWidth = outWidth;
                TileColumns = (outWidth + 3) / 4;
                Positions = kernel + 3;
                Tiles = outHeight * TileColumns;
                TileVectors = (Tiles + V - 1) / V;
                PaddedWidth = 4 * TileColumns + kernel - 1;
                PaddedRows = height + 2 * padding;
                PaddedPlane = PaddedRows * PaddedWidth;
                PaddedLength = inChannels * PaddedPlane + 2;
                Windows = PaddedRows * TileColumns;
                // The last tile vector reads windows up to 16·TileVectors − 1 + (k − 1)·S: past the last row's, clamped there.
                WindowVectors = (V * TileVectors + (kernel - 1) * TileColumns + V - 1) / V;
                PositionStride = V * WindowVectors;
                ChannelStride = Positions * PositionStride;
                TransformedLength = inChannels * ChannelStride;
                Group = Positions == 8 ? 3 : 4;
                LaneStride = Positions == 8 ? V + 1 : V;
                FilterRows = inChannels * kernel;
                OutBlocks = (outChannels + V - 1) / V;
                FiltersLength = OutBlocks * FilterRows * Positions * LaneStride;
                WidePlane = 4 * V * TileVectors;
                WideLength = Group * WidePlane;
            }

            /// <summary>Floats of scratch <see cref="ForwardPrepared"/> needs.</summary>
            public int PreparedScratchLength => PaddedLength + TransformedLength + WideLength;

            /// <summary>Floats of scratch <see cref="Forward"/> needs: the call's filters as well.</summary>
            public int ScratchLength => PreparedScratchLength + FiltersLength;
        }

        /// <summary>Whether this machine runs the kernel (AVX-512) and it takes the kernel size (3 or 5).</summary>
        public static bool Handles(int kernel) => Avx512F.IsSupported && kernel is 3 or 5;

        /// <summary>
        /// y = conv2d(x, weight, bias, stride 1, padding), then ReLU when <paramref name="relu"/>, then 2x2 max pooling at
        /// stride 2 when <paramref name="pool"/>, for one sample: x [InChannels x Height x Width], weight PyTorch's
        /// [OutChannels x InChannels x k x k], bias [OutChannels] or empty, y [OutChannels x OH x OW] (pooled: OH/2 x OW/2).
        /// The filters are transformed into the scratch on every call. Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
            bool relu, bool pool, in Layout l)
        {
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));
            var filters = scratch.Slice(l.PreparedScratchLength, l.FiltersLength);
            TransformFilters(weight, filters, l);
            ForwardPrepared(x, filters, bias, y, scratch, relu, pool, l);
        }

        /// <summary><see cref="Forward"/> on filters <see cref="TransformFilters"/> wrote from the layer's weights once.</summary>
        public static void ForwardPrepared(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
            bool relu, bool pool, in Layout l)
        {
            if (!Avx512F.IsSupported) throw new PlatformNotSupportedException("RowWinogradConvolution needs AVX-512.");
            Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            Require(y.Length >= (pool ? l.OutChannels * (l.OutHeight / 2) * (l.OutWidth / 2) : l.OutChannels * l.OutHeight * l.OutWidth), nameof(y));
            Require(scratch.Length >= l.PreparedScratchLength, nameof(scratch));
            if (pool && (l.OutHeight < 2 || l.OutWidth < 2)) throw new ArgumentOutOfRangeException(nameof(pool), "A 2x2 pooling window needs an output of at least 2x2.");
            var padded = scratch.Slice(0, l.PaddedLength);
            var transformed = scratch.Slice(l.PaddedLength, l.TransformedLength);
            var wide = scratch.Slice(l.PaddedLength + l.TransformedLength, l.WideLength);
            Pad(x, padded, l);
            TransformInput(padded, transformed, l);
            // Rows of whole tiles go straight to y, through ReLU; pooled or ragged rows go through the wide rows.
            var target = new Target(y, wide, bias, relu, direct: !pool && l.OutWidth % 4 == 0);
            for (int first = 0, count; first < l.OutChannels; first += count)
            {
                // Groups stay inside a block of 16 output channels (U's lanes). With 8 positions a block of 16 is 3, 3, 3, 3, 2
                // and 2 (no lane computed for nothing); a last group of 1 reads a zero lane.
                int block = first / V, left = Math.Min(l.OutChannels, (block + 1) * V) - first;
                ref float u = ref Unsafe.Add(ref MemoryMarshal.GetReference(filters), block * l.FilterRows * l.Positions * l.LaneStride + first - block * V);
                if (l.Positions == 6)
                {
                    count = Math.Min(4, left);
                    Group4(transformed, ref u, first, count, target, l);
                }
                else if (left > 4 || left == 3)
                {
                    count = 3;
                    Group3<C3>(transformed, ref u, first, count, target, l);
                }
                else
                {
                    count = Math.Min(2, left);
                    Group3<C2>(transformed, ref u, first, count, target, l);
                }
                if (!target.Direct)
                    for (int g = 0; g < count; g++) Finish(wide.Slice(g * l.WidePlane), y, first + g, relu, pool, l);
            }
        }

        private static void Require(bool condition, string name)
        {
            if (!condition) throw new ArgumentException("Too short for the layout.", name);
        }

        // The input at (p, p) of rows PaddedWidth long, zeros around it and past its right edge.
        private static void Pad(ReadOnlySpan<float> x, Span<float> padded, in Layout l)
        {
            padded.Clear();
            for (int c = 0; c < l.InChannels; c++)
                for (int row = 0; row < l.Height; row++)
                    x.Slice((c * l.Height + row) * l.Width, l.Width).CopyTo(padded.Slice(c * l.PaddedPlane + (row + l.Padding) * l.PaddedWidth + l.Padding));
        }

        // V[c][position][window] = Bᵀ of the k + 3 cells of window w = r·S + s (row r, cells 4s …) of channel c, 16 windows
        // at a time: each window's cells are 8 consecutive floats of the padded input (6 used for k = 3), so 16 of them are
        // a 16 x 8 transpose (Transpose16x8); windows past the last row's take its last window (their products fall in no kept tile).
        private static void TransformInput(Span<float> padded, Span<float> transformed, in Layout l)
        {
            Span<int> cells = stackalloc int[V];
            Span<float> staging = stackalloc float[8 * V];
            ref float stage = ref MemoryMarshal.GetReference(staging);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float x0 = ref MemoryMarshal.GetReference(padded);
            int lastWindow = l.Windows - 1;
            int row = 0, column = 0; // of the next window
            int lastCells = (l.PaddedRows - 1) * l.PaddedWidth + 4 * (l.TileColumns - 1);
            for (int vector = 0; vector < l.WindowVectors; vector++)
            {
                for (int lane = 0; lane < V; lane++)
                {
                    cells[lane] = vector * V + lane <= lastWindow ? row * l.PaddedWidth + 4 * column : lastCells;
                    if (++column == l.TileColumns) { column = 0; row++; }
                }
                for (int c = 0; c < l.InChannels; c++)
                {
                    Transpose16x8(ref Unsafe.Add(ref x0, c * l.PaddedPlane), cells, ref stage);
                    ref float target = ref Unsafe.Add(ref v0, c * l.ChannelStride + vector * V);
                    if (l.Positions == 8) LineWinogradConvolution.StoreBt8(ref stage, V, ref target, (nuint)l.PositionStride);
                    else WinogradF4Convolution.StoreBt(Vector512.LoadUnsafe(ref stage), Vector512.LoadUnsafe(ref stage, V), Vector512.LoadUnsafe(ref stage, 2 * V),
                        Vector512.LoadUnsafe(ref stage, 3 * V), Vector512.LoadUnsafe(ref stage, 4 * V), Vector512.LoadUnsafe(ref stage, 5 * V), ref target, (nuint)l.PositionStride);
                }
            }
        }

        // target[j·16 + lane] = source[cells[lane] + j] for j < 8: rows lane and lane + 8 in the two halves of one vector, then
        // an 8 x 8 transpose in each half (pairs, pairs of pairs, then 128-bit quarters across the pair of vectors).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose16x8(ref float source, Span<int> cells, ref float target)
        {
            var r0 = Rows(ref source, cells, 0); var r1 = Rows(ref source, cells, 1); var r2 = Rows(ref source, cells, 2); var r3 = Rows(ref source, cells, 3);
            var r4 = Rows(ref source, cells, 4); var r5 = Rows(ref source, cells, 5); var r6 = Rows(ref source, cells, 6); var r7 = Rows(ref source, cells, 7);
            var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
            var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
            var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
            var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
            // Quarter q of u_j holds, for the four rows of its pair of pairs, cell 4·(q mod 2) + j (j = 0 … 3).
            var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
            var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
            var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
            var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
            // Cell j (< 4): quarters 0 and 2 of rows 0-3's and rows 4-7's vector; cell j + 4: quarters 1 and 3.
            var low = Vector512.Create(0L, 1, 8, 9, 4, 5, 12, 13);
            var high = Vector512.Create(2L, 3, 10, 11, 6, 7, 14, 15);
            Quarters(u0, u4, low).StoreUnsafe(ref target);
            Quarters(u1, u5, low).StoreUnsafe(ref target, V);
            Quarters(u2, u6, low).StoreUnsafe(ref target, 2 * V);
            Quarters(u3, u7, low).StoreUnsafe(ref target, 3 * V);
            Quarters(u0, u4, high).StoreUnsafe(ref target, 4 * V);
            Quarters(u1, u5, high).StoreUnsafe(ref target, 5 * V);
            Quarters(u2, u6, high).StoreUnsafe(ref target, 6 * V);
            Quarters(u3, u7, high).StoreUnsafe(ref target, 7 * V);

            static Vector512<float> Rows(ref float source, Span<int> cells, int lane) =>
                Vector512.Create(Vector256.LoadUnsafe(ref source, (nuint)cells[lane]), Vector256.LoadUnsafe(ref source, (nuint)cells[lane + 8]));

            static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b, Vector512<long> indices) =>
                Avx512F.PermuteVar8x64x2(a.AsDouble(), indices, b.AsDouble()).AsSingle();
        }

        /// <summary>
        /// U from PyTorch-layout weight [OutChannels x InChannels x k x k] into <paramref name="filters"/>
        /// (<see cref="Layout.FiltersLength"/> floats): U[block of 16 output channels][filter row c·k + ky][position][lane]
        /// = G of the row's k taps of output channel 16·block + lane, zero past the last channel. Once per change of the
        /// weights, or per call (<see cref="Forward"/>).
        /// </summary>
        internal static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in Layout l)
        {
            int k = l.Kernel, perChannel = l.FilterRows * k, columns = (perChannel + V - 1) / V * V;
            Require(weight.Length >= l.OutChannels * perChannel, nameof(weight));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            // taps[j][lane] = weight float j of output channel 16·block + lane: a block's weights turned, 16x16 transposes where
            // the block is whole and its rows' 16-float columns lie inside the weight, else one float at a time (zeros past
            // the last channel). At most 7 channels of 5x5: 176 columns on the stack.
            Span<float> taps = stackalloc float[columns * V];
            Span<Vector512<float>> coefficients = stackalloc Vector512<float>[21];
            LineWinogradConvolution.GCoefficients(k, l.Positions, coefficients);
            ref float t = ref MemoryMarshal.GetReference(taps);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u = ref MemoryMarshal.GetReference(filters);
            filters.Slice(0, l.FiltersLength).Clear(); // the lane past 16 stays zero
            for (int block = 0; block < l.OutBlocks; block++)
            {
                int lanes = Math.Min(V, l.OutChannels - block * V);
                ref float first = ref Unsafe.Add(ref w, block * V * perChannel);
                for (int column = 0; column < columns; column += V)
                {
                    if (lanes == V && (block * V + V - 1) * perChannel + column + V <= weight.Length)
                    {
                        DirectConvolution.Transpose16(ref Unsafe.Add(ref first, column), perChannel, ref Unsafe.Add(ref t, column * V));
                        continue;
                    }
                    for (int j = column; j < Math.Min(column + V, perChannel); j++)
                        for (int lane = 0; lane < V; lane++)
                            Unsafe.Add(ref t, j * V + lane) = lane < lanes ? Unsafe.Add(ref first, lane * perChannel + j) : 0f;
                }
                for (int row = 0; row < l.FilterRows; row++)
                {
                    ref float rowTaps = ref Unsafe.Add(ref t, row * k * V);
                    ref float target = ref Unsafe.Add(ref u, (block * l.FilterRows + row) * l.Positions * l.LaneStride);
                    if (k == 3) LineWinogradConvolution.ApplyG3(ref rowTaps, coefficients, ref target, (nuint)l.LaneStride);
                    else LineWinogradConvolution.ApplyLongG(ref rowTaps, k, l.Positions, coefficients, ref target, (nuint)l.LaneStride);
                }
            }
        }

        /// <summary>Where a group's outputs go, and what happens to them on the way.</summary>
        private readonly ref struct Target
        {
            public readonly Span<float> Y, Wide;
            public readonly ReadOnlySpan<float> Bias;
            public readonly bool Relu;
            /// <summary>Straight into y's rows (whole tiles a row, no pooling), through ReLU; else into the wide rows.</summary>
            public readonly bool Direct;

            public Target(Span<float> y, Span<float> wide, ReadOnlySpan<float> bias, bool relu, bool direct)
            {
                Y = y; Wide = wide; Bias = bias; Relu = relu; Direct = direct;
            }
        }

        // Output channels first … first + count − 1 (count ≤ TWidth, 3 or 2) of every tile, F(4, 5): 8 accumulators each, summed
        // over the input channels and the kernel's rows; then Aᵀ and the store (Store).
        private static void Group3<TWidth>(Span<float> transformed, ref float u, int first, int count, in Target target, in Layout l) where TWidth : struct, IConstant
        {
            Span<Vector512<float>> products = stackalloc Vector512<float>[24];
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint ps = (nuint)l.PositionStride, ls = (nuint)l.LaneStride;
            int k = l.Kernel, rowStride = l.Positions * l.LaneStride;
            for (int tileVector = 0; tileVector < l.TileVectors; tileVector++)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
                ref float ur = ref u;
                for (int c = 0; c < l.InChannels; c++)
                {
                    ref float vc = ref Unsafe.Add(ref v0, c * l.ChannelStride + tileVector * V);
                    for (int ky = 0; ky < k; ky++, ur = ref Unsafe.Add(ref ur, rowStride))
                    {
                        ref float v = ref Unsafe.Add(ref vc, ky * l.TileColumns);
                        var d = Vector512.LoadUnsafe(ref v);
                        a0 = Fused.MultiplyAdd(d, Vector512.Create(ur), a0);
                        b0 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 1)), b0);
                        if (TWidth.Value > 2) c0 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2)), c0);
                        d = Vector512.LoadUnsafe(ref v, ps);
                        a1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls)), a1);
                        b1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls + 1)), b1);
                        if (TWidth.Value > 2) c1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls + 2)), c1);
                        d = Vector512.LoadUnsafe(ref v, 2 * ps);
                        a2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls)), a2);
                        b2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls + 1)), b2);
                        if (TWidth.Value > 2) c2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls + 2)), c2);
                        d = Vector512.LoadUnsafe(ref v, 3 * ps);
                        a3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls)), a3);
                        b3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls + 1)), b3);
                        if (TWidth.Value > 2) c3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls + 2)), c3);
                        d = Vector512.LoadUnsafe(ref v, 4 * ps);
                        a4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls)), a4);
                        b4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls + 1)), b4);
                        if (TWidth.Value > 2) c4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls + 2)), c4);
                        d = Vector512.LoadUnsafe(ref v, 5 * ps);
                        a5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls)), a5);
                        b5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls + 1)), b5);
                        if (TWidth.Value > 2) c5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls + 2)), c5);
                        d = Vector512.LoadUnsafe(ref v, 6 * ps);
                        a6 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 6 * ls)), a6);
                        b6 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 6 * ls + 1)), b6);
                        if (TWidth.Value > 2) c6 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 6 * ls + 2)), c6);
                        d = Vector512.LoadUnsafe(ref v, 7 * ps);
                        a7 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 7 * ls)), a7);
                        b7 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 7 * ls + 1)), b7);
                        if (TWidth.Value > 2) c7 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 7 * ls + 2)), c7);
                    }
                }
                // Stored before any call, so that no accumulator lives across one (the JIT would keep them all in memory).
                ref var m = ref MemoryMarshal.GetReference(products);
                m = a0; Unsafe.Add(ref m, 1) = a1; Unsafe.Add(ref m, 2) = a2; Unsafe.Add(ref m, 3) = a3;
                Unsafe.Add(ref m, 4) = a4; Unsafe.Add(ref m, 5) = a5; Unsafe.Add(ref m, 6) = a6; Unsafe.Add(ref m, 7) = a7;
                Unsafe.Add(ref m, 8) = b0; Unsafe.Add(ref m, 9) = b1; Unsafe.Add(ref m, 10) = b2; Unsafe.Add(ref m, 11) = b3;
                Unsafe.Add(ref m, 12) = b4; Unsafe.Add(ref m, 13) = b5; Unsafe.Add(ref m, 14) = b6; Unsafe.Add(ref m, 15) = b7;
                Unsafe.Add(ref m, 16) = c0; Unsafe.Add(ref m, 17) = c1; Unsafe.Add(ref m, 18) = c2; Unsafe.Add(ref m, 19) = c3;
                Unsafe.Add(ref m, 20) = c4; Unsafe.Add(ref m, 21) = c5; Unsafe.Add(ref m, 22) = c6; Unsafe.Add(ref m, 23) = c7;
                Emit(products, first, count, tileVector, target, l);
            }
        }

        // The same for F(4, 3): 6 accumulators a channel, 4 channels.
        private static void Group4(Span<float> transformed, ref float u, int first, int count, in Target target, in Layout l)
        {
            Span<Vector512<float>> products = stackalloc Vector512<float>[24];
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint ps = (nuint)l.PositionStride, ls = (nuint)l.LaneStride;
            int k = l.Kernel, rowStride = l.Positions * l.LaneStride;
            for (int tileVector = 0; tileVector < l.TileVectors; tileVector++)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
                Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default;
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
                Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, e4 = default, e5 = default;
                ref float ur = ref u;
                for (int c = 0; c < l.InChannels; c++)
                {
                    ref float vc = ref Unsafe.Add(ref v0, c * l.ChannelStride + tileVector * V);
                    for (int ky = 0; ky < k; ky++, ur = ref Unsafe.Add(ref ur, rowStride))
                    {
                        ref float v = ref Unsafe.Add(ref vc, ky * l.TileColumns);
                        var d = Vector512.LoadUnsafe(ref v);
                        a0 = Fused.MultiplyAdd(d, Vector512.Create(ur), a0);
                        b0 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 1)), b0);
                        c0 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2)), c0);
                        e0 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3)), e0);
                        d = Vector512.LoadUnsafe(ref v, ps);
                        a1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls)), a1);
                        b1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls + 1)), b1);
                        c1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls + 2)), c1);
                        e1 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, ls + 3)), e1);
                        d = Vector512.LoadUnsafe(ref v, 2 * ps);
                        a2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls)), a2);
                        b2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls + 1)), b2);
                        c2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls + 2)), c2);
                        e2 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 2 * ls + 3)), e2);
                        d = Vector512.LoadUnsafe(ref v, 3 * ps);
                        a3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls)), a3);
                        b3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls + 1)), b3);
                        c3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls + 2)), c3);
                        e3 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 3 * ls + 3)), e3);
                        d = Vector512.LoadUnsafe(ref v, 4 * ps);
                        a4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls)), a4);
                        b4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls + 1)), b4);
                        c4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls + 2)), c4);
                        e4 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 4 * ls + 3)), e4);
                        d = Vector512.LoadUnsafe(ref v, 5 * ps);
                        a5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls)), a5);
                        b5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls + 1)), b5);
                        c5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls + 2)), c5);
                        e5 = Fused.MultiplyAdd(d, Vector512.Create(Unsafe.Add(ref ur, 5 * ls + 3)), e5);
                    }
                }
                ref var m = ref MemoryMarshal.GetReference(products);
                m = a0; Unsafe.Add(ref m, 1) = a1; Unsafe.Add(ref m, 2) = a2; Unsafe.Add(ref m, 3) = a3; Unsafe.Add(ref m, 4) = a4; Unsafe.Add(ref m, 5) = a5;
                Unsafe.Add(ref m, 6) = b0; Unsafe.Add(ref m, 7) = b1; Unsafe.Add(ref m, 8) = b2; Unsafe.Add(ref m, 9) = b3; Unsafe.Add(ref m, 10) = b4; Unsafe.Add(ref m, 11) = b5;
                Unsafe.Add(ref m, 12) = c0; Unsafe.Add(ref m, 13) = c1; Unsafe.Add(ref m, 14) = c2; Unsafe.Add(ref m, 15) = c3; Unsafe.Add(ref m, 16) = c4; Unsafe.Add(ref m, 17) = c5;
                Unsafe.Add(ref m, 18) = e0; Unsafe.Add(ref m, 19) = e1; Unsafe.Add(ref m, 20) = e2; Unsafe.Add(ref m, 21) = e3; Unsafe.Add(ref m, 22) = e4; Unsafe.Add(ref m, 23) = e5;
                Emit(products, first, count, tileVector, target, l);
            }
        }

        // Aᵀ of each channel's products (k + 3 vectors a channel, the group's channels one after the other), then Store.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Emit(Span<Vector512<float>> products, int first, int count, int tileVector, in Target target, in Layout l)
        {
            ref float m = ref Unsafe.As<Vector512<float>, float>(ref MemoryMarshal.GetReference(products));
            int positions = l.Positions;
            Span<float> spill = stackalloc float[4 * V];
            for (int g = 0; g < count; g++)
            {
                ref float channel = ref Unsafe.Add(ref m, g * positions * V);
                var (y0, y1, y2, y3) = positions == 8 ? LineWinogradConvolution.ApplyAt8(ref channel, V) : WinogradF4Convolution.ApplyAt(ref channel, V);
                Store(y0, y1, y2, y3, first, g, tileVector, spill, target, l);
            }
        }

        // Channel first + g's outputs of 16 tiles (y_i[t] = output i of tile t), plus its bias: 64 consecutive cells of its
        // rows of 4S, in y (through ReLU; the last tile vector's spill past the plane left out) or in the group's wide rows.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, int first, int g, int tileVector,
            Span<float> spill, in Target target, in Layout l)
        {
            int channel = first + g;
            if (!target.Bias.IsEmpty)
            {
                var bias = Vector512.Create(target.Bias[channel]);
                y0 += bias; y1 += bias; y2 += bias; y3 += bias;
            }
            if (!target.Direct)
            {
                StoreTiles(y0, y1, y2, y3, ref Unsafe.Add(ref MemoryMarshal.GetReference(target.Wide), g * l.WidePlane + 4 * V * tileVector));
                return;
            }
            if (target.Relu)
            {
                y0 = Elementwise.Relu(y0); y1 = Elementwise.Relu(y1); y2 = Elementwise.Relu(y2); y3 = Elementwise.Relu(y3);
            }
            int plane = 4 * l.Tiles, at = 4 * V * tileVector;
            ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(target.Y), channel * plane + at);
            if (at + 4 * V <= plane)
            {
                StoreTiles(y0, y1, y2, y3, ref row);
                return;
            }
            StoreTiles(y0, y1, y2, y3, ref MemoryMarshal.GetReference(spill));
            spill.Slice(0, plane - at).CopyTo(MemoryMarshal.CreateSpan(ref row, plane - at));
        }

        // target[4t + i] = y_i[t] for the 16 tiles t: pairs interleaved, then pairs of pairs, then 128-bit quarters.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreTiles(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3, ref float target)
        {
            var a0 = Avx512F.UnpackLow(y0, y1); var a1 = Avx512F.UnpackHigh(y0, y1);
            var b0 = Avx512F.UnpackLow(y2, y3); var b1 = Avx512F.UnpackHigh(y2, y3);
            // Quarter q of c_j holds tile 4q + j's four outputs.
            var c0 = Avx512F.UnpackLow(a0.AsDouble(), b0.AsDouble()).AsSingle(); var c1 = Avx512F.UnpackHigh(a0.AsDouble(), b0.AsDouble()).AsSingle();
            var c2 = Avx512F.UnpackLow(a1.AsDouble(), b1.AsDouble()).AsSingle(); var c3 = Avx512F.UnpackHigh(a1.AsDouble(), b1.AsDouble()).AsSingle();
            var f0 = Avx512F.Shuffle4x128(c0, c1, 0x44); var f1 = Avx512F.Shuffle4x128(c2, c3, 0x44);
            var f2 = Avx512F.Shuffle4x128(c0, c1, 0xEE); var f3 = Avx512F.Shuffle4x128(c2, c3, 0xEE);
            Avx512F.Shuffle4x128(f0, f1, 0x88).StoreUnsafe(ref target);
            Avx512F.Shuffle4x128(f0, f1, 0xDD).StoreUnsafe(ref target, V);
            Avx512F.Shuffle4x128(f2, f3, 0x88).StoreUnsafe(ref target, 2 * V);
            Avx512F.Shuffle4x128(f2, f3, 0xDD).StoreUnsafe(ref target, 3 * V);
        }

        // One channel's wide rows (4S cells, the first OW kept) into y: through ReLU, then pooled or copied.
        private static void Finish(Span<float> wide, Span<float> y, int channel, bool relu, bool pool, in Layout l)
        {
            ref float w = ref MemoryMarshal.GetReference(wide);
            ref float o = ref MemoryMarshal.GetReference(y);
            int pitch = 4 * l.TileColumns;
            if (pool)
            {
                int pooledHeight = l.OutHeight / 2, pooledWidth = l.OutWidth / 2;
                for (int py = 0; py < pooledHeight; py++)
                {
                    ref float top = ref Unsafe.Add(ref w, 2 * py * pitch);
                    Pooling.PoolRow(ref top, ref Unsafe.Add(ref top, pitch), ref Unsafe.Add(ref o, (channel * pooledHeight + py) * pooledWidth), pooledWidth, vector: true, relu);
                }
                return;
            }
            for (int oy = 0; oy < l.OutHeight; oy++)
                DirectConvolution.CopyRow(ref Unsafe.Add(ref w, oy * pitch), ref Unsafe.Add(ref o, (channel * l.OutHeight + oy) * l.OutWidth), l.OutWidth, relu);
        }
    }
}
