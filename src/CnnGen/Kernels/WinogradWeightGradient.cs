using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The weight gradient of a stride-1 3x3 convolution by Winograd's F(2x2, 3x3), on the Vector512 path (F(4x4) on Vector256
    /// too: WinogradWeightGradient.Vector256.cs): 16 multiplications
    /// per 2x2 tile of d y, input channel and output channel instead of 36; or by F(4x4, 3x3) where <see cref="TileFor"/> says
    /// (WinogradWeightGradient.F4.cs: 36 per 4x4 tile instead of F(2x2)'s 64). <see cref="DirectConvolution"/> calls it where
    /// it measured faster than the direct kernel (<see cref="Pays"/> and <see cref="PaysOverSamples"/>, measured on F(2x2),
    /// which F(4x4) replaces only where it is faster still).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The forward F(2x2, 3x3) computes a tile as y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A. Differentiating through it, the gradient of
    /// one filter g from one tile is Gᵀ [(A dy Aᵀ) ⊙ (Bᵀ d B)] G; the transforms are linear, so the sum over the tiles can be
    /// taken inside: d g = Gᵀ [Σ over tiles of (A dy Aᵀ) ⊙ (Bᵀ d B)] G. For each of the 16 positions that sum is a matrix
    /// product M[oc][ic] = Σ_t DY[t][oc] · V[t][ic], with the tiles as the shared dimension: the accumulators stay in
    /// registers over all tiles and are written once.
    /// </para>
    /// <para>
    /// Channels sit in the vector lanes throughout: x and d y are first laid out channel-blocked (16 channels per position,
    /// x zero-padded), V = Bᵀ d B and DY = A dy Aᵀ are computed 16 channels at a time, the products broadcast DY over
    /// vectors of V, and Gᵀ M G gives 16 input channels' taps at once. Tiles past the output's edge read zeros of d y,
    /// so they add exactly nothing.
    /// </para>
    /// </remarks>
    internal static partial class WinogradWeightGradient
    {
        private const int V = 16;
        // Tiles transformed and multiplied at a time: their V and DY stay in L2 (64 tiles of 16 + 16 channels are 128 KB) while
        // the products accumulate over the chunks.
        private const int Chunk = 64;
        // F(4x4) groups samples of fewer 4x4 tiles than this (8x8 outputs: 4 tiles, 4 samples a group), up to this many samples.
        private const int GroupTiles = 16;
        private const int MostGroupSamples = 8;

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, Padding, OutChannels, OutHeight, OutWidth;
            /// <summary>2 for F(2x2, 3x3) (4x4 windows, 16 positions), 4 for F(4x4, 3x3) (6x6 windows, 36 positions).</summary>
            public readonly int TileSize, Positions;
            /// <summary>
            /// Samples whose transforms F(4x4) keeps before one pass of the GEMMs where a sample has fewer than 16 tiles (1
            /// elsewhere): their V and DY lie in the products buffer after the sums, slot by slot, so that the sums are loaded
            /// and stored once per group instead of once per few tiles.
            /// </summary>
            public readonly int GroupSamples;
            /// <summary>Floats of the sums M (36 or 16 positions of Cout x Cin), the products buffer's first part.</summary>
            public readonly int SumsLength;
            public readonly int TileRows, TileColumns, Tiles, ChunkTiles, InLanes, OutLanes, PaddedRows, PaddedColumns, GradientRows, GradientColumns;
            public readonly int InputPositionStride, GradientPositionStride, ProductPositionStride;
            public readonly int InputLength, GradientLength, TransformedInputLength, TransformedGradientLength, ProductLength;

            /// <summary>The layout on the tile <see cref="TileFor"/> picks for the shape.</summary>
            public Layout(int inChannels, int height, int width, int outChannels, int padding)
                : this(inChannels, height, width, outChannels, padding, TileFor(inChannels, height, width, outChannels, padding))
            {
            }

            public Layout(int inChannels, int height, int width, int outChannels, int padding, int tileSize)
            {
                if (tileSize != 2 && tileSize != 4) throw new ArgumentOutOfRangeException(nameof(tileSize), tileSize, "Expected a tile of 2 or 4.");
                InChannels = inChannels; Height = height; Width = width; Padding = padding; OutChannels = outChannels;
                OutHeight = height + 2 * padding - 2;
                OutWidth = width + 2 * padding - 2;
                TileSize = tileSize;
                Positions = (tileSize + 2) * (tileSize + 2);
                TileRows = (OutHeight + tileSize - 1) / tileSize;
                TileColumns = (OutWidth + tileSize - 1) / tileSize;
                Tiles = TileRows * TileColumns;
                InLanes = (inChannels + V - 1) / V * V;
                OutLanes = (outChannels + V - 1) / V * V;
                PaddedRows = tileSize * TileRows + 2;
                PaddedColumns = tileSize * TileColumns + 2;
                GradientRows = tileSize * TileRows;
                GradientColumns = tileSize * TileColumns;
                InputLength = PaddedRows * PaddedColumns * InLanes;
                GradientLength = GradientRows * GradientColumns * OutLanes;
                // F(4x4)'s 36 positions of a chunk in F(2x2)'s budget for 16 + 16 channels (16 positions of 64 tiles, 128 KB), but
                // never fewer than 16 tiles: 28 tiles at 16 + 16 channels, 16 from 32 + 32. Samples of fewer tiles are grouped
                // instead, a group's tiles one chunk.
                GroupSamples = tileSize == 4 && Tiles < GroupTiles ? Math.Min(MostGroupSamples, (GroupTiles + Tiles - 1) / Tiles) : 1;
                ChunkTiles = GroupSamples > 1 ? Tiles
                    : Math.Min(Tiles, tileSize == 2 ? Chunk : Math.Clamp(16 * Chunk * (2 * V) / (Positions * (InLanes + OutLanes)), 16, Chunk));
                // The positions lie one vector more than a multiple of 4 KB apart, or their stores and loads would all fall
                // in the same sets of the L1 cache.
                InputPositionStride = GroupSamples * ChunkTiles * InLanes + V;
                GradientPositionStride = GroupSamples * ChunkTiles * OutLanes + V;
                ProductPositionStride = outChannels * InLanes + V;
                TransformedInputLength = Positions * InputPositionStride;
                TransformedGradientLength = Positions * GradientPositionStride;
                SumsLength = Positions * ProductPositionStride;
                ProductLength = SumsLength + (GroupSamples > 1 ? TransformedInputLength + TransformedGradientLength : 0);
            }

            /// <summary>x and d y blocked, a chunk's transforms (unless a group keeps them in the products), then the products.</summary>
            public int ScratchLength => InputLength + GradientLength + (GroupSamples > 1 ? 0 : TransformedInputLength + TransformedGradientLength) + ProductLength;
        }

        /// <summary>
        /// Where F(2x2, 3x3) measured faster than the direct weight gradient: 16 or more channels each way on maps of 6x6
        /// outputs or more. KernelBench <c>wgrad</c> (one sample, thread CPU time, best of 40 interleaved rounds, two runs at
        /// load 30-40 on 2 cores; direct / Winograd, above 1 Winograd pays):
        /// <code>
        /// @32x32: 16->16 1.23   16->32 0.98-0.99   32->32 1.32-1.37   32->16 1.35-1.62   64->64 1.89   12->12 0.54   8->8 0.29-0.33
        /// @24x24: 16->16 1.18   @18x18 p0 (16x16 out): 16->16 1.23-1.26   @15x15: 24->40 1.15   @9x9: 20->36 1.13-1.21, 16->16 1.13
        /// @16x16: 16->16 1.35   16->32 1.23-1.27   24->24 1.14-1.17   32->32 1.32   32->64 1.69-1.73   40->40 1.44   48->48 1.56-1.61
        ///         64->64 1.57-1.60   80->80 1.56-1.59   128->128 1.61-1.65
        /// @10x10: 32->32 1.18   @8x8: 16->16 1.11-1.13   32->32 1.03-1.11   64->64 1.39-1.40   128->128 1.29-1.32   256->256 1.34-1.42
        /// @6x6: 64->64 1.16-1.17   @4x4: 128->128 1.00-1.02   256->256 1.01-1.07
        /// </code>
        /// 16 channels widened on 32x32 is the one break-even shape kept (the direct lanes kernel runs near peak there). Fewer
        /// than 16 channels leave lanes empty; on 4x4 maps the transforms' fixed costs eat the saving.
        /// </summary>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int padding)
        {
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            return inChannels >= 16 && outChannels >= 16 && outHeight >= 6 && outWidth >= 6;
        }

        /// <summary>
        /// Where F(2x2, 3x3) summed over a pass's samples before one filter transform (<see cref="AddSampleProducts"/>) measured
        /// faster than the direct weight gradient: 16 or more input channels and 8 or more output channels, on every map size
        /// (the per-sample transform was what made small maps lose, <see cref="Pays"/>). KernelBench <c>wgrad-batch</c> (16 samples,
        /// thread CPU time, best of 40 interleaved rounds, load 9-16 on 2 cores; direct / summed Winograd, above 1 it pays):
        /// <code>
        /// @64x64: 16->16 1.25   32->32 1.31   @32x32: 16->16 1.67-1.72   16->32 1.36   32->32 1.39   64->64 1.54-1.57
        /// @16x16: 16->16 1.49   32->32 1.76   32->64 1.64   64->64 1.90   128->128 1.74   32->8 1.73   16->8 1.27
        /// @15x15: 24->40 1.24   @9x9: 20->36 1.34   @8x8: 16->16 1.40   32->32 1.32   64->64 1.80   128->128 2.13   256->256 2.06
        /// @6x6: 64->64 1.75   128->128 1.96   p0 1.60   @5x5: 24->40 1.38   64->64 1.41   @4x4: 16->16 1.29   32->32 1.51   64->64 1.70
        /// 128->128 1.86   256->256 2.07   @3x3: 16->16 1.37   64->64 1.65   128->128 1.68   256->256 1.71   16->16 p0 (1x1 out) 1.10
        /// @2x2: 16->16 1.56   64->64 1.65   128->128 1.72   256->256 2.03
        /// fewer input channels: 12->12 @16x16 1.14, 12->24 @8x8 1.11, 8->8 @32x32 0.42, 8->32 @16x16 0.67, 8->8 @8x8 0.81
        /// </code>
        /// </summary>
        public static bool PaysOverSamples(int inChannels, int height, int width, int outChannels, int padding) =>
            inChannels >= 16 && outChannels >= 8 && height + 2 * padding - 2 >= 1 && width + 2 * padding - 2 >= 1;

        /// <summary>weightGradient [oc x ic x 3 x 3] += the gradient of conv2d(x, ·, 3x3, stride 1, padding) for d y; one sample.</summary>
        public static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> scratch, in Layout l)
        {
            var products = scratch.Slice(l.ScratchLength - l.ProductLength, l.ProductLength);
            AddSampleProducts(x, outputGradient, products, scratch, sample: 0, samples: 1, l);
            AddTransformedProducts(products, weightGradient, l);
        }

        /// <summary>
        /// The batch form of <see cref="Accumulate"/>: products [<see cref="Layout.ProductLength"/>] += one sample's sums M before
        /// the filter transform, for sample <paramref name="sample"/> of the pass's <paramref name="samples"/>, called for each in
        /// order (sample 0 sets the sums instead, whatever the span held; where the layout groups samples, the group's sums are
        /// added at its last sample or at the pass's last, the transforms kept in the products buffer till then). The transform
        /// is linear, so <see cref="AddTransformedProducts"/> once after the last sample gives the batch's weight gradient: one
        /// transform per batch instead of one per sample, which on small maps with many channels cost as much as a third of the
        /// products. Only the first <see cref="Layout.ScratchLength"/> − <see cref="Layout.ProductLength"/> floats of scratch are used.
        /// </summary>
        public static void AddSampleProducts(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> products, Span<float> scratch, int sample, int samples,
            in Layout l)
        {
            if (products.Length < l.ProductLength) throw new ArgumentException("Expected at least " + l.ProductLength + " floats.", nameof(products));
            RequireRuns(l);
            var gradient = scratch.Slice(l.InputLength, l.GradientLength);
            BlockOnWidth(outputGradient, l.OutChannels, l.OutHeight, l.OutWidth, 0, l.GradientRows, l.GradientColumns, gradient);
            AddProductsOfBlocked(x, gradient, l.GradientColumns, l.GradientRows * l.GradientColumns * V, products, scratch, sample, samples, l);
        }

        /// <summary>
        /// <see cref="AddSampleProducts"/> with d y already channel-blocked, as the input gradient's F(4x4, 3x3) left it
        /// (<see cref="WinogradF4Convolution.PaddedInput"/>): <paramref name="blockedGradient"/> starts at d y's cell (0, 0) of its
        /// first block; rows are <paramref name="gradientColumns"/> cells of 16 lanes apart, blocks
        /// <paramref name="gradientBlockStride"/> floats; the <see cref="Layout.GradientRows"/> x <see cref="Layout.GradientColumns"/>
        /// cells from there must hold d y and zeros past its edges. Saves this pass's own transposes of d y.
        /// </summary>
        public static void AddSampleProductsOfBlocked(ReadOnlySpan<float> x, ReadOnlySpan<float> blockedGradient, int gradientColumns, int gradientBlockStride,
            Span<float> products, Span<float> scratch, int sample, int samples, in Layout l)
        {
            if (products.Length < l.ProductLength) throw new ArgumentException("Expected at least " + l.ProductLength + " floats.", nameof(products));
            if (gradientColumns < l.GradientColumns || blockedGradient.Length < (l.OutLanes / V - 1) * gradientBlockStride + ((l.GradientRows - 1) * gradientColumns + l.GradientColumns) * V)
                throw new ArgumentException("Expected d y's blocks to cover " + l.GradientRows + " x " + l.GradientColumns + " cells.", nameof(blockedGradient));
            AddProductsOfBlocked(x, blockedGradient, gradientColumns, gradientBlockStride, products, scratch, sample, samples, l);
        }

        private static void AddProductsOfBlocked(ReadOnlySpan<float> x, ReadOnlySpan<float> gradient, int gradientColumns, int gradientBlockStride,
            Span<float> products, Span<float> scratch, int sample, int samples, in Layout l)
        {
            if ((uint)sample >= (uint)samples) throw new ArgumentOutOfRangeException(nameof(sample), sample, "Expected a sample below " + samples + ".");
            RequireRuns(l);
            var input = scratch.Slice(0, l.InputLength);
            BlockOnWidth(x, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedRows, l.PaddedColumns, input);
            if (l.GroupSamples > 1)
            {
                // This sample's transforms into its slot of the group kept after the sums; the GEMMs over the whole group at its
                // last sample (or the pass's), setting the sums at the first group.
                var kept = products.Slice(l.SumsLength);
                var groupInput = kept.Slice(0, l.TransformedInputLength);
                var groupGradient = kept.Slice(l.TransformedInputLength, l.TransformedGradientLength);
                int slot = sample % l.GroupSamples;
                TransformInput4(input, groupInput.Slice(slot * l.Tiles * l.InLanes), 0, l.Tiles, l);
                TransformGradient4(gradient, gradientColumns, gradientBlockStride, groupGradient.Slice(slot * l.Tiles * l.OutLanes), 0, l.Tiles, l);
                if (slot == l.GroupSamples - 1 || sample == samples - 1)
                    for (int position = 0; position < l.Positions; position++)
                        Products(groupGradient, groupInput, products, position, (slot + 1) * l.Tiles, accumulate: sample >= l.GroupSamples, l);
                return;
            }
            var transformedInput = scratch.Slice(l.InputLength + l.GradientLength, l.TransformedInputLength);
            var transformedGradient = scratch.Slice(l.InputLength + l.GradientLength + l.TransformedInputLength, l.TransformedGradientLength);
            bool first = sample == 0;
            for (int start = 0; start < l.Tiles; start += l.ChunkTiles)
            {
                int count = Math.Min(l.ChunkTiles, l.Tiles - start);
                if (l.TileSize == 4)
                {
                    TransformInput4(input, transformedInput, start, count, l);
                    TransformGradient4(gradient, gradientColumns, gradientBlockStride, transformedGradient, start, count, l);
                }
                else
                {
                    TransformInput(input, transformedInput, start, count, l);
                    TransformGradient(gradient, gradientColumns, gradientBlockStride, transformedGradient, start, count, l);
                }
                for (int position = 0; position < l.Positions; position++) Products(transformedGradient, transformedInput, products, position, count, accumulate: start > 0 || !first, l);
            }
        }

        /// <summary>weightGradient [oc x ic x 3 x 3] += Gᵀ M G of the sums <see cref="AddSampleProducts"/> gathered.</summary>
        public static void AddTransformedProducts(ReadOnlySpan<float> products, Span<float> weightGradient, in Layout l)
        {
            if (products.Length < l.ProductLength) throw new ArgumentException("Expected at least " + l.ProductLength + " floats.", nameof(products));
            if (weightGradient.Length < l.OutChannels * l.InChannels * 9)
                throw new ArgumentException("Expected at least " + l.OutChannels * l.InChannels * 9 + " floats.", nameof(weightGradient));
            RequireRuns(l);
            if (Vector512Here) TransformProducts(products, weightGradient, l);
            else TransformProducts256(products, weightGradient, l);
        }

        // source [channels x rows x columns] into target [channel block][row + pad][column + pad][16 lanes], zeros elsewhere.
        // A full block clears only its border (the copy writes the rest): a whole clear cost a tenth of a 16-channel layer.
        internal static void Block(ReadOnlySpan<float> source, int channels, int rows, int columns, int pad, int targetRows, int targetColumns, Span<float> target)
        {
            Span<float> square = stackalloc float[V * V];
            ref float s = ref MemoryMarshal.GetReference(source);
            ref float t = ref MemoryMarshal.GetReference(target);
            int plane = rows * columns, blockLength = targetRows * targetColumns * V, right = targetColumns - columns - pad;
            for (int first = 0; first < channels; first += V)
            {
                int count = Math.Min(V, channels - first);
                ref float blockTarget = ref Unsafe.Add(ref t, first * targetRows * targetColumns);
                var block = target.Slice(first * targetRows * targetColumns, blockLength);
                if (count < V)
                {
                    block.Clear();
                }
                else
                {
                    block.Slice(0, pad * targetColumns * V).Clear();
                    block.Slice((rows + pad) * targetColumns * V).Clear();
                    for (int r = 0; r < rows; r++)
                    {
                        int rowStart = (r + pad) * targetColumns * V;
                        block.Slice(rowStart, pad * V).Clear();
                        block.Slice(rowStart + (pad + columns) * V, right * V).Clear();
                    }
                }
                for (int r = 0; r < rows; r++)
                {
                    ref float rowTarget = ref Unsafe.Add(ref blockTarget, ((r + pad) * targetColumns + pad) * V);
                    ref float rowSource = ref Unsafe.Add(ref s, first * plane + r * columns);
                    int c = 0;
                    if (count == V)
                    {
                        for (; c + V <= columns; c += V)
                            DirectConvolution.Transpose16(ref Unsafe.Add(ref rowSource, c), plane, ref Unsafe.Add(ref rowTarget, c * V));
                        // A row's last columns (24 wide: 8 of them) as a whole square read past them, where the source goes on: 16
                        // channels' worth of floats one by one took a sixth of a 16-channel layer's time.
                        int start = first * plane + r * columns + c;
                        if (c < columns && start + 15 * plane + V <= source.Length)
                        {
                            DirectConvolution.Transpose16(ref Unsafe.Add(ref rowSource, c), plane, ref MemoryMarshal.GetReference(square));
                            square.Slice(0, (columns - c) * V).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref rowTarget, c * V), (columns - c) * V));
                            c = columns;
                        }
                    }
                    for (; c < columns; c++)
                        for (int k = 0; k < count; k++)
                            Unsafe.Add(ref rowTarget, c * V + k) = Unsafe.Add(ref rowSource, k * plane + c);
                }
            }
        }

        // V[position][tile][ic] = (Bᵀ d B) of each tile's 4x4 window, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        private static void TransformInput(ReadOnlySpan<float> input, Span<float> transformed, int start, int count, in Layout l)
        {
            ref float x0 = ref MemoryMarshal.GetReference(input);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            int columns = l.PaddedColumns, blockStride = l.PaddedRows * l.PaddedColumns * V;
            nuint positionStride = (nuint)l.InputPositionStride;
            for (int block = 0; block < l.InLanes / V; block++)
            {
                ref float xb = ref Unsafe.Add(ref x0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float w = ref Unsafe.Add(ref xb, (2 * ty * columns + 2 * tx) * V);
                    nuint row = (nuint)(columns * V);
                    var d00 = Vector512.LoadUnsafe(ref w, 0); var d01 = Vector512.LoadUnsafe(ref w, V); var d02 = Vector512.LoadUnsafe(ref w, 2 * V); var d03 = Vector512.LoadUnsafe(ref w, 3 * V);
                    var d10 = Vector512.LoadUnsafe(ref w, row); var d11 = Vector512.LoadUnsafe(ref w, row + V); var d12 = Vector512.LoadUnsafe(ref w, row + 2 * V); var d13 = Vector512.LoadUnsafe(ref w, row + 3 * V);
                    var d20 = Vector512.LoadUnsafe(ref w, 2 * row); var d21 = Vector512.LoadUnsafe(ref w, 2 * row + V); var d22 = Vector512.LoadUnsafe(ref w, 2 * row + 2 * V); var d23 = Vector512.LoadUnsafe(ref w, 2 * row + 3 * V);
                    var d30 = Vector512.LoadUnsafe(ref w, 3 * row); var d31 = Vector512.LoadUnsafe(ref w, 3 * row + V); var d32 = Vector512.LoadUnsafe(ref w, 3 * row + 2 * V); var d33 = Vector512.LoadUnsafe(ref w, 3 * row + 3 * V);
                    // Bᵀ d: rows.
                    var r00 = d00 - d20; var r01 = d01 - d21; var r02 = d02 - d22; var r03 = d03 - d23;
                    var r10 = d10 + d20; var r11 = d11 + d21; var r12 = d12 + d22; var r13 = d13 + d23;
                    var r20 = d20 - d10; var r21 = d21 - d11; var r22 = d22 - d12; var r23 = d23 - d13;
                    var r30 = d10 - d30; var r31 = d11 - d31; var r32 = d12 - d32; var r33 = d13 - d33;
                    ref float target = ref Unsafe.Add(ref v0, tile * l.InLanes + block * V);
                    // (Bᵀ d) B: columns, stored by position i·4 + j, as the forward F(2x2) does.
                    WinogradConvolution.StoreRow(ref target, positionStride, 0, r00, r01, r02, r03);
                    WinogradConvolution.StoreRow(ref target, positionStride, 4, r10, r11, r12, r13);
                    WinogradConvolution.StoreRow(ref target, positionStride, 8, r20, r21, r22, r23);
                    WinogradConvolution.StoreRow(ref target, positionStride, 12, r30, r31, r32, r33);
                }
            }
        }

        // DY[position][tile][oc] = (A dy Aᵀ) of each 2x2 tile of d y, A = [1 0; 1 1; 1 -1; 0 -1] (the forward's Aᵀ transposed).
        // d y blocked: rows of `columns` cells, blocks `blockStride` floats apart.
        private static void TransformGradient(ReadOnlySpan<float> gradient, int columns, int blockStride, Span<float> transformed, int start, int count, in Layout l)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float t0 = ref MemoryMarshal.GetReference(transformed);
            nuint positionStride = (nuint)l.GradientPositionStride;
            for (int block = 0; block < l.OutLanes / V; block++)
            {
                ref float gb = ref Unsafe.Add(ref g0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float e = ref Unsafe.Add(ref gb, (2 * ty * columns + 2 * tx) * V);
                    nuint row = (nuint)(columns * V);
                    var e00 = Vector512.LoadUnsafe(ref e, 0); var e01 = Vector512.LoadUnsafe(ref e, V);
                    var e10 = Vector512.LoadUnsafe(ref e, row); var e11 = Vector512.LoadUnsafe(ref e, row + V);
                    // A dy: four rows of two.
                    var sum0 = e00 + e10; var sum1 = e01 + e11; var difference0 = e00 - e10; var difference1 = e01 - e11;
                    ref float target = ref Unsafe.Add(ref t0, tile * l.OutLanes + block * V);
                    GradientRow(ref target, positionStride, 0, e00, e01);
                    GradientRow(ref target, positionStride, 4, sum0, sum1);
                    GradientRow(ref target, positionStride, 8, difference0, difference1);
                    GradientRow(ref target, positionStride, 12, -e10, -e11);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void GradientRow(ref float target, nuint positionStride, int position, Vector512<float> a, Vector512<float> b)
        {
            a.StoreUnsafe(ref target, (nuint)position * positionStride);
            (a + b).StoreUnsafe(ref target, (nuint)(position + 1) * positionStride);
            (a - b).StoreUnsafe(ref target, (nuint)(position + 2) * positionStride);
            (-b).StoreUnsafe(ref target, (nuint)(position + 3) * positionStride);
        }

        /// <summary>Whether Products splits the output channels into even groups of up to 6 (train-loop's TRAIN_LOOP_AB turns it off to compare).</summary>
        internal static bool EvenRowGroups { get; set; } = true;

        // M[position][oc][ic] = Σ over tiles of DY[position][tile][oc] · V[position][tile][ic]: register tiles of up to 6 output
        // channels x 2 vectors of input channels, accumulated over every tile.
        private static void Products(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products, int position, int tiles, bool accumulate, in Layout l)
        {
            if (!Vector512Here)
            {
                Products256(transformedGradient, transformedInput, products, position, tiles, accumulate, l);
                return;
            }
            int vectors = l.InLanes / V;
            if (vectors == 1)
            {
                int groups = (l.OutChannels + 11) / 12, size = (l.OutChannels + groups - 1) / groups;
                for (int first = 0; first < l.OutChannels; first += size)
                    ProductsOfRowsOneVector(transformedGradient, transformedInput, products, position, tiles, accumulate, first, Math.Min(size, l.OutChannels - first), l);
                return;
            }
            // Output channels in groups of at most 6 as even as they go (32: 5, 5, 6, 5, 5, 6, not 6 x 5 + 2): a group of 2
            // rows has 4 accumulators, too few to hide the FMA's latency. Each product sums its tiles in the same order either way.
            int rowGroups = (l.OutChannels + 5) / 6;
            for (int group = 0, first = 0; first < l.OutChannels; group++)
            {
                int rows = EvenRowGroups ? (group + 1) * l.OutChannels / rowGroups - first : Math.Min(6, l.OutChannels - first);
                int vector = 0;
                for (; vector + 2 <= vectors; vector += 2) ProductsOfRows<C2>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, rows, vector, l);
                if (vector < vectors) ProductsOfRows<C1>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, rows, vector, l);
                first += rows;
            }
        }

        private static void ProductsOfRows<TVectors>(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, int rows, int vector, in Layout l) where TVectors : struct, IConstant
        {
            // products[position][oc][ic]: zero before the first chunk, the sum so far after it.
            var strides = new ProductStrides(l.GradientPositionStride, l.InputPositionStride, l.OutLanes, l.InLanes, V, l.InLanes);
            ProductRows<TVectors>(rows, ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedGradient), first),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedInput), vector * V),
                ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * l.ProductPositionStride + first * l.InLanes + vector * V),
                strides, Positions.AsSpan(position, 1), tiles, accumulate);
        }

        // Position p at index p: one position's GEMM through ProductTile's loop over positions.
        private static readonly byte[] Positions =
        {
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
        };

        private static void ProductsOfRowsOneVector(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, int rows, in Layout l)
        {
            switch (rows)
            {
                case 12: TileOneVector<C12>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                case 11: TileOneVector<C11>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                case 10: TileOneVector<C10>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                case 9: TileOneVector<C9>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                case 8: TileOneVector<C8>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                case 7: TileOneVector<C7>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, l); break;
                default: ProductsOfRows<C1>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, rows, 0, l); break;
            }
        }

        // Tile with one vector of input channels and 7 to 12 output channels.
        private static void TileOneVector<TRows>(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, in Layout l) where TRows : struct, IConstant
        {
            ref float dy = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedGradient), position * l.GradientPositionStride + first);
            ref float v = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedInput), position * l.InputPositionStride);
            int outLanes = l.OutLanes;
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * l.ProductPositionStride + first * V);
            var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
            var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
            if (accumulate)
            {
                a0 = Vector512.LoadUnsafe(ref m, 0 * V); a1 = Vector512.LoadUnsafe(ref m, 1 * V); a2 = Vector512.LoadUnsafe(ref m, 2 * V);
                a3 = Vector512.LoadUnsafe(ref m, 3 * V); a4 = Vector512.LoadUnsafe(ref m, 4 * V); a5 = Vector512.LoadUnsafe(ref m, 5 * V);
                a6 = Vector512.LoadUnsafe(ref m, 6 * V);
                if (TRows.Value > 7) a7 = Vector512.LoadUnsafe(ref m, 7 * V);
                if (TRows.Value > 8) a8 = Vector512.LoadUnsafe(ref m, 8 * V);
                if (TRows.Value > 9) a9 = Vector512.LoadUnsafe(ref m, 9 * V);
                if (TRows.Value > 10) a10 = Vector512.LoadUnsafe(ref m, 10 * V);
                if (TRows.Value > 11) a11 = Vector512.LoadUnsafe(ref m, 11 * V);
            }
            for (int t = 0; t < tiles; t++)
            {
                var x = Vector512.LoadUnsafe(ref v);
                a0 = Fused.MultiplyAdd(x, Vector512.Create(dy), a0);
                a1 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 1)), a1);
                a2 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 2)), a2);
                a3 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 3)), a3);
                a4 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 4)), a4);
                a5 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 5)), a5);
                a6 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 6)), a6);
                if (TRows.Value > 7) a7 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 7)), a7);
                if (TRows.Value > 8) a8 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 8)), a8);
                if (TRows.Value > 9) a9 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 9)), a9);
                if (TRows.Value > 10) a10 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 10)), a10);
                if (TRows.Value > 11) a11 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref dy, 11)), a11);
                dy = ref Unsafe.Add(ref dy, outLanes);
                v = ref Unsafe.Add(ref v, V);
            }
            a0.StoreUnsafe(ref m, 0 * V); a1.StoreUnsafe(ref m, 1 * V); a2.StoreUnsafe(ref m, 2 * V);
            a3.StoreUnsafe(ref m, 3 * V); a4.StoreUnsafe(ref m, 4 * V); a5.StoreUnsafe(ref m, 5 * V);
            a6.StoreUnsafe(ref m, 6 * V);
            if (TRows.Value > 7) a7.StoreUnsafe(ref m, 7 * V);
            if (TRows.Value > 8) a8.StoreUnsafe(ref m, 8 * V);
            if (TRows.Value > 9) a9.StoreUnsafe(ref m, 9 * V);
            if (TRows.Value > 10) a10.StoreUnsafe(ref m, 10 * V);
            if (TRows.Value > 11) a11.StoreUnsafe(ref m, 11 * V);
        }

        /// <summary>
        /// Strides of <see cref="ProductTile{TRows, TVectors}"/>'s operands, in floats: between positions of d y's and x's
        /// transforms, between one tile and the next of each (K), to x's second vector of input channels, and between rows
        /// (output channels) of M, whose second vector lies next to the first.
        /// </summary>
        internal readonly struct ProductStrides
        {
            public readonly nuint GradientPosition, InputPosition, GradientTile, InputTile, SecondVector, ProductRow;

            public ProductStrides(int gradientPosition, int inputPosition, int gradientTile, int inputTile, int secondVector, int productRow)
            {
                GradientPosition = (nuint)gradientPosition; InputPosition = (nuint)inputPosition; GradientTile = (nuint)gradientTile;
                InputTile = (nuint)inputTile; SecondVector = (nuint)secondVector; ProductRow = (nuint)productRow;
            }
        }

        /// <summary><see cref="ProductTile{TRows, TVectors}"/> for 1 to 6 rows.</summary>
        internal static void ProductRows<TVectors>(int rows, ref float gradient, ref float input, ref float m, in ProductStrides s, ReadOnlySpan<byte> positions,
            int tiles, bool accumulate) where TVectors : struct, IConstant
        {
            switch (rows)
            {
                case 6: ProductTile<C6, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
                case 5: ProductTile<C5, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
                case 4: ProductTile<C4, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
                case 3: ProductTile<C3, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
                case 2: ProductTile<C2, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
                default: ProductTile<C1, TVectors>(ref gradient, ref input, ref m, s, positions, tiles, accumulate); break;
            }
        }

        /// <summary>
        /// The Winograd weight gradients' register tile (F(2x2, 3x3) here, one position a call; the stride-2 polyphase one,
        /// StridedWinogradConvolution, the positions of one filter slot): M[row][vector] (+)= Σ over <paramref name="positions"/>
        /// (in order) and <paramref name="tiles"/> tiles of DY[position][tile][row] · X[position][tile][vector], TRows (up to 6)
        /// output channels broadcast from d y's transform, TVectors (1 or 2) vectors of input channels loaded from x's.
        /// <paramref name="gradient"/>, <paramref name="input"/> and <paramref name="m"/> point at position 0's first row and
        /// vector.
        /// </summary>
        internal static void ProductTile<TRows, TVectors>(ref float gradient, ref float input, ref float m, in ProductStrides s, ReadOnlySpan<byte> positions,
            int tiles, bool accumulate) where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            nuint row = s.ProductRow, second = s.SecondVector, gradientTile = s.GradientTile, inputTile = s.InputTile;
            var a00 = Vector512<float>.Zero; var a01 = a00; var a10 = a00; var a11 = a00; var a20 = a00; var a21 = a00;
            var a30 = a00; var a31 = a00; var a40 = a00; var a41 = a00; var a50 = a00; var a51 = a00;
            if (accumulate)
            {
                Load<TVectors>(ref m, ref a00, ref a01);
                if (TRows.Value > 1) Load<TVectors>(ref Unsafe.Add(ref m, row), ref a10, ref a11);
                if (TRows.Value > 2) Load<TVectors>(ref Unsafe.Add(ref m, 2 * row), ref a20, ref a21);
                if (TRows.Value > 3) Load<TVectors>(ref Unsafe.Add(ref m, 3 * row), ref a30, ref a31);
                if (TRows.Value > 4) Load<TVectors>(ref Unsafe.Add(ref m, 4 * row), ref a40, ref a41);
                if (TRows.Value > 5) Load<TVectors>(ref Unsafe.Add(ref m, 5 * row), ref a50, ref a51);
            }
            foreach (byte position in positions)
            {
                ref float dy = ref Unsafe.Add(ref gradient, position * s.GradientPosition);
                ref float v = ref Unsafe.Add(ref input, position * s.InputPosition);
                for (int t = 0; t < tiles; t++)
                {
                    var x0 = Vector512.LoadUnsafe(ref v);
                    var x1 = TVectors.Value > 1 ? Vector512.LoadUnsafe(ref v, second) : default;
                    { var k = Vector512.Create(dy); a00 = Fused.MultiplyAdd(x0, k, a00); if (TVectors.Value > 1) a01 = Fused.MultiplyAdd(x1, k, a01); }
                    if (TRows.Value > 1) { var k = Vector512.Create(Unsafe.Add(ref dy, 1)); a10 = Fused.MultiplyAdd(x0, k, a10); if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11); }
                    if (TRows.Value > 2) { var k = Vector512.Create(Unsafe.Add(ref dy, 2)); a20 = Fused.MultiplyAdd(x0, k, a20); if (TVectors.Value > 1) a21 = Fused.MultiplyAdd(x1, k, a21); }
                    if (TRows.Value > 3) { var k = Vector512.Create(Unsafe.Add(ref dy, 3)); a30 = Fused.MultiplyAdd(x0, k, a30); if (TVectors.Value > 1) a31 = Fused.MultiplyAdd(x1, k, a31); }
                    if (TRows.Value > 4) { var k = Vector512.Create(Unsafe.Add(ref dy, 4)); a40 = Fused.MultiplyAdd(x0, k, a40); if (TVectors.Value > 1) a41 = Fused.MultiplyAdd(x1, k, a41); }
                    if (TRows.Value > 5) { var k = Vector512.Create(Unsafe.Add(ref dy, 5)); a50 = Fused.MultiplyAdd(x0, k, a50); if (TVectors.Value > 1) a51 = Fused.MultiplyAdd(x1, k, a51); }
                    dy = ref Unsafe.Add(ref dy, gradientTile);
                    v = ref Unsafe.Add(ref v, inputTile);
                }
            }
            Store<TVectors>(ref m, a00, a01);
            if (TRows.Value > 1) Store<TVectors>(ref Unsafe.Add(ref m, row), a10, a11);
            if (TRows.Value > 2) Store<TVectors>(ref Unsafe.Add(ref m, 2 * row), a20, a21);
            if (TRows.Value > 3) Store<TVectors>(ref Unsafe.Add(ref m, 3 * row), a30, a31);
            if (TRows.Value > 4) Store<TVectors>(ref Unsafe.Add(ref m, 4 * row), a40, a41);
            if (TRows.Value > 5) Store<TVectors>(ref Unsafe.Add(ref m, 5 * row), a50, a51);
        }

        // Two vectors of M's row, side by side.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Load<TVectors>(ref float source, ref Vector512<float> a0, ref Vector512<float> a1) where TVectors : struct, IConstant
        {
            a0 = Vector512.LoadUnsafe(ref source);
            if (TVectors.Value > 1) a1 = Vector512.LoadUnsafe(ref source, V);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store<TVectors>(ref float target, Vector512<float> a0, Vector512<float> a1) where TVectors : struct, IConstant
        {
            a0.StoreUnsafe(ref target);
            if (TVectors.Value > 1) a1.StoreUnsafe(ref target, V);
        }

        // d g[oc][ic][a][b] += (Gᵀ M G)[a][b] (TapsOf2, TapsOf4): 16 input channels at a time, their nine taps then moved from
        // [tap][lane] to PyTorch's [ic][tap] order.
        private static void TransformProducts(ReadOnlySpan<float> products, Span<float> weightGradient, in Layout l)
        {
            // [tap][lane] in the first 9 rows of a square: a full lane block turns it to [lane][tap] as one 16x16 transpose.
            Span<float> taps = stackalloc float[V * V];
            Span<float> transposed = stackalloc float[V * V];
            ref float turned = ref MemoryMarshal.GetReference(transposed);
            ref float k0 = ref MemoryMarshal.GetReference(taps);
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float dw = ref MemoryMarshal.GetReference(weightGradient);
            nuint positionStride = (nuint)l.ProductPositionStride;
            for (int oc = 0; oc < l.OutChannels; oc++)
            {
                for (int first = 0; first < l.InChannels; first += V)
                {
                    ref float m = ref Unsafe.Add(ref m0, oc * l.InLanes + first);
                    if (l.TileSize == 4) TapsOf4(ref m, positionStride, ref k0);
                    else TapsOf2(ref m, positionStride, ref k0);
                    int count = Math.Min(V, l.InChannels - first);
                    ref float target = ref Unsafe.Add(ref dw, (oc * l.InChannels + first) * 9);
                    if (count == V)
                    {
                        // Each input channel's nine taps: eight as one Vector256 and the ninth alone (144 single adds took a
                        // fifth of a 32-channel 16x16 layer's weight gradient).
                        DirectConvolution.Transpose16(ref k0, V, ref turned);
                        for (int lane = 0; lane < V; lane++)
                        {
                            ref float row = ref Unsafe.Add(ref turned, lane * V);
                            ref float at = ref Unsafe.Add(ref target, lane * 9);
                            (Vector256.LoadUnsafe(ref at) + Vector256.LoadUnsafe(ref row)).StoreUnsafe(ref at);
                            Unsafe.Add(ref at, 8) += Unsafe.Add(ref row, 8);
                        }
                        continue;
                    }
                    for (int lane = 0; lane < count; lane++)
                        for (int tap = 0; tap < 9; tap++)
                            Unsafe.Add(ref target, lane * 9 + tap) += Unsafe.Add(ref k0, tap * V + lane);
                }
            }
        }

        // The nine taps [tap][16 lanes] of Gᵀ M G from the 16 positions of M (positionStride floats apart), G = [1 0 0; ½ ½ ½;
        // ½ −½ ½; 0 0 1].
        private static void TapsOf2(ref float m, nuint positionStride, ref float k0)
        {
            var half = Vector512.Create(0.5f);
            var m00 = Vector512.LoadUnsafe(ref m, 0 * positionStride); var m01 = Vector512.LoadUnsafe(ref m, 1 * positionStride);
            var m02 = Vector512.LoadUnsafe(ref m, 2 * positionStride); var m03 = Vector512.LoadUnsafe(ref m, 3 * positionStride);
            var m10 = Vector512.LoadUnsafe(ref m, 4 * positionStride); var m11 = Vector512.LoadUnsafe(ref m, 5 * positionStride);
            var m12 = Vector512.LoadUnsafe(ref m, 6 * positionStride); var m13 = Vector512.LoadUnsafe(ref m, 7 * positionStride);
            var m20 = Vector512.LoadUnsafe(ref m, 8 * positionStride); var m21 = Vector512.LoadUnsafe(ref m, 9 * positionStride);
            var m22 = Vector512.LoadUnsafe(ref m, 10 * positionStride); var m23 = Vector512.LoadUnsafe(ref m, 11 * positionStride);
            var m30 = Vector512.LoadUnsafe(ref m, 12 * positionStride); var m31 = Vector512.LoadUnsafe(ref m, 13 * positionStride);
            var m32 = Vector512.LoadUnsafe(ref m, 14 * positionStride); var m33 = Vector512.LoadUnsafe(ref m, 15 * positionStride);
            // Gᵀ M: three rows of four.
            var s0 = (m10 + m20) * half; var s1 = (m11 + m21) * half; var s2 = (m12 + m22) * half; var s3 = (m13 + m23) * half;
            var r00 = m00 + s0; var r01 = m01 + s1; var r02 = m02 + s2; var r03 = m03 + s3;
            var r10 = (m10 - m20) * half; var r11 = (m11 - m21) * half; var r12 = (m12 - m22) * half; var r13 = (m13 - m23) * half;
            var r20 = s0 + m30; var r21 = s1 + m31; var r22 = s2 + m32; var r23 = s3 + m33;
            // (Gᵀ M) G: three columns of each row.
            TapsRow(ref k0, 0, r00, r01, r02, r03, half);
            TapsRow(ref k0, 3, r10, r11, r12, r13, half);
            TapsRow(ref k0, 6, r20, r21, r22, r23, half);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void TapsRow(ref float taps, int tap, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, Vector512<float> half)
        {
            var s = (b + c) * half;
            (a + s).StoreUnsafe(ref taps, (nuint)(tap * V));
            ((b - c) * half).StoreUnsafe(ref taps, (nuint)((tap + 1) * V));
            (s + d).StoreUnsafe(ref taps, (nuint)((tap + 2) * V));
        }
    }
}
