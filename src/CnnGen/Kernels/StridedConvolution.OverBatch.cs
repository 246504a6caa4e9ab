using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        /// <summary>
        /// Whether a strided 3x3 layer's backward runs over the batch (<see cref="BackwardOverBatch"/>) rather than a sample at a
        /// time: onto 4 cells or fewer with 2^16 weights or more, onto 16 cells or fewer with 2^17 or more. There one sample's
        /// gradients read the input gradient's packed weights and carry the weight gradient's sums through memory for a few
        /// cells each. KernelBench <c>strided-over-batch</c> (stride 2, padding 1, 32 samples: one thread's half of a batch of
        /// 64, both gradients; µs per sample, a sample at a time as training ran it / over the batch; load 3):
        /// <code>
        /// onto 2x2: 128->256 73.0 / 39.3 (1.86x)   256->512 2.63x   512->512 3.18x   64->128 16.6 / 12.7 (1.31x)
        /// onto 4x4: 256->512 648.7 / 489.7 (1.32x)   160->320 1.29x   128->256 1.15x   96->192 1.08x
        ///           but 64->128 0.92x, 48->96 0.78x, 32->64 0.72x
        /// onto 8x8 and more a sample at a time wins: 64->128 0.80x, 128->256 0.97x, 32->64 0.53x; onto 7x7 256->512 1.03x
        /// </code>
        /// A 1x1 layer without padding (ResNet's stride-2 shortcuts) runs over the batch onto 16 cells or fewer from 2^15 weights:
        /// <c>strided-over-batch 1x1</c> (stride 2), 512->1024 onto 2x2 285.0 / 56.1 (5.08x), onto 4x4 256->512 101.2 / 69.3
        /// (1.46x), 128->256 1.24x; onto 7x7 256->512 0.99x, onto 8x8 0.78-0.84x.
        /// The generator asks this at compile time (its tests hold its copy to this one); the answer depends on the shape only.
        /// </summary>
        public static bool BackwardPaysOverBatch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            if (inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0 || !(kernel == 3 || kernel == 1 && padding == 0) || stride <= 1 || padding < 0
                || height + 2 * padding < kernel || width + 2 * padding < kernel) return false;
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            long weights = (long)outChannels * g.Taps;
            if (kernel == 1) return g.Cells <= 16 && weights >= 1 << 15;
            return g.Cells <= 4 ? weights >= 1 << 16 : g.Cells <= 16 && weights >= 1 << 17;
        }

        /// <summary>
        /// Whether a training pass runs a strided layer's forward over the batch too (<see cref="ForwardOverBatch"/>, from the
        /// weights as they are): a 3x3 layer whose backward does (<see cref="BackwardPaysOverBatch"/>) onto 4 cells or fewer
        /// (1x1 layers' forwards were not measured: a sample at a time). The same
        /// KernelBench columns, µs per sample, a sample at a time on the pass's prepared weights / over the batch: onto 2x2
        /// 128->256 30.2 / 19.4, 256->512 133.2 / 79.4, 512->512 277.3 / 155.2, 64->128 6.9 / 6.7; onto 4x4 the GEMM does not
        /// pay (128->256 64.4 / 70.6, 96->192 42.9 / 47.4, 256->512 240.0 / 240.9).
        /// </summary>
        public static bool TrainingForwardPaysOverBatch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            kernel == 3 && BackwardPaysOverBatch(inChannels, height, width, outChannels, kernel, stride, padding)
            && new Geometry(inChannels, height, width, kernel, stride, padding).Cells <= 4;

        /// <summary>Floats of scratch <see cref="BackwardOverBatch"/> needs: a group of samples' columns and output gradients side by side.</summary>
        public static int BackwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            return OverBatchLength(g, outChannels);
        }

        // A group's columns and outputs, then one sample's zero-padded planes.
        private static int OverBatchLength(in Geometry g, int outChannels) => OverBatchGroup(g) * g.Cells * (g.Taps + outChannels) + g.PaddedLength;

        // Samples whose cells make one GEMM: 128 columns (32 samples of 2x2, 8 of 4x4), at least one sample.
        private static int OverBatchGroup(in Geometry g) => Math.Max(1, 128 / g.Cells);

        // The scratch of OverBatchLength floats checked, the group's size, and where the padded planes lie after the group's
        // columns and outputs (or output gradients).
        private static Span<float> OverBatchPadded(Span<float> scratch, in Geometry g, int outChannels, out int group)
        {
            Require(scratch.Length >= OverBatchLength(g, outChannels), nameof(scratch), OverBatchLength(g, outChannels));
            group = OverBatchGroup(g);
            return scratch.Slice(group * g.Cells * (g.Taps + outChannels), g.PaddedLength);
        }

        /// <summary>Floats of scratch <see cref="ForwardOverBatch"/> needs: as <see cref="BackwardOverBatch"/>, a group's columns and outputs.</summary>
        public static int ForwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            BackwardOverBatchScratch(inChannels, height, width, outChannels, kernel, stride, padding);

        /// <summary>
        /// The forward of a strided convolution over <paramref name="batch"/> samples at once, from the weights as they are
        /// [outChannels x inChannels x kernel x kernel]: y (batch x [outChannels x OH x OW]) = bias (or 0) + the convolution.
        /// A group of samples' cells side by side make the columns of one GEMM (weight · columns, started at the bias), so the
        /// weights are read once per group instead of once per sample, and nothing is prepared: what a training pass wants of a
        /// layer <see cref="TrainingForwardPaysOverBatch"/> names. Sums in another order than <see cref="Forward"/>: the same values
        /// to rounding.
        /// </summary>
        public static void ForwardOverBatch(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, int kernel, int stride, int padding, Span<float> y, Span<float> scratch)
        {
            var g = CheckedOverBatch(batch, inChannels, height, width, outChannels, kernel, stride, padding);
            int cells = g.Cells, taps = g.Taps, sampleLength = inChannels * height * width, outputLength = outChannels * cells;
            Require(x.Length >= batch * sampleLength, nameof(x), batch * sampleLength);
            Require(weight.Length >= outChannels * taps, nameof(weight), outChannels * taps);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            Require(y.Length >= batch * outputLength, nameof(y), batch * outputLength);
            var padded = OverBatchPadded(scratch, g, outChannels, out int group);

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first), columns = count * cells;
                var cols = scratch.Slice(0, taps * columns);
                var sums = scratch.Slice(taps * group * cells, outChannels * columns);
                for (int s = 0; s < count; s++) ExpandPadded(x.Slice((first + s) * sampleLength, sampleLength), g, padded, cols, columns, s * cells);
                for (int oc = 0; oc < outChannels; oc++) sums.Slice(oc * columns, columns).Fill(bias.IsEmpty ? 0f : bias[oc]);
                Gemm.Multiply(false, false, outChannels, columns, taps, weight, taps, cols, columns, sums, columns, accumulate: true);
                // Each sample's cells of every output channel, out of the group's rows.
                for (int s = 0; s < count; s++)
                {
                    var sample = y.Slice((first + s) * outputLength, outputLength);
                    ref float from = ref Unsafe.Add(ref MemoryMarshal.GetReference(sums), s * cells);
                    ref float to = ref MemoryMarshal.GetReference(sample);
                    for (int oc = 0; oc < outChannels; oc++) DirectConvolution.CopyCells(ref Unsafe.Add(ref from, oc * columns), ref Unsafe.Add(ref to, oc * cells), cells, vector: true);
                }
            }
        }

        private static Geometry CheckedOverBatch(int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            return CheckedGeometry(inChannels, height, width, kernel, stride, padding);
        }

        /// <summary>
        /// The backward of a strided convolution over <paramref name="batch"/> samples at once: weightGradient [outChannels x
        /// inChannels x kernel x kernel] += the weight gradient of every sample, inputGradient (batch x [inChannels x height x
        /// width]) = each sample's input gradient; either may be empty (not wanted). A group of samples' cells side by side
        /// make the inner dimension of one GEMM (d weight = dy · columnsᵀ, d columns = weightᵀ · dy), so the weights and their
        /// gradient are read and written once per group instead of once per sample. Sums in another order than
        /// <see cref="Backward"/>: the same values to rounding. The bias gradient is the caller's; the weights are read only for
        /// the input gradient (may be empty without it).
        /// </summary>
        public static void BackwardOverBatch(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding, Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch)
        {
            var g = CheckedOverBatch(batch, inChannels, height, width, outChannels, kernel, stride, padding);
            int cells = g.Cells, taps = g.Taps, sampleLength = inChannels * height * width;
            Require(x.Length >= batch * sampleLength, nameof(x), batch * sampleLength);
            Require(outputGradient.Length >= batch * outChannels * cells, nameof(outputGradient), batch * outChannels * cells);
            if (!weightGradient.IsEmpty) Require(weightGradient.Length >= outChannels * taps, nameof(weightGradient), outChannels * taps);
            if (!inputGradient.IsEmpty)
            {
                // (Only the input gradient reads the weights.)
                Require(weight.Length >= outChannels * taps, nameof(weight), outChannels * taps);
                Require(inputGradient.Length >= batch * sampleLength, nameof(inputGradient), batch * sampleLength);
            }
            var padded = OverBatchPadded(scratch, g, outChannels, out int group);

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first), columns = count * cells;
                var cols = scratch.Slice(0, taps * columns);
                var dys = scratch.Slice(taps * group * cells, outChannels * columns);
                // dy of the group side by side: dys[oc][sample · cells + cell].
                for (int s = 0; s < count; s++)
                {
                    ref float from = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputGradient), (first + s) * outChannels * cells);
                    ref float to = ref Unsafe.Add(ref MemoryMarshal.GetReference(dys), s * cells);
                    for (int oc = 0; oc < outChannels; oc++) DirectConvolution.CopyCells(ref Unsafe.Add(ref from, oc * cells), ref Unsafe.Add(ref to, oc * columns), cells, vector: true);
                }
                if (!weightGradient.IsEmpty)
                {
                    for (int s = 0; s < count; s++) ExpandPadded(x.Slice((first + s) * sampleLength, sampleLength), g, padded, cols, columns, s * cells);
                    Gemm.Multiply(false, true, outChannels, taps, columns, dys, columns, cols, columns, weightGradient, taps, accumulate: true);
                }
                if (!inputGradient.IsEmpty)
                {
                    Gemm.Multiply(true, false, taps, columns, outChannels, weight, taps, dys, columns, cols, columns, accumulate: false);
                    for (int s = 0; s < count; s++)
                    {
                        FoldPadded(cols, columns, s * cells, g, padded, inputGradient.Slice((first + s) * sampleLength, sampleLength));
                    }
                }
            }
        }

        // cols[tap][offset + cell] = x at the tap's place for the cell (0 in the padding), from the sample's zero-padded
        // planes: no test per cell (Im2Col's per-row bounds took a third of a 128 -> 256 layer onto 2x2).
        private static void ExpandPadded(ReadOnlySpan<float> x, in Geometry g, Span<float> padded, Span<float> cols, int rowLength, int offset)
        {
            Pad(x, padded, g);
            WalkPadded<DirectConvolution.Expanding>(ref MemoryMarshal.GetReference(cols), rowLength, offset, g, ref MemoryMarshal.GetReference(padded));
        }

        // dx = the columns' gradients (rows of rowLength, the sample's from offset) added where ExpandPadded read them, over
        // zero-padded planes, then their interior.
        private static void FoldPadded(Span<float> cols, int rowLength, int offset, in Geometry g, Span<float> padded, Span<float> dx)
        {
            padded.Slice(0, g.PaddedLength).Clear();
            WalkPadded<DirectConvolution.Folding>(ref MemoryMarshal.GetReference(cols), rowLength, offset, g, ref MemoryMarshal.GetReference(padded));
            for (int c = 0; c < g.InChannels; c++)
                for (int iy = 0; iy < g.Height; iy++)
                    padded.Slice(c * g.Plane + (iy + g.Padding) * g.PaddedWidth + g.Padding, g.Width).CopyTo(dx.Slice((c * g.Height + iy) * g.Width, g.Width));
        }

        // Each tap's cell (cols[tap][offset + cell]) against the padded input value it reads, in tap order.
        private static void WalkPadded<TStep>(ref float cols, int rowLength, int offset, in Geometry g, ref float padded) where TStep : struct, DirectConvolution.IColumnStep
        {
            int kernel = g.Kernel, stride = g.Stride, outHeight = g.OutHeight, outWidth = g.OutWidth, paddedWidth = g.PaddedWidth, tap = 0;
            ref float columns = ref Unsafe.Add(ref cols, offset);
            for (int c = 0; c < g.InChannels; c++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    for (int kx = 0; kx < kernel; kx++, tap++)
                    {
                        ref float row = ref Unsafe.Add(ref columns, (nint)tap * rowLength);
                        ref float from = ref Unsafe.Add(ref padded, c * g.Plane + ky * paddedWidth + kx);
                        for (int oy = 0; oy < outHeight; oy++)
                        {
                            ref float line = ref Unsafe.Add(ref from, oy * stride * paddedWidth);
                            ref float cells = ref Unsafe.Add(ref row, oy * outWidth);
                            for (int ox = 0; ox < outWidth; ox++) TStep.Apply(ref Unsafe.Add(ref cells, ox), ref Unsafe.Add(ref line, ox * stride));
                        }
                    }
                }
            }
        }
    }
}
