using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The depthwise forward with 16 channels in the vector lanes (DepthwiseConvolution.Lanes.cs) against the definition (a
    /// double-precision sum over the zero-padded input) and against the unpadded kernel bit for bit (both sum from the
    /// bias over the taps in order with fused multiply-adds): strides 1, 2 and 3, kernels 1 to 7 (square and not), padding
    /// 0 to 3, maps from 4x4 outputs to 28x28 (rows of 1 to 8 cells a tile and remainders), channel counts 16 to 50 (the
    /// channels past the last 16 on the row kernels), each activation's bounds; where the rule takes it, what a layer runs.
    /// </summary>
    public class DepthwiseLanesKernelTests
    {
        // channels, height, width, kernel height, kernel width, stride, padding
        private static IEnumerable<int[]> Geometries()
        {
            foreach (int size in new[] { 7, 8, 13, 14, 16, 28 })
            {
                yield return new[] { 16, size, size, 3, 3, 1, 1 };
                yield return new[] { 32, size, size, 3, 3, 2, 1 };
            }
            yield return new[] { 17, 14, 14, 3, 3, 2, 1 };  // one channel past the group, on the row kernels
            yield return new[] { 40, 9, 9, 3, 3, 2, 1 };    // 8 past two groups
            yield return new[] { 48, 10, 10, 5, 5, 1, 2 };
            yield return new[] { 16, 15, 15, 5, 5, 2, 2 };
            yield return new[] { 16, 9, 21, 3, 5, 2, 1 };   // rectangular plane and kernel
            yield return new[] { 16, 12, 12, 7, 7, 1, 3 };
            yield return new[] { 16, 12, 12, 3, 3, 1, 0 };  // no padding
            yield return new[] { 16, 13, 13, 3, 3, 3, 1 };  // stride 3: one cell a tile
            yield return new[] { 16, 6, 6, 1, 1, 1, 0 };    // 1x1
            yield return new[] { 50, 8, 8, 3, 3, 2, 1 };    // a 4x4 output: 16 cells exactly
            yield return new[] { 32, 9, 9, 7, 7, 1, 3 };    // 49 taps: the weights turned 16 at a time, the last turn overlapping
            yield return new[] { 40, 8, 8, 5, 5, 2, 2 };    // 25 taps onto 4x4 at stride 2, two groups and 8 channels past them
            yield return new[] { 16, 10, 12, 5, 7, 1, 2 };  // 35 taps: turns at 0, 16 and 19
        }

        public static IEnumerable<object[]> Cases()
        {
            int index = 0;
            foreach (int[] _ in Geometries()) yield return [index++];
        }

        private static ConvolutionGeometry GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] d in Geometries())
                if (i++ == index) return new(d[0], d[1], d[2], d[0], d[3], d[4], d[5], d[5], d[6], d[6], 1, 1, d[0]);
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        // What ForwardLanes needs besides what the layer's forward reserves (its scratch makes room for the lanes kernel only where the rule may take it).
        private static int LanesScratch(in ConvolutionGeometry g) => (int)Math.Max(DepthwiseConvolution.ScratchLength(g), DepthwiseConvolution.LanesScratchLength(g));

        [Theory]
        [MemberData(nameof(Cases))]
        public void Forward_MatchesTheDefinition_AndTheRowKernelBitForBit(int index)
        {
            var g = GeometryAt(index);
            if (!Avx512F.IsSupported)
            {
                Assert.False(DepthwiseConvolution.LanesApplies(g));
                return;
            }
            Assert.True(DepthwiseConvolution.LanesApplies(g));
            var random = new Random(index * 17 + 3);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            foreach (var (low, high) in new[] { (float.NegativeInfinity, float.PositiveInfinity), (0f, 6f), (0f, float.PositiveInfinity), (-0.25f, 0.5f) })
            {
                double[] expected = DepthwiseUnpaddedKernelTests.Definition(g, x, weight, bias, low, high);
                // NaN in the output shows any cell left unwritten; NaN in the scratch any padded cell read before it is written.
                float[] lanes = ConvolutionReference.Filled(g.OutLength, float.NaN);
                DepthwiseConvolution.ForwardLanes(g, x, weight, bias, lanes, ConvolutionReference.Filled(LanesScratch(g), float.NaN), low, high);
                GroupedConvolutionTests.Close(lanes, expected, 1e-5, $"lanes {low} {high}");
                if (!DepthwiseConvolution.UnpaddedApplies(g)) continue;
                float[] unpadded = new float[g.OutLength];
                DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, unpadded, false, low, high);
                Assert.Equal(unpadded, lanes);
            }
            // No bias: the sums start from zero.
            float[] unbiased = new float[g.OutLength];
            DepthwiseConvolution.ForwardLanes(g, x, weight, default, unbiased, new float[LanesScratch(g)], float.NegativeInfinity, float.PositiveInfinity);
            GroupedConvolutionTests.Close(unbiased, DepthwiseUnpaddedKernelTests.Definition(g, x, weight, new float[g.OutChannels], float.NegativeInfinity, float.PositiveInfinity), 1e-5, "no bias");
        }

        [Theory]
        [InlineData(128, 14, 3, 2, true)]   // MobileNetV1-style's last stride-2 layer
        [InlineData(96, 16, 3, 2, true)]
        [InlineData(256, 8, 3, 2, true)]
        [InlineData(64, 28, 3, 2, false)]   // onto 14x14: the flat phases
        [InlineData(64, 32, 3, 2, false)]
        [InlineData(240, 16, 5, 2, true)]   // 5x5 and 7x7 at stride 2 onto rows of up to 8 cells
        [InlineData(240, 8, 5, 2, true)]
        [InlineData(96, 12, 7, 2, true)]
        [InlineData(72, 32, 5, 2, false)]   // onto 16 wide
        [InlineData(256, 7, 3, 1, false)]   // stride 1: the flat plane
        [InlineData(128, 14, 3, 1, false)]
        [InlineData(8, 14, 3, 2, false)]    // fewer than 16 channels: does not apply
        [InlineData(96, 14, 7, 1, true)]    // 7x7 and 5x5 at stride 1 onto rows of 7-15 cells but 8
        [InlineData(192, 7, 7, 1, true)]
        [InlineData(96, 12, 5, 1, true)]
        [InlineData(480, 14, 5, 1, true)]
        [InlineData(96, 8, 7, 1, false)]    // 8 wide: the whole-plane pairs
        [InlineData(48, 16, 7, 1, false)]   // 16 wide: the shared-row tiles
        [InlineData(96, 28, 5, 1, false)]
        [InlineData(384, 4, 7, 1, true)]    // and at stride 1 onto rows of 4-6 cells
        [InlineData(480, 4, 5, 1, true)]
        [InlineData(240, 6, 5, 1, true)]
        [InlineData(240, 8, 5, 1, false)]
        public void Layers_RunTheLanesKernel_WhereMeasuredToPay(int channels, int size, int kernel, int stride, bool pays)
        {
            var g = new ConvolutionGeometry(channels, size, size, channels, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, channels);
            Assert.Equal(pays && Avx512F.IsSupported, DepthwiseConvolution.LanesPays(g));
            if (!DepthwiseConvolution.LanesPays(g)) return;
            var random = new Random(channels + size);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            float[] picked = new float[g.OutLength], lanes = new float[g.OutLength];
            GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f);
            DepthwiseConvolution.ForwardLanes(g, x, weight, bias, lanes, scratch, 0f, 6f);
            Assert.Equal(lanes, picked);
            // The Vector256 path does not take it: the same outputs from the kernels it runs. Onto rows narrower than 8 only to
            // rounding: there the Vector512 path's kernels before (whose floats the lanes kernel gives; KernelBench
            // depthwise-lanes checks it bit for bit) may already sum otherwise than the Vector256 path's (7x7 onto 4x4 and
            // onto 6-wide rows at stride 2, 5x5 onto 4x4 at stride 2 do).
            float[] narrow = new float[g.OutLength];
            GroupedConvolution.ForwardOn(g, x, weight, bias, narrow, scratch, DirectConvolution.KernelPath.Vector256, 0f, 6f);
            if (g.OutWidth < 8) GroupedConvolutionTests.Close(narrow, Array.ConvertAll(lanes, v => (double)v), 1e-5, "Vector256 path");
            else Assert.Equal(lanes, narrow);
        }

        [Fact]
        public void Lanes_RefusesWhatItDoesNotTake_AndAllocatesNothing()
        {
            if (!Avx512F.IsSupported) return;
            Assert.False(DepthwiseConvolution.LanesApplies(new ConvolutionGeometry(16, 3, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16)));   // 9 cells
            Assert.False(DepthwiseConvolution.LanesApplies(new ConvolutionGeometry(16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 16)));   // multiplier 2
            Assert.False(DepthwiseConvolution.LanesApplies(new ConvolutionGeometry(16, 14, 14, 16, 3, 3, 1, 1, 2, 2, 2, 2, 16))); // dilation
            var bad = new ConvolutionGeometry(8, 14, 14, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8);
            Assert.Throws<InvalidOperationException>(() => DepthwiseConvolution.ForwardLanes(bad, new float[bad.InLength], new float[bad.WeightLength], default,
                new float[bad.OutLength], new float[LanesScratch(bad)], 0f, 6f));
            var g = new ConvolutionGeometry(40, 14, 14, 40, 3, 3, 2, 2, 1, 1, 1, 1, 40);
            var random = new Random(3);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] y = new float[g.OutLength], scratch = new float[LanesScratch(g)];
            Assert.Throws<ArgumentException>(() => DepthwiseConvolution.ForwardLanes(g, x, weight, bias, y, new float[16], 0f, 6f));
            DepthwiseConvolution.ForwardLanes(g, x, weight, bias, y, scratch, 0f, 6f);
            Allocations.AssertNone(() => DepthwiseConvolution.ForwardLanes(g, x, weight, bias, y, scratch, 0f, 6f));
        }
    }
}
