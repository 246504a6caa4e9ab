using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-1 convolution with a 1xk or kx1 kernel (Inception's factorized layers) by a one-dimensional Winograd along
    /// the kernel's axis on the Vector512 path, or on Vector256 without AVX-512 (LineWinogradConvolution.Vector256.cs):
    /// F(4, 3) for 3 taps (6 multiplications per 4 outputs and input channel instead of 12), F(4, 5) for 5 (8 instead of
    /// 20), F(4, 7) for 7 (10 instead of 28); and the input gradient of such layers as
    /// the same convolution on dy. The filters (6, 8 or 10 floats per k weights) are transformed on every call, or once per
    /// change of the weights by the caller (<see cref="ForwardPrepared"/>, <see cref="InputGradientPrepared"/>: the generated
    /// code's). GroupedConvolution says where it runs.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The same machinery as <see cref="WinogradF4Convolution"/>, one axis of it: Y = Aᵀ [(G g) ⊙ (Bᵀ d)] for each window d of
    /// 6, 8 or 10 padded cells along the kernel's axis (stride 4), with the 1-D matrices of the points 0, ±1, ±2 and ∞ (and
    /// ±1/2 for 8 cells, ±1/2 and ±3/2 for 10; benchmarks/KernelBench/toom_cook.py derives them). The input is transposed to
    /// [channel group][padded row][padded column][16 channels] (WinogradF4Convolution.Pad); each tile along a row (1xk) or a
    /// column (kx1) is 6, 8 or 10 vector loads, written as V[position][group][tile][16 channels]; the products over input
    /// channels are WinogradF4Convolution.Products' GEMMs, one per position; the output transform adds the bias, clamps, and
    /// writes [group][cell][16 channels], which one last transpose (WinogradF4Convolution.Unpack) turns into NCHW.
    /// </para>
    /// <para>
    /// Padding may differ between the axes (Inception's (0, k/2) and (k/2, 0)): the input is padded by the larger on both,
    /// and each window starts that much less the axis's own padding in.
    /// </para>
    /// <para>
    /// Precision: F(4, 3) is one axis of F(4x4, 3x3)'s transforms, about a third of its error (Bᵀ multiplies by up to 5, Aᵀ
    /// by up to 8, G divides by 6 and 24); the 8-point transforms multiply by up to 21 and divide by up to 360, the 10-point
    /// ones by up to 273 and 2520. LineWinogradConvolutionTests holds F(4, 3) and F(4, 5) to 3e-6 of the products'
    /// magnitudes against the definition in double, F(4, 7) to 1e-5 as F(4x4, 3x3) (KernelBench line-winograd-error: its
    /// largest errors 1.5e-6 to 3.0e-6, its mean 1.3e-7 to 2.5e-7, where F(2, 7)'s were 2.9e-7 to 4.9e-7 and 4e-8 to 8e-8;
    /// the points ±3/2 measured best of ±3, ±4, ±1/4, ±1/3, ±2/3, ±3/4 and ±4/3 in a float simulation).
    /// </para>
    /// </remarks>
    internal static partial class LineWinogradConvolution
    {
        private const int V = 16;

        internal readonly struct Layout
        {
            public readonly int InChannels, Height, Width, OutChannels, PaddingHeight, PaddingWidth, OutHeight, OutWidth;
            /// <summary>A kx1 kernel (the windows run down the columns) rather than 1xk (along the rows).</summary>
            public readonly bool Vertical;
            /// <summary>
            /// The kernel's length k (3, 5 or 7), the outputs a tile computes (4) and the window's cells (6, 8 or 10): the
            /// multiplications per tile and input channel.
            /// </summary>
            public readonly int Kernel, TileSize, Positions;
            /// <summary>The padding on every side of the padded input (the larger of the two), and where each axis's windows start in it.</summary>
            public readonly int Padding, RowOffset, ColumnOffset;
            public readonly int TileRows, TileColumns, Tiles, InGroups, OutGroups, OutLanes;
            public readonly int PaddedWidth, PaddedGroupStride, PaddedLength, ChunkTiles, Chunks;
            public readonly int TransformedGroupStride, TransformedPositionStride, ProductPositionStride, FilterPositionStride, OutputGroupStride;
            public readonly int TransformedLength, ProductLength, OutputLength, FiltersLength;

            public Layout(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth)
            {
                if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels));
                if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
                if (!IsLineKernel(kernelHeight, kernelWidth))
                    throw new ArgumentOutOfRangeException(nameof(kernelHeight), "Only 1xk and kx1 kernels of 3, 5 or 7.");
                if (paddingHeight < 0 || paddingWidth < 0) throw new ArgumentOutOfRangeException(nameof(paddingHeight), "Padding is not negative.");
                int outHeight = height + 2 * paddingHeight - kernelHeight + 1, outWidth = width + 2 * paddingWidth - kernelWidth + 1;
                if (height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
                    throw new ArgumentOutOfRangeException(nameof(height), "The kernel does not fit the padded input.");
                InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels;
                PaddingHeight = paddingHeight; PaddingWidth = paddingWidth; OutHeight = outHeight; OutWidth = outWidth;
                Vertical = kernelHeight > 1;
                Kernel = Math.Max(kernelHeight, kernelWidth);
                TileSize = Outputs;
                Positions = TileSize + Kernel - 1;
                Padding = Math.Max(paddingHeight, paddingWidth);
                RowOffset = Padding - paddingHeight;
                ColumnOffset = Padding - paddingWidth;
                TileRows = Vertical ? (outHeight + TileSize - 1) / TileSize : outHeight;
                TileColumns = Vertical ? outWidth : (outWidth + TileSize - 1) / TileSize;
                Tiles = TilesOf(kernelHeight, kernelWidth, outHeight, outWidth);
                InGroups = (inChannels + V - 1) / V;
                OutGroups = (outChannels + V - 1) / V;
                OutLanes = OutGroups * V;
                // Every window, the last partial tile's too, lies inside the buffer; Pad zeroes all of it outside the image.
                int rowsRead = Vertical ? TileSize * TileRows + Kernel - 1 : TileRows, columnsRead = Vertical ? TileColumns : TileSize * TileColumns + Kernel - 1;
                int paddedHeight = Math.Max(height + 2 * Padding, RowOffset + rowsRead);
                PaddedWidth = Math.Max(width + 2 * Padding, ColumnOffset + columnsRead);
                PaddedGroupStride = paddedHeight * PaddedWidth * V;
                PaddedLength = InGroups * PaddedGroupStride;
                int perTile = Positions * (InGroups * V + OutLanes);
                (ChunkTiles, Chunks) = WinogradF4Convolution.Chunking(Tiles, perTile);
                // One vector more than the data between positions, as WinogradF4Convolution's (L1 sets).
                TransformedGroupStride = ChunkTiles * V;
                TransformedPositionStride = InGroups * TransformedGroupStride + V;
                TransformedLength = Positions * TransformedPositionStride;
                ProductPositionStride = ChunkTiles * OutLanes + V;
                ProductLength = Positions * ProductPositionStride;
                FilterPositionStride = inChannels * OutLanes + V;
                FiltersLength = Positions * FilterPositionStride;
                OutputGroupStride = outHeight * outWidth * V;
                OutputLength = OutGroups * OutputGroupStride + V * V; // Unpack's last transpose reads up to 15 cells past the end
            }

            // Unpack's four 16x16 blocks (Pad takes two), then the bias in lanes.
            internal int StagingLength => WinogradF4Convolution.Layout.BiasOffset + OutLanes;

            /// <summary>Floats of scratch <see cref="Forward"/> needs: its buffers, the call's filters among them.</summary>
            public int ScratchLength => StagingLength + PaddedLength + TransformedLength + ProductLength + OutputLength + FiltersLength + V;
        }

        /// <summary>
        /// Whether <see cref="Forward"/> can run this shape here: a 1xk or kx1 kernel of 3, 5 or 7, and AVX-512, or AVX2 and FMA
        /// (LineWinogradConvolution.Vector256.cs), as <see cref="WinogradF4Convolution"/> on whose GEMMs it runs.
        /// </summary>
        public static bool Handles(int kernelHeight, int kernelWidth) => IsLineKernel(kernelHeight, kernelWidth) && WinogradF4Convolution.RunsHere;

        // Outputs a tile computes: F(4, 3), F(4, 5) and F(4, 7) alike.
        private const int Outputs = 4;

        /// <summary>
        /// The tiles of a 1xk or kx1 kernel's outHeight x outWidth output (<see cref="Layout.Tiles"/>), without the rest of the
        /// layout: what GroupedConvolution's rules weigh.
        /// </summary>
        public static int TilesOf(int kernelHeight, int kernelWidth, int outHeight, int outWidth)
        {
            return kernelHeight > 1 ? (outHeight + Outputs - 1) / Outputs * outWidth : outHeight * ((outWidth + Outputs - 1) / Outputs);
        }

        /// <summary>A 1xk or kx1 kernel of 3, 5 or 7 taps.</summary>
        public static bool IsLineKernel(int kernelHeight, int kernelWidth) =>
            Math.Min(kernelHeight, kernelWidth) == 1 && Math.Max(kernelHeight, kernelWidth) is 3 or 5 or 7;

        /// <summary>
        /// y = conv2d(x, weight, bias) with a 1xk or kx1 kernel (3, 5 or 7) at stride 1, each output clamped to [low, high] as
        /// <see cref="OutputClamp"/> does, for one sample: x [InChannels x Height x Width], weight PyTorch's [OutChannels x
        /// InChannels x kh x kw], bias [OutChannels] or empty, y [OutChannels x OutHeight x OutWidth]. Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
            in OutputClamp clamp, in Layout l)
        {
            Require(weight.Length >= l.OutChannels * l.InChannels * l.Kernel, nameof(weight));
            Run(x, weight, transposed: false, default, bias, y, scratch, clamp, l);
        }

        /// <summary>
        /// <see cref="Forward"/> on filters <see cref="TransformFilters"/> wrote (<see cref="Layout.FiltersLength"/> floats) from
        /// the layer's weights once, rather than on every call.
        /// </summary>
        public static void ForwardPrepared(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
            in OutputClamp clamp, in Layout l)
        {
            Require(filters.Length >= l.FiltersLength, nameof(filters));
            Run(x, default, transposed: false, filters.Slice(0, l.FiltersLength), bias, y, scratch, clamp, l);
        }

        /// <summary>
        /// The input gradient of a 1xk or kx1 layer at stride 1 whose padding across the kernel's axis is 0: dx = the
        /// convolution of dy with the kernel turned half a turn and its channels swapped, padding k − 1 − p along the axis.
        /// <paramref name="transposed"/> is that convolution's layout (<see cref="InputGradientLayout"/>), weight the layer's
        /// own [outChannels x inChannels x kh x kw]; dy [outChannels x OH x OW], dx [inChannels x H x W] (overwritten).
        /// </summary>
        public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx, Span<float> scratch, in Layout transposed)
        {
            Require(weight.Length >= transposed.OutChannels * transposed.InChannels * transposed.Kernel, nameof(weight));
            Run(dy, weight, transposed: true, default, default, dx, scratch, new OutputClamp(float.NegativeInfinity, float.PositiveInfinity), transposed);
        }

        /// <summary>
        /// <see cref="InputGradient"/> on turned filters <see cref="TransformFiltersTransposed"/> wrote (the transposed layout's
        /// <see cref="Layout.FiltersLength"/> floats) from the layer's weights once, rather than on every call.
        /// </summary>
        public static void InputGradientPrepared(ReadOnlySpan<float> dy, ReadOnlySpan<float> filters, Span<float> dx, Span<float> scratch, in Layout transposed)
        {
            Require(filters.Length >= transposed.FiltersLength, nameof(filters));
            Run(dy, default, transposed: true, filters.Slice(0, transposed.FiltersLength), default, dx, scratch, new OutputClamp(float.NegativeInfinity, float.PositiveInfinity), transposed);
        }

        /// <summary>
        /// The layout of <see cref="InputGradient"/> for a layer of <paramref name="inChannels"/> x height x width onto
        /// <paramref name="outChannels"/> (kernel kh x kw, padding ph, pw): from its output's maps back to its input's.
        /// </summary>
        public static Layout InputGradientLayout(int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth)
        {
            if (!TakesInputGradient(kernelHeight, kernelWidth, paddingHeight, paddingWidth))
                throw new ArgumentOutOfRangeException(nameof(paddingHeight), "The input gradient runs here with padding 0 across the kernel's axis and at most k − 1 along it.");
            int outHeight = height + 2 * paddingHeight - kernelHeight + 1, outWidth = width + 2 * paddingWidth - kernelWidth + 1;
            return new Layout(outChannels, outHeight, outWidth, inChannels, kernelHeight, kernelWidth, kernelHeight - 1 - paddingHeight, kernelWidth - 1 - paddingWidth);
        }

        /// <summary>
        /// Whether <see cref="InputGradient"/> takes a 1xk or kx1 layer's padding: none across the kernel's axis (a padded row
        /// of a 1xk layer's output reads no input), at most k − 1 along it (the transposed convolution's padding is k − 1 − p).
        /// </summary>
        public static bool TakesInputGradient(int kernelHeight, int kernelWidth, int paddingHeight, int paddingWidth) =>
            IsLineKernel(kernelHeight, kernelWidth)
            && (kernelWidth == 1 ? paddingWidth == 0 && paddingHeight <= kernelHeight - 1 : paddingHeight == 0 && paddingWidth <= kernelWidth - 1);

        // The filters (the weight's, or turned and swapped for the input gradient; or the prepared ones where given), the padded
        // input, then the chunks of tiles and the last transpose.
        private static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, bool transposed, ReadOnlySpan<float> prepared, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, in OutputClamp clamp, in Layout l)
        {
            if (!WinogradF4Convolution.RunsHere) throw new PlatformNotSupportedException("LineWinogradConvolution needs AVX-512, or AVX2 and FMA.");
            Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            Require(bias.IsEmpty || bias.Length >= l.OutChannels, nameof(bias));
            Require(y.Length >= l.OutChannels * l.OutHeight * l.OutWidth, nameof(y));
            Require(scratch.Length >= l.ScratchLength, nameof(scratch));

            // From a 64-byte boundary every vector of the buffers is one cache line (their lengths are multiples of 16 floats).
            scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
            var staging = scratch.Slice(0, l.StagingLength);
            int at = l.StagingLength;
            var padded = scratch.Slice(at, l.PaddedLength); at += l.PaddedLength;
            var transformed = scratch.Slice(at, l.TransformedLength); at += l.TransformedLength;
            var products = scratch.Slice(at, l.ProductLength); at += l.ProductLength;
            var outputs = scratch.Slice(at, l.OutputLength); at += l.OutputLength;
            ReadOnlySpan<float> filters = prepared.IsEmpty ? scratch.Slice(at, l.FiltersLength) : prepared;
            var biasLanes = staging.Slice(WinogradF4Convolution.Layout.BiasOffset, l.OutLanes);
            for (int oc = 0; oc < l.OutLanes; oc++) biasLanes[oc] = oc < l.OutChannels && !bias.IsEmpty ? bias[oc] : 0f;

            if (prepared.IsEmpty)
            {
                if (transposed) TransformFiltersTransposed(weight, scratch.Slice(at, l.FiltersLength), l);
                else TransformFilters(weight, scratch.Slice(at, l.FiltersLength), l);
            }
            if (!WinogradF4Convolution.Wide)
            {
                Transform256(x, filters, padded, transformed, products, staging, outputs, y, clamp, l);
                return;
            }
            WinogradF4Convolution.Pad(x, padded, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride);
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TransformInput(padded, transformed, first, count, l);
                WinogradF4Convolution.Products(transformed, filters, products, count, l.Positions, l.TransformedPositionStride, l.TransformedGroupStride,
                    l.FilterPositionStride, l.ProductPositionStride, l.OutLanes, l.InChannels, l.OutGroups);
                TransformOutput(products, staging, outputs, first, count, clamp, l);
            }
            WinogradF4Convolution.Unpack(outputs, y, staging, l.OutHeight * l.OutWidth, l.OutChannels, l.OutputGroupStride);
        }

        private static void Require(bool condition, string name)
        {
            if (!condition) throw new ArgumentException("The span is shorter than the layout needs.", name);
        }

        // U[position][ic][oc lanes] = G g of each filter's k taps (weight[oc][ic][tap]), 16 output channels at a time, at
        // WinogradF4Convolution.FilterAt's places (Products reads them there); lanes past the last output channel are zero.
        // ⌊16/k⌋ input channels' taps of 16 filters at a time by one 16x16 transpose of their rows, where those rows lie
        // inside weight: the lanes one by one took 2.6 ns a 3-tap filter (KernelBench line-winograd, 256 -> 256: 173 µs a call).
        internal static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in Layout l)
        {
            if (!WinogradF4Convolution.Wide)
            {
                TransformFilters256(weight, filters, transposed: false, l);
                return;
            }
            Span<float> taps = stackalloc float[2 * V * V]; // the transposed taps, then the rows TransposeRows stages
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            int k = l.Kernel, channelsPerTranspose = V / k, filterStride = k * l.InChannels;
            Span<Vector512<float>> coefficients = stackalloc Vector512<float>[4 * 7];
            GCoefficients(k, l.Positions, coefficients);
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                // FilterAt is linear in the input channel: its divisions once per group, not per filter.
                int groupAt = WinogradF4Convolution.FilterAt(0, group * V, l.InChannels, l.OutGroups);
                int channelStep = WinogradF4Convolution.FilterAt(1, group * V, l.InChannels, l.OutGroups) - groupAt;
                for (int ic0 = 0; ic0 < l.InChannels; ic0 += channelsPerTranspose)
                {
                    int channels = Math.Min(channelsPerTranspose, l.InChannels - ic0);
                    // taps[f][lane] = float f of filter row group·16 + lane from input channel ic0's first tap.
                    TransposeRows(weight, group * V * filterStride + k * ic0, filterStride, lanes, k * channels, ref g);
                    for (int j = 0; j < channels; j++)
                    {
                        ref float target = ref Unsafe.Add(ref u0, groupAt + (ic0 + j) * channelStep);
                        if (k == 3) ApplyG3(ref Unsafe.Add(ref g, 3 * j * V), coefficients, ref target, positionStride);
                        else ApplyLongG(ref Unsafe.Add(ref g, k * j * V), k, l.Positions, coefficients, ref target, positionStride);
                    }
                }
            }
        }

        // target[f·16 + lane] = weight[first + lane·rowStride + f] for 16 rows of 16 floats: the rows past the first `rows`,
        // and the floats past the first `floats` of a row, zero where those lie past weight's end (16x16 floats after target
        // are the staging). One 16x16 transpose where all 16 rows lie inside weight.
        private static void TransposeRows(ReadOnlySpan<float> weight, int first, int rowStride, int rows, int floats, ref float target)
        {
            ref float w = ref MemoryMarshal.GetReference(weight);
            if (rows == V && first + (V - 1) * rowStride + V <= weight.Length)
            {
                DirectConvolution.Transpose16(ref Unsafe.Add(ref w, first), rowStride, ref target);
                return;
            }
            // The last group's rows, or the last taps at the end of weight: staged as 16 rows of 16 (zeros past them), then
            // transposed the same way.
            ref float staged = ref Unsafe.Add(ref target, V * V);
            for (int lane = 0; lane < V; lane++)
            {
                ref float row = ref Unsafe.Add(ref staged, lane * V);
                int at = first + lane * rowStride;
                if (lane >= rows) Vector512<float>.Zero.StoreUnsafe(ref row);
                else if (at + V <= weight.Length) Vector512.LoadUnsafe(ref w, (nuint)at).StoreUnsafe(ref row);
                else
                    for (int f = 0; f < V; f++) Unsafe.Add(ref row, f) = f < floats ? weight[at + f] : 0f;
            }
            DirectConvolution.Transpose16(ref staged, V, ref target);
        }

        // The permute indices of tap t for three taps (TransformFiltersTransposed): the first takes floats 3j + t of the first
        // 32 (lanes past them take any), the second keeps those lanes and takes the rest from the third vector.
        private static Vector512<int> TapIndices(int t, bool first)
        {
            Span<int> indices = stackalloc int[V];
            for (int j = 0; j < V; j++)
            {
                int at = 3 * j + t;
                indices[j] = first ? Math.Min(at, 31) : at < 32 ? j : V + at - 32;
            }
            return Vector512.Create<int>(indices);
        }

        // G's coefficients as vectors, once a call: F(4, 3)'s five, or the 8- or 10-cell transforms' pairs of rows x 7 taps.
        internal static void GCoefficients(int k, int positions, Span<Vector512<float>> coefficients)
        {
            if (k == 3)
            {
                coefficients[0] = Vector512.Create(1f / 4); coefficients[1] = Vector512.Create(-1f / 6);
                coefficients[2] = Vector512.Create(1f / 24); coefficients[3] = Vector512.Create(1f / 12); coefficients[4] = Vector512.Create(1f / 6);
                return;
            }
            var pairs = positions == 8 ? EightCellPairCoefficients : TenCellPairCoefficients;
            for (int i = 0; i < pairs.Length; i++) coefficients[i] = Vector512.Create(pairs[i]);
        }

        // F(4, 3)'s G times one filter's 3 taps (vectors 16 floats apart), stored positionStride apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void ApplyG3(ref float taps, Span<Vector512<float>> coefficients, ref float target, nuint positionStride)
        {
            var (u0, u1, u2, u3, u4, u5) = WinogradF4Convolution.ApplyG(Vector512.LoadUnsafe(ref taps), Vector512.LoadUnsafe(ref taps, V),
                Vector512.LoadUnsafe(ref taps, 2 * V), coefficients[0], coefficients[1], coefficients[2], coefficients[3], coefficients[4]);
            u0.StoreUnsafe(ref target);
            u1.StoreUnsafe(ref target, positionStride);
            u2.StoreUnsafe(ref target, 2 * positionStride);
            u3.StoreUnsafe(ref target, 3 * positionStride);
            u4.StoreUnsafe(ref target, 4 * positionStride);
            u5.StoreUnsafe(ref target, 5 * positionStride);
        }

        // The input gradient's filters: U[position][oc][ic lanes] = G of (w[oc][ic][k − 1], …, w[oc][ic][0]) (the kernel
        // turned, the layer's output channels its rows, its input channels its lanes), at the transposed layout's FilterAt
        // places. A row's 16 lanes are 16·k consecutive floats of the weight (16 input channels' taps): one 16x16 transpose
        // of rows k floats apart takes each tap's vector out of them (from rows staged with zeros past the weight's end), or
        // for three taps two permutes per tap.
        internal static void TransformFiltersTransposed(ReadOnlySpan<float> weight, Span<float> filters, in Layout l)
        {
            if (!WinogradF4Convolution.Wide)
            {
                TransformFilters256(weight, filters, transposed: true, l);
                return;
            }
            Span<float> taps = stackalloc float[3 * V * V]; // the transposed taps, the rows TransposeRows stages, the taps turned
            ref float g = ref MemoryMarshal.GetReference(taps);
            ref float turned = ref Unsafe.Add(ref g, 2 * V * V);
            ref float w = ref MemoryMarshal.GetReference(weight);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            nuint positionStride = (nuint)l.FilterPositionStride;
            int k = l.Kernel, rowFloats = k * l.OutChannels; // the weight's floats per layer output channel: its input channels' taps
            Span<Vector512<float>> coefficients = stackalloc Vector512<float>[4 * 7];
            GCoefficients(k, l.Positions, coefficients);
            // Tap t of lane j is float 3j + t of the 48: from the first 32 for j ≤ (31 − t)/3, else float 3j + t − 32 of the third
            // vector (index 16 + that in the second permute, whose first source is the first permute's result).
            var low0 = TapIndices(0, first: true); var high0 = TapIndices(0, first: false);
            var low1 = TapIndices(1, first: true); var high1 = TapIndices(1, first: false);
            var low2 = TapIndices(2, first: true); var high2 = TapIndices(2, first: false);
            for (int group = 0; group < l.OutGroups; group++)
            {
                int lanes = Math.Min(V, l.OutChannels - group * V);
                int groupAt = WinogradF4Convolution.FilterAt(0, group * V, l.InChannels, l.OutGroups);
                int channelStep = WinogradF4Convolution.FilterAt(1, group * V, l.InChannels, l.OutGroups) - groupAt;
                for (int row = 0; row < l.InChannels; row++)
                {
                    int first = row * rowFloats + k * V * group;
                    if (k == 3 && lanes == V)
                    {
                        // Three taps: each turned tap's vector out of the 48 floats by two two-source permutes, a third of the
                        // transpose's work (KernelBench line-winograd, input gradients: 48 -> 48 @16 3x1 25.5 -> 23.4 µs,
                        // 96 -> 96 @12 1x3 60.0 -> 49.7).
                        var v0 = Vector512.LoadUnsafe(ref w, (nuint)first);
                        var v1 = Vector512.LoadUnsafe(ref w, (nuint)(first + V));
                        var v2 = Vector512.LoadUnsafe(ref w, (nuint)(first + 2 * V));
                        Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, low2, v1), high2, v2).StoreUnsafe(ref turned);
                        Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, low1, v1), high1, v2).StoreUnsafe(ref turned, V);
                        Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, low0, v1), high0, v2).StoreUnsafe(ref turned, 2 * V);
                    }
                    else
                    {
                        TransposeRows(weight, first, k, lanes, k, ref g);
                        for (int tap = 0; tap < k; tap++) Vector512.LoadUnsafe(ref g, (nuint)((k - 1 - tap) * V)).StoreUnsafe(ref turned, (nuint)(tap * V));
                    }
                    ref float target = ref Unsafe.Add(ref u0, groupAt + row * channelStep);
                    if (k == 3) ApplyG3(ref turned, coefficients, ref target, positionStride);
                    else ApplyLongG(ref turned, k, l.Positions, coefficients, ref target, positionStride);
                }
            }
        }

        // Tile t's first output cell (row, column): TileSize cells along the kernel's axis from there.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (int Row, int Column) FirstCell(int t, in Layout l)
        {
            int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
            return l.Vertical ? (l.TileSize * ty, tx) : (ty, l.TileSize * tx);
        }

        // V[position][group][tile − first][16 channels] = Bᵀ d of each tile's window of 6, 8 or 10 cells, for the chunk's tiles.
        // (This and TransformOutput are methods of their own: inlined into Run and on into GroupedConvolution.ForwardOn, the
        // three transforms each left the JIT too little room, and it called ValueTuple's constructor, 2.2% of the
        // Inception-v3-style design's call in perf.)
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TransformInput(Span<float> padded, Span<float> transformed, int first, int count, in Layout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint step = (nuint)(l.Vertical ? l.PaddedWidth * V : V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                var (row, column) = FirstCell(t, l);
                int origin = ((row + l.RowOffset) * l.PaddedWidth + column + l.ColumnOffset) * V;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + origin);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    if (l.Positions == 6)
                        WinogradF4Convolution.StoreBt(Vector512.LoadUnsafe(ref d), Vector512.LoadUnsafe(ref d, step), Vector512.LoadUnsafe(ref d, 2 * step),
                            Vector512.LoadUnsafe(ref d, 3 * step), Vector512.LoadUnsafe(ref d, 4 * step), Vector512.LoadUnsafe(ref d, 5 * step), ref target, positionStride);
                    else if (l.Positions == 8) StoreBt8(ref d, step, ref target, positionStride);
                    else StoreBt10(ref d, step, ref target, positionStride);
                }
            }
        }

        // Y = Aᵀ M + bias per tile and group of 16 output channels, clamped; into outputs[group][cell][16 channels], the
        // cells inside the output only.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TransformOutput(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in OutputClamp clamp, in Layout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), WinogradF4Convolution.Layout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.ProductPositionStride;
            var low = Vector512.Create(clamp.Low); var high = Vector512.Create(clamp.High);
            int along = l.Vertical ? l.OutHeight : l.OutWidth;
            nuint cellStep = (nuint)(l.Vertical ? l.OutWidth * V : V);
            for (int t = first; t < first + count; t++)
            {
                var (row, column) = FirstCell(t, l);
                int cells = Math.Min(l.TileSize, along - (l.Vertical ? row : column));
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.OutLanes + group * V);
                    var (y0, y1, y2, y3) = l.Positions switch
                    {
                        6 => WinogradF4Convolution.ApplyAt(ref m, positionStride),
                        8 => ApplyAt8(ref m, positionStride),
                        _ => ApplyAt10(ref m, positionStride),
                    };
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + (row * l.OutWidth + column) * V);
                    OutputClamp.Apply(y0 + bias, low, high).StoreUnsafe(ref target);
                    if (cells > 1) OutputClamp.Apply(y1 + bias, low, high).StoreUnsafe(ref target, cellStep);
                    if (cells > 2) OutputClamp.Apply(y2 + bias, low, high).StoreUnsafe(ref target, 2 * cellStep);
                    if (cells > 3) OutputClamp.Apply(y3 + bias, low, high).StoreUnsafe(ref target, 3 * cellStep);
                }
            }
        }

        // F(4, 5)'s 8-point transforms, with the points 0, ±1, ±2, ±1/2 and ∞ (benchmarks/KernelBench/toom_cook.py
        // derives them and checks them in exact arithmetic): Bᵀ of 8 cells, Aᵀ's 4 rows of 8 products, G of 5 taps.
        // Bᵀ's rows past the first and before the last pair up as the even cells' part plus and minus the odd cells'.
        //   Bᵀ = [4 0 −21 0 21 0 −4 0; 0 −4 −4 17 17 −4 −4 0; 0 4 −4 −17 17 4 −4 0; 0 2 1 −10 −5 8 4 0; 0 −2 1 10 −5 −8 4 0;
        //         0 4 8 −5 −10 1 2 0; 0 −4 8 5 −10 −1 2 0; 0 −4 0 21 0 −21 0 4]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void StoreBt8(ref float d, nuint step, ref float target, nuint targetStride)
        {
            var d0 = Vector512.LoadUnsafe(ref d); var d1 = Vector512.LoadUnsafe(ref d, step);
            var d2 = Vector512.LoadUnsafe(ref d, 2 * step); var d3 = Vector512.LoadUnsafe(ref d, 3 * step);
            var d4 = Vector512.LoadUnsafe(ref d, 4 * step); var d5 = Vector512.LoadUnsafe(ref d, 5 * step);
            var d6 = Vector512.LoadUnsafe(ref d, 6 * step); var d7 = Vector512.LoadUnsafe(ref d, 7 * step);
            var four = Vector512.Create(4f); var five = Vector512.Create(5f); var seventeen = Vector512.Create(17f); var twentyOne = Vector512.Create(21f);
            var minusFour = Vector512.Create(-4f);
            Fused.MultiplyAdd(d4 - d2, twentyOne, (d0 - d6) * four).StoreUnsafe(ref target);
            var even1 = Fused.MultiplyAdd(d2 + d6, minusFour, d4 * seventeen);
            var odd1 = Fused.MultiplyAdd(d1 + d5, minusFour, d3 * seventeen);
            (even1 + odd1).StoreUnsafe(ref target, targetStride);
            (even1 - odd1).StoreUnsafe(ref target, 2 * targetStride);
            var even3 = Fused.MultiplyAdd(d6, four, Fused.MultiplyAdd(d4, Vector512.Create(-5f), d2));
            var odd3 = Fused.MultiplyAdd(d5, Vector512.Create(8f), Fused.MultiplyAdd(d3, Vector512.Create(-10f), d1 + d1));
            (even3 + odd3).StoreUnsafe(ref target, 3 * targetStride);
            (even3 - odd3).StoreUnsafe(ref target, 4 * targetStride);
            var even5 = Fused.MultiplyAdd(d2, Vector512.Create(8f), Fused.MultiplyAdd(d4, Vector512.Create(-10f), d6 + d6));
            var odd5 = Fused.MultiplyAdd(d1, four, Fused.MultiplyAdd(d3, -five, d5));
            (even5 + odd5).StoreUnsafe(ref target, 5 * targetStride);
            (even5 - odd5).StoreUnsafe(ref target, 6 * targetStride);
            Fused.MultiplyAdd(d3 - d5, twentyOne, (d7 - d1) * four).StoreUnsafe(ref target, 7 * targetStride);
        }

        // Aᵀ of 8 products: y0 = m0 + … + m6; y_i = (m1 ± m2) + 2^i (m3 ± m4) + 2^−i (m5 ± m6) (+ for even i, − for odd), plus
        // m7 in y3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyAt8(ref float source, nuint stride)
        {
            var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, stride);
            var m2 = Vector512.LoadUnsafe(ref source, 2 * stride); var m3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector512.LoadUnsafe(ref source, 4 * stride); var m5 = Vector512.LoadUnsafe(ref source, 5 * stride);
            var m6 = Vector512.LoadUnsafe(ref source, 6 * stride); var m7 = Vector512.LoadUnsafe(ref source, 7 * stride);
            Vector512<float> sum12 = m1 + m2, sum34 = m3 + m4, sum56 = m5 + m6;
            Vector512<float> difference12 = m1 - m2, difference34 = m3 - m4, difference56 = m5 - m6;
            var y0 = m0 + sum12 + sum34 + sum56;
            var y1 = Fused.MultiplyAdd(difference56, Vector512.Create(0.5f), Fused.MultiplyAdd(difference34, Vector512.Create(2f), difference12));
            var y2 = Fused.MultiplyAdd(sum56, Vector512.Create(0.25f), Fused.MultiplyAdd(sum34, Vector512.Create(4f), sum12));
            var y3 = Fused.MultiplyAdd(difference56, Vector512.Create(0.125f), Fused.MultiplyAdd(difference34, Vector512.Create(8f), difference12)) + m7;
            return (y0, y1, y2, y3);
        }

        // G for F(4, 5): row j evaluates the filter at point j (0, 1, −1, 2, −2, 1/2, −1/2; the last
        // row its last tap), divided by the scale Bᵀ's row took: 1/4 of the first tap; 1/18 of the sum and of the alternating
        // sum; 2^k/360 the same; 16/45·2^−k the same; 1/4 of the last tap. Each pair of rows is the even taps' part plus and
        // minus the odd taps' (ApplyLongG). The coefficients of one row's pair, per tap, in float (each rounded once).
        private static readonly float[] EightCellPairCoefficients = PairCoefficients(
            k => 1.0 / 18, k => Math.Pow(2, k) / 360, k => 16.0 / 45 * Math.Pow(2, -k));

        // G for F(4, 7), the points 0, ±1, ±2, ±1/2, ±3/2 and ∞: 1/36 of the first tap; 1/90 of the sums; 2^k/2520;
        // 2/45·2^−k; 2/315·(3/2)^k; 1/16 of the last tap.
        private static readonly float[] TenCellPairCoefficients = PairCoefficients(
            k => 1.0 / 90, k => Math.Pow(2, k) / 2520, k => 2.0 / 45 * Math.Pow(2, -k), k => 2.0 / 315 * Math.Pow(1.5, k));

        private static float[] PairCoefficients(params Func<int, double>[] rows)
        {
            var c = new float[rows.Length * 7];
            for (int pair = 0; pair < rows.Length; pair++)
                for (int k = 0; k < 7; k++) c[pair * 7 + k] = (float)rows[pair](k);
            return c;
        }

        // The 8 or 10 rows of G times one filter's k taps (vectors 16 floats apart from taps), stored positionStride apart.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void ApplyLongG(ref float taps, int k, int positions, Span<Vector512<float>> coefficients, ref float target, nuint positionStride)
        {
            var (first, last) = positions == 8 ? (0.25f, 0.25f) : (1f / 36, 1f / 16);
            (Vector512.LoadUnsafe(ref taps) * Vector512.Create(first)).StoreUnsafe(ref target);
            for (int pair = 0; pair < (positions - 2) / 2; pair++)
            {
                Vector512<float> even = Vector512<float>.Zero, odd = Vector512<float>.Zero;
                for (int tap = 0; tap < k; tap++)
                {
                    var tapVector = Vector512.LoadUnsafe(ref taps, (nuint)(tap * V));
                    if ((tap & 1) == 0) even = Fused.MultiplyAdd(coefficients[pair * 7 + tap], tapVector, even);
                    else odd = Fused.MultiplyAdd(coefficients[pair * 7 + tap], tapVector, odd);
                }
                (even + odd).StoreUnsafe(ref target, (nuint)(2 * pair + 1) * positionStride);
                (even - odd).StoreUnsafe(ref target, (nuint)(2 * pair + 2) * positionStride);
            }
            (Vector512.LoadUnsafe(ref taps, (nuint)((k - 1) * V)) * Vector512.Create(last)).StoreUnsafe(ref target, (nuint)(positions - 1) * positionStride);
        }

        // F(4, 7)'s 10-point transforms, the points 0, ±1, ±2, ±1/2, ±3/2 and ∞ (toom_cook.py): Bᵀ of 10 cells, its rows
        // past the first and before the last again the even cells' part plus and minus the odd cells':
        //   Bᵀ = [36 0 −205 0 273 0 −120 0 16 0; 0 −36 −36 169 169 −104 −104 16 16 0; 0 36 −36 −169 169 104 −104 −16 16 0;
        //         0 −18 −9 98 49 −112 −56 32 16 0; 0 18 −9 −98 49 112 −56 −32 16 0; 0 36 72 −61 −122 29 58 −4 −8 0;
        //         0 −36 72 61 −122 −29 58 4 −8 0; 0 12 8 −63 −42 63 42 −12 −8 0; 0 −12 8 63 −42 −63 42 12 −8 0;
        //         0 36 0 −205 0 273 0 −120 0 16]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreBt10(ref float d, nuint step, ref float target, nuint targetStride)
        {
            var d0 = Vector512.LoadUnsafe(ref d); var d1 = Vector512.LoadUnsafe(ref d, step);
            var d2 = Vector512.LoadUnsafe(ref d, 2 * step); var d3 = Vector512.LoadUnsafe(ref d, 3 * step);
            var d4 = Vector512.LoadUnsafe(ref d, 4 * step); var d5 = Vector512.LoadUnsafe(ref d, 5 * step);
            var d6 = Vector512.LoadUnsafe(ref d, 6 * step); var d7 = Vector512.LoadUnsafe(ref d, 7 * step);
            var d8 = Vector512.LoadUnsafe(ref d, 8 * step); var d9 = Vector512.LoadUnsafe(ref d, 9 * step);
            var c36 = Vector512.Create(36f); var c205 = Vector512.Create(-205f); var c273 = Vector512.Create(273f); var c120 = Vector512.Create(-120f);
            var c16 = Vector512.Create(16f);
            Fused.MultiplyAdd(d8, c16, Fused.MultiplyAdd(d6, c120, Fused.MultiplyAdd(d4, c273, Fused.MultiplyAdd(d2, c205, d0 * c36)))).StoreUnsafe(ref target);
            Fused.MultiplyAdd(d9, c16, Fused.MultiplyAdd(d7, c120, Fused.MultiplyAdd(d5, c273, Fused.MultiplyAdd(d3, c205, d1 * c36)))).StoreUnsafe(ref target, 9 * targetStride);
            Pair(Row(d2, d4, d6, d8, -36f, 169f, -104f, 16f), Row(d1, d3, d5, d7, -36f, 169f, -104f, 16f), ref target, 1, targetStride);
            Pair(Row(d2, d4, d6, d8, -9f, 49f, -56f, 16f), Row(d1, d3, d5, d7, -18f, 98f, -112f, 32f), ref target, 3, targetStride);
            Pair(Row(d2, d4, d6, d8, 72f, -122f, 58f, -8f), Row(d1, d3, d5, d7, 36f, -61f, 29f, -4f), ref target, 5, targetStride);
            // ±3/2's even part is 8 (d2 − d8) + 42 (d6 − d4), its odd part 12 (d1 − d7) + 63 (d5 − d3).
            Pair(Fused.MultiplyAdd(d6 - d4, Vector512.Create(42f), (d2 - d8) * Vector512.Create(8f)),
                Fused.MultiplyAdd(d5 - d3, Vector512.Create(63f), (d1 - d7) * Vector512.Create(12f)), ref target, 7, targetStride);

            static Vector512<float> Row(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> e, float ca, float cb, float cc, float ce) =>
                Fused.MultiplyAdd(e, Vector512.Create(ce), Fused.MultiplyAdd(c, Vector512.Create(cc), Fused.MultiplyAdd(b, Vector512.Create(cb), a * Vector512.Create(ca))));

            static void Pair(Vector512<float> even, Vector512<float> odd, ref float target, int row, nuint targetStride)
            {
                (even + odd).StoreUnsafe(ref target, (nuint)row * targetStride);
                (even - odd).StoreUnsafe(ref target, (nuint)(row + 1) * targetStride);
            }
        }

        // Aᵀ of 10 products (4 rows): with S = m(2p−1) + m(2p) and D = m(2p−1) − m(2p) for the pairs ±1, ±2, ±1/2, ±3/2,
        // y0 = m0 + ΣS; y1 = D1 + 2 D2 + D3/2 + 3/2 D4; y2 = S1 + 4 S2 + S3/4 + 9/4 S4; y3 = D1 + 8 D2 + D3/8 + 27/8 D4 + m9.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) ApplyAt10(ref float source, nuint stride)
        {
            var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, stride);
            var m2 = Vector512.LoadUnsafe(ref source, 2 * stride); var m3 = Vector512.LoadUnsafe(ref source, 3 * stride);
            var m4 = Vector512.LoadUnsafe(ref source, 4 * stride); var m5 = Vector512.LoadUnsafe(ref source, 5 * stride);
            var m6 = Vector512.LoadUnsafe(ref source, 6 * stride); var m7 = Vector512.LoadUnsafe(ref source, 7 * stride);
            var m8 = Vector512.LoadUnsafe(ref source, 8 * stride); var m9 = Vector512.LoadUnsafe(ref source, 9 * stride);
            Vector512<float> s1 = m1 + m2, s2 = m3 + m4, s3 = m5 + m6, s4 = m7 + m8;
            Vector512<float> d1 = m1 - m2, d2 = m3 - m4, d3 = m5 - m6, d4 = m7 - m8;
            var y0 = m0 + s1 + s2 + s3 + s4;
            var y1 = Fused.MultiplyAdd(d4, Vector512.Create(1.5f), Fused.MultiplyAdd(d3, Vector512.Create(0.5f), Fused.MultiplyAdd(d2, Vector512.Create(2f), d1)));
            var y2 = Fused.MultiplyAdd(s4, Vector512.Create(2.25f), Fused.MultiplyAdd(s3, Vector512.Create(0.25f), Fused.MultiplyAdd(s2, Vector512.Create(4f), s1)));
            var y3 = Fused.MultiplyAdd(d4, Vector512.Create(3.375f), Fused.MultiplyAdd(d3, Vector512.Create(0.125f), Fused.MultiplyAdd(d2, Vector512.Create(8f), d1))) + m9;
            return (y0, y1, y2, y3);
        }
    }
}
