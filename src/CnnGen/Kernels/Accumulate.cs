using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>Small vector helpers the newer kernels share: runs added, scaled and summed.</summary>
    internal static class Accumulate
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

        /// <summary>The sum of count floats: eight (or sixteen) interleaved partial sums when vectorized, then in order.</summary>
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
            else if (path != DirectConvolution.KernelPath.Scalar && count >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; i <= count - 8; i += 8) acc += Vector256.LoadUnsafe(ref from, (nuint)i);
                total = Vector256.Sum(acc);
            }
            for (; i < count; i++) total += Unsafe.Add(ref from, i);
            return total;
        }

        /// <summary>to[i] = value for i &lt; count.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fill(ref float to, int count, float value) => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref to, count).Fill(value);
    }
}
