using CnnGen.Generator.Helpers;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>Conv2d</c>: direct cross-correlation with zero padding. Every bound, stride and offset is a constant;
    /// the padding test is one unsigned compare per row and column.
    /// </summary>
    internal sealed class Conv2dEmitter : PerSampleLayerEmitter
    {
        public static readonly Conv2dEmitter Instance = new();

        protected override void EmitSampleBody(IndentedWriter w, LayerLayout layer)
        {
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            int weightLength = output.Channels * input.Channels * spec.Kernel * spec.Kernel;
            w.Line("// weight [" + Int(output.Channels) + ", " + Int(input.Channels) + ", " + Int(spec.Kernel) + ", " + Int(spec.Kernel) + "] at p[0]"
                + (spec.Bias ? ", bias [" + Int(output.Channels) + "] at p[" + Int(weightLength) + "]" : ", no bias"));
            using (w.OpenBlock("for (int oc = 0; oc < " + Int(output.Channels) + "; oc++)"))
            {
                w.Line("float bias = " + (spec.Bias ? "p[" + Int(weightLength) + " + oc]" : "0f") + ";");
                using (w.OpenBlock("for (int oy = 0; oy < " + Int(output.Height) + "; oy++)"))
                using (w.OpenBlock("for (int ox = 0; ox < " + Int(output.Width) + "; ox++)"))
                {
                    w.Line("float sum = bias;");
                    using (w.OpenBlock("for (int ic = 0; ic < " + Int(input.Channels) + "; ic++)"))
                    using (w.OpenBlock("for (int ky = 0; ky < " + Int(spec.Kernel) + "; ky++)"))
                    {
                        w.Line("int iy = " + Affine("oy", spec.Stride, -spec.Padding) + " + ky;");
                        if (spec.Padding > 0) w.Line("if ((uint)iy >= " + Int(input.Height) + "u) continue; // zero padding");
                        using (w.OpenBlock("for (int kx = 0; kx < " + Int(spec.Kernel) + "; kx++)"))
                        {
                            w.Line("int ix = " + Affine("ox", spec.Stride, -spec.Padding) + " + kx;");
                            if (spec.Padding > 0) w.Line("if ((uint)ix >= " + Int(input.Width) + "u) continue;");
                            w.Line("sum += x[(ic * " + Int(input.Height) + " + iy) * " + Int(input.Width) + " + ix] * p[((oc * "
                                + Int(input.Channels) + " + ic) * " + Int(spec.Kernel) + " + ky) * " + Int(spec.Kernel) + " + kx];");
                        }
                    }
                    w.Line("y[(oc * " + Int(output.Height) + " + oy) * " + Int(output.Width) + " + ox] = sum;");
                }
            }
        }

        /// <summary>The weight gradient is a correlation of the input with the output gradient; the bias gradient sums it.</summary>
        protected override void EmitBackwardParametersBody(IndentedWriter w, LayerLayout layer)
        {
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            int weightLength = output.Channels * input.Channels * spec.Kernel * spec.Kernel;
            using (w.OpenBlock("for (int oc = 0; oc < " + Int(output.Channels) + "; oc++)"))
            {
                if (spec.Bias) w.Line("float biasGradient = 0f;");
                using (w.OpenBlock("for (int oy = 0; oy < " + Int(output.Height) + "; oy++)"))
                using (w.OpenBlock("for (int ox = 0; ox < " + Int(output.Width) + "; ox++)"))
                {
                    w.Line("float g = dy[(oc * " + Int(output.Height) + " + oy) * " + Int(output.Width) + " + ox];");
                    if (spec.Bias) w.Line("biasGradient += g;");
                    w.Line("if (g == 0f) continue; // common after ReLU");
                    EmitTaps(w, layer, "dp[((oc * " + Int(input.Channels) + " + ic) * " + Int(spec.Kernel) + " + ky) * " + Int(spec.Kernel) + " + kx] += g * x[(ic * " + Int(input.Height) + " + iy) * " + Int(input.Width) + " + ix];");
                }
                if (spec.Bias) w.Line("dp[" + Int(weightLength) + " + oc] += biasGradient;");
            }
        }

        /// <summary>The input gradient is a full convolution of the output gradient with the kernel, written as a scatter.</summary>
        protected override void EmitBackwardInputBody(IndentedWriter w, LayerLayout layer)
        {
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            w.Line("dx.Clear();");
            using (w.OpenBlock("for (int oc = 0; oc < " + Int(output.Channels) + "; oc++)"))
            using (w.OpenBlock("for (int oy = 0; oy < " + Int(output.Height) + "; oy++)"))
            using (w.OpenBlock("for (int ox = 0; ox < " + Int(output.Width) + "; ox++)"))
            {
                w.Line("float g = dy[(oc * " + Int(output.Height) + " + oy) * " + Int(output.Width) + " + ox];");
                w.Line("if (g == 0f) continue;");
                EmitTaps(w, layer, "dx[(ic * " + Int(input.Height) + " + iy) * " + Int(input.Width) + " + ix] += g * p[((oc * " + Int(input.Channels) + " + ic) * " + Int(spec.Kernel) + " + ky) * " + Int(spec.Kernel) + " + kx];");
            }
        }

        /// <summary>Loops over the input channels and kernel taps of output cell (oy, ox), skipping padding.</summary>
        private static void EmitTaps(IndentedWriter w, LayerLayout layer, string statement)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            using (w.OpenBlock("for (int ic = 0; ic < " + Int(input.Channels) + "; ic++)"))
            using (w.OpenBlock("for (int ky = 0; ky < " + Int(spec.Kernel) + "; ky++)"))
            {
                w.Line("int iy = " + Affine("oy", spec.Stride, -spec.Padding) + " + ky;");
                if (spec.Padding > 0) w.Line("if ((uint)iy >= " + Int(input.Height) + "u) continue;");
                using (w.OpenBlock("for (int kx = 0; kx < " + Int(spec.Kernel) + "; kx++)"))
                {
                    w.Line("int ix = " + Affine("ox", spec.Stride, -spec.Padding) + " + kx;");
                    if (spec.Padding > 0) w.Line("if ((uint)ix >= " + Int(input.Width) + "u) continue;");
                    w.Line(statement);
                }
            }
        }
    }
}
