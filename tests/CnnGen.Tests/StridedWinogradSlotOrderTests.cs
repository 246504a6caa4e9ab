using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// The stride-2 Winograd forward's GEMMs taking the positions slot after slot (so the positions that share a filter slot
    /// follow each other) against window order: each M value is the same sum either way, so the outputs are bit for bit the
    /// same; on every tile, with shared slots and with one slot per position, and within the definition's bound
    /// (StridedWinogradConvolutionTests').
    /// </summary>
    public sealed class StridedWinogradSlotOrderTests
    {
        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        [Theory]
        [InlineData(64, 16, 16, 128, 1)] // the strided network's 64 -> 128 (8x8 outputs)
        [InlineData(32, 32, 32, 64, 1)]  // its 32 -> 64
        [InlineData(24, 9, 17, 32, 1)]   // partial tiles at the bottom and right
        [InlineData(40, 15, 11, 20, 0)]  // odd maps, no padding, channels off the vector
        [InlineData(130, 48, 44, 48, 1)] // several chunks, 9 input groups
        public void Forward_PositionsSlotAfterSlot_EqualWindowOrder_BitForBit(int inChannels, int height, int width, int outChannels, int padding)
        {
            if (!Available) return; // the kernel is Vector512 only
            var random = new Random(inChannels + height * 7 + outChannels * 13);
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = RandomValues(random, outChannels);
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 3, 2, padding);
            foreach (bool shared in new[] { true, false })
            {
                foreach (int tile in new[] { 4, 2, StridedWinogradConvolution.Wide })
                {
                    var l = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile, sharedFilters: shared);
                    Assert.Equal(shared ? (tile == 4 ? 36 : tile == 2 ? 16 : 24) : l.Positions, l.FilterSlots);
                    float[] filters = new float[l.FiltersLength];
                    StridedWinogradConvolution.TransformFilters(weight, filters, l);
                    float[] scratch = Filled(l.ScratchLength, float.NaN);
                    float[] y = Filled(outLength, float.NaN), windowOrder = Filled(outLength, float.NaN);
                    StridedWinogradConvolution.Forward(x, filters, bias, y, scratch, relu: true, l);
                    AssertWithinScale(y, outLength, expected, scale, relu: true, 2e-5, $"tile {tile}, shared {shared}");
                    StridedWinogradConvolution.SlotOrderOff = true;
                    try { StridedWinogradConvolution.Forward(x, filters, bias, windowOrder, scratch, relu: true, l); }
                    finally { StridedWinogradConvolution.SlotOrderOff = false; }
                    for (int i = 0; i < outLength; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(y[i]) == BitConverter.SingleToInt32Bits(windowOrder[i]), $"tile {tile}, shared {shared}: y[{i}] {y[i]:R} against {windowOrder[i]:R}");
                }
            }
        }

        // One GEMM per filter slot (SlotProducts, rows from several positions) against one per position: bit for bit, the
        // same M values written, on every tile, shared or not, register tiles of 4, 3, 2 and 1 vectors, chunks of 1 to 13 tiles.
        [Theory]
        [InlineData(64, 16, 16, 128)]
        [InlineData(17, 9, 13, 48)]
        [InlineData(33, 7, 7, 32)]
        [InlineData(16, 5, 6, 5)]
        [InlineData(130, 12, 10, 80)]
        public void SlotProducts_EqualsAGemmPerPosition_BitForBit(int inChannels, int height, int width, int outChannels)
        {
            if (!Available) return;
            foreach (bool shared in new[] { true, false })
            {
                foreach (int tile in new[] { 4, 2, StridedWinogradConvolution.Wide })
                {
                    var l = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, 1, tile, sharedFilters: shared);
                    var random = new Random(inChannels * 31 + outChannels + tile + (shared ? 1000 : 0));
                    float[] filters = RandomValues(random, l.FiltersLength), transformed = RandomValues(random, l.TransformedLength);
                    foreach (int count in new[] { 1, 2, 3, 4, 5, 7, 8, 13 })
                    {
                        if (count > l.ChunkTiles) continue;
                        float[] expected = Filled(l.ProductLength, float.NaN), actual = Filled(l.ProductLength, float.NaN);
                        WinogradF4Convolution.Products(transformed, filters, expected, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                            l.FilterPositionStride, l.OutLanes, l.ProductTileStride, l.InChannels, l.OutGroups, l.SlotOfPosition);
                        StridedWinogradConvolution.SlotProducts(transformed, filters, actual, count, l);
                        for (int i = 0; i < expected.Length; i++)
                            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                                Assert.Fail($"tile {tile}, shared {shared}, {count} tiles: M[{i}] is {actual[i]:R}, a GEMM per position gives {expected[i]:R}");
                    }
                }
            }
        }
    }
}
