using System;
using System.Globalization;
using CnnGen.Onnx.Graph;
using CnnGen.Shapes;

namespace CnnGen.Onnx
{
    /// <summary>
    /// The walk over the network's own tree (<see cref="NetworkLayout.Root"/>): a sequence's nodes become ONNX nodes in
    /// order; a layer goes through one small function per kind (<see cref="EmitLayer"/>, functions in <see cref="OnnxOps"/>),
    /// a residual block becomes its body and shortcut from the same input joined by Add, a concatenation its branches from
    /// the same input joined by Concat along channels. An empty shortcut or branch is the identity: the block's input value
    /// itself. Blocks nest to any depth. Adding a layer kind is a case in <see cref="EmitLayer"/>; adding a block kind is a
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

        /// <summary>Emits a sequence (the network, a body, a shortcut, a branch) from the value <paramref name="x"/>; an empty sequence returns <paramref name="x"/>.</summary>
        public string EmitSequence(SequenceLayout sequence, string x)
        {
            foreach (var node in sequence.Nodes) x = EmitNode(node, x);
            return x;
        }

        public string EmitNode(NodeLayout node, string x) => node switch
        {
            LayerLayout layer => EmitLayer(layer, x),
            ResidualLayout residual => EmitResidual(residual, x),
            ConcatLayout concat => EmitConcat(concat, x),
            _ => throw new NotSupportedException("No ONNX export for " + node.GetType().Name + "."),
        };

        /// <summary>Residual: body and shortcut from the same input, then Add (no broadcasting: the shapes are equal).</summary>
        public string EmitResidual(ResidualLayout residual, string x)
        {
            string body = EmitSequence(residual.Body, x);
            string shortcut = EmitSequence(residual.Shortcut, x);
            var scope = new LayerScope(_graph, "Residual " + residual.Path, "/" + residual.Path, residual.Describe());
            return scope.Main("Add", new[] { body, shortcut });
        }

        /// <summary>Concat: every branch from the same input, joined along channels (axis 1).</summary>
        public string EmitConcat(ConcatLayout concat, string x)
        {
            var outputs = new string[concat.Branches.Count];
            for (int k = 0; k < outputs.Length; k++) outputs[k] = EmitSequence(concat.Branches[k], x);
            var scope = new LayerScope(_graph, "Concat " + concat.Path, "/" + concat.Path, concat.Describe());
            return scope.Main("Concat", outputs, OnnxAttribute.Of("axis", 1L));
        }

        /// <summary>
        /// A layer's node name: the head of its row in the layer table, <c>Conv2d #0</c> for a module of the network itself,
        /// <c>Conv2d #4 (3.body.1)</c> with the module path for a layer inside a block.
        /// </summary>
        public static string NodeName(LayerLayout layer)
        {
            string index = layer.Index.ToString(CultureInfo.InvariantCulture);
            return layer.TorchName + " #" + index + (layer.Path == index ? "" : " (" + layer.Path + ")");
        }

        /// <summary>One layer to its ONNX node(s). Every <see cref="LayerKind"/> has a case; an unknown kind is refused, never skipped.</summary>
        public string EmitLayer(LayerLayout layer, string x)
        {
            var spec = layer.Spec;
            var s = new LayerScope(_graph, NodeName(layer), "/" + layer.Path, layer.Describe());
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    return OnnxOps.Conv(s, x, Weight(layer, "weight"), spec.Bias ? Weight(layer, "bias") : null, ConvWindow(spec), spec.Groups);
                case LayerKind.ConvTranspose2d:
                    // One group, no dilation: CnnGen's ConvTranspose2d has neither (weight [in, out, kh, kw]).
                    return OnnxOps.ConvTranspose(s, x, Weight(layer, "weight"), spec.Bias ? Weight(layer, "bias") : null,
                        ConvWindow(spec) with { DilationH = 1, DilationW = 1 }, spec.OutputPadding, spec.OutputPaddingWidth);
                case LayerKind.MaxPool:
                    return OnnxOps.MaxPool(s, x, Window2d.Square(spec.Kernel, spec.Stride, spec.Padding));
                case LayerKind.AvgPool:
                    return OnnxOps.AveragePool(s, x, Window2d.Square(spec.Kernel, spec.Stride, spec.Padding));
                case LayerKind.GlobalAvgPool:
                    return OnnxOps.GlobalAveragePool(s, x);
                case LayerKind.AdaptiveAvgPool:
                    return OnnxOps.AdaptiveAveragePool(s, x, layer.Input.Channels, layer.Input.Height, layer.Input.Width, spec.OutHeight, spec.OutWidth);
                case LayerKind.Upsample:
                    return spec.Mode switch
                    {
                        InterpolationMode.Nearest => OnnxOps.UpsampleNearest(s, x, spec.Scale, spec.Scale),
                        InterpolationMode.Bilinear => OnnxOps.UpsampleBilinear(s, x, spec.Scale, spec.Scale),
                        _ => throw new NotSupportedException($"No ONNX export for the interpolation mode {spec.Mode} ({layer.Describe()})."),
                    };
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
                case LayerKind.ReLU6:
                    return OnnxOps.ReLU6(s, x);
                case LayerKind.Hardswish:
                    return OnnxOps.Hardswish(s, x);
                case LayerKind.SiLU:
                    return OnnxOps.SiLU(s, x);
                case LayerKind.GELU:
                    return spec.TanhApproximation ? OnnxOps.GeluTanh(s, x) : OnnxOps.GeluErf(s, x);
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

        /// <summary>A convolution's window, per axis: the height values and the <c>…Width</c> values, padding the same on both sides of an axis.</summary>
        private static Window2d ConvWindow(LayerSpec spec) =>
            new(spec.Kernel, spec.KernelWidth, spec.Stride, spec.StrideWidth, spec.Padding, spec.PaddingWidth, spec.Padding, spec.PaddingWidth,
                spec.Dilation, spec.DilationWidth);

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
    }
}
