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

        // Evaluation over a batch reads the weights packed once per change into the GEMM's panels (Gemm.MultiplyPacked), where
        // KernelBench `linear-batch` measured it faster than the GEMM packing them on every call (CPU time, 14 shapes from
        // 84 -> 10 to 4096 -> 1000): 1.1-1.3x at 32 and 64 samples, 1.2-1.8x at 16. Only past 8 samples, where the GEMM takes
        // its panels too: the same kernels in the same order, so evaluation stays bit for bit the training forward. Up to 8
        // rows the GEMM takes dot products, another order of summation (the packed panels beat them from 64 outputs, 1.2-3.6x
        // at 2 to 8 samples, and lose below: not taken, for the bits). A copy per workspace, so only up to 8 MiB of weights,
        // and only in workspaces for more than 8 samples.
        private const int PackedMaxWeights = 2 * 1024 * 1024, PackedMinBatch = 9;

        /// <summary>Whether evaluation keeps this layer's weights packed into the GEMM's panels in workspaces for batches.</summary>
        public static bool HasPackedWeights(PlannedLayer layer) =>
            layer.Spec.Kind == LayerKind.Linear && (long)layer.Input.Length * layer.Output.Length <= PackedMaxWeights;

        // Evaluation at batch 1 reads the packed panels too where the weights are too large to be prepared (past 512 KB, so
        // streamed from L3 or memory) and there are 64+ outputs: the panels are read front to back, 32 KB runs, where the dot
        // products stream eight rows at once (KernelBench gemv-panels, two runs: 784 -> 512 1.11-1.12x, 1024 -> 1024 1.02-1.11x,
        // 512 -> 4096 1.02-1.10x; zoo, batch 1: a 784 -> 512 layer 20.5-20.9 -> 18.5-18.7 us, the MLP 784-512-256-10 from
        // 0.94-0.97x ONNX Runtime to 1.20x). Not at 2-8 samples: there evaluation keeps the training forward's bits.
        private static bool PackedAtBatchOne(PlannedLayer layer) =>
            HasPackedWeights(layer) && !HasPreparedWeights(layer) && layer.Output.Length >= PreparedMinOutputs;

        /// <summary>Whether evaluation keeps weights of this layer prepared in the workspace at all (transposed, packed, or both).</summary>
        public static bool HasEvaluationWeights(PlannedLayer layer) => HasPreparedWeights(layer) || HasPackedWeights(layer);

        /// <summary>The workspace array holding the transposed weights and the bias.</summary>
        public static string PreparedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Transposed";

        /// <summary>The workspace array holding the weights packed into the GEMM's panels.</summary>
        public static string PackedArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Packed";

        /// <summary>PreparedLinear.PreparedLength: rows of outputs padded to whole vectors of 16, one per input feature and one for the bias.</summary>
        private static int PreparedLength(PlannedLayer layer) => (layer.Input.Length + 1) * ((layer.Output.Length + 15) / 16 * 16);

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer)
        {
            if (HasPreparedWeights(layer))
                yield return new WorkspaceArray(PreparedArray(layer), "global::CnnGen.Kernels.PreparedLinear.Active ? " + Int(PreparedLength(layer)) + " : 0",
                    "Weights and bias of " + layer.Describe() + ", transposed for evaluation at batch 1 on the Vector512 path (rows of outputs padded to 16)");
            if (HasPackedWeights(layer))
            {
                string length = "global::CnnGen.Kernels.Gemm.PackedLength(" + Int(layer.Output.Length) + ", " + Int(layer.Input.Length) + ")";
                yield return PackedAtBatchOne(layer)
                    ? new WorkspaceArray(PackedArray(layer), length,
                        "Weights of " + layer.Describe() + ", packed into the GEMM's panels for evaluation of one sample and of batches of " + Int(PackedMinBatch) + " or more")
                    : new WorkspaceArray(PackedArray(layer), "batchCapacity >= " + Int(PackedMinBatch) + " ? " + length + " : 0",
                        "Weights of " + layer.Describe() + ", packed into the GEMM's panels for evaluation over batches of " + Int(PackedMinBatch) + " or more (none in smaller workspaces)");
            }
        }

        /// <summary>The statements that prepare the weights in the workspace, run when the weights changed.</summary>
        public static void EmitPrepareStatements(IndentedWriter w, PlannedLayer layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            string weight = WeightParameterSlice(layer, weightLength);
            if (HasPreparedWeights(layer))
            {
                string bias = BiasParameterSlice(layer, weightLength, outFeatures) ?? "default";
                w.Line("if (global::CnnGen.Kernels.PreparedLinear.Active) global::CnnGen.Kernels.PreparedLinear.Prepare(" + weight + ", " + bias + ", "
                    + Int(inFeatures) + ", " + Int(outFeatures) + ", workspace." + PreparedArray(layer) + ");");
            }
            if (HasPackedWeights(layer))
                w.Line("if (workspace." + PackedArray(layer) + ".Length != 0) global::CnnGen.Kernels.Gemm.PackTransposed(" + weight + ", " + Int(outFeatures) + ", "
                    + Int(inFeatures) + ", workspace." + PackedArray(layer) + ");");
        }

        /// <summary>
        /// Evaluation with prepared weights: batch 1 through the transposed ones on the Vector512 path, batches of 9 or more through
        /// the packed panels, the rest through the GEMM as in training.
        /// </summary>
        public static void EmitPreparedForwardCall(IndentedWriter w, PlannedLayer layer)
        {
            bool first = true;
            string Branch(string condition)
            {
                string keyword = first ? "if" : "else if";
                first = false;
                return keyword + " (" + condition + ")";
            }
            if (HasPreparedWeights(layer))
            {
                using (w.OpenBlock(Branch("batchSize == 1 && global::CnnGen.Kernels.PreparedLinear.Active")))
                    w.Line("global::CnnGen.Kernels.PreparedLinear.Forward(" + InputArray(layer) + ", workspace." + PreparedArray(layer) + ", " + Int(layer.Input.Length) + ", "
                        + Int(layer.Output.Length) + ", " + OutputArray(layer) + ", relu: false);");
            }
            if (HasPackedWeights(layer))
            {
                string batches = PackedAtBatchOne(layer) ? "(batchSize == 1 || batchSize >= " + Int(PackedMinBatch) + ")" : "batchSize >= " + Int(PackedMinBatch);
                using (w.OpenBlock(Branch(batches + " && workspace." + PackedArray(layer) + ".Length != 0")))
                    w.Line(MethodName(layer) + "Packed(" + BatchSlice(InputArray(layer), layer.Input.Length) + ", " + BatchSlice(OutputArray(layer), layer.Output.Length)
                        + ", batchSize, workspace." + PackedArray(layer) + ", " + ParameterSlice(layer) + ");");
            }
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
            if (HasPackedWeights(layer)) EmitPackedForwardMethod(w, layer);
        }

        private static void EmitPackedForwardMethod(IndentedWriter w, PlannedLayer layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            w.Line();
            w.Line("/// <summary>" + Xml(layer.Describe()) + ", for the whole batch in evaluation, on weights packed once into the GEMM's panels.</summary>");
            w.Line("private static void " + MethodName(layer) + "Packed(" + ReadOnlySpan + " x, " + Span + " y, int batchSize, " + ReadOnlySpan + " packed, " + ReadOnlySpan + " p)");
            using (w.OpenBlock())
            {
                w.Line("// y [batch x " + Int(outFeatures) + "] = x [batch x " + Int(inFeatures) + "] · weightᵀ, the weight packed by Gemm.PackTransposed");
                w.Line("global::CnnGen.Kernels.Gemm.MultiplyPacked(batchSize, " + Int(outFeatures) + ", " + Int(inFeatures) + ", x, " + Int(inFeatures) + ", packed, y, " + Int(outFeatures) + ", accumulate: false);");
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
