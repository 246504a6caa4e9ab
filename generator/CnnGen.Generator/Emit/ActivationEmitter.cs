using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>Element-wise activations: ReLU, LeakyReLU, Sigmoid, Tanh.</summary>
    internal sealed class ActivationEmitter : PerSampleLayerEmitter
    {
        public static readonly ActivationEmitter Instance = new();

        /// <summary>
        /// The activation applied in place to <paramref name="span"/>, for the element-wise kernels evaluation fuses into a
        /// convolution (ReLU, LeakyReLU, ReLU6, Hardswish, SiLU, GELU, Sigmoid, Tanh).
        /// </summary>
        public static string InPlaceStatement(PlannedLayer layer, string span) => layer.Kind switch
        {
            LayerKind.ReLU => "global::CnnGen.Kernels.Elementwise.Relu(" + span + ", " + span + ");",
            LayerKind.LeakyReLU => "global::CnnGen.Kernels.Elementwise.LeakyRelu(" + span + ", " + span + ", " + Float(layer.Spec.Slope) + ");",
            LayerKind.ReLU6 => "global::CnnGen.Kernels.Activations.Relu6(" + span + ", " + span + ");",
            LayerKind.Hardswish => "global::CnnGen.Kernels.Activations.Hardswish(" + span + ", " + span + ");",
            LayerKind.SiLU or LayerKind.GELU or LayerKind.Sigmoid or LayerKind.Tanh =>
                "global::CnnGen.Kernels.Activations." + KernelName(layer) + "(" + span + ", " + span + GeluArgument(layer) + ");",
            _ => throw new System.ArgumentException(layer.Describe() + " is not fused into a convolution.", nameof(layer)),
        };

        protected override void EmitSampleBody(IndentedWriter w, PlannedLayer layer)
        {
            if (layer.Kind == LayerKind.ReLU)
            {
                w.Line("global::CnnGen.Kernels.Elementwise.Relu(x, y);");
                return;
            }
            if (layer.Kind == LayerKind.LeakyReLU)
            {
                w.Line("global::CnnGen.Kernels.Elementwise.LeakyRelu(x, y, " + Float(layer.Spec.Slope) + ");");
                return;
            }
            w.Line("global::CnnGen.Kernels.Activations." + KernelName(layer) + "(x, y" + GeluArgument(layer) + ");");
        }

        protected override void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer)
        {
            if (layer.Kind == LayerKind.ReLU)
            {
                // dy where x > 0, else 0; y > 0 exactly where x > 0 (NaN and -0 included), so the input need not be kept.
                w.Line("global::CnnGen.Kernels.Elementwise.ReluBackward(y, dy, dx);");
                return;
            }
            if (layer.Kind == LayerKind.LeakyReLU)
            {
                // dy where x > 0, else dy · slope.
                w.Line("global::CnnGen.Kernels.Elementwise.ReluBackward(x, dy, dx, " + Float(layer.Spec.Slope) + ");");
                return;
            }
            if (layer.Kind == LayerKind.ReLU6)
            {
                // dy where 0 < x < 6, else 0; y = min(max(x, 0), 6) lies strictly inside (0, 6) exactly there (NaN included),
                // so the kernel reads y and the input need not be kept.
                w.Line("global::CnnGen.Kernels.Activations.Relu6Backward(y, dy, dx);");
                return;
            }
            // Sigmoid's and Tanh's gradients are functions of their output: dy·(1 − y)·y and dy·(1 − y²).
            string source = BackwardReads(layer) == Planning.BackwardReads.Output ? "y" : "x";
            w.Line("global::CnnGen.Kernels.Activations." + KernelName(layer) + "Backward(" + source + ", dy, dx" + GeluArgument(layer) + ");");
        }

        public override BackwardReads BackwardReads(PlannedLayer layer) => layer.Kind switch
        {
            LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.Sigmoid or LayerKind.Tanh => Planning.BackwardReads.Output,
            _ => Planning.BackwardReads.Input,
        };

        /// <summary>The runtime kernel of the activations computed by <c>CnnGen.Kernels.Activations</c>.</summary>
        private static string KernelName(PlannedLayer layer) => layer.Kind switch
        {
            LayerKind.ReLU6 => "Relu6",
            LayerKind.Hardswish => "Hardswish",
            LayerKind.SiLU => "Silu",
            LayerKind.GELU => "Gelu",
            LayerKind.Sigmoid => "Sigmoid",
            LayerKind.Tanh => "Tanh",
            _ => throw new System.ArgumentOutOfRangeException(nameof(layer)),
        };

        private static string GeluArgument(PlannedLayer layer) =>
            layer.Kind == LayerKind.GELU ? ", tanhApproximation: " + (layer.Spec.TanhApproximation ? "true" : "false") : "";
    }

    /// <summary><c>Flatten</c>: NCHW is already channel-major, so a sample's vector is its tensor, copied.</summary>
    internal sealed class FlattenEmitter : PerSampleLayerEmitter
    {
        public static readonly FlattenEmitter Instance = new();

        protected override void EmitSampleBody(IndentedWriter w, PlannedLayer layer) => w.Line("x.CopyTo(y);");

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.None;

        protected override void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer) => w.Line("dy.CopyTo(dx);");
    }

    /// <summary><c>Softmax</c> over the channels at each position (PyTorch's <c>dim=1</c>), shifted by the maximum for stability.</summary>
    internal sealed class SoftmaxEmitter : PerSampleLayerEmitter
    {
        public static readonly SoftmaxEmitter Instance = new();

        protected override void EmitSampleBody(IndentedWriter w, PlannedLayer layer)
        {
            int channels = layer.Input.Channels, plane = layer.Input.Height * layer.Input.Width;
            string At(string c) => plane == 1 ? c : c + " * " + Int(plane) + " + i";
            var loop = plane == 1 ? default(IndentedWriter.Block?) : w.OpenBlock("for (int i = 0; i < " + Int(plane) + "; i++)");
            w.Line("float max = float.NegativeInfinity;");
            w.Line("for (int c = 0; c < " + Int(channels) + "; c++) max = global::System.MathF.Max(max, x[" + At("c") + "]);");
            w.Line("float sum = 0f;");
            using (w.OpenBlock("for (int c = 0; c < " + Int(channels) + "; c++)"))
            {
                w.Line("float e = global::System.MathF.Exp(x[" + At("c") + "] - max);");
                w.Line("y[" + At("c") + "] = e;");
                w.Line("sum += e;");
            }
            w.Line("for (int c = 0; c < " + Int(channels) + "; c++) y[" + At("c") + "] /= sum;");
            loop?.Dispose();
        }

        /// <summary>dx_c = y_c (dy_c - sum_k dy_k y_k), per position.</summary>
        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Output;

        protected override void EmitBackwardInputBody(IndentedWriter w, PlannedLayer layer)
        {
            int channels = layer.Input.Channels, plane = layer.Input.Height * layer.Input.Width;
            string At(string c) => plane == 1 ? c : c + " * " + Int(plane) + " + i";
            var loop = plane == 1 ? default(IndentedWriter.Block?) : w.OpenBlock("for (int i = 0; i < " + Int(plane) + "; i++)");
            w.Line("float dot = 0f;");
            w.Line("for (int c = 0; c < " + Int(channels) + "; c++) dot += dy[" + At("c") + "] * y[" + At("c") + "];");
            w.Line("for (int c = 0; c < " + Int(channels) + "; c++) dx[" + At("c") + "] = y[" + At("c") + "] * (dy[" + At("c") + "] - dot);");
            loop?.Dispose();
        }
    }
}
