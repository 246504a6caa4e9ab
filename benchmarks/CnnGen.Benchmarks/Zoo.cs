using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CnnGen.Benchmarks.Zoo;
using CnnGen.Tests.Fixtures;
using CnnGen.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CnnGen.Benchmarks
{
    /// <summary>
    /// <c>-- zoo</c>: networks of other shapes (ZooNetworks.cs), each exported to ONNX by CnnGen.Onnx from the same weights, at
    /// batch 1 on one thread: CnnGen's evaluation forward against ONNX Runtime's, interleaved in rounds on this thread (so a busy
    /// machine slows both alike), best round of each, after checking that the outputs agree. Not a BenchmarkDotNet job: a
    /// scan for weak spots; the table to quote is BenchmarkDotNet's. <c>-- zoo batch</c>: the same networks and the benchmark
    /// table's five (initial weights) at batch 64 on two threads, as the table's batch-64 rows run them: CnnGen's batch split
    /// by ParallelEvaluation (runs handed out as threads come free, or halves), against ONNX Runtime with two intra-op threads.
    /// </summary>
    public static partial class ZooComparison
    {
        private static string? s_only;

        /// <summary>The scan; <paramref name="only"/>: the networks whose name contains it.</summary>
        public static void Run(bool probes, bool batch = false, string? only = null, bool sweep = false, bool sweep2 = false, bool sweep3 = false, bool sweep4 = false)
        {
            s_only = only;
            if (sweep || sweep2 || sweep3 || sweep4)
            {
                // Probes (single layers) only when asked for by name: `-- zoo sweep probe`.
                var chosen = (sweep4 ? Sweep4Networks : sweep3 ? Sweep3Networks : sweep2 ? Sweep2Networks.Concat(Sweep2Probes) : SweepNetworks).Where(n => only is not null || !n.Name.StartsWith("probe", StringComparison.Ordinal)).ToArray();
                foreach (var (name, create) in chosen) Compare(name, create);
                foreach (var (name, create) in chosen) CompareBatch(name, create);
                return;
            }
            if (batch)
            {
                foreach (var (name, create) in Networks) CompareBatch(name, create);
                CompareBatch("LeNet-5", () => Initialized(new LeNet5()));
                CompareBatch("CIFAR", () => Initialized(new CifarNet()));
                CompareBatch("ResNet-8", () => Initialized(new ResNet8()));
                CompareBatch("MobileNetV2-style", () => Initialized(new MobileNetV2()));
                CompareBatch("strided", () => Initialized(new StridedNet()));
                return;
            }
            if (probes)
            {
                Compare("stem 7x7 s2 3->64 @64x64 +BN+ReLU", () => new Zoo.Probes.Stem7x7());
                Compare("max pool 3x3 s2 p1 64 @32x32", () => new Zoo.Probes.MaxPool3s2());
                Compare("3x3 64->64 @16x16 +BN+ReLU", () => new Zoo.Probes.Conv3x3At16());
                Compare("3x3 s2 64->128 @16x16 +BN+ReLU", () => new Zoo.Probes.Conv3x3s2At16());
                Compare("1x1 s2 64->128 @16x16 +BN", () => new Zoo.Probes.Conv1x1s2At16());
                Compare("5x5 3->32 @32x32 +ReLU+pool", () => new Zoo.Probes.Conv5x5Stem());
                Compare("5x5 32->64 @16x16 +ReLU+pool", () => new Zoo.Probes.Conv5x5At16());
                Compare("5x5 64->128 @8x8 +ReLU+pool", () => new Zoo.Probes.Conv5x5At8());
                Compare("transposed 2x2 s2 64->32 @8x8", () => new Zoo.Probes.Transposed2x2());
                Compare("upsample x2 32 @16x16", () => new Zoo.Probes.Upsample2());
                Compare("3x3 3->16 @32x32 +ReLU", () => new Zoo.Probes.Conv3x3Stem16());
                Compare("3x3 s2 16->32 @32x32 +BN+ReLU", () => new Zoo.Probes.Conv3x3s2At32());
                Compare("3x3 128->256 @8x8 +BN+ReLU", () => new Zoo.Probes.Conv256At8());
                Compare("3x3 256->256 @8x8 +BN+ReLU+pool", () => new Zoo.Probes.Conv256At8Pooled());
                Compare("3x3 256->512 @4x4 +BN+ReLU", () => new Zoo.Probes.Conv512At4());
                Compare("3x3 512->512 @4x4 +BN+ReLU+pool", () => new Zoo.Probes.Conv512At4Pooled());
                Compare("3x3 512->512 @2x2 +BN+ReLU", () => new Zoo.Probes.Conv512At2());
                foreach (var (name, create) in StridedLayers) Compare(name, create);
                return;
            }
            foreach (var (name, create) in Networks) Compare(name, create);
        }

        private static readonly (string Name, Func<INetwork> Create)[] Networks =
        {
            ("VGG-style 3x32x32, 64-256 ch", () => Initialized(new VggNet())),
            ("VGG-style five 3x3 + BN, 32-128 ch", () => Initialized(new Vgg5Net())),
            ("VGG-11 for CIFAR, 64-512 ch", () => Initialized(new Vgg11Net())),
            ("ResNet-18 stem + stage, 3x64x64", () => Initialized(new ResNetStemNet())),
            ("ResNet-18 for CIFAR, 64-512 ch", () => Initialized(new ResNet18CifarNet())),
            ("5x5 convolutions, 32-128 ch", () => Initialized(new Wide5x5Net())),
            ("small MNIST CNN, 8-32 ch", () => Initialized(new SmallMnistNet())),
            ("encoder-decoder, s2 + transposed", () => Initialized(new EncoderDecoderNet())),
        };

        // The benchmark networks and the strided network's layers, for `-- zoo loop` and `-- zoo probes`.
        private static readonly (string Name, Func<INetwork> Create)[] BenchmarkNetworks =
        {
            ("bench CIFAR", () => Initialized(new CifarNet())),
            ("bench ResNet-8", () => Initialized(new ResNet8())),
            ("bench MobileNetV2-style", () => Initialized(new MobileNetV2())),
            ("bench strided", () => Initialized(new StridedNet())),
            ("bench LeNet-5", () => Initialized(new LeNet5())),
        };

        private static readonly (string Name, Func<INetwork> Create)[] StridedLayers =
        {
            ("strided stem 3x3 s2 3->32 @64x64 +BN+ReLU", () => Initialized(new Zoo.Probes.StridedStem())),
            ("strided 3x3 s2 32->64 @32x32 +BN+ReLU", () => Initialized(new Zoo.Probes.StridedMiddle())),
            ("strided 3x3 s2 64->128 @16x16 +BN+ReLU+GAP", () => Initialized(new Zoo.Probes.StridedLast())),
        };

        // `-- zoo sweep`: ZooSweep.cs, at batch 1 and at batch 64.
        private static readonly (string Name, Func<INetwork> Create)[] SweepNetworks =
        {
            ("MobileNetV1-style, 32-256 ch", () => Initialized(new Zoo.Sweep.MobileNetV1Net())),
            ("3x96x96, 16-128 ch, pooling", () => Initialized(new Zoo.Sweep.Image96Net())),
            ("24-48-96 ch on 28x28, leaky, avg", () => Initialized(new Zoo.Sweep.OddChannelsNet())),
            ("dilated 2 and 4, SiLU", () => Initialized(new Zoo.Sweep.DilatedNet())),
            ("fire modules (1x1 + 3x3 concat)", () => Initialized(new Zoo.Sweep.FireNet())),
            ("MLP 784-512-256-10, GELU", () => Initialized(new Zoo.Sweep.MlpNet())),
            ("1x64x64, 7x7 and 5x5, tanh", () => Initialized(new Zoo.Sweep.GrayWideKernelNet())),
            ("probe 7x7 s2 1->16 @64 +BN+tanh", () => Initialized(new Zoo.Sweep.Probes.Gray7x7s2())),
            ("probe 7x7 s2 1->16 @64 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Gray7x7s2Relu())),
            ("probe 5x5 s2 16->32 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Conv5x5s2())),
            ("probe 5x5 32->64 @16 +BN+ReLU+pool", () => Initialized(new Zoo.Sweep.Probes.Conv5x5At16Pooled())),
            ("probe 3x3 d2 32->32 @32 +ReLU", () => Initialized(new Zoo.Sweep.Probes.Dilated2())),
            ("probe 3x3 d4 32->64 @32 +ReLU", () => Initialized(new Zoo.Sweep.Probes.Dilated4())),
            ("probe 3x3 32->32 @32 +SiLU", () => Initialized(new Zoo.Sweep.Probes.Conv3x3Silu())),
            ("probe dw 3x3 32 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Depthwise32At32())),
            ("probe 1x1 32->64 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Pointwise32To64At32())),
            ("probe dw 3x3 s2 64 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Depthwise64s2At32())),
            ("probe dw 3x3 128 @16 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Depthwise128At16())),
            ("probe 1x1 128->128 @16 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Pointwise128At16())),
            ("probe 1x1 128->256 @8 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Pointwise128To256At8())),
            ("probe dw 3x3 256 @8 +BN+ReLU", () => Initialized(new Zoo.Sweep.Probes.Depthwise256At8())),
            ("probe Linear 784->512 +GELU", () => Initialized(new Zoo.Sweep.Probes.Linear784To512Gelu())),
            ("probe Linear 784->512 +ReLU", () => Initialized(new Zoo.Sweep.Probes.Linear784To512Relu())),
        };

        /// <summary>
        /// <c>-- zoo loop [name part] [seconds] [ort]</c>: one sweep network's (or probe's) batch-1 evaluation forward in a loop on
        /// this thread for a profiler (perf record), CnnGen's or, with <c>ort</c>, ONNX Runtime's; prints µs per call.
        /// </summary>
        // ZOO_LOOP_AB="Type.Property=value[,...]": rounds of 0.25 s alternate between the runtime as built (A) and its internal
        // knobs set so (B), one network, one process; each side's calls' median and 10% mark, and B / A of the medians.
        private static void Alternate(string name, Action run, double seconds, TrainCpu.Knob knob)
        {
            var times = new[] { new List<long>(), new List<long>() };
            knob.Set(true);
            for (int i = 0; i < 200; i++) run();
            knob.Set(false);
            var clock = Stopwatch.StartNew();
            for (int round = 0; clock.Elapsed.TotalSeconds < seconds || round % 2 != 0; round++)
            {
                int side = round % 2;
                knob.Set(side == 1);
                var roundClock = Stopwatch.StartNew();
                while (roundClock.Elapsed.TotalSeconds < 0.25)
                {
                    long start = Stopwatch.GetTimestamp();
                    run();
                    times[side].Add(Stopwatch.GetTimestamp() - start);
                }
            }
            knob.Set(false);
            double Quantile(List<long> t, double q) => t[(int)Math.Min(t.Count - 1, q * t.Count)] * 1e6 / Stopwatch.Frequency;
            foreach (var t in times) t.Sort();
            Console.WriteLine($"{name}, rounds alternated: A (as built) median {Quantile(times[0], 0.5):F1} us, 10% {Quantile(times[0], 0.1):F1}; "
                + $"B ({knob}) median {Quantile(times[1], 0.5):F1} us, 10% {Quantile(times[1], 0.1):F1}; B / A of the medians {Quantile(times[1], 0.5) / Quantile(times[0], 0.5):F3}");
        }

        public static void Loop(string only, double seconds, bool ort, bool profile = false)
        {
            var (name, create) = SweepNetworks.Concat(Sweep2Networks).Concat(Sweep3Networks).Concat(Sweep4Networks).Concat(Sweep2Probes).Concat(Networks).Concat(BenchmarkNetworks).Concat(StridedLayers).First(n => n.Name.Contains(only, StringComparison.Ordinal));
            var network = create();
            // ZOO_WEIGHTS: a safetensors file (the benchmark table's models/*.safetensors) instead of the initial weights.
            if (Environment.GetEnvironmentVariable("ZOO_WEIGHTS") is { Length: > 0 } weights) CnnGen.IO.NetworkWeights.Load(network, weights);
            var layout = network.Layout;
            var random = new CnnRandom(2);
            float[] input = new float[layout.Input.Length], output = new float[layout.Output.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            var workspace = network.CreateWorkspace(1, 0);
            Action run = () => network.Forward(input, output, 1, workspace, false);
            using var options = new SessionOptions { IntraOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            if (profile) { options.EnableProfiling = true; options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "cnngen-ort-profile"); }
            using var session = new InferenceSession(OnnxExporter.ToBytes(network), options);
            using var ortIn = OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, layout.Input.Channels, layout.Input.Height, layout.Input.Width });
            using var ortOut = OrtValue.CreateTensorValueFromMemory(output, session.OutputMetadata.Values.First().Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray());
            using var runOptions = new RunOptions();
            var inputNames = new[] { session.InputMetadata.Keys.First() };
            var outputNames = new[] { session.OutputMetadata.Keys.First() };
            if (ort) run = () => session.Run(runOptions, inputNames, new[] { ortIn }, outputNames, new[] { ortOut });
            if (!ort && TrainCpu.Knob.FromEnvironment("ZOO_LOOP_AB") is { } knob)
            {
                Alternate(name, run, seconds, knob);
                return;
            }
            var clock = Stopwatch.StartNew();
            long calls = 0, best = long.MaxValue;
            var times = new long[1 << 22]; // each call's ticks, for the median and the quantiles (the first 4M calls)
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                long start = Stopwatch.GetTimestamp();
                run();
                long ticks = Stopwatch.GetTimestamp() - start;
                best = Math.Min(best, ticks);
                if (calls < times.Length) times[calls] = ticks;
                calls++;
            }
            // The fastest call too: on a shared host the mean takes in every preemption. The quantiles say how the calls spread.
            var sorted = times[..(int)Math.Min(calls, times.Length)];
            Array.Sort(sorted);
            double Us(long t) => t * 1e6 / Stopwatch.Frequency;
            double Quantile(double q) => Us(sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)]);
            Console.WriteLine($"{name} ({(ort ? "ONNX Runtime" : "CnnGen")}): {calls} calls, {clock.Elapsed.TotalSeconds / calls * 1e6:F1} us per call, "
                + $"fastest {Us(best):F1} us, 10% {Quantile(0.1):F1}, median {Quantile(0.5):F1}, 90% {Quantile(0.9):F1}");
            if (profile) PrintNodeTimes(session.EndProfiling());
        }

        // ONNX Runtime's own per-node times from its profile (events of category "Node" named "<node>_kernel_time"): the
        // median µs per call of each node, in graph order, to set against CnnGen's layers.
        private static void PrintNodeTimes(string profilePath)
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(profilePath));
            var times = new Dictionary<string, (string Op, List<double> Durations)>();
            var order = new List<string>();
            foreach (var e in document.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                string eventName = e.GetProperty("name").GetString()!;
                if (!eventName.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string node = eventName[..^"_kernel_time".Length];
                string op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
                if (!times.TryGetValue(node, out var entry)) { entry = (op, new List<double>()); times[node] = entry; order.Add(node); }
                entry.Durations.Add(e.GetProperty("dur").GetDouble());
            }
            double total = 0;
            foreach (var node in order)
            {
                var (op, durations) = times[node];
                durations.Sort();
                double median = durations[durations.Count / 2];
                total += median;
                Console.WriteLine($"{node,-40} {op,-22} {median,9:F1} us");
            }
            Console.WriteLine($"{"sum of medians",-63} {total,9:F1} us");
            File.Delete(profilePath);
        }

        // PyTorch's initialization from seed 1, as the generated ResetParameters(1) does.
        private static INetwork Initialized(INetwork network)
        {
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 1);
            return network;
        }

        private static void Compare(string name, Func<INetwork> create)
        {
            if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
            var network = create();
            var layout = network.Layout;
            var random = new CnnRandom(2);
            float[] input = new float[layout.Input.Length], output = new float[layout.Output.Length], ortOutput = new float[layout.Output.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            var workspace = network.CreateWorkspace(1, 0);

            using var options = new SessionOptions { IntraOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            using var session = new InferenceSession(OnnxExporter.ToBytes(network), options);
            using var ortIn = OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, layout.Input.Channels, layout.Input.Height, layout.Input.Width });
            using var ortOut = OrtValue.CreateTensorValueFromMemory(ortOutput, session.OutputMetadata.Values.First().Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray());
            var inputNames = new[] { session.InputMetadata.Keys.First() };
            var outputNames = new[] { session.OutputMetadata.Keys.First() };
            var inputs = new[] { ortIn };
            var outputs = new[] { ortOut };
            using var runOptions = new RunOptions();

            network.Forward(input, output, 1, workspace, false);
            session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            float worst = 0, scale = 0;
            for (int i = 0; i < output.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(output[i] - ortOutput[i]));
                scale = Math.Max(scale, Math.Abs(ortOutput[i]));
            }
            if (!(worst <= 1e-3f * Math.Max(1f, scale))) throw new InvalidOperationException($"{name}: CnnGen and ONNX Runtime disagree by {worst}");

            Action cnnGen = () => network.Forward(input, output, 1, workspace, false);
            Action ort = () => session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            // ZOO_CPU=1: this thread's CPU time instead of the wall clock (ONNX Runtime with one intra-op thread runs its
            // kernels on the calling thread), so that the rounds a loaded machine takes the core away do not count.
            bool cpu = Environment.GetEnvironmentVariable("ZOO_CPU") == "1";
            // A second of both engines before the rounds count: with tiered PGO the hot kernels pass through an instrumented
            // tier before their final code, and 15 rounds of 20 ms did not always outlast it (session 55: the narrow strided
            // design read 50-65 µs in 5 of 20 processes, 44-46 µs in the rest, and never so with DOTNET_TieredPGO=0).
            for (int round = 0; round < 25; round++)
            {
                PerCall(cnnGen, cpu);
                PerCall(ort, cpu);
            }
            double bestCnnGen = double.MaxValue, bestOrt = double.MaxValue;
            for (int round = 0; round < 15; round++)
            {
                bestCnnGen = Math.Min(bestCnnGen, PerCall(cnnGen, cpu));
                bestOrt = Math.Min(bestOrt, PerCall(ort, cpu));
            }
            Console.WriteLine($"{name,-36} CnnGen {bestCnnGen * 1e6,9:F1} us   ORT {bestOrt * 1e6,9:F1} us{(cpu ? " CPU" : "")}   {bestOrt / bestCnnGen,5:F2}x   ({layout.MultiplyAdds / 1e6:F1} M mult-adds, max diff {worst:G2})");
        }

        private static void CompareBatch(string name, Func<INetwork> create)
        {
            if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
            const int Batch = 64;
            var network = create();
            var layout = network.Layout;
            var random = new CnnRandom(2);
            float[] input = new float[Batch * layout.Input.Length], output = new float[Batch * layout.Output.Length], ortOutput = new float[output.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            // ZOO_THREADS=1: both engines on one thread (the batch's own speed, apart from how two threads share the cores).
            int threads = Environment.GetEnvironmentVariable("ZOO_THREADS") == "1" ? 1 : 2;
            using var cores = new ParallelEvaluation(network, threads, Batch);

            using var options = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            // ONNX Runtime's pool threads spin for a while after each run; interleaved with CnnGen's rounds they would take a
            // core from them (BenchmarkDotNet runs each engine in a process of its own). ZOO_ORT_SPIN=1 keeps its spinning.
            if (Environment.GetEnvironmentVariable("ZOO_ORT_SPIN") != "1") options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            using var session = new InferenceSession(OnnxExporter.ToBytes(network), options);
            var outputShape = session.OutputMetadata.Values.First().Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray();
            outputShape[0] = Batch;
            using var ortIn = OrtValue.CreateTensorValueFromMemory(input, new long[] { Batch, layout.Input.Channels, layout.Input.Height, layout.Input.Width });
            using var ortOut = OrtValue.CreateTensorValueFromMemory(ortOutput, outputShape);
            var inputNames = new[] { session.InputMetadata.Keys.First() };
            var outputNames = new[] { session.OutputMetadata.Keys.First() };
            var inputs = new[] { ortIn };
            var outputs = new[] { ortOut };
            using var runOptions = new RunOptions();

            Action cnnGen = () => cores.Forward(input, output, Batch);
            Action ort = () => session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            cnnGen();
            ort();
            float worst = 0, scale = 0;
            for (int i = 0; i < output.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(output[i] - ortOutput[i]));
                scale = Math.Max(scale, Math.Abs(ortOutput[i]));
            }
            if (!(worst <= 1e-3f * Math.Max(1f, scale))) throw new InvalidOperationException($"{name}: CnnGen and ONNX Runtime disagree by {worst}");

            double bestCnnGen = double.MaxValue, bestOrt = double.MaxValue;
            for (int round = 0; round < 10; round++)
            {
                bestCnnGen = Math.Min(bestCnnGen, PerCall(cnnGen, milliseconds: 100));
                bestOrt = Math.Min(bestOrt, PerCall(ort, milliseconds: 100));
            }
            Console.WriteLine($"{name,-36} CnnGen {bestCnnGen / Batch * 1e6,9:F1} us   ORT {bestOrt / Batch * 1e6,9:F1} us per image   {bestOrt / bestCnnGen,5:F2}x   (chunk {network.GetType().GetField("EvaluationChunk")?.GetValue(null)})");
        }

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct TimeSpec { public long Seconds, Nanoseconds; }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        // CLOCK_THREAD_CPUTIME_ID (Linux).
        private static long ThreadNanoseconds()
        {
            ClockGetTime(3, out var t);
            return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        }

        // Calls for about 20 ms, seconds per call: by the wall clock, or (threadCpu) by this thread's CPU time.
        private static double PerCall(Action action, bool threadCpu = false, double milliseconds = 20)
        {
            action();
            long start = Nanoseconds(threadCpu), end = start + (long)(milliseconds * 1e6), now;
            int calls = 0;
            do { action(); calls++; } while ((now = Nanoseconds(threadCpu)) < end);
            return (now - start) / 1e9 / calls;
        }

        private static long Nanoseconds(bool threadCpu) =>
            threadCpu ? ThreadNanoseconds() : (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }
}
