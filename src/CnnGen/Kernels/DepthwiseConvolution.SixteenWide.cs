using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// 3x3 stride-1 depthwise layers on maps exactly 16 cells wide (MobileNet-style networks at CIFAR sizes), read in place:
    /// each input row is one Vector512, its neighbours' columns made by shifting in a zero (valignd), the rows above and
    /// below the map a zero vector. The row kernel (<see cref="Rows3x3512"/>) first copies every channel into a padded plane
    /// and reads each row as two vectors; here there is no copy.
    /// </summary>
    /// <remarks>
    /// The same tiles as the row kernel's (eight output rows, each of the ten input rows' three column shifts fed to the up
    /// to three output rows that read it), the same products in the same order, and the padding's zeros added as the
    /// padded plane adds them: the two give the same bits. KernelBench depthwise-loop 64 16 3 1 1 (+ReLU6, thread CPU,
    /// 2026-12-07, Zen 4, the row kernel / this): see <see cref="SixteenWidePays"/>.
    /// </remarks>
    internal static partial class DepthwiseConvolution
    {
        /// <summary>Whether the in-place 16-wide kernel takes this geometry (AVX-512): 3x3, stride 1, undilated, padding 1, 16 x 8k maps.</summary>
        internal static bool SixteenWidePays(in ConvolutionGeometry g) =>
            SixteenWideEnabled && Avx512F.IsSupported && g.GroupInChannels == 1 && g.KernelHeight == 3 && g.KernelWidth == 3
            && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.PaddingHeight == 1 && g.PaddingWidth == 1 && g.InWidth == 16 && g.InHeight % 8 == 0;

        /// <summary>Whether the 16-wide kernel may run (KernelBench and the tests turn it off to compare with the row kernel).</summary>
        internal static bool SixteenWideEnabled { get; set; } = true;

        /// <summary>The forward pass by the in-place 16-wide kernel (<see cref="SixteenWidePays"/> must hold). Needs no scratch.</summary>
        internal static void ForwardSixteenWide(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, float low, float high)
        {
            if (!SixteenWidePays(g)) throw new InvalidOperationException("The 16-wide depthwise kernel does not take this geometry here.");
            if (x.Length < g.InLength || y.Length < g.OutLength || weight.Length < g.WeightLength || !bias.IsEmpty && bias.Length < g.OutChannels)
                throw new ArgumentException("A span is shorter than the geometry needs.");
            var clamp = new OutputClamp(low, high);
            int height = g.InHeight, plane = height * 16, multiplier = g.GroupOutChannels;
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
                        EightRowsSixteenWide(ref input, oy, height, ref w, b, clamp, ref Unsafe.Add(ref output, oy * 16));
                }
            }
        }

        // Input row r's three column shifts (columns −1, 0, +1 of each output cell): zero outside the map.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ShiftsOfRow(ref float input, int r, int height, out Vector512<float> left, out Vector512<float> middle, out Vector512<float> right)
        {
            var cells = (uint)r < (uint)height ? Vector512.LoadUnsafe(ref input, (nuint)(r * 16)).AsUInt32() : Vector512<uint>.Zero;
            left = Avx512F.AlignRight32(cells, Vector512<uint>.Zero, 15).AsSingle();   // lane i: cell i − 1, lane 0: 0
            middle = cells.AsSingle();
            right = Avx512F.AlignRight32(Vector512<uint>.Zero, cells, 1).AsSingle();   // lane i: cell i + 1, lane 15: 0
        }

        // Output rows oy..oy+7 of one channel: input rows oy−1..oy+8, each feeding the output rows under its kernel rows.
        private static void EightRowsSixteenWide(ref float input, int oy, int height, ref float w, float bias, OutputClamp clamp, ref float output)
        {
            var w00 = Vector512.Create(w); var w01 = Vector512.Create(Unsafe.Add(ref w, 1)); var w02 = Vector512.Create(Unsafe.Add(ref w, 2));
            var w10 = Vector512.Create(Unsafe.Add(ref w, 3)); var w11 = Vector512.Create(Unsafe.Add(ref w, 4)); var w12 = Vector512.Create(Unsafe.Add(ref w, 5));
            var w20 = Vector512.Create(Unsafe.Add(ref w, 6)); var w21 = Vector512.Create(Unsafe.Add(ref w, 7)); var w22 = Vector512.Create(Unsafe.Add(ref w, 8));
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            Vector512<float> v0, v1, v2;
            ShiftsOfRow(ref input, oy - 1, height, out v0, out v1, out v2);
            a0 = Fused.MultiplyAdd(v0, w00, a0); a0 = Fused.MultiplyAdd(v1, w01, a0); a0 = Fused.MultiplyAdd(v2, w02, a0);
            ShiftsOfRow(ref input, oy, height, out v0, out v1, out v2);
            a0 = Fused.MultiplyAdd(v0, w10, a0); a0 = Fused.MultiplyAdd(v1, w11, a0); a0 = Fused.MultiplyAdd(v2, w12, a0);
            a1 = Fused.MultiplyAdd(v0, w00, a1); a1 = Fused.MultiplyAdd(v1, w01, a1); a1 = Fused.MultiplyAdd(v2, w02, a1);
            ShiftsOfRow(ref input, oy + 1, height, out v0, out v1, out v2);
            a0 = Fused.MultiplyAdd(v0, w20, a0); a0 = Fused.MultiplyAdd(v1, w21, a0); a0 = Fused.MultiplyAdd(v2, w22, a0);
            a1 = Fused.MultiplyAdd(v0, w10, a1); a1 = Fused.MultiplyAdd(v1, w11, a1); a1 = Fused.MultiplyAdd(v2, w12, a1);
            a2 = Fused.MultiplyAdd(v0, w00, a2); a2 = Fused.MultiplyAdd(v1, w01, a2); a2 = Fused.MultiplyAdd(v2, w02, a2);
            ShiftsOfRow(ref input, oy + 2, height, out v0, out v1, out v2);
            a1 = Fused.MultiplyAdd(v0, w20, a1); a1 = Fused.MultiplyAdd(v1, w21, a1); a1 = Fused.MultiplyAdd(v2, w22, a1);
            a2 = Fused.MultiplyAdd(v0, w10, a2); a2 = Fused.MultiplyAdd(v1, w11, a2); a2 = Fused.MultiplyAdd(v2, w12, a2);
            a3 = Fused.MultiplyAdd(v0, w00, a3); a3 = Fused.MultiplyAdd(v1, w01, a3); a3 = Fused.MultiplyAdd(v2, w02, a3);
            ShiftsOfRow(ref input, oy + 3, height, out v0, out v1, out v2);
            a2 = Fused.MultiplyAdd(v0, w20, a2); a2 = Fused.MultiplyAdd(v1, w21, a2); a2 = Fused.MultiplyAdd(v2, w22, a2);
            a3 = Fused.MultiplyAdd(v0, w10, a3); a3 = Fused.MultiplyAdd(v1, w11, a3); a3 = Fused.MultiplyAdd(v2, w12, a3);
            a4 = Fused.MultiplyAdd(v0, w00, a4); a4 = Fused.MultiplyAdd(v1, w01, a4); a4 = Fused.MultiplyAdd(v2, w02, a4);
            ShiftsOfRow(ref input, oy + 4, height, out v0, out v1, out v2);
            a3 = Fused.MultiplyAdd(v0, w20, a3); a3 = Fused.MultiplyAdd(v1, w21, a3); a3 = Fused.MultiplyAdd(v2, w22, a3);
            a4 = Fused.MultiplyAdd(v0, w10, a4); a4 = Fused.MultiplyAdd(v1, w11, a4); a4 = Fused.MultiplyAdd(v2, w12, a4);
            a5 = Fused.MultiplyAdd(v0, w00, a5); a5 = Fused.MultiplyAdd(v1, w01, a5); a5 = Fused.MultiplyAdd(v2, w02, a5);
            ShiftsOfRow(ref input, oy + 5, height, out v0, out v1, out v2);
            a4 = Fused.MultiplyAdd(v0, w20, a4); a4 = Fused.MultiplyAdd(v1, w21, a4); a4 = Fused.MultiplyAdd(v2, w22, a4);
            a5 = Fused.MultiplyAdd(v0, w10, a5); a5 = Fused.MultiplyAdd(v1, w11, a5); a5 = Fused.MultiplyAdd(v2, w12, a5);
            a6 = Fused.MultiplyAdd(v0, w00, a6); a6 = Fused.MultiplyAdd(v1, w01, a6); a6 = Fused.MultiplyAdd(v2, w02, a6);
            ShiftsOfRow(ref input, oy + 6, height, out v0, out v1, out v2);
            a5 = Fused.MultiplyAdd(v0, w20, a5); a5 = Fused.MultiplyAdd(v1, w21, a5); a5 = Fused.MultiplyAdd(v2, w22, a5);
            a6 = Fused.MultiplyAdd(v0, w10, a6); a6 = Fused.MultiplyAdd(v1, w11, a6); a6 = Fused.MultiplyAdd(v2, w12, a6);
            a7 = Fused.MultiplyAdd(v0, w00, a7); a7 = Fused.MultiplyAdd(v1, w01, a7); a7 = Fused.MultiplyAdd(v2, w02, a7);
            ShiftsOfRow(ref input, oy + 7, height, out v0, out v1, out v2);
            a6 = Fused.MultiplyAdd(v0, w20, a6); a6 = Fused.MultiplyAdd(v1, w21, a6); a6 = Fused.MultiplyAdd(v2, w22, a6);
            a7 = Fused.MultiplyAdd(v0, w10, a7); a7 = Fused.MultiplyAdd(v1, w11, a7); a7 = Fused.MultiplyAdd(v2, w12, a7);
            ShiftsOfRow(ref input, oy + 8, height, out v0, out v1, out v2);
            a7 = Fused.MultiplyAdd(v0, w20, a7); a7 = Fused.MultiplyAdd(v1, w21, a7); a7 = Fused.MultiplyAdd(v2, w22, a7);
            StoreEightRows(ref output, 16, clamp.IsNone, Vector512.Create(clamp.Low), Vector512.Create(clamp.High), a0, a1, a2, a3, a4, a5, a6, a7);
        }
    }
}
