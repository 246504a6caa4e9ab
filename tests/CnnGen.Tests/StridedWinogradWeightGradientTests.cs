using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// The stride-2 3x3 weight gradient by the polyphase Winograd, summed over a pass's samples
    /// (<see cref="StridedWinogradConvolution.WeightGradientOfSample"/>; the 4x4 tile on Vector256 too), against its definition in double on
    /// every tile (4x4, 2x2, 2x4) whatever the rule picks: the forward's shapes, odd maps (15x15, 17x17), channels off the
    /// vector, several chunks, several samples per pass, the products buffer reused by a second pass; and through
    /// <see cref="StridedConvolution.BackwardOfSample"/> on shapes the rule sends to it.
    /// </summary>
    /// <remarks>
    /// The bound is |dw − dw_exact| ≤ 2e-5 · S with S = Σ |x·dy| over the tap's terms (at least 1e-30), as the forward's
    /// and the input gradient's: the transforms are theirs (Bᵀ up to 3, A up to 8, G' up to ½).
    /// </remarks>
    public sealed class StridedWinogradWeightGradientTests
    {
        private const double Tolerance = 2e-5;

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, samples
            yield return new object[] { 32, 32, 32, 64, 1, 3 };   // the strided network's second layer
            yield return new object[] { 64, 16, 16, 128, 1, 2 };  // and its third
            yield return new object[] { 16, 32, 32, 32, 1, 3 };   // ResNet-8's first downsampling
            yield return new object[] { 32, 16, 16, 64, 1, 4 };   // and its second
            yield return new object[] { 32, 15, 15, 64, 1, 3 };   // odd maps
            yield return new object[] { 16, 17, 17, 32, 1, 2 };
            yield return new object[] { 17, 15, 17, 33, 2, 3 };   // a group of 1 channel each way, padding 2
            yield return new object[] { 64, 17, 15, 48, 0, 2 };   // no padding, 3 output groups
            yield return new object[] { 5, 9, 11, 17, 0, 2 };     // fewer than a vector of input channels
            yield return new object[] { 1, 3, 3, 1, 0, 3 };       // one output cell
            yield return new object[] { 24, 9, 17, 40, 1, 2 };    // partial tiles at the bottom and right; 8 rows in the last group
            yield return new object[] { 48, 16, 12, 96, 0, 2 };   // 7x5 output
            yield return new object[] { 130, 8, 8, 20, 1, 2 };    // 9 input groups, an odd count (a vector alone)
            yield return new object[] { 96, 48, 44, 64, 1, 2 };   // tiles in several chunks
            yield return new object[] { 64, 8, 8, 128, 1, 5 };    // 4x4 outputs: several samples' tiles in one GEMM, the last group short
            yield return new object[] { 32, 12, 12, 64, 1, 3 };   // 6x6 outputs
            yield return new object[] { 64, 4, 4, 128, 1, 3 };    // 2x2 outputs
        }

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        [Theory]
        [MemberData(nameof(Shapes))]
        public void WeightGradientOfSample_MatchesTheDefinition_OverThePassesSamples(int inChannels, int height, int width, int outChannels, int padding, int samples)
        {
            if (!StridedWinogradConvolution.Runs) return; // no SIMD: StridedConvolutionTests cover these layers' gradients on every path
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding + samples);
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, weightLength = outChannels * inChannels * 9;
            float[] x = RandomValues(random, samples * inLength), dy = RandomValues(random, samples * outLength);
            float[] start = RandomValues(random, weightLength); // d weight is added to
            var (expected, scale) = WeightGradientDefinition(x, dy, inChannels, height, width, outChannels, padding, samples);
            for (int i = 0; i < weightLength; i++) expected[i] += start[i];
            // batch: samples whose tiles make one GEMM (the last group of a pass may be short).
            foreach (var (tile, batch) in new[] { (4, 1), (2, 1), (StridedWinogradConvolution.Wide, 1), (4, 2), (2, 3), (StridedWinogradConvolution.Wide, 2) })
            {
                if (!StridedWinogradConvolution.RunsTile(tile)) continue; // without AVX-512 the 4x4 tile alone
                var layout = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile, batch);
                float[] scratch = Filled(layout.WeightGradientScratchLength, float.NaN); // whatever the scratch held must not reach d weight
                float[] products = Filled(layout.WeightGradientProductsLength, float.NaN); // nor what the products held before sample 0
                for (int pass = 0; pass < 2; pass++) // the second pass on the first's products and scratch
                {
                    float[] dw = Filled(weightLength + 3, float.NaN);
                    start.CopyTo(dw, 0);
                    for (int s = 0; s < samples; s++)
                    {
                        StridedWinogradConvolution.WeightGradientOfSample(x.AsSpan(s * inLength, inLength), dy.AsSpan(s * outLength, outLength), products,
                            dw.AsSpan(0, weightLength), scratch, s, samples, layout);
                        if (s < samples - 1)
                            for (int i = 0; i < weightLength; i++) Assert.Equal(start[i], dw[i]); // added once, at the last sample
                    }
                    AssertWithinScale(dw, weightLength, expected, scale, relu: false, Tolerance, "tile " + tile + ", batch " + batch + ", pass " + pass);
                }
            }
        }

        public static IEnumerable<object[]> RuleShapes()
        {
            // inChannels, height, width, outChannels, the tile the rule takes on AVX-512, and without it (session 59: the 4x4
            // tile where at least three in four of its cells are real, Cin·Cout up to 32,768)
            yield return new object[] { 32, 32, 32, 64, 4, 4 };
            yield return new object[] { 64, 16, 16, 128, 2, 4 };
            yield return new object[] { 16, 32, 32, 32, 4, 4 };
            yield return new object[] { 32, 16, 16, 64, 2, 4 };
            yield return new object[] { 32, 15, 15, 64, 2, 4 };
            yield return new object[] { 64, 32, 32, 128, 2, 4 };
            yield return new object[] { 16, 16, 16, 32, 0, 4 };
            yield return new object[] { 64, 8, 8, 128, 4, 4 };   // outputs under 64 cells (session 30): onto 4x4 the 4x4 tile
            yield return new object[] { 16, 8, 8, 32, 4, 4 };
            yield return new object[] { 96, 8, 8, 160, 4, 4 };   // Cin·Cout 15,360: under the small outputs' limit
            yield return new object[] { 96, 8, 8, 192, 0, 4 };   // 18,432: above it
            yield return new object[] { 256, 8, 8, 160, 0, 0 };  // 40,960: above the Vector256 limit too
            yield return new object[] { 32, 12, 12, 64, 2, 0 };  // onto 6x6 the 2x2 tile (without AVX-512: 36 of the 4x4 tiles' 64 cells real)
            yield return new object[] { 64, 4, 4, 128, 2, 0 };   // onto 2x2 the 2x2 tile
            yield return new object[] { 32, 18, 18, 64, 0, 0 };  // onto 9x9 (odd: direct on AVX-512 too): 81 of 144 cells real
            yield return new object[] { 64, 6, 6, 128, 0, 0 };   // onto 3x3: odd, direct
            yield return new object[] { 16, 8, 8, 16, 0, 0 };    // too few output channels
        }

        [Theory]
        [MemberData(nameof(RuleShapes))]
        public void BackwardOfSample_WhereTheRuleTakesWinograd_MatchesTheDefinition_AndAllocatesNothing(int inChannels, int height, int width, int outChannels, int ruleTile,
            int ruleTile256)
        {
            const int samples = 3;
            var random = new Random(inChannels + 7 * height + outChannels);
            int outHeight = (height - 1) / 2 + 1, outWidth = (width - 1) / 2 + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, weightLength = outChannels * inChannels * 9;
            float[] x = RandomValues(random, samples * inLength), dy = RandomValues(random, samples * outLength), w = RandomValues(random, weightLength);
            var (expected, scale) = WeightGradientDefinition(x, dy, inChannels, height, width, outChannels, 1, samples);
            int tile = StridedConvolution.WeightGradientTileFor(inChannels, height, width, outChannels, 3, 2, 1);
            Assert.Equal(Available && Simd.Enabled ? ruleTile : StridedWinogradConvolution.Runs ? ruleTile256 : 0, tile);
            int length = StridedConvolution.WeightGradientProductsLength(inChannels, height, width, outChannels, 3, 2, 1);
            if (tile != 0) Assert.Equal(StridedConvolution.WeightGradientLayout(inChannels, height, width, outChannels, 1, tile).WeightGradientProductsLength, length);
            float[] scratch = Filled(StridedConvolution.ScratchLength(inChannels, height, width, outChannels, 3, 2, 1), float.NaN);
            float[] products = Filled(length, float.NaN);
            float[] dw = new float[weightLength], dx = new float[inLength];
            for (int s = 0; s < samples; s++)
                StridedConvolution.BackwardOfSample(x.AsSpan(s * inLength, inLength), inChannels, height, width, w, dy.AsSpan(s * outLength, outLength), outChannels, 3, 2, 1,
                    dw, dx, scratch, products, s, samples);
            AssertWithinScale(dw, weightLength, expected, scale, relu: false, Tolerance, "tile " + tile);
            if (tile != 0)
                Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardOfSample(x.AsSpan(0, inLength), inChannels, height, width, w, dy.AsSpan(0, outLength),
                    outChannels, 3, 2, 1, dw, dx, scratch, products.AsSpan(0, length - 1), 0, samples));
            Infrastructure.Allocations.AssertNone(() =>
            {
                for (int s = 0; s < samples; s++)
                    StridedConvolution.BackwardOfSample(x.AsSpan(s * inLength, inLength), inChannels, height, width, w, dy.AsSpan(s * outLength, outLength), outChannels, 3, 2, 1,
                        dw, dx, scratch, products, s, samples);
            }, calls: 5);
        }

        [Fact]
        public void WeightGradientOfSample_AllocatesNothing()
        {
            if (!StridedWinogradConvolution.Runs) return;
            var layout = new StridedWinogradConvolution.Layout(32, 16, 16, 64, 1, 4);
            float[] x = new float[32 * 16 * 16], dy = new float[64 * 8 * 8], dw = new float[64 * 32 * 9];
            float[] scratch = new float[layout.WeightGradientScratchLength], products = new float[layout.WeightGradientProductsLength];
            Infrastructure.Allocations.AssertNone(() =>
            {
                StridedWinogradConvolution.WeightGradientOfSample(x, dy, products, dw, scratch, 0, 2, layout);
                StridedWinogradConvolution.WeightGradientOfSample(x, dy, products, dw, scratch, 1, 2, layout);
            }, calls: 10);
        }

        // dw[oc][ic][ky][kx] = Σ over samples and output cells of dy[oc][oy][ox] · x[ic][2·oy + ky − p][2·ox + kx − p], in double;
        // and each tap's Σ |x·dy|.
        internal static (double[] Value, double[] Scale) WeightGradientDefinition(float[] x, float[] dy, int inChannels, int height, int width, int outChannels,
            int padding, int samples)
        {
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            var value = new double[outChannels * inChannels * 9];
            var scale = new double[value.Length];
            for (int s = 0; s < samples; s++)
                for (int oc = 0; oc < outChannels; oc++)
                    for (int ic = 0; ic < inChannels; ic++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                double sum = 0, magnitude = 0;
                                for (int oy = 0; oy < outHeight; oy++)
                                {
                                    int iy = 2 * oy + ky - padding;
                                    if (iy < 0 || iy >= height) continue;
                                    for (int ox = 0; ox < outWidth; ox++)
                                    {
                                        int ix = 2 * ox + kx - padding;
                                        if (ix < 0 || ix >= width) continue;
                                        double product = (double)dy[s * outLength + (oc * outHeight + oy) * outWidth + ox] * x[s * inLength + (ic * height + iy) * width + ix];
                                        sum += product;
                                        magnitude += Math.Abs(product);
                                    }
                                }
                                int at = ((oc * inChannels + ic) * 3 + ky) * 3 + kx;
                                value[at] += sum;
                                scale[at] += magnitude;
                            }
            return (value, scale);
        }
    }
}
