using System.Collections.Generic;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>A workspace array a layer needs besides its output (batch-norm statistics, a dropout mask).</summary>
    internal readonly record struct WorkspaceArray(string Name, string Length, string Comment, string Element = "float");

    /// <summary>
    /// Emits one layer kind. The network emitter asks each layer for the statements that run it over a
    /// batch inside <c>Forward</c>, and for the private methods those statements call.
    /// </summary>
    internal abstract class LayerEmitter
    {
        /// <summary>The emitter of a layer. Every kind is listed: a marker is never a layer, so it has none.</summary>
        public static LayerEmitter For(PlannedLayer layer) => For(layer.Spec);

        public static LayerEmitter For(LayerSpec spec) => spec.Kind switch
        {
            LayerKind.Conv2d => GroupedConv2dEmitter.Handles(spec) ? GroupedConv2dEmitter.Instance : Conv2dEmitter.Instance,
            LayerKind.ConvTranspose2d => ConvTranspose2dEmitter.Instance,
            LayerKind.MaxPool or LayerKind.AvgPool => PoolEmitter.Instance,
            LayerKind.GlobalAvgPool or LayerKind.AdaptiveAvgPool or LayerKind.Upsample => ResamplingEmitter.Instance,
            LayerKind.BatchNorm => BatchNormEmitter.Instance,
            LayerKind.ReLU or LayerKind.LeakyReLU or LayerKind.Sigmoid or LayerKind.Tanh
                or LayerKind.ReLU6 or LayerKind.Hardswish or LayerKind.SiLU or LayerKind.GELU => ActivationEmitter.Instance,
            LayerKind.Flatten => FlattenEmitter.Instance,
            LayerKind.Linear => LinearEmitter.Instance,
            LayerKind.Dropout => DropoutEmitter.Instance,
            LayerKind.Softmax => SoftmaxEmitter.Instance,
            LayerKind.Residual or LayerKind.Shortcut or LayerKind.Concat or LayerKind.Branch or LayerKind.End =>
                throw new System.ArgumentException("[" + spec.Kind + "] is a block marker; the plan renders blocks, not an emitter.", nameof(spec)),
            _ => throw new System.ArgumentOutOfRangeException(nameof(spec), spec.Kind, "No emitter for this layer kind."),
        };

        /// <summary>
        /// Statements inside <c>Forward</c> (which has <c>input</c>, <c>batchSize</c>, <c>workspace</c>, <c>parameters</c>)
        /// when they are the same in training and evaluation: by default, for a per-sample layer, a loop over the batch.
        /// </summary>
        protected virtual void EmitForwardCall(IndentedWriter w, PlannedLayer layer)
        {
            if (!IsPerSample) throw new System.InvalidOperationException(layer.Describe() + " needs a forward call of its own.");
            using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                EmitSampleStatement(w, layer);
        }

        /// <summary>
        /// Whether the forward pass maps each sample on its own, in training and evaluation alike. Runs of such layers
        /// share one loop over the batch, so a sample's activations are still in cache for the next layer.
        /// </summary>
        public virtual bool IsPerSample => false;

        /// <summary>
        /// Whether the backward pass is one statement per sample (no parameters summed over the batch, or a kernel that
        /// adds them sample by sample), so runs of such layers can share one loop over the batch too.
        /// </summary>
        public virtual bool IsPerSampleBackward(PlannedLayer layer) => false;

        /// <summary>For a per-sample backward: the statement for sample <c>n</c>.</summary>
        public virtual void EmitSampleBackwardStatement(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients) =>
            throw new System.InvalidOperationException(layer.Describe() + " is not differentiated one sample at a time.");

        /// <summary>The forward statements for a training-mode pass (by default those of <see cref="EmitForwardCall"/>).</summary>
        public virtual void EmitTrainingForwardCall(IndentedWriter w, PlannedLayer layer) => EmitForwardCall(w, layer);

        /// <summary>
        /// The forward statements for an evaluation-mode pass over <paramref name="samples"/> (by default a loop of its
        /// per-sample statement; a layer that is not per-sample in evaluation runs over the whole batch only).
        /// </summary>
        public virtual void EmitEvaluationForwardCall(IndentedWriter w, PlannedLayer layer, SampleRange samples)
        {
            if (!IsPerSampleInEvaluation)
            {
                if (samples != SampleRange.WholeBatch) throw new System.InvalidOperationException(layer.Describe() + " runs over the whole batch, not over a chunk of it.");
                EmitForwardCall(w, layer);
                return;
            }
            using (w.OpenBlock(samples.Loop))
                EmitEvaluationSampleStatement(w, layer);
        }

        /// <summary>Whether evaluation maps each sample on its own (batch-norm with running statistics does; training's does not).</summary>
        public virtual bool IsPerSampleInEvaluation => IsPerSample;

        /// <summary>For a layer per-sample in evaluation: its evaluation statement for sample <c>n</c>.</summary>
        public virtual void EmitEvaluationSampleStatement(IndentedWriter w, PlannedLayer layer) => EmitSampleStatement(w, layer);

        /// <summary>For a per-sample layer: the forward statement for sample <c>n</c>.</summary>
        public virtual void EmitSampleStatement(IndentedWriter w, PlannedLayer layer) =>
            throw new System.InvalidOperationException(layer.Describe() + " is not computed one sample at a time.");

        /// <summary>The private static methods the call uses.</summary>
        public abstract void EmitForwardMethods(IndentedWriter w, PlannedLayer layer);

        /// <summary>
        /// Statements inside <c>Backward</c> that take the gradient of the layer's output (in <paramref name="gradients"/>.Output),
        /// accumulate its parameter gradients into <c>parameterGradients</c>, and write the gradient of its input
        /// (into <paramref name="gradients"/>.Input) unless this is the first layer and no input gradient was asked for.
        /// </summary>
        public abstract void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients);

        /// <summary>The private static methods the backward call uses.</summary>
        public abstract void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer);

        /// <summary>
        /// Before an evaluation forward that keeps activations for backward: what backward will read in place of the
        /// training forward's records (batch-norm's running statistics, dropout's all-ones mask). Nothing by default.
        /// </summary>
        public virtual void EmitGradientEvaluationPrologue(IndentedWriter w, PlannedLayer layer) { }

        /// <summary>A runtime expression for the scratch floats one sample of this layer needs (in <c>workspace.Columns</c>), or null.</summary>
        public virtual string? ScratchLength(PlannedLayer layer) => null;

        /// <summary>
        /// Whether backward computes the parameter gradients in the same call as the input gradient and cannot skip them, so a
        /// frozen layer whose input gradient is wanted writes them to <c>workspace.DiscardedGradients</c> (<see cref="ParameterGradientOrDiscarded"/>).
        /// </summary>
        public virtual bool DiscardsFrozenParameterGradients(PlannedLayer layer) => false;

        /// <summary>What the backward pass reads besides the output gradient; the plan keeps those values for it.</summary>
        public virtual BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Both;

        /// <summary>Workspace arrays beyond the layer's output.</summary>
        public virtual IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer) => System.Array.Empty<WorkspaceArray>();

        // ---- names shared by all emitters ----

        public static string MethodName(PlannedLayer layer) => "Layer" + Int(layer.Index) + layer.Kind;

        /// <summary>The workspace array holding the layer's input for the whole batch.</summary>
        public static string InputArray(PlannedLayer layer) => layer.In.Array;

        /// <summary>The workspace array holding the layer's output for the whole batch.</summary>
        public static string OutputArray(PlannedLayer layer) => layer.Out.Array;

        public static string SampleSlice(string array, int length) => Slice(array, "n * " + Int(length), Int(length));

        /// <summary>
        /// In evaluation, the network input's name where its readers take the caller's span in place of a copy in
        /// <c>workspace.Input</c> (NetworkEmitter.EvaluationReadsInputInPlace): a read-only span local, sliced, not an array.
        /// </summary>
        public const string CallerInput = "callerInput";

        /// <summary>Floats <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/> of a workspace array or of <see cref="CallerInput"/>.</summary>
        public static string Slice(string array, string start, string length) => array + (array == CallerInput ? ".Slice(" : ".AsSpan(") + start + ", " + length + ")";

        public static string BatchSlice(string array, int length) => SampleRange.WholeBatch.Slice(array, length);

        public static string ParameterSlice(PlannedLayer layer) => "parameters.Slice(" + Int(layer.ParameterOffset) + ", " + Int(layer.ParameterCount) + ")";

        /// <summary>The layer's weights (its first <paramref name="weightLength"/> parameters), sliced from <c>parameters</c>.</summary>
        public static string WeightParameterSlice(PlannedLayer layer, int weightLength) => "parameters.Slice(" + Int(layer.ParameterOffset) + ", " + Int(weightLength) + ")";

        /// <summary>The layer's bias (its <paramref name="outputs"/> parameters after the weights), or null for a layer without one.</summary>
        public static string? BiasParameterSlice(PlannedLayer layer, int weightLength, int outputs) =>
            layer.Spec.Bias ? "parameters.Slice(" + Int(layer.ParameterOffset + weightLength) + ", " + Int(outputs) + ")" : null;

        public static string BufferSlice(PlannedLayer layer) => "_buffers.AsSpan(" + Int(layer.BufferOffset) + ", " + Int(layer.BufferCount) + ")";

        public static string GradientSlice(PlannedLayer layer) => "parameterGradients.Slice(" + Int(layer.ParameterOffset) + ", " + Int(layer.ParameterCount) + ")";

        /// <summary>
        /// The condition under which backward writes the layer's input gradient: the caller asked for the network input's
        /// gradient (a layer reading it), or the pass's flow says a trainable layer lies below (<c>inputGradientOf</c>).
        /// </summary>
        public static string InputGradientCondition(PlannedLayer layer) =>
            layer.ReadsNetworkInput ? "inputGradientWanted" : "inputGradientOf[" + Int(layer.Index) + "]";

        /// <summary>The condition under which backward adds the layer's parameter gradients: the layer is not frozen.</summary>
        public static string ParameterGradientCondition(PlannedLayer layer) => "parameterGradientOf[" + Int(layer.Index) + "]";

        /// <summary>The input gradient span when it is wanted, else empty (for kernels that skip an empty one).</summary>
        public static string InputGradientOrEmpty(PlannedLayer layer, string span) => InputGradientCondition(layer) + " ? " + span + " : default";

        /// <summary>The layer's slice of <c>parameterGradients</c>, or empty when it is frozen (for kernels that then skip it).</summary>
        public static string ParameterGradientOrEmpty(PlannedLayer layer) => ParameterGradientCondition(layer) + " ? " + GradientSlice(layer) + " : default";

        /// <summary>
        /// For a call that computes both gradients at once and needs somewhere to put the parameters': the layer's slice of
        /// <c>parameterGradients</c>, or, when the layer is frozen, a scratch slice whose contents nobody reads.
        /// </summary>
        public static string ParameterGradientOrDiscarded(PlannedLayer layer) =>
            ParameterGradientCondition(layer) + " ? " + GradientSlice(layer) + " : workspace.DiscardedGradients.AsSpan(0, " + Int(layer.ParameterCount) + ")";

        /// <summary>
        /// Runs <paramref name="emitInputGradient"/> only when the input gradient is needed (<see cref="InputGradientCondition"/>).
        /// A layer without parameters past the first needs no test of its own: backward runs it only when its input gradient is wanted.
        /// </summary>
        protected static void WhenInputGradientNeeded(IndentedWriter w, PlannedLayer layer, System.Action emitInputGradient)
        {
            if (layer.ParameterCount == 0 && !layer.ReadsNetworkInput)
            {
                emitInputGradient();
                return;
            }
            using (w.OpenBlock("if (" + InputGradientCondition(layer) + ")"))
                emitInputGradient();
        }

        /// <summary>Runs <paramref name="emitParameterGradient"/> only when the layer is not frozen.</summary>
        protected static void WhenParameterGradientNeeded(IndentedWriter w, PlannedLayer layer, System.Action emitParameterGradient)
        {
            using (w.OpenBlock("if (" + ParameterGradientCondition(layer) + ")"))
                emitParameterGradient();
        }

        protected const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
        protected const string Span = "global::System.Span<float>";

        /// <summary>The doc comment and signature start every layer method shares.</summary>
        protected static void MethodHeader(IndentedWriter w, PlannedLayer layer, string name, string parameters)
        {
            w.Line("/// <summary>" + Xml(layer.Describe()) + ".</summary>");
            w.Line("private static void " + name + "(" + parameters + ")");
        }
    }

    /// <summary>
    /// The span variables holding a layer's output gradient and receiving its input gradient in <c>Backward</c>
    /// (the workspace's two gradient arrays in turn; the caller's <c>inputGradient</c> for layer 0).
    /// </summary>
    /// <remarks>
    /// A side marked as one sample's scratch (<paramref name="OutputIsScratch"/>, <paramref name="InputIsScratch"/>) holds only
    /// sample <c>n</c>'s gradient, at offset 0: the hand-offs inside a run of layers differentiated one sample at a time.
    /// </remarks>
    internal sealed record BackwardBuffers(string Output, string Input, bool OutputIsScratch = false, bool InputIsScratch = false, string? SumsAdded = null,
        bool InputBySample = false)
    {
        public string OutputSample(PlannedLayer layer) => Output + ".Slice(" + (OutputIsScratch ? "0" : "n * " + Int(layer.Output.Length)) + ", " + Int(layer.Output.Length) + ")";
        public string InputSample(PlannedLayer layer) => Input + ".Slice(" + (InputIsScratch ? "0" : "n * " + Int(layer.Input.Length)) + ", " + Int(layer.Input.Length) + ")";
        public string OutputBatch(PlannedLayer layer) => Output + ".Slice(0, batchSize * " + Int(layer.Output.Length) + ")";
        public string InputBatch(PlannedLayer layer) => Input + ".Slice(0, batchSize * " + Int(layer.Input.Length) + ")";
    }

    /// <summary>
    /// The samples a forward statement covers: the whole batch, or, in evaluation, the chunk of it in hand. Both start at
    /// the arrays' first place: a chunk's samples are written over the previous chunk's.
    /// </summary>
    internal sealed class SampleRange
    {
        /// <summary>Samples 0 to <c>batchSize</c>, each in its place.</summary>
        public static readonly SampleRange WholeBatch = new SampleRange("batchSize");
        /// <summary>An evaluation chunk of <c>count</c> samples, in the places of samples 0 to <c>count</c> (EvaluationChunking).</summary>
        public static readonly SampleRange Chunk = new SampleRange("count");

        private SampleRange(string count) => Count = count;

        /// <summary>How many samples: <c>batchSize</c> or <c>count</c>.</summary>
        public string Count { get; }

        /// <summary>The loop header giving each sample's index <c>n</c>.</summary>
        public string Loop => "for (int n = 0; n < " + Count + "; n++)";

        /// <summary>The part of a batch array (<paramref name="length"/> floats per sample) holding these samples.</summary>
        public string Slice(string array, int length) => LayerEmitter.Slice(array, "0", Count + " * " + Int(length));
    }

    /// <summary>A layer that maps each sample on its own: the call is a loop over the batch.</summary>
    internal abstract class PerSampleLayerEmitter : LayerEmitter
    {
        public override bool IsPerSample => true;

        public override void EmitSampleStatement(IndentedWriter w, PlannedLayer layer)
        {
            string arguments = SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(layer), layer.Output.Length);
            if (layer.ParameterCount > 0) arguments += ", " + ParameterSlice(layer);
            w.Line(MethodName(layer) + "(" + arguments + ");");
        }

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            string parameters = ReadOnlySpan + " x, " + Span + " y";
            if (layer.ParameterCount > 0) parameters += ", " + ReadOnlySpan + " p";
            MethodHeader(w, layer, MethodName(layer), parameters);
            using (w.OpenBlock())
                EmitSampleBody(w, layer);
        }

        /// <summary>The body mapping one sample <c>x</c> to <c>y</c> (with the layer's parameters <c>p</c>).</summary>
        protected abstract void EmitSampleBody(IndentedWriter w, PlannedLayer layer);

        // Without parameters, and past the first layer (whose input gradient is optional), backward is one call per sample.
        public override bool IsPerSampleBackward(PlannedLayer layer) => layer.ParameterCount == 0 && !layer.ReadsNetworkInput;

        // The input gradient of sample n.
        public override void EmitSampleBackwardStatement(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            string arguments = SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(layer), layer.Output.Length)
                + ", " + gradients.OutputSample(layer) + ", " + gradients.InputSample(layer);
            if (layer.ParameterCount > 0) arguments += ", " + ParameterSlice(layer);
            w.Line(MethodName(layer) + "BackwardInput(" + arguments + ");");
        }

        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            if (layer.ParameterCount > 0)
            {
                WhenParameterGradientNeeded(w, layer, () =>
                {
                    using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                        w.Line(MethodName(layer) + "BackwardParameters(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputSample(layer) + ", " + GradientSlice(layer) + ");");
                });
            }
            WhenInputGradientNeeded(w, layer, () =>
            {
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                    EmitSampleBackwardStatement(w, layer, gradients);
            });
        }

        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            if (layer.ParameterCount > 0)
            {
                w.Line("/// <summary>" + Xml(layer.Describe()) + ": accumulates the parameter gradients of one sample.</summary>");
                w.Line("private static void " + MethodName(layer) + "BackwardParameters(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, " + Span + " dp)");
                using (w.OpenBlock())
                    EmitBackwardParametersBody(w, layer);
                w.Line();
            }
            string parameters = ReadOnlySpan + " x, " + ReadOnlySpan + " y, " + ReadOnlySpan + " dy, " + Span + " dx";
            if (layer.ParameterCount > 0) parameters += ", " + ReadOnlySpan + " p";
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": the gradient of one sample's input.</summary>");
            w.Line("private static void " + MethodName(layer) + "BackwardInput(" + parameters + ")");
            using (w.OpenBlock())
                EmitBackwardInputBody(w, layer);
        }

        /// <summary>Accumulates into <c>dp</c> from the sample's input <c>x</c> and output gradient <c>dy</c>.</summary>
        protected virtual void EmitBackwardParametersBody(IndentedWriter w, PlannedLayer layer) { }

        /// <summary>Writes <c>dx</c> from <c>x</c>, <c>y</c>, <c>dy</c> (and <c>p</c>).</summary>
        protected abstract void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer);
    }
}
