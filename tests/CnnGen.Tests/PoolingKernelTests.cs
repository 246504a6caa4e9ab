using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The 2x2 max-pooling kernel, vector and scalar paths, against PyTorch's scan rule written out.</summary>
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
            for (int i = 0; i < 3; i++) // warm up every call measured below
            {
                Pooling.MaxPool2x2(x, 2, 8, 8, y);
                Pooling.MaxPool2x2Backward(x, y, y, 2, 8, 8, dx);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                Pooling.MaxPool2x2(x, 2, 8, 8, y);
                Pooling.MaxPool2x2Backward(x, y, y, 2, 8, 8, dx);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
