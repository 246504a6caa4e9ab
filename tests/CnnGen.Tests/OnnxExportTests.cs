using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.Onnx;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Exported ONNX files run in ONNX Runtime 1.31.1 and give CnnGen's evaluation-mode outputs, at batch 1 and batch 7:
    /// every PyTorch fixture network with its fixture weights (the sequential ones and the graph ones: ResNet8,
    /// MobileNetV2, Inception, UNet, Vocabulary), 60 random sequential networks of the differential tests' generator and
    /// 60 random graph networks of the graph differential tests' generator (residuals, concatenations, nesting, every
    /// kind, vector and feature-map outputs), compiled in memory. Batch-norm running statistics and affine parameters are
    /// randomized first, so the BatchNormalization nodes do real work.
    /// </summary>
    public sealed class OnnxExportTests
    {
        /// <summary>|onnx - cnngen| / max(1, |cnngen|), the error allowed.</summary>
        public const double Tolerance = 1e-5;
        public const int RandomNetworkCount = 60;
        public const int RandomGraphCount = 60;
        // Seeds of their own (the differential tests use 0-199 and the graph differential tests 0-299).
        private const int RandomNetworkSeed = 5000, RandomGraphSeed = 7000;
        private readonly ITestOutputHelper _output;

        public OnnxExportTests(ITestOutputHelper output) => _output = output;

        private static RandomNetwork[] RandomSequentialNetworks() => Enumerable.Range(RandomNetworkSeed, RandomNetworkCount).Select(RandomNetworks.Create).ToArray();
        private static RandomNetwork[] RandomGraphNetworks() => Enumerable.Range(RandomGraphSeed, RandomGraphCount).Select(RandomGraphs.Create).ToArray();

        [Theory]
        [MemberData(nameof(PyTorchParityTests.Networks), MemberType = typeof(PyTorchParityTests))]
        public void FixtureNetworksGiveTheSameOutputsInOnnxRuntime(string name)
        {
            var network = PyTorchParityTests.Load(name, PyTorchParityTests.Fixture(name));
            RandomizeBatchNorm(network, seed: 3);
            double error = CheckInOnnxRuntime(network, name);
            _output.WriteLine($"{name}: {network.Layout.Layers.Count} layers, {Blocks<ResidualLayout>(network.Layout.Root)} residuals, "
                + $"{Blocks<ConcatLayout>(network.Layout.Root)} concats, output {network.Layout.Output}; largest error {error:E2}");
        }

        [Fact]
        public void RandomNetworksGiveTheSameOutputsInOnnxRuntime() => CheckRandom(RandomSequentialNetworks(), "RandomOnnx");

        [Fact]
        public void RandomGraphsGiveTheSameOutputsInOnnxRuntime() => CheckRandom(RandomGraphNetworks(), "RandomGraphOnnx");

        private void CheckRandom(RandomNetwork[] networks, string space)
        {
            var watch = Stopwatch.StartNew();
            var source = new StringBuilder("using CnnGen;\nnamespace " + space + ";\n");
            // The generator's warnings on deliberate edge cases (a pool dropping edge cells, a softmax mid-network) are not errors here.
            foreach (var network in networks) source.Append("#pragma warning disable CNN0015, CNN0020\n").Append(network.Declaration()).Append('\n');
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            _output.WriteLine($"generated and compiled {networks.Length} networks in {watch.Elapsed.TotalSeconds:F1} s");

            double worst = 0;
            int residuals = 0, concats = 0, spatial = 0;
            var kinds = new HashSet<LayerKind>();
            foreach (var spec in networks)
            {
                var network = assembly.CreateNetwork(space + "." + spec.Name);
                network.ResetParametersForTest(seed: 9);
                RandomizeBatchNorm(network, seed: 4);
                foreach (var kind in ExportedKinds(network.Layout)) kinds.Add(kind);
                residuals += Blocks<ResidualLayout>(network.Layout.Root);
                concats += Blocks<ConcatLayout>(network.Layout.Root);
                if (network.Layout.Output.IsSpatial) spatial++;
                worst = Math.Max(worst, CheckInOnnxRuntime(network, spec.Name + "\n" + spec.Declaration()));
            }
            _output.WriteLine($"{networks.Length} networks ({residuals} residuals, {concats} concats, {spatial} feature-map outputs), largest error {worst:E2}, "
                + $"{watch.Elapsed.TotalSeconds:F1} s in all; kinds: {string.Join(", ", kinds.Order())}");
        }

        /// <summary>
        /// The networks exported above hold every layer kind between them, and every block form: residuals (the Residual,
        /// Shortcut and End markers; identity and projection shortcuts), concatenations (Concat, Branch; identity and layer
        /// branches), nested blocks and feature-map outputs. The random networks' layouts are inferred from the same seeds.
        /// </summary>
        [Fact]
        public void TheExportedNetworksCoverEveryLayerKindAndBlock()
        {
            var layouts = new List<NetworkLayout>();
            foreach (string name in PyTorchParityTests.Networks) layouts.Add(PyTorchParityTests.Load(name, PyTorchParityTests.Fixture(name)).Layout);
            var fixtureKinds = layouts.SelectMany(ExportedKinds).ToHashSet();
            layouts.AddRange(RandomSequentialNetworks().Select(n => n.Layout));
            layouts.AddRange(RandomGraphNetworks().Select(n => n.Layout));
            var kinds = layouts.SelectMany(ExportedKinds).ToHashSet();
            var missing = Enum.GetValues<LayerKind>().Where(k => !kinds.Contains(k)).ToList();
            Assert.True(missing.Count == 0, "Never exported: " + string.Join(", ", missing));
            var blocks = layouts.SelectMany(l => Nodes(l.Root)).ToList();
            Assert.Contains(blocks, b => b is ResidualLayout r && r.Shortcut.IsIdentity);
            Assert.Contains(blocks, b => b is ResidualLayout r && !r.Shortcut.IsIdentity);
            Assert.Contains(blocks, b => b is ConcatLayout c && c.Branches.Any(branch => branch.IsIdentity));
            Assert.Contains(blocks, b => b is ConcatLayout c && c.Branches.All(branch => !branch.IsIdentity));
            Assert.Contains(blocks, b => b is ResidualLayout or ConcatLayout && b.Depth > 1);
            Assert.Contains(layouts, l => l.Output.IsSpatial);
            var specs = layouts.SelectMany(l => l.Layers).Select(l => l.Spec).ToList();
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && s.Groups > 1);
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && (s.Dilation > 1 || s.DilationWidth > 1));
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && (s.Kernel != s.KernelWidth || s.Stride != s.StrideWidth));
            Assert.Contains(specs, s => s.Kind == LayerKind.ConvTranspose2d && (s.OutputPadding > 0 || s.OutputPaddingWidth > 0));
            Assert.Contains(specs, s => s.Kind == LayerKind.Upsample && s.Mode == InterpolationMode.Bilinear);
            Assert.Contains(specs, s => s.Kind == LayerKind.Upsample && s.Mode == InterpolationMode.Nearest);
            Assert.Contains(specs, s => s.Kind == LayerKind.GELU && s.TanhApproximation);
            Assert.Contains(specs, s => s.Kind == LayerKind.GELU && !s.TanhApproximation);
            var adaptive = layouts.SelectMany(l => l.Layers).Where(l => l.Kind == LayerKind.AdaptiveAvgPool).ToList();
            Assert.Contains(adaptive, l => l.Input.Height % l.Spec.OutHeight != 0 || l.Input.Width % l.Spec.OutWidth != 0); // the MatMul form
            Assert.Contains(adaptive, l => l.Input.Height % l.Spec.OutHeight == 0 && l.Input.Width % l.Spec.OutWidth == 0); // the AveragePool form
            _output.WriteLine("Kinds in the fixture networks alone: " + string.Join(", ", fixtureKinds.Order()));
        }

        /// <summary>
        /// The layer kinds a network's export goes through: its layers' kinds, and its blocks as their markers (a residual is
        /// Residual ... End, with Shortcut when the shortcut has layers; a concatenation is Concat, Branch ... End).
        /// </summary>
        internal static IEnumerable<LayerKind> ExportedKinds(NetworkLayout layout)
        {
            foreach (var node in Nodes(layout.Root))
            {
                switch (node)
                {
                    case LayerLayout layer:
                        yield return layer.Kind;
                        break;
                    case ResidualLayout residual:
                        yield return LayerKind.Residual;
                        if (!residual.Shortcut.IsIdentity) yield return LayerKind.Shortcut;
                        yield return LayerKind.End;
                        break;
                    case ConcatLayout:
                        yield return LayerKind.Concat;
                        yield return LayerKind.Branch;
                        yield return LayerKind.End;
                        break;
                }
            }
        }

        /// <summary>Every node of the tree, depth-first.</summary>
        internal static IEnumerable<NodeLayout> Nodes(SequenceLayout sequence)
        {
            foreach (var node in sequence.Nodes)
            {
                yield return node;
                IReadOnlyList<SequenceLayout> children = node switch
                {
                    ResidualLayout residual => new[] { residual.Body, residual.Shortcut },
                    ConcatLayout concat => concat.Branches,
                    _ => Array.Empty<SequenceLayout>(),
                };
                foreach (var child in children)
                foreach (var inner in Nodes(child)) yield return inner;
            }
        }

        private static int Blocks<T>(SequenceLayout root) where T : NodeLayout => Nodes(root).Count(n => n is T);

        /// <summary>Exports, runs at batch 1 and batch 7 in ONNX Runtime, and compares with the network's own Forward.</summary>
        internal static double CheckInOnnxRuntime(INetwork network, string what)
        {
            byte[] model = OnnxExporter.ToBytes(network);
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            using var session = new InferenceSession(model, options);
            var layout = network.Layout;
            var random = new CnnRandom(17);
            double worst = 0;
            foreach (int batch in new[] { 1, 7 })
            {
                var input = new float[batch * layout.Input.Length];
                for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-2, 2);
                var expected = new float[batch * layout.Output.Length];
                network.Forward(input, expected, batch, network.CreateWorkspace(batch));

                var actual = Run(session, input, batch, layout);
                Compare.Close(actual, expected, Tolerance, $"{what} (ONNX Runtime, batch {batch})");
                worst = Math.Max(worst, Compare.MaxError(actual, expected));
            }
            return worst;
        }

        internal static float[] Run(InferenceSession session, float[] input, int batch, NetworkLayout layout)
        {
            var shape = layout.Input;
            var tensor = new DenseTensor<float>(input, new[] { batch, shape.Channels, shape.Height, shape.Width });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, tensor) });
            var output = results.Single(r => r.Name == OnnxExporter.OutputName).AsTensor<float>();
            var outShape = layout.Output;
            int[] expectedDims = outShape.IsSpatial ? new[] { batch, outShape.Channels, outShape.Height, outShape.Width } : new[] { batch, outShape.Channels };
            Assert.Equal(expectedDims, output.Dimensions.ToArray());
            return output.ToArray();
        }

        /// <summary>Running means in [-0.5, 0.5], variances in [0.5, 2], scales in [0.5, 1.5], shifts in [-0.5, 0.5].</summary>
        internal static void RandomizeBatchNorm(INetwork network, ulong seed)
        {
            var random = new CnnRandom(seed);
            foreach (var layer in network.Layout.Layers)
            {
                if (layer.Kind != LayerKind.BatchNorm) continue;
                int channels = layer.Input.Channels;
                var p = network.Parameters.Slice(layer.ParameterOffset, layer.ParameterCount);
                var b = network.Buffers.Slice(layer.BufferOffset, layer.BufferCount);
                for (int c = 0; c < channels; c++)
                {
                    p[c] = random.NextUniform(0.5f, 1.5f);
                    p[channels + c] = random.NextUniform(-0.5f, 0.5f);
                    b[c] = random.NextUniform(-0.5f, 0.5f);
                    b[channels + c] = random.NextUniform(0.5f, 2f);
                }
            }
        }
    }
}

