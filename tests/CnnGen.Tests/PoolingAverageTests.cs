using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Average pooling (<see cref="Pooling.AvgPool"/>, padding counted in the divisor) against its definition written out, bit
    /// for bit, on every path: windows 1 to 5, strides 1 to 3, every padding, rows narrower than a vector, a vector and a
    /// remainder, many vectors, odd maps. Its backward against the scatter of each output gradient over its window, bit for
    /// bit, and as the forward's adjoint. PyTorch's own values are PyTorchKernelParityTests' (avgpool fixtures).
    /// </summary>
    public sealed class PoolingAverageTests
    {
        private static readonly (int Height, int Width)[] Maps = { (1, 1), (5, 9), (7, 7), (8, 16), (9, 33), (14, 15), (3, 47), (17, 64), (32, 32), (37, 37) };

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (int kernel in new[] { 1, 2, 3, 4, 5 })
                    foreach (int stride in new[] { 1, 2, 3 })
                        for (int padding = 0; 2 * padding <= kernel; padding++)
                            foreach (var (height, width) in Maps)
                            {
                                if (height + 2 * padding < kernel || width + 2 * padding < kernel) continue;
                                yield return [.. path, height, width, kernel, stride, padding];
                            }
        }

        // The definition: a window's in-bounds cells summed from 0 in scan order, divided by kernel².
        private static float[] Reference(float[] x, int channels, int height, int width, int kernel, int stride, int padding)
        {
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            var y = new float[channels * outHeight * outWidth];
            for (int c = 0; c < channels; c++)
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        float sum = 0f;
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                                if (iy >= 0 && iy < height && ix >= 0 && ix < width) sum += x[(c * height + iy) * width + ix];
                            }
                        y[(c * outHeight + oy) * outWidth + ox] = sum / (kernel * kernel);
                    }
            return y;
        }

        // The backward's definition: from a cleared dx, each output gradient (in scan order) divided by kernel² and added to
        // every in-bounds cell of its window.
        private static float[] ReferenceBackward(float[] dy, int channels, int height, int width, int kernel, int stride, int padding)
        {
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            var dx = new float[channels * height * width];
            for (int c = 0; c < channels; c++)
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        float share = dy[(c * outHeight + oy) * outWidth + ox] / (kernel * kernel);
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                                if (iy >= 0 && iy < height && ix >= 0 && ix < width) dx[(c * height + iy) * width + ix] += share;
                            }
                    }
            return dx;
        }

        private static float[] Values(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = random.Next(20) == 0 ? -0f : (float)(random.NextDouble() * 4 - 2);
            return values;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void AvgPool_IsItsDefinition_BitForBit(string pathName, int height, int width, int kernel, int stride, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(height * 1000 + width * 31 + kernel * 7 + stride * 3 + padding);
            const int Channels = 3;
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            float[] x = Values(random, Channels * height * width);
            float[] expected = Reference(x, Channels, height, width, kernel, stride, padding);
            float[] y = new float[expected.Length + 3];
            Array.Fill(y, 42f);
            Pooling.AvgPoolOn(x, Channels, height, width, kernel, stride, padding, y, path);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]),
                    $"cell {i} of {Channels}x{outHeight}x{outWidth}: {y[i]:R}, expected {expected[i]:R}");
            for (int i = expected.Length; i < y.Length; i++) Assert.Equal(42f, y[i]);

            float[] dy = Values(random, expected.Length);
            float[] expectedDx = ReferenceBackward(dy, Channels, height, width, kernel, stride, padding);
            float[] dx = new float[expectedDx.Length + 3];
            Array.Fill(dx, 42f);
            Pooling.AvgPoolBackwardOn(dy, Channels, height, width, kernel, stride, padding, dx, path);
            for (int i = 0; i < expectedDx.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expectedDx[i]) == BitConverter.SingleToInt32Bits(dx[i]),
                    $"input gradient {i} of {Channels}x{height}x{width}: {dx[i]:R}, expected {expectedDx[i]:R}");
            for (int i = expectedDx.Length; i < dx.Length; i++) Assert.Equal(42f, dx[i]);
        }

        /// <summary>
        /// The backward is the forward's adjoint (the pooling is linear): ⟨AvgPool(x), dy⟩ = ⟨x, AvgPoolBackward(dy)⟩, in
        /// double, whatever order either kernel sums in.
        /// </summary>
        [Theory]
        [InlineData(32, 32, 3, 1, 1)]
        [InlineData(37, 37, 5, 1, 2)]
        [InlineData(9, 33, 2, 1, 1)]
        [InlineData(17, 64, 3, 2, 1)]
        [InlineData(14, 15, 4, 3, 2)]
        public void Backward_IsTheForwardsAdjoint(int height, int width, int kernel, int stride, int padding)
        {
            foreach (object[] pathArguments in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)pathArguments[0]);
                var random = new Random(7);
                const int Channels = 2;
                int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
                float[] x = Values(random, Channels * height * width), dy = Values(random, Channels * outHeight * outWidth);
                float[] y = new float[dy.Length], dx = new float[x.Length];
                Pooling.AvgPoolOn(x, Channels, height, width, kernel, stride, padding, y, path);
                Pooling.AvgPoolBackwardOn(dy, Channels, height, width, kernel, stride, padding, dx, path);
                double forward = 0, backward = 0, scale = 0;
                for (int i = 0; i < y.Length; i++) { forward += (double)y[i] * dy[i]; scale += Math.Abs((double)y[i] * dy[i]); }
                for (int i = 0; i < x.Length; i++) backward += (double)x[i] * dx[i];
                Assert.True(Math.Abs(forward - backward) <= 1e-5 * scale, $"{path}: <y, dy> = {forward}, <x, dx> = {backward}");
            }
        }

        [Fact]
        public void AllocatesNothing_AndRejectsShortSpans()
        {
            float[] x = new float[4 * 37 * 37], y = new float[4 * 37 * 37], dx = new float[x.Length];
            Allocations.AssertNone(() =>
            {
                Pooling.AvgPool(x, 4, 37, 37, 3, 1, 1, y);
                Pooling.AvgPoolBackward(y, 4, 37, 37, 3, 1, 1, dx);
            });
            Assert.Throws<ArgumentException>(() => Pooling.AvgPool(new float[10], 4, 37, 37, 3, 1, 1, y));
            Assert.Throws<ArgumentException>(() => Pooling.AvgPool(x, 4, 37, 37, 3, 1, 1, new float[10]));
            Assert.Throws<ArgumentException>(() => Pooling.AvgPoolBackward(y, 4, 37, 37, 3, 1, 1, new float[10]));
            Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.AvgPool(x, 4, 37, 37, 3, 1, 2, y));
        }
    }
}
