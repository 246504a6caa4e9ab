using System;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The buffers of a Winograd kernel with the channels in vector lanes, and the forward pass through them
    /// (<see cref="Forward"/>), shared by <see cref="PolyphaseWinogradConvolution"/> and
    /// <see cref="TransposedWinogradConvolution"/>, which differ only in their tiles' geometry and transforms: the input padded
    /// as [group][row][column][16 channels], V[position][depth group][tile][16] for a chunk of tiles, the filters
    /// U[position][depth][output lanes] (<see cref="WinogradF4Convolution.FilterAt"/>'s blocks), M[tile][position][output
    /// lanes], the outputs [group][cell][16] before the 16x16 transposes back to NCHW.
    /// </summary>
    internal readonly struct LaneTileLayout
    {
        private const int V = 16;
        private const int StagingVectors = 64;

        public readonly int InChannels, Height, Width, OutChannels, Padding, OutHeight, OutWidth, Positions, Depth;
        /// <summary>The transposed kernel's direct phases (4 positions, no transforms) instead of its Winograd tiles.</summary>
        public readonly bool Phases;
        public readonly int TileRows, TileColumns, Tiles, InGroups, OutGroups, OutLanes;
        public readonly int PaddedHeight, PaddedWidth, PaddedGroupStride, ChunkTiles, Chunks;
        public readonly int TransformedGroupStride, TransformedPositionStride, ProductTileStride, FilterPositionStride, OutputGroupStride;
        public readonly int PaddedLength, TransformedLength, ProductLength, OutputLength;

        /// <summary>
        /// The buffers for tiles of tileRows x tileColumns over the input padded by <paramref name="padding"/> into
        /// paddedHeight x paddedWidth cells (every tile's window inside), <paramref name="positions"/> GEMMs each
        /// <paramref name="depth"/> deep (the input channels, or more), and an output of outHeight x outWidth.
        /// </summary>
        public LaneTileLayout(int inChannels, int height, int width, int outChannels, int padding, int outHeight, int outWidth,
            int tileRows, int tileColumns, int paddedHeight, int paddedWidth, int positions, int depth, bool phases = false)
        {
            InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels; Padding = padding;
            OutHeight = outHeight; OutWidth = outWidth; Positions = positions; Depth = depth; Phases = phases;
            TileRows = tileRows; TileColumns = tileColumns; Tiles = tileRows * tileColumns;
            InGroups = (inChannels + V - 1) / V;
            OutGroups = (outChannels + V - 1) / V;
            OutLanes = OutGroups * V;
            int depthGroups = (depth + V - 1) / V;
            PaddedHeight = paddedHeight;
            PaddedWidth = paddedWidth;
            PaddedGroupStride = paddedHeight * paddedWidth * V;
            PaddedLength = InGroups * PaddedGroupStride;
            int perTile = positions * (depthGroups * V + OutLanes);
            (ChunkTiles, Chunks) = WinogradF4Convolution.Chunking(Tiles, perTile);
            // One vector more than the data between positions: strides of a multiple of 4 KB would share L1 sets.
            TransformedGroupStride = ChunkTiles * V;
            TransformedPositionStride = depthGroups * TransformedGroupStride + V;
            TransformedLength = positions * TransformedPositionStride;
            // M is [tile][position][oc lanes]: the output transform reads a tile's positions front to back.
            ProductTileStride = positions * OutLanes + V;
            ProductLength = ChunkTiles * ProductTileStride;
            FilterPositionStride = depth * OutLanes + V;
            OutputGroupStride = outHeight * outWidth * V;
            OutputLength = OutGroups * OutputGroupStride + V * V; // the last transpose reads up to 15 cells past the end
        }

        /// <summary>Floats of the prepared filters U[position][depth][output channel lanes].</summary>
        public int FiltersLength => Positions * FilterPositionStride;

        internal const int BiasOffset = StagingVectors * V;

        internal int StagingLength => BiasOffset + OutLanes;

        /// <summary>Floats of scratch <see cref="Forward"/> needs (with up to 15 skipped to start its buffers on a cache line).</summary>
        public int ScratchLength => StagingLength + PaddedLength + TransformedLength + ProductLength + OutputLength + V;

        /// <summary>
        /// One sample through a kernel's transforms: x [InChannels x Height x Width] padded, each chunk of tiles transformed
        /// (<typeparamref name="TTransforms"/>), multiplied by the filters and transformed back with the bias (and ReLU when
        /// asked), the outputs turned to y [OutChannels x OutHeight x OutWidth]. Allocates nothing.
        /// </summary>
        public static void Forward<TTransforms>(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, in LaneTileLayout l) where TTransforms : struct, ILaneTileTransforms
        {
            if (!WinogradF4Convolution.RunsHere) throw new PlatformNotSupportedException(TTransforms.Kernel + " needs AVX-512, or AVX2 and FMA.");
            int cells = l.OutHeight * l.OutWidth;
            Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            Require(y.Length >= l.OutChannels * cells, nameof(y));
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));

            scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
            var staging = scratch.Slice(0, l.StagingLength);
            int at = l.StagingLength;
            var padded = scratch.Slice(at, l.PaddedLength); at += l.PaddedLength;
            var transformed = scratch.Slice(at, l.TransformedLength); at += l.TransformedLength;
            var products = scratch.Slice(at, l.ProductLength); at += l.ProductLength;
            var outputs = scratch.Slice(at, l.OutputLength);
            var biasLanes = staging.Slice(BiasOffset, l.OutLanes);
            for (int oc = 0; oc < l.OutLanes; oc++) biasLanes[oc] = oc < l.OutChannels && !bias.IsEmpty ? bias[oc] : 0f;

            if (!WinogradF4Convolution.Wide)
            {
                // Without AVX-512: each group as two Vector256 halves (LaneTileLayout.Vector256.cs).
                WinogradF4Convolution.Pad256(x, padded, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
                for (int chunk = 0; chunk < l.Chunks; chunk++)
                {
                    int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                    TTransforms.Input256(padded, transformed, first, count, l);
                    WinogradF4Convolution.Products256(transformed, filters, products, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                        l.FilterPositionStride, l.OutLanes, l.ProductTileStride, l.Depth, l.OutGroups);
                    TTransforms.Output256(products, staging, outputs, first, count, relu, l);
                }
                WinogradF4Convolution.Unpack256(outputs, y, cells, l.OutChannels, l.OutputGroupStride, default, reluAfterSum: false);
                return;
            }
            // Pad clears every row and column of the buffer outside the image, those past height + padding included.
            WinogradF4Convolution.Pad(x, padded, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TTransforms.Input(padded, transformed, first, count, l);
                WinogradF4Convolution.Products(transformed, filters, products, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                    l.FilterPositionStride, l.OutLanes, l.ProductTileStride, l.Depth, l.OutGroups);
                TTransforms.Output(products, staging, outputs, first, count, relu, l);
            }
            WinogradF4Convolution.Unpack(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride);
        }

        internal static void Require(bool condition, string name)
        {
            if (!condition) throw new ArgumentException("The span is shorter than the layout needs.", name);
        }
    }

    /// <summary>A kernel's transforms for <see cref="LaneTileLayout.Forward"/>: into V for a chunk of tiles, and from M to the outputs.</summary>
    internal interface ILaneTileTransforms
    {
        /// <summary>The kernel's name, for its errors.</summary>
        static abstract string Kernel { get; }

        static abstract void Input(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l);

        static abstract void Output(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l);

        /// <summary><see cref="Input"/> on Vector256, each group of 16 channels as two halves.</summary>
        static abstract void Input256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l);

        /// <summary><see cref="Output"/> on Vector256.</summary>
        static abstract void Output256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l);
    }
}
