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
        /// <summary>Square kernel, equal strides, the same padding on every side: the pools.</summary>
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

        /// <summary>
        /// ConvTranspose2d: PyTorch's weight (in, out / groups, kH, kW) is ONNX's layout as it is. Output size
        /// (in - 1) * stride - pad_begin - pad_end + dilation * (k - 1) + output_padding + 1 in both.
        /// </summary>
        public static string ConvTranspose(LayerScope s, string x, string weight, string? bias, Window2d window, int outputPaddingH = 0, int outputPaddingW = 0, int groups = 1) =>
            s.Main("ConvTranspose", bias is null ? new[] { x, weight } : new[] { x, weight, bias },
                OnnxAttribute.Of("kernel_shape", window.KernelShape),
                OnnxAttribute.Of("strides", window.Strides),
                OnnxAttribute.Of("pads", window.Pads),
                OnnxAttribute.Of("dilations", window.Dilations),
                OnnxAttribute.Of("output_padding", new long[] { outputPaddingH, outputPaddingW }),
                OnnxAttribute.Of("group", (long)groups));

        /// <summary>
        /// Upsample(scale_factor, mode='nearest'): Resize with scales (1, 1, sh, sw) — scales, not sizes, so the batch axis
        /// stays symbolic — and source index floor(dst / scale), PyTorch's nearest: coordinate mode asymmetric, nearest mode floor.
        /// </summary>
        public static string UpsampleNearest(LayerScope s, string x, float scaleH, float scaleW) =>
            s.Main("Resize", new[] { x, "", Scales(s, scaleH, scaleW) },
                OnnxAttribute.Of("mode", "nearest"),
                OnnxAttribute.Of("coordinate_transformation_mode", "asymmetric"),
                OnnxAttribute.Of("nearest_mode", "floor"));

        /// <summary>
        /// Upsample(scale_factor, mode='bilinear', align_corners=False): Resize, mode linear, coordinate mode half_pixel
        /// (source (dst + 0.5) / scale - 0.5, clamped at the edges, as PyTorch computes it). ONNX's pytorch_half_pixel
        /// differs only for an output of length 1, which upsampling never produces from more than one cell.
        /// </summary>
        public static string UpsampleBilinear(LayerScope s, string x, float scaleH, float scaleW) =>
            s.Main("Resize", new[] { x, "", Scales(s, scaleH, scaleW) },
                OnnxAttribute.Of("mode", "linear"),
                OnnxAttribute.Of("coordinate_transformation_mode", "half_pixel"));

        private static string Scales(LayerScope s, float scaleH, float scaleW) =>
            s.Graph.AddFloats(s.ValueScope + "/scales", new[] { 1f, 1f, scaleH, scaleW }, new long[] { 4 }, exactName: false);

        /// <summary>GlobalAvgPool (AdaptiveAvgPool2d(1)): GlobalAveragePool, (N, C, H, W) to (N, C, 1, 1).</summary>
        public static string GlobalAveragePool(LayerScope s, string x) => s.Main("GlobalAveragePool", new[] { x });

        /// <summary>
        /// AdaptiveAvgPool2d((outH, outW)) on an inH x inW input. PyTorch's window for output row i is rows
        /// floor(i * inH / outH) to ceil((i + 1) * inH / outH) - 1, so when the sizes divide, it is AveragePool with kernel
        /// and stride inH / outH (no padding). Otherwise the windows vary in size and overlap, which no ONNX pooling
        /// expresses; the pooling is still linear per channel, so it is written exactly as a product with a constant
        /// (inH*inW, outH*outW) averaging matrix: Reshape (N, C, inH*inW), MatMul, Reshape (N, C, outH, outW).
        /// </summary>
        public static string AdaptiveAveragePool(LayerScope s, string x, int channels, int inH, int inW, int outH, int outW)
        {
            if (inH % outH == 0 && inW % outW == 0)
            {
                int kh = inH / outH, kw = inW / outW;
                return AveragePool(s, x, new Window2d(kh, kw, kh, kw, 0, 0, 0, 0));
            }
            var matrix = new float[inH * inW * outH * outW];
            for (int i = 0; i < outH; i++)
            {
                int h0 = i * inH / outH, h1 = ((i + 1) * inH + outH - 1) / outH;
                for (int j = 0; j < outW; j++)
                {
                    int w0 = j * inW / outW, w1 = ((j + 1) * inW + outW - 1) / outW;
                    float weight = 1f / ((h1 - h0) * (w1 - w0));
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++)
                            matrix[(h * inW + w) * (outH * outW) + i * outW + j] = weight;
                }
            }
            // Reshape's 0 copies the (symbolic) batch dimension.
            string flat = s.Helper("Reshape", new[] { x, s.Int64s("flat_shape", 0, channels, (long)inH * inW) });
            string pooled = s.Main("MatMul", new[] { flat, s.Graph.AddFloats(s.ValueScope + "/pool_matrix", matrix, new long[] { inH * inW, outH * outW }, exactName: false) });
            return s.Helper("Reshape", new[] { pooled, s.Int64s("pooled_shape", 0, channels, outH, outW) });
        }

        /// <summary>ReLU6: Clip(x, 0, 6), the bounds as inputs (opset 11+).</summary>
        public static string ReLU6(LayerScope s, string x) => s.Main("Clip", new[] { x, s.FloatScalar("min", 0f), s.FloatScalar("max", 6f) });

        /// <summary>Hardswish: x * relu6(x + 3) / 6 is ONNX's HardSwish (opset 14: x * max(0, min(1, x / 6 + 1 / 2))).</summary>
        public static string Hardswish(LayerScope s, string x) => s.Main("HardSwish", new[] { x });

        /// <summary>SiLU: x * sigmoid(x), Sigmoid then Mul (opset 17 has no Swish).</summary>
        public static string SiLU(LayerScope s, string x) => s.Helper("Mul", new[] { x, s.Main("Sigmoid", new[] { x }) });

        /// <summary>GELU (approximate='none'): 0.5 x (1 + erf(x / sqrt 2)), from Div, Erf, Add, Mul (Gelu is an opset-20 operator).</summary>
        public static string GeluErf(LayerScope s, string x)
        {
            string scaled = s.Helper("Div", new[] { x, s.FloatScalar("sqrt2", MathF.Sqrt(2f)) });
            string erf = s.Main("Erf", new[] { scaled });
            string onePlus = s.Helper("Add", new[] { erf, s.FloatScalar("one", 1f) });
            string product = s.Helper("Mul", new[] { x, onePlus });
            return s.Helper("Mul", new[] { product, s.FloatScalar("half", 0.5f) });
        }

        /// <summary>GELU (approximate='tanh'): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).</summary>
        public static string GeluTanh(LayerScope s, string x)
        {
            string square = s.Helper("Mul", new[] { x, x });
            string cube = s.Helper("Mul", new[] { square, x });
            string scaledCube = s.Helper("Mul", new[] { cube, s.FloatScalar("coefficient", 0.044715f) });
            string inner = s.Helper("Add", new[] { x, scaledCube });
            string argument = s.Helper("Mul", new[] { inner, s.FloatScalar("sqrt_2_over_pi", (float)Math.Sqrt(2 / Math.PI)) });
            string tanh = s.Main("Tanh", new[] { argument });
            string onePlus = s.Helper("Add", new[] { tanh, s.FloatScalar("one", 1f) });
            string product = s.Helper("Mul", new[] { x, onePlus });
            return s.Helper("Mul", new[] { product, s.FloatScalar("half", 0.5f) });
        }
    }
}
