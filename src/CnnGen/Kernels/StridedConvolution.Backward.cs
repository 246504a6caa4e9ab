using System;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        // The lanes path: the padded input, d y transposed, d weight transposed; the GEMM path (and the input gradient):
        // the im2col columns.
        private static int BackwardScratch(in Geometry g, int outChannels)
        {
            int lanes = (outChannels + 15) / 16 * 16;
            return Math.Max(g.PaddedLength + lanes * (g.Cells + g.Taps), g.Taps * g.Cells);
        }

        /// <summary>
        /// The backward pass of <see cref="Forward"/> for one sample: adds d weight [outChannels x inChannels x kernel x kernel]
        /// (PyTorch's layout) to <paramref name="weightGradient"/> unless it is empty (a frozen layer) and, when
        /// <paramref name="inputGradient"/> is not empty, writes d x [inChannels x height x width] to it.
        /// <paramref name="outputGradient"/> is d y, shaped like the forward's y; the bias gradient is left to the caller. The
        /// scratch is <see cref="ScratchLength"/> floats.
        /// </summary>
        /// <remarks>
        /// On the Vector512 path d weight has the output channels in the lanes: d y transposed to [16-channel block][cell][16]
        /// (16 x 16 register squares), tiles of 8 taps x 2 blocks, a broadcast of the padded input at <c>stride·cell</c> plus
        /// the tap's offset feeding one FMA per block, over passes of rows whose d y stays in L1; the sums stay transposed and
        /// go back in squares. No im2col for it. Elsewhere d weight is im2col + GEMM; d x is GEMM + col2im on every vector path.
        /// </remarks>
        public static void Backward(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, KernelPaths.Default);

        internal static void BackwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, KernelPath path)
        {
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
            int inLength = inChannels * height * width, weightLength = outChannels * g.Taps;
            Require(x.Length >= inLength, nameof(x), inLength);
            Require(weight.Length >= weightLength, nameof(weight), weightLength);
            Require(outputGradient.Length >= outChannels * g.Cells, nameof(outputGradient), outChannels * g.Cells);
            bool wantWeights = !weightGradient.IsEmpty, wantInput = !inputGradient.IsEmpty;
            if (wantWeights) Require(weightGradient.Length >= weightLength, nameof(weightGradient), weightLength);
            if (wantInput) Require(inputGradient.Length >= inLength, nameof(inputGradient), inLength);
            Require(scratch.Length >= BackwardScratch(g, outChannels), nameof(scratch), BackwardScratch(g, outChannels));

            if (path == KernelPath.Scalar)
            {
                BackwardScalar(x, weight, outputGradient, outChannels, weightGradient, inputGradient, g);
                return;
            }
            // d weight: channel lanes on Vector512, else im2col + GEMM (d weight += d y · columnsᵀ).
            var cols = scratch.Slice(0, g.Taps * g.Cells);
            if (wantWeights && path == KernelPath.Vector512 && Avx512F.IsSupported) WeightGradientLanes512(x, outputGradient, outChannels, weightGradient, scratch, g);
            else if (wantWeights)
            {
                Im2Col.Expand(x, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, cols);
                Gemm.Multiply(false, true, outChannels, g.Taps, g.Cells, outputGradient, g.Cells, cols, g.Cells, weightGradient, g.Taps, accumulate: true);
            }
            // d x: d columns = weightᵀ · d y, folded back onto the input (after d weight: the columns share its scratch).
            if (wantInput)
            {
                Gemm.Multiply(true, false, g.Taps, g.Cells, outChannels, weight, g.Taps, outputGradient, g.Cells, cols, g.Cells, accumulate: false);
                inputGradient.Slice(0, inLength).Clear();
                Im2Col.AccumulateBack(cols, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, inputGradient);
            }
        }

        private static void WeightGradientLanes512(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, int outChannels,
            Span<float> weightGradient, Span<float> scratch, in Geometry g)
        {
            const int V = 16;
            int lanes = (outChannels + V - 1) / V * V, cells = g.Cells;
            var padded = scratch.Slice(0, g.PaddedLength);
            var dyT = scratch.Slice(g.PaddedLength, lanes * cells);
            var transposed = scratch.Slice(g.PaddedLength + lanes * cells, lanes * g.Taps);
            DirectConvolution.TransposeToBlocks(outputGradient, outChannels, cells, dyT, V);
            Pad(x, padded, g);
            transposed.Clear();
            ref float p = ref MemoryMarshal.GetReference(padded);
            ref float dy = ref MemoryMarshal.GetReference(dyT);
            ref float wT = ref MemoryMarshal.GetReference(transposed);
            for (int block = 0; block < lanes;)
            {
                bool pair = block + 2 * V <= lanes;
                // Passes of rows whose d y (cells x lanes) stays in L1 while every tap group reads it again.
                int rows = Math.Max(1, 6 * 1024 / (g.OutWidth * (pair ? 2 * V : V)));
                for (int oy = 0; oy < g.OutHeight; oy += rows)
                {
                    int count = Math.Min(rows, g.OutHeight - oy);
                    if (pair) WeightPass512<C2>(ref p, ref dy, block, oy, count, ref wT, g);
                    else WeightPass512<C1>(ref p, ref dy, block, oy, count, ref wT, g);
                }
                block += pair ? 2 * V : V;
            }
            DirectConvolution.AddTransposedBack(transposed, outChannels, g.Taps, weightGradient, V);
        }

        // Rows [firstRow, firstRow + rows) of output cells for 1 or 2 blocks of 16 channels: 8 taps per tile, each broadcast
        // of the padded input (at stride·cell plus the tap's offset) feeding one FMA per block; sums added to d weightᵀ.
        private static void WeightPass512<TBlocks>(ref float x, ref float dyT, int block, int firstRow, int rows, ref float wT, in Geometry g)
            where TBlocks : struct, IConstant
        {
            const int V = 16;
            int s = g.Stride, pw = g.PaddedWidth, outWidth = g.OutWidth, taps = g.Taps, cells = g.Cells;
            ref float d0 = ref Unsafe.Add(ref dyT, block * cells + firstRow * outWidth * V);
            ref float d1 = ref Unsafe.Add(ref d0, TBlocks.Value > 1 ? V * cells : 0);
            ref float w0 = ref Unsafe.Add(ref wT, block * taps);
            ref float w1 = ref Unsafe.Add(ref w0, TBlocks.Value > 1 ? V * taps : 0);
            ref float x0 = ref Unsafe.Add(ref x, firstRow * s * pw);
            for (int tap = 0; tap < taps; tap += 8)
            {
                int count = Math.Min(8, taps - tap);
                // Taps past the last repeat it and are not added back.
                var offsets = new DirectConvolution.TapOffsets8(tap, count, g.Kernel, g.PaddedWidth, g.Plane);
                int o0 = offsets.O0, o1 = offsets.O1, o2 = offsets.O2, o3 = offsets.O3, o4 = offsets.O4, o5 = offsets.O5, o6 = offsets.O6, o7 = offsets.O7;
                var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                var b0 = a0; var b1 = a0; var b2 = a0; var b3 = a0; var b4 = a0; var b5 = a0; var b6 = a0; var b7 = a0;
                for (int oy = 0; oy < rows; oy++)
                {
                    ref float row = ref Unsafe.Add(ref x0, oy * s * pw);
                    ref float dRow0 = ref Unsafe.Add(ref d0, oy * outWidth * V);
                    ref float dRow1 = ref Unsafe.Add(ref d1, oy * outWidth * V);
                    nuint cell = 0;
                    for (int ox = 0; ox < outWidth; ox++, cell += V)
                    {
                        var d = Vector512.LoadUnsafe(ref dRow0, cell);
                        var e = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref dRow1, cell) : default;
                        ref float at = ref Unsafe.Add(ref row, ox * s);
                        var c = Vector512.Create(Unsafe.Add(ref at, o0)); a0 = Fused.MultiplyAdd(c, d, a0); if (TBlocks.Value > 1) b0 = Fused.MultiplyAdd(c, e, b0);
                        c = Vector512.Create(Unsafe.Add(ref at, o1)); a1 = Fused.MultiplyAdd(c, d, a1); if (TBlocks.Value > 1) b1 = Fused.MultiplyAdd(c, e, b1);
                        c = Vector512.Create(Unsafe.Add(ref at, o2)); a2 = Fused.MultiplyAdd(c, d, a2); if (TBlocks.Value > 1) b2 = Fused.MultiplyAdd(c, e, b2);
                        c = Vector512.Create(Unsafe.Add(ref at, o3)); a3 = Fused.MultiplyAdd(c, d, a3); if (TBlocks.Value > 1) b3 = Fused.MultiplyAdd(c, e, b3);
                        c = Vector512.Create(Unsafe.Add(ref at, o4)); a4 = Fused.MultiplyAdd(c, d, a4); if (TBlocks.Value > 1) b4 = Fused.MultiplyAdd(c, e, b4);
                        c = Vector512.Create(Unsafe.Add(ref at, o5)); a5 = Fused.MultiplyAdd(c, d, a5); if (TBlocks.Value > 1) b5 = Fused.MultiplyAdd(c, e, b5);
                        c = Vector512.Create(Unsafe.Add(ref at, o6)); a6 = Fused.MultiplyAdd(c, d, a6); if (TBlocks.Value > 1) b6 = Fused.MultiplyAdd(c, e, b6);
                        c = Vector512.Create(Unsafe.Add(ref at, o7)); a7 = Fused.MultiplyAdd(c, d, a7); if (TBlocks.Value > 1) b7 = Fused.MultiplyAdd(c, e, b7);
                    }
                }
                DirectConvolution.AddTaps(ref Unsafe.Add(ref w0, tap * V), count, a0, a1, a2, a3, a4, a5, a6, a7);
                if (TBlocks.Value > 1) DirectConvolution.AddTaps(ref Unsafe.Add(ref w1, tap * V), count, b0, b1, b2, b3, b4, b5, b6, b7);
            }
        }

        /// <summary>The scalar backward path: the definition, term by term.</summary>
        private static void BackwardScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy, int outChannels,
            Span<float> weightGradient, Span<float> inputGradient, in Geometry g)
        {
            int k = g.Kernel;
            bool wantInput = !inputGradient.IsEmpty, wantWeights = !weightGradient.IsEmpty;
            if (wantInput) inputGradient.Slice(0, g.InChannels * g.Height * g.Width).Clear();
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int ic = 0; ic < g.InChannels; ic++)
                {
                    for (int ky = 0; ky < k; ky++)
                    {
                        for (int kx = 0; kx < k; kx++)
                        {
                            int wAt = ((oc * g.InChannels + ic) * k + ky) * k + kx;
                            float w = weight[wAt], sum = 0f;
                            for (int oy = 0; oy < g.OutHeight; oy++)
                            {
                                int iy = oy * g.Stride + ky - g.Padding;
                                if ((uint)iy >= (uint)g.Height) continue;
                                for (int ox = 0; ox < g.OutWidth; ox++)
                                {
                                    int ix = ox * g.Stride + kx - g.Padding;
                                    if ((uint)ix >= (uint)g.Width) continue;
                                    float d = dy[(oc * g.OutHeight + oy) * g.OutWidth + ox];
                                    int xAt = (ic * g.Height + iy) * g.Width + ix;
                                    sum += d * x[xAt];
                                    if (wantInput) inputGradient[xAt] += d * w;
                                }
                            }
                            if (wantWeights) weightGradient[wAt] += sum;
                        }
                    }
                }
            }
        }
    }
}
