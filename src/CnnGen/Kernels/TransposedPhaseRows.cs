using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// PyTorch's <c>ConvTranspose2d(kernel 4, stride 2, padding 1)</c> from up to 64 channels onto fewer than 8 (a generator's
    /// last layer onto RGB), forward, by its output phases with the output cells in the vector lanes: each output row of one
    /// phase is a stride-1 two-tap correlation of two input rows, along the row as well, so 16 (or 8) output columns of each
    /// column phase take 8 multiply-adds per input channel from the two rows' vectors, and the two column phases interleave
    /// into 32 (or 16) output cells. The product and col2im it replaces write a column row per tap and output channel (48 for
    /// 3 channels) and scatter them back, which outweighs so few products.
    /// </summary>
    /// <remarks>
    /// Along one axis the layer writes y[2m] = x[m]·w1 + x[m−1]·w3 and y[2m+1] = x[m+1]·w0 + x[m]·w2
    /// (<see cref="TransposedWinogradConvolution"/>), so with the input copied into the scratch padded by one zero cell on
    /// every side (padded index = input index + 1): even output rows read padded rows m + 1 (ky = 1) and m (ky = 3), odd
    /// ones m + 2 (ky = 0) and m + 1 (ky = 2); even output columns padded columns n + 1 (kx = 1) and n (kx = 3), odd ones
    /// n + 2 (kx = 0) and n + 1 (kx = 2). Each of an output's four taps sums over the input channels in its own accumulator
    /// (four independent chains of multiply-adds rather than one), and y = bias + ((tap 0 + tap 1) + (tap 2 + tap 3)). Every
    /// path (16 lanes, 8, one) adds in that order with fused multiply-adds, so they agree bit for bit.
    /// </remarks>
    internal static class TransposedPhaseRows
    {
        /// <summary>
        /// Whether this kernel computes the layer's forward: 4x4, stride 2, padding 1, no output padding, 1 to 7 output channels
        /// and at most 64 input channels. Its cost grows with the input channels faster than the product and col2im's, which
        /// spend most of theirs scattering the columns, so those keep the wider layers (KernelBench transposed-narrow, µs
        /// col2im / phase rows: 16x64x64 -> 3 140-142 / 52-53, 32x64x64 -> 3 180-182 / 104-105, 64x32x32 -> 3 65-66 / 54,
        /// 64x32x32 -> 7 140-141 / 107-108, 64x32x32 -> 1 28 / 28, but 128x32x32 -> 3 110-112 / 123-124; rows of 20 cells,
        /// whose last block cannot start on a line, 48x12x20 -> 2 10.3 / 10.8).
        /// </summary>
        public static bool Handles(in TransposedConvolutionGeometry g) =>
            TransposedWinogradConvolution.Handles(g) && g.OutChannels < 8 && g.InChannels <= MaximumInChannels;

        private const int MaximumInChannels = 64;

        /// <summary>Floats of scratch <see cref="Forward"/> takes: the input padded by one cell on every side, its rows whole lines.</summary>
        public static int ScratchLength(in TransposedConvolutionGeometry g) => (g.InHeight + 2) * g.InChannels * RowLength(g.InWidth) + 15;

        // Floats from one padded row to the next: the cells, their margins and room for a second vector of 16 from the last
        // block's start, in whole 64-byte lines, so that every row starts on a line.
        private static int RowLength(int width) => (width + 16 + 15) / 16 * 16;

        /// <summary>y [outChannels x 2H x 2W] from x [inChannels x H x W] and PyTorch's weight [inChannels x outChannels x 4 x 4], started at the bias (empty: none).</summary>
        public static void Forward(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            int channels = g.InChannels, height = g.InHeight, width = g.InWidth, outChannels = g.OutChannels;
            int rowLength = RowLength(width), rowStride = channels * rowLength, outWidth = 2 * width, outPlane = 4 * height * width;
            scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
            Pad(x, scratch, channels, height, width);
            ref float padded = ref MemoryMarshal.GetReference(scratch);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float target = ref MemoryMarshal.GetReference(y);
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Avx512F.IsSupported && width >= 16;
            bool narrow = !wide && path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated && width >= 8;
            int lanes = wide ? 16 : narrow ? 8 : 1;
            // Two output channels at a time on the vector paths (each load of the input serves 16 multiply-adds), the last
            // alone where their number is odd; one at a time on the scalar path. The order of each output's sum is the same.
            for (int channel = 0; channel < outChannels;)
            {
                bool pair = lanes > 1 && channel + 1 < outChannels;
                float b0 = bias.IsEmpty ? 0f : bias[channel], b1 = bias.IsEmpty || !pair ? 0f : bias[channel + 1];
                ref float plane = ref Unsafe.Add(ref target, (nint)channel * outPlane);
                ref float filters = ref Unsafe.Add(ref w, channel * 16);
                for (int oy = 0; oy < 2 * height; oy++)
                {
                    // The two input rows this output row reads (padded indices, the second one above the first) and the
                    // first one's kernel row; the second one's is two below it.
                    int m = oy >> 1, rowA = (oy & 1) == 0 ? m + 1 : m + 2, kyA = (oy & 1) == 0 ? 1 : 0;
                    ref float first = ref Unsafe.Add(ref padded, rowA * rowStride);
                    ref float taps = ref Unsafe.Add(ref filters, kyA * 4);
                    ref float row = ref Unsafe.Add(ref plane, oy * outWidth);
                    for (int n = 0; ; n += lanes)
                    {
                        if (n > width - lanes) n = width - lanes; // the last block overlaps the one before: the same values again
                        ref float input = ref Unsafe.Add(ref first, n);
                        ref float output = ref Unsafe.Add(ref row, 2 * n);
                        if (wide && pair) Cells16(ref input, rowStride, ref taps, channels, rowLength, outChannels * 16, b0, b1, ref output, ref Unsafe.Add(ref output, outPlane));
                        else if (wide) Cells16(ref input, rowStride, ref taps, channels, rowLength, outChannels * 16, b0, ref output);
                        else if (pair) Cells8(ref input, rowStride, ref taps, channels, rowLength, outChannels * 16, b0, b1, ref output, ref Unsafe.Add(ref output, outPlane));
                        else if (narrow) Cells8(ref input, rowStride, ref taps, channels, rowLength, outChannels * 16, b0, ref output);
                        else Cell(ref input, rowStride, ref taps, channels, rowLength, outChannels * 16, b0, ref output);
                        if (n == width - lanes) break;
                    }
                }
                channel += pair ? 2 : 1;
            }
        }

        // x into [height + 2][channels][RowLength], zero at the margins (columns 0 and width + 1, rows 0 and height + 1; the
        // columns past width + 1 are read only into lanes valignd drops): the loop over the input channels reads the same row
        // of each channel, so those rows lie one after another, each on a 64-byte line (the scratch from its first line on).
        private static void Pad(ReadOnlySpan<float> x, Span<float> padded, int channels, int height, int width)
        {
            int rowLength = RowLength(width), rowStride = channels * rowLength;
            padded.Slice(0, rowStride).Clear();
            padded.Slice((height + 1) * rowStride, rowStride).Clear();
            for (int r = 0; r < height; r++)
                for (int c = 0; c < channels; c++)
                {
                    var row = padded.Slice((r + 1) * rowStride + c * rowLength, width + 2);
                    row[0] = 0;
                    x.Slice((c * height + r) * width, width).CopyTo(row.Slice(1));
                    row[width + 1] = 0;
                }
        }

        // The eight sums of one output channel over 16 cells of one output row: the even columns' four taps and the odd ones'.
        private struct Sums16
        {
            private Vector512<float> _even0, _even1, _even2, _even3, _odd0, _odd1, _odd2, _odd3;

            // One input channel: a0..a2 the first row at padded columns n, n + 1, n + 2, s0..s2 the second row's, `taps` the
            // first row's kernel row of this channel's filter (the second row's 8 floats on).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Add(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, ref float taps)
            {
                _even0 = Fused.MultiplyAdd(a1, Vector512.Create(Unsafe.Add(ref taps, 1)), _even0);
                _even1 = Fused.MultiplyAdd(a0, Vector512.Create(Unsafe.Add(ref taps, 3)), _even1);
                _even2 = Fused.MultiplyAdd(s1, Vector512.Create(Unsafe.Add(ref taps, 9)), _even2);
                _even3 = Fused.MultiplyAdd(s0, Vector512.Create(Unsafe.Add(ref taps, 11)), _even3);
                _odd0 = Fused.MultiplyAdd(a2, Vector512.Create(taps), _odd0);
                _odd1 = Fused.MultiplyAdd(a1, Vector512.Create(Unsafe.Add(ref taps, 2)), _odd1);
                _odd2 = Fused.MultiplyAdd(s2, Vector512.Create(Unsafe.Add(ref taps, 8)), _odd2);
                _odd3 = Fused.MultiplyAdd(s1, Vector512.Create(Unsafe.Add(ref taps, 10)), _odd3);
            }

            // bias + ((tap 0 + tap 1) + (tap 2 + tap 3)) of each phase, the two interleaved into 32 output cells.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public readonly void Store(float bias, ref float output)
            {
                var b = Vector512.Create(bias);
                VectorRows.Interleave(b + ((_even0 + _even1) + (_even2 + _even3)), b + ((_odd0 + _odd1) + (_odd2 + _odd3)), ref output);
            }
        }

        private struct Sums8
        {
            private Vector256<float> _even0, _even1, _even2, _even3, _odd0, _odd1, _odd2, _odd3;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Add(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, ref float taps)
            {
                _even0 = Fused.MultiplyAdd(a1, Vector256.Create(Unsafe.Add(ref taps, 1)), _even0);
                _even1 = Fused.MultiplyAdd(a0, Vector256.Create(Unsafe.Add(ref taps, 3)), _even1);
                _even2 = Fused.MultiplyAdd(s1, Vector256.Create(Unsafe.Add(ref taps, 9)), _even2);
                _even3 = Fused.MultiplyAdd(s0, Vector256.Create(Unsafe.Add(ref taps, 11)), _even3);
                _odd0 = Fused.MultiplyAdd(a2, Vector256.Create(taps), _odd0);
                _odd1 = Fused.MultiplyAdd(a1, Vector256.Create(Unsafe.Add(ref taps, 2)), _odd1);
                _odd2 = Fused.MultiplyAdd(s2, Vector256.Create(Unsafe.Add(ref taps, 8)), _odd2);
                _odd3 = Fused.MultiplyAdd(s1, Vector256.Create(Unsafe.Add(ref taps, 10)), _odd3);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public readonly void Store(float bias, ref float output)
            {
                var b = Vector256.Create(bias);
                VectorRows.Interleave(b + ((_even0 + _even1) + (_even2 + _even3)), b + ((_odd0 + _odd1) + (_odd2 + _odd3)), ref output);
            }
        }

        // A padded row's 16 cells from columns n, n + 1 and n + 2: its vectors at n and n + 16, the shifts by valignd rather than
        // loads across lines (rows start on a line, so at n a multiple of 16 both loads are whole lines; 64x32x32 -> 3 in
        // KernelBench transposed-narrow 73.7 -> 53.8 µs).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float> Cells, Vector512<float> Shifted1, Vector512<float> Shifted2) Columns16(ref float row)
        {
            var cells = Vector512.LoadUnsafe(ref row).AsUInt32();
            var next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
            return (cells.AsSingle(), VectorRows.ColumnsFrom(cells, next, 1), VectorRows.ColumnsFrom(cells, next, 2));
        }

        // 16 cells of each column phase of one output row of two output channels: `input` the first input row at padded column n
        // (the second row rowStride before it, the next input channel's channelStride on), `taps` the first row's kernel row of
        // the first output channel's filter (the second channel's 16 floats on, the next input channel's filterStride on).
        private static void Cells16(ref float input, int rowStride, ref float taps, int channels, int channelStride, int filterStride,
            float bias0, float bias1, ref float output0, ref float output1)
        {
            Sums16 first = default, second = default;
            for (int c = 0; c < channels; c++)
            {
                var (a0, a1, a2) = Columns16(ref input);
                var (s0, s1, s2) = Columns16(ref Unsafe.Subtract(ref input, rowStride));
                first.Add(a0, a1, a2, s0, s1, s2, ref taps);
                second.Add(a0, a1, a2, s0, s1, s2, ref Unsafe.Add(ref taps, 16));
                input = ref Unsafe.Add(ref input, channelStride);
                taps = ref Unsafe.Add(ref taps, filterStride);
            }
            first.Store(bias0, ref output0);
            second.Store(bias1, ref output1);
        }

        private static void Cells16(ref float input, int rowStride, ref float taps, int channels, int channelStride, int filterStride, float bias, ref float output)
        {
            Sums16 sums = default;
            for (int c = 0; c < channels; c++)
            {
                var (a0, a1, a2) = Columns16(ref input);
                var (s0, s1, s2) = Columns16(ref Unsafe.Subtract(ref input, rowStride));
                sums.Add(a0, a1, a2, s0, s1, s2, ref taps);
                input = ref Unsafe.Add(ref input, channelStride);
                taps = ref Unsafe.Add(ref taps, filterStride);
            }
            sums.Store(bias, ref output);
        }

        private static void Cells8(ref float input, int rowStride, ref float taps, int channels, int channelStride, int filterStride,
            float bias0, float bias1, ref float output0, ref float output1)
        {
            Sums8 first = default, second = default;
            for (int c = 0; c < channels; c++)
            {
                ref float above = ref Unsafe.Subtract(ref input, rowStride);
                var a0 = Vector256.LoadUnsafe(ref input);
                var a1 = Vector256.LoadUnsafe(ref input, 1);
                var a2 = Vector256.LoadUnsafe(ref input, 2);
                var s0 = Vector256.LoadUnsafe(ref above);
                var s1 = Vector256.LoadUnsafe(ref above, 1);
                var s2 = Vector256.LoadUnsafe(ref above, 2);
                first.Add(a0, a1, a2, s0, s1, s2, ref taps);
                second.Add(a0, a1, a2, s0, s1, s2, ref Unsafe.Add(ref taps, 16));
                input = ref Unsafe.Add(ref input, channelStride);
                taps = ref Unsafe.Add(ref taps, filterStride);
            }
            first.Store(bias0, ref output0);
            second.Store(bias1, ref output1);
        }

        private static void Cells8(ref float input, int rowStride, ref float taps, int channels, int channelStride, int filterStride, float bias, ref float output)
        {
            Sums8 sums = default;
            for (int c = 0; c < channels; c++)
            {
                ref float above = ref Unsafe.Subtract(ref input, rowStride);
                sums.Add(Vector256.LoadUnsafe(ref input), Vector256.LoadUnsafe(ref input, 1), Vector256.LoadUnsafe(ref input, 2),
                    Vector256.LoadUnsafe(ref above), Vector256.LoadUnsafe(ref above, 1), Vector256.LoadUnsafe(ref above, 2), ref taps);
                input = ref Unsafe.Add(ref input, channelStride);
                taps = ref Unsafe.Add(ref taps, filterStride);
            }
            sums.Store(bias, ref output);
        }

        // One cell of each column phase of one output channel, the same operations in the same order as a lane of Sums16.
        private static void Cell(ref float input, int rowStride, ref float taps, int channels, int channelStride, int filterStride, float bias, ref float output)
        {
            float even0 = 0, even1 = 0, even2 = 0, even3 = 0, odd0 = 0, odd1 = 0, odd2 = 0, odd3 = 0;
            for (int c = 0; c < channels; c++)
            {
                ref float above = ref Unsafe.Subtract(ref input, rowStride);
                float a0 = input, a1 = Unsafe.Add(ref input, 1), a2 = Unsafe.Add(ref input, 2), s0 = above, s1 = Unsafe.Add(ref above, 1), s2 = Unsafe.Add(ref above, 2);
                even0 = MathF.FusedMultiplyAdd(a1, Unsafe.Add(ref taps, 1), even0);
                even1 = MathF.FusedMultiplyAdd(a0, Unsafe.Add(ref taps, 3), even1);
                even2 = MathF.FusedMultiplyAdd(s1, Unsafe.Add(ref taps, 9), even2);
                even3 = MathF.FusedMultiplyAdd(s0, Unsafe.Add(ref taps, 11), even3);
                odd0 = MathF.FusedMultiplyAdd(a2, taps, odd0);
                odd1 = MathF.FusedMultiplyAdd(a1, Unsafe.Add(ref taps, 2), odd1);
                odd2 = MathF.FusedMultiplyAdd(s2, Unsafe.Add(ref taps, 8), odd2);
                odd3 = MathF.FusedMultiplyAdd(s1, Unsafe.Add(ref taps, 10), odd3);
                input = ref Unsafe.Add(ref input, channelStride);
                taps = ref Unsafe.Add(ref taps, filterStride);
            }
            output = bias + ((even0 + even1) + (even2 + even3));
            Unsafe.Add(ref output, 1) = bias + ((odd0 + odd1) + (odd2 + odd3));
        }
    }
}
