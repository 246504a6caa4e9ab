using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    // F(2x2, 5x5) where there is no AVX-512 but AVX2 and FMA: the Vector512 kernel's layouts and operations, each 16-channel
    // group as two Vector256 halves (as WinogradF4Convolution.Vector256.cs does for 3x3). The input transform and the GEMMs
    // are F(4x4, 3x3)'s Vector256 ones (the same 6x6 windows, stride 2); only G and Aᵀ are 5x5's.
    internal static partial class WinogradF4Convolution
    {
        // Transform5 with each group's 16 lanes as two halves: the taps gathered into [tap][16 lanes] (zero past the last
        // output channel), then G g Gᵀ on each half, ApplyG5's operations lane for lane.
        private static void Transform5For256(ReadOnlySpan<float> weight, int outStride, int inStride, bool flip, Span<float> filters, in Layout l)
        {
            Span<float> taps = stackalloc float[25 * V];
            Span<Vector256<float>> t = stackalloc Vector256<float>[30];
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                for (int ic = 0; ic < l.InChannels; ic++)
                {
                    GatherTaps(ref Unsafe.Add(ref w, group * V * outStride + ic * inStride), outStride, 25, lanes, flip, ref g);
                    ref float target = ref Unsafe.Add(ref u0, FilterAt(ic, group * V, l.InChannels, l.OutGroups));
                    for (int half = 0; half < V; half += Half)
                    {
                        // G g: six rows of five; then each row times Gᵀ: six of six.
                        for (int column = 0; column < 5; column++)
                        {
                            var (r0, r1, r2, r3, r4, r5) = ApplyG5(Vector256.LoadUnsafe(ref g, (nuint)(column * V + half)),
                                Vector256.LoadUnsafe(ref g, (nuint)((5 + column) * V + half)), Vector256.LoadUnsafe(ref g, (nuint)((10 + column) * V + half)),
                                Vector256.LoadUnsafe(ref g, (nuint)((15 + column) * V + half)), Vector256.LoadUnsafe(ref g, (nuint)((20 + column) * V + half)));
                            t[column] = r0; t[5 + column] = r1; t[10 + column] = r2; t[15 + column] = r3; t[20 + column] = r4; t[25 + column] = r5;
                        }
                        for (int row = 0; row < 6; row++)
                        {
                            var (r0, r1, r2, r3, r4, r5) = ApplyG5(t[5 * row], t[5 * row + 1], t[5 * row + 2], t[5 * row + 3], t[5 * row + 4]);
                            ref float at = ref Unsafe.Add(ref target, (nuint)(row * 6) * positionStride + (nuint)half);
                            r0.StoreUnsafe(ref at); r1.StoreUnsafe(ref at, positionStride); r2.StoreUnsafe(ref at, 2 * positionStride);
                            r3.StoreUnsafe(ref at, 3 * positionStride); r4.StoreUnsafe(ref at, 4 * positionStride); r5.StoreUnsafe(ref at, 5 * positionStride);
                        }
                    }
                }
            }
        }

        // ApplyG5's operations on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) ApplyG5(
            Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, Vector256<float> g3, Vector256<float> g4)
        {
            var minusSixth = Vector256.Create(-1f / 6); var twentyFourth = Vector256.Create(1f / 24);
            var even = g0 + g2 + g4; var odd = g1 + g3;
            var even4 = Fused.MultiplyAdd(g4, Vector256.Create(16f), Fused.MultiplyAdd(g2, Vector256.Create(4f), g0));
            var odd4 = Fused.MultiplyAdd(g3, Vector256.Create(8f), g1 * Vector256.Create(2f));
            return (g0 * Vector256.Create(1f / 4), (even + odd) * minusSixth, (even - odd) * minusSixth,
                (even4 + odd4) * twentyFourth, (even4 - odd4) * twentyFourth, g4);
        }

        // TransformOutput2 with each group's two halves; the rows' Aᵀ in registers where the Vector512 kernel stages them (the
        // same operations, so the same floats).
        private static void TransformOutput2For256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, bool pool, in Layout l,
            in Target into)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), Layout.BiasOffset);
            ref float o0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputs), into.Offset);
            nuint positionStride = (nuint)l.ProductPositionStride;
            int pooledHeight = l.OutHeight / 2, pooledWidth = l.OutWidth / 2;
            int step = l.Dilation, tilesPerPhase = l.TileRows * l.TileColumns, h = l.OutHeight / step, w = l.OutWidth / step, pitch = step * into.RowCells;
            for (int t = first; t < first + count; t++)
            {
                int origin = Origin(t, step, tilesPerPhase, into.RowCells, l, out int ty, out int tx);
                for (int lanes = 0; lanes < l.OutLanes; lanes += Half)
                {
                    int group = lanes / V, half = lanes - group * V;
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.OutLanes + lanes);
                    // Rows: e[a][j] = (M[a][·] A)[j]; then columns: y[i][j] = (Aᵀ e[·][j])[i].
                    var (e00, e01) = ApplyAt2For256(ref m, positionStride);
                    var (e10, e11) = ApplyAt2For256(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (e20, e21) = ApplyAt2For256(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    var (e30, e31) = ApplyAt2For256(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (e40, e41) = ApplyAt2For256(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (e50, e51) = ApplyAt2For256(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    var bias = Vector256.LoadUnsafe(ref biasLanes, (nuint)lanes);
                    var (y00, y10) = ApplyAt2For256(e00, e10, e20, e30, e40, e50);
                    var (y01, y11) = ApplyAt2For256(e01, e11, e21, e31, e41, e51);
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu);
                    ref float target = ref Unsafe.Add(ref o0, group * into.GroupStride + origin * V + half);
                    if (pool)
                    {
                        Put(ref target, ty, tx, Max(y00, y01, y10, y11), pooledHeight, pooledWidth, into.RowCells);
                        continue;
                    }
                    int oy = 2 * ty, ox = 2 * tx;
                    if (oy + 2 <= h && ox + 2 <= w)
                    {
                        ref float cell = ref Unsafe.Add(ref target, (oy * pitch + ox * step) * V);
                        y00.StoreUnsafe(ref cell, 0); y01.StoreUnsafe(ref cell, (nuint)(step * V));
                        cell = ref Unsafe.Add(ref cell, pitch * V);
                        y10.StoreUnsafe(ref cell, 0); y11.StoreUnsafe(ref cell, (nuint)(step * V));
                        continue;
                    }
                    Put(ref target, oy, ox, y00, h, w, pitch, step); Put(ref target, oy, ox + 1, y01, h, w, pitch, step);
                    Put(ref target, oy + 1, ox, y10, h, w, pitch, step); Put(ref target, oy + 1, ox + 1, y11, h, w, pitch, step);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>) ApplyAt2For256(ref float source, nuint stride) =>
            ApplyAt2For256(Vector256.LoadUnsafe(ref source), Vector256.LoadUnsafe(ref source, stride), Vector256.LoadUnsafe(ref source, 2 * stride),
                Vector256.LoadUnsafe(ref source, 3 * stride), Vector256.LoadUnsafe(ref source, 4 * stride), Vector256.LoadUnsafe(ref source, 5 * stride));

        // ApplyAt2's operations on 8 lanes: Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1] times (m0..m5).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>) ApplyAt2For256(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2,
            Vector256<float> m3, Vector256<float> m4, Vector256<float> m5)
        {
            var sum12 = m1 + m2; var sum34 = m3 + m4;
            return (m0 + sum12 + sum34, Fused.MultiplyAdd(m3 - m4, Vector256.Create(2f), m1 - m2) + m5);
        }
    }
}
