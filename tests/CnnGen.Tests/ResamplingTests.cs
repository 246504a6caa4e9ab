using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Nearest and bilinear upsampling and adaptive average pooling, each path, against double-precision definitions.</summary>
    public sealed class ResamplingTests
    {
        // channels, height, width, a, b (scales for upsampling, output size for adaptive pooling)
        public static IEnumerable<int[]> Shapes()
        {
            var list = new List<int[]>
            {
                new[] { 3, 4, 4, 2, 2 }, new[] { 2, 5, 7, 3, 3 }, new[] { 1, 1, 1, 4, 2 }, new[] { 2, 8, 16, 2, 2 }, new[] { 1, 3, 9, 1, 3 },
                new[] { 4, 6, 11, 2, 1 }, new[] { 1, 2, 20, 5, 2 }, new[] { 2, 7, 13, 1, 1 },
            };
            var random = new Random(3);
            for (int i = 0; i < 16; i++) list.Add(new[] { random.Next(1, 5), random.Next(1, 14), random.Next(1, 30), random.Next(1, 5), random.Next(1, 5) });
            return list;
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (string kind in new[] { "Nearest", "Bilinear", "Adaptive" })
                {
                    int index = 0;
                    foreach (int[] shape in Shapes())
                    {
                        yield return [path[0], kind, index++, 0];
                        if (kind == "Adaptive") yield return [path[0], kind, index - 1, 1]; // output larger than the input too
                    }
                }
        }

        private static int[] ShapeAt(int index)
        {
            int i = 0;
            foreach (int[] shape in Shapes()) if (i++ == index) return shape;
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        // The forward as a list of (output index, input index, weight) terms: every definition below is linear.
        private static List<(int Out, int In, double Weight)> Terms(string kind, int c, int h, int w, int a, int b, out int outH, out int outW)
        {
            var terms = new List<(int, int, double)>();
            if (kind == "Nearest")
            {
                outH = h * a; outW = w * b;
                for (int ch = 0; ch < c; ch++)
                    for (int oy = 0; oy < outH; oy++)
                        for (int ox = 0; ox < outW; ox++)
                            terms.Add(((ch * outH + oy) * outW + ox, (ch * h + oy / a) * w + ox / b, 1.0));
            }
            else if (kind == "Bilinear")
            {
                outH = h * a; outW = w * b;
                static (int, int, double) Source(int o, int size, int scale)
                {
                    double real = Math.Max((o + 0.5) / scale - 0.5, 0);
                    int i0 = (int)Math.Floor(real);
                    return (i0, Math.Min(i0 + 1, size - 1), real - i0);
                }
                for (int ch = 0; ch < c; ch++)
                    for (int oy = 0; oy < outH; oy++)
                        for (int ox = 0; ox < outW; ox++)
                        {
                            var (y0, y1, ly) = Source(oy, h, a);
                            var (x0, x1, lx) = Source(ox, w, b);
                            int o = (ch * outH + oy) * outW + ox, plane = ch * h * w;
                            terms.Add((o, plane + y0 * w + x0, (1 - ly) * (1 - lx)));
                            terms.Add((o, plane + y0 * w + x1, (1 - ly) * lx));
                            terms.Add((o, plane + y1 * w + x0, ly * (1 - lx)));
                            terms.Add((o, plane + y1 * w + x1, ly * lx));
                        }
            }
            else
            {
                outH = a; outW = b;
                for (int ch = 0; ch < c; ch++)
                    for (int oy = 0; oy < outH; oy++)
                        for (int ox = 0; ox < outW; ox++)
                        {
                            int y0 = (int)Math.Floor(oy * (double)h / outH), y1 = (int)Math.Ceiling((oy + 1) * (double)h / outH);
                            int x0 = (int)Math.Floor(ox * (double)w / outW), x1 = (int)Math.Ceiling((ox + 1) * (double)w / outW);
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++)
                                    terms.Add(((ch * outH + oy) * outW + ox, (ch * h + iy) * w + ix, 1.0 / ((y1 - y0) * (x1 - x0))));
                        }
            }
            return terms;
        }

        private static void Run(string kind, bool backward, ReadOnlySpan<float> input, int c, int h, int w, int a, int b, Span<float> output, DirectConvolution.KernelPath path)
        {
            switch ((kind, backward))
            {
                case ("Nearest", false): Resampling.UpsampleNearestOn(input, c, h, w, a, b, output, path); break;
                case ("Nearest", true): Resampling.UpsampleNearestBackwardOn(input, c, h, w, a, b, output, path); break;
                case ("Bilinear", false): Resampling.UpsampleBilinearOn(input, c, h, w, a, b, output, path); break;
                case ("Bilinear", true): Resampling.UpsampleBilinearBackwardOn(input, c, h, w, a, b, output, path); break;
                case ("Adaptive", false): Resampling.AdaptiveAvgPoolOn(input, c, h, w, a, b, output, path); break;
                case ("Adaptive", true): Resampling.AdaptiveAvgPoolBackwardOn(input, c, h, w, a, b, output, path); break;
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndBackward_MatchTheDefinition(string pathName, string kind, int index, int larger)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] s = ShapeAt(index);
            int c = s[0], h = s[1], w = s[2], a = s[3], b = s[4];
            if (larger == 1) { a = h + s[3]; b = w + s[4] + 1; }
            var terms = Terms(kind, c, h, w, a, b, out int outH, out int outW);
            int inLength = c * h * w, outLength = c * outH * outW;
            var random = new Random(index * 13 + kind.Length);
            float[] x = GroupedConvolutionTests.RandomValues(random, inLength), dy = GroupedConvolutionTests.RandomValues(random, outLength);

            var expectedY = new double[outLength];
            var expectedDx = new double[inLength];
            foreach (var (o, i, weight) in terms)
            {
                expectedY[o] += weight * x[i];
                expectedDx[i] += weight * dy[o];
            }
            float[] y = new float[outLength + 3];
            Array.Fill(y, float.NaN);
            Run(kind, false, x, c, h, w, a, b, y.AsSpan(0, outLength), path);
            GroupedConvolutionTests.Close(y.AsSpan(0, outLength), expectedY, 1e-5, $"{path} {kind} {c}x{h}x{w} ({a}, {b}) y");
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            float[] dx = new float[inLength + 3];
            Array.Fill(dx, float.NaN); // overwritten, not accumulated
            Run(kind, true, dy, c, h, w, a, b, dx.AsSpan(0, inLength), path);
            GroupedConvolutionTests.Close(dx.AsSpan(0, inLength), expectedDx, 1e-5, $"{path} {kind} {c}x{h}x{w} ({a}, {b}) dx");
            for (int i = inLength; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]));
        }

        [Theory]
        [InlineData("Nearest", 2, 3, 5, 3, 2)]
        [InlineData("Bilinear", 2, 3, 5, 3, 2)]
        [InlineData("Bilinear", 1, 4, 4, 2, 4)]
        [InlineData("Adaptive", 2, 7, 5, 3, 2)]
        [InlineData("Adaptive", 1, 5, 9, 1, 1)]
        public void Backward_IsTheAdjointOfForward(string kind, int c, int h, int w, int a, int b)
        {
            // Each kernel is linear, so its finite-difference gradient is exact: <dy, F(x)> must equal <B(dy), x>.
            var random = new Random(h * w);
            int outLength = kind == "Adaptive" ? c * a * b : c * h * a * w * b;
            float[] x = GroupedConvolutionTests.RandomValues(random, c * h * w), dy = GroupedConvolutionTests.RandomValues(random, outLength);
            float[] y = new float[outLength], dx = new float[x.Length];
            Run(kind, false, x, c, h, w, a, b, y, DirectConvolution.KernelPath.Scalar);
            Run(kind, true, dy, c, h, w, a, b, dx, DirectConvolution.KernelPath.Scalar);
            double left = 0, right = 0;
            for (int i = 0; i < y.Length; i++) left += (double)dy[i] * y[i];
            for (int i = 0; i < x.Length; i++) right += (double)dx[i] * x[i];
            Assert.True(Math.Abs(left - right) <= 1e-5 * Math.Max(1, Math.Abs(left)), $"{left} vs {right}");
        }

        [Fact]
        public void Bilinear_UsesPyTorchsFloatScale()
        {
            // PyTorch 1.13: Upsample(scale_factor=3, mode='bilinear') of [[0, 1], [2, 3]] has 1.4901161e-08 at (0, 1),
            // from the float source position 1.5·0.33333334 − 0.5.
            float[] y = new float[36];
            Resampling.UpsampleBilinear(new float[] { 0, 1, 2, 3 }, 1, 2, 2, 3, 3, y);
            Assert.Equal(1.4901161e-08f, y[1]);
            Assert.Equal(0f, y[0]);
            Assert.Equal(1f, y[5]);
        }

        [Fact]
        public void RejectsBadArguments_AndAllocatesNothing()
        {
            float[] x = new float[2 * 5 * 6], up = new float[2 * 10 * 18], pooled = new float[2 * 3 * 4];
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleNearest(x.AsSpan(1), 2, 5, 6, 2, 3, up));
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleNearest(x, 2, 5, 6, 2, 3, up.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Resampling.UpsampleNearest(x, 2, 5, 6, 0, 3, up));
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleNearestBackward(up.AsSpan(1), 2, 5, 6, 2, 3, x));
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleNearestBackward(up, 2, 5, 6, 2, 3, x.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleBilinear(x, 2, 5, 6, 2, 3, up.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Resampling.UpsampleBilinear(x, 0, 5, 6, 2, 3, up));
            Assert.Throws<ArgumentException>(() => Resampling.UpsampleBilinearBackward(up, 2, 5, 6, 2, 3, x.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Resampling.AdaptiveAvgPool(x.AsSpan(1), 2, 5, 6, 3, 4, pooled));
            Assert.Throws<ArgumentException>(() => Resampling.AdaptiveAvgPool(x, 2, 5, 6, 3, 4, pooled.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Resampling.AdaptiveAvgPool(x, 2, 5, 6, 0, 4, pooled));
            Assert.Throws<ArgumentException>(() => Resampling.AdaptiveAvgPoolBackward(pooled, 2, 5, 6, 3, 4, x.AsSpan(1)));
            void All()
            {
                Resampling.UpsampleNearest(x, 2, 5, 6, 2, 3, up); Resampling.UpsampleNearestBackward(up, 2, 5, 6, 2, 3, x);
                Resampling.UpsampleBilinear(x, 2, 5, 6, 2, 3, up); Resampling.UpsampleBilinearBackward(up, 2, 5, 6, 2, 3, x);
                Resampling.AdaptiveAvgPool(x, 2, 5, 6, 3, 4, pooled); Resampling.AdaptiveAvgPoolBackward(pooled, 2, 5, 6, 3, 4, x);
                Resampling.AdaptiveAvgPool(x, 2, 5, 6, 1, 1, pooled); Resampling.AdaptiveAvgPoolBackward(pooled, 2, 5, 6, 1, 1, x);
            }
            Allocations.AssertNone(All);
        }
    }
}
