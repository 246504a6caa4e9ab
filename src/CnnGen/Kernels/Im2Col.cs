using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The im2col expansion of one sample (C x H x W) into a (C*K*K) x (OH*OW) matrix, so that a convolution becomes
    /// W[outC x C*K*K] * cols, and its adjoint for the input gradient. Allocation-free, deterministic, thread-safe.
    /// </summary>
    public static class Im2Col
    {
        /// <summary>
        /// cols[(c*K + ky)*K + kx, oy*OW + ox] = x[c, oy*stride - padding + ky, ox*stride - padding + kx], or 0 where that
        /// falls outside the input (zero padding). Every element of the (C*K*K) x (OH*OW) block of <paramref name="cols"/> is written.
        /// </summary>
        public static void Expand(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding,
            int outHeight, int outWidth, Span<float> cols)
        {
            Validate(x.Length, "x", channels, height, width, kernel, stride, padding, outHeight, outWidth, cols.Length, "cols");
            int plane = outHeight * outWidth;
            if (plane == 0 || channels == 0) return;
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float colsRef = ref MemoryMarshal.GetReference(cols);
            bool simd = Simd.Enabled;
            for (int ch = 0; ch < channels; ch++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        int row = (ch * kernel + ky) * kernel + kx;
                        ValidColumns(kx, stride, padding, width, outWidth, out int lo, out int hi);
                        int ixLo = lo * stride - padding + kx;
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            ref float line = ref Unsafe.Add(ref colsRef, (nint)row * plane + oy * outWidth);
                            int iy = oy * stride - padding + ky;
                            if ((uint)iy >= (uint)height || lo >= hi)
                            {
                                MemoryMarshal.CreateSpan(ref line, outWidth).Clear();
                                continue;
                            }
                            for (int ox = 0; ox < lo; ox++) Unsafe.Add(ref line, ox) = 0f;
                            for (int ox = hi; ox < outWidth; ox++) Unsafe.Add(ref line, ox) = 0f;
                            ref float src = ref Unsafe.Add(ref xRef, (nint)(ch * height + iy) * width + ixLo);
                            ref float dst = ref Unsafe.Add(ref line, lo);
                            int count = hi - lo;
                            if (stride == 1)
                            {
                                int o = 0;
                                if (simd)
                                {
                                    for (; o <= count - Vector256<float>.Count; o += Vector256<float>.Count)
                                    {
                                        Vector256.LoadUnsafe(ref src, (nuint)o).StoreUnsafe(ref dst, (nuint)o);
                                    }
                                }
                                for (; o < count; o++) Unsafe.Add(ref dst, o) = Unsafe.Add(ref src, o);
                            }
                            else
                            {
                                int o = 0;
                                if (stride == 2 && simd && Avx2.IsSupported)
                                {
                                    // 8 outputs from 16 consecutive inputs, their even ones: while those 16 lie inside x.
                                    long inside = x.Length - ((long)(ch * height + iy) * width + ixLo);
                                    for (; o + 8 <= count && 2L * o + 16 <= inside; o += 8) EvenOf16(ref Unsafe.Add(ref src, 2 * o)).StoreUnsafe(ref dst, (nuint)o);
                                }
                                for (; o < count; o++) Unsafe.Add(ref dst, o) = Unsafe.Add(ref src, (nint)o * stride);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The adjoint of <see cref="Expand"/>: dx[c, iy, ix] += cols[row, column] for every element that
        /// <see cref="Expand"/> would read from (c, iy, ix). <paramref name="dx"/> is not cleared first.
        /// </summary>
        public static void AccumulateBack(ReadOnlySpan<float> cols, int channels, int height, int width, int kernel, int stride,
            int padding, int outHeight, int outWidth, Span<float> dx)
        {
            Validate(dx.Length, "dx", channels, height, width, kernel, stride, padding, outHeight, outWidth, cols.Length, "cols");
            int plane = outHeight * outWidth;
            if (plane == 0 || channels == 0) return;
            ref float colsRef = ref MemoryMarshal.GetReference(cols);
            ref float dxRef = ref MemoryMarshal.GetReference(dx);
            bool simd = Simd.Enabled;
            for (int ch = 0; ch < channels; ch++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        int row = (ch * kernel + ky) * kernel + kx;
                        ValidColumns(kx, stride, padding, width, outWidth, out int lo, out int hi);
                        if (lo >= hi) continue;
                        int count = hi - lo;
                        int ixLo = lo * stride - padding + kx;
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            int iy = oy * stride - padding + ky;
                            if ((uint)iy >= (uint)height) continue;
                            ref float src = ref Unsafe.Add(ref colsRef, (nint)row * plane + oy * outWidth + lo);
                            ref float dst = ref Unsafe.Add(ref dxRef, (nint)(ch * height + iy) * width + ixLo);
                            if (stride == 1)
                            {
                                int o = 0;
                                if (simd)
                                {
                                    for (; o <= count - Vector256<float>.Count; o += Vector256<float>.Count)
                                    {
                                        (Vector256.LoadUnsafe(ref dst, (nuint)o) + Vector256.LoadUnsafe(ref src, (nuint)o)).StoreUnsafe(ref dst, (nuint)o);
                                    }
                                }
                                for (; o < count; o++) Unsafe.Add(ref dst, o) += Unsafe.Add(ref src, o);
                            }
                            else
                            {
                                int o = 0;
                                if (stride == 2 && simd && Avx2.IsSupported)
                                {
                                    // 8 values onto the even ones of 16 consecutive dx floats (the odd ones stored back as they were):
                                    // while those 16 lie inside dx.
                                    long inside = dx.Length - ((long)(ch * height + iy) * width + ixLo);
                                    for (; o + 8 <= count && 2L * o + 16 <= inside; o += 8) AddToEvenOf16(Vector256.LoadUnsafe(ref src, (nuint)o), ref Unsafe.Add(ref dst, 2 * o));
                                }
                                for (; o < count; o++) Unsafe.Add(ref dst, (nint)o * stride) += Unsafe.Add(ref src, o);
                            }
                        }
                    }
                }
            }
        }

        // The even floats of source[0..15], in order: within each 128-bit lane the shuffle takes a0 a2 b0 b2 (a4 a6 b4 b6), and
        // the 64-bit permutation puts the a pairs before the b pairs.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> EvenOf16(ref float source)
        {
            var a = Vector256.LoadUnsafe(ref source);
            var b = Vector256.LoadUnsafe(ref source, 8);
            return Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        }

        // target[2i] += values[i] for i in 0..7: the values spread over even lanes (zeros between), added, and the odd lanes
        // blended back from what target held, so they keep their bits (−0 included) and every even one gets one float add, as
        // the scalar loop's.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddToEvenOf16(Vector256<float> values, ref float target)
        {
            var spread = Avx2.Permute4x64(values.AsDouble(), 0b11_01_10_00).AsSingle(); // v0 v1 v4 v5 | v2 v3 v6 v7
            var zero = Vector256<float>.Zero;
            var t0 = Vector256.LoadUnsafe(ref target);
            var t1 = Vector256.LoadUnsafe(ref target, 8);
            Avx.Blend(t0 + Avx.UnpackLow(spread, zero), t0, 0b1010_1010).StoreUnsafe(ref target);
            Avx.Blend(t1 + Avx.UnpackHigh(spread, zero), t1, 0b1010_1010).StoreUnsafe(ref target, 8);
        }

        /// <summary>The output columns [lo, hi) whose input column ox*stride - padding + kx lies inside [0, width).</summary>
        private static void ValidColumns(int kx, int stride, int padding, int width, int outWidth, out int lo, out int hi)
        {
            int first = padding - kx; // ox*stride >= first
            lo = first <= 0 ? 0 : (first + stride - 1) / stride;
            int last = width - 1 + padding - kx; // ox*stride <= last
            hi = last < 0 ? 0 : Math.Min(outWidth, last / stride + 1);
            if (lo > outWidth) lo = outWidth;
            if (hi < lo) hi = lo;
        }

        private static void Validate(int imageLength, string imageName, int channels, int height, int width, int kernel, int stride,
            int padding, int outHeight, int outWidth, int colsLength, string colsName)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(channels);
            ArgumentOutOfRangeException.ThrowIfNegative(height);
            ArgumentOutOfRangeException.ThrowIfNegative(width);
            ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            ArgumentOutOfRangeException.ThrowIfNegative(outHeight);
            ArgumentOutOfRangeException.ThrowIfNegative(outWidth);
            long image = (long)channels * height * width;
            if (imageLength < image)
            {
                throw new ArgumentException(
                    $"'{imageName}' ({channels} x {height} x {width}) needs at least {image} elements, but has {imageLength}.", imageName);
            }
            long expanded = (long)channels * kernel * kernel * outHeight * outWidth;
            if (colsLength < expanded)
            {
                throw new ArgumentException(
                    $"'{colsName}' ({channels * kernel * kernel} x {outHeight * outWidth}) needs at least {expanded} elements, but has {colsLength}.",
                    colsName);
            }
        }
    }
}
