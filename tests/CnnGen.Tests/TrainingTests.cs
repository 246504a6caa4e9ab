using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CnnGen.Data;
using CnnGen.IO;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>Losses, optimizers and the train step against PyTorch, plus learning for real on Fashion-MNIST.</summary>
    public sealed class TrainingTests
    {
        private readonly ITestOutputHelper _output;

        public TrainingTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData("lenet5")]
        [InlineData("batchnorm")]
        [InlineData("strided")]
        public void LossesAndTheirGradientsMatchPyTorch(string name)
        {
            var fixture = PyTorchParityTests.Fixture(name);
            var output = fixture.GetFloats("train.output");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            var gradient = new float[output.Length];
            float loss = Losses.CrossEntropy(output, labels, gradient);
            Assert.Equal(fixture.GetFloats("train.loss")[0], loss, 1e-6f);
            Compare.Close(gradient, fixture.GetFloats("train.output_grad"), 1e-6, name + " cross-entropy gradient");

            float mse = Losses.MeanSquaredError(output, fixture.GetFloats("mse.target"), gradient);
            Assert.Equal(fixture.GetFloats("mse.loss")[0], mse, 1e-6f);
            Compare.Close(gradient, fixture.GetFloats("mse.output_grad"), 1e-6, name + " MSE gradient");
        }

        [Fact]
        public void CrossEntropyIsStableForHugeLogits()
        {
            var logits = new float[] { 1e4f, -1e4f, 0f, 3e4f, 3e4f, -3e4f };
            var gradient = new float[6];
            float loss = Losses.CrossEntropy(logits, new[] { 1, 0 }, gradient);
            Assert.True(float.IsFinite(loss));
            Assert.Equal((2e4f + MathF.Log(2)) / 2, loss, 1f); // sample 0: 20000; sample 1: log 2
            Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
        }

        [Fact]
        public void LossesRejectBadLabelsAndLengthsBeforeWriting()
        {
            var gradient = new float[6];
            gradient.AsSpan().Fill(7f);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.CrossEntropy(new float[6], new[] { 0, 3 }, gradient));
            Assert.Contains("Label 3 of sample 1", error.Message);
            Assert.All(gradient, g => Assert.Equal(7f, g));
            Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(new float[7], new[] { 0, 1 }, new float[7]));
            Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError(new float[3], new float[4], new float[3]));
        }

        // Not batchnorm with AdamW: layer 4's convolution bias feeds batch-norm, which removes it, so its true gradient is
        // zero and what PyTorch and we compute is rounding noise. Adam divides the gradient by its own size, so the step
        // follows the noise; with AdamW's decoupled decay nothing else steers it (Adam's coupled decay does), and the
        // running mean downstream drifts with it. LeNet-5 covers AdamW.
        public static readonly TheoryData<string, string> OptimizerCases = new()
        {
            { "lenet5", "sgd" }, { "lenet5", "sgd_nesterov" }, { "lenet5", "sgd_dampening" }, { "lenet5", "adam" }, { "lenet5", "adamw" },
            { "batchnorm", "sgd" }, { "batchnorm", "sgd_nesterov" }, { "batchnorm", "sgd_dampening" }, { "batchnorm", "adam" },
            // Graph networks: residual blocks with batch-norm, and per-pixel cross-entropy through two levels of concatenation.
            { "resnet8", "sgd_main" }, { "unet", "sgd_main" }, { "mobilenetv2", "sgd_main" },
            // The classic LeNet-5 of the course notes (tanh, average pooling, 32x32).
            { "lenet5_classic", "sgd_main" },
        };

        private static Optimizer CreateOptimizer(string kind, int count) => kind switch
        {
            "sgd" => new Sgd(count, 0.05f, momentum: 0.9f, dampening: 0, weightDecay: 1e-4f),
            "sgd_nesterov" => new Sgd(count, 0.05f, momentum: 0.9f, nesterov: true),
            "sgd_dampening" => new Sgd(count, 0.05f, momentum: 0.5f, dampening: 0.3f),
            "adam" => new Adam(count, 1e-3f, weightDecay: 1e-4f),
            "adamw" => new AdamW(count, 1e-3f, weightDecay: 1e-2f),
            "sgd_main" => new Sgd(count, 0.05f, momentum: 0.9f, weightDecay: 5e-4f),
            _ => throw new ArgumentException(kind),
        };

        // ResNet-8 memorizes its 4 samples fast (loss 2.61 -> 0.52 in five steps at lr 0.05) through 9 batch-norms over a
        // batch of 4: the loss agrees to 2e-7..7e-7 for four steps, then a rounding difference (summation order) flips some
        // pre-activations near 0 and the fifth step differs by 2.0e-5, the weights by up to 1.4e-4. The single step is held
        // to 1e-4 for every gradient (PyTorchParityTests); here the graph networks get a looser bound on the fifth step.
        // (Those figures are one thread's. This test trains on two, whose batch-norm combines the chunks' sums about their
        // own means, a slightly more accurate mean; on this machine the fifth step then agrees to 1.2e-7.)
        private static float LossTolerance(string name, float loss) => name == "resnet8" ? 1e-4f * Math.Max(1f, Math.Abs(loss)) : 1e-5f;

        // Where the flip comes is rounding's choice: with the stride-2 Winograd tiles and Winograd weight gradients in training
        // (session 8) it comes at the fourth step (loss 2.6e-5 apart there), and the weights end 5.2e-4 apart.
        private static double WeightTolerance(string name) => name == "resnet8" ? 1e-3 : 1e-4;

        /// <summary>Five train steps (training forward, cross-entropy, backward, optimizer) leave PyTorch's weights and buffers.</summary>
        [Theory]
        [MemberData(nameof(OptimizerCases))]
        public void FiveTrainStepsMatchPyTorch(string name, string optimizerKind)
        {
            var fixture = PyTorchParityTests.Fixture(name);
            var network = PyTorchParityTests.Load(name, fixture);
            var input = fixture.GetFloats("input");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            var expectedLosses = fixture.GetFloats(optimizerKind + ".losses");
            int batch = input.Length / network.Layout.Input.Length; // a label per sample, or per output pixel
            using var trainer = new Trainer(network, CreateOptimizer(optimizerKind, network.Layout.ParameterCount), batch, threads: 2);
            for (int step = 0; step < 5; step++)
            {
                float loss = trainer.TrainStep(input, labels);
                _output.WriteLine($"step {step}: loss {loss:R} expected {expectedLosses[step]:R} error {Math.Abs(loss - expectedLosses[step]):E2}");
                Assert.Equal(expectedLosses[step], loss, LossTolerance(name, expectedLosses[step]));
            }

            double worst = 0;
            foreach (var tensor in network.Layout.Tensors)
            {
                string key = optimizerKind + "." + tensor.Name;
                if (tensor.Block == TensorBlock.Counters)
                {
                    Assert.Equal(fixture.GetInt64s(key)[0], network.Counters[tensor.Offset]);
                    continue;
                }
                var block = tensor.Block == TensorBlock.Parameters ? network.Parameters : network.Buffers;
                var actual = block.Slice(tensor.Offset, tensor.Length).ToArray();
                var expected = fixture.GetFloats(key);
                if (optimizerKind == "adamw" && tensor.Block == TensorBlock.Parameters)
                {
                    // Adam divides each gradient by its own running size, so an element whose gradient is at rounding-noise
                    // level (1e-8 where its neighbours are 1e-3) takes a full ±lr step in the direction of the noise. With
                    // decay decoupled (AdamW) nothing else steers it, and any other summation order (ours, PyTorch's on another
                    // CPU) moves it elsewhere. Those elements are skipped; exact zeros are not noise and are kept.
                    var initialGradient = fixture.GetFloats("grad." + tensor.Name);
                    for (int i = 0; i < actual.Length; i++)
                        if (initialGradient[i] != 0 && MathF.Abs(initialGradient[i]) < 1e-6f) actual[i] = expected[i];
                }
                Compare.Close(actual, expected, WeightTolerance(name), $"{name} {optimizerKind} {tensor.Name}");
                worst = Math.Max(worst, Compare.MaxError(actual, expected));
            }
            _output.WriteLine($"{name} {optimizerKind}: largest weight error after 5 steps {worst:E2} ({trainer.Threads} thread(s))");
        }

        /// <summary>Per-pixel cross-entropy (PyTorch's cross_entropy on N x C x H x W with N x H x W targets) and its gradient.</summary>
        [Fact]
        public void PixelCrossEntropyMatchesPyTorch()
        {
            var fixture = PyTorchParityTests.Fixture("unet");
            var logits = fixture.GetFloats("train.output");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            var shape = fixture.GetShape("train.output");
            var gradient = new float[logits.Length];
            float loss = Losses.PixelCrossEntropy(logits, labels, (int)shape[1], (int)shape[2], (int)shape[3], gradient);
            Assert.Equal(fixture.GetFloats("train.loss")[0], loss, 1e-5f);
            Compare.Close(gradient, fixture.GetFloats("train.output_grad"), 1e-7, "unet d loss / d logits");
        }

        [Fact]
        public void TrainerOnPerPixelOutputs_CountsPixels_AndNamesTheBadPixel()
        {
            var fixture = PyTorchParityTests.Fixture("unet");
            var network = PyTorchParityTests.Load("unet", fixture);
            var input = fixture.GetFloats("input");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.01f), 4);
            var evaluation = trainer.Evaluate(input, labels);
            Assert.Equal(4 * 16 * 16, evaluation.Count); // pixel accuracy
            Assert.InRange(evaluation.Accuracy, 0, 1);

            var before = network.Parameters.ToArray();
            var bad = (int[])labels.Clone();
            bad[300] = 4; // pixel 44 of sample 1
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainStep(input, bad));
            Assert.Contains("pixel 44 of sample 1", error.Message);
            Assert.Throws<ArgumentException>(() => trainer.TrainStep(input, labels.AsSpan(0, 100)));
            Assert.Equal(before, network.Parameters.ToArray());
        }

        [Fact]
        public void SchedulesFollowPyTorchsFormulas()
        {
            var step = new StepLR(0.1f, stepSize: 3, gamma: 0.5f);
            Assert.Equal(new[] { 0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f }, Enumerable.Range(0, 7).Select(step.LearningRateAt));
            var cosine = new CosineAnnealingLR(0.1f, tMax: 10, etaMin: 1e-3f);
            Assert.Equal(0.1f, cosine.LearningRateAt(0), 6);
            Assert.Equal((0.1f + 1e-3f) / 2, cosine.LearningRateAt(5), 6);
            Assert.Equal(1e-3f, cosine.LearningRateAt(10), 6);
            var optimizer = new Sgd(1, 1f);
            cosine.Apply(optimizer, 5);
            Assert.Equal(cosine.LearningRateAt(5), optimizer.LearningRate);
        }

        [Fact]
        public void SameSeedAndThreadCountReproduceARunBitForBit()
        {
            float[] Run()
            {
                var network = new LeNet5();
                network.ResetParameters(17);
                var random = new CnnRandom(4);
                var images = new float[32 * 784];
                for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
                var labels = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
                using var trainer = new Trainer(network, new Sgd(LeNet5.ParameterCount, 0.05f, momentum: 0.9f), 32, threads: 2);
                for (int step = 0; step < 4; step++) trainer.TrainStep(images, labels);
                return network.Parameters.ToArray();
            }
            Assert.Equal(Run(), Run());
        }

        [Fact]
        public void BadBatchesAreRefusedWithTheWeightsUntouched()
        {
            var network = new BatchNormNet();
            network.ResetParameters(3);
            using var trainer = new Trainer(network, new Sgd(BatchNormNet.ParameterCount, 0.1f), batchCapacity: 4);
            var images = new float[4 * BatchNormNet.InputLength];
            var parameters = network.Parameters.ToArray();
            var buffers = network.Buffers.ToArray();

            var error = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainStep(images, new[] { 0, 1, 4, 2 }));
            Assert.Contains("Label 4 of sample 2", error.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainStep(Array.Empty<float>(), Array.Empty<int>()));
            Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainStep(new float[5 * BatchNormNet.InputLength], new int[5]));
            Assert.Throws<ArgumentException>(() => trainer.TrainStep(new float[3], new[] { 0, 1, 2, 3 }));
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(buffers, network.Buffers.ToArray());

            // A loss that is not finite stops training with the step named and the weights of before the step.
            images[5] = float.NaN;
            var diverged = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(images, new[] { 0, 1, 2, 3 }));
            Assert.Equal(1, diverged.Step);
            Assert.Contains("step 1", diverged.Message);
            Assert.Equal(parameters, network.Parameters.ToArray());
        }

        /// <summary>
        /// Learning for real: LeNet-5 from scratch on the committed subset (4,000 training, 1,000 test images), three epochs of
        /// SGD with momentum, about 7 s. Chance is 10%; the run reaches 73.8% (measured), and must reach 65%.
        /// </summary>
        [Fact]
        public void LeNet5LearnsFashionMnistFromScratch()
        {
            string folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "fashion-subset");
            var (train, trainCount, _, _) = IdxReader.ReadImages(Path.Combine(folder, "train-images-idx3-ubyte.gz"));
            var trainLabels = IdxReader.ReadLabels(Path.Combine(folder, "train-labels-idx1-ubyte.gz"));
            var (test, _, _, _) = IdxReader.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"));
            var testLabels = IdxReader.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"));

            var network = new LeNet5();
            network.ResetParameters(1);
            const int batch = 32;
            using var trainer = new Trainer(network, new Sgd(LeNet5.ParameterCount, 0.05f, momentum: 0.9f), batch);
            var clock = Stopwatch.StartNew();
            var order = Enumerable.Range(0, trainCount).ToArray();
            var random = new CnnRandom(2);
            var images = new float[batch * 784];
            var labels = new int[batch];
            for (int epoch = 0; epoch < 3; epoch++)
            {
                random.Shuffle<int>(order);
                for (int start = 0; start + batch <= trainCount; start += batch)
                {
                    for (int i = 0; i < batch; i++)
                    {
                        train.AsSpan(order[start + i] * 784, 784).CopyTo(images.AsSpan(i * 784));
                        labels[i] = trainLabels[order[start + i]];
                    }
                    trainer.TrainStep(images, labels);
                }
            }
            var result = trainer.Evaluate(test, testLabels);
            _output.WriteLine($"3 epochs on {trainCount} images in {clock.Elapsed.TotalSeconds:F1} s: test accuracy {100 * result.Accuracy:F1}%, loss {result.Loss:F3}");
            Assert.True(result.Accuracy > 0.65, $"test accuracy {result.Accuracy:P1}");
        }
    }

    /// <summary>The whole process is measured, so nothing else may run meanwhile: this collection runs alone.</summary>
    [CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
    public sealed class AllocationTestsCollection { }

    [Collection(nameof(AllocationTests))]
    public sealed class AllocationTests
    {
        private readonly ITestOutputHelper _output;

        public AllocationTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void TrainStepAllocatesNothingAfterWarmUp()
        {
            var network = new LeNet5();
            var random = new CnnRandom(8);
            var images = new float[16 * 784];
            for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
            var labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
            using var trainer = new Trainer(network, new Adam(LeNet5.ParameterCount), 16, threads: 2);
            // Warm up past tiered compilation (methods are recompiled, in the background, after 30 calls), so what is
            // measured is the steady state.
            for (int step = 0; step < 60; step++) trainer.TrainStep(images, labels);
            System.Threading.Thread.Sleep(300);
            // Earlier tests leave work behind (collectible assemblies unloading, finalizers): let it finish first.
            for (int i = 0; i < 2; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            trainer.TrainStep(images, labels);

            long thread = GC.GetAllocatedBytesForCurrentThread();
            long process = GC.GetTotalAllocatedBytes(precise: true);
            for (int step = 0; step < 100; step++) trainer.TrainStep(images, labels);
            long threadBytes = GC.GetAllocatedBytesForCurrentThread() - thread;
            long processBytes = GC.GetTotalAllocatedBytes(precise: true) - process;
            _output.WriteLine($"100 steps: {threadBytes} bytes on the calling thread, {processBytes} bytes in the process");
            Assert.Equal(0, threadBytes);
            // Typically 4-5 KB, all from the test host and the runtime's own threads; a step moves megabytes of activations.
            Assert.True(processBytes < 256 * 1024, $"the process allocated {processBytes} bytes over 100 steps (bound: 256 KiB, for the test host's and runtime's own bookkeeping)");
        }
    }
}
