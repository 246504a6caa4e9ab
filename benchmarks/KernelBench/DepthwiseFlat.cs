using System;
using CnnGen;
using CnnGen.Kernels;

namespace KernelBench
{
    // "depthwise-flat [prefix]": the depthwise forward (+ReLU6) on small maps, stride 1 and 2: what ran before the flat-plane kernel
    // (the whole-plane, unpadded or padded row kernel, as DepthwiseConvolution picked them on Vector512) against the flat-plane
    // kernel (stride 2: over phase planes), this thread's CPU µs, best of interleaved rounds (the basis of
    // DepthwiseConvolution.FlatPlanePays and FlatPhasesPays).
    public static class DepthwiseFlat
    {
        private static readonly (int C, int H, int K, int S)[] Shapes =
        {
            (256, 7, 3, 1), (512, 7, 3, 1), (480, 7, 5, 1), (96, 7, 3, 1), (128, 14, 3, 1), (256, 14, 3, 1), (96, 14, 3, 1), (672, 14, 5, 1),
            (64, 15, 3, 1), (64, 13, 3, 1), (160, 10, 3, 1), (200, 9, 3, 1), (40, 12, 5, 1), (96, 12, 3, 1), (96, 11, 3, 1), (96, 5, 3, 1),
            (96, 6, 3, 1), (96, 8, 3, 1), (64, 16, 3, 1), (96, 4, 3, 1), (120, 14, 5, 1), (40, 14, 5, 1), (240, 12, 5, 1), (96, 10, 5, 1),
            (96, 9, 5, 1), (672, 7, 5, 1), (96, 5, 5, 1), (256, 13, 3, 1), (32, 13, 3, 1), (32, 14, 3, 1), (576, 12, 3, 1),
            (128, 14, 3, 2), (576, 14, 3, 2), (48, 13, 3, 2), (64, 28, 3, 2), (32, 56, 3, 2), (256, 8, 3, 2), (96, 16, 3, 2),
            (144, 16, 3, 2), (64, 32, 3, 2), (24, 37, 3, 2), (240, 16, 5, 2), (72, 32, 5, 2), (672, 14, 5, 2), (96, 11, 3, 2),
            (40, 20, 3, 2), (160, 20, 5, 2),
        };

        public static void Run(string? prefix)
        {
            float[] x = Program.Fill(672 * 16 * 16, 1), w = Program.Fill(672 * 25, 2), b = Program.Fill(672, 3), y = new float[672 * 16 * 16];
            float[] scratch = new float[1 << 20];
            Console.WriteLine($"{"depthwise + ReLU6 (C x H x H, kernel)",-36} {"before",8} {"flat",8} {"ratio",6}  (us)");
            foreach (var s in Shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, s.K, s.K, s.S, s.S, s.K / 2, s.K / 2, 1, 1, s.C);
                if (s.S == 1 ? !DepthwiseConvolution.FlatPlaneApplies(g) : !DepthwiseConvolution.FlatPhasesApplies(g)) continue;
                Action flatPlane = s.S == 1
                    ? () => DepthwiseConvolution.ForwardFlatPlane(g, x, w, b, y, 0f, 6f)
                    : () => DepthwiseConvolution.ForwardFlatPhases(g, x, w, b, y, scratch, 0f, 6f);
                var (before, flat) = Program.InterleavedCpu(() => Before(g, x, w, b, y, scratch), flatPlane);
                Console.WriteLine($"{name,-36} {before * 1e6,8:F2} {flat * 1e6,8:F2} {before / flat,6:F2}");
            }
        }

        // DepthwiseConvolution.Forward's choice on Vector512 without the flat-plane kernel.
        private static void Before(in ConvolutionGeometry g, float[] x, float[] w, float[] b, float[] y, float[] scratch)
        {
            if (DepthwiseConvolution.WholePlanePays(g, true)) WholePlaneDepthwise.Forward(g, x, w, b, y, scratch, 0f, 6f);
            else if (DepthwiseConvolution.UnpaddedPays(g)) DepthwiseConvolution.ForwardUnpadded(g, x, w, b, y, g.StrideWidth == 1, 0f, 6f);
            else DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f);
        }
    }
}
