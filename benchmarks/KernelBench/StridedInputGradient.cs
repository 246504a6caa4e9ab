using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "strided-dx [samples] [name part]": the stride-2 3x3 input gradient, StridedConvolution's direct kernel with the input
    // channels in the lanes (weights packed once) against StridedWinogradConvolution.InputGradient on the 4x4, 2x2 and 2x4
    // tiles (filters transformed once), a sample at a time over `samples` samples (each its own d y and d x, as a training
    // pass calls it), this thread's CPU µs per sample, best of 40 interleaved rounds; the basis of
    // StridedConvolution.InputGradientTile.
    public static class StridedInputGradient
    {
        public static void Run(int samples, string? only)
        {
            var shapes = new (string Name, int C, int H, int OC)[]
            {
                ("strided 32x32x32 -> 64", 32, 32, 64), ("strided 64x16x16 -> 128", 64, 16, 128),
                ("ResNet-8 16x32x32 -> 32", 16, 32, 32), ("ResNet-8 32x16x16 -> 64", 32, 16, 64),
                ("16x64x64 -> 32", 16, 64, 32), ("32x64x64 -> 64", 32, 64, 64), ("64x32x32 -> 128", 64, 32, 128),
                ("16x16x16 -> 32", 16, 16, 32), ("32x16x16 -> 32", 32, 16, 32), ("48x16x16 -> 96", 48, 16, 96),
                ("128x16x16 -> 256", 128, 16, 256), ("128x8x8 -> 256", 128, 8, 256), ("32x8x8 -> 64", 32, 8, 64),
                ("64x8x8 -> 64", 64, 8, 64), ("64x8x8 -> 128", 64, 8, 128), ("48x8x8 -> 96", 48, 8, 96), ("32x12x12 -> 64", 32, 12, 64), ("64x4x4 -> 128", 64, 4, 128),
                ("64x15x15 -> 64 (odd)", 64, 15, 64), ("24x17x17 -> 40 (odd)", 24, 17, 40),
                ("8x32x32 -> 16", 8, 32, 16), ("16x32x32 -> 16", 16, 32, 16),
            };
            StridedConvolution.InputGradientTileOverride = 0; // "lanes" is the direct kernel whatever the rule says
            Console.WriteLine($"{samples} sample(s), µs per sample; speedup = lanes / tile");
            Console.WriteLine($"{"shape",-26} {"lanes",8} {"4x4",8} {"x",6} {"2x2",8} {"x",6} {"2x4",8} {"x",6}");
            foreach (var s in shapes)
            {
                if (only != null && !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
                int o = (s.H - 1) / 2 + 1, cells = o * o, inLength = s.C * s.H * s.H;
                float[] x = Program.Fill(inLength, 4), w = Program.Fill(s.OC * s.C * 9, 5), dy = Program.Fill(samples * s.OC * cells, 7), dx = new float[samples * inLength];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] packed = new float[StridedConvolution.PackedInputGradientLength(s.C, s.OC, 3)];
                StridedConvolution.PackInputGradientWeights(w, s.C, s.H, s.H, s.OC, 3, 2, 1, packed);
                var v512 = DirectConvolution.KernelPath.Vector512;
                Action lanes = () =>
                {
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy.AsSpan(n * s.OC * cells, s.OC * cells), s.OC, 3, 2, 1, default,
                            dx.AsSpan(n * inLength, inLength), scratch, packed, v512);
                };
                Console.Write($"{s.Name,-26}");
                double? direct = null;
                foreach (int tile in new[] { 4, 2, StridedWinogradConvolution.Wide })
                {
                    var l = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile);
                    if (tile == StridedWinogradConvolution.Wide && o % 4 != 0)
                    {
                        Console.Write($" {"-",8} {"",6}");
                        continue;
                    }
                    float[] filters = new float[l.TransposedFiltersLength], winogradScratch = new float[l.InputGradientScratchLength];
                    StridedWinogradConvolution.TransformFiltersTransposed(w, filters, l);
                    var (a, b) = Program.InterleavedCpu(lanes, () =>
                    {
                        for (int n = 0; n < samples; n++)
                            StridedWinogradConvolution.InputGradient(dy.AsSpan(n * s.OC * cells, s.OC * cells), filters, dx.AsSpan(n * inLength, inLength), winogradScratch, l);
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
