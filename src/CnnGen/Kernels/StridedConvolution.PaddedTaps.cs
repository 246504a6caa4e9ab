using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        /// <summary>
        /// Whether ForwardLanes512's tiles of 3x3 stride-2 layers at padding 1 leave out the products with the padding
        /// (KernelBench <c>strided-padding</c> turns it off to compare).
        /// </summary>
        internal static bool SkipsPaddingProducts = true;

        // On small outputs much of a stride-2 3x3 tile's work multiplies the padding: the top row's first kernel row and the
        // left column's first kernel column read it (and the bottom row's last kernel row, the right column's last kernel
        // column, where the map's size is odd). A 2x2 output from 4x4 computes 36 products a cell block of which 25 read the
        // map; a 4x4 output 144 of which 121. These tiles leave those out, summing the others in Tile's order (input channel,
        // kernel row, kernel column), so the values are the same: adding a zero product changes none (but a zero sum's sign).
        private static bool SkipsPadding(in Geometry g) => SkipsPaddingProducts && g.Kernel == 3 && g.Stride == 2 && g.Padding == 1;

        // A ForwardLanes512 tile (rows whole rows of count cells, or one row of count cells from ox) with the padding's products
        // left out, its sizes made constants.
        private static void PaddedTile<TBlocks>(int count, int rows, int oy, int ox, ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g) where TBlocks : struct, IConstant
        {
            // Padded row 2·oy + ky is the top padding for oy = 0, ky = 0, and the bottom padding (row H + 1) for ky = 2 where
            // 2·oy + 2 = H + 1; the same for columns.
            var edges = new Edges(oy == 0, 2 * (oy + rows - 1) + 2 == g.Height + 1, ox == 0, 2 * (ox + count - 1) + 2 == g.Width + 1);
            switch (rows * 16 + count)
            {
                case 16 + 1: PaddedTile<TBlocks, C1, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 2: PaddedTile<TBlocks, C2, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 3: PaddedTile<TBlocks, C3, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 4: PaddedTile<TBlocks, C4, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 5: PaddedTile<TBlocks, C5, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 6: PaddedTile<TBlocks, C6, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 7: PaddedTile<TBlocks, C7, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 16 + 8: PaddedTile<TBlocks, C8, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 32 + 1: PaddedTile<TBlocks, C1, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 32 + 2: PaddedTile<TBlocks, C2, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 32 + 3: PaddedTile<TBlocks, C3, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 32 + 4: PaddedTile<TBlocks, C4, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 48 + 1: PaddedTile<TBlocks, C1, C3>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 48 + 2: PaddedTile<TBlocks, C2, C3>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 64 + 1: PaddedTile<TBlocks, C1, C4>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                case 64 + 2: PaddedTile<TBlocks, C2, C4>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, edges); break;
                default: throw new ArgumentOutOfRangeException(nameof(count), $"A tile of {rows} rows of {count} cells: ForwardLanes512 takes up to 8 cells, rows of up to 4 cells when it takes several.");
            }
        }

        // Which sides of a tile read the padding: the first row's kernel row 0, the last row's kernel row 2, the first
        // column's kernel column 0, the last column's kernel column 2.
        private readonly record struct Edges(bool Top, bool Bottom, bool Left, bool Right);

        // TRows rows of TWidth cells (up to 8 cells; rows 3 and 4 only 2 cells wide) of TBlocks blocks of 16 channels, from
        // the bias, without the padding's products; [cell][16 channels] into out0 (out1 the second block's).
        private static void PaddedTile<TBlocks, TWidth, TRows>(ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g, Edges edges)
            where TBlocks : struct, IConstant where TWidth : struct, IConstant where TRows : struct, IConstant
        {
            // Row r's cell c in ar[c] (cr[c] the second block): row 0 up to 8 cells, row 1 up to 4, rows 2 and 3 up to 2.
            var a00 = b0; var a01 = b0; var a02 = b0; var a03 = b0; var a04 = b0; var a05 = b0; var a06 = b0; var a07 = b0;
            var a10 = b0; var a11 = b0; var a12 = b0; var a13 = b0; var a20 = b0; var a21 = b0; var a30 = b0; var a31 = b0;
            var c00 = b1; var c01 = b1; var c02 = b1; var c03 = b1; var c04 = b1; var c05 = b1; var c06 = b1; var c07 = b1;
            var c10 = b1; var c11 = b1; var c12 = b1; var c13 = b1; var c20 = b1; var c21 = b1; var c30 = b1; var c31 = b1;
            Vector512<float> unused = default;
            int inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth;
            bool top = edges.Top, bottom = edges.Bottom, left = edges.Left, right = edges.Right;
            nint row1 = 2 * pw, row2 = 4 * pw, row3 = 6 * pw; // tile row r starts 2r padded rows down
            nuint t = 0;
            for (int ic = 0; ic < inChannels; ic++, t += 9 * 16)
            {
                ref float x = ref Unsafe.Add(ref origin, ic * plane);
                for (int ky = 0; ky < 3; ky++)
                {
                    nuint k = t + (nuint)(ky * 48);
                    var wa0 = Vector512.LoadUnsafe(ref w0, k); var wa1 = Vector512.LoadUnsafe(ref w0, k + 16); var wa2 = Vector512.LoadUnsafe(ref w0, k + 32);
                    var wb0 = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref w1, k) : default;
                    var wb1 = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref w1, k + 16) : default;
                    var wb2 = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref w1, k + 32) : default;
                    ref float xk = ref Unsafe.Add(ref x, ky * pw);
                    if (ky != 0 || !top)
                    {
                        if (TRows.Value > 1 || ky != 2 || !bottom)
                            ThreeTapsOfRow<TBlocks, TWidth>(ref xk, wa0, wa1, wa2, wb0, wb1, wb2, left, right,
                                ref a00, ref a01, ref a02, ref a03, ref a04, ref a05, ref a06, ref a07, ref c00, ref c01, ref c02, ref c03, ref c04, ref c05, ref c06, ref c07);
                    }
                    if (TRows.Value > 1 && (TRows.Value > 2 || ky != 2 || !bottom))
                        ThreeTapsOfRow<TBlocks, TWidth>(ref Unsafe.Add(ref xk, row1), wa0, wa1, wa2, wb0, wb1, wb2, left, right,
                            ref a10, ref a11, ref a12, ref a13, ref unused, ref unused, ref unused, ref unused, ref c10, ref c11, ref c12, ref c13, ref unused, ref unused, ref unused, ref unused);
                    if (TRows.Value > 2 && (TRows.Value > 3 || ky != 2 || !bottom))
                        ThreeTapsOfRow<TBlocks, TWidth>(ref Unsafe.Add(ref xk, row2), wa0, wa1, wa2, wb0, wb1, wb2, left, right,
                            ref a20, ref a21, ref unused, ref unused, ref unused, ref unused, ref unused, ref unused, ref c20, ref c21, ref unused, ref unused, ref unused, ref unused, ref unused, ref unused);
                    if (TRows.Value > 3 && (ky != 2 || !bottom))
                        ThreeTapsOfRow<TBlocks, TWidth>(ref Unsafe.Add(ref xk, row3), wa0, wa1, wa2, wb0, wb1, wb2, left, right,
                            ref a30, ref a31, ref unused, ref unused, ref unused, ref unused, ref unused, ref unused, ref c30, ref c31, ref unused, ref unused, ref unused, ref unused, ref unused, ref unused);
                }
            }
            int w = TWidth.Value;
            StoreRow<TWidth>(ref out0, a00, a01, a02, a03, a04, a05, a06, a07);
            if (TRows.Value > 1) StoreRow<TWidth>(ref Unsafe.Add(ref out0, w * 16), a10, a11, a12, a13, a13, a13, a13, a13);
            if (TRows.Value > 2) StoreRow<TWidth>(ref Unsafe.Add(ref out0, 2 * w * 16), a20, a21, a21, a21, a21, a21, a21, a21);
            if (TRows.Value > 3) StoreRow<TWidth>(ref Unsafe.Add(ref out0, 3 * w * 16), a30, a31, a31, a31, a31, a31, a31, a31);
            if (TBlocks.Value > 1)
            {
                StoreRow<TWidth>(ref out1, c00, c01, c02, c03, c04, c05, c06, c07);
                if (TRows.Value > 1) StoreRow<TWidth>(ref Unsafe.Add(ref out1, w * 16), c10, c11, c12, c13, c13, c13, c13, c13);
                if (TRows.Value > 2) StoreRow<TWidth>(ref Unsafe.Add(ref out1, 2 * w * 16), c20, c21, c21, c21, c21, c21, c21, c21);
                if (TRows.Value > 3) StoreRow<TWidth>(ref Unsafe.Add(ref out1, 3 * w * 16), c30, c31, c31, c31, c31, c31, c31, c31);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow<TWidth>(ref float cells, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
            Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7) where TWidth : struct, IConstant
        {
            v0.StoreUnsafe(ref cells, 0);
            if (TWidth.Value > 1) v1.StoreUnsafe(ref cells, 16);
            if (TWidth.Value > 2) v2.StoreUnsafe(ref cells, 32);
            if (TWidth.Value > 3) v3.StoreUnsafe(ref cells, 48);
            if (TWidth.Value > 4) v4.StoreUnsafe(ref cells, 64);
            if (TWidth.Value > 5) v5.StoreUnsafe(ref cells, 80);
            if (TWidth.Value > 6) v6.StoreUnsafe(ref cells, 96);
            if (TWidth.Value > 7) v7.StoreUnsafe(ref cells, 112);
        }

        // One padded input row (from the tile's first cell's column) into one output row of TWidth cells at stride 2
        // through a kernel row's three taps: cell c reads columns 2c, 2c + 1, 2c + 2, so column 2c + 2 feeds cell c through
        // tap 2 and cell c + 1 through tap 0. Taken in column order each cell gets its taps in order 0, 1, 2. Column 0 is the
        // left padding where left (the first cell's tap 0 left out), the last column the right padding where right.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ThreeTapsOfRow<TBlocks, TWidth>(ref float x, Vector512<float> wa0, Vector512<float> wa1, Vector512<float> wa2,
            Vector512<float> wb0, Vector512<float> wb1, Vector512<float> wb2, bool left, bool right,
            ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
            ref Vector512<float> a4, ref Vector512<float> a5, ref Vector512<float> a6, ref Vector512<float> a7,
            ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3,
            ref Vector512<float> c4, ref Vector512<float> c5, ref Vector512<float> c6, ref Vector512<float> c7)
            where TBlocks : struct, IConstant where TWidth : struct, IConstant
        {
            if (!left) Add<TBlocks>(Vector512.Create(x), wa0, wb0, ref a0, ref c0);
            Cell<TBlocks, TWidth>(ref x, 0, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a0, ref c0, ref a1, ref c1);
            if (TWidth.Value > 1) Cell<TBlocks, TWidth>(ref x, 1, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a1, ref c1, ref a2, ref c2);
            if (TWidth.Value > 2) Cell<TBlocks, TWidth>(ref x, 2, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a2, ref c2, ref a3, ref c3);
            if (TWidth.Value > 3) Cell<TBlocks, TWidth>(ref x, 3, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a3, ref c3, ref a4, ref c4);
            if (TWidth.Value > 4) Cell<TBlocks, TWidth>(ref x, 4, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a4, ref c4, ref a5, ref c5);
            if (TWidth.Value > 5) Cell<TBlocks, TWidth>(ref x, 5, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a5, ref c5, ref a6, ref c6);
            if (TWidth.Value > 6) Cell<TBlocks, TWidth>(ref x, 6, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a6, ref c6, ref a7, ref c7);
            if (TWidth.Value > 7) Cell<TBlocks, TWidth>(ref x, 7, wa0, wa1, wa2, wb0, wb1, wb2, right, ref a7, ref c7, ref a7, ref c7);
        }

        // Cell c's tap 1 (column 2c + 1), then column 2c + 2: cell c's tap 2 and, unless c is the last cell, the next cell's
        // tap 0; the last cell's tap 2 left out where it reads the right padding.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Cell<TBlocks, TWidth>(ref float x, int c, Vector512<float> wa0, Vector512<float> wa1, Vector512<float> wa2,
            Vector512<float> wb0, Vector512<float> wb1, Vector512<float> wb2, bool right,
            ref Vector512<float> a, ref Vector512<float> ac, ref Vector512<float> next, ref Vector512<float> nextC)
            where TBlocks : struct, IConstant where TWidth : struct, IConstant
        {
            Add<TBlocks>(Vector512.Create(Unsafe.Add(ref x, 2 * c + 1)), wa1, wb1, ref a, ref ac);
            if (c + 1 < TWidth.Value)
            {
                var s = Vector512.Create(Unsafe.Add(ref x, 2 * c + 2));
                Add<TBlocks>(s, wa2, wb2, ref a, ref ac);
                Add<TBlocks>(s, wa0, wb0, ref next, ref nextC);
            }
            else if (!right) Add<TBlocks>(Vector512.Create(Unsafe.Add(ref x, 2 * c + 2)), wa2, wb2, ref a, ref ac);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Add<TBlocks>(Vector512<float> s, Vector512<float> wa, Vector512<float> wb, ref Vector512<float> a, ref Vector512<float> c)
            where TBlocks : struct, IConstant
        {
            a = Fused.MultiplyAdd(s, wa, a);
            if (TBlocks.Value > 1) c = Fused.MultiplyAdd(s, wb, c);
        }
    }
}
