using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The max-pooling kernels (2x2 at stride 2, and any window), vector and scalar paths, against PyTorch's scan rule written out.</summary>
    public sealed class PoolingKernelTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // channels, height, width: LeNet's two pools, odd sizes, widths below and around one 4-window chunk
            int[][] shapes =
            {
                new[] { 6, 28, 28 }, new[] { 16, 10, 10 }, new[] { 3, 7, 9 }, new[] { 2, 2, 2 }, new[] { 1, 5, 7 },
                new[] { 2, 4, 8 }, new[] { 1, 3, 10 }, new[] { 4, 32, 32 }, new[] { 1, 6, 17 }, new[] { 1, 2, 31 },
            };
            foreach (int[] s in shapes)
            {
                foreach (bool vector in new[] { false, true }) yield return new object[] { s[0], s[1], s[2], vector };
            }
        }

        // Small integers make ties common; NaN, ±0 and -inf appear too.
        private static float[] Values(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++)
            {
                int kind = random.Next(40);
                values[i] = kind switch
                {
                    0 => float.NaN,
                    1 => -0f,
                    2 => 0f,
                    3 => float.NegativeInfinity,
                    _ => random.Next(-3, 4),
                };
            }
            return values;
        }

        // PyTorch: scan the window in row order; replace when greater or NaN, stop at the first NaN.
        private static (float Max, int Winner) Window(float[] x, int c, int height, int width, int oy, int ox)
        {
            int winner = (c * height + 2 * oy) * width + 2 * ox;
            float max = x[winner];
            if (float.IsNaN(max)) return (max, winner);
            for (int k = 1; k < 4; k++)
            {
                int at = (c * height + 2 * oy + k / 2) * width + 2 * ox + k % 2;
                float v = x[at];
                if (v > max || float.IsNaN(v))
                {
                    max = v;
                    winner = at;
                    if (float.IsNaN(v)) break;
                }
            }
            return (max, winner);
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardAndBackward_FollowPyTorchsScanRule(int channels, int height, int width, bool vector)
        {
            var random = new Random(channels * 100 + height * 10 + width);
            int outHeight = height / 2, outWidth = width / 2;
            for (int trial = 0; trial < 20; trial++)
            {
                float[] x = Values(random, channels * height * width);
                float[] y = new float[channels * outHeight * outWidth + 3];
                Array.Fill(y, 42f);
                Pooling.MaxPool2x2(x, channels, height, width, y, vector);

                float[] dy = new float[channels * outHeight * outWidth];
                for (int i = 0; i < dy.Length; i++) dy[i] = i + 1;
                float[] dx = new float[channels * height * width + 3];
                Array.Fill(dx, 42f);
                Pooling.MaxPool2x2Backward(x, y.AsSpan(0, dy.Length), dy, channels, height, width, dx, vector);

                var expectedDx = new float[channels * height * width];
                for (int c = 0; c < channels; c++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            var (max, winner) = Window(x, c, height, width, oy, ox);
                            int o = (c * outHeight + oy) * outWidth + ox;
                            // Bit for bit: the sign of a zero and NaN-ness both count.
                            if (BitConverter.SingleToInt32Bits(y[o]) != BitConverter.SingleToInt32Bits(max) && !(float.IsNaN(max) && float.IsNaN(y[o])))
                                Assert.Fail($"vector={vector}: y[{c},{oy},{ox}] = {y[o]}, expected {max}");
                            expectedDx[winner] = dy[o];
                        }
                    }
                }
                for (int i = 0; i < expectedDx.Length; i++)
                {
                    if (BitConverter.SingleToInt32Bits(dx[i]) != BitConverter.SingleToInt32Bits(expectedDx[i]))
                        Assert.Fail($"vector={vector}: dx[{i}] = {dx[i]}, expected {expectedDx[i]}");
                }
                for (int i = dy.Length; i < y.Length; i++) Assert.Equal(42f, y[i]);
                for (int i = expectedDx.Length; i < dx.Length; i++) Assert.Equal(42f, dx[i]);
            }
        }

        [Fact]
        public void RejectsBadShapes_AndAllocatesNothing()
        {
            float[] x = new float[2 * 8 * 8], y = new float[2 * 4 * 4], dx = new float[x.Length];
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2(x.AsSpan(1), 2, 8, 8, y));
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2(x, 2, 8, 8, y.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.MaxPool2x2(x, 2, 1, 8, y));
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2Backward(x, y, y.AsSpan(1), 2, 8, 8, dx));
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2Backward(x, y, y, 2, 8, 8, dx.AsSpan(1)));
            Allocations.AssertNone(() =>
            {
                Pooling.MaxPool2x2(x, 2, 8, 8, y);
                Pooling.MaxPool2x2Backward(x, y, y, 2, 8, 8, dx);
            }, calls: 100);
        }
    
        // channels, height, width, kernel, stride, padding: ResNet's stem pooling, stride 1 and 2 with rows long enough for
        // whole vectors (and a remainder), windows reaching into the padding, strides the vectors do not take.
        private static readonly int[][] GeneralShapes =
        {
            new[] { 3, 32, 32, 3, 2, 1 }, new[] { 2, 33, 35, 3, 2, 1 }, new[] { 2, 9, 40, 3, 1, 1 }, new[] { 1, 7, 50, 2, 1, 0 },
            new[] { 2, 12, 70, 5, 2, 2 }, new[] { 1, 5, 5, 5, 1, 2 }, new[] { 2, 17, 38, 3, 3, 1 }, new[] { 1, 3, 3, 3, 2, 1 },
            new[] { 4, 16, 16, 2, 2, 1 }, new[] { 1, 11, 64, 4, 2, 0 }, new[] { 1, 2, 100, 2, 2, 0 }, new[] { 1, 31, 17, 7, 4, 3 },
            new[] { 1, 3, 33, 3, 2, 0 }, // the plane's last vector would end past the input: scalar there
            // Planes whose every row's maxima would not fit the backward's stack (it keeps a ring of the window's rows), and a
            // tall one with a 5-row window.
            new[] { 1, 230, 226, 3, 2, 1 }, new[] { 1, 150, 150, 3, 1, 1 }, new[] { 2, 97, 40, 5, 1, 2 },
        };

        public static IEnumerable<object[]> GeneralShapesOnEveryPath()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (int[] s in GeneralShapes) yield return [.. path, s[0], s[1], s[2], s[3], s[4], s[5]];
            }
        }

        // PyTorch's kernel: the running maximum starts at -inf and takes a cell inside the input when greater, or NaN.
        internal static float GeneralWindow(float[] x, int c, int height, int width, int kernel, int stride, int padding, int oy, int ox)
        {
            float max = float.NegativeInfinity;
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                    if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                    float v = x[(c * height + iy) * width + ix];
                    if (v > max || float.IsNaN(v)) max = v;
                }
            }
            return max;
        }

        /// <summary>Any window, stride and padding, on every path: the value PyTorch's scan gives, bit for bit (−0 before +0 stays −0).</summary>
        [Theory]
        [MemberData(nameof(GeneralShapesOnEveryPath))]
        public void MaxPool_AnyWindowStrideAndPadding_FollowsPyTorchsScanRule(string pathName, int channels, int height, int width, int kernel, int stride, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(channels * 1000 + height * 100 + width + kernel * 7 + stride * 3 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            for (int trial = 0; trial < 10; trial++)
            {
                // Ties, ±0, -inf and NaN in most trials; plain random values in the others.
                float[] x = trial % 3 == 2 ? RandomFloats(random, channels * height * width) : Values(random, channels * height * width);
                float[] y = new float[channels * outHeight * outWidth + 3];
                Array.Fill(y, 42f);
                Pooling.MaxPoolOn(x, channels, height, width, kernel, stride, padding, y, path);
                for (int c = 0; c < channels; c++)
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            float expected = GeneralWindow(x, c, height, width, kernel, stride, padding, oy, ox);
                            float actual = y[(c * outHeight + oy) * outWidth + ox];
                            if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"NaN expected at {c},{oy},{ox}");
                            else Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                                $"{pathName} {channels}x{height}x{width} k{kernel} s{stride} p{padding} at {c},{oy},{ox}: expected {expected}, got {actual}");
                        }
                for (int i = channels * outHeight * outWidth; i < y.Length; i++) Assert.Equal(42f, y[i]);
            }
        }

        /// <summary>
        /// The gradient of any window, stride and padding, on every path: dy added at PyTorch's winner (the window's first
        /// cell inside the input, replaced by a later one that is greater or NaN), overlapping windows adding up in order.
        /// </summary>
        [Theory]
        [MemberData(nameof(GeneralShapesOnEveryPath))]
        public void MaxPoolBackward_AddsEachGradientAtItsWindowsWinner(string pathName, int channels, int height, int width, int kernel, int stride, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(channels * 999 + height * 77 + width + kernel * 5 + stride * 3 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            for (int trial = 0; trial < 10; trial++)
            {
                float[] x = trial % 3 == 2 ? RandomFloats(random, channels * height * width) : Values(random, channels * height * width);
                if (trial == 1) Array.Fill(x, float.NegativeInfinity); // every window -inf: its first cell inside the input wins
                float[] dy = RandomFloats(random, channels * outHeight * outWidth);
                float[] expected = ReferenceMaxPoolBackward(x, dy, channels, height, width, kernel, stride, padding);
                float[] dx = new float[channels * height * width + 3];
                Array.Fill(dx, 42f);
                Pooling.MaxPoolBackwardOn(x, dy, channels, height, width, kernel, stride, padding, dx, path);
                Assert.Equal(expected, dx.AsSpan(0, expected.Length).ToArray());
                for (int i = expected.Length; i < dx.Length; i++) Assert.Equal(42f, dx[i]);
            }
        }

        /// <summary>
        /// Max pooling's input gradient by the definition: each window's winner found by PyTorch's scan rule (the first cell
        /// inside the input, then a later one when greater or NaN) gets the window's output gradient added.
        /// </summary>
        internal static float[] ReferenceMaxPoolBackward(float[] x, float[] dy, int channels, int height, int width, int kernel, int stride, int padding)
        {
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            float[] dx = new float[channels * height * width];
            for (int c = 0; c < channels; c++)
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int winner = -1;
                        float best = float.NegativeInfinity;
                        for (int iy = Math.Max(0, oy * stride - padding); iy < Math.Min(height, oy * stride - padding + kernel); iy++)
                            for (int ix = Math.Max(0, ox * stride - padding); ix < Math.Min(width, ox * stride - padding + kernel); ix++)
                            {
                                float v = x[(c * height + iy) * width + ix];
                                if (winner < 0 || v > best || float.IsNaN(v)) { best = v; winner = (c * height + iy) * width + ix; }
                            }
                        dx[winner] += dy[(c * outHeight + oy) * outWidth + ox];
                    }
            return dx;
        }

        [Fact]
        public void MaxPool_RejectsBadShapes_AndAllocatesNothing()
        {
            float[] x = new float[2 * 8 * 8], y = new float[2 * 4 * 4];
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool(x.AsSpan(1), 2, 8, 8, 3, 2, 1, y));
            Assert.Throws<ArgumentException>(() => Pooling.MaxPool(x, 2, 8, 8, 3, 2, 1, y.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.MaxPool(x, 2, 8, 8, 3, 2, 2, y)); // padding over half the window
            Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.MaxPool(x, 2, 8, 8, 3, 0, 1, y));
            Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.MaxPool(x, 2, 1, 8, 5, 1, 1, y)); // larger than the padded input
            Assert.Throws<ArgumentException>(() => Pooling.MaxPoolBackward(x, y.AsSpan(1), 2, 8, 8, 3, 2, 1, x));
            Assert.Throws<ArgumentException>(() => Pooling.MaxPoolBackward(x.AsSpan(1), y, 2, 8, 8, 3, 2, 1, new float[128]));
            var dx = new float[x.Length];
            Infrastructure.Allocations.AssertNone(() => Pooling.MaxPool(x, 2, 8, 8, 3, 2, 1, y));
            Infrastructure.Allocations.AssertNone(() => Pooling.MaxPoolBackward(x, y, 2, 8, 8, 3, 2, 1, dx));
        }

        private static float[] RandomFloats(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }
}
}
