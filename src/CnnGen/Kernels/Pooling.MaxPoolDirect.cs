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

        // Channel by channel: a plane without NaN by the direct kernel, one with a NaN by the copying kernel (its NaN rule).
        private static unsafe void MaxPoolDirect(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
            Span<float> y, KernelPath path)
        {
            int plane = height * width, outPlane = outHeight * outWidth;
            fixed (float* xs = x)
            fixed (float* ys = y)
            {
                for (int c = 0; c < channels; c++)
                {
                    float* source = xs + (nint)c * plane, target = ys + (nint)c * outPlane;
                    if (HasNaN(source, plane, path == KernelPath.Vector512))
                        MaxPoolCopying(x.Slice(c * plane, plane), 1, height, width, kernel, stride, padding, outHeight, outWidth, y.Slice(c * outPlane, outPlane), path);
                    else if (path == KernelPath.Vector512) MaxPoolDirect512(source, height, width, kernel, stride, padding, outHeight, outWidth, target);
                    else MaxPoolDirect256(source, height, width, kernel, stride, padding, outHeight, outWidth, target);
                }
            }
        }

        /// <summary>
        /// Max pooling of one channel plane without NaN, straight from the input: a column of 16 (Vector512) or 8 (Vector256)
        /// neighbouring output cells at a time, top to bottom, each input row's window maxima taken once into a ring of 8 and
        /// each output row folded from its window's rows, top to bottom. The same two folds as the copying kernel (across each
        /// row left to right, then down), so the scan rule's first maximum holds bit for bit (−0 before +0 stays −0); without a
        /// NaN in the plane MAXPS is the rule's "a later value replaces the maximum when greater" itself.
        /// </summary>
        /// <remarks>
        /// The padding and the cells past a row's end are read as −∞ by masked loads (a masked lane reads no memory), so no row
        /// is copied: the copying kernel's padded copies and their NaN checks were a third of its time. At stride 2 each pair of
        /// taps is one load of 32 cells split into its even (the tap) and odd (the next tap) lanes.
        /// </remarks>
        private static unsafe void MaxPoolDirect512(float* plane, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, float* output)
        {
            const int Lanes = 16;
            // 16-float loads per row and chunk: one per tap at stride 1, two per pair of taps at stride 2.
            int loads = stride == 1 ? kernel : 2 * ((kernel + 1) / 2);
            Vector512<float>* masks = stackalloc Vector512<float>[loads];
            Vector512<float>* ring = stackalloc Vector512<float>[DirectRing];
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odd = even + Vector512<int>.One;
            // A row narrower than the vector stores its outputs through a mask; wider rows overlap their last chunk instead.
            var storeMask = Vector512.LessThan(lane, Vector512.Create(outWidth)).AsSingle();
            for (int chunk = 0; ; chunk += Lanes)
            {
                int first = Math.Max(0, Math.Min(chunk, outWidth - Lanes)); // the chunk's first output column
                for (int l = 0; l < loads; l++)
                {
                    int column = stride == 1 ? first - padding + l : 2 * first - padding + 2 * (l / 2) + Lanes * (l % 2);
                    var columns = lane + Vector512.Create(column);
                    masks[l] = (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();
                }
                int at = stride == 1 ? first - padding : 2 * first - padding; // the chunk's first window's left edge
                int next = 0; // the next input row whose maxima the ring lacks
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                    if (next < firstRow) next = firstRow;
                    for (; next < endRow; next++)
                    {
                        float* row = plane + (nint)next * width + at;
                        var max = negativeInfinity;
                        if (stride == 1)
                        {
                            for (int kx = 0; kx < kernel; kx++) max = Avx512F.Max(Avx512F.MaskLoad(row + kx, masks[kx], negativeInfinity), max);
                        }
                        else
                        {
                            for (int kx = 0; kx < kernel; kx += 2)
                            {
                                var low = Avx512F.MaskLoad(row + kx, masks[kx], negativeInfinity);
                                var high = Avx512F.MaskLoad(row + kx + Lanes, masks[kx + 1], negativeInfinity);
                                max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, even, high), max);
                                if (kx + 1 < kernel) max = Avx512F.Max(Avx512F.PermuteVar16x32x2(low, odd, high), max);
                            }
                        }
                        ring[next & (DirectRing - 1)] = max;
                    }
                    var window = ring[firstRow & (DirectRing - 1)];
                    for (int iy = firstRow + 1; iy < endRow; iy++) window = Avx512F.Max(ring[iy & (DirectRing - 1)], window);
                    float* target = output + (nint)oy * outWidth + first;
                    if (outWidth >= Lanes) window.Store(target);
                    else Avx512F.MaskStore(target, storeMask, window);
                }
                if (first + Lanes >= outWidth) break;
            }
        }

        /// <summary>8 output cells at a time, as <see cref="MaxPoolDirect512"/>; stride 2 needs AVX2 (its lane permute).</summary>
        private static unsafe void MaxPoolDirect256(float* plane, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, float* output)
        {
            const int Lanes = 8;
            int loads = stride == 1 ? kernel : 2 * ((kernel + 1) / 2);
            Vector256<float>* masks = stackalloc Vector256<float>[loads];
            Vector256<float>* ring = stackalloc Vector256<float>[DirectRing];
            var negativeInfinity = Vector256.Create(float.NegativeInfinity);
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var storeMask = Vector256.LessThan(lane, Vector256.Create(outWidth)).AsSingle();
            for (int chunk = 0; ; chunk += Lanes)
            {
                int first = Math.Max(0, Math.Min(chunk, outWidth - Lanes));
                for (int l = 0; l < loads; l++)
                {
                    int column = stride == 1 ? first - padding + l : 2 * first - padding + 2 * (l / 2) + Lanes * (l % 2);
                    var columns = lane + Vector256.Create(column);
                    masks[l] = (Vector256.GreaterThanOrEqual(columns, Vector256<int>.Zero) & Vector256.LessThan(columns, Vector256.Create(width))).AsSingle();
                }
                int at = stride == 1 ? first - padding : 2 * first - padding;
                int next = 0;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                    if (next < firstRow) next = firstRow;
                    for (; next < endRow; next++)
                    {
                        float* row = plane + (nint)next * width + at;
                        var max = negativeInfinity;
                        if (stride == 1)
                        {
                            for (int kx = 0; kx < kernel; kx++) max = Avx.Max(Load256(row + kx, masks[kx], negativeInfinity), max);
                        }
                        else
                        {
                            for (int kx = 0; kx < kernel; kx += 2)
                            {
                                var low = Load256(row + kx, masks[kx], negativeInfinity);
                                var high = Load256(row + kx + Lanes, masks[kx + 1], negativeInfinity);
                                // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs in order: a0 a2 a4 a6 b0 b2 b4 b6 (odd lanes alike).
                                var evens = Avx2.Permute4x64(Avx.Shuffle(low, high, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
                                max = Avx.Max(evens, max);
                                if (kx + 1 < kernel)
                                    max = Avx.Max(Avx2.Permute4x64(Avx.Shuffle(low, high, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle(), max);
                            }
                        }
                        ring[next & (DirectRing - 1)] = max;
                    }
                    var window = ring[firstRow & (DirectRing - 1)];
                    for (int iy = firstRow + 1; iy < endRow; iy++) window = Avx.Max(ring[iy & (DirectRing - 1)], window);
                    float* target = output + (nint)oy * outWidth + first;
                    if (outWidth >= Lanes) window.Store(target);
                    else Avx.MaskStore(target, storeMask, window);
                }
                if (first + Lanes >= outWidth) break;
            }
        }

        // VMASKMOVPS reads no memory under a clear lane (and gives 0 there): the padding's −∞ is blended in.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<float> Load256(float* address, Vector256<float> mask, Vector256<float> negativeInfinity) =>
            Avx.BlendVariable(negativeInfinity, Avx.MaskLoad(address, mask), mask);

        // Whether a plane holds a NaN: one unordered compare per two vectors.
        private static unsafe bool HasNaN(float* plane, int length, bool wide)
        {
            int i = 0;
            if (wide)
            {
                var unordered = Vector512<float>.Zero;
                for (; i + 32 <= length; i += 32) unordered |= Avx512F.CompareUnordered(Vector512.Load(plane + i), Vector512.Load(plane + i + 16));
                if (unordered != Vector512<float>.Zero) return true;
            }
            else
            {
                var unordered = Vector256<float>.Zero;
                for (; i + 16 <= length; i += 16) unordered |= Avx.CompareUnordered(Vector256.Load(plane + i), Vector256.Load(plane + i + 8));
                if (unordered != Vector256<float>.Zero) return true;
            }
            for (; i < length; i++)
                if (float.IsNaN(plane[i])) return true;
            return false;
        }
    }
}
#endif
