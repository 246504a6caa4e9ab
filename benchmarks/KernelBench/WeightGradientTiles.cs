using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "wgrad-tiles [shape prefix]": the Winograd weight gradient of 3x3 stride-1 layers summed over 16 samples (what training
    // runs), on F(2x2, 3x3)'s 4x4 windows against F(4x4, 3x3)'s 6x6, µs per sample in this thread's CPU time, best of 40
    // interleaved rounds; the last column is WinogradWeightGradient.TileFor's pick (the basis of that rule).
    public static class WeightGradientTiles
    {
        public static void Run(string? only)
        {
            const int samples = 16;
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 32, 16, 1), (16, 32, 32, 1), (32, 32, 32, 1), (64, 32, 64, 1), (16, 64, 16, 1), (32, 64, 32, 1), (16, 16, 16, 1), (32, 16, 32, 1),
                (32, 16, 64, 1), (64, 16, 64, 1), (128, 16, 128, 1), (256, 16, 256, 1), (24, 15, 40, 1), (20, 20, 20, 1), (16, 12, 16, 1), (64, 12, 64, 1),
                (16, 8, 16, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (256, 8, 256, 1), (20, 9, 36, 1), (64, 6, 64, 1), (128, 4, 128, 1),
                (32, 18, 32, 0), (64, 10, 64, 0), (16, 28, 16, 1), (48, 28, 48, 1), (32, 56, 32, 1), (17, 17, 17, 1),
                (16, 7, 16, 1), (64, 7, 64, 1), (128, 7, 128, 1), (16, 6, 16, 1), (128, 6, 128, 1), (64, 5, 64, 1), (16, 4, 16, 1), (32, 4, 32, 1),
                (64, 4, 64, 1), (256, 4, 256, 1), (64, 3, 64, 1), (64, 2, 64, 1), (128, 2, 128, 1), (24, 5, 40, 1), (128, 8, 256, 1), (96, 8, 96, 1),
                (64, 14, 64, 1), (32, 13, 32, 1), (64, 10, 64, 1), (64, 9, 64, 1), (256, 8, 128, 1), (128, 4, 256, 1), (16, 3, 16, 0),
            };
            Console.WriteLine($"{"3x3 weight gradient, 16 samples",-28} {"F(2x2) us",10} {"F(4x4) us",10} {"F2/F4",8} {"picked",7}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = s.H + 2 * s.P - 2, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Program.Fill(samples * inLength, 4), dy = Program.Fill(samples * outLength, 6), dw = new float[s.OC * s.C * 9];
                var two = new WinogradWeightGradient.Layout(s.C, s.H, s.H, s.OC, s.P, 2);
                var four = new WinogradWeightGradient.Layout(s.C, s.H, s.H, s.OC, s.P, 4);
                float[] scratchTwo = new float[two.ScratchLength], productsTwo = new float[two.ProductLength];
                float[] scratchFour = new float[four.ScratchLength], productsFour = new float[four.ProductLength];
                Action Summed(WinogradWeightGradient.Layout layout, float[] scratch, float[] products) => () =>
                {
                    for (int n = 0; n < samples; n++)
                        WinogradWeightGradient.AddSampleProducts(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), products, scratch, n, samples, layout);
                    WinogradWeightGradient.AddTransformedProducts(products, dw, layout);
                };
                var (f2, f4) = Program.InterleavedCpu(Summed(two, scratchTwo, productsTwo), Summed(four, scratchFour, productsFour));
                Console.WriteLine($"{name,-28} {f2 / samples * 1e6,10:F2} {f4 / samples * 1e6,10:F2} {f2 / f4,7:F2}x {WinogradWeightGradient.TileFor(s.C, s.H, s.H, s.OC, s.P),7}");
            }
        }
    }
}