namespace CnnGen.Tests
{
    using CnnGen.Onnx.Graph;
    using CnnGen.Onnx.Protobuf;
    using CnnGen.Tests.Fixtures;

    /// <summary>The exported graph itself: names, attributes, initializers, the file's header fields, and the protobuf encoding.</summary>
    public sealed class OnnxGraphTests
    {
        [Fact]
        public void LeNet5IsNamedAfterItsLayerTableWithPyTorchKeysAndADynamicBatchAxis()
        {
            INetwork network = new LeNet5();
            var graph = OnnxExporter.BuildGraph(network, "LeNet5");
            var layers = network.Layout.Layers;
            Assert.Equal(new[] { "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm" }, graph.Nodes.Select(n => n.OpType));
            Assert.Equal(layers.Select(l => l.TorchName + " #" + l.Index), graph.Nodes.Select(n => n.Name));
            Assert.Equal(layers.Select(l => l.Describe()), graph.Nodes.Select(n => n.DocString));
            Assert.Equal("Conv2d #0: 1x28x28 -> 6x28x28 (k=5, s=1, p=2), 156 params", graph.Nodes[0].DocString);
            Assert.Equal(new[] { "input", "0.weight", "0.bias" }, graph.Nodes[0].Inputs);
            Assert.Equal("output", graph.Nodes[^1].Outputs.Single());
            Assert.Equal(network.Layout.Tensors.Select(t => t.Name), graph.Initializers.Select(t => t.Name));
            Assert.Equal(new long[] { 6, 1, 5, 5 }, graph.Initializers[0].Dims);
            Assert.Equal(MemoryMarshalBytes(network.Parameters.Slice(0, 150)), graph.Initializers[0].RawData.ToArray());
            Assert.Equal(new long[] { 2, 2, 2, 2 }, graph.Nodes[0].Attribute("pads")!.Ints);
            Assert.Equal(1L, graph.Nodes[^1].Attribute("transB")!.Int);

            using var session = new InferenceSession(OnnxExporter.ToBytes(network));
            var input = session.InputMetadata["input"];
            Assert.Equal(new[] { -1, 1, 28, 28 }, input.Dimensions);
            Assert.Equal("N", input.SymbolicDimensions[0]);
            Assert.Equal(new[] { -1, 10 }, session.OutputMetadata["output"].Dimensions);
            Assert.Equal("CnnGen.Onnx", session.ModelMetadata.ProducerName);
            Assert.Equal("LeNet5", session.ModelMetadata.GraphName);
            Assert.Contains("Conv2d: 1-1", session.ModelMetadata.CustomMetadataMap["cnngen.layer_table"]);
        }

