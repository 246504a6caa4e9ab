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
    /// Random graph networks (residuals, concatenations, nesting, groups, dilation, transposed convolutions, upsampling,
    /// adaptive pooling, every activation, non-square shapes, vector and feature-map outputs), generated and compiled in
    /// memory, agree with the reference interpreter forward and backward, in training and evaluation.
    /// </summary>
    public sealed class GraphDifferentialTests
    {
        public const int NetworksPerGroup = 50;
        private readonly ITestOutputHelper _output;

        public GraphDifferentialTests(ITestOutputHelper output) => _output = output;

        // Six groups of 50: 300 graphs, one in-memory compilation per group.
        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        [InlineData(4)]
        [InlineData(5)]
        public void RandomGraphsMatchTheInterpreter(int group)
        {
            var networks = Enumerable.Range(group * NetworksPerGroup, NetworksPerGroup).Select(RandomGraphs.Create).ToArray();
            var source = new StringBuilder("using CnnGen;\nnamespace RandomGraph;\n");
            foreach (var network in networks) source.Append("#pragma warning disable CNN0015, CNN0020\n").Append(network.Declaration()).Append('\n');

            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            double worst = 0;
            int blocks = 0;
            foreach (var network in networks)
            {
                var generated = assembly.CreateNetwork("RandomGraph." + network.Name);
                worst = Math.Max(worst, DifferentialTests.CheckAgainstInterpreter(network, generated));
                blocks += network.Layers.Count(l => l.Kind is LayerKind.Residual or LayerKind.Concat);
            }
            _output.WriteLine($"{networks.Length} graphs with {blocks} blocks, largest error {worst:E2}");
        }

        [Fact]
        public void IdentityResidualInputs_TakeTheSumsGradientArray_ButNotOneAnOuterInputHolds()
        {
            // An identity residual's input takes the sum's gradient array instead of a copy when the body's first layer is its
            // only other reader. The inner block here ends the outer body, so its sum's gradient array is the outer sum's,
            // which the outer input has taken and needs unchanged until the outer body is done: the inner input copies.
            var layers = new[]
            {
                LayerSpec.Conv2d(4, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Residual(),
                    LayerSpec.Conv2d(4, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                    LayerSpec.Residual(), LayerSpec.Conv2d(4, 3, stride: 1, padding: 1), LayerSpec.Tanh(), LayerSpec.End(),
                LayerSpec.End(),
                LayerSpec.ReLU(),
                LayerSpec.Residual(), LayerSpec.Conv2d(4, 1, stride: 1, padding: 0), LayerSpec.End(),
                LayerSpec.Flatten(), LayerSpec.Linear(3),
            };
            var network = new RandomNetwork("NestedIdentityNet", TensorShape.Spatial(2, 6, 6), layers);
            string source = "using CnnGen;\nnamespace NestedIdentity;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            string backward = generated.Substring(generated.IndexOf("outputGradient.CopyTo(", StringComparison.Ordinal));
            // Of the three identity blocks only the inner one copies its sum's gradient.
            Assert.Equal(3, backward.Split("flows unchanged into the body and the input").Length - 1);
            Assert.Equal(1, backward.Split("AsSpan(0, batchSize * 144).CopyTo(workspace.GradientOf").Length - 1);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("NestedIdentity." + network.Name));
        }

        [Fact]
        public void TheGraphsCoverEveryLayerKindAndBlock()
        {
            var kinds = Enumerable.Range(0, 6 * NetworksPerGroup).Select(RandomGraphs.Create).SelectMany(n => n.Layers).Select(l => l.Kind).ToHashSet();
            // Softmax is left to the sequential differential test (it belongs at the end of a classifier).
            var missing = Enum.GetValues<LayerKind>().Where(k => k != LayerKind.Softmax && !kinds.Contains(k)).ToList();
            Assert.True(missing.Count == 0, "Never generated: " + string.Join(", ", missing));
            var specs = Enumerable.Range(0, 6 * NetworksPerGroup).Select(RandomGraphs.Create).SelectMany(n => n.Layers).ToList();
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && s.Groups > 1 && s.Groups == s.Units);
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && (s.Dilation > 1 || s.DilationWidth > 1));
            Assert.Contains(specs, s => s.Kind == LayerKind.Conv2d && s.Kernel != s.KernelWidth);
            Assert.Contains(specs, s => s.Kind == LayerKind.Upsample && s.Mode == InterpolationMode.Bilinear);
        }
    }
}
