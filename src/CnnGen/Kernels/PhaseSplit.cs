using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A row split into its even and odd columns, the layout stride-2 kernels read (column 2k at evens[k], 2k + 1 at
    /// odds[k]): 32 columns at a time by two two-source permutes and two whole-vector stores, on AVX-512.
    /// </summary>
    /// <remarks>
    /// The splits before (one permute of 16 columns, its halves stored apart, through a tuple the JIT did not inline) took
    /// about half of a stride-2 depthwise layer's time on 56-wide maps (perf of KernelBench mbv1, 2026-12-03); the row kernel
    /// after it the other half.
    /// </remarks>
    internal static class PhaseSplit
    {
        /// <summary>Whether the stride-2 kernels split their rows here (KernelBench turns it off to compare).</summary>
        internal static bool ByPairs = true;

        /// <summary>Whether <see cref="Row"/> runs on this machine for rows of this width.</summary>
        public static bool Applies(int width) => ByPairs && Avx512F.IsSupported && width >= 32;

        private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

        /// <summary>Where padded column <paramref name="paddedColumn"/> lies in a row split into two phases of <paramref name="phaseLength"/>: phase column mod 2, at column / 2.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int At(int paddedColumn, int phaseLength) => (paddedColumn & 1) * phaseLength + paddedColumn / 2;

        /// <summary>
        /// Splits <paramref name="height"/> rows of <paramref name="width"/> floats, one after another from <paramref name="from"/>,
        /// into rows <paramref name="targetStride"/> floats apart from <paramref name="evens"/> and <paramref name="odds"/>
        /// (<see cref="Applies"/> must hold).
        /// </summary>
        /// <remarks>
        /// Rows of whole 32-column chunks in one tight loop, the index vectors in registers. <see cref="Row"/> a row at a time
        /// (the index vectors loaded again and the tail tested on every row) took 5.8 µs of the 15.8 of a 5x5 stride-2
        /// depthwise layer from 72x32x32 (Zen 5); through this loop the layer runs 1.25x faster (KernelBench depthwise-lines).
        /// </remarks>
        public static void Rows(ref float from, int width, int height, ref float evens, ref float odds, nint targetStride)
        {
            if (width % 32 != 0)
            {
                RowByRow(ref from, width, height, ref evens, ref odds, targetStride);
                return;
            }
            var evenIndices = Evens;
            var oddIndices = Odds;
            for (int iy = 0; iy < height; iy++)
            {
                for (int ix = 0; ix < width; ix += 32)
                {
                    var low = Vector512.LoadUnsafe(ref from, (nuint)ix);
                    var high = Vector512.LoadUnsafe(ref from, (nuint)(ix + 16));
                    Avx512F.PermuteVar16x32x2(low, evenIndices, high).StoreUnsafe(ref evens, (nuint)(ix / 2));
                    Avx512F.PermuteVar16x32x2(low, oddIndices, high).StoreUnsafe(ref odds, (nuint)(ix / 2));
                }
                from = ref Unsafe.Add(ref from, width);
                evens = ref Unsafe.Add(ref evens, targetStride);
                odds = ref Unsafe.Add(ref odds, targetStride);
            }
        }

        /// <summary><see cref="Rows"/> through <see cref="Row"/> a row at a time: rows with a tail past their 32-column chunks (and KernelBench's comparison).</summary>
        public static void RowByRow(ref float from, int width, int height, ref float evens, ref float odds, nint targetStride)
        {
            for (int iy = 0; iy < height; iy++, evens = ref Unsafe.Add(ref evens, targetStride), odds = ref Unsafe.Add(ref odds, targetStride))
                Row(ref Unsafe.Add(ref from, iy * width), width, ref evens, ref odds);
        }

        /// <summary>Splits <paramref name="width"/> floats from <paramref name="from"/> (<see cref="Applies"/> must hold).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Row(ref float from, int width, ref float evens, ref float odds)
        {
            var evenIndices = Evens;
            var oddIndices = Odds;
            int ix = 0;
            for (; ix <= width - 32; ix += 32)
            {
                var low = Vector512.LoadUnsafe(ref from, (nuint)ix);
                var high = Vector512.LoadUnsafe(ref from, (nuint)(ix + 16));
                Avx512F.PermuteVar16x32x2(low, evenIndices, high).StoreUnsafe(ref evens, (nuint)(ix / 2));
                Avx512F.PermuteVar16x32x2(low, oddIndices, high).StoreUnsafe(ref odds, (nuint)(ix / 2));
            }
            if (ix < width)
            {
                // The last 1-31 columns: the 32 ending at the row's end again (overlapping columns get the same values), but
                // only where that starts on an even column, so that evens stay evens; else one by one.
                int back = width - 32;
                if ((back & 1) == 0)
                {
                    var low = Vector512.LoadUnsafe(ref from, (nuint)back);
                    var high = Vector512.LoadUnsafe(ref from, (nuint)(back + 16));
                    Avx512F.PermuteVar16x32x2(low, evenIndices, high).StoreUnsafe(ref evens, (nuint)(back / 2));
                    Avx512F.PermuteVar16x32x2(low, oddIndices, high).StoreUnsafe(ref odds, (nuint)(back / 2));
                    return;
                }
                for (; ix < width; ix++)
                {
                    float v = Unsafe.Add(ref from, ix);
                    if ((ix & 1) == 0) Unsafe.Add(ref evens, ix >> 1) = v;
                    else Unsafe.Add(ref odds, ix >> 1) = v;
                }
            }
        }
    }
}