        [Fact]
        public void ResNet8WalksTheLayoutTreeWithAddNodesNamedByModulePath()
        {
            INetwork network = new ResNet8();
            var graph = OnnxExporter.BuildGraph(network, "ResNet8");
            var layers = network.Layout.Layers;
            // One main node per layer, in depth-first order, named and documented from the layer table; one Add per residual.
            var layerNodes = graph.Nodes.Where(n => !n.Name.StartsWith("Residual", StringComparison.Ordinal)).ToArray();
            Assert.Equal(layers.Select(l => l.Path == l.Index.ToString() ? l.TorchName + " #" + l.Index : l.TorchName + " #" + l.Index + " (" + l.Path + ")"),
                layerNodes.Select(n => n.Name));
            Assert.Equal(layers.Select(l => l.Describe()), layerNodes.Select(n => n.DocString));
            var adds = graph.Nodes.Where(n => n.OpType == "Add").ToArray();
            Assert.Equal(new[] { "Residual 3", "Residual 5", "Residual 7" }, adds.Select(n => n.Name));
            Assert.Equal(((ResidualLayout)network.Layout.Root.Nodes[3]).Describe(), adds[0].DocString);
            // The identity shortcut adds the block's input, the ReLU before it; a projection shortcut adds its last node's output.
            var before = graph.Nodes.Single(n => n.Name == "ReLU #2");
            Assert.Equal(before.Outputs[0], adds[0].Inputs[1]);
            Assert.Equal("/5.body.4/BatchNormalization_output", adds[1].Inputs[0]);
            Assert.Equal("/5.shortcut.1/BatchNormalization_output", adds[1].Inputs[1]);
            Assert.Equal(graph.Nodes.Single(n => n.Name == "Conv2d #9 (5.body.0)").Inputs[0], graph.Nodes.Single(n => n.Name == "Conv2d #14 (5.shortcut.0)").Inputs[0]);
            // Initializers: the state_dict keys, in state_dict order, without the counters.
            Assert.Equal(network.Layout.Tensors.Where(t => t.Block != TensorBlock.Counters).Select(t => t.Name), graph.Initializers.Where(t => char.IsDigit(t.Name[0])).Select(t => t.Name));
            Assert.Contains("5.shortcut.1.running_var", graph.Initializers.Select(t => t.Name));
        }

