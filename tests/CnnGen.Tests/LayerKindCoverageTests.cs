using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Every layer kind is handled everywhere: it has its rule (shapes, tensors, names), its attribute, and a network
    /// using it generates, compiles, and agrees with the reference interpreter forward and backward. A new kind fails
    /// here until it has all of them and a sample declaration below.
    /// </summary>
    public sealed class LayerKindCoverageTests
    {
        /// <summary>A small network exercising each kind: its input shape and its attributes.</summary>
        private static readonly Dictionary<LayerKind, (TensorShape Input, string Attributes)> Samples = new()
        {
            [LayerKind.Conv2d] = (TensorShape.Spatial(2, 6, 5), "[Conv2d(3, 3, Padding = 1)]"),
            [LayerKind.MaxPool] = (TensorShape.Spatial(2, 6, 6), "[MaxPool(2)]"),
            [LayerKind.AvgPool] = (TensorShape.Spatial(2, 6, 6), "[AvgPool(3, Stride = 1, Padding = 1)]"),
            [LayerKind.BatchNorm] = (TensorShape.Spatial(2, 4, 4), "[BatchNorm]"),
            [LayerKind.ReLU] = (TensorShape.Spatial(2, 4, 4), "[ReLU]"),
            [LayerKind.LeakyReLU] = (TensorShape.Spatial(2, 4, 4), "[LeakyReLU(0.2)]"),
            [LayerKind.Sigmoid] = (TensorShape.Spatial(2, 4, 4), "[Sigmoid]"),
            [LayerKind.Tanh] = (TensorShape.Spatial(2, 4, 4), "[Tanh]"),
            [LayerKind.Flatten] = (TensorShape.Spatial(2, 4, 4), "[Flatten]"),
            [LayerKind.Linear] = (TensorShape.Spatial(2, 3, 3), "[Flatten] [Linear(4)]"),
            [LayerKind.Dropout] = (TensorShape.Spatial(2, 4, 4), "[Dropout(0.25)]"),
            [LayerKind.Softmax] = (TensorShape.Spatial(2, 3, 3), "[Flatten] [Softmax]"),
            [LayerKind.ConvTranspose2d] = (TensorShape.Spatial(3, 4, 5), "[ConvTranspose2d(2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]"),
            [LayerKind.GlobalAvgPool] = (TensorShape.Spatial(3, 5, 4), "[GlobalAvgPool]"),
            [LayerKind.AdaptiveAvgPool] = (TensorShape.Spatial(3, 7, 5), "[AdaptiveAvgPool(3, 2)]"),
            [LayerKind.Upsample] = (TensorShape.Spatial(2, 3, 4), "[Upsample(2, Mode = UpsampleMode.Bilinear)]"),
            [LayerKind.ReLU6] = (TensorShape.Spatial(2, 4, 4), "[ReLU6]"),
            [LayerKind.Hardswish] = (TensorShape.Spatial(2, 4, 4), "[Hardswish]"),
            [LayerKind.SiLU] = (TensorShape.Spatial(2, 4, 4), "[SiLU]"),
            [LayerKind.GELU] = (TensorShape.Spatial(2, 4, 4), "[GELU]"),
            [LayerKind.Residual] = (TensorShape.Spatial(2, 4, 4), "[Residual] [Conv2d(2, 3, Padding = 1)] [End]"),
            [LayerKind.Shortcut] = (TensorShape.Spatial(2, 6, 6), "[Residual] [Conv2d(4, 3, Stride = 2, Padding = 1)] [Shortcut] [Conv2d(4, 1, Stride = 2)] [End]"),
            [LayerKind.Concat] = (TensorShape.Spatial(2, 4, 4), "[Concat] [Branch] [Branch] [Conv2d(3, 1)] [End]"),
            [LayerKind.Branch] = (TensorShape.Spatial(2, 4, 4), "[Concat] [Branch] [ReLU] [Branch] [Conv2d(1, 3, Padding = 1)] [Branch] [End]"),
            [LayerKind.End] = (TensorShape.Spatial(2, 4, 4), "[Residual] [Residual] [Tanh] [End] [End]"),
        };

        [Fact]
        public void EveryKind_HasItsRule_AndItsAttribute_AndASample()
        {
            foreach (var kind in Enum.GetValues<LayerKind>())
            {
                Assert.Equal(kind, LayerRules.For(kind).Kind);
                var attribute = typeof(NetworkAttribute).Assembly.GetType("CnnGen." + kind + "Attribute");
                Assert.True(attribute is not null, "No [" + kind + "] attribute in the runtime");
                Assert.True(Samples.ContainsKey(kind), "No sample network for " + kind + ": add one to LayerKindCoverageTests.Samples");
            }
        }

        [Fact]
        public void EveryKind_Generates_AndMatchesTheInterpreter()
        {
            var source = new StringBuilder("using CnnGen;\nnamespace Kinds;\n");
            var networks = new List<RandomNetwork>();
            foreach (var (kind, (input, attributes)) in Samples)
            {
                string name = "Sample" + kind;
                source.Append("[Network(").Append(input.Channels).Append(", ").Append(input.Height).Append(", ").Append(input.Width).Append(")] ")
                    .Append(attributes).Append(" public partial class ").Append(name).Append(" { }\n");
                // The same declaration as specs, through the generated class's own Layout (checked against the attributes below).
                networks.Add(new RandomNetwork(name, input, Array.Empty<LayerSpec>()));
            }
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            foreach (var network in networks)
            {
                var generated = assembly.CreateNetwork("Kinds." + network.Name);
                var kind = Enum.Parse<LayerKind>(network.Name.Substring("Sample".Length));
                bool uses = generated.Layout.Layers.Any(l => l.Kind == kind)
                    || kind is LayerKind.Residual or LayerKind.Shortcut && generated.Layout.Root.Nodes.Any(n => n is ResidualLayout)
                    || kind is LayerKind.Concat or LayerKind.Branch && generated.Layout.Root.Nodes.Any(n => n is ConcatLayout)
                    || kind == LayerKind.End;
                Assert.True(uses, network.Name + " does not use " + kind);
                var specs = new RandomNetwork(network.Name, network.Input, SpecsOf(generated.Layout));
                DifferentialTests.CheckAgainstInterpreter(specs, generated);
            }
        }

        /// <summary>The layers of a layout back as the attribute list (markers included), for the differential check's messages and parameter count.</summary>
        private static LayerSpec[] SpecsOf(NetworkLayout layout)
        {
            var specs = new List<LayerSpec>();
            void Sequence(SequenceLayout sequence)
            {
                foreach (var node in sequence.Nodes)
                {
                    switch (node)
                    {
                        case LayerLayout layer: specs.Add(layer.Spec); break;
                        case ResidualLayout residual:
                            specs.Add(LayerSpec.Residual());
                            Sequence(residual.Body);
                            if (!residual.Shortcut.IsIdentity) { specs.Add(LayerSpec.Shortcut()); Sequence(residual.Shortcut); }
                            specs.Add(LayerSpec.End());
                            break;
                        case ConcatLayout concat:
                            specs.Add(LayerSpec.Concat());
                            foreach (var branch in concat.Branches) { specs.Add(LayerSpec.Branch()); Sequence(branch); }
                            specs.Add(LayerSpec.End());
                            break;
                    }
                }
            }
            Sequence(layout.Root);
            return specs.ToArray();
        }
    }
}
