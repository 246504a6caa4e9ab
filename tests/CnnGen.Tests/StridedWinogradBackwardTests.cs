using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// The stride-2 3x3 input gradient by the forward's Winograd transforms transposed
    /// (<see cref="StridedWinogradConvolution.InputGradient"/>, Vector512 only) against its definition in double on every
    /// tile (4x4, 2x2, 2x4) and shape, whatever the rule picks: the forward's shapes, odd maps (15x15, 17x17), partial
    /// tiles, channels off the vector, several chunks.
    /// </summary>
    /// <remarks>
    /// The bound is the forward's, |dx − dx_exact| ≤ 2e-5 · S with S = Σ |dy·w| over the terms of the input cell (at least
    /// 1e-30): the transforms are the forward's transposed, constants of the same size.
    /// </remarks>
    public sealed class StridedWinogradBackwardTests
    {
        private const double Tolerance = 2e-5;

        public static IEnumerable<object[]> Shapes()
        {
            foreach (var shape in StridedWinogradConvolutionTests.Shapes()) yield return shape;
            // inChannels, height, width, outChannels, padding, bias (unused)
            yield return new object[] { 32, 15, 15, 64, 1, false };
            yield return new object[] { 16, 17, 17, 32, 1, false };
            yield return new object[] { 64, 17, 15, 48, 0, false };
            yield return new object[] { 17, 15, 17, 33, 2, false };
        }

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        // The tiles this machine runs: all three with AVX-512, the 4x4 tile on Vector256 with AVX2 and FMA, none without SIMD.
        private static int[] TilesHere => new[] { 4, 2, StridedWinogradConvolution.Wide }.Where(StridedWinogradConvolution.RunsTile).ToArray();

        [Theory]
        [MemberData(nameof(Shapes))]
        public void InputGradient_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool unused)
        {
            _ = unused;
            if (TilesHere.Length == 0) return; // no SIMD: StridedConvolutionTests cover these layers' gradients on every path
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1, inLength = inChannels * height * width;
            float[] dy = RandomValues(random, outChannels * outHeight * outWidth);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            var (expected, scale) = InputGradientDefinition(dy, weight, inChannels, height, width, outChannels, padding);
            foreach (int tile in TilesHere)
            {
                var layout = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile);
                float[] filters = Filled(layout.TransposedFiltersLength, float.NaN);
                StridedWinogradConvolution.TransformFiltersTransposed(weight, filters, layout);
                float[] scratch = Filled(layout.InputGradientScratchLength, float.NaN); // whatever the scratch held must not reach dx
                for (int round = 0; round < 2; round++) // the second call on the first's scratch
                {
                    float[] dx = Filled(inLength + 5, float.NaN);
                    StridedWinogradConvolution.InputGradient(dy, filters, dx.AsSpan(0, inLength), scratch, layout);
                    AssertWithinScale(dx, inLength, expected, scale, relu: false, Tolerance, "tile " + tile + ", call " + round);
                }
            }
        }

        [Theory]
        [InlineData(3, 17, 4)]
        [InlineData(17, 5, 2)]
        [InlineData(32, 16, 24)]
        [InlineData(40, 33, 4)]
        public void TransformFiltersTransposed_IsTheForwardsFilters_ChannelsSwapped(int inChannels, int outChannels, int tile)
        {
            // The same floats as TransformFilters, at U[slot][oc][ic lanes] instead of U[slot][ic][oc lanes]; zero lanes past
            // the last input channel.
            var random = new Random(inChannels * 7 + outChannels + tile);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            var layout = new StridedWinogradConvolution.Layout(inChannels, 12, 12, outChannels, 1, tile);
            float[] forward = new float[layout.FiltersLength];
            StridedWinogradConvolution.TransformFilters(weight, forward, layout);
            float[] transposed = Filled(layout.TransposedFiltersLength, float.NaN);
            StridedWinogradConvolution.TransformFiltersTransposed(weight, transposed, layout);
            int forwardStride = layout.FilterPositionStride, stride = layout.TransposedFilterPositionStride;
            for (int slot = 0; slot < layout.FilterSlots; slot++)
                for (int oc = 0; oc < outChannels; oc++)
                    for (int lane = 0; lane < layout.InLanes; lane++)
                        Assert.Equal(lane < inChannels ? forward[slot * forwardStride + WinogradF4Convolution.FilterAt(lane, oc, layout.InChannels, layout.OutGroups)] : 0f, transposed[slot * stride + WinogradF4Convolution.FilterAt(oc, lane, layout.OutChannels, layout.InGroups)]);
        }

        [Theory]
        [InlineData(64, 8, 128, 2)]    // onto 4x4 (session 30): the 2x2 tile
        [InlineData(32, 8, 64, 2)]
        [InlineData(32, 12, 64, 2)]    // onto 6x6
        [InlineData(128, 8, 128, 0)]   // Cin·Cout 16,384: above the small outputs' limit, the lanes kernel
        [InlineData(16, 8, 32, 0)]     // 512: below the minimum
        [InlineData(64, 4, 128, 0)]    // onto 2x2: the lanes kernel
        [InlineData(64, 10, 64, 0)]    // onto 5x5: odd
        [InlineData(32, 16, 64, 2)]    // onto 8x8 (unchanged): the 2x4 tile's rule
        public void InputGradientTile_OnSmallOutputs(int inChannels, int size, int outChannels, int rule)
        {
            int tile = StridedConvolution.InputGradientTileFor(inChannels, size, size, outChannels, 3, 2, 1);
            // Without AVX-512 the 4x4 tile alone, from 64 output cells (8x8 here) and Cin·Cout 1024.
            int vector256 = size >= 16 && (long)inChannels * outChannels >= 1024 ? 4 : 0;
            Assert.Equal(Available && Simd.Enabled ? (rule == 2 && size == 16 ? StridedWinogradConvolution.Wide : rule) : StridedWinogradConvolution.Runs ? vector256 : 0, tile);
        }

        [Fact]
        public void BackwardPacked_ByWinograd_RefusesShortFilters_AndAllocatesNothing()
        {
            // The strided network's 32x32x32 -> 64 layer: the 4x4 tile where the machine has AVX-512 (the lanes kernel or
            // GEMM + col2im elsewhere, the same calls).
            const int c = 32, h = 32, oc = 64;
            float[] x = new float[c * h * h], w = new float[oc * c * 9], dy = new float[oc * 16 * 16], dw = new float[w.Length], dx = new float[x.Length];
            float[] scratch = new float[StridedConvolution.ScratchLength(c, h, h, oc, 3, 2, 1)];
            int length = StridedConvolution.InputGradientWeightsLength(c, h, h, oc, 3, 2, 1);
            bool winograd = StridedConvolution.InputGradientTileFor(c, h, h, oc, 3, 2, 1) != 0;
            Assert.Equal(StridedWinogradConvolution.Runs, winograd);
            if (winograd) Assert.Equal(new StridedWinogradConvolution.Layout(c, h, h, oc, 1, 4).TransposedFiltersLength, length);
            float[] packed = new float[length];
            StridedConvolution.PackInputGradientWeights(w, c, h, h, oc, 3, 2, 1, packed);
            if (winograd)
                Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardPacked(x, c, h, h, w, dy, oc, 3, 2, 1, dw, dx, scratch, packed.AsSpan(1)));
            Infrastructure.Allocations.AssertNone(() => StridedConvolution.BackwardPacked(x, c, h, h, w, dy, oc, 3, 2, 1, dw, dx, scratch, packed), calls: 20);
        }

        // dx[ic][iy][ix] = Σ dy[oc][oy][ox] · w[oc][ic][ky][kx] over iy = 2·oy + ky − p, ix = 2·ox + kx − p, in double; and
        // each cell's Σ |dy·w|.
        internal static (double[] Value, double[] Scale) InputGradientDefinition(float[] dy, float[] weight, int inChannels, int height, int width, int outChannels, int padding)
        {
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1;
            var value = new double[inChannels * height * width];
            var scale = new double[value.Length];
            for (int oc = 0; oc < outChannels; oc++)
                for (int ic = 0; ic < inChannels; ic++)
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            double d = dy[(oc * outHeight + oy) * outWidth + ox];
                            for (int ky = 0; ky < 3; ky++)
                            {
                                int iy = 2 * oy + ky - padding;
                                if (iy < 0 || iy >= height) continue;
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int ix = 2 * ox + kx - padding;
                                    if (ix < 0 || ix >= width) continue;
                                    double product = d * weight[((oc * inChannels + ic) * 3 + ky) * 3 + kx];
                                    int at = (ic * height + iy) * width + ix;
                                    value[at] += product;
                                    scale[at] += Math.Abs(product);
                                }
                            }
                        }
            return (value, scale);
        }
    }
}
