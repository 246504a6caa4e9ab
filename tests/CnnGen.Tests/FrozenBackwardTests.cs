using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Backward with frozen layers (a workspace given a <see cref="ParameterMask"/>, <see cref="GradientFlow"/>): frozen layers
    /// get no parameter gradient and the pass stops where no trainable layer lies below; the trainable gradients are exactly
    /// those of the full pass, and those of the reference interpreter.
    /// </summary>
    public sealed class FrozenBackwardTests
    {
        private const float Sentinel = 12345.5f;
        private readonly ITestOutputHelper _output;

        public FrozenBackwardTests(ITestOutputHelper output) => _output = output;

        private static float[] Random(int length, ulong seed, float low = -1, float high = 1)
        {
            var random = new CnnRandom(seed);
            var values = new float[length];
            for (int i = 0; i < values.Length; i++) values[i] = random.NextUniform(low, high);
            return values;
        }

        /// <summary>One training forward and backward on a fresh workspace given <paramref name="mask"/>; parameter gradients start at the sentinel.</summary>
        private static (float[] Parameters, float[] Input, NetworkWorkspace Workspace) Pass(INetwork network, ParameterMask? mask, float[] input, float[] outputGradient,
            int batch, bool wantInput = false, Action<NetworkWorkspace>? beforeForward = null, float start = Sentinel)
        {
            var workspace = network.CreateWorkspace(batch, dropoutSeed: 3);
            workspace.ApplyMask(mask);
            beforeForward?.Invoke(workspace);
            var buffers = network.Buffers.ToArray();
            var counters = network.Counters.ToArray();
            var output = new float[batch * network.Layout.Output.Length];
            network.Forward(input, output, batch, workspace, training: true);
            buffers.CopyTo(network.Buffers); // every pass starts from the same running statistics
            counters.CopyTo(network.Counters);
            var parameters = Enumerable.Repeat(start, network.Layout.ParameterCount).ToArray();
            var inputGradient = wantInput ? new float[input.Length] : Array.Empty<float>();
            network.Backward(outputGradient, parameters, workspace, inputGradient);
            return (parameters, inputGradient, workspace);
        }

        /// <summary>The masked pass's trainable gradients (starting from zero) against the reference interpreter's.</summary>
        private static void AssertTrainableMatchInterpreter(INetwork network, ParameterMask mask, float[] input, float[] outputGradient, int batch, string what)
        {
            var fromZero = Pass(network, mask, input, outputGradient, batch, start: 0f);
            var interpreter = new ReferenceInterpreter(network.Layout);
            var dropout = new CnnRandom(3);
            interpreter.ForwardFloat(network.Parameters, network.Buffers.ToArray(), network.Counters.ToArray(), input, batch, true, ref dropout);
            var (expected, _) = interpreter.Backward(network.Parameters, Array.ConvertAll(outputGradient, v => (double)v));
            foreach (var (offset, length) in mask.TrainableRanges)
            {
                var actual = fromZero.Parameters.AsSpan(offset, length).ToArray();
                Compare.Close(actual, expected.AsSpan(offset, length).ToArray().Select(v => (float)v).ToArray(), 1e-4, what);
            }
        }

        /// <summary>Frozen tensors' gradients are left as they were; trainable ones are bit for bit the full pass's.</summary>
        private static void AssertSkippedExactly(INetwork network, ParameterMask mask, float[] full, float[] masked, string what)
        {
            foreach (var tensor in network.Layout.Tensors.Where(t => t.Block == TensorBlock.Parameters))
            {
                var actual = masked.AsSpan(tensor.Offset, tensor.Length).ToArray();
                if (mask.IsFrozen(tensor.Name))
                    Assert.True(actual.All(v => v == Sentinel), $"{what}: frozen {tensor.Name} got a gradient");
                else
                    Assert.True(full.AsSpan(tensor.Offset, tensor.Length).SequenceEqual(actual), $"{what}: trainable {tensor.Name} differs from the full pass");
            }
        }

        [Fact]
        public void FlowStopsBelowTheLowestTrainableLayer()
        {
            var network = new LeNet5();
            var layout = LeNet5.Layout;
            Assert.Equal(Enumerable.Range(0, 12), new GradientFlow(layout).LayersRun);
            // Convolutions frozen: nothing below the first Linear (7) runs; the Linear itself adds its weights' gradient only.
            var convolutions = new GradientFlow(layout, new ParameterMask(network).FreezeLayers(0, 3));
            Assert.Equal(new[] { 7, 8, 9, 10, 11 }, convolutions.LayersRun);
            Assert.True(convolutions.ParameterGradient[7] && !convolutions.InputGradient[7]);
            // Only the head trains: one layer runs, and it passes no gradient on.
            var head = new GradientFlow(layout, new ParameterMask(network).FreezeLayers(Enumerable.Range(0, 11).ToArray()));
            Assert.Equal(new[] { 11 }, head.LayersRun);
            Assert.False(head.InputGradient[11]);
            // A trainable first layer under frozen ones: everything above it passes the gradient down, frozen parameters get none.
            var bottom = new GradientFlow(layout, new ParameterMask(network).FreezeLayers(3, 7, 9, 11));
            Assert.Equal(Enumerable.Range(0, 12), bottom.LayersRun);
            Assert.False(bottom.ParameterGradient[3] || bottom.ParameterGradient[7] || bottom.ParameterGradient[11]);
            Assert.True(bottom.InputGradient[11] && bottom.InputGradient[1] && !bottom.InputGradient[0]);
            Assert.Contains("skipped: 0, 1, 2, 3, 4, 5, 6", convolutions.ToString());
        }

        [Fact]
        public void GraphFlowFollowsEveryPathFromTheInput()
        {
            var network = new ResNet8();
            var layout = ResNet8.Layout;
            int Index(string path) => layout.Layers.Single(l => l.Path == path).Index;
            // Stem and first block frozen, the second block's body frozen but its projection shortcut trainable.
            var mask = new ParameterMask(network).FreezeLayers(0, 1, 3).FreezePrefix("5.body.").FreezeLayers(7, 11);
            var flow = new GradientFlow(layout, mask);
            foreach (var layer in layout.Layers.Where(l => l.Path.StartsWith("5.body.", StringComparison.Ordinal)))
                Assert.False(flow.Runs(layer.Index), layer.Path);
            Assert.True(flow.ParameterGradient[Index("5.shortcut.0")] && !flow.InputGradient[Index("5.shortcut.0")]);
            // Above the trainable shortcut every layer passes the gradient down, whether or not it trains.
            foreach (var layer in layout.Layers.Where(l => l.Index > Index("5.shortcut.1")))
                Assert.True(flow.InputGradient[layer.Index], layer.Path);
            Assert.False(flow.ParameterGradient[Index("7.body.0")]);
            Assert.All(Enumerable.Range(0, Index("5.body.0")), i => Assert.False(flow.Runs(i)));
        }

        /// <summary>
        /// The skipping is real: with only the head trainable, the backward pass writes nothing into the gradient array that
        /// would take the head's input gradient (which the full pass does write).
        /// </summary>
        [Fact]
        public void SkippedLayersWriteNothing()
        {
            const int batch = 4;
            var network = new LeNet5();
            network.ResetParameters(1);
            var input = Random(batch * LeNet5.InputLength, 2, 0, 1);
            var outputGradient = Random(batch * LeNet5.OutputLength, 3);
            var mask = new ParameterMask(network).FreezeLayers(Enumerable.Range(0, 11).ToArray());
            void Poison(NetworkWorkspace workspace)
            {
                var w = (LeNet5.Workspace)workspace;
                w.GradientA.AsSpan().Fill(Sentinel);
                w.GradientB.AsSpan().Fill(Sentinel);
            }
            var full = Pass(network, null, input, outputGradient, batch, beforeForward: Poison);
            var masked = Pass(network, mask, input, outputGradient, batch, beforeForward: Poison);
            Assert.Contains(((LeNet5.Workspace)full.Workspace).GradientB.AsSpan().ToArray(), v => v != Sentinel);
            Assert.All(((LeNet5.Workspace)masked.Workspace).GradientB.AsSpan().ToArray(), v => Assert.Equal(Sentinel, v));
            Assert.All(((LeNet5.Workspace)masked.Workspace).GradientA.AsSpan(batch * LeNet5.OutputLength).ToArray(), v => Assert.Equal(Sentinel, v));
            AssertSkippedExactly(network, mask, full.Parameters, masked.Parameters, "LeNet5 head only");

            // The same in a graph: with only the Linear head trainable, no block's gradient array is touched.
            var resnet = new ResNet8();
            resnet.ResetParameters(2);
            var resnetInput = Random(2 * ResNet8.InputLength, 4);
            var resnetGradient = Random(2 * ResNet8.OutputLength, 5);
            var resnetMask = new ParameterMask(resnet).FreezeLayers(Enumerable.Range(0, 11).ToArray());
            var blockArrays = typeof(ResNet8.Workspace).GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
                .Where(f => f.Name.StartsWith("GradientOf", StringComparison.Ordinal) || f.Name == "GradientB").ToList();
            Assert.True(blockArrays.Count > 3);
            void PoisonGraph(NetworkWorkspace workspace) { foreach (var field in blockArrays) ((AlignedBuffer)field.GetValue(workspace)!).AsSpan().Fill(Sentinel); }
            var resnetFull = Pass(resnet, null, resnetInput, resnetGradient, 2, beforeForward: PoisonGraph);
            var resnetMasked = Pass(resnet, resnetMask, resnetInput, resnetGradient, 2, beforeForward: PoisonGraph);
            // The full pass writes the block boundaries' gradient arrays; the masked pass only the output's, which takes the output gradient.
            List<string> Touched(NetworkWorkspace workspace) => blockArrays.Where(f => ((AlignedBuffer)f.GetValue(workspace)!).AsSpan().ToArray().Any(v => v != Sentinel)).Select(f => f.Name).ToList();
            var touchedByFull = Touched(resnetFull.Workspace);
            var touchedByMasked = Touched(resnetMasked.Workspace);
            Assert.True(touchedByFull.Count > 5, string.Join(", ", touchedByFull));
            Assert.Single(touchedByMasked);
            Assert.Contains(touchedByMasked[0], touchedByFull);
            AssertSkippedExactly(resnet, resnetMask, resnetFull.Parameters, resnetMasked.Parameters, "ResNet8 head only");
        }

        /// <summary>Fixture networks under several masks: trainable gradients bit-identical to the full pass, frozen ones not written.</summary>
        [Fact]
        public void FixtureNetworksUnderMasksKeepTheTrainableGradients()
        {
            var cases = new (INetwork Network, string[] Prefixes)[]
            {
                (new LeNet5(), new[] { "0.", "3." }),
                (new LeNet5(), new[] { "3.", "9." }),
                (new BatchNormNet(), new[] { "0.", "1.", "4." }),
                (new BatchNormNet(), new[] { "5.", "8." }),
                (new ResNet8(), new[] { "0.", "1.", "3.", "5.body." }),
                (new ResNet8(), new[] { "5.shortcut.", "7.body.0.", "11." }),
                (new MobileNetV2(), new[] { "0.", "1." }),
                (new Inception(), new[] { "0." }),
                (new UNet(), new[] { "0." }),
            };
            foreach (var (network, prefixes) in cases)
            {
                string what = network.GetType().Name + " frozen " + string.Join(" ", prefixes);
                network.ResetParametersForTest(6);
                var mask = new ParameterMask(network);
                foreach (var prefix in prefixes) mask.FreezePrefix(prefix);
                var input = Random(2 * network.Layout.Input.Length, 7);
                var outputGradient = Random(2 * network.Layout.Output.Length, 8);
                var full = Pass(network, null, input, outputGradient, 2);
                var masked = Pass(network, mask, input, outputGradient, 2);
                AssertSkippedExactly(network, mask, full.Parameters, masked.Parameters, what);
                AssertTrainableMatchInterpreter(network, mask, input, outputGradient, 2, what);
                // Asked for the input gradient, the masked pass runs all the way down and gives the full pass's.
                var fullInput = Pass(network, null, input, outputGradient, 2, wantInput: true);
                var maskedInput = Pass(network, mask, input, outputGradient, 2, wantInput: true);
                Assert.Equal(fullInput.Input, maskedInput.Input);
                AssertSkippedExactly(network, mask, fullInput.Parameters, maskedInput.Parameters, what + " with the input gradient");
                _output.WriteLine(what + ": " + masked.Workspace.GradientFlow);
            }
        }

        /// <summary>
        /// Layers whose backward runs over the batch by taps (3x3 on 3x3) or splits (5x5 on 7x7: the weight gradient over the
        /// batch, the input gradient a sample at a time) frozen with a trainable layer below: the input gradient still flows
        /// through them, their own gradients are not written, and the trainable gradients match the full pass and the interpreter.
        /// </summary>
        [Fact]
        public void LayersOverTheBatchAndSplitUnderMasks()
        {
            var layers = new[]
            {
                LayerSpec.Conv2d(64, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(192, 5, stride: 1, padding: 2), LayerSpec.ReLU(),
                LayerSpec.Conv2d(64, 5, stride: 1, padding: 2, bias: false), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var spec = new RandomNetwork("SplitMaskNet", TensorShape.Spatial(8, 7, 7), layers);
            string source = "using CnnGen;\nnamespace SplitMask;\n" + spec.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(2, generated.Split("The weight gradient over the batch by taps, the input gradient a sample at a time").Length - 1);
            Assert.Contains("Layer7Conv2dBackwardOverBatch(", generated); // 64 -> 128 on 3x3
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            var network = assembly.CreateNetwork("SplitMask." + spec.Name);
            foreach (var frozen in new[] { new[] { 2 }, new[] { 4, 7 }, new[] { 2, 4, 7 } })
            {
                network.ResetParametersForTest(5);
                var mask = new ParameterMask(network).FreezeLayers(frozen);
                var input = Random(3 * network.Layout.Input.Length, 9);
                var outputGradient = Random(3 * network.Layout.Output.Length, 10);
                var full = Pass(network, null, input, outputGradient, 3);
                var masked = Pass(network, mask, input, outputGradient, 3);
                string what = "frozen layers " + string.Join(", ", frozen);
                AssertSkippedExactly(network, mask, full.Parameters, masked.Parameters, what);
                AssertTrainableMatchInterpreter(network, mask, input, outputGradient, 3, what);
            }
        }

        /// <summary>Random graphs with random masks against the reference interpreter and the full pass.</summary>
        [Fact]
        public void RandomGraphsUnderRandomMasksMatchTheInterpreter()
        {
            const int batch = 3;
            var networks = Enumerable.Range(0, 40).Select(RandomGraphs.Create).ToArray();
            var source = new StringBuilder("using CnnGen;\nnamespace FrozenGraph;\n");
            foreach (var network in networks) source.Append("#pragma warning disable CNN0015, CNN0020\n").Append(network.Declaration()).Append('\n');
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            var random = new CnnRandom(21);
            int skippedLayers = 0, layers = 0;
            foreach (var spec in networks)
            {
                var network = assembly.CreateNetwork("FrozenGraph." + spec.Name);
                var layout = network.Layout;
                network.ResetParametersForTest(7);
                var mask = new ParameterMask(network);
                // Half the time the bottom of the network, otherwise any layer, each with probability one half.
                int bottom = random.NextFloat() < 0.5f ? (int)(random.NextFloat() * layout.Layers.Count) : -1;
                foreach (var layer in layout.Layers.Where(l => l.ParameterCount > 0))
                    if (layer.Index < bottom || (bottom < 0 && random.NextFloat() < 0.5f)) mask.FreezePrefix(layer.Path + ".");
                var input = Random(batch * layout.Input.Length, 11, -2, 2);
                var outputGradient = Random(batch * layout.Output.Length, 12);
                var full = Pass(network, null, input, outputGradient, batch);
                var masked = Pass(network, mask, input, outputGradient, batch);
                string what = spec.Name + " frozen " + string.Join(", ", mask.FrozenKeys) + "\n" + spec.Declaration();
                AssertSkippedExactly(network, mask, full.Parameters, masked.Parameters, what);

                AssertTrainableMatchInterpreter(network, mask, input, outputGradient, batch, what);
                skippedLayers += layout.Layers.Count - masked.Workspace.GradientFlow.LayersRun.Count;
                layers += layout.Layers.Count;
            }
            _output.WriteLine($"{networks.Length} graphs: {skippedLayers} of {layers} layers skipped by their masks");
            Assert.True(skippedLayers > layers / 10);
        }

        [Fact]
        public void AMaskedStepAllocatesNothing()
        {
            var network = new LeNet5();
            var optimizer = new Sgd(LeNet5.ParameterCount, 0.01f, momentum: 0.9f);
            var mask = optimizer.Freeze(new ParameterMask(network).FreezeLayers(0, 3));
            var images = Random(8 * LeNet5.InputLength, 1, 0, 1);
            var labels = Enumerable.Range(0, 8).Select(i => i % 10).ToArray();
            using var trainer = new Trainer(network, optimizer, 8, threads: 1);
            // In rounds, as the other allocation tests: a one-off allocation by the runtime tiering a method up mid-measurement
            // failed this once; an allocation on every masked step shows in every round.
            Allocations.AssertNone(() => trainer.TrainStep(images, labels), calls: 5);
            // A change of the mask reaches the next step.
            mask.FreezeLayers(7);
            var frozen = network.Layer7Weight.ToArray();
            trainer.TrainStep(images, labels);
            Assert.Equal(frozen, network.Layer7Weight.ToArray());
        }
    }
}
