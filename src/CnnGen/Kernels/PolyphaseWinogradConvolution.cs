using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A stride-2 4x4 convolution (DCGAN's discriminator, PatchGAN) by Winograd's method through the polyphase split, on the
    /// Vector512 path, or on Vector256 without AVX-512 (LaneTileLayout.Vector256.cs): 36 multiplications per 2x2 output
    /// tile and input channel instead of 64 (9 per output instead of 16).
    /// The filters are transformed once per weight change (<see cref="TransformFilters"/>); <see cref="Pays"/> says where
    /// that measured faster than StridedConvolution's direct kernels.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Along one axis, y[i] = g0·d[2i] + g1·d[2i+1] + g2·d[2i+2] + g3·d[2i+3]: a stride-1 two-tap correlation of the even
    /// samples with (g0, g2) plus one of the odd samples with (g1, g3), each by Winograd's F(2, 2) (points 0, 1, ∞: 3
    /// products for 2 outputs). So a 2-output tile reads a 6-sample window d0..d5 (4 apart) and has 6 "positions", with
    /// block-diagonal transforms:
    /// Bᵀ: (d0 − d2, d2, d4 − d2) for the evens, (d1 − d3, d3, d5 − d3) for the odds;
    /// G: (g0, g0 + g2, g2) and (g1, g1 + g3, g3);
    /// Aᵀ: y0 = m0 + m1 + m3 + m4, y1 = m1 + m2 + m4 + m5.
    /// In two dimensions the transforms apply along rows and columns: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A over 6x6 windows (4
    /// apart) of the zero-padded input, the sum of the four phase convolutions (2x2 kernels each by F(2x2, 2x2)).
    /// </para>
    /// <para>
    /// Everything else is <see cref="WinogradF4Convolution"/>'s: channels in the vector lanes, the input padded as
    /// [group][row][column][16 channels], V[position][group][tile][16], the 36 GEMMs by its register tiles, the output
    /// transform adding the bias (and ReLU) in lanes, and the 16x16 transposes back to NCHW.
    /// </para>
    /// <para>
    /// Precision: every constant is ±1 and G only adds two taps, so each product carries at most two roundings more than
    /// the definition's (PolyphaseWinogradConvolutionTests: within 1e-5 of the sum of the magnitudes of the products).
    /// </para>
    /// </remarks>
    internal static partial class PolyphaseWinogradConvolution
    {
        private const int V = 16;
        /// <summary>
        /// The layer's buffers: tiles of 2x2 outputs, each reading a 6x6 window (4 apart) of the input padded so that every
        /// window and every input cell lies inside; 36 positions over the input channels.
        /// </summary>
        public static LaneTileLayout LayoutOf(int inChannels, int height, int width, int outChannels, int padding)
        {
            if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels));
            if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
            if (padding < 0 || height + 2 * padding < 4 || width + 2 * padding < 4)
                throw new ArgumentOutOfRangeException(nameof(padding), padding, "The 4x4 kernel does not fit the padded input.");
            int outHeight = (height + 2 * padding - 4) / 2 + 1, outWidth = (width + 2 * padding - 4) / 2 + 1;
            int tileRows = (outHeight + 1) / 2, tileColumns = (outWidth + 1) / 2;
            return new LaneTileLayout(inChannels, height, width, outChannels, padding, outHeight, outWidth, tileRows, tileColumns,
                Math.Max(4 * tileRows + 2, height + padding), Math.Max(4 * tileColumns + 2, width + padding), positions: 36, depth: inChannels);
        }

        /// <summary>Whether this process can run the kernel at all: AVX-512, or AVX2 and FMA (LaneTileLayout.Vector256.cs), with SIMD enabled.</summary>
        public static bool Available => WinogradF4Convolution.RunsHere;

        /// <summary>
        /// Where the kernel measured faster than StridedConvolution's direct kernels (KernelBench polyphase, 23 shapes, weights
        /// prepared once on both sides, interleaved): from 16 input channels and 32 output channels, on 9+ tiles covering
        /// their outputs with at most a quarter of the cells wasted (16x16, 15x15, 8x8, 6x6 outputs: 1.11-1.52x, DCGAN's
        /// 64 -> 128 and 128 -> 256 1.39-1.42x), or on 4+ tiles while the filters (36·Cin·Cout floats) stay within 1 MB (64 -> 64
        /// onto 4x4 1.55x, onto 5x5 1.19x); where 512-bit multiply-adds run at half rate (<see cref="Simd.HalfRateVector512"/>,
        /// session 47) on 4+ tiles up to Cin·Cout 131072 (256 -> 512 onto 4x4 1.39x,
        /// 128 -> 128 onto 5x5 1.16x). Elsewhere the filters' bytes, 2.25x the weights', outweigh the saving: 512 -> 512 onto
        /// 4x4 0.97x; and a 3-channel stem 0.59x.
        /// </summary>
        public static bool Pays(int inChannels, int height, int width, int outChannels, int padding)
        {
            if (!Available || !Route || inChannels < MinimumInChannels || outChannels < MinimumOutChannels || padding < 0
                || height + 2 * padding < 4 || width + 2 * padding < 4) return false;
            int outHeight = (height + 2 * padding - 4) / 2 + 1, outWidth = (width + 2 * padding - 4) / 2 + 1;
            int tiles = (outHeight + 1) / 2 * ((outWidth + 1) / 2), cells = outHeight * outWidth;
            if (!WinogradF4Convolution.Wide && tiles < MinimumTiles256 && (long)inChannels * outChannels > MaximumFewTileFilters256) return false;
            if (tiles >= 9 && cells >= 3 * tiles) return true;
            return tiles >= 4 && FewTileFiltersPay(inChannels, outChannels, Simd.HalfRateVector512);
        }

        /// <summary>Whether layers where it pays take the kernel (benchmarks turn it off, in a trainer's B rounds, to compare).</summary>
        internal static bool Route { get; set; } = true;

        private const int MinimumInChannels = 16, MinimumOutChannels = 32;

        // On Vector256 (session 60, Zen 3, KernelBench polyphase against the Vector256 lanes kernel) the same rule holds, 1.06-1.66x
        // (64x32x32 -> 128 1.49x, 128x16x16 -> 256 1.29x, 64x64x64 -> 128 1.66x, 128x12x12 -> 128 onto 6x6 1.06x, 16x16x16 -> 32
        // 1.24x, 64x8x8 -> 64 onto 4x4 1.07x), but for wide layers on fewer than 16 tiles (256x12x12 -> 256 onto 6x6 0.85x;
        // 256x16x16 -> 256 onto 8x8, 16 tiles, 1.00x).
        private const int MinimumTiles256 = 16;
        private const long MaximumFewTileFilters256 = 32768;
        // Cin·Cout up to which 4 to 8 tiles, or tiles wasting more than a quarter of their cells, pay where 512-bit multiply-adds
        // run at half rate (Simd.HalfRateVector512; session 47, KernelBench polyphase): 256 -> 512 onto 4x4 1.39x, 128 -> 128
        // onto 5x5 1.16x, 64 -> 64 onto 5x5 1.13x; 512 -> 512 onto 4x4 0.97x.
        private const long MaximumFewTileFilters = 131072;

        // Elsewhere session 20's limit, the filters within the L2 (256 -> 512 measured 0.48-0.59x then): a full-rate unit's
        // direct kernels do the same arithmetic in half the time against the same filter bytes.
        private const long SmallFilters = 256 * 1024; // floats: 1 MB

        // Whether 4 to 8 tiles, or tiles wasting more than a quarter of their cells, pay for these filters.
        internal static bool FewTileFiltersPay(int inChannels, int outChannels, bool halfRateVector512) =>
            halfRateVector512 ? (long)inChannels * outChannels <= MaximumFewTileFilters : 36L * inChannels * outChannels <= SmallFilters;

        /// <summary>
        /// U = G g Gᵀ (6x6) of each 4x4 filter of a PyTorch-layout weight [outChannels x inChannels x 4 x 4], into
        /// <paramref name="filters"/> (<see cref="LaneTileLayout.FiltersLength"/> floats); the lanes past the last output channel are
        /// zero. Once per weight change; each value a sum of up to four weights, added in double and rounded once.
        /// </summary>
        public static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in LaneTileLayout l)
        {
            LaneTileLayout.Require(weight.Length >= l.OutChannels * l.InChannels * 16, nameof(weight));
            LaneTileLayout.Require(filters.Length >= l.FiltersLength, nameof(filters));
            filters.Slice(0, l.FiltersLength).Clear();
            Span<double> rows = stackalloc double[24];
            // Output channels innermost: each position's row of lanes fills front to back (a training pass runs this once a
            // pass and thread).
            for (int ic = 0; ic < l.InChannels; ic++)
                for (int oc = 0; oc < l.OutChannels; oc++)
                {
                    var g = weight.Slice((oc * l.InChannels + ic) * 16, 16);
                    // G along the rows (the kernel's columns), then down the columns.
                    for (int ky = 0; ky < 4; ky++)
                    {
                        double g0 = g[ky * 4], g1 = g[ky * 4 + 1], g2 = g[ky * 4 + 2], g3 = g[ky * 4 + 3];
                        rows[ky * 6] = g0; rows[ky * 6 + 1] = g0 + g2; rows[ky * 6 + 2] = g2;
                        rows[ky * 6 + 3] = g1; rows[ky * 6 + 4] = g1 + g3; rows[ky * 6 + 5] = g3;
                    }
                    ref float u = ref Unsafe.Add(ref MemoryMarshal.GetReference(filters), WinogradF4Convolution.FilterAt(ic, oc, l.InChannels, l.OutGroups));
                    nuint stride = (nuint)l.FilterPositionStride;
                    for (int b = 0; b < 6; b++)
                    {
                        double r0 = rows[b], r1 = rows[6 + b], r2 = rows[12 + b], r3 = rows[18 + b];
                        Unsafe.Add(ref u, (nuint)b * stride) = (float)r0;
                        Unsafe.Add(ref u, (nuint)(6 + b) * stride) = (float)(r0 + r2);
                        Unsafe.Add(ref u, (nuint)(12 + b) * stride) = (float)r2;
                        Unsafe.Add(ref u, (nuint)(18 + b) * stride) = (float)r1;
                        Unsafe.Add(ref u, (nuint)(24 + b) * stride) = (float)(r1 + r3);
                        Unsafe.Add(ref u, (nuint)(30 + b) * stride) = (float)r3;
                    }
                }
        }

        /// <summary>
        /// y = conv2d(x, weight, bias, 4x4, stride 2, padding) then ReLU when asked, for one sample: x [InChannels x Height x
        /// Width], filters from <see cref="TransformFilters"/>, bias [OutChannels] or empty, y [OutChannels x OH x OW] with
        /// OH = (Height + 2p − 4) / 2 + 1. Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y,
            Span<float> scratch, bool relu, in LaneTileLayout l) =>
            LaneTileLayout.Forward<Transforms>(x, filters, bias, y, scratch, relu, l);

        private readonly struct Transforms : ILaneTileTransforms
        {
            public static string Kernel => nameof(PolyphaseWinogradConvolution);
            public static void Input(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l) => TransformInput(padded, transformed, first, count, l);
            public static void Output(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l) =>
                TransformOutput(products, staging, outputs, first, count, relu, l);
            public static void Input256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l) => TransformInput256(padded, transformed, first, count, l);
            public static void Output256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l) =>
                TransformOutput256(products, staging, outputs, first, count, relu, l);
        }

        // V[position][group][tile − first][16 channels] = Bᵀ d B of each tile's 6x6 window (4 rows and columns apart), a
        // column of positions at a time: the row pass's value b of each window row, then Bᵀ down them.
        internal static void TransformInput(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint row = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (4 * ty * l.PaddedWidth + 4 * tx) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    ColumnOfV<C0>(ref d, row, ref target, positionStride);
                    ColumnOfV<C1>(ref d, row, ref target, positionStride);
                    ColumnOfV<C2>(ref d, row, ref target, positionStride);
                    ColumnOfV<C3>(ref d, row, ref target, positionStride);
                    ColumnOfV<C4>(ref d, row, ref target, positionStride);
                    ColumnOfV<C5>(ref d, row, ref target, positionStride);
                }
            }
        }

        // Positions (·, TColumn) of one window: Bᵀ along each of its 6 rows for column TColumn, then Bᵀ down those 6 values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ColumnOfV<TColumn>(ref float d, nuint row, ref float target, nuint positionStride) where TColumn : struct, IConstant
        {
            var r0 = Across<TColumn>(ref d);
            var r1 = Across<TColumn>(ref Unsafe.Add(ref d, row));
            var r2 = Across<TColumn>(ref Unsafe.Add(ref d, 2 * row));
            var r3 = Across<TColumn>(ref Unsafe.Add(ref d, 3 * row));
            var r4 = Across<TColumn>(ref Unsafe.Add(ref d, 4 * row));
            var r5 = Across<TColumn>(ref Unsafe.Add(ref d, 5 * row));
            ref float to = ref Unsafe.Add(ref target, (nuint)TColumn.Value * positionStride);
            nuint down = 6 * positionStride;
            (r0 - r2).StoreUnsafe(ref to);
            r2.StoreUnsafe(ref to, down);
            (r4 - r2).StoreUnsafe(ref to, 2 * down);
            (r1 - r3).StoreUnsafe(ref to, 3 * down);
            r3.StoreUnsafe(ref to, 4 * down);
            (r5 - r3).StoreUnsafe(ref to, 5 * down);
        }

        // Value TColumn of Bᵀ along a window row of 6 cells: (d0 − d2, d2, d4 − d2, d1 − d3, d3, d5 − d3).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Across<TColumn>(ref float d) where TColumn : struct, IConstant => TColumn.Value switch
        {
            0 => Vector512.LoadUnsafe(ref d) - Vector512.LoadUnsafe(ref d, 2 * V),
            1 => Vector512.LoadUnsafe(ref d, 2 * V),
            2 => Vector512.LoadUnsafe(ref d, 4 * V) - Vector512.LoadUnsafe(ref d, 2 * V),
            3 => Vector512.LoadUnsafe(ref d, V) - Vector512.LoadUnsafe(ref d, 3 * V),
            4 => Vector512.LoadUnsafe(ref d, 3 * V),
            _ => Vector512.LoadUnsafe(ref d, 5 * V) - Vector512.LoadUnsafe(ref d, 3 * V),
        };

        // Y = Aᵀ M A + bias per tile and group of 16 output channels, ReLU when asked; into outputs[group][cell][16 channels].
        internal static void TransformOutput(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), LaneTileLayout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int h = l.OutHeight, w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + group * V);
                    // Rows: r[a] = (M[a][·] A), two values each; then down the columns.
                    var (r00, r01) = AlongRow(ref m, positionStride);
                    var (r10, r11) = AlongRow(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (r20, r21) = AlongRow(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    var (r30, r31) = AlongRow(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (r40, r41) = AlongRow(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (r50, r51) = AlongRow(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    var y00 = Finish((r00 + r10) + (r30 + r40), bias, relu);
                    var y01 = Finish((r01 + r11) + (r31 + r41), bias, relu);
                    var y10 = Finish((r10 + r20) + (r40 + r50), bias, relu);
                    var y11 = Finish((r11 + r21) + (r41 + r51), bias, relu);
                    int oy = 2 * ty, ox = 2 * tx;
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride);
                    WinogradF4Convolution.Put(ref target, oy, ox, y00, h, w);
                    WinogradF4Convolution.Put(ref target, oy, ox + 1, y01, h, w);
                    WinogradF4Convolution.Put(ref target, oy + 1, ox, y10, h, w);
                    WinogradF4Convolution.Put(ref target, oy + 1, ox + 1, y11, h, w);
                }
            }
        }

        // Aᵀ along one row of 6 positions: (m0 + m1 + m3 + m4, m1 + m2 + m4 + m5), each as two sums of pairs.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>) AlongRow(ref float m, nuint stride)
        {
            var m1 = Vector512.LoadUnsafe(ref m, stride);
            var m4 = Vector512.LoadUnsafe(ref m, 4 * stride);
            return ((Vector512.LoadUnsafe(ref m) + m1) + (Vector512.LoadUnsafe(ref m, 3 * stride) + m4),
                (m1 + Vector512.LoadUnsafe(ref m, 2 * stride)) + (m4 + Vector512.LoadUnsafe(ref m, 5 * stride)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Finish(Vector512<float> value, Vector512<float> bias, bool relu) =>
            relu ? Elementwise.Relu(value + bias) : value + bias;
    }
}
