using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Rows split into even and odd columns 32 at a time (PhaseSplit, AVX-512), as the stride-2 kernels read them: the phases
    /// kernel of stems (its planes' margins cleared rather than the whole planes) and the depthwise row kernel's padded copy,
    /// against the definition in double precision on rows of 32 to 113 columns (whole pairs of vectors, an even tail read
    /// again overlapping, an odd tail one by one), padding 0 to 3, kernels 3, 5 and 7, from scratch full of NaN (a cell
    /// the kernel reads but neither clears nor writes shows); each on every vector path, and no allocation.
    /// </summary>
    public sealed class PhaseSplitTests
    {
        // inChannels, height, width, outChannels, kernel, padding
        public static IEnumerable<object[]> StemShapes()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                yield return [path[0], 3, 112, 112, 16, 3, 1];   // MobileNetV1-112's stem: 3.5 vectors a row, 6 5 5 channels
                yield return [path[0], 3, 64, 64, 32, 3, 1];     // the strided network's stem: two pairs a row
                yield return [path[0], 1, 33, 34, 5, 3, 0];      // one pair and 32 from column 2 again, no padding: no margin left of the input
                yield return [path[0], 2, 35, 33, 7, 3, 1];      // an odd tail of one column
                yield return [path[0], 4, 40, 47, 13, 5, 2];     // odd width, padding 2: an odd tail of 15
                yield return [path[0], 3, 45, 56, 16, 3, 1];     // 56: a pair, then 32 from column 24 again
                yield return [path[0], 8, 30, 62, 20, 7, 3];     // 7x7, padding 3, 8 channels
                yield return [path[0], 3, 37, 113, 24, 3, 2];    // 113: three pairs and one column
                yield return [path[0], 5, 34, 96, 9, 4, 1];      // an even kernel, three whole pairs
            }
        }

        [Theory]
        [MemberData(nameof(StemShapes))]
        public void StemPhases_MatchTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1000 + width * 7 + kernel);
            float[] x = ConvolutionReference.RandomValues(random, inChannels * height * width);
            float[] weight = ConvolutionReference.RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = ConvolutionReference.RandomValues(random, outChannels);
            var (expected, scale) = ConvolutionReference.Definition(x, inChannels, height, width, weight, bias, outChannels, kernel, 2, padding);
            int outLength = expected.Length;
            float[] scratch = ConvolutionReference.Filled(StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, 2, padding), float.NaN);
            foreach (bool relu in new[] { false, true })
            {
                float[] y = ConvolutionReference.Filled(outLength + 16, float.NaN);
                StridedConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, 2, padding, y, scratch, relu, path);
                ConvolutionReference.AssertWithinScale(y, outLength, expected, scale, relu, 1e-5, $"{pathName} {inChannels}x{height}x{width} k{kernel} p{padding}");
                // A second call on the scratch the first left (the margins are cleared each call, not once).
                Array.Fill(y, float.NaN);
                StridedConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, 2, padding, y, scratch, relu, path);
                ConvolutionReference.AssertWithinScale(y, outLength, expected, scale, relu, 1e-5, $"{pathName} again");
            }
            if (path == DirectConvolution.KernelPath.Vector512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            {
                // The phases kernel itself, whatever the rules pick.
                float[] y = ConvolutionReference.Filled(outLength + 16, float.NaN);
                Array.Fill(scratch, float.NaN);
                StridedConvolution.ForwardPhasesOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu: false);
                ConvolutionReference.AssertWithinScale(y, outLength, expected, scale, false, 1e-5, "phases kernel");
                Allocations.AssertNone(() => StridedConvolution.ForwardPhasesOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu: true));
            }
        }

        // channels, height, width, kernel, padding (depthwise, stride 2 both ways)
        public static IEnumerable<object[]> DepthwiseShapes()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                yield return [path[0], 32, 56, 56, 3, 1];  // MobileNetV1-112's dw s2 32 @56
                yield return [path[0], 5, 32, 32, 3, 1];   // one pair a row
                yield return [path[0], 3, 20, 33, 3, 1];   // odd: one column one by one
                yield return [path[0], 4, 17, 47, 5, 2];   // odd tail of 15, 5x5
                yield return [path[0], 3, 40, 64, 3, 0];   // two pairs, no padding
                yield return [path[0], 2, 36, 112, 3, 1];  // 112: three pairs, then 32 from column 80 again
                yield return [path[0], 3, 9, 41, 5, 0];    // odd width, unpadded 5x5
                yield return [path[0], 5, 32, 32, 5, 2];   // MobileNetV3's and MnasNet's 5x5 stride 2 from 32x32 (Rows5x5Stride2512)
                yield return [path[0], 3, 24, 64, 5, 2];   // 5x5 on two pairs a row
            }
        }

        [Theory]
        [MemberData(nameof(DepthwiseShapes))]
        public void DepthwiseStride2_MatchesTheDefinition(string pathName, int channels, int height, int width, int kernel, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = { channels, height, width, channels, kernel, kernel, 2, 2, padding, padding, 1, 1, channels, 1 };
            var g = new ConvolutionGeometry(channels, height, width, channels, kernel, kernel, 2, 2, padding, padding, 1, 1, channels);
            var random = new Random(channels * 100 + width + kernel);
            float[] x = ConvolutionReference.RandomValues(random, g.InLength);
            float[] weight = ConvolutionReference.RandomValues(random, g.WeightLength);
            float[] bias = ConvolutionReference.RandomValues(random, g.OutChannels);
            float[] scratch = ConvolutionReference.Filled(GroupedConvolution.ScratchLength(g), float.NaN);
            double[] expected = GroupedConvolutionTests.ReferenceForward(p, x, weight, bias, out double[] magnitude);
            var scale = new double[expected.Length];
            for (int i = 0; i < scale.Length; i++) scale[i] = Math.Max(magnitude[i], 1e-30);
            float[] y = ConvolutionReference.Filled(g.OutLength + 16, float.NaN);
            // The row kernel on its padded copy (the kernel these rows are split for), then what the layer runs.
            if (path != DirectConvolution.KernelPath.Scalar)
            {
                DepthwiseConvolution.ForwardByRows(g, x, weight, bias, y, scratch, path, 0f, float.PositiveInfinity);
                ConvolutionReference.AssertWithinScale(y, g.OutLength, expected, scale, true, 1e-5, $"rows {pathName} {channels}x{height}x{width} k{kernel} p{padding}");
                Allocations.AssertNone(() => DepthwiseConvolution.ForwardByRows(g, x, weight, bias, y, scratch, path, 0f, float.PositiveInfinity));
                // The planes laid out on 64-byte lines (LinePhases) from a scratch starting at each of 16 places within a line,
                // against the compact layout: the same floats.
                float[] compact = new float[g.OutLength];
                DepthwiseConvolution.LinePhases = false;
                try { DepthwiseConvolution.ForwardByRows(g, x, weight, bias, compact, scratch, path, 0f, float.PositiveInfinity); }
                finally { DepthwiseConvolution.LinePhases = true; }
                float[] wider = ConvolutionReference.Filled(scratch.Length + 16, float.NaN);
                for (int start = 0; start < 16; start++)
                {
                    Array.Fill(y, float.NaN);
                    DepthwiseConvolution.ForwardByRows(g, x, weight, bias, y, wider.AsSpan(start, scratch.Length), path, 0f, float.PositiveInfinity);
                    Assert.Equal(compact, y.AsSpan(0, g.OutLength).ToArray());
                }
            }
            Array.Fill(y, float.NaN);
            GroupedConvolution.ForwardOn(g, x, weight, bias, y, scratch, path);
            ConvolutionReference.AssertWithinScale(y, g.OutLength, expected, scale, false, 1e-5, $"picked {pathName} {channels}x{height}x{width} k{kernel} p{padding}");
        }
    }
}
