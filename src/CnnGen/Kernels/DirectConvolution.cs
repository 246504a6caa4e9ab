using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 convolution computed directly, without im2col: the forward pass of the generated <c>Conv2d</c> layers.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The input is copied once into a zero-padded buffer (rows of <c>W + 2p</c>). In that layout a stride-1 convolution is
    /// a one-dimensional one: output cell <c>(oy, ox)</c>, placed at flat position <c>j = oy·(W+2p) + ox</c>, is the sum
    /// over taps of <c>padded[ic][j + ky·(W+2p) + kx]</c> times a weight. So consecutive flat positions are consecutive
    /// inputs for every tap, and a vector of 16 (or 8) output cells is one unaligned load per tap, whatever the width.
    /// The <c>K−1</c> positions at the end of each padded row are not output cells; they are computed and dropped.
    /// </para>
    /// <para>
    /// The register tile is 4 output channels x 4 vectors of 16 cells (Vector512) or 4 x 2 vectors of 8 (Vector256),
    /// started at the bias: per tap, 4 loads and 4 weight broadcasts feed 16 (or 8) fused multiply-adds. A block of 4
    /// channels is written to a flat scratch row, then copied to the NCHW output (dropping the padding columns, applying
    /// ReLU when asked) while it is still in L1.
    /// </para>
    /// </remarks>
    public static class DirectConvolution
    {
        private const int ChannelBlock = 4;
        private const int FlatAlignment = 16;

        private readonly struct Geometry
        {
            public readonly int InChannels, Height, Width, Kernel, Padding;
            public readonly int PaddedWidth, PaddedHeight, Plane, OutHeight, OutWidth, FlatLength, PaddedLength, Taps;

            public Geometry(int inChannels, int height, int width, int kernel, int padding)
            {
                InChannels = inChannels; Height = height; Width = width; Kernel = kernel; Padding = padding;
                PaddedWidth = width + 2 * padding;
                PaddedHeight = height + 2 * padding;
                Plane = PaddedHeight * PaddedWidth;
                OutHeight = PaddedHeight - kernel + 1;
                OutWidth = PaddedWidth - kernel + 1;
                // Whole vectors of flat positions covering every output row.
                FlatLength = RoundUp(OutHeight * PaddedWidth, FlatAlignment);
                // The last vector reads up to FlatAlignment + kernel floats past the last plane: zeros.
                PaddedLength = RoundUp(inChannels * Plane + FlatAlignment + kernel, FlatAlignment);
                Taps = inChannels * kernel * kernel;
            }

            private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
        }

        /// <summary>Floats of scratch the kernels of this class need for one sample of a layer of this shape.</summary>
        public static int ScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            return ForwardScratch(g);
        }

        private static int ForwardScratch(in Geometry g) => g.PaddedLength + ChannelBlock * g.FlatLength;

        /// <summary>
        /// y = conv2d(x, weight, bias, stride 1, zero padding <paramref name="padding"/>), then ReLU when
        /// <paramref name="relu"/>, for one sample: x is [inChannels x height x width], weight
        /// [outChannels x inChannels x kernel x kernel] (PyTorch's layout), bias [outChannels] or empty, y
        /// [outChannels x (height + 2p − kernel + 1) x (width + 2p − kernel + 1)].
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the kernel is larger than the padded input.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the scratch shorter than <see cref="ScratchLength"/>.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu,
                !Simd.Enabled ? KernelPath.Scalar : Vector512.IsHardwareAccelerated ? KernelPath.Vector512 : KernelPath.Vector256);

        /// <summary>Which code <see cref="Forward"/> runs; tests choose each one on a machine that has them all.</summary>
        internal enum KernelPath { Scalar, Vector256, Vector512 }

        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, KernelPath path)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            var g = new Geometry(inChannels, height, width, kernel, padding);
            if (g.OutHeight <= 0 || g.OutWidth <= 0)
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel is larger than the padded input.");
            Require(x.Length >= inChannels * height * width, nameof(x), inChannels * height * width);
            Require(weight.Length >= outChannels * g.Taps, nameof(weight), outChannels * g.Taps);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            Require(y.Length >= outChannels * g.OutHeight * g.OutWidth, nameof(y), outChannels * g.OutHeight * g.OutWidth);
            Require(scratch.Length >= ForwardScratch(g), nameof(scratch), ForwardScratch(g));

            if (path == KernelPath.Scalar)
            {
                ForwardScalar(x, weight, bias, outChannels, y, relu, g);
                return;
            }

            var padded = scratch.Slice(0, g.PaddedLength);
            Pad(x, padded, g);
            var flat = scratch.Slice(g.PaddedLength, ChannelBlock * g.FlatLength);
            for (int first = 0; first < outChannels; first += ChannelBlock)
            {
                int count = Math.Min(ChannelBlock, outChannels - first);
                if (path == KernelPath.Vector512) Block512(padded, weight, bias, first, count, flat, g);
                else Block256(padded, weight, bias, first, count, flat, g);
                Unflatten(flat, first, count, y, relu, g);
            }
        }

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }

        /// <summary>Copies x into the zero-padded planes (and zeroes the slack the last vectors read).</summary>
        private static void Pad(ReadOnlySpan<float> x, Span<float> padded, in Geometry g)
        {
            if (g.Padding == 0)
            {
                x.Slice(0, g.InChannels * g.Plane).CopyTo(padded);
                padded.Slice(g.InChannels * g.Plane).Clear();
                return;
            }
            padded.Clear();
            for (int c = 0; c < g.InChannels; c++)
            {
                for (int iy = 0; iy < g.Height; iy++)
                {
                    x.Slice((c * g.Height + iy) * g.Width, g.Width)
                        .CopyTo(padded.Slice(c * g.Plane + (iy + g.Padding) * g.PaddedWidth + g.Padding, g.Width));
                }
            }
        }

        /// <summary>Flat rows (stride W+2p) of a block of channels to NCHW rows (stride OW), with ReLU when asked.</summary>
        private static void Unflatten(ReadOnlySpan<float> flat, int first, int count, Span<float> y, bool relu, in Geometry g)
        {
            int outPlane = g.OutHeight * g.OutWidth;
            for (int r = 0; r < count; r++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    var source = flat.Slice(r * g.FlatLength + oy * g.PaddedWidth, g.OutWidth);
                    var target = y.Slice((first + r) * outPlane + oy * g.OutWidth, g.OutWidth);
                    if (relu) Elementwise.Relu(source, target);
                    else source.CopyTo(target);
                }
            }
        }

        // 4 channels x 4 vectors of 16 flat positions, then single vectors for the remainder.
        private static void Block512(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, int count, Span<float> flat, in Geometry g)
        {
            const int V = 16;
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float o = ref MemoryMarshal.GetReference(flat);
            // Channels past the last are computed again as the last one and not written back.
            ref float w0 = ref Unsafe.Add(ref w, first * g.Taps);
            ref float w1 = ref Unsafe.Add(ref w, (first + Math.Min(1, count - 1)) * g.Taps);
            ref float w2 = ref Unsafe.Add(ref w, (first + Math.Min(2, count - 1)) * g.Taps);
            ref float w3 = ref Unsafe.Add(ref w, (first + Math.Min(3, count - 1)) * g.Taps);
            float b0 = BiasAt(bias, first, 0, count), b1 = BiasAt(bias, first, 1, count), b2 = BiasAt(bias, first, 2, count), b3 = BiasAt(bias, first, 3, count);
            int vectors = g.FlatLength / V;
            int kernel = g.Kernel, inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth, fl = g.FlatLength;
            int v = 0;
            for (; v + 4 <= vectors; v += 4)
            {
                var a00 = Vector512.Create(b0); var a01 = a00; var a02 = a00; var a03 = a00;
                var a10 = Vector512.Create(b1); var a11 = a10; var a12 = a10; var a13 = a10;
                var a20 = Vector512.Create(b2); var a21 = a20; var a22 = a20; var a23 = a20;
                var a30 = Vector512.Create(b3); var a31 = a30; var a32 = a30; var a33 = a30;
                int t = 0;
                for (int ic = 0; ic < inChannels; ic++)
                {
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        nuint row = (nuint)(v * V + ic * plane + ky * pw);
                        for (int kx = 0; kx < kernel; kx++, t++)
                        {
                            nuint at = row + (nuint)kx;
                            var x0 = Vector512.LoadUnsafe(ref x, at);
                            var x1 = Vector512.LoadUnsafe(ref x, at + V);
                            var x2 = Vector512.LoadUnsafe(ref x, at + 2 * V);
                            var x3 = Vector512.LoadUnsafe(ref x, at + 3 * V);
                            var k = Vector512.Create(Unsafe.Add(ref w0, t));
                            a00 = Fused.MultiplyAdd(x0, k, a00); a01 = Fused.MultiplyAdd(x1, k, a01); a02 = Fused.MultiplyAdd(x2, k, a02); a03 = Fused.MultiplyAdd(x3, k, a03);
                            k = Vector512.Create(Unsafe.Add(ref w1, t));
                            a10 = Fused.MultiplyAdd(x0, k, a10); a11 = Fused.MultiplyAdd(x1, k, a11); a12 = Fused.MultiplyAdd(x2, k, a12); a13 = Fused.MultiplyAdd(x3, k, a13);
                            k = Vector512.Create(Unsafe.Add(ref w2, t));
                            a20 = Fused.MultiplyAdd(x0, k, a20); a21 = Fused.MultiplyAdd(x1, k, a21); a22 = Fused.MultiplyAdd(x2, k, a22); a23 = Fused.MultiplyAdd(x3, k, a23);
                            k = Vector512.Create(Unsafe.Add(ref w3, t));
                            a30 = Fused.MultiplyAdd(x0, k, a30); a31 = Fused.MultiplyAdd(x1, k, a31); a32 = Fused.MultiplyAdd(x2, k, a32); a33 = Fused.MultiplyAdd(x3, k, a33);
                        }
                    }
                }
                nuint at0 = (nuint)(v * V);
                a00.StoreUnsafe(ref o, at0); a01.StoreUnsafe(ref o, at0 + V); a02.StoreUnsafe(ref o, at0 + 2 * V); a03.StoreUnsafe(ref o, at0 + 3 * V);
                if (count > 1) { nuint at1 = at0 + (nuint)fl; a10.StoreUnsafe(ref o, at1); a11.StoreUnsafe(ref o, at1 + V); a12.StoreUnsafe(ref o, at1 + 2 * V); a13.StoreUnsafe(ref o, at1 + 3 * V); }
                if (count > 2) { nuint at2 = at0 + (nuint)(2 * fl); a20.StoreUnsafe(ref o, at2); a21.StoreUnsafe(ref o, at2 + V); a22.StoreUnsafe(ref o, at2 + 2 * V); a23.StoreUnsafe(ref o, at2 + 3 * V); }
                if (count > 3) { nuint at3 = at0 + (nuint)(3 * fl); a30.StoreUnsafe(ref o, at3); a31.StoreUnsafe(ref o, at3 + V); a32.StoreUnsafe(ref o, at3 + 2 * V); a33.StoreUnsafe(ref o, at3 + 3 * V); }
            }
            for (; v < vectors; v++)
            {
                var a0 = Vector512.Create(b0); var a1 = Vector512.Create(b1); var a2 = Vector512.Create(b2); var a3 = Vector512.Create(b3);
                int t = 0;
                for (int ic = 0; ic < inChannels; ic++)
                {
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        nuint row = (nuint)(v * V + ic * plane + ky * pw);
                        for (int kx = 0; kx < kernel; kx++, t++)
                        {
                            var x0 = Vector512.LoadUnsafe(ref x, row + (nuint)kx);
                            a0 = Fused.MultiplyAdd(x0, Vector512.Create(Unsafe.Add(ref w0, t)), a0);
                            a1 = Fused.MultiplyAdd(x0, Vector512.Create(Unsafe.Add(ref w1, t)), a1);
                            a2 = Fused.MultiplyAdd(x0, Vector512.Create(Unsafe.Add(ref w2, t)), a2);
                            a3 = Fused.MultiplyAdd(x0, Vector512.Create(Unsafe.Add(ref w3, t)), a3);
                        }
                    }
                }
                nuint at0 = (nuint)(v * V);
                a0.StoreUnsafe(ref o, at0);
                if (count > 1) a1.StoreUnsafe(ref o, at0 + (nuint)fl);
                if (count > 2) a2.StoreUnsafe(ref o, at0 + (nuint)(2 * fl));
                if (count > 3) a3.StoreUnsafe(ref o, at0 + (nuint)(3 * fl));
            }
        }

        // 4 channels x 2 vectors of 8 flat positions (sixteen registers hold no more), then single vectors.
        private static void Block256(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, int count, Span<float> flat, in Geometry g)
        {
            const int V = 8;
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float o = ref MemoryMarshal.GetReference(flat);
            ref float w0 = ref Unsafe.Add(ref w, first * g.Taps);
            ref float w1 = ref Unsafe.Add(ref w, (first + Math.Min(1, count - 1)) * g.Taps);
            ref float w2 = ref Unsafe.Add(ref w, (first + Math.Min(2, count - 1)) * g.Taps);
            ref float w3 = ref Unsafe.Add(ref w, (first + Math.Min(3, count - 1)) * g.Taps);
            float b0 = BiasAt(bias, first, 0, count), b1 = BiasAt(bias, first, 1, count), b2 = BiasAt(bias, first, 2, count), b3 = BiasAt(bias, first, 3, count);
            int vectors = g.FlatLength / V;
            int kernel = g.Kernel, inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth, fl = g.FlatLength;
            int v = 0;
            for (; v + 2 <= vectors; v += 2)
            {
                var a00 = Vector256.Create(b0); var a01 = a00;
                var a10 = Vector256.Create(b1); var a11 = a10;
                var a20 = Vector256.Create(b2); var a21 = a20;
                var a30 = Vector256.Create(b3); var a31 = a30;
                int t = 0;
                for (int ic = 0; ic < inChannels; ic++)
                {
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        nuint row = (nuint)(v * V + ic * plane + ky * pw);
                        for (int kx = 0; kx < kernel; kx++, t++)
                        {
                            nuint at = row + (nuint)kx;
                            var x0 = Vector256.LoadUnsafe(ref x, at);
                            var x1 = Vector256.LoadUnsafe(ref x, at + V);
                            var k = Vector256.Create(Unsafe.Add(ref w0, t));
                            a00 = Fused.MultiplyAdd(x0, k, a00); a01 = Fused.MultiplyAdd(x1, k, a01);
                            k = Vector256.Create(Unsafe.Add(ref w1, t));
                            a10 = Fused.MultiplyAdd(x0, k, a10); a11 = Fused.MultiplyAdd(x1, k, a11);
                            k = Vector256.Create(Unsafe.Add(ref w2, t));
                            a20 = Fused.MultiplyAdd(x0, k, a20); a21 = Fused.MultiplyAdd(x1, k, a21);
                            k = Vector256.Create(Unsafe.Add(ref w3, t));
                            a30 = Fused.MultiplyAdd(x0, k, a30); a31 = Fused.MultiplyAdd(x1, k, a31);
                        }
                    }
                }
                nuint at0 = (nuint)(v * V);
                a00.StoreUnsafe(ref o, at0); a01.StoreUnsafe(ref o, at0 + V);
                if (count > 1) { nuint at1 = at0 + (nuint)fl; a10.StoreUnsafe(ref o, at1); a11.StoreUnsafe(ref o, at1 + V); }
                if (count > 2) { nuint at2 = at0 + (nuint)(2 * fl); a20.StoreUnsafe(ref o, at2); a21.StoreUnsafe(ref o, at2 + V); }
                if (count > 3) { nuint at3 = at0 + (nuint)(3 * fl); a30.StoreUnsafe(ref o, at3); a31.StoreUnsafe(ref o, at3 + V); }
            }
            for (; v < vectors; v++)
            {
                var a0 = Vector256.Create(b0); var a1 = Vector256.Create(b1); var a2 = Vector256.Create(b2); var a3 = Vector256.Create(b3);
                int t = 0;
                for (int ic = 0; ic < inChannels; ic++)
                {
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        nuint row = (nuint)(v * V + ic * plane + ky * pw);
                        for (int kx = 0; kx < kernel; kx++, t++)
                        {
                            var x0 = Vector256.LoadUnsafe(ref x, row + (nuint)kx);
                            a0 = Fused.MultiplyAdd(x0, Vector256.Create(Unsafe.Add(ref w0, t)), a0);
                            a1 = Fused.MultiplyAdd(x0, Vector256.Create(Unsafe.Add(ref w1, t)), a1);
                            a2 = Fused.MultiplyAdd(x0, Vector256.Create(Unsafe.Add(ref w2, t)), a2);
                            a3 = Fused.MultiplyAdd(x0, Vector256.Create(Unsafe.Add(ref w3, t)), a3);
                        }
                    }
                }
                nuint at0 = (nuint)(v * V);
                a0.StoreUnsafe(ref o, at0);
                if (count > 1) a1.StoreUnsafe(ref o, at0 + (nuint)fl);
                if (count > 2) a2.StoreUnsafe(ref o, at0 + (nuint)(2 * fl));
                if (count > 3) a3.StoreUnsafe(ref o, at0 + (nuint)(3 * fl));
            }
        }

        private static float BiasAt(ReadOnlySpan<float> bias, int first, int r, int count) =>
            bias.IsEmpty ? 0f : bias[first + Math.Min(r, count - 1)];

        /// <summary>The scalar path: the definition, one output cell at a time.</summary>
        private static void ForwardScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, bool relu, in Geometry g)
        {
            int k = g.Kernel;
            for (int oc = 0; oc < outChannels; oc++)
            {
                float start = bias.IsEmpty ? 0f : bias[oc];
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float sum = start;
                        for (int ic = 0; ic < g.InChannels; ic++)
                        {
                            for (int ky = 0; ky < k; ky++)
                            {
                                int iy = oy + ky - g.Padding;
                                if ((uint)iy >= (uint)g.Height) continue;
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int ix = ox + kx - g.Padding;
                                    if ((uint)ix >= (uint)g.Width) continue;
                                    sum += x[(ic * g.Height + iy) * g.Width + ix] * weight[((oc * g.InChannels + ic) * k + ky) * k + kx];
                                }
                            }
                        }
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = relu && sum < 0f ? 0f : sum;
                    }
                }
            }
        }
    }
}
