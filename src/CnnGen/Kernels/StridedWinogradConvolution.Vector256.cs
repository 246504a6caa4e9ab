using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    // The stride-2 kernel's 4x4 tile where there is no AVX-512 but AVX2 and FMA, as WinogradF4Convolution does it there: the
    // Vector512 kernel's layouts unchanged (16-channel groups in the padded input, V, M, the filter slots and the outputs; the
    // same Layout, scratch and prepared filters), each group's 16 lanes taken as two Vector256 halves, the transforms the
    // Vector512 ones' operations lane for lane, the 81 GEMMs on WinogradF4Convolution's Vector256 register tiles. The input
    // gradient's 4x4 tile likewise (StridedWinogradConvolution.Backward256.cs), and the samples' grouped GEMM on it
    // (StridedConvolution.GroupTileFor256) and the weight gradient's (WeightGradient.cs). The 2x2 and 2x4 tiles stay Vector512 only.
    internal static partial class StridedWinogradConvolution
    {
        private const int Half = V / 2;

        /// <summary>Whether the Vector512 kernels run here (AVX-512); otherwise, where <see cref="Runs"/>, the Vector256 4x4 tile.</summary>
        private static bool Vector512Here => WinogradF4Convolution.Wide;

        /// <summary>Whether this machine runs the forward at all: every tile with AVX-512, the 4x4 tile with AVX2 and FMA.</summary>
        internal static bool Runs => Available || Simd.Enabled && Vector256.IsHardwareAccelerated && Fma.IsSupported;

        /// <summary>Whether this machine runs layouts of this tile (<see cref="Layout.Tile"/>).</summary>
        internal static bool RunsTile(int tile) => Available || tile == 4 && Runs;

        // Where the 4x4 tile on Vector256 measured faster than the Vector256 lanes kernel (session 58, Zen 3 without AVX-512,
        // KernelBench strided-winograd, direct / 4x4 tile): from 16 channels in and 32 out, outputs of 16x16 and 32x32 0.99-1.47x
        // (32x32x32 -> 64 1.29x, 64x32x32 -> 128 1.47x, 16 channels in 0.99-1.07x), 8x8 1.12-1.32x (64x16x16 -> 128 1.21x), 14x14
        // 0.93-1.15x and 11x11 1.06x, where the tiles' cells are at least three in four real; 10x10 (100 of 144) 0.80-0.85x, 9x9
        // (81 of 144) 0.73x, 7x7 0.90x, 4x4 0.42-0.81x and 2x2 0.11-0.19x lose, as do 3 and 8 channels in (0.30-0.49x).
        private static int TileFor256(int inChannels, int outChannels, int outputHeight, int outputWidth)
        {
            if (inChannels < MinimumInChannels || outChannels < MinimumOutChannels) return 0;
            int cells = outputHeight * outputWidth;
            return cells >= 64 && MostlyRealIn4x4(outputHeight, outputWidth) ? 4 : 0;
        }

        // V[position][group][tile − first][16] of the 4x4 tile (TransformInput4), each group as two halves.
        private static void TransformInput4x256(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint rowStride = (nuint)(l.PaddedWidth * V), across = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + 8 * (ty * l.PaddedWidth + tx) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    TransformWindow4x256(ref d, rowStride, ref target, across);
                    TransformWindow4x256(ref Unsafe.Add(ref d, Half), rowStride, ref Unsafe.Add(ref target, Half), across);
                }
            }
        }

        // TransformInput4's window on 8 lanes: the odd rows' across transforms and odd samples, the odd columns' down
        // transforms, then the even rows' across transforms, three columns and then two at a time, down the even columns.
        private static void TransformWindow4x256(ref float d, nuint rowStride, ref float target, nuint across)
        {
            nuint down = 9 * across, evenRows = 2 * rowStride, evenColumns = 2 * V;
            for (int k = 0; k < 4; k++)
            {
                ref float row = ref Unsafe.Add(ref d, (nuint)(2 * k + 1) * rowStride);
                ref float to = ref Unsafe.Add(ref target, (nuint)(5 + k) * down);
                ApplyEvenBt256(ref row, evenColumns, ref to, across);
                for (int j = 0; j < 4; j++) Vector256.LoadUnsafe(ref row, (nuint)(2 * j + 1) * V).StoreUnsafe(ref to, (nuint)(5 + j) * across);
            }
            for (int j = 0; j < 4; j++)
                ApplyEvenBt256(ref Unsafe.Add(ref d, (nuint)(2 * j + 1) * V), evenRows, ref Unsafe.Add(ref target, (nuint)(5 + j) * across), down);
            var (a00, a01, a02) = FirstEvenBt256(ref d, evenColumns);
            var (a10, a11, a12) = FirstEvenBt256(ref Unsafe.Add(ref d, evenRows), evenColumns);
            var (a20, a21, a22) = FirstEvenBt256(ref Unsafe.Add(ref d, 2 * evenRows), evenColumns);
            var (a30, a31, a32) = FirstEvenBt256(ref Unsafe.Add(ref d, 3 * evenRows), evenColumns);
            var (a40, a41, a42) = FirstEvenBt256(ref Unsafe.Add(ref d, 4 * evenRows), evenColumns);
            StoreEvenBt256(a00, a10, a20, a30, a40, ref target, down);
            StoreEvenBt256(a01, a11, a21, a31, a41, ref Unsafe.Add(ref target, across), down);
            StoreEvenBt256(a02, a12, a22, a32, a42, ref Unsafe.Add(ref target, 2 * across), down);
            var (a03, a04) = LastEvenBt256(ref d, evenColumns);
            var (a13, a14) = LastEvenBt256(ref Unsafe.Add(ref d, evenRows), evenColumns);
            var (a23, a24) = LastEvenBt256(ref Unsafe.Add(ref d, 2 * evenRows), evenColumns);
            var (a33, a34) = LastEvenBt256(ref Unsafe.Add(ref d, 3 * evenRows), evenColumns);
            var (a43, a44) = LastEvenBt256(ref Unsafe.Add(ref d, 4 * evenRows), evenColumns);
            StoreEvenBt256(a03, a13, a23, a33, a43, ref Unsafe.Add(ref target, 3 * across), down);
            StoreEvenBt256(a04, a14, a24, a34, a44, ref Unsafe.Add(ref target, 4 * across), down);
        }

        // FirstEvenBt on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>) FirstEvenBt256(ref float source, nuint stride)
        {
            var e0 = Vector256.LoadUnsafe(ref source); var e1 = Vector256.LoadUnsafe(ref source, stride);
            var e2 = Vector256.LoadUnsafe(ref source, 2 * stride); var e3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var s = e3 - e1;
            return (Fused.MultiplyAdd(e0 - e2, Vector256.Create(2f), s), e1 + e2 - s, Fused.MultiplyAdd(e2, Vector256.Create(3f), -(e1 + e1 + e3)));
        }

        // LastEvenBt on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>) LastEvenBt256(ref float source, nuint stride)
        {
            var e1 = Vector256.LoadUnsafe(ref source, stride); var e2 = Vector256.LoadUnsafe(ref source, 2 * stride);
            var e3 = Vector256.LoadUnsafe(ref source, 3 * stride); var e4 = Vector256.LoadUnsafe(ref source, 4 * stride);
            var s = e3 - e1;
            return (s, Fused.MultiplyAdd(s, Vector256.Create(-2f), e4 - e2));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ApplyEvenBt256(ref float source, nuint sourceStride, ref float target, nuint targetStride) =>
            StoreEvenBt256(Vector256.LoadUnsafe(ref source), Vector256.LoadUnsafe(ref source, sourceStride), Vector256.LoadUnsafe(ref source, 2 * sourceStride),
                Vector256.LoadUnsafe(ref source, 3 * sourceStride), Vector256.LoadUnsafe(ref source, 4 * sourceStride), ref target, targetStride);

        // StoreEvenBt on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreEvenBt256(Vector256<float> e0, Vector256<float> e1, Vector256<float> e2, Vector256<float> e3, Vector256<float> e4,
            ref float target, nuint targetStride)
        {
            var s = e3 - e1;
            Fused.MultiplyAdd(e0 - e2, Vector256.Create(2f), s).StoreUnsafe(ref target);
            (e1 + e2 - s).StoreUnsafe(ref target, targetStride);
            Fused.MultiplyAdd(e2, Vector256.Create(3f), -(e1 + e1 + e3)).StoreUnsafe(ref target, 2 * targetStride);
            s.StoreUnsafe(ref target, 3 * targetStride);
            Fused.MultiplyAdd(s, Vector256.Create(-2f), e4 - e2).StoreUnsafe(ref target, 4 * targetStride);
        }

        // TransformOutput (the 4x4 tile's Y = Aᵀ M A + bias, ReLU) with each group's two halves: the same additions per lane.
        private static void TransformOutput4x256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in Layout l, in Sink sink)
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
                for (int lanes = 0; lanes < l.OutLanes; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + lanes);
                    var (e10, e11, e12, e13) = ApplyAt256(ref Unsafe.Add(ref m, 9 * positionStride), positionStride);
                    var (e20, e21, e22, e23) = ApplyAt256(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    Vector256<float> s0 = e10 + e20, s1 = e11 + e21, s2 = e12 + e22, s3 = e13 + e23;
                    Vector256<float> d0 = e10 - e20, d1 = e11 - e21, d2 = e12 - e22, d3 = e13 - e23;
                    var (e00, e01, e02, e03) = ApplyAt256(ref m, positionStride);
                    Vector256<float> y00 = e00 + s0, y01 = e01 + s1, y02 = e02 + s2, y03 = e03 + s3;
                    var (e30, e31, e32, e33) = ApplyAt256(ref Unsafe.Add(ref m, 27 * positionStride), positionStride);
                    y00 += e30; y01 += e31; y02 += e32; y03 += e33;
                    Vector256<float> two = Vector256.Create(2f), four = Vector256.Create(4f), eight = Vector256.Create(8f);
                    Vector256<float> y10 = Fused.MultiplyAdd(e30, two, d0), y11 = Fused.MultiplyAdd(e31, two, d1);
                    Vector256<float> y12 = Fused.MultiplyAdd(e32, two, d2), y13 = Fused.MultiplyAdd(e33, two, d3);
                    Vector256<float> y20 = Fused.MultiplyAdd(e30, four, s0), y21 = Fused.MultiplyAdd(e31, four, s1);
                    Vector256<float> y22 = Fused.MultiplyAdd(e32, four, s2), y23 = Fused.MultiplyAdd(e33, four, s3);
                    Vector256<float> y30 = Fused.MultiplyAdd(e30, eight, d0), y31 = Fused.MultiplyAdd(e31, eight, d1);
                    Vector256<float> y32 = Fused.MultiplyAdd(e32, eight, d2), y33 = Fused.MultiplyAdd(e33, eight, d3);
                    var (e40, e41, e42, e43) = ApplyAt256(ref Unsafe.Add(ref m, 36 * positionStride), positionStride);
                    y30 += e40; y31 += e41; y32 += e42; y33 += e43;
                    var (e50, e51, e52, e53) = ApplyAt256(ref Unsafe.Add(ref m, 45 * positionStride), positionStride);
                    y00 += e50; y01 += e51; y02 += e52; y03 += e53;
                    var (e60, e61, e62, e63) = ApplyAt256(ref Unsafe.Add(ref m, 54 * positionStride), positionStride);
                    y10 += e60; y11 += e61; y12 += e62; y13 += e63;
                    var (e70, e71, e72, e73) = ApplyAt256(ref Unsafe.Add(ref m, 63 * positionStride), positionStride);
                    y20 += e70; y21 += e71; y22 += e72; y23 += e73;
                    var (e80, e81, e82, e83) = ApplyAt256(ref Unsafe.Add(ref m, 72 * positionStride), positionStride);
                    y30 += e80; y31 += e81; y32 += e82; y33 += e83;
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu); y02 = Finish(y02, bias, relu); y03 = Finish(y03, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu); y12 = Finish(y12, bias, relu); y13 = Finish(y13, bias, relu);
                    y20 = Finish(y20, bias, relu); y21 = Finish(y21, bias, relu); y22 = Finish(y22, bias, relu); y23 = Finish(y23, bias, relu);
                    y30 = Finish(y30, bias, relu); y31 = Finish(y31, bias, relu); y32 = Finish(y32, bias, relu); y33 = Finish(y33, bias, relu);
                    int oy = 4 * ty, ox = 4 * tx;
                    if (sink.Means)
                    {
                        var total = (RowTotal(y00, y01, y02, y03, oy, ox, h, w) + RowTotal(y10, y11, y12, y13, oy + 1, ox, h, w))
                            + (RowTotal(y20, y21, y22, y23, oy + 2, ox, h, w) + RowTotal(y30, y31, y32, y33, oy + 3, ox, h, w));
                        ref float sum = ref Unsafe.Add(ref e, l.SumsOffset + lanes);
                        (Vector256.LoadUnsafe(ref sum) + total).StoreUnsafe(ref sum);
                        continue;
                    }
                    ref float target = ref Unsafe.Add(ref o0, sink.Origin + group * sink.GroupStride + half);
                    WinogradF4Convolution.StoreTile4x4(ref target, oy, ox, h, w, sink.Pitch, y00, y01, y02, y03, y10, y11, y12, y13, y20, y21, y22, y23, y30, y31, y32, y33);
                }
            }
        }

        // ApplyAt on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyAt256(ref float source, nuint stride)
        {
            var m0 = Vector256.LoadUnsafe(ref source); var m1 = Vector256.LoadUnsafe(ref source, stride);
            var m2 = Vector256.LoadUnsafe(ref source, 2 * stride); var m3 = Vector256.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector256.LoadUnsafe(ref source, 4 * stride);
            var sum12 = m1 + m2; var difference12 = m1 - m2;
            return (m0 + sum12 + m3 + Vector256.LoadUnsafe(ref source, 5 * stride),
                Fused.MultiplyAdd(m3, Vector256.Create(2f), difference12) + Vector256.LoadUnsafe(ref source, 6 * stride),
                Fused.MultiplyAdd(m3, Vector256.Create(4f), sum12) + Vector256.LoadUnsafe(ref source, 7 * stride),
                Fused.MultiplyAdd(m3, Vector256.Create(8f), difference12) + m4 + Vector256.LoadUnsafe(ref source, 8 * stride));
        }

        // RowTotal of a 4-cell row on 8 lanes: (y0 + y1) + (y2 + y3), cells outside the maps counted as 0.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> RowTotal(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3,
            int row, int column, int height, int width)
        {
            if (row < height && column + 4 <= width) return (y0 + y1) + (y2 + y3);
            return (Inside(y0, row, column, height, width) + Inside(y1, row, column + 1, height, width))
                + (Inside(y2, row, column + 2, height, width) + Inside(y3, row, column + 3, height, width));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Inside(Vector256<float> value, int row, int column, int height, int width) =>
            row < height && column < width ? value : Vector256<float>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Finish(Vector256<float> value, Vector256<float> bias, bool relu) =>
            relu ? Elementwise.Relu(value + bias) : value + bias;
    }
}
