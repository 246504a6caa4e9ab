using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// 1x1 and 3x3 or 5x5 depthwise convolutions of one sample in a channel-blocked layout, [channels / 16][rows][columns][16]:
    /// the 16 channels of a block side by side in a vector's lanes, for chains of such layers in evaluation (a 1x1 layer
    /// writes the layout, a depthwise layer reads it and writes it, the next 1x1 layer reads it), where the NCHW kernels pay
    /// for their layout on small maps: a depthwise layer reads each plane with per-channel overhead or turns it into lanes and
    /// back (Transpose16). A depthwise layer's input is kept padded by half its kernel (one cell for 3x3, two for 5x5) with a
    /// zero border, written so by the 1x1 layer before it, so nothing is copied to pad it.
    /// </summary>
    /// <remarks>
    /// A 1x1 tile is up to 8 cells of a row x up to 3 blocks of 16 output channels (24 accumulators): per input channel one
    /// broadcast per cell and one load of 16 packed weights per block. Its input may be NCHW (the first layer of a chain),
    /// its output NCHW (the last). A depthwise tile is up to 8 output cells of a row, a load of the block's 16 weights per tap.
    /// Every output sums from the bias over the input channels (1x1) or the taps (depthwise, row by row) in the definition's
    /// order, as the NCHW kernels do, so a chain's floats are theirs. Without Vector512 in hardware the same sums run on
    /// Vector256 halves of the blocks (ChannelBlocks.Vector256.cs), and with SIMD disabled on scalars. KernelBench
    /// <c>blocked</c> measures them against the NCHW kernels.
    /// </remarks>
    public static partial class ChannelBlocks
    {
        /// <summary>Channels in a block (a Vector512 of floats).</summary>
        public const int BlockChannels = 16;

        /// <summary>Floats of a blocked map padded by <paramref name="padding"/> cells on every side (a depthwise layer's input: 1 for 3x3, 2 for 5x5).</summary>
        public static int PaddedLength(int channels, int height, int width, int padding = 1) => channels * (height + 2 * padding) * (width + 2 * padding);

        /// <summary>The widest border a depthwise layer's blocked input takes: a 3x3 layer's at dilation 4, a 5x5 one's at 2.</summary>
        public const int MaxPadding = 4;

        /// <summary>Whether the vector tiles may run (tests turn it off to run the scalar loops on the same machine).</summary>
        internal static bool VectorTiles { get; set; } = true;

        /// <summary>Whether 1x1 layers take their input channels in runs of up to <see cref="RunChannels"/> (KernelBench <c>blocked knob runs</c> turns it off to compare).</summary>
        internal static bool InputRuns { get; set; } = true;

        /// <summary>Input channels in a 1x1 layer's run: 3 blocks' weights for them take 24 KB, half the L1.</summary>
        private const int RunChannels = 128;

        /// <summary>Whether a 1x1 layer's last block of at most 8 channels runs on Vector256s (KernelBench <c>blocked knob half</c> turns it off to compare).</summary>
        internal static bool HalfBlocks { get; set; } = true;

        /// <summary>Whether 1x1 layers split their blocks of output channels into even groups (KernelBench <c>blocked knob groups</c> turns it off to compare).</summary>
        internal static bool EvenBlockGroups { get; set; } = true;

        private static bool Vectorized => VectorTiles && Simd.Enabled && Vector512.IsHardwareAccelerated;

        /// <summary>Whether 1x1 tiles reading a large NCHW input ask for its cells ahead (KernelBench turns it off to compare).</summary>
        internal static bool PrefetchInput = true;

        /// <summary>Output channels rounded up to whole blocks: what a 1x1 layer's packed weights and bias hold (the lanes past its channels zero).</summary>
        public static int BlockLanes(int channels) => (channels + 15) / 16 * 16;

        /// <summary>
        /// 1x1 weights [outChannels x inChannels] (PyTorch's layout) to [blocks][inChannels][16], <see cref="BlockLanes"/>(outChannels)
        /// x inChannels floats: a last block of fewer than 16 channels (only a layer that writes NCHW, <see cref="Pointwise"/>) has
        /// zero weights in its other lanes.
        /// </summary>
        public static void PackPointwise(ReadOnlySpan<float> weight, int inChannels, int outChannels, Span<float> packed)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            int lanes = BlockLanes(outChannels);
            if (weight.Length < outChannels * inChannels || packed.Length < lanes * inChannels) throw new ArgumentException("Expected " + outChannels * inChannels + " weights and room for " + lanes * inChannels + " packed.");
            if (lanes != outChannels) packed.Slice((lanes - 16) * inChannels, 16 * inChannels).Clear();
            for (int oc = 0; oc < outChannels; oc++)
                for (int c = 0; c < inChannels; c++)
                    packed[((oc / 16) * inChannels + c) * 16 + oc % 16] = weight[oc * inChannels + c];
        }

        /// <summary>
        /// k x k depthwise weights [channels x 1 x k x k] (k = 3 or 5) to [blocks][k·k taps][16], <see cref="BlockLanes"/>(channels)
        /// x k·k floats: a last block of fewer than 16 channels has zero weights in its other lanes.
        /// </summary>
        public static void PackDepthwise(ReadOnlySpan<float> weight, int channels, Span<float> packed, int kernel = 3)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            RequireKernel(kernel);
            int taps = kernel * kernel, lanes = BlockLanes(channels);
            if (weight.Length < channels * taps || packed.Length < lanes * taps) throw new ArgumentException("Expected " + channels * taps + " weights and room for " + lanes * taps + " packed.");
            if (lanes != channels) packed.Slice((lanes - 16) * taps, 16 * taps).Clear();
            for (int c = 0; c < channels; c++)
                for (int t = 0; t < taps; t++)
                    packed[((c / 16) * taps + t) * 16 + c % 16] = weight[c * taps + t];
        }

        /// <summary>
        /// y = clamp(bias + weight · x) of a 1x1 stride-1 layer. <paramref name="x"/> is NCHW [inChannels][height x width], or
        /// when <paramref name="blockedInput"/> blocked [blocks][height x width][16]; <paramref name="y"/> is blocked and padded
        /// by <paramref name="padding"/> cells, [blocks][height + 2·padding][width + 2·padding][16] with its border written zero,
        /// or when <paramref name="nchwOutput"/> NCHW [outChannels][height x width], written blocked into <paramref name="staging"/>
        /// (<see cref="BlockLanes"/>(outChannels) x height x width floats; unused otherwise) and turned into rows by 16 x 16
        /// transposes. Weights from <see cref="PackPointwise"/>. Channels need not be whole blocks: the last block's extra
        /// lanes (zero weights, zero bias: <paramref name="bias"/> holds BlockLanes(outChannels) values) are summed to 0,
        /// stored so in a blocked y (where the clamp keeps 0 at 0) and not stored in an NCHW one; a blocked input's extra lanes
        /// are not read.
        /// </summary>
        public static void Pointwise(ReadOnlySpan<float> x, bool blockedInput, int inChannels, int height, int width, ReadOnlySpan<float> packedWeight,
            ReadOnlySpan<float> bias, int outChannels, Span<float> y, bool nchwOutput, Span<float> staging, float low = float.NegativeInfinity, float high = float.PositiveInfinity,
            int padding = 1)
        {
            var clamp = new OutputClamp(low, high);
            if (padding < 1 || padding > MaxPadding) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Expected padding 1 to " + MaxPadding + " (a 3x3 or 5x5 depthwise layer's, times its dilation).");
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            int cells = height * width, lanes = BlockLanes(outChannels);
            // A blocked input takes whole blocks: its last channel lies near the end of the last block's cells.
            int inLength = (blockedInput ? BlockLanes(inChannels) : inChannels) * cells;
            if (x.Length < inLength) throw new ArgumentException("Expected x of " + inLength + " floats.");
            if (packedWeight.Length < lanes * inChannels) throw new ArgumentException("Expected " + lanes * inChannels + " packed weights.");
            if (bias.Length < lanes) throw new ArgumentException("Expected " + lanes + " biases.");
            if (y.Length < (nchwOutput ? outChannels * cells : PaddedLength(lanes, height, width, padding))) throw new ArgumentException("Expected a longer y.");
            if (nchwOutput && staging.Length < lanes * cells) throw new ArgumentException("Expected staging of " + lanes * cells + " floats.", nameof(staging));
            var input = new Input(16 * cells, blockedInput ? 1 : cells, blockedInput ? 16 : 1);
            // Blocked and padded into y; or blocked unpadded into staging, turned into NCHW rows after.
            int pad = nchwOutput ? 0 : padding, rowLength = width + 2 * pad, blockStride = (height + 2 * pad) * rowLength * 16;
            ref float ys = ref MemoryMarshal.GetReference(nchwOutput ? staging : y);
            if (!nchwOutput)
            {
                for (int ob = 0; ob < lanes / 16; ob++) ClearBorder(ref Unsafe.Add(ref ys, ob * blockStride), height, width, pad);
            }
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ws = ref MemoryMarshal.GetReference(packedWeight);
            ref float bs = ref MemoryMarshal.GetReference(bias);
            // Blocks of output channels in groups of up to 3, as even as they go (4 as 2 + 2, 16 as 2 3 3 2 3 3): a group of one
            // block has 8 accumulators, too few to hide the multiply-add's latency, and loads 9 values for 8 of them.
            int blocks = lanes / 16, groups = EvenBlockGroups ? (blocks + 2) / 3 : blocks;
            // Input channels in runs of up to 128 (whole blocks): a run's weights for 3 blocks, 24 KB, stay in L1 across the
            // map's tiles, where 256 channels' 48 KB fill it (1.01-1.05x from 256 channels). The sums are kept in y between
            // runs and go on from there, so each still runs from the bias over the channels in order.
            int runs = InputRuns ? (inChannels + RunChannels - 1) / RunChannels : 1, runLength = (inChannels / runs + 15) / 16 * 16;
            bool prefetch = PrefetchInput && !blockedInput && (long)inChannels * cells >= Prefetch.MinimumFloats;
            // A last block of at most 8 channels in Vector256s (PointwiseTile.TileHalf); a group of 3 blocks then holds 2 whole
            // ones and it, 24 accumulators.
            bool halfLast = HalfBlocks && outChannels % 16 is > 0 and <= 8;
            for (int group = 0, ob = 0; ob < blocks; group++)
            {
                int nb = EvenBlockGroups ? (group + 1) * blocks / groups - ob : Math.Min(3, blocks - ob);
                for (int c0 = 0; c0 < inChannels; c0 += runLength)
                {
                    int count = Math.Min(runLength, inChannels - c0);
                    bool fromBias = c0 == 0, lastRun = c0 + count == inChannels;
                    for (int row = 0; row < height; row++)
                    {
                        for (int column = 0; column < width;)
                        {
                            int n = Math.Min(8, width - column);
                            var tile = new PointwiseTile(ref Unsafe.Add(ref xs, (row * width + column) * input.Cell + input.Of(c0)), input, count,
                                ref Unsafe.Add(ref ws, ob * 16 * inChannels + c0 * 16), inChannels, ref Unsafe.Add(ref bs, ob * 16), clamp, fromBias, lastRun, prefetch);
                            tile.Run(n, nb, ref Unsafe.Add(ref ys, ob * blockStride + ((row + pad) * rowLength + column + pad) * 16), blockStride, halfLast && ob + nb == blocks);
                            column += n;
                        }
                    }
                }
                ob += nb;
            }
            if (nchwOutput) ToNchw(staging, outChannels, cells, y);
        }

        // Blocked [blocks][cells][16] to NCHW [channels][cells]: 16 x 16 register transposes, the last cells one at a time; a
        // last block of fewer channels is transposed into a block on the stack and its channels' rows copied from there.
        private static void ToNchw(ReadOnlySpan<float> blocked, int channels, int cells, Span<float> y)
        {
            ref float b = ref MemoryMarshal.GetReference(blocked);
            ref float ys = ref MemoryMarshal.GetReference(y);
            // Only a partly filled last block goes through it.
            Span<float> transposed = channels % 16 != 0 ? stackalloc float[256] : default;
            ref float t = ref MemoryMarshal.GetReference(transposed);
            for (int cb = 0; cb < BlockLanes(channels) / 16; cb++)
            {
                ref float block = ref Unsafe.Add(ref b, cb * cells * 16);
                ref float rows = ref Unsafe.Add(ref ys, cb * 16 * cells);
                int lanes = Math.Min(16, channels - cb * 16), cell = 0;
                if (Vectorized)
                {
                    if (lanes == 16)
                        for (; cell + 16 <= cells; cell += 16) DirectConvolution.Transpose16(ref Unsafe.Add(ref block, cell * 16), 16, ref Unsafe.Add(ref rows, cell), cells);
                    else
                        for (; cell + 16 <= cells; cell += 16)
                        {
                            DirectConvolution.Transpose16(ref Unsafe.Add(ref block, cell * 16), 16, ref t, 16);
                            for (int l = 0; l < lanes; l++) Vector512.LoadUnsafe(ref t, (nuint)(l * 16)).StoreUnsafe(ref rows, (nuint)(l * cells + cell));
                        }
                }
                else if (Vectorized256)
                {
                    LanesToPlanes256(ref block, cells, lanes, ref rows, cells);
                    cell = cells;
                }
                for (; cell < cells; cell++)
                    for (int l = 0; l < lanes; l++) Unsafe.Add(ref rows, l * cells + cell) = Unsafe.Add(ref block, cell * 16 + l);
            }
        }

        /// <summary>
        /// y = clamp(bias + depthwise k x k of x), k = <paramref name="kernel"/> (3 or 5) with its taps <paramref name="dilation"/>
        /// cells apart, padding d·(k / 2) (the map's size kept at stride 1) and stride 1 or 2: <paramref name="x"/> blocked and
        /// padded by p = d·(k / 2) cells with a zero border ([blocks][height + 2p][width + 2p][16], as <see cref="Pointwise"/>
        /// writes it), y blocked [blocks][outHeight][outWidth][16], blocks = BlockLanes(channels) / 16. Weights from
        /// <see cref="PackDepthwise"/> for the same kernel; <paramref name="bias"/> holds BlockLanes(channels) values (a last
        /// block's extra lanes zero, so its outputs there are the clamp of 0).
        /// </summary>
        public static void Depthwise(ReadOnlySpan<float> x, int channels, int height, int width, int stride, ReadOnlySpan<float> packedWeight,
            ReadOnlySpan<float> bias, Span<float> y, float low = float.NegativeInfinity, float high = float.PositiveInfinity, int kernel = 3, int dilation = 1)
        {
            var clamp = new OutputClamp(low, high);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            RequireKernel(kernel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            if (stride is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(stride), stride, "Expected stride 1 or 2.");
            if (dilation < 1 || dilation * (kernel / 2) > MaxPadding) throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "Expected a dilation of 1 to " + MaxPadding / (kernel / 2) + ".");
            int padding = dilation * (kernel / 2), taps = kernel * kernel, lanes = BlockLanes(channels);
            int outHeight = (height - 1) / stride + 1, outWidth = (width - 1) / stride + 1, paddedWidth = width + 2 * padding;
            if (x.Length < PaddedLength(lanes, height, width, padding)) throw new ArgumentException("Expected x of " + PaddedLength(lanes, height, width, padding) + " floats.");
            if (packedWeight.Length < lanes * taps) throw new ArgumentException("Expected " + lanes * taps + " packed weights.");
            if (bias.Length < lanes) throw new ArgumentException("Expected " + lanes + " biases.");
            if (y.Length < lanes * outHeight * outWidth) throw new ArgumentException("Expected y of " + lanes * outHeight * outWidth + " floats.");
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float ws = ref MemoryMarshal.GetReference(packedWeight);
            ref float bs = ref MemoryMarshal.GetReference(bias);
            for (int cb = 0; cb < lanes / 16; cb++)
            {
                ref float block = ref Unsafe.Add(ref xs, cb * (height + 2 * padding) * paddedWidth * 16);
                ref float blockTaps = ref Unsafe.Add(ref ws, cb * taps * 16);
                ref float b = ref Unsafe.Add(ref bs, cb * 16);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float inputRow = ref Unsafe.Add(ref block, oy * stride * paddedWidth * 16);
                    ref float outputRow = ref Unsafe.Add(ref ys, ((cb * outHeight + oy) * outWidth) * 16);
                    for (int ox = 0; ox < outWidth;)
                    {
                        int n = Math.Min(8, outWidth - ox);
                        ref float from = ref Unsafe.Add(ref inputRow, ox * stride * 16);
                        ref float to = ref Unsafe.Add(ref outputRow, ox * 16);
                        if (kernel == 5) DepthwiseCells<C5>(n, ref from, paddedWidth * 16, stride * 16, dilation, ref blockTaps, ref b, clamp, ref to);
                        else DepthwiseCells<C3>(n, ref from, paddedWidth * 16, stride * 16, dilation, ref blockTaps, ref b, clamp, ref to);
                        ox += n;
                    }
                }
            }
        }

        // Zeroes a padded block's border: its first and last pad rows, and the first and last pad cells of the rows between.
        private static void ClearBorder(ref float block, int height, int width, int pad)
        {
            int rowLength = (width + 2 * pad) * 16;
            MemoryMarshal.CreateSpan(ref block, pad * rowLength).Clear();
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref block, (height + pad) * rowLength), pad * rowLength).Clear();
            for (int row = pad; row < height + pad; row++)
            {
                MemoryMarshal.CreateSpan(ref Unsafe.Add(ref block, row * rowLength), pad * 16).Clear();
                MemoryMarshal.CreateSpan(ref Unsafe.Add(ref block, row * rowLength + (width + pad) * 16), pad * 16).Clear();
            }
        }

        // Where input channel c of cell j lies: (c / 16) * Block + (c % 16) * Lane + j * Cell floats from the tile's first cell.
        // NCHW: Block 16 planes, Lane a plane, Cell 1; blocked: Block 16 x cells, Lane 1, Cell 16.
        private readonly record struct Input(int Block, int Lane, int Cell)
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public int Of(int c) => (c >> 4) * Block + (c & 15) * Lane;
        }

        private readonly ref partial struct PointwiseTile
        {
            private readonly ref float _x;
            private readonly Input _input;
            private readonly int _inChannels;
            private readonly ref float _w;
            private readonly int _blockWeights;
            private readonly ref float _bias;
            private readonly OutputClamp _clamp;
            // Whether the run's sums start from the bias (the first run) or from what y holds, and whether they are the
            // layer's last (then clamped) or left in y for the next run.
            private readonly bool _fromBias, _lastRun;
            // Whether each channel's cells two lines ahead are asked into the L2 as the tile reads them (NCHW input of 512 KB or
            // more: a tile reads from up to 128 planes at once, more streams than the hardware prefetchers follow).
            private readonly bool _prefetch;

            // inChannels: the run's; w: its first channel's weights, a block's 16 output channels' weights for all the layer's
            // layerInChannels apart.
            public PointwiseTile(ref float x, Input input, int inChannels, ref float w, int layerInChannels, ref float bias, OutputClamp clamp, bool fromBias, bool lastRun,
                bool prefetch)
            {
                _prefetch = prefetch;
                _x = ref x;
                _input = input;
                _inChannels = inChannels;
                _w = ref w;
                _blockWeights = 16 * layerInChannels;
                _bias = ref bias;
                _clamp = clamp;
                _fromBias = fromBias;
                _lastRun = lastRun;
            }

            // n cells x nb blocks, each block's 16 outputs of a cell stored together (y blocked; blocks blockStride apart).
            // halfLast: the last block holds at most 8 channels, summed in a Vector256 (its upper 8 lanes written 0).
            public void Run(int n, int nb, ref float y, int blockStride, bool halfLast = false)
            {
                if (!Vectorized && Vectorized256)
                {
                    Run256(n, nb, new Output(ref y, blockStride), halfLast);
                    return;
                }
                if (!Vectorized)
                {
                    for (int b = 0; b < nb; b++)
                        for (int j = 0; j < n; j++)
                            for (int l = 0; l < 16; l++)
                            {
                                ref float at = ref Unsafe.Add(ref y, b * blockStride + j * 16 + l);
                                at = Scalar(j, b * 16 + l, _fromBias ? Unsafe.Add(ref _bias, b * 16 + l) : at);
                            }
                    return;
                }
                if (halfLast) HalfSums(n, nb - 1, new Output(ref y, blockStride));
                else Sums(n, nb, new Output(ref y, blockStride));
            }

            // n cells x full whole blocks and a half block after them.
            private void HalfSums(int n, int full, Output output)
            {
                switch (n * 4 + full)
                {
                    case 8 * 4 + 2: TileHalf<C8, C2>(output); break;
                    case 8 * 4 + 1: TileHalf<C8, C1>(output); break;
                    case 8 * 4 + 0: TileHalf<C8, C0>(output); break;
                    case 7 * 4 + 2: TileHalf<C7, C2>(output); break;
                    case 7 * 4 + 1: TileHalf<C7, C1>(output); break;
                    case 7 * 4 + 0: TileHalf<C7, C0>(output); break;
                    case 6 * 4 + 2: TileHalf<C6, C2>(output); break;
                    case 6 * 4 + 1: TileHalf<C6, C1>(output); break;
                    case 6 * 4 + 0: TileHalf<C6, C0>(output); break;
                    case 5 * 4 + 2: TileHalf<C5, C2>(output); break;
                    case 5 * 4 + 1: TileHalf<C5, C1>(output); break;
                    case 5 * 4 + 0: TileHalf<C5, C0>(output); break;
                    case 4 * 4 + 2: TileHalf<C4, C2>(output); break;
                    case 4 * 4 + 1: TileHalf<C4, C1>(output); break;
                    case 4 * 4 + 0: TileHalf<C4, C0>(output); break;
                    case 3 * 4 + 2: TileHalf<C3, C2>(output); break;
                    case 3 * 4 + 1: TileHalf<C3, C1>(output); break;
                    case 3 * 4 + 0: TileHalf<C3, C0>(output); break;
                    case 2 * 4 + 2: TileHalf<C2, C2>(output); break;
                    case 2 * 4 + 1: TileHalf<C2, C1>(output); break;
                    case 2 * 4 + 0: TileHalf<C2, C0>(output); break;
                    case 1 * 4 + 2: TileHalf<C1, C2>(output); break;
                    case 1 * 4 + 1: TileHalf<C1, C1>(output); break;
                    default: TileHalf<C1, C0>(output); break;
                }
            }

            // TCells cells x TFull blocks of 16 output channels x a last block of up to 8 channels in Vector256s: on this
            // machine a Vector256 multiply-add costs half a Vector512 one, so the last block's empty lanes cost nothing, where
            // a Vector512 block spends a third of a projection onto 24 channels on them. The same sums in the same order as
            // Tile's, lane for lane.
            private void TileHalf<TCells, TFull>(Output output) where TCells : struct, IConstant where TFull : struct, IConstant
            {
                int n = TCells.Value, nb = TFull.Value;
                Vector512<float> a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71;
                Vector256<float> h0, h1, h2, h3, h4, h5, h6, h7;
                if (_fromBias)
                {
                    ref float bias = ref _bias;
                    var b0 = nb > 0 ? Vector512.LoadUnsafe(ref bias) : default;
                    var b1 = nb > 1 ? Vector512.LoadUnsafe(ref bias, 16) : default;
                    var bh = Vector256.LoadUnsafe(ref bias, (nuint)(16 * nb));
                    a00 = b0; a01 = b1; a10 = b0; a11 = b1; a20 = b0; a21 = b1; a30 = b0; a31 = b1;
                    a40 = b0; a41 = b1; a50 = b0; a51 = b1; a60 = b0; a61 = b1; a70 = b0; a71 = b1;
                    h0 = bh; h1 = bh; h2 = bh; h3 = bh; h4 = bh; h5 = bh; h6 = bh; h7 = bh;
                }
                else
                {
                    // The sums the runs before left in y.
                    a00 = nb > 0 ? output.Get(0, 0) : default; a01 = nb > 1 ? output.Get(0, 1) : default; h0 = output.GetHalf(0, nb);
                    a10 = n > 1 && nb > 0 ? output.Get(1, 0) : default; a11 = n > 1 && nb > 1 ? output.Get(1, 1) : default; h1 = n > 1 ? output.GetHalf(1, nb) : default;
                    a20 = n > 2 && nb > 0 ? output.Get(2, 0) : default; a21 = n > 2 && nb > 1 ? output.Get(2, 1) : default; h2 = n > 2 ? output.GetHalf(2, nb) : default;
                    a30 = n > 3 && nb > 0 ? output.Get(3, 0) : default; a31 = n > 3 && nb > 1 ? output.Get(3, 1) : default; h3 = n > 3 ? output.GetHalf(3, nb) : default;
                    a40 = n > 4 && nb > 0 ? output.Get(4, 0) : default; a41 = n > 4 && nb > 1 ? output.Get(4, 1) : default; h4 = n > 4 ? output.GetHalf(4, nb) : default;
                    a50 = n > 5 && nb > 0 ? output.Get(5, 0) : default; a51 = n > 5 && nb > 1 ? output.Get(5, 1) : default; h5 = n > 5 ? output.GetHalf(5, nb) : default;
                    a60 = n > 6 && nb > 0 ? output.Get(6, 0) : default; a61 = n > 6 && nb > 1 ? output.Get(6, 1) : default; h6 = n > 6 ? output.GetHalf(6, nb) : default;
                    a70 = n > 7 && nb > 0 ? output.Get(7, 0) : default; a71 = n > 7 && nb > 1 ? output.Get(7, 1) : default; h7 = n > 7 ? output.GetHalf(7, nb) : default;
                }
                nuint blockWeights = (nuint)_blockWeights, cell = (nuint)_input.Cell, lane = (nuint)_input.Lane;
                bool prefetch = _prefetch;
                for (int c0 = 0; c0 < _inChannels; c0 += 16)
                {
                    ref float xc = ref Unsafe.Add(ref _x, (c0 >> 4) * _input.Block);
                    ref float wc = ref Unsafe.Add(ref _w, c0 * 16);
                    int count = Math.Min(16, _inChannels - c0);
                    for (int l = 0; l < count; l++)
                    {
                        var w0 = nb > 0 ? Vector512.LoadUnsafe(ref wc) : default;
                        var w1 = nb > 1 ? Vector512.LoadUnsafe(ref wc, blockWeights) : default;
                        var wh = Vector256.LoadUnsafe(ref wc, (nuint)nb * blockWeights);
                        { var v = Vector512.Create(xc); if (nb > 0) a00 = Fused.MultiplyAdd(v, w0, a00); if (nb > 1) a01 = Fused.MultiplyAdd(v, w1, a01); h0 = Fused.MultiplyAdd(v.GetLower(), wh, h0); }
                        if (n > 1) { var v = Vector512.Create(Unsafe.Add(ref xc, cell)); if (nb > 0) a10 = Fused.MultiplyAdd(v, w0, a10); if (nb > 1) a11 = Fused.MultiplyAdd(v, w1, a11); h1 = Fused.MultiplyAdd(v.GetLower(), wh, h1); }
                        if (n > 2) { var v = Vector512.Create(Unsafe.Add(ref xc, 2 * cell)); if (nb > 0) a20 = Fused.MultiplyAdd(v, w0, a20); if (nb > 1) a21 = Fused.MultiplyAdd(v, w1, a21); h2 = Fused.MultiplyAdd(v.GetLower(), wh, h2); }
                        if (n > 3) { var v = Vector512.Create(Unsafe.Add(ref xc, 3 * cell)); if (nb > 0) a30 = Fused.MultiplyAdd(v, w0, a30); if (nb > 1) a31 = Fused.MultiplyAdd(v, w1, a31); h3 = Fused.MultiplyAdd(v.GetLower(), wh, h3); }
                        if (n > 4) { var v = Vector512.Create(Unsafe.Add(ref xc, 4 * cell)); if (nb > 0) a40 = Fused.MultiplyAdd(v, w0, a40); if (nb > 1) a41 = Fused.MultiplyAdd(v, w1, a41); h4 = Fused.MultiplyAdd(v.GetLower(), wh, h4); }
                        if (n > 5) { var v = Vector512.Create(Unsafe.Add(ref xc, 5 * cell)); if (nb > 0) a50 = Fused.MultiplyAdd(v, w0, a50); if (nb > 1) a51 = Fused.MultiplyAdd(v, w1, a51); h5 = Fused.MultiplyAdd(v.GetLower(), wh, h5); }
                        if (n > 6) { var v = Vector512.Create(Unsafe.Add(ref xc, 6 * cell)); if (nb > 0) a60 = Fused.MultiplyAdd(v, w0, a60); if (nb > 1) a61 = Fused.MultiplyAdd(v, w1, a61); h6 = Fused.MultiplyAdd(v.GetLower(), wh, h6); }
                        if (n > 7) { var v = Vector512.Create(Unsafe.Add(ref xc, 7 * cell)); if (nb > 0) a70 = Fused.MultiplyAdd(v, w0, a70); if (nb > 1) a71 = Fused.MultiplyAdd(v, w1, a71); h7 = Fused.MultiplyAdd(v.GetLower(), wh, h7); }
                        if (prefetch) Prefetch.Line(ref xc, 32);
                        xc = ref Unsafe.Add(ref xc, lane);
                        wc = ref Unsafe.Add(ref wc, 16);
                    }
                }
                bool none = _clamp.IsNone || !_lastRun;
                var low = Vector512.Create(none ? float.NegativeInfinity : _clamp.Low);
                var high = Vector512.Create(none ? float.PositiveInfinity : _clamp.High);
                if (nb > 0) PutBlock(ref output.Block(0), n, low, high, a00, a10, a20, a30, a40, a50, a60, a70);
                if (nb > 1) PutBlock(ref output.Block(1), n, low, high, a01, a11, a21, a31, a41, a51, a61, a71);
                PutHalfBlock(ref output.Block(nb), n, low.GetLower(), high.GetLower(), h0, h1, h2, h3, h4, h5, h6, h7);
            }

            // A half block's n cells, 16 floats apart from block: the sums in the lower 8 lanes, 0 in the upper 8 (the lanes
            // past the channels, which a depthwise layer reading the block takes as zero inputs). Before the last run the
            // upper lanes' zeros are only rewritten.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void PutHalfBlock(ref float block, int n, Vector256<float> low, Vector256<float> high, Vector256<float> c0, Vector256<float> c1,
                Vector256<float> c2, Vector256<float> c3, Vector256<float> c4, Vector256<float> c5, Vector256<float> c6, Vector256<float> c7)
            {
                var zero = Vector256<float>.Zero;
                Vector512.Create(OutputClamp.Apply(c0, low, high), zero).StoreUnsafe(ref block, 0);
                if (n > 1) Vector512.Create(OutputClamp.Apply(c1, low, high), zero).StoreUnsafe(ref block, 16);
                if (n > 2) Vector512.Create(OutputClamp.Apply(c2, low, high), zero).StoreUnsafe(ref block, 32);
                if (n > 3) Vector512.Create(OutputClamp.Apply(c3, low, high), zero).StoreUnsafe(ref block, 48);
                if (n > 4) Vector512.Create(OutputClamp.Apply(c4, low, high), zero).StoreUnsafe(ref block, 64);
                if (n > 5) Vector512.Create(OutputClamp.Apply(c5, low, high), zero).StoreUnsafe(ref block, 80);
                if (n > 6) Vector512.Create(OutputClamp.Apply(c6, low, high), zero).StoreUnsafe(ref block, 96);
                if (n > 7) Vector512.Create(OutputClamp.Apply(c7, low, high), zero).StoreUnsafe(ref block, 112);
            }

            // Output channel `lane` of the tile's blocks at cell j, summed on scalars in the same order (the fallback path).
            private float Scalar(int j, int lane, float sum)
            {
                ref float w = ref Unsafe.Add(ref _w, (lane >> 4) * _blockWeights + (lane & 15));
                for (int c = 0; c < _inChannels; c++)
                    sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref _x, _input.Of(c) + j * _input.Cell), Unsafe.Add(ref w, c * 16), sum);
                return _lastRun ? _clamp.Apply(sum) : sum;
            }

            private void Sums(int n, int nb, Output output)
            {
                switch (n * 4 + nb)
                {
                    case 8 * 4 + 3: Tile<C8, C3>(output); break;
                    case 8 * 4 + 2: Tile<C8, C2>(output); break;
                    case 8 * 4 + 1: Tile<C8, C1>(output); break;
                    case 7 * 4 + 3: Tile<C7, C3>(output); break;
                    case 7 * 4 + 2: Tile<C7, C2>(output); break;
                    case 7 * 4 + 1: Tile<C7, C1>(output); break;
                    case 6 * 4 + 3: Tile<C6, C3>(output); break;
                    case 6 * 4 + 2: Tile<C6, C2>(output); break;
                    case 6 * 4 + 1: Tile<C6, C1>(output); break;
                    case 5 * 4 + 3: Tile<C5, C3>(output); break;
                    case 5 * 4 + 2: Tile<C5, C2>(output); break;
                    case 5 * 4 + 1: Tile<C5, C1>(output); break;
                    case 4 * 4 + 3: Tile<C4, C3>(output); break;
                    case 4 * 4 + 2: Tile<C4, C2>(output); break;
                    case 4 * 4 + 1: Tile<C4, C1>(output); break;
                    case 3 * 4 + 3: Tile<C3, C3>(output); break;
                    case 3 * 4 + 2: Tile<C3, C2>(output); break;
                    case 3 * 4 + 1: Tile<C3, C1>(output); break;
                    case 2 * 4 + 3: Tile<C2, C3>(output); break;
                    case 2 * 4 + 2: Tile<C2, C2>(output); break;
                    case 2 * 4 + 1: Tile<C2, C1>(output); break;
                    case 1 * 4 + 3: Tile<C1, C3>(output); break;
                    case 1 * 4 + 2: Tile<C1, C2>(output); break;
                    default: Tile<C1, C1>(output); break;
                }
            }

            // TCells cells x TBlocks blocks of 16 output channels; unused accumulators vanish at JIT time.
            private void Tile<TCells, TBlocks>(Output output) where TCells : struct, IConstant where TBlocks : struct, IConstant
            {
                int n = TCells.Value, nb = TBlocks.Value;
                Vector512<float> a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32, a40, a41, a42, a50, a51, a52, a60, a61, a62, a70, a71, a72;
                if (_fromBias)
                {
                    ref float bias = ref _bias;
                    var b0 = Vector512.LoadUnsafe(ref bias);
                    var b1 = nb > 1 ? Vector512.LoadUnsafe(ref bias, 16) : default;
                    var b2 = nb > 2 ? Vector512.LoadUnsafe(ref bias, 32) : default;
                    a00 = b0; a01 = b1; a02 = b2; a10 = b0; a11 = b1; a12 = b2; a20 = b0; a21 = b1; a22 = b2; a30 = b0; a31 = b1; a32 = b2;
                    a40 = b0; a41 = b1; a42 = b2; a50 = b0; a51 = b1; a52 = b2; a60 = b0; a61 = b1; a62 = b2; a70 = b0; a71 = b1; a72 = b2;
                }
                else
                {
                    // The sums the runs before left in y.
                    a00 = output.Get(0, 0); a01 = nb > 1 ? output.Get(0, 1) : default; a02 = nb > 2 ? output.Get(0, 2) : default;
                    a10 = n > 1 ? output.Get(1, 0) : default; a11 = n > 1 && nb > 1 ? output.Get(1, 1) : default; a12 = n > 1 && nb > 2 ? output.Get(1, 2) : default;
                    a20 = n > 2 ? output.Get(2, 0) : default; a21 = n > 2 && nb > 1 ? output.Get(2, 1) : default; a22 = n > 2 && nb > 2 ? output.Get(2, 2) : default;
                    a30 = n > 3 ? output.Get(3, 0) : default; a31 = n > 3 && nb > 1 ? output.Get(3, 1) : default; a32 = n > 3 && nb > 2 ? output.Get(3, 2) : default;
                    a40 = n > 4 ? output.Get(4, 0) : default; a41 = n > 4 && nb > 1 ? output.Get(4, 1) : default; a42 = n > 4 && nb > 2 ? output.Get(4, 2) : default;
                    a50 = n > 5 ? output.Get(5, 0) : default; a51 = n > 5 && nb > 1 ? output.Get(5, 1) : default; a52 = n > 5 && nb > 2 ? output.Get(5, 2) : default;
                    a60 = n > 6 ? output.Get(6, 0) : default; a61 = n > 6 && nb > 1 ? output.Get(6, 1) : default; a62 = n > 6 && nb > 2 ? output.Get(6, 2) : default;
                    a70 = n > 7 ? output.Get(7, 0) : default; a71 = n > 7 && nb > 1 ? output.Get(7, 1) : default; a72 = n > 7 && nb > 2 ? output.Get(7, 2) : default;
                }
                nuint blockWeights = (nuint)_blockWeights, cell = (nuint)_input.Cell;
                // A block of 16 input channels at a time: within it the next channel is a fixed step away in x (Lane) and
                // 16 floats on in w, so the loop only moves two references.
                nuint lane = (nuint)_input.Lane;
                bool prefetch = _prefetch;
                for (int c0 = 0; c0 < _inChannels; c0 += 16)
                {
                    ref float xc = ref Unsafe.Add(ref _x, (c0 >> 4) * _input.Block);
                    ref float wc = ref Unsafe.Add(ref _w, c0 * 16);
                    int count = Math.Min(16, _inChannels - c0);
                    for (int l = 0; l < count; l++)
                    {
                        var w0 = Vector512.LoadUnsafe(ref wc);
                        var w1 = nb > 1 ? Vector512.LoadUnsafe(ref wc, blockWeights) : default;
                        var w2 = nb > 2 ? Vector512.LoadUnsafe(ref wc, 2 * blockWeights) : default;
                        { var v = Vector512.Create(xc); a00 = Fused.MultiplyAdd(v, w0, a00); if (nb > 1) a01 = Fused.MultiplyAdd(v, w1, a01); if (nb > 2) a02 = Fused.MultiplyAdd(v, w2, a02); }
                        if (n > 1) { var v = Vector512.Create(Unsafe.Add(ref xc, cell)); a10 = Fused.MultiplyAdd(v, w0, a10); if (nb > 1) a11 = Fused.MultiplyAdd(v, w1, a11); if (nb > 2) a12 = Fused.MultiplyAdd(v, w2, a12); }
                        if (n > 2) { var v = Vector512.Create(Unsafe.Add(ref xc, 2 * cell)); a20 = Fused.MultiplyAdd(v, w0, a20); if (nb > 1) a21 = Fused.MultiplyAdd(v, w1, a21); if (nb > 2) a22 = Fused.MultiplyAdd(v, w2, a22); }
                        if (n > 3) { var v = Vector512.Create(Unsafe.Add(ref xc, 3 * cell)); a30 = Fused.MultiplyAdd(v, w0, a30); if (nb > 1) a31 = Fused.MultiplyAdd(v, w1, a31); if (nb > 2) a32 = Fused.MultiplyAdd(v, w2, a32); }
                        if (n > 4) { var v = Vector512.Create(Unsafe.Add(ref xc, 4 * cell)); a40 = Fused.MultiplyAdd(v, w0, a40); if (nb > 1) a41 = Fused.MultiplyAdd(v, w1, a41); if (nb > 2) a42 = Fused.MultiplyAdd(v, w2, a42); }
                        if (n > 5) { var v = Vector512.Create(Unsafe.Add(ref xc, 5 * cell)); a50 = Fused.MultiplyAdd(v, w0, a50); if (nb > 1) a51 = Fused.MultiplyAdd(v, w1, a51); if (nb > 2) a52 = Fused.MultiplyAdd(v, w2, a52); }
                        if (n > 6) { var v = Vector512.Create(Unsafe.Add(ref xc, 6 * cell)); a60 = Fused.MultiplyAdd(v, w0, a60); if (nb > 1) a61 = Fused.MultiplyAdd(v, w1, a61); if (nb > 2) a62 = Fused.MultiplyAdd(v, w2, a62); }
                        if (n > 7) { var v = Vector512.Create(Unsafe.Add(ref xc, 7 * cell)); a70 = Fused.MultiplyAdd(v, w0, a70); if (nb > 1) a71 = Fused.MultiplyAdd(v, w1, a71); if (nb > 2) a72 = Fused.MultiplyAdd(v, w2, a72); }
                        if (prefetch) Prefetch.Line(ref xc, 32);
                        xc = ref Unsafe.Add(ref xc, lane);
                        wc = ref Unsafe.Add(ref wc, 16);
                    }
                }
                // Block by block in straight lines (a loop choosing each block's accumulators made the JIT copy and spill
                // them), each sum through max and min unconditionally: without bounds (or before the last run) they are ±∞,
                // which give every value back bit for bit, NaN and −0 included (OutputClamp.Apply), for two instructions on
                // pipes the multiply-adds leave free where a test and branch per store took as many.
                bool none = _clamp.IsNone || !_lastRun;
                var low = Vector512.Create(none ? float.NegativeInfinity : _clamp.Low);
                var high = Vector512.Create(none ? float.PositiveInfinity : _clamp.High);
                PutBlock(ref output.Block(0), n, low, high, a00, a10, a20, a30, a40, a50, a60, a70);
                if (nb > 1) PutBlock(ref output.Block(1), n, low, high, a01, a11, a21, a31, a41, a51, a61, a71);
                if (nb > 2) PutBlock(ref output.Block(2), n, low, high, a02, a12, a22, a32, a42, a52, a62, a72);
            }

            // A block's n cells, 16 floats apart from block.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void PutBlock(ref float block, int n, Vector512<float> low, Vector512<float> high, Vector512<float> c0, Vector512<float> c1,
                Vector512<float> c2, Vector512<float> c3, Vector512<float> c4, Vector512<float> c5, Vector512<float> c6, Vector512<float> c7)
            {
                OutputClamp.Apply(c0, low, high).StoreUnsafe(ref block, 0);
                if (n > 1) OutputClamp.Apply(c1, low, high).StoreUnsafe(ref block, 16);
                if (n > 2) OutputClamp.Apply(c2, low, high).StoreUnsafe(ref block, 32);
                if (n > 3) OutputClamp.Apply(c3, low, high).StoreUnsafe(ref block, 48);
                if (n > 4) OutputClamp.Apply(c4, low, high).StoreUnsafe(ref block, 64);
                if (n > 5) OutputClamp.Apply(c5, low, high).StoreUnsafe(ref block, 80);
                if (n > 6) OutputClamp.Apply(c6, low, high).StoreUnsafe(ref block, 96);
                if (n > 7) OutputClamp.Apply(c7, low, high).StoreUnsafe(ref block, 112);
            }
        }

        // Where a 1x1 tile's sums go: cell j of block b at b * BlockStride + j * 16.
        private readonly ref struct Output
        {
            private readonly ref float _y;
            private readonly int _blockStride;

            public Output(ref float y, int blockStride)
            {
                _y = ref y;
                _blockStride = blockStride;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector512<float> Get(int j, int b) => Vector512.LoadUnsafe(ref Unsafe.Add(ref _y, b * _blockStride + j * 16));

            // The lower 8 lanes of cell j of block b (a half block's sums).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector256<float> GetHalf(int j, int b) => Vector256.LoadUnsafe(ref Unsafe.Add(ref _y, b * _blockStride + j * 16));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public ref float Block(int b) => ref Unsafe.Add(ref _y, b * _blockStride);
        }

        // n (1-8) output cells of a row: the sums over the k x k taps, row by row, from the bias, for one block's 16 channels.
        // inputRow: the padded input's row of the first output's top-left tap; rowStride between input rows; step between outputs;
        // the taps `dilation` rows and cells apart. TKernel: the kernel's side (C3 or C5), a constant in each tile's loops.
        private static void DepthwiseCells<TKernel>(int n, ref float inputRow, int rowStride, int step, int dilation, ref float taps, ref float bias, OutputClamp clamp, ref float y)
            where TKernel : struct, IConstant
        {
            int kernel = TKernel.Value;
            rowStride *= dilation;
            if (!Vectorized && Vectorized256)
            {
                // The block's two halves one after the other: the same sums, lane for lane.
                DepthwiseCells256<TKernel>(n, ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y);
                DepthwiseCells256<TKernel>(n, ref Unsafe.Add(ref inputRow, 8), rowStride, step, dilation * 16, ref Unsafe.Add(ref taps, 8), ref Unsafe.Add(ref bias, 8), clamp, ref Unsafe.Add(ref y, 8));
                return;
            }
            if (!Vectorized)
            {
                for (int j = 0; j < n; j++)
                    for (int l = 0; l < 16; l++)
                    {
                        float sum = Unsafe.Add(ref bias, l);
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                                sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref inputRow, ky * rowStride + j * step + kx * dilation * 16 + l), Unsafe.Add(ref taps, (ky * kernel + kx) * 16 + l), sum);
                        Unsafe.Add(ref y, j * 16 + l) = clamp.Apply(sum);
                    }
                return;
            }
            switch (n)
            {
                case 8: DepthwiseTile<C8, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 7: DepthwiseTile<C7, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 6: DepthwiseTile<C6, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 5: DepthwiseTile<C5, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 4: DepthwiseTile<C4, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 3: DepthwiseTile<C3, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                case 2: DepthwiseTile<C2, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
                default: DepthwiseTile<C1, TKernel>(ref inputRow, rowStride, step, dilation * 16, ref taps, ref bias, clamp, ref y); break;
            }
        }

        // tapStep: floats between a row's taps (16 cells' lanes times the dilation).
        private static void DepthwiseTile<TCells, TKernel>(ref float inputRow, int rowStride, int step, int tapStep, ref float taps, ref float bias, OutputClamp clamp, ref float y)
            where TCells : struct, IConstant where TKernel : struct, IConstant
        {
            int n = TCells.Value, kernel = TKernel.Value;
            var b = Vector512.LoadUnsafe(ref bias);
            Vector512<float> a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
            nuint s = (nuint)step;
            for (int ky = 0; ky < kernel; ky++)
            {
                ref float row = ref Unsafe.Add(ref inputRow, ky * rowStride);
                for (int kx = 0; kx < kernel; kx++)
                {
                    var k = Vector512.LoadUnsafe(ref taps, (nuint)((ky * kernel + kx) * 16));
                    ref float r = ref Unsafe.Add(ref row, kx * tapStep);
                    a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r), k, a0);
                    if (n > 1) a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, s), k, a1);
                    if (n > 2) a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 2 * s), k, a2);
                    if (n > 3) a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 3 * s), k, a3);
                    if (n > 4) a4 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 4 * s), k, a4);
                    if (n > 5) a5 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 5 * s), k, a5);
                    if (n > 6) a6 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 6 * s), k, a6);
                    if (n > 7) a7 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, 7 * s), k, a7);
                }
            }
            bool none = clamp.IsNone;
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            OutputClamp.Store(a0, none, low, high, ref y);
            if (n > 1) OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref y, 16));
            if (n > 2) OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref y, 32));
            if (n > 3) OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref y, 48));
            if (n > 4) OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref y, 64));
            if (n > 5) OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref y, 80));
            if (n > 6) OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref y, 96));
            if (n > 7) OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref y, 112));
        }

        private static void RequireKernel(int kernel)
        {
            if (kernel is not (3 or 5)) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Expected a 3x3 or 5x5 depthwise kernel.");
        }
    }
}
