using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
#if !NET9_0_OR_GREATER
using System.Runtime.Intrinsics.X86;
#endif

namespace CnnGen.Kernels
{
    /// <summary>
    /// a·b + c in one rounding. .NET 9 added <c>Vector256.FusedMultiplyAdd</c>; on .NET 8 this calls the FMA instructions
    /// directly (AVX2's FMA3, AVX-512F), falling back to a multiply and an add where they are missing.
    /// </summary>
    internal static class Fused
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        {
#if NET9_0_OR_GREATER
            return Vector256.FusedMultiplyAdd(a, b, c);
#else
            return Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        {
#if NET9_0_OR_GREATER
            return Vector512.FusedMultiplyAdd(a, b, c);
#else
            return Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;
#endif
        }
    }
}
