using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Upsampling (nearest; bilinear with <c>align_corners=False</c>) by integer scale factors and adaptive average
    /// pooling, forward and backward, for one sample [channels x height x width], with PyTorch 1.13's index arithmetic.
    /// Backward passes overwrite the input gradient.
    /// </summary>
    /// <remarks>
    /// Source indices follow PyTorch exactly: with a scale factor s given (and <c>recompute_scale_factor</c> unset),
    /// PyTorch uses the float <c>1/s</c>: nearest reads <c>min(floor(o·(1/s)), in − 1)</c> (o/2 when s = 2), bilinear reads
    /// around <c>max((1/s)·(o + ½) − ½, 0)</c>, computed in float, with the upper neighbour clamped at the edge. Adaptive
    /// pooling averages rows <c>[floor(i·H/oh), ceil((i+1)·H/oh))</c> (columns alike) as <c>sum / kh / kw</c>.
    /// </remarks>
    public static class Resampling
    {
        // ------------------------------------------------------------------------------------------------------------
        // Nearest

        /// <summary>
        /// nn.Upsample(scale_factor=(scaleHeight, scaleWidth), mode='nearest'): y [channels x height·sh x width·sw],
        /// y[c, oy, ox] = x[c, oy/sh, ox/sw].
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A size or scale is not positive.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void UpsampleNearest(ReadOnlySpan<float> x, int channels, int height, int width, int scaleHeight, int scaleWidth, Span<float> y) =>
            UpsampleNearestOn(x, channels, height, width, scaleHeight, scaleWidth, y, KernelPaths.Default);

        internal static void UpsampleNearestOn(ReadOnlySpan<float> x, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> y, DirectConvolution.KernelPath path)
        {
            var (outHeight, outWidth) = CheckUpsample(x.Length, nameof(x), channels, height, width, scaleHeight, scaleWidth, y.Length, nameof(y));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            bool vector = path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            if (scaleHeight == 2 && scaleWidth == 2 && vector && width >= 4)
            {
                UpsampleNearest2x2(ref xs, channels * height, width, ref ys, path == DirectConvolution.KernelPath.Vector512);
                return;
            }
            for (int c = 0; c < channels; c++)
            {
                int previous = -1;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int iy = NearestIndex(oy, height, scaleHeight);
                    ref float row = ref Unsafe.Add(ref ys, ((nint)c * outHeight + oy) * outWidth);
                    if (iy == previous)
                    {
                        // The same source row as the output row above: copy it.
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Subtract(ref row, outWidth), outWidth).CopyTo(MemoryMarshal.CreateSpan(ref row, outWidth));
                        continue;
                    }
                    previous = iy;
                    ref float source = ref Unsafe.Add(ref xs, ((nint)c * height + iy) * width);
                    int ox = 0;
                    if (scaleWidth == 1)
                    {
                        MemoryMarshal.CreateReadOnlySpan(ref source, width).CopyTo(MemoryMarshal.CreateSpan(ref row, width));
                        continue;
                    }
                    if (scaleWidth == 2 && vector)
                    {
                        var low = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
                        var high = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
                        for (; ox <= outWidth - 16; ox += 16)
                        {
                            var v = Vector256.LoadUnsafe(ref source, (nuint)(ox / 2));
                            Vector256.Shuffle(v, low).StoreUnsafe(ref row, (nuint)ox);
                            Vector256.Shuffle(v, high).StoreUnsafe(ref row, (nuint)(ox + 8));
                        }
                    }
                    for (; ox < outWidth; ox++) Unsafe.Add(ref row, ox) = Unsafe.Add(ref source, NearestIndex(ox, width, scaleWidth));
                }
            }
        }

        /// <summary>
        /// Nearest x2 in both directions over <paramref name="rows"/> input rows (channels·height, of at least 4 cells): each
        /// input vector's cells doubled by two permutes and stored in both output rows it reads into, so the second row is not
        /// copied from the first. 16 cells at a time (Vector512), else 8, else 4, the last chunk overlapping the one before
        /// (it writes the same values again). KernelBench <c>resample</c> has the figures.
        /// </summary>
        private static void UpsampleNearest2x2(ref float x, int rows, int width, ref float y, bool wide)
        {
            int outWidth = 2 * width;
            for (int r = 0; r < rows; r++)
            {
                ref float source = ref Unsafe.Add(ref x, (nint)r * width);
                ref float top = ref Unsafe.Add(ref y, (nint)r * 2 * outWidth);
                ref float bottom = ref Unsafe.Add(ref top, outWidth);
                if (wide && width >= 16)
                {
                    var low = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
                    var high = low + Vector512.Create(8);
                    for (int ix = 0; ; ix += 16)
                    {
                        if (ix > width - 16) ix = width - 16;
                        var v = Vector512.LoadUnsafe(ref source, (nuint)ix);
                        var a = Vector512.Shuffle(v, low);
                        var b = Vector512.Shuffle(v, high);
                        a.StoreUnsafe(ref top, (nuint)(2 * ix));
                        b.StoreUnsafe(ref top, (nuint)(2 * ix + 16));
                        a.StoreUnsafe(ref bottom, (nuint)(2 * ix));
                        b.StoreUnsafe(ref bottom, (nuint)(2 * ix + 16));
                        if (ix == width - 16) break;
                    }
                }
                else if (width >= 8)
                {
                    var low = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
                    var high = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
                    for (int ix = 0; ; ix += 8)
                    {
                        if (ix > width - 8) ix = width - 8;
                        var v = Vector256.LoadUnsafe(ref source, (nuint)ix);
                        var a = Vector256.Shuffle(v, low);
                        var b = Vector256.Shuffle(v, high);
                        a.StoreUnsafe(ref top, (nuint)(2 * ix));
                        b.StoreUnsafe(ref top, (nuint)(2 * ix + 8));
                        a.StoreUnsafe(ref bottom, (nuint)(2 * ix));
                        b.StoreUnsafe(ref bottom, (nuint)(2 * ix + 8));
                        if (ix == width - 8) break;
                    }
                }
                else
                {
                    // 4 to 7 cells: 4 at a time through the low half of a 256-bit permute, the last 4 overlapping.
                    var pairs = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
                    for (int ix = 0; ; ix += 4)
                    {
                        if (ix > width - 4) ix = width - 4;
                        var doubled = Vector256.Shuffle(Vector128.LoadUnsafe(ref source, (nuint)ix).ToVector256Unsafe(), pairs);
                        doubled.StoreUnsafe(ref top, (nuint)(2 * ix));
                        doubled.StoreUnsafe(ref bottom, (nuint)(2 * ix));
                        if (ix == width - 4) break;
                    }
                }
            }
        }

        /// <summary>
        /// The gradient of <see cref="UpsampleNearest"/>: dx[c, iy, ix] = the sum of dy over the sh x sw block of output
        /// cells that read (iy, ix). <paramref name="inputGradient"/> is overwritten.
        /// </summary>
        public static void UpsampleNearestBackward(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> inputGradient) =>
            UpsampleNearestBackwardOn(outputGradient, channels, height, width, scaleHeight, scaleWidth, inputGradient, KernelPaths.Default);

        internal static void UpsampleNearestBackwardOn(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> inputGradient, DirectConvolution.KernelPath path)
        {
            var (outHeight, outWidth) = CheckUpsample(inputGradient.Length, nameof(inputGradient), channels, height, width, scaleHeight, scaleWidth,
                outputGradient.Length, nameof(outputGradient));
            inputGradient.Slice(0, channels * height * width).Clear();
            ref float gs = ref MemoryMarshal.GetReference(outputGradient);
            ref float ds = ref MemoryMarshal.GetReference(inputGradient);
            bool vector = path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            var even = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
            var odd = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);
            for (int c = 0; c < channels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int iy = NearestIndex(oy, height, scaleHeight);
                    ref float row = ref Unsafe.Add(ref gs, ((nint)c * outHeight + oy) * outWidth);
                    ref float target = ref Unsafe.Add(ref ds, ((nint)c * height + iy) * width);
                    int ox = 0;
                    if (scaleWidth == 1)
                    {
                        VectorRows.Add(ref row, ref target, width, vector);
                        continue;
                    }
                    if (scaleWidth == 2 && vector)
                    {
                        // 16 output cells: pairs summed into 8 input cells.
                        for (; ox <= outWidth - 16; ox += 16)
                        {
                            var a = Vector256.LoadUnsafe(ref row, (nuint)ox);
                            var b = Vector256.LoadUnsafe(ref row, (nuint)(ox + 8));
                            var pairsA = Vector256.Shuffle(a, even) + Vector256.Shuffle(a, odd); // lanes 0-3 hold a's 4 pair sums
                            var pairsB = Vector256.Shuffle(b, even) + Vector256.Shuffle(b, odd);
                            var sums = Vector256.Create(pairsA.GetLower(), pairsB.GetLower());
                            (Vector256.LoadUnsafe(ref target, (nuint)(ox / 2)) + sums).StoreUnsafe(ref target, (nuint)(ox / 2));
                        }
                    }
                    for (; ox < outWidth; ox++) Unsafe.Add(ref target, NearestIndex(ox, width, scaleWidth)) += Unsafe.Add(ref row, ox);
                }
            }
        }

        // PyTorch 1.13's nearest_idx with a scale factor given: the identity at scale 1, o >> 1 at scale 2, else
        // min(floor(o · (float)(1/s)), in − 1) in float.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int NearestIndex(int output, int inputSize, int scale)
        {
            if (scale == 1) return output;
            if (scale == 2) return output >> 1;
            float inverse = (float)(1.0 / scale);
            return Math.Min((int)MathF.Floor(output * inverse), inputSize - 1);
        }

        // ------------------------------------------------------------------------------------------------------------
        // Bilinear

        // Output positions whose source indices and weights are tabled on the stack; longer rows compute them per cell.
        private const int MaxTabledColumns = 1024;

        /// <summary>
        /// nn.Upsample(scale_factor=(scaleHeight, scaleWidth), mode='bilinear', align_corners=False): y [channels x height·sh
        /// x width·sw], each cell the bilinear blend of the 2x2 input cells around its source position (edges clamped).
        /// </summary>
        public static void UpsampleBilinear(ReadOnlySpan<float> x, int channels, int height, int width, int scaleHeight, int scaleWidth, Span<float> y) =>
            UpsampleBilinearOn(x, channels, height, width, scaleHeight, scaleWidth, y, KernelPaths.Default);

        internal static void UpsampleBilinearOn(ReadOnlySpan<float> x, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> y, DirectConvolution.KernelPath path)
        {
            var (outHeight, outWidth) = CheckUpsample(x.Length, nameof(x), channels, height, width, scaleHeight, scaleWidth, y.Length, nameof(y));
            bool tabled = outWidth <= MaxTabledColumns;
            Span<int> columns = stackalloc int[tabled ? 2 * outWidth : 0];
            Span<float> weights = stackalloc float[tabled ? 2 * outWidth : 0];
            for (int ox = 0; tabled && ox < outWidth; ox++)
            {
                LinearSource(ox, width, outWidth, scaleWidth, out columns[2 * ox], out columns[2 * ox + 1], out weights[2 * ox], out weights[2 * ox + 1]);
            }
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            bool vector = path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            if (tabled && width <= MaxTabledColumns)
            {
                // Rows blended vertically first (whole vectors over the input row), then horizontally from the blend.
                Span<float> blend = stackalloc float[width];
                ref float b = ref MemoryMarshal.GetReference(blend);
                for (int c = 0; c < channels; c++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        LinearSource(oy, height, outHeight, scaleHeight, out int iy0, out int iy1, out float h0, out float h1);
                        ref float top = ref Unsafe.Add(ref xs, ((nint)c * height + iy0) * width);
                        ref float bottom = ref Unsafe.Add(ref xs, ((nint)c * height + iy1) * width);
                        ref float row = ref Unsafe.Add(ref ys, ((nint)c * outHeight + oy) * outWidth);
                        int ix = 0;
                        if (vector)
                        {
                            var v0 = Vector256.Create(h0);
                            var v1 = Vector256.Create(h1);
                            for (; ix <= width - 8; ix += 8)
                                (Vector256.LoadUnsafe(ref top, (nuint)ix) * v0 + Vector256.LoadUnsafe(ref bottom, (nuint)ix) * v1).StoreUnsafe(ref b, (nuint)ix);
                        }
                        for (; ix < width; ix++) Unsafe.Add(ref b, ix) = Unsafe.Add(ref top, ix) * h0 + Unsafe.Add(ref bottom, ix) * h1;
                        int ox = 0;
                        if (scaleWidth == 2 && vector)
                        {
                            // Scale 2: output 2k is ¼·b[k−1] + ¾·b[k], output 2k+1 is ¾·b[k] + ¼·b[k+1] (PyTorch's weights,
                            // exact in float); the first and last outputs are the edge values and go by the table.
                            Unsafe.Add(ref row, 0) = Unsafe.Add(ref b, 0);
                            var quarter = Vector256.Create(0.25f);
                            var threeQuarters = Vector256.Create(0.75f);
                            int k = 1;
                            for (; k <= width - 9; k += 8)
                            {
                                var previous = Vector256.LoadUnsafe(ref b, (nuint)(k - 1));
                                var current = Vector256.LoadUnsafe(ref b, (nuint)k);
                                var next = Vector256.LoadUnsafe(ref b, (nuint)(k + 1));
                                VectorRows.Interleave(previous * quarter + current * threeQuarters, current * threeQuarters + next * quarter,
                                    ref Unsafe.Add(ref row, 2 * k));
                            }
                            ox = 2 * k;
                            Unsafe.Add(ref row, 1) = Unsafe.Add(ref b, columns[2]) * weights[2] + Unsafe.Add(ref b, columns[3]) * weights[3];
                        }
                        for (; ox < outWidth; ox++)
                            Unsafe.Add(ref row, ox) = Unsafe.Add(ref b, columns[2 * ox]) * weights[2 * ox] + Unsafe.Add(ref b, columns[2 * ox + 1]) * weights[2 * ox + 1];
                    }
                }
                return;
            }
            for (int c = 0; c < channels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    LinearSource(oy, height, outHeight, scaleHeight, out int iy0, out int iy1, out float h0, out float h1);
                    ref float top = ref Unsafe.Add(ref xs, ((nint)c * height + iy0) * width);
                    ref float bottom = ref Unsafe.Add(ref xs, ((nint)c * height + iy1) * width);
                    ref float row = ref Unsafe.Add(ref ys, ((nint)c * outHeight + oy) * outWidth);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        LinearSource(ox, width, outWidth, scaleWidth, out int ix0, out int ix1, out float w0, out float w1);
                        Unsafe.Add(ref row, ox) = (Unsafe.Add(ref top, ix0) * w0 + Unsafe.Add(ref top, ix1) * w1) * h0
                            + (Unsafe.Add(ref bottom, ix0) * w0 + Unsafe.Add(ref bottom, ix1) * w1) * h1;
                    }
                }
            }
        }

        /// <summary>
        /// The gradient of <see cref="UpsampleBilinear"/>: each output cell's gradient spread over its 2x2 input cells with
        /// the forward's weights. <paramref name="inputGradient"/> is overwritten.
        /// </summary>
        public static void UpsampleBilinearBackward(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> inputGradient) =>
            UpsampleBilinearBackwardOn(outputGradient, channels, height, width, scaleHeight, scaleWidth, inputGradient, KernelPaths.Default);

        internal static void UpsampleBilinearBackwardOn(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int scaleHeight, int scaleWidth,
            Span<float> inputGradient, DirectConvolution.KernelPath path)
        {
            var (outHeight, outWidth) = CheckUpsample(inputGradient.Length, nameof(inputGradient), channels, height, width, scaleHeight, scaleWidth,
                outputGradient.Length, nameof(outputGradient));
            inputGradient.Slice(0, channels * height * width).Clear();
            bool tabled = outWidth <= MaxTabledColumns;
            Span<int> columns = stackalloc int[tabled ? 2 * outWidth : 0];
            Span<float> weights = stackalloc float[tabled ? 2 * outWidth : 0];
            for (int ox = 0; tabled && ox < outWidth; ox++)
            {
                LinearSource(ox, width, outWidth, scaleWidth, out columns[2 * ox], out columns[2 * ox + 1], out weights[2 * ox], out weights[2 * ox + 1]);
            }
            ref float gs = ref MemoryMarshal.GetReference(outputGradient);
            ref float ds = ref MemoryMarshal.GetReference(inputGradient);
            bool vector = path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            if (tabled && width <= MaxTabledColumns)
            {
                // Each output row spread horizontally into one input-width row, then added to its two input rows.
                Span<float> spread = stackalloc float[width];
                ref float u = ref MemoryMarshal.GetReference(spread);
                for (int c = 0; c < channels; c++)
                {
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        LinearSource(oy, height, outHeight, scaleHeight, out int iy0, out int iy1, out float h0, out float h1);
                        ref float row = ref Unsafe.Add(ref gs, ((nint)c * outHeight + oy) * outWidth);
                        spread.Clear();
                        int end = 1, from = 0;
                        if (scaleWidth == 2 && vector)
                        {
                            // Scale 2: input column k (0 < k < end) gathers ¼·dy[2k−1] + ¾·dy[2k] + ¾·dy[2k+1] + ¼·dy[2k+2],
                            // computed whole; the outputs near the edges are spread below, skipping what lands in [1, end).
                            var quarter = Vector256.Create(0.25f);
                            var threeQuarters = Vector256.Create(0.75f);
                            for (; end <= width - 9; end += 8)
                            {
                                var (_, oddBefore) = VectorRows.Deinterleave(ref Unsafe.Add(ref row, 2 * end - 2));
                                var (even, odd) = VectorRows.Deinterleave(ref Unsafe.Add(ref row, 2 * end));
                                var (evenAfter, _) = VectorRows.Deinterleave(ref Unsafe.Add(ref row, 2 * end + 2));
                                ((oddBefore + evenAfter) * quarter + (even + odd) * threeQuarters).StoreUnsafe(ref u, (nuint)end);
                            }
                            from = Math.Max(4, 2 * end - 4);
                        }
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            if (ox == 4 && from > 4) ox = from; // the outputs in [4, 2·end − 4) only reach columns in [1, end)
                            float g = Unsafe.Add(ref row, ox);
                            int c0 = columns[2 * ox], c1 = columns[2 * ox + 1];
                            if ((uint)(c0 - 1) >= (uint)(end - 1)) Unsafe.Add(ref u, c0) += weights[2 * ox] * g;
                            if ((uint)(c1 - 1) >= (uint)(end - 1)) Unsafe.Add(ref u, c1) += weights[2 * ox + 1] * g;
                        }
                        AddScaled(ref u, h0, ref Unsafe.Add(ref ds, ((nint)c * height + iy0) * width), width, vector);
                        AddScaled(ref u, h1, ref Unsafe.Add(ref ds, ((nint)c * height + iy1) * width), width, vector);
                    }
                }
                return;
            }
            for (int c = 0; c < channels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    LinearSource(oy, height, outHeight, scaleHeight, out int iy0, out int iy1, out float h0, out float h1);
                    ref float top = ref Unsafe.Add(ref ds, ((nint)c * height + iy0) * width);
                    ref float bottom = ref Unsafe.Add(ref ds, ((nint)c * height + iy1) * width);
                    ref float row = ref Unsafe.Add(ref gs, ((nint)c * outHeight + oy) * outWidth);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        LinearSource(ox, width, outWidth, scaleWidth, out int ix0, out int ix1, out float w0, out float w1);
                        float g = Unsafe.Add(ref row, ox);
                        Unsafe.Add(ref top, ix0) += h0 * w0 * g;
                        Unsafe.Add(ref top, ix1) += h0 * w1 * g;
                        Unsafe.Add(ref bottom, ix0) += h1 * w0 * g;
                        Unsafe.Add(ref bottom, ix1) += h1 * w1 * g;
                    }
                }
            }
        }

        // to[i] += scale · from[i] for i < count.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddScaled(ref float from, float scale, ref float to, int count, bool vector)
        {
            int i = 0;
            if (vector)
            {
                var s = Vector256.Create(scale);
                for (; i <= count - 8; i += 8)
                    (Vector256.LoadUnsafe(ref to, (nuint)i) + Vector256.LoadUnsafe(ref from, (nuint)i) * s).StoreUnsafe(ref to, (nuint)i);
            }
            for (; i < count; i++) Unsafe.Add(ref to, i) += Unsafe.Add(ref from, i) * scale;
        }

        // PyTorch 1.13's compute_source_index_and_lambda with align_corners=False and a scale factor given: the source
        // position (float)(1/s)·(o + ½) − ½ in float with one rounding (PyTorch's x86 build contracts it into a fused
        // multiply-add: 1.5·0.33333334 − 0.5 is 1.49e−8 there, not 0), clamped at 0; its floor and the next index (clamped at the edge);
        // the weights 1 − λ and λ.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void LinearSource(int output, int inputSize, int outputSize, int scale, out int index0, out int index1, out float lambda0, out float lambda1)
        {
            if (outputSize == inputSize)
            {
                index0 = index1 = output;
                lambda0 = 1f;
                lambda1 = 0f;
                return;
            }
            float ratio = (float)(1.0 / scale);
            float real = MathF.FusedMultiplyAdd(ratio, output + 0.5f, -0.5f);
            if (real < 0f) real = 0f;
            index0 = Math.Min((int)real, inputSize - 1);
            index1 = index0 + (index0 < inputSize - 1 ? 1 : 0);
            lambda1 = Math.Min(Math.Max(real - index0, 0f), 1f);
            lambda0 = 1f - lambda1;
        }

        private static (int OutHeight, int OutWidth) CheckUpsample(int inLength, string inName, int channels, int height, int width,
            int scaleHeight, int scaleWidth, int outLength, string outName)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scaleHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scaleWidth);
            long inSize = (long)channels * height * width, outSize = inSize * scaleHeight * scaleWidth;
            if (outSize > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(scaleHeight), scaleHeight, "The upsampled tensor does not fit in a span.");
            if (inLength < inSize) throw new ArgumentException($"Expected at least {inSize} floats ({channels}x{height}x{width}) but got {inLength}.", inName);
            if (outLength < outSize)
                throw new ArgumentException($"Expected at least {outSize} floats ({channels}x{height * scaleHeight}x{width * scaleWidth}) but got {outLength}.", outName);
            return (height * scaleHeight, width * scaleWidth);
        }

        // ------------------------------------------------------------------------------------------------------------
        // Adaptive average pooling

        /// <summary>
        /// nn.AdaptiveAvgPool2d((outHeight, outWidth)): y[c, i, j] = the mean of x[c] over rows
        /// [floor(i·H/oh), ceil((i+1)·H/oh)) and columns [floor(j·W/ow), ceil((j+1)·W/ow)). oh = ow = 1 is global average
        /// pooling, a vectorized sum per channel.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void AdaptiveAvgPool(ReadOnlySpan<float> x, int channels, int height, int width, int outHeight, int outWidth, Span<float> y) =>
            AdaptiveAvgPoolOn(x, channels, height, width, outHeight, outWidth, y, KernelPaths.Default);

        internal static void AdaptiveAvgPoolOn(ReadOnlySpan<float> x, int channels, int height, int width, int outHeight, int outWidth,
            Span<float> y, DirectConvolution.KernelPath path)
        {
            CheckPool(x.Length, nameof(x), channels, height, width, outHeight, outWidth, y.Length, nameof(y));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int plane = height * width;
            if (outHeight == 1 && outWidth == 1)
            {
                for (int c = 0; c < channels; c++) Unsafe.Add(ref ys, c) = VectorRows.Sum(ref Unsafe.Add(ref xs, (nint)c * plane), plane, path) / height / width;
                return;
            }
            for (int c = 0; c < channels; c++)
            {
                ref float input = ref Unsafe.Add(ref xs, (nint)c * plane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int y0 = Start(oy, height, outHeight), y1 = End(oy, height, outHeight);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int x0 = Start(ox, width, outWidth), x1 = End(ox, width, outWidth);
                        float sum = 0f;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) sum += Unsafe.Add(ref input, iy * width + ix);
                        Unsafe.Add(ref ys, ((nint)c * outHeight + oy) * outWidth + ox) = sum / (y1 - y0) / (x1 - x0);
                    }
                }
            }
        }

        /// <summary>
        /// The gradient of <see cref="AdaptiveAvgPool"/>: each output cell's gradient divided by its window's size and added
        /// to every cell of the window (windows may overlap). <paramref name="inputGradient"/> is overwritten.
        /// </summary>
        public static void AdaptiveAvgPoolBackward(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int outHeight, int outWidth,
            Span<float> inputGradient) =>
            AdaptiveAvgPoolBackwardOn(outputGradient, channels, height, width, outHeight, outWidth, inputGradient, KernelPaths.Default);

        internal static void AdaptiveAvgPoolBackwardOn(ReadOnlySpan<float> outputGradient, int channels, int height, int width, int outHeight, int outWidth,
            Span<float> inputGradient, DirectConvolution.KernelPath path)
        {
            _ = path;
            CheckPool(inputGradient.Length, nameof(inputGradient), channels, height, width, outHeight, outWidth, outputGradient.Length, nameof(outputGradient));
            ref float gs = ref MemoryMarshal.GetReference(outputGradient);
            ref float ds = ref MemoryMarshal.GetReference(inputGradient);
            int plane = height * width;
            if (outHeight == 1 && outWidth == 1)
            {
                for (int c = 0; c < channels; c++) VectorRows.Fill(ref Unsafe.Add(ref ds, (nint)c * plane), plane, Unsafe.Add(ref gs, c) / height / width);
                return;
            }
            inputGradient.Slice(0, channels * plane).Clear();
            for (int c = 0; c < channels; c++)
            {
                ref float target = ref Unsafe.Add(ref ds, (nint)c * plane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int y0 = Start(oy, height, outHeight), y1 = End(oy, height, outHeight);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int x0 = Start(ox, width, outWidth), x1 = End(ox, width, outWidth);
                        float delta = Unsafe.Add(ref gs, ((nint)c * outHeight + oy) * outWidth + ox) / (y1 - y0) / (x1 - x0);
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) Unsafe.Add(ref target, iy * width + ix) += delta;
                    }
                }
            }
        }

        // PyTorch's start_index and end_index: floor(o·in/out) and ceil((o+1)·in/out), in integers.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Start(int output, int inputSize, int outputSize) => (int)((long)output * inputSize / outputSize);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int End(int output, int inputSize, int outputSize) => (int)(((long)(output + 1) * inputSize + outputSize - 1) / outputSize);

        private static void CheckPool(int inLength, string inName, int channels, int height, int width, int outHeight, int outWidth, int outLength, string outName)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
            long inSize = (long)channels * height * width, outSize = (long)channels * outHeight * outWidth;
            if (inSize > int.MaxValue || outSize > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(channels), channels, "The tensors do not fit in a span.");
            if (inLength < inSize) throw new ArgumentException($"Expected at least {inSize} floats ({channels}x{height}x{width}) but got {inLength}.", inName);
            if (outLength < outSize) throw new ArgumentException($"Expected at least {outSize} floats ({channels}x{outHeight}x{outWidth}) but got {outLength}.", outName);
        }
    }
}
