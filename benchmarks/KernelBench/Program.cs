using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CnnGen;
using CnnGen.Kernels;
using MobileNetV2 = CnnGen.Tests.Fixtures.MobileNetV2;

namespace KernelBench
{
    public static class Program
    {
        // Whether a shape's name starts with one of the comma-separated prefixes a mode was given (all shapes without them).
        internal static bool Selected(string name, string? prefixes) =>
            prefixes is null || Array.Exists(prefixes.Split(','), prefix => name.StartsWith(prefix, StringComparison.Ordinal));

        internal static float[] Fill(int length, int seed)
        {
            var random = new Random(seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() - 0.5);
            return values;
        }

        // Seconds per call, best of several timed batches of at least ~50 ms each.
        private static double Time(Action action) => BestOfBatches(action, batchMilliseconds: 50, batches: 7);

        // The same, best of 200 batches of ~0.5 ms: on a shared, loaded machine a short batch is more likely to run
        // without being descheduled, so the minimum is steadier than that of a few long batches.
        private static double TimeShort(Action action) => BestOfBatches(action, batchMilliseconds: 0.5, batches: 200);

        private static double BestOfBatches(Action action, double batchMilliseconds, int batches)
        {
            for (int i = 0; i < 200; i++) action(); // tier up
            int calls = 1;
            var sw = Stopwatch.StartNew();
            while (true)
            {
                sw.Restart();
                for (int i = 0; i < calls; i++) action();
                if (sw.Elapsed.TotalMilliseconds > batchMilliseconds) break;
                calls *= 2;
            }
            double best = double.MaxValue;
            for (int batch = 0; batch < batches; batch++)
            {
                sw.Restart();
                for (int i = 0; i < calls; i++) action();
                best = Math.Min(best, sw.Elapsed.TotalSeconds / calls);
            }
            return best;
        }

