using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Winograd F(2x2, 3x3) (the Vector512 path of 3x3 stride-1 convolutions where it pays) against the definition in
    /// double precision, on every shape whatever <see cref="WinogradConvolution.Pays"/> says: odd sizes, padding 0 to 2,
    /// channel counts that fill neither the 4-channel blocks nor the 64-tile chunks, maps smaller than a tile.
    /// </summary>
    public sealed class WinogradConvolutionTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 16, 32, 32, 16, 1, false },   // ResNet-8's first stage
                new object[] { 32, 16, 16, 64, 1, true },    // CIFAR
                new object[] { 64, 8, 8, 64, 1, false },     // ResNet-8's last stage
                new object[] { 24, 20, 20, 40, 0, true },    // no padding
                new object[] { 3, 33, 35, 5, 1, true },      // odd sizes: a partial last tile row and column
                new object[] { 17, 13, 9, 7, 0, false },     // odd channels, odd output
                new object[] { 1, 3, 3, 1, 0, true },        // one output cell
                new object[] { 2, 1, 1, 3, 1, true },        // a 1x1 image
                new object[] { 5, 40, 70, 6, 2, false },     // rows longer than two vectors, padding 2
                new object[] { 9, 2, 30, 2, 1, true },       // one row of tiles
            };
            var random = new Random(31);
            for (int trial = 0; trial < 12; trial++)
            {
                int padding = random.Next(0, 3);
                int height = random.Next(Math.Max(1, 3 - 2 * padding), 36), width = random.Next(Math.Max(1, 3 - 2 * padding), 36);
                shapes.Add(new object[] { random.Next(1, 40), height, width, random.Next(1, 21), padding, random.Next(2) == 0 });
            }
            return shapes;
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (!Available) return; // DirectConvolutionTests cover these layers on the other paths, which never take this one
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            int outLength = outChannels * outHeight * outWidth;
            var layout = new WinogradConvolution.Layout(inChannels, height, width, outChannels, padding);
            foreach (bool relu in new[] { false, true })
            {
                float[] y = new float[outLength + 7];
                Array.Fill(y, float.NaN);
                float[] scratch = RandomValues(random, WinogradConvolution.ScratchLength(inChannels, height, width, outChannels, padding)); // garbage must not leak
                WinogradConvolution.Forward(x, weight, bias, y.AsSpan(0, outLength), scratch, relu, pool: false, layout);
                for (int oc = 0; oc < outChannels; oc++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            double sum = hasBias ? bias[oc] : 0, scale = Math.Abs(sum);
                            for (int ic = 0; ic < inChannels; ic++)
                            {
                                for (int ky = 0; ky < 3; ky++)
                                {
                                    for (int kx = 0; kx < 3; kx++)
                                    {
                                        int iy = oy + ky - padding, ix = ox + kx - padding;
                                        if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                        double product = (double)x[(ic * height + iy) * width + ix] * weight[((oc * inChannels + ic) * 3 + ky) * 3 + kx];
                                        sum += product;
                                        scale += Math.Abs(product);
                                    }
                                }
                            }
                            if (relu) sum = Math.Max(sum, 0);
                            float actual = y[(oc * outHeight + oy) * outWidth + ox];
                            // The transforms add a few roundings per term: within 1e-5 of the sum of magnitudes, as the direct kernel.
                            if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                                Assert.Fail($"relu={relu}: y[{oc},{oy},{ox}] = {actual}, expected {sum}");
                        }
                    }
                }
                for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
            }
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardPooled_EqualsConvolutionThenReluThenPooling_BitForBit(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (!Available) return;
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            if (outHeight < 2 || outWidth < 2) return; // no 2x2 window fits
            var random = new Random(inChannels * 7 + height * 3 + width + outChannels * 11 + padding);
            float[] x = RandomValues(random, inChannels * height * width);
            for (int i = 0; i < x.Length; i += 17) x[i] = 0f; // some ties after ReLU
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            float[] scratch = new float[WinogradConvolution.ScratchLength(inChannels, height, width, outChannels, padding)];
            var layout = new WinogradConvolution.Layout(inChannels, height, width, outChannels, padding);
            int pooledLength = outChannels * (outHeight / 2) * (outWidth / 2);
            foreach (bool relu in new[] { false, true })
            {
                float[] full = new float[outChannels * outHeight * outWidth], expected = new float[pooledLength];
                WinogradConvolution.Forward(x, weight, bias, full, scratch, relu, pool: false, layout);
                Pooling.MaxPool2x2(full, outChannels, outHeight, outWidth, expected, vector: true);
                float[] fused = new float[pooledLength + 3];
                Array.Fill(fused, float.NaN);
                WinogradConvolution.Forward(x, weight, bias, fused.AsSpan(0, pooledLength), scratch, relu, pool: true, layout);
                for (int i = 0; i < pooledLength; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(fused[i]))
                        Assert.Fail($"relu={relu}: pooled[{i}] = {fused[i]}, expected {expected[i]}");
                }
                for (int i = pooledLength; i < fused.Length; i++) Assert.True(float.IsNaN(fused[i]), "wrote past the pooled output");
            }
        }

        [Fact]
        public void DirectConvolution_TakesIt_WhereItPays_AndAllocatesNothing()
        {
            Assert.False(WinogradConvolution.Pays(16, 32, 32, 16, 5, 2), "a 5x5 kernel");
            Assert.False(WinogradConvolution.Pays(3, 32, 32, 16, 3, 1), "a 3-channel stem");
            Assert.False(WinogradConvolution.Pays(64, 8, 8, 64, 3, 1), "an 8x8 map");
            Assert.Equal(Avx512F.IsSupported, WinogradConvolution.Pays(16, 32, 32, 16, 3, 1));
            float[] x = new float[16 * 32 * 32], w = new float[16 * 16 * 9], b = new float[16], y = new float[16 * 32 * 32];
            float[] scratch = new float[DirectConvolution.ScratchLength(16, 32, 32, 16, 3, 1)];
            if (Vector512.IsHardwareAccelerated)
                Assert.True(scratch.Length >= WinogradConvolution.ScratchLength(16, 32, 32, 16, 1), "the direct kernel's scratch covers the Winograd path");
            Infrastructure.Allocations.AssertNone(() =>
            {
                DirectConvolution.Forward(x, 16, 32, 32, w, b, 16, 3, 1, y, scratch, relu: true);
                DirectConvolution.ForwardPooled(x, 16, 32, 32, w, b, 16, 3, 1, y, scratch, relu: true);
            }, calls: 50);
        }
    }
}
