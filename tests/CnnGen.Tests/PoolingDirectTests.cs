using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Max pooling straight from the input (planes without NaN; a plane with a NaN goes to the copying kernel) against
    /// PyTorch's scan written out, bit for bit, on every path: windows 1 to 8, strides 1 and 2 (others stay on the copying
    /// kernel, checked too), every padding, rows narrower than a vector, a vector and a remainder, and many vectors.
    /// </summary>
    public sealed class PoolingDirectTests
    {
        // height, width: a window's own size, narrower than 8 and 16 windows, 16 and a remainder, many vectors, ResNet's stem, rows
        // wider than the kernel's band of 16 chunks.
        private static readonly (int Height, int Width)[] Maps = { (1, 1), (5, 9), (7, 7), (8, 16), (9, 33), (14, 15), (3, 47), (17, 64), (112, 112), (3, 530) };

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (int kernel in new[] { 1, 2, 3, 4, 5, 8 })
                    foreach (int stride in new[] { 1, 2, 3 })
                        for (int padding = 0; 2 * padding <= kernel; padding++)
                            foreach (var (height, width) in Maps)
                            {
                                if (height + 2 * padding < kernel || width + 2 * padding < kernel) continue;
                                if (height == 112 && (kernel != 3 || padding != 1)) continue; // the stem's pooling only, at that size
                                if (width == 530 && kernel != 3) continue;
                                yield return [.. path, height, width, kernel, stride, padding];
                            }
        }

        // Small integers make ties common; ±0 and -inf appear, NaN only where asked.
        private static float[] Values(Random random, int length, bool nan)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = random.Next(30) switch
                {
                    0 => nan ? float.NaN : 1f,
                    1 or 2 => -0f,
                    3 or 4 => 0f,
                    5 => float.NegativeInfinity,
                    _ => random.Next(-3, 2),
                };
            }
            return values;
        }

        /// <summary>
        /// Three channels, the middle one with NaN in some trials (the others without): each cell PyTorch's scan value, bit for
        /// bit (the sign of a zero maximum is its first zero's; a NaN's bits are the last NaN's), nothing written past y.
        /// </summary>
        [Theory]
        [MemberData(nameof(Cases))]
        public void MaxPool_IsPyTorchsScan_BitForBit(string pathName, int height, int width, int kernel, int stride, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(height * 1000 + width * 31 + kernel * 7 + stride * 3 + padding);
            const int Channels = 3;
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int plane = height * width;
            for (int trial = 0; trial < 4; trial++)
            {
                float[] x = new float[Channels * plane];
                for (int c = 0; c < Channels; c++)
                {
                    bool nan = c == 1 && trial % 2 == 1;
                    Values(random, plane, nan).CopyTo(x, c * plane);
                    // A NaN with a payload of its own, so the last NaN in scan order is told apart from the others.
                    if (nan) x[c * plane + random.Next(plane)] = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_1234));
                }
                if (trial == 2) Array.Fill(x, float.NegativeInfinity, plane, plane); // a channel of -inf only
                float[] y = new float[Channels * outHeight * outWidth + 3];
                Array.Fill(y, 42f);
                Pooling.MaxPoolOn(x, Channels, height, width, kernel, stride, padding, y, path);
                for (int c = 0; c < Channels; c++)
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int expected = BitConverter.SingleToInt32Bits(PoolingKernelTests.GeneralWindow(x, c, height, width, kernel, stride, padding, oy, ox));
                            int actual = BitConverter.SingleToInt32Bits(y[(c * outHeight + oy) * outWidth + ox]);
                            Assert.True(expected == actual,
                                $"{pathName} {height}x{width} k{kernel} s{stride} p{padding} trial {trial} at {c},{oy},{ox}: expected {expected:X8}, got {actual:X8}");
                        }
                for (int i = Channels * outHeight * outWidth; i < y.Length; i++) Assert.Equal(42f, y[i]);
            }
        }

        /// <summary>
        /// The backward pass over the same shapes and values (the Vector512 path reads its rows straight through masked loads):
        /// dy added at PyTorch's winner, the window's first cell inside the input replaced by a later one that is greater or NaN.
        /// </summary>
        [Theory]
        [MemberData(nameof(Cases))]
        public void MaxPoolBackward_AddsAtPyTorchsWinner(string pathName, int height, int width, int kernel, int stride, int padding)
        {
            if (height == 112 || width == 530) return; // the forward's largest maps only: the reference below scans every window
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(height * 999 + width * 37 + kernel * 5 + stride * 3 + padding);
            const int Channels = 2;
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            for (int trial = 0; trial < 3; trial++)
            {
                float[] x = Values(random, Channels * height * width, nan: trial == 1);
                if (trial == 2) Array.Fill(x, float.NegativeInfinity, 0, height * width); // every window -inf: its first cell inside the input wins
                float[] dy = GroupedConvolutionTests.RandomValues(random, Channels * outHeight * outWidth);
                float[] expected = PoolingKernelTests.ReferenceMaxPoolBackward(x, dy, Channels, height, width, kernel, stride, padding);
                float[] dx = new float[Channels * height * width + 3];
                Array.Fill(dx, 42f);
                Pooling.MaxPoolBackwardOn(x, dy, Channels, height, width, kernel, stride, padding, dx, path);
                Assert.Equal(expected, dx.AsSpan(0, expected.Length).ToArray());
                for (int i = expected.Length; i < dx.Length; i++) Assert.Equal(42f, dx[i]);
            }
        }

        /// <summary>The direct kernel allocates nothing (its masks and ring are on the stack).</summary>
        [Fact]
        public void MaxPool_Direct_AllocatesNothing()
        {
            float[] x = new float[64 * 32 * 32], y = new float[64 * 16 * 16], z = new float[64 * 32 * 32];
            for (int i = 0; i < x.Length; i++) x[i] = i % 7;
            Infrastructure.Allocations.AssertNone(() => Pooling.MaxPool(x, 64, 32, 32, 3, 2, 1, y));
            Infrastructure.Allocations.AssertNone(() => Pooling.MaxPool(x, 64, 32, 32, 3, 1, 1, z));
        }
    }
}
