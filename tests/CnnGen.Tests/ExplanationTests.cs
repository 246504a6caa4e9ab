using System;
using System.Linq;
using CnnGen.Explain;
using CnnGen.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Gradients in evaluation mode: ForwardForGradients + Backward against the reference interpreter (batch-norm through
    /// its running statistics, dropout the identity), and saliency and Grad-CAM against PyTorch (hooks and
    /// torch.autograd.grad, tests/fixtures/make_explain_fixtures.py).
    /// </summary>
    public sealed class ExplanationTests
    {
        private readonly ITestOutputHelper _output;

        public ExplanationTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData("batchnorm")]
        [InlineData("activations")] // dropout
        [InlineData("mobilenetv2")]
        [InlineData("unet")]
        public void EvaluationGradientsMatchTheInterpreter_AndChangeNothing(string name)
        {
            var fixture = PyTorchParityTests.Fixture(name);
            var network = PyTorchParityTests.Load(name, fixture);
            var input = fixture.GetFloats("input");
            int batch = input.Length / network.Layout.Input.Length;
            var buffers = network.Buffers.ToArray();
            var counters = network.Counters.ToArray();

            var workspace = network.CreateWorkspace(batch);
            var evaluation = new float[batch * network.Layout.Output.Length];
            network.Forward(input, evaluation, batch, workspace);
            var output = new float[evaluation.Length];
            network.ForwardForGradients(input, output, batch, workspace);
            Compare.Close(output, evaluation, 1e-5, name + ": the same outputs as evaluation");
            Assert.Equal(buffers, network.Buffers.ToArray());
            Assert.Equal(counters, network.Counters.ToArray());

            var random = new CnnRandom(3);
            var outputGradient = new float[output.Length];
            for (int i = 0; i < outputGradient.Length; i++) outputGradient[i] = random.NextUniform(-1, 1);
            var parameterGradients = new float[network.Layout.ParameterCount];
            var inputGradient = new float[input.Length];
            network.Backward(outputGradient, parameterGradients, workspace, inputGradient);

            var interpreter = new ReferenceInterpreter(network.Layout);
            var dropout = new CnnRandom(0);
            interpreter.Forward(network.Parameters, network.Buffers.ToArray(), network.Counters.ToArray(), input, batch, training: false, ref dropout);
            var (expectedParameters, expectedInput) = interpreter.Backward(network.Parameters, Array.ConvertAll(outputGradient, v => (double)v));
            Compare.Close(inputGradient, Array.ConvertAll(expectedInput, v => (float)v), 1e-4, name + " input gradient");
            Compare.Close(parameterGradients, Array.ConvertAll(expectedParameters, v => (float)v), 1e-4, name + " parameter gradients");
            Assert.Equal(buffers, network.Buffers.ToArray());
        }

        [Theory]
        [InlineData("lenet5", "4")]
        [InlineData("resnet8", "8")]
        public void SaliencyAndGradCamMatchPyTorch(string name, string path)
        {
            var network = PyTorchParityTests.Load(name, PyTorchParityTests.Fixture(name));
            var explain = PyTorchParityTests.Fixture("explain");
            var image = PyTorchParityTests.Fixture(name).GetFloats("input").AsSpan(0, network.Layout.Input.Length).ToArray();
            int classIndex = (int)explain.GetInt64s(name + ".class")[0];
            int layer = network.Layout.Layers.Single(l => l.Path == path).Index;

            var saliency = new float[image.Length];
            Explanations.Saliency(network, image, classIndex, saliency);
            Compare.Close(saliency, explain.GetFloats(name + ".saliency"), 1e-6, name + " saliency");

            var shape = network.Layout.Layers[layer].Output;
            var map = new float[shape.Height * shape.Width];
            var upsampled = new float[network.Layout.Input.Height * network.Layout.Input.Width];
            Explanations.GradCam(network, image, layer, classIndex, map, upsampled);
            var expectedMap = explain.GetFloats(name + ".gradcam." + path);
            double scale = expectedMap.Max();
            Compare.Close(map, expectedMap, 1e-5 * scale, name + " Grad-CAM");
            Compare.Close(upsampled, explain.GetFloats(name + ".gradcam_up." + path), 1e-5 * scale, name + " Grad-CAM upsampled");
            _output.WriteLine($"{name}: saliency error {Compare.MaxError(saliency, explain.GetFloats(name + ".saliency")):E2}, Grad-CAM error {Compare.MaxError(map, expectedMap):E2} (max {scale:E2})");
        }

        [Fact]
        public void GradCamRefusesAVectorLayerAndAnOutputNotKept()
        {
            var network = PyTorchParityTests.Load("lenet5", PyTorchParityTests.Fixture("lenet5"));
            var image = new float[network.Layout.Input.Length];
            Assert.Throws<ArgumentException>(() => Explanations.GradCam(network, image, 7, 0, new float[120]));
            var notKept = Assert.Throws<ArgumentException>(() => Explanations.GradCam(network, image, 0, 0, new float[28 * 28]));
            Assert.Contains("not kept", notKept.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Saliency(network, image, 10, new float[image.Length]));
        }
    }
}
