using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The direct strided convolution, each of its paths (scalar, im2col + GEMM, channels in the Vector512 lanes), against the definition in double precision.</summary>
    public sealed class StridedConvolutionTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, kernel, stride, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 3, 64, 64, 32, 3, 2, 1, false },   // the strided benchmark network's stem: output cells in the lanes
                new object[] { 3, 35, 37, 24, 3, 2, 1, true },    // cells in the lanes: rows of 19 (the last vector overlaps), 6-channel tiles
                new object[] { 4, 29, 34, 13, 5, 2, 2, true },    // 13 channels (6 + 6 + 1), 30 vectors (a tile of 2 left)
                new object[] { 8, 39, 33, 20, 4, 2, 3, false },   // even kernel, odd padding, 42 vectors
                new object[] { 1, 21, 32, 5, 3, 2, 1, false },    // one channel in, 11 vectors of 16 (a tile of 3 left)
                new object[] { 3, 1, 31, 16, 1, 2, 0, true },     // one vector in all
                new object[] { 16, 32, 32, 16, 3, 2, 1, false },  // one lane block
                new object[] { 32, 32, 32, 64, 3, 2, 1, false },
                new object[] { 64, 16, 16, 128, 3, 2, 1, true },
                new object[] { 16, 32, 32, 32, 1, 2, 0, false },  // ResNet-8's projection shortcut: subsampled, then the pointwise tiles (256 cells)
                new object[] { 64, 36, 34, 128, 1, 2, 0, true },  // whole vectors of channels on 306 cells: subsampled, the pointwise tiles' copied blocks
                new object[] { 352, 28, 27, 48, 1, 2, 0, false }, // 14x14 cells from an input of 1 MB: subsampled on Vector512 too
                new object[] { 3, 32, 32, 16, 3, 2, 1, false },   // MobileNetV2's stem: 3 input channels, one lane block
                new object[] { 1, 9, 11, 16, 3, 2, 1, true },     // one input channel, odd sizes
                new object[] { 5, 13, 7, 32, 3, 2, 0, false },    // a stem without padding, rows of 6 and 3 cells
                new object[] { 17, 11, 13, 48, 3, 2, 1, true },    // three blocks: a pair, then one; odd sizes, short tiles
                new object[] { 16, 17, 9, 16, 5, 3, 2, true },     // stride 3
                new object[] { 18, 19, 23, 32, 4, 4, 1, false },   // stride 4, even kernel
                new object[] { 3, 12, 12, 24, 3, 2, 1, true },    // channels not a multiple of 16: lanes, the last block padded (GEMM on Vector256)
                // Output channels that fill no whole vector, more input channels than the phases kernel takes: the lanes
                // kernel with the last block's lanes padded (stored only up to outChannels), odd maps, padding 0 and 1.
                new object[] { 12, 37, 37, 20, 3, 2, 1, true },   // a pair of blocks, the second 4 channels
                new object[] { 12, 19, 21, 5, 3, 2, 0, false },   // one block of 5
                new object[] { 20, 17, 15, 40, 3, 2, 1, false },  // a pair, then a block of 8
                new object[] { 24, 14, 13, 36, 3, 2, 0, true },   // a pair, then 4
                new object[] { 17, 11, 9, 12, 5, 3, 2, true },    // stride 3, 5x5
                new object[] { 9, 23, 16, 100, 3, 2, 1, true },   // three pairs, then 4
                new object[] { 40, 9, 9, 72, 3, 2, 1, false },    // a 5x5 output (a row's tile of 5 cells)
                new object[] { 20, 37, 37, 40, 1, 2, 0, true },   // 1x1 stride 2
                // More than 8 input channels with the output cells in the lanes (the phases kernel, where its rows fill more
                // lanes than the channels would): few output channels, rows of 16 to 48 cells, padding 0 and 1, 5x5.
                new object[] { 12, 37, 37, 5, 3, 2, 1, true },    // rows of 19: the last vector overlaps
                new object[] { 16, 64, 63, 20, 3, 2, 1, false },  // rows of 32
                new object[] { 32, 33, 33, 16, 3, 2, 0, true },   // rows of 16, one block of 16: equal fill, phases
                new object[] { 40, 32, 35, 6, 3, 2, 1, false },   // 360 taps, rows of 18
                new object[] { 64, 34, 34, 7, 3, 2, 1, true },    // 576 taps (beyond the stems' limit), rows of 17
                new object[] { 10, 40, 97, 12, 5, 2, 2, true },   // 5x5, rows of 49
                new object[] { 3, 15, 15, 16, 3, 5, 0, true },    // stride 5: im2col + GEMM
                new object[] { 16, 3, 3, 16, 5, 2, 2, true },      // kernel larger than the image
                new object[] { 16, 1, 40, 16, 1, 2, 0, false },    // one row, long
                // Maps 4 cells wide or less, the lanes kernel's tiles taking whole rows (up to 8 cells): a 2x2 map in one tile,
                // 3x3 as rows 1 + 2, 4x4 as two tiles of 2 rows, one column in rows 2 + 3, rows of 3 at stride 3, 2x2 at stride
                // 4, 1x1 stride 2 reading x in place.
                new object[] { 128, 4, 4, 256, 3, 2, 1, true },
                new object[] { 24, 6, 6, 40, 3, 2, 1, false },
                new object[] { 20, 8, 8, 48, 3, 2, 1, true },
                new object[] { 16, 9, 2, 16, 3, 2, 1, true },
                new object[] { 16, 7, 5, 32, 3, 2, 1, false },
                new object[] { 16, 10, 8, 16, 3, 3, 1, true },
                new object[] { 8, 9, 9, 32, 4, 4, 1, false },
                new object[] { 40, 4, 4, 72, 1, 2, 0, true },
                // 3x3 stride 2 at padding 1 on the lanes kernel leaves out the padding's products: the top row's first kernel
                // row, the left column's first kernel column, and on odd maps the bottom row's last and right column's last.
                new object[] { 20, 7, 3, 48, 3, 2, 1, true },     // a tile of 4 rows of 2 touching all four sides; a pair, then one block
                new object[] { 12, 5, 4, 32, 3, 2, 1, false },    // 3 rows of 2, the bottom padding read, not the right
                new object[] { 16, 2, 1, 32, 3, 2, 1, true },     // one cell: the right padding, not the bottom
                new object[] { 16, 1, 1, 16, 3, 2, 1, false },    // one cell of one input: only the centre tap
                new object[] { 24, 3, 15, 32, 3, 2, 1, true },    // one row of 8 cells, the right padding read
                new object[] { 24, 5, 29, 32, 3, 2, 1, false },   // rows of 15 as tiles of 7 + 8, only the second at the right
                new object[] { 20, 9, 13, 16, 3, 2, 1, true },    // rows of 7, one block
                // 1x1 without padding, subsampled into a plane for PointwiseConvolution where the rule takes it (output
                // channels that fill no whole vector on 256+ cells; Vector256 from 196 cells and 64 channels each way, or from
                // Cin·Cout 2^18), the lanes kernel reading x in place or the GEMM elsewhere: odd maps, odd channels, stride 3,
                // and 1x1 with padding (never subsampled).
                new object[] { 17, 33, 35, 23, 1, 2, 0, true },    // 17x18 cells, 23 channels
                new object[] { 9, 40, 41, 5, 1, 2, 0, false },     // 20x21 cells, fewer channels than a vector
                new object[] { 24, 50, 49, 30, 1, 3, 0, true },    // stride 3, 17x17 cells
                new object[] { 36, 28, 27, 52, 1, 2, 0, false },   // 14x14 cells: the lanes kernel on Vector512, subsampled on Vector256
                new object[] { 64, 14, 13, 40, 1, 2, 0, true },    // 7x7 cells
                new object[] { 16, 15, 17, 20, 1, 2, 1, true },    // padding 1: never subsampled
                new object[] { 64, 30, 29, 65, 1, 2, 0, true },    // 15x15 cells from 64 channels: subsampled on Vector256 too
                new object[] { 512, 6, 7, 520, 1, 2, 0, false },   // 3x4 cells, Cin·Cout past 2^18: subsampled on Vector256
            };
            var random = new Random(31);
            for (int trial = 0; trial < 16; trial++)
            {
                int kernel = random.Next(1, 6);
                int stride = random.Next(2, 5);
                int padding = random.Next(0, 3);
                int height = random.Next(Math.Max(1, kernel - 2 * padding), 30);
                int width = random.Next(Math.Max(1, kernel - 2 * padding), 30);
                shapes.Add(new object[] { random.Next(1, 25), height, width, 16 * random.Next(1, 5), kernel, stride, padding, random.Next(2) == 0 });
            }
            for (int trial = 0; trial < 8; trial++) // any output channel count
            {
                int kernel = random.Next(1, 6);
                int stride = random.Next(2, 5);
                int padding = random.Next(0, 3);
                int height = random.Next(Math.Max(1, kernel - 2 * padding), 30);
                int width = random.Next(Math.Max(1, kernel - 2 * padding), 30);
                shapes.Add(new object[] { random.Next(9, 30), height, width, random.Next(1, 60), kernel, stride, padding, random.Next(2) == 0 });
            }
            return shapes;
        }

        public static IEnumerable<object[]> ShapesOnEveryPath()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (object[] shape in Shapes()) yield return [.. path, .. shape];
            }
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void Forward_MatchesTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + kernel * 3 + stride * 5 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            int outLength = outChannels * outHeight * outWidth;

            foreach (bool relu in new[] { false, true })
            {
                float[] y = new float[outLength + 7];
                Array.Fill(y, float.NaN);
                float[] scratch = RandomValues(random, StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding)); // garbage must not leak
                StridedConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, stride, padding, y.AsSpan(0, outLength + 7), scratch, relu, path);

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
                                        int iy = oy * stride + ky - padding, ix = ox * stride + kx - padding;
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

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void ForwardPrepared_EqualsForwardOnTheSameWeights(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + kernel * 3 + stride * 5 + padding + 1);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            // The direct kernels only: StridedWinogradConvolutionTests compare the Winograd path with the definition.
            float[] prepared = RandomValues(random, StridedConvolution.PreparedLengthOn(inChannels, height, width, outChannels, kernel, stride, padding, path, winograd: false)); // garbage must be overwritten
            StridedConvolution.PrepareOn(weight, bias, inChannels, height, width, outChannels, kernel, stride, padding, prepared, path, winograd: false);
            int scratchLength = StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding);
            foreach (bool relu in new[] { false, true })
            {
                float[] expected = new float[outLength], actual = new float[outLength + 5];
                Array.Fill(actual, float.NaN);
                StridedConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, stride, padding, expected, RandomValues(random, scratchLength), relu, path);
                StridedConvolution.ForwardPreparedOn(x, inChannels, height, width, prepared, outChannels, kernel, stride, padding, actual, RandomValues(random, scratchLength), relu, path, winograd: false);
                Assert.Equal(expected, actual.AsSpan(0, outLength).ToArray()); // the same arithmetic, only the packing moved
                for (int i = outLength; i < actual.Length; i++) Assert.True(float.IsNaN(actual[i]), "wrote past the output");
            }
        }

        // The forward's shapes and a few for the backward's corners: channels that fill no whole lane block, stride 1, 1x1 at
        // stride 2 (three phases in four receive no tap), padding wider than the reach of the kernel.
        public static IEnumerable<object[]> BackwardCases()
        {
            var shapes = new List<object[]>(Shapes())
            {
                new object[] { 5, 10, 9, 7, 3, 2, 1, false },
                new object[] { 6, 9, 8, 40, 3, 1, 1, false },
                new object[] { 32, 16, 16, 64, 1, 2, 0, false },
                new object[] { 3, 7, 6, 18, 2, 2, 3, false },
                // 1x1 without padding (GEMMs over the subsampled input, spread back): rows of whole and partial 32-float pairs,
                // odd sizes (the last row and column taken), stride 3, more channels than one GEMM tile.
                new object[] { 16, 64, 64, 32, 1, 2, 0, false },
                new object[] { 24, 15, 49, 40, 1, 2, 0, false },
                new object[] { 128, 8, 8, 256, 1, 2, 0, false },
                new object[] { 7, 16, 34, 9, 1, 2, 0, false },
                new object[] { 16, 10, 50, 16, 1, 3, 0, false },
                // 3x3 stride 2: one output, the padded input's last row and column read by no output, 13 and 25 output channels
                // (a lane block part full), channels past whole vectors, a 32x32 output.
                new object[] { 16, 3, 3, 16, 3, 2, 0, false },
                new object[] { 16, 10, 12, 13, 3, 2, 0, false },
                new object[] { 16, 9, 11, 25, 3, 2, 1, false },
                new object[] { 33, 7, 8, 23, 3, 2, 1, false },
                new object[] { 16, 64, 64, 32, 3, 2, 1, false },
                // Where the Vector512 input gradient runs by Winograd (StridedConvolution.InputGradientTile): the 4x4 tile on
                // 16x16 and 8x8 outputs and on 9x9 ones (partial tiles), the 2x4 tile on 8x8 (from an odd 15x15 input too).
                new object[] { 32, 32, 32, 64, 3, 2, 1, false },
                new object[] { 64, 16, 16, 128, 3, 2, 1, false },
                new object[] { 32, 17, 17, 48, 3, 2, 1, false },
                new object[] { 32, 16, 16, 64, 3, 2, 1, false },
                new object[] { 64, 15, 15, 64, 3, 2, 1, false },
                // Outputs under 64 cells (session 30): the 2x2 tile's input gradient onto 4x4 and 6x6, and the weight gradient's
                // 4x4 tile onto 4x4 and 2x2 tile onto 6x6 and 2x2 (their sums carried over a pass in
                // StridedWinogradWeightGradientTests; here a sample alone).
                new object[] { 64, 8, 8, 128, 3, 2, 1, false },
                new object[] { 32, 12, 12, 64, 3, 2, 1, false },
                new object[] { 48, 7, 8, 96, 3, 2, 1, false },
            };
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (object[] shape in shapes)
                {
                    yield return [.. path, .. shape[..7], true];
                    yield return [.. path, .. shape[..7], false];
                }
            }
        }

        [Theory]
        [MemberData(nameof(BackwardCases))]
        public void Backward_MatchesTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool wantInputGradient)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1009 + height * 37 + width * 11 + outChannels + kernel * 5 + stride * 3 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int inLength = inChannels * height * width, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, inLength);
            float[] weight = RandomValues(random, outChannels * taps);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            float[] dWeight0 = RandomValues(random, outChannels * taps + 3);
            float[] dWeight = (float[])dWeight0.Clone();
            float[] dx = new float[inLength + 5];
            Array.Fill(dx, float.NaN);
            float[] scratch = RandomValues(random, StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding)); // garbage must not leak
            StridedConvolution.BackwardOn(x, inChannels, height, width, weight, dy, outChannels, kernel, stride, padding,
                dWeight, wantInputGradient ? dx : default, scratch, path);

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
                            int iy = oy * stride + ky - padding, ix = ox * stride + kx - padding;
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

            // A frozen layer: no weight gradient (an empty span), the same input gradient bit for bit, on a scratch full of garbage.
            float[] dxOnly = new float[inLength];
            RandomValues(random, scratch.Length).CopyTo(scratch, 0);
            StridedConvolution.BackwardOn(x, inChannels, height, width, weight, dy, outChannels, kernel, stride, padding, default, dxOnly, scratch, path);
            Assert.Equal(dx.AsSpan(0, inLength).ToArray(), dxOnly);
        }

        // The input gradient from weights packed by PackInputGradientWeights (the input channels in the Vector512 lanes, or
        // where the rule takes Winograd its transposed filters; the other paths ignore the packing): against the definition,
        // with a scratch and a weight gradient full of garbage, and the lanes' packed layout against its own definition.
        [Theory]
        [MemberData(nameof(BackwardCases))]
        public void BackwardPacked_InputGradientMatchesTheDefinition(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool wantWeightGradient)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 2003 + height * 41 + width * 13 + outChannels + kernel * 7 + stride * 5 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int inLength = inChannels * height * width, area = kernel * kernel, taps = inChannels * area;
            float[] weight = RandomValues(random, outChannels * taps);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            float[] x = RandomValues(random, inLength);
            bool winograd = StridedConvolution.InputGradientTileFor(inChannels, height, width, outChannels, kernel, stride, padding) != 0;
            int packedLength = winograd
                ? StridedConvolution.InputGradientWeightsLength(inChannels, height, width, outChannels, kernel, stride, padding)
                : StridedConvolution.PackedInputGradientLength(inChannels, outChannels, kernel);
            float[] packed = RandomValues(random, packedLength); // overwritten whole
            StridedConvolution.PackInputGradientWeights(weight, inChannels, height, width, outChannels, kernel, stride, padding, packed);
            for (int block = 0, i = 0; !winograd && block < (inChannels + 15) / 16; block++)
                for (int oc = 0; oc < outChannels; oc++)
                    for (int t = 0; t < area; t++)
                        for (int lane = 0; lane < 16; lane++, i++)
                        {
                            int ic = block * 16 + lane;
                            Assert.Equal(ic < inChannels ? weight[(oc * inChannels + ic) * area + t] : 0f, packed[i]);
                        }

            float[] dWeight = new float[outChannels * taps];
            float[] dx = new float[inLength + 5];
            Array.Fill(dx, float.NaN);
            float[] scratch = RandomValues(random, StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding));
            StridedConvolution.BackwardOn(x, inChannels, height, width, weight, dy, outChannels, kernel, stride, padding,
                wantWeightGradient ? dWeight : default, dx, scratch, packed, path);

            var expected = new double[inLength];
            var scale = new double[inLength];
            for (int oc = 0; oc < outChannels; oc++)
                for (int t = 0; t < taps; t++)
                {
                    int ic = t / area, ky = t / kernel % kernel, kx = t % kernel;
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int iy = oy * stride + ky - padding, ix = ox * stride + kx - padding;
                            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                            double term = dy[(oc * outHeight + oy) * outWidth + ox] * (double)weight[oc * taps + t];
                            expected[(ic * height + iy) * width + ix] += term;
                            scale[(ic * height + iy) * width + ix] += Math.Abs(term);
                        }
                }
            for (int i = 0; i < inLength; i++)
            {
                // Winograd's bound is the forward's (StridedWinogradConvolutionTests), the direct kernels' half of it.
                double tolerance = winograd && path == DirectConvolution.KernelPath.Vector512 ? 2e-5 : 1e-5;
                if (!(Math.Abs(dx[i] - expected[i]) <= tolerance * Math.Max(scale[i], 1e-30) + 1e-30))
                    Assert.Fail($"{path}: dx[{i}] = {dx[i]}, expected {expected[i]}");
            }
            for (int i = inLength; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]), "wrote past the input gradient");
        }

        public static IEnumerable<object[]> SampleCases()
        {
            // inChannels, height, width, outChannels, kernel, stride, padding
            var shapes = new List<object[]>
            {
                new object[] { 32, 16, 16, 64, 3, 2, 1 },   // ResNet-8's second stride-2 layer
                new object[] { 32, 32, 32, 64, 3, 2, 1 },   // the strided network's Winograd layers, both gradients by Winograd
                new object[] { 64, 16, 16, 128, 3, 2, 1 },
                new object[] { 3, 20, 18, 32, 3, 2, 1 },    // a stem: 3 channels
                new object[] { 17, 11, 13, 23, 3, 2, 0 },   // odd sizes, channels past whole lane blocks, no padding
                new object[] { 8, 15, 9, 40, 5, 3, 2 },     // 5x5, stride 3
                new object[] { 16, 12, 12, 24, 1, 2, 0 },   // 1x1 without padding: nothing carried (sample by sample)
                new object[] { 12, 13, 13, 20, 1, 2, 1 },   // 1x1 with padding: the lanes kernel
            };
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (object[] shape in shapes)
                    yield return [.. path, .. shape];
        }

        // BackwardOfSample over a pass's samples: d weight = what it held + Σ over the samples of the definition, whatever the
        // products span held before (set at the first sample), and every sample's input gradient as Backward gives it.
        [Theory]
        [MemberData(nameof(SampleCases))]
        public void BackwardOfSample_SumsThePassSamples(string pathName, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            const int samples = 5;
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 3001 + height * 43 + width * 17 + outChannels + kernel * 11 + stride * 7 + padding);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int inLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, samples * inLength);
            float[] weight = RandomValues(random, outChannels * taps);
            float[] dy = RandomValues(random, samples * outLength);
            float[] dWeight0 = RandomValues(random, outChannels * taps);
            float[] dWeight = (float[])dWeight0.Clone();
            float[] scratch = RandomValues(random, StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding));
            int productsLength = StridedConvolution.WeightGradientProductsLength(inChannels, height, width, outChannels, kernel, stride, padding);
            // The kernel's own length where it carries sums on this machine's default path; the lanes kernel's otherwise, so the
            // Vector512 path is tested with carried sums on every machine that has it.
            float[] products = RandomValues(random, Math.Max(productsLength, (outChannels + 15) / 16 * 16 * taps));
            float[] packed = new float[Math.Max(StridedConvolution.PackedInputGradientLength(inChannels, outChannels, kernel),
                StridedConvolution.InputGradientWeightsLength(inChannels, height, width, outChannels, kernel, stride, padding))];
            StridedConvolution.PackInputGradientWeights(weight, inChannels, height, width, outChannels, kernel, stride, padding, packed);
            float[] dx = new float[inLength], dxAlone = new float[inLength], scratchAlone = new float[scratch.Length];
            for (int n = 0; n < samples; n++)
            {
                StridedConvolution.BackwardOn(x.AsSpan(n * inLength, inLength), inChannels, height, width, weight, dy.AsSpan(n * outLength, outLength), outChannels,
                    kernel, stride, padding, dWeight, dx, scratch, packed, path, products, n, samples);
                StridedConvolution.BackwardOn(x.AsSpan(n * inLength, inLength), inChannels, height, width, weight, dy.AsSpan(n * outLength, outLength), outChannels,
                    kernel, stride, padding, default, dxAlone, scratchAlone, packed, path);
                Assert.Equal(dxAlone, dx);
            }
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int t = 0; t < taps; t++)
                {
                    int ic = t / (kernel * kernel), ky = t / kernel % kernel, kx = t % kernel;
                    double sum = dWeight0[oc * taps + t], scale = Math.Abs(sum);
                    for (int n = 0; n < samples; n++)
                        for (int oy = 0; oy < outHeight; oy++)
                            for (int ox = 0; ox < outWidth; ox++)
                            {
                                int iy = oy * stride + ky - padding, ix = ox * stride + kx - padding;
                                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                double term = (double)dy[n * outLength + (oc * outHeight + oy) * outWidth + ox] * x[n * inLength + (ic * height + iy) * width + ix];
                                sum += term;
                                scale += Math.Abs(term);
                            }
                    float actual = dWeight[oc * taps + t];
                    if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                        Assert.Fail($"{path}: dW[{oc},{t}] = {actual}, expected {sum}");
                }
            }
        }

        // BackwardOfSample_SumsThePassSamples compares each sample's dx with the weight gradient run before it against dx alone:
        // the input gradient then reads the d y the weight gradient padded (StridedWinogradConvolution.SharesPaddedGradient).
        // That comparison tests the reuse only where it happens: on the strided network's Winograd layers and ResNet-8's it does.
        [Theory]
        [InlineData(32, 32, 32, 64)]
        [InlineData(64, 16, 16, 128)]
        [InlineData(32, 16, 16, 64)]
        public void StridedNetworkLayers_InputGradientReadsTheWeightGradientsPaddedOutputGradient(int inChannels, int height, int width, int outChannels)
        {
            int weightTile = StridedConvolution.WeightGradientTileFor(inChannels, height, width, outChannels, 3, 2, 1);
            int inputTile = StridedConvolution.InputGradientTileFor(inChannels, height, width, outChannels, 3, 2, 1);
            if (weightTile == 0 || inputTile == 0) return; // no Winograd on this machine's path: nothing padded twice
            var weights = StridedConvolution.WeightGradientLayout(inChannels, height, width, outChannels, 1, weightTile);
            var input = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, 1, inputTile);
            Assert.True(StridedWinogradConvolution.SharesPaddedGradient(weights, input));
            Assert.True(System.Linq.Enumerable.Any(SampleCases(), c => (int)c[1] == inChannels && (int)c[2] == height && (int)c[3] == width && (int)c[4] == outChannels && (int)c[6] == 2),
                "BackwardOfSample_SumsThePassSamples should run this shape");
        }

        [Fact]
        public void BackwardOfSample_ChecksItsSample_AndAllocatesNothing()
        {
            float[] x = new float[16 * 8 * 8], w = new float[32 * 16 * 9], dy = new float[32 * 4 * 4], dw = new float[w.Length], dx = new float[x.Length];
            float[] scratch = new float[StridedConvolution.ScratchLength(16, 8, 8, 32, 3, 2, 1)];
            float[] packed = new float[StridedConvolution.InputGradientWeightsLength(16, 8, 8, 32, 3, 2, 1)];
            float[] products = new float[Math.Max(1, StridedConvolution.WeightGradientProductsLength(16, 8, 8, 32, 3, 2, 1))];
            Assert.Throws<ArgumentOutOfRangeException>(() => StridedConvolution.BackwardPackedOfSample(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, packed, products, 3, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => StridedConvolution.BackwardOfSample(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, products, -1, 3));
            if (StridedConvolution.WeightGradientProductsLength(16, 8, 8, 32, 3, 2, 1) > 0)
                Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardOfSample(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, products.AsSpan(1), 0, 3));
            int sample = 0;
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.BackwardPackedOfSample(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, packed, products, sample++ % 4, 4), calls: 100);
        }

        [Fact]
        public void Backward_RejectsShortSpans_AndAllocatesNothing()
        {
            float[] x = new float[16 * 8 * 8], w = new float[32 * 16 * 9], dy = new float[32 * 4 * 4], dw = new float[w.Length], dx = new float[x.Length];
            float[] scratch = new float[StridedConvolution.ScratchLength(16, 8, 8, 32, 3, 2, 1)];
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy.AsSpan(1), 32, 3, 2, 1, dw, dx, scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x.AsSpan(1), 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x, 16, 8, 8, w.AsSpan(1), dy, 32, 3, 2, 1, dw, dx, scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw.AsSpan(1), dx, scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch.AsSpan(0, 10)));
            Assert.Throws<ArgumentOutOfRangeException>(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy, 32, 3, 0, 1, dw, dx, scratch));
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.Backward(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch), calls: 100);
            float[] packed = new float[StridedConvolution.InputGradientWeightsLength(16, 8, 8, 32, 3, 2, 1)];
            StridedConvolution.PackInputGradientWeights(w, 16, 8, 8, 32, 3, 2, 1, packed);
            // Packed weights for another shape are refused on the path that reads them, never read past.
            if (StridedConvolution.InputGradientWeightsLength(16, 8, 8, 32, 3, 2, 1) > 0)
                Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardPacked(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, packed.AsSpan(1)));
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.BackwardPacked(x, 16, 8, 8, w, dy, 32, 3, 2, 1, dw, dx, scratch, packed), calls: 100);
        }

        // Output channels in no whole vector (the lanes kernel with its last block padded) and few of them beyond stems (the
        // phases kernel): nothing allocated, packed per call or prepared.
        [Theory]
        [InlineData(12, 37, 37, 20)]
        [InlineData(12, 37, 37, 5)]
        public void ForwardOnOddChannels_AllocatesNothing(int inChannels, int height, int width, int outChannels)
        {
            int outSide = (height + 2 - 3) / 2 + 1;
            float[] x = new float[inChannels * height * width], w = new float[outChannels * inChannels * 9], b = new float[outChannels];
            float[] y = new float[outChannels * outSide * outSide];
            float[] scratch = new float[StridedConvolution.ScratchLength(inChannels, height, width, outChannels, 3, 2, 1)];
            float[] prepared = new float[StridedConvolution.PreparedLength(inChannels, height, width, outChannels, 3, 2, 1)];
            StridedConvolution.Prepare(w, b, inChannels, height, width, outChannels, 3, 2, 1, prepared);
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.Forward(x, inChannels, height, width, w, b, outChannels, 3, 2, 1, y, scratch, relu: true), calls: 100);
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.ForwardPrepared(x, inChannels, height, width, prepared, outChannels, 3, 2, 1, y, scratch, relu: true), calls: 100);
        }

        // The Vector256 rule of the 1x1 route (session 60, KernelBench strided-pointwise against the Vector256 lanes kernel).
        [Theory]
        [InlineData(64, 56, 56, 128, 0, true)]    // 1.44x
        [InlineData(64, 33, 33, 100, 0, true)]    // 289 cells, 1.16x
        [InlineData(32, 56, 56, 48, 0, false)]    // fewer than 64 channels out: 0.84x
        [InlineData(64, 28, 28, 24, 0, false)]    // 0.81x
        [InlineData(256, 14, 14, 512, 0, false)]  // 49 cells: 0.93x
        [InlineData(512, 14, 14, 1024, 0, true)]  // 49 cells, Cin·Cout 2^19: 1.16x
        [InlineData(512, 14, 14, 1024, 1, false)] // padding: never
        public void PointwiseRoute_OnVector256_FromSixtyFourChannelsOnLargePlanes_OrLargeFilters(int inChannels, int height, int width, int outChannels, int padding, bool subsampled) =>
            Assert.Equal(subsampled, StridedConvolution.UsesPointwise(inChannels, height, width, outChannels, 1, 2, padding, DirectConvolution.KernelPath.Vector256));

        // 1x1 stride 2 without padding: subsampled for PointwiseConvolution (its block copies too: 64 channels on 20x20),
        // or the lanes kernel reading x in place; nothing allocated, packed per call or prepared.
        [Theory]
        [InlineData(20, 37, 37, 40)]
        [InlineData(64, 40, 40, 40)]
        [InlineData(36, 28, 28, 52)]
        [InlineData(256, 14, 14, 512)]
        public void ForwardOn1x1Stride2_AllocatesNothing(int inChannels, int height, int width, int outChannels)
        {
            int outSide = (height - 1) / 2 + 1;
            float[] x = new float[inChannels * height * width], w = new float[outChannels * inChannels], b = new float[outChannels];
            float[] y = new float[outChannels * outSide * outSide];
            float[] scratch = new float[StridedConvolution.ScratchLength(inChannels, height, width, outChannels, 1, 2, 0)];
            float[] prepared = new float[StridedConvolution.PreparedLength(inChannels, height, width, outChannels, 1, 2, 0)];
            StridedConvolution.Prepare(w, b, inChannels, height, width, outChannels, 1, 2, 0, prepared);
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.Forward(x, inChannels, height, width, w, b, outChannels, 1, 2, 0, y, scratch, relu: true), calls: 20);
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.ForwardPrepared(x, inChannels, height, width, prepared, outChannels, 1, 2, 0, y, scratch, relu: false), calls: 20);
        }

        [Fact]
        public void Forward_RejectsShortSpans()
        {
            float[] x = new float[16 * 8 * 8], w = new float[16 * 16 * 9], y = new float[16 * 4 * 4];
            float[] scratch = new float[StridedConvolution.ScratchLength(16, 8, 8, 16, 3, 2, 1)];
            Assert.Throws<ArgumentException>(() => StridedConvolution.Forward(x, 16, 8, 8, w, default, 16, 3, 2, 1, y.AsSpan(1), scratch, relu: false));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Forward(x.AsSpan(1), 16, 8, 8, w, default, 16, 3, 2, 1, y, scratch, relu: false));
            Assert.Throws<ArgumentException>(() => StridedConvolution.Forward(x, 16, 8, 8, w, default, 16, 3, 2, 1, y, scratch.AsSpan(0, 10), relu: false));
            Assert.Throws<ArgumentOutOfRangeException>(() => StridedConvolution.Forward(x, 16, 8, 8, w, default, 16, 3, 0, 1, y, scratch, relu: false));
        }
    }
}
