using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "lanes256 [prefixes]": stride-1 layers on Vector256 (machines without AVX-512), the flat channel-block tiles
    // (DirectConvolution's Vector256 direct kernel) against the output-channel lanes kernel (StridedConvolution's Vector256
    // tiles at stride 1) with its weights packed on the call and packed beforehand (as a layer keeps them), and F(4x4, 3x3)
    // / F(2x2, 5x5) on kept filters where they run; this thread's CPU time, best of 40 interleaved rounds. The basis of
    // DirectConvolution's Vector256 lanes rule and of WinogradF4Convolution's Vector256 rule on small maps.
    internal static class Lanes256Bench
    {
        public static void Run(string? only)
        {
            var shapes = new (int C, int H, int OC, int K, int P, bool Pool)[]
            {
                // VGG for CIFAR at batch 1 (2x2 to 8x8 maps), ResNet's 7x7 and 14x14, few-channel and wide layers.
                (256, 2, 256, 3, 1, false), (512, 2, 512, 3, 1, false), (128, 2, 128, 3, 1, false), (64, 2, 64, 3, 1, false),
                (256, 3, 256, 3, 1, false), (128, 3, 128, 3, 1, false),
                (128, 4, 256, 3, 1, false), (256, 4, 256, 3, 1, false), (512, 4, 512, 3, 1, false), (64, 4, 64, 3, 1, false), (32, 4, 32, 3, 1, false), (16, 4, 16, 3, 1, false),
                (128, 6, 128, 3, 1, false), (256, 6, 256, 3, 1, false), (64, 6, 64, 3, 1, false),
                (256, 7, 256, 3, 1, false), (512, 7, 512, 3, 1, false), (128, 7, 128, 3, 1, false),
                (64, 8, 128, 3, 1, false), (128, 8, 128, 3, 1, false), (256, 8, 256, 3, 1, false), (64, 8, 64, 3, 1, false), (16, 8, 32, 3, 1, false), (32, 8, 32, 3, 1, false),
                (32, 10, 64, 3, 0, false), (64, 12, 64, 3, 1, false),
                (32, 16, 64, 3, 1, false), (64, 16, 64, 3, 1, false), (128, 16, 128, 3, 1, false), (16, 16, 16, 3, 1, false), (16, 16, 32, 3, 1, false),
                (256, 14, 256, 3, 1, false), (128, 14, 128, 3, 1, false), (64, 14, 64, 3, 1, false),
                (16, 32, 16, 3, 1, false), (32, 32, 32, 3, 1, false), (3, 32, 32, 3, 1, false), (8, 16, 16, 3, 1, false), (8, 8, 16, 3, 1, false),
                // 5x5: LeNet-5's second layer (pooled), and wider ones.
                (6, 14, 16, 5, 0, true), (6, 14, 16, 5, 0, false), (16, 12, 16, 5, 0, false), (16, 8, 32, 5, 2, false), (32, 8, 64, 5, 2, false), (64, 4, 128, 5, 2, false),
                (16, 10, 32, 5, 0, false), (8, 14, 16, 5, 2, false),
                // Pooled 3x3 (VGG's conv, ReLU, pool fused).
                (128, 4, 256, 3, 1, true), (64, 8, 128, 3, 1, true), (32, 16, 64, 3, 1, true),
            };
            Console.WriteLine($"{"layer (us per call, CPU)",-28} {"flat",9} {"lanes",9} {"kept",9} {"F(4x4)",9} {"kept x",7} {"F4/kept",8} {"picked",7}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} k{s.K} p{s.P}{(s.Pool ? " pool" : "")}";
                if (!Program.Selected(name, only)) continue;
                int o = s.H + 2 * s.P - s.K + 1, taps = s.C * s.K * s.K;
                float[] x = Program.Fill(s.C * s.H * s.H, 4), w = Program.Fill(s.OC * taps, 5), bias = Program.Fill(s.OC, 6);
                float[] y = new float[s.OC * o * o], packed = new float[s.OC * taps];
                DirectConvolution.PackLanes(w, s.OC, taps, packed);
                DirectConvolution.Lanes256Everywhere = true;
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, s.P)];
                DirectConvolution.Lanes256Everywhere = false;
                var path = DirectConvolution.KernelPath.Vector256;
                Action flat = () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, s.K, s.P, y, scratch, relu: true, s.Pool, path, allowWinograd: false, allowLanes: false);
                Action lanes = () =>
                {
                    DirectConvolution.Lanes256Everywhere = true;
                    DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, s.K, s.P, y, scratch, relu: true, s.Pool, path, allowWinograd: false);
                    DirectConvolution.Lanes256Everywhere = false;
                };
                Action kept = () =>
                {
                    DirectConvolution.Lanes256Everywhere = true;
                    DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, s.K, s.P, y, scratch, relu: true, s.Pool, path, allowWinograd: false, packedLanes: packed);
                    DirectConvolution.Lanes256Everywhere = false;
                };
                bool winograd = WinogradF4Convolution.Runs(s.K) && s.C >= DirectConvolution.MinimumWinogradChannels && s.OC >= DirectConvolution.MinimumWinogradChannels;
                double f4 = double.NaN;
                double[] t;
                if (winograd)
                {
                    var layout = new WinogradF4Convolution.Layout(s.C, s.H, s.H, s.OC, s.P, s.K);
                    float[] filters = new float[layout.FiltersLength], scratch4 = new float[layout.ScratchLength];
                    WinogradF4Convolution.TransformFilters(w, filters, layout);
                    t = Program.InterleavedCpuAll(flat, lanes, kept, () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch4, relu: true, s.Pool, layout));
                    f4 = t[3];
                }
                else t = Program.InterleavedCpuAll(flat, lanes, kept);
                string rule = DirectConvolution.ForwardByWinograd(s.C, s.H, s.H, s.OC, s.K, s.P) ? "F4"
                    : DirectConvolution.UsesLanes(s.C, s.H, s.H, s.OC, s.K, s.P, path) ? "lanes" : "flat";
                Console.WriteLine($"{name,-28} {t[0] * 1e6,9:F2} {t[1] * 1e6,9:F2} {t[2] * 1e6,9:F2} {t[0] / t[2],6:F2}x {f4 / t[2],7:F2}x {rule,7}");
            }
        }
    }
}
