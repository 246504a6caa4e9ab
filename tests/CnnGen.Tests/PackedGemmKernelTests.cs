using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// <see cref="Gemm.MultiplyPacked"/> on weights packed by <see cref="Gemm.PackTransposed"/>: against the definition in double
    /// precision, and bit for bit against <see cref="Gemm.Multiply"/> on the unpacked weights where that takes its panels (the
    /// same kernels in the same order). Runs on whichever path the process has: CI runs it on Vector512, Vector256
    /// (AVX-512 off) and scalar (SIMD off).
    /// </summary>
    public sealed class PackedGemmKernelTests
    {
        // (m, n, k): panel edges (16, 32, a last panel of 16 after whole 32s), depth blocks of 256 and their remainders,
        // row tiles of 8 (and 6 on Vector256) with remainders, one row.
        public static IEnumerable<object[]> Shapes() => new[]
        {
            new object[] { 1, 1, 1 },
            new object[] { 1, 120, 400 },
            new object[] { 3, 10, 84 },
            new object[] { 8, 16, 32 },
            new object[] { 9, 17, 31 },
            new object[] { 12, 48, 256 },
            new object[] { 13, 33, 257 },
            new object[] { 17, 100, 600 },
            new object[] { 32, 512, 784 },
            new object[] { 33, 31, 5 },
            new object[] { 64, 10, 513 },
            new object[] { 7, 80, 1 },
        };

        private static float[] Values(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void MatchesTheDefinition_AndTouchesNothingBetweenRows(int m, int n, int k)
        {
            var random = new Random(m * 10_007 + n * 101 + k);
            int lda = k + 3, ldc = n + 5;
            float[] a = Values(random, (m - 1) * lda + k), weight = Values(random, n * k);
            float[] packed = Values(random, Gemm.PackedLength(n, k)); // what was there must be overwritten
            Gemm.PackTransposed(weight, n, k, packed);
            foreach (bool accumulate in new[] { false, true })
            {
                float[] before = Values(random, (m - 1) * ldc + n), c = (float[])before.Clone();
                Gemm.MultiplyPacked(m, n, k, a, lda, packed, c, ldc, accumulate);
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double sum = accumulate ? before[i * ldc + j] : 0, scale = accumulate ? Math.Abs(before[i * ldc + j]) : 0;
                        for (int p = 0; p < k; p++)
                        {
                            double product = (double)a[i * lda + p] * weight[j * k + p];
                            sum += product;
                            scale += Math.Abs(product);
                        }
                        double error = Math.Abs(c[i * ldc + j] - sum);
                        Assert.True(error <= 1e-5 * Math.Max(scale, 1e-30) + 1e-30, $"m={m} n={n} k={k} accumulate={accumulate}: C[{i},{j}] = {c[i * ldc + j]}, expected {sum}");
                    }
                    if (i < m - 1)
                        for (int j = n; j < ldc; j++) Assert.Equal(before[i * ldc + j], c[i * ldc + j]);
                }
            }
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void GivesTheGemmsBits_WhereTheGemmTakesPanels(int m, int n, int k)
        {
            // Multiply takes dot products for up to 8 rows of A · Bᵀ at depth 32 or more (another order of summation).
            if (Simd.Enabled && m <= 8 && k >= 32) m += 8;
            var random = new Random(m + 7 * n + 31 * k);
            float[] a = Values(random, m * k), weight = Values(random, n * k), packed = new float[Gemm.PackedLength(n, k)];
            Gemm.PackTransposed(weight, n, k, packed);
            float[] expected = Values(random, m * n), actual = (float[])expected.Clone();
            Gemm.Multiply(false, true, m, n, k, a, k, weight, k, expected, n, accumulate: true);
            Gemm.MultiplyPacked(m, n, k, a, k, packed, actual, n, accumulate: true);
            Assert.Equal(expected, actual);
        }

        [Fact]
        public void RefusesShortOrMisshapenArguments()
        {
            float[] weight = new float[10 * 20], packed = new float[Gemm.PackedLength(10, 20)], a = new float[4 * 20], c = new float[4 * 10];
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PackedLength(0, 20));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PackedLength(10, -1));
            var e = Assert.Throws<ArgumentException>(() => Gemm.PackTransposed(weight.AsSpan(1), 10, 20, packed));
            Assert.Contains("[10 x 20]", e.Message);
            e = Assert.Throws<ArgumentException>(() => Gemm.PackTransposed(weight, 10, 20, packed.AsSpan(1)));
            Assert.Contains("PackedLength(10, 20)", e.Message);
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(4, 10, 20, a, 20, packed.AsSpan(1), c, 10, false));
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(4, 10, 20, a.AsSpan(1), 20, packed, c, 10, false));
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(4, 10, 20, a, 20, packed, c.AsSpan(1), 10, false));
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(4, 10, 20, a, 19, packed, c, 10, false));
            Assert.Throws<ArgumentException>(() => Gemm.MultiplyPacked(4, 10, 20, a, 20, packed, c, 9, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyPacked(-1, 10, 20, a, 20, packed, c, 10, false));
            Gemm.MultiplyPacked(0, 10, 20, ReadOnlySpan<float>.Empty, 20, packed, Span<float>.Empty, 10, false); // no rows: nothing to do
        }

        [Fact]
        public void AllocatesNothing()
        {
            float[] weight = new float[100 * 300], packed = new float[Gemm.PackedLength(100, 300)], a = new float[32 * 300], c = new float[32 * 100];
            Allocations.AssertNone(() =>
            {
                Gemm.PackTransposed(weight, 100, 300, packed);
                Gemm.MultiplyPacked(32, 100, 300, a, 300, packed, c, 100, accumulate: false);
            }, calls: 10);
        }
    }
}
