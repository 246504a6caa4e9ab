using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Onnx;
using CnnGen.Onnx.Graph;
using CnnGen.Onnx.Protobuf;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The ONNX patterns of <see cref="OnnxOps"/> for the graph networks' layer kinds, and the residual and concat blocks of
    /// the exporter's walk, tested at the graph level: each runs alone in ONNX Runtime 1.31.1 and is compared with a direct
    /// implementation of PyTorch's definition. (The whole-network tests are in OnnxExportTests.)
    /// </summary>
    public sealed class OnnxOpsTests
    {
        private const double Tolerance = 1e-5;

        [Fact]
        public void GroupedDilatedRectangularConvMatchesTheDirectDefinition()
        {
            // groups 2, kernel 3x2, stride (2, 1), padding (1, 0), dilation (2, 1): in 4 channels, out 6.
            var window = new Window2d(3, 2, 2, 1, 1, 0, 1, 0, DilationH: 2, DilationW: 1);
            var x = Random(2 * 4 * 7 * 5, 1);
            var w = Random(6 * 2 * 3 * 2, 2);
            var b = Random(6, 3);
            var actual = RunGraph((g, s, input) => OnnxOps.Conv(s, input, g.AddFloats("w", w, new long[] { 6, 2, 3, 2 }), g.AddFloats("b", b, new long[] { 6 }), window, groups: 2),
                x, new[] { 2, 4, 7, 5 }, out var dims);
            var expected = Conv(x, 2, 4, 7, 5, w, b, 6, window, groups: 2, out var expectedDims);
            Assert.Equal(expectedDims, dims);
            Compare.Close(actual, expected, Tolerance, "Conv groups/dilation");
        }

        [Fact]
        public void ConvTransposeMatchesTheScatterDefinition()
        {
            // ConvTranspose2d(4, 6, 3, stride 2, padding 1, output_padding 1, groups 2): weight (4, 3, 3, 3).
            var window = Window2d.Square(3, 2, 1);
            var x = Random(2 * 4 * 3 * 4, 4);
            var w = Random(4 * 3 * 3 * 3, 5);
            var b = Random(6, 6);
            var actual = RunGraph((g, s, input) => OnnxOps.ConvTranspose(s, input, g.AddFloats("w", w, new long[] { 4, 3, 3, 3 }), g.AddFloats("b", b, new long[] { 6 }), window, 1, 1, groups: 2),
                x, new[] { 2, 4, 3, 4 }, out var dims);
            int outH = (3 - 1) * 2 - 2 + 3 + 1, outW = (4 - 1) * 2 - 2 + 3 + 1;
            Assert.Equal(new[] { 2, 6, outH, outW }, dims);
            var expected = new float[2 * 6 * outH * outW];
            for (int n = 0; n < 2; n++)
            for (int o = 0; o < 6; o++)
            for (int i = 0; i < outH * outW; i++) expected[(n * 6 + o) * outH * outW + i] = b[o];
            for (int n = 0; n < 2; n++)
            for (int c = 0; c < 4; c++)
            for (int ih = 0; ih < 3; ih++)
            for (int iw = 0; iw < 4; iw++)
            for (int oc = 0; oc < 3; oc++)
            for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
            {
                int o = (c / 2) * 3 + oc, y = ih * 2 - 1 + kh, z = iw * 2 - 1 + kw;
                if (y < 0 || y >= outH || z < 0 || z >= outW) continue;
                expected[((n * 6 + o) * outH + y) * outW + z] += x[((n * 4 + c) * 3 + ih) * 4 + iw] * w[((c * 3 + oc) * 3 + kh) * 3 + kw];
            }
            Compare.Close(actual, expected, Tolerance, "ConvTranspose");
        }

        [Theory]
        [InlineData(2, 3)]
        [InlineData(3, 2)]
        public void NearestUpsamplingTakesTheFloorSource(int sh, int sw)
        {
            var x = Random(2 * 3 * 4 * 5, 7);
            var actual = RunGraph((g, s, input) => OnnxOps.UpsampleNearest(s, input, sh, sw), x, new[] { 2, 3, 4, 5 }, out var dims);
            int outH = 4 * sh, outW = 5 * sw;
            Assert.Equal(new[] { 2, 3, outH, outW }, dims);
            var expected = new float[2 * 3 * outH * outW];
            for (int p = 0; p < 6; p++)
            for (int y = 0; y < outH; y++)
            for (int z = 0; z < outW; z++)
                expected[(p * outH + y) * outW + z] = x[(p * 4 + y / sh) * 5 + z / sw];
            Compare.Close(actual, expected, 0, "Upsample nearest");
        }

        [Theory]
        [InlineData(2, 2)]
        [InlineData(3, 2)]
        public void BilinearUpsamplingMatchesPyTorchWithoutAlignCorners(int sh, int sw)
        {
            var x = Random(2 * 3 * 4 * 5, 8);
            var actual = RunGraph((g, s, input) => OnnxOps.UpsampleBilinear(s, input, sh, sw), x, new[] { 2, 3, 4, 5 }, out var dims);
            int outH = 4 * sh, outW = 5 * sw;
            Assert.Equal(new[] { 2, 3, outH, outW }, dims);
            var expected = new float[2 * 3 * outH * outW];
            for (int p = 0; p < 6; p++)
            for (int y = 0; y < outH; y++)
            for (int z = 0; z < outW; z++)
            {
                // PyTorch's area_pixel_compute_source_index with align_corners=False, then the two neighbours.
                double sy = Math.Max(0, (y + 0.5) / sh - 0.5), sz = Math.Max(0, (z + 0.5) / sw - 0.5);
                int y0 = (int)sy, z0 = (int)sz, y1 = Math.Min(y0 + 1, 3), z1 = Math.Min(z0 + 1, 4);
                double ly = sy - y0, lz = sz - z0;
                double At(int r, int c) => x[(p * 4 + r) * 5 + c];
                expected[(p * outH + y) * outW + z] = (float)((1 - ly) * ((1 - lz) * At(y0, z0) + lz * At(y0, z1)) + ly * ((1 - lz) * At(y1, z0) + lz * At(y1, z1)));
            }
            Compare.Close(actual, expected, Tolerance, "Upsample bilinear");
        }

        [Theory]
        [InlineData(6, 6, 3, 2)]   // divisible: AveragePool
        [InlineData(5, 7, 3, 4)]   // not divisible: the averaging matrix
        [InlineData(5, 7, 1, 1)]   // global
        public void AdaptiveAveragePoolingUsesPyTorchsWindows(int inH, int inW, int outH, int outW)
        {
            var x = Random(2 * 3 * inH * inW, 9);
            var actual = RunGraph((g, s, input) => OnnxOps.AdaptiveAveragePool(s, input, 3, inH, inW, outH, outW), x, new[] { 2, 3, inH, inW }, out var dims);
            Assert.Equal(new[] { 2, 3, outH, outW }, dims);
            var expected = new float[2 * 3 * outH * outW];
            for (int p = 0; p < 6; p++)
            for (int i = 0; i < outH; i++)
            for (int j = 0; j < outW; j++)
            {
                int h0 = i * inH / outH, h1 = (int)Math.Ceiling((i + 1) * inH / (double)outH);
                int w0 = j * inW / outW, w1 = (int)Math.Ceiling((j + 1) * inW / (double)outW);
                double sum = 0;
                for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) sum += x[(p * inH + h) * inW + w];
                expected[(p * outH + i) * outW + j] = (float)(sum / ((h1 - h0) * (w1 - w0)));
            }
            Compare.Close(actual, expected, Tolerance, $"AdaptiveAvgPool {inH}x{inW} -> {outH}x{outW}");

            var global = RunGraph((g, s, input) => OnnxOps.GlobalAveragePool(s, input), x, new[] { 2, 3, inH, inW }, out dims);
            Assert.Equal(new[] { 2, 3, 1, 1 }, dims);
            for (int p = 0; p < 6; p++)
                Assert.Equal(x.Skip(p * inH * inW).Take(inH * inW).Average(v => (double)v), global[p], 5);
        }

        public static readonly TheoryData<string> Activations = new() { "ReLU6", "Hardswish", "SiLU", "GELU", "GELU-tanh" };

        [Theory]
        [MemberData(nameof(Activations))]
        public void ActivationsMatchPyTorchsFormulas(string kind)
        {
            var x = Random(2 * 3 * 4 * 4, 10).Select(v => v * 5).ToArray(); // [-10, 10]: both bends of ReLU6 and Hardswish
            Func<LayerScope, string, string> op = kind switch
            {
                "ReLU6" => OnnxOps.ReLU6,
                "Hardswish" => OnnxOps.Hardswish,
                "SiLU" => OnnxOps.SiLU,
                "GELU" => OnnxOps.GeluErf,
                _ => OnnxOps.GeluTanh,
            };
            Func<double, double> f = kind switch
            {
                "ReLU6" => v => Math.Min(Math.Max(v, 0), 6),
                "Hardswish" => v => v * Math.Min(Math.Max(v + 3, 0), 6) / 6,
                "SiLU" => v => v / (1 + Math.Exp(-v)),
                "GELU" => v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
                _ => v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
            };
            var actual = RunGraph((g, s, input) => op(s, input), x, new[] { 2, 3, 4, 4 }, out var dims);
            Assert.Equal(new[] { 2, 3, 4, 4 }, dims);
            Compare.Close(actual, x.Select(v => (float)f(v)).ToArray(), Tolerance, kind);
        }

        [Fact]
        public void ResidualAndConcatBlocksOfTheLayoutComposeAndNameTheirNodesByModulePath()
        {
            // [Residual(body: Conv2d(3, 3, Padding = 1), ReLU; shortcut: identity),
            //  Concat(branch 0: ReLU, branch 1: identity, branch 2: Residual(body: MaxPool(3, Stride = 1, Padding = 1), shortcut: Sigmoid))]
            var input = TensorShape.Spatial(3, 5, 4);
            var layout = ShapeInference.Infer(input, new[]
            {
                LayerSpec.Residual(), LayerSpec.Conv2d(3, 3, padding: 1), LayerSpec.ReLU(), LayerSpec.End(),
                LayerSpec.Concat(),
                LayerSpec.Branch(), LayerSpec.ReLU(),
                LayerSpec.Branch(),
                LayerSpec.Branch(), LayerSpec.Residual(), LayerSpec.MaxPool(3, 1, 1), LayerSpec.Shortcut(), LayerSpec.Sigmoid(), LayerSpec.End(),
                LayerSpec.End(),
            });
            Assert.False(layout.HasErrors, string.Join("\n", layout.Issues.Select(i => i.Message)));
            var weights = Random(layout.ParameterCount, 11);

            var graph = new OnnxGraph("blocks");
            string x = graph.Reserve(OnnxExporter.InputName);
            graph.Inputs.Add(new OnnxValueInfo(x, OnnxDataType.Float, new long?[] { null, 3, 5, 4 }));
            string y = new LayerExport(graph, new WeightsOnly(layout, weights)).EmitSequence(layout.Root, x);
            graph.Rename(y, OnnxExporter.OutputName);
            graph.Outputs.Add(new OnnxValueInfo(OnnxExporter.OutputName, OnnxDataType.Float, new long?[] { null, 9, 5, 4 }));
            Assert.Equal(new[] { "Conv2d #0 (0.body.0)", "ReLU #1 (0.body.1)", "Residual 0", "ReLU #2 (1.branches.0.0)", "MaxPool2d #3 (1.branches.2.0.body.0)",
                "Sigmoid #4 (1.branches.2.0.shortcut.0)", "Residual 1.branches.2.0", "Concat 1" }, graph.Nodes.Select(n => n.Name));
            Assert.Equal(new[] { "/0.body.0/Conv_output", "/0.body.1/Relu_output", "/0/Add_output" }, graph.Nodes.Take(3).Select(n => n.Outputs[0]));
            Assert.Equal(new[] { "0.body.0.weight", "0.body.0.bias" }, graph.Nodes[0].Inputs.Skip(1));
            Assert.Equal(layout.Layers[3].Describe(), graph.Nodes[4].DocString);
            Assert.Equal(((ResidualLayout)layout.Root.Nodes[0]).Describe(), graph.Nodes[2].DocString);
            Assert.Equal(((ConcatLayout)layout.Root.Nodes[1]).Describe(), graph.Nodes[^1].DocString);
            var add = graph.Nodes[2];
            Assert.Equal("Add", add.OpType);
            Assert.Equal(x, add.Inputs[1]); // identity shortcut: the block's input itself
            var concat = graph.Nodes[^1];
            Assert.Equal(1L, concat.Attribute("axis")!.Int);
            Assert.Equal(add.Outputs[0], concat.Inputs[1]); // identity branch: the concat's input, the residual's output

            var data = Random(2 * 3 * 5 * 4, 12);
            var actual = Run(Serialize(graph), data, new[] { 2, 3, 5, 4 }, out var dims);
            Assert.Equal(new[] { 2, 9, 5, 4 }, dims);

            // Expected, from the definitions: r = relu(conv(x)) + x; y = cat(relu(r), r, maxpool(r) + sigmoid(r)).
            var convOut = Conv(data, 2, 3, 5, 4, weights.AsSpan(0, 81).ToArray(), weights.AsSpan(81, 3).ToArray(), 3, Window2d.Square(3, 1, 1), 1, out _);
            var r = new float[convOut.Length];
            for (int i = 0; i < r.Length; i++) r[i] = Math.Max(convOut[i], 0) + data[i];
            var expected = new float[2 * 9 * 20];
            for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
            for (int h = 0; h < 5; h++)
            for (int w = 0; w < 4; w++)
            {
                float v = r[((n * 3 + c) * 5 + h) * 4 + w];
                float max = float.NegativeInfinity;
                for (int dh = -1; dh <= 1; dh++)
                for (int dw = -1; dw <= 1; dw++)
                    if (h + dh >= 0 && h + dh < 5 && w + dw >= 0 && w + dw < 4) max = Math.Max(max, r[((n * 3 + c) * 5 + h + dh) * 4 + w + dw]);
                expected[((n * 9 + c) * 5 + h) * 4 + w] = Math.Max(v, 0);
                expected[((n * 9 + 3 + c) * 5 + h) * 4 + w] = v;
                expected[((n * 9 + 6 + c) * 5 + h) * 4 + w] = max + (float)(1 / (1 + Math.Exp(-v)));
            }
            Compare.Close(actual, expected, Tolerance, "residual and concat");
        }

        /// <summary>Builds a one-input graph with <paramref name="build"/> and runs it; <paramref name="dims"/> gets the output's shape.</summary>
        private static float[] RunGraph(Func<OnnxGraph, LayerScope, string, string> build, float[] input, int[] inputDims, out int[] dims)
        {
            var graph = new OnnxGraph("test");
            string x = graph.Reserve(OnnxExporter.InputName);
            graph.Inputs.Add(new OnnxValueInfo(x, OnnxDataType.Float, new long?[] { null }.Concat(inputDims.Skip(1).Select(d => (long?)d)).ToArray()));
            string y = build(graph, new LayerScope(graph, "Test #0", "/0", "under test"), x);
            graph.Rename(y, OnnxExporter.OutputName);
            graph.Outputs.Add(new OnnxValueInfo(OnnxExporter.OutputName, OnnxDataType.Float, null));
            return Run(Serialize(graph), input, inputDims, out dims);
        }

        private static byte[] Serialize(OnnxGraph graph) => OnnxProto.ModelMessage(graph, "test", null, null).ToArray();

        private static float[] Run(byte[] model, float[] input, int[] inputDims, out int[] dims)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(model, options);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, new DenseTensor<float>(input, inputDims)) });
            var output = results.Single().AsTensor<float>();
            dims = output.Dimensions.ToArray();
            return output.ToArray();
        }

        private static float[] Conv(float[] x, int batch, int channels, int height, int width, float[] w, float[] b, int outChannels, Window2d k, int groups, out int[] dims)
        {
            int outH = (height + k.PadTop + k.PadBottom - k.DilationH * (k.KernelH - 1) - 1) / k.StrideH + 1;
            int outW = (width + k.PadLeft + k.PadRight - k.DilationW * (k.KernelW - 1) - 1) / k.StrideW + 1;
            dims = new[] { batch, outChannels, outH, outW };
            int inPerGroup = channels / groups, outPerGroup = outChannels / groups;
            var y = new float[batch * outChannels * outH * outW];
            for (int n = 0; n < batch; n++)
            for (int o = 0; o < outChannels; o++)
            for (int i = 0; i < outH; i++)
            for (int j = 0; j < outW; j++)
            {
                double sum = b[o];
                for (int c = 0; c < inPerGroup; c++)
                for (int kh = 0; kh < k.KernelH; kh++)
                for (int kw = 0; kw < k.KernelW; kw++)
                {
                    int h = i * k.StrideH - k.PadTop + kh * k.DilationH, v = j * k.StrideW - k.PadLeft + kw * k.DilationW;
                    if (h < 0 || h >= height || v < 0 || v >= width) continue;
                    int ic = (o / outPerGroup) * inPerGroup + c;
                    sum += x[((n * channels + ic) * height + h) * width + v] * w[((o * inPerGroup + c) * k.KernelH + kh) * k.KernelW + kw];
                }
                y[((n * outChannels + o) * outH + i) * outW + j] = (float)sum;
            }
            return y;
        }

        private static float[] Random(int count, ulong seed)
        {
            var random = new CnnRandom(seed);
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = random.NextUniform(-2, 2);
            return values;
        }

        /// <summary>
        /// erf: its Maclaurin series in double below 3 (terms stay small enough there for 1e-12), and past 3 the asymptotic
        /// series of erfc (erfc(3) is 2.2e-5 and the series' first omitted term is below 1e-3 of it).
        /// </summary>
        private static double Erf(double x)
        {
            double a = Math.Abs(x);
            if (a >= 3)
            {
                double inverse = 1 / (2 * a * a);
                double erfc = Math.Exp(-a * a) / (a * Math.Sqrt(Math.PI)) * (1 - inverse + 3 * inverse * inverse - 15 * inverse * inverse * inverse);
                return Math.Sign(x) * (1 - erfc);
            }
            double sum = x, term = x;
            for (int n = 1; n < 100; n++)
            {
                term *= -x * x / n;
                sum += term / (2 * n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }

        /// <summary>Just enough of a network to hand the exporter weights: the layout and a parameter block.</summary>
        private sealed class WeightsOnly : INetwork
        {
            private readonly float[] _parameters;
            public WeightsOnly(NetworkLayout layout, float[] parameters)
            {
                Layout = layout;
                _parameters = parameters;
            }

            public NetworkLayout Layout { get; }
            public Span<float> Parameters => _parameters;
            public Span<float> Buffers => Span<float>.Empty;
            public Span<long> Counters => Span<long>.Empty;
            public NetworkWorkspace CreateWorkspace(int batchCapacity = 1, ulong dropoutSeed = 0) => throw new NotSupportedException();
            public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace, bool training = false) => throw new NotSupportedException();
            public void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient = default) => throw new NotSupportedException();
        }
    }
}
