using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// 3x3 stride-1 depthwise layers on maps whose rows are one or two Vector512s (16 or 32 cells wide), read in place:
    /// each output vector's column shifts made from its input vector and the ones beside it in the row (valignd), a zero
    /// vector past either end of the row and above and below the map. The row kernel (<see cref="Rows3x3512"/>) first
    /// copies every channel into a padded plane; here there is no copy.
    /// </summary>
    /// <remarks>
    /// The same tiles as the row kernel's (eight output rows, each of the ten input rows' three column shifts fed to the up
    /// to three output rows that read it), the same products in the same order, and the padding's zeros added as the
    /// padded plane adds them: the two give the same bits. <see cref="InPlaceRowsPay"/> has the measurements.
    /// </remarks>
    internal static partial class DepthwiseConvolution
    {
        /// <summary>
        /// Whether the in-place kernel takes this geometry (AVX-512): 3x3, stride 1, undilated, padding 1, rows of one or two
        /// vectors, 8k of them. KernelBench depthwise-loop (+ReLU6, thread CPU, best of thousands, 2026-12-07, Zen 4, the row
        /// kernel / this, the same floats): 64x16x16 5.03-5.12 / 3.44-3.53 us, 32x16x16 2.73 / 1.87, 144x16x16 11.42 / 7.90,
        /// 384x16x16 44.7 / 22.1; 32x32x32 9.73 / 8.03, 96x32x32 26.5-27.5 / 23.7-24.4; but 32x64x64 36.4-37.8 / 34.6-36.3,
        /// 16x112x112 58.4 / 53.9, 64x112x112 236.9-239.3 / 225.2-236.6 (its three loads a row vector against a copy that
        /// costs little on wide rows): not taken there.
        /// </summary>
        internal static bool InPlaceRowsPay(in ConvolutionGeometry g) =>
            Avx512F.IsSupported && g.GroupInChannels == 1 && g.KernelHeight == 3 && g.KernelWidth == 3
            && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.PaddingHeight == 1 && g.PaddingWidth == 1 && g.InWidth is 16 or 32 && g.InHeight % 8 == 0;

        /// <summary>The forward pass by the in-place kernel (<see cref="InPlaceRowsPay"/> must hold). Needs no scratch.</summary>
        internal static void ForwardInPlaceRows(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, float low, float high)
        {
            if (!InPlaceRowsPay(g)) throw new InvalidOperationException("The in-place 16- and 32-wide depthwise kernel does not take this geometry here.");
            if (x.Length < g.InLength || y.Length < g.OutLength || weight.Length < g.WeightLength || !bias.IsEmpty && bias.Length < g.OutChannels)
                throw new ArgumentException("A span is shorter than the geometry needs.");
            var clamp = new OutputClamp(low, high);
            int height = g.InHeight, width = g.InWidth, plane = height * width, multiplier = g.GroupOutChannels;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                ref float input = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)ic * plane);
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    float b = bias.IsEmpty ? 0f : bias[oc];
                    ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), oc * 9);
                    ref float output = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * plane);
                    for (int oy = 0; oy < height; oy += 8)
                    {
                        ref float rows = ref Unsafe.Add(ref output, oy * width);
                        if (width == 16)
                        {
                            EightRowsInPlace<C3>(ref input, oy, height, width, ref w, b, clamp, ref rows);
                            continue;
                        }
                        EightRowsInPlace<C1>(ref input, oy, height, width, ref w, b, clamp, ref rows);
                        int column = 16;
                        for (; column + 16 < width; column += 16)
                            EightRowsInPlace<C0>(ref Unsafe.Add(ref input, column), oy, height, width, ref w, b, clamp, ref Unsafe.Add(ref rows, column));
                        EightRowsInPlace<C2>(ref Unsafe.Add(ref input, column), oy, height, width, ref w, b, clamp, ref Unsafe.Add(ref rows, column));
                    }
                }
            }
        }

        // Input row r's three column shifts (columns −1, 0, +1 of each output cell of the vector at input): zero outside the map.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ShiftsOfRow(ref float input, int r, int height, int width, bool first, bool last,
            out Vector512<float> left, out Vector512<float> middle, out Vector512<float> right)
        {
            var cells = Vector512<uint>.Zero;
            Vector512<uint> before = cells, after = cells;
            if ((uint)r < (uint)height)
            {
                ref float row = ref Unsafe.Add(ref input, r * width);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32();
                if (!first) before = Vector512.LoadUnsafe(ref Unsafe.Subtract(ref row, 16)).AsUInt32();
                if (!last) after = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
            }
            left = Avx512F.AlignRight32(cells, before, 15).AsSingle();   // lane i: cell i − 1, lane 0: the vector before's last (0 at the row's start)
            middle = cells.AsSingle();
            right = Avx512F.AlignRight32(after, cells, 1).AsSingle();    // lane i: cell i + 1, lane 15: the vector after's first (0 at the row's end)
        }

        // Output rows oy..oy+7 of one channel's 16 columns at input: input rows oy−1..oy+8, each feeding the output rows under
        // its kernel rows. TEdges: 1 if the vector is its row's first, + 2 if its last (constants, so the loads beside it that
        // would fall outside the row are not in the code at all).
        private static void EightRowsInPlace<TEdges>(ref float input, int oy, int height, int width, ref float w, float bias, OutputClamp clamp,
            ref float output) where TEdges : struct, IConstant
        {
            bool first = (TEdges.Value & 1) != 0, last = (TEdges.Value & 2) != 0;
            var w00 = Vector512.Create(w); var w01 = Vector512.Create(Unsafe.Add(ref w, 1)); var w02 = Vector512.Create(Unsafe.Add(ref w, 2));
            var w10 = Vector512.Create(Unsafe.Add(ref w, 3)); var w11 = Vector512.Create(Unsafe.Add(ref w, 4)); var w12 = Vector512.Create(Unsafe.Add(ref w, 5));
            var w20 = Vector512.Create(Unsafe.Add(ref w, 6)); var w21 = Vector512.Create(Unsafe.Add(ref w, 7)); var w22 = Vector512.Create(Unsafe.Add(ref w, 8));
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            Vector512<float> v0, v1, v2;
            ShiftsOfRow(ref input, oy - 1, height, width, first, last, out v0, out v1, out v2);
            a0 = KernelRow(a0, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy, height, width, first, last, out v0, out v1, out v2);
            a0 = KernelRow(a0, v0, v1, v2, w10, w11, w12);
            a1 = KernelRow(a1, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 1, height, width, first, last, out v0, out v1, out v2);
            a0 = KernelRow(a0, v0, v1, v2, w20, w21, w22);
            a1 = KernelRow(a1, v0, v1, v2, w10, w11, w12);
            a2 = KernelRow(a2, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 2, height, width, first, last, out v0, out v1, out v2);
            a1 = KernelRow(a1, v0, v1, v2, w20, w21, w22);
            a2 = KernelRow(a2, v0, v1, v2, w10, w11, w12);
            a3 = KernelRow(a3, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 3, height, width, first, last, out v0, out v1, out v2);
            a2 = KernelRow(a2, v0, v1, v2, w20, w21, w22);
            a3 = KernelRow(a3, v0, v1, v2, w10, w11, w12);
            a4 = KernelRow(a4, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 4, height, width, first, last, out v0, out v1, out v2);
            a3 = KernelRow(a3, v0, v1, v2, w20, w21, w22);
            a4 = KernelRow(a4, v0, v1, v2, w10, w11, w12);
            a5 = KernelRow(a5, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 5, height, width, first, last, out v0, out v1, out v2);
            a4 = KernelRow(a4, v0, v1, v2, w20, w21, w22);
            a5 = KernelRow(a5, v0, v1, v2, w10, w11, w12);
            a6 = KernelRow(a6, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 6, height, width, first, last, out v0, out v1, out v2);
            a5 = KernelRow(a5, v0, v1, v2, w20, w21, w22);
            a6 = KernelRow(a6, v0, v1, v2, w10, w11, w12);
            a7 = KernelRow(a7, v0, v1, v2, w00, w01, w02);
            ShiftsOfRow(ref input, oy + 7, height, width, first, last, out v0, out v1, out v2);
            a6 = KernelRow(a6, v0, v1, v2, w20, w21, w22);
            a7 = KernelRow(a7, v0, v1, v2, w10, w11, w12);
            ShiftsOfRow(ref input, oy + 8, height, width, first, last, out v0, out v1, out v2);
            a7 = KernelRow(a7, v0, v1, v2, w20, w21, w22);
            StoreEightRows(ref output, width, clamp.IsNone, Vector512.Create(clamp.Low), Vector512.Create(clamp.High), a0, a1, a2, a3, a4, a5, a6, a7);
        }
    }
}
