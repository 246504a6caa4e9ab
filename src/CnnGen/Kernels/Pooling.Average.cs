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
        /// The vector path copies each plane with zero rows and columns around it and sums 16 (or 8) neighbouring windows in one
        /// vector, a tap one load, four rows of windows side by side (at strides above 1 every window start, keeping every
        /// stride-th); the scalar path and planes
        /// too large for its stack copy take the same sum one cell at a time, so every path gives the same bits. A cell by
        /// cell sum is one chain of dependent additions, 6 to 9 ns a cell here: ten times the vector path's time. Inception's 3x3 stride-1 padding-1 branch on 32x32x32 and the 1x1
        /// after it took 279.3 µs with the generated scalar loop against ONNX Runtime's 36.7 µs (CnnGen.Benchmarks
        /// <c>zoo sweep2 probe</c>, load 20); benchmarks/README.md has this kernel's figures.
        /// </remarks>
        public static void AvgPool(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y) =>
            AvgPoolOn(x, channels, height, width, kernel, stride, padding, y, KernelPaths.Default);

        internal static void AvgPoolOn(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y, KernelPath path)
        {
            var (outHeight, outWidth) = CheckWindow(channels, height, width, kernel, stride, padding);
            int plane = height * width, outPlane = outHeight * outWidth;
            if (x.Length < channels * plane) throw new ArgumentException("Expected at least " + channels * plane + " floats.", nameof(x));
            if (y.Length < channels * outPlane) throw new ArgumentException("Expected at least " + channels * outPlane + " floats.", nameof(y));
            int lanes = path switch
            {
                KernelPath.Vector512 when Vector512.IsHardwareAccelerated => 16,
                KernelPath.Vector256 when Vector256.IsHardwareAccelerated => 8,
                _ => 0,
            };
            float divisor = kernel * kernel;
            // The vector path (SumWindows) reads a copy of the plane with padding zero rows and columns around it: a zero added
            // to a sum begun at +0 leaves its bits as they are (the sum is never -0), so the padded cells change nothing, and
            // windows at the edges, narrow rows and strides above 1 all run in vectors. Output rows go RowsAtOnce at a time:
            // one window's sum is a chain of kernel² dependent additions, four rows' are four chains side by side.
            int starts = (outWidth - 1) * stride + 1, chunks = lanes == 0 ? 0 : (starts + lanes - 1) / lanes;
            int rowLength = Math.Max(chunks * lanes + kernel, width + 2 * padding), rows = height + 2 * padding;
            int sumsStride = chunks * lanes;
            if (lanes == 0 || (long)rows * rowLength + RowsAtOnce * sumsStride > PoolingStackFloats)
            {
                AvgPoolCells(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, y, divisor);
                return;
            }
            Span<float> buffers = stackalloc float[rows * rowLength + RowsAtOnce * sumsStride];
            buffers.Clear();
            ref float padded = ref MemoryMarshal.GetReference(buffers);
            ref float sums = ref Unsafe.Add(ref padded, rows * rowLength);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float input = ref Unsafe.Add(ref xs, c * plane);
                for (int iy = 0; iy < height; iy++)
                    CopyRow(ref Unsafe.Add(ref input, iy * width), width, 1f, ref Unsafe.Add(ref padded, (iy + padding) * rowLength + padding));
                SumWindows(ref padded, rowLength, kernel, stride, divisor, lanes, chunks, ref Unsafe.Add(ref ys, c * outPlane), outHeight, outWidth, ref sums);
            }
        }

        // Every window of a padded plane, output row o's from the plane's row o · stride: kernel² cells summed from +0 in
        // scan order, 16 (or 8) neighbouring windows in one vector, then divided by divisor (1: stored as summed). Output rows
        // go RowsAtOnce at a time, the last group moved back to end at the last row (rows summed twice are written twice, the
        // same); a plane of fewer rows sums each alone. Stride 1 with a row of at least one vector writes straight into the
        // output, the last chunk moved back to end at the row's end; otherwise every window start goes to sums (RowsAtOnce
        // rows of chunks · lanes) and every stride-th is kept.
        private static void SumWindows(ref float padded, int rowLength, int kernel, int stride, float divisor, int lanes, int chunks,
            ref float output, int outHeight, int outWidth, ref float sums)
        {
            int sumsStride = chunks * lanes;
            bool direct = stride == 1 && outWidth >= lanes;
            int targetStride = direct ? outWidth : sumsStride;
            for (int next = 0; next < outHeight; next += RowsAtOnce)
            {
                int oy = Math.Max(Math.Min(next, outHeight - RowsAtOnce), 0);
                int count = Math.Min(RowsAtOnce, outHeight - oy), top = oy * stride;
                ref float row = ref Unsafe.Add(ref output, oy * outWidth);
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    int at = direct ? Math.Min(chunk * lanes, outWidth - lanes) : chunk * lanes;
                    ref float target = ref direct ? ref Unsafe.Add(ref row, at) : ref Unsafe.Add(ref sums, at);
                    if (count == RowsAtOnce)
                    {
                        if (lanes == 16) WindowRowsVector512(ref padded, rowLength, top, stride * rowLength, at, kernel, divisor, ref target, targetStride);
                        else WindowRowsVector256(ref padded, rowLength, top, stride * rowLength, at, kernel, divisor, ref target, targetStride);
                        continue;
                    }
                    // Fewer rows than a group: each row's windows alone, its four sums all of the one row into one place.
                    for (int r = 0; r < count; r++)
                    {
                        if (lanes == 16) WindowRowsVector512(ref padded, rowLength, top + r * stride, 0, at, kernel, divisor, ref Unsafe.Add(ref target, r * targetStride), 0);
                        else WindowRowsVector256(ref padded, rowLength, top + r * stride, 0, at, kernel, divisor, ref Unsafe.Add(ref target, r * targetStride), 0);
                    }
                }
                if (direct) continue;
                for (int r = 0; r < count; r++)
                {
                    if (stride == 1) CopyRow(ref Unsafe.Add(ref sums, r * sumsStride), outWidth, 1f, ref Unsafe.Add(ref row, r * outWidth));
                    else
                        for (int ox = 0; ox < outWidth; ox++) Unsafe.Add(ref row, r * outWidth + ox) = Unsafe.Add(ref sums, r * sumsStride + ox * stride);
                }
            }
        }

        // Output rows (input rows in the backward) the vector paths sum at once.
        private const int RowsAtOnce = 4;

        // Stack the vector path may take for its padded plane and sums (floats); larger planes take the cell-by-cell path.
        private const int PoolingStackFloats = 16 * 1024;

        private static void AvgPoolCells(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
            Span<float> y, float divisor)
        {
            int plane = height * width, outPlane = outHeight * outWidth;
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float input = ref Unsafe.Add(ref xs, c * plane);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float row = ref Unsafe.Add(ref ys, c * outPlane + oy * outWidth);
                    for (int ox = 0; ox < outWidth; ox++)
                        Unsafe.Add(ref row, ox) = AverageCell(ref input, height, width, oy * stride - padding, ox * stride - padding, kernel, divisor);
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

        // RowsAtOnce rows of 16 neighbouring windows, rowStep floats apart in the padded plane, the first from row top (its
        // kernel rows from there, each from column left): the same sums as AverageCell, lane by lane, divided by divisor,
        // into output rows outStride floats apart.
        private static void WindowRowsVector512(ref float input, int width, int top, int rowStep, int left, int kernel, float divisor, ref float output, int outStride)
        {
            var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
            for (int ky = 0; ky < kernel; ky++)
            {
                ref float r0 = ref Unsafe.Add(ref input, (top + ky) * width + left);
                ref float r1 = ref Unsafe.Add(ref r0, rowStep);
                ref float r2 = ref Unsafe.Add(ref r1, rowStep);
                ref float r3 = ref Unsafe.Add(ref r2, rowStep);
                for (int kx = 0; kx < kernel; kx++)
                {
                    s0 += Vector512.LoadUnsafe(ref r0, (nuint)kx); s1 += Vector512.LoadUnsafe(ref r1, (nuint)kx);
                    s2 += Vector512.LoadUnsafe(ref r2, (nuint)kx); s3 += Vector512.LoadUnsafe(ref r3, (nuint)kx);
                }
            }
            var by = Vector512.Create(divisor);
            (s0 / by).StoreUnsafe(ref output); (s1 / by).StoreUnsafe(ref output, (nuint)outStride);
            (s2 / by).StoreUnsafe(ref output, (nuint)(2 * outStride)); (s3 / by).StoreUnsafe(ref output, (nuint)(3 * outStride));
        }

        private static void WindowRowsVector256(ref float input, int width, int top, int rowStep, int left, int kernel, float divisor, ref float output, int outStride)
        {
            var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
            for (int ky = 0; ky < kernel; ky++)
            {
                ref float r0 = ref Unsafe.Add(ref input, (top + ky) * width + left);
                ref float r1 = ref Unsafe.Add(ref r0, rowStep);
                ref float r2 = ref Unsafe.Add(ref r1, rowStep);
                ref float r3 = ref Unsafe.Add(ref r2, rowStep);
                for (int kx = 0; kx < kernel; kx++)
                {
                    s0 += Vector256.LoadUnsafe(ref r0, (nuint)kx); s1 += Vector256.LoadUnsafe(ref r1, (nuint)kx);
                    s2 += Vector256.LoadUnsafe(ref r2, (nuint)kx); s3 += Vector256.LoadUnsafe(ref r3, (nuint)kx);
                }
            }
            var by = Vector256.Create(divisor);
            (s0 / by).StoreUnsafe(ref output); (s1 / by).StoreUnsafe(ref output, (nuint)outStride);
            (s2 / by).StoreUnsafe(ref output, (nuint)(2 * outStride)); (s3 / by).StoreUnsafe(ref output, (nuint)(3 * outStride));
        }

        /// <summary>
        /// The backward pass of <see cref="AvgPool"/>: dx [channels x height x width] is overwritten with each output
        /// gradient divided by kernel² and spread over its window (padded cells take their share and drop it). Each input
        /// cell sums its shares in the order the windows come in the output's scan (as a scatter over dy, from a cleared dx,
        /// would add them).
        /// </summary>
        /// <remarks>
        /// At stride 1 each input cell gathers its shares, 16 (or 8) neighbouring cells in one vector from a copy of dy with zero
        /// margins; other strides scatter each output gradient one cell at a time.
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
            // Stride 1: input cell (iy, ix) lies in the windows of output rows iy + padding - kernel + 1 to iy + padding and
            // columns ix + padding - kernel + 1 to ix + padding, those that exist. The vector path gathers 16 (or 8) neighbouring
            // cells' shares, RowsAtOnce input rows at a time, from a copy of dy divided by kernel² (each share the quotient every
            // window it lies in would take) with margin = kernel - 1 - padding zero rows and columns around it (a zero share
            // leaves a sum begun at +0 as it is): input row iy gathers the copy's rows iy to iy + kernel - 1. The scalar path
            // and planes too large for its stack copy gather one cell at a time.
            int margin = kernel - 1 - padding, chunks = lanes == 0 ? 0 : (width + lanes - 1) / lanes;
            int rowLength = Math.Max(chunks * lanes + kernel, outWidth + 2 * margin), rows = outHeight + 2 * margin;
            int sharesStride = chunks * lanes;
            if (lanes == 0 || (long)rows * rowLength + RowsAtOnce * sharesStride > PoolingStackFloats)
            {
                for (int c = 0; c < channels; c++)
                {
                    ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                    ref float inputs = ref Unsafe.Add(ref dxs, c * plane);
                    for (int iy = 0; iy < height; iy++)
                    {
                        int lastRow = Math.Min(iy + padding, outHeight - 1), firstRow = Math.Max(iy + padding - kernel + 1, 0);
                        for (int ix = 0; ix < width; ix++)
                            Unsafe.Add(ref inputs, iy * width + ix) = GatherCell(ref gradients, outWidth, firstRow, lastRow, ix - margin, kernel, divisor);
                    }
                }
                return;
            }
            Span<float> buffers = stackalloc float[rows * rowLength + RowsAtOnce * sharesStride];
            buffers.Clear();
            ref float padded = ref MemoryMarshal.GetReference(buffers);
            ref float shares = ref Unsafe.Add(ref padded, rows * rowLength);
            for (int c = 0; c < channels; c++)
            {
                ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                for (int oy = 0; oy < outHeight; oy++)
                    CopyRow(ref Unsafe.Add(ref gradients, oy * outWidth), outWidth, divisor, ref Unsafe.Add(ref padded, (oy + margin) * rowLength + margin));
                // Input row iy's shares are the windows of the copy from its row iy: the forward's sums at stride 1, undivided.
                SumWindows(ref padded, rowLength, kernel, 1, 1f, lanes, chunks, ref Unsafe.Add(ref dxs, c * plane), height, width, ref shares);
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

        // target[i] = source[i] / divisor for i < count; divisor 1 copies. A row of a small plane is a few vectors: a loop of
        // them, the last moved back to end at the row's end (cells done twice get the same value), not a call to a memory
        // copy per row (a third of the forward's time on 32x32 planes).
        private static void CopyRow(ref float source, int count, float divisor, ref float target)
        {
            if (!Vector256.IsHardwareAccelerated || count < 8)
            {
                for (int j = 0; j < count; j++)
                {
                    float value = Unsafe.Add(ref source, j);
                    Unsafe.Add(ref target, j) = divisor == 1f ? value : value / divisor;
                }
                return;
            }
            nuint last = (nuint)(count - 8);
            if (divisor == 1f)
            {
                for (nuint i = 0; i < last; i += 8) Vector256.LoadUnsafe(ref source, i).StoreUnsafe(ref target, i);
                Vector256.LoadUnsafe(ref source, last).StoreUnsafe(ref target, last);
                return;
            }
            var by = Vector256.Create(divisor);
            for (nuint i = 0; i < last; i += 8) (Vector256.LoadUnsafe(ref source, i) / by).StoreUnsafe(ref target, i);
            (Vector256.LoadUnsafe(ref source, last) / by).StoreUnsafe(ref target, last);
        }
    }
}
