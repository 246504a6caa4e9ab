using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// MobileNetV1-style chains: 1x1 layers and 3x3 depthwise layers (stride 1 and 2) with batch-norm and ReLU, ReLU6 or
    /// nothing after them, on maps of odd sizes: a chain of five, one inside a residual branch, and a 1x1 layer onto 24
    /// channels that ends no chain.
    /// </summary>
    [Network(8, 13, 11)]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(48, 3, Padding = 1, Groups = 48, Bias = false)] [BatchNorm]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU6]
    [Residual]
        [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU6]
        [Conv2d(64, 3, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU6]
        [Conv2d(32, 1, Bias = false)] [BatchNorm]
    [End]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(24, 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedChainNet { }

    /// <summary>
    /// A chain without batch-norm: 1x1 and depthwise layers with and without biases, each with a ReLU or ReLU6 (packed from
    /// the parameters), then a 1x1 layer that absorbs nothing and so ends no chain.
    /// </summary>
    [Network(8, 13, 11)]
    [Conv2d(32, 1)] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32)] [ReLU6]
    [Conv2d(48, 1, Bias = false)] [ReLU]
    [Conv2d(48, 3, Padding = 1, Groups = 48, Bias = false)] [ReLU]
    [Conv2d(32, 1)] [ReLU6]
    [Conv2d(32, 1)]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedChainNoBatchNormNet { }

    /// <summary>
    /// Chains whose layers absorb activations the kernels do not apply (SiLU, GELU in both forms, Hardswish, Tanh, LeakyReLU),
    /// run in place over the blocked regions: a 1x1 layer's padded output for the depthwise layer (its padding must stay
    /// zero), a depthwise layer's blocked output, and y at a chain's end, with and without batch-norm.
    /// </summary>
    [Network(8, 9, 7)]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [SiLU]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [GELU]
    [Conv2d(48, 1, Bias = false)] [BatchNorm] [Hardswish]
    [Conv2d(48, 3, Stride = 2, Padding = 1, Groups = 48)] [Tanh]
    [Conv2d(32, 1)] [LeakyReLU(0.2)]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [GELU(Approximate = GeluApproximation.Tanh)]
    [Conv2d(40, 1, Bias = false)] [BatchNorm] [SiLU]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedActivationsNet { }

    /// <summary>
    /// Layers that absorb nothing, run channel-blocked: a ConvNeXt-style block's 1x1 projection (128 -> 32, a bias, the
    /// residual join after it) and one without a bias (160 -> 48) alone, and a depthwise layer inside a chain.
    /// </summary>
    [Network(32, 6, 5)]
    [Residual] [Conv2d(32, 7, Padding = 3, Groups = 32)] [Conv2d(128, 1)] [GELU] [Conv2d(32, 1)] [End]
    [Conv2d(32, 1)] [ReLU] [Conv2d(32, 3, Padding = 1, Groups = 32)] [Conv2d(160, 1)] [ReLU]
    [Conv2d(48, 1, Bias = false)]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedAbsorbingNothingNet { }

    /// <summary>
    /// Chains through 5x5 depthwise layers (padding 2; MobileNetV3's and MnasNet's): stride 2 and 1, with Hardswish, ReLU6 and
    /// ReLU, one in a residual branch, on odd maps; and a 3x3 layer after them in the same chain.
    /// </summary>
    [Network(8, 15, 13)]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [Hardswish]
    [Conv2d(32, 5, Stride = 2, Padding = 2, Groups = 32, Bias = false)] [BatchNorm] [Hardswish]
    [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [Residual]
        [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU6]
        [Conv2d(48, 5, Padding = 2, Groups = 48, Bias = false)] [BatchNorm] [ReLU6]
        [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [End]
    [Conv2d(32, 1)] [ReLU]
    [Conv2d(32, 5, Padding = 2, Groups = 32)] [ReLU]
    [Conv2d(48, 1)] [ReLU]
    [Conv2d(48, 3, Padding = 1, Groups = 48)] [ReLU]
    [Conv2d(32, 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedFiveByFiveNet { }

    /// <summary>
    /// Chains through channels off the blocks (MnasNet's 72 and 120): 1x1 layers writing a partly filled last block for a
    /// depthwise layer onto at most 64 cells, and reading one; a residual branch of them; and a 72-channel one onto 16x16
    /// that stays on the NCHW kernels.
    /// </summary>
    [Network(24, 16, 16)]
    [Conv2d(72, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(72, 5, Stride = 2, Padding = 2, Groups = 72, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(40, 1, Bias = false)] [BatchNorm]
    [Residual]
        [Conv2d(120, 1, Bias = false)] [BatchNorm] [Hardswish]
        [Conv2d(120, 5, Padding = 2, Groups = 120, Bias = false)] [BatchNorm] [Hardswish]
        [Conv2d(40, 1, Bias = false)] [BatchNorm]
    [End]
    [Conv2d(56, 1)] [ReLU6]
    [Conv2d(56, 3, Padding = 1, Groups = 56)] [ReLU6]
    [Conv2d(32, 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedPartialBlocksNet { }

    /// <summary>An inverted residual on a large map whose chain ends onto 24 channels (a partly filled block) on 48x48 cells.</summary>
    [Network(16, 96, 96)]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedLargeMapNet { }

    /// <summary>
    /// 1x1 layers in no chain that run channel-blocked alone: from 128 channels onto fewer (on a 6x6 map), and on a 3x3 map,
    /// the last onto 40 channels (a half-filled last block); between them a 1x1 layer from 32 channels on 6x6 that stays on
    /// the NCHW kernel.
    /// </summary>
    [Network(16, 6, 6)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(64, 1, Bias = false)] [BatchNorm]
    [MaxPool(2)]
    [Conv2d(96, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(40, 1)] [ReLU6]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class BlockedAloneNet { }

    /// <summary>
    /// The channel-blocked kernels (<see cref="ChannelBlocks"/>) against their definition summed the same way (from the bias,
    /// over the input channels or the taps in order, one fused multiply-add at a time): the same floats, on the Vector512
    /// tiles and on the scalar loops; a generated network whose evaluation runs them against its unfused forward.
    /// </summary>
    public sealed class ChannelBlocksTests
    {
        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        private static float Clamp(float v, float low, float high)
        {
            v = v < low ? low : v;
            return v > high ? high : v;
        }

        // A 1x1 layer's definition, NCHW, summed as the kernel sums (from the bias over the input channels in order, one fused
        // multiply-add at a time), clamped to ReLU6's bounds.
        private static float[] PointwiseDefinition(float[] x, float[] weight, float[] bias, int inChannels, int outChannels, int cells)
        {
            var expected = new float[outChannels * cells];
            for (int oc = 0; oc < outChannels; oc++)
                for (int i = 0; i < cells; i++)
                {
                    float sum = bias[oc];
                    for (int c = 0; c < inChannels; c++) sum = MathF.FusedMultiplyAdd(x[c * cells + i], weight[oc * inChannels + c], sum);
                    expected[oc * cells + i] = Clamp(sum, 0f, 6f);
                }
            return expected;
        }

        public static IEnumerable<object[]> PointwiseShapes()
        {
            // inChannels, height, width, outChannels; on both paths, from NCHW and from blocks
            foreach (bool vector in new[] { true, false })
            {
                yield return new object[] { vector, 16, 56, 56, 32 };  // MobileNetV1's first 1x1 layer: rows of 7 x 8 cells
                yield return new object[] { vector, 32, 7, 7, 48 };    // a 7-cell tile, three blocks
                yield return new object[] { vector, 64, 13, 11, 80 };  // 8 + 3 cells a row, five blocks (2 + 3)
                yield return new object[] { vector, 48, 1, 1, 16 };    // one cell, one block
                yield return new object[] { vector, 128, 4, 9, 64 };   // 8 + 1 cells, four blocks (2 + 2)
                yield return new object[] { vector, 272, 3, 5, 32 };   // input channels in three runs (96, 96, 80), sums kept in y between them
                yield return new object[] { vector, 200, 2, 3, 16 };   // NCHW: two runs (112, 88), the last not whole blocks
                // NCHW inputs of 512 KB or more, whose cells the tiles ask for ahead (PrefetchInput): rows of 5 x 8 + 7 cells;
                // two runs (80, 64) on a 31x30 map.
                yield return new object[] { vector, 48, 61, 47, 32 };
                yield return new object[] { vector, 144, 31, 30, 32 };
            }
        }

        [Theory]
        [MemberData(nameof(PointwiseShapes))]
        public void Pointwise_IsItsDefinition_BitForBit_EitherLayoutInAndOut(bool vector, int inChannels, int height, int width, int outChannels)
        {
            var random = new Random(inChannels + height * 7 + width + outChannels);
            int cells = height * width;
            float[] x = RandomValues(random, inChannels * cells), weight = RandomValues(random, outChannels * inChannels), bias = RandomValues(random, outChannels);
            float[] packed = new float[outChannels * inChannels];
            ChannelBlocks.PackPointwise(weight, inChannels, outChannels, packed);
            var expected = PointwiseDefinition(x, weight, bias, inChannels, outChannels, cells);
            try
            {
                ChannelBlocks.VectorTiles = vector;
                // NCHW in, blocked and padded out: every interior value, a zero border, nothing past the map.
                int paddedLength = ChannelBlocks.PaddedLength(outChannels, height, width);
                float[] padded = Enumerable.Repeat(float.NaN, paddedLength + 7).ToArray();
                ChannelBlocks.Pointwise(x, blockedInput: false, inChannels, height, width, packed, bias, outChannels, padded, nchwOutput: false, default, 0f, 6f);
                for (int oc = 0; oc < outChannels; oc++)
                    for (int r = 0; r < height + 2; r++)
                        for (int col = 0; col < width + 2; col++)
                        {
                            float actual = padded[(((oc / 16) * (height + 2) + r) * (width + 2) + col) * 16 + oc % 16];
                            bool border = r == 0 || col == 0 || r == height + 1 || col == width + 1;
                            float want = border ? 0f : expected[oc * cells + (r - 1) * width + col - 1];
                            if (!actual.Equals(want)) Assert.Fail($"padded [{oc}, {r}, {col}] = {actual}, expected {want}");
                        }
                Assert.All(padded.Skip(paddedLength), v => Assert.True(float.IsNaN(v)));

                // Blocked in (the same x in blocks), NCHW out.
                if (inChannels % 16 == 0)
                {
                    float[] blocked = new float[inChannels * cells];
                    for (int c = 0; c < inChannels; c++)
                        for (int i = 0; i < cells; i++) blocked[((c / 16) * cells + i) * 16 + c % 16] = x[c * cells + i];
                    float[] nchw = Enumerable.Repeat(float.NaN, outChannels * cells + 5).ToArray();
                    ChannelBlocks.Pointwise(blocked, blockedInput: true, inChannels, height, width, packed, bias, outChannels, nchw, nchwOutput: true, new float[outChannels * cells], 0f, 6f);
                    Assert.Equal(expected, nchw.Take(outChannels * cells).ToArray());
                    Assert.All(nchw.Skip(outChannels * cells), v => Assert.True(float.IsNaN(v)));
                }
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
        }

        [Theory]
        [InlineData(true, 32, 56, 56, 2, 3)]
        [InlineData(true, 16, 13, 11, 1, 3)]
        [InlineData(true, 48, 13, 11, 2, 3)]
        [InlineData(true, 64, 7, 7, 1, 3)]
        [InlineData(true, 16, 1, 1, 1, 3)]
        [InlineData(true, 16, 2, 3, 2, 3)]
        [InlineData(false, 32, 13, 11, 2, 3)]
        [InlineData(false, 16, 9, 10, 1, 3)]
        [InlineData(true, 32, 16, 16, 2, 5)]   // MobileNetV3's and MnasNet's 5x5 stride-2 layers onto 8x8
        [InlineData(true, 48, 8, 8, 1, 5)]     // MnasNet's 5x5 on 8x8
        [InlineData(true, 16, 13, 11, 1, 5)]
        [InlineData(true, 16, 9, 7, 2, 5)]
        [InlineData(true, 16, 1, 2, 1, 5)]     // every tap but the centre row's in the border
        [InlineData(false, 32, 11, 10, 2, 5)]
        [InlineData(false, 16, 6, 5, 1, 5)]
        [InlineData(true, 24, 9, 8, 1, 3)]     // channels off the blocks: the last block half full
        [InlineData(true, 72, 16, 16, 2, 5)]   // MnasNet's 72 channels, 5x5 stride 2
        [InlineData(true, 120, 8, 8, 1, 5)]    // MnasNet's 120 channels on 8x8
        [InlineData(false, 40, 7, 6, 2, 3)]
        [InlineData(true, 96, 8, 8, 1, 3, 2)]   // the MobileNetV2-style fixture's dilated layer
        [InlineData(true, 32, 12, 9, 1, 3, 4)]  // dilation 4: a 4-cell border, taps past a 9-wide map's both sides
        [InlineData(true, 24, 6, 7, 1, 5, 2)]   // 5x5 at dilation 2 on a map narrower than its reach
        [InlineData(true, 16, 13, 11, 2, 3, 2)] // dilated at stride 2
        [InlineData(false, 24, 9, 8, 1, 3, 3)]
        public void Depthwise_IsItsDefinition_BitForBit(bool vector, int channels, int height, int width, int stride, int kernel, int dilation = 1)
        {
            var random = new Random(channels + height * 7 + width + stride + kernel * 1000 + dilation * 100);
            int taps = kernel * kernel, pad = dilation * (kernel / 2), lanes = ChannelBlocks.BlockLanes(channels);
            float[] x = RandomValues(random, channels * height * width), weight = RandomValues(random, channels * taps), bias = new float[lanes];
            RandomValues(random, channels).CopyTo(bias, 0); // the extra lanes' bias zero, as the generated code keeps it
            float[] packed = Enumerable.Repeat(float.NaN, lanes * taps).ToArray(); // the extra lanes' weights must be written zero
            ChannelBlocks.PackDepthwise(weight, channels, packed, kernel);
            // x blocked and padded, as a 1x1 layer writes it (the border zero, and the extra lanes).
            float[] padded = new float[ChannelBlocks.PaddedLength(lanes, height, width, pad)];
            for (int c = 0; c < channels; c++)
                for (int r = 0; r < height; r++)
                    for (int col = 0; col < width; col++)
                        padded[(((c / 16) * (height + 2 * pad) + r + pad) * (width + 2 * pad) + col + pad) * 16 + c % 16] = x[(c * height + r) * width + col];
            int outHeight = (height - 1) / stride + 1, outWidth = (width - 1) / stride + 1;
            float[] y = Enumerable.Repeat(float.NaN, lanes * outHeight * outWidth + 3).ToArray();
            try
            {
                ChannelBlocks.VectorTiles = vector;
                ChannelBlocks.Depthwise(padded, channels, height, width, stride, packed, bias, y, 0f, float.PositiveInfinity, kernel, dilation);
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
            for (int c = 0; c < channels; c++)
                for (int oy = 0; oy < outHeight; oy++)
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        // Zero-padded taps add fma(0, w, sum) = sum, as the kernel's reads of the border do.
                        float sum = bias[c];
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int r = oy * stride + ky * dilation - pad, col = ox * stride + kx * dilation - pad;
                                float v = r >= 0 && r < height && col >= 0 && col < width ? x[(c * height + r) * width + col] : 0f;
                                sum = MathF.FusedMultiplyAdd(v, weight[c * taps + ky * kernel + kx], sum);
                            }
                        float actual = y[(((c / 16) * outHeight + oy) * outWidth + ox) * 16 + c % 16];
                        float want = Clamp(sum, 0f, float.PositiveInfinity);
                        if (!actual.Equals(want)) Assert.Fail($"y [{c}, {oy}, {ox}] = {actual}, expected {want}");
                    }
            for (int c = channels; c < lanes; c++)
                for (int cell = 0; cell < outHeight * outWidth; cell++)
                    Assert.Equal(0f, y[((c / 16) * outHeight * outWidth + cell) * 16 + c % 16]);
            Assert.All(y.Skip(lanes * outHeight * outWidth), v => Assert.True(float.IsNaN(v)));
        }

        // Channels off the blocks on both sides (MnasNet's 40 -> 72 -> 40): a blocked input's extra lanes are not read (NaN
        // there changes nothing), a blocked output's extra lanes are written 0 (zero weights and bias, clamped), an NCHW
        // output's are not written.
        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Pointwise_OnChannelsOffTheBlocks_BothLayouts_IsItsDefinition_BitForBit(bool vector)
        {
            const int inChannels = 40, height = 6, width = 9, outChannels = 72, cells = height * width;
            var random = new Random(4072);
            int inLanes = ChannelBlocks.BlockLanes(inChannels), outLanes = ChannelBlocks.BlockLanes(outChannels);
            float[] x = RandomValues(random, inChannels * cells), weight = RandomValues(random, outChannels * inChannels), bias = new float[outLanes];
            RandomValues(random, outChannels).CopyTo(bias, 0);
            float[] packed = new float[outLanes * inChannels];
            ChannelBlocks.PackPointwise(weight, inChannels, outChannels, packed);
            float[] expected = PointwiseDefinition(x, weight, bias, inChannels, outChannels, cells);
            float[] blocked = Enumerable.Repeat(float.NaN, inLanes * cells).ToArray();
            for (int c = 0; c < inChannels; c++)
                for (int i = 0; i < cells; i++) blocked[((c / 16) * cells + i) * 16 + c % 16] = x[c * cells + i];
            float[] padded = Enumerable.Repeat(float.NaN, ChannelBlocks.PaddedLength(outLanes, height, width) + 3).ToArray();
            try
            {
                ChannelBlocks.VectorTiles = vector;
                ChannelBlocks.Pointwise(blocked, blockedInput: true, inChannels, height, width, packed, bias, outChannels, padded, nchwOutput: false, default, 0f, 6f);
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
            for (int oc = 0; oc < outLanes; oc++)
                for (int r = 0; r < height + 2; r++)
                    for (int col = 0; col < width + 2; col++)
                    {
                        bool inside = oc < outChannels && r >= 1 && r <= height && col >= 1 && col <= width;
                        float want = inside ? expected[oc * cells + (r - 1) * width + col - 1] : 0f;
                        float actual = padded[(((oc / 16) * (height + 2) + r) * (width + 2) + col) * 16 + oc % 16];
                        if (!actual.Equals(want)) Assert.Fail($"padded [{oc}, {r}, {col}] = {actual}, expected {want}");
                    }
            Assert.All(padded.Skip(ChannelBlocks.PaddedLength(outLanes, height, width)), v => Assert.True(float.IsNaN(v)));

            // Back to NCHW onto 40 channels from the 72 blocked (unpadded) ones.
            float[] weight2 = RandomValues(random, inChannels * outChannels), bias2 = new float[inLanes];
            RandomValues(random, inChannels).CopyTo(bias2, 0);
            float[] packed2 = new float[inLanes * outChannels];
            ChannelBlocks.PackPointwise(weight2, outChannels, inChannels, packed2);
            float[] mid = Enumerable.Repeat(float.NaN, outLanes * cells).ToArray(), midNchw = new float[outChannels * cells];
            for (int c = 0; c < outChannels; c++)
                for (int i = 0; i < cells; i++) { mid[((c / 16) * cells + i) * 16 + c % 16] = expected[c * cells + i]; midNchw[c * cells + i] = expected[c * cells + i]; }
            float[] expected2 = PointwiseDefinition(midNchw, weight2, bias2, outChannels, inChannels, cells);
            float[] nchw = Enumerable.Repeat(float.NaN, inChannels * cells + 5).ToArray();
            try
            {
                ChannelBlocks.VectorTiles = vector;
                ChannelBlocks.Pointwise(mid, blockedInput: true, outChannels, height, width, packed2, bias2, inChannels, nchw, nchwOutput: true, new float[inLanes * cells], 0f, 6f);
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
            Assert.Equal(expected2, nchw.Take(inChannels * cells).ToArray());
            Assert.All(nchw.Skip(inChannels * cells), v => Assert.True(float.IsNaN(v)));
        }

        // A 1x1 layer writing a 5x5 depthwise layer's input: padded by two cells, the border zero even where y held other values.
        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Pointwise_WritesTheInputOfA5x5Layer_PaddedByTwo(bool vector)
        {
            const int inChannels = 24, height = 5, width = 7, outChannels = 32;
            var random = new Random(55);
            float[] x = RandomValues(random, inChannels * height * width), weight = RandomValues(random, outChannels * inChannels), bias = RandomValues(random, outChannels);
            float[] packed = new float[outChannels * inChannels];
            ChannelBlocks.PackPointwise(weight, inChannels, outChannels, packed);
            float[] expected = PointwiseDefinition(x, weight, bias, inChannels, outChannels, height * width);
            float[] y = Enumerable.Repeat(float.NaN, ChannelBlocks.PaddedLength(outChannels, height, width, 2) + 3).ToArray();
            try
            {
                ChannelBlocks.VectorTiles = vector;
                ChannelBlocks.Pointwise(x, blockedInput: false, inChannels, height, width, packed, bias, outChannels, y, nchwOutput: false, default, 0f, 6f, padding: 2);
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
            for (int c = 0; c < outChannels; c++)
                for (int r = 0; r < height + 4; r++)
                    for (int col = 0; col < width + 4; col++)
                    {
                        bool inside = r >= 2 && r < height + 2 && col >= 2 && col < width + 2;
                        float want = inside ? expected[(c * height + r - 2) * width + col - 2] : 0f;
                        float actual = y[(((c / 16) * (height + 4) + r) * (width + 4) + col) * 16 + c % 16];
                        if (!actual.Equals(want)) Assert.Fail($"y [{c}, {r}, {col}] = {actual}, expected {want}");
                    }
            Assert.All(y.Skip(ChannelBlocks.PaddedLength(outChannels, height, width, 2)), v => Assert.True(float.IsNaN(v)));
        }

        [Theory]
        [InlineData(true, 144, 32, 32, 24)]  // an inverted residual's projection at CIFAR size: 64 tiles of 16 cells
        [InlineData(true, 32, 7, 9, 40)]     // three blocks, the last half full; 63 cells (three whole transposes and 15 more)
        [InlineData(true, 48, 3, 3, 17)]     // one lane in the second block, fewer cells than a transpose
        [InlineData(false, 32, 5, 4, 24)]
        [InlineData(true, 272, 3, 5, 40)]    // input channels in three runs, the half block's sums kept in staging between them
        [InlineData(true, 192, 3, 3, 8)]     // a half block alone, two runs
        public void Pointwise_OntoChannelsOffTheBlocks_WritesNchw_IsItsDefinition_BitForBit(bool vector, int inChannels, int height, int width, int outChannels)
        {
            var random = new Random(inChannels * 3 + height + width + outChannels);
            int cells = height * width, lanes = ChannelBlocks.BlockLanes(outChannels);
            float[] x = RandomValues(random, inChannels * cells), weight = RandomValues(random, outChannels * inChannels), bias = RandomValues(random, outChannels);
            // The packed lanes past the channels come out zero whatever was there before.
            float[] packed = Enumerable.Repeat(float.NaN, lanes * inChannels).ToArray(), paddedBias = new float[lanes];
            ChannelBlocks.PackPointwise(weight, inChannels, outChannels, packed);
            bias.CopyTo(paddedBias, 0);
            var expected = PointwiseDefinition(x, weight, bias, inChannels, outChannels, cells);
            float[] blocked = new float[inChannels * cells];
            for (int c = 0; c < inChannels; c++)
                for (int i = 0; i < cells; i++) blocked[((c / 16) * cells + i) * 16 + c % 16] = x[c * cells + i];
            try
            {
                ChannelBlocks.VectorTiles = vector;
                foreach (bool blockedInput in new[] { false, true })
                {
                    // Nothing written past the layer's channels: y holds only theirs.
                    float[] nchw = Enumerable.Repeat(float.NaN, outChannels * cells + 5).ToArray();
                    ChannelBlocks.Pointwise(blockedInput ? blocked : x, blockedInput, inChannels, height, width, packed, paddedBias, outChannels, nchw, nchwOutput: true,
                        new float[lanes * cells], 0f, 6f);
                    Assert.Equal(expected, nchw.Take(outChannels * cells).ToArray());
                    Assert.All(nchw.Skip(outChannels * cells), v => Assert.True(float.IsNaN(v)));
                }
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
            }
            // Blocked output needs room for whole blocks, and the partly filled block its lanes of bias and staging.
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Pointwise(x, false, inChannels, height, width, packed, paddedBias, outChannels,
                new float[ChannelBlocks.PaddedLength(outChannels, height, width)], nchwOutput: false, default));
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Pointwise(x, false, inChannels, height, width, packed, bias, outChannels, new float[outChannels * cells],
                nchwOutput: true, new float[lanes * cells]));
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Pointwise(x, false, inChannels, height, width, packed, paddedBias, outChannels, new float[outChannels * cells],
                nchwOutput: true, new float[outChannels * cells]));
        }

        // A last block of at most 8 channels (summed in Vector256s) into a blocked, padded output, the input channels in runs:
        // its channels' sums, a zero border, and its upper 8 lanes written 0 for the depthwise layer that reads them (NaN
        // before), on either path and with the half-block tiles off.
        [Theory]
        [InlineData(true, true, 272, 24)]
        [InlineData(true, true, 40, 72)]
        [InlineData(true, false, 272, 24)]
        [InlineData(false, true, 200, 8)]
        public void Pointwise_HalfLastBlock_IntoPaddedBlocks_IsItsDefinition_BitForBit(bool vector, bool halfBlocks, int inChannels, int outChannels)
        {
            const int height = 3, width = 5, pad = 2, cells = height * width;
            var random = new Random(inChannels * 5 + outChannels);
            int lanes = ChannelBlocks.BlockLanes(outChannels);
            float[] x = RandomValues(random, inChannels * cells), weight = RandomValues(random, outChannels * inChannels), bias = new float[lanes];
            RandomValues(random, outChannels).CopyTo(bias, 0);
            float[] packed = new float[lanes * inChannels];
            ChannelBlocks.PackPointwise(weight, inChannels, outChannels, packed);
            float[] expected = PointwiseDefinition(x, weight, bias, inChannels, outChannels, cells);
            int paddedLength = ChannelBlocks.PaddedLength(lanes, height, width, pad);
            float[] padded = Enumerable.Repeat(float.NaN, paddedLength + 5).ToArray();
            try
            {
                ChannelBlocks.VectorTiles = vector;
                ChannelBlocks.HalfBlocks = halfBlocks;
                ChannelBlocks.Pointwise(x, blockedInput: false, inChannels, height, width, packed, bias, outChannels, padded, nchwOutput: false, default, 0f, 6f, padding: pad);
            }
            finally
            {
                ChannelBlocks.VectorTiles = true;
                ChannelBlocks.HalfBlocks = true;
            }
            for (int oc = 0; oc < lanes; oc++)
                for (int r = 0; r < height + 2 * pad; r++)
                    for (int col = 0; col < width + 2 * pad; col++)
                    {
                        float actual = padded[(((oc / 16) * (height + 2 * pad) + r) * (width + 2 * pad) + col) * 16 + oc % 16];
                        bool inside = oc < outChannels && r >= pad && r < height + pad && col >= pad && col < width + pad;
                        float want = inside ? expected[oc * cells + (r - pad) * width + col - pad] : 0f;
                        if (!actual.Equals(want)) Assert.Fail($"padded [{oc}, {r}, {col}] = {actual}, expected {want}");
                    }
            Assert.All(padded.Skip(paddedLength), v => Assert.True(float.IsNaN(v)));
        }

        [Fact]
        public void Kernels_WantWholeBlocksOfRoom_AndRefuseOtherStridesAndKernels()
        {
            // 24 channels take two blocks: room for 32 in every array.
            Assert.Throws<ArgumentException>(() => ChannelBlocks.PackPointwise(new float[24 * 8], 8, 24, new float[24 * 8]));
            Assert.Throws<ArgumentException>(() => ChannelBlocks.PackDepthwise(new float[24 * 9], 24, new float[24 * 9]));
            // A blocked input of 24 channels is two blocks of cells: 24 x cells floats would be read past.
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Pointwise(new float[24 * 49], true, 24, 7, 7, new float[32 * 24], new float[32], 32, new float[32 * 81], false, default));
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Depthwise(new float[24 * 9 * 9], 24, 7, 7, 1, new float[32 * 9], new float[32], new float[32 * 49]));
            Assert.Throws<ArgumentException>(() => ChannelBlocks.Depthwise(new float[32 * 9 * 9], 24, 7, 7, 1, new float[32 * 9], new float[24], new float[32 * 49]));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Depthwise(new float[16 * 9 * 9], 16, 7, 7, 3, new float[16 * 9], new float[16], new float[16 * 49]));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Depthwise(new float[16 * 13 * 13], 16, 7, 7, 1, new float[16 * 49], new float[16], new float[16 * 49], kernel: 7));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Pointwise(new float[16 * 49], false, 16, 7, 7, new float[16 * 16], new float[16], 16, new float[16 * 225], false, default, padding: 5));
            // A border past four cells: a 3x3 layer at dilation 5, a 5x5 one at 3; and no dilation below 1.
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Depthwise(new float[16 * 17 * 17], 16, 7, 7, 1, new float[16 * 9], new float[16], new float[16 * 49], dilation: 5));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Depthwise(new float[16 * 13 * 13], 16, 7, 7, 1, new float[16 * 25], new float[16], new float[16 * 49], kernel: 5, dilation: 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelBlocks.Depthwise(new float[16 * 9 * 9], 16, 7, 7, 1, new float[16 * 9], new float[16], new float[16 * 49], dilation: 0));
        }

        [Fact]
        public void Kernels_AllocateNothing()
        {
            float[] x = new float[32 * 14 * 14], packed = new float[64 * 32], bias = new float[64], padded = new float[ChannelBlocks.PaddedLength(64, 14, 14)];
            float[] dwWeights = new float[64 * 9], blocked = new float[64 * 7 * 7], y = new float[32 * 49], back = new float[32 * 64], staging = new float[32 * 49];
            Infrastructure.Allocations.AssertNone(() =>
            {
                ChannelBlocks.Pointwise(x, blockedInput: false, 32, 14, 14, packed, bias, 64, padded, nchwOutput: false, default, 0f, 6f);
                ChannelBlocks.Depthwise(padded, 64, 14, 14, 2, dwWeights, bias, blocked, 0f, 6f);
                ChannelBlocks.Pointwise(blocked, blockedInput: true, 64, 7, 7, back, bias, 32, y, nchwOutput: true, staging);
            }, calls: 20);
        }

        [Fact]
        public void GeneratedChains_EvaluateAsTheUnfusedForward_AndSayTheirOutputsAreNotKept()
        {
            string source = GeneratedNet("[Network(8, 13, 11)]\n[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)]\n[BatchNorm]\n[ReLU6]\n[Conv2d(48, 1, Bias = false)]\n[BatchNorm]\n"
                + "[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 8, 13, 11, p.Slice(0, 256), p.Slice(256, 32), 32, columns.Slice(0, 6240), nchwOutput: false, default, 0f, float.PositiveInfinity);", source);
            Assert.Contains("ChannelBlocks.Depthwise(columns.Slice(0, 6240), 32, 13, 11, 2, p.Slice(0, 288), p.Slice(288, 32), columns.Slice(6240, 1344), 0f, 6f);", source);
            Assert.Contains("ChannelBlocks.Pointwise(columns.Slice(6240, 1344), blockedInput: true, 32, 7, 6, p.Slice(0, 1536), p.Slice(1536, 48), 48, y, nchwOutput: true, columns.Slice(0, 6240));", source);

            var network = new BlockedChainNet();
            network.ResetParameters(7);
            const int batch = 3;
            var workspace = (BlockedChainNet.Workspace)EvaluatesAsUnfused(network, batch, seed: 8);
            float[] input = RandomValues(new Random(8), batch * BlockedChainNet.InputLength), evaluated = new float[batch * BlockedChainNet.OutputLength];
            // Layers 0-2 hand their map to layer 3 in blocks, layers 3-5 theirs to layer 6.
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
            Assert.Contains("goes straight into layer 6", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(5).Length).Message);
            // A 1x1 layer onto 24 channels after a depthwise layer ends a chain, writing NCHW from two blocks (the second half
            // filled); onto 16 (one block a tile) it does not: no chain of three (the first 1x1 layer, on 16 cells, alone).
            string offTheBlocks = ChainEndingOffTheBlocks(24);
            Assert.Contains("ChannelBlocks.Pointwise(columns.Slice(1152, 128), blockedInput: true, 32, 2, 2, p.Slice(0, 1024), p.Slice(1024, 32), 24, y, nchwOutput: true, columns.Slice(0, 1152), 0f, float.PositiveInfinity);", offTheBlocks);
            Assert.Contains("new global::CnnGen.AlignedBuffer(1056)", offTheBlocks);
            Assert.DoesNotContain("ChannelBlocks.Depthwise", ChainEndingOffTheBlocks(16));
            Assert.DoesNotContain("blockedInput: true", ChainEndingOffTheBlocks(16));
            Assert.Contains("ChannelBlocks", ChainEndingOffTheBlocks(32));
            // Onto 24 it pays on maps up to 256 cells and from 2048 (the depthwise layer's gain outweighs the projection's
            // loss there), not between: 32x32 and 48x48 outputs.
            Assert.DoesNotContain("ChannelBlocks", ChainEndingOffTheBlocks(24, size: 64));
            Assert.Contains("ChannelBlocks.Pointwise(columns.Slice(307328, 73728), blockedInput: true, 32, 48, 48, p.Slice(0, 1024), p.Slice(1024, 32), 24, y, nchwOutput: true,", ChainEndingOffTheBlocks(24, size: 96));
            var large = new BlockedLargeMapNet();
            large.ResetParameters(9);
            var largeWorkspace = EvaluatesAsUnfused(large, batch: 2, seed: 10);
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => largeWorkspace.LayerOutput(2).Length).Message);
            // Training mode writes them (the chains are evaluation's).
            network.Forward(input, evaluated, batch, workspace, training: true);
            Assert.Equal(batch * 32 * 13 * 11, workspace.LayerOutput(2).Length);
        }

        [Fact]
        public void ChainsWithoutBatchNorm_PackTheParameters_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(8, 13, 11)]\n[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32)]\n[ReLU6]\n"
                + "[Conv2d(48, 1, Bias = false)]\n[ReLU]\n[Conv2d(32, 1)]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            // Packed from the parameters once per change of the weights; the bias copied where the layer has one.
            Assert.Contains("ChannelBlocks.PackPointwise(parameters.Slice(0, 256), 8, 32, workspace.Layer0Blocked);", source);
            Assert.Contains("parameters.Slice(256, 32).CopyTo(workspace.Layer0Blocked.AsSpan(256));", source);
            Assert.Contains("ChannelBlocks.PackDepthwise(parameters.Slice(288, 288), 32, workspace.Layer2Blocked);", source);
            Assert.Contains("ChannelBlocks.PackPointwise(parameters.Slice(608, 1536), 32, 48, workspace.Layer4Blocked);", source);
            Assert.DoesNotContain("CopyTo(workspace.Layer4Blocked", source);
            Assert.Contains("ChannelBlocks.Pointwise(columns.Slice(6240, 1344), blockedInput: true, 32, 7, 6, p.Slice(0, 1536), p.Slice(1536, 48), 48, y, nchwOutput: true, columns.Slice(0, 6240), 0f, float.PositiveInfinity);", source);
            // The last 1x1 layer (32 -> 32 on 7x6) follows no depthwise layer, and alone it would not pay: the NCHW kernel.
            Assert.DoesNotContain("Layer6Blocked", source);

            var network = new BlockedChainNoBatchNormNet();
            network.ResetParameters(3);
            MoveParameters(network, seed: 11);
            var workspace = (BlockedChainNoBatchNormNet.Workspace)EvaluatesAsUnfused(network, batch: 3, seed: 6);
            Assert.Contains("goes straight into layer 2", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(1).Length).Message);
        }

        [Fact]
        public void LayersAlone_RunBlockedWhereThatPays_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(16, 6, 6)]\n[Conv2d(128, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[ReLU6]\n[Conv2d(64, 1, Bias = false)]\n[BatchNorm]\n[MaxPool(2)]\n"
                + "[Conv2d(96, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(40, 1)]\n[ReLU6]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 128, 6, 6, p.Slice(0, 4096), p.Slice(4096, 32), 32, y, nchwOutput: true, columns.Slice(0, 1152), 0f, 6f);", source);
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 64, 3, 3, p.Slice(0, 6144), p.Slice(6144, 96), 96, y, nchwOutput: true, columns.Slice(0, 864), 0f, float.PositiveInfinity);", source);
            // Onto 40 channels (48 lanes, the last block half filled) on 9 cells: alone, blocked.
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 96, 3, 3, p.Slice(0, 4608), p.Slice(4608, 48), 40, y, nchwOutput: true, columns.Slice(0, 432), 0f, 6f);", source);
            Assert.Equal(3, source.Split("ChannelBlocks.Pointwise(").Length - 1);

            var network = new BlockedAloneNet();
            network.ResetParameters(4);
            EvaluatesAsUnfused(network, batch: 2, seed: 5);
        }

        [Fact]
        public void ChainsThroughChannelsOffTheBlocks_OntoSmallMaps_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(24, 16, 16)]\n[Conv2d(72, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(72, 5, Stride = 2, Padding = 2, Groups = 72, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(40, 1, Bias = false)]\n[BatchNorm]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            // 72 channels in 5 blocks (80 lanes): the padded input 80 x 20 x 20, the depthwise output 80 x 8 x 8, the weights
            // and bias in whole blocks.
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 24, 16, 16, p.Slice(0, 1920), p.Slice(1920, 80), 72, columns.Slice(0, 32000), nchwOutput: false, default, 0f, float.PositiveInfinity, padding: 2);", source);
            Assert.Contains("ChannelBlocks.Depthwise(columns.Slice(0, 32000), 72, 16, 16, 2, p.Slice(0, 2000), p.Slice(2000, 80), columns.Slice(32000, 5120), 0f, float.PositiveInfinity, kernel: 5);", source);
            Assert.Contains("ChannelBlocks.Pointwise(columns.Slice(32000, 5120), blockedInput: true, 72, 8, 8, p.Slice(0, 3456), p.Slice(3456, 48), 40, y, nchwOutput: true, columns.Slice(0, 32000));", source);
            // Onto 16x16 (more than 64 cells) 72 channels stay NCHW.
            Assert.DoesNotContain("ChannelBlocks", GeneratedNet("[Network(24, 16, 16)]\n[Conv2d(72, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(72, 5, Padding = 2, Groups = 72, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(40, 1, Bias = false)]\n[BatchNorm]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));

            var network = new BlockedPartialBlocksNet();
            network.ResetParameters(15);
            MoveParameters(network, seed: 16);
            var workspace = (BlockedPartialBlocksNet.Workspace)EvaluatesAsUnfused(network, batch: 3, seed: 17);
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
        }

        [Fact]
        public void ChainsThrough5x5Layers_PadByTwo_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(8, 15, 13)]\n[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[Hardswish]\n[Conv2d(32, 5, Stride = 2, Padding = 2, Groups = 32, Bias = false)]\n[BatchNorm]\n[Hardswish]\n"
                + "[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            // The 1x1 layer writes the 5x5 layer's input padded by two (2 blocks of 19 x 17 cells), its Hardswish run from each
            // block's first interior cell to its last; the 5x5 layer reads it with its 25 taps.
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 8, 15, 13, p.Slice(0, 256), p.Slice(256, 32), 32, columns.Slice(0, 10336), nchwOutput: false, default, padding: 2);", source);
            Assert.Contains("var cells = columns.Slice(block * 5168 + 576, 4016);", source);
            Assert.Contains("ChannelBlocks.Depthwise(columns.Slice(0, 10336), 32, 15, 13, 2, p.Slice(0, 800), p.Slice(800, 32), columns.Slice(10336, 1792), kernel: 5);", source);
            Assert.Contains("ChannelBlocks.PackDepthwise(", source);
            Assert.Contains(", kernel: 5);", source);
            // A 5x5 layer at stride 1 onto rows of 16 cells stays on the NCHW kernel's shared-rows tiles; 7x7 layers and 5x5
            // layers padded otherwise start no chain.
            Assert.DoesNotContain("ChannelBlocks.Depthwise", GeneratedNet("[Network(8, 16, 16)]\n[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 5, Padding = 2, Groups = 32)]\n[ReLU]\n[Conv2d(32, 1)]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));
            Assert.Contains("kernel: 5", GeneratedNet("[Network(8, 15, 15)]\n[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 5, Padding = 2, Groups = 32)]\n[ReLU]\n[Conv2d(32, 1)]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));
            Assert.DoesNotContain("ChannelBlocks.Depthwise", GeneratedNet("[Network(8, 15, 13)]\n[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 7, Padding = 3, Groups = 32)]\n[ReLU]\n[Conv2d(32, 1)]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));
            Assert.DoesNotContain("ChannelBlocks.Depthwise", GeneratedNet("[Network(8, 15, 13)]\n[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 5, Padding = 1, Groups = 32)]\n[ReLU]\n[Conv2d(32, 1)]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));

            var network = new BlockedFiveByFiveNet();
            network.ResetParameters(11);
            MoveParameters(network, seed: 13);
            var workspace = (BlockedFiveByFiveNet.Workspace)EvaluatesAsUnfused(network, batch: 3, seed: 14);
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
        }

        [Fact]
        public void ChainsWithOtherActivations_RunThemOverTheBlockedRegions_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(8, 9, 7)]\n[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[SiLU]\n[Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)]\n[BatchNorm]\n[GELU]\n"
                + "[Conv2d(24, 1, Bias = false)]\n[BatchNorm]\n[Hardswish]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            // The 1x1 layer's padded output (2 blocks of 11 x 9 cells) from each block's first interior cell to its last, the
            // depthwise layer's blocked output after it, the end's y.
            Assert.Contains("for (int block = 0; block < 2; block++)", source);
            Assert.Contains("var cells = columns.Slice(block * 1584 + 160, 1264);", source);
            Assert.Contains("global::CnnGen.Kernels.Activations.Silu(cells, cells);", source);
            Assert.Contains("global::CnnGen.Kernels.Activations.Gelu(columns.Slice(3168, 2016), columns.Slice(3168, 2016), tanhApproximation: false);", source);
            Assert.Contains("global::CnnGen.Kernels.Activations.Hardswish(y, y);", source);
            Assert.Equal(2, source.Split("ChannelBlocks.Pointwise(").Length - 1);
            // Sigmoid maps 0 to 0.5: run over the padding it would move it, so its layer starts no chain.
            Assert.DoesNotContain("ChannelBlocks", GeneratedNet("[Network(8, 9, 7)]\n[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[Sigmoid]\n[Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n"));

            var network = new BlockedActivationsNet();
            network.ResetParameters(5);
            MoveParameters(network, seed: 12);
            var workspace = (BlockedActivationsNet.Workspace)EvaluatesAsUnfused(network, batch: 3, seed: 7);
            Assert.Contains("goes straight into layer", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
        }

        [Fact]
        public void ExpandingLayersAlone_RunBlockedOnMapsOfUpTo16Cells()
        {
            // 80 -> 480 on 4x4 (one whole vector of cells: 1.16x blocked), not on 5x5.
            foreach (int size in new[] { 4, 5 })
            {
                string source = GeneratedNet("[Network(80, " + size + ", " + size + ")]\n[Conv2d(480, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
                Assert.Equal(size == 4, source.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 80, 4, 4, p.Slice(0, 38400), p.Slice(38400, 480), 480, y, nchwOutput: true,"));
                Assert.Equal(size == 4, source.Contains("ChannelBlocks"));
            }
        }

        [Fact]
        public void LayersAbsorbingNothing_RunBlocked_AndEvaluateAsTheUnfusedForward()
        {
            string source = GeneratedNet("[Network(32, 6, 5)]\n[Residual]\n[Conv2d(32, 7, Padding = 3, Groups = 32)]\n[Conv2d(128, 1)]\n[GELU]\n[Conv2d(32, 1)]\n[End]\n"
                + "[Conv2d(32, 1)]\n[ReLU]\n[Conv2d(32, 3, Padding = 1, Groups = 32)]\n[Conv2d(160, 1)]\n[ReLU]\n[Conv2d(48, 1, Bias = false)]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");
            // The projection alone, NCHW in and out, no bounds; packed once per change of the weights with its bias.
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 128, 6, 5, p.Slice(0, 4096), p.Slice(4096, 32), 32, y, nchwOutput: true, columns.Slice(0, 960));", source);
            // The one without a bias: the bias lanes stay the array's zeros.
            Assert.Contains("ChannelBlocks.Pointwise(x, blockedInput: false, 160, 6, 5, p.Slice(0, 7680), p.Slice(7680, 48), 48, y, nchwOutput: true, columns.Slice(0, 1440));", source);
            Assert.Contains("ChannelBlocks.Depthwise(", source);
            Assert.Equal(4, source.Split("ChannelBlocks.Pointwise(").Length - 1);
            Assert.Contains("Blocked(global::System.ReadOnlySpan<float> x, global::System.Span<float> y", source);

            var network = new BlockedAbsorbingNothingNet();
            network.ResetParameters(6);
            MoveParameters(network, seed: 13);
            EvaluatesAsUnfused(network, batch: 3, seed: 8);
        }

        // Every parameter moved by up to ±0.1, so the biases lie away from zero: a bias left out or misplaced shows.
        private static void MoveParameters(INetwork network, int seed)
        {
            var random = new Random(seed);
            var parameters = network.Parameters;
            for (int i = 0; i < parameters.Length; i++) parameters[i] += (float)(random.NextDouble() - 0.5) * 0.2f;
        }

        // Evaluation (the fused, blocked kernels) against ForwardForGradients (unfused) on random inputs, within 1e-4,
        // after three training forwards have moved the running statistics off 0 and 1 (so the folds are not the identity).
        private static NetworkWorkspace EvaluatesAsUnfused(INetwork network, int batch, int seed)
        {
            float[] input = RandomValues(new Random(seed), batch * network.Layout.Input.Length);
            float[] evaluated = new float[batch * network.Layout.Output.Length], unfused = new float[evaluated.Length];
            var workspace = network.CreateWorkspace(batch);
            for (int step = 0; step < 3; step++) network.Forward(input, evaluated, batch, workspace, training: true);
            network.ForwardForGradients(input, unfused, batch, workspace);
            network.Forward(input, evaluated, batch, workspace);
            for (int i = 0; i < evaluated.Length; i++)
                Assert.True(Math.Abs(evaluated[i] - unfused[i]) <= 1e-4f * Math.Max(1f, Math.Abs(unfused[i])), $"output {i}: {evaluated[i]}, unfused {unfused[i]}");
            return workspace;
        }

        // The generated source of a 1x1, depthwise (stride 2), 1x1 sequence on a size x size input whose last layer writes `channels`.
        private static string ChainEndingOffTheBlocks(int channels, int size = 4) =>
            GeneratedNet("[Network(32, " + size + ", " + size + ")]\n[Conv2d(32, 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(" + channels + ", 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\n");

        // The generated source of `public partial class Net` under the given attribute lines.
        private static string GeneratedNet(string attributes) =>
            Infrastructure.GeneratorHarness.GeneratedSources("using CnnGen;\nnamespace Blocks;\n" + attributes + "public partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
    }
}
