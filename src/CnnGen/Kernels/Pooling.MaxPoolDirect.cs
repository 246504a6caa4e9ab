#if NET9_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class Pooling
    {
        // The direct max pooling takes windows up to this size (its ring of row maxima has 8 places).
        private const int MaxDirectKernel = 8, DirectRing = 8;

        // Where the direct kernel runs: strides 1 and 2 on both vector paths (stride 2 on Vector256 with AVX2's permute).
        private static bool DirectPays(KernelPath path, int kernel, int stride) =>
            kernel <= MaxDirectKernel && path switch
            {
                KernelPath.Vector512 => stride <= 2,
                KernelPath.Vector256 => stride == 1 || (stride == 2 && Avx2.IsSupported),
                _ => false,
            };

        // The direct kernel over the planes; those it finds a NaN in again by the copying kernel (its NaN rule).
        private static unsafe void MaxPoolDirect(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
            Span<float> y, KernelPath path)
        {
            const int Group = 64;
            int plane = height * width, outPlane = outHeight * outWidth;
            bool* hasNaN = stackalloc bool[Group];
            fixed (float* xs = x)
            fixed (float* ys = y)
            {
                for (int c0 = 0; c0 < channels; c0 += Group)
                {
                    int count = Math.Min(Group, channels - c0);
                    float* source = xs + (nint)c0 * plane, target = ys + (nint)c0 * outPlane;
                    if (path == KernelPath.Vector512) MaxPoolDirect512(source, count, hasNaN, height, width, kernel, stride, padding, outHeight, outWidth, target);
                    else MaxPoolDirect256(source, count, hasNaN, height, width, kernel, stride, padding, outHeight, outWidth, target);
                    for (int c = 0; c < count; c++)
                        if (hasNaN[c])
                            MaxPoolCopying(x.Slice((c0 + c) * plane, plane), 1, height, width, kernel, stride, padding, outHeight, outWidth, y.Slice((c0 + c) * outPlane, outPlane), path);
                }
            }
        }

        // Chunks of output columns the direct kernel keeps row maxima of at once (wider rows take several bands of chunks).
        private const int DirectChunks = 16;

        /// <summary>
        /// Max pooling of planes without NaN, straight from the input: chunks of 16
        /// neighbouring output cells, up to <see cref="DirectChunks"/> of them side by side, each input row's window maxima taken
        /// once into a ring of 8 rows, each output row folded from its window's rows top to bottom. The same two folds as the
        /// copying kernel (across each row left to right, then down), so the scan rule's first maximum holds bit for bit (−0 before
        /// +0 stays −0); without a NaN, MAXPS is the rule's "a later value replaces the maximum when greater" itself. Each
        /// plane's loads are checked for NaN on the way (two unordered compares per row and chunk cover every cell a window
        /// reads); <paramref name="hasNaN"/> says which planes had one, for the caller to pool again by the copying kernel.
        /// </summary>
        /// <remarks>
        /// The padding and the cells past a row's end are read as −∞ by masked loads (a masked lane reads no memory), so no row
        /// is copied: the copying kernel's padded copies and their NaN checks were a third of its time. At stride 2 each pair of
        /// taps is one load of 32 cells split into its even (the tap) and odd (the next tap) lanes. The last chunk of a row
        /// overlaps the one before; a row narrower than 16 outputs is stored through a mask.
        /// </remarks>
        private static unsafe void MaxPoolDirect512(float* planes, int channels, bool* hasNaN, int height, int width, int kernel, int stride, int padding,
            int outHeight, int outWidth, float* outputs)
        {
            const int Lanes = 16;
            // 16-float loads per row and chunk: one per tap at stride 1, two per pair of taps at stride 2.
            int loads = stride == 1 ? kernel : 2 * ((kernel + 1) / 2);
            int chunks = Math.Max(1, (outWidth + Lanes - 1) / Lanes);
            Vector512<float>* masks = stackalloc Vector512<float>[DirectChunks * loads];
            Vector512<float>* ring = stackalloc Vector512<float>[DirectRing * DirectChunks];
            int* firsts = stackalloc int[DirectChunks];
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
            var storeMask = Vector512.LessThan(lane, Vector512.Create(outWidth)).AsSingle();
            if (kernel == 3 && stride == 2 && padding == 1)
            {
                Stem512(planes, channels, hasNaN, height, width, outHeight, outWidth, outputs);
                return;
            }
            if (kernel == 3 && stride == 1 && padding == 1)
            {
                Same3x3(planes, channels, hasNaN, height, width, outputs);
                return;
            }
            for (int band = 0; band < chunks; band += DirectChunks)
            {
                int count = Math.Min(DirectChunks, chunks - band);
                for (int k = 0; k < count; k++)
                {
                    int first = firsts[k] = Math.Max(0, Math.Min((band + k) * Lanes, outWidth - Lanes)); // the chunk's first output column
                    for (int l = 0; l < loads; l++)
                    {
                        int column = stride == 1 ? first - padding + l : 2 * first - padding + 2 * (l / 2) + Lanes * (l % 2);
                        var columns = lane + Vector512.Create(column);
                        masks[k * loads + l] = (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();
                    }
                }
                for (int c = 0; c < channels; c++)
                {
                    float* plane = planes + (nint)c * height * width, output = outputs + (nint)c * outHeight * outWidth;
                    var unordered = Vector512<float>.Zero;
                    int next = 0; // the next input row whose maxima the ring lacks
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        int top = oy * stride - padding;
                        int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                        if (next < firstRow) next = firstRow;
                        for (; next < endRow; next++)
                        {
                            Vector512<float>* maxima = ring + (next & (DirectRing - 1)) * DirectChunks;
                            for (int k = 0; k < count; k++)
                            {
                                float* row = plane + (nint)next * width + stride * firsts[k] - padding; // the chunk's first window's left edge
                                Vector512<float>* mask = masks + k * loads;
                                Vector512<float> max;
                                if (stride == 1)
                                {
                                    var tap = Avx512F.MaskLoad(row, mask[0], negativeInfinity);
                                    max = tap;
                                    for (int kx = 1; kx < kernel; kx++) max = Avx512F.Max(tap = Avx512F.MaskLoad(row + kx, mask[kx], negativeInfinity), max);
                                    unordered |= Avx512F.CompareUnordered(max, tap); // the last tap and the first (or a NaN carried by MAXPS's second operand)
                                }
                                else if (kernel == 3)
                                {
                                    // ResNet's stem pooling written out: the loop's taps in its order (the first one's max with −∞ left out).
                                    var low = Avx512F.MaskLoad(row, mask[0], negativeInfinity);
                                    var high = Avx512F.MaskLoad(row + Lanes, mask[1], negativeInfinity);
                                    max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, odd, high), Avx512F.PermuteVar16x32x2(low, even, high));
                                    var low2 = Avx512F.MaskLoad(row + 2, mask[2], negativeInfinity);
                                    var high2 = Avx512F.MaskLoad(row + 2 + Lanes, mask[3], negativeInfinity);
                                    max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low2, even, high2), max);
                                    unordered |= Avx512F.CompareUnordered(low, high) | Avx512F.CompareUnordered(low2, high2);
                                }
                                else
                                {
                                    max = negativeInfinity;
                                    for (int kx = 0; kx < kernel; kx += 2)
                                    {
                                        var low = Avx512F.MaskLoad(row + kx, mask[kx], negativeInfinity);
                                        var high = Avx512F.MaskLoad(row + kx + Lanes, mask[kx + 1], negativeInfinity);
                                        unordered |= Avx512F.CompareUnordered(low, high);
                                        max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, even, high), max);
                                        if (kx + 1 < kernel) max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, odd, high), max);
                                    }
                                }
                                maxima[k] = max;
                            }
                        }
                        float* target = output + (nint)oy * outWidth;
                        for (int k = 0; k < count; k++)
                        {
                            var window = ring[(firstRow & (DirectRing - 1)) * DirectChunks + k];
                            for (int iy = firstRow + 1; iy < endRow; iy++) window = Avx512F.Max(ring[(iy & (DirectRing - 1)) * DirectChunks + k], window);
                            if (outWidth >= Lanes) window.Store(target + firsts[k]);
                            else Avx512F.MaskStore(target, storeMask, window);
                        }
                    }
                    if (band == 0) hasNaN[c] = false;
                    if (unordered != Vector512<float>.Zero) hasNaN[c] = true;
                }
            }
        }

        /// <summary>
        /// The 3x3 stride-2 pooling with padding 1 (ResNet's stem) as <see cref="MaxPoolDirect512"/>, a chunk's column of output
        /// rows at a time with the window rows' maxima in registers: output row oy folds input rows 2oy − 1 (kept from the row
        /// above), 2oy and 2oy + 1, top to bottom. NaN is looked for by summing the loads (a NaN, or +∞ meeting −∞, makes the
        /// sum NaN; the latter only sends a plane to the copying kernel for nothing).
        /// </summary>
        private static unsafe void Stem512(float* planes, int channels, bool* hasNaN, int height, int width, int outHeight, int outWidth, float* outputs)
        {
            const int Lanes = 16;
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
            var storeMask = Vector512.LessThan(lane, Vector512.Create(outWidth)).AsSingle();
            var widths = Vector512.Create(width);
            for (int c = 0; c < channels; c++)
            {
                float* plane = planes + (nint)c * height * width, output = outputs + (nint)c * outHeight * outWidth;
                var sum = Vector512<float>.Zero;
                for (int chunk = 0; ; chunk += Lanes)
                {
                    int first = Math.Max(0, Math.Min(chunk, outWidth - Lanes));
                    int left = 2 * first - 1; // the first window's left edge
                    var columns = lane + Vector512.Create(left);
                    Vector512<float> Inside(Vector512<int> at) => (Vector512.GreaterThanOrEqual(at, Vector512<int>.Zero) & Vector512.LessThan(at, widths)).AsSingle();
                    var mask0 = Inside(columns);
                    var mask1 = Inside(columns + Vector512.Create(Lanes));
                    var mask2 = Inside(columns + Vector512.Create(2));
                    var mask3 = Inside(columns + Vector512.Create(Lanes + 2));
                    var above = negativeInfinity;
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        // Rows 2oy and 2oy + 1's window maxima (the second may lie past the input).
                        float* row = plane + (nint)2 * oy * width + left;
                        var low = Avx512F.MaskLoad(row, mask0, negativeInfinity);
                        var high = Avx512F.MaskLoad(row + Lanes, mask1, negativeInfinity);
                        var high2 = Avx512F.MaskLoad(row + Lanes + 2, mask3, negativeInfinity);
                        var middle = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, odd, high), Avx512F.PermuteVar16x32x2(low, even, high));
                        middle = Avx512F.Max(Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(row + 2, mask2, negativeInfinity), even, high2), middle);
                        sum += low + high + high2;
                        var window = oy == 0 ? middle : Avx512F.Max(middle, above);
                        if (2 * oy + 1 < height)
                        {
                            row += width;
                            low = Avx512F.MaskLoad(row, mask0, negativeInfinity);
                            high = Avx512F.MaskLoad(row + Lanes, mask1, negativeInfinity);
                            high2 = Avx512F.MaskLoad(row + Lanes + 2, mask3, negativeInfinity);
                            var below = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, odd, high), Avx512F.PermuteVar16x32x2(low, even, high));
                            below = Avx512F.Max(Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(row + 2, mask2, negativeInfinity), even, high2), below);
                            sum += low + high + high2;
                            window = Avx512F.Max(below, window);
                            above = below;
                        }
                        float* target = output + (nint)oy * outWidth + first;
                        if (outWidth >= Lanes) window.Store(target);
                        else Avx512F.MaskStore(target, storeMask, window);
                    }
                    if (first + Lanes >= outWidth) break;
                }
                hasNaN[c] = Vector512.EqualsAll(sum, sum) == false;
            }
        }

        /// <summary>
        /// The 3x3 stride-1 pooling with padding 1 (the output the input's size) as <see cref="Stem512"/>: output row oy folds
        /// input rows oy − 1 and oy (kept from the rows above) and oy + 1, top to bottom.
        /// </summary>
        private static unsafe void Same3x3(float* planes, int channels, bool* hasNaN, int height, int width, float* outputs)
        {
            const int Lanes = 16;
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var storeMask = Vector512.LessThan(lane, Vector512.Create(width)).AsSingle();
            var widths = Vector512.Create(width);
            for (int c = 0; c < channels; c++)
            {
                float* plane = planes + (nint)c * height * width, output = outputs + (nint)c * height * width;
                var sum = Vector512<float>.Zero;
                for (int chunk = 0; ; chunk += Lanes)
                {
                    int first = Math.Max(0, Math.Min(chunk, width - Lanes));
                    int left = first - 1; // the first window's left edge
                    var columns = lane + Vector512.Create(left);
                    Vector512<float> Inside(Vector512<int> at) => (Vector512.GreaterThanOrEqual(at, Vector512<int>.Zero) & Vector512.LessThan(at, widths)).AsSingle();
                    var mask0 = Inside(columns);
                    var mask1 = Inside(columns + Vector512<int>.One);
                    var mask2 = Inside(columns + Vector512.Create(2));
                    // Row iy's window maxima, taps left to right; the first and last taps cover every cell read.
                    Vector512<float> Across(float* row, ref Vector512<float> loads)
                    {
                        var firstTap = Avx512F.MaskLoad(row, mask0, negativeInfinity);
                        var lastTap = Avx512F.MaskLoad(row + 2, mask2, negativeInfinity);
                        loads += firstTap + lastTap;
                        return Avx512F.Max(lastTap, Avx512F.Max(Avx512F.MaskLoad(row + 1, mask1, negativeInfinity), firstTap));
                    }
                    var above = negativeInfinity;
                    var middle = Across(plane + left, ref sum);
                    for (int oy = 0; oy < height; oy++)
                    {
                        var window = oy == 0 ? middle : Avx512F.Max(middle, above);
                        if (oy + 1 < height)
                        {
                            var below = Across(plane + (nint)(oy + 1) * width + left, ref sum);
                            window = Avx512F.Max(below, window);
                            above = middle;
                            middle = below;
                        }
                        float* target = output + (nint)oy * width + first;
                        if (width >= Lanes) window.Store(target);
                        else Avx512F.MaskStore(target, storeMask, window);
                    }
                    if (first + Lanes >= width) break;
                }
                hasNaN[c] = Vector512.EqualsAll(sum, sum) == false;
            }
        }

        /// <summary>8 output cells at a time, as <see cref="MaxPoolDirect512"/>; stride 2 needs AVX2 (its lane permute).</summary>
        private static unsafe void MaxPoolDirect256(float* planes, int channels, bool* hasNaN, int height, int width, int kernel, int stride, int padding,
            int outHeight, int outWidth, float* outputs)
        {
            const int Lanes = 8;
            int loads = stride == 1 ? kernel : 2 * ((kernel + 1) / 2);
            int chunks = Math.Max(1, (outWidth + Lanes - 1) / Lanes);
            Vector256<float>* masks = stackalloc Vector256<float>[DirectChunks * loads];
            Vector256<float>* ring = stackalloc Vector256<float>[DirectRing * DirectChunks];
            int* firsts = stackalloc int[DirectChunks];
            var negativeInfinity = Vector256.Create(float.NegativeInfinity);
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var storeMask = Vector256.LessThan(lane, Vector256.Create(outWidth)).AsSingle();
            for (int band = 0; band < chunks; band += DirectChunks)
            {
                int count = Math.Min(DirectChunks, chunks - band);
                for (int k = 0; k < count; k++)
                {
                    int first = firsts[k] = Math.Max(0, Math.Min((band + k) * Lanes, outWidth - Lanes));
                    for (int l = 0; l < loads; l++)
                    {
                        int column = stride == 1 ? first - padding + l : 2 * first - padding + 2 * (l / 2) + Lanes * (l % 2);
                        var columns = lane + Vector256.Create(column);
                        masks[k * loads + l] = (Vector256.GreaterThanOrEqual(columns, Vector256<int>.Zero) & Vector256.LessThan(columns, Vector256.Create(width))).AsSingle();
                    }
                }
                for (int c = 0; c < channels; c++)
                {
                    float* plane = planes + (nint)c * height * width, output = outputs + (nint)c * outHeight * outWidth;
                    var unordered = Vector256<float>.Zero;
                    int next = 0;
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        int top = oy * stride - padding;
                        int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                        if (next < firstRow) next = firstRow;
                        for (; next < endRow; next++)
                        {
                            Vector256<float>* maxima = ring + (next & (DirectRing - 1)) * DirectChunks;
                            for (int k = 0; k < count; k++)
                            {
                                float* row = plane + (nint)next * width + stride * firsts[k] - padding;
                                Vector256<float>* mask = masks + k * loads;
                                var max = negativeInfinity;
                                if (stride == 1)
                                {
                                    var tap = Load256(row, mask[0], negativeInfinity);
                                    max = tap;
                                    for (int kx = 1; kx < kernel; kx++) max = Avx.Max(tap = Load256(row + kx, mask[kx], negativeInfinity), max);
                                    unordered |= Avx.CompareUnordered(max, tap);
                                }
                                else
                                {
                                    for (int kx = 0; kx < kernel; kx += 2)
                                    {
                                        var low = Load256(row + kx, mask[kx], negativeInfinity);
                                        var high = Load256(row + kx + Lanes, mask[kx + 1], negativeInfinity);
                                        unordered |= Avx.CompareUnordered(low, high);
                                        // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs in order: a0 a2 a4 a6 b0 b2 b4 b6 (odd lanes alike).
                                        var evens = Avx2.Permute4x64(Avx.Shuffle(low, high, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
                                        max = Avx.Max(evens, max);
                                        if (kx + 1 < kernel)
                                            max = Avx.Max(Avx2.Permute4x64(Avx.Shuffle(low, high, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle(), max);
                                    }
                                }
                                maxima[k] = max;
                            }
                        }
                        float* target = output + (nint)oy * outWidth;
                        for (int k = 0; k < count; k++)
                        {
                            var window = ring[(firstRow & (DirectRing - 1)) * DirectChunks + k];
                            for (int iy = firstRow + 1; iy < endRow; iy++) window = Avx.Max(ring[(iy & (DirectRing - 1)) * DirectChunks + k], window);
                            if (outWidth >= Lanes) window.Store(target + firsts[k]);
                            else Avx.MaskStore(target, storeMask, window);
                        }
                    }
                    if (band == 0) hasNaN[c] = false;
                    if (unordered != Vector256<float>.Zero) hasNaN[c] = true;
                }
            }
        }

        // VMASKMOVPS reads no memory under a clear lane (and gives 0 there): the padding's −∞ is blended in.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<float> Load256(float* address, Vector256<float> mask, Vector256<float> negativeInfinity) =>
            Avx.BlendVariable(negativeInfinity, Avx.MaskLoad(address, mask), mask);
    }
}
#endif
