using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The depthwise forward over flat planes (DepthwiseConvolution.FlatPlane.cs; stride 2 over phase planes) against the
    /// definition (a double-precision sum over the zero-padded input) and against the unpadded Vector256 kernel bit for bit
    /// (both sum from the bias over the taps in order with fused multiply-adds): planes 4x4 to 16x16 at stride 1, inputs 8
    /// to 37 wide (odd and even) at stride 2, rectangular ones, kernels 3 and 5 (and 3x5, 5x3),
    /// channel counts 1 to 5 (pairs of channels and a single one left over; the first and last channel's masked loads),
    /// channel multiplier 2, each activation's bounds; what the layer runs on every path against the definition.
    /// </summary>
    public class DepthwiseFlatPlaneKernelTests
    {
        // channels, height, width, multiplier, kernel height, kernel width, stride (padding: half the kernel)
        private static IEnumerable<int[]> Geometries()
        {
            foreach (int size in new[] { 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16 })
            {
                yield return new[] { 5, size, size, 1, 3, 3, 1 };
                yield return new[] { 4, size, size, 1, 5, 5, 1 };
            }
            foreach (int size in new[] { 8, 9, 13, 14, 20, 28, 37 })
            {
                yield return new[] { 5, size, size, 1, 3, 3, 2 };
                yield return new[] { 4, size, size, 1, 5, 5, 2 };
            }
            yield return new[] { 1, 7, 7, 1, 3, 3, 1 };     // one channel: first and last at once
            yield return new[] { 2, 7, 7, 1, 3, 3, 1 };     // one pair
            yield return new[] { 3, 7, 7, 2, 3, 3, 1 };     // channel multiplier 2 (one channel a tile)
            yield return new[] { 3, 14, 14, 2, 5, 5, 1 };
            yield return new[] { 3, 14, 14, 2, 3, 3, 2 };
            yield return new[] { 1, 13, 13, 1, 3, 3, 2 };
            yield return new[] { 3, 2, 9, 1, 3, 3, 1 };     // two rows (18 cells, the last vector overlapping)
            yield return new[] { 3, 5, 11, 1, 3, 5, 1 };    // rectangular plane and kernel
            yield return new[] { 3, 9, 21, 1, 5, 3, 2 };
            yield return new[] { 3, 3, 3, 1, 5, 5, 1 };     // a plane smaller than a vector: not taken
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                int index = 0;
                foreach (int[] _ in Geometries()) yield return [path[0], index++];
            }
        }

        private static ConvolutionGeometry GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] d in Geometries())
                if (i++ == index) return new(d[0], d[1], d[2], d[0] * d[3], d[4], d[5], d[6], d[6], d[4] / 2, d[5] / 2, 1, 1, d[0]);
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Forward_MatchesTheDefinition_AndTheUnpaddedKernelBitForBit(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var g = GeometryAt(index);
            var random = new Random(index * 31 + 7);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            foreach (var (low, high) in new[] { (float.NegativeInfinity, float.PositiveInfinity), (0f, 6f), (0f, float.PositiveInfinity), (-0.25f, 0.5f) })
            {
                double[] expected = DepthwiseUnpaddedKernelTests.Definition(g, x, weight, bias, low, high);
                float[] picked = ConvolutionReference.Filled(g.OutLength, float.NaN);
                GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, path, low, high);
                GroupedConvolutionTests.Close(picked, expected, 1e-5, $"{path} picked");
#if NET9_0_OR_GREATER
                bool phases = g.StrideWidth == 2;
                if (path != DirectConvolution.KernelPath.Vector512 || !(phases ? DepthwiseConvolution.FlatPhasesApplies(g) : DepthwiseConvolution.FlatPlaneApplies(g))) continue;
                // Exact-length spans: the masked loads must not reach past either end; NaN shows any output cell left unwritten
                // and any scratch cell read before it is written.
                float[] flat = ConvolutionReference.Filled(g.OutLength, float.NaN);
                if (phases) DepthwiseConvolution.ForwardFlatPhases(g, x, weight, bias, flat, ConvolutionReference.Filled(scratch.Length, float.NaN), low, high);
                else DepthwiseConvolution.ForwardFlatPlane(g, x, weight, bias, flat, low, high);
                GroupedConvolutionTests.Close(flat, expected, 1e-5, "flat plane");
                float[] unpadded = new float[g.OutLength];
                DepthwiseConvolution.ForwardUnpadded(g, x, weight, bias, unpadded, false, low, high);
                Assert.Equal(unpadded, flat);
#endif
            }
        }

