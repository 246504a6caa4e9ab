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
            int* rowShifts = stackalloc int[taps];
            int* columnShifts = stackalloc int[taps];
            FlatTaps(g, 1, width, 0, 0, offsets, rowShifts, columnShifts);
            int* starts = stackalloc int[vectors];
            var masks = stackalloc Vector512<float>[vectors * taps];
            FlatMasks(height, width, taps, rowShifts, columnShifts, starts, masks);
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
                        FlatPair(vectors, edge, xp + (nint)c * plane, plane, plane, starts, masks, offsets, taps, wp + c * taps, b0, b1, clamp, yp + (nint)c * plane);
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

        // ------------------------------------------------------------------------------------------------------------
        // Stride 2: the input channel split into its four phase planes (input row 2qy + ry, column 2qx + rx at phase (ry, rx),
        // cell (qy, qx)), each as large as the output plane. Tap (ky, kx) then reads, for output cell (oy, ox), phase
        // (ry, rx) at (oy + sy, ox + sx) with ky − ph = 2sy + ry and kx − pw = 2sx + rx (floor division): the flat-plane
        // kernel with a phase per tap. When the output covers the input (2·OH ≥ H, 2·OW ≥ W) every input cell lands in a
        // phase plane and every phase cell outside the output plane lies outside the input, so the flat kernel's masks give
        // the zero padding; phase cells without an input cell (odd sizes) stay zero from the clear.

        /// <summary>Whether <see cref="ForwardFlatPhases"/> takes this geometry on this machine (AVX-512).</summary>
        internal static bool FlatPhasesApplies(in ConvolutionGeometry g) => Avx512F.IsSupported && FlatPhasesShape(g);

        // The shape condition alone (the scratch's length is the same on every machine).
        internal static bool FlatPhasesShape(in ConvolutionGeometry g) =>
            g.StrideHeight == 2 && g.StrideWidth == 2 && g.DilationHeight == 1 && g.DilationWidth == 1
            && 2 * g.OutHeight >= g.InHeight && 2 * g.OutWidth >= g.InWidth && g.OutHeight * g.OutWidth >= 16
            && (g.OutHeight * g.OutWidth + 15) / 16 * g.KernelHeight * g.KernelWidth <= MaxFlatMasks;

        // One phase plane with its margins: zeros before and after, as far as a tap's shift reaches.
        private readonly struct PhaseLayout
        {
            public readonly int Front, PhaseLength;

            public PhaseLayout(in ConvolutionGeometry g)
            {
                int outWidth = g.OutWidth;
                int minShift = FloorDivide(-g.PaddingHeight, 2) * outWidth + FloorDivide(-g.PaddingWidth, 2);
                int maxShift = FloorDivide(g.KernelHeight - 1 - g.PaddingHeight, 2) * outWidth + FloorDivide(g.KernelWidth - 1 - g.PaddingWidth, 2);
                Front = Math.Max(0, -minShift);
                PhaseLength = Front + g.OutHeight * outWidth + Math.Max(0, maxShift);
            }

            // One channel's four phase planes.
            public int ChannelLength => 4 * PhaseLength;
        }

        /// <summary>
        /// Where the phase planes beat what ran before on Vector512 (KernelBench depthwise-flat, +ReLU6, thread CPU µs, best of 40
        /// interleaved rounds, three runs, 2026-12-02, load 7-11; before / flat): inputs whose width is no multiple of 16 (the
        /// padded copy ends their rows cell by cell) with outputs under 24 wide: 3x3 24x37x37 14.5 / 8.5, 15.4 / 7.6, 15.1 / 7.5;
        /// 40x20x20 9.9 / 4.1, 10.3 / 4.1, 9.6 / 4.4; 64x28x28 15.6 / 11.2, 15.5 / 10.9, 15.9 / 11.4; 256x8x8 (the whole-plane
        /// kernel before) 12.4 / 8.1, 12.2 / 8.1; 5x5 672x14x14 177 / 70, 191 / 69; 160x20x20 60.3 / 26.6, 62.7 / 27.0. Not on 3x3
        /// outputs under 8 wide from wider inputs, where the unpadded Vector256 strips tie (128x14x14 8.1 / 8.0, 576x14x14 39.2 /
        /// 37.8, 48x13x13 3.1 / 3.1), on inputs of whole vectors (96x16x16 5.5 / 6.6, 64x32x32 10.4 / 14.2, 240x16x16 k5 20.9 /
        /// 25.2, 72x32x32 k5 18.7 / 30.5) nor on outputs 28 wide (32x56x56 23.5 / 23.4).
        /// </summary>
        internal static bool FlatPhasesPays(in ConvolutionGeometry g) =>
            FlatPhasesApplies(g) && g.InWidth % 16 != 0 && g.OutWidth < 24 && (g.KernelWidth != 3 || g.OutWidth >= 8 || g.InWidth <= 8);

        /// <summary>Two channels' phase planes (<see cref="ForwardFlatPhases"/>).</summary>
        internal static int FlatPhasesScratchLength(in ConvolutionGeometry g) => 2 * new PhaseLayout(g).ChannelLength;

        /// <summary>The forward pass by the flat-plane kernel over phase planes (<see cref="FlatPhasesApplies"/> must hold).</summary>
        internal static void ForwardFlatPhases(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, float low, float high)
        {
            if (!FlatPhasesApplies(g)) throw new InvalidOperationException("The flat-plane depthwise kernel does not take this geometry here.");
            var layout = new PhaseLayout(g);
            int outHeight = g.OutHeight, outWidth = g.OutWidth, outPlane = outHeight * outWidth, vectors = (outPlane + 15) / 16, inPlane = g.InHeight * g.InWidth;
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, channels = g.InChannels, channelLength = layout.ChannelLength;
            var clamp = new OutputClamp(low, high);
            nint* offsets = stackalloc nint[taps];
            int* rowShifts = stackalloc int[taps];
            int* columnShifts = stackalloc int[taps];
            FlatTaps(g, 2, outWidth, layout.PhaseLength, layout.Front, offsets, rowShifts, columnShifts);
            int* starts = stackalloc int[vectors];
            var masks = stackalloc Vector512<float>[vectors * taps];
            FlatMasks(outHeight, outWidth, taps, rowShifts, columnShifts, starts, masks);
            scratch.Slice(0, 2 * channelLength).Clear();
            fixed (float* xp = x, yp = y, wp = weight, sp = scratch)
            {
                int c = 0;
                if (multiplier == 1 && vectors <= 4)
                {
                    for (; c + 1 < channels; c += 2)
                    {
                        SplitPhases(xp + (nint)c * inPlane, g.InHeight, g.InWidth, outWidth, sp + layout.Front, layout.PhaseLength);
                        SplitPhases(xp + (nint)(c + 1) * inPlane, g.InHeight, g.InWidth, outWidth, sp + channelLength + layout.Front, layout.PhaseLength);
                        float b0 = bias.IsEmpty ? 0f : bias[c], b1 = bias.IsEmpty ? 0f : bias[c + 1];
                        FlatPair(vectors, false, sp, channelLength, outPlane, starts, masks, offsets, taps, wp + c * taps, b0, b1, clamp, yp + (nint)c * outPlane);
                    }
                }
                for (; c < channels; c++)
                {
                    SplitPhases(xp + (nint)c * inPlane, g.InHeight, g.InWidth, outWidth, sp + layout.Front, layout.PhaseLength);
                    for (int m = 0; m < multiplier; m++)
                    {
                        int oc = c * multiplier + m;
                        float b = bias.IsEmpty ? 0f : bias[oc];
                        for (int v = 0; v < vectors; v += 8)
                            FlatTile(Math.Min(8, vectors - v), false, sp, starts + v, masks + v * taps, offsets, taps, wp + oc * taps, b, clamp, yp + (nint)oc * outPlane);
                    }
                }
            }
        }

        // One input channel (height x width) into its four phase planes (phaseLength apart, rows outWidth long): per input row
        // 32 columns at a time, split by two two-source permutes into 16 evens and 16 odds; the row's last 1 to 32 columns by
        // masked loads and stores whose masks are made once (cells without input are never written).
        private static void SplitPhases(float* from, int height, int width, int outWidth, float* phases, int phaseLength)
        {
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            int last = (width - 1) / 32 * 32, rest = width - last;
            var lowMask = Vector512.LessThan(lanes, Vector512.Create(rest)).AsSingle();
            var highMask = Vector512.LessThan(lanes, Vector512.Create(rest - 16)).AsSingle();
            var evenMask = Vector512.LessThan(lanes, Vector512.Create((rest + 1) / 2)).AsSingle();
            var oddMask = Vector512.LessThan(lanes, Vector512.Create(rest / 2)).AsSingle();
            for (int iy = 0; iy < height; iy++, from += width)
            {
                float* evens = phases + (iy & 1) * 2 * phaseLength + (iy >> 1) * outWidth;
                float* odds = evens + phaseLength;
                for (int ix = 0; ix < last; ix += 32)
                {
                    var lo = Vector512.Load(from + ix);
                    var hi = Vector512.Load(from + ix + 16);
                    Avx512F.PermuteVar16x32x2(lo, Evens512, hi).Store(evens + ix / 2);
                    Avx512F.PermuteVar16x32x2(lo, Odds512, hi).Store(odds + ix / 2);
                }
                var lastLow = Avx512F.MaskLoad(from + last, lowMask, Vector512<float>.Zero);
                var lastHigh = Avx512F.MaskLoad(from + last + 16, highMask, Vector512<float>.Zero);
                Avx512F.MaskStore(evens + last / 2, evenMask, Avx512F.PermuteVar16x32x2(lastLow, Evens512, lastHigh));
                Avx512F.MaskStore(odds + last / 2, oddMask, Avx512F.PermuteVar16x32x2(lastLow, Odds512, lastHigh));
            }
        }

        // Each tap's shift in its (phase) plane, ky − ph = stride·sy + ry and kx − pw = stride·sx + rx (floor division), and its
        // offset: phase (ry, rx)'s plane (phaseLength apart, its first cell at front), then sy rows of rowLength and sx cells.
        private static void FlatTaps(in ConvolutionGeometry g, int stride, int rowLength, int phaseLength, int front, nint* offsets, int* rowShifts, int* columnShifts)
        {
            for (int ky = 0, t = 0; ky < g.KernelHeight; ky++)
            {
                for (int kx = 0; kx < g.KernelWidth; kx++, t++)
                {
                    int ey = ky - g.PaddingHeight, ex = kx - g.PaddingWidth;
                    rowShifts[t] = FloorDivide(ey, stride);
                    columnShifts[t] = FloorDivide(ex, stride);
                    int phase = (ey - stride * rowShifts[t]) * stride + ex - stride * columnShifts[t];
                    offsets[t] = (nint)phase * phaseLength + front + (nint)rowShifts[t] * rowLength + columnShifts[t];
                }
            }
        }

        private static int FloorDivide(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        // Each vector's first cell (the last overlapping the one before) of a height x width plane, and the mask of the lanes
        // whose cell moved by tap t's (rowShifts[t], columnShifts[t]) stays inside the plane, at masks[vector · taps + t].
        private static void FlatMasks(int height, int width, int taps, int* rowShifts, int* columnShifts, int* starts, Vector512<float>* masks)
        {
            int plane = height * width, vectors = (plane + 15) / 16;
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
                for (int t = 0; t < taps; t++)
                {
                    var iy = (rows + Vector512.Create(rowShifts[t])).AsUInt32();
                    var ix = (columns + Vector512.Create(columnShifts[t])).AsUInt32();
                    masks[v * taps + t] = (Vector512.LessThan(iy, Vector512.Create((uint)height)) & Vector512.LessThan(ix, Vector512.Create((uint)width))).AsSingle();
                }
            }
        }

        // TMasked as `edge` says: zero-masked loads for the first and last channel of x.
        private static void FlatTile(int count, bool edge, float* input, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w, float bias,
            OutputClamp clamp, float* output)
        {
            if (edge) FlatTile<C1>(count, input, starts, masks, offsets, taps, w, bias, clamp, output);
            else FlatTile<C0>(count, input, starts, masks, offsets, taps, w, bias, clamp, output);
        }

        private static void FlatTile<TMasked>(int count, float* input, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w, float bias,
            OutputClamp clamp, float* output) where TMasked : struct, IConstant
        {
            switch (count)
            {
                case 8: FlatTile<C8, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 7: FlatTile<C7, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 6: FlatTile<C6, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 5: FlatTile<C5, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 4: FlatTile<C4, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 3: FlatTile<C3, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                case 2: FlatTile<C2, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
                default: FlatTile<C1, TMasked>(input, starts, masks, offsets, taps, w, bias, clamp, output); break;
            }
        }

        private static void FlatPair(int vectors, bool edge, float* input, int inputStride, int outputStride, int* starts, Vector512<float>* masks, nint* offsets,
            int taps, float* w, float bias0, float bias1, OutputClamp clamp, float* output)
        {
            if (edge) FlatPair<C1>(vectors, input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output);
            else FlatPair<C0>(vectors, input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output);
        }

        private static void FlatPair<TMasked>(int vectors, float* input, int inputStride, int outputStride, int* starts, Vector512<float>* masks, nint* offsets,
            int taps, float* w, float bias0, float bias1, OutputClamp clamp, float* output) where TMasked : struct, IConstant
        {
            switch (vectors)
            {
                case 4: FlatPair<C4, TMasked>(input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                case 3: FlatPair<C3, TMasked>(input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                case 2: FlatPair<C2, TMasked>(input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
                default: FlatPair<C1, TMasked>(input, inputStride, outputStride, starts, masks, offsets, taps, w, bias0, bias1, clamp, output); break;
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

        // Two channels' planes of TVectors vectors each (inputStride floats apart in the input, outputStride in y, taps weights apart).
        private static void FlatPair<TVectors, TMasked>(float* input, int inputStride, int outputStride, int* starts, Vector512<float>* masks, nint* offsets, int taps, float* w,
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
                nint d = offsets[t], e = d + inputStride;
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
            OutputClamp.Store(c0, none, low, high, ref output[outputStride + starts[0]]);
            if (count > 1)
            {
                OutputClamp.Store(a1, none, low, high, ref output[starts[1]]);
                OutputClamp.Store(c1, none, low, high, ref output[outputStride + starts[1]]);
            }
            if (count > 2)
            {
                OutputClamp.Store(a2, none, low, high, ref output[starts[2]]);
                OutputClamp.Store(c2, none, low, high, ref output[outputStride + starts[2]]);
            }
            if (count > 3)
            {
                OutputClamp.Store(a3, none, low, high, ref output[starts[3]]);
                OutputClamp.Store(c3, none, low, high, ref output[outputStride + starts[3]]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> FlatTap<TMasked>(float* at, Vector512<float> mask, Vector512<float> k, Vector512<float> a) where TMasked : struct, IConstant =>
            Fused.MultiplyAdd(TMasked.Value != 0 ? Avx512F.MaskLoad(at, mask, Vector512<float>.Zero) : Vector512.Load(at) & mask, k, a);
    }
}
#endif
