using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class Pooling
    {
        /// <summary>
        /// y [channels x OH x OW] = average pooling of x [channels x height x width] with a square window of
        /// <paramref name="kernel"/>, <paramref name="stride"/> and zero <paramref name="padding"/> counted in the divisor
        /// (PyTorch's <c>AvgPool2d</c>, <c>count_include_pad=True</c>, floor mode): each cell is its window's in-bounds inputs
        /// summed from 0 in scan order (row by row, left to right), divided by kernel².
        /// </summary>
        /// <remarks>
        /// At stride 1 the windows that lie inside the input run 16 (or 8) neighbouring output cells in one vector, a tap
        /// one load; the cells whose window reaches into the padding, other strides and the scalar path take the same sum one
        /// cell at a time, so every path gives the same bits. Inception's 3x3 stride-1 padding-1 branch on 32x32x32 took about
        /// 258 µs as the generated scalar loop against ONNX Runtime's ~17 µs (CnnGen.Benchmarks <c>zoo sweep2 probe</c>, load 20);
        /// benchmarks/README.md has this kernel's figures.
        /// </remarks>
        public static void AvgPool(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y) =>
            AvgPoolOn(x, channels, height, width, kernel, stride, padding, y, KernelPaths.Default);

        internal static void AvgPoolOn(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y, KernelPath path)
        {
            var (outHeight, outWidth) = CheckWindow(channels, height, width, kernel, stride, padding);
            int plane = height * width, outPlane = outHeight * outWidth;
            if (x.Length < channels * plane) throw new ArgumentException("Expected at least " + channels * plane + " floats.", nameof(x));
            if (y.Length < channels * outPlane) throw new ArgumentException("Expected at least " + channels * outPlane + " floats.", nameof(y));
            int lanes = stride != 1 ? 0 : path switch
            {
                KernelPath.Vector512 when Vector512.IsHardwareAccelerated => 16,
                KernelPath.Vector256 when Vector256.IsHardwareAccelerated => 8,
                _ => 0,
            };
            float divisor = kernel * kernel;
            // Output columns whose window lies inside the input's columns (stride 1): [insideFirst, insideEnd).
            int insideFirst = Math.Min(padding, outWidth), insideEnd = Math.Max(insideFirst, Math.Min(outWidth, width + padding - kernel + 1));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float input = ref Unsafe.Add(ref xs, c * plane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    ref float row = ref Unsafe.Add(ref ys, c * outPlane + oy * outWidth);
                    if (lanes == 0 || insideEnd - insideFirst < lanes)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                            Unsafe.Add(ref row, ox) = AverageCell(ref input, height, width, top, ox * stride - padding, kernel, divisor);
                        continue;
                    }
                    for (int ox = 0; ox < insideFirst; ox++)
                        Unsafe.Add(ref row, ox) = AverageCell(ref input, height, width, top, ox - padding, kernel, divisor);
                    int firstRow = Math.Max(top, 0), endRow = Math.Min(top + kernel, height);
                    // Whole vectors, then one more ending at insideEnd (it writes some cells again, with the same values).
                    for (int ox = insideFirst; ; ox += lanes)
                    {
                        int at = Math.Min(ox, insideEnd - lanes);
                        if (lanes == 16) AverageVector512(ref input, width, firstRow, endRow, at - padding, kernel, divisor, ref Unsafe.Add(ref row, at));
                        else AverageVector256(ref input, width, firstRow, endRow, at - padding, kernel, divisor, ref Unsafe.Add(ref row, at));
                        if (at == insideEnd - lanes) break;
                    }
                    for (int ox = insideEnd; ox < outWidth; ox++)
                        Unsafe.Add(ref row, ox) = AverageCell(ref input, height, width, top, ox - padding, kernel, divisor);
                }
            }
        }

        // One window: its in-bounds cells summed from 0 in scan order (a padded cell adds 0, which leaves the sum's bits as
        // they are), then divided by kernel².
        private static float AverageCell(ref float input, int height, int width, int top, int left, int kernel, float divisor)
        {
            float sum = 0f;
            for (int iy = Math.Max(top, 0); iy < Math.Min(top + kernel, height); iy++)
            {
                ref float cells = ref Unsafe.Add(ref input, iy * width);
                for (int ix = Math.Max(left, 0); ix < Math.Min(left + kernel, width); ix++) sum += Unsafe.Add(ref cells, ix);
            }
            return sum / divisor;
        }

        // 16 neighbouring windows whose columns lie inside the input: the same sum as AverageCell, lane by lane.
        private static void AverageVector512(ref float input, int width, int firstRow, int endRow, int left, int kernel, float divisor, ref float output)
        {
            var sum = Vector512<float>.Zero;
            for (int iy = firstRow; iy < endRow; iy++)
            {
                ref float cells = ref Unsafe.Add(ref input, iy * width + left);
                for (int kx = 0; kx < kernel; kx++) sum += Vector512.LoadUnsafe(ref cells, (nuint)kx);
            }
            (sum / Vector512.Create(divisor)).StoreUnsafe(ref output);
        }

        private static void AverageVector256(ref float input, int width, int firstRow, int endRow, int left, int kernel, float divisor, ref float output)
        {
            var sum = Vector256<float>.Zero;
            for (int iy = firstRow; iy < endRow; iy++)
            {
                ref float cells = ref Unsafe.Add(ref input, iy * width + left);
                for (int kx = 0; kx < kernel; kx++) sum += Vector256.LoadUnsafe(ref cells, (nuint)kx);
            }
            (sum / Vector256.Create(divisor)).StoreUnsafe(ref output);
        }

        /// <summary>
        /// The backward pass of <see cref="AvgPool"/>: dx [channels x height x width] is overwritten with each output
        /// gradient divided by kernel² and spread over its window (padded cells take their share and drop it). Each input
        /// cell sums its shares in the order the windows come in the output's scan (as a scatter over dy, from a cleared dx,
        /// would add them).
        /// </summary>
        /// <remarks>
        /// At stride 1 each input cell gathers its shares, 16 (or 8) neighbouring cells in one vector where all their windows lie
        /// inside the output; other strides and the scalar path scatter each output gradient one cell at a time.
        /// </remarks>
        public static void AvgPoolBackward(ReadOnlySpan<float> dy, int channels, int height, int width, int kernel, int stride, int padding, Span<float> dx) =>
            AvgPoolBackwardOn(dy, channels, height, width, kernel, stride, padding, dx, KernelPaths.Default);

        internal static void AvgPoolBackwardOn(ReadOnlySpan<float> dy, int channels, int height, int width, int kernel, int stride, int padding, Span<float> dx, KernelPath path)
        {
            var (outHeight, outWidth) = CheckWindow(channels, height, width, kernel, stride, padding);
            int plane = height * width, outPlane = outHeight * outWidth;
            if (dy.Length < channels * outPlane) throw new ArgumentException("Expected at least " + channels * outPlane + " floats.", nameof(dy));
            if (dx.Length < channels * plane) throw new ArgumentException("Expected at least " + channels * plane + " floats.", nameof(dx));
            int lanes = stride != 1 ? 0 : path switch
            {
                KernelPath.Vector512 when Vector512.IsHardwareAccelerated => 16,
                KernelPath.Vector256 when Vector256.IsHardwareAccelerated => 8,
                _ => 0,
            };
            float divisor = kernel * kernel;
            ref float dys = ref MemoryMarshal.GetReference(dy);
            ref float dxs = ref MemoryMarshal.GetReference(dx);
            if (stride != 1)
            {
                dx.Slice(0, channels * plane).Clear();
                for (int c = 0; c < channels; c++)
                {
                    ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                    ref float inputs = ref Unsafe.Add(ref dxs, c * plane);
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            float share = Unsafe.Add(ref gradients, oy * outWidth + ox) / divisor;
                            int top = oy * stride - padding, left = ox * stride - padding;
                            for (int iy = Math.Max(top, 0); iy < Math.Min(top + kernel, height); iy++)
                                for (int ix = Math.Max(left, 0); ix < Math.Min(left + kernel, width); ix++)
                                    Unsafe.Add(ref inputs, iy * width + ix) += share;
                        }
                }
                return;
            }
            // Stride 1: input column ix lies in the windows of output columns ix + padding - kernel + 1 to ix + padding; all of
            // them exist for ix in [gatherFirst, gatherEnd).
            int gatherFirst = Math.Min(width, kernel - 1 - padding), gatherEnd = Math.Max(gatherFirst, Math.Min(width, outWidth - padding));
            for (int c = 0; c < channels; c++)
            {
                ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                ref float inputs = ref Unsafe.Add(ref dxs, c * plane);
                for (int iy = 0; iy < height; iy++)
                {
                    // Output rows iy + padding - kernel + 1 to iy + padding (those that exist), in the output's scan order.
                    int lastRow = Math.Min(iy + padding, outHeight - 1), firstRow = Math.Max(iy + padding - kernel + 1, 0);
                    ref float row = ref Unsafe.Add(ref inputs, iy * width);
                    if (lanes == 0 || gatherEnd - gatherFirst < lanes)
                    {
                        for (int ix = 0; ix < width; ix++)
                            Unsafe.Add(ref row, ix) = GatherCell(ref gradients, outWidth, firstRow, lastRow, ix + padding - kernel + 1, kernel, divisor);
                        continue;
                    }
                    for (int ix = 0; ix < gatherFirst; ix++)
                        Unsafe.Add(ref row, ix) = GatherCell(ref gradients, outWidth, firstRow, lastRow, ix + padding - kernel + 1, kernel, divisor);
                    for (int ix = gatherFirst; ; ix += lanes)
                    {
                        int at = Math.Min(ix, gatherEnd - lanes);
                        if (lanes == 16) GatherVector512(ref gradients, outWidth, firstRow, lastRow, at + padding - kernel + 1, kernel, divisor, ref Unsafe.Add(ref row, at));
                        else GatherVector256(ref gradients, outWidth, firstRow, lastRow, at + padding - kernel + 1, kernel, divisor, ref Unsafe.Add(ref row, at));
                        if (at == gatherEnd - lanes) break;
                    }
                    for (int ix = gatherEnd; ix < width; ix++)
                        Unsafe.Add(ref row, ix) = GatherCell(ref gradients, outWidth, firstRow, lastRow, ix + padding - kernel + 1, kernel, divisor);
                }
            }
        }

        // One input cell's shares at stride 1: the gradients of output rows firstRow to lastRow, columns left (its own column
        // plus the padding, less kernel − 1) to left + kernel − 1 where they exist, each divided by kernel², summed from 0 in
        // that (the output's scan) order.
        private static float GatherCell(ref float gradients, int outWidth, int firstRow, int lastRow, int left, int kernel, float divisor)
        {
            float sum = 0f;
            for (int oy = firstRow; oy <= lastRow; oy++)
            {
                ref float cells = ref Unsafe.Add(ref gradients, oy * outWidth);
                for (int ox = Math.Max(left, 0); ox < Math.Min(left + kernel, outWidth); ox++) sum += Unsafe.Add(ref cells, ox) / divisor;
            }
            return sum;
        }

        private static void GatherVector512(ref float gradients, int outWidth, int firstRow, int lastRow, int left, int kernel, float divisor, ref float output)
        {
            var sum = Vector512<float>.Zero;
            var by = Vector512.Create(divisor);
            for (int oy = firstRow; oy <= lastRow; oy++)
            {
                ref float cells = ref Unsafe.Add(ref gradients, oy * outWidth + left);
                for (int kx = 0; kx < kernel; kx++) sum += Vector512.LoadUnsafe(ref cells, (nuint)kx) / by;
            }
            sum.StoreUnsafe(ref output);
        }

        private static void GatherVector256(ref float gradients, int outWidth, int firstRow, int lastRow, int left, int kernel, float divisor, ref float output)
        {
            var sum = Vector256<float>.Zero;
            var by = Vector256.Create(divisor);
            for (int oy = firstRow; oy <= lastRow; oy++)
            {
                ref float cells = ref Unsafe.Add(ref gradients, oy * outWidth + left);
                for (int kx = 0; kx < kernel; kx++) sum += Vector256.LoadUnsafe(ref cells, (nuint)kx) / by;
            }
            sum.StoreUnsafe(ref output);
        }
    }
}
