using System;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Kernels;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Evaluation folds batch-norm into the convolutions once per change of the weights, into the workspace. Every path that
    /// writes parameters or running statistics must make the next evaluation forward refold: each test warms a workspace up
    /// (so its folded copy is stamped), changes the weights one way, and checks the next evaluation against
    /// <c>ForwardForGradients</c>, which runs batch-norm unfused on the current weights. Likewise the Linear weights evaluation
    /// keeps transposed for batch 1 (LeNet-5, run at batch 1 here; <c>ForwardForGradients</c> reads PyTorch's layout) and packed
    /// for batches (PackedLinearNet, at 12 samples) and, where the layer is too large to transpose, for batch 1 too
    /// (WideLinearNet, at 1 sample).
    /// </summary>
    /// <summary>Linear layers whose weights evaluation over a batch of 9 or more keeps packed into the GEMM's panels.</summary>
    [Network(2, 6, 6)]
    [Flatten] [Linear(70)] [ReLU] [Linear(20)] [ReLU] [Linear(5)]
    public partial class PackedLinearNet { }

    /// <summary>A Linear layer too large to be transposed for batch 1 (784 x 192 floats, 588 KB): evaluation of one sample reads its weights packed into the GEMM's panels.</summary>
    [Network(1, 28, 28)]
    [Flatten] [Linear(192)] [ReLU] [Linear(10)]
    public partial class WideLinearNet { }

    /// <summary>
    /// Stride-2 layers without batch-norm whose activations evaluation fuses: their weights prepared for the strided kernels
    /// (packed, or Winograd-transformed: 16 -> 32 on 8x8) once per change of the weights, and handed from one Winograd layer to the next.
    /// </summary>
    [Network(3, 16, 16)]
    [Conv2d(16, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1)] [LeakyReLU(0.1)]
    [Flatten] [Linear(4)]
    public partial class StridedNoBatchNormNet { }

    /// <summary>
    /// Strided layers that absorb nothing (a ConvNeXt-style patchify stem, two 3x3 stride-2 layers in a row, which may hand
    /// their maps on in the Winograd kernel's layout, a 3x3 stride-2 layer and a 1x1 shortcut before a residual join):
    /// evaluation runs them on weights prepared once per change of the weights, not packed per call.
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 2, Stride = 2)]
    [Residual] [Conv2d(16, 3, Padding = 1, Groups = 16)] [Conv2d(16, 1)] [ReLU] [End]
    [Conv2d(16, 3, Stride = 2, Padding = 1)]
    [Conv2d(32, 3, Stride = 2, Padding = 1)]
    [Residual] [Conv2d(48, 3, Stride = 2, Padding = 1, Bias = false)] [Shortcut] [Conv2d(48, 1, Stride = 2)] [End]
    [Flatten] [Linear(4)]
    public partial class StridedAbsorbingNothingNet { }

    /// <summary>
    /// Transposed 4x4 stride-2 layers (a DCGAN-style generator's): where the runtime runs them by Winograd, evaluation keeps
    /// their filters prepared once per change of the weights.
    /// </summary>
    [Network(8, 4, 4)]
    [ConvTranspose2d(32, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [ConvTranspose2d(16, 4, Stride = 2, Padding = 1)] [Tanh]
    [Flatten] [Linear(4)]
    public partial class TransposedGeneratorNet { }

    /// <summary>
    /// 1x7 and 3x1 layers from 16 channels (Inception-style), one with batch-norm folded in, one with only a ReLU: where the
    /// runtime runs them by a one-dimensional Winograd, evaluation keeps their filters prepared once per change of the
    /// weights (from the folded ones for the first).
    /// </summary>
    [Network(16, 12, 12)]
    [Conv2d(32, 1, 7, PaddingHeight = 0, PaddingWidth = 3, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(16, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]
    [Flatten] [Linear(4)]
    public partial class LineFiltersNet { }

    public sealed class WeightVersionTests
    {
        private const int Batch = 3;

        // LeNet-5's transposed Linear weights serve batch 1 only: its tests run there. PackedLinearNet's packed weights serve
        // batches of 9 or more.
        private static int BatchOf(INetwork network) => network switch { LeNet5 => 1, WideLinearNet => 1, PackedLinearNet => 12, _ => Batch };

        // LineFiltersNet's F(4, 7) rounds the folded weights' products differently from the unfused ones' by up to about 1e-5
        // of its outputs; stale filters would be off by more than 1e-4 (each test checks the change moves them that far).
        private static double ToleranceOf(INetwork network) => network is LineFiltersNet ? 3e-5 : 1e-5;

        /// <summary>Every parameter and running statistic drawn from <paramref name="seed"/>: batch-norm far from the identity.</summary>
        private static void Randomize(INetwork network, ulong seed)
        {
            var random = new CnnRandom(seed);
            var parameters = network.Parameters;
            for (int i = 0; i < parameters.Length; i++) parameters[i] = (random.NextFloat() - 0.5f) * 0.6f;
            var buffers = network.Buffers;
            // Running means in [-0.5, 0.5), variances in [0.25, 1.25): each buffer block is means then variances per layer.
            foreach (var layer in network.Layout.Layers)
            {
                if (layer.BufferCount == 0) continue;
                int channels = layer.BufferCount / 2;
                for (int c = 0; c < channels; c++)
                {
                    buffers[layer.BufferOffset + c] = random.NextFloat() - 0.5f;
                    buffers[layer.BufferOffset + channels + c] = 0.25f + random.NextFloat();
                }
            }
        }

        private static float[] Input(INetwork network, ulong seed)
        {
            var random = new CnnRandom(seed);
            var input = new float[BatchOf(network) * network.Layout.Input.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            return input;
        }

        private static float[] Evaluate(INetwork network, float[] input, NetworkWorkspace workspace)
        {
            var output = new float[BatchOf(network) * network.Layout.Output.Length];
            network.Forward(input, output, BatchOf(network), workspace);
            return output;
        }

        /// <summary>The evaluation output on the current weights, batch-norm unfused, from a workspace of its own.</summary>
        private static float[] Unfused(INetwork network, float[] input)
        {
            var output = new float[BatchOf(network) * network.Layout.Output.Length];
            network.ForwardForGradients(input, output, BatchOf(network), network.CreateWorkspace(BatchOf(network)));
            return output;
        }

        /// <summary>
        /// Warms <paramref name="workspace"/> up on the current weights, runs <paramref name="change"/>, and checks that the next
        /// evaluation on the same workspace follows the new weights (and that they are new).
        /// </summary>
        private static void AssertNextEvaluationFollows(INetwork network, NetworkWorkspace workspace, Action change)
        {
            var input = Input(network, 11);
            var before = Evaluate(network, input, workspace);
            Compare.Close(before, Unfused(network, input), ToleranceOf(network), "evaluation before the change");
            change();
            var expected = Unfused(network, input);
            Assert.True(Compare.MaxError(before, expected) > 1e-4, "the change must move the outputs well past the tolerance, or the test shows nothing: " + Compare.MaxError(before, expected));
            Compare.Close(Evaluate(network, input, workspace), expected, ToleranceOf(network), "evaluation after the change");
        }

        public static TheoryData<string> Networks => new() { nameof(MobileNetV2), nameof(ResNet8), nameof(BatchNormNet), nameof(LeNet5), nameof(PackedLinearNet), nameof(WideLinearNet), nameof(WinogradNet), nameof(Winograd5Net), nameof(StridedNoBatchNormNet), nameof(BlockedChainNoBatchNormNet), nameof(StridedAbsorbingNothingNet), nameof(TransposedGeneratorNet), nameof(LineFiltersNet) };

        public static TheoryData<string> NetworksWithRunningStatistics => new() { nameof(MobileNetV2), nameof(ResNet8), nameof(BatchNormNet) };

        private static INetwork Create(string name, ulong seed)
        {
            INetwork network = name switch
            {
                nameof(MobileNetV2) => new MobileNetV2(),
                nameof(ResNet8) => new ResNet8(),
                nameof(WinogradNet) => new WinogradNet(),
                nameof(Winograd5Net) => new Winograd5Net(),
                nameof(LeNet5) => new LeNet5(),
                nameof(PackedLinearNet) => new PackedLinearNet(),
                nameof(WideLinearNet) => new WideLinearNet(),
                nameof(StridedNoBatchNormNet) => new StridedNoBatchNormNet(),
                nameof(StridedAbsorbingNothingNet) => new StridedAbsorbingNothingNet(),
                nameof(BlockedChainNoBatchNormNet) => new BlockedChainNoBatchNormNet(),
                nameof(TransposedGeneratorNet) => new TransposedGeneratorNet(),
                nameof(LineFiltersNet) => new LineFiltersNet(),
                _ => new BatchNormNet(),
            };
            Randomize(network, seed);
            return network;
        }

        [Fact]
        public void StridedLayersAbsorbingNothing_EvaluateOnPreparedWeights()
        {
            // (An 8x8 output: one sample's tiles make a GEMM, so the layer runs a sample at a time; GroupedStridedBiasNet's groups.)
            string source = Infrastructure.GeneratorHarness.GeneratedSources("using CnnGen;\nnamespace Prepared;\n[Network(3, 32, 32)]\n[Conv2d(32, 2, Stride = 2)]\n"
                + "[Conv2d(48, 3, Stride = 2, Padding = 1, Bias = false)]\n[Flatten]\n[Linear(4)]\npublic partial class Net { }").Single(s => s.Key.Contains("Net")).Value;
            // Prepared once per change of the weights into the pass's arrays; evaluation calls a method of its own on them.
            Assert.Contains("global::CnnGen.Kernels.StridedConvolution.Prepare(parameters.Slice(0, 384), parameters.Slice(384, 32), 3, 32, 32, 32, 2, 2, 0, workspace.Layer0PassWeights);", source);
            Assert.Contains("global::CnnGen.Kernels.StridedConvolution.Prepare(parameters.Slice(416, 13824), default, 32, 16, 16, 48, 3, 2, 1, workspace.Layer1PassWeights);", source);
            Assert.Contains("Layer0Conv2dPrepared(callerInput.Slice(n * 3072, 3072), ", source);
            Assert.Contains("private static void Layer1Conv2dPrepared(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<float> p, global::System.Span<float> columns)", source);
        }

        [Theory, MemberData(nameof(Networks))]
        public void LoadingAWeightFileRefolds(string name)
        {
            var network = Create(name, 1);
            var other = Create(name, 2);
            var bytes = SaveToBytes(other);
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => NetworkWeights.Load(network, bytes, "other"));
        }

        [Theory, MemberData(nameof(Networks))]
        public void PartialLoadRefolds(string name)
        {
            var network = Create(name, 1);
            var bytes = SaveToBytes(Create(name, 3));
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => NetworkWeights.LoadPartial(network, bytes, "other"));
        }

        [Theory, MemberData(nameof(Networks))]
        public void AnOptimizerStepOnTheParametersRefolds(string name)
        {
            var network = Create(name, 1);
            var optimizer = new Sgd(network.Layout.ParameterCount, learningRate: 0.5f);
            var gradients = new float[network.Layout.ParameterCount];
            var random = new CnnRandom(5);
            for (int i = 0; i < gradients.Length; i++) gradients[i] = random.NextFloat() - 0.5f;
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => optimizer.Step(network.Parameters, gradients));
        }

        [Theory, MemberData(nameof(Networks))]
        public void ATrainStepRefolds_WeightsAndRunningStatistics(string name)
        {
            var network = Create(name, 1);
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, learningRate: 0.5f), batchCapacity: 4, threads: 1);
            var images = new float[4 * network.Layout.Input.Length];
            var random = new CnnRandom(6);
            for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
            var labels = new[] { 0, 1, 2, 3 };
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => trainer.TrainStep(images, labels));
        }

        [Theory, MemberData(nameof(Networks))]
        public void ATrainingPassOnTheSameWorkspace_LeavesEvaluationOnItsOwnFilters(string name)
        {
            // Training and backward write the 3x3 layers' Winograd filters from the raw (and the turned) weights into the
            // arrays evaluation keeps its folded weights' filters in: the next evaluation must transform again, though the
            // weights did not change.
            // (Nothing here may take Parameters or Buffers: that alone would change the version. A batch-norm network's training
            // forward changes it too, for the running statistics; the network without batch-norm is the one this tells about.)
            var network = Create(name, 1);
            var workspace = network.CreateWorkspace(BatchOf(network));
            var input = Input(network, 13);
            Evaluate(network, input, workspace);
            var output = new float[BatchOf(network) * network.Layout.Output.Length];
            network.Forward(input, output, BatchOf(network), workspace, training: true);
            var outputGradient = new float[output.Length];
            Array.Fill(outputGradient, 0.25f);
            network.Backward(outputGradient, new float[network.Layout.ParameterCount], workspace, new float[input.Length]);
            Assert.Equal(Evaluate(network, input, network.CreateWorkspace(BatchOf(network))), Evaluate(network, input, workspace));
        }

        [Theory, MemberData(nameof(NetworksWithRunningStatistics))]
        public void ATrainingForwardMovesTheRunningStatisticsAndRefolds(string name)
        {
            var network = Create(name, 1);
            var trainingWorkspace = network.CreateWorkspace(Batch);
            var input = Input(network, 12);
            var parameters = network.Parameters.ToArray();
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () =>
            {
                // Momentum 0.1 moves the running statistics a little per step: a few steps of inputs far from them.
                for (int i = 0; i < 20; i++) network.Forward(Array.ConvertAll(input, v => 4f * v + 1f), new float[Batch * network.Layout.Output.Length], Batch, trainingWorkspace, training: true);
            });
            Assert.Equal(parameters, network.Parameters.ToArray()); // only the running statistics moved
        }

        [Theory, MemberData(nameof(Networks))]
        public void ResetParametersRefolds(string name)
        {
            var network = Create(name, 1);
            AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => Reset(network, 7));
        }

        [Fact]
        public void WritingThroughATensorViewRefolds()
        {
            var network = (BatchNormNet)Create(nameof(BatchNormNet), 1);
            var workspace = network.CreateWorkspace(Batch);
            AssertNextEvaluationFollows(network, workspace, () => network.Layer0Weight.Fill(0.2f));        // the convolution's weights
            AssertNextEvaluationFollows(network, workspace, () => network.Layer1RunningMean.Fill(-1.5f)); // the running mean of its batch-norm
        }

        [Fact]
        public void ASpanHeldAcrossAForwardNeedsParametersChanged_WhichRefolds()
        {
            var network = (MobileNetV2)Create(nameof(MobileNetV2), 1);
            var workspace = network.CreateWorkspace(Batch);
            var input = Input(network, 11);
            var parameters = network.Parameters;
            long version = network.ParameterVersion;
            Evaluate(network, input, workspace);
            Assert.Equal(version, network.ParameterVersion); // evaluation writes nothing
            parameters.Slice(0, 432).Fill(0.3f);            // the convolution's weights, through the span taken before the forward
            network.ParametersChanged();
            Assert.NotEqual(version, network.ParameterVersion);
            Compare.Close(Evaluate(network, input, workspace), Unfused(network, input), 1e-5, "after ParametersChanged");
        }

        [Fact]
        public void RestoringACheckpointRefolds()
        {
            var network = Create(nameof(MobileNetV2), 1);
            var optimizer = new Sgd(network.Layout.ParameterCount, learningRate: 0.1f, momentum: 0.9f);
            string path = Path.Combine(Path.GetTempPath(), "cnngen-version-" + Guid.NewGuid().ToString("N") + ".safetensors");
            try
            {
                TrainingCheckpoint.Save(path, Create(nameof(MobileNetV2), 4), optimizer, epoch: 3);
                AssertNextEvaluationFollows(network, network.CreateWorkspace(BatchOf(network)), () => TrainingCheckpoint.Load(path, network, optimizer));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void ARolledBackStepLeavesEvaluationOnTheOldWeights()
        {
            var network = Create(nameof(MobileNetV2), 1);
            var workspace = network.CreateWorkspace(Batch);
            var input = Input(network, 11);
            var before = Evaluate(network, input, workspace);
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, learningRate: 0.1f), batchCapacity: 4, threads: 1);
            var images = new float[4 * network.Layout.Input.Length];
            Array.Fill(images, float.NaN); // the loss is not finite: the step, and the running statistics it moved, are rolled back
            Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(images, new[] { 0, 1, 2, 3 }));
            Assert.Equal(before, Evaluate(network, input, workspace));
            Compare.Close(before, Unfused(network, input), 1e-5, "after the rollback");
        }

        [Fact]
        public void AModelHostSwapRefoldsAWorkspaceMadeForTheOldNetwork()
        {
            var host = new ModelHost<MobileNetV2>((MobileNetV2)Create(nameof(MobileNetV2), 1));
            var workspace = host.Current.CreateWorkspace(Batch);
            var input = Input(host.Current, 11);
            var before = Evaluate(host.Current, input, workspace);
            host.Update(network => Randomize(network, 8)); // a copy, changed, swapped in
            var expected = Unfused(host.Current, input);
            Assert.True(Compare.MaxError(before, expected) > 1e-3, "the swap must change the outputs, or the test shows nothing");
            Compare.Close(Evaluate(host.Current, input, workspace), expected, 1e-5, "after the swap");
        }

        [Fact]
        public void AWorkspaceMovedBetweenTwoNetworksFollowsEach()
        {
            var a = (MobileNetV2)Create(nameof(MobileNetV2), 1);
            var b = (MobileNetV2)Create(nameof(MobileNetV2), 2);
            var workspace = a.CreateWorkspace(Batch);
            var input = Input(a, 11);
            for (int round = 0; round < 2; round++)
            {
                Compare.Close(Evaluate(a, input, workspace), Unfused(a, input), 1e-5, "network a");
                Compare.Close(Evaluate(b, input, workspace), Unfused(b, input), 1e-5, "network b");
            }
        }

        [Fact]
        public void LeNet5_WritingThroughATensorViewOrAHeldSpanRetransposes()
        {
            var network = (LeNet5)Create(nameof(LeNet5), 1);
            var workspace = network.CreateWorkspace(1);
            AssertNextEvaluationFollows(network, workspace, () => network.Layer7Weight.Fill(0.01f)); // the first Linear's weights
            AssertNextEvaluationFollows(network, workspace, () => network.Layer9Bias.Fill(-0.3f));   // the second's bias
            var input = Input(network, 11);
            var parameters = network.Parameters;
            var before = Evaluate(network, input, workspace);
            parameters.Slice(LeNet5.Layout.Layers[7].ParameterOffset, 400).Fill(0.2f); // through the span taken before the forward
            network.ParametersChanged();
            var expected = Unfused(network, input);
            Assert.True(Compare.MaxError(before, expected) > 1e-4, "the change must move the outputs: " + Compare.MaxError(before, expected));
            Compare.Close(Evaluate(network, input, workspace), expected, 1e-5, "after ParametersChanged");
        }

        [Fact]
        public void LeNet5_AWorkspaceMovedBetweenTwoNetworksFollowsEach_AndBatch1AgreesWithLargerBatches()
        {
            var a = (LeNet5)Create(nameof(LeNet5), 1);
            var b = (LeNet5)Create(nameof(LeNet5), 2);
            var workspace = a.CreateWorkspace(2);
            var input = Input(a, 11);
            for (int round = 0; round < 2; round++)
            {
                Compare.Close(Evaluate(a, input, workspace), Unfused(a, input), 1e-5, "network a");
                Compare.Close(Evaluate(b, input, workspace), Unfused(b, input), 1e-5, "network b");
            }
            // Batch 2 takes the GEMM on PyTorch's layout: each sample agrees with batch 1 on the transposed weights.
            var pair = new float[2 * LeNet5.InputLength];
            input.CopyTo(pair, 0);
            input.CopyTo(pair, LeNet5.InputLength);
            var outputs = new float[2 * LeNet5.OutputLength];
            a.Forward(pair, outputs, 2, workspace);
            Compare.Close(outputs.AsSpan(0, LeNet5.OutputLength).ToArray(), Evaluate(a, input, workspace), 1e-5, "batch 2, first sample");
            Compare.Close(outputs.AsSpan(LeNet5.OutputLength).ToArray(), Evaluate(a, input, workspace), 1e-5, "batch 2, second sample");
        }

        [Fact]
        public void PackedLinearNetOverABatchAllocatesNothing_AndRepackingNeither()
        {
            var network = Create(nameof(PackedLinearNet), 1);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(12));
        }

        // An evaluation on warm weights allocates nothing, nor one that refreshes the weights it keeps prepared (folded,
        // transposed or packed) after ParametersChanged.
        private static float[] AssertEvaluationAllocatesNothing(INetwork network, NetworkWorkspace workspace)
        {
            int batch = BatchOf(network);
            var input = Input(network, 11);
            var output = new float[batch * network.Layout.Output.Length];
            Allocations.AssertNone(() => network.Forward(input, output, batch, workspace));
            Allocations.AssertNone(() =>
            {
                network.ParametersChanged();
                network.Forward(input, output, batch, workspace);
            });
            return output;
        }

        [Fact]
        public void WideLinearNetAtBatch1ReadsPackedPanels_AllocatingNothing_AndRepackingNeither()
        {
            var network = (WideLinearNet)Create(nameof(WideLinearNet), 1);
            var workspace = network.CreateWorkspace(1);
            Assert.True(workspace.Layer1Packed.Length > 0, "a workspace for one sample holds the large layer's packed panels");
            Assert.Equal(0, workspace.Layer3Packed.Length); // 192 -> 10: ten outputs, the dot products
            var output = AssertEvaluationAllocatesNothing(network, workspace);
            Compare.Close(output, Unfused(network, Input(network, 11)), 1e-5, "batch 1 on the packed panels");
        }

        [Fact]
        public void OnlyLinearLayersTooLargeToTranspose_TakeThePackedPanelsAtBatch1()
        {
            // 784 -> 192 (150,528 weights, past the 131,072 transposed for batch 1) and 784 -> 40 (too few outputs: the dot products
            // win) and 200 -> 100 (transposed).
            const string source = "using CnnGen;\nnamespace Wide;\n[Network(1, 28, 28)] [Flatten] [Linear(192)] [ReLU] [Linear(10)] public partial class A { }\n"
                + "[Network(1, 28, 28)] [Flatten] [Linear(40)] public partial class B { }\n[Network(8, 5, 5)] [Flatten] [Linear(100)] public partial class C { }\n";
            var generated = GeneratorHarness.GeneratedSources(source);
            string Of(string name) => string.Join("\n", generated.Where(g => g.Key.Contains("Wide." + name, StringComparison.Ordinal)).Select(g => g.Value));
            Assert.Contains("if ((batchSize == 1 || batchSize >= 9) && workspace.Layer1Packed.Length != 0)", Of("A"));
            Assert.Contains("if (batchSize >= 9 && workspace.Layer3Packed.Length != 0)", Of("A"));
            Assert.Contains("if (batchSize >= 9 && workspace.Layer1Packed.Length != 0)", Of("B"));
            Assert.DoesNotContain("batchSize == 1 ||", Of("B"));
            Assert.Contains("PreparedLinear.Forward", Of("C"));
            Assert.DoesNotContain("batchSize == 1 ||", Of("C"));
        }

        [Fact]
        public void LeNet5AtBatch1AllocatesNothing_AndRetransposingNeither()
        {
            var network = Create(nameof(LeNet5), 1);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(1));
        }

        [Fact]
        public void EvaluationWithFoldedWeightsAllocatesNothing_AndRefoldingNeither()
        {
            var network = Create(nameof(MobileNetV2), 1);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(Batch));
        }

        [Fact]
        public void EvaluationOfStridedLayersWithoutBatchNorm_AllocatesNothing_AndPreparingNeither()
        {
            var network = Create(nameof(StridedNoBatchNormNet), 1);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(Batch));
        }

        [Fact]
        public void EvaluationOfTransposedLayers_AllocatesNothing_AndPreparingNeither()
        {
            var network = Create(nameof(TransposedGeneratorNet), 1);
            if (TransposedWinogradConvolution.Available) Assert.True(TransposedConvolution.PreparedLength(new TransposedConvolutionGeometry(8, 4, 4, 32, 4, 4, 2, 2, 1, 1, 0, 0)) > 0);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(Batch));
        }

        [Fact]
        public void EvaluationOfLineLayers_AllocatesNothing_AndPreparingNeither()
        {
            var network = Create(nameof(LineFiltersNet), 1);
            if (LineWinogradConvolution.Handles(1, 7) && KernelPaths.Default == DirectConvolution.KernelPath.Vector512)
            {
                Assert.True(GroupedConvolution.PreparedLength(new ConvolutionGeometry(16, 12, 12, 32, 1, 7, 1, 1, 0, 3, 1, 1, 1)) > 0);
                Assert.True(GroupedConvolution.PreparedLength(new ConvolutionGeometry(32, 12, 12, 16, 3, 1, 1, 1, 1, 0, 1, 1, 1)) > 0);
            }
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(Batch));
        }

        [Fact]
        public void LineLayers_EvaluateOnPreparedFilters()
        {
            string source = Infrastructure.GeneratorHarness.GeneratedSources("using CnnGen;\nnamespace Line;\n[Network(16, 12, 12)]\n"
                + "[Conv2d(32, 1, 7, PaddingHeight = 0, PaddingWidth = 3, Bias = false)] [BatchNorm] [ReLU]\n[Conv2d(16, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]\n"
                + "[Conv2d(16, 3, 1, PaddingHeight = 1, PaddingWidth = 0)]\n[Flatten]\n[Linear(4)]\npublic partial class Net { }").Single(s => s.Key.Contains("Net")).Value;
            // Evaluation's: from the folded weights for the first (an array of its own), the parameters for the others, once
            // per change of the weights; the fused methods and the unfused third take them.
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.Prepare(Layer0Geometry, workspace.Layer0Folded, workspace.Layer0LineFilters);", source);
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.Prepare(Layer3Geometry, parameters.Slice(3648, 1536), workspace.Layer3Prepared);", source);
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.ForwardPrepared(Layer0Geometry, x, p.Slice(0, 3584), filters, ", source);
            Assert.Contains("workspace.Layer0Folded, workspace.Layer0LineFilters, workspace.Columns);", source);
            Assert.Contains("workspace.Layer3Prepared, workspace.Columns);", source);
            Assert.DoesNotContain("Layer5LineFilters", source);
            // Training's and backward's, once per pass: the first layer's from its own parameters (the pass's array), and the
            // input gradients' turned filters.
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.Prepare(Layer0Geometry, parameters.Slice(0, 3584), workspace.Layer0Prepared);", source);
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.PrepareInputGradient(Layer3Geometry, parameters.Slice(3648, 1536), workspace.Layer3InputGradientWeights);", source);
            Assert.Contains("global::CnnGen.Kernels.GroupedConvolution.BackwardPrepared(Layer5Geometry, ", source);
        }

        [Fact]
        public void EvaluationOfBlockedChainsWithoutBatchNorm_AllocatesNothing_AndPackingNeither()
        {
            var network = Create(nameof(BlockedChainNoBatchNormNet), 1);
            AssertEvaluationAllocatesNothing(network, network.CreateWorkspace(Batch));
        }

        private static void Reset(INetwork network, ulong seed)
        {
            switch (network)
            {
                case MobileNetV2 m: m.ResetParameters(seed); break;
                case ResNet8 r: r.ResetParameters(seed); break;
                case BatchNormNet b: b.ResetParameters(seed); break;
                case WinogradNet w: w.ResetParameters(seed); break;
                case Winograd5Net w: w.ResetParameters(seed); break;
                case LeNet5 l: l.ResetParameters(seed); break;
                case PackedLinearNet p: p.ResetParameters(seed); break;
                case WideLinearNet w: w.ResetParameters(seed); break;
                case StridedNoBatchNormNet n: n.ResetParameters(seed); break;
                case BlockedChainNoBatchNormNet n: n.ResetParameters(seed); break;
                case StridedAbsorbingNothingNet n: n.ResetParameters(seed); break;
                case TransposedGeneratorNet n: n.ResetParameters(seed); break;
                case LineFiltersNet n: n.ResetParameters(seed); break;
                default: throw new ArgumentException(network.GetType().Name, nameof(network));
            }
        }

        private static byte[] SaveToBytes(INetwork network)
        {
            using var stream = new MemoryStream();
            NetworkWeights.Save(network, stream);
            return stream.ToArray();
        }
    }
}
