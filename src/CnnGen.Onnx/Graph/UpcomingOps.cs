using System;

namespace CnnGen.Onnx.Graph
{
    /// <summary>
    /// The ONNX patterns for the layer kinds the graph-networks work brings (not yet in <c>LayerKind</c>): each is written
    /// and tested at the graph level (tests/CnnGen.Tests/OnnxUpcomingOpsTests.cs runs them in ONNX Runtime against direct
    /// implementations of PyTorch's definitions). When a kind lands, its case in <see cref="LayerExport.EmitLayer"/> calls
    /// the function here with the spec's fields. Conv2d with groups, dilation and per-axis kernel, stride and padding needs
    /// nothing new: <see cref="OnnxOps.Conv"/> takes a <see cref="Window2d"/> and a group count.
    /// </summary>
    internal static class UpcomingOps
    {
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
                return OnnxOps.AveragePool(s, x, new Window2d(kh, kw, kh, kw, 0, 0, 0, 0));
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
