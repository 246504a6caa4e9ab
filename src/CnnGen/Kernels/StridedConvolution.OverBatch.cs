using System;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        /// <summary>
        /// Whether a strided 3x3 layer's backward runs over the batch (<see cref="BackwardOverBatch"/>) rather than a sample at a
        /// time: onto 4 cells or fewer with 2^17 weights or more, onto 16 cells or fewer with 2^18 or more. There one sample's
        /// gradients read the input gradient's packed weights and carry the weight gradient's sums through memory for a few
        /// cells each. KernelBench <c>strided-over-batch</c> (stride 2, padding 1, 32 samples: one thread's half of a batch of
        /// 64, both gradients; µs per sample, a sample at a time as training ran it / over the batch):
        /// <code>
        /// onto 2x2: 128->256 68.7 / 42.3 (1.62x)   256->512 284.6 / 143.9 (1.98x)   512->512 877.2 / 340.3 (2.58x)   64->128 1.00x
        /// onto 4x4: 256->512 571.1 / 458.0 (1.25x)  160->320 1.14x   128->256 1.09x   but 96->192 0.98x, 64->128 0.84x, 48->96 0.75x
        /// onto 8x8 and more: a sample at a time wins (64->128 0.65x, 128->256 0.93x, 32->64 0.52x; 7x7 256->512 1.01x)
        /// </code>
        /// The generator asks this at compile time (its tests hold its copy to this one); the answer depends on the shape only.
        /// </summary>
        public static bool BackwardPaysOverBatch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            if (inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0 || kernel != 3 || stride <= 1 || padding < 0
                || height + 2 * padding < kernel || width + 2 * padding < kernel) return false;
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            long weights = (long)outChannels * g.Taps;
            return g.Cells <= 4 ? weights >= 1 << 17 : g.Cells <= 16 && weights >= 1 << 18;
        }

        /// <summary>Floats of scratch <see cref="BackwardOverBatch"/> needs: a group of samples' columns and output gradients side by side.</summary>
        public static int BackwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            return OverBatchGroup(g) * g.Cells * (g.Taps + outChannels);
        }

        // Samples whose cells make one GEMM: 128 columns (32 samples of 2x2, 8 of 4x4), at least one sample.
        private static int OverBatchGroup(in Geometry g) => Math.Max(1, 128 / g.Cells);

        /// <summary>Floats of scratch <see cref="ForwardOverBatch"/> needs: as <see cref="BackwardOverBatch"/>, a group's columns and outputs.</summary>
        public static int ForwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            BackwardOverBatchScratch(inChannels, height, width, outChannels, kernel, stride, padding);

        /// <summary>
        /// The forward of a strided convolution over <paramref name="batch"/> samples at once, from the weights as they are
        /// [outChannels x inChannels x kernel x kernel]: y (batch x [outChannels x OH x OW]) = bias (or 0) + the convolution.
        /// A group of samples' cells side by side make the columns of one GEMM (weight · columns, started at the bias), so the
        /// weights are read once per group instead of once per sample, and nothing is prepared: what a training pass wants of a
        /// layer <see cref="BackwardPaysOverBatch"/> names. Sums in another order than <see cref="Forward"/>: the same values
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
            int group = OverBatchGroup(g);
            Require(scratch.Length >= group * cells * (taps + outChannels), nameof(scratch), group * cells * (taps + outChannels));

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first), columns = count * cells;
                var cols = scratch.Slice(0, taps * columns);
                var sums = scratch.Slice(taps * group * cells, outChannels * columns);
                for (int s = 0; s < count; s++)
                    Im2Col.ExpandInto(x.Slice((first + s) * sampleLength, sampleLength), inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, cols, columns, s * cells);
                for (int oc = 0; oc < outChannels; oc++) sums.Slice(oc * columns, columns).Fill(bias.IsEmpty ? 0f : bias[oc]);
                Gemm.Multiply(false, false, outChannels, columns, taps, weight, taps, cols, columns, sums, columns, accumulate: true);
                // Each sample's cells of every output channel, out of the group's rows.
                for (int s = 0; s < count; s++)
                {
                    var sample = y.Slice((first + s) * outputLength, outputLength);
                    for (int oc = 0; oc < outChannels; oc++) sums.Slice(oc * columns + s * cells, cells).CopyTo(sample.Slice(oc * cells, cells));
                }
            }
        }

        private static Geometry CheckedOverBatch(int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            if (g.PaddedHeight < kernel || g.PaddedWidth < kernel)
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel is larger than the padded input.");
            return g;
        }

        /// <summary>
        /// The backward of a strided convolution over <paramref name="batch"/> samples at once: weightGradient [outChannels x
        /// inChannels x kernel x kernel] += the weight gradient of every sample, inputGradient (batch x [inChannels x height x
        /// width]) = each sample's input gradient; either may be empty (not wanted). A group of samples' cells side by side
        /// make the inner dimension of one GEMM (d weight = dy · columnsᵀ, d columns = weightᵀ · dy), so the weights and their
        /// gradient are read and written once per group instead of once per sample. Sums in another order than
        /// <see cref="Backward"/>: the same values to rounding. The bias gradient is the caller's.
        /// </summary>
        public static void BackwardOverBatch(ReadOnlySpan<float> x, int batch, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding, Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch)
        {
            var g = CheckedOverBatch(batch, inChannels, height, width, outChannels, kernel, stride, padding);
            int cells = g.Cells, taps = g.Taps, sampleLength = inChannels * height * width;
            Require(x.Length >= batch * sampleLength, nameof(x), batch * sampleLength);
            Require(weight.Length >= outChannels * taps, nameof(weight), outChannels * taps);
            Require(outputGradient.Length >= batch * outChannels * cells, nameof(outputGradient), batch * outChannels * cells);
            if (!weightGradient.IsEmpty) Require(weightGradient.Length >= outChannels * taps, nameof(weightGradient), outChannels * taps);
            if (!inputGradient.IsEmpty) Require(inputGradient.Length >= batch * sampleLength, nameof(inputGradient), batch * sampleLength);
            int group = OverBatchGroup(g);
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
                    for (int s = 0; s < count; s++)
                        Im2Col.ExpandInto(x.Slice((first + s) * sampleLength, sampleLength), inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, cols, columns, s * cells);
                    Gemm.Multiply(false, true, outChannels, taps, columns, dys, columns, cols, columns, weightGradient, taps, accumulate: true);
                }
                if (!inputGradient.IsEmpty)
                {
                    Gemm.Multiply(true, false, taps, columns, outChannels, weight, taps, dys, columns, cols, columns, accumulate: false);
                    for (int s = 0; s < count; s++)
                    {
                        var dx = inputGradient.Slice((first + s) * sampleLength, sampleLength);
                        dx.Clear();
                        Im2Col.AccumulateBackFrom(cols, columns, s * cells, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, dx);
                    }
                }
            }
        }
    }
}
