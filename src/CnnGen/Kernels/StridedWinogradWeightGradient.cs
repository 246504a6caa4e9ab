using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The weight gradient of a stride-2 3x3 convolution by Winograd's method through the polyphase split, on the Vector512
    /// path: 25 multiplications per 2x2 tile of d y, input channel and output channel instead of 36.
    /// <see cref="StridedConvolution"/>'s backward pass calls it where it measured faster (<see cref="Pays"/>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// In one dimension a tile of two outputs with gradients d0, d1 reads the padded input u0..u4 (at 2o + k), and the three
    /// taps' gradients are t0 = d0·u0 + d1·u2, t1 = d0·u1 + d1·u3, t2 = d0·u2 + d1·u4. The even taps are a 2-output, 2-tap
    /// correlation over the even phase u0, u2, u4: Winograd's F(2, 2) gives them from three products, m0 = (u0 − u2)·d0,
    /// m1 = u2·(d0 + d1), m2 = (u4 − u2)·d1, as t0 = m0 + m1 and t2 = m1 + m2. The odd tap stays two products, m3 = u1·d0,
    /// m4 = u3·d1, t1 = m3 + m4. Five products instead of six; in two dimensions 25 instead of 36 (1.44x fewer).
    /// </para>
    /// <para>
    /// As for stride 1 (<see cref="WinogradWeightGradient"/>) the transforms are linear, so each of the 25 positions sums
    /// its products over all tiles first, M[oc][ic] = Σ_t D[t][oc] · U[t][ic], a matrix product with the tiles as the shared
    /// dimension, and the taps come from M once. Every transform is additions only. Channels sit in the lanes: x and d y are
    /// laid out channel-blocked (16 per position, x zero-padded to whole tiles); tiles past the output's edge read zeros of
    /// d y and add nothing.
    /// </para>
    /// </remarks>
    internal static class StridedWinogradWeightGradient
    {
        private const int V = 16;
        private const int Positions = 25;

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, Padding, OutChannels, OutHeight, OutWidth;
            public readonly int TileRows, TileColumns, Tiles, ChunkTiles, InLanes, OutLanes, InputRows, InputColumns, GradientRows, GradientColumns;
            public readonly int InputPositionStride, GradientPositionStride, ProductPositionStride;
            public readonly int InputLength, GradientLength, TransformedInputLength, TransformedGradientLength, ProductLength;

            public Layout(int inChannels, int height, int width, int outChannels, int padding)
            {
                InChannels = inChannels; Height = height; Width = width; Padding = padding; OutChannels = outChannels;
                OutHeight = (height + 2 * padding - 3) / 2 + 1;
                OutWidth = (width + 2 * padding - 3) / 2 + 1;
                TileRows = (OutHeight + 1) / 2;
                TileColumns = (OutWidth + 1) / 2;
                Tiles = TileRows * TileColumns;
                InLanes = (inChannels + V - 1) / V * V;
                OutLanes = (outChannels + V - 1) / V * V;
                // A tile's window starts at 4 times its place and is 5 wide; the padded input's last row or column may lie past
                // every window (no output reads it) and is left out.
                InputRows = 4 * TileRows + 1;
                InputColumns = 4 * TileColumns + 1;
                GradientRows = 2 * TileRows;
                GradientColumns = 2 * TileColumns;
                InputLength = InputRows * InputColumns * InLanes;
                GradientLength = GradientRows * GradientColumns * OutLanes;
                // Tiles transformed and multiplied at a time: their 25 positions of U and D together about 512 KB, so they stay
                // in L2 next to the sums M while every position's product reads them back.
                ChunkTiles = Math.Min(Tiles, Math.Clamp(20480 / (InLanes + OutLanes), 8, 256));
                // The positions lie one vector more than a multiple of 4 KB apart, or their stores and loads would fall in the
                // same sets of the L1 cache.
                InputPositionStride = ChunkTiles * InLanes + V;
                GradientPositionStride = ChunkTiles * OutLanes + V;
                ProductPositionStride = outChannels * InLanes + V;
                TransformedInputLength = Positions * InputPositionStride;
                TransformedGradientLength = Positions * GradientPositionStride;
                ProductLength = Positions * ProductPositionStride;
            }

            public int ScratchLength => InputLength + GradientLength + TransformedInputLength + TransformedGradientLength + ProductLength;
        }

        /// <summary>
        /// Where the polyphase F(2, 2) weight gradient measured faster than the direct lanes kernel (WeightPass512), one sample
        /// at a time as training calls it: 16 or more input and output channels. See benchmarks/README.md, session 12,
        /// branch <c>stridetrain</c>, for the table.
        /// </summary>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int padding) =>
            inChannels >= MinimumChannels && outChannels >= MinimumChannels && height + 2 * padding >= 3 && width + 2 * padding >= 3;

        internal const int MinimumChannels = 16;

        /// <summary>
        /// weightGradient [oc x ic x 3 x 3] += the gradient of conv2d(x, ·, 3x3, stride 2, padding) for d y; one sample.
        /// The scratch is <see cref="Layout.ScratchLength"/> floats.
        /// </summary>
        public static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> scratch, in Layout l)
        {
            if (scratch.Length < l.ScratchLength) throw new ArgumentException("Expected at least " + l.ScratchLength + " floats.", nameof(scratch));
            var products = scratch.Slice(l.ScratchLength - l.ProductLength, l.ProductLength);
            AddSampleProducts(x, outputGradient, products, scratch, first: true, l);
            AddTransformedProducts(products, weightGradient, l);
        }

        /// <summary>
        /// The batch form of <see cref="Accumulate"/>: products [<see cref="Layout.ProductLength"/>] += one sample's sums M
        /// (<paramref name="first"/>: set to them, whatever the span held); <see cref="AddTransformedProducts"/> once after the
        /// last sample gives the batch's weight gradient, the taps taken from M once a batch instead of once a sample. Only the
        /// first <see cref="Layout.ScratchLength"/> − <see cref="Layout.ProductLength"/> floats of scratch are used.
        /// </summary>
        public static void AddSampleProducts(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> products, Span<float> scratch, bool first, in Layout l)
        {
            if (products.Length < l.ProductLength) throw new ArgumentException("Expected at least " + l.ProductLength + " floats.", nameof(products));
            int working = l.ScratchLength - l.ProductLength;
            if (scratch.Length < working) throw new ArgumentException("Expected at least " + working + " floats.", nameof(scratch));
            var input = scratch.Slice(0, l.InputLength);
            var gradient = scratch.Slice(l.InputLength, l.GradientLength);
            var transformedInput = scratch.Slice(l.InputLength + l.GradientLength, l.TransformedInputLength);
            var transformedGradient = scratch.Slice(l.InputLength + l.GradientLength + l.TransformedInputLength, l.TransformedGradientLength);
            Block(x, l.InChannels, l.Height, l.Width, l.Padding, l.InputRows, l.InputColumns, input);
            Block(outputGradient, l.OutChannels, l.OutHeight, l.OutWidth, 0, l.GradientRows, l.GradientColumns, gradient);
            for (int start = 0; start < l.Tiles; start += l.ChunkTiles)
            {
                int count = Math.Min(l.ChunkTiles, l.Tiles - start);
                TransformInput(input, transformedInput, start, count, l);
                TransformGradient(gradient, transformedGradient, start, count, l);
                for (int position = 0; position < Positions; position++)
                    Products(transformedGradient, transformedInput, products, position, count, accumulate: start > 0 || !first, l);
            }
        }

        /// <summary>weightGradient [oc x ic x 3 x 3] += the taps of the sums <see cref="AddSampleProducts"/> gathered.</summary>
        public static void AddTransformedProducts(ReadOnlySpan<float> products, Span<float> weightGradient, in Layout l)
        {
            if (products.Length < l.ProductLength) throw new ArgumentException("Expected at least " + l.ProductLength + " floats.", nameof(products));
            if (weightGradient.Length < l.OutChannels * l.InChannels * 9)
                throw new ArgumentException("Expected at least " + l.OutChannels * l.InChannels * 9 + " floats.", nameof(weightGradient));
            TransformProducts(products, weightGradient, l);
        }

        // source [channels x rows x columns] into target [channel block][row + pad][column + pad][16 lanes] (clipped to
        // targetRows x targetColumns), zeros elsewhere.
        private static void Block(ReadOnlySpan<float> source, int channels, int rows, int columns, int pad, int targetRows, int targetColumns, Span<float> target)
        {
            ref float s = ref MemoryMarshal.GetReference(source);
            ref float t = ref MemoryMarshal.GetReference(target);
            int plane = rows * columns, blockLength = targetRows * targetColumns * V;
            int copiedRows = Math.Min(rows, targetRows - pad), copiedColumns = Math.Min(columns, targetColumns - pad);
            for (int first = 0; first < channels; first += V)
            {
                int count = Math.Min(V, channels - first);
                ref float blockTarget = ref Unsafe.Add(ref t, first * targetRows * targetColumns);
                target.Slice(first * targetRows * targetColumns, blockLength).Clear();
                for (int r = 0; r < copiedRows; r++)
                {
                    ref float rowTarget = ref Unsafe.Add(ref blockTarget, ((r + pad) * targetColumns + pad) * V);
                    ref float rowSource = ref Unsafe.Add(ref s, first * plane + r * columns);
                    int c = 0;
                    if (count == V)
                        for (; c + V <= copiedColumns; c += V)
                            DirectConvolution.Transpose16(ref Unsafe.Add(ref rowSource, c), plane, ref Unsafe.Add(ref rowTarget, c * V));
                    for (; c < copiedColumns; c++)
                        for (int k = 0; k < count; k++)
                            Unsafe.Add(ref rowTarget, c * V + k) = Unsafe.Add(ref rowSource, k * plane + c);
                }
            }
        }

        // U[a][b] of each tile's 5x5 window w: the one-dimensional transform [w0 − w2, w2, w4 − w2, w1, w3] down the rows,
        // then along them. U[position][tile][ic].
        private static void TransformInput(ReadOnlySpan<float> input, Span<float> transformed, int start, int count, in Layout l)
        {
            ref float x0 = ref MemoryMarshal.GetReference(input);
            ref float u0 = ref MemoryMarshal.GetReference(transformed);
            int columns = l.InputColumns, blockStride = l.InputRows * l.InputColumns * V;
            nuint row = (nuint)(columns * V);
            nuint positionStride = (nuint)l.InputPositionStride;
            // Down the rows, one column of the window at a time, kept as five rows of five.
            Span<Vector512<float>> r = stackalloc Vector512<float>[Positions];
            for (int block = 0; block < l.InLanes / V; block++)
            {
                ref float xb = ref Unsafe.Add(ref x0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float w = ref Unsafe.Add(ref xb, (4 * ty * columns + 4 * tx) * V);
                    ref float u = ref Unsafe.Add(ref u0, tile * l.InLanes + block * V);
                    for (int j = 0; j < 5; j++)
                    {
                        ref float c = ref Unsafe.Add(ref w, j * V);
                        var w0 = Vector512.LoadUnsafe(ref c); var w1 = Vector512.LoadUnsafe(ref c, row);
                        var w2 = Vector512.LoadUnsafe(ref c, 2 * row); var w3 = Vector512.LoadUnsafe(ref c, 3 * row);
                        var w4 = Vector512.LoadUnsafe(ref c, 4 * row);
                        r[j] = w0 - w2; r[5 + j] = w2; r[10 + j] = w4 - w2; r[15 + j] = w1; r[20 + j] = w3;
                    }
                    for (int a = 0; a < 5; a++)
                    {
                        var w0 = r[5 * a]; var w1 = r[5 * a + 1]; var w2 = r[5 * a + 2]; var w3 = r[5 * a + 3]; var w4 = r[5 * a + 4];
                        nuint p = (nuint)(5 * a) * positionStride;
                        (w0 - w2).StoreUnsafe(ref u, p);
                        w2.StoreUnsafe(ref u, p + positionStride);
                        (w4 - w2).StoreUnsafe(ref u, p + 2 * positionStride);
                        w1.StoreUnsafe(ref u, p + 3 * positionStride);
                        w3.StoreUnsafe(ref u, p + 4 * positionStride);
                    }
                }
            }
        }

        // D[a][b] of each tile's 2x2 d y: the one-dimensional transform [d0, d0 + d1, d1, d0, d1] down and along. D[position][tile][oc].
        private static void TransformGradient(ReadOnlySpan<float> gradient, Span<float> transformed, int start, int count, in Layout l)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float d0 = ref MemoryMarshal.GetReference(transformed);
            int columns = l.GradientColumns, blockStride = l.GradientRows * l.GradientColumns * V;
            nuint positionStride = (nuint)l.GradientPositionStride;
            for (int block = 0; block < l.OutLanes / V; block++)
            {
                ref float gb = ref Unsafe.Add(ref g0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    ref float w = ref Unsafe.Add(ref gb, (2 * ty * columns + 2 * tx) * V);
                    var top0 = Vector512.LoadUnsafe(ref w); var top1 = Vector512.LoadUnsafe(ref w, V);
                    var bottom0 = Vector512.LoadUnsafe(ref w, (nuint)(columns * V)); var bottom1 = Vector512.LoadUnsafe(ref w, (nuint)(columns * V + V));
                    // Down: rows [top, top + bottom, bottom, top, bottom]; each along: [e0, e0 + e1, e1, e0, e1].
                    ref float d = ref Unsafe.Add(ref d0, tile * l.OutLanes + block * V);
                    StoreGradientRow(ref d, 0, top0, top1, positionStride);
                    StoreGradientRow(ref d, 5, top0 + bottom0, top1 + bottom1, positionStride);
                    StoreGradientRow(ref d, 10, bottom0, bottom1, positionStride);
                    StoreGradientRow(ref d, 15, top0, top1, positionStride);
                    StoreGradientRow(ref d, 20, bottom0, bottom1, positionStride);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreGradientRow(ref float d, int position, Vector512<float> e0, Vector512<float> e1, nuint positionStride)
        {
            nuint p = (nuint)position * positionStride;
            e0.StoreUnsafe(ref d, p);
            (e0 + e1).StoreUnsafe(ref d, p + positionStride);
            e1.StoreUnsafe(ref d, p + 2 * positionStride);
            e0.StoreUnsafe(ref d, p + 3 * positionStride);
            e1.StoreUnsafe(ref d, p + 4 * positionStride);
        }

        // M[position][oc][ic] (+)= Σ over the chunk's tiles of D[position][tile][oc] · U[position][tile][ic]: register tiles of
        // 12 output channels x 32 input-channel lanes (one broadcast of D feeding two FMAs), or 12 x 16 where the input
        // channels are one vector.
        private static void Products(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, in Layout l)
        {
            int outChannels = l.OutChannels;
            if (l.InLanes == V)
            {
                int oc = 0;
                for (; oc + 12 <= outChannels; oc += 12) TileOneVector<C12>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l);
                switch (outChannels - oc)
                {
                    case 0: break;
                    case 1: TileOneVector<C1>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 2: TileOneVector<C2>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 3: TileOneVector<C3>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 4: TileOneVector<C4>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 5: TileOneVector<C5>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 6: TileOneVector<C6>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 7: TileOneVector<C7>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 8: TileOneVector<C8>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 9: TileOneVector<C9>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    case 10: TileOneVector<C10>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                    default: TileOneVector<C11>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, l); break;
                }
                return;
            }
            for (int vector = 0; vector < l.InLanes / V; vector += 2)
            {
                bool two = vector + 2 <= l.InLanes / V;
                int oc = 0;
                for (; oc + RowsPerTile <= outChannels; oc += RowsPerTile)
                {
                    if (two) Tile<C12, C2>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, vector, l);
                    else Tile<C12, C1>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, vector, l);
                }
                if (oc < outChannels)
                {
                    if (two) RemainingRows<C2>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, vector, outChannels - oc, l);
                    else RemainingRows<C1>(transformedGradient, transformedInput, products, position, tiles, accumulate, oc, vector, outChannels - oc, l);
                }
            }
        }

        // 12 output channels x 32 input-channel lanes: 24 sums in registers, two loads of U and twelve broadcasts of D a tile.
        private const int RowsPerTile = 12;

        private static void RemainingRows<TVectors>(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, int vector, int rows, in Layout l) where TVectors : struct, IConstant
        {
            switch (rows)
            {
                case 11: Tile<C11, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 10: Tile<C10, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 9: Tile<C9, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 8: Tile<C8, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 7: Tile<C7, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 6: Tile<C6, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 5: Tile<C5, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 4: Tile<C4, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 3: Tile<C3, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                case 2: Tile<C2, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
                default: Tile<C1, TVectors>(transformedGradient, transformedInput, products, position, tiles, accumulate, first, vector, l); break;
            }
        }

        // Output channels [first, first + TRows) (up to 12) against input-channel lanes [16·vector, 16·(vector + TVectors)).
        private static void Tile<TRows, TVectors>(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, int vector, in Layout l) where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            ref float d = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedGradient), position * l.GradientPositionStride + first);
            ref float u = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedInput), position * l.InputPositionStride + vector * V);
            int outLanes = l.OutLanes, inLanes = l.InLanes;
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * l.ProductPositionStride + first * inLanes + vector * V);
            var a00 = Vector512<float>.Zero; var a01 = a00; var a10 = a00; var a11 = a00; var a20 = a00; var a21 = a00; var a30 = a00; var a31 = a00; var a40 = a00; var a41 = a00; var a50 = a00; var a51 = a00; var a60 = a00; var a61 = a00; var a70 = a00; var a71 = a00; var a80 = a00; var a81 = a00; var a90 = a00; var a91 = a00; var a100 = a00; var a101 = a00; var a110 = a00; var a111 = a00;
            if (accumulate)
            {
                Load<TVectors>(ref m, ref a00, ref a01);
                if (TRows.Value > 1) Load<TVectors>(ref Unsafe.Add(ref m, 1 * inLanes), ref a10, ref a11);
                if (TRows.Value > 2) Load<TVectors>(ref Unsafe.Add(ref m, 2 * inLanes), ref a20, ref a21);
                if (TRows.Value > 3) Load<TVectors>(ref Unsafe.Add(ref m, 3 * inLanes), ref a30, ref a31);
                if (TRows.Value > 4) Load<TVectors>(ref Unsafe.Add(ref m, 4 * inLanes), ref a40, ref a41);
                if (TRows.Value > 5) Load<TVectors>(ref Unsafe.Add(ref m, 5 * inLanes), ref a50, ref a51);
                if (TRows.Value > 6) Load<TVectors>(ref Unsafe.Add(ref m, 6 * inLanes), ref a60, ref a61);
                if (TRows.Value > 7) Load<TVectors>(ref Unsafe.Add(ref m, 7 * inLanes), ref a70, ref a71);
                if (TRows.Value > 8) Load<TVectors>(ref Unsafe.Add(ref m, 8 * inLanes), ref a80, ref a81);
                if (TRows.Value > 9) Load<TVectors>(ref Unsafe.Add(ref m, 9 * inLanes), ref a90, ref a91);
                if (TRows.Value > 10) Load<TVectors>(ref Unsafe.Add(ref m, 10 * inLanes), ref a100, ref a101);
                if (TRows.Value > 11) Load<TVectors>(ref Unsafe.Add(ref m, 11 * inLanes), ref a110, ref a111);
            }
            for (int t = 0; t < tiles; t++)
            {
                var x0 = Vector512.LoadUnsafe(ref u);
                var x1 = TVectors.Value > 1 ? Vector512.LoadUnsafe(ref u, V) : default;
                { var k = Vector512.Create(d); a00 = Fused.MultiplyAdd(x0, k, a00); if (TVectors.Value > 1) a01 = Fused.MultiplyAdd(x1, k, a01); }
                if (TRows.Value > 1) { var k = Vector512.Create(Unsafe.Add(ref d, 1)); a10 = Fused.MultiplyAdd(x0, k, a10); if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11); }
                if (TRows.Value > 2) { var k = Vector512.Create(Unsafe.Add(ref d, 2)); a20 = Fused.MultiplyAdd(x0, k, a20); if (TVectors.Value > 1) a21 = Fused.MultiplyAdd(x1, k, a21); }
                if (TRows.Value > 3) { var k = Vector512.Create(Unsafe.Add(ref d, 3)); a30 = Fused.MultiplyAdd(x0, k, a30); if (TVectors.Value > 1) a31 = Fused.MultiplyAdd(x1, k, a31); }
                if (TRows.Value > 4) { var k = Vector512.Create(Unsafe.Add(ref d, 4)); a40 = Fused.MultiplyAdd(x0, k, a40); if (TVectors.Value > 1) a41 = Fused.MultiplyAdd(x1, k, a41); }
                if (TRows.Value > 5) { var k = Vector512.Create(Unsafe.Add(ref d, 5)); a50 = Fused.MultiplyAdd(x0, k, a50); if (TVectors.Value > 1) a51 = Fused.MultiplyAdd(x1, k, a51); }
                if (TRows.Value > 6) { var k = Vector512.Create(Unsafe.Add(ref d, 6)); a60 = Fused.MultiplyAdd(x0, k, a60); if (TVectors.Value > 1) a61 = Fused.MultiplyAdd(x1, k, a61); }
                if (TRows.Value > 7) { var k = Vector512.Create(Unsafe.Add(ref d, 7)); a70 = Fused.MultiplyAdd(x0, k, a70); if (TVectors.Value > 1) a71 = Fused.MultiplyAdd(x1, k, a71); }
                if (TRows.Value > 8) { var k = Vector512.Create(Unsafe.Add(ref d, 8)); a80 = Fused.MultiplyAdd(x0, k, a80); if (TVectors.Value > 1) a81 = Fused.MultiplyAdd(x1, k, a81); }
                if (TRows.Value > 9) { var k = Vector512.Create(Unsafe.Add(ref d, 9)); a90 = Fused.MultiplyAdd(x0, k, a90); if (TVectors.Value > 1) a91 = Fused.MultiplyAdd(x1, k, a91); }
                if (TRows.Value > 10) { var k = Vector512.Create(Unsafe.Add(ref d, 10)); a100 = Fused.MultiplyAdd(x0, k, a100); if (TVectors.Value > 1) a101 = Fused.MultiplyAdd(x1, k, a101); }
                if (TRows.Value > 11) { var k = Vector512.Create(Unsafe.Add(ref d, 11)); a110 = Fused.MultiplyAdd(x0, k, a110); if (TVectors.Value > 1) a111 = Fused.MultiplyAdd(x1, k, a111); }
                d = ref Unsafe.Add(ref d, outLanes);
                u = ref Unsafe.Add(ref u, inLanes);
            }
            Store<TVectors>(ref m, a00, a01);
            if (TRows.Value > 1) Store<TVectors>(ref Unsafe.Add(ref m, 1 * inLanes), a10, a11);
            if (TRows.Value > 2) Store<TVectors>(ref Unsafe.Add(ref m, 2 * inLanes), a20, a21);
            if (TRows.Value > 3) Store<TVectors>(ref Unsafe.Add(ref m, 3 * inLanes), a30, a31);
            if (TRows.Value > 4) Store<TVectors>(ref Unsafe.Add(ref m, 4 * inLanes), a40, a41);
            if (TRows.Value > 5) Store<TVectors>(ref Unsafe.Add(ref m, 5 * inLanes), a50, a51);
            if (TRows.Value > 6) Store<TVectors>(ref Unsafe.Add(ref m, 6 * inLanes), a60, a61);
            if (TRows.Value > 7) Store<TVectors>(ref Unsafe.Add(ref m, 7 * inLanes), a70, a71);
            if (TRows.Value > 8) Store<TVectors>(ref Unsafe.Add(ref m, 8 * inLanes), a80, a81);
            if (TRows.Value > 9) Store<TVectors>(ref Unsafe.Add(ref m, 9 * inLanes), a90, a91);
            if (TRows.Value > 10) Store<TVectors>(ref Unsafe.Add(ref m, 10 * inLanes), a100, a101);
            if (TRows.Value > 11) Store<TVectors>(ref Unsafe.Add(ref m, 11 * inLanes), a110, a111);
        }

        // One vector of input channels, up to 12 output channels: twelve broadcasts share each load of U.
        private static void TileOneVector<TRows>(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products,
            int position, int tiles, bool accumulate, int first, in Layout l) where TRows : struct, IConstant
        {
            ref float d = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedGradient), position * l.GradientPositionStride + first);
            ref float u = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedInput), position * l.InputPositionStride);
            int outLanes = l.OutLanes;
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * l.ProductPositionStride + first * V);
            var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
            var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
            if (accumulate)
            {
                a0 = Vector512.LoadUnsafe(ref m, 0 * V);
                if (TRows.Value > 1) a1 = Vector512.LoadUnsafe(ref m, 1 * V);
                if (TRows.Value > 2) a2 = Vector512.LoadUnsafe(ref m, 2 * V);
                if (TRows.Value > 3) a3 = Vector512.LoadUnsafe(ref m, 3 * V);
                if (TRows.Value > 4) a4 = Vector512.LoadUnsafe(ref m, 4 * V);
                if (TRows.Value > 5) a5 = Vector512.LoadUnsafe(ref m, 5 * V);
                if (TRows.Value > 6) a6 = Vector512.LoadUnsafe(ref m, 6 * V);
                if (TRows.Value > 7) a7 = Vector512.LoadUnsafe(ref m, 7 * V);
                if (TRows.Value > 8) a8 = Vector512.LoadUnsafe(ref m, 8 * V);
                if (TRows.Value > 9) a9 = Vector512.LoadUnsafe(ref m, 9 * V);
                if (TRows.Value > 10) a10 = Vector512.LoadUnsafe(ref m, 10 * V);
                if (TRows.Value > 11) a11 = Vector512.LoadUnsafe(ref m, 11 * V);
            }
            for (int t = 0; t < tiles; t++)
            {
                var x = Vector512.LoadUnsafe(ref u);
                a0 = Fused.MultiplyAdd(x, Vector512.Create(d), a0);
                if (TRows.Value > 1) a1 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 1)), a1);
                if (TRows.Value > 2) a2 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 2)), a2);
                if (TRows.Value > 3) a3 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 3)), a3);
                if (TRows.Value > 4) a4 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 4)), a4);
                if (TRows.Value > 5) a5 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 5)), a5);
                if (TRows.Value > 6) a6 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 6)), a6);
                if (TRows.Value > 7) a7 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 7)), a7);
                if (TRows.Value > 8) a8 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 8)), a8);
                if (TRows.Value > 9) a9 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 9)), a9);
                if (TRows.Value > 10) a10 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 10)), a10);
                if (TRows.Value > 11) a11 = Fused.MultiplyAdd(x, Vector512.Create(Unsafe.Add(ref d, 11)), a11);
                d = ref Unsafe.Add(ref d, outLanes);
                u = ref Unsafe.Add(ref u, V);
            }
            a0.StoreUnsafe(ref m, 0 * V);
            if (TRows.Value > 1) a1.StoreUnsafe(ref m, 1 * V);
            if (TRows.Value > 2) a2.StoreUnsafe(ref m, 2 * V);
            if (TRows.Value > 3) a3.StoreUnsafe(ref m, 3 * V);
            if (TRows.Value > 4) a4.StoreUnsafe(ref m, 4 * V);
            if (TRows.Value > 5) a5.StoreUnsafe(ref m, 5 * V);
            if (TRows.Value > 6) a6.StoreUnsafe(ref m, 6 * V);
            if (TRows.Value > 7) a7.StoreUnsafe(ref m, 7 * V);
            if (TRows.Value > 8) a8.StoreUnsafe(ref m, 8 * V);
            if (TRows.Value > 9) a9.StoreUnsafe(ref m, 9 * V);
            if (TRows.Value > 10) a10.StoreUnsafe(ref m, 10 * V);
            if (TRows.Value > 11) a11.StoreUnsafe(ref m, 11 * V);
        }

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

        // d w[oc][ic][ky][kx] += Σ_{a ∈ S(ky), b ∈ S(kx)} M[a][b] with S(0) = {0, 1}, S(1) = {3, 4}, S(2) = {1, 2}: 16 input
        // channels at a time, their nine taps moved from [tap][lane] to PyTorch's [ic][tap] order.
        private static void TransformProducts(ReadOnlySpan<float> products, Span<float> weightGradient, in Layout l)
        {
            Span<float> taps = stackalloc float[V * V];
            Span<float> transposed = stackalloc float[V * V];
            // The sums down the rows, [ky][b].
            Span<Vector512<float>> down = stackalloc Vector512<float>[15];
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
                    // Down: the rows' sums for ky = 0, 1, 2, each a row of five positions b.
                    for (int b = 0; b < 5; b++)
                    {
                        var r0 = Vector512.LoadUnsafe(ref m, (nuint)b * positionStride);
                        var r1 = Vector512.LoadUnsafe(ref m, (nuint)(5 + b) * positionStride);
                        var r2 = Vector512.LoadUnsafe(ref m, (nuint)(10 + b) * positionStride);
                        var r3 = Vector512.LoadUnsafe(ref m, (nuint)(15 + b) * positionStride);
                        var r4 = Vector512.LoadUnsafe(ref m, (nuint)(20 + b) * positionStride);
                        down[b] = r0 + r1;
                        down[5 + b] = r3 + r4;
                        down[10 + b] = r1 + r2;
                    }
                    for (int ky = 0; ky < 3; ky++)
                    {
                        var s0 = down[5 * ky]; var s1 = down[5 * ky + 1]; var s2 = down[5 * ky + 2]; var s3 = down[5 * ky + 3]; var s4 = down[5 * ky + 4];
                        (s0 + s1).StoreUnsafe(ref k0, (nuint)((ky * 3) * V));
                        (s3 + s4).StoreUnsafe(ref k0, (nuint)((ky * 3 + 1) * V));
                        (s1 + s2).StoreUnsafe(ref k0, (nuint)((ky * 3 + 2) * V));
                    }
                    int count = Math.Min(V, l.InChannels - first);
                    ref float target = ref Unsafe.Add(ref dw, (oc * l.InChannels + first) * 9);
                    if (count == V)
                    {
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
    }
}
