using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    public static partial class DirectConvolution
    {
        /// <summary>
        /// Whether the lanes kernel's pairs of blocks skip the products with the zero padding of 3x3 layers at padding 1;
        /// KernelBench <c>lanes-pairs</c> turns it off to compare.
        /// </summary>
        internal static bool SkipsPaddingProducts = true;

        // On the small maps the pairs of blocks take (rows of 2 to 4 cells), much of a padded tile's work multiplies the
        // padding: 3x3 at padding 1 on a 3x3 map reads the padding in 32 of a cell block's 81 products, on 2x2 in 20 of 36,
        // on 4x4 in 44 of 144. Those layers run at the FMA rate (AlexNet's 3x3 layers, VGG's last blocks), so the products
        // with zeros are a third of their time or more. These tiles leave them out: each input row feeds only the cells
        // whose taps read it, and the first (last) tile row skips the kernel's top (bottom) row where the map ends there.
        // Every other product is summed in LanesTilePair's order (input channel, kernel row, kernel column), so the values
        // are the same; adding a zero product changes none of them (but the sign of a zero sum).
        private static bool SkipsPadding(in Geometry g) =>
            SkipsPaddingProducts && g.KernelHeight == 3 && g.KernelWidth == 3 && g.PaddingHeight == 1 && g.PaddingWidth == 1;

        // A tile of rows rows from output row oy (rows of 2 to 4 cells) by PaddedTilePair, its sizes and edges made constants.
        private static void PaddedTilePair(ref float row0, int pw, ref float packed, int blockStride, Vector512<float> biasA, Vector512<float> biasB,
            ref float cellsA, ref float cellsB, int oy, int rows, int outWidth, in Geometry g)
        {
            int edges = (oy == 0 ? 1 : 0) | (oy + rows == g.OutHeight ? 2 : 0);
            if (outWidth == 4) PaddedTilePair<C4>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, rows, edges, outWidth, g);
            else if (outWidth == 3) PaddedTilePair<C3>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, rows, edges, outWidth, g);
            else PaddedTilePair<C2>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, rows, edges, outWidth, g);
        }

        private static void PaddedTilePair<TCells>(ref float row0, int pw, ref float packed, int blockStride, Vector512<float> biasA, Vector512<float> biasB,
            ref float cellsA, ref float cellsB, int rows, int edges, int outWidth, in Geometry g)
            where TCells : struct, IConstant
        {
            if (rows == 3) PaddedTilePair<TCells, C3>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, edges, outWidth, g);
            else if (rows == 2) PaddedTilePair<TCells, C2>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, edges, outWidth, g);
            else PaddedTilePair<TCells, C1>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, edges, outWidth, g);
        }

        private static void PaddedTilePair<TCells, TRows>(ref float row0, int pw, ref float packed, int blockStride, Vector512<float> biasA, Vector512<float> biasB,
            ref float cellsA, ref float cellsB, int edges, int outWidth, in Geometry g)
            where TCells : struct, IConstant where TRows : struct, IConstant
        {
            switch (edges)
            {
                case 0: PaddedTilePair<TCells, TRows, C0>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, outWidth, g); break;
                case 1: PaddedTilePair<TCells, TRows, C1>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, outWidth, g); break;
                case 2: PaddedTilePair<TCells, TRows, C2>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, outWidth, g); break;
                default: PaddedTilePair<TCells, TRows, C3>(ref row0, pw, ref packed, blockStride, biasA, biasB, ref cellsA, ref cellsB, outWidth, g); break;
            }
        }

        // TRows rows (1 to 3; 3 only with TCells up to 3) x TCells (2 to 4; the whole output row) cells of two 16-channel
        // blocks (their packed weights blockStride floats apart), from row oy of the output; TEdges: 1 where the tile's first
        // row is the map's first (its kernel's top row reads padding), 2 where its last row is the map's last, 3 both.
        private static void PaddedTilePair<TCells, TRows, TEdges>(ref float row0, int pw, ref float packed, int blockStride, Vector512<float> biasA, Vector512<float> biasB,
            ref float cellsA, ref float cellsB, int outWidth, in Geometry g)
            where TCells : struct, IConstant where TRows : struct, IConstant where TEdges : struct, IConstant
        {
            var a00 = biasA; var a01 = biasA; var a02 = biasA; var a03 = biasA; var a10 = biasA; var a11 = biasA; var a12 = biasA; var a13 = biasA;
            var b00 = biasB; var b01 = biasB; var b02 = biasB; var b03 = biasB; var b10 = biasB; var b11 = biasB; var b12 = biasB; var b13 = biasB;
            var a20 = biasA; var a21 = biasA; var a22 = biasA; var b20 = biasB; var b21 = biasB; var b22 = biasB;
            Vector512<float> unused = default; // the fourth cell of a third row (rows of 3 rows are 3 cells wide)
            bool top = (TEdges.Value & 1) != 0, bottom = (TEdges.Value & 2) != 0;
            int inChannels = g.InChannels, plane = g.Plane;
            ref float x0 = ref Unsafe.Add(ref row0, 1); // the map's first column, in the padded rows
            nuint t = 0, second = (nuint)blockStride;
            for (int ic = 0; ic < inChannels; ic++, t += 9 * 16)
            {
                ref float x = ref Unsafe.Add(ref x0, ic * plane);
                // Kernel row 0: tile row r reads padded row r (relative to oy).
                var wa0 = Vector512.LoadUnsafe(ref packed, t); var wa1 = Vector512.LoadUnsafe(ref packed, t + 16); var wa2 = Vector512.LoadUnsafe(ref packed, t + 32);
                var wb0 = Vector512.LoadUnsafe(ref packed, t + second); var wb1 = Vector512.LoadUnsafe(ref packed, t + second + 16); var wb2 = Vector512.LoadUnsafe(ref packed, t + second + 32);
                if (!top) RowOfThreeTaps<TCells>(ref x, wa0, wa1, wa2, wb0, wb1, wb2, ref a00, ref a01, ref a02, ref a03, ref b00, ref b01, ref b02, ref b03);
                if (TRows.Value > 1) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a10, ref a11, ref a12, ref a13, ref b10, ref b11, ref b12, ref b13);
                if (TRows.Value > 2) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 2 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a20, ref a21, ref a22, ref unused, ref b20, ref b21, ref b22, ref unused);
                // Kernel row 1: row r reads padded row r + 1, always inside the map.
                wa0 = Vector512.LoadUnsafe(ref packed, t + 48); wa1 = Vector512.LoadUnsafe(ref packed, t + 64); wa2 = Vector512.LoadUnsafe(ref packed, t + 80);
                wb0 = Vector512.LoadUnsafe(ref packed, t + second + 48); wb1 = Vector512.LoadUnsafe(ref packed, t + second + 64); wb2 = Vector512.LoadUnsafe(ref packed, t + second + 80);
                RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a00, ref a01, ref a02, ref a03, ref b00, ref b01, ref b02, ref b03);
                if (TRows.Value > 1) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 2 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a10, ref a11, ref a12, ref a13, ref b10, ref b11, ref b12, ref b13);
                if (TRows.Value > 2) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 3 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a20, ref a21, ref a22, ref unused, ref b20, ref b21, ref b22, ref unused);
                // Kernel row 2: row r reads padded row r + 2; the last tile row reads the bottom padding where the map ends there.
                wa0 = Vector512.LoadUnsafe(ref packed, t + 96); wa1 = Vector512.LoadUnsafe(ref packed, t + 112); wa2 = Vector512.LoadUnsafe(ref packed, t + 128);
                wb0 = Vector512.LoadUnsafe(ref packed, t + second + 96); wb1 = Vector512.LoadUnsafe(ref packed, t + second + 112); wb2 = Vector512.LoadUnsafe(ref packed, t + second + 128);
                if (TRows.Value > 1 || !bottom) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 2 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a00, ref a01, ref a02, ref a03, ref b00, ref b01, ref b02, ref b03);
                if (TRows.Value > 2 || TRows.Value == 2 && !bottom) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 3 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a10, ref a11, ref a12, ref a13, ref b10, ref b11, ref b12, ref b13);
                if (TRows.Value > 2 && !bottom) RowOfThreeTaps<TCells>(ref Unsafe.Add(ref x, 4 * pw), wa0, wa1, wa2, wb0, wb1, wb2, ref a20, ref a21, ref a22, ref unused, ref b20, ref b21, ref b22, ref unused);
            }
            StoreTilePair<TCells, TRows>(ref cellsA, ref cellsB, outWidth, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, b00, b01, b02, b03, b10, b11, b12, b13, b20, b21, b22);
        }

        // One input row (the map's TCells columns, no padding) into one output row of TCells cells through a kernel row's
        // three taps (weights w0-w2 of each block): column j feeds cell j + 1 through tap 0, cell j through tap 1 and cell
        // j - 1 through tap 2. Taken in column order, each cell still gets its taps in order 0, 1, 2; the cells past the
        // row's ends (the padding's products) get nothing.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void RowOfThreeTaps<TCells>(ref float x, Vector512<float> wa0, Vector512<float> wa1, Vector512<float> wa2, Vector512<float> wb0, Vector512<float> wb1, Vector512<float> wb2,
            ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
            ref Vector512<float> b0, ref Vector512<float> b1, ref Vector512<float> b2, ref Vector512<float> b3)
            where TCells : struct, IConstant
        {
            var s = Vector512.Create(x);
            a1 = Fused.MultiplyAdd(s, wa0, a1); b1 = Fused.MultiplyAdd(s, wb0, b1);
            a0 = Fused.MultiplyAdd(s, wa1, a0); b0 = Fused.MultiplyAdd(s, wb1, b0);
            s = Vector512.Create(Unsafe.Add(ref x, 1));
            if (TCells.Value > 2) { a2 = Fused.MultiplyAdd(s, wa0, a2); b2 = Fused.MultiplyAdd(s, wb0, b2); }
            a1 = Fused.MultiplyAdd(s, wa1, a1); b1 = Fused.MultiplyAdd(s, wb1, b1);
            a0 = Fused.MultiplyAdd(s, wa2, a0); b0 = Fused.MultiplyAdd(s, wb2, b0);
            if (TCells.Value > 2)
            {
                s = Vector512.Create(Unsafe.Add(ref x, 2));
                if (TCells.Value > 3) { a3 = Fused.MultiplyAdd(s, wa0, a3); b3 = Fused.MultiplyAdd(s, wb0, b3); }
                a2 = Fused.MultiplyAdd(s, wa1, a2); b2 = Fused.MultiplyAdd(s, wb1, b2);
                a1 = Fused.MultiplyAdd(s, wa2, a1); b1 = Fused.MultiplyAdd(s, wb2, b1);
            }
            if (TCells.Value > 3)
            {
                s = Vector512.Create(Unsafe.Add(ref x, 3));
                a3 = Fused.MultiplyAdd(s, wa1, a3); b3 = Fused.MultiplyAdd(s, wb1, b3);
                a2 = Fused.MultiplyAdd(s, wa2, a2); b2 = Fused.MultiplyAdd(s, wb2, b2);
            }
        }
    }
}
