using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// <see cref="DirectConvolution"/>'s Winograd filters kept between calls: the forward with filters transformed once gives
    /// exactly the forward that transforms them itself, and the input gradient through the turned filters matches the
    /// definition. On a machine or path without the Winograd kernel the filters are empty and the same calls run direct.
    /// </summary>
    public sealed class WinogradFiltersTests
    {
        public static IEnumerable<object[]> Shapes() => new[]
        {
            // inChannels, height, width, outChannels, padding, kernel
            new object[] { 16, 32, 32, 16, 1, 3 },   // ResNet-8's first stage
            new object[] { 32, 32, 32, 32, 1, 3 },   // the CIFAR network's second convolution
            new object[] { 64, 16, 16, 64, 1, 3 },
            new object[] { 16, 34, 33, 24, 0, 3 },   // unpadded: the input gradient runs at padding 2
            new object[] { 20, 30, 31, 17, 2, 3 },   // padding 2: the input gradient runs unpadded
            new object[] { 3, 32, 32, 32, 1, 3 },    // a stem: no Winograd forward, filters may be empty
            new object[] { 64, 8, 8, 64, 1, 3 },     // small map
            new object[] { 5, 9, 11, 20, 3, 3 },     // padding 3: no Winograd input gradient
            // 5x5: F(2x2, 5x5) forward and input gradient where it pays
            new object[] { 32, 16, 16, 64, 2, 5 },
            new object[] { 16, 32, 32, 16, 2, 5 },
            new object[] { 64, 8, 8, 128, 2, 5 },
            new object[] { 32, 9, 11, 40, 0, 5 },    // unpadded, odd output
            new object[] { 17, 16, 16, 17, 2, 5 },   // 17 channels: direct
            new object[] { 3, 32, 32, 32, 2, 5 },    // a stem: direct
            // small maps, no Winograd: the lanes kernel's packed weights kept instead
            new object[] { 512, 2, 2, 512, 1, 3 },   // VGG-11's last layers
            new object[] { 16, 4, 4, 32, 1, 3 },
            new object[] { 8, 6, 6, 16, 2, 5 },
            new object[] { 24, 3, 5, 48, 1, 3 },     // odd map, three lane blocks
        };

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        [Theory]
        [InlineData(512, 2, 2, 512, 1, 3)]
        [InlineData(16, 4, 4, 32, 1, 3)]
        [InlineData(8, 6, 6, 16, 2, 5)]
        [InlineData(24, 3, 5, 48, 1, 3)]
        public void SmallMapsWithoutWinograd_KeepTheLanesKernelsPackedWeights(int inChannels, int height, int width, int outChannels, int padding, int kernel)
        {
            // What the kept filters hold there: [block of 16 output channels][tap][16 channels], tap = (ic, ky, kx).
            int length = DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding);
            if (!Simd.Enabled || !Vector512.IsHardwareAccelerated && !(Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported))
            {
                Assert.Equal(0, length); // no lanes kernel there, nor a Winograd one
                return;
            }
            if (DirectConvolution.ForwardByWinograd(inChannels, height, width, outChannels, kernel, padding))
            {
                // The Vector256 Winograd kernels run this one (16 -> 32 on 4x4): their filters are kept instead.
                Assert.False(Vector512.IsHardwareAccelerated);
                Assert.True(length > 0);
                return;
            }
            int taps = inChannels * kernel * kernel;
            Assert.Equal(outChannels * taps, length);
            var random = new Random(inChannels + height + outChannels);
            float[] weight = RandomValues(random, outChannels * taps), filters = new float[length];
            DirectConvolution.TransformFilters(weight, inChannels, height, width, outChannels, kernel, padding, filters);
            for (int oc = 0; oc < outChannels; oc++)
                for (int tap = 0; tap < taps; tap++)
                    Assert.Equal(weight[oc * taps + tap], filters[(oc / 16 * taps + tap) * 16 + oc % 16]);
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardWithFilters_EqualsForward_BitForBit(int inChannels, int height, int width, int outChannels, int padding, int kernel)
        {
            var random = new Random(inChannels * 131 + height * 17 + width + outChannels * 3 + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = RandomValues(random, outChannels);
            int scratchLength = DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding);
            int filterLength = DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding);
            if (!Simd.Enabled || !Vector512.IsHardwareAccelerated && !WinogradF4Convolution.Runs(kernel)) Assert.Equal(0, filterLength); // kept only where a kernel reads them
            float[] filters = RandomValues(random, filterLength);
            DirectConvolution.TransformFilters(weight, inChannels, height, width, outChannels, kernel, padding, filters);
            foreach (bool relu in new[] { false, true })
            {
                float[] expected = new float[outChannels * outHeight * outWidth], actual = new float[expected.Length];
                DirectConvolution.Forward(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, expected, new float[scratchLength], relu);
                DirectConvolution.ForwardWithFilters(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, actual, RandomValues(random, scratchLength), relu, filters);
                Assert.Equal(expected, actual);
                if (outHeight < 2 || outWidth < 2) continue;
                float[] expectedPooled = new float[outChannels * (outHeight / 2) * (outWidth / 2)], actualPooled = new float[expectedPooled.Length];
                DirectConvolution.ForwardPooled(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, expectedPooled, new float[scratchLength], relu);
                DirectConvolution.ForwardPooledWithFilters(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, actualPooled, RandomValues(random, scratchLength), relu, filters);
                Assert.Equal(expectedPooled, actualPooled);
            }
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void BackwardWithFilters_SameWeightGradient_InputGradientMatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, int kernel)
        {
            var random = new Random(inChannels * 71 + height * 13 + width * 5 + outChannels + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int inLength = inChannels * height * width, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, inLength);
            float[] weight = RandomValues(random, outChannels * taps);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            int scratchLength = DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding);
            float[] filters = RandomValues(random, DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding));
            DirectConvolution.TransformFiltersForInputGradient(weight, inChannels, height, width, outChannels, kernel, padding, filters);

            float[] expectedDWeight = new float[outChannels * taps], dWeight = new float[outChannels * taps];
            float[] directDx = new float[inLength], dx = new float[inLength + 7];
            Array.Fill(dx, float.NaN);
            DirectConvolution.Backward(x, inChannels, height, width, weight, dy, outChannels, kernel, padding, expectedDWeight, directDx, new float[scratchLength]);
            DirectConvolution.BackwardWithFilters(x, inChannels, height, width, weight, dy, outChannels, kernel, padding, dWeight, dx.AsSpan(0, inLength), RandomValues(random, scratchLength), filters);
            Assert.Equal(expectedDWeight, dWeight);
            for (int i = inLength; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]), "wrote past the input gradient");

            // d x[ic, iy, ix] = Σ over oc, ky, kx of d y[oc, iy − ky + p, ix − kx + p] · w[oc, ic, ky, kx], in double.
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int iy = 0; iy < height; iy++)
                {
                    for (int ix = 0; ix < width; ix++)
                    {
                        double sum = 0, scale = 0;
                        for (int oc = 0; oc < outChannels; oc++)
                        {
                            for (int ky = 0; ky < kernel; ky++)
                            {
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int oy = iy - ky + padding, ox = ix - kx + padding;
                                    if (oy < 0 || oy >= outHeight || ox < 0 || ox >= outWidth) continue;
                                    double product = (double)dy[(oc * outHeight + oy) * outWidth + ox] * weight[(oc * inChannels + ic) * kernel * kernel + ky * kernel + kx];
                                    sum += product;
                                    scale += Math.Abs(product);
                                }
                            }
                        }
                        float actual = dx[(ic * height + iy) * width + ix];
                        // The transforms add a few roundings per term: within 1e-5 of the sum of magnitudes, as the direct kernel.
                        if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                            Assert.Fail($"dx[{ic},{iy},{ix}] = {actual}, expected {sum}");
                    }
                }
            }

            // Frozen weights (an empty weight gradient): the same input gradient, bit for bit.
            float[] dxOnly = new float[inLength];
            DirectConvolution.BackwardWithFilters(x, inChannels, height, width, weight, dy, outChannels, kernel, padding, default, dxOnly, new float[scratchLength], filters);
            Assert.Equal(dx.AsSpan(0, inLength).ToArray(), dxOnly);
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void NothingOutsideTheSpansOrLeftInTheBuffersChangesAResult(int inChannels, int height, int width, int outChannels, int padding, int kernel)
        {
            // A generated network hands each sample's slice of a batch array to the kernels, and one filters array holds the
            // forward's filters or the input gradient's in turn: neither the neighbours of a slice nor what a buffer held
            // before may change a single bit of the result.
            var random = new Random(inChannels + height + width + outChannels + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel), bias = RandomValues(random, outChannels);
            float[] x = RandomValues(random, inLength), dy = RandomValues(random, outLength);
            int scratchLength = DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding);
            int filterLength = DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding);

            (float[] Y, float[] Dx, float[] Dw) Run(float surrounding)
            {
                float[] Embedded(float[] values)
                {
                    var array = new float[values.Length + 64];
                    Array.Fill(array, surrounding);
                    values.CopyTo(array, 32);
                    return array;
                }
                var filters = new float[filterLength];
                Array.Fill(filters, surrounding);
                var scratch = new float[scratchLength];
                Array.Fill(scratch, surrounding);
                // The input gradient's filters first, so the forward's are written over them (and the other way round below).
                DirectConvolution.TransformFiltersForInputGradient(weight, inChannels, height, width, outChannels, kernel, padding, filters);
                DirectConvolution.TransformFilters(weight, inChannels, height, width, outChannels, kernel, padding, filters);
                var y = Embedded(new float[outLength]);
                DirectConvolution.ForwardWithFilters(Embedded(x).AsSpan(32, inLength), inChannels, height, width, weight, bias, outChannels, kernel, padding,
                    y.AsSpan(32, outLength), scratch, relu: false, filters);
                DirectConvolution.TransformFiltersForInputGradient(weight, inChannels, height, width, outChannels, kernel, padding, filters);
                var dx = Embedded(new float[inLength]);
                var dw = new float[weight.Length];
                DirectConvolution.BackwardWithFilters(Embedded(x).AsSpan(32, inLength), inChannels, height, width, weight, Embedded(dy).AsSpan(32, outLength),
                    outChannels, kernel, padding, dw, dx.AsSpan(32, inLength), scratch, filters);
                return (y.AsSpan(32, outLength).ToArray(), dx.AsSpan(32, inLength).ToArray(), dw);
            }

            var quiet = Run(0f);
            var loud = Run(1e6f);
            Assert.Equal(quiet.Y, loud.Y);
            Assert.Equal(quiet.Dx, loud.Dx);
            Assert.Equal(quiet.Dw, loud.Dw);
        }

        [Fact]
        public void TheInputGradientRunsThroughWinograd_WhereItsShapePays()
        {
            if (!Vector512.IsHardwareAccelerated || !Simd.Enabled) return;
            // 16x32x32 -> 16 at padding 1: d x is a 16 -> 16 convolution of 32x32 maps, where F(4x4, 3x3) is used.
            Assert.True(DirectConvolution.WinogradFiltersLength(16, 32, 32, 16, 3, 1) > 0);
            // A 3-channel stem's input gradient is a 16 -> 3 convolution: not Winograd either way.
            Assert.Equal(0, DirectConvolution.WinogradFiltersLength(3, 32, 32, 16, 3, 1));
            // 5x5: the forward's F(2x2, 5x5) filters only (the input gradient runs direct); no Winograd for 7x7.
            Assert.Equal(new WinogradF4Convolution.Layout(32, 32, 32, 32, 2, kernel: 5).FiltersLength, DirectConvolution.WinogradFiltersLength(32, 32, 32, 32, 5, 2));
            Assert.Equal(0, DirectConvolution.WinogradFiltersLength(32, 32, 32, 32, 7, 3));
        }

        [Fact]
        public void TheCallsAllocateNothing()
        {
            const int c = 16, h = 32, w = 32, oc = 16, p = 1;
            var random = new Random(5);
            float[] x = RandomValues(random, c * h * w), weight = RandomValues(random, oc * c * 9), bias = RandomValues(random, oc);
            float[] y = new float[oc * h * w], dWeight = new float[weight.Length], dx = new float[x.Length];
            float[] scratch = new float[DirectConvolution.ScratchLength(c, h, w, oc, 3, p)];
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(c, h, w, oc, 3, p)];
            void Run()
            {
                DirectConvolution.TransformFilters(weight, c, h, w, oc, 3, p, filters);
                DirectConvolution.ForwardWithFilters(x, c, h, w, weight, bias, oc, 3, p, y, scratch, true, filters);
                DirectConvolution.TransformFiltersForInputGradient(weight, c, h, w, oc, 3, p, filters);
                DirectConvolution.BackwardWithFilters(x, c, h, w, weight, y, oc, 3, p, dWeight, dx, scratch, filters);
            }
            Allocations.AssertNone(Run, calls: 5);
        }
    }
}
