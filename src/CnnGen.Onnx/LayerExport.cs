using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Onnx.Graph;
using CnnGen.Shapes;

namespace CnnGen.Onnx
{
    /// <summary>
    /// A node of a network's sequence as the exporter walks it. Today a network is a sequence of layers; the graph form
    /// (a sequence of nodes, each a layer, a residual with body and shortcut sequences, or a concat of branch sequences)
    /// adds <see cref="ResidualNode"/> and <see cref="ConcatNode"/> cases, already written below.
    /// </summary>
    internal abstract record ExportNode;

    /// <summary>One layer: its spec, shapes and tensors.</summary>
    internal sealed record LayerNode(LayerLayout Layout) : ExportNode;

    /// <summary>y = body(x) + shortcut(x); an empty shortcut is the identity.</summary>
    internal sealed record ResidualNode(IReadOnlyList<ExportNode> Body, IReadOnlyList<ExportNode> Shortcut) : ExportNode;

    /// <summary>y = cat([branch(x) for each branch], dim=1); an empty branch is the identity.</summary>
    internal sealed record ConcatNode(IReadOnlyList<IReadOnlyList<ExportNode>> Branches) : ExportNode;

    /// <summary>
    /// The walk: sequences of nodes become ONNX nodes in order, a layer through one small function per kind. Adding a
    /// layer kind is a case in <see cref="EmitLayer"/> and a function in <see cref="OnnxOps"/>; adding a block kind is a
    /// case in <see cref="EmitNode"/>.
    /// </summary>
    internal sealed class LayerExport
    {
        private readonly OnnxGraph _graph;
        private readonly INetwork _network;

        public LayerExport(OnnxGraph graph, INetwork network)
        {
            _graph = graph;
            _network = network;
        }

        /// <summary>Today's networks: the linear layer list as a sequence of layer nodes.</summary>
        public static IReadOnlyList<ExportNode> Sequence(NetworkLayout layout)
        {
            var nodes = new List<ExportNode>(layout.Layers.Count);
            foreach (var layer in layout.Layers) nodes.Add(new LayerNode(layer));
            return nodes;
        }

        /// <summary>Emits a sequence; <paramref name="scope"/> is its PyTorch module path ("" for the network, "3.body" in a residual).</summary>
        public string EmitSequence(IReadOnlyList<ExportNode> nodes, string x, string scope)
        {
            for (int i = 0; i < nodes.Count; i++)
                x = EmitNode(nodes[i], x, Child(scope, i.ToString(CultureInfo.InvariantCulture)));
            return x;
        }

        public string EmitNode(ExportNode node, string x, string path) => node switch
        {
            LayerNode layer => EmitLayer(layer.Layout, x, path),
            ResidualNode residual => EmitResidual(residual, x, path),
            ConcatNode concat => EmitConcat(concat, x, path),
            _ => throw new NotSupportedException("No ONNX export for " + node.GetType().Name + "."),
        };

        /// <summary>Residual: body and shortcut from the same input, then Add (no broadcasting: the shapes are equal).</summary>
        public string EmitResidual(ResidualNode residual, string x, string path)
        {
            string body = EmitSequence(residual.Body, x, Child(path, "body"));
            string shortcut = EmitSequence(residual.Shortcut, x, Child(path, "shortcut"));
            var scope = new LayerScope(_graph, "Residual #" + path, "/" + path, "Residual " + path + ": body(x) + shortcut(x)");
            return scope.Main("Add", new[] { body, shortcut });
        }

        /// <summary>Concat: every branch from the same input, joined along channels (axis 1).</summary>
        public string EmitConcat(ConcatNode concat, string x, string path)
        {
            var outputs = new string[concat.Branches.Count];
            for (int k = 0; k < outputs.Length; k++)
                outputs[k] = EmitSequence(concat.Branches[k], x, Child(path, "branches." + k.ToString(CultureInfo.InvariantCulture)));
            var scope = new LayerScope(_graph, "Concat #" + path, "/" + path, "Concat " + path + ": cat(branches, dim=1)");
            return scope.Main("Concat", outputs, OnnxAttribute.Of("axis", 1L));
        }

        /// <summary>One layer to its ONNX node(s). Every <see cref="LayerKind"/> has a case; an unknown kind is refused, never skipped.</summary>
        public string EmitLayer(LayerLayout layer, string x, string path)
        {
            var spec = layer.Spec;
            var s = new LayerScope(_graph, layer.TorchName + " #" + path, "/" + path, layer.Describe());
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    return OnnxOps.Conv(s, x, Weight(layer, "weight"), spec.Bias ? Weight(layer, "bias") : null,
                        Window2d.Square(spec.Kernel, spec.Stride, spec.Padding));
                case LayerKind.MaxPool:
                    return OnnxOps.MaxPool(s, x, Window2d.Square(spec.Kernel, spec.Stride, spec.Padding));
                case LayerKind.AvgPool:
                    return OnnxOps.AveragePool(s, x, Window2d.Square(spec.Kernel, spec.Stride, spec.Padding));
                case LayerKind.BatchNorm:
                    return OnnxOps.BatchNormalization(s, x, layer.Input.IsSpatial ? 4 : 2,
                        Weight(layer, "weight"), Weight(layer, "bias"), Weight(layer, "running_mean"), Weight(layer, "running_var"), spec.Eps, spec.Momentum);
                case LayerKind.ReLU:
                    return OnnxOps.Unary(s, "Relu", x);
                case LayerKind.LeakyReLU:
                    return OnnxOps.LeakyRelu(s, x, spec.Slope);
                case LayerKind.Sigmoid:
                    return OnnxOps.Unary(s, "Sigmoid", x);
                case LayerKind.Tanh:
                    return OnnxOps.Unary(s, "Tanh", x);
                case LayerKind.Flatten:
                    return OnnxOps.Flatten(s, x);
                case LayerKind.Linear:
                    return OnnxOps.Linear(s, x, Weight(layer, "weight"), spec.Bias ? Weight(layer, "bias") : null);
                case LayerKind.Dropout:
                    return OnnxOps.Dropout(s, x, spec.P);
                case LayerKind.Softmax:
                    return OnnxOps.Softmax(s, x);
                default:
                    throw new NotSupportedException($"No ONNX export for the layer kind {spec.Kind} ({layer.Describe()}).");
            }
        }

        /// <summary>
        /// The layer's tensor named <c>{path}.{what}</c> (its PyTorch key) as an initializer of that name, holding the network's
        /// current values. <c>num_batches_tracked</c> is never asked for: no ONNX operator reads it.
        /// </summary>
        private string Weight(LayerLayout layer, string what)
        {
            foreach (var entry in layer.Tensors)
            {
                if (!(entry.Name == what || entry.Name.EndsWith("." + what, StringComparison.Ordinal))) continue;
                ReadOnlySpan<float> block = entry.Block switch
                {
                    TensorBlock.Parameters => _network.Parameters,
                    TensorBlock.Buffers => _network.Buffers,
                    _ => throw new NotSupportedException($"The tensor {entry.Name} is not a float tensor."),
                };
                var dims = Array.ConvertAll(entry.Shape, d => (long)d);
                return _graph.AddFloats(entry.Name, block.Slice(entry.Offset, entry.Length), dims);
            }
            throw new InvalidOperationException($"{layer.Describe()} has no tensor '{what}'.");
        }

        private static string Child(string scope, string name) => scope.Length == 0 ? name : scope + "." + name;
    }
}
