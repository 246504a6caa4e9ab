using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Winograd F(2x2, 5x5) on the same machinery as F(4x4, 3x3): the same 6x6 windows (stride 2 instead of 4), the same
    /// input transform Bᵀ and GEMMs over channels; only the filter transform G (6x5) and the output transform Aᵀ (2x6)
    /// differ. 36 multiplications per 2x2 outputs and input channel instead of 100. A 2x2 output tile is exactly one 2x2
    /// pooling window, so the fused pooling is one maximum per tile.
    /// </summary>
    /// <remarks>
    /// With the points 0, ±1, ±2, ∞ and Lavin's scaling of G's rows (1/4, −1/6, −1/6, 1/24, 1/24, 1) that F(4x4, 3x3)'s Bᵀ
    /// assumes: G = [1/4·(1 0 0 0 0); −1/6·(1 1 1 1 1); −1/6·(1 −1 1 −1 1); 1/24·(1 2 4 8 16); 1/24·(1 −2 4 −8 16);
    /// (0 0 0 0 1)], Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1] (WinogradF2x5Tests checks the 1-D identity).
    /// </remarks>
    internal static partial class WinogradF4Convolution
    {
        // U[position][ic][oc lanes] (FilterAt's blocks) = G g Gᵀ of each 5x5 filter, 16 output channels at a time; lanes past the last output
        // channel are zero.
        // U[position][ic][oc lanes] from the 25 taps at weight[oc·outStride + ic·inStride + k] (k = 24 − k when flipped: the
        // input gradient's filters, turned half a turn, with outStride and inStride swapped as well).
        private static void Transform5(ReadOnlySpan<float> weight, int outStride, int inStride, bool flip, Span<float> filters, in Layout l)
        {
            if (!Wide)
            {
                Transform5For256(weight, outStride, inStride, flip, filters, l);
                return;
            }
            Span<float> taps = stackalloc float[2 * V * V];
            Span<Vector512<float>> t = stackalloc Vector512<float>[30];
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                for (int ic = 0; ic < l.InChannels; ic++)
                {
                    // taps[k][lane] = tap k of output channel group·16 + lane's filter: two 16x16 transposes of the 16
                    // filters' rows (32 floats from the first tap, 25 used) where those rows lie inside weight.
                    ref float first = ref Unsafe.Add(ref w, group * V * outStride + ic * inStride);
                    if (Avx512F.IsSupported && lanes == V && (group * V + V - 1) * outStride + ic * inStride + 2 * V <= weight.Length)
                    {
                        DirectConvolution.Transpose16(ref first, outStride, ref g);
                        DirectConvolution.Transpose16(ref Unsafe.Add(ref first, V), outStride, ref Unsafe.Add(ref g, V * V));
                        if (flip)
                            for (int k = 0; k < 12; k++) Swap(ref Unsafe.Add(ref g, k * V), ref Unsafe.Add(ref g, (24 - k) * V));
                    }
                    else
                    {
                        for (int k = 0; k < 25; k++)
                            for (int lane = 0; lane < V; lane++)
                                Unsafe.Add(ref g, k * V + lane) = lane < lanes ? Unsafe.Add(ref first, lane * outStride + (flip ? 24 - k : k)) : 0f;
                    }
                    // G g: six rows of five; then each row times Gᵀ: six of six.
                    for (int column = 0; column < 5; column++)
                    {
                        var (r0, r1, r2, r3, r4, r5) = ApplyG5(Vector512.LoadUnsafe(ref g, (nuint)(column * V)), Vector512.LoadUnsafe(ref g, (nuint)((5 + column) * V)),
                            Vector512.LoadUnsafe(ref g, (nuint)((10 + column) * V)), Vector512.LoadUnsafe(ref g, (nuint)((15 + column) * V)),
                            Vector512.LoadUnsafe(ref g, (nuint)((20 + column) * V)));
                        t[column] = r0; t[5 + column] = r1; t[10 + column] = r2; t[15 + column] = r3; t[20 + column] = r4; t[25 + column] = r5;
                    }
                    ref float target = ref Unsafe.Add(ref u0, FilterAt(ic, group * V, l.InChannels, l.OutGroups));
                    for (int row = 0; row < 6; row++)
                    {
                        var (r0, r1, r2, r3, r4, r5) = ApplyG5(t[5 * row], t[5 * row + 1], t[5 * row + 2], t[5 * row + 3], t[5 * row + 4]);
                        nuint at = (nuint)(row * 6) * positionStride;
                        r0.StoreUnsafe(ref target, at);
                        r1.StoreUnsafe(ref target, at + positionStride);
                        r2.StoreUnsafe(ref target, at + 2 * positionStride);
                        r3.StoreUnsafe(ref target, at + 3 * positionStride);
                        r4.StoreUnsafe(ref target, at + 4 * positionStride);
                        r5.StoreUnsafe(ref target, at + 5 * positionStride);
                    }
                }
            }
        }

        // G (6x5) times (g0..g4): g0/4, −(g0+g1+g2+g3+g4)/6, −(g0−g1+g2−g3+g4)/6, (g0+2g1+4g2+8g3+16g4)/24,
        // (g0−2g1+4g2−8g3+16g4)/24, g4.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyG5(
            Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, Vector512<float> g4)
        {
            var minusSixth = Vector512.Create(-1f / 6); var twentyFourth = Vector512.Create(1f / 24);
            var even = g0 + g2 + g4; var odd = g1 + g3;
            var even4 = Fused.MultiplyAdd(g4, Vector512.Create(16f), Fused.MultiplyAdd(g2, Vector512.Create(4f), g0));
            var odd4 = Fused.MultiplyAdd(g3, Vector512.Create(8f), g1 * Vector512.Create(2f));
            return (g0 * Vector512.Create(1f / 4), (even + odd) * minusSixth, (even - odd) * minusSixth,
                (even4 + odd4) * twentyFourth, (even4 - odd4) * twentyFourth, g4);
        }

        // Y = Aᵀ M A + bias per 2x2 tile and group of 16 output channels, ReLU, and when pooling the tile's maximum (PyTorch's
        // scan order, as Pooling); into outputs[group][cell][16 channels], cells of the (pooled) output only.
        private static void TransformOutput2(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, bool pool, in Layout l,
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
                    // Rows: e[a][j] = (M[a][·] A)[j]; then columns: y[i][j] = (Aᵀ e[·][j])[i].
                    for (int a = 0; a < 6; a++)
                    {
                        var (r0, r1) = ApplyAt2(ref Unsafe.Add(ref m, (nuint)(6 * a) * positionStride), positionStride);
                        r0.StoreUnsafe(ref e, (nuint)(a * 2 * V)); r1.StoreUnsafe(ref e, (nuint)((a * 2 + 1) * V));
                    }
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    var (y00, y10) = ApplyAt2(ref e, 2 * V);
                    var (y01, y11) = ApplyAt2(ref Unsafe.Add(ref e, V), 2 * V);
                    y00 = Finish(y00, bias, relu); y01 = Finish(y01, bias, relu);
                    y10 = Finish(y10, bias, relu); y11 = Finish(y11, bias, relu);
                    ref float target = ref Unsafe.Add(ref o0, group * into.GroupStride + origin * V);
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

        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1] times (m0..m5).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>) ApplyAt2(ref float source, nuint stride)
        {
            var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, stride);
            var m2 = Vector512.LoadUnsafe(ref source, 2 * stride); var m3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector512.LoadUnsafe(ref source, 4 * stride); var m5 = Vector512.LoadUnsafe(ref source, 5 * stride);
            var sum12 = m1 + m2; var sum34 = m3 + m4;
            return (m0 + sum12 + sum34, Fused.MultiplyAdd(m3 - m4, Vector512.Create(2f), m1 - m2) + m5);
        }
    }
}
