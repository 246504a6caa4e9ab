using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class Pooling
    {
        /// <summary>
        /// dx = the gradient of <see cref="MaxPool"/> with the same window, stride and padding: each of dy's values added at its
        /// window's winner, zero elsewhere (dx is written, not accumulated; overlapping windows add up). The winner is PyTorch's:
        /// the window's first cell inside the input, replaced in scan order by a later cell that is greater or NaN (so the first
        /// maximum, or the last NaN). x is the forward's input.
        /// </summary>
        /// <remarks>
        /// The winners are found again from x, a channel at a time, with the forward's two passes carrying each maximum's place
        /// (Vector512, strides 1 and 2), then dy is added at them. Other paths scan each window.
        /// </remarks>
        public static void MaxPoolBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int channels, int height, int width, int kernel, int stride, int padding, Span<float> dx) =>
            MaxPoolBackwardOn(x, dy, channels, height, width, kernel, stride, padding, dx, KernelPaths.Default);

        internal static unsafe void MaxPoolBackwardOn(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int channels, int height, int width, int kernel, int stride, int padding,
            Span<float> dx, KernelPath path)
        {
            var (outHeight, outWidth) = CheckWindow(channels, height, width, kernel, stride, padding);
            int plane = height * width, outPlane = outHeight * outWidth;
            if (x.Length < channels * plane) throw new ArgumentException("Expected at least " + channels * plane + " floats.", nameof(x));
            if (dy.Length < channels * outPlane) throw new ArgumentException("Expected at least " + channels * outPlane + " floats.", nameof(dy));
            if (dx.Length < channels * plane) throw new ArgumentException("Expected at least " + channels * plane + " floats.", nameof(dx));
            dx.Slice(0, channels * plane).Clear();

            const int Lanes = 16;
            int chunks = (outWidth + Lanes - 1) / Lanes, rowLength = chunks * Lanes;
            int paddedRow = rowLength * stride + kernel + Lanes;
            bool vector = path == KernelPath.Vector512 && stride <= 2 && 2L * kernel * rowLength + CopyRing * paddedRow + 2 * rowLength <= MaxPoolStackFloats;
            if (!vector)
            {
                for (int c = 0; c < channels; c++)
                    for (int oy = 0; oy < outHeight; oy++)
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int winner = Winner(x.Slice(c * plane, plane), width, height, oy * stride - padding, ox * stride - padding, kernel);
                            dx[c * plane + winner] += dy[(c * outHeight + oy) * outWidth + ox];
                        }
                return;
            }

            // A ring of the last `kernel` rows' maxima and the column each came from (input row iy in slot iy mod kernel), the
            // ring of padded row copies (as the forward), two rows of winners.
            Span<float> buffers = stackalloc float[2 * kernel * rowLength + CopyRing * paddedRow + 2 * rowLength];
            Span<float> ring = buffers.Slice(2 * kernel * rowLength, CopyRing * paddedRow);
            ring.Fill(float.NegativeInfinity);
            ref float rowMaxima = ref MemoryMarshal.GetReference(buffers);
            ref int rowColumns = ref Unsafe.As<float, int>(ref Unsafe.Add(ref rowMaxima, kernel * rowLength));
            ref float padded = ref MemoryMarshal.GetReference(ring);
            Span<bool> rowHasNaN = stackalloc bool[height]; // the copies say it; the winners' folds compare in full either way
            ref int winners = ref Unsafe.As<float, int>(ref Unsafe.Add(ref padded, CopyRing * paddedRow));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float dys = ref MemoryMarshal.GetReference(dy);
            ref float dxs = ref MemoryMarshal.GetReference(dx);
            var laneColumns = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * stride;
