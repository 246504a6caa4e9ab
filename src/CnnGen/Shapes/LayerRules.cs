// One rule per layer kind: its shape rule and checks, its tensors with PyTorch's names and initialization, its
// PyTorch module name, how it is described and declared, and its cost. Shared by the generator, the analyzers and
// the runtime (see NetworkShapes.cs). Adding a kind is a rule here, its attribute, its emitter and its interpreter
// case; LayerRules.For has one entry per kind and a test checks every kind has them all.
#nullable enable
using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Shapes
{
    /// <summary>A tensor a layer owns, before it is placed in its block.</summary>
    public readonly record struct TensorRule(string Name, TensorBlock Block, int[] Shape, TensorInit Init, int FanIn = 0);

    /// <summary>What one layer kind means: shapes, tensors, names, cost.</summary>
    public abstract class LayerRule
    {
        protected static readonly CultureInfo C = CultureInfo.InvariantCulture;

        public abstract LayerKind Kind { get; }

        /// <summary>PyTorch's module class name for this kind.</summary>
        public virtual string TorchName(bool spatialInput) => Kind.ToString();

        /// <summary>The output shape, or null after reporting an error through <paramref name="context"/>.</summary>
        public abstract TensorShape? Infer(LayerSpec spec, TensorShape input, ShapeInference.RuleContext context);

        /// <summary>The layer's tensors in <c>state_dict</c> order.</summary>
        public virtual IEnumerable<TensorRule> Tensors(LayerSpec spec, TensorShape input) => Array.Empty<TensorRule>();

        /// <summary>The arguments in a layer header, e.g. <c>k=5, s=1, p=2</c>; empty when there are none.</summary>
        public virtual string Arguments(LayerSpec spec) => "";

        /// <summary>The attribute as a user writes it, e.g. <c>Conv2d(6, 5, Padding = 2)</c>.</summary>
        public virtual string Declaration(LayerSpec spec) => Kind.ToString();

        /// <summary>Multiply-adds (or comparable element operations) for one sample.</summary>
        public virtual long MultiplyAdds(LayerSpec spec, TensorShape input, TensorShape output) => 0;

        /// <summary>
        /// For the receptive field: how many input rows and columns one output cell reads (the dilated kernel), and the
        /// step in input cells between neighbouring output cells (below 1 for layers that enlarge). Element-wise: 1 and 1.
        /// </summary>
        public virtual ReceptiveWindow Window(LayerSpec spec, TensorShape input, TensorShape output) => ReceptiveWindow.Identity;

        protected static string D(double value) => value.ToString("R", C);
        protected static string I(int value) => value.ToString(C);
    }

    /// <summary>What one output cell of a layer reads of its input, per axis: the span of cells and the step between output cells.</summary>
    public readonly record struct ReceptiveWindow(double SpanHeight, double SpanWidth, double StepHeight, double StepWidth)
    {
        public static ReceptiveWindow Identity => new(1, 1, 1, 1);
        /// <summary>Every cell of the input (Flatten, global pooling).</summary>
        public static ReceptiveWindow Whole(TensorShape input) => new(input.Height, input.Width, input.Height, input.Width);
    }

    /// <summary>The registry: one rule per <see cref="LayerKind"/>.</summary>
    public static class LayerRules
    {
        private static readonly CultureInfo C = CultureInfo.InvariantCulture;
        private static string I(int value) => value.ToString(C);

        private static readonly LayerRule[] s_rules = Build();

        private static LayerRule[] Build()
        {
            var all = new LayerRule[]
            {
                new Conv2dRule(), new ConvTranspose2dRule(), new PoolRule(LayerKind.MaxPool), new PoolRule(LayerKind.AvgPool),
                new AdaptiveAvgPoolRule(LayerKind.GlobalAvgPool), new AdaptiveAvgPoolRule(LayerKind.AdaptiveAvgPool), new UpsampleRule(),
                new BatchNormRule(), new LinearRule(), new FlattenRule(), new DropoutRule(), new LeakyReLURule(), new GeluRule(),
                new ElementwiseRule(LayerKind.ReLU), new ElementwiseRule(LayerKind.Sigmoid), new ElementwiseRule(LayerKind.Tanh),
                new ElementwiseRule(LayerKind.ReLU6), new ElementwiseRule(LayerKind.Hardswish), new ElementwiseRule(LayerKind.SiLU),
                new SoftmaxRule(),
                new MarkerRule(LayerKind.Residual), new MarkerRule(LayerKind.Shortcut), new MarkerRule(LayerKind.Concat),
                new MarkerRule(LayerKind.Branch), new MarkerRule(LayerKind.End),
            };
            var rules = new LayerRule[all.Length];
            foreach (var rule in all) rules[(int)rule.Kind] = rule;
            return rules;
        }

        /// <summary>The rule of <paramref name="kind"/>.</summary>
        public static LayerRule For(LayerKind kind) => s_rules[(int)kind];

        /// <summary>Every kind's rule, markers included.</summary>
        public static IReadOnlyList<LayerRule> All => s_rules;

        /// <summary>
        /// The windowed (convolution and pooling) shape rule, PyTorch's floor formula per axis, with its checks: an error when
        /// the (dilated) kernel does not fit the padded input, a warning when the stride never reads some real input rows or
        /// columns. Null after an error.
        /// </summary>
        internal static TensorShape? Window(ShapeInference.RuleContext context, TensorShape input, int channels,
            int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth,
            string kernelArgument, string strideArgument)
        {
            long paddedH = (long)input.Height + 2L * paddingHeight, paddedW = (long)input.Width + 2L * paddingWidth;
            long spanH = (long)dilationHeight * (kernelHeight - 1) + 1, spanW = (long)dilationWidth * (kernelWidth - 1) + 1;
            string kernel = kernelHeight == kernelWidth ? I(kernelHeight) : I(kernelHeight) + "x" + I(kernelWidth);
            string padding = paddingHeight == paddingWidth ? I(paddingHeight) : I(paddingHeight) + "x" + I(paddingWidth);
            if (spanH > paddedH || spanW > paddedW)
            {
                string what = dilationHeight > 1 || dilationWidth > 1
                    ? "kernel " + kernel + " with dilation " + (dilationHeight == dilationWidth ? I(dilationHeight) : I(dilationHeight) + "x" + I(dilationWidth)) + " (spanning " + spanH.ToString(C) + "x" + spanW.ToString(C) + ")"
                    : "kernel " + kernel;
                // A dilation that makes a fitting kernel too wide is the argument at fault.
                bool dilationAtFault = (dilationHeight > 1 || dilationWidth > 1) && kernelHeight <= paddedH && kernelWidth <= paddedW;
                context.Fail(ShapeIssueKind.KernelLargerThanInput, dilationAtFault ? (dilationHeight > 1 && spanH > paddedH ? "Dilation" : "Dilation") : kernelArgument,
                    context.Where + " sees " + input + "; " + what + " with padding " + padding + " does not fit the padded " + paddedH.ToString(C) + "x" + paddedW.ToString(C)
                    + " input, so the output would be " + Math.Max(0, FloorDiv(paddedH - spanH, strideHeight) + 1).ToString(C) + "x" + Math.Max(0, FloorDiv(paddedW - spanW, strideWidth) + 1).ToString(C));
                return null;
            }
            // The last (padded - span) % stride cells of each axis are never read. Only a warning when some of them are real
            // input rather than zero padding: a stride-2 3x3 convolution with padding 1 on an even size drops only padding.
            // A kernel narrower than its stride (ResNet's 1x1 stride-2 projection) skips cells between windows by design;
            // the tail it skips is no different, so only windows that tile the input are checked.
            long rows = spanH >= strideHeight ? (paddedH - spanH) % strideHeight - paddingHeight : 0;
            long columns = spanW >= strideWidth ? (paddedW - spanW) % strideWidth - paddingWidth : 0;
            if (rows > 0 || columns > 0)
            {
                string lost = (rows > 0 ? rows.ToString(C) + " input row(s)" : "") + (rows > 0 && columns > 0 ? " and the last " : "") + (columns > 0 ? columns.ToString(C) + " input column(s)" : "");
                string stride = strideHeight == strideWidth ? I(strideHeight) : I(strideHeight) + "x" + I(strideWidth);
                context.Warn(ShapeIssueKind.StrideDropsCells, strideArgument,
                    context.Where + " sees " + input + "; stride " + stride + " with kernel " + kernel + " and padding " + padding
                    + " never reads the last " + lost + ": change the padding or the stride to use them");
            }
            long outH = (paddedH - spanH) / strideHeight + 1, outW = (paddedW - spanW) / strideWidth + 1;
            // A huge padding makes a huge output: say so before the sizes are narrowed to int.
            if (outH > ShapeInference.MaxElements || outW > ShapeInference.MaxElements || (long)channels * outH * outW > ShapeInference.MaxElements)
            {
                context.Fail(ShapeIssueKind.TooLarge, paddingHeight > input.Height || paddingWidth > input.Width ? "Padding" : null,
                    context.Where + " is too large: its output " + I(channels) + "x" + outH.ToString(C) + "x" + outW.ToString(C) + " has more than " + ShapeInference.MaxElements.ToString("N0", C) + " elements");
                return null;
            }
            return TensorShape.Spatial(channels, (int)outH, (int)outW);

            static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
        }

        /// <summary>Fails unless the input is a feature map.</summary>
        internal static bool RequireSpatial(ShapeInference.RuleContext context, TensorShape input, string? hint = null)
        {
            if (input.IsSpatial) return true;
            context.Fail(ShapeIssueKind.SpatialLayerOnVector, null,
                context.Where + " needs a CxHxW input but sees the vector " + input + " (after Flatten or Linear)" + (hint ?? "; spatial layers go before [Flatten]"));
            return false;
        }
    }

    internal sealed class Conv2dRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Conv2d;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!LayerRules.RequireSpatial(context, input)) return null;
            if (s.Units <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "outChannels", context.Where + " needs positive out channels; got " + I(s.Units));
            if (s.Kernel <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "kernelSize", context.Where + " needs a positive kernel size; got " + I(s.Kernel));
            if (s.KernelWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "kernelWidth", context.Where + " needs a positive kernel width; got " + I(s.KernelWidth));
            if (s.Stride <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "Stride", context.Where + " needs a positive stride; got " + I(s.Stride));
            if (s.StrideWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "StrideWidth", context.Where + " needs a positive stride; got " + I(s.StrideWidth));
            if (s.Dilation <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "Dilation", context.Where + " needs a positive dilation; got " + I(s.Dilation));
            if (s.DilationWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "DilationWidth", context.Where + " needs a positive dilation; got " + I(s.DilationWidth));
            if (s.Padding < 0) return context.Fail(ShapeIssueKind.NegativePadding, "Padding", context.Where + " needs a padding of 0 or more; got " + I(s.Padding));
            if (s.PaddingWidth < 0) return context.Fail(ShapeIssueKind.NegativePadding, "PaddingWidth", context.Where + " needs a padding of 0 or more; got " + I(s.PaddingWidth));
            if (s.Groups <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "Groups", context.Where + " needs a positive number of groups; got " + I(s.Groups));
            if (input.Channels % s.Groups != 0 || s.Units % s.Groups != 0)
                return context.Fail(ShapeIssueKind.GroupsDoNotDivide, "Groups",
                    context.Where + ": groups " + I(s.Groups) + " must divide both the " + I(input.Channels) + " input channels and the " + I(s.Units) + " output channels"
                    + (input.Channels % s.Groups != 0 ? " (" + I(input.Channels) + " % " + I(s.Groups) + " = " + I(input.Channels % s.Groups) + ")" : " (" + I(s.Units) + " % " + I(s.Groups) + " = " + I(s.Units % s.Groups) + ")"));
            if ((long)s.Units * (input.Channels / s.Groups) * s.Kernel * s.KernelWidth > ShapeInference.MaxElements)
                return context.Fail(ShapeIssueKind.TooLarge, null, context.Where + " is too large: more than " + ShapeInference.MaxElements.ToString("N0", C) + " weights (CnnGen's limit per tensor)");
            return LayerRules.Window(context, input, s.Units, s.Kernel, s.KernelWidth, s.Stride, s.StrideWidth, s.Padding, s.PaddingWidth, s.Dilation, s.DilationWidth,
                s.KernelWidth != s.Kernel ? "kernelWidth" : "kernelSize", s.StrideWidth != s.Stride ? "StrideWidth" : "Stride");
        }

        public override IEnumerable<TensorRule> Tensors(LayerSpec s, TensorShape input)
        {
            int fanIn = input.Channels / s.Groups * s.Kernel * s.KernelWidth;
            yield return new TensorRule("weight", TensorBlock.Parameters, new[] { s.Units, input.Channels / s.Groups, s.Kernel, s.KernelWidth }, TensorInit.UniformFanIn, fanIn);
            if (s.Bias) yield return new TensorRule("bias", TensorBlock.Parameters, new[] { s.Units }, TensorInit.UniformFanIn, fanIn);
        }

        public override string Arguments(LayerSpec s)
        {
            string text = "k=" + Pair(s.Kernel, s.KernelWidth) + ", s=" + Pair(s.Stride, s.StrideWidth) + ", p=" + Pair(s.Padding, s.PaddingWidth);
            if (s.Dilation != 1 || s.DilationWidth != 1) text += ", d=" + Pair(s.Dilation, s.DilationWidth);
            if (s.Groups != 1) text += ", groups=" + I(s.Groups);
            return text;
        }

        internal static string Pair(int height, int width) => height == width ? height.ToString(C) : height.ToString(C) + "x" + width.ToString(C);

        public override string Declaration(LayerSpec s)
        {
            string text = "Conv2d(" + I(s.Units) + ", " + I(s.Kernel) + (s.KernelWidth != s.Kernel ? ", " + I(s.KernelWidth) : "");
            text += Axis("Stride", s.Stride, s.StrideWidth, 1) + Axis("Padding", s.Padding, s.PaddingWidth, 0) + Axis("Dilation", s.Dilation, s.DilationWidth, 1);
            if (s.Groups != 1) text += ", Groups = " + I(s.Groups);
            return text + (s.Bias ? "" : ", Bias = false") + ")";
        }

        internal static string Axis(string name, int height, int width, int fallback)
        {
            string Text(int v) => v.ToString(C);
            if (height == width) return height != fallback ? ", " + name + " = " + Text(height) : "";
            return (height != fallback ? ", " + name + "Height = " + Text(height) : "") + (width != fallback ? ", " + name + "Width = " + Text(width) : "");
        }

        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) =>
            (long)output.Length * (input.Channels / s.Groups) * s.Kernel * s.KernelWidth;

        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output) =>
            new((double)s.Dilation * (s.Kernel - 1) + 1, (double)s.DilationWidth * (s.KernelWidth - 1) + 1, s.Stride, s.StrideWidth);
    }

    internal sealed class ConvTranspose2dRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.ConvTranspose2d;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!LayerRules.RequireSpatial(context, input)) return null;
            if (s.Units <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "outChannels", context.Where + " needs positive out channels; got " + I(s.Units));
            if (s.Kernel <= 0 || s.KernelWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, s.Kernel <= 0 ? "kernelSize" : "kernelWidth", context.Where + " needs a positive kernel size; got " + Conv2dRule.Pair(s.Kernel, s.KernelWidth));
            if (s.Stride <= 0 || s.StrideWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, s.Stride <= 0 ? "Stride" : "StrideWidth", context.Where + " needs a positive stride; got " + Conv2dRule.Pair(s.Stride, s.StrideWidth));
            if (s.Padding < 0 || s.PaddingWidth < 0) return context.Fail(ShapeIssueKind.NegativePadding, s.Padding < 0 ? "Padding" : "PaddingWidth", context.Where + " needs a padding of 0 or more; got " + Conv2dRule.Pair(s.Padding, s.PaddingWidth));
            if (s.OutputPadding < 0 || s.OutputPaddingWidth < 0) return context.Fail(ShapeIssueKind.NegativePadding, s.OutputPadding < 0 ? "OutputPadding" : "OutputPaddingWidth", context.Where + " needs an output padding of 0 or more; got " + Conv2dRule.Pair(s.OutputPadding, s.OutputPaddingWidth));
            if (s.OutputPadding >= s.Stride || s.OutputPaddingWidth >= s.StrideWidth)
                return context.Fail(ShapeIssueKind.OutputPaddingTooLarge, s.OutputPadding >= s.Stride ? "OutputPadding" : "OutputPaddingWidth",
                    context.Where + ": output padding " + Conv2dRule.Pair(s.OutputPadding, s.OutputPaddingWidth) + " must be smaller than the stride " + Conv2dRule.Pair(s.Stride, s.StrideWidth) + " (PyTorch rejects it)");
            long h = ((long)input.Height - 1) * s.Stride - 2L * s.Padding + s.Kernel + s.OutputPadding;
            long w = ((long)input.Width - 1) * s.StrideWidth - 2L * s.PaddingWidth + s.KernelWidth + s.OutputPaddingWidth;
            if (h <= 0 || w <= 0)
                return context.Fail(ShapeIssueKind.KernelLargerThanInput, "Padding",
                    context.Where + " sees " + input + "; padding " + Conv2dRule.Pair(s.Padding, s.PaddingWidth) + " removes more than the transposed convolution produces: the output would be " + h.ToString(C) + "x" + w.ToString(C));
            if ((long)s.Units * input.Channels * s.Kernel * s.KernelWidth > ShapeInference.MaxElements || (long)s.Units * h * w > ShapeInference.MaxElements)
                return context.Fail(ShapeIssueKind.TooLarge, null, context.Where + " is too large: more than " + ShapeInference.MaxElements.ToString("N0", C) + " elements");
            return TensorShape.Spatial(s.Units, (int)h, (int)w);
        }

        // PyTorch's ConvTranspose2d weight is [in, out, kh, kw], and its fan-in (dimension 1) is out * kh * kw.
        public override IEnumerable<TensorRule> Tensors(LayerSpec s, TensorShape input)
        {
            int fanIn = s.Units * s.Kernel * s.KernelWidth;
            yield return new TensorRule("weight", TensorBlock.Parameters, new[] { input.Channels, s.Units, s.Kernel, s.KernelWidth }, TensorInit.UniformFanIn, fanIn);
            if (s.Bias) yield return new TensorRule("bias", TensorBlock.Parameters, new[] { s.Units }, TensorInit.UniformFanIn, fanIn);
        }

        public override string Arguments(LayerSpec s) =>
            "k=" + Conv2dRule.Pair(s.Kernel, s.KernelWidth) + ", s=" + Conv2dRule.Pair(s.Stride, s.StrideWidth) + ", p=" + Conv2dRule.Pair(s.Padding, s.PaddingWidth)
            + (s.OutputPadding != 0 || s.OutputPaddingWidth != 0 ? ", output padding " + Conv2dRule.Pair(s.OutputPadding, s.OutputPaddingWidth) : "");

        public override string Declaration(LayerSpec s) =>
            "ConvTranspose2d(" + I(s.Units) + ", " + I(s.Kernel) + (s.KernelWidth != s.Kernel ? ", " + I(s.KernelWidth) : "")
            + Conv2dRule.Axis("Stride", s.Stride, s.StrideWidth, 1) + Conv2dRule.Axis("Padding", s.Padding, s.PaddingWidth, 0)
            + Conv2dRule.Axis("OutputPadding", s.OutputPadding, s.OutputPaddingWidth, 0) + (s.Bias ? "" : ", Bias = false") + ")";

        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => (long)input.Length * s.Units * s.Kernel * s.KernelWidth;

        // An output cell gathers about kernel / stride input cells; neighbouring outputs are 1 / stride input cells apart.
        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output) =>
            new(Math.Ceiling((double)s.Kernel / s.Stride), Math.Ceiling((double)s.KernelWidth / s.StrideWidth), 1.0 / s.Stride, 1.0 / s.StrideWidth);
    }

    internal sealed class PoolRule : LayerRule
    {
        public PoolRule(LayerKind kind) => Kind = kind;
        public override LayerKind Kind { get; }
        public override string TorchName(bool spatialInput) => Kind == LayerKind.MaxPool ? "MaxPool2d" : "AvgPool2d";

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!LayerRules.RequireSpatial(context, input)) return null;
            if (s.Kernel <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "kernelSize", context.Where + " needs a positive kernel size; got " + I(s.Kernel));
            if (s.Stride <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "Stride", context.Where + " needs a positive stride; got " + I(s.Stride));
            if (s.Padding < 0) return context.Fail(ShapeIssueKind.NegativePadding, "Padding", context.Where + " needs a padding of 0 or more; got " + I(s.Padding));
            if (s.Padding * 2 > s.Kernel)
                return context.Fail(ShapeIssueKind.PoolPaddingTooLarge, "Padding",
                    context.Where + ": padding " + I(s.Padding) + " is more than half the kernel " + I(s.Kernel) + " (PyTorch rejects it); use at most " + I(s.Kernel / 2));
            return LayerRules.Window(context, input, input.Channels, s.Kernel, s.Kernel, s.Stride, s.Stride, s.Padding, s.Padding, 1, 1, "kernelSize", "Stride");
        }

        public override string Arguments(LayerSpec s) => "k=" + I(s.Kernel) + ", s=" + I(s.Stride) + ", p=" + I(s.Padding);

        public override string Declaration(LayerSpec s) =>
            Kind + "(" + I(s.Kernel) + (s.Stride != s.Kernel ? ", Stride = " + I(s.Stride) : "") + (s.Padding != 0 ? ", Padding = " + I(s.Padding) : "") + ")";

        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => (long)output.Length * s.Kernel * s.Kernel;

        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output) => new(s.Kernel, s.Kernel, s.Stride, s.Stride);
    }

    internal sealed class AdaptiveAvgPoolRule : LayerRule
    {
        public AdaptiveAvgPoolRule(LayerKind kind) => Kind = kind;
        public override LayerKind Kind { get; }
        public override string TorchName(bool spatialInput) => "AdaptiveAvgPool2d";

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!LayerRules.RequireSpatial(context, input, "; pool before flattening")) return null;
            if (s.OutHeight <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "outputHeight", context.Where + " needs a positive output height; got " + I(s.OutHeight));
            if (s.OutWidth <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "outputWidth", context.Where + " needs a positive output width; got " + I(s.OutWidth));
            if ((long)input.Channels * s.OutHeight * s.OutWidth > ShapeInference.MaxElements)
                return context.Fail(ShapeIssueKind.TooLarge, null, context.Where + " is too large");
            return TensorShape.Spatial(input.Channels, s.OutHeight, s.OutWidth);
        }

        public override string Arguments(LayerSpec s) => "output " + I(s.OutHeight) + "x" + I(s.OutWidth);
        public override string Declaration(LayerSpec s) => Kind == LayerKind.GlobalAvgPool ? "GlobalAvgPool" : "AdaptiveAvgPool(" + I(s.OutHeight) + ", " + I(s.OutWidth) + ")";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => input.Length;

        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output) =>
            new(Math.Ceiling((double)input.Height / output.Height), Math.Ceiling((double)input.Width / output.Width),
                (double)input.Height / output.Height, (double)input.Width / output.Width);
    }

    internal sealed class UpsampleRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Upsample;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!input.IsSpatial)
                return context.Fail(ShapeIssueKind.SpatialLayerOnVector, null,
                    context.Where + " upsamples height and width, but sees the vector " + input + " (after Flatten or Linear); upsample the feature map before flattening");
            if (s.Scale <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "scaleFactor", context.Where + " needs a positive scale factor; got " + I(s.Scale));
            long h = (long)input.Height * s.Scale, w = (long)input.Width * s.Scale;
            if (input.Channels * h * w > ShapeInference.MaxElements)
                return context.Fail(ShapeIssueKind.TooLarge, "scaleFactor", context.Where + " is too large: " + I(input.Channels) + "x" + h.ToString(C) + "x" + w.ToString(C) + " has more than " + ShapeInference.MaxElements.ToString("N0", C) + " elements");
            return TensorShape.Spatial(input.Channels, (int)h, (int)w);
        }

        public override string Arguments(LayerSpec s) => "scale " + I(s.Scale) + ", " + (s.Mode == InterpolationMode.Bilinear ? "bilinear" : "nearest");
        public override string Declaration(LayerSpec s) => "Upsample(" + I(s.Scale) + (s.Mode == InterpolationMode.Bilinear ? ", Mode = UpsampleMode.Bilinear" : "") + ")";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => s.Mode == InterpolationMode.Bilinear ? 4L * output.Length : 0;

        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output)
        {
            double span = s.Mode == InterpolationMode.Bilinear ? 2 : 1;
            return new(span, span, 1.0 / s.Scale, 1.0 / s.Scale);
        }
    }

    internal sealed class BatchNormRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.BatchNorm;
        public override string TorchName(bool spatialInput) => spatialInput ? "BatchNorm2d" : "BatchNorm1d";

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (!(s.Eps > 0)) return context.Fail(ShapeIssueKind.InvalidBatchNormArgument, "Eps", context.Where + " needs a positive Eps; got " + D(s.Eps));
            // The generated code computes in float: a value a float cannot hold (or one that rounds to 0) is out of range too.
            if (s.Eps > float.MaxValue || (float)s.Eps == 0f) return context.Fail(ShapeIssueKind.InvalidBatchNormArgument, "Eps", context.Where + " needs an Eps a float can hold (about 1.4E-45 to 3.4E+38); got " + D(s.Eps));
            if (!(s.Momentum >= 0 && s.Momentum <= 1)) return context.Fail(ShapeIssueKind.InvalidBatchNormArgument, "Momentum", context.Where + " needs a Momentum in [0, 1]; got " + D(s.Momentum));
            return input;
        }

        public override IEnumerable<TensorRule> Tensors(LayerSpec s, TensorShape input)
        {
            int channels = input.Channels;
            yield return new TensorRule("weight", TensorBlock.Parameters, new[] { channels }, TensorInit.Ones);
            yield return new TensorRule("bias", TensorBlock.Parameters, new[] { channels }, TensorInit.Zeros);
            yield return new TensorRule("running_mean", TensorBlock.Buffers, new[] { channels }, TensorInit.Zeros);
            yield return new TensorRule("running_var", TensorBlock.Buffers, new[] { channels }, TensorInit.Ones);
            yield return new TensorRule("num_batches_tracked", TensorBlock.Counters, Array.Empty<int>(), TensorInit.Zeros);
        }

        public override string Arguments(LayerSpec s) => "eps=" + D(s.Eps) + ", momentum=" + D(s.Momentum);
        public override string Declaration(LayerSpec s) => "BatchNorm(Eps = " + D(s.Eps) + ", Momentum = " + D(s.Momentum) + ")";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => 2L * input.Length;
    }

    internal sealed class LinearRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Linear;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context)
        {
            if (input.IsSpatial)
                return context.Fail(ShapeIssueKind.LinearNeedsFlatten, null,
                    context.Where + " sees the spatial tensor " + input + "; insert [Flatten] before it to get a vector of " + I(input.Length));
            if (s.Units <= 0) return context.Fail(ShapeIssueKind.NonPositiveArgument, "outFeatures", context.Where + " needs positive out features; got " + I(s.Units));
            if ((long)s.Units * input.Channels > ShapeInference.MaxElements)
                return context.Fail(ShapeIssueKind.TooLarge, null, context.Where + " is too large: more than " + ShapeInference.MaxElements.ToString("N0", C) + " weights (CnnGen's limit per tensor)");
            return TensorShape.Vector(s.Units);
        }

        public override IEnumerable<TensorRule> Tensors(LayerSpec s, TensorShape input)
        {
            yield return new TensorRule("weight", TensorBlock.Parameters, new[] { s.Units, input.Channels }, TensorInit.UniformFanIn, input.Channels);
            if (s.Bias) yield return new TensorRule("bias", TensorBlock.Parameters, new[] { s.Units }, TensorInit.UniformFanIn, input.Channels);
        }

        public override string Declaration(LayerSpec s) => "Linear(" + I(s.Units) + (s.Bias ? "" : ", Bias = false") + ")";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => (long)input.Length * s.Units;
    }

    internal sealed class FlattenRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Flatten;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) =>
            input.IsSpatial ? TensorShape.Vector(input.Length)
                : context.Fail(ShapeIssueKind.FlattenOnVector, null, context.Where + " sees the vector " + input + ", which is already flat; remove this [Flatten]");

        public override ReceptiveWindow Window(LayerSpec s, TensorShape input, TensorShape output) => ReceptiveWindow.Whole(input);
    }

    internal sealed class DropoutRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Dropout;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) =>
            // The generated code keeps p as a float and scales by 1 / (1 - p): a p that rounds to 1 as a float is out of range too.
            s.P >= 0 && s.P < 1 && (float)s.P < 1f ? input
                : context.Fail(ShapeIssueKind.ProbabilityOutOfRange, "p", context.Where + " needs a probability in [0, 1)"
                    + (s.P >= 0 && s.P < 1 ? " that stays below 1 as a float (at most 0.99999994)" : "") + "; got " + D(s.P));

        public override string Arguments(LayerSpec s) => "p=" + D(s.P);
        public override string Declaration(LayerSpec s) => "Dropout(" + D(s.P) + ")";
    }

    internal sealed class LeakyReLURule : LayerRule
    {
        public override LayerKind Kind => LayerKind.LeakyReLU;

        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) =>
            double.IsNaN(s.Slope) || double.IsInfinity(s.Slope) || Math.Abs(s.Slope) > float.MaxValue
                ? context.Fail(ShapeIssueKind.NonFiniteSlope, "negativeSlope", context.Where + " needs a finite negative slope" + (Math.Abs(s.Slope) > float.MaxValue && !double.IsInfinity(s.Slope) ? " a float can hold" : "") + "; got " + D(s.Slope))
                : input;

        public override string Arguments(LayerSpec s) => "negative slope " + D(s.Slope);
        public override string Declaration(LayerSpec s) => "LeakyReLU(" + D(s.Slope) + ")";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => input.Length;
    }

    internal sealed class GeluRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.GELU;
        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) => input;
        public override string Arguments(LayerSpec s) => s.TanhApproximation ? "tanh approximation" : "erf";
        public override string Declaration(LayerSpec s) => s.TanhApproximation ? "GELU(Approximate = GeluApproximation.Tanh)" : "GELU";
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => input.Length;
    }

    /// <summary>Activations without arguments: ReLU, Sigmoid, Tanh, ReLU6, Hardswish, SiLU.</summary>
    internal sealed class ElementwiseRule : LayerRule
    {
        public ElementwiseRule(LayerKind kind) => Kind = kind;
        public override LayerKind Kind { get; }
        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) => input;
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => input.Length;
    }

    internal sealed class SoftmaxRule : LayerRule
    {
        public override LayerKind Kind => LayerKind.Softmax;
        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) => input;
        public override long MultiplyAdds(LayerSpec s, TensorShape input, TensorShape output) => input.Length;
    }

    /// <summary>Block markers are read by the tree walk in <see cref="ShapeInference"/>, never inferred as layers.</summary>
    internal sealed class MarkerRule : LayerRule
    {
        public MarkerRule(LayerKind kind) => Kind = kind;
        public override LayerKind Kind { get; }
        public override TensorShape? Infer(LayerSpec s, TensorShape input, ShapeInference.RuleContext context) =>
            context.Fail(ShapeIssueKind.UnbalancedBlock, null, "[" + Kind + "] is a block marker, not a layer");
    }
}
