using System;
using System.IO;
using CnnGen.Kernels;

namespace KernelBench
{
    // "pointwise-eval [prefix]": PointwiseConvolution.Forward (+ReLU clamp) over the 1x1 layers of the zoo's designs
    // (MobileNetV1-style on 112x112 and on 32x32, the bottlenecks, MobileNetV3-style, MobileNetV2, ResNeXt-style), in thread
    // CPU time, best of interleaved rounds: as it runs, against the same kernel with the plane's last partial vector of cells
    // computed as an overlapping vector (DotTail off); GFLOP/s and the fraction of the Vector512 FMA probe's peak.
    public static class PointwiseEval
    {
        public static void Run(string? prefix)
        {
            var shapes = new (string Design, int In, int Out, int H)[]
            {
                ("MobileNetV1-112", 16, 32, 56), ("MobileNetV1-112", 32, 64, 28), ("MobileNetV1-112", 64, 128, 14),
                ("MobileNetV1-112", 128, 128, 14), ("MobileNetV1-112", 128, 256, 7), ("MobileNetV1-112", 256, 256, 7),
                ("MobileNetV1-32", 32, 64, 32), ("MobileNetV1-32", 64, 128, 16), ("MobileNetV1-32", 128, 128, 16),
                ("MobileNetV1-32", 128, 256, 8), ("MobileNetV1-32", 256, 256, 8),
                ("bottlenecks", 256, 64, 14), ("bottlenecks", 64, 256, 14), ("bottlenecks", 256, 128, 14), ("bottlenecks", 128, 512, 7),
                ("MobileNetV3", 16, 16, 32), ("MobileNetV3", 16, 72, 32), ("MobileNetV3", 72, 40, 16), ("MobileNetV3", 40, 120, 16),
                ("MobileNetV3", 120, 40, 16), ("MobileNetV3", 40, 240, 16), ("MobileNetV3", 240, 80, 8), ("MobileNetV3", 80, 480, 8),
                ("MobileNetV2", 16, 64, 16), ("MobileNetV2", 64, 16, 16), ("MobileNetV2", 64, 24, 8), ("MobileNetV2", 24, 96, 8),
                ("ResNeXt", 64, 128, 32), ("ResNeXt", 128, 64, 32),
            };
            var (_, peak) = Program.FmaPeak();
            Console.WriteLine($"FMA probe: {peak:F0} GFLOP/s (Vector512); load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"{"design",-16} {"1x1 in -> out @map",-20} {"us",8} {"GFLOP/s",8} {"% peak",7} {"tail as vector us",18} {"x",6}");
            float[] x = Program.Fill(512 * 56 * 56, 1), w = Program.Fill(512 * 512, 2), b = Program.Fill(512, 3), y = new float[512 * 56 * 56];
            foreach (var s in shapes)
            {
                string name = $"{s.In} -> {s.Out} @{s.H}x{s.H}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal) && !s.Design.StartsWith(prefix, StringComparison.Ordinal)) continue;
                int plane = s.H * s.H;
                Action run = () => PointwiseConvolution.Forward(x, s.In, plane, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity);
                var (now, before) = Program.InterleavedCpu(run, () => { PointwiseConvolution.DotTail = false; run(); PointwiseConvolution.DotTail = true; });
                double gflops = 2.0 * s.In * s.Out * plane / now / 1e9;
                Console.WriteLine($"{s.Design,-16} {name,-20} {now * 1e6,8:F2} {gflops,8:F1} {100 * gflops / peak,6:F0}% {before * 1e6,18:F2} {before / now,5:F2}x");
            }
        }
    }
}
