using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 3x3 convolution by Winograd's F(2x2, 3x3) on the Vector512 path: 16 multiplications per 2x2 output
    /// tile and input channel instead of 36. <see cref="WinogradF4Convolution"/> replaced it in <see cref="DirectConvolution"/>
    /// (faster on every shape where this one beat the direct kernel); KernelBench keeps it as the comparison, and
    /// <see cref="WinogradWeightGradient"/> follows the same tile scheme.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Output tile (ty, tx) covers output rows 2ty..2ty+1 and columns 2tx..2tx+1 and reads the padded input rows
    /// 2ty..2ty+3, columns 2tx..2tx+3. The padded input is stored as four planes per channel, by the parity of the row
    /// and of the column (plane (a, b) holds padded[2r + a][2k + b] at r·S + k, S = TW + 1). Tile f = ty·S + tx then reads
    /// element (i, j) of its 4x4 window at plane (i mod 2, j mod 2), offset (i/2)·S + j/2 + f: 16 consecutive tiles are
    /// one unaligned load per element, the tiles sit in the vector lanes, and the last tile of each row (tx = TW) is
    /// computed and dropped, like the padding columns of the direct kernel's flat rows.
    /// </para>
    /// <para>
    /// U = G g Gᵀ per filter on every call; then per chunk of up to 64 tiles, V = Bᵀ d B per
    /// channel and tile, for each of the 16 positions the product M = U · V over input channels in register tiles of 4
    /// output channels x up to 4 vectors of tiles, and Y = Aᵀ M A + bias, with ReLU and the 2x2 max pooling (exactly one
    /// tile) fused.
    /// </para>
    /// </remarks>
    internal static class WinogradConvolution
    {
        private const int V = 16;
        private const int ChunkVectors = 4;
        private const int Chunk = ChunkVectors * V;
        private const int ChannelBlock = 4;

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, Padding, OutChannels, OutHeight, OutWidth;
            public readonly int Vectors, TileRows, TileColumns, TileStride, FlatTiles, Chunks, PlaneStride, PositionStride, FilterStride;
            public readonly int PlanesLength, TransformedLength, FilterLength, ProductLength, OutputLength;

            public Layout(int inChannels, int height, int width, int outChannels, int padding)
            {
                InChannels = inChannels; Height = height; Width = width; Padding = padding; OutChannels = outChannels;
                OutHeight = height + 2 * padding - 2;
                OutWidth = width + 2 * padding - 2;
                TileRows = (OutHeight + 1) / 2;
                TileColumns = (OutWidth + 1) / 2;
                TileStride = TileColumns + 1;
                FlatTiles = (TileRows * TileStride + V - 1) / V * V;
                Chunks = (FlatTiles + Chunk - 1) / Chunk;
                Vectors = FlatTiles / V;
                // The last vector of tiles reads one plane row and one column further: zeros.
                PlaneStride = (FlatTiles + TileStride + 1 + V - 1) / V * V;
                PlanesLength = inChannels * 4 * PlaneStride;
                // The 16 positions are written side by side: one vector more than a multiple of 4 KB apart, or they would
                // all fall in the same sets of the L1 cache (16 streams, 12 ways).
                PositionStride = inChannels * Chunk + V;
                TransformedLength = 16 * PositionStride; // one chunk at a time
                FilterStride = outChannels * inChannels + V;
                FilterLength = 16 * FilterStride + V * 9; // slack: the last filters staged for their transpose
                ProductLength = 16 * ChannelBlock * Chunk;
                OutputLength = outChannels * 4 * FlatTiles;
            }

            // The vectors of tiles are shared out evenly between the chunks (17 as 4 + 4 + 3 + 3 + 3, not 4 x 4 + 1): a
            // chunk of one vector would load one vector per four multiply-adds.
            public int ChunkStart(int chunk) => chunk * Vectors / Chunks;

            public int ScratchLength => PlanesLength + TransformedLength + FilterLength + ProductLength + OutputLength;
        }

        public static int ScratchLength(int inChannels, int height, int width, int outChannels, int padding) =>
            new Layout(inChannels, height, width, outChannels, padding).ScratchLength;

        /// <summary>
        /// Where F(2x2, 3x3) measured faster than the direct kernel (<c>KernelBench winograd</c>, benchmarks/README.md):
        /// 16 or more channels in and out on maps of 32x32 outputs or more (1.06x at 16 channels, 1.36x at 32), or 64 or
        /// more input channels from 16x16 (1.08x at 64, 1.42x at 128). On smaller maps the transforms and the tiles that
        /// do not fill the lanes (an 8x8 map is 16 tiles in 32 lanes) cost more than the 2.25x fewer multiply-adds save.
        /// </summary>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (kernel != 3 || !Avx512F.IsSupported || inChannels < 16 || outChannels < 16) return false;
            int cells = (height + 2 * padding - 2) * (width + 2 * padding - 2);
            return cells >= 1024 || (cells >= 256 && inChannels >= 64);
        }

        /// <summary>y = conv2d(x, weight, bias, 3x3, stride 1, padding) then ReLU when asked, then 2x2 max pooling when asked; one sample.</summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, bool pool, in Layout l)
        {
            var filters = scratch.Slice(l.PlanesLength + l.TransformedLength, l.FilterLength);
            TransformFilters(weight, filters, l);
            ForwardTransformed(x, filters, bias, y, scratch, relu, pool, l);
        }

        // The input and output transforms and the products, on filters TransformFilters made.
        private static void ForwardTransformed(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, bool pool, in Layout l)
        {
            var planes = scratch.Slice(0, l.PlanesLength);
            var transformed = scratch.Slice(l.PlanesLength, l.TransformedLength);
            var products = scratch.Slice(l.PlanesLength + l.TransformedLength + l.FilterLength, l.ProductLength);
            var outputs = scratch.Slice(l.PlanesLength + l.TransformedLength + l.FilterLength + l.ProductLength, l.OutputLength);
            SplitPlanes(x, planes, l);
            // Chunks outside, channel blocks inside: a chunk's input is transformed just before its products, and stays in
            // cache for every block.
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                TransformInput(planes, transformed, chunk, l);
                for (int first = 0; first < l.OutChannels; first += ChannelBlock)
                {
                    switch (Math.Min(ChannelBlock, l.OutChannels - first))
                    {
                        case 4: Block<C4>(transformed, filters, bias, first, chunk, products, outputs, relu, pool, l); break;
                        case 3: Block<C3>(transformed, filters, bias, first, chunk, products, outputs, relu, pool, l); break;
                        case 2: Block<C2>(transformed, filters, bias, first, chunk, products, outputs, relu, pool, l); break;
                        default: Block<C1>(transformed, filters, bias, first, chunk, products, outputs, relu, pool, l); break;
                    }
                }
            }
            if (pool) StorePooled(outputs, l.OutChannels, y, l);
            else Store(outputs, l.OutChannels, y, l);
        }

        // x [C x H x W] into the four parity planes of the zero-padded input.
        private static void SplitPlanes(ReadOnlySpan<float> x, Span<float> planes, in Layout l)
        {
            planes.Clear();
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float target = ref MemoryMarshal.GetReference(planes);
            int s = l.TileStride, p = l.Padding, width = l.Width;
            // Even input columns land in the planes of column parity p mod 2, odd ones in the other; column ix goes to
            // plane position (ix + p) / 2.
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            var halves = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
            for (int c = 0; c < l.InChannels; c++)
            {
                for (int iy = 0; iy < l.Height; iy++)
                {
                    int r = iy + p;
                    ref float row = ref Unsafe.Add(ref source, (c * l.Height + iy) * width);
                    ref float planeRow = ref Unsafe.Add(ref target, (c * 4 + (r & 1) * 2) * l.PlaneStride + (r >> 1) * s);
                    ref float evenTarget = ref Unsafe.Add(ref planeRow, (p & 1) * l.PlaneStride + (p >> 1));
                    ref float oddTarget = ref Unsafe.Add(ref planeRow, ((p + 1) & 1) * l.PlaneStride + ((p + 1) >> 1));
                    int ix = 0;
                    for (; ix + 2 * V <= width; ix += 2 * V)
                    {
                        var a = Vector512.LoadUnsafe(ref row, (nuint)ix);
                        var b = Vector512.LoadUnsafe(ref row, (nuint)(ix + V));
                        Avx512F.PermuteVar16x32x2(a, evens, b).StoreUnsafe(ref evenTarget, (nuint)(ix / 2));
                        Avx512F.PermuteVar16x32x2(a, odds, b).StoreUnsafe(ref oddTarget, (nuint)(ix / 2));
                    }
                    for (; ix + V <= width; ix += V)
                    {
                        var split = Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref row, (nuint)ix), halves);
                        split.GetLower().StoreUnsafe(ref evenTarget, (nuint)(ix / 2));
                        split.GetUpper().StoreUnsafe(ref oddTarget, (nuint)(ix / 2));
                    }
                    for (; ix < width; ix++)
                    {
                        float v = Unsafe.Add(ref row, ix);
                        if ((ix & 1) == 0) Unsafe.Add(ref evenTarget, ix / 2) = v;
                        else Unsafe.Add(ref oddTarget, ix / 2) = v;
                    }
                }
            }
        }

        // V[position][channel][tile of the chunk] = (Bᵀ d B) of each 4x4 window, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        private static void TransformInput(ReadOnlySpan<float> planes, Span<float> transformed, int chunk, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(planes);
            ref float t = ref MemoryMarshal.GetReference(transformed);
            int s = l.TileStride, ps = l.PlaneStride, channels = l.InChannels;
            nuint positionStride = (nuint)l.PositionStride;
            for (int c = 0; c < channels; c++)
            {
                ref float ee = ref Unsafe.Add(ref p0, c * 4 * ps);          // even rows, even columns
                ref float eo = ref Unsafe.Add(ref ee, ps);                  // even rows, odd columns
                ref float oe = ref Unsafe.Add(ref ee, 2 * ps);
                ref float oo = ref Unsafe.Add(ref ee, 3 * ps);
                int start = l.ChunkStart(chunk) * V, end = l.ChunkStart(chunk + 1) * V;
                for (int f = start; f < end; f += V)
                {
                    nuint at = (nuint)f, below = (nuint)(f + s);
                    // Window row i: columns 0..3 are (even, odd, even + 1, odd + 1) of plane row parity i mod 2.
                    var d00 = Vector512.LoadUnsafe(ref ee, at); var d01 = Vector512.LoadUnsafe(ref eo, at);
                    var d02 = Vector512.LoadUnsafe(ref ee, at + 1); var d03 = Vector512.LoadUnsafe(ref eo, at + 1);
                    var d10 = Vector512.LoadUnsafe(ref oe, at); var d11 = Vector512.LoadUnsafe(ref oo, at);
                    var d12 = Vector512.LoadUnsafe(ref oe, at + 1); var d13 = Vector512.LoadUnsafe(ref oo, at + 1);
                    var d20 = Vector512.LoadUnsafe(ref ee, below); var d21 = Vector512.LoadUnsafe(ref eo, below);
                    var d22 = Vector512.LoadUnsafe(ref ee, below + 1); var d23 = Vector512.LoadUnsafe(ref eo, below + 1);
                    var d30 = Vector512.LoadUnsafe(ref oe, below); var d31 = Vector512.LoadUnsafe(ref oo, below);
                    var d32 = Vector512.LoadUnsafe(ref oe, below + 1); var d33 = Vector512.LoadUnsafe(ref oo, below + 1);
                    // Bᵀ d: rows.
                    var r00 = d00 - d20; var r01 = d01 - d21; var r02 = d02 - d22; var r03 = d03 - d23;
                    var r10 = d10 + d20; var r11 = d11 + d21; var r12 = d12 + d22; var r13 = d13 + d23;
                    var r20 = d20 - d10; var r21 = d21 - d11; var r22 = d22 - d12; var r23 = d23 - d13;
                    var r30 = d10 - d30; var r31 = d11 - d31; var r32 = d12 - d32; var r33 = d13 - d33;
                    ref float target = ref Unsafe.Add(ref t, c * Chunk + (f - start));
                    // (Bᵀ d) B: columns, stored by position i·4 + j.
                    StoreRow(ref target, positionStride, 0, r00, r01, r02, r03);
                    StoreRow(ref target, positionStride, 4, r10, r11, r12, r13);
                    StoreRow(ref target, positionStride, 8, r20, r21, r22, r23);
                    StoreRow(ref target, positionStride, 12, r30, r31, r32, r33);
                }
            }
        }

        // (Bᵀ d) B for one row of Bᵀ d, stored at positions position..position + 3 (shared with WinogradWeightGradient).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreRow(ref float target, nuint positionStride, int position, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
        {
            (a - c).StoreUnsafe(ref target, (nuint)position * positionStride);
            (b + c).StoreUnsafe(ref target, (nuint)(position + 1) * positionStride);
            (c - b).StoreUnsafe(ref target, (nuint)(position + 2) * positionStride);
            (b - d).StoreUnsafe(ref target, (nuint)(position + 3) * positionStride);
        }

        // U[position][oc][ic] = (G g Gᵀ) of each 3x3 filter (l.FilterLength floats), G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]; 16 filters at a time,
        // their taps brought into the lanes by a 16x16 transpose.
        private static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in Layout l)
        {
            int count = l.OutChannels * l.InChannels;
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u = ref MemoryMarshal.GetReference(filters);
            // The transposes need 16 floats per filter row; the last rows are staged in the slack past the filters.
            ref float staging = ref Unsafe.Add(ref u, 16 * l.FilterStride);
            Span<float> taps = stackalloc float[16 * 16];
            ref float g = ref MemoryMarshal.GetReference(taps);
            Span<float> lanes = stackalloc float[V];
            ref float lane = ref MemoryMarshal.GetReference(lanes);
            var half = Vector512.Create(0.5f);
            nuint stride = (nuint)l.FilterStride;
            for (int f = 0; f < count; f += V)
            {
                int n = Math.Min(V, count - f);
                if ((f + V) * 9 + 7 <= count * 9)
                {
                    DirectConvolution.Transpose16(ref Unsafe.Add(ref w, f * 9), 9, ref g);
                }
                else
                {
                    for (int i = 0; i < 9 * V; i++) Unsafe.Add(ref staging, i) = i < n * 9 ? Unsafe.Add(ref w, f * 9 + i) : 0f;
                    for (int k = 0; k < 9; k++)
                        for (int i = 0; i < V; i++) Unsafe.Add(ref g, k * V + i) = Unsafe.Add(ref staging, i * 9 + k);
                }
                var g0 = Vector512.LoadUnsafe(ref g, 0); var g1 = Vector512.LoadUnsafe(ref g, 16); var g2 = Vector512.LoadUnsafe(ref g, 32);
                var g3 = Vector512.LoadUnsafe(ref g, 48); var g4 = Vector512.LoadUnsafe(ref g, 64); var g5 = Vector512.LoadUnsafe(ref g, 80);
                var g6 = Vector512.LoadUnsafe(ref g, 96); var g7 = Vector512.LoadUnsafe(ref g, 112); var g8 = Vector512.LoadUnsafe(ref g, 128);
                // G g: four rows of three.
                var t00 = g0; var t01 = g1; var t02 = g2;
                var t10 = (g0 + g3 + g6) * half; var t11 = (g1 + g4 + g7) * half; var t12 = (g2 + g5 + g8) * half;
                var t20 = (g0 - g3 + g6) * half; var t21 = (g1 - g4 + g7) * half; var t22 = (g2 - g5 + g8) * half;
                var t30 = g6; var t31 = g7; var t32 = g8;
                ref float target = ref Unsafe.Add(ref u, f);
                if (n == V)
                {
                    FilterRow(ref target, stride, 0, t00, t01, t02, half);
                    FilterRow(ref target, stride, 4, t10, t11, t12, half);
                    FilterRow(ref target, stride, 8, t20, t21, t22, half);
                    FilterRow(ref target, stride, 12, t30, t31, t32, half);
                }
                else
                {
                    // The last, partial group: lane by lane, so nothing is written past this position's filters.
                    for (int position = 0; position < 16; position++)
                    {
                        int i = position / 4;
                        var (a, b, c) = i == 0 ? (t00, t01, t02) : i == 1 ? (t10, t11, t12) : i == 2 ? (t20, t21, t22) : (t30, t31, t32);
                        var value = (position % 4) switch { 0 => a, 1 => (a + b + c) * half, 2 => (a - b + c) * half, _ => c };
                        value.StoreUnsafe(ref lane);
                        for (int k = 0; k < n; k++) Unsafe.Add(ref target, (nuint)position * stride + (nuint)k) = Unsafe.Add(ref lane, k);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void FilterRow(ref float target, nuint stride, int position, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> half)
        {
            a.StoreUnsafe(ref target, (nuint)position * stride);
            ((a + b + c) * half).StoreUnsafe(ref target, (nuint)(position + 1) * stride);
            ((a - b + c) * half).StoreUnsafe(ref target, (nuint)(position + 2) * stride);
            c.StoreUnsafe(ref target, (nuint)(position + 3) * stride);
        }

        // One block of up to 4 output channels over one chunk of tiles: the 16 products, then the output transform.
        private static void Block<TChannels>(ReadOnlySpan<float> transformed, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, int first, int chunk,
            Span<float> products, Span<float> outputs, bool relu, bool pool, in Layout l) where TChannels : struct, IConstant
        {
            {
                int vectors = l.ChunkStart(chunk + 1) - l.ChunkStart(chunk);
                switch (vectors)
                {
                    case 4: Products<TChannels, C4>(transformed, filters, first, chunk, products, l); break;
                    case 3: Products<TChannels, C3>(transformed, filters, first, chunk, products, l); break;
                    case 2: Products<TChannels, C2>(transformed, filters, first, chunk, products, l); break;
                    default: Products<TChannels, C1>(transformed, filters, first, chunk, products, l); break;
                }
                for (int r = 0; r < TChannels.Value; r++)
                {
                    float b = bias.IsEmpty ? 0f : bias[first + r];
                    for (int v = 0; v < vectors; v++) TransformOutput(products, r, v, b, outputs, first + r, (l.ChunkStart(chunk) + v) * V, relu, pool, l);
                }
            }
        }

        // M[position][r][tiles] = Σ over input channels of U[position][first + r][ic] · V[position][ic][tiles].
        private static void Products<TChannels, TVectors>(ReadOnlySpan<float> transformed, ReadOnlySpan<float> filters, int first, int chunk,
            Span<float> products, in Layout l) where TChannels : struct, IConstant where TVectors : struct, IConstant
        {
            int channels = l.InChannels;
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            ref float m = ref MemoryMarshal.GetReference(products);
            int positionFilters = l.FilterStride;
            for (int position = 0; position < 16; position++)
            {
                ref float x = ref Unsafe.Add(ref v0, position * l.PositionStride);
                ref float w0 = ref Unsafe.Add(ref u0, position * positionFilters + first * channels);
                ref float w1 = ref TChannels.Value > 1 ? ref Unsafe.Add(ref w0, channels) : ref w0;
                ref float w2 = ref TChannels.Value > 2 ? ref Unsafe.Add(ref w0, 2 * channels) : ref w0;
                ref float w3 = ref TChannels.Value > 3 ? ref Unsafe.Add(ref w0, 3 * channels) : ref w0;
                var a00 = Vector512<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
                var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
                var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
                var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
                for (int ic = 0; ic < channels; ic++)
                {
                    nuint at = (nuint)(ic * Chunk);
                    var x0 = Vector512.LoadUnsafe(ref x, at);
                    var x1 = TVectors.Value > 1 ? Vector512.LoadUnsafe(ref x, at + V) : default;
                    var x2 = TVectors.Value > 2 ? Vector512.LoadUnsafe(ref x, at + 2 * V) : default;
                    var x3 = TVectors.Value > 3 ? Vector512.LoadUnsafe(ref x, at + 3 * V) : default;
                    { var k = Vector512.Create(Unsafe.Add(ref w0, ic)); a00 = Fused.MultiplyAdd(x0, k, a00); if (TVectors.Value > 1) a01 = Fused.MultiplyAdd(x1, k, a01); if (TVectors.Value > 2) a02 = Fused.MultiplyAdd(x2, k, a02); if (TVectors.Value > 3) a03 = Fused.MultiplyAdd(x3, k, a03); }
                    if (TChannels.Value > 1) { var k = Vector512.Create(Unsafe.Add(ref w1, ic)); a10 = Fused.MultiplyAdd(x0, k, a10); if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11); if (TVectors.Value > 2) a12 = Fused.MultiplyAdd(x2, k, a12); if (TVectors.Value > 3) a13 = Fused.MultiplyAdd(x3, k, a13); }
                    if (TChannels.Value > 2) { var k = Vector512.Create(Unsafe.Add(ref w2, ic)); a20 = Fused.MultiplyAdd(x0, k, a20); if (TVectors.Value > 1) a21 = Fused.MultiplyAdd(x1, k, a21); if (TVectors.Value > 2) a22 = Fused.MultiplyAdd(x2, k, a22); if (TVectors.Value > 3) a23 = Fused.MultiplyAdd(x3, k, a23); }
                    if (TChannels.Value > 3) { var k = Vector512.Create(Unsafe.Add(ref w3, ic)); a30 = Fused.MultiplyAdd(x0, k, a30); if (TVectors.Value > 1) a31 = Fused.MultiplyAdd(x1, k, a31); if (TVectors.Value > 2) a32 = Fused.MultiplyAdd(x2, k, a32); if (TVectors.Value > 3) a33 = Fused.MultiplyAdd(x3, k, a33); }
                }
                // products[position][r][Chunk]
                ref float target = ref Unsafe.Add(ref m, position * ChannelBlock * Chunk);
                StoreVectors<TVectors>(ref target, a00, a01, a02, a03);
                if (TChannels.Value > 1) StoreVectors<TVectors>(ref Unsafe.Add(ref target, Chunk), a10, a11, a12, a13);
                if (TChannels.Value > 2) StoreVectors<TVectors>(ref Unsafe.Add(ref target, 2 * Chunk), a20, a21, a22, a23);
                if (TChannels.Value > 3) StoreVectors<TVectors>(ref Unsafe.Add(ref target, 3 * Chunk), a30, a31, a32, a33);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreVectors<TVectors>(ref float target, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
            where TVectors : struct, IConstant
        {
            a0.StoreUnsafe(ref target, 0);
            if (TVectors.Value > 1) a1.StoreUnsafe(ref target, V);
            if (TVectors.Value > 2) a2.StoreUnsafe(ref target, 2 * V);
            if (TVectors.Value > 3) a3.StoreUnsafe(ref target, 3 * V);
        }

        // Y = Aᵀ M A + bias for 16 tiles of channel r, Aᵀ = [1 1 1 0; 0 1 -1 -1]; ReLU, and the 2x2 maximum when pooling
        // (in PyTorch's scan order, as Pooling does). outputs[r][element (i·2 + j) or 0 when pooled][flat tile].
        private static void TransformOutput(Span<float> products, int r, int v, float bias, Span<float> outputs, int slot, int tile, bool relu, bool pool, in Layout l)
        {
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(products), r * Chunk + v * V);
            const int P = ChannelBlock * Chunk;
            var m00 = Vector512.LoadUnsafe(ref m, 0 * P); var m01 = Vector512.LoadUnsafe(ref m, 1 * P); var m02 = Vector512.LoadUnsafe(ref m, 2 * P); var m03 = Vector512.LoadUnsafe(ref m, 3 * P);
            var m10 = Vector512.LoadUnsafe(ref m, 4 * P); var m11 = Vector512.LoadUnsafe(ref m, 5 * P); var m12 = Vector512.LoadUnsafe(ref m, 6 * P); var m13 = Vector512.LoadUnsafe(ref m, 7 * P);
            var m20 = Vector512.LoadUnsafe(ref m, 8 * P); var m21 = Vector512.LoadUnsafe(ref m, 9 * P); var m22 = Vector512.LoadUnsafe(ref m, 10 * P); var m23 = Vector512.LoadUnsafe(ref m, 11 * P);
            var m30 = Vector512.LoadUnsafe(ref m, 12 * P); var m31 = Vector512.LoadUnsafe(ref m, 13 * P); var m32 = Vector512.LoadUnsafe(ref m, 14 * P); var m33 = Vector512.LoadUnsafe(ref m, 15 * P);
            // Aᵀ M: two rows of four.
            var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
            var e0 = m10 - m20 - m30; var e1 = m11 - m21 - m31; var e2 = m12 - m22 - m32; var e3 = m13 - m23 - m33;
            var b = Vector512.Create(bias);
            var y00 = s0 + s1 + s2 + b; var y01 = s1 - s2 - s3 + b;
            var y10 = e0 + e1 + e2 + b; var y11 = e1 - e2 - e3 + b;
            if (relu)
            {
                y00 = Elementwise.Relu(y00); y01 = Elementwise.Relu(y01); y10 = Elementwise.Relu(y10); y11 = Elementwise.Relu(y11);
            }
            ref float o = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputs), slot * 4 * l.FlatTiles + tile);
            if (pool)
            {
                var max = Pooling.Later(y01, y00);
                max = Pooling.Later(y10, max);
                max = Pooling.Later(y11, max);
                max.StoreUnsafe(ref o);
                return;
            }
            y00.StoreUnsafe(ref o, 0);
            y01.StoreUnsafe(ref o, (nuint)l.FlatTiles);
            y10.StoreUnsafe(ref o, (nuint)(2 * l.FlatTiles));
            y11.StoreUnsafe(ref o, (nuint)(3 * l.FlatTiles));
        }

        // outputs[oc][i·2 + j][ty·S + tx] to y[oc][2ty + i][2tx + j]: columns j = 0 and 1 interleaved, 32 at a time.
        private static void Store(Span<float> outputs, int count, Span<float> y, in Layout l)
        {
            ref float source = ref MemoryMarshal.GetReference(outputs);
            ref float target = ref MemoryMarshal.GetReference(y);
            var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            int outWidth = l.OutWidth, s = l.TileStride;
            for (int r = 0; r < count; r++)
            {
                for (int oy = 0; oy < l.OutHeight; oy++)
                {
                    int i = oy & 1;
                    ref float left = ref Unsafe.Add(ref source, (r * 4 + i * 2) * l.FlatTiles + (oy >> 1) * s);
                    ref float right = ref Unsafe.Add(ref left, l.FlatTiles);
                    ref float row = ref Unsafe.Add(ref target, (r * l.OutHeight + oy) * outWidth);
                    int ox = 0;
                    for (; ox + 2 * V <= outWidth; ox += 2 * V)
                    {
                        var a = Vector512.LoadUnsafe(ref left, (nuint)(ox / 2));
                        var b = Vector512.LoadUnsafe(ref right, (nuint)(ox / 2));
                        Avx512F.PermuteVar16x32x2(a, low, b).StoreUnsafe(ref row, (nuint)ox);
                        Avx512F.PermuteVar16x32x2(a, high, b).StoreUnsafe(ref row, (nuint)(ox + V));
                    }
                    for (; ox < outWidth; ox++) Unsafe.Add(ref row, ox) = Unsafe.Add(ref (ox & 1) == 0 ? ref left : ref right, ox >> 1);
                }
            }
        }

        private static void StorePooled(Span<float> outputs, int count, Span<float> y, in Layout l)
        {
            int pooledHeight = l.OutHeight / 2, pooledWidth = l.OutWidth / 2;
            for (int r = 0; r < count; r++)
            {
                for (int py = 0; py < pooledHeight; py++)
                {
                    outputs.Slice(r * 4 * l.FlatTiles + py * l.TileStride, pooledWidth)
                        .CopyTo(y.Slice((r * pooledHeight + py) * pooledWidth, pooledWidth));
                }
            }
        }
    }
}
