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
    /// Winograd F(4x4, 3x3) (<see cref="WinogradF4Convolution"/>, Vector512 only) against the definition in double
    /// precision on every shape, whatever <see cref="WinogradF4Convolution.Pays"/> says: channel counts that fill no
    /// whole vector (1, 3, 5, 17), maps that are not multiples of the 4x4 tile (partial tiles at the bottom and right),
    /// padding 0 to 2, ReLU, fused pooling, no bias.
    /// </summary>
    /// <remarks>
    /// The bound: |y − y_exact| ≤ 2e-5 · S with S = |bias| + Σ |x·w| over the cell's 3x3xC window (at least 1e-30).
    /// F(4x4)'s transforms (factors up to 8 and 5, and 1/6, 1/24) lose about ten times more than the direct kernel, which
    /// stays within 1e-6 · S. On these unit-scale random data the worst cell of each shape measured 3e-7 to 3e-6 · S with
    /// 16 or more channels, and 9.3e-6 · S at worst (1 input channel, padding 2: a corner cell whose window holds one
    /// product while its tile's transforms carry the whole 6x6 window). A wrong coefficient, tap or tile is off by about
    /// S/10 or more.
    /// </remarks>
    public sealed class WinogradF4ConvolutionTests
    {
        [Theory]
        [InlineData(1, 1)]
        [InlineData(9, 5)]    // 5 vectors: blocks of 2 and 3
        [InlineData(64, 6)]   // blocks of 3 and 3
        [InlineData(130, 16)] // four blocks of 4
        [InlineData(2048, 17)]
        public void FilterAt_PlacesEveryRowAndLane_OnceEach_ABlocksRowsTogether(int depth, int outGroups)
        {
            // The filters' layout Products reads: a permutation of [depth][lanes] in which each block of output vectors
            // (VectorBlock) keeps its rows one after the other.
            int lanes = outGroups * 16;
            var seen = new bool[depth * lanes];
            int blocks = WinogradF4Convolution.VectorBlocks(outGroups);
            for (int block = 0; block < blocks; block++)
            {
                var (start, vectors) = WinogradF4Convolution.VectorBlock(outGroups, blocks, block);
                for (int row = 0; row < depth; row++)
                    for (int lane = start * 16; lane < (start + vectors) * 16; lane++)
                    {
                        int at = WinogradF4Convolution.FilterAt(row, lane, depth, outGroups);
                        Assert.Equal(depth * start * 16 + row * vectors * 16 + lane - start * 16, at);
                        Assert.False(seen[at], $"row {row} lane {lane}: {at} taken twice");
                        seen[at] = true;
                    }
            }
            Assert.All(seen, Assert.True);
        }

        private const double Tolerance = 2e-5;

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 16, 32, 32, 16, 1, true },    // ResNet-8's first stage
                new object[] { 32, 16, 16, 32, 1, false },   // ResNet-8's second stage
                new object[] { 64, 8, 8, 64, 1, true },      // ResNet-8's third stage
                new object[] { 32, 16, 16, 64, 1, true },    // CIFAR
                new object[] { 3, 32, 32, 16, 1, true },     // a stem: 3 channels
                new object[] { 1, 4, 4, 1, 0, false },       // one 2x2 output, a tile mostly outside it
                new object[] { 5, 9, 11, 17, 0, true },      // odd everything, no padding
                new object[] { 17, 13, 7, 5, 2, false },     // padding 2 (an input gradient's), 17 channels: a group of 1
                new object[] { 64, 33, 33, 3, 1, true },     // 33x33: one cell past the last whole tile
                new object[] { 16, 6, 30, 48, 1, false },    // 3 output vectors, one row of tiles
                new object[] { 3, 4, 5, 64, 2, true },       // small map, padding 2
                new object[] { 32, 18, 18, 32, 0, true },    // 16x16 without padding
                new object[] { 1, 33, 4, 1, 1, false },
                new object[] { 40, 20, 20, 80, 1, true },    // 5 output vectors: blocks of 3 + 2, chunks of tiles
                new object[] { 130, 8, 8, 20, 1, false },    // 9 input groups, a partial last one
                new object[] { 128, 24, 22, 128, 1, true },  // tiles in two chunks (the first test below checks that)
                new object[] { 256, 7, 7, 512, 1, false },   // 18 MiB of filters on a 7x7 output (four tiles, the last row and column partly outside)
            };
            var random = new Random(47);
            int[] channels = { 1, 3, 5, 16, 17, 32, 64 };
            for (int trial = 0; trial < 12; trial++)
            {
                int padding = random.Next(0, 3);
                shapes.Add(new object[]
                {
                    channels[random.Next(channels.Length)], random.Next(4, 34), random.Next(4, 34), channels[random.Next(channels.Length)],
                    padding, random.Next(2) == 0,
                });
            }
            return shapes;
        }

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (!WinogradF4Convolution.Runs(3)) return; // AVX-512, or AVX2 and FMA; DirectConvolutionTests cover these layers on the other paths
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            var layout = new WinogradF4Convolution.Layout(inChannels, height, width, outChannels, padding);
            float[] filters = new float[layout.FiltersLength];
            WinogradF4Convolution.TransformFilters(weight, filters, layout);
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 3, 1, padding);
            float[] scratch = Filled(layout.ScratchLength, float.NaN); // whatever the scratch held must not reach y
            foreach (bool relu in new[] { false, true })
            {
                float[] y = Filled(outLength + 5, float.NaN);
                WinogradF4Convolution.Forward(x, filters, bias, y.AsSpan(0, outLength), scratch, relu, pool: false, layout);
                AssertWithinScale(y, outLength, expected, scale, relu, Tolerance, "F(4x4, 3x3)");
            }
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardPooled_EqualsConvolutionThenPooling_BitForBit(int inChannels, int height, int width, int outChannels, int padding, bool hasBias) =>
            AssertPooledEqualsConvolutionThenPooling(inChannels, height, width, outChannels, 3, padding, hasBias);

        /// <summary>
        /// The fused 2x2 max pooling of a <paramref name="kernel"/> x <paramref name="kernel"/> layer (3: F(4x4, 3x3); 5:
        /// F(2x2, 5x5)) against the unfused output pooled by <see cref="Pooling.MaxPool2x2(ReadOnlySpan{float}, int, int, int, Span{float}, bool)"/>,
        /// bit for bit, with ties, −0 against +0 and a NaN among the inputs.
        /// </summary>
        internal static void AssertPooledEqualsConvolutionThenPooling(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool hasBias)
        {
            if (!WinogradF4Convolution.Runs(kernel)) return;
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outHeight < 2 || outWidth < 2) return; // no 2x2 window
            var random = new Random(inChannels * 7 + height * 3 + width + outChannels * 11 + padding);
            float[] x = RandomValues(random, inChannels * height * width);
            for (int i = 0; i < x.Length; i += 13) x[i] = 0f;
            float[] weight = RandomValues(random, outChannels * inChannels * kernel * kernel);
            for (int i = 0; i < weight.Length; i += 5) weight[i] = 0f; // with the zeros above: ties, and −0 against +0
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            if (inChannels > 2) x[inChannels * height * width / 2] = float.NaN; // a NaN wins its windows, as in PyTorch
            var layout = new WinogradF4Convolution.Layout(inChannels, height, width, outChannels, padding, kernel);
            float[] filters = new float[layout.FiltersLength];
            WinogradF4Convolution.TransformFilters(weight, filters, layout);
            float[] scratch = Filled(layout.ScratchLength, float.NaN);
            int pooledLength = outChannels * (outHeight / 2) * (outWidth / 2);
            foreach (bool relu in new[] { false, true })
            {
                float[] full = new float[outChannels * outHeight * outWidth], expected = new float[pooledLength];
                WinogradF4Convolution.Forward(x, filters, bias, full, scratch, relu, pool: false, layout);
                Pooling.MaxPool2x2(full, outChannels, outHeight, outWidth, expected, vector: false);
                float[] fused = Filled(pooledLength + 3, 7f);
                WinogradF4Convolution.Forward(x, filters, bias, fused.AsSpan(0, pooledLength), scratch, relu, pool: true, layout);
                for (int i = 0; i < pooledLength; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(fused[i]))
                        Assert.Fail($"relu={relu}: pooled[{i}] = {fused[i]}, expected {expected[i]}");
                }
                for (int i = pooledLength; i < fused.Length; i++) Assert.Equal(7f, fused[i]);
            }
        }

        [Theory]
        [InlineData(16, 8, 8, 32, 1)]
        [InlineData(5, 9, 7, 3, 0)]   // the gradient's convolution has padding 2
        [InlineData(17, 6, 11, 33, 2)] // and padding 0
        [InlineData(64, 16, 16, 64, 1)]
        public void TransformFiltersTransposed_GivesTheInputGradient(int inChannels, int height, int width, int outChannels, int padding)
        {
            if (!WinogradF4Convolution.Runs(3)) return;
            var random = new Random(inChannels + 3 * height + 5 * width + 7 * outChannels + padding);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            var layout = new WinogradF4Convolution.Layout(outChannels, outHeight, outWidth, inChannels, 2 - padding);
            Assert.Equal(height, layout.OutHeight);
            Assert.Equal(width, layout.OutWidth);
            float[] filters = new float[layout.FiltersLength];
            WinogradF4Convolution.TransformFiltersTransposed(weight, outChannels, inChannels, filters, layout);
            float[] dx = Filled(inChannels * height * width, float.NaN);
            WinogradF4Convolution.Forward(dy, filters, ReadOnlySpan<float>.Empty, dx, Filled(layout.ScratchLength, float.NaN), relu: false, pool: false, layout);
            // dx[ic][iy][ix] = Σ over oc, ky, kx of w[oc][ic][ky][kx] · dy[oc][iy + p − ky][ix + p − kx], where that cell exists.
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int iy = 0; iy < height; iy++)
                {
                    for (int ix = 0; ix < width; ix++)
                    {
                        double sum = 0, scale = 0;
                        for (int oc = 0; oc < outChannels; oc++)
                        {
                            for (int ky = 0; ky < 3; ky++)
                            {
                                int oy = iy + padding - ky;
                                if (oy < 0 || oy >= outHeight) continue;
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int ox = ix + padding - kx;
                                    if (ox < 0 || ox >= outWidth) continue;
                                    double product = (double)weight[((oc * inChannels + ic) * 3 + ky) * 3 + kx] * dy[(oc * outHeight + oy) * outWidth + ox];
                                    sum += product;
                                    scale += Math.Abs(product);
                                }
                            }
                        }
                        float actual = dx[(ic * height + iy) * width + ix];
                        if (!(Math.Abs(actual - sum) <= Tolerance * Math.Max(scale, 1e-30)))
                            Assert.Fail($"dx[{ic},{iy},{ix}] = {actual}, expected {sum}");
                    }
                }
            }
        }

        [Fact]
        public void TransformFilters_IsGgGt_WithZeroLanesPastTheLastChannel()
        {
            // One filter: U = G g Gᵀ computed here in double, and the 15 lanes of the other output channels zero.
            float[] weight = { 1, -2, 3, 0.5f, 4, -1, 2, 7, -3 };
            double[,] g = { { 0.25, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 }, { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 } };
            var layout = new WinogradF4Convolution.Layout(1, 4, 4, 1, 0);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            WinogradF4Convolution.TransformFilters(weight, filters, layout);
            int positionStride = layout.FiltersLength / 36;
            for (int a = 0; a < 6; a++)
            {
                for (int b = 0; b < 6; b++)
                {
                    double u = 0;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) u += g[a, i] * weight[i * 3 + j] * g[b, j];
                    int at = (a * 6 + b) * positionStride;
                    Assert.True(Math.Abs(filters[at] - u) <= 1e-6 * (1 + Math.Abs(u)), $"U[{a},{b}] = {filters[at]}, expected {u}");
                    for (int lane = 1; lane < 16; lane++) Assert.Equal(0f, filters[at + lane]);
                }
            }
        }

        // Unpack's two ways: whole groups on planes not a multiple of 1,024 floats apart transposed straight into the planes,
        // the rest (4 KB planes, the last group's channels, the last cells) through staging. Exact copies either way.
        [Theory]
        [InlineData(49, 16)] [InlineData(49, 20)] [InlineData(117, 40)] [InlineData(225, 36)] [InlineData(256, 64)]
        [InlineData(512, 16)] [InlineData(1024, 32)] [InlineData(1024, 20)] [InlineData(4096, 16)] [InlineData(63, 17)] [InlineData(4, 16)]
        public void Unpack_CopiesEachLaneToItsChannelsPlane(int cells, int outChannels)
        {
            if (!Available) return; // the transposes are AVX-512
            var random = new Random(cells * 100 + outChannels);
            int groups = (outChannels + 15) / 16, groupStride = cells * 16;
            float[] outputs = RandomValues(random, groups * groupStride + 16 * 16); // Unpack may read up to 15 cells past the last
            float[] y = Filled(outChannels * cells + 7, float.NaN), staging = Filled(1024, float.NaN);
            WinogradF4Convolution.Unpack(outputs, y.AsSpan(0, outChannels * cells), staging, cells, outChannels, groupStride);
            for (int c = 0; c < outChannels; c++)
                for (int cell = 0; cell < cells; cell++)
                    Assert.True(outputs[c / 16 * groupStride + cell * 16 + c % 16] == y[c * cells + cell], $"channel {c}, cell {cell}");
            for (int i = outChannels * cells; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "written past y");
        }

        [Theory]
        [InlineData(16, 16)] [InlineData(16, 17)] [InlineData(49, 16)] [InlineData(9, 49)] [InlineData(1024, 1024)]
        public void Transpose16_WritesColumnsAsRowsTargetStrideApart(int stride, int targetStride)
        {
            if (!Available) return;
            var random = new Random(stride * 7 + targetStride);
            float[] source = RandomValues(random, 15 * stride + 16), target = Filled(15 * targetStride + 16 + 3, float.NaN);
            DirectConvolution.Transpose16(ref source[0], stride, ref target[0], targetStride);
            var written = new bool[target.Length];
            for (int i = 0; i < 16; i++)
                for (int j = 0; j < 16; j++)
                {
                    Assert.True(source[i * stride + j] == target[j * targetStride + i], $"row {i}, column {j}");
                    written[j * targetStride + i] = true;
                }
            for (int k = 0; k < target.Length; k++)
                if (!written[k]) Assert.True(float.IsNaN(target[k]), $"wrote {k} outside the block");
        }

        [Fact]
        public void Forward_AllocatesNothing_AndPaysWhereItMeasuredFaster()
        {
            Assert.False(WinogradF4Convolution.Pays(32, 16, 16, 32, 7, 3), "a 7x7 kernel");
            Assert.False(WinogradF4Convolution.Pays(3, 32, 32, 16, 3, 1), "a 3-channel stem");
            Assert.False(WinogradF4Convolution.Pays(8, 32, 32, 8, 3, 1), "8 channels in and out: both groups half empty");
            Assert.False(WinogradF4Convolution.Pays(4, 32, 32, 32, 3, 1), "4 channels in: the generator keeps no filters");
            Assert.False(WinogradF4Convolution.Pays(12, 6, 6, 48, 3, 1), "fewer than 16 channels under 64 cells");
            if (!WinogradF4Convolution.Runs(3))
            {
                Assert.False(WinogradF4Convolution.Pays(32, 16, 16, 32, 3, 1), "neither AVX-512 nor AVX2 and FMA, or SIMD switched off");
                return;
            }
            if (!WinogradF4Convolution.Wide)
            {
                // The Vector256 kernels against the Vector256 direct one (session 57).
                Assert.True(WinogradF4Convolution.Pays(16, 32, 32, 16, 3, 1), "ResNet-8's first stage");
                Assert.True(WinogradF4Convolution.Pays(16, 4, 4, 16, 3, 1), "a 4x4 output with 16 channels");
                Assert.True(WinogradF4Convolution.Pays(24, 16, 16, 12, 3, 1), "24 -> 12");
                Assert.True(WinogradF4Convolution.Pays(128, 4, 4, 128, 3, 1), "a 4x4 output, 128 -> 128");
                Assert.False(WinogradF4Convolution.Pays(128, 4, 4, 256, 3, 1), "a 4x4 output past 128 -> 128: the lanes kernel (session 61)");
                Assert.False(WinogradF4Convolution.Pays(384, 4, 4, 384, 3, 1), "21 MiB of filters for one tile");
                Assert.True(WinogradF4Convolution.Pays(384, 8, 8, 384, 3, 1), "21 MiB of filters for four tiles");
                Assert.True(WinogradF4Convolution.Pays(512, 8, 8, 512, 3, 1), "36 MiB for four whole tiles");
                Assert.False(WinogradF4Convolution.Pays(512, 7, 7, 512, 3, 1), "36 MiB for 49 of 64 cells");
                Assert.False(WinogradF4Convolution.Pays(16, 32, 32, 8, 3, 1), "16 -> 8");
                Assert.False(WinogradF4Convolution.Pays(8, 64, 64, 16, 3, 1), "8 -> 16");
                Assert.False(WinogradF4Convolution.Pays(256, 2, 2, 256, 3, 1), "a 2x2 output");
                Assert.True(WinogradF4Convolution.Pays(64, 16, 16, 64, 5, 2), "F(2x2, 5x5) on Vector256 (session 60)");
                Assert.False(WinogradF4Convolution.Pays(8, 16, 16, 16, 5, 2), "F(2x2, 5x5) from 8 channels on Vector256");
                AssertAllocatesNothing();
                return;
            }
            Assert.False(WinogradF4Convolution.Pays(16, 4, 4, 16, 3, 1), "a 4x4 map with 16 channels");
            Assert.True(WinogradF4Convolution.Pays(16, 32, 32, 16, 3, 1), "ResNet-8's first stage");
            Assert.True(WinogradF4Convolution.Pays(16, 32, 32, 8, 3, 1), "16 -> 8 (session 47)");
            Assert.True(WinogradF4Convolution.Pays(48, 32, 32, 12, 3, 1), "DenseNet's growth of 12");
            Assert.True(WinogradF4Convolution.Pays(8, 64, 64, 16, 3, 1), "8 -> 16 on a large map");
            Assert.True(WinogradF4Convolution.Pays(64, 8, 8, 64, 3, 1), "ResNet-8's last stage");
            Assert.True(WinogradF4Convolution.Pays(32, 4, 4, 32, 3, 1), "a 4x4 map with 32 channels");
            // Wide layers: the filters, read once per call, against the tiles they serve.
            Assert.False(WinogradF4Convolution.Pays(512, 4, 4, 512, 3, 1), "VGG-11's 512 channels on 4x4");
            Assert.True(WinogradF4Convolution.Pays(256, 8, 8, 256, 3, 1), "9 MiB of filters for four tiles");
            Assert.True(WinogradF4Convolution.Pays(256, 5, 5, 256, 3, 1), "9 MiB for 25 of 64: within half the L3");
            Assert.False(WinogradF4Convolution.Pays(512, 2, 2, 512, 5, 1), "F(2x2, 5x5)'s rule did not change");
            // Where 512-bit multiply-adds run at half rate (session 47): one tile up to Cin·Cout 65536; past half the L3 from
            // four tiles where half their cells are real. Elsewhere neither.
            Assert.Equal(Simd.HalfRateVector512, WinogradF4Convolution.Pays(512, 7, 7, 512, 3, 1));
            foreach (bool halfRate in new[] { true, false })
            {
                bool Fit(int c, int h, int oc) => WinogradF4Convolution.FiltersFitTheirTiles(c, h, h, oc, 3, 1, halfRate);
                Assert.Equal(halfRate, Fit(256, 4, 256));  // 9 MiB of filters for one tile
                Assert.Equal(halfRate, Fit(512, 8, 512));  // 36 MiB for four whole tiles
                Assert.Equal(halfRate, Fit(512, 7, 512));  // ResNet-50's last stage: 49 of the 64 cells real
                Assert.False(Fit(256, 4, 512));            // 18 MiB for one tile
                Assert.False(Fit(512, 5, 512));            // 36 MiB for 25 real cells of 64
                Assert.True(Fit(256, 8, 256));             // within half the L3
                Assert.False(WinogradF4Convolution.FiltersFitTheirTiles(512, 8, 8, 512, 5, 2, halfRate)); // 5x5 kernels keep their limits
            }
            Assert.True(WinogradF4Convolution.Pays(128, 16, 16, 128, 3, 1), "ResNet-18's second stage at 64x64");
            AssertAllocatesNothing();
        }

        private static void AssertAllocatesNothing()
        {
            Assert.True(new WinogradF4Convolution.Layout(128, 24, 22, 128, 1).Chunks > 1, "a shape of the tests covers several chunks");
            var layout = new WinogradF4Convolution.Layout(32, 16, 16, 32, 1);
            float[] x = new float[32 * 16 * 16], w = new float[32 * 32 * 9], b = new float[32], y = new float[32 * 16 * 16];
            float[] filters = new float[layout.FiltersLength], scratch = new float[layout.ScratchLength];
            Infrastructure.Allocations.AssertNone(() =>
            {
                WinogradF4Convolution.TransformFilters(w, filters, layout);
                WinogradF4Convolution.Forward(x, filters, b, y, scratch, relu: true, pool: false, layout);
                WinogradF4Convolution.Forward(x, filters, b, y, scratch, relu: true, pool: true, layout);
            }, calls: 20);
        }
    }
}
