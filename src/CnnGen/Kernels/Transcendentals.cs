using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// exp and the normal CDF in float, one algorithm for scalar, <see cref="Vector256"/> and <see cref="Vector512"/> with
    /// the same operations in the same order, each multiply-add fused (one rounding: <c>MathF.FusedMultiplyAdd</c> on the
    /// scalar path, the FMA instructions on the vector paths), so every path gives the same bits. Available on .NET 8
    /// (which has no <c>Vector256.Exp</c>).
    /// </summary>
    /// <remarks>
    /// exp is Cephes' <c>expf</c>: n = floor(x·log2 e + ½), a two-constant reduction r = x − n·ln 2, a degree-5
    /// polynomial p (by Estrin's scheme since session 25: three multiply-adds deep rather than five), then p·2ⁿ rounded once
    /// (ScaleByPowerOfTwo); about 1 ulp. Fused, the polynomials and the reduction are half the instructions they were unfused
    /// (exp 5.1 -> 3.x ns a vector of 16, session 11), and the reduction is no less accurate. Inputs are clamped to
    /// [−87, 88.8] (Clamp): above, the result overflows to +∞ as exp does; below, it is exp(−87) ≈ 1.6e−38, an absolute error
    /// below 2e−38. NaN stays NaN.
    /// Φ(x) = ½·erfc(−x/√2) uses the Chebyshev fit of erfc in Numerical Recipes (erfcc, fractional error below 1.2e−7),
    /// which keeps its relative accuracy in the far left tail where 1 + erf(x) would cancel. Its degree-9 polynomial runs by
    /// Estrin's scheme (four multiply-adds deep rather than nine: the erf-form GELU 10.0 -> 9.3 ns a vector of 16 in
    /// KernelBench activations, a ConvNeXt-style network 3% faster at batch 1, the largest error over [−10, 10] unchanged),
    /// and its chain is cut short further (see NormalCdf).
    /// </remarks>
    internal static class Transcendentals
    {
        private const float High = 88.8f, Low = -87f;
        private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
        private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
        private const float E0 = -1.26551223f, E1 = 1.00002368f, E2 = 0.37409196f, E3 = 0.09678418f, E4 = -0.18628806f,
            E5 = 0.27886807f, E6 = -1.13520398f, E7 = 1.48851587f, E8 = -0.82215223f, E9 = 0.17087277f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Exp(float x)
        {
            x = x < Low ? Low : x;
            x = x > High ? High : x;
            float p = ExpOfRemainder(x, out float n);
            return MathF.ScaleB(p, (int)n); // p·2ⁿ rounded once (n in [−126, 128]), as vscalefps and ScaleByPowerOfTwo
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x)
        {
            var p = ExpOfRemainder(Clamp(x), out var n);
            return ScaleByPowerOfTwo(p, n);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> x)
        {
            var p = ExpOfRemainder(Clamp(x), out var n);
            return ScaleByPowerOfTwo(p, n);
        }

        // e^r for x = n·ln 2 + r, |r| ≤ ½ ln 2, x already clamped: n = floor(x·log2 e + ½), the two-constant reduction, the
        // degree-5 polynomial by Estrin's scheme. Exp scales it by 2ⁿ, NormalCdf by ½·t·2ⁿ.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float ExpOfRemainder(float x, out float n)
        {
            n = MathF.Floor(MathF.FusedMultiplyAdd(x, Log2E, 0.5f));
            float r = MathF.FusedMultiplyAdd(n, -C1, x);
            r = MathF.FusedMultiplyAdd(n, -C2, r);
            float z = r * r;
            float e01 = MathF.FusedMultiplyAdd(P0, r, P1), e23 = MathF.FusedMultiplyAdd(P2, r, P3), e45 = MathF.FusedMultiplyAdd(P4, r, P5);
            float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(e01, z, e23), z, e45);
            return MathF.FusedMultiplyAdd(p, z, r) + 1f;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpOfRemainder(Vector256<float> x, out Vector256<float> n)
        {
            n = Vector256.Floor(Fused.MultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector256.Create(-C1), x);
            r = Fused.MultiplyAdd(n, Vector256.Create(-C2), r);
            var z = r * r;
            var e01 = Fused.MultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
            var e23 = Fused.MultiplyAdd(Vector256.Create(P2), r, Vector256.Create(P3));
            var e45 = Fused.MultiplyAdd(Vector256.Create(P4), r, Vector256.Create(P5));
            var p = Fused.MultiplyAdd(Fused.MultiplyAdd(e01, z, e23), z, e45);
            return Fused.MultiplyAdd(p, z, r) + Vector256.Create(1f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ExpOfRemainder(Vector512<float> x, out Vector512<float> n)
        {
            n = Vector512.Floor(Fused.MultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector512.Create(-C1), x);
            r = Fused.MultiplyAdd(n, Vector512.Create(-C2), r);
            var z = r * r;
            var e01 = Fused.MultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
            var e23 = Fused.MultiplyAdd(Vector512.Create(P2), r, Vector512.Create(P3));
            var e45 = Fused.MultiplyAdd(Vector512.Create(P4), r, Vector512.Create(P5));
            var p = Fused.MultiplyAdd(Fused.MultiplyAdd(e01, z, e23), z, e45);
            return Fused.MultiplyAdd(p, z, r) + Vector512.Create(1f);
        }

        // p·2ⁿ for whole n in [−126, 128], rounded once (so a result below 2⁻¹²⁶ is the nearest subnormal, and one past the
        // largest float +∞): vscalefps, one instruction where the conversion to an exponent field took four and a multiply
        // (Sigmoid and SiLU 2.85 -> 2.45 ns a vector of 16); without AVX-512, p·2^⌊n/2⌋ (exact: p is in [0.7, 1.42]) times
        // 2^(n − ⌊n/2⌋), both exponent fields in range, which rounds once the same way.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ScaleByPowerOfTwo(Vector256<float> p, Vector256<float> n)
        {
            if (Avx512F.VL.IsSupported) return Avx512F.VL.Scale(p, n);
            var k = Truncate(n);
            var half = Vector256.ShiftRightArithmetic(k, 1);
            return p * Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle() * Vector256.ShiftLeft(k - half + Vector256.Create(127), 23).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ScaleByPowerOfTwo(Vector512<float> p, Vector512<float> n)
        {
            if (Avx512F.IsSupported) return Avx512F.Scale(p, n);
            var k = Truncate(n);
            var half = Vector512.ShiftRightArithmetic(k, 1);
            return p * Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(k - half + Vector512.Create(127), 23).AsSingle();
        }

        // x clamped to [Low, High] as the scalar path's two comparisons do, NaN kept: the convolutions' epilogue bounds
        // (OutputClamp.Apply, max then min with x second; two instructions where compare-and-blend took four: Sigmoid and
        // SiLU 3.85 -> 3.05 ns a vector of 16, with the polynomial by Estrin 2.9).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Clamp(Vector256<float> x) => OutputClamp.Apply(x, Vector256.Create(Low), Vector256.Create(High));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Clamp(Vector512<float> x) => OutputClamp.Apply(x, Vector512.Create(Low), Vector512.Create(High));

        // n is a whole number in [−126, 129] after the clamp, so the plain truncating conversion (one instruction) gives what
        // the saturating one does (four: .NET 9 made ConvertToInt32 saturate out-of-range lanes).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> Truncate(Vector256<float> n)
        {
#if NET9_0_OR_GREATER
            return Vector256.ConvertToInt32Native(n);
#else
            return Vector256.ConvertToInt32(n);
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<int> Truncate(Vector512<float> n)
        {
#if NET9_0_OR_GREATER
            return Vector512.ConvertToInt32Native(n);
#else
            return Vector512.ConvertToInt32(n);
#endif
        }

        private const float HalfInverseSqrt2 = 0.353553390593273762f;

        // The standard normal CDF Φ(x) = ½·erfc(−x/√2), by the chain of operations a pass of GELU waits on cut short (the core
        // keeps only about three vectors' chains in flight; session 25, GELU 9.4 -> 6.7 ns a vector of 16): 1 + ½·|x|/√2 is one
        // multiply-add; the exponent q − x²/2 one more (x² no longer through |x|/√2 rounded: the largest relative error of
        // GELU over [−12, 12] 1.7e−5 -> 4.2e−6); exp's argument is at most q(0) ≈ 3e−8, so only its lower clamp stays, as a
        // max; exp's polynomial by Estrin's scheme; and ½·t·2ⁿ as t·2ⁿ⁻¹ beside the polynomial rather than after it. Every path
        // runs the same operations, so they agree bit for bit.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float NormalCdf(float x)
        {
            float t = 1f / MathF.FusedMultiplyAdd(MathF.Abs(x), HalfInverseSqrt2, 1f);
            float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
            float p01 = MathF.FusedMultiplyAdd(E1, t, E0), p23 = MathF.FusedMultiplyAdd(E3, t, E2), p45 = MathF.FusedMultiplyAdd(E5, t, E4);
            float p67 = MathF.FusedMultiplyAdd(E7, t, E6), p89 = MathF.FusedMultiplyAdd(E9, t, E8);
            float p03 = MathF.FusedMultiplyAdd(p23, t2, p01), p47 = MathF.FusedMultiplyAdd(p67, t2, p45);
            float q = MathF.FusedMultiplyAdd(p89, t8, MathF.FusedMultiplyAdd(p47, t4, p03));
            float a = MathF.FusedMultiplyAdd(-0.5f * x, x, q); // q − x²/2
            float e = ExpOfRemainder(a < Low ? Low : a, out float n);
            float half = e * (t * BitConverter.Int32BitsToSingle(((int)n + 126) << 23)); // ½·t·e^a = ½·erfc(|x|/√2), t·2ⁿ⁻¹ beside e
            return x > 0f ? 1f - half : half;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> NormalCdf(Vector256<float> x)
        {
            var t = Vector256.Create(1f) / Fused.MultiplyAdd(Vector256.Abs(x), Vector256.Create(HalfInverseSqrt2), Vector256.Create(1f));
            var t2 = t * t;
            var t4 = t2 * t2;
            var t8 = t4 * t4;
            var p01 = Fused.MultiplyAdd(Vector256.Create(E1), t, Vector256.Create(E0));
            var p23 = Fused.MultiplyAdd(Vector256.Create(E3), t, Vector256.Create(E2));
            var p45 = Fused.MultiplyAdd(Vector256.Create(E5), t, Vector256.Create(E4));
            var p67 = Fused.MultiplyAdd(Vector256.Create(E7), t, Vector256.Create(E6));
            var p89 = Fused.MultiplyAdd(Vector256.Create(E9), t, Vector256.Create(E8));
            var p03 = Fused.MultiplyAdd(p23, t2, p01);
            var p47 = Fused.MultiplyAdd(p67, t2, p45);
            var q = Fused.MultiplyAdd(p89, t8, Fused.MultiplyAdd(p47, t4, p03));
            var e = ExpOfRemainder(AtLeast(Fused.MultiplyAdd(Vector256.Create(-0.5f) * x, x, q), Low), out var n);
            var half = e * (t * Vector256.ShiftLeft(Truncate(n) + Vector256.Create(126), 23).AsSingle());
            return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256.Create(1f) - half, half);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> NormalCdf(Vector512<float> x)
        {
            var t = Vector512.Create(1f) / Fused.MultiplyAdd(Vector512.Abs(x), Vector512.Create(HalfInverseSqrt2), Vector512.Create(1f));
            var t2 = t * t;
            var t4 = t2 * t2;
            var t8 = t4 * t4;
            var p01 = Fused.MultiplyAdd(Vector512.Create(E1), t, Vector512.Create(E0));
            var p23 = Fused.MultiplyAdd(Vector512.Create(E3), t, Vector512.Create(E2));
            var p45 = Fused.MultiplyAdd(Vector512.Create(E5), t, Vector512.Create(E4));
            var p67 = Fused.MultiplyAdd(Vector512.Create(E7), t, Vector512.Create(E6));
            var p89 = Fused.MultiplyAdd(Vector512.Create(E9), t, Vector512.Create(E8));
            var p03 = Fused.MultiplyAdd(p23, t2, p01);
            var p47 = Fused.MultiplyAdd(p67, t2, p45);
            var q = Fused.MultiplyAdd(p89, t8, Fused.MultiplyAdd(p47, t4, p03));
            var e = ExpOfRemainder(AtLeast(Fused.MultiplyAdd(Vector512.Create(-0.5f) * x, x, q), Low), out var n);
            var half = e * (t * Vector512.ShiftLeft(Truncate(n) + Vector512.Create(126), 23).AsSingle());
            return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512.Create(1f) - half, half);
        }

        // max(v, low) in one instruction where the runtime has it, NaN kept (v second, as in Clamp): the scalar path's
        // v < low ? low : v.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> AtLeast(Vector256<float> v, float low)
        {
#if NET9_0_OR_GREATER
            return Vector256.MaxNative(Vector256.Create(low), v);
#else
            return Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256.Create(low)), Vector256.Create(low), v);
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> AtLeast(Vector512<float> v, float low)
        {
#if NET9_0_OR_GREATER
            return Vector512.MaxNative(Vector512.Create(low), v);
#else
            return Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512.Create(low)), Vector512.Create(low), v);
#endif
        }
    }
}
