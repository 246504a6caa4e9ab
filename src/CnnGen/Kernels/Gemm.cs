using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Single-precision matrix multiply for the generated forward and backward passes: allocation-free in steady state,
    /// deterministic (a fixed summation order, no threads of its own) and safe to call from several threads at once.
    /// </summary>
    /// <remarks>
    /// The vector path keeps a 6 x 16 tile of C in twelve <see cref="Vector256{T}"/> registers across a block of up to
    /// 256 steps of k, broadcasting op(A) straight from memory (any layout) and streaming a 16-column panel of op(B): read
    /// in place when B is untransposed and the panel is full, otherwise packed (transposed, zero-padded) into a per-thread
    /// scratch buffer that is allocated on a thread's first call only.
    /// </remarks>
    public static partial class Gemm
    {
        private const int MaxTileRows = 8;
        private const int NarrowColumns = 16;
        private const int WideColumns = 32;
        private const int DepthBlock = 256;
        private const int DotTile = 4;
        private const int DotMinDepth = 32;

        [ThreadStatic]
        private static AlignedBuffer? t_panel;

        /// <summary>
        /// C[m x n] = (accumulate ? C : 0) + op(A)[m x k] * op(B)[k x n], all row-major. op(A) is A (m x k, row stride
        /// <paramref name="lda"/>) or, when <paramref name="transposeA"/>, the transpose of A stored k x m (row stride
        /// <paramref name="lda"/>); likewise op(B). <paramref name="ldc"/> is the row stride of C. With k = 0, C is cleared
        /// (or left alone when accumulating).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
        /// <exception cref="ArgumentException">A stride is smaller than its row, or a span is shorter than its matrix.</exception>
        public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
        {
            Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
            if (m == 0 || n == 0) return;
            if (k == 0)
            {
                if (!accumulate) ClearRows(c, m, n, ldc);
                return;
            }
            if (Simd.Enabled) MultiplyVector(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            else MultiplyScalarCore(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        }

        /// <summary>The scalar path of <see cref="Multiply"/>, whatever <see cref="Simd.Enabled"/> says (for tests).</summary>
        internal static void MultiplyScalar(bool transposeA, bool transposeB, int m, int n, int k,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
        {
            Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
            if (m == 0 || n == 0) return;
            if (k == 0)
            {
                if (!accumulate) ClearRows(c, m, n, ldc);
                return;
            }
            MultiplyScalarCore(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        }

        private static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
            int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(m);
            ArgumentOutOfRangeException.ThrowIfNegative(n);
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            if (m == 0 || n == 0) return;
            CheckMatrix("c", m, n, ldc, cLength);
            if (k == 0) return;
            if (transposeA) CheckMatrix("a", k, m, lda, aLength); else CheckMatrix("a", m, k, lda, aLength);
            if (transposeB) CheckMatrix("b", n, k, ldb, bLength); else CheckMatrix("b", k, n, ldb, bLength);
        }

        private static void CheckMatrix(string name, int rows, int columns, int stride, int length)
        {
            if (stride < columns)
            {
                throw new ArgumentException(
                    $"The row stride of '{name}' must be at least {columns} (its stored row length), but is {stride}.", "ld" + name);
            }
            long needed = (long)(rows - 1) * stride + columns;
            if (length < needed)
            {
                throw new ArgumentException(
                    $"'{name}' ({rows} x {columns}, row stride {stride}) needs at least {needed} elements, but has {length}.", name);
            }
        }

        private static void ClearRows(Span<float> c, int m, int n, int ldc)
        {
            for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
        }

        // ---------------------------------------------------------------------------------------------------------------
        // Scalar path, in a fixed order. With B untransposed: C's row accumulates a[i, p] * B's row p for p = 0, 1, ...
        // (rows read contiguously); with B transposed: one dot product per element of C, then added to C.

        private static void MultiplyScalarCore(bool transposeA, bool transposeB, int m, int n, int k,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
        {
            int aRow = transposeA ? 1 : lda, aDepth = transposeA ? lda : 1;
            if (!transposeB)
            {
                for (int i = 0; i < m; i++)
                {
                    Span<float> cRow = c.Slice(i * ldc, n);
                    if (!accumulate) cRow.Clear();
                    for (int p = 0; p < k; p++)
                    {
                        float aip = a[i * aRow + p * aDepth];
                        ReadOnlySpan<float> bRow = b.Slice(p * ldb, n);
                        for (int j = 0; j < cRow.Length; j++) cRow[j] += aip * bRow[j];
                    }
                }
                return;
            }
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    ReadOnlySpan<float> bRow = b.Slice(j * ldb, k);
                    float sum = 0f;
                    int ao = i * aRow;
                    for (int p = 0; p < bRow.Length; p++)
                    {
                        sum += a[ao] * bRow[p];
                        ao += aDepth;
                    }
                    ref float target = ref c[i * ldc + j];
                    target = accumulate ? target + sum : sum;
                }
            }
        }

        // ---------------------------------------------------------------------------------------------------------------
        // Vector path.

        /// <summary>Vector512 tiles (32 columns) where AVX-512 runs them natively: about twice the Vector256 FMA rate.</summary>
        private static readonly bool s_wide = Vector512.IsHardwareAccelerated;

        /// <summary>Rows per register tile: 8 x 2 accumulators need the 32 vector registers of AVX-512; AVX2 has 16.</summary>
        private static readonly int s_tileRows = Vector512.IsHardwareAccelerated ? 8 : 6;

        // On a 64-byte boundary: the micro-kernel loads it a vector at a time.
        private static AlignedBuffer Panel()
        {
            var panel = t_panel;
            if (panel is null) t_panel = panel = new AlignedBuffer(DepthBlock * WideColumns);
            return panel;
        }

        private static void MultiplyVector(bool transposeA, bool transposeB, int m, int n, int k,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
        {
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float bRef = ref MemoryMarshal.GetReference(b);
            ref float cRef = ref MemoryMarshal.GetReference(c);
            // One row times B^T (a linear layer on one sample): 8 dot products at a time streaming B's rows.
            if (m == 1 && transposeB && !transposeA && k >= 16 && Vector512.IsHardwareAccelerated)
            {
                RowTimesTransposed(n, k, ref aRef, ref bRef, ldb, ref cRef, accumulate);
                return;
            }
            // A * B^T for one row block (e.g. a conv weight gradient per sample): dot products beat transposing B into panels.
            if (transposeB && !transposeA && k >= DotMinDepth && m <= s_tileRows)
            {
                MultiplyDot(m, n, k, ref aRef, lda, ref bRef, ldb, ref cRef, ldc, accumulate);
                return;
            }
            int tileRows = s_tileRows;
            bool singleRowBlock = m <= tileRows;
            Span<float> panel = Panel().AsSpan();
            ref float panelRef = ref MemoryMarshal.GetReference(panel);
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int kc = Math.Min(DepthBlock, k - p0);
                bool load = accumulate || p0 > 0;
                for (int j0 = 0; j0 < n;)
                {
                    int width = PanelWidth(n, j0);
                    int columns = Math.Min(width, n - j0);
                    // Read B in place when one row block streams it once; otherwise pack it (contiguous, no set aliasing).
                    bool direct = !transposeB && columns == width && singleRowBlock;
                    if (!direct) PackB(transposeB, ref bRef, ldb, p0, kc, j0, columns, width, panel);
                    ref float bPanel = ref direct ? ref Unsafe.Add(ref bRef, (nint)p0 * ldb + j0) : ref panelRef;
                    nint bStride = direct ? ldb : width;
                    for (int i0 = 0; i0 < m; i0 += tileRows)
                    {
                        int rows = Math.Min(tileRows, m - i0);
                        ref float aTile = ref transposeA
                            ? ref Unsafe.Add(ref aRef, (nint)p0 * lda + i0)
                            : ref Unsafe.Add(ref aRef, (nint)i0 * lda + p0);
                        ref float cTile = ref Unsafe.Add(ref cRef, (nint)i0 * ldc + j0);
                        PanelTile(transposeA, rows, columns, width, ref aTile, lda, ref bPanel, bStride, kc, ref cTile, ldc, load);
                    }
                    j0 += width;
                }
            }
        }

        /// <summary>c[j] = a · B[j] for j &lt; n: eight rows of B stream at once against the one row of A.</summary>
        private static void RowTimesTransposed(int n, int k, ref float a, ref float b, int ldb, ref float c, bool accumulate)
        {
            const int V = 16;
            for (int j0 = 0; j0 < n; j0 += 8)
            {
                int rows = Math.Min(8, n - j0);
                ref float b0 = ref Unsafe.Add(ref b, (nint)j0 * ldb);
                // Rows past the last repeat it and are not stored.
                ref float b1 = ref Unsafe.Add(ref b0, (nint)Math.Min(1, rows - 1) * ldb);
                ref float b2 = ref Unsafe.Add(ref b0, (nint)Math.Min(2, rows - 1) * ldb);
                ref float b3 = ref Unsafe.Add(ref b0, (nint)Math.Min(3, rows - 1) * ldb);
                ref float b4 = ref Unsafe.Add(ref b0, (nint)Math.Min(4, rows - 1) * ldb);
                ref float b5 = ref Unsafe.Add(ref b0, (nint)Math.Min(5, rows - 1) * ldb);
                ref float b6 = ref Unsafe.Add(ref b0, (nint)Math.Min(6, rows - 1) * ldb);
                ref float b7 = ref Unsafe.Add(ref b0, (nint)Math.Min(7, rows - 1) * ldb);
                var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0; var s4 = s0; var s5 = s0; var s6 = s0; var s7 = s0;
                nint p = 0;
                for (; p <= k - V; p += V)
                {
                    var x = Vector512.LoadUnsafe(ref a, (nuint)p);
                    s0 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b0, (nuint)p), s0);
                    s1 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b1, (nuint)p), s1);
                    s2 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b2, (nuint)p), s2);
                    s3 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b3, (nuint)p), s3);
                    s4 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b4, (nuint)p), s4);
                    s5 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b5, (nuint)p), s5);
                    s6 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b6, (nuint)p), s6);
                    s7 = Fused.MultiplyAdd(x, Vector512.LoadUnsafe(ref b7, (nuint)p), s7);
                }
                if (k - p >= 8)
                {
                    // Half a vector left: the low lanes of one more step.
                    var x = Vector512.Create(Vector256.LoadUnsafe(ref a, (nuint)p), Vector256<float>.Zero);
                    s0 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b0, (nuint)p), Vector256<float>.Zero), s0);
                    s1 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b1, (nuint)p), Vector256<float>.Zero), s1);
                    s2 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b2, (nuint)p), Vector256<float>.Zero), s2);
                    s3 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b3, (nuint)p), Vector256<float>.Zero), s3);
                    s4 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b4, (nuint)p), Vector256<float>.Zero), s4);
                    s5 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b5, (nuint)p), Vector256<float>.Zero), s5);
                    s6 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b6, (nuint)p), Vector256<float>.Zero), s6);
                    s7 = Fused.MultiplyAdd(x, Vector512.Create(Vector256.LoadUnsafe(ref b7, (nuint)p), Vector256<float>.Zero), s7);
                    p += 8;
                }
                // The eight sums side by side in one vector: halves folded, then pairwise adds.
                var sums = SumEach(s0, s1, s2, s3, s4, s5, s6, s7);
                ref float c0 = ref Unsafe.Add(ref c, j0);
                for (int r = 0; r < rows; r++)
                {
                    ref float row = ref Unsafe.Add(ref b0, (nint)r * ldb);
                    float sum = sums.GetElement(r);
                    for (nint q = p; q < k; q++) sum += Unsafe.Add(ref a, q) * Unsafe.Add(ref row, q);
                    ref float target = ref Unsafe.Add(ref c0, r);
                    target = accumulate ? target + sum : sum;
                }
            }
        }

        // [Σ s0, Σ s1, ..., Σ s7]: each accumulator summed across its lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<float> SumEach(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
            Vector512<float> s4, Vector512<float> s5, Vector512<float> s6, Vector512<float> s7)
        {
            Vector256<float> Fold(Vector512<float> v) => v.GetLower() + v.GetUpper();
            if (Avx.IsSupported)
            {
                var q0 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(s0), Fold(s1)), Avx.HorizontalAdd(Fold(s2), Fold(s3)));
                var q1 = Avx.HorizontalAdd(Avx.HorizontalAdd(Fold(s4), Fold(s5)), Avx.HorizontalAdd(Fold(s6), Fold(s7)));
                // q0 holds sums 0-3 of the low 128-bit halves, then of the high ones; likewise q1 for 4-7.
                return Avx.Permute2x128(q0, q1, 0x20) + Avx.Permute2x128(q0, q1, 0x31);
            }
            return Vector256.Create(Vector512.Sum(s0), Vector512.Sum(s1), Vector512.Sum(s2), Vector512.Sum(s3),
                Vector512.Sum(s4), Vector512.Sum(s5), Vector512.Sum(s6), Vector512.Sum(s7));
        }

        /// <summary>C = A * B^T with both read along k: 4 x 4 tiles of dot products, no packing.</summary>
        private static void MultiplyDot(int m, int n, int k, ref float a, int lda, ref float b, int ldb, ref float c, int ldc, bool accumulate)
        {
            bool wide = s_wide && k >= 2 * Vector512<float>.Count;
            for (int i0 = 0; i0 < m; i0 += DotTile)
            {
                int rows = Math.Min(DotTile, m - i0);
                ref float aTile = ref Unsafe.Add(ref a, (nint)i0 * lda);
                for (int j0 = 0; j0 < n; j0 += DotTile)
                {
                    int columns = Math.Min(DotTile, n - j0);
                    ref float bTile = ref Unsafe.Add(ref b, (nint)j0 * ldb);
                    ref float cTile = ref Unsafe.Add(ref c, (nint)i0 * ldc + j0);
                    if (wide) DotTile16(rows, columns, ref aTile, lda, ref bTile, ldb, k, ref cTile, ldc, accumulate);
                    else DotTile8(rows, columns, ref aTile, lda, ref bTile, ldb, k, ref cTile, ldc, accumulate);
                }
            }
        }

        /// <summary>Copies op(B)[p0.., j0..] (kc x columns) into the panel as kc rows of <paramref name="width"/>, zero-padded on the right.</summary>
        private static void PackB(bool transposeB, ref float b, int ldb, int p0, int kc, int j0, int columns, int width, Span<float> panel)
        {
            Span<float> dst = panel.Slice(0, kc * width);
            if (columns < width) dst.Clear();
            if (!transposeB)
            {
                for (int p = 0; p < kc; p++)
                {
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, (nint)(p0 + p) * ldb + j0), columns)
                        .CopyTo(dst.Slice(p * width, columns));
                }
                return;
            }
            // op(B)[p, j] = b[j * ldb + p]: 8 x 8 blocks through registers, then the ragged edges element by element.
            ref float d = ref MemoryMarshal.GetReference(dst);
            int fullColumns = 0, fullDepth = 0;
            if (Avx.IsSupported)
            {
                fullColumns = columns & ~7;
                fullDepth = kc & ~7;
                for (int jj = 0; jj < fullColumns; jj += 8)
                {
                    ref float src = ref Unsafe.Add(ref b, (nint)(j0 + jj) * ldb + p0);
                    for (int p = 0; p < fullDepth; p += 8)
                    {
                        Transpose8x8(ref Unsafe.Add(ref src, p), ldb, ref Unsafe.Add(ref d, p * width + jj), width);
                    }
                }
            }
            for (int jj = 0; jj < columns; jj++)
            {
                ref float src = ref Unsafe.Add(ref b, (nint)(j0 + jj) * ldb + p0);
                for (int p = jj < fullColumns ? fullDepth : 0; p < kc; p++) Unsafe.Add(ref d, p * width + jj) = Unsafe.Add(ref src, p);
            }
        }

        /// <summary>
        /// target[c·rows + r] = source[r·columns + c]: a rows x columns matrix transposed, 8 x 8 blocks by AVX shuffles, the
        /// edges one value at a time (the same values on every path).
        /// </summary>
        internal static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> target)
        {
            if (source.Length < rows * columns) throw new ArgumentException("Expected " + rows * columns + " floats.", nameof(source));
            if (target.Length < rows * columns) throw new ArgumentException("Expected " + rows * columns + " floats.", nameof(target));
            ref float from = ref MemoryMarshal.GetReference(source);
            ref float to = ref MemoryMarshal.GetReference(target);
            int blockedRows = 0, blockedColumns = 0;
            if (Simd.Enabled && Avx.IsSupported)
            {
                blockedRows = rows & ~7; blockedColumns = columns & ~7;
                for (int r = 0; r < blockedRows; r += 8)
                    for (int c = 0; c < blockedColumns; c += 8)
                        Transpose8x8(ref Unsafe.Add(ref from, (nint)r * columns + c), columns, ref Unsafe.Add(ref to, (nint)c * rows + r), rows);
            }
            for (int r = 0; r < rows; r++)
            {
                // The blocks took columns below blockedColumns of rows below blockedRows.
                for (int c = r < blockedRows ? blockedColumns : 0; c < columns; c++)
                    Unsafe.Add(ref to, (nint)c * rows + r) = Unsafe.Add(ref from, (nint)r * columns + c);
            }
        }

        /// <summary>dst[q * dstStride + r] = src[r * srcStride + q] for r, q in 0..7.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Transpose8x8(ref float src, nint srcStride, ref float dst, nint dstStride)
        {
            Vector256<float> r0 = Vector256.LoadUnsafe(ref src), r1 = Vector256.LoadUnsafe(ref src, (nuint)srcStride);
            Vector256<float> r2 = Vector256.LoadUnsafe(ref src, (nuint)(2 * srcStride)), r3 = Vector256.LoadUnsafe(ref src, (nuint)(3 * srcStride));
            Vector256<float> r4 = Vector256.LoadUnsafe(ref src, (nuint)(4 * srcStride)), r5 = Vector256.LoadUnsafe(ref src, (nuint)(5 * srcStride));
            Vector256<float> r6 = Vector256.LoadUnsafe(ref src, (nuint)(6 * srcStride)), r7 = Vector256.LoadUnsafe(ref src, (nuint)(7 * srcStride));
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst);
            Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref dst, (nuint)dstStride);
            Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref dst, (nuint)(2 * dstStride));
            Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref dst, (nuint)(3 * dstStride));
            Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref dst, (nuint)(4 * dstStride));
            Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref dst, (nuint)(5 * dstStride));
            Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref dst, (nuint)(6 * dstStride));
            Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref dst, (nuint)(7 * dstStride));
        }

        /// <summary>One register tile of C from a panel of op(B) <paramref name="width"/> wide, <paramref name="columns"/> of them valid.</summary>
        private static void PanelTile(bool transposeA, int rows, int columns, int width, ref float a, int lda, ref float panel, nint panelStride, int kc,
            ref float c, int ldc, bool load)
        {
            if (columns < width) EdgeTile(transposeA, rows, columns, width, ref a, lda, ref panel, kc, ref c, ldc, load);
            else if (width == WideColumns) Tile32(transposeA, rows, ref a, lda, ref panel, panelStride, kc, ref c, ldc, load);
            else Tile16(transposeA, rows, ref a, lda, ref panel, panelStride, kc, ref c, ldc, load);
        }

        /// <summary>A tile narrower than its kernel: run the kernel on a stack copy of C and keep the valid columns.</summary>
        private static void EdgeTile(bool transposeA, int rows, int columns, int width, ref float a, int lda, ref float panel, int kc,
            ref float c, int ldc, bool load)
        {
            Span<float> tile = stackalloc float[MaxTileRows * WideColumns];
            if (load)
            {
                for (int i = 0; i < rows; i++)
                {
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref c, (nint)i * ldc), columns).CopyTo(tile.Slice(i * width));
                }
            }
            ref float t = ref MemoryMarshal.GetReference(tile);
            if (width == WideColumns) Tile32(transposeA, rows, ref a, lda, ref panel, width, kc, ref t, width, load);
            else Tile16(transposeA, rows, ref a, lda, ref panel, width, kc, ref t, width, load);
            for (int i = 0; i < rows; i++)
            {
                tile.Slice(i * width, columns).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref c, (nint)i * ldc), columns));
            }
        }

        private static void Tile16(bool transposeA, int rows, ref float a, nint lda, ref float b, nint ldb, int kc, ref float c, nint ldc, bool load)
        {
            if (transposeA)
            {
                switch (rows)
                {
                    case 8: Kernel16<C8, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 7: Kernel16<C7, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 6: Kernel16<C6, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 5: Kernel16<C5, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 4: Kernel16<C4, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 3: Kernel16<C3, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 2: Kernel16<C2, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    default: Kernel16<C1, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                }
            }
            else
            {
                switch (rows)
                {
                    case 8: Kernel16<C8, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 7: Kernel16<C7, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 6: Kernel16<C6, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 5: Kernel16<C5, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 4: Kernel16<C4, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 3: Kernel16<C3, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 2: Kernel16<C2, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    default: Kernel16<C1, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                }
            }
        }

        private static void Tile32(bool transposeA, int rows, ref float a, nint lda, ref float b, nint ldb, int kc, ref float c, nint ldc, bool load)
        {
            if (transposeA)
            {
                switch (rows)
                {
                    case 8: Kernel32<C8, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 7: Kernel32<C7, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 6: Kernel32<C6, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 5: Kernel32<C5, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 4: Kernel32<C4, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 3: Kernel32<C3, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 2: Kernel32<C2, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    default: Kernel32<C1, C1>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                }
            }
            else
            {
                switch (rows)
                {
                    case 8: Kernel32<C8, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 7: Kernel32<C7, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 6: Kernel32<C6, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 5: Kernel32<C5, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 4: Kernel32<C4, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 3: Kernel32<C3, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    case 2: Kernel32<C2, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                    default: Kernel32<C1, C0>(ref a, lda, ref b, ldb, kc, ref c, ldc, load); break;
                }
            }
        }

        /// <summary>
        /// C[TRows x 16] (+)= op(A)[TRows x kc] * B[kc x 16] with B's rows <paramref name="ldb"/> apart, in 16 or
        /// fewer Vector256 accumulators. Instantiated per row count; the JIT folds the <c>TRows.Value</c> tests away.
        /// </summary>
        private static void Kernel16<TRows, TTransA>(ref float a, nint lda, ref float b, nint ldb, int kc, ref float c, nint ldc, bool accumulate)
            where TRows : struct, IConstant
            where TTransA : struct, IConstant
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            if (accumulate)
            {
                c00 = Vector256.LoadUnsafe(ref c, (nuint)(0 * ldc)); c01 = Vector256.LoadUnsafe(ref c, (nuint)(0 * ldc + 8));
                if (TRows.Value > 1) { c10 = Vector256.LoadUnsafe(ref c, (nuint)(1 * ldc)); c11 = Vector256.LoadUnsafe(ref c, (nuint)(1 * ldc + 8)); }
                if (TRows.Value > 2) { c20 = Vector256.LoadUnsafe(ref c, (nuint)(2 * ldc)); c21 = Vector256.LoadUnsafe(ref c, (nuint)(2 * ldc + 8)); }
                if (TRows.Value > 3) { c30 = Vector256.LoadUnsafe(ref c, (nuint)(3 * ldc)); c31 = Vector256.LoadUnsafe(ref c, (nuint)(3 * ldc + 8)); }
                if (TRows.Value > 4) { c40 = Vector256.LoadUnsafe(ref c, (nuint)(4 * ldc)); c41 = Vector256.LoadUnsafe(ref c, (nuint)(4 * ldc + 8)); }
                if (TRows.Value > 5) { c50 = Vector256.LoadUnsafe(ref c, (nuint)(5 * ldc)); c51 = Vector256.LoadUnsafe(ref c, (nuint)(5 * ldc + 8)); }
                if (TRows.Value > 6) { c60 = Vector256.LoadUnsafe(ref c, (nuint)(6 * ldc)); c61 = Vector256.LoadUnsafe(ref c, (nuint)(6 * ldc + 8)); }
                if (TRows.Value > 7) { c70 = Vector256.LoadUnsafe(ref c, (nuint)(7 * ldc)); c71 = Vector256.LoadUnsafe(ref c, (nuint)(7 * ldc + 8)); }
            }
            nint bo = 0;
            if (TTransA.Value != 0)
            {
                // op(A)[i, p] = a[p * lda + i]: the tile's rows sit side by side in memory.
                nint ao = 0;
                for (int p = 0; p < kc; p++)
                {
                    Vector256<float> b0 = Vector256.LoadUnsafe(ref b, (nuint)bo), b1 = Vector256.LoadUnsafe(ref b, (nuint)(bo + 8)), av;
                    av = Vector256.Create(Unsafe.Add(ref a, ao)); c00 = Fused.MultiplyAdd(av, b0, c00); c01 = Fused.MultiplyAdd(av, b1, c01);
                    if (TRows.Value > 1) { av = Vector256.Create(Unsafe.Add(ref a, ao + 1)); c10 = Fused.MultiplyAdd(av, b0, c10); c11 = Fused.MultiplyAdd(av, b1, c11); }
                    if (TRows.Value > 2) { av = Vector256.Create(Unsafe.Add(ref a, ao + 2)); c20 = Fused.MultiplyAdd(av, b0, c20); c21 = Fused.MultiplyAdd(av, b1, c21); }
                    if (TRows.Value > 3) { av = Vector256.Create(Unsafe.Add(ref a, ao + 3)); c30 = Fused.MultiplyAdd(av, b0, c30); c31 = Fused.MultiplyAdd(av, b1, c31); }
                    if (TRows.Value > 4) { av = Vector256.Create(Unsafe.Add(ref a, ao + 4)); c40 = Fused.MultiplyAdd(av, b0, c40); c41 = Fused.MultiplyAdd(av, b1, c41); }
                    if (TRows.Value > 5) { av = Vector256.Create(Unsafe.Add(ref a, ao + 5)); c50 = Fused.MultiplyAdd(av, b0, c50); c51 = Fused.MultiplyAdd(av, b1, c51); }
                    if (TRows.Value > 6) { av = Vector256.Create(Unsafe.Add(ref a, ao + 6)); c60 = Fused.MultiplyAdd(av, b0, c60); c61 = Fused.MultiplyAdd(av, b1, c61); }
                    if (TRows.Value > 7) { av = Vector256.Create(Unsafe.Add(ref a, ao + 7)); c70 = Fused.MultiplyAdd(av, b0, c70); c71 = Fused.MultiplyAdd(av, b1, c71); }
                    ao += lda;
                    bo += ldb;
                }
            }
            else
            {
                // op(A)[i, p] = a[i * lda + p]: one reference per row, indexed by p.
                ref float a0 = ref a;
                ref float a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * lda) : ref a;
                ref float a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * lda) : ref a;
                ref float a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * lda) : ref a;
                ref float a4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref a, 4 * lda) : ref a;
                ref float a5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref a, 5 * lda) : ref a;
                ref float a6 = ref TRows.Value > 6 ? ref Unsafe.Add(ref a, 6 * lda) : ref a;
                ref float a7 = ref TRows.Value > 7 ? ref Unsafe.Add(ref a, 7 * lda) : ref a;
                for (nint p = 0; p < kc; p++)
                {
                    Vector256<float> b0 = Vector256.LoadUnsafe(ref b, (nuint)bo), b1 = Vector256.LoadUnsafe(ref b, (nuint)(bo + 8)), av;
                    av = Vector256.Create(Unsafe.Add(ref a0, p)); c00 = Fused.MultiplyAdd(av, b0, c00); c01 = Fused.MultiplyAdd(av, b1, c01);
                    if (TRows.Value > 1) { av = Vector256.Create(Unsafe.Add(ref a1, p)); c10 = Fused.MultiplyAdd(av, b0, c10); c11 = Fused.MultiplyAdd(av, b1, c11); }
                    if (TRows.Value > 2) { av = Vector256.Create(Unsafe.Add(ref a2, p)); c20 = Fused.MultiplyAdd(av, b0, c20); c21 = Fused.MultiplyAdd(av, b1, c21); }
                    if (TRows.Value > 3) { av = Vector256.Create(Unsafe.Add(ref a3, p)); c30 = Fused.MultiplyAdd(av, b0, c30); c31 = Fused.MultiplyAdd(av, b1, c31); }
                    if (TRows.Value > 4) { av = Vector256.Create(Unsafe.Add(ref a4, p)); c40 = Fused.MultiplyAdd(av, b0, c40); c41 = Fused.MultiplyAdd(av, b1, c41); }
                    if (TRows.Value > 5) { av = Vector256.Create(Unsafe.Add(ref a5, p)); c50 = Fused.MultiplyAdd(av, b0, c50); c51 = Fused.MultiplyAdd(av, b1, c51); }
                    if (TRows.Value > 6) { av = Vector256.Create(Unsafe.Add(ref a6, p)); c60 = Fused.MultiplyAdd(av, b0, c60); c61 = Fused.MultiplyAdd(av, b1, c61); }
                    if (TRows.Value > 7) { av = Vector256.Create(Unsafe.Add(ref a7, p)); c70 = Fused.MultiplyAdd(av, b0, c70); c71 = Fused.MultiplyAdd(av, b1, c71); }
                    bo += ldb;
                }
            }
            c00.StoreUnsafe(ref c, (nuint)(0 * ldc)); c01.StoreUnsafe(ref c, (nuint)(0 * ldc + 8));
            if (TRows.Value > 1) { c10.StoreUnsafe(ref c, (nuint)(1 * ldc)); c11.StoreUnsafe(ref c, (nuint)(1 * ldc + 8)); }
            if (TRows.Value > 2) { c20.StoreUnsafe(ref c, (nuint)(2 * ldc)); c21.StoreUnsafe(ref c, (nuint)(2 * ldc + 8)); }
            if (TRows.Value > 3) { c30.StoreUnsafe(ref c, (nuint)(3 * ldc)); c31.StoreUnsafe(ref c, (nuint)(3 * ldc + 8)); }
            if (TRows.Value > 4) { c40.StoreUnsafe(ref c, (nuint)(4 * ldc)); c41.StoreUnsafe(ref c, (nuint)(4 * ldc + 8)); }
            if (TRows.Value > 5) { c50.StoreUnsafe(ref c, (nuint)(5 * ldc)); c51.StoreUnsafe(ref c, (nuint)(5 * ldc + 8)); }
            if (TRows.Value > 6) { c60.StoreUnsafe(ref c, (nuint)(6 * ldc)); c61.StoreUnsafe(ref c, (nuint)(6 * ldc + 8)); }
            if (TRows.Value > 7) { c70.StoreUnsafe(ref c, (nuint)(7 * ldc)); c71.StoreUnsafe(ref c, (nuint)(7 * ldc + 8)); }
        }

        /// <summary>
        /// C[TRows x 32] (+)= op(A)[TRows x kc] * B[kc x 32] with B's rows <paramref name="ldb"/> apart, in 16 or
        /// fewer Vector512 accumulators. Instantiated per row count; the JIT folds the <c>TRows.Value</c> tests away.
        /// </summary>
        private static void Kernel32<TRows, TTransA>(ref float a, nint lda, ref float b, nint ldb, int kc, ref float c, nint ldc, bool accumulate)
            where TRows : struct, IConstant
            where TTransA : struct, IConstant
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            if (accumulate)
            {
                c00 = Vector512.LoadUnsafe(ref c, (nuint)(0 * ldc)); c01 = Vector512.LoadUnsafe(ref c, (nuint)(0 * ldc + 16));
                if (TRows.Value > 1) { c10 = Vector512.LoadUnsafe(ref c, (nuint)(1 * ldc)); c11 = Vector512.LoadUnsafe(ref c, (nuint)(1 * ldc + 16)); }
                if (TRows.Value > 2) { c20 = Vector512.LoadUnsafe(ref c, (nuint)(2 * ldc)); c21 = Vector512.LoadUnsafe(ref c, (nuint)(2 * ldc + 16)); }
                if (TRows.Value > 3) { c30 = Vector512.LoadUnsafe(ref c, (nuint)(3 * ldc)); c31 = Vector512.LoadUnsafe(ref c, (nuint)(3 * ldc + 16)); }
                if (TRows.Value > 4) { c40 = Vector512.LoadUnsafe(ref c, (nuint)(4 * ldc)); c41 = Vector512.LoadUnsafe(ref c, (nuint)(4 * ldc + 16)); }
                if (TRows.Value > 5) { c50 = Vector512.LoadUnsafe(ref c, (nuint)(5 * ldc)); c51 = Vector512.LoadUnsafe(ref c, (nuint)(5 * ldc + 16)); }
                if (TRows.Value > 6) { c60 = Vector512.LoadUnsafe(ref c, (nuint)(6 * ldc)); c61 = Vector512.LoadUnsafe(ref c, (nuint)(6 * ldc + 16)); }
                if (TRows.Value > 7) { c70 = Vector512.LoadUnsafe(ref c, (nuint)(7 * ldc)); c71 = Vector512.LoadUnsafe(ref c, (nuint)(7 * ldc + 16)); }
            }
            nint bo = 0;
            if (TTransA.Value != 0)
            {
                // op(A)[i, p] = a[p * lda + i]: the tile's rows sit side by side in memory.
                nint ao = 0;
                for (int p = 0; p < kc; p++)
                {
                    Vector512<float> b0 = Vector512.LoadUnsafe(ref b, (nuint)bo), b1 = Vector512.LoadUnsafe(ref b, (nuint)(bo + 16)), av;
                    av = Vector512.Create(Unsafe.Add(ref a, ao)); c00 = Fused.MultiplyAdd(av, b0, c00); c01 = Fused.MultiplyAdd(av, b1, c01);
                    if (TRows.Value > 1) { av = Vector512.Create(Unsafe.Add(ref a, ao + 1)); c10 = Fused.MultiplyAdd(av, b0, c10); c11 = Fused.MultiplyAdd(av, b1, c11); }
                    if (TRows.Value > 2) { av = Vector512.Create(Unsafe.Add(ref a, ao + 2)); c20 = Fused.MultiplyAdd(av, b0, c20); c21 = Fused.MultiplyAdd(av, b1, c21); }
                    if (TRows.Value > 3) { av = Vector512.Create(Unsafe.Add(ref a, ao + 3)); c30 = Fused.MultiplyAdd(av, b0, c30); c31 = Fused.MultiplyAdd(av, b1, c31); }
                    if (TRows.Value > 4) { av = Vector512.Create(Unsafe.Add(ref a, ao + 4)); c40 = Fused.MultiplyAdd(av, b0, c40); c41 = Fused.MultiplyAdd(av, b1, c41); }
                    if (TRows.Value > 5) { av = Vector512.Create(Unsafe.Add(ref a, ao + 5)); c50 = Fused.MultiplyAdd(av, b0, c50); c51 = Fused.MultiplyAdd(av, b1, c51); }
                    if (TRows.Value > 6) { av = Vector512.Create(Unsafe.Add(ref a, ao + 6)); c60 = Fused.MultiplyAdd(av, b0, c60); c61 = Fused.MultiplyAdd(av, b1, c61); }
                    if (TRows.Value > 7) { av = Vector512.Create(Unsafe.Add(ref a, ao + 7)); c70 = Fused.MultiplyAdd(av, b0, c70); c71 = Fused.MultiplyAdd(av, b1, c71); }
                    ao += lda;
                    bo += ldb;
                }
            }
            else
            {
                // op(A)[i, p] = a[i * lda + p]: one reference per row, indexed by p.
                ref float a0 = ref a;
                ref float a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * lda) : ref a;
                ref float a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * lda) : ref a;
                ref float a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * lda) : ref a;
                ref float a4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref a, 4 * lda) : ref a;
                ref float a5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref a, 5 * lda) : ref a;
                ref float a6 = ref TRows.Value > 6 ? ref Unsafe.Add(ref a, 6 * lda) : ref a;
                ref float a7 = ref TRows.Value > 7 ? ref Unsafe.Add(ref a, 7 * lda) : ref a;
                for (nint p = 0; p < kc; p++)
                {
                    Vector512<float> b0 = Vector512.LoadUnsafe(ref b, (nuint)bo), b1 = Vector512.LoadUnsafe(ref b, (nuint)(bo + 16)), av;
                    av = Vector512.Create(Unsafe.Add(ref a0, p)); c00 = Fused.MultiplyAdd(av, b0, c00); c01 = Fused.MultiplyAdd(av, b1, c01);
                    if (TRows.Value > 1) { av = Vector512.Create(Unsafe.Add(ref a1, p)); c10 = Fused.MultiplyAdd(av, b0, c10); c11 = Fused.MultiplyAdd(av, b1, c11); }
                    if (TRows.Value > 2) { av = Vector512.Create(Unsafe.Add(ref a2, p)); c20 = Fused.MultiplyAdd(av, b0, c20); c21 = Fused.MultiplyAdd(av, b1, c21); }
                    if (TRows.Value > 3) { av = Vector512.Create(Unsafe.Add(ref a3, p)); c30 = Fused.MultiplyAdd(av, b0, c30); c31 = Fused.MultiplyAdd(av, b1, c31); }
                    if (TRows.Value > 4) { av = Vector512.Create(Unsafe.Add(ref a4, p)); c40 = Fused.MultiplyAdd(av, b0, c40); c41 = Fused.MultiplyAdd(av, b1, c41); }
                    if (TRows.Value > 5) { av = Vector512.Create(Unsafe.Add(ref a5, p)); c50 = Fused.MultiplyAdd(av, b0, c50); c51 = Fused.MultiplyAdd(av, b1, c51); }
                    if (TRows.Value > 6) { av = Vector512.Create(Unsafe.Add(ref a6, p)); c60 = Fused.MultiplyAdd(av, b0, c60); c61 = Fused.MultiplyAdd(av, b1, c61); }
                    if (TRows.Value > 7) { av = Vector512.Create(Unsafe.Add(ref a7, p)); c70 = Fused.MultiplyAdd(av, b0, c70); c71 = Fused.MultiplyAdd(av, b1, c71); }
                    bo += ldb;
                }
            }
            c00.StoreUnsafe(ref c, (nuint)(0 * ldc)); c01.StoreUnsafe(ref c, (nuint)(0 * ldc + 16));
            if (TRows.Value > 1) { c10.StoreUnsafe(ref c, (nuint)(1 * ldc)); c11.StoreUnsafe(ref c, (nuint)(1 * ldc + 16)); }
            if (TRows.Value > 2) { c20.StoreUnsafe(ref c, (nuint)(2 * ldc)); c21.StoreUnsafe(ref c, (nuint)(2 * ldc + 16)); }
            if (TRows.Value > 3) { c30.StoreUnsafe(ref c, (nuint)(3 * ldc)); c31.StoreUnsafe(ref c, (nuint)(3 * ldc + 16)); }
            if (TRows.Value > 4) { c40.StoreUnsafe(ref c, (nuint)(4 * ldc)); c41.StoreUnsafe(ref c, (nuint)(4 * ldc + 16)); }
            if (TRows.Value > 5) { c50.StoreUnsafe(ref c, (nuint)(5 * ldc)); c51.StoreUnsafe(ref c, (nuint)(5 * ldc + 16)); }
            if (TRows.Value > 6) { c60.StoreUnsafe(ref c, (nuint)(6 * ldc)); c61.StoreUnsafe(ref c, (nuint)(6 * ldc + 16)); }
            if (TRows.Value > 7) { c70.StoreUnsafe(ref c, (nuint)(7 * ldc)); c71.StoreUnsafe(ref c, (nuint)(7 * ldc + 16)); }
        }

        private static void DotTile16(int rows, int columns, ref float a, nint lda, ref float b, nint ldb, int k, ref float c, nint ldc, bool load)
        {
            switch (rows * 8 + columns)
            {
                case 36: Dot16<C4, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 35: Dot16<C4, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 34: Dot16<C4, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 33: Dot16<C4, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 28: Dot16<C3, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 27: Dot16<C3, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 26: Dot16<C3, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 25: Dot16<C3, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 20: Dot16<C2, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 19: Dot16<C2, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 18: Dot16<C2, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 17: Dot16<C2, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 12: Dot16<C1, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 11: Dot16<C1, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 10: Dot16<C1, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                default: Dot16<C1, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
            }
        }

        /// <summary>
        /// C[TRows x TCols] (+)= A[TRows x k] * B[TCols x k]^T, both read along their contiguous rows: 16-lane partial
        /// sums per element, reduced in a fixed order, then the k % 16 tail added in order.
        /// </summary>
        private static void Dot16<TRows, TCols>(ref float a, nint lda, ref float b, nint ldb, int k, ref float c, nint ldc, bool accumulate)
            where TRows : struct, IConstant
            where TCols : struct, IConstant
        {
            Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default, s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            ref float a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * lda) : ref a;
            ref float a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * lda) : ref a;
            ref float a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * lda) : ref a;
            ref float b1 = ref TCols.Value > 1 ? ref Unsafe.Add(ref b, 1 * ldb) : ref b;
            ref float b2 = ref TCols.Value > 2 ? ref Unsafe.Add(ref b, 2 * ldb) : ref b;
            ref float b3 = ref TCols.Value > 3 ? ref Unsafe.Add(ref b, 3 * ldb) : ref b;
            nint p = 0;
            for (; p <= k - 16; p += 16)
            {
                Vector512<float> y0 = Vector512.LoadUnsafe(ref b, (nuint)p);
                Vector512<float> y1 = TCols.Value > 1 ? Vector512.LoadUnsafe(ref b1, (nuint)p) : default;
                Vector512<float> y2 = TCols.Value > 2 ? Vector512.LoadUnsafe(ref b2, (nuint)p) : default;
                Vector512<float> y3 = TCols.Value > 3 ? Vector512.LoadUnsafe(ref b3, (nuint)p) : default;
                Vector512<float> x = Vector512.LoadUnsafe(ref a, (nuint)p);
                s00 = Fused.MultiplyAdd(x, y0, s00);
                if (TCols.Value > 1) s01 = Fused.MultiplyAdd(x, y1, s01);
                if (TCols.Value > 2) s02 = Fused.MultiplyAdd(x, y2, s02);
                if (TCols.Value > 3) s03 = Fused.MultiplyAdd(x, y3, s03);
                if (TRows.Value > 1) x = Vector512.LoadUnsafe(ref a1, (nuint)p);
                if (TRows.Value > 1) s10 = Fused.MultiplyAdd(x, y0, s10);
                if (TRows.Value > 1 && TCols.Value > 1) s11 = Fused.MultiplyAdd(x, y1, s11);
                if (TRows.Value > 1 && TCols.Value > 2) s12 = Fused.MultiplyAdd(x, y2, s12);
                if (TRows.Value > 1 && TCols.Value > 3) s13 = Fused.MultiplyAdd(x, y3, s13);
                if (TRows.Value > 2) x = Vector512.LoadUnsafe(ref a2, (nuint)p);
                if (TRows.Value > 2) s20 = Fused.MultiplyAdd(x, y0, s20);
                if (TRows.Value > 2 && TCols.Value > 1) s21 = Fused.MultiplyAdd(x, y1, s21);
                if (TRows.Value > 2 && TCols.Value > 2) s22 = Fused.MultiplyAdd(x, y2, s22);
                if (TRows.Value > 2 && TCols.Value > 3) s23 = Fused.MultiplyAdd(x, y3, s23);
                if (TRows.Value > 3) x = Vector512.LoadUnsafe(ref a3, (nuint)p);
                if (TRows.Value > 3) s30 = Fused.MultiplyAdd(x, y0, s30);
                if (TRows.Value > 3 && TCols.Value > 1) s31 = Fused.MultiplyAdd(x, y1, s31);
                if (TRows.Value > 3 && TCols.Value > 2) s32 = Fused.MultiplyAdd(x, y2, s32);
                if (TRows.Value > 3 && TCols.Value > 3) s33 = Fused.MultiplyAdd(x, y3, s33);
            }
            Finish(s00, ref a, ref b, p, k, ref Unsafe.Add(ref c, 0 * ldc + 0), accumulate);
            if (TCols.Value > 1) Finish(s01, ref a, ref b1, p, k, ref Unsafe.Add(ref c, 0 * ldc + 1), accumulate);
            if (TCols.Value > 2) Finish(s02, ref a, ref b2, p, k, ref Unsafe.Add(ref c, 0 * ldc + 2), accumulate);
            if (TCols.Value > 3) Finish(s03, ref a, ref b3, p, k, ref Unsafe.Add(ref c, 0 * ldc + 3), accumulate);
            if (TRows.Value > 1) Finish(s10, ref a1, ref b, p, k, ref Unsafe.Add(ref c, 1 * ldc + 0), accumulate);
            if (TRows.Value > 1 && TCols.Value > 1) Finish(s11, ref a1, ref b1, p, k, ref Unsafe.Add(ref c, 1 * ldc + 1), accumulate);
            if (TRows.Value > 1 && TCols.Value > 2) Finish(s12, ref a1, ref b2, p, k, ref Unsafe.Add(ref c, 1 * ldc + 2), accumulate);
            if (TRows.Value > 1 && TCols.Value > 3) Finish(s13, ref a1, ref b3, p, k, ref Unsafe.Add(ref c, 1 * ldc + 3), accumulate);
            if (TRows.Value > 2) Finish(s20, ref a2, ref b, p, k, ref Unsafe.Add(ref c, 2 * ldc + 0), accumulate);
            if (TRows.Value > 2 && TCols.Value > 1) Finish(s21, ref a2, ref b1, p, k, ref Unsafe.Add(ref c, 2 * ldc + 1), accumulate);
            if (TRows.Value > 2 && TCols.Value > 2) Finish(s22, ref a2, ref b2, p, k, ref Unsafe.Add(ref c, 2 * ldc + 2), accumulate);
            if (TRows.Value > 2 && TCols.Value > 3) Finish(s23, ref a2, ref b3, p, k, ref Unsafe.Add(ref c, 2 * ldc + 3), accumulate);
            if (TRows.Value > 3) Finish(s30, ref a3, ref b, p, k, ref Unsafe.Add(ref c, 3 * ldc + 0), accumulate);
            if (TRows.Value > 3 && TCols.Value > 1) Finish(s31, ref a3, ref b1, p, k, ref Unsafe.Add(ref c, 3 * ldc + 1), accumulate);
            if (TRows.Value > 3 && TCols.Value > 2) Finish(s32, ref a3, ref b2, p, k, ref Unsafe.Add(ref c, 3 * ldc + 2), accumulate);
            if (TRows.Value > 3 && TCols.Value > 3) Finish(s33, ref a3, ref b3, p, k, ref Unsafe.Add(ref c, 3 * ldc + 3), accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish(Vector512<float> partial, ref float a, ref float b, nint p, int k, ref float c, bool accumulate)
        {
            float sum = Vector512.Sum(partial);
            for (; p < k; p++) sum += Unsafe.Add(ref a, p) * Unsafe.Add(ref b, p);
            c = accumulate ? c + sum : sum;
        }

        private static void DotTile8(int rows, int columns, ref float a, nint lda, ref float b, nint ldb, int k, ref float c, nint ldc, bool load)
        {
            switch (rows * 8 + columns)
            {
                case 36: Dot8<C4, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 35: Dot8<C4, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 34: Dot8<C4, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 33: Dot8<C4, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 28: Dot8<C3, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 27: Dot8<C3, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 26: Dot8<C3, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 25: Dot8<C3, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 20: Dot8<C2, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 19: Dot8<C2, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 18: Dot8<C2, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 17: Dot8<C2, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 12: Dot8<C1, C4>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 11: Dot8<C1, C3>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                case 10: Dot8<C1, C2>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
                default: Dot8<C1, C1>(ref a, lda, ref b, ldb, k, ref c, ldc, load); break;
            }
        }

        /// <summary>
        /// C[TRows x TCols] (+)= A[TRows x k] * B[TCols x k]^T, both read along their contiguous rows: 8-lane partial
        /// sums per element, reduced in a fixed order, then the k % 8 tail added in order.
        /// </summary>
        private static void Dot8<TRows, TCols>(ref float a, nint lda, ref float b, nint ldb, int k, ref float c, nint ldc, bool accumulate)
            where TRows : struct, IConstant
            where TCols : struct, IConstant
        {
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default, s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            ref float a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * lda) : ref a;
            ref float a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * lda) : ref a;
            ref float a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * lda) : ref a;
            ref float b1 = ref TCols.Value > 1 ? ref Unsafe.Add(ref b, 1 * ldb) : ref b;
            ref float b2 = ref TCols.Value > 2 ? ref Unsafe.Add(ref b, 2 * ldb) : ref b;
            ref float b3 = ref TCols.Value > 3 ? ref Unsafe.Add(ref b, 3 * ldb) : ref b;
            nint p = 0;
            for (; p <= k - 8; p += 8)
            {
                Vector256<float> y0 = Vector256.LoadUnsafe(ref b, (nuint)p);
                Vector256<float> y1 = TCols.Value > 1 ? Vector256.LoadUnsafe(ref b1, (nuint)p) : default;
                Vector256<float> y2 = TCols.Value > 2 ? Vector256.LoadUnsafe(ref b2, (nuint)p) : default;
                Vector256<float> y3 = TCols.Value > 3 ? Vector256.LoadUnsafe(ref b3, (nuint)p) : default;
                Vector256<float> x = Vector256.LoadUnsafe(ref a, (nuint)p);
                s00 = Fused.MultiplyAdd(x, y0, s00);
                if (TCols.Value > 1) s01 = Fused.MultiplyAdd(x, y1, s01);
                if (TCols.Value > 2) s02 = Fused.MultiplyAdd(x, y2, s02);
                if (TCols.Value > 3) s03 = Fused.MultiplyAdd(x, y3, s03);
                if (TRows.Value > 1) x = Vector256.LoadUnsafe(ref a1, (nuint)p);
                if (TRows.Value > 1) s10 = Fused.MultiplyAdd(x, y0, s10);
                if (TRows.Value > 1 && TCols.Value > 1) s11 = Fused.MultiplyAdd(x, y1, s11);
                if (TRows.Value > 1 && TCols.Value > 2) s12 = Fused.MultiplyAdd(x, y2, s12);
                if (TRows.Value > 1 && TCols.Value > 3) s13 = Fused.MultiplyAdd(x, y3, s13);
                if (TRows.Value > 2) x = Vector256.LoadUnsafe(ref a2, (nuint)p);
                if (TRows.Value > 2) s20 = Fused.MultiplyAdd(x, y0, s20);
                if (TRows.Value > 2 && TCols.Value > 1) s21 = Fused.MultiplyAdd(x, y1, s21);
                if (TRows.Value > 2 && TCols.Value > 2) s22 = Fused.MultiplyAdd(x, y2, s22);
                if (TRows.Value > 2 && TCols.Value > 3) s23 = Fused.MultiplyAdd(x, y3, s23);
                if (TRows.Value > 3) x = Vector256.LoadUnsafe(ref a3, (nuint)p);
                if (TRows.Value > 3) s30 = Fused.MultiplyAdd(x, y0, s30);
                if (TRows.Value > 3 && TCols.Value > 1) s31 = Fused.MultiplyAdd(x, y1, s31);
                if (TRows.Value > 3 && TCols.Value > 2) s32 = Fused.MultiplyAdd(x, y2, s32);
                if (TRows.Value > 3 && TCols.Value > 3) s33 = Fused.MultiplyAdd(x, y3, s33);
            }
            Finish(s00, ref a, ref b, p, k, ref Unsafe.Add(ref c, 0 * ldc + 0), accumulate);
            if (TCols.Value > 1) Finish(s01, ref a, ref b1, p, k, ref Unsafe.Add(ref c, 0 * ldc + 1), accumulate);
            if (TCols.Value > 2) Finish(s02, ref a, ref b2, p, k, ref Unsafe.Add(ref c, 0 * ldc + 2), accumulate);
            if (TCols.Value > 3) Finish(s03, ref a, ref b3, p, k, ref Unsafe.Add(ref c, 0 * ldc + 3), accumulate);
            if (TRows.Value > 1) Finish(s10, ref a1, ref b, p, k, ref Unsafe.Add(ref c, 1 * ldc + 0), accumulate);
            if (TRows.Value > 1 && TCols.Value > 1) Finish(s11, ref a1, ref b1, p, k, ref Unsafe.Add(ref c, 1 * ldc + 1), accumulate);
            if (TRows.Value > 1 && TCols.Value > 2) Finish(s12, ref a1, ref b2, p, k, ref Unsafe.Add(ref c, 1 * ldc + 2), accumulate);
            if (TRows.Value > 1 && TCols.Value > 3) Finish(s13, ref a1, ref b3, p, k, ref Unsafe.Add(ref c, 1 * ldc + 3), accumulate);
            if (TRows.Value > 2) Finish(s20, ref a2, ref b, p, k, ref Unsafe.Add(ref c, 2 * ldc + 0), accumulate);
            if (TRows.Value > 2 && TCols.Value > 1) Finish(s21, ref a2, ref b1, p, k, ref Unsafe.Add(ref c, 2 * ldc + 1), accumulate);
            if (TRows.Value > 2 && TCols.Value > 2) Finish(s22, ref a2, ref b2, p, k, ref Unsafe.Add(ref c, 2 * ldc + 2), accumulate);
            if (TRows.Value > 2 && TCols.Value > 3) Finish(s23, ref a2, ref b3, p, k, ref Unsafe.Add(ref c, 2 * ldc + 3), accumulate);
            if (TRows.Value > 3) Finish(s30, ref a3, ref b, p, k, ref Unsafe.Add(ref c, 3 * ldc + 0), accumulate);
            if (TRows.Value > 3 && TCols.Value > 1) Finish(s31, ref a3, ref b1, p, k, ref Unsafe.Add(ref c, 3 * ldc + 1), accumulate);
            if (TRows.Value > 3 && TCols.Value > 2) Finish(s32, ref a3, ref b2, p, k, ref Unsafe.Add(ref c, 3 * ldc + 2), accumulate);
            if (TRows.Value > 3 && TCols.Value > 3) Finish(s33, ref a3, ref b3, p, k, ref Unsafe.Add(ref c, 3 * ldc + 3), accumulate);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish(Vector256<float> partial, ref float a, ref float b, nint p, int k, ref float c, bool accumulate)
        {
            float sum = Vector256.Sum(partial);
            for (; p < k; p++) sum += Unsafe.Add(ref a, p) * Unsafe.Add(ref b, p);
            c = accumulate ? c + sum : sum;
        }


        private readonly struct C5 : IConstant { public static int Value => 5; }
        private readonly struct C6 : IConstant { public static int Value => 6; }
        private readonly struct C7 : IConstant { public static int Value => 7; }
        private readonly struct C8 : IConstant { public static int Value => 8; }
    }
}
