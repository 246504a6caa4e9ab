using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// The fixture networks against PyTorch 1.13 (tests/fixtures/make_fixtures.py): the same weights and inputs give the
    /// same outputs in evaluation and training mode, the same running statistics, and the same gradients. The generated
    /// code and the reference interpreter are both held to it.
    /// </summary>
    public sealed class PyTorchParityTests
    {
        private readonly ITestOutputHelper _output;

        public PyTorchParityTests(ITestOutputHelper output) => _output = output;

        public static readonly TheoryData<string> Networks = new()
        {
            "lenet5", "strided", "padded_pools", "overlapping_pool", "non_square", "batchnorm", "activations", "maxpool_ties",
            "resnet8", "mobilenetv2", "inception", "unet", "vocabulary", "lenet5_classic", "line_winograd", "row_winograd",
        };

        private static INetwork Create(string name) => name switch
        {
            "lenet5" => new LeNet5(),
            "strided" => new Strided(),
            "padded_pools" => new PaddedPools(),
            "overlapping_pool" => new OverlappingPool(),
            "non_square" => new NonSquare(),
            "batchnorm" => new BatchNormNet(),
            "activations" => new Activations(),
            "maxpool_ties" => new MaxPoolTies(),
            "resnet8" => new ResNet8(),
            "mobilenetv2" => new MobileNetV2(),
            "inception" => new Inception(),
            "unet" => new UNet(),
            "vocabulary" => new Vocabulary(),
            "lenet5_classic" => new ClassicLeNet5(),
            "line_winograd" => new LineWinograd(),
            "row_winograd" => new RowWinograd(),
            _ => throw new ArgumentException(name),
        };

        // line_winograd is here for the one-dimensional Winograd routes: on AVX-512 its four layers take them, forward (from
        // prepared filters) and input gradient.
        [Fact]
        public void LineWinogradFixtureTakesTheWinogradRoutes()
        {
            if (!CnnGen.Kernels.LineWinogradConvolution.Handles(1, 3) || CnnGen.Kernels.KernelPaths.Default != CnnGen.Kernels.DirectConvolution.KernelPath.Vector512) return;
            var layers = new[]
            {
                new CnnGen.Kernels.ConvolutionGeometry(16, 12, 12, 32, 1, 3, 1, 1, 0, 1, 1, 1, 1),
                new CnnGen.Kernels.ConvolutionGeometry(32, 12, 12, 32, 5, 1, 1, 1, 2, 0, 1, 1, 1),
                new CnnGen.Kernels.ConvolutionGeometry(32, 12, 12, 16, 1, 7, 1, 1, 0, 3, 1, 1, 1),
                new CnnGen.Kernels.ConvolutionGeometry(16, 12, 12, 16, 7, 1, 1, 1, 3, 0, 1, 1, 1),
            };
            foreach (var g in layers)
            {
                Assert.True(CnnGen.Kernels.GroupedConvolution.PreparedLength(g) > 0, g.ToString());
                Assert.True(CnnGen.Kernels.GroupedConvolution.InputGradientWeightsLength(g) > 0, g.ToString());
            }
        }

        // row_winograd is here for the rows' route: on AVX-512 its stem and its 5x5 layer take it in evaluation, and the
        // generated evaluation calls ForwardByRows and ForwardPooledByRows for them.
        [Fact]
        public void RowWinogradFixtureTakesTheRowsInEvaluation()
        {
            // The fixture's declaration (FixtureNetworks.cs), through the generator.
            string source = Infrastructure.GeneratorHarness.GeneratedText("using CnnGen;\nnamespace Rows;\n[Network(3, 32, 32)]\n"
                + "[Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]\n[Conv2d(4, 1)] [ReLU]\n[Conv2d(16, 5, Padding = 2)] [ReLU] [MaxPool(2)]\n"
                + "[GlobalAvgPool] [Flatten] [Linear(5)]\npublic partial class RowWinograd { }");
            Assert.Contains("DirectConvolution.ForwardByRows(x, 3, 32, 32, p.Slice(0, 432), p.Slice(432, 16), 16, 3, 1, y, columns, relu: true);", source);
            Assert.Contains("DirectConvolution.ForwardPooledByRows(x, 4, 32, 32, p.Slice(0, 1600), p.Slice(1600, 16), 16, 5, 2, y, columns, relu: true);", source);
            if (CnnGen.Kernels.KernelPaths.Default != CnnGen.Kernels.DirectConvolution.KernelPath.Vector512) return;
            Assert.True(CnnGen.Kernels.DirectConvolution.ForwardByRowWinograd(3, 32, 32, 16, 3, 1, pool: false));
            Assert.True(CnnGen.Kernels.DirectConvolution.ForwardByRowWinograd(4, 32, 32, 16, 5, 2, pool: true));
        }

        public static SafeTensorsFile Fixture(string name) =>
            SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", name + ".safetensors"));

        /// <summary>The network with PyTorch's initial weights and buffers loaded through our own reader.</summary>
        public static INetwork Load(string name, SafeTensorsFile fixture)
        {
            var network = Create(name);
            NetworkWeights.Load(network, fixture, keyPrefix: "param.");
            return network;
        }

        [Theory]
        [MemberData(nameof(Networks))]
        public void EvaluationOutputMatchesPyTorch(string name)
        {
            var fixture = Fixture(name);
            var network = Load(name, fixture);
            var input = fixture.GetFloats("input");
            var expected = fixture.GetFloats("eval.output");
            int batch = (int)fixture.GetShape("input")[0];

            var output = new float[expected.Length];
            network.Forward(input, output, batch, network.CreateWorkspace(batch));
            Compare.Close(output, expected, 1e-5, name + " generated (eval)");

            var random = new CnnRandom(0);
            var interpreted = new ReferenceInterpreter(network.Layout).ForwardFloat(network.Parameters, network.Buffers.ToArray(), network.Counters.ToArray(), input, batch, false, ref random);
            Compare.Close(interpreted, expected, 1e-5, name + " interpreter (eval)");
            _output.WriteLine($"{name}: eval error generated {Compare.MaxError(output, expected):E2}, interpreter {Compare.MaxError(interpreted, expected):E2}");
        }

        // Batch 1 takes paths of its own (transposed Linear weights): each sample of the fixture alone, on one workspace.
        [Theory]
        [MemberData(nameof(Networks))]
        public void EvaluationOneSampleAtATimeMatchesPyTorch(string name)
        {
            var fixture = Fixture(name);
            var network = Load(name, fixture);
            var input = fixture.GetFloats("input");
            var expected = fixture.GetFloats("eval.output");
            int batch = (int)fixture.GetShape("input")[0], inLength = input.Length / batch, outLength = expected.Length / batch;
            var workspace = network.CreateWorkspace(1);
            var output = new float[expected.Length];
            for (int n = 0; n < batch; n++)
                network.Forward(input.AsSpan(n * inLength, inLength), output.AsSpan(n * outLength, outLength), 1, workspace);
            Compare.Close(output, expected, 1e-5, name + " generated (eval, batch 1)");
        }

        [Theory]
        [MemberData(nameof(Networks))]
        public void TrainingForwardAndGradientsMatchPyTorch(string name)
        {
            var fixture = Fixture(name);
            if (!fixture.Contains("train.output"))
            {
                // Dropout draws its mask from PyTorch's generator, which we do not reproduce; the file says so.
                Assert.Equal("1", fixture.Metadata["has_dropout"]);
                return;
            }
            var network = Load(name, fixture);
            var input = fixture.GetFloats("input");
            int batch = (int)fixture.GetShape("input")[0];
            var expected = fixture.GetFloats("train.output");
            var workspace = network.CreateWorkspace(batch);
            var output = new float[expected.Length];
            network.Forward(input, output, batch, workspace, training: true);
            Compare.Close(output, expected, 1e-5, name + " training output");

            // Running statistics and counters after one training forward.
            foreach (var tensor in network.Layout.Tensors)
            {
                string key = "train.state." + tensor.Name;
                if (tensor.Block == Shapes.TensorBlock.Buffers)
                    Compare.Close(network.Buffers.Slice(tensor.Offset, tensor.Length), fixture.GetFloats(key), 1e-5, name + " " + key);
                else if (tensor.Block == Shapes.TensorBlock.Counters)
                    Assert.Equal(fixture.GetInt64s(key)[0], network.Counters[tensor.Offset]);
            }

            // Gradients from PyTorch's d loss / d output, so the loss implementation is tested on its own.
            var outputGradient = fixture.GetFloats("train.output_grad");
            var parameterGradients = new float[network.Layout.ParameterCount];
            var inputGradient = new float[input.Length];
            network.Backward(outputGradient, parameterGradients, workspace, inputGradient);
            double worst = Compare.MaxError(inputGradient, fixture.GetFloats("grad.input"));
            Compare.Close(inputGradient, fixture.GetFloats("grad.input"), 1e-4, name + " input gradient");
            foreach (var tensor in network.Layout.Tensors.Where(t => t.Block == Shapes.TensorBlock.Parameters))
            {
                var actual = parameterGradients.AsSpan(tensor.Offset, tensor.Length);
                var expectedGradient = fixture.GetFloats("grad." + tensor.Name);
                Compare.Close(actual, expectedGradient, 1e-4, name + " gradient of " + tensor.Name);
                worst = Math.Max(worst, Compare.MaxError(actual, expectedGradient));
            }
            _output.WriteLine($"{name}: training output error {Compare.MaxError(output, expected):E2}, largest gradient error {worst:E2}");
        }
    }
}