        // Calls for a quarter of a second: long enough for tiered compilation to replace the first code with the optimized one
        // (it waits until calls stop arriving at new methods, which a loaded machine slows down).
        private static void WarmUp(Action action)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalMilliseconds < 250) action();
        }

        internal const int PeakIterations = 20_000_000;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> Fma256Loop(Vector256<float> m, Vector256<float> c)
        {
            var a0 = Vector256.Create(1f); var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
            var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
            for (int i = 0; i < PeakIterations; i++)
            {
                a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
                a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
                a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
                a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
                a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
                a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
            }
            return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static Vector512<float> Fma512Loop(Vector512<float> m, Vector512<float> c)
        {
            var a0 = Vector512.Create(1f); var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
            var a6 = a0; var a7 = a0; var a8 = a0; var a9 = a0; var a10 = a0; var a11 = a0;
            for (int i = 0; i < PeakIterations; i++)
            {
                a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
                a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
                a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
                a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
                a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
                a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
            }
            return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        }

        private static (double V256, double V512) FmaPeak()
        {
            double best256 = double.MaxValue, best512 = double.MaxValue;
            float sink = 0;
            for (int trial = 0; trial < 6; trial++) // early trials run at lower tiers
            {
                var sw = Stopwatch.StartNew();
                sink += Fma256Loop(Vector256.Create(0.9999999f), Vector256.Create(1e-7f))[0];
                best256 = Math.Min(best256, sw.Elapsed.TotalSeconds);
                if (Vector512.IsHardwareAccelerated)
                {
                    sw.Restart();
                    sink += Fma512Loop(Vector512.Create(0.9999999f), Vector512.Create(1e-7f))[0];
                    best512 = Math.Min(best512, sw.Elapsed.TotalSeconds);
                }
            }
            if (sink == 12345f) Console.WriteLine();
            return (PeakIterations * 12.0 * 8 * 2 / best256 / 1e9, PeakIterations * 12.0 * 16 * 2 / best512 / 1e9);
        }

        // Seconds per call of a and of b, each the best of many short batches taken in turn (a, b, a, b, ...), so both
        // see the same machine: on a loaded machine the minimum of interleaved batches is the steadiest estimate.
        private static (double A, double B) Interleaved(Action a, Action b)
        {
            WarmUp(a);
            WarmUp(b);
            return InterleavedOn(a, b, Stopwatch.GetTimestamp, Stopwatch.Frequency);
        }

        // Seconds per call of each action, the best of 40 rounds of batches (~5 ms each) taken in turn, as Interleaved.
        private static double[] InterleavedAll(params Action[] actions) => InterleavedAllOn(Stopwatch.GetTimestamp, Stopwatch.Frequency, actions);

        // The same in this thread's CPU time (Linux).
        internal static double[] InterleavedCpuAll(params Action[] actions) => InterleavedAllOn(ThreadNanoseconds, 1e9, actions);

        private static double[] InterleavedAllOn(Func<long> clock, double ticksPerSecond, Action[] actions)
        {
            foreach (var action in actions) WarmUp(action);
            for (int i = 0; i < 100; i++) foreach (var action in actions) action();
            int calls = 1;
            while (true)
            {
                long start = clock();
                for (int i = 0; i < calls; i++) actions[0]();
                if ((clock() - start) / ticksPerSecond > 0.005) break;
                calls *= 2;
            }
            var best = Enumerable.Repeat(double.MaxValue, actions.Length).ToArray();
            for (int round = 0; round < 40; round++)
            {
                for (int a = 0; a < actions.Length; a++)
                {
                    long start = clock();
                    for (int i = 0; i < calls; i++) actions[a]();
                    best[a] = Math.Min(best[a], (clock() - start) / ticksPerSecond / calls);
                }
            }
            return best;
        }

        // Seconds per call of a and of b on the given clock, the best of 40 rounds of alternating batches (~5 ms each).
        private static (double A, double B) InterleavedOn(Action a, Action b, Func<long> clock, double ticksPerSecond)
        {
            for (int i = 0; i < 100; i++) { a(); b(); }
            int calls = 1;
            while (true)
            {
                long start = clock();
                for (int i = 0; i < calls; i++) a();
                if ((clock() - start) / ticksPerSecond > 0.005) break;
                calls *= 2;
            }
            double bestA = double.MaxValue, bestB = double.MaxValue;
            for (int round = 0; round < 40; round++)
            {
                long start = clock();
                for (int i = 0; i < calls; i++) a();
                bestA = Math.Min(bestA, (clock() - start) / ticksPerSecond / calls);
                start = clock();
                for (int i = 0; i < calls; i++) b();
                bestB = Math.Min(bestB, (clock() - start) / ticksPerSecond / calls);
            }
            return (bestA, bestB);
        }

        // "strided": each stride-2 3x3 layer of the strided network and MobileNet's stem, im2col + GEMM (the Vector256 path's
        // choice) against the Vector512 path, interleaved, with the weights prepared once for each; GFLOP/s against the FMA peak.
        private static void CompareStrided()
        {
            var (_, peak512) = FmaPeak();
            Console.WriteLine($"Vector512 FMA peak {peak512:F1} GFLOP/s");
            var shapes = new (string Name, int C, int H, int OC)[]
            {
                ("strided stem 3x64x64 -> 32", 3, 64, 32),
                ("strided stem 3x64x64 -> 16", 3, 64, 16),
                ("stem 3x224x224 -> 32", 3, 224, 32),
                ("strided 32x32x32 -> 64", 32, 32, 64),
                ("strided 64x16x16 -> 128", 64, 16, 128),
                ("MobileNet stem 3x32x32 -> 16", 3, 32, 16),
                ("ResNet-8 16x32x32 -> 32", 16, 32, 32),
            };
            Console.WriteLine($"{"3x3 stride 2, pad 1, ReLU",-32} {"GEMM us",9} {"GFLOP/s",8} {"V512 us",9} {"GFLOP/s",8} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int outSize = (s.H + 2 - 3) / 2 + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * outSize * outSize];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                var v256 = DirectConvolution.KernelPath.Vector256;
                var v512 = DirectConvolution.KernelPath.Vector512;
                float[] gemmWeights = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, v256, winograd: false)];
                float[] laneWeights = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, v512, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 3, 2, 1, gemmWeights, v256, winograd: false);
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 3, 2, 1, laneWeights, v512, winograd: false);
                var (gemm, lanes) = Interleaved(
                    () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, gemmWeights, s.OC, 3, 2, 1, y, scratch, true, v256, winograd: false),
                    () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, laneWeights, s.OC, 3, 2, 1, y, scratch, true, v512, winograd: false));
                double flops = 2.0 * s.OC * outSize * outSize * s.C * 9;
                Console.WriteLine($"{s.Name,-32} {gemm * 1e6,9:F2} {flops / gemm / 1e9,8:F1} {lanes * 1e6,9:F2} {flops / lanes / 1e9,8:F1} {gemm / lanes,8:F2}x");
            }
        }

        // "strided-odd": strided layers whose output channels fill no whole vector (5, 12, 20, 24, 40, 72, 100), from more input
        // channels than the phases kernel takes: im2col + GEMM (their path before, and the Vector256 path's) against the
        // channel-lanes kernel with the last block's lanes padded, interleaved, weights prepared once for each.
        private static void CompareStridedOdd()
        {
            var shapes = new (int C, int H, int W, int OC, int K, int S, int P)[]
            {
                (12, 37, 37, 20, 3, 2, 1), (12, 37, 37, 5, 3, 2, 1), (12, 37, 37, 12, 3, 2, 1), (20, 37, 37, 40, 3, 2, 1),
                (12, 19, 19, 20, 3, 2, 1), (16, 32, 32, 24, 3, 2, 1), (24, 32, 32, 40, 3, 2, 1), (32, 16, 16, 40, 3, 2, 1),
                (40, 19, 19, 72, 3, 2, 1), (48, 16, 16, 72, 3, 2, 1), (64, 16, 16, 100, 3, 2, 1), (20, 8, 8, 12, 3, 2, 1),
                (96, 8, 8, 24, 3, 2, 1), (24, 28, 28, 36, 3, 2, 0), (12, 37, 37, 20, 5, 2, 2), (20, 37, 37, 40, 1, 2, 0),
                (12, 64, 64, 20, 3, 2, 1), (10, 37, 37, 5, 3, 2, 1),
            };
            var gemmPath = DirectConvolution.KernelPath.Vector256;
            var lanesPath = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"{"in x H x W -> out, k s p",-30} {"GEMM us",9} {"GFLOP/s",8} {"lanes us",9} {"GFLOP/s",8} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int oh = (s.H + 2 * s.P - s.K) / s.S + 1, ow = (s.W + 2 * s.P - s.K) / s.S + 1;
                float[] x = Fill(s.C * s.H * s.W, 4), w = Fill(s.OC * s.C * s.K * s.K, 5), bias = Fill(s.OC, 6), y = new float[s.OC * oh * ow];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.W, s.OC, s.K, s.S, s.P)];
                float[] gemmWeights = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.W, s.OC, s.K, s.S, s.P, gemmPath, winograd: false)];
                float[] laneWeights = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.W, s.OC, s.K, s.S, s.P, lanesPath, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.W, s.OC, s.K, s.S, s.P, gemmWeights, gemmPath, winograd: false);
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.W, s.OC, s.K, s.S, s.P, laneWeights, lanesPath, winograd: false);
                var (gemm, lanes) = Interleaved(
                    () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.W, gemmWeights, s.OC, s.K, s.S, s.P, y, scratch, true, gemmPath, winograd: false),
                    () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.W, laneWeights, s.OC, s.K, s.S, s.P, y, scratch, true, lanesPath, winograd: false));
                double flops = 2.0 * s.OC * oh * ow * s.C * s.K * s.K;
                string name = $"{s.C}x{s.H}x{s.W} -> {s.OC}, {s.K} {s.S} {s.P}";
                Console.WriteLine($"{name,-30} {gemm * 1e6,9:F2} {flops / gemm / 1e9,8:F1} {lanes * 1e6,9:F2} {flops / lanes / 1e9,8:F1} {gemm / lanes,8:F2}x");
            }
        }

        // "strided-pointwise": 1x1 layers without padding at stride 2 (and 3). Vector512: the channel-lanes kernel as it ran
        // before (copying the whole input first), the same kernel reading x in place, and the input subsampled into a plane
        // then PointwiseConvolution (only where AVX-512 runs it); Vector256: the Vector256 lanes kernel (im2col + GEMM before
        // session 56) against the subsampling route on every shape (PointwiseRouteEverywhere). Interleaved, weights prepared
        // once for each; the basis of StridedConvolution.UsePointwise. Channels 16-1024, input maps 7-56.
        private static void CompareStridedPointwise()
        {
            var shapes = new (int C, int H, int OC, int S)[]
            {
                (64, 56, 128, 2), (64, 56, 64, 2), (256, 56, 512, 2), (64, 32, 128, 2), (128, 28, 256, 2), (512, 28, 1024, 2),
                (96, 28, 192, 2), (128, 16, 256, 2), (128, 16, 128, 2), (256, 14, 512, 2), (1024, 14, 2048, 2), (96, 14, 160, 2),
                (512, 14, 1024, 2), (64, 14, 128, 2), (256, 8, 512, 2), (512, 7, 1024, 2), (20, 37, 40, 2), (16, 32, 32, 2),
                (40, 19, 72, 2), (64, 33, 100, 2), (128, 24, 256, 3), (64, 8, 128, 2), (128, 10, 256, 2), (256, 6, 256, 2),
                (160, 9, 320, 2), (64, 28, 24, 2), (128, 14, 200, 2), (32, 56, 48, 2), (256, 14, 256, 2), (96, 20, 192, 2),
            };
            Console.WriteLine($"Vector512: {"in x H x W -> out, s",-24} {"copy us",9} {"in place",9} {"1x1 us",9} {"GFLOP/s",8} {"1x1/copy",9} {"1x1/in place",13}");
            var v512 = DirectConvolution.KernelPath.Vector512;
            foreach (var s in Vector512.IsHardwareAccelerated ? shapes : Array.Empty<(int C, int H, int OC, int S)>())
            {
                int o = (s.H - 1) / s.S + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 1, s.S, 0)];
                float[] lanes = Prepared(false, v512), pointwise = Prepared(true, v512);
                var t = InterleavedAll(
                    () => Run(false, false, lanes, v512),
                    () => Run(false, true, lanes, v512),
                    () => Run(true, true, pointwise, v512));
                double flops = 2.0 * s.OC * o * o * s.C;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}, s{s.S}";
                Console.WriteLine($"{"",10} {name,-24} {t[0] * 1e6,9:F2} {t[1] * 1e6,9:F2} {t[2] * 1e6,9:F2} {flops / t[2] / 1e9,8:F1} {t[0] / t[2],8:F2}x {t[1] / t[2],12:F2}x");

                float[] Prepared(bool route, DirectConvolution.KernelPath path)
                {
                    StridedConvolution.PointwiseRoute = route;
                    var prepared = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 1, s.S, 0, path, winograd: false)];
                    StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 1, s.S, 0, prepared, path, winograd: false);
                    StridedConvolution.PointwiseRoute = true;
                    return prepared;
                }

                void Run(bool route, bool inPlace, float[] prepared, DirectConvolution.KernelPath path)
                {
                    StridedConvolution.PointwiseRoute = route;
                    StridedConvolution.ReadsUnpaddedInput = inPlace;
                    StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, 1, s.S, 0, y, scratch, true, path, winograd: false);
                    StridedConvolution.PointwiseRoute = true;
                    StridedConvolution.ReadsUnpaddedInput = true;
                }
            }
            // Vector256: the kernel UseLanes picks without the route (the Vector256 lanes kernel since session 56, im2col + GEMM
            // before) against the subsampling route, weights prepared for each.
            Console.WriteLine($"Vector256: {"in x H x W -> out, s",-24} {"lanes us",9} {"1x1 us",9} {"speed-up",9} {"picked",7}");
            var v256 = DirectConvolution.KernelPath.Vector256;
            foreach (var s in shapes)
            {
                int o = (s.H - 1) / s.S + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 1, s.S, 0)];
                float[] lanes = Prepared256(false), pointwise = Prepared256(true);
                var t = InterleavedAll(
                    () => { StridedConvolution.PointwiseRoute = false; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, lanes, s.OC, 1, s.S, 0, y, scratch, true, v256, winograd: false); StridedConvolution.PointwiseRoute = true; },
                    () => { StridedConvolution.PointwiseRouteEverywhere = true; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, pointwise, s.OC, 1, s.S, 0, y, scratch, true, v256, winograd: false); StridedConvolution.PointwiseRouteEverywhere = false; });
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}, s{s.S}";
                Console.WriteLine($"{"",10} {name,-24} {t[0] * 1e6,9:F2} {t[1] * 1e6,9:F2} {t[0] / t[1],8:F2}x {(StridedConvolution.UsesPointwise(s.C, s.H, s.H, s.OC, 1, s.S, 0, v256) ? "1x1" : "lanes"),7}");

                float[] Prepared256(bool route)
                {
                    StridedConvolution.PointwiseRoute = route;
                    StridedConvolution.PointwiseRouteEverywhere = route;
                    var prepared = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 1, s.S, 0, v256, winograd: false)];
                    StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 1, s.S, 0, prepared, v256, winograd: false);
                    StridedConvolution.PointwiseRoute = true;
                    StridedConvolution.PointwiseRouteEverywhere = false;
                    return prepared;
                }
            }
        }

        // "pointwise-lanes": 1x1 stride-1 layers on small planes (7x7, 14x14 and others), PointwiseConvolution (the cells in the
        // lanes, as the generated code runs them) against StridedConvolution's channel-lanes tiles at stride 1 (the output
        // channels in the lanes, rows of up to 8 cells x 2 blocks, weights packed once), interleaved. A measurement for
        // PointwiseConvolution's owner: no layer runs the second.
        private static void ComparePointwiseLanes()
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (256, 14, 64), (64, 14, 256), (256, 14, 128), (128, 7, 512), (512, 7, 128), (128, 14, 128), (256, 14, 256),
                (512, 7, 512), (96, 14, 576), (160, 7, 960), (64, 28, 256), (128, 28, 128), (64, 16, 128), (128, 8, 256),
                (256, 10, 256), (64, 56, 64),
            };
            Console.WriteLine($"{"1x1 in x H x W -> out",-24} {"pointwise us",13} {"GFLOP/s",8} {"lanes us",9} {"GFLOP/s",8} {"lanes x",8}");
            var v512 = DirectConvolution.KernelPath.Vector512;
            foreach (var s in shapes)
            {
                int plane = s.H * s.H;
                float[] x = Fill(s.C * plane, 4), w = Fill(s.OC * s.C, 5), bias = Fill(s.OC, 6), y = new float[s.OC * plane];
                float[] packed = new float[(s.OC + 15) / 16 * 16 * s.C];
                StridedConvolution.PackPointwiseLanes(w, s.C, s.OC, packed);
                float[] scratch = new float[StridedConvolution.PointwiseLanesScratch(s.C, s.H, s.H, s.OC)];
                var t = InterleavedAll(
                    () => PointwiseConvolution.ForwardOn(x, s.C, plane, w, bias, s.OC, y, v512, 0f),
                    () => StridedConvolution.ForwardPointwiseLanes(x, s.C, s.H, s.H, packed, bias, s.OC, y, scratch, relu: true));
                double flops = 2.0 * s.OC * plane * s.C;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}";
                Console.WriteLine($"{name,-24} {t[0] * 1e6,13:F2} {flops / t[0] / 1e9,8:F1} {t[1] * 1e6,9:F2} {flops / t[1] / 1e9,8:F1} {t[0] / t[1],7:F2}x");
            }
        }

        // "strided-padding": the lanes kernel (weights prepared once) on 3x3 stride-2 layers at padding 1 whose tiles leave out
        // the products with the padding against computing them (StridedConvolution.SkipsPaddingProducts), interleaved.
        private static void CompareStridedPadding()
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (128, 4, 256), (256, 4, 512), (64, 4, 128), (32, 4, 64), (64, 8, 128), (128, 8, 256), (256, 8, 512), (32, 16, 64),
                (128, 6, 256), (96, 6, 192), (256, 7, 512), (48, 5, 96), (16, 16, 32), (64, 3, 128),
            };
            var v512 = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"{"in x H x H -> out (output)",-30} {"computed us",12} {"skipped us",11} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int o = (s.H - 1) / 2 + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] prepared = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, v512, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 3, 2, 1, prepared, v512, winograd: false);
                var (all, skipping) = Interleaved(
                    () => { StridedConvolution.SkipsPaddingProducts = false; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, 3, 2, 1, y, scratch, true, v512, winograd: false); },
                    () => { StridedConvolution.SkipsPaddingProducts = true; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, 3, 2, 1, y, scratch, true, v512, winograd: false); });
                StridedConvolution.SkipsPaddingProducts = true;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o})";
                Console.WriteLine($"{name,-30} {all * 1e6,12:F2} {skipping * 1e6,11:F2} {all / skipping,8:F2}x");
            }
        }

        // "strided-rows": the lanes kernel (StridedConvolution's direct Vector512 path, weights prepared once) on maps 4 cells
        // wide or less, its tiles one row each against whole rows of up to 8 cells (StridedConvolution.TilesAcrossRows),
        // interleaved; µs a call and the weights' megabytes a call reads.
        private static void CompareStridedRows()
        {
            var shapes = new (int C, int H, int OC, int K, int S)[]
            {
                (128, 4, 256, 3, 2), (256, 4, 512, 3, 2), (64, 4, 128, 3, 2), (128, 4, 128, 3, 2), (256, 8, 512, 3, 2), (128, 8, 256, 3, 2),
                (128, 6, 256, 3, 2), (256, 7, 512, 3, 2), (96, 6, 192, 3, 2), (64, 8, 128, 3, 2), (32, 4, 64, 3, 2), (256, 4, 512, 1, 2),
                (128, 6, 256, 3, 3), (512, 4, 512, 3, 2),
            };
            var v512 = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"{"in x H x H -> out, k s",-30} {"weights MB",10} {"one row us",11} {"rows us",9} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int p = s.K / 2, o = (s.H + 2 * p - s.K) / s.S + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * s.K * s.K, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, s.S, p)];
                float[] prepared = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, s.K, s.S, p, v512, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, s.K, s.S, p, prepared, v512, winograd: false);
                var (row, rows) = Interleaved(
                    () => { StridedConvolution.TilesAcrossRows = false; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, s.K, s.S, p, y, scratch, true, v512, winograd: false); },
                    () => { StridedConvolution.TilesAcrossRows = true; StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, s.K, s.S, p, y, scratch, true, v512, winograd: false); });
                StridedConvolution.TilesAcrossRows = true;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o}), {s.K} {s.S}";
                Console.WriteLine($"{name,-30} {4.0 * w.Length / 1e6,10:F2} {row * 1e6,11:F2} {rows * 1e6,9:F2} {row / rows,8:F2}x");
            }
        }

        // "strided-prepare": the stride-2 Winograd filter transforms a training pass runs once per pass and thread (forward
        // and transposed for the input gradient), µs a call, on the tile TileFor picks; with GFLOP/s-free figures: the weights'
        // megabytes and the µs per thousand filters.
        private static void DropoutLoop(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, ref CnnRandom random)
        {
            for (int i = 0; i < x.Length; i++)
            {
                float keep = random.NextFloat() < 0.25f ? 0f : 1.3333334f;
                mask[i] = keep;
                y[i] = x[i] * keep;
            }
        }

        private static void StridedPrepare()
        {
            var shapes = new (int C, int H, int OC)[] { (16, 32, 32), (32, 32, 64), (32, 16, 64), (64, 16, 128), (64, 8, 128), (128, 8, 256), (128, 16, 256) };
            Console.WriteLine($"{"3x3 stride 2, pad 1",-26} {"tile",5} {"forward us",11} {"transposed us",14} {"us / 1K filters",16}");
            foreach (var s in shapes)
            {
                int tile = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                if (tile == 0) tile = 2;
                var l = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile);
                float[] w = Fill(s.OC * s.C * 9, 5), filters = new float[l.FiltersLength], transposed = new float[l.TransposedFiltersLength];
                var (forward, backward) = Interleaved(
                    () => StridedWinogradConvolution.TransformFilters(w, filters, l),
                    () => StridedWinogradConvolution.TransformFiltersTransposed(w, transposed, l));
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}";
                Console.WriteLine($"{name,-26} {TileName(tile),5} {forward * 1e6,11:F2} {backward * 1e6,14:F2} {forward * 1e6 / (s.C * s.OC / 1000.0),16:F2}");
            }
        }

        // "strided-phases": stride-2 layers with more than 8 input channels and rows of 16+ output cells, the output cells in
        // the lanes (ForwardPhases512) against the channel-lanes kernel, interleaved; the basis of StridedConvolution.UsePhases
        // beyond stems.
        private static void CompareStridedPhases()
        {
            var shapes = new (int C, int H, int W, int OC, int K, int P)[]
            {
                (12, 37, 37, 5, 3, 1), (12, 37, 37, 8, 3, 1), (12, 37, 37, 12, 3, 1), (12, 37, 37, 16, 3, 1), (12, 37, 37, 20, 3, 1),
                (12, 37, 37, 24, 3, 1), (12, 37, 37, 32, 3, 1), (16, 64, 64, 5, 3, 1), (16, 64, 64, 12, 3, 1), (16, 64, 64, 20, 3, 1),
                (16, 64, 64, 24, 3, 1), (16, 64, 64, 32, 3, 1), (32, 64, 64, 8, 3, 1), (32, 64, 64, 16, 3, 1), (24, 33, 33, 12, 3, 1),
                (12, 37, 37, 20, 5, 2), (16, 40, 40, 10, 3, 0), (24, 48, 48, 40, 3, 1), (10, 37, 37, 5, 3, 1), (40, 32, 32, 6, 3, 1),
                (12, 96, 96, 20, 3, 1), (12, 70, 70, 20, 3, 1),
            };
            var lanesPath = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"{"in x H x W -> out, k p",-28} {"lanes us",9} {"GFLOP/s",8} {"phases us",10} {"GFLOP/s",8} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int oh = (s.H + 2 * s.P - s.K) / 2 + 1, ow = (s.W + 2 * s.P - s.K) / 2 + 1;
                float[] x = Fill(s.C * s.H * s.W, 4), w = Fill(s.OC * s.C * s.K * s.K, 5), bias = Fill(s.OC, 6), y = new float[s.OC * oh * ow];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.W, s.OC, s.K, 2, s.P)];
                float[] laneWeights = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.W, s.OC, s.K, 2, s.P, lanesPath, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.W, s.OC, s.K, 2, s.P, laneWeights, lanesPath, winograd: false);
                var (lanes, phases) = Interleaved(
                    () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.W, laneWeights, s.OC, s.K, 2, s.P, y, scratch, true, lanesPath, winograd: false),
                    () => StridedConvolution.ForwardPhasesOn(x, s.C, s.H, s.W, w, bias, s.OC, s.K, s.P, y, scratch, true));
                double flops = 2.0 * s.OC * oh * ow * s.C * s.K * s.K;
                string name = $"{s.C}x{s.H}x{s.W} -> {s.OC}, {s.K} {s.P}";
                Console.WriteLine($"{name,-28} {lanes * 1e6,9:F2} {flops / lanes / 1e9,8:F1} {phases * 1e6,10:F2} {flops / phases / 1e9,8:F1} {lanes / phases,8:F2}x");
            }
        }

        // "strided-winograd" [C H OC ...]: 3x3 stride 2 pad 1 + ReLU, StridedConvolution's direct Vector512 kernel (channel lanes, or
        // phases for stems) against StridedWinogradConvolution (4x4, 2x2 and 2x4 tiles), both from weights prepared once, interleaved; the basis of
        // StridedWinogradConvolution.Pays. GFLOP/s counts the direct multiply-adds for both.
        private static void CompareStridedWinograd((int C, int H, int OC)[]? only)
        {
            var shapes = only ?? new (int C, int H, int OC)[]
            {
                (3, 64, 32), (8, 32, 16), (16, 64, 32), (16, 32, 32), (16, 16, 32), (16, 8, 32), (16, 32, 16), (24, 32, 48),
                (32, 64, 64), (32, 32, 64), (32, 32, 32), (32, 16, 64), (32, 8, 64), (48, 16, 96),
                (64, 32, 128), (64, 16, 128), (64, 16, 64), (64, 8, 128), (64, 4, 128),
                (128, 16, 256), (128, 16, 128), (128, 8, 256), (128, 8, 128), (128, 4, 128), (256, 8, 256), (256, 4, 512),
            };
            // STRIDED_CHUNK_TILES=n: the Winograd layouts' chunks of n tiles instead of the rule's.
            if (int.TryParse(Environment.GetEnvironmentVariable("STRIDED_CHUNK_TILES"), out int chunkTiles)) StridedWinogradConvolution.ChunkTilesOverride = chunkTiles;
            var path = KernelPaths.Default; // the machine's own vector path: Vector512 with AVX-512, else Vector256
            Console.WriteLine($"{"3x3 stride 2, pad 1, ReLU",-28} {"direct us",10} {"GFLOP/s",8} {"4x4 tile us",12} {"speed-up",9} {"2x2 tile us",12} {"speed-up",9} {"2x4 tile us",12} {"speed-up",9} {"picked",7}");
            foreach (var s in shapes)
            {
                int o = (s.H + 2 - 3) / 2 + 1;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                var layout4 = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile: 4);
                var layout2 = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile: 2);
                var layoutWide = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile: StridedWinogradConvolution.Wide);
                float[] scratch = new float[Math.Max(StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1), Math.Max(layout4.ScratchLength, Math.Max(layout2.ScratchLength, layoutWide.ScratchLength)))];
                float[] direct = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, path, winograd: false)];
                StridedConvolution.PrepareOn(w, bias, s.C, s.H, s.H, s.OC, 3, 2, 1, direct, path, winograd: false);
                float[] filters4 = new float[layout4.FiltersLength], filters2 = new float[layout2.FiltersLength];
                StridedWinogradConvolution.TransformFilters(w, filters4, layout4);
                StridedWinogradConvolution.TransformFilters(w, filters2, layout2);
                float[] filtersWide = new float[layoutWide.FiltersLength];
                StridedWinogradConvolution.TransformFilters(w, filtersWide, layoutWide);
                Action runDirect = () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, direct, s.OC, 3, 2, 1, y, scratch, true, path, winograd: false);
                // A tile this machine does not run (without AVX-512: the 2x2 and 2x4) reads NaN.
                (double, double) Versus(int tile, Action run) => StridedWinogradConvolution.RunsTile(tile) ? Interleaved(runDirect, run) : (double.MaxValue, double.NaN);
                var (d, f4) = Versus(4, () => StridedWinogradConvolution.Forward(x, filters4, bias, y, scratch, true, layout4));
                var (d2, f2) = Versus(2, () => StridedWinogradConvolution.Forward(x, filters2, bias, y, scratch, true, layout2));
                var (d3, fw) = Versus(StridedWinogradConvolution.Wide, () => StridedWinogradConvolution.Forward(x, filtersWide, bias, y, scratch, true, layoutWide));
                d = Math.Min(d, Math.Min(d2, d3));
                double flops = 2.0 * s.OC * o * o * s.C * 9;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o})";
                int picked = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                Console.WriteLine($"{name,-28} {d * 1e6,10:F2} {flops / d / 1e9,8:F1} {f4 * 1e6,12:F2} {d / f4,8:F2}x {f2 * 1e6,12:F2} {d / f2,8:F2}x {fw * 1e6,12:F2} {d / fw,8:F2}x {TileName(picked),7}");
            }
        }

        // "strided-training" [samples]: a training pass's forward of a stride-2 3x3 layer over the samples one thread takes
        // (default 32: batch 64 on two threads), no bias, no ReLU (batch-norm follows): StridedConvolution.Forward per sample
        // (the weights packed in every call) against StridedConvolution.Prepare once for the pass and ForwardPrepared per sample,
        // on the lanes kernel and on the stride-2 Winograd tile TileFor picks, interleaved; per sample, the preparation's share
        // included; this thread's CPU time (robust under load). The basis of Conv2dEmitter.HasPassWeights.
        private static void StridedTraining(int samples)
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (3, 64, 32), (3, 32, 16), (8, 32, 16), (16, 64, 32), (16, 32, 32), (16, 16, 32), (16, 8, 32), (24, 32, 48),
                (32, 64, 64), (32, 32, 64), (32, 32, 32), (32, 16, 64), (32, 8, 64), (48, 16, 96),
                (64, 32, 128), (64, 16, 128), (64, 16, 64), (64, 8, 128), (128, 16, 256), (128, 8, 256), (128, 8, 128), (256, 8, 256),
            };
            var v512 = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"{samples} samples a pass; us per sample, the pass's preparation included");
            Console.WriteLine($"{"3x3 stride 2, pad 1",-28} {"packed per call",16} {"lanes prepared",15} {"speed-up",9} {"Winograd",9} {"prepare us",11} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int o = (s.H + 2 - 3) / 2 + 1;
                float[] x = Fill(samples * s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), y = new float[samples * s.OC * o * o];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] lanes = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, v512, winograd: false)];
                float[] winograd = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 3, 2, 1, v512, winograd: true)];
                int inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                Action perCall = () =>
                {
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.ForwardOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, default, s.OC, 3, 2, 1, y.AsSpan(n * outLength, outLength), scratch, false, v512);
                };
                Action prepared = () =>
                {
                    StridedConvolution.PrepareOn(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, lanes, v512, winograd: false);
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.ForwardPreparedOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, lanes, s.OC, 3, 2, 1, y.AsSpan(n * outLength, outLength), scratch, false, v512, winograd: false);
                };
                Action transformed = () =>
                {
                    StridedConvolution.PrepareOn(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, winograd, v512, winograd: true);
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.ForwardPreparedOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, winograd, s.OC, 3, 2, 1, y.AsSpan(n * outLength, outLength), scratch, false, v512, winograd: true);
                };
                WarmUp(perCall); WarmUp(prepared); WarmUp(transformed);
                var (a, b) = InterleavedCpu(perCall, prepared);
                var (a2, c) = InterleavedCpu(perCall, transformed);
                a = Math.Min(a, a2);
                double prepare = TimeShort(() => StridedConvolution.PrepareOn(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, winograd, v512, winograd: true));
                int tile = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o})";
                Console.WriteLine($"{name,-28} {a / samples * 1e6,16:F2} {b / samples * 1e6,15:F2} {a / b,8:F2}x {(tile == 0 ? "-" : (c / samples * 1e6).ToString("F2")),9} {prepare * 1e6,11:F1} {(tile == 0 ? "" : (a / c).ToString("F2") + "x " + TileName(tile)),9}");
            }
        }

        // "strided-transform": StridedWinogradConvolution.TransformFilters (16 output channels a call, doubles in vectors)
        // against the same transform one filter at a time in scalar doubles (how it was written before), interleaved, this
        // thread's CPU time; the outputs compared bit for bit first. Training transforms once per pass and thread.
        private static void StridedTransform()
        {
            var shapes = new (int C, int H, int OC)[] { (16, 32, 32), (32, 32, 64), (64, 16, 128), (48, 16, 96), (64, 32, 128), (128, 16, 256) };
            Console.WriteLine($"{"filters of",-28} {"tile",5} {"one at a time us",17} {"vectors us",11} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int tile = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                var l = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile);
                float[] w = Fill(s.OC * s.C * 9, 5), a = new float[l.FiltersLength], b = new float[l.FiltersLength];
                ScalarStridedTransform(w, a, l);
                StridedWinogradConvolution.TransformFilters(w, b, l);
                for (int i = 0; i < a.Length; i++)
                    if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) throw new InvalidOperationException($"{s}: filters differ at {i}: {a[i]} against {b[i]}");
                var (scalar, vectors) = InterleavedCpu(() => ScalarStridedTransform(w, a, l), () => StridedWinogradConvolution.TransformFilters(w, b, l));
                Console.WriteLine($"{$"{s.C}x{s.H}x{s.H} -> {s.OC}",-28} {TileName(tile),5} {scalar * 1e6,17:F1} {vectors * 1e6,11:F1} {scalar / vectors,8:F2}x");
            }
        }

        private static void ScalarStridedTransform(ReadOnlySpan<float> weight, Span<float> filters, in StridedWinogradConvolution.Layout l)
        {
            int windowHeight = l.WindowHeight, windowWidth = l.WindowWidth, stride = l.FilterPositionStride;
            Span<double> rows = stackalloc double[windowHeight * 3], column = stackalloc double[windowHeight], u = stackalloc double[windowWidth];
            for (int ic = 0; ic < l.InChannels; ic++)
            {
                for (int lane = 0; lane < l.OutLanes; lane++)
                {
                    int at = WinogradF4Convolution.FilterAt(ic, lane, l.InChannels, l.OutGroups);
                    if (lane >= l.OutChannels)
                    {
                        for (int position = 0; position < l.Positions; position++) filters[position * stride + at] = 0f;
                        continue;
                    }
                    var g = weight.Slice((lane * l.InChannels + ic) * 9, 9);
                    for (int j = 0; j < 3; j++)
                    {
                        ScalarG(g[j], g[3 + j], g[6 + j], column, l.TileHeight);
                        for (int a = 0; a < windowHeight; a++) rows[a * 3 + j] = column[a];
                    }
                    for (int a = 0; a < windowHeight; a++)
                    {
                        ScalarG(rows[a * 3], rows[a * 3 + 1], rows[a * 3 + 2], u, l.TileWidth);
                        for (int b = 0; b < windowWidth; b++) filters[(a * windowWidth + b) * stride + at] = (float)u[b];
                    }
                }
            }

            static void ScalarG(double g0, double g1, double g2, Span<double> target, int tile)
            {
                if (tile == 2)
                {
                    target[0] = g0; target[1] = g0 + g2; target[2] = g2; target[3] = target[4] = g1;
                    return;
                }
                target[0] = g0 / 2; target[1] = (g0 + g2) / 2; target[2] = (g0 - g2) / 6; target[3] = g0 / 6 + g2 / 3; target[4] = g2;
                target[5] = target[6] = target[7] = target[8] = g1;
            }
        }

        // "strided-stem-link": a stride-2 layer that does not run Winograd (few input channels, or fewer than 32 output channels)
        // before one that does: its kernel's NCHW output then the next layer's padding pass, against the lanes kernel writing
        // straight into the next layer's padded input (StridedConvolution.ForwardPreparedLinked), interleaved; the basis of
        // StridedConvolution.LanesLink.
        private static void StridedStemLink()
        {
            var shapes = new (int C, int H, int OC, int NextOC)[]
            {
                (3, 32, 16, 32), (3, 64, 16, 32), (3, 64, 32, 64), (3, 128, 32, 64), (3, 64, 64, 128), (3, 128, 64, 128),
                (8, 64, 32, 64), (8, 32, 16, 32), (16, 64, 16, 32), (16, 32, 16, 32), (4, 96, 48, 96),
            };
            Console.WriteLine($"{"3x3 s2 p1 + ReLU, then a Winograd layer",-44} {"NCHW + pad us",14} {"linked us",10} {"speed-up",9}");
            foreach (var s in shapes)
            {
                int o = (s.H + 2 - 3) / 2 + 1;
                var none = StridedConvolution.Link.None;
                var next = StridedConvolution.Link.Convolution(s.OC, o, o, s.NextOC, 3, 2, 1, atEnd: true);
                if (StridedWinogradConvolution.TileFor(s.OC, o, o, s.NextOC, 1) == 0 || StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1) != 0) continue;
                float[] x = Fill(s.C * s.H * s.H, 1), y = new float[s.OC * o * o];
                float[] p = new float[StridedConvolution.PreparedLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                StridedConvolution.Prepare(Fill(s.OC * s.C * 9, 2), Fill(s.OC, 3), s.C, s.H, s.H, s.OC, 3, 2, 1, p);
                var layout = new StridedWinogradConvolution.Layout(s.OC, o, o, s.NextOC, 1, StridedWinogradConvolution.TileFor(s.OC, o, o, s.NextOC, 1));
                float[] padded = new float[layout.PaddedLength], staging = new float[1024];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] shared = new float[StridedConvolution.LinkedScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1, none, next)];
                var (unlinked, linked) = Interleaved(
                    () =>
                    {
                        StridedConvolution.ForwardPrepared(x, s.C, s.H, s.H, p, s.OC, 3, 2, 1, y, scratch, true);
                        WinogradF4Convolution.Pad(y, padded, staging, s.OC, o, o, 1, layout.PaddedWidth, layout.PaddedGroupStride);
                    },
                    () => StridedConvolution.ForwardPreparedLinked(x, s.C, s.H, s.H, p, s.OC, 3, 2, 1, y, shared, true, none, next));
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o}) -> {s.NextOC}";
                Console.WriteLine($"{name,-44} {unlinked * 1e6,14:F2} {linked * 1e6,10:F2} {unlinked / linked,8:F2}x");
            }
        }

        // The strided network's three convolutions (3x64x64 -> 32 -> 64 -> 128, stride 2, prepared, linked, ReLU, the last
        // one's global average pooling) for 32 samples: strided-group-chain's and strided-chunks' common setup.
        private sealed class StridedChain
        {
            public const int Batch = 32;
            public readonly StridedConvolution.Link None = StridedConvolution.Link.None;
            public readonly StridedConvolution.Link ToL1 = StridedConvolution.Link.Convolution(32, 32, 32, 64, 3, 2, 1, atEnd: true);
            public readonly StridedConvolution.Link FromL0 = StridedConvolution.Link.Convolution(3, 64, 64, 32, 3, 2, 1, atEnd: true);
            public readonly StridedConvolution.Link ToL2 = StridedConvolution.Link.Convolution(64, 16, 16, 128, 3, 2, 1, atEnd: false);
            public readonly StridedConvolution.Link FromL1 = StridedConvolution.Link.Convolution(32, 32, 32, 64, 3, 2, 1, atEnd: false);
            public readonly float[] P0 = new float[StridedConvolution.PreparedLength(3, 64, 64, 32, 3, 2, 1)];
            public readonly float[] P1 = new float[StridedConvolution.PreparedLength(32, 32, 32, 64, 3, 2, 1)];
            public readonly float[] P2 = new float[StridedConvolution.PreparedLength(64, 16, 16, 128, 3, 2, 1)];
            public readonly float[] W1 = Fill(64 * 32 * 9, 4), B1 = Fill(64, 5), W2 = Fill(128 * 64 * 9, 6), B2 = Fill(128, 7);
            public readonly float[] X = Fill(Batch * 3 * 64 * 64, 1), Maps = new float[32 * 32 * 32];

            public StridedChain()
            {
                StridedConvolution.Prepare(Fill(32 * 27, 2), Fill(32, 3), 3, 64, 64, 32, 3, 2, 1, P0);
                StridedConvolution.Prepare(W1, B1, 32, 32, 32, 64, 3, 2, 1, P1);
                StridedConvolution.Prepare(W2, B2, 64, 16, 16, 128, 3, 2, 1, P2);
            }

            // The scratch a sample at a time needs.
            public int ScratchLength => Math.Max(StridedConvolution.LinkedScratchLength(3, 64, 64, 32, 3, 2, 1, None, ToL1),
                Math.Max(StridedConvolution.LinkedScratchLength(32, 32, 32, 64, 3, 2, 1, FromL0, ToL2),
                    StridedConvolution.LinkedScratchLength(64, 16, 16, 128, 3, 2, 1, FromL1, StridedConvolution.Link.GlobalMean)));

            // Sample n through all three layers (the last on lastWeights), its 128 channel means into means.
            public void Sample(int n, float[] lastWeights, Span<float> means, float[] scratch) => Sample(n, P1, lastWeights, means, scratch);

            // The same with the 32 -> 64 layer on middleWeights.
            public void Sample(int n, float[] middleWeights, float[] lastWeights, Span<float> means, float[] scratch)
            {
                StridedConvolution.ForwardPreparedLinked(X.AsSpan(n * 12288, 12288), 3, 64, 64, P0, 32, 3, 2, 1, Maps, scratch, true, None, ToL1);
                StridedConvolution.ForwardPreparedLinked(Maps, 32, 32, 32, middleWeights, 64, 3, 2, 1, Maps, scratch, true, FromL0, ToL2);
                StridedConvolution.ForwardPreparedLinked(Maps, 64, 16, 16, lastWeights, 128, 3, 2, 1, means, scratch, true, FromL1, StridedConvolution.Link.GlobalMean);
            }
        }

        // "strided-group-chain [samples]": the strided network's three convolutions (prepared, linked, ReLU, the last one's
        // global average pooling) over 32 samples, in one process, interleaved: every layer a sample at a time (as evaluation
        // runs it), against the 64x16x16 -> 128 layer (8x8 outputs) as groups of 4 and 8 samples' 4x4 tiles
        // (StridedConvolution.Link.Group + ForwardPreparedSamples), µs per sample. Whether GroupTileFor should take 8x8 outputs.
        private static void StridedGroupChain(int samplesOverride)
        {
            const int Batch = StridedChain.Batch;
            var c = new StridedChain();
            float[] means = new float[Batch * 128], grouped = new float[Batch * 128];
            int[] groups = samplesOverride > 0 ? new[] { samplesOverride } : new[] { 4, 8 };
            foreach (int group in groups)
            {
                var toGroup = StridedConvolution.Link.Group(64, 16, 16, 128, 3, 2, 1, group);
                float[] pg = new float[StridedConvolution.GroupPreparedLength(64, 16, 16, 128, 3, 2, 1, group)];
                StridedConvolution.PrepareGroup(c.W2, c.B2, 64, 16, 16, 128, 3, 2, 1, pg, group);
                int slot = StridedConvolution.GroupLinkLength(c.FromL1, 64, 16, 16, 128, 3, 2, 1, group);
                float[] slots = new float[Batch * slot];
                int scratchLength = Math.Max(c.ScratchLength, Math.Max(StridedConvolution.LinkedScratchLength(32, 32, 32, 64, 3, 2, 1, c.FromL0, toGroup),
                    StridedConvolution.SamplesScratchLength(64, 16, 16, 128, 3, 2, 1, group)));
                float[] scratch = new float[scratchLength];
                var (oneAtATime, inGroups) = Interleaved(
                    () =>
                    {
                        for (int n = 0; n < Batch; n++) c.Sample(n, c.P2, means.AsSpan(n * 128, 128), scratch);
                    },
                    () =>
                    {
                        for (int n = 0; n < Batch; n++)
                        {
                            StridedConvolution.ForwardPreparedLinked(c.X.AsSpan(n * 12288, 12288), 3, 64, 64, c.P0, 32, 3, 2, 1, c.Maps, scratch, true, c.None, c.ToL1);
                            StridedConvolution.ForwardPreparedLinked(c.Maps, 32, 32, 32, c.P1, 64, 3, 2, 1, slots.AsSpan(n * slot, slot), scratch, true, c.FromL0, toGroup);
                        }
                        for (int start = 0; start < Batch; start += group)
                        {
                            int count = Math.Min(group, Batch - start);
                            StridedConvolution.ForwardPreparedSamples(slots.AsSpan(start * slot, count * slot), count, 64, 16, 16, pg, 128, 3, 2, 1, group,
                                grouped.AsSpan(start * 128, count * 128), scratch, true, means: true, c.FromL1);
                        }
                    });
                double largest = 0;
                for (int i = 0; i < means.Length; i++) largest = Math.Max(largest, Math.Abs(means[i] - grouped[i]));
                Console.WriteLine($"strided chain, 32 samples: a sample at a time {oneAtATime / Batch * 1e6,8:F2} us, 64->128 in groups of {group} {inGroups / Batch * 1e6,8:F2} us per sample ({oneAtATime / inGroups:F2}x; largest difference {largest:E1})");
            }
        }

        // "strided-chunks": the strided network's three convolutions a sample at a time (as evaluation runs them, 32 samples),
        // with the Winograd layers' tiles in chunks as the rule makes them against chunks of 8 and 4 tiles (smaller V and M
        // beside the filters in L2), interleaved; µs per sample.
        private static void StridedChunks()
        {
            const int Batch = StridedChain.Batch;
            var c = new StridedChain();
            float[] means = new float[Batch * 128];
            float[] scratch = new float[c.ScratchLength];
            Action chain(int chunk) => () =>
            {
                StridedWinogradConvolution.ChunkTilesOverride = chunk;
                for (int n = 0; n < Batch; n++) c.Sample(n, c.P2, means.AsSpan(n * 128, 128), scratch);
                StridedWinogradConvolution.ChunkTilesOverride = 0;
            };
            var times = InterleavedAll(chain(0), chain(8), chain(4));
            Console.WriteLine($"strided chain, 32 samples, us per sample: chunks by the rule {times[0] / Batch * 1e6:F2}, of 8 tiles {times[1] / Batch * 1e6:F2}, of 4 tiles {times[2] / Batch * 1e6:F2}");
            // The 64 -> 128 layer (8x8 outputs) on the 2x4 tile instead of the rule's (the 4x4 tile since session 37, the 2x2
            // before): filters of 1.47 MB.
            StridedWinogradConvolution.WideFiltersLimit = 64 * 128;
            float[] p2Wide = new float[StridedConvolution.PreparedLength(64, 16, 16, 128, 3, 2, 1)];
            StridedConvolution.Prepare(c.W2, c.B2, 64, 16, 16, 128, 3, 2, 1, p2Wide);
            float[] wideScratch = new float[Math.Max(scratch.Length, StridedConvolution.LinkedScratchLength(32, 32, 32, 64, 3, 2, 1, c.FromL0, c.ToL2))];
            StridedWinogradConvolution.WideFiltersLimit = 0;
            float[] wideMeans = new float[Batch * 128];
            Action pair(bool wide) => () =>
            {
                if (wide) StridedWinogradConvolution.WideFiltersLimit = 64 * 128;
                var last = wide ? p2Wide : c.P2;
                var mine = wide ? wideMeans : means;
                for (int n = 0; n < Batch; n++) c.Sample(n, last, mine.AsSpan(n * 128, 128), wideScratch);
                StridedWinogradConvolution.WideFiltersLimit = 0;
            };
            var tiles = InterleavedAll(pair(false), pair(true));
            double largest = 0;
            for (int i = 0; i < means.Length; i++) largest = Math.Max(largest, Math.Abs(means[i] - wideMeans[i]));
            Console.WriteLine($"strided chain, 32 samples, us per sample: 64->128 on the rule's tile {tiles[0] / Batch * 1e6:F2}, on the 2x4 tile {tiles[1] / Batch * 1e6:F2} (largest difference {largest:E1})");
        }

        // "strided-chain": the strided network's three convolutions a sample at a time (as evaluation runs them), over one
        // sample 32 times (batch 1: the same image again) and over 32 samples (a batch-64 thread's chunk), in this thread's CPU
        // time, interleaved (best of 40 rounds), µs per sample; the rule's kernels against one change each: the Winograd
        // positions' filters not shared (StridedWinogradConvolution.Layout.FilterSlots: 81 and 25 filters instead of 36 and
        // 16), and the 64x16x16 -> 128 layer (8x8 outputs) by the direct kernels, the 2x4 tile or the 2x2 tile (the rule's is
        // the 4x4 tile since session 37).
        private static void StridedChainVariants(string? only)
        {
            var variants = new (string Name, Action On)[]
            {
                ("filters per position", () => StridedWinogradConvolution.SharedFiltersOff = true),
                ("stem's padding cleared whole", () => StridedConvolution.WholePadClear = true),
                ("64->128 direct", () => StridedWinogradConvolution.SmallOutputTileOverride = 0),
                ("64->128 on 2x4", () => StridedWinogradConvolution.SmallOutputTileOverride = StridedWinogradConvolution.Wide),
                ("64->128 on 2x2", () => StridedWinogradConvolution.SmallOutputTileOverride = 2),
            };
            static void Off()
            {
                StridedWinogradConvolution.SharedFiltersOff = false;
                StridedWinogradConvolution.SmallOutputTileOverride = -1;
                StridedConvolution.WholePadClear = false;
            }
            const int Batch = StridedChain.Batch;
            var c = new StridedChain();
            var prepared = new (float[] P1, float[] P2)[variants.Length];
            int scratchLength = c.ScratchLength;
            for (int v = 0; v < variants.Length; v++)
            {
                variants[v].On();
                prepared[v] = (new float[StridedConvolution.PreparedLength(32, 32, 32, 64, 3, 2, 1)], new float[StridedConvolution.PreparedLength(64, 16, 16, 128, 3, 2, 1)]);
                StridedConvolution.Prepare(c.W1, c.B1, 32, 32, 32, 64, 3, 2, 1, prepared[v].P1);
                StridedConvolution.Prepare(c.W2, c.B2, 64, 16, 16, 128, 3, 2, 1, prepared[v].P2);
                scratchLength = Math.Max(scratchLength, c.ScratchLength);
                Off();
            }
            float[] scratch = new float[scratchLength];
            float[] means = new float[Batch * 128], otherMeans = new float[Batch * 128];
            for (int v = 0; v < variants.Length; v++)
            {
                if (only is not null && !variants[v].Name.Contains(only, StringComparison.Ordinal)) continue;
                foreach (bool batchOne in new[] { true, false })
                {
                    Action run(bool variant) => () =>
                    {
                        if (variant) variants[v].On();
                        for (int n = 0; n < Batch; n++)
                            c.Sample(batchOne ? 0 : n, variant ? prepared[v].P1 : c.P1, variant ? prepared[v].P2 : c.P2, (variant ? otherMeans : means).AsSpan(n * 128, 128), scratch);
                        Off();
                    };
                    var (rule, other) = InterleavedCpu(run(false), run(true));
                    double largest = 0;
                    for (int i = 0; i < means.Length; i++) largest = Math.Max(largest, Math.Abs(means[i] - otherMeans[i]));
                    Console.WriteLine($"strided chain, {(batchOne ? "one sample 32 times" : "32 samples"),-20} us per sample, CPU: the rule {rule / Batch * 1e6,7:F2}, {variants[v].Name} {other / Batch * 1e6,7:F2} ({rule / other:F2}x; largest difference {largest:E1})");
                }
            }
            // The generated network's Forward at batch 1 and 32 with both of session 13's changes against neither (the shared
            // filter slots off and the padding cleared whole, for its preparation and every call).
            // With a variant named, the same comparison against that variant alone.
            int named = only is null ? -1 : Array.FindIndex(variants, variant => variant.Name.Contains(only, StringComparison.Ordinal));
            string beforeName = named < 0 ? "before session 13" : variants[named].Name;
            void Before(bool on)
            {
                if (named >= 0)
                {
                    if (on) variants[named].On();
                    else Off();
                    return;
                }
                StridedWinogradConvolution.SharedFiltersOff = on;
                StridedConvolution.WholePadClear = on;
            }
            foreach (int batch in new[] { 1, 32 })
            {
                var now = new CnnGen.Benchmarks.StridedNet();
                now.ResetParameters(1);
                var before = new CnnGen.Benchmarks.StridedNet();
                before.ResetParameters(1);
                var nowWorkspace = now.CreateWorkspace(batch);
                Before(true);
                var beforeWorkspace = before.CreateWorkspace(batch);
                Before(false);
                float[] images = Fill(batch * CnnGen.Benchmarks.StridedNet.InputLength, 7), nowOut = new float[batch * 10], beforeOut = new float[batch * 10];
                var (current, previous) = InterleavedCpu(
                    () => now.Forward(images, nowOut, batch, nowWorkspace),
                    () => { Before(true); before.Forward(images, beforeOut, batch, beforeWorkspace); Before(false); });
                double largest = 0;
                for (int i = 0; i < nowOut.Length; i++) largest = Math.Max(largest, Math.Abs(nowOut[i] - beforeOut[i]));
                Console.WriteLine($"StridedNet.Forward, batch {batch,2}, us per image, CPU: now {current / batch * 1e6,7:F2}, {beforeName} {previous / batch * 1e6,7:F2} ({previous / current:F2}x; largest difference {largest:E1})");
            }
        }

        private static string TileName(int tile) => tile == 0 ? "direct" : tile == StridedWinogradConvolution.Wide ? "2x4" : tile + "x" + tile;

        // "eval-cpu": evaluation's Forward per image in this thread's CPU time (robust to a loaded machine), best of 15 rounds:
        // batch 1 on a workspace for one, and batch 32 (one thread's half of batch 64) on a workspace for 32 [name part].
        // "gemv-panels": one sample through a Linear layer, the GEMM's dot products (eight weight rows streamed at once) against
        // the weights packed once into its panels (Gemm.MultiplyPacked: read front to back), best of interleaved rounds, with the
        // bandwidth each reads its weights at. LinearEmitter.PackedAtBatchOne takes the panels at batch 1 from this.
        private static void GemvPanels()
        {
            foreach (var (n, k) in new[] { (512, 784), (256, 512), (1024, 1024), (4096, 512), (10, 256), (120, 400) })
            {
                float[] x = Fill(k, 1), w = Fill(n * k, 2), y = new float[n];
                var packed = new float[Gemm.PackedLength(n, k)];
                Gemm.PackTransposed(w, n, k, packed);
                Action dots = () => Gemm.Multiply(false, true, 1, n, k, x, k, w, k, y, n, accumulate: false);
                Action panels = () => Gemm.MultiplyPacked(1, n, k, x, k, packed, y, n, accumulate: false);
                var (a, b) = Interleaved(dots, panels);
                Console.WriteLine($"{k} -> {n} ({n * k * 4 / 1024} KB): dots {a * 1e6:F2} us ({n * k * 4 / a / 1e9:F0} GB/s), panels {b * 1e6:F2} us ({n * k * 4 / b / 1e9:F0} GB/s), {a / b:F2}x");
            }
        }

        // "activations": each element-wise activation over 16K values in [-4, 4] (L1/L2-resident), ns per vector of 16, the
        // best of TimeShort's batches: what a network pays per activation pass, against a copy.
        private static void ActivationCosts()
        {
            float[] x = Fill(16384, 5), dy = Fill(16384, 6), y = new float[16384];
            for (int i = 0; i < x.Length; i++) x[i] = 8 * x[i] - 4;
            var steps = new (string Name, Action Run)[]
            {
                ("copy", () => x.AsSpan().CopyTo(y)),
                ("ReLU", () => Elementwise.Relu(x, y)),
                ("Hardswish", () => Activations.Hardswish(x, y)),
                ("Sigmoid", () => Activations.Sigmoid(x, y)),
                ("SiLU", () => Activations.Silu(x, y)),
                ("Tanh", () => Activations.Tanh(x, y)),
                ("GELU (erf)", () => Activations.Gelu(x, y, tanhApproximation: false)),
                ("GELU (tanh)", () => Activations.Gelu(x, y, tanhApproximation: true)),
                ("GELU (erf) on V256", () => Activations.GeluOn(x, y, false, DirectConvolution.KernelPath.Vector256)),
                ("SiLU on V256", () => Activations.SiluOn(x, y, DirectConvolution.KernelPath.Vector256)),
                ("SiLU backward", () => Activations.SiluBackward(x, dy, y)),
                ("GELU (erf) backward", () => Activations.GeluBackward(x, dy, y, tanhApproximation: false)),
            };
            foreach (var (name, run) in steps)
                Console.WriteLine($"{name,-22} {TimeShort(run) * 1e9 / (x.Length / 16),6:F2} ns per vector of 16");
        }

        // "eval-loop NAME BATCH SECONDS": one of eval-cpu's networks evaluated over and over on one thread, for perf.
        private static void EvaluationLoop(string only, int batch, double seconds)
        {
            var (name, create) = EvaluationNetworks.First(n => n.Name.Contains(only, StringComparison.Ordinal));
            var network = create();
            var workspace = network.CreateWorkspace(batch);
            float[] images = Fill(batch * network.Layout.Input.Length, 7), outputs = new float[batch * network.Layout.Output.Length];
            long start = ThreadNanoseconds(), calls = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds) { network.Forward(images, outputs, batch, workspace); calls++; }
            Console.WriteLine($"{name} batch {batch}: {(ThreadNanoseconds() - start) / 1e3 / calls / batch:F2} us CPU per image");
        }

        private static void EvaluationCpu(string? only)
        {
            var networks = EvaluationNetworks;
            foreach (var (name, create) in networks)
            {
                if (only is not null && !name.Contains(only, StringComparison.Ordinal)) continue;
                EvaluationCpuOf(name, create);
            }
        }

        // "eval-chunks [name part]": evaluation's Forward per image in this thread's CPU time at batch 1, 4, 8, 16 and 32 (one
        // workspace for 32), interleaved rounds, best of each: what ParallelEvaluation pays per image when it hands a thread
        // its samples in chunks of that size instead of one run of half the batch.
        private static void EvaluationChunks(string? only)
        {
            int[] sizes = { 1, 4, 8, 16, 32 };
            var networks = new (string Name, Func<CnnGen.INetwork> Create)[]
            {
                ("LeNet-5", () => { var n = new CnnGen.Tests.Fixtures.LeNet5(); n.ResetParameters(1); return n; }),
                ("CIFAR", () => { var n = new CnnGen.Benchmarks.CifarNet(); n.ResetParameters(1); return n; }),
            }.Concat(EvaluationNetworks);
            Console.WriteLine($"{"network",-30} " + string.Join(" ", sizes.Select(b => $"{"batch " + b,10}")) + "  (us CPU per image)");
            foreach (var (name, create) in networks)
            {
                if (only is not null && !name.Contains(only, StringComparison.Ordinal)) continue;
                var network = create();
                int inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
                var workspace = network.CreateWorkspace(32);
                float[] images = Fill(32 * inLength, 7), outputs = new float[32 * outLength];
                var best = sizes.Select(_ => double.MaxValue).ToArray();
                for (int round = 0; round < 9; round++)
                {
                    for (int i = 0; i < sizes.Length; i++)
                    {
                        int batch = sizes[i];
                        long start = ThreadNanoseconds();
                        int calls = 0;
                        do
                        {
                            network.Forward(images.AsSpan(0, batch * inLength), outputs.AsSpan(0, batch * outLength), batch, workspace);
                            calls++;
                        }
                        while (ThreadNanoseconds() - start < 4_000_000);
                        best[i] = Math.Min(best[i], (ThreadNanoseconds() - start) / 1e3 / calls / batch);
                    }
                }
                Console.WriteLine($"{name,-30} " + string.Join(" ", best.Select(b => $"{b,10:F2}")));
            }
        }

        // The networks eval-parallel and eval-scaling time: LeNet-5 and CIFAR, then eval-cpu's.
        private static System.Collections.Generic.IEnumerable<(string Name, Func<CnnGen.INetwork> Create)> ParallelNetworks =>
            new (string Name, Func<CnnGen.INetwork> Create)[]
            {
                ("LeNet-5", () => { var n = new CnnGen.Tests.Fixtures.LeNet5(); n.ResetParameters(1); return n; }),
                ("CIFAR", () => { var n = new CnnGen.Benchmarks.CifarNet(); n.ResetParameters(1); return n; }),
            }.Concat(EvaluationNetworks);

        // Rounds of 0.3 s alternated between two evaluators at batch 64 in one process: wall-clock µs per image of each round.
        private static (System.Collections.Generic.List<double> A, System.Collections.Generic.List<double> B) AlternatedRounds(
            ParallelEvaluation a, ParallelEvaluation b, float[] images, float[] outputA, float[] outputB, int batch, int rounds)
        {
            var times = (A: new System.Collections.Generic.List<double>(), B: new System.Collections.Generic.List<double>());
            for (int round = 0; round < rounds; round++)
            {
                for (int side = 0; side < 2; side++)
                {
                    var evaluator = side == 0 ? a : b;
                    var output = side == 0 ? outputA : outputB;
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    int calls = 0;
                    do { evaluator.Forward(images, output, batch); calls++; } while (clock.Elapsed.TotalSeconds < 0.3);
                    (side == 0 ? times.A : times.B).Add(clock.Elapsed.TotalMilliseconds * 1e3 / calls / batch);
                }
            }
            return times;
        }

        private static double Median(System.Collections.Generic.List<double> values)
        {
            var sorted = values.OrderBy(x => x).ToList();
            return (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
        }

        // "eval-scaling [name part] [rounds]": batch 64 on one thread against ParallelEvaluation on two (as it cuts), rounds of
        // 0.3 s alternated in one process, wall-clock µs per image, median and best: what the second thread is worth.
        private static void EvaluationScaling(string? only, int rounds)
        {
            const int batch = 64;
            Console.WriteLine($"{"network",-30} {"1 thread: median",16} {"best",8}  {"2 threads: median",17} {"best",8}  {"scaling median",14} {"best",6}  (us per image, wall)");
            foreach (var (name, create) in ParallelNetworks)
            {
                if (only is not null && !name.Contains(only, StringComparison.Ordinal)) continue;
                var network = create();
                using var one = new ParallelEvaluation(network, 1, batch);
                using var two = new ParallelEvaluation(network, 2, batch);
                float[] images = Fill(batch * network.Layout.Input.Length, 7), output = new float[batch * network.Layout.Output.Length];
                var (timesOne, timesTwo) = AlternatedRounds(one, two, images, output, output, batch, rounds);
                double medianOne = Median(timesOne), medianTwo = Median(timesTwo), bestOne = timesOne.Min(), bestTwo = timesTwo.Min();
                Console.WriteLine($"{name,-30} {medianOne,16:F2} {bestOne,8:F2}  {medianTwo,17:F2} {bestTwo,8:F2}  {medianOne / medianTwo,13:F3}x {bestOne / bestTwo,5:F3}x");
            }
        }

        // "eval-parallel [name part] [rounds]": ParallelEvaluation at batch 64 on two threads, wall-clock µs per image, the batch
        // split evenly (one run per thread) against handed out in shrinking runs as threads come free (Guided), rounds of
        // 0.3 s alternated in one process: what the cut is worth on a host that slows one thread down more than the other.
        private static void EvaluationParallel(string? only, int rounds)
        {
            const int batch = 64;
            Console.WriteLine($"{"network",-30} {"reuse",7} {"rule",6}  {"even: median",12} {"best",8}  {"guided: median",14} {"best",8}  {"even/guided median",18} {"best",6}  (us per image, wall)");
            foreach (var (name, create) in ParallelNetworks)
            {
                if (only is not null && !name.Contains(only, StringComparison.Ordinal)) continue;
                var network = create();
                using var even = new ParallelEvaluation(network, 2, batch);
                using var guided = new ParallelEvaluation(network, 2, batch);
                bool rule = guided.Guided;
                even.Guided = false;
                guided.Guided = true;
                float[] images = Fill(batch * network.Layout.Input.Length, 7);
                float[] outEven = new float[batch * network.Layout.Output.Length], outGuided = new float[outEven.Length];
                var (timesEven, timesGuided) = AlternatedRounds(even, guided, images, outEven, outGuided, batch, rounds);
                for (int i = 0; i < outEven.Length; i++)
                    if (Math.Abs(outEven[i] - outGuided[i]) > 1e-4f * (1 + Math.Abs(outEven[i]))) // Linear sums a run's samples in blocks
                        throw new InvalidOperationException($"{name}: the two cuts differ at output {i}");
                double medianEven = Median(timesEven), medianGuided = Median(timesGuided), bestEven = timesEven.Min(), bestGuided = timesGuided.Min();
                Console.WriteLine($"{name,-30} {CnnGen.ParallelEvaluation.ReusePerSample(network.Layout),7:F0} {(rule ? "guided" : "even"),6}  {medianEven,12:F2} {bestEven,8:F2}  {medianGuided,14:F2} {bestGuided,8:F2}  {medianEven / medianGuided,17:F3}x {bestEven / bestGuided,5:F3}x");
            }
        }

        private static readonly (string Name, Func<CnnGen.INetwork> Create)[] EvaluationNetworks =
            new (string Name, Func<CnnGen.INetwork> Create)[]
            {
                ("strided", () => { var n = new CnnGen.Benchmarks.StridedNet(); n.ResetParameters(1); return n; }),
                ("ResNet-8", () => { var n = new CnnGen.Tests.Fixtures.ResNet8(); n.ResetParameters(1); return n; }),
                ("MobileNetV2", () => { var n = new CnnGen.Tests.Fixtures.MobileNetV2(); n.ResetParameters(1); return n; }),
                ("odd map 3x37x37", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.OddMapNet(); n.ResetParameters(1); return n; }),
                ("odd 12->20 s2 @37", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.Probes.Odd20s2At37(); n.ResetParameters(1); return n; }),
                ("stem 7x7 @112 + max pool", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.Probes.Stem7x7At112(); n.ResetParameters(1); return n; }),
                ("stem 7x7 @112 alone", () => { var n = new Networks.Stem7x7At112Alone(); n.ResetParameters(1); return n; }),
                ("MLP 784-512-256-10", () => { var n = new Networks.MlpNet(); n.ResetParameters(1); return n; }),
                ("3x3 512->512 @4x4", () => { var n = new Networks.Wide512At4(); n.ResetParameters(1); return n; }),
                ("dilated 2 and 4, SiLU", () => { var n = new Networks.DilatedSiluNet(); n.ResetParameters(1); return n; }),
                ("bottlenecks 256x14x14", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.Bottleneck14Net(); n.ResetParameters(1); return n; }),
                ("ResNeXt down block 64x32x32", () => { var n = new Networks.ResNeXtDownBlock(); n.ResetParameters(1); return n; }),
                ("shortcut 1x1 s2 256->512 @14", () => { var n = new Networks.Shortcut256To512At14(); n.ResetParameters(1); return n; }),
                ("shortcut 1x1 s2 40->72 @38", () => { var n = new Networks.Shortcut40To72At38(); n.ResetParameters(1); return n; }),
                ("MobileNetV1-style 3x112x112", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.MobileNet112Net(); n.ResetParameters(1); return n; }),
                ("MobileNetV3-style", () => { var n = new CnnGen.Benchmarks.Zoo.Sweep2.MobileNetV3Net(); n.ResetParameters(1); return n; }),
            };

        private static void EvaluationCpuOf(string name, Func<CnnGen.INetwork> create)
        {
            {
                var network = create();
                int inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
                var one = network.CreateWorkspace(1);
                var half = network.CreateWorkspace(32);
                float[] image = Fill(inLength, 6), output = new float[outLength], images = Fill(32 * inLength, 7), outputs = new float[32 * outLength];
                double best1 = double.MaxValue, best32 = double.MaxValue;
                for (int round = 0; round < 15; round++)
                {
                    long start = ThreadNanoseconds();
                    int calls = 0;
                    do { network.Forward(image, output, 1, one); calls++; } while (ThreadNanoseconds() - start < 2_000_000);
                    best1 = Math.Min(best1, (ThreadNanoseconds() - start) / 1e3 / calls);
                    start = ThreadNanoseconds();
                    network.Forward(images, outputs, 32, half);
                    best32 = Math.Min(best32, (ThreadNanoseconds() - start) / 1e3 / 32);
                }
                Console.WriteLine($"{name,-24} batch 1 {best1,9:F2} us CPU   batch 32 {best32,9:F2} us CPU per image");
            }
        }

        // "strided-net": the strided benchmark network's evaluation forward at batch 1: its three convolutions as the generated
        // code calls them (prepared weights, folded batch-norm, ReLU), the stride-2 3x3 ones on the direct kernels and on the path
        // StridedConvolution picks (interleaved), then the generated network's Forward at batch 1 and per image at batch 32.
        private static void StridedNetLayers()
        {
            var v512 = DirectConvolution.KernelPath.Vector512;
            var path = Vector512.IsHardwareAccelerated && Simd.Enabled ? v512 : DirectConvolution.KernelPath.Vector256;
            float[] scratch = new float[1 << 21];
            var layers = new (string Name, int C, int H, int OC, float[] X, float[] Y)[]
            {
                ("conv 3->32 s2 @64x64 +ReLU", 3, 64, 32, Fill(3 * 64 * 64, 1), new float[32 * 32 * 32]),
                ("conv 32->64 s2 @32x32 +ReLU", 32, 32, 64, Fill(32 * 32 * 32, 2), new float[64 * 16 * 16]),
                ("conv 64->128 s2 @16x16 +ReLU", 64, 16, 128, Fill(64 * 16 * 16, 3), new float[128 * 8 * 8]),
            };
            double direct = 0, picked = 0;
            foreach (var l in layers)
            {
                float[] w = Fill(l.OC * l.C * 9, 4), b = Fill(l.OC, 5);
                float[] d = new float[StridedConvolution.PreparedLengthOn(l.C, l.H, l.H, l.OC, 3, 2, 1, path, winograd: false)];
                float[] p = new float[StridedConvolution.PreparedLengthOn(l.C, l.H, l.H, l.OC, 3, 2, 1, path, winograd: true)];
                StridedConvolution.PrepareOn(w, b, l.C, l.H, l.H, l.OC, 3, 2, 1, d, path, winograd: false);
                StridedConvolution.PrepareOn(w, b, l.C, l.H, l.H, l.OC, 3, 2, 1, p, path, winograd: true);
                var (td, tp) = Interleaved(
                    () => StridedConvolution.ForwardPreparedOn(l.X, l.C, l.H, l.H, d, l.OC, 3, 2, 1, l.Y, scratch, true, path, winograd: false),
                    () => StridedConvolution.ForwardPreparedOn(l.X, l.C, l.H, l.H, p, l.OC, 3, 2, 1, l.Y, scratch, true, path, winograd: true));
                int tile = StridedWinogradConvolution.TileFor(l.C, l.H, l.H, l.OC, 1);
                double flops = 2.0 * l.OC * (l.H / 2) * (l.H / 2) * l.C * 9;
                Console.WriteLine($"{l.Name,-30} direct {td * 1e6,7:F2} us ({flops / td / 1e9,5:F1} GFLOP/s)   picked {(tile == 0 ? "direct" : TileName(tile) + " Winograd"),-13} {tp * 1e6,7:F2} us ({flops / tp / 1e9,5:F1} GFLOP/s*)  {td / tp,5:F2}x");
                direct += td;
                picked += tp;
            }
            Console.WriteLine($"{"three convolutions",-30} direct {direct * 1e6,7:F2} us                   picked {"",-13} {picked * 1e6,7:F2} us");
            // The same three layers on the picked kernels, then the global average pooling: through NCHW (each layer pads
            // its input and writes NCHW maps, then a mean per channel), against linked (StridedConvolution.ForwardPreparedLinked,
            // as the generated code calls it: the maps handed on in the Winograd kernel's padded layout, the means summed in
            // the last output transform), interleaved.
            {
                var prepared = layers.Select(l =>
                {
                    float[] p = new float[StridedConvolution.PreparedLength(l.C, l.H, l.H, l.OC, 3, 2, 1)];
                    StridedConvolution.Prepare(Fill(l.OC * l.C * 9, 4), Fill(l.OC, 5), l.C, l.H, l.H, l.OC, 3, 2, 1, p);
                    return p;
                }).ToArray();
                var none = StridedConvolution.Link.None;
                var links = new StridedConvolution.Link[4];
                links[0] = none;
                links[1] = StridedConvolution.Link.Convolution(32, 32, 32, 64, 3, 2, 1, atEnd: true);
                links[2] = StridedConvolution.Link.Convolution(64, 16, 16, 128, 3, 2, 1, atEnd: false);
                links[3] = StridedConvolution.Link.GlobalMean;
                var froms = new[] { none, StridedConvolution.Link.Convolution(3, 64, 64, 32, 3, 2, 1, atEnd: true), StridedConvolution.Link.Convolution(32, 32, 32, 64, 3, 2, 1, atEnd: false) };
                float[] means = new float[128];
                int linkedScratch = 0;
                for (int i = 0; i < 3; i++)
                    linkedScratch = Math.Max(linkedScratch, StridedConvolution.LinkedScratchLength(layers[i].C, layers[i].H, layers[i].H, layers[i].OC, 3, 2, 1, froms[i], links[i + 1]));
                float[] shared = new float[linkedScratch];
                var (throughMaps, linked) = Interleaved(
                    () =>
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            var l = layers[i];
                            StridedConvolution.ForwardPrepared(i == 0 ? l.X : layers[i - 1].Y, l.C, l.H, l.H, prepared[i], l.OC, 3, 2, 1, l.Y, scratch, true);
                        }
                        var last = layers[2].Y;
                        for (int oc = 0; oc < 128; oc++)
                        {
                            float sum = 0f;
                            for (int c = 0; c < 64; c++) sum += last[oc * 64 + c];
                            means[oc] = sum / 64;
                        }
                    },
                    () =>
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            var l = layers[i];
                            StridedConvolution.ForwardPreparedLinked(i == 0 ? l.X : layers[i - 1].Y, l.C, l.H, l.H, prepared[i], l.OC, 3, 2, 1, i == 2 ? means : l.Y, shared, true, froms[i], links[i + 1]);
                        }
                    });
                Console.WriteLine($"{"three convolutions + GAP",-30} through NCHW {throughMaps * 1e6,7:F2} us   linked {linked * 1e6,7:F2} us   {throughMaps / linked,5:F2}x");
            }
            var network = new CnnGen.Benchmarks.StridedNet();
            network.ResetParameters(1);
            const int Half = 32;
            var workspace1 = network.CreateWorkspace(1);
            var workspace32 = network.CreateWorkspace(Half);
            float[] image = Fill(3 * 64 * 64, 6), output = new float[10], images32 = Fill(Half * 3 * 64 * 64, 7), outputs32 = new float[Half * 10];
            double whole = double.MaxValue, whole32 = double.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                whole = Math.Min(whole, TimeShort(() => network.Forward(image, output, 1, workspace1)));
                whole32 = Math.Min(whole32, TimeShort(() => network.Forward(images32, outputs32, Half, workspace32)) / Half);
            }
            Console.WriteLine($"{"StridedNet.Forward, batch 1",-30} {whole * 1e6,9:F2} us");
            Console.WriteLine($"{"StridedNet.Forward, batch 32, per image",-30} {whole32 * 1e6,9:F2} us");
        }

        // "strided-samples": a group of samples through a stride-2 3x3 layer (+ReLU, NCHW in and out): one sample at a time on
        // the path StridedConvolution picks per sample, against the group's tiles as one GEMM per position with the 4x4 tile
        // and with the 2x2 tile (StridedWinogradConvolution.ForwardSamples); µs per sample, best of interleaved rounds. The
        // group is as many samples as give the 4x4 tile 16 GEMM rows (or the rows given). The basis of StridedConvolution.GroupTileFor.
        // "strided-samples bottleneck": the bottlenecks' shapes and the odd output sides only (the last 15).
        private static void StridedSamples(int rows, bool only = false)
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (16, 16, 32), (24, 16, 48), (32, 16, 64), (48, 16, 96), (64, 16, 128), (128, 16, 256), (256, 16, 256),
                (16, 8, 32), (32, 8, 64), (64, 8, 128), (128, 8, 256), (256, 8, 512), (32, 12, 64), (96, 12, 192),
                (64, 4, 128), (256, 4, 512), (32, 32, 64), (64, 32, 128),
                // ResNet-50-style bottlenecks' stride-2 3x3 (session 11): 28 -> 14 and 14 -> 7, outputs no 4x4 tiles cover.
                (64, 14, 64), (128, 14, 128), (256, 14, 256), (64, 28, 64), (128, 28, 128), (256, 28, 256),
                // Odd output sides (7x7, 5x5), which neither tile covers exactly.
                (32, 14, 64), (96, 14, 96), (64, 14, 128), (128, 14, 256), (128, 13, 128), (64, 10, 64), (128, 10, 128),
                (256, 10, 256), (64, 9, 64),
            };
            if (only) shapes = shapes[^15..];
            Console.WriteLine($"{"3x3 s2 p1 + ReLU (in -> out)",-32} {"group",5} {"per sample",11} {"path",7} {"4x4 group",10} {"2x2 group",10} {"4x4 x",6} {"2x2 x",6} {"picked",7}");
            foreach (var s in shapes)
            {
                int o = (s.H - 1) / 2 + 1;
                var four = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, 4);
                int group = Math.Max(1, (rows + four.Tiles - 1) / four.Tiles);
                four = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, 4, group);
                var two = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, 2, group);
                float[] w = Fill(s.OC * s.C * 9, 2), bias = Fill(s.OC, 3), x = Fill(group * s.C * s.H * s.H, 1), y = new float[group * s.OC * o * o];
                float[] prepared = new float[StridedConvolution.PreparedLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                StridedConvolution.Prepare(w, bias, s.C, s.H, s.H, s.OC, 3, 2, 1, prepared);
                float[] scratch = new float[Math.Max(Math.Max(four.ScratchLength, two.ScratchLength), StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1))];
                float[] filters4 = new float[four.FiltersLength], filters2 = new float[two.FiltersLength];
                StridedWinogradConvolution.TransformFilters(w, filters4, four);
                StridedWinogradConvolution.TransformFilters(w, filters2, two);
                int sampleIn = s.C * s.H * s.H, sampleOut = s.OC * o * o;
                double perSample = double.MaxValue, grouped4 = double.MaxValue, grouped2 = double.MaxValue;
                for (int round = 0; round < 5; round++)
                {
                    perSample = Math.Min(perSample, TimeShort(() =>
                    {
                        for (int n = 0; n < group; n++)
                            StridedConvolution.ForwardPrepared(x.AsSpan(n * sampleIn, sampleIn), s.C, s.H, s.H, prepared, s.OC, 3, 2, 1, y.AsSpan(n * sampleOut, sampleOut), scratch, true);
                    }));
                    grouped4 = Math.Min(grouped4, TimeShort(() => StridedWinogradConvolution.ForwardSamples(x, default, 0, group, filters4, bias, y, scratch, true, four, means: false)));
                    if (StridedWinogradConvolution.RunsTile(2)) // the 2x2 tile runs with AVX-512 only
                        grouped2 = Math.Min(grouped2, TimeShort(() => StridedWinogradConvolution.ForwardSamples(x, default, 0, group, filters2, bias, y, scratch, true, two, means: false)));
                }
                int tile = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                int picked = StridedConvolution.GroupTileFor(s.C, s.H, s.H, s.OC, 1);
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({o}x{o})";
                Console.WriteLine($"{name,-32} {group,5} {perSample / group * 1e6,11:F2} {TileName(tile),7} {grouped4 / group * 1e6,10:F2} {grouped2 / group * 1e6,10:F2} {perSample / grouped4,5:F2}x {perSample / grouped2,5:F2}x {(picked == 0 ? "-" : TileName(picked)),7}");
            }
        }

        // "strided-steps": StridedWinogradConvolution.Forward split into its steps (each timed alone, on warm buffers) for the
        // strided network's two Winograd layers and a few more shapes: padding, input transform, the GEMMs, output transform
        // (bias, ReLU), and the transposes back to NCHW; then the whole call. The tile is TileFor's (2 where it picks the direct
        // kernels), or the one given ("strided-steps 4").
        private static void StridedWinogradSteps(int forcedTile)
        {
            var shapes = new (int C, int H, int OC)[] { (32, 32, 64), (64, 16, 128), (32, 64, 64), (64, 32, 128), (128, 8, 256) };
            Console.WriteLine($"{"3x3 s2 p1 + ReLU",-26} {"tile",4} {"pad",7} {"input",7} {"GEMMs",7} {"GFLOP/s",8} {"output",7} {"unpack",7} {"sum",7} {"Forward",8}");
            foreach (var s in shapes)
            {
                int tile = StridedWinogradConvolution.TileFor(s.C, s.H, s.H, s.OC, 1);
                if (tile == 0) tile = StridedWinogradConvolution.RunsTile(2) ? 2 : 4;
                if (forcedTile != 0) tile = forcedTile;
                var l = new StridedWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, 1, tile);
                float[] x = Fill(s.C * s.H * s.H, 1), w = Fill(s.OC * s.C * 9, 2), bias = Fill(s.OC, 3), y = new float[s.OC * l.OutHeight * l.OutWidth];
                float[] filters = new float[l.FiltersLength], scratch = new float[l.ScratchLength];
                StridedWinogradConvolution.TransformFilters(w, filters, l);
                var staging = scratch.AsMemory(0, l.StagingLength);
                int at = l.StagingLength;
                var padded = scratch.AsMemory(at, l.PaddedLength); at += l.PaddedLength;
                var transformed = scratch.AsMemory(at, l.TransformedLength); at += l.TransformedLength;
                var products = scratch.AsMemory(at, l.ProductLength); at += l.ProductLength;
                var outputs = scratch.AsMemory(at, l.OutputLength);
                var sink = new StridedWinogradConvolution.Sink(l.OutputGroupStride, l.OutWidth, 0, means: false);
                StridedWinogradConvolution.Forward(x, filters, bias, y, scratch, true, l);
                double pad = TimeShort(() => StridedWinogradConvolution.PadInput(x, padded.Span, staging.Span, l));
                void TransformInputs()
                {
                    for (int chunk = 0; chunk < l.Chunks; chunk++)
                    {
                        int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                        StridedWinogradConvolution.TransformInput(padded.Span, transformed.Span, staging.Span, first, count, l);
                    }
                }
                double input = TimeShort(TransformInputs);
                void GemmsOnly()
                {
                    for (int chunk = 0; chunk < l.Chunks; chunk++)
                    {
                        int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                        StridedWinogradConvolution.Multiply(transformed.Span, filters, products.Span, count, l);
                    }
                }
                double gemm = TimeShort(GemmsOnly);
                void OutputsOnly()
                {
                    for (int chunk = 0; chunk < l.Chunks; chunk++)
                    {
                        int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                        StridedWinogradConvolution.TransformOutputs(products.Span, staging.Span, outputs.Span, first, count, true, l, sink);
                    }
                }
                double output = TimeShort(OutputsOnly);
                if (Environment.GetEnvironmentVariable("STEPS_LOOP") is { } step)
                {
                    // One step alone for 5 s, for `perf stat` (cycles, instructions): input, GEMMs or output.
                    var chosen = step == "input" ? TransformInputs : step == "gemm" ? GemmsOnly : (Action)OutputsOnly;
                    var clock = Stopwatch.StartNew();
                    long calls = 0;
                    while (clock.Elapsed.TotalSeconds < 5) { chosen(); calls++; }
                    Console.WriteLine($"{step}: {clock.Elapsed.TotalSeconds / calls * 1e6:F2} us a call, {calls} calls");
                    return;
                }
                double unpack = TimeShort(() => StridedWinogradConvolution.UnpackOutputs(outputs.Span, y, staging.Span, l));
                double whole = TimeShort(() => StridedWinogradConvolution.Forward(x, filters, bias, y, scratch, true, l));
                double flops = 2.0 * l.Positions * l.Tiles * l.InChannels * l.OutLanes;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({l.OutHeight}x{l.OutWidth})";
                Console.WriteLine($"{name,-26} {TileName(l.Tile),4} {pad * 1e6,7:F2} {input * 1e6,7:F2} {gemm * 1e6,7:F2} {flops / gemm / 1e9,8:F1} {output * 1e6,7:F2} {unpack * 1e6,7:F2} {(pad + input + gemm + output + unpack) * 1e6,7:F2} {whole * 1e6,8:F2}");
            }
        }

        // "winograd": the direct kernel against F(2x2, 3x3) per 3x3 shape, interleaved; the basis of WinogradConvolution.Pays.
        private static void CompareWinograd()
        {
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (3, 32, 16, 1), (3, 32, 32, 1), (8, 32, 8, 1), (16, 32, 16, 1), (32, 32, 32, 1), (16, 64, 16, 1), (8, 64, 16, 1),
                (16, 16, 16, 1), (32, 16, 32, 1), (32, 16, 64, 1), (64, 16, 64, 1), (128, 16, 128, 1),
                (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (24, 20, 40, 0), (16, 12, 16, 1),
            };
            Console.WriteLine($"{"3x3 convolution",-26} {"direct us",10} {"GFLOP/s",8} {"Winograd us",12} {"GFLOP/s*",8} {"speedup",8} {"picked",9}");
            foreach (var s in shapes)
            {
                int o = s.H + 2 * s.P - 2;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                var layout = new WinogradConvolution.Layout(s.C, s.H, s.H, s.OC, s.P);
                float[] winogradScratch = new float[layout.ScratchLength];
                var (direct, winograd) = Interleaved(
                    () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, s.P, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false),
                    () => WinogradConvolution.Forward(x, w, bias, y, winogradScratch, relu: true, pool: false, layout));
                double flops = 2.0 * s.OC * o * o * s.C * 9;
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                Console.WriteLine($"{name,-26} {direct * 1e6,10:F2} {flops / direct / 1e9,8:F1} {winograd * 1e6,12:F2} {flops / winograd / 1e9,8:F1} {direct / winograd,7:F2}x {(WinogradConvolution.Pays(s.C, s.H, s.H, s.OC, 3, s.P) ? "Winograd" : "direct"),9}");
            }
        }

        // 3x3 stride-1 backward, each gradient alone: direct against Winograd, interleaved (the weight gradient by
        // WinogradWeightGradient, the input gradient by the forward Winograd kernel on the turned weights).
        private static void CompareWinogradBackward()
        {
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 32, 16, 1), (32, 32, 32, 1), (16, 64, 16, 1), (16, 16, 16, 1), (32, 16, 32, 1), (32, 16, 64, 1), (64, 16, 64, 1),
                (128, 16, 128, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (24, 20, 40, 0), (8, 32, 8, 1), (3, 32, 32, 1),
            };
            Console.WriteLine($"{"3x3 backward",-26} {"dW direct",10} {"Winograd",9} {"speedup",8} {"dX direct",10} {"Winograd",9} {"speedup",8}");
            foreach (var s in shapes)
            {
                int o = s.H + 2 * s.P - 2;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), dy = Fill(s.OC * o * o, 6), dw = new float[s.OC * s.C * 9], dx = new float[x.Length];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                float[] filters = new float[DirectConvolution.WinogradFiltersLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                DirectConvolution.TransformFiltersForInputGradient(w, s.C, s.H, s.H, s.OC, 3, s.P, filters);
                var path = KernelPaths.Default;
                var (directW, winogradW) = Interleaved(
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, 3, s.P, dw, default, scratch, path, allowWinograd: false),
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, 3, s.P, dw, default, scratch, path));
                var (directX, winogradX) = Interleaved(
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, 3, s.P, default, dx, scratch, path),
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, 3, s.P, default, dx, scratch, path, filters));
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                Console.WriteLine($"{name,-26} {directW * 1e6,10:F2} {winogradW * 1e6,9:F2} {directW / winogradW,7:F2}x {directX * 1e6,10:F2} {winogradX * 1e6,9:F2} {directX / winogradX,7:F2}x");
            }
        }

        // "wgrad": the weight gradient alone of 3x3 stride-1 layers, one sample, in this thread's CPU time (best of 40
        // interleaved rounds): the direct kernel (dot products or lanes, as picked) against F(2x2, 3x3)
        // (WinogradWeightGradient) run whatever its Pays says. GFLOP/s counts the direct convolution's multiply-adds. A second
        // argument keeps the shapes whose name starts with it or one of its comma-separated parts.
        private static void CompareWeightGradients(string? only)
        {
            var (_, peak512) = FmaPeak();
            Console.WriteLine($"Vector512 FMA peak {peak512:F1} GFLOP/s");
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 32, 16, 1), (16, 32, 32, 1), (32, 32, 32, 1), (16, 16, 16, 1), (32, 16, 32, 1), (32, 16, 64, 1), (64, 16, 64, 1), (128, 16, 128, 1),
                (16, 8, 16, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (24, 15, 40, 1), (20, 9, 36, 1), (8, 32, 8, 1), (64, 32, 64, 1),
                (24, 16, 24, 1), (48, 16, 48, 1), (16, 24, 16, 1), (16, 16, 32, 1), (32, 32, 16, 1), (40, 16, 40, 1), (80, 16, 80, 1), (16, 18, 16, 0),
                (64, 6, 64, 1), (128, 4, 128, 1), (256, 4, 256, 1), (32, 10, 32, 1), (16, 9, 16, 1), (12, 32, 12, 1), (256, 8, 256, 1),
            };
            Console.WriteLine($"{"3x3 weight gradient",-24} {"direct us",10} {"GFLOP/s",8} {"F(2x2) us",10} {"GFLOP/s*",8} {"speedup",8} {"picked",9}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (!Selected(name, only)) continue;
                int o = s.H + 2 * s.P - 2;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), dy = Fill(s.OC * o * o, 6), dw = new float[s.OC * s.C * 9];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                var layout = new WinogradWeightGradient.Layout(s.C, s.H, s.H, s.OC, s.P);
                float[] winogradScratch = new float[layout.ScratchLength];
                var (direct, winograd) = InterleavedCpu(
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, 3, s.P, dw, default, scratch, KernelPaths.Default, allowWinograd: false),
                    () => WinogradWeightGradient.Accumulate(x, dy, dw, winogradScratch, layout));
                double flops = 2.0 * s.OC * o * o * s.C * 9;
                Console.WriteLine($"{name,-24} {direct * 1e6,10:F2} {flops / direct / 1e9,8:F1} {winograd * 1e6,10:F2} {flops / winograd / 1e9,8:F1} {direct / winograd,7:F2}x {(WinogradWeightGradient.Pays(s.C, s.H, s.H, s.OC, s.P) ? "Winograd" : "direct"),9}");
            }
        }

        // "wgrad-strided-batch": the weight gradient alone of 3x3 stride-2 layers over 16 samples as training runs them, µs per
        // sample in this thread's CPU time (best of 40 interleaved rounds): the lanes kernel sample by sample (its transposed
        // sums cleared, turned back and added each sample) against the same with the sums carried over the samples (turned
        // back once). Session 12 also timed a polyphase F(2, 2) Winograd weight gradient here (benchmarks/README.md).
        private static void CompareStridedWeightGradientsOverSamples(string? only)
        {
            const int samples = 16;
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 64, 16, 1), (16, 64, 32, 1), (32, 64, 64, 1), (64, 64, 64, 1), (3, 64, 32, 1),
                (16, 32, 32, 1), (32, 32, 32, 1), (32, 32, 64, 1), (64, 32, 64, 1), (64, 32, 128, 1), (128, 32, 128, 1), (24, 32, 40, 1),
                (16, 16, 16, 1), (16, 16, 24, 1), (32, 16, 64, 1), (64, 16, 128, 1), (128, 16, 128, 1), (128, 16, 256, 1), (20, 16, 36, 1), (256, 16, 256, 1),
                (16, 8, 16, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 256, 1), (256, 8, 256, 1),
                (40, 9, 72, 1), (64, 15, 64, 1), (24, 14, 36, 0), (32, 33, 16, 0),
                (8, 32, 16, 1), (12, 32, 24, 1), (12, 16, 12, 1), (16, 32, 8, 1), (16, 16, 12, 1),
            };
            Console.WriteLine($"{"3x3 s2 wgrad, 16 samples",-24} {"lanes us",9} {"summed us",10} {"lanes/summed",13}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = (s.H + 2 * s.P - 3) / 2 + 1, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Fill(samples * inLength, 4), dy = Fill(samples * outLength, 6), dw = new float[s.OC * s.C * 9];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, s.P)];
                float[] transposed = new float[(s.OC + 15) / 16 * 16 * s.C * 9];
                Action each = () =>
                {
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.WeightGradientLanesOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, dy.AsSpan(n * outLength, outLength), s.OC, 3, 2, s.P, dw, scratch);
                };
                Action summed = () =>
                {
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.WeightGradientLanesOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, dy.AsSpan(n * outLength, outLength), s.OC, 3, 2, s.P, dw, scratch, transposed, n, samples);
                };
                var (eachTime, summedTime) = InterleavedCpu(each, summed);
                Console.WriteLine($"{name,-24} {eachTime / samples * 1e6,9:F2} {summedTime / samples * 1e6,10:F2} {eachTime / summedTime,12:F2}x");
            }
        }

        // "wgrad-batch": the weight gradient alone of 3x3 stride-1 layers over 16 samples, µs per sample in this thread's CPU
        // time (best of 40 interleaved rounds): the direct kernel, Winograd transformed per sample (Accumulate), and Winograd
        // summed over the samples before one transform (AddSampleProducts, AddTransformedProducts: what training runs), on the
        // tile WinogradWeightGradient.TileFor picks (F(4x4, 3x3) since session 51 on 12x12 outputs or more; wgrad-tiles
        // compares the two tiles).
        private static void CompareWeightGradientsOverSamples(string? only)
        {
            const int samples = 16;
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (16, 32, 16, 1), (16, 32, 32, 1), (32, 32, 32, 1), (64, 32, 64, 1), (16, 16, 16, 1), (32, 16, 32, 1), (32, 16, 64, 1), (64, 16, 64, 1),
                (128, 16, 128, 1), (16, 8, 16, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (256, 8, 256, 1), (24, 15, 40, 1), (20, 9, 36, 1),
                (64, 6, 64, 1), (128, 6, 128, 1), (16, 4, 16, 1), (64, 4, 64, 1), (128, 4, 128, 1), (256, 4, 256, 1), (16, 64, 16, 1), (32, 64, 32, 1),
                (32, 4, 32, 1), (24, 5, 40, 1), (64, 5, 64, 1), (16, 3, 16, 1), (64, 3, 64, 1), (128, 3, 128, 1), (256, 3, 256, 1), (16, 2, 16, 1),
                (64, 2, 64, 1), (128, 2, 128, 1), (256, 2, 256, 1), (64, 4, 64, 0), (128, 6, 128, 0),
                (8, 32, 8, 1), (8, 8, 8, 1), (12, 16, 12, 1), (12, 8, 24, 1), (8, 16, 32, 1), (32, 16, 8, 1), (16, 16, 8, 1), (8, 4, 16, 1), (16, 3, 16, 0),
            };
            Console.WriteLine($"{"3x3 weight gradient, 16 samples",-28} {"direct us",10} {"W each us",11} {"W summed us",13} {"summed/each",12} {"direct/summed",14} {"picked",9}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = s.H + 2 * s.P - 2, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Fill(samples * inLength, 4), w = Fill(s.OC * s.C * 9, 5), dy = Fill(samples * outLength, 6), dw = new float[s.OC * s.C * 9];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                var layout = new WinogradWeightGradient.Layout(s.C, s.H, s.H, s.OC, s.P);
                float[] winogradScratch = new float[layout.ScratchLength], products = new float[layout.ProductLength];
                Action each = () =>
                {
                    for (int n = 0; n < samples; n++) WinogradWeightGradient.Accumulate(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), dw, winogradScratch, layout);
                };
                Action summed = () =>
                {
                    for (int n = 0; n < samples; n++)
                        WinogradWeightGradient.AddSampleProducts(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), products, winogradScratch, n, samples, layout);
                    WinogradWeightGradient.AddTransformedProducts(products, dw, layout);
                };
                Action direct = () =>
                {
                    for (int n = 0; n < samples; n++)
                        DirectConvolution.BackwardOn(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, 3, s.P, dw, default, scratch, KernelPaths.Default, allowWinograd: false);
                };
                var (eachTime, summedTime) = InterleavedCpu(each, summed);
                var (directTime, summedAgain) = InterleavedCpu(direct, summed);
                summedTime = Math.Min(summedTime, summedAgain);
                Console.WriteLine($"{name,-28} {directTime / samples * 1e6,10:F2} {eachTime / samples * 1e6,11:F2} {summedTime / samples * 1e6,13:F2} {summedTime / eachTime,11:F2}x {directTime / summedTime,13:F2}x {(WinogradWeightGradient.Pays(s.C, s.H, s.H, s.OC, s.P) ? "Winograd" : "direct"),9}");
            }
        }

        // "backward-over-batch [shape prefix]": a 3x3 or 5x5 stride-1 layer's backward over 32 samples (one thread's half of a
        // batch of 64), µs per sample: over the batch by im2col columns (before session 33), the per-sample path (F(2x2) weight
        // gradient summed over the samples, Winograd input gradient on the turned filters), the two mixed (weight gradient over
        // the batch, input gradient per sample), and over the batch by taps (DirectConvolution.BackwardOverBatch since session
        // 33); the rule column is DirectConvolution.BackwardPaysOverBatch's pick.
        private static void CompareBackwardOverBatch(string? only)
        {
            const int samples = 32;
            var shapes = new (int C, int H, int OC, int P, int K)[] { (32, 4, 64, 1, 3), (64, 4, 64, 1, 3), (32, 2, 32, 1, 3), (64, 2, 64, 1, 3), (16, 4, 32, 1, 3), (128, 4, 128, 1, 3), (64, 4, 128, 1, 3), (128, 2, 128, 1, 3), (96, 3, 96, 1, 3), (128, 5, 128, 1, 3), (64, 8, 64, 1, 3), (256, 6, 256, 2, 5), (192, 3, 384, 1, 3), (384, 3, 256, 1, 3), (256, 3, 256, 1, 3), (256, 8, 256, 1, 3), (128, 8, 256, 1, 3), (256, 6, 256, 1, 3), (256, 4, 256, 1, 3), (512, 4, 512, 1, 3), (256, 4, 512, 1, 3), (512, 2, 512, 1, 3), (256, 2, 256, 1, 3), (512, 8, 512, 1, 3), (256, 8, 512, 1, 3), (512, 8, 256, 1, 3), (384, 8, 384, 1, 3), (512, 6, 512, 1, 3), (384, 6, 384, 1, 3), (192, 8, 192, 1, 3), (256, 5, 256, 1, 3), (256, 7, 256, 1, 3), (128, 6, 256, 1, 3), (192, 8, 192, 0, 3), (256, 10, 256, 0, 3), (256, 8, 256, 0, 3), (192, 10, 192, 0, 3), (256, 7, 256, 0, 3), (64, 7, 192, 2, 5), (96, 7, 128, 2, 5), (128, 8, 128, 2, 5), (128, 7, 192, 2, 5), (64, 8, 256, 2, 5), (128, 4, 256, 2, 5), (192, 14, 96, 2, 5), (192, 7, 256, 2, 5), (256, 8, 256, 2, 5), (128, 11, 128, 0, 5), (64, 5, 128, 2, 5), (256, 6, 256, 2, 5) };
            Console.WriteLine($"{"backward, 32 samples",-24} {"im2col",11} {"per sample",11} {"mixed",9} {"by taps",9} {"im2col/per",9} {"im2col/mixed",11} {"im2col/taps",11} {"rule",6}");
            foreach (var s in shapes)
            {
                string name = $"{s.K}x{s.K} {s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = s.H + 2 * s.P - s.K + 1, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Fill(samples * inLength, 4), w = Fill(s.OC * s.C * s.K * s.K, 5), dy = Fill(samples * outLength, 6), dw = new float[s.OC * s.C * s.K * s.K], dx = new float[samples * inLength];
                float[] overScratch = new float[DirectConvolution.BackwardOverBatchScratch(s.C, s.H, s.H, s.OC, s.K, s.P)];
                float[] scratch = new float[DirectConvolution.ScratchLengthWithFilters(s.C, s.H, s.H, s.OC, s.K, s.P)];
                float[] filters = new float[DirectConvolution.WinogradFiltersLength(s.C, s.H, s.H, s.OC, s.K, s.P)];
                float[] products = new float[DirectConvolution.WeightGradientProductsLength(s.C, s.H, s.H, s.OC, s.K, s.P)];
                DirectConvolution.TransformFiltersForInputGradient(w, s.C, s.H, s.H, s.OC, s.K, s.P, filters);
                var times = InterleavedAll(
                    () =>
                    {
                        DirectConvolution.ByTapsOff = true;
                        DirectConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, dw, dx, overScratch);
                        DirectConvolution.ByTapsOff = false;
                    },
                    () =>
                    {
                        for (int n = 0; n < samples; n++)
                            DirectConvolution.BackwardWithFilters(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, s.K, s.P, dw,
                                dx.AsSpan(n * inLength, inLength), scratch, filters, products, n, samples);
                    },
                    () =>
                    {
                        DirectConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, dw, default, overScratch);
                        for (int n = 0; n < samples; n++)
                            DirectConvolution.BackwardWithFilters(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, s.K, s.P, default,
                                dx.AsSpan(n * inLength, inLength), scratch, filters);
                    },
                    () => DirectConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, dw, dx, overScratch));
                Console.WriteLine($"{name,-24} {times[0] / samples * 1e6,11:F1} {times[1] / samples * 1e6,11:F1} {times[2] / samples * 1e6,9:F1} {times[3] / samples * 1e6,9:F1} {times[0] / times[1],8:F2}x {times[0] / times[2],10:F2}x {times[0] / times[3],10:F2}x "
                    + $"{(DirectConvolution.BackwardPaysOverBatch(s.C, s.H, s.H, s.OC, s.K, s.P) ? "over" : "per"),6}");
            }
        }

        // "strided-over-batch [shape prefix]": a stride-2 3x3 layer's training passes over 32 samples (one thread's half of a
        // batch of 64), µs per sample. Backward: a sample at a time as training ran it (the input gradient's weights packed
        // once, the weight gradient's sums carried between samples) against StridedConvolution.BackwardOverBatch (groups'
        // cells as one GEMM's inner dimension). Forward: a sample at a time on the pass's prepared weights against groups of
        // samples through one Winograd GEMM (ForwardPreparedSamples, where the layer has a group kernel).
        private static void CompareStridedOverBatch(string? only)
        {
            if (only == "1x1")
            {
                ComparePointwiseStridedOverBatch();
                return;
            }
            const int samples = 32;
            var shapes = new (int C, int H, int OC)[]
            {
                (128, 4, 256), (64, 8, 128), (256, 4, 512), (128, 8, 256), (256, 8, 512), (64, 16, 128), (128, 16, 256), (32, 16, 64),
                (32, 8, 64), (64, 4, 128), (256, 14, 512), (128, 28, 256), (512, 4, 512), (96, 8, 192), (160, 8, 320), (48, 8, 96),
            };
            Console.WriteLine($"{"3x3 s2 p1, 32 samples",-24} {"bwd per",9} {"bwd over",9} {"per/over",9} {"rule",5} {"fwd per",9} {"fwd group",10} {"per/group",10} {"group",6} {"prep us",9} {"group us",9} {"fwd gemm",9}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int o = (s.H + 2 - 3) / 2 + 1, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Fill(samples * inLength, 4), w = Fill(s.OC * s.C * 9, 5), dy = Fill(samples * outLength, 6), dw = new float[s.OC * s.C * 9], dx = new float[samples * inLength];
                float[] y = new float[samples * outLength];
                float[] overScratch = new float[StridedConvolution.BackwardOverBatchScratch(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] packed = new float[StridedConvolution.InputGradientWeightsLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] products = new float[StridedConvolution.WeightGradientProductsLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                float[] prepared = new float[StridedConvolution.PreparedLength(s.C, s.H, s.H, s.OC, 3, 2, 1)];
                int group = StridedConvolution.GroupSamples(s.C, s.H, s.H, s.OC, 3, 2, 1);
                float[] groupPrepared = new float[StridedConvolution.GroupPreparedLength(s.C, s.H, s.H, s.OC, 3, 2, 1, group)];
                float[] groupScratch = new float[Math.Max(scratch.Length, StridedConvolution.SamplesScratchLength(s.C, s.H, s.H, s.OC, 3, 2, 1, group))];
                StridedConvolution.Prepare(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, prepared);
                StridedConvolution.PrepareGroup(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, groupPrepared, group);
                // A sample at a time as training runs it, with either gradient or both (the input gradient's weights packed once).
                void PerSample(bool weights, bool input)
                {
                    if (input) StridedConvolution.PackInputGradientWeights(w, s.C, s.H, s.H, s.OC, 3, 2, 1, packed);
                    for (int n = 0; n < samples; n++)
                        StridedConvolution.BackwardPackedOfSample(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, 3, 2, 1,
                            weights ? dw : default, input ? dx.AsSpan(n * inLength, inLength) : default, scratch, packed, products, n, samples);
                }
                var times = InterleavedAll(
                    () => PerSample(true, true),
                    () => StridedConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, 3, 2, 1, dw, dx, overScratch),
                    () =>
                    {
                        for (int n = 0; n < samples; n++)
                            StridedConvolution.ForwardPrepared(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, prepared, s.OC, 3, 2, 1, y.AsSpan(n * outLength, outLength), scratch, relu: false);
                    },
                    () =>
                    {
                        for (int first = 0; first < samples; first += group)
                        {
                            int count = Math.Min(group, samples - first);
                            StridedConvolution.ForwardPreparedSamples(x.AsSpan(first * inLength, count * inLength), count, s.C, s.H, s.H, groupPrepared, s.OC, 3, 2, 1, group,
                                y.AsSpan(first * outLength, count * outLength), groupScratch, relu: false, means: false);
                        }
                    });
                var mixed = InterleavedAll(
                    () => StridedConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, 3, 2, 1, dw, default, overScratch),
                    () => PerSample(false, true),
                    () => StridedConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, 3, 2, 1, default, dx, overScratch),
                    () => PerSample(true, false));
                Console.WriteLine($"{"",-24} dw over {mixed[0] / samples * 1e6,6:F1} per {mixed[3] / samples * 1e6,6:F1}   dx over {mixed[2] / samples * 1e6,6:F1} per {mixed[1] / samples * 1e6,6:F1}");
                double gemm = InterleavedAll(() => StridedConvolution.ForwardOverBatch(x, samples, s.C, s.H, s.H, w, default, s.OC, 3, 2, 1, y, overScratch))[0];
                var prepare = InterleavedAll(
                    () => StridedConvolution.Prepare(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, prepared),
                    () => StridedConvolution.PrepareGroup(w, default, s.C, s.H, s.H, s.OC, 3, 2, 1, groupPrepared, group));
                Console.WriteLine($"{name,-24} {times[0] / samples * 1e6,9:F1} {times[1] / samples * 1e6,9:F1} {times[0] / times[1],8:F2}x "
                    + $"{(StridedConvolution.BackwardPaysOverBatch(s.C, s.H, s.H, s.OC, 3, 2, 1) ? "over" : "per"),5} {times[2] / samples * 1e6,9:F1} {times[3] / samples * 1e6,10:F1} {times[2] / times[3],9:F2}x {group,6}"
                    + $" {prepare[0] * 1e6,9:F1} {prepare[1] * 1e6,9:F1} {gemm / samples * 1e6,9:F1}");
            }
        }

        // "strided-over-batch 1x1": ResNet's 1x1 stride-2 shortcuts' backward (ResNet-8's two first) over 32 samples, a sample at a time against
        // over the batch, µs per sample.
        private static void ComparePointwiseStridedOverBatch()
        {
            const int samples = 32;
            var shapes = new (int C, int H, int OC)[] { (16, 32, 32), (32, 16, 64), (256, 8, 512), (128, 8, 256), (128, 16, 256), (64, 16, 128), (512, 4, 1024), (64, 32, 128), (256, 14, 512) };
            Console.WriteLine($"{"1x1 s2, 32 samples",-24} {"bwd per",9} {"bwd over",9} {"per/over",9}");
            foreach (var s in shapes)
            {
                int o = (s.H - 1) / 2 + 1, inLength = s.C * s.H * s.H, outLength = s.OC * o * o;
                float[] x = Fill(samples * inLength, 4), w = Fill(s.OC * s.C, 5), dy = Fill(samples * outLength, 6), dw = new float[s.OC * s.C], dx = new float[samples * inLength];
                float[] overScratch = new float[StridedConvolution.BackwardOverBatchScratch(s.C, s.H, s.H, s.OC, 1, 2, 0)];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 1, 2, 0)];
                float[] products = new float[StridedConvolution.WeightGradientProductsLength(s.C, s.H, s.H, s.OC, 1, 2, 0)];
                var times = InterleavedAll(
                    () =>
                    {
                        for (int n = 0; n < samples; n++)
                            StridedConvolution.BackwardOfSample(x.AsSpan(n * inLength, inLength), s.C, s.H, s.H, w, dy.AsSpan(n * outLength, outLength), s.OC, 1, 2, 0, dw,
                                dx.AsSpan(n * inLength, inLength), scratch, products, n, samples);
                    },
                    () => StridedConvolution.BackwardOverBatch(x, samples, s.C, s.H, s.H, w, dy, s.OC, 1, 2, 0, dw, dx, overScratch));
                Console.WriteLine($"{$"{s.C}x{s.H}x{s.H} -> {s.OC}",-24} {times[0] / samples * 1e6,9:F1} {times[1] / samples * 1e6,9:F1} {times[0] / times[1],8:F2}x");
            }
        }

        // "winograd4": per 3x3 stride-1 shape, the direct kernel, F(2x2, 3x3) and F(4x4, 3x3) (its filters transformed
        // beforehand, as the generated code does), interleaved; the basis of WinogradF4Convolution.Pays. GFLOP/s* counts
        // the direct convolution's multiply-adds. A second argument keeps the shapes whose name starts with it ("64x8", or
        // several: "64x8,512x7").
        private static void CompareWinograd4(string? only)
        {
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (3, 32, 16, 1), (3, 32, 32, 1), (3, 32, 64, 1), (3, 64, 32, 1),
                (8, 32, 8, 1), (8, 32, 16, 1), (16, 32, 8, 1), (8, 16, 16, 1), (12, 16, 12, 1),
                (16, 32, 16, 1), (16, 32, 32, 1), (32, 32, 32, 1), (64, 32, 64, 1), (16, 64, 16, 1), (32, 64, 32, 1),
                (16, 16, 16, 1), (32, 16, 32, 1), (32, 16, 64, 1), (64, 16, 64, 1), (128, 16, 128, 1),
                (16, 8, 16, 1), (32, 8, 32, 1), (64, 8, 64, 1), (128, 8, 128, 1), (256, 8, 256, 1),
                (16, 6, 16, 1), (32, 6, 32, 1), (64, 6, 64, 1), (128, 6, 128, 1), (16, 4, 16, 1), (32, 4, 32, 1), (64, 4, 64, 1), (128, 4, 128, 1), (256, 4, 256, 1),
                (24, 20, 40, 0), (16, 12, 16, 1), (64, 10, 64, 2), (32, 18, 32, 0),
                (512, 8, 512, 1), (256, 8, 512, 1), (512, 4, 512, 1), (512, 2, 512, 1), (256, 2, 256, 1), (256, 4, 512, 1), (128, 4, 256, 1), (512, 6, 512, 1), (384, 4, 384, 1),
                // ResNet-50's (session 47): 56x56 64, 28x28 128, 14x14 256, 7x7 512; and 7x7 and 5x5 maps of wide layers.
                (64, 56, 64, 1), (128, 28, 128, 1), (256, 14, 256, 1), (512, 7, 512, 1), (256, 7, 256, 1), (256, 7, 512, 1), (512, 5, 512, 1), (256, 5, 256, 1), (128, 5, 128, 1),
                // Fewer than 16 channels in or out (session 47): few-channel stems on large maps, DenseNet's growth of 12.
                (8, 128, 8, 1), (8, 64, 8, 1), (8, 64, 16, 1), (8, 32, 32, 1), (16, 64, 8, 1), (12, 32, 12, 1), (12, 32, 24, 1), (24, 16, 12, 1),
                (48, 32, 12, 1), (48, 16, 12, 1), (48, 8, 12, 1), (8, 8, 16, 1), (12, 8, 12, 1), (8, 16, 8, 1), (4, 32, 16, 1), (4, 64, 32, 1),
            };
            Console.WriteLine($"{"3x3 convolution, ReLU",-24} {"direct us",10} {"GFLOP/s",8} {"F(2x2) us",10} {"GFLOP/s*",8} {"F(4x4) us",10} {"GFLOP/s*",8} {"F4/direct",10} {"F4/F2",7} {"picked",7} {"kept lanes us",13} {"F4/lanes",9}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (!Selected(name, only)) continue;
                int o = s.H + 2 * s.P - 2;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, s.P)];
                var layout2 = new WinogradConvolution.Layout(s.C, s.H, s.H, s.OC, s.P);
                float[] scratch2 = new float[layout2.ScratchLength];
                var layout4 = new WinogradF4Convolution.Layout(s.C, s.H, s.H, s.OC, s.P);
                float[] scratch4 = new float[layout4.ScratchLength], filters4 = new float[layout4.FiltersLength];
                WinogradF4Convolution.TransformFilters(w, filters4, layout4);
                var (direct, winograd4) = Interleaved(
                    () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, s.P, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false),
                    () => WinogradF4Convolution.Forward(x, filters4, bias, y, scratch4, relu: true, pool: false, layout4));
                // F(2x2, 3x3) and the lanes kernel are Vector512 only: without AVX-512, F(4x4)'s Vector256 kernels against the direct one alone.
                bool wide = WinogradF4Convolution.Wide;
                var (_, winograd2) = wide ? Interleaved(
                    () => WinogradF4Convolution.Forward(x, filters4, bias, y, scratch4, relu: true, pool: false, layout4),
                    () => WinogradConvolution.Forward(x, w, bias, y, scratch2, relu: true, pool: false, layout2)) : (0, double.NaN);
                double flops = 2.0 * s.OC * o * o * s.C * 9;
                // The lanes kernel on weights packed beforehand, as a layer keeps them where Winograd does not run (16-channel blocks only).
                string lanes = "";
                if (s.OC % 16 == 0 && wide)
                {
                    float[] packed = new float[s.OC * s.C * 9];
                    DirectConvolution.PackLanes(w, s.OC, s.C * 9, packed);
                    var (kept, winograd4Again) = Interleaved(
                        () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, s.P, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false, packedLanes: packed),
                        () => WinogradF4Convolution.Forward(x, filters4, bias, y, scratch4, relu: true, pool: false, layout4));
                    lanes = $"{kept * 1e6,13:F2} {kept / winograd4Again,8:F2}x";
                }
                Console.WriteLine($"{name,-24} {direct * 1e6,10:F2} {flops / direct / 1e9,8:F1} {winograd2 * 1e6,10:F2} {flops / winograd2 / 1e9,8:F1} {winograd4 * 1e6,10:F2} {flops / winograd4 / 1e9,8:F1} {direct / winograd4,9:F2}x {winograd2 / winograd4,6:F2}x {(WinogradF4Convolution.Pays(s.C, s.H, s.H, s.OC, 3, s.P) ? "F(4x4)" : "-"),7} {lanes}");
            }
        }

        // "over-batch [shape prefix] [batch]": evaluation's forward of a 3x3 stride-1 layer over a batch (32 by default: one
        // thread's half of 64), a sample at a time as the network runs it (kept filters: Winograd or the packed lanes weights,
        // whichever the layer keeps) against DirectConvolution.ForwardOverBatch (groups of samples as one GEMM), interleaved in
        // this thread's CPU time; the basis of DirectConvolution.ForwardPaysOverBatch. Microseconds per sample.
        private static void CompareForwardOverBatch(string? only, int batch)
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (192, 3, 384), (384, 3, 256), (256, 3, 256), (64, 16, 64), (64, 16, 128), (128, 16, 128), (256, 16, 256), (64, 8, 64), (128, 8, 128), (128, 8, 256), (256, 8, 256), (256, 8, 512), (512, 8, 512),
                (64, 4, 64), (128, 4, 128), (128, 4, 256), (256, 4, 256), (256, 4, 512), (512, 4, 512), (384, 4, 384), (96, 4, 96),
                (64, 2, 64), (128, 2, 128), (256, 2, 256), (512, 2, 512), (64, 6, 64), (256, 6, 256), (512, 6, 512), (200, 4, 200),
            };
            Console.WriteLine($"batch {batch}, ReLU; us per sample");
            Console.WriteLine($"{"3x3 p1 convolution",-22} {"weights KiB",11} {"per sample",11} {"kept",6} {"over batch",11} {"GFLOP/s",8} {"per/over",9} {"picked",7} {"im2col",11} {"im2col/taps",9}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}";
                if (!Selected(name, only)) continue;
                int sampleIn = s.C * s.H * s.H, sampleOut = s.OC * s.H * s.H;
                float[] x = Fill(batch * sampleIn, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[batch * sampleOut];
                float[] filters = new float[Math.Max(1, DirectConvolution.WinogradFiltersLength(s.C, s.H, s.H, s.OC, 3, 1))];
                DirectConvolution.TransformFilters(w, s.C, s.H, s.H, s.OC, 3, 1, filters);
                bool kept = DirectConvolution.WinogradFiltersLength(s.C, s.H, s.H, s.OC, 3, 1) > 0;
                float[] scratch = new float[Math.Max(DirectConvolution.ScratchLengthWithFilters(s.C, s.H, s.H, s.OC, 3, 1), DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 1))];
                float[] batchScratch = new float[DirectConvolution.ForwardOverBatchScratch(s.C, s.H, s.H, s.OC, 3, 1)];
                var times = InterleavedAll(
                    () =>
                    {
                        for (int n = 0; n < batch; n++)
                        {
                            var xs = x.AsSpan(n * sampleIn, sampleIn);
                            var ys = y.AsSpan(n * sampleOut, sampleOut);
                            if (kept) DirectConvolution.ForwardWithFilters(xs, s.C, s.H, s.H, w, bias, s.OC, 3, 1, ys, scratch, relu: true, filters);
                            else DirectConvolution.Forward(xs, s.C, s.H, s.H, w, bias, s.OC, 3, 1, ys, scratch, relu: true);
                        }
                    },
                    () => DirectConvolution.ForwardOverBatch(x, batch, s.C, s.H, s.H, w, bias, s.OC, 3, 1, y, batchScratch, relu: true, pool: false),
                    () =>
                    {
                        DirectConvolution.ByTapsOff = true;
                        DirectConvolution.ForwardOverBatch(x, batch, s.C, s.H, s.H, w, bias, s.OC, 3, 1, y, batchScratch, relu: true, pool: false);
                        DirectConvolution.ByTapsOff = false;
                    });
                double perSample = times[0], overBatch = times[1], columns = times[2];
                double flops = 2.0 * s.OC * s.H * s.H * s.C * 9;
                string keptName = !kept ? "-" : WinogradF4Convolution.Pays(s.C, s.H, s.H, s.OC, 3, 1) ? "F4" : "lanes";
                Console.WriteLine($"{name,-22} {4L * s.OC * s.C * 9 / 1024,11} {perSample / batch * 1e6,11:F2} {keptName,6} {overBatch / batch * 1e6,11:F2} {flops * batch / overBatch / 1e9,8:F1} {perSample / overBatch,8:F2}x {(DirectConvolution.ForwardPaysOverBatch(batch, s.C, s.H, s.H, s.OC, 3, 1) ? "batch" : "-"),7} {columns / batch * 1e6,11:F2} {columns / overBatch,8:F2}x");
            }
        }

        // "cold-filters": batch 1 of a network whose weights outgrow the L3 (VGG-11, 37 MB; ResNet-18 for CIFAR, 45 MB) reads each
        // layer's weights or filters from memory. Per 3x3 shape, F(4x4) on its kept filters (4x the weights) against the kernel
        // that runs without them (direct or lanes), hot (one copy) and cold: each call reads the next of enough copies of the
        // filters or packed weights to pass 160 MB, so they come from memory (this replaced timing a 64 MB flush and
        // subtracting it, whose noise exceeded the kernels' times). Interleaved in this thread's CPU time; µs per call.
        private static void CompareColdFilters()
        {
            var shapes = new (int C, int H, int OC)[] { (64, 16, 128), (128, 16, 128), (128, 8, 256), (256, 8, 256), (256, 8, 512), (64, 8, 64), (128, 8, 128), (64, 32, 64) };
            Console.WriteLine($"{"3x3 p1, ReLU",-20} {"filters MB",10} {"F(4x4) hot",10} {"cold",8} {"other hot",10} {"cold",8} {"kernel",7} {"cold F4/other",13}");
            foreach (var s in shapes)
            {
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * s.H * s.H];
                var layout = new WinogradF4Convolution.Layout(s.C, s.H, s.H, s.OC, 1);
                float[] filters = new float[layout.FiltersLength], scratch4 = new float[layout.ScratchLength];
                WinogradF4Convolution.TransformFilters(w, filters, layout);
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 3, 1)];
                float[] packed = new float[s.OC * s.C * 9];
                DirectConvolution.PackLanes(w, s.OC, s.C * 9, packed);
                int copies = Math.Max(2, (int)((160L << 20) / (4L * layout.FiltersLength)));
                var filterCopies = new float[copies][]; var packedCopies = new float[copies][];
                for (int i = 0; i < copies; i++) { filterCopies[i] = (float[])filters.Clone(); packedCopies[i] = (float[])packed.Clone(); }
                int next = 0;
                void Winograd() => WinogradF4Convolution.Forward(x, filters, bias, y, scratch4, relu: true, pool: false, layout);
                void Other() => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, 1, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false, packedLanes: packed);
                var (winogradHot, otherHot) = InterleavedCpu(Winograd, Other);
                var (winogradCold, otherCold) = InterleavedCpu(
                    () => { WinogradF4Convolution.Forward(x, filterCopies[next], bias, y, scratch4, relu: true, pool: false, layout); next = (next + 1) % copies; },
                    () => { DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, 1, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false, packedLanes: packedCopies[next]); next = (next + 1) % copies; });
                string kernel = s.H <= 8 && s.OC % 16 == 0 ? "lanes?" : "direct";
                Console.WriteLine($"{$"{s.C}x{s.H}x{s.H} -> {s.OC}",-20} {4.0 * layout.FiltersLength / 1e6,10:F1} {winogradHot * 1e6,10:F1} {winogradCold * 1e6,8:F1} {otherHot * 1e6,10:F1} {otherCold * 1e6,8:F1} {kernel,7} {winogradCold / otherCold,12:F2}x");
            }
        }

        // "winograd5": per 5x5 stride-1 shape, the direct kernel against F(2x2, 5x5) (its filters transformed beforehand, as
        // the generated code does), without and with the fused 2x2 pooling, interleaved in this thread's CPU time (the machine
        // is shared); the basis of WinogradF4Convolution.Pays for 5x5. GFLOP/s* counts the direct convolution's multiply-adds.
        // A second argument keeps the shapes whose name starts with it or with one of its comma-separated parts ("64x8,16x4").
        private static void CompareWinograd5(string? only)
        {
            var shapes = new (int C, int H, int OC, int P)[]
            {
                (1, 28, 6, 2), (6, 14, 16, 0), (3, 32, 16, 2), (3, 32, 32, 2), (3, 16, 32, 2),
                (8, 32, 8, 2), (8, 32, 16, 2), (16, 32, 8, 2), (16, 32, 16, 2), (16, 32, 32, 2), (32, 32, 32, 2), (32, 32, 64, 2),
                (8, 16, 8, 2), (8, 16, 16, 2), (16, 16, 16, 2), (16, 16, 32, 2), (32, 16, 32, 2), (32, 16, 64, 2), (64, 16, 64, 2), (128, 16, 128, 2),
                (8, 8, 8, 2), (16, 8, 16, 2), (32, 8, 32, 2), (64, 8, 64, 2), (64, 8, 128, 2), (128, 8, 128, 2),
                (16, 12, 16, 2), (32, 12, 32, 2), (64, 24, 64, 2), (32, 24, 32, 0), (16, 20, 32, 0), (64, 12, 64, 0), (32, 8, 32, 0),
                (16, 6, 16, 0), (32, 6, 32, 0), (32, 5, 32, 0), (64, 5, 64, 0), (128, 5, 128, 0), (16, 4, 16, 1), (64, 4, 64, 1),
                (17, 16, 17, 2), (20, 16, 20, 2), (24, 16, 24, 2), (33, 16, 33, 2), (40, 8, 40, 2), (48, 8, 96, 2), (12, 16, 24, 2), (24, 32, 12, 2),
                (12, 16, 16, 2), (12, 32, 32, 2), (24, 16, 16, 2), (16, 16, 24, 2), (16, 32, 12, 2), (256, 8, 256, 2), (256, 4, 512, 1), (512, 4, 512, 1),
            };
            Console.WriteLine($"{"5x5 convolution, ReLU",-24} {"direct us",10} {"GFLOP/s",8} {"F(2x2) us",10} {"GFLOP/s*",8} {"F2/direct",10} {"pooled: direct",15} {"F(2x2)",8} {"F2/direct",10} {"picked",7}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P}";
                if (!Selected(name, only)) continue;
                int o = s.H + 2 * s.P - 4;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * s.C * 25, 5), bias = Fill(s.OC, 6), y = new float[s.OC * o * o];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 5, s.P)];
                var layout = new WinogradF4Convolution.Layout(s.C, s.H, s.H, s.OC, s.P, kernel: 5);
                float[] scratch5 = new float[layout.ScratchLength], filters = new float[layout.FiltersLength];
                WinogradF4Convolution.TransformFilters(w, filters, layout);
                var (direct, winograd) = InterleavedCpu(
                    () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 5, s.P, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false),
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch5, relu: true, pool: false, layout));
                var (directPooled, winogradPooled) = o < 2 ? (double.NaN, double.NaN) : InterleavedCpu(
                    () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 5, s.P, y, scratch, relu: true, pool: true, KernelPaths.Default, allowWinograd: false),
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch5, relu: true, pool: true, layout));
                double flops = 2.0 * s.OC * o * o * s.C * 25;
                Console.WriteLine($"{name,-24} {direct * 1e6,10:F2} {flops / direct / 1e9,8:F1} {winograd * 1e6,10:F2} {flops / winograd / 1e9,8:F1} {direct / winograd,9:F2}x {directPooled * 1e6,15:F2} {winogradPooled * 1e6,8:F2} {directPooled / winogradPooled,9:F2}x {(WinogradF4Convolution.Pays(s.C, s.H, s.H, s.OC, 5, s.P) ? "F(2x2)" : "-"),7}");
            }
        }

        // "conv": only the convolution table (forward and backward), for quick before/after comparisons of the direct kernels.
        public static void Main(string[] args)
        {
            // PAIRED_GROUPS=0: the Vector256 Winograd GEMMs take one group of 16 output channels at a time (WinogradF4Convolution.PairedGroups256 off).
            if (Environment.GetEnvironmentVariable("PAIRED_GROUPS") == "0") WinogradF4Convolution.PairedGroups256 = false;
            bool convolutionsOnly = args.Length > 0 && args[0] == "conv";
            if (args.Length > 0 && args[0] == "wgrad-tiles")
            {
                WeightGradientTiles.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "wgrad-batch")
            {
                CompareWeightGradientsOverSamples(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "wgrad-strided-batch")
            {
                CompareStridedWeightGradientsOverSamples(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "wgrad")
            {
                CompareWeightGradients(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-over-batch")
            {
                CompareStridedOverBatch(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "backward-over-batch")
            {
                CompareBackwardOverBatch(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "winograd-backward")
            {
                CompareWinogradBackward();
                return;
            }
            if (args.Length > 0 && args[0] == "winograd5")
            {
                CompareWinograd5(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "winograd4")
            {
                CompareWinograd4(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "winograd")
            {
                CompareWinograd();
                return;
            }
            Console.WriteLine($"Simd.Enabled={Simd.Enabled} V256={Vector256.IsHardwareAccelerated} V512={Vector512.IsHardwareAccelerated}");
            if (args.Length > 0 && args[0] == "resnet8")
            {
                ResNet8Layers();
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-lines")
            {
                DepthwiseLines();
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-large")
            {
                DepthwiseLargeKernels();
                return;
            }
            if (args.Length > 0 && args[0] == "linear")
            {
                CompareLinear(args.Length == 3 ? new[] { (int.Parse(args[1]), int.Parse(args[2])) } : null);
                return;
            }
            if (args.Length > 0 && args[0] == "optimizers")
            {
                OptimizerSteps();
                return;
            }
            if (args.Length > 0 && args[0] == "linear-batch")
            {
                CompareLinearBatch(args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : new[] { 2, 4, 8, 16, 32, 64 });
                return;
            }
            if (args.Length > 0 && args[0] == "lenet")
            {
                LeNetLayers();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-padding")
            {
                CompareStridedPadding();
                return;
            }
            if (args.Length > 0 && args[0] == "lanes-pairs")
            {
                LanesPairs();
                return;
            }
            if (args.Length > 0 && args[0] == "grouped")
            {
                GroupedShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "line-wgrad")
            {
                LineWeightGradients(args);
                return;
            }
            if (args.Length > 0 && args[0] == "line-winograd-error")
            {
                LineWinogradErrors();
                return;
            }
            if (args.Length > 0 && args[0] == "lanes256")
            {
                Lanes256Bench.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "row-winograd")
            {
                RowWinogradBench.Run(args);
                return;
            }
            if (args.Length > 0 && args[0] == "line-winograd")
            {
                LineWinogradShapes(args);
                return;
            }
            if (args.Length > 0 && args[0] == "nonsquare")
            {
                NonSquareShapes(args);
                return;
            }
            if (args.Length > 0 && args[0] == "avgpool")
            {
                AvgPoolShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "maxpool")
            {
                MaxPoolShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "resample")
            {
                ResamplingShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-order")
            {
                // Planes of 256+ cells not copied in blocks: a chunk of cells over every output channel against 4 output channels over every cell.
                float[] ox = Fill(512 * 56 * 56, 1), ow = Fill(512 * 512, 2), ob = Fill(512, 3), oy = new float[512 * 56 * 56];
                Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; 1x1 in -> out @map: cells outer us, channels outer us");
                foreach (var (i, o, h) in new[] { (16, 64, 56), (64, 16, 56), (24, 24, 56), (16, 16, 56), (8, 32, 64), (96, 24, 28), (24, 144, 28), (16, 96, 32), (128, 24, 16), (512, 16, 16), (3, 64, 56), (16, 512, 16) })
                {
                    Action run = () => PointwiseConvolution.Forward(ox, i, h * h, ow, ob.AsSpan(0, o), o, oy, 0f, float.PositiveInfinity);
                    var (outer, inner) = Interleaved(run, () => { PointwiseConvolution.CellsOuter = false; run(); PointwiseConvolution.CellsOuter = true; });
                    Console.WriteLine($"{i} -> {o} @{h}x{h}: {outer * 1e6:F2} {inner * 1e6:F2}  ({2.0 * i * o * h * h / outer / 1e9:F0} / {2.0 * i * o * h * h / inner / 1e9:F0} GFLOP/s)");
                }
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-paths")
            {
                float[] px = Fill(1024 * 9, 1), pw = Fill(1024 * 1024, 2), pb = Fill(1024, 3), py = new float[1024 * 9];
                foreach (var (c, h) in new[] { (512, 2), (1024, 3), (512, 4) })
                    foreach (var path in new[] { DirectConvolution.KernelPath.Vector512, DirectConvolution.KernelPath.Vector256, DirectConvolution.KernelPath.Scalar })
                        Console.WriteLine($"{c} @{h}x{h} {path}: {TimeShort(() => PointwiseConvolution.ForwardOn(px, c, h * h, pw, pb.AsSpan(0, c), c, py, path)) * 1e6:F2} us");
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-shapes")
            {
                PointwiseShapes(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise")
            {
                PointwiseOrders();
                return;
            }
            if (args.Length > 0 && args[0] == "dilated")
            {
                DilatedShapes();
                return;
            }
            if (args.Length == 7 && args[0] == "depthwise-loop")
            {
                // depthwise-loop C H K S D SECONDS: one NCHW depthwise layer (+ReLU6, padding D·(K / 2)) as the generated code calls it, in a loop, for perf.
                int c = int.Parse(args[1]), h = int.Parse(args[2]), k = int.Parse(args[3]), stride = int.Parse(args[4]), d = int.Parse(args[5]);
                var g = new ConvolutionGeometry(c, h, h, c, k, k, stride, stride, d * (k / 2), d * (k / 2), d, d, c);
                float[] x = Fill(c * h * h, 1), w = Fill(c * k * k, 2), b = Fill(c, 3), y = new float[g.OutLength], scratch = new float[GroupedConvolution.ScratchLength(g) + 16];
                var clock = System.Diagnostics.Stopwatch.StartNew();
                long calls = 0;
                double best = double.MaxValue;
                while (clock.Elapsed.TotalSeconds < double.Parse(args[6], System.Globalization.CultureInfo.InvariantCulture))
                {
                    double start = ThreadNanoseconds();
                    for (int i = 0; i < 1000; i++) GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f);
                    best = Math.Min(best, (ThreadNanoseconds() - start) / 1000);
                    calls += 1000;
                }
                Console.WriteLine($"{calls} calls, fastest thousand {best / 1000:F2} us a call, {(double)c * g.OutHeight * g.OutWidth * k * k / best:F1} G multiply-adds/s");
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise")
            {
                DepthwiseShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-backward")
            {
                DepthwiseBackwardShapes();
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-unpadded")
            {
                DepthwiseUnpadded(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-tall")
            {
                PointwiseTall.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "mbv1")
            {
                Mbv1Layers.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 5 && args[0] == "depthwise-lanes" && args[1] == "loop")
            {
                DepthwiseLanes.Loop(int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]), int.Parse(args[5]), args.Length > 6 ? double.Parse(args[6]) : 5);
                return;
            }
            if (args.Length > 1 && args[0] == "depthwise-lanes" && args[1] == "networks")
            {
                DepthwiseLanes.Networks(EvaluationNetworks);
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-lanes")
            {
                DepthwiseLanes.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "depthwise-flat")
            {
                DepthwiseFlat.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "whole-plane")
            {
                WholePlaneAgainstRows();
                return;
            }
            if (args.Length > 0 && args[0] == "grouped-pointwise")
            {
                GroupedPointwise();
                return;
            }
            if (args.Length > 0 && args[0] == "batch")
            {
                BatchAgainstSingle();
                return;
            }
            if (args.Length > 0 && args[0] == "mobilenet")
            {
                MobileNetLayers();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-group-chain")
            {
                StridedGroupChain(args.Length > 1 ? int.Parse(args[1]) : 0);
                return;
            }
            if (args.Length > 0 && args[0] == "residual-join")
            {
                ResidualJoin.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "stem-link")
            {
                StemLink.Run();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-chain")
            {
                StridedChainVariants(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-chunks")
            {
                StridedChunks();
                return;
            }
            // "polyphase": 4x4 stride-2 layers (DCGAN's discriminator and others): StridedConvolution's direct kernels (weights
            // prepared once) against PolyphaseWinogradConvolution (filters transformed once), interleaved, with the largest
            // difference between the two; the basis of PolyphaseWinogradConvolution.Pays.
            if (args.Length > 0 && args[0] == "polyphase")
            {
                var layers = new (int C, int H, int OC, int P)[]
                {
                    (64, 32, 128, 1), (128, 16, 256, 1), (256, 8, 512, 1), (3, 64, 64, 1), (32, 64, 64, 1), (64, 64, 128, 1),
                    (128, 32, 256, 1), (16, 32, 32, 1), (32, 16, 64, 1), (64, 16, 128, 1), (48, 30, 96, 1), (64, 34, 64, 0),
                    (128, 12, 128, 1), (256, 16, 256, 1), (128, 10, 128, 1), (64, 10, 64, 1), (256, 12, 256, 1), (64, 8, 64, 1),
                    (32, 12, 64, 1), (512, 8, 512, 1), (16, 16, 32, 1),
                };
                Console.WriteLine($"{"4x4 s2",-26} {"direct us",10} {"polyphase us",13} {"speed-up",9} {"largest difference",19}");
                foreach (var s in layers)
                {
                    var l = PolyphaseWinogradConvolution.LayoutOf(s.C, s.H, s.H, s.OC, s.P);
                    float[] x = Fill(s.C * s.H * s.H, 1), w = Fill(s.OC * s.C * 16, 2), b = Fill(s.OC, 3);
                    int cells = l.OutHeight * l.OutWidth;
                    float[] y1 = new float[s.OC * cells], y2 = new float[s.OC * cells];
                    float[] prepared = new float[StridedConvolution.PreparedLengthOn(s.C, s.H, s.H, s.OC, 4, 2, s.P, KernelPaths.Default, winograd: false)];
                    StridedConvolution.PrepareOn(w, b, s.C, s.H, s.H, s.OC, 4, 2, s.P, prepared, KernelPaths.Default, winograd: false);
                    float[] filters = new float[l.FiltersLength];
                    PolyphaseWinogradConvolution.TransformFilters(w, filters, l);
                    float[] scratch = new float[Math.Max(l.ScratchLength, StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, 4, 2, s.P))];
                    var t = InterleavedAll(
                        () => StridedConvolution.ForwardPreparedOn(x, s.C, s.H, s.H, prepared, s.OC, 4, 2, s.P, y1, scratch, false, KernelPaths.Default, winograd: false),
                        () => PolyphaseWinogradConvolution.Forward(x, filters, b, y2, scratch, false, l));
                    double largest = 0;
                    for (int i = 0; i < y1.Length; i++) largest = Math.Max(largest, Math.Abs(y1[i] - y2[i]));
                    string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} p{s.P} ({l.OutHeight}x{l.OutWidth})";
                    Console.WriteLine($"{name,-26} {t[0] * 1e6,10:F2} {t[1] * 1e6,13:F2} {t[0] / t[1],8:F2}x {largest,19:E1}");
                }
                return;
            }
            // "transposed4": ConvTranspose2d(4, stride 2, padding 1) layers (DCGAN's generator and others): TransposedConvolution's
            // product and col2im on the weights as they are against TransposedWinogradConvolution (filters transformed once),
            // interleaved, with the largest difference between the two; the basis of TransposedWinogradConvolution.Pays.
            if (args.Length > 0 && args[0] == "transposed4")
            {
                var layers = new (int C, int H, int OC)[]
                {
                    (512, 4, 256), (256, 8, 128), (128, 16, 64), (64, 32, 3), (64, 32, 16), (64, 32, 32), (1024, 4, 512), (512, 8, 256),
                    (256, 16, 128), (128, 32, 64), (32, 16, 32), (16, 16, 16), (16, 32, 16), (64, 8, 64), (256, 4, 128), (128, 8, 128),
                    (32, 32, 8), (16, 64, 8), (64, 16, 3), (8, 32, 8),
                };
                Console.WriteLine($"{"convT 4x4 s2 p1",-26} {"col2im us",10} {"Winograd us",12} {"speed-up",9} {"phases us",10} {"speed-up",9} {"largest difference",19}");
                foreach (var s in layers)
                {
                    var g = new TransposedConvolutionGeometry(s.C, s.H, s.H, s.OC, 4, 4, 2, 2, 1, 1, 0, 0);
                    var l = TransposedWinogradConvolution.LayoutOf(s.C, s.H, s.H, s.OC);
                    float[] x = Fill(s.C * s.H * s.H, 1), w = Fill(s.C * s.OC * 16, 2), b = Fill(s.OC, 3);
                    float[] y1 = new float[g.OutLength], y2 = new float[g.OutLength];
                    float[] filters = new float[l.FiltersLength];
                    TransposedWinogradConvolution.TransformFilters(w, filters, l);
                    var lp = TransposedWinogradConvolution.LayoutOf(s.C, s.H, s.H, s.OC, phases: true);
                    float[] phaseFilters = new float[lp.FiltersLength], y3 = new float[g.OutLength];
                    TransposedWinogradConvolution.TransformFilters(w, phaseFilters, lp);
                    float[] scratch = new float[Math.Max(Math.Max(l.ScratchLength, lp.ScratchLength), TransposedConvolution.ScratchLength(g))];
                    var t = InterleavedAll(
                        () => TransposedConvolution.ForwardOn(g, x, w, b, y1, scratch, KernelPaths.Default),
                        () => TransposedWinogradConvolution.Forward(x, filters, b, y2, scratch, l),
                        () => TransposedWinogradConvolution.Forward(x, phaseFilters, b, y3, scratch, lp));
                    double largest = 0;
                    for (int i = 0; i < y1.Length; i++) largest = Math.Max(largest, Math.Max(Math.Abs(y1[i] - y2[i]), Math.Abs(y1[i] - y3[i])));
                    string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} ({g.OutHeight}x{g.OutWidth})";
                    Console.WriteLine($"{name,-26} {t[0] * 1e6,10:F2} {t[1] * 1e6,12:F2} {t[0] / t[1],8:F2}x {t[2] * 1e6,10:F2} {t[0] / t[2],8:F2}x {largest,19:E1}");
                }
                return;
            }
            // "transposed-narrow": ConvTranspose2d(4, stride 2, padding 1) onto fewer than 8 channels (a generator's last layer):
            // TransposedPhaseRows against the product and col2im it replaced (TransposedConvolution.PhaseRows off), interleaved.
            if (args.Length > 0 && args[0] == "transposed-narrow")
            {
                var layers = new (int C, int H, int W, int OC)[]
                {
                    (64, 32, 32, 3), (64, 16, 16, 3), (128, 32, 32, 3), (32, 64, 64, 3), (16, 64, 64, 3), (64, 32, 32, 1), (64, 32, 32, 7), (48, 12, 20, 2),
                };
                Console.WriteLine($"{"convT 4x4 s2 p1",-26} {"col2im us",10} {"phase rows us",14} {"speed-up",9} {"largest difference",19}");
                foreach (var s in layers)
                {
                    var g = new TransposedConvolutionGeometry(s.C, s.H, s.W, s.OC, 4, 4, 2, 2, 1, 1, 0, 0);
                    float[] x = Fill(s.C * s.H * s.W, 1), w = Fill(s.C * s.OC * 16, 2), b = Fill(s.OC, 3);
                    float[] y1 = new float[g.OutLength], y2 = new float[g.OutLength], scratch = new float[TransposedConvolution.ScratchLength(g)];
                    var t = InterleavedAll(
                        () => { TransposedConvolution.PhaseRows = false; TransposedConvolution.ForwardOn(g, x, w, b, y1, scratch, KernelPaths.Default); },
                        () => { TransposedConvolution.PhaseRows = true; TransposedConvolution.ForwardOn(g, x, w, b, y2, scratch, KernelPaths.Default); });
                    double largest = 0;
                    for (int i = 0; i < y1.Length; i++) largest = Math.Max(largest, Math.Abs(y1[i] - y2[i]));
                    string name = $"{s.C}x{s.H}x{s.W} -> {s.OC} ({g.OutHeight}x{g.OutWidth})";
                    Console.WriteLine($"{name,-26} {t[0] * 1e6,10:F2} {t[1] * 1e6,14:F2} {t[0] / t[1],8:F2}x {largest,19:E1}");
                }
                return;
            }
            // "transposed-prepare": TransposedWinogradConvolution.TransformFilters for DCGAN's generator's layers, both layouts (the
            // Winograd filters and the direct phases'), µs a call: what every training pass's thread pays once per layer.
            if (args.Length > 0 && args[0] == "transposed-prepare")
            {
                foreach (var (c, h, oc) in new[] { (512, 4, 256), (256, 8, 128), (128, 16, 64), (1024, 4, 512) })
                {
                    var winograd = TransposedWinogradConvolution.LayoutOf(c, h, h, oc);
                    var phases = TransposedWinogradConvolution.LayoutOf(c, h, h, oc, phases: true);
                    float[] w = Fill(c * oc * 16, 2), f1 = new float[winograd.FiltersLength], f2 = new float[phases.FiltersLength];
                    var t = InterleavedAll(() => TransposedWinogradConvolution.TransformFilters(w, f1, winograd), () => TransposedWinogradConvolution.TransformFilters(w, f2, phases));
                    Console.WriteLine($"{c}x{h}x{h} -> {oc}: Winograd filters {t[0] * 1e6,9:F1} us ({f1.Length * 4.0 / 1e6:F1} MB), direct phases {t[1] * 1e6,9:F1} us ({f2.Length * 4.0 / 1e6:F1} MB)");
                }
                return;
            }
            // "transposed-weights-batch": the weight gradient of 32 samples (one thread's half of a batch of 64) of stride-2
            // transposed layers, a sample at a time as Backward takes it against TransposedConvolution.WeightGradientOverBatch; µs
            // per sample, interleaved (the basis of WeightGradientPaysOverBatch).
            if (args.Length > 0 && args[0] == "transposed-weights-batch")
            {
                const int Samples = 32;
                var layers = new (int C, int H, int OC, int K, int P, int OP)[]
                {
                    (512, 4, 256, 4, 1, 0), (256, 8, 128, 4, 1, 0), (128, 16, 64, 4, 1, 0), (1024, 4, 512, 4, 1, 0), (128, 4, 64, 4, 1, 0), (64, 8, 32, 4, 1, 0),
                    (256, 4, 128, 2, 0, 0), (128, 8, 64, 2, 0, 0), (128, 8, 64, 3, 1, 1), (64, 16, 32, 3, 1, 1), (32, 8, 32, 4, 1, 0), (256, 12, 128, 4, 1, 0),
                };
                Console.WriteLine($"{"convT s2 d weight, 32 samples",-30} {"a sample at a time us",22} {"over the batch us",18} {"speed-up",9} {"largest difference",19}");
                foreach (var s in layers)
                {
                    var g = new TransposedConvolutionGeometry(s.C, s.H, s.H, s.OC, s.K, s.K, 2, 2, s.P, s.P, s.OP, s.OP);
                    float[] x = Fill(Samples * g.InLength, 1), w = Fill(g.WeightLength, 2), dy = Fill(Samples * g.OutLength, 3);
                    float[] dW1 = new float[g.WeightLength], dW2 = new float[g.WeightLength];
                    float[] scratch = new float[Math.Max(TransposedConvolution.ScratchLength(g), TransposedConvolution.WeightGradientOverBatchScratch(g))];
                    var t = InterleavedAll(
                        () =>
                        {
                            for (int n = 0; n < Samples; n++)
                                TransposedConvolution.Backward(g, x.AsSpan(n * g.InLength, g.InLength), w, dy.AsSpan(n * g.OutLength, g.OutLength), dW1, default, default, scratch);
                        },
                        () => TransposedConvolution.WeightGradientOverBatch(g, x, dy, Samples, dW2, scratch));
                    Array.Clear(dW1); Array.Clear(dW2);
                    for (int n = 0; n < Samples; n++)
                        TransposedConvolution.Backward(g, x.AsSpan(n * g.InLength, g.InLength), w, dy.AsSpan(n * g.OutLength, g.OutLength), dW1, default, default, scratch);
                    TransposedConvolution.WeightGradientOverBatch(g, x, dy, Samples, dW2, scratch);
                    double largest = 0;
                    for (int i = 0; i < dW1.Length; i++) largest = Math.Max(largest, Math.Abs(dW1[i] - dW2[i]) / Math.Max(1, Math.Abs(dW1[i])));
                    string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} k{s.K} p{s.P}{(s.OP > 0 ? " op1" : "")}";
                    Console.WriteLine($"{name,-30} {t[0] * 1e6 / Samples,22:F2} {t[1] * 1e6 / Samples,18:F2} {t[0] / t[1],8:F2}x {largest,19:E1}");
                }
                return;
            }
            // "transposed-backward": one sample's backward (d weight and d x) of stride-2 transposed layers, by im2col of d y and two
            // products against the strided convolution's kernels (TransposedConvolution.DifferentiatesAsConvolution), with the input
            // gradient's weights packed per call and once per pass, interleaved.
            if (args.Length > 0 && args[0] == "transposed-backward")
            {
                var layers = new (int C, int H, int OC, int K, int P, int OP)[]
                {
                    (512, 4, 256, 4, 1, 0), (256, 8, 128, 4, 1, 0), (128, 16, 64, 4, 1, 0), (64, 32, 3, 4, 1, 0), (64, 32, 32, 4, 1, 0),
                    (256, 16, 128, 4, 1, 0), (32, 16, 32, 4, 1, 0), (128, 8, 64, 2, 0, 0), (64, 16, 32, 2, 0, 0), (256, 4, 128, 2, 0, 0),
                    (64, 16, 32, 3, 1, 1), (128, 8, 64, 3, 1, 1), (64, 8, 32, 2, 0, 0), (128, 16, 64, 3, 1, 1), (64, 32, 32, 4, 1, 0),
                };
                Console.WriteLine($"{"convT s2 backward",-30} {"columns us",11} {"conv us",9} {"speed-up",9} {"prepared us",12} {"speed-up",9}");
                foreach (var s in layers)
                {
                    var g = new TransposedConvolutionGeometry(s.C, s.H, s.H, s.OC, s.K, s.K, 2, 2, s.P, s.P, s.OP, s.OP);
                    float[] x = Fill(g.InLength, 1), w = Fill(g.WeightLength, 2), dy = Fill(g.OutLength, 3);
                    float[] dW = new float[g.WeightLength], dX = new float[g.InLength];
                    float[] prepared = new float[TransposedConvolution.InputGradientWeightsLength(g)];
                    TransposedConvolution.PrepareInputGradient(g, w, prepared);
                    float[] scratch = new float[TransposedConvolution.ScratchLength(g)];
                    Action columns(bool weights, bool input) => () =>
                    {
                        TransposedConvolution.BackwardByConvolution = false;
                        TransposedConvolution.Backward(g, x, w, dy, weights ? dW : default, default, input ? dX : default, scratch);
                        TransposedConvolution.BackwardByConvolution = true;
                    };
                    var t = InterleavedAll(
                        columns(true, true), () => TransposedConvolution.Backward(g, x, w, dy, dW, default, dX, scratch),
                        () => TransposedConvolution.BackwardPrepared(g, x, w, prepared, dy, dW, default, dX, scratch),
                        columns(true, false), () => TransposedConvolution.BackwardPrepared(g, x, w, prepared, dy, dW, default, default, scratch),
                        columns(false, true), () => TransposedConvolution.BackwardPrepared(g, x, w, prepared, dy, default, default, dX, scratch));
                    string name = $"{s.C}x{s.H}x{s.H} -> {s.OC} k{s.K} p{s.P}{(s.OP > 0 ? " op1" : "")}";
                    Console.WriteLine($"{name,-30} {t[0] * 1e6,11:F2} {t[1] * 1e6,9:F2} {t[0] / t[1],8:F2}x {t[2] * 1e6,12:F2} {t[0] / t[2],8:F2}x"
                        + $"   dW {t[3] * 1e6,9:F2} / {t[4] * 1e6,9:F2}   dx {t[5] * 1e6,9:F2} / {t[6] * 1e6,9:F2}");
                }
                return;
            }
            // "stem-cells": a stride-2 stem handing its maps to a Winograd layer (StridedConvolution's lanes kernel writing the next
            // layer's padded input), its two-block tiles of 8 cells against up to 12 (LanesIntoWideCells), interleaved.
            if (args.Length > 0 && args[0] == "stem-cells")
            {
                foreach (var (c, h, oc, noc) in new[] { (3, 64, 32, 64), (3, 32, 32, 64), (3, 128, 32, 64), (3, 96, 32, 64), (3, 64, 64, 128), (8, 64, 48, 96), (3, 112, 32, 64), (4, 96, 48, 96) })
                {
                    int o = (h + 2 - 3) / 2 + 1;
                    var none = StridedConvolution.Link.None;
                    var next = StridedConvolution.Link.Convolution(oc, o, o, noc, 3, 2, 1, atEnd: true);
                    float[] x = Fill(c * h * h, 1), y = new float[oc * o * o];
                    float[] p = new float[StridedConvolution.PreparedLength(c, h, h, oc, 3, 2, 1)];
                    StridedConvolution.Prepare(Fill(oc * c * 9, 2), Fill(oc, 3), c, h, h, oc, 3, 2, 1, p);
                    float[] shared = new float[StridedConvolution.LinkedScratchLength(c, h, h, oc, 3, 2, 1, none, next)];
                    Action with(int cells) => () => { StridedConvolution.LanesIntoWideCells = cells; StridedConvolution.ForwardPreparedLinked(x, c, h, h, p, oc, 3, 2, 1, y, shared, true, none, next); StridedConvolution.LanesIntoWideCells = 12; };
                    var t = InterleavedAll(with(8), with(12));
                    double flop = 2.0 * oc * o * o * c * 9;
                    Console.WriteLine($"{c}x{h}x{h} -> {oc}: tiles of 8 cells {t[0] * 1e6,7:F2} us ({flop / t[0] / 1e9:F0} GFLOP/s), of up to 12 {t[1] * 1e6,7:F2} us ({flop / t[1] / 1e9:F0} GFLOP/s), {t[0] / t[1]:F2}x");
                }
                return;
            }
            if (args.Length > 0 && args[0] == "strided-stem-link")
            {
                StridedStemLink();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-training")
            {
                StridedTraining(args.Length > 1 ? int.Parse(args[1]) : 32);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-transform")
            {
                StridedTransform();
                return;
            }
            if (args.Length > 0 && args[0] == "gemv-panels")
            {
                GemvPanels();
                return;
            }
            if (args.Length > 0 && args[0] == "activations")
            {
                ActivationCosts();
                return;
            }
            if (args.Length == 4 && args[0] == "eval-loop")
            {
                EvaluationLoop(args[1], int.Parse(args[2]), double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
                return;
            }
            if (args.Length > 0 && args[0] == "eval-scaling")
            {
                EvaluationScaling(args.Length > 1 && args[1] != "all" ? args[1] : null, args.Length > 2 ? int.Parse(args[2]) : 10);
                return;
            }
            if (args.Length > 0 && args[0] == "eval-parallel")
            {
                EvaluationParallel(args.Length > 1 && args[1] != "all" ? args[1] : null, args.Length > 2 ? int.Parse(args[2]) : 10);
                return;
            }
            if (args.Length > 0 && args[0] == "eval-chunks")
            {
                EvaluationChunks(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "eval-cpu")
            {
                EvaluationCpu(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-net")
            {
                StridedNetLayers();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-samples")
            {
                StridedSamples(args.Length > 1 && args[1] != "bottleneck" ? int.Parse(args[1]) : 16, only: args[^1] == "bottleneck");
                return;
            }
            if (args.Length > 0 && args[0] == "strided-steps")
            {
                StridedWinogradSteps(args.Length > 1 ? int.Parse(args[1]) : 0);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-winograd")
            {
                // Shapes as C H OC triples, any number of them (strided-winograd 128 14 128 256 8 256).
                var stridedShapes = new System.Collections.Generic.List<(int, int, int)>();
                for (int a = 1; a + 2 < args.Length; a += 3) stridedShapes.Add((int.Parse(args[a]), int.Parse(args[a + 1]), int.Parse(args[a + 2])));
                CompareStridedWinograd(stridedShapes.Count > 0 ? stridedShapes.ToArray() : null);
                return;
            }
            if (args.Length > 0 && args[0] == "blocked")
            {
                if (args.Length > 2 && args[1] == "knob") ChannelBlocksBench.Groups(args[2]);
                else if (args.Length > 1 && args[1] == "align") ChannelBlocksBench.Align();
                else if (args.Length > 1 && args[1] == "single") ChannelBlocksBench.Single();
                else if (args.Length > 1 && args[1] == "five") ChannelBlocksBench.Five();
                else if (args.Length > 1 && args[1] == "dilated") ChannelBlocksBench.Dilated();
                else ChannelBlocksBench.Run();
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-packed")
            {
                PointwiseEval.RunPacked(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-eval")
            {
                PointwiseEval.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-training")
            {
                PointwiseTraining.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "pointwise-lanes")
            {
                ComparePointwiseLanes();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-pointwise")
            {
                CompareStridedPointwise();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-rows")
            {
                CompareStridedRows();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-prepare")
            {
                StridedPrepare();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-phases")
            {
                CompareStridedPhases();
                return;
            }
            if (args.Length > 0 && args[0] == "strided-odd")
            {
                CompareStridedOdd();
                return;
            }
            if (args.Length > 0 && args[0] == "strided")
            {
                CompareStrided();
                return;
            }
            if (args.Length > 0 && args[0] == "wgrad-shared")
            {
                if (args.Length > 1 && args[1] == "resnet8") SharedOutputGradient.ResNet8Pass();
                else SharedOutputGradient.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-dw")
            {
                StridedWeightGradient.Run(args.Length > 1 ? int.Parse(args[1]) : 16, args.Length > 2 ? args[2] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "strided-dx")
            {
                StridedInputGradient.Run(args.Length > 1 ? int.Parse(args[1]) : 1, args.Length > 2 ? args[2] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "transpose")
            {
                Transposes.Run(args.Length > 1 ? args[1] : null);
                return;
            }
            if (args.Length > 0 && args[0] == "relu-bn-sums")
            {
                BatchNormPasses.RunReluJoin();
                return;
            }
            if (args.Length > 0 && args[0] == "bnbackward")
            {
                BatchNormPasses.RunBackward();
                return;
            }
            if (args.Length > 0 && args[0] == "dropout")
            {
                // Dropout's training forward on one sample, µs: the generator's loop until session 42 (span indexers, the
                // generator behind a ref) against Elementwise.Dropout (the same draws), interleaved.
                foreach (int length in new[] { 7200, 16384, 1024 })
                {
                    float[] x = Fill(length, 3), y = new float[length], mask = new float[length];
                    var a = new CnnRandom(5);
                    var b = new CnnRandom(5);
                    var (loop, kernel) = Interleaved(() => DropoutLoop(x, y, mask, ref a), () => Elementwise.Dropout(x, y, mask, ref b, 0.25f, 1.3333334f));
                    Console.WriteLine($"{length,6} values: loop {loop * 1e6,8:F2} us, kernel {kernel * 1e6,8:F2} us, {loop / kernel:F2}x");
                }
                return;
            }
            if (args.Length > 0 && args[0] == "bnsmall")
            {
                BatchNormPasses.RunSmallPlanes();
                return;
            }
            if (args.Length > 0 && args[0] == "bnpasses")
            {
                BatchNormPasses.Run();
                return;
            }
            if (args.Length > 0 && args[0] == "batchnorm")
            {
                BatchNormRelu();
                return;
            }
            if (args.Length > 0 && args[0] == "backward")
            {
                BackwardSplit(stridedOnly: args.Length > 1 && args[1] is "strided" or "1x1", strided1x1Only: args.Length > 1 && args[1] == "1x1");
                return;
            }
            if (args.Length > 0 && args[0] == "over-batch")
            {
                CompareForwardOverBatch(args.Length > 1 ? args[1] : null, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32);
                return;
            }
            if (args.Length > 0 && args[0] == "cold-filters")
            {
                CompareColdFilters();
                return;
            }
            if (args.Length > 0 && args[0] == "evaluation")
            {
                EvaluationKernels();
                return;
            }
            var (peak, peak512) = FmaPeak();
            Console.WriteLine($"FMA peak, 1 thread, 12 independent chains: Vector256 {peak:F1} GFLOP/s (= 2 units x 8 lanes x 2 flops x {peak / 32:F2} GHz), Vector512 {peak512:F1} GFLOP/s");
            var shapes = new (string Name, bool TA, bool TB, int M, int N, int K, bool Acc)[]
            {
                ("conv1 fwd  W[6x25]*cols[25x784]", false, false, 6, 784, 25, false),
                ("conv2 fwd  W[16x150]*cols[150x100]", false, false, 16, 100, 150, false),
                ("cifar fwd  W[64x576]*cols[576x1024]", false, false, 64, 1024, 576, false),
                ("conv2 dW   dY[16x100]*cols^T (acc)", false, true, 16, 150, 100, true),
                ("conv2 dX   W^T[150x16]*dY[16x100]", true, false, 150, 100, 16, false),
                ("conv1 dW   dY[6x784]*cols^T (acc)", false, true, 6, 25, 784, true),
                ("fc fwd     X[64x400]*W^T[400x120]", false, true, 64, 120, 400, false),
                ("fc dW      dY^T[120x64]*X[64x400] (acc)", true, false, 120, 400, 64, true),
                ("fc dX      dY[64x120]*W[120x400]", false, false, 64, 400, 120, false),
                ("square     256^3", false, false, 256, 256, 256, false),
                // The strided layers trained over the batch (session 30): 128 -> 256 onto 2x2, 32 samples' cells as 128 columns.
                ("s2 fwd     W[256x1152]*cols[1152x128]", false, false, 256, 128, 1152, false),
                ("s2 dW      dY[256x128]*cols^T (acc)", false, true, 256, 1152, 128, true),
                ("s2 dX      W^T[1152x256]*dY[256x128]", true, false, 1152, 128, 256, false),
                ("s2 fwd     W[512x2304]*cols[2304x128]", false, false, 512, 128, 2304, false),
            };
            Console.WriteLine($"{"shape",-42} {"m",5} {"n",5} {"k",5} {"us/call",9} {"GFLOP/s",8}");
            foreach (var s in convolutionsOnly ? shapes[..0] : shapes)
            {
                int aLen = s.M * s.K, bLen = s.K * s.N;
                float[] a = Fill(aLen, 1), b = Fill(bLen, 2), c = new float[s.M * s.N];
                int lda = s.TA ? s.M : s.K, ldb = s.TB ? s.K : s.N;
                // Best of three rounds: other processes share this machine's two cores.
                double seconds = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    seconds = Math.Min(seconds, Time(() => Gemm.Multiply(s.TA, s.TB, s.M, s.N, s.K, a, lda, b, ldb, c, s.N, s.Acc)));
                }
                double gflops = 2.0 * s.M * s.N * s.K / seconds / 1e9;
                Console.WriteLine($"{s.Name,-42} {s.M,5} {s.N,5} {s.K,5} {seconds * 1e6,9:F2} {gflops,8:F1}");
            }
            // Convolution forward: direct (DirectConvolution) against im2col + GEMM, one sample.
            var convs = new (string Name, int C, int H, int W, int OC, int K, int P)[]
            {
                ("LeNet conv1 1x28x28 -> 6 k5 p2", 1, 28, 28, 6, 5, 2),
                ("LeNet conv2 6x14x14 -> 16 k5", 6, 14, 14, 16, 5, 0),
                ("CIFAR 3x32x32 -> 32 k3 p1", 3, 32, 32, 32, 3, 1),
                ("CIFAR 32x32x32 -> 32 k3 p1", 32, 32, 32, 32, 3, 1),
                ("CIFAR 32x16x16 -> 64 k3 p1", 32, 16, 16, 64, 3, 1),
                ("CIFAR 64x16x16 -> 64 k3 p1", 64, 16, 16, 64, 3, 1),
                ("ResNet-8 3x32x32 -> 16 k3 p1", 3, 32, 32, 16, 3, 1),
                ("ResNet-8 16x32x32 -> 16 k3 p1", 16, 32, 32, 16, 3, 1),
                ("ResNet-8 32x16x16 -> 32 k3 p1", 32, 16, 16, 32, 3, 1),
                ("ResNet-8 64x8x8 -> 64 k3 p1", 64, 8, 8, 64, 3, 1),
                ("16x64x64 -> 16 k3 p1", 16, 64, 64, 16, 3, 1),
                ("128x8x8 -> 128 k3 p1", 128, 8, 8, 128, 3, 1),
                ("24x20x20 -> 40 k3 p0", 24, 20, 20, 40, 3, 0),
            };
            Console.WriteLine($"{"convolution",-34} {"direct us",10} {"GFLOP/s",8} {"im2col us",10} {"GFLOP/s",8} {"backward us",12} {"GFLOP/s",8} {"Winograd us",12} {"GFLOP/s*",8} {"picked",9}");
            foreach (var s in convs)
            {
                int oh = s.H + 2 * s.P - s.K + 1, ow = s.W + 2 * s.P - s.K + 1, taps = s.C * s.K * s.K;
                float[] x = Fill(s.C * s.H * s.W, 4), w = Fill(s.OC * taps, 5), bias = Fill(s.OC, 6), y = new float[s.OC * oh * ow];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.W, s.OC, s.K, s.P)], cols = new float[taps * oh * ow];
                float[] dy = Fill(y.Length, 7), dw = new float[w.Length], dx = new float[x.Length];
                double direct = double.MaxValue, im2col = double.MaxValue, backward = double.MaxValue, winograd = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    direct = Math.Min(direct, Time(() => DirectConvolution.ForwardOn(x, s.C, s.H, s.W, w, bias, s.OC, s.K, s.P, y, scratch, relu: false, pool: false,
                        KernelPaths.Default, allowWinograd: false)));
                    if (s.K == 3 && Vector512.IsHardwareAccelerated)
                    {
                        var layout = new WinogradConvolution.Layout(s.C, s.H, s.W, s.OC, s.P);
                        float[] winogradScratch = new float[layout.ScratchLength];
                        winograd = Math.Min(winograd, Time(() => WinogradConvolution.Forward(x, w, bias, y, winogradScratch, relu: false, pool: false, layout)));
                    }
                    if (!convolutionsOnly)
                    {
                        im2col = Math.Min(im2col, Time(() =>
                        {
                            Im2Col.Expand(x, s.C, s.H, s.W, s.K, 1, s.P, oh, ow, cols);
                            Gemm.Multiply(false, false, s.OC, oh * ow, taps, w, taps, cols, oh * ow, y, oh * ow, false);
                        }));
                    }
                    backward = Math.Min(backward, Time(() => DirectConvolution.Backward(x, s.C, s.H, s.W, w, dy, s.OC, s.K, s.P, dw, dx, scratch)));
                }
                double flops = 2.0 * s.OC * oh * ow * taps;
                // The backward pass is two convolutions' worth of multiply-adds (weight and input gradients); GFLOP/s* counts
                // the direct convolution's multiply-adds, so it compares times.
                Console.WriteLine($"{s.Name,-34} {direct * 1e6,10:F2} {flops / direct / 1e9,8:F1} {im2col * 1e6,10:F2} {flops / im2col / 1e9,8:F1} {backward * 1e6,12:F2} {2 * flops / backward / 1e9,8:F1} {winograd * 1e6,12:F2} {flops / winograd / 1e9,8:F1} {(WinogradConvolution.Pays(s.C, s.H, s.W, s.OC, s.K, s.P) ? "Winograd" : "direct"),9}");
            }
            if (convolutionsOnly) return;
            // Im2Col
            {
                float[] x = Fill(6 * 14 * 14, 3), cols = new float[150 * 100], dx = new float[6 * 14 * 14];
                double e = Time(() => Im2Col.Expand(x, 6, 14, 14, 5, 1, 0, 10, 10, cols));
                double back = Time(() => Im2Col.AccumulateBack(cols, 6, 14, 14, 5, 1, 0, 10, 10, dx));
                Console.WriteLine($"Im2Col 6x14x14 k5: Expand {e * 1e6:F2} us ({15000 * 4 / e / 1e9:F1} GB/s written), AccumulateBack {back * 1e6:F2} us");
                float[] x2 = Fill(64 * 32 * 32, 3), cols2 = new float[576 * 1024], dx2 = new float[64 * 32 * 32];
                e = Time(() => Im2Col.Expand(x2, 64, 32, 32, 3, 1, 1, 32, 32, cols2));
                back = Time(() => Im2Col.AccumulateBack(cols2, 64, 32, 32, 3, 1, 1, 32, 32, dx2));
                Console.WriteLine($"Im2Col 64x32x32 k3p1: Expand {e * 1e6:F2} us ({576 * 1024 * 4 / e / 1e9:F1} GB/s written), AccumulateBack {back * 1e6:F2} us");
            }
            EvaluationKernels();
        }

        // The evaluation kernels against what they replaced, same process, interleaved rounds (`-- evaluation` runs only these).
        private static void EvaluationKernels()
        {
            var pointwise = new (string Name, int C, int Plane, int OC)[]
            {
                ("MobileNetV2 expand 16 -> 64 @16x16", 16, 256, 64),
                ("MobileNetV2 project 64 -> 16 @16x16", 64, 256, 16),
                ("MobileNetV2 expand 24 -> 96 @8x8", 24, 64, 96),
                ("MobileNetV2 project 96 -> 24 @8x8", 96, 64, 24),
                ("MobileNetV2 project 64 -> 24 @8x8", 64, 64, 24),
            };
            Console.WriteLine($"{"1x1 convolution + bias",-38} {"Pointwise us",13} {"GFLOP/s",8} {"GEMM+bias us",13} {"GFLOP/s",8}");
            foreach (var s in pointwise)
            {
                float[] x = Fill(s.C * s.Plane, 4), w = Fill(s.OC * s.C, 5), bias = Fill(s.OC, 6), y = new float[s.OC * s.Plane];
                double direct = double.MaxValue, gemm = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    direct = Math.Min(direct, Time(() => PointwiseConvolution.Forward(x, s.C, s.Plane, w, bias, s.OC, y)));
                    gemm = Math.Min(gemm, Time(() =>
                    {
                        Gemm.Multiply(false, false, s.OC, s.Plane, s.C, w, s.C, x, s.Plane, y, s.Plane, false);
                        for (int oc = 0; oc < s.OC; oc++) Elementwise.AddScalar(y.AsSpan(oc * s.Plane, s.Plane), bias[oc]);
                    }));
                }
                double flops = 2.0 * s.OC * s.Plane * s.C;
                Console.WriteLine($"{s.Name,-38} {direct * 1e6,13:F2} {flops / direct / 1e9,8:F1} {gemm * 1e6,13:F2} {flops / gemm / 1e9,8:F1}");
            }
            var strided = new (string Name, int C, int H, int W, int OC)[]
            {
                ("strided net 32x32x32 -> 64 k3 s2", 32, 32, 32, 64),
                ("strided net 64x16x16 -> 128 k3 s2", 64, 16, 16, 128),
                ("ResNet-8 16x32x32 -> 32 k3 s2", 16, 32, 32, 32),
            };
            Console.WriteLine($"{"strided 3x3 convolution",-38} {"prepared us",13} {"packed per call us",19}");
            foreach (var s in strided)
            {
                float[] x = Fill(s.C * s.H * s.W, 4), w = Fill(s.OC * s.C * 9, 5), bias = Fill(s.OC, 6), y = new float[s.OC * (s.H / 2) * (s.W / 2)];
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.W, s.OC, 3, 2, 1)];
                float[] prepared = new float[StridedConvolution.PreparedLength(s.C, s.H, s.W, s.OC, 3, 2, 1)];
                StridedConvolution.Prepare(w, bias, s.C, s.H, s.W, s.OC, 3, 2, 1, prepared);
                double once = double.MaxValue, perCall = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    once = Math.Min(once, Time(() => StridedConvolution.ForwardPrepared(x, s.C, s.H, s.W, prepared, s.OC, 3, 2, 1, y, scratch, relu: true)));
                    perCall = Math.Min(perCall, Time(() => StridedConvolution.Forward(x, s.C, s.H, s.W, w, bias, s.OC, 3, 2, 1, y, scratch, relu: true)));
                }
                Console.WriteLine($"{s.Name,-38} {once * 1e6,13:F2} {perCall * 1e6,19:F2}");
            }
        }

        // "linear": a Linear layer on a few samples, the batch's GEMM (weights as PyTorch stores them) + bias against
        // PreparedLinear (weights transposed once) sample by sample, interleaved; the basis of PreparedLinear.Pays.
        private static void CompareLinear((int In, int Out)[]? only)
        {
            var shapes = only ?? new (int In, int Out)[]
            {
                (84, 10), (64, 10), (120, 84), (256, 10), (400, 120), (512, 10), (128, 128), (256, 256), (576, 128), (512, 512), (1024, 256), (2048, 512), (4096, 1000),
            };
            Console.WriteLine($"{"in -> out",-14} {"batch",5} {"GEMM us",9} {"prepared us",12} {"speed-up",9} {"picked",9}");
            foreach (var (inFeatures, outFeatures) in shapes)
            {
                float[] weight = Fill(inFeatures * outFeatures, 1), bias = Fill(outFeatures, 2);
                float[] prepared = new float[PreparedLinear.PreparedLength(inFeatures, outFeatures)];
                PreparedLinear.Prepare(weight, bias, inFeatures, outFeatures, prepared);
                foreach (int batch in new[] { 1, 2, 4 })
                {
                    float[] x = Fill(batch * inFeatures, 3), y = new float[batch * outFeatures];
                    var (gemm, direct) = Interleaved(
                        () =>
                        {
                            Gemm.Multiply(false, true, batch, outFeatures, inFeatures, x, inFeatures, weight, inFeatures, y, outFeatures, accumulate: false);
                            for (int n = 0; n < batch; n++) Elementwise.Add(bias, y.AsSpan(n * outFeatures, outFeatures));
                        },
                        () =>
                        {
                            for (int n = 0; n < batch; n++)
                                PreparedLinear.Forward(x.AsSpan(n * inFeatures, inFeatures), prepared, inFeatures, outFeatures, y.AsSpan(n * outFeatures, outFeatures), relu: false);
                        });
                    string name = $"{inFeatures} -> {outFeatures}";
                    Console.WriteLine($"{name,-14} {batch,5} {gemm * 1e6,9:F3} {direct * 1e6,12:F3} {gemm / direct,8:F2}x {(PreparedLinear.Pays(inFeatures, outFeatures, batch) ? "prepared" : "GEMM"),9}");
                }
            }
        }

        // "optimizers": one optimizer step over parameter blocks from LeNet-5's to a VGG's, CPU time; run it again with
        // CNNGEN_DISABLE_SIMD=1 for the element-by-element loops.
        private static void OptimizerSteps()
        {
            Console.WriteLine($"{"optimizer",-22} {"parameters",11} {"us per step",12} {"ns per parameter",17}");
            foreach (int count in new[] { 61_706, 1_000_000, 9_000_000 })
            {
                float[] parameters = Fill(count, 1), gradients = Fill(count, 2);
                foreach (var (name, optimizer) in new (string, CnnGen.Training.Optimizer)[]
                {
                    ("SGD momentum 0.9", new CnnGen.Training.Sgd(count, 1e-4f, momentum: 0.9f)),
                    ("Adam", new CnnGen.Training.Adam(count, 1e-6f)),
                })
                {
                    var (seconds, _) = InterleavedCpu(() => optimizer.Step(parameters, gradients), () => { });
                    Console.WriteLine($"{name,-22} {count,11:N0} {seconds * 1e6,12:F1} {seconds * 1e9 / count,17:F3}");
                }
            }
        }

        // "linear-batch": a Linear layer over 8 to 64 samples, the GEMM transposing PyTorch's weights into panels on every
        // call against the same product on weights packed once (Gemm.MultiplyPacked), interleaved, CPU time; the basis of the
        // generator's rule for packing evaluation's Linear weights.
        private static void CompareLinearBatch(int[] batches)
        {
            var shapes = new (int In, int Out)[]
            {
                (84, 10), (256, 10), (120, 84), (400, 120), (128, 128), (256, 256), (512, 10), (512, 256), (784, 512), (512, 512),
                (1024, 256), (1024, 1024), (2048, 512), (4096, 1000),
            };
            Console.WriteLine($"{"in -> out",-14} {"batch",5} {"GEMM us",9} {"packed us",10} {"speed-up",9} {"GFLOP/s packed",15}");
            foreach (var (inFeatures, outFeatures) in shapes)
            {
                float[] weight = Fill(inFeatures * outFeatures, 1);
                float[] packed = new float[Gemm.PackedLength(outFeatures, inFeatures)];
                Gemm.PackTransposed(weight, outFeatures, inFeatures, packed);
                foreach (int batch in batches)
                {
                    float[] x = Fill(batch * inFeatures, 3), y = new float[batch * outFeatures];
                    var (gemm, direct) = InterleavedCpu(
                        () => Gemm.Multiply(false, true, batch, outFeatures, inFeatures, x, inFeatures, weight, inFeatures, y, outFeatures, accumulate: false),
                        () => Gemm.MultiplyPacked(batch, outFeatures, inFeatures, x, inFeatures, packed, y, outFeatures, accumulate: false));
                    string name = $"{inFeatures} -> {outFeatures}";
                    double flops = 2.0 * batch * inFeatures * outFeatures;
                    Console.WriteLine($"{name,-14} {batch,5} {gemm * 1e6,9:F2} {direct * 1e6,10:F2} {gemm / direct,8:F2}x {flops / direct / 1e9,15:F1}");
                }
            }
        }

        // "lenet": each step of LeNet-5's evaluation forward at batch 1, exactly the kernel calls the generated code makes
        // (tests/CnnGen.Tests/Baselines/LeNet5.generated.txt), then all of them in one call, then the paths not taken.
        private static void LeNetLayers()
        {
            float[] image = Fill(784, 1), input = new float[784], pooled1 = new float[6 * 14 * 14], pooled2 = new float[400], flat = new float[400];
            float[] fc1 = new float[120], relu1 = new float[120], fc2 = new float[84], relu2 = new float[84], logits = new float[10], output = new float[10];
            float[] parameters = Fill(61706, 2);
            float[] scratch = new float[Math.Max(DirectConvolution.ScratchLength(1, 28, 28, 6, 5, 2), DirectConvolution.ScratchLength(6, 14, 14, 16, 5, 0))];
            var p = (ReadOnlyMemory<float>)parameters;
            float[] t7 = new float[PreparedLinear.PreparedLength(400, 120)], t9 = new float[PreparedLinear.PreparedLength(120, 84)];
            PreparedLinear.Prepare(p.Span.Slice(2572, 48000), p.Span.Slice(50572, 120), 400, 120, t7);
            PreparedLinear.Prepare(p.Span.Slice(50692, 10080), p.Span.Slice(60772, 84), 120, 84, t9);
            var steps = new (string Name, Action Run)[]
            {
                ("copy input 1x28x28", () => image.AsSpan().CopyTo(input)),
                ("0-2 conv 1->6 k5 p2 +ReLU+pool", () => DirectConvolution.ForwardPooled(input, 1, 28, 28, p.Span.Slice(0, 150), p.Span.Slice(150, 6), 6, 5, 2, pooled1, scratch, relu: true)),
                ("3-5 conv 6->16 k5 +ReLU+pool", () => DirectConvolution.ForwardPooled(pooled1, 6, 14, 14, p.Span.Slice(156, 2400), p.Span.Slice(2556, 16), 16, 5, 0, pooled2, scratch, relu: true)),
                ("6 flatten (copy 400)", () => pooled2.AsSpan().CopyTo(flat)),
                ("7 linear 400->120 (transposed)", () => PreparedLinear.Forward(flat, t7, 400, 120, fc1, relu: false)),
                ("8 ReLU 120", () => Elementwise.Relu(fc1, relu1)),
                ("9 linear 120->84 (transposed)", () => PreparedLinear.Forward(relu1, t9, 120, 84, fc2, relu: false)),
                ("10 ReLU 84", () => Elementwise.Relu(fc2, relu2)),
                ("11 linear 84->10 + bias", () =>
                {
                    Gemm.Multiply(false, true, 1, 10, 84, relu2, 84, p.Span.Slice(60856, 840), 84, logits, 10, accumulate: false);
                    Elementwise.Add(p.Span.Slice(61696, 10), logits);
                }),
                ("copy output 10", () => logits.AsSpan().CopyTo(output)),
            };
            // The paths not taken at batch 1, for comparison (not in the sum).
            var alternatives = new (string Name, Action Run)[]
            {
                ("7 as GEMM (dot products) + bias", () =>
                {
                    Gemm.Multiply(false, true, 1, 120, 400, flat, 400, p.Span.Slice(2572, 48000), 400, fc1, 120, accumulate: false);
                    Elementwise.Add(p.Span.Slice(50572, 120), fc1);
                }),
                ("9 as GEMM (dot products) + bias", () =>
                {
                    Gemm.Multiply(false, true, 1, 84, 120, relu1, 120, p.Span.Slice(50692, 10080), 120, fc2, 84, accumulate: false);
                    Elementwise.Add(p.Span.Slice(60772, 84), fc2);
                }),
            };
            var all = steps.Append((Name: "all steps in one call", Run: (Action)(() => { foreach (var step in steps) step.Run(); }))).Concat(alternatives).ToArray();
            foreach (var step in all) WarmUp(step.Run);
            // Many short batches, each step in turn, the minimum of each: on a shared machine the steadiest estimate.
            var best = new double[all.Length];
            Array.Fill(best, double.MaxValue);
            var sw = new Stopwatch();
            for (int round = 0; round < 60; round++)
            {
                for (int i = 0; i < all.Length; i++)
                {
                    sw.Restart();
                    for (int call = 0; call < 200; call++) all[i].Run();
                    best[i] = Math.Min(best[i], sw.Elapsed.TotalSeconds / 200);
                }
            }
            for (int i = 0; i < all.Length; i++)
            {
                if (i == steps.Length) Console.WriteLine($"{"sum of the steps above",-40} {best.Take(steps.Length).Sum() * 1e6,9:F2} us");
                Console.WriteLine($"{all[i].Name,-40} {best[i] * 1e6,9:F2} us");
            }
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec { public long Seconds, Nanoseconds; }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        // This thread's CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID): on a machine shared with other processes, the time
        // the thread was scheduled out does not count, so a before/after stays comparable under load.
        private static long ThreadNanoseconds()
        {
            ClockGetTime(3, out var t);
            return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        }

        // Like Interleaved, in this thread's CPU time (Linux).
        // This thread's CPU seconds per call of a and of b (InterleavedOn); shared with the modes in files of their own.
        internal static (double A, double B) InterleavedCpu(Action a, Action b) => InterleavedOn(a, b, ThreadNanoseconds, 1e9);

        // "batchnorm": training's batch-norm normalize pass and the ReLU after it as two passes (normalize, then Elementwise.Relu
        // per sample, as the generated code ran them) against one (Normalize with relu: true, what it runs now), over one
        // thread's chunk of a batch of 64 on two threads (32 samples), in this thread's CPU time, best of 40 interleaved rounds.
        private static void BatchNormRelu()
        {
            const int batch = 32;
            var shapes = new (string Name, int C, int Plane)[]
            {
                ("CIFAR / strided 32x32x32", 32, 1024), ("CIFAR 64x16x16", 64, 256), ("strided 128x8x8", 128, 64),
                ("ResNet-8 16x32x32", 16, 1024), ("ResNet-8 32x16x16", 32, 256), ("ResNet-8 64x8x8", 64, 64),
            };
            Console.WriteLine($"{"batch 32 chunk",-26} {"two passes us",14} {"one pass us",12} {"saved",7}");
            foreach (var s in shapes)
            {
                int length = batch * s.C * s.Plane;
                float[] x = Fill(length, 7), y = new float[length], relu = new float[length];
                var (separate, fused) = InterleavedCpu(
                    () =>
                    {
                        for (int c = 0; c < s.C; c++) BatchNormalization.Normalize(x, y, batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, 0.05f);
                        for (int n = 0; n < batch; n++) Elementwise.Relu(y.AsSpan(n * s.C * s.Plane, s.C * s.Plane), relu.AsSpan(n * s.C * s.Plane, s.C * s.Plane));
                    },
                    () =>
                    {
                        for (int c = 0; c < s.C; c++) BatchNormalization.Normalize(x, relu, batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, 0.05f, relu: true);
                    });
                Console.WriteLine($"{s.Name,-26} {separate * 1e6,14:F1} {fused * 1e6,12:F1} {1 - fused / separate,6:P0}");
            }

            // A team of threads needs every channel's sums before it may normalize one (BatchStatisticsTeam): all the sums,
            // then every channel's second pass, re-reads each chunk after the others evicted it; a channel's second pass right
            // after its sums finds its planes in L2. The same passes, one thread, both orders (forward: sums, normalize + ReLU;
            // backward: Σdy and Σdy·x̂, then dx).
            Console.WriteLine($"{"batch 32 chunk, pass order",-26} {"fwd all, all",14} {"per channel",12} {"saved",7} {"bwd all, all",14} {"per channel",12} {"saved",7}");
            foreach (var s in shapes)
            {
                int length = batch * s.C * s.Plane;
                float[] x = Fill(length, 7), dy = Fill(length, 8), y = new float[length];
                double[] sums = new double[2 * s.C];
                void Sums(int c) => (sums[2 * c], sums[2 * c + 1]) = BatchNormalization.SumsAboutShift(x, batch, s.C, s.Plane, c, 0.1f);
                void Normalize(int c) => BatchNormalization.Normalize(x, y, batch, s.C, s.Plane, c, (float)sums[2 * c] * 1e-9f, 1.2f, 0.9f, 0.05f, relu: true);
                void BackwardSums(int c) => (sums[2 * c], sums[2 * c + 1]) = BatchNormalization.BackwardSums(x, dy, batch, s.C, s.Plane, c, 0.1f, 1.2f);
                void BackwardInput(int c) => BatchNormalization.BackwardInput(x, dy, y, batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, (float)sums[2 * c] * 1e-9f, 0.01f);
                var (forwardApart, forwardTogether) = InterleavedCpu(
                    () => { for (int c = 0; c < s.C; c++) Sums(c); for (int c = 0; c < s.C; c++) Normalize(c); },
                    () => { for (int c = 0; c < s.C; c++) { Sums(c); Normalize(c); } });
                var (backwardApart, backwardTogether) = InterleavedCpu(
                    () => { for (int c = 0; c < s.C; c++) BackwardSums(c); for (int c = 0; c < s.C; c++) BackwardInput(c); },
                    () => { for (int c = 0; c < s.C; c++) { BackwardSums(c); BackwardInput(c); } });
                Console.WriteLine($"{s.Name,-26} {forwardApart * 1e6,14:F1} {forwardTogether * 1e6,12:F1} {1 - forwardTogether / forwardApart,6:P0} "
                    + $"{backwardApart * 1e6,14:F1} {backwardTogether * 1e6,12:F1} {1 - backwardTogether / backwardApart,6:P0}");
            }

            // BatchStatisticsTeam publishes blocks of channels of at least DefaultMeetingValues of a chunk's values and finishes
            // a block behind its sums: the pass order of a meeting per block, one thread, against a channel at a time, for
            // blocks of 16K, 64K (the team's) and 256K values; forward (sums, normalize + ReLU) and backward, µs.
            var more = new (string Name, int C, int Plane)[] { ("MobileNetV2 16x16x16", 16, 256), ("MobileNetV2 96x8x8", 96, 64), ("MobileNetV2 24x8x8", 24, 64) };
            Console.WriteLine($"{"batch 32 chunk, blocks",-26} {"values",8} {"fwd channel",12} {"block",8} {"bwd channel",12} {"block",8}");
            foreach (var s in shapes.Concat(more))
            {
                int length = batch * s.C * s.Plane, perChannel = batch * s.Plane;
                float[] x = Fill(length, 7), dy = Fill(length, 8), y = new float[length];
                double[] sums = new double[2 * s.C];
                void Sums(int c) => (sums[2 * c], sums[2 * c + 1]) = BatchNormalization.SumsAboutShift(x, batch, s.C, s.Plane, c, 0.1f);
                void Normalize(int c) => BatchNormalization.Normalize(x, y, batch, s.C, s.Plane, c, (float)sums[2 * c] * 1e-9f, 1.2f, 0.9f, 0.05f, relu: true);
                void BackwardSums(int c) => (sums[2 * c], sums[2 * c + 1]) = BatchNormalization.BackwardSums(x, dy, batch, s.C, s.Plane, c, 0.1f, 1.2f);
                void BackwardInput(int c) => BatchNormalization.BackwardInput(x, dy, y, batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, (float)sums[2 * c] * 1e-9f, 0.01f);
                // The team's loop: sums of block b, then the second pass of block b − 1.
                void Blocked(int block, Action<int> first, Action<int> second)
                {
                    int blocks = (s.C + block - 1) / block;
                    for (int b = 0; b <= blocks; b++)
                    {
                        for (int c = b * block; c < Math.Min(s.C, (b + 1) * block); c++) first(c);
                        for (int c = (b - 1) * block; b > 0 && c < Math.Min(s.C, b * block); c++) second(c);
                    }
                }
                foreach (int values in new[] { 16 * 1024, 64 * 1024, 256 * 1024 })
                {
                    int block = Math.Clamp((values + perChannel - 1) / perChannel, 1, s.C);
                    var (forwardChannel, forwardBlock) = InterleavedCpu(() => Blocked(1, Sums, Normalize), () => Blocked(block, Sums, Normalize));
                    var (backwardChannel, backwardBlock) = InterleavedCpu(() => Blocked(1, BackwardSums, BackwardInput), () => Blocked(block, BackwardSums, BackwardInput));
                    Console.WriteLine($"{s.Name,-26} {values / 1024 + "K",8} {forwardChannel * 1e6,12:F1} {forwardBlock * 1e6,8:F1} {backwardChannel * 1e6,12:F1} {backwardBlock * 1e6,8:F1}");
                }
            }
        }

        // "backward" ("backward strided": only the stride-2 table): each backward pass split into its weight gradient alone (an empty input gradient), its input gradient
        // alone (an empty weight gradient) and both, one sample, in this thread's CPU time (best of 40 interleaved rounds); GFLOP/s counts one convolution's
        // multiply-adds per gradient (two for both). Stride 1: DirectConvolution.Backward. Stride 2: what the generated code of
        // a strided layer calls (im2col + GEMM for d weight, GEMM + col2im for d x).
        private static void BackwardSplit(bool stridedOnly, bool strided1x1Only = false)
        {
            Console.WriteLine($"{"stride 1 (DirectConvolution)",-40} {"dW us",8} {"GFLOP/s",8} {"dX us",8} {"GFLOP/s",8} {"both us",8} {"GFLOP/s",8}");
            var direct = new (string Name, int C, int H, int OC, int K, int P)[]
            {
                ("LeNet 1x28x28 -> 6 k5 p2", 1, 28, 6, 5, 2),
                ("LeNet 6x14x14 -> 16 k5", 6, 14, 16, 5, 0),
                ("CIFAR 3x32x32 -> 32", 3, 32, 32, 3, 1),
                ("CIFAR 32x32x32 -> 32", 32, 32, 32, 3, 1),
                ("CIFAR 32x16x16 -> 64", 32, 16, 64, 3, 1),
                ("CIFAR 64x16x16 -> 64", 64, 16, 64, 3, 1),
                ("ResNet-8 3x32x32 -> 16", 3, 32, 16, 3, 1),
                ("ResNet-8 16x32x32 -> 16", 16, 32, 16, 3, 1),
                ("ResNet-8 32x16x16 -> 32", 32, 16, 32, 3, 1),
                ("ResNet-8 64x8x8 -> 64", 64, 8, 64, 3, 1),
                ("128x8x8 -> 128", 128, 8, 128, 3, 1),
                ("16x64x64 -> 16", 16, 64, 16, 3, 1),
                ("24x20x20 -> 40 p0", 24, 20, 40, 3, 0),
                ("VGG-11 256x8x8 -> 256", 256, 8, 256, 3, 1),
                ("VGG-11 256x4x4 -> 512", 256, 4, 512, 3, 1),
                ("VGG-11 512x4x4 -> 512", 512, 4, 512, 3, 1),
                ("VGG-11 512x2x2 -> 512", 512, 2, 512, 3, 1),
            };
            foreach (var s in stridedOnly ? direct[..0] : direct)
            {
                int o = s.H + 2 * s.P - s.K + 1, taps = s.C * s.K * s.K;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * taps, 5), dy = Fill(s.OC * o * o, 7), dw = new float[w.Length], dx = new float[x.Length];
                float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, s.P)];
                var (weights, inputs, both) = Split(
                    () => DirectConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, dw, default, scratch),
                    () => DirectConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, default, dx, scratch),
                    () => DirectConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, s.P, dw, dx, scratch));
                Row(s.Name, 2.0 * s.OC * o * o * taps, weights, inputs, both);
            }
            // The two weight-gradient kernels on the same shapes (the basis of DirectConvolution.PickWeightKernel).
            if (Vector512.IsHardwareAccelerated && !stridedOnly)
            {
                Console.WriteLine($"{"stride 1 weight gradient, Vector512",-40} {"Dot us",8} {"GFLOP/s",8} {"Lanes us",8} {"GFLOP/s",8} {"picked",8}");
                foreach (var s in direct)
                {
                    int o = s.H + 2 * s.P - s.K + 1, taps = s.C * s.K * s.K;
                    float[] x = Fill(s.C * s.H * s.H, 4), dy = Fill(s.OC * o * o, 7), dw = new float[s.OC * taps];
                    float[] scratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, s.P)];
                    var v512 = DirectConvolution.KernelPath.Vector512;
                    var (dot, lanes) = InterleavedCpu(
                        () => DirectConvolution.WeightGradientOn(x, s.C, s.H, s.H, dy, s.OC, s.K, s.P, dw, scratch, v512, DirectConvolution.WeightKernel.Dot),
                        () => DirectConvolution.WeightGradientOn(x, s.C, s.H, s.H, dy, s.OC, s.K, s.P, dw, scratch, v512, DirectConvolution.WeightKernel.Lanes));
                    double flops = 2.0 * s.OC * o * o * taps;
                    Console.WriteLine($"{s.Name,-40} {dot * 1e6,8:F2} {flops / dot / 1e9,8:F1} {lanes * 1e6,8:F2} {flops / lanes / 1e9,8:F1} {DirectConvolution.PickedWeightKernel(s.C, s.H, s.H, s.OC, s.K, s.P),8}");
                }
            }
            Console.WriteLine($"{"stride 2: GEMM (generated code) / kernel",-40} {"dW us",8} {"GFLOP/s",8} {"dX us",8} {"GFLOP/s",8} {"both us",8} {"GFLOP/s",8}");
            var strided = new (string Name, int C, int H, int OC, int K, int P)[]
            {
                ("strided 3x64x64 -> 32 s2", 3, 64, 32, 3, 1),
                ("strided 32x32x32 -> 64 s2", 32, 32, 64, 3, 1),
                ("strided 64x16x16 -> 128 s2", 64, 16, 128, 3, 1),
                ("ResNet-8 16x32x32 -> 32 s2", 16, 32, 32, 3, 1),
                ("ResNet-8 32x16x16 -> 64 s2", 32, 16, 64, 3, 1),
                ("ResNet-8 16x32x32 -> 32 1x1 s2", 16, 32, 32, 1, 0),
                ("ResNet-8 32x16x16 -> 64 1x1 s2", 32, 16, 64, 1, 0),
                ("16x64x64 -> 32 1x1 s2", 16, 64, 32, 1, 0),
                ("64x16x16 -> 128 1x1 s2", 64, 16, 128, 1, 0),
                ("64x32x32 -> 128 1x1 s2", 64, 32, 128, 1, 0),
                ("128x16x16 -> 256 1x1 s2", 128, 16, 256, 1, 0),
                ("128x8x8 -> 256 1x1 s2", 128, 8, 256, 1, 0),
                ("256x8x8 -> 512 1x1 s2", 256, 8, 512, 1, 0),
                ("24x15x15 -> 40 1x1 s2 (odd)", 24, 15, 40, 1, 0),
            };
            if (strided1x1Only) strided = Array.FindAll(strided, s => s.K == 1);
            foreach (var s in strided)
            {
                int o = (s.H + 2 * s.P - s.K) / 2 + 1, cells = o * o, taps = s.C * s.K * s.K;
                float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * taps, 5), dy = Fill(s.OC * cells, 7), dw = new float[w.Length], dx = new float[x.Length];
                float[] cols = new float[taps * cells];
                Action weights = () =>
                {
                    Im2Col.Expand(x, s.C, s.H, s.H, s.K, 2, s.P, o, o, cols);
                    Gemm.Multiply(false, true, s.OC, taps, cells, dy, cells, cols, cells, dw, taps, accumulate: true);
                };
                Action inputs = () =>
                {
                    Gemm.Multiply(true, false, taps, cells, s.OC, w, taps, dy, cells, cols, cells, accumulate: false);
                    dx.AsSpan().Clear();
                    Im2Col.AccumulateBack(cols, s.C, s.H, s.H, s.K, 2, s.P, o, o, dx);
                };
                float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, 2, s.P)];
                // GEMM and kernel interleaved per gradient (steadier on a loaded machine than separate timings).
                var (gemmWeights, kernelWeights) = InterleavedCpu(weights,
                    () => StridedConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, 2, s.P, dw, default, scratch));
                var (gemmInputs, kernelInputs) = InterleavedCpu(inputs,
                    () => StridedConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, 2, s.P, default, dx, scratch));
                var (gemmBoth, kernelBoth) = InterleavedCpu(() => { weights(); inputs(); },
                    () => StridedConvolution.Backward(x, s.C, s.H, s.H, w, dy, s.OC, s.K, 2, s.P, dw, dx, scratch));
                Row(s.Name + " GEMM", 2.0 * s.OC * cells * taps, gemmWeights, gemmInputs, gemmBoth);
                Row(s.Name + " kernel", 2.0 * s.OC * cells * taps, kernelWeights, kernelInputs, kernelBoth);
            }
            // The input gradient alone: GEMM + col2im against the input channels in the Vector512 lanes (packed weights), the
            // basis of StridedConvolution.InputGradientLanes.
            if (Vector512.IsHardwareAccelerated && !strided1x1Only)
            {
                Console.WriteLine($"{"strided input gradient, Vector512",-40} {"GEMM us",8} {"GFLOP/s",8} {"lanes us",8} {"GFLOP/s",8} {"speedup",8}");
                var inputShapes = new (string Name, int C, int H, int OC, int K, int S, int P)[]
                {
                    ("strided 32x32x32 -> 64 s2", 32, 32, 64, 3, 2, 1),
                    ("strided 64x16x16 -> 128 s2", 64, 16, 128, 3, 2, 1),
                    ("ResNet-8 16x32x32 -> 32 s2", 16, 32, 32, 3, 2, 1),
                    ("ResNet-8 32x16x16 -> 64 s2", 32, 16, 64, 3, 2, 1),
                    ("ResNet-8 16x32x32 -> 32 1x1 s2", 16, 32, 32, 1, 2, 0),
                    ("ResNet-8 32x16x16 -> 64 1x1 s2", 32, 16, 64, 1, 2, 0),
                    ("MobileNet-ish 16x16x16 -> 24 s2", 16, 16, 24, 3, 2, 1),
                    ("3x64x64 -> 32 s2 (3 channels)", 3, 64, 32, 3, 2, 1),
                    ("8x32x32 -> 16 s2 (8 channels)", 8, 32, 16, 3, 2, 1),
                    ("12x32x32 -> 24 s2 (12 channels)", 12, 32, 24, 3, 2, 1),
                    ("64x16x16 -> 128 1x1 s2", 64, 16, 128, 1, 2, 0),
                    ("32x32x32 -> 64 k2 s2 p0", 32, 32, 64, 2, 2, 0),
                    ("24x28x28 -> 40 k5 s2 p2", 24, 28, 40, 5, 2, 2),
                    ("128x8x8 -> 256 s2", 128, 8, 256, 3, 2, 1),
                    ("64x15x15 -> 64 s2 (odd rows)", 64, 15, 64, 3, 2, 1),
                    ("32x24x24 -> 32 k3 s3", 32, 24, 32, 3, 3, 0),
                };
                StridedConvolution.InputGradientTileOverride = 0; // the lanes kernel, not the Winograd tiles (strided-dx compares those)
                foreach (var s in inputShapes)
                {
                    int o = (s.H + 2 * s.P - s.K) / s.S + 1, cells = o * o, taps = s.C * s.K * s.K;
                    float[] x = Fill(s.C * s.H * s.H, 4), w = Fill(s.OC * taps, 5), dy = Fill(s.OC * cells, 7), dx = new float[x.Length];
                    float[] scratch = new float[StridedConvolution.ScratchLength(s.C, s.H, s.H, s.OC, s.K, s.S, s.P)];
                    float[] packed = new float[StridedConvolution.PackedInputGradientLength(s.C, s.OC, s.K)];
                    StridedConvolution.PackInputGradientWeights(w, s.C, s.H, s.H, s.OC, s.K, s.S, s.P, packed);
                    var v512 = DirectConvolution.KernelPath.Vector512;
                    var (gemm, lanes) = InterleavedCpu(
                        () => StridedConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, s.K, s.S, s.P, default, dx, scratch, default, v512),
                        () => StridedConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, s.K, s.S, s.P, default, dx, scratch, packed, v512));
                    double flops = 2.0 * s.OC * cells * taps;
                    Console.WriteLine($"{s.Name,-40} {gemm * 1e6,8:F2} {flops / gemm / 1e9,8:F1} {lanes * 1e6,8:F2} {flops / lanes / 1e9,8:F1} {gemm / lanes,7:F2}x");
                }
            }

            static (double Weights, double Inputs, double Both) Split(Action weights, Action inputs, Action both)
            {
                var (w, i) = InterleavedCpu(weights, inputs);
                var (b, _) = InterleavedCpu(both, () => { });
                return (w, i, b);
            }

            static void Row(string name, double flops, double weights, double inputs, double both) =>
                Console.WriteLine($"{name,-40} {weights * 1e6,8:F2} {flops / weights / 1e9,8:F1} {inputs * 1e6,8:F2} {flops / inputs / 1e9,8:F1} {both * 1e6,8:F2} {2 * flops / both / 1e9,8:F1}");
        }

        // "resnet8": each step of ResNet-8's evaluation forward at batch 1 (the kernel calls the generated code makes, with
        // its shapes), best of 3 rounds, interleaved, to see where the time goes.
        private static void ResNet8Layers()
        {
            float[] input = Fill(3 * 32 * 32, 1), a32 = Fill(16 * 32 * 32, 2), b32 = Fill(16 * 32 * 32, 3), c32 = new float[16 * 32 * 32];
            float[] a16 = Fill(32 * 16 * 16, 4), b16 = Fill(32 * 16 * 16, 5), c16 = new float[32 * 16 * 16];
            float[] a8 = Fill(64 * 8 * 8, 6), b8 = Fill(64 * 8 * 8, 7), c8 = new float[64 * 8 * 8], pooled = new float[64], logits = new float[10];
            float[] scratch = new float[1 << 20];
            float[] stem = Fill(16 * 3 * 9 + 16, 8), w16 = Fill(16 * 16 * 9 + 16, 9), w32 = Fill(32 * 32 * 9 + 32, 10), w64 = Fill(64 * 64 * 9 + 64, 11), fc = Fill(650, 12);
            float[] s9 = Prepared(16, 32, 32, 32, 3, 1), s14 = Prepared(16, 32, 32, 32, 1, 0), s17 = Prepared(32, 16, 16, 64, 3, 1), s22 = Prepared(32, 16, 16, 64, 1, 0);
            var steps = new (string Name, Action Run)[]
            {
                ("0 stem conv 3->16 @32x32 +ReLU", () => DirectConvolution.Forward(input, 3, 32, 32, stem.AsSpan(0, 432), stem.AsSpan(432, 16), 16, 3, 1, a32, scratch, relu: true)),
                ("3 conv 16->16 @32x32 +ReLU", () => DirectConvolution.Forward(a32, 16, 32, 32, w16.AsSpan(0, 2304), w16.AsSpan(2304, 16), 16, 3, 1, b32, scratch, relu: true)),
                ("6 conv 16->16 @32x32", () => DirectConvolution.Forward(b32, 16, 32, 32, w16.AsSpan(0, 2304), w16.AsSpan(2304, 16), 16, 3, 1, c32, scratch, relu: false)),
                ("res 3 sum + 8 ReLU @16x32x32", () => { Elementwise.Sum(c32, a32, b32); Elementwise.Relu(b32, c32); }),
                ("9 conv 16->32 s2 +ReLU", () => StridedConvolution.ForwardPrepared(c32, 16, 32, 32, s9, 32, 3, 2, 1, a16, scratch, relu: true)),
                ("12 conv 32->32 @16x16", () => DirectConvolution.Forward(a16, 32, 16, 16, w32.AsSpan(0, 9216), w32.AsSpan(9216, 32), 32, 3, 1, b16, scratch, relu: false)),
                ("14 shortcut 1x1 16->32 s2", () => StridedConvolution.ForwardPrepared(c32, 16, 32, 32, s14, 32, 1, 2, 0, c16, scratch, relu: false)),
                ("res 5 sum + 16 ReLU @32x16x16", () => { Elementwise.Sum(b16, c16, a16); Elementwise.Relu(a16, b16); }),
                ("17 conv 32->64 s2 +ReLU", () => StridedConvolution.ForwardPrepared(b16, 32, 16, 16, s17, 64, 3, 2, 1, a8, scratch, relu: true)),
                ("20 conv 64->64 @8x8", () => DirectConvolution.Forward(a8, 64, 8, 8, w64.AsSpan(0, 36864), w64.AsSpan(36864, 64), 64, 3, 1, b8, scratch, relu: false)),
                ("22 shortcut 1x1 32->64 s2", () => StridedConvolution.ForwardPrepared(b16, 32, 16, 16, s22, 64, 1, 2, 0, c8, scratch, relu: false)),
                ("res 7 sum + 24 ReLU @64x8x8", () => { Elementwise.Sum(b8, c8, a8); Elementwise.Relu(a8, b8); }),
                ("25 avg pool + flatten + 27 linear", () =>
                {
                    Resampling.AdaptiveAvgPool(b8, 64, 8, 8, 1, 1, pooled);
                    Gemm.Multiply(false, true, 1, 10, 64, pooled, 64, fc, 64, logits, 10, accumulate: false);
                    Elementwise.Add(fc.AsSpan(640, 10), logits);
                }),
                ("copy input 3x32x32", () => input.AsSpan().CopyTo(c32)),
            };
            // The paths not taken on these shapes, for comparison (not in the sum).
            var alternatives = new (string Name, Action Run)[]
            {
                ("6 direct instead of Winograd", () => DirectConvolution.ForwardOn(b32, 16, 32, 32, w16.AsSpan(0, 2304), w16.AsSpan(2304, 16), 16, 3, 1, c32, scratch, relu: false, pool: false, DirectConvolution.KernelPath.Vector512, allowWinograd: false)),
                ("20 Winograd instead of direct", () => WinogradConvolution.Forward(a8, w64.AsSpan(0, 36864), w64.AsSpan(36864, 64), b8, scratch, relu: false, pool: false, new WinogradConvolution.Layout(64, 8, 8, 64, 1))),
                ("12 Winograd instead of direct", () => WinogradConvolution.Forward(a16, w32.AsSpan(0, 9216), w32.AsSpan(9216, 32), b16, scratch, relu: false, pool: false, new WinogradConvolution.Layout(32, 16, 16, 32, 1))),
            };
            var all = steps.Concat(alternatives).ToArray();
            var best = new double[all.Length];
            Array.Fill(best, double.MaxValue);
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < all.Length; i++) best[i] = Math.Min(best[i], Time(all[i].Run));
            }
            for (int i = 0; i < all.Length; i++)
            {
                if (i == steps.Length) Console.WriteLine($"{"sum of the steps above",-40} {best.Take(steps.Length).Sum() * 1e6,9:F2} us");
                Console.WriteLine($"{all[i].Name,-40} {best[i] * 1e6,9:F2} us");
            }

            static float[] Prepared(int c, int h, int w, int oc, int k, int p)
            {
                float[] prepared = new float[StridedConvolution.PreparedLength(c, h, w, oc, k, 2, p)];
                StridedConvolution.Prepare(Fill(oc * c * k * k, 13), Fill(oc, 14), c, h, w, oc, k, 2, p, prepared);
                return prepared;
            }
        }

        // "dilated": dilated 3x3 layers of one group (GroupedConvolution, which runs them as d² undilated phases) against the
        // undilated layer on the same map (the arithmetic is the same) and on one phase, interleaved rounds, best of each.
        private static void DilatedShapes()
        {
            var shapes = new (int C, int H, int OutC, int Dilation)[] { (32, 32, 32, 2), (32, 32, 64, 4), (64, 16, 64, 2), (16, 64, 16, 2), (128, 16, 128, 2), (32, 24, 32, 3) };
            float[] x = Fill(128 * 64 * 64, 1), w = Fill(128 * 128 * 9, 2), b = Fill(128, 3), y = new float[128 * 64 * 64], scratch = new float[1 << 22];
            Console.WriteLine($"{"3x3, dilation d, padding d",-30} {"dilated us",11} {"undilated us",13} {"one phase us",13} {"x phases",9}");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.OutC, 3, 3, 1, 1, s.Dilation, s.Dilation, s.Dilation, s.Dilation, 1);
                int phase = s.H / s.Dilation;
                double dilated = double.MaxValue, undilated = double.MaxValue, onePhase = double.MaxValue;
                for (int round = 0; round < 5; round++)
                {
                    dilated = Math.Min(dilated, TimeShort(() => GroupedConvolution.Forward(g, x, w, b, y, scratch)));
                    undilated = Math.Min(undilated, TimeShort(() => DirectConvolution.Forward(x, s.C, s.H, s.H, w, b, s.OutC, 3, 1, y, scratch, relu: false)));
                    onePhase = Math.Min(onePhase, TimeShort(() => DirectConvolution.Forward(x, s.C, phase, phase, w, b, s.OutC, 3, 1, y, scratch, relu: false)));
                }
                string name = $"{s.C}->{s.OutC} @{s.H}x{s.H} d{s.Dilation}";
                Console.WriteLine($"{name,-30} {dilated * 1e6,11:F2} {undilated * 1e6,13:F2} {onePhase * 1e6,13:F2} {onePhase * s.Dilation * s.Dilation * 1e6,9:F2}");
            }
        }

        // "lanes-pairs": the lanes kernel on kept packed weights, rows of 2-4 cells, two 16-channel blocks at a time against one,
        // interleaved (DirectConvolution.PairsOfBlocks).
        private static void LanesPairs()
        {
            var shapes = new (int C, int H, int OC)[] { (512, 4, 512), (256, 4, 512), (256, 4, 256), (128, 4, 256), (128, 4, 128), (64, 4, 64), (512, 3, 512), (256, 3, 256), (384, 3, 256), (192, 3, 384), (256, 6, 256), (512, 2, 512), (256, 2, 256), (128, 2, 128) };
            float[] x = Fill(512 * 36, 1), w = Fill(512 * 512 * 9, 2), bias = Fill(512, 3), y = new float[512 * 36], scratch = new float[1 << 23];
            Console.WriteLine($"{"3x3 p1 lanes, kept weights",-28} {"pairs us",9} {"one block us",13} {"speed-up",9} {"GFLOP/s",8}");
            foreach (var s in shapes)
            {
                float[] packed = new float[s.OC * s.C * 9];
                DirectConvolution.PackLanes(w, s.OC, s.C * 9, packed);
                void Run() => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, 3, 1, y, scratch, relu: true, pool: false, KernelPaths.Default, allowWinograd: false, packedLanes: packed);
                var (pairs, single) = Interleaved(
                    () => { DirectConvolution.PairsOfBlocks = true; Run(); },
                    () => { DirectConvolution.PairsOfBlocks = false; Run(); });
                DirectConvolution.PairsOfBlocks = true;
                string name = $"{s.C} -> {s.OC} @{s.H}x{s.H}";
                string rows = "";
                if (s.H % 3 == 0)
                {
                    // Rows of 3 cells three at a time against two (DirectConvolution.ThreeRowTiles).
                    var (three, twoRows) = Interleaved(
                        () => { DirectConvolution.ThreeRowTiles = true; Run(); },
                        () => { DirectConvolution.ThreeRowTiles = false; Run(); });
                    DirectConvolution.ThreeRowTiles = true;
                    rows = $"   three rows {three * 1e6:F2} us, two {twoRows * 1e6:F2} us: {twoRows / three:F2}x";
                }
                // The pairs with the padding's products left out against computing them all (DirectConvolution.SkipsPaddingProducts).
                var (skipping, all) = Interleaved(
                    () => { DirectConvolution.SkipsPaddingProducts = true; Run(); },
                    () => { DirectConvolution.SkipsPaddingProducts = false; Run(); });
                DirectConvolution.SkipsPaddingProducts = true;
                string skip = $"   padding skipped {skipping * 1e6:F2} us, computed {all * 1e6:F2} us: {all / skipping:F2}x";
                Console.WriteLine($"{name,-28} {pairs * 1e6,9:F2} {single * 1e6,13:F2} {single / pairs,8:F2}x {2.0 * s.OC * s.C * 9 * s.H * s.H / pairs / 1e9,8:F1}{rows}{skip}");
            }
        }

        // "grouped": grouped 3x3 convolutions (not depthwise): GroupedConvolution's im2col + GEMM per group against each group
        // run by DirectConvolution (stride 1) or StridedConvolution (stride 2) on its slices, interleaved.
        private static void GroupedShapes()
        {
            var shapes = new (int C, int H, int G, int S)[]
            {
                (128, 32, 32, 1), (128, 16, 4, 1), (128, 32, 8, 2), (64, 32, 4, 1), (64, 16, 8, 1), (256, 8, 32, 1), (256, 8, 8, 1),
                (128, 16, 2, 1), (96, 14, 3, 1), (256, 16, 32, 2), (64, 32, 2, 2), (48, 28, 4, 1), (512, 4, 32, 1),
            };
            float[] x = Fill(512 * 32 * 32, 1), w = Fill(512 * 512 * 9, 2), b = Fill(512, 3), y = new float[512 * 32 * 32], scratch = new float[1 << 22];
            Console.WriteLine($"{"grouped 3x3 C @H g s",-26} {"im2col us",10} {"per-group direct us",20} {"GFLOP/s (faster)",17}");
            foreach (var s in shapes)
            {
                int groupIn = s.C / s.G, inPlane = s.H * s.H;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, 3, 3, s.S, s.S, 1, 1, 1, 1, s.G);
                int outPlane = g.OutHeight * g.OutWidth;
                var (im2col, direct) = Interleaved(
                    () => GroupedConvolution.Forward(g, x, w, b.AsSpan(0, s.C), y, scratch),
                    () =>
                    {
                        for (int group = 0; group < s.G; group++)
                        {
                            var xs = x.AsSpan(group * groupIn * inPlane, groupIn * inPlane);
                            var ws = w.AsSpan(group * groupIn * groupIn * 9, groupIn * groupIn * 9);
                            var bs = b.AsSpan(group * groupIn, groupIn);
                            var ys = y.AsSpan(group * groupIn * outPlane, groupIn * outPlane);
                            if (s.S == 1) DirectConvolution.Forward(xs, groupIn, s.H, s.H, ws, bs, groupIn, 3, 1, ys, scratch, relu: false);
                            else StridedConvolution.Forward(xs, groupIn, s.H, s.H, ws, bs, groupIn, 3, s.S, 1, ys, scratch, relu: false);
                        }
                    });
                string name = $"{s.C} @{s.H} g{s.G} s{s.S}";
                double flops = 2.0 * s.C * groupIn * 9 * outPlane;
                Console.WriteLine($"{name,-26} {im2col * 1e6,10:F2} {direct * 1e6,20:F2} {flops / Math.Min(im2col, direct) / 1e9,17:F1}");
            }
            // The backward pass (weight and input gradients): GroupedConvolution.Backward (the route GroupsAsDense picks) against
            // im2col + GEMM per group, the layer split into groups of one geometry each so it takes the im2col route.
            float[] dy = Fill(512 * 32 * 32, 4), dw = new float[512 * 512 * 9], dx = new float[512 * 32 * 32];
            Console.WriteLine($"{"backward grouped 3x3",-26} {"im2col us",10} {"picked route us",20}");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, 3, 3, s.S, s.S, 1, 1, 1, 1, s.G);
                int groupIn = s.C / s.G, inPlane = s.H * s.H, outPlane = g.OutHeight * g.OutWidth;
                var (im2col, picked) = Interleaved(
                    () =>
                    {
                        for (int group = 0; group < s.G; group++)
                        {
                            var input = x.AsSpan(group * groupIn * inPlane, groupIn * inPlane);
                            int depth = groupIn * 9;
                            var one = new ConvolutionGeometry(groupIn, s.H, s.H, groupIn, 3, 3, s.S, s.S, 1, 1, 1, 1, 1);
                            ConvolutionColumns.Expand(input, groupIn, one, scratch);
                            GroupedConvolution.Multiply(KernelPaths.Default, false, true, groupIn, depth, outPlane, dy.AsSpan(group * groupIn * outPlane), outPlane, scratch, outPlane,
                                dw.AsSpan(group * groupIn * depth), depth, accumulate: true);
                            var dcols = scratch.AsSpan(0, depth * outPlane);
                            GroupedConvolution.Multiply(KernelPaths.Default, true, false, depth, outPlane, groupIn, w.AsSpan(group * groupIn * depth), depth, dy.AsSpan(group * groupIn * outPlane), outPlane, dcols, outPlane, accumulate: false);
                            var dxs = dx.AsSpan(group * groupIn * inPlane, groupIn * inPlane);
                            dxs.Clear();
                            ConvolutionColumns.AccumulateBack(dcols, groupIn, one, dxs);
                        }
                    },
                    () => GroupedConvolution.Backward(g, x, w, dy, dw, default, dx, scratch));
                string name = $"{s.C} @{s.H} g{s.G} s{s.S}";
                Console.WriteLine($"{name,-26} {im2col * 1e6,10:F2} {picked * 1e6,20:F2}");
            }
        }

        // "nonsquare": ungrouped stride-1 convolutions with a 1xk or kx1 kernel (Inception's factorized layers), as
        // GroupedConvolution runs them (DirectConvolution's tiles, GroupedConvolution.RunsDirect) against the im2col + GEMM
        // route it took before, forward and backward (both gradients), interleaved. Padding "same" along the kernel's axis
        // (Inception's (0, k/2) and (k/2, 0)) and none.
        private static void NonSquareShapes(string[] args)
        {
            var shapes = new (int C, int OC, int H, int Kh, int Kw, int Ph, int Pw)[]
            {
                (16, 16, 8, 1, 3, 0, 1), (16, 16, 8, 3, 1, 1, 0), (32, 48, 16, 1, 3, 0, 1), (48, 32, 16, 3, 1, 1, 0),
                (64, 64, 8, 1, 3, 0, 1), (64, 64, 8, 3, 1, 1, 0), (96, 96, 12, 1, 3, 0, 1), (96, 96, 12, 3, 1, 1, 0),
                (128, 128, 17, 1, 7, 0, 3), (128, 128, 17, 7, 1, 3, 0), (192, 192, 17, 1, 7, 0, 3), (192, 192, 17, 7, 1, 3, 0),
                (160, 192, 17, 7, 1, 3, 0), (64, 96, 35, 1, 3, 0, 1), (64, 96, 35, 3, 1, 1, 0), (48, 64, 35, 1, 5, 0, 2),
                (48, 64, 35, 5, 1, 2, 0), (192, 192, 8, 1, 3, 0, 1), (192, 192, 8, 3, 1, 1, 0), (24, 40, 20, 1, 3, 0, 0),
                (40, 24, 20, 3, 1, 0, 0), (17, 33, 13, 1, 7, 0, 3), (33, 17, 13, 7, 1, 3, 0), (16, 32, 32, 1, 3, 0, 1),
                // zoo sweep2's Inception-style layers (its probes)
                (16, 24, 32, 1, 3, 0, 1), (24, 24, 32, 3, 1, 1, 0), (32, 48, 16, 1, 3, 0, 1), (48, 48, 16, 3, 1, 1, 0),
            };
            if (args.Length > 1) shapes = shapes[^4..]; // `nonsquare inception`: the probes' shapes only
            float[] x = Fill(192 * 35 * 35, 1), w = Fill(192 * 192 * 7, 2), b = Fill(192, 3), y = new float[192 * 35 * 35];
            float[] dy = Fill(192 * 35 * 35, 4), dw = new float[192 * 192 * 7], dx = new float[192 * 35 * 35], scratch = new float[1 << 22];
            Console.WriteLine($"{"C->OC @H KhxKw p",-30} {"fwd im2col",11} {"fwd direct",11} {"ratio",6} {"bwd im2col",11} {"bwd direct",11} {"ratio",6}  (us)");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, 1, 1, s.Ph, s.Pw, 1, 1, 1);
                int plane = g.OutHeight * g.OutWidth, depth = s.C * s.Kh * s.Kw;
                var bias = b.AsSpan(0, s.OC).ToArray();
                var (im2col, direct) = Interleaved(
                    () =>
                    {
                        for (int oc = 0; oc < s.OC; oc++) y.AsSpan(oc * plane, plane).Fill(bias[oc]);
                        ConvolutionColumns.Expand(x, s.C, g, scratch);
                        GroupedConvolution.Multiply(KernelPaths.Default, false, false, s.OC, plane, depth, w, depth, scratch.AsSpan(0, depth * plane), plane, y, plane, accumulate: true);
                    },
                    () => GroupedConvolution.Forward(g, x, w, bias, y, scratch));
                var (im2colBack, directBack) = Interleaved(
                    () =>
                    {
                        ConvolutionColumns.Expand(x, s.C, g, scratch);
                        GroupedConvolution.Multiply(KernelPaths.Default, false, true, s.OC, depth, plane, dy, plane, scratch, plane, dw, depth, accumulate: true);
                        var dcols = scratch.AsSpan(0, depth * plane);
                        GroupedConvolution.Multiply(KernelPaths.Default, true, false, depth, plane, s.OC, w, depth, dy, plane, dcols, plane, accumulate: false);
                        dx.AsSpan(0, s.C * s.H * s.H).Clear();
                        ConvolutionColumns.AccumulateBack(dcols, s.C, g, dx);
                    },
                    () => GroupedConvolution.Backward(g, x, w, dy, dw, default, dx, scratch));
                string name = $"{s.C}->{s.OC} @{s.H} {s.Kh}x{s.Kw} p({s.Ph},{s.Pw})";
                double gflops = 2.0 * s.OC * depth * plane / direct / 1e9;
                Console.WriteLine($"{name,-30} {im2col * 1e6,11:F2} {direct * 1e6,11:F2} {im2col / direct,5:F2}x {im2colBack * 1e6,11:F2} {directBack * 1e6,11:F2} {im2colBack / directBack,5:F2}x  {gflops,6:F1} GFLOP/s fwd");
            }
        }

        // "line-winograd [C,OC,H,KhxKw ...]": ungrouped stride-1 1x3 and 3x1 layers ("same" padding along the kernel's axis),
        // DirectConvolution's tiles (GroupedConvolution's direct route) against LineWinogradConvolution's F(4, 3) with its
        // per-call filter transform, interleaved by thread CPU time, and the filter transform alone.
        private static void LineWinogradShapes(string[] args)
        {
            var shapes = new System.Collections.Generic.List<(int C, int OC, int H, int Kh, int Kw)>
            {
                (16, 24, 32, 1, 3), (24, 24, 32, 3, 1), (32, 48, 16, 1, 3), (48, 48, 16, 3, 1), // zoo sweep2's Inception-style layers
                (8, 8, 32, 1, 3), (8, 16, 32, 3, 1), (12, 12, 16, 1, 3), (16, 8, 16, 3, 1), (16, 16, 8, 1, 3), (16, 16, 8, 3, 1),
                (32, 32, 8, 1, 3), (64, 64, 8, 3, 1), (96, 96, 12, 1, 3), (96, 96, 12, 3, 1), (64, 96, 35, 1, 3), (64, 96, 35, 3, 1),
                (128, 128, 8, 1, 3), (192, 192, 8, 3, 1), (256, 256, 8, 1, 3), (384, 384, 8, 3, 1), (448, 384, 8, 1, 3), (32, 32, 4, 3, 1),
                (64, 64, 4, 1, 3), (256, 256, 4, 3, 1), (16, 16, 64, 1, 3), (3, 16, 32, 1, 3), (16, 3, 32, 3, 1),
            };
            if (args.Length > 1)
            {
                shapes.Clear();
                foreach (var arg in args[1..])
                {
                    var parts = arg.Split(',');
                    var kernel = parts[3].Split('x');
                    shapes.Add((int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(kernel[0]), int.Parse(kernel[1])));
                }
            }
            int most = 0;
            foreach (var s in shapes) most = Math.Max(most, Math.Max(s.C, s.OC) * (s.H + 4) * (s.H + 4));
            float[] x = Fill(most, 1), w = Fill(448 * 448 * 7, 2), b = Fill(448, 3), y = new float[most], dxBuffer = new float[most];
            Console.WriteLine($"{"C->OC @H KhxKw",-24} {"direct",9} {"winograd",9} {"ratio",6} {"filters",8}   {"dx direct",9} {"im2col",9} {"winograd",9} {"ratios",13} {"prepared",9}  (us, thread CPU)");
            foreach (var s in shapes)
            {
                int ph = s.Kh / 2, pw = s.Kw / 2;
                var layout = new LineWinogradConvolution.Layout(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, ph, pw);
                float[] scratch = new float[Math.Max(layout.ScratchLength, DirectConvolution.ScratchLengthPerAxis(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, ph, pw)) + 64];
                var clamp = new OutputClamp(0f, float.PositiveInfinity);
                var bias = b.AsSpan(0, s.OC).ToArray();
                var (direct, winograd) = InterleavedCpu(
                    () => DirectConvolution.ForwardOn(x, s.C, s.H, s.H, w, bias, s.OC, s.Kh, s.Kw, ph, pw, y, scratch, relu: true, pool: false, KernelPaths.Default),
                    () => LineWinogradConvolution.Forward(x, w, bias, y, scratch, clamp, layout));
                double filters = TimeShort(() => LineWinogradConvolution.TransformFilters(w, scratch, layout));
                if (!LineWinogradConvolution.TakesInputGradient(s.Kh, s.Kw, ph, pw))
                {
                    Console.WriteLine($"{$"{s.C}->{s.OC} @{s.H} {s.Kh}x{s.Kw}",-24} {direct * 1e6,9:F2} {winograd * 1e6,9:F2} {direct / winograd,5:F2}x {filters * 1e6,8:F2}");
                    continue;
                }
                // The input gradient alone: the direct kernels', im2col's (GEMM then col2im) and Winograd's.
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, 1, 1, ph, pw, 1, 1, 1);
                var transposed = LineWinogradConvolution.InputGradientLayout(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, ph, pw);
                int plane = s.H * s.H, depth = s.C * s.Kh * s.Kw; // (3 before session 49: im2col's 5- and 7-tap figures were short)
                float[] big = new float[Math.Max(scratch.Length, depth * plane) + Math.Max(transposed.ScratchLength, 0) + 64];
                float[] turned = new float[transposed.FiltersLength];
                LineWinogradConvolution.TransformFiltersTransposed(w, turned, transposed);
                double dxPrepared = TimeShort(() => LineWinogradConvolution.InputGradientPrepared(y, turned, dxBuffer, big, transposed));
                var (dxDirect, dxWinograd) = InterleavedCpu(
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, y, s.OC, s.Kh, s.Kw, ph, pw, default, dxBuffer, big, KernelPaths.Default),
                    () => LineWinogradConvolution.InputGradient(y, w, dxBuffer, big, transposed));
                double dxIm2col = TimeShort(() =>
                {
                    var dcols = big.AsSpan(0, depth * plane);
                    GroupedConvolution.Multiply(KernelPaths.Default, true, false, depth, plane, s.OC, w, depth, y, plane, dcols, plane, accumulate: false);
                    dxBuffer.AsSpan(0, s.C * plane).Clear();
                    ConvolutionColumns.AccumulateBack(dcols, s.C, g, dxBuffer);
                });
                Console.WriteLine($"{$"{s.C}->{s.OC} @{s.H} {s.Kh}x{s.Kw}",-24} {direct * 1e6,9:F2} {winograd * 1e6,9:F2} {direct / winograd,5:F2}x {filters * 1e6,8:F2}   "
                    + $"{dxDirect * 1e6,9:F2} {dxIm2col * 1e6,9:F2} {dxWinograd * 1e6,9:F2} {dxDirect / dxWinograd,5:F2}x {dxIm2col / dxWinograd,5:F2}x {dxPrepared * 1e6,9:F2}");
            }
        }

        // "line-wgrad [C,OC,H,KhxKw ...]": a 1xk or kx1 layer's weight gradient alone ("same" padding along the axis), the
        // direct kernels' (DirectConvolution.BackwardOn without dx) against im2col's (the columns k deep, then dW += dy · colsᵀ),
        // interleaved by thread CPU time.
        private static void LineWeightGradients(string[] args)
        {
            var shapes = new System.Collections.Generic.List<(int C, int OC, int H, int Kh, int Kw)>
            {
                (48, 48, 17, 1, 7), (48, 64, 17, 7, 1), (64, 48, 17, 1, 7), (128, 128, 17, 1, 7), (192, 192, 17, 7, 1), (32, 48, 16, 1, 3),
                (48, 48, 16, 3, 1), (96, 96, 12, 1, 3), (48, 64, 35, 1, 5), (128, 128, 8, 1, 5), (16, 16, 16, 1, 7), (256, 256, 8, 1, 3),
            };
            if (args.Length > 1)
            {
                shapes.Clear();
                foreach (var arg in args[1..])
                {
                    var parts = arg.Split(',');
                    var kernel = parts[3].Split('x');
                    shapes.Add((int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(kernel[0]), int.Parse(kernel[1])));
                }
            }
            Console.WriteLine($"{"C->OC @H KhxKw",-24} {"weights",8} {"direct",9} {"im2col",9} {"ratio",6}  (us, thread CPU, dW alone)");
            foreach (var s in shapes)
            {
                int ph = s.Kh / 2, pw = s.Kw / 2, plane = s.H * s.H, depth = s.C * s.Kh * s.Kw;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.OC, s.Kh, s.Kw, 1, 1, ph, pw, 1, 1, 1);
                float[] x = Fill(s.C * plane, 1), w = Fill(s.OC * depth, 2), dy = Fill(s.OC * plane, 3), dw = new float[s.OC * depth];
                float[] scratch = new float[Math.Max(GroupedConvolution.ScratchLength(g), depth * plane) + 64];
                var (direct, im2col) = InterleavedCpu(
                    () => DirectConvolution.BackwardOn(x, s.C, s.H, s.H, w, dy, s.OC, s.Kh, s.Kw, ph, pw, dw, default, scratch, KernelPaths.Default),
                    () =>
                    {
                        ConvolutionColumns.Expand(x, s.C, g, scratch);
                        GroupedConvolution.Multiply(KernelPaths.Default, false, true, s.OC, depth, plane, dy, plane, scratch, plane, dw, depth, accumulate: true);
                    });
                Console.WriteLine($"{$"{s.C}->{s.OC} @{s.H} {s.Kh}x{s.Kw}",-24} {s.OC * depth,8} {direct * 1e6,9:F2} {im2col * 1e6,9:F2} {im2col / direct,5:F2}x");
            }
        }

        // "line-winograd-error": LineWinogradConvolution's forward and input gradient against the definition in double, the
        // largest and the mean error over the sum of the products' magnitudes, inputs, weights and dy uniform in ±1 (session
        // 49 chose F(4, 7) by it: F(2, 7), which it replaced, read 2.9e-7 to 4.9e-7 largest on the 7-tap shapes).
        private static void LineWinogradErrors()
        {
            var shapes = new (int C, int OC, int H, int W, int Kh, int Kw)[]
            {
                (16, 16, 9, 15, 7, 1), (19, 5, 10, 7, 7, 1), (32, 48, 17, 17, 1, 7), (48, 32, 17, 17, 7, 1), (128, 128, 17, 17, 1, 7),
                (192, 192, 17, 17, 7, 1), (16, 16, 16, 16, 1, 7), (64, 64, 12, 12, 7, 1), (32, 48, 16, 16, 1, 3), (96, 96, 12, 12, 3, 1),
                (48, 64, 35, 35, 1, 5), (128, 128, 8, 8, 5, 1),
            };
            Console.WriteLine($"{"C->OC @HxW KhxKw",-24} {"fwd max",9} {"fwd mean",9} {"dx max",9} {"dx mean",9}");
            foreach (var s in shapes)
            {
                var random = new Random(s.C * 7 + s.H);
                int k = Math.Max(s.Kh, s.Kw);
                float[] x = new float[s.C * s.H * s.W], w = new float[s.OC * s.C * k], dyUsed = new float[s.OC * s.H * s.W];
                foreach (var array in new[] { x, w, dyUsed })
                    for (int i = 0; i < array.Length; i++) array[i] = (float)(2 * random.NextDouble() - 1);
                int ph = s.Kh / 2, pw = s.Kw / 2;
                var layout = new LineWinogradConvolution.Layout(s.C, s.H, s.W, s.OC, s.Kh, s.Kw, ph, pw);
                var transposed = LineWinogradConvolution.InputGradientLayout(s.C, s.H, s.W, s.OC, s.Kh, s.Kw, ph, pw);
                float[] y = new float[s.OC * s.H * s.W], dx = new float[x.Length], scratch = new float[Math.Max(layout.ScratchLength, transposed.ScratchLength) + 64];
                LineWinogradConvolution.Forward(x, w, default, y, scratch, new OutputClamp(float.NegativeInfinity, float.PositiveInfinity), layout);
                LineWinogradConvolution.InputGradient(dyUsed, w, dx, scratch, transposed);
                double fMax = 0, fSum = 0, bMax = 0, bSum = 0;
                // y[oc, i, j] = Σ w[oc, ic, t] x[ic, i + t·dy − ph, j + t·dx − pw]; dx[ic, p, q] = Σ w[oc, ic, t] dy[oc, p − t·dy + ph, q − t·dx + pw].
                int vy = s.Kh > 1 ? 1 : 0, vx = 1 - vy;
                var dxExact = new double[x.Length]; var dxMagnitude = new double[x.Length];
                for (int oc = 0; oc < s.OC; oc++)
                    for (int i = 0; i < s.H; i++)
                        for (int j = 0; j < s.W; j++)
                        {
                            double exact = 0, magnitude = 0;
                            for (int ic = 0; ic < s.C; ic++)
                                for (int t = 0; t < k; t++)
                                {
                                    int r = i + t * vy - ph, c = j + t * vx - pw;
                                    if (r < 0 || r >= s.H || c < 0 || c >= s.W) continue;
                                    double weight = w[(oc * s.C + ic) * k + t];
                                    exact += weight * x[(ic * s.H + r) * s.W + c];
                                    magnitude += Math.Abs(weight * x[(ic * s.H + r) * s.W + c]);
                                    double g = dyUsed[(oc * s.H + i) * s.W + j];
                                    dxExact[(ic * s.H + r) * s.W + c] += weight * g;
                                    dxMagnitude[(ic * s.H + r) * s.W + c] += Math.Abs(weight * g);
                                }
                            double e = Math.Abs(y[(oc * s.H + i) * s.W + j] - exact) / magnitude;
                            fMax = Math.Max(fMax, e); fSum += e;
                        }
                for (int i = 0; i < x.Length; i++)
                {
                    double e = Math.Abs(dx[i] - dxExact[i]) / dxMagnitude[i];
                    bMax = Math.Max(bMax, e); bSum += e;
                }
                Console.WriteLine($"{$"{s.C}->{s.OC} @{s.H}x{s.W} {s.Kh}x{s.Kw}",-24} {fMax,9:E2} {fSum / y.Length,9:E2} {bMax,9:E2} {bSum / x.Length,9:E2}");
            }
        }

        // "avgpool": Pooling.AvgPool and its backward on the vector path against the same kernel one cell at a time (the
        // scalar path, the generated loop's order), interleaved, over channels 3-256, maps 7-64 (odd ones too), windows 2, 3
        // and 5, stride 1 (the vector case) and 2; next to a copy of the input (the memory traffic's floor).
        private static void AvgPoolShapes()
        {
            var shapes = new (int C, int H, int K, int S, int P)[]
            {
                (32, 32, 3, 1, 1), (64, 16, 3, 1, 1), (192, 28, 3, 1, 1), (16, 64, 3, 1, 1), (3, 37, 3, 1, 1), (128, 8, 3, 1, 1),
                (256, 7, 3, 1, 1), (32, 33, 5, 1, 2), (64, 15, 2, 1, 0), (64, 32, 3, 2, 1), (32, 37, 3, 2, 1),
            };
            float[] x = Fill(256 * 64 * 64, 1), y = new float[256 * 64 * 64];
            var vector = KernelPaths.Default;
            Console.WriteLine($"{"avg pool",-24} {"vector us",10} {"scalar us",10} {"back vec",9} {"back scal",10} {"copy us",8}");
            foreach (var s in shapes)
            {
                int length = s.C * s.H * s.H;
                var (forward, forwardScalar) = Interleaved(
                    () => Pooling.AvgPoolOn(x, s.C, s.H, s.H, s.K, s.S, s.P, y, vector),
                    () => Pooling.AvgPoolOn(x, s.C, s.H, s.H, s.K, s.S, s.P, y, DirectConvolution.KernelPath.Scalar));
                var (backward, backwardScalar) = Interleaved(
                    () => Pooling.AvgPoolBackwardOn(x, s.C, s.H, s.H, s.K, s.S, s.P, y, vector),
                    () => Pooling.AvgPoolBackwardOn(x, s.C, s.H, s.H, s.K, s.S, s.P, y, DirectConvolution.KernelPath.Scalar));
                double copy = TimeShort(() => x.AsSpan(0, length).CopyTo(y));
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S} p{s.P}";
                Console.WriteLine($"{name,-24} {forward * 1e6,10:F2} {forwardScalar * 1e6,10:F2} {backward * 1e6,9:F2} {backwardScalar * 1e6,10:F2} {copy * 1e6,8:F2}");
            }
        }

        // "maxpool": Pooling.MaxPool (the direct kernel where it runs) against the copying kernel it replaced, interleaved, over
        // channels 3-256, maps 7-112 (odd ones too), windows 2 and 3, strides 1 and 2, padding 0 and 1; next to a copy of the same
        // input (the memory traffic's floor).
        private static void MaxPoolShapes()
        {
            var shapes = new (int C, int H, int K, int S, int P)[]
            {
                (64, 32, 3, 2, 1), (64, 56, 3, 2, 1), (64, 112, 3, 2, 1), (3, 112, 3, 2, 1), (16, 64, 3, 2, 1), (128, 16, 3, 2, 1), (256, 7, 3, 2, 1),
                (32, 32, 3, 1, 1), (64, 15, 3, 1, 1), (256, 8, 3, 1, 1), (32, 33, 3, 2, 0), (64, 27, 3, 2, 1), (64, 31, 2, 2, 1), (32, 32, 2, 1, 0),
                (128, 14, 2, 2, 1), (3, 224, 3, 2, 1), (96, 9, 3, 1, 0),
            };
            float[] x = Fill(64 * 224 * 224, 1), y = new float[64 * 224 * 224];
            Console.WriteLine($"{"max pool",-24} {"direct us",10} {"copying us",11} {"copy us",8}");
            foreach (var s in shapes)
            {
                int length = s.C * s.H * s.H, outSize = (s.H + 2 * s.P - s.K) / s.S + 1;
                var (direct, copying) = Interleaved(
                    () => Pooling.MaxPool(x, s.C, s.H, s.H, s.K, s.S, s.P, y),
                    () => Pooling.MaxPoolCopying(x, s.C, s.H, s.H, s.K, s.S, s.P, outSize, outSize, y, KernelPaths.Default));
                double copy = TimeShort(() => x.AsSpan(0, length).CopyTo(y));
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S} p{s.P}";
                Console.WriteLine($"{name,-24} {direct * 1e6,10:F2} {copying * 1e6,11:F2} {copy * 1e6,8:F2}");
            }
            // The backward pass (the winners found again from x, dy added there) over the same shapes.
            float[] dy = Fill(64 * 224 * 224, 2);
            Console.WriteLine($"{"max pool backward",-24} {"us",10} {"copy us",11}");
            foreach (var s in shapes)
            {
                int length = s.C * s.H * s.H;
                double backward = TimeShort(() => Pooling.MaxPoolBackward(x, dy, s.C, s.H, s.H, s.K, s.S, s.P, y));
                double copy = TimeShort(() => x.AsSpan(0, length).CopyTo(y));
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S} p{s.P}";
                Console.WriteLine($"{name,-24} {backward * 1e6,10:F2} {copy * 1e6,11:F2}");
            }
        }

        // "resample": transposed convolutions whose windows tile the output, the tiles placed in one pass against the bias filled
        // in and the columns scattered onto it (interleaved, the same GEMM before both), and the GEMM alone; nearest upsampling x2;
        // next to a copy of the output (the memory traffic's floor).
        private static void ResamplingShapes()
        {
            var transposed = new (int In, int Out, int H, int K)[] { (64, 32, 8, 2), (32, 16, 16, 2), (128, 64, 16, 2), (256, 128, 8, 2), (16, 8, 32, 2), (64, 32, 7, 2), (32, 3, 28, 2), (16, 8, 12, 3) };
            float[] x = Fill(256 * 64 * 64, 1), w = Fill(256 * 128 * 9, 2), b = Fill(256, 3), y = new float[256 * 128 * 128], scratch = new float[1 << 22];
            Console.WriteLine($"{"transposed k=s in -> out @map",-32} {"tiles us",9} {"scatter us",11} {"copy us",8} {"GEMM us",8}");
            foreach (var s in transposed)
            {
                var g = new TransposedConvolutionGeometry(s.In, s.H, s.H, s.Out, s.K, s.K, s.K, s.K, 0, 0, 0, 0);
                var adjoint = TransposedConvolution.Adjoint(g);
                int rows = s.Out * s.K * s.K, plane = s.H * s.H;
                var (tiles, scatter) = Interleaved(
                    () => TransposedConvolution.Forward(g, x, w, b.AsSpan(0, s.Out), y, scratch),
                    () =>
                    {
                        GroupedConvolution.Multiply(KernelPaths.Default, true, false, rows, plane, s.In, w, rows, x, plane, scratch, plane, accumulate: false);
                        TransposedConvolution.ScatterColumns(g, adjoint, scratch, b.AsSpan(0, s.Out), y);
                    });
                double copy = TimeShort(() => x.AsSpan(0, g.OutLength).CopyTo(y));
                double gemm = TimeShort(() => GroupedConvolution.Multiply(KernelPaths.Default, true, false, rows, plane, s.In, w, rows, x, plane, scratch, plane, accumulate: false));
                string name = $"{s.In} -> {s.Out} @{s.H}x{s.H} k{s.K}";
                Console.WriteLine($"{name,-32} {tiles * 1e6,9:F2} {scatter * 1e6,11:F2} {copy * 1e6,8:F2} {gemm * 1e6,8:F2}");
            }
            var upsampled = new (int C, int H)[] { (32, 16), (64, 8), (16, 32), (128, 16), (3, 64), (64, 7), (32, 28), (256, 4) };
            Console.WriteLine($"{"nearest x2 channels @map",-32} {"us",9} {"copy us",11}");
            foreach (var s in upsampled)
            {
                int length = s.C * 4 * s.H * s.H;
                double upsample = TimeShort(() => Resampling.UpsampleNearest(x, s.C, s.H, s.H, 2, 2, y));
                double copy = TimeShort(() => x.AsSpan(0, length).CopyTo(y));
                string name = $"{s.C} @{s.H}x{s.H}";
                Console.WriteLine($"{name,-32} {upsample * 1e6,9:F2} {copy * 1e6,11:F2}");
            }
        }

        // "pointwise": PointwiseConvolution over MobileNet-like shapes, with blocks of cells copied together first where that
        // pays (PacksBlocks) against without, interleaved.
        private static void PointwiseOrders()
        {
            var shapes = new (int In, int Out, int H)[] { (32, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8), (16, 64, 32), (64, 16, 32), (24, 96, 16), (96, 24, 16), (64, 64, 16), (512, 512, 4), (32, 32, 32) };
            float[] x = Fill(512 * 32 * 32, 1), w = Fill(512 * 512, 2), b = Fill(512, 3), y = new float[512 * 32 * 32];
            Console.WriteLine($"{"1x1 in -> out @map",-24} {"blocks us",15} {"in place us",18} {"GFLOP/s",8}");
            foreach (var s in shapes)
            {
                int plane = s.H * s.H;
                var (cells, channels) = Interleaved(
                    () => { PointwiseConvolution.BlockPacking = true; PointwiseConvolution.Forward(x, s.In, plane, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity); },
                    () => { PointwiseConvolution.BlockPacking = false; PointwiseConvolution.Forward(x, s.In, plane, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity); });
                string name = $"{s.In} -> {s.Out} @{s.H}x{s.H}";
                Console.WriteLine($"{name,-24} {cells * 1e6,15:F2} {channels * 1e6,18:F2} {2.0 * s.In * s.Out * plane / cells / 1e9,8:F1}");
            }
            PointwiseConvolution.BlockPacking = true;
        }

        // "pointwise-shapes [prefix]": PointwiseConvolution (+ReLU) over channels 16-512 and maps 2x2-56x56, interleaved: as it runs,
        // with the cells past the last whole vector one at a time (VectorTail off), and with 4-row tiles on planes of one or two
        // vectors (TallTiles off), with layers onto 9-31 output channels on 4-row tiles (NarrowOutputTall off), and with L2-resident
        // planes of a multiple of 1024 cells copied in blocks (InPlaceTall off); GFLOP/s of the first against the FMA probe's peak.
        private static void PointwiseShapes(string? prefix)
        {
            var shapes = new (int In, int Out, int H)[]
            {
                (16, 64, 56), (64, 16, 56), (24, 24, 56), (32, 64, 28), (64, 128, 32), (128, 64, 32), (128, 128, 16), (96, 24, 28), (128, 128, 14),
                (256, 256, 14), (96, 576, 14), (160, 960, 7), (512, 512, 7), (256, 256, 8), (40, 240, 10), (512, 512, 4), (256, 512, 4), (96, 96, 5),
                (1024, 1024, 3), (512, 512, 2), (64, 48, 6), (17, 33, 13), (16, 96, 32), (24, 144, 32), (144, 24, 32), (96, 24, 32), (192, 32, 32), (64, 16, 32), (144, 16, 32), (96, 16, 64), (120, 24, 64), (144, 24, 56), (96, 24, 56), (144, 24, 28), (288, 24, 16), (120, 16, 16), (480, 24, 16), (72, 24, 48), (64, 12, 32), (96, 10, 28), (32, 24, 64), (64, 16, 16), (32, 16, 32), (96, 24, 16), (48, 24, 16), (72, 24, 16), (60, 30, 32), (32, 16, 112), (144, 32, 32), (64, 32, 32), (96, 48, 32), (128, 48, 32), (32, 48, 64), (64, 64, 32), (128, 128, 32), (144, 40, 64), (64, 96, 32), (256, 64, 32), (256, 128, 32), (32, 64, 64), (64, 32, 64), (48, 32, 64), (120, 40, 16), (72, 40, 16), (40, 120, 16), (128, 256, 14), (64, 256, 14), (256, 64, 14), (96, 96, 14), (144, 48, 28), (192, 64, 28), (64, 256, 56), (256, 64, 56), (128, 512, 28), (512, 128, 28), (1024, 256, 14), (256, 1024, 14), (96, 576, 14), (128, 512, 16), (512, 256, 16), (144, 32, 16), (192, 32, 16), (32, 192, 16), (40, 240, 16), (64, 256, 32), (32, 192, 32), (128, 256, 32), (48, 512, 32), (64, 512, 16), (32, 1024, 16), (128, 128, 13), (64, 64, 15), (40, 120, 12), (256, 64, 12), (16, 72, 32), (24, 96, 32), (16, 64, 32), (16, 32, 64), (24, 72, 32), (16, 48, 32), (24, 144, 16), (16, 96, 16), (80, 480, 8), (240, 80, 8), (64, 384, 8), (384, 64, 8), (96, 576, 8), (576, 96, 8), (256, 512, 28), (512, 1024, 14),
            };
            var (_, peak) = FmaPeak();
            Console.WriteLine($"FMA probe: {peak:F0} GFLOP/s (Vector512), load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            float[] x = Fill(1024 * 56 * 56, 1), w = Fill(1024 * 1024, 2), b = Fill(1024, 3), y = new float[1024 * 56 * 56];
            Console.WriteLine($"{"1x1 in -> out @map",-26} {"us",9} {"GFLOP/s",8} {"% peak",7} {"tail off us",12} {"tall off us",12} {"narrow 4-row us",16} {"copied us",10}");
            foreach (var s in shapes)
            {
                string name = $"{s.In} -> {s.Out} @{s.H}x{s.H}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                int plane = s.H * s.H;
                Action run = () => PointwiseConvolution.Forward(x, s.In, plane, w, b.AsSpan(0, s.Out), s.Out, y, 0f, float.PositiveInfinity);
                var (now, noTail) = Interleaved(run, () => { PointwiseConvolution.VectorTail = false; run(); PointwiseConvolution.VectorTail = true; });
                var (_, noTall) = Interleaved(run, () => { PointwiseConvolution.TallTiles = false; run(); PointwiseConvolution.TallTiles = true; });
                var (_, noNarrow) = Interleaved(run, () => { PointwiseConvolution.NarrowOutputTall = false; run(); PointwiseConvolution.NarrowOutputTall = true; });
                var (_, copied) = Interleaved(run, () => { PointwiseConvolution.InPlaceTall = false; run(); PointwiseConvolution.InPlaceTall = true; });
                double gflops = 2.0 * s.In * s.Out * plane / now / 1e9;
                Console.WriteLine($"{name,-26} {now * 1e6,9:F2} {gflops,8:F1} {100 * gflops / peak,6:F0}% {noTail * 1e6,12:F2} {noTall * 1e6,12:F2} {noNarrow * 1e6,16:F2} {copied * 1e6,10:F2}");
            }
        }

        // "depthwise-large": 5x5 and 7x7 stride-1 and 5x5 stride-2 depthwise layers (+ReLU6) on rows of 16+ cells, interleaved: the tiles sharing
        // input rows between output rows (DepthwiseConvolution.SharedRows) against the general tile, µs and GFLOP/s.
        private static void DepthwiseLargeKernels()
        {
            var shapes = new (int K, int C, int H, int S)[]
            {
                (5, 120, 16, 1), (5, 240, 16, 1), (5, 72, 32, 1), (5, 40, 28, 1), (5, 16, 64, 1), (5, 32, 32, 1), (5, 480, 16, 1), (5, 96, 24, 1),
                (7, 48, 16, 1), (7, 96, 16, 1), (7, 96, 32, 1), (7, 192, 16, 1), (7, 64, 28, 1), (7, 32, 56, 1),
                (5, 72, 32, 2), (5, 144, 32, 2), (5, 40, 56, 2), (5, 32, 64, 2), (5, 240, 36, 2), (5, 96, 112, 2),
            };
            float[] x = Fill(480 * 64 * 64, 1), w = Fill(480 * 49, 2), b = Fill(480, 3), y = new float[480 * 64 * 64];
            Console.WriteLine($"{"depthwise + ReLU6",-26} {"shared us",10} {"general us",11} {"speed-up",9} {"GFLOP/s",8}");
            foreach (var (k, c, h, stride) in shapes)
            {
                var g = new ConvolutionGeometry(c, h, h, c, k, k, stride, stride, k / 2, k / 2, 1, 1, c);
                float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
                Action run = () => GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f);
                var (shared, general) = Interleaved(run, () => { DepthwiseConvolution.SharedRows = false; run(); DepthwiseConvolution.SharedRows = true; });
                Console.WriteLine($"{$"{k}x{k} s{stride} {c}x{h}x{h}",-26} {shared * 1e6,10:F2} {general * 1e6,11:F2} {general / shared,8:F2}x {2.0 * g.OutLength * k * k / shared / 1e9,8:F1}");
            }
        }

        // "depthwise-lines": the row kernel's planes on 64-byte lines (DepthwiseConvolution.LinePhases) against the compact
        // layout, and Pad's tight loops over the plane (TightPadRows) against a row at a time, interleaved, each shape as the
        // layer runs it (GroupedConvolution.Forward, +ReLU6), µs.
        private static void DepthwiseLines()
        {
            var shapes = new (int K, int C, int H, int S)[]
            {
                (3, 32, 32, 1), (3, 64, 16, 1), (3, 16, 64, 1), (3, 144, 56, 1), (3, 32, 112, 1), (3, 48, 24, 1), (3, 64, 20, 1),
                (3, 32, 32, 2), (3, 16, 64, 2), (3, 144, 56, 2), (3, 96, 112, 2), (3, 64, 40, 2),
                (5, 120, 16, 1), (5, 240, 16, 1), (5, 72, 32, 1), (5, 40, 28, 1), (5, 16, 64, 1), (5, 480, 16, 1), (5, 96, 24, 1),
                (5, 72, 32, 2), (5, 144, 32, 2), (5, 40, 56, 2), (5, 32, 64, 2), (5, 240, 36, 2), (5, 96, 112, 2),
                (7, 48, 16, 1), (7, 96, 32, 1), (7, 192, 16, 1), (7, 64, 28, 1), (7, 32, 56, 1),
            };
            float[] x = Fill(480 * 112 * 112, 1), w = Fill(480 * 49, 2), b = Fill(480, 3), y = new float[480 * 112 * 112];
            Console.WriteLine($"{"depthwise + ReLU6",-26} {"lines us",10} {"compact us",11} {"speed-up",9} {"rows us",10} {"tight/rows",11}");
            foreach (var (k, c, h, stride) in shapes)
            {
                var g = new ConvolutionGeometry(c, h, h, c, k, k, stride, stride, k / 2, k / 2, 1, 1, c);
                float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
                Action run = () => GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f);
                var t = InterleavedAll(run, () => { DepthwiseConvolution.LinePhases = false; run(); DepthwiseConvolution.LinePhases = true; },
                    () => { DepthwiseConvolution.TightPadRows = false; run(); DepthwiseConvolution.TightPadRows = true; });
                Console.WriteLine($"{$"{k}x{k} s{stride} {c}x{h}x{h}",-26} {t[0] * 1e6,10:F2} {t[1] * 1e6,11:F2} {t[1] / t[0],8:F2}x {t[2] * 1e6,10:F2} {t[2] / t[0],10:F2}x");
            }
        }

        // "depthwise": the depthwise kernel over a range of shapes (channels, map size, stride, dilation), fused ReLU6, next to a
        // copy of the same input (the memory traffic's floor) and a pointwise layer of the same input as a yardstick.
        private static void DepthwiseShapes()
        {
            var shapes = new (int C, int H, int Stride, int Dilation)[]
            {
                (32, 32, 1, 1), (32, 32, 2, 1), (64, 16, 1, 1), (64, 16, 2, 1), (64, 16, 1, 2), (96, 8, 1, 1), (96, 8, 1, 2),
                (96, 8, 2, 1), (144, 8, 1, 1), (256, 4, 1, 1), (16, 64, 1, 1), (16, 64, 2, 1), (48, 12, 1, 1), (48, 12, 2, 1),
                (32, 112, 1, 1), (96, 112, 2, 1), (144, 56, 1, 1), (144, 56, 2, 1), // MobileNetV2 at 224
            };
            float[] x = Fill(96 * 112 * 112, 1), w = Fill(256 * 9, 2), b = Fill(256, 3), y = new float[96 * 112 * 112], scratch = new float[1 << 16];
            float[] pointwise = Fill(16 * 256, 4);
            Console.WriteLine($"{"depthwise 3x3 + ReLU6",-36} {"us",7} {"GFLOP/s",8} {"copy us",8} {"1x1 ->16 us",12}");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, 3, 3, s.Stride, s.Stride, s.Dilation, s.Dilation, s.Dilation, s.Dilation, s.C);
                double t = double.MaxValue, copy = double.MaxValue, yardstick = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    t = Math.Min(t, TimeShort(() => GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f)));
                    copy = Math.Min(copy, TimeShort(() => x.AsSpan(0, g.InLength).CopyTo(y)));
                    yardstick = Math.Min(yardstick, TimeShort(() => PointwiseConvolution.Forward(x, s.C, s.H * s.H, pointwise, default, 16, y)));
                }
                string name = $"{s.C}x{s.H}x{s.H} s{s.Stride} d{s.Dilation}";
                Console.WriteLine($"{name,-36} {t * 1e6,7:F2} {2.0 * g.OutLength * 9 / t / 1e9,8:F1} {copy * 1e6,8:F2} {yardstick * 1e6,12:F2}");
            }
        }

        // "depthwise-backward": a depthwise layer's backward (GroupedConvolution.BackwardOn, Vector512 and Vector256) over a
        // range of shapes: both gradients, the weight gradient alone and the input gradient alone, best of rounds, µs.
        private static void DepthwiseBackwardShapes()
        {
            var shapes = new (int C, int H, int Kernel, int Stride, int Dilation)[]
            {
                (32, 32, 3, 1, 1), (32, 32, 3, 2, 1), (64, 16, 3, 1, 1), (64, 32, 3, 2, 1), (128, 16, 3, 1, 1), (128, 16, 3, 2, 1),
                (96, 8, 3, 1, 1), (256, 8, 3, 1, 1), (144, 8, 3, 2, 1), (256, 4, 3, 1, 1), (16, 64, 3, 1, 1), (48, 12, 3, 1, 1),
                (64, 16, 3, 1, 2), (32, 32, 5, 1, 1), (64, 16, 5, 2, 1), (40, 14, 5, 1, 1), (24, 28, 7, 1, 1),
            };
            float[] x = Fill(256 * 64 * 64, 1), w = Fill(256 * 49, 2), dy = Fill(256 * 64 * 64, 3), dw = new float[256 * 49];
            float[] dx = new float[256 * 64 * 64], scratch = new float[1 << 17];
            Console.WriteLine($"{"depthwise backward",-30} {"path",5} {"dW+dx us",9} {"dW us",8} {"dx us",8} {"GFLOP/s",8}");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, s.Kernel, s.Kernel, s.Stride, s.Stride, s.Kernel / 2 * s.Dilation, s.Kernel / 2 * s.Dilation,
                    s.Dilation, s.Dilation, s.C);
                foreach (var path in new[] { DirectConvolution.KernelPath.Vector512, DirectConvolution.KernelPath.Vector256 })
                {
                    double both = double.MaxValue, weights = double.MaxValue, inputs = double.MaxValue;
                    for (int round = 0; round < 3; round++)
                    {
                        both = Math.Min(both, TimeShort(() => GroupedConvolution.BackwardOn(g, x, w, dy, dw, default, dx, scratch, path)));
                        weights = Math.Min(weights, TimeShort(() => GroupedConvolution.BackwardOn(g, x, w, dy, dw, default, default, scratch, path)));
                        inputs = Math.Min(inputs, TimeShort(() => GroupedConvolution.BackwardOn(g, x, w, dy, default, default, dx, scratch, path)));
                    }
                    string name = $"{s.C}x{s.H}x{s.H} k{s.Kernel} s{s.Stride} d{s.Dilation}";
                    double flops = 2.0 * 2 * g.OutLength * s.Kernel * s.Kernel;
                    Console.WriteLine($"{name,-30} {(path == DirectConvolution.KernelPath.Vector512 ? "512" : "256"),5} {both * 1e6,9:F2} {weights * 1e6,8:F2} {inputs * 1e6,8:F2} {flops / both / 1e9,8:F1}");
                }
            }
        }

        // "depthwise-unpadded [prefix]": the depthwise forward (+ReLU6) read straight from the input against the row kernel on a
        // padded copy, on Vector512 and Vector256, interleaved rounds, best of each, µs; kernels 3 and 5, strides 1 and 2, maps
        // 7 to 112 wide (the basis of DepthwiseConvolution.UnpaddedPays).
        private static void DepthwiseUnpadded(string? prefix)
        {
            var shapes = new (int C, int H, int K, int S)[]
            {
                (16, 112, 3, 1), (16, 112, 3, 2), (16, 56, 3, 1), (32, 56, 3, 2), (144, 56, 3, 1), (64, 28, 3, 1), (64, 28, 3, 2),
                (128, 14, 3, 1), (128, 14, 3, 2), (256, 7, 3, 1), (32, 32, 3, 1), (64, 32, 3, 2), (96, 16, 3, 1), (40, 37, 3, 1),
                (24, 37, 3, 2), (96, 8, 3, 1), (72, 32, 5, 2), (120, 16, 5, 1), (240, 16, 5, 2), (40, 37, 5, 1), (40, 37, 5, 2),
                (480, 7, 5, 1), (120, 28, 5, 1), (16, 56, 5, 2), (144, 16, 3, 2), (64, 15, 3, 1), (160, 10, 3, 1), (40, 12, 5, 1),
                (576, 14, 3, 2), (96, 16, 3, 2), (200, 9, 3, 1), (48, 13, 3, 2),
            };
            float[] x = Fill(512 * 64 * 64, 1), w = Fill(1024 * 25, 2), b = Fill(1024, 3), y = new float[512 * 64 * 64], scratch = new float[1 << 20];
            Console.WriteLine($"{"depthwise + ReLU6 (C x H x H, kernel, stride)",-44} {"pad 512",8} {"unpad 512",9} {"pad 256",8} {"unpad 256",9} {"picked",8}  (us)");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} k{s.K} s{s.S}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, s.K, s.K, s.S, s.S, s.K / 2, s.K / 2, 1, 1, s.C);
                var times = new double[5];
                Array.Fill(times, double.MaxValue);
                for (int round = 0; round < 3; round++)
                {
                    times[0] = Math.Min(times[0], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f)));
                    times[1] = Math.Min(times[1], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardUnpadded(g, x, w, b, y, true, 0f, 6f)));
                    times[2] = Math.Min(times[2], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector256, 0f, 6f)));
                    times[3] = Math.Min(times[3], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardUnpadded(g, x, w, b, y, false, 0f, 6f)));
                    times[4] = Math.Min(times[4], TimeShort(() => GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f)));
                }
                Console.WriteLine($"{name + $" -> {g.OutHeight}x{g.OutWidth}",-44} {times[0] * 1e6,8:F2} {times[1] * 1e6,9:F2} {times[2] * 1e6,8:F2} {times[3] * 1e6,9:F2} {times[4] * 1e6,8:F2}");
            }
        }

        // "whole-plane": the depthwise 3x3 (+ReLU6) row kernel against the whole-plane kernel (Vector512), and the row kernel on Vector256,
        // interleaved rounds, best of each, over output maps of 2 to 16 cells wide, stride 1 and 2, dilation 1 and 2.
        private static void WholePlaneAgainstRows()
        {
            var shapes = new (int C, int H, int Stride, int Dilation)[]
            {
                (64, 4, 1, 1), (256, 4, 1, 1), (64, 8, 2, 1), (256, 8, 2, 1), (32, 8, 1, 1), (64, 8, 1, 1), (96, 8, 1, 1), (96, 8, 1, 2),
                (384, 8, 1, 1), (32, 16, 2, 1), (64, 16, 2, 1), (144, 16, 2, 1), (64, 16, 1, 1), (64, 16, 1, 2), (32, 32, 2, 1),
            };
            float[] x = Fill(512 * 32 * 32, 1), w = Fill(512 * 9, 2), b = Fill(512, 3), y = new float[512 * 32 * 32], scratch = new float[1 << 17];
            Console.WriteLine($"{"depthwise 3x3 + ReLU6 (input C x H x H)",-40} {"rows 512",9} {"plane 512",9} {"rows 256",9}  (us)");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.C, 3, 3, s.Stride, s.Stride, s.Dilation, s.Dilation, s.Dilation, s.Dilation, s.C);
                var times = new double[4];
                Array.Fill(times, double.MaxValue);
                bool applies = CnnGen.Kernels.WholePlaneDepthwise.Applies(g);
                for (int round = 0; round < 3; round++)
                {
                    times[0] = Math.Min(times[0], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f)));
                    if (applies) times[1] = Math.Min(times[1], TimeShort(() => CnnGen.Kernels.WholePlaneDepthwise.Forward(g, x, w, b, y, scratch, 0f, 6f)));
                    times[2] = Math.Min(times[2], TimeShort(() => CnnGen.Kernels.DepthwiseConvolution.ForwardByRows(g, x, w, b, y, scratch, DirectConvolution.KernelPath.Vector256, 0f, 6f)));
                }
                string Cell(int i) => times[i] == double.MaxValue ? $"{"-",9}" : $"{times[i] * 1e6,9:F2}";
                string name = $"{s.C}x{s.H}x{s.H} s{s.Stride} d{s.Dilation} -> {g.OutHeight}x{g.OutWidth}";
                Console.WriteLine($"{name,-40} {Cell(0)} {Cell(1)} {Cell(2)}");
            }
        }

        // "grouped-pointwise": a grouped 1x1 convolution (+ReLU6) as GroupedConvolution runs it (each group a
        // PointwiseConvolution, bias and bounds in registers) against its former route (output filled with the bias, a GEMM
        // per group accumulating onto it, a clamping pass), interleaved rounds, best of each.
        private static void GroupedPointwise()
        {
            var shapes = new (int C, int OC, int Groups, int H)[]
            {
                (24, 64, 4, 8), (64, 64, 4, 16), (64, 64, 2, 16), (128, 128, 2, 8), (256, 256, 8, 4), (32, 32, 2, 32),
                (256, 512, 2, 8), (96, 96, 3, 8), (120, 120, 4, 14), (16, 64, 2, 16), (120, 120, 4, 12), (120, 120, 4, 28),
                (64, 64, 4, 10), (64, 64, 4, 7), (32, 64, 4, 4),
            };
            float[] x = Fill(256 * 32 * 32, 1), w = Fill(512 * 256, 2), b = Fill(512, 3), y = new float[512 * 32 * 32], scratch = new float[16];
            Console.WriteLine($"{"grouped 1x1 + ReLU6",-36} {"pointwise",10} {"GEMM route",11}  (us)");
            foreach (var s in shapes)
            {
                var g = new ConvolutionGeometry(s.C, s.H, s.H, s.OC, 1, 1, 1, 1, 0, 0, 1, 1, s.Groups);
                int plane = s.H * s.H, groupIn = s.C / s.Groups, groupOut = s.OC / s.Groups;
                void GemmRoute()
                {
                    for (int oc = 0; oc < s.OC; oc++) y.AsSpan(oc * plane, plane).Fill(b[oc]);
                    for (int group = 0; group < s.Groups; group++)
                        Gemm.Multiply(false, false, groupOut, plane, groupIn, w.AsSpan(group * groupOut * groupIn), groupIn, x.AsSpan(group * groupIn * plane), plane,
                            y.AsSpan(group * groupOut * plane), plane, accumulate: true);
                    Activations.Relu6(y.AsSpan(0, s.OC * plane), y.AsSpan(0, s.OC * plane));
                }
                double kernel = double.MaxValue, gemm = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    kernel = Math.Min(kernel, TimeShort(() => GroupedConvolution.Forward(g, x, w, b.AsSpan(0, s.OC), y, scratch, 0f, 6f)));
                    gemm = Math.Min(gemm, TimeShort(GemmRoute));
                }
                string name = $"{s.C}->{s.OC} g{s.Groups} @{s.H}x{s.H}";
                Console.WriteLine($"{name,-36} {kernel * 1e6,10:F2} {gemm * 1e6,11:F2}");
            }
        }

        // "mobilenet": each step of the MobileNetV2 fixture's evaluation forward at batch 1 (the kernel calls its generated
        // code makes, with its shapes and fusions), best of 3 rounds of short batches, and the whole network's Forward timed the same way,
        // at batch 1 and per image at batch 32 on one thread (the batch-64 benchmark's half per thread).
        private static void MobileNetLayers()
        {
            var network = new MobileNetV2();
            network.ResetParameters(1);
            float[] image = Fill(3 * 32 * 32, 1), workspaceInput = new float[3072], a16 = Fill(16 * 256, 2), b64 = Fill(64 * 256, 3), c64 = Fill(64 * 256, 4);
            float[] d16 = new float[16 * 256], e16 = new float[16 * 256], a8 = Fill(64 * 64, 5), b24 = Fill(24 * 64, 6), c96 = Fill(96 * 64, 7), d96 = new float[96 * 64];
            float[] e24 = new float[24 * 64], f24 = new float[24 * 64], g64 = new float[64 * 64], pooled = new float[64], flat = new float[64], hidden = new float[32], gelu = new float[32];
            float[] logits = new float[10], output = new float[10];
            float[] scratch = new float[1 << 16];
            float[] stem = new float[StridedConvolution.PreparedLength(3, 32, 32, 16, 3, 2, 1)];
            StridedConvolution.Prepare(Fill(16 * 27, 8), Fill(16, 9), 3, 32, 32, 16, 3, 2, 1, stem);
            float[] expand16 = Fill(64 * 16 + 64, 10), project16 = Fill(16 * 64 + 16, 11), expand24 = Fill(96 * 24 + 96, 12), project24 = Fill(24 * 96 + 24, 13);
            float[] project64to24 = Fill(24 * 64 + 24, 14), dw64 = Fill(64 * 9 + 64, 15), dw96 = Fill(96 * 9 + 96, 16), grouped = Fill(64 * 6 + 64, 17), fc1 = Fill(64 * 32 + 32, 18), fc2 = Fill(32 * 10 + 10, 19);
            var depthwise1 = new ConvolutionGeometry(64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 64);
            var depthwise2 = new ConvolutionGeometry(64, 16, 16, 64, 3, 3, 2, 2, 1, 1, 1, 1, 64);
            var dilated = new ConvolutionGeometry(96, 8, 8, 96, 3, 3, 1, 1, 2, 2, 2, 2, 96);
            var groups4 = new ConvolutionGeometry(24, 8, 8, 64, 1, 1, 1, 1, 0, 0, 1, 1, 4);
            var steps = new (string Name, Action Run)[]
            {
                ("copy input 3x32x32", () => image.AsSpan().CopyTo(workspaceInput)),
                ("0 stem 3->16 s2 @32x32 (strided)", () => StridedConvolution.ForwardPrepared(workspaceInput, 3, 32, 32, stem, 16, 3, 2, 1, a16, scratch, relu: false)),
                ("2 ReLU6 pass 16x16x16", () => Activations.Relu6(a16, a16)),
                ("3 pointwise 16->64 @16x16 +ReLU6", () => PointwiseConvolution.Forward(a16, 16, 256, expand16.AsSpan(0, 1024), expand16.AsSpan(1024, 64), 64, b64, 0f, 6f)),
                ("6 depthwise 3x3 s1 64 @16x16 +ReLU6", () => GroupedConvolution.Forward(depthwise1, b64, dw64.AsSpan(0, 576), dw64.AsSpan(576, 64), c64, scratch, 0f, 6f)),
                ("9 pointwise 64->16 @16x16", () => PointwiseConvolution.Forward(c64, 64, 256, project16.AsSpan(0, 1024), project16.AsSpan(1024, 16), 16, d16)),
                ("res 3 sum 16x16x16", () => Elementwise.Sum(d16, a16, e16)),
                ("11 pointwise 16->64 @16x16 +ReLU6", () => PointwiseConvolution.Forward(e16, 16, 256, expand16.AsSpan(0, 1024), expand16.AsSpan(1024, 64), 64, b64, 0f, 6f)),
                ("14 depthwise 3x3 s2 64 @16x16->8x8 +ReLU6", () => GroupedConvolution.Forward(depthwise2, b64, dw64.AsSpan(0, 576), dw64.AsSpan(576, 64), a8, scratch, 0f, 6f)),
                ("17 pointwise 64->24 @8x8", () => PointwiseConvolution.Forward(a8, 64, 64, project64to24.AsSpan(0, 1536), project64to24.AsSpan(1536, 24), 24, b24)),
                ("19 pointwise 24->96 @8x8 +ReLU6", () => PointwiseConvolution.Forward(b24, 24, 64, expand24.AsSpan(0, 2304), expand24.AsSpan(2304, 96), 96, c96, 0f, 6f)),
                ("22 depthwise 3x3 d2 96 @8x8 +ReLU6", () => GroupedConvolution.Forward(dilated, c96, dw96.AsSpan(0, 864), dw96.AsSpan(864, 96), d96, scratch, 0f, 6f)),
                ("25 pointwise 96->24 @8x8", () => PointwiseConvolution.Forward(d96, 96, 64, project24.AsSpan(0, 2304), project24.AsSpan(2304, 24), 24, e24)),
                ("res 12 sum 24x8x8", () => Elementwise.Sum(e24, b24, f24)),
                ("27 grouped 1x1 24->64 g4 @8x8", () => GroupedConvolution.Forward(groups4, f24, grouped.AsSpan(0, 384), grouped.AsSpan(384, 64), g64, scratch)),
                ("29 Hardswish pass 64x8x8", () => Activations.Hardswish(g64, g64)),
                ("30 avg pool + 31 flatten copy", () => { Resampling.AdaptiveAvgPool(g64, 64, 8, 8, 1, 1, pooled); pooled.AsSpan().CopyTo(flat); }),
                ("32 linear 64->32 + bias", () =>
                {
                    Gemm.Multiply(false, true, 1, 32, 64, flat, 64, fc1, 64, hidden, 32, accumulate: false);
                    Elementwise.Add(fc1.AsSpan(2048, 32), hidden);
                }),
                ("33 GELU (tanh) 32", () => Activations.Gelu(hidden, gelu, tanhApproximation: true)),
                ("34 linear 32->10 + bias + output copy", () =>
                {
                    Gemm.Multiply(false, true, 1, 10, 32, gelu, 32, fc2, 32, logits, 10, accumulate: false);
                    Elementwise.Add(fc2.AsSpan(320, 10), logits);
                    logits.AsSpan().CopyTo(output);
                }),
            };
            var workspace1 = network.CreateWorkspace(1);
            const int Half = 32;
            var workspace32 = network.CreateWorkspace(Half);
            float[] images32 = Fill(Half * 3072, 20), outputs32 = new float[Half * 10];
            // Each step alone, then again while the other core runs the whole network in a loop on its own network object and
            // workspace (what each thread of the batch-64 benchmark sees), timed on this thread only: no task start in the figure.
            var best = new double[steps.Length];
            var busy = new double[steps.Length];
            Array.Fill(best, double.MaxValue);
            Array.Fill(busy, double.MaxValue);
            double whole = double.MaxValue, whole32 = double.MaxValue, wholeBusy = double.MaxValue;
            var otherNetwork = new MobileNetV2();
            otherNetwork.ResetParameters(2);
            var otherWorkspace = otherNetwork.CreateWorkspace(1);
            float[] otherImage = Fill(3072, 21), otherOutput = new float[10];
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < steps.Length; i++) best[i] = Math.Min(best[i], TimeShort(steps[i].Run));
                whole = Math.Min(whole, TimeShort(() => network.Forward(image, output, 1, workspace1)));
                whole32 = Math.Min(whole32, TimeShort(() => network.Forward(images32, outputs32, Half, workspace32)) / Half);
                bool stop = false;
                var other = new System.Threading.Thread(() => { while (!System.Threading.Volatile.Read(ref stop)) otherNetwork.Forward(otherImage, otherOutput, 1, otherWorkspace); });
                other.Start();
                for (int i = 0; i < steps.Length; i++) busy[i] = Math.Min(busy[i], TimeShort(steps[i].Run));
                wholeBusy = Math.Min(wholeBusy, TimeShort(() => network.Forward(image, output, 1, workspace1)));
                System.Threading.Volatile.Write(ref stop, true);
                other.Join();
            }
            Console.WriteLine($"{"step",-42} {"alone",9}    {"other core busy",15}");
            for (int i = 0; i < steps.Length; i++) Console.WriteLine($"{steps[i].Name,-42} {best[i] * 1e6,9:F2} us {busy[i] * 1e6,9:F2} us");
            Console.WriteLine($"{"sum of the steps above",-42} {best.Sum() * 1e6,9:F2} us {busy.Sum() * 1e6,9:F2} us");
            Console.WriteLine($"{"MobileNetV2.Forward, batch 1",-42} {whole * 1e6,9:F2} us {wholeBusy * 1e6,9:F2} us");
            Console.WriteLine($"{"MobileNetV2.Forward, batch 32, per image",-42} {whole32 * 1e6,9:F2} us");
        }
    
        // "batch": each network's evaluation Forward on one thread, per image, at batch 1 and at batch 32 (the batch-64
        // benchmark's half per thread), interleaved rounds, best of each. A batch costing more per image than batch 1 means
        // the batch's activations left the cache between layers.
        private static void BatchAgainstSingle()
        {
            var lenet = new CnnGen.Tests.Fixtures.LeNet5(); var resnet = new CnnGen.Tests.Fixtures.ResNet8(); var mobilenet = new MobileNetV2();
            var cifar = new CnnGen.Benchmarks.CifarNet(); var strided = new CnnGen.Benchmarks.StridedNet();
            lenet.ResetParameters(1); resnet.ResetParameters(1); mobilenet.ResetParameters(1); cifar.ResetParameters(1); strided.ResetParameters(1);
            // "batch trained": the benchmark's trained weights (benchmarks/models), as BenchmarkDotNet's run has them.
            if (Environment.GetCommandLineArgs().Contains("trained"))
            {
                string models = System.IO.Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "models"); // bin/Release/net10.0 -> benchmarks/models
                CnnGen.IO.NetworkWeights.Load(lenet, System.IO.Path.Combine(models, "lenet5.safetensors"));
                CnnGen.IO.NetworkWeights.Load(resnet, System.IO.Path.Combine(models, "resnet8.safetensors"));
                CnnGen.IO.NetworkWeights.Load(mobilenet, System.IO.Path.Combine(models, "mobilenetv2.safetensors"));
                CnnGen.IO.NetworkWeights.Load(cifar, System.IO.Path.Combine(models, "cifar.safetensors"));
                CnnGen.IO.NetworkWeights.Load(strided, System.IO.Path.Combine(models, "strided.safetensors"));
            }
            var networks = new (string Name, INetwork Network)[]
            {
                ("LeNet5", lenet), ("ResNet8", resnet), ("MobileNetV2", mobilenet), ("CifarNet", cifar), ("StridedNet", strided),
            };
            const int Half = 32;
            foreach (var (name, network) in networks)
            {
                int inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
                float[] images = Fill(Half * inLength, 2), outputs = new float[Half * outLength];
                var workspace1 = network.CreateWorkspace(1, 0);
                var workspace32 = network.CreateWorkspace(Half, 0);
                double single = double.MaxValue, batched = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    single = Math.Min(single, TimeShort(() => network.Forward(images.AsSpan(0, inLength), outputs.AsSpan(0, outLength), 1, workspace1, false)));
                    batched = Math.Min(batched, TimeShort(() => network.Forward(images, outputs, Half, workspace32, false)) / Half);
                }
                // Both threads at once, each on its own workspace: what the batch-64 benchmark's two halves cost per image and thread.
                var other1 = network.CreateWorkspace(1, 0);
                var other32 = network.CreateWorkspace(Half, 0);
                float[] images2 = Fill(Half * inLength, 3), outputs2 = new float[Half * outLength];
                double pairSingle = double.MaxValue, pairBatched = double.MaxValue;
                for (int round = 0; round < 3; round++)
                {
                    pairSingle = Math.Min(pairSingle, TimeShort(() => System.Threading.Tasks.Parallel.Invoke(
                        () => { for (int i = 0; i < 8; i++) network.Forward(images.AsSpan(0, inLength), outputs.AsSpan(0, outLength), 1, workspace1, false); },
                        () => { for (int i = 0; i < 8; i++) network.Forward(images2.AsSpan(0, inLength), outputs2.AsSpan(0, outLength), 1, other1, false); })) / 8);
                    pairBatched = Math.Min(pairBatched, TimeShort(() => System.Threading.Tasks.Parallel.Invoke(
                        () => network.Forward(images, outputs, Half, workspace32, false),
                        () => network.Forward(images2, outputs2, Half, other32, false))) / Half);
                }
                Console.WriteLine($"{name,-12} 1 thread: batch 1 {single * 1e6,8:F2} us, batch 32 {batched * 1e6,8:F2} us/image ({batched / single:F2}x)"
                    + $"   2 threads, per thread: batch 1 {pairSingle * 1e6,8:F2} us, batch 32 {pairBatched * 1e6,8:F2} us/image");
            }
        }
}
}
