using CnnGen.Tests.Fixtures;
using System;
using System.Diagnostics;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Benchmarks
{
    /// <summary>
    /// <c>-- train-cpu</c>: the one-thread training step (batch 64, SGD) of CIFAR, ResNet-8 and the strided network in this
    /// process's CPU time, µs per image, best of 5 rounds of at least half a CPU second. On a machine shared with other
    /// processes the time a process is scheduled out does not count, so a before/after stays comparable under load (wall
    /// clock, BenchmarkDotNet's measure, varied 2x between runs at load 30 on 2 cores). Not a BenchmarkDotNet job.
    /// </summary>
    public static class TrainCpu
    {
        private const int Batch = 64;
        // train-loop's batch: 64 unless a fifth argument says otherwise (one thread at 32 has two threads' chunk at 64).
        private static int _loopBatch = Batch;

        /// <summary>The networks train-loop knows: the table's, and the zoo's designs that pytorch_zoo_train.py also builds.</summary>
        public const string LoopNetworks = "lenet, cifar, mobilenetv2, resnet8, strided, or the zoo's vgg, vgg5, vgg11, resnet-stem, mobilenet-v1, dilated, gray, "
            + "resnext, mobilenet-v3, mobilenet-112, bottlenecks, inception, inception-v3, densenet, resnet-downsample, "
            + "resnet20, mbv2-cifar, allcnn, vgg13-half, convnext, convnext14, yolo-tiny, efficientnet-lite, lenet1998, strided-bn4, strided-bias4, "
            + "resnet14, mbv1-nobn, keras-cifar, tutorial, vgg-bn-after-relu, preact, wrn16-4, mnasnet, resnet18, alexnet, nin, convmixer, mnist-resnet, dcgan, dcgan-generator, unet, encoder-decoder";

        /// <summary>
        /// <c>-- train-loop NETWORK THREADS SECONDS [BATCH]</c>: train steps (batch 64, or BATCH) for a while on a quiet process, then images/s by
        /// the wall clock (best of rounds of 0.5 s). For a profiler (perf record with DOTNET_PerfMapEnabled=1) to attribute
        /// the step's time to layers and kernels; NETWORK is one of <see cref="LoopNetworks"/>
        /// (against benchmarks/pytorch_zoo_train.py).
        /// </summary>
        public static void Loop(string network, int threads, double seconds, int batch = Batch)
        {
            _loopBatch = batch;
            WithNetwork(network, new LoopRun(threads, seconds));
        }

        // A benchmark over one network type, run by WithNetwork once the name is resolved.
        private interface INetworkRun
        {
            void Run<TNetwork>() where TNetwork : INetwork, new();
        }

        private sealed record LoopRun(int Threads, double Seconds) : INetworkRun
        {
            public void Run<TNetwork>() where TNetwork : INetwork, new() => LoopOf<TNetwork>(Threads, Seconds);
        }

        private sealed record ThreadCountsRun(double Seconds, int[] Threads) : INetworkRun
        {
            public void Run<TNetwork>() where TNetwork : INetwork, new() => ThreadCountsOf<TNetwork>(Seconds, Threads);
        }

        // The one place a name of LoopNetworks becomes its network type.
        private static void WithNetwork(string network, INetworkRun run)
        {
            switch (network)
            {
                case "lenet": run.Run<LeNet5>(); break;
                case "cifar": run.Run<CifarNet>(); break;
                case "mobilenetv2": run.Run<MobileNetV2>(); break;
                case "resnet8": run.Run<ResNet8>(); break;
                case "strided": run.Run<StridedNet>(); break;
                case "vgg": run.Run<Zoo.VggNet>(); break;
                case "vgg11": run.Run<Zoo.Vgg11Net>(); break;
                case "vgg5": run.Run<Zoo.Vgg5Net>(); break;
                case "mobilenet-v1": run.Run<Zoo.Sweep.MobileNetV1Net>(); break;
                case "dilated": run.Run<Zoo.Sweep.DilatedNet>(); break;
                case "gray": run.Run<Zoo.Sweep.GrayWideKernelNet>(); break;
                case "resnet-stem": run.Run<Zoo.ResNetStemNet>(); break;
                case "resnext": run.Run<Zoo.Sweep2.ResNeXtNet>(); break;
                case "mobilenet-v3": run.Run<Zoo.Sweep2.MobileNetV3Net>(); break;
                case "mobilenet-112": run.Run<Zoo.Sweep2.MobileNet112Net>(); break;
                case "bottlenecks": run.Run<Zoo.Sweep2.Bottleneck14Net>(); break;
                case "inception": run.Run<Zoo.Sweep2.InceptionNet>(); break;
                case "inception-v3": run.Run<Zoo.Sweep2.InceptionV3Net>(); break;
                case "densenet": run.Run<Zoo.Sweep2.DenseNet>(); break;
                case "resnet-downsample": run.Run<Zoo.Sweep2.ResNetDownsampleNet>(); break;
                // The third sweep's designs up to 3x64x64 (its three ImageNet-size ones take too long a step for a loop).
                case "resnet20": run.Run<Zoo.Sweep3.ResNet20Net>(); break;
                case "mbv2-cifar": run.Run<Zoo.Sweep3.MobileNetV2CifarNet>(); break;
                case "allcnn": run.Run<Zoo.Sweep3.AllConvNet>(); break;
                case "vgg13-half": run.Run<Zoo.Sweep3.Vgg13HalfNet>(); break;
                case "convnext": run.Run<Zoo.Sweep3.ConvNextNet>(); break;
                case "convnext14": run.Run<Zoo.Sweep3.ConvNext14Net>(); break;
                case "yolo-tiny": run.Run<Zoo.Sweep3.YoloTinyNet>(); break;
                case "efficientnet-lite": run.Run<Zoo.Sweep3.EfficientLiteNet>(); break;
                case "lenet1998": run.Run<Zoo.Sweep3.LeNet1998Net>(); break;
                case "strided-bn4": run.Run<Zoo.Sweep3.StridedCifarNet>(); break;
                case "strided-bias4": run.Run<Zoo.Sweep3.StridedBiasNet>(); break;
                case "resnet14": run.Run<Zoo.Sweep3.ResNet14Net>(); break;
                case "mbv1-nobn": run.Run<Zoo.Sweep3.MobileNetNoBatchNormNet>(); break;
                case "keras-cifar": run.Run<Zoo.Sweep3.KerasCifarNet>(); break;
                case "tutorial": run.Run<Zoo.Sweep3.TorchTutorialNet>(); break;
                case "vgg-bn-after-relu": run.Run<Zoo.Sweep3.BatchNormAfterReluNet>(); break;
                case "preact": run.Run<Zoo.Sweep3.PreActResNetNet>(); break;
                case "wrn16-4": run.Run<Zoo.Sweep3.WideResNet16Net>(); break;
                case "mnasnet": run.Run<Zoo.Sweep3.MnasNetNet>(); break;
                case "resnet18": run.Run<Zoo.ResNet18CifarNet>(); break;
                case "alexnet": run.Run<Zoo.Sweep4.AlexNetNet>(); break;
                case "nin": run.Run<Zoo.Sweep4.NetworkInNetworkNet>(); break;
                case "convmixer": run.Run<Zoo.Sweep4.ConvMixerNet>(); break;
                case "mnist-resnet": run.Run<Zoo.Sweep4.MnistResNetNet>(); break;
                case "dcgan": run.Run<Zoo.Sweep4.DcganDiscriminatorNet>(); break;
                case "dcgan-generator": run.Run<Zoo.Sweep4.DcganGeneratorNet>(); break;
                // Transposed layers in graphs (no PyTorch twin): 2x2, 3x3 with output padding and 4x4 up-convolutions.
                case "unet": run.Run<Zoo.Sweep2.UNetNet>(); break;
                case "encoder-decoder": run.Run<Zoo.EncoderDecoderNet>(); break;
                default: throw new ArgumentException($"Unknown network {network}: {LoopNetworks}.");
            }
        }

        private static void LoopOf<TNetwork>(int threads, double seconds) where TNetwork : INetwork, new()
        {
            var (trainer, input, labels) = Setup<TNetwork>(threads, _loopBatch);
            using (trainer)
            {
                for (int i = 0; i < 30; i++) trainer.TrainStep(input, labels);
                Knob.FromEnvironment("TRAIN_LOOP_A")?.Set(true);
                var knob = Knob.FromEnvironment("TRAIN_LOOP_AB");
                if (knob != null)
                {
                    Alternate<TNetwork>(trainer, input, labels, threads, seconds, knob);
                    return;
                }
                double best = 0, bestCpu = double.MaxValue;
                long totalSteps = 0;
                var process = Process.GetCurrentProcess();
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                var total = Stopwatch.StartNew();
                while (total.Elapsed.TotalSeconds < seconds)
                {
                    process.Refresh();
                    var cpu = process.TotalProcessorTime;
                    var round = Stopwatch.StartNew();
                    int steps = 0;
                    do
                    {
                        trainer.TrainStep(input, labels);
                        steps++;
                    } while (round.Elapsed.TotalSeconds < 0.5);
                    best = Math.Max(best, steps * _loopBatch / round.Elapsed.TotalSeconds);
                    totalSteps += steps;
                    process.Refresh();
                    bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu).TotalSeconds / (steps * _loopBatch));
                }
                // The whole process's allocations (every thread's, this loop's Process.Refresh calls included), per step.
                double bytesPerStep = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / totalSteps;
                // CPU time counts the threads' waits at the batch-norm meetings while they spin, not while they block.
                Console.WriteLine($"{typeof(TNetwork).Name} train step, batch {_loopBatch}, {threads} thread(s): {best:F0} images/s (best round, wall clock), {bestCpu * 1e6:F1} us CPU per image (best round), "
                    + $"{bytesPerStep:F1} B allocated per step by the process, {new TNetwork().Layout.ParameterCount} parameters");
            }
        }

        /// <summary>
        /// <c>-- train-threads NETWORK SECONDS T1,T2,...</c> (NETWORK one of <see cref="LoopNetworks"/>): one trainer per
        /// thread count, batch 64, rounds of 0.5 s alternated among them in one process; the median and best images/s by the
        /// wall clock of each. What a host that slows one core more than the other costs each way of splitting the batch.
        /// </summary>
        public static void ThreadCounts(string network, double seconds, int[] threads) => WithNetwork(network, new ThreadCountsRun(seconds, threads));

        private static void ThreadCountsOf<TNetwork>(double seconds, int[] threads) where TNetwork : INetwork, new()
        {
            var trainers = new Trainer[threads.Length];
            float[] input = Array.Empty<float>();
            int[] labels = Array.Empty<int>();
            for (int i = 0; i < threads.Length; i++)
            {
                (trainers[i], input, labels) = Setup<TNetwork>(threads[i]);
                for (int step = 0; step < 30; step++) trainers[i].TrainStep(input, labels);
            }
            var rates = new System.Collections.Generic.List<double>[threads.Length];
            for (int i = 0; i < threads.Length; i++) rates[i] = new();
            var total = Stopwatch.StartNew();
            for (int round = 0; total.Elapsed.TotalSeconds < seconds || round % threads.Length != 0; round++)
            {
                int side = round % threads.Length;
                var clock = Stopwatch.StartNew();
                int steps = 0;
                do
                {
                    trainers[side].TrainStep(input, labels);
                    steps++;
                } while (clock.Elapsed.TotalSeconds < 0.5);
                rates[side].Add(steps * Batch / clock.Elapsed.TotalSeconds);
            }
            for (int i = 0; i < threads.Length; i++)
            {
                var sorted = rates[i].OrderBy(r => r).ToList();
                double median = (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
                Console.WriteLine($"{typeof(TNetwork).Name,-12} {threads[i],2} thread(s): median {median,8:F0} images/s, best {sorted[^1],8:F0} ({sorted.Count} rounds)");
                trainers[i].Dispose();
            }
        }

        // TRAIN_LOOP_AB="Type.Property=value[,Type.Property=value]": rounds of 0.5 s alternate between the process as it is (A)
        // and the runtime's internal knobs set so (B), in one process on one trainer, the best CPU µs per image of each printed
        // (TRAIN_LOOP_A, the same syntax: knobs set for both sides after the trainer is built).
        // The trainer is built with the knobs as they are: B may only turn a path off (the workspace is sized for A's), e.g.
        // StridedConvolution.WeightGradientTileOverride=0 (the stride-2 weight gradient by the lanes kernel).
        private static void Alternate<TNetwork>(Trainer trainer, float[] input, int[] labels, int threads, double seconds, Knob knob) where TNetwork : INetwork, new()
        {
            var process = Process.GetCurrentProcess();
            double[] bestCpu = { double.MaxValue, double.MaxValue }, best = { 0, 0 };
            // B's warm-up, so both run tiered-up code.
            knob.Set(true);
            for (int i = 0; i < 30; i++) trainer.TrainStep(input, labels);
            knob.Set(false);
            var total = Stopwatch.StartNew();
            for (int round = 0; total.Elapsed.TotalSeconds < seconds || round % 2 != 0; round++)
            {
                int side = round % 2;
                knob.Set(side == 1);
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                int steps = 0;
                do
                {
                    trainer.TrainStep(input, labels);
                    steps++;
                } while (clock.Elapsed.TotalSeconds < 0.5);
                process.Refresh();
                best[side] = Math.Max(best[side], steps * _loopBatch / clock.Elapsed.TotalSeconds);
                bestCpu[side] = Math.Min(bestCpu[side], (process.TotalProcessorTime - cpu).TotalSeconds / (steps * _loopBatch));
            }
            knob.Set(false);
            Console.WriteLine($"{typeof(TNetwork).Name} train step, batch {_loopBatch}, {threads} thread(s), rounds alternated: A (as built) {bestCpu[0] * 1e6:F1} us CPU per image, "
                + $"{best[0]:F0} images/s; B ({knob}) {bestCpu[1] * 1e6:F1} us CPU per image, {best[1]:F0} images/s; B / A CPU {bestCpu[1] / bestCpu[0]:F3}");
        }

        // Internal static properties of the runtime set by name (the benchmark sees no internals): A keeps their values, B sets them.
        internal sealed class Knob
        {
            private readonly (System.Reflection.PropertyInfo Property, object A, object B)[] _settings;
            private readonly string _text;

            private Knob((System.Reflection.PropertyInfo, object, object)[] settings, string text) => (_settings, _text) = (settings, text);

            public static Knob? FromEnvironment(string variable)
            {
                string? text = Environment.GetEnvironmentVariable(variable);
                if (string.IsNullOrWhiteSpace(text)) return null;
                var settings = new System.Collections.Generic.List<(System.Reflection.PropertyInfo, object, object)>();
                foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    int equals = part.IndexOf('='), dot = part.LastIndexOf('.', equals < 0 ? part.Length - 1 : equals);
                    if (equals < 0 || dot < 0) throw new ArgumentException($"{variable}: expected Type.Property=value, got {part}.");
                    var type = typeof(INetwork).Assembly.GetType("CnnGen.Kernels." + part[..dot]) ?? typeof(INetwork).Assembly.GetType("CnnGen." + part[..dot])
                        ?? throw new ArgumentException($"{variable}: no type {part[..dot]} in CnnGen.Kernels or CnnGen.");
                    var property = type.GetProperty(part[(dot + 1)..equals], System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
                        ?? throw new ArgumentException($"{variable}: no static property {part[(dot + 1)..equals]} on {type.Name}.");
                    object value = Convert.ChangeType(part[(equals + 1)..], property.PropertyType, System.Globalization.CultureInfo.InvariantCulture);
                    settings.Add((property, property.GetValue(null)!, value));
                }
                return new Knob(settings.ToArray(), text);
            }

            public void Set(bool b)
            {
                foreach (var (property, a, value) in _settings) property.SetValue(null, b ? value : a);
            }

            public override string ToString() => _text;
        }

        private static (Trainer Trainer, float[] Input, int[] Labels) Setup<TNetwork>(int threads, int batch = Batch) where TNetwork : INetwork, new()
        {
            var network = new TNetwork();
            var layout = network.Layout;
            var random = new CnnRandom(1);
            float[] input = new float[batch * layout.Input.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            // A label per sample among the outputs, or (an image out, as DCGAN's generator) one per pixel among the channels.
            var output = layout.Output;
            bool perPixel = output.Height * output.Width > 1;
            int[] labels = new int[batch * (perPixel ? output.Height * output.Width : 1)];
            for (int i = 0; i < labels.Length; i++) labels[i] = random.NextInt(perPixel ? output.Channels : output.Length);
            return (new Trainer(network, new Sgd(layout.ParameterCount, 0.001f, momentum: 0.9f), batch, threads), input, labels);
        }

        public static void Run()
        {
            Measure<CifarNet>("CIFAR");
            Measure<ResNet8>("ResNet-8");
            Measure<StridedNet>("strided");
        }

        private static void Measure<TNetwork>(string name) where TNetwork : INetwork, new()
        {
            var (trainer1, input, labels) = Setup<TNetwork>(1);
            using var trainer = trainer1;
            for (int i = 0; i < 30; i++) trainer.TrainStep(input, labels);
            var process = Process.GetCurrentProcess();
            double best = double.MaxValue;
            for (int round = 0; round < 5; round++)
            {
                process.Refresh();
                var start = process.TotalProcessorTime;
                int steps = 0;
                TimeSpan used;
                do
                {
                    trainer.TrainStep(input, labels);
                    steps++;
                    process.Refresh();
                    used = process.TotalProcessorTime - start;
                } while (used.TotalSeconds < 0.5);
                best = Math.Min(best, used.TotalSeconds / steps / Batch);
            }
            Console.WriteLine($"{name,-10} train step, 1 thread: {best * 1e6,8:F1} us CPU per image");
        }
    }
}
