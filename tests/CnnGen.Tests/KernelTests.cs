using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    public sealed class KernelTests
    {
        private static readonly int[] EdgeSizes = { 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 100 };

        // (transposeA, transposeB, m, n, k) from the LeNet-5 and CIFAR-like passes.
        public static IEnumerable<object[]> TypicalShapes() => new[]
        {
            new object[] { false, false, 6, 784, 25 },
            new object[] { false, false, 16, 100, 150 },
            new object[] { false, false, 64, 1024, 576 },
            new object[] { false, true, 16, 150, 100 },
            new object[] { true, false, 150, 100, 16 },
            new object[] { false, true, 64, 120, 400 },
            new object[] { true, false, 120, 400, 64 },
            new object[] { false, false, 64, 400, 120 },
        };

        private static float[] Random(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        private sealed class Case
        {
            public bool TransposeA, TransposeB;
            public int M, N, K, Lda, Ldb, Ldc;
            public float[] A = Array.Empty<float>(), B = Array.Empty<float>(), C = Array.Empty<float>();

            public float OpA(int i, int p) => TransposeA ? A[p * Lda + i] : A[i * Lda + p];
            public float OpB(int p, int j) => TransposeB ? B[j * Ldb + p] : B[p * Ldb + j];
        }

        private static Case MakeCase(Random random, bool transposeA, bool transposeB, int m, int n, int k, int extra)
        {
            var c = new Case { TransposeA = transposeA, TransposeB = transposeB, M = m, N = n, K = k };
            int aRows = transposeA ? k : m, aColumns = transposeA ? m : k;
            int bRows = transposeB ? n : k, bColumns = transposeB ? k : n;
            c.Lda = aColumns + extra;
            c.Ldb = bColumns + 2 * extra;
            c.Ldc = n + 3 * extra;
            // Exact lengths for tight strides (no slack for an overrun to hide in), trailing padding otherwise.
            c.A = Random(random, Math.Max(0, (aRows - 1) * c.Lda + aColumns));
            c.B = Random(random, Math.Max(0, (bRows - 1) * c.Ldb + bColumns));
            c.C = Random(random, (m - 1) * c.Ldc + n);
            return c;
        }

        /// <summary>Checks C against a double-precision reference, relative to the scale sum |C0| + sum_p |a*b| of each element.</summary>
        private static void AssertProduct(Case c, float[] before, float[] after, bool accumulate, double tolerance = 1e-5)
        {
            for (int i = 0; i < c.M; i++)
            {
                for (int j = 0; j < c.N; j++)
                {
                    double sum = 0, scale = 0;
                    for (int p = 0; p < c.K; p++)
                    {
                        double product = (double)c.OpA(i, p) * c.OpB(p, j);
                        sum += product;
                        scale += Math.Abs(product);
                    }
                    int at = i * c.Ldc + j;
                    if (accumulate)
                    {
                        sum += before[at];
                        scale += Math.Abs(before[at]);
                    }
                    double error = Math.Abs(after[at] - sum);
                    if (error > tolerance * Math.Max(scale, 1e-30) + 1e-30)
                    {
                        Assert.Fail($"tA={c.TransposeA} tB={c.TransposeB} m={c.M} n={c.N} k={c.K} lda={c.Lda} ldb={c.Ldb} ldc={c.Ldc} " +
                            $"acc={accumulate}: C[{i},{j}] = {after[at]}, expected {sum} (scale {scale})");
                    }
                }
            }
            // Elements between rows (stride padding) are never touched.
            for (int i = 0; i < c.M - 1; i++)
            {
                for (int j = c.N; j < c.Ldc; j++) Assert.Equal(before[i * c.Ldc + j], after[i * c.Ldc + j]);
            }
        }

        private static void RunAndCheck(Case c, bool accumulate, bool scalar = false)
        {
            float[] before = (float[])c.C.Clone();
            if (scalar)
            {
                Gemm.MultiplyScalar(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, accumulate);
            }
            else
            {
                Gemm.Multiply(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, accumulate);
            }
            AssertProduct(c, before, c.C, accumulate);
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(false, true)]
        [InlineData(true, false)]
        [InlineData(true, true)]
        public void Multiply_EdgeSizes_MatchDoubleReference(bool transposeA, bool transposeB)
        {
            var random = new Random(1234 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0));
            foreach (int m in EdgeSizes)
            {
                foreach (int n in EdgeSizes)
                {
                    // k sweeps every edge size for a subset, and one rotating size otherwise, to keep the test quick.
                    IEnumerable<int> ks = m <= 17 || n <= 17 ? EdgeSizes : new[] { EdgeSizes[(m + n) % EdgeSizes.Length] };
                    foreach (int k in ks)
                    {
                        int extra = (m + n + k) % 3 == 0 ? 0 : (m + k) % 5 + 1;
                        bool accumulate = (m * 7 + n * 3 + k) % 2 == 0;
                        RunAndCheck(MakeCase(random, transposeA, transposeB, m, n, k, extra), accumulate);
                    }
                }
            }
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(false, true)]
        [InlineData(true, false)]
        [InlineData(true, true)]
        public void Multiply_RandomShapesAndStrides_MatchDoubleReference(bool transposeA, bool transposeB)
        {
            var random = new Random(99 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0));
            for (int trial = 0; trial < 60; trial++)
            {
                int m = random.Next(1, 80), n = random.Next(1, 80), k = trial % 10 == 0 ? random.Next(257, 700) : random.Next(1, 300);
                int extra = random.Next(0, 3) == 0 ? 0 : random.Next(1, 20);
                RunAndCheck(MakeCase(random, transposeA, transposeB, m, n, k, extra), accumulate: random.Next(2) == 0);
            }
        }

        [Theory]
        [MemberData(nameof(TypicalShapes))]
        public void Multiply_TypicalShapes_MatchDoubleReference(bool transposeA, bool transposeB, int m, int n, int k)
        {
            var random = new Random(m * 1000 + n + k);
            foreach (bool accumulate in new[] { false, true })
            {
                RunAndCheck(MakeCase(random, transposeA, transposeB, m, n, k, 0), accumulate);
                RunAndCheck(MakeCase(random, transposeA, transposeB, m, n, k, 3), accumulate);
            }
        }

        [Fact]
        public void Multiply_AccumulateFalse_IgnoresGarbageInC()
        {
            var random = new Random(5);
            Case c = MakeCase(random, false, false, 13, 37, 29, 0);
            Array.Fill(c.C, float.NaN);
            Gemm.Multiply(false, false, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, accumulate: false);
            Assert.All(c.C, value => Assert.False(float.IsNaN(value)));
            AssertProduct(c, c.C, c.C, accumulate: false);
        }

        [Fact]
        public void Multiply_ZeroDepth_ClearsOrKeepsC()
        {
            float[] c = { 1, 2, 3, 4, 5, 6, 7 };
            Gemm.Multiply(false, false, 2, 3, 0, ReadOnlySpan<float>.Empty, 0, ReadOnlySpan<float>.Empty, 3, c, 4, accumulate: true);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7 }, c);
            Gemm.Multiply(false, false, 2, 3, 0, ReadOnlySpan<float>.Empty, 0, ReadOnlySpan<float>.Empty, 3, c, 4, accumulate: false);
            Assert.Equal(new float[] { 0, 0, 0, 4, 0, 0, 0 }, c);
        }

        [Fact]
        public void Multiply_ShortSpansAndStrides_Throw()
        {
            var a = new float[6 * 5];
            var b = new float[5 * 7];
            var c = new float[6 * 7];
            var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 6, 7, 5, a.AsSpan(1), 5, b, 7, c, 7, false));
            Assert.Contains("30", e.Message);
            Assert.Contains("29", e.Message);
            Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 6, 7, 5, a, 5, b.AsSpan(0, 34), 7, c, 7, false));
            Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 6, 7, 5, a, 5, b, 7, c.AsSpan(0, 41), 7, false));
            Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 6, 7, 5, a, 4, b, 7, c, 7, false));
            Assert.Throws<ArgumentException>(() => Gemm.Multiply(true, false, 6, 7, 5, a, 5, b, 7, c, 7, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, -1, 7, 5, a, 5, b, 7, c, 7, false));
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(false, true)]
        [InlineData(true, false)]
        [InlineData(true, true)]
        public void MultiplyScalar_MatchesReferenceAndVectorPath(bool transposeA, bool transposeB)
        {
            var random = new Random(77 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0));
            var shapes = new List<(int M, int N, int K)> { (6, 784, 25), (16, 100, 150), (64, 120, 400), (150, 100, 16) };
            for (int trial = 0; trial < 25; trial++) shapes.Add((random.Next(1, 40), random.Next(1, 40), random.Next(1, 300)));
            foreach (var (m, n, k) in shapes)
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    Case c = MakeCase(random, transposeA, transposeB, m, n, k, random.Next(0, 4));
                    float[] start = (float[])c.C.Clone();
                    RunAndCheck(c, accumulate, scalar: true);
                    float[] scalar = c.C;
                    c.C = (float[])start.Clone();
                    Gemm.Multiply(transposeA, transposeB, m, n, k, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, accumulate);
                    for (int i = 0; i < scalar.Length; i++)
                    {
                        float tolerance = 1e-5f * Math.Max(1f, Math.Max(Math.Abs(scalar[i]), (float)Math.Sqrt(k)));
                        Assert.True(Math.Abs(scalar[i] - c.C[i]) <= tolerance,
                            $"m={m} n={n} k={k} acc={accumulate} [{i}]: scalar {scalar[i]} vs vector {c.C[i]}");
                    }
                }
            }
        }

        [Fact]
        public void Simd_EnabledFollowsHardwareAndEnvironment()
        {
            bool disabled = Environment.GetEnvironmentVariable("CNNGEN_DISABLE_SIMD") == "1";
            Assert.Equal(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && !disabled, Simd.Enabled);
        }

        [Fact]
        public void Multiply_IsDeterministicAndThreadSafe()
        {
            var random = new Random(3);
            Case[] cases =
            {
                MakeCase(random, false, false, 64, 1024, 576, 0),
                MakeCase(random, false, true, 64, 120, 400, 0),
                MakeCase(random, true, false, 150, 100, 16, 0),
                MakeCase(random, true, true, 33, 31, 300, 2),
            };
            var expected = new float[cases.Length][];
            for (int i = 0; i < cases.Length; i++)
            {
                Case c = cases[i];
                expected[i] = new float[c.C.Length];
                Gemm.Multiply(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, expected[i], c.Ldc, false);
            }
            Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 4 }, run =>
            {
                Case c = cases[run % cases.Length];
                var output = new float[c.C.Length];
                for (int repeat = 0; repeat < 3; repeat++)
                {
                    Gemm.Multiply(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, output, c.Ldc, false);
                    Assert.Equal(expected[run % cases.Length], output); // bit-identical
                }
            });
        }

        [Fact]
        public void Multiply_SteadyState_AllocatesNothing()
        {
            var random = new Random(8);
            Case[] cases =
            {
                MakeCase(random, false, false, 6, 784, 25, 0),
                MakeCase(random, false, true, 16, 150, 100, 0),
                MakeCase(random, true, false, 150, 100, 16, 0),
                MakeCase(random, true, true, 17, 33, 300, 1),
                MakeCase(random, false, true, 64, 120, 400, 0),
            };
            void RunAll()
            {
                foreach (Case c in cases)
                {
                    Gemm.Multiply(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, false);
                    Gemm.MultiplyScalar(c.TransposeA, c.TransposeB, c.M, c.N, c.K, c.A, c.Lda, c.B, c.Ldb, c.C, c.Ldc, true);
                }
            }
            Allocations.AssertNone(RunAll, calls: 100);
        }

        // ---------------------------------------------------------------------------------------------------------------
        // Im2Col

        public static IEnumerable<object[]> ConvShapes()
        {
            // channels, height, width, kernel, stride, padding
            var shapes = new List<object[]>
            {
                new object[] { 1, 28, 28, 5, 1, 0 },
                new object[] { 6, 14, 14, 5, 1, 0 },
                new object[] { 3, 32, 32, 3, 1, 1 },
                new object[] { 1, 3, 3, 5, 1, 2 },    // kernel larger than the image
                new object[] { 2, 1, 9, 3, 2, 2 },
                // Stride 2 on rows of 8+ outputs (the vector paths): odd and even widths, and the last row's 16 inputs ending
                // exactly at x's end (1x4x32, kernel 1) or one short of it (1x4x31).
                new object[] { 3, 33, 40, 3, 2, 1 },
                new object[] { 2, 20, 64, 3, 2, 1 },
                new object[] { 4, 16, 17, 3, 2, 0 },
                new object[] { 2, 9, 38, 5, 2, 2 },
                new object[] { 1, 4, 32, 1, 2, 0 },
                new object[] { 1, 4, 31, 1, 2, 0 },
            };
            var random = new Random(17);
            for (int stride = 1; stride <= 3; stride++)
            {
                for (int padding = 0; padding <= 2; padding++)
                {
                    for (int trial = 0; trial < 3; trial++)
                    {
                        int kernel = random.Next(1, 6);
                        int height = random.Next(Math.Max(1, kernel - 2 * padding), 13);
                        int width = random.Next(Math.Max(1, kernel - 2 * padding), 17);
                        shapes.Add(new object[] { random.Next(1, 4), height, width, kernel, stride, padding });
                    }
                }
            }
            return shapes;
        }

        private static float NaiveRead(float[] x, int height, int width, int kernel, int stride, int padding, int outWidth, int row, int column)
        {
            int kx = row % kernel, ky = row / kernel % kernel, ch = row / (kernel * kernel);
            int oy = column / outWidth, ox = column % outWidth;
            int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
            return iy < 0 || iy >= height || ix < 0 || ix >= width ? 0f : x[(ch * height + iy) * width + ix];
        }

        private static (int OutHeight, int OutWidth) OutSize(int height, int width, int kernel, int stride, int padding) =>
            ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1);

        [Theory]
        [MemberData(nameof(ConvShapes))]
        public void Expand_MatchesNaiveGather(int channels, int height, int width, int kernel, int stride, int padding)
        {
            var random = new Random(channels * 31 + height * 7 + width);
            var (outHeight, outWidth) = OutSize(height, width, kernel, stride, padding);
            Assert.True(outHeight > 0 && outWidth > 0);
            float[] x = Random(random, channels * height * width);
            int rows = channels * kernel * kernel, plane = outHeight * outWidth;
            float[] cols = new float[rows * plane + 5];
            Array.Fill(cols, float.NaN);
            Im2Col.Expand(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, cols);
            for (int r = 0; r < rows; r++)
            {
                for (int col = 0; col < plane; col++)
                {
                    float expected = NaiveRead(x, height, width, kernel, stride, padding, outWidth, r, col);
                    if (expected != cols[r * plane + col]) Assert.Fail($"cols[{r},{col}] = {cols[r * plane + col]}, expected {expected}");
                }
            }
            for (int i = rows * plane; i < cols.Length; i++) Assert.True(float.IsNaN(cols[i]), "wrote past the end");
        }

        [Theory]
        [MemberData(nameof(ConvShapes))]
        public void AccumulateBack_IsAdjointOfExpand_AndMatchesNaiveScatter(int channels, int height, int width, int kernel, int stride, int padding)
        {
            var random = new Random(channels * 13 + height * 5 + width + 1);
            var (outHeight, outWidth) = OutSize(height, width, kernel, stride, padding);
            int rows = channels * kernel * kernel, plane = outHeight * outWidth, size = channels * height * width;
            float[] x = Random(random, size);
            float[] c = Random(random, rows * plane);
            float[] dx0 = Random(random, size);

            float[] dx = (float[])dx0.Clone();
            Im2Col.AccumulateBack(c, channels, height, width, kernel, stride, padding, outHeight, outWidth, dx);

            // Element-wise against a naive scatter in the same order (so bit-identical).
            float[] naive = (float[])dx0.Clone();
            for (int r = 0; r < rows; r++)
            {
                int kx = r % kernel, ky = r / kernel % kernel, ch = r / (kernel * kernel);
                for (int col = 0; col < plane; col++)
                {
                    int oy = col / outWidth, ox = col % outWidth;
                    int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                    if (iy >= 0 && iy < height && ix >= 0 && ix < width) naive[(ch * height + iy) * width + ix] += c[r * plane + col];
                }
            }
            Assert.Equal(naive, dx);

            // <Expand(x), c> == <x, AccumulateBack(c)> (from a cleared dx), in double.
            float[] expanded = new float[rows * plane];
            Im2Col.Expand(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, expanded);
            float[] back = new float[size];
            Im2Col.AccumulateBack(c, channels, height, width, kernel, stride, padding, outHeight, outWidth, back);
            double left = 0, right = 0, scale = 0;
            for (int i = 0; i < expanded.Length; i++)
            {
                left += (double)expanded[i] * c[i];
                scale += Math.Abs((double)expanded[i] * c[i]);
            }
            for (int i = 0; i < size; i++) right += (double)x[i] * back[i];
            Assert.True(Math.Abs(left - right) <= 1e-6 * Math.Max(1, scale), $"<Ex, c> = {left}, <x, E*c> = {right}");
        }

        [Fact]
        public void Im2Col_SteadyState_AllocatesNothing_AndValidates()
        {
            var x = new float[6 * 14 * 14];
            var cols = new float[150 * 100];
            var dx = new float[x.Length];
            // Rounds of calls after a warm-up; a one-off allocation by the runtime tiering code up does not repeat (Allocations).
            Allocations.AssertNone(() =>
            {
                Im2Col.Expand(x, 6, 14, 14, 5, 1, 0, 10, 10, cols);
                Im2Col.AccumulateBack(cols, 6, 14, 14, 5, 1, 0, 10, 10, dx);
                Im2Col.Expand(x, 6, 14, 14, 3, 2, 1, 7, 7, cols);
                Im2Col.AccumulateBack(cols, 6, 14, 14, 3, 2, 1, 7, 7, dx);
            }, calls: 100);
            Assert.Throws<ArgumentException>(() => Im2Col.Expand(x, 6, 14, 14, 5, 1, 0, 10, 10, cols.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Im2Col.Expand(x.AsSpan(1), 6, 14, 14, 5, 1, 0, 10, 10, cols));
            Assert.Throws<ArgumentException>(() => Im2Col.AccumulateBack(cols, 6, 14, 14, 5, 1, 0, 10, 10, dx.AsSpan(1)));
            Assert.Throws<ArgumentOutOfRangeException>(() => Im2Col.Expand(x, 6, 14, 14, 5, 0, 0, 10, 10, cols));
        }
    }
}
