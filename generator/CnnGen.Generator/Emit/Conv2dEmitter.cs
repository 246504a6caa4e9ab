using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>Conv2d</c>. At stride 1 it is <c>DirectConvolution</c>: a register-tiled direct convolution with the bias in its
    /// accumulators, and a backward pass over flat padded rows, no im2col. At other strides the forward pass is
    /// <c>StridedConvolution</c> (output channels in the vector lanes, folded batch-norm and ReLU fused in evaluation) and the
    /// backward pass a matrix product: im2col lays
    /// the kernel taps of every output cell out as a (C·K·K) x (OH·OW) matrix, and the weights [OC x C·K·K] multiply it.
    /// The weight gradient correlates the output gradient with the same columns, the input gradient multiplies by the
    /// transposed weights and folds the columns back (col2im). A 1x1 convolution at stride 1 without padding is a plain
    /// product throughout (no im2col, no padding copy).
    /// </summary>
    internal sealed class Conv2dEmitter : LayerEmitter
    {
        public static readonly Conv2dEmitter Instance = new();

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Input;

        private readonly record struct Dims(int OutChannels, int Taps, int Cells, int WeightLength, bool NeedsColumns, bool Direct)
        {
            /// <summary>Stride above 1: the forward pass is <c>StridedConvolution</c> (direct, or im2col + GEMM inside it).</summary>
            public bool Strided => NeedsColumns && !Direct;
        }

        private static Dims DimsOf(PlannedLayer layer)
        {
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            int taps = input.Channels * spec.Kernel * spec.Kernel;
            bool pointwise = spec.Kernel == 1 && spec.Stride == 1 && spec.Padding == 0;
            return new Dims(output.Channels, taps, output.Height * output.Width, output.Channels * taps, !pointwise, spec.Stride == 1 && !pointwise);
        }

        /// <summary>
        /// The runtime expression for the scratch floats of this layer's direct kernels, or null when it has none. The
        /// runtime owns that arithmetic (padding, vector rounding), so the workspace asks it rather than repeating it.
        /// </summary>
        public static string? DirectScratchLength(PlannedLayer layer)
        {
            if (!DimsOf(layer).Direct) return null;
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            // A layer that keeps Winograd filters needs no room to transform them on each call.
            string shape = Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(output.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Padding) + ")";
            string perSample = WinogradLinked(layer)
                ? "global::CnnGen.Kernels.DirectConvolution.LinkedScratchLength(" + shape.TrimEnd(')') + ", pool: " + (layer.Fusion.Pool ? "true" : "false") + ", "
                    + WinogradLinkExpression(layer.Fusion.WinogradFrom, layer.Fusion.WinogradFromAtEnd) + ", " + WinogradLinkExpression(layer.Fusion.WinogradTo, layer.Fusion.WinogradToAtEnd) + ")"
                : "global::CnnGen.Kernels.DirectConvolution." + (HasWinogradFilters(layer) ? "ScratchLengthWithFilters(" : "ScratchLength(") + shape;
            // The forward over the batch takes the backward's scratch (a group's columns and outputs) and a padded sample.
            return ForwardOverBatch(layer) ? "global::System.Math.Max(" + perSample + ", global::CnnGen.Kernels.DirectConvolution.ForwardOverBatchScratch(" + shape + ")"
                : BackwardOverBatch(layer) || SplitsBackward(layer) ? "global::System.Math.Max(" + perSample + ", global::CnnGen.Kernels.DirectConvolution.BackwardOverBatchScratch(" + shape + ")" : perSample;
        }

        /// <summary>
        /// Whether evaluation runs the layer over the batch (<c>DirectConvolution.ForwardOverBatch</c>, groups of samples as one
        /// GEMM per kernel tap) where the layers run over the whole batch: a stride-1 layer whose weights take 256 KiB or more
        /// on an output of 16 cells or fewer. The runtime's <c>DirectConvolution.ForwardPaysOverBatch</c> states the same rule and its measurements
        /// (its tests hold the two together).
        /// </summary>
        public static bool ForwardOverBatch(PlannedLayer layer)
        {
            var d = DimsOf(layer);
            return layer.Kind == LayerKind.Conv2d && d.Direct && !GroupedConv2dEmitter.Handles(layer.Spec) && (long)d.WeightLength >= 1 << 16 && d.Cells <= 16;
        }

        /// <summary>Fewer samples than this run one at a time: their cells make under 32 GEMM columns (DirectConvolution.ForwardOverBatchMinimum).</summary>
        private static int ForwardOverBatchMinimum(PlannedLayer layer) => (32 + DimsOf(layer).Cells - 1) / DimsOf(layer).Cells;

        /// <summary>
        /// Evaluation's statement for a layer run over the batch (<see cref="ForwardOverBatch"/>) with what it absorbs
        /// (<paramref name="fusion"/>, writing <paramref name="last"/>'s output): the batch in one call when it has enough
        /// samples, else a sample at a time as before.
        /// </summary>
        public static void EmitOverBatchStatement(IndentedWriter w, PlannedLayer layer, PlannedLayer last, Fusion fusion)
        {
            string weights = fusion.BatchNorm ? "workspace." + FoldedArray(layer) : ParameterSlice(layer);
            w.Line("// " + Int(DimsOf(layer).WeightLength) + " weights for " + Int(DimsOf(layer).Cells) + " cells a sample: groups of samples as one GEMM per kernel tap, the weights read once a group");
            using (w.OpenBlock("if (batchSize >= " + Int(ForwardOverBatchMinimum(layer)) + ")"))
                w.Line(MethodName(layer) + fusion.MethodSuffix + "OverBatch(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + BatchSlice(OutputArray(last), last.Output.Length) + ", batchSize, " + weights + ", workspace.Columns);");
            using (w.OpenBlock("else"))
            {
                using (w.OpenBlock(SampleRange.WholeBatch.Loop))
                {
                    if (fusion.HasEvaluationMethod) EmitFusedStatement(w, layer, last, fusion);
                    else Instance.EmitEvaluationSampleStatement(w, layer);
                }
            }
        }

        // The method EmitOverBatchStatement calls: x and y of the whole batch, p the weights then the bias (folded with a batch-norm).
        private static void EmitOverBatchMethod(IndentedWriter w, PlannedLayer layer, PlannedLayer last, Fusion fusion, bool bias)
        {
            var (d, input, spec) = (DimsOf(layer), layer.Input, layer.Spec);
            w.Line("/// <summary>" + Xml(layer.Describe()) + (fusion.Absorbed > 0 ? " and what it absorbs" : "") + ", over a batch: writes " + Xml(last.Output.ToString()) + " per sample.</summary>");
            w.Line("private static void " + MethodName(layer) + fusion.MethodSuffix + "OverBatch(" + ReadOnlySpan + " x, " + Span + " y, int batchSize, " + ReadOnlySpan + " p, " + Span + " columns)");
            using (w.OpenBlock())
            {
                w.Line("global::CnnGen.Kernels.DirectConvolution.ForwardOverBatch(x, batchSize, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                    + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Padding)
                    + ", y, columns, relu: " + (fusion.Relu ? "true" : "false") + ", pool: " + (fusion.Pool ? "true" : "false") + ");");
                if (fusion.Activation is { } activation)
                {
                    w.Line("// " + activation.Describe() + ", in place over the batch's outputs");
                    w.Line(ActivationEmitter.InPlaceStatement(activation, "y"));
                }
            }
        }

        /// <summary>
        /// Whether the layer's backward runs over the whole batch (<c>DirectConvolution.BackwardOverBatch</c>, one GEMM per
        /// kernel tap over the cells it reads): a stride-1 layer with more than one tap onto 25 cells or fewer, or one whose
        /// weights take 1 MiB or more on an output of 64 cells or fewer (a pointwise layer: 1 MiB on 16 cells or fewer), where
        /// one sample's gradients would read or write every weight for a few cells each; but a 3x3 layer (padding 0 or 1) onto
        /// 36 cells or more with up to 2.25 MiB of weights runs a sample at a time, by Winograd, and a 5x5 layer (padding 0 to 2)
        /// onto 26 to 64 cells splits its backward (<see cref="SplitsBackward"/>). The runtime's
        /// <c>DirectConvolution.BackwardPaysOverBatch</c> states the same rule and its measurements (its tests hold the two together).
        /// </summary>
        public static bool BackwardOverBatch(PlannedLayer layer)
        {
            var d = DimsOf(layer);
            bool pointwise = IsPointwise(layer);
            if (layer.Kind != LayerKind.Conv2d || GroupedConv2dEmitter.Handles(layer.Spec)) return false;
            if (d.Strided) return StridedBackwardOverBatch(layer);
            if (!(d.Direct || pointwise)) return false;
            if (pointwise) return (long)d.WeightLength >= 1 << 18 && d.Cells <= 16;
            if (d.Cells <= 25) return true;
            if ((long)d.WeightLength < 1 << 18 || d.Cells > 64) return false;
            if (layer.Spec.Kernel == 3 && layer.Spec.Padding <= 1 && d.Cells >= 36 && d.WeightLength <= PerSampleWinogradWeights) return false;
            return !SplitsBackwardShape(layer);
        }

        // DirectConvolution.PerSampleWinogradWeights: 256 -> 256 channels of 3x3.
        private const int PerSampleWinogradWeights = 256 * 256 * 9;

        // DirectConvolution.BackwardMixedPays: a 5x5 layer (padding 0 to 2) with 1 MiB of weights or more onto 26 to 64 cells.
        private static bool SplitsBackwardShape(PlannedLayer layer)
        {
            var d = DimsOf(layer);
            return layer.Kind == LayerKind.Conv2d && d.Direct && !GroupedConv2dEmitter.Handles(layer.Spec) && layer.Spec.Kernel == 5 && layer.Spec.Padding <= 2
                && d.Cells > 25 && d.Cells <= 64 && (long)d.WeightLength >= 1 << 18;
        }

        /// <summary>
        /// Whether the layer's backward splits: the weight gradient over the batch by taps (<see cref="EmitBackwardMethods"/>'
        /// BackwardOverBatch method with no input gradient), the input gradient a sample at a time by Winograd on the turned
        /// filters (its Backward method with no weight gradient). A 5x5 layer with 1 MiB of weights or more onto 26 to 64
        /// cells that keeps Winograd filters; the runtime's <c>DirectConvolution.BackwardMixedPays</c> states the rule and its
        /// measurements (its tests hold the two together).
        /// </summary>
        public static bool SplitsBackward(PlannedLayer layer) => SplitsBackwardShape(layer) && InputGradientByWinograd(layer);

        /// <summary>
        /// A strided 3x3 layer's backward over the batch (<c>StridedConvolution.BackwardOverBatch</c>): onto 4 cells or fewer
        /// with 2^16 weights or more, onto 16 cells or fewer with 2^17 or more, where one sample's gradients would read the
        /// packed weights and carry the weight gradient's sums through memory for a few cells each; a 1x1 one without padding
        /// (a ResNet shortcut) onto 16 cells or fewer from 2^15 weights. The runtime's
        /// <c>StridedConvolution.BackwardPaysOverBatch</c> states the same rule and its measurements (its tests hold the two together).
        /// </summary>
        private static bool StridedBackwardOverBatch(PlannedLayer layer)
        {
            var d = DimsOf(layer);
            long weights = d.WeightLength;
            if (layer.Spec.Kernel == 1 && layer.Spec.Padding == 0) return d.Cells <= 16 && weights >= 1 << 15;
            return layer.Spec.Kernel == 3 && (d.Cells <= 4 ? weights >= 1 << 16 : d.Cells <= 16 && weights >= 1 << 17);
        }

        /// <summary>A 1x1 stride-1 unpadded convolution: a product over the channels (<c>PointwiseConvolution</c>, no im2col).</summary>
        public static bool IsPointwise(PlannedLayer layer) =>
            layer.Kind == LayerKind.Conv2d && !GroupedConv2dEmitter.Handles(layer.Spec) && !DimsOf(layer).NeedsColumns;

        public override string? ScratchLength(PlannedLayer layer) =>
            WithBlockedChain(layer, DirectScratchLength(layer) ?? StridedScratchLength(layer) ?? PointwiseScratchLength(layer));

        /// <summary>A layer's scratch, at least its channel-blocked chain's two regions when it is in one.</summary>
        public static string? WithBlockedChain(PlannedLayer layer, string? length) =>
            !InBlockedChain(layer) ? length : length is null ? Int(layer.Fusion.BlockedScratch) : "global::System.Math.Max(" + length + ", " + Int(layer.Fusion.BlockedScratch) + ")";

        /// <summary>A pointwise layer's scratch: none a sample at a time; a group's inputs and output gradients side by side over the batch.</summary>
        private static string? PointwiseScratchLength(PlannedLayer layer) =>
            IsPointwise(layer) && BackwardOverBatch(layer)
                ? "global::CnnGen.Kernels.DirectConvolution.BackwardOverBatchScratch(" + Int(layer.Input.Channels) + ", " + Int(layer.Input.Height) + ", " + Int(layer.Input.Width) + ", "
                    + Int(layer.Output.Channels) + ", 1, 0)"
                : null;

        /// <summary>The runtime expression for a strided layer's scratch: its forward kernel's (which covers the im2col columns backward uses).</summary>
        private static string? StridedScratchLength(PlannedLayer layer)
        {
            if (!DimsOf(layer).Strided) return null;
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            string shape = Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(output.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding);
            string forward = StridedForwardScratchLength(layer, shape);
            // Training over the batch: a group's columns and outputs (or output gradients) side by side.
            return BackwardOverBatch(layer) ? "global::System.Math.Max(" + forward + ", global::CnnGen.Kernels.StridedConvolution.BackwardOverBatchScratch(" + shape + "))" : forward;
        }

        private static string StridedForwardScratchLength(PlannedLayer layer, string shape)
        {
            if (Grouped(layer))
                return "global::System.Math.Max(global::CnnGen.Kernels.StridedConvolution.ScratchLength(" + shape + "), global::CnnGen.Kernels.StridedConvolution.SamplesScratchLength(" + shape + ", " + Int(GroupSamples(layer)) + "))";
            if (HasPreparedWeights(layer) && Linked(layer))
                return "global::CnnGen.Kernels.StridedConvolution.LinkedScratchLength(" + shape + ", " + LinkExpression(layer.Fusion.LinkedFrom, layer.Fusion.FromAtEnd, false) + ", "
                    + LinkExpression(layer.Fusion.LinkedTo, layer.Fusion.ToAtEnd, layer.Fusion.Mean) + ")";
            return "global::CnnGen.Kernels.StridedConvolution.ScratchLength(" + shape + ")";
        }

        private static string Gemm(bool transposeA, bool transposeB, int m, int n, int k, string a, int lda, string b, int ldb, string c, int ldc, bool accumulate) =>
            "global::CnnGen.Kernels.Gemm.Multiply(" + (transposeA ? "true" : "false") + ", " + (transposeB ? "true" : "false") + ", "
            + Int(m) + ", " + Int(n) + ", " + Int(k) + ", " + a + ", " + Int(lda) + ", " + b + ", " + Int(ldb) + ", " + c + ", " + Int(ldc)
            + ", accumulate: " + (accumulate ? "true" : "false") + ");";

        public override bool IsPerSample => true;

        public override void EmitSampleStatement(IndentedWriter w, PlannedLayer layer) => EmitSampleStatement(w, layer, passWeights: true);

        // Evaluation's unfused calls (and the forward before a gradient in evaluation mode) read the parameters as they are;
        // its fused ones take the folded, prepared weights.
        public override void EmitEvaluationSampleStatement(IndentedWriter w, PlannedLayer layer) => EmitSampleStatement(w, layer, passWeights: false);

        private static void EmitSampleStatement(IndentedWriter w, PlannedLayer layer, bool passWeights) =>
            w.Line(MethodName(layer) + "(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(layer), layer.Output.Length)
                + ", " + ParameterSlice(layer) + FiltersArgument(layer) + (HasPassWeights(layer) ? (passWeights ? ", workspace." + PassWeightsArray(layer) : ", default") : "") + ", workspace.Columns);");

        /// <summary>
        /// Whether a training pass prepares the layer's weights for its strided kernel once, before the samples (<c>StridedConvolution.Prepare</c>: packed for the lanes kernel, or
        /// Winograd-transformed where the runtime runs the layer so), instead of each sample's call packing them again.
        /// KernelBench <c>strided-training</c> measures both over 22 shapes (benchmarks/README.md).
        /// </summary>
        public static bool HasPassWeights(PlannedLayer layer) =>
            layer.Kind == LayerKind.Conv2d && DimsOf(layer).Strided && !GroupedConv2dEmitter.Handles(layer.Spec);

        /// <summary>The workspace array holding a strided layer's weights and bias prepared for the pass.</summary>
        public static string PassWeightsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "PassWeights";

        private static string StridedShapeArguments(PlannedLayer layer) =>
            Int(layer.Input.Channels) + ", " + Int(layer.Input.Height) + ", " + Int(layer.Input.Width) + ", " + Int(layer.Output.Channels) + ", "
            + Int(layer.Spec.Kernel) + ", " + Int(layer.Spec.Stride) + ", " + Int(layer.Spec.Padding);

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer)
        {
            // (Training runs a layer over the batch from its weights as they are: with evaluation's own prepared weights, it needs none for the pass.)
            if (HasPassWeights(layer) && !(TrainingForwardOverBatch(layer) && HasOwnPreparedArray(layer)))
                yield return new WorkspaceArray(PassWeightsArray(layer), "global::CnnGen.Kernels.StridedConvolution.PreparedLength(" + StridedShapeArguments(layer) + ")",
                    "Weights and bias of " + layer.Describe() + " prepared for the strided kernel once per training pass"
                        + (HasOwnPreparedArray(layer) && !layer.Fusion.BatchNorm ? "" : ", and in evaluation once per change of the weights where no batch-norm is folded in"));
            if (HasWeightGradientProducts(layer))
                yield return DimsOf(layer).Strided
                    ? new WorkspaceArray(WeightGradientProductsArray(layer), "global::CnnGen.Kernels.StridedConvolution.WeightGradientProductsLength(" + StridedShapeArguments(layer) + ")",
                        "The weight gradient of " + layer.Describe() + ", summed transposed over a backward pass's samples, turned back and added once at the last sample (empty where the runtime adds each sample's)")
                    : new WorkspaceArray(WeightGradientProductsArray(layer), "global::CnnGen.Kernels.DirectConvolution.WeightGradientProductsLength(" + ShapeArguments(layer) + ")",
                        "The weight gradient of " + layer.Describe() + ", summed over a backward pass's samples before the Winograd filter transform, taken once at the last sample (empty where the runtime takes it directly)");
            if (Grouped(layer) && layer.Fusion.LinkedFrom is not null)
                yield return new WorkspaceArray(GroupInputArray(layer), "batchCapacity * " + GroupLinkLength(layer, "batchCapacity"),
                    "Evaluation's input of " + layer.Describe() + " as layer " + Int(layer.Fusion.LinkedFrom.Index) + " leaves it, a slot per sample: padded for the group's Winograd kernel where both run one, else the maps");
        }

        /// <summary>
        /// Whether backward gathers the layer's weight gradient over its samples before the Winograd filter transform
        /// (<c>DirectConvolution.WeightGradientProductsLength</c>: the runtime decides per shape and machine, and gives 5x5
        /// layers none): a stride-1 layer differentiated a sample at a time, the layers whose input gradient may run by Winograd too;
        /// and every strided layer's (<c>StridedConvolution.WeightGradientProductsLength</c>: the lanes kernel's transposed sums,
        /// none for 1x1 kernels without padding or without AVX-512).
        /// </summary>
        public static bool HasWeightGradientProducts(PlannedLayer layer) => (InputGradientByWinograd(layer) && !BackwardOverBatch(layer) && !SplitsBackward(layer)) || (DimsOf(layer).Strided && HasInputGradientWeights(layer));

        private static string WeightGradientProductsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "WeightGradientProducts";

        /// <summary>The layer's parameters prepared for its strided kernel, before a training pass's samples.</summary>
        public static void EmitPreparePassWeights(IndentedWriter w, PlannedLayer layer)
        {
            int weights = DimsOf(layer).WeightLength;
            w.Line("global::CnnGen.Kernels.StridedConvolution.Prepare(" + WeightParameterSlice(layer, weights) + ", "
                + (BiasParameterSlice(layer, weights, layer.Output.Channels) ?? "default") + ", " + StridedShapeArguments(layer)
                + ", workspace." + PassWeightsArray(layer) + ");");
        }

        /// <summary>
        /// Whether training runs the layer's forward over the batch, from the weights as they are: a strided layer whose
        /// backward runs over the batch (<see cref="BackwardOverBatch"/>) onto 4 cells or fewer, where one sample's forward would
        /// read all the prepared weights for a few cells (<c>StridedConvolution.ForwardOverBatch</c>, the batch's cells as one
        /// GEMM's columns; the runtime's <c>StridedConvolution.TrainingForwardPaysOverBatch</c> states the same rule and its
        /// measurements); and a stride-1 layer evaluation runs over the batch (<see cref="ForwardOverBatch"/>, one GEMM per
        /// kernel tap), whose backward does too.
        /// </summary>
        public static bool TrainingForwardOverBatch(PlannedLayer layer) => DimsOf(layer).Strided
            ? layer.Spec.Kernel == 3 && BackwardOverBatch(layer) && DimsOf(layer).Cells <= 4
            : ForwardOverBatch(layer) && BackwardOverBatch(layer);

        /// <summary>Training's forward of a layer over the batch (<see cref="TrainingForwardOverBatch"/>), then each sample's sums for the batch-norm after it.</summary>
        public static void EmitTrainingOverBatchStatement(IndentedWriter w, PlannedLayer layer, PlannedLayer? sampleSums)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            var d = DimsOf(layer);
            string arguments = BatchSlice(InputArray(layer), layer.Input.Length) + ", batchSize, "
                + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + WeightParameterSlice(layer, d.WeightLength) + ", "
                + (BiasParameterSlice(layer, d.WeightLength, d.OutChannels) ?? "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + (d.Strided ? ", " + Int(spec.Stride) : "") + ", " + Int(spec.Padding)
                + ", " + BatchSlice(OutputArray(layer), layer.Output.Length) + ", workspace.Columns";
            if (d.Strided)
            {
                w.Line("// " + Int(d.WeightLength) + " weights for " + Int(d.Cells) + " cells a sample: the batch's cells as the columns of one GEMM a group, from the weights as they are");
                w.Line("global::CnnGen.Kernels.StridedConvolution.ForwardOverBatch(" + arguments + ");");
            }
            else
            {
                w.Line("// " + Int(d.WeightLength) + " weights for " + Int(d.Cells) + " cells a sample: groups of samples as one GEMM per kernel tap, from the weights as they are");
                w.Line("global::CnnGen.Kernels.DirectConvolution.ForwardOverBatch(" + arguments + ", relu: false, pool: false);");
            }
            if (sampleSums is null) return;
            using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                BatchNormEmitter.EmitSampleSumsStatement(w, sampleSums);
        }

        /// <summary>
        /// Whether the layer keeps Winograd filters in the workspace: a dense 3x3 or 5x5 stride-1 convolution, whose forward
        /// (and its input gradient) the runtime may run as a Winograd convolution. The runtime decides per shape and machine
        /// (<c>DirectConvolution.WinogradFiltersLength</c>, 0 when it runs direct); the generated code transforms the filters
        /// once per change of the weights in evaluation, once per pass in training, and hands them to every sample's call.
        /// </summary>
        public static bool HasWinogradFilters(PlannedLayer layer) =>
            layer.Kind == LayerKind.Conv2d && DimsOf(layer).Direct && layer.Spec.Kernel is 3 or 5 && !GroupedConv2dEmitter.Handles(layer.Spec)
            && layer.Input.Channels >= MinimumWinogradChannels && layer.Output.Channels >= MinimumWinogradChannels;

        /// <summary>The runtime never uses Winograd below this many channels in or out (DirectConvolution.MinimumWinogradChannels).</summary>
        private const int MinimumWinogradChannels = 8;

        /// <summary>
        /// Whether the layer's evaluation calls <c>DirectConvolution.ForwardByRows</c> (or <c>ForwardPooledByRows</c>): the
        /// shapes where the runtime may run <c>RowWinogradConvolution</c> (<c>DirectConvolution.ForwardByRowWinograd</c>, the
        /// same numbers: 3x3 or 5x5 at stride 1 from up to 7 channels onto 16 or more, whole tiles of 4 a row, 28x28 outputs
        /// or more; from 1 or 2 channels onto 32 or by 5x5; pooled only 5x5 from 3 or more); the runtime decides per machine.
        /// </summary>
        public static bool RunsByRows(PlannedLayer layer, bool pool)
        {
            if (layer.Kind != LayerKind.Conv2d || !DimsOf(layer).Direct || layer.Spec.Kernel is not (3 or 5) || GroupedConv2dEmitter.Handles(layer.Spec)
                || layer.Input.Channels >= MinimumWinogradChannels || layer.Output.Channels < 16
                || layer.Output.Width % 4 != 0 || layer.Output.Height * layer.Output.Width < 28 * 28)
                return false;
            if (pool) return layer.Spec.Kernel == 5 && layer.Input.Channels >= 3;
            return layer.Input.Channels >= 3 || layer.Output.Channels >= 32 || layer.Spec.Kernel == 5;
        }

        /// <summary>The workspace array holding a layer's Winograd filters (forward's, or the input gradient's during backward).</summary>
        public static string WinogradFiltersArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "WinogradFilters";

        private static string FiltersArgument(PlannedLayer layer) => HasWinogradFilters(layer) ? ", workspace." + WinogradFiltersArray(layer) : "";

        private static string FiltersParameter(PlannedLayer layer) => HasWinogradFilters(layer) ? ", " + ReadOnlySpan + " filters" : "";

        private static string ShapeArguments(PlannedLayer layer) =>
            Int(layer.Input.Channels) + ", " + Int(layer.Input.Height) + ", " + Int(layer.Input.Width) + ", " + Int(layer.Output.Channels) + ", " + Int(layer.Spec.Kernel) + ", " + Int(layer.Spec.Padding);

        /// <summary>The runtime expression for the floats of the layer's Winograd filters (0 where the runtime runs it direct).</summary>
        public static string WinogradFiltersLength(PlannedLayer layer) =>
            "global::CnnGen.Kernels.DirectConvolution.WinogradFiltersLength(" + ShapeArguments(layer) + ")";

        /// <summary>The forward's filters transformed from <paramref name="weights"/> (the parameters, or the batch-norm-folded weights).</summary>
        public static void EmitTransformFilters(IndentedWriter w, PlannedLayer layer, string weights) =>
            w.Line("global::CnnGen.Kernels.DirectConvolution.TransformFilters(" + weights + ", " + ShapeArguments(layer) + ", workspace." + WinogradFiltersArray(layer) + ");");

        /// <summary>
        /// Whether the layer keeps its weights packed for the strided kernel's input gradient in the workspace
        /// (<c>StridedConvolution.PackInputGradientWeights</c>, once per backward pass: packed for the lanes kernel, or the
        /// Winograd filters where the runtime's rule takes them; 0 floats where the runtime runs the input gradient as GEMM +
        /// col2im).
        /// </summary>
        public static bool HasInputGradientWeights(PlannedLayer layer) =>
            layer.Kind == LayerKind.Conv2d && !GroupedConv2dEmitter.Handles(layer.Spec) && ((DimsOf(layer).Strided && !BackwardOverBatch(layer)) || TransposesForInputGradient(layer));

        /// <summary>
        /// Whether a pointwise layer differentiated a sample at a time may take its input gradient from weights transposed once
        /// for the pass: the shape half of <c>PointwiseConvolution.TransposedWeightsLength</c>'s rule (48+ output channels, 128
        /// cells or fewer); the runtime adds the machine's half (Vector512), and keeps none elsewhere.
        /// </summary>
        private static bool TransposesForInputGradient(PlannedLayer layer) =>
            IsPointwise(layer) && !BackwardOverBatch(layer) && layer.Output.Channels >= 48 && DimsOf(layer).Cells <= 128;

        /// <summary>The workspace array holding a strided layer's weights packed for its input gradient.</summary>
        public static string InputGradientWeightsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "InputGradientWeights";

        /// <summary>The runtime expression for the floats of those packed weights (a pointwise layer's: transposed, or none where the runtime takes the GEMM).</summary>
        public static string InputGradientWeightsLength(PlannedLayer layer) => TransposesForInputGradient(layer)
            ? "global::CnnGen.Kernels.PointwiseConvolution.TransposedWeightsLength(" + Int(layer.Input.Channels) + ", " + Int(DimsOf(layer).Cells) + ", " + Int(layer.Output.Channels) + ")"
            : "global::CnnGen.Kernels.StridedConvolution.InputGradientWeightsLength(" + StridedShapeArguments(layer) + ")";

        /// <summary>A strided layer's weights packed for its input gradient (a pointwise layer's transposed), before backward's samples.</summary>
        public static void EmitPackInputGradientWeights(IndentedWriter w, PlannedLayer layer)
        {
            if (TransposesForInputGradient(layer))
            {
                w.Line("if (" + InputGradientCondition(layer) + " && workspace." + InputGradientWeightsArray(layer) + ".Length > 0) global::CnnGen.Kernels.PointwiseConvolution.TransposeWeights("
                    + ParameterSlice(layer) + ", " + Int(layer.Input.Channels) + ", " + Int(layer.Output.Channels) + ", workspace." + InputGradientWeightsArray(layer) + ");");
                return;
            }
            w.Line("if (" + InputGradientCondition(layer) + ") global::CnnGen.Kernels.StridedConvolution.PackInputGradientWeights(" + ParameterSlice(layer) + ", "
                + StridedShapeArguments(layer) + ", workspace." + InputGradientWeightsArray(layer) + ");");
        }

        // What backward takes beyond the layer's parameters: the input gradient's Winograd filters (3x3, 5x5) or the strided
        // kernel's packed weights.
        private static string BackwardWeightsArgument(PlannedLayer layer) =>
            (InputGradientByWinograd(layer) ? FiltersArgument(layer) : "") + (HasInputGradientWeights(layer) ? ", workspace." + InputGradientWeightsArray(layer) : "");

        /// <summary>
        /// The input gradient's filters (the weights turned half a turn, channels swapped), before backward's samples, for a
        /// layer whose input gradient runs by Winograd (<see cref="InputGradientByWinograd"/>).
        /// </summary>
        public static void EmitTransformFiltersForInputGradient(IndentedWriter w, PlannedLayer layer) =>
            w.Line("if (" + InputGradientCondition(layer) + ") global::CnnGen.Kernels.DirectConvolution.TransformFiltersForInputGradient(" + ParameterSlice(layer) + ", "
                + ShapeArguments(layer) + ", workspace." + WinogradFiltersArray(layer) + ");");

        /// <summary>3x3 and 5x5 layers' input gradients may run by Winograd (DirectConvolution.InputGradientByWinograd decides).</summary>
        public static bool InputGradientByWinograd(PlannedLayer layer) => HasWinogradFilters(layer) && layer.Spec.Kernel is 3 or 5;

        /// <summary>
        /// What a convolution absorbs in evaluation mode: the layers right after it that fold or fuse into it. ReLU and
        /// pooling go into the direct and strided kernels' epilogues; any other fusable activation (and ReLU after a pointwise
        /// or grouped convolution) is <see cref="Activation"/>, applied to each sample's output right after the kernel wrote it.
        /// </summary>
        public readonly record struct Fusion(int Absorbed, bool BatchNorm, bool Relu, bool Pool, PlannedLayer? Activation, bool Mean = false)
        {
            public string MethodSuffix => Absorbed == 0 && BlockedScratch > 0 ? "Blocked" : Absorbed == 0 && PreparedWeights ? "Prepared"
                : (BatchNorm ? "BatchNorm" : "") + (Relu ? "ReLU" : "") + (Pool ? "MaxPool" : "") + (Activation is null ? "" : Activation.Kind.ToString()) + (Mean ? "GlobalAvgPool" : "")
                    + (Join is null ? "" : "Joined");

            /// <summary>Whether evaluation runs the layer through a method of its own: it absorbs layers, runs in a channel-blocked chain, on prepared weights, or takes a residual sum.</summary>
            public bool HasEvaluationMethod => Absorbed > 0 || BlockedScratch > 0 || PreparedWeights || Join is not null;

            /// <summary>The residual sum this layer, the last of a block's body, adds as its kernel writes its maps (see <see cref="JoinResiduals"/>).</summary>
            public AddStep? Join { get; init; }

            /// <summary>The ReLU after that sum, its only reader, which the same pass takes; or null.</summary>
            public PlannedLayer? JoinRelu { get; init; }

            /// <summary>A strided layer that evaluation runs on weights prepared once per change of them (<see cref="HasPreparedWeights"/>).</summary>
            public bool PreparedWeights { get; init; }

            /// <summary>The strided convolution before this one whose maps it may take in the kernel's padded layout (see <see cref="LinkStridedLayers"/>).</summary>
            public PlannedLayer? LinkedFrom { get; init; }

            /// <summary>The strided convolution after this one that may take its maps in the kernel's padded layout.</summary>
            public PlannedLayer? LinkedTo { get; init; }

            /// <summary>Where the link from the layer before lies in the shared scratch (its end, or its start), and where the link to the next.</summary>
            public bool FromAtEnd { get; init; }
            public bool ToAtEnd { get; init; }

            /// <summary>The stride-1 convolution before this one whose maps it may take in the Winograd kernel's padded layout (see <see cref="LinkWinogradLayers"/>).</summary>
            public PlannedLayer? WinogradFrom { get; init; }

            /// <summary>The stride-1 convolution after this one that may take its maps in the Winograd kernel's padded layout.</summary>
            public PlannedLayer? WinogradTo { get; init; }

            /// <summary>Where those two links lie in the shared scratch: its end, or its start.</summary>
            public bool WinogradFromAtEnd { get; init; }
            public bool WinogradToAtEnd { get; init; }

            /// <summary>The layer before this one in a channel-blocked chain (see <see cref="LinkBlockedChains"/>), whose output this one reads in that layout.</summary>
            public PlannedLayer? BlockedFrom { get; init; }

            /// <summary>The layer after this one in a channel-blocked chain, which takes this one's output in that layout.</summary>
            public PlannedLayer? BlockedTo { get; init; }

            /// <summary>In a chain: the floats of columns a depthwise layer's padded input takes (at its start), and of the whole chain's two regions.</summary>
            public int BlockedPadded { get; init; }
            public int BlockedScratch { get; init; }
        }

        /// <summary>The activations evaluation fuses into the convolution before them (element-wise kernels that run in place).</summary>
        private static bool FusableActivation(LayerKind kind) =>
            kind is LayerKind.ReLU or LayerKind.LeakyReLU or LayerKind.ReLU6 or LayerKind.Hardswish or LayerKind.SiLU
                or LayerKind.GELU or LayerKind.Sigmoid or LayerKind.Tanh;

        /// <summary>
        /// In evaluation mode a convolution (direct, strided, pointwise, grouped or depthwise) folds a batch-norm that follows
        /// it into its weights and bias and takes the activation after that; a direct stride-1 convolution also takes a 2x2
        /// stride-2 max pooling after a ReLU (or after no activation) into its epilogue.
        /// </summary>
        public static Fusion EvaluationFusion(System.Collections.Generic.IReadOnlyList<PlannedLayer> layers, int index)
        {
            if (layers[index].Kind != LayerKind.Conv2d) return default;
            bool grouped = GroupedConv2dEmitter.Handles(layers[index].Spec);
            var dims = DimsOf(layers[index]);
            bool kernelRelu = !grouped && (dims.Direct || dims.Strided);
            int next = index + 1;
            bool batchNorm = next < layers.Count && layers[next].Kind == LayerKind.BatchNorm;
            if (batchNorm) next++;
            bool relu = false;
            PlannedLayer? activation = null;
            if (next < layers.Count && FusableActivation(layers[next].Kind))
            {
                if (kernelRelu && layers[next].Kind == LayerKind.ReLU) relu = true;
                else activation = layers[next];
                next++;
            }
            bool pool = kernelRelu && dims.Direct && activation is null && next < layers.Count && layers[next].Kind == LayerKind.MaxPool && layers[next].Spec.Kernel == 2
                && layers[next].Spec.Stride == 2 && layers[next].Spec.Padding == 0 && layers[next].Input.Height >= 2 && layers[next].Input.Width >= 2;
            if (pool) next++;
            // A strided layer with prepared weights takes a global average pooling after it: the Winograd kernel sums the
            // channels in its output transform (StridedConvolution.ForwardPreparedLinked), the others average their maps in scratch.
            bool mean = HasPassWeights(layers[index]) && activation is null && next < layers.Count && layers[next].Kind == LayerKind.GlobalAvgPool;
            if (mean) next++;
            return new Fusion(next - index - 1, batchNorm, relu, pool, activation, mean) { PreparedWeights = HasPassWeights(layers[index]) };
        }

        /// <summary>
        /// Links consecutive strided layers with prepared weights in a segment (after their fusions are known), where nothing
        /// but their fused batch-norm and ReLU lies between them and all of it runs one sample at a time: the first hands its
        /// maps to the second in the Winograd kernel's padded layout where both run that kernel on the machine (decided at run
        /// time by StridedConvolution.ForwardPreparedLinked). Consecutive links alternate between the scratch's end and start,
        /// so a layer's input and output regions never meet. The output the first layer's fusion would keep is then not kept.
        /// </summary>
        public static void LinkStridedLayers(IReadOnlyList<PlannedLayer> layers)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var a = layers[i];
                // A grouped layer (GroupSamples) links only from the layer before: each sample's maps go to its slot of the
                // grouped layer's input (StridedConvolution.Link.Group), not to a region of the shared scratch.
                if (!HasPreparedWeights(a) || a.Fusion.Activation is not null || a.Fusion.Mean || Grouped(a)) continue;
                int j = i + a.Fusion.Absorbed + 1;
                if (j >= layers.Count || !HasPreparedWeights(layers[j])) continue;
                bool perSample = true;
                for (int k = i; k <= j + (Grouped(layers[j]) ? -1 : layers[j].Fusion.Absorbed); k++) perSample &= For(layers[k]).IsPerSampleInEvaluation;
                if (!perSample) continue;
                bool atEnd = a.Fusion.LinkedFrom is null || !a.Fusion.FromAtEnd;
                a.Fusion = a.Fusion with { LinkedTo = layers[j], ToAtEnd = atEnd };
                layers[j].Fusion = layers[j].Fusion with { LinkedFrom = a, FromAtEnd = atEnd };
                layers[i + a.Fusion.Absorbed].HandedTo = layers[j];
            }
        }

        /// <summary>
        /// Links consecutive stride-1 layers that keep Winograd filters in a segment (after their fusions are known), where
        /// nothing but what the first absorbs (batch-norm, ReLU, a 2x2 max pooling) lies between them and all of it runs one
        /// sample at a time: the first hands its maps to the second in the Winograd kernel's padded layout where both run that
        /// kernel on the machine (decided at run time by DirectConvolution.ForwardLinked), with no transposes to NCHW and back
        /// and no padding pass. Each layer absorbs something (it has an evaluation method of its own), and any activation run in
        /// place after its kernel keeps 0 at 0 (<see cref="KeepsZero"/>). A strided layer with prepared weights links to a
        /// stride-1 one after it the same way, and a 3-channel stem to a stride-1 one from the lanes kernel,
        /// and a stride-1 layer (its output not pooled) to a strided one: their kernels share the padded layout. Consecutive
        /// links alternate between the scratch's end and start, so a layer's input and output regions never meet. The output
        /// the first layer's fusion would keep is then not kept.
        /// </summary>
        public static void LinkWinogradLayers(IReadOnlyList<PlannedLayer> layers)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var a = layers[i];
                bool fromStrided = StridedSender(a), stem = StemSender(a);
                if (!WinogradLinkable(a) && !fromStrided && !stem) continue;
                int j = i + a.Fusion.Absorbed + 1;
                if (j >= layers.Count) continue;
                var b = layers[j];
                // Stride 1 to stride 1; a strided layer to a stride-1 one; a stride-1 layer (its output not pooled) to a strided one.
                bool toStrided = !fromStrided && !stem && !a.Fusion.Pool && HasPreparedWeights(b) && !Grouped(b) && b.Fusion.LinkedFrom is null;
                if (!WinogradLinkable(b) && !toStrided) continue;
                bool perSample = true;
                for (int k = i; k <= j + b.Fusion.Absorbed; k++) perSample &= For(layers[k]).IsPerSampleInEvaluation;
                if (!perSample) continue;
                if (fromStrided)
                {
                    bool atEnd = a.Fusion.LinkedFrom is null || !a.Fusion.FromAtEnd;
                    a.Fusion = a.Fusion with { LinkedTo = b, ToAtEnd = atEnd };
                    b.Fusion = b.Fusion with { WinogradFrom = a, WinogradFromAtEnd = atEnd };
                }
                else
                {
                    // The region differs from a's input region and, before a strided layer that links on (LinkStridedLayers
                    // ran first), from b's output region: where those two differ, no place is left.
                    bool? input = a.Fusion.WinogradFrom is null ? null : a.Fusion.WinogradFromAtEnd;
                    bool? output = toStrided && b.Fusion.LinkedTo is not null ? b.Fusion.ToAtEnd : null;
                    if (input is { } i0 && output is { } o0 && i0 != o0) continue;
                    bool atEnd = input is { } from ? !from : output is { } to ? !to : true;
                    a.Fusion = a.Fusion with { WinogradTo = b, WinogradToAtEnd = atEnd };
                    b.Fusion = toStrided ? b.Fusion with { LinkedFrom = a, FromAtEnd = atEnd } : b.Fusion with { WinogradFrom = a, WinogradFromAtEnd = atEnd };
                }
                layers[i + a.Fusion.Absorbed].HandedTo = b;
            }
        }

        /// <summary>
        /// Takes the sums of residual blocks with an identity shortcut into the last convolution of their bodies in evaluation,
        /// where that layer keeps Winograd filters and runs a sample at a time (DirectConvolution.ForwardJoined): the kernel adds
        /// the block's input (and applies the ReLU after the sum, when that reads only the sum) as it turns its maps into NCHW,
        /// so the sum is no pass of its own over the body's output and the input, and evaluation's arrays hold one value fewer
        /// there. The same floats as the separate pass. Measured (KernelBench residual-join, thread CPU time, interleaved): the
        /// joined layer against the layer and the pass into a third array 1.00-1.06x over ten shapes (16x32x32 to 256x4x4), against
        /// the pass in place right after the kernel 1.00-1.06x; whole networks at batch 1 move by 2% or less. A projection
        /// shortcut runs after the body, so its sum stays a pass; so does a body ending in anything else.
        /// </summary>
        public static void JoinResiduals(IReadOnlyList<object> schedule)
        {
            for (int index = 1; index < schedule.Count; index++)
            {
                if (schedule[index] is not AddStep add || !add.Block.Shortcut.IsIdentity || add.Shortcut.IsNetworkInput || add.Body.Consumers.Count != 1) continue;
                if (schedule[index - 1] is not Segment body || body.Out != add.Body) continue;
                var kept = body.Layers[body.Layers.Count - 1];
                var conv = body.Layers.FirstOrDefault(l => l.FusedInto == kept) ?? kept;
                if (!JoinsResidual(conv)) continue;
                conv.Fusion = conv.Fusion with { Join = add, JoinRelu = ExecutionPlan.ReluOfSumOnly(schedule, index) };
                add.JoinedInto = conv;
            }
        }

        // A stride-1 layer that may take a residual sum into its kernel: it keeps Winograd filters, runs a sample at a time,
        // nothing after its kernel but a batch-norm and ReLU, its output not pooled nor handed on.
        private static bool JoinsResidual(PlannedLayer layer) =>
            HasWinogradFilters(layer) && layer.Fusion.Activation is null && !layer.Fusion.Pool && !layer.Fusion.Mean && layer.Fusion.WinogradTo is null
            && layer.Fusion.LinkedTo is null && !InBlockedChain(layer) && !ForwardOverBatch(layer) && !HasPreparedWeights(layer) && For(layer).IsPerSampleInEvaluation;

        // A stem (too few input channels for Winograd filters) that may hand its maps to a Winograd layer from the lanes kernel
        // (DirectConvolution.ForwardLinked): whole blocks of 16 output channels, something absorbed, no pooling, nothing after.
        private static bool StemSender(PlannedLayer layer) =>
            layer.Kind == LayerKind.Conv2d && DimsOf(layer).Direct && !GroupedConv2dEmitter.Handles(layer.Spec) && !HasWinogradFilters(layer)
            && layer.Input.Channels < MinimumWinogradChannels && layer.Output.Channels % 16 == 0 && layer.Fusion.Absorbed > 0 && KeepsZero(layer.Fusion.Activation)
            && !layer.Fusion.Pool && !layer.Fusion.Mean && !InBlockedChain(layer) && !ForwardOverBatch(layer) && !HasPreparedWeights(layer);

        // A strided layer that may hand its maps to a stride-1 one (StridedConvolution.ForwardPreparedLinked): prepared weights,
        // a sample at a time, nothing after its kernel but a batch-norm and ReLU, not linked on already.
        private static bool StridedSender(PlannedLayer layer) =>
            HasPreparedWeights(layer) && !Grouped(layer) && layer.Fusion.Activation is null && !layer.Fusion.Mean && layer.Fusion.LinkedTo is null;

        // A stride-1 layer that may take part in a Winograd link: it keeps Winograd filters, runs a sample at a time through
        // an evaluation method of its own (it absorbs a batch-norm, ReLU or pooling), and any activation after its kernel keeps 0 at 0.
        private static bool WinogradLinkable(PlannedLayer layer) =>
            HasWinogradFilters(layer) && layer.Fusion.Absorbed > 0 && KeepsZero(layer.Fusion.Activation) && !layer.Fusion.Mean
            && !InBlockedChain(layer) && !ForwardOverBatch(layer) && !HasPreparedWeights(layer);

        // No activation after the kernel, or one that maps 0 to 0: run in place over the next layer's padded input (what
        // DirectConvolution.ForwardLinked returns), it leaves the margins zero. Sigmoid does not (0.5).
        private static bool KeepsZero(PlannedLayer? activation) =>
            activation is null || activation.Kind is LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.LeakyReLU or LayerKind.Hardswish
                or LayerKind.SiLU or LayerKind.GELU or LayerKind.Tanh;

        private static bool WinogradLinked(PlannedLayer layer) => layer.Fusion.WinogradFrom is not null || layer.Fusion.WinogradTo is not null;

        // DirectConvolution.Link for the other side of a stride-1 link, or none.
        private static string WinogradLinkExpression(PlannedLayer? other, bool atEnd)
        {
            const string link = "global::CnnGen.Kernels.DirectConvolution.Link.";
            if (other is null) return link + "None";
            var (input, spec) = (other.Input, other.Spec);
            if (HasPreparedWeights(other))
                return link + "Strided(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(other.Output.Channels) + ", "
                    + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", atEnd: " + (atEnd ? "true" : "false") + ")";
            return link + "Convolution(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(other.Output.Channels) + ", "
                + Int(spec.Kernel) + ", " + Int(spec.Padding) + ", pool: " + (other.Fusion.Pool ? "true" : "false") + ", atEnd: " + (atEnd ? "true" : "false") + ")";
        }

        /// <summary>
        /// Links chains of 1x1 and 3x3 or 5x5 depthwise layers in a segment (after the fusions are known) for evaluation's channel-blocked
        /// kernels (<c>ChannelBlocks</c>): a 1x1 layer, then one or more pairs of a depthwise layer and a 1x1 layer, each with its
        /// batch-norm folded in or an activation absorbed, and at most that activation after it (<see cref="BlockedFusion"/>),
        /// one sample at a time, with nothing else between them. The
        /// first 1x1 layer reads its input as NCHW and writes the depthwise layer's input blocked and padded in the start of
        /// columns; the depthwise layer writes its output blocked after that region; the last 1x1 layer writes NCHW. The
        /// outputs handed on are then not kept. Each 1x1 layer writes more than one block's channels (onto one block a tile's 8
        /// broadcasts of x feed 8 multiply-adds, half the FMA rate: MobileNetV2's 64 -> 16 projection on 16x16 maps ran its chain
        /// at 0.92-0.96x of the NCHW kernels at batch 1), in whole blocks unless the depthwise layer after it writes at most 64
        /// cells (PartialBlocksPay: the last block partly filled) or it ends the chain writing NCHW. A 1x1 layer with no pair
        /// after it forms a chain of one where <see cref="AloneBlockedPays"/>. KernelBench <c>blocked</c> measures the chains
        /// against the NCHW kernels (<c>blocked five</c> those through 5x5 layers and channels off the blocks).
        /// </summary>
        public static void LinkBlockedChains(IReadOnlyList<PlannedLayer> layers)
        {
            // Whether a 1x1 layer may write a partly filled last block for the depthwise layer at `index`, if that is one.
            bool PartialInto(int index) => index < layers.Count && BlockedDepthwise(layers[index]) && PartialBlocksPay(layers[index]);
            for (int i = 0; i < layers.Count; i++)
            {
                int next = i + layers[i].Fusion.Absorbed + 1;
                // A 1x1 layer onto a partly filled last block starts a chain only into a depthwise layer that takes it, or
                // alone on a small map (below).
                bool startsChain = BlockedPointwise(layers[i], partialBlock: PartialInto(next))
                    || BlockedPointwise(layers[i], nchwOutput: true) && layers[i].Output.Height * layers[i].Output.Width <= 16;
                if (!startsChain || layers[i].Fusion.BlockedFrom is not null) continue;
                var chain = new List<PlannedLayer> { layers[i] };
                while (next < layers.Count && BlockedDepthwise(layers[next]) && layers[next].Input.Channels == chain[chain.Count - 1].Output.Channels)
                {
                    int after = next + layers[next].Fusion.Absorbed + 1;
                    if (after >= layers.Count || !BlockedPointwise(layers[after], nchwOutput: true)) break;
                    chain.Add(layers[next]);
                    chain.Add(layers[after]);
                    next = after + layers[after].Fusion.Absorbed + 1;
                    // A 1x1 layer onto channels off the blocks (an inverted residual's projection onto 24) ends the chain, writing
                    // NCHW, unless a depthwise layer after it takes the partly filled block.
                    if (!BlockedPointwise(layers[after], partialBlock: PartialInto(next))) break;
                }
                if (chain.Count < 3)
                {
                    // No pair after it: the 1x1 layer alone, from NCHW to NCHW, where that measured faster (onto whole blocks,
                    // or a last one partly filled on maps of up to 16 cells: 480 -> 40 and 960 -> 40 on 4x4 1.28-1.29x, KernelBench
                    // blocked single 2026-12-07 with the half blocks; from 120-672 channels onto 24 or 40 on 7x7 to 56x56 0.78-0.98x).
                    var alone = layers[i].Output;
                    if (!AloneBlockedPays(layers[i]) || alone.Channels % 16 != 0 && alone.Height * alone.Width > 16) continue;
                    chain = new List<PlannedLayer> { layers[i] };
                }
                bool perSample = true;
                int first = i, last = Segment.IndexOf(layers, chain[chain.Count - 1]) + chain[chain.Count - 1].Fusion.Absorbed;
                for (int k = first; k <= last; k++) perSample &= For(layers[k]).IsPerSampleInEvaluation;
                if (!perSample) continue;
                // The start of columns: each depthwise layer's padded input, and the last layer's output blocked before its
                // turn into NCHW; after it, each depthwise layer's output.
                var end = chain[chain.Count - 1].Output;
                int padded = ChannelBlockLanes(end.Channels) * end.Height * end.Width, blocked = 0;
                for (int k = 1; k < chain.Count; k += 2)
                {
                    var (input, output) = (chain[k].Input, chain[k].Output);
                    int pad = chain[k].Spec.Padding;
                    padded = System.Math.Max(padded, ChannelBlockLanes(input.Channels) * (input.Height + 2 * pad) * (input.Width + 2 * pad));
                    blocked = System.Math.Max(blocked, ChannelBlockLanes(output.Channels) * output.Height * output.Width);
                }
                for (int k = 0; k < chain.Count; k++)
                {
                    var layer = chain[k];
                    layer.Fusion = layer.Fusion with
                    {
                        BlockedFrom = k > 0 ? chain[k - 1] : null,
                        BlockedTo = k + 1 < chain.Count ? chain[k + 1] : null,
                        BlockedPadded = padded,
                        BlockedScratch = padded + blocked,
                    };
                    if (k + 1 < chain.Count) layers[Segment.IndexOf(layers, layer) + layer.Fusion.Absorbed].HandedTo = chain[k + 1];
                }
                i = last;
            }
        }

        /// <summary>Whether evaluation runs the layer in a channel-blocked chain (<see cref="LinkBlockedChains"/>).</summary>
        public static bool InBlockedChain(PlannedLayer layer) => layer.Fusion.BlockedScratch > 0;

        /// <summary>
        /// Whether a 1x1 layer in no chain runs channel-blocked on its own, reading NCHW in place and writing NCHW through the
        /// blocked staging: on maps of up to 16 cells (the NCHW kernel's vectors of cells are mostly empty under 16: 128 -> 128
        /// on 3x3 2.9x, 256 -> 256 on 1x1 1.7x; on 4x4, one whole vector, 80 -> 480 and 80 -> 320 1.16x, session 28), and from
        /// 128 or more input channels onto as many or fewer (the bottlenecks' and inverted residuals' reducing layers: 256 -> 64 and 256 -> 128 on 14x14 1.11-1.15x, 576 -> 96 1.14-1.17x);
        /// expanding ones and those from few channels ran 0.72-0.97x. KernelBench <c>blocked single</c> measures it.
        /// </summary>
        private static bool AloneBlockedPays(PlannedLayer layer) =>
            layer.Output.Height * layer.Output.Width <= 16 || layer.Input.Channels >= 128 && layer.Input.Channels >= layer.Output.Channels;

        // A batch-norm folded in, an activation absorbed, or nothing (the weights then packed from the parameters; a layer
        // absorbing nothing gets a method of its own, Fusion.HasEvaluationMethod: ConvNeXt's 192 -> 48 projections on 16x16
        // and 14x14 run alone blocked, zoo loop, three alternated rounds, fastest: 295-320 -> 288-315 and 251-265 -> 241-246
        // us a network). The activation: a ReLU or ReLU6, which the blocked kernels' epilogues apply, or one that maps 0 to 0,
        // applied in place over the region the layer wrote (EmitBlockedActivation), whose padding stays zero. Sigmoid does
        // not (0.5). EfficientNet-lite-style (SiLU), zoo loop, three alternated rounds, fastest: 156-161 -> 151-152 us.
        private static bool BlockedFusion(PlannedLayer layer) =>
            !layer.Fusion.Pool && !layer.Fusion.Mean && layer.Fusion.LinkedFrom is null && layer.Fusion.LinkedTo is null
            && (layer.Fusion.Activation is null || layer.Fusion.Activation.Kind is LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.LeakyReLU or LayerKind.Hardswish
                or LayerKind.SiLU or LayerKind.GELU or LayerKind.Tanh);

        // A chain layer's activation where its kernel does not apply it, in place over what the layer wrote: the depthwise
        // layer's blocked output after the padded region; the 1x1 layer's padded output for the depthwise layer after it, each
        // block from its first interior cell to its last (the padding rows above and below not run, the side columns between
        // are: they stay zero); or y at the chain's end.
        private static void EmitBlockedActivation(IndentedWriter w, PlannedLayer layer, Fusion fusion, PlannedLayer activation)
        {
            var output = layer.Output;
            bool depthwise = GroupedConv2dEmitter.Handles(layer.Spec);
            if (!depthwise && fusion.BlockedTo is not null)
            {
                int pad = fusion.BlockedTo.Spec.Padding, rowLength = output.Width + 2 * pad;
                int blockLength = (output.Height + 2 * pad) * rowLength * 16, first = (pad * rowLength + pad) * 16;
                int interior = ((output.Height - 1) * rowLength + output.Width) * 16;
                w.Line("// " + activation.Describe() + ", in place while the sample's output is in cache: each block of the padded output in columns, its rows of cells");
                using (w.OpenBlock("for (int block = 0; block < " + Int(ChannelBlockLanes(output.Channels) / 16) + "; block++)"))
                {
                    w.Line("var cells = columns.Slice(block * " + Int(blockLength) + " + " + Int(first) + ", " + Int(interior) + ");");
                    w.Line(ActivationEmitter.InPlaceStatement(activation, "cells"));
                }
                return;
            }
            string target = depthwise ? "columns.Slice(" + Int(fusion.BlockedPadded) + ", " + Int(ChannelBlockLanes(output.Channels) * output.Height * output.Width) + ")" : "y";
            w.Line("// " + activation.Describe() + ", in place while the sample's output is in cache" + (depthwise ? " (the blocked output in columns)" : ""));
            w.Line(ActivationEmitter.InPlaceStatement(activation, target));
        }

        // A 1x1 layer the blocked kernel runs: onto whole blocks, at least two (a tile of one block has too few accumulators);
        // or, writing NCHW at a chain's end on maps of up to 256 cells or of 2048 and more, onto more than one block's
        // channels, the last block partly filled (its zero lanes computed: 24 channels as 32). Measured (zoo loop,
        // interleaved): the table's MobileNetV2-style network, whose 64 -> 24 projection on 16x16 then ends a chain, 29.3-29.5
        // -> 27.6-28.1 us; on 32x32 the projections 96 -> 24 and 144 -> 24 of zoo sweep3's MobileNetV2 ran 1.57x and 1.37x
        // slower blocked, more than their depthwise layers gained (1.21x, 1.29x). On 56x56 the gain turns over: there the
        // NCHW depthwise kernel's planes and copies cost the most (sweep3's MobileNetV2 at 224x224, perf per layer, µs, NCHW
        // -> chain: 16 -> 96 on 112x112 532 -> 440, its stride-2 depthwise 389 -> 279, 96 -> 24 on 56x56 114 -> 169; 24 -> 144
        // on 56x56 204 -> 168, its depthwise 237 -> 136, 144 -> 24 200 -> 217).
        // partialBlock: the layer writes a depthwise layer's input that may end in a partly filled block (PartialBlocksPay). Its
        // input may be one too, blocked or not: the kernel reads only the channels, so the input takes no condition.
        private static bool BlockedPointwise(PlannedLayer layer, bool nchwOutput = false, bool partialBlock = false) =>
            layer.Kind == LayerKind.Conv2d && !GroupedConv2dEmitter.Handles(layer.Spec) && layer.Spec.Kernel == 1 && layer.Spec.Stride == 1 && layer.Spec.Padding == 0
            && BlockedFusion(layer) && layer.Output.Channels > 16
            && (layer.Output.Channels % 16 == 0 || nchwOutput && PartialBlockPays(layer.Output.Height * layer.Output.Width) || !nchwOutput && partialBlock);

        private static bool PartialBlockPays(int cells) => cells <= 256 || cells >= 2048;

        /// <summary>Output channels rounded up to whole blocks of 16 (ChannelBlocks.BlockLanes).</summary>
        private static int ChannelBlockLanes(int channels) => (channels + 15) / 16 * 16;

        /// <summary>Floats of a chain layer's packed weights: its output channels rounded up to whole blocks (a last block's extra lanes zero), by the input channels of a 1x1 layer or the taps of a depthwise one.</summary>
        private static int BlockedWeightLength(PlannedLayer layer) =>
            ChannelBlockLanes(layer.Output.Channels) * (GroupedConv2dEmitter.Handles(layer.Spec) ? layer.Spec.Kernel * layer.Spec.KernelWidth : layer.Input.Channels);

        /// <summary>Floats of the workspace array <see cref="BlockedArray"/>: the packed weights, then the bias in whole blocks.</summary>
        public static int BlockedLength(PlannedLayer layer) => BlockedWeightLength(layer) + ChannelBlockLanes(layer.Output.Channels);

        // A 3x3 or 5x5 depthwise layer a chain may take: padded by half its kernel, stride 1 or 2. A 5x5 layer at stride 1 only
        // onto rows narrower than 16 cells, where the NCHW kernel's shared-rows tiles (DepthwiseConvolution.Rows5x5512) do not
        // run. KernelBench blocked five (2026-12-06, Zen 5, thread CPU, both orders; expansion, 5x5, projection, NCHW / chain):
        // stride 2 from 16x16 1.09-1.11x, from 12x12 1.15x, from 32x32 1.05-1.06x; stride 1 on 12x12 1.10-1.11x, 8x8 1.01-1.05x,
        // 4x4 1.20-1.21x, but 16x16 0.76x and 32x32 0.69-0.70x.
        //
        // Dilated ones too (DeepLab-style tails), at stride 1, padded to keep the map: d·(k / 2), up to 4 cells. The NCHW
        // kernels read their taps d cells apart through unaligned, masked loads (WholePlaneDepthwise on 8-wide maps, the row
        // kernel's general tiles on wider ones); the blocked taps are whole cells of 16 channels. KernelBench blocked dilated
        // (2026-12-07, Zen 4, thread CPU, arrays on 64-byte lines as the workspace's; expansion, depthwise, projection, NCHW /
        // chain, the depthwise layer alone): 3x3 d2 24 -> 96 @8x8 -> 24 1.02x (alone 1.87x), 32 -> 192 @8x8 -> 32 1.09-1.14x
        // (1.86-1.98x), d4 1.00x (1.64x), 40 -> 240 @12x12 1.19x (3.02x), 16 -> 64 @16x16 1.02-1.03x (1.53x), 64 -> 384 @16x16
        // 1.04x (1.48x), 24 -> 144 @16x16 0.98x (1.64x), 32 -> 192 @32x32 1.05x (1.31x); 5x5 d2 24 -> 96 @8x8 1.05x (1.67x).
        // The chains' 1x1 layers give back most of what the depthwise layer gains (the projection onto 24 fills 1.5 blocks).
        private static bool BlockedDepthwise(PlannedLayer layer)
        {
            var spec = layer.Spec;
            int dilation = spec.Dilation;
            return layer.Kind == LayerKind.Conv2d && spec.Groups == layer.Input.Channels && spec.Units == layer.Input.Channels
                && (layer.Input.Channels % 16 == 0 || PartialBlocksPay(layer))
                && spec.Kernel is 3 or 5 && spec.KernelWidth == spec.Kernel && spec.Stride is 1 or 2 && spec.StrideWidth == spec.Stride
                && spec.DilationWidth == dilation && (dilation == 1 || spec.Stride == 1) && dilation * (spec.Kernel / 2) <= MaxBlockedPadding
                && spec.Padding == dilation * (spec.Kernel / 2) && spec.PaddingWidth == spec.Padding
                && (spec.Kernel == 3 || spec.Stride == 2 || dilation > 1 || layer.Output.Width < 16) && BlockedFusion(layer);
        }

        // ChannelBlocks.MaxPadding: the widest border a blocked depthwise input takes.
        private const int MaxBlockedPadding = 4;

        // A depthwise layer on channels off the blocks (72 and 120 in MnasNet and MobileNetV3; MobileNetV3's stride-1 ones, onto
        // 16x16, stay NCHW) in a chain, its last block partly filled (its extra lanes zero through the chain): onto maps of up
        // to 64 cells, or at stride 2. KernelBench blocked five (2026-12-06,
        // Zen 5, thread CPU, both orders; expansion, depthwise, projection, NCHW / chain): 24 -> 72 @16x16, 5x5 stride 2, -> 40
        // 1.12-1.13x; 40 -> 120 @8x8, 5x5, -> 40 1.18-1.19x; 40 -> 120 @8x8, 3x3, 0.99x; onto 16x16 16 -> 72 @32x32, 5x5 stride
        // 2, 0.97-0.98x, 24 -> 72 @16x16, 3x3, 0.76x, but 16 -> 48 @32x32, 3x3 stride 2, 1.20x.
        // Since the 1x1 layers sum a last block of up to 8 channels on Vector256s (ChannelBlocks.HalfBlocks), the stride-2
        // ones pay onto larger maps too (KernelBench blocked five, 2026-12-07, Zen 4, arrays on 64-byte lines, before / after
        // the half blocks): 16 -> 72 @32x32, 5x5 stride 2, -> 40 1.01 -> 1.11-1.12x, 16 -> 48 @32x32, 3x3 stride 2, -> 24 1.12 ->
        // 1.16x, 24 -> 72 @16x16, 5x5 stride 2, -> 40 1.01 -> 1.08x; onto 8x8 40 -> 120, 5x5, 1.04 -> 1.13x, 3x3 0.99 -> 1.08-1.09x;
        // but at stride 1 onto 16x16 24 -> 72, 3x3, -> 24 0.86 -> 0.91x.
        private static bool PartialBlocksPay(PlannedLayer depthwise) =>
            depthwise.Output.Height * depthwise.Output.Width <= 64 || depthwise.Spec.Stride == 2;

        /// <summary>The workspace array holding a chain layer's folded weights packed for <c>ChannelBlocks</c>, then its bias.</summary>
        public static string BlockedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Blocked";

        /// <summary>
        /// Once per change of the weights: the folded weights (or, without a batch-norm, the parameters) packed for the
        /// channel-blocked kernel, the bias copied after them. Bias lanes no bias fills (a partly filled last block's lanes past
        /// the channels, or every lane of a layer without a bias) stay as the array was made: zero.
        /// </summary>
        public static void EmitPackBlockedStatement(IndentedWriter w, PlannedLayer layer)
        {
            int weightLength = WeightLengthOf(layer), packedLength = BlockedWeightLength(layer), outChannels = layer.Output.Channels;
            string blocked = "workspace." + BlockedArray(layer);
            string weights = layer.Fusion.BatchNorm ? "workspace." + FoldedArray(layer) + ".AsSpan(0, " + Int(weightLength) + ")" : WeightParameterSlice(layer, weightLength);
            string? bias = layer.Fusion.BatchNorm ? "workspace." + FoldedArray(layer) + ".AsSpan(" + Int(weightLength) + ", " + Int(outChannels) + ")"
                : BiasParameterSlice(layer, weightLength, outChannels);
            w.Line(GroupedConv2dEmitter.Handles(layer.Spec)
                ? "global::CnnGen.Kernels.ChannelBlocks.PackDepthwise(" + weights + ", " + Int(outChannels) + ", " + blocked + KernelArgument(layer) + ");"
                : "global::CnnGen.Kernels.ChannelBlocks.PackPointwise(" + weights + ", " + Int(layer.Input.Channels) + ", " + Int(outChannels) + ", " + blocked + ");");
            if (bias is not null) w.Line(bias + ".CopyTo(" + blocked + ".AsSpan(" + Int(packedLength) + "));");
        }

        // The fused method's body for a chain layer: x or the blocked region it reads, y or the blocked region it writes.
        private static void EmitBlockedBody(IndentedWriter w, PlannedLayer layer, Fusion fusion, string? bounds)
        {
            var (input, output) = (layer.Input, layer.Output);
            int weightLength = BlockedWeightLength(layer), biasLength = BlockedLength(layer) - weightLength;
            string padded = "columns.Slice(0, " + Int(fusion.BlockedPadded) + ")", blocked = "columns.Slice(" + Int(fusion.BlockedPadded) + ", " + Int(fusion.BlockedScratch - fusion.BlockedPadded) + ")";
            string weights = "p.Slice(0, " + Int(weightLength) + "), p.Slice(" + Int(weightLength) + ", " + Int(biasLength) + ")";
            string clamp = bounds is null ? "" : ", " + bounds;
            if (GroupedConv2dEmitter.Handles(layer.Spec))
            {
                w.Line("// x and y are not used: layer " + Int(fusion.BlockedFrom!.Index) + " left the input blocked and padded at the start of columns, and layer "
                    + Int(fusion.BlockedTo!.Index) + " reads the output blocked after it");
                w.Line("global::CnnGen.Kernels.ChannelBlocks.Depthwise(" + padded + ", " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                    + Int(layer.Spec.Stride) + ", " + weights + ", " + blocked + clamp + KernelArgument(layer) + DilationArgument(layer) + ");");
                return;
            }
            bool blockedInput = fusion.BlockedFrom is not null, nchwOutput = fusion.BlockedTo is null;
            w.Line("// " + (blockedInput ? "x is not used: layer " + Int(fusion.BlockedFrom!.Index) + " left the input blocked in columns" : "x NCHW")
                + "; " + (nchwOutput ? "y NCHW, from the output blocked at the start of columns" : "y is not written: the output goes blocked and padded to the start of columns, for layer " + Int(fusion.BlockedTo!.Index)));
            w.Line("global::CnnGen.Kernels.ChannelBlocks.Pointwise(" + (blockedInput ? blocked : "x") + ", blockedInput: " + (blockedInput ? "true" : "false") + ", "
                + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + weights + ", " + Int(output.Channels) + ", "
                + (nchwOutput ? "y, nchwOutput: true, " + padded : padded + ", nchwOutput: false, default") + clamp
                + (fusion.BlockedTo is { } next && next.Spec.Padding != 1 ? ", padding: " + Int(next.Spec.Padding) : "") + ");");
        }

        // A 5x5 depthwise chain layer's kernel argument (3x3 is the kernels' default).
        private static string KernelArgument(PlannedLayer layer) =>
            GroupedConv2dEmitter.Handles(layer.Spec) && layer.Spec.Kernel != 3 ? ", kernel: " + Int(layer.Spec.Kernel) : "";

        // A dilated depthwise chain layer's dilation argument (undilated is the kernel's default).
        private static string DilationArgument(PlannedLayer layer) => layer.Spec.Dilation != 1 ? ", dilation: " + Int(layer.Spec.Dilation) : "";

        // StridedConvolution.Link for the other side of a link, or a global average pooling after the layer, or none.
        // A link to a grouped layer names its group (an expression).
        private static string LinkExpression(PlannedLayer? other, bool atEnd, bool mean, string group = "1")
        {
            const string link = "global::CnnGen.Kernels.StridedConvolution.Link.";
            if (mean) return link + "GlobalMean";
            if (other is null) return link + "None";
            var (input, spec) = (other.Input, other.Spec);
            if (Grouped(other))
                return link + "Group(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(other.Output.Channels) + ", "
                    + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", " + group + ")";
            return link + "Convolution(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(other.Output.Channels) + ", "
                + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", atEnd: " + (atEnd ? "true" : "false") + ")";
        }

        private static bool Linked(PlannedLayer layer) => layer.Fusion.LinkedFrom is not null || layer.Fusion.LinkedTo is not null || layer.Fusion.Mean;

        /// <summary>The workspace array holding the batch-norm-folded weights and bias of a convolution, when it has one.</summary>
        public static string FoldedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Folded";

        /// <summary>Floats of the weights before the bias in a convolution's parameters (grouped ones included).</summary>
        private static int WeightLengthOf(PlannedLayer layer) => layer.ParameterCount - (layer.Spec.Bias ? layer.Output.Channels : 0);

        public static int FoldedLength(PlannedLayer layer) => WeightLengthOf(layer) + layer.Output.Channels;

        /// <summary>
        /// Evaluation: the batch-norm after the convolution folded into its weights and bias. The forward pass runs it once per
        /// change of the weights (the network's parameter version), not once per call.
        /// </summary>
        public static void EmitFoldStatement(IndentedWriter w, PlannedLayer layer, PlannedLayer batchNorm) =>
            w.Line(MethodName(layer) + "FoldBatchNorm(" + ParameterSlice(layer) + ", " + ParameterSlice(batchNorm) + ", " + BufferSlice(batchNorm) + ", workspace." + FoldedArray(layer) + ");");

        /// <summary>
        /// Whether evaluation runs this strided layer on weights prepared for <c>StridedConvolution</c> (packed, or
        /// Winograd-transformed) once per change of the weights, not on every call: every strided layer in evaluation (one that
        /// absorbs nothing gets a method of its own, <see cref="Fusion.HasEvaluationMethod"/>). With a batch-norm folded in,
        /// from the folded weights (<see cref="PreparedArray"/>); without, from the parameters into the training pass's array (<see cref="PassWeightsArray"/>), which a pass fills with the same floats.
        /// </summary>
        public static bool HasPreparedWeights(PlannedLayer layer) => layer.Fusion.PreparedWeights;

        /// <summary>The workspace array holding a strided layer's folded weights packed for its kernel, then its bias.</summary>
        public static string PreparedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Prepared";

        /// <summary>Whether the layer's prepared weights come from its folded ones, into an array of their own (<see cref="PreparedArray"/>).</summary>
        public static bool PreparesFolded(PlannedLayer layer) => HasPreparedWeights(layer) && layer.Fusion.BatchNorm;

        /// <summary>
        /// Whether evaluation prepares the layer's weights into an array of its own (<see cref="PreparedArray"/>): from the
        /// folded weights, or, without a batch-norm, for groups of samples (<see cref="Grouped"/>), whose Winograd filters the
        /// training pass's array (<see cref="PassWeightsArray"/>, one sample's) does not hold.
        /// </summary>
        public static bool HasOwnPreparedArray(PlannedLayer layer) => PreparesFolded(layer) || (HasPreparedWeights(layer) && Grouped(layer));

        /// <summary>The workspace array evaluation reads a layer's prepared weights from (<see cref="HasPreparedWeights"/>).</summary>
        public static string EvaluationPreparedArray(PlannedLayer layer) => HasOwnPreparedArray(layer) ? PreparedArray(layer) : PassWeightsArray(layer);

        /// <summary>
        /// The runtime expression for the floats of the layer's prepared weights: StridedConvolution decides per shape and
        /// machine whether they are packed (as many floats as the folded weights) or Winograd-transformed (more).
        /// </summary>
        public static string PreparedLength(PlannedLayer layer)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            if (Grouped(layer))
                return "global::CnnGen.Kernels.StridedConvolution.GroupPreparedLength(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                    + Int(layer.Output.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", " + GroupExpression(layer, "batchCapacity") + ")";
            return "global::CnnGen.Kernels.StridedConvolution.PreparedLength(" + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                + Int(layer.Output.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ")";
        }

        /// <summary>
        /// Evaluation's prepared weights in the layer's own array (<see cref="HasOwnPreparedArray"/>), packed for the strided
        /// kernel: after the fold from the folded weights and bias, else from the parameters (a grouped layer without a batch-norm).
        /// </summary>
        public static void EmitPrepareStatement(IndentedWriter w, PlannedLayer layer)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            int weightLength = WeightLengthOf(layer), outChannels = layer.Output.Channels;
            string folded = "workspace." + FoldedArray(layer);
            string weights = PreparesFolded(layer) ? folded + ".AsSpan(0, " + Int(weightLength) + ")" : WeightParameterSlice(layer, weightLength);
            string bias = PreparesFolded(layer) ? folded + ".AsSpan(" + Int(weightLength) + ", " + Int(outChannels) + ")" : BiasParameterSlice(layer, weightLength, outChannels) ?? "default";
            string shape = Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", " + Int(outChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding);
            w.Line(Grouped(layer)
                ? "global::CnnGen.Kernels.StridedConvolution.PrepareGroup(" + weights + ", " + bias + ", " + shape + ", workspace." + PreparedArray(layer) + ", " + GroupExpression(layer, "workspace.BatchCapacity") + ");"
                : "global::CnnGen.Kernels.StridedConvolution.Prepare(" + weights + ", " + bias + ", " + shape + ", workspace." + PreparedArray(layer) + ");");
        }

        /// <summary>
        /// Samples evaluation runs through this layer together, or 1: a strided 3x3 layer with prepared weights (a batch-norm
        /// folded into it or not) whose output is too small for one sample's Winograd tiles to make a GEMM of 16 rows (outputs of 4 to
        /// 63 cells, from 16 channels in and 32 out): as many samples as give the 4x4 tile 16 rows. The runtime's
        /// <c>StridedConvolution.GroupSamples</c> states the same rule with its measurements, and decides per machine whether
        /// the group's kernel runs (AVX-512), else its samples run one at a time (StridedConvolutionGroupTests and
        /// GeneratorTests hold the two together).
        /// </summary>
        public static int GroupSamples(PlannedLayer layer)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            if (layer.Kind != LayerKind.Conv2d || !HasPreparedWeights(layer) || spec.Kernel != 3 || spec.Stride != 2 || layer.Fusion.Activation is not null) return 1;
            int outChannels = layer.Output.Channels, padding = spec.Padding;
            if (input.Channels < 16 || outChannels < 32 || input.Height + 2 * padding < 3 || input.Width + 2 * padding < 3) return 1;
            int outHeight = (input.Height + 2 * padding - 3) / 2 + 1, outWidth = (input.Width + 2 * padding - 3) / 2 + 1, cells = outHeight * outWidth;
            if (cells >= 64 || cells < 4) return 1;
            int tiles = (outHeight + 3) / 4 * ((outWidth + 3) / 4);
            return System.Math.Max(1, (16 + tiles - 1) / tiles);
        }

        /// <summary>Whether evaluation runs the layer a group of samples at a time (<see cref="GroupSamples"/>).</summary>
        public static bool Grouped(PlannedLayer layer) => GroupSamples(layer) > 1;

        // The group a workspace prepares the layer's weights for: a workspace for one sample keeps a sample's (its tile, its bits).
        private static string GroupExpression(PlannedLayer layer, string capacity) => "(" + capacity + " > 1 ? " + Int(GroupSamples(layer)) + " : 1)";

        /// <summary>
        /// Evaluation's statement for a grouped layer (<see cref="GroupSamples"/>) and what it absorbs (batch-norm, ReLU, a global
        /// average pooling), writing <paramref name="last"/>'s output for the <paramref name="samples"/>: a group at a time.
        /// </summary>
        public static void EmitGroupedStatement(IndentedWriter w, PlannedLayer layer, PlannedLayer last, Fusion fusion, SampleRange samples)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            w.Line("// " + Int(GroupSamples(layer)) + " samples' Winograd tiles as one GEMM per position (one sample's make too few rows), a group at a time");
            using (w.OpenBlock())
            {
                w.Line("int group = " + GroupExpression(layer, "workspace.BatchCapacity") + ";");
                if (layer.Fusion.LinkedFrom is not null) w.Line("int slot = " + GroupSlot(layer) + "; // layer " + Int(layer.Fusion.LinkedFrom.Index) + " left each sample's input in its slot");
                string x = layer.Fusion.LinkedFrom is null ? Slice(InputArray(layer), "start * " + Int(input.Length), "samples * " + Int(input.Length))
                    : "workspace." + GroupInputArray(layer) + ".AsSpan(start * slot, samples * slot)";
                using (w.OpenBlock("for (int start = 0; start < " + samples.Count + "; start += group)"))
                {
                    w.Line("int samples = global::System.Math.Min(group, " + samples.Count + " - start);");
                    w.Line("global::CnnGen.Kernels.StridedConvolution.ForwardPreparedSamples(" + x + ", samples, "
                        + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", workspace." + PreparedArray(layer) + ", " + Int(layer.Output.Channels) + ", "
                        + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", group, " + OutputArray(last) + ".AsSpan(start * " + Int(last.Output.Length) + ", samples * "
                        + Int(last.Output.Length) + "), workspace.Columns, relu: " + (fusion.Relu ? "true" : "false") + ", means: " + (fusion.Mean ? "true" : "false")
                        + (layer.Fusion.LinkedFrom is null ? "" : ", " + LinkExpression(layer.Fusion.LinkedFrom, false, false)) + ");");
                }
            }
        }

        /// <summary>The evaluation-mode call for sample <c>n</c> of a fused chain, writing the last absorbed layer's output.</summary>
        public static void EmitFusedStatement(IndentedWriter w, PlannedLayer layer, PlannedLayer last, Fusion fusion)
        {
            // Linked to a grouped layer: the output goes to the sample's slot of that layer's input (GroupInputArray).
            var group = LinkedGroup(layer);
            string output = group is null ? SampleSlice(OutputArray(last), last.Output.Length)
                : "workspace." + GroupInputArray(group) + ".AsSpan(n * " + GroupSlot(group) + ", " + GroupSlot(group) + ")";
            if (fusion.Join is { } join)
            {
                // The block's sum (or the ReLU after it) is what it writes, the block's input what it adds.
                output = SampleSlice((fusion.JoinRelu?.Out ?? join.Sum).Array, last.Output.Length) + ", " + SampleSlice(join.Shortcut.Array, last.Output.Length);
                w.Line("// " + join.Block.Describe() + ": body + input" + (fusion.JoinRelu is { } relu ? ", and " + relu.Describe() + "," : "") + " added as the kernel writes its maps");
            }
            w.Line(MethodName(layer) + fusion.MethodSuffix + "(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + output
                + ", " + (HasPreparedWeights(layer) ? "workspace." + EvaluationPreparedArray(layer) : InBlockedChain(layer) ? "workspace." + BlockedArray(layer)
                    : fusion.BatchNorm ? "workspace." + FoldedArray(layer) : ParameterSlice(layer)) + FiltersArgument(layer)
                + (GroupedConv2dEmitter.HasLineFilters(layer) ? ", workspace." + GroupedConv2dEmitter.EvaluationFiltersArray(layer) : "")
                + (group is null ? "" : ", " + GroupExpression(group, "workspace.BatchCapacity")) + ", workspace.Columns);");
        }

        /// <summary>The grouped layer this one hands its maps to (<see cref="LinkStridedLayers"/>), or null.</summary>
        private static PlannedLayer? LinkedGroup(PlannedLayer layer) => layer.Fusion.LinkedTo is { } next && Grouped(next) ? next : null;

        /// <summary>The workspace array a grouped layer's input comes in from the strided layer linked to it: a slot per sample of the batch.</summary>
        public static string GroupInputArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "GroupInput";

        // A sample's slot of GroupInputArray, in floats (the runtime's GroupLinkLength, the same for every sample).
        private static string GroupSlot(PlannedLayer layer) => "(workspace." + GroupInputArray(layer) + ".Length / workspace.BatchCapacity)";

        private static string GroupLinkLength(PlannedLayer layer, string capacity)
        {
            var (from, input, spec) = (layer.Fusion.LinkedFrom!, layer.Input, layer.Spec);
            return "global::CnnGen.Kernels.StridedConvolution.GroupLinkLength(" + LinkExpression(from, false, false) + ", " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                + Int(layer.Output.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", " + GroupExpression(layer, capacity) + ")";
        }

        public static void EmitFusedMethods(IndentedWriter w, PlannedLayer layer, PlannedLayer last, Fusion fusion, PlannedLayer? batchNorm)
        {
            var spec = layer.Spec;
            int weightLength = WeightLengthOf(layer), outChannels = layer.Output.Channels;
            bool bias = spec.Bias || fusion.BatchNorm;
            if (fusion.BatchNorm && batchNorm is not null)
            {
                w.Line("/// <summary>" + Xml(layer.Describe()) + ": " + Xml(batchNorm.Describe()) + " folded into its weights and bias, with the running statistics.</summary>");
                w.Line("private static void " + MethodName(layer) + "FoldBatchNorm(" + ReadOnlySpan + " p, " + ReadOnlySpan + " bn, " + ReadOnlySpan + " running, " + Span + " folded)");
                using (w.OpenBlock())
                {
                    w.Line("global::CnnGen.Kernels.BatchNormalization.FoldIntoConvolution(p.Slice(0, " + Int(weightLength) + "), "
                        + (spec.Bias ? "p.Slice(" + Int(weightLength) + ", " + Int(outChannels) + ")" : "default") + ", bn, running, "
                        + Int(outChannels) + ", " + Float(batchNorm.Spec.Eps) + ", folded);");
                }
                w.Line();
            }
            string what = (fusion.BatchNorm ? " + batch-norm (folded)" : "") + (fusion.Relu ? " + ReLU" : "") + (fusion.Pool ? " + 2x2 max pooling" : "") + (fusion.Mean ? " + global average pooling" : "")
                + (fusion.Activation is null ? "" : " + " + fusion.Activation.Kind) + (fusion.Join is null ? "" : " + the block's input" + (fusion.JoinRelu is null ? "" : " + ReLU"));
            if (Grouped(layer)) return; // evaluation calls StridedConvolution.ForwardPreparedSamples (EmitGroupedStatement)
            if (ForwardOverBatch(layer))
            {
                EmitOverBatchMethod(w, layer, last, fusion, bias);
                w.Line();
            }
            w.Line(fusion.Absorbed == 0 ? "/// <summary>" + Xml(layer.Describe()) + (InBlockedChain(layer) ? ", channel-blocked for evaluation" : ": for evaluation") + ", on its weights "
                    + (InBlockedChain(layer) ? "packed" : "prepared for the kernel") + " once per change of them.</summary>"
                : "/// <summary>" + Xml(layer.Describe()) + what + ", fused for evaluation: writes " + Xml(last.Output.ToString()) + " and nothing in between.</summary>");
            w.Line("private static void " + MethodName(layer) + fusion.MethodSuffix + "(" + ReadOnlySpan + " x, " + Span + " y" + (fusion.Join is null ? "" : ", " + ReadOnlySpan + " shortcut") + ", " + ReadOnlySpan + " p" + FiltersParameter(layer)
                + (GroupedConv2dEmitter.HasLineFilters(layer) ? ", " + ReadOnlySpan + " filters" : "") + (LinkedGroup(layer) is null ? "" : ", int group") + ", " + Span + " columns)");
            using (w.OpenBlock())
            {
                var d = DimsOf(layer);
                string? bounds = KernelBounds(layer, fusion);
                if (InBlockedChain(layer)) EmitBlockedBody(w, layer, fusion, bounds);
                else if (GroupedConv2dEmitter.Handles(spec))
                    w.Line(GroupedConv2dEmitter.Instance.ForwardCall(layer, bias, bounds, GroupedConv2dEmitter.HasLineFilters(layer) ? "filters" : null));
                else if (HasPreparedWeights(layer))
                {
                    var input = layer.Input;
                    w.Line("// p: the " + (fusion.BatchNorm ? "folded " : "") + "weights packed (or Winograd-transformed) for the kernel, then the bias (StridedConvolution.Prepare, once per change of the weights)");
                    string call = "global::CnnGen.Kernels.StridedConvolution.ForwardPrepared" + (Linked(layer) ? "Linked" : "") + "(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p, "
                        + Int(outChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", y, columns, relu: " + (fusion.Relu ? "true" : "false");
                    if (Linked(layer))
                    {
                        if (layer.Fusion.LinkedFrom is not null) w.Line("// x is not read where layer " + Int(layer.Fusion.LinkedFrom.Index) + " left this layer's input padded in columns (both run the Winograd kernel)");
                        if (LinkedGroup(layer) is { } group) w.Line("// y: the sample's slot of layer " + Int(group.Index) + "'s input, which runs groups of samples: its padded input where both run Winograd kernels, else the maps");
                        else if (layer.Fusion.LinkedTo is not null) w.Line("// y is not written where layer " + Int(layer.Fusion.LinkedTo.Index) + " takes the maps padded from columns (both run the Winograd kernel)");
                        if (fusion.Mean) w.Line("// y: the channels' means (the global average pooling)");
                        call += ", " + LinkExpression(layer.Fusion.LinkedFrom, layer.Fusion.FromAtEnd, false) + ", " + LinkExpression(layer.Fusion.LinkedTo, layer.Fusion.ToAtEnd, fusion.Mean, "group");
                    }
                    w.Line(call + ");");
                }
                else if (fusion.Join is not null) EmitJoinedCall(w, layer, bias);
                else if (WinogradLinked(layer)) EmitWinogradLinkedCall(w, layer, bias);
                else if (d.Direct || d.Strided)
                {
                    bool byRows = RunsByRows(layer, fusion.Pool);
                    if (byRows) w.Line("// A layer from few channels: a one-dimensional Winograd along the rows where the runtime measured it faster (evaluation only: training keeps the direct kernels' floats)");
                    w.Line(DirectForwardCall(layer, (fusion.Pool ? "ForwardPooled" : "Forward") + (byRows ? "ByRows" : ""), bias, fusion.Relu));
                }
                else EmitPointwiseBody(w, layer, bias, bounds);
                if (fusion.Activation is { } activation && !WinogradLinked(layer))
                {
                    if (bounds is not null)
                    {
                        w.Line("// " + activation.Describe() + ": the kernel's output bounds (" + bounds + "), applied in its registers");
                    }
                    else if (InBlockedChain(layer)) EmitBlockedActivation(w, layer, fusion, activation);
                    else
                    {
                        w.Line("// " + activation.Describe() + ", in place while the sample's output is in cache");
                        w.Line(ActivationEmitter.InPlaceStatement(activation, "y"));
                    }
                }
            }
        }

        /// <summary>
        /// The bounds ("low, high" literals) a ReLU or ReLU6 fused after a pointwise or depthwise convolution becomes in that
        /// kernel's epilogue (the same comparisons as the element-wise kernels, so the same floats), or null: another
        /// activation, or a kernel that would only clamp in a second pass (grouped products) or has its own ReLU.
        /// </summary>
        private static string? KernelBounds(PlannedLayer layer, Fusion fusion)
        {
            if (fusion.Activation is not { } activation) return null;
            string? bounds = activation.Kind switch
            {
                LayerKind.ReLU => "0f, float.PositiveInfinity",
                LayerKind.ReLU6 => "0f, 6f",
                _ => null,
            };
            if (bounds is null) return null;
            bool grouped = GroupedConv2dEmitter.Handles(layer.Spec);
            bool depthwise = grouped && layer.Input.Channels == layer.Spec.Groups;
            var d = DimsOf(layer);
            bool pointwise = !grouped && !HasPreparedWeights(layer) && !d.Direct && !d.Strided;
            return depthwise || pointwise ? bounds : null;
        }

        /// <summary>
        /// A pointwise (1x1, stride 1, unpadded) convolution of one sample in evaluation: register tiles over channels with the
        /// bias in the accumulators (<c>PointwiseConvolution</c>), no packing and no second pass; with <paramref name="bounds"/>,
        /// a fused ReLU or ReLU6 clamps the accumulators before they are stored.
        /// </summary>
        private static void EmitPointwiseBody(IndentedWriter w, PlannedLayer layer, bool bias, string? bounds)
        {
            var d = DimsOf(layer);
            w.Line("// y [" + Int(d.OutChannels) + " x " + Int(d.Cells) + "] = weight · x + bias");
            w.Line("global::CnnGen.Kernels.PointwiseConvolution.Forward(x, " + Int(layer.Input.Channels) + ", " + Int(d.Cells) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", y"
                + (bounds is null ? "" : ", " + bounds) + ");");
        }

        // A stride-1 layer linked to the one before or after it (LinkWinogradLayers): the maps between pass in the Winograd
        // kernel's padded layout in columns where both run it here, else through x and y as unlinked.
        private static void EmitWinogradLinkedCall(IndentedWriter w, PlannedLayer layer, bool bias)
        {
            var (d, input, spec, fusion) = (DimsOf(layer), layer.Input, layer.Spec, layer.Fusion);
            if (fusion.WinogradFrom is { } from) w.Line("// x is not read where layer " + Int(from.Index) + " left this layer's input padded in columns (both run Winograd kernels here)");
            if (fusion.WinogradTo is { } to) w.Line("// y is not written where layer " + Int(to.Index) + " takes the maps padded from columns (both run Winograd kernels here)");
            string written = fusion.Activation is null ? "" : "var written = ";
            w.Line(written + "global::CnnGen.Kernels.DirectConvolution.ForwardLinked(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Padding)
                + ", y, columns, relu: " + (fusion.Relu ? "true" : "false") + ", pool: " + (fusion.Pool ? "true" : "false") + (HasWinogradFilters(layer) ? ", filters, " : ", default, ")
                + WinogradLinkExpression(fusion.WinogradFrom, fusion.WinogradFromAtEnd) + ", " + WinogradLinkExpression(fusion.WinogradTo, fusion.WinogradToAtEnd) + ");");
            if (fusion.Activation is { } activation)
            {
                w.Line("// " + activation.Describe() + ", in place over what the kernel wrote: y, or the next layer's padded input (its zero margins stay zero)");
                w.Line(ActivationEmitter.InPlaceStatement(activation, "written"));
            }
        }

        // The last layer of a residual body with the block's sum (JoinResiduals): y = its output + shortcut (then ReLU), the sum
        // added as the Winograd kernel turns its maps into NCHW; its input maybe handed on by the layer before.
        private static void EmitJoinedCall(IndentedWriter w, PlannedLayer layer, bool bias)
        {
            var (d, input, spec, fusion) = (DimsOf(layer), layer.Input, layer.Spec, layer.Fusion);
            if (fusion.WinogradFrom is { } from) w.Line("// x is not read where layer " + Int(from.Index) + " left this layer's input padded in columns (both run Winograd kernels here)");
            w.Line("// y = this layer's output + shortcut" + (fusion.JoinRelu is null ? "" : ", then ReLU") + ": the residual sum added as the kernel writes the maps");
            w.Line("global::CnnGen.Kernels.DirectConvolution.ForwardJoined(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Padding)
                + ", y, columns, relu: " + (fusion.Relu ? "true" : "false") + ", pool: false, filters, " + WinogradLinkExpression(fusion.WinogradFrom, fusion.WinogradFromAtEnd)
                + ", shortcut, reluAfterSum: " + (fusion.JoinRelu is null ? "false" : "true") + ");");
        }

        /// <summary>The <c>DirectConvolution</c> forward call on <c>x</c>, <c>p</c> (weights, then the bias when there is one), <c>y</c> and <c>columns</c>.</summary>
        private static string DirectForwardCall(PlannedLayer layer, string method, bool bias, bool relu)
        {
            var (d, input, spec) = (DimsOf(layer), layer.Input, layer.Spec);
            if (d.Strided)
            {
                return "global::CnnGen.Kernels.StridedConvolution.Forward(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                    + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding)
                    + ", y, columns, relu: " + (relu ? "true" : "false") + ");";
            }
            bool filters = HasWinogradFilters(layer);
            return "global::CnnGen.Kernels.DirectConvolution." + method + (filters ? "WithFilters" : "") + "(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), "
                + (bias ? "p.Slice(" + Int(d.WeightLength) + ", " + Int(d.OutChannels) + ")" : "default") + ", " + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Padding)
                + ", y, columns, relu: " + (relu ? "true" : "false") + (filters ? ", filters" : "") + ");";
        }

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            var d = DimsOf(layer);
            if (ForwardOverBatch(layer) && layer.Fusion.Absorbed == 0)
            {
                EmitOverBatchMethod(w, layer, layer, default, layer.Spec.Bias);
                w.Line();
            }
            MethodHeader(w, layer, MethodName(layer), ReadOnlySpan + " x, " + Span + " y, " + ReadOnlySpan + " p" + FiltersParameter(layer)
                + (HasPassWeights(layer) ? ", " + ReadOnlySpan + " prepared" : "") + ", " + Span + " columns");
            using (w.OpenBlock())
            {
                w.Line("// weight [" + Int(d.OutChannels) + " x " + Int(d.Taps) + "] at p[0]" + (layer.Spec.Bias ? ", bias [" + Int(d.OutChannels) + "] at p[" + Int(d.WeightLength) + "]" : ", no bias"));
                if (d.Direct)
                {
                    w.Line(HasWinogradFilters(layer)
                        ? "// Stride-1 " + Int(layer.Spec.Kernel) + "x" + Int(layer.Spec.Kernel) + " convolution: Winograd with the filters the forward pass transformed, where the runtime uses it for this shape; else direct."
                        : "// Direct stride-1 convolution (register tiles over flat padded rows), started at the bias.");
                    w.Line(DirectForwardCall(layer, "Forward", layer.Spec.Bias, relu: false));
                    return;
                }
                if (d.Strided)
                {
                    w.Line("// Strided convolution: output channels in the vector lanes where they fill them, else im2col + GEMM; started at the bias.");
                    if (HasPassWeights(layer))
                    {
                        w.Line("// prepared: p prepared for the kernel once for the pass (training), or empty (evaluation: p packed in the call)");
                        using (w.OpenBlock("if (!prepared.IsEmpty)"))
                        {
                            w.Line("global::CnnGen.Kernels.StridedConvolution.ForwardPrepared(x, " + Int(layer.Input.Channels) + ", " + Int(layer.Input.Height) + ", " + Int(layer.Input.Width)
                                + ", prepared, " + Int(d.OutChannels) + ", " + Int(layer.Spec.Kernel) + ", " + Int(layer.Spec.Stride) + ", " + Int(layer.Spec.Padding) + ", y, columns, relu: false);");
                            w.Line("return;");
                        }
                    }
                    w.Line(DirectForwardCall(layer, "Forward", layer.Spec.Bias, relu: false));
                    return;
                }
                // What is left is a pointwise layer: register tiles read x in place, where a GEMM packed it for each sample
                // (KernelBench pointwise-training: 1.0-1.6x on 4x4 to 56x56 maps, 4.4x on 2x2).
                EmitPointwiseBody(w, layer, layer.Spec.Bias, bounds: null);
            }
        }

        // The direct kernel adds each sample's weight gradient as it goes: one call per sample does both gradients.
        public override bool IsPerSampleBackward(PlannedLayer layer) => (DimsOf(layer).Direct || DimsOf(layer).Strided) && !BackwardOverBatch(layer) && !SplitsBackward(layer);

        public override void EmitSampleBackwardStatement(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            // One kernel call gives both gradients, each only when wanted: a frozen layer's weights get none.
            string x = SampleSlice(InputArray(layer), layer.Input.Length);
            w.Line(MethodName(layer) + "Backward(" + x + ", " + gradients.OutputSample(layer) + ", " + ParameterSlice(layer) + ", " + ParameterGradientOrEmpty(layer)
                + ", " + InputGradientOrEmpty(layer, gradients.InputSample(layer)) + BackwardWeightsArgument(layer) + ", workspace.Columns"
                + (HasWeightGradientProducts(layer) ? ", workspace." + WeightGradientProductsArray(layer) + ", n, batchSize" : "") + ");");
        }

        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            string x = SampleSlice(InputArray(layer), layer.Input.Length);
            if (BackwardOverBatch(layer))
            {
                w.Line(MethodName(layer) + "BackwardOverBatch(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputBatch(layer) + ", batchSize, " + ParameterSlice(layer)
                    + ", " + ParameterGradientOrEmpty(layer) + ", " + InputGradientOrEmpty(layer, gradients.InputBatch(layer)) + ", workspace.Columns);");
                return;
            }
            if (SplitsBackward(layer))
            {
                w.Line("// The weight gradient over the batch by taps, the input gradient a sample at a time by Winograd");
                WhenParameterGradientNeeded(w, layer, () =>
                    w.Line(MethodName(layer) + "BackwardOverBatch(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputBatch(layer) + ", batchSize, " + ParameterSlice(layer)
                        + ", " + GradientSlice(layer) + ", default, workspace.Columns);"));
                WhenInputGradientNeeded(w, layer, () =>
                {
                    using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                        w.Line(MethodName(layer) + "Backward(" + x + ", " + gradients.OutputSample(layer) + ", " + ParameterSlice(layer) + ", default, " + gradients.InputSample(layer)
                            + BackwardWeightsArgument(layer) + ", workspace.Columns);");
                });
                return;
            }
            if (DimsOf(layer).Direct || DimsOf(layer).Strided)
            {
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                    EmitSampleBackwardStatement(w, layer, gradients);
                return;
            }
            WhenParameterGradientNeeded(w, layer, () =>
            {
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                    w.Line(MethodName(layer) + "BackwardParameters(" + x + ", " + gradients.OutputSample(layer) + ", " + GradientSlice(layer) + ", workspace.Columns);");
            });
            WhenInputGradientNeeded(w, layer, () =>
            {
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                    w.Line(MethodName(layer) + "BackwardInput(" + gradients.OutputSample(layer) + ", " + ParameterSlice(layer) + (HasInputGradientWeights(layer) ? ", workspace." + InputGradientWeightsArray(layer) : "")
                        + ", " + gradients.InputSample(layer) + ", workspace.Columns);");
            });
        }

        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            var d = DimsOf(layer);
            if (BackwardOverBatch(layer) || SplitsBackward(layer))
            {
                var (input, spec) = (layer.Input, layer.Spec);
                w.Line("/// <summary>" + Xml(layer.Describe()) + ": accumulates the parameter gradients of the batch (unless dp is empty: frozen) and, when dx is not empty, writes its input gradients.</summary>");
                w.Line("private static void " + MethodName(layer) + "BackwardOverBatch(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, int batchSize, " + ReadOnlySpan + " p, " + Span + " dp, " + Span + " dx, " + Span + " columns)");
                using (w.OpenBlock())
                {
                    w.Line("// " + Int(d.WeightLength) + " weights for " + Int(d.Cells) + " cells a sample: " + (SplitsBackward(layer) ? "the weight gradient (the input gradient: Backward, a sample at a time)" : "both gradients")
                        + " over groups of samples, " + (d.Strided || IsPointwise(layer) ? "each one GEMM" : "by one GEMM per kernel tap over the cells it reads") + ", so the weights and their gradient are read once a group");
                    w.Line((d.Strided ? "global::CnnGen.Kernels.StridedConvolution" : "global::CnnGen.Kernels.DirectConvolution") + ".BackwardOverBatch(x, batchSize, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), dy, "
                        + Int(d.OutChannels) + ", " + Int(spec.Kernel) + (d.Strided ? ", " + Int(spec.Stride) : "") + ", " + Int(spec.Padding) + ", dp.IsEmpty ? default : dp.Slice(0, " + Int(d.WeightLength) + "), dx, columns);");
                    if (spec.Bias)
                    {
                        w.Line("// d bias: each channel's output gradient, summed sample by sample");
                        w.Line("if (dp.IsEmpty) return;");
                        using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                            w.Line("for (int oc = 0; oc < " + Int(d.OutChannels) + "; oc++) dp[" + Int(d.WeightLength) + " + oc] += global::CnnGen.Kernels.Elementwise.Sum(dy.Slice(n * " + Int(d.OutChannels * d.Cells) + " + oc * " + Int(d.Cells) + ", " + Int(d.Cells) + "));");
                    }
                }
                if (!SplitsBackward(layer)) return;
                w.Line(); // the split's input gradient: the Backward method below, a sample at a time
            }
            if (d.Direct || d.Strided)
            {
                var (input, spec) = (layer.Input, layer.Spec);
                w.Line("/// <summary>" + Xml(layer.Describe()) + ": accumulates the parameter gradients of one sample (unless dp is empty: frozen) and, when dx is not empty, writes its input gradient.</summary>");
                bool filters = InputGradientByWinograd(layer);
                bool packed = HasInputGradientWeights(layer);
                w.Line("private static void " + MethodName(layer) + "Backward(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, " + ReadOnlySpan + " p, " + Span + " dp, " + Span + " dx" + (filters ? FiltersParameter(layer) : "")
                    + (packed ? ", " + ReadOnlySpan + " inputGradientWeights" : "") + ", " + Span + " columns"
                    + (HasWeightGradientProducts(layer) ? ", " + Span + " weightGradientProducts, int sample, int samples" : "") + ")");
                using (w.OpenBlock())
                {
                    // The two kernels share one contract: both gradients in one call, the strided one taking the stride too.
                    w.Line(d.Strided ? "// d weight += x correlated with dy at the stride (output channels in the vector lanes, no im2col); dx with the input channels in the lanes (the weights backward packed), or weightᵀ · dy folded back onto the input"
                        : filters ? "// d weight += x correlated with dy (by Winograd: summed over the samples, transformed at the last); dx = dy convolved with the turned weights (Winograd, the filters backward transformed) or folded back directly"
                        : "// d weight += x correlated with dy; dx = weightᵀ · dy folded back onto the input (flat padded rows, no im2col)");
                    string sampleOf = HasWeightGradientProducts(layer) ? "OfSample" : "";
                    string kernel = d.Strided ? (packed ? "StridedConvolution.BackwardPacked" : "StridedConvolution.Backward") + sampleOf : filters ? "DirectConvolution.BackwardWithFilters" : "DirectConvolution.Backward";
                    w.Line("global::CnnGen.Kernels." + kernel + "(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", p.Slice(0, " + Int(d.WeightLength) + "), dy, "
                        + Int(d.OutChannels) + ", " + Int(spec.Kernel) + ", " + (d.Strided ? Int(spec.Stride) + ", " : "") + Int(spec.Padding)
                        + ", dp.IsEmpty ? default : dp.Slice(0, " + Int(d.WeightLength) + "), dx, columns" + (filters ? ", filters" : "") + (packed ? ", inputGradientWeights" : "")
                        + (HasWeightGradientProducts(layer) ? ", weightGradientProducts, sample, samples" : "") + ");");
                    if (spec.Bias)
                    {
                        w.Line("// d bias: each channel's output gradient, summed");
                        w.Line("if (dp.IsEmpty) return;");
                        w.Line("for (int oc = 0; oc < " + Int(d.OutChannels) + "; oc++) dp[" + Int(d.WeightLength) + " + oc] += global::CnnGen.Kernels.Elementwise.Sum(dy.Slice(oc * " + Int(d.Cells) + ", " + Int(d.Cells) + "));");
                    }
                }
                return;
            }
            // What is left is a pointwise layer, differentiated a sample at a time.
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": accumulates the parameter gradients of one sample.</summary>");
            w.Line("private static void " + MethodName(layer) + "BackwardParameters(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, " + Span + " dp, " + Span + " columns)");
            using (w.OpenBlock())
            {
                w.Line("// d weight [" + Int(d.OutChannels) + " x " + Int(d.Taps) + "] += dy · xᵀ (a correlation of the input with the output gradient)");
                w.Line(Gemm(false, true, d.OutChannels, d.Taps, d.Cells, "dy", d.Cells, "x", d.Cells, "dp", d.Taps, true));
                if (layer.Spec.Bias)
                {
                    w.Line("// d bias: each channel's output gradient, summed");
                    w.Line("for (int oc = 0; oc < " + Int(d.OutChannels) + "; oc++) dp[" + Int(d.WeightLength) + " + oc] += global::CnnGen.Kernels.Elementwise.Sum(dy.Slice(oc * " + Int(d.Cells) + ", " + Int(d.Cells) + "));");
                }
            }
            w.Line();
            bool transposed = HasInputGradientWeights(layer);
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": the gradient of one sample's input" + (transposed ? " (transposed: the weights transposed for the pass, or empty)" : "") + ".</summary>");
            w.Line("private static void " + MethodName(layer) + "BackwardInput(" + ReadOnlySpan + " dy, " + ReadOnlySpan + " p" + (transposed ? ", " + ReadOnlySpan + " transposed" : "")
                + ", " + Span + " dx, " + Span + " columns)");
            using (w.OpenBlock())
            {
                if (transposed)
                {
                    w.Line("// dx [" + Int(d.Taps) + " x " + Int(d.Cells) + "] = weightᵀ · dy: register tiles on the transposed weights where the runtime keeps them, else a GEMM");
                    using (w.OpenBlock("if (!transposed.IsEmpty)"))
                    {
                        w.Line("global::CnnGen.Kernels.PointwiseConvolution.InputGradient(dy, " + Int(d.OutChannels) + ", " + Int(d.Cells) + ", transposed, " + Int(d.Taps) + ", dx);");
                        w.Line("return;");
                    }
                }
                else w.Line("// dx [" + Int(d.Taps) + " x " + Int(d.Cells) + "] = weightᵀ · dy");
                w.Line(Gemm(true, false, d.Taps, d.Cells, d.OutChannels, "p", d.Taps, "dy", d.Cells, "dx", d.Cells, false));
            }
        }
    }
}
