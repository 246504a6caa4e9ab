using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    // F(4, 3), F(4, 5) and F(4, 7) along one axis where there is no AVX-512 but AVX2 and FMA: the Vector512 kernel's layouts
    // unchanged (16-channel groups in the padded input, V, M, the filters and the outputs), each group's 16 lanes as two
    // Vector256 halves, the transforms the Vector512 ones' operations lane for lane; the padding, GEMMs and last transpose
    // WinogradF4Convolution's Vector256 ones.
    internal static partial class LineWinogradConvolution
    {
        private const int Half = V / 2;

        // Run's chunks of tiles on Vector256, from x to y (the filters ready).
        private static void Transform256(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, Span<float> padded, Span<float> transformed, Span<float> products,
            Span<float> staging, Span<float> outputs, Span<float> y, in OutputClamp clamp, in Layout l)
        {
            WinogradF4Convolution.Pad256(x, padded, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TransformInput256(padded, transformed, first, count, l);
                WinogradF4Convolution.Products256(transformed, filters, products, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                    l.FilterPositionStride, l.ProductPositionStride, l.OutLanes, l.InChannels, l.OutGroups);
                TransformOutput256(products, staging, outputs, first, count, clamp, l);
            }
            WinogradF4Convolution.Unpack256(outputs, y, l.OutHeight * l.OutWidth, l.OutChannels, l.OutputGroupStride, default, reluAfterSum: false);
        }

        // TransformFilters (or, turned and swapped, TransformFiltersTransposed) on Vector256, each group of 16 filters as two
        // halves: a half's taps staged as [float][8 lanes] by 8x8 transposes of its rows (8 input channels' taps at a time; a
        // turned row's k taps), lanes past the last channel zero, then G. (Gathered a float at a time, 256 -> 256 1x3's
        // filters took 359 µs, two thirds of its call.)
        private static void TransformFilters256(ReadOnlySpan<float> weight, Span<float> filters, bool transposed, in Layout l)
        {
            Span<float> staged = stackalloc float[2 * 7 * V * Half]; // 8 channels' k taps (forward) or one row's, then the turned taps
            ref float s0 = ref MemoryMarshal.GetReference(staged);
            ref float turned = ref Unsafe.Add(ref s0, 7 * V * Half);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            int k = l.Kernel;
            Span<Vector256<float>> coefficients = stackalloc Vector256<float>[4 * 7];
            GCoefficients256(k, l.Positions, coefficients);
            if (transposed)
            {
                // Row ic of the transposed layout is the layer's output channel ic, lane j its input channel group·16 + half + j,
                // whose k taps are weight[ic][that][·], taken last first. The rows outside, so that the weight is read once in
                // order (a half's rows are k · OutChannels floats apart).
                for (int ic = 0; ic < l.InChannels; ic++)
                    for (int group = 0; group < l.OutGroups; group++)
                    {
                        int at = WinogradF4Convolution.FilterAt(ic, group * V, l.InChannels, l.OutGroups);
                        for (int half = 0; half < V; half += Half)
                        {
                            int firstLane = group * V + half;
                            StageBlock(weight, ic * k * l.OutChannels + firstLane * k, k, Math.Clamp(l.OutChannels - firstLane, 0, Half), k, ref s0);
                            for (int tap = 0; tap < k; tap++)
                                Vector256.LoadUnsafe(ref s0, (nuint)((k - 1 - tap) * Half)).StoreUnsafe(ref turned, (nuint)(tap * Half));
                            ApplyGFor256(ref turned, k, l.Positions, coefficients, ref Unsafe.Add(ref u0, at + half), positionStride);
                        }
                    }
                return;
            }
            for (int group = 0; group < l.OutGroups; group++)
            {
                int groupAt = WinogradF4Convolution.FilterAt(0, group * V, l.InChannels, l.OutGroups);
                int channelStep = WinogradF4Convolution.FilterAt(1, group * V, l.InChannels, l.OutGroups) - groupAt;
                for (int half = 0; half < V; half += Half)
                {
                    // Lane j's row is weight[group·16 + half + j][·][·]: k · InChannels floats, input channel ic's taps at ic·k.
                    int firstLane = group * V + half, lanes = Math.Clamp(l.OutChannels - firstLane, 0, Half), rowLength = k * l.InChannels;
                    for (int ic0 = 0; ic0 < l.InChannels; ic0 += Half)
                    {
                        int channels = Math.Min(Half, l.InChannels - ic0);
                        for (int f = 0; f < channels * k; f += Half)
                            StageBlock(weight, firstLane * rowLength + ic0 * k + f, rowLength, lanes, Math.Min(Half, rowLength - ic0 * k - f), ref Unsafe.Add(ref s0, f * Half));
                        for (int j = 0; j < channels; j++)
                            ApplyGFor256(ref Unsafe.Add(ref s0, j * k * Half), k, l.Positions, coefficients, ref Unsafe.Add(ref u0, groupAt + (ic0 + j) * channelStep + half), positionStride);
                    }
                }
            }
        }

        // target[f·8 + lane] = weight[first + lane·rowStride + f] for f < floats (≤ 8), zero for lanes from `lanes` on: one 8x8
        // transpose where all 8 rows' 8 floats lie inside weight (rows f ≥ floats then hold what follows, which no caller
        // reads), else float by float with zeros.
        private static void StageBlock(ReadOnlySpan<float> weight, int first, int rowStride, int lanes, int floats, ref float target)
        {
            ref float w = ref MemoryMarshal.GetReference(weight);
            if (lanes == Half && first + (Half - 1) * rowStride + Half <= weight.Length)
            {
                Gemm.Transpose8x8(ref Unsafe.Add(ref w, first), rowStride, ref target, Half);
                return;
            }
            for (int f = 0; f < Half; f++)
                for (int lane = 0; lane < Half; lane++)
                    Unsafe.Add(ref target, f * Half + lane) = lane < lanes && f < floats ? Unsafe.Add(ref w, first + lane * rowStride + f) : 0f;
        }

        // G of one half's k taps (8 floats apart) into U's places, positionStride apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyGFor256(ref float taps, int k, int positions, Span<Vector256<float>> coefficients, ref float target, nuint positionStride)
        {
            if (k == 3) ApplyG3For256(ref taps, coefficients, ref target, positionStride);
            else ApplyLongGFor256(ref taps, k, positions, coefficients, ref target, positionStride);
        }

        // GCoefficients as Vector256.
        private static void GCoefficients256(int k, int positions, Span<Vector256<float>> coefficients)
        {
            if (k == 3)
            {
                coefficients[0] = Vector256.Create(1f / 4); coefficients[1] = Vector256.Create(-1f / 6);
                coefficients[2] = Vector256.Create(1f / 24); coefficients[3] = Vector256.Create(1f / 12); coefficients[4] = Vector256.Create(1f / 6);
                return;
            }
            var pairs = positions == 8 ? EightCellPairCoefficients : TenCellPairCoefficients;
            for (int i = 0; i < pairs.Length; i++) coefficients[i] = Vector256.Create(pairs[i]);
        }

        // ApplyG3 on 8 lanes (taps 8 floats apart).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyG3For256(ref float taps, Span<Vector256<float>> coefficients, ref float target, nuint positionStride)
        {
            var (u0, u1, u2, u3, u4, u5) = WinogradF4Convolution.ApplyG(Vector256.LoadUnsafe(ref taps), Vector256.LoadUnsafe(ref taps, Half),
                Vector256.LoadUnsafe(ref taps, 2 * Half), coefficients[0], coefficients[1], coefficients[2], coefficients[3], coefficients[4]);
            u0.StoreUnsafe(ref target);
            u1.StoreUnsafe(ref target, positionStride);
            u2.StoreUnsafe(ref target, 2 * positionStride);
            u3.StoreUnsafe(ref target, 3 * positionStride);
            u4.StoreUnsafe(ref target, 4 * positionStride);
            u5.StoreUnsafe(ref target, 5 * positionStride);
        }

        // ApplyLongG on 8 lanes (taps 8 floats apart).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyLongGFor256(ref float taps, int k, int positions, Span<Vector256<float>> coefficients, ref float target, nuint positionStride)
        {
            var (first, last) = positions == 8 ? (0.25f, 0.25f) : (1f / 36, 1f / 16);
            (Vector256.LoadUnsafe(ref taps) * Vector256.Create(first)).StoreUnsafe(ref target);
            for (int pair = 0; pair < (positions - 2) / 2; pair++)
            {
                Vector256<float> even = Vector256<float>.Zero, odd = Vector256<float>.Zero;
                for (int tap = 0; tap < k; tap++)
                {
                    var tapVector = Vector256.LoadUnsafe(ref taps, (nuint)(tap * Half));
                    if ((tap & 1) == 0) even = Fused.MultiplyAdd(coefficients[pair * 7 + tap], tapVector, even);
                    else odd = Fused.MultiplyAdd(coefficients[pair * 7 + tap], tapVector, odd);
                }
                (even + odd).StoreUnsafe(ref target, (nuint)(2 * pair + 1) * positionStride);
                (even - odd).StoreUnsafe(ref target, (nuint)(2 * pair + 2) * positionStride);
            }
            (Vector256.LoadUnsafe(ref taps, (nuint)((k - 1) * Half)) * Vector256.Create(last)).StoreUnsafe(ref target, (nuint)(positions - 1) * positionStride);
        }

        // TransformInput's windows, each group as two halves.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TransformInput256(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint step = (nuint)(l.Vertical ? l.PaddedWidth * V : V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                var (row, column) = FirstCell(t, l);
                int origin = ((row + l.RowOffset) * l.PaddedWidth + column + l.ColumnOffset) * V;
                for (int lanes = 0; lanes < l.InGroups * V; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + origin + half);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V + half);
                    if (l.Positions == 6)
                        WinogradF4Convolution.StoreBt(Vector256.LoadUnsafe(ref d), Vector256.LoadUnsafe(ref d, step), Vector256.LoadUnsafe(ref d, 2 * step),
                            Vector256.LoadUnsafe(ref d, 3 * step), Vector256.LoadUnsafe(ref d, 4 * step), Vector256.LoadUnsafe(ref d, 5 * step), ref target, positionStride);
                    else if (l.Positions == 8) StoreBt8For256(ref d, step, ref target, positionStride);
                    else StoreBt10For256(ref d, step, ref target, positionStride);
                }
            }
        }

        // TransformOutput with each group's two halves.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TransformOutput256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in OutputClamp clamp, in Layout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), WinogradF4Convolution.Layout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.ProductPositionStride;
            var low = Vector256.Create(clamp.Low); var high = Vector256.Create(clamp.High);
            int along = l.Vertical ? l.OutHeight : l.OutWidth;
            nuint cellStep = (nuint)(l.Vertical ? l.OutWidth * V : V);
            for (int t = first; t < first + count; t++)
            {
                var (row, column) = FirstCell(t, l);
                int cells = Math.Min(l.TileSize, along - (l.Vertical ? row : column));
                for (int lanes = 0; lanes < l.OutLanes; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.OutLanes + lanes);
                    var (y0, y1, y2, y3) = l.Positions switch
                    {
                        6 => WinogradF4Convolution.ApplyAt256(ref m, positionStride),
                        8 => ApplyAt8For256(ref m, positionStride),
                        _ => ApplyAt10For256(ref m, positionStride),
                    };
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + (row * l.OutWidth + column) * V + half);
                    OutputClamp.Apply(y0 + bias, low, high).StoreUnsafe(ref target);
                    if (cells > 1) OutputClamp.Apply(y1 + bias, low, high).StoreUnsafe(ref target, cellStep);
                    if (cells > 2) OutputClamp.Apply(y2 + bias, low, high).StoreUnsafe(ref target, 2 * cellStep);
                    if (cells > 3) OutputClamp.Apply(y3 + bias, low, high).StoreUnsafe(ref target, 3 * cellStep);
                }
            }
        }

        // StoreBt8 on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreBt8For256(ref float d, nuint step, ref float target, nuint targetStride)
        {
            var d0 = Vector256.LoadUnsafe(ref d); var d1 = Vector256.LoadUnsafe(ref d, step);
            var d2 = Vector256.LoadUnsafe(ref d, 2 * step); var d3 = Vector256.LoadUnsafe(ref d, 3 * step);
            var d4 = Vector256.LoadUnsafe(ref d, 4 * step); var d5 = Vector256.LoadUnsafe(ref d, 5 * step);
            var d6 = Vector256.LoadUnsafe(ref d, 6 * step); var d7 = Vector256.LoadUnsafe(ref d, 7 * step);
            var four = Vector256.Create(4f); var five = Vector256.Create(5f); var seventeen = Vector256.Create(17f); var twentyOne = Vector256.Create(21f);
            var minusFour = Vector256.Create(-4f);
            Fused.MultiplyAdd(d4 - d2, twentyOne, (d0 - d6) * four).StoreUnsafe(ref target);
            var even1 = Fused.MultiplyAdd(d2 + d6, minusFour, d4 * seventeen);
            var odd1 = Fused.MultiplyAdd(d1 + d5, minusFour, d3 * seventeen);
            (even1 + odd1).StoreUnsafe(ref target, targetStride);
            (even1 - odd1).StoreUnsafe(ref target, 2 * targetStride);
            var even3 = Fused.MultiplyAdd(d6, four, Fused.MultiplyAdd(d4, Vector256.Create(-5f), d2));
            var odd3 = Fused.MultiplyAdd(d5, Vector256.Create(8f), Fused.MultiplyAdd(d3, Vector256.Create(-10f), d1 + d1));
            (even3 + odd3).StoreUnsafe(ref target, 3 * targetStride);
            (even3 - odd3).StoreUnsafe(ref target, 4 * targetStride);
            var even5 = Fused.MultiplyAdd(d2, Vector256.Create(8f), Fused.MultiplyAdd(d4, Vector256.Create(-10f), d6 + d6));
            var odd5 = Fused.MultiplyAdd(d1, four, Fused.MultiplyAdd(d3, -five, d5));
            (even5 + odd5).StoreUnsafe(ref target, 5 * targetStride);
            (even5 - odd5).StoreUnsafe(ref target, 6 * targetStride);
            Fused.MultiplyAdd(d3 - d5, twentyOne, (d7 - d1) * four).StoreUnsafe(ref target, 7 * targetStride);
        }

        // ApplyAt8 on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyAt8For256(ref float source, nuint stride)
        {
            var m0 = Vector256.LoadUnsafe(ref source); var m1 = Vector256.LoadUnsafe(ref source, stride);
            var m2 = Vector256.LoadUnsafe(ref source, 2 * stride); var m3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector256.LoadUnsafe(ref source, 4 * stride); var m5 = Vector256.LoadUnsafe(ref source, 5 * stride);
            var m6 = Vector256.LoadUnsafe(ref source, 6 * stride); var m7 = Vector256.LoadUnsafe(ref source, 7 * stride);
            Vector256<float> sum12 = m1 + m2, sum34 = m3 + m4, sum56 = m5 + m6;
            Vector256<float> difference12 = m1 - m2, difference34 = m3 - m4, difference56 = m5 - m6;
            var y0 = m0 + sum12 + sum34 + sum56;
            var y1 = Fused.MultiplyAdd(difference56, Vector256.Create(0.5f), Fused.MultiplyAdd(difference34, Vector256.Create(2f), difference12));
            var y2 = Fused.MultiplyAdd(sum56, Vector256.Create(0.25f), Fused.MultiplyAdd(sum34, Vector256.Create(4f), sum12));
            var y3 = Fused.MultiplyAdd(difference56, Vector256.Create(0.125f), Fused.MultiplyAdd(difference34, Vector256.Create(8f), difference12)) + m7;
            return (y0, y1, y2, y3);
        }

        // StoreBt10 on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreBt10For256(ref float d, nuint step, ref float target, nuint targetStride)
        {
            var d0 = Vector256.LoadUnsafe(ref d); var d1 = Vector256.LoadUnsafe(ref d, step);
            var d2 = Vector256.LoadUnsafe(ref d, 2 * step); var d3 = Vector256.LoadUnsafe(ref d, 3 * step);
            var d4 = Vector256.LoadUnsafe(ref d, 4 * step); var d5 = Vector256.LoadUnsafe(ref d, 5 * step);
            var d6 = Vector256.LoadUnsafe(ref d, 6 * step); var d7 = Vector256.LoadUnsafe(ref d, 7 * step);
            var d8 = Vector256.LoadUnsafe(ref d, 8 * step); var d9 = Vector256.LoadUnsafe(ref d, 9 * step);
            var c36 = Vector256.Create(36f); var c205 = Vector256.Create(-205f); var c273 = Vector256.Create(273f); var c120 = Vector256.Create(-120f);
            var c16 = Vector256.Create(16f);
            Fused.MultiplyAdd(d8, c16, Fused.MultiplyAdd(d6, c120, Fused.MultiplyAdd(d4, c273, Fused.MultiplyAdd(d2, c205, d0 * c36)))).StoreUnsafe(ref target);
            Fused.MultiplyAdd(d9, c16, Fused.MultiplyAdd(d7, c120, Fused.MultiplyAdd(d5, c273, Fused.MultiplyAdd(d3, c205, d1 * c36)))).StoreUnsafe(ref target, 9 * targetStride);
            Pair(Row(d2, d4, d6, d8, -36f, 169f, -104f, 16f), Row(d1, d3, d5, d7, -36f, 169f, -104f, 16f), ref target, 1, targetStride);
            Pair(Row(d2, d4, d6, d8, -9f, 49f, -56f, 16f), Row(d1, d3, d5, d7, -18f, 98f, -112f, 32f), ref target, 3, targetStride);
            Pair(Row(d2, d4, d6, d8, 72f, -122f, 58f, -8f), Row(d1, d3, d5, d7, 36f, -61f, 29f, -4f), ref target, 5, targetStride);
            Pair(Fused.MultiplyAdd(d6 - d4, Vector256.Create(42f), (d2 - d8) * Vector256.Create(8f)),
                Fused.MultiplyAdd(d5 - d3, Vector256.Create(63f), (d1 - d7) * Vector256.Create(12f)), ref target, 7, targetStride);

            static Vector256<float> Row(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> e, float ca, float cb, float cc, float ce) =>
                Fused.MultiplyAdd(e, Vector256.Create(ce), Fused.MultiplyAdd(c, Vector256.Create(cc), Fused.MultiplyAdd(b, Vector256.Create(cb), a * Vector256.Create(ca))));

            static void Pair(Vector256<float> even, Vector256<float> odd, ref float target, int row, nuint targetStride)
            {
                (even + odd).StoreUnsafe(ref target, (nuint)row * targetStride);
                (even - odd).StoreUnsafe(ref target, (nuint)(row + 1) * targetStride);
            }
        }

        // ApplyAt10 on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyAt10For256(ref float source, nuint stride)
        {
            var m0 = Vector256.LoadUnsafe(ref source); var m1 = Vector256.LoadUnsafe(ref source, stride);
            var m2 = Vector256.LoadUnsafe(ref source, 2 * stride); var m3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector256.LoadUnsafe(ref source, 4 * stride); var m5 = Vector256.LoadUnsafe(ref source, 5 * stride);
            var m6 = Vector256.LoadUnsafe(ref source, 6 * stride); var m7 = Vector256.LoadUnsafe(ref source, 7 * stride);
            var m8 = Vector256.LoadUnsafe(ref source, 8 * stride); var m9 = Vector256.LoadUnsafe(ref source, 9 * stride);
            Vector256<float> s1 = m1 + m2, s2 = m3 + m4, s3 = m5 + m6, s4 = m7 + m8;
            Vector256<float> d1 = m1 - m2, d2 = m3 - m4, d3 = m5 - m6, d4 = m7 - m8;
            var y0 = m0 + s1 + s2 + s3 + s4;
            var y1 = Fused.MultiplyAdd(d4, Vector256.Create(1.5f), Fused.MultiplyAdd(d3, Vector256.Create(0.5f), Fused.MultiplyAdd(d2, Vector256.Create(2f), d1)));
            var y2 = Fused.MultiplyAdd(s4, Vector256.Create(2.25f), Fused.MultiplyAdd(s3, Vector256.Create(0.25f), Fused.MultiplyAdd(s2, Vector256.Create(4f), s1)));
            var y3 = Fused.MultiplyAdd(d4, Vector256.Create(3.375f), Fused.MultiplyAdd(d3, Vector256.Create(0.125f), Fused.MultiplyAdd(d2, Vector256.Create(8f), d1))) + m9;
            return (y0, y1, y2, y3);
        }
    }
}
