using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    // The lane-tile kernels where there is no AVX-512 but AVX2 and FMA (session 60): LaneTileLayout's buffers unchanged,
    // each 16-channel group as two Vector256 halves, the transforms the Vector512 ones' operations lane for lane, the
    // padding, GEMMs and last transpose WinogradF4Convolution's Vector256 ones.
    internal static partial class PolyphaseWinogradConvolution
    {
        private const int Half = V / 2;

        // TransformInput with each group's two halves.
        internal static void TransformInput256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint row = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int lanes = 0; lanes < l.InGroups * V; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (4 * ty * l.PaddedWidth + 4 * tx) * V + half);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V + half);
                    ColumnOfV256<C0>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C1>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C2>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C3>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C4>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C5>(ref d, row, ref target, positionStride);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ColumnOfV256<TColumn>(ref float d, nuint row, ref float target, nuint positionStride) where TColumn : struct, IConstant
        {
            var r0 = Across256<TColumn>(ref d);
            var r1 = Across256<TColumn>(ref Unsafe.Add(ref d, row));
            var r2 = Across256<TColumn>(ref Unsafe.Add(ref d, 2 * row));
            var r3 = Across256<TColumn>(ref Unsafe.Add(ref d, 3 * row));
            var r4 = Across256<TColumn>(ref Unsafe.Add(ref d, 4 * row));
            var r5 = Across256<TColumn>(ref Unsafe.Add(ref d, 5 * row));
            ref float to = ref Unsafe.Add(ref target, (nuint)TColumn.Value * positionStride);
            nuint down = 6 * positionStride;
            (r0 - r2).StoreUnsafe(ref to);
            r2.StoreUnsafe(ref to, down);
            (r4 - r2).StoreUnsafe(ref to, 2 * down);
            (r1 - r3).StoreUnsafe(ref to, 3 * down);
            r3.StoreUnsafe(ref to, 4 * down);
            (r5 - r3).StoreUnsafe(ref to, 5 * down);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Across256<TColumn>(ref float d) where TColumn : struct, IConstant => TColumn.Value switch
        {
            0 => Vector256.LoadUnsafe(ref d) - Vector256.LoadUnsafe(ref d, 2 * V),
            1 => Vector256.LoadUnsafe(ref d, 2 * V),
            2 => Vector256.LoadUnsafe(ref d, 4 * V) - Vector256.LoadUnsafe(ref d, 2 * V),
            3 => Vector256.LoadUnsafe(ref d, V) - Vector256.LoadUnsafe(ref d, 3 * V),
            4 => Vector256.LoadUnsafe(ref d, 3 * V),
            _ => Vector256.LoadUnsafe(ref d, 5 * V) - Vector256.LoadUnsafe(ref d, 3 * V),
        };

        // TransformOutput with each group's two halves.
        internal static void TransformOutput256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), LaneTileLayout.BiasOffset);
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
                    var (r00, r01) = AlongRow256(ref m, positionStride);
                    var (r10, r11) = AlongRow256(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (r20, r21) = AlongRow256(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    var (r30, r31) = AlongRow256(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (r40, r41) = AlongRow256(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (r50, r51) = AlongRow256(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    var y00 = WinogradF4Convolution.Finish((r00 + r10) + (r30 + r40), bias, relu);
                    var y01 = WinogradF4Convolution.Finish((r01 + r11) + (r31 + r41), bias, relu);
                    var y10 = WinogradF4Convolution.Finish((r10 + r20) + (r40 + r50), bias, relu);
                    var y11 = WinogradF4Convolution.Finish((r11 + r21) + (r41 + r51), bias, relu);
                    int oy = 2 * ty, ox = 2 * tx;
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + half);
                    WinogradF4Convolution.Put(ref target, oy, ox, y00, h, w, w);
                    WinogradF4Convolution.Put(ref target, oy, ox + 1, y01, h, w, w);
                    WinogradF4Convolution.Put(ref target, oy + 1, ox, y10, h, w, w);
                    WinogradF4Convolution.Put(ref target, oy + 1, ox + 1, y11, h, w, w);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>) AlongRow256(ref float m, nuint stride)
        {
            var m1 = Vector256.LoadUnsafe(ref m, stride);
            var m4 = Vector256.LoadUnsafe(ref m, 4 * stride);
            return ((Vector256.LoadUnsafe(ref m) + m1) + (Vector256.LoadUnsafe(ref m, 3 * stride) + m4),
                (m1 + Vector256.LoadUnsafe(ref m, 2 * stride)) + (m4 + Vector256.LoadUnsafe(ref m, 5 * stride)));
        }
    }

    internal static partial class TransposedWinogradConvolution
    {
        private const int Half = V / 2;

        // TransformInput with each group's two halves.
        internal static void TransformInput256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint row = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int lanes = 0; lanes < l.InGroups * V; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (2 * ty * l.PaddedWidth + 2 * tx) * V + half);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V + half);
                    ColumnOfV256<C0>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C1>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C2>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C3>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C4>(ref d, row, ref target, positionStride);
                    ColumnOfV256<C5>(ref d, row, ref target, positionStride);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ColumnOfV256<TColumn>(ref float d, nuint row, ref float target, nuint positionStride) where TColumn : struct, IConstant
        {
            var r0 = Across256<TColumn>(ref d);
            var r1 = Across256<TColumn>(ref Unsafe.Add(ref d, row));
            var r2 = Across256<TColumn>(ref Unsafe.Add(ref d, 2 * row));
            var r3 = Across256<TColumn>(ref Unsafe.Add(ref d, 3 * row));
            ref float to = ref Unsafe.Add(ref target, (nuint)TColumn.Value * positionStride);
            nuint down = 6 * positionStride;
            (r0 - r1).StoreUnsafe(ref to);
            r1.StoreUnsafe(ref to, down);
            (r2 - r1).StoreUnsafe(ref to, 2 * down);
            (r1 - r2).StoreUnsafe(ref to, 3 * down);
            r2.StoreUnsafe(ref to, 4 * down);
            (r3 - r2).StoreUnsafe(ref to, 5 * down);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Across256<TColumn>(ref float d) where TColumn : struct, IConstant => TColumn.Value switch
        {
            0 => Vector256.LoadUnsafe(ref d) - Vector256.LoadUnsafe(ref d, V),
            1 => Vector256.LoadUnsafe(ref d, V),
            2 => Vector256.LoadUnsafe(ref d, 2 * V) - Vector256.LoadUnsafe(ref d, V),
            3 => Vector256.LoadUnsafe(ref d, V) - Vector256.LoadUnsafe(ref d, 2 * V),
            4 => Vector256.LoadUnsafe(ref d, 2 * V),
            _ => Vector256.LoadUnsafe(ref d, 3 * V) - Vector256.LoadUnsafe(ref d, 2 * V),
        };

        // TransformOutput with each group's two halves.
        internal static void TransformOutput256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in LaneTileLayout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), LaneTileLayout.BiasOffset);
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
                    var (r00, r01, r02, r03) = AlongRow256(ref m, positionStride);
                    var (r10, r11, r12, r13) = AlongRow256(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (r20, r21, r22, r23) = AlongRow256(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    var (r30, r31, r32, r33) = AlongRow256(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (r40, r41, r42, r43) = AlongRow256(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (r50, r51, r52, r53) = AlongRow256(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    var y00 = (r00 + r10) + bias; var y02 = (r01 + r11) + bias; var y01 = (r02 + r12) + bias; var y03 = (r03 + r13) + bias;
                    var y20 = (r10 + r20) + bias; var y22 = (r11 + r21) + bias; var y21 = (r12 + r22) + bias; var y23 = (r13 + r23) + bias;
                    var y10 = (r30 + r40) + bias; var y12 = (r31 + r41) + bias; var y11 = (r32 + r42) + bias; var y13 = (r33 + r43) + bias;
                    var y30 = (r40 + r50) + bias; var y32 = (r41 + r51) + bias; var y31 = (r42 + r52) + bias; var y33 = (r43 + r53) + bias;
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + half);
                    WinogradF4Convolution.StoreTile4x4(ref target, 4 * ty, 4 * tx, h, w, w, y00, y01, y02, y03, y10, y11, y12, y13, y20, y21, y22, y23, y30, y31, y32, y33);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) AlongRow256(ref float m, nuint stride)
        {
            var m1 = Vector256.LoadUnsafe(ref m, stride);
            var m4 = Vector256.LoadUnsafe(ref m, 4 * stride);
            return (Vector256.LoadUnsafe(ref m) + m1, m1 + Vector256.LoadUnsafe(ref m, 2 * stride),
                Vector256.LoadUnsafe(ref m, 3 * stride) + m4, m4 + Vector256.LoadUnsafe(ref m, 5 * stride));
        }

        // GatherTaps with each group's two halves.
        internal static void GatherTaps256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint row = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride, tapStride = (nuint)(l.InGroups * l.TransformedGroupStride);
            for (int t = first; t < first + count; t++)
            {
                int iy = t / l.TileColumns, ix = t - iy * l.TileColumns;
                for (int lanes = 0; lanes < l.InGroups * V; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (iy * l.PaddedWidth + ix) * V + half);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V + half);
                    var c00 = Vector256.LoadUnsafe(ref d); var c01 = Vector256.LoadUnsafe(ref d, V); var c02 = Vector256.LoadUnsafe(ref d, 2 * V);
                    var c10 = Vector256.LoadUnsafe(ref d, row); var c11 = Vector256.LoadUnsafe(ref d, row + V); var c12 = Vector256.LoadUnsafe(ref d, row + 2 * V);
                    var c20 = Vector256.LoadUnsafe(ref d, 2 * row); var c21 = Vector256.LoadUnsafe(ref d, 2 * row + V); var c22 = Vector256.LoadUnsafe(ref d, 2 * row + 2 * V);
                    PutTaps256(ref target, positionStride * 0, tapStride, c00, c01, c10, c11);
                    PutTaps256(ref target, positionStride * 1, tapStride, c01, c02, c11, c12);
                    PutTaps256(ref target, positionStride * 2, tapStride, c10, c11, c20, c21);
                    PutTaps256(ref target, positionStride * 3, tapStride, c11, c12, c21, c22);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PutTaps256(ref float target, nuint position, nuint tapStride, Vector256<float> t00, Vector256<float> t01, Vector256<float> t10, Vector256<float> t11)
        {
            t00.StoreUnsafe(ref target, position);
            t01.StoreUnsafe(ref target, position + tapStride);
            t10.StoreUnsafe(ref target, position + 2 * tapStride);
            t11.StoreUnsafe(ref target, position + 3 * tapStride);
        }

        // PlacePhases with each group's two halves.
        internal static void PlacePhases256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in LaneTileLayout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), LaneTileLayout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int iy = t / l.TileColumns, ix = t - iy * l.TileColumns;
                for (int lanes = 0; lanes < l.OutLanes; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + lanes);
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + (2 * iy * w + 2 * ix) * V + half);
                    (Vector256.LoadUnsafe(ref m) + bias).StoreUnsafe(ref target);
                    (Vector256.LoadUnsafe(ref m, positionStride) + bias).StoreUnsafe(ref target, V);
                    (Vector256.LoadUnsafe(ref m, 2 * positionStride) + bias).StoreUnsafe(ref target, (nuint)(w * V));
                    (Vector256.LoadUnsafe(ref m, 3 * positionStride) + bias).StoreUnsafe(ref target, (nuint)(w * V + V));
                }
            }
        }
    }
}
