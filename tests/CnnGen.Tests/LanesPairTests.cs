using System;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// The lanes kernel's two-block tile (rows of 2 to 4 cells, output channels a multiple of 32): against the definition, and
    /// for rows of 3-4 cells bit for bit against one block at a time (the same sums in the same order; at padding 1 the
    /// pairs leave out the products with the padding, which one block computes: adding those zeros changes no value).
    /// </summary>
    public sealed class LanesPairTests
    {
        [Theory]
        [InlineData(64, 4, 4, 64, 1, false)]    // VGG's 4x4 maps, two rows per tile
        [InlineData(48, 3, 3, 32, 1, false)]    // 3-wide rows, an odd row count (the last tile one row)
        [InlineData(40, 5, 4, 96, 1, true)]     // three pairs of blocks, 2x2 pooling of a 5x4 output (floor)
        [InlineData(24, 6, 6, 64, 0, false)]    // unpadded: 4x4 output from 6x6
        [InlineData(17, 4, 3, 32, 1, true)]     // odd channel count in, 4x3 output pooled
        [InlineData(64, 2, 2, 64, 1, false)]    // VGG's 2x2 maps (one block at a time takes LanesTileFew there: rounding differs)
        [InlineData(33, 3, 2, 32, 1, true)]     // 3x2 output, odd input channels, pooled to 1x1
        [InlineData(96, 3, 3, 64, 1, false)]    // 3x3 output: its three rows in one tile
        [InlineData(20, 5, 3, 32, 1, false)]    // 5x3 output: rows 3 + 2
        [InlineData(36, 6, 3, 32, 1, true)]     // 6x3 output: rows 3 + 3, pooled
        [InlineData(28, 4, 3, 64, 1, false)]    // 4x3 output: rows 3 + 1
        [InlineData(32, 1, 4, 32, 1, false)]    // one row: both kernel rows off the map
        [InlineData(24, 1, 3, 32, 1, false)]    // one row of 3
        [InlineData(16, 1, 2, 64, 1, false)]    // one row of 2
        [InlineData(20, 7, 4, 32, 1, false)]    // 7x4 output: rows 2 + 2 + 2 + 1 (tiles touching neither edge)
        public void PairsOfBlocks_MatchTheDefinition_AndOneBlockAtATimeBitForBit(int inChannels, int height, int width, int outChannels, int padding, bool pool)
        {
            if (!Vector512.IsHardwareAccelerated) return; // the lanes kernel is the Vector512 path's
            var random = new Random(inChannels * 31 + outChannels);
            float[] x = RandomValues(random, inChannels * height * width), weight = RandomValues(random, outChannels * inChannels * 9), bias = RandomValues(random, outChannels);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            int outLength = outChannels * (pool ? (outHeight / 2) * (outWidth / 2) : outHeight * outWidth);
            float[] pairs = Run(x, weight, bias, outChannels);
            // One block at a time: each 16 output channels as a layer of their own (16 channels never pair), which for rows of
            // 3-4 cells sums in the same order (LanesTile); rows of 2 take LanesTileFew there, whose even and odd channels
            // sum apart, so only the definition holds them. (No switch is flipped: tests run in parallel.)
            if (outWidth > 2)
            {
                int blockLength = outLength / outChannels * 16;
                for (int block = 0; block < outChannels; block += 16)
                {
                    float[] single = Run(x, weight.AsSpan(block * inChannels * 9, 16 * inChannels * 9).ToArray(), bias.AsSpan(block, 16).ToArray(), 16);
                    Assert.Equal(single, pairs.AsSpan(block / 16 * blockLength, blockLength).ToArray());
                }
            }

            var (value, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 3, 1, padding);
            if (!pool) AssertWithinScale(pairs, outLength, value, scale, relu: true, 1e-6, "pairs of blocks");
            else
            {
                float[] unpooled = new float[outChannels * outHeight * outWidth];
                DirectConvolution.ForwardOn(x, inChannels, height, width, weight, bias, outChannels, 3, padding, unpooled,
                    new float[DirectConvolution.ScratchLength(inChannels, height, width, outChannels, 3, padding)], relu: true, pool: false,
                    DirectConvolution.KernelPath.Scalar);
                float[] expected = new float[outLength];
                Pooling.MaxPool2x2(unpooled, outChannels, outHeight, outWidth, expected);
                Assert.Equal(expected.Length, outLength);
                for (int i = 0; i < outLength; i++) Assert.True(Math.Abs(pairs[i] - expected[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])), $"pooled y[{i}] = {pairs[i]}, expected {expected[i]}");
            }

            float[] Run(float[] input, float[] w, float[] b, int channels)
            {
                float[] y = new float[outLength / outChannels * channels];
                float[] scratch = new float[DirectConvolution.ScratchLength(inChannels, height, width, channels, 3, padding)];
                DirectConvolution.ForwardOn(input, inChannels, height, width, w, b, channels, 3, padding, y, scratch, relu: true, pool: pool,
                    DirectConvolution.KernelPath.Vector512, allowWinograd: false);
                return y;
            }
        }
    }
}