        [Fact]
        public void UNetHasConcatNodesAndAFeatureMapOutputOfRankFour()
        {
            INetwork network = new UNet();
            var graph = OnnxExporter.BuildGraph(network, "UNet");
            var concats = graph.Nodes.Where(n => n.OpType == "Concat").ToArray();
            Assert.Equal(new[] { "Concat 3.branches.1.4", "Concat 3" }, concats.Select(n => n.Name));
            Assert.All(concats, n => Assert.Equal(1L, n.Attribute("axis")!.Int));
            // Identity first branches: the block's input itself.
            Assert.Equal(graph.Nodes.Single(n => n.Name == "ReLU #2").Outputs[0], concats[1].Inputs[0]);
            Assert.Equal(graph.Nodes.Single(n => n.Name == "ReLU #6 (3.branches.1.3)").Outputs[0], concats[0].Inputs[0]);
            Assert.Equal(new long[] { 2, 2 }, graph.Nodes.Single(n => n.OpType == "ConvTranspose").Attribute("strides")!.Ints);
            var resize = graph.Nodes.Single(n => n.OpType == "Resize");
            Assert.Equal("linear", resize.Attribute("mode")!.String);
            Assert.Equal(new long?[] { null, 4, 16, 16 }, graph.Outputs.Single().Dims);

            using var session = new InferenceSession(OnnxExporter.ToBytes(network));
            Assert.Equal(new[] { -1, 4, 16, 16 }, session.OutputMetadata["output"].Dimensions);
            Assert.Equal("N", session.OutputMetadata["output"].SymbolicDimensions[0]);
        }

