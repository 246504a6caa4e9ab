using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>Small vector helpers the newer kernels share: runs copied, added, summed, (de)interleaved and shifted.</summary>
    internal static class VectorRows
    {
        /// <summary>to[i] += from[i] for i &lt; count.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(ref float from, ref float to, int count, bool vector)
        {
            int i = 0;
            if (vector && Vector256.IsHardwareAccelerated)
            {
                for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref to, (nuint)i) + Vector256.LoadUnsafe(ref from, (nuint)i)).StoreUnsafe(ref to, (nuint)i);
            }
            for (; i < count; i++) Unsafe.Add(ref to, i) += Unsafe.Add(ref from, i);
        }

        /// <summary>
        /// The sum of count floats: sixteen (Vector512) or eight interleaved partial sums, then the rest in order. The
        /// scalar path keeps eight partial sums as well (within rounding of the vector paths), which keeps long sums
        /// accurate.
        /// </summary>
        public static float Sum(ref float from, int count, DirectConvolution.KernelPath path)
        {
            int i = 0;
            float total = 0f;
            if (path == DirectConvolution.KernelPath.Vector512 && count >= 16)
            {
                var acc = Vector512<float>.Zero;
                for (; i <= count - 16; i += 16) acc += Vector512.LoadUnsafe(ref from, (nuint)i);
                total = Vector512.Sum(acc);
            }
            else if (path == DirectConvolution.KernelPath.Vector256 && count >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; i <= count - 8; i += 8) acc += Vector256.LoadUnsafe(ref from, (nuint)i);
                total = Vector256.Sum(acc);
            }
            else if (count >= 8)
            {
                Span<float> lanes = stackalloc float[8];
                lanes.Clear();
                for (; i <= count - 8; i += 8)
                    for (int lane = 0; lane < 8; lane++) lanes[lane] += Unsafe.Add(ref from, i + lane);
                total = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
            }
            for (; i < count; i++) total += Unsafe.Add(ref from, i);
            return total;
        }

        /// <summary>to[i] = value for i &lt; count.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fill(ref float to, int count, float value) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref to, count).Fill(value);

        // Copies a row with whole vectors, the last one overlapping the one before (it copies the same values again).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void CopyRow(ref float from, ref float to, int count)
        {
            if (count >= 8 && Vector256.IsHardwareAccelerated)
            {
                for (int i = 0; ; i += 8)
                {
                    if (i > count - 8) i = count - 8;
                    Vector256.LoadUnsafe(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
                    if (i == count - 8) break;
                }
                return;
            }
            for (int i = 0; i < count; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
        }

        // 16 floats split into their 8 even-indexed and 8 odd-indexed values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<float> Evens, Vector256<float> Odds) Deinterleave(ref float from)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var v = Vector512.LoadUnsafe(ref from);
                var split = Vector512.Shuffle(v, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
                return (split.GetLower(), split.GetUpper());
            }
            var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            var a = Vector256.Shuffle(Vector256.LoadUnsafe(ref from), order);
            var b = Vector256.Shuffle(Vector256.LoadUnsafe(ref from, 8), order);
            return (Vector256.Create(a.GetLower(), b.GetLower()), Vector256.Create(a.GetUpper(), b.GetUpper()));
        }

        // The reverse of Deinterleave: 8 evens and 8 odds stored as 16 consecutive floats.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Interleave(Vector256<float> evens, Vector256<float> odds, ref float to)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var joined = Vector512.Create(evens, odds);
                Vector512.Shuffle(joined, Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)).StoreUnsafe(ref to);
                return;
            }
            var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            Vector256.Shuffle(Vector256.Create(evens.GetLower(), odds.GetLower()), order).StoreUnsafe(ref to);
            Vector256.Shuffle(Vector256.Create(evens.GetUpper(), odds.GetUpper()), order).StoreUnsafe(ref to, 8);
        }

        // 16 evens and 16 odds stored as 32 consecutive floats, by two two-source permutes (AVX-512).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Interleave(Vector512<float> evens, Vector512<float> odds, ref float to)
        {
            var lowPairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            Avx512F.PermuteVar16x32x2(evens, lowPairs, odds).StoreUnsafe(ref to);
            Avx512F.PermuteVar16x32x2(evens, lowPairs + Vector512.Create(8), odds).StoreUnsafe(ref to, 16);
        }

        // A row's 16 cells from column `shift` on, out of its vectors at columns 0 and 16 (valignd, AVX-512). Loaded directly,
        // most of a row's few shifted vectors cross a cache line: the depthwise shared-rows tiles made their shifts that way
        // until session 44 and ran 1.1-1.2x slower on 5x5 and 7x7 layers, 1.02-1.1x on 3x3 ones, and TransposedPhaseRows 1.3x
        // slower (KernelBench depthwise-large, depthwise, transposed-narrow).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> ColumnsFrom(Vector512<uint> cells, Vector512<uint> next, [ConstantExpected] byte shift) =>
            Avx512F.AlignRight32(next, cells, shift).AsSingle();
    }
}
