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
