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
    /// exp is Cephes' <c>expf</c> with a shorter polynomial: n = floor(x·log2 e + ½), a two-constant reduction r = x − n·ln 2,
    /// 1 + r + r²·q(r) (by Estrin's scheme since session 25), then that times 2ⁿ rounded once (ScaleByPowerOfTwo); about 1
    /// ulp. Cephes' q has degree 5; a degree-4 q fitted for float (session 53, fit_exp.py) is as accurate once evaluated in
    /// float (7.4e−8 relative against Cephes' 7.1e−8) and one multiply-add shorter: Sigmoid and SiLU 4.1 -> 3.9 ns a vector
    /// of 16. Fused, the polynomials and the reduction are half the instructions they were unfused
    /// (exp 5.1 -> 3.x ns a vector of 16, session 11), and the reduction is no less accurate. Inputs are clamped to
    /// [−87, 88.8] (Clamp): above, the result overflows to +∞ as exp does; below, it is exp(−87) ≈ 1.6e−38, an absolute error
    /// below 2e−38. NaN stays NaN.
    /// Φ(x) is ½·t·P(t)·e^(−x²/2) for x ≤ 0 (1 minus that for x > 0): P a degree-8 polynomial in t = 1/(1 + p|x|/√2) fitted
    /// to erfc·e^(z²)/t (session 44; it replaced Numerical Recipes' erfcc, whose exponential waited on its polynomial), which
    /// keeps its relative accuracy in the far left tail where 1 + erf(x) would cancel (see NormalCdf).
    /// </remarks>
    internal static class Transcendentals
    {
        private const float High = 88.8f, Low = -87f;
        private const float Log2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
        private const float P0 = 1.3814592967e-03f, P1 = 8.3687156439e-03f, P2 = 4.1668388993e-02f, P3 = 1.6666521132e-01f, P4 = 4.9999994040e-01f;

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
        // polynomial (ExpPolynomial); Exp scales it by 2ⁿ. NormalCdf reduces −x²/2 its own way and shares the polynomial.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float ExpOfRemainder(float x, out float n)
        {
            n = MathF.Floor(MathF.FusedMultiplyAdd(x, Log2E, 0.5f));
            float r = MathF.FusedMultiplyAdd(n, -C1, x);
            return ExpPolynomial(MathF.FusedMultiplyAdd(n, -C2, r));
        }

        // e^r for |r| ≤ ½ ln 2 (a little past it where the reduction rounds): 1 + r + r²·q(r), q of degree 4 by Estrin's scheme
        // (by Horner's, one instruction fewer, it measured no faster: Sigmoid 4.1 -> 4.2 ns a vector of 16, session 53).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float ExpPolynomial(float r)
        {
            float z = r * r;
            float q = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(P0, z, MathF.FusedMultiplyAdd(P1, r, P2)), z, MathF.FusedMultiplyAdd(P3, r, P4));
            return MathF.FusedMultiplyAdd(q, z, r) + 1f;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpOfRemainder(Vector256<float> x, out Vector256<float> n)
        {
            n = Vector256.Floor(Fused.MultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector256.Create(-C1), x);
            return ExpPolynomial(Fused.MultiplyAdd(n, Vector256.Create(-C2), r));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpPolynomial(Vector256<float> r)
        {
            var z = r * r;
            var q = Fused.MultiplyAdd(Fused.MultiplyAdd(Vector256.Create(P0), z, Fused.MultiplyAdd(Vector256.Create(P1), r, Vector256.Create(P2))), z,
                Fused.MultiplyAdd(Vector256.Create(P3), r, Vector256.Create(P4)));
            return Fused.MultiplyAdd(q, z, r) + Vector256.Create(1f);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ExpOfRemainder(Vector512<float> x, out Vector512<float> n)
        {
            n = Vector512.Floor(Fused.MultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector512.Create(-C1), x);
            return ExpPolynomial(Fused.MultiplyAdd(n, Vector512.Create(-C2), r));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> ExpPolynomial(Vector512<float> r)
        {
            var z = r * r;
            var q = Fused.MultiplyAdd(Fused.MultiplyAdd(Vector512.Create(P0), z, Fused.MultiplyAdd(Vector512.Create(P1), r, Vector512.Create(P2))), z,
                Fused.MultiplyAdd(Vector512.Create(P3), r, Vector512.Create(P4)));
            return Fused.MultiplyAdd(q, z, r) + Vector512.Create(1f);
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

        // The normal CDF Φ(x) = ½·erfc(|x|/√2) for x ≤ 0 (1 − that for x > 0), as ½·t·P(t)·e^(−x²/2) with t = 1/(1 + p·|x|/√2):
        // P(t) = erfcx(z)/t, erfcx(z) = erfc(z)·e^(z²), is smooth on t in (0, 1] (from p/√π at t = 0 to 1 at t = 1), and a
        // degree-8 polynomial fits it to 1.6e−8 relative over z in [0, 9.4] (p = 0.37; 3.4e−7 evaluated in float;
        // benchmarks/KernelBench/fit_normal_cdf.py makes the constants). Written this way the exponential depends on x alone
        // and runs beside the division and the polynomial, where the Numerical Recipes form before it (the exp of a polynomial
        // in t minus x²/2) waited on both: KernelBench activations, the erf-form GELU 6.45 -> 5.3 ns a vector of 16, and its
        // gradient, whose φ now comes from the same exponential, 9.0 -> 5.9 (session 44).
        // The exponential's reduction r = −a²/2 − n·ln 2 takes −a²/2 exact inside a multiply-add (m·a with m = −a/2, and n·C1
        // exact in float: n has 7 bits, C1 9), so e^(−x²/2) loses nothing to the rounding of x²/2, which cost the form before
        // session 44 up to 4.2e−6 relative at |x| = 12 (now 4.1e−7; session 44 split −x²/2 into h + l by Dekker's product and
        // multiplied e^h by 1 + l, two instructions more). P runs by Horner's scheme: three instructions fewer than Estrin's,
        // and the vector loop has the independent vectors to hide the longer chain (session 53, with the reduction: GELU 9.8 ->
        // 8.7 ns a vector of 16, its gradient 10.8 -> 9.6, KernelBench activations on Zen 4). |x| is clipped at 13.19
        // for the exponential (x²/2 ≤ 87, exp's lower clamp; Φ(−13.19) ≈ 1e−39 is below the smallest normal float), not for t,
        // so t is 0 at ±∞ and Φ(±∞) is exactly 1 or 0. Every path runs the same operations, so they agree bit for bit.
        private const float TailScale = 2.616295218e-01f; // p/√2
        private const float Clip = 13.19f;
        private const float Q0 = 1.044074148e-01f, Q1 = 1.037059426e-01f, Q2 = 1.031895652e-01f, Q3 = 5.302011594e-02f, Q4 = 1.559568197e-01f,
            Q5 = -1.434524804e-01f, Q6 = 2.441122234e-01f, Q7 = -1.519694030e-01f, Q8 = 3.102978319e-02f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float NormalCdf(float x) => NormalCdf(x, out _);

        /// <summary>Φ(x), and <paramref name="gaussian"/> = e^(−x²/2) (for |x| up to 13.19, beyond it e^(−13.19²/2)), which the
        /// density φ(x) = gaussian/√(2π) in GELU's gradient takes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float NormalCdf(float x, out float gaussian)
        {
            float magnitude = MathF.Abs(x);
            float t = 1f / MathF.FusedMultiplyAdd(magnitude, TailScale, 1f);
            float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(Q8, t, Q7), t, Q6), t, Q5), t, Q4);
            p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(p, t, Q3), t, Q2), t, Q1), t, Q0);
            float halfTail = t * p; // ½·t·P(t): the Q are P's halved
            float a = magnitude > Clip ? Clip : magnitude, m = -0.5f * a;
            float n = MathF.Floor(MathF.FusedMultiplyAdd(m * a, Log2E, 0.5f));
            float r = MathF.FusedMultiplyAdd(n, -C2, MathF.FusedMultiplyAdd(m, a, n * -C1));
            gaussian = MathF.ScaleB(ExpPolynomial(r), (int)n); // e^(−a²/2), a normal float (a²/2 ≤ 87), as ScaleByPowerOfTwo
            float half = gaussian * halfTail;
            return x > 0f ? 1f - half : half;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> NormalCdf(Vector256<float> x) => NormalCdf(x, out _);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> NormalCdf(Vector256<float> x, out Vector256<float> gaussian)
        {
            var magnitude = Vector256.Abs(x);
            var t = Vector256.Create(1f) / Fused.MultiplyAdd(magnitude, Vector256.Create(TailScale), Vector256.Create(1f));
            var p = Fused.MultiplyAdd(Fused.MultiplyAdd(Vector256.Create(Q8), t, Vector256.Create(Q7)), t, Vector256.Create(Q6));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector256.Create(Q5)), t, Vector256.Create(Q4));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector256.Create(Q3)), t, Vector256.Create(Q2));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector256.Create(Q1)), t, Vector256.Create(Q0));
            var halfTail = t * p;
            var a = AtMost(magnitude, Clip);
            var m = Vector256.Create(-0.5f) * a;
            var n = Vector256.Floor(Fused.MultiplyAdd(m * a, Vector256.Create(Log2E), Vector256.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector256.Create(-C2), Fused.MultiplyAdd(m, a, n * Vector256.Create(-C1)));
            gaussian = ScaleByPowerOfTwo(ExpPolynomial(r), n); // e^(−a²/2), a normal float (a²/2 ≤ 87)
            var half = gaussian * halfTail;
            return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256.Create(1f) - half, half);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> NormalCdf(Vector512<float> x) => NormalCdf(x, out _);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> NormalCdf(Vector512<float> x, out Vector512<float> gaussian)
        {
            var magnitude = Vector512.Abs(x);
            var t = Vector512.Create(1f) / Fused.MultiplyAdd(magnitude, Vector512.Create(TailScale), Vector512.Create(1f));
            var p = Fused.MultiplyAdd(Fused.MultiplyAdd(Vector512.Create(Q8), t, Vector512.Create(Q7)), t, Vector512.Create(Q6));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector512.Create(Q5)), t, Vector512.Create(Q4));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector512.Create(Q3)), t, Vector512.Create(Q2));
            p = Fused.MultiplyAdd(Fused.MultiplyAdd(p, t, Vector512.Create(Q1)), t, Vector512.Create(Q0));
            var halfTail = t * p;
            var a = AtMost(magnitude, Clip);
            var m = Vector512.Create(-0.5f) * a;
            var n = Vector512.Floor(Fused.MultiplyAdd(m * a, Vector512.Create(Log2E), Vector512.Create(0.5f)));
            var r = Fused.MultiplyAdd(n, Vector512.Create(-C2), Fused.MultiplyAdd(m, a, n * Vector512.Create(-C1)));
            gaussian = ScaleByPowerOfTwo(ExpPolynomial(r), n); // e^(−a²/2), a normal float (a²/2 ≤ 87)
            var half = gaussian * halfTail;
            return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512.Create(1f) - half, half);
        }

        // min(v, high) in one instruction where the runtime has it, NaN kept (v second): the scalar path's v > high ? high : v.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> AtMost(Vector256<float> v, float high)
        {
#if NET9_0_OR_GREATER
            return Vector256.MinNative(Vector256.Create(high), v);
#else
            return Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256.Create(high)), Vector256.Create(high), v);
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> AtMost(Vector512<float> v, float high)
        {
#if NET9_0_OR_GREATER
            return Vector512.MinNative(Vector512.Create(high), v);
#else
            return Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512.Create(high)), Vector512.Create(high), v);
#endif
        }
    }
}
