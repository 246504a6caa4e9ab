using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "wgrad-shared": a training pass's 3x3 stride-1 backward over 16 samples (both gradients, the weight gradient summed over
    // the samples, the input gradient's Winograd filters transformed once), µs per sample in this thread's CPU time, best of 40
    // interleaved rounds: the weight gradient blocking d y itself against reading it where the input gradient's F(4x4) blocked
    // it (DirectConvolution.SharesBlockedOutputGradient).
    public static class SharedOutputGradient
    {
        public static void Run(string? only)
        {
            const int samples = 16;
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 32, 16, 1), (32, 16, 32, 1), (64, 8, 64, 1), (32, 32, 32, 1), (64, 16, 64, 1), (128, 8, 128, 1), (256, 4, 256, 1),
                (16, 16, 16, 1), (128, 16, 128, 1), (24, 15, 40, 1), (20, 9, 36, 1), (16, 8, 16, 1), (32, 8, 32, 1), (64, 6, 64, 1),
                (64, 4, 64, 1), (128, 4, 128, 1), (16, 64, 16, 1), (32, 18, 32, 0), (64, 10, 64, 0),
            };
            Console.WriteLine($"{"3x3 backward, 16 samples",-26} {"own blocks us",14} {"shared us",10} {"own/shared",11} {"shares",7}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = s.H + 2 * s.P - 2, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                int productsLength = DirectConvolution.WeightGradientProductsLength(s.C, s.H, s.H, s.OC, 3, s.P);
                int filtersLength = DirectConvolution.WinogradFiltersLength(s.C, s.H, s.H, s.OC, 3, s.P);
                if (productsLength == 0 || filtersLength == 0) { Console.WriteLine($"{name,-26} (not both by Winograd)"); continue; }
                float[] x = Program.Fill(samples * inLength, 4), w = Program.Fill(s.OC * s.C * 9, 5), dy = Program.Fill(samples * outLength, 6);
                float[] dw = new float[s.OC * s.C * 9], dx = new float[samples * inLength], products = new float[productsLength], filters = new float[filtersLength];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                DirectConvolution.TransformFiltersForInputGradient(w, s.C, s.H, s.H, s.OC, 3, s.P, filters);
                Action Pass(bool share) => () =>
                {
                    for (int n = 0; n < samples; n++)
                        DirectConvolution.BackwardOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, 3, s.P,
                            dw, dx.AsSpan(n * inLength, inLength), scratch, KernelPaths.Default, filters, weightGradientProducts: products, sample: n, samples: samples,
                            shareBlockedOutputGradient: share);
                };
                var (own, shared) = Program.InterleavedCpu(Pass(false), Pass(true));
                bool shares = scratch.Length > 0 && SharesNow(s.C, s.H, s.OC, s.P);
                Console.WriteLine($"{name,-26} {own / samples * 1e6,14:F2} {shared / samples * 1e6,10:F2} {own / shared,10:F2}x {(shares ? "yes" : "no"),7}");
            }
        }

        // "wgrad-shared resnet8": ResNet-8's training forward and backward over one thread's chunk of 32 samples, µs per image in
        // this thread's CPU time, best of 20 interleaved rounds, the sharing turned off and on (DirectConvolution.SharedOutputGradientInPasses).
        public static void ResNet8Pass()
        {
            const int batch = 32;
            var network = new CnnGen.Tests.Fixtures.ResNet8();
            network.ResetParameters(1);
            var workspace = network.CreateWorkspace(batch);
            float[] images = Program.Fill(batch * CnnGen.Tests.Fixtures.ResNet8.Layout.Input.Length, 2), outputs = new float[batch * CnnGen.Tests.Fixtures.ResNet8.Layout.Output.Length];
            float[] outputGradient = Program.Fill(outputs.Length, 3), gradients = new float[CnnGen.Tests.Fixtures.ResNet8.ParameterCount];
            Action Pass(bool share) => () =>
            {
                DirectConvolution.SharedOutputGradientInPasses = share;
                network.Forward(images, outputs, batch, workspace, training: true);
                network.Backward(outputGradient, gradients, workspace);
            };
            for (int run = 0; run < 3; run++)
            {
                var (own, shared) = Program.InterleavedCpu(Pass(false), Pass(true));
                Console.WriteLine($"ResNet-8 pass of {batch}: own blocks {own / batch * 1e6,8:F2} us/image, shared {shared / batch * 1e6,8:F2} us/image, {own / shared:F3}x");
            }
            DirectConvolution.SharedOutputGradientInPasses = true;
        }

        private static bool SharesNow(int c, int h, int oc, int p) => DirectConvolution.SharesBlockedOutputGradientFor(c, h, h, oc, 3, p);
    }
}
