using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

[assembly: InternalsVisibleTo("CnnGen.Tests")]
[assembly: InternalsVisibleTo("KernelBench")]

namespace CnnGen.Kernels
{
    /// <summary>
    /// Whether the runtime kernels use their <see cref="Vector256"/> paths. False when the environment variable
    /// <c>CNNGEN_DISABLE_SIMD</c> is <c>1</c> (or <c>true</c>) or when <see cref="Vector256"/> is not hardware accelerated;
    /// the kernels then run their scalar paths, which agree with the vector paths to about 1e-5 relative.
    /// </summary>
    public static class Simd
    {
        private static readonly bool s_enabled = Vector256.IsHardwareAccelerated && !DisabledByEnvironment();

        /// <summary>True when the kernels use their <see cref="Vector256"/> paths (read once, at first use).</summary>
        public static bool Enabled => s_enabled;

        /// <summary>
        /// True where a 512-bit fused multiply-add runs at half the rate of a full-width unit's: AMD's family 19h with AVX-512
        /// (Zen 4), which splits each into two 256-bit halves. There the direct kernels' arithmetic costs twice as much against
        /// the same memory traffic, so the Winograd kernels' larger transformed filters pay on wider layers than where the
        /// older limits were measured (session 47; the rules that read this say which limits and why).
        /// </summary>
        internal static bool HalfRateVector512 { get; } = DetectHalfRateVector512();

        private static bool DetectHalfRateVector512()
        {
            if (!X86Base.IsSupported || !Avx512F.IsSupported) return false;
            var (_, vendor1, vendor3, vendor2) = X86Base.CpuId(0, 0);
            bool amd = vendor1 == 0x68747541 && vendor2 == 0x69746E65 && vendor3 == 0x444D4163; // "Auth" "enti" "cAMD"
            int signature = X86Base.CpuId(1, 0).Eax;
            int baseFamily = (signature >> 8) & 0xF;
            int family = baseFamily == 0xF ? baseFamily + ((signature >> 20) & 0xFF) : baseFamily;
            return amd && family == 0x19;
        }

        private static bool DisabledByEnvironment()
        {
            string? value = Environment.GetEnvironmentVariable("CNNGEN_DISABLE_SIMD");
            return value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
        }
    }
}
