using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// PyTorch's <c>ConvTranspose2d(kernel 4, stride 2, padding 1)</c> (DCGAN's generator, the input gradient of a 4x4
    /// stride-2 convolution) by Winograd's method on each of its four output phases, on the Vector512 path, or on Vector256
    /// without AVX-512 (LaneTileLayout.Vector256.cs): 36 multiplications per 4x4 output tile and input channel instead of
    /// 64 (2.25 per output instead of 4). The filters are
    /// transformed once per weight change (<see cref="TransformFilters"/>); <see cref="Pays"/> says where that measured faster
    /// than <see cref="TransposedConvolution"/>'s product and col2im.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Along one axis the layer writes y[2i] = x[i]·w1 + x[i−1]·w3 and y[2i+1] = x[i+1]·w0 + x[i]·w2: each output phase is a
    /// stride-1 two-tap correlation of the input, (w3, w1) for the even outputs and (w2, w0) for the odd ones. A tile of 4
    /// outputs (2 of each phase) reads the 4 input samples d0..d3 = x[2t−1..2t+2] (the input padded by one, windows 2 apart)
    /// and takes Winograd's F(2, 2) (points 0, 1, ∞: 3 products for 2 outputs) once per phase: 6 "positions",
    /// Bᵀ: (d0 − d1, d1, d2 − d1) for the even outputs, (d1 − d2, d2, d3 − d2) for the odd ones;
    /// G: (w3, w3 + w1, w1) and (w2, w2 + w0, w0);
    /// Aᵀ: (m0 + m1, m1 + m2) and (m3 + m4, m4 + m5), the even and the odd outputs.
    /// In two dimensions along rows and columns: a 4x4 input window gives 36 positions, each with its own filter, and Aᵀ M A
    /// gives the 4x4 output tile, the four phases interleaved.
    /// </para>
    /// <para>
    /// On few tiles with large filters (<see cref="LayoutFor"/>) the same frame runs the phases directly instead: 4 positions
    /// (the output phases), a tile per input cell, each GEMM over the 2x2 taps' channels, U the weights as they are (16
    /// floats per input and output channel instead of 36), no transforms.
    /// </para>
    /// <para>
    /// Everything else is <see cref="PolyphaseWinogradConvolution"/>'s (which runs the convolution this one transposes):
    /// channels in the vector lanes, the input padded as [group][row][column][16 channels], V[position][group][tile][16],
    /// the 36 GEMMs by <see cref="WinogradF4Convolution"/>'s register tiles, the output transform adding the bias in lanes,
    /// and the 16x16 transposes back to NCHW.
    /// </para>
    /// <para>
    /// Precision: every constant is ±1 and G only adds two taps, so each product carries at most two roundings more than
    /// the definition's (TransposedWinogradConvolutionTests: within 1e-5 of the sum of the magnitudes of the products).
    /// </para>
    /// </remarks>
    internal static partial class TransposedWinogradConvolution
    {
        private const int V = 16;
        /// <summary>
        /// The layer's buffers: by Winograd (36 positions, a tile of 2x2 input cells reading a 4x4 window two apart, giving
        /// 4x4 outputs), or with <paramref name="phases"/> directly (4 positions, the output phases, a tile of one input cell
        /// reading its 3x3 neighbourhood, the GEMMs over the 4 taps' whole groups of channels: 16 weights' floats per input and
        /// output channel instead of 36). The input one cell in from the top and the left.
        /// </summary>
        public static LaneTileLayout LayoutOf(int inChannels, int height, int width, int outChannels, bool phases = false)
        {
            if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels));
            if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels));
            if (height < 1) throw new ArgumentOutOfRangeException(nameof(height));
            if (width < 1) throw new ArgumentOutOfRangeException(nameof(width));
            int tileRows = phases ? height : (height + 1) / 2, tileColumns = phases ? width : (width + 1) / 2;
            return new LaneTileLayout(inChannels, height, width, outChannels, padding: 1, 2 * height, 2 * width, tileRows, tileColumns,
                phases ? height + 2 : 2 * tileRows + 2, phases ? width + 2 : 2 * tileColumns + 2,
                positions: phases ? 4 : 36, depth: phases ? 4 * ((inChannels + V - 1) / V) * V : inChannels, phases);
        }

        /// <summary>Whether this process can run the kernel at all: AVX-512, or AVX2 and FMA (LaneTileLayout.Vector256.cs), with SIMD enabled.</summary>
        public static bool Available => WinogradF4Convolution.RunsHere;

        /// <summary>Whether the kernel computes this layer at all: kernel 4, stride 2, padding 1, no output padding (groups and dilation are always 1 here).</summary>
        public static bool Handles(in TransposedConvolutionGeometry g) =>
            g.KernelHeight == 4 && g.KernelWidth == 4 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PaddingHeight == 1 && g.PaddingWidth == 1
            && g.OutputPaddingHeight == 0 && g.OutputPaddingWidth == 0;

        /// <summary>
        /// Where the kernel measured faster than <see cref="TransposedConvolution"/>'s product and col2im, weights prepared once
        /// (KernelBench <c>transposed4</c>): see the rule's figures in benchmarks/README.md.
        /// </summary>
        public static bool Pays(in TransposedConvolutionGeometry g) =>
            Available && Route && Handles(g) && g.InChannels >= MinimumInChannels && g.OutChannels >= MinimumOutChannels
            && (WinogradF4Convolution.Wide || !PhasesPay(g, halfRateVector512: false));

        // On Vector256 (session 60, Zen 3, KernelBench transposed4 against the product and col2im) the Winograd tiles win from 8
        // channels each way, 1.04-3.13x (128x16x16 -> 64 1.99x, 256x8x8 -> 128 1.25x, 16x16x16 -> 16 3.13x, 32x32x32 -> 8 1.25x),
        // the direct phases nowhere they would be taken (512x4x4 -> 256 0.61x, 1024x4x4 -> 512 0.62x): so no phases there, and
        // the layers that would take them keep col2im (Winograd 0.90x and 1.09x on those two).
        private static bool PhasesHere(in TransposedConvolutionGeometry g) => WinogradF4Convolution.Wide && PhasesPay(g, Simd.HalfRateVector512);

        /// <summary>
        /// The layer's layout where the kernel pays: by Winograd, or by the direct phases on 4 tiles or fewer (inputs of 4x4
        /// and less) once the Winograd filters pass 32 MB where 512-bit multiply-adds run at half rate (Zen 4), 8 MB elsewhere
        /// (<see cref="Simd.HalfRateVector512"/>). There the filters stream from the L3 or memory for few rows each, and
        /// the phases' 16 floats per input and output channel instead of 36, read front to back, weigh as much as their 1.78x
        /// products (KernelBench transposed4, Winograd / phases, session 47: 1024x4x4 -> 512, 75 MB of filters, 2,832 / 2,860 µs;
        /// 512x4x4 -> 256, 19 MB, 505 / 633 µs, where session 20 measured 661 / 362 and set the limit at 8 MB; 256x4x4 -> 128
        /// 90 / 152 µs).
        /// </summary>
        public static LaneTileLayout LayoutFor(in TransposedConvolutionGeometry g) =>
            LayoutOf(g.InChannels, g.InHeight, g.InWidth, g.OutChannels, PhasesHere(g));

        // Session 20's limit, 8 MB, stays where 512-bit multiply-adds run at full rate: there the phases' arithmetic costs half
        // as much against the same filter bytes.
        internal static bool PhasesPay(in TransposedConvolutionGeometry g, bool halfRateVector512)
        {
            int tiles = (g.InHeight + 1) / 2 * ((g.InWidth + 1) / 2);
            return tiles <= 4 && 36L * g.InChannels * g.OutChannels > (halfRateVector512 ? LargeFiltersHalfRate : LargeFilters);
        }

        private const long LargeFilters = 2 * 1024 * 1024, LargeFiltersHalfRate = 8 * 1024 * 1024; // floats: 8 and 32 MB

        /// <summary>Whether layers where it pays take the kernel (benchmarks turn it off to compare).</summary>
        internal static bool Route { get; set; } = true;

        private const int MinimumInChannels = 8, MinimumOutChannels = 8;

        /// <summary>
        /// U = G g Gᵀ (6x6) of each 4x4 filter of a PyTorch-layout transposed weight [inChannels x outChannels x 4 x 4], into
        /// <paramref name="filters"/> (<see cref="LaneTileLayout.FiltersLength"/> floats); the lanes past the last output channel are
        /// zero. Once per weight change; each value a sum of up to four weights, added in double and rounded once.
        /// </summary>
        public static void TransformFilters(ReadOnlySpan<float> weight, Span<float> filters, in LaneTileLayout l)
        {
            LaneTileLayout.Require(weight.Length >= l.InChannels * l.OutChannels * 16, nameof(weight));
            LaneTileLayout.Require(filters.Length >= l.FiltersLength, nameof(filters));
            filters.Slice(0, l.FiltersLength).Clear();
            if (l.Phases)
            {
                PhaseFilters(weight, filters, l);
                return;
            }
            Span<double> rows = stackalloc double[24];
            // Output channels innermost: each position's row of lanes fills front to back.
            for (int ic = 0; ic < l.InChannels; ic++)
                for (int oc = 0; oc < l.OutChannels; oc++)
                {
                    var g = weight.Slice((ic * l.OutChannels + oc) * 16, 16);
                    // G along each kernel row (the even outputs' taps (w3, w1), the odd ones' (w2, w0)), then down the columns.
                    for (int ky = 0; ky < 4; ky++)
                    {
                        double w0 = g[ky * 4], w1 = g[ky * 4 + 1], w2 = g[ky * 4 + 2], w3 = g[ky * 4 + 3];
                        rows[ky * 6] = w3; rows[ky * 6 + 1] = w3 + w1; rows[ky * 6 + 2] = w1;
                        rows[ky * 6 + 3] = w2; rows[ky * 6 + 4] = w2 + w0; rows[ky * 6 + 5] = w0;
                    }
                    ref float u = ref Unsafe.Add(ref MemoryMarshal.GetReference(filters), WinogradF4Convolution.FilterAt(ic, oc, l.InChannels, l.OutGroups));
                    nuint stride = (nuint)l.FilterPositionStride;
                    for (int b = 0; b < 6; b++)
                    {
                        double r0 = rows[b], r1 = rows[6 + b], r2 = rows[12 + b], r3 = rows[18 + b];
                        Unsafe.Add(ref u, (nuint)b * stride) = (float)r3;
                        Unsafe.Add(ref u, (nuint)(6 + b) * stride) = (float)(r3 + r1);
                        Unsafe.Add(ref u, (nuint)(12 + b) * stride) = (float)r1;
                        Unsafe.Add(ref u, (nuint)(18 + b) * stride) = (float)r2;
                        Unsafe.Add(ref u, (nuint)(24 + b) * stride) = (float)(r2 + r0);
                        Unsafe.Add(ref u, (nuint)(30 + b) * stride) = (float)r0;
                    }
                }
        }

        // The direct phases' U[phase (ry, rx)][tap (a, b), input channel][output channel lanes] = w[ic, oc, 3 − ry − 2a, 3 − rx − 2b]
        // (FilterAt's blocks): phase ry's output row 2i + ry takes input rows i − 1 + ry + a (a = 0, 1; the padded buffer's row
        // i + ry + a).
        // Each (input, output channel)'s 16 taps are read once, as one cache line, and written to their 16 places; a vector
        // of output lanes at a time, whose rows FilterAt places at a fixed stride, so the places come from two FilterAt calls
        // per vector instead of one (four divisions) per value. A pass per place, reading every weight's line 16 times, took
        // 12.4 ms for DCGAN's 512 -> 256 layer (8% of its generator's two-thread training step, whose threads prepare the
        // filters once a pass each); KernelBench transposed-prepare has the figures.
        private static void PhaseFilters(ReadOnlySpan<float> weight, Span<float> filters, in LaneTileLayout l)
        {
            int tapDepth = l.InGroups * V;
            nuint stride = (nuint)l.FilterPositionStride;
            ref float u = ref MemoryMarshal.GetReference(filters);
            for (int first = 0; first < l.OutChannels; first += V)
            {
                int lanes = Math.Min(V, l.OutChannels - first);
                int origin = WinogradF4Convolution.FilterAt(0, first, l.Depth, l.OutGroups);
                int rowStride = WinogradF4Convolution.FilterAt(1, first, l.Depth, l.OutGroups) - origin;
                for (int ic = 0; ic < l.InChannels; ic++)
                    for (int lane = 0; lane < lanes; lane++)
                    {
                        var g = weight.Slice((ic * l.OutChannels + first + lane) * 16, 16);
                        for (int a = 0; a < 2; a++)
                            for (int b = 0; b < 2; b++)
                            {
                                ref float place = ref Unsafe.Add(ref u, origin + ((a * 2 + b) * tapDepth + ic) * rowStride + lane);
                                for (int ry = 0; ry < 2; ry++)
                                    for (int rx = 0; rx < 2; rx++)
                                        Unsafe.Add(ref place, (nuint)(ry * 2 + rx) * stride) = g[(3 - ry - 2 * a) * 4 + 3 - rx - 2 * b];
                            }
                    }
            }
        }

        /// <summary>
        /// y = conv_transpose2d(x, weight, bias, 4x4, stride 2, padding 1) for one sample: x [InChannels x Height x Width],
        /// filters from <see cref="TransformFilters"/>, bias [OutChannels] or empty, y [OutChannels x 2·Height x 2·Width].
        /// Allocates nothing.
        /// </summary>
        public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> filters, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch, in LaneTileLayout l) =>
            LaneTileLayout.Forward<Transforms>(x, filters, bias, y, scratch, relu: false, l);

        // The Winograd tiles' transforms, or the direct phases' gather and placement.
        private readonly struct Transforms : ILaneTileTransforms
        {
            public static string Kernel => nameof(TransposedWinogradConvolution);

            public static void Input(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
            {
                if (l.Phases) GatherTaps(padded, transformed, first, count, l);
                else TransformInput(padded, transformed, first, count, l);
            }

            public static void Output(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l)
            {
                if (l.Phases) PlacePhases(products, staging, outputs, first, count, l);
                else TransformOutput(products, staging, outputs, first, count, l);
            }

            public static void Input256(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
            {
                if (l.Phases) GatherTaps256(padded, transformed, first, count, l);
                else TransformInput256(padded, transformed, first, count, l);
            }

            public static void Output256(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, bool relu, in LaneTileLayout l)
            {
                if (l.Phases) PlacePhases256(products, staging, outputs, first, count, l);
                else TransformOutput256(products, staging, outputs, first, count, l);
            }
        }

        // V[position][group][tile − first][16 channels] = Bᵀ d B of each tile's 4x4 window (2 rows and columns apart), a
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
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (2 * ty * l.PaddedWidth + 2 * tx) * V);
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

        // Positions (·, TColumn) of one window: Bᵀ along each of its 4 rows for column TColumn, then Bᵀ down those 4 values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ColumnOfV<TColumn>(ref float d, nuint row, ref float target, nuint positionStride) where TColumn : struct, IConstant
        {
            var r0 = Across<TColumn>(ref d);
            var r1 = Across<TColumn>(ref Unsafe.Add(ref d, row));
            var r2 = Across<TColumn>(ref Unsafe.Add(ref d, 2 * row));
            var r3 = Across<TColumn>(ref Unsafe.Add(ref d, 3 * row));
            ref float to = ref Unsafe.Add(ref target, (nuint)TColumn.Value * positionStride);
            nuint down = 6 * positionStride;
            (r0 - r1).StoreUnsafe(ref to);
            r1.StoreUnsafe(ref to, down);
            (r2 - r1).StoreUnsafe(ref to, 2 * down);
            (r1 - r2).StoreUnsafe(ref to, 3 * down);
            r2.StoreUnsafe(ref to, 4 * down);
            (r3 - r2).StoreUnsafe(ref to, 5 * down);
        }

        // Value TColumn of Bᵀ along a window row of 4 cells: (d0 − d1, d1, d2 − d1, d1 − d2, d2, d3 − d2).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Across<TColumn>(ref float d) where TColumn : struct, IConstant => TColumn.Value switch
        {
            0 => Vector512.LoadUnsafe(ref d) - Vector512.LoadUnsafe(ref d, V),
            1 => Vector512.LoadUnsafe(ref d, V),
            2 => Vector512.LoadUnsafe(ref d, 2 * V) - Vector512.LoadUnsafe(ref d, V),
            3 => Vector512.LoadUnsafe(ref d, V) - Vector512.LoadUnsafe(ref d, 2 * V),
            4 => Vector512.LoadUnsafe(ref d, 2 * V),
            _ => Vector512.LoadUnsafe(ref d, 3 * V) - Vector512.LoadUnsafe(ref d, 2 * V),
        };

        // Y = Aᵀ M A + bias per tile and group of 16 output channels, into outputs[group][cell][16 channels]: the phases'
        // outputs interleaved, row 2k + ry and column 2j + rx of the tile from phase (ry, rx).
        internal static void TransformOutput(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in LaneTileLayout l)
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
                    // Rows: r[a] = M[a][·] A, four values each (the even columns' two, then the odd columns' two).
                    var (r00, r01, r02, r03) = AlongRow(ref m, positionStride);
                    var (r10, r11, r12, r13) = AlongRow(ref Unsafe.Add(ref m, 6 * positionStride), positionStride);
                    var (r20, r21, r22, r23) = AlongRow(ref Unsafe.Add(ref m, 12 * positionStride), positionStride);
                    var (r30, r31, r32, r33) = AlongRow(ref Unsafe.Add(ref m, 18 * positionStride), positionStride);
                    var (r40, r41, r42, r43) = AlongRow(ref Unsafe.Add(ref m, 24 * positionStride), positionStride);
                    var (r50, r51, r52, r53) = AlongRow(ref Unsafe.Add(ref m, 30 * positionStride), positionStride);
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    // Down the columns: the even rows from positions 0-2, the odd rows from 3-5; column c of the tile is
                    // row value c / 2 of the even columns (c even) or the odd ones.
                    var y00 = (r00 + r10) + bias; var y02 = (r01 + r11) + bias; var y01 = (r02 + r12) + bias; var y03 = (r03 + r13) + bias;
                    var y20 = (r10 + r20) + bias; var y22 = (r11 + r21) + bias; var y21 = (r12 + r22) + bias; var y23 = (r13 + r23) + bias;
                    var y10 = (r30 + r40) + bias; var y12 = (r31 + r41) + bias; var y11 = (r32 + r42) + bias; var y13 = (r33 + r43) + bias;
                    var y30 = (r40 + r50) + bias; var y32 = (r41 + r51) + bias; var y31 = (r42 + r52) + bias; var y33 = (r43 + r53) + bias;
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride);
                    WinogradF4Convolution.StoreTile4x4(ref target, 4 * ty, 4 * tx, h, w, w, y00, y01, y02, y03, y10, y11, y12, y13, y20, y21, y22, y23, y30, y31, y32, y33);
                }
            }
        }

        // The direct phases' V[phase][tap·InGroups + group][tile − first][16]: each tap's input cell for each tile (one input
        // cell), from the padded input: phase (ry, rx) tap (a, b) reads cell (iy + ry + a, ix + rx + b).
        private static void GatherTaps(Span<float> padded, Span<float> transformed, int first, int count, in LaneTileLayout l)
        {
            ref float p0 = ref MemoryMarshal.GetReference(padded);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            nuint row = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.TransformedPositionStride, tapStride = (nuint)(l.InGroups * l.TransformedGroupStride);
            for (int t = first; t < first + count; t++)
            {
                int iy = t / l.TileColumns, ix = t - iy * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (iy * l.PaddedWidth + ix) * V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.TransformedGroupStride + (t - first) * V);
                    // The 3x3 cells around (iy + 1, ix + 1), each to the phases and taps that read it.
                    var c00 = Vector512.LoadUnsafe(ref d); var c01 = Vector512.LoadUnsafe(ref d, V); var c02 = Vector512.LoadUnsafe(ref d, 2 * V);
                    var c10 = Vector512.LoadUnsafe(ref d, row); var c11 = Vector512.LoadUnsafe(ref d, row + V); var c12 = Vector512.LoadUnsafe(ref d, row + 2 * V);
                    var c20 = Vector512.LoadUnsafe(ref d, 2 * row); var c21 = Vector512.LoadUnsafe(ref d, 2 * row + V); var c22 = Vector512.LoadUnsafe(ref d, 2 * row + 2 * V);
                    PutTaps(ref target, positionStride * 0, tapStride, c00, c01, c10, c11);
                    PutTaps(ref target, positionStride * 1, tapStride, c01, c02, c11, c12);
                    PutTaps(ref target, positionStride * 2, tapStride, c10, c11, c20, c21);
                    PutTaps(ref target, positionStride * 3, tapStride, c11, c12, c21, c22);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PutTaps(ref float target, nuint position, nuint tapStride, Vector512<float> t00, Vector512<float> t01, Vector512<float> t10, Vector512<float> t11)
        {
            t00.StoreUnsafe(ref target, position);
            t01.StoreUnsafe(ref target, position + tapStride);
            t10.StoreUnsafe(ref target, position + 2 * tapStride);
            t11.StoreUnsafe(ref target, position + 3 * tapStride);
        }

        // The direct phases' products are the outputs: phase (ry, rx) of input cell (iy, ix) is output cell (2iy + ry, 2ix + rx).
        private static void PlacePhases(Span<float> products, Span<float> staging, Span<float> outputs, int first, int count, in LaneTileLayout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float biasLanes = ref Unsafe.Add(ref MemoryMarshal.GetReference(staging), LaneTileLayout.BiasOffset);
            ref float o0 = ref MemoryMarshal.GetReference(outputs);
            nuint positionStride = (nuint)l.OutLanes;
            int h = l.OutHeight, w = l.OutWidth;
            for (int t = first; t < first + count; t++)
            {
                int iy = t / l.TileColumns, ix = t - iy * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.ProductTileStride + group * V);
                    var bias = Vector512.LoadUnsafe(ref biasLanes, (nuint)(group * V));
                    ref float target = ref Unsafe.Add(ref o0, group * l.OutputGroupStride + (2 * iy * w + 2 * ix) * V);
                    (Vector512.LoadUnsafe(ref m) + bias).StoreUnsafe(ref target);
                    (Vector512.LoadUnsafe(ref m, positionStride) + bias).StoreUnsafe(ref target, V);
                    (Vector512.LoadUnsafe(ref m, 2 * positionStride) + bias).StoreUnsafe(ref target, (nuint)(w * V));
                    (Vector512.LoadUnsafe(ref m, 3 * positionStride) + bias).StoreUnsafe(ref target, (nuint)(w * V + V));
                }
            }
        }

        // Aᵀ along one row of 6 positions: (m0 + m1, m1 + m2) for the even output columns, (m3 + m4, m4 + m5) for the odd ones.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) AlongRow(ref float m, nuint stride)
        {
            var m1 = Vector512.LoadUnsafe(ref m, stride);
            var m4 = Vector512.LoadUnsafe(ref m, 4 * stride);
            return (Vector512.LoadUnsafe(ref m) + m1, m1 + Vector512.LoadUnsafe(ref m, 2 * stride),
                Vector512.LoadUnsafe(ref m, 3 * stride) + m4, m4 + Vector512.LoadUnsafe(ref m, 5 * stride));
        }
    }
}
