using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;

namespace KernelBench
{
    // "pointwise-eval [prefix]": PointwiseConvolution.Forward (+ReLU clamp) over the 1x1 layers of the zoo's designs
    // (MobileNetV1-style on 112x112 and on 32x32, the bottlenecks, MobileNetV3-style, MobileNetV2, ResNeXt-style) and planes
    // with 1, 4 or 9 cells past the last whole vector, in thread CPU time, best of interleaved rounds: as it runs (GFLOP/s and
    // the fraction of the FMA probe's Vector512 peak in thread CPU time), against the same kernel with the plane's last partial
    // vector of cells as an overlapping vector (DotTail off), with 4-row tiles on planes of three vectors (TallThree off), and
    // with the orders of before on 128-255-cell planes (SmallPlaneOrder off), and planes of a multiple of 1024 cells with 16-31
    // input channels read in place (AliasedPlanePacking off). Prefix: a design or the start of a shape's name.
    public static class PointwiseEval
    {
        // "pointwise-eval networks": the zoo designs with the most 1x1 layers (and the fixtures' ResNeXt block, UNet, Inception and
        // ResNet-8), evaluation's Forward at batch 1 in thread CPU µs,
        // interleaved: as it runs, against the pointwise rules of before this session (DotTail, TallThree, SmallPlaneOrder,
        // AliasedPlanePacking off).
        internal static void Networks(Action<bool> switches, string rulesOff)
        {
            var networks = new (string Name, Func<CnnGen.INetwork> Create)[]
            {
                ("MobileNetV1-style 3x112x112", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.MobileNet112Net(); n.ResetParameters(1); return n; }),
                ("bottlenecks 256x14x14", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.Bottleneck14Net(); n.ResetParameters(1); return n; }),
                ("MobileNetV3-style", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.MobileNetV3Net(); n.ResetParameters(1); return n; }),
                ("MobileNetV2", () => { var n = new CnnGen.Tests.Fixtures.MobileNetV2(); n.ResetParameters(1); return n; }),
                ("ResNeXt down block 64x32x32", () => { var n = new Networks.ResNeXtDownBlock(); n.ResetParameters(1); return n; }),
                ("UNet", () => { var n = new CnnGen.Tests.Fixtures.UNet(); n.ResetParameters(1); return n; }),
                ("Inception", () => { var n = new CnnGen.Tests.Fixtures.Inception(); n.ResetParameters(1); return n; }),
                ("ResNet-8", () => { var n = new CnnGen.Tests.Fixtures.ResNet8(); n.ResetParameters(1); return n; }),
            };
            Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"{"batch 1, thread CPU",-30} {"now us",9} {rulesOff,16} {"x",6}");
            foreach (var (name, create) in networks)
            {
                var network = create();
                var workspace = network.CreateWorkspace(1);
                float[] image = Program.Fill(network.Layout.Input.Length, 6), output = new float[network.Layout.Output.Length];
                Action run = () => network.Forward(image, output, 1, workspace);
                var (now, before) = Program.InterleavedCpu(run, () => { switches(false); run(); switches(true); });
                Console.WriteLine($"{name,-30} {now * 1e6,9:F1} {before * 1e6,16:F1} {before / now,5:F2}x");
            }
        }

        private static void Switches(bool on)
        {
            PointwiseConvolution.DotTail = on;
            PointwiseConvolution.TallThree = on;
            PointwiseConvolution.SmallPlaneOrder = on;
            PointwiseConvolution.AliasedPlanePacking = on;
        }

        // GFLOP/s of the FMA probe's loop (12 independent Vector512 FMA chains), timed in this thread's CPU time as the kernels are.
        private static double PeakInThreadCpu()
        {
            var m = Vector512.Create(0.9999999f);
            var c = Vector512.Create(1e-7f);
            float sink = 0;
            Action loop = () => sink += Program.Fma512Loop(m, c)[0];
            var (seconds, _) = Program.InterleavedCpu(loop, loop);
            return Program.PeakIterations * 12.0 * 16 * 2 / seconds / 1e9;
        }

    private static readonly (string Design, int In, int Out, int H)[] Shapes =
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
            ("tails", 160, 960, 7), ("tails", 40, 240, 10), ("tails", 96, 96, 5), ("tails", 64, 48, 6), ("tails", 96, 576, 14),
            ("1024-multiples", 16, 64, 32), ("1024-multiples", 16, 96, 32), ("1024-multiples", 24, 96, 32), ("1024-multiples", 8, 32, 64),
            ("1024-multiples", 16, 32, 64), ("1024-multiples", 8, 64, 32), ("1024-multiples", 24, 24, 32),
            ("tails", 128, 128, 13), ("tails", 64, 64, 9), ("tails", 64, 64, 15), ("tails", 48, 48, 11), ("tails", 64, 64, 17),
        };

        // The shapes a prefix selects (a design or the start of a shape's name), each with its name and its forward (+ReLU) on
        // shared arrays.
        private static IEnumerable<((string Design, int In, int Out, int H) Shape, string Name, Action Run)> Selected(string? prefix)
        {
            float[] x = Program.Fill(512 * 56 * 56, 1), w = Program.Fill(1024 * 1024, 2), b = Program.Fill(1024, 3), y = new float[1024 * 56 * 56];
            foreach (var s in Shapes)
            {
                string name = $"{s.In} -> {s.Out} @{s.H}x{s.H}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal) && !s.Design.StartsWith(prefix, StringComparison.Ordinal)) continue;
                yield return (s, name, () => PointwiseConvolution.Forward(x, s.In, s.H * s.H, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity));
            }
        }

        // "pointwise-packed [prefix|networks]": the same shapes, thread CPU, best of interleaved rounds: as it runs against
        // PackedTall off (the basis of PointwiseConvolution.PackedTallPays); `networks`: whole designs at batch 1, the rule on
        // against off.
        public static void RunPacked(string? prefix)
        {
            if (prefix == "networks")
            {
                Networks(on => PointwiseConvolution.PackedTall = on, "not 8x3 copied");
                return;
            }
            Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"{"design",-16} {"1x1 in -> out @map",-20} {"us",8} {"GFLOP/s",8} {"not 8x3 copied",15} {"x",6} {"again",9} {"x",6}");
            foreach (var (s, name, run) in Selected(prefix))
            {
                int plane = s.H * s.H;
                Action off = () => { PointwiseConvolution.PackedTall = false; run(); PointwiseConvolution.PackedTall = true; };
                var (now, before) = Program.InterleavedCpu(run, off);
                var (before2, now2) = Program.InterleavedCpu(off, run); // both orders: the first of a pair is favoured on this host
                double gflops = 2.0 * s.In * s.Out * plane / Math.Min(now, now2) / 1e9;
                Console.WriteLine($"{s.Design,-16} {name,-20} {now * 1e6,8:F2} {gflops,8:F1} {before * 1e6,15:F2} {before / now,5:F2}x {now2 * 1e6,9:F2} {before2 / now2,5:F2}x");
            }
        }

        public static void Run(string? prefix)
        {
            if (prefix == "networks")
            {
                Networks(Switches, "rules before us");
                return;
            }
            double peak = PeakInThreadCpu();
            Console.WriteLine($"FMA probe: {peak:F0} GFLOP/s (Vector512); load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"{"design",-16} {"1x1 in -> out @map",-20} {"us",8} {"GFLOP/s",8} {"% peak",7} {"tail as vector",15} {"x",6} {"4-row on 3 vec",15} {"x",6} {"order before",13} {"x",6} {"1024k in place",15} {"x",6}");
            foreach (var (s, name, run) in Selected(prefix))
            {
                int plane = s.H * s.H;
                var (now, before) = Program.InterleavedCpu(run, () => { PointwiseConvolution.DotTail = false; run(); PointwiseConvolution.DotTail = true; });
                var (_, tall) = Program.InterleavedCpu(run, () => { PointwiseConvolution.TallThree = false; run(); PointwiseConvolution.TallThree = true; });
                var (_, order) = Program.InterleavedCpu(run, () => { PointwiseConvolution.SmallPlaneOrder = false; run(); PointwiseConvolution.SmallPlaneOrder = true; });
                var (_, inPlace) = Program.InterleavedCpu(run, () => { PointwiseConvolution.AliasedPlanePacking = false; run(); PointwiseConvolution.AliasedPlanePacking = true; });
                double gflops = 2.0 * s.In * s.Out * plane / now / 1e9;
                Console.WriteLine($"{s.Design,-16} {name,-20} {now * 1e6,8:F2} {gflops,8:F1} {100 * gflops / peak,6:F0}% {before * 1e6,15:F2} {before / now,5:F2}x {tall * 1e6,15:F2} {tall / now,5:F2}x {order * 1e6,13:F2} {order / now,5:F2}x {inPlace * 1e6,15:F2} {inPlace / now,5:F2}x");
            }
        }
    }
}
