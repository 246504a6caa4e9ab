using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels
{
    public static partial class DirectConvolution
    {
        /// <summary>
        /// Whether a stride-1 layer's backward runs over the batch (<see cref="BackwardOverBatch"/>) rather than a sample at a
        /// time: its weights take 1 MiB or more and its output is 64 cells or fewer (VGG's 256-512 channels on 8x8 down to
        /// 2x2). One sample's gradients there read or write every weight for a few cells each: KernelBench <c>backward</c> (one
        /// sample, load 14) gave 512 -> 512 on 2x2 9 GFLOP/s, on 4x4 27, 256 -> 512 on 4x4 31, where PyTorch runs one GEMM over
        /// the batch. The generator asks this at compile time; the answer depends on the shape only.
        /// </summary>
        public static bool BackwardPaysOverBatch(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            return g.OutHeight > 0 && g.OutWidth > 0 && (long)outChannels * g.Taps >= 1 << 18 && g.OutHeight * g.OutWidth <= 64;
        }

        /// <summary>Floats of scratch <see cref="BackwardOverBatch"/> needs: a group of samples' columns and output gradients.</summary>
        public static int BackwardOverBatchScratch(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            int group = SamplesPerGroup(g);
            return group * g.OutHeight * g.OutWidth * (g.Taps + outChannels);
        }

        // Samples whose cells make one GEMM: 128 columns where the output has 64 cells or fewer (2 samples of 8x8, 32 of 2x2).
        private static int SamplesPerGroup(in Geometry g) => Math.Max(1, 128 / (g.OutHeight * g.OutWidth));

        /// <summary>
        /// The backward of a stride-1 convolution over <paramref name="batch"/> samples at once: weightGradient [outChannels x
        /// taps] += the weight gradient of every sample, inputGradient (batch x [inChannels x height x width]) = each sample's
        /// input gradient; either may be empty (not wanted). A group of samples' cells side by side make the inner dimension
        /// of one GEMM (d weight = dy · columnsᵀ, d columns = weightᵀ · dy), so the weights and their gradient are read and
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

        private interface IColumnStep { static abstract void Apply(ref float column, ref float input); }
        private readonly struct Expanding : IColumnStep { public static void Apply(ref float column, ref float input) => column = input; }
        private readonly struct Folding : IColumnStep { public static void Apply(ref float column, ref float input) => input += column; }

        // Each tap's cell against the input value it reads (cells that read the padding are skipped), in tap order.
        private static void WalkColumns<TStep>(ref float cols, int rowLength, int offset, in Geometry g, ref float input) where TStep : struct, IColumnStep
        {
            int k = g.Kernel, p = g.Padding;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < k; ky++)
                {
                    for (int kx = 0; kx < k; kx++)
                    {
                        ref float row = ref Unsafe.Add(ref cols, ((ic * k + ky) * k + kx) * rowLength + offset);
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy + ky - p;
                            if (iy < 0 || iy >= g.Height) continue;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox + kx - p;
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
