using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// LineWinogradConvolution (F(4, 3), F(4, 5) and F(4, 7) along a 1xk or kx1 kernel's axis) against the definition in double: channels that
    /// fill 16-lane groups and channels that do not, outputs whose length along the axis is not a multiple of 4, padding
    /// per axis, several chunks of tiles, the output clamp, no bias. No allocation.
    /// </summary>
    public sealed class LineWinogradConvolutionTests
    {
        // The kernel runs here: with AVX-512, or with AVX2 and FMA (session 60).
        private static bool Available => LineWinogradConvolution.Handles(1, 3);

        // inC, H, W, outC, kh, kw, ph, pw
        public static IEnumerable<object[]> Shapes() => new[]
        {
            new object[] { 16, 32, 32, 24, 1, 3, 0, 1 },   // Inception-style's first 1x3
            new object[] { 24, 32, 32, 24, 3, 1, 1, 0 },   // and its 3x1
            new object[] { 32, 16, 16, 48, 1, 3, 0, 1 },
            new object[] { 48, 16, 16, 48, 3, 1, 1, 0 },
            new object[] { 5, 9, 11, 7, 1, 3, 0, 1 },      // partial groups in and out; 11 columns: a tile of 3 at the end
            new object[] { 7, 11, 9, 5, 3, 1, 1, 0 },      // the same down the columns
            new object[] { 17, 6, 13, 33, 1, 3, 0, 0 },    // unpadded: 11 outputs a row
            new object[] { 33, 13, 6, 17, 3, 1, 0, 0 },
            new object[] { 8, 5, 7, 20, 1, 3, 2, 2 },      // padding on both axes: the rows outside the image are the bias
            new object[] { 20, 7, 5, 8, 3, 1, 2, 1 },
            new object[] { 1, 1, 3, 1, 1, 3, 0, 0 },       // one output
            new object[] { 64, 40, 36, 64, 3, 1, 1, 0 },   // several chunks of tiles
            new object[] { 96, 12, 12, 96, 1, 3, 0, 1 },
            // F(4, 5) and F(4, 7): Inception-v3's 1x7 and 7x1 on 17x17, and odd shapes
            new object[] { 32, 17, 17, 48, 1, 7, 0, 3 },
            new object[] { 48, 17, 17, 32, 7, 1, 3, 0 },
            new object[] { 5, 9, 12, 19, 1, 7, 1, 2 },     // partial groups; padding on both axes
            new object[] { 19, 10, 7, 5, 7, 1, 0, 0 },     // unpadded: one whole tile of 4 down each column
            new object[] { 16, 9, 15, 16, 7, 1, 3, 0 },    // 9 outputs a column: a last tile of 1
            new object[] { 20, 6, 11, 17, 1, 7, 0, 3 },    // 11 a row: a last tile of 3
            new object[] { 24, 13, 11, 40, 1, 5, 0, 2 },
            new object[] { 40, 11, 13, 24, 5, 1, 2, 0 },
            new object[] { 3, 6, 9, 16, 1, 5, 0, 0 },      // 5 outputs a row: a last tile of 1
            new object[] { 64, 35, 35, 64, 5, 1, 2, 0 },   // several chunks of tiles
        };

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int c, int h, int w, int oc, int kh, int kw, int ph, int pw)
        {
            if (!Available) return;
            var l = new LineWinogradConvolution.Layout(c, h, w, oc, kh, kw, ph, pw);
            int[] geometry = { c, h, w, oc, kh, kw, 1, 1, ph, pw, 1, 1, 1 };
            var random = new Random(c * 131 + h * 17 + w + kh);
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), weight = GroupedConvolutionTests.RandomValues(random, oc * c * kh * kw);
            float[] bias = GroupedConvolutionTests.RandomValues(random, oc);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, l.ScratchLength); // garbage must not leak
            int outLength = oc * l.OutHeight * l.OutWidth;
            double[] expected = GroupedConvolutionTests.ReferenceForward(geometry, x, weight, bias, out double[] magnitude);
            Assert.Equal(expected.Length, outLength);

            float[] y = new float[outLength + 5];
            Array.Fill(y, float.NaN);
            LineWinogradConvolution.Forward(x, weight, bias, y, scratch, new OutputClamp(float.NegativeInfinity, float.PositiveInfinity), l);
            WithinMagnitude(y, expected, magnitude, "y", l.Positions);
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");

            // No bias, clamped as ReLU6 (the clamp's own comparisons, so its bounds exactly).
            double[] unbiased = GroupedConvolutionTests.ReferenceForward(geometry, x, weight, Array.Empty<float>(), out _);
            LineWinogradConvolution.Forward(x, weight, default, y, scratch, new OutputClamp(0f, 0.25f), l);
            WithinMagnitude(y, Array.ConvertAll(unbiased, v => Math.Min(Math.Max(v, 0), 0.25)), magnitude, "clamp(y), no bias", l.Positions);
            for (int i = 0; i < outLength; i++) Assert.InRange(y[i], 0f, 0.25f);
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void InputGradient_MatchesTheDefinition(int c, int h, int w, int oc, int kh, int kw, int ph, int pw)
        {
            if (!Available || !LineWinogradConvolution.TakesInputGradient(kh, kw, ph, pw)) return;
            var l = LineWinogradConvolution.InputGradientLayout(c, h, w, oc, kh, kw, ph, pw);
            Assert.Equal((oc, c, h, w), (l.InChannels, l.OutChannels, l.OutHeight, l.OutWidth));
            int[] geometry = { c, h, w, oc, kh, kw, 1, 1, ph, pw, 1, 1, 1, 1 };
            var random = new Random(c * 71 + h * 13 + w + kh);
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), weight = GroupedConvolutionTests.RandomValues(random, oc * c * kh * kw);
            float[] dy = GroupedConvolutionTests.RandomValues(random, oc * l.Height * l.Width);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, l.ScratchLength);
            double[] expected = GroupedConvolutionTests.ReferenceBackward(geometry, x, weight, dy).Dx;
            double[] magnitude = GroupedConvolutionTests.ReferenceBackward(geometry, x, Array.ConvertAll(weight, Math.Abs), Array.ConvertAll(dy, Math.Abs)).Dx;
            float[] dx = new float[c * h * w + 5];
            Array.Fill(dx, float.NaN);
            LineWinogradConvolution.InputGradient(dy, weight, dx.AsSpan(0, c * h * w), scratch, l);
            WithinMagnitude(dx, expected, magnitude, "dx", l.Positions);
            for (int i = c * h * w; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]), "wrote past the input gradient");
        }

        // One axis of F(4x4, 3x3)'s transforms: F(4, 3) and F(4, 5) within 3e-6 of the sum of the products' magnitudes (the
        // direct kernels' 1e-6), F(4, 7)'s ten points within F(4x4)'s 1e-5 (its largest errors measured 1.6e-6 to 3.0e-6).
        private static void WithinMagnitude(float[] actual, double[] expected, double[] magnitude, string what, int positions) =>
            WithinMagnitude(actual, expected, magnitude, what, positions == 10 ? 1e-5 : 3e-6);

        /// <summary>Every element within tolerance of its products' magnitude (at least 1) of the definition's (RowWinogradConvolutionTests too).</summary>
        internal static void WithinMagnitude(float[] actual, double[] expected, double[] magnitude, string what, double tolerance)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                double error = Math.Abs(actual[i] - expected[i]);
                if (!(error <= tolerance * Math.Max(1, magnitude[i])))
                    Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (error {error:E2}, magnitude {magnitude[i]:G3})");
            }
        }

        [Fact]
        public void Layout_RejectsOtherKernels_AndCoversSeveralChunks()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new LineWinogradConvolution.Layout(8, 8, 8, 8, 3, 3, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new LineWinogradConvolution.Layout(8, 8, 8, 8, 1, 9, 0, 4));
            Assert.Throws<ArgumentOutOfRangeException>(() => new LineWinogradConvolution.Layout(8, 8, 8, 8, 1, 4, 0, 2));
            Assert.Equal((4, 8), (new LineWinogradConvolution.Layout(8, 8, 8, 8, 1, 5, 0, 2).TileSize, new LineWinogradConvolution.Layout(8, 8, 8, 8, 1, 5, 0, 2).Positions));
            Assert.Equal((4, 10), (new LineWinogradConvolution.Layout(8, 8, 8, 8, 7, 1, 3, 0).TileSize, new LineWinogradConvolution.Layout(8, 8, 8, 8, 7, 1, 3, 0).Positions));
            Assert.Throws<ArgumentOutOfRangeException>(() => new LineWinogradConvolution.Layout(8, 8, 1, 8, 1, 3, 0, 0)); // nothing to slide over
            Assert.True(new LineWinogradConvolution.Layout(64, 40, 36, 64, 3, 1, 1, 0).Chunks > 1, "a shape of the tests covers several chunks");
            // The rules' tile count (GroupedConvolution) is the layout's.
            foreach (object[] shape in Shapes())
            {
                int[] s = Array.ConvertAll(shape, o => (int)o);
                var l = new LineWinogradConvolution.Layout(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
                Assert.Equal(l.Tiles, LineWinogradConvolution.TilesOf(s[4], s[5], l.OutHeight, l.OutWidth));
            }
            Assert.False(LineWinogradConvolution.TakesInputGradient(1, 3, 1, 1), "a 1x3 layer padded across its axis");
            Assert.False(LineWinogradConvolution.TakesInputGradient(3, 1, 3, 0), "padding 3 along the axis");
            Assert.True(LineWinogradConvolution.TakesInputGradient(3, 1, 2, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => LineWinogradConvolution.InputGradientLayout(8, 8, 8, 8, 1, 3, 1, 1));
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Available) return;
            var l = new LineWinogradConvolution.Layout(32, 16, 16, 48, 1, 3, 0, 1);
            float[] x = new float[32 * 16 * 16], w = new float[48 * 32 * 3], b = new float[48], y = new float[48 * 16 * 16], scratch = new float[l.ScratchLength];
            var clamp = new OutputClamp(0f, float.PositiveInfinity);
            Infrastructure.Allocations.AssertNone(() => LineWinogradConvolution.Forward(x, w, b, y, scratch, clamp, l), calls: 20);
        }
    }
}
