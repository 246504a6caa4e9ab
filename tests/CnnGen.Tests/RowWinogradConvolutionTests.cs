using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// RowWinogradConvolution (F(4, 3) and F(4, 5) along the rows of a 3x3 or 5x5 kernel, the plain sum down its columns)
    /// against the definition in double: LeNet-5's two layers, grayscale and RGB stems, rows whose outputs are not a multiple
    /// of 4, odd and single output channels, padding up to k − 1, ReLU, the fused 2x2 pooling (odd sizes drop the last row
    /// and column), no bias, prepared filters. No allocation.
    /// </summary>
    public sealed class RowWinogradConvolutionTests
    {
        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        // Where DirectConvolution's calls reach the kernel: not in CI's run with the vector kernels switched off.
        private static bool Routed => Available && Simd.Enabled;

        // inC, H, W, outC, k, p
        public static IEnumerable<object[]> Shapes() => new[]
        {
            new object[] { 1, 28, 28, 6, 5, 2 },     // LeNet-5's first layer
            new object[] { 6, 14, 14, 16, 5, 0 },    // and its second: 10 outputs a row, a last tile of 2
            new object[] { 3, 32, 32, 16, 3, 1 },    // an RGB stem
            new object[] { 1, 28, 28, 32, 3, 1 },    // a grayscale one
            new object[] { 3, 32, 32, 7, 5, 2 },     // an odd count of output channels: the last pair's second is none
            new object[] { 2, 9, 11, 5, 3, 0 },      // 9 outputs a row: a last tile of 1
            new object[] { 4, 7, 6, 1, 5, 4 },       // padding k − 1: the edges' outputs are the bias alone; one output channel
            new object[] { 5, 5, 5, 3, 5, 0 },       // one output
            new object[] { 7, 13, 19, 9, 3, 2 },     // 19 columns, padding 2: a tile of 3 at the end
            new object[] { 1, 3, 40, 2, 3, 1 },      // wide and short: 10 tiles a row
        };

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int c, int h, int w, int oc, int k, int p)
        {
            if (!Available) return;
            var l = new RowWinogradConvolution.Layout(c, h, w, oc, k, p);
            int[] geometry = { c, h, w, oc, k, k, 1, 1, p, p, 1, 1, 1 };
            var random = new Random(c * 131 + h * 17 + w + k + oc);
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), weight = GroupedConvolutionTests.RandomValues(random, oc * c * k * k);
            float[] bias = GroupedConvolutionTests.RandomValues(random, oc);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, l.ScratchLength); // garbage must not leak
            int outLength = oc * l.OutHeight * l.OutWidth;
            double[] expected = GroupedConvolutionTests.ReferenceForward(geometry, x, weight, bias, out double[] magnitude);
            Assert.Equal(expected.Length, outLength);

            float[] y = new float[outLength + 5];
            Array.Fill(y, float.NaN);
            RowWinogradConvolution.Forward(x, weight, bias, y, scratch, relu: false, pool: false, l);
            WithinMagnitude(y, expected, magnitude, "y");
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");

            // No bias, ReLU.
            double[] unbiased = GroupedConvolutionTests.ReferenceForward(geometry, x, weight, Array.Empty<float>(), out _);
            RowWinogradConvolution.Forward(x, weight, default, y, scratch, relu: true, pool: false, l);
            WithinMagnitude(y, Array.ConvertAll(unbiased, v => Math.Max(v, 0)), magnitude, "relu(y), no bias");
            for (int i = 0; i < outLength; i++) Assert.True(y[i] >= 0f);

            // Prepared filters give the same floats as the call's own.
            float[] filters = new float[l.FiltersLength], again = new float[outLength];
            RowWinogradConvolution.TransformFilters(weight, filters, l);
            RowWinogradConvolution.Forward(x, weight, bias, y, scratch, relu: false, pool: false, l);
            RowWinogradConvolution.ForwardPrepared(x, filters, bias, again, scratch, relu: false, pool: false, l);
            Assert.Equal(y.AsSpan(0, outLength).ToArray(), again);
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardPooled_IsTheConvolutionThroughReluThenMaxPool(int c, int h, int w, int oc, int k, int p)
        {
            if (!Available) return;
            var l = new RowWinogradConvolution.Layout(c, h, w, oc, k, p);
            if (l.OutHeight < 2 || l.OutWidth < 2) return;
            var random = new Random(c * 7 + h * 3 + w + k);
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), weight = GroupedConvolutionTests.RandomValues(random, oc * c * k * k);
            float[] bias = GroupedConvolutionTests.RandomValues(random, oc);
            float[] scratch = new float[l.ScratchLength];
            int oh = l.OutHeight, ow = l.OutWidth, ph = oh / 2, pw = ow / 2;
            float[] full = new float[oc * oh * ow], pooled = new float[oc * ph * pw + 3];
            Array.Fill(pooled, float.NaN);
            RowWinogradConvolution.Forward(x, weight, bias, full, scratch, relu: true, pool: false, l);
            RowWinogradConvolution.Forward(x, weight, bias, pooled, scratch, relu: true, pool: true, l);
            // The same convolution's floats, so the pooling is exact.
            for (int o = 0; o < oc; o++)
                for (int py = 0; py < ph; py++)
                    for (int px = 0; px < pw; px++)
                    {
                        float m = float.NegativeInfinity;
                        for (int dy = 0; dy < 2; dy++)
                            for (int dx = 0; dx < 2; dx++) m = Math.Max(m, full[(o * oh + 2 * py + dy) * ow + 2 * px + dx]);
                        Assert.Equal(m, pooled[(o * ph + py) * pw + px]);
                    }
            for (int i = oc * ph * pw; i < pooled.Length; i++) Assert.True(float.IsNaN(pooled[i]), "wrote past the output");
        }

        // F(4, 5)'s transforms divide by up to 360 and multiply by up to 21: LineWinogradConvolution's bound, summed over k rows.
        private static void WithinMagnitude(float[] actual, double[] expected, double[] magnitude, string what) =>
            LineWinogradConvolutionTests.WithinMagnitude(actual, expected, magnitude, what, 3e-6);

        [Fact]
        public void Layout_RejectsOtherKernels_AndShapesThatDoNotFit()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 8, 8, 4, 7, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 8, 8, 4, 4, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 4, 8, 4, 5, 0)); // the kernel is taller than the map
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(0, 8, 8, 4, 3, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(8, 8, 8, 4, 3, 1)); // the two-dimensional Winograd's
            var lenet = new RowWinogradConvolution.Layout(1, 28, 28, 6, 5, 2);
            Assert.Equal((7, 196, 13, 8), (lenet.TileColumns, lenet.Tiles, lenet.TileVectors, lenet.Positions));
        }

        [Fact]
        public void ForwardByRows_TakesTheRowsWhereTheyMeasuredFaster_AndForwardKeepsTheDirectKernels()
        {
            if (!Routed) return;
            Assert.True(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 16, 3, 1, pool: false), "an RGB stem onto 16 channels at 32x32");
            Assert.True(DirectConvolution.ForwardByRowWinograd(7, 28, 28, 64, 5, 2, pool: false));
            Assert.True(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 32, 5, 2, pool: true), "5x5, pooled");
            Assert.False(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 64, 3, 1, pool: true), "3x3, pooled: the products gain too little");
            Assert.True(DirectConvolution.ForwardByRowWinograd(1, 28, 28, 32, 3, 1, pool: false), "a grayscale stem onto 32");
            Assert.False(DirectConvolution.ForwardByRowWinograd(1, 28, 28, 16, 3, 1, pool: false), "a grayscale stem onto 16 by 3x3");
            Assert.True(DirectConvolution.ForwardByRowWinograd(1, 28, 28, 16, 5, 2, pool: false), "a grayscale stem onto 16 by 5x5");
            Assert.False(DirectConvolution.ForwardByRowWinograd(1, 28, 28, 32, 5, 2, pool: true), "pooled from one channel");
            Assert.False(DirectConvolution.ForwardByRowWinograd(1, 28, 28, 6, 5, 2, pool: true), "LeNet-5's first layer");
            Assert.False(DirectConvolution.ForwardByRowWinograd(6, 14, 14, 16, 5, 0, pool: true), "LeNet-5's second: a small map");
            Assert.False(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 8, 3, 1, pool: false), "few output channels");
            Assert.False(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 16, 3, 0, pool: false), "30 outputs a row");
            Assert.False(DirectConvolution.ForwardByRowWinograd(8, 32, 32, 16, 3, 1, pool: false), "the two-dimensional Winograd's");
            Assert.False(DirectConvolution.ForwardByRowWinograd(3, 32, 32, 16, 7, 3, pool: false), "a 7x7 kernel");

            // ForwardByRows on such a shape gives RowWinogradConvolution's floats, pooled or not; Forward (training's) keeps the
            // direct kernels' own.
            var l = new RowWinogradConvolution.Layout(3, 32, 32, 16, 5, 2);
            var random = new Random(5);
            float[] x = GroupedConvolutionTests.RandomValues(random, 3 * 32 * 32), w = GroupedConvolutionTests.RandomValues(random, 16 * 75);
            float[] b = GroupedConvolutionTests.RandomValues(random, 16);
            float[] scratch = new float[DirectConvolution.ScratchLength(3, 32, 32, 16, 5, 2)]; // the layer's own scratch is enough
            foreach (bool pool in new[] { false, true })
            {
                int length = pool ? 16 * 16 * 16 : 16 * 32 * 32;
                float[] byRows = new float[length], rows = new float[length], forward = new float[length], direct = new float[length];
                if (pool)
                {
                    DirectConvolution.ForwardPooledByRows(x, 3, 32, 32, w, b, 16, 5, 2, byRows, scratch, relu: true);
                    DirectConvolution.ForwardPooled(x, 3, 32, 32, w, b, 16, 5, 2, forward, scratch, relu: true);
                }
                else
                {
                    DirectConvolution.ForwardByRows(x, 3, 32, 32, w, b, 16, 5, 2, byRows, scratch, relu: true);
                    DirectConvolution.Forward(x, 3, 32, 32, w, b, 16, 5, 2, forward, scratch, relu: true);
                }
                RowWinogradConvolution.Forward(x, w, b, rows, new float[l.ScratchLength], relu: true, pool, l);
                DirectConvolution.ForwardOn(x, 3, 32, 32, w, b, 16, 5, 2, direct, scratch, relu: true, pool, DirectConvolution.KernelPath.Vector512, allowWinograd: false);
                Assert.Equal(rows, byRows);
                Assert.Equal(direct, forward);
                Assert.NotEqual(direct, byRows); // the two routes round differently: the test tells them apart
            }

            // Off the rule's shapes ForwardByRows is Forward: LeNet-5's first layer, and a pooled 3x3 RGB stem.
            float[] lenetX = GroupedConvolutionTests.RandomValues(random, 784), lenetW = GroupedConvolutionTests.RandomValues(random, 150), lenetB = GroupedConvolutionTests.RandomValues(random, 6);
            float[] a = new float[6 * 14 * 14], c = new float[6 * 14 * 14], lenetScratch = new float[DirectConvolution.ScratchLength(1, 28, 28, 6, 5, 2)];
            DirectConvolution.ForwardPooledByRows(lenetX, 1, 28, 28, lenetW, lenetB, 6, 5, 2, a, lenetScratch, relu: true);
            DirectConvolution.ForwardPooled(lenetX, 1, 28, 28, lenetW, lenetB, 6, 5, 2, c, lenetScratch, relu: true);
            Assert.Equal(c, a);
            float[] pooledByRows = new float[16 * 16 * 16], pooled = new float[16 * 16 * 16], stemScratch = new float[DirectConvolution.ScratchLength(3, 32, 32, 16, 3, 1)];
            DirectConvolution.ForwardPooledByRows(x, 3, 32, 32, w.AsSpan(0, 16 * 27), b, 16, 3, 1, pooledByRows, stemScratch, relu: true);
            DirectConvolution.ForwardPooled(x, 3, 32, 32, w.AsSpan(0, 16 * 27), b, 16, 3, 1, pooled, stemScratch, relu: true);
            Assert.Equal(pooled, pooledByRows);
        }

        [Fact]
        public void TheGeneratedEvaluationOfAStem_RunsByRows_AndTrainingKeepsTheDirectKernels()
        {
            string source = GeneratedNet("[Network(3, 32, 32)]\n[Conv2d(16, 5, Padding = 2)]\n[ReLU]\n[MaxPool(2)]\n[Conv2d(16, 3, Padding = 1)]\n[Flatten]\n[Linear(4)]\n");
            Assert.Contains("DirectConvolution.ForwardPooledByRows(x, 3, 32, 32, p.Slice(0, 1200), p.Slice(1200, 16), 16, 5, 2, y, columns, relu: true);", source);
            Assert.Contains("DirectConvolution.Forward(x, 3, 32, 32, p.Slice(0, 1200), p.Slice(1200, 16), 16, 5, 2, y, columns, relu: false);", source); // training's
            Assert.DoesNotContain("ByRows(x, 16,", source); // 16 channels in: the two-dimensional Winograd's, or direct
            // A grayscale 3x3 stem onto 32 runs by rows (before a 1x1 layer: a Winograd layer after it would take its maps linked); pooled, it does not (3x3's products gain too little for the pooling's pass).
            string grayscale = GeneratedNet("[Network(1, 28, 28)]\n[Conv2d(32, 3, Padding = 1)]\n[ReLU]\n[Conv2d(16, 1)]\n[ReLU]\n[MaxPool(2)]\n[Flatten]\n[Linear(4)]\n");
            Assert.Contains("DirectConvolution.ForwardByRows(x, 1, 28, 28, p.Slice(0, 288), p.Slice(288, 32), 32, 3, 1, y, columns, relu: true);", grayscale);
            string pooled = GeneratedNet("[Network(3, 32, 32)]\n[Conv2d(32, 3, Padding = 1)]\n[ReLU]\n[MaxPool(2)]\n[Flatten]\n[Linear(4)]\n");
            Assert.DoesNotContain("ByRows", pooled);
            Assert.Contains("DirectConvolution.ForwardPooled(x, 3, 32, 32,", pooled);

            if (!Routed) return;
            var network = new RowStemNet();
            network.ResetParameters(3);
            var workspace = network.CreateWorkspace(2);
            float[] input = GroupedConvolutionTests.RandomValues(new Random(4), 2 * 3 * 32 * 32), evaluated = new float[8], trained = new float[8];
            network.Forward(input, evaluated, 2, workspace);
            network.Forward(input, trained, 2, workspace, training: true);
            for (int i = 0; i < 8; i++) Assert.Equal(trained[i], evaluated[i], 1e-5f * Math.Max(1f, Math.Abs(trained[i])));
            Assert.NotEqual(trained, evaluated); // evaluation ran the rows: the floats differ in their last bits
        }

        // The generated source of a network class Net with these attributes.
        private static string GeneratedNet(string attributes) =>
            Infrastructure.GeneratorHarness.GeneratedSources("using CnnGen;\nnamespace Rows;\n" + attributes + "public partial class Net { }").Single(s => s.Key.Contains("Net")).Value;

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Available) return;
            var l = new RowWinogradConvolution.Layout(1, 28, 28, 6, 5, 2);
            float[] x = new float[784], w = new float[150], b = new float[6], y = new float[6 * 14 * 14], scratch = new float[l.ScratchLength];
            Infrastructure.Allocations.AssertNone(() => RowWinogradConvolution.Forward(x, w, b, y, scratch, relu: true, pool: true, l), calls: 20);
        }
    }

    /// <summary>An RGB 5x5 stem with ReLU and pooling: its evaluation runs by rows (RowWinogradConvolutionTests).</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 5, Padding = 2)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(16, 3, Padding = 1)]
    [Flatten]
    [Linear(4)]
    public partial class RowStemNet { }
}
