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
        /// y [channels x OH x OW] = max pooling of x [channels x height x width] with a square window of
        /// <paramref name="kernel"/>, <paramref name="stride"/> and <paramref name="padding"/> (padded cells never win; PyTorch's
        /// floor mode: OH = (height + 2·padding − kernel) / stride + 1). PyTorch's scan rule, as <see cref="MaxPool2x2(ReadOnlySpan{float}, int, int, int, Span{float})"/>.
        /// </summary>
        /// <remarks>
        /// Each output row folds its window's input rows in scan order (row by row, left to right) into vectors of 16 (or 8)
        /// output cells: at stride 1 a tap is one load, at stride 2 the even lanes of two loads. Cells whose window reaches into
        /// the padding, other strides and the scalar path take the same fold one cell at a time. The 3x3 stride-2 pooling with
        /// padding 1 of ResNet's stem, 64x32x32: 421 µs as the generated scalar loop against ONNX Runtime's 11 µs
        /// (CnnGen.Benchmarks <c>zoo probes</c>, busy machine); the table in benchmarks/README.md has this kernel's figure.
        /// </remarks>
        public static void MaxPool(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y) =>
            MaxPoolOn(x, channels, height, width, kernel, stride, padding, y, KernelPaths.Default);

        internal static void MaxPoolOn(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, Span<float> y, KernelPath path)
        {
            var (outHeight, outWidth) = CheckWindow(channels, height, width, kernel, stride, padding);
            if (x.Length < channels * height * width) throw new ArgumentException("Expected at least " + channels * height * width + " floats.", nameof(x));
            if (y.Length < channels * outHeight * outWidth) throw new ArgumentException("Expected at least " + channels * outHeight * outWidth + " floats.", nameof(y));
#if NET9_0_OR_GREATER
            if (DirectPays(path, kernel, stride))
            {
                MaxPoolDirect(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, y, path);
                return;
            }
#endif
            MaxPoolCopying(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, y, path);
        }

        // The vector kernel over padded copies of the rows; it takes planes with a NaN from the direct kernel.
        internal static void MaxPoolCopying(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
            Span<float> y, KernelPath path)
        {
            int lanes = path switch
            {
                KernelPath.Vector512 when stride <= 2 => 16,
                KernelPath.Vector256 when stride == 1 || (stride == 2 && Avx2.IsSupported) => 8,
                _ => 0,
            };
            // The vector path takes a channel in two passes. Across: each input row, copied with −∞ in the padding and past its
            // end (a window reaching there reads −∞, which never wins), folded left to right into its row maxima, whole chunks
            // of output columns at a time. Down: each output row folds its window's rows of row maxima, top to bottom. Row by
            // row, left to right is the scan order, so the first-maximum and NaN rules hold as in one pass over each window.
            // The copies run RowsAhead rows ahead of their use, in a ring of padded rows: a vector load right after the stores
            // of a copy, at another alignment, would wait for them to reach the cache (store forwarding fails), once per tap.
            int chunks = lanes == 0 ? 0 : (outWidth + lanes - 1) / lanes, rowLength = chunks * lanes;
            int paddedRow = rowLength * stride + kernel + lanes;
            if (lanes == 0 || (long)height * rowLength + CopyRing * paddedRow > MaxPoolStackFloats)
            {
                MaxPoolScalar(x, channels, height, width, kernel, stride, padding, outHeight, outWidth, y);
                return;
            }
            Span<float> buffers = stackalloc float[height * rowLength + CopyRing * paddedRow];
            Span<bool> rowHasNaN = stackalloc bool[height];
            Span<float> ring = buffers.Slice(height * rowLength);
            ring.Fill(float.NegativeInfinity);
            ref float rowMaxima = ref MemoryMarshal.GetReference(buffers);
            ref float padded = ref MemoryMarshal.GetReference(ring);
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float plane = ref Unsafe.Add(ref xs, c * height * width);
                for (int iy = 0; iy < height; iy++)
                {
                    ref float cells = ref RingRow(ref plane, iy, height, width, padding, ref padded, paddedRow, lanes, rowHasNaN);
                    ref float maxima = ref Unsafe.Add(ref rowMaxima, iy * rowLength);
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        ref float first = ref Unsafe.Add(ref cells, chunk * lanes * stride);
                        if (lanes == 16) AcrossRow512(ref first, ref Unsafe.Add(ref maxima, chunk * 16), kernel, stride, rowHasNaN[iy]);
                        else AcrossRow256(ref first, ref Unsafe.Add(ref maxima, chunk * 8), kernel, stride, rowHasNaN[iy]);
                    }
                }
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel); // the window's rows inside the input
                    bool nan = false;
                    for (int iy = firstRow; iy < endRow; iy++) nan |= rowHasNaN[iy];
                    ref float row = ref Unsafe.Add(ref ys, (c * outHeight + oy) * outWidth);
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        int at = Math.Min(chunk * lanes, outWidth - lanes); // the last chunk overlaps the one before when the row is short of a whole one
                        if (at < 0)
                        {
                            // A row narrower than one vector: cell by cell.
                            for (int ox = 0; ox < outWidth; ox++)
                            {
                                float max = Unsafe.Add(ref rowMaxima, firstRow * rowLength + ox);
                                for (int iy = firstRow + 1; iy < endRow; iy++) max = Later(Unsafe.Add(ref rowMaxima, iy * rowLength + ox), max);
                                Unsafe.Add(ref row, ox) = max;
                            }
                            break;
                        }
                        if (lanes == 16) Down512(ref Unsafe.Add(ref rowMaxima, at), rowLength, firstRow, endRow, nan).StoreUnsafe(ref row, (nuint)at);
                        else Down256(ref Unsafe.Add(ref rowMaxima, at), rowLength, firstRow, endRow, nan).StoreUnsafe(ref row, (nuint)at);
                    }
                }
            }
        }

        // Row iy's padded copy in the ring. Each call copies the row RowsAhead below it (the first call also the rows before
        // that), so a copy is read RowsAhead rows after it was written; rowHasNaN[row] says whether the copied row holds a NaN.
        private static ref float RingRow(ref float plane, int iy, int height, int width, int padding, ref float ring, int paddedRow, int lanes, Span<bool> rowHasNaN)
        {
            for (int row = iy == 0 ? 0 : iy + RowsAhead; row <= iy + RowsAhead && row < height; row++)
                rowHasNaN[row] = CopyRow(ref Unsafe.Add(ref plane, row * width), ref Unsafe.Add(ref ring, row % CopyRing * paddedRow + padding), width, lanes);
            return ref Unsafe.Add(ref ring, iy % CopyRing * paddedRow);
        }

        // A row into the padded copy: whole vectors, then the rest one by one. Whether it holds a NaN: without one, the folds
        // take MAXPS, which is the scan rule's "a later value replaces the maximum when greater" in one instruction.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool CopyRow(ref float source, ref float target, int width, int lanes)
        {
            int i = 0;
            bool nan = false;
            if (lanes == 16)
            {
                var unordered = Vector512<float>.Zero;
                for (; i + 16 <= width; i += 16)
                {
                    var v = Vector512.LoadUnsafe(ref source, (nuint)i);
                    unordered |= ~Vector512.Equals(v, v);
                    v.StoreUnsafe(ref target, (nuint)i);
                }
                nan = unordered != Vector512<float>.Zero;
            }
            else
            {
                var unordered = Vector256<float>.Zero;
                for (; i + 8 <= width; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref source, (nuint)i);
                    unordered |= ~Vector256.Equals(v, v);
                    v.StoreUnsafe(ref target, (nuint)i);
                }
                nan = unordered != Vector256<float>.Zero;
            }
            for (; i < width; i++)
            {
                float v = Unsafe.Add(ref source, i);
                nan |= float.IsNaN(v);
                Unsafe.Add(ref target, i) = v;
            }
            return nan;
        }

        // Rows firstRow to endRow of row maxima (rowLength apart) folded top to bottom, at one chunk's columns.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Down512(ref float column, int rowLength, int firstRow, int endRow, bool nan)
        {
            var max = Vector512.LoadUnsafe(ref column, (nuint)(firstRow * rowLength));
            for (int iy = firstRow + 1; iy < endRow; iy++)
            {
                var value = Vector512.LoadUnsafe(ref column, (nuint)(iy * rowLength));
                max = nan ? Later(value, max) : Avx512F.Max(value, max);
            }
            return max;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Down256(ref float column, int rowLength, int firstRow, int endRow, bool nan)
        {
            var max = Vector256.LoadUnsafe(ref column, (nuint)(firstRow * rowLength));
            for (int iy = firstRow + 1; iy < endRow; iy++)
            {
                var value = Vector256.LoadUnsafe(ref column, (nuint)(iy * rowLength));
                max = nan ? Later(value, max) : Avx.Max(value, max);
            }
            return max;
        }

        // Stack the vector path may take for its row maxima and copies (floats); larger planes take the scalar path.
        private const int MaxPoolStackFloats = 16 * 1024;

        // The ring of padded row copies, and how far ahead of its use a row is copied.
        private const int CopyRing = 4, RowsAhead = 3;

        private static void MaxPoolScalar(ReadOnlySpan<float> x, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, Span<float> y)
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            for (int c = 0; c < channels; c++)
            {
                ref float plane = ref Unsafe.Add(ref xs, c * height * width);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int top = oy * stride - padding;
                    int firstRow = Math.Max(0, top), endRow = Math.Min(height, top + kernel);
                    ref float row = ref Unsafe.Add(ref ys, (c * outHeight + oy) * outWidth);
                    for (int ox = 0; ox < outWidth; ox++) Unsafe.Add(ref row, ox) = WindowMax(ref plane, width, firstRow, endRow, ox * stride - padding, kernel);
                }
            }
        }

        // One window, scanned row by row from the running maximum −∞, its padded cells skipped.
        private static float WindowMax(ref float plane, int width, int firstRow, int endRow, int left, int kernel)
        {
            int firstColumn = Math.Max(0, left), endColumn = Math.Min(width, left + kernel);
            float max = float.NegativeInfinity;
            for (int iy = firstRow; iy < endRow; iy++)
            {
                ref float cells = ref Unsafe.Add(ref plane, iy * width);
                for (int ix = firstColumn; ix < endColumn; ix++) max = Later(Unsafe.Add(ref cells, ix), max);
            }
            return max;
        }

        // One input row's maxima over 16 neighbouring windows' columns (stride 1 or 2), left to right, from the padded row's
        // cell under the first window's left edge.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AcrossRow512(ref float cells, ref float maxima, int kernel, int stride, bool nan)
        {
            var max = Vector512.Create(float.NegativeInfinity);
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (int kx = 0; kx < kernel; kx++)
            {
                Vector512<float> tap = stride == 1
                    ? Vector512.LoadUnsafe(ref cells, (nuint)kx)
                    : Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref cells, (nuint)kx), even, Vector512.LoadUnsafe(ref cells, (nuint)(kx + 16)));
                max = nan ? Later(tap, max) : Avx512F.Max(tap, max);
            }
            max.StoreUnsafe(ref maxima);
        }

        // 8 neighbouring windows, as AcrossRow512.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AcrossRow256(ref float cells, ref float maxima, int kernel, int stride, bool nan)
        {
            var max = Vector256.Create(float.NegativeInfinity);
            for (int kx = 0; kx < kernel; kx++)
            {
                Vector256<float> tap;
                if (stride == 1) tap = Vector256.LoadUnsafe(ref cells, (nuint)kx);
                else
                {
                    // a0 a2 b0 b2 | a4 a6 b4 b6, then the 64-bit pairs in order: a0 a2 a4 a6 b0 b2 b4 b6.
                    var pairs = Avx.Shuffle(Vector256.LoadUnsafe(ref cells, (nuint)kx), Vector256.LoadUnsafe(ref cells, (nuint)(kx + 8)), 0b10_00_10_00);
                    tap = Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle();
                }
                max = nan ? Later(tap, max) : Avx.Max(tap, max);
            }
            max.StoreUnsafe(ref maxima);
        }
    }
}
