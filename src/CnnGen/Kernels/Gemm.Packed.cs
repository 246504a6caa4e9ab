using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Products with weights packed once: a <c>Linear</c> layer's [out x in] weights laid out as the panels
    /// <see cref="Multiply"/> would pack them into on every call (blocks of 256 steps of depth, each a run of panels of
    /// 32 columns — 16 where AVX-512 is off — zero-padded), so evaluation over a batch reads them in place.
    /// </summary>
    /// <remarks>
    /// With B = Wᵀ every call of <see cref="Multiply"/> transposes the whole weight matrix into panels before its tiles
    /// run, and a batch of 32 rows gives each panel only four row tiles to pay for it: the transposition is a quarter of
    /// the arithmetic's time there. The products and their order are <see cref="Multiply"/>'s (the same kernels on the
    /// same panels), so the results are the same bits. The layout belongs to this process's vector path.
    /// </remarks>
    public static partial class Gemm
    {
        /// <summary>Columns of B a panel starting at <paramref name="j0"/> takes: 32 where AVX-512 runs and more than 16 remain, else 16.</summary>
        private static int PanelWidth(int n, int j0) => s_wide && n - j0 > NarrowColumns ? WideColumns : NarrowColumns;

        /// <summary>The packed layout's columns: n rounded up to whole panels.</summary>
        private static int PackedColumns(int n)
        {
            int total = 0;
            for (int j0 = 0; j0 < n; j0 += PanelWidth(n, j0)) total += PanelWidth(n, j0);
            return total;
        }

        /// <summary>Floats <see cref="PackTransposed"/> writes for an [n x k] weight matrix.</summary>
        public static int PackedLength(int n, int k)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
            return checked(k * PackedColumns(n));
        }

        /// <summary>
        /// Packs B = Wᵀ for <see cref="MultiplyPacked"/>, W being [n x k] row-major (PyTorch's [out x in]): depth blocks of
        /// up to 256 rows, each a run of panels of kc x width, zeros past column n.
        /// </summary>
        public static void PackTransposed(ReadOnlySpan<float> weight, int n, int k, Span<float> packed)
        {
            int length = PackedLength(n, k);
            if (weight.Length < n * k) throw new ArgumentException($"weight holds {weight.Length} floats; an [{n} x {k}] matrix needs {n * k}.", nameof(weight));
            if (packed.Length < length) throw new ArgumentException($"packed holds {packed.Length} floats; PackedLength({n}, {k}) is {length}.", nameof(packed));
            int columns = PackedColumns(n);
            ref float w = ref MemoryMarshal.GetReference(weight);
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int kc = Math.Min(DepthBlock, k - p0);
                for (int j0 = 0; j0 < n;)
                {
                    int width = PanelWidth(n, j0);
                    PackB(transposeB: true, ref w, k, p0, kc, j0, Math.Min(width, n - j0), width, packed.Slice(p0 * columns + kc * j0, kc * width));
                    j0 += width;
                }
            }
        }

        /// <summary>
        /// C[m x n] = (accumulate ? C : 0) + A[m x k] · Wᵀ with W packed by <see cref="PackTransposed"/>; A's and C's rows
        /// <paramref name="lda"/> and <paramref name="ldc"/> apart. The same bits as <c>Multiply(false, true, ...)</c> on W
        /// where that takes its panels (more than 8 rows, or depth under 32); elsewhere it takes dot products, which sum in
        /// another order.
        /// </summary>
        public static void MultiplyPacked(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packed, Span<float> c, int ldc, bool accumulate)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(m);
            int length = PackedLength(n, k);
            if (lda < k) throw new ArgumentException($"lda ({lda}) is smaller than k ({k}).", nameof(lda));
            if (ldc < n) throw new ArgumentException($"ldc ({ldc}) is smaller than n ({n}).", nameof(ldc));
            if (packed.Length < length) throw new ArgumentException($"packed holds {packed.Length} floats; PackedLength({n}, {k}) is {length}.", nameof(packed));
            if (m == 0) return;
            if (a.Length < (long)(m - 1) * lda + k) throw new ArgumentException($"a holds {a.Length} floats, too few for {m} rows of {k} at stride {lda}.", nameof(a));
            if (c.Length < (long)(m - 1) * ldc + n) throw new ArgumentException($"c holds {c.Length} floats, too few for {m} rows of {n} at stride {ldc}.", nameof(c));

            int columns = PackedColumns(n);
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float packedRef = ref MemoryMarshal.GetReference(packed);
            ref float cRef = ref MemoryMarshal.GetReference(c);
            if (!Simd.Enabled)
            {
                MultiplyPackedScalar(m, n, k, ref aRef, lda, ref packedRef, columns, ref cRef, ldc, accumulate);
                return;
            }
            int tileRows = s_tileRows;
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int kc = Math.Min(DepthBlock, k - p0);
                bool load = accumulate || p0 > 0;
                for (int j0 = 0; j0 < n;)
                {
                    int width = PanelWidth(n, j0);
                    int valid = Math.Min(width, n - j0);
                    ref float panel = ref Unsafe.Add(ref packedRef, (nint)p0 * columns + (nint)kc * j0);
                    for (int i0 = 0; i0 < m; i0 += tileRows)
                    {
                        int rows = Math.Min(tileRows, m - i0);
                        ref float aTile = ref Unsafe.Add(ref aRef, (nint)i0 * lda + p0);
                        ref float cTile = ref Unsafe.Add(ref cRef, (nint)i0 * ldc + j0);
                        PanelTile(false, rows, valid, width, ref aTile, lda, ref panel, width, kc, ref cTile, ldc, load);
                    }
                    j0 += width;
                }
            }
        }

        /// <summary>The scalar path: each element a sum over the depth in order, read from the packed panels.</summary>
        private static void MultiplyPackedScalar(int m, int n, int k, ref float a, int lda, ref float packed, int columns, ref float c, int ldc, bool accumulate)
        {
            // Every panel but the last is of the widest width, so the one holding column j starts at j rounded down to it.
            int widest = PanelWidth(n, 0);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int j0 = j / widest * widest, width = PanelWidth(n, j0);
                    float sum = 0f;
                    for (int p0 = 0; p0 < k; p0 += DepthBlock)
                    {
                        int kc = Math.Min(DepthBlock, k - p0);
                        ref float column = ref Unsafe.Add(ref packed, (nint)p0 * columns + (nint)kc * j0 + (j - j0));
                        for (int p = 0; p < kc; p++) sum += Unsafe.Add(ref a, (nint)i * lda + p0 + p) * Unsafe.Add(ref column, (nint)p * width);
                    }
                    ref float target = ref Unsafe.Add(ref c, (nint)i * ldc + j);
                    target = accumulate ? target + sum : sum;
                }
            }
        }
    }
}
