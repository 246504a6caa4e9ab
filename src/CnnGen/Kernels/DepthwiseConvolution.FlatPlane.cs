// Masked loads (Avx512F.MaskLoad) came with .NET 9: the net8.0 build runs these layers through the other kernels.
#if NET9_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise forward pass over a small plane taken flat: stride 1, "same" maps (output as large as the input), read
    /// in place. Vectors of 16 consecutive cells of the plane, whatever its width (a 7x7 plane is four vectors where the row
    /// kernels take seven 8-lane rows).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Output cell i = oy·W + ox under tap (ky, kx) reads input cell i + (ky − ph)·W + (kx − pw) of the same flat plane:
    /// for a whole vector of cells one load at a constant offset. Lanes whose row or column falls outside the input would
    /// read a neighbouring row or channel instead, so they are masked to zero — one mask per vector and tap, made once per
    /// call (they depend on the plane's shape only). The inner channels load plainly and AND the mask (their loads stay
    /// inside x); the first and the last channel use zero-masked loads, which read nothing outside their lanes. The last
    /// vector of a plane overlaps the one before (its cells are computed twice, to the same floats).
    /// </para>
    /// <para>
    /// Each output's sum runs from the bias over the taps in order (ky, then kx) with fused multiply-adds, as the padded row
    /// kernel's does, and a masked lane adds what the padded plane's zeros add: the two give the same bits.
    /// <see cref="FlatPlanePays"/> says where it runs.
    /// </para>
    /// </remarks>
    internal static unsafe partial class DepthwiseConvolution
    {
        // The masks (one vector per vector of the plane and tap) live on the stack.
        private const int MaxFlatMasks = 512;

        /// <summary>Whether <see cref="ForwardFlatPlane"/> takes this geometry on this machine (AVX-512).</summary>
        internal static bool FlatPlaneApplies(in ConvolutionGeometry g) =>
            Avx512F.IsSupported && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.OutHeight == g.InHeight && g.OutWidth == g.InWidth && g.InHeight * g.InWidth >= 16
            && FlatVectors(g) * g.KernelHeight * g.KernelWidth <= MaxFlatMasks
            // An inner channel's plain loads reach at most one plane before or after it (padding up to the map's height).
            && g.PaddingHeight * g.InWidth + g.PaddingWidth <= g.InHeight * g.InWidth
            && (g.KernelHeight - 1 - g.PaddingHeight) * g.InWidth + g.KernelWidth - 1 - g.PaddingWidth <= g.InHeight * g.InWidth;

        /// <summary>
        /// Where the flat-plane kernel beats what ran before it on Vector512 (KernelBench depthwise-flat, +ReLU6, thread CPU µs,
        /// best of 40 interleaved rounds, 2026-12-02, load 18-27; before / flat): 3x3 on 256x7x7 14.4 / 8.9, 512x7x7 33.2 / 18.8,
        /// 96x4x4 2.10 / 1.20, 96x5x5 5.02 / 2.19, 96x6x6 5.45 / 2.86, 200x9x9 20.1 / 12.1, 160x10x10 20.7 / 12.0, 96x11x11
        /// 11.7 / 6.0, 96x12x12 9.7 / 9.2, 576x12x12 78.1 / 64.6; 5x5 on 480x7x7 56.8 / 41.2, 672x7x7 51.4 / 47.5, 96x9x9 17.3 /
        /// 11.7, 96x10x10 26.2 / 15.7, 96x5x5 6.1 / 3.9. It loses from 13 wide (3x3 128x14x14 12.2 / 14.7, 64x13x13 6.9 / 9.1,
        /// 64x16x16 5.4 / 11.7; 5x5 120x14x14 38.5 / 40.0: the row kernels share input rows between output rows, this kernel
        /// loads a vector and its mask per tap), on 5x5 at 12 wide (40x12x12 10.4 / 12.3) and ties the whole-plane kernel at 8
        /// wide (96x8x8 3.57 / 3.58). So: planes under 12 wide but not 8.
        /// </summary>
        internal static bool FlatPlanePays(in ConvolutionGeometry g) => FlatPlaneApplies(g) && g.OutWidth < 12 && g.OutWidth != 8;

        private static int FlatVectors(in ConvolutionGeometry g) => (g.InHeight * g.InWidth + 15) / 16;

        /// <summary>The forward pass by the flat-plane kernel (<see cref="FlatPlaneApplies"/> must hold). Needs no scratch.</summary>
        internal static void ForwardFlatPlane(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, float low, float high)
        {
            if (!FlatPlaneApplies(g)) throw new InvalidOperationException("The flat-plane depthwise kernel does not take this geometry here.");
            int height = g.InHeight, width = g.InWidth, plane = height * width, vectors = FlatVectors(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, channels = g.InChannels;
            var clamp = new OutputClamp(low, high);
            nint* offsets = stackalloc nint[taps];
            int* starts = stackalloc int[vectors];
            var masks = stackalloc Vector512<float>[vectors * taps];
            FlatMasks(g, offsets, starts, masks);
            fixed (float* xp = x, yp = y, wp = weight)
            {
                int c = 0;
                // Planes of up to four vectors, one output per channel: two channels a tile (up to eight independent sums).
                if (multiplier == 1 && vectors <= 4)
                {
                    for (; c + 1 < channels; c += 2)
                    {
                        float b0 = bias.IsEmpty ? 0f : bias[c], b1 = bias.IsEmpty ? 0f : bias[c + 1];
                        bool edge = c == 0 || c + 2 == channels;
                        FlatPair(vectors, edge, xp + (nint)c * plane, plane, starts, masks, offsets, taps, wp + c * taps, b0, b1, clamp, yp + (nint)c * plane);
                    }
                }
                for (; c < channels; c++)
                {
                    bool edge = c == 0 || c == channels - 1;
                    for (int m = 0; m < multiplier; m++)
                    {
                        int oc = c * multiplier + m;
                        float b = bias.IsEmpty ? 0f : bias[oc];
                        for (int v = 0; v < vectors; v += 8)
                        {
                            FlatTile(Math.Min(8, vectors - v), edge, xp + (nint)c * plane, starts + v, masks + v * taps, offsets, taps, wp + oc * taps, b, clamp,
                                yp + (nint)oc * plane);
                        }
                    }
                }
            }
        }

        // Each tap's offset in the flat plane, each vector's first cell (the last overlapping the one before), and the mask of
        // the lanes whose input cell lies inside the plane, at masks[vector · taps + tap].
        private static void FlatMasks(in ConvolutionGeometry g, nint* offsets, int* starts, Vector512<float>* masks)
        {
            int height = g.InHeight, width = g.InWidth, plane = height * width, vectors = FlatVectors(g), taps = g.KernelHeight * g.KernelWidth;
            for (int ky = 0, t = 0; ky < g.KernelHeight; ky++)
                for (int kx = 0; kx < g.KernelWidth; kx++, t++) offsets[t] = (nint)(ky - g.PaddingHeight) * width + kx - g.PaddingWidth;
            int* rowOf = stackalloc int[16];
            int* columnOf = stackalloc int[16];
            for (int v = 0; v < vectors; v++)
            {
                int start = Math.Min(16 * v, plane - 16);
                starts[v] = start;
                // Row and column of each lane's cell, stepped from the first rather than divided out per lane.
                int oy = start / width, ox = start % width;
                for (int lane = 0; lane < 16; lane++)
                {
                    rowOf[lane] = oy;
                    columnOf[lane] = ox;
                    if (++ox == width)
                    {
                        ox = 0;
                        oy++;
                    }
                }
                var rows = Vector512.Load(rowOf);
                var columns = Vector512.Load(columnOf);
                for (int ky = 0, t = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++, t++)
                    {
                        var iy = (rows + Vector512.Create(ky - g.PaddingHeight)).AsUInt32();
                        var ix = (columns + Vector512.Create(kx - g.PaddingWidth)).AsUInt32();
                        masks[v * taps + t] = (Vector512.LessThan(iy, Vector512.Create((uint)height)) & Vector512.LessThan(ix, Vector512.Create((uint)width))).AsSingle();
                    }
                }
            }
        }

        private static void FlatTile(int count, bool edge, float* input, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w, float bias,
            OutputClamp clamp, float* output)
        {
            if (edge)
            {
                switch (count)
                {
                    case 8: FlatTile<C8, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 7: FlatTile<C7, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 6: FlatTile<C6, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 5: FlatTile<C5, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 4: FlatTile<C4, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 3: FlatTile<C3, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    case 2: FlatTile<C2, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                    default: FlatTile<C1, C1>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                }
                return;
            }
            switch (count)
            {
                case 8: FlatTile<C8, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 7: FlatTile<C7, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 6: FlatTile<C6, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 5: FlatTile<C5, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 4: FlatTile<C4, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 3: FlatTile<C3, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 2: FlatTile<C2, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                default: FlatTile<C1, C0>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
            }
        }

        private static void FlatPair(int vectors, bool edge, float* input, int plane, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w,
            float bias0, float bias1, OutputClamp clamp, float* output)
        {
            if (edge)
            {
                switch (vectors)
                {
                    case 4: FlatPair<C4, C1>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                    case 3: FlatPair<C3, C1>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                    case 2: FlatPair<C2, C1>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                    default: FlatPair<C1, C1>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                }
                return;
            }
            switch (vectors)
            {
                case 4: FlatPair<C4, C0>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                case 3: FlatPair<C3, C0>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                case 2: FlatPair<C2, C0>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                default: FlatPair<C1, C0>(input, plane, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
            }
        }

        // TCount consecutive vectors of one channel's plane (starts and masks from the tile's first vector), from the bias over
        // the taps in order; TMasked: zero-masked loads (the first and last channel), else plain loads ANDed with the mask.
        private static void FlatTile<TCount, TMasked>(float* input, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w, float bias,
            OutputClamp clamp, float* output) where TCount : struct, IConstant where TMasked : struct, IConstant
        {
            int count = TCount.Value;
            float* i0 = input + starts[0];
            float* i1 = count > 1 ? input + starts[1] : i0, i2 = count > 2 ? input + starts[2] : i0, i3 = count > 3 ? input + starts[3] : i0;
            float* i4 = count > 4 ? input + starts[4] : i0, i5 = count > 5 ? input + starts[5] : i0, i6 = count > 6 ? input + starts[6] : i0;
            float* i7 = count > 7 ? input + starts[7] : i0;
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int t = 0; t < taps; t++)
            {
                nint d = offsets[t];
                var k = Vector512.Create(w[t]);
                Vector512<float>* m = masks + t;
                a0 = FlatTap<TMasked>(i0 + d, m[0], k, a0);
                if (count > 1) a1 = FlatTap<TMasked>(i1 + d, m[taps], k, a1);
                if (count > 2) a2 = FlatTap<TMasked>(i2 + d, m[2 * taps], k, a2);
                if (count > 3) a3 = FlatTap<TMasked>(i3 + d, m[3 * taps], k, a3);
                if (count > 4) a4 = FlatTap<TMasked>(i4 + d, m[4 * taps], k, a4);
                if (count > 5) a5 = FlatTap<TMasked>(i5 + d, m[5 * taps], k, a5);
                if (count > 6) a6 = FlatTap<TMasked>(i6 + d, m[6 * taps], k, a6);
                if (count > 7) a7 = FlatTap<TMasked>(i7 + d, m[7 * taps], k, a7);
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            OutputClamp.Store(a0, none, low, high, ref output[starts[0]]);
            if (count > 1) OutputClamp.Store(a1, none, low, high, ref output[starts[1]]);
            if (count > 2) OutputClamp.Store(a2, none, low, high, ref output[starts[2]]);
            if (count > 3) OutputClamp.Store(a3, none, low, high, ref output[starts[3]]);
            if (count > 4) OutputClamp.Store(a4, none, low, high, ref output[starts[4]]);
            if (count > 5) OutputClamp.Store(a5, none, low, high, ref output[starts[5]]);
            if (count > 6) OutputClamp.Store(a6, none, low, high, ref output[starts[6]]);
            if (count > 7) OutputClamp.Store(a7, none, low, high, ref output[starts[7]]);
        }

        // Two channels' planes of TVectors vectors each (plane floats apart in x and y, taps weights apart).
        private static void FlatPair<TVectors, TMasked>(float* input, int plane, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w,
            float bias0, float bias1, OutputClamp clamp, float* output) where TVectors : struct, IConstant where TMasked : struct, IConstant
        {
            int count = TVectors.Value;
            float* i0 = input + starts[0];
            float* i1 = count > 1 ? input + starts[1] : i0, i2 = count > 2 ? input + starts[2] : i0, i3 = count > 3 ? input + starts[3] : i0;
            var a0 = Vector512.Create(bias0);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0;
            var c0 = Vector512.Create(bias1);
            Vector512<float> c1 = c0, c2 = c0, c3 = c0;
            for (int t = 0; t < taps; t++)
            {
                nint d = offsets[t], e = d + plane;
                var k = Vector512.Create(w[t]);
                var l = Vector512.Create(w[taps + t]);
                Vector512<float>* m = masks + t;
                a0 = FlatTap<TMasked>(i0 + d, m[0], k, a0);
                c0 = FlatTap<TMasked>(i0 + e, m[0], l, c0);
                if (count > 1)
                {
                    a1 = FlatTap<TMasked>(i1 + d, m[taps], k, a1);
                    c1 = FlatTap<TMasked>(i1 + e, m[taps], l, c1);
                }
                if (count > 2)
                {
                    a2 = FlatTap<TMasked>(i2 + d, m[2 * taps], k, a2);
                    c2 = FlatTap<TMasked>(i2 + e, m[2 * taps], l, c2);
                }
                if (count > 3)
                {
                    a3 = FlatTap<TMasked>(i3 + d, m[3 * taps], k, a3);
                    c3 = FlatTap<TMasked>(i3 + e, m[3 * taps], l, c3);
                }
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            OutputClamp.Store(a0, none, low, high, ref output[starts[0]]);
            OutputClamp.Store(c0, none, low, high, ref output[plane + starts[0]]);
            if (count > 1)
            {
                OutputClamp.Store(a1, none, low, high, ref output[starts[1]]);
                OutputClamp.Store(c1, none, low, high, ref output[plane + starts[1]]);
            }
            if (count > 2)
            {
                OutputClamp.Store(a2, none, low, high, ref output[starts[2]]);
                OutputClamp.Store(c2, none, low, high, ref output[plane + starts[2]]);
            }
            if (count > 3)
            {
                OutputClamp.Store(a3, none, low, high, ref output[starts[3]]);
                OutputClamp.Store(c3, none, low, high, ref output[plane + starts[3]]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> FlatTap<TMasked>(float* at, Vector512<float> mask, Vector512<float> k, Vector512<float> a) where TMasked : struct, IConstant =>
            Fused.MultiplyAdd(TMasked.Value != 0 ? Avx512F.MaskLoad(at, mask, Vector512<float>.Zero) : Vector512.Load(at) & mask, k, a);
    }
}
#endif
