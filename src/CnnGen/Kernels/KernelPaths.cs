using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>The code path the newer kernels take by default; tests pass each <see cref="DirectConvolution.KernelPath"/> explicitly.</summary>
    internal static class KernelPaths
    {
        /// <summary>Scalar when <see cref="Simd.Enabled"/> is false, else the widest accelerated vector.</summary>
        public static DirectConvolution.KernelPath Default =>
            !Simd.Enabled ? DirectConvolution.KernelPath.Scalar
            : Vector512.IsHardwareAccelerated ? DirectConvolution.KernelPath.Vector512 : DirectConvolution.KernelPath.Vector256;
    }
}