        [Fact]
        public void ConvolutionsCarryPerAxisWindowsGroupsAndOutputPadding()
        {
            var graph = OnnxExporter.BuildGraph(new Vocabulary(), "Vocabulary");
            var convs = graph.Nodes.Where(n => n.OpType == "Conv").ToArray();
            // Conv2d(6, 3, 2, StrideHeight = 2, PaddingWidth = 1, DilationHeight = 2); Conv2d(8, 3, Padding = 1, Groups = 2).
            Assert.Equal(new long[] { 3, 2 }, convs[0].Attribute("kernel_shape")!.Ints);
            Assert.Equal(new long[] { 2, 1 }, convs[0].Attribute("strides")!.Ints);
            Assert.Equal(new long[] { 0, 1, 0, 1 }, convs[0].Attribute("pads")!.Ints);
            Assert.Equal(new long[] { 2, 1 }, convs[0].Attribute("dilations")!.Ints);
            Assert.Equal(1L, convs[0].Attribute("group")!.Int);
            Assert.Equal(2L, convs[1].Attribute("group")!.Int);
            var transpose = graph.Nodes.Single(n => n.OpType == "ConvTranspose");
            Assert.Equal(new long[] { 1, 1 }, transpose.Attribute("output_padding")!.Ints);
            Assert.Equal(new long[] { 1, 1, 1, 1 }, transpose.Attribute("pads")!.Ints);
            Assert.Equal("nearest", graph.Nodes.Single(n => n.OpType == "Resize").Attribute("mode")!.String);
            Assert.Contains(graph.Nodes, n => n.OpType == "Erf");
            Assert.Contains(graph.Nodes, n => n.OpType == "HardSwish");
            Assert.Contains(graph.Nodes, n => n.OpType == "Clip");
            Assert.Contains(graph.Nodes, n => n.OpType == "MatMul"); // AdaptiveAvgPool(5, 3), sizes that do not divide
        }

