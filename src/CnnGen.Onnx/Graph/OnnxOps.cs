using System;
using System.Collections.Generic;

namespace CnnGen.Onnx.Graph
{
    /// <summary>
    /// Where a layer's nodes go: the graph, the layer's node name (<c>Conv2d #0</c>, from the layer table), the scope its
    /// values are named in (<c>/0</c>, <c>/3.body.1</c>) and the doc string every node of the layer carries. The layer's
    /// main node takes the layer's name; helper nodes (an Unsqueeze around a BatchNorm1d, a Mul after a Sigmoid) are
    /// named <c>{layer}/{OpType}</c>.
    /// </summary>
    internal sealed class LayerScope
    {
        public LayerScope(OnnxGraph graph, string nodeName, string valueScope, string? docString)
        {
            Graph = graph;
            NodeName = nodeName;
            ValueScope = valueScope;
            DocString = docString;
        }

        public OnnxGraph Graph { get; }
        public string NodeName { get; }
        public string ValueScope { get; }
        public string? DocString { get; }

        /// <summary>The layer's main node.</summary>
        public string Main(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
            Graph.Add(NodeName, ValueScope, opType, inputs, DocString, attributes);

        /// <summary>A helper node of the layer.</summary>
        public string Helper(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
            Graph.Add(NodeName + "/" + opType, ValueScope, opType, inputs, DocString, attributes);

        /// <summary>An int64 constant (axes, shapes) named in the layer's scope.</summary>
        public string Int64s(string what, params long[] values) => Graph.AddInt64s(ValueScope + "/" + what, values, new long[] { values.Length });

        /// <summary>A float scalar constant named in the layer's scope.</summary>
        public string FloatScalar(string what, float value) =>
            Graph.AddFloats(ValueScope + "/" + what, new[] { value }, Array.Empty<long>(), exactName: false);
    }

    /// <summary>A 2-d window: kernel, stride, padding (top, left, bottom, right as ONNX orders pads), dilation, per axis.</summary>
    internal readonly record struct Window2d(int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight,
        int DilationH = 1, int DilationW = 1)
    {
        /// <summary>Square kernel, equal strides, the same padding on every side: today's Conv2d and pools.</summary>
        public static Window2d Square(int kernel, int stride, int padding) => new(kernel, kernel, stride, stride, padding, padding, padding, padding);

        public long[] KernelShape => new long[] { KernelH, KernelW };
        public long[] Strides => new long[] { StrideH, StrideW };
        public long[] Pads => new long[] { PadTop, PadLeft, PadBottom, PadRight };
        public long[] Dilations => new long[] { DilationH, DilationW };
    }

    /// <summary>
    /// One small function per ONNX operator (or short operator pattern) the exporter writes, with plain arguments: the
    /// per-layer mapping (<see cref="LayerExport"/>) decides the arguments, these decide the nodes. Opset 17 semantics.
    /// </summary>
    internal static class OnnxOps
    {
        /// <summary>Conv: cross-correlation, zero padding, PyTorch's floor output size (no auto_pad).</summary>
        public static string Conv(LayerScope s, string x, string weight, string? bias, Window2d window, int groups = 1) =>
            s.Main("Conv", bias is null ? new[] { x, weight } : new[] { x, weight, bias },
                OnnxAttribute.Of("kernel_shape", window.KernelShape),
                OnnxAttribute.Of("strides", window.Strides),
                OnnxAttribute.Of("pads", window.Pads),
                OnnxAttribute.Of("dilations", window.Dilations),
                OnnxAttribute.Of("group", (long)groups));

        /// <summary>MaxPool: padded cells never win (ONNX pads max pooling with -inf, as PyTorch does); floor mode.</summary>
        public static string MaxPool(LayerScope s, string x, Window2d window) =>
            s.Main("MaxPool", new[] { x },
                OnnxAttribute.Of("kernel_shape", window.KernelShape),
                OnnxAttribute.Of("strides", window.Strides),
                OnnxAttribute.Of("pads", window.Pads),
                OnnxAttribute.Of("ceil_mode", 0L));

        /// <summary>
        /// AveragePool with <c>count_include_pad=1</c>: PyTorch's default divides by the whole kernel, padded cells included.
        /// In floor mode (ceil_mode=0) no window reaches past the padding, so the divisor is always kernel height x width.
        /// </summary>
        public static string AveragePool(LayerScope s, string x, Window2d window) =>
            s.Main("AveragePool", new[] { x },
                OnnxAttribute.Of("kernel_shape", window.KernelShape),
                OnnxAttribute.Of("strides", window.Strides),
                OnnxAttribute.Of("pads", window.Pads),
                OnnxAttribute.Of("ceil_mode", 0L),
                OnnxAttribute.Of("count_include_pad", 1L));

        /// <summary>
        /// BatchNormalization in inference form (training_mode 0) with the running statistics as inputs. ONNX's momentum
        /// weighs the running value (running = running * momentum + batch * (1 - momentum)), PyTorch's the batch value,
        /// so PyTorch's momentum m is written as 1 - m, as torch.onnx writes it. ONNX wants rank 3 or more (N, C, D1, ...):
        /// a BatchNorm1d on (N, C) is wrapped in Unsqueeze(axis 2) and Squeeze(axis 2), as torch.onnx does.
        /// </summary>
        public static string BatchNormalization(LayerScope s, string x, int rank, string scale, string bias, string mean, string variance, double eps, double momentum)
        {
            if (rank == 2) x = s.Helper("Unsqueeze", new[] { x, s.Int64s("axes", 2) });
            string y = s.Main("BatchNormalization", new[] { x, scale, bias, mean, variance },
                OnnxAttribute.Of("epsilon", (float)eps),
                OnnxAttribute.Of("momentum", (float)(1 - momentum)),
                OnnxAttribute.Of("training_mode", 0L));
            if (rank == 2) y = s.Helper("Squeeze", new[] { y, s.Int64s("axes", 2) });
            return y;
        }

        /// <summary>An operator of one input and no attributes: Relu, Sigmoid, Tanh, Erf, Identity, ...</summary>
        public static string Unary(LayerScope s, string opType, string x) => s.Main(opType, new[] { x });

        public static string LeakyRelu(LayerScope s, string x, double slope) => s.Main("LeakyRelu", new[] { x }, OnnxAttribute.Of("alpha", (float)slope));

        /// <summary>Flatten at axis 1: (N, C, H, W) to (N, C*H*W), in PyTorch's order.</summary>
        public static string Flatten(LayerScope s, string x) => s.Main("Flatten", new[] { x }, OnnxAttribute.Of("axis", 1L));

        /// <summary>Gemm(x, W, b) with transB=1: PyTorch's Linear, weight (out, in); no bias leaves Gemm's C out (allowed since opset 11).</summary>
        public static string Linear(LayerScope s, string x, string weight, string? bias) =>
            s.Main("Gemm", bias is null ? new[] { x, weight } : new[] { x, weight, bias },
                OnnxAttribute.Of("alpha", 1f), OnnxAttribute.Of("beta", 1f), OnnxAttribute.Of("transA", 0L), OnnxAttribute.Of("transB", 1L));

        /// <summary>
        /// Dropout with its ratio as an input and no training_mode input: the identity in inference, as in PyTorch's eval
        /// mode; the ratio stays in the file for a runtime that trains it.
        /// </summary>
        public static string Dropout(LayerScope s, string x, double p) => s.Main("Dropout", new[] { x, s.FloatScalar("ratio", (float)p) });

        /// <summary>Softmax along axis 1 (channels or features), PyTorch's Softmax(dim=1); opset 13+ normalizes that one axis.</summary>
        public static string Softmax(LayerScope s, string x) => s.Main("Softmax", new[] { x }, OnnxAttribute.Of("axis", 1L));
    }
}
