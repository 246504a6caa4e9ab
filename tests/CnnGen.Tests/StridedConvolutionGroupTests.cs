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
    /// <summary>A stride-2 layer (8x8 output, a sample at a time) linked to one with a 4x4 output, which runs groups of 16 samples.</summary>
    [Network(16, 16, 16)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(5)]
    public partial class GroupedStridedNet { }

    /// <summary>The same without batch-norm: biases, the second layer's weights prepared for its groups from the parameters.</summary>
    [Network(16, 16, 16)]
    [Conv2d(32, 3, Stride = 2, Padding = 1)]
    [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1)]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(5)]
    public partial class GroupedStridedBiasNet { }

    /// <summary>
    /// Stride-2 3x3 layers evaluated a group of samples at a time (<see cref="StridedWinogradConvolution.ForwardSamples"/>,
    /// <see cref="StridedConvolution.ForwardPreparedSamples"/>): every sample against the definition in double precision
    /// (the bound of <see cref="StridedWinogradConvolutionTests"/>), groups of 1 to 5 samples, partial groups, the maps or
    /// their means; the kernel's samples bit for bit as one sample at a time on the same layout; and on every path the public
    /// entry points (a sample at a time where the group's kernel does not run).
    /// </summary>
    public sealed class StridedConvolutionGroupTests
    {
        private const double Tolerance = 2e-5;

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        public static IEnumerable<object[]> Shapes() => new[]
        {
            // inChannels, height, width, outChannels, padding, samples, count
            new object[] { 64, 16, 16, 128, 1, 4, 4 },   // the strided network's third layer: 4 tiles of 4x4 a sample
            new object[] { 32, 8, 8, 64, 1, 5, 3 },      // 4x4 outputs, a partial group
            new object[] { 17, 9, 11, 33, 1, 3, 3 },     // odd maps and channels: partial tiles at the bottom and right
            new object[] { 40, 4, 4, 48, 1, 5, 5 },      // 2x2 outputs
            new object[] { 20, 12, 10, 36, 0, 2, 1 },    // no padding, one sample of a group of 2
            new object[] { 130, 6, 6, 20, 2, 2, 2 },     // 9 input groups, padding 2
        };

        private static (float[] X, float[] Weight, float[] Bias) Data(int seed, int samples, int inChannels, int height, int width, int outChannels, bool hasBias)
        {
            var random = new Random(seed);
            return (RandomValues(random, samples * inChannels * height * width), RandomValues(random, outChannels * inChannels * 9),
                hasBias ? RandomValues(random, outChannels) : Array.Empty<float>());
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardSamples_MatchesTheDefinition_ForEverySample(int inChannels, int height, int width, int outChannels, int padding, int samples, int count)
        {
            if (!Available) return; // the kernel is Vector512 only; the last test covers the entry points on every path
            var (x, weight, bias) = Data(inChannels + height + samples, count, inChannels, height, width, outChannels, hasBias: count % 2 == 1);
            int sampleIn = inChannels * height * width;
            foreach (int tile in new[] { 4, 2, StridedWinogradConvolution.Wide })
            {
                var layout = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile, samples);
                int cells = layout.OutHeight * layout.OutWidth, outLength = outChannels * cells;
                float[] filters = Filled(layout.FiltersLength, float.NaN);
                StridedWinogradConvolution.TransformFilters(weight, filters, layout);
                float[] scratch = Filled(layout.ScratchLength, float.NaN);
                foreach (bool relu in new[] { false, true })
                {
                    float[] maps = Filled(count * outLength + 5, float.NaN), means = Filled(count * outChannels + 3, float.NaN);
                    StridedWinogradConvolution.ForwardSamples(x, default, 0, count, filters, bias, maps.AsSpan(0, count * outLength), scratch, relu, layout, means: false);
                    StridedWinogradConvolution.ForwardSamples(x, default, 0, count, filters, bias, means.AsSpan(0, count * outChannels), scratch, relu, layout, means: true);
                    for (int n = 0; n < count; n++)
                    {
                        var (expected, scale) = Definition(x.AsSpan(n * sampleIn, sampleIn).ToArray(), inChannels, height, width, weight, bias, outChannels, 3, 2, padding);
                        float[] sample = maps.AsSpan(n * outLength, outLength).ToArray();
                        AssertWithinScale(sample, outLength, expected, scale, relu, Tolerance, $"tile {tile}, sample {n}");
                        for (int oc = 0; oc < outChannels; oc++)
                        {
                            double exact = 0, magnitude = 0;
                            for (int i = 0; i < cells; i++)
                            {
                                double v = expected[oc * cells + i];
                                exact += relu ? Math.Max(v, 0) : v;
                                magnitude += scale[oc * cells + i];
                            }
                            double error = Math.Abs(means[n * outChannels + oc] - exact / cells) / Math.Max(magnitude / cells, 1e-30);
                            Assert.True(error <= Tolerance, $"tile {tile}, sample {n}, channel {oc}: mean {means[n * outChannels + oc]}, expected {exact / cells}");
                        }
                    }
                    Assert.All(maps.Skip(count * outLength), v => Assert.True(float.IsNaN(v), "wrote past the maps"));
                    Assert.All(means.Skip(count * outChannels), v => Assert.True(float.IsNaN(v), "wrote past the means"));
                }
            }
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void ForwardSamples_IsOneSampleAtATime_BitForBit(int inChannels, int height, int width, int outChannels, int padding, int samples, int count)
        {
            if (!Available) return;
            var (x, weight, bias) = Data(7 * inChannels + width, count, inChannels, height, width, outChannels, hasBias: true);
            int sampleIn = inChannels * height * width;
            foreach (int tile in new[] { 4, 2 })
            {
                var layout = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile, samples);
                int outLength = outChannels * layout.OutHeight * layout.OutWidth;
                float[] filters = new float[layout.FiltersLength], scratch = new float[layout.ScratchLength];
                StridedWinogradConvolution.TransformFilters(weight, filters, layout);
                float[] together = new float[count * outLength], alone = new float[count * outLength];
                StridedWinogradConvolution.ForwardSamples(x, default, 0, count, filters, bias, together, scratch, relu: true, layout, means: false);
                for (int n = 0; n < count; n++)
                    StridedWinogradConvolution.Forward(x.AsSpan(n * sampleIn, sampleIn), filters, bias, alone.AsSpan(n * outLength, outLength), scratch, relu: true, layout);
                Assert.Equal(alone, together);
            }
        }

        [Theory]
        [InlineData(64, 8, 8, 128)]   // the 4x4 tile's group of 16 (4x4 outputs, filters 2.6 MB)
        [InlineData(32, 8, 8, 64)]
        [InlineData(128, 8, 8, 256)]  // the 2x2 tile's group (filters over 8192 Cin·Cout)
        [InlineData(64, 16, 16, 128)] // 8x8 outputs: a sample at a time
        [InlineData(96, 12, 12, 192)] // 6x6: not whole 4x4 tiles
        [InlineData(64, 4, 4, 128)]   // 2x2 outputs
        [InlineData(8, 16, 16, 32)]   // 8 channels in: a sample at a time
        [InlineData(32, 32, 32, 64)]  // 16x16 outputs: a sample at a time
        [InlineData(64, 14, 14, 128)] // 7x7: the 4x4 tile's group, partial tiles
        [InlineData(128, 13, 13, 128)] // 7x7 from 13x13
        [InlineData(128, 14, 14, 256)] // 7x7, filters past 16384 Cin·Cout: a sample at a time
        [InlineData(64, 10, 10, 64)]  // 5x5: a sample at a time
        public void ForwardPreparedSamples_MatchesTheDefinition_OnEveryPath(int inChannels, int height, int width, int outChannels)
        {
            // Through the entry points the generated code calls; on Vector256 and scalar (and where no group pays) a sample at a time.
            int samples = StridedConvolution.GroupSamples(inChannels, height, width, outChannels, 3, 2, 1);
            int tile = StridedConvolution.GroupTile(inChannels, height, width, outChannels, 3, 2, 1);
            // With AVX-512 the measured table, without it the Vector256 rule (the 4x4 tile alone), and on the scalar path none.
            int machineTile = !StridedWinogradConvolution.Runs ? 0 : Available ? StridedConvolution.GroupTileFor(inChannels, height, width, outChannels, 1)
                : StridedConvolution.GroupTileFor256(inChannels, height, width, outChannels, 1);
            Assert.Equal(machineTile, tile);
            if (tile == 0) Assert.Equal(1, samples);
            int group = Math.Max(samples, 3), outHeight = (height - 1) / 2 + 1, outWidth = (width - 1) / 2 + 1;
            int cells = outHeight * outWidth, outLength = outChannels * cells, sampleIn = inChannels * height * width;
            var (x, weight, bias) = Data(inChannels * 3 + height, group, inChannels, height, width, outChannels, hasBias: true);
            int length = StridedConvolution.GroupPreparedLength(inChannels, height, width, outChannels, 3, 2, 1, group);
            if (tile == 0) Assert.Equal(StridedConvolution.PreparedLength(inChannels, height, width, outChannels, 3, 2, 1), length);
            float[] prepared = RandomValues(new Random(5), length); // garbage must be overwritten
            StridedConvolution.PrepareGroup(weight, bias, inChannels, height, width, outChannels, 3, 2, 1, prepared, group);
            float[] scratch = Filled(StridedConvolution.SamplesScratchLength(inChannels, height, width, outChannels, 3, 2, 1, group), float.NaN);
            foreach (int count in new[] { group, 1, group - 1 })
            {
                float[] maps = Filled(count * outLength + 4, float.NaN), means = Filled(count * outChannels + 4, float.NaN);
                StridedConvolution.ForwardPreparedSamples(x, count, inChannels, height, width, prepared, outChannels, 3, 2, 1, group, maps.AsSpan(0, count * outLength), scratch, relu: true, means: false);
                StridedConvolution.ForwardPreparedSamples(x, count, inChannels, height, width, prepared, outChannels, 3, 2, 1, group, means.AsSpan(0, count * outChannels), scratch, relu: true, means: true);
                for (int n = 0; n < count; n++)
                {
                    var (expected, scale) = Definition(x.AsSpan(n * sampleIn, sampleIn).ToArray(), inChannels, height, width, weight, bias, outChannels, 3, 2, 1);
                    AssertWithinScale(maps.AsSpan(n * outLength, outLength).ToArray(), outLength, expected, scale, relu: true, Tolerance, $"group {group}, sample {n} of {count}");
                    for (int oc = 0; oc < outChannels; oc++)
                    {
                        double exact = 0, magnitude = 0;
                        for (int i = 0; i < cells; i++) { exact += Math.Max(expected[oc * cells + i], 0); magnitude += scale[oc * cells + i]; }
                        Assert.True(Math.Abs(means[n * outChannels + oc] - exact / cells) <= Tolerance * Math.Max(magnitude / cells, 1e-30),
                            $"sample {n}, channel {oc}: mean {means[n * outChannels + oc]}, expected {exact / cells}");
                    }
                }
                Assert.True(float.IsNaN(maps[count * outLength]) && float.IsNaN(means[count * outChannels]), "wrote past the output");
            }
        }

        [Theory]
        [InlineData(32, 16, 16, 64, 128)] // the 2x2 tile into the 4x4 tile's group (4x4 outputs)
        [InlineData(3, 16, 16, 32, 64)]   // a stem (the lanes kernel) into a group
        [InlineData(16, 16, 16, 32, 64)]  // the 2x4 tile into a group of 16
        [InlineData(24, 20, 18, 48, 96)]  // 10x9 into 5x5: a sample at a time (the 2x2 tile's group did not pay on odd sides)
        [InlineData(32, 28, 28, 64, 96)]  // 14x14 into 7x7: the 4x4 tile's group, partial tiles
        [InlineData(32, 32, 32, 64, 128)] // into an 8x8 output: a sample at a time, the slots hold the maps
        public void GroupLink_IsTheChainThroughMaps(int inChannels, int height, int width, int middle, int outChannels)
        {
            // Layer a a sample at a time into its slot of the grouped layer b's input (Link.Group), then b over the slots,
            // against a's maps through NCHW and b over them; on every path (without AVX-512 the slots hold the maps).
            int h2 = (height - 1) / 2 + 1, w2 = (width - 1) / 2 + 1, h3 = (h2 - 1) / 2 + 1, w3 = (w2 - 1) / 2 + 1;
            int group = Math.Max(2, StridedConvolution.GroupSamples(middle, h2, w2, outChannels, 3, 2, 1));
            var random = new Random(inChannels + middle + outChannels);
            int sampleIn = inChannels * height * width, mapsLength = middle * h2 * w2;
            float[] x = RandomValues(random, group * sampleIn), wa = RandomValues(random, middle * inChannels * 9), ba = RandomValues(random, middle);
            float[] wb = RandomValues(random, outChannels * middle * 9), bb = RandomValues(random, outChannels);
            float[] pa = new float[StridedConvolution.PreparedLength(inChannels, height, width, middle, 3, 2, 1)];
            float[] pb = new float[StridedConvolution.GroupPreparedLength(middle, h2, w2, outChannels, 3, 2, 1, group)];
            StridedConvolution.Prepare(wa, ba, inChannels, height, width, middle, 3, 2, 1, pa);
            StridedConvolution.PrepareGroup(wb, bb, middle, h2, w2, outChannels, 3, 2, 1, pb, group);
            var from = StridedConvolution.Link.Convolution(inChannels, height, width, middle, 3, 2, 1, atEnd: false);
            var into = StridedConvolution.Link.Group(middle, h2, w2, outChannels, 3, 2, 1, group);
            int slot = StridedConvolution.GroupLinkLength(from, middle, h2, w2, outChannels, 3, 2, 1, group);
            bool handed = StridedConvolution.GroupTile(middle, h2, w2, outChannels, 3, 2, 1) != 0;
            Assert.Equal(handed, slot != mapsLength);
            float[] scratch = new float[Math.Max(Math.Max(StridedConvolution.LinkedScratchLength(inChannels, height, width, middle, 3, 2, 1, StridedConvolution.Link.None, into),
                StridedConvolution.ScratchLength(inChannels, height, width, middle, 3, 2, 1)), StridedConvolution.SamplesScratchLength(middle, h2, w2, outChannels, 3, 2, 1, group))];
            foreach (int count in new[] { group, group - 1 })
            {
                foreach (bool means in new[] { false, true })
                {
                    int outLength = means ? outChannels : outChannels * h3 * w3;
                    float[] slots = Filled(count * slot, float.NaN), maps = new float[count * mapsLength];
                    float[] linked = Filled(count * outLength, float.NaN), expected = new float[count * outLength];
                    for (int n = 0; n < count; n++)
                    {
                        StridedConvolution.ForwardPreparedLinked(x.AsSpan(n * sampleIn, sampleIn), inChannels, height, width, pa, middle, 3, 2, 1,
                            slots.AsSpan(n * slot, slot), scratch, relu: true, StridedConvolution.Link.None, into);
                        StridedConvolution.ForwardPrepared(x.AsSpan(n * sampleIn, sampleIn), inChannels, height, width, pa, middle, 3, 2, 1,
                            maps.AsSpan(n * mapsLength, mapsLength), scratch, relu: true);
                    }
                    StridedConvolution.ForwardPreparedSamples(slots, count, middle, h2, w2, pb, outChannels, 3, 2, 1, group, linked, scratch, relu: true, means, from);
                    StridedConvolution.ForwardPreparedSamples(maps, count, middle, h2, w2, pb, outChannels, 3, 2, 1, group, expected, scratch, relu: true, means);
                    // The same values transformed in the same order, but a stem handing on from the lanes kernel instead of the
                    // phases kernel rounds its maps differently (as StridedLinkTests): to 1e-5.
                    Infrastructure.Compare.Close(linked, expected, 1e-5, $"{count} of {group} samples, means {means}");
                }
            }
        }

        [Fact]
        public void GeneratedNetwork_InGroups_MatchesTheInterpreter_AndOneSampleAtATime()
        {
            // GroupedStridedNet's second layer (32 -> 64, 4x4 output) runs groups of 16 linked from the first: a batch of 18 is
            // a chunk of 16 and one of 2, against the interpreter and against each sample alone (a workspace for one sample
            // keeps a sample's kernel: the same values to rounding).
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Grouped;\n[Network(16, 16, 16)]\n[Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            Assert.Contains("ForwardPreparedLinked(x, 16, 16, 16, p, 32, 3, 2, 1, y, columns, relu: true, global::CnnGen.Kernels.StridedConvolution.Link.None, "
                + "global::CnnGen.Kernels.StridedConvolution.Link.Group(32, 8, 8, 64, 3, 2, 1, group));", source);
            Assert.Contains("workspace.Layer3GroupInput.AsSpan(start * slot, samples * slot), samples, 32, 8, 8, workspace.Layer3Prepared, 64, 3, 2, 1, group, ", source);
            Assert.Contains("relu: true, means: true, global::CnnGen.Kernels.StridedConvolution.Link.Convolution(16, 16, 16, 32, 3, 2, 1, atEnd: false));", source);
            Assert.Equal(16, GroupedStridedNet.EvaluationChunk); // whole groups in a chunk

            const int Batch = 18;
            var network = new GroupedStridedNet();
            network.ResetParameters(9);
            float[] input = RandomValues(new Random(10), Batch * GroupedStridedNet.InputLength), output = new float[Batch * GroupedStridedNet.OutputLength];
            var workspace = network.CreateWorkspace(Batch);
            MatchesTheInterpreterAndEachSampleAlone(network, input, output, Batch, workspace, "the first weights");
            Assert.Contains("goes straight into layer 3", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(2).Length).Message);
            // Training mode writes every layer's output (the link is evaluation's).
            network.Forward(input, output, Batch, workspace, training: true);
            Assert.Equal(Batch * 32 * 8 * 8, workspace.LayerOutput(2).Length);
        }

        [Fact]
        public void GeneratedNetworkWithoutBatchNorm_InGroups_MatchesTheInterpreter_AndFollowsItsWeights()
        {
            // GroupedStridedBiasNet's second layer runs groups of 16 on weights evaluation prepares for them from the parameters
            // (the training pass's array holds one sample's), once per change of the weights; the global average pooling goes
            // into its output transform.
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace GroupedBias;\n[Network(16, 16, 16)]\n[Conv2d(32, 3, Stride = 2, Padding = 1)]\n[ReLU]\n"
                + "[Conv2d(64, 3, Stride = 2, Padding = 1)]\n[ReLU]\n[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            Assert.Contains("global::CnnGen.Kernels.StridedConvolution.PrepareGroup(parameters.Slice(4640, 18432), parameters.Slice(23072, 64), 32, 8, 8, 64, 3, 2, 1, "
                + "workspace.Layer2Prepared, (workspace.BatchCapacity > 1 ? 16 : 1));", source);
            Assert.Contains("global::CnnGen.Kernels.StridedConvolution.Prepare(parameters.Slice(4640, 18432), parameters.Slice(23072, 64), 32, 8, 8, 64, 3, 2, 1, workspace.Layer2PassWeights);", source);
            Assert.Contains("18,496 params prepared for the strided kernel once per training pass.</summary>", source); // the pass's array, not evaluation's
            Assert.Contains("workspace.Layer2GroupInput.AsSpan(start * slot, samples * slot), samples, 32, 8, 8, workspace.Layer2Prepared, 64, 3, 2, 1, group, ", source);
            Assert.Contains("relu: true, means: true, global::CnnGen.Kernels.StridedConvolution.Link.Convolution(16, 16, 16, 32, 3, 2, 1, atEnd: false));", source);

            const int Batch = 18;
            var network = new GroupedStridedBiasNet();
            network.ResetParameters(9);
            float[] input = RandomValues(new Random(10), Batch * GroupedStridedBiasNet.InputLength), output = new float[Batch * GroupedStridedBiasNet.OutputLength];
            var workspace = network.CreateWorkspace(Batch);
            MatchesTheInterpreterAndEachSampleAlone(network, input, output, Batch, workspace, "the first weights");
            var before = (float[])output.Clone();
            // A training step (forward, backward, an SGD step) moves the weights: the next evaluation prepares them again.
            network.Forward(input, output, Batch, workspace, training: true);
            var outputGradient = RandomValues(new Random(11), Batch * GroupedStridedBiasNet.OutputLength);
            var gradients = new float[network.Parameters.Length];
            network.Backward(outputGradient, gradients, workspace);
            var parameters = network.Parameters;
            for (int i = 0; i < parameters.Length; i++) parameters[i] -= 0.5f * gradients[i];
            network.ParametersChanged();
            MatchesTheInterpreterAndEachSampleAlone(network, input, output, Batch, workspace, "after a step");
            Assert.True(Infrastructure.Compare.MaxError(before, output) > 1e-3, "the step must move the outputs, or the check shows nothing");
        }

        // A batch's evaluation against the interpreter, then each sample alone on a workspace for one sample (which keeps a
        // sample's kernel: the same values to rounding); the batch's output is left in output.
        private static void MatchesTheInterpreterAndEachSampleAlone(INetwork network, float[] input, float[] output, int batch, NetworkWorkspace workspace, string when)
        {
            network.Forward(input, output, batch, workspace);
            var dropout = new CnnRandom(5);
            var expected = new ReferenceInterpreter(network.Layout).ForwardFloat(network.Parameters, network.Buffers.ToArray(), network.Counters.ToArray(), input, batch, false, ref dropout);
            Infrastructure.Compare.Close(output, expected, 1e-4, "a batch of " + batch + " against the interpreter, " + when);
            int inLength = network.Layout.Input.Length, outLength = network.Layout.Output.Length;
            var alone = network.CreateWorkspace(1);
            var one = new float[outLength];
            for (int n = 0; n < batch; n++)
            {
                network.Forward(input.AsSpan(n * inLength, inLength), one, 1, alone);
                Infrastructure.Compare.Close(output.AsSpan(n * outLength, outLength), one, 1e-5, "sample " + n + ", " + when);
            }
        }

        [Fact]
        public void GroupTile_FollowsTheMeasuredTable()
        {
            Assert.Equal(4, StridedConvolution.GroupTileFor(32, 8, 8, 64, 1));      // 4x4 outputs, 2048: the 4x4 tile
            Assert.Equal(4, StridedConvolution.GroupTileFor(64, 8, 8, 128, 1));     // 8192
            Assert.Equal(2, StridedConvolution.GroupTileFor(128, 8, 8, 256, 1));    // filters past 8192 Cin·Cout: the 2x2 tile
            Assert.Equal(2, StridedConvolution.GroupTileFor(256, 8, 8, 512, 1));
            Assert.Equal(2, StridedConvolution.GroupTileFor(32, 12, 12, 64, 1));    // 6x6: not whole 4x4 tiles
            Assert.Equal(2, StridedConvolution.GroupTileFor(256, 4, 4, 512, 1));    // 2x2 outputs
            Assert.Equal(0, StridedConvolution.GroupTileFor(64, 16, 16, 128, 1));   // 8x8 outputs: a sample at a time (the network's chain)
            Assert.Equal(0, StridedConvolution.GroupTileFor(32, 32, 32, 64, 1));    // 16x16 outputs: 16 tiles a sample already
            Assert.Equal(0, StridedConvolution.GroupTileFor(8, 8, 8, 32, 1));       // 8 channels in
            Assert.Equal(0, StridedConvolution.GroupTileFor(32, 8, 8, 16, 1));      // 16 out
            Assert.Equal(0, StridedConvolution.GroupTileFor(64, 2, 2, 128, 1));     // one output cell
            Assert.Equal(4, StridedConvolution.GroupTileFor(64, 14, 14, 128, 1));   // 7x7, 8192: the 4x4 tile (8x8, 49 cells real)
            Assert.Equal(4, StridedConvolution.GroupTileFor(128, 13, 13, 128, 1));  // 7x7, 16384
            Assert.Equal(0, StridedConvolution.GroupTileFor(128, 14, 14, 256, 1));  // 7x7, 32768: a sample at a time
            Assert.Equal(0, StridedConvolution.GroupTileFor(256, 14, 14, 256, 1));
            Assert.Equal(0, StridedConvolution.GroupTileFor(64, 10, 10, 64, 1));    // 5x5: 25 of 64 cells real
            Assert.Equal(0, StridedConvolution.GroupTileFor(64, 14, 10, 64, 1));    // 7x5: 35 of 64
            // Without AVX-512 (session 59): the 4x4 tile's group where three in four of its cells are real, up to Cin·Cout 32,768.
            Assert.Equal(4, StridedConvolution.GroupTileFor256(32, 8, 8, 64, 1));    // 4x4 outputs
            Assert.Equal(4, StridedConvolution.GroupTileFor256(128, 8, 8, 256, 1));  // 32,768
            Assert.Equal(0, StridedConvolution.GroupTileFor256(256, 8, 8, 512, 1));  // past it
            Assert.Equal(4, StridedConvolution.GroupTileFor256(64, 14, 14, 128, 1)); // 7x7: 49 of 64 cells real
            Assert.Equal(0, StridedConvolution.GroupTileFor256(32, 12, 12, 64, 1));  // 6x6: 36 of 64
            Assert.Equal(0, StridedConvolution.GroupTileFor256(64, 10, 10, 64, 1));  // 5x5
            Assert.Equal(0, StridedConvolution.GroupTileFor256(64, 4, 4, 128, 1));   // 2x2
            Assert.Equal(0, StridedConvolution.GroupTileFor256(64, 16, 16, 128, 1)); // 8x8: the generator groups under 64 cells only
            Assert.Equal(0, StridedConvolution.GroupTileFor256(8, 8, 8, 32, 1));     // 8 channels in
            if (!StridedWinogradConvolution.Runs) { Assert.Equal(1, StridedConvolution.GroupSamples(32, 8, 8, 64, 3, 2, 1)); return; }
            Assert.Equal(16, StridedConvolution.GroupSamples(32, 8, 8, 64, 3, 2, 1));    // 1 tile a sample
            Assert.Equal(Available ? 4 : 1, StridedConvolution.GroupSamples(96, 12, 12, 192, 3, 2, 1));  // 4 tiles of 4x4 cover 6x6 (the 2x2 tile's group)
            Assert.Equal(1, StridedConvolution.GroupSamples(64, 16, 16, 128, 3, 2, 1));  // 8x8
            Assert.Equal(1, StridedConvolution.GroupSamples(32, 8, 8, 64, 3, 1, 1));     // stride 1
        }

        [Fact]
        public void ForwardPreparedSamples_AllocatesNothing()
        {
            int group = Math.Max(2, StridedConvolution.GroupSamples(64, 8, 8, 128, 3, 2, 1));
            float[] x = new float[group * 64 * 8 * 8], w = new float[128 * 64 * 9], b = new float[128], y = new float[group * 128 * 4 * 4];
            float[] prepared = new float[StridedConvolution.GroupPreparedLength(64, 8, 8, 128, 3, 2, 1, group)];
            float[] scratch = new float[StridedConvolution.SamplesScratchLength(64, 8, 8, 128, 3, 2, 1, group)];
            Infrastructure.Allocations.AssertNone(() =>
            {
                StridedConvolution.PrepareGroup(w, b, 64, 8, 8, 128, 3, 2, 1, prepared, group);
                StridedConvolution.ForwardPreparedSamples(x, group, 64, 8, 8, prepared, 128, 3, 2, 1, group, y, scratch, relu: true, means: false);
                StridedConvolution.ForwardPreparedSamples(x, group, 64, 8, 8, prepared, 128, 3, 2, 1, group, y, scratch, relu: true, means: true);
            }, calls: 10);
        }
    }
}
