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
    /// <summary>Two stride-2 layers with batch-norm, then a global average pooling: one link, and the pooling fused.</summary>
    [Network(16, 32, 32)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(5)]
    public partial class LinkedStridedNet { }

    /// <summary>
    /// Linked stride-2 layers (<see cref="StridedConvolution.ForwardPreparedLinked"/>, <see cref="StridedWinogradConvolution.ForwardLinked"/>):
    /// a layer that hands its maps to the next one in the Winograd kernel's padded layout, and the next one that reads them
    /// there, give the same floats as the two layers through NCHW (the same values are transformed, in the same order; a stem
    /// that hands on from the lanes kernel instead of the phases kernel rounds differently, hence means to 1e-5); a
    /// layer that ends in the channels' means gives the means of its maps. On every path: where a layer does not run the
    /// Winograd kernel (Vector256, scalar, shapes it does not pay on) the links fall back to NCHW.
    /// </summary>
    public sealed class StridedLinkTests
    {
        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        public static IEnumerable<object[]> Chains() => new[]
        {
            // input channels, height, width, then three layers' output channels and paddings
            new object[] { 3, 64, 64, 32, 64, 128, 1, 1, 1 },   // the strided network: a stem (direct), then 4x4 and 2x2 tiles
            new object[] { 16, 32, 32, 32, 64, 128, 1, 1, 1 },  // 4x4 tile, then 2x4, then 2x2: two links
            new object[] { 24, 35, 29, 40, 56, 72, 1, 0, 1 },   // odd maps, channels off the vector, padding 0 in the middle
            new object[] { 20, 47, 47, 36, 48, 48, 0, 1, 1 },   // padding 0 first: 23x23, then 12x12 and 6x6
            new object[] { 32, 16, 16, 64, 64, 64, 1, 1, 1 },   // down to 2x2 maps: the last layer runs direct (no link into it)
            new object[] { 3, 33, 31, 32, 32, 64, 0, 1, 1 },    // a stem of 32 channels, no padding, odd maps: the lanes kernel hands on
            new object[] { 3, 32, 32, 16, 32, 64, 1, 1, 1 },    // a stem of 16 channels: the phases kernel, through NCHW
            new object[] { 16, 30, 30, 16, 32, 64, 1, 1, 1 },   // 16 in, 16 out (no Winograd): the lanes kernel hands on
            new object[] { 5, 40, 40, 24, 48, 64, 1, 1, 1 },    // a stem of 24 channels: not whole vectors, through NCHW
            new object[] { 8, 64, 64, 48, 64, 96, 1, 1, 1 },    // 48 channels: two blocks and one
            new object[] { 3, 96, 96, 32, 64, 64, 1, 1, 1 },    // a stem onto rows of 48 cells: the lanes kernel's tiles of 12
            new object[] { 3, 50, 44, 32, 48, 64, 1, 1, 1 },    // rows of 22 cells: tiles of 11
            new object[] { 3, 20, 18, 32, 64, 64, 1, 1, 1 },    // rows of 9 cells: one tile of 9
        };

        [Theory]
        [MemberData(nameof(Chains))]
        public void LinkedChain_IsTheChainThroughNchw_AndItsMeans(int inChannels, int height, int width, int c1, int c2, int c3, int p1, int p2, int p3)
        {
            var random = new Random(inChannels * 7 + height + c1 + c3);
            var shapes = new List<(int C, int H, int W, int OC, int P)>();
            int c = inChannels, h = height, w = width;
            foreach (var (oc, p) in new[] { (c1, p1), (c2, p2), (c3, p3) })
            {
                shapes.Add((c, h, w, oc, p));
                (c, h, w) = (oc, (h + 2 * p - 3) / 2 + 1, (w + 2 * p - 3) / 2 + 1);
            }
            var prepared = shapes.Select(s =>
            {
                float[] weight = RandomValues(random, s.OC * s.C * 9), bias = RandomValues(random, s.OC);
                float[] p = new float[StridedConvolution.PreparedLength(s.C, s.H, s.W, s.OC, 3, 2, s.P)];
                StridedConvolution.Prepare(weight, bias, s.C, s.H, s.W, s.OC, 3, 2, s.P, p);
                return p;
            }).ToArray();
            float[] x = RandomValues(random, inChannels * height * width);

            // Through NCHW, layer by layer, then the means in double.
            float[] maps = x;
            foreach (var (s, i) in shapes.Select((s, i) => (s, i)))
            {
                var next = new float[s.OC * ((s.H + 2 * s.P - 3) / 2 + 1) * ((s.W + 2 * s.P - 3) / 2 + 1)];
                float[] own = Filled(StridedConvolution.ScratchLength(s.C, s.H, s.W, s.OC, 3, 2, s.P), float.NaN);
                StridedConvolution.ForwardPrepared(maps, s.C, s.H, s.W, prepared[i], s.OC, 3, 2, s.P, next, own, relu: true);
                maps = next;
            }
            int cells = maps.Length / c3;

            // Linked: the first link at the scratch's end, the second at its start; the last layer ends in the means.
            var links = new StridedConvolution.Link[4];
            links[0] = StridedConvolution.Link.None;
            for (int i = 0; i < 2; i++)
            {
                var b = shapes[i + 1];
                links[i + 1] = StridedConvolution.Link.Convolution(b.C, b.H, b.W, b.OC, 3, 2, b.P, atEnd: i % 2 == 0);
            }
            links[3] = StridedConvolution.Link.GlobalMean;
            int scratchLength = 0;
            for (int i = 0; i < 3; i++)
            {
                var s = shapes[i];
                var previous = i == 0 ? links[0] : Link(shapes[i - 1], i % 2 == 1);
                scratchLength = Math.Max(scratchLength, StridedConvolution.LinkedScratchLength(s.C, s.H, s.W, s.OC, 3, 2, s.P, previous, links[i + 1]));
            }
            float[] scratch = Filled(scratchLength + 7, float.NaN); // an odd length: the end region lies where both sides compute it
            float[] linked = x;
            float[] means = Filled(c3 + 1, float.NaN);
            for (int i = 0; i < 3; i++)
            {
                var s = shapes[i];
                var previous = i == 0 ? links[0] : Link(shapes[i - 1], i % 2 == 1);
                // Where a link is taken the maps between are not written: NaN there must not matter.
                var y = i == 2 ? means.AsSpan(0, c3) : Filled(s.OC * shapes[i + 1].H * shapes[i + 1].W, float.NaN);
                StridedConvolution.ForwardPreparedLinked(linked, s.C, s.H, s.W, prepared[i], s.OC, 3, 2, s.P, y, scratch, relu: true, previous, links[i + 1]);
                if (i < 2)
                {
                    // Where the layer hands its maps on (both layers run Winograd) y is untouched; elsewhere it holds the NCHW maps.
                    var b = shapes[i + 1];
                    // A layer that does not run Winograd itself hands on from the lanes kernel where its output channels fill vectors
                    // (with AVX-512 where the phases kernel does not take a 16-channel stem; on Vector256 wherever the lanes kernel runs).
                    bool lanesHandOn = s.OC % 16 == 0 && (StridedWinogradConvolution.Available ? s.OC >= 32 || s.C > 8 : StridedWinogradConvolution.Runs);
                    bool handed = (StridedWinogradConvolution.TileFor(s.C, s.H, s.W, s.OC, s.P) != 0 || lanesHandOn)
                        && StridedWinogradConvolution.TileFor(b.C, b.H, b.W, b.OC, b.P) != 0;
                    Assert.Equal(handed, y.ToArray().All(float.IsNaN));
                    linked = y.ToArray();
                }
            }
            Assert.True(float.IsNaN(means[c3]), "wrote past the means");
            for (int oc = 0; oc < c3; oc++)
            {
                double sum = 0, magnitude = 0;
                for (int i = 0; i < cells; i++) { sum += maps[oc * cells + i]; magnitude += Math.Abs(maps[oc * cells + i]); }
                double expected = sum / cells;
                Assert.True(Math.Abs(means[oc] - expected) <= 1e-5 * (magnitude / cells) + 1e-30,
                    $"channel {oc}: {means[oc]}, expected {expected} (links taken: {Taken(shapes)})");
            }
        }

        // The link into layer s from the one before it, in the region the layer before wrote.
        private static StridedConvolution.Link Link((int C, int H, int W, int OC, int P) before, bool atEnd) =>
            StridedConvolution.Link.Convolution(before.C, before.H, before.W, before.OC, 3, 2, before.P, atEnd);

        private static string Taken(List<(int C, int H, int W, int OC, int P)> shapes) =>
            string.Join(", ", shapes.Select(s => StridedWinogradConvolution.TileFor(s.C, s.H, s.W, s.OC, s.P)));

        public static IEnumerable<object[]> Pairs() => new[]
        {
            // A: inChannels, height, width, outChannels, padding, tile; B: outChannels, padding, tile
            new object[] { 32, 32, 32, 64, 1, 4, 128, 1, 2 },
            new object[] { 17, 21, 19, 20, 1, 24, 33, 0, 4 },    // channels off the vector, odd maps, a partial last group
            new object[] { 16, 30, 26, 16, 0, 2, 16, 1, 24 },
            new object[] { 5, 9, 11, 3, 1, 4, 7, 1, 2 },
            new object[] { 40, 40, 40, 48, 1, 24, 32, 1, 4 },
        };

        [Theory]
        [MemberData(nameof(Pairs))]
        public void ForwardLinked_PaddedHandoff_IsPadOfTheMaps_BitForBit(int c, int h, int w, int oc, int p, int tile, int oc2, int p2, int tile2)
        {
            if (!Available) return; // the Winograd kernel is Vector512 only; LinkedChain covers the other paths' fallbacks
            var random = new Random(c + h * 3 + oc2);
            var a = new StridedWinogradConvolution.Layout(c, h, w, oc, p, tile);
            var b = new StridedWinogradConvolution.Layout(oc, a.OutHeight, a.OutWidth, oc2, p2, tile2);
            float[] x = RandomValues(random, c * h * w), bias = RandomValues(random, oc), bias2 = RandomValues(random, oc2);
            float[] fa = new float[a.FiltersLength], fb = new float[b.FiltersLength];
            StridedWinogradConvolution.TransformFilters(RandomValues(random, oc * c * 9), fa, a);
            StridedWinogradConvolution.TransformFilters(RandomValues(random, oc2 * oc * 9), fb, b);
            foreach (bool relu in new[] { true, false })
            {
                float[] maps = new float[oc * a.OutHeight * a.OutWidth], expected = new float[oc2 * b.OutHeight * b.OutWidth];
                float[] scratch = Filled(Math.Max(a.ScratchLength, b.ScratchLength), float.NaN);
                StridedWinogradConvolution.Forward(x, fa, bias, maps, scratch, relu, a);
                StridedWinogradConvolution.Forward(maps, fb, bias2, expected, scratch, relu, b);

                float[] padded = Filled(b.PaddedLength, float.NaN);
                StridedWinogradConvolution.ForwardLinked(x, default, fa, bias, padded, Filled(a.ScratchLength, float.NaN), relu, a, b.Maps, StridedWinogradConvolution.Handoff.NextInput);
                float[] y = Filled(expected.Length + 3, float.NaN);
                StridedWinogradConvolution.ForwardLinked(default, padded, fb, bias2, y.AsSpan(0, expected.Length), Filled(b.ScratchLength, float.NaN), relu, b, default,
                    StridedWinogradConvolution.Handoff.Maps);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]), $"relu {relu}, y[{i}] = {y[i]}, through NCHW {expected[i]}");
                Assert.True(float.IsNaN(y[expected.Length]));

                // The means, summed in the output transform, against the maps' means in double.
                float[] means = Filled(oc + 1, float.NaN);
                StridedWinogradConvolution.ForwardLinked(x, default, fa, bias, means.AsSpan(0, oc), Filled(a.ScratchLength, float.NaN), relu, a, default,
                    StridedWinogradConvolution.Handoff.Means);
                int cells = a.OutHeight * a.OutWidth;
                for (int ch = 0; ch < oc; ch++)
                {
                    double sum = 0, magnitude = 0;
                    for (int i = 0; i < cells; i++) { sum += maps[ch * cells + i]; magnitude += Math.Abs(maps[ch * cells + i]); }
                    Assert.True(Math.Abs(means[ch] - sum / cells) <= 1e-5 * magnitude / cells + 1e-30, $"relu {relu}, channel {ch}: {means[ch]}, expected {sum / cells}");
                }
                Assert.True(float.IsNaN(means[oc]));
            }
        }

        [Fact]
        public void GeneratedNetwork_LinksItsStridedLayers_AndSaysTheirOutputsAreNotKept()
        {
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Linked;\n[Network(16, 32, 32)]\n[Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            Assert.Contains("ForwardPreparedLinked(x, 16, 32, 32, p, 32, 3, 2, 1, y, columns, relu: true, global::CnnGen.Kernels.StridedConvolution.Link.None, "
                + "global::CnnGen.Kernels.StridedConvolution.Link.Convolution(32, 16, 16, 64, 3, 2, 1, atEnd: true));", source);
            Assert.Contains("ForwardPreparedLinked(x, 32, 16, 16, p, 64, 3, 2, 1, y, columns, relu: true, global::CnnGen.Kernels.StridedConvolution.Link.Convolution(16, 32, 32, 32, 3, 2, 1, atEnd: true), "
                + "global::CnnGen.Kernels.StridedConvolution.Link.GlobalMean);", source);
            Assert.Contains("Layer3Conv2dBatchNormReLUGlobalAvgPool(", source);

            var network = new LinkedStridedNet();
            network.ResetParameters(3);
            var random = new Random(4);
            float[] input = RandomValues(random, 2 * LinkedStridedNet.InputLength), output = new float[2 * LinkedStridedNet.OutputLength];
            var workspace = network.CreateWorkspace(2);
            network.Forward(input, output, 2, workspace);
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
            Assert.Contains("fused into layer 6", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(5).Length).Message);
            // Training mode writes them (the links and the pooling fusion are evaluation's).
            network.Forward(input, output, 2, workspace, training: true);
            Assert.Equal(2 * 32 * 16 * 16, workspace.LayerOutput(2).Length);
            Assert.Equal(2 * 64 * 8 * 8, workspace.LayerOutput(5).Length);
        }

        [Fact]
        public void LinkedChain_AllocatesNothing()
        {
            float[] x = new float[32 * 32 * 32], w1 = new float[64 * 32 * 9], w2 = new float[128 * 64 * 9], b1 = new float[64], b2 = new float[128];
            float[] p1 = new float[StridedConvolution.PreparedLength(32, 32, 32, 64, 3, 2, 1)], p2 = new float[StridedConvolution.PreparedLength(64, 16, 16, 128, 3, 2, 1)];
            StridedConvolution.Prepare(w1, b1, 32, 32, 32, 64, 3, 2, 1, p1);
            StridedConvolution.Prepare(w2, b2, 64, 16, 16, 128, 3, 2, 1, p2);
            var into = StridedConvolution.Link.Convolution(64, 16, 16, 128, 3, 2, 1, atEnd: true);
            var from = StridedConvolution.Link.Convolution(32, 32, 32, 64, 3, 2, 1, atEnd: true);
            float[] scratch = new float[Math.Max(StridedConvolution.LinkedScratchLength(32, 32, 32, 64, 3, 2, 1, StridedConvolution.Link.None, into),
                StridedConvolution.LinkedScratchLength(64, 16, 16, 128, 3, 2, 1, from, StridedConvolution.Link.GlobalMean))];
            float[] maps = new float[64 * 16 * 16], means = new float[128];
            Infrastructure.Allocations.AssertNone(() =>
            {
                StridedConvolution.ForwardPreparedLinked(x, 32, 32, 32, p1, 64, 3, 2, 1, maps, scratch, relu: true, StridedConvolution.Link.None, into);
                StridedConvolution.ForwardPreparedLinked(maps, 64, 16, 16, p2, 128, 3, 2, 1, means, scratch, relu: true, from, StridedConvolution.Link.GlobalMean);
            }, calls: 20);
        }
    }
}