        [Fact]
        public void BatchNormIsExportedUnfoldedWithRunningStatisticsAndBatchNorm1dGetsRankThree()
        {
            INetwork network = new BatchNormNet();
            var graph = OnnxExporter.BuildGraph(network, "BatchNormNet");
            var norms = graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToArray();
            Assert.Equal(3, norms.Length);
            Assert.Equal(new[] { "1.weight", "1.bias", "1.running_mean", "1.running_var" }, norms[0].Inputs.Skip(1));
            Assert.Equal(1e-3f, norms[1].Attribute("epsilon")!.Float);
            Assert.Equal(0.8f, norms[1].Attribute("momentum")!.Float, 6); // ONNX weighs the running value: 1 - PyTorch's 0.2
            Assert.Equal(0L, norms[1].Attribute("training_mode")!.Int);
            // BatchNorm1d #9 after Linear: (N, 16) -> Unsqueeze -> (N, 16, 1) -> BatchNormalization -> Squeeze.
            int at = graph.Nodes.IndexOf(norms[2]);
            Assert.Equal("BatchNorm1d #9", norms[2].Name);
            Assert.Equal("Unsqueeze", graph.Nodes[at - 1].OpType);
            Assert.Equal("BatchNorm1d #9/Unsqueeze", graph.Nodes[at - 1].Name);
            Assert.Equal("Squeeze", graph.Nodes[at + 1].OpType);
            Assert.DoesNotContain(graph.Initializers, t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        }

        [Fact]
        public void DropoutIsAnInferenceDropoutKeepingItsRatio()
        {
            var graph = OnnxExporter.BuildGraph(new Activations(), "Activations");
            var dropout = graph.Nodes.Single(n => n.OpType == "Dropout");
            Assert.Equal(2, dropout.Inputs.Count); // data and ratio; no training_mode input, so inference
            var ratio = graph.Initializers.Single(t => t.Name == dropout.Inputs[1]);
            Assert.Empty(ratio.Dims);
            Assert.Equal(0.3f, BitConverter.ToSingle(ratio.RawData.Span));
            Assert.Equal(1L, graph.Nodes.Single(n => n.OpType == "Softmax").Attribute("axis")!.Int);
        }

        [Fact]
        public void TheProtobufEncodingIsTheSpecificationsOwn()
        {
            // The examples of protobuf's encoding guide: field 1 = 150, field 2 = "testing".
            Assert.Equal(new byte[] { 0x08, 0x96, 0x01 }, new ProtoMessage().Varint(1, 150).ToArray());
            Assert.Equal(new byte[] { 0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67 }, new ProtoMessage().String(2, "testing").ToArray());
            // A negative int64 is ten bytes; a float is fixed32, little-endian; a nested message is length-prefixed.
            Assert.Equal(new byte[] { 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, new ProtoMessage().Varint(3, -1).ToArray());
            Assert.Equal(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F }, new ProtoMessage().Float(2, 1f).ToArray());
            Assert.Equal(new byte[] { 0x1A, 0x03, 0x08, 0x96, 0x01 }, new ProtoMessage().Message(3, new ProtoMessage().Varint(1, 150)).ToArray());
            // Field numbers past 15 take a two-byte tag (AttributeProto.type = 20).
            Assert.Equal(new byte[] { 0xA0, 0x01, 0x07 }, new ProtoMessage().Varint(20, 7).ToArray());
            var nested = new ProtoMessage().Message(1, new ProtoMessage().Bytes(2, new byte[300]));
            Assert.Equal(nested.ToArray().Length, nested.Size);
        }

        private static byte[] MemoryMarshalBytes(ReadOnlySpan<float> values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray();
    }

    /// <summary>Writing files: atomic, deterministic, and a clear exception with nothing left behind when the path is bad.</summary>
    public sealed class OnnxFileTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-onnx-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void AFileIsWrittenAtomicallyAndHoldsTheSameBytesAsTheStream()
        {
            var network = new Fixtures.Strided();
            string path = Path.Combine(_folder, "strided.onnx");
            File.WriteAllText(path, "an older file");
            OnnxExporter.Export(network, path);
            using var stream = new MemoryStream();
            OnnxExporter.Export(network, stream);
            Assert.Equal(stream.ToArray(), File.ReadAllBytes(path));
            Assert.Equal(OnnxExporter.ToBytes(network), File.ReadAllBytes(path)); // deterministic
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder)); // no temporary file left
            using var session = new InferenceSession(path);
            Assert.Equal("Strided", session.ModelMetadata.GraphName);
        }

