using CnnGen.Generator.Helpers;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary><c>Linear</c>: <c>y = W x + b</c> with W stored [out, in] as PyTorch stores it.</summary>
    internal sealed class LinearEmitter : PerSampleLayerEmitter
    {
        public static readonly LinearEmitter Instance = new();

        protected override void EmitSampleBody(IndentedWriter w, LayerLayout layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            w.Line("// weight [" + Int(outFeatures) + ", " + Int(inFeatures) + "] at p[0]"
                + (layer.Spec.Bias ? ", bias [" + Int(outFeatures) + "] at p[" + Int(weightLength) + "]" : ", no bias"));
            using (w.OpenBlock("for (int o = 0; o < " + Int(outFeatures) + "; o++)"))
            {
                w.Line("float sum = " + (layer.Spec.Bias ? "p[" + Int(weightLength) + " + o]" : "0f") + ";");
                w.Line("var row = p.Slice(o * " + Int(inFeatures) + ", " + Int(inFeatures) + ");");
                w.Line("for (int i = 0; i < " + Int(inFeatures) + "; i++) sum += row[i] * x[i];");
                w.Line("y[o] = sum;");
            }
        }

        protected override void EmitBackwardParametersBody(IndentedWriter w, LayerLayout layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length, weightLength = inFeatures * outFeatures;
            using (w.OpenBlock("for (int o = 0; o < " + Int(outFeatures) + "; o++)"))
            {
                w.Line("float g = dy[o];");
                if (layer.Spec.Bias) w.Line("dp[" + Int(weightLength) + " + o] += g;");
                w.Line("if (g == 0f) continue;");
                w.Line("var row = dp.Slice(o * " + Int(inFeatures) + ", " + Int(inFeatures) + ");");
                w.Line("for (int i = 0; i < " + Int(inFeatures) + "; i++) row[i] += g * x[i];");
            }
        }

        protected override void EmitBackwardInputBody(IndentedWriter w, LayerLayout layer)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length;
            w.Line("dx.Clear();");
            using (w.OpenBlock("for (int o = 0; o < " + Int(outFeatures) + "; o++)"))
            {
                w.Line("float g = dy[o];");
                w.Line("if (g == 0f) continue;");
                w.Line("var row = p.Slice(o * " + Int(inFeatures) + ", " + Int(inFeatures) + ");");
                w.Line("for (int i = 0; i < " + Int(inFeatures) + "; i++) dx[i] += g * row[i];");
            }
        }
    }
}
