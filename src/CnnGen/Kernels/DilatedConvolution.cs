using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// A dilated stride-1 convolution as d² undilated ones (the "space to batch" identity): with dilation d, output cell
    /// (oy, ox) reads input rows and columns of its own residue mod d only, at steps of d. So the input splits into d x d
    /// phase planes (rows ≡ ry, columns ≡ rx), each phase runs the ordinary stride-1 kernel (<see cref="DirectConvolution"/>,
    /// Winograd or direct, at padding p / d), and its output is the output's phase (ry, rx). The arithmetic is the
    /// convolution's own; what is added is one pass splitting the input and one interleaving the output.
    /// </summary>
    /// <remarks>
    /// Taken where the identity is exact and the phases share one shape: one group, a square kernel, equal dilation d &gt; 1
    /// and equal padding along both axes with the padding a multiple of d, stride 1, and a map whose sides are multiples
    /// of d (so every phase is (H/d) x (W/d); the output's sides are multiples of d then too). Measured (`zoo sweep probe`,
    /// one thread, load 12-21, against the im2col + GEMM route it replaces and ONNX Runtime): 3x3 d2 32->32 @32x32 162.5 us
    /// before, ORT 101.2; 3x3 d4 32->64 @32x32 314.0 us before, ORT 209.8 (after: benchmarks/README.md).
    /// </remarks>
    internal static class DilatedConvolution
    {
        /// <summary>Whether <paramref name="g"/> runs as d² undilated phases (see the class remarks).</summary>
        public static bool Handles(in ConvolutionGeometry g) =>
            g.Groups == 1 && g.KernelHeight == g.KernelWidth && g.StrideHeight == 1 && g.StrideWidth == 1
            && g.DilationHeight > 1 && g.DilationWidth == g.DilationHeight && g.PaddingWidth == g.PaddingHeight
            && g.PaddingHeight % g.DilationHeight == 0 && g.InHeight % g.DilationHeight == 0 && g.InWidth % g.DilationHeight == 0
            && g.OutHeight > 0 && g.OutWidth > 0;

        private readonly struct Phases
        {
            public readonly int D, Height, Width, Padding, OutHeight, OutWidth, InPlane, OutPlane;

            public Phases(in ConvolutionGeometry g)
            {
                D = g.DilationHeight;
                Height = g.InHeight / D;
                Width = g.InWidth / D;
                Padding = g.PaddingHeight / D;
                OutHeight = g.OutHeight / D;
                OutWidth = g.OutWidth / D;
                InPlane = Height * Width;
                OutPlane = OutHeight * OutWidth;
            }
        }

        /// <summary>
        /// Floats of scratch for the forward and backward: every input phase (the input's size), every output phase (the
        /// output's size), the undilated kernel's own scratch and its kept filters for the forward; the output gradient's phases
        /// and every input-gradient phase for the backward.
        /// </summary>
        public static int ScratchLength(in ConvolutionGeometry g)
        {
            var p = new Phases(g);
            int kernel = DirectConvolution.ScratchLength(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
            int filters = DirectConvolution.WinogradFiltersLength(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
            long forward = (long)g.InLength + g.OutLength + filters + kernel;
            if (ByWinograd(g, KernelPaths.Default)) forward = Math.Max(forward, (long)filters + WinogradLayout(g).ScratchLength);
            int products = DirectConvolution.WeightGradientProductsLength(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
            long backward = 2L * g.InLength + g.OutLength + filters + products + kernel;
            long length = Math.Max(forward, backward);
            if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The phases of this convolution do not fit in a span.");
            return (int)length;
        }

        /// <summary>Off: the phases are split out, run and interleaved back even where they run by Winograd (tests: the same floats).</summary>
        internal static bool WholeMapWinograd = true;

        // Where the phases' forward runs by Winograd (the machine's own vector path), all d² phases run as one Winograd convolution on the map
        // itself: its tiles' windows read every d-th padded cell and their outputs write every d-th cell
        // (WinogradF4Convolution.Layout.Dilation), so the map is transposed to channel lanes once and back once, with no
        // pass splitting it into phases or interleaving them back (perf, the sweep's dilated network at batch 1: those
        // two passes were 21% of the call).
        internal static bool ByWinograd(in ConvolutionGeometry g, DirectConvolution.KernelPath path)
        {
            if (!WholeMapWinograd || !DirectConvolution.WinogradOn(path)) return false;
            var p = new Phases(g);
            return DirectConvolution.ForwardByWinograd(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
        }

        private static WinogradF4Convolution.Layout WinogradLayout(in ConvolutionGeometry g) =>
            new(g.InChannels, g.InHeight, g.InWidth, g.OutChannels, g.PaddingHeight, g.KernelHeight, g.DilationHeight);

        /// <summary>y = the dilated convolution of x (bias added, unclamped); the caller checked the spans.</summary>
        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var p = new Phases(g);
            int k = g.KernelHeight, inC = g.InChannels, outC = g.OutChannels;
            if (ByWinograd(g, path))
            {
                var layout = WinogradLayout(g);
                var winogradFilters = scratch.Slice(0, layout.FiltersLength);
                WinogradF4Convolution.TransformFiltersForThisCall(weight, winogradFilters, layout);
                WinogradF4Convolution.Forward(x, winogradFilters, bias, y, scratch.Slice(layout.FiltersLength), relu: false, pool: false, layout);
                return;
            }
            var inputPhases = scratch.Slice(0, g.InLength);
            var outputPhases = scratch.Slice(g.InLength, g.OutLength);
            // Kept filters (Winograd's, or the lanes kernel's packed weights) exist on the Vector512 path only; transformed
            // once for the d² phases instead of once per phase.
            int filterLength = path == DirectConvolution.KernelPath.Vector512
                ? DirectConvolution.WinogradFiltersLength(inC, p.Height, p.Width, outC, k, p.Padding) : 0;
            var filters = scratch.Slice(g.InLength + g.OutLength, filterLength);
            var kernelScratch = scratch.Slice(g.InLength + g.OutLength + filterLength);
            if (filterLength > 0) DirectConvolution.TransformFilters(weight, inC, p.Height, p.Width, outC, k, p.Padding, filters);

            Split(x, inC, g.InHeight, g.InWidth, p.D, inputPhases, path);
            for (int phase = 0; phase < p.D * p.D; phase++)
            {
                DirectConvolution.ForwardOn(inputPhases.Slice(phase * inC * p.InPlane, inC * p.InPlane), inC, p.Height, p.Width, weight, bias, outC, k, p.Padding,
                    outputPhases.Slice(phase * outC * p.OutPlane, outC * p.OutPlane), kernelScratch, relu: false, pool: false, path, winogradFilters: filters);
            }
            Interleave(outputPhases, outC, g.OutHeight, g.OutWidth, p.D, y, path);
        }

        /// <summary>
        /// Adds d weight to <paramref name="weightGradient"/> (unless empty) and writes d x to <paramref name="inputGradient"/>
        /// (unless empty): each phase's undilated backward, the weight gradients summed over the phases.
        /// </summary>
        /// <remarks>
        /// On the Vector512 path the phases share what depends on the weights only: the input gradient's Winograd filters,
        /// transformed once for the d² phases, and, where the weight gradient runs by F(2x2, 3x3) summed over samples, one
        /// array of products the phases add to, transformed back once at the last phase (the phases are that kernel's samples).
        /// </remarks>
        public static void Backward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var p = new Phases(g);
            int k = g.KernelHeight, inC = g.InChannels, outC = g.OutChannels;
            var inputPhases = scratch.Slice(0, g.InLength);
            var gradientPhases = scratch.Slice(g.InLength, g.OutLength);
            var inputGradientPhases = scratch.Slice(g.InLength + g.OutLength, g.InLength);
            bool vector512 = path == DirectConvolution.KernelPath.Vector512;
            int filterLength = vector512 && !inputGradient.IsEmpty ? DirectConvolution.WinogradFiltersLength(inC, p.Height, p.Width, outC, k, p.Padding) : 0;
            int productLength = vector512 && !weightGradient.IsEmpty ? DirectConvolution.WeightGradientProductsLength(inC, p.Height, p.Width, outC, k, p.Padding) : 0;
            int phasesLength = 2 * g.InLength + g.OutLength; // the input's, the output gradient's and the input gradient's phases
            var filters = scratch.Slice(phasesLength, filterLength);
            var products = scratch.Slice(phasesLength + filterLength, productLength);
            var kernelScratch = scratch.Slice(phasesLength + filterLength + productLength);
            if (filterLength > 0) DirectConvolution.TransformFiltersForInputGradient(weight, inC, p.Height, p.Width, outC, k, p.Padding, filters);
            Split(x, inC, g.InHeight, g.InWidth, p.D, inputPhases, path);
            Split(outputGradient, outC, g.OutHeight, g.OutWidth, p.D, gradientPhases, path);
            int phases = p.D * p.D;
            for (int phase = 0; phase < phases; phase++)
            {
                DirectConvolution.BackwardOn(inputPhases.Slice(phase * inC * p.InPlane, inC * p.InPlane), inC, p.Height, p.Width, weight,
                    gradientPhases.Slice(phase * outC * p.OutPlane, outC * p.OutPlane), outC, k, p.Padding,
                    weightGradient, inputGradient.IsEmpty ? default : inputGradientPhases.Slice(phase * inC * p.InPlane, inC * p.InPlane), kernelScratch, path,
                    inputGradientFilters: filters, weightGradientProducts: products, sample: phase, samples: phases);
            }
            if (!inputGradient.IsEmpty) Interleave(inputGradientPhases, inC, g.InHeight, g.InWidth, p.D, inputGradient, path);
        }

        // phases[(ry·d + rx)][c][j][i] = source[c][j·d + ry][i·d + rx].
        private static void Split(ReadOnlySpan<float> source, int channels, int height, int width, int d, Span<float> phases, DirectConvolution.KernelPath path) =>
            Walk<Splitting>(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(phases), channels, height, width, d, path);

        // target[c][j·d + ry][i·d + rx] = phases[(ry·d + rx)][c][j][i]: every phase back into its places.
        private static void Interleave(ReadOnlySpan<float> phases, int channels, int height, int width, int d, Span<float> target, DirectConvolution.KernelPath path) =>
            Walk<Interleaving>(ref MemoryMarshal.GetReference(target), ref MemoryMarshal.GetReference(phases), channels, height, width, d, path);

        // Each row of the map against its d phase rows (phase (ry, rx) row j at phaseRow + rx · phaseLength), one direction or
        // the other: dilation 2 on the vector paths moves 16 floats of a map row at a time (VectorRows.Deinterleave and
        // Interleave), dilation 4 on Vector512 16 at a time by a 4x4 transpose, the rest float by float.
        private static void Walk<TStep>(ref float map, ref float phases, int channels, int height, int width, int d, DirectConvolution.KernelPath path)
            where TStep : struct, IPhaseStep
        {
            int phaseHeight = height / d, phaseWidth = width / d, phaseLength = channels * phaseHeight * phaseWidth;
            bool pairs = d == 2 && path != DirectConvolution.KernelPath.Scalar && Vector256.IsHardwareAccelerated;
            bool quads = d == 4 && path == DirectConvolution.KernelPath.Vector512;
            // Rows by phase row j and residue ry, so no row divides (taking the two divisions a row out measured the same:
            // what these passes cost is their moves, which the Vector512 path's whole-map Winograd no longer makes).
            for (int c = 0; c < channels; c++)
            {
                for (int j = 0; j < phaseHeight; j++)
                for (int ry = 0; ry < d; ry++)
                {
                    ref float mapRow = ref Unsafe.Add(ref map, (c * height + j * d + ry) * width);
                    ref float phaseRow = ref Unsafe.Add(ref phases, ry * d * phaseLength + (c * phaseHeight + j) * phaseWidth);
                    int i = 0;
                    if (pairs)
                    {
                        for (; i <= phaseWidth - 8; i += 8)
                            TStep.Pairs(ref Unsafe.Add(ref mapRow, 2 * i), ref Unsafe.Add(ref phaseRow, i), ref Unsafe.Add(ref phaseRow, phaseLength + i));
                    }
                    if (quads)
                    {
                        for (; i <= phaseWidth - 4; i += 4)
                            TStep.Quads(ref Unsafe.Add(ref mapRow, 4 * i), ref Unsafe.Add(ref phaseRow, i), phaseLength);
                    }
                    for (; i < phaseWidth; i++)
                        for (int rx = 0; rx < d; rx++) TStep.Move(ref Unsafe.Add(ref mapRow, i * d + rx), ref Unsafe.Add(ref phaseRow, rx * phaseLength + i));
                }
            }
        }

        private interface IPhaseStep
        {
            // One float between its place in the map and in its phase.
            static abstract void Move(ref float map, ref float phase);
            // 16 floats of a map row between it and 8 of each of its two phases (dilation 2): VectorRows' even/odd split.
            static abstract void Pairs(ref float map, ref float evens, ref float odds);
            // 16 floats of a map row between it and 4 of each of its four phases (dilation 4), the phases phaseLength apart.
            static abstract void Quads(ref float map, ref float phases, int phaseLength);
        }

        // Map lane 4q + r is phase r's q-th float: lane 4r + q of the shuffled vector, and back (the 4x4 transpose is its own inverse).
        private static Vector512<int> Transpose4x4 => Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

        private readonly struct Splitting : IPhaseStep
        {
            public static void Move(ref float map, ref float phase) => phase = map;

            public static void Pairs(ref float map, ref float evens, ref float odds)
            {
                var (e, o) = VectorRows.Deinterleave(ref map);
                e.StoreUnsafe(ref evens);
                o.StoreUnsafe(ref odds);
            }

            public static void Quads(ref float map, ref float phases, int phaseLength)
            {
                var byPhase = Vector512.Shuffle(Vector512.LoadUnsafe(ref map), Transpose4x4);
                byPhase.GetLower().GetLower().StoreUnsafe(ref phases);
                byPhase.GetLower().GetUpper().StoreUnsafe(ref phases, (nuint)phaseLength);
                byPhase.GetUpper().GetLower().StoreUnsafe(ref phases, (nuint)(2 * phaseLength));
                byPhase.GetUpper().GetUpper().StoreUnsafe(ref phases, (nuint)(3 * phaseLength));
            }
        }

        private readonly struct Interleaving : IPhaseStep
        {
            public static void Move(ref float map, ref float phase) => map = phase;

            public static void Pairs(ref float map, ref float evens, ref float odds) =>
                VectorRows.Interleave(Vector256.LoadUnsafe(ref evens), Vector256.LoadUnsafe(ref odds), ref map);

            public static void Quads(ref float map, ref float phases, int phaseLength)
            {
                var byPhase = Vector512.Create(
                    Vector256.Create(Vector128.LoadUnsafe(ref phases), Vector128.LoadUnsafe(ref phases, (nuint)phaseLength)),
                    Vector256.Create(Vector128.LoadUnsafe(ref phases, (nuint)(2 * phaseLength)), Vector128.LoadUnsafe(ref phases, (nuint)(3 * phaseLength))));
                Vector512.Shuffle(byPhase, Transpose4x4).StoreUnsafe(ref map);
            }
        }
    }
}
