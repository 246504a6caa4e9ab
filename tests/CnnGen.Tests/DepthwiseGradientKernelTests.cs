using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The depthwise backward's kernels (DepthwiseConvolution.Gradients.cs) against the definition on every path: the
    /// weight gradient's tap sums (rows of every width, so the masked last vectors and the cell-by-cell rows at the end of
    /// dy), the input gradient as the transposed geometry's forward pass (stride 1) and as a gather (other strides, inputs
    /// up to 16 wide), and the scatter form they leave for channel multipliers above 1.
    /// </summary>
    public class DepthwiseGradientKernelTests
    {
        // channels, height, width, multiplier, kernel, stride, padding, dilation
        private static IEnumerable<int[]> Geometries()
        {
            foreach (int width in new[] { 1, 3, 4, 7, 8, 9, 15, 16, 17, 23, 32, 33 })
            {
                yield return new[] { 3, 5, width, 1, 3, 1, 1, 1 };
                yield return new[] { 2, 9, width, 1, 3, 2, 1, 1 };
                yield return new[] { 2, 6, width + 2, 1, 5, 1, 2, 1 };
            }
            yield return new[] { 17, 8, 8, 1, 3, 1, 1, 1 };
            yield return new[] { 5, 4, 4, 1, 3, 1, 1, 1 };
            yield return new[] { 4, 12, 12, 1, 3, 1, 2, 2 };   // dilated, stride 1
            yield return new[] { 3, 6, 32, 1, 3, 1, 2, 2 };    // dilated, stride 1, rows of whole vectors (the gather's planes copied back a plane at a time)
            yield return new[] { 2, 5, 48, 1, 3, 1, 2, 2 };
            yield return new[] { 2, 4, 16, 2, 3, 1, 2, 2 };    // the same, multiplier 2 (the scatter form)
            yield return new[] { 4, 13, 14, 1, 3, 2, 2, 2 };   // dilated, stride 2
            yield return new[] { 3, 14, 14, 1, 5, 2, 2, 1 };
            yield return new[] { 3, 16, 16, 1, 3, 2, 0, 1 };   // stride 2 without padding
            yield return new[] { 3, 11, 10, 1, 3, 3, 1, 1 };   // stride 3
            yield return new[] { 3, 9, 9, 1, 7, 1, 3, 1 };     // 7x7: 49 taps in sweeps of nine
            yield return new[] { 4, 10, 10, 1, 1, 1, 0, 1 };   // 1x1
            yield return new[] { 4, 10, 10, 1, 2, 1, 1, 1 };   // even kernel
            yield return new[] { 3, 10, 10, 2, 3, 1, 1, 1 };   // multiplier 2: scatter form at stride 2, transposed not
            yield return new[] { 3, 10, 10, 2, 3, 2, 1, 1 };
            yield return new[] { 3, 20, 20, 1, 3, 2, 1, 1 };   // stride 2 on rows wider than 16: the scatter form
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                int index = 0;
                foreach (int[] _ in Geometries()) yield return [path[0], index++];
            }
        }

        private static int[] GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] geometry in Geometries()) if (i++ == index) return geometry;
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        // GroupedConvolutionTests' parameter layout: c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias.
        private static int[] Grouped(int[] d) => new[] { d[0], d[1], d[2], d[0] * d[3], d[4], d[4], d[5], d[5], d[6], d[6], d[7], d[7], d[0], 0 };

        private static ConvolutionGeometry Make(int[] p) => new(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]);

        [Theory]
        [MemberData(nameof(Cases))]
        public void Gradients_MatchTheDefinition(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = Grouped(GeometryAt(index));
            var g = Make(p);
            var random = new Random(index * 31 + 3);
            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), w = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] dy = GroupedConvolutionTests.RandomValues(random, g.OutLength);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, GroupedConvolution.ScratchLength(g)); // garbage must not leak
            var (eW, _, eX) = GroupedConvolutionTests.ReferenceBackward(p, x, w, dy);
            double weightTolerance = 1e-5 * Math.Max(1, Math.Sqrt(g.OutHeight * g.OutWidth / 64.0));
            double inputTolerance = 1e-5 * Math.Max(1, Math.Sqrt(g.GroupOutChannels * g.KernelHeight * g.KernelWidth / 64.0));

            float[] w0 = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] dW = (float[])w0.Clone(), dX = new float[g.InLength + 3];
            Array.Fill(dX, float.NaN); // overwritten, not accumulated; nothing written past the input gradient
            GroupedConvolution.BackwardOn(g, x, w, dy, dW, Span<float>.Empty, dX.AsSpan(0, g.InLength), scratch, path);
            for (int i = 0; i < eW.Length; i++) eW[i] += w0[i];
            GroupedConvolutionTests.Close(dW, eW, weightTolerance, $"{path} {g} dW");
            GroupedConvolutionTests.Close(dX.AsSpan(0, g.InLength), eX, inputTolerance, $"{path} {g} dx");
            for (int i = g.InLength; i < dX.Length; i++) Assert.True(float.IsNaN(dX[i]), $"{path} {g}: dx written past its end");

            // Each gradient alone: the same bits as both together.
            float[] dWOnly = (float[])w0.Clone(), dXOnly = new float[g.InLength];
            GroupedConvolution.BackwardOn(g, x, w, dy, dWOnly, Span<float>.Empty, Span<float>.Empty, scratch, path);
            GroupedConvolution.BackwardOn(g, x, w, dy, Span<float>.Empty, Span<float>.Empty, dXOnly, scratch, path);
            Assert.Equal(dW, dWOnly);
            Assert.Equal(dX.AsSpan(0, g.InLength).ToArray(), dXOnly);
        }

        // A non-finite value reaches exactly the gradients the definition sends it to: the masked vectors at the rows' ends
        // read cells of other rows and channels, which must not leak in (0 · ∞ would be NaN). An infinite input reaches
        // the weight gradient's taps that read it; a NaN in dy reaches the input-gradient cells the definition sends it to,
        // and its own channel's weight gradient only (there PyTorch's zero padding times NaN is NaN too, where the
        // definition skips the padded taps).
        [Theory]
        [MemberData(nameof(Cases))]
        public void NonFiniteValues_ReachOnlyWhatTheDefinitionReaches(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = Grouped(GeometryAt(index));
            var g = Make(p);
            var random = new Random(index * 17 + 11);
            for (int trial = 0; trial < 4; trial++)
            {
                float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), w = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
                float[] dy = GroupedConvolutionTests.RandomValues(random, g.OutLength);
                bool infiniteInput = trial % 2 == 0;
                int at = random.Next(infiniteInput ? x.Length : dy.Length);
                if (infiniteInput) x[at] = float.PositiveInfinity;
                else dy[at] = float.NaN;
                var (eW, _, eX) = GroupedConvolutionTests.ReferenceBackward(p, x, w, dy);
                float[] dW = new float[g.WeightLength], dX = new float[g.InLength], scratch = new float[GroupedConvolution.ScratchLength(g)];
                GroupedConvolution.BackwardOn(g, x, w, dy, dW, Span<float>.Empty, dX, scratch, path);
                int taps = g.KernelHeight * g.KernelWidth, nanChannel = infiniteInput ? -1 : at / (g.OutHeight * g.OutWidth);
                for (int i = 0; i < eW.Length; i++)
                {
                    if (i / taps == nanChannel) continue;
                    Assert.True(double.IsFinite(eW[i]) == float.IsFinite(dW[i]), $"{path} {g} dW[{i}] is {dW[i]}, the definition {eW[i]}");
                }
                for (int i = 0; i < eX.Length; i++)
                    Assert.True(double.IsFinite(eX[i]) == float.IsFinite(dX[i]), $"{path} {g} dx[{i}] is {dX[i]}, the definition {eX[i]}");
            }
        }

        [Fact]
        public void Backward_AllocatesNothing()
        {
            foreach (int[] d in new[] { new[] { 8, 16, 16, 1, 3, 1, 1, 1 }, new[] { 8, 16, 16, 1, 3, 2, 1, 1 }, new[] { 8, 7, 7, 1, 5, 1, 2, 1 } })
            {
                var g = Make(Grouped(d));
                float[] x = new float[g.InLength], w = new float[g.WeightLength], dy = new float[g.OutLength];
                float[] dW = new float[g.WeightLength], dX = new float[g.InLength], scratch = new float[GroupedConvolution.ScratchLength(g)];
                Allocations.AssertNone(() => GroupedConvolution.Backward(g, x, w, dy, dW, Span<float>.Empty, dX, scratch));
            }
        }
    }
}
