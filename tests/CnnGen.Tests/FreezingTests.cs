using System;
using System.Linq;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Run-time freezing (ParameterMask): frozen tensors are never touched by any optimizer, trainable ones follow PyTorch
    /// with the same modules frozen (fixture lenet5_frozen: modules 0 and 3, requires_grad_(False)).
    /// </summary>
    public sealed class FreezingTests
    {
        private readonly ITestOutputHelper _output;

        public FreezingTests(ITestOutputHelper output) => _output = output;

        public static readonly TheoryData<string> FrozenOptimizers = new() { "sgd_main", "adam" };

        private static Optimizer CreateOptimizer(string kind, int count) => kind switch
        {
            "sgd_main" => new Sgd(count, 0.05f, momentum: 0.9f, weightDecay: 5e-4f),
            "adam" => new Adam(count, 1e-3f, weightDecay: 1e-4f),
            "adamw" => new AdamW(count, 1e-3f, weightDecay: 1e-2f),
            "nesterov" => new Sgd(count, 0.05f, momentum: 0.9f, weightDecay: 5e-4f, nesterov: true),
            _ => throw new ArgumentException(kind),
        };

        /// <summary>Five steps with the convolutions frozen: frozen tensors bit-identical, trainable ones PyTorch's.</summary>
        [Theory]
        [MemberData(nameof(FrozenOptimizers))]
        public void FiveStepsWithFrozenConvolutionsMatchPyTorch(string optimizerKind)
        {
            var fixture = PyTorchParityTests.Fixture("lenet5_frozen");
            var network = new LeNet5();
            CnnGen.IO.NetworkWeights.Load(network, fixture, allowExtraKeys: true, keyPrefix: "param.");
            var initial = network.Parameters.ToArray();
            var input = fixture.GetFloats("input");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            var optimizer = CreateOptimizer(optimizerKind, LeNet5.ParameterCount);
            var mask = optimizer.Freeze(new ParameterMask(network).FreezeLayers(0, 3));
            Assert.Equal(156 + 2416, mask.FrozenCount);
            var expectedLosses = fixture.GetFloats(optimizerKind + ".losses");
            using var trainer = new Trainer(network, optimizer, 4, threads: 2);
            for (int step = 0; step < 5; step++)
            {
                float loss = trainer.TrainStep(input, labels);
                Assert.Equal(expectedLosses[step], loss, 1e-5f);
            }
            double worst = 0;
            foreach (var tensor in LeNet5.Layout.Tensors)
            {
                var actual = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
                if (tensor.Name.StartsWith("0.", StringComparison.Ordinal) || tensor.Name.StartsWith("3.", StringComparison.Ordinal))
                {
                    Assert.True(mask.IsFrozen(tensor.Name));
                    Assert.Equal(initial.AsSpan(tensor.Offset, tensor.Length).ToArray(), actual); // bit for bit
                    foreach (var (name, state) in optimizer.State)
                        Assert.All(state.AsSpan(tensor.Offset, tensor.Length).ToArray(), v => Assert.Equal(0f, v));
                    Assert.All(trainer.Gradients.Slice(tensor.Offset, tensor.Length).ToArray(), g => Assert.Equal(0f, g));
                }
                else
                {
                    Assert.False(mask.IsFrozen(tensor.Name));
                    var expected = fixture.GetFloats(optimizerKind + "." + tensor.Name);
                    Compare.Close(actual, expected, 1e-4, $"frozen lenet5 {optimizerKind} {tensor.Name}");
                    worst = Math.Max(worst, Compare.MaxError(actual, expected));
                    Assert.NotEqual(initial.AsSpan(tensor.Offset, tensor.Length).ToArray(), actual);
                }
            }
            _output.WriteLine($"{optimizerKind}: largest trainable weight error after 5 frozen steps {worst:E2}");
        }

        /// <summary>Every optimizer (and weight decay, coupled or decoupled) leaves frozen tensors bit-identical, however they are frozen.</summary>
        [Theory]
        [InlineData("sgd_main")]
        [InlineData("nesterov")]
        [InlineData("adam")]
        [InlineData("adamw")]
        public void NoOptimizerTouchesFrozenTensors(string optimizerKind)
        {
            var network = new LeNet5();
            network.ResetParameters(3);
            var initial = network.Parameters.ToArray();
            var optimizer = CreateOptimizer(optimizerKind, LeNet5.ParameterCount);
            // By key prefix: one whole module, and one tensor of another.
            var mask = optimizer.Freeze(new ParameterMask(network).FreezePrefix("7.").FreezePrefix("11.weight"));
            var random = new CnnRandom(5);
            var images = new float[8 * LeNet5.InputLength];
            for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
            var labels = Enumerable.Range(0, 8).Select(i => i % 10).ToArray();
            using var trainer = new Trainer(network, optimizer, 8, threads: 1);
            for (int step = 0; step < 3; step++) trainer.TrainStep(images, labels);
            // A masked step allocates nothing either (the shared helper: one clean round of calls, so that the runtime tiering
            // a method up mid-measure, which made this flaky under load, is not counted).
            Allocations.AssertNone(() => optimizer.Step(network.Parameters, trainer.Gradients), calls: 1);
            foreach (var tensor in LeNet5.Layout.Tensors)
            {
                var now = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
                var before = initial.AsSpan(tensor.Offset, tensor.Length).ToArray();
                if (tensor.Name is "7.weight" or "7.bias" or "11.weight") Assert.Equal(before, now);
                else Assert.NotEqual(before, now);
            }
            Assert.Equal(120 * 400 + 120 + 10 * 84, mask.FrozenCount);

            // Unfrozen later: the next step moves them.
            mask.UnfreezeAll();
            trainer.TrainStep(images, labels);
            Assert.NotEqual(initial.AsSpan(LeNet5.Layout.Tensors.First(t => t.Name == "11.weight").Offset, 840).ToArray(),
                network.Parameters.Slice(LeNet5.Layout.Tensors.First(t => t.Name == "11.weight").Offset, 840).ToArray());
        }

        /// <summary>Optimizer.Step on plain spans honours the mask too: frozen gradients are not even read.</summary>
        [Fact]
        public void StepOnSpansSkipsFrozenRanges()
        {
            var network = new LeNet5();
            var mask = new ParameterMask(network).FreezeLayers(9);
            var sgd = new Sgd(LeNet5.ParameterCount, 0.1f, momentum: 0.9f, weightDecay: 0.1f);
            sgd.Freeze(mask);
            var parameters = Enumerable.Repeat(1f, LeNet5.ParameterCount).ToArray();
            var gradients = Enumerable.Repeat(1f, LeNet5.ParameterCount).ToArray();
            var frozen = LeNet5.Layout.Tensors.Where(t => t.Name.StartsWith("9.", StringComparison.Ordinal)).ToArray();
            foreach (var t in frozen) gradients.AsSpan(t.Offset, t.Length).Fill(float.NaN);
            sgd.Step(parameters, gradients);
            for (int i = 0; i < parameters.Length; i++)
            {
                bool isFrozen = frozen.Any(t => i >= t.Offset && i < t.Offset + t.Length);
                Assert.Equal(isFrozen, !mask.IsTrainable(i));
                Assert.Equal(isFrozen ? 1f : 1f - 0.1f * 1.1f, parameters[i], 6);
            }
        }

        [Fact]
        public void BadIndicesAndPrefixesAreRefusedWithoutChange()
        {
            var network = new LeNet5();
            var mask = new ParameterMask(network).FreezeLayers(0);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => mask.FreezeLayers(3, 12));
            Assert.Contains("0 to 11", error.Message);
            Assert.Equal(156, mask.FrozenCount); // 3 was not frozen either
            var prefix = Assert.Throws<ArgumentException>(() => mask.FreezePrefix("conv1."));
            Assert.Contains("0.weight", prefix.Message);
            Assert.Throws<ArgumentException>(() => new Sgd(10, 0.1f).Freeze(mask));
            mask.FreezeLayers(1); // ReLU: no parameters, accepted
            Assert.Equal(156, mask.FrozenCount);
        }

        /// <summary>Trainable and non-trainable counts as torchinfo prints them; frozen layers' counts in parentheses.</summary>
        [Fact]
        public void LayerTableReportsTrainableAndFrozenParameters()
        {
            var network = new LeNet5();
            var mask = new ParameterMask(network);
            Assert.Equal(LeNet5.Layout.FormatTable("LeNet5"), mask.FormatTable("LeNet5")); // nothing frozen: the generated table
            mask.FreezeLayers(0, 3).FreezePrefix("7.bias");
            string table = mask.FormatTable("LeNet5");
            _output.WriteLine(table);
            Assert.Contains("Total params: 61,706", table);
            Assert.Contains("Trainable params: 59,014", table);
            Assert.Contains("Non-trainable params: 2,692", table);
            Assert.Matches(@"Conv2d: 1-1\s+\[1, 6, 28, 28\]\s+\(156\)", table);
            Assert.Matches(@"Conv2d: 1-4\s+\[1, 16, 10, 10\]\s+\(2,416\)", table);
            Assert.Matches(@"Linear: 1-8\s+\[1, 120\]\s+48,000/48,120", table);
            Assert.Contains("Trainable params: 59,014 of 61,706 (2,692 frozen: 0.weight, 0.bias, 3.weight, 3.bias, 7.bias)", mask.ToString());
        }

        /// <summary>
        /// A frozen batch-norm kept in evaluation mode (fixture batchnorm_frozen: modules 0 and 1 frozen, module 1 in eval()):
        /// five SGD steps with momentum and weight decay leave the frozen tensors, running statistics and counter bit-identical,
        /// the trainable tensors and the other batch-norms' statistics PyTorch's.
        /// </summary>
        [Fact]
        public void FrozenBatchNormInEvaluationModeMatchesPyTorch()
        {
            var fixture = PyTorchParityTests.Fixture("batchnorm_frozen");
            var network = new BatchNormNet();
            CnnGen.IO.NetworkWeights.Load(network, fixture, allowExtraKeys: true, keyPrefix: "param.");
            var initialParameters = network.Parameters.ToArray();
            var initialBuffers = network.Buffers.ToArray();
            var initialCounters = network.Counters.ToArray();
            var input = fixture.GetFloats("input");
            var labels = fixture.GetInt64s("target").Select(l => (int)l).ToArray();
            var optimizer = new Sgd(BatchNormNet.ParameterCount, 0.05f, momentum: 0.9f, weightDecay: 5e-4f);
            var mask = optimizer.Freeze(new ParameterMask(network).FreezeLayers(0, 1));
            mask.FreezeBatchNormStatistics = true;
            var expectedLosses = fixture.GetFloats("sgd_main.losses");
            using var trainer = new Trainer(network, optimizer, labels.Length);
            for (int step = 0; step < 5; step++)
                Assert.Equal(expectedLosses[step], trainer.TrainStep(input, labels), 1e-5f);
            double worst = 0;
            foreach (var tensor in BatchNormNet.Layout.Tensors)
            {
                bool frozen = tensor.Name.StartsWith("0.", StringComparison.Ordinal) || tensor.Name.StartsWith("1.", StringComparison.Ordinal);
                switch (tensor.Block)
                {
                    case TensorBlock.Counters:
                        Assert.Equal(fixture.GetInt64s("sgd_main." + tensor.Name)[0], network.Counters[tensor.Offset]);
                        if (frozen) Assert.Equal(initialCounters[tensor.Offset], network.Counters[tensor.Offset]);
                        continue;
                    case TensorBlock.Buffers:
                    {
                        var actual = network.Buffers.Slice(tensor.Offset, tensor.Length).ToArray();
                        if (frozen) Assert.Equal(initialBuffers.AsSpan(tensor.Offset, tensor.Length).ToArray(), actual); // bit for bit
                        else Compare.Close(actual, fixture.GetFloats("sgd_main." + tensor.Name), 1e-5, tensor.Name);
                        continue;
                    }
                    default:
                    {
                        var actual = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
                        if (frozen)
                        {
                            Assert.Equal(initialParameters.AsSpan(tensor.Offset, tensor.Length).ToArray(), actual);
                            continue;
                        }
                        var expected = fixture.GetFloats("sgd_main." + tensor.Name);
                        Compare.Close(actual, expected, 1e-4, "batchnorm_frozen " + tensor.Name);
                        worst = Math.Max(worst, Compare.MaxError(actual, expected));
                        continue;
                    }
                }
            }
            _output.WriteLine($"largest trainable weight error after 5 steps with a frozen batch-norm in evaluation mode {worst:E2}");

            // Without the option the frozen batch-norm trains its statistics as in PyTorch's train(): they move.
            var again = new BatchNormNet();
            CnnGen.IO.NetworkWeights.Load(again, fixture, allowExtraKeys: true, keyPrefix: "param.");
            var plain = new Sgd(BatchNormNet.ParameterCount, 0.05f, momentum: 0.9f, weightDecay: 5e-4f);
            plain.Freeze(new ParameterMask(again).FreezeLayers(0, 1));
            using var plainTrainer = new Trainer(again, plain, labels.Length);
            plainTrainer.TrainStep(input, labels);
            Assert.NotEqual(initialBuffers.AsSpan(0, 12).ToArray(), again.Buffers.Slice(0, 12).ToArray());
            Assert.Equal(1, again.Layer1BatchesTracked);
        }

        /// <summary>Graph networks: freezing module 3 (a residual block) freezes its body and shortcut.</summary>
        [Fact]
        public void FreezingABlockFreezesEverythingInside()
        {
            var network = new ResNet8();
            var mask = new ParameterMask(network).FreezeLayers(3);
            int expected = ResNet8.Layout.Tensors.Where(t => t.Block == TensorBlock.Parameters && t.Name.StartsWith("3.", StringComparison.Ordinal)).Sum(t => t.Length);
            Assert.True(expected > 0);
            Assert.Equal(expected, mask.FrozenCount);
            Assert.All(mask.FrozenKeys, k => Assert.StartsWith("3.body.", k));
        }
    }
}
