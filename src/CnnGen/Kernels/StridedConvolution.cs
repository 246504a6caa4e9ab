using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A strided convolution (square kernel, stride 2 to 4, no groups, no dilation) computed directly, for evaluation: the
    /// fused forward pass of the generated <c>Conv2d</c> layers whose stride is not 1.
    /// </summary>
    /// <remarks>
    /// <para>
    /// With the output channels in the vector lanes a stride costs nothing: the weights are packed [16-channel block][tap][16
    /// channels], and each fused multiply-add is one packed weight vector times one input value broadcast from the padded
    /// planes, at <c>stride·cell</c> along the row. A tile is 1 or 2 channel blocks x up to 8 output cells of one row,
    /// started at the bias, taps summed in PyTorch's order (input channel, ky, kx); with two blocks each broadcast feeds two
    /// FMAs. Each block's [cell][16 channels] results go to NCHW by 16x16 register transposes, through ReLU when asked.
    /// No im2col, and the output is written once.
    /// </para>
    /// <para>
    /// That is the Vector512 path, for any output channels (the last block's lanes past them padded with zero weights and
    /// never stored). Stems (stride 2, at most 8 input channels, rows of 16+ output cells, any output channels), and stride-2
    /// layers whose rows fill more of their vectors than the output channels fill theirs (UsePhases), put the output cells in
    /// the lanes instead (ForwardPhases512). On Vector256 (machines without AVX-512) the lanes kernel's tiles are two
    /// halves of a block (StridedConvolution.Lanes256.cs). Elsewhere (strides above 4) the kernel is im2col +
    /// <see cref="Gemm"/>, then bias and ReLU.
    /// </para>
    /// <para>
    /// From prepared weights (<see cref="ForwardPrepared"/>), 3x3 stride-2 layers whose shape
    /// <see cref="StridedWinogradConvolution.TileFor"/> picks run by Winograd's method through the polyphase split instead
    /// (5.06 or 6.25 products per output and input channel instead of 9); <see cref="Prepare"/> transforms their filters.
    /// </para>
    /// </remarks>
    public static partial class StridedConvolution
    {
        private readonly struct Geometry
        {
            public readonly int InChannels, Height, Width, Kernel, Stride, Padding;
            public readonly int PaddedWidth, PaddedHeight, Plane, PaddedLength, OutHeight, OutWidth, Cells, Taps;

            public Geometry(int inChannels, int height, int width, int kernel, int stride, int padding)
            {
                InChannels = inChannels; Height = height; Width = width; Kernel = kernel; Stride = stride; Padding = padding;
                PaddedWidth = width + 2 * padding;
                PaddedHeight = height + 2 * padding;
                Plane = PaddedHeight * PaddedWidth;
                PaddedLength = (inChannels * Plane + 15) / 16 * 16;
                OutHeight = (PaddedHeight - kernel) / stride + 1;
                OutWidth = (PaddedWidth - kernel) / stride + 1;
                Cells = OutHeight * OutWidth;
                Taps = inChannels * kernel * kernel;
            }
        }

        // The geometry of a layer's arguments, refused (one clear exception) where a dimension is not positive, the padding
        // negative, or the kernel larger than the padded input.
        private static Geometry CheckedGeometry(int inChannels, int height, int width, int kernel, int stride, int padding)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            if (g.PaddedHeight < kernel || g.PaddedWidth < kernel)
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel is larger than the padded input.");
            return g;
        }

        /// <summary>Floats of scratch <see cref="Forward"/> and <see cref="Backward"/> need for one sample of a layer of this shape.</summary>
        public static int ScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int winograd = UseWinograd(g, outChannels, KernelPaths.Default, winograd: true) ? WinogradLayout(g, outChannels).ScratchLength
                : UsePolyphase(g, outChannels, KernelPaths.Default, winograd: true) ? PolyphaseLayout(g, outChannels).ScratchLength : 0;
            return Math.Max(Math.Max(Math.Max(Math.Max(g.Taps * g.Cells, LanesScratch(g, outChannels)), PhasesScratch(g)), BackwardScratch(g, outChannels)), winograd);
        }

        // Stride-2 3x3 layers where StridedWinogradConvolution.Pays (measured against ForwardLanes512 and ForwardPhases512):
        // forward only, from weights transformed by Prepare.
        private static bool UseWinograd(in Geometry g, int outChannels, KernelPath path, bool winograd) =>
            winograd && DirectConvolution.WinogradOn(path) && g.Kernel == 3 && g.Stride == 2
            && StridedWinogradConvolution.Pays(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        // Stride-2 4x4 layers where PolyphaseWinogradConvolution.Pays (measured against the direct kernels): forward only, from
        // filters transformed by Prepare; on the machine's own vector path (Vector256 without AVX-512 since session 60).
        private static bool UsePolyphase(in Geometry g, int outChannels, KernelPath path, bool winograd) =>
            winograd && DirectConvolution.WinogradOn(path) && g.Kernel == 4 && g.Stride == 2
            && PolyphaseWinogradConvolution.Pays(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        private static LaneTileLayout PolyphaseLayout(in Geometry g, int outChannels) =>
            PolyphaseWinogradConvolution.LayoutOf(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        private static StridedWinogradConvolution.Layout WinogradLayout(in Geometry g, int outChannels) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Padding, StridedWinogradConvolution.TileFor(g.InChannels, g.Height, g.Width, outChannels, g.Padding));

        // The padded planes, the packed weights, two blocks of [cell][16] results and one 16x16 transpose.
        private static int LanesScratch(in Geometry g, int outChannels) => g.PaddedLength + LaneChannels(outChannels) * g.Taps + 2 * 16 * g.Cells + 256;

        // The lanes kernel's output channels: whole blocks of 16, the last one's lanes past outChannels zero weights whose
        // results are never stored.
        private static int LaneChannels(int outChannels) => (outChannels + 15) / 16 * 16;

        // Where Prepare packs the weights for the lanes kernel, and how many floats the weights (without the bias) take.
        private static bool PacksLanes(in Geometry g, int outChannels, KernelPath path) =>
            path != KernelPath.Scalar && !UsePointwise(g, outChannels, path) && !UsePhases(g, outChannels, path) && UseLanes(g, outChannels, path);

        /// <summary>Whether the lanes kernel reads an unpadded input in place instead of copying it first (KernelBench turns it off to compare).</summary>
        internal static bool ReadsUnpaddedInput = true;

        /// <summary>Whether 1x1 layers without padding run as a subsampling and a pointwise product (KernelBench turns it off to compare).</summary>
        internal static bool PointwiseRoute = true;

        /// <summary>Whether every 1x1 layer without padding takes that route, whatever its shape (KernelBench's comparison).</summary>
        internal static bool PointwiseRouteEverywhere;

        // A 1x1 kernel without padding reads one input pixel per output cell, at stride times its place: the layer is the
        // input subsampled into [inChannels][cells] (one pass over a quarter of it at stride 2) and PointwiseConvolution on
        // that plane (weights in PyTorch's layout, the cells in the lanes). Where that pays, measured (KernelBench
        // "strided-pointwise", 30 shapes, channels 16-1024, input maps 6-56, interleaved minima, 2026-12-02, load 7-8; the
        // table is in benchmarks/README.md, session 11):
        // - Vector512, against the channel-lanes kernel reading x in place: 1.16-1.56x where the output channels leave lanes
        //   idle on planes of 256+ cells (20->40 @19x19, 64->100 @17x17); within ±12% on whole-vector channels from 256
        //   cells up (0.81-1.15x) and 0.45-0.91x on 7x7, 14x14 and 3x3 planes, whose last partial vector the pointwise
        //   tiles compute whole (49 cells as 64) — and 0.64x for 64->24 @14x14, whose 6 row groups each re-read the input
        //   the lanes kernel reads once. So only idle lanes on 256+ cells, then.
        //   Session 35, the pointwise tiles of sessions 20-31 (copied 8 x 3 tiles, in-place 8-row tiles): whole-vector
        //   channels on 256+ cells too, three runs (in place / 1x1 route): ResNet-50's 256x56x56 -> 512 1,216-1,557 /
        //   1,069-1,157 µs (1.14-1.35x), ResNet-18's 64x56x56 -> 128 1.11-1.17x, 64x32x32 -> 128 1.17-1.22x, 32x56x56 -> 48
        //   1.29x, 64x56x56 -> 64 0.98-1.17x. Below 256 cells still mostly slower (7x7 outputs 0.83-1.00x, 14x14 0.96-0.98x
        //   but 512x28x28 -> 1024 1.18x, 64x28x28 -> 24 0.68x), so not there, except from inputs of 1 MB or more onto 14x14
        //   outputs, which the subsampling compacts to a quarter that stays in L2 (two runs): 512x28x28 -> 1024 1.22x, 384 ->
        //   768 1.07-1.12x, 512 -> 512 1.13-1.15x, 1024 -> 1024 1.13-1.18x; from 800 KB and less 0.94-1.06x (256 -> 512, 256 ->
        //   256, 192 -> 384, 128 -> 256).
        // - Vector256, against im2col + GEMM: 1.08-3.16x on planes of 196+ cells (one of 12 at 0.97x), 0.76-1.34x (mostly
        //   slower) below. Session 60 (Zen 3), against the Vector256 lanes kernel that replaced im2col there in session 56:
        //   on 196+ cells from 64 channels each way 1.01-1.62x (64x56x56 -> 128 1.44x, 128x28x28 -> 256 1.39x, 512x28x28 ->
        //   1024 1.54x, 64x33x33 -> 100 1.16x), but fewer lose (16x32x32 -> 32 0.86x, 32x56x56 -> 48 0.84x, 64x28x28 -> 24
        //   0.81x, 20x37x37 -> 40 0.95x); below 196 cells Cin·Cout from 2^18 gains (512x14x14 -> 1024 1.16x, 1024 -> 2048 1.21x,
        //   512x7x7 -> 1024 1.26x), less is a tie or a loss (256x14x14 -> 512 0.93x, 256x6x6 -> 256 0.71x, 256x8x8 -> 512 1.22x).
        private const int MinimumPointwiseCells512 = 256, MinimumPointwiseCells256 = 196, MinimumPointwiseCellsLargeInput = 196;
        private const int MinimumPointwiseChannels256 = 64;
        private const long LargeInputFloats = 256 * 1024, MinimumPointwiseFilters256 = 1 << 18;

        /// <summary>Whether a layer of this shape runs as a subsampling and a pointwise product on this path (<see cref="UsePointwise"/>).</summary>
        internal static bool UsesPointwise(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, KernelPath path) =>
            UsePointwise(new Geometry(inChannels, height, width, kernel, stride, padding), outChannels, path);

        private static bool UsePointwise(in Geometry g, int outChannels, KernelPath path) =>
            PointwiseRoute && g.Kernel == 1 && g.Padding == 0 && path switch
            {
                _ when PointwiseRouteEverywhere => path != KernelPath.Scalar,
                KernelPath.Vector512 => Avx512F.IsSupported
                    ? g.Cells >= MinimumPointwiseCells512 || g.Cells >= MinimumPointwiseCellsLargeInput && (long)g.InChannels * g.Height * g.Width >= LargeInputFloats
                    : g.Cells >= MinimumPointwiseCells256,
                KernelPath.Vector256 => g.Cells >= MinimumPointwiseCells256 && g.InChannels >= MinimumPointwiseChannels256 && outChannels >= MinimumPointwiseChannels256
                    || (long)g.InChannels * outChannels >= MinimumPointwiseFilters256,
                _ => false,
            };

        private static int WeightsLength(in Geometry g, int outChannels, KernelPath path) =>
            (PacksLanes(g, outChannels, path) ? LaneChannels(outChannels) : outChannels) * g.Taps;

        // Measured against im2col + GEMM (KernelBench "strided", interleaved minima, prepared weights, 2026-12-01, load 17-27):
        // 2.5x on 3-channel stems (3x64x64 -> 32: 14 vs 35 us; 3x32x32 -> 16: 2.2 vs 5.8 us), 1.9x at 32 input channels,
        // 1.5x at 64, 2.4x at 16. The stems were once kept on the GEMM (measured with the weights packed per call).
        // Stems (few input channels, stride 2, rows of 16+ output cells) put the output cells in the lanes instead: no
        // transposes and no [cell][channel] results to write and read back. Measured against the channel-lanes kernel
        // (KernelBench "strided", interleaved): see the comment at ForwardPhases512.
        private const int MaximumPhasesInChannels = 8;

        // Beyond stems, the kernel whose lanes carry more real work: the phases kernel fills OW of each row's
        // ceil(OW / 16) · 16 lanes, the lanes kernel outChannels of LaneChannels(outChannels); at equal fill the phases kernel
        // where the lanes kernel has one block (each broadcast feeds one FMA there, two in a pair). Measured (KernelBench
        // "strided-phases", 22 shapes from 10 to 40 input channels, 5 to 40 output channels, rows of 17 to 48 cells,
        // interleaved minima, 2026-12-02, load 15-20; phases against lanes): the rule's picks 1.21-2.66x where it takes the
        // phases kernel (12->5, 12->8 at 37x37; 16->5/12/20/24 and 32->8/16 at 64x64; 40->6 at 32x32; 12->20 at 70x70 and
        // 96x96), 0.52-1.06x where it keeps the lanes kernel (16, 20, 24, 32 channels on rows of 19; 32 on rows of 32;
        // 12 on rows of 17: 1.03x; 40 on rows of 24: 1.06x).
        private static bool UsePhases(in Geometry g, int outChannels, KernelPath path)
        {
            if (path != KernelPath.Vector512 || !Avx512F.IsSupported || g.Stride != 2 || g.OutWidth < 16 || g.Taps > MaxPhaseTaps) return false;
            if (g.InChannels <= MaximumPhasesInChannels) return g.Taps <= MaxStemPhaseTaps;
            int laneChannels = LaneChannels(outChannels), rowLanes = (g.OutWidth + 15) / 16 * 16;
            // OW / rowLanes against outChannels / laneChannels, cross-multiplied.
            long phasesFill = (long)g.OutWidth * laneChannels, lanesFill = (long)outChannels * rowLanes;
            return phasesFill > lanesFill || (phasesFill == lanesFill && laneChannels == 16);
        }

        // The phases kernel's tap offsets are on the stack (4 KB at most); stems up to 8 channels of 7x7, as measured.
        private const int MaxPhaseTaps = 1024, MaxStemPhaseTaps = 8 * 7 * 7;

        // Each padded row split into its even and odd columns, PhaseLength = ceil((W + 2p) / 2) floats each.
        private static int PhaseLength(in Geometry g) => (g.PaddedWidth + 1) / 2;

        private static int PhasesScratch(in Geometry g) => g.InChannels * g.PaddedHeight * 2 * PhaseLength(g);

        private static bool UseLanes(in Geometry g, int outChannels, KernelPath path) =>
            path == KernelPath.Vector512 && Avx512F.IsSupported && g.Stride >= 2 && g.Stride <= 4 || UseLanes256(g, path);

        /// <summary>
        /// y = conv2d(x, weight, bias, stride <paramref name="stride"/>, zero padding <paramref name="padding"/>), then ReLU
        /// when <paramref name="relu"/>, for one sample: x is [inChannels x height x width], weight [outChannels x inChannels x
        /// kernel x kernel] (PyTorch's layout), bias [outChannels] or empty, y [outChannels x OH x OW] with
        /// OH = (height + 2p − kernel) / stride + 1 (floor), and OW likewise.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the kernel is larger than the padded input.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the scratch shorter than <see cref="ScratchLength"/>.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int stride, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, stride, padding, y, scratch, relu, KernelPaths.Default);

        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int stride, int padding,
            Span<float> y, Span<float> scratch, bool relu, KernelPath path) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, stride, padding, y, scratch, relu, path, packed: false);

        /// <summary>
        /// Floats of the prepared weights <see cref="Prepare"/> writes for a layer of this shape: its weights (packed, or
        /// Winograd-transformed, for the path this process runs) and then its bias.
        /// </summary>
        public static int PreparedLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            PreparedLengthOn(inChannels, height, width, outChannels, kernel, stride, padding, KernelPaths.Default, winograd: true);

        internal static int PreparedLengthOn(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding,
            KernelPath path, bool winograd)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            return PreparedWeightsLength(g, outChannels, path, winograd) + outChannels;
        }

        // The prepared weights' part before the bias: transformed filters, packed lanes or the weights as they are.
        private static int PreparedWeightsLength(in Geometry g, int outChannels, KernelPath path, bool winograd) =>
            UseWinograd(g, outChannels, path, winograd) ? WinogradLayout(g, outChannels).FiltersLength
            : UsePolyphase(g, outChannels, path, winograd) ? PolyphaseLayout(g, outChannels).FiltersLength : WeightsLength(g, outChannels, path);

        /// <summary>
        /// The weights and bias as <see cref="ForwardPrepared"/> reads them: Winograd-transformed where this process runs the
        /// layer by <see cref="StridedWinogradConvolution"/> (3x3) or <see cref="PolyphaseWinogradConvolution"/> (4x4), packed [16-channel block][tap][16] where it runs the output
        /// channels in the vector lanes, PyTorch's layout elsewhere; then the bias (zeros when empty). Done once per change of
        /// the weights, it takes the packing (or the transform) out of every call.
        /// </summary>
        public static void Prepare(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inChannels, int height, int width, int outChannels,
            int kernel, int stride, int padding, Span<float> prepared) =>
            PrepareOn(weight, bias, inChannels, height, width, outChannels, kernel, stride, padding, prepared, KernelPaths.Default);

        internal static void PrepareOn(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inChannels, int height, int width, int outChannels,
            int kernel, int stride, int padding, Span<float> prepared, KernelPath path, bool winograd = true)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int length = outChannels * g.Taps;
            Require(weight.Length >= length, nameof(weight), length);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            int weightsLength = PreparedWeightsLength(g, outChannels, path, winograd);
            Require(prepared.Length >= weightsLength + outChannels, nameof(prepared), weightsLength + outChannels);
            if (UseWinograd(g, outChannels, path, winograd)) StridedWinogradConvolution.TransformFilters(weight, prepared, WinogradLayout(g, outChannels));
            else if (UsePolyphase(g, outChannels, path, winograd)) PolyphaseWinogradConvolution.TransformFilters(weight, prepared, PolyphaseLayout(g, outChannels));
            else if (PacksLanes(g, outChannels, path)) PackLanes(weight.Slice(0, length), outChannels, g.Taps, prepared);
            else weight.Slice(0, length).CopyTo(prepared);
            PutBias(bias, prepared.Slice(weightsLength, outChannels));
        }

        // The bias after a layer's prepared weights: zeros when the layer has none.
        private static void PutBias(ReadOnlySpan<float> bias, Span<float> target)
        {
            if (bias.IsEmpty) target.Clear();
            else bias.Slice(0, target.Length).CopyTo(target);
        }

        /// <summary>
        /// <see cref="Forward"/> on weights and bias made by <see cref="Prepare"/> for the same shape (in the same process: the
        /// packing follows the vector path).
        /// </summary>
        public static void ForwardPrepared(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> prepared,
            int outChannels, int kernel, int stride, int padding, Span<float> y, Span<float> scratch, bool relu) =>
            ForwardPreparedOn(x, inChannels, height, width, prepared, outChannels, kernel, stride, padding, y, scratch, relu, KernelPaths.Default);

        internal static void ForwardPreparedOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> prepared,
            int outChannels, int kernel, int stride, int padding, Span<float> y, Span<float> scratch, bool relu, KernelPath path, bool winograd = true)
        {
            if (inChannels > 0 && height > 0 && width > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0
                && height + 2 * padding >= kernel && width + 2 * padding >= kernel)
            {
                var g = new Geometry(inChannels, height, width, kernel, stride, padding);
                if (UseWinograd(g, outChannels, path, winograd))
                {
                    var layout = WinogradLayout(g, outChannels);
                    Require(prepared.Length >= layout.FiltersLength + outChannels, nameof(prepared), layout.FiltersLength + outChannels);
                    StridedWinogradConvolution.Forward(x, prepared.Slice(0, layout.FiltersLength), prepared.Slice(layout.FiltersLength, outChannels),
                        y, scratch, relu, layout);
                    return;
                }
                if (UsePolyphase(g, outChannels, path, winograd))
                {
                    var layout = PolyphaseLayout(g, outChannels);
                    Require(prepared.Length >= layout.FiltersLength + outChannels, nameof(prepared), layout.FiltersLength + outChannels);
                    PolyphaseWinogradConvolution.Forward(x, prepared.Slice(0, layout.FiltersLength), prepared.Slice(layout.FiltersLength, outChannels),
                        y, scratch, relu, layout);
                    return;
                }
            }
            int length = WeightsLength(new Geometry(inChannels, height, width, kernel, stride, padding), outChannels, path);
            Require(prepared.Length >= length + outChannels, nameof(prepared), length + outChannels);
            ForwardOn(x, inChannels, height, width, prepared.Slice(0, length), prepared.Slice(length, outChannels), outChannels, kernel, stride, padding,
                y, scratch, relu, path, packed: true);
        }

        private static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int stride, int padding,
            Span<float> y, Span<float> scratch, bool relu, KernelPath path, bool packed)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            var g = CheckedGeometry(inChannels, height, width, kernel, stride, padding);
            Require(x.Length >= inChannels * height * width, nameof(x), inChannels * height * width);
            Require(weight.Length >= outChannels * g.Taps, nameof(weight), outChannels * g.Taps);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            Require(y.Length >= outChannels * g.Cells, nameof(y), outChannels * g.Cells);

            if (path == KernelPath.Scalar)
            {
                // The scalar path needs no scratch, but the contract is the same on every path.
                Require(scratch.Length >= g.Taps * g.Cells, nameof(scratch), g.Taps * g.Cells);
                ForwardScalar(x, weight, bias, outChannels, y, relu, g);
                return;
            }
            if (UsePointwise(g, outChannels, path))
            {
                // The subsampled input in the scratch (ScratchLength counts Taps · Cells = inChannels · cells for it).
                Require(scratch.Length >= g.Taps * g.Cells, nameof(scratch), g.Taps * g.Cells);
                var sampled = scratch.Slice(0, g.Taps * g.Cells);
                Subsample(x, sampled, g, path);
                PointwiseConvolution.ForwardOn(sampled, inChannels, g.Cells, weight.Slice(0, outChannels * inChannels), bias.IsEmpty ? default : bias.Slice(0, outChannels),
                    outChannels, y, path, relu ? 0f : float.NegativeInfinity);
                return;
            }
            if (UsePhases(g, outChannels, path))
            {
                Require(scratch.Length >= PhasesScratch(g), nameof(scratch), PhasesScratch(g));
                ForwardPhases512(x, weight, bias, outChannels, y, scratch, relu, g);
                return;
            }
            if (UseLanes(g, outChannels, path))
            {
                Require(scratch.Length >= LanesScratch(g, outChannels), nameof(scratch), LanesScratch(g, outChannels));
                if (path == KernelPath.Vector256) ForwardLanes256(x, weight, bias, outChannels, y, scratch, relu, g, packed);
                else ForwardLanes512(x, weight, bias, outChannels, y, scratch, relu, g, packed);
                return;
            }

            // im2col + GEMM, then the bias and ReLU.
            Require(scratch.Length >= g.Taps * g.Cells, nameof(scratch), g.Taps * g.Cells);
            var cols = scratch.Slice(0, g.Taps * g.Cells);
            Im2Col.Expand(x, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, cols);
            var output = y.Slice(0, outChannels * g.Cells);
            Gemm.Multiply(false, false, outChannels, g.Cells, g.Taps, weight, g.Taps, cols, g.Cells, output, g.Cells, accumulate: false);
            for (int oc = 0; oc < outChannels; oc++)
            {
                var plane = output.Slice(oc * g.Cells, g.Cells);
                if (!bias.IsEmpty) Elementwise.AddScalar(plane, bias[oc]);
                if (relu)
                {
                    for (int i = 0; i < plane.Length; i++) plane[i] = Elementwise.Relu(plane[i]);
                }
            }
        }

        // The phases kernel on any shape it can run (stride 2, rows of 16+ output cells, up to MaxPhaseTaps taps), whatever
        // UsePhases says: for KernelBench's comparisons with the lanes kernel, which set UsePhases' rule.
        internal static void ForwardPhasesOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> bias, int outChannels, int kernel, int padding, Span<float> y, Span<float> scratch, bool relu)
        {
            var g = new Geometry(inChannels, height, width, kernel, 2, padding);
            if (!Avx512F.IsSupported || g.OutWidth < 16 || g.Taps > MaxPhaseTaps) throw new ArgumentOutOfRangeException(nameof(kernel), "Not a shape the phases kernel runs.");
            Require(x.Length >= inChannels * height * width, nameof(x), inChannels * height * width);
            Require(weight.Length >= outChannels * g.Taps, nameof(weight), outChannels * g.Taps);
            Require(y.Length >= outChannels * g.Cells, nameof(y), outChannels * g.Cells);
            Require(scratch.Length >= PhasesScratch(g), nameof(scratch), PhasesScratch(g));
            ForwardPhases512(x, weight, bias, outChannels, y, scratch, relu, g);
        }

        // The channel-lanes kernel on a 1x1 stride-1 layer without padding, on weights packed by PackPointwiseLanes: for
        // KernelBench's comparison with PointwiseConvolution on small planes (no layer runs it).
        internal static void ForwardPointwiseLanes(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> packed,
            ReadOnlySpan<float> bias, int outChannels, Span<float> y, Span<float> scratch, bool relu)
        {
            var g = new Geometry(inChannels, height, width, 1, 1, 0);
            if (!Avx512F.IsSupported) throw new PlatformNotSupportedException();
            Require(scratch.Length >= LanesScratch(g, outChannels), nameof(scratch), LanesScratch(g, outChannels));
            ForwardLanes512(x, packed, bias, outChannels, y, scratch, relu, g, weightsPacked: true);
        }

        internal static void PackPointwiseLanes(ReadOnlySpan<float> weight, int inChannels, int outChannels, Span<float> packed) =>
            PackLanes(weight, outChannels, inChannels, packed);

        internal static int PointwiseLanesScratch(int inChannels, int height, int width, int outChannels) =>
            LanesScratch(new Geometry(inChannels, height, width, 1, 1, 0), outChannels);

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }

        private static void ForwardLanes512(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, in Geometry g, bool weightsPacked)
        {
            int taps = g.Taps, cells = g.Cells, laneChannels = LaneChannels(outChannels);
            var padded = scratch.Slice(0, g.PaddedLength);
            var packed = scratch.Slice(g.PaddedLength, laneChannels * taps);
            var results = scratch.Slice(g.PaddedLength + laneChannels * taps, 2 * 16 * cells);
            var transpose = scratch.Slice(g.PaddedLength + laneChannels * taps + 2 * 16 * cells, 256);
            // Without padding the tiles read x itself: its copy (all of it, where a stride of 2 reads a quarter of a 1x1's
            // input) was pure cost.
            bool direct = g.Padding == 0 && ReadsUnpaddedInput;
            if (!direct) Pad(x, padded, g);
            ReadOnlySpan<float> lanes;
            if (weightsPacked) lanes = weight.Slice(0, laneChannels * taps);
            else
            {
                PackLanes(weight.Slice(0, outChannels * taps), outChannels, taps, packed);
                lanes = packed;
            }
            ref float p = ref MemoryMarshal.GetReference(direct ? x : (ReadOnlySpan<float>)padded);
            ref float r0 = ref MemoryMarshal.GetReference(results);
            ref float r1 = ref Unsafe.Add(ref r0, 16 * cells);
            int tilesPerRow = (g.OutWidth + 7) / 8;
            // On maps 4 cells wide or less a tile takes whole rows, up to 8 cells (a 2x2 map in one tile): each weight vector
            // is read once a call rather than once a row, where a layer's weights stream from beyond L2 at batch 1.
            int rowsPerTile = RowsPerTile(g), rowTiles = (g.OutHeight + rowsPerTile - 1) / rowsPerTile;
            bool skipPadding = SkipsPadding(g);
            for (int block = 0; block < outChannels;)
            {
                bool two = block + 32 <= laneChannels;
                ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(lanes), block * taps);
                ref float w1 = ref Unsafe.Add(ref w0, 16 * taps);
                var b0 = BiasLanes(bias, block, outChannels);
                var b1 = two ? BiasLanes(bias, block + 16, outChannels) : Vector512<float>.Zero;
                for (int rowTile = 0; rowTile < rowTiles; rowTile++)
                {
                    // Even splits: 3 rows are 1 + 2 (one row a tile where rowsPerTile is 1).
                    int oy = rowTile * g.OutHeight / rowTiles, rows = (rowTile + 1) * g.OutHeight / rowTiles - oy;
                    for (int tile = 0; tile < tilesPerRow; tile++)
                    {
                        // Even splits: 10 cells are 5 + 5, not 8 + 2. (A tile of several rows takes them whole: one tile a row.)
                        int ox = tile * g.OutWidth / tilesPerRow, count = (tile + 1) * g.OutWidth / tilesPerRow - ox;
                        ref float origin = ref Unsafe.Add(ref p, oy * g.Stride * g.PaddedWidth + ox * g.Stride);
                        int at = (oy * g.OutWidth + ox) * 16;
                        if (skipPadding && two) PaddedTile<C2>(count, rows, oy, ox, ref origin, ref w0, ref w1, b0, b1, ref Unsafe.Add(ref r0, at), ref Unsafe.Add(ref r1, at), g);
                        else if (skipPadding) PaddedTile<C1>(count, rows, oy, ox, ref origin, ref w0, ref w0, b0, b0, ref Unsafe.Add(ref r0, at), ref Unsafe.Add(ref r0, at), g);
                        else if (two) Tile<C2>(count, ref origin, ref w0, ref w1, b0, b1, ref Unsafe.Add(ref r0, at), ref Unsafe.Add(ref r1, at), g, rows: rows);
                        else Tile<C1>(count, ref origin, ref w0, ref w0, b0, b0, ref Unsafe.Add(ref r0, at), ref Unsafe.Add(ref r0, at), g, rows: rows);
                    }
                }
                Store(ref r0, cells, block, Math.Min(16, outChannels - block), y, relu, transpose);
                if (two) Store(ref r1, cells, block + 16, Math.Min(16, outChannels - block - 16), y, relu, transpose);
                block += two ? 32 : 16;
            }
        }

        /// <summary>Copies x into zero-padded planes of (H+2p) x (W+2p).</summary>
        // x [C x H x W] into the zero-padded planes [C x PH x PW]. Only the margins are cleared (the rows are copied over the
        // rest), and the rows are copied by vectors, not a Span.CopyTo call each: the strided network's stem (3x64x64) cleared
        // 52 KB and made 192 calls of 64 floats; KernelBench strided-chain, the README's session 13 section.
        private static void Pad(ReadOnlySpan<float> x, Span<float> padded, in Geometry g)
        {
            if (g.Padding == 0)
            {
                x.Slice(0, g.InChannels * g.Plane).CopyTo(padded);
                return;
            }
            if (WholePadClear)
            {
                padded.Clear();
                for (int c = 0; c < g.InChannels; c++)
                    for (int iy = 0; iy < g.Height; iy++)
                        x.Slice((c * g.Height + iy) * g.Width, g.Width).CopyTo(padded.Slice(c * g.Plane + (iy + g.Padding) * g.PaddedWidth + g.Padding, g.Width));
                return;
            }
            int p = g.Padding, width = g.Width, pw = g.PaddedWidth;
            if (x.Length < g.InChannels * g.Height * width || padded.Length < g.PaddedLength) throw new ArgumentException("The spans are shorter than the geometry needs.");
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float target = ref MemoryMarshal.GetReference(padded);
            for (int c = 0; c < g.InChannels; c++)
            {
                ref float plane = ref Unsafe.Add(ref target, c * g.Plane);
                // The rows above and the first row's left margin; between two rows, one's right margin and the next one's
                // left (2p floats); after the last row its right margin and the rows below.
                MemoryMarshal.CreateSpan(ref plane, p * pw + p).Clear();
                for (int iy = 0; iy < g.Height; iy++)
                {
                    int at = (iy + p) * pw + p;
                    CopyRow(ref Unsafe.Add(ref source, (c * g.Height + iy) * width), ref Unsafe.Add(ref plane, at), width);
                    int end = iy + 1 < g.Height ? at + pw : g.Plane;
                    for (int i = at + width; i < end; i++) Unsafe.Add(ref plane, i) = 0f;
                }
            }
            padded.Slice(g.InChannels * g.Plane, g.PaddedLength - g.InChannels * g.Plane).Clear();
        }

        /// <summary>The whole padded buffer cleared and each row copied by a Span.CopyTo call, as before session 13; KernelBench sets it to compare.</summary>
        internal static bool WholePadClear { get; set; }

        private static void CopyRow(ref float source, ref float target, int count)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= count; i += 16) Vector512.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref target, (nuint)i);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= count; i += 8) Vector256.LoadUnsafe(ref source, (nuint)i).StoreUnsafe(ref target, (nuint)i);
            for (; i < count; i++) Unsafe.Add(ref target, i) = Unsafe.Add(ref source, i);
        }

        // The bias of channels block..block+15 in lanes, zero past outChannels (or without a bias).
        private static Vector512<float> BiasLanes(ReadOnlySpan<float> bias, int block, int outChannels)
        {
            if (bias.IsEmpty) return Vector512<float>.Zero;
            if (block + 16 <= outChannels) return Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)block);
            Span<float> lanes = stackalloc float[16];
            lanes.Clear();
            bias.Slice(block, outChannels - block).CopyTo(lanes);
            return Vector512.Create<float>(lanes);
        }

        // weight [outChannels x taps] to [block][tap][16 channels] (DirectConvolution.PackLanes for the whole blocks), the
        // last block's lanes past outChannels zero.
        private static void PackLanes(ReadOnlySpan<float> weight, int outChannels, int taps, Span<float> packed)
        {
            int whole = outChannels / 16 * 16;
            if (whole > 0) DirectConvolution.PackLanes(weight.Slice(0, whole * taps), whole, taps, packed);
            if (whole == outChannels) return;
            var last = packed.Slice(whole * taps, 16 * taps);
            last.Clear();
            for (int oc = whole; oc < outChannels; oc++)
            {
                var row = weight.Slice(oc * taps, taps);
                for (int t = 0; t < taps; t++) last[t * 16 + oc - whole] = row[t];
            }
        }

        // [cell][16 channels] to the NCHW planes of channels block..block+channels−1 (channels ≤ 16): 16 cells at a time
        // through a register transpose.
        private static void Store(ref float results, int cells, int block, int channels, Span<float> y, bool relu, Span<float> transpose)
        {
            ref float o = ref MemoryMarshal.GetReference(y);
            ref float t = ref MemoryMarshal.GetReference(transpose);
            int cell = 0;
            for (; cell + 16 <= cells; cell += 16)
            {
                DirectConvolution.Transpose16(ref Unsafe.Add(ref results, cell * 16), 16, ref t);
                for (int l = 0; l < channels; l++)
                {
                    var v = Vector512.LoadUnsafe(ref t, (nuint)(l * 16));
                    if (relu) v = Elementwise.Relu(v);
                    v.StoreUnsafe(ref o, (nuint)((block + l) * cells + cell));
                }
            }
            for (; cell < cells; cell++)
            {
                for (int l = 0; l < channels; l++)
                {
                    float v = Unsafe.Add(ref results, cell * 16 + l);
                    Unsafe.Add(ref o, (block + l) * cells + cell) = relu ? Elementwise.Relu(v) : v;
                }
            }
        }

        /// <summary>Whether ForwardLanes512's tiles take whole rows on maps 4 cells wide or less (KernelBench turns it off to compare).</summary>
        internal static bool TilesAcrossRows = true;

        // Output rows a ForwardLanes512 tile takes: as many whole rows as fit 8 cells (4 rows at most) on maps up to 4 wide.
        private static int RowsPerTile(in Geometry g) =>
            !TilesAcrossRows || g.OutWidth > 4 || g.OutHeight < 2 ? 1 : Math.Min(g.OutHeight, Math.Min(4, 8 / g.OutWidth));

        // A tile of rows (2 to 4) whole rows of width (1 to 4) cells, up to 8 cells.
        private static void RowsTile<TBlocks, TStride>(int width, int rows, ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g, bool relu) where TBlocks : struct, IConstant where TStride : struct, IConstant
        {
            switch (width * 8 + rows)
            {
                case 1 * 8 + 2: Tile<TBlocks, TStride, C2, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 1 * 8 + 3: Tile<TBlocks, TStride, C3, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 1 * 8 + 4: Tile<TBlocks, TStride, C4, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 2 * 8 + 2: Tile<TBlocks, TStride, C4, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 2 * 8 + 3: Tile<TBlocks, TStride, C6, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 2 * 8 + 4: Tile<TBlocks, TStride, C8, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 3 * 8 + 2: Tile<TBlocks, TStride, C6, C3>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 4 * 8 + 2: Tile<TBlocks, TStride, C8, C4>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                default: throw new ArgumentOutOfRangeException(nameof(rows), "A tile takes 2 to 4 whole rows of up to 8 cells.");
            }
        }

        // A tile of count cells of one row, or (rows above 1) of rows whole rows count cells wide.
        private static void Tile<TBlocks>(int count, ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g, bool relu = false, int rows = 1) where TBlocks : struct, IConstant
        {
            switch (g.Stride)
            {
                case 1: Tile<TBlocks, C1>(count, rows, ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break; // KernelBench pointwise-lanes only
                case 2: Tile<TBlocks, C2>(count, rows, ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 3: Tile<TBlocks, C3>(count, rows, ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                default: Tile<TBlocks, C4>(count, rows, ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
            }
        }

        private static void Tile<TBlocks, TStride>(int count, int rows, ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g, bool relu) where TBlocks : struct, IConstant where TStride : struct, IConstant
        {
            if (rows > 1)
            {
                RowsTile<TBlocks, TStride>(count, rows, ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu);
                return;
            }
            switch (count)
            {
                case 1: Tile<TBlocks, TStride, C1, C1>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 2: Tile<TBlocks, TStride, C2, C2>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 3: Tile<TBlocks, TStride, C3, C3>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 4: Tile<TBlocks, TStride, C4, C4>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 5: Tile<TBlocks, TStride, C5, C5>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 6: Tile<TBlocks, TStride, C6, C6>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                case 7: Tile<TBlocks, TStride, C7, C7>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
                default: Tile<TBlocks, TStride, C8, C8>(ref origin, ref w0, ref w1, b0, b1, ref out0, ref out1, g, relu); break;
            }
        }

        // TCells output cells x TBlocks blocks of 16 channels; each broadcast input feeds TBlocks FMAs. The cells are rows of
        // TWidth (one row where TWidth is TCells), cell i at row i / TWidth, column i % TWidth. Up to 8 cells, or up to 12 of
        // one row (24 accumulators with two blocks: ForwardLanesInto's wide rows at stride 2, called straight from there).
        private static void Tile<TBlocks, TStride, TCells, TWidth>(ref float origin, ref float w0, ref float w1, Vector512<float> b0, Vector512<float> b1,
            ref float out0, ref float out1, in Geometry g, bool relu)
            where TBlocks : struct, IConstant where TStride : struct, IConstant where TCells : struct, IConstant where TWidth : struct, IConstant
        {
            int s = TStride.Value;
            nint row1 = s * g.PaddedWidth, row2 = 2 * row1, row3 = 3 * row1;
            var a0 = b0; var a1 = b0; var a2 = b0; var a3 = b0; var a4 = b0; var a5 = b0; var a6 = b0; var a7 = b0;
            var c0 = b1; var c1 = b1; var c2 = b1; var c3 = b1; var c4 = b1; var c5 = b1; var c6 = b1; var c7 = b1;
            var a8 = b0; var a9 = b0; var a10 = b0; var a11 = b0; var c8 = b1; var c9 = b1; var c10 = b1; var c11 = b1;
            int kernel = g.Kernel, inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth;
            nuint t = 0;
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref float row = ref Unsafe.Add(ref origin, ic * plane + ky * pw);
                    for (int kx = 0; kx < kernel; kx++, t += 16)
                    {
                        ref float xr = ref Unsafe.Add(ref row, kx);
                        var v0 = Vector512.LoadUnsafe(ref w0, t);
                        var v1 = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref w1, t) : default;
                        var x = Vector512.Create(xr);
                        a0 = Fused.MultiplyAdd(x, v0, a0); if (TBlocks.Value > 1) c0 = Fused.MultiplyAdd(x, v1, c0);
                        if (TCells.Value > 1) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(1, s, row1, row2, row3))); a1 = Fused.MultiplyAdd(x, v0, a1); if (TBlocks.Value > 1) c1 = Fused.MultiplyAdd(x, v1, c1); }
                        if (TCells.Value > 2) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(2, s, row1, row2, row3))); a2 = Fused.MultiplyAdd(x, v0, a2); if (TBlocks.Value > 1) c2 = Fused.MultiplyAdd(x, v1, c2); }
                        if (TCells.Value > 3) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(3, s, row1, row2, row3))); a3 = Fused.MultiplyAdd(x, v0, a3); if (TBlocks.Value > 1) c3 = Fused.MultiplyAdd(x, v1, c3); }
                        if (TCells.Value > 4) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(4, s, row1, row2, row3))); a4 = Fused.MultiplyAdd(x, v0, a4); if (TBlocks.Value > 1) c4 = Fused.MultiplyAdd(x, v1, c4); }
                        if (TCells.Value > 5) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(5, s, row1, row2, row3))); a5 = Fused.MultiplyAdd(x, v0, a5); if (TBlocks.Value > 1) c5 = Fused.MultiplyAdd(x, v1, c5); }
                        if (TCells.Value > 6) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(6, s, row1, row2, row3))); a6 = Fused.MultiplyAdd(x, v0, a6); if (TBlocks.Value > 1) c6 = Fused.MultiplyAdd(x, v1, c6); }
                        if (TCells.Value > 7) { x = Vector512.Create(Unsafe.Add(ref xr, CellAt<TWidth>(7, s, row1, row2, row3))); a7 = Fused.MultiplyAdd(x, v0, a7); if (TBlocks.Value > 1) c7 = Fused.MultiplyAdd(x, v1, c7); }
                        // Cells 8 to 11 in one row only (TWidth = TCells).
                        if (TCells.Value > 8) { x = Vector512.Create(Unsafe.Add(ref xr, 8 * s)); a8 = Fused.MultiplyAdd(x, v0, a8); if (TBlocks.Value > 1) c8 = Fused.MultiplyAdd(x, v1, c8); }
                        if (TCells.Value > 9) { x = Vector512.Create(Unsafe.Add(ref xr, 9 * s)); a9 = Fused.MultiplyAdd(x, v0, a9); if (TBlocks.Value > 1) c9 = Fused.MultiplyAdd(x, v1, c9); }
                        if (TCells.Value > 10) { x = Vector512.Create(Unsafe.Add(ref xr, 10 * s)); a10 = Fused.MultiplyAdd(x, v0, a10); if (TBlocks.Value > 1) c10 = Fused.MultiplyAdd(x, v1, c10); }
                        if (TCells.Value > 11) { x = Vector512.Create(Unsafe.Add(ref xr, 11 * s)); a11 = Fused.MultiplyAdd(x, v0, a11); if (TBlocks.Value > 1) c11 = Fused.MultiplyAdd(x, v1, c11); }
                    }
                }
            }
            if (relu)
            {
                // Where the results go straight to the next layer (ForwardLanesInto) rather than through Store's transposes.
                a0 = Elementwise.Relu(a0); a1 = Elementwise.Relu(a1); a2 = Elementwise.Relu(a2); a3 = Elementwise.Relu(a3);
                a4 = Elementwise.Relu(a4); a5 = Elementwise.Relu(a5); a6 = Elementwise.Relu(a6); a7 = Elementwise.Relu(a7);
                c0 = Elementwise.Relu(c0); c1 = Elementwise.Relu(c1); c2 = Elementwise.Relu(c2); c3 = Elementwise.Relu(c3);
                c4 = Elementwise.Relu(c4); c5 = Elementwise.Relu(c5); c6 = Elementwise.Relu(c6); c7 = Elementwise.Relu(c7);
                if (TCells.Value > 8)
                {
                    a8 = Elementwise.Relu(a8); a9 = Elementwise.Relu(a9); a10 = Elementwise.Relu(a10); a11 = Elementwise.Relu(a11);
                    c8 = Elementwise.Relu(c8); c9 = Elementwise.Relu(c9); c10 = Elementwise.Relu(c10); c11 = Elementwise.Relu(c11);
                }
            }
            a0.StoreUnsafe(ref out0, 0);
            if (TCells.Value > 1) a1.StoreUnsafe(ref out0, 16);
            if (TCells.Value > 2) a2.StoreUnsafe(ref out0, 32);
            if (TCells.Value > 3) a3.StoreUnsafe(ref out0, 48);
            if (TCells.Value > 4) a4.StoreUnsafe(ref out0, 64);
            if (TCells.Value > 5) a5.StoreUnsafe(ref out0, 80);
            if (TCells.Value > 6) a6.StoreUnsafe(ref out0, 96);
            if (TCells.Value > 7) a7.StoreUnsafe(ref out0, 112);
            if (TCells.Value > 8) a8.StoreUnsafe(ref out0, 128);
            if (TCells.Value > 9) a9.StoreUnsafe(ref out0, 144);
            if (TCells.Value > 10) a10.StoreUnsafe(ref out0, 160);
            if (TCells.Value > 11) a11.StoreUnsafe(ref out0, 176);
            if (TBlocks.Value > 1)
            {
                c0.StoreUnsafe(ref out1, 0);
                if (TCells.Value > 1) c1.StoreUnsafe(ref out1, 16);
                if (TCells.Value > 2) c2.StoreUnsafe(ref out1, 32);
                if (TCells.Value > 3) c3.StoreUnsafe(ref out1, 48);
                if (TCells.Value > 4) c4.StoreUnsafe(ref out1, 64);
                if (TCells.Value > 5) c5.StoreUnsafe(ref out1, 80);
                if (TCells.Value > 6) c6.StoreUnsafe(ref out1, 96);
                if (TCells.Value > 7) c7.StoreUnsafe(ref out1, 112);
                if (TCells.Value > 8) c8.StoreUnsafe(ref out1, 128);
                if (TCells.Value > 9) c9.StoreUnsafe(ref out1, 144);
                if (TCells.Value > 10) c10.StoreUnsafe(ref out1, 160);
                if (TCells.Value > 11) c11.StoreUnsafe(ref out1, 176);
            }
        }

        /// <summary>
        /// Stride 2 with the output cells in the lanes. Each padded input row is stored as its even columns then its odd
        /// columns, so tap kx of 16 consecutive output cells reads 16 consecutive floats (phase kx mod 2, from kx / 2): one
        /// load per tap and vector, one weight broadcast per tap and channel. A tile is up to 6 output channels x 4 vectors of
        /// 16 cells, started at the bias, taps in PyTorch's order; ReLU and the store to NCHW straight from the registers. A
        /// row's last vector overlaps the one before it (it writes the same values again).
        /// </summary>
        // Measured (KernelBench "strided", interleaved minima with im2col + GEMM, 2026-12-01, load 7-9): 3x64x64 -> 32 in
        // 9.1-9.4 us (190 GFLOP/s; the channel-lanes kernel took 14-17 us, GEMM 32-37), 3x32x32 -> 16 in 1.35 us (lanes 2.1).
        // At 16 and 32 input channels it ties with the channel-lanes kernel, which keeps them.
        private static void ForwardPhases512(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, in Geometry g)
        {
            int phase = PhaseLength(g), rowStride = 2 * phase, plane = g.PaddedHeight * rowStride, taps = g.Taps, k = g.Kernel;
            var padded = scratch.Slice(0, PhasesScratch(g));
            bool pairs = PhaseSplit.Applies(g.Width), margins = pairs && MarginsOnly;
            if (!margins) padded.Clear();
            for (int c = 0; c < g.InChannels; c++)
            {
                if (margins)
                {
                    // The rows above and below the input cleared whole; in the input's rows the cells the copy does not write.
                    int below = g.Padding + g.Height;
                    padded.Slice(c * plane, g.Padding * rowStride).Clear();
                    padded.Slice(c * plane + below * rowStride, (g.PaddedHeight - below) * rowStride).Clear();
                }
                if (pairs)
                {
                    // Input column ix is padded column ix + p: phase (ix + p) mod 2, at (ix + p) / 2. The rows split in one loop
                    // over the plane (PhaseSplit.Rows), after the margins of each row are cleared.
                    int p = g.Padding;
                    ref float first = ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), c * plane + p * rowStride);
                    if (margins)
                    {
                        for (int iy = 0; iy < g.Height; iy++)
                        {
                            // Padded columns left of the input and right of it, up to the phases' end (2 · PhaseLength).
                            ref float row = ref Unsafe.Add(ref first, iy * rowStride);
                            for (int px = 0; px < p; px++) Unsafe.Add(ref row, PhaseSplit.At(px, phase)) = 0f;
                            for (int px = p + g.Width; px < rowStride; px++) Unsafe.Add(ref row, PhaseSplit.At(px, phase)) = 0f;
                        }
                    }
                    PhaseSplit.Rows(ref Unsafe.Add(ref MemoryMarshal.GetReference(x), c * g.Height * g.Width), g.Width, g.Height,
                        ref Unsafe.Add(ref first, PhaseSplit.At(p, phase)), ref Unsafe.Add(ref first, PhaseSplit.At(p + 1, phase)), rowStride);
                    continue;
                }
                for (int iy = 0; iy < g.Height; iy++)
                {
                    ref float from = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (c * g.Height + iy) * g.Width);
                    ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), c * plane + (iy + g.Padding) * rowStride);
                    // Input column ix is padded column ix + p: phase (ix + p) mod 2, at (ix + p) / 2.
                    int p = g.Padding;
                    ref float evens = ref Unsafe.Add(ref row, PhaseSplit.At(p, phase));
                    ref float odds = ref Unsafe.Add(ref row, PhaseSplit.At(p + 1, phase));
                    int ix = 0;
                    for (; ix <= g.Width - 16; ix += 16)
                    {
                        var (e, o) = VectorRows.Deinterleave(ref Unsafe.Add(ref from, ix));
                        e.StoreUnsafe(ref evens, (nuint)(ix / 2));
                        o.StoreUnsafe(ref odds, (nuint)(ix / 2));
                    }
                    for (; ix < g.Width; ix++)
                    {
                        int px = ix + p;
                        Unsafe.Add(ref row, PhaseSplit.At(px, phase)) = Unsafe.Add(ref from, ix);
                    }
                }
            }

            Span<int> offsets = stackalloc int[taps]; // taps ≤ MaxPhaseTaps (UsePhases); only these are cleared
            int t = 0;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < k; ky++)
                {
                    for (int kx = 0; kx < k; kx++, t++) offsets[t] = ic * plane + ky * rowStride + PhaseSplit.At(kx, phase);
                }
            }

            // The vectors of 16 output cells, row by row; each row's last one moved back to end at the row's end.
            int perRow = (g.OutWidth + 15) / 16, vectors = g.OutHeight * perRow;
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref int o0 = ref MemoryMarshal.GetReference(offsets);
            ref float y0 = ref MemoryMarshal.GetReference(y);
            // Channels outside, cells inside: each output plane is written front to back (planes 4 KB apart, written a
            // vector at a time across 32 channels, evicted each other's half-written lines: 2x slower on the 64x64 stem).
            // Blocks of up to 6 channels, as even as they go (32 as 6 6 5 5 5 5, not five 6s and a 2: a 2-channel tile
            // spends as many input loads per multiply-add as 6 channels do per three).
            int blocks = (outChannels + 5) / 6;
            for (int block = 0; block < blocks; block++)
            {
                int oc = block * outChannels / blocks, channels = (block + 1) * outChannels / blocks - oc;
                var next = new VectorCursor(perRow, rowStride, g.OutWidth);
                for (int first = 0; first < vectors; first += 4)
                {
                    int count = Math.Min(4, vectors - first);
                    int in0 = 0, in1 = 0, in2 = 0, in3 = 0, out0 = 0, out1 = 0, out2 = 0, out3 = 0;
                    next.Take(ref in0, ref out0);
                    if (count > 1) next.Take(ref in1, ref out1);
                    if (count > 2) next.Take(ref in2, ref out2);
                    if (count > 3) next.Take(ref in3, ref out3);
                    var starts = new PhaseVectors(in0, in1, in2, in3, out0, out1, out2, out3);
                    switch (count)
                    {
                        case 1: PhaseTile<C1>(channels, ref p0, ref o0, taps, weight, bias, oc, ref y0, g.Cells, starts, relu); break;
                        case 2: PhaseTile<C2>(channels, ref p0, ref o0, taps, weight, bias, oc, ref y0, g.Cells, starts, relu); break;
                        case 3: PhaseTile<C3>(channels, ref p0, ref o0, taps, weight, bias, oc, ref y0, g.Cells, starts, relu); break;
                        default: PhaseTile<C4>(channels, ref p0, ref o0, taps, weight, bias, oc, ref y0, g.Cells, starts, relu); break;
                    }
                }
            }
        }

        /// <summary>Whether the phases kernel clears only the cells its copy does not write, rather than all its planes first (KernelBench turns it off to compare).</summary>
        internal static bool MarginsOnly = true;

        // The vectors of 16 output cells in order, row by row, each row's last one moved back to end at the row's end: where
        // each starts in the padded phase planes and in an output plane. Counted on rather than divided out (two integer
        // divisions a vector).
        private struct VectorCursor(int perRow, int rowStride, int outWidth)
        {
            private int row, column;

            public void Take(ref int input, ref int output)
            {
                int ox = Math.Min(column * 16, outWidth - 16);
                input = row * 2 * rowStride + ox;
                output = row * outWidth + ox;
                if (++column == perRow)
                {
                    column = 0;
                    row++;
                }
            }
        }

        // Where each of a tile's vectors starts: in the padded phase planes, and in an output plane.
        private readonly struct PhaseVectors(int in0, int in1, int in2, int in3, int out0, int out1, int out2, int out3)
        {
            public readonly int In0 = in0, In1 = in1, In2 = in2, In3 = in3, Out0 = out0, Out1 = out1, Out2 = out2, Out3 = out3;
        }

        private static void PhaseTile<TVectors>(int channels, ref float padded, ref int offsets, int taps, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> bias, int oc, ref float y, int cells, in PhaseVectors v, bool relu) where TVectors : struct, IConstant
        {
            switch (channels)
            {
                case 1: PhaseTile<TVectors, C1>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
                case 2: PhaseTile<TVectors, C2>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
                case 3: PhaseTile<TVectors, C3>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
                case 4: PhaseTile<TVectors, C4>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
                case 5: PhaseTile<TVectors, C5>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
                default: PhaseTile<TVectors, C6>(ref padded, ref offsets, taps, weight, bias, oc, ref y, cells, v, relu); break;
            }
        }

        // TChannels output channels x TVectors vectors of 16 cells; each loaded input vector feeds TChannels FMAs.
        private static void PhaseTile<TVectors, TChannels>(ref float padded, ref int offsets, int taps, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> bias, int oc, ref float y, int cells, in PhaseVectors v, bool relu)
            where TVectors : struct, IConstant where TChannels : struct, IConstant
        {
            int n = TChannels.Value;
            var b0 = Vector512.Create(BiasOf(bias, oc));
            var b1 = n > 1 ? Vector512.Create(BiasOf(bias, oc + 1)) : default;
            var b2 = n > 2 ? Vector512.Create(BiasOf(bias, oc + 2)) : default;
            var b3 = n > 3 ? Vector512.Create(BiasOf(bias, oc + 3)) : default;
            var b4 = n > 4 ? Vector512.Create(BiasOf(bias, oc + 4)) : default;
            var b5 = n > 5 ? Vector512.Create(BiasOf(bias, oc + 5)) : default;
            // a{vector}{channel}
            var a00 = b0; var a01 = b1; var a02 = b2; var a03 = b3; var a04 = b4; var a05 = b5;
            var a10 = b0; var a11 = b1; var a12 = b2; var a13 = b3; var a14 = b4; var a15 = b5;
            var a20 = b0; var a21 = b1; var a22 = b2; var a23 = b3; var a24 = b4; var a25 = b5;
            var a30 = b0; var a31 = b1; var a32 = b2; var a33 = b3; var a34 = b4; var a35 = b5;
            ref float r0 = ref Unsafe.Add(ref padded, v.In0);
            ref float r1 = ref Unsafe.Add(ref padded, v.In1);
            ref float r2 = ref Unsafe.Add(ref padded, v.In2);
            ref float r3 = ref Unsafe.Add(ref padded, v.In3);
            ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), oc * taps);
            for (int t = 0; t < taps; t++)
            {
                nuint at = (nuint)Unsafe.Add(ref offsets, t);
                var x0 = Vector512.LoadUnsafe(ref r0, at);
                var x1 = TVectors.Value > 1 ? Vector512.LoadUnsafe(ref r1, at) : default;
                var x2 = TVectors.Value > 2 ? Vector512.LoadUnsafe(ref r2, at) : default;
                var x3 = TVectors.Value > 3 ? Vector512.LoadUnsafe(ref r3, at) : default;
                ref float wt = ref Unsafe.Add(ref w0, t);
                var k = Vector512.Create(wt);
                a00 = Fused.MultiplyAdd(x0, k, a00);
                if (TVectors.Value > 1) a10 = Fused.MultiplyAdd(x1, k, a10);
                if (TVectors.Value > 2) a20 = Fused.MultiplyAdd(x2, k, a20);
                if (TVectors.Value > 3) a30 = Fused.MultiplyAdd(x3, k, a30);
                if (n > 1)
                {
                    k = Vector512.Create(Unsafe.Add(ref wt, taps));
                    a01 = Fused.MultiplyAdd(x0, k, a01);
                    if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11);
                    if (TVectors.Value > 2) a21 = Fused.MultiplyAdd(x2, k, a21);
                    if (TVectors.Value > 3) a31 = Fused.MultiplyAdd(x3, k, a31);
                }
                if (n > 2)
                {
                    k = Vector512.Create(Unsafe.Add(ref wt, 2 * taps));
                    a02 = Fused.MultiplyAdd(x0, k, a02);
                    if (TVectors.Value > 1) a12 = Fused.MultiplyAdd(x1, k, a12);
                    if (TVectors.Value > 2) a22 = Fused.MultiplyAdd(x2, k, a22);
                    if (TVectors.Value > 3) a32 = Fused.MultiplyAdd(x3, k, a32);
                }
                if (n > 3)
                {
                    k = Vector512.Create(Unsafe.Add(ref wt, 3 * taps));
                    a03 = Fused.MultiplyAdd(x0, k, a03);
                    if (TVectors.Value > 1) a13 = Fused.MultiplyAdd(x1, k, a13);
                    if (TVectors.Value > 2) a23 = Fused.MultiplyAdd(x2, k, a23);
                    if (TVectors.Value > 3) a33 = Fused.MultiplyAdd(x3, k, a33);
                }
                if (n > 4)
                {
                    k = Vector512.Create(Unsafe.Add(ref wt, 4 * taps));
                    a04 = Fused.MultiplyAdd(x0, k, a04);
                    if (TVectors.Value > 1) a14 = Fused.MultiplyAdd(x1, k, a14);
                    if (TVectors.Value > 2) a24 = Fused.MultiplyAdd(x2, k, a24);
                    if (TVectors.Value > 3) a34 = Fused.MultiplyAdd(x3, k, a34);
                }
                if (n > 5)
                {
                    k = Vector512.Create(Unsafe.Add(ref wt, 5 * taps));
                    a05 = Fused.MultiplyAdd(x0, k, a05);
                    if (TVectors.Value > 1) a15 = Fused.MultiplyAdd(x1, k, a15);
                    if (TVectors.Value > 2) a25 = Fused.MultiplyAdd(x2, k, a25);
                    if (TVectors.Value > 3) a35 = Fused.MultiplyAdd(x3, k, a35);
                }
            }
            ref float c0 = ref Unsafe.Add(ref y, oc * cells);
            StoreVectors<TVectors>(ref c0, v, a00, a10, a20, a30, relu);
            if (n > 1) StoreVectors<TVectors>(ref Unsafe.Add(ref c0, cells), v, a01, a11, a21, a31, relu);
            if (n > 2) StoreVectors<TVectors>(ref Unsafe.Add(ref c0, 2 * cells), v, a02, a12, a22, a32, relu);
            if (n > 3) StoreVectors<TVectors>(ref Unsafe.Add(ref c0, 3 * cells), v, a03, a13, a23, a33, relu);
            if (n > 4) StoreVectors<TVectors>(ref Unsafe.Add(ref c0, 4 * cells), v, a04, a14, a24, a34, relu);
            if (n > 5) StoreVectors<TVectors>(ref Unsafe.Add(ref c0, 5 * cells), v, a05, a15, a25, a35, relu);
        }

        // Cell i's input offset from the tile's first cell: the JIT folds the row and the column (both constants) to one
        // register or displacement.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint CellAt<TWidth>(int i, int stride, nint row1, nint row2, nint row3) where TWidth : struct, IConstant
        {
            int row = i / TWidth.Value, column = i % TWidth.Value;
            nint rowOffset = row == 0 ? 0 : row == 1 ? row1 : row == 2 ? row2 : row3;
            return rowOffset + column * stride;
        }

        private static float BiasOf(ReadOnlySpan<float> bias, int oc) => bias.IsEmpty ? 0f : bias[oc];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreVectors<TVectors>(ref float plane, in PhaseVectors v, Vector512<float> a0, Vector512<float> a1,
            Vector512<float> a2, Vector512<float> a3, bool relu) where TVectors : struct, IConstant
        {
            if (relu)
            {
                a0 = Elementwise.Relu(a0); a1 = Elementwise.Relu(a1); a2 = Elementwise.Relu(a2); a3 = Elementwise.Relu(a3);
            }
            a0.StoreUnsafe(ref plane, (nuint)v.Out0);
            if (TVectors.Value > 1) a1.StoreUnsafe(ref plane, (nuint)v.Out1);
            if (TVectors.Value > 2) a2.StoreUnsafe(ref plane, (nuint)v.Out2);
            if (TVectors.Value > 3) a3.StoreUnsafe(ref plane, (nuint)v.Out3);
        }

        /// <summary>The scalar path: the definition, one output cell at a time.</summary>
        private static void ForwardScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, bool relu, in Geometry g)
        {
            int k = g.Kernel;
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float sum = bias.IsEmpty ? 0f : bias[oc];
                        for (int ic = 0; ic < g.InChannels; ic++)
                        {
                            for (int ky = 0; ky < k; ky++)
                            {
                                int iy = oy * g.Stride + ky - g.Padding;
                                if ((uint)iy >= (uint)g.Height) continue;
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int ix = ox * g.Stride + kx - g.Padding;
                                    if ((uint)ix >= (uint)g.Width) continue;
                                    sum += x[(ic * g.Height + iy) * g.Width + ix] * weight[((oc * g.InChannels + ic) * k + ky) * k + kx];
                                }
                            }
                        }
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = relu ? Elementwise.Relu(sum) : sum;
                    }
                }
            }
        }
    }
}
