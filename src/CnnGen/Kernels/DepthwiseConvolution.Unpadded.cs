// The masked loads and stores this file reads the row edges with (Avx512F.MaskLoad / MaskStore and their VL forms) came
// with .NET 9: the net8.0 build runs every depthwise layer through the padded kernel instead.
#if NET9_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise forward pass read straight from the input, without the padded plane the row kernel copies each channel
    /// into: undilated kernels of any size, stride 1 or 2 along the row, any stride down the columns, any padding.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A vector of output cells (oy, ox0 .. ox0 + V − 1) reads, under tap (ky, kx), input row <c>oy·sh − ph + ky</c> at
    /// columns <c>(ox0 + j)·sw − pw + kx</c>. Each tile of output rows takes a table of its input rows' addresses, where rows
    /// above and below the input point at a row of zeros on the stack, so that every output row runs in an 8-row tile (the
    /// last 8 overlapping the ones before: those rows are computed twice, to the same floats). Columns outside the input are
    /// masked loads that read zero there and never touch memory outside the row; a vector with every column inside the
    /// input (the interior of a wide row) loads plainly. At stride 2 a tap pair (kx, kx + 1) is two loads of 2V consecutive
    /// columns, split by one two-source permute each into the even columns (tap kx) and the odd ones (tap kx + 1). 3x3 at
    /// stride 1 shares each input row between the three output rows that read it.
    /// </para>
    /// <para>
    /// Each output's sum runs from the bias over the taps in order (ky, then kx) as the padded row kernel's does; a zero row
    /// or a masked lane adds what the padded plane's zeros added (0 · w), so both give the same bits. Rows narrower than a
    /// vector are one vector with a masked store. Needs AVX2 (masked loads); Vector512 needs AVX-512F.
    /// <see cref="UnpaddedPays"/> says where it runs instead of the padded kernel (its table is in benchmarks/README.md).
    /// </para>
    /// </remarks>
    internal static unsafe partial class DepthwiseConvolution
    {
        /// <summary>Whether <see cref="ForwardUnpadded"/> takes this geometry on this machine (the vector paths only).</summary>
        internal static bool UnpaddedApplies(in ConvolutionGeometry g) =>
            Avx2.IsSupported && g.DilationHeight == 1 && g.DilationWidth == 1 && (g.StrideWidth == 1 || g.StrideWidth == 2)
            && ZeroRowLength(g) <= MaxZeroRow;

        // The row of zeros lives on the stack.
        private const int MaxZeroRow = 4096;

        /// <summary>
        /// Where the unpadded kernel beats the padded row kernel (KernelBench depthwise-unpadded, 32 shapes; the table is in
        /// benchmarks/README.md, session 11): 3x3 with outputs under 8 or 10 to 15 wide, 5x5 at stride 1 under 8 wide. From 16
        /// wide, at 8 and 9, and 5x5 at stride 2 the padded kernel is ahead.
        /// </summary>
        internal static bool UnpaddedPays(in ConvolutionGeometry g) =>
            UnpaddedApplies(g) && g.KernelHeight == g.KernelWidth
            && (g.KernelWidth == 3 ? g.OutWidth < 8 || (g.OutWidth >= 10 && g.OutWidth < 16) : g.KernelWidth == 5 && g.StrideWidth == 1 && g.OutWidth < 8);

        // Even and odd lanes of two vectors taken as one of twice the length.
        private static readonly Vector512<int> Evens512 = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        private static readonly Vector512<int> Odds512 = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

        /// <summary>
        /// The forward pass by the unpadded kernels (<see cref="UnpaddedApplies"/> must hold): Vector512 where
        /// <paramref name="wide"/> and rows are more than 8 cells wide, Vector256 otherwise. Needs no scratch.
        /// </summary>
        internal static void ForwardUnpadded(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, bool wide, float low, float high)
        {
            if (!UnpaddedApplies(g)) throw new InvalidOperationException("The unpadded depthwise kernel does not take this geometry here.");
            wide = wide && Avx512F.IsSupported && g.OutWidth > 8;
            var s = new RowShape(g);
            int outHeight = g.OutHeight, kernelHeight = g.KernelHeight, sh = g.StrideHeight;
            int taps = kernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, inPlane = g.InHeight * g.InWidth, outPlane = outHeight * g.OutWidth;
            var clamp = new OutputClamp(low, high);
            // Rows above and below the input read a row of zeros, long enough for every vector's columns: the tiles then
            // take every output row alike, eight at a time (the last eight overlapping the ones before; the rows computed
            // twice get the same values).
            float* zeros = stackalloc float[ZeroRowLength(g)];
            new Span<float>(zeros, ZeroRowLength(g)).Clear();
            float* zeroRow = zeros + g.PaddingWidth;
            // Maps under 8 rows high in one tile of all their rows (as many accumulator chains as rows).
            int tileRows = Math.Min(8, outHeight);
            float** rows = stackalloc float*[7 * sh + kernelHeight];
            fixed (float* xp = x, yp = y, wp = weight)
            {
                for (int oc = 0; oc < g.OutChannels; oc++)
                {
                    float* plane = xp + (nint)(oc / multiplier) * inPlane;
                    float* w = wp + oc * taps;
                    float* output = yp + (nint)oc * outPlane;
                    float b = bias.IsEmpty ? 0f : bias[oc];
                    for (int oy = 0; ; oy += tileRows)
                    {
                        if (oy > outHeight - tileRows) oy = outHeight - tileRows;
                        int top = oy * sh - s.PaddingHeight;
                        for (int r = 0; r < (tileRows - 1) * sh + kernelHeight; r++)
                            rows[r] = (uint)(top + r) < (uint)s.InHeight ? plane + (nint)(top + r) * s.InWidth : zeroRow;
                        if (wide)
                        {
                            Row512(tileRows, s, rows, w, b, clamp, output + (nint)oy * s.OutWidth);
                        }
                        else
                        {
                            Row256(tileRows, s, rows, w, b, clamp, output + (nint)oy * s.OutWidth);
                        }
                        if (oy == outHeight - tileRows) break;
                    }
                }
            }
        }

        private static void Row512(int tileRows, in RowShape s, float** rows, float* w, float bias, OutputClamp clamp, float* o)
        {
            switch (tileRows)
            {
                case 8: Row512<C8>(s, rows, w, bias, clamp, o); break;
                case 1: Row512<C1>(s, rows, w, bias, clamp, o); break;
                case 2: Row512<C2>(s, rows, w, bias, clamp, o); break;
                case 3: Row512<C3>(s, rows, w, bias, clamp, o); break;
                case 4: Row512<C4>(s, rows, w, bias, clamp, o); break;
                case 5: Row512<C5>(s, rows, w, bias, clamp, o); break;
                case 6: Row512<C6>(s, rows, w, bias, clamp, o); break;
                case 7: Row512<C7>(s, rows, w, bias, clamp, o); break;
            }
        }

        private static void Row256(int tileRows, in RowShape s, float** rows, float* w, float bias, OutputClamp clamp, float* o)
        {
            switch (tileRows)
            {
                case 8: Row256<C8>(s, rows, w, bias, clamp, o); break;
                case 1: Row256<C1>(s, rows, w, bias, clamp, o); break;
                case 2: Row256<C2>(s, rows, w, bias, clamp, o); break;
                case 3: Row256<C3>(s, rows, w, bias, clamp, o); break;
                case 4: Row256<C4>(s, rows, w, bias, clamp, o); break;
                case 5: Row256<C5>(s, rows, w, bias, clamp, o); break;
                case 6: Row256<C6>(s, rows, w, bias, clamp, o); break;
                case 7: Row256<C7>(s, rows, w, bias, clamp, o); break;
            }
        }

        // The zero row: every vector's columns (from -pw to the last vector's reach) at most.
        private static int ZeroRowLength(in ConvolutionGeometry g) => g.OutWidth * g.StrideWidth + new RowShape(g).Reach(16) + 16;

        // The geometry's numbers a row needs.
        private readonly struct RowShape
        {
            public readonly int InHeight, InWidth, OutWidth, KernelHeight, KernelWidth, StrideHeight, StrideWidth, PaddingHeight, PaddingWidth;

            public RowShape(in ConvolutionGeometry g)
            {
                InHeight = g.InHeight; InWidth = g.InWidth; OutWidth = g.OutWidth; KernelHeight = g.KernelHeight; KernelWidth = g.KernelWidth;
                StrideHeight = g.StrideHeight; StrideWidth = g.StrideWidth; PaddingHeight = g.PaddingHeight; PaddingWidth = g.PaddingWidth;
            }

            // Columns a vector of `lanes` cells loads, from its first tap's first column (stride 2: whole pairs of vectors).
            public int Reach(int lanes) => StrideWidth == 1 ? KernelWidth - 1 + lanes : (KernelWidth - 1) / 2 * 2 + 2 * lanes;
        }

        // TRows output rows (input rows `rows[i·sh + ky]`), the whole row in vectors of 16 cells (the last overlapping the one
        // before): vectors with a column outside the input by masked loads, the others plainly.
        private static void Row512<TRows>(in RowShape s, float** rows, float* w, float bias, OutputClamp clamp, float* o)
            where TRows : struct, IConstant
        {
            int width = s.InWidth, outWidth = s.OutWidth, kernelWidth = s.KernelWidth, sw = s.StrideWidth, pw = s.PaddingWidth, reach = s.Reach(16);
            bool narrow = outWidth < 16;
            int last = narrow ? 0 : outWidth - 16;
            // Eight rows of a 3x3 stride-1 kernel: input rows shared between output rows.
            if (TRows.Value == 8 && sw == 1 && s.StrideHeight == 1 && kernelWidth == 3 && s.KernelHeight == 3)
            {
                Rows3x3_512(rows, pw, width, w, bias, clamp, o, outWidth);
                return;
            }
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last;
                int first = ox * sw - pw;
                bool masked = first < 0 || first + reach > width;
                if (sw == 1)
                {
                    if (masked) Tile512<TRows, C1, C1>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                    else Tile512<TRows, C1, C0>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                }
                else
                {
                    if (masked) Tile512<TRows, C2, C1>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                    else Tile512<TRows, C2, C0>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                }
                if (ox == last) return;
            }
        }

        // TRows rows x 16 cells whose first tap reads from `input` (column `first` of its row); TStride 1 or 2 along the row;
        // TMasked: loads masked to the columns inside the input.
        private static void Tile512<TRows, TStride, TMasked>(float** rows, int sh, int first, int width, int kernelHeight, int kernelWidth,
            float* w, float bias, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TRows : struct, IConstant where TStride : struct, IConstant where TMasked : struct, IConstant
        {
            int rows_ = TRows.Value;
            var columns = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var startColumns = columns + Vector512.Create(first);
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int ky = 0; ky < kernelHeight; ky++)
            {
                // Each output row's input row under this kernel row, at the vector's first column.
                // (Stride 2 reads them where it uses them: eight pointers and sixteen vectors live at once spill.)
                float* r0 = rows[ky] + first, r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0;
                if (TStride.Value == 1)
                {
                    if (rows_ > 1) r1 = rows[sh + ky] + first;
                    if (rows_ > 2) r2 = rows[2 * sh + ky] + first;
                    if (rows_ > 3) r3 = rows[3 * sh + ky] + first;
                    if (rows_ > 4) r4 = rows[4 * sh + ky] + first;
                    if (rows_ > 5) r5 = rows[5 * sh + ky] + first;
                    if (rows_ > 6) r6 = rows[6 * sh + ky] + first;
                    if (rows_ > 7) r7 = rows[7 * sh + ky] + first;
                }
                float* wk = w + ky * kernelWidth;
                if (TStride.Value == 1)
                {
                    for (int kx = 0; kx < kernelWidth; kx++)
                    {
                        var k = Vector512.Create(wk[kx]);
                        var m = TMasked.Value != 0 ? Inside(startColumns + Vector512.Create(kx), width) : default;
                        a0 = Tap512<TMasked>(r0 + kx, m, k, a0);
                        if (rows_ > 1) a1 = Tap512<TMasked>(r1 + kx, m, k, a1);
                        if (rows_ > 2) a2 = Tap512<TMasked>(r2 + kx, m, k, a2);
                        if (rows_ > 3) a3 = Tap512<TMasked>(r3 + kx, m, k, a3);
                        if (rows_ > 4) a4 = Tap512<TMasked>(r4 + kx, m, k, a4);
                        if (rows_ > 5) a5 = Tap512<TMasked>(r5 + kx, m, k, a5);
                        if (rows_ > 6) a6 = Tap512<TMasked>(r6 + kx, m, k, a6);
                        if (rows_ > 7) a7 = Tap512<TMasked>(r7 + kx, m, k, a7);
                    }
                }
                else
                {
                    for (int kx = 0; kx < kernelWidth; kx += 2)
                    {
                        bool both = kx + 1 < kernelWidth;
                        var even = Vector512.Create(wk[kx]);
                        var odd = Vector512.Create(both ? wk[kx + 1] : 0f);
                        var mLow = TMasked.Value != 0 ? Inside(startColumns + Vector512.Create(kx), width) : default;
                        var mHigh = TMasked.Value != 0 ? Inside(startColumns + Vector512.Create(kx + 16), width) : default;
                        a0 = Pair512<TMasked>(rows[ky] + first + kx, mLow, mHigh, even, odd, both, a0);
                        if (rows_ > 1) a1 = Pair512<TMasked>(rows[1 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a1);
                        if (rows_ > 2) a2 = Pair512<TMasked>(rows[2 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a2);
                        if (rows_ > 3) a3 = Pair512<TMasked>(rows[3 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a3);
                        if (rows_ > 4) a4 = Pair512<TMasked>(rows[4 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a4);
                        if (rows_ > 5) a5 = Pair512<TMasked>(rows[5 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a5);
                        if (rows_ > 6) a6 = Pair512<TMasked>(rows[6 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a6);
                        if (rows_ > 7) a7 = Pair512<TMasked>(rows[7 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a7);
                    }
                }
            }
            Store512<TRows>(a0, a1, a2, a3, a4, a5, a6, a7, clamp, o, outWidth, narrow);
        }

        // The tile's rows, clamped, outWidth apart; a narrow row (one vector wider than the row) stores only its cells.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store512<TRows>(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, Vector512<float> a4,
            Vector512<float> a5, Vector512<float> a6, Vector512<float> a7, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TRows : struct, IConstant
        {
            int rows = TRows.Value;
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            if (narrow)
            {
                var keep = Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(outWidth)).AsSingle();
                Avx512F.MaskStore(o, keep, none ? a0 : OutputClamp.Apply(a0, low, high));
                if (rows > 1) Avx512F.MaskStore(o + outWidth, keep, none ? a1 : OutputClamp.Apply(a1, low, high));
                if (rows > 2) Avx512F.MaskStore(o + 2 * outWidth, keep, none ? a2 : OutputClamp.Apply(a2, low, high));
                if (rows > 3) Avx512F.MaskStore(o + 3 * outWidth, keep, none ? a3 : OutputClamp.Apply(a3, low, high));
                if (rows > 4) Avx512F.MaskStore(o + 4 * outWidth, keep, none ? a4 : OutputClamp.Apply(a4, low, high));
                if (rows > 5) Avx512F.MaskStore(o + 5 * outWidth, keep, none ? a5 : OutputClamp.Apply(a5, low, high));
                if (rows > 6) Avx512F.MaskStore(o + 6 * outWidth, keep, none ? a6 : OutputClamp.Apply(a6, low, high));
                if (rows > 7) Avx512F.MaskStore(o + 7 * outWidth, keep, none ? a7 : OutputClamp.Apply(a7, low, high));
                return;
            }
            OutputClamp.Store(a0, none, low, high, ref *o);
            if (rows > 1) OutputClamp.Store(a1, none, low, high, ref o[outWidth]);
            if (rows > 2) OutputClamp.Store(a2, none, low, high, ref o[2 * outWidth]);
            if (rows > 3) OutputClamp.Store(a3, none, low, high, ref o[3 * outWidth]);
            if (rows > 4) OutputClamp.Store(a4, none, low, high, ref o[4 * outWidth]);
            if (rows > 5) OutputClamp.Store(a5, none, low, high, ref o[5 * outWidth]);
            if (rows > 6) OutputClamp.Store(a6, none, low, high, ref o[6 * outWidth]);
            if (rows > 7) OutputClamp.Store(a7, none, low, high, ref o[7 * outWidth]);
        }

        // The tile's rows, clamped, outWidth apart; a narrow row (one vector wider than the row) stores only its cells.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store256<TRows>(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, Vector256<float> a4,
            Vector256<float> a5, Vector256<float> a6, Vector256<float> a7, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TRows : struct, IConstant
        {
            int rows = TRows.Value;
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            bool none = clamp.IsNone;
            if (narrow)
            {
                var keep = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(outWidth)).AsSingle();
                StoreMasked(o, keep, none ? a0 : OutputClamp.Apply(a0, low, high));
                if (rows > 1) StoreMasked(o + outWidth, keep, none ? a1 : OutputClamp.Apply(a1, low, high));
                if (rows > 2) StoreMasked(o + 2 * outWidth, keep, none ? a2 : OutputClamp.Apply(a2, low, high));
                if (rows > 3) StoreMasked(o + 3 * outWidth, keep, none ? a3 : OutputClamp.Apply(a3, low, high));
                if (rows > 4) StoreMasked(o + 4 * outWidth, keep, none ? a4 : OutputClamp.Apply(a4, low, high));
                if (rows > 5) StoreMasked(o + 5 * outWidth, keep, none ? a5 : OutputClamp.Apply(a5, low, high));
                if (rows > 6) StoreMasked(o + 6 * outWidth, keep, none ? a6 : OutputClamp.Apply(a6, low, high));
                if (rows > 7) StoreMasked(o + 7 * outWidth, keep, none ? a7 : OutputClamp.Apply(a7, low, high));
                return;
            }
            OutputClamp.Store(a0, none, low, high, ref *o);
            if (rows > 1) OutputClamp.Store(a1, none, low, high, ref o[outWidth]);
            if (rows > 2) OutputClamp.Store(a2, none, low, high, ref o[2 * outWidth]);
            if (rows > 3) OutputClamp.Store(a3, none, low, high, ref o[3 * outWidth]);
            if (rows > 4) OutputClamp.Store(a4, none, low, high, ref o[4 * outWidth]);
            if (rows > 5) OutputClamp.Store(a5, none, low, high, ref o[5 * outWidth]);
            if (rows > 6) OutputClamp.Store(a6, none, low, high, ref o[6 * outWidth]);
            if (rows > 7) OutputClamp.Store(a7, none, low, high, ref o[7 * outWidth]);
        }

        // Eight interior output rows x one vector of a 3x3 stride-1 kernel: each of the ten input rows is loaded once per column
        // shift and feeds the (up to) three output rows that read it (30 loads for 72 multiply-adds); each output's sum runs
        // over the taps in order (ky, then kx), as in the padded kernel's Rows3x3512.
        private static void Rows3x3_512(float** rows, int pw, int width, float* w, float bias, OutputClamp clamp, float* o, int outWidth)
        {
            // The weights broadcast once for the whole strip of eight rows.
            var w00 = Vector512.Create(w[0]); var w01 = Vector512.Create(w[1]); var w02 = Vector512.Create(w[2]);
            var w10 = Vector512.Create(w[3]); var w11 = Vector512.Create(w[4]); var w12 = Vector512.Create(w[5]);
            var w20 = Vector512.Create(w[6]); var w21 = Vector512.Create(w[7]); var w22 = Vector512.Create(w[8]);
            bool narrow = outWidth < 16;
            int last = narrow ? 0 : outWidth - 16;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last;
                int first = ox - pw;
                if (first < 0 || first + 18 > width)
                    Tile3x3_512<C1>(rows, first, width, w00, w01, w02, w10, w11, w12, w20, w21, w22, bias, clamp, o + ox, outWidth, narrow);
                else
                    Tile3x3_512<C0>(rows, first, width, w00, w01, w02, w10, w11, w12, w20, w21, w22, bias, clamp, o + ox, outWidth, narrow);
                if (ox == last) return;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile3x3_512<TMasked>(float** rows, int first, int width, Vector512<float> w00, Vector512<float> w01, Vector512<float> w02,
            Vector512<float> w10, Vector512<float> w11, Vector512<float> w12, Vector512<float> w20, Vector512<float> w21, Vector512<float> w22,
            float bias, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TMasked : struct, IConstant
        {
            var columns = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector512<float> m0 = default, m1 = default, m2 = default;
            if (TMasked.Value != 0)
            {
                var start = columns + Vector512.Create(first);
                m0 = Inside(start, width);
                m1 = Inside(start + Vector512.Create(1), width);
                m2 = Inside(start + Vector512.Create(2), width);
            }
            var a0 = Vector512.Create(bias);
            Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            Vector512<float> v0, v1, v2;
            float* row = rows[0] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w00, w01, w02);
            row = rows[1] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w10, w11, w12);
            a1 = KernelRow(a1, v0, v1, v2, w00, w01, w02);
            row = rows[2] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w20, w21, w22);
            a1 = KernelRow(a1, v0, v1, v2, w10, w11, w12);
            a2 = KernelRow(a2, v0, v1, v2, w00, w01, w02);
            row = rows[3] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a1 = KernelRow(a1, v0, v1, v2, w20, w21, w22);
            a2 = KernelRow(a2, v0, v1, v2, w10, w11, w12);
            a3 = KernelRow(a3, v0, v1, v2, w00, w01, w02);
            row = rows[4] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a2 = KernelRow(a2, v0, v1, v2, w20, w21, w22);
            a3 = KernelRow(a3, v0, v1, v2, w10, w11, w12);
            a4 = KernelRow(a4, v0, v1, v2, w00, w01, w02);
            row = rows[5] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a3 = KernelRow(a3, v0, v1, v2, w20, w21, w22);
            a4 = KernelRow(a4, v0, v1, v2, w10, w11, w12);
            a5 = KernelRow(a5, v0, v1, v2, w00, w01, w02);
            row = rows[6] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a4 = KernelRow(a4, v0, v1, v2, w20, w21, w22);
            a5 = KernelRow(a5, v0, v1, v2, w10, w11, w12);
            a6 = KernelRow(a6, v0, v1, v2, w00, w01, w02);
            row = rows[7] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a5 = KernelRow(a5, v0, v1, v2, w20, w21, w22);
            a6 = KernelRow(a6, v0, v1, v2, w10, w11, w12);
            a7 = KernelRow(a7, v0, v1, v2, w00, w01, w02);
            row = rows[8] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a6 = KernelRow(a6, v0, v1, v2, w20, w21, w22);
            a7 = KernelRow(a7, v0, v1, v2, w10, w11, w12);
            row = rows[9] + first;
            v0 = Load512<TMasked>(row, m0); v1 = Load512<TMasked>(row + 1, m1); v2 = Load512<TMasked>(row + 2, m2);
            a7 = KernelRow(a7, v0, v1, v2, w20, w21, w22);
            Store512<C8>(a0, a1, a2, a3, a4, a5, a6, a7, clamp, o, outWidth, narrow);
        }

        // Eight interior output rows x one vector of a 3x3 stride-1 kernel: each of the ten input rows is loaded once per column
        // shift and feeds the (up to) three output rows that read it (30 loads for 72 multiply-adds); each output's sum runs
        // over the taps in order (ky, then kx), as in the padded kernel's Rows3x3256.
        private static void Rows3x3_256(float** rows, int pw, int width, float* w, float bias, OutputClamp clamp, float* o, int outWidth)
        {
            // The weights broadcast once for the whole strip of eight rows.
            var w00 = Vector256.Create(w[0]); var w01 = Vector256.Create(w[1]); var w02 = Vector256.Create(w[2]);
            var w10 = Vector256.Create(w[3]); var w11 = Vector256.Create(w[4]); var w12 = Vector256.Create(w[5]);
            var w20 = Vector256.Create(w[6]); var w21 = Vector256.Create(w[7]); var w22 = Vector256.Create(w[8]);
            bool narrow = outWidth < 8;
            int last = narrow ? 0 : outWidth - 8;
            for (int ox = 0; ; ox += 8)
            {
                if (ox > last) ox = last;
                int first = ox - pw;
                if (first < 0 || first + 10 > width)
                    Tile3x3_256<C1>(rows, first, width, w00, w01, w02, w10, w11, w12, w20, w21, w22, bias, clamp, o + ox, outWidth, narrow);
                else
                    Tile3x3_256<C0>(rows, first, width, w00, w01, w02, w10, w11, w12, w20, w21, w22, bias, clamp, o + ox, outWidth, narrow);
                if (ox == last) return;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile3x3_256<TMasked>(float** rows, int first, int width, Vector256<float> w00, Vector256<float> w01, Vector256<float> w02,
            Vector256<float> w10, Vector256<float> w11, Vector256<float> w12, Vector256<float> w20, Vector256<float> w21, Vector256<float> w22,
            float bias, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TMasked : struct, IConstant
        {
            var columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            Vector256<float> m0 = default, m1 = default, m2 = default;
            if (TMasked.Value != 0)
            {
                var start = columns + Vector256.Create(first);
                m0 = Inside(start, width);
                m1 = Inside(start + Vector256.Create(1), width);
                m2 = Inside(start + Vector256.Create(2), width);
            }
            var a0 = Vector256.Create(bias);
            Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            Vector256<float> v0, v1, v2;
            float* row = rows[0] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w00, w01, w02);
            row = rows[1] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w10, w11, w12);
            a1 = KernelRow(a1, v0, v1, v2, w00, w01, w02);
            row = rows[2] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a0 = KernelRow(a0, v0, v1, v2, w20, w21, w22);
            a1 = KernelRow(a1, v0, v1, v2, w10, w11, w12);
            a2 = KernelRow(a2, v0, v1, v2, w00, w01, w02);
            row = rows[3] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a1 = KernelRow(a1, v0, v1, v2, w20, w21, w22);
            a2 = KernelRow(a2, v0, v1, v2, w10, w11, w12);
            a3 = KernelRow(a3, v0, v1, v2, w00, w01, w02);
            row = rows[4] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a2 = KernelRow(a2, v0, v1, v2, w20, w21, w22);
            a3 = KernelRow(a3, v0, v1, v2, w10, w11, w12);
            a4 = KernelRow(a4, v0, v1, v2, w00, w01, w02);
            row = rows[5] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a3 = KernelRow(a3, v0, v1, v2, w20, w21, w22);
            a4 = KernelRow(a4, v0, v1, v2, w10, w11, w12);
            a5 = KernelRow(a5, v0, v1, v2, w00, w01, w02);
            row = rows[6] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a4 = KernelRow(a4, v0, v1, v2, w20, w21, w22);
            a5 = KernelRow(a5, v0, v1, v2, w10, w11, w12);
            a6 = KernelRow(a6, v0, v1, v2, w00, w01, w02);
            row = rows[7] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a5 = KernelRow(a5, v0, v1, v2, w20, w21, w22);
            a6 = KernelRow(a6, v0, v1, v2, w10, w11, w12);
            a7 = KernelRow(a7, v0, v1, v2, w00, w01, w02);
            row = rows[8] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a6 = KernelRow(a6, v0, v1, v2, w20, w21, w22);
            a7 = KernelRow(a7, v0, v1, v2, w10, w11, w12);
            row = rows[9] + first;
            v0 = Load256<TMasked>(row, m0); v1 = Load256<TMasked>(row + 1, m1); v2 = Load256<TMasked>(row + 2, m2);
            a7 = KernelRow(a7, v0, v1, v2, w20, w21, w22);
            Store256<C8>(a0, a1, a2, a3, a4, a5, a6, a7, clamp, o, outWidth, narrow);
        }

        // Lanes whose column lies in [0, width), as a load mask.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Inside(Vector512<int> columns, int width) =>
            (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Inside(Vector256<int> columns, int width) =>
            (Vector256.GreaterThanOrEqual(columns, Vector256<int>.Zero) & Vector256.LessThan(columns, Vector256.Create(width))).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Load512<TMasked>(float* at, Vector512<float> m) where TMasked : struct, IConstant =>
            TMasked.Value != 0 ? Avx512F.MaskLoad(at, m, Vector512<float>.Zero) : Vector512.Load(at);

        // One stride-1 tap on one row.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Tap512<TMasked>(float* at, Vector512<float> m, Vector512<float> k, Vector512<float> a) where TMasked : struct, IConstant =>
            Fused.MultiplyAdd(Load512<TMasked>(at, m), k, a);

        // A stride-2 tap pair on one row: 32 consecutive columns split into the evens (tap kx) and, where the kernel has
        // that tap, the odds (tap kx + 1).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Pair512<TMasked>(float* at, Vector512<float> mLow, Vector512<float> mHigh, Vector512<float> even, Vector512<float> odd,
            bool both, Vector512<float> a) where TMasked : struct, IConstant
        {
            var lo = Load512<TMasked>(at, mLow);
            var hi = Load512<TMasked>(at + 16, mHigh);
            a = Fused.MultiplyAdd(Avx512F.PermuteVar16x32x2(lo, Evens512, hi), even, a);
            return both ? Fused.MultiplyAdd(Avx512F.PermuteVar16x32x2(lo, Odds512, hi), odd, a) : a;
        }

        // The same on Vector256: vectors of 8 cells.
        private static void Row256<TRows>(in RowShape s, float** rows, float* w, float bias, OutputClamp clamp, float* o)
            where TRows : struct, IConstant
        {
            int width = s.InWidth, outWidth = s.OutWidth, kernelWidth = s.KernelWidth, sw = s.StrideWidth, pw = s.PaddingWidth, reach = s.Reach(8);
            bool narrow = outWidth < 8;
            int last = narrow ? 0 : outWidth - 8;
            if (TRows.Value == 8 && sw == 1 && s.StrideHeight == 1 && kernelWidth == 3 && s.KernelHeight == 3)
            {
                Rows3x3_256(rows, pw, width, w, bias, clamp, o, outWidth);
                return;
            }
            for (int ox = 0; ; ox += 8)
            {
                if (ox > last) ox = last;
                int first = ox * sw - pw;
                bool masked = first < 0 || first + reach > width;
                if (sw == 1)
                {
                    if (masked) Tile256<TRows, C1, C1>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                    else Tile256<TRows, C1, C0>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                }
                else
                {
                    if (masked) Tile256<TRows, C2, C1>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                    else Tile256<TRows, C2, C0>(rows, s.StrideHeight, first, width, s.KernelHeight, kernelWidth, w, bias, clamp, o + ox, outWidth, narrow);
                }
                if (ox == last) return;
            }
        }

        private static void Tile256<TRows, TStride, TMasked>(float** rows, int sh, int first, int width, int kernelHeight, int kernelWidth,
            float* w, float bias, OutputClamp clamp, float* o, int outWidth, bool narrow)
            where TRows : struct, IConstant where TStride : struct, IConstant where TMasked : struct, IConstant
        {
            int rows_ = TRows.Value;
            var columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var startColumns = columns + Vector256.Create(first);
            var a0 = Vector256.Create(bias);
            Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int ky = 0; ky < kernelHeight; ky++)
            {
                // Each output row's input row under this kernel row, at the vector's first column.
                // (Stride 2 reads them where it uses them: eight pointers and sixteen vectors live at once spill.)
                float* r0 = rows[ky] + first, r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0;
                if (TStride.Value == 1)
                {
                    if (rows_ > 1) r1 = rows[sh + ky] + first;
                    if (rows_ > 2) r2 = rows[2 * sh + ky] + first;
                    if (rows_ > 3) r3 = rows[3 * sh + ky] + first;
                    if (rows_ > 4) r4 = rows[4 * sh + ky] + first;
                    if (rows_ > 5) r5 = rows[5 * sh + ky] + first;
                    if (rows_ > 6) r6 = rows[6 * sh + ky] + first;
                    if (rows_ > 7) r7 = rows[7 * sh + ky] + first;
                }
                float* wk = w + ky * kernelWidth;
                if (TStride.Value == 1)
                {
                    for (int kx = 0; kx < kernelWidth; kx++)
                    {
                        var k = Vector256.Create(wk[kx]);
                        var m = TMasked.Value != 0 ? Inside(startColumns + Vector256.Create(kx), width) : default;
                        a0 = Tap256<TMasked>(r0 + kx, m, k, a0);
                        if (rows_ > 1) a1 = Tap256<TMasked>(r1 + kx, m, k, a1);
                        if (rows_ > 2) a2 = Tap256<TMasked>(r2 + kx, m, k, a2);
                        if (rows_ > 3) a3 = Tap256<TMasked>(r3 + kx, m, k, a3);
                        if (rows_ > 4) a4 = Tap256<TMasked>(r4 + kx, m, k, a4);
                        if (rows_ > 5) a5 = Tap256<TMasked>(r5 + kx, m, k, a5);
                        if (rows_ > 6) a6 = Tap256<TMasked>(r6 + kx, m, k, a6);
                        if (rows_ > 7) a7 = Tap256<TMasked>(r7 + kx, m, k, a7);
                    }
                }
                else
                {
                    for (int kx = 0; kx < kernelWidth; kx += 2)
                    {
                        bool both = kx + 1 < kernelWidth;
                        var even = Vector256.Create(wk[kx]);
                        var odd = Vector256.Create(both ? wk[kx + 1] : 0f);
                        var mLow = TMasked.Value != 0 ? Inside(startColumns + Vector256.Create(kx), width) : default;
                        var mHigh = TMasked.Value != 0 ? Inside(startColumns + Vector256.Create(kx + 8), width) : default;
                        a0 = Pair256<TMasked>(rows[ky] + first + kx, mLow, mHigh, even, odd, both, a0);
                        if (rows_ > 1) a1 = Pair256<TMasked>(rows[1 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a1);
                        if (rows_ > 2) a2 = Pair256<TMasked>(rows[2 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a2);
                        if (rows_ > 3) a3 = Pair256<TMasked>(rows[3 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a3);
                        if (rows_ > 4) a4 = Pair256<TMasked>(rows[4 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a4);
                        if (rows_ > 5) a5 = Pair256<TMasked>(rows[5 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a5);
                        if (rows_ > 6) a6 = Pair256<TMasked>(rows[6 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a6);
                        if (rows_ > 7) a7 = Pair256<TMasked>(rows[7 * sh + ky] + first + kx, mLow, mHigh, even, odd, both, a7);
                    }
                }
            }
            Store256<TRows>(a0, a1, a2, a3, a4, a5, a6, a7, clamp, o, outWidth, narrow);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Load256<TMasked>(float* at, Vector256<float> m) where TMasked : struct, IConstant =>
            TMasked.Value != 0 ? LoadMasked(at, m) : Vector256.Load(at);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Tap256<TMasked>(float* at, Vector256<float> m, Vector256<float> k, Vector256<float> a) where TMasked : struct, IConstant =>
            Fused.MultiplyAdd(Load256<TMasked>(at, m), k, a);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Pair256<TMasked>(float* at, Vector256<float> mLow, Vector256<float> mHigh, Vector256<float> even, Vector256<float> odd,
            bool both, Vector256<float> a) where TMasked : struct, IConstant
        {
            var lo = TMasked.Value != 0 ? LoadMasked(at, mLow) : Vector256.Load(at);
            var hi = TMasked.Value != 0 ? LoadMasked(at + 8, mHigh) : Vector256.Load(at + 8);
            a = Fused.MultiplyAdd(Split256(lo, hi, odd: false), even, a);
            return both ? Fused.MultiplyAdd(Split256(lo, hi, odd: true), odd, a) : a;
        }

        // The even (or odd) lanes of lo:hi, in order.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Split256(Vector256<float> lo, Vector256<float> hi, bool odd)
        {
            if (Avx512F.VL.IsSupported)
                return Avx512F.VL.PermuteVar8x32x2(lo, odd ? Vector256.Create(1, 3, 5, 7, 9, 11, 13, 15) : Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14), hi);
            // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], then the middle 64-bit pairs swapped.
            var mixed = odd ? Avx.Shuffle(lo, hi, 0b11_01_11_01) : Avx.Shuffle(lo, hi, 0b10_00_10_00);
            return Avx2.Permute4x64(mixed.AsDouble(), 0b11_01_10_00).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> LoadMasked(float* at, Vector256<float> mask) =>
            Avx512F.VL.IsSupported ? Avx512F.VL.MaskLoad(at, mask, Vector256<float>.Zero) : Avx.MaskLoad(at, mask);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreMasked(float* at, Vector256<float> mask, Vector256<float> value)
        {
            if (Avx512F.VL.IsSupported) Avx512F.VL.MaskStore(at, mask, value);
            else Avx.MaskStore(at, mask, value);
        }
    }
}
#endif
