using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// im2col and its adjoint for the general convolution geometry (per-axis kernel, stride, padding, dilation), over
    /// a run of channels: the matrix form the grouped and transposed convolutions hand to <see cref="Gemm"/>. No checks
    /// beyond debug asserts: the public kernels check their spans before calling these.
    /// </summary>
    internal static class ConvolutionColumns
    {
        /// <summary>
        /// cols[(c·kh + ky)·kw + kx, oy·OW + ox] = image[c, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw], or 0 outside the image,
        /// for <paramref name="channels"/> channels of an image of <c>g.InHeight x g.InWidth</c>.
        /// </summary>
        public static void Expand(ReadOnlySpan<float> image, int channels, in ConvolutionGeometry g, Span<float> cols)
        {
            int outHeight = g.OutHeight, outWidth = g.OutWidth, plane = outHeight * outWidth;
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth;
            ref float source = ref MemoryMarshal.GetReference(image);
            ref float target = ref MemoryMarshal.GetReference(cols);
            bool vector = Simd.Enabled && Vector256.IsHardwareAccelerated;
            int imageEnd = channels * height * width;
            int row = 0;
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++, row++)
                    {
                        int offset = kx * g.DilationWidth - g.PaddingWidth;
                        ValidColumns(offset, sw, width, outWidth, out int lo, out int hi);
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            ref float line = ref Unsafe.Add(ref target, (nint)row * plane + oy * outWidth);
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)height)
                            {
                                MemoryMarshal.CreateSpan(ref line, outWidth).Clear();
                                continue;
                            }
                            for (int ox = 0; ox < lo; ox++) Unsafe.Add(ref line, ox) = 0f;
                            for (int ox = hi; ox < outWidth; ox++) Unsafe.Add(ref line, ox) = 0f;
                            int start = (c * height + iy) * width + lo * sw + offset;
                            ref float from = ref Unsafe.Add(ref source, start);
                            if (sw == 1)
                            {
                                MemoryMarshal.CreateReadOnlySpan(ref from, hi - lo).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref line, lo), hi - lo));
                            }
                            else
                            {
                                int o = 0, count = hi - lo;
                                ref float to = ref Unsafe.Add(ref line, lo);
                                // Stride 2: the even lanes of 16 consecutive inputs (reading one float past the last input it
                                // uses, so never the image's last 16 floats: those go by the scalar loop).
                                if (sw == 2 && vector)
                                {
                                    int available = imageEnd - start;
                                    for (; o <= count - 8 && 2 * o + 16 <= available; o += 8)
                                        VectorRows.Deinterleave(ref Unsafe.Add(ref from, 2 * o)).Evens.StoreUnsafe(ref to, (nuint)o);
                                }
                                for (; o < count; o++) Unsafe.Add(ref to, o) = Unsafe.Add(ref from, (nint)o * sw);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The adjoint of <see cref="Expand"/>: image[c, iy, ix] += cols[row, column] for every element <see cref="Expand"/>
        /// reads from (c, iy, ix). The image is not cleared first.
        /// </summary>
        public static void AccumulateBack(ReadOnlySpan<float> cols, int channels, in ConvolutionGeometry g, Span<float> image)
        {
            int outHeight = g.OutHeight, outWidth = g.OutWidth, plane = outHeight * outWidth;
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth;
            ref float source = ref MemoryMarshal.GetReference(cols);
            ref float target = ref MemoryMarshal.GetReference(image);
            bool vector = Simd.Enabled;
            int row = 0;
            for (int c = 0; c < channels; c++)
            {
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++, row++)
                    {
                        int offset = kx * g.DilationWidth - g.PaddingWidth;
                        ValidColumns(offset, sw, width, outWidth, out int lo, out int hi);
                        if (lo >= hi) continue;
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)height) continue;
                            ref float from = ref Unsafe.Add(ref source, (nint)row * plane + oy * outWidth + lo);
                            ref float to = ref Unsafe.Add(ref target, (nint)(c * height + iy) * width + lo * sw + offset);
                            if (sw == 1) VectorRows.Add(ref from, ref to, hi - lo, vector);
                            else
                            {
                                for (int o = 0; o < hi - lo; o++) Unsafe.Add(ref to, (nint)o * sw) += Unsafe.Add(ref from, o);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>The output columns [lo, hi) whose input column ox·stride + offset lies in [0, width).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void ValidColumns(int offset, int stride, int width, int outWidth, out int lo, out int hi)
        {
            // ox·stride + offset ≥ 0  and  ox·stride + offset ≤ width − 1
            lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
            int last = width - 1 - offset;
            hi = last < 0 ? 0 : Math.Min(outWidth, last / stride + 1);
            if (lo > outWidth) lo = outWidth;
            if (hi < lo) hi = lo;
        }
    }
}
