using System;
using System.Linq;
using CnnGen.Tests.Fixtures;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The ReLU before a residual join's gradient sum takes the sum's two parts in its own pass (the generated
    /// Elementwise.ReluBackwardOfSum); asked for that ReLU's gradient, backward makes the sum first as before. Both must give
    /// the same gradients bit for bit.
    /// </summary>
    public sealed class ResidualJoinBackwardTests
    {
        [Theory]
        [InlineData("2")] // the stem's ReLU: the identity shortcut's part and the first block's
        [InlineData("4")] // after the first block: the projection shortcut's part and the second block's
        [InlineData("6")]
        public void TheJoinedReluGivesTheSameGradientsWhetherOrNotItsOwnIsAskedFor(string path)
        {
            INetwork network = new ResNet8();
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 5);
            var relu = network.Layout.Layers.Single(l => l.Path == path);
            Assert.Equal("ReLU", relu.Kind.ToString());
            const int batch = 3;
            var random = new CnnRandom(11);
            var input = new float[batch * network.Layout.Input.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-1, 1);
            var outputGradient = new float[batch * network.Layout.Output.Length];
            for (int i = 0; i < outputGradient.Length; i++) outputGradient[i] = random.NextUniform(-1, 1);
            var workspace = network.CreateWorkspace(batch);
            var output = new float[outputGradient.Length];

            float[] fusedParameters = new float[network.Layout.ParameterCount], fusedInput = new float[input.Length];
            network.Forward(input, output, batch, workspace, training: true);
            network.Backward(outputGradient, fusedParameters, workspace, fusedInput);

            float[] parameters = new float[network.Layout.ParameterCount], inputGradient = new float[input.Length];
            var layerGradient = new float[batch * relu.Output.Length];
            network.Forward(input, output, batch, workspace, training: true);
            network.Backward(outputGradient, parameters, workspace, inputGradient, relu.Index, layerGradient);

            Assert.Equal(parameters, fusedParameters);
            Assert.Equal(inputGradient, fusedInput);
            Assert.Contains(layerGradient, v => v != 0f);
        }
    }
}
