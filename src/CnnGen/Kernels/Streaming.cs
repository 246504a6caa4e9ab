using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Streaming (non-temporal) stores for the Winograd filters a training pass prepares at its start (and its backward at
    /// the backward's start): a whole chunk's layers run before a layer reads them, so they have left the caches by then,
    /// and a plain store would only read each line in first and push out the layers' own data. The same floats either way.
    /// </summary>
    internal static class Streaming
    {
        /// <summary>
        /// Filters of this many floats or more (256 KB) are streamed (the A/B runs set it to int.MaxValue to compare).
        /// train-loop, 2 threads, rounds alternated in one process (2026-12-06, Zen 5, load 2-5), streamed / plain CPU per
        /// image: the strided network 0.971, 0.938, 0.962 with the stride-2 filters alone streamed (295 KB and 1.2 MB), then
        /// 0.987, 0.976, 0.973 with the stride-1 ones too; the VGG-style network (stride-1 filters 590 KB to 4.7 MB) 0.995,
        /// 0.972; ResNet-8 0.998, 0.966, 1.012, 0.995; the CIFAR network 0.997; one thread 0.990-0.993.
        /// </summary>
        internal static int MinimumFloats { get; set; } = 1 << 16;

        /// <summary>Whether filters of <paramref name="floats"/> floats are streamed: AVX-512 (the 64-byte store) and at least <see cref="MinimumFloats"/>.</summary>
        public static bool Pays(int floats) => Avx512F.IsSupported && floats >= MinimumFloats;

        /// <summary><paramref name="value"/> at <paramref name="at"/>, streamed when asked and the address is 64-byte aligned (on the workspaces' aligned buffers every whole-vector offset is).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Store(Vector512<float> value, float* at, bool stream)
        {
            if (stream && ((nuint)at & 63) == 0) Avx512F.StoreAlignedNonTemporal(at, value);
            else value.Store(at);
        }

        /// <summary>The streaming stores ordered before whatever the thread stores next (another thread may read them after its next meeting).</summary>
        public static void Fence()
        {
            if (Sse.IsSupported) Sse.StoreFence();
        }
    }
}
