using System.Collections.Generic;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// A layer with parameters whose runtime kernel takes one sample and a geometry: forward writes y from x and the
    /// parameters; backward, in one call per sample, adds the sample's parameter gradients and writes its input gradient
    /// (skipped when the span is empty). The geometry is a static field of the generated class, built once.
    /// </summary>
    internal abstract class KernelLayerEmitter : LayerEmitter
    {
        /// <summary>The kernel class, e.g. <c>global::CnnGen.Kernels.GroupedConvolution</c>.</summary>
        protected abstract string Kernel { get; }
        /// <summary>The geometry type, e.g. <c>global::CnnGen.Kernels.ConvolutionGeometry</c>.</summary>
        protected abstract string GeometryType { get; }
        /// <summary>The geometry's constructor arguments, constants.</summary>
        protected abstract string GeometryArguments(PlannedLayer layer);
        /// <summary>Floats of weights (before the bias) in the layer's parameter slice.</summary>
        protected abstract int WeightLength(PlannedLayer layer);
        /// <summary>A comment saying what the kernel does.</summary>
        protected abstract string What(PlannedLayer layer);

        public override bool IsPerSample => true;
        public override bool IsPerSampleBackward(PlannedLayer layer) => !WeightGradientOverBatch(layer);

        /// <summary>
        /// Whether backward sums the layer's weight gradient over the batch in one call (<c>WeightGradientOverBatch</c>) before
        /// each sample's call takes the bias and input gradients.
        /// </summary>
        public virtual bool WeightGradientOverBatch(PlannedLayer layer) => false;
        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Input;

        protected static string GeometryField(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Geometry";

        private string Bias(PlannedLayer layer, string block) =>
            layer.Spec.Bias ? block + ".Slice(" + Int(WeightLength(layer)) + ", " + Int(layer.Output.Channels) + ")" : "default";

        public override string? ScratchLength(PlannedLayer layer) => Conv2dEmitter.WithBlockedChain(layer, WeightGradientOverBatch(layer)
            ? "global::System.Math.Max(" + Kernel + ".ScratchLength(" + GeometryField(layer) + "), " + Kernel + ".WeightGradientOverBatchScratch(" + GeometryField(layer) + "))"
            : Kernel + ".ScratchLength(" + GeometryField(layer) + ")");

        /// <summary>
        /// The forward statement for sample <c>n</c>: on the prepared weights where the layer has them
        /// (<see cref="HasPreparedWeights"/>), in every mode: they are the parameters' own (no batch-norm folds into this layer),
        /// refreshed by evaluation when the weights changed and by every other forward pass before its samples
        /// (<see cref="EmitPrepareStatement"/>).
        /// </summary>
        public override void EmitSampleStatement(IndentedWriter w, PlannedLayer layer)
        {
            if (HasPreparedWeights(layer))
            {
                EmitPreparedSampleStatement(w, layer);
                return;
            }
            w.Line(MethodName(layer) + "(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(layer), layer.Output.Length)
                + ", " + ParameterSlice(layer) + ", workspace.Columns);");
        }

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            w.Line("/// <summary>The geometry of " + Xml(layer.Describe()) + ".</summary>");
            w.Line("private static readonly " + GeometryType + " " + GeometryField(layer) + " = new(" + GeometryArguments(layer) + ");");
            w.Line();
            MethodHeader(w, layer, MethodName(layer), ReadOnlySpan + " x, " + Span + " y, " + ReadOnlySpan + " p, " + Span + " scratch");
            using (w.OpenBlock())
            {
                w.Line("// " + What(layer) + "; weight at p[0]" + (layer.Spec.Bias ? ", bias at p[" + Int(WeightLength(layer)) + "]" : ", no bias"));
                w.Line(Kernel + ".Forward(" + GeometryField(layer) + ", x, p.Slice(0, " + Int(WeightLength(layer)) + "), " + Bias(layer, "p") + ", y, scratch);");
            }
            if (!HasPreparedWeights(layer)) return;
            w.Line();
            w.Line("/// <summary>" + Xml(layer.Describe()) + ", for evaluation: on the weights prepared once per change of them where the runtime has prepared any.</summary>");
            w.Line("private static void " + PreparedMethodName(layer) + "(" + ReadOnlySpan + " x, " + Span + " y, " + ReadOnlySpan + " p, " + ReadOnlySpan + " prepared, " + Span + " scratch)");
            using (w.OpenBlock())
            {
                w.Line("// " + PreparedWhat(layer) + "; weight at p[0]" + (layer.Spec.Bias ? ", bias at p[" + Int(WeightLength(layer)) + "]" : ", no bias"));
                w.Line(Kernel + ".ForwardPrepared(" + GeometryField(layer) + ", x, p.Slice(0, " + Int(WeightLength(layer)) + "), prepared, " + Bias(layer, "p") + ", y, scratch);");
            }
        }

        /// <summary>Whether evaluation runs the layer on weights prepared once per change of them (<see cref="PreparedArray"/>; the runtime may prepare none).</summary>
        public virtual bool HasPreparedWeights(PlannedLayer layer) => false;

        /// <summary>A comment saying what the prepared path does.</summary>
        protected virtual string PreparedWhat(PlannedLayer layer) => What(layer);

        /// <summary>The workspace array holding evaluation's prepared weights.</summary>
        public static string PreparedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Prepared";

        private static string PreparedMethodName(PlannedLayer layer) => MethodName(layer) + "Prepared";

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer)
        {
            if (HasPreparedWeights(layer))
                yield return new WorkspaceArray(PreparedArray(layer), Kernel + ".PreparedLength(" + GeometryField(layer) + ")",
                    "Weights of " + layer.Describe() + " prepared for the forward's kernel: in evaluation once per change of them, in training once per pass (empty where the runtime prepares none)");
            if (HasInputGradientWeights(layer))
                yield return new WorkspaceArray(InputGradientWeightsArray(layer), Kernel + ".InputGradientWeightsLength(" + GeometryField(layer) + ")",
                    "Weights of " + layer.Describe() + " prepared for its input gradient's kernel once per backward pass (empty where the runtime prepares none)");
        }

        /// <summary>Whether backward takes the layer's input gradient from weights prepared once per pass (<see cref="InputGradientWeightsArray"/>; the runtime may prepare none).</summary>
        public virtual bool HasInputGradientWeights(PlannedLayer layer) => false;

        /// <summary>The workspace array holding backward's prepared weights for the input gradient.</summary>
        public static string InputGradientWeightsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "InputGradientWeights";

        /// <summary>The statement, before backward's samples, that prepares the input gradient's weights when that gradient is wanted.</summary>
        public void EmitPrepareInputGradientStatement(IndentedWriter w, PlannedLayer layer) =>
            w.Line("if (" + InputGradientCondition(layer) + ") " + Kernel + ".PrepareInputGradient(" + GeometryField(layer) + ", " + WeightParameterSlice(layer, WeightLength(layer))
                + ", workspace." + InputGradientWeightsArray(layer) + ");");

        /// <summary>The statement that prepares the weights in the workspace, run when the weights changed.</summary>
        public void EmitPrepareStatement(IndentedWriter w, PlannedLayer layer) =>
            w.Line(Kernel + ".Prepare(" + GeometryField(layer) + ", " + WeightParameterSlice(layer, WeightLength(layer)) + ", workspace." + PreparedArray(layer) + ");");

        // The statement for sample n of a layer with prepared weights (HasPreparedWeights), in every forward mode.
        private void EmitPreparedSampleStatement(IndentedWriter w, PlannedLayer layer) =>
            w.Line(PreparedMethodName(layer) + "(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(layer), layer.Output.Length)
                + ", " + ParameterSlice(layer) + ", workspace." + PreparedArray(layer) + ", workspace.Columns);");

        /// <summary>
        /// The forward call on <c>x</c>, <c>p</c> (weights, then a bias of the output channels when <paramref name="bias"/>),
        /// <c>y</c> and <c>columns</c>: what evaluation's fused method runs on the batch-norm-folded weights. With
        /// <paramref name="bounds"/> (the activation's "low, high" literals) the kernel clamps its output in its epilogue; with
        /// <paramref name="prepared"/> (the span holding them) it runs on filters prepared once (ForwardPrepared).
        /// </summary>
        public string ForwardCall(PlannedLayer layer, bool bias, string? bounds = null, string? prepared = null) =>
            Kernel + (prepared is null ? ".Forward(" : ".ForwardPrepared(") + GeometryField(layer) + ", x, p.Slice(0, " + Int(WeightLength(layer)) + "), "
            + (prepared is null ? "" : prepared + ", ")
            + (bias ? "p.Slice(" + Int(WeightLength(layer)) + ", " + Int(layer.Output.Channels) + ")" : "default") + ", y, columns"
            + (bounds is null ? "" : ", " + bounds) + ");";

        public override void EmitSampleBackwardStatement(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            w.Line(MethodName(layer) + "Backward(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputSample(layer) + ", "
                + ParameterSlice(layer) + (HasInputGradientWeights(layer) ? ", workspace." + InputGradientWeightsArray(layer) : "") + ", " + ParameterGradientOrEmpty(layer) + ", "
                + InputGradientOrEmpty(layer, gradients.InputSample(layer)) + ", workspace.Columns);");
        }

        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            if (WeightGradientOverBatch(layer))
            {
                w.Line("// The weight gradient summed over the batch in one call; the bias and input gradients a sample at a time");
                WhenParameterGradientNeeded(w, layer, () =>
                    w.Line(Kernel + ".WeightGradientOverBatch(" + GeometryField(layer) + ", " + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputBatch(layer)
                        + ", batchSize, " + GradientSlice(layer) + ".Slice(0, " + Int(WeightLength(layer)) + "), workspace.Columns);"));
            }
            using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                EmitSampleBackwardStatement(w, layer, gradients);
        }

        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": adds one sample's parameter gradients (unless dp is empty: frozen) and, when dx is not empty, writes its input gradient.</summary>");
            bool prepared = HasInputGradientWeights(layer), overBatch = WeightGradientOverBatch(layer);
            w.Line("private static void " + MethodName(layer) + "Backward(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, " + ReadOnlySpan + " p, "
                + (prepared ? ReadOnlySpan + " inputGradientWeights, " : "") + Span + " dp, " + Span + " dx, " + Span + " scratch)");
            using (w.OpenBlock())
            {
                if (overBatch) w.Line("// (The weight gradient was summed over the batch before the samples.)");
                w.Line(Kernel + (prepared ? ".BackwardPrepared(" : ".Backward(") + GeometryField(layer) + ", x, p.Slice(0, " + Int(WeightLength(layer)) + "), "
                    + (prepared ? "inputGradientWeights, " : "") + "dy, " + (overBatch ? "default" : "dp.IsEmpty ? default : dp.Slice(0, " + Int(WeightLength(layer)) + ")") + ", "
                    + (layer.Spec.Bias ? "dp.IsEmpty ? default : " + Bias(layer, "dp") : "default") + ", dx, scratch);");
            }
        }
    }

    /// <summary>
    /// <c>Conv2d</c> with groups, dilation or different height and width (depthwise included): the runtime's
    /// <c>GroupedConvolution</c>, which runs depthwise 3x3 directly on vectors and the rest as per-group products.
    /// </summary>
    internal sealed class GroupedConv2dEmitter : KernelLayerEmitter
    {
        public static readonly GroupedConv2dEmitter Instance = new();

        protected override string Kernel => "global::CnnGen.Kernels.GroupedConvolution";
        protected override string GeometryType => "global::CnnGen.Kernels.ConvolutionGeometry";

        protected override string GeometryArguments(PlannedLayer layer)
        {
            var (i, s) = (layer.Input, layer.Spec);
            return Int(i.Channels) + ", " + Int(i.Height) + ", " + Int(i.Width) + ", " + Int(s.Units) + ", " + Int(s.Kernel) + ", " + Int(s.KernelWidth) + ", "
                + Int(s.Stride) + ", " + Int(s.StrideWidth) + ", " + Int(s.Padding) + ", " + Int(s.PaddingWidth) + ", " + Int(s.Dilation) + ", " + Int(s.DilationWidth) + ", " + Int(s.Groups);
        }

        protected override int WeightLength(PlannedLayer layer) => layer.Spec.Units * (layer.Input.Channels / layer.Spec.Groups) * layer.Spec.Kernel * layer.Spec.KernelWidth;

        protected override string What(PlannedLayer layer) =>
            layer.Spec.Groups == layer.Input.Channels && layer.Spec.Groups > 1 ? "Depthwise convolution" : layer.Spec.Groups > 1 ? "Grouped convolution (" + Int(layer.Spec.Groups) + " groups)" : "Convolution";

        /// <summary>Whether a convolution needs this emitter rather than the square, undilated, ungrouped <see cref="Conv2dEmitter"/>.</summary>
        public static bool Handles(LayerSpec spec) =>
            spec.Groups != 1 || spec.Dilation != 1 || spec.DilationWidth != 1 || spec.KernelWidth != spec.Kernel || spec.StrideWidth != spec.Stride || spec.PaddingWidth != spec.Padding;

        /// <summary>
        /// An ungrouped stride-1 1xk or kx1 layer of 3, 5 or 7 taps from 16 channels onto 16 or more, which the runtime may run
        /// by a one-dimensional Winograd (GroupedConvolution.PreparedLength and InputGradientWeightsLength say where, 0 where it
        /// does not): its filters prepared once per change of the weights in evaluation and once per pass in training (the
        /// forward's, and backward's turned ones), rather than by every sample's call.
        /// </summary>
        public static bool HasLineFilters(PlannedLayer layer)
        {
            var s = layer.Spec;
            return layer.Kind == LayerKind.Conv2d && s.Groups == 1 && s.Stride == 1 && s.StrideWidth == 1 && s.Dilation == 1 && s.DilationWidth == 1
                && System.Math.Min(s.Kernel, s.KernelWidth) == 1 && System.Math.Max(s.Kernel, s.KernelWidth) is 3 or 5 or 7
                && layer.Input.Channels >= 16 && layer.Output.Channels >= 16;
        }

        public override bool HasPreparedWeights(PlannedLayer layer) => HasLineFilters(layer);

        public override bool HasInputGradientWeights(PlannedLayer layer) => HasLineFilters(layer);

        protected override string PreparedWhat(PlannedLayer layer) => What(layer) + ", by a one-dimensional Winograd from the prepared filters where the runtime runs that";

        /// <summary>
        /// Whether evaluation's fused method runs the layer on filters of its own, prepared from the weights with a batch-norm
        /// folded in (the pass's prepared filters are the parameters' own).
        /// </summary>
        public static bool UsesLineFilters(PlannedLayer layer) => HasLineFilters(layer) && layer.Fusion.BatchNorm;

        /// <summary>The workspace array holding evaluation's filters from the folded weights (<see cref="UsesLineFilters"/>).</summary>
        public static string LineFiltersArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "LineFilters";

        /// <summary>The filters evaluation's fused method reads: from the folded weights, or the parameters' prepared ones.</summary>
        public static string EvaluationFiltersArray(PlannedLayer layer) => UsesLineFilters(layer) ? LineFiltersArray(layer) : PreparedArray(layer);

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer)
        {
            foreach (var array in base.WorkspaceArrays(layer)) yield return array;
            if (UsesLineFilters(layer))
                yield return new WorkspaceArray(LineFiltersArray(layer), Kernel + ".PreparedLength(" + GeometryField(layer) + ")",
                    "One-dimensional Winograd filters of " + layer.Describe() + " for evaluation, from its weights with the batch-norm folded in, once per change of them (empty where the runtime runs it otherwise)");
        }

        /// <summary>The statement that prepares evaluation's line filters from <paramref name="weights"/> (the layer's weights first).</summary>
        public void EmitPrepareLineFilters(IndentedWriter w, PlannedLayer layer, string weights) =>
            w.Line(Kernel + ".Prepare(" + GeometryField(layer) + ", " + weights + ", workspace." + LineFiltersArray(layer) + ");");
    }

    /// <summary><c>ConvTranspose2d</c>: the runtime's <c>TransposedConvolution</c> (a product, then col2im).</summary>
    internal sealed class ConvTranspose2dEmitter : KernelLayerEmitter
    {
        public static readonly ConvTranspose2dEmitter Instance = new();

        protected override string Kernel => "global::CnnGen.Kernels.TransposedConvolution";
        protected override string GeometryType => "global::CnnGen.Kernels.TransposedConvolutionGeometry";

        protected override string GeometryArguments(PlannedLayer layer)
        {
            var (i, s) = (layer.Input, layer.Spec);
            return Int(i.Channels) + ", " + Int(i.Height) + ", " + Int(i.Width) + ", " + Int(s.Units) + ", " + Int(s.Kernel) + ", " + Int(s.KernelWidth) + ", "
                + Int(s.Stride) + ", " + Int(s.StrideWidth) + ", " + Int(s.Padding) + ", " + Int(s.PaddingWidth) + ", " + Int(s.OutputPadding) + ", " + Int(s.OutputPaddingWidth);
        }

        protected override int WeightLength(PlannedLayer layer) => layer.Input.Channels * layer.Spec.Units * layer.Spec.Kernel * layer.Spec.KernelWidth;

        protected override string What(PlannedLayer layer) => "Transposed convolution: each input cell scatters the kernel into the output";

        /// <summary>
        /// 4x4 stride-2 layers with padding 1 (DCGAN's generator): the runtime runs them by Winograd on their four output phases
        /// where that pays (TransposedConvolution.PreparedLength), from filters transformed once per change of the weights.
        /// </summary>
        public override bool HasPreparedWeights(PlannedLayer layer)
        {
            var s = layer.Spec;
            return s.Kernel == 4 && s.KernelWidth == 4 && s.Stride == 2 && s.StrideWidth == 2 && s.Padding == 1 && s.PaddingWidth == 1
                && s.OutputPadding == 0 && s.OutputPaddingWidth == 0;
        }

        protected override string PreparedWhat(PlannedLayer layer) =>
            "Transposed convolution: by Winograd on its four output phases from the prepared filters, or (none prepared) each input cell scattering the kernel into the output";

        /// <summary>
        /// Stride-2 layers with a square kernel and equal paddings: their input gradient is the convolution they transpose,
        /// run by the strided convolution's kernels on weights prepared once per backward pass
        /// (TransposedConvolution.DifferentiatesAsConvolution, InputGradientWeightsLength).
        /// </summary>
        public override bool HasInputGradientWeights(PlannedLayer layer)
        {
            var s = layer.Spec;
            return s.Stride == 2 && s.StrideWidth == 2 && s.Kernel == s.KernelWidth && s.Padding == s.PaddingWidth;
        }

        /// <summary>
        /// The runtime's TransposedConvolution.WeightGradientPaysOverBatch (its tests hold this copy to it): the same layers from
        /// inputs of 16 cells or fewer, and a one-cell input without padding (a generator's projection of its code).
        /// </summary>
        public override bool WeightGradientOverBatch(PlannedLayer layer)
        {
            var s = layer.Spec;
            bool oneCell = layer.Input.Height == 1 && layer.Input.Width == 1 && s.Padding == 0 && s.PaddingWidth == 0 && s.OutputPadding == 0 && s.OutputPaddingWidth == 0;
            return (HasInputGradientWeights(layer) && layer.Input.Height * layer.Input.Width <= 16) || oneCell;
        }
    }

    /// <summary>Upsampling (nearest, bilinear) and adaptive average pooling: per-sample runtime kernels without parameters.</summary>
    internal sealed class ResamplingEmitter : PerSampleLayerEmitter
    {
        public static readonly ResamplingEmitter Instance = new();

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.None;

        private static (string Forward, string Arguments) Call(PlannedLayer layer)
        {
            var (i, s) = (layer.Input, layer.Spec);
            string plane = Int(i.Channels) + ", " + Int(i.Height) + ", " + Int(i.Width);
            return layer.Kind switch
            {
                LayerKind.Upsample => (s.Mode == InterpolationMode.Bilinear ? "UpsampleBilinear" : "UpsampleNearest", plane + ", " + Int(s.Scale) + ", " + Int(s.Scale)),
                _ => ("AdaptiveAvgPool", plane + ", " + Int(layer.Output.Height) + ", " + Int(layer.Output.Width)),
            };
        }

        protected override void EmitSampleBody(IndentedWriter w, PlannedLayer layer)
        {
            var (method, arguments) = Call(layer);
            w.Line("global::CnnGen.Kernels.Resampling." + method + "(x, " + arguments + ", y);");
        }

        protected override void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer)
        {
            var (method, arguments) = Call(layer);
            w.Line("global::CnnGen.Kernels.Resampling." + method + "Backward(dy, " + arguments + ", dx);");
        }
    }
}
