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
    /// every PyTorch fixture network with its fixture weights, and 60 random networks of the differential tests' generator
    /// compiled in memory. Batch-norm running statistics and affine parameters are randomized first, so the
    /// BatchNormalization nodes do real work.
    /// </summary>
    public sealed class OnnxExportTests
    {
        /// <summary>|onnx - cnngen| / max(1, |cnngen|), the error allowed.</summary>
        public const double Tolerance = 1e-5;
        public const int RandomNetworkCount = 60;
        private readonly ITestOutputHelper _output;

        public OnnxExportTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [MemberData(nameof(PyTorchParityTests.Networks), MemberType = typeof(PyTorchParityTests))]
        public void FixtureNetworksGiveTheSameOutputsInOnnxRuntime(string name)
        {
            var network = PyTorchParityTests.Load(name, PyTorchParityTests.Fixture(name));
            RandomizeBatchNorm(network, seed: 3);
            double error = CheckInOnnxRuntime(network, name);
            _output.WriteLine($"{name}: largest error {error:E2}");
        }

        [Fact]
        public void RandomNetworksGiveTheSameOutputsInOnnxRuntime()
        {
            var watch = Stopwatch.StartNew();
            // Seeds of their own (the differential tests use 0-199), so these are 60 more networks of the same generator.
            var networks = Enumerable.Range(5000, RandomNetworkCount).Select(RandomNetworks.Create).ToArray();
            var source = new StringBuilder("using CnnGen;\nnamespace RandomOnnx;\n");
            foreach (var network in networks) source.Append(network.Declaration()).Append('\n');
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            _output.WriteLine($"generated and compiled {networks.Length} networks in {watch.Elapsed.TotalSeconds:F1} s");

            double worst = 0;
            var kinds = new HashSet<LayerKind>();
            foreach (var spec in networks)
            {
                var network = assembly.CreateNetwork("RandomOnnx." + spec.Name);
                network.ResetParametersForTest(seed: 9);
                RandomizeBatchNorm(network, seed: 4);
                foreach (var layer in network.Layout.Layers) kinds.Add(layer.Kind);
                worst = Math.Max(worst, CheckInOnnxRuntime(network, spec.Name + "\n" + spec.Declaration()));
            }
            _output.WriteLine($"{networks.Length} networks, largest error {worst:E2}, {watch.Elapsed.TotalSeconds:F1} s in all; kinds: {string.Join(", ", kinds.Order())}");
        }

        /// <summary>The fixture networks between them hold every layer kind, so the test above exports each kind against PyTorch's weights.</summary>
        [Fact]
        public void TheFixtureNetworksCoverEveryLayerKind()
        {
            var kinds = new HashSet<LayerKind>();
            foreach (var row in PyTorchParityTests.Networks)
            {
                string name = (string)row[0];
                foreach (var layer in PyTorchParityTests.Load(name, PyTorchParityTests.Fixture(name)).Layout.Layers) kinds.Add(layer.Kind);
            }
            Assert.Equal(Enum.GetValues<LayerKind>().Order(), kinds.Order());
        }

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