#if NET9_0_OR_GREATER
            // The taps' masks (padding and past the row's end read as −∞, as the copies hold there), per chunk.
            int taps = stride * kernel;
            Span<Vector512<float>> masks = stackalloc Vector512<float>[chunks * taps];
            for (int chunk = 0; chunk < chunks; chunk++)
                for (int l = 0; l < taps; l++)
                {
                    int column = chunk * Lanes * stride - padding + (stride == 1 ? l : l / 2 + Lanes * (l % 2));
                    var columns = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create(column);
                    masks[chunk * taps + l] = (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();
                }
#endif
            fixed (float* pinned = x) // the direct loads take pointers
            for (int c = 0; c < channels; c++)
            {
                ref float source = ref Unsafe.Add(ref xs, c * plane);
                ref float gradients = ref Unsafe.Add(ref dys, c * outPlane);
                ref float target = ref Unsafe.Add(ref dxs, c * plane);
                int nextRow = 0; // the first input row whose maxima are not in the ring yet
                // Each output row's winners are added at one row's delay: read back right after their vector stores, they
                // would wait for the stores to retire (a store does not forward to the narrower loads that follow it).
                for (int oy = 0; oy <= outHeight; oy++)
                {
                    ref int rowWinners = ref Unsafe.Add(ref winners, (oy & 1) * rowLength);
                    if (oy < outHeight)
                    {
                        int top = oy * stride - padding;
                        int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                        // The window's rows across, in order, into the ring (its last `kernel` rows are the window's).
                        for (; nextRow < endRow; nextRow++)
                        {
                            int slot = nextRow % kernel * rowLength;
#if NET9_0_OR_GREATER
                            // Straight from the input through masked loads, no padded copy.
                            ref float cells = ref Unsafe.Add(ref source, nextRow * width);
                            for (int chunk = 0; chunk < chunks; chunk++)
                            {
                                int left = chunk * Lanes * stride - padding;
                                AcrossRowWithColumnsDirect(ref Unsafe.Add(ref cells, left), masks.Slice(chunk * taps, taps), laneColumns + Vector512.Create(left), kernel, stride,
                                    ref Unsafe.Add(ref rowMaxima, slot + chunk * Lanes), ref Unsafe.Add(ref rowColumns, slot + chunk * Lanes));
                            }
#else
                            ref float cells = ref RingRow(ref source, nextRow, height, width, padding, ref padded, paddedRow, Lanes, rowHasNaN);
                            for (int chunk = 0; chunk < chunks; chunk++)
                            {
                                int left = chunk * Lanes * stride - padding; // the chunk's first window's left edge, in input columns
                                AcrossRowWithColumns(ref Unsafe.Add(ref cells, chunk * Lanes * stride), laneColumns + Vector512.Create(left), kernel, stride,
                                    ref Unsafe.Add(ref rowMaxima, slot + chunk * Lanes), ref Unsafe.Add(ref rowColumns, slot + chunk * Lanes));
                            }
#endif
                        }
                        for (int chunk = 0; chunk < chunks; chunk++)
                            DownWithPlaces(ref rowMaxima, ref rowColumns, rowLength, kernel, chunk * Lanes, firstRow, endRow, width).StoreUnsafe(ref rowWinners, (nuint)(chunk * Lanes));
                    }
                    if (oy == 0) continue;
                    ref int previous = ref Unsafe.Add(ref winners, ((oy - 1) & 1) * rowLength);
                    ref float row = ref Unsafe.Add(ref gradients, (oy - 1) * outWidth);
                    for (int ox = 0; ox < outWidth; ox++) Unsafe.Add(ref target, Unsafe.Add(ref previous, ox)) += Unsafe.Add(ref row, ox);
                }
            }
        }

        // The checks of a window, stride and padding, and the output's size (PyTorch's floor mode).
        private static (int OutHeight, int OutWidth) CheckWindow(int channels, int height, int width, int kernel, int stride, int padding)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
            if (padding < 0 || 2 * padding > kernel) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Padding is at most half the window.");
            if (height + 2 * padding < kernel || width + 2 * padding < kernel)
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The window is larger than the padded input.");
            return ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1);
        }

        // One window's winner (its place in the plane): the first cell inside the input, then scan order's greater-or-NaN.
        private static int Winner(ReadOnlySpan<float> plane, int width, int height, int top, int left, int kernel)
        {
            int winner = -1;
            float best = float.NegativeInfinity;
            for (int iy = Math.Max(0, top); iy < Math.Min(height, top + kernel); iy++)
                for (int ix = Math.Max(0, left); ix < Math.Min(width, left + kernel); ix++)
                {
                    float v = plane[iy * width + ix];
                    if (winner < 0 || v > best || float.IsNaN(v))
                    {
                        best = v;
                        winner = iy * width + ix;
                    }
                }
            return winner;
        }

        // AcrossRow512 carrying each lane's column: it starts at the window's first column inside the input (a window of −∞
        // keeps it) and moves to a later tap that is greater or NaN. Padded cells are −∞ and never move it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AcrossRowWithColumns(ref float cells, Vector512<int> firstColumns, int kernel, int stride, ref float maxima, ref int columns)
        {
            var max = Vector512.Create(float.NegativeInfinity);
            var column = Vector512.Max(firstColumns, Vector512<int>.Zero);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (int kx = 0; kx < kernel; kx++)
            {
                Vector512<float> tap = stride == 1
                    ? Vector512.LoadUnsafe(ref cells, (nuint)kx)
                    : Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref cells, (nuint)kx), even, Vector512.LoadUnsafe(ref cells, (nuint)(kx + 16)));
                var replace = Vector512.GreaterThan(tap, max) | ~Vector512.Equals(tap, tap);
                max = Vector512.ConditionalSelect(replace, tap, max);
                column = Vector512.ConditionalSelect(replace.AsInt32(), firstColumns + Vector512.Create(kx), column);
            }
            max.StoreUnsafe(ref maxima);
            column.StoreUnsafe(ref columns);
        }

