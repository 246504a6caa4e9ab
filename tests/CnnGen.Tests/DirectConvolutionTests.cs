using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The direct stride-1 convolution, each of its paths, against the definition in double precision.</summary>
    public sealed class DirectConvolutionTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, kernel, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 1, 28, 28, 6, 5, 2, true },    // LeNet-5 conv1
                new object[] { 6, 14, 14, 16, 5, 0, true },   // LeNet-5 conv2
                new object[] { 3, 32, 32, 32, 3, 1, true },   // CIFAR stem
                new object[] { 32, 16, 16, 64, 3, 1, false },
                new object[] { 1, 3, 3, 1, 5, 2, true },      // kernel larger than the image
                new object[] { 2, 1, 9, 3, 3, 1, false },     // one row
                new object[] { 5, 7, 1, 7, 1, 0, true },      // one column, pointwise
                new object[] { 5, 9, 11, 20, 3, 1, true },    // channels in a pair of lane blocks, the second partial
                new object[] { 2, 30, 30, 12, 3, 1, false },  // long flat rows, more than 8 channels
                new object[] { 4, 9, 9, 32, 5, 1, true },     // short rows, channels in the lanes: odd rows, 7-cell tiles
                new object[] { 3, 12, 10, 16, 3, 0, false },  // channels in the lanes, 8-cell tiles
                new object[] { 16, 33, 31, 20, 3, 1, true },  // Winograd on Vector512 (odd width, channels past the 4-blocks)
                new object[] { 64, 19, 18, 16, 3, 0, false }, // Winograd without padding, odd height
                new object[] { 64, 8, 8, 64, 3, 1, false },   // ResNet-8's last stage: 5 vectors of flat positions, one tile of 5
                new object[] { 64, 17, 16, 65, 3, 1, true },  // the weight gradient by Winograd on Vector512 (odd height, a partial lane block)
                new object[] { 5, 8, 8, 7, 3, 1, true },      // tiles of 5 for a block of 4 channels and one of 3
                new object[] { 4, 8, 16, 9, 3, 1, true },     // 9 vectors: a tile of 4, then one of 5; a block of 1 channel
                new object[] { 3, 8, 8, 6, 3, 1, true },      // 6-channel blocks keep 4 + 1 (6 x 5 accumulators would not fit)
                new object[] { 3, 15, 15, 16, 5, 0, true },   // lanes straight from x (no padding): rows of 11 cells (5 + 6), 11 rows
                new object[] { 2, 26, 23, 32, 7, 0, true },   // lanes, rows of 17 cells: tiles of 8 and 9
                new object[] { 2, 10, 26, 16, 7, 0, false },  // lanes, rows of 20 cells: two tiles of 10
                new object[] { 2, 11, 10, 16, 5, 2, true },   // lanes on a padded input: one tile of 10 per row, odd rows
                new object[] { 1, 9, 13, 48, 5, 2, true },    // lanes on a padded input: rows of 13 cells (6 + 7), three lane blocks
                new object[] { 24, 2, 2, 32, 3, 1, true },    // lanes on a 2x2 map: even and odd input channels in chains of their own
                new object[] { 7, 3, 1, 16, 3, 1, false },    // a 3x1 map: an odd row, one cell wide, an odd channel count (one left over)
                new object[] { 9, 1, 2, 32, 3, 1, true },     // a 1x2 map
                new object[] { 128, 2, 2, 64, 3, 1, true },   // Vector256 lanes on a 2x2 map of many channels
                new object[] { 16, 5, 7, 32, 3, 0, false },   // Vector256 lanes without padding, a map wider than high
                new object[] { 12, 6, 6, 48, 5, 2, true },    // 5x5, three blocks: F(2x2, 5x5) where it runs, else the lanes kernels
            };
            var random = new Random(29);
            for (int trial = 0; trial < 24; trial++)
            {
                int kernel = random.Next(1, 8);
                int padding = random.Next(0, 4);
                int height = random.Next(Math.Max(1, kernel - 2 * padding), 40);
                int width = random.Next(Math.Max(1, kernel - 2 * padding), 40);
                shapes.Add(new object[] { random.Next(1, 10), height, width, random.Next(1, 14), kernel, padding, random.Next(2) == 0 });
            }
            return shapes;
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        public static IEnumerable<object[]> Paths()
        {
            yield return new object[] { "Scalar" };
            if (Vector256.IsHardwareAccelerated) yield return new object[] { "Vector256" };
            if (Vector512.IsHardwareAccelerated) yield return new object[] { "Vector512" };
        }

        public static IEnumerable<object[]> ShapesOnEveryPath()
        {
            foreach (object[] path in Paths())
            {
                foreach (object[] shape in Shapes()) yield return [.. path, .. shape];
            }
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void Forward_MatchesTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int padding, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + kernel * 3 + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            int outLength = outChannels * outHeight * outWidth;

            foreach (bool relu in new[] { false, true })
            {
                float[] y = new float[outLength + 7];
                Array.Fill(y, float.NaN);
                float[] scratch = RandomValues(random, DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding)); // garbage must not leak
                DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y.AsSpan(0, outLength + 7), scratch, relu, pool: false, path);

                for (int oc = 0; oc < outChannels; oc++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            double sum = hasBias ? bias[oc] : 0, scale = Math.Abs(sum);
                            for (int ic = 0; ic < inChannels; ic++)
                            {
                                for (int ky = 0; ky < kernel; ky++)
                                {
                                    for (int kx = 0; kx < kernel; kx++)
                                    {
                                        int iy = oy + ky - padding, ix = ox + kx - padding;
                                        if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                        double product = (double)x[(ic * height + iy) * width + ix] * weight[((oc * inChannels + ic) * kernel + ky) * kernel + kx];
                                        sum += product;
                                        scale += Math.Abs(product);
                                    }
                                }
                            }
                            if (relu) sum = Math.Max(sum, 0);
                            float actual = y[(oc * outHeight + oy) * outWidth + ox];
                            if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                                Assert.Fail($"{path} relu={relu}: y[{oc},{oy},{ox}] = {actual}, expected {sum}");
                        }
                    }
                }
                for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
            }
        }

        /// <summary>
        /// On Vector256 the output-channel lanes kernel (StridedConvolution's tiles at stride 1) sums each output in the flat
        /// tiles' order from the bias (input channel, ky, kx), each step one fused multiply-add: the same floats, bit for bit,
        /// with its weights packed on the call or kept packed, pooled or not, with ReLU or without.
        /// </summary>
        [Theory]
        [InlineData(6, 14, 14, 16, 5, 0)]    // LeNet-5's second layer: 100 cells, tiles of 5
        [InlineData(24, 2, 2, 32, 3, 1)]     // a 2x2 map: one tile of 4 cells
        [InlineData(128, 4, 4, 256, 3, 1)]   // VGG's 4x4 maps at batch 1: tiles of 6, 5 and 5
        [InlineData(64, 3, 3, 32, 3, 1)]     // a 3x3 map: a tile of 5 and one of 4, across rows
        [InlineData(16, 7, 5, 48, 3, 1)]     // a map higher than wide, three blocks
        [InlineData(20, 6, 6, 16, 3, 0)]     // no padding: the tiles read x in place
        [InlineData(8, 12, 9, 16, 5, 2)]     // 5x5 with padding 2 on an odd map
        [InlineData(9, 1, 2, 32, 3, 1)]      // a 1x2 map: one tile of 2
        public void Lanes256_GiveTheFlatTilesFloats_BitForBit(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (!Vector256.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Fma.IsSupported || !System.Runtime.Intrinsics.X86.Avx2.IsSupported) return;
            var path = DirectConvolution.KernelPath.Vector256;
            Assert.True(DirectConvolution.UsesLanes(inChannels, height, width, outChannels, kernel, padding, path), "the rule does not take this shape");
            var random = new Random(inChannels * 37 + height * 11 + width + outChannels * 5 + kernel + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, inChannels * height * width);
            for (int i = 0; i < x.Length; i += 13) x[i] = 0f; // ties after ReLU and pooling
            float[] weight = RandomValues(random, outChannels * taps), bias = RandomValues(random, outChannels), packed = new float[outChannels * taps];
            DirectConvolution.PackLanes(weight, outChannels, taps, packed);
            int scratchLength = DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding);
            foreach (bool pool in new[] { false, true })
            {
                if (pool && (outHeight < 2 || outWidth < 2)) continue;
                int length = pool ? outChannels * (outHeight / 2) * (outWidth / 2) : outChannels * outHeight * outWidth;
                foreach (bool relu in new[] { false, true })
                {
                    float[] flat = new float[length], lanes = new float[length + 5], kept = new float[length + 5];
                    Array.Fill(lanes, float.NaN);
                    Array.Fill(kept, float.NaN);
                    DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, flat, RandomValues(random, scratchLength), relu, pool, path,
                        allowWinograd: false, allowLanes: false);
                    DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, lanes, RandomValues(random, scratchLength), relu, pool, path,
                        allowWinograd: false);
                    DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, kept, RandomValues(random, scratchLength), relu, pool, path,
                        allowWinograd: false, packedLanes: packed);
                    for (int i = 0; i < length; i++)
                    {
                        if (BitConverter.SingleToInt32Bits(flat[i]) != BitConverter.SingleToInt32Bits(lanes[i]) || BitConverter.SingleToInt32Bits(flat[i]) != BitConverter.SingleToInt32Bits(kept[i]))
                            Assert.Fail($"pool={pool} relu={relu}: [{i}] flat {flat[i]}, lanes {lanes[i]}, kept {kept[i]}");
                    }
                    for (int i = length; i < lanes.Length; i++) Assert.True(float.IsNaN(lanes[i]) && float.IsNaN(kept[i]), "wrote past the output");
                }
            }
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void ForwardPooled_EqualsConvolutionThenReluThenPooling_BitForBit(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int padding, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outHeight < 2 || outWidth < 2) return; // no 2x2 window fits
            var random = new Random(inChannels * 7 + height * 3 + width + outChannels * 11 + kernel + padding);
            float[] x = RandomValues(random, inChannels * height * width);
            for (int i = 0; i < x.Length; i += 17) x[i] = 0f; // some ties after ReLU
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            float[] scratch = new float[DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding)];
            int pooledLength = outChannels * (outHeight / 2) * (outWidth / 2);
            foreach (bool relu in new[] { false, true })
            {
                float[] full = new float[outChannels * outHeight * outWidth], expected = new float[pooledLength];
                DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, full, scratch, relu, pool: false, path);
                Pooling.MaxPool2x2(full, outChannels, outHeight, outWidth, expected, vector: path != DirectConvolution.KernelPath.Scalar);
                float[] fused = new float[pooledLength + 3];
                Array.Fill(fused, float.NaN);
                DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, fused.AsSpan(0, pooledLength + 3), scratch, relu, pool: true, path);
                for (int i = 0; i < pooledLength; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(fused[i]))
                        Assert.Fail($"{path} relu={relu}: pooled[{i}] = {fused[i]}, expected {expected[i]}");
                }
                for (int i = pooledLength; i < fused.Length; i++) Assert.True(float.IsNaN(fused[i]), "wrote past the pooled output");
            }
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void Backward_MatchesTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int padding, bool wantInputGradient)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1009 + height * 37 + width * 11 + outChannels + kernel * 5 + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, inLength);
            float[] weight = RandomValues(random, outChannels * taps);
            float[] dy = RandomValues(random, outLength);
            float[] dWeight0 = RandomValues(random, outChannels * taps + 3);
            float[] dWeight = (float[])dWeight0.Clone();
            float[] dx = new float[inLength + 5];
            Array.Fill(dx, float.NaN);
            float[] scratch = RandomValues(random, DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding));
            DirectConvolution.BackwardOn(x, inChannels, height, width, weight, dy, outChannels, kernel, padding,
                dWeight.AsSpan(0, outChannels * taps + 3), wantInputGradient ? dx.AsSpan(0, inLength + 5) : default, scratch, path);

            var expectedDx = new double[inLength];
            var dxScale = new double[inLength];
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int t = 0; t < taps; t++)
                {
                    int ic = t / (kernel * kernel), ky = t / kernel % kernel, kx = t % kernel;
                    double sum = dWeight0[oc * taps + t], scale = Math.Abs(sum);
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int iy = oy + ky - padding, ix = ox + kx - padding;
                            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                            int xAt = (ic * height + iy) * width + ix;
                            double d = dy[(oc * outHeight + oy) * outWidth + ox];
                            sum += d * x[xAt];
                            scale += Math.Abs(d * x[xAt]);
                            expectedDx[xAt] += d * weight[oc * taps + t];
                            dxScale[xAt] += Math.Abs(d * weight[oc * taps + t]);
                        }
                    }
                    float actual = dWeight[oc * taps + t];
                    if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                        Assert.Fail($"{path}: dW[{oc},{t}] = {actual}, expected {sum}");
                }
            }
            for (int i = outChannels * taps; i < dWeight.Length; i++) Assert.Equal(dWeight0[i], dWeight[i]);
            if (!wantInputGradient)
            {
                Assert.All(dx, v => Assert.True(float.IsNaN(v)));
                return;
            }
            for (int i = 0; i < inLength; i++)
            {
                if (!(Math.Abs(dx[i] - expectedDx[i]) <= 1e-5 * Math.Max(dxScale[i], 1e-30) + 1e-30))
                    Assert.Fail($"{path}: dx[{i}] = {dx[i]}, expected {expectedDx[i]}");
            }
            for (int i = inLength; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]), "wrote past the input gradient");

            // A frozen layer: no weight gradient (an empty span), the same input gradient bit for bit.
            float[] dxOnly = new float[inLength];
            DirectConvolution.BackwardOn(x, inChannels, height, width, weight, dy, outChannels, kernel, padding, default, dxOnly, scratch, path);
            Assert.Equal(dx.AsSpan(0, inLength).ToArray(), dxOnly);
        }

        // Both weight-gradient kernels on every vector path, whatever the rule picks: the shapes above, and ones that reach
        // the channel-lane kernel's corners (a pair of 16-channel blocks then a single or a partial one, several passes over
        // the rows, taps and cells past whole 16 x 16 transposes).
        public static IEnumerable<object[]> WeightKernelCases()
        {
            var shapes = new List<object[]>(Shapes())
            {
                new object[] { 5, 40, 37, 48, 3, 1, false },
                new object[] { 3, 20, 19, 33, 3, 1, false },
                new object[] { 7, 6, 6, 16, 3, 1, false },
                new object[] { 2, 50, 50, 32, 3, 1, false },
                new object[] { 20, 9, 9, 17, 1, 0, false },
                // Output rows of whole vectors (the dot products along d y's own rows): ResNet-8's 16-channel layers, three
                // vectors a row with a partial block of channels, rows of 32 without padding.
                new object[] { 16, 32, 32, 16, 3, 1, false },
                new object[] { 6, 5, 48, 7, 3, 1, false },
                new object[] { 3, 10, 34, 5, 3, 0, false },
            };
            foreach (object[] path in Paths())
            {
                if ((string)path[0] == "Scalar") continue;
                foreach (string kernel in new[] { "Dot", "Lanes" })
                {
                    foreach (object[] shape in shapes) yield return [.. path, kernel, .. shape[..6]];
                }
            }
        }

        [Theory]
        [MemberData(nameof(WeightKernelCases))]
        public void WeightGradient_EachKernel_MatchesTheDefinition(string pathName, string kernelName, int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var weightKernel = Enum.Parse<DirectConvolution.WeightKernel>(kernelName);
            var random = new Random(inChannels * 101 + height * 13 + width * 3 + outChannels * 7 + kernel + padding);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            float[] dWeight0 = RandomValues(random, outChannels * taps + 3);
            float[] dWeight = (float[])dWeight0.Clone();
            float[] scratch = RandomValues(random, DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding));
            DirectConvolution.WeightGradientOn(x, inChannels, height, width, dy, outChannels, kernel, padding, dWeight, scratch, path, weightKernel);
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int t = 0; t < taps; t++)
                {
                    int ic = t / (kernel * kernel), ky = t / kernel % kernel, kx = t % kernel;
                    double sum = dWeight0[oc * taps + t], scale = Math.Abs(sum);
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int iy = oy + ky - padding, ix = ox + kx - padding;
                            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                            double term = (double)dy[(oc * outHeight + oy) * outWidth + ox] * x[(ic * height + iy) * width + ix];
                            sum += term;
                            scale += Math.Abs(term);
                        }
                    }
                    float actual = dWeight[oc * taps + t];
                    if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                        Assert.Fail($"{path} {weightKernel}: dW[{oc},{t}] = {actual}, expected {sum}");
                }
            }
            for (int i = outChannels * taps; i < dWeight.Length; i++) Assert.Equal(dWeight0[i], dWeight[i]);
        }

        [Fact]
        public void Forward_RejectsShortSpansAndBadShapes_AndAllocatesNothing()
        {
            float[] x = new float[3 * 8 * 8], w = new float[4 * 3 * 9], b = new float[4], y = new float[4 * 8 * 8];
            float[] scratch = new float[DirectConvolution.ScratchLength(3, 8, 8, 4, 3, 1)];
            DirectConvolution.Forward(x, 3, 8, 8, w, b, 4, 3, 1, y, scratch, relu: true);
            Assert.Throws<ArgumentException>(() => DirectConvolution.Forward(x.AsSpan(1), 3, 8, 8, w, b, 4, 3, 1, y, scratch, true));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Forward(x, 3, 8, 8, w.AsSpan(1), b, 4, 3, 1, y, scratch, true));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Forward(x, 3, 8, 8, w, b.AsSpan(1), 4, 3, 1, y, scratch, true));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Forward(x, 3, 8, 8, w, b, 4, 3, 1, y.AsSpan(1), scratch, true));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Forward(x, 3, 8, 8, w, b, 4, 3, 1, y, scratch.AsSpan(0, 10), true));
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConvolution.Forward(x, 3, 2, 2, w, b, 4, 3, 0, y, scratch, true));
            Assert.Throws<ArgumentOutOfRangeException>(() => DirectConvolution.Forward(x, 0, 8, 8, w, b, 4, 3, 1, y, scratch, true));

            float[] dw = new float[w.Length], dx = new float[x.Length];
            Assert.Throws<ArgumentException>(() => DirectConvolution.Backward(x, 3, 8, 8, w, y.AsSpan(1), 4, 3, 1, dw, dx, scratch));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Backward(x, 3, 8, 8, w, y, 4, 3, 1, dw.AsSpan(1), dx, scratch));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Backward(x, 3, 8, 8, w, y, 4, 3, 1, dw, dx.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => DirectConvolution.Backward(x, 3, 8, 8, w, y, 4, 3, 1, dw, dx, scratch.AsSpan(0, 10)));

            // Warmed up, then measured in rounds: a call that allocates shows in every round; the runtime's own one-off
            // allocation while tiering a method up mid-measurement (seen once in CI on the scalar path, 7 KB) does not.
            Infrastructure.Allocations.AssertNone(() =>
            {
                DirectConvolution.Forward(x, 3, 8, 8, w, b, 4, 3, 1, y, scratch, relu: false);
                DirectConvolution.Backward(x, 3, 8, 8, w, y, 4, 3, 1, dw, dx, scratch);
            }, calls: 100);
        }
    }
}
