using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    public static partial class DirectConvolution
    {
        /// <summary>
        /// Whether a stride-1 layer's backward runs over the batch (<see cref="BackwardOverBatch"/>) rather than a sample at a
        /// time: its weights take 1 MiB or more and its output is 64 cells or fewer (VGG's 256-512 channels on 8x8 down to
        /// 2x2). One sample's gradients there read or write every weight for a few cells each: KernelBench <c>backward</c> (one
        /// sample, load 14) gave 512 -> 512 on 2x2 9 GFLOP/s, on 4x4 27, 256 -> 512 on 4x4 31, where PyTorch runs one GEMM over
        /// the batch. A pointwise layer (1x1, no padding) pays on 16 cells or fewer only: with no im2col to share, copying its
        /// group's input and output gradient side by side costs more than the sample's GEMM saves above that (KernelBench
        /// <c>pointwise-training</c>, a batch of 16, load 8-19: 1024 -> 1024 @2x2 4.3x, 512 -> 512 @4x4 1.08x, but 256 -> 512
        /// @4x4 0.96x and 0.5-0.8x on 7x7 to 16x16 maps). A 3x3 layer (padding 0 or 1) onto a map of 25 cells or more runs a sample
        /// at a time up to 2.25 MiB of weights (<see cref="PerSampleWinogradWeights"/>): there the per-sample path's Winograd
        /// (the weight gradient summed over the samples, the input gradient on the turned filters) does a half to a quarter of the
        /// multiplications, and its transformed weights still come from the cache. KernelBench <c>backward-over-batch</c> (32
        /// samples, one thread's half of a batch of 64; µs per sample over the batch / a sample at a time):
        /// <code>
        /// 128->256 @8x8 520.7 / 225.0 (2.31x)   192->192 @8x8 642.5 / 228.4 (2.81x)   256->256 @8x8 1035.2 / 465.8 (2.22x)
        /// 256->256 @7x7 876.8 / 437.1 (2.01x)   256->256 @6x6 638.3 / 404.0 (1.58x)   128->256 @6x6 312.1 / 166.0 (1.88x)
        /// 256->256 @5x5 420.1 / 366.2 (1.15x)   but 256->256 @4x4 276.5 / 775.1 (0.36x), 512->512 @2x2 0.12x,
        /// 256->512 @8x8 1831.6 / 2889.8 (0.63x), 384->384 @8x8 0.68x, 512->256 @8x8 0.82x, 512->512 @8x8 0.65x, 384->384 @6x6 0.42x
        /// padding 0, by the output: 256->256 @8x8 1.70x, 192->192 @8x8 2.00x, @6x6 1.84x, 256->256 @6x6 1.51x, @5x5 0.97x
        /// </code>
        /// Session 32 ran 5x5 layers (padding 0 to 2) onto 25 cells or more a sample at a time up to 6.25 MiB of weights
        /// (256 -> 256 channels), the input gradient by F(2x2, 5x5) on the turned filters (AlexNet's 64 -> 192 on 7x7 was 27%
        /// of its training step over the batch by im2col):
        /// <code>
        /// 64->192 @7x7 474.2 / 320.5 (1.48x)    96->128 @7x7 1.73x    128->128 @8x8 1121.5 / 554.8 (2.02x)   128->192 @7x7 1.54x
        /// 64->256 @8x8 1.47x    192->256 @7x7 1.20x    256->256 @8x8 2871.9 / 2173.4 (1.32x)    256->256 @6x6 1.13x
        /// 192->96 @14x14 2.98x    padding 0, 128->128 onto 7x7 1.55x    but 128->256 @4x4 414.4 / 562.7 (0.74x)
        /// </code>
        /// The generator asks this at compile time; the answer depends on the shape only.
        /// <para>
        /// Since session 33 the batch runs by taps (one GEMM per kernel tap over the cells it reads, the padding skipped), which
        /// moved the edges: every layer with more than one tap onto 25 cells or fewer runs over the batch, whatever its weights;
        /// 3x3 layers run a sample at a time from 36 cells (not 25), and 5x5 layers from 1 MiB of weights onto 26 to 64 cells split
        /// (<see cref="BackwardMixedPays"/>). KernelBench
        /// backward-over-batch (32 samples, µs a sample, a sample at a time / by taps): 3x3 16 -> 32 on 4x4 5.7 / 2.8, 64 -> 64
        /// on 4x4 16.5 / 12.6, 128 -> 128 on 4x4 200.0 / 43.4, 64 -> 64 on 2x2 21.7 / 3.1, 96 -> 96 on 3x3 56.6 / 13.8, 128 -> 128
        /// on 5x5 100.3 / 75.4, 256 -> 256 on 5x5 406.4 / 290.7, onto 5x5 unpadded 481.2 / 414.0; but 256 -> 256 on 6x6 551.7 / 512.8
        /// and 128 -> 256 on 6x6 219.0 / 231.8 (a tie: per sample stays), 64 -> 64 on 8x8 28.8 / 57.5.
        /// </para>
        /// </summary>
        public static bool BackwardPaysOverBatch(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int cells = g.OutHeight * g.OutWidth;
            long weights = (long)outChannels * g.Taps;
            if (g.OutHeight <= 0 || g.OutWidth <= 0) return false;
            if (kernel == 1 && padding == 0) return weights >= 1 << 18 && cells <= 16;
            if (cells <= 25) return true;
            if (weights < 1 << 18 || cells > 64) return false;
            if (kernel == 3 && padding <= 1 && cells >= 36 && weights <= PerSampleWinogradWeights) return false;
            return !BackwardMixedPays(inChannels, height, width, outChannels, kernel, padding);
        }

        /// <summary>
        /// Whether a stride-1 layer's backward splits (session 33): the weight gradient over the batch by taps
        /// (<see cref="BackwardOverBatch"/> with no input gradient), the input gradient a sample at a time by Winograd on the
        /// turned filters (BackwardWithFilters with no weight gradient). A 5x5 layer (padding 0 to 2) with 1 MiB
        /// of weights or more onto 26 to 64 cells: KernelBench backward-over-batch (32 samples, µs a sample, a sample at a time
        /// / over the batch by taps / split): 64 -> 192 on 7x7 356.1 / 323.7 / 239.9, 96 -> 128 on 7x7 351.4 / 313.3 / 235.0,
        /// 128 -> 192 on 7x7 771.0 / 650.3 / 484.1, 192 -> 256 on 7x7 1,689.1 / 1,213.0 / 926.9, 128 -> 128 on 8x8 525.1 / 510.3 /
        /// 362.9, 64 -> 256 on 8x8 519.2 / 516.8 / 359.0. For 3x3 layers the split gains 1.03-1.08x on 6x6 and 7x7 and loses on 8x8
        /// (F(4x4)'s weight gradient a sample at a time is as cheap as its input gradient there): not taken.
        /// </summary>
        public static bool BackwardMixedPays(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int cells = g.OutHeight * g.OutWidth;
            return kernel == 5 && padding <= 2 && g.OutHeight > 0 && g.OutWidth > 0 && cells > 25 && cells <= 64 && (long)outChannels * g.Taps >= 1 << 18;
        }

        /// <summary>The most weights (floats: 256 -> 256 channels of 3x3) a 3x3 layer onto a map of 36 cells or more differentiates a sample at a time (<see cref="BackwardPaysOverBatch"/>).</summary>
        public const int PerSampleWinogradWeights = 256 * 256 * 9;

        /// <summary>Floats of scratch <see cref="BackwardOverBatch"/> needs: a pointwise layer's group of samples' columns and output gradients; by taps, the weights and their gradient tap-major and a group's maps cell-major.</summary>
        public static int BackwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int group = SamplesPerGroup(g), columns = group * g.OutHeight * g.OutWidth * (g.Taps + outChannels);
            return kernel == 1 && padding == 0 ? columns : Math.Max(columns, ByTapsScratch(g, outChannels));
        }

        /// <summary>Runs every layer's <see cref="BackwardOverBatch"/> and <see cref="ForwardOverBatch"/> by im2col columns, as before session 33; KernelBench sets it to compare.</summary>
        internal static bool ByTapsOff { get; set; }

        // Samples whose cells make one GEMM: 128 columns where the output has 64 cells or fewer (2 samples of 8x8, 32 of 2x2).
        private static int SamplesPerGroup(in Geometry g) => Math.Max(1, 128 / (g.OutHeight * g.OutWidth));

        /// <summary>
        /// The backward of a stride-1 convolution over <paramref name="batch"/> samples at once: weightGradient [outChannels x
        /// taps] += the weight gradient of every sample, inputGradient (batch x [inChannels x height x width]) = each sample's
        /// input gradient; either may be empty (not wanted). A group of samples' cells side by side make the inner dimension
        /// of one GEMM per kernel tap over the cells the tap reads (d weight of the tap = dy · the shifted inputᵀ, d x at the
        /// shift += the tap's weightᵀ · dy; a pointwise layer: one GEMM), so the weights and their gradient are read and
        /// written once per group instead of once per sample. Sums in another order than <see cref="Backward"/>: the same
        /// values to rounding. Bias gradients are the caller's.
        /// </summary>
        public static void BackwardOverBatch(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int padding, Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, x.Length / batch, weight.Length);
            int cells = g.OutHeight * g.OutWidth, taps = g.Taps, sampleLength = inChannels * height * width;
            Require(x.Length >= batch * sampleLength, nameof(x), batch * sampleLength);
            Require(outputGradient.Length >= batch * outChannels * cells, nameof(outputGradient), batch * outChannels * cells);
            if (!weightGradient.IsEmpty) Require(weightGradient.Length >= outChannels * taps, nameof(weightGradient), outChannels * taps);
            if (!inputGradient.IsEmpty) Require(inputGradient.Length >= batch * sampleLength, nameof(inputGradient), batch * sampleLength);
            if ((kernel > 1 || padding > 0) && !ByTapsOff)
            {
                BackwardByTaps(x, batch, g, weight, outputGradient, outChannels, weightGradient, inputGradient, scratch);
                return;
            }
            int group = SamplesPerGroup(g);
            Require(scratch.Length >= group * cells * (taps + outChannels), nameof(scratch), group * cells * (taps + outChannels));

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first), columns = count * cells;
                var cols = scratch.Slice(0, taps * columns);
                var dys = scratch.Slice(taps * group * cells, outChannels * columns);
                // dy of the group side by side: dys[oc][sample · cells + cell].
                for (int s = 0; s < count; s++)
                {
                    var dy = outputGradient.Slice((first + s) * outChannels * cells, outChannels * cells);
                    for (int oc = 0; oc < outChannels; oc++) dy.Slice(oc * cells, cells).CopyTo(dys.Slice(oc * columns + s * cells, cells));
                }
                if (!weightGradient.IsEmpty)
                {
                    for (int s = 0; s < count; s++) ExpandColumns(x.Slice((first + s) * sampleLength, sampleLength), g, cols, columns, s * cells);
                    Gemm.Multiply(false, true, outChannels, taps, columns, dys, columns, cols, columns, weightGradient, taps, accumulate: true);
                }
                if (!inputGradient.IsEmpty)
                {
                    Gemm.Multiply(true, false, taps, columns, outChannels, weight, taps, dys, columns, cols, columns, accumulate: false);
                    for (int s = 0; s < count; s++) FoldColumns(cols, columns, s * cells, g, inputGradient.Slice((first + s) * sampleLength, sampleLength));
                }
            }
        }

        /// <summary>
        /// Whether evaluation runs a stride-1 layer over a batch of <paramref name="batch"/> samples (<see cref="ForwardOverBatch"/>)
        /// rather than a sample at a time: its weights take 1 MiB or more, its output is 16 cells or fewer, and the batch's
        /// cells make 32 GEMM columns or more. KernelBench <c>over-batch</c> (3x3, padding 1, ReLU, 32 samples as one thread
        /// of a batch of 64 takes them; µs per sample, a sample at a time on the filters the layer keeps, load 8-14):
        /// <code>
        /// shape              weights   a sample at a time     over the batch   ratio
        /// 512->512 on 2x2    9 MiB     190.4 (lanes)          125.6            1.52x
        /// 256->256 on 2x2    2.3 MiB   42.4 (lanes)           39.0             1.09x
        /// 128->128 on 2x2    576 KiB   10.2 (lanes)           12.7             0.80x
        /// 512->512 on 4x4    9 MiB     453.8 (lanes)          401.3            1.13x
        /// 256->512 on 4x4    4.5 MiB   243.9 (lanes)          202.4            1.20x
        /// 128->256 on 4x4    1.1 MiB   70.7 (lanes)           59.2             1.19x
        /// 200->200 on 4x4    1.4 MiB   120.9 (direct)         79.0             1.53x
        /// 128->128 on 4x4    576 KiB   34.0 (lanes)           38.2             0.89x
        /// 256->256 on 6x6    2.3 MiB   130.8 (F(4x4))         308.3            0.42x
        /// 512->512 on 6x6    9 MiB     919.1 (lanes)          1061.7           0.87x
        /// 256->256 on 8x8    2.3 MiB   113.7 (F(4x4))         482.8            0.24x
        /// 512->512 on 8x8    9 MiB     1508.9 (direct)        1642.5           0.92x
        /// </code>
        /// (Cell-by-cell expansion of the columns then; from the padded planes 512->512 on 4x4 takes 438.7, 256->512 on 4x4 195.0,
        /// 512->512 on 2x2 129.9.) The GEMM runs at 150-190 GFLOP/s here against the FMA peak's 263; the lanes kernel reads the weights once a sample
        /// from the L3, so its loss grows with the weights; Winograd (8x8, 6x6) does a quarter of the multiplications. Few
        /// columns starve the GEMM: 512->512 on 4x4 at 2 samples 1.09x, on 2x2 at 4 samples 0.71x, at 8 samples 1.11x (so 32
        /// columns at least). The generator asks this at compile time (the batch at run time); the answer depends on the shape only.
        /// Since session 33 the batch runs by taps (the padding skipped, no im2col copy), and layers from 256 KiB of weights pay
        /// (KernelBench over-batch, 32 samples, µs a sample, a sample at a time / im2col / by taps): 96 -> 96 on 4x4 21.0 / 21.2 /
        /// 13.9, 128 -> 128 on 4x4 34.5 / 33.1 / 22.9, 128 -> 128 on 2x2 7.8 / 13.3 / 7.7; 192 -> 384 on 3x3 89.2 / 83.4 / 54.9
        /// (45.4 with the weights turned tap-major by 8x8 transposes rather than gathers), 512 -> 512 on 2x2 155.9 / 142.3 / 87.9;
        /// but 64 -> 64 on 4x4 (144 KiB) 5.0 / 11.1 / 7.0.
        /// </summary>
        public static bool ForwardPaysOverBatch(int batch, int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int cells = g.OutHeight * g.OutWidth;
            return g.OutHeight > 0 && g.OutWidth > 0 && (long)outChannels * g.Taps >= 1 << 16 && cells <= 16 && (long)batch * cells >= 32;
        }

        /// <summary>Floats of scratch <see cref="ForwardOverBatch"/> needs: by im2col a group of samples' columns and outputs (as the backward's) and one sample's padded planes; by taps the weights tap-major and a group's maps cell-major.</summary>
        public static int ForwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            // The padded sample is im2col's (a pointwise layer's, or any layer's with ByTapsOff); by taps reads the input in place.
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int columns = SamplesPerGroup(g) * g.OutHeight * g.OutWidth * (g.Taps + outChannels) + g.PaddedLength;
            return kernel == 1 && padding == 0 ? columns : Math.Max(columns, ByTapsScratch(g, outChannels));
        }

        /// <summary>
        /// The forward of a stride-1 convolution over <paramref name="batch"/> samples at once: y (batch x [outChannels x
        /// cells], or with <paramref name="pool"/> the 2x2 max pooling of the cells, floor of odd sizes) = bias + the
        /// convolution, then ReLU when <paramref name="relu"/>, then the pooling. A group of samples' cells side by side make
        /// the columns of one GEMM per kernel tap (the tap's weights [outChannels x inChannels] · the input at the tap's shift,
        /// over the cells the tap reads, added to sums started at the bias; a pointwise layer: one GEMM), so the
        /// weights are read once per group instead of once per sample: for layers whose weights outweigh their cells many
        /// times (VGG's 256-512 channels on 8x8 down to 2x2). Sums in another order than <see cref="Forward"/>: the same values
        /// to rounding; ReLU and pooling as PyTorch's (a NaN passes through both).
        /// </summary>
        public static void ForwardOverBatch(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> bias, int outChannels, int kernel, int padding, Span<float> y, Span<float> scratch, bool relu, bool pool) =>
            ForwardOverBatchOn(x, batch, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool, KernelPaths.Default);

        /// <summary><see cref="ForwardOverBatch"/> with the GEMM's scalar path when <paramref name="path"/> is Scalar (for tests), else its vector path.</summary>
        internal static void ForwardOverBatchOn(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> bias, int outChannels, int kernel, int padding, Span<float> y, Span<float> scratch, bool relu, bool pool, KernelPath path)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, x.Length / batch, weight.Length);
            int cells = g.OutHeight * g.OutWidth, taps = g.Taps, sampleLength = inChannels * height * width;
            int outputLength = outChannels * (pool ? (g.OutHeight / 2) * (g.OutWidth / 2) : cells);
            Require(x.Length >= batch * sampleLength, nameof(x), batch * sampleLength);
            Require(y.Length >= batch * outputLength, nameof(y), batch * outputLength);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            if ((kernel > 1 || padding > 0) && !ByTapsOff)
            {
                ForwardByTaps(x, batch, g, weight, bias, outChannels, y, scratch, relu, pool, path);
                return;
            }
            int group = SamplesPerGroup(g), needed = group * cells * (taps + outChannels) + g.PaddedLength;
            Require(scratch.Length >= needed, nameof(scratch), needed);
            var padded = scratch.Slice(group * cells * (taps + outChannels), g.PaddedLength);

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first), columns = count * cells;
                var cols = scratch.Slice(0, taps * columns);
                var sums = scratch.Slice(taps * group * cells, outChannels * columns);
                for (int s = 0; s < count; s++) ExpandPaddedColumns(x.Slice((first + s) * sampleLength, sampleLength), g, padded, cols, columns, s * cells, path != KernelPath.Scalar);
                for (int oc = 0; oc < outChannels; oc++) sums.Slice(oc * columns, columns).Fill(bias.IsEmpty ? 0f : bias[oc]);
                if (path == KernelPath.Scalar) Gemm.MultiplyScalar(false, false, outChannels, columns, taps, weight, taps, cols, columns, sums, columns, accumulate: true);
                else Gemm.Multiply(false, false, outChannels, columns, taps, weight, taps, cols, columns, sums, columns, accumulate: true);
                for (int s = 0; s < count; s++)
                {
                    var sample = y.Slice((first + s) * outputLength, outputLength);
                    if (pool) PoolColumns(sums, columns, s * cells, outChannels, relu, g, sample);
                    else UnpackColumns(sums, columns, s * cells, outChannels, cells, relu, sample);
                }
            }
        }

        // One sample's cells of every output channel, out of the group's rows (ReLU on the way).
        private static void UnpackColumns(ReadOnlySpan<float> sums, int columns, int offset, int outChannels, int cells, bool relu, Span<float> y)
        {
            for (int oc = 0; oc < outChannels; oc++)
            {
                var row = sums.Slice(oc * columns + offset, cells);
                var target = y.Slice(oc * cells, cells);
                if (relu) Elementwise.Relu(row, target);
                else row.CopyTo(target);
            }
        }

        // One sample's 2x2 max pooling (after ReLU) of every output channel: PyTorch's scan of each window, a NaN kept.
        private static void PoolColumns(ReadOnlySpan<float> sums, int columns, int offset, int outChannels, bool relu, in Geometry g, Span<float> y)
        {
            int pooledHeight = g.OutHeight / 2, pooledWidth = g.OutWidth / 2, outWidth = g.OutWidth;
            for (int oc = 0; oc < outChannels; oc++)
            {
                var row = sums.Slice(oc * columns + offset, g.OutHeight * outWidth);
                for (int py = 0; py < pooledHeight; py++)
                {
                    for (int px = 0; px < pooledWidth; px++)
                    {
                        int at = 2 * py * outWidth + 2 * px;
                        float m = Activated(row[at], relu);
                        float v = Activated(row[at + 1], relu);
                        if (v > m || float.IsNaN(v)) m = v;
                        v = Activated(row[at + outWidth], relu);
                        if (v > m || float.IsNaN(v)) m = v;
                        v = Activated(row[at + outWidth + 1], relu);
                        if (v > m || float.IsNaN(v)) m = v;
                        y[(oc * pooledHeight + py) * pooledWidth + px] = m;
                    }
                }
            }
        }

        private static float Activated(float v, bool relu) => relu ? Elementwise.Relu(v) : v;

        // cols[tap][offset + cell] as ExpandColumns, from the sample's zero-padded planes: each tap's output row one copy of
        // OutWidth floats, no test per cell (the per-cell walk took a quarter of a 512 -> 512 layer on 4x4, KernelBench over-batch).
        private static void ExpandPaddedColumns(ReadOnlySpan<float> x, in Geometry g, Span<float> padded, Span<float> cols, int rowLength, int offset, bool vector)
        {
            Pad(x, padded, g);
            int kh = g.KernelHeight, kw = g.KernelWidth, outWidth = g.OutWidth, outHeight = g.OutHeight, tap = 0;
            ref float source = ref MemoryMarshal.GetReference(padded);
            ref float target = ref MemoryMarshal.GetReference(cols);
            vector &= Vector128.IsHardwareAccelerated;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < kh; ky++)
                {
                    for (int kx = 0; kx < kw; kx++, tap++)
                    {
                        ref float row = ref Unsafe.Add(ref target, (nint)tap * rowLength + offset);
                        ref float from = ref Unsafe.Add(ref source, ic * g.Plane + ky * g.PaddedWidth + kx);
                        for (int oy = 0; oy < outHeight; oy++)
                            CopyCells(ref Unsafe.Add(ref from, oy * g.PaddedWidth), ref Unsafe.Add(ref row, oy * outWidth), outWidth, vector);
                    }
                }
            }
        }

        // length floats from source to target, four at a time when vector (StridedConvolution's over-batch copies too).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void CopyCells(ref float source, ref float target, int length, bool vector)
        {
            int i = 0;
            if (vector)
            {
                for (; i + 4 <= length; i += 4) Vector128.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref target, (nuint)i);
            }
            for (; i < length; i++) Unsafe.Add(ref target, i) = Unsafe.Add(ref source, i);
        }

        // cols[tap][offset + cell] = x at the tap's place for the cell, 0 in the padding; rows of the given length.
        private static void ExpandColumns(ReadOnlySpan<float> x, in Geometry g, Span<float> cols, int rowLength, int offset)
        {
            for (int tap = 0; tap < g.Taps; tap++) cols.Slice(tap * rowLength + offset, g.OutHeight * g.OutWidth).Clear();
            WalkColumns<Expanding>(ref MemoryMarshal.GetReference(cols), rowLength, offset, g, ref MemoryMarshal.GetReference(x));
        }

        // dx = the columns' gradients folded back onto the input (each tap's cell added where it read x), tap by tap.
        private static void FoldColumns(ReadOnlySpan<float> cols, int rowLength, int offset, in Geometry g, Span<float> dx)
        {
            dx.Clear();
            WalkColumns<Folding>(ref MemoryMarshal.GetReference(cols), rowLength, offset, g, ref MemoryMarshal.GetReference(dx));
        }

        // What a walk over the columns does at each (column cell, input value) pair: im2col's copy, or its adjoint's sum
        // (StridedConvolution's walk over padded planes takes them too).
        internal interface IColumnStep { static abstract void Apply(ref float column, ref float input); }
        internal readonly struct Expanding : IColumnStep { public static void Apply(ref float column, ref float input) => column = input; }
        internal readonly struct Folding : IColumnStep { public static void Apply(ref float column, ref float input) => input += column; }

        // Each tap's cell against the input value it reads (cells that read the padding are skipped), in tap order.
        private static void WalkColumns<TStep>(ref float cols, int rowLength, int offset, in Geometry g, ref float input) where TStep : struct, IColumnStep
        {
            int kh = g.KernelHeight, kw = g.KernelWidth;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < kh; ky++)
                {
                    for (int kx = 0; kx < kw; kx++)
                    {
                        ref float row = ref Unsafe.Add(ref cols, ((ic * kh + ky) * kw + kx) * rowLength + offset);
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy + ky - g.PaddingHeight;
                            if (iy < 0 || iy >= g.Height) continue;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox + kx - g.PaddingWidth;
                                if (ix >= 0 && ix < g.Width)
                                    TStep.Apply(ref Unsafe.Add(ref row, oy * g.OutWidth + ox), ref Unsafe.Add(ref input, (ic * g.Height + iy) * g.Width + ix));
                            }
                        }
                    }
                }
            }
        }
    }
}
