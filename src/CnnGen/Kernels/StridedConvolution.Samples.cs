using System;
using System.Runtime.InteropServices;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        /// <summary>
        /// How many samples evaluation runs through a stride-2 3x3 layer together (<see cref="ForwardPreparedSamples"/>), or 1
        /// where a sample at a time is as fast. On small maps a sample's Winograd tiles make thin GEMMs that read all the
        /// filters for a few rows each, or run the direct kernels; several samples' tiles side by side make one GEMM of 16 rows
        /// or more (outputs of 4 to 63 cells). See <see cref="GroupTile"/> for the table.
        /// </summary>
        public static int GroupSamples(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            int tile = GroupTile(inChannels, height, width, outChannels, kernel, stride, padding);
            if (tile == 0) return 1;
            // As measured: the samples whose 4x4 tiles make 16 GEMM rows (the 2x2 tile's group has as many samples, 4x the rows).
            var l = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, 4);
            return Math.Max(1, (GroupRows + l.Tiles - 1) / l.Tiles);
        }

        // The GEMM rows of 4x4 tiles a group aims at.
        private const int GroupRows = 16;

        /// <summary>
        /// The Winograd tile a group of samples runs (<see cref="GroupSamples"/>), or 0 where samples run one at a time.
        /// </summary>
        public static int GroupTile(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding)
        {
            if (kernel != 3 || stride != 2) return 0;
            if (KernelPaths.Default == KernelPath.Vector512 && StridedWinogradConvolution.Available) return GroupTileFor(inChannels, height, width, outChannels, padding);
            if (KernelPaths.Default == KernelPath.Vector256 && StridedWinogradConvolution.Runs) return GroupTileFor256(inChannels, height, width, outChannels, padding);
            return 0;
        }

        // Without AVX-512, where the 4x4 tile alone runs (session 59, KernelBench strided-samples on Zen 3, a group for 16 rows
        // of 4x4 tiles against a sample at a time on TileFor's path): onto 4x4 the group 1.26-1.54x up to Cin·Cout 32,768
        // (16 -> 32 1.54x, 64 -> 128 1.47x, 128 -> 256 1.26x; 256 -> 512 0.84x), onto 7x7 1.02-1.21x (64 -> 64 1.10x, 96 -> 96
        // 1.21x, 128 -> 256 1.07x; 256 -> 256 0.80x); onto 6x6 (0.77-0.87x), 5x5 (0.35-0.69x) and 2x2 (0.23-0.43x) it loses. So
        // the 4x4 tile's group where at least three in four of its cells are real, up to 32,768. (Onto 8x8 it gained 1.02-1.19x,
        // but the generator groups outputs under 64 cells only, as GroupTileFor measured on Vector512.)
        internal static int GroupTileFor256(int inChannels, int height, int width, int outChannels, int padding) =>
            GroupOutput(inChannels, height, width, outChannels, padding, out int outHeight, out int outWidth)
            && (long)inChannels * outChannels <= MaximumGroupFilters256 && StridedWinogradConvolution.MostlyRealIn4x4(outHeight, outWidth) ? 4 : 0;

        // Whether a layer of this shape is one both rules consider, its output of 4 to 63 cells (the generator groups those
        // only), from 16 channels in and 32 out (TileFor's minimums); and the output's sides.
        private static bool GroupOutput(int inChannels, int height, int width, int outChannels, int padding, out int outHeight, out int outWidth)
        {
            outHeight = outWidth = 0;
            if (inChannels < 16 || outChannels < 32 || padding < 0 || height + 2 * padding < 3 || width + 2 * padding < 3) return false;
            outHeight = (height + 2 * padding - 3) / 2 + 1;
            outWidth = (width + 2 * padding - 3) / 2 + 1;
            int cells = outHeight * outWidth;
            return cells >= 4 && cells < 64;
        }

        private const long MaximumGroupFilters256 = 32768;

        // KernelBench strided-samples (18 shapes, 3x3 stride 2 pad 1 + ReLU, µs per sample, best of interleaved rounds, load
        // 10-14; the table in benchmarks/README.md), a group of samples for 16 rows of the 4x4 tile against a sample at a time
        // on TileFor's path: outputs of 4x4 and 2x2 cells, where a sample alone makes one to four tiles (or runs the direct
        // kernels): the 4x4 tile where the output is whole 4x4 tiles and Cin·Cout ≤ 8192 (its filters, 81·Cin·Cout floats,
        // 2.6 MB, stay within the L2 and the L3's share): 1.25-1.53x; larger filters and other outputs (6x6, 2x2) the 2x2 tile:
        // 1.29-1.31x on 6x6 and 4x4, 2.3-2.5x on 2x2. Outputs of 8x8 measured 1.03-1.15x alone, but the strided network's
        // 64 -> 128 grouped (its 2.6 MB of 4x4 filters from the L3 instead of the 2x2 tile's 0.8 MB from the L2) gave 0.93-1.04x
        // in the network's chain (strided-group-chain, load 15-33): a sample at a time from 64 cells on. Fewer than 16 channels
        // in or 32 out: a sample at a time (TileFor's minimums).
        //
        // Outputs with an odd side, which neither tile covers exactly (session 11, KernelBench "strided-samples bottleneck",
        // three runs, load 13-27; group / a sample at a time): the 2x2 tile's group never paid, 0.93-1.05x on 7x7 and 5x5
        // (12 shapes, 32 to 256 channels); the 4x4 tile's (covering 7x7 as 8x8, 77% of its cells real) 1.06-1.20x on 7x7 up
        // to Cin·Cout = 16384 (32->64, 64->64, 96->96, 64->128, 128->128), 1.00x at 32768 (128->256), 0.63-0.66x at 65536
        // (256->256: 5.3 MB of filters); on 5x5 (25 of 64 cells real) 0.37-0.67x. So there the 4x4 tile where at least three
        // cells in four it computes are real and Cin·Cout ≤ 16384, else a sample at a time.
        internal static int GroupTileFor(int inChannels, int height, int width, int outChannels, int padding)
        {
            if (!GroupOutput(inChannels, height, width, outChannels, padding, out int outHeight, out int outWidth)) return 0;
            long filters = (long)inChannels * outChannels;
            if (outHeight % 2 != 0 || outWidth % 2 != 0)
                return StridedWinogradConvolution.MostlyRealIn4x4(outHeight, outWidth) && filters <= MaximumOddGroupFilters ? 4 : 0;
            return outHeight % 4 == 0 && outWidth % 4 == 0 && filters <= 8192 ? 4 : 2;
        }

        // Cin·Cout up to which the 4x4 tile's group pays on outputs with an odd side (the table above).
        private const long MaximumOddGroupFilters = 16384;

        private static StridedWinogradConvolution.Layout GroupLayout(in Geometry g, int outChannels, int samples) =>
            new(g.InChannels, g.Height, g.Width, outChannels, g.Padding, GroupTile(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Stride, g.Padding), samples);

        // Whether a group of samples runs the group's Winograd kernel: a group (samples above 1) of a shape that has one here.
        private static bool Grouped(in Geometry g, int outChannels, int samples) =>
            samples > 1 && GroupTile(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Stride, g.Padding) != 0;

        /// <summary>
        /// Floats of prepared weights for groups of <paramref name="samples"/> (<see cref="GroupSamples"/>; 1: as
        /// <see cref="PreparedLength(int, int, int, int, int, int, int)"/>): the group's Winograd filters, then the bias.
        /// </summary>
        public static int GroupPreparedLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int samples)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            return Grouped(g, outChannels, samples) ? GroupLayout(g, outChannels, samples).FiltersLength + outChannels
                : PreparedLength(inChannels, height, width, outChannels, kernel, stride, padding);
        }

        /// <summary><see cref="Prepare"/> for groups of <paramref name="samples"/>.</summary>
        public static void PrepareGroup(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inChannels, int height, int width, int outChannels,
            int kernel, int stride, int padding, Span<float> prepared, int samples)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            if (!Grouped(g, outChannels, samples))
            {
                Prepare(weight, bias, inChannels, height, width, outChannels, kernel, stride, padding, prepared);
                return;
            }
            var layout = GroupLayout(g, outChannels, samples);
            Require(weight.Length >= outChannels * g.Taps, nameof(weight), outChannels * g.Taps);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            Require(prepared.Length >= layout.FiltersLength + outChannels, nameof(prepared), layout.FiltersLength + outChannels);
            StridedWinogradConvolution.TransformFilters(weight, prepared, layout);
            PutBias(bias, prepared.Slice(layout.FiltersLength, outChannels));
        }

        /// <summary>Floats of scratch <see cref="ForwardPreparedSamples"/> needs for groups of <paramref name="samples"/>.</summary>
        public static int SamplesScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int samples)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int one = LinkedScratchLength(inChannels, height, width, outChannels, kernel, stride, padding, Link.None, Link.GlobalMean);
            return Grouped(g, outChannels, samples) ? Math.Max(one, GroupLayout(g, outChannels, samples).ScratchLength) : one;
        }

        /// <summary>
        /// <paramref name="count"/> samples (x: count x [inChannels x height x width]) through the layer on weights prepared for
        /// groups of <paramref name="samples"/> (count ≤ samples): with the group's Winograd kernel where the group has one
        /// (their tiles as the rows of one GEMM per position), else one sample at a time as <see cref="ForwardPrepared"/>. y is
        /// count x [outChannels x OH x OW], or with <paramref name="means"/> count x [outChannels] (a global average pooling
        /// after the layer). After a strided layer linked to this one (<paramref name="previous"/>: its shape as a
        /// <see cref="Link.Convolution"/>; it wrote each sample with <see cref="Link.Group"/>), x holds count slots of
        /// <see cref="GroupLinkLength"/> floats: each sample's padded input where that layer handed it on, else its maps.
        /// </summary>
        public static void ForwardPreparedSamples(ReadOnlySpan<float> x, int count, int inChannels, int height, int width, ReadOnlySpan<float> prepared,
            int outChannels, int kernel, int stride, int padding, int samples, Span<float> y, Span<float> scratch, bool relu, bool means, Link previous = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
            if (count > samples) throw new ArgumentOutOfRangeException(nameof(count), count, "More samples than the weights were prepared for.");
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            int sampleIn = inChannels * height * width, sampleOut = means ? outChannels : outChannels * g.Cells;
            if (Grouped(g, outChannels, samples))
            {
                var layout = GroupLayout(g, outChannels, samples);
                Require(prepared.Length >= layout.FiltersLength + outChannels, nameof(prepared), layout.FiltersLength + outChannels);
                var filters = prepared.Slice(0, layout.FiltersLength);
                var biasLanes = prepared.Slice(layout.FiltersLength, outChannels);
                if (previous.Kind == Link.ConvolutionKind && HandingToGroup(Before(previous, inChannels), g, outChannels, samples, out _, out _))
                {
                    // The layer before left each sample's padded input in its slot; the kernel only reads them.
                    var slots = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(x), x.Length);
                    StridedWinogradConvolution.ForwardSamples(default, slots, layout.PaddedLength, count, filters, biasLanes, y, scratch, relu, layout, means);
                }
                else StridedWinogradConvolution.ForwardSamples(x, default, 0, count, filters, biasLanes, y, scratch, relu, layout, means);
                return;
            }
            Require(x.Length >= count * sampleIn, nameof(x), count * sampleIn);
            Require(y.Length >= count * sampleOut, nameof(y), count * sampleOut);
            var next = means ? Link.GlobalMean : Link.None;
            for (int s = 0; s < count; s++)
                ForwardPreparedLinked(x.Slice(s * sampleIn, sampleIn), inChannels, height, width, prepared, outChannels, kernel, stride, padding,
                    y.Slice(s * sampleOut, sampleOut), scratch, relu, Link.None, next);
        }
    }
}
