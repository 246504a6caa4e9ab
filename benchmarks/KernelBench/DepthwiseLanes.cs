using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "depthwise-lanes [prefix]": the depthwise forward (+ReLU6) as DepthwiseConvolution picks it without the lanes kernel against
    // the lanes kernel (16 channels in the vector lanes), this thread's CPU µs, best of interleaved rounds, after checking the
    // two agree bit for bit (the basis of DepthwiseConvolution.LanesPays).
    public static class DepthwiseLanes
    {
        private static readonly (int C, int H, int K, int S)[] Shapes =
        {
            // MobileNetV1-style 3x112x112, MobileNetV2 (CIFAR), MobileNetV3-style, other MobileNets' layers.
            (16, 56, 3, 1), (32, 56, 3, 2), (64, 28, 3, 2), (128, 14, 3, 1), (128, 14, 3, 2), (256, 7, 3, 1),
            (64, 16, 3, 1), (64, 16, 3, 2), (32, 16, 3, 2), (96, 16, 3, 2), (144, 8, 3, 1), (144, 16, 3, 2), (192, 8, 3, 1), (384, 4, 3, 1), (64, 32, 3, 2),
            (72, 32, 5, 2), (120, 16, 5, 1), (240, 16, 5, 2), (480, 8, 5, 1), (672, 7, 5, 1), (672, 14, 5, 2),
            (32, 112, 3, 1), (96, 112, 3, 2), (144, 56, 3, 1), (144, 56, 3, 2), (192, 28, 3, 1), (192, 28, 3, 2), (384, 14, 3, 1),
            (576, 14, 3, 1), (576, 14, 3, 2), (960, 7, 3, 1), (512, 7, 3, 1), (48, 13, 3, 2), (24, 37, 3, 2), (40, 20, 3, 2),
            (160, 10, 3, 1), (96, 12, 3, 1), (256, 8, 3, 2), (32, 32, 3, 1), (48, 24, 3, 1),
            // 7x7 and 5x5 at stride 1, ConvNeXt-style and MobileNetV3/EfficientNet-style (session 25).
            (96, 8, 7, 1), (192, 8, 7, 1), (384, 4, 7, 1), (192, 7, 7, 1), (96, 14, 7, 1), (48, 16, 7, 1), (96, 16, 7, 1), (48, 32, 7, 1),
            (384, 14, 7, 1), (768, 7, 7, 1), (96, 28, 7, 1), (96, 12, 7, 1), (96, 10, 7, 1), (96, 13, 7, 1), (96, 15, 7, 1), (96, 7, 7, 1),
            (96, 14, 5, 1), (480, 14, 5, 1), (96, 28, 5, 1), (96, 12, 5, 1), (96, 10, 5, 1), (96, 7, 5, 1),
            // 5x5 onto 4x4 and 8x8 maps, MnasNet-style on 3x64x64 and EfficientNet-B0's late stages (session 28).
            (480, 4, 5, 1), (240, 4, 5, 1), (960, 4, 5, 1), (240, 8, 5, 2), (480, 8, 5, 2), (72, 16, 5, 2), (120, 8, 5, 1), (240, 8, 5, 1),
            (672, 14, 5, 2), (1152, 7, 5, 1), (96, 8, 5, 1), (384, 8, 3, 2), (384, 4, 3, 1), (768, 4, 3, 1), (96, 4, 7, 1),
            (240, 5, 5, 1), (240, 6, 5, 1), (96, 5, 7, 1), (96, 6, 7, 1), (240, 10, 5, 2), (240, 12, 5, 2), (96, 16, 7, 2), (96, 12, 7, 2), (96, 32, 5, 2),
            (48, 8, 7, 1), (384, 8, 7, 1), (768, 8, 7, 1), (64, 16, 7, 1), (192, 16, 7, 1),
        };

        // "depthwise-lanes loop C H K S SECONDS": the lanes kernel alone over and over, for perf.
        public static void Loop(int c, int h, int k, int s, double seconds)
        {
            var g = new ConvolutionGeometry(c, h, h, c, k, k, s, s, k / 2, k / 2, 1, 1, c);
            float[] x = Program.Fill(g.InLength, 1), w = Program.Fill(g.WeightLength, 2), b = Program.Fill(c, 3), y = new float[g.OutLength];
            float[] scratch = new float[Math.Max(DepthwiseConvolution.ScratchLength(g), DepthwiseConvolution.LanesScratchLength(g))];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long calls = 0;
            while (clock.Elapsed.TotalSeconds < seconds) { DepthwiseConvolution.ForwardLanes(g, x, w, b, y, scratch, 0f, 6f); calls++; }
            Console.WriteLine($"{clock.Elapsed.TotalMilliseconds * 1e3 / calls:F2} us a call");
        }

        // "depthwise-lanes networks": eval-cpu's networks at batch 1, the lanes kernel on against off, this thread's CPU µs
        // per image, best of 40 interleaved rounds (only networks with a layer it takes change).
        public static void Networks(System.Collections.Generic.IEnumerable<(string Name, Func<CnnGen.INetwork> Create)> networks)
        {
            Console.WriteLine($"{"network, batch 1",-36} {"before",8} {"lanes",8} {"ratio",6}  (us)");
            foreach (var (name, create) in networks)
            {
                var network = create();
                var workspace = network.CreateWorkspace(1);
                float[] image = Program.Fill(network.Layout.Input.Length, 6), output = new float[network.Layout.Output.Length];
                // Both orders (the first of a pair ran 2-4% faster on networks the switch does not touch), each network's best.
                var (before, after) = Program.InterleavedCpu(
                    () => { DepthwiseConvolution.LanesEnabled = false; network.Forward(image, output, 1, workspace); },
                    () => { DepthwiseConvolution.LanesEnabled = true; network.Forward(image, output, 1, workspace); });
                var (after2, before2) = Program.InterleavedCpu(
                    () => { DepthwiseConvolution.LanesEnabled = true; network.Forward(image, output, 1, workspace); },
                    () => { DepthwiseConvolution.LanesEnabled = false; network.Forward(image, output, 1, workspace); });
                before = Math.Min(before, before2);
                after = Math.Min(after, after2);
                DepthwiseConvolution.LanesEnabled = true;
                Console.WriteLine($"{name,-36} {before * 1e6,8:F2} {after * 1e6,8:F2} {before / after,6:F2}");
            }
        }

        public static void Run(string? prefix)
        {
            var random = new Random(5);
            float[] x = Program.Fill(144 * 56 * 56 + 96 * 112 * 112, 1), w = Program.Fill(1152 * 49, 2), b = Program.Fill(1152, 3);
            float[] y = new float[144 * 56 * 56 + 32 * 112 * 112], lanes = new float[y.Length];
            Console.WriteLine($"{"depthwise + ReLU6 (C x H x H, kernel)",-36} {"before",8} {"lanes",8} {"ratio",6}  (us)");
            foreach (var s in Shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, s.K, s.K, s.S, s.S, s.K / 2, s.K / 2, 1, 1, s.C);
                if (!DepthwiseConvolution.LanesApplies(g)) continue;
                float[] scratch = new float[Math.Max(DepthwiseConvolution.ScratchLength(g), DepthwiseConvolution.LanesScratchLength(g))];
                Picked(g, x, w, b, y, scratch, lanes: false);
                Picked(g, x, w, b, lanes, scratch, lanes: true);
                for (int i = 0; i < g.OutLength; i++)
                    if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(lanes[i])) throw new InvalidOperationException($"{name}: output {i} differs: {y[i]} against {lanes[i]}");
                var (before, after) = Program.InterleavedCpu(() => Picked(g, x, w, b, y, scratch, lanes: false), () => Picked(g, x, w, b, lanes, scratch, lanes: true));
                Console.WriteLine($"{name,-36} {before * 1e6,8:F2} {after * 1e6,8:F2} {before / after,6:F2}");
            }
            DepthwiseConvolution.LanesEnabled = true;
        }

        private static void Picked(in ConvolutionGeometry g, float[] x, float[] w, float[] b, float[] y, float[] scratch, bool lanes)
        {
            if (lanes)
            {
                DepthwiseConvolution.ForwardLanes(g, x, w, b, y, scratch, 0f, 6f);
                return;
            }
            DepthwiseConvolution.LanesEnabled = false;
            DepthwiseConvolution.Forward(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f);
            DepthwiseConvolution.LanesEnabled = true;
        }
    }
}
