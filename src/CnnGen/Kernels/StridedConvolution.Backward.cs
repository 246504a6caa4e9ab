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
        // the im2col columns; the input gradient's lanes path: one block of 16 input channels over the padded plane,
        // [pixel][16], and one 16x16 transpose.
        // The Winograd input gradient's, where it runs.
        private static int BackwardScratch(in Geometry g, int outChannels)
        {
            int lanes = (outChannels + 15) / 16 * 16;
            int direct = Math.Max(Math.Max(g.PaddedLength + lanes * (g.Cells + g.Taps), g.Taps * g.Cells), 16 * g.Plane + 256);
            int tile = InputGradientTile(KernelPaths.Default, g, outChannels);
            if (tile != 0) direct = Math.Max(direct, InputGradientLayout(g, outChannels, tile).InputGradientScratchLength);
            int weightTile = WeightGradientTile(KernelPaths.Default, g, outChannels);
            return weightTile == 0 ? direct : Math.Max(direct, WeightGradientLayout(g, outChannels, weightTile).WeightGradientScratchLength);
        }

        /// <summary>The weight gradient's tile instead of the rule's (−1: the rule; 0: the direct lanes kernel); KernelBench sets it to compare.</summary>
        internal static int WeightGradientTileOverride { get; set; } = -1;

        /// <summary>Whether the Winograd input gradient reads the d y the Winograd weight gradient padded just before it (off only to measure).</summary>
        internal static bool ReusePaddedGradient { get; set; } = true;

        // The 3x3 stride-2 weight gradient summed over a pass's samples by StridedWinogradConvolution.WeightGradientOfSample:
        // the tile, or 0 for the direct lanes kernel (WeightPass512). Only where the sums are carried between samples.
        // KernelBench "strided-dw" (a pass of 16 or 64 samples, lanes against each tile, thread CPU µs per sample, interleaved;
        // 2026-12-02, load 8-24, three runs of 16 samples and one of 64; lanes / tile), from 16 input and 32 output channels
        // and Cin·Cout ≤ 8192 (128x16x16->256: 0.71/0.61x on the 4x4 tile, 0.79/0.86x on the 2x2):
        // outputs of 256-1023 cells with Cin·Cout ≤ 2048: the 4x4 tile (32x32x32->64 1.21/1.19/1.11/1.34x, 16x32x32->32
        // 1.02/1.12/1.20x); larger maps or more channels, Cin·Cout ≥ 2048: the 2x2 tile (32x64x64->64 1.14/1.10x, 64x32x32->128
        // 1.14/1.01x; the 4x4 tile there 0.83-1.02x); 16x64x64->32 ties on every tile (0.93-1.03x): direct;
        // outputs of 64-255 cells (8x8) with Cin·Cout ≥ 2048: the 2x2 tile (64x16x16->128 1.14/1.12/1.10x, 32x16x16->64
        // 1.07/1.07/1.05x, 48x16x16->96 1.12/1.10x; the 4x4 tile 0.75-0.96x); fewer channels lose (16x16x16->32 0.76/0.92x);
        // odd maps that round up to many empty cells (24x17x17->40: 0.45-0.84x): direct; smaller outputs: below.
        // The whole step (train-loop with TRAIN_LOOP_AB: this rule against the lanes kernel everywhere, rounds alternated in
        // one process, lanes / rule CPU µs per image; 2026-12-03): at load 4-13 the rule wins, two threads 1.016, 1.065,
        // 0.929, 0.996 (strided), 1.023, 1.010, 1.072, 1.014 (ResNet-8), one thread 1.024, 1.010 (strided), 1.004, 1.053
        // (ResNet-8); at load 8-29 (others' builds, one thread) it loses, strided 0.806-1.029 (median 0.965), ResNet-8
        // 0.948-0.991: its larger buffers suffer most from a shared cache. Kept; one tile alone (the other's layers direct)
        // measured 0.97-1.04, no better.
        //
        // Outputs under 64 cells (session 30, strided-dw 32 samples, load 1-3; lanes / tile): there the lanes kernel carries
        // its sums through memory for few cells a sample, and the tiles now win: onto 4x4 the 4x4 tile (32x8x8->64 1.53x,
        // 64x8x8->64 1.33x, 64x8x8->128 1.32-1.37x, 48x8x8->96 1.18x, 16x8x8->32 1.08x; and above the limit, 96x8x8->192
        // 1.45x, so up to Cin·Cout = 16384 there), where the 2x2 tile gives 1.03-1.32x; onto 6x6 the 2x2 tile (64x12x12->64
        // 1.12x, 32x12x12->64 1.04x; the 4x4 tile 0.73-0.82x); onto 2x2 the 2x2 tile (64x4x4->128 1.97x).
        private static int WeightGradientTile(KernelPath path, in Geometry g, int outChannels)
        {
            if (!DirectConvolution.WinogradOn(path) || !StridedWinogradConvolution.RunsTile(4) || g.Kernel != 3 || g.Stride != 2) return 0;
            if (WeightGradientTileOverride >= 0) return WeightGradientTileOverride;
            return StridedWinogradConvolution.Available ? MeasuredWeightGradientTile(g, outChannels) : WeightGradientTile256(g, outChannels);
        }

        // Without AVX-512 only the 4x4 tile runs, and against the Vector256 lanes kernel it wins more widely than on Vector512
        // (session 59, KernelBench strided-dw, 16 samples, lanes / 4x4 tile on Zen 3): outputs of 8x8 1.14-1.42x (64x16x16->128
        // 1.34-1.40x, 128x16x16->256 1.37-1.42x, 16x16x16->32 1.14-1.29x), 4x4 1.37-1.80x, 16x16 and 32x32 1.00-1.26x
        // (16x32x32->32 1.00x, 32x32x32->64 1.17x, 64x32x32->128 1.26x), 8x8 from 15x15 1.23x; it loses where its tiles' cells
        // are mostly empty (6x6 0.77-0.81x, 9x9 0.57x) and below 16 channels in (8x32x32->16 0.37x). Session 58 took it only
        // where the Vector512 rule takes the 4x4 tile. So: from 16 channels in and 32 out, where at least three cells in four
        // of its tiles are real (2x2 outputs, one in four, go direct though they measured 1.16x), up to Cin·Cout 32,768, the
        // most measured (its products per filter slot are 36 times the weights).
        private static int WeightGradientTile256(in Geometry g, int outChannels) =>
            g.InChannels >= 16 && outChannels >= 32 && (long)g.InChannels * outChannels <= MaximumWeightGradientFilters256
            && StridedWinogradConvolution.MostlyRealIn4x4(g.OutHeight, g.OutWidth) ? 4 : 0;

        private const long MaximumWeightGradientFilters256 = 32768;

        private static int MeasuredWeightGradientTile(in Geometry g, int outChannels)
        {
            long filters = (long)g.InChannels * outChannels;
            if (g.InChannels < 16 || outChannels < 32) return 0;
            if (g.Cells < 64)
            {
                if (filters > SmallOutputWeightGradientFilters || g.Cells < 4 || g.OutHeight % 2 != 0 || g.OutWidth % 2 != 0) return 0;
                return g.OutHeight % 4 == 0 && g.OutWidth % 4 == 0 ? 4 : 2;
            }
            if (filters > 8192) return 0;
            if (g.Cells >= 256) return filters <= 2048 && g.Cells < 1024 ? 4 : filters >= 2048 ? 2 : 0;
            return filters >= 2048 && g.OutHeight % 2 == 0 && g.OutWidth % 2 == 0 ? 2 : 0;
        }

        private const long SmallOutputWeightGradientFilters = 16384;

        /// <summary>Tiles the weight gradient's GEMM gathers from as many samples as it takes (0: 16); KernelBench sets it to compare.</summary>
        internal static int WeightGradientBatchTiles { get; set; }

        // Samples whose tiles make one GEMM of the Winograd weight gradient: enough for 16 tiles (one sample from 16x16 outputs on).
        internal static StridedWinogradConvolution.Layout WeightGradientLayout(int inChannels, int height, int width, int outChannels, int padding, int tile)
        {
            var one = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile);
            int batch = WeightGradientBatchTiles > 0 ? WeightGradientBatchTiles : 16;
            int samples = (batch + one.Tiles - 1) / one.Tiles;
            return samples <= 1 ? one : new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile, samples);
        }

        private static StridedWinogradConvolution.Layout WeightGradientLayout(in Geometry g, int outChannels, int tile) =>
            WeightGradientLayout(g.InChannels, g.Height, g.Width, outChannels, g.Padding, tile);

        /// <summary>The weight gradient's Winograd tile for a layer of this shape on this machine's default path (0: the direct kernel).</summary>
        internal static int WeightGradientTileFor(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            WeightGradientTile(KernelPaths.Default, new Geometry(inChannels, height, width, kernel, stride, padding), outChannels);

        /// <summary>
        /// Floats of the input gradient's packed weights (<see cref="PackInputGradientWeights"/>) for a layer of this shape:
        /// [16-input-channel block][output channel][kernel²][16], or where the input gradient runs by Winograd
        /// (<see cref="InputGradientTile"/>) its transformed filters; 0 where it runs as GEMM + col2im (the scalar path, 1x1 kernels, few channels), so
        /// a workspace holds nothing it would not use.
        /// </summary>
        public static int InputGradientWeightsLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            if (!InputGradientLanes(KernelPaths.Default, inChannels, kernel)) return 0;
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int tile = InputGradientTile(KernelPaths.Default, g, outChannels);
            return tile == 0 ? PackedInputGradientLength(inChannels, outChannels, kernel) : InputGradientLayout(g, outChannels, tile).TransposedFiltersLength;
        }

        /// <summary>The input gradient's tile instead of the rule's (−1: the rule; 0: the direct kernels); KernelBench sets it to compare.</summary>
        internal static int InputGradientTileOverride { get; set; } = -1;

        // The 3x3 stride-2 input gradient by StridedWinogradConvolution.InputGradient (the forward's transforms transposed):
        // the tile, or 0 for the direct lanes kernel. KernelBench "strided-dx" (lanes against each tile, thread CPU µs per
        // sample, interleaved; 2026-12-02, load 12-22, three runs: one sample twice, a loop over 16 samples once), where it
        // pays: from the forward's 16 input and 32 output channels,
        // outputs of 256 cells or more (16x16, 32x32): the 4x4 tile, 1.25-1.68x with Cin·Cout ≥ 1024 (32x32x32->64 79.8 ->
        // 58.5, 71.1 -> 56.8, 88.1 -> 62.9; 64x32x32->128 1.42-1.68x; 32x64x64->64 1.40-1.45x), 0.97-1.18x at 512
        // (16x32x32->32 1.11x, 1.18x, 1.01x; 16x64x64->32 1.08x, 1.13x, 0.97x); fewer channels tie (16x32x32->16 0.97-1.14x,
        // 8x32x32->16 0.99-1.10x);
        // outputs of 64 to 255 cells (8x8) with Cin·Cout ≥ 1024: the 2x4 tile where it covers the width (a multiple of 4) and
        // Cin·Cout ≤ 4608, as the forward's rule, 1.19-1.53x (32x16x16->64 1.28-1.34x, 48x16x16->96 1.36-1.53x,
        // 32x16x16->32 1.22-1.38x, 64x15x15->64 1.19-1.46x); else the 4x4 tile, 1.25-1.63x (64x16x16->128 68.7 -> 42.1,
        // 74.3 -> 50.1, 58.8 -> 40.7; 128x16x16->256 1.25-1.27x); below 1024 the direct kernel (16x16x16->32 0.68-0.94x;
        // 24x17x17->40, 9x9 outputs, 0.72-0.98x);
        // smaller outputs (4x4): the direct kernel (the 4x4 tile 0.40-0.71x, the 2x2 0.92-1.23x). Measured again in session 30
        // (strided-dx 16 samples, load 1-3, lanes / tile): onto 4x4 and 6x6 the 2x2 tile now wins, 1.15-1.29x (32x8x8->64
        // 1.15x, 64x8x8->64 1.20x, 48x8x8->96 1.25x, 64x8x8->128 1.29x, 32x12x12->64 1.15x; the 4x4 tile 0.58-0.87x, the
        // 2x4 0.91-1.03x), so there the 2x2 tile with Cin·Cout from 1024 to 8192 and even sides; onto 2x2 the lanes kernel
        // still wins (64x4x4->128: the 2x2 tile 0.83x).
        private static int InputGradientTile(KernelPath path, in Geometry g, int outChannels)
        {
            if (InputGradientTileOverride >= 0 && g.Kernel == 3 && g.Stride == 2) return InputGradientTileOverride;
            if (!DirectConvolution.WinogradOn(path) || !StridedWinogradConvolution.RunsTile(4) || g.Kernel != 3 || g.Stride != 2
                || g.InChannels < MinimumWinogradInputGradientInChannels || outChannels < MinimumWinogradInputGradientOutChannels) return 0;
            if (g.Cells >= 256) return 4;
            long filters = (long)g.InChannels * outChannels;
            if (filters < MinimumWinogradInputGradientFilters) return 0;
            // Without AVX-512 the 4x4 tile alone runs: from 64 cells (session 58, train-loop's alternated rounds; see benchmarks/README.md).
            if (!StridedWinogradConvolution.Available) return g.Cells >= 64 ? 4 : 0;
            if (g.Cells < 64)
                return g.Cells >= 16 && filters <= MaximumSmallInputGradientFilters && g.OutHeight % 2 == 0 && g.OutWidth % 2 == 0 ? 2 : 0;
            return g.OutWidth % 4 == 0 && filters <= MaximumWideInputGradientFilters ? StridedWinogradConvolution.Wide : 4;
        }

        private const int MinimumWinogradInputGradientInChannels = 16, MinimumWinogradInputGradientOutChannels = 32;
        private const int MinimumWinogradInputGradientFilters = 1024, MaximumWideInputGradientFilters = 4608, MaximumSmallInputGradientFilters = 8192;

        /// <summary>The input gradient's Winograd tile for a layer of this shape on this machine's default path (0: the direct kernels).</summary>
        internal static int InputGradientTileFor(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding) =>
            InputGradientTile(KernelPaths.Default, new Geometry(inChannels, height, width, kernel, stride, padding), outChannels);

        private static StridedWinogradConvolution.Layout InputGradientLayout(in Geometry g, int outChannels, int tile) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Padding, tile);

        internal static int PackedInputGradientLength(int inChannels, int outChannels, int kernel) =>
            (inChannels + 15) / 16 * outChannels * kernel * kernel * 16;

        // The input gradient with the input channels in the lanes (on Vector256 as two halves of each block,
        // StridedConvolution.Lanes256.cs), where it pays. KernelBench "backward strided", interleaved thread CPU time, 2026-12-01 (load 11-14), GEMM +
        // col2im -> lanes, µs: 16x32x32->32 s2 27.6 -> 15.4; 32x16x16->64 s2 19.1 -> 11.6; 32x32x32->64 s2 73.7 -> 51.5;
        // 64x16x16->128 s2 57.2 -> 45.1; 128x8x8->256 s2 88.4 -> 50.6; 16x16x16->24 s2 6.8 -> 2.6; 12x32x32->24 s2
        // 19.2 -> 10.5; 8x32x32->16 s2 11.4 -> 6.9; 24x28x28->40 k5 s2 101 -> 60; 32x32x32->64 k2 s2 34.3 -> 25.7;
        // 32x24x24->32 s3 15.8 -> 11.2; 64x15x15->64 s2 36.9 -> 31.6. Slower: 1x1 kernels (16x32x32->32 4.3 -> 6.4,
        // 32x16x16->64 2.8 -> 3.3, 64x16x16->128 7.5 -> 10.0: three pixels in four receive nothing, the plane's clear and
        // transposes dominate) and 3 input channels (22 -> 56: 13 of 16 lanes idle).
        private const int MinimumInputGradientLanesChannels = 8;

        private static bool InputGradientLanes(KernelPath path, int inChannels, int kernel) =>
            (path == KernelPath.Vector512 && Avx512F.IsSupported || path == KernelPath.Vector256 && InputGradientLanes256 && Fma.IsSupported && Avx2.IsSupported)
            && kernel > 1 && inChannels >= MinimumInputGradientLanesChannels;

        /// <summary>
        /// The weights [outChannels x inChannels x kernel x kernel] laid out for <see cref="BackwardPacked"/>'s input
        /// gradient: for each block of 16 input channels, each output channel and tap, the 16 input channels' weights in a row
        /// (zero past the last channel); where the input gradient runs by Winograd (3x3 stride 2, <see cref="InputGradientTile"/>)
        /// its filters, StridedWinogradConvolution.TransformFiltersTransposed. Once per backward pass: every sample's call
        /// reads them. Writes nothing when <paramref name="packed"/> is empty (a machine that runs the input gradient as GEMM +
        /// col2im).
        /// </summary>
        public static void PackInputGradientWeights(ReadOnlySpan<float> weight, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding,
            Span<float> packed)
        {
            if (packed.IsEmpty) return;
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
            ArgumentOutOfRangeException.ThrowIfNegative(padding);
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int tile = InputGradientTile(KernelPaths.Default, g, outChannels);
            if (tile != 0)
            {
                var l = InputGradientLayout(g, outChannels, tile);
                Require(weight.Length >= outChannels * inChannels * 9, nameof(weight), outChannels * inChannels * 9);
                Require(packed.Length >= l.TransposedFiltersLength, nameof(packed), l.TransposedFiltersLength);
                StridedWinogradConvolution.TransformFiltersTransposed(weight, packed, l);
                return;
            }
            int area = kernel * kernel, length = PackedInputGradientLength(inChannels, outChannels, kernel);
            Require(weight.Length >= outChannels * inChannels * area, nameof(weight), outChannels * inChannels * area);
            Require(packed.Length >= length, nameof(packed), length);
            packed.Slice(0, length).Clear();
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int ic = 0; ic < inChannels; ic++)
                {
                    var source = weight.Slice((oc * inChannels + ic) * area, area);
                    int row = ((ic / 16) * outChannels + oc) * area * 16 + ic % 16;
                    for (int t = 0; t < area; t++) packed[row + t * 16] = source[t];
                }
            }
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
        /// 1x1 kernels without padding take both from GEMMs over the subsampled input (d weight by the lanes below 32 input
        /// channels), d x spread back with zeros between.
        /// </remarks>
        public static void Backward(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, default, KernelPaths.Default);

        /// <summary>
        /// <see cref="Backward"/> with the weights also packed for the input gradient (<see cref="PackInputGradientWeights"/>,
        /// <see cref="InputGradientWeightsLength"/> floats, once per pass): on the Vector512 path d x then has the input
        /// channels in the lanes, with no GEMM and no col2im. With an empty <paramref name="inputGradientWeights"/> it is
        /// <see cref="Backward"/>.
        /// </summary>
        public static void BackwardPacked(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientWeights) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, inputGradientWeights, KernelPaths.Default);

        /// <summary>
        /// <see cref="Backward"/> as sample <paramref name="sample"/> of <paramref name="samples"/> in a backward pass: where the
        /// weight gradient has sums to carry between samples (<paramref name="weightGradientProducts"/> of
        /// <see cref="WeightGradientProductsLength"/> floats, not empty) they gather there, set at the first sample, and go to
        /// <paramref name="weightGradient"/> once, at the last. Summed in another order than sample by sample: the same values to
        /// rounding. Call it for samples 0, 1, … in order; with empty products it is <see cref="Backward"/>.
        /// </summary>
        public static void BackwardOfSample(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, Span<float> weightGradientProducts, int sample, int samples) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, default, KernelPaths.Default,
                weightGradientProducts, sample, samples);

        /// <summary><see cref="BackwardPacked"/> as one sample of a pass, the weight gradient's sums carried as <see cref="BackwardOfSample"/> says.</summary>
        public static void BackwardPackedOfSample(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientWeights, Span<float> weightGradientProducts, int sample, int samples) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, inputGradientWeights, KernelPaths.Default,
                weightGradientProducts, sample, samples);

        /// <summary>
        /// Floats a layer of this shape carries between a pass's samples for its weight gradient (see
        /// <see cref="BackwardOfSample"/>): the lanes kernel's transposed sums [lanes][taps] (Vector512, or Vector256 with FMA), or
        /// where the weight gradient runs by Winograd (<see cref="WeightGradientTile"/>) its products per filter slot; 0 where
        /// the weight gradient is added sample by sample (the scalar path, 1x1 kernels without padding).
        /// </summary>
        public static int WeightGradientProductsLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            if (!(KernelPaths.Default == KernelPath.Vector512 && Avx512F.IsSupported || UseWeightGradientLanes256(KernelPaths.Default)) || inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0
                || kernel <= 0 || stride <= 0 || padding < 0 || height + 2 * padding < kernel || width + 2 * padding < kernel) return 0;
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            if (PointwiseBackward(g)) return 0;
            int lanes = (outChannels + 15) / 16 * 16 * g.Taps, tile = WeightGradientTile(KernelPaths.Default, g, outChannels);
            return tile == 0 ? lanes : Math.Max(lanes, WeightGradientLayout(g, outChannels, tile).WeightGradientProductsLength);
        }

        internal static void BackwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, KernelPath path) =>
            BackwardOn(x, inChannels, height, width, weight, outputGradient, outChannels, kernel, stride, padding, weightGradient, inputGradient, scratch, default, path);

        internal static void BackwardOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, int kernel, int stride, int padding,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, ReadOnlySpan<float> inputGradientWeights, KernelPath path,
            Span<float> weightGradientProducts = default, int sample = 0, int samples = 1)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            var g = CheckedGeometry(inChannels, height, width, kernel, stride, padding);
            int inLength = inChannels * height * width, weightLength = outChannels * g.Taps;
            Require(x.Length >= inLength, nameof(x), inLength);
            Require(weight.Length >= weightLength, nameof(weight), weightLength);
            Require(outputGradient.Length >= outChannels * g.Cells, nameof(outputGradient), outChannels * g.Cells);
            bool wantWeights = !weightGradient.IsEmpty, wantInput = !inputGradient.IsEmpty;
            if (wantWeights) Require(weightGradient.Length >= weightLength, nameof(weightGradient), weightLength);
            if (wantInput) Require(inputGradient.Length >= inLength, nameof(inputGradient), inLength);
            Require(scratch.Length >= BackwardScratch(g, outChannels), nameof(scratch), BackwardScratch(g, outChannels));
            // Sums carried between samples (the Vector512 lanes kernel's): set at the first, added to d weight at the last.
            if (wantWeights && !weightGradientProducts.IsEmpty)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(sample);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sample, samples);
            }

            if (path == KernelPath.Scalar)
            {
                BackwardScalar(x, weight, outputGradient, outChannels, weightGradient, inputGradient, g);
                return;
            }
            if (PointwiseBackward(g))
            {
                BackwardPointwise(x, weight, outputGradient, outChannels, weightGradient, inputGradient, scratch, g, path);
                return;
            }
            // d weight: channel lanes (on Vector256 as two halves of each block), else im2col + GEMM (d weight += d y · columnsᵀ).
            var cols = scratch.Slice(0, g.Taps * g.Cells);
            int weightTile = wantWeights && !weightGradientProducts.IsEmpty ? WeightGradientTile(path, g, outChannels) : 0;
            StridedWinogradConvolution.Layout weightLayout = default;
            if (weightTile != 0)
            {
                var l = weightLayout = WeightGradientLayout(g, outChannels, weightTile);
                Require(weightGradientProducts.Length >= l.WeightGradientProductsLength, nameof(weightGradientProducts), l.WeightGradientProductsLength);
                StridedWinogradConvolution.WeightGradientOfSample(x, outputGradient, weightGradientProducts, weightGradient, scratch, sample, samples, l);
            }
            else if (wantWeights && path == KernelPath.Vector512 && Avx512F.IsSupported)
                WeightGradientLanes512(x, outputGradient, outChannels, weightGradient, scratch, g, weightGradientProducts, sample, samples);
            else if (wantWeights && UseWeightGradientLanes256(path))
                WeightGradientLanes256Of(x, outputGradient, outChannels, weightGradient, scratch, g, weightGradientProducts, sample, samples);
            else if (wantWeights)
            {
                Im2Col.Expand(x, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, cols);
                Gemm.Multiply(false, true, outChannels, g.Taps, g.Cells, outputGradient, g.Cells, cols, g.Cells, weightGradient, g.Taps, accumulate: true);
            }
            // d x: with packed weights on Vector512 the input channels in the lanes; else d columns = weightᵀ · d y, folded
            // back onto the input (after d weight: either shares its scratch).
            int tile = wantInput && !inputGradientWeights.IsEmpty ? InputGradientTile(path, g, outChannels) : 0;
            if (tile != 0)
            {
                var l = InputGradientLayout(g, outChannels, tile);
                Require(inputGradientWeights.Length >= l.TransposedFiltersLength, nameof(inputGradientWeights), l.TransposedFiltersLength);
                // The weight gradient just padded d y into the same scratch where this pass would: it is read as it lies.
                bool padded = ReusePaddedGradient && weightTile != 0 && StridedWinogradConvolution.SharesPaddedGradient(weightLayout, l);
                StridedWinogradConvolution.InputGradient(outputGradient, inputGradientWeights, inputGradient, scratch, l, padded);
            }
            else if (wantInput && !inputGradientWeights.IsEmpty && InputGradientLanes(path, inChannels, kernel))
            {
                int packedLength = PackedInputGradientLength(inChannels, outChannels, kernel);
                Require(inputGradientWeights.Length >= packedLength, nameof(inputGradientWeights), packedLength);
                if (path == KernelPath.Vector256) InputGradientLanes256Of(outputGradient, outChannels, inputGradientWeights, inputGradient, scratch, g);
                else InputGradientLanes512(outputGradient, outChannels, inputGradientWeights, inputGradient, scratch, g);
            }
            else if (wantInput)
            {
                Gemm.Multiply(true, false, g.Taps, g.Cells, outChannels, weight, g.Taps, outputGradient, g.Cells, cols, g.Cells, accumulate: false);
                inputGradient.Slice(0, inLength).Clear();
                Im2Col.AccumulateBack(cols, inChannels, height, width, kernel, stride, padding, g.OutHeight, g.OutWidth, inputGradient);
            }
        }

        /// <summary>
        /// The lanes weight gradient alone (WeightGradientLanes512, or WeightGradientLanes256Of without AVX-512), sample by
        /// sample or with its sums carried over the samples (<paramref name="products"/> not empty): KernelBench
        /// <c>wgrad-strided-batch</c> and <c>strided-dw</c>. The scratch is <see cref="ScratchLength"/> floats.
        /// </summary>
        internal static void WeightGradientLanesOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> outputGradient,
            int outChannels, int kernel, int stride, int padding, Span<float> weightGradient, Span<float> scratch,
            Span<float> products = default, int sample = 0, int samples = 1)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            Require(scratch.Length >= BackwardScratch(g, outChannels), nameof(scratch), BackwardScratch(g, outChannels));
            Require(weightGradient.Length >= outChannels * g.Taps, nameof(weightGradient), outChannels * g.Taps);
            if (Avx512F.IsSupported) WeightGradientLanes512(x, outputGradient, outChannels, weightGradient, scratch, g, products, sample, samples);
            else if (UseWeightGradientLanes256(KernelPath.Vector256)) WeightGradientLanes256Of(x, outputGradient, outChannels, weightGradient, scratch, g, products, sample, samples);
            else throw new PlatformNotSupportedException("The lanes weight gradient needs AVX-512, or AVX2 and FMA.");
        }

        // 1x1 kernels without padding (ResNets' projection shortcuts): each output cell reads the one input pixel at stride
        // times its place, so both gradients are plain GEMMs over the subsampled input [inChannels][cells] — d weight += d y ·
        // x_sᵀ, d x_s = weightᵀ · d y — and d x is d x_s spread back with zeros between, in one pass that writes every pixel
        // (col2im cleared the whole plane first, then added each value in). KernelBench "backward 1x1" (benchmarks/README.md,
        // session 7), µs, before -> after: d x 16x32x32->32 4.6 -> 4.2, 16x64x64->32 17.3 -> 13.6, 64x32x32->128 30.8 ->
        // 27.4, the rest within noise; d weight by the GEMM 32x16x16->64 2.0 -> 1.6, 64x16x16->128 7.0 -> 5.4, 128x16x16->256
        // 26.6 -> 19.0, 128x8x8->256 11.8 -> 6.6, 256x8x8->512 49.9 -> 24.3, but 16x32x32->32 2.2 -> 2.8 (and ResNet-8's
        // training step agrees, by perf): below 32 input channels the Vector512 weight gradient stays the lanes kernel.
        private static bool PointwiseBackward(in Geometry g) => g.Kernel == 1 && g.Padding == 0;

        private const int MinimumSubsampledWeightGradientChannels = 32;

        private static void BackwardPointwise(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient, int outChannels,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, in Geometry g, KernelPath path)
        {
            int channels = g.InChannels, cells = g.Cells;
            var sampled = scratch.Slice(0, channels * cells);
            if (!weightGradient.IsEmpty && channels < MinimumSubsampledWeightGradientChannels && path == KernelPath.Vector512 && Avx512F.IsSupported)
                WeightGradientLanes512(x, outputGradient, outChannels, weightGradient, scratch, g);
            else if (!weightGradient.IsEmpty)
            {
                Subsample(x, sampled, g, path);
                Gemm.Multiply(false, true, outChannels, channels, cells, outputGradient, cells, sampled, cells, weightGradient, channels, accumulate: true);
            }
            if (!inputGradient.IsEmpty)
            {
                Gemm.Multiply(true, false, channels, cells, outChannels, weight, channels, outputGradient, cells, sampled, cells, accumulate: false);
                Spread(sampled, inputGradient, g, path);
            }
        }

        // sampled[c][oy][ox] = x[c][stride·oy][stride·ox]; at stride 2 on Vector512 the even floats of 32 by one permute.
        private static void Subsample(ReadOnlySpan<float> x, Span<float> sampled, in Geometry g, KernelPath path)
        {
            int s = g.Stride, width = g.Width, outWidth = g.OutWidth, outHeight = g.OutHeight;
            bool pairs = s == 2 && path == KernelPath.Vector512 && Avx512F.IsSupported;
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            ref float source = ref MemoryMarshal.GetReference(x);
            ref float target = ref MemoryMarshal.GetReference(sampled);
            for (int c = 0; c < g.InChannels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float row = ref Unsafe.Add(ref source, (c * g.Height + oy * s) * width);
                    ref float to = ref Unsafe.Add(ref target, (c * outHeight + oy) * outWidth);
                    int ox = 0;
                    if (pairs)
                    {
                        for (; 2 * ox + 32 <= width; ox += 16)
                        {
                            var lower = Vector512.LoadUnsafe(ref row, (nuint)(2 * ox));
                            var upper = Vector512.LoadUnsafe(ref row, (nuint)(2 * ox + 16));
                            Avx512F.PermuteVar16x32x2(lower, evens, upper).StoreUnsafe(ref to, (nuint)ox);
                        }
                        for (; 2 * ox + 16 <= width; ox += 8)
                        {
                            var both = Vector512.LoadUnsafe(ref row, (nuint)(2 * ox));
                            Avx512F.PermuteVar16x32x2(both, evens, both).GetLower().StoreUnsafe(ref to, (nuint)ox);
                        }
                    }
                    for (; ox < outWidth; ox++) Unsafe.Add(ref to, ox) = Unsafe.Add(ref row, ox * s);
                }
            }
        }

        // d x[c][y][x] = sampled[c][y / stride][x / stride] where both divide (and fall inside the output), else 0: every
        // float of d x written once; at stride 2 on Vector512 16 values to 32 floats by two permutes with zero.
        private static void Spread(ReadOnlySpan<float> sampled, Span<float> inputGradient, in Geometry g, KernelPath path)
        {
            int s = g.Stride, width = g.Width, outWidth = g.OutWidth, outHeight = g.OutHeight;
            bool pairs = s == 2 && path == KernelPath.Vector512 && Avx512F.IsSupported;
            // Indices 16 and up pick from the second operand, zero.
            var lowerHalf = Vector512.Create(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
            var upperHalf = Vector512.Create(8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16);
            var zero = Vector512<float>.Zero;
            ref float source = ref MemoryMarshal.GetReference(sampled);
            for (int c = 0; c < g.InChannels; c++)
            {
                for (int y = 0; y < g.Height; y++)
                {
                    var row = inputGradient.Slice((c * g.Height + y) * width, width);
                    int oy = y / s;
                    if (y != oy * s || oy >= outHeight)
                    {
                        row.Clear();
                        continue;
                    }
                    ref float to = ref MemoryMarshal.GetReference(row);
                    ref float from = ref Unsafe.Add(ref source, (c * outHeight + oy) * outWidth);
                    int ox = 0;
                    if (pairs)
                    {
                        for (; 2 * ox + 32 <= width; ox += 16)
                        {
                            var v = Vector512.LoadUnsafe(ref from, (nuint)ox);
                            Avx512F.PermuteVar16x32x2(v, lowerHalf, zero).StoreUnsafe(ref to, (nuint)(2 * ox));
                            Avx512F.PermuteVar16x32x2(v, upperHalf, zero).StoreUnsafe(ref to, (nuint)(2 * ox + 16));
                        }
                        for (; 2 * ox + 16 <= width; ox += 8)
                        {
                            var v = Vector256.LoadUnsafe(ref from, (nuint)ox).ToVector512Unsafe();
                            Avx512F.PermuteVar16x32x2(v, lowerHalf, zero).StoreUnsafe(ref to, (nuint)(2 * ox));
                        }
                    }
                    row.Slice(ox * s).Clear();
                    for (; ox < outWidth; ox++) Unsafe.Add(ref to, ox * s) = Unsafe.Add(ref from, ox);
                }
            }
        }

        // With sums carried between samples (products not empty) d weightᵀ stays there: cleared at the first sample, turned back
        // and added to d weight at the last (per sample, the clear and the turn cost a fifth of an 8x8-output layer's time).
        private static void WeightGradientLanes512(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, int outChannels,
            Span<float> weightGradient, Span<float> scratch, in Geometry g, Span<float> products = default, int sample = 0, int samples = 1)
        {
            const int V = 16;
            int lanes = (outChannels + V - 1) / V * V, cells = g.Cells;
            bool summed = !products.IsEmpty;
            if (summed) Require(products.Length >= lanes * g.Taps, nameof(products), lanes * g.Taps);
            var padded = scratch.Slice(0, g.PaddedLength);
            var dyT = scratch.Slice(g.PaddedLength, lanes * cells);
            var transposed = summed ? products.Slice(0, lanes * g.Taps) : scratch.Slice(g.PaddedLength + lanes * cells, lanes * g.Taps);
            DirectConvolution.TransposeToBlocks(outputGradient, outChannels, cells, dyT, V);
            // Without padding the passes read x itself, as ForwardLanes512 does: the copy was 0.8% of ResNet-8's training step
            // (its 1x1 stride-2 shortcut's whole input, of which the passes read a quarter).
            bool direct = g.Padding == 0 && ReadsUnpaddedInput;
            if (!direct) Pad(x, padded, g);
            if (!summed || sample == 0) transposed.Clear();
            ref float p = ref MemoryMarshal.GetReference(direct ? x : padded);
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
            if (!summed || sample == samples - 1) DirectConvolution.AddTransposedBack(transposed, outChannels, g.Taps, weightGradient, V);
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

        // d x with the input channels in the lanes, one block of 16 at a time: output cells 8 at a time (in row-major order,
        // across rows), taps 2 at a time: each tap's 16-channel vector Σ_oc d y[oc, cell] · w[oc, block, tap] (one broadcast
        // of d y feeding the two taps' FMAs), added into the padded plane [pixel][16] at stride·cell plus the tap's offset;
        // then the plane's inner part goes to d x [channel][row][column] through 16x16 transposes.
        private static void InputGradientLanes512(ReadOnlySpan<float> outputGradient, int outChannels, ReadOnlySpan<float> packed,
            Span<float> inputGradient, Span<float> scratch, in Geometry g)
        {
            const int V = 16;
            int area = g.Kernel * g.Kernel, blocks = (g.InChannels + V - 1) / V, cells = g.Cells;
            var plane = scratch.Slice(0, V * g.Plane);
            var square = scratch.Slice(V * g.Plane, V * V);
            ref float dy = ref MemoryMarshal.GetReference(outputGradient);
            for (int block = 0; block < blocks; block++)
            {
                plane.Clear();
                ref float p = ref MemoryMarshal.GetReference(plane);
                ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(packed), block * outChannels * area * V);
                int cell = 0;
                for (; cell + 8 <= cells; cell += 8) InputGradientCells512<C8>(ref dy, outChannels, ref w, ref p, cell, g);
                for (; cell + 4 <= cells; cell += 4) InputGradientCells512<C4>(ref dy, outChannels, ref w, ref p, cell, g);
                for (; cell < cells; cell++) InputGradientCells512<C1>(ref dy, outChannels, ref w, ref p, cell, g);
                StorePlane(plane, square, inputGradient, block, g);
            }
        }

        // Output cells [firstCell, firstCell + TCells) (TCells is 8, 4 or 1; they may span rows): every tap's sums over the
        // output channels, added to the plane where the tap reaches, two taps per pass over the output channels.
        private static void InputGradientCells512<TCells>(ref float dy, int outChannels, ref float w, ref float plane, int firstCell, in Geometry g)
            where TCells : struct, IConstant
        {
            const int V = 16;
            int k = g.Kernel, area = k * k, cells = g.Cells;
            int wStep = area * V;
            // Each cell's pixel in the padded plane for tap (0, 0), in floats.
            int c0 = Origin(firstCell, g), c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
            if (TCells.Value > 1)
            {
                c1 = Origin(firstCell + 1, g); c2 = Origin(firstCell + 2, g); c3 = Origin(firstCell + 3, g);
            }
            if (TCells.Value > 4)
            {
                c4 = Origin(firstCell + 4, g); c5 = Origin(firstCell + 5, g); c6 = Origin(firstCell + 6, g); c7 = Origin(firstCell + 7, g);
            }
            ref float d = ref Unsafe.Add(ref dy, firstCell);
            for (int tap = 0; tap < area; tap += 2)
            {
                // The last tap of an odd count repeats it into the second set of sums, which is not added.
                bool pair = tap + 1 < area;
                ref float wa = ref Unsafe.Add(ref w, tap * V);
                ref float wb = ref Unsafe.Add(ref wa, pair ? V : 0);
                var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                var b0 = a0; var b1 = a0; var b2 = a0; var b3 = a0; var b4 = a0; var b5 = a0; var b6 = a0; var b7 = a0;
                for (int oc = 0; oc < outChannels; oc++)
                {
                    var va = Vector512.LoadUnsafe(ref wa, (nuint)(oc * wStep));
                    var vb = Vector512.LoadUnsafe(ref wb, (nuint)(oc * wStep));
                    ref float dc = ref Unsafe.Add(ref d, oc * cells);
                    var e = Vector512.Create(dc); a0 = Fused.MultiplyAdd(e, va, a0); b0 = Fused.MultiplyAdd(e, vb, b0);
                    if (TCells.Value > 1)
                    {
                        e = Vector512.Create(Unsafe.Add(ref dc, 1)); a1 = Fused.MultiplyAdd(e, va, a1); b1 = Fused.MultiplyAdd(e, vb, b1);
                        e = Vector512.Create(Unsafe.Add(ref dc, 2)); a2 = Fused.MultiplyAdd(e, va, a2); b2 = Fused.MultiplyAdd(e, vb, b2);
                        e = Vector512.Create(Unsafe.Add(ref dc, 3)); a3 = Fused.MultiplyAdd(e, va, a3); b3 = Fused.MultiplyAdd(e, vb, b3);
                    }
                    if (TCells.Value > 4)
                    {
                        e = Vector512.Create(Unsafe.Add(ref dc, 4)); a4 = Fused.MultiplyAdd(e, va, a4); b4 = Fused.MultiplyAdd(e, vb, b4);
                        e = Vector512.Create(Unsafe.Add(ref dc, 5)); a5 = Fused.MultiplyAdd(e, va, a5); b5 = Fused.MultiplyAdd(e, vb, b5);
                        e = Vector512.Create(Unsafe.Add(ref dc, 6)); a6 = Fused.MultiplyAdd(e, va, a6); b6 = Fused.MultiplyAdd(e, vb, b6);
                        e = Vector512.Create(Unsafe.Add(ref dc, 7)); a7 = Fused.MultiplyAdd(e, va, a7); b7 = Fused.MultiplyAdd(e, vb, b7);
                    }
                }
                AddCells<TCells>(ref Unsafe.Add(ref plane, TapOffset(tap, g)), c0, c1, c2, c3, c4, c5, c6, c7, a0, a1, a2, a3, a4, a5, a6, a7);
                if (pair) AddCells<TCells>(ref Unsafe.Add(ref plane, TapOffset(tap + 1, g)), c0, c1, c2, c3, c4, c5, c6, c7, b0, b1, b2, b3, b4, b5, b6, b7);
            }
        }

        // An output cell's pixel in the padded [pixel][16] plane for tap (0, 0), and a tap's offset from it, in floats.
        private static int Origin(int cell, in Geometry g) => ((cell / g.OutWidth) * g.Stride * g.PaddedWidth + (cell % g.OutWidth) * g.Stride) * 16;

        private static int TapOffset(int tap, in Geometry g) => ((tap / g.Kernel) * g.PaddedWidth + tap % g.Kernel) * 16;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddCells<TCells>(ref float at, int c0, int c1, int c2, int c3, int c4, int c5, int c6, int c7,
            Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
            Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7)
            where TCells : struct, IConstant
        {
            (Vector512.LoadUnsafe(ref at, (nuint)c0) + a0).StoreUnsafe(ref at, (nuint)c0);
            if (TCells.Value > 1)
            {
                (Vector512.LoadUnsafe(ref at, (nuint)c1) + a1).StoreUnsafe(ref at, (nuint)c1);
                (Vector512.LoadUnsafe(ref at, (nuint)c2) + a2).StoreUnsafe(ref at, (nuint)c2);
                (Vector512.LoadUnsafe(ref at, (nuint)c3) + a3).StoreUnsafe(ref at, (nuint)c3);
            }
            if (TCells.Value > 4)
            {
                (Vector512.LoadUnsafe(ref at, (nuint)c4) + a4).StoreUnsafe(ref at, (nuint)c4);
                (Vector512.LoadUnsafe(ref at, (nuint)c5) + a5).StoreUnsafe(ref at, (nuint)c5);
                (Vector512.LoadUnsafe(ref at, (nuint)c6) + a6).StoreUnsafe(ref at, (nuint)c6);
                (Vector512.LoadUnsafe(ref at, (nuint)c7) + a7).StoreUnsafe(ref at, (nuint)c7);
            }
        }

        // The plane's inner pixels [pixel][16 channels] to d x's channels of this block: 16 pixels of a row at a time through
        // a 16x16 transpose, the rest of the row one value at a time.
        private static void StorePlane(ReadOnlySpan<float> plane, Span<float> square, Span<float> inputGradient, int block, in Geometry g) =>
            StorePlane(plane, square, inputGradient, block, g.InChannels, g.Height, g.Width, g.Padding, g.PaddedWidth);

        // The same for a plane paddedWidth pixels a row with the image at (padding, padding); shared with
        // StridedWinogradConvolution.InputGradient. Square: 256 floats.
        internal static void StorePlane(ReadOnlySpan<float> plane, Span<float> square, Span<float> inputGradient, int block,
            int inChannels, int height, int width, int padding, int paddedWidth)
        {
            const int V = 16;
            int channels = Math.Min(V, inChannels - block * V), pad = padding, rowLength = height * width;
            ref float p = ref MemoryMarshal.GetReference(plane);
            ref float t = ref MemoryMarshal.GetReference(square);
            ref float dx = ref Unsafe.Add(ref MemoryMarshal.GetReference(inputGradient), block * V * rowLength);
            for (int iy = 0; iy < height; iy++)
            {
                ref float row = ref Unsafe.Add(ref p, ((iy + pad) * paddedWidth + pad) * V);
                int ix = 0;
                for (; ix + V <= width; ix += V)
                {
                    // square[c·16 + i] = the value of channel c at pixel ix + i
                    DirectConvolution.Transpose16(ref Unsafe.Add(ref row, ix * V), V, ref t);
                    for (int c = 0; c < channels; c++)
                        Vector512.LoadUnsafe(ref t, (nuint)(c * V)).StoreUnsafe(ref Unsafe.Add(ref dx, c * rowLength + iy * width + ix));
                }
                for (; ix < width; ix++)
                    for (int c = 0; c < channels; c++)
                        Unsafe.Add(ref dx, c * rowLength + iy * width + ix) = Unsafe.Add(ref row, ix * V + c);
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
