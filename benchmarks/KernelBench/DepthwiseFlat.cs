using System;
using CnnGen;
using CnnGen.Kernels;

namespace KernelBench
{
    // "depthwise-flat [prefix]": the depthwise forward (+ReLU6) on small stride-1 maps: what ran before the flat-plane kernel
    // (the whole-plane, unpadded or padded row kernel, as DepthwiseConvolution picked them on Vector512) against the flat-plane
    // kernel, this thread's CPU µs, best of interleaved rounds (the basis of DepthwiseConvolution.FlatPlanePays).
    public static class DepthwiseFlat
    {
        private static readonly (int C, int H, int K)[] Shapes =
        {
            (256, 7, 3), (512, 7, 3), (480, 7, 5), (96, 7, 3), (128, 14, 3), (256, 14, 3), (96, 14, 3), (672, 14, 5),
            (64, 15, 3), (64, 13, 3), (160, 10, 3), (200, 9, 3), (40, 12, 5), (96, 12, 3), (96, 11, 3), (96, 5, 3),
            (96, 6, 3), (96, 8, 3), (64, 16, 3), (96, 4, 3), (120, 14, 5), (40, 14, 5), (240, 12, 5), (96, 10, 5), (96, 9, 5),
            (672, 7, 5), (96, 5, 5), (256, 13, 3), (32, 13, 3), (32, 14, 3), (576, 12, 3),
        };

        public static void Run(string? prefix)
        {
            float[] x = Program.Fill(672 * 16 * 16, 1), w = Program.Fill(672 * 25, 2), b = Program.Fill(672, 3), y = new float[672 * 16 * 16];
            float[] scratch = new float[1 << 20];
            Console.WriteLine($"{"depthwise + ReLU6 (C x H x H, kernel)",-36} {"before",8} {"flat",8} {"ratio",6}  (us)");
            foreach (var s in Shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} k{s.K}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, s.K, s.K, 1, 1, s.K / 2, s.K / 2, 1, 1, s.C);
                if (!DepthwiseConvolution.FlatPlaneApplies(g)) continue;
                var (before, flat) = Program.InterleavedCpu(() => Before(g, x, w, b, y, scratch), () => DepthwiseConvolution.ForwardFlatPlane(g, x, w, b, y, 0f, 6f));
                Console.WriteLine($"{name,-36} {before * 1e6,8:F2} {flat * 1e6,8:F2} {before / flat,6:F2}");
            }
        }

        // DepthwiseConvolution.Forward's choice on Vector512 without the flat-plane kernel.
        private static void Before(in ConvolutionGeometry g, float[] x, float[] w, float[] b, float[] y, float[] scratch)
        {
            if (DepthwiseConvolution.WholePlanePays(g, true)) WholePlaneDepthwise.Forward(g, x, w, b, y, scratch, 0f, 6f);
            else if (DepthwiseConvolution.UnpaddedPays(g)) DepthwiseConvolution.ForwardUnpadded(g, x, w, b, y, true, 0f, 6f);
            else DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f);
        }
    }
}
