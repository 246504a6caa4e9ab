using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "strided-dw [samples] [name part]": the stride-2 3x3 weight gradient over a pass of `samples` samples (16 by default),
    // sums carried between them as a training pass runs it: StridedConvolution's direct lanes kernel (WeightPass512) against
    // StridedWinogradConvolution.WeightGradientOfSample on the 4x4, 2x2 and 2x4 tiles; this thread's CPU µs per sample, best
    // of 40 interleaved rounds; the basis of StridedConvolution.WeightGradientTile.
    public static class StridedWeightGradient
    {
        public static void Run(int samples, string? only)
        {
            // CNNGEN_BATCH_TILES: the tiles a GEMM gathers from several samples (StridedConvolution.WeightGradientBatchTiles).
            if (int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_BATCH_TILES"), out int batchTiles)) StridedConvolution.WeightGradientBatchTiles = batchTiles;
            var shapes = new (string Name, int C, int H, int OC)[]
            {
                ("strided 32x32x32 -> 64", 32, 32, 64), ("strided 64x16x16 -> 128", 64, 16, 128),
                ("ResNet-8 16x32x32 -> 32", 16, 32, 32), ("ResNet-8 32x16x16 -> 64", 32, 16, 64),
                ("16x64x64 -> 32", 16, 64, 32), ("32x64x64 -> 64", 32, 64, 64), ("64x32x32 -> 128", 64, 32, 128),
                ("16x16x16 -> 32", 16, 16, 32), ("32x16x16 -> 32", 32, 16, 32), ("48x16x16 -> 96", 48, 16, 96),
                ("128x16x16 -> 256", 128, 16, 256), ("128x8x8 -> 256", 128, 8, 256), ("32x8x8 -> 64", 32, 8, 64),
                ("64x8x8 -> 64", 64, 8, 64), ("64x8x8 -> 128", 64, 8, 128), ("96x8x8 -> 192", 96, 8, 192), ("48x8x8 -> 96", 48, 8, 96), ("64x12x12 -> 64", 64, 12, 64), ("32x12x12 -> 64", 32, 12, 64), ("64x4x4 -> 128", 64, 4, 128), ("16x8x8 -> 32", 16, 8, 32), ("64x15x15 -> 64 (odd)", 64, 15, 64), ("24x17x17 -> 40 (odd)", 24, 17, 40),
                ("8x32x32 -> 16", 8, 32, 16), ("16x32x32 -> 16", 16, 32, 16),
            };
            Console.WriteLine($"{samples} samples a pass, µs per sample; speedup = lanes / tile");
            Console.WriteLine($"{"shape",-26} {"lanes",8} {"4x4",8} {"x",6} {"2x2",8} {"x",6} {"2x4",8} {"x",6}");
            foreach (var s in shapes)
            {
                if (only != null && !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
                int o = (s.H - 1) / 2 + 1, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Program.Fill(samples * inLength, 4), dy = Program.Fill(samples * outLength, 7), dw = new float[s.OC * s.C * 9];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] transposed = new float[(s.OC + 15) / 16 * 16 * s.C * 9];
                Action lanes = () =>
                {
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.WeightGradientLanesOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, dy.AsSpan(n * outLength, outLength), s.OC, 3, 2, 1,
                            dw, scratch, transposed, n, samples);
                };
                Console.Write($"{s.Name,-26}");
                double? direct = null;
                foreach (int tile in new[] { 4, 2, StridedWinogradConvolution.Wide })
                {
                    if (tile == StridedWinogradConvolution.Wide && o % 4 != 0 || !StridedWinogradConvolution.RunsTile(tile))
                    {
                        Console.Write($" {"-",8} {"",6}");
                        continue;
                    }
                    var l = StridedConvolution.WeightGradientLayout(s.C, s.H, s.H, s.OC, 1, tile);
                    float[] products = new float[l.WeightGradientProductsLength], winogradScratch = new float[l.WeightGradientScratchLength];
                    var (a, b) = Program.InterleavedCpu(lanes, () =>
                    {
                        for (int n = 0; n < samples; n++)
                            StridedWinogradConvolution.WeightGradientOfSample(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), products, dw,
                                winogradScratch, n, samples, l);
                    });
                    if (direct == null)
                    {
                        direct = a;
                        Console.Write($" {a / samples * 1e6,8:F2}");
                    }
                    Console.Write($" {b / samples * 1e6,8:F2} {a / b,5:F2}x");
                }
                Console.WriteLine();
            }
        }
    }
}
