using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The depthwise case of <see cref="GroupedConvolution"/> (one input channel per group, any channel multiplier):
    /// a direct kernel vectorized along the output row, for any stride and dilation, without gathers.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each input channel is copied into a zero-padded plane whose rows are split into <c>sw</c> phases: padded column
    /// <c>px</c> lives at <c>(px mod sw)·L + px / sw</c> of its row, with <c>L = ceil((W + 2pw) / sw)</c>. Output column
    /// <c>ox</c> of tap <c>kx</c> reads padded column <c>ox·sw + kx·dw</c>, which is element <c>ox + (kx·dw) / sw</c> of
    /// phase <c>(kx·dw) mod sw</c>: consecutive output columns read consecutive floats, so a vector of 16 (or 8)
    /// outputs is one unaligned load and one fused multiply-add per tap, at stride 1, 2 or 3 alike.
    /// </para>
    /// <para>
    /// The forward pass computes eight output rows per tile (then four, then one): eight independent accumulators per tap,
    /// enough to hide the fused multiply-add's latency on sums of nine terms. Rows end with an overlapping last vector (it
    /// writes the same values again), and rows narrower than a vector are one vector each, spilling into the next output
    /// row before that row is written. An activation's bounds (ReLU, ReLU6) are applied to the accumulators before the
    /// store. The backward pass is in DepthwiseConvolution.Gradients.cs (a kernel per gradient; the scatter form here only
    /// for channel multipliers above 1). The scalar path is the definition's loops, with no scratch. On maps under 16 wide
    /// (where the copy costs most against the work) the forward pass reads the input where it lies instead
    /// (DepthwiseConvolution.Unpadded.cs, UnpaddedPays; .NET 9 and later), and stride-1 planes under 12 wide on Vector512 run
    /// as flat planes of whole vectors (DepthwiseConvolution.FlatPlane.cs, FlatPlanePays), as do small stride-2 layers on
    /// the input's four phase planes (FlatPhasesPays); 3x3 stride-2 layers onto maps at most 8 wide run with 16 channels in
    /// the vector lanes (DepthwiseConvolution.Lanes.cs, LanesPays).
    /// </para>
    /// </remarks>
    internal static partial class DepthwiseConvolution
    {
        // Tap offsets are kept on the stack; a kernel with more taps than this (none in practice) runs the scalar path.
        private const int MaxStackTaps = 1024;

        /// <summary>Whether 5x5 and 7x7 stride-1 layers and 5x5 stride-2 ones on rows of 16+ cells run Rows5x5512, Rows7x7512 and Rows5x5Stride2512 (KernelBench and the tests turn it off to compare).</summary>
        internal static bool SharedRows = true;

        private readonly struct Layout
        {
            public readonly int PhaseLength, RowStride, PlaneLength;

            public Layout(in ConvolutionGeometry g, bool wholeVectorPhases = false)
            {
                int paddedWidth = g.InWidth + 2 * g.PaddingWidth;
                PhaseLength = (paddedWidth + g.StrideWidth - 1) / g.StrideWidth;
                if (wholeVectorPhases) PhaseLength = (PhaseLength + 15) / 16 * 16;
                RowStride = PhaseLength * g.StrideWidth;
                PlaneLength = (g.InHeight + 2 * g.PaddingHeight) * RowStride;
            }
        }

        // Floats a narrow row's vector, or the second of the two vectors a 3x3, 5x5 or 7x7 shared-rows tile reads of a row
        // (VectorRows.ColumnsFrom), may read past the end of the input plane: up to 14.
        private const int Slack = 16;

        /// <summary>
        /// Two padded input planes and a vector's slack after them (the forward pass; the backward's scatter form uses them
        /// as the input plane and the input-gradient plane), or what the input gradient by the transposed geometry needs.
        /// </summary>
        public static int ScratchLength(in ConvolutionGeometry g)
        {
            long length = Math.Max(ForwardScratchLength(g), Math.Max(TransposedScratchLength(g), GatherScratchLength(g)));
            if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The scratch of this convolution does not fit in a span.");
            return (int)length;
        }

        private static int ForwardScratchLength(in ConvolutionGeometry g)
        {
            // The row kernel's planes (ForwardLayout), and up to 15 floats before them to start them on a 64-byte line.
            long plane = (long)(g.InHeight + 2 * g.PaddingHeight) * ForwardLayout(g).RowStride, toLine = LinedPhases(g) ? 15 : 0;
            if (2 * plane + Slack + toLine > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The padded planes of this convolution do not fit in a span.");
            int length = (int)(2 * plane + Slack + toLine);
#if NET9_0_OR_GREATER
            if (FlatPhasesShape(g)) length = Math.Max(length, FlatPhasesScratchLength(g));
#endif
            if (LanesShape(g)) length = (int)Math.Min(int.MaxValue, Math.Max(length, LanesScratchLength(g)));
            return WholePlaneDepthwise.Applies(g) ? Math.Max(length, WholePlaneDepthwise.ScratchLength(g)) : length;
        }

        /// <summary>Whether Pad copies rows of whole vectors (stride 1) and splits rows of 32+ columns (stride 2), and Unpad copies rows of whole vectors back, in one tight loop over the plane rather than a row at a time (KernelBench turns it off to compare).</summary>
        internal static bool TightPadRows = true;

        /// <summary>Whether the row kernel lays stride-2 planes of 32+ columns out on 64-byte lines (KernelBench and the tests turn it off to compare).</summary>
        internal static bool LinePhases = true;

        // The row kernel's phase-split planes: at stride 2 on rows of 32+ columns (Vector512 tiles), each phase a whole number
        // of vectors and the planes started on a 64-byte line, so that every row and phase starts on one and the tiles' row
        // loads (two vectors a row and phase, the shifts taken by valignd) do not cross lines. KernelBench depthwise-lines
        // (2026-12-06, Zen 5, interleaved, two runs, lines / compact): 5x5 s2 72x32x32 1.02-1.12x, 144x32x32 1.10-1.19x,
        // 96x112x112 1.01-1.13x; 3x3 s2 32x32x32 1.08-1.12x, 16x64x64 1.07-1.10x; 56- to 112-wide 3x3 0.99-1.07x. At stride 1
        // (rows rounded up to whole vectors) 0.89-1.05x on 19 of 21 shapes, so not there.
        private static bool LinedPhases(in ConvolutionGeometry g) => LinePhases && g.StrideWidth == 2 && g.InWidth >= 32;

        private static Layout ForwardLayout(in ConvolutionGeometry g) => new Layout(g, wholeVectorPhases: LinedPhases(g));

        private static bool Vectorized(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated && g.KernelHeight * g.KernelWidth <= MaxStackTaps;

        // Offsets of each tap in the phase-split padded plane, relative to the start of the output row's first padded row.
        private static void TapOffsets(in ConvolutionGeometry g, in Layout layout, Span<int> offsets)
        {
            int t = 0;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                for (int kx = 0; kx < g.KernelWidth; kx++, t++)
                {
                    int column = kx * g.DilationWidth;
                    offsets[t] = ky * g.DilationHeight * layout.RowStride + column % g.StrideWidth * layout.PhaseLength + column / g.StrideWidth;
                }
            }
        }

        // Writes channel c of x into the interior of the padded plane (its border and phase slack stay as they are: zero).
        private static void Pad(ReadOnlySpan<float> x, int c, in ConvolutionGeometry g, in Layout layout, Span<float> plane)
        {
            // Locals rather than reads through g and layout (references the stores below could alias, as far as the JIT knows).
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth, pw = g.PaddingWidth, ph = g.PaddingHeight;
            int phaseLength = layout.PhaseLength;
            nint rowStride = layout.RowStride;
            bool wide = width >= 16 && Vector512.IsHardwareAccelerated;
            ref float source = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)c * height * width);
            ref float target = ref MemoryMarshal.GetReference(plane);
            if (sw == 1 && (width == 16 || width == 8) && Vector256.IsHardwareAccelerated)
            {
                // One vector per row, the commonest maps after a few strides: a tight loop of loads and stores.
                ref float to = ref Unsafe.Add(ref target, ph * rowStride + pw);
                if (width == 16 && Vector512.IsHardwareAccelerated)
                {
                    for (int iy = 0; iy < height; iy++, to = ref Unsafe.Add(ref to, rowStride))
                        Vector512.LoadUnsafe(ref source, (nuint)(iy * 16)).StoreUnsafe(ref to);
                    return;
                }
                for (int iy = 0; iy < height; iy++, to = ref Unsafe.Add(ref to, rowStride))
                {
                    Vector256.LoadUnsafe(ref source, (nuint)(iy * width)).StoreUnsafe(ref to);
                    if (width == 16) Vector256.LoadUnsafe(ref source, (nuint)(iy * width + 8)).StoreUnsafe(ref to, 8);
                }
                return;
            }
            if (sw == 1 && width % 16 == 0 && Vector512.IsHardwareAccelerated && TightPadRows)
            {
                // Rows of whole vectors (32, 48, 64, 112 columns) in one tight loop: row by row through CopyRow512 below, each
                // row's addresses and its last vector's test cost as much as its copy.
                CopyVectorRows(ref source, width, ref Unsafe.Add(ref target, ph * rowStride + pw), rowStride, width, height);
                return;
            }
            if (sw == 2 && PhaseSplit.Applies(width))
            {
                ref float evens = ref Unsafe.Add(ref target, ph * rowStride + PhaseSplit.At(pw, phaseLength));
                ref float odds = ref Unsafe.Add(ref target, ph * rowStride + PhaseSplit.At(pw + 1, phaseLength));
                if (TightPadRows) PhaseSplit.Rows(ref source, width, height, ref evens, ref odds, rowStride);
                else PhaseSplit.RowByRow(ref source, width, height, ref evens, ref odds, rowStride);
                return;
            }
            if (sw == 2 && width % 16 == 0 && Vector512.IsHardwareAccelerated)
            {
                // Whole 16-column chunks split into evens and odds (see below), in a tight loop.
                ref float evens = ref Unsafe.Add(ref target, ph * rowStride + PhaseSplit.At(pw, phaseLength));
                ref float odds = ref Unsafe.Add(ref target, ph * rowStride + PhaseSplit.At(pw + 1, phaseLength));
                var order = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
                for (int iy = 0; iy < height; iy++, evens = ref Unsafe.Add(ref evens, rowStride), odds = ref Unsafe.Add(ref odds, rowStride))
                {
                    ref float from = ref Unsafe.Add(ref source, iy * width);
                    for (int ix = 0; ix < width; ix += 16)
                    {
                        var split = Vector512.Shuffle(Vector512.LoadUnsafe(ref from, (nuint)ix), order);
                        split.GetLower().StoreUnsafe(ref evens, (nuint)(ix / 2));
                        split.GetUpper().StoreUnsafe(ref odds, (nuint)(ix / 2));
                    }
                }
                return;
            }
            for (int iy = 0; iy < height; iy++)
            {
                ref float row = ref Unsafe.Add(ref target, (iy + ph) * rowStride);
                ref float from = ref Unsafe.Add(ref source, iy * width);
                if (sw == 1)
                {
                    if (wide) CopyRow512(ref from, ref Unsafe.Add(ref row, pw), width);
                    else VectorRows.CopyRow(ref from, ref Unsafe.Add(ref row, pw), width);
                    continue;
                }
                int ix = 0;
                if (sw == 2)
                {
                    // Input column 2k goes to phase pw mod 2 at k + pw/2, column 2k + 1 to the other phase at k + (pw + 1)/2.
                    ref float evens = ref Unsafe.Add(ref row, PhaseSplit.At(pw, phaseLength));
                    ref float odds = ref Unsafe.Add(ref row, PhaseSplit.At(pw + 1, phaseLength));
                    for (; ix <= width - 16; ix += 16)
                    {
                        var (e, o) = VectorRows.Deinterleave(ref Unsafe.Add(ref from, ix));
                        e.StoreUnsafe(ref evens, (nuint)(ix / 2));
                        o.StoreUnsafe(ref odds, (nuint)(ix / 2));
                    }
                    if (ix <= width - 8)
                    {
                        // 8 columns: 4 evens and 4 odds (maps 8 to 15 wide, which are common after a stride).
                        var split = Vector256.Shuffle(Vector256.LoadUnsafe(ref Unsafe.Add(ref from, ix)), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
                        split.GetLower().StoreUnsafe(ref evens, (nuint)(ix / 2));
                        split.GetUpper().StoreUnsafe(ref odds, (nuint)(ix / 2));
                        ix += 8;
                    }
                }
                // The rest one by one, the phase and its index stepped rather than divided out per element.
                int phase = (ix + pw) % sw, at = (ix + pw) / sw;
                for (; ix < width; ix++)
                {
                    Unsafe.Add(ref row, phase * phaseLength + at) = Unsafe.Add(ref from, ix);
                    if (++phase == sw)
                    {
                        phase = 0;
                        at++;
                    }
                }
            }
        }

        // A row of at least 16 floats in Vector512s, the last overlapping the one before.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CopyRow512(ref float from, ref float to, int count)
        {
            for (int i = 0; ; i += 16)
            {
                if (i > count - 16) i = count - 16;
                Vector512.LoadUnsafe(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
                if (i == count - 16) break;
            }
        }

        // height rows of width floats (a multiple of 16), fromStride floats apart, to rows toStride apart, whole Vector512s.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CopyVectorRows(ref float from, nint fromStride, ref float to, nint toStride, int width, int height)
        {
            for (int iy = 0; iy < height; iy++, from = ref Unsafe.Add(ref from, fromStride), to = ref Unsafe.Add(ref to, toStride))
            {
                for (int ix = 0; ix < width; ix += 16) Vector512.LoadUnsafe(ref from, (nuint)ix).StoreUnsafe(ref to, (nuint)ix);
            }
        }

        // The reverse of Pad: the interior of the padded gradient plane, written to channel c of dx.
        private static void Unpad(ReadOnlySpan<float> plane, int c, in ConvolutionGeometry g, in Layout layout, Span<float> dx)
        {
            int height = g.InHeight, width = g.InWidth, sw = g.StrideWidth, pw = g.PaddingWidth;
            ref float source = ref MemoryMarshal.GetReference(plane);
            ref float target = ref Unsafe.Add(ref MemoryMarshal.GetReference(dx), (nint)c * height * width);
            if (sw == 1 && TightPadRows && (width == 8 && Vector256.IsHardwareAccelerated || width % 16 == 0 && Vector512.IsHardwareAccelerated))
            {
                // Rows of one 8-float vector or of whole 16-float ones in a tight loop, as Pad copies them (CopyRow a row at a time
                // tests for its last vector on every row).
                ref float from = ref Unsafe.Add(ref source, (nint)g.PaddingHeight * layout.RowStride + pw);
                if (width == 8)
                {
                    for (int iy = 0; iy < height; iy++, from = ref Unsafe.Add(ref from, layout.RowStride))
                        Vector256.LoadUnsafe(ref from).StoreUnsafe(ref target, (nuint)(iy * 8));
                    return;
                }
                CopyVectorRows(ref from, layout.RowStride, ref target, width, width, height);
                return;
            }
            for (int iy = 0; iy < height; iy++)
            {
                ref float row = ref Unsafe.Add(ref source, (nint)(iy + g.PaddingHeight) * layout.RowStride);
                ref float to = ref Unsafe.Add(ref target, iy * width);
                if (sw == 1)
                {
                    VectorRows.CopyRow(ref Unsafe.Add(ref row, pw), ref to, width);
                    continue;
                }
                int ix = 0;
                if (sw == 2)
                {
                    ref float evens = ref Unsafe.Add(ref row, (pw & 1) * layout.PhaseLength + pw / 2);
                    ref float odds = ref Unsafe.Add(ref row, ((pw + 1) & 1) * layout.PhaseLength + (pw + 1) / 2);
                    for (; ix <= width - 16; ix += 16)
                    {
                        VectorRows.Interleave(Vector256.LoadUnsafe(ref evens, (nuint)(ix / 2)), Vector256.LoadUnsafe(ref odds, (nuint)(ix / 2)), ref Unsafe.Add(ref to, ix));
                    }
                }
                int phase = (ix + pw) % sw, at = (ix + pw) / sw;
                for (; ix < width; ix++)
                {
                    Unsafe.Add(ref to, ix) = Unsafe.Add(ref row, phase * layout.PhaseLength + at);
                    if (++phase == sw)
                    {
                        phase = 0;
                        at++;
                    }
                }
            }
        }

        /// <summary>
        /// The forward pass; every output is clamped to [<paramref name="low"/>, <paramref name="high"/>] as the element-wise
        /// kernels do it (v &lt; low ? low : v, then v &gt; high ? high : v): ReLU is [0, +∞), ReLU6 [0, 6], none (−∞, +∞).
        /// </summary>
        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
        {
            if (!Vectorized(g, path))
            {
                ForwardScalar(g, x, weight, bias, y, low, high);
                return;
            }
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated;
            if (wide && LanesPays(g))
            {
                ForwardLanes(g, x, weight, bias, y, scratch, low, high);
                return;
            }
#if NET9_0_OR_GREATER
            if (wide && FlatPlanePays(g))
            {
                ForwardFlatPlane(g, x, weight, bias, y, low, high);
                return;
            }
            if (wide && FlatPhasesPays(g))
            {
                ForwardFlatPhases(g, x, weight, bias, y, scratch, low, high);
                return;
            }
#endif
            if (WholePlanePays(g, wide))
            {
                WholePlaneDepthwise.Forward(g, x, weight, bias, y, scratch, low, high);
                return;
            }
#if NET9_0_OR_GREATER
            if (UnpaddedPays(g))
            {
                // Stride 2 on Vector256 tiles: its 512-bit two-source permutes cost more than they save (the table below).
                ForwardUnpadded(g, x, weight, bias, y, wide && g.StrideWidth == 1, low, high);
                return;
            }
#endif
            if (wide && InPlaceRowsPay(g))
            {
                ForwardInPlaceRows(g, x, weight, bias, y, low, high);
                return;
            }
            ForwardByRows(g, x, weight, bias, y, scratch, path, low, high);
        }

        // Where the whole-plane kernel beats the row kernel (KernelBench whole-plane, 3x3 + ReLU6, µs, 2026-12-01, load ~20):
        //   input        out     rows 512  plane 512  rows 256  plane 256
        //   64x4x4 s1    4x4       1.61      1.13       1.62      1.70
        //   256x4x4 s1   4x4       6.22      4.33       6.22      6.64
        //   64x8x8 s2    4x4       2.82      2.40       2.83      2.92
        //   256x8x8 s2   4x4      11.04      9.37      11.10     11.38
        //   32x8x8 s1    8x8       0.84      0.73       0.83      1.13
        //   96x8x8 s1    8x8       2.44      2.06       2.42      3.21
        //   96x8x8 d2    8x8       2.56      2.03       2.54      3.17
        //   384x8x8 s1   8x8       9.63      7.97       9.64     12.61
        //   32x16x16 s2  8x8       1.27      1.78       1.27      2.15
        //   144x16x16 s2 8x8       5.55      7.55       5.55      9.24
        //   64x16x16 d2  16x16     3.98      5.29       4.83        -
        //   32x32x32 s2  16x16     3.41      5.52       3.88        -
        // Vector512 on inputs at most 8 wide only: from 16-wide inputs the row kernel's wide rows win, and on Vector256
        // (8 lanes, one 8-wide row per vector either way) the whole-plane kernel's masks and splitting are pure cost.
        internal static bool WholePlanePays(in ConvolutionGeometry g, bool wide) =>
            wide && g.InWidth <= 8 && WholePlaneDepthwise.Applies(g);

        /// <summary>The row kernel (any shape), whatever <see cref="WholePlanePays"/> says; vector paths only.</summary>
        internal static void ForwardByRows(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path, float low, float high)
        {
            var layout = ForwardLayout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            Span<int> offsets = stackalloc int[taps];
            TapOffsets(g, layout, offsets);
            // Each channel is padded one channel ahead of its use, into the other of two planes: the row loads right after a
            // copy's stores, at other alignments, would wait for those stores (store forwarding fails on a partial overlap).
            int planeLength = layout.PlaneLength;
            // The planes start on a 64-byte line when lined (read once a call: an array the collector moves later keeps its
            // results, only not the alignment).
            var planes = scratch.Slice(LinedPhases(g) ? WinogradF4Convolution.FloatsToCacheLine(scratch) : 0, 2 * planeLength);
            planes.Clear();
            Pad(x, 0, g, layout, planes.Slice(0, planeLength));
            ref int offsetRef = ref MemoryMarshal.GetReference(offsets);
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated && outWidth >= 16;
            var clamp = new OutputClamp(low, high);
            int rowStep = g.StrideHeight * layout.RowStride;
            // 3x3 at stride 1 without dilation, rows at least a vector wide: input rows shared between output rows.
            bool threeByThree = g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
                && g.DilationHeight == 1 && g.DilationWidth == 1 && outWidth >= 8;
            // 5x5 and 7x7 likewise, on rows of 16+ cells (Vector512): KernelBench depthwise-large (2026-12-04, Zen 5, interleaved,
            // the general tile / this, +ReLU6): 5x5 (three runs) 120x16x16 1.60-1.64x, 240x16x16 1.62-1.64x, 72x32x32 1.52-1.58x,
            // 32x32x32 1.51-1.56x, 16x64x64 1.52-1.60x, 40x28x28 1.38-1.39x; 7x7 (two runs) 48x16x16 1.37-1.42x, 96x16x16 1.44-1.47x,
            // 96x32x32 1.38-1.44x, 64x28x28 1.35-1.36x, 32x56x56 1.36-1.43x. At batch 1, three alternated rounds: zoo sweep2's MobileNetV3-style
            // network 215.8-217.7 -> 209.6-212.1 µs, sweep3's ConvNeXt-style network 390.9-392.2 -> 381.2-383.1 µs.
            bool shareable = SharedRows && wide && Avx512F.IsSupported && g.KernelHeight == g.KernelWidth && g.DilationHeight == 1 && g.DilationWidth == 1;
            bool sharedRows = shareable && (g.KernelWidth is 5 or 7) && g.StrideHeight == 1 && g.StrideWidth == 1;
            // 5x5 at stride 2 likewise, on the phase-split plane (Rows5x5Stride2512).
            bool sharedStride2 = shareable && g.KernelWidth == 5 && g.StrideHeight == 2 && g.StrideWidth == 2;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                if (ic + 1 < g.InChannels) Pad(x, ic + 1, g, layout, planes.Slice((ic + 1) % 2 * planeLength, planeLength));
                ref float planeRef = ref Unsafe.Add(ref MemoryMarshal.GetReference(planes), ic % 2 * planeLength);
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    float b = bias.IsEmpty ? 0f : bias[oc];
                    ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), oc * taps);
                    ref float outputPlane = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)oc * outPlane);
                    int oy = 0;
                    // Rows narrower than a vector are one vector each, its lanes past the row spilling into the output rows
                    // after it, which are stored later (rows and channels go in order); rows whose vector would pass the end
                    // of y go by the scalar loop at the end.
                    int vectorRows = g.OutHeight;
                    if (outWidth < 8)
                    {
                        long room = (long)g.OutLength - (long)oc * outPlane - 8;
                        vectorRows = room < 0 ? 0 : (int)Math.Min(g.OutHeight, room / outWidth + 1);
                    }
                    // Eight output rows at a time (then four, then one): as many independent accumulator chains per tap,
                    // which is what hides the fused multiply-add's latency on these short sums.
                    for (; threeByThree && oy <= vectorRows - 8; oy += 8)
                    {
                        if (wide && Avx512F.IsSupported) Rows3x3512(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                        else Rows3x3256(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    }
                    for (; sharedStride2 && oy <= vectorRows - 8; oy += 8)
                        Rows5x5Stride2512(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), layout.RowStride, layout.PhaseLength, ref w, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    for (; sharedRows && oy <= vectorRows - 8; oy += 8)
                    {
                        if (g.KernelWidth == 5) Rows5x5512(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                        else Rows7x7512(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    }
                    for (; oy <= vectorRows - 8; oy += 8)
                    {
                        if (wide) Rows512<C8>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                        else Rows256<C8>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    }
                    for (; oy <= vectorRows - 4; oy += 4)
                    {
                        if (wide) Rows512<C4>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                        else Rows256<C4>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    }
                    for (; oy < vectorRows; oy++)
                    {
                        if (wide) Rows512<C1>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                        else Rows256<C1>(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), rowStep, ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                    }
                    for (; oy < g.OutHeight; oy++)
                        RowScalar(ref Unsafe.Add(ref planeRef, (nint)oy * rowStep), ref w, ref offsetRef, taps, b, clamp, ref Unsafe.Add(ref outputPlane, oy * outWidth), outWidth);
                }
            }
        }

        // a + one kernel row's three taps (weights k0..k2) on an input row's column shifts v0..v2, fused in that order: the
        // step every 3x3 row tile (Rows3x3512 and its Vector256 twin, the unpadded and in-place kernels) repeats for each output row an input row feeds.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> KernelRow(Vector512<float> a, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2,
            Vector512<float> k0, Vector512<float> k1, Vector512<float> k2) =>
            Fused.MultiplyAdd(v2, k2, Fused.MultiplyAdd(v1, k1, Fused.MultiplyAdd(v0, k0, a)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> KernelRow(Vector256<float> a, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2,
            Vector256<float> k0, Vector256<float> k1, Vector256<float> k2) =>
            Fused.MultiplyAdd(v2, k2, Fused.MultiplyAdd(v1, k1, Fused.MultiplyAdd(v0, k0, a)));

        // Eight output rows of a 3x3 stride-1 undilated kernel x one vector of 16 cells: each of the ten input rows is read
        // once, its three column shifts made from two vectors (VectorRows.ColumnsFrom), and feeds the (up to) three output
        // rows that read it, 20 loads for 72 multiply-adds instead of 72. Each output's sum still runs over the taps in order
        // (ky, then kx), as in the general tile.
        private static void Rows3x3512(ref float input, int rowStep, ref float w, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            var w00 = Vector512.Create(w); var w01 = Vector512.Create(Unsafe.Add(ref w, 1)); var w02 = Vector512.Create(Unsafe.Add(ref w, 2));
            var w10 = Vector512.Create(Unsafe.Add(ref w, 3)); var w11 = Vector512.Create(Unsafe.Add(ref w, 4)); var w12 = Vector512.Create(Unsafe.Add(ref w, 5));
            var w20 = Vector512.Create(Unsafe.Add(ref w, 6)); var w21 = Vector512.Create(Unsafe.Add(ref w, 7)); var w22 = Vector512.Create(Unsafe.Add(ref w, 8));
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            int last = outWidth - 16;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last; // the last vector overlaps the one before
                ref float row = ref Unsafe.Add(ref input, ox);
                var a0 = Vector512.Create(bias);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                Vector512<float> v0, v1, v2;
                Vector512<uint> cells, next;
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a0 = KernelRow(a0, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a0 = KernelRow(a0, v0, v1, v2, w10, w11, w12);
                a1 = KernelRow(a1, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a0 = KernelRow(a0, v0, v1, v2, w20, w21, w22);
                a1 = KernelRow(a1, v0, v1, v2, w10, w11, w12);
                a2 = KernelRow(a2, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a1 = KernelRow(a1, v0, v1, v2, w20, w21, w22);
                a2 = KernelRow(a2, v0, v1, v2, w10, w11, w12);
                a3 = KernelRow(a3, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a2 = KernelRow(a2, v0, v1, v2, w20, w21, w22);
                a3 = KernelRow(a3, v0, v1, v2, w10, w11, w12);
                a4 = KernelRow(a4, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a3 = KernelRow(a3, v0, v1, v2, w20, w21, w22);
                a4 = KernelRow(a4, v0, v1, v2, w10, w11, w12);
                a5 = KernelRow(a5, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a4 = KernelRow(a4, v0, v1, v2, w20, w21, w22);
                a5 = KernelRow(a5, v0, v1, v2, w10, w11, w12);
                a6 = KernelRow(a6, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a5 = KernelRow(a5, v0, v1, v2, w20, w21, w22);
                a6 = KernelRow(a6, v0, v1, v2, w10, w11, w12);
                a7 = KernelRow(a7, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a6 = KernelRow(a6, v0, v1, v2, w20, w21, w22);
                a7 = KernelRow(a7, v0, v1, v2, w10, w11, w12);
                row = ref Unsafe.Add(ref row, rowStep);
                cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32(); v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2);
                a7 = KernelRow(a7, v0, v1, v2, w20, w21, w22);
                StoreEightRows(ref Unsafe.Add(ref output, ox), outWidth, none, low, high, a0, a1, a2, a3, a4, a5, a6, a7);
                if (ox == last) break;
            }
        }

        // Eight output rows of a 5x5 stride-1 undilated kernel x one vector of 16 cells, each input row's column shifts made
        // once for the output rows that read it: the taps of kernel rows 0-2 first (15 weights in registers), then of rows 3-4
        // (10), 95 vectors of shifted columns (from 38 loads, VectorRows.ColumnsFrom) for 200 multiply-adds instead of 25 broadcasts and
        // 200 loads. Each output's sum still runs over the taps in order (ky, then kx), as in the general tile, so the floats
        // are its floats.
        private static void Rows5x5512(ref float input, int rowStep, ref float w, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            int last = outWidth - 16;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last; // the last vector overlaps the one before
                ref float start = ref Unsafe.Add(ref input, ox);
                var a0 = Vector512.Create(bias);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                {
                    var k0 = Row5.Weights(ref w, 0); var k1 = Row5.Weights(ref w, 5); var k2 = Row5.Weights(ref w, 10);
                    var row0 = Row5.Load(ref start);
                    a0 = row0.Into(a0, k0);
                    var row1 = Row5.Load(ref Unsafe.Add(ref start, 1 * rowStep));
                    a0 = row1.Into(a0, k1); a1 = row1.Into(a1, k0);
                    var row2 = Row5.Load(ref Unsafe.Add(ref start, 2 * rowStep));
                    a0 = row2.Into(a0, k2); a1 = row2.Into(a1, k1); a2 = row2.Into(a2, k0);
                    var row3 = Row5.Load(ref Unsafe.Add(ref start, 3 * rowStep));
                    a1 = row3.Into(a1, k2); a2 = row3.Into(a2, k1); a3 = row3.Into(a3, k0);
                    var row4 = Row5.Load(ref Unsafe.Add(ref start, 4 * rowStep));
                    a2 = row4.Into(a2, k2); a3 = row4.Into(a3, k1); a4 = row4.Into(a4, k0);
                    var row5 = Row5.Load(ref Unsafe.Add(ref start, 5 * rowStep));
                    a3 = row5.Into(a3, k2); a4 = row5.Into(a4, k1); a5 = row5.Into(a5, k0);
                    var row6 = Row5.Load(ref Unsafe.Add(ref start, 6 * rowStep));
                    a4 = row6.Into(a4, k2); a5 = row6.Into(a5, k1); a6 = row6.Into(a6, k0);
                    var row7 = Row5.Load(ref Unsafe.Add(ref start, 7 * rowStep));
                    a5 = row7.Into(a5, k2); a6 = row7.Into(a6, k1); a7 = row7.Into(a7, k0);
                    var row8 = Row5.Load(ref Unsafe.Add(ref start, 8 * rowStep));
                    a6 = row8.Into(a6, k2); a7 = row8.Into(a7, k1);
                    var row9 = Row5.Load(ref Unsafe.Add(ref start, 9 * rowStep));
                    a7 = row9.Into(a7, k2);
                }
                {
                    var k3 = Row5.Weights(ref w, 15); var k4 = Row5.Weights(ref w, 20);
                    var row3 = Row5.Load(ref Unsafe.Add(ref start, 3 * rowStep));
                    a0 = row3.Into(a0, k3);
                    var row4 = Row5.Load(ref Unsafe.Add(ref start, 4 * rowStep));
                    a0 = row4.Into(a0, k4); a1 = row4.Into(a1, k3);
                    var row5 = Row5.Load(ref Unsafe.Add(ref start, 5 * rowStep));
                    a1 = row5.Into(a1, k4); a2 = row5.Into(a2, k3);
                    var row6 = Row5.Load(ref Unsafe.Add(ref start, 6 * rowStep));
                    a2 = row6.Into(a2, k4); a3 = row6.Into(a3, k3);
                    var row7 = Row5.Load(ref Unsafe.Add(ref start, 7 * rowStep));
                    a3 = row7.Into(a3, k4); a4 = row7.Into(a4, k3);
                    var row8 = Row5.Load(ref Unsafe.Add(ref start, 8 * rowStep));
                    a4 = row8.Into(a4, k4); a5 = row8.Into(a5, k3);
                    var row9 = Row5.Load(ref Unsafe.Add(ref start, 9 * rowStep));
                    a5 = row9.Into(a5, k4); a6 = row9.Into(a6, k3);
                    var row10 = Row5.Load(ref Unsafe.Add(ref start, 10 * rowStep));
                    a6 = row10.Into(a6, k4); a7 = row10.Into(a7, k3);
                    var row11 = Row5.Load(ref Unsafe.Add(ref start, 11 * rowStep));
                    a7 = row11.Into(a7, k4);
                }
                StoreEightRows(ref Unsafe.Add(ref output, ox), outWidth, none, low, high, a0, a1, a2, a3, a4, a5, a6, a7);
                if (ox == last) break;
            }
        }

        // Eight output rows of a 5x5 stride-2 undilated kernel x one vector of 16 cells, on the phase-split plane (each padded
        // row's even columns, then its odd ones, phaseLength apart): a row's five column vectors are the even phase at 0, 1 and 2
        // and the odd phase at 0 and 1, made from two vectors of each phase (VectorRows.ColumnsFrom). Each of the 19 input rows
        // the tile reads feeds the (up to) three output rows that read it: kernel rows 0-2 over rows 0-16, then 3-4 over rows
        // 3-18 (15 weights in registers at a time), 132 loads for 200 multiply-adds instead of 200 loads across cache lines.
        // Each output's sum runs over the taps in the general tile's order (ky, then kx).
        private static void Rows5x5Stride2512(ref float input, int rowStride, int phaseLength, ref float w, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            int last = outWidth - 16;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last; // the last vector overlaps the one before
                ref float start = ref Unsafe.Add(ref input, ox);
                var a0 = Vector512.Create(bias);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                {
                    var k0 = Row5.Weights(ref w, 0); var k1 = Row5.Weights(ref w, 5); var k2 = Row5.Weights(ref w, 10);
                    var row0 = Row5.LoadPhases(ref start, phaseLength); a0 = row0.Into(a0, k0);
                    var row1 = Row5.LoadPhases(ref Unsafe.Add(ref start, 1 * rowStride), phaseLength); a0 = row1.Into(a0, k1);
                    var row2 = Row5.LoadPhases(ref Unsafe.Add(ref start, 2 * rowStride), phaseLength); a0 = row2.Into(a0, k2); a1 = row2.Into(a1, k0);
                    var row3 = Row5.LoadPhases(ref Unsafe.Add(ref start, 3 * rowStride), phaseLength); a1 = row3.Into(a1, k1);
                    var row4 = Row5.LoadPhases(ref Unsafe.Add(ref start, 4 * rowStride), phaseLength); a1 = row4.Into(a1, k2); a2 = row4.Into(a2, k0);
                    var row5 = Row5.LoadPhases(ref Unsafe.Add(ref start, 5 * rowStride), phaseLength); a2 = row5.Into(a2, k1);
                    var row6 = Row5.LoadPhases(ref Unsafe.Add(ref start, 6 * rowStride), phaseLength); a2 = row6.Into(a2, k2); a3 = row6.Into(a3, k0);
                    var row7 = Row5.LoadPhases(ref Unsafe.Add(ref start, 7 * rowStride), phaseLength); a3 = row7.Into(a3, k1);
                    var row8 = Row5.LoadPhases(ref Unsafe.Add(ref start, 8 * rowStride), phaseLength); a3 = row8.Into(a3, k2); a4 = row8.Into(a4, k0);
                    var row9 = Row5.LoadPhases(ref Unsafe.Add(ref start, 9 * rowStride), phaseLength); a4 = row9.Into(a4, k1);
                    var row10 = Row5.LoadPhases(ref Unsafe.Add(ref start, 10 * rowStride), phaseLength); a4 = row10.Into(a4, k2); a5 = row10.Into(a5, k0);
                    var row11 = Row5.LoadPhases(ref Unsafe.Add(ref start, 11 * rowStride), phaseLength); a5 = row11.Into(a5, k1);
                    var row12 = Row5.LoadPhases(ref Unsafe.Add(ref start, 12 * rowStride), phaseLength); a5 = row12.Into(a5, k2); a6 = row12.Into(a6, k0);
                    var row13 = Row5.LoadPhases(ref Unsafe.Add(ref start, 13 * rowStride), phaseLength); a6 = row13.Into(a6, k1);
                    var row14 = Row5.LoadPhases(ref Unsafe.Add(ref start, 14 * rowStride), phaseLength); a6 = row14.Into(a6, k2); a7 = row14.Into(a7, k0);
                    var row15 = Row5.LoadPhases(ref Unsafe.Add(ref start, 15 * rowStride), phaseLength); a7 = row15.Into(a7, k1);
                    var row16 = Row5.LoadPhases(ref Unsafe.Add(ref start, 16 * rowStride), phaseLength); a7 = row16.Into(a7, k2);
                }
                {
                    var k3 = Row5.Weights(ref w, 15); var k4 = Row5.Weights(ref w, 20);
                    var row3 = Row5.LoadPhases(ref Unsafe.Add(ref start, 3 * rowStride), phaseLength); a0 = row3.Into(a0, k3);
                    var row4 = Row5.LoadPhases(ref Unsafe.Add(ref start, 4 * rowStride), phaseLength); a0 = row4.Into(a0, k4);
                    var row5 = Row5.LoadPhases(ref Unsafe.Add(ref start, 5 * rowStride), phaseLength); a1 = row5.Into(a1, k3);
                    var row6 = Row5.LoadPhases(ref Unsafe.Add(ref start, 6 * rowStride), phaseLength); a1 = row6.Into(a1, k4);
                    var row7 = Row5.LoadPhases(ref Unsafe.Add(ref start, 7 * rowStride), phaseLength); a2 = row7.Into(a2, k3);
                    var row8 = Row5.LoadPhases(ref Unsafe.Add(ref start, 8 * rowStride), phaseLength); a2 = row8.Into(a2, k4);
                    var row9 = Row5.LoadPhases(ref Unsafe.Add(ref start, 9 * rowStride), phaseLength); a3 = row9.Into(a3, k3);
                    var row10 = Row5.LoadPhases(ref Unsafe.Add(ref start, 10 * rowStride), phaseLength); a3 = row10.Into(a3, k4);
                    var row11 = Row5.LoadPhases(ref Unsafe.Add(ref start, 11 * rowStride), phaseLength); a4 = row11.Into(a4, k3);
                    var row12 = Row5.LoadPhases(ref Unsafe.Add(ref start, 12 * rowStride), phaseLength); a4 = row12.Into(a4, k4);
                    var row13 = Row5.LoadPhases(ref Unsafe.Add(ref start, 13 * rowStride), phaseLength); a5 = row13.Into(a5, k3);
                    var row14 = Row5.LoadPhases(ref Unsafe.Add(ref start, 14 * rowStride), phaseLength); a5 = row14.Into(a5, k4);
                    var row15 = Row5.LoadPhases(ref Unsafe.Add(ref start, 15 * rowStride), phaseLength); a6 = row15.Into(a6, k3);
                    var row16 = Row5.LoadPhases(ref Unsafe.Add(ref start, 16 * rowStride), phaseLength); a6 = row16.Into(a6, k4);
                    var row17 = Row5.LoadPhases(ref Unsafe.Add(ref start, 17 * rowStride), phaseLength); a7 = row17.Into(a7, k3);
                    var row18 = Row5.LoadPhases(ref Unsafe.Add(ref start, 18 * rowStride), phaseLength); a7 = row18.Into(a7, k4);
                }
                StoreEightRows(ref Unsafe.Add(ref output, ox), outWidth, none, low, high, a0, a1, a2, a3, a4, a5, a6, a7);
                if (ox == last) break;
            }
        }

        // The eight output rows of a shared-rows tile, outWidth floats apart, each clamped unless the bounds are none (Vector512, then Vector256).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreEightRows(ref float o, int outWidth, bool none, Vector512<float> low, Vector512<float> high, Vector512<float> a0, Vector512<float> a1,
            Vector512<float> a2, Vector512<float> a3, Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7)
        {
            OutputClamp.Store(a0, none, low, high, ref o);
            OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref o, outWidth));
            OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref o, 2 * outWidth));
            OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref o, 3 * outWidth));
            OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref o, 4 * outWidth));
            OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref o, 5 * outWidth));
            OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref o, 6 * outWidth));
            OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref o, 7 * outWidth));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreEightRows(ref float o, int outWidth, bool none, Vector256<float> low, Vector256<float> high, Vector256<float> a0, Vector256<float> a1,
            Vector256<float> a2, Vector256<float> a3, Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
        {
            OutputClamp.Store(a0, none, low, high, ref o);
            OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref o, outWidth));
            OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref o, 2 * outWidth));
            OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref o, 3 * outWidth));
            OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref o, 4 * outWidth));
            OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref o, 5 * outWidth));
            OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref o, 6 * outWidth));
            OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref o, 7 * outWidth));
        }

        // One input row's 5 column shifts (made once for every output row that reads the row), or one kernel row's 5 weights.
        private readonly struct Row5
        {
            private readonly Vector512<float> C0, C1, C2, C3, C4;

            private Row5(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, Vector512<float> c4)
            {
                C0 = c0; C1 = c1; C2 = c2; C3 = c3; C4 = c4;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Row5 Load(ref float row)
            {
                var cells = Vector512.LoadUnsafe(ref row).AsUInt32();
                var next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                return new(cells.AsSingle(), VectorRows.ColumnsFrom(cells, next, 1), VectorRows.ColumnsFrom(cells, next, 2), VectorRows.ColumnsFrom(cells, next, 3), VectorRows.ColumnsFrom(cells, next, 4));
            }

            // A phase-split row at stride 2 (the even columns, then the odd ones phaseLength floats on): kx = 0..4 read the even
            // phase at 0, the odd at 0, the even at 1, the odd at 1 and the even at 2.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Row5 LoadPhases(ref float row, int phaseLength)
            {
                var even = Vector512.LoadUnsafe(ref row).AsUInt32();
                var evenNext = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                ref float oddRow = ref Unsafe.Add(ref row, phaseLength);
                var odd = Vector512.LoadUnsafe(ref oddRow).AsUInt32();
                var oddNext = Vector512.LoadUnsafe(ref oddRow, 16).AsUInt32();
                return new(even.AsSingle(), odd.AsSingle(), VectorRows.ColumnsFrom(even, evenNext, 1), VectorRows.ColumnsFrom(odd, oddNext, 1), VectorRows.ColumnsFrom(even, evenNext, 2));
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static Row5 Weights(ref float w, int first) =>
                new(Vector512.Create(Unsafe.Add(ref w, first)), Vector512.Create(Unsafe.Add(ref w, first + 1)), Vector512.Create(Unsafe.Add(ref w, first + 2)), Vector512.Create(Unsafe.Add(ref w, first + 3)), Vector512.Create(Unsafe.Add(ref w, first + 4)));

            // a + Σ C[kx]·k.C[kx], one fused multiply-add at a time in kx order (one kernel row's taps).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector512<float> Into(Vector512<float> a, in Row5 k)
            {
                a = Fused.MultiplyAdd(C0, k.C0, a);
                a = Fused.MultiplyAdd(C1, k.C1, a);
                a = Fused.MultiplyAdd(C2, k.C2, a);
                a = Fused.MultiplyAdd(C3, k.C3, a);
                return Fused.MultiplyAdd(C4, k.C4, a);
            }
        }

        // Weight i broadcast to every lane.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Tap(ref float w, int i) => Vector512.Create(Unsafe.Add(ref w, i));

        // Eight output rows of a 7x7 stride-1 undilated kernel x one vector of 16 cells, as Rows5x5512: the taps of kernel rows
        // 0-1, 2-3, 4-5, then 6 (14 weights in registers at a time), 245 vectors of shifted columns (from 70 loads) for 392
        // multiply-adds instead of 49 broadcasts and
        // 392 loads, each output's taps in the general tile's order. Unrolled by hand rather than through a struct of a row's
        // seven shifts as Rows5x5512 is: the JIT keeps five vectors of a struct in registers but not seven (that form ran
        // 2.5-3.1x slower in KernelBench depthwise-large).
        private static void Rows7x7512(ref float input, int rowStep, ref float w, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            int last = outWidth - 16;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > last) ox = last; // the last vector overlaps the one before
                ref float start = ref Unsafe.Add(ref input, ox);
                var a0 = Vector512.Create(bias);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                Vector512<float> v0, v1, v2, v3, v4, v5, v6;
                Vector512<uint> cells, next;
                ref float row = ref start;
                {
                    Vector512<float> w00 = Tap(ref w, 0), w01 = Tap(ref w, 1), w02 = Tap(ref w, 2), w03 = Tap(ref w, 3),
                        w04 = Tap(ref w, 4), w05 = Tap(ref w, 5), w06 = Tap(ref w, 6);
                    Vector512<float> w10 = Tap(ref w, 7), w11 = Tap(ref w, 8), w12 = Tap(ref w, 9), w13 = Tap(ref w, 10),
                        w14 = Tap(ref w, 11), w15 = Tap(ref w, 12), w16 = Tap(ref w, 13);
                    row = ref start;
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 1 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 2 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 3 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 4 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 5 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 6 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 7 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w00, w01, w02, w03, w04, w05, w06);
                    row = ref Unsafe.Add(ref start, 8 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w10, w11, w12, w13, w14, w15, w16);
                }
                {
                    Vector512<float> w20 = Tap(ref w, 14), w21 = Tap(ref w, 15), w22 = Tap(ref w, 16), w23 = Tap(ref w, 17),
                        w24 = Tap(ref w, 18), w25 = Tap(ref w, 19), w26 = Tap(ref w, 20);
                    Vector512<float> w30 = Tap(ref w, 21), w31 = Tap(ref w, 22), w32 = Tap(ref w, 23), w33 = Tap(ref w, 24),
                        w34 = Tap(ref w, 25), w35 = Tap(ref w, 26), w36 = Tap(ref w, 27);
                    row = ref Unsafe.Add(ref start, 2 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 3 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 4 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 5 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 6 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 7 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 8 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 9 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w20, w21, w22, w23, w24, w25, w26);
                    row = ref Unsafe.Add(ref start, 10 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w30, w31, w32, w33, w34, w35, w36);
                }
                {
                    Vector512<float> w40 = Tap(ref w, 28), w41 = Tap(ref w, 29), w42 = Tap(ref w, 30), w43 = Tap(ref w, 31),
                        w44 = Tap(ref w, 32), w45 = Tap(ref w, 33), w46 = Tap(ref w, 34);
                    Vector512<float> w50 = Tap(ref w, 35), w51 = Tap(ref w, 36), w52 = Tap(ref w, 37), w53 = Tap(ref w, 38),
                        w54 = Tap(ref w, 39), w55 = Tap(ref w, 40), w56 = Tap(ref w, 41);
                    row = ref Unsafe.Add(ref start, 4 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 5 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 6 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 7 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 8 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 9 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 10 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 11 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w40, w41, w42, w43, w44, w45, w46);
                    row = ref Unsafe.Add(ref start, 12 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w50, w51, w52, w53, w54, w55, w56);
                }
                {
                    Vector512<float> w60 = Tap(ref w, 42), w61 = Tap(ref w, 43), w62 = Tap(ref w, 44), w63 = Tap(ref w, 45),
                        w64 = Tap(ref w, 46), w65 = Tap(ref w, 47), w66 = Tap(ref w, 48);
                    row = ref Unsafe.Add(ref start, 6 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a0 = Taps7(a0, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 7 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a1 = Taps7(a1, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 8 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a2 = Taps7(a2, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 9 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a3 = Taps7(a3, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 10 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a4 = Taps7(a4, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 11 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a5 = Taps7(a5, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 12 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a6 = Taps7(a6, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                    row = ref Unsafe.Add(ref start, 13 * rowStep);
                    cells = Vector512.LoadUnsafe(ref row).AsUInt32(); next = Vector512.LoadUnsafe(ref row, 16).AsUInt32();
                    v0 = cells.AsSingle(); v1 = VectorRows.ColumnsFrom(cells, next, 1); v2 = VectorRows.ColumnsFrom(cells, next, 2); v3 = VectorRows.ColumnsFrom(cells, next, 3); v4 = VectorRows.ColumnsFrom(cells, next, 4); v5 = VectorRows.ColumnsFrom(cells, next, 5); v6 = VectorRows.ColumnsFrom(cells, next, 6);
                    a7 = Taps7(a7, v0, v1, v2, v3, v4, v5, v6, w60, w61, w62, w63, w64, w65, w66);
                }
                StoreEightRows(ref Unsafe.Add(ref output, ox), outWidth, none, low, high, a0, a1, a2, a3, a4, a5, a6, a7);
                if (ox == last) break;
            }
        }

        // a + v0·k0 + ... + v6·k6, one fused multiply-add at a time in that order (one kernel row's taps).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Taps7(Vector512<float> a, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Vector512<float> v4,
            Vector512<float> v5, Vector512<float> v6, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2, Vector512<float> k3, Vector512<float> k4,
            Vector512<float> k5, Vector512<float> k6)
        {
            a = Fused.MultiplyAdd(v0, k0, a);
            a = Fused.MultiplyAdd(v1, k1, a);
            a = Fused.MultiplyAdd(v2, k2, a);
            a = Fused.MultiplyAdd(v3, k3, a);
            a = Fused.MultiplyAdd(v4, k4, a);
            a = Fused.MultiplyAdd(v5, k5, a);
            return Fused.MultiplyAdd(v6, k6, a);
        }

        // Eight output rows of a 3x3 stride-1 undilated kernel x one vector of 8 cells: each of the ten input rows is loaded
        // once per column shift and feeds the (up to) three output rows that read it, 30 loads for 72 multiply-adds instead
        // of 72. Each output's sum still runs over the taps in order (ky, then kx), as in the general tile.
        private static void Rows3x3256(ref float input, int rowStep, ref float w, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            var w00 = Vector256.Create(w); var w01 = Vector256.Create(Unsafe.Add(ref w, 1)); var w02 = Vector256.Create(Unsafe.Add(ref w, 2));
            var w10 = Vector256.Create(Unsafe.Add(ref w, 3)); var w11 = Vector256.Create(Unsafe.Add(ref w, 4)); var w12 = Vector256.Create(Unsafe.Add(ref w, 5));
            var w20 = Vector256.Create(Unsafe.Add(ref w, 6)); var w21 = Vector256.Create(Unsafe.Add(ref w, 7)); var w22 = Vector256.Create(Unsafe.Add(ref w, 8));
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            bool none = clamp.IsNone;
            int last = outWidth - 8;
            for (int ox = 0; ; ox += 8)
            {
                if (ox > last) ox = last; // the last vector overlaps the one before
                ref float row = ref Unsafe.Add(ref input, ox);
                var a0 = Vector256.Create(bias);
                Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                Vector256<float> v0, v1, v2;
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a0 = KernelRow(a0, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a0 = KernelRow(a0, v0, v1, v2, w10, w11, w12);
                a1 = KernelRow(a1, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a0 = KernelRow(a0, v0, v1, v2, w20, w21, w22);
                a1 = KernelRow(a1, v0, v1, v2, w10, w11, w12);
                a2 = KernelRow(a2, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a1 = KernelRow(a1, v0, v1, v2, w20, w21, w22);
                a2 = KernelRow(a2, v0, v1, v2, w10, w11, w12);
                a3 = KernelRow(a3, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a2 = KernelRow(a2, v0, v1, v2, w20, w21, w22);
                a3 = KernelRow(a3, v0, v1, v2, w10, w11, w12);
                a4 = KernelRow(a4, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a3 = KernelRow(a3, v0, v1, v2, w20, w21, w22);
                a4 = KernelRow(a4, v0, v1, v2, w10, w11, w12);
                a5 = KernelRow(a5, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a4 = KernelRow(a4, v0, v1, v2, w20, w21, w22);
                a5 = KernelRow(a5, v0, v1, v2, w10, w11, w12);
                a6 = KernelRow(a6, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a5 = KernelRow(a5, v0, v1, v2, w20, w21, w22);
                a6 = KernelRow(a6, v0, v1, v2, w10, w11, w12);
                a7 = KernelRow(a7, v0, v1, v2, w00, w01, w02);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a6 = KernelRow(a6, v0, v1, v2, w20, w21, w22);
                a7 = KernelRow(a7, v0, v1, v2, w10, w11, w12);
                row = ref Unsafe.Add(ref row, rowStep);
                v0 = Vector256.LoadUnsafe(ref row); v1 = Vector256.LoadUnsafe(ref row, 1); v2 = Vector256.LoadUnsafe(ref row, 2);
                a7 = KernelRow(a7, v0, v1, v2, w20, w21, w22);
                StoreEightRows(ref Unsafe.Add(ref output, ox), outWidth, none, low, high, a0, a1, a2, a3, a4, a5, a6, a7);
                if (ox == last) break;
            }
        }

        // TRows output rows (rowStep floats apart in the plane) x one vector of 16 cells, along the row; the last vector of
        // a row overlaps the one before it. Unused accumulators vanish at JIT time.
        private static void Rows512<TRows>(ref float input, int rowStep, ref float w, ref int offsets, int taps, float bias, OutputClamp clamp, ref float output, int outWidth)
            where TRows : struct, IConstant
        {
            int rows = TRows.Value;
            var low = Vector512.Create(clamp.Low);
            var high = Vector512.Create(clamp.High);
            bool none = clamp.IsNone;
            // Row offsets computed once, so each load below is one addressing mode.
            nuint step1 = (nuint)rowStep, step2 = 2 * step1, step3 = 3 * step1;
            nint step4 = 4 * (nint)rowStep;
            for (int ox = 0; ; ox += 16)
            {
                if (ox > outWidth - 16) ox = outWidth - 16; // the last vector overlaps the one before
                ref float r0 = ref Unsafe.Add(ref input, ox);
                var a0 = Vector512.Create(bias);
                Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int t = 0; t < taps; t++)
                {
                    ref float at = ref Unsafe.Add(ref r0, Unsafe.Add(ref offsets, t));
                    var k = Vector512.Create(Unsafe.Add(ref w, t));
                    a0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at), k, a0);
                    if (rows > 1)
                    {
                        a1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, step1), k, a1);
                        a2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, step2), k, a2);
                        a3 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at, step3), k, a3);
                    }
                    if (rows > 4)
                    {
                        ref float at4 = ref Unsafe.Add(ref at, step4);
                        a4 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at4), k, a4);
                        a5 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at4, step1), k, a5);
                        a6 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at4, step2), k, a6);
                        a7 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref at4, step3), k, a7);
                    }
                }
                ref float o = ref Unsafe.Add(ref output, ox);
                OutputClamp.Store(a0, none, low, high, ref o);
                if (rows > 1)
                {
                    OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref o, outWidth));
                    OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref o, 2 * outWidth));
                    OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref o, 3 * outWidth));
                }
                if (rows > 4)
                {
                    OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref o, 4 * outWidth));
                    OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref o, 5 * outWidth));
                    OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref o, 6 * outWidth));
                    OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref o, 7 * outWidth));
                }
                if (ox == outWidth - 16) break;
            }
        }

        // The same tile on Vector256: TRows rows x one vector of 8 cells (rows narrower than 8: one vector each, spilling).
        private static void Rows256<TRows>(ref float input, int rowStep, ref float w, ref int offsets, int taps, float bias, OutputClamp clamp, ref float output, int outWidth)
            where TRows : struct, IConstant
        {
            int rows = TRows.Value;
            var low = Vector256.Create(clamp.Low);
            var high = Vector256.Create(clamp.High);
            bool none = clamp.IsNone;
            // Row offsets computed once, so each load below is one addressing mode.
            nuint step1 = (nuint)rowStep, step2 = 2 * step1, step3 = 3 * step1;
            nint step4 = 4 * (nint)rowStep;
            int last = Math.Max(0, outWidth - 8); // a row narrower than 8 is one vector that spills into the next
            for (int ox = 0; ; ox += 8)
            {
                if (ox > last) ox = last;
                ref float r0 = ref Unsafe.Add(ref input, ox);
                var a0 = Vector256.Create(bias);
                Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (int t = 0; t < taps; t++)
                {
                    ref float at = ref Unsafe.Add(ref r0, Unsafe.Add(ref offsets, t));
                    var k = Vector256.Create(Unsafe.Add(ref w, t));
                    a0 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at), k, a0);
                    if (rows > 1)
                    {
                        a1 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at, step1), k, a1);
                        a2 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at, step2), k, a2);
                        a3 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at, step3), k, a3);
                    }
                    if (rows > 4)
                    {
                        ref float at4 = ref Unsafe.Add(ref at, step4);
                        a4 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at4), k, a4);
                        a5 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at4, step1), k, a5);
                        a6 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at4, step2), k, a6);
                        a7 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref at4, step3), k, a7);
                    }
                }
                ref float o = ref Unsafe.Add(ref output, ox);
                OutputClamp.Store(a0, none, low, high, ref o);
                if (rows > 1)
                {
                    OutputClamp.Store(a1, none, low, high, ref Unsafe.Add(ref o, outWidth));
                    OutputClamp.Store(a2, none, low, high, ref Unsafe.Add(ref o, 2 * outWidth));
                    OutputClamp.Store(a3, none, low, high, ref Unsafe.Add(ref o, 3 * outWidth));
                }
                if (rows > 4)
                {
                    OutputClamp.Store(a4, none, low, high, ref Unsafe.Add(ref o, 4 * outWidth));
                    OutputClamp.Store(a5, none, low, high, ref Unsafe.Add(ref o, 5 * outWidth));
                    OutputClamp.Store(a6, none, low, high, ref Unsafe.Add(ref o, 6 * outWidth));
                    OutputClamp.Store(a7, none, low, high, ref Unsafe.Add(ref o, 7 * outWidth));
                }
                if (ox == last) break;
            }
        }

        private static void RowScalar(ref float input, ref float w, ref int offsets, int taps, float bias, OutputClamp clamp, ref float output, int outWidth)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                float acc = bias;
                for (int t = 0; t < taps; t++) acc += Unsafe.Add(ref input, Unsafe.Add(ref offsets, t) + ox) * Unsafe.Add(ref w, t);
                Unsafe.Add(ref output, ox) = clamp.Apply(acc);
            }
        }

        public static void Backward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            if (!Vectorized(g, path))
            {
                BackwardScalar(g, x, weight, outputGradient, weightGradient, inputGradient);
                return;
            }
            bool wantInput = !inputGradient.IsEmpty;
            // The weight gradient by its own kernel always, so that it is the same whether the input gradient is asked for
            // or not; the input gradient after it, by the transposed geometry's forward pass at stride 1 or by the gather
            // (DepthwiseConvolution.Gradients.cs), and by the scatter form below for channel multipliers above 1.
            if (!weightGradient.IsEmpty) WeightGradient(g, x, outputGradient, weightGradient, scratch, path);
            if (!wantInput) return;
            if (TransposedGeometry(g) is { } transposed)
            {
                InputGradientByCorrelation(g, transposed, weight, outputGradient, inputGradient, scratch, path);
                return;
            }
            if (GathersInputGradient(g))
            {
                InputGradientByGather(g, weight, outputGradient, inputGradient, scratch, path);
                return;
            }
            ScatterInputGradient(g, weight, outputGradient, inputGradient, scratch, path);
        }

        // The input gradient of any depthwise shape (here: channel multipliers above 1, outside the transposed geometry):
        // each tap's w · dy added into a padded, phase-split gradient plane, summed over the channel's multipliers, then
        // unpadded.
        private static void ScatterInputGradient(in ConvolutionGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var layout = new Layout(g);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, outWidth = g.OutWidth, outPlane = g.OutHeight * outWidth;
            Span<int> offsets = stackalloc int[taps];
            TapOffsets(g, layout, offsets);
            var gradientPlane = scratch.Slice(0, layout.PlaneLength);
            bool wide = path == DirectConvolution.KernelPath.Vector512 && Vector512.IsHardwareAccelerated;
            ref float gradientRef = ref MemoryMarshal.GetReference(gradientPlane);
            int rowStep = g.StrideHeight * layout.RowStride;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                gradientPlane.Clear();
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = ic * multiplier + m;
                    ref float dy = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputGradient), (nint)oc * outPlane);
                    for (int t = 0; t < taps; t++)
                    {
                        ref float gradient = ref Unsafe.Add(ref gradientRef, offsets[t]);
                        float w = weight[oc * taps + t];
                        if (wide) ScatterRows512(ref dy, ref gradient, w, g.OutHeight, outWidth, rowStep);
                        else ScatterRows256(ref dy, ref gradient, w, g.OutHeight, outWidth, rowStep);
                    }
                }
                Unpad(gradientPlane, ic, g, layout, inputGradient);
            }
        }

        // One tap over every output row: adds w · dy to the padded input gradient at the positions the tap read.
        private static void ScatterRows512(ref float dy, ref float gradient, float w, int outHeight, int outWidth, int rowStep)
        {
            var wv = Vector512.Create(w);
            int vectorEnd = outWidth & ~15;
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dy, oy * outWidth);
                ref float gRow = ref Unsafe.Add(ref gradient, (nint)oy * rowStep);
                int ox = 0;
                for (; ox < vectorEnd; ox += 16)
                    Fused.MultiplyAdd(Vector512.LoadUnsafe(ref dyRow, (nuint)ox), wv, Vector512.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                if (ox <= outWidth - 8)
                {
                    Fused.MultiplyAdd(Vector256.LoadUnsafe(ref dyRow, (nuint)ox), wv.GetLower(), Vector256.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                    ox += 8;
                }
                for (; ox < outWidth; ox++) Unsafe.Add(ref gRow, ox) += Unsafe.Add(ref dyRow, ox) * w;
            }
        }

        private static void ScatterRows256(ref float dy, ref float gradient, float w, int outHeight, int outWidth, int rowStep)
        {
            var wv = Vector256.Create(w);
            int vectorEnd = outWidth & ~7;
            for (int oy = 0; oy < outHeight; oy++)
            {
                ref float dyRow = ref Unsafe.Add(ref dy, oy * outWidth);
                ref float gRow = ref Unsafe.Add(ref gradient, (nint)oy * rowStep);
                int ox = 0;
                for (; ox < vectorEnd; ox += 8)
                    Fused.MultiplyAdd(Vector256.LoadUnsafe(ref dyRow, (nuint)ox), wv, Vector256.LoadUnsafe(ref gRow, (nuint)ox)).StoreUnsafe(ref gRow, (nuint)ox);
                for (; ox < outWidth; ox++) Unsafe.Add(ref gRow, ox) += Unsafe.Add(ref dyRow, ox) * w;
            }
        }

        // ------------------------------------------------------------------------------------------------------------
        // Scalar path: the definition's loops, bounds checked per tap.

        private static void ForwardScalar(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
            float low, float high)
        {
            var clamp = new OutputClamp(low, high);
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, inPlane = g.InHeight * g.InWidth;
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int ic = oc / multiplier;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float acc = bias.IsEmpty ? 0f : bias[oc];
                        for (int ky = 0; ky < g.KernelHeight; ky++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight) continue;
                            for (int kx = 0; kx < g.KernelWidth; kx++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix >= (uint)g.InWidth) continue;
                                acc += x[ic * inPlane + iy * g.InWidth + ix] * weight[oc * taps + ky * g.KernelWidth + kx];
                            }
                        }
                        y[(oc * g.OutHeight + oy) * g.OutWidth + ox] = clamp.Apply(acc);
                    }
                }
            }
        }

        private static void BackwardScalar(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.GroupOutChannels, inPlane = g.InHeight * g.InWidth;
            bool wantInput = !inputGradient.IsEmpty;
            if (wantInput) inputGradient.Slice(0, g.InLength).Clear();
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int ic = oc / multiplier;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        float w = weight[oc * taps + ky * g.KernelWidth + kx];
                        float dw = 0f;
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            int iy = oy * g.StrideHeight - g.PaddingHeight + ky * g.DilationHeight;
                            if ((uint)iy >= (uint)g.InHeight) continue;
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int ix = ox * g.StrideWidth - g.PaddingWidth + kx * g.DilationWidth;
                                if ((uint)ix >= (uint)g.InWidth) continue;
                                float d = outputGradient[(oc * g.OutHeight + oy) * g.OutWidth + ox];
                                int at = ic * inPlane + iy * g.InWidth + ix;
                                dw += d * x[at];
                                if (wantInput) inputGradient[at] += d * w;
                            }
                        }
                        if (!weightGradient.IsEmpty) weightGradient[oc * taps + ky * g.KernelWidth + kx] += dw;
                    }
                }
            }
        }
    }
}
