using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Software prefetches into the L2 for the 1x1 kernels that read a few lines from each of many NCHW planes at once: more
    /// streams than the hardware's prefetchers follow, so where the input comes from the L3 or memory each line would wait.
    /// </summary>
    internal static class Prefetch
    {
        /// <summary>Floats of input (512 KB) from which the kernels prefetch: below it the input is mostly in cache and the prefetches only cost.</summary>
        public const long MinimumFloats = 1 << 17;

        /// <summary>
        /// The cache line <paramref name="floats"/> on from <paramref name="at"/>. A hint: it never faults, so an address past
        /// the input's end is harmless; the address is made as a plain pointer, never as a reference past the input (which the
        /// GC would track).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Line(ref float at, int floats)
        {
            if (Sse.IsSupported) Sse.Prefetch1((float*)Unsafe.AsPointer(ref at) + floats);
        }

        /// <summary>Every line of the <paramref name="count"/> floats from <paramref name="floats"/> on from <paramref name="at"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Lines(ref float at, int floats, int count)
        {
            if (!Sse.IsSupported) return;
            for (int i = 0; i < count; i += 16) Line(ref at, floats + i);
            Line(ref at, floats + count - 1);
        }
    }
}
