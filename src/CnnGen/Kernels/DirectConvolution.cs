using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 convolution computed directly, without im2col: the forward pass of the generated <c>Conv2d</c> layers.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The input is copied once into a zero-padded buffer (rows of <c>W + 2p</c>). In that layout a stride-1 convolution is
    /// a one-dimensional one: output cell <c>(oy, ox)</c>, placed at flat position <c>j = oy·(W+2p) + ox</c>, is the sum
    /// over taps of <c>padded[ic][j + ky·(W+2p) + kx]</c> times a weight. So consecutive flat positions are consecutive
    /// inputs for every tap, and a vector of 16 (or 8) output cells is one unaligned load per tap, whatever the width.
    /// The <c>K−1</c> positions at the end of each padded row are not output cells; they are computed and dropped.
    /// </para>
    /// <para>
    /// The register tile is 4 output channels x 4 vectors of 16 cells (Vector512) or 4 x 2 vectors of 8 (Vector256),
    /// started at the bias: per tap, 4 loads and 4 weight broadcasts feed 16 (or 8) fused multiply-adds. A block of 4
    /// channels is written to a flat scratch row, then copied to the NCHW output (dropping the padding columns, applying
    /// ReLU when asked) while it is still in L1.
    /// </para>
    /// </remarks>
    public static partial class DirectConvolution
    {
        private const int ChannelBlock = 4;
        // Six channels per tile on Vector512 when the count is a multiple of 6 but not of 4 (LeNet's first convolution).
        private const int WideChannelBlock = 6;
        private const int FlatAlignment = 16;
        // Cells per row of a lanes tile, at most (see LanesTile).
        private const int LanesTileCells = 10;

        // Kernel and padding per axis: the square layers of Conv2dEmitter and, through GroupedConvolution, the 1xk / kx1
        // layers of Inception-style networks run the same tiles (a tap is one offset ky·(W+2pw) + kx whatever the shape).
        private readonly struct Geometry
        {
            public readonly int InChannels, Height, Width, KernelHeight, KernelWidth, PaddingHeight, PaddingWidth;
            public readonly int PaddedWidth, PaddedHeight, Plane, OutHeight, OutWidth, FlatLength, PaddedLength, Taps;

            public Geometry(int inChannels, int height, int width, int kernel, int padding)
                : this(inChannels, height, width, kernel, kernel, padding, padding)
            {
            }

            public Geometry(int inChannels, int height, int width, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth)
            {
                InChannels = inChannels; Height = height; Width = width;
                KernelHeight = kernelHeight; KernelWidth = kernelWidth; PaddingHeight = paddingHeight; PaddingWidth = paddingWidth;
                PaddedWidth = width + 2 * paddingWidth;
                PaddedHeight = height + 2 * paddingHeight;
                Plane = PaddedHeight * PaddedWidth;
                OutHeight = PaddedHeight - kernelHeight + 1;
                OutWidth = PaddedWidth - kernelWidth + 1;
                // Whole vectors of flat positions covering every output row.
                FlatLength = RoundUp(OutHeight * PaddedWidth, FlatAlignment);
                // The last vector reads up to FlatAlignment + kernelWidth floats past the last plane: zeros.
                PaddedLength = RoundUp(inChannels * Plane + FlatAlignment + kernelWidth, FlatAlignment);
                Taps = inChannels * kernelHeight * kernelWidth;
            }

            /// <summary>Kernel and padding the same on both axes: the only shapes the Winograd and over-batch paths take.</summary>
            public bool Square => KernelHeight == KernelWidth && PaddingHeight == PaddingWidth;
            /// <summary>The kernel of a <see cref="Square"/> geometry.</summary>
            public int Kernel => KernelHeight;
            /// <summary>The padding of a <see cref="Square"/> geometry.</summary>
            public int Padding => PaddingHeight;
            /// <summary>Taps of one input channel.</summary>
            public int KernelArea => KernelHeight * KernelWidth;

            private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
        }

        /// <summary>Floats of scratch the kernels of this class need for one sample of a layer of this shape.</summary>
        public static int ScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            return Math.Max(ForwardScratch(g, outChannels, filtersKept: false), BackwardScratch(g, outChannels));
        }

        /// <summary>Floats of scratch the per-axis forward and backward (kernel and padding per axis) need for one sample.</summary>
        internal static int ScratchLengthPerAxis(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth)
        {
            var g = new Geometry(inChannels, height, width, kernelHeight, kernelWidth, paddingHeight, paddingWidth);
            return Math.Max(ForwardScratch(g, outChannels, filtersKept: false), BackwardScratch(g, outChannels));
        }

        /// <summary>
        /// <see cref="ScratchLength"/> for a caller that keeps the layer's Winograd filters (<see cref="WinogradFiltersLength"/>)
        /// and passes them to every call: without room for transforming them per call (a large layer's F(4x4, 3x3) filters are
        /// 36 floats per weight pair).
        /// </summary>
        public static int ScratchLengthWithFilters(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            var g = new Geometry(inChannels, height, width, kernel, padding);
            return Math.Max(ForwardScratch(g, outChannels, filtersKept: true), BackwardScratch(g, outChannels));
        }

        // The padded input, the output gradient in flat rows, then the flat column gradients [taps x flat] of the input
        // gradient or, before it, the weight gradient's transposed d y and d weight (WeightScratch).
        private static int BackwardScratch(in Geometry g, int outChannels) =>
            Math.Max(Math.Max(g.PaddedLength + outChannels * g.FlatLength + Math.Max(g.Taps * g.FlatLength, WeightScratch(g, outChannels)),
                Math.Max(InputGradientScratch(g, outChannels),
                    WeightGradientByWinograd(g, outChannels) || WeightGradientOverSamplesByWinograd(g, outChannels) ? WeightGradientLayout(g, outChannels).ScratchLength : 0)),
                SharesBlockedOutputGradient(g, outChannels) ? SharedOutputGradientScratch(InputGradientF4Layout(g, outChannels), WeightGradientLayout(g, outChannels)) : 0);

        // Up to 15 floats to a cache line, the input gradient's F(4x4) staging and blocked d y, then the weight gradient's scratch.
        private static int SharedOutputGradientScratch(in WinogradF4Convolution.Layout input, in WinogradWeightGradient.Layout weights) =>
            15 + input.StagingLength + input.PaddedLength + weights.ScratchLength;

        // Both gradients by Winograd over a pass's samples: the weight gradient reads d y where the input gradient's F(4x4)
        // blocked it, when that padded copy covers the weight gradient's even rows and columns of d y (zeros past its edges).
        // KernelBench wgrad-shared (16 samples, both gradients, thread CPU, best of 40 interleaved rounds, load 16-20; own
        // blocks / shared): 16@32x32 1.01, 32@16x16 1.17, 64@8x8 1.15, 32@32x32 1.17, 64@16x16 1.08, 128@8x8 1.05, 16@16x16
        // 1.03, 128@16x16 1.08, 24@15x15->40 1.20, 20@9x9->36 1.20, 16@8x8 1.11, 32@8x8 1.17, 64@6x6 1.10, 64@4x4 1.05,
        // 16@64x64 1.13, p0 32@18x18 1.15, 64@10x10 1.09: no shape loses, so every such layer shares (no rule by size).
        private static bool SharesBlockedOutputGradient(in Geometry g, int outChannels)
        {
            if (!WeightGradientOverSamplesByWinograd(g, outChannels) || !InputGradientByWinograd(g, outChannels)) return false;
            var inputLayout = InputGradientF4Layout(g, outChannels);
            var weightLayout = WeightGradientLayout(g, outChannels);
            return inputLayout.Padding + weightLayout.GradientRows <= inputLayout.PaddedHeight
                && inputLayout.Padding + weightLayout.GradientColumns <= inputLayout.PaddedWidth;
        }

        // Off: every pass blocks d y twice again (KernelBench wgrad-shared's whole ResNet-8 pass, before against after).
        internal static bool SharedOutputGradientInPasses = true;

        internal static bool SharesBlockedOutputGradientFor(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            WinogradOn(DefaultPath) && SharesBlockedOutputGradient(new Geometry(inChannels, height, width, kernel, padding), outChannels);

        // The weight gradient by Winograd (F(4x4, 3x3) or F(2x2, 3x3): WinogradWeightGradient.TileFor) where it measured faster
        // (WinogradWeightGradient.Pays) and this machine runs the tile picked.
        private static bool WeightGradientByWinograd(in Geometry g, int outChannels) =>
            WeightGradientWinogradRuns(g, outChannels) && WinogradWeightGradient.Pays(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        // The same summed over a pass's samples before one filter transform (WinogradWeightGradient.PaysOverSamples).
        private static bool WeightGradientOverSamplesByWinograd(in Geometry g, int outChannels) =>
            WeightGradientWinogradRuns(g, outChannels) && WinogradWeightGradient.PaysOverSamples(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        // Whether the Winograd weight gradient can run this layer here: its shape, and the tile TileFor picks on this machine.
        private static bool WeightGradientWinogradRuns(in Geometry g, int outChannels) =>
            g.Square && WinogradShape(g.InChannels, outChannels, g.Kernel)
            && WinogradWeightGradient.RunsTile(WinogradWeightGradient.TileFor(g.InChannels, g.Height, g.Width, outChannels, g.Padding));

        // What every Winograd path needs: a 3x3 kernel, enough channels each way, and the kernels on this machine: the forward's
        // on Vector512 (5x5 too: F(2x2, 5x5)) or Vector256 (WinogradF4Convolution.Runs), the weight gradient's likewise (3x3:
        // F(2x2, 3x3) and F(4x4, 3x3) on Vector512, F(4x4, 3x3) on Vector256, WinogradWeightGradient.RunsTile).
        private static bool WinogradShape(int inChannels, int outChannels, int kernel, bool forward = false) =>
            (forward ? WinogradF4Convolution.Runs(kernel) : kernel == 3 && (Vector512.IsHardwareAccelerated || WinogradF4Convolution.Runs(kernel)))
            && inChannels >= MinimumWinogradChannels && outChannels >= MinimumWinogradChannels;

        private static WinogradWeightGradient.Layout WeightGradientLayout(in Geometry g, int outChannels) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Padding);

        // The padded input, then the flat rows of one channel block, or the packed weights and one lane block's cells.
        private static int ForwardScratch(in Geometry g, int outChannels, bool filtersKept) =>
            Math.Max(Math.Max(g.PaddedLength + Math.Max(WideChannelBlock * g.FlatLength, outChannels * g.Taps + g.OutHeight * g.OutWidth * 32), // two blocks' cells (LanesTilePair)
                ForwardByWinograd(g, outChannels) ? F4Layout(g, outChannels).ScratchLength + (filtersKept ? 0 : F4Layout(g, outChannels).FiltersLength) : 0), // room to transform them per call
                Math.Max(ForwardByRowWinograd(g, outChannels, pool: false) ? RowLayout(g, outChannels).ScratchLength : 0, // the pooled shapes are among these
                    Lanes256Scratch(g, outChannels)));

        // RowWinogradConvolution (one-dimensional Winograd along the rows, filters transformed on the call) where it measured
        // faster than the direct kernels. KernelBench row-winograd (thread CPU, best of 40 interleaved rounds; direct / rows):
        // from 3 to 7 channels 1.13-1.64x onto 16 to 64 (3x32x32 -> 16 k3 1.13x, -> 32 k3 1.34x, -> 64 k3 1.34x, -> 32 k5
        // 1.51x, 7x32x32 -> 32 k5 1.64x, 3x28x28 -> 16 k3 1.14x, 3x224x224 -> 32 k3 1.09x); from 1 or 2 channels onto 32
        // or more, or onto 16 by 5x5, 1.12-1.24x (1x28x28 -> 32 k3 1.12x, -> 64 k3 1.24x, -> 16 k5 1.17x, -> 32 k5 1.24x),
        // but onto 16 by 3x3 1.03-1.10x. Pooled, only 5x5 from 3 or more channels pays (3x32x32 -> 32 k5 1.34x, 4x32x32 -> 16
        // k5 1.33x): the pooling is the same pass in both, and 3x3's products gain too little (3x32x32 -> 16 k3 0.95x,
        // -> 64 k3 1.08x, 1x28x28 -> 32 k3 0.69x, -> 32 k5 1.05x). Not under 28x28 outputs (LeNet-5's 6x14x14 -> 16 k5
        // 0.72x, 6x14x14 -> 16 k3 0.83x: the call's filters and the transforms outweigh the products), nor on rows that are
        // not whole tiles of 4 (30 a row 0.91x), nor LeNet-5's first layer (onto 6: 0.88x). Below MinimumWinogradChannels
        // only: from 8 channels the two-dimensional Winograd runs.
        private static bool ForwardByRowWinograd(in Geometry g, int outChannels, bool pool)
        {
            if (!g.Square || !Vector512.IsHardwareAccelerated || !RowWinogradConvolution.Handles(g.Kernel) || g.InChannels > RowWinogradConvolution.MaximumInChannels
                || g.OutWidth % 4 != 0 || g.OutHeight * g.OutWidth < 28 * 28 || outChannels < 16)
                return false;
            if (pool) return g.Kernel == 5 && g.InChannels >= 3;
            return g.InChannels >= 3 || outChannels >= 32 || g.Kernel == 5;
        }

        private static RowWinogradConvolution.Layout RowLayout(in Geometry g, int outChannels) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Padding);

        /// <summary>Whether this stride-1 shape's forward runs RowWinogradConvolution on the Vector512 path.</summary>
        internal static bool ForwardByRowWinograd(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool pool) =>
            inChannels > 0 && height > 0 && width > 0 && outChannels > 0 && kernel > 0 && padding >= 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
            && ForwardByRowWinograd(new Geometry(inChannels, height, width, kernel, padding), outChannels, pool);

        // F(4x4, 3x3) or F(2x2, 5x5) where it measured faster than the direct kernel (WinogradF4Convolution.Pays), on the
        // machine's own vector path (WinogradOn). For 3x3, F(4x4)'s domain holds every shape where F(2x2, 3x3) (WinogradConvolution) measured faster
        // than direct, and F(4x4) beat F(2x2) on all of them (benchmarks/README.md), so F(2x2, 3x3) is no longer run here;
        // KernelBench keeps it as the comparison.
        private static bool WinogradPays(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            WinogradShape(inChannels, outChannels, kernel, forward: true) && WinogradF4Convolution.Pays(inChannels, height, width, outChannels, kernel, padding);

        /// <summary>Whether this stride-1 shape's forward runs by Winograd on this machine's vector path (F(4x4, 3x3), or on Vector512 F(2x2, 5x5) too).</summary>
        internal static bool ForwardByWinograd(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            inChannels > 0 && height > 0 && width > 0 && outChannels > 0 && kernel > 0 && padding >= 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
            && ForwardByWinograd(new Geometry(inChannels, height, width, kernel, padding), outChannels);

        private static bool ForwardByWinograd(in Geometry g, int outChannels) =>
            g.Square && WinogradPays(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Padding);

        // d x = conv(d y, turned weights, padding k − 1 − p): d y's channels in, x's channels out, x's size out; 3x3 by
        // F(4x4, 3x3), 5x5 by F(2x2, 5x5), where the forward's rule says that convolution pays.
        private static bool InputGradientByWinograd(in Geometry g, int outChannels) =>
            g.Square && (g.Kernel == 3 || g.Kernel == 5) && g.Padding <= g.Kernel - 1
            && WinogradPays(outChannels, g.OutHeight, g.OutWidth, g.InChannels, g.Kernel, g.Kernel - 1 - g.Padding);

        /// <summary>
        /// Whether a call on this path may run F(4x4, 3x3): the machine's own vector path, whose width the Winograd kernels take
        /// (Vector512 with AVX-512, Vector256 with AVX2 only); a call asking for another path by name runs the direct kernels.
        /// </summary>
        internal static bool WinogradOn(KernelPath path) => path != KernelPath.Scalar && path == DefaultPath;

        /// <summary>
        /// Below this many channels in or out the transforms cost more than Winograd saves, whatever the map: the generator
        /// keeps no Winograd filters for such layers (its Conv2dEmitter holds the same number).
        /// </summary>
        internal const int MinimumWinogradChannels = 8;

        // Output channels in the vector lanes compute no padding columns; it pays when those are a fifth of the flat
        // rows or more (short rows: LeNet's second convolution computes 144 flat positions for 100 outputs) and the
        // channels fill whole vectors. On Vector256 the rule is Lanes256Shape's.
        private static bool UseLanes(in Geometry g, int outChannels, KernelPath path) =>
            path == KernelPath.Vector512 && outChannels % 16 == 0 && 5 * g.OutHeight * g.OutWidth < 4 * g.FlatLength
            || path == KernelPath.Vector256 && Fma.IsSupported && Avx2.IsSupported && Lanes256Shape(g, outChannels);

        /// <summary>Whether the Vector256 lanes kernel takes every square layer of whole 16-channel blocks, whatever its rule says (KernelBench's comparison).</summary>
        internal static bool Lanes256Everywhere { get; set; }

        /// <summary>Whether a stride-1 layer of this shape runs the output-channel lanes kernel on this path where Winograd does not (tests ask).</summary>
        internal static bool UsesLanes(int inChannels, int height, int width, int outChannels, int kernel, int padding, KernelPath path) =>
            UseLanes(new Geometry(inChannels, height, width, kernel, padding), outChannels, path);

        // Vector256 (no AVX-512): StridedConvolution's Vector256 lanes tiles at stride 1 (up to 6 cells x 16 output channels,
        // 12 accumulators; square kernels), where they measured faster than the flat tiles (session 61, Zen 3, KernelBench
        // lanes256, flat / lanes on kept weights): small maps most, whose flat rows are half padding columns or a vector too
        // short for the 3-vector tiles (2x2 maps 3.2-3.6x, 3x3 1.8x, 4x4 1.8-2.4x, 6x6 to 8x8 1.2-1.4x), LeNet-5's 6x14x14 -> 16
        // by 5x5 1.4-1.5x, 14x14 and 16x16 1.08-1.16x, 32x32 1.03-1.05x; not 3-channel stems (3x32x32 -> 32 0.79x: 27 taps
        // a cell, the flat tiles' 3 vectors of cells amortize their loads better). Whole blocks of 16 output channels.
        private static bool Lanes256Shape(in Geometry g, int outChannels) =>
            g.Square && outChannels % 16 == 0 && (Lanes256Everywhere || g.InChannels >= 6);

        // The Vector256 lanes kernel's scratch, and room for the NCHW maps a pooled layer's lanes write before the pooling;
        // counted on every machine, since a call may name the Vector256 path on an AVX-512 one (tests, KernelBench).
        private static int Lanes256Scratch(in Geometry g, int outChannels) =>
            Lanes256Shape(g, outChannels)
                ? StridedConvolution.Stride1LanesScratch(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Padding) + outChannels * g.OutHeight * g.OutWidth
                : 0;

        /// <summary>
        /// y = conv2d(x, weight, bias, stride 1, zero padding <paramref name="padding"/>), then ReLU when
        /// <paramref name="relu"/>, for one sample: x is [inChannels x height x width], weight
        /// [outChannels x inChannels x kernel x kernel] (PyTorch's layout), bias [outChannels] or empty, y
        /// [outChannels x (height + 2p − kernel + 1) x (width + 2p − kernel + 1)].
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the kernel is larger than the padded input.</exception>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the scratch shorter than <see cref="ScratchLength"/>.</exception>
        public static void Forward(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: false, DefaultPath);

        /// <summary>
        /// Like <see cref="Forward"/>, with a 2x2 max pooling at stride 2 (<see cref="Pooling.MaxPool2x2(ReadOnlySpan{float}, int, int, int, Span{float})"/>)
        /// fused into the epilogue: y is [outChannels x OH/2 x OW/2], and the convolution's own output is never written.
        /// The values are those of the three layers run one after the other, bit for bit.
        /// </summary>
        public static void ForwardPooled(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: true, DefaultPath);

        /// <summary>
        /// <see cref="Forward"/> for evaluation: by RowWinogradConvolution (a one-dimensional Winograd along the rows) where
        /// it measured faster than the direct kernels (3x3 or 5x5 from up to 7 input channels onto 16 or more, maps of 28x28
        /// or more, whole tiles of 4 a row: RGB and grayscale stems), else as <see cref="Forward"/>. Its floats are within
        /// 3e-6 of the products' magnitudes of the definition's, not the direct kernels' own; the generated code calls it in
        /// evaluation only, so that a training step keeps the direct kernels' floats (PyTorch parity of the steps, TrainingTests).
        /// </summary>
        public static void ForwardByRows(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: false, DefaultPath, allowRows: true);

        /// <summary><see cref="ForwardPooled"/> for evaluation, as <see cref="ForwardByRows"/>.</summary>
        public static void ForwardPooledByRows(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: true, DefaultPath, allowRows: true);

        /// <summary>
        /// <see cref="Forward"/> reading the filters that <see cref="TransformFilters"/> made from <paramref name="weight"/>
        /// (<see cref="WinogradFiltersLength"/> floats, kept by the caller and transformed again whenever the weights change):
        /// Winograd filters, or the weights packed for the lanes kernel. On a shape or a machine that keeps none the filters are
        /// empty and this is <see cref="Forward"/>. Stale filters give the old weights' result: the caller owns keeping them current.
        /// </summary>
        public static void ForwardWithFilters(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, ReadOnlySpan<float> winogradFilters) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: false, DefaultPath, winogradFilters: winogradFilters);

        /// <summary><see cref="ForwardPooled"/> with transformed filters, as <see cref="ForwardWithFilters"/>.</summary>
        public static void ForwardPooledWithFilters(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, ReadOnlySpan<float> winogradFilters) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool: true, DefaultPath, winogradFilters: winogradFilters);

        /// <summary>
        /// Floats a training pass keeps for the layer's weight gradient summed over its samples before the Winograd filter
        /// transform (<see cref="BackwardWithFilters(ReadOnlySpan{float}, int, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float}, Span{float}, int, int)"/>):
        /// 0 where the runtime takes the weight gradient directly (no SIMD, a tile this machine does not run: F(2x2, 3x3) without AVX-512,
        /// or a shape where Winograd summed over the samples does not pay: WinogradWeightGradient.PaysOverSamples); F(4x4, 3x3)'s sums
        /// or F(2x2, 3x3)'s, as WinogradWeightGradient.TileFor picks.
        /// </summary>
        public static int WeightGradientProductsLength(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (!WinogradOn(DefaultPath) || inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0 || kernel <= 0 || padding < 0) return 0;
            var g = new Geometry(inChannels, height, width, kernel, padding);
            if (g.OutHeight <= 0 || g.OutWidth <= 0) return 0;
            return WeightGradientOverSamplesByWinograd(g, outChannels) ? WeightGradientLayout(g, outChannels).ProductLength : 0;
        }

        /// <summary>
        /// Floats of filters a layer of this shape keeps between calls for <see cref="ForwardWithFilters"/> and
        /// <c>BackwardWithFilters</c>: the forward's (<see cref="TransformFilters"/>: Winograd filters, or, where the
        /// forward runs the output-channel lanes kernel, the weights packed for it) or the input gradient's Winograd filters
        /// (<see cref="TransformFiltersForInputGradient"/>), whichever is larger, since a workspace holds one or the other at a
        /// time. 0 when neither pass reads kept filters on this machine (then nothing needs transforming).
        /// </summary>
        public static int WinogradFiltersLength(int inChannels, int height, int width, int outChannels, int kernel, int padding)
        {
            if (DefaultPath == KernelPath.Scalar || inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0 || kernel <= 0 || padding < 0) return 0;
            var g = new Geometry(inChannels, height, width, kernel, padding);
            if (g.OutHeight <= 0 || g.OutWidth <= 0) return 0;
            int forward = ForwardByWinograd(g, outChannels) ? F4Layout(g, outChannels).FiltersLength : ForwardByKeptLanes(g, outChannels) ? outChannels * g.Taps : 0;
            int backward = InputGradientByWinograd(g, outChannels) ? InputGradientF4Layout(g, outChannels).FiltersLength : 0;
            return Math.Max(forward, backward);
        }

        /// <summary>
        /// The forward's kept filters from PyTorch-layout <paramref name="weight"/> into <paramref name="filters"/>
        /// (<see cref="WinogradFiltersLength"/> floats; nothing to do when that is 0): Winograd filters, or the weights packed
        /// for the lanes kernel. Once per change of the weights.
        /// </summary>
        public static void TransformFilters(ReadOnlySpan<float> weight, int inChannels, int height, int width, int outChannels, int kernel, int padding, Span<float> filters)
        {
            int length = WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding);
            if (length == 0) return;
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, inChannels * height * width, weight.Length);
            Require(filters.Length >= length, nameof(filters), length);
            if (ForwardByWinograd(g, outChannels)) WinogradF4Convolution.TransformFilters(weight, filters, F4Layout(g, outChannels));
            else if (ForwardByKeptLanes(g, outChannels)) PackLanes(weight, outChannels, g.Taps, filters);
        }

        // A layer that keeps filters and runs the output-channel lanes kernel keeps its weights packed for it instead
        // ([block][tap][16 channels]), so a call does not pack them again: on small maps with many channels (VGG's 512
        // channels on 2x2) the packing was most of the call, the weights being read three times for a few cells each.
        private static bool ForwardByKeptLanes(in Geometry g, int outChannels) =>
            DefaultPath != KernelPath.Scalar && !ForwardByWinograd(g, outChannels) && UseLanes(g, outChannels, DefaultPath)
            && g.InChannels >= MinimumWinogradChannels && outChannels >= MinimumWinogradChannels;

        /// <summary>
        /// The input gradient's Winograd filters into <paramref name="filters"/>: the input gradient of a 3x3 or 5x5 stride-1
        /// convolution is the k x k convolution of d y with the weights turned half a turn and their channels swapped, at
        /// padding k − 1 − p, which <c>BackwardWithFilters</c>
        /// then runs through the forward Winograd kernel. Once per backward pass (the weights change every step), not per sample.
        /// </summary>
        public static void TransformFiltersForInputGradient(ReadOnlySpan<float> weight, int inChannels, int height, int width, int outChannels, int kernel, int padding, Span<float> filters)
        {
            int length = WinogradFiltersLength(inChannels, height, width, outChannels, kernel, padding);
            if (length == 0) return;
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, inChannels * height * width, weight.Length);
            Require(filters.Length >= length, nameof(filters), length);
            if (InputGradientByWinograd(g, outChannels))
                WinogradF4Convolution.TransformFiltersTransposed(weight, outChannels, inChannels, filters, InputGradientF4Layout(g, outChannels));
        }

        private static WinogradF4Convolution.Layout F4Layout(in Geometry g, int outChannels) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Padding, g.Kernel);

        private static WinogradF4Convolution.Layout InputGradientF4Layout(in Geometry g, int outChannels) =>
            new(outChannels, g.OutHeight, g.OutWidth, g.InChannels, g.Kernel - 1 - g.Padding, g.Kernel);

        private static int InputGradientScratch(in Geometry g, int outChannels) =>
            InputGradientByWinograd(g, outChannels) ? InputGradientF4Layout(g, outChannels).ScratchLength : 0;

        private static KernelPath DefaultPath =>
            !Simd.Enabled ? KernelPath.Scalar : Vector512.IsHardwareAccelerated ? KernelPath.Vector512 : KernelPath.Vector256;

        /// <summary>Which code <see cref="Forward"/> runs; tests choose each one on a machine that has them all.</summary>
        internal enum KernelPath { Scalar, Vector256, Vector512 }

        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, bool pool, KernelPath path, bool allowWinograd = true, ReadOnlySpan<float> winogradFilters = default,
            ReadOnlySpan<float> packedLanes = default, bool allowRows = false, bool allowLanes = true) =>
            ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, kernel, padding, padding, y, scratch, relu, pool, path, allowWinograd, winogradFilters, packedLanes, allowRows, allowLanes);

        /// <summary>
        /// The forward pass with kernel and padding per axis (PyTorch's weight [outChannels x inChannels x kernelHeight x
        /// kernelWidth]): the same tiles as the square kernel, each tap one offset in the flat padded rows. Winograd takes
        /// square kernels only, so a 1x3 or 7x1 layer runs the direct tiles. GroupedConvolution sends its stride-1,
        /// ungrouped, undilated non-square layers here.
        /// </summary>
        internal static void ForwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth,
            Span<float> y, Span<float> scratch, bool relu, bool pool, KernelPath path, bool allowWinograd = true, ReadOnlySpan<float> winogradFilters = default,
            ReadOnlySpan<float> packedLanes = default, bool allowRows = false, bool allowLanes = true)
        {
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernelHeight, kernelWidth, paddingHeight, paddingWidth, x.Length, weight.Length);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            if (pool && (g.OutHeight < 2 || g.OutWidth < 2))
                throw new ArgumentOutOfRangeException(nameof(kernelHeight), kernelHeight, "A 2x2 pooling window needs an output of at least 2x2.");
            int yLength = pool ? outChannels * (g.OutHeight / 2) * (g.OutWidth / 2) : outChannels * g.OutHeight * g.OutWidth;
            Require(y.Length >= yLength, nameof(y), yLength);
            int scratchLength = ForwardScratch(g, outChannels, filtersKept: !winogradFilters.IsEmpty);
            Require(scratch.Length >= scratchLength, nameof(scratch), scratchLength);

            if (path == KernelPath.Scalar)
            {
                if (pool) ForwardPooledScalar(x, weight, bias, outChannels, y, relu, g);
                else ForwardScalar(x, weight, bias, outChannels, y, relu, g);
                return;
            }

            if (WinogradOn(path) && allowWinograd && ForwardByWinograd(g, outChannels))
            {
                var layout = F4Layout(g, outChannels);
                if (winogradFilters.IsEmpty)
                {
                    // No filters kept by the caller: transformed into the scratch past the kernel's own, for this call.
                    var filters = scratch.Slice(layout.ScratchLength, layout.FiltersLength);
                    WinogradF4Convolution.TransformFiltersForThisCall(weight, filters, layout);
                    WinogradF4Convolution.Forward(x, filters, bias, y, scratch.Slice(0, layout.ScratchLength), relu, pool, layout);
                }
                else
                {
                    Require(winogradFilters.Length >= layout.FiltersLength, nameof(winogradFilters), layout.FiltersLength);
                    WinogradF4Convolution.Forward(x, winogradFilters, bias, y, scratch, relu, pool, layout);
                }
                return;
            }
            if (path == KernelPath.Vector512 && allowRows && ForwardByRowWinograd(g, outChannels, pool))
            {
                RowWinogradConvolution.Forward(x, weight, bias, y, scratch, relu, pool, RowLayout(g, outChannels));
                return;
            }
            var padded = scratch.Slice(0, g.PaddedLength);
            if (allowLanes && UseLanes(g, outChannels, path))
            {
                // The caller's filters are these weights packed (TransformFilters), unless the layer runs Winograd and this call
                // was told not to: a call allowed Winograd reaches here only where the layer does not run it, so only the other
                // asks the rule again. (KernelBench passes packedLanes to time this kernel where Winograd would run.)
                var packed = !packedLanes.IsEmpty ? packedLanes
                    : winogradFilters.IsEmpty || !allowWinograd && ForwardByWinograd(g, outChannels) ? default : winogradFilters.Slice(0, outChannels * g.Taps);
                if (path == KernelPath.Vector256)
                {
                    ForwardLanes256(x, weight, packed, bias, outChannels, y, scratch, relu, pool, g);
                    return;
                }
                // Without padding, the lanes tiles read only cells of x itself (the last reads its last float): no copy.
                if (g.PaddingHeight == 0 && g.PaddingWidth == 0) ForwardLanes512(x, weight, packed, bias, outChannels, y, scratch.Slice(g.PaddedLength), relu, pool, g);
                else
                {
                    Pad(x, padded, g);
                    ForwardLanes512(padded, weight, packed, bias, outChannels, y, scratch.Slice(g.PaddedLength), relu, pool, g);
                }
                return;
            }
            Pad(x, padded, g);
            int channelBlock = path == KernelPath.Vector512 && outChannels % 4 != 0 && outChannels % WideChannelBlock == 0 ? WideChannelBlock : ChannelBlock;
            var flat = scratch.Slice(g.PaddedLength, channelBlock * g.FlatLength);
            for (int first = 0; first < outChannels; first += channelBlock)
            {
                int count = Math.Min(channelBlock, outChannels - first);
                if (path == KernelPath.Vector512) Block512(padded, weight, bias, first, count, flat, g);
                else Block256(padded, weight, bias, first, count, flat, g);
                if (pool) PoolFlat(flat, first, count, y, relu, g);
                else Unflatten(flat, first, count, y, relu, g);
            }
        }

        // The checks forward and backward share: positive sizes, a kernel that fits, an input and weights long enough.
        private static Geometry CheckedGeometry(int inChannels, int height, int width, int outChannels, int kernel, int padding, int xLength, int weightLength) =>
            CheckedGeometry(inChannels, height, width, outChannels, kernel, kernel, padding, padding, xLength, weightLength);

        private static Geometry CheckedGeometry(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth,
            int paddingHeight, int paddingWidth, int xLength, int weightLength)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelWidth);
            ArgumentOutOfRangeException.ThrowIfNegative(paddingHeight);
            ArgumentOutOfRangeException.ThrowIfNegative(paddingWidth);
            var g = new Geometry(inChannels, height, width, kernelHeight, kernelWidth, paddingHeight, paddingWidth);
            if (g.OutHeight <= 0 || g.OutWidth <= 0)
                throw new ArgumentOutOfRangeException(nameof(kernelHeight), kernelHeight, "The kernel is larger than the padded input.");
            Require(xLength >= inChannels * height * width, "x", inChannels * height * width);
            Require(weightLength >= outChannels * g.Taps, "weight", outChannels * g.Taps);
            return g;
        }

        private static void Require(bool ok, string name, int expected)
        {
            if (!ok) throw new ArgumentException("Expected at least " + expected + " floats.", name);
        }

        /// <summary>Copies x into the zero-padded planes (and zeroes the slack the last vectors read).</summary>
        private static void Pad(ReadOnlySpan<float> x, Span<float> padded, in Geometry g)
        {
            if (g.PaddingHeight == 0 && g.PaddingWidth == 0)
            {
                x.Slice(0, g.InChannels * g.Plane).CopyTo(padded);
                padded.Slice(g.InChannels * g.Plane).Clear();
                return;
            }
            padded.Clear();
            for (int c = 0; c < g.InChannels; c++)
            {
                for (int iy = 0; iy < g.Height; iy++)
                {
                    CopyRow(ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (c * g.Height + iy) * g.Width),
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), c * g.Plane + (iy + g.PaddingHeight) * g.PaddedWidth + g.PaddingWidth), g.Width, relu: false);
                }
            }
        }

        // Short rows are copied many times per call: vectors of 8 with an overlapping last one (it rewrites the same
        // values) instead of a span copy's per-call overhead. ReLU on the way when asked.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void CopyRow(ref float source, ref float target, int length, bool relu)
        {
            if (length < 8 || !Vector256.IsHardwareAccelerated)
            {
                for (int i = 0; i < length; i++)
                {
                    float v = Unsafe.Add(ref source, i);
                    Unsafe.Add(ref target, i) = relu ? Elementwise.Relu(v) : v;
                }
                return;
            }
            for (int i = 0; ; i += 8)
            {
                if (i > length - 8) i = length - 8;
                var v = Vector256.LoadUnsafe(ref source, (nuint)i);
                if (relu) v = Elementwise.Relu(v);
                v.StoreUnsafe(ref target, (nuint)i);
                if (i == length - 8) break;
            }
        }

        /// <summary>Flat rows (stride W+2p) of a block of channels to NCHW rows (stride OW), with ReLU when asked.</summary>
        private static void Unflatten(ReadOnlySpan<float> flat, int first, int count, Span<float> y, bool relu, in Geometry g)
        {
            int outPlane = g.OutHeight * g.OutWidth;
            for (int r = 0; r < count; r++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    CopyRow(ref Unsafe.Add(ref MemoryMarshal.GetReference(flat), r * g.FlatLength + oy * g.PaddedWidth),
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (first + r) * outPlane + oy * g.OutWidth), g.OutWidth, relu);
                }
            }
        }

        // The Vector256 lanes kernel (StridedConvolution's tiles at stride 1) on kept packed weights or on weight packed here;
        // a pooled layer's maps go to the scratch past the kernel's own, then through the 2x2 max pooling into y (ReLU before
        // the maximum or after it gives the same floats).
        private static void ForwardLanes256(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> keptPacked, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, bool pool, in Geometry g)
        {
            bool packed = !keptPacked.IsEmpty;
            int own = StridedConvolution.Stride1LanesScratch(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Padding);
            var maps = pool ? scratch.Slice(own, outChannels * g.OutHeight * g.OutWidth) : y;
            StridedConvolution.ForwardStride1Lanes256(x, g.InChannels, g.Height, g.Width, packed ? keptPacked : weight, bias, outChannels, g.Kernel, g.Padding,
                maps, scratch.Slice(0, own), relu, packed);
            if (pool) Pooling.MaxPool2x2(maps, outChannels, g.OutHeight, g.OutWidth, y, vector: true);
        }

        /// <summary>
        /// The forward pass with the output channels in the lanes: weights packed [block][tap][16 channels], each tile 2 rows
        /// x up to 8 cells of accumulators started at the bias, taps summed in the same order as the flat path (so the
        /// values agree bit for bit); then each block's [cell][channel] results go to NCHW, through ReLU and pooling when asked.
        /// </summary>
        // keptPacked: the weights as PackLanes gives them, kept by the caller; empty: packed here, into the scratch.
        // With handOn, y is the next layer's padded input (into; DirectConvolution.ForwardLinked) and the results go there as
        // they are, [cell][16 channels], through ReLU: no transposes to NCHW.
        private static void ForwardLanes512(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> keptPacked, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, bool pool, in Geometry g, bool handOn = false, in WinogradF4Convolution.PaddedMaps into = default)
        {
            int taps = g.Taps, outHeight = g.OutHeight, outWidth = g.OutWidth, cellCount = outHeight * outWidth, pw = g.PaddedWidth;
            ref float cells = ref Unsafe.Add(ref MemoryMarshal.GetReference(scratch), outChannels * taps);
            if (keptPacked.IsEmpty) PackLanes(weight, outChannels, taps, scratch);
            ref float packed = ref keptPacked.IsEmpty ? ref MemoryMarshal.GetReference(scratch) : ref MemoryMarshal.GetReference(keptPacked);
            ref float x = ref MemoryMarshal.GetReference(padded);
            int tilesPerRow = (outWidth + LanesTileCells - 1) / LanesTileCells;
            int block = 0;
            if (PairsOfBlocks && outChannels % 32 == 0 && outWidth >= 2 && outWidth <= 4)
            {
                // Rows of 2 to 4 cells (VGG's and ResNet's 512 channels on 4x4 and 2x2): two blocks of 16 channels at a time, each
                // input broadcast feeding both, so a tap's loads (2 weights + 8 inputs) feed 16 FMAs instead of 9 loads feeding 8.
                // A tile takes two rows, or three of 3 cells.
                ref float cellsB = ref Unsafe.Add(ref cells, cellCount * 16);
                for (; block < outChannels; block += 32)
                {
                    var bA = bias.IsEmpty ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)block);
                    var bB = bias.IsEmpty ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)(block + 16));
                    ref float blockWeights = ref Unsafe.Add(ref packed, block * taps);
                    // Rows of 3 three at a time (a 3x3 map in one tile, each weight vector read once a call): 18 accumulators.
                    int rowStep = outWidth == 3 && ThreeRowTiles ? 3 : 2;
                    bool skipPadding = SkipsPadding(g);
                    for (int oy = 0; oy < outHeight; oy += rowStep)
                    {
                        ref float row0 = ref Unsafe.Add(ref x, oy * pw);
                        ref float tileA = ref Unsafe.Add(ref cells, oy * outWidth * 16);
                        ref float tileB = ref Unsafe.Add(ref cellsB, oy * outWidth * 16);
                        bool two = oy + 1 < outHeight, three = rowStep == 3 && oy + 2 < outHeight;
                        if (skipPadding) PaddedTilePair(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, oy, Math.Min(rowStep, outHeight - oy), outWidth, g);
                        else if (outWidth == 4 && two) LanesTilePair<C4, C2>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else if (outWidth == 4) LanesTilePair<C4, C1>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else if (three) LanesTilePair<C3, C3>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else if (outWidth == 3 && two) LanesTilePair<C3, C2>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else if (outWidth == 3) LanesTilePair<C3, C1>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else if (two) LanesTilePair<C2, C2>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                        else LanesTilePair<C2, C1>(ref row0, pw, ref blockWeights, 16 * taps, bA, bB, ref tileA, ref tileB, outWidth, g);
                    }
                    if (pool)
                    {
                        LanesPool(ref cells, block, y, relu, g);
                        LanesPool(ref cellsB, block + 16, y, relu, g);
                    }
                    else if (handOn)
                    {
                        LanesInto(ref cells, block, y, relu, outHeight, outWidth, into);
                        LanesInto(ref cellsB, block + 16, y, relu, outHeight, outWidth, into);
                    }
                    else
                    {
                        LanesStore(ref cells, cellCount, block, y, relu);
                        LanesStore(ref cellsB, cellCount, block + 16, y, relu);
                    }
                }
            }
            for (; block < outChannels; block += 16)
            {
                var b = bias.IsEmpty ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)block);
                ref float blockWeights = ref Unsafe.Add(ref packed, block * taps);
                for (int oy = 0; oy < outHeight; oy += 2)
                {
                    for (int tile = 0; tile < tilesPerRow; tile++)
                    {
                        // Even splits: 12 cells are 6 + 6, not 10 + 2.
                        int ox = tile * outWidth / tilesPerRow, width = (tile + 1) * outWidth / tilesPerRow - ox;
                        ref float row0 = ref Unsafe.Add(ref x, oy * pw + ox);
                        ref float tileCells = ref Unsafe.Add(ref cells, (oy * outWidth + ox) * 16);
                        if (oy + 1 < outHeight) LanesTile<C2>(width, ref row0, pw, ref blockWeights, b, ref tileCells, outWidth, g);
                        else LanesTile<C1>(width, ref row0, pw, ref blockWeights, b, ref tileCells, outWidth, g);
                    }
                }
                if (pool) LanesPool(ref cells, block, y, relu, g);
                else if (handOn) LanesInto(ref cells, block, y, relu, outHeight, outWidth, into);
                else LanesStore(ref cells, cellCount, block, y, relu);
            }
        }

        // One block's [cell][16 channels] results, through ReLU, into their group of a padded input laid out as maps.
        private static void LanesInto(ref float cells, int block, Span<float> target, bool relu, int outHeight, int outWidth, in WinogradF4Convolution.PaddedMaps maps)
        {
            ref float group = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), block / 16 * maps.PaddedGroupStride + maps.MapsOffset);
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float source = ref Unsafe.Add(ref cells, oy * outWidth * 16);
                ref float row = ref Unsafe.Add(ref group, oy * maps.PaddedWidth * 16);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    var v = Vector512.LoadUnsafe(ref source, (nuint)(ox * 16));
                    (relu ? Elementwise.Relu(v) : v).StoreUnsafe(ref row, (nuint)(ox * 16));
                }
            }
        }

        // weight [outChannels x taps] to [block][tap][16 channels]: each tap's 16 weights built as one vector and stored.
        internal static void PackLanes(ReadOnlySpan<float> weight, int outChannels, int taps, Span<float> packed)
        {
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float target = ref MemoryMarshal.GetReference(packed);
            for (int block = 0; block < outChannels; block += 16)
            {
                ref float r0 = ref Unsafe.Add(ref w, block * taps);
                ref float r4 = ref Unsafe.Add(ref r0, 4 * taps);
                ref float r8 = ref Unsafe.Add(ref r0, 8 * taps);
                ref float r12 = ref Unsafe.Add(ref r0, 12 * taps);
                ref float lanes = ref Unsafe.Add(ref target, block * taps);
                int t = 0;
                if (Avx512F.IsSupported)
                {
                    for (; t + 16 <= taps; t += 16) Transpose16(ref Unsafe.Add(ref r0, t), taps, ref Unsafe.Add(ref lanes, t * 16));
                }
                for (; t < taps; t++)
                {
                    Vector512.Create(
                        Unsafe.Add(ref r0, t), Unsafe.Add(ref r0, taps + t), Unsafe.Add(ref r0, 2 * taps + t), Unsafe.Add(ref r0, 3 * taps + t),
                        Unsafe.Add(ref r4, t), Unsafe.Add(ref r4, taps + t), Unsafe.Add(ref r4, 2 * taps + t), Unsafe.Add(ref r4, 3 * taps + t),
                        Unsafe.Add(ref r8, t), Unsafe.Add(ref r8, taps + t), Unsafe.Add(ref r8, 2 * taps + t), Unsafe.Add(ref r8, 3 * taps + t),
                        Unsafe.Add(ref r12, t), Unsafe.Add(ref r12, taps + t), Unsafe.Add(ref r12, 2 * taps + t), Unsafe.Add(ref r12, 3 * taps + t))
                        .StoreUnsafe(ref lanes, (nuint)(t * 16));
                }
            }
        }

        // target[j·16 + i] = source[i·stride + j] for a 16 x 16 block.
        internal static void Transpose16(ref float source, int stride, ref float target) => Transpose16(ref source, stride, ref target, 16);

        // target[j·targetStride + i] = source[i·stride + j] for a 16 x 16 block: unpack pairs of rows, then pairs of pairs (as
        // doubles), then swap 128-bit quarters twice. Inlined, so that the forwarder above compiles to its own copy with
        // constant offsets.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Transpose16(ref float source, int stride, ref float target, int targetStride) =>
            Transpose16<PlainRows>(ref source, stride, ref target, targetStride, ref target);

        // The same, each row of the target stored as TRows says: as it is, or added to the row at the same place of
        // shortcut (then ReLU): a residual join taken as the maps are turned into NCHW.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Transpose16<TRows>(ref float source, int stride, ref float target, int targetStride, ref float shortcut)
            where TRows : struct, IRowStore
        {
            nuint ts = (nuint)targetStride;
            var r0 = Vector512.LoadUnsafe(ref source); var r1 = Vector512.LoadUnsafe(ref source, (nuint)stride);
            var r2 = Vector512.LoadUnsafe(ref source, (nuint)(2 * stride)); var r3 = Vector512.LoadUnsafe(ref source, (nuint)(3 * stride));
            var r4 = Vector512.LoadUnsafe(ref source, (nuint)(4 * stride)); var r5 = Vector512.LoadUnsafe(ref source, (nuint)(5 * stride));
            var r6 = Vector512.LoadUnsafe(ref source, (nuint)(6 * stride)); var r7 = Vector512.LoadUnsafe(ref source, (nuint)(7 * stride));
            var r8 = Vector512.LoadUnsafe(ref source, (nuint)(8 * stride)); var r9 = Vector512.LoadUnsafe(ref source, (nuint)(9 * stride));
            var r10 = Vector512.LoadUnsafe(ref source, (nuint)(10 * stride)); var r11 = Vector512.LoadUnsafe(ref source, (nuint)(11 * stride));
            var r12 = Vector512.LoadUnsafe(ref source, (nuint)(12 * stride)); var r13 = Vector512.LoadUnsafe(ref source, (nuint)(13 * stride));
            var r14 = Vector512.LoadUnsafe(ref source, (nuint)(14 * stride)); var r15 = Vector512.LoadUnsafe(ref source, (nuint)(15 * stride));

            var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
            var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
            var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
            var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
            var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
            var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
            var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
            var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

            static Vector512<float> Low(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();
            static Vector512<float> High(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
            var u0 = Low(t0, t2); var u1 = High(t0, t2); var u2 = Low(t1, t3); var u3 = High(t1, t3);
            var u4 = Low(t4, t6); var u5 = High(t4, t6); var u6 = Low(t5, t7); var u7 = High(t5, t7);
            var u8 = Low(t8, t10); var u9 = High(t8, t10); var u10 = Low(t9, t11); var u11 = High(t9, t11);
            var u12 = Low(t12, t14); var u13 = High(t12, t14); var u14 = Low(t13, t15); var u15 = High(t13, t15);

            var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
            var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
            var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
            var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
            var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88);
            var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88);
            var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
            var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);

            TRows.Store(Avx512F.Shuffle4x128(v0, v8, 0x88), ref target, 0, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v1, v9, 0x88), ref target, 1 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v2, v10, 0x88), ref target, 2 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v3, v11, 0x88), ref target, 3 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v4, v12, 0x88), ref target, 4 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v5, v13, 0x88), ref target, 5 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v6, v14, 0x88), ref target, 6 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v7, v15, 0x88), ref target, 7 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v0, v8, 0xDD), ref target, 8 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v1, v9, 0xDD), ref target, 9 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v2, v10, 0xDD), ref target, 10 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v3, v11, 0xDD), ref target, 11 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v4, v12, 0xDD), ref target, 12 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v5, v13, 0xDD), ref target, 13 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v6, v14, 0xDD), ref target, 14 * ts, ref shortcut);
            TRows.Store(Avx512F.Shuffle4x128(v7, v15, 0xDD), ref target, 15 * ts, ref shortcut);
        }

        /// <summary>How <see cref="Transpose16{TRows}"/> stores a row of its target (at offset at of target, and of shortcut).</summary>
        internal interface IRowStore
        {
            static abstract void Store(Vector512<float> row, ref float target, nuint at, ref float shortcut);

            /// <summary>One value so stored (the rows' tails).</summary>
            static abstract float Of(float value, float shortcut);
        }

        /// <summary>The row as it is.</summary>
        internal readonly struct PlainRows : IRowStore
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Store(Vector512<float> row, ref float target, nuint at, ref float shortcut) => row.StoreUnsafe(ref target, at);

            public static float Of(float value, float shortcut) => value;
        }

        /// <summary>The row plus the shortcut's: a residual sum (the same additions as <see cref="Elementwise.Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>).</summary>
        internal readonly struct SumRows : IRowStore
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Store(Vector512<float> row, ref float target, nuint at, ref float shortcut) =>
                (row + Vector512.LoadUnsafe(ref shortcut, at)).StoreUnsafe(ref target, at);

            public static float Of(float value, float shortcut) => value + shortcut;
        }

        /// <summary>ReLU of the row plus the shortcut's (as <see cref="Elementwise.SumRelu"/>, bit for bit).</summary>
        internal readonly struct SumReluRows : IRowStore
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Store(Vector512<float> row, ref float target, nuint at, ref float shortcut) =>
                Elementwise.Relu(row + Vector512.LoadUnsafe(ref shortcut, at)).StoreUnsafe(ref target, at);

            public static float Of(float value, float shortcut) => Elementwise.Relu(value + shortcut);
        }

        private static void LanesStore(ref float cells, int cellCount, int block, Span<float> y, bool relu)
        {
            ref float o = ref MemoryMarshal.GetReference(y);
            for (int l = 0; l < 16; l++)
            {
                ref float plane = ref Unsafe.Add(ref o, (block + l) * cellCount);
                for (int cell = 0; cell < cellCount; cell++)
                {
                    float v = Unsafe.Add(ref cells, cell * 16 + l);
                    Unsafe.Add(ref plane, cell) = relu ? Elementwise.Relu(v) : v;
                }
            }
        }

        // 2x2 pooling on [cell][16 channels]: each window is four whole vectors, scanned in PyTorch's order (MAXPS when no
        // lane is NaN, as in Pooling.PoolRow: the first maximum of the bottom pair replaces the top pair's only if greater).
        private static void LanesPool(ref float cells, int block, Span<float> y, bool relu, in Geometry g)
        {
            int outWidth = g.OutWidth, pooledHeight = g.OutHeight / 2, pooledWidth = g.OutWidth / 2, pooledCells = pooledHeight * pooledWidth;
            ref float o = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), block * pooledCells);
            Span<float> lanes = stackalloc float[16];
            ref float lane = ref MemoryMarshal.GetReference(lanes);
            for (int py = 0; py < pooledHeight; py++)
            {
                for (int px = 0; px < pooledWidth; px++)
                {
                    ref float topLeft = ref Unsafe.Add(ref cells, (2 * py * outWidth + 2 * px) * 16);
                    var v0 = Vector512.LoadUnsafe(ref topLeft);
                    var v1 = Vector512.LoadUnsafe(ref topLeft, 16);
                    var v2 = Vector512.LoadUnsafe(ref topLeft, (nuint)(outWidth * 16));
                    var v3 = Vector512.LoadUnsafe(ref topLeft, (nuint)(outWidth * 16 + 16));
                    if (relu)
                    {
                        v0 = Elementwise.Relu(v0); v1 = Elementwise.Relu(v1); v2 = Elementwise.Relu(v2); v3 = Elementwise.Relu(v3);
                    }
                    Vector512<float> m;
                    if (Avx512F.IsSupported && (Avx512F.CompareUnordered(v0, v1) | Avx512F.CompareUnordered(v2, v3)) == Vector512<float>.Zero)
                    {
                        m = Avx512F.Max(Avx512F.Max(v3, v2), Avx512F.Max(v1, v0));
                    }
                    else
                    {
                        m = Pooling.Later(v1, v0);
                        m = Pooling.Later(v2, m);
                        m = Pooling.Later(v3, m);
                    }
                    m.StoreUnsafe(ref lane);
                    ref float at = ref Unsafe.Add(ref o, py * pooledWidth + px);
                    for (int l = 0; l < 16; l++) Unsafe.Add(ref at, l * pooledCells) = Unsafe.Add(ref lane, l);
                }
            }
        }

        private static void LanesTile<TRows>(int width, ref float row0, int pw, ref float packed, Vector512<float> bias, ref float cells, int outWidth, in Geometry g)
            where TRows : struct, IConstant
        {
            switch (width)
            {
                case 1: LanesTileFew<C1, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 2: LanesTileFew<C2, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 3: LanesTile<C3, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 4: LanesTile<C4, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 5: LanesTile<C5, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 6: LanesTile<C6, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 7: LanesTile<C7, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 8: LanesTile<C8, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                case 9: LanesTile<C9, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
                default: LanesTile<C10, TRows>(ref row0, pw, ref packed, bias, ref cells, outWidth, g); break;
            }
        }

        // A tile of 1 or 2 cells by 1 or 2 rows (maps 2 wide: VGG's 512 channels on 2x2): with one chain of FMAs per cell,
        // each waiting on the one before, 4 chains keep half of the two FMA units busy. The even and the odd input channels
        // go into chains of their own, added at the end: 8 chains. 512 -> 512 on 2x2, KernelBench winograd4 "512x2".
        private static void LanesTileFew<TCells, TRows>(ref float row0, int pw, ref float packed, Vector512<float> bias, ref float cells, int outWidth, in Geometry g)
            where TCells : struct, IConstant where TRows : struct, IConstant
        {
            var a00 = bias; var a01 = bias; var a10 = bias; var a11 = bias;
            var b00 = Vector512<float>.Zero; var b01 = Vector512<float>.Zero; var b10 = Vector512<float>.Zero; var b11 = Vector512<float>.Zero;
            int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, inChannels = g.InChannels, plane = g.Plane, taps = g.KernelArea;
            nuint t = 0;
            int ic = 0;
            for (; ic + 1 < inChannels; ic += 2)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    ref float even = ref Unsafe.Add(ref row0, ic * plane + ky * pw);
                    ref float odd = ref Unsafe.Add(ref even, plane);
                    for (int kx = 0; kx < kernelWidth; kx++, t += 16)
                    {
                        var w = Vector512.LoadUnsafe(ref packed, t);
                        var v = Vector512.LoadUnsafe(ref packed, t + (nuint)(16 * taps));
                        ref float e0 = ref Unsafe.Add(ref even, kx);
                        ref float o0 = ref Unsafe.Add(ref odd, kx);
                        a00 = Fused.MultiplyAdd(Vector512.Create(e0), w, a00);
                        b00 = Fused.MultiplyAdd(Vector512.Create(o0), v, b00);
                        if (TCells.Value > 1)
                        {
                            a01 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref e0, 1)), w, a01);
                            b01 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref o0, 1)), v, b01);
                        }
                        if (TRows.Value > 1)
                        {
                            a10 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref e0, pw)), w, a10);
                            b10 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref o0, pw)), v, b10);
                            if (TCells.Value > 1)
                            {
                                a11 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref e0, pw + 1)), w, a11);
                                b11 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref o0, pw + 1)), v, b11);
                            }
                        }
                    }
                }
                t += (nuint)(16 * taps); // past the odd channel's weights, read above
            }
            for (; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    ref float top = ref Unsafe.Add(ref row0, ic * plane + ky * pw);
                    for (int kx = 0; kx < kernelWidth; kx++, t += 16)
                    {
                        var w = Vector512.LoadUnsafe(ref packed, t);
                        ref float x0 = ref Unsafe.Add(ref top, kx);
                        a00 = Fused.MultiplyAdd(Vector512.Create(x0), w, a00);
                        if (TCells.Value > 1) a01 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 1)), w, a01);
                        if (TRows.Value > 1) a10 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, pw)), w, a10);
                        if (TRows.Value > 1 && TCells.Value > 1) a11 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, pw + 1)), w, a11);
                    }
                }
            }
            (a00 + b00).StoreUnsafe(ref cells, 0);
            if (TCells.Value > 1) (a01 + b01).StoreUnsafe(ref cells, 16);
            if (TRows.Value > 1)
            {
                ref float next = ref Unsafe.Add(ref cells, outWidth * 16);
                (a10 + b10).StoreUnsafe(ref next, 0);
                if (TCells.Value > 1) (a11 + b11).StoreUnsafe(ref next, 16);
            }
        }

        /// <summary>Whether the lanes kernel takes two blocks of channels at a time on rows of 2 to 4 cells (KernelBench turns it off to compare).</summary>
        internal static bool PairsOfBlocks = true;

        /// <summary>Whether the pairs of blocks take rows 3 cells wide three at a time rather than two (KernelBench lanes-pairs compares).</summary>
        internal static bool ThreeRowTiles = true;

        // TRows rows (1 to 3; 3 only with TCells up to 3) x TCells (2 to 4) cells of two 16-channel blocks (their packed
        // weights blockStride floats apart): each input broadcast feeds an FMA of each block. Every accumulator sums its taps
        // in LanesTile's order, from the bias: the same values bit for bit as LanesTile's (3-4 cells); LanesTileFew (2
        // cells) splits even and odd channels, so those agree to rounding.
        private static void LanesTilePair<TCells, TRows>(ref float row0, int pw, ref float packed, int blockStride, Vector512<float> biasA, Vector512<float> biasB,
            ref float cellsA, ref float cellsB, int outWidth, in Geometry g)
            where TCells : struct, IConstant where TRows : struct, IConstant
        {
            var a00 = biasA; var a01 = biasA; var a02 = biasA; var a03 = biasA; var a10 = biasA; var a11 = biasA; var a12 = biasA; var a13 = biasA;
            var b00 = biasB; var b01 = biasB; var b02 = biasB; var b03 = biasB; var b10 = biasB; var b11 = biasB; var b12 = biasB; var b13 = biasB;
            var a20 = biasA; var a21 = biasA; var a22 = biasA; var b20 = biasB; var b21 = biasB; var b22 = biasB; // a third row of up to 3 cells
            int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, inChannels = g.InChannels, plane = g.Plane;
            nuint t = 0, second = (nuint)blockStride;
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    ref float top = ref Unsafe.Add(ref row0, ic * plane + ky * pw);
                    for (int kx = 0; kx < kernelWidth; kx++, t += 16)
                    {
                        var w = Vector512.LoadUnsafe(ref packed, t);
                        var v = Vector512.LoadUnsafe(ref packed, t + second);
                        ref float x0 = ref Unsafe.Add(ref top, kx);
                        var s = Vector512.Create(x0);
                        a00 = Fused.MultiplyAdd(s, w, a00); b00 = Fused.MultiplyAdd(s, v, b00);
                        s = Vector512.Create(Unsafe.Add(ref x0, 1));
                        a01 = Fused.MultiplyAdd(s, w, a01); b01 = Fused.MultiplyAdd(s, v, b01);
                        if (TCells.Value > 2)
                        {
                            s = Vector512.Create(Unsafe.Add(ref x0, 2));
                            a02 = Fused.MultiplyAdd(s, w, a02); b02 = Fused.MultiplyAdd(s, v, b02);
                        }
                        if (TCells.Value > 3)
                        {
                            s = Vector512.Create(Unsafe.Add(ref x0, 3));
                            a03 = Fused.MultiplyAdd(s, w, a03); b03 = Fused.MultiplyAdd(s, v, b03);
                        }
                        if (TRows.Value > 1)
                        {
                            ref float x1 = ref Unsafe.Add(ref x0, pw);
                            s = Vector512.Create(x1);
                            a10 = Fused.MultiplyAdd(s, w, a10); b10 = Fused.MultiplyAdd(s, v, b10);
                            s = Vector512.Create(Unsafe.Add(ref x1, 1));
                            a11 = Fused.MultiplyAdd(s, w, a11); b11 = Fused.MultiplyAdd(s, v, b11);
                            if (TCells.Value > 2)
                            {
                                s = Vector512.Create(Unsafe.Add(ref x1, 2));
                                a12 = Fused.MultiplyAdd(s, w, a12); b12 = Fused.MultiplyAdd(s, v, b12);
                            }
                            if (TCells.Value > 3)
                            {
                                s = Vector512.Create(Unsafe.Add(ref x1, 3));
                                a13 = Fused.MultiplyAdd(s, w, a13); b13 = Fused.MultiplyAdd(s, v, b13);
                            }
                        }
                        if (TRows.Value > 2)
                        {
                            ref float x2 = ref Unsafe.Add(ref x0, 2 * pw);
                            s = Vector512.Create(x2);
                            a20 = Fused.MultiplyAdd(s, w, a20); b20 = Fused.MultiplyAdd(s, v, b20);
                            s = Vector512.Create(Unsafe.Add(ref x2, 1));
                            a21 = Fused.MultiplyAdd(s, w, a21); b21 = Fused.MultiplyAdd(s, v, b21);
                            if (TCells.Value > 2)
                            {
                                s = Vector512.Create(Unsafe.Add(ref x2, 2));
                                a22 = Fused.MultiplyAdd(s, w, a22); b22 = Fused.MultiplyAdd(s, v, b22);
                            }
                        }
                    }
                }
            }
            StoreTilePair<TCells, TRows>(ref cellsA, ref cellsB, outWidth, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, b00, b01, b02, b03, b10, b11, b12, b13, b20, b21, b22);
        }

        // A pair tile's accumulators (rows of up to 4 cells; a third row of up to 3) into each block's [cell][16 channels].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreTilePair<TCells, TRows>(ref float cellsA, ref float cellsB, int outWidth,
            Vector512<float> a00, Vector512<float> a01, Vector512<float> a02, Vector512<float> a03, Vector512<float> a10, Vector512<float> a11, Vector512<float> a12, Vector512<float> a13,
            Vector512<float> a20, Vector512<float> a21, Vector512<float> a22,
            Vector512<float> b00, Vector512<float> b01, Vector512<float> b02, Vector512<float> b03, Vector512<float> b10, Vector512<float> b11, Vector512<float> b12, Vector512<float> b13,
            Vector512<float> b20, Vector512<float> b21, Vector512<float> b22)
            where TCells : struct, IConstant where TRows : struct, IConstant
        {
            StoreRow(ref cellsA, a00, a01, a02, a03, TCells.Value);
            StoreRow(ref cellsB, b00, b01, b02, b03, TCells.Value);
            if (TRows.Value > 1)
            {
                StoreRow(ref Unsafe.Add(ref cellsA, outWidth * 16), a10, a11, a12, a13, TCells.Value);
                StoreRow(ref Unsafe.Add(ref cellsB, outWidth * 16), b10, b11, b12, b13, TCells.Value);
            }
            if (TRows.Value > 2)
            {
                StoreRow(ref Unsafe.Add(ref cellsA, 2 * outWidth * 16), a20, a21, a22, a22, TCells.Value);
                StoreRow(ref Unsafe.Add(ref cellsB, 2 * outWidth * 16), b20, b21, b22, b22, TCells.Value);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow(ref float cells, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, int count)
        {
            c0.StoreUnsafe(ref cells, 0);
            c1.StoreUnsafe(ref cells, 16);
            if (count > 2) c2.StoreUnsafe(ref cells, 32);
            if (count > 3) c3.StoreUnsafe(ref cells, 48);
        }

        // TRows output rows x TCells cells of one 16-channel block: one weight vector and a broadcast input per FMA; up to
        // 2 x 10 accumulators (with the weight, 21 of the 32 registers): the weight load is shared by up to 20 FMAs.
        private static void LanesTile<TCells, TRows>(ref float row0, int pw, ref float packed, Vector512<float> bias, ref float cells, int outWidth, in Geometry g)
            where TCells : struct, IConstant where TRows : struct, IConstant
        {
            var a00 = bias; var a01 = bias; var a02 = bias; var a03 = bias; var a04 = bias; var a05 = bias; var a06 = bias; var a07 = bias; var a08 = bias; var a09 = bias;
            var a10 = bias; var a11 = bias; var a12 = bias; var a13 = bias; var a14 = bias; var a15 = bias; var a16 = bias; var a17 = bias; var a18 = bias; var a19 = bias;
            int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, inChannels = g.InChannels, plane = g.Plane;
            nuint t = 0;
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    ref float top = ref Unsafe.Add(ref row0, ic * plane + ky * pw);
                    ref float bottom = ref Unsafe.Add(ref top, pw);
                    for (int kx = 0; kx < kernelWidth; kx++, t += 16)
                    {
                        var w = Vector512.LoadUnsafe(ref packed, t);
                        ref float x0 = ref Unsafe.Add(ref top, kx);
                        a00 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 0)), w, a00);
                        if (TCells.Value > 1) a01 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 1)), w, a01);
                        if (TCells.Value > 2) a02 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 2)), w, a02);
                        if (TCells.Value > 3) a03 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 3)), w, a03);
                        if (TCells.Value > 4) a04 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 4)), w, a04);
                        if (TCells.Value > 5) a05 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 5)), w, a05);
                        if (TCells.Value > 6) a06 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 6)), w, a06);
                        if (TCells.Value > 7) a07 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 7)), w, a07);
                        if (TCells.Value > 8) a08 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 8)), w, a08);
                        if (TCells.Value > 9) a09 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x0, 9)), w, a09);
                        if (TRows.Value > 1)
                        {
                            ref float x1 = ref Unsafe.Add(ref bottom, kx);
                            a10 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 0)), w, a10);
                            if (TCells.Value > 1) a11 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 1)), w, a11);
                            if (TCells.Value > 2) a12 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 2)), w, a12);
                            if (TCells.Value > 3) a13 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 3)), w, a13);
                            if (TCells.Value > 4) a14 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 4)), w, a14);
                            if (TCells.Value > 5) a15 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 5)), w, a15);
                            if (TCells.Value > 6) a16 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 6)), w, a16);
                            if (TCells.Value > 7) a17 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 7)), w, a17);
                            if (TCells.Value > 8) a18 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 8)), w, a18);
                            if (TCells.Value > 9) a19 = Fused.MultiplyAdd(Vector512.Create(Unsafe.Add(ref x1, 9)), w, a19);
                        }
                    }
                }
            }
            a00.StoreUnsafe(ref cells, 0);
            if (TCells.Value > 1) a01.StoreUnsafe(ref cells, 16);
            if (TCells.Value > 2) a02.StoreUnsafe(ref cells, 32);
            if (TCells.Value > 3) a03.StoreUnsafe(ref cells, 48);
            if (TCells.Value > 4) a04.StoreUnsafe(ref cells, 64);
            if (TCells.Value > 5) a05.StoreUnsafe(ref cells, 80);
            if (TCells.Value > 6) a06.StoreUnsafe(ref cells, 96);
            if (TCells.Value > 7) a07.StoreUnsafe(ref cells, 112);
            if (TCells.Value > 8) a08.StoreUnsafe(ref cells, 128);
            if (TCells.Value > 9) a09.StoreUnsafe(ref cells, 144);
            if (TRows.Value > 1)
            {
                ref float next = ref Unsafe.Add(ref cells, outWidth * 16);
                a10.StoreUnsafe(ref next, 0);
                if (TCells.Value > 1) a11.StoreUnsafe(ref next, 16);
                if (TCells.Value > 2) a12.StoreUnsafe(ref next, 32);
                if (TCells.Value > 3) a13.StoreUnsafe(ref next, 48);
                if (TCells.Value > 4) a14.StoreUnsafe(ref next, 64);
                if (TCells.Value > 5) a15.StoreUnsafe(ref next, 80);
                if (TCells.Value > 6) a16.StoreUnsafe(ref next, 96);
                if (TCells.Value > 7) a17.StoreUnsafe(ref next, 112);
                if (TCells.Value > 8) a18.StoreUnsafe(ref next, 128);
                if (TCells.Value > 9) a19.StoreUnsafe(ref next, 144);
            }
        }

        /// <summary>2x2 max pooling of a block of channels straight from the flat rows (ReLU first when asked).</summary>
        private static void PoolFlat(ReadOnlySpan<float> flat, int first, int count, Span<float> y, bool relu, in Geometry g)
        {
            int pooledHeight = g.OutHeight / 2, pooledWidth = g.OutWidth / 2;
            ref float f = ref MemoryMarshal.GetReference(flat);
            ref float o = ref MemoryMarshal.GetReference(y);
            for (int r = 0; r < count; r++)
            {
                for (int py = 0; py < pooledHeight; py++)
                {
                    ref float top = ref Unsafe.Add(ref f, r * g.FlatLength + 2 * py * g.PaddedWidth);
                    Pooling.PoolRow(ref top, ref Unsafe.Add(ref top, g.PaddedWidth),
                        ref Unsafe.Add(ref o, ((first + r) * pooledHeight + py) * pooledWidth), pooledWidth, vector: true, relu);
                }
            }
        }

        // Blocks of up to 4 channels (6 when the count is a multiple of 6 but not of 4), tiles of 4 vectors of 16 flat
        // positions, then one tile of the 1 to 3 vectors left (or of 5: 4 and the 1 left); the tile shapes are generic arguments, so each is compiled
        // with its own registers (6 x 4 accumulators and their operands fill 29 of the 32).
        private static void Block512(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, int count, Span<float> flat, in Geometry g)
        {
            switch (count)
            {
                case 6: Block512<C6>(padded, weight, bias, first, flat, g); break;
                case 4: Block512<C4>(padded, weight, bias, first, flat, g); break;
                case 3: Block512<C3>(padded, weight, bias, first, flat, g); break;
                case 2: Block512<C2>(padded, weight, bias, first, flat, g); break;
                default: Block512<C1>(padded, weight, bias, first, flat, g); break;
            }
        }

        private static void Block512<TChannels>(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, Span<float> flat, in Geometry g) where TChannels : struct, IConstant
        {
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), first * g.Taps);
            ref float o = ref MemoryMarshal.GetReference(flat);
            int vectors = g.FlatLength / 16;
            // A last vector left alone would be a tile of 4 accumulator chains, half the FMA units' latency-bound rate: it
            // joins the tile before it (4 channels x 5 vectors and their operands take 26 of the 32 registers; 6 would not fit).
            int fiveAtEnd = TChannels.Value <= 4 && vectors >= 5 && vectors % 4 == 1 ? 5 : 0;
            int v = 0;
            for (; v + 4 <= vectors - fiveAtEnd; v += 4) Tile512<TChannels, C4>(ref x, ref w0, bias, first, ref o, v, g);
            switch (vectors - v)
            {
                case 5: Tile512<TChannels, C5>(ref x, ref w0, bias, first, ref o, v, g); break;
                case 3: Tile512<TChannels, C3>(ref x, ref w0, bias, first, ref o, v, g); break;
                case 2: Tile512<TChannels, C2>(ref x, ref w0, bias, first, ref o, v, g); break;
                case 1: Tile512<TChannels, C1>(ref x, ref w0, bias, first, ref o, v, g); break;
            }
        }

        // One register tile: TChannels output channels x TVectors vectors of 16 flat positions, started at the bias.
        private static void Tile512<TChannels, TVectors>(ref float x, ref float w0, ReadOnlySpan<float> bias, int first, ref float o, int v, in Geometry g)
            where TChannels : struct, IConstant where TVectors : struct, IConstant
        {
            const int V = 16;
            int taps = g.Taps, count = TChannels.Value;
            ref float w1 = ref TChannels.Value > 1 ? ref Unsafe.Add(ref w0, 1 * taps) : ref w0;
            ref float w2 = ref TChannels.Value > 2 ? ref Unsafe.Add(ref w0, 2 * taps) : ref w0;
            ref float w3 = ref TChannels.Value > 3 ? ref Unsafe.Add(ref w0, 3 * taps) : ref w0;
            ref float w4 = ref TChannels.Value > 4 ? ref Unsafe.Add(ref w0, 4 * taps) : ref w0;
            ref float w5 = ref TChannels.Value > 5 ? ref Unsafe.Add(ref w0, 5 * taps) : ref w0;
            var a00 = Vector512.Create(BiasAt(bias, first, 0, count)); var a01 = a00; var a02 = a00; var a03 = a00; var a04 = a00;
            var a10 = Vector512.Create(BiasAt(bias, first, 1, count)); var a11 = a10; var a12 = a10; var a13 = a10; var a14 = a10;
            var a20 = Vector512.Create(BiasAt(bias, first, 2, count)); var a21 = a20; var a22 = a20; var a23 = a20; var a24 = a20;
            var a30 = Vector512.Create(BiasAt(bias, first, 3, count)); var a31 = a30; var a32 = a30; var a33 = a30; var a34 = a30;
            var a40 = Vector512.Create(BiasAt(bias, first, 4, count)); var a41 = a40; var a42 = a40; var a43 = a40; var a44 = a40;
            var a50 = Vector512.Create(BiasAt(bias, first, 5, count)); var a51 = a50; var a52 = a50; var a53 = a50; var a54 = a50;
            int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth;
            int t = 0;
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    nuint row = (nuint)(v * V + ic * plane + ky * pw);
                    for (int kx = 0; kx < kernelWidth; kx++, t++)
                    {
                        nuint at = row + (nuint)kx;
                        var x0 = Vector512.LoadUnsafe(ref x, at);
                        var x1 = TVectors.Value > 1 ? Vector512.LoadUnsafe(ref x, at + 1 * V) : default;
                        var x2 = TVectors.Value > 2 ? Vector512.LoadUnsafe(ref x, at + 2 * V) : default;
                        var x3 = TVectors.Value > 3 ? Vector512.LoadUnsafe(ref x, at + 3 * V) : default;
                        var x4 = TVectors.Value > 4 ? Vector512.LoadUnsafe(ref x, at + 4 * V) : default;
                        { var k = Vector512.Create(Unsafe.Add(ref w0, t)); a00 = Fused.MultiplyAdd(x0, k, a00); if (TVectors.Value > 1) a01 = Fused.MultiplyAdd(x1, k, a01); if (TVectors.Value > 2) a02 = Fused.MultiplyAdd(x2, k, a02); if (TVectors.Value > 3) a03 = Fused.MultiplyAdd(x3, k, a03); if (TVectors.Value > 4) a04 = Fused.MultiplyAdd(x4, k, a04); }
                        if (TChannels.Value > 1) { var k = Vector512.Create(Unsafe.Add(ref w1, t)); a10 = Fused.MultiplyAdd(x0, k, a10); if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11); if (TVectors.Value > 2) a12 = Fused.MultiplyAdd(x2, k, a12); if (TVectors.Value > 3) a13 = Fused.MultiplyAdd(x3, k, a13); if (TVectors.Value > 4) a14 = Fused.MultiplyAdd(x4, k, a14); }
                        if (TChannels.Value > 2) { var k = Vector512.Create(Unsafe.Add(ref w2, t)); a20 = Fused.MultiplyAdd(x0, k, a20); if (TVectors.Value > 1) a21 = Fused.MultiplyAdd(x1, k, a21); if (TVectors.Value > 2) a22 = Fused.MultiplyAdd(x2, k, a22); if (TVectors.Value > 3) a23 = Fused.MultiplyAdd(x3, k, a23); if (TVectors.Value > 4) a24 = Fused.MultiplyAdd(x4, k, a24); }
                        if (TChannels.Value > 3) { var k = Vector512.Create(Unsafe.Add(ref w3, t)); a30 = Fused.MultiplyAdd(x0, k, a30); if (TVectors.Value > 1) a31 = Fused.MultiplyAdd(x1, k, a31); if (TVectors.Value > 2) a32 = Fused.MultiplyAdd(x2, k, a32); if (TVectors.Value > 3) a33 = Fused.MultiplyAdd(x3, k, a33); if (TVectors.Value > 4) a34 = Fused.MultiplyAdd(x4, k, a34); }
                        if (TChannels.Value > 4) { var k = Vector512.Create(Unsafe.Add(ref w4, t)); a40 = Fused.MultiplyAdd(x0, k, a40); if (TVectors.Value > 1) a41 = Fused.MultiplyAdd(x1, k, a41); if (TVectors.Value > 2) a42 = Fused.MultiplyAdd(x2, k, a42); if (TVectors.Value > 3) a43 = Fused.MultiplyAdd(x3, k, a43); if (TVectors.Value > 4) a44 = Fused.MultiplyAdd(x4, k, a44); }
                        if (TChannels.Value > 5) { var k = Vector512.Create(Unsafe.Add(ref w5, t)); a50 = Fused.MultiplyAdd(x0, k, a50); if (TVectors.Value > 1) a51 = Fused.MultiplyAdd(x1, k, a51); if (TVectors.Value > 2) a52 = Fused.MultiplyAdd(x2, k, a52); if (TVectors.Value > 3) a53 = Fused.MultiplyAdd(x3, k, a53); if (TVectors.Value > 4) a54 = Fused.MultiplyAdd(x4, k, a54); }
                    }
                }
            }
            nuint at0 = (nuint)(v * V);
            { a00.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength); if (TVectors.Value > 1) a01.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a02.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a03.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a04.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 4 * V); }
            if (TChannels.Value > 1) { a10.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength); if (TVectors.Value > 1) a11.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a12.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a13.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a14.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 4 * V); }
            if (TChannels.Value > 2) { a20.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength); if (TVectors.Value > 1) a21.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a22.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a23.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a24.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 4 * V); }
            if (TChannels.Value > 3) { a30.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength); if (TVectors.Value > 1) a31.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a32.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a33.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a34.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 4 * V); }
            if (TChannels.Value > 4) { a40.StoreUnsafe(ref o, at0 + 4u * (nuint)g.FlatLength); if (TVectors.Value > 1) a41.StoreUnsafe(ref o, at0 + 4u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a42.StoreUnsafe(ref o, at0 + 4u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a43.StoreUnsafe(ref o, at0 + 4u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a44.StoreUnsafe(ref o, at0 + 4u * (nuint)g.FlatLength + 4 * V); }
            if (TChannels.Value > 5) { a50.StoreUnsafe(ref o, at0 + 5u * (nuint)g.FlatLength); if (TVectors.Value > 1) a51.StoreUnsafe(ref o, at0 + 5u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a52.StoreUnsafe(ref o, at0 + 5u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a53.StoreUnsafe(ref o, at0 + 5u * (nuint)g.FlatLength + 3 * V); if (TVectors.Value > 4) a54.StoreUnsafe(ref o, at0 + 5u * (nuint)g.FlatLength + 4 * V); }
        }

        // Sixteen registers hold 4 channels x 2 vectors of 8 (with their operands) on the Vector256 path.
        private static void Block256(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, int count, Span<float> flat, in Geometry g)
        {
            switch (count)
            {
                case 4: Block256<C4>(padded, weight, bias, first, flat, g); break;
                case 3: Block256<C3>(padded, weight, bias, first, flat, g); break;
                case 2: Block256<C2>(padded, weight, bias, first, flat, g); break;
                default: Block256<C1>(padded, weight, bias, first, flat, g); break;
            }
        }

        /// <summary>
        /// Whether the Vector256 tiles take 3 vectors of positions (4 channels x 3, 12 accumulators) before pairs (8, too few to
        /// hide the multiply-add's latency on an AVX2 machine): CIFAR batch 1 722.3 -> 645.7 µs on a Zen 3, alternated rounds.
        /// The zoo's A/B turns it off to compare.
        /// </summary>
        internal static bool WideTiles256 { get; set; } = true;

        private static void Block256<TChannels>(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int first, Span<float> flat, in Geometry g) where TChannels : struct, IConstant
        {
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), first * g.Taps);
            ref float o = ref MemoryMarshal.GetReference(flat);
            int vectors = g.FlatLength / 8;
            int v = 0;
            if (WideTiles256)
                for (; v + 3 <= vectors; v += 3) Tile256<TChannels, C3>(ref x, ref w0, bias, first, ref o, v, g);
            for (; v + 2 <= vectors; v += 2) Tile256<TChannels, C2>(ref x, ref w0, bias, first, ref o, v, g);
            switch (vectors - v)
            {
                case 3: Tile256<TChannels, C3>(ref x, ref w0, bias, first, ref o, v, g); break;
                case 2: Tile256<TChannels, C2>(ref x, ref w0, bias, first, ref o, v, g); break;
                case 1: Tile256<TChannels, C1>(ref x, ref w0, bias, first, ref o, v, g); break;
            }
        }

        // One register tile: TChannels output channels x TVectors vectors of 8 flat positions, started at the bias.
        private static void Tile256<TChannels, TVectors>(ref float x, ref float w0, ReadOnlySpan<float> bias, int first, ref float o, int v, in Geometry g)
            where TChannels : struct, IConstant where TVectors : struct, IConstant
        {
            const int V = 8;
            int taps = g.Taps, count = TChannels.Value;
            ref float w1 = ref TChannels.Value > 1 ? ref Unsafe.Add(ref w0, 1 * taps) : ref w0;
            ref float w2 = ref TChannels.Value > 2 ? ref Unsafe.Add(ref w0, 2 * taps) : ref w0;
            ref float w3 = ref TChannels.Value > 3 ? ref Unsafe.Add(ref w0, 3 * taps) : ref w0;
            var a00 = Vector256.Create(BiasAt(bias, first, 0, count)); var a01 = a00; var a02 = a00; var a03 = a00;
            var a10 = Vector256.Create(BiasAt(bias, first, 1, count)); var a11 = a10; var a12 = a10; var a13 = a10;
            var a20 = Vector256.Create(BiasAt(bias, first, 2, count)); var a21 = a20; var a22 = a20; var a23 = a20;
            var a30 = Vector256.Create(BiasAt(bias, first, 3, count)); var a31 = a30; var a32 = a30; var a33 = a30;
            int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, inChannels = g.InChannels, plane = g.Plane, pw = g.PaddedWidth;
            int t = 0;
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    nuint row = (nuint)(v * V + ic * plane + ky * pw);
                    for (int kx = 0; kx < kernelWidth; kx++, t++)
                    {
                        nuint at = row + (nuint)kx;
                        var x0 = Vector256.LoadUnsafe(ref x, at);
                        var x1 = TVectors.Value > 1 ? Vector256.LoadUnsafe(ref x, at + 1 * V) : default;
                        var x2 = TVectors.Value > 2 ? Vector256.LoadUnsafe(ref x, at + 2 * V) : default;
                        var x3 = TVectors.Value > 3 ? Vector256.LoadUnsafe(ref x, at + 3 * V) : default;
                        { var k = Vector256.Create(Unsafe.Add(ref w0, t)); a00 = Fused.MultiplyAdd(x0, k, a00); if (TVectors.Value > 1) a01 = Fused.MultiplyAdd(x1, k, a01); if (TVectors.Value > 2) a02 = Fused.MultiplyAdd(x2, k, a02); if (TVectors.Value > 3) a03 = Fused.MultiplyAdd(x3, k, a03); }
                        if (TChannels.Value > 1) { var k = Vector256.Create(Unsafe.Add(ref w1, t)); a10 = Fused.MultiplyAdd(x0, k, a10); if (TVectors.Value > 1) a11 = Fused.MultiplyAdd(x1, k, a11); if (TVectors.Value > 2) a12 = Fused.MultiplyAdd(x2, k, a12); if (TVectors.Value > 3) a13 = Fused.MultiplyAdd(x3, k, a13); }
                        if (TChannels.Value > 2) { var k = Vector256.Create(Unsafe.Add(ref w2, t)); a20 = Fused.MultiplyAdd(x0, k, a20); if (TVectors.Value > 1) a21 = Fused.MultiplyAdd(x1, k, a21); if (TVectors.Value > 2) a22 = Fused.MultiplyAdd(x2, k, a22); if (TVectors.Value > 3) a23 = Fused.MultiplyAdd(x3, k, a23); }
                        if (TChannels.Value > 3) { var k = Vector256.Create(Unsafe.Add(ref w3, t)); a30 = Fused.MultiplyAdd(x0, k, a30); if (TVectors.Value > 1) a31 = Fused.MultiplyAdd(x1, k, a31); if (TVectors.Value > 2) a32 = Fused.MultiplyAdd(x2, k, a32); if (TVectors.Value > 3) a33 = Fused.MultiplyAdd(x3, k, a33); }
                    }
                }
            }
            nuint at0 = (nuint)(v * V);
            { a00.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength); if (TVectors.Value > 1) a01.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a02.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a03.StoreUnsafe(ref o, at0 + 0u * (nuint)g.FlatLength + 3 * V); }
            if (TChannels.Value > 1) { a10.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength); if (TVectors.Value > 1) a11.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a12.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a13.StoreUnsafe(ref o, at0 + 1u * (nuint)g.FlatLength + 3 * V); }
            if (TChannels.Value > 2) { a20.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength); if (TVectors.Value > 1) a21.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a22.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a23.StoreUnsafe(ref o, at0 + 2u * (nuint)g.FlatLength + 3 * V); }
            if (TChannels.Value > 3) { a30.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength); if (TVectors.Value > 1) a31.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 1 * V); if (TVectors.Value > 2) a32.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 2 * V); if (TVectors.Value > 3) a33.StoreUnsafe(ref o, at0 + 3u * (nuint)g.FlatLength + 3 * V); }
        }

        /// <summary>
        /// The backward pass of <see cref="Forward"/> for one sample: adds d weight [outChannels x inChannels x kernel x
        /// kernel] (PyTorch's layout) to <paramref name="weightGradient"/> and, when <paramref name="inputGradient"/> is
        /// not empty, writes d x [inChannels x height x width] to it. <paramref name="outputGradient"/> is d y, shaped like
        /// the forward's y. The bias gradient (the sum of each channel of d y) is left to the caller. An empty
        /// <paramref name="weightGradient"/> skips the weight gradient (a frozen layer that only passes d x on).
        /// </summary>
        /// <remarks>
        /// d weight[oc, tap] is the sum over output cells of d y[oc, cell] times the padded input at the cell plus the tap's
        /// offset <c>ic·plane + ky·(W+2p) + kx</c>: with the output channels in the vector lanes (d y transposed by 16 x 16
        /// register squares), each tile keeps 8 taps x 2 blocks of 16 channels of accumulators over a pass of rows whose d y
        /// stays in L1, needs no sum across lanes, and adds to d weight transposed, which goes back in squares at the end;
        /// few channels on long rows take dot products along the flat rows instead (DirectConvolution.WeightGradient.cs).
        /// The input gradient is the product weightᵀ · d y over the flat padded columns of <see cref="Forward"/> (d y with
        /// zeros in its padding columns), each tap's row then added back at its offset: col2im as whole-vector adds.
        /// </remarks>
        public static void Backward(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, padding, weightGradient, inputGradient, scratch,
                !Simd.Enabled ? KernelPath.Scalar : Vector512.IsHardwareAccelerated ? KernelPath.Vector512 : KernelPath.Vector256);

        /// <summary>
        /// <see cref="Backward"/> with the input gradient's Winograd filters from <see cref="TransformFiltersForInputGradient"/> (empty: the direct
        /// input gradient). The weight gradient is the same either way.
        /// </summary>
        public static void BackwardWithFilters(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientFilters) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, padding, weightGradient, inputGradient, scratch, DefaultPath, inputGradientFilters);

        /// <summary>
        /// <see cref="BackwardWithFilters(ReadOnlySpan{float}, int, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, Span{float}, Span{float}, ReadOnlySpan{float})"/>
        /// for sample <paramref name="sample"/> of <paramref name="samples"/>, called for each in turn: where the weight gradient
        /// runs by Winograd (<paramref name="weightGradientProducts"/> of <see cref="WeightGradientProductsLength"/> floats, not
        /// empty), the samples' sums gather there and the filter transform adds the batch's gradient to
        /// <paramref name="weightGradient"/> once, at the last sample. Summed in another order than sample by sample: the same
        /// values to rounding. With empty products each sample's gradient is added as it comes.
        /// </summary>
        public static void BackwardWithFilters(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientFilters,
            Span<float> weightGradientProducts, int sample, int samples)
        {
            if ((uint)sample >= (uint)samples) throw new ArgumentOutOfRangeException(nameof(sample), sample, "Expected a sample below " + samples + ".");
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, padding, weightGradient, inputGradient, scratch, DefaultPath, inputGradientFilters,
                weightGradientProducts: weightGradientProducts, sample: sample, samples: samples);
        }

        internal static void BackwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, KernelPath path, ReadOnlySpan<float> inputGradientFilters = default,
            bool allowWinograd = true, Span<float> weightGradientProducts = default, int sample = 0, int samples = 1, bool shareBlockedOutputGradient = true) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, kernel, padding, padding, weightGradient, inputGradient, scratch, path,
                inputGradientFilters, allowWinograd, weightGradientProducts, sample, samples, shareBlockedOutputGradient);

        /// <summary>
        /// The backward pass with kernel and padding per axis (see the per-axis ForwardOn): the same weight-gradient tiles
        /// (tap offsets from ky·(W+2pw) + kx) and the same input gradient folded back at each tap's offset.
        /// </summary>
        internal static void BackwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, KernelPath path, ReadOnlySpan<float> inputGradientFilters = default,
            bool allowWinograd = true, Span<float> weightGradientProducts = default, int sample = 0, int samples = 1, bool shareBlockedOutputGradient = true)
        {
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernelHeight, kernelWidth, paddingHeight, paddingWidth, x.Length, weight.Length);
            int inLength = inChannels * height * width, outLength = outChannels * g.OutHeight * g.OutWidth;
            Require(outputGradient.Length >= outLength, nameof(outputGradient), outLength);
            bool wantWeights = !weightGradient.IsEmpty;
            if (wantWeights) Require(weightGradient.Length >= outChannels * g.Taps, nameof(weightGradient), outChannels * g.Taps);
            if (!inputGradient.IsEmpty) Require(inputGradient.Length >= inLength, nameof(inputGradient), inLength);
            Require(scratch.Length >= BackwardScratch(g, outChannels), nameof(scratch), BackwardScratch(g, outChannels));

            if (path == KernelPath.Scalar)
            {
                BackwardScalar(x, weight, outputGradient, outChannels, weightGradient, inputGradient, g);
                return;
            }

            bool summed = !weightGradientProducts.IsEmpty;
            if (wantWeights && summed && !inputGradient.IsEmpty && WinogradOn(path) && allowWinograd && !inputGradientFilters.IsEmpty
                && shareBlockedOutputGradient && SharedOutputGradientInPasses && SharesBlockedOutputGradient(g, outChannels))
            {
                // The input gradient first: its F(4x4) leaves d y blocked in its scratch, where the weight gradient reads it.
                var inputLayout = InputGradientF4Layout(g, outChannels);
                var weightLayout = WeightGradientLayout(g, outChannels);
                Require(inputGradientFilters.Length >= inputLayout.FiltersLength, nameof(inputGradientFilters), inputLayout.FiltersLength);
                WinogradF4Convolution.Forward(outputGradient, inputGradientFilters, default, inputGradient, scratch, relu: false, pool: false, inputLayout);
                var blocked = WinogradF4Convolution.PaddedInput(scratch, inputLayout);
                int origin = inputLayout.Maps.MapsOffset;
                // The weight gradient's own scratch right after the blocked d y, over the F(4x4)'s spent buffers (warm in L2).
                int after = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(scratch), ref MemoryMarshal.GetReference(blocked)) / sizeof(float) + blocked.Length;
                WinogradWeightGradient.AddSampleProductsOfBlocked(x, blocked.Slice(origin), inputLayout.PaddedWidth, inputLayout.PaddedGroupStride,
                    weightGradientProducts, scratch.Slice(after), sample, samples, weightLayout);
                if (sample == samples - 1) WinogradWeightGradient.AddTransformedProducts(weightGradientProducts, weightGradient, weightLayout);
                return;
            }
            if (wantWeights && WinogradOn(path) && allowWinograd
                && (summed ? WeightGradientOverSamplesByWinograd(g, outChannels) : WeightGradientByWinograd(g, outChannels)))
            {
                var weightLayout = WeightGradientLayout(g, outChannels);
                if (!summed)
                {
                    WinogradWeightGradient.Accumulate(x, outputGradient, weightGradient, scratch, weightLayout);
                }
                else
                {
                    WinogradWeightGradient.AddSampleProducts(x, outputGradient, weightGradientProducts, scratch, sample, samples, weightLayout);
                    if (sample == samples - 1) WinogradWeightGradient.AddTransformedProducts(weightGradientProducts, weightGradient, weightLayout);
                }
                wantWeights = false; // what follows is the input gradient only
            }
            var padded = scratch.Slice(0, g.PaddedLength);
            var dyFlat = scratch.Slice(g.PaddedLength, outChannels * g.FlatLength);
            // Only the direct weight gradient reads the padded input, and only the direct input gradient d y in flat rows
            // (which the weight gradient leaves there when its kernel needed them): with both gradients by Winograd neither is made.
            bool flattened = false;
            if (wantWeights)
            {
                Pad(x, padded, g);
                flattened = WeightGradient(padded, outputGradient, outChannels, weightGradient, scratch, g, path, PickWeightKernel(g, outChannels, path));
            }

            if (inputGradient.IsEmpty) return;
            if (WinogradOn(path) && !inputGradientFilters.IsEmpty && InputGradientByWinograd(g, outChannels))
            {
                var layout = InputGradientF4Layout(g, outChannels);
                Require(inputGradientFilters.Length >= layout.FiltersLength, nameof(inputGradientFilters), layout.FiltersLength);
                WinogradF4Convolution.Forward(outputGradient, inputGradientFilters, default, inputGradient, scratch, relu: false, pool: false, layout);
                return;
            }
            if (!flattened) FlattenRows(outputGradient, outChannels, dyFlat, g);
            padded.Clear(); // now the padded input gradient
            if (path == KernelPath.Vector512)
            {
                InputGradient512(dyFlat, weight, outChannels, padded, g);
            }
            else
            {
                // d columns [taps x flat] = weightᵀ · d y (flat), then each tap's row added back at its offset.
                var columns = scratch.Slice(g.PaddedLength + outChannels * g.FlatLength, g.Taps * g.FlatLength);
                Gemm.Multiply(true, false, g.Taps, g.FlatLength, outChannels, weight, g.Taps, dyFlat, g.FlatLength, columns, g.FlatLength, accumulate: false);
                ref float dx = ref MemoryMarshal.GetReference(padded);
                ref float cols = ref MemoryMarshal.GetReference(columns);
                for (int t = 0; t < g.Taps; t++) AddRow(ref Unsafe.Add(ref cols, t * g.FlatLength), ref Unsafe.Add(ref dx, TapOffset(t, g)), g.FlatLength);
            }
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int iy = 0; iy < height; iy++)
                {
                    CopyRow(ref Unsafe.Add(ref MemoryMarshal.GetReference(padded), ic * g.Plane + (iy + g.PaddingHeight) * g.PaddedWidth + g.PaddingWidth),
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(inputGradient), (ic * height + iy) * width), width, relu: false);
                }
            }
        }

        // The columns of weightᵀ · d y computed in registers, 4 taps x 4 vectors of flat positions per tile, and added
        // straight into the padded input gradient at each tap's offset (no column buffer).
        private static void InputGradient512(ReadOnlySpan<float> dyFlat, ReadOnlySpan<float> weight, int outChannels, Span<float> dxPadded, in Geometry g)
        {
            const int V = 16;
            ref float dy = ref MemoryMarshal.GetReference(dyFlat);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float dx = ref MemoryMarshal.GetReference(dxPadded);
            int taps = g.Taps, fl = g.FlatLength, vectors = fl / V;
            // A tile's 4 taps are one kernel position in 4 input channels: their rows land a plane apart, so the
            // read-modify-writes never partly overlap the previous tile's stores (a one-float shift would defeat store
            // forwarding on every add).
            int kk = g.KernelArea;
            for (int position = 0; position < kk; position++)
            for (int ic = 0; ic < g.InChannels; ic += 4)
            {
                int count = Math.Min(4, g.InChannels - ic);
                int tap = ic * kk + position;
                // Channels past the last repeat it and are not added back.
                int tap1 = tap + Math.Min(1, count - 1) * kk, tap2 = tap + Math.Min(2, count - 1) * kk, tap3 = tap + Math.Min(3, count - 1) * kk;
                ref float w0 = ref Unsafe.Add(ref w, tap);
                ref float w1 = ref Unsafe.Add(ref w, tap1);
                ref float w2 = ref Unsafe.Add(ref w, tap2);
                ref float w3 = ref Unsafe.Add(ref w, tap3);
                ref float t0 = ref Unsafe.Add(ref dx, TapOffset(tap, g));
                ref float t1 = ref Unsafe.Add(ref dx, TapOffset(tap1, g));
                ref float t2 = ref Unsafe.Add(ref dx, TapOffset(tap2, g));
                ref float t3 = ref Unsafe.Add(ref dx, TapOffset(tap3, g));
                int v = 0;
                for (; v + 4 <= vectors; v += 4)
                {
                    var a00 = Vector512<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
                    var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
                    var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
                    var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
                    nuint at = (nuint)(v * V);
                    for (int oc = 0; oc < outChannels; oc++)
                    {
                        ref float row = ref Unsafe.Add(ref dy, oc * fl);
                        var d0 = Vector512.LoadUnsafe(ref row, at); var d1 = Vector512.LoadUnsafe(ref row, at + V);
                        var d2 = Vector512.LoadUnsafe(ref row, at + 2 * V); var d3 = Vector512.LoadUnsafe(ref row, at + 3 * V);
                        int k = oc * taps;
                        var c = Vector512.Create(Unsafe.Add(ref w0, k));
                        a00 = Fused.MultiplyAdd(d0, c, a00); a01 = Fused.MultiplyAdd(d1, c, a01); a02 = Fused.MultiplyAdd(d2, c, a02); a03 = Fused.MultiplyAdd(d3, c, a03);
                        c = Vector512.Create(Unsafe.Add(ref w1, k));
                        a10 = Fused.MultiplyAdd(d0, c, a10); a11 = Fused.MultiplyAdd(d1, c, a11); a12 = Fused.MultiplyAdd(d2, c, a12); a13 = Fused.MultiplyAdd(d3, c, a13);
                        c = Vector512.Create(Unsafe.Add(ref w2, k));
                        a20 = Fused.MultiplyAdd(d0, c, a20); a21 = Fused.MultiplyAdd(d1, c, a21); a22 = Fused.MultiplyAdd(d2, c, a22); a23 = Fused.MultiplyAdd(d3, c, a23);
                        c = Vector512.Create(Unsafe.Add(ref w3, k));
                        a30 = Fused.MultiplyAdd(d0, c, a30); a31 = Fused.MultiplyAdd(d1, c, a31); a32 = Fused.MultiplyAdd(d2, c, a32); a33 = Fused.MultiplyAdd(d3, c, a33);
                    }
                    AddTo(ref t0, at, a00, a01, a02, a03);
                    if (count > 1) AddTo(ref t1, at, a10, a11, a12, a13);
                    if (count > 2) AddTo(ref t2, at, a20, a21, a22, a23);
                    if (count > 3) AddTo(ref t3, at, a30, a31, a32, a33);
                }
                for (; v < vectors; v++)
                {
                    var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                    nuint at = (nuint)(v * V);
                    for (int oc = 0; oc < outChannels; oc++)
                    {
                        var d0 = Vector512.LoadUnsafe(ref Unsafe.Add(ref dy, oc * fl), at);
                        int k = oc * taps;
                        a0 = Fused.MultiplyAdd(d0, Vector512.Create(Unsafe.Add(ref w0, k)), a0);
                        a1 = Fused.MultiplyAdd(d0, Vector512.Create(Unsafe.Add(ref w1, k)), a1);
                        a2 = Fused.MultiplyAdd(d0, Vector512.Create(Unsafe.Add(ref w2, k)), a2);
                        a3 = Fused.MultiplyAdd(d0, Vector512.Create(Unsafe.Add(ref w3, k)), a3);
                    }
                    (Vector512.LoadUnsafe(ref t0, at) + a0).StoreUnsafe(ref t0, at);
                    if (count > 1) (Vector512.LoadUnsafe(ref t1, at) + a1).StoreUnsafe(ref t1, at);
                    if (count > 2) (Vector512.LoadUnsafe(ref t2, at) + a2).StoreUnsafe(ref t2, at);
                    if (count > 3) (Vector512.LoadUnsafe(ref t3, at) + a3).StoreUnsafe(ref t3, at);
                }
            }
        }

        private static void AddTo(ref float target, nuint at, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
        {
            const int V = 16;
            (Vector512.LoadUnsafe(ref target, at) + a0).StoreUnsafe(ref target, at);
            (Vector512.LoadUnsafe(ref target, at + V) + a1).StoreUnsafe(ref target, at + V);
            (Vector512.LoadUnsafe(ref target, at + 2 * V) + a2).StoreUnsafe(ref target, at + 2 * V);
            (Vector512.LoadUnsafe(ref target, at + 3 * V) + a3).StoreUnsafe(ref target, at + 3 * V);
        }

        // d y [oc x OH x OW] to flat rows of stride W+2p with zeros in the padding columns and the tail.
        private static void FlattenRows(ReadOnlySpan<float> outputGradient, int outChannels, Span<float> dyFlat, in Geometry g)
        {
            dyFlat.Clear();
            int outPlane = g.OutHeight * g.OutWidth;
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    CopyRow(ref Unsafe.Add(ref MemoryMarshal.GetReference(outputGradient), oc * outPlane + oy * g.OutWidth),
                        ref Unsafe.Add(ref MemoryMarshal.GetReference(dyFlat), oc * g.FlatLength + oy * g.PaddedWidth), g.OutWidth, relu: false);
                }
            }
        }

        // target[0..length) += source[0..length), length a multiple of 16.
        private static void AddRow(ref float source, ref float target, int length)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (int i = 0; i < length; i += 16)
                {
                    (Vector512.LoadUnsafe(ref target, (nuint)i) + Vector512.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
                }
            }
            else
            {
                for (int i = 0; i < length; i += 8)
                {
                    (Vector256.LoadUnsafe(ref target, (nuint)i) + Vector256.LoadUnsafe(ref source, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
                }
            }
        }

        private static int TapOffset(int tap, in Geometry g)
        {
            int kk = g.KernelArea;
            int ic = tap / kk, rest = tap - ic * kk;
            int ky = rest / g.KernelWidth, kx = rest - ky * g.KernelWidth;
            return ic * g.Plane + ky * g.PaddedWidth + kx;
        }

        /// <summary>The scalar backward path: the definition, term by term.</summary>
        private static void BackwardScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy,
            int outChannels, Span<float> weightGradient, Span<float> inputGradient, in Geometry g)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth;
            bool wantInput = !inputGradient.IsEmpty;
            if (wantInput) inputGradient.Slice(0, g.InChannels * g.Height * g.Width).Clear();
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int ic = 0; ic < g.InChannels; ic++)
                {
                    for (int ky = 0; ky < kh; ky++)
                    {
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int wAt = ((oc * g.InChannels + ic) * kh + ky) * kw + kx;
                            float w = wantInput ? weight[wAt] : 0f, sum = 0f;
                            for (int oy = 0; oy < g.OutHeight; oy++)
                            {
                                int iy = oy + ky - g.PaddingHeight;
                                if ((uint)iy >= (uint)g.Height) continue;
                                for (int ox = 0; ox < g.OutWidth; ox++)
                                {
                                    int ix = ox + kx - g.PaddingWidth;
                                    if ((uint)ix >= (uint)g.Width) continue;
                                    float d = dy[(oc * g.OutHeight + oy) * g.OutWidth + ox];
                                    int xAt = (ic * g.Height + iy) * g.Width + ix;
                                    sum += d * x[xAt];
                                    if (wantInput) inputGradient[xAt] += d * w;
                                }
                            }
                            if (!weightGradient.IsEmpty) weightGradient[wAt] += sum;
                        }
                    }
                }
            }
        }

        private static float BiasAt(ReadOnlySpan<float> bias, int first, int r, int count) =>
            bias.IsEmpty ? 0f : bias[first + Math.Min(r, count - 1)];

        /// <summary>The scalar path: the definition, one output cell at a time.</summary>
        private static void ForwardScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, bool relu, in Geometry g)
        {
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float sum = ConvolutionAt(x, weight, bias, oc, oy, ox, g);
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = relu ? Elementwise.Relu(sum) : sum;
                    }
                }
            }
        }

        /// <summary>The scalar path of <see cref="ForwardPooled"/>: each window's four outputs, then PyTorch's scan.</summary>
        private static void ForwardPooledScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, bool relu, in Geometry g)
        {
            int pooledHeight = g.OutHeight / 2, pooledWidth = g.OutWidth / 2;
            Span<float> window = stackalloc float[4];
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int py = 0; py < pooledHeight; py++)
                {
                    for (int px = 0; px < pooledWidth; px++)
                    {
                        for (int k = 0; k < 4; k++)
                        {
                            float v = ConvolutionAt(x, weight, bias, oc, 2 * py + k / 2, 2 * px + k % 2, g);
                            window[k] = relu ? Elementwise.Relu(v) : v;
                        }
                        float m = window[0];
                        for (int k = 1; k < 4; k++)
                        {
                            if (window[k] > m || float.IsNaN(window[k])) m = window[k];
                        }
                        y[(oc * pooledHeight + py) * pooledWidth + px] = m;
                    }
                }
            }
        }

        private static float ConvolutionAt(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int oc, int oy, int ox, in Geometry g)
        {
            int kh = g.KernelHeight, kw = g.KernelWidth;
            float sum = bias.IsEmpty ? 0f : bias[oc];
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy + ky - g.PaddingHeight;
                    if ((uint)iy >= (uint)g.Height) continue;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ox + kx - g.PaddingWidth;
                        if ((uint)ix >= (uint)g.Width) continue;
                        sum += x[(ic * g.Height + iy) * g.Width + ix] * weight[((oc * g.InChannels + ic) * kh + ky) * kw + kx];
                    }
                }
            }
            return sum;
        }
    }
}
