using System;
using CnnGen;
using CnnGen.Kernels;

namespace KernelBench
{
    // "stem-link": whole networks' evaluation at batch 1 in this thread's CPU time, best of interleaved rounds, with a 3-channel
    // stem handing its maps to the Winograd layer after it from the lanes kernel (DirectConvolution.StemLinks, the rule) against
    // the stem's own kernel writing NCHW and the next layer padding them: the basis of DirectConvolution.LanesHandOn.
    internal static class StemLink
    {
        public static void Run()
        {
            var networks = new (string Name, INetwork Network)[]
            {
                ("ResNet-8 (3 -> 16 @32x32)", new CnnGen.Tests.Fixtures.ResNet8()),
                ("CIFAR (3 -> 32 @32x32)", new CnnGen.Benchmarks.CifarNet()),
            };
            Console.WriteLine($"{"batch 1, us per call (CPU)",-36} {"stem linked",12} {"through NCHW",13} {"ratio",7}");
            foreach (var (name, network) in networks)
            {
                Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 1);
                var workspace = network.CreateWorkspace(1);
                float[] x = Program.Fill(network.Layout.Input.Length, 2), y = new float[network.Layout.Output.Length], other = new float[y.Length];
                Action run(bool linked) => () =>
                {
                    DirectConvolution.StemLinks = linked;
                    for (int i = 0; i < 20; i++) network.Forward(x, linked ? y : other, 1, workspace);
                    DirectConvolution.StemLinks = true;
                };
                var (on, off) = Program.InterleavedCpu(run(true), run(false));
                double largest = 0;
                for (int i = 0; i < y.Length; i++) largest = Math.Max(largest, Math.Abs(y[i] - other[i]));
                Console.WriteLine($"{name,-36} {on / 20 * 1e6,12:F2} {off / 20 * 1e6,13:F2} {off / on,6:F3}x  (largest difference {largest:E1})");
            }
        }
    }
}
