using System;
using System.Collections.Generic;
using CnnGen.Kernels;

namespace KernelBench
{
    // "mbv1 [layer prefix]": MobileNetV1-style 3x112x112's layers at batch 1 as its evaluation runs them (batch-norm folded
    // into a bias, ReLU in the kernel), this thread's CPU µs, best of interleaved rounds, with the kernel the rules pick and
    // its GFLOP/s; each layer as it runs now against session 16's knobs turned off (PhaseSplit.ByPairs,
    // StridedConvolution.MarginsOnly; a layer they do not touch is timed against itself: the columns then show the spread).
    // "mbv1 networks": whole designs' evaluation at batch 1, the same knobs on against off.
    public static class Mbv1Layers
    {
        private sealed record Layer(string Name, double Flops, Func<string> Kernel, Action<bool> Run);

        public static void Run(string? prefix)
        {
            if (prefix == "networks")
            {
                // Whole designs at batch 1 (PointwiseEval's list), this session's knobs on against off.
                PointwiseEval.Networks(on => Before(!on), "before us");
                return;
            }
            float[] x = Program.Fill(144 * 40 * 40 + 24 * 112 * 112, 1), stemInput = Program.Fill(3 * 224 * 224, 2), w = Program.Fill(256 * 256, 3), b = Program.Fill(256, 4);
            float[] y = new float[32 * 112 * 112], scratch = new float[1 << 20];
            var path = DirectConvolution.KernelPath.Vector512;
            var layers = new List<Layer>();

            // The stem: 3x3 stride 2, 3 -> 16, prepared (packed) weights as evaluation keeps them.
            float[] stemPrepared = new float[StridedConvolution.PreparedLength(3, 112, 112, 16, 3, 2, 1)];
            StridedConvolution.Prepare(w.AsSpan(0, 16 * 27), b.AsSpan(0, 16), 3, 112, 112, 16, 3, 2, 1, stemPrepared);
            layers.Add(new Layer("stem 3x3 s2 3->16 @112", 2.0 * 16 * 56 * 56 * 27, () => "StridedConvolution (phases)",
                variant => StridedConvolution.ForwardPrepared(stemInput, 3, 112, 112, stemPrepared, 16, 3, 2, 1, y, scratch, relu: true)));

            void Depthwise(int c, int h, int s, int k = 3, string what = "")
            {
                var g = new ConvolutionGeometry(c, h, h, c, k, k, s, s, k / 2, k / 2, 1, 1, c);
                layers.Add(new Layer($"dw{(s == 2 ? " s2" : "")}{(k == 3 ? "" : " k" + k)} {c} @{h}{what}", 2.0 * c * g.OutHeight * g.OutWidth * k * k, () => DepthwiseKernel(g),
                    variant => DepthwiseConvolution.Forward(g, x, w.AsSpan(0, c * k * k), b.AsSpan(0, c), y, scratch, path, 0f, float.PositiveInfinity)));
            }

            // Other designs' stems on the phases kernel (MobileNetV2's 3x32x32, MobileNetV3-style's 3x64x64).
            void Stem(int h, int oc, string what)
            {
                float[] prepared = new float[StridedConvolution.PreparedLength(3, h, h, oc, 3, 2, 1)];
                StridedConvolution.Prepare(w.AsSpan(0, oc * 27), b.AsSpan(0, oc), 3, h, h, oc, 3, 2, 1, prepared);
                layers.Add(new Layer($"stem 3x3 s2 3->{oc} @{h}{what}", 2.0 * oc * (h / 2) * (h / 2) * 27, () => "StridedConvolution",
                    variant => StridedConvolution.ForwardPrepared(stemInput, 3, h, h, prepared, oc, 3, 2, 1, y, scratch, relu: true)));
            }

            void Pointwise(int c, int oc, int h) =>
                layers.Add(new Layer($"1x1 {c}->{oc} @{h}", 2.0 * c * oc * h * h, () => "PointwiseConvolution",
                    variant => PointwiseConvolution.Forward(x, c, h * h, w.AsSpan(0, oc * c), b.AsSpan(0, oc), oc, y, 0f, float.PositiveInfinity)));

            Depthwise(16, 56, 1); Pointwise(16, 32, 56);
            Depthwise(32, 56, 2); Pointwise(32, 64, 28);
            Depthwise(64, 28, 2); Pointwise(64, 128, 14);
            Depthwise(128, 14, 1); Pointwise(128, 128, 14);
            Depthwise(128, 14, 2); Pointwise(128, 256, 7);
            Depthwise(256, 7, 1); Pointwise(256, 256, 7);
            // Elsewhere: rows of 32+ columns at stride 2 in other designs.
            Stem(32, 16, " (V2)"); Stem(64, 16, " (V3)"); Stem(224, 32, "");
            Depthwise(72, 32, 2, 5, " (V3)"); Depthwise(64, 32, 2); Depthwise(24, 112, 2); Depthwise(144, 40, 2);

            Console.WriteLine($"{"layer (+ReLU)",-26} {"kernel",-30} {"now us",8} {"before",8} {"ratio",6} {"GFLOP/s",8}");
            double total = 0, totalVariant = 0;
            foreach (var layer in layers)
            {
                if (prefix is not null && !layer.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var (rule, variant) = Program.InterleavedCpu(() => { Before(false); layer.Run(false); }, () => { Before(true); layer.Run(true); });
                Before(false);
                total += rule;
                totalVariant += variant;
                Console.WriteLine($"{layer.Name,-26} {layer.Kernel(),-30} {rule * 1e6,8:F2} {variant * 1e6,8:F2} {rule / variant,6:F2} {layer.Flops / rule / 1e9,8:F1}");
            }
            Console.WriteLine($"{"sum",-26} {"",-30} {total * 1e6,8:F2} {totalVariant * 1e6,8:F2} {total / totalVariant,6:F2}");
        }

        private static void Before(bool before)
        {
            PhaseSplit.ByPairs = !before;
            StridedConvolution.MarginsOnly = !before;
        }

        private static string DepthwiseKernel(in ConvolutionGeometry g)
        {
            if (DepthwiseConvolution.FlatPlanePays(g)) return "depthwise flat plane";
            if (DepthwiseConvolution.FlatPhasesPays(g)) return "depthwise flat phases";
            if (DepthwiseConvolution.WholePlanePays(g, true)) return "depthwise whole plane";
            if (DepthwiseConvolution.UnpaddedPays(g)) return "depthwise unpadded";
            return "depthwise rows (padded copy)";
        }
    }
}
