using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Element-wise kernels the generated code calls with constant lengths: activations and their gradients, bias
    /// rows, dropout masks. Vector256 when <see cref="Simd.Enabled"/>, scalar otherwise; both give the same results
    /// bit for bit (each element is computed on its own, with the same operations).
    /// </summary>
    public static class Elementwise
    {
        /// <summary>y = max(x, 0), NaN passing through (PyTorch's ReLU).</summary>
        public static void Relu(ReadOnlySpan<float> x, Span<float> y)
        {
            RequireSameLength(x.Length, y.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0;
            if (Simd.Enabled)
            {
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    Relu(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref ys, i) = Relu(Unsafe.Add(ref xs, i));
        }

        // ReLU as every kernel computes it, fused or not: where v < 0 take 0, else v (NaN compares false and passes
        // through, and so does -0), so fused and separate layers agree bit for bit.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static float Relu(float v) => v < 0f ? 0f : v;

        // On x86, MAXPS(0, v) is 0 > v ? 0 : v and returns its second operand when one is NaN: the same rule in one
        // instruction (a compare into a mask and a blend otherwise; mask operations limited the pooled epilogues).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<float> Relu(Vector256<float> v) =>
            Avx.IsSupported ? Avx.Max(Vector256<float>.Zero, v)
            : Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<float> Relu(Vector512<float> v) =>
            Avx512F.IsSupported ? Avx512F.Max(Vector512<float>.Zero, v)
            : Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512<float>.Zero, v);

        /// <summary>y = x for x &gt; 0, else slope·x (PyTorch's LeakyReLU).</summary>
        public static void LeakyRelu(ReadOnlySpan<float> x, Span<float> y, float slope)
        {
            RequireSameLength(x.Length, y.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0;
            if (Simd.Enabled)
            {
                var zero = Vector256<float>.Zero;
                var s = Vector256.Create(slope);
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var v = Vector256.LoadUnsafe(ref xs, (nuint)i);
                    Vector256.ConditionalSelect(Vector256.GreaterThan(v, zero), v, v * s).StoreUnsafe(ref ys, (nuint)i);
                }
            }
            for (; i < x.Length; i++)
            {
                float v = Unsafe.Add(ref xs, i);
                Unsafe.Add(ref ys, i) = v > 0f ? v : v * slope;
            }
        }

        /// <summary>dx = dy where x &gt; 0, else 0 (ReLU's gradient); with <paramref name="slope"/>, dy·slope instead of 0 (LeakyReLU's).</summary>
        public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float slope = 0f)
        {
            RequireSameLength(x.Length, dy.Length);
            RequireSameLength(x.Length, dx.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float gs = ref MemoryMarshal.GetReference(dy);
            ref float ds = ref MemoryMarshal.GetReference(dx);
            int i = 0;
            if (Simd.Enabled)
            {
                var zero = Vector256<float>.Zero;
                var s = Vector256.Create(slope);
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var g = Vector256.LoadUnsafe(ref gs, (nuint)i);
                    var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref xs, (nuint)i), zero);
                    Vector256.ConditionalSelect(positive, g, g * s).StoreUnsafe(ref ds, (nuint)i);
                }
            }
            for (; i < x.Length; i++)
            {
                float g = Unsafe.Add(ref gs, i);
                Unsafe.Add(ref ds, i) = Unsafe.Add(ref xs, i) > 0f ? g : g * slope;
            }
        }

        /// <summary>
        /// dx = (a + b) where y &gt; 0, else (a + b)·0: a ReLU's gradient when its output gradient arrives as two parts (a
        /// residual join's), in one pass instead of <see cref="Add"/> and then <see cref="ReluBackward"/>; the same values bit
        /// for bit. <paramref name="dx"/> may be <paramref name="a"/> or <paramref name="b"/>.
        /// </summary>
        public static void ReluBackwardOfSum(ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dx) =>
            ReluBackwardOfSumOn(y, a, b, dx, KernelPaths.Default);

        internal static void ReluBackwardOfSumOn(ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dx, DirectConvolution.KernelPath path)
        {
            RequireSameLength(y.Length, a.Length);
            RequireSameLength(y.Length, b.Length);
            RequireSameLength(y.Length, dx.Length);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float first = ref MemoryMarshal.GetReference(a);
            ref float second = ref MemoryMarshal.GetReference(b);
            ref float ds = ref MemoryMarshal.GetReference(dx);
            int i = 0;
            if (path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated)
            {
                var zero = Vector512<float>.Zero;
                for (; i <= y.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                {
                    var g = Vector512.LoadUnsafe(ref first, (nuint)i) + Vector512.LoadUnsafe(ref second, (nuint)i);
                    var positive = Vector512.GreaterThan(Vector512.LoadUnsafe(ref ys, (nuint)i), zero);
                    Vector512.ConditionalSelect(positive, g, g * zero).StoreUnsafe(ref ds, (nuint)i);
                }
            }
            if (path != DirectConvolution.KernelPath.Scalar)
            {
                var zero = Vector256<float>.Zero;
                for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var g = Vector256.LoadUnsafe(ref first, (nuint)i) + Vector256.LoadUnsafe(ref second, (nuint)i);
                    var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref ys, (nuint)i), zero);
                    Vector256.ConditionalSelect(positive, g, g * zero).StoreUnsafe(ref ds, (nuint)i);
                }
            }
            for (; i < y.Length; i++)
            {
                float g = Unsafe.Add(ref first, i) + Unsafe.Add(ref second, i);
                Unsafe.Add(ref ds, i) = Unsafe.Add(ref ys, i) > 0f ? g : g * 0f;
            }
        }

        /// <summary>row[i] += value: a bias added to one output channel or one sample's features.</summary>
        public static void AddScalar(Span<float> row, float value)
        {
            ref float rs = ref MemoryMarshal.GetReference(row);
            int i = 0;
            if (Simd.Enabled)
            {
                var v = Vector256.Create(value);
                for (; i <= row.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref rs, (nuint)i) + v).StoreUnsafe(ref rs, (nuint)i);
            }
            for (; i < row.Length; i++) Unsafe.Add(ref rs, i) += value;
        }

        /// <summary>z[i] = x[i] + y[i]: a residual block's sum. z may alias x or y.</summary>
        public static void Sum(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
        {
            RequireSameLength(x.Length, y.Length);
            RequireSameLength(x.Length, z.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float zs = ref MemoryMarshal.GetReference(z);
            int i = 0;
            if (Simd.Enabled)
            {
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref xs, (nuint)i) + Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref zs, i) = Unsafe.Add(ref xs, i) + Unsafe.Add(ref ys, i);
        }

        /// <summary>
        /// z = ReLU(x + y): a residual block's sum and the ReLU after it in one pass (evaluation keeps no sum). The same
        /// values as <see cref="Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> then <see cref="Relu(ReadOnlySpan{float}, Span{float})"/>, bit for bit.
        /// </summary>
        public static void SumRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
        {
            RequireSameLength(x.Length, y.Length);
            RequireSameLength(x.Length, z.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float zs = ref MemoryMarshal.GetReference(z);
            int i = 0;
            if (Simd.Enabled)
            {
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    Relu(Vector256.LoadUnsafe(ref xs, (nuint)i) + Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref zs, i) = Relu(Unsafe.Add(ref xs, i) + Unsafe.Add(ref ys, i));
        }

        /// <summary>y[i] += x[i]: a bias vector added to one sample, or gradients summed.</summary>
        public static void Add(ReadOnlySpan<float> x, Span<float> y)
        {
            RequireSameLength(x.Length, y.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0;
            if (Simd.Enabled)
            {
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref ys, (nuint)i) + Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref ys, i) += Unsafe.Add(ref xs, i);
        }

        /// <summary>
        /// The sum of a row, in a fixed order (eight interleaved partial sums when vectorized, then one running sum);
        /// the scalar path adds in the same order, so both agree bit for bit.
        /// </summary>
        public static float Sum(ReadOnlySpan<float> row)
        {
            ref float rs = ref MemoryMarshal.GetReference(row);
            int i = 0;
            float total = 0f;
            int vectorEnd = row.Length - row.Length % Vector256<float>.Count;
            if (vectorEnd > 0)
            {
                Span<float> lanes = stackalloc float[Vector256<float>.Count];
                if (Simd.Enabled)
                {
                    var acc = Vector256<float>.Zero;
                    for (; i < vectorEnd; i += Vector256<float>.Count) acc += Vector256.LoadUnsafe(ref rs, (nuint)i);
                    acc.CopyTo(lanes);
                }
                else
                {
                    lanes.Clear();
                    for (; i < vectorEnd; i += Vector256<float>.Count)
                        for (int lane = 0; lane < lanes.Length; lane++) lanes[lane] += Unsafe.Add(ref rs, i + lane);
                }
                foreach (float lane in lanes) total += lane;
            }
            for (; i < row.Length; i++) total += Unsafe.Add(ref rs, i);
            return total;
        }

        /// <summary>
        /// Dropout in training: for each value in order, keep = <paramref name="random"/>.NextFloat() &lt; <paramref name="p"/> ? 0 :
        /// <paramref name="scale"/>; mask = keep; y = x · keep. The same draws in the same order as that loop, so the same masks:
        /// the generator's state is a local kept in registers (copied back at the end), and the keeps of 8 draws are made at
        /// once without a branch (a quarter of the draws fall under p at random, a mispredicted branch each). A draw's 24 bits
        /// as an int times 2⁻²⁴ is exactly the float NextFloat returns. KernelBench dropout.
        /// </summary>
        public static void Dropout(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, ref CnnRandom random, float p, float scale)
        {
            if (y.Length < x.Length || mask.Length < x.Length) throw new ArgumentException("Expected y and mask of at least " + x.Length + " floats.");
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float ms = ref MemoryMarshal.GetReference(mask);
            var draws = random;
            int i = 0, n = x.Length;
            if (Simd.Enabled && Vector256.IsHardwareAccelerated)
            {
                Span<int> bits = stackalloc int[8];
                ref int b = ref MemoryMarshal.GetReference(bits);
                var unit = Vector256.Create(1.0f / 16777216.0f);
                var (below, keepScale) = (Vector256.Create(p), Vector256.Create(scale));
                for (; i <= n - 8; i += 8)
                {
                    for (int k = 0; k < 8; k++) Unsafe.Add(ref b, k) = (int)(draws.NextUInt64() >> 40);
                    var u = Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref b)) * unit;
                    var keep = Vector256.ConditionalSelect(Vector256.LessThan(u, below), Vector256<float>.Zero, keepScale);
                    keep.StoreUnsafe(ref ms, (nuint)i);
                    (Vector256.LoadUnsafe(ref xs, (nuint)i) * keep).StoreUnsafe(ref ys, (nuint)i);
                }
            }
            for (; i < n; i++)
            {
                float keep = draws.NextFloat() < p ? 0f : scale;
                Unsafe.Add(ref ms, i) = keep;
                Unsafe.Add(ref ys, i) = Unsafe.Add(ref xs, i) * keep;
            }
            random = draws;
        }

        /// <summary>z[i] = x[i] · y[i]: dropout's mask applied forward or backward.</summary>
        public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
        {
            RequireSameLength(x.Length, y.Length);
            RequireSameLength(x.Length, z.Length);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float zs = ref MemoryMarshal.GetReference(z);
            int i = 0;
            if (Simd.Enabled)
            {
                for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    (Vector256.LoadUnsafe(ref xs, (nuint)i) * Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref zs, i) = Unsafe.Add(ref xs, i) * Unsafe.Add(ref ys, i);
        }

        private static void RequireSameLength(int a, int b)
        {
            if (a != b) throw new ArgumentException($"Expected spans of the same length but got {a} and {b}.");
        }
    }
}
