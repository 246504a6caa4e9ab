using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary><c>PointwiseConvolution</c> on every path (scalar, Vector256, Vector512) against its definition in double precision.</summary>
    public sealed class PointwiseConvolutionTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, plane, outChannels, bias
            var shapes = new List<object[]>
            {
                new object[] { 16, 256, 64, false },  // MobileNetV2's expansion at 16x16
                new object[] { 64, 256, 16, true },   // its projection
                new object[] { 96, 64, 24, false },   // at 8x8
                new object[] { 1, 1, 1, true },
                new object[] { 3, 7, 5, true },       // fewer cells than a vector: the scalar tile only
                new object[] { 5, 24, 6, false },     // 24 cells: one and a half Vector512, three Vector256
                new object[] { 7, 100, 9, true },     // 100 = 6·16 + 4: every tile width, then a scalar tail; 9 = 4 + 4 + 1 channels
                new object[] { 2, 131, 3, false },
                // Blocks of cells copied together first (planes of 256+ cells, 32+ channels each way): whole blocks, a last
                // block of fewer vectors, a scalar tail; channel counts that leave 1-3 rows in the last tile.
                new object[] { 32, 1024, 64, true },
                new object[] { 48, 289, 33, false },
                new object[] { 35, 256, 34, true },
                // A last partial vector of cells taken as the plane's last vector, overlapping the one before (7x7, 14x14, 5x5,
                // 10x10 maps; 3x3 and 17 cells: between one and two vectors); planes of one or two vectors in 8-row tiles with
                // 1-7 rows left over; blocks whose last vector overlaps.
                new object[] { 24, 49, 20, true },
                new object[] { 40, 196, 13, false },
                new object[] { 19, 25, 17, true },
                new object[] { 33, 100, 8, false },
                new object[] { 12, 9, 15, true },
                new object[] { 21, 17, 23, false },
                new object[] { 70, 16, 31, true },
                new object[] { 9, 32, 8, false },
                new object[] { 36, 300, 40, true },
                new object[] { 64, 784, 33, false },
                // Planes of 256+ cells not copied in blocks: chunks of cells outer (with an overlapping last vector), and 4
                // output channels outer on a plane of 1024 cells.
                new object[] { 20, 300, 50, true },
                new object[] { 8, 1024, 12, false },
                // Planes narrower than a vector: 8-15 cells in Vector256 tiles on the Vector512 path; fewer cells (2x2 and 1x1
                // maps) as dot products over 8-16 lane partial sums, input channels a multiple of the lanes or not, odd rows.
                new object[] { 64, 9, 20, true },
                new object[] { 48, 4, 7, false },
                new object[] { 40, 1, 5, true },
                new object[] { 16, 3, 3, true },
                new object[] { 20, 2, 9, false },
                new object[] { 130, 7, 11, true },
                new object[] { 5, 4, 3, true },
                // The last cells as dot products (one cell after three vectors: 7x7; four after twelve: 14x14) with 8-row tiles
                // of three vectors and rows left over; 128-255 cells in chunks outer (64+ input channels, a 13x13 plane's overlapping
                // last vector) and copied in blocks (256+ input channels, the dot products after them).
                new object[] { 64, 49, 20, true },
                new object[] { 80, 49, 13, false },
                new object[] { 64, 196, 13, true },
                new object[] { 96, 169, 24, false },
                new object[] { 64, 225, 9, true },
                new object[] { 256, 196, 40, true },
                new object[] { 256, 145, 33, false },
                // Planes of a multiple of 1024 cells with 16-31 input channels, copied in blocks.
                new object[] { 20, 1024, 36, true },
                new object[] { 16, 2048, 33, false },
                // Planes of 65+ cells from fewer than 32 input channels in 8-row tiles over chunks of three vectors: 8-row tiles
                // with 1-7 rows left over, a last chunk of one or two vectors, an overlapping last vector, 4 output channels outer
                // on planes of 1024 and of 81-100 cells, and beside them a plane of four vectors (4-row tiles).
                new object[] { 16, 3136, 37, true },
                new object[] { 3, 784, 16, false },
                new object[] { 31, 400, 9, true },
                new object[] { 12, 290, 13, false },
                new object[] { 24, 1024, 13, true },
                new object[] { 16, 81, 21, true },
                new object[] { 8, 100, 8, false },
                new object[] { 24, 64, 9, true },
                // Onto 9-31 output channels from 32+ input channels, 8-row tiles over chunks of three vectors too (NarrowOutput):
                // planes of 1024 and 4096 cells (4 output channels outer), of 3136 and 784 cells (chunks outer), 65 cells (an
                // overlapping last vector), 1-7 rows left over.
                new object[] { 144, 1024, 24, true },
                new object[] { 40, 4096, 13, false },
                new object[] { 96, 3136, 30, true },
                new object[] { 32, 784, 19, false },
                new object[] { 48, 65, 17, true },
                // Inputs in L2 on planes of 128+ cells, from 32+ input channels onto up to 192, in place in 8-row tiles
                // (InPlaceTallPays): planes of 1024 and 4096 cells (4 output channels outer), of 256 and 169 cells (chunks
                // outer), rows left over, the largest input taken, and past it or past 192 output channels (copied again).
                new object[] { 64, 1024, 100, false },
                new object[] { 192, 1024, 33, true },
                new object[] { 32, 4096, 45, false },
                new object[] { 120, 256, 41, true },
                new object[] { 128, 169, 190, false },
                new object[] { 200, 1024, 40, true },
                new object[] { 64, 256, 200, false },
                // Three vectors of cells copied together under 8-row tiles (PackedTallPays: 128+ cells, 32+ channels each way):
                // ten vectors as 3 + 3 + 2 + 2, an overlapping last vector with 1-7 rows left in 4-row tiles.
                new object[] { 40, 160, 35, true },
                new object[] { 33, 150, 47, false },
                // Inputs of 512 KB or more, whose block copies ask for the next block ahead (PrefetchBlocks): up to the plane's
                // last whole block, a last block of fewer vectors and an overlapping last vector.
                new object[] { 64, 2100, 40, true },
                new object[] { 48, 3136, 33, false },
            };
            var random = new Random(17);
            for (int trial = 0; trial < 12; trial++)
                shapes.Add(new object[] { random.Next(1, 40), random.Next(1, 300), random.Next(1, 30), random.Next(2) == 0 });
            return shapes;
        }

        public static IEnumerable<object[]> ShapesOnEveryPath()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (object[] shape in Shapes()) yield return [.. path, .. shape];
            }
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        // The copied 8 x 3 tiles sum each output over the input channels in their order from the bias, as the tiles they
        // replace: the same floats, not just close ones.
        [Theory]
        [InlineData(32, 1024, 64)]
        [InlineData(128, 196, 128)]
        [InlineData(40, 160, 35)]
        [InlineData(256, 145, 33)]
        public void Forward_CopiedTallTiles_AreBitForBitTheTilesTheyReplace(int inChannels, int plane, int outChannels) =>
            AssertTurningOffChangesNoFloat(inChannels, plane, outChannels, on => PointwiseConvolution.PackedTall = on);

        // Layers onto 9-31 output channels in 8-row tiles sum as the 4-row tiles they replace: the same floats. (Shapes that
        // InPlaceTallPays does not take, whose path turning NarrowOutputTall off changes: inputs past L2, planes under 128.)
        [Theory]
        [InlineData(144, 2048, 24)]
        [InlineData(96, 3136, 24)]
        [InlineData(64, 100, 16)]
        [InlineData(64, 4096, 13)]
        [InlineData(33, 81, 31)]
        public void Forward_NarrowOutputsInTallTiles_AreBitForBitTheTilesTheyReplace(int inChannels, int plane, int outChannels) =>
            AssertTurningOffChangesNoFloat(inChannels, plane, outChannels, on => PointwiseConvolution.NarrowOutputTall = on);

        // L2-resident inputs read in place sum as the copied blocks they replace: the same floats.
        [Theory]
        [InlineData(64, 1024, 128)]
        [InlineData(192, 1024, 32)]
        [InlineData(48, 4096, 57)]
        [InlineData(36, 2048, 48)]
        [InlineData(120, 256, 40)]
        [InlineData(256, 196, 64)]
        [InlineData(128, 169, 192)]
        public void Forward_InPlaceTallTiles_AreBitForBitTheCopiedBlocks(int inChannels, int plane, int outChannels) =>
            AssertTurningOffChangesNoFloat(inChannels, plane, outChannels, on => PointwiseConvolution.InPlaceTall = on);

        // Prefetching the next block's cells reads nothing into the sums: the same floats with it and without.
        [Theory]
        [InlineData(64, 2100, 40)]
        [InlineData(256, 3136, 64)]
        [InlineData(1024, 196, 256)]
        public void Forward_PrefetchingTheNextBlock_ChangesNoFloat(int inChannels, int plane, int outChannels) =>
            AssertTurningOffChangesNoFloat(inChannels, plane, outChannels, on => PointwiseConvolution.PrefetchBlocks = on);

        // The Vector512 forward with a kernel switch on (its default) and off: the same floats.
        private static void AssertTurningOffChangesNoFloat(int inChannels, int plane, int outChannels, Action<bool> turn)
        {
            var random = new Random(inChannels + plane + outChannels);
            float[] x = RandomValues(random, inChannels * plane), weight = RandomValues(random, outChannels * inChannels), bias = RandomValues(random, outChannels);
            float[] on = new float[outChannels * plane], off = new float[outChannels * plane];
            PointwiseConvolution.ForwardOn(x, inChannels, plane, weight, bias, outChannels, on, DirectConvolution.KernelPath.Vector512, 0f, 6f);
            try
            {
                turn(false);
                PointwiseConvolution.ForwardOn(x, inChannels, plane, weight, bias, outChannels, off, DirectConvolution.KernelPath.Vector512, 0f, 6f);
            }
            finally
            {
                turn(true);
            }
            Assert.Equal(off, on);
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void Forward_MatchesTheDefinition(string pathName, int inChannels, int plane, int outChannels, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inChannels * 1000 + plane * 7 + outChannels);
            float[] x = RandomValues(random, inChannels * plane);
            float[] weight = RandomValues(random, outChannels * inChannels);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            int outLength = outChannels * plane;
            float[] y = new float[outLength + 9];
            Array.Fill(y, float.NaN);
            PointwiseConvolution.ForwardOn(x, inChannels, plane, weight, bias, outChannels, y.AsSpan(0, outLength + 9), path);
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int i = 0; i < plane; i++)
                {
                    double sum = hasBias ? bias[oc] : 0, scale = Math.Abs(sum);
                    for (int c = 0; c < inChannels; c++)
                    {
                        double product = (double)weight[oc * inChannels + c] * x[c * plane + i];
                        sum += product;
                        scale += Math.Abs(product);
                    }
                    float actual = y[oc * plane + i];
                    if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                        Assert.Fail($"{path}: y[{oc},{i}] = {actual}, expected {sum}");
                }
            }
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");

            // An activation's bounds in the tile's epilogue (narrower than ReLU6's, so both bite): the clamped definition.
            float[] clamped = new float[outLength + 9];
            Array.Fill(clamped, float.NaN);
            PointwiseConvolution.ForwardOn(x, inChannels, plane, weight, bias, outChannels, clamped, path, -0.25f, 0.5f);
            for (int i = 0; i < outLength; i++)
            {
                float expected = y[i] < -0.25f ? -0.25f : y[i] > 0.5f ? 0.5f : y[i];
                if (clamped[i] != expected) Assert.Fail($"{path}: clamped y[{i}] = {clamped[i]}, expected {expected} (unclamped {y[i]})");
            }
            for (int i = outLength; i < clamped.Length; i++) Assert.True(float.IsNaN(clamped[i]), "wrote past the output");
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void InputGradient_OnTheTransposedWeights_MatchesTheDefinition(int inChannels, int plane, int outChannels, bool unused)
        {
            // dx [inChannels x plane] = weightᵀ · dy on this process's path (CI runs it with AVX-512 off and with SIMD off too).
            _ = unused;
            var random = new Random(inChannels * 31 + plane * 3 + outChannels);
            float[] dy = RandomValues(random, outChannels * plane), weight = RandomValues(random, outChannels * inChannels);
            float[] transposed = new float[inChannels * outChannels + 3];
            Array.Fill(transposed, float.NaN);
            PointwiseConvolution.TransposeWeights(weight, inChannels, outChannels, transposed);
            for (int i = inChannels * outChannels; i < transposed.Length; i++) Assert.True(float.IsNaN(transposed[i]), "wrote past the transposed weights");
            float[] dx = new float[inChannels * plane + 5];
            Array.Fill(dx, float.NaN);
            PointwiseConvolution.InputGradient(dy, outChannels, plane, transposed, inChannels, dx);
            for (int c = 0; c < inChannels; c++)
            {
                for (int i = 0; i < plane; i++)
                {
                    double sum = 0, scale = 0;
                    for (int oc = 0; oc < outChannels; oc++)
                    {
                        double product = (double)weight[oc * inChannels + c] * dy[oc * plane + i];
                        sum += product;
                        scale += Math.Abs(product);
                    }
                    float actual = dx[c * plane + i];
                    if (!(Math.Abs(actual - sum) <= 1e-5 * Math.Max(scale, 1e-30))) Assert.Fail($"dx[{c},{i}] = {actual}, expected {sum}");
                }
            }
            for (int i = inChannels * plane; i < dx.Length; i++) Assert.True(float.IsNaN(dx[i]), "wrote past the input gradient");
        }

        [Fact]
        public void TransposedWeights_KeptWhereTheTilesBeatTheGemm()
        {
            // The rule behind a training pass's transposed weights: on the Vector512 path, 48+ output channels on 128 cells or fewer.
            bool wide = KernelPaths.Default == DirectConvolution.KernelPath.Vector512;
            Assert.Equal(wide ? 512 * 256 : 0, PointwiseConvolution.TransposedWeightsLength(256, 16, 512));
            Assert.Equal(wide ? 24 * 96 : 0, PointwiseConvolution.TransposedWeightsLength(24, 64, 96));
            Assert.Equal(0, PointwiseConvolution.TransposedWeightsLength(96, 64, 24));      // 24 output channels: the GEMM
            Assert.Equal(0, PointwiseConvolution.TransposedWeightsLength(128, 196, 256));   // 14x14: the GEMM
            Assert.Equal(0, PointwiseConvolution.TransposedWeightsLength(32, 1024, 64));    // 32x32: the GEMM
        }

        [Fact]
        public void InputGradient_AllocatesNothing()
        {
            float[] dy = new float[96 * 64], w = new float[96 * 24], transposed = new float[24 * 96], dx = new float[24 * 64];
            Allocations.AssertNone(() =>
            {
                PointwiseConvolution.TransposeWeights(w, 24, 96, transposed);
                PointwiseConvolution.InputGradient(dy, 96, 64, transposed, 24, dx);
                PointwiseConvolution.InputGradient(dy, 96, 4, transposed, 24, dx);
            });
        }

        [Fact]
        public void Forward_RejectsShortSpansAndAWrongBias()
        {
            float[] x = new float[8 * 20], w = new float[6 * 8], y = new float[6 * 20];
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x.AsSpan(1), 8, 20, w, default, 6, y));
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x, 8, 20, w.AsSpan(1), default, 6, y));
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x, 8, 20, w, default, 6, y.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x, 8, 20, w, new float[5], 6, y));
            Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseConvolution.Forward(x, 0, 20, w, default, 6, y));
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x, 8, 20, w, default, 6, y, 6f, 0f));
            Assert.Throws<ArgumentException>(() => PointwiseConvolution.Forward(x, 8, 20, w, default, 6, y, 0f, float.NaN));
        }

        [Fact]
        public void Forward_AllocatesNothing()
        {
            float[] x = new float[64 * 256], w = new float[64 * 64], b = new float[64], y = new float[64 * 256];
            Allocations.AssertNone(() =>
            {
                PointwiseConvolution.Forward(x, 64, 256, w, b.AsSpan(0, 16), 16, y);
                PointwiseConvolution.Forward(x, 64, 256, w, b.AsSpan(0, 16), 16, y, 0f, 6f);
                PointwiseConvolution.Forward(x, 64, 256, w, b, 64, y, 0f, 6f); // blocks of cells copied together (a buffer per thread, made once)
                PointwiseConvolution.Forward(x, 64, 49, w, b, 64, y); // a last vector that overlaps; 7x7
                PointwiseConvolution.Forward(x, 64, 16, w, b, 64, y); // 8-row tiles
                PointwiseConvolution.Forward(x, 64, 4, w, b, 64, y, 0f, 6f); // dot products (x transposed into a buffer per thread, made once)
            });
        }
    }
}
