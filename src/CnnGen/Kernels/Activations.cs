using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The newer activations and their gradients, element-wise with PyTorch 1.13's formulas: ReLU6, Hardswish, SiLU,
    /// GELU (erf and tanh forms), and the classic Sigmoid and Tanh. y may alias x, and dx may alias x or dy.
    /// </summary>
    /// <remarks>
    /// Vector512, Vector256 or scalar (<see cref="Simd.Enabled"/>); every path runs the same operations in the same order
    /// (exp and Φ from <see cref="Transcendentals"/>, no fused multiply-add), so the paths agree bit for bit. Against the
    /// exact functions: ReLU6, Hardswish and their gradients are exact; SiLU, GELU, Sigmoid and Tanh are within a few ulp
    /// (about 1e−6 relative, and absolutely below 1e−7 where the value is tiny).
    /// </remarks>
    public static class Activations
    {
        /// <summary>y = min(max(x, 0), 6) (PyTorch's ReLU6, a hardtanh): NaN passes through, −0 stays −0.</summary>
        public static void Relu6(ReadOnlySpan<float> x, Span<float> y) => Map<Relu6Op>(x, y, KernelPaths.Default);

        /// <summary>
        /// dx = dy where 0 &lt; x &lt; 6 strictly, else 0 (PyTorch 1.13's hardtanh_backward as its vectorized loop computes it:
        /// NaN gives 0; its scalar loop, run only on the last few elements of a tensor, passes dy for NaN).
        /// </summary>
        public static void Relu6Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map<Relu6Gradient>(x, dy, dx, KernelPaths.Default);

        /// <summary>y = x · min(max(x + 3, 0), 6) / 6 (PyTorch's Hardswish, the same operations).</summary>
        public static void Hardswish(ReadOnlySpan<float> x, Span<float> y) => Map<HardswishOp>(x, y, KernelPaths.Default);

        /// <summary>
        /// PyTorch 1.13's hardswish_backward as its vectorized loop computes it: dx = 0 where x &lt; −3, dy where x ≥ 3, else
        /// dy · (x / 3 + ½) (so −½·dy at x = −3, dy at x = 3; NaN gives NaN).
        /// </summary>
        /// <remarks>
        /// PyTorch 1.13's scalar loop, which only runs on the last few elements of a contiguous tensor (fewer than 16
        /// floats), takes the middle branch at x = 3 (1.5·dy) and passes dy for NaN; the vector loop's convention is the
        /// one nearly every element sees, so it is the one followed here on every path.
        /// </remarks>
        public static void HardswishBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map<HardswishGradient>(x, dy, dx, KernelPaths.Default);

        /// <summary>y = x / (1 + exp(−x)) (PyTorch's SiLU).</summary>
        public static void Silu(ReadOnlySpan<float> x, Span<float> y) => Map<SiluOp>(x, y, KernelPaths.Default);

        /// <summary>dx = dy · σ(x) · (1 + x · (1 − σ(x))), σ(x) = 1 / (1 + exp(−x)) (PyTorch's silu_backward).</summary>
        public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map<SiluGradient>(x, dy, dx, KernelPaths.Default);

        /// <summary>
        /// y = x·Φ(x) = ½x(1 + erf(x/√2)), or with <paramref name="tanhApproximation"/> (PyTorch's approximate='tanh')
        /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), computed as x·σ(2u) to stay accurate for large negative x.
        /// </summary>
        public static void Gelu(ReadOnlySpan<float> x, Span<float> y, bool tanhApproximation) => GeluOn(x, y, tanhApproximation, KernelPaths.Default);

        /// <summary>
        /// The gradient of <see cref="Gelu"/>: dy·(Φ(x) + x·φ(x)) for the erf form; for the tanh form
        /// dy·(½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²)).
        /// </summary>
        public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool tanhApproximation) =>
            GeluBackwardOn(x, dy, dx, tanhApproximation, KernelPaths.Default);

        /// <summary>y = 1 / (1 + exp(−x)) (PyTorch's Sigmoid).</summary>
        public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Map<SigmoidOp>(x, y, KernelPaths.Default);

        /// <summary>dx = dy · (1 − y) · y from the forward's output y (PyTorch's sigmoid_backward, the same operations).</summary>
        public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Map<SigmoidGradient>(y, dy, dx, KernelPaths.Default);

        /// <summary>y = tanh(x): an odd polynomial where |x| &lt; ½, 1 − 2 / (exp(2|x|) + 1) with x's sign elsewhere.</summary>
        public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Map<TanhOp>(x, y, KernelPaths.Default);

        /// <summary>dx = dy · (1 − y · y) from the forward's output y (PyTorch's tanh_backward, the same operations).</summary>
        public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Map<TanhGradient>(y, dy, dx, KernelPaths.Default);

        // ------------------------------------------------------------------------------------------------------------
        // Path-explicit entry points for the tests.

        internal static void SigmoidOn(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) => Map<SigmoidOp>(x, y, path);
        internal static void SigmoidBackwardOn(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) => Map<SigmoidGradient>(y, dy, dx, path);
        internal static void TanhOn(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) => Map<TanhOp>(x, y, path);
        internal static void TanhBackwardOn(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) => Map<TanhGradient>(y, dy, dx, path);

        internal static void Relu6On(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) => Map<Relu6Op>(x, y, path);
        internal static void Relu6BackwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) => Map<Relu6Gradient>(x, dy, dx, path);
        internal static void HardswishOn(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) => Map<HardswishOp>(x, y, path);
        internal static void HardswishBackwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) => Map<HardswishGradient>(x, dy, dx, path);
        internal static void SiluOn(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) => Map<SiluOp>(x, y, path);
        internal static void SiluBackwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) => Map<SiluGradient>(x, dy, dx, path);

        internal static void GeluOn(ReadOnlySpan<float> x, Span<float> y, bool tanhApproximation, DirectConvolution.KernelPath path)
        {
            if (tanhApproximation) Map<GeluTanhOp>(x, y, path);
            else Map<GeluErfOp>(x, y, path);
        }

        internal static void GeluBackwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool tanhApproximation, DirectConvolution.KernelPath path)
        {
            if (tanhApproximation) Map<GeluTanhGradient>(x, dy, dx, path);
            else Map<GeluErfGradient>(x, dy, dx, path);
        }

        // ------------------------------------------------------------------------------------------------------------
        // One loop per arity, specialized by the JIT for each operation struct. The loops are kept out of their callers and
        // the operations' vector Apply methods marked for inlining: inlined into a generated layer's method, the loop had no
        // inlining budget left and called ReLU6's operation and its gradient's once per vector (perf, MobileNetV2's
        // training step: 4.2% of it in the two calls' bodies).

        private interface IUnary
        {
            static abstract float Apply(float x);
            static abstract Vector256<float> Apply(Vector256<float> x);
            static abstract Vector512<float> Apply(Vector512<float> x);
        }

        private interface IBinary
        {
            static abstract float Apply(float x, float dy);
            static abstract Vector256<float> Apply(Vector256<float> x, Vector256<float> dy);
            static abstract Vector512<float> Apply(Vector512<float> x, Vector512<float> dy);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path) where TOp : struct, IUnary
        {
            RequireSameLength(x.Length, nameof(x), y.Length, nameof(y));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0, n = x.Length;
            if (path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - 16; i += 16) TOp.Apply(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
            if (path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - 8; i += 8) TOp.Apply(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < n; i++) Unsafe.Add(ref ys, i) = TOp.Apply(Unsafe.Add(ref xs, i));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Map<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path) where TOp : struct, IBinary
        {
            RequireSameLength(x.Length, nameof(x), dy.Length, nameof(dy));
            RequireSameLength(x.Length, nameof(x), dx.Length, nameof(dx));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float gs = ref MemoryMarshal.GetReference(dy);
            ref float ds = ref MemoryMarshal.GetReference(dx);
            int i = 0, n = x.Length;
            if (path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - 16; i += 16)
                    TOp.Apply(Vector512.LoadUnsafe(ref xs, (nuint)i), Vector512.LoadUnsafe(ref gs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
            if (path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - 8; i += 8)
                    TOp.Apply(Vector256.LoadUnsafe(ref xs, (nuint)i), Vector256.LoadUnsafe(ref gs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
            }
            for (; i < n; i++) Unsafe.Add(ref ds, i) = TOp.Apply(Unsafe.Add(ref xs, i), Unsafe.Add(ref gs, i));
        }

        private static void RequireSameLength(int a, string aName, int b, string bName)
        {
            if (a != b) throw new ArgumentException($"Expected '{bName}' as long as '{aName}' ({a} floats) but got {b}.", bName);
        }

        // ------------------------------------------------------------------------------------------------------------
        // The operations. Comparisons are written so that NaN falls through to the pass-through branch where PyTorch's does.

        internal readonly struct Relu6Op : IUnary
        {
            public static float Apply(float x)
            {
                x = x < 0f ? 0f : x;
                return x > 6f ? 6f : x;
            }

            // The same two comparisons by max and min with x second (OutputClamp.Apply: NaN and −0 kept, bit for bit), two
            // instructions instead of a compare and a blend each: Hardswish's pass 1.06-1.09 -> 0.75-0.76 ns a vector of 16
            // (KernelBench activations, Zen 5).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) => OutputClamp.Apply(x, Vector256<float>.Zero, Vector256.Create(6f));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) => OutputClamp.Apply(x, Vector512<float>.Zero, Vector512.Create(6f));
        }

        private readonly struct Relu6Gradient : IBinary
        {
            public static float Apply(float x, float dy) => x > 0f && x < 6f ? dy : 0f;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy) =>
                Vector256.GreaterThan(x, Vector256<float>.Zero) & Vector256.LessThan(x, Vector256.Create(6f)) & dy;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x, Vector512<float> dy) =>
                Vector512.GreaterThan(x, Vector512<float>.Zero) & Vector512.LessThan(x, Vector512.Create(6f)) & dy;
        }

        private readonly struct HardswishOp : IUnary
        {
            public static float Apply(float x) => x * Relu6Op.Apply(x + 3f) / 6f;
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) => x * Relu6Op.Apply(x + Vector256.Create(3f)) / Vector256.Create(6f);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) => x * Relu6Op.Apply(x + Vector512.Create(3f)) / Vector512.Create(6f);
        }

        private readonly struct HardswishGradient : IBinary
        {
            public static float Apply(float x, float dy) => x < -3f ? 0f : x >= 3f ? dy : dy * (x / 3f + 0.5f);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            {
                var middle = dy * (x / Vector256.Create(3f) + Vector256.Create(0.5f));
                var value = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256.Create(3f)), dy, middle);
                return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-3f)), Vector256<float>.Zero, value);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            {
                var middle = dy * (x / Vector512.Create(3f) + Vector512.Create(0.5f));
                var value = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512.Create(3f)), dy, middle);
                return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-3f)), Vector512<float>.Zero, value);
            }
        }

        private readonly struct SiluOp : IUnary
        {
            public static float Apply(float x) => x / (1f + Transcendentals.Exp(-x));
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) => x / (Vector256.Create(1f) + Transcendentals.Exp(-x));
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) => x / (Vector512.Create(1f) + Transcendentals.Exp(-x));
        }

        private readonly struct SigmoidOp : IUnary
        {
            public static float Apply(float x) => 1f / (1f + Transcendentals.Exp(-x));
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) => Vector256.Create(1f) / (Vector256.Create(1f) + Transcendentals.Exp(-x));
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) => Vector512.Create(1f) / (Vector512.Create(1f) + Transcendentals.Exp(-x));
        }

        // Applied to the forward's output y: dy · (1 − y) · y.
        private readonly struct SigmoidGradient : IBinary
        {
            public static float Apply(float y, float dy) => dy * (1f - y) * y;
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> y, Vector256<float> dy) => dy * (Vector256.Create(1f) - y) * y;
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> y, Vector512<float> dy) => dy * (Vector512.Create(1f) - y) * y;
        }

        // tanh on |x|, then x's sign bit (so −0 stays −0 and NaN stays NaN). Below ½ the Taylor series of tanh through x¹³
        // (the next term is under 1e−7 of the value there); from ½ on, 1 − 2/(e^2|x| + 1), whose subtraction loses no
        // more than a couple of ulp once the result is above 0.46. Large |x| saturates to 1 (exp clamps to +∞'s side).
        private const float TanhSeriesBelow = 0.5f;
        private const float T3 = -1f / 3f, T5 = 2f / 15f, T7 = -17f / 315f, T9 = 62f / 2835f, T11 = -1382f / 155925f, T13 = 21844f / 6081075f;

        private readonly struct TanhOp : IUnary
        {
            public static float Apply(float x)
            {
                float a = MathF.Abs(x), z = a * a, z2 = z * z;
                // The series' polynomial in z by Estrin's scheme, fused: (T3 + T5 z) + z² (T7 + T9 z) + z⁴ (T11 + T13 z).
                float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(T13, z, T11), z2, MathF.FusedMultiplyAdd(T9, z, T7)), z2,
                    MathF.FusedMultiplyAdd(T5, z, T3));
                float series = MathF.FusedMultiplyAdd(p * z, a, a);
                float far = 1f - 2f / (Transcendentals.Exp(2f * a) + 1f);
                return MathF.CopySign(a < TanhSeriesBelow ? series : far, x);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x)
            {
                var a = Vector256.Abs(x);
                var z = a * a;
                var z2 = z * z;
                var p = Fused.MultiplyAdd(Fused.MultiplyAdd(Fused.MultiplyAdd(Vector256.Create(T13), z, Vector256.Create(T11)), z2,
                    Fused.MultiplyAdd(Vector256.Create(T9), z, Vector256.Create(T7))), z2, Fused.MultiplyAdd(Vector256.Create(T5), z, Vector256.Create(T3)));
                var series = Fused.MultiplyAdd(p * z, a, a);
                var far = Vector256.Create(1f) - Vector256.Create(2f) / (Transcendentals.Exp(Vector256.Create(2f) * a) + Vector256.Create(1f));
                var magnitude = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(TanhSeriesBelow)), series, far);
                return magnitude | (x & Vector256.Create(-0f));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x)
            {
                var a = Vector512.Abs(x);
                var z = a * a;
                var z2 = z * z;
                var p = Fused.MultiplyAdd(Fused.MultiplyAdd(Fused.MultiplyAdd(Vector512.Create(T13), z, Vector512.Create(T11)), z2,
                    Fused.MultiplyAdd(Vector512.Create(T9), z, Vector512.Create(T7))), z2, Fused.MultiplyAdd(Vector512.Create(T5), z, Vector512.Create(T3)));
                var series = Fused.MultiplyAdd(p * z, a, a);
                var far = Vector512.Create(1f) - Vector512.Create(2f) / (Transcendentals.Exp(Vector512.Create(2f) * a) + Vector512.Create(1f));
                var magnitude = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TanhSeriesBelow)), series, far);
                return magnitude | (x & Vector512.Create(-0f));
            }
        }

        // Applied to the forward's output y: dy · (1 − y · y).
        private readonly struct TanhGradient : IBinary
        {
            public static float Apply(float y, float dy) => dy * (1f - y * y);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> y, Vector256<float> dy) => dy * (Vector256.Create(1f) - y * y);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> y, Vector512<float> dy) => dy * (Vector512.Create(1f) - y * y);
        }

        // 1 − s for s = 1/(1 + e): e·s where s > ½ (no cancellation near 1), else 1 − s (exact enough, and e may be +∞).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Complement(float s, float e) => s > 0.5f ? e * s : 1f - s;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Complement(Vector256<float> s, Vector256<float> e) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(s, Vector256.Create(0.5f)), e * s, Vector256.Create(1f) - s);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Complement(Vector512<float> s, Vector512<float> e) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(s, Vector512.Create(0.5f)), e * s, Vector512.Create(1f) - s);

        private readonly struct SiluGradient : IBinary
        {
            public static float Apply(float x, float dy)
            {
                float e = Transcendentals.Exp(-x), s = 1f / (1f + e);
                return dy * s * (1f + x * Complement(s, e));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            {
                var one = Vector256.Create(1f);
                var e = Transcendentals.Exp(-x);
                var s = one / (one + e);
                return dy * s * (one + x * Complement(s, e));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            {
                var one = Vector512.Create(1f);
                var e = Transcendentals.Exp(-x);
                var s = one / (one + e);
                return dy * s * (one + x * Complement(s, e));
            }
        }

        private readonly struct GeluErfOp : IUnary
        {
            public static float Apply(float x) => x * Transcendentals.NormalCdf(x);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) => x * Transcendentals.NormalCdf(x);
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) => x * Transcendentals.NormalCdf(x);
        }

        private const float InverseSqrt2Pi = 0.398942280401432678f; // 1/√(2π)

        private readonly struct GeluErfGradient : IBinary
        {
            public static float Apply(float x, float dy)
            {
                float cdf = Transcendentals.NormalCdf(x, out float gaussian);
                return dy * (cdf + x * (gaussian * InverseSqrt2Pi));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            {
                var cdf = Transcendentals.NormalCdf(x, out var gaussian);
                return dy * (cdf + x * (gaussian * Vector256.Create(InverseSqrt2Pi)));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            {
                var cdf = Transcendentals.NormalCdf(x, out var gaussian);
                return dy * (cdf + x * (gaussian * Vector512.Create(InverseSqrt2Pi)));
            }
        }

        private const float Beta = 0.797884560802865356f; // √(2/π)
        private const float Kappa = 0.044715f;

        // ½(1 + tanh u) = σ(2u) = 1 / (1 + exp(−2u)), u = β(x + κx³).
        private readonly struct GeluTanhOp : IUnary
        {
            public static float Apply(float x) => x / (1f + Transcendentals.Exp(-2f * (Beta * (x + Kappa * (x * x * x)))));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x) =>
                x / (Vector256.Create(1f) + Transcendentals.Exp(Vector256.Create(-2f) * (Vector256.Create(Beta) * (x + Vector256.Create(Kappa) * (x * x * x)))));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x) =>
                x / (Vector512.Create(1f) + Transcendentals.Exp(Vector512.Create(-2f) * (Vector512.Create(Beta) * (x + Vector512.Create(Kappa) * (x * x * x)))));
        }

        // With e = exp(−2u) and s = σ(2u) = 1/(1 + e): 1 + tanh u = 2s and 1 − tanh² u = 4s(1 − s), so the derivative is
        // s + 2x·s(1 − s)·β(1 + 3κx²); 1 − s is computed as e·s where s is near 1 (see Complement).
        private readonly struct GeluTanhGradient : IBinary
        {
            public static float Apply(float x, float dy)
            {
                float e = Transcendentals.Exp(-2f * (Beta * (x + Kappa * (x * x * x)))), s = 1f / (1f + e);
                return dy * (s + 2f * x * (s * Complement(s, e)) * (Beta * (1f + 3f * Kappa * (x * x))));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy)
            {
                var one = Vector256.Create(1f);
                var e = Transcendentals.Exp(Vector256.Create(-2f) * (Vector256.Create(Beta) * (x + Vector256.Create(Kappa) * (x * x * x))));
                var s = one / (one + e);
                return dy * (s + Vector256.Create(2f) * x * (s * Complement(s, e)) * (Vector256.Create(Beta) * (one + Vector256.Create(3f * Kappa) * (x * x))));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Vector512<float> Apply(Vector512<float> x, Vector512<float> dy)
            {
                var one = Vector512.Create(1f);
                var e = Transcendentals.Exp(Vector512.Create(-2f) * (Vector512.Create(Beta) * (x + Vector512.Create(Kappa) * (x * x * x))));
                var s = one / (one + e);
                return dy * (s + Vector512.Create(2f) * x * (s * Complement(s, e)) * (Vector512.Create(Beta) * (one + Vector512.Create(3f * Kappa) * (x * x))));
            }
        }
    }
}
