using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Nearest upsampling x2 (the vector kernel that writes both output rows of an input row), on every path: each output
    /// cell the bits of its input cell (−0 and NaN payloads kept), over widths below, at and around 4, 8 and 16 cells.
    /// </summary>
    public sealed class ResamplingNearest2x2Tests
    {
        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (int width in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 31, 32, 33, 40, 56 })
                    foreach (int height in new[] { 1, 2, 5 })
                        yield return [path[0], height, width];
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void EachCell_IsItsSourceCellsBits(string pathName, int height, int width)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            const int Channels = 3;
            var random = new Random(height * 100 + width);
            float[] x = GroupedConvolutionTests.RandomValues(random, Channels * height * width);
            x[0] = -0f;
            x[x.Length - 1] = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_4321));
            int outHeight = 2 * height, outWidth = 2 * width;
            float[] y = new float[Channels * outHeight * outWidth + 5];
            Array.Fill(y, 42f);
            Resampling.UpsampleNearestOn(x, Channels, height, width, 2, 2, y, path);
            for (int c = 0; c < Channels; c++)
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int expected = BitConverter.SingleToInt32Bits(x[(c * height + oy / 2) * width + ox / 2]);
                        int actual = BitConverter.SingleToInt32Bits(y[(c * outHeight + oy) * outWidth + ox]);
                        Assert.True(expected == actual, $"{pathName} {height}x{width} at {c},{oy},{ox}: {actual:X8}, expected {expected:X8}");
                    }
            for (int i = Channels * outHeight * outWidth; i < y.Length; i++) Assert.Equal(42f, y[i]);
        }

        [Fact]
        public void AllocatesNothing()
        {
            float[] x = new float[32 * 16 * 16], y = new float[32 * 32 * 32];
            Infrastructure.Allocations.AssertNone(() => Resampling.UpsampleNearest(x, 32, 16, 16, 2, 2, y));
        }
    }
}
