using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The depthwise forward read straight from the input (DepthwiseConvolution.Unpadded.cs) against the definition (a
    /// double-precision sum over the zero-padded input) on every path, and against the padded row kernel bit for bit: odd
    /// plane widths and widths around a vector (7 to 112), kernels 3 and 5, strides 1 and 2 (and 2 down the columns only),
    /// padding 0 to 2, channel counts that fill no vector, channel multiplier 2, each activation's bounds.
    /// </summary>
    public class DepthwiseUnpaddedKernelTests
    {
        // channels, height, width, multiplier, kernel, stride height, stride width, padding
        private static IEnumerable<int[]> Geometries()
        {
            foreach (int width in new[] { 7, 8, 9, 14, 15, 16, 17, 28, 31, 37, 56, 112 })
            {
                yield return new[] { 3, 11, width, 1, 3, 1, 1, 1 };
                yield return new[] { 2, 12, width, 1, 3, 2, 2, 1 };
                yield return new[] { 2, 13, width, 1, 5, 1, 1, 2 };
                yield return new[] { 3, 14, width, 1, 5, 2, 2, 2 };
            }
            yield return new[] { 5, 9, 9, 1, 3, 1, 1, 0 };     // no padding: every row interior
            yield return new[] { 5, 20, 21, 1, 3, 2, 2, 0 };
            yield return new[] { 3, 10, 37, 1, 5, 1, 1, 0 };
            yield return new[] { 3, 10, 37, 1, 5, 2, 2, 1 };   // padding 1 under a 5x5
            yield return new[] { 3, 10, 30, 1, 3, 1, 1, 2 };   // padding 2 under a 3x3: whole border rows of bias
            yield return new[] { 3, 10, 30, 1, 3, 2, 2, 2 };
            yield return new[] { 3, 17, 23, 2, 3, 1, 1, 1 };   // channel multiplier 2
            yield return new[] { 3, 17, 23, 2, 5, 2, 2, 2 };
            yield return new[] { 4, 19, 18, 1, 3, 2, 1, 1 };   // stride 2 down the columns only
            yield return new[] { 4, 19, 40, 1, 3, 1, 2, 1 };   // stride 2 along the rows only
            yield return new[] { 17, 6, 6, 1, 3, 1, 1, 1 };    // fewer rows than a tile
            yield return new[] { 2, 3, 3, 1, 5, 1, 1, 2 };     // a map smaller than the kernel
            yield return new[] { 2, 1, 33, 1, 3, 1, 1, 1 };    // one row
            yield return new[] { 2, 33, 1, 1, 3, 2, 2, 1 };    // one column
            yield return new[] { 2, 12, 12, 1, 2, 1, 1, 0 };   // even kernel
            yield return new[] { 2, 12, 12, 1, 1, 2, 2, 0 };   // 1x1 stride 2
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                int index = 0;
                foreach (int[] _ in Geometries()) yield return [path[0], index++];
            }
        }

        private static int[] GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] geometry in Geometries()) if (i++ == index) return geometry;
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        private static ConvolutionGeometry Make(int[] d) =>
            new(d[0], d[1], d[2], d[0] * d[3], d[4], d[4], d[5], d[6], d[7], d[7], 1, 1, d[0]);

        // The definition in double precision: the bias, then every tap over the zero-padded input, then the bounds (shared
        // with DepthwiseFlatPlaneKernelTests).
        internal static double[] Definition(in ConvolutionGeometry g, float[] x, float[] weight, float[] bias, float low, float high)
        {
            var y = new double[g.OutLength];
            int multiplier = g.GroupOutChannels, kh = g.KernelHeight, kw = g.KernelWidth;
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int ic = oc / multiplier;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        double sum = bias[oc];
                        for (int ky = 0; ky < kh; ky++)
                        {
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * g.StrideHeight - g.PaddingHeight + ky, ix = ox * g.StrideWidth - g.PaddingWidth + kx;
                                if (iy < 0 || iy >= g.InHeight || ix < 0 || ix >= g.InWidth) continue;
                                sum += (double)x[(ic * g.InHeight + iy) * g.InWidth + ix] * weight[(oc * kh + ky) * kw + kx];
                            }
                        }
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = Math.Min(Math.Max(sum, low), high);
                    }
                }
            }
            return y;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Forward_MatchesTheDefinition_AndThePaddedRowKernelBitForBit(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var g = Make(GeometryAt(index));
            var random = new Random(index * 17 + 5);
            float[] x = RandomValues(random, g.InLength), weight = RandomValues(random, g.WeightLength), bias = RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            foreach (var (low, high) in new[] { (float.NegativeInfinity, float.PositiveInfinity), (0f, 6f), (-0.25f, 0.5f) })
            {
                double[] expected = Definition(g, x, weight, bias, low, high);
                // What the layer runs on this path (the scalar path: the definition's loops).
                float[] picked = Garbage(random, g.OutLength);
                GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, path, low, high);
                GroupedConvolutionTests.Close(picked, expected, 1e-5, $"{path} picked");
                if (path == DirectConvolution.KernelPath.Scalar || !DepthwiseConvolution.UnpaddedApplies(g)) continue;
                bool wide = path == DirectConvolution.KernelPath.Vector512;
                // Exact-length spans: the masked loads and stores must not reach past either end.
                float[] unpadded = Garbage(random, g.OutLength);
                DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, unpadded, wide, low, high);
                GroupedConvolutionTests.Close(unpadded, expected, 1e-5, $"{path} unpadded");
                // The row kernel sums in the same order with fused multiply-adds, except on rows narrower than 8, whose last rows
                // it runs by a scalar loop (one rounding per product).
                if (g.OutWidth < 8) continue;
                float[] padded = new float[g.OutLength];
                DepthwiseConvolution.ForwardByRows(g, x, weight, bias, padded, scratch, path, low, high);
                Assert.Equal(padded, unpadded);
            }
        }

        [Theory]
        [InlineData(128, 14, 3, 1, true)]   // 14 wide out
        [InlineData(64, 28, 3, 2, true)]
        [InlineData(256, 7, 3, 1, true)]
        [InlineData(480, 7, 5, 1, true)]
        [InlineData(16, 56, 3, 1, false)]   // 16 wide and more: the padded kernel
        [InlineData(200, 9, 3, 1, false)]
        [InlineData(72, 32, 5, 2, false)]   // 5x5 stride 2
        [InlineData(40, 12, 5, 1, false)]
        public void Layers_RunTheUnpaddedKernel_WhereMeasuredToPay(int channels, int size, int kernel, int stride, bool pays)
        {
            var g = new ConvolutionGeometry(channels, size, size, channels, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, channels);
            Assert.Equal(pays && DepthwiseConvolution.UnpaddedApplies(g), DepthwiseConvolution.UnpaddedPays(g));
            if (!DepthwiseConvolution.UnpaddedPays(g)) return;
            var random = new Random(channels + size);
            float[] x = RandomValues(random, g.InLength), weight = RandomValues(random, g.WeightLength), bias = RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            foreach (object[] row in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)row[0]);
                if (path == DirectConvolution.KernelPath.Scalar) continue;
                float[] picked = new float[g.OutLength], unpadded = new float[g.OutLength];
                GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, path, 0f, 6f);
                // Stride 2 runs Vector256 tiles on either path (the rule's table).
                DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, unpadded, path == DirectConvolution.KernelPath.Vector512 && stride == 1, 0f, 6f);
                Assert.Equal(unpadded, picked);
            }
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Vector256.IsHardwareAccelerated) return;
            var g = new ConvolutionGeometry(24, 28, 28, 24, 3, 3, 2, 2, 1, 1, 1, 1, 24);
            var random = new Random(3);
            float[] x = RandomValues(random, g.InLength), weight = RandomValues(random, g.WeightLength), bias = RandomValues(random, g.OutChannels);
            float[] y = new float[g.OutLength], scratch = new float[GroupedConvolution.ScratchLength(g)];
            GroupedConvolution.Forward(g, x, weight, bias, y, scratch, 0f, 6f);
            Allocations.AssertNone(() => GroupedConvolution.Forward(g, x, weight, bias, y, scratch, 0f, 6f));
            if (!DepthwiseConvolution.UnpaddedApplies(g)) return;
            DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, y, true, 0f, 6f);
            Allocations.AssertNone(() => DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, y, true, 0f, 6f));
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        // An output filled with values the kernel must overwrite.
        private static float[] Garbage(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = 1000f + (float)random.NextDouble();
            return values;
        }
    }
}
