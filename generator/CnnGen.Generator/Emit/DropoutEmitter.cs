using System.Collections.Generic;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>Dropout</c>: the identity in evaluation; in training each element is kept with probability 1 - p and scaled
    /// by 1 / (1 - p). The mask is kept in the workspace for the backward pass. Draws come from the workspace's
    /// stream sample by sample, element by element, as the reference interpreter draws them.
    /// </summary>
    internal sealed class DropoutEmitter : LayerEmitter
    {
        public static readonly DropoutEmitter Instance = new();

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.None;

        private static string MaskArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Mask";

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer) => new[]
        {
            new WorkspaceArray(MaskArray(layer), "batchCapacity * " + Int(layer.Input.Length), "0 or 1 / (1 - p) per element, from the last training forward"),
        };

        public override void EmitTrainingForwardCall(IndentedWriter w, PlannedLayer layer)
        {
            int length = layer.Input.Length;
            using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
            {
                w.Line(MethodName(layer) + "Training(" + SampleSlice(InputArray(layer), length) + ", " + SampleSlice(OutputArray(layer), length)
                    + ", " + SampleSlice("workspace." + MaskArray(layer), length) + ", ref workspace.DropoutRandom);");
            }
        }

        // Backward multiplies by the mask: all ones is the identity of evaluation mode.
        public override void EmitGradientEvaluationPrologue(IndentedWriter w, PlannedLayer layer) =>
            w.Line(BatchSlice("workspace." + MaskArray(layer), layer.Input.Length) + ".Fill(1f);");

        // Alone between batch-level layers, evaluation copies its samples at once.
        public override void EmitEvaluationForwardCall(IndentedWriter w, PlannedLayer layer, SampleRange samples) =>
            w.Line(samples.Slice(InputArray(layer), layer.Input.Length) + ".CopyTo(" + samples.Slice(OutputArray(layer), layer.Output.Length) + ");");

        // Evaluation passes values through: per sample, a copy.
        public override bool IsPerSampleInEvaluation => true;

        public override void EmitEvaluationSampleStatement(IndentedWriter w, PlannedLayer layer) =>
            w.Line(SampleSlice(InputArray(layer), layer.Input.Length) + ".CopyTo(" + SampleSlice(OutputArray(layer), layer.Output.Length) + ");");

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            float p = (float)layer.Spec.P;
            float scale = 1.0f / (1 - p);
            MethodHeader(w, layer, MethodName(layer) + "Training", ReadOnlySpan + " x, " + Span + " y, " + Span + " mask, ref global::CnnGen.CnnRandom random");
            using (w.OpenBlock())
            {
                w.Line("// Each value kept with probability 1 - p and scaled by 1 / (1 - p): keep = random.NextFloat() < p ? 0 : scale, in order");
                w.Line("global::CnnGen.Kernels.Elementwise.Dropout(x.Slice(0, " + Int(layer.Input.Length) + "), y, mask, ref random, " + Float(p) + ", " + Float(scale) + ");");
            }
        }

        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            WhenInputGradientNeeded(w, layer, () =>
            {
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                    w.Line(MethodName(layer) + "BackwardInput(" + gradients.OutputSample(layer) + ", " + SampleSlice("workspace." + MaskArray(layer), layer.Input.Length) + ", " + gradients.InputSample(layer) + ");");
            });
        }

        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            MethodHeader(w, layer, MethodName(layer) + "BackwardInput", ReadOnlySpan + " dy, " + ReadOnlySpan + " mask, " + Span + " dx");
            using (w.OpenBlock())
                w.Line("global::CnnGen.Kernels.Elementwise.Multiply(dy, mask, dx);");
        }
    }
}
