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
        /// The vector path copies each plane with zero columns either side and sums 16 (or 8) neighbouring windows in one
        /// vector, a tap one load (at strides above 1 every window start, keeping every stride-th); the scalar path and planes
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
            // The vector path sums every window start of an output row (stride 1 apart) in chunks of lanes from a copy of the
            // plane with zero columns either side (a zero added to a sum begun at +0 leaves its bits as they are), and keeps
            // every stride-th: windows at the row ends, narrow rows and strides above 1 all run in vectors.
            int starts = (outWidth - 1) * stride + 1, chunks = lanes == 0 ? 0 : (starts + lanes - 1) / lanes;
            int rowLength = Math.Max(chunks * lanes + kernel, width + 2 * padding);
            if (lanes == 0 || (long)height * rowLength + chunks * lanes > PoolingStackFloats)
            {
                AvgPoolCells(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, y, divisor);
                return;
            }
            Span<float> buffers = stackalloc float[height * rowLength + chunks * lanes];
            buffers.Clear();
            ref float padded = ref MemoryMarshal.GetReference(buffers);
            ref float sums = ref Unsafe.Add(ref padded, height * rowLength);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float input = ref Unsafe.Add(ref xs, c * plane);
                for (int iy = 0; iy < height; iy++)
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref input, iy * width), width).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref padded, iy * rowLength + padding), width));
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    int firstRow = Math.Max(top, 0), endRow = Math.Min(top + kernel, height);
                    ref float row = ref Unsafe.Add(ref ys, c * outPlane + oy * outWidth);
                    // Stride 1 with a row of at least one vector: straight into y, the last chunk moved back to end at the row's end.
                    bool direct = stride == 1 && outWidth >= lanes;
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        int at = direct ? Math.Min(chunk * lanes, outWidth - lanes) : chunk * lanes;
                        ref float target = ref direct ? ref Unsafe.Add(ref row, at) : ref Unsafe.Add(ref sums, at);
                        if (lanes == 16) AverageVector512(ref padded, rowLength, firstRow, endRow, at, kernel, divisor, ref target);
                        else AverageVector256(ref padded, rowLength, firstRow, endRow, at, kernel, divisor, ref target);
                    }
                    if (!direct)
                        for (int ox = 0; ox < outWidth; ox++) Unsafe.Add(ref row, ox) = Unsafe.Add(ref sums, ox * stride);
                }
            }
        }

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

        // 16 neighbouring windows of the padded rows firstRow to endRow: the same sum as AverageCell, lane by lane.
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
            // cells' shares from a copy of dy with kernel - 1 - padding zero columns either side (a zero share leaves a sum
            // begun at +0 as it is); the scalar path and planes too large for its stack copy gather one cell at a time.
            int margin = kernel - 1 - padding, chunks = lanes == 0 ? 0 : (width + lanes - 1) / lanes;
            int rowLength = Math.Max(chunks * lanes + kernel, outWidth + 2 * margin);
            if (lanes == 0 || (long)outHeight * rowLength + chunks * lanes > PoolingStackFloats)
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
            Span<float> buffers = stackalloc float[outHeight * rowLength + chunks * lanes];
            buffers.Clear();
            ref float padded = ref MemoryMarshal.GetReference(buffers);
            ref float shares = ref Unsafe.Add(ref padded, outHeight * rowLength);
            bool direct = width >= lanes;
            for (int c = 0; c < channels; c++)
            {
                ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                ref float inputs = ref Unsafe.Add(ref dxs, c * plane);
                for (int oy = 0; oy < outHeight; oy++)
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref gradients, oy * outWidth), outWidth).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref padded, oy * rowLength + margin), outWidth));
                for (int iy = 0; iy < height; iy++)
                {
                    int lastRow = Math.Min(iy + padding, outHeight - 1), firstRow = Math.Max(iy + padding - kernel + 1, 0);
                    ref float row = ref Unsafe.Add(ref inputs, iy * width);
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        int at = direct ? Math.Min(chunk * lanes, width - lanes) : chunk * lanes;
                        ref float target = ref direct ? ref Unsafe.Add(ref row, at) : ref Unsafe.Add(ref shares, at);
                        if (lanes == 16) GatherVector512(ref padded, rowLength, firstRow, lastRow, at, kernel, divisor, ref target);
                        else GatherVector256(ref padded, rowLength, firstRow, lastRow, at, kernel, divisor, ref target);
                    }
                    if (!direct) MemoryMarshal.CreateReadOnlySpan(ref shares, width).CopyTo(MemoryMarshal.CreateSpan(ref row, width));
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
