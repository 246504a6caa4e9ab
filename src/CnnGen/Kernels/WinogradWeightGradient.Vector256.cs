using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    // The F(4x4, 3x3) weight gradient where there is no AVX-512 but AVX2 and FMA, as WinogradF4Convolution's forward does it
    // there: the Vector512 layouts unchanged (x and d y blocked 16 channels a cell, V, DY and the sums M; the same Layout and
    // scratch), each block's 16 lanes taken as two Vector256 halves, the transforms the Vector512 ones' operations lane for
    // lane. The GEMMs' register tile is up to 6 output channels x one vector of 16 input channels (two halves: 12
    // accumulators of the 16 ymm registers), each product summed over the tiles in the Vector512 tiles' order, so the sums
    // are the same floats on both widths. F(2x2, 3x3) stays Vector512 only.
    internal static partial class WinogradWeightGradient
    {
        private const int Half = V / 2;

        /// <summary>Whether the Vector512 kernels run here (AVX-512); otherwise, where <see cref="RunsTile"/>, the Vector256 F(4x4).</summary>
        private static bool Vector512Here => WinogradF4Convolution.Wide;

        /// <summary>Whether this machine runs a layout of this tile size: both with AVX-512, F(4x4) with AVX2 and FMA.</summary>
        internal static bool RunsTile(int tileSize) => Vector512Here ? Simd.Enabled : tileSize == 4 && WinogradF4Convolution.Runs(3);

        private static void RequireRuns(in Layout l)
        {
            if (!RunsTile(l.TileSize))
                throw new PlatformNotSupportedException("The Winograd weight gradient needs AVX-512, or AVX2 and FMA for F(4x4, 3x3).");
        }

        // Block's layout from NCHW on this machine's width.
        private static void BlockOnWidth(ReadOnlySpan<float> source, int channels, int rows, int columns, int pad, int targetRows, int targetColumns, Span<float> target)
        {
            if (Vector512Here) Block(source, channels, rows, columns, pad, targetRows, targetColumns, target);
            else WinogradF4Convolution.Pad256(source, target, channels, rows, columns, pad, targetColumns, targetRows * targetColumns * V);
        }

        // TransformInput4 with each block as two halves.
        private static void TransformInput4x256(ReadOnlySpan<float> input, Span<float> transformed, int start, int count, in Layout l)
        {
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
                    WinogradF4Convolution.TransformWindow256(ref d, cellStride, rowStride, ref target, positionStride);
                    WinogradF4Convolution.TransformWindow256(ref Unsafe.Add(ref d, Half), cellStride, rowStride, ref Unsafe.Add(ref target, Half), positionStride);
                }
            }
        }

        // TransformGradient4 with each block as two halves.
        private static void TransformGradient4x256(ReadOnlySpan<float> gradient, int columns, int blockStride, Span<float> transformed, int start, int count, in Layout l)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float t0 = ref MemoryMarshal.GetReference(transformed);
            nuint positionStride = (nuint)l.GradientPositionStride, row = (nuint)(columns * V), down = 6 * positionStride;
            for (int block = 0; block < l.OutLanes / V; block++)
            {
                ref float gb = ref Unsafe.Add(ref g0, block * blockStride);
                for (int tile = 0; tile < count; tile++)
                {
                    int ty = (start + tile) / l.TileColumns, tx = (start + tile) % l.TileColumns;
                    for (int half = 0; half < V; half += Half)
                    {
                        ref float e = ref Unsafe.Add(ref gb, (4 * ty * columns + 4 * tx) * V + half);
                        var (r00, r01, r02, r03, r04, r05) = ApplyA256(ref e, V);
                        var (r10, r11, r12, r13, r14, r15) = ApplyA256(ref Unsafe.Add(ref e, row), V);
                        var (r20, r21, r22, r23, r24, r25) = ApplyA256(ref Unsafe.Add(ref e, 2 * row), V);
                        var (r30, r31, r32, r33, r34, r35) = ApplyA256(ref Unsafe.Add(ref e, 3 * row), V);
                        ref float target = ref Unsafe.Add(ref t0, tile * l.OutLanes + block * V + half);
                        StoreA(r00, r10, r20, r30, ref target, down);
                        StoreA(r01, r11, r21, r31, ref Unsafe.Add(ref target, positionStride), down);
                        StoreA(r02, r12, r22, r32, ref Unsafe.Add(ref target, 2 * positionStride), down);
                        StoreA(r03, r13, r23, r33, ref Unsafe.Add(ref target, 3 * positionStride), down);
                        StoreA(r04, r14, r24, r34, ref Unsafe.Add(ref target, 4 * positionStride), down);
                        StoreA(r05, r15, r25, r35, ref Unsafe.Add(ref target, 5 * positionStride), down);
                    }
                }
            }
        }

        // ApplyA on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyA256(ref float source, nuint stride)
        {
            var e0 = Vector256.LoadUnsafe(ref source); var e1 = Vector256.LoadUnsafe(ref source, stride);
            var e2 = Vector256.LoadUnsafe(ref source, 2 * stride); var e3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var (s1, s2, s3, s4) = ApplyAMiddle(e0, e1, e2, e3);
            return (e0, s1, s2, s3, s4, e3);
        }

        // ApplyAMiddle on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyAMiddle(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3)
        {
            var four = Vector256.Create(4f);
            var even = e0 + e2; var odd = e1 + e3;
            var evenScaled = Fused.MultiplyAdd(e2, four, e0); var oddScaled = Fused.MultiplyAdd(e3, four, e1) * Vector256.Create(2f);
            return (even + odd, even - odd, evenScaled + oddScaled, evenScaled - oddScaled);
        }

        // StoreA on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreA(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, ref float target, nuint targetStride)
        {
            var (s1, s2, s3, s4) = ApplyAMiddle(e0, e1, e2, e3);
            e0.StoreUnsafe(ref target);
            s1.StoreUnsafe(ref target, targetStride);
            s2.StoreUnsafe(ref target, 2 * targetStride);
            s3.StoreUnsafe(ref target, 3 * targetStride);
            s4.StoreUnsafe(ref target, 4 * targetStride);
            e3.StoreUnsafe(ref target, 5 * targetStride);
        }

        // Products' M[position][oc][ic] on Vector256: output channels in groups of up to 6 as even as they go, each group over
        // every vector of 16 input channels in one call (KernelBench strided-dw, its stride-2 counterpart: lanes / tile 1.11-1.13x
        // -> 1.16-1.18x on 32x32x32 -> 64 with a call per vector before, session 59).
        private static void Products256(ReadOnlySpan<float> transformedGradient, ReadOnlySpan<float> transformedInput, Span<float> products, int position, int tiles,
            bool accumulate, in Layout l)
        {
            ref float gradient = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedGradient), position * l.GradientPositionStride);
            ref float input = ref Unsafe.Add(ref MemoryMarshal.GetReference(transformedInput), position * l.InputPositionStride);
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(products), position * l.ProductPositionStride);
            // One position a call: the pointers are at it already.
            var strides = new ProductStrides(0, 0, l.OutLanes, l.InLanes, Half, l.InLanes);
            var one = Positions.AsSpan(0, 1);
            int rowGroups = (l.OutChannels + 5) / 6;
            for (int group = 0, first = 0; first < l.OutChannels; group++)
            {
                int rows = (group + 1) * l.OutChannels / rowGroups - first;
                ProductRows256(rows, ref Unsafe.Add(ref gradient, first), ref input, ref Unsafe.Add(ref m, first * l.InLanes), strides, one, tiles, accumulate,
                    l.InLanes / V, V);
                first += rows;
            }
        }

        /// <summary>
        /// <see cref="ProductTile256{TRows}"/> for 1 to 6 rows, over <paramref name="vectors"/> vectors of 16 input channels
        /// (<paramref name="inputVector"/> floats apart in X, 16 in M): shared with StridedWinogradConvolution's weight gradient.
        /// </summary>
        internal static void ProductRows256(int rows, ref float gradient, ref float input, ref float m, in ProductStrides s, ReadOnlySpan<byte> positions, int tiles, bool accumulate,
            int vectors, int inputVector)
        {
            switch (rows)
            {
                case 6: ProductTile256<C6>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
                case 5: ProductTile256<C5>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
                case 4: ProductTile256<C4>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
                case 3: ProductTile256<C3>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
                case 2: ProductTile256<C2>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
                default: ProductTile256<C1>(ref gradient, ref input, ref m, s, positions, tiles, accumulate, vectors, inputVector); break;
            }
        }

        // ProductTile's sums for each of `vectors` vectors of 16 input channels as two halves (s.SecondVector unused: the halves
        // lie side by side; the next vector inputVector floats on in X, 16 in M): M[row][16 lanes] (+)= Σ over the positions,
        // then the tiles, in order, of DY[p][tile][row] · X[p][tile][16 lanes].
        private static void ProductTile256<TRows>(ref float gradient, ref float input, ref float m, in ProductStrides s, ReadOnlySpan<byte> positions, int tiles, bool accumulate,
            int vectors, int inputVector)
            where TRows : struct, IConstant
        {
            nuint row = s.ProductRow, gradientTile = s.GradientTile, inputTile = s.InputTile;
            // One vector of 16 input channels after another: the call and the switch once for all of them.
            for (int vector = 0; vector < vectors; vector++, input = ref Unsafe.Add(ref input, inputVector), m = ref Unsafe.Add(ref m, V))
            {
                var a00 = Vector256<float>.Zero; var a01 = a00; var a10 = a00; var a11 = a00; var a20 = a00; var a21 = a00;
                var a30 = a00; var a31 = a00; var a40 = a00; var a41 = a00; var a50 = a00; var a51 = a00;
                if (accumulate)
                {
                    a00 = Vector256.LoadUnsafe(ref m); a01 = Vector256.LoadUnsafe(ref m, Half);
                    if (TRows.Value > 1) { a10 = Vector256.LoadUnsafe(ref m, row); a11 = Vector256.LoadUnsafe(ref m, row + Half); }
                    if (TRows.Value > 2) { a20 = Vector256.LoadUnsafe(ref m, 2 * row); a21 = Vector256.LoadUnsafe(ref m, 2 * row + Half); }
                    if (TRows.Value > 3) { a30 = Vector256.LoadUnsafe(ref m, 3 * row); a31 = Vector256.LoadUnsafe(ref m, 3 * row + Half); }
                    if (TRows.Value > 4) { a40 = Vector256.LoadUnsafe(ref m, 4 * row); a41 = Vector256.LoadUnsafe(ref m, 4 * row + Half); }
                    if (TRows.Value > 5) { a50 = Vector256.LoadUnsafe(ref m, 5 * row); a51 = Vector256.LoadUnsafe(ref m, 5 * row + Half); }
                }
                foreach (byte position in positions)
                {
                    ref float dy = ref Unsafe.Add(ref gradient, position * s.GradientPosition);
                    ref float v = ref Unsafe.Add(ref input, position * s.InputPosition);
                    for (int t = 0; t < tiles; t++)
                    {
                        var x0 = Vector256.LoadUnsafe(ref v);
                        var x1 = Vector256.LoadUnsafe(ref v, Half);
                        { var k = Vector256.Create(dy); a00 = Fused.MultiplyAdd(x0, k, a00); a01 = Fused.MultiplyAdd(x1, k, a01); }
                        if (TRows.Value > 1) { var k = Vector256.Create(Unsafe.Add(ref dy, 1)); a10 = Fused.MultiplyAdd(x0, k, a10); a11 = Fused.MultiplyAdd(x1, k, a11); }
                        if (TRows.Value > 2) { var k = Vector256.Create(Unsafe.Add(ref dy, 2)); a20 = Fused.MultiplyAdd(x0, k, a20); a21 = Fused.MultiplyAdd(x1, k, a21); }
                        if (TRows.Value > 3) { var k = Vector256.Create(Unsafe.Add(ref dy, 3)); a30 = Fused.MultiplyAdd(x0, k, a30); a31 = Fused.MultiplyAdd(x1, k, a31); }
                        if (TRows.Value > 4) { var k = Vector256.Create(Unsafe.Add(ref dy, 4)); a40 = Fused.MultiplyAdd(x0, k, a40); a41 = Fused.MultiplyAdd(x1, k, a41); }
                        if (TRows.Value > 5) { var k = Vector256.Create(Unsafe.Add(ref dy, 5)); a50 = Fused.MultiplyAdd(x0, k, a50); a51 = Fused.MultiplyAdd(x1, k, a51); }
                        dy = ref Unsafe.Add(ref dy, gradientTile);
                        v = ref Unsafe.Add(ref v, inputTile);
                    }
                }
                a00.StoreUnsafe(ref m); a01.StoreUnsafe(ref m, Half);
                if (TRows.Value > 1) { a10.StoreUnsafe(ref m, row); a11.StoreUnsafe(ref m, row + Half); }
                if (TRows.Value > 2) { a20.StoreUnsafe(ref m, 2 * row); a21.StoreUnsafe(ref m, 2 * row + Half); }
                if (TRows.Value > 3) { a30.StoreUnsafe(ref m, 3 * row); a31.StoreUnsafe(ref m, 3 * row + Half); }
                if (TRows.Value > 4) { a40.StoreUnsafe(ref m, 4 * row); a41.StoreUnsafe(ref m, 4 * row + Half); }
                if (TRows.Value > 5) { a50.StoreUnsafe(ref m, 5 * row); a51.StoreUnsafe(ref m, 5 * row + Half); }
            }
        }

        // TransformProducts (F(4x4)) on Vector256: each half's nine taps by TapsOf4's operations, then added in PyTorch's
        // [ic][tap] order (AddTaps256).
        private static void TransformProducts256(ReadOnlySpan<float> products, Span<float> weightGradient, in Layout l)
        {
            Span<float> taps = stackalloc float[9 * V];
            Span<float> transposed = stackalloc float[V * Half];
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
                    TapsOf4x256(ref m, positionStride, ref k0);
                    TapsOf4x256(ref Unsafe.Add(ref m, Half), positionStride, ref Unsafe.Add(ref k0, Half));
                    AddTaps256(ref k0, ref turned, ref Unsafe.Add(ref dw, (oc * l.InChannels + first) * 9), Math.Min(V, l.InChannels - first));
                }
            }
        }

        /// <summary>
        /// target [count input channels][9 taps] += taps [tap][16 lanes] (lane = input channel): a whole block by two 8x8
        /// transposes into turned (128 floats: [lane][taps 0-7]) and the ninth tap alone, a part block one float at a time.
        /// Shared with StridedWinogradConvolution's weight gradient.
        /// </summary>
        internal static void AddTaps256(ref float taps, ref float turned, ref float target, int count)
        {
            if (count == V)
            {
                Gemm.Transpose8x8(ref taps, V, ref turned, Half);
                Gemm.Transpose8x8(ref Unsafe.Add(ref taps, Half), V, ref Unsafe.Add(ref turned, Half * Half), Half);
                for (int lane = 0; lane < V; lane++)
                {
                    ref float at = ref Unsafe.Add(ref target, lane * 9);
                    (Vector256.LoadUnsafe(ref at) + Vector256.LoadUnsafe(ref turned, (nuint)(lane * Half))).StoreUnsafe(ref at);
                    Unsafe.Add(ref at, 8) += Unsafe.Add(ref taps, 8 * V + lane);
                }
                return;
            }
            for (int lane = 0; lane < count; lane++)
                for (int tap = 0; tap < 9; tap++)
                    Unsafe.Add(ref target, lane * 9 + tap) += Unsafe.Add(ref taps, tap * V + lane);
        }

        // TapsOf4 on 8 lanes: m and taps at the half's first lane.
        private static void TapsOf4x256(ref float m, nuint positionStride, ref float taps)
        {
            Span<Vector256<float>> rows = stackalloc Vector256<float>[18];
            for (int b = 0; b < 6; b++)
            {
                var (g0, g1, g2) = ApplyGTransposed(Vector256.LoadUnsafe(ref m, (nuint)b * positionStride), Vector256.LoadUnsafe(ref m, (nuint)(6 + b) * positionStride),
                    Vector256.LoadUnsafe(ref m, (nuint)(12 + b) * positionStride), Vector256.LoadUnsafe(ref m, (nuint)(18 + b) * positionStride),
                    Vector256.LoadUnsafe(ref m, (nuint)(24 + b) * positionStride), Vector256.LoadUnsafe(ref m, (nuint)(30 + b) * positionStride));
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

        // ApplyGTransposed on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>) ApplyGTransposed(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2,
            Vector256<float> m3, Vector256<float> m4, Vector256<float> m5)
        {
            var sixth = Vector256.Create(1f / 6);
            var inner = m1 + m2; var outer = m3 + m4;
            var first = Fused.MultiplyAdd(m0, Vector256.Create(0.25f), Fused.MultiplyAdd(outer, Vector256.Create(1f / 24), -(inner * sixth)));
            var second = Fused.MultiplyAdd(m2 - m1, sixth, (m3 - m4) * Vector256.Create(1f / 12));
            var third = Fused.MultiplyAdd(outer - inner, sixth, m5);
            return (first, second, third);
        }
    }
}
