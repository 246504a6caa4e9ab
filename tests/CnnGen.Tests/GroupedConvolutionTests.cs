using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The general convolution (groups, depthwise, dilation, stride, rectangular kernels), each path, forward and the three
    /// gradients against the definition in double precision; finite differences; argument checks; no allocation.
    /// </summary>
    public sealed class GroupedConvolutionTests
    {
        // inC, H, W, outC, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias (1/0)
        public static IEnumerable<int[]> Geometries()
        {
            var list = new List<int[]>
            {
                new[] { 96, 16, 16, 96, 3, 3, 1, 1, 1, 1, 1, 1, 96, 1 },   // depthwise 3x3 stride 1
                new[] { 8, 32, 32, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8, 1 },      // depthwise 3x3 stride 2
                new[] { 6, 17, 19, 6, 3, 3, 1, 1, 2, 2, 2, 2, 6, 0 },      // depthwise dilated
                new[] { 4, 13, 23, 8, 3, 3, 2, 2, 2, 2, 2, 2, 4, 1 },      // depthwise, multiplier 2, stride 2, dilation 2
                new[] { 24, 16, 16, 24, 5, 5, 1, 1, 2, 2, 1, 1, 24, 1 },   // depthwise 5x5 stride 1 on 16-wide rows (shared input rows): 8 + 8 rows
                new[] { 5, 19, 21, 10, 5, 5, 1, 1, 2, 2, 1, 1, 5, 0 },     // the same: 8 + 8 + 3 rows, an overlapping last vector, multiplier 2
                new[] { 6, 19, 21, 6, 7, 7, 1, 1, 3, 3, 1, 1, 6, 1 },      // depthwise 7x7 stride 1 (shared input rows): 8 + 8 + 3 rows, an overlapping last vector
                new[] { 3, 11, 29, 6, 5, 3, 3, 3, 2, 1, 1, 3, 3, 1 },      // depthwise stride 3, rectangular, dilation 3
                new[] { 5, 9, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 1 },        // depthwise, rows narrower than a vector
                new[] { 16, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 1 },     // depthwise 7x7 maps (narrow rows spill into the next)
                new[] { 12, 8, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 12, 0 },     // depthwise 4-wide output, multiplier 2
                new[] { 5, 19, 11, 10, 3, 3, 1, 1, 1, 1, 1, 1, 5, 1 },     // depthwise 3x3 stride 1 (shared input rows): 8 + 8 + 3 rows, multiplier 2
                new[] { 3, 20, 37, 3, 3, 3, 1, 1, 0, 0, 1, 1, 3, 0 },      // the same unpadded, 18 rows, an overlapping last vector
                new[] { 8, 10, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 1 },       // the same on rows of exactly 8 (one Vector256 per row to pad)
                // Inputs at most 8 wide: the Vector512 path runs WholePlaneDepthwise (vectors spanning whole output rows).
                new[] { 96, 8, 8, 96, 3, 3, 1, 1, 2, 2, 2, 2, 96, 1 },     // whole plane: MobileNetV2's dilated 8x8, channel pairs
                new[] { 9, 8, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1, 9, 0 },        // whole plane: two blocks of channels, an odd one left
                new[] { 5, 8, 8, 10, 3, 3, 1, 1, 1, 1, 1, 1, 5, 1 },       // whole plane: multiplier 2
                new[] { 16, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 1 },     // whole plane: 4x4, one vector per channel
                new[] { 24, 8, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1, 24, 0 },     // whole plane: stride 2 to 4x4 (four phase planes)
                new[] { 4, 8, 8, 4, 3, 3, 2, 2, 2, 2, 2, 2, 4, 1 },        // whole plane: stride 2 and dilation 2
                new[] { 2, 16, 4, 2, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1 },       // whole plane: 2-wide output rows, 8 of them per vector
                new[] { 2, 16, 8, 2, 3, 3, 2, 1, 1, 1, 1, 1, 2, 1 },       // whole plane: stride 2 down, 1 across (two row phases)
                new[] { 3, 6, 8, 3, 5, 5, 1, 1, 2, 2, 1, 1, 3, 1 },        // whole plane: 5x5, 6 rows of 8 (three vectors)
                new[] { 16, 4, 4, 16, 1, 1, 1, 1, 0, 0, 1, 1, 16, 1 },     // whole plane: a 1x1 depthwise kernel
                new[] { 4, 8, 8, 4, 3, 3, 1, 1, 1, 2, 1, 1, 4, 1 },        // padding wider than the kernel needs: 10-wide output, row kernel
                new[] { 64, 16, 16, 64, 1, 1, 1, 1, 0, 0, 1, 1, 4, 1 },    // grouped pointwise: each group a PointwiseConvolution
                new[] { 24, 8, 8, 64, 1, 1, 1, 1, 0, 0, 1, 1, 4, 0 },      // the same, MobileNetV2's 24->64 in 4 groups, no bias
                new[] { 12, 10, 10, 12, 1, 1, 1, 1, 0, 0, 1, 1, 3, 1 },    // grouped pointwise on 100 cells (not whole vectors): GEMM per group
                new[] { 32, 32, 32, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 },    // 3x3 stride 2
                new[] { 4, 10, 12, 6, 3, 2, 2, 3, 1, 0, 2, 1, 2, 1 },      // grouped, rectangular, mixed stride and dilation
                new[] { 3, 7, 7, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0 },        // pointwise, odd sizes
                new[] { 2, 5, 6, 4, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1 },        // 1x1 with stride and padding (im2col path)
                new[] { 1, 1, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 },        // a single pixel
                new[] { 2, 3, 3, 2, 5, 5, 1, 1, 2, 2, 1, 1, 2, 0 },        // kernel as large as the padded input
                // Dilated, one group, stride 1, padding a multiple of d, sides multiples of d: d² undilated phases (DilatedConvolution).
                new[] { 32, 32, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1 },    // d2 "same": 16x16 phases (Winograd on Vector512)
                new[] { 32, 32, 32, 64, 3, 3, 1, 1, 4, 4, 4, 4, 1, 0 },    // d4 "same": 8x8 phases
                new[] { 6, 20, 24, 10, 3, 3, 1, 1, 4, 4, 4, 4, 1, 1 },     // d4, 5x6 phases: a 4x4 transpose, then two floats by one
                new[] { 5, 12, 18, 7, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1 },      // d3, odd channel counts, 4x6 phases
                new[] { 16, 8, 12, 16, 5, 5, 1, 1, 4, 4, 2, 2, 1, 1 },     // 5x5 d2 "same"
                new[] { 8, 10, 6, 16, 3, 3, 1, 1, 0, 0, 2, 2, 1, 0 },      // d2 unpadded: 6x2 output
                new[] { 24, 16, 16, 48, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1 },    // d2, 8x8 phases, lanes kernel
                new[] { 4, 11, 12, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1 },      // d2 on an odd height: the im2col route
                // Grouped 3x3 (not depthwise): each group through DirectConvolution (stride 1) or StridedConvolution (stride 2,
                // 16 or more channels a group); stride 2 with fewer stays on im2col.
                new[] { 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1, 1, 32, 1 }, // ResNeXt's 32 groups of 4
                new[] { 64, 9, 13, 64, 3, 3, 1, 1, 1, 1, 1, 1, 4, 0 },     // 4 groups of 16, odd map, no bias
                new[] { 40, 11, 11, 80, 3, 3, 1, 1, 0, 0, 1, 1, 2, 1 },    // 20 in, 40 out a group (no multiples of 16), unpadded
                new[] { 128, 16, 16, 128, 3, 3, 2, 2, 1, 1, 1, 1, 8, 1 },  // stride 2, 8 groups of 16
                new[] { 40, 15, 17, 40, 3, 3, 2, 2, 1, 1, 1, 1, 2, 0 },    // stride 2, 20 a group, odd map
                new[] { 64, 12, 12, 64, 3, 3, 2, 2, 1, 1, 1, 1, 8, 1 },    // stride 2, 8 a group: im2col
                // Ungrouped, undilated, stride 1, kernel or padding not the same on both axes: DirectConvolution's tiles
                // (GroupedConvolution.RunsDirect): Inception's 1xk / kx1 with padding along the kernel's axis, unpadded, odd
                // channel counts, the output-channel lanes kernel (multiples of 16 on short rows) and both weight-gradient kernels.
                new[] { 16, 9, 11, 32, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 },     // 1x3 "same", 32 out: lanes kernel, Lanes weight gradient
                new[] { 16, 9, 11, 32, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1 },     // 3x1 "same"
                new[] { 5, 17, 17, 7, 1, 7, 1, 1, 0, 3, 1, 1, 1, 0 },      // 1x7, odd channels, no bias: Dot weight gradient
                new[] { 7, 17, 17, 5, 7, 1, 1, 1, 3, 0, 1, 1, 1, 1 },      // 7x1
                new[] { 12, 13, 10, 20, 1, 5, 1, 1, 0, 2, 1, 1, 1, 1 },    // 1x5
                new[] { 20, 10, 13, 12, 5, 1, 1, 1, 2, 0, 1, 1, 1, 0 },    // 5x1
                new[] { 3, 8, 19, 6, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1 },       // 1x3 unpadded
                new[] { 6, 19, 8, 3, 3, 1, 1, 1, 0, 0, 1, 1, 1, 1 },       // 3x1 unpadded
                new[] { 4, 7, 9, 8, 2, 3, 1, 1, 1, 0, 1, 1, 1, 1 },        // 2x3, padding on one axis only
                new[] { 9, 11, 6, 10, 3, 3, 1, 1, 0, 2, 1, 1, 1, 1 },      // square kernel, padding per axis
                new[] { 24, 6, 3, 32, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1 },      // 3-wide rows, 32 out: lanes kernel two blocks at a time
                new[] { 4, 5, 16, 8, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1 },       // 16-wide output rows, 8 out: Dot weight gradient along d y's rows
                new[] { 40, 5, 5, 48, 1, 3, 1, 1, 0, 1, 1, 1, 1, 0 },      // 5x5 map, 48 out
                // 1x3 and 3x1 from 16 channels on 16+ tiles: Winograd's F(4, 3) on Vector512 (GroupedConvolution.RunsLineWinograd),
                // 1x5 and 7x1 by F(4, 5) and F(4, 7);
                // the two "same" shapes above (16 -> 32 on 9x11) take it too.
                new[] { 32, 16, 16, 48, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 },    // Inception-style's second 1x3
                new[] { 48, 16, 16, 48, 3, 1, 1, 1, 1, 0, 1, 1, 1, 0 },    // and its 3x1, no bias
                new[] { 24, 10, 13, 40, 3, 1, 1, 1, 2, 1, 1, 1, 1, 1 },    // padded on both axes, 2 along the kernel's: rows of bias only
                new[] { 17, 7, 21, 16, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1 },     // unpadded: 19 outputs a row, a last tile of 3
                new[] { 16, 21, 7, 32, 3, 1, 1, 1, 0, 0, 1, 1, 1, 1 },     // unpadded 3x1: the input gradient pads 2 along the kernel's axis
                new[] { 16, 12, 14, 32, 1, 5, 1, 1, 0, 2, 1, 1, 1, 1 },    // 1x5 by F(4, 5): 14 columns, a last tile of 2
                new[] { 32, 18, 11, 16, 7, 1, 1, 1, 3, 0, 1, 1, 1, 0 },    // 7x1 by F(4, 7), no bias: 18 rows, a last tile of 2
                new[] { 48, 17, 13, 48, 1, 7, 1, 1, 0, 3, 1, 1, 1, 1 },    // 16,128 weights: dW by the direct kernels alone, dx by Winograd
            };
            var random = new Random(7);
            for (int trial = 0; trial < 30; trial++)
            {
                int kind = trial % 3; // 0: groups 1, 1: groups 2, 2: depthwise
                int groups = kind == 0 ? 1 : kind == 1 ? 2 : random.Next(1, 7);
                int groupIn = kind == 2 ? 1 : random.Next(1, 4);
                int groupOut = random.Next(1, kind == 2 ? 3 : 4);
                int kh = random.Next(1, 6), kw = random.Next(1, 6), sh = random.Next(1, 4), sw = random.Next(1, 4);
                int ph = random.Next(0, 3), pw = random.Next(0, 3), dh = random.Next(1, 4), dw = random.Next(1, 4);
                int h = Math.Max(1, dh * (kh - 1) + 1 - 2 * ph) + random.Next(0, 20);
                int w = Math.Max(1, dw * (kw - 1) + 1 - 2 * pw) + random.Next(0, 40);
                list.Add(new[] { groups * groupIn, h, w, groups * groupOut, kh, kw, sh, sw, ph, pw, dh, dw, groups, random.Next(2) });
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

        // The 5x5 and 7x7 stride-1 tiles and the 5x5 stride-2 tile with shared input rows sum each output over the taps in the
        // general tile's order (ky, then kx), with the bias first: the same floats, clamped the same way.
        [Theory]
        [InlineData(5, 24, 16, 16, 1)]
        [InlineData(5, 5, 19, 21, 2)]
        [InlineData(5, 8, 32, 32, 1)]
        [InlineData(5, 3, 9, 40, 1)]
        [InlineData(7, 48, 16, 16, 1)]
        [InlineData(7, 5, 19, 21, 2)]
        [InlineData(7, 3, 10, 33, 1)]
        [InlineData(5, 8, 32, 32, 1, 2)]
        [InlineData(5, 3, 37, 41, 2, 2)]
        [InlineData(5, 4, 20, 70, 1, 2)]
        [InlineData(5, 2, 34, 33, 1, 2)]
        public void DepthwiseLargeKernels_SharedRows_AreBitForBitTheGeneralTile(int kernel, int channels, int height, int width, int multiplier, int stride = 1)
        {
            var g = new ConvolutionGeometry(channels, height, width, channels * multiplier, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, channels);
            var random = new Random(channels * 100 + height + width);
            float[] x = RandomValues(random, g.InLength), w = RandomValues(random, g.WeightLength), b = RandomValues(random, g.OutChannels);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)], shared = new float[g.OutLength], general = new float[g.OutLength];
            DepthwiseConvolution.Forward(g, x, w, b, shared, scratch, DirectConvolution.KernelPath.Vector512, -0.5f, 0.75f);
            try
            {
                DepthwiseConvolution.SharedRows = false;
                DepthwiseConvolution.Forward(g, x, w, b, general, scratch, DirectConvolution.KernelPath.Vector512, -0.5f, 0.75f);
            }
            finally
            {
                DepthwiseConvolution.SharedRows = true;
            }
            Assert.Equal(general, shared);
        }

        private static int[] GeometryAt(int index)
        {
            int i = 0;
            foreach (int[] geometry in Geometries()) if (i++ == index) return geometry;
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        private static ConvolutionGeometry Make(int[] p) => new(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]);

        internal static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        // The definition, in double, written from PyTorch's documentation.
        private static double[] ReferenceForward(int[] p, float[] x, float[] w, float[] b) => ReferenceForward(p, x, w, b, out _);

        // The same, with each output's magnitude: the sum of its terms' absolute values (the Winograd tests' scale).
        internal static double[] ReferenceForward(int[] p, float[] x, float[] w, float[] b, out double[] magnitude)
        {
            int c = p[0], h = p[1], wd = p[2], oc = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7], ph = p[8], pw = p[9], dh = p[10], dw = p[11], groups = p[12];
            int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
            int cg = c / groups, og = oc / groups;
            var y = new double[oc * oh * ow];
            magnitude = new double[y.Length];
            for (int o = 0; o < oc; o++)
            {
                int group = o / og;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double sum = b.Length > 0 ? b[o] : 0, size = Math.Abs(sum);
                        for (int j = 0; j < cg; j++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    double term = (double)w[((o * cg + j) * kh + ky) * kw + kx] * x[((group * cg + j) * h + iy) * wd + ix];
                                    sum += term;
                                    size += Math.Abs(term);
                                }
                        y[(o * oh + oy) * ow + ox] = sum;
                        magnitude[(o * oh + oy) * ow + ox] = size;
                    }
            }
            return y;
        }

        // dL/dw, dL/db, dL/dx for L = Σ y·dy, by the chain rule on the same loops.
        internal static (double[] Dw, double[] Db, double[] Dx) ReferenceBackward(int[] p, float[] x, float[] w, float[] dy)
        {
            int c = p[0], h = p[1], wd = p[2], oc = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7], ph = p[8], pw = p[9], dh = p[10], dw = p[11], groups = p[12];
            int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
            int cg = c / groups, og = oc / groups;
            var dW = new double[w.Length];
            var dB = new double[oc];
            var dX = new double[x.Length];
            for (int o = 0; o < oc; o++)
            {
                int group = o / og;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double g = dy[(o * oh + oy) * ow + ox];
                        dB[o] += g;
                        for (int j = 0; j < cg; j++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    int wi = ((o * cg + j) * kh + ky) * kw + kx, xi = ((group * cg + j) * h + iy) * wd + ix;
                                    dW[wi] += g * x[xi];
                                    dX[xi] += g * w[wi];
                                }
                    }
            }
            return (dW, dB, dX);
        }

        internal static void Close(ReadOnlySpan<float> actual, double[] expected, double tolerance, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                double error = Math.Abs(actual[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i]));
                if (!(error <= tolerance)) Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (error {error:E2})");
            }
        }

        private static void AssertWithinMagnitude(float[] actual, double[] expected, double[] magnitude, double tolerance, string what)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                double error = Math.Abs(actual[i] - expected[i]);
                if (!(error <= tolerance * Math.Max(1, Math.Abs(expected[i])) || error <= 2e-5 * magnitude[i]))
                    Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (error {error:E2}, magnitude {magnitude[i]:G3})");
            }
        }

        [Fact]
        public void DilatedLayers_RunAsPhases_WhereTheIdentityHolds()
        {
            Assert.True(DilatedConvolution.Handles(Make(new[] { 32, 32, 32, 32, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1 })));
            Assert.True(DilatedConvolution.Handles(Make(new[] { 5, 12, 18, 7, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1 })));
            Assert.True(DilatedConvolution.Handles(Make(new[] { 8, 10, 6, 16, 3, 3, 1, 1, 0, 0, 2, 2, 1, 0 })));
            Assert.False(DilatedConvolution.Handles(Make(new[] { 4, 11, 12, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1 })));  // odd height
            Assert.False(DilatedConvolution.Handles(Make(new[] { 4, 12, 12, 4, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1 })));  // padding 1 with d 2
            Assert.False(DilatedConvolution.Handles(Make(new[] { 4, 12, 12, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1 })));  // stride 2
            Assert.False(DilatedConvolution.Handles(Make(new[] { 4, 12, 12, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1 })));  // groups
            Assert.False(DilatedConvolution.Handles(Make(new[] { 4, 12, 12, 4, 3, 3, 1, 1, 2, 2, 1, 1, 1, 1 })));  // no dilation
        }

        // Dilated layers whose phases run by Winograd on Vector512 run as one Winograd convolution on the whole map (windows
        // and outputs stepping d cells): the same tiles, transforms and sums as the phases split out, so the same floats.
        // "same" d2 and d4, 5x5, d3 with partial tiles at the phases' edges, unpadded, and channels off the 16-lane groups.
        [Theory]
        [InlineData(32, 32, 32, 32, 3, 2, 2, 1)]
        [InlineData(32, 32, 32, 64, 3, 4, 4, 0)]
        [InlineData(16, 16, 24, 16, 5, 2, 4, 1)]
        [InlineData(48, 24, 30, 40, 3, 3, 3, 1)]
        [InlineData(32, 20, 20, 32, 3, 2, 0, 1)]
        [InlineData(24, 36, 28, 20, 3, 2, 2, 0)]
        public void DilatedLayers_OnTheWholeMap_GiveThePhasesFloats(int inC, int height, int width, int outC, int kernel, int dilation, int padding, int hasBias)
        {
            // Winograd runs on the machine's own vector path (Vector256 without AVX-512: 3x3 only), not with SIMD turned off
            // (CNNGEN_DISABLE_SIMD: the CI's scalar run).
            var path = KernelPaths.Default;
            if (!DirectConvolution.WinogradOn(path) || !WinogradF4Convolution.Runs(kernel)) return;
            var g = new ConvolutionGeometry(inC, height, width, outC, kernel, kernel, 1, 1, padding, padding, dilation, dilation, 1);
            Assert.True(DilatedConvolution.Handles(g));
            Assert.True(DilatedConvolution.ByWinograd(g, path));
            var random = new Random(inC + height + outC + dilation);
            float[] x = RandomValues(random, g.InLength), w = RandomValues(random, g.WeightLength);
            float[] b = hasBias == 1 ? RandomValues(random, outC) : Array.Empty<float>();
            float[] scratch = RandomValues(random, GroupedConvolution.ScratchLength(g));
            float[] whole = new float[g.OutLength], phases = new float[g.OutLength];
            GroupedConvolution.ForwardOn(g, x, w, b, whole, scratch, path);
            try
            {
                DilatedConvolution.WholeMapWinograd = false;
                Assert.False(DilatedConvolution.ByWinograd(g, path));
                GroupedConvolution.ForwardOn(g, x, w, b, phases, scratch, path);
            }
            finally
            {
                DilatedConvolution.WholeMapWinograd = true;
            }
            Assert.Equal(phases, whole);
        }

        [Fact]
        public void GroupedLayers_RunPerGroupByTheDenseKernels_WhereMeasuredToPay()
        {
            Assert.True(GroupedConvolution.GroupsAsDense(Make(new[] { 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1, 1, 32, 1 })));
            Assert.True(GroupedConvolution.GroupsAsDense(Make(new[] { 128, 16, 16, 128, 3, 3, 2, 2, 1, 1, 1, 1, 8, 1 })));
            Assert.False(GroupedConvolution.GroupsAsDense(Make(new[] { 64, 12, 12, 64, 3, 3, 2, 2, 1, 1, 1, 1, 8, 1 })));  // 8 a group at stride 2
            Assert.False(GroupedConvolution.GroupsAsDense(Make(new[] { 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 1 })));    // depthwise
            Assert.False(GroupedConvolution.GroupsAsDense(Make(new[] { 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 })));    // one group
            Assert.False(GroupedConvolution.GroupsAsDense(Make(new[] { 8, 12, 12, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1 })));    // dilated
            Assert.False(GroupedConvolution.GroupsAsDense(Make(new[] { 8, 12, 12, 8, 1, 3, 1, 1, 0, 1, 1, 1, 2, 1 })));    // 1x3
        }

        [Fact]
        public void NonSquareStrideOneLayers_RunTheDirectTiles_WhereMeasuredToPay()
        {
            const DirectConvolution.KernelPath V512 = DirectConvolution.KernelPath.Vector512, V256 = DirectConvolution.KernelPath.Vector256;
            var small = Make(new[] { 16, 9, 11, 32, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 });    // 1,536 weights
            var large = Make(new[] { 192, 17, 17, 192, 1, 7, 1, 1, 0, 3, 1, 1, 1, 1 }); // 258,048 weights
            Assert.True(GroupedConvolution.RunsDirect(small, V512) && GroupedConvolution.RunsDirectBackward(small, V512));
            Assert.True(GroupedConvolution.RunsDirect(large, V512) && !GroupedConvolution.RunsDirectBackward(large, V512));
            Assert.True(GroupedConvolution.RunsDirect(small, V256) && !GroupedConvolution.RunsDirectBackward(small, V256));
            Assert.False(GroupedConvolution.RunsDirect(large, V256));
            Assert.True(GroupedConvolution.RunsDirect(Make(new[] { 7, 17, 17, 5, 7, 1, 1, 1, 3, 0, 1, 1, 1, 1 }), V512));
            Assert.True(GroupedConvolution.RunsDirect(Make(new[] { 9, 11, 6, 10, 3, 3, 1, 1, 0, 2, 1, 1, 1, 1 }), V512));   // padding per axis
            Assert.False(GroupedConvolution.RunsDirect(Make(new[] { 8, 12, 12, 8, 1, 3, 1, 1, 0, 1, 1, 1, 2, 1 }), V512));  // groups
            Assert.False(GroupedConvolution.RunsDirect(Make(new[] { 8, 12, 12, 8, 1, 3, 2, 2, 0, 1, 1, 1, 1, 1 }), V512));  // stride 2
            Assert.False(GroupedConvolution.RunsDirect(Make(new[] { 8, 12, 12, 8, 1, 3, 1, 1, 0, 2, 1, 2, 1, 1 }), V512));  // dilated
        }

        // Prepared filters (GroupedConvolution.Prepare and PrepareInputGradient, once per change of the weights or per pass) give
        // the per-call route's floats bit for bit, forward (clamp included) and backward; where the layer runs no line Winograd there is nothing to prepare and the empty
        // span serves; a prepared span shorter than PreparedLength is refused.
        [Fact]
        public void PreparedLineFilters_GiveTheSameFloatsAsTheCall()
        {
            var shapes = new[]
            {
                new[] { 32, 17, 17, 48, 1, 7, 1, 1, 0, 3, 1, 1, 1 },   // F(4, 7) where AVX-512 is
                new[] { 48, 16, 16, 48, 3, 1, 1, 1, 1, 0, 1, 1, 1 },   // F(4, 3)
                new[] { 16, 12, 14, 32, 1, 5, 1, 1, 0, 2, 1, 1, 1 },   // F(4, 5)
                new[] { 8, 16, 16, 16, 1, 3, 1, 1, 0, 1, 1, 1, 1 },    // 8 channels in: direct, nothing prepared
                new[] { 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2 },   // grouped 3x3: nothing prepared
            };
            var random = new Random(17);
            foreach (var p in shapes)
            {
                var g = Make(p);
                float[] x = RandomValues(random, g.InLength), w = RandomValues(random, g.WeightLength), b = RandomValues(random, g.OutChannels);
                float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
                int length = GroupedConvolution.PreparedLength(g);
                bool lineWinograd = GroupedConvolution.RunsLineWinograd(g, KernelPaths.Default);
                Assert.Equal(lineWinograd, length > 0);
                float[] prepared = new float[length];
                GroupedConvolution.Prepare(g, w, prepared);
                float[] expected = new float[g.OutLength], actual = new float[g.OutLength];
                GroupedConvolution.Forward(g, x, w, b, expected, scratch, 0f, 6f);
                GroupedConvolution.ForwardPrepared(g, x, w, prepared, b, actual, scratch, 0f, 6f);
                Assert.Equal(expected, actual);
                GroupedConvolution.Forward(g, x, w, default, expected, scratch);
                GroupedConvolution.ForwardPrepared(g, x, w, prepared, default, actual, scratch);
                Assert.Equal(expected, actual);
                if (length > 0)
                    Assert.Throws<ArgumentException>(() => GroupedConvolution.ForwardPrepared(g, x, w, new float[length - 1], b, actual, scratch));

                // Backward's turned filters, prepared once per pass: the same three gradients bit for bit.
                int turned = GroupedConvolution.InputGradientWeightsLength(g);
                Assert.Equal(GroupedConvolution.RunsLineWinogradInputGradient(g, KernelPaths.Default), turned > 0);
                float[] inputGradientWeights = new float[turned];
                GroupedConvolution.PrepareInputGradient(g, w, inputGradientWeights);
                float[] dy = RandomValues(random, g.OutLength);
                float[] dw = new float[g.WeightLength], db = new float[g.OutChannels], dx = new float[g.InLength];
                float[] dwPrepared = new float[g.WeightLength], dbPrepared = new float[g.OutChannels], dxPrepared = new float[g.InLength];
                GroupedConvolution.Backward(g, x, w, dy, dw, db, dx, scratch);
                GroupedConvolution.BackwardPrepared(g, x, w, inputGradientWeights, dy, dwPrepared, dbPrepared, dxPrepared, scratch);
                Assert.Equal(dx, dxPrepared);
                Assert.Equal(dw, dwPrepared);
                Assert.Equal(db, dbPrepared);
                if (turned > 0)
                    Assert.Throws<ArgumentException>(() => GroupedConvolution.BackwardPrepared(g, x, w, new float[turned - 1], dy, dw, db, dx, scratch));
            }
        }

        [Fact]
        public void LineKernels_RunByWinograd_WhereMeasuredToPay()
        {
            // The machine's own vector path runs them (Vector512 with AVX-512, Vector256 with AVX2 and FMA: session 60, the same
            // rule measured again on Zen 3), the other width and the scalar path never.
            var own = KernelPaths.Default;
            var other = own == DirectConvolution.KernelPath.Vector512 ? DirectConvolution.KernelPath.Vector256 : DirectConvolution.KernelPath.Vector512;
            bool runs = LineWinogradConvolution.Handles(1, 3);
            var inception1x3 = Make(new[] { 32, 16, 16, 48, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 });
            var inception3x1 = Make(new[] { 48, 16, 16, 48, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1 });
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(inception1x3, own));
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(inception3x1, own));
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 16, 8, 8, 16, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own)); // 16 tiles
            Assert.False(GroupedConvolution.RunsLineWinograd(inception1x3, other));
            Assert.False(GroupedConvolution.RunsLineWinograd(inception1x3, DirectConvolution.KernelPath.Scalar));
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 16, 32, 32, 24, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own));  // 24 out: lanes a third empty
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 8, 32, 32, 16, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own));   // 8 in
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 64, 4, 4, 64, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own));    // 4 tiles
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 32, 16, 16, 32, 1, 5, 1, 1, 0, 2, 1, 1, 1, 1 }), own));  // 1x5: F(4, 5)
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 128, 17, 17, 128, 1, 7, 1, 1, 0, 3, 1, 1, 1, 1 }), own)); // Inception-v3's 1x7: F(4, 7)
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 128, 8, 8, 128, 7, 1, 1, 1, 3, 0, 1, 1, 1, 1 }), own));  // 7 taps on 16 tiles
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 384, 8, 8, 384, 7, 1, 1, 1, 3, 0, 1, 1, 1, 1 }), own));  // wider: its per-call filters
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 384, 16, 16, 384, 7, 1, 1, 1, 3, 0, 1, 1, 1, 1 }), own)); // on 64 tiles
            Assert.Equal(runs, GroupedConvolution.RunsLineWinograd(Make(new[] { 128, 8, 8, 128, 5, 1, 1, 1, 2, 0, 1, 1, 1, 1 }), own));  // 5 taps on 16
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 32, 16, 16, 32, 1, 9, 1, 1, 0, 4, 1, 1, 1, 1 }), own));  // 1x9
            Assert.Equal(runs, GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 32, 16, 16, 32, 1, 5, 1, 1, 0, 2, 1, 1, 1, 1 }), own)); // 5 taps, 5,120 weights
            Assert.Equal(runs, GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 128, 17, 17, 128, 1, 7, 1, 1, 0, 3, 1, 1, 1, 1 }), own)); // 114,688 weights: 2.1x im2col
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 32, 16, 16, 32, 1, 3, 1, 1, 0, 1, 1, 1, 2, 1 }), own));  // groups
            Assert.False(GroupedConvolution.RunsLineWinograd(Make(new[] { 32, 16, 16, 32, 1, 3, 1, 2, 0, 1, 1, 1, 1, 1 }), own));  // stride 2 along the row
            // The input gradient: the rule on the layer's input channels (the transposed convolution's outputs).
            Assert.Equal(runs, GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 16, 32, 32, 24, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own));
            Assert.Equal(runs, GroupedConvolution.RunsLineWinogradInputGradient(inception3x1, own));
            Assert.False(GroupedConvolution.RunsLineWinogradInputGradient(inception3x1, other));
            Assert.False(GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 24, 32, 32, 24, 3, 1, 1, 1, 1, 0, 1, 1, 1, 1 }), own)); // 24 in
            Assert.False(GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 32, 16, 16, 48, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1 }), own)); // padded across
            Assert.False(GroupedConvolution.RunsLineWinogradInputGradient(Make(new[] { 64, 4, 4, 64, 1, 3, 1, 1, 0, 1, 1, 1, 1, 1 }), own));  // 4 tiles
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndBackward_MatchTheDefinition(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = GeometryAt(index);
            var g = Make(p);
            var random = new Random(index * 101 + 5);
            float[] x = RandomValues(random, g.InLength), w = RandomValues(random, g.WeightLength);
            float[] b = p[13] == 1 ? RandomValues(random, g.OutChannels) : Array.Empty<float>();
            float[] scratch = RandomValues(random, GroupedConvolution.ScratchLength(g)); // garbage must not leak

            float[] y = new float[g.OutLength + 5];
            Array.Fill(y, float.NaN);
            GroupedConvolution.ForwardOn(g, x, w, b, y.AsSpan(0, g.OutLength), scratch, path);
            double[] expected = ReferenceForward(p, x, w, b, out double[] magnitude);
            // Float sums drift from the double definition with the number of terms: 1e-5 up to 64 terms, then by its square root
            // (the largest shapes here sum 288 products per output and 1,024 per weight gradient).
            static double Tolerance(int terms) => 1e-5 * Math.Max(1, Math.Sqrt(terms / 64.0));
            double forwardTolerance = Tolerance(g.GroupInChannels * g.KernelHeight * g.KernelWidth);
            double weightTolerance = Tolerance(g.OutHeight * g.OutWidth);
            double inputTolerance = Tolerance(g.GroupOutChannels * g.KernelHeight * g.KernelWidth);
            // Dilated layers run their phases through DirectConvolution, Winograd F(4x4, 3x3) included on Vector512: held to
            // the Winograd tests' bound (2e-5 of each output's magnitude) where that is the wider one.
            // Grouped 3x3 layers run each group through DirectConvolution, Winograd included, alike; and 1x3 and 3x1 layers
            // by F(4, 3) (LineWinogradConvolution).
            bool winogradPhases = DirectConvolution.WinogradOn(path)
                && (DilatedConvolution.Handles(g) || GroupedConvolution.GroupsAsDense(g) || GroupedConvolution.RunsLineWinograd(g, path));
            if (winogradPhases) AssertWithinMagnitude(y, expected, magnitude, forwardTolerance, $"{path} {g} y");
            else Close(y.AsSpan(0, g.OutLength), expected, forwardTolerance, $"{path} {g} y");
            for (int i = g.OutLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            // With an activation's bounds in the epilogue (here narrower than ReLU6's, so both bounds bite): the clamped definition.
            Array.Fill(y, float.NaN);
            GroupedConvolution.ForwardOn(g, x, w, b, y.AsSpan(0, g.OutLength), scratch, path, -0.25f, 0.5f);
            double[] clamped = Array.ConvertAll(expected, v => Math.Min(Math.Max(v, -0.25), 0.5));
            if (winogradPhases) AssertWithinMagnitude(y, clamped, magnitude, forwardTolerance, $"{path} {g} y clamped");
            else Close(y.AsSpan(0, g.OutLength), clamped, forwardTolerance, $"{path} {g} y clamped");
            for (int i = g.OutLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            // ReLU's bounds, which some kernels take in their epilogue.
            Array.Fill(y, float.NaN);
            GroupedConvolution.ForwardOn(g, x, w, b, y.AsSpan(0, g.OutLength), scratch, path, 0f, float.PositiveInfinity);
            double[] rectified = Array.ConvertAll(expected, v => Math.Max(v, 0));
            if (winogradPhases) AssertWithinMagnitude(y, rectified, magnitude, forwardTolerance, $"{path} {g} y rectified");
            else Close(y.AsSpan(0, g.OutLength), rectified, forwardTolerance, $"{path} {g} y rectified");
            for (int i = g.OutLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]));

            float[] dy = RandomValues(random, g.OutLength);
            var (eW, eB, eX) = ReferenceBackward(p, x, w, dy);
            float[] w0 = RandomValues(random, g.WeightLength), b0 = RandomValues(random, g.OutChannels);
            float[] dW = (float[])w0.Clone(), dB = (float[])b0.Clone(), dX = new float[g.InLength];
            Array.Fill(dX, float.NaN); // overwritten, not accumulated
            GroupedConvolution.BackwardOn(g, x, w, dy, dW, dB, dX, scratch, path);
            for (int i = 0; i < eW.Length; i++) eW[i] += w0[i];
            for (int i = 0; i < eB.Length; i++) eB[i] += b0[i];
            // Dilated phases take their gradients by Winograd too (the input gradient on filters transformed once for the
            // phases; the weight gradient by F(4x4, 3x3) on phases of 12x12 outputs or more), and 1x3 and 3x1 layers their input
            // gradient from 16 channels: held to the Winograd bound, each cell's magnitude being the sum of its terms' absolute
            // values (the definition on |x|, |w|, |dy|, and |w0| for the weight gradient's starting values).
            var (dwMagnitude, _, dxMagnitude) = ReferenceBackward(p, Array.ConvertAll(x, Math.Abs), Array.ConvertAll(w, Math.Abs), Array.ConvertAll(dy, Math.Abs));
            for (int i = 0; i < dwMagnitude.Length; i++) dwMagnitude[i] += Math.Abs(w0[i]);
            void CloseWeightGradient(float[] actual, string what)
            {
                if (winogradPhases) AssertWithinMagnitude(actual, eW, dwMagnitude, weightTolerance, what);
                else Close(actual, eW, weightTolerance, what);
            }
            CloseWeightGradient(dW, $"{path} {g} dW (accumulated)");
            Close(dB, eB, weightTolerance, $"{path} {g} db (accumulated)");
            if (winogradPhases || GroupedConvolution.RunsLineWinogradInputGradient(g, path)) AssertWithinMagnitude(dX, eX, dxMagnitude, inputTolerance, $"{path} {g} dx");
            else Close(dX, eX, inputTolerance, $"{path} {g} dx");

            // Without the input gradient and the bias gradient: the weight gradient is the same.
            float[] dW2 = (float[])w0.Clone();
            GroupedConvolution.BackwardOn(g, x, w, dy, dW2, Span<float>.Empty, Span<float>.Empty, scratch, path);
            CloseWeightGradient(dW2, $"{path} {g} dW without dx");

            // A frozen layer: no weight or bias gradient (empty spans), the same input gradient bit for bit.
            float[] dxOnly = new float[g.InLength];
            GroupedConvolution.BackwardOn(g, x, w, dy, Span<float>.Empty, Span<float>.Empty, dxOnly, scratch, path);
            Assert.Equal(dX, dxOnly);
        }

        // The whole-plane kernel against the row kernel it replaces: the same fused sums in the same order (bias, then the
        // taps in order, padded taps as zeros), so the same bits wherever the row kernel's vectors run (its last rows of a
        // map narrower than 8 go by a scalar multiply-then-add: rounding apart there); picked for inputs at most 8 wide
        // on Vector512, not beyond.
        [Theory]
        [InlineData(96, 8, 8, 1, 2, 2, 1)]
        [InlineData(9, 8, 8, 1, 1, 1, 1)]
        [InlineData(5, 8, 8, 1, 1, 1, 2)]
        [InlineData(16, 4, 4, 1, 1, 1, 1)]
        [InlineData(24, 8, 8, 2, 1, 1, 1)]
        [InlineData(4, 8, 8, 2, 2, 2, 1)]
        [InlineData(64, 8, 8, 1, 0, 1, 1)]
        public void WholePlaneKernel_MatchesTheRowKernelBitForBit(int channels, int h, int w, int stride, int padding, int dilation, int multiplier)
        {
            if (!Vector512.IsHardwareAccelerated) return; // the other paths never take it (ForwardAndBackward_MatchTheDefinition covers them)
            var g = new ConvolutionGeometry(channels, h, w, channels * multiplier, 3, 3, stride, stride, padding, padding, dilation, dilation, channels);
            bool applies = g.InWidth == g.OutWidth * stride;
            Assert.Equal(applies, DepthwiseConvolution.WholePlanePays(g, wide: true));
            Assert.False(DepthwiseConvolution.WholePlanePays(g, wide: false));
            Assert.False(DepthwiseConvolution.WholePlanePays(new ConvolutionGeometry(channels, 16, 16, channels, 3, 3, 2, 2, 1, 1, 1, 1, channels), wide: true)); // 16 wide in: rows
            if (!applies) return;
            var random = new Random(channels * 31 + h + stride * 7 + dilation);
            float[] x = RandomValues(random, g.InLength), weight = RandomValues(random, g.WeightLength), bias = RandomValues(random, g.OutChannels);
            float[] scratch = RandomValues(random, GroupedConvolution.ScratchLength(g));
            float[] byRows = new float[g.OutLength], wholePlane = new float[g.OutLength];
            foreach (var (low, high) in new[] { (float.NegativeInfinity, float.PositiveInfinity), (0f, 6f), (-0.25f, 0.5f) })
            {
                DepthwiseConvolution.ForwardByRows(g, x, weight, bias, byRows, scratch, DirectConvolution.KernelPath.Vector512, low, high);
                RandomValues(random, scratch.Length).CopyTo(scratch, 0); // garbage again: the kernel must clear what it reads
                WholePlaneDepthwise.Forward(g, x, weight, bias, wholePlane, scratch, low, high);
                SameOrRoundingApart(byRows, wholePlane, g.OutWidth >= 8);
                float[] picked = new float[g.OutLength];
                GroupedConvolution.ForwardOn(g, x, weight, bias, picked, scratch, DirectConvolution.KernelPath.Vector512, low, high);
                Assert.Equal(wholePlane, picked);
            }
            Allocations.AssertNone(() => WholePlaneDepthwise.Forward(g, x, weight, bias, wholePlane, scratch, 0f, 6f));
        }

        private static void SameOrRoundingApart(float[] expected, float[] actual, bool bitForBit)
        {
            if (bitForBit)
            {
                Assert.Equal(expected, actual);
                return;
            }
            Close(actual, Array.ConvertAll(expected, v => (double)v), 1e-6, "whole plane against rows");
        }

        [Theory]
        [InlineData(1, 5, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1)]
        [InlineData(4, 6, 7, 4, 3, 2, 2, 1, 1, 0, 1, 2, 4)]
        [InlineData(4, 7, 9, 6, 2, 3, 2, 3, 1, 2, 2, 1, 2)]
        [InlineData(2, 9, 11, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2)]
        [InlineData(8, 7, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2)]      // grouped 3x3: per group by DirectConvolution
        [InlineData(32, 7, 9, 32, 3, 3, 2, 2, 1, 1, 1, 1, 2)]    // grouped 3x3 stride 2, 16 a group: by StridedConvolution
        [InlineData(6, 7, 9, 5, 1, 3, 1, 1, 0, 1, 1, 1, 1)]      // 1x3 "same": DirectConvolution's tiles
        [InlineData(5, 9, 6, 6, 3, 1, 1, 1, 1, 0, 1, 1, 1)]      // 3x1 "same"
        [InlineData(3, 8, 8, 16, 1, 7, 1, 1, 0, 3, 1, 1, 1)]     // 1x7
        [InlineData(4, 8, 5, 4, 7, 1, 1, 1, 3, 0, 1, 1, 1)]      // 7x1
        public void Gradients_MatchFiniteDifferences(int c, int h, int w, int oc, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups)
        {
            var g = new ConvolutionGeometry(c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups);
            int[] p = { c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups, 1 };
            var random = new Random(c + h + w);
            float[] x = RandomValues(random, g.InLength), wt = RandomValues(random, g.WeightLength), b = RandomValues(random, oc);
            float[] dy = RandomValues(random, g.OutLength);
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            float[] dW = new float[wt.Length], dB = new float[oc], dX = new float[x.Length];
            GroupedConvolution.Backward(g, x, wt, dy, dW, dB, dX, scratch);

            // L(x, w, b) = Σ y·dy in double, differentiated numerically.
            double Loss(float[] xs, float[] ws, float[] bs)
            {
                double[] y = ReferenceForward(p, xs, ws, bs);
                double sum = 0;
                for (int i = 0; i < y.Length; i++) sum += y[i] * dy[i];
                return sum;
            }
            void Check(float[] tensor, float[] gradient, string name)
            {
                for (int i = 0; i < tensor.Length; i += Math.Max(1, tensor.Length / 23))
                {
                    float saved = tensor[i];
                    const float step = 1e-2f;
                    tensor[i] = saved + step; double plus = Loss(x, wt, b);
                    tensor[i] = saved - step; double minus = Loss(x, wt, b);
                    tensor[i] = saved;
                    double numeric = (plus - minus) / (2.0 * step);
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
            var g = new ConvolutionGeometry(4, 17, 10, 8, 3, 2, 2, 3, 1, 0, 2, 1, 2);
            Assert.Equal((17 + 2 - 2 * 2 - 1) / 2 + 1, g.OutHeight);
            Assert.Equal((10 - 1 * 1 - 1) / 3 + 1, g.OutWidth);
            Assert.Equal(8 * 2 * 3 * 2, g.WeightLength);
            Assert.Equal(4 * 17 * 10, g.InLength);
            Assert.Equal(8 * g.OutHeight * g.OutWidth, g.OutLength);
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2)); // 3 % 2
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 4)); // 6 % 4
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 2, 2, 1)); // dilated 5 > 4
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(1, 4, 4, 1, 3, 3, 0, 1, 0, 0, 1, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(1, 4, 4, 1, 3, 3, 1, 1, -1, 0, 1, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 0, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(0, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ConvolutionGeometry(1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 0));
        }

        [Theory]
        [InlineData(8, 8)]   // depthwise
        [InlineData(8, 2)]   // grouped, im2col
        [InlineData(8, 1)]   // dense
        [InlineData(32, 2)]  // grouped, each group by StridedConvolution
        [InlineData(16, 4, 1)] // grouped, each group by DirectConvolution
        [InlineData(16, 1, 1, 1, 0)] // 1x3 "same": DirectConvolution's tiles
        [InlineData(48, 1, 1, 1, 0)] // the same with the output-channel lanes kernel
        public void RejectsShortSpans_AndAllocatesNothing(int channels, int groups, int stride = 2, int kernelHeight = 3, int paddingHeight = 1)
        {
            var g = new ConvolutionGeometry(channels, 9, 9, channels, kernelHeight, 3, stride, stride, paddingHeight, 1, 1, 1, groups);
            float[] x = new float[g.InLength], w = new float[g.WeightLength], b = new float[g.OutChannels], y = new float[g.OutLength];
            float[] scratch = new float[GroupedConvolution.ScratchLength(g)];
            float[] dW = new float[g.WeightLength], dB = new float[g.OutChannels], dX = new float[g.InLength];
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x.AsSpan(1), w, b, y, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w, b, y, scratch, 1f, 0f));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w, b, y, scratch, float.NaN, 6f));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w.AsSpan(1), b, y, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w, b.AsSpan(1), y, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w, b, y.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(g, x, w, b, y, scratch.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Forward(default, x, w, b, y, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Backward(g, x, w, y.AsSpan(1), dW, dB, dX, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Backward(g, x, w, y, dW.AsSpan(1), dB, dX, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Backward(g, x, w, y, dW, dB.AsSpan(1), dX, scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Backward(g, x, w, y, dW, dB, dX.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => GroupedConvolution.Backward(g, x, w, y, dW, dB, dX, scratch.AsSpan(1)));

            Allocations.AssertNone(() =>
            {
                GroupedConvolution.Forward(g, x, w, b, y, scratch);
                GroupedConvolution.Forward(g, x, w, b, y, scratch, 0f, 6f);
                GroupedConvolution.Backward(g, x, w, y, dW, dB, dX, scratch);
                GroupedConvolution.Backward(g, x, w, y, dW, Span<float>.Empty, Span<float>.Empty, scratch);
            });
        }
    }
}
