using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
        private static void WithinMagnitude(float[] actual, double[] expected, double[] magnitude, string what)
        {
            const double tolerance = 3e-6;
            for (int i = 0; i < expected.Length; i++)
            {
                double error = Math.Abs(actual[i] - expected[i]);
                if (!(error <= tolerance * Math.Max(1, magnitude[i])))
                    Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (error {error:E2}, magnitude {magnitude[i]:G3})");
            }
        }

        [Fact]
        public void Layout_RejectsOtherKernels_AndShapesThatDoNotFit()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 8, 8, 4, 7, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 8, 8, 4, 4, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(1, 4, 8, 4, 5, 0)); // the kernel is taller than the map
            Assert.Throws<ArgumentOutOfRangeException>(() => new RowWinogradConvolution.Layout(0, 8, 8, 4, 3, 1));
            var lenet = new RowWinogradConvolution.Layout(1, 28, 28, 6, 5, 2);
            Assert.Equal((7, 196, 13, 8), (lenet.TileColumns, lenet.Tiles, lenet.TileVectors, lenet.Positions));
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Available) return;
            var l = new RowWinogradConvolution.Layout(1, 28, 28, 6, 5, 2);
            float[] x = new float[784], w = new float[150], b = new float[6], y = new float[6 * 14 * 14], scratch = new float[l.ScratchLength];
            Infrastructure.Allocations.AssertNone(() => RowWinogradConvolution.Forward(x, w, b, y, scratch, relu: true, pool: true, l), calls: 20);
        }
    }
}