#if NET9_0_OR_GREATER
        // AcrossRowWithColumns reading the row itself from the chunk's first window's left edge, each tap through its masks.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void AcrossRowWithColumnsDirect(ref float cells, ReadOnlySpan<Vector512<float>> masks, Vector512<int> firstColumns, int kernel, int stride,
            ref float maxima, ref int columns)
        {
            var negativeInfinity = Vector512.Create(float.NegativeInfinity);
            var max = negativeInfinity;
            var column = Vector512.Max(firstColumns, Vector512<int>.Zero);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            float* row = (float*)Unsafe.AsPointer(ref cells); // the input is pinned by the caller
            for (int kx = 0; kx < kernel; kx++)
            {
                Vector512<float> tap = stride == 1
                    ? Avx512F.MaskLoad(row + kx, masks[kx], negativeInfinity)
                    : Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(row + kx, masks[2 * kx], negativeInfinity), even, Avx512F.MaskLoad(row + kx + 16, masks[2 * kx + 1], negativeInfinity));
                var replace = Vector512.GreaterThan(tap, max) | ~Vector512.Equals(tap, tap);
                max = Vector512.ConditionalSelect(replace, tap, max);
                column = Vector512.ConditionalSelect(replace.AsInt32(), firstColumns + Vector512.Create(kx), column);
            }
            max.StoreUnsafe(ref maxima);
            column.StoreUnsafe(ref columns);
        }
#endif

        // The window rows' maxima folded top to bottom at 16 output columns, carrying each one's place in the plane; row iy's
        // maxima are in the ring's slot iy mod ringRows.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<int> DownWithPlaces(ref float rowMaxima, ref int rowColumns, int rowLength, int ringRows, int at, int firstRow, int endRow, int width)
        {
            int slot = firstRow % ringRows * rowLength + at;
            var max = Vector512.LoadUnsafe(ref rowMaxima, (nuint)slot);
            var place = Vector512.LoadUnsafe(ref rowColumns, (nuint)slot) + Vector512.Create(firstRow * width);
            for (int iy = firstRow + 1; iy < endRow; iy++)
            {
                slot = iy % ringRows * rowLength + at;
                var value = Vector512.LoadUnsafe(ref rowMaxima, (nuint)slot);
                var replace = Vector512.GreaterThan(value, max) | ~Vector512.Equals(value, value);
                max = Vector512.ConditionalSelect(replace, value, max);
                place = Vector512.ConditionalSelect(replace.AsInt32(), Vector512.LoadUnsafe(ref rowColumns, (nuint)slot) + Vector512.Create(iy * width), place);
            }
            return place;
        }
    }
}
