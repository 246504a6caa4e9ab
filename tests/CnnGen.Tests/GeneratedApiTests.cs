using System;
using System.Linq;
using System.Threading;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// WinogradNet with a Sigmoid, which runs in place after its layer's kernel and does not keep 0 at 0: that layer hands
    /// nothing on in the Winograd layout (DirectConvolution.ForwardLinked), so its maps are kept, a chunk at a time.
    /// </summary>
    [Network(16, 32, 32)]
    [Conv2d(16, 3, Padding = 1)]
    [Sigmoid]
    [Conv2d(16, 3, Padding = 1)]
    [MaxPool(2)]
    [Flatten]
    [Linear(4)]
    public partial class ChunkedWinogradNet { }

    /// <summary>The generated members as a user meets them: constants, views, errors, allocation, threads.</summary>
    public sealed partial class GeneratedApiTests
    {
        [Fact]
        public void ConstantsAndTableDescribeLeNet5()
        {
            Assert.Equal(784, LeNet5.InputLength);
            Assert.Equal(10, LeNet5.OutputLength);
            Assert.Equal(61_706, LeNet5.ParameterCount);
            Assert.Equal(12, LeNet5.LayerCount);
            Assert.Equal((6, 28, 28), (LeNet5.Layer0Channels, LeNet5.Layer0Height, LeNet5.Layer0Width));
            Assert.Equal(400, LeNet5.Layer6Length);
            // Name (torchinfo's depth-index), state_dict key, shape, params, param bytes, output bytes, mult-adds, receptive field.
            Assert.Contains("\u251c\u2500Conv2d: 1-4".PadRight(40) + "3".PadRight(16) + "[1, 16, 10, 10]".PadRight(20) + "2,416".PadRight(11)
                + "9,664".PadRight(13) + "6,400".PadRight(13) + "240,000".PadRight(14) + "14x14\n", LeNet5.LayerTable);
            Assert.Contains("Total mult-adds: 429,332", LeNet5.LayerTable);
            Assert.Equal(429_332L, LeNet5.MultiplyAdds);
            Assert.Contains("Total params: 61,706", LeNet5.LayerTable);
            // The cost model: weights, workspace, receptive field.
            Assert.Equal(246_824L, LeNet5.ParameterBytes);
            Assert.Contains("Parameter bytes: 246,824", LeNet5.LayerTable);
            Assert.Equal(4L * LeNet5.WorkspaceActivationLength, LeNet5.WorkspaceBytesPerSample);
            Assert.Contains("Peak workspace bytes per sample: " + LeNet5.WorkspaceBytesPerSample.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), LeNet5.LayerTable);
            Assert.Equal((28, 28), (LeNet5.ReceptiveHeight, LeNet5.ReceptiveWidth));
            Assert.Equal(LeNet5.LayerTable, LeNet5.Layout.FormatTable("LeNet5", LeNet5.WorkspaceActivationLength));
        }

        [Fact]
        public void ViewsAreSlicesOfTheParameterBlockInStateDictOrder()
        {
            var network = new BatchNormNet();
            Assert.Equal(new[] { "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias" },
                BatchNormNet.Layout.Tensors.Take(8).Select(t => t.Name));
            network.Layer1Weight[2] = 42f;
            Assert.Equal(42f, network.Parameters[6 * 3 * 3 * 3 + 2]);
            Assert.Equal(1f, network.Layer1RunningVar[0]); // PyTorch starts running variances at 1
            network.Layer1BatchesTracked = 5;
            Assert.Equal(5, network.Counters[0]);
        }

        [Fact]
        public void InitializationIsPyTorchsDefaultFromASeed()
        {
            var a = new LeNet5();
            var b = new LeNet5();
            Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray()); // seed 0 at construction
            a.ResetParameters(123);
            b.ResetParameters(123);
            Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
            b.ResetParameters(124);
            Assert.NotEqual(a.Parameters.ToArray(), b.Parameters.ToArray());

            // Bounds: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
            float conv0 = 1f / MathF.Sqrt(25), linear7 = 1f / MathF.Sqrt(400);
            Assert.All(a.Layer0Weight.ToArray().Concat(a.Layer0Bias.ToArray()), v => Assert.InRange(v, -conv0, conv0));
            Assert.All(a.Layer7Weight.ToArray(), v => Assert.InRange(v, -linear7, linear7));
            Assert.True(a.Layer7Weight.ToArray().Max() > 0.9f * linear7, "the draws should fill the range");

            // The stream is our own: these values hold on every runtime and platform.
            Assert.Equal(a.Parameters[0], new LeNet5().WithSeed(123).Parameters[0]);
        }

        [Fact]
        public void WrongSpanLengthsNameExpectedAndActual()
        {
            var network = new LeNet5();
            var workspace = network.CreateWorkspace(4);
            var error = Assert.Throws<ArgumentException>(() => network.Forward(new float[783], new float[10], workspace));
            Assert.Contains("784", error.Message);
            Assert.Contains("783", error.Message);
            Assert.Equal("input", error.ParamName);
            error = Assert.Throws<ArgumentException>(() => network.Forward(new float[2 * 784], new float[10], 2, workspace));
            Assert.Contains("20", error.Message);
            Assert.Equal("output", error.ParamName);
            Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(new float[5 * 784], new float[50], 5, workspace));
            Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(Array.Empty<float>(), Array.Empty<float>(), 0, workspace));
        }

        [Fact]
        public void BackwardNeedsATrainingForwardAndRunsOncePerForward()
        {
            var network = new LeNet5();
            var workspace = network.CreateWorkspace(2);
            var gradients = new float[LeNet5.ParameterCount];
            var outputGradient = new float[2 * LeNet5.OutputLength];
            Assert.Throws<InvalidOperationException>(() => network.Backward(outputGradient, gradients, workspace));

            network.Forward(new float[2 * 784], new float[20], 2, workspace, training: false);
            Assert.Throws<InvalidOperationException>(() => network.Backward(outputGradient, gradients, workspace));

            network.Forward(new float[2 * 784], new float[20], 2, workspace, training: true);
            Assert.Throws<ArgumentException>(() => network.Backward(new float[10], gradients, workspace));
            network.Backward(outputGradient, gradients, workspace);
            Assert.Throws<InvalidOperationException>(() => network.Backward(outputGradient, gradients, workspace));
        }

        [Fact]
        public void BatchNormTrainingRejectsASingleValuePerChannel()
        {
            var network = new BatchNormNet();
            var workspace = network.CreateWorkspace(1);
            var error = Assert.Throws<ArgumentException>(() => network.Forward(new float[300], new float[4], 1, workspace, training: true));
            Assert.Contains("more than 1 value per channel", error.Message);
        }

        /// <summary>CIFAR's pattern small: batch-norm, ReLU and pooling after each convolution (the benchmark network keeps some batch-norm outputs' arrays).</summary>
        [Network(3, 8, 8)]
        [Conv2d(4, 3, Padding = 1)]
        [BatchNorm]
        [ReLU]
        [Conv2d(4, 3, Padding = 1)]
        [BatchNorm]
        [ReLU]
        [MaxPool(2)]
        [Conv2d(6, 3, Padding = 1)]
        [BatchNorm]
        [ReLU]
        [MaxPool(2)]
        [Flatten]
        [Linear(3)]
        public partial class BatchNormReluNet { }

        [Fact]
        public void TrainingWritesTheReluAfterBatchNormInItsPass_AndSaysItKeepsNoBatchNormOutput()
        {
            var network = new BatchNormReluNet();
            network.ResetParameters(5);
            var random = new CnnRandom(6);
            var input = new float[4 * BatchNormReluNet.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat() * 2 - 1;
            var workspace = network.CreateWorkspace(4);
            var output = new float[4 * BatchNormReluNet.OutputLength];
            var pairs = BatchNormReluNet.Layout.Layers.Where(l => l.Kind == Shapes.LayerKind.BatchNorm).ToList();
            Assert.Equal(3, pairs.Count);
            network.Forward(input, output, 4, workspace, training: true);
            foreach (var batchNorm in pairs)
                Assert.Contains("not kept", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(batchNorm.Index).Length).Message);
            // Unfused (ForwardForGradients) the outputs an array keeps are there again, and the ReLU's is the ReLU of each.
            network.ForwardForGradients(input, output, 4, workspace);
            int seen = 0;
            foreach (var batchNorm in pairs)
            {
                float[] normalized;
                try { normalized = workspace.LayerOutput(batchNorm.Index).ToArray(); }
                catch (InvalidOperationException) { continue; }
                float[] relu = workspace.LayerOutput(batchNorm.Index + 1).ToArray();
                Assert.Equal(normalized.Select(v => v < 0f ? 0f : v).ToArray(), relu);
                seen++;
            }
            Assert.True(seen > 0, "no batch-norm output kept its array: the message for a kept one is not exercised");
        }

        [Fact]
        public void EvaluationFusesConvolutionReluPooling_SameOutputBitForBit_AndSaysWhichOutputsItSkips()
        {
            var network = new LeNet5();
            network.ResetParameters(3);
            var random = new CnnRandom(4);
            var input = new float[5 * LeNet5.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat() * 2 - 1;
            var workspace = network.CreateWorkspace(5);
            var training = new float[5 * LeNet5.OutputLength];
            var evaluation = new float[training.Length];
            network.Forward(input, training, 5, workspace, training: true);
            float[] pooled = workspace.LayerOutput(2).ToArray();
            Assert.Equal(5 * LeNet5.Layer1Length, workspace.LayerOutput(1).Length); // kept in training mode: backward reads it
            // The convolution's output is read by nothing in backward (ReLU's backward reads its own output), so its array is shared.
            Assert.Contains("not kept", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(0).Length).Message);

            network.Forward(input, evaluation, 5, workspace, training: false);
            Assert.Equal(training, evaluation); // LeNet-5 has no dropout or batch-norm: the modes agree exactly
            Assert.Equal(pooled, workspace.LayerOutput(2).ToArray());
            var error = Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(1).Length);
            Assert.Contains("fused into layer 2", error.Message);
            Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(4).Length);
            // Evaluation keeps nothing for backward: a later output takes an array as soon as nothing reads what it holds (the
            // arrays stay in cache), so the first Linear's ReLU is gone and the logits are there.
            var taken = Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(8).Length);
            Assert.Contains("takes its array", taken.Message);
            Assert.Contains("ForwardForGradients", taken.Message);
            Assert.Equal(evaluation, workspace.LayerOutput(11).ToArray());
            network.ForwardForGradients(input, evaluation, 5, workspace);
            Assert.Equal(5 * LeNet5.Layer8Length, workspace.LayerOutput(8).Length);
        }

        /// <summary>
        /// Evaluation takes a large batch a chunk at a time through the convolutions (EvaluationChunk samples, as many as
        /// keep their activations in cache) and the Linear layers over the whole batch: each sample's output is bit for bit
        /// the one it gets alone up to the Linear, and every kept layer output holds the whole batch afterwards, not only the last chunk.
        /// </summary>
        [Fact]
        public void EvaluationInChunks_MatchesOneSampleAtATime_AndKeepsWhatTheLinearReads()
        {
            var network = new ChunkedWinogradNet();
            network.ResetParameters(5);
            const int Batch = 7;
            Assert.InRange(ChunkedWinogradNet.EvaluationChunk, 1, 3); // 7 samples are at least three chunks, the last one short
            var random = new CnnRandom(6);
            var input = new float[Batch * ChunkedWinogradNet.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat() * 2 - 1;
            var workspace = network.CreateWorkspace(Batch);
            var output = new float[Batch * ChunkedWinogradNet.OutputLength];
            network.Forward(input, output, Batch, workspace);

            var flat = ChunkedWinogradNet.Layout.Layers.Single(l => l.Kind == Shapes.LayerKind.Flatten); // what the Linear reads: set aside per chunk
            float[] flattened = workspace.LayerOutput(flat.Index).ToArray();
            Assert.Equal(Batch * flat.Output.Length, flattened.Length);
            var alone = network.CreateWorkspace(1);
            var one = new float[ChunkedWinogradNet.OutputLength];
            for (int n = 0; n < Batch; n++)
            {
                network.Forward(input.AsSpan(n * ChunkedWinogradNet.InputLength, ChunkedWinogradNet.InputLength), one, 1, alone);
                // Up to the Linear bit for bit; the Linear itself runs over the batch (at batch 1 perhaps on transposed weights).
                Assert.Equal(alone.LayerOutput(flat.Index).ToArray(), flattened.AsSpan(n * flat.Output.Length, flat.Output.Length).ToArray());
                Compare.Close(output.AsSpan(n * ChunkedWinogradNet.OutputLength, ChunkedWinogradNet.OutputLength).ToArray(), one, 1e-5, "sample " + n);
            }

            // The Sigmoid's maps (chunked; no later value of evaluation takes their array, while the logits take the pooled
            // maps') hold the last chunk only: asking for them says so, and how to see them all.
            var relu = ChunkedWinogradNet.Layout.Layers.Single(l => l.Kind == Shapes.LayerKind.Sigmoid);
            var overwritten = Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(relu.Index).ToArray());
            Assert.Contains("a chunk at a time", overwritten.Message);
            Assert.Contains("ForwardForGradients", overwritten.Message);
            var pooled = ChunkedWinogradNet.Layout.Layers.Single(l => l.Kind == Shapes.LayerKind.MaxPool);
            Assert.Contains("takes its array", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(pooled.Index).ToArray()).Message);
            // A batch of one chunk is in its places.
            network.Forward(input.AsSpan(0, ChunkedWinogradNet.EvaluationChunk * ChunkedWinogradNet.InputLength), output.AsSpan(0, ChunkedWinogradNet.EvaluationChunk * ChunkedWinogradNet.OutputLength),
                ChunkedWinogradNet.EvaluationChunk, workspace);
            float[] lastRelu = workspace.LayerOutput(relu.Index).ToArray();
            network.Forward(input.AsSpan((ChunkedWinogradNet.EvaluationChunk - 1) * ChunkedWinogradNet.InputLength, ChunkedWinogradNet.InputLength), one, 1, alone);
            Assert.Equal(alone.LayerOutput(relu.Index).ToArray(), lastRelu.AsSpan((ChunkedWinogradNet.EvaluationChunk - 1) * relu.Output.Length).ToArray());

            // A skip reaching past the first Linear would need its chunks kept too: that network goes layer by layer.
            Assert.Equal(0, SkipPastLinearNet.EvaluationChunk);
            Assert.True(LeNet5.EvaluationChunk >= 4);
            Assert.True(ResNet8.EvaluationChunk >= 1);
        }

        /// <summary>
        /// A network the chunks run whole (UNet ends in a feature map, no Linear) writes each chunk's output straight to the
        /// caller's: the outputs are each sample's alone, the last layer's output holds a batch of one chunk as before, and
        /// after several chunks asking for it says it holds the last chunk only.
        /// </summary>
        [Fact]
        public void EvaluationInChunksOfTheWholeNetwork_WritesEachChunkToTheOutput()
        {
            var network = new UNet();
            network.ResetParametersForTest(seed: 4);
            int chunk = UNet.EvaluationChunk, batch = 2 * chunk + 1;
            var last = UNet.Layout.Layers[^1];
            var random = new CnnRandom(9);
            var input = new float[batch * UNet.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-1, 1);
            var workspace = network.CreateWorkspace(batch);
            var output = new float[batch * UNet.OutputLength];
            network.Forward(input, output, batch, workspace, training: false);

            var alone = network.CreateWorkspace(1);
            var one = new float[UNet.OutputLength];
            for (int n = 0; n < batch; n++)
            {
                network.Forward(input.AsSpan(n * UNet.InputLength, UNet.InputLength), one, 1, alone, training: false);
                Assert.Equal(one, output.AsSpan(n * UNet.OutputLength, UNet.OutputLength).ToArray());
                Assert.Equal(one, alone.LayerOutput(last.Index).ToArray());
            }
            Assert.Contains("a chunk at a time", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(last.Index).ToArray()).Message);

            network.Forward(input.AsSpan(0, chunk * UNet.InputLength), output.AsSpan(0, chunk * UNet.OutputLength), chunk, workspace, training: false);
            Assert.Equal(output.AsSpan(0, chunk * UNet.OutputLength).ToArray(), workspace.LayerOutput(last.Index).ToArray());
        }

        /// <summary>
        /// Evaluation reads the caller's input in place where only convolutions read it: <c>workspace.Input</c> is neither
        /// written nor read (NaN there changes nothing), over several chunks (WinogradNet, 3x3 Winograd first) and at batch 1
        /// (MobileNetV2, a stride-2 stem with batch-norm folded), and the outputs are those of <c>ForwardForGradients</c>, which
        /// copies the input there. A network whose first layer is no convolution (PackedLinearNet: a Flatten) still copies it.
        /// </summary>
        [Fact]
        public void Evaluation_ReadsTheCallersInputInPlace_WhereOnlyConvolutionsReadIt()
        {
            var winograd = new WinogradNet();
            winograd.ResetParameters(5);
            int batch = 2 * WinogradNet.EvaluationChunk + 1;
            var winogradWorkspace = winograd.CreateWorkspace(batch);
            Assert.True(ReadsInPlace(winograd, batch, winogradWorkspace, winogradWorkspace.Input));

            var mobile = new MobileNetV2();
            mobile.ResetParametersForTest(seed: 2);
            var mobileWorkspace = mobile.CreateWorkspace(1);
            Assert.True(ReadsInPlace(mobile, 1, mobileWorkspace, mobileWorkspace.Input));

            var linear = new PackedLinearNet();
            linear.ResetParameters(3);
            var linearWorkspace = linear.CreateWorkspace(12);
            Assert.False(ReadsInPlace(linear, 12, linearWorkspace, linearWorkspace.Input));
        }

        // Evaluates a batch with NaN in workspace.Input: whether it stayed there; the outputs against ForwardForGradients'
        // (which copies the input there), and the caller's input unchanged.
        private static bool ReadsInPlace(INetwork network, int batch, NetworkWorkspace workspace, AlignedBuffer workspaceInput)
        {
            int inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
            var random = new CnnRandom(12);
            var input = new float[batch * inLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-1, 1);
            float[] kept = (float[])input.Clone(), output = new float[batch * outLength], unfused = new float[batch * outLength];
            workspaceInput.AsSpan().Fill(float.NaN);
            network.Forward(input, output, batch, workspace, training: false);
            bool untouched = workspaceInput.AsSpan().ToArray().All(float.IsNaN);
            Assert.Equal(kept, input);
            network.ForwardForGradients(input, unfused, batch, workspace);
            Assert.Equal(kept, workspaceInput.AsSpan(0, batch * inLength).ToArray());
            Compare.Close(unfused, output, 1e-4, network.GetType().Name);
            return untouched;
        }

        public static readonly TheoryData<string> ChunkedNetworks = new() { "ResNet8", "MobileNetV2", "Inception", "UNet", "WinogradNet", "WideTailNet", "LeNet5", "SkipPastLinearNet" };

        [Theory]
        [MemberData(nameof(ChunkedNetworks))]
        public void EvaluationOfABatch_EqualsEachSampleAlone(string name)
        {
            // A batch of more samples than a chunk (several chunks, the last one short) against each sample alone: what the
            // chunks share and set aside, and the part run over the whole batch, change nothing (to the Linear layers' rounding).
            // SkipPastLinearNet has no chunks (a skip reaches past its first Linear): all of it runs over the whole batch.
            INetwork network = name switch
            {
                "ResNet8" => new ResNet8(), "MobileNetV2" => new MobileNetV2(), "Inception" => new Inception(), "UNet" => new UNet(),
                "WinogradNet" => new WinogradNet(), "WideTailNet" => new WideTailNet(), "SkipPastLinearNet" => new SkipPastLinearNet(), _ => new LeNet5(),
            };
            int chunk = (int)network.GetType().GetField("EvaluationChunk")!.GetValue(null)!;
            Assert.InRange(chunk, name == "SkipPastLinearNet" ? 0 : 1, 64);
            network.ResetParametersForTest(seed: 3);
            int batch = 2 * chunk + 3, inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
            var random = new CnnRandom(8);
            var input = new float[batch * inLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-1, 1);
            var output = new float[batch * outLength];
            network.Forward(input, output, batch, network.CreateWorkspace(batch), training: false);
            var alone = network.CreateWorkspace(1);
            var one = new float[outLength];
            for (int n = 0; n < batch; n++)
            {
                network.Forward(input.AsSpan(n * inLength, inLength), one, 1, alone, training: false);
                Compare.Close(output.AsSpan(n * outLength, outLength).ToArray(), one, 1e-5, name + " sample " + n);
            }
        }

        [Fact]
        public void WideLayersPastTheWeightBudget_RunOverTheWholeBatch()
        {
            // WideTailNet's 256 -> 256 layer keeps 590 k weights (up to 9 MiB as Winograd filters): the chunks stop before it.
            // After a batch of more than a chunk, the chunked layers' outputs hold the last chunk only; the rest's the batch.
            Assert.InRange(WideTailNet.EvaluationChunk, 1, 1024);
            var layers = WideTailNet.Layout.Layers;
            var wide = layers.Last(l => l.Kind == Shapes.LayerKind.Conv2d);
            var carried = layers[wide.Index - 1];      // the ReLU before it: set aside per chunk
            var pooled = layers.First(l => l.Kind == Shapes.LayerKind.MaxPool); // chunked
            var wideRelu = layers[wide.Index + 1];     // run over the whole batch
            var network = new WideTailNet();
            network.ResetParameters(2);
            int batch = WideTailNet.EvaluationChunk + 1;
            var workspace = network.CreateWorkspace(batch);
            var input = new float[batch * WideTailNet.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (i % 7) * 0.25f - 0.7f + i * 1e-4f;
            network.Forward(input, new float[batch * WideTailNet.OutputLength], batch, workspace);
            Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(pooled.Index).ToArray());
            float[] set = workspace.LayerOutput(carried.Index).ToArray(), wideOut = workspace.LayerOutput(wideRelu.Index).ToArray();
            var alone = network.CreateWorkspace(1);
            foreach (int n in new[] { 0, batch - 1 })
            {
                network.Forward(input.AsSpan(n * WideTailNet.InputLength, WideTailNet.InputLength), new float[WideTailNet.OutputLength], 1, alone);
                Assert.Equal(alone.LayerOutput(carried.Index).ToArray(), set.AsSpan(n * carried.Output.Length, carried.Output.Length).ToArray());
                // Over the batch the wide layer sums tap by tap (one GEMM per kernel tap), a sample alone channel by channel: the
                // same values to rounding.
                Compare.Close(wideOut.AsSpan(n * wideRelu.Output.Length, wideRelu.Output.Length).ToArray(), alone.LayerOutput(wideRelu.Index).ToArray(), 1e-5, $"sample {n}");
            }
        }

        [Fact]
        public void EvaluationFoldsBatchNormAndFusesActivationsIntoPointwiseGroupedAndDepthwiseConvolutions()
        {
            var network = new MobileNetV2();
            var random = new CnnRandom(9);
            var input = new float[2 * MobileNetV2.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            var workspace = network.CreateWorkspace(2);
            var output = new float[2 * MobileNetV2.OutputLength];
            network.Forward(input, output, 2, workspace, training: true);
            // Convolutions whose output training keeps (backward reads it): in evaluation each is fused into what follows.
            var kept = MobileNetV2.Layout.Layers.Where(l => l.Kind == Shapes.LayerKind.Conv2d)
                .Where(l => { try { return workspace.LayerOutput(l.Index).Length > 0; } catch (InvalidOperationException) { return false; } }).ToList();
            Assert.Contains(kept, l => l.Spec.Groups == l.Input.Channels && l.Spec.Groups > 1); // depthwise
            Assert.Contains(kept, l => l.Spec.Groups == 4);                                     // grouped
            Assert.Contains(kept, l => l.Spec.Kernel == 1 && l.Spec.Groups == 1);              // pointwise
            network.Forward(input, output, 2, workspace);
            foreach (var layer in kept)
                Assert.Contains("is fused into layer", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(layer.Index).Length).Message);
            var unfused = new float[output.Length];
            network.ForwardForGradients(input, unfused, 2, network.CreateWorkspace(2));
            Compare.Close(output, unfused, 1e-5, "fused evaluation against unfused");
        }

        [Fact]
        public void ForwardAllocatesNothingAfterWarmUp()
        {
            var network = new BatchNormNet();
            var workspace = network.CreateWorkspace(8);
            var input = new float[8 * BatchNormNet.InputLength];
            var output = new float[8 * BatchNormNet.OutputLength];
            var gradients = new float[BatchNormNet.ParameterCount];
            // The shared helper: one clean round of calls suffices (the runtime tiering a method up mid-measure under load
            // allocated once and made this flaky).
            Allocations.AssertNone(() =>
            {
                for (int i = 0; i < 4; i++)
                {
                    network.Forward(input, output, 8, workspace, training: i % 2 == 0);
                    if (i % 2 == 0) network.Backward(output, gradients, workspace);
                }
                network.Forward(input.AsSpan(0, BatchNormNet.InputLength), output.AsSpan(0, BatchNormNet.OutputLength), workspace);
            }, calls: 5);
        }

        [Fact]
        public void ThreadsSharingWeightsAgreeBitForBitWithOneThread()
        {
            var network = new LeNet5();
            network.ResetParameters(9);
            const int samples = 64;
            var random = new CnnRandom(3);
            var inputs = new float[samples * LeNet5.InputLength];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextFloat();
            var expected = new float[samples * LeNet5.OutputLength];
            var single = network.CreateWorkspace();
            for (int s = 0; s < samples; s++)
                network.Forward(inputs.AsSpan(s * 784, 784), expected.AsSpan(s * 10, 10), single);

            const int threads = 8, rounds = 10;
            int mismatches = 0;
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var workspace = network.CreateWorkspace();
                var output = new float[LeNet5.OutputLength];
                for (int r = 0; r < rounds; r++)
                    for (int s = (t + r) % samples, k = 0; k < samples; k++, s = (s + 1) % samples)
                    {
                        network.Forward(inputs.AsSpan(s * 784, 784), output, workspace);
                        if (!output.AsSpan().SequenceEqual(expected.AsSpan(s * 10, 10))) Interlocked.Increment(ref mismatches);
                    }
            })).ToArray();
            foreach (var worker in workers) worker.Start();
            foreach (var worker in workers) worker.Join();
            Assert.Equal(0, mismatches);
        }
    }

    internal static class LeNet5TestExtensions
    {
        public static LeNet5 WithSeed(this LeNet5 network, ulong seed)
        {
            network.ResetParameters(seed);
            return network;
        }
    }
}
