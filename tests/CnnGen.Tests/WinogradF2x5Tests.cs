using System;
using System.Collections.Generic;
using System.Text;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Winograd F(2x2, 5x5) (<see cref="WinogradF4Convolution"/> with a kernel of 5, on Vector512 or Vector256) against the definition
    /// in double precision on every shape, whatever Pays says: channel counts that fill no whole vector (1, 3, 5, 17, 130),
    /// maps from 5x5 to 32x32 that are not multiples of the 2x2 tile, padding 0 to 2, ReLU, fused pooling, no bias.
    /// </summary>
    /// <remarks>
    /// The bound: |y − y_exact| ≤ 2e-5 · S with S = |bias| + Σ |x·w| over the cell's 5x5xC window (at least 1e-30), as
    /// for F(4x4, 3x3): G's 16/24 and Bᵀ's 5 cost about as much as F(4x4)'s 8 and 5. On these unit-scale random data the
    /// worst cell of each shape measured 6e-8 to 1.2e-6 · S with 5 or more input channels, and 2e-6 to 3.1e-6 · S with 1
    /// to 3 and padding 2 (a corner cell's window holds few products while the transforms carry the whole 6x6 window); the
    /// direct kernel stays within 1e-6 · S. A wrong coefficient, tap or tile is off by about S/10 or more.
    /// </remarks>
    public sealed class WinogradF2x5Tests
    {
        private const double Tolerance = 2e-5;
        private readonly ITestOutputHelper output;

        public WinogradF2x5Tests(ITestOutputHelper output) => this.output = output;

        // Lavin's scaled G (6x5), F(4x4, 3x3)'s Bᵀ and the matching Aᵀ (2x6): y_i = Σ_k d_(i+k) g_k for i = 0, 1.
        private static readonly double[,] G =
        {
            { 1.0 / 4, 0, 0, 0, 0 },
            { -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6 },
            { -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 2.0 / 24, 4.0 / 24, 8.0 / 24, 16.0 / 24 },
            { 1.0 / 24, -2.0 / 24, 4.0 / 24, -8.0 / 24, 16.0 / 24 },
            { 0, 0, 0, 0, 1 },
        };
        private static readonly double[,] Bt =
        {
            { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
            { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
        };
        private static readonly double[,] At = { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 1 } };

        [Fact]
        public void Matrices_GiveTheOneDimensionalCorrelation()
        {
            var random = new Random(5);
            for (int trial = 0; trial < 20; trial++)
            {
                double[] d = new double[6], g = new double[5];
                for (int i = 0; i < 6; i++) d[i] = random.NextDouble() * 2 - 1;
                for (int k = 0; k < 5; k++) g[k] = random.NextDouble() * 2 - 1;
                var product = new double[6];
                for (int a = 0; a < 6; a++)
                {
                    double u = 0, v = 0;
                    for (int k = 0; k < 5; k++) u += G[a, k] * g[k];
                    for (int i = 0; i < 6; i++) v += Bt[a, i] * d[i];
                    product[a] = u * v;
                }
                for (int i = 0; i < 2; i++)
                {
                    double y = 0, expected = 0;
                    for (int a = 0; a < 6; a++) y += At[i, a] * product[a];
                    for (int k = 0; k < 5; k++) expected += d[i + k] * g[k];
                    Assert.True(Math.Abs(y - expected) <= 1e-12, $"y[{i}] = {y}, expected {expected}");
                }
            }
        }

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 32, 16, 16, 64, 2, true },    // the probe that lost to ONNX Runtime
                new object[] { 64, 8, 8, 128, 2, true },
                new object[] { 3, 32, 32, 32, 2, true },     // a stem: 3 channels
                new object[] { 1, 5, 5, 1, 0, false },       // one output cell, a tile mostly outside it
                new object[] { 1, 28, 28, 6, 2, true },      // LeNet-5's first layer
                new object[] { 6, 14, 14, 16, 0, true },     // and its second: 10x10
                new object[] { 5, 9, 11, 17, 0, true },      // odd everything, no padding
                new object[] { 17, 13, 7, 5, 2, false },     // 17 channels: a group of 1
                new object[] { 16, 7, 30, 48, 1, false },    // 3 output vectors, padding 1, odd output rows
                new object[] { 130, 8, 8, 20, 2, false },    // 9 input groups, a partial last one
                new object[] { 20, 6, 6, 130, 1, true },     // 9 output groups
                new object[] { 40, 20, 20, 80, 2, true },    // 5 output vectors: blocks of 3 + 2
                new object[] { 128, 32, 32, 16, 2, true },   // tiles in several chunks
                new object[] { 1, 33, 5, 1, 1, false },
            };
            shapes.AddRange(RandomShapes(seed: 55, count: 12, smallest: 5, largest: 33));
            return shapes;
        }

        // The kernel runs here: on Vector512 with AVX-512, on Vector256 with AVX2 and FMA (session 60).
        private static bool Available => WinogradF4Convolution.Runs(5);

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (!Available) return; // no vector path here; DirectConvolutionTests cover 5x5 layers on the scalar one
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = height + 2 * padding - 4, outWidth = width + 2 * padding - 4, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 25);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            var layout = new WinogradF4Convolution.Layout(inChannels, height, width, outChannels, padding, kernel: 5);
            Assert.Equal((outHeight, outWidth, 2), (layout.OutHeight, layout.OutWidth, layout.TileSize));
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            WinogradF4Convolution.TransformFilters(weight, filters, layout);
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 5, 1, padding);
            float[] scratch = Filled(layout.ScratchLength, float.NaN); // whatever the scratch held must not reach y
            double worst = 0;
            foreach (bool relu in new[] { false, true })
            {
                float[] y = Filled(outLength + 5, float.NaN);
                WinogradF4Convolution.Forward(x, filters, bias, y.AsSpan(0, outLength), scratch, relu, pool: false, layout);
                worst = Math.Max(worst, AssertWithinScale(y, outLength, expected, scale, relu, Tolerance, "F(2x2, 5x5)"));
            }
            output.WriteLine($"F(2x2, 5x5) {inChannels}x{height}x{width} -> {outChannels} p{padding}: worst {worst:E2} of the magnitude");
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardPooled_EqualsConvolutionThenPooling_BitForBit(int inChannels, int height, int width, int outChannels, int padding, bool hasBias) =>
            WinogradF4ConvolutionTests.AssertPooledEqualsConvolutionThenPooling(inChannels, height, width, outChannels, 5, padding, hasBias);

        [Theory]
        [InlineData(1, 1)]   // the scalar gather: one output channel
        [InlineData(3, 16)]  // the two transposes: a whole group of 16
        [InlineData(2, 20)]  // a whole group, then a partial one
        public void TransformFilters_IsGgGt_WithZeroLanesPastTheLastChannel(int inChannels, int outChannels)
        {
            var random = new Random(inChannels * 31 + outChannels);
            float[] weight = RandomValues(random, outChannels * inChannels * 25);
            var layout = new WinogradF4Convolution.Layout(inChannels, 6, 6, outChannels, 0, kernel: 5);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            WinogradF4Convolution.TransformFilters(weight, filters, layout);
            int positionStride = layout.FiltersLength / 36;
            for (int oc = 0; oc < layout.OutLanes; oc++)
                for (int ic = 0; ic < inChannels; ic++)
                    for (int a = 0; a < 6; a++)
                        for (int b = 0; b < 6; b++)
                        {
                            double u = 0;
                            if (oc < outChannels)
                                for (int i = 0; i < 5; i++)
                                    for (int j = 0; j < 5; j++) u += G[a, i] * weight[((oc * inChannels + ic) * 5 + i) * 5 + j] * G[b, j];
                            float actual = filters[(a * 6 + b) * positionStride + WinogradF4Convolution.FilterAt(ic, oc, layout.InChannels, layout.OutGroups)];
                            Assert.True(Math.Abs(actual - u) <= 1e-6 * (1 + Math.Abs(u)), $"U[{a},{b}] of {oc},{ic} = {actual}, expected {u}");
                        }
        }

        // Each shape's answer with AVX-512 (session 47's rule) and with Vector256 only (session 60's).
        [Theory]
        [InlineData(32, 16, 16, 64, 2, true, true)]
        [InlineData(16, 32, 32, 16, 2, true, true)]
        [InlineData(64, 5, 5, 64, 0, true, true)]     // a 1x1 output
        [InlineData(16, 6, 6, 16, 0, false, true)]    // a 2x2 output with 16 channels: direct on Vector512, 1.52x on Vector256
        [InlineData(17, 16, 16, 17, 2, true, false)]  // 17 channels on 256 cells (session 47: 1.24x; Vector256 0.85x)
        [InlineData(17, 6, 6, 33, 0, false, false)]   // 17 on a 2x2 output fills too few lanes
        [InlineData(8, 16, 16, 16, 2, true, false)]   // 8 -> 16 (session 47: 1.37-1.58x; Vector256 0.84-1.00x)
        [InlineData(24, 32, 32, 12, 2, true, true)]   // 12 out
        [InlineData(12, 16, 16, 24, 2, true, true)]   // 12 in (Vector256 1.29-1.31x)
        [InlineData(16, 16, 16, 8, 2, false, false)]  // 8 out: 0.97x, 0.74x
        [InlineData(8, 16, 16, 8, 2, false, false)]
        [InlineData(512, 4, 4, 512, 1, false, false)] // 37.7 MB of filters (Vector256 0.86x)
        public void DirectConvolution_RunsF2x5_WherePaysSaysSo(int inChannels, int height, int width, int outChannels, int padding, bool paysWide, bool pays256)
        {
            bool available = Available, pays = WinogradF4Convolution.Wide ? paysWide : pays256;
            Assert.Equal(pays && available, WinogradF4Convolution.Pays(inChannels, height, width, outChannels, 5, padding));
            if (!available) return; // the default path is another one; DirectConvolutionTests cover it
            var random = new Random(inChannels + height + outChannels + padding);
            int outHeight = height + 2 * padding - 4, outWidth = width + 2 * padding - 4;
            float[] x = RandomValues(random, inChannels * height * width), weight = RandomValues(random, outChannels * inChannels * 25);
            float[] bias = RandomValues(random, outChannels);
            float[] scratch = new float[DirectConvolution.ScratchLength(inChannels, height, width, outChannels, 5, padding)];
            float[] y = new float[outChannels * outHeight * outWidth], expected = new float[y.Length];
            DirectConvolution.Forward(x, inChannels, height, width, weight, bias, outChannels, 5, padding, y, scratch, relu: true);
            if (pays && available)
            {
                var layout = new WinogradF4Convolution.Layout(inChannels, height, width, outChannels, padding, kernel: 5);
                float[] filters = new float[layout.FiltersLength];
                WinogradF4Convolution.TransformFilters(weight, filters, layout);
                WinogradF4Convolution.Forward(x, filters, bias, expected, new float[layout.ScratchLength], relu: true, pool: false, layout);
            }
            else
            {
                DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, 5, padding, expected, scratch, relu: true, pool: false,
                    KernelPaths.Default, allowWinograd: false);
            }
            Assert.Equal(expected, y);
        }

        [Fact]
        public void GeneratedNetworksWith5x5Layers_MatchTheInterpreter()
        {
            // Wide 5x5 layers where F(2x2, 5x5) runs (kept filters from the parameters, from batch-norm-folded
            // weights, fused ReLU and pooling, a 1x1 output), evaluation and training forward, and the direct backward after.
            var networks = new[]
            {
                new RandomNetwork("Wide5x5", TensorShape.Spatial(16, 16, 16), new[]
                {
                    LayerSpec.Conv2d(32, 5, 1, 2), LayerSpec.ReLU(), LayerSpec.Conv2d(32, 5, 1, 2), LayerSpec.MaxPool(2),
                    LayerSpec.Flatten(), LayerSpec.Linear(4),
                }),
                new RandomNetwork("Folded5x5", TensorShape.Spatial(24, 12, 12), new[]
                {
                    LayerSpec.Conv2d(48, 5, 1, 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                    LayerSpec.Conv2d(32, 5, 1, 2), LayerSpec.Flatten(), LayerSpec.Linear(3),
                }),
                new RandomNetwork("Point5x5", TensorShape.Spatial(32, 5, 5), new[] { LayerSpec.Conv2d(64, 5), LayerSpec.Flatten(), LayerSpec.Linear(2) }),
            };
            if (Available)
                Assert.True(DirectConvolution.WinogradFiltersLength(16, 16, 16, 32, 5, 2) > 0, "the first network runs F(2x2, 5x5)");
            var source = new StringBuilder("using CnnGen;\nnamespace Wide;\n");
            foreach (var network in networks) source.Append(network.Declaration()).Append('\n');
            using var assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            foreach (var network in networks)
                output.WriteLine($"{network.Name}: largest error {DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("Wide." + network.Name)):E2}");
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Available) return;
            var layout = new WinogradF4Convolution.Layout(32, 16, 16, 64, 2, kernel: 5);
            float[] x = new float[32 * 16 * 16], w = new float[64 * 32 * 25], b = new float[64], y = new float[64 * 16 * 16];
            float[] filters = new float[layout.FiltersLength], scratch = new float[layout.ScratchLength];
            Infrastructure.Allocations.AssertNone(() =>
            {
                WinogradF4Convolution.TransformFilters(w, filters, layout);
                WinogradF4Convolution.Forward(x, filters, b, y, scratch, relu: true, pool: false, layout);
                WinogradF4Convolution.Forward(x, filters, b, y, scratch, relu: true, pool: true, layout);
            }, calls: 20);
        }
    }
}
