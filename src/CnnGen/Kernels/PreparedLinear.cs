using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A <c>Linear</c> layer on one sample (a matrix-vector product) for evaluation, on weights prepared once per change:
    /// transposed to [in][out], each row padded to whole vectors of 16, then the bias. y = bias + Σ_k x[k] · row k.
    /// </summary>
    /// <remarks>
    /// <para>
    /// PyTorch's [out x in] layout makes one sample's product a set of dot products: each ends in a sum across lanes, and
    /// eight rows streamed at once are short runs the prefetcher barely sees. Transposed, the product is one pass down
    /// the weights, whole vectors of outputs accumulated in registers (no sums across lanes), and the weights are read as
    /// one sequential stream. At batch 1, 400 -> 120 (LeNet-5's first, 192 KB of weights, from L2) took 1.0-1.3 µs against
    /// the dot products' 1.5 µs (KernelBench <c>linear</c> has the table over shapes; <see cref="Pays"/> the rule from it).
    /// </para>
    /// <para>
    /// A tile is up to 8 vectors of outputs (128 on Vector512, 64 on Vector256) with two chains of accumulators, the even
    /// and the odd input features, added at the end: sixteen independent sums keep both FMA units busy. The sum's order is
    /// thus not the definition's, which changes the last bits only (the scalar path keeps the definition's order).
    /// </para>
    /// </remarks>
    public static class PreparedLinear
    {
        private const int Lanes = 16;

        private static int PaddedOutputs(int outFeatures) => (outFeatures + Lanes - 1) / Lanes * Lanes;

        /// <summary>
        /// Whether this process's vector path is the one that beats the GEMM: Vector512, where a tile spans 128 outputs and reads
        /// the weights as one sequential stream. The Vector256 tiles of 32 outputs stride across the rows (400 -> 120 measured
        /// 5.2 µs against the GEMM's 1.7 with AVX-512 off), and the scalar path is there for tests; the generated code takes the
        /// GEMM then.
        /// </summary>
        public static bool Active { get; } = KernelPaths.Default == KernelPath.Vector512;

        /// <summary>
        /// Whether the generated evaluation runs a layer of this shape at this batch size on prepared weights: at batch 1, from 64
        /// outputs while the weights take at most 512 KB (the table in benchmarks/README.md; the generator's LinearEmitter applies
        /// the same rule), on the Vector512 path (<see cref="Active"/>).
        /// </summary>
        public static bool Pays(int inFeatures, int outFeatures, int batchSize) =>
            Active && batchSize == 1 && outFeatures >= 64 && (long)inFeatures * outFeatures <= 128 * 1024;

        /// <summary>Floats <see cref="Prepare"/> writes for a layer of this shape: the transposed weights, then the bias, rows of outputs padded to whole vectors of 16.</summary>
        public static int PreparedLength(int inFeatures, int outFeatures)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
            return (inFeatures + 1) * PaddedOutputs(outFeatures);
        }

        /// <summary>
        /// weight [outFeatures x inFeatures] (PyTorch's layout) and bias [outFeatures] (empty: none) to the layout
        /// <see cref="Forward"/> reads: [inFeatures][padded outputs], then the bias row; zeros in the padding.
        /// </summary>
        public static void Prepare(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inFeatures, int outFeatures, Span<float> prepared)
        {
            int length = PreparedLength(inFeatures, outFeatures), stride = PaddedOutputs(outFeatures);
            Require(weight.Length >= inFeatures * outFeatures, nameof(weight), inFeatures * outFeatures);
            if (!bias.IsEmpty) Require(bias.Length >= outFeatures, nameof(bias), outFeatures);
            Require(prepared.Length >= length, nameof(prepared), length);
            prepared.Slice(0, length).Clear();
            for (int j = 0; j < outFeatures; j++)
            {
                var row = weight.Slice(j * inFeatures, inFeatures);
                for (int k = 0; k < inFeatures; k++) prepared[k * stride + j] = row[k];
            }
            if (!bias.IsEmpty) bias.Slice(0, outFeatures).CopyTo(prepared.Slice(inFeatures * stride));
        }

        /// <summary>
        /// y = bias + x · weightᵀ for one sample, then ReLU when <paramref name="relu"/>, from weights made by <see cref="Prepare"/>
        /// for the same shape: x is [inFeatures], y [outFeatures].
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> prepared, int inFeatures, int outFeatures, Span<float> y, bool relu) =>
            ForwardOn(x, prepared, inFeatures, outFeatures, y, relu, KernelPaths.Default);

        internal static void ForwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> prepared, int inFeatures, int outFeatures, Span<float> y, bool relu, KernelPath path)
        {
            int length = PreparedLength(inFeatures, outFeatures), stride = PaddedOutputs(outFeatures);
            Require(x.Length >= inFeatures, nameof(x), inFeatures);
            Require(prepared.Length >= length, nameof(prepared), length);
            Require(y.Length >= outFeatures, nameof(y), outFeatures);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float w = ref MemoryMarshal.GetReference(prepared);
            ref float ys = ref MemoryMarshal.GetReference(y);
            if (path == KernelPath.Scalar)
            {
                ForwardScalar(ref xs, ref w, inFeatures, outFeatures, stride, ref ys, relu);
                return;
            }
            int width = path == KernelPath.Vector512 ? 16 : 8;
            // Tiles of up to 8 vectors; the last tile takes what is left, rounded up to whole vectors (the padding is zeros).
            for (int first = 0; first < outFeatures; first += 8 * width)
            {
                int vectors = Math.Min(8, (outFeatures - first + width - 1) / width);
                if (path == KernelPath.Vector512) Tile512(vectors, ref xs, ref Unsafe.Add(ref w, first), inFeatures, stride, ref ys, first, outFeatures, relu);
                else Tile256(vectors, ref xs, ref Unsafe.Add(ref w, first), inFeatures, stride, ref ys, first, outFeatures, relu);
            }
        }

        // The definition's order: the bias, then each input feature in turn.
        private static void ForwardScalar(ref float x, ref float w, int inFeatures, int outFeatures, int stride, ref float y, bool relu)
        {
            ref float bias = ref Unsafe.Add(ref w, inFeatures * stride);
            for (int j = 0; j < outFeatures; j++)
            {
                float sum = Unsafe.Add(ref bias, j);
                for (int k = 0; k < inFeatures; k++) sum += Unsafe.Add(ref x, k) * Unsafe.Add(ref w, k * stride + j);
                Unsafe.Add(ref y, j) = relu ? Elementwise.Relu(sum) : sum;
            }
        }

        private static void Tile512(int vectors, ref float x, ref float w, int inFeatures, int stride, ref float y, int first, int outFeatures, bool relu)
        {
            switch (vectors)
            {
                case 1: Tile512<C1>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 2: Tile512<C2>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 3: Tile512<C3>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 4: Tile512<C4>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 5: Tile512<C5>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 6: Tile512<C6>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                case 7: Tile512<C7>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
                default: Tile512<C8>(ref x, ref w, inFeatures, stride, ref y, first, outFeatures, relu); break;
            }
        }

        // TVectors vectors of 16 outputs: chain a over the even input features (started at the bias), chain b over the odd.
        private static void Tile512<TVectors>(ref float x, ref float w, int inFeatures, int stride, ref float y, int first, int outFeatures, bool relu)
            where TVectors : struct, IConstant
        {
            const int V = 16;
            int n = TVectors.Value;
            ref float bias = ref Unsafe.Add(ref w, inFeatures * stride);
            var a0 = Vector512.LoadUnsafe(ref bias, 0);
            var a1 = n > 1 ? Vector512.LoadUnsafe(ref bias, 1 * V) : default;
            var a2 = n > 2 ? Vector512.LoadUnsafe(ref bias, 2 * V) : default;
            var a3 = n > 3 ? Vector512.LoadUnsafe(ref bias, 3 * V) : default;
            var a4 = n > 4 ? Vector512.LoadUnsafe(ref bias, 4 * V) : default;
            var a5 = n > 5 ? Vector512.LoadUnsafe(ref bias, 5 * V) : default;
            var a6 = n > 6 ? Vector512.LoadUnsafe(ref bias, 6 * V) : default;
            var a7 = n > 7 ? Vector512.LoadUnsafe(ref bias, 7 * V) : default;
            var b0 = Vector512<float>.Zero; var b1 = b0; var b2 = b0; var b3 = b0; var b4 = b0; var b5 = b0; var b6 = b0; var b7 = b0;
            int k = 0;
            for (; k + 2 <= inFeatures; k += 2)
            {
                ref float r = ref Unsafe.Add(ref w, k * stride);
                ref float s = ref Unsafe.Add(ref r, stride);
                var u = Vector512.Create(Unsafe.Add(ref x, k));
                var v = Vector512.Create(Unsafe.Add(ref x, k + 1));
                a0 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 0), a0);
                b0 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 0), b0);
                if (n > 1) { a1 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 1 * V), a1); b1 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 1 * V), b1); }
                if (n > 2) { a2 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 2 * V), a2); b2 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 2 * V), b2); }
                if (n > 3) { a3 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 3 * V), a3); b3 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 3 * V), b3); }
                if (n > 4) { a4 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 4 * V), a4); b4 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 4 * V), b4); }
                if (n > 5) { a5 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 5 * V), a5); b5 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 5 * V), b5); }
                if (n > 6) { a6 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 6 * V), a6); b6 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 6 * V), b6); }
                if (n > 7) { a7 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 7 * V), a7); b7 = Fused.MultiplyAdd(v, Vector512.LoadUnsafe(ref s, 7 * V), b7); }
            }
            if (k < inFeatures)
            {
                ref float r = ref Unsafe.Add(ref w, k * stride);
                var u = Vector512.Create(Unsafe.Add(ref x, k));
                a0 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 0), a0);
                if (n > 1) a1 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 1 * V), a1);
                if (n > 2) a2 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 2 * V), a2);
                if (n > 3) a3 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 3 * V), a3);
                if (n > 4) a4 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 4 * V), a4);
                if (n > 5) a5 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 5 * V), a5);
                if (n > 6) a6 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 6 * V), a6);
                if (n > 7) a7 = Fused.MultiplyAdd(u, Vector512.LoadUnsafe(ref r, 7 * V), a7);
            }
            ref float target = ref Unsafe.Add(ref y, first);
            int left = outFeatures - first;
            Store(a0 + b0, ref target, 0, left, relu);
            if (n > 1) Store(a1 + b1, ref target, 1 * V, left, relu);
            if (n > 2) Store(a2 + b2, ref target, 2 * V, left, relu);
            if (n > 3) Store(a3 + b3, ref target, 3 * V, left, relu);
            if (n > 4) Store(a4 + b4, ref target, 4 * V, left, relu);
            if (n > 5) Store(a5 + b5, ref target, 5 * V, left, relu);
            if (n > 6) Store(a6 + b6, ref target, 6 * V, left, relu);
            if (n > 7) Store(a7 + b7, ref target, 7 * V, left, relu);
        }

        // A whole vector when it fits before the end of y, else its first lanes one by one.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector512<float> sum, ref float target, int at, int left, bool relu)
        {
            if (relu) sum = Elementwise.Relu(sum);
            if (at + 16 <= left)
            {
                sum.StoreUnsafe(ref target, (nuint)at);
                return;
            }
            for (int i = 0; at + i < left; i++) Unsafe.Add(ref target, at + i) = sum.GetElement(i);
        }

        private static void Tile256(int vectors, ref float x, ref float w, int inFeatures, int stride, ref float y, int first, int outFeatures, bool relu)
        {
            // Four vectors per tile: two chains of four accumulators and their operands fit AVX2's 16 registers.
            for (int v = 0; v < vectors; v += 4)
            {
                int count = Math.Min(4, vectors - v);
                ref float tile = ref Unsafe.Add(ref w, v * 8);
                int at = first + v * 8;
                switch (count)
                {
                    case 1: Tile256<C1>(ref x, ref tile, inFeatures, stride, ref y, at, outFeatures, relu); break;
                    case 2: Tile256<C2>(ref x, ref tile, inFeatures, stride, ref y, at, outFeatures, relu); break;
                    case 3: Tile256<C3>(ref x, ref tile, inFeatures, stride, ref y, at, outFeatures, relu); break;
                    default: Tile256<C4>(ref x, ref tile, inFeatures, stride, ref y, at, outFeatures, relu); break;
                }
            }
        }

        private static void Tile256<TVectors>(ref float x, ref float w, int inFeatures, int stride, ref float y, int first, int outFeatures, bool relu)
            where TVectors : struct, IConstant
        {
            const int V = 8;
            int n = TVectors.Value;
            ref float bias = ref Unsafe.Add(ref w, inFeatures * stride);
            var a0 = Vector256.LoadUnsafe(ref bias, 0);
            var a1 = n > 1 ? Vector256.LoadUnsafe(ref bias, 1 * V) : default;
            var a2 = n > 2 ? Vector256.LoadUnsafe(ref bias, 2 * V) : default;
            var a3 = n > 3 ? Vector256.LoadUnsafe(ref bias, 3 * V) : default;
            var b0 = Vector256<float>.Zero; var b1 = b0; var b2 = b0; var b3 = b0;
            int k = 0;
            for (; k + 2 <= inFeatures; k += 2)
            {
                ref float r = ref Unsafe.Add(ref w, k * stride);
                ref float s = ref Unsafe.Add(ref r, stride);
                var u = Vector256.Create(Unsafe.Add(ref x, k));
                var v = Vector256.Create(Unsafe.Add(ref x, k + 1));
                a0 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 0), a0);
                b0 = Fused.MultiplyAdd(v, Vector256.LoadUnsafe(ref s, 0), b0);
                if (n > 1) { a1 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 1 * V), a1); b1 = Fused.MultiplyAdd(v, Vector256.LoadUnsafe(ref s, 1 * V), b1); }
                if (n > 2) { a2 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 2 * V), a2); b2 = Fused.MultiplyAdd(v, Vector256.LoadUnsafe(ref s, 2 * V), b2); }
                if (n > 3) { a3 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 3 * V), a3); b3 = Fused.MultiplyAdd(v, Vector256.LoadUnsafe(ref s, 3 * V), b3); }
            }
            if (k < inFeatures)
            {
                ref float r = ref Unsafe.Add(ref w, k * stride);
                var u = Vector256.Create(Unsafe.Add(ref x, k));
                a0 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 0), a0);
                if (n > 1) a1 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 1 * V), a1);
                if (n > 2) a2 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 2 * V), a2);
                if (n > 3) a3 = Fused.MultiplyAdd(u, Vector256.LoadUnsafe(ref r, 3 * V), a3);
            }
            ref float target = ref Unsafe.Add(ref y, first);
            int left = outFeatures - first;
            Store(a0 + b0, ref target, 0, left, relu);
            if (n > 1) Store(a1 + b1, ref target, 1 * V, left, relu);
            if (n > 2) Store(a2 + b2, ref target, 2 * V, left, relu);
            if (n > 3) Store(a3 + b3, ref target, 3 * V, left, relu);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector256<float> sum, ref float target, int at, int left, bool relu)
        {
            if (relu) sum = Elementwise.Relu(sum);
            if (at + 8 <= left)
            {
                sum.StoreUnsafe(ref target, (nuint)at);
                return;
            }
            for (int i = 0; at + i < left; i++) Unsafe.Add(ref target, at + i) = sum.GetElement(i);
        }

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }
    }
}
