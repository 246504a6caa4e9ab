using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A convolution's output bounds, applied in its epilogue while the accumulators are in registers: v &lt; low ? low : v,
    /// then v &gt; high ? high : v, the comparisons of the element-wise ReLU and ReLU6 kernels (so NaN passes through and the
    /// fused result is theirs bit for bit). ReLU is [0, +∞), ReLU6 [0, 6], no activation (−∞, +∞).
    /// </summary>
    internal readonly struct OutputClamp
    {
        public readonly float Low, High;

        public OutputClamp(float low, float high)
        {
            if (!(low <= high)) throw new ArgumentException("Expected low <= high (and neither NaN).", nameof(low));
            Low = low;
            High = high;
        }

        public bool IsNone => float.IsNegativeInfinity(Low) && float.IsPositiveInfinity(High);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float v)
        {
            v = v < Low ? Low : v;
            return v > High ? High : v;
        }

        // Stores v, clamped unless the bounds are none (a branch the predictor learns, not two vector operations per store).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, bool none, Vector512<float> low, Vector512<float> high, ref float to)
        {
            if (!none) v = Apply(v, low, high);
            v.StoreUnsafe(ref to);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<float> v, bool none, Vector256<float> low, Vector256<float> high, ref float to)
        {
            if (!none) v = Apply(v, low, high);
            v.StoreUnsafe(ref to);
        }

        // max(low, v), then min(high, v): vmaxps and vminps return their second operand where either is NaN or both are zeros,
        // so with v second they give the comparisons' results bit for bit (NaN and −0 kept) in two instructions, not four.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> low, Vector512<float> high)
        {
#if NET9_0_OR_GREATER
            return Vector512.MinNative(high, Vector512.MaxNative(low, v));
#else
            v = Vector512.ConditionalSelect(Vector512.LessThan(v, low), low, v);
            return Vector512.ConditionalSelect(Vector512.GreaterThan(v, high), high, v);
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> low, Vector256<float> high)
        {
#if NET9_0_OR_GREATER
            return Vector256.MinNative(high, Vector256.MaxNative(low, v));
#else
            v = Vector256.ConditionalSelect(Vector256.LessThan(v, low), low, v);
            return Vector256.ConditionalSelect(Vector256.GreaterThan(v, high), high, v);
#endif
        }

        /// <summary>Clamps <paramref name="y"/> in place: a separate pass, for kernels without the bounds in their epilogue.</summary>
        public void ApplyInPlace(Span<float> y, DirectConvolution.KernelPath path)
        {
            if (IsNone) return;
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0;
            if (path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated)
            {
                var low = Vector256.Create(Low);
                var high = Vector256.Create(High);
                for (; i <= y.Length - 8; i += 8) Apply(Vector256.LoadUnsafe(ref ys, (nuint)i), low, high).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < y.Length; i++) Unsafe.Add(ref ys, i) = Apply(Unsafe.Add(ref ys, i));
        }
    }
}
