using System.Collections.Generic;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>Linear</c> over the whole batch as one matrix product: y [N x out] = x [N x in] · Wᵀ + b, with W stored
    /// [out x in] as PyTorch stores it. Backward: dW += dyᵀ · x, db += column sums of dy, dx = dy · W.
    /// </summary>
    internal sealed class LinearEmitter : LayerEmitter
    {
        public static readonly LinearEmitter Instance = new();

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Input;

        // Evaluation at batch 1 reads the weights transposed (PreparedLinear), prepared once per change of the weights, where
        // that measured faster than the dot products of the GEMM (KernelBench `linear`, table in benchmarks/README.md): from
        // 64 outputs (four vectors of 16 accumulate side by side; with 10 outputs and 256+ inputs the two chains of one
        // vector are latency-bound and lose) while the weights take at most 512 KB (512 x 512 and 1024 x 256, 1 MB,
        // measured slower: 0.89x, 0.92x). PreparedLinear.Pays states the same rule.
        private const int PreparedMinOutputs = 64, PreparedMaxWeights = 128 * 1024;

        /// <summary>Whether evaluation keeps this layer's weights transposed in the workspace for batch 1 (see <c>PreparedLinear</c>).</summary>
        public static bool HasPreparedWeights(PlannedLayer layer) =>
            layer.Spec.Kind == LayerKind.Linear && layer.Output.Length >= PreparedMinOutputs && (long)layer.Input.Length * layer.Output.Length <= PreparedMaxWeights;

        /// <summary>The workspace array holding the transposed weights and the bias.</summary>
        public static string PreparedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Transposed";

        /// <summary>PreparedLinear.PreparedLength: rows of outputs padded to whole vectors of 16, one per input feature and one for the bias.</summary>
        private static int PreparedLength(PlannedLayer layer) => (layer.Input.Length + 1) * ((layer.Output.Length + 15) / 16 * 16);

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer) => HasPreparedWeights(layer)
            ? new[] { new WorkspaceArray(PreparedArray(layer), "global::CnnGen.Kernels.PreparedLinear.Active ? " + Int(PreparedLength(layer)) + " : 0",
                "Weights and bias of " + layer.Describe() + ", transposed for evaluation at batch 1 on the Vector512 path (rows of outputs padded to 16)") }
            : System.Array.Empty<WorkspaceArray>();

        /// <summary>The statement that transposes the weights into the workspace, run when the weights changed.</summary>
        public static void EmitPrepareStatement(IndentedWriter w, PlannedLayer layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            string bias = layer.Spec.Bias ? "parameters.Slice(" + Int(layer.ParameterOffset + weightLength) + ", " + Int(outFeatures) + ")" : "default";
            w.Line("global::CnnGen.Kernels.PreparedLinear.Prepare(parameters.Slice(" + Int(layer.ParameterOffset) + ", " + Int(weightLength) + "), " + bias + ", "
                + Int(inFeatures) + ", " + Int(outFeatures) + ", workspace." + PreparedArray(layer) + ");");
        }

        /// <summary>Evaluation with prepared weights: batch 1 through them on the Vector512 path, the rest through the GEMM as in training.</summary>
        public static void EmitPreparedForwardCall(IndentedWriter w, PlannedLayer layer)
        {
            using (w.OpenBlock("if (batchSize == 1 && global::CnnGen.Kernels.PreparedLinear.Active)"))
                w.Line("global::CnnGen.Kernels.PreparedLinear.Forward(" + InputArray(layer) + ", workspace." + PreparedArray(layer) + ", " + Int(layer.Input.Length) + ", "
                    + Int(layer.Output.Length) + ", " + OutputArray(layer) + ", relu: false);");
            using (w.OpenBlock("else"))
                Instance.EmitForwardCall(w, layer);
        }

        private static string Gemm(bool transposeA, bool transposeB, string m, int n, string k, string a, int lda, string b, int ldb, string c, int ldc, bool accumulate) =>
            "global::CnnGen.Kernels.Gemm.Multiply(" + (transposeA ? "true" : "false") + ", " + (transposeB ? "true" : "false") + ", "
            + m + ", " + Int(n) + ", " + k + ", " + a + ", " + Int(lda) + ", " + b + ", " + Int(ldb) + ", " + c + ", " + Int(ldc)
            + ", accumulate: " + (accumulate ? "true" : "false") + ");";

        protected override void EmitForwardCall(IndentedWriter w, PlannedLayer layer) =>
            w.Line(MethodName(layer) + "(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + BatchSlice(OutputArray(layer), layer.Output.Length)
                + ", batchSize, " + ParameterSlice(layer) + ");");

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            w.Line("/// <summary>" + Xml(layer.Describe()) + ", for the whole batch.</summary>");
            w.Line("private static void " + MethodName(layer) + "(" + ReadOnlySpan + " x, " + Span + " y, int batchSize, " + ReadOnlySpan + " p)");
            using (w.OpenBlock())
            {
                w.Line("// weight [" + Int(outFeatures) + " x " + Int(inFeatures) + "] at p[0]" + (layer.Spec.Bias ? ", bias [" + Int(outFeatures) + "] at p[" + Int(weightLength) + "]" : ", no bias"));
                w.Line("// y [batch x " + Int(outFeatures) + "] = x [batch x " + Int(inFeatures) + "] · weightᵀ");
                w.Line(Gemm(false, true, "batchSize", outFeatures, Int(inFeatures), "x", inFeatures, "p", inFeatures, "y", outFeatures, false));
                if (layer.Spec.Bias)
                {
                    w.Line("var bias = p.Slice(" + Int(weightLength) + ", " + Int(outFeatures) + ");");
                    w.Line("for (int n = 0; n < batchSize; n++) global::CnnGen.Kernels.Elementwise.Add(bias, y.Slice(n * " + Int(outFeatures) + ", " + Int(outFeatures) + "));");
                }
            }
        }

        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            WhenParameterGradientNeeded(w, layer, () =>
                w.Line(MethodName(layer) + "BackwardParameters(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + gradients.OutputBatch(layer) + ", batchSize, " + GradientSlice(layer) + ");"));
            WhenInputGradientNeeded(w, layer, () =>
                w.Line(MethodName(layer) + "BackwardInput(" + gradients.OutputBatch(layer) + ", batchSize, " + ParameterSlice(layer) + ", " + gradients.InputBatch(layer) + ");"));
        }

        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": accumulates the parameter gradients of the batch.</summary>");
            w.Line("private static void " + MethodName(layer) + "BackwardParameters(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, int batchSize, " + Span + " dp)");
            using (w.OpenBlock())
            {
                w.Line("// d weight [" + Int(outFeatures) + " x " + Int(inFeatures) + "] += dyᵀ · x");
                w.Line(Gemm(true, false, Int(outFeatures), inFeatures, "batchSize", "dy", outFeatures, "x", inFeatures, "dp", inFeatures, true));
                if (layer.Spec.Bias)
                {
                    w.Line("var biasGradient = dp.Slice(" + Int(weightLength) + ", " + Int(outFeatures) + ");");
                    w.Line("for (int n = 0; n < batchSize; n++) global::CnnGen.Kernels.Elementwise.Add(dy.Slice(n * " + Int(outFeatures) + ", " + Int(outFeatures) + "), biasGradient);");
                }
            }
            w.Line();
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": the gradient of the batch's input.</summary>");
            w.Line("private static void " + MethodName(layer) + "BackwardInput(" + ReadOnlySpan + " dy, int batchSize, " + ReadOnlySpan + " p, " + Span + " dx)");
            using (w.OpenBlock())
            {
                w.Line("// dx [batch x " + Int(inFeatures) + "] = dy [batch x " + Int(outFeatures) + "] · weight");
                w.Line(Gemm(false, false, "batchSize", inFeatures, Int(outFeatures), "dy", outFeatures, "p", inFeatures, "dx", inFeatures, false));
            }
        }
    }
}
