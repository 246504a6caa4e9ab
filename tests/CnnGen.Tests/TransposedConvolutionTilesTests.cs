using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// Transposed convolutions whose windows tile the output (kernel = stride, no padding): the tiles placed in one pass give
    /// bit for bit what the bias plus the scattered columns gives, on every path, over widths around the vectors' 8 cells,
    /// 1x1 to 3x3 tiles, rectangular ones, output padding, with and without bias; and the forward pass is the definition's.
    /// </summary>
    public sealed class TransposedConvolutionTilesTests
    {
        // inC, H, W, outC, kh, kw, oph, opw, bias
        private static readonly int[][] Geometries =
        {
            new[] { 64, 8, 8, 32, 2, 2, 0, 0, 1 }, new[] { 8, 16, 16, 4, 2, 2, 0, 0, 1 }, new[] { 3, 5, 7, 2, 2, 2, 0, 0, 0 },
            new[] { 4, 9, 9, 3, 2, 2, 1, 1, 1 }, new[] { 2, 3, 13, 5, 2, 2, 0, 1, 0 }, new[] { 2, 7, 17, 3, 2, 2, 1, 0, 1 },
            new[] { 5, 4, 35, 2, 2, 2, 0, 0, 1 }, new[] { 3, 6, 8, 2, 3, 3, 2, 1, 1 }, new[] { 2, 5, 11, 3, 2, 3, 0, 2, 0 },
            new[] { 4, 6, 9, 3, 1, 1, 0, 0, 1 }, new[] { 2, 1, 1, 2, 2, 2, 1, 1, 1 }, new[] { 3, 4, 24, 2, 3, 2, 2, 1, 1 },
        };

        public static IEnumerable<object[]> Cases()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
                for (int i = 0; i < Geometries.Length; i++) yield return [path[0], i];
        }

        private static TransposedConvolutionGeometry Make(int[] p) => new(p[0], p[1], p[2], p[3], p[4], p[5], p[4], p[5], 0, 0, p[6], p[7]);

        // The transposed tests' parameter layout (inC, H, W, outC, kh, kw, sh, sw, ph, pw, oph, opw, bias).
        private static int[] Full(int[] p) => new[] { p[0], p[1], p[2], p[3], p[4], p[5], p[4], p[5], 0, 0, p[6], p[7], p[8] };

        [Theory]
        [MemberData(nameof(Cases))]
        public void PlacedTiles_AreTheScatteredColumns_BitForBit(string pathName, int index)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int[] p = Geometries[index];
            var g = Make(p);
            Assert.True(TransposedConvolution.Tiles(g));
            var random = new Random(index * 13 + 5);
            float[] cols = GroupedConvolutionTests.RandomValues(random, TransposedConvolution.ScratchLength(g));
            for (int i = 0; i < cols.Length; i += 7) cols[i] = i % 2 == 0 ? -0f : 0f; // zeros of both signs meet a bias of ±0 below
            float[] bias = p[8] == 1 ? GroupedConvolutionTests.RandomValues(random, g.OutChannels) : Array.Empty<float>();
            if (bias.Length > 1) bias[1] = -0f;
            float[] placed = new float[g.OutLength + 3], scattered = new float[g.OutLength + 3];
            Array.Fill(placed, float.NaN);
            Array.Fill(scattered, float.NaN);
            TransposedConvolution.PlaceTiles(g, cols, bias, placed.AsSpan(0, g.OutLength), path);
            TransposedConvolution.ScatterColumns(g, TransposedConvolution.Adjoint(g), cols, bias, scattered.AsSpan(0, g.OutLength));
            for (int i = 0; i < g.OutLength; i++)
                Assert.True(BitConverter.SingleToInt32Bits(placed[i]) == BitConverter.SingleToInt32Bits(scattered[i]),
                    $"{pathName} {g}: cell {i} is {placed[i]:R}, the scatter gives {scattered[i]:R}");
            for (int i = g.OutLength; i < placed.Length; i++) Assert.True(float.IsNaN(placed[i]), "written past y");

            float[] x = GroupedConvolutionTests.RandomValues(random, g.InLength), w = GroupedConvolutionTests.RandomValues(random, g.WeightLength);
            float[] y = new float[g.OutLength];
            TransposedConvolution.ForwardOn(g, x, w, bias, y, new float[TransposedConvolution.ScratchLength(g)], path);
            GroupedConvolutionTests.Close(y, TransposedConvolutionTests.ReferenceForward(Full(p), x, w, bias), 1e-5, $"{pathName} {g} y");
        }

        [Fact]
        public void PlacedTiles_AllocateNothing()
        {
            var g = Make(Geometries[0]);
            float[] x = new float[g.InLength], w = new float[g.WeightLength], b = new float[g.OutChannels], y = new float[g.OutLength];
            float[] scratch = new float[TransposedConvolution.ScratchLength(g)];
            Infrastructure.Allocations.AssertNone(() => TransposedConvolution.Forward(g, x, w, b, y, scratch));
        }
    }
}
