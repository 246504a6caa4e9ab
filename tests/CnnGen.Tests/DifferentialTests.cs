using System;
using System.Linq;
using System.Text;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Random valid layer stacks, generated and compiled in memory, agree with the reference interpreter in
    /// evaluation and training mode (batch-norm batch statistics, running-statistics updates, dropout masks), forward and backward.
    /// </summary>
    public sealed class DifferentialTests
    {
        public const int NetworksPerGroup = 50;
        private readonly ITestOutputHelper _output;

        public DifferentialTests(ITestOutputHelper output) => _output = output;

        // Four groups of 50: one compilation each keeps the in-memory compiles cheap.
        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        public void RandomNetworksMatchTheInterpreter(int group)
        {
            var networks = Enumerable.Range(group * NetworksPerGroup, NetworksPerGroup).Select(RandomNetworks.Create).ToArray();
            var source = new StringBuilder("using CnnGen;\nnamespace Random;\n");
            foreach (var network in networks) source.Append(network.Declaration()).Append('\n');

            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            double worst = 0;
            foreach (var network in networks)
            {
                var generated = assembly.CreateNetwork("Random." + network.Name);
                worst = Math.Max(worst, CheckAgainstInterpreter(network, generated));
            }
            _output.WriteLine($"{networks.Length} networks, largest error {worst:E2}");
        }

        // Dilated convolutions of one group: those whose padding is a multiple of the dilation on sides that are multiples of
        // it run as d² undilated phases (DilatedConvolution), the rest as im2col; both against the interpreter, with
        // batch-norm (training statistics) and activations after them, forward and backward.
        [Fact]
        public void DilatedNetworksMatchTheInterpreter()
        {
            static LayerSpec Dilated(int outChannels, int kernel, int padding, int dilation, bool bias = true) =>
                LayerSpec.Conv2d(outChannels, kernel, kernel, 1, 1, padding, padding, dilation, dilation, 1, bias);
            var networks = new[]
            {
                new RandomNetwork("DilatedSame", TensorShape.Spatial(8, 12, 12), new[]
                {
                    Dilated(16, 3, 2, 2), LayerSpec.BatchNorm(), LayerSpec.ReLU(), Dilated(12, 3, 3, 3, bias: false), LayerSpec.Tanh(),
                    LayerSpec.Flatten(), LayerSpec.Linear(5),
                }),
                new RandomNetwork("DilatedWide", TensorShape.Spatial(16, 16, 16), new[]
                {
                    Dilated(32, 3, 4, 4), LayerSpec.ReLU(), Dilated(16, 5, 4, 2), LayerSpec.MaxPool(2, null, 0), LayerSpec.Flatten(), LayerSpec.Linear(3),
                }),
                new RandomNetwork("DilatedValidAndOdd", TensorShape.Spatial(3, 11, 10), new[]
                {
                    Dilated(6, 3, 0, 2), LayerSpec.Sigmoid(), Dilated(4, 3, 2, 2), LayerSpec.Flatten(), LayerSpec.Linear(2),
                }),
            };
            CheckAllAgainstInterpreter("Dilated", networks);
        }

        // Named networks compiled together in one namespace, each checked against the interpreter.
        private void CheckAllAgainstInterpreter(string ns, RandomNetwork[] networks)
        {
            var source = new StringBuilder("using CnnGen;\nnamespace " + ns + ";\n");
            foreach (var network in networks) source.Append(network.Declaration()).Append('\n');
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            foreach (var network in networks)
            {
                Assert.False(network.Layout.HasErrors, network.Name);
                double worst = CheckAgainstInterpreter(network, assembly.CreateNetwork(ns + "." + network.Name));
                _output.WriteLine($"{network.Name}: largest error {worst:E2}");
            }
        }

        // Batch-norm whose ReLU6 training runs in its normalize pass (session 42; ReLU's before), on planes of 100 to 1 values:
        // small planes (2x2, and BatchNorm1d after a Linear layer, 20 features: two blocks of 8 channels in the lanes and 4 after
        // them) take their sums in one pass over the batch with the channels in the lanes and spread their parameters, forward
        // and backward. Against the interpreter in evaluation and training, forward and backward.
        [Fact]
        public void BatchNormWithReluSixAndSmallPlanesMatchesTheInterpreter()
        {
            static LayerSpec Conv(int outChannels, int stride, bool bias = true) => LayerSpec.Conv2d(outChannels, 3, 3, stride, stride, 1, 1, 1, 1, 1, bias);
            var networks = new[]
            {
                new RandomNetwork("ReluSixPlanes", TensorShape.Spatial(6, 10, 10), new[]
                {
                    Conv(16, 1), LayerSpec.BatchNorm(), LayerSpec.ReLU6(), Conv(24, 2, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU6(),
                    Conv(32, 2), LayerSpec.BatchNorm(), LayerSpec.ReLU6(), Conv(40, 2, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU6(),
                    LayerSpec.Flatten(), LayerSpec.Linear(20), LayerSpec.BatchNorm(), LayerSpec.ReLU6(), LayerSpec.Linear(3),
                }),
                new RandomNetwork("SmallPlanesNoActivation", TensorShape.Spatial(9, 4, 4), new[]
                {
                    Conv(17, 2), LayerSpec.BatchNorm(), LayerSpec.Tanh(), LayerSpec.Flatten(), LayerSpec.Linear(9), LayerSpec.BatchNorm(), LayerSpec.Linear(4),
                }),
            };
            CheckAllAgainstInterpreter("ReluSix", networks);
        }

        // Inception's factorized convolutions (1xk then kx1, padding along the kernel's axis only) run DirectConvolution's
        // tiles through GroupedConvolution: against the interpreter forward and backward, with batch-norm and ReLU after
        // them, unpadded and asymmetric shapes, odd channel counts, and a 5x5 next to them as Inception has.
        [Fact]
        public void NonSquareKernelNetworksMatchTheInterpreter()
        {
            static LayerSpec Conv(int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth, bool bias = true) =>
                LayerSpec.Conv2d(outChannels, kernelHeight, kernelWidth, 1, 1, paddingHeight, paddingWidth, 1, 1, 1, bias);
            var networks = new[]
            {
                new RandomNetwork("OneByThree", TensorShape.Spatial(8, 9, 11), new[]
                {
                    Conv(16, 1, 3, 0, 1), LayerSpec.BatchNorm(), LayerSpec.ReLU(), Conv(12, 3, 1, 1, 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                    Conv(5, 5, 5, 2, 2), LayerSpec.Tanh(), LayerSpec.Flatten(), LayerSpec.Linear(4),
                }),
                new RandomNetwork("OneBySeven", TensorShape.Spatial(5, 13, 12), new[]
                {
                    Conv(7, 1, 7, 0, 3), LayerSpec.ReLU(), Conv(32, 7, 1, 3, 0), LayerSpec.ReLU(), Conv(9, 1, 3, 0, 0), LayerSpec.Sigmoid(),
                    LayerSpec.MaxPool(2, null, 0), LayerSpec.Flatten(), LayerSpec.Linear(3),
                }),
                new RandomNetwork("Rectangular", TensorShape.Spatial(3, 10, 7), new[]
                {
                    Conv(6, 2, 3, 1, 0), LayerSpec.ReLU(), Conv(4, 3, 3, 0, 2), Conv(16, 5, 1, 2, 0, bias: false), LayerSpec.Flatten(), LayerSpec.Linear(2),
                }),
            };
            CheckAllAgainstInterpreter("NonSquare", networks);
        }

        // The same layers from 16 channels on enough tiles run by a one-dimensional Winograd on Vector512
        // (GroupedConvolution.RunsLineWinograd, RunsLineWinogradInputGradient: F(4, 3), F(4, 5), F(4, 7)), forward and input
        // gradient, with batch-norm folded into them in evaluation: against the interpreter, forward and backward.
        [Fact]
        public void LineWinogradNetworksMatchTheInterpreter()
        {
            static LayerSpec Conv(int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth, bool bias = true) =>
                LayerSpec.Conv2d(outChannels, kernelHeight, kernelWidth, 1, 1, paddingHeight, paddingWidth, 1, 1, 1, bias);
            var networks = new[]
            {
                new RandomNetwork("LineThreeAndFive", TensorShape.Spatial(16, 12, 14), new[]
                {
                    Conv(32, 1, 3, 0, 1), LayerSpec.BatchNorm(), LayerSpec.ReLU(), Conv(32, 3, 1, 1, 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU6(),
                    Conv(16, 1, 5, 0, 2), LayerSpec.ReLU(), LayerSpec.Flatten(), LayerSpec.Linear(4),
                }),
                new RandomNetwork("LineSeven", TensorShape.Spatial(16, 12, 12), new[]
                {
                    Conv(16, 7, 1, 3, 0), LayerSpec.ReLU(), Conv(32, 1, 7, 0, 3), LayerSpec.BatchNorm(), LayerSpec.ReLU(), Conv(16, 3, 1, 0, 0),
                    LayerSpec.Tanh(), LayerSpec.Flatten(), LayerSpec.Linear(3),
                }),
            };
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && CnnGen.Kernels.Simd.Enabled)
            {
                // The shapes take the Winograd routes they are here for.
                var first = new CnnGen.Kernels.ConvolutionGeometry(16, 12, 14, 32, 1, 3, 1, 1, 0, 1, 1, 1, 1);
                var seven = new CnnGen.Kernels.ConvolutionGeometry(16, 12, 12, 16, 7, 1, 1, 1, 3, 0, 1, 1, 1);
                Assert.True(CnnGen.Kernels.GroupedConvolution.RunsLineWinograd(first, CnnGen.Kernels.DirectConvolution.KernelPath.Vector512));
                Assert.True(CnnGen.Kernels.GroupedConvolution.RunsLineWinogradInputGradient(first, CnnGen.Kernels.DirectConvolution.KernelPath.Vector512));
                Assert.True(CnnGen.Kernels.GroupedConvolution.RunsLineWinograd(seven, CnnGen.Kernels.DirectConvolution.KernelPath.Vector512));
                Assert.True(CnnGen.Kernels.GroupedConvolution.RunsLineWinogradInputGradient(seven, CnnGen.Kernels.DirectConvolution.KernelPath.Vector512));
            }
            CheckAllAgainstInterpreter("LineWinograd", networks);
        }

        // 1x1 stride-2 and stride-3 convolutions without padding: subsampled into a plane for PointwiseConvolution where
        // StridedConvolution's rule takes that route (output channels that fill no whole vector on 256+ cells; on Vector256
        // from 196 cells), else the lanes kernel reading the input in place (or im2col + GEMM); the backward's subsampled
        // GEMMs and spread. With batch-norm (folded in evaluation, a strided layer after one without an activation), ReLU
        // and a 3x3 stride 2 without padding (read in place too), against the interpreter forward and backward.
        [Fact]
        public void StridedPointwiseNetworksMatchTheInterpreter()
        {
            static LayerSpec Conv(int outChannels, int kernel, int stride, int padding, bool bias = true) =>
                LayerSpec.Conv2d(outChannels, kernel, kernel, stride, stride, padding, padding, 1, 1, 1, bias);
            var networks = new[]
            {
                new RandomNetwork("SubsampledThenLanes", TensorShape.Spatial(12, 34, 34), new[]
                {
                    Conv(20, 1, 2, 0), LayerSpec.BatchNorm(), LayerSpec.ReLU(), Conv(32, 1, 2, 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                    LayerSpec.Flatten(), LayerSpec.Linear(3),
                }),
                new RandomNetwork("SubsampledIntoStrided", TensorShape.Spatial(9, 35, 33), new[]
                {
                    Conv(23, 1, 2, 0, bias: false), LayerSpec.BatchNorm(), Conv(32, 3, 2, 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                    Conv(16, 3, 2, 0), LayerSpec.Tanh(), LayerSpec.Flatten(), LayerSpec.Linear(4),
                }),
                new RandomNetwork("StrideThree", TensorShape.Spatial(7, 49, 52), new[]
                {
                    Conv(5, 1, 3, 0), LayerSpec.Sigmoid(), Conv(16, 1, 2, 0), LayerSpec.ReLU(), LayerSpec.MaxPool(2, null, 0), LayerSpec.Flatten(), LayerSpec.Linear(2),
                }),
            };
            CheckAllAgainstInterpreter("StridedPointwise", networks);
        }

        internal static double CheckAgainstInterpreter(RandomNetwork network, INetwork generated)
        {
            const int batch = 3;
            var layout = generated.Layout;
            Assert.Equal(network.Layout.ParameterCount, layout.ParameterCount);
            generated.ResetParametersForTest(seed: 7);
            var random = new CnnRandom(11);
            var input = new float[batch * layout.Input.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-2, 2);

            double worst = 0;
            foreach (bool training in new[] { false, true })
            {
                // Same starting buffers and the same dropout stream for both.
                var buffers = generated.Buffers.ToArray();
                var counters = generated.Counters.ToArray();
                var interpreter = new ReferenceInterpreter(layout);
                var dropout = new CnnRandom(5);
                var expected = interpreter.ForwardFloat(generated.Parameters, buffers, counters, input, batch, training, ref dropout);

                var workspace = generated.CreateWorkspace(batch, dropoutSeed: 5);
                var actual = new float[batch * layout.Output.Length];
                generated.Forward(input, actual, batch, workspace, training);

                string what = network.Name + (training ? " (training)" : " (eval)") + "\n" + network.Declaration();
                Compare.Close(actual, expected, 1e-4, what);
                Compare.Close(generated.Buffers, buffers, 1e-5, what + " running statistics");
                Assert.Equal(counters, generated.Counters.ToArray());
                worst = Math.Max(worst, Compare.MaxError(actual, expected));
                if (!training) continue;

                // Backward from a random output gradient: every parameter gradient and the input gradient.
                var outputGradient = new float[actual.Length];
                for (int i = 0; i < outputGradient.Length; i++) outputGradient[i] = random.NextUniform(-1, 1);
                var (expectedParameters, expectedInput) = interpreter.Backward(generated.Parameters, Array.ConvertAll(outputGradient, v => (double)v));
                var parameterGradients = new float[layout.ParameterCount];
                var inputGradient = new float[input.Length];
                generated.Backward(outputGradient, parameterGradients, workspace, inputGradient);
                Compare.Close(parameterGradients, Array.ConvertAll(expectedParameters, v => (float)v), 1e-4, what + " parameter gradients");
                Compare.Close(inputGradient, Array.ConvertAll(expectedInput, v => (float)v), 1e-4, what + " input gradient");
                worst = Math.Max(worst, Compare.MaxError(parameterGradients, Array.ConvertAll(expectedParameters, v => (float)v)));
            }
            return worst;
        }
    }

    internal static class NetworkTestExtensions
    {
        /// <summary>Initializes through the runtime, as the generated ResetParameters does, without reflection.</summary>
        public static void ResetParametersForTest(this INetwork network, ulong seed) =>
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, seed);
    }
}