#if NET9_0_OR_GREATER
        [Theory]
        [InlineData(256, 7, 3, 1, true)]
        [InlineData(480, 7, 5, 1, true)]
        [InlineData(160, 10, 3, 1, true)]
        [InlineData(96, 8, 3, 1, false)]    // the whole-plane kernel
        [InlineData(128, 14, 3, 1, false)]  // the unpadded kernel
        [InlineData(40, 12, 5, 1, false)]
        [InlineData(24, 37, 3, 2, true)]
        [InlineData(40, 20, 3, 2, true)]
        [InlineData(672, 14, 5, 2, true)]
        [InlineData(256, 8, 3, 2, true)]
        [InlineData(128, 14, 3, 2, false)]  // 3x3 out 7 from 14: the unpadded kernel
        [InlineData(96, 16, 3, 2, false)]   // whole vectors: the padded kernel
        [InlineData(32, 56, 3, 2, false)]
        public void Layers_RunTheFlatKernels_WhereMeasuredToPay(int channels, int size, int kernel, int stride, bool pays)
        {
            var g = new ConvolutionGeometry(channels, size, size, channels, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, channels);
            bool applies = stride == 1 ? DepthwiseConvolution.FlatPlaneApplies(g) : DepthwiseConvolution.FlatPhasesApplies(g);
            Assert.Equal(pays && applies, stride == 1 ? DepthwiseConvolution.FlatPlanePays(g) : DepthwiseConvolution.FlatPhasesPays(g));
            if (!(pays && applies)) return;
            var random = new Random(channels + size);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            float[] picked = new float[g.OutLength], flat = new float[g.OutLength];
            GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, DirectConvolution.KernelPath.Vector512, 0f, 6f);
            if (stride == 1) DepthwiseConvolution.ForwardFlatPlane(g, x, weight, bias, flat, 0f, 6f);
            else DepthwiseConvolution.ForwardFlatPhases(g, x, weight, bias, flat, scratch, 0f, 6f);
            Assert.Equal(flat, picked);
        }

        [Fact]
        public void FlatPlane_DoesNotTakePlanesUnderAVectorOrOtherStrides()
        {
            if (!Vector512.IsHardwareAccelerated) return;
            Assert.True(DepthwiseConvolution.FlatPlaneApplies(new ConvolutionGeometry(8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8)));
            Assert.False(DepthwiseConvolution.FlatPlaneApplies(new ConvolutionGeometry(8, 3, 3, 8, 5, 5, 1, 1, 2, 2, 1, 1, 8)));
            Assert.False(DepthwiseConvolution.FlatPlaneApplies(new ConvolutionGeometry(8, 14, 14, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8)));
            Assert.False(DepthwiseConvolution.FlatPlaneApplies(new ConvolutionGeometry(8, 9, 9, 8, 3, 3, 1, 1, 0, 0, 1, 1, 8)));
            Assert.False(DepthwiseConvolution.FlatPlaneApplies(new ConvolutionGeometry(8, 9, 9, 8, 3, 3, 1, 1, 2, 2, 2, 2, 8)));
            Assert.False(DepthwiseConvolution.FlatPhasesApplies(new ConvolutionGeometry(8, 9, 9, 8, 3, 3, 2, 2, 0, 0, 1, 1, 8))); // input row 8 past 2·OH
            Assert.True(DepthwiseConvolution.FlatPhasesApplies(new ConvolutionGeometry(8, 9, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8)));
        }

        [Fact]
        public void FlatPlane_AllocatesNothing()
        {
            var g = new ConvolutionGeometry(24, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24);
            if (!DepthwiseConvolution.FlatPlaneApplies(g)) return;
            var random = new Random(3);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] y = new float[g.OutLength];
            DepthwiseConvolution.ForwardFlatPlane(g, x, weight, bias, y, 0f, 6f);
            Allocations.AssertNone(() => DepthwiseConvolution.ForwardFlatPlane(g, x, weight, bias, y, 0f, 6f));
            var strided = new ConvolutionGeometry(24, 14, 14, 24, 3, 3, 2, 2, 1, 1, 1, 1, 24);
            float[] stridedX = ConvolutionReference.RandomValues(random, strided.InLength), scratch = new float[GroupedConvolution.ScratchLength(strided)];
            DepthwiseConvolution.ForwardFlatPhases(strided, stridedX, weight, bias, y, scratch, 0f, 6f);
            Allocations.AssertNone(() => DepthwiseConvolution.ForwardFlatPhases(strided, stridedX, weight, bias, y, scratch, 0f, 6f));
        }
#endif
    }
}