        [Fact]
        public void AnUnwritablePathIsAClearExceptionAndLeavesNothing()
        {
            var network = new Fixtures.LeNet5();
            string missing = Path.Combine(_folder, "no-such-folder", "lenet5.onnx");
            var error = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(network, missing));
            Assert.Contains(missing, error.Message);
            Assert.Contains("does not exist", error.Message);
            Assert.Equal(missing, error.FilePath);

            string file = Path.Combine(_folder, "a-file");
            File.WriteAllText(file, "x");
            error = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(network, Path.Combine(file, "lenet5.onnx")));
            Assert.Contains("a-file", error.Message);

            string folder = Path.Combine(_folder, "a-folder");
            Directory.CreateDirectory(folder);
            error = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(network, folder));
            Assert.Contains("folder", error.Message);

            Assert.Equal(new[] { file }, Directory.GetFiles(_folder, "*", SearchOption.AllDirectories));
            Assert.Equal("x", File.ReadAllText(file));
        }

        [Fact]
        public void AStreamThatFailsMidwayIsReportedAndAnExistingFileIsKept()
        {
            // The file write fails part-way (here: the stream throws after 1,000 bytes); Export(path) uses the same writer,
            // and its temporary file is removed on any failure, as the missing-folder case above shows.
            var network = new Fixtures.LeNet5();
            Assert.Throws<IOException>(() => OnnxExporter.Export(network, new FailingStream(1000)));

            string path = Path.Combine(_folder, "kept.onnx");
            OnnxExporter.Export(network, path);
            byte[] before = File.ReadAllBytes(path);
            Assert.ThrowsAny<ArgumentException>(() => OnnxExporter.Export(null!, path));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
        }

        private sealed class FailingStream : Stream
        {
            private readonly int _limit;
            private long _written;
            public FailingStream(int limit) => _limit = limit;

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                if (_written + buffer.Length > _limit) throw new IOException("disk full (simulated)");
                _written += buffer.Length;
            }

            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => _written;
            public override long Position { get => _written; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        }
    }
}
