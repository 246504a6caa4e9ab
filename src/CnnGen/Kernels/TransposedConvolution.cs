using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// PyTorch's <c>ConvTranspose2d</c> (groups 1, dilation 1) for one sample, forward and backward: x is
    /// [inChannels x H x W], the weight PyTorch's [inChannels x outChannels x kh x kw], y [outChannels x OH x OW].
    /// </summary>
    /// <remarks>
    /// A transposed convolution is the input gradient of the convolution it transposes (the one from OH x OW to H x W
    /// with the same kernel, stride and padding). Forward: cols [outChannels·kh·kw x H·W] = Wᵀ · x with <see cref="Gemm"/>,
    /// then col2im into y started at the bias. Backward: cols = im2col(dy); dW += x · colsᵀ; dx = W · cols; db += Σ dy; or, for
    /// stride-2 layers with a square kernel (<see cref="DifferentiatesAsConvolution"/>), dx (and dW on larger inputs) by
    /// the strided convolution's own kernels. 4x4 stride-2 layers from up to 64 channels onto fewer than 8 run forward by
    /// <see cref="TransposedPhaseRows"/> instead of the product and col2im.
    /// The scratch (<see cref="ScratchLength"/> floats) holds the columns.
    /// </remarks>
    public static class TransposedConvolution
    {
        /// <summary>
        /// Floats of scratch <see cref="Forward"/>, <see cref="ForwardPrepared"/>, <see cref="Backward"/> and
        /// <see cref="BackwardPrepared"/> need: outChannels·kh·kw·H·W, or the Winograd kernel's, (a layer that
        /// <see cref="DifferentiatesAsConvolution"/>) the strided convolution's or <see cref="TransposedPhaseRows"/>' padded
        /// input where longer.
        /// </summary>
        public static int ScratchLength(in TransposedConvolutionGeometry g) =>
            Math.Max(Math.Max(Math.Max(g.OutChannels * g.KernelHeight * g.KernelWidth * g.InHeight * g.InWidth, TransposedWinogradConvolution.Pays(g) ? WinogradLayout(g).ScratchLength : 0),
                DifferentiatesAsConvolution(g) ? StridedConvolution.ScratchLength(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight) : 0),
                TransposedPhaseRows.Handles(g) ? TransposedPhaseRows.ScratchLength(g) : 0);

        /// <summary>Whether the layers <see cref="TransposedPhaseRows"/> handles run by it (benchmarks turn it off to compare).</summary>
        internal static bool PhaseRows { get; set; } = true;

        /// <summary>
        /// Floats of the weights <see cref="Prepare"/> writes for <see cref="ForwardPrepared"/>: the Winograd filters of a
        /// 4x4 stride-2 layer with padding 1 where that kernel pays on this machine (AVX-512), else 0 (nothing to prepare: the
        /// product and col2im read the weights as they are).
        /// </summary>
        public static int PreparedLength(in TransposedConvolutionGeometry g) => TransposedWinogradConvolution.Pays(g) ? WinogradLayout(g).FiltersLength : 0;

        /// <summary>
        /// The weights [inChannels x outChannels x kh x kw] prepared for <see cref="ForwardPrepared"/> into
        /// <paramref name="prepared"/> (<see cref="PreparedLength"/> floats; an empty span when that is 0). Once per change of
        /// the weights; allocates nothing.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or <paramref name="prepared"/> is not <see cref="PreparedLength"/> floats.</exception>
        public static void Prepare(in TransposedConvolutionGeometry g, ReadOnlySpan<float> weight, Span<float> prepared)
        {
            int length = PreparedLength(g);
            RequirePreparing(g, weight, prepared.Length, length, "The prepared weights");
            if (length > 0) TransposedWinogradConvolution.TransformFilters(weight, prepared, WinogradLayout(g));
        }

        // A geometry made by its constructor, the weights whole, and prepared weights of exactly the length this machine's kernels take.
        private static void RequirePreparing(in TransposedConvolutionGeometry g, ReadOnlySpan<float> weight, int prepared, int length, string what)
        {
            Adjoint(g);
            GroupedConvolution.Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            RequireLength(prepared, length, what, "prepared");
        }

        // Prepared weights of exactly the length this machine's kernels take.
        private static void RequireLength(int actual, int length, string what, string parameter)
        {
            if (actual != length) throw new ArgumentException($"{what} take {length} floats on this machine, not {actual}.", parameter);
        }

        /// <summary>
        /// <see cref="Forward"/> with the weights also prepared by <see cref="Prepare"/>: by Winograd's method where they
        /// were (<paramref name="prepared"/> not empty), by the product and col2im on <paramref name="weight"/> where not. The
        /// two agree to within rounding (1e-5 of the sum of the products' magnitudes).
        /// </summary>
        public static void ForwardPrepared(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> prepared,
            ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch)
        {
            if (prepared.IsEmpty)
            {
                Forward(g, x, weight, bias, y, scratch);
                return;
            }
            Adjoint(g);
            if (!TransposedWinogradConvolution.Handles(g) || !TransposedWinogradConvolution.Available)
                throw new ArgumentException("Prepared weights are for 4x4 stride-2 layers with padding 1 on the Vector512 path; this layer takes none.", nameof(prepared));
            var layout = WinogradLayout(g);
            GroupedConvolution.Require(prepared.Length >= layout.FiltersLength, nameof(prepared), layout.FiltersLength, prepared.Length);
            TransposedWinogradConvolution.Forward(x, prepared, bias, y, scratch, layout); // checks x, bias, y and scratch against the layout
        }

        private static LaneTileLayout WinogradLayout(in TransposedConvolutionGeometry g) => TransposedWinogradConvolution.LayoutFor(g);

        /// <summary>
        /// y[oc, iy·sh − ph + ky, ix·sw − pw + kx] += x[ic, iy, ix] · w[ic, oc, ky, kx] over every input cell, tap and input
        /// channel (contributions outside y dropped), started at bias[oc]; an empty <paramref name="bias"/> means no bias.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor (the scratch than <see cref="ScratchLength"/>), or the geometry is uninitialized.</exception>
        public static void Forward(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch) =>
            ForwardOn(g, x, weight, bias, y, scratch, KernelPaths.Default);

        internal static void ForwardOn(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var adjoint = Adjoint(g);
            GroupedConvolution.Require(x.Length >= g.InLength, nameof(x), g.InLength, x.Length);
            GroupedConvolution.Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            if (!bias.IsEmpty) GroupedConvolution.Require(bias.Length >= g.OutChannels, nameof(bias), g.OutChannels, bias.Length);
            GroupedConvolution.Require(y.Length >= g.OutLength, nameof(y), g.OutLength, y.Length);
            GroupedConvolution.Require(scratch.Length >= ScratchLength(g), nameof(scratch), ScratchLength(g), scratch.Length);

            int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth, rows = g.OutChannels * g.KernelHeight * g.KernelWidth;
            if (ProjectsOneCell(g))
            {
                ProjectCell(g, x, weight, bias, y, path);
                return;
            }
            if (TransposedPhaseRows.Handles(g) && PhaseRows)
            {
                TransposedPhaseRows.Forward(g, x, weight, bias, y, scratch, path);
                return;
            }
            var cols = scratch.Slice(0, rows * inPlane);
            // cols [rows x inPlane] = Wᵀ [rows x inChannels] · x [inChannels x inPlane]
            GroupedConvolution.Multiply(path, true, false, rows, inPlane, g.InChannels, weight, rows, x, inPlane, cols, inPlane, accumulate: false);
            if (Tiles(g)) PlaceTiles(g, cols, bias, y, path);
            else ScatterColumns(g, adjoint, cols, bias, y);
        }

        /// <summary>One input cell and no padding (a DCGAN generator projecting its code onto the first maps): y is kh x kw maps.</summary>
        internal static bool ProjectsOneCell(in TransposedConvolutionGeometry g) =>
            g.InHeight == 1 && g.InWidth == 1 && g.PaddingHeight == 0 && g.PaddingWidth == 0 && g.OutputPaddingHeight == 0 && g.OutputPaddingWidth == 0;

        // y = bias + Σ x[ic]·W[ic]: each input channel's weight row [outChannels x kh x kw] is already in y's layout, so the
        // rows are added in scaled, in order of the input channels, with no columns and no col2im (which packed the whole
        // weight for a product of one column: DCGAN's 100 -> 512 onto 4x4 17% of its generator's call). A chunk of 16 vectors
        // of y stays in registers through every input channel (the same sums in the same order): added row by row, y (32 KB
        // for DCGAN) went through the cache 100 times beside the weights' stream, 300 µs of its generator's 3 ms (perf).
        private static void ProjectCell(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
            DirectConvolution.KernelPath path)
        {
            int plane = g.KernelHeight * g.KernelWidth, length = g.OutChannels * plane, channels = g.InChannels;
            for (int oc = 0; oc < g.OutChannels; oc++) y.Slice(oc * plane, plane).Fill(bias.IsEmpty ? 0f : bias[oc]);
            ref float target = ref MemoryMarshal.GetReference(y);
            ref float rows = ref MemoryMarshal.GetReference(weight);
            ref float scales = ref MemoryMarshal.GetReference(x);
            int i = 0;
            if (path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated)
            {
                for (; i <= length - 256; i += 256) ProjectChunk512(ref scales, channels, ref Unsafe.Add(ref rows, i), length, ref Unsafe.Add(ref target, i));
                for (; i <= length - 16; i += 16)
                {
                    var sum = Vector512.LoadUnsafe(ref target, (nuint)i);
                    for (int ic = 0; ic < channels; ic++)
                        sum = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref rows, (nuint)((nint)ic * length + i)), Vector512.Create(Unsafe.Add(ref scales, ic)), sum);
                    sum.StoreUnsafe(ref target, (nuint)i);
                }
            }
            if (path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated)
            {
                for (; i <= length - 8; i += 8)
                {
                    var sum = Vector256.LoadUnsafe(ref target, (nuint)i);
                    for (int ic = 0; ic < channels; ic++)
                        sum = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref rows, (nuint)((nint)ic * length + i)), Vector256.Create(Unsafe.Add(ref scales, ic)), sum);
                    sum.StoreUnsafe(ref target, (nuint)i);
                }
            }
            for (; i < length; i++)
            {
                float sum = Unsafe.Add(ref target, i);
                for (int ic = 0; ic < channels; ic++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref rows, (nint)ic * length + i), Unsafe.Add(ref scales, ic), sum);
                Unsafe.Add(ref target, i) = sum;
            }
        }

        // 256 floats of y (from target) through every input channel's row (from rows, a row every length floats).
        private static void ProjectChunk512(ref float scales, int channels, ref float rows, int length, ref float target)
        {
            var a0 = Vector512.LoadUnsafe(ref target, 0); var a1 = Vector512.LoadUnsafe(ref target, 16);
            var a2 = Vector512.LoadUnsafe(ref target, 32); var a3 = Vector512.LoadUnsafe(ref target, 48);
            var a4 = Vector512.LoadUnsafe(ref target, 64); var a5 = Vector512.LoadUnsafe(ref target, 80);
            var a6 = Vector512.LoadUnsafe(ref target, 96); var a7 = Vector512.LoadUnsafe(ref target, 112);
            var a8 = Vector512.LoadUnsafe(ref target, 128); var a9 = Vector512.LoadUnsafe(ref target, 144);
            var a10 = Vector512.LoadUnsafe(ref target, 160); var a11 = Vector512.LoadUnsafe(ref target, 176);
            var a12 = Vector512.LoadUnsafe(ref target, 192); var a13 = Vector512.LoadUnsafe(ref target, 208);
            var a14 = Vector512.LoadUnsafe(ref target, 224); var a15 = Vector512.LoadUnsafe(ref target, 240);
            for (int ic = 0; ic < channels; ic++)
            {
                ref float row = ref Unsafe.Add(ref rows, (nint)ic * length);
                var s = Vector512.Create(Unsafe.Add(ref scales, ic));
                a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 0), s, a0); a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 16), s, a1);
                a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 32), s, a2); a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 48), s, a3);
                a4 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 64), s, a4); a5 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 80), s, a5);
                a6 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 96), s, a6); a7 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 112), s, a7);
                a8 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 128), s, a8); a9 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 144), s, a9);
                a10 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 160), s, a10); a11 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 176), s, a11);
                a12 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 192), s, a12); a13 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 208), s, a13);
                a14 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 224), s, a14); a15 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref row, 240), s, a15);
            }
            a0.StoreUnsafe(ref target, 0); a1.StoreUnsafe(ref target, 16); a2.StoreUnsafe(ref target, 32); a3.StoreUnsafe(ref target, 48);
            a4.StoreUnsafe(ref target, 64); a5.StoreUnsafe(ref target, 80); a6.StoreUnsafe(ref target, 96); a7.StoreUnsafe(ref target, 112);
            a8.StoreUnsafe(ref target, 128); a9.StoreUnsafe(ref target, 144); a10.StoreUnsafe(ref target, 160); a11.StoreUnsafe(ref target, 176);
            a12.StoreUnsafe(ref target, 192); a13.StoreUnsafe(ref target, 208); a14.StoreUnsafe(ref target, 224); a15.StoreUnsafe(ref target, 240);
        }

        // The columns added into y started at the bias, tap by tap (windows may overlap).
        internal static void ScatterColumns(in TransposedConvolutionGeometry g, in ConvolutionGeometry adjoint, ReadOnlySpan<float> cols, ReadOnlySpan<float> bias, Span<float> y)
        {
            int outPlane = g.OutHeight * g.OutWidth;
            for (int oc = 0; oc < g.OutChannels; oc++) y.Slice(oc * outPlane, outPlane).Fill(bias.IsEmpty ? 0f : bias[oc]);
            ConvolutionColumns.AccumulateBack(cols, g.OutChannels, adjoint, y);
        }

        /// <summary>
        /// Whether the windows tile the output (kernel = stride, no padding, as a U-Net's 2x2 stride-2 up-convolution): then each
        /// output cell takes one column value, or none in the output padding.
        /// </summary>
        internal static bool Tiles(in TransposedConvolutionGeometry g) =>
            g.KernelHeight == g.StrideHeight && g.KernelWidth == g.StrideWidth && g.PaddingHeight == 0 && g.PaddingWidth == 0;

        /// <summary>
        /// y = bias + the one column value of each cell, written in place (what <see cref="ScatterColumns"/> adds to the bias,
        /// the same single addition): each output row is a tap row's values interleaved, two taps wide with vectors
        /// (two-source permutes of 16 or 8 input cells with Vector512, <c>VectorRows.Interleave</c> of 8 with Vector256, the
        /// last chunk overlapping the one before), one by one otherwise. KernelBench <c>transposed</c> has the figures against the scatter.
        /// </summary>
        internal static void PlaceTiles(in TransposedConvolutionGeometry g, ReadOnlySpan<float> cols, ReadOnlySpan<float> bias, Span<float> y, DirectConvolution.KernelPath path)
        {
            int height = g.InHeight, width = g.InWidth, inPlane = height * width, kh = g.KernelHeight, kw = g.KernelWidth;
            int outHeight = g.OutHeight, outWidth = g.OutWidth, outPlane = outHeight * outWidth;
            ref float source = ref MemoryMarshal.GetReference(cols);
            ref float target = ref MemoryMarshal.GetReference(y);
            bool pairs = kw == 2 && width >= 8 && path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Avx512F.IsSupported;
            // Rows of 8 to 15 cells: lane i of the pair (evens, odds) e0 o0 e1 o1 ... from the low halves, one permute.
            var lowPairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                float b = bias.IsEmpty ? 0f : bias[oc];
                var b8 = Vector256.Create(b);
                ref float plane = ref Unsafe.Add(ref target, (nint)oc * outPlane);
                for (int ky = 0; ky < kh; ky++)
                {
                    ref float taps = ref Unsafe.Add(ref source, (nint)(oc * kh + ky) * kw * inPlane); // tap (ky, 0)'s column row; (ky, kx) kx·inPlane on
                    for (int iy = 0; iy < height; iy++)
                    {
                        ref float row = ref Unsafe.Add(ref plane, (iy * kh + ky) * outWidth);
                        ref float first = ref Unsafe.Add(ref taps, iy * width);
                        if (pairs && wide)
                        {
                            // 16 cells of each tap row at a time, or 8 (rows of 8 to 15 cells), each output vector one two-source permute.
                            ref float second = ref Unsafe.Add(ref first, inPlane);
                            var b16 = Vector512.Create(b);
                            if (width >= 16)
                            {
                                for (int ix = 0; ; ix += 16)
                                {
                                    if (ix > width - 16) ix = width - 16;
                                    VectorRows.Interleave(b16 + Vector512.LoadUnsafe(ref first, (nuint)ix), b16 + Vector512.LoadUnsafe(ref second, (nuint)ix), ref Unsafe.Add(ref row, 2 * ix));
                                    if (ix == width - 16) break;
                                }
                                continue;
                            }
                            for (int ix = 0; ; ix += 8)
                            {
                                if (ix > width - 8) ix = width - 8;
                                var evens = (b8 + Vector256.LoadUnsafe(ref first, (nuint)ix)).ToVector512Unsafe();
                                var odds = (b8 + Vector256.LoadUnsafe(ref second, (nuint)ix)).ToVector512Unsafe();
                                Avx512F.PermuteVar16x32x2(evens, lowPairs, odds).StoreUnsafe(ref row, (nuint)(2 * ix));
                                if (ix == width - 8) break;
                            }
                            continue;
                        }
                        if (pairs)
                        {
                            ref float second = ref Unsafe.Add(ref first, inPlane);
                            for (int ix = 0; ; ix += 8)
                            {
                                if (ix > width - 8) ix = width - 8;
                                VectorRows.Interleave(b8 + Vector256.LoadUnsafe(ref first, (nuint)ix), b8 + Vector256.LoadUnsafe(ref second, (nuint)ix), ref Unsafe.Add(ref row, 2 * ix));
                                if (ix == width - 8) break;
                            }
                            continue;
                        }
                        for (int ix = 0; ix < width; ix++)
                            for (int kx = 0; kx < kw; kx++)
                                Unsafe.Add(ref row, ix * kw + kx) = b + Unsafe.Add(ref first, kx * inPlane + ix);
                    }
                }
                // The output padding: columns right of the tiles, rows below them, the bias alone.
                if (outWidth > width * kw)
                    for (int oy = 0; oy < height * kh; oy++) MemoryMarshal.CreateSpan(ref Unsafe.Add(ref plane, oy * outWidth + width * kw), outWidth - width * kw).Fill(b);
                if (outHeight > height * kh) MemoryMarshal.CreateSpan(ref Unsafe.Add(ref plane, height * kh * outWidth), (outHeight - height * kh) * outWidth).Fill(b);
            }
        }

        /// <summary>
        /// Whether the layer's weight gradient pays summed over the batch (<see cref="WeightGradientOverBatch"/>) rather than a
        /// sample at a time: stride 2, a square kernel and equal paddings, on inputs of 16 cells or fewer, where one sample's
        /// weight gradient is a product of 16 terms per weight that reads and writes the whole gradient. KernelBench
        /// <c>transposed-weights-batch</c> (32 samples, µs a sample, a sample at a time / over the batch): from 4x4 512 -> 256
        /// 690 / 416, 1024 -> 512 4,081 / 1,849, 128 -> 64 58.5 / 34.1, 2x2 kernel 256 -> 128 35.8 / 26.9; from 8x8 even
        /// (256 -> 128 445 / 407, 64 -> 32 40.6 / 40.1, 3x3 kernel 128 -> 64 63.2 / 66.7), from 16x16 0.63-0.82x. And a one-cell
        /// input without padding (a generator's projection of its code, <see cref="ProjectsOneCell"/>), whose weight gradient a
        /// sample at a time is an outer product that reads and writes the whole gradient: over the batch it is one product with
        /// the samples as its inner dimension. The generator asks this at compile time; the answer depends on the shape only.
        /// </summary>
        public static bool WeightGradientPaysOverBatch(in TransposedConvolutionGeometry g) =>
            (g.StrideHeight == 2 && g.StrideWidth == 2 && g.KernelHeight == g.KernelWidth && g.PaddingHeight == g.PaddingWidth && g.InHeight * g.InWidth <= 16)
            || ProjectsOneCell(g);

        /// <summary>Floats of scratch <see cref="WeightGradientOverBatch"/> needs (a group of samples' columns and inputs side by side; none for a one-cell input).</summary>
        public static int WeightGradientOverBatchScratch(in TransposedConvolutionGeometry g)
        {
            if (ProjectsOneCell(g)) return 0;
            RequireConvolutionShape(g);
            return StridedConvolution.BackwardOverBatchScratch(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight);
        }

        /// <summary>
        /// weightGradient [inChannels x outChannels x kh x kw] += the weight gradient of <paramref name="batch"/> samples (x and
        /// <paramref name="outputGradient"/> batch x one sample's tensor each): the weight gradient of the convolution the layer
        /// transposes, a group of samples' cells side by side as one product's inner dimension, so the gradient is read and
        /// written once a group instead of once a sample (<see cref="StridedConvolution.BackwardOverBatch"/>). For layers with a
        /// square kernel and equal strides and paddings; the bias gradient and the input gradient are <see cref="Backward"/>'s
        /// (an empty weight gradient). Sums in another order than <see cref="Backward"/>: the same values to rounding. A one-cell
        /// input without padding takes any kernel and stride: d weight [inChannels x outChannels·kh·kw] += xᵀ · dy over the samples.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensors, the scratch than <see cref="WeightGradientOverBatchScratch"/>, or the layer's kernel, strides or paddings differ between height and width (beyond a one-cell input).</exception>
        public static void WeightGradientOverBatch(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, int batch,
            Span<float> weightGradient, Span<float> scratch)
        {
            bool oneCell = ProjectsOneCell(g);
            if (!oneCell) RequireConvolutionShape(g);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
            GroupedConvolution.Require(x.Length >= (long)batch * g.InLength, nameof(x), batch * g.InLength, x.Length);
            GroupedConvolution.Require(weightGradient.Length >= g.WeightLength, nameof(weightGradient), g.WeightLength, weightGradient.Length);
            if (oneCell)
            {
                // x [batch x inChannels], dy [batch x outChannels·kh·kw]: each sample's output map is its weight row's layout.
                GroupedConvolution.Require(outputGradient.Length >= (long)batch * g.OutLength, nameof(outputGradient), batch * g.OutLength, outputGradient.Length);
                GroupedConvolution.Multiply(KernelPaths.Default, true, false, g.InChannels, g.OutLength, batch, x, g.InChannels, outputGradient, g.OutLength,
                    weightGradient, g.OutLength, accumulate: true);
                return;
            }
            // The adjoint's input is dy, its output's gradient x.
            StridedConvolution.BackwardOverBatch(outputGradient, batch, g.OutChannels, g.OutHeight, g.OutWidth, default, x, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight, weightGradient, default, scratch);
        }

        private static void RequireConvolutionShape(in TransposedConvolutionGeometry g)
        {
            Adjoint(g);
            if (g.KernelHeight != g.KernelWidth || g.StrideHeight != g.StrideWidth || g.PaddingHeight != g.PaddingWidth)
                throw new ArgumentException($"Summing the weight gradient over the batch takes a square kernel and equal strides and paddings, not {g}.", nameof(g));
        }

        /// <summary>
        /// Floats of the weights <see cref="PrepareInputGradient"/> writes for <see cref="BackwardPrepared"/>: for a stride-2
        /// layer with a square kernel and equal paddings, the weights as the convolution it transposes reads them (packed for
        /// <see cref="StridedConvolution"/>'s kernels, or their Winograd filters, and a bias of zeros); else 0.
        /// </summary>
        public static int InputGradientWeightsLength(in TransposedConvolutionGeometry g) =>
            DifferentiatesAsConvolution(g) ? StridedConvolution.PreparedLength(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight) : 0;

        /// <summary>
        /// The weights prepared for <see cref="BackwardPrepared"/>'s input gradient into <paramref name="prepared"/>
        /// (<see cref="InputGradientWeightsLength"/> floats; an empty span when that is 0): once per backward pass, not once per sample.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or <paramref name="prepared"/> is not <see cref="InputGradientWeightsLength"/> floats.</exception>
        public static void PrepareInputGradient(in TransposedConvolutionGeometry g, ReadOnlySpan<float> weight, Span<float> prepared)
        {
            int length = InputGradientWeightsLength(g);
            RequirePreparing(g, weight, prepared.Length, length, "The input gradient's prepared weights");
            if (length > 0)
                StridedConvolution.Prepare(weight.Slice(0, g.WeightLength), default, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight, prepared);
        }

        /// <summary>
        /// Whether the layer's gradients run as the convolution it transposes (from the output's size back to the input's, the
        /// same kernel, stride and padding; the weights [inChannels x outChannels x k x k] are that convolution's in PyTorch's
        /// layout): d x is its forward on d y, and on inputs of more than 64 cells (<see cref="WeightGradientAsConvolution"/>) d
        /// weight is its weight gradient with d y as its input and x as its output's gradient, both by
        /// <see cref="StridedConvolution"/>'s kernels (no im2col on the vector paths). Stride 2 with a square kernel and equal
        /// paddings: DCGAN's 4x4 up-convolutions, U-Net's 2x2 and the 3x3 ones with output padding 1.
        /// </summary>
        internal static bool DifferentiatesAsConvolution(in TransposedConvolutionGeometry g) =>
            BackwardByConvolution && g.StrideHeight == 2 && g.StrideWidth == 2 && g.KernelHeight == g.KernelWidth && g.PaddingHeight == g.PaddingWidth;

        /// <summary>
        /// Off: every transposed layer's gradients by im2col of d y and two products (KernelBench's A/B knob; the lengths above
        /// follow it, so set it before sizing anything).
        /// </summary>
        internal static bool BackwardByConvolution { get; set; } = true;

        /// <summary>
        /// The backward pass of <see cref="Forward"/> for one sample, from dy = <paramref name="outputGradient"/>:
        /// <paramref name="weightGradient"/> and <paramref name="biasGradient"/> accumulate (+=) this sample's
        /// contribution (an empty bias gradient is skipped); <paramref name="inputGradient"/> is overwritten with dL/dx, or
        /// skipped when empty.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the scratch shorter than <see cref="ScratchLength"/>.</exception>
        public static void Backward(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch) =>
            BackwardOn(g, x, weight, outputGradient, weightGradient, biasGradient, inputGradient, scratch, default, KernelPaths.Default);

        /// <summary>
        /// <see cref="Backward"/> with the input gradient's weights prepared once for the pass by <see cref="PrepareInputGradient"/>
        /// (an empty <paramref name="inputGradientWeights"/>: prepared per call, as <see cref="Backward"/>).
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, the scratch shorter than <see cref="ScratchLength"/>, or the prepared weights not <see cref="InputGradientWeightsLength"/> floats.</exception>
        public static void BackwardPrepared(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> inputGradientWeights,
            ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch)
        {
            if (!inputGradientWeights.IsEmpty)
                RequireLength(inputGradientWeights.Length, InputGradientWeightsLength(g), "The input gradient's prepared weights", nameof(inputGradientWeights));
            BackwardOn(g, x, weight, outputGradient, weightGradient, biasGradient, inputGradient, scratch, inputGradientWeights, KernelPaths.Default);
        }

        internal static void BackwardOn(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path) =>
            BackwardOn(g, x, weight, outputGradient, weightGradient, biasGradient, inputGradient, scratch, default, path);

        private static void BackwardOn(in TransposedConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientWeights,
            DirectConvolution.KernelPath path)
        {
            var adjoint = Adjoint(g);
            GroupedConvolution.Require(x.Length >= g.InLength, nameof(x), g.InLength, x.Length);
            GroupedConvolution.Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            GroupedConvolution.Require(outputGradient.Length >= g.OutLength, nameof(outputGradient), g.OutLength, outputGradient.Length);
            // An empty weight gradient skips it (a frozen layer that only passes the input gradient on).
            if (!weightGradient.IsEmpty) GroupedConvolution.Require(weightGradient.Length >= g.WeightLength, nameof(weightGradient), g.WeightLength, weightGradient.Length);
            if (!biasGradient.IsEmpty) GroupedConvolution.Require(biasGradient.Length >= g.OutChannels, nameof(biasGradient), g.OutChannels, biasGradient.Length);
            if (!inputGradient.IsEmpty) GroupedConvolution.Require(inputGradient.Length >= g.InLength, nameof(inputGradient), g.InLength, inputGradient.Length);
            GroupedConvolution.Require(scratch.Length >= ScratchLength(g), nameof(scratch), ScratchLength(g), scratch.Length);

            int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth, rows = g.OutChannels * g.KernelHeight * g.KernelWidth;
            if (!biasGradient.IsEmpty)
            {
                ref float dy = ref MemoryMarshal.GetReference(outputGradient);
                for (int oc = 0; oc < g.OutChannels; oc++) biasGradient[oc] += VectorRows.Sum(ref Unsafe.Add(ref dy, oc * outPlane), outPlane, path);
            }
            bool convolution = DifferentiatesAsConvolution(g);
            bool weightsByColumns = !weightGradient.IsEmpty && !(convolution && WeightGradientAsConvolution(g));
            if (!weightGradient.IsEmpty && !weightsByColumns)
                StridedConvolution.BackwardOn(outputGradient, g.OutChannels, g.OutHeight, g.OutWidth, weight, x, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight,
                    weightGradient, default, scratch, path);
            if (weightsByColumns || (!inputGradient.IsEmpty && !convolution))
            {
                var cols = scratch.Slice(0, rows * inPlane);
                ConvolutionColumns.Expand(outputGradient, g.OutChannels, adjoint, cols);
                // dW [inChannels x rows] += x [inChannels x inPlane] · colsᵀ
                if (weightsByColumns)
                    GroupedConvolution.Multiply(path, false, true, g.InChannels, rows, inPlane, x, inPlane, cols, inPlane, weightGradient, rows, accumulate: true);
                // dx [inChannels x inPlane] = W [inChannels x rows] · cols
                if (!inputGradient.IsEmpty && !convolution)
                    GroupedConvolution.Multiply(path, false, false, g.InChannels, inPlane, rows, weight, rows, cols, inPlane, inputGradient, inPlane, accumulate: false);
            }
            if (inputGradient.IsEmpty || !convolution) return;
            // dx = the adjoint convolution of dy (after the columns: its kernels take the scratch from the start)
            if (inputGradientWeights.IsEmpty)
                StridedConvolution.ForwardOn(outputGradient, g.OutChannels, g.OutHeight, g.OutWidth, weight, default, g.InChannels, g.KernelHeight, g.StrideHeight, g.PaddingHeight,
                    inputGradient, scratch, relu: false, path);
            else
                StridedConvolution.ForwardPreparedOn(outputGradient, g.OutChannels, g.OutHeight, g.OutWidth, inputGradientWeights, g.InChannels, g.KernelHeight, g.StrideHeight,
                    g.PaddingHeight, inputGradient, scratch, relu: false, path);
        }

        /// <summary>
        /// Whether d weight of a layer that <see cref="DifferentiatesAsConvolution"/> runs as the adjoint's weight gradient: on
        /// inputs of more than 64 cells. On fewer each weight takes few products and the lanes kernel's passes cost more than
        /// the columns (KernelBench <c>transposed-backward</c>: 512x4x4 -> 256 1,103 against 2,124 µs by columns / lanes,
        /// 256x8x8 -> 128 456 / 593; 128x16x16 -> 64 500 / 402, 64x32x32 -> 32 559 / 353).
        /// </summary>
        internal static bool WeightGradientAsConvolution(in TransposedConvolutionGeometry g) => g.InHeight * g.InWidth > 64;

        // The convolution this one transposes: from OH x OW (outChannels) to H x W, same kernel, stride and padding.
        internal static ConvolutionGeometry Adjoint(in TransposedConvolutionGeometry g)
        {
            if (g.InChannels <= 0)
                throw new ArgumentException("The geometry is uninitialized; create it with the TransposedConvolutionGeometry constructor.", nameof(g));
            var adjoint = new ConvolutionGeometry(g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth,
                g.StrideHeight, g.StrideWidth, g.PaddingHeight, g.PaddingWidth, 1, 1, 1);
            System.Diagnostics.Debug.Assert(adjoint.OutHeight == g.InHeight && adjoint.OutWidth == g.InWidth);
            return adjoint;
        }
    }
}
