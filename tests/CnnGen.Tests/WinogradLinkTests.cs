using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// Four 3x3 stride-1 layers, the first two with batch-norm, the second pooled: three links (the second from a pooled
    /// output), the last layer's LeakyReLU applied in place over what its kernel wrote.
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

    /// <summary>Two 3x3 layers with SiLU after each: the first hands its maps on, and its SiLU runs over the next layer's padded input.</summary>
    [Network(16, 16, 16)]
    [Conv2d(32, 3, Padding = 1)]
    [SiLU]
    [Conv2d(32, 3, Padding = 1)]
    [SiLU]
    [Flatten]
    [Linear(5)]
    public partial class LinkedSiluNet { }

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
            new object[] { 3, 32, 32, "16 k3 p1 relu, 16 k3 p1 relu, 16 k3 p1" },                // a 3-channel stem hands on from the lanes kernel
            new object[] { 3, 30, 34, "32 k3 p1 relu, 32 k3 p1 relu pool, 64 k3 p1" },           // a stem of two blocks (pairs of blocks on narrow rows not here), odd sides
            new object[] { 1, 12, 12, "16 k5 p2, 16 k3 p1 relu, 16 k3 p1" },                     // a 5x5 one-channel stem without ReLU
            new object[] { 3, 32, 32, "24 k3 p1 relu, 32 k3 p1 relu, 32 k3 p1" },                // 24 channels out of the stem: not whole blocks, through NCHW
            new object[] { 8, 12, 12, "8 k3 p1 relu, 8 k3 p1 relu, 8 k3 p1" },                   // too few channels: no links taken
        };

        [Theory]
        [MemberData(nameof(Chains))]
        public void LinkedChain_IsTheChainThroughNchw_BitForBit(int inChannels, int height, int width, string layers)
        {
            var (shapes, weights, biases, filters, x) = RandomChain(inChannels * 7 + height * 3 + layers.Length, inChannels, height, width, layers);

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
                bool handed = i + 1 < shapes.Count && Hands(s, shapes[i + 1]);
                if (handed)
                {
                    Assert.True(y.All(float.IsNaN), $"layer {i} handed its maps on but wrote them too");
                    input = Filled(s.OC * s.OutH * s.OutW, float.NaN); // the next layer must not read x
                    continue;
                }
                var got = y.AsSpan(0, y.Length - 5).ToArray();
                AssertBitForBit(got, expected[i], $"layer {i}", $" (Winograd: {string.Join(", ", shapes.Select(Winograd))})");
                input = got;
            }
        }

        public static IEnumerable<object[]> MixedChains() => new[]
        {
            // layers as above, "s2" for a strided one (StridedConvolution.ForwardPreparedLinked on prepared weights)
            new object[] { 16, 32, 32, "16 k3 p1 relu, 32 k3 s2 p1 relu, 32 k3 p1 relu, 64 k3 s2 p1 relu, 64 k3 p1" }, // ResNet's stages: four cross links
            new object[] { 3, 64, 64, "32 k3 s2 p1 relu, 32 k3 p1 relu, 64 k3 p1 relu" },                          // a lanes stem onto a stride-1 layer
            new object[] { 24, 30, 26, "40 k3 p1 relu, 48 k3 s2 p0 relu, 40 k3 p1" },                               // odd maps, channels off the vector
            new object[] { 3, 32, 32, "16 k3 s2 p1 relu, 16 k3 p1 relu, 32 k3 s2 p1 relu" },                       // a stem of 16 (phases kernel): through NCHW
        };

        [Theory]
        [MemberData(nameof(MixedChains))]
        public void MixedChain_WithStridedLayers_IsTheChainThroughNchw_BitForBit(int inChannels, int height, int width, string layers)
        {
            var (shapes, weights, biases, kept, x) = RandomChain(inChannels * 5 + height + layers.Length, inChannels, height, width, layers);

            var expected = new List<float[]>();
            float[] maps = x;
            for (int i = 0; i < shapes.Count; i++)
            {
                var s = shapes[i];
                var next = new float[s.OC * s.OutH * s.OutW];
                if (s.S != 1)
                    StridedConvolution.ForwardPrepared(maps, s.C, s.H, s.W, kept[i], s.OC, s.K, s.S, s.P, next,
                        Filled(StridedConvolution.ScratchLength(s.C, s.H, s.W, s.OC, s.K, s.S, s.P), float.NaN), s.Relu);
                else
                    DirectConvolution.ForwardWithFilters(maps, s.C, s.H, s.W, weights[i], biases[i], s.OC, s.K, s.P, next,
                        Filled(DirectConvolution.ScratchLengthWithFilters(s.C, s.H, s.W, s.OC, s.K, s.P), float.NaN), s.Relu, kept[i]);
                expected.Add(next);
                maps = next;
            }

            // Each side names the other as its own kind of link; regions alternate, the first at the end.
            int length = 0;
            for (int i = 0; i < shapes.Count; i++) length = Math.Max(length, ScratchOf(shapes, i));
            float[] shared = Filled(length + 7, float.NaN);
            float[] input = x;
            for (int i = 0; i < shapes.Count; i++)
            {
                var s = shapes[i];
                float[] y = Filled(s.OC * s.OutH * s.OutW + 5, float.NaN);
                var output = y.AsSpan(0, y.Length - 5);
                if (s.S != 1)
                    StridedConvolution.ForwardPreparedLinked(input, s.C, s.H, s.W, kept[i], s.OC, s.K, s.S, s.P, output, shared, s.Relu, StridedFrom(shapes, i), StridedTo(shapes, i));
                else
                    DirectConvolution.ForwardLinked(input, s.C, s.H, s.W, weights[i], biases[i], s.OC, s.K, s.P, output, shared, s.Relu, pool: false, kept[i],
                        DirectFrom(shapes, i), DirectTo(shapes, i));
                Assert.True(y.Skip(y.Length - 5).All(float.IsNaN), $"layer {i} wrote past its output");
                if (i + 1 < shapes.Count && Hands(shapes[i], shapes[i + 1]))
                {
                    Assert.True(y.All(float.IsNaN), $"layer {i} handed its maps on but wrote them too");
                    input = Filled(s.OC * s.OutH * s.OutW, float.NaN);
                    continue;
                }
                var got = output.ToArray();
                AssertBitForBit(got, expected[i], $"layer {i}", "");
                input = got;
            }
        }

        // A chain's layers from their description, random weights and biases, what each keeps between calls, and an input.
        private static (List<Shape> Shapes, float[][] Weights, float[][] Biases, float[][] Kept, float[] X) RandomChain(int seed, int inChannels, int height, int width, string layers)
        {
            var random = new Random(seed);
            var shapes = Shapes(inChannels, height, width, layers);
            var weights = shapes.Select(s => RandomValues(random, s.OC * s.C * s.K * s.K)).ToArray();
            var biases = shapes.Select(s => RandomValues(random, s.OC)).ToArray();
            var kept = Kept(shapes, weights, biases);
            return (shapes, weights, biases, kept, RandomValues(random, inChannels * height * width));
        }

        private static void AssertBitForBit(float[] got, float[] expected, string what, string context)
        {
            for (int j = 0; j < got.Length; j++)
                Assert.True(BitConverter.SingleToInt32Bits(got[j]) == BitConverter.SingleToInt32Bits(expected[j]), $"{what}, float {j}: {got[j]}, expected {expected[j]}{context}");
        }

        // What each layer keeps between calls: a strided one its weights and bias prepared, a stride-1 one its Winograd filters.
        private static float[][] Kept(List<Shape> shapes, float[][] weights, float[][] biases) => shapes.Select((s, i) =>
        {
            if (s.S != 1)
            {
                float[] prepared = new float[StridedConvolution.PreparedLength(s.C, s.H, s.W, s.OC, s.K, s.S, s.P)];
                StridedConvolution.Prepare(weights[i], biases[i], s.C, s.H, s.W, s.OC, s.K, s.S, s.P, prepared);
                return prepared;
            }
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(s.C, s.H, s.W, s.OC, s.K, s.P)];
            DirectConvolution.TransformFilters(weights[i], s.C, s.H, s.W, s.OC, s.K, s.P, filters);
            return filters;
        }).ToArray();

        private static bool Hands(Shape a, Shape b)
        {
            if (a.S == 1 && b.S == 1) return (Winograd(a) || Stem(a)) && Winograd(b);
            return StridedConvolution.HandsInPaddedLayout(a.C, a.H, a.W, a.OC, a.K, a.S, a.P, b.OC, b.K, b.S, b.P, out _);
        }

        private static int ScratchOf(List<Shape> shapes, int i)
        {
            var s = shapes[i];
            return s.S != 1 ? StridedConvolution.LinkedScratchLength(s.C, s.H, s.W, s.OC, s.K, s.S, s.P, StridedFrom(shapes, i), StridedTo(shapes, i))
                : DirectConvolution.LinkedScratchLength(s.C, s.H, s.W, s.OC, s.K, s.P, s.Pool, DirectFrom(shapes, i), DirectTo(shapes, i));
        }

        // The link between layers i - 1 and i lies at the scratch's end for odd i.
        private static StridedConvolution.Link StridedLink(Shape other, bool atEnd) =>
            StridedConvolution.Link.Convolution(other.C, other.H, other.W, other.OC, other.K, other.S, other.P, atEnd);

        private static DirectConvolution.Link DirectLink(Shape other, bool atEnd) =>
            other.S != 1 ? DirectConvolution.Link.Strided(other.C, other.H, other.W, other.OC, other.K, other.S, other.P, atEnd) : Link(other, atEnd);

        private static StridedConvolution.Link StridedFrom(List<Shape> shapes, int i) => i == 0 ? StridedConvolution.Link.None : StridedLink(shapes[i - 1], i % 2 == 1);

        private static StridedConvolution.Link StridedTo(List<Shape> shapes, int i) => i + 1 == shapes.Count ? StridedConvolution.Link.None : StridedLink(shapes[i + 1], i % 2 == 0);

        private static DirectConvolution.Link DirectFrom(List<Shape> shapes, int i) => i == 0 ? DirectConvolution.Link.None : DirectLink(shapes[i - 1], i % 2 == 1);

        private static DirectConvolution.Link DirectTo(List<Shape> shapes, int i) => i + 1 == shapes.Count ? DirectConvolution.Link.None : DirectLink(shapes[i + 1], i % 2 == 0);

        [Fact]
        public void LinkedScratchLength_GrowsByTheHandedMaps_OnlyWhereBothRunWinograd()
        {
            // 16 -> 16 on 32x32 runs F(4x4, 3x3) where the machine has it; 3 -> 16 never does.
            var resnet = Link(new Shape(16, 32, 32, 16, 3, 1, 1, false, true, 32, 32), atEnd: true);
            int alone = DirectConvolution.ScratchLengthWithFilters(16, 32, 32, 16, 3, 1);
            int linked = DirectConvolution.LinkedScratchLength(16, 32, 32, 16, 3, 1, pool: false, DirectConvolution.Link.None, resnet);
            if (Winograd(new Shape(16, 32, 32, 16, 3, 1, 1, false, true, 32, 32))) Assert.True(linked > alone + 16 * 34 * 34);
            else Assert.Equal(alone, linked);
            // A 3-channel stem hands on from the lanes kernel where the next layer runs Winograd; 8 output channels never do.
            int stem = DirectConvolution.LinkedScratchLength(3, 32, 32, 16, 3, 1, pool: false, DirectConvolution.Link.None, resnet);
            if (Winograd(new Shape(16, 32, 32, 16, 3, 1, 1, false, true, 32, 32)) && Stem(new Shape(3, 32, 32, 16, 3, 1, 1, false, true, 32, 32)))
                Assert.True(stem > DirectConvolution.ScratchLengthWithFilters(3, 32, 32, 16, 3, 1) + 16 * 34 * 34);
            else Assert.Equal(DirectConvolution.ScratchLengthWithFilters(3, 32, 32, 16, 3, 1), stem);
            var eight = DirectConvolution.Link.Convolution(8, 32, 32, 16, 3, 1, pool: false, atEnd: true);
            Assert.Equal(DirectConvolution.ScratchLengthWithFilters(3, 32, 32, 8, 3, 1),
                DirectConvolution.LinkedScratchLength(3, 32, 32, 8, 3, 1, pool: false, DirectConvolution.Link.None, eight));
        }

        [Fact]
        public void ForwardLinked_ChecksTheScratch_AndTheNextLayersShape()
        {
            var next = DirectConvolution.Link.Convolution(16, 32, 32, 16, 3, 1, pool: false, atEnd: true);
            float[] x = new float[16 * 32 * 32], w = new float[16 * 16 * 9], y = new float[16 * 32 * 32];
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(16, 32, 32, 16, 3, 1)];
            int needed = DirectConvolution.LinkedScratchLength(16, 32, 32, 16, 3, 1, false, DirectConvolution.Link.None, next);
            var error = Assert.Throws<ArgumentException>(() => { DirectConvolution.ForwardLinked(x, 16, 32, 32, w, default, 16, 3, 1, y, new float[needed - 1], true, false, filters,
                DirectConvolution.Link.None, next); });
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
                + link + "Convolution(16, 32, 32, 32, 3, 1, pool: true, atEnd: false), " + link + "Convolution(32, 16, 16, 32, 3, 1, pool: false, atEnd: true));", source);
            // The LeakyReLU (0 to 0) runs in place over what its layer's kernel wrote, here its NCHW maps (the Linear reads them).
            Assert.Contains("var written = global::CnnGen.Kernels.DirectConvolution.ForwardLinked(x, 32, 16, 16, p.Slice(0, 9216), p.Slice(9216, 32), 32, 3, 1, y, columns, "
                + "relu: false, pool: false, filters, " + link + "Convolution(32, 16, 16, 32, 3, 1, pool: false, atEnd: true), " + link + "None);", source);
            Assert.Contains("global::CnnGen.Kernels.Elementwise.LeakyRelu(written, written, 0.01f);", source);
            Assert.Equal(4, source.Split("DirectConvolution.ForwardLinked(").Length - 1);

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
        public void GeneratedNetwork_WithAnActivationOverTheHandedMaps_IsTheUnfusedNetwork()
        {
            // SiLU keeps 0 at 0, so it runs in place over the next layer's padded input, margins and all; evaluation (fused and
            // linked) against ForwardForGradients (every layer alone, through NCHW).
            var network = new LinkedSiluNet();
            network.ResetParameters(5);
            var random = new Random(6);
            float[] input = RandomValues(random, 3 * LinkedSiluNet.InputLength), linked = new float[3 * LinkedSiluNet.OutputLength], unfused = new float[linked.Length];
            var workspace = network.CreateWorkspace(3);
            network.Forward(input, linked, 3, workspace);
            Assert.Contains("goes straight into layer 2", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(1).Length).Message);
            network.ForwardForGradients(input, unfused, 3, workspace);
            Infrastructure.Compare.Close(linked, unfused, 1e-5, "linked SiLU network");
        }

        [Fact]
        public void GeneratedNetwork_LinksStridedAndStrideOneLayers_EachSideNamingTheOther()
        {
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Linked;\n[Network(16, 32, 32)]\n[Conv2d(16, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(32, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            const string direct = "global::CnnGen.Kernels.DirectConvolution.Link.", strided = "global::CnnGen.Kernels.StridedConvolution.Link.";
            // 0 -> 3 at the end, 3 -> 6 at the start, 6 -> 9 at the end; 9 ends in the means.
            Assert.Contains("16, 3, 1, y, columns, relu: true, pool: false, filters, " + direct + "None, " + direct + "Strided(16, 32, 32, 32, 3, 2, 1, atEnd: true));", source);
            Assert.Contains("ForwardPreparedLinked(x, 16, 32, 32, p, 32, 3, 2, 1, y, columns, relu: true, " + strided + "Convolution(16, 32, 32, 16, 3, 1, 1, atEnd: true), "
                + strided + "Convolution(32, 16, 16, 32, 3, 1, 1, atEnd: false));", source);
            Assert.Contains("32, 3, 1, y, columns, relu: true, pool: false, filters, " + direct + "Strided(16, 32, 32, 32, 3, 2, 1, atEnd: false), "
                + direct + "Strided(32, 16, 16, 64, 3, 2, 1, atEnd: true));", source);
            Assert.Contains("ForwardPreparedLinked(x, 32, 16, 16, p, 64, 3, 2, 1, y, columns, relu: true, " + strided + "Convolution(32, 16, 16, 32, 3, 1, 1, atEnd: true), "
                + strided + "GlobalMean);", source);
        }

        [Fact]
        public void GeneratedNetwork_LinksAStemOfWholeBlocks_NotOneOfOtherWidths()
        {
            static string Generated(int stemChannels) => Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Linked;\n[Network(3, 32, 32)]\n[Conv2d(" + stemChannels + ", 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(16, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            const string direct = "global::CnnGen.Kernels.DirectConvolution.Link.";
            // The stem keeps no Winograd filters: it passes none.
            Assert.Contains("ForwardLinked(x, 3, 32, 32, p.Slice(0, 432), p.Slice(432, 16), 16, 3, 1, y, columns, relu: true, pool: false, default, " + direct + "None, "
                + direct + "Convolution(16, 32, 32, 16, 3, 1, pool: false, atEnd: true));", Generated(16));
            Assert.DoesNotContain("ForwardLinked(", Generated(24));
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

        // A stem the lanes kernel hands on from (DirectConvolution.LanesHandOn): too few channels in for Winograd, whole blocks out.
        private static bool Stem(Shape s) =>
            s.C < 8 && s.OC % 16 == 0 && !s.Pool && Kernels.Simd.Enabled && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;

        // Runs Winograd where a link can take it: on the machine's own vector path.
        private static bool Winograd(Shape s) =>
            DirectConvolution.RunsWinogradHere(s.C, s.H, s.W, s.OC, s.K, s.P) && Kernels.Simd.Enabled;

        private static DirectConvolution.Link Link(Shape s, bool atEnd) =>
            DirectConvolution.Link.Convolution(s.C, s.H, s.W, s.OC, s.K, s.P, s.Pool, atEnd);

        /// <summary>A layer of a chain: input shape, output channels, kernel, stride, padding, pooled, ReLU, output size.</summary>
        public readonly record struct Shape(int C, int H, int W, int OC, int K, int S, int P, bool Pool, bool Relu, int OutH, int OutW);

        private static List<Shape> Shapes(int c, int h, int w, string layers)
        {
            var shapes = new List<Shape>();
            foreach (var layer in layers.Split(','))
            {
                var words = layer.Trim().Split(' ');
                int oc = int.Parse(words[0]), k = int.Parse(words.First(word => word[0] == 'k')[1..]), p = int.Parse(words.First(word => word[0] == 'p' && word != "pool")[1..]);
                int stride = words.FirstOrDefault(word => word[0] == 's') is { } st ? int.Parse(st[1..]) : 1;
                bool pool = words.Contains("pool"), relu = words.Contains("relu");
                int oh = (h + 2 * p - k) / stride + 1, ow = (w + 2 * p - k) / stride + 1;
                if (pool) (oh, ow) = (oh / 2, ow / 2);
                shapes.Add(new Shape(c, h, w, oc, k, stride, p, pool, relu, oh, ow));
                (c, h, w) = (oc, oh, ow);
            }
            return shapes;
        }
    }
}
