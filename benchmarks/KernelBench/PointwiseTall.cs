using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "pointwise-tall [prefix]": 1x1 layers (+ReLU clamp) on planes of 64+ cells with 3-32 input channels: 4-row tiles over
    // chunks of four vectors against 8-row tiles over chunks of three (TallChunks), thread CPU µs,
    // best of interleaved rounds (the basis of PointwiseConvolution's TallChunks rule; `networks`: whole designs at batch 1).
    public static class PointwiseTall
    {
        private static readonly (int In, int Out, int H)[] Shapes =
        {
            (16, 32, 56), (32, 64, 28), (16, 64, 56), (16, 16, 56), (24, 144, 28), (24, 24, 56), (32, 32, 56), (16, 96, 56),
            (32, 192, 28), (24, 72, 28), (32, 128, 20), (16, 48, 40), (32, 64, 16), (8, 32, 56), (8, 16, 56), (4, 24, 56), (3, 16, 56),
            (12, 48, 40), (28, 56, 28), (20, 120, 20), (16, 24, 17), (24, 64, 30), (16, 16, 32), (8, 32, 64), (8, 64, 32), (16, 24, 32), (3, 16, 64), (24, 16, 32),
            (24, 96, 14), (16, 64, 12), (24, 144, 11), (16, 96, 15), (20, 40, 13), (8, 32, 14),
            (24, 96, 8), (24, 144, 10), (16, 48, 9), (24, 72, 11), (16, 16, 10), (8, 24, 9),
        };

        public static void Run(string? prefix)
        {
            if (prefix == "networks")
            {
                // The zoo designs with the most 1x1 layers at batch 1 (PointwiseEval's list), with TallChunks on against off.
                PointwiseEval.Networks(on => PointwiseConvolution.TallChunks = on, "4-row tiles us");
                return;
            }
            float[] x = Program.Fill(32 * 56 * 56, 1), w = Program.Fill(192 * 32, 2), b = Program.Fill(192, 3), y = new float[192 * 56 * 56];
            Console.WriteLine($"{"1x1 + ReLU",-24} {"4-row",8} {"8-row",8} {"ratio",6}  (us)");
            foreach (var s in Shapes)
            {
                string name = $"{s.In}->{s.Out} @{s.H}x{s.H}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                int plane = s.H * s.H;
                void Run(bool tall)
                {
                    PointwiseConvolution.TallChunks = tall;
                    PointwiseConvolution.Forward(x, s.In, plane, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity);
                }
                var (four, eight) = Program.InterleavedCpu(() => Run(false), () => Run(true));
                Console.WriteLine($"{name,-24} {four * 1e6,8:F2} {eight * 1e6,8:F2} {four / eight,6:F2}");
            }
            PointwiseConvolution.TallChunks = true;
        }
    }
}
