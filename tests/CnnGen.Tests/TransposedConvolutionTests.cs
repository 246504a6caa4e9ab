using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>ConvTranspose2d, each path, forward and the three gradients against the definition in double; finite differences; checks.</summary>
    public sealed class TransposedConvolutionTests
    {
        // inC, H, W, outC, kh, kw, sh, sw, ph, pw, oph, opw, bias
        public static IEnumerable<int[]> Geometries()
        {
            var list = new List<int[]>
            {
                new[] { 32, 4, 4, 16, 2, 2, 2, 2, 0, 0, 0, 0, 1 },   // U-Net style 2x upsampling
                new[] { 3, 5, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1 },     // the classic "same x2" with output padding
                new[] { 2, 3, 4, 3, 4, 3, 3, 2, 2, 1, 2, 0, 0 },     // rectangular, stride 3, output padding 2
                new[] { 1, 1, 1, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1 },     // one pixel
                new[] { 4, 6, 5, 2, 5, 5, 1, 1, 2, 2, 0, 0, 1 },     // stride 1: a "same" convolution's adjoint
                new[] { 20, 1, 1, 24, 4, 4, 1, 1, 0, 0, 0, 0, 0 },   // a DCGAN generator's projection of its code (one input cell, no padding)
                new[] { 7, 1, 1, 5, 3, 2, 2, 3, 0, 0, 0, 0, 1 },     // the same, rectangular, with a bias
                // Stride 2 with a square kernel at widths the strided convolution's vector kernels take (its gradients run as that convolution):
                new[] { 32, 8, 8, 48, 4, 4, 2, 2, 1, 1, 0, 0, 0 },   // DCGAN-style 4x4 (its adjoint by the polyphase Winograd where that pays)
                new[] { 64, 4, 4, 32, 4, 4, 2, 2, 1, 1, 0, 0, 1 },   // onto 8x8 from 4x4
                new[] { 16, 16, 16, 3, 4, 4, 2, 2, 1, 1, 0, 0, 0 },  // a generator's last layer onto RGB (its adjoint a stem)
                new[] { 9, 7, 5, 20, 4, 4, 2, 2, 1, 1, 1, 1, 0 },    // odd sides, output padding
                new[] { 20, 5, 7, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1 },   // U-Net-style 3x3 with output padding 1
                new[] { 24, 6, 6, 40, 2, 2, 2, 2, 0, 0, 0, 0, 1 },   // 2x2 tiles
                new[] { 24, 12, 10, 20, 4, 4, 2, 2, 1, 1, 0, 0, 1 }, // d weight by the adjoint's kernels too (more than 64 input cells)
                new[] { 16, 9, 9, 24, 3, 3, 2, 2, 1, 1, 1, 1, 0 },   // the same for a 3x3 layer with output padding
                // 4x4 stride-2 layers from up to 64 channels onto fewer than 8, forward by TransposedPhaseRows: rows of 16 cells
                // and more, 8 to 15 (the last block overlapping), fewer than 8 (one cell at a time); past 64 the product.
                new[] { 32, 8, 32, 3, 4, 4, 2, 2, 1, 1, 0, 0, 1 },   // a narrow generator's last layer onto RGB
                new[] { 64, 8, 32, 3, 4, 4, 2, 2, 1, 1, 0, 0, 1 },   // DCGAN's last layer onto RGB, on fewer rows
                new[] { 72, 4, 16, 3, 4, 4, 2, 2, 1, 1, 0, 0, 1 },   // 72 channels: the product and col2im
                new[] { 12, 6, 20, 2, 4, 4, 2, 2, 1, 1, 0, 0, 1 },
                new[] { 6, 5, 11, 7, 4, 4, 2, 2, 1, 1, 0, 0, 0 },
                new[] { 5, 3, 3, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1 },
            };
            var random = new Random(11);
            for (int trial = 0; trial < 25; trial++)
            {
                int kh = random.Next(1, 6), kw = random.Next(1, 6), sh = random.Next(1, 4), sw = random.Next(1, 4);
                int ph = random.Next(0, 3), pw = random.Next(0, 3), oph = random.Next(0, sh), opw = random.Next(0, sw);
                int h = random.Next(1, 9), w = random.Next(1, 13);
                if ((h - 1) * sh - 2 * ph + kh + oph <= 0 || (w - 1) * sw - 2 * pw + kw + opw <= 0) { trial--; continue; }
                list.Add(new[] { random.Next(1, 6), h, w, random.Next(1, 6), kh, kw, sh, sw, ph, pw, oph, opw, random.Next(2) });
            }
            return list;
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                int index = 0;
                foreach (int[] geometry in Geometries()) yield return [path[0], index++];
            }
        }

        private static int[] GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] geometry in Geometries()) if (i++ == index) return geometry;
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        // 1e-5, grown with the square root of the longest sum past 256 products (the rounding of float sums in any order).
        private static double Tolerance(in TransposedConvolutionGeometry g) =>
            1e-5 * Math.Max(1, Math.Sqrt(Math.Max(g.InChannels, g.OutChannels) * g.KernelHeight * g.KernelWidth / 256.0));

        private static TransposedConvolutionGeometry Make(int[] p) => new(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]);

        internal static double[] ReferenceForward(int[] p, float[] x, float[] w, float[] b)
        {
            int c = p[0], h = p[1], wd = p[2], oc = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7], ph = p[8], pw = p[9];
            int oh = (h - 1) * sh - 2 * ph + kh + p[10], ow = (wd - 1) * sw - 2 * pw + kw + p[11];
            var y = new double[oc * oh * ow];
            for (int o = 0; o < oc; o++)
                for (int i = 0; i < oh * ow; i++) y[o * oh * ow + i] = b.Length > 0 ? b[o] : 0;
            for (int ic = 0; ic < c; ic++)
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < wd; ix++)
                        for (int o = 0; o < oc; o++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int oy = iy * sh - ph + ky, ox = ix * sw - pw + kx;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    y[(o * oh + oy) * ow + ox] += (double)x[(ic * h + iy) * wd + ix] * w[((ic * oc + o) * kh + ky) * kw + kx];
                                }
            return y;
        }

        private static (double[] Dw, double[] Db, double[] Dx) ReferenceBackward(int[] p, float[] x, float[] w, float[] dy)
        {
            int c = p[0], h = p[1], wd = p[2], oc = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7], ph = p[8], pw = p[9];
            int oh = (h - 1) * sh - 2 * ph + kh + p[10], ow = (wd - 1) * sw - 2 * pw + kw + p[11];
            var dW = new double[w.Length];
            var dB = new double[oc];
            var dX = new double[x.Length];
            for (int o = 0; o < oc; o++)
                for (int i = 0; i < oh * ow; i++) dB[o] += dy[o * oh * ow + i];
            for (int ic = 0; ic < c; ic++)
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < wd; ix++)
                        for (int o = 0; o < oc; o++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int oy = iy * sh - ph + ky, ox = ix * sw - pw + kx;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    double g = dy[(o * oh + oy) * ow + ox];
                                    int xi = (ic * h + iy) * wd + ix, wi = ((ic * oc + o) * kh + ky) * kw + kx;
                                    dW[wi] += g * x[xi];
                                    dX[xi] += g * w[wi];
                                }
            return (dW, dB, dX);
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndBackward_MatchTheDefinition(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = GeometryAt(index);
            var g = Make(p);
            var random = new Random(index * 37 + 1);
            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), w = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] b = p[12] == 1 ? GroupedConvolutionTests.RandomValues(random, g.OutChannels) : Array.Empty<float>();
            float[] scratch = GroupedConvolutionTests.RandomValues(random, TransposedConvolution.ScratchLength(g));
            float[] y = new float[g.OutLength + 3];
            Array.Fill(y, float.NaN);
            TransposedConvolution.ForwardOn(g, x, w, b, y.AsSpan(0, g.OutLength), scratch, path);
            GroupedConvolutionTests.Close(y.AsSpan(0, g.OutLength), ReferenceForward(p, x, w, b), 1e-5, $"{path} {g} y");
            for (int i = g.OutLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            float[] dy = GroupedConvolutionTests.RandomValues(random, g.OutLength);
            var (eW, eB, eX) = ReferenceBackward(p, x, w, dy);
            float[] w0 = GroupedConvolutionTests.RandomValues(random, g.WeightLength), b0 = GroupedConvolutionTests.RandomValues(random, g.OutChannels);
            float[] dW = (float[])w0.Clone(), dB = (float[])b0.Clone(), dX = new float[g.InLength];
            Array.Fill(dX, float.NaN);
            TransposedConvolution.BackwardOn(g, x, w, dy, dW, dB, dX, scratch, path);
            for (int i = 0; i < eW.Length; i++) eW[i] += w0[i];
            for (int i = 0; i < eB.Length; i++) eB[i] += b0[i];
            double tolerance = Tolerance(g);
            GroupedConvolutionTests.Close(dW, eW, tolerance, $"{path} {g} dW");
            GroupedConvolutionTests.Close(dB, eB, tolerance, $"{path} {g} db");
            GroupedConvolutionTests.Close(dX, eX, tolerance, $"{path} {g} dx");

            float[] dW2 = (float[])w0.Clone();
            TransposedConvolution.BackwardOn(g, x, w, dy, dW2, Span<float>.Empty, Span<float>.Empty, scratch, path);
            GroupedConvolutionTests.Close(dW2, eW, tolerance, $"{path} {g} dW without dx");

            // A frozen layer: no weight or bias gradient (empty spans), the same input gradient bit for bit.
            float[] dxOnly = new float[g.InLength];
            TransposedConvolution.BackwardOn(g, x, w, dy, Span<float>.Empty, Span<float>.Empty, dxOnly, scratch, path);
            Assert.Equal(dX, dxOnly);
        }

        [Theory]
        [InlineData(64, 32, 32, 3)]
        [InlineData(12, 6, 20, 2)]
        [InlineData(6, 5, 11, 7)]
        [InlineData(5, 3, 3, 1)]
        public void PhaseRows_GiveTheSameBitsOnEveryPath(int c, int h, int w, int oc)
        {
            var g = new TransposedConvolutionGeometry(c, h, w, oc, 4, 4, 2, 2, 1, 1, 0, 0);
            Assert.True(TransposedPhaseRows.Handles(g));
            Assert.False(TransposedPhaseRows.Handles(new TransposedConvolutionGeometry(65, h, w, oc, 4, 4, 2, 2, 1, 1, 0, 0)), "65 input channels: the product and col2im");
            Assert.False(TransposedPhaseRows.Handles(new TransposedConvolutionGeometry(c, h, w, 8, 4, 4, 2, 2, 1, 1, 0, 0)), "8 output channels: Winograd or the product");
            Assert.False(TransposedPhaseRows.Handles(new TransposedConvolutionGeometry(c, h, w, oc, 4, 4, 2, 2, 1, 1, 1, 1)), "output padding");
            var random = new Random(c * 7 + w);
            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), weight = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] bias = GroupedConvolutionTests.RandomValues(random, oc), scratch = new float[TransposedConvolution.ScratchLength(g)];
            float[] scalar = new float[g.OutLength];
            TransposedConvolution.ForwardOn(g, x, weight, bias, scalar, scratch, DirectConvolution.KernelPath.Scalar);
            foreach (object[] p in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                float[] y = new float[g.OutLength];
                TransposedConvolution.ForwardOn(g, x, weight, bias, y, scratch, path);
                Assert.Equal(scalar, y);
            }
        }

        [Theory]
        [InlineData(32, 8, 8, 48, 4, 1, 0)]
        [InlineData(64, 4, 4, 32, 4, 1, 0)]
        [InlineData(16, 16, 16, 3, 4, 1, 0)]
        [InlineData(20, 5, 7, 17, 3, 1, 1)]
        [InlineData(24, 6, 6, 40, 2, 0, 0)]
        [InlineData(5, 3, 3, 4, 3, 0, 0)]
        [InlineData(24, 12, 10, 20, 4, 1, 0)]
        [InlineData(16, 9, 9, 24, 3, 1, 1)]
        public void BackwardPrepared_MatchesTheDefinition(int c, int h, int w, int oc, int k, int padding, int outputPadding)
        {
            int[] p = { c, h, w, oc, k, k, 2, 2, padding, padding, outputPadding, outputPadding, 1 };
            var g = Make(p);
            Assert.True(TransposedConvolution.DifferentiatesAsConvolution(g));
            var random = new Random(c * 13 + k);
            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), wt = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] dy = GroupedConvolutionTests.RandomValues(random, g.OutLength);
            float[] prepared = new float[TransposedConvolution.InputGradientWeightsLength(g)];
            Assert.True(prepared.Length >= g.WeightLength);
            TransposedConvolution.PrepareInputGradient(g, wt, prepared);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, TransposedConvolution.ScratchLength(g));
            float[] dW = new float[g.WeightLength], dB = new float[oc], dX = new float[g.InLength];
            Array.Fill(dX, float.NaN);
            TransposedConvolution.BackwardPrepared(g, x, wt, prepared, dy, dW, dB, dX, scratch);
            var (eW, eB, eX) = ReferenceBackward(p, x, wt, dy);
            GroupedConvolutionTests.Close(dW, eW, Tolerance(g), $"{g} dW");
            GroupedConvolutionTests.Close(dB, eB, Tolerance(g), $"{g} db");
            GroupedConvolutionTests.Close(dX, eX, Tolerance(g), $"{g} dx");

            // Prepared weights of another length are refused, and nothing is written.
            float[] untouched = (float[])dX.Clone();
            Assert.Throws<ArgumentException>(() => TransposedConvolution.PrepareInputGradient(g, wt, new float[prepared.Length + 1]));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.BackwardPrepared(g, x, wt, prepared.AsSpan(1), dy, dW, dB, dX, scratch));
            Assert.Equal(untouched, dX);
            Allocations.AssertNone(() =>
            {
                TransposedConvolution.PrepareInputGradient(g, wt, prepared);
                TransposedConvolution.BackwardPrepared(g, x, wt, prepared, dy, dW, dB, dX, scratch);
            });
        }

        [Theory]
        [InlineData(64, 4, 4, 32, 4, 1, 0, 5)]
        [InlineData(40, 2, 3, 24, 2, 0, 0, 9)]
        [InlineData(17, 3, 3, 20, 3, 1, 1, 4)]
        [InlineData(24, 8, 8, 16, 4, 1, 0, 3)]
        [InlineData(512, 4, 4, 32, 4, 1, 0, 2)]
        [InlineData(20, 1, 1, 24, 4, 0, 0, 7, 1)] // a generator's projection of its code (one cell, stride 1)
        [InlineData(9, 1, 1, 5, 3, 0, 0, 4, 3)]   // one cell, stride 3
        public void WeightGradientOverBatch_IsTheSumOfTheSamples(int c, int h, int w, int oc, int k, int padding, int outputPadding, int batch, int stride = 2)
        {
            int[] p = { c, h, w, oc, k, k, stride, stride, padding, padding, outputPadding, outputPadding, 0 };
            var g = Make(p);
            var random = new Random(c + 3 * batch);
            float[] x = GroupedConvolutionTests.RandomValues(random, batch * g.InLength), wt = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] dy = GroupedConvolutionTests.RandomValues(random, batch * g.OutLength);
            float[] start = GroupedConvolutionTests.RandomValues(random, g.WeightLength), dW = (float[])start.Clone();
            Assert.True(TransposedConvolution.WeightGradientPaysOverBatch(g) || h * w > 16);
            float[] scratch = GroupedConvolutionTests.RandomValues(random, TransposedConvolution.WeightGradientOverBatchScratch(g));
            TransposedConvolution.WeightGradientOverBatch(g, x, dy, batch, dW, scratch);
            double[] expected = Array.ConvertAll(start, v => (double)v);
            for (int n = 0; n < batch; n++)
            {
                var (eW, _, _) = ReferenceBackward(p, x.AsSpan(n * g.InLength, g.InLength).ToArray(), wt, dy.AsSpan(n * g.OutLength, g.OutLength).ToArray());
                for (int i = 0; i < eW.Length; i++) expected[i] += eW[i];
            }
            GroupedConvolutionTests.Close(dW, expected, Tolerance(g) * Math.Sqrt(batch), $"{g} dW over {batch} samples");

            // Short spans and a layer the sum does not take are refused before anything is written.
            float[] untouched = (float[])dW.Clone();
            Assert.Throws<ArgumentException>(() => TransposedConvolution.WeightGradientOverBatch(g, x.AsSpan(1), dy, batch, dW, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.WeightGradientOverBatch(g, x, dy.AsSpan(1), batch, dW, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.WeightGradientOverBatch(g, x, dy, batch, dW.AsSpan(1), scratch));
            if (scratch.Length > 0) Assert.Throws<ArgumentException>(() => TransposedConvolution.WeightGradientOverBatch(g, x, dy, batch, dW, scratch.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => TransposedConvolution.WeightGradientOverBatch(g, x, dy, 0, dW, scratch));
            var rectangular = new TransposedConvolutionGeometry(c, h + 1, w, oc, k, k + 1, 2, 2, padding, padding, outputPadding, outputPadding);
            Assert.Throws<ArgumentException>(() => TransposedConvolution.WeightGradientOverBatch(rectangular, x, dy, batch, new float[rectangular.WeightLength], scratch));
            Assert.Equal(untouched, dW);
            Allocations.AssertNone(() => TransposedConvolution.WeightGradientOverBatch(g, x, dy, batch, dW, scratch));
        }

        [Fact]
        public void OtherStridesAndKernels_KeepTheColumns()
        {
            Assert.False(TransposedConvolution.DifferentiatesAsConvolution(new TransposedConvolutionGeometry(8, 4, 4, 8, 3, 3, 1, 1, 1, 1, 0, 0))); // stride 1
            Assert.False(TransposedConvolution.DifferentiatesAsConvolution(new TransposedConvolutionGeometry(8, 4, 4, 8, 3, 2, 2, 2, 1, 1, 0, 0))); // not square
            Assert.False(TransposedConvolution.DifferentiatesAsConvolution(new TransposedConvolutionGeometry(8, 4, 4, 8, 3, 3, 2, 2, 1, 0, 0, 0))); // paddings differ
            Assert.False(TransposedConvolution.DifferentiatesAsConvolution(new TransposedConvolutionGeometry(8, 4, 4, 8, 3, 3, 3, 3, 1, 1, 0, 0))); // stride 3
            var g = new TransposedConvolutionGeometry(8, 4, 4, 8, 3, 3, 1, 1, 1, 1, 0, 0);
            Assert.Equal(0, TransposedConvolution.InputGradientWeightsLength(g));
            TransposedConvolution.PrepareInputGradient(g, new float[g.WeightLength], Span<float>.Empty);
        }

        [Theory]
        [InlineData(2, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1)]
        [InlineData(3, 2, 4, 2, 2, 3, 2, 3, 0, 1, 1, 2)]
        public void Gradients_MatchFiniteDifferences(int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int ph, int pw, int oph, int opw)
        {
            int[] p = { c, h, w, oc, kh, kw, sh, sw, ph, pw, oph, opw, 1 };
            var g = Make(p);
            var random = new Random(c * 7 + w);
            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), wt = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] b = GroupedConvolutionTests.RandomValues(random, oc), dy = GroupedConvolutionTests.RandomValues(random, g.OutLength);
            float[] dW = new float[wt.Length], dB = new float[oc], dX = new float[x.Length];
            TransposedConvolution.Backward(g, x, wt, dy, dW, dB, dX, new float[TransposedConvolution.ScratchLength(g)]);
            double Loss()
            {
                double[] y = ReferenceForward(p, x, wt, b);
                double sum = 0;
                for (int i = 0; i < y.Length; i++) sum += y[i] * dy[i];
                return sum;
            }
            void Check(float[] tensor, float[] gradient, string name)
            {
                for (int i = 0; i < tensor.Length; i++)
                {
                    float saved = tensor[i];
                    tensor[i] = saved + 1e-2f; double plus = Loss();
                    tensor[i] = saved - 1e-2f; double minus = Loss();
                    tensor[i] = saved;
                    double numeric = (plus - minus) / (2.0 * 1e-2f);
                    Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-4 * Math.Max(1, Math.Abs(numeric)), $"{name}[{i}]: {gradient[i]} vs numeric {numeric}");
                }
            }
            Check(x, dX, "dx");
            Check(wt, dW, "dw");
            Check(b, dB, "db");
        }

        [Fact]
        public void Geometry_FollowsPyTorchAndRejectsBadShapes()
        {
            var g = new TransposedConvolutionGeometry(3, 5, 7, 4, 3, 2, 2, 3, 1, 0, 1, 2);
            Assert.Equal((5 - 1) * 2 - 2 + 3 + 1, g.OutHeight);
            Assert.Equal((7 - 1) * 3 - 0 + 2 + 2, g.OutWidth);
            Assert.Equal(3 * 4 * 3 * 2, g.WeightLength);
            Assert.Throws<ArgumentOutOfRangeException>(() => new TransposedConvolutionGeometry(1, 4, 4, 1, 2, 2, 2, 2, 0, 0, 2, 0)); // op == stride
            Assert.Throws<ArgumentOutOfRangeException>(() => new TransposedConvolutionGeometry(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0)); // no rows
            Assert.Throws<ArgumentOutOfRangeException>(() => new TransposedConvolutionGeometry(1, 4, 4, 1, 0, 2, 2, 2, 0, 0, 0, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new TransposedConvolutionGeometry(1, 4, 4, 1, 2, 2, 0, 2, 0, 0, 0, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new TransposedConvolutionGeometry(1, 4, 4, 1, 2, 2, 2, 2, -1, 0, 0, 0));
        }

        [Fact]
        public void RejectsShortSpans_AndAllocatesNothing()
        {
            var g = new TransposedConvolutionGeometry(8, 4, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0);
            float[] x = new float[g.InLength], w = new float[g.WeightLength], b = new float[g.OutChannels], y = new float[g.OutLength];
            float[] scratch = new float[TransposedConvolution.ScratchLength(g)];
            float[] dW = new float[g.WeightLength], dB = new float[g.OutChannels], dX = new float[g.InLength];
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(g, x.AsSpan(1), w, b, y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(g, x, w.AsSpan(1), b, y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(g, x, w, b.AsSpan(1), y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(g, x, w, b, y.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(g, x, w, b, y, scratch.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Forward(default, x, w, b, y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Backward(g, x, w, y.AsSpan(1), dW, dB, dX, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Backward(g, x, w, y, dW.AsSpan(1), dB, dX, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Backward(g, x, w, y, dW, dB.AsSpan(1), dX, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Backward(g, x, w, y, dW, dB, dX.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Backward(g, x, w, y, dW, dB, dX, scratch.AsSpan(1)));
            Allocations.AssertNone(() =>
            {
                TransposedConvolution.Forward(g, x, w, b, y, scratch);
                TransposedConvolution.Backward(g, x, w, y, dW, dB, dX, scratch);
            });
        }
    }
}
