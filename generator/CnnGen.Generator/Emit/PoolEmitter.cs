using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>MaxPool</c> (padding is -inf: padded cells never win) and <c>AvgPool</c> (padding is 0 and is counted in
    /// the divisor, as PyTorch's <c>count_include_pad=True</c>).
    /// </summary>
    internal sealed class PoolEmitter : PerSampleLayerEmitter
    {
        public static readonly PoolEmitter Instance = new();

        protected override void EmitSampleBody(IndentedWriter w, PlannedLayer layer)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            bool max = layer.Kind == LayerKind.MaxPool;
            if (IsVectorMaxPool(layer))
            {
                w.Line("// 2x2 windows at stride 2: four at a time, PyTorch's scan rule (first maximum wins, NaN wins).");
                w.Line("global::CnnGen.Kernels.Pooling.MaxPool2x2(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", y);");
                return;
            }
            if (max)
            {
                w.Line("// " + Int(spec.Kernel) + "x" + Int(spec.Kernel) + " windows at stride " + Int(spec.Stride) + (spec.Padding > 0 ? ", padding " + Int(spec.Padding) + " (never wins)" : "")
                    + ": vectors of neighbouring windows, PyTorch's scan rule (first maximum wins, NaN wins).");
                w.Line("global::CnnGen.Kernels.Pooling.MaxPool(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                    + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", y);");
                return;
            }
            // Average pooling: the padding is 0 and counts in the divisor. Strided windows inside the input are written out;
            // stride 1 (vectors of neighbouring windows) and padded windows run the runtime's kernel.
            if (IsUnrolledAvgPool(layer))
            {
                EmitUnrolledWindows(w, layer);
                return;
            }
            w.Line("global::CnnGen.Kernels.Pooling.AvgPool(x, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", y);");
        }

        private static bool IsUnrolledAvgPool(PlannedLayer layer) => layer.Spec.Padding == 0 && layer.Spec.Kernel <= 4 && layer.Spec.Stride > 1;

        /// <summary>The common max-pooling layer, 2x2 at stride 2 without padding, runs on the runtime's vector kernel.</summary>
        private static bool IsVectorMaxPool(PlannedLayer layer) =>
            layer.Kind == LayerKind.MaxPool && layer.Spec.Kernel == 2 && layer.Spec.Stride == 2 && layer.Spec.Padding == 0;

        /// <summary>
        /// Average pooling without padding: every window lies inside the input, so its taps are written out, one expression
        /// per output cell, summed in the same order as the general loop.
        /// </summary>
        private static void EmitUnrolledWindows(IndentedWriter w, PlannedLayer layer)
        {
            var (input, output, spec) = (layer.Input, layer.Output, layer.Spec);
            var taps = new System.Collections.Generic.List<string>();
            for (int ky = 0; ky < spec.Kernel; ky++)
                for (int kx = 0; kx < spec.Kernel; kx++)
                {
                    int offset = ky * input.Width + kx;
                    taps.Add(offset == 0 ? "x[at]" : "x[at + " + Int(offset) + "]");
                }
            string value = taps[0];
            for (int i = 1; i < taps.Count; i++)
                value = value + " + " + taps[i];
            value = "(" + value + ") / " + Float(spec.Kernel * spec.Kernel);
            using (w.OpenBlock("for (int c = 0; c < " + Int(output.Channels) + "; c++)"))
            using (w.OpenBlock("for (int oy = 0; oy < " + Int(output.Height) + "; oy++)"))
            {
                w.Line("int top = (c * " + Int(input.Height) + " + " + Affine("oy", spec.Stride, 0) + ") * " + Int(input.Width) + "; // the window's first input row");
                w.Line("var row = y.Slice((c * " + Int(output.Height) + " + oy) * " + Int(output.Width) + ", " + Int(output.Width) + ");");
                using (w.OpenBlock("for (int ox = 0; ox < " + Int(output.Width) + "; ox++)"))
                {
                    w.Line("int at = top + " + Affine("ox", spec.Stride, 0) + ";");
                    w.Line("row[ox] = " + value + ";");
                }
            }
        }

        /// <summary>
        /// Max pooling routes each output gradient to the cell that won the forward pass (found again, with the forward's
        /// rule: first maximum in scan order, NaN wins); average pooling spreads it evenly over the window, padded cells included.
        /// </summary>
        public override BackwardReads BackwardReads(PlannedLayer layer) =>
            layer.Kind == LayerKind.AvgPool ? Planning.BackwardReads.None : IsVectorMaxPool(layer) ? Planning.BackwardReads.Both : Planning.BackwardReads.Input;

        protected override void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer)
        {
            var (input, spec) = (layer.Input, layer.Spec);
            bool max = layer.Kind == LayerKind.MaxPool;
            if (IsVectorMaxPool(layer))
            {
                w.Line("global::CnnGen.Kernels.Pooling.MaxPool2x2Backward(x, y, dy, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", dx);");
                return;
            }
            if (max)
            {
                w.Line("// Each window's winner found again from x (first maximum in scan order, NaN wins), dy added there.");
                w.Line("global::CnnGen.Kernels.Pooling.MaxPoolBackward(x, dy, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                    + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", dx);");
                return;
            }
            // Average pooling: each output gradient spread evenly over its window, padded cells included.
            w.Line("global::CnnGen.Kernels.Pooling.AvgPoolBackward(dy, " + Int(input.Channels) + ", " + Int(input.Height) + ", " + Int(input.Width) + ", "
                + Int(spec.Kernel) + ", " + Int(spec.Stride) + ", " + Int(spec.Padding) + ", dx);");
        }
    }
}
