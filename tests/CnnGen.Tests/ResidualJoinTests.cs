using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Kernels;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// A ResNet-style network of identity blocks: the first block's body ends in a 3x3 layer with batch-norm (the sum and
    /// ReLU go into its kernel), the second, pre-activation, in a 3x3 layer with a bias and nothing after it (the sum alone
    /// goes in; the next block reads it twice), the third in a 5x5 layer on 24 channels (channels off the vector).
    /// </summary>
    [Network(16, 16, 16)]
    [Conv2d(24, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Residual]
    [Conv2d(24, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(24, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [End]
    [ReLU]
    [Residual]
    [BatchNorm]
    [ReLU]
    [Conv2d(24, 3, Padding = 1)]
    [End]
    [Residual]
    [BatchNorm]
    [ReLU]
    [Conv2d(24, 5, Padding = 2)]
    [End]
    [GlobalAvgPool]
    [Flatten]
    [Linear(5)]
    public partial class JoinedResidualNet { }

    /// <summary>
    /// A residual block's last layer with the block's sum in its kernel (<see cref="DirectConvolution.ForwardJoined"/>): the
    /// layer's output plus the shortcut (then ReLU) is the layer and then <see cref="Elementwise.Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>
    /// (or <see cref="Elementwise.SumRelu"/>), bit for bit, on every path: where the layer runs Winograd the sum is added as
    /// the maps are turned into NCHW (whole groups of 16 channels straight into the planes, planes of 1,024 cells and the last
    /// group's channels through staging); elsewhere (Vector256, scalar, shapes Winograd does not pay on) after the kernel.
    /// </summary>
    public sealed class ResidualJoinTests
    {
        public static IEnumerable<object[]> Shapes() => new[]
        {
            // input channels, height, width, output channels, kernel, padding, ReLU after the sum, the layer's own ReLU, linked from a layer before
            new object[] { 16, 32, 32, 16, 3, 1, true, false, false },  // ResNet's first stage: 1,024-cell planes (through staging)
            new object[] { 16, 32, 32, 16, 3, 1, true, false, true },   // the same, its input handed on by the layer before
            new object[] { 32, 16, 16, 32, 3, 1, true, false, true },   // 256-cell planes: straight into them
            new object[] { 24, 13, 13, 40, 3, 1, false, false, false }, // odd maps, channels off the vector, the sum alone (pre-activation)
            new object[] { 64, 8, 8, 64, 3, 1, true, true, false },     // its own ReLU before the sum
            new object[] { 32, 12, 12, 32, 5, 2, true, false, true },   // a 5x5 layer (F(2x2, 5x5))
            new object[] { 20, 9, 11, 20, 3, 0, false, false, false },  // padding 0: 7x9 outputs
            new object[] { 8, 12, 12, 8, 3, 1, true, false, false },    // too few channels for Winograd: the sum after the kernel
        };

        [Theory]
        [MemberData(nameof(Shapes))]
        public void JoinedLayer_IsTheLayerThenTheSum_BitForBit(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool reluAfterSum, bool relu, bool linked)
        {
            var random = new Random(inChannels * 31 + height + outChannels + kernel);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1, length = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width), w = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = RandomValues(random, outChannels), shortcut = RandomValues(random, length);
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding)];
            DirectConvolution.TransformFilters(w, inChannels, height, width, outChannels, kernel, padding, filters);

            // The layer before (inChannels -> inChannels, 3x3, padding 1) hands its maps on where both run Winograd: its output
            // is x here, so both layers read the same input either way.
            float[] before = RandomValues(random, inChannels * height * width), beforeWeights = RandomValues(random, inChannels * inChannels * 9);
            float[] beforeFilters = new float[DirectConvolution.WinogradFiltersLength(inChannels, height, width, inChannels, 3, 1)];
            DirectConvolution.TransformFilters(beforeWeights, inChannels, height, width, inChannels, 3, 1, beforeFilters);
            var into = linked ? DirectConvolution.Link.Convolution(inChannels, height, width, outChannels, kernel, padding, pool: false, atEnd: true) : DirectConvolution.Link.None;
            var from = linked ? DirectConvolution.Link.Convolution(inChannels, height, width, inChannels, 3, 1, pool: false, atEnd: true) : DirectConvolution.Link.None;
            float[] scratch = new float[Math.Max(DirectConvolution.LinkedScratchLength(inChannels, height, width, inChannels, 3, 1, false, DirectConvolution.Link.None, into),
                DirectConvolution.LinkedScratchLength(inChannels, height, width, outChannels, kernel, padding, false, from, DirectConvolution.Link.None))];
            float[] expected = new float[length], joined = Enumerable.Repeat(float.NaN, length).ToArray();

            // Unjoined: the layer before (its maps in x), the layer into NCHW, then the sum as a pass of its own.
            float[] beforeOutput = new float[x.Length];
            DirectConvolution.ForwardLinked(before, inChannels, height, width, beforeWeights, default, inChannels, 3, 1, beforeOutput, scratch, true, false, beforeFilters, DirectConvolution.Link.None, into);
            var written = DirectConvolution.ForwardLinked(beforeOutput, inChannels, height, width, w, bias, outChannels, kernel, padding, expected, scratch, relu, false, filters, from, DirectConvolution.Link.None);
            if (reluAfterSum) Elementwise.SumRelu(written, shortcut, written);
            else Elementwise.Sum(written, shortcut, written);

            // Joined: the same layer before, then the layer adding the shortcut as it writes.
            Array.Fill(beforeOutput, 0f);
            DirectConvolution.ForwardLinked(before, inChannels, height, width, beforeWeights, default, inChannels, 3, 1, beforeOutput, scratch, true, false, beforeFilters, DirectConvolution.Link.None, into);
            DirectConvolution.ForwardJoined(beforeOutput, inChannels, height, width, w, bias, outChannels, kernel, padding, joined, scratch, relu, false, filters, from, shortcut, reluAfterSum);

            Assert.Equal(expected, joined);
            // And against the definition: conv2d + bias (+ ReLU), + shortcut (+ ReLU).
            // (Linked, the layer's input is in the scratch, not in beforeOutput, where the link is taken.)
            if (linked) return;
            var (value, scale) = Definition(beforeOutput, inChannels, height, width, w, bias, outChannels, kernel, 1, padding);
            for (int i = 0; i < length; i++)
            {
                double exact = (relu ? Math.Max(value[i], 0) : value[i]) + shortcut[i];
                if (reluAfterSum) exact = Math.Max(exact, 0);
                double error = Math.Abs(joined[i] - exact) / (scale[i] + Math.Abs(shortcut[i]));
                Assert.True(error <= 1e-4, $"joined[{i}] = {joined[i]}, expected {exact} (error {error:E2} of the magnitude)");
            }
        }

        [Fact]
        public void ForwardJoined_ChecksTheShortcut()
        {
            float[] x = new float[16 * 8 * 8], w = new float[16 * 16 * 9], y = new float[16 * 8 * 8];
            float[] filters = new float[DirectConvolution.WinogradFiltersLength(16, 8, 8, 16, 3, 1)];
            float[] scratch = new float[DirectConvolution.LinkedScratchLength(16, 8, 8, 16, 3, 1, false, DirectConvolution.Link.None, DirectConvolution.Link.None)];
            var error = Assert.Throws<ArgumentException>(() => DirectConvolution.ForwardJoined(x, 16, 8, 8, w, default, 16, 3, 1, y, scratch, false, false, filters,
                DirectConvolution.Link.None, new float[16 * 8 * 8 - 1], reluAfterSum: true));
            Assert.Equal("shortcut", error.ParamName);
        }

        [Fact]
        public void GeneratedNetwork_JoinsItsIdentityBlocks_AndIsTheUnjoinedNetwork()
        {
            string source = Infrastructure.GeneratorHarness.GeneratedSources(
                "using CnnGen;\nnamespace Joined;\n[Network(16, 16, 16)]\n[Conv2d(24, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n"
                + "[Residual]\n[Conv2d(24, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[ReLU]\n[Conv2d(24, 3, Padding = 1, Bias = false)]\n[BatchNorm]\n[End]\n[ReLU]\n"
                + "[Residual]\n[BatchNorm]\n[ReLU]\n[Conv2d(24, 3, Padding = 1)]\n[End]\n"
                + "[Residual]\n[BatchNorm]\n[ReLU]\n[Conv2d(24, 5, Padding = 2)]\n[End]\n"
                + "[Residual]\n[Conv2d(24, 3, Padding = 1)]\n[Shortcut]\n[Conv2d(24, 1)]\n[End]\n"
                + "[GlobalAvgPool]\n[Flatten]\n[Linear(5)]\npublic partial class Net { }")
                .Single(s => s.Key.Contains("Net")).Value;
            // The identity blocks' sums go into their last layers (the first with the ReLU after it), linked or not; the block
            // with a projection shortcut (run after the body) keeps its sum as a pass. Training keeps every sum a pass.
            Assert.Contains("ForwardJoined(x, 24, 16, 16, p.Slice(0, 5184), p.Slice(5184, 24), 24, 3, 1, y, columns, relu: false, pool: false, filters, "
                + "global::CnnGen.Kernels.DirectConvolution.Link.Convolution(24, 16, 16, 24, 3, 1, pool: false, atEnd: true), shortcut, reluAfterSum: true);", source);
            Assert.Contains("ForwardJoined(x, 24, 16, 16, p.Slice(0, 5184), p.Slice(5184, 24), 24, 3, 1, y, columns, relu: false, pool: false, filters, "
                + "global::CnnGen.Kernels.DirectConvolution.Link.None, shortcut, reluAfterSum: false);", source);
            Assert.Contains("ForwardJoined(x, 24, 16, 16, p.Slice(0, 14400), p.Slice(14400, 24), 24, 5, 2, y, columns, relu: false, pool: false, filters, "
                + "global::CnnGen.Kernels.DirectConvolution.Link.None, shortcut, reluAfterSum: false);", source);
            Assert.Equal(3, source.Split("DirectConvolution.ForwardJoined(").Length - 1);
            string evaluation = source.Substring(source.IndexOf("else if (mode == ForwardMode.Evaluation)", StringComparison.Ordinal));
            evaluation = evaluation.Substring(0, evaluation.IndexOf("\n            else\n", StringComparison.Ordinal)); // up to ForwardForGradients' branch
            Assert.Equal(1, evaluation.Split("Elementwise.Sum").Length - 1);

            var network = new JoinedResidualNet();
            network.ResetParameters(7);
            var random = new Random(8);
            // Running statistics away from 0 and 1, so that the folded batch-norms matter.
            for (int i = 0; i < network.Buffers.Length; i++) network.Buffers[i] = i % 2 == 0 ? (float)(random.NextDouble() - 0.5) : 0.5f + (float)random.NextDouble();
            float[] input = RandomValues(random, 3 * JoinedResidualNet.InputLength), joined = new float[3 * JoinedResidualNet.OutputLength], unjoined = new float[joined.Length];
            var workspace = network.CreateWorkspace(3);
            network.Forward(input, joined, 3, workspace);
            Assert.Contains("is added to the input of", Assert.Throws<InvalidOperationException>(() => workspace.LayerOutput(7).Length).Message);
            network.ForwardForGradients(input, unjoined, 3, workspace);
            Infrastructure.Compare.Close(joined, unjoined, 1e-5, "joined residual network");
            Infrastructure.Allocations.AssertNone(() => network.Forward(input, joined, 3, workspace));
        }
    }
}
