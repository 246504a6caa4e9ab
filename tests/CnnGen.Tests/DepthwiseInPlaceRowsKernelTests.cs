using System;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The in-place depthwise kernel for rows of 16 and 32 cells (DepthwiseConvolution.InPlaceRows.cs) against the definition (a
    /// double-precision sum over the zero-padded input) and against the row kernel it replaces bit for bit: maps 16 and 32 wide and 8 to 32 high,
    /// one to five channels (the first and last rows of the map's top and bottom tiles reading zeros), channel multiplier 2,
    /// each activation's bounds; and where the layer takes it.
    /// </summary>
    public class DepthwiseInPlaceRowsKernelTests
    {
        [Theory]
        [InlineData(5, 16, 16, 1)]
        [InlineData(1, 8, 16, 1)]
        [InlineData(3, 24, 16, 1)]
        [InlineData(2, 32, 16, 2)]
        [InlineData(64, 16, 16, 1)]
        [InlineData(3, 32, 32, 1)]   // two vectors a row: each one's shifts take a lane of the other
        [InlineData(2, 8, 32, 2)]
        public void Forward_MatchesTheDefinition_AndTheRowKernelBitForBit(int channels, int height, int width, int multiplier)
        {
            if (!Avx512F.IsSupported) return;
            var g = new ConvolutionGeometry(channels, height, width, channels * multiplier, 3, 3, 1, 1, 1, 1, 1, 1, channels);
            Assert.True(DepthwiseConvolution.InPlaceRowsPay(g));
            var random = new Random(channels * 7 + height + width + multiplier);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            foreach (var (low, high) in new[] { (float.NegativeInfinity, float.PositiveInfinity), (0f, 6f), (0f, float.PositiveInfinity), (-0.25f, 0.5f) })
            {
                double[] expected = DepthwiseUnpaddedKernelTests.Definition(g, x, weight, bias, low, high);
                // Exact-length spans: a load past either end of x would throw or read what is not the map; NaN shows a cell left unwritten.
                float[] inPlace = ConvolutionReference.Filled(g.OutLength, float.NaN);
                DepthwiseConvolution.ForwardInPlaceRows(g, x.AsSpan(0, g.InLength), weight, bias, inPlace, low, high);
                GroupedConvolutionTests.Close(inPlace, expected, 1e-5, "in place");
                float[] rows = new float[g.OutLength];
                DepthwiseConvolution.ForwardByRows(g, x, weight, bias, rows, scratch, DirectConvolution.KernelPath.Vector512, low, high);
                Assert.Equal(rows, inPlace);
                // Without a bias: the sums start from 0.
                float[] unbiased = new float[g.OutLength], unbiasedRows = new float[g.OutLength];
                DepthwiseConvolution.ForwardInPlaceRows(g, x, weight, default, unbiased, low, high);
                DepthwiseConvolution.ForwardByRows(g, x, weight, default, unbiasedRows, scratch, DirectConvolution.KernelPath.Vector512, low, high);
                Assert.Equal(unbiasedRows, unbiased);
            }
        }

        [Theory]
        [InlineData(64, 16, 16, 3, 1, 1, 1, true)]
        [InlineData(64, 24, 16, 3, 1, 1, 1, true)]
        [InlineData(64, 20, 16, 3, 1, 1, 1, false)]  // rows not in whole tiles of 8
        [InlineData(64, 16, 32, 3, 1, 1, 1, true)]   // two vectors a row
        [InlineData(64, 16, 64, 3, 1, 1, 1, false)]  // four: the row kernel
        [InlineData(64, 16, 16, 3, 2, 1, 1, false)]  // stride 2
        [InlineData(64, 16, 16, 3, 1, 2, 2, false)]  // dilated
        [InlineData(64, 16, 16, 5, 1, 2, 1, false)]  // 5x5
        [InlineData(64, 16, 16, 3, 1, 0, 1, false)]  // unpadded
        public void Layers_TakeIt_OnlyWhereItApplies(int channels, int height, int width, int kernel, int stride, int padding, int dilation, bool takes)
        {
            var g = new ConvolutionGeometry(channels, height, width, channels, kernel, kernel, stride, stride, padding, padding, dilation, dilation, channels);
            Assert.Equal(takes && Avx512F.IsSupported, DepthwiseConvolution.InPlaceRowsPay(g));
            if (!takes || !Avx512F.IsSupported) return;
            // What the layer runs (GroupedConvolution, as the generated code calls it) is this kernel's result.
            var random = new Random(channels + height);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength), weight = ConvolutionReference.RandomValues(random, g.WeightLength), bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] picked = new float[g.OutLength], inPlace = new float[g.OutLength];
            GroupedConvolution.ForwardOn(g, x, weight, bias, picked, new float[GroupedConvolution.ScratchLength(g)], DirectConvolution.KernelPath.Vector512, 0f, 6f);
            DepthwiseConvolution.ForwardInPlaceRows(g, x, weight, bias, inPlace, 0f, 6f);
            Assert.Equal(inPlace, picked);
        }

        [Fact]
        public void Forward_RefusesOtherGeometries_AndShortSpans()
        {
            if (!Avx512F.IsSupported) return;
            var g = new ConvolutionGeometry(4, 16, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4);
            Assert.Throws<ArgumentException>(() => DepthwiseConvolution.ForwardInPlaceRows(g, new float[g.InLength - 1], new float[g.WeightLength], default, new float[g.OutLength], 0f, 6f));
            Assert.Throws<ArgumentException>(() => DepthwiseConvolution.ForwardInPlaceRows(g, new float[g.InLength], new float[g.WeightLength], default, new float[g.OutLength - 1], 0f, 6f));
            var wide = new ConvolutionGeometry(4, 16, 48, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4);
            Assert.Throws<InvalidOperationException>(() => DepthwiseConvolution.ForwardInPlaceRows(wide, new float[wide.InLength], new float[wide.WeightLength], default, new float[wide.OutLength], 0f, 6f));
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            if (!Avx512F.IsSupported) return;
            var g = new ConvolutionGeometry(8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8);
            float[] x = new float[g.InLength], weight = new float[g.WeightLength], bias = new float[8], y = new float[g.OutLength];
            Allocations.AssertNone(() => DepthwiseConvolution.ForwardInPlaceRows(g, x, weight, bias, y, 0f, 6f), calls: 20);
        }
    }
}
