using System;

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
        /// Floats of scratch for the forward and backward: every input phase (the input's size), one output phase, the
        /// undilated kernel's own scratch and its kept filters for the forward; the output gradient's phases (the output's size)
        /// and one input-gradient phase for the backward.
        /// </summary>
        public static int ScratchLength(in ConvolutionGeometry g)
        {
            var p = new Phases(g);
            int kernel = DirectConvolution.ScratchLength(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
            int filters = DirectConvolution.WinogradFiltersLength(g.InChannels, p.Height, p.Width, g.OutChannels, g.KernelHeight, p.Padding);
            long forward = (long)g.InLength + g.OutChannels * p.OutPlane + filters + kernel;
            long backward = (long)g.InLength + g.OutLength + g.InChannels * p.InPlane + kernel;
            long length = Math.Max(forward, backward);
            if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The phases of this convolution do not fit in a span.");
            return (int)length;
        }

        /// <summary>y = the dilated convolution of x (bias added, unclamped); the caller checked the spans.</summary>
        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var p = new Phases(g);
            int k = g.KernelHeight, inC = g.InChannels, outC = g.OutChannels;
            var inputPhases = scratch.Slice(0, g.InLength);
            var outputPhase = scratch.Slice(g.InLength, outC * p.OutPlane);
            // Kept filters (Winograd's, or the lanes kernel's packed weights) exist on the Vector512 path only; transformed
            // once for the d² phases instead of once per phase.
            int filterLength = path == DirectConvolution.KernelPath.Vector512
                ? DirectConvolution.WinogradFiltersLength(inC, p.Height, p.Width, outC, k, p.Padding) : 0;
            var filters = scratch.Slice(g.InLength + outC * p.OutPlane, filterLength);
            var kernelScratch = scratch.Slice(g.InLength + outC * p.OutPlane + filterLength);
            if (filterLength > 0) DirectConvolution.TransformFilters(weight, inC, p.Height, p.Width, outC, k, p.Padding, filters);

            Split(x, inC, g.InHeight, g.InWidth, p.D, inputPhases);
            for (int ry = 0; ry < p.D; ry++)
            {
                for (int rx = 0; rx < p.D; rx++)
                {
                    var phase = inputPhases.Slice((ry * p.D + rx) * inC * p.InPlane, inC * p.InPlane);
                    DirectConvolution.ForwardOn(phase, inC, p.Height, p.Width, weight, bias, outC, k, p.Padding, outputPhase, kernelScratch,
                        relu: false, pool: false, path, winogradFilters: filters);
                    Interleave(outputPhase, outC, p.OutHeight, p.OutWidth, p.D, ry, rx, y);
                }
            }
        }

        /// <summary>
        /// Adds d weight to <paramref name="weightGradient"/> (unless empty) and writes d x to <paramref name="inputGradient"/>
        /// (unless empty): each phase's undilated backward, the weight gradients summed over the phases.
        /// </summary>
        public static void Backward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path)
        {
            var p = new Phases(g);
            int k = g.KernelHeight, inC = g.InChannels, outC = g.OutChannels;
            var inputPhases = scratch.Slice(0, g.InLength);
            var gradientPhases = scratch.Slice(g.InLength, g.OutLength);
            var inputGradientPhase = scratch.Slice(g.InLength + g.OutLength, inC * p.InPlane);
            var kernelScratch = scratch.Slice(g.InLength + g.OutLength + inC * p.InPlane);
            Split(x, inC, g.InHeight, g.InWidth, p.D, inputPhases);
            Split(outputGradient, outC, g.OutHeight, g.OutWidth, p.D, gradientPhases);
            for (int ry = 0; ry < p.D; ry++)
            {
                for (int rx = 0; rx < p.D; rx++)
                {
                    int phaseIndex = ry * p.D + rx;
                    DirectConvolution.BackwardOn(inputPhases.Slice(phaseIndex * inC * p.InPlane, inC * p.InPlane), inC, p.Height, p.Width, weight,
                        gradientPhases.Slice(phaseIndex * outC * p.OutPlane, outC * p.OutPlane), outC, k, p.Padding,
                        weightGradient, inputGradient.IsEmpty ? default : inputGradientPhase, kernelScratch, path);
                    if (!inputGradient.IsEmpty) Interleave(inputGradientPhase, inC, p.Height, p.Width, p.D, ry, rx, inputGradient);
                }
            }
        }

        // phases[(ry·d + rx)][c][j][i] = source[c][j·d + ry][i·d + rx].
        private static void Split(ReadOnlySpan<float> source, int channels, int height, int width, int d, Span<float> phases)
        {
            int phaseHeight = height / d, phaseWidth = width / d, phaseLength = channels * phaseHeight * phaseWidth;
            for (int ry = 0; ry < d; ry++)
            {
                for (int rx = 0; rx < d; rx++)
                {
                    var phase = phases.Slice((ry * d + rx) * phaseLength, phaseLength);
                    int at = 0;
                    for (int c = 0; c < channels; c++)
                    {
                        for (int j = 0; j < phaseHeight; j++)
                        {
                            var row = source.Slice((c * height + j * d + ry) * width, width);
                            for (int i = 0; i < phaseWidth; i++) phase[at++] = row[i * d + rx];
                        }
                    }
                }
            }
        }

        // target[c][j·d + ry][i·d + rx] = phase[c][j][i]: one phase back into its places.
        private static void Interleave(ReadOnlySpan<float> phase, int channels, int phaseHeight, int phaseWidth, int d, int ry, int rx, Span<float> target)
        {
            int height = phaseHeight * d, width = phaseWidth * d, at = 0;
            for (int c = 0; c < channels; c++)
            {
                for (int j = 0; j < phaseHeight; j++)
                {
                    var row = target.Slice((c * height + j * d + ry) * width, width);
                    for (int i = 0; i < phaseWidth; i++) row[i * d + rx] = phase[at++];
                }
            }
        }
    }
}
