using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The F(2x2, 3x3) and F(4x4, 3x3) weight gradients against the definition in double precision, on every shape whatever
    /// <see cref="WinogradWeightGradient.Pays"/> and <see cref="WinogradWeightGradient.TileFor"/> say: channels that do not fill the lanes, odd map sizes (tiles past the
    /// edge), padding 0 to 2, and the sum added to what the gradient already held.
    /// </summary>
    public sealed class WinogradWeightGradientTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding
            var shapes = new List<object[]>
            {
                new object[] { 16, 32, 32, 16, 1 },
                new object[] { 32, 16, 16, 64, 1 },
                new object[] { 17, 9, 11, 5, 1 },   // a partial lane block, odd sizes, fewer output channels than a register tile
                new object[] { 48, 13, 12, 7, 0 },  // three lane blocks (a pair and a single), no padding
                new object[] { 3, 6, 7, 13, 2 },    // padding 2, few input channels
                new object[] { 1, 1, 1, 1, 1 },     // a single output cell
                new object[] { 16, 24, 24, 16, 1 }, // rows of 24: a whole square, then 8 columns of it
                new object[] { 16, 21, 19, 24, 1 }, // rows of 19 and of 3 (d y's 2 past the edge), odd maps
                new object[] { 32, 16, 16, 32, 0 }, // the last row of the last block read to its end
                new object[] { 40, 17, 18, 20, 1 }, // a partial third block of 8 channels, odd rows
                new object[] { 33, 10, 10, 13, 1 }, // two or more vectors: output channels in even groups of up to 6 (13 as 5 + 4 + 4)
                // One vector of input channels: output channels in groups of 7 to 12 (13 as 7 + 6, 24 as 12 + 12, 32 as 11 + 11 + 10)
                new object[] { 12, 7, 9, 9, 1 },
                new object[] { 5, 6, 6, 20, 0 },
                new object[] { 9, 10, 12, 11, 1 },
                new object[] { 16, 8, 8, 32, 1 },
            };
            var random = new Random(41);
            for (int trial = 0; trial < 10; trial++)
            {
                int padding = random.Next(0, 3);
                int height = random.Next(Math.Max(1, 3 - 2 * padding), 24), width = random.Next(Math.Max(1, 3 - 2 * padding), 24);
                shapes.Add(new object[] { random.Next(1, 40), height, width, random.Next(1, 20), padding });
            }
            return shapes;
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Accumulate_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding)
        {
            AccumulateMatchesTheDefinition(inChannels, height, width, outChannels, padding, 2);
            AccumulateMatchesTheDefinition(inChannels, height, width, outChannels, padding, 4);
        }

        private static void AccumulateMatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, int tile)
        {
            if (!WinogradWeightGradient.RunsTile(tile)) return; // F(2x2) runs with AVX-512 only, F(4x4) on Vector256 too; DirectConvolution does not call them elsewhere
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            float[] before = RandomValues(random, outChannels * inChannels * 9 + 5);
            float[] dWeight = (float[])before.Clone();
            var layout = new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding, tile);
            float[] scratch = RandomValues(random, layout.ScratchLength); // garbage must not leak
            WinogradWeightGradient.Accumulate(x, dy, dWeight.AsSpan(0, outChannels * inChannels * 9), scratch, layout);
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int ic = 0; ic < inChannels; ic++)
                {
                    for (int tap = 0; tap < 9; tap++)
                    {
                        int at = (oc * inChannels + ic) * 9 + tap, ky = tap / 3, kx = tap % 3;
                        double sum = before[at], scale = Math.Abs(sum);
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            for (int ox = 0; ox < outWidth; ox++)
                            {
                                int iy = oy + ky - padding, ix = ox + kx - padding;
                                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                double product = (double)dy[(oc * outHeight + oy) * outWidth + ox] * x[(ic * height + iy) * width + ix];
                                sum += product;
                                scale += Math.Abs(product);
                            }
                        }
                        // The transforms add a few roundings per term: within 1e-5 of the sum of magnitudes, as the direct kernel.
                        if (!(Math.Abs(dWeight[at] - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                            Assert.Fail($"F({tile}x{tile}): dW[{oc},{ic},{tap}] = {dWeight[at]}, expected {sum}");
                    }
                }
            }
            for (int i = outChannels * inChannels * 9; i < dWeight.Length; i++) Assert.Equal(before[i], dWeight[i]);
        }

        /// <summary>
        /// F(4x4) on maps of fewer than 16 tiles keeps groups of samples' transforms in the products buffer and runs the GEMMs once
        /// a group: whole groups and a last partial one, summed over the pass (garbage in the products before the first sample)
        /// match the definition, and the layout says how many samples a group takes.
        /// </summary>
        [Theory]
        [InlineData(16, 8, 8, 32, 1, 6, 4)]   // 4 tiles a sample: a group of 4, then 2
        [InlineData(64, 8, 8, 64, 1, 9, 4)]   // 4 + 4 + 1
        [InlineData(20, 9, 9, 36, 1, 5, 2)]   // 9 tiles: groups of 2, the last of 1
        [InlineData(16, 4, 4, 16, 1, 10, 8)]  // one tile: 8, then 2
        [InlineData(24, 6, 7, 8, 0, 3, 8)]    // no padding, 4x5 outputs: 2 tiles, a group of 3 cut short by the pass
        public void SampleProducts_InGroups_MatchTheDefinition(int inChannels, int height, int width, int outChannels, int padding, int samples, int groupSamples)
        {
            if (!WinogradWeightGradient.RunsTile(4)) return;
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding + samples);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, weights = outChannels * inChannels * 9;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, samples * inLength), dy = RandomValues(random, samples * outLength);
            float[] before = RandomValues(random, weights), dWeight = (float[])before.Clone();
            var layout = new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding, 4);
            Assert.Equal(groupSamples, layout.GroupSamples);
            float[] scratch = RandomValues(random, layout.ScratchLength - layout.ProductLength);
            float[] products = RandomValues(random, layout.ProductLength);
            for (int n = 0; n < samples; n++)
                WinogradWeightGradient.AddSampleProducts(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), products, scratch, n, samples, layout);
            WinogradWeightGradient.AddTransformedProducts(products, dWeight, layout);
            var (sum, scale) = Definition(before, x, dy, samples, inChannels, height, width, outChannels, padding);
            AssertNear(dWeight, sum, scale, 1e-5);
            Assert.Equal(1, new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding, 2).GroupSamples);
        }

        /// <summary>
        /// F(4x4, 3x3) where KernelBench wgrad-tiles measured it faster (up to 128 x 256 channels, on output sides its 4x4 tiles
        /// cover with at most 15% more cells than F(2x2)'s 2x2 ones, or of 2 cells), F(2x2, 3x3) elsewhere; the layout a shape
        /// gets is on that tile, and no other tile is taken.
        /// </summary>
        [Theory]
        [InlineData(16, 32, 32, 16, 1, 4)]   // ResNet-8's first stage
        [InlineData(32, 16, 16, 32, 1, 4)]   // its second
        [InlineData(64, 8, 8, 64, 1, 4)]     // its third: 4 tiles a sample, in groups of 4 samples
        [InlineData(128, 8, 8, 256, 1, 4)]   // the widest taken
        [InlineData(64, 10, 10, 64, 0, 4)]   // 8x8 outputs
        [InlineData(24, 11, 14, 40, 1, 4)]   // 11x14 outputs: 12 and 16 cells covered either way
        [InlineData(64, 2, 2, 64, 1, 4)]     // 2x2 outputs: one tile either way
        [InlineData(64, 6, 6, 64, 1, 2)]     // 6x6 outputs: 8x8 cells against 6x6
        [InlineData(20, 9, 9, 36, 1, 2)]     // 9x9: 12x12 against 10x10
        [InlineData(64, 10, 10, 64, 1, 2)]   // 10x10: 12x12 against 10x10
        [InlineData(16, 3, 3, 16, 0, 2)]     // one output cell
        [InlineData(256, 8, 8, 256, 1, 2)]   // 36 x 256 x 256 sums past L2
        [InlineData(256, 16, 16, 256, 1, 2)]
        public void TileFor_TakesF4WhereItMeasuredFaster(int inChannels, int height, int width, int outChannels, int padding, int expected)
        {
            Assert.Equal(expected, WinogradWeightGradient.TileFor(inChannels, height, width, outChannels, padding));
            Assert.Equal(expected, new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding).TileSize);
            Assert.Throws<ArgumentOutOfRangeException>(() => new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding, 3));
        }

        // before + Σ over the samples of the weight gradient, in double, with the sum of the terms' magnitudes beside it.
        private static (double[] Sum, double[] Scale) Definition(float[] before, float[] x, float[] dy, int samples, int inChannels, int height, int width, int outChannels, int padding)
        {
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, weights = outChannels * inChannels * 9;
            var sum = new double[weights];
            var scale = new double[weights];
            for (int at = 0; at < weights; at++) { sum[at] = before[at]; scale[at] = Math.Abs(before[at]); }
            for (int n = 0; n < samples; n++)
            for (int oc = 0; oc < outChannels; oc++)
            for (int ic = 0; ic < inChannels; ic++)
            for (int tap = 0; tap < 9; tap++)
            {
                int at = (oc * inChannels + ic) * 9 + tap, ky = tap / 3, kx = tap % 3;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int iy = oy + ky - padding, ix = ox + kx - padding;
                        if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                        double product = (double)dy[((n * outChannels + oc) * outHeight + oy) * outWidth + ox] * x[((n * inChannels + ic) * height + iy) * width + ix];
                        sum[at] += product;
                        scale[at] += Math.Abs(product);
                    }
                }
            }
            return (sum, scale);
        }

        private static void AssertNear(float[] actual, double[] sum, double[] scale, double tolerance)
        {
            for (int at = 0; at < sum.Length; at++)
                if (!(Math.Abs(actual[at] - sum[at]) <= tolerance * Math.Max(scale[at], 1e-30)))
                    Assert.Fail($"dW[{at}] = {actual[at]}, expected {sum[at]}");
        }

        /// <summary>
        /// The batch form: several samples' sums gathered before the filter transform (garbage in the products before the first),
        /// transformed once and added to what the gradient held, against the definition summed over the samples.
        /// </summary>
        [Theory]
        [MemberData(nameof(Shapes))]
        public void SampleProducts_SummedOverSamples_MatchTheDefinition(int inChannels, int height, int width, int outChannels, int padding)
        {
            SampleProductsSummedOverSamplesMatchTheDefinition(inChannels, height, width, outChannels, padding, 2);
            SampleProductsSummedOverSamplesMatchTheDefinition(inChannels, height, width, outChannels, padding, 4);
        }

        private static void SampleProductsSummedOverSamplesMatchTheDefinition(int inChannels, int height, int width, int outChannels, int padding, int tile)
        {
            if (!WinogradWeightGradient.RunsTile(tile)) return;
            const int samples = 3;
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding + 1);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, weights = outChannels * inChannels * 9;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, samples * inLength);
            float[] dy = RandomValues(random, samples * outLength);
            float[] before = RandomValues(random, weights + 5);
            float[] dWeight = (float[])before.Clone();
            var layout = new WinogradWeightGradient.Layout(inChannels, height, width, outChannels, padding, tile);
            float[] scratch = RandomValues(random, layout.ScratchLength - layout.ProductLength);
            float[] products = RandomValues(random, layout.ProductLength);
            for (int n = 0; n < samples; n++)
                WinogradWeightGradient.AddSampleProducts(x.AsSpan(n * inLength, inLength), dy.AsSpan(n * outLength, outLength), products, scratch, n, samples, layout);
            WinogradWeightGradient.AddTransformedProducts(products, dWeight.AsSpan(0, weights), layout);
            var (sum, scale) = Definition(before, x, dy, samples, inChannels, height, width, outChannels, padding);
            AssertNear(dWeight, sum, scale, 1e-5);
            for (int i = weights; i < dWeight.Length; i++) Assert.Equal(before[i], dWeight[i]);
        }

        /// <summary>
        /// What the generated backward calls for a 3x3 layer, sample by sample: with the products the runtime asks for (none
        /// where this machine does not run the tile or Winograd does not pay: each sample's gradient added as it comes, on the Vector256 and scalar
        /// paths too) the batch's weight gradient matches the definition, and the input gradients are those of the call without.
        /// </summary>
        [Theory]
        [InlineData(16, 8, 8, 32, 1)]   // pays: products gathered over the samples
        [InlineData(20, 9, 9, 36, 1)]   // channels not multiples of 16, an odd map
        [InlineData(24, 15, 13, 40, 0)] // no padding, odd rows and columns
        [InlineData(32, 4, 4, 8, 1)]    // a small map and 8 output channels: summed pays where per sample did not
        [InlineData(16, 3, 3, 16, 0)]   // one output cell
        [InlineData(8, 8, 8, 8, 1)]     // too few channels: the direct weight gradient, no products
        [InlineData(12, 8, 8, 24, 1)]   // fewer than 16 input channels: no products
        public void BackwardWithFilters_OverSamples_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding)
        {
            const int samples = 4;
            var random = new Random(inChannels * 977 + height * 13 + width + outChannels * 3 + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, weights = outChannels * inChannels * 9;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, samples * inLength);
            float[] dy = RandomValues(random, samples * outLength);
            float[] weight = RandomValues(random, weights);
            float[] before = RandomValues(random, weights);
            int productsLength = DirectConvolution.WeightGradientProductsLength(inChannels, height, width, outChannels, 3, padding);
            bool winograd = WinogradWeightGradient.RunsTile(WinogradWeightGradient.TileFor(inChannels, height, width, outChannels, padding)) && inChannels >= 16 && outChannels >= 8;
            Assert.Equal(winograd, productsLength > 0);
            float[] products = RandomValues(random, productsLength);
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, 3, padding)];
            DirectConvolution.TransformFiltersForInputGradient(weight, inChannels, height, width, outChannels, 3, padding, filters);
            float[] scratch = new float[DirectConvolution.ScratchLengthWithFilters(inChannels, height, width, outChannels, 3, padding)];
            float[] dWeight = (float[])before.Clone(), dWeightAlone = new float[weights];
            float[] dx = new float[inLength], dxAlone = new float[inLength];
            for (int n = 0; n < samples; n++)
            {
                var sampleX = x.AsSpan(n * inLength, inLength);
                var sampleDy = dy.AsSpan(n * outLength, outLength);
                DirectConvolution.BackwardWithFilters(sampleX, inChannels, height, width, weight, sampleDy, outChannels, 3, padding, dWeight, dx, scratch, filters, products, n, samples);
                DirectConvolution.BackwardWithFilters(sampleX, inChannels, height, width, weight, sampleDy, outChannels, 3, padding, dWeightAlone, dxAlone, scratch, filters);
                Assert.Equal(dxAlone, dx);
            }
            var (sum, scale) = Definition(before, x, dy, samples, inChannels, height, width, outChannels, padding);
            AssertNear(dWeight, sum, scale, 1e-5);
        }

        /// <summary>
        /// Where both gradients run by Winograd over a pass's samples, the weight gradient reads d y where the input gradient's
        /// F(4x4, 3x3) blocked it: the same floats, bit for bit, as blocking d y itself (the input gradient first or last changes
        /// nothing either), and the weight gradient is the definition's. Odd maps put the weight gradient's even rows and
        /// columns past d y, on the F(4x4) copy's zeros. Where the weight gradient's tile does not run here nothing is shared and both calls run the same code.
        /// </summary>
        [Theory]
        [InlineData(16, 32, 32, 16, 1)] // ResNet-8's stages
        [InlineData(32, 16, 16, 32, 1)]
        [InlineData(64, 8, 8, 64, 1)]
        [InlineData(20, 9, 9, 36, 1)]   // channels not multiples of 16, an odd map
        [InlineData(24, 15, 15, 40, 1)]
        [InlineData(32, 18, 18, 32, 0)] // no padding: the input gradient's F(4x4) pads d y by 2
        public void BackwardOn_OverSamples_SharedOutputGradient_IsTheOwnBlocksBitForBit(int inChannels, int height, int width, int outChannels, int padding)
        {
            const int samples = 3;
            var random = new Random(inChannels * 31 + height * 7 + outChannels + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, weights = outChannels * inChannels * 9;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, samples * inLength), dy = RandomValues(random, samples * outLength), weight = RandomValues(random, weights);
            float[] before = RandomValues(random, weights);
            // Shared wherever this machine runs the weight gradient's tile (F(4x4) only without AVX-512: not the 9x9 map's F(2x2)).
            bool shares = WinogradWeightGradient.RunsTile(WinogradWeightGradient.TileFor(inChannels, height, width, outChannels, padding));
            Assert.Equal(shares, DirectConvolution.SharesBlockedOutputGradientFor(inChannels, height, width, outChannels, 3, padding));
            var path = !Simd.Enabled ? DirectConvolution.KernelPath.Scalar : Vector512.IsHardwareAccelerated ? DirectConvolution.KernelPath.Vector512 : DirectConvolution.KernelPath.Vector256;
            int productsLength = DirectConvolution.WeightGradientProductsLength(inChannels, height, width, outChannels, 3, padding);
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, 3, padding)];
            DirectConvolution.TransformFiltersForInputGradient(weight, inChannels, height, width, outChannels, 3, padding, filters);
            float[] scratch = new float[DirectConvolution.ScratchLengthWithFilters(inChannels, height, width, outChannels, 3, padding)];
            (float[] DWeight, float[] Dx) Run(bool share)
            {
                float[] dWeight = (float[])before.Clone(), dx = new float[samples * inLength], products = RandomValues(new Random(5), productsLength);
                RandomValues(new Random(6), scratch.Length).CopyTo(scratch, 0); // whatever an earlier layer left there
                for (int n = 0; n < samples; n++)
                    DirectConvolution.BackwardOn(x.AsSpan(n * inLength, inLength), inChannels, height, width, weight, dy.AsSpan(n * outLength, outLength), outChannels, 3, padding,
                        dWeight, dx.AsSpan(n * inLength, inLength), scratch, path, filters, weightGradientProducts: products, sample: n, samples: samples,
                        shareBlockedOutputGradient: share);
                return (dWeight, dx);
            }
            var own = Run(share: false);
            var shared = Run(share: true);
            Assert.Equal(own.DWeight, shared.DWeight);
            Assert.Equal(own.Dx, shared.Dx);
            var (sum, scale) = Definition(before, x, dy, samples, inChannels, height, width, outChannels, padding);
            AssertNear(shared.DWeight, sum, scale, 1e-5);
        }
    }
}
