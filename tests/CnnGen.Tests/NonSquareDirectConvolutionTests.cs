using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// DirectConvolution with kernel and padding per axis (Inception's 1xk and kx1), called directly on each path: forward
    /// (with ReLU in the copy-out) and both gradients against the definition in double, on shapes GroupedConvolution sends
    /// elsewhere too (its rule picks the route; these hold every route's kernels to the definition). No allocation.
    /// </summary>
    public sealed class NonSquareDirectConvolutionTests
    {
        // inC, H, W, outC, kh, kw, ph, pw
        public static IEnumerable<int[]> Shapes() => new[]
        {
            new[] { 16, 9, 11, 32, 1, 3, 0, 1 },    // 1x3 "same", two blocks of 16: lanes forward, Lanes weight gradient in pairs
            new[] { 16, 9, 11, 32, 3, 1, 1, 0 },    // 3x1 "same"
            new[] { 5, 17, 17, 7, 1, 7, 0, 3 },     // 1x7, odd channels: the flat forward, Dot weight gradient
            new[] { 7, 17, 17, 5, 7, 1, 3, 0 },     // 7x1
            new[] { 12, 13, 10, 20, 1, 5, 0, 2 },   // 1x5
            new[] { 20, 10, 13, 12, 5, 1, 2, 0 },   // 5x1
            new[] { 3, 8, 19, 6, 1, 3, 0, 0 },      // 1x3 unpadded
            new[] { 6, 19, 8, 3, 3, 1, 0, 0 },      // 3x1 unpadded
            new[] { 4, 7, 9, 8, 2, 3, 1, 0 },       // 2x3, padding on one axis only
            new[] { 9, 11, 6, 10, 3, 3, 0, 2 },     // square kernel, padding per axis
            new[] { 24, 6, 3, 32, 3, 1, 1, 0 },     // 3-wide rows, 32 out: the lanes kernel two blocks at a time
            new[] { 4, 5, 16, 8, 3, 1, 1, 0 },      // 16-wide output rows, 8 out: Dot along d y's own rows
            new[] { 24, 20, 30, 24, 1, 3, 0, 1 },   // 24 out on long rows: Dot on flat rows
            new[] { 40, 9, 9, 48, 1, 7, 0, 3 },     // 13,440 weights: a backward GroupedConvolution leaves to im2col
            new[] { 33, 6, 7, 40, 7, 1, 3, 0 },     // 40 out: a pair of blocks and a partial one
        };

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                int index = 0;
                foreach (int[] shape in Shapes()) yield return [path[0], index++];
            }
        }

        private static int[] ShapeAt(int index) => ((int[][])Shapes())[index];

        // The geometry GroupedConvolutionTests' definition reads: stride 1, no dilation, one group, a bias.
        private static int[] AsGeometry(int[] s) => new[] { s[0], s[1], s[2], s[3], s[4], s[5], 1, 1, s[6], s[7], 1, 1, 1, 1 };

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndGradients_MatchTheDefinition(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] s = ShapeAt(index);
            int c = s[0], h = s[1], w = s[2], oc = s[3], kh = s[4], kw = s[5], ph = s[6], pw = s[7];
            int oh = h + 2 * ph - kh + 1, ow = w + 2 * pw - kw + 1, outLength = oc * oh * ow, taps = c * kh * kw;
            var random = new Random(index * 37 + 3);
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), weight = GroupedConvolutionTests.RandomValues(random, oc * taps);
            float[] bias = GroupedConvolutionTests.RandomValues(random, oc);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, DirectConvolution.ScratchLengthPerAxis(c, h, w, oc, kh, kw, ph, pw)); // garbage must not leak
            double forwardTolerance = 1e-5 * Math.Max(1, Math.Sqrt(taps / 64.0));
            double[] expected = GroupedConvolutionTests.ReferenceForward(AsGeometry(s), x, weight, bias, out _);

            float[] y = new float[outLength + 3];
            Array.Fill(y, float.NaN);
            DirectConvolution.ForwardOn(x, c, h, w, weight, bias, oc, kh, kw, ph, pw, y.AsSpan(0, outLength), scratch, relu: false, pool: false, path);
            GroupedConvolutionTests.Close(y.AsSpan(0, outLength), expected, forwardTolerance, $"{path} y");
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            DirectConvolution.ForwardOn(x, c, h, w, weight, default, oc, kh, kw, ph, pw, y.AsSpan(0, outLength), scratch, relu: true, pool: false, path);
            double[] unbiased = GroupedConvolutionTests.ReferenceForward(AsGeometry(s), x, weight, Array.Empty<float>(), out _);
            GroupedConvolutionTests.Close(y.AsSpan(0, outLength), Array.ConvertAll(unbiased, v => Math.Max(v, 0)), forwardTolerance, $"{path} relu(y), no bias");

            float[] dy = GroupedConvolutionTests.RandomValues(random, outLength);
            var (eW, _, eX) = GroupedConvolutionTests.ReferenceBackward(AsGeometry(s), x, weight, dy);
            float[] w0 = GroupedConvolutionTests.RandomValues(random, weight.Length);
            float[] dW = (float[])w0.Clone(), dX = new float[x.Length];
            Array.Fill(dX, float.NaN); // overwritten, not accumulated
            DirectConvolution.BackwardOn(x, c, h, w, weight, dy, oc, kh, kw, ph, pw, dW, dX, scratch, path);
            for (int i = 0; i < eW.Length; i++) eW[i] += w0[i];
            GroupedConvolutionTests.Close(dW, eW, 1e-5 * Math.Max(1, Math.Sqrt(oh * ow / 64.0)), $"{path} dW (accumulated)");
            GroupedConvolutionTests.Close(dX, eX, 1e-5 * Math.Max(1, Math.Sqrt(oc * kh * kw / 64.0)), $"{path} dx");

            // A frozen layer (no weight gradient): the same input gradient bit for bit.
            float[] dxOnly = new float[x.Length];
            DirectConvolution.BackwardOn(x, c, h, w, weight, dy, oc, kh, kw, ph, pw, default, dxOnly, scratch, path);
            Assert.Equal(dX, dxOnly);

            Allocations.AssertNone(() =>
            {
                DirectConvolution.ForwardOn(x, c, h, w, weight, bias, oc, kh, kw, ph, pw, y.AsSpan(0, outLength), scratch, relu: true, pool: false, path);
                DirectConvolution.BackwardOn(x, c, h, w, weight, dy, oc, kh, kw, ph, pw, dW, dX, scratch, path);
            });
        }

        [Fact]
        public void RejectsShortScratch_AndKernelsLargerThanThePaddedInput()
        {
            float[] x = new float[4 * 6 * 6], weight = new float[8 * 4 * 3], y = new float[8 * 6 * 6];
            int scratch = DirectConvolution.ScratchLengthPerAxis(4, 6, 6, 8, 1, 3, 0, 1);
            Assert.Throws<ArgumentException>(() => DirectConvolution.ForwardOn(x, 4, 6, 6, weight, default, 8, 1, 3, 0, 1, y, new float[scratch - 1], false, false, DirectConvolution.KernelPath.Vector256));
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConvolution.ForwardOn(x, 4, 6, 6, new float[8 * 4 * 9], default, 8, 1, 9, 0, 1, y, new float[1 << 14], false, false, DirectConvolution.KernelPath.Vector256));
        }
    }
}
