using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

        private static bool DisabledByEnvironment()
        {
            string? value = Environment.GetEnvironmentVariable("CNNGEN_DISABLE_SIMD");
            return value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
        }
    }
}
