using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// Three 3x3 stride-1 layers with batch-norm, the second pooled: two links (the second from a pooled output), then a
    /// layer with LeakyReLU after it (applied in place after its kernel: not linked).
    /// </summary>
    [Network(16, 32, 32)]
    [Conv2d(16, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(32, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(32, 3, Padding = 1)]
    [ReLU]
    [Conv2d(32, 3, Padding = 1)]
    [LeakyReLU]
    [Flatten]
    [Linear(5)]
    public partial class LinkedWinogradNet { }

    /// <summary>
    /// Linked stride-1 layers (<see cref="DirectConvolution.ForwardLinked"/>, <see cref="WinogradF4Convolution.ForwardLinked"/>):
    /// a layer that hands its (pooled) maps to the next one in the Winograd kernel's padded layout, and the next one that
    /// reads them there, give the same floats as the layers through NCHW, bit for bit (the same values are transformed, in
    /// the same order). On every path: where either layer of a link does not run the Winograd kernel (Vector256, scalar,
    /// shapes it does not pay on) the link falls back to NCHW, and the maps between are written as unlinked.
    /// </summary>
    public sealed class WinogradLinkTests
    {
        public static IEnumerable<object[]> Chains() => new[]
        {
            // input channels, height, width, then three layers: output channels, kernel, padding, "pool" and "relu" flags
            new object[] { 16, 32, 32, "16 k3 p1 relu, 16 k3 p1, 32 k3 p1 relu" },              // ResNet's first stage: two links
            new object[] { 32, 32, 32, "32 k3 p1 relu pool, 64 k3 p1 relu, 64 k3 p1 relu pool" }, // a VGG-style run, pooled in and out
            new object[] { 24, 13, 13, "40 k3 p1 relu, 40 k3 p0 relu, 24 k3 p1" },              // odd maps, channels off the vector, padding 0
            new object[] { 20, 22, 18, "36 k3 p1 relu pool, 36 k3 p1 relu, 20 k3 p2 relu" },     // pooling onto 11x9, a wider padding next
            new object[] { 16, 16, 16, "32 k5 p2 relu, 32 k3 p1 relu, 32 k5 p2 relu pool" },     // 5x5 layers (F(2x2, 5x5)) between 3x3 ones
            new object[] { 64, 8, 8, "64 k3 p1 relu, 64 k3 p1, 64 k3 p1 relu" },                 // small maps, wide layers
            new object[] { 3, 32, 32, "16 k3 p1 relu, 16 k3 p1 relu, 16 k3 p1" },                // a 3-channel stem (no Winograd) before a link
            new object[] { 8, 12, 12, "8 k3 p1 relu, 8 k3 p1 relu, 8 k3 p1" },                   // too few channels: no links taken
        };

        [Theory]
        [MemberData(nameof(Chains))]
        public void LinkedChain_IsTheChainThroughNchw_BitForBit(int inChannels, int height, int width, string layers)
        {
            var random = new Random(inChannels * 7 + height * 3 + layers.Length);
            var shapes = Shapes(inChannels, height, width, layers);
            var weights = shapes.Select(s => RandomValues(random, s.OC * s.C * s.K * s.K)).ToArray();
            var biases = shapes.Select(s => RandomValues(random, s.OC)).ToArray();
            var filters = shapes.Select((s, i) =>
            {
                float[] f = new float[DirectConvolution.WinogradFiltersLength(s.C, s.H, s.W, s.OC, s.K, s.P)];
                DirectConvolution.TransformFilters(weights[i], s.C, s.H, s.W, s.OC, s.K, s.P, f);
                return f;
            }).ToArray();
            float[] x = RandomValues(random, inChannels * height * width);

            // Through NCHW, layer by layer.
            var expected = new List<float[]>();
            float[] maps = x;
            foreach (var (s, i) in shapes.Select((s, i) => (s, i)))
            {
                var next = new float[s.OC * s.OutH * s.OutW];
                float[] scratch = Filled(DirectConvolution.ScratchLengthWithFilters(s.C, s.H, s.W, s.OC, s.K, s.P), float.NaN);
                if (s.Pool) DirectConvolution.ForwardPooledWithFilters(maps, s.C, s.H, s.W, weights[i], biases[i], s.OC, s.K, s.P, next, scratch, s.Relu, filters[i]);
                else DirectConvolution.ForwardWithFilters(maps, s.C, s.H, s.W, weights[i], biases[i], s.OC, s.K, s.P, next, scratch, s.Relu, filters[i]);
                expected.Add(next);
                maps = next;
            }

            // Linked: the first link at the scratch's end, the second at its start.
            var links = new DirectConvolution.Link[shapes.Count + 1];
            for (int i = 0; i <= shapes.Count; i++)
                links[i] = i == 0 || i == shapes.Count ? DirectConvolution.Link.None : Link(shapes[i], atEnd: i % 2 == 1);
            DirectConvolution.Link Previous(int i) => i == 0 ? DirectConvolution.Link.None : Link(shapes[i - 1], atEnd: i % 2 == 1);
            int scratchLength = shapes.Select((s, i) => DirectConvolution.LinkedScratchLength(s.C, s.H, s.W, s.OC, s.K, s.P, s.Pool, Previous(i), links[i + 1])).Max();
            float[] shared = Filled(scratchLength + 7, float.NaN); // an odd length: the end region lies where both sides compute it
            float[] input = x;
            for (int i = 0; i < shapes.Count; i++)
            {
                var s = shapes[i];
                // Where a link is taken the maps between are not written: NaN there must not matter, nor be touched.
                float[] y = Filled(s.OC * s.OutH * s.OutW + 5, float.NaN);
                DirectConvolution.ForwardLinked(input, s.C, s.H, s.W, weights[i], biases[i], s.OC, s.K, s.P, y.AsSpan(0, y.Length - 5), shared, s.Relu, s.Pool, filters[i],
                    Previous(i), links[i + 1]);
                Assert.True(y.Skip(y.Length - 5).All(float.IsNaN), $"layer {i} wrote past its output");
                bool handed = i + 1 < shapes.Count && Winograd(s) && Winograd(shapes[i + 1]);
                if (handed)
                {
                    Assert.True(y.All(float.IsNaN), $"layer {i} handed its maps on but wrote them too");
                    input = Filled(s.OC * s.OutH * s.OutW, float.NaN); // the next layer must not read x
                    continue;
                }
                var got = y.AsSpan(0, y.Length - 5).ToArray();
                for (int j = 0; j < got.Length; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(got[j]) == BitConverter.SingleToInt32Bits(expected[i][j]),
                        $"layer {i}, float {j}: {got[j]}, expected {expected[i][j]} (Winograd: {string.Join(", ", shapes.Select(Winograd))})");
                input = got;
            }
        }

        [Fact]
        public void LinkedScratchLength_GrowsByTheHandedMaps_OnlyWhereBothRunWinograd()
        {
            // 16 -> 16 on 32x32 runs F(4x4, 3x3) where the machine has it; 3 -> 16 never does.
            var resnet = Link((16, 32, 32, 16, 3, 1, false, true, 32, 32), atEnd: true);
            int alone = DirectConvolution.ScratchLengthWithFilters(16, 32, 32, 16, 3, 1);
            int linked = DirectConvolution.LinkedScratchLength(16, 32, 32, 16, 3, 1, pool: false, DirectConvolution.Link.None, resnet);
            if (Winograd((16, 32, 32, 16, 3, 1, false, true, 32, 32))) Assert.True(linked > alone + 16 * 34 * 34);
            else Assert.Equal(alone, linked);
            int stem = DirectConvolution.LinkedScratchLength(3, 32, 32, 16, 3, 1, pool: false, DirectConvolution.Link.None, resnet);
            Assert.Equal(DirectConvolution.ScratchLengthWithFilters(3, 32, 32, 16, 3, 1), stem);
        }

        [Fact]
        public void ForwardLinked_ChecksTheScratch_AndTheNextLayersShape()
        {
            var next = DirectConvolution.Link.Convolution(16, 32, 32, 16, 3, 1, pool: false, atEnd: true);
            float[] x = new float[16 * 32 * 32], w = new float[16 * 16 * 9], y = new float[16 * 32 * 32];
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(16, 32, 32, 16, 3, 1)];
            int needed = DirectConvolution.LinkedScratchLength(16, 32, 32, 16, 3, 1, false, DirectConvolution.Link.None, next);
            var error = Assert.Throws<ArgumentException>(() => DirectConvolution.ForwardLinked(x, 16, 32, 32, w, default, 16, 3, 1, y, new float[needed - 1], true, false, filters,
                DirectConvolution.Link.None, next));
            Assert.Equal("scratch", error.ParamName);
            // A next layer whose input is not this output is no link: the maps go to y in NCHW as unlinked.
            var mismatched = DirectConvolution.Link.Convolution(16, 30, 30, 16, 3, 1, pool: false, atEnd: true);
            Array.Fill(y, float.NaN);
            DirectConvolution.ForwardLinked(x, 16, 32, 32, w, default, 16, 3, 1, y, new float[needed], true, false, filters, DirectConvolution.Link.None, mismatched);
            Assert.DoesNotContain(y, float.IsNaN);
        }

        [Fact]
        public void GeneratedNetwork_LinksItsWinogradLayers_AndSaysTheirOutputsAreNotKept()
        {
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Linked;\n[Network(16, 32, 32)]\n[Conv2d(16, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[MaxPool(2)]\n[Conv2d(32, 3, Padding = 1)]\n[ReLU]\n"
                + "[Conv2d(32, 3, Padding = 1)]\n[LeakyReLU]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            const string link = "global::CnnGen.Kernels.DirectConvolution.Link.";
            Assert.Contains("ForwardLinked(x, 16, 32, 32, p.Slice(0, 2304), p.Slice(2304, 16), 16, 3, 1, y, columns, relu: true, pool: false, filters, " + link + "None, "
                + link + "Convolution(16, 32, 32, 32, 3, 1, pool: true, atEnd: true));", source);
            Assert.Contains("ForwardLinked(x, 16, 32, 32, p.Slice(0, 4608), p.Slice(4608, 32), 32, 3, 1, y, columns, relu: true, pool: true, filters, "
                + link + "Convolution(16, 32, 32, 16, 3, 1, pool: false, atEnd: true), " + link + "Convolution(32, 16, 16, 32, 3, 1, pool: false, atEnd: false));", source);
            Assert.Contains("ForwardLinked(x, 32, 16, 16, p.Slice(0, 9216), p.Slice(9216, 32), 32, 3, 1, y, columns, relu: true, pool: false, filters, "
                + link + "Convolution(16, 32, 32, 32, 3, 1, pool: true, atEnd: false), " + link + "None);", source);
            // The LeakyReLU runs in place after its layer's kernel, on NCHW maps: that layer is not linked.
            Assert.Equal(3, source.Split("DirectConvolution.ForwardLinked(").Length - 1);

            var network = new LinkedWinogradNet();
            network.ResetParameters(3);
            var random = new Random(4);
            float[] input = RandomValues(random, 2 * LinkedWinogradNet.InputLength), output = new float[2 * LinkedWinogradNet.OutputLength];
            var workspace = network.CreateWorkspace(2);
            network.Forward(input, output, 2, workspace);
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
            Assert.Contains("goes straight into layer 7", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(6).Length).Message);
            // Training mode writes them (the links are evaluation's).
            network.Forward(input, output, 2, workspace, training: true);
            Assert.Equal(2 * 16 * 32 * 32, workspace.LayerOutput(2).Length);
            Assert.Equal(2 * 32 * 16 * 16, workspace.LayerOutput(6).Length);
        }

        [Fact]
        public void LinkedChain_AllocatesNothing()
        {
            float[] x = new float[16 * 32 * 32], w1 = new float[16 * 16 * 9], w2 = new float[32 * 16 * 9], b1 = new float[16], b2 = new float[32];
            float[] f1 = new float[DirectConvolution.WinogradFiltersLength(16, 32, 32, 16, 3, 1)], f2 = new float[DirectConvolution.WinogradFiltersLength(16, 32, 32, 32, 3, 1)];
            DirectConvolution.TransformFilters(w1, 16, 32, 32, 16, 3, 1, f1);
            DirectConvolution.TransformFilters(w2, 16, 32, 32, 32, 3, 1, f2);
            var into = DirectConvolution.Link.Convolution(16, 32, 32, 32, 3, 1, pool: true, atEnd: true);
            var from = DirectConvolution.Link.Convolution(16, 32, 32, 16, 3, 1, pool: false, atEnd: true);
            float[] scratch = new float[Math.Max(DirectConvolution.LinkedScratchLength(16, 32, 32, 16, 3, 1, false, DirectConvolution.Link.None, into),
                DirectConvolution.LinkedScratchLength(16, 32, 32, 32, 3, 1, true, from, DirectConvolution.Link.None))];
            float[] maps = new float[16 * 32 * 32], pooled = new float[32 * 16 * 16];
            Infrastructure.Allocations.AssertNone(() =>
            {
                DirectConvolution.ForwardLinked(x, 16, 32, 32, w1, b1, 16, 3, 1, maps, scratch, relu: true, pool: false, f1, DirectConvolution.Link.None, into);
                DirectConvolution.ForwardLinked(maps, 16, 32, 32, w2, b2, 32, 3, 1, pooled, scratch, relu: true, pool: true, f2, from, DirectConvolution.Link.None);
            }, calls: 20);
        }

        private static bool Winograd((int C, int H, int W, int OC, int K, int P, bool Pool, bool Relu, int OutH, int OutW) s) =>
            DirectConvolution.ForwardByWinograd(s.C, s.H, s.W, s.OC, s.K, s.P) && Kernels.Simd.Enabled;

        private static DirectConvolution.Link Link((int C, int H, int W, int OC, int K, int P, bool Pool, bool Relu, int OutH, int OutW) s, bool atEnd) =>
            DirectConvolution.Link.Convolution(s.C, s.H, s.W, s.OC, s.K, s.P, s.Pool, atEnd);

        private static List<(int C, int H, int W, int OC, int K, int P, bool Pool, bool Relu, int OutH, int OutW)> Shapes(int c, int h, int w, string layers)
        {
            var shapes = new List<(int C, int H, int W, int OC, int K, int P, bool Pool, bool Relu, int OutH, int OutW)>();
            foreach (var layer in layers.Split(','))
            {
                var words = layer.Trim().Split(' ');
                int oc = int.Parse(words[0]), k = int.Parse(words.First(word => word[0] == 'k')[1..]), p = int.Parse(words.First(word => word[0] == 'p' && word != "pool")[1..]);
                bool pool = words.Contains("pool"), relu = words.Contains("relu");
                int oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1;
                if (pool) (oh, ow) = (oh / 2, ow / 2);
                shapes.Add((c, h, w, oc, k, p, pool, relu, oh, ow));
                (c, h, w) = (oc, oh, ow);
            }
            return shapes;
        }
    }
}
