using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A pointwise convolution (1x1 kernel, stride 1, no padding, no groups) of one sample, for evaluation: a product over
    /// channels, y [outChannels x plane] = weight [outChannels x inChannels] · x [inChannels x plane] + bias, computed in
    /// register tiles with no packing and no second pass for the bias.
    /// </summary>
    /// <remarks>
    /// A tile is up to 4 output channels x up to 4 vectors of cells (16 floats each on Vector512, 8 on Vector256): per input
    /// channel, one load per vector of x and one broadcast weight per output channel feed 16 fused multiply-adds, the
    /// accumulators starting at the bias. The weights are read as PyTorch stores them ([outChannels x inChannels], a row per
    /// output channel), so nothing is packed per call. On planes of 256+ cells with 32+ channels each way a block of up to
    /// four vectors of cells is first copied together for every output channel to read (PacksBlocks). Cells past the last
    /// whole vector run a scalar tile. The sum over the input channels runs in their order, as in the definition, so every
    /// path agrees to rounding with the others. An activation's bounds (a fused ReLU or ReLU6) are applied to the
    /// accumulators before they are stored.
    /// </remarks>
    public static class PointwiseConvolution
    {
        /// <summary>Whether a layer whose shape pays for it copies blocks of cells together first (KernelBench turns it off to compare).</summary>
        internal static bool BlockPacking = true;

        // Planes of 256 cells or more put an input channel's rows 1 KB or more apart, so the rows a tile reads for 32+ input
        // channels fall into the same few L1 sets and come from L2: a block of cells copied together first (reused by every
        // output channel) reads from L1.
        private static bool PacksBlocks(int inChannels, int plane, int outChannels) => plane >= 256 && inChannels >= 32 && outChannels >= 32;

        [ThreadStatic]
        private static float[]? t_block;

        private static float[] BlockBuffer(int length)
        {
            var buffer = t_block;
            if (buffer is null || buffer.Length < length) t_block = buffer = new float[length];
            return buffer;
        }

        /// <summary>
        /// y[oc, i] = bias[oc] + Σ_c weight[oc, c] · x[c, i] for every output channel oc and cell i &lt; <paramref name="plane"/>;
        /// an empty <paramref name="bias"/> means none.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the bias neither empty nor outChannels long.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y) =>
            ForwardOn(x, inChannels, plane, weight, bias, outChannels, y, KernelPaths.Default);

        /// <summary>
        /// The same product with each output clamped to [<paramref name="low"/>, <paramref name="high"/>] in the tile's
        /// registers, as the element-wise kernels clamp (v &lt; low ? low : v, then v &gt; high ? high : v): a fused ReLU is
        /// (0, +∞), ReLU6 (0, 6).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
        /// <exception cref="ArgumentException">As the other overload, or <paramref name="low"/> is above <paramref name="high"/> or either is NaN.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, float low, float high) =>
            ForwardOn(x, inChannels, plane, weight, bias, outChannels, y, KernelPaths.Default, low, high);

        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int plane, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, KernelPath path, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
        {
            var clamp = new OutputClamp(low, high);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plane);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            Require(x.Length >= inChannels * plane, nameof(x), inChannels * plane);
            Require(weight.Length >= outChannels * inChannels, nameof(weight), outChannels * inChannels);
            if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException("Expected " + outChannels + " floats or none.", nameof(bias));
            Require(y.Length >= outChannels * plane, nameof(y), outChannels * plane);

            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ws = ref MemoryMarshal.GetReference(weight);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int lanes = path == KernelPath.Vector512 && Vector512.IsHardwareAccelerated ? 16
                : path != KernelPath.Scalar && Vector256.IsHardwareAccelerated ? 8 : 0;
            int vectorCells = lanes == 0 ? 0 : plane / lanes * lanes;
            Span<float> b = stackalloc float[4];
            bool blocks = BlockPacking && lanes > 0 && PacksBlocks(inChannels, plane, outChannels);
            if (blocks)
            {
                // A block of up to four vectors of cells at a time over every output channel: the block's input (inChannels x
                // 64 cells, 32 KB at 128 channels) stays in L1 while the weights stream, instead of the whole input passing
                // through for each 4 output channels.
                float[] buffer = BlockBuffer(inChannels * 4 * lanes);
                for (int cell0 = 0; cell0 < vectorCells;)
                {
                    int vectors = Math.Min(4, (vectorCells - cell0) / lanes), blockStride = vectors * lanes;
                    ref float block = ref MemoryMarshal.GetArrayDataReference(buffer);
                    for (int c = 0; c < inChannels; c++)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref xs, c * plane + cell0), blockStride).CopyTo(buffer.AsSpan(c * blockStride, blockStride));
                    for (int oc = 0; oc < outChannels; oc += 4)
                    {
                        int rows = Math.Min(4, outChannels - oc);
                        for (int r = 0; r < rows; r++) b[r] = bias.IsEmpty ? 0f : bias[oc + r];
                        ref float w = ref Unsafe.Add(ref ws, oc * inChannels);
                        ref float o = ref Unsafe.Add(ref ys, oc * plane + cell0);
                        if (lanes == 16) Tile512(rows, vectors, ref block, inChannels, blockStride, plane, ref w, b, clamp, ref o);
                        else Tile256(rows, vectors, ref block, inChannels, blockStride, plane, ref w, b, clamp, ref o);
                    }
                    cell0 += vectors * lanes;
                }
            }
            for (int oc = 0; oc < outChannels; oc += 4)
            {
                int rows = Math.Min(4, outChannels - oc);
                ref float w = ref Unsafe.Add(ref ws, oc * inChannels);
                ref float o = ref Unsafe.Add(ref ys, oc * plane);
                for (int r = 0; r < rows; r++) b[r] = bias.IsEmpty ? 0f : bias[oc + r];
                int cell = blocks ? vectorCells : 0; // the vector cells ran above by blocks
                while (cell < vectorCells)
                {
                    int vectors = Math.Min(4, (vectorCells - cell) / lanes);
                    if (lanes == 16) Tile512(rows, vectors, ref Unsafe.Add(ref xs, cell), inChannels, plane, plane, ref w, b, clamp, ref Unsafe.Add(ref o, cell));
                    else Tile256(rows, vectors, ref Unsafe.Add(ref xs, cell), inChannels, plane, plane, ref w, b, clamp, ref Unsafe.Add(ref o, cell));
                    cell += vectors * lanes;
                }
                for (; cell < plane; cell++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        float sum = b[r];
                        ref float row = ref Unsafe.Add(ref w, r * inChannels);
                        for (int c = 0; c < inChannels; c++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref row, c), Unsafe.Add(ref xs, c * plane + cell), sum);
                        Unsafe.Add(ref o, r * plane + cell) = clamp.Apply(sum);
                    }
                }
            }
        }

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }

        // Specializes the tile for its rows and vectors, so each shape has its own registers.
        private static void Tile512(int rows, int vectors, ref float x, int inChannels, int xStride, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y)
        {
            switch (rows * 4 + vectors)
            {
                case 4 + 1: Tile512<C1, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 2: Tile512<C1, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 3: Tile512<C1, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 4: Tile512<C1, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 1: Tile512<C2, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 2: Tile512<C2, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 3: Tile512<C2, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 4: Tile512<C2, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 1: Tile512<C3, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 2: Tile512<C3, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 3: Tile512<C3, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 4: Tile512<C3, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 1: Tile512<C4, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 2: Tile512<C4, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 3: Tile512<C4, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                default: Tile512<C4, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
            }
        }

        private static void Tile256(int rows, int vectors, ref float x, int inChannels, int xStride, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y)
        {
            switch (rows * 4 + vectors)
            {
                case 4 + 1: Tile256<C1, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 2: Tile256<C1, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 3: Tile256<C1, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 4 + 4: Tile256<C1, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 1: Tile256<C2, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 2: Tile256<C2, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 3: Tile256<C2, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 8 + 4: Tile256<C2, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 1: Tile256<C3, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 2: Tile256<C3, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 3: Tile256<C3, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 12 + 4: Tile256<C3, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 1: Tile256<C4, C1>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 2: Tile256<C4, C2>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                case 16 + 3: Tile256<C4, C3>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
                default: Tile256<C4, C4>(ref x, inChannels, xStride, plane, ref w, bias, clamp, ref y); break;
            }
        }

        // TRows output channels x TVectors vectors of 16 cells; unused accumulators vanish at JIT time.
        private static void Tile512<TRows, TVectors>(ref float x, int inChannels, int xStride, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y)
            where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            int rows = TRows.Value, vectors = TVectors.Value;
            Vector512<float> a00, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            a00 = Vector512.Create(bias[0]);
            if (vectors > 1) a01 = a00;
            if (vectors > 2) a02 = a00;
            if (vectors > 3) a03 = a00;
            if (rows > 1) { a10 = Vector512.Create(bias[1]); a11 = a10; a12 = a10; a13 = a10; }
            if (rows > 2) { a20 = Vector512.Create(bias[2]); a21 = a20; a22 = a20; a23 = a20; }
            if (rows > 3) { a30 = Vector512.Create(bias[3]); a31 = a30; a32 = a30; a33 = a30; }
            for (int c = 0; c < inChannels; c++)
            {
                ref float xc = ref Unsafe.Add(ref x, c * xStride);
                var x0 = Vector512.LoadUnsafe(ref xc);
                var x1 = vectors > 1 ? Vector512.LoadUnsafe(ref xc, 16) : default;
                var x2 = vectors > 2 ? Vector512.LoadUnsafe(ref xc, 32) : default;
                var x3 = vectors > 3 ? Vector512.LoadUnsafe(ref xc, 48) : default;
                var w0 = Vector512.Create(Unsafe.Add(ref w, c));
                a00 = Fused.MultiplyAdd(w0, x0, a00);
                if (vectors > 1) a01 = Fused.MultiplyAdd(w0, x1, a01);
                if (vectors > 2) a02 = Fused.MultiplyAdd(w0, x2, a02);
                if (vectors > 3) a03 = Fused.MultiplyAdd(w0, x3, a03);
                if (rows > 1)
                {
                    var w1 = Vector512.Create(Unsafe.Add(ref w, inChannels + c));
                    a10 = Fused.MultiplyAdd(w1, x0, a10);
                    if (vectors > 1) a11 = Fused.MultiplyAdd(w1, x1, a11);
                    if (vectors > 2) a12 = Fused.MultiplyAdd(w1, x2, a12);
                    if (vectors > 3) a13 = Fused.MultiplyAdd(w1, x3, a13);
                }
                if (rows > 2)
                {
                    var w2 = Vector512.Create(Unsafe.Add(ref w, 2 * inChannels + c));
                    a20 = Fused.MultiplyAdd(w2, x0, a20);
                    if (vectors > 1) a21 = Fused.MultiplyAdd(w2, x1, a21);
                    if (vectors > 2) a22 = Fused.MultiplyAdd(w2, x2, a22);
                    if (vectors > 3) a23 = Fused.MultiplyAdd(w2, x3, a23);
                }
                if (rows > 3)
                {
                    var w3 = Vector512.Create(Unsafe.Add(ref w, 3 * inChannels + c));
                    a30 = Fused.MultiplyAdd(w3, x0, a30);
                    if (vectors > 1) a31 = Fused.MultiplyAdd(w3, x1, a31);
                    if (vectors > 2) a32 = Fused.MultiplyAdd(w3, x2, a32);
                    if (vectors > 3) a33 = Fused.MultiplyAdd(w3, x3, a33);
                }
            }
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            Store512(a00, a01, a02, a03, vectors, none, low, high, ref y);
            if (rows > 1) Store512(a10, a11, a12, a13, vectors, none, low, high, ref Unsafe.Add(ref y, plane));
            if (rows > 2) Store512(a20, a21, a22, a23, vectors, none, low, high, ref Unsafe.Add(ref y, 2 * plane));
            if (rows > 3) Store512(a30, a31, a32, a33, vectors, none, low, high, ref Unsafe.Add(ref y, 3 * plane));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store512(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, int vectors,
            bool none, Vector512<float> low, Vector512<float> high, ref float y)
        {
            OutputClamp.Store(v0, none, low, high, ref y);
            if (vectors > 1) OutputClamp.Store(v1, none, low, high, ref Unsafe.Add(ref y, 16));
            if (vectors > 2) OutputClamp.Store(v2, none, low, high, ref Unsafe.Add(ref y, 32));
            if (vectors > 3) OutputClamp.Store(v3, none, low, high, ref Unsafe.Add(ref y, 48));
        }

        // The same tile on Vector256: TRows output channels x TVectors vectors of 8 cells.
        private static void Tile256<TRows, TVectors>(ref float x, int inChannels, int xStride, int plane, ref float w, ReadOnlySpan<float> bias, OutputClamp clamp, ref float y)
            where TRows : struct, IConstant where TVectors : struct, IConstant
        {
            int rows = TRows.Value, vectors = TVectors.Value;
            Vector256<float> a00, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            a00 = Vector256.Create(bias[0]);
            if (vectors > 1) a01 = a00;
            if (vectors > 2) a02 = a00;
            if (vectors > 3) a03 = a00;
            if (rows > 1) { a10 = Vector256.Create(bias[1]); a11 = a10; a12 = a10; a13 = a10; }
            if (rows > 2) { a20 = Vector256.Create(bias[2]); a21 = a20; a22 = a20; a23 = a20; }
            if (rows > 3) { a30 = Vector256.Create(bias[3]); a31 = a30; a32 = a30; a33 = a30; }
            for (int c = 0; c < inChannels; c++)
            {
                ref float xc = ref Unsafe.Add(ref x, c * xStride);
                var x0 = Vector256.LoadUnsafe(ref xc);
                var x1 = vectors > 1 ? Vector256.LoadUnsafe(ref xc, 8) : default;
                var x2 = vectors > 2 ? Vector256.LoadUnsafe(ref xc, 16) : default;
                var x3 = vectors > 3 ? Vector256.LoadUnsafe(ref xc, 24) : default;
                var w0 = Vector256.Create(Unsafe.Add(ref w, c));
                a00 = Fused.MultiplyAdd(w0, x0, a00);
                if (vectors > 1) a01 = Fused.MultiplyAdd(w0, x1, a01);
                if (vectors > 2) a02 = Fused.MultiplyAdd(w0, x2, a02);
                if (vectors > 3) a03 = Fused.MultiplyAdd(w0, x3, a03);
                if (rows > 1)
                {
                    var w1 = Vector256.Create(Unsafe.Add(ref w, inChannels + c));
                    a10 = Fused.MultiplyAdd(w1, x0, a10);
                    if (vectors > 1) a11 = Fused.MultiplyAdd(w1, x1, a11);
                    if (vectors > 2) a12 = Fused.MultiplyAdd(w1, x2, a12);
                    if (vectors > 3) a13 = Fused.MultiplyAdd(w1, x3, a13);
                }
                if (rows > 2)
                {
                    var w2 = Vector256.Create(Unsafe.Add(ref w, 2 * inChannels + c));
                    a20 = Fused.MultiplyAdd(w2, x0, a20);
                    if (vectors > 1) a21 = Fused.MultiplyAdd(w2, x1, a21);
                    if (vectors > 2) a22 = Fused.MultiplyAdd(w2, x2, a22);
                    if (vectors > 3) a23 = Fused.MultiplyAdd(w2, x3, a23);
                }
                if (rows > 3)
                {
                    var w3 = Vector256.Create(Unsafe.Add(ref w, 3 * inChannels + c));
                    a30 = Fused.MultiplyAdd(w3, x0, a30);
                    if (vectors > 1) a31 = Fused.MultiplyAdd(w3, x1, a31);
                    if (vectors > 2) a32 = Fused.MultiplyAdd(w3, x2, a32);
                    if (vectors > 3) a33 = Fused.MultiplyAdd(w3, x3, a33);
                }
            }
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            bool none = clamp.IsNone;
            Store256(a00, a01, a02, a03, vectors, none, low, high, ref y);
            if (rows > 1) Store256(a10, a11, a12, a13, vectors, none, low, high, ref Unsafe.Add(ref y, plane));
            if (rows > 2) Store256(a20, a21, a22, a23, vectors, none, low, high, ref Unsafe.Add(ref y, 2 * plane));
            if (rows > 3) Store256(a30, a31, a32, a33, vectors, none, low, high, ref Unsafe.Add(ref y, 3 * plane));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store256(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, int vectors,
            bool none, Vector256<float> low, Vector256<float> high, ref float y)
        {
            OutputClamp.Store(v0, none, low, high, ref y);
            if (vectors > 1) OutputClamp.Store(v1, none, low, high, ref Unsafe.Add(ref y, 8));
            if (vectors > 2) OutputClamp.Store(v2, none, low, high, ref Unsafe.Add(ref y, 16));
            if (vectors > 3) OutputClamp.Store(v3, none, low, high, ref Unsafe.Add(ref y, 24));
        }
    }
}
