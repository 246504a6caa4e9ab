// The single source of shape truth. This file is compiled into the runtime (CnnGen) and linked
// into the generator (CnnGen.Generator), so the generator, the analyzers and the reference
// interpreter agree on every shape, offset and message. It must build for netstandard2.0:
// no spans, no newer BCL APIs, and it must never throw on any input (the analyzers run it on
// code as it is being typed).
#nullable enable
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.Shapes
{
    /// <summary>The layer kinds CnnGen knows, one per attribute.</summary>
    public enum LayerKind
    {
        Conv2d,
        MaxPool,
        AvgPool,
        BatchNorm,
        ReLU,
        LeakyReLU,
        Sigmoid,
        Tanh,
        Flatten,
        Linear,
        Dropout,
        Softmax,
    }

    /// <summary>
    /// One layer as declared, defaults applied. Only the fields of its kind are meaningful:
    /// <see cref="Units"/> is a convolution's out channels or a linear layer's out features;
    /// <see cref="Kernel"/>, <see cref="Stride"/>, <see cref="Padding"/> belong to convolution and pooling;
    /// <see cref="Eps"/> and <see cref="Momentum"/> to batch-norm; <see cref="Slope"/> to LeakyReLU;
    /// <see cref="P"/> to dropout.
    /// </summary>
    public readonly record struct LayerSpec(
        LayerKind Kind,
        int Units = 0,
        int Kernel = 0,
        int Stride = 0,
        int Padding = 0,
        bool Bias = false,
        double Eps = 0,
        double Momentum = 0,
        double Slope = 0,
        double P = 0)
    {
        public static LayerSpec Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true) =>
            new(LayerKind.Conv2d, Units: outChannels, Kernel: kernel, Stride: stride, Padding: padding, Bias: bias);

        /// <summary>Max pooling; a null <paramref name="stride"/> means the kernel size, as in PyTorch.</summary>
        public static LayerSpec MaxPool(int kernel, int? stride = null, int padding = 0) =>
            new(LayerKind.MaxPool, Kernel: kernel, Stride: stride ?? kernel, Padding: padding);

        /// <summary>Average pooling; a null <paramref name="stride"/> means the kernel size, as in PyTorch.</summary>
        public static LayerSpec AvgPool(int kernel, int? stride = null, int padding = 0) =>
            new(LayerKind.AvgPool, Kernel: kernel, Stride: stride ?? kernel, Padding: padding);

        public static LayerSpec BatchNorm(double eps = 1e-5, double momentum = 0.1) =>
            new(LayerKind.BatchNorm, Eps: eps, Momentum: momentum);

        public static LayerSpec ReLU() => new(LayerKind.ReLU);
        public static LayerSpec LeakyReLU(double negativeSlope = 0.01) => new(LayerKind.LeakyReLU, Slope: negativeSlope);
        public static LayerSpec Sigmoid() => new(LayerKind.Sigmoid);
        public static LayerSpec Tanh() => new(LayerKind.Tanh);
        public static LayerSpec Flatten() => new(LayerKind.Flatten);
        public static LayerSpec Linear(int outFeatures, bool bias = true) => new(LayerKind.Linear, Units: outFeatures, Bias: bias);
        public static LayerSpec Dropout(double p = 0.5) => new(LayerKind.Dropout, P: p);
        public static LayerSpec Softmax() => new(LayerKind.Softmax);

        /// <summary>The declaration as a user writes it, e.g. <c>Conv2d(6, 5, Padding = 2)</c>.</summary>
        public override string ToString()
        {
            var c = CultureInfo.InvariantCulture;
            switch (Kind)
            {
                case LayerKind.Conv2d:
                    return "Conv2d(" + Units.ToString(c) + ", " + Kernel.ToString(c)
                        + (Stride != 1 ? ", Stride = " + Stride.ToString(c) : "")
                        + (Padding != 0 ? ", Padding = " + Padding.ToString(c) : "")
                        + (Bias ? "" : ", Bias = false") + ")";
                case LayerKind.MaxPool:
                case LayerKind.AvgPool:
                    return Kind + "(" + Kernel.ToString(c)
                        + (Stride != Kernel ? ", Stride = " + Stride.ToString(c) : "")
                        + (Padding != 0 ? ", Padding = " + Padding.ToString(c) : "") + ")";
                case LayerKind.BatchNorm:
                    return "BatchNorm(Eps = " + Eps.ToString("R", c) + ", Momentum = " + Momentum.ToString("R", c) + ")";
                case LayerKind.LeakyReLU:
                    return "LeakyReLU(" + Slope.ToString("R", c) + ")";
                case LayerKind.Linear:
                    return "Linear(" + Units.ToString(c) + (Bias ? "" : ", Bias = false") + ")";
                case LayerKind.Dropout:
                    return "Dropout(" + P.ToString("R", c) + ")";
                default:
                    return Kind.ToString();
            }
        }
    }

    /// <summary>
    /// The shape of one sample's tensor. Spatial tensors are C x H x W (NCHW without the N);
    /// vectors (after <c>Flatten</c> or <c>Linear</c>) have <see cref="Channels"/> features and H = W = 1.
    /// </summary>
    public readonly record struct TensorShape(int Channels, int Height, int Width, bool IsSpatial)
    {
        public static TensorShape Spatial(int channels, int height, int width) => new(channels, height, width, true);
        public static TensorShape Vector(int features) => new(features, 1, 1, false);

        /// <summary>Elements per sample.</summary>
        public int Length => Channels * Height * Width;

        public override string ToString() => IsSpatial
            ? Channels.ToString(CultureInfo.InvariantCulture) + "x" + Height.ToString(CultureInfo.InvariantCulture) + "x" + Width.ToString(CultureInfo.InvariantCulture)
            : Channels.ToString(CultureInfo.InvariantCulture);

        /// <summary>The shape as torchinfo prints it for a batch of one: <c>[1, 6, 28, 28]</c>.</summary>
        public string ToTorchString() => IsSpatial
            ? "[1, " + Channels.ToString(CultureInfo.InvariantCulture) + ", " + Height.ToString(CultureInfo.InvariantCulture) + ", " + Width.ToString(CultureInfo.InvariantCulture) + "]"
            : "[1, " + Channels.ToString(CultureInfo.InvariantCulture) + "]";
    }

    /// <summary>Which block of a model a tensor lives in.</summary>
    public enum TensorBlock
    {
        /// <summary>Trainable parameters (weights, biases): the parameter block, mirrored by the gradient block.</summary>
        Parameters,
        /// <summary>Running statistics of batch-norm (float buffers).</summary>
        Buffers,
        /// <summary>Batch-norm's <c>num_batches_tracked</c> (one 64-bit counter each).</summary>
        Counters,
    }

    /// <summary>One entry of the model's <c>state_dict</c>: PyTorch's name, shape, and where it lives.</summary>
    public sealed class TensorEntry
    {
        public TensorEntry(string name, TensorBlock block, int offset, int[] shape)
        {
            Name = name;
            Block = block;
            Offset = offset;
            Shape = shape;
            int length = 1;
            foreach (int d in shape) length *= d;
            Length = length;
        }

        /// <summary>PyTorch's key, e.g. <c>0.weight</c> or <c>1.running_mean</c>.</summary>
        public string Name { get; }
        public TensorBlock Block { get; }
        /// <summary>Offset in its block (for counters: the counter's index).</summary>
        public int Offset { get; }
        /// <summary>PyTorch's shape; empty for a scalar.</summary>
        public int[] Shape { get; }
        public int Length { get; }

        public string ShapeText => "[" + string.Join(", ", Array.ConvertAll(Shape, d => d.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>A layer with its shapes and the places of its tensors.</summary>
    public sealed class LayerLayout
    {
        internal LayerLayout(int index, LayerSpec spec, TensorShape input, TensorShape output)
        {
            Index = index;
            Spec = spec;
            Input = input;
            Output = output;
        }

        public int Index { get; }
        public LayerSpec Spec { get; }
        public LayerKind Kind => Spec.Kind;
        public TensorShape Input { get; }
        public TensorShape Output { get; }
        public int ParameterOffset { get; internal set; }
        public int ParameterCount { get; internal set; }
        public int BufferOffset { get; internal set; }
        public int BufferCount { get; internal set; }
        /// <summary>Index of this layer's <c>num_batches_tracked</c> counter, or -1.</summary>
        public int CounterIndex { get; internal set; } = -1;
        public IReadOnlyList<TensorEntry> Tensors { get; internal set; } = Array.Empty<TensorEntry>();

        /// <summary>PyTorch's module name: Conv2d, MaxPool2d, BatchNorm2d, BatchNorm1d, ...</summary>
        public string TorchName => ShapeInference.TorchName(Spec.Kind, Input.IsSpatial);

        /// <summary>The readable header of this layer, e.g. <c>Conv2d #0: 1x28x28 -> 6x28x28 (k=5, s=1, p=2), 156 params</c>.</summary>
        public string Describe()
        {
            var c = CultureInfo.InvariantCulture;
            string args = Spec.Kind switch
            {
                LayerKind.Conv2d or LayerKind.MaxPool or LayerKind.AvgPool =>
                    " (k=" + Spec.Kernel.ToString(c) + ", s=" + Spec.Stride.ToString(c) + ", p=" + Spec.Padding.ToString(c) + ")",
                LayerKind.BatchNorm => " (eps=" + Spec.Eps.ToString("R", c) + ", momentum=" + Spec.Momentum.ToString("R", c) + ")",
                LayerKind.LeakyReLU => " (negative slope " + Spec.Slope.ToString("R", c) + ")",
                LayerKind.Dropout => " (p=" + Spec.P.ToString("R", c) + ")",
                _ => "",
            };
            string parameters = ParameterCount > 0 ? ", " + ParameterCount.ToString("N0", c) + " params" : "";
            return TorchName + " #" + Index.ToString(c) + ": " + Input + " -> " + Output + args + parameters;
        }
    }

    /// <summary>What kind of problem a declaration has. Analyzers map each kind to a diagnostic.</summary>
    public enum ShapeIssueKind
    {
        NoLayers,
        NonPositiveInput,
        NonPositiveArgument,
        NegativePadding,
        ProbabilityOutOfRange,
        InvalidBatchNormArgument,
        KernelLargerThanInput,
        StrideDropsCells,
        PoolPaddingTooLarge,
        SpatialLayerOnVector,
        LinearNeedsFlatten,
        FlattenOnVector,
        SoftmaxNotLast,
        OutputNotVector,
        TooLarge,
        /// <summary>A LeakyReLU negative slope that is NaN or infinite.</summary>
        NonFiniteSlope,
    }

    /// <summary>
    /// A problem found by shape inference. <see cref="LayerIndex"/> is -1 for the network itself;
    /// <see cref="Argument"/> names the offending attribute argument (<c>Padding</c>, <c>kernelSize</c>, ...) or is null
    /// when the whole attribute is at fault.
    /// </summary>
    public readonly record struct ShapeIssue(ShapeIssueKind Kind, int LayerIndex, string? Argument, string Message, bool IsError);

    /// <summary>The result of shape inference: every layer's shapes and tensor places, and any issues.</summary>
    public sealed class NetworkLayout
    {
        internal NetworkLayout(TensorShape input, IReadOnlyList<LayerLayout> layers, IReadOnlyList<ShapeIssue> issues,
            int parameterCount, int bufferCount, int counterCount)
        {
            Input = input;
            Layers = layers;
            Issues = issues;
            ParameterCount = parameterCount;
            BufferCount = bufferCount;
            CounterCount = counterCount;
            var tensors = new List<TensorEntry>();
            foreach (var layer in layers) tensors.AddRange(layer.Tensors);
            Tensors = tensors;
        }

        public TensorShape Input { get; }
        /// <summary>The layers whose shapes could be inferred: all of them when <see cref="HasErrors"/> is false.</summary>
        public IReadOnlyList<LayerLayout> Layers { get; }
        public IReadOnlyList<ShapeIssue> Issues { get; }
        public bool HasErrors
        {
            get
            {
                foreach (var issue in Issues) if (issue.IsError) return true;
                return false;
            }
        }

        public TensorShape Output => Layers.Count > 0 ? Layers[Layers.Count - 1].Output : Input;
        /// <summary>Trainable parameters (the torchinfo "Total params").</summary>
        public int ParameterCount { get; }
        /// <summary>Floats of batch-norm running statistics.</summary>
        public int BufferCount { get; }
        /// <summary>Batch-norm <c>num_batches_tracked</c> counters.</summary>
        public int CounterCount { get; }
        /// <summary>The <c>state_dict</c> entries, in PyTorch's order.</summary>
        public IReadOnlyList<TensorEntry> Tensors { get; }

        /// <summary>The layer table in torchinfo's layout.</summary>
        public string FormatTable(string modelName)
        {
            const int nameWidth = 41, shapeWidth = 26;
            string rule = new string('=', 90);
            var c = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append(rule).Append('\n');
            sb.Append(Pad("Layer (type:depth-idx)", nameWidth)).Append(Pad("Output Shape", shapeWidth)).Append("Param #").Append('\n');
            sb.Append(rule).Append('\n');
            sb.Append(Pad(modelName, nameWidth)).Append(Pad(Output.ToTorchString(), shapeWidth)).Append("--").Append('\n');
            foreach (var layer in Layers)
            {
                string name = "\u251c\u2500" + layer.TorchName + ": 1-" + (layer.Index + 1).ToString(c);
                string count = layer.ParameterCount > 0 ? layer.ParameterCount.ToString("N0", c) : "--";
                sb.Append(Pad(name, nameWidth)).Append(Pad(layer.Output.ToTorchString(), shapeWidth)).Append(count).Append('\n');
            }
            sb.Append(rule).Append('\n');
            sb.Append("Total params: ").Append(ParameterCount.ToString("N0", c)).Append('\n');
            sb.Append("Trainable params: ").Append(ParameterCount.ToString("N0", c)).Append('\n');
            sb.Append("Non-trainable params: 0").Append('\n');
            sb.Append(rule);
            return sb.ToString();

            static string Pad(string text, int width) => text.Length >= width ? text + " " : text.PadRight(width);
        }
    }

    /// <summary>Shape inference: from the declared layers to shapes, tensor places and issues. Pure; never throws.</summary>
    public static class ShapeInference
    {
        /// <summary>Activations, parameter blocks and every intermediate stay below this many elements.</summary>
        public const long MaxElements = 1L << 28;

        public static string TorchName(LayerKind kind, bool spatialInput) => kind switch
        {
            LayerKind.MaxPool => "MaxPool2d",
            LayerKind.AvgPool => "AvgPool2d",
            LayerKind.BatchNorm => spatialInput ? "BatchNorm2d" : "BatchNorm1d",
            _ => kind.ToString(),
        };

        public static NetworkLayout Infer(TensorShape input, IReadOnlyList<LayerSpec> layers)
        {
            var issues = new List<ShapeIssue>();
            var layouts = new List<LayerLayout>();
            var c = CultureInfo.InvariantCulture;
            int parameters = 0, buffers = 0, counters = 0;

            if (input.Channels <= 0 || input.Height <= 0 || input.Width <= 0)
            {
                string arg = input.Channels <= 0 ? "channels" : input.Height <= 0 ? "height" : "width";
                issues.Add(new ShapeIssue(ShapeIssueKind.NonPositiveInput, -1, arg,
                    "Network input must have positive channels, height and width; got " + input.Channels.ToString(c) + "x" + input.Height.ToString(c) + "x" + input.Width.ToString(c), true));
                return new NetworkLayout(input, layouts, issues, 0, 0, 0);
            }
            if ((long)input.Channels * input.Height * input.Width > MaxElements)
            {
                issues.Add(new ShapeIssue(ShapeIssueKind.TooLarge, -1, null, "Network input " + input + " has more than " + MaxElements.ToString("N0", c) + " elements", true));
                return new NetworkLayout(input, layouts, issues, 0, 0, 0);
            }
            if (layers.Count == 0)
            {
                issues.Add(new ShapeIssue(ShapeIssueKind.NoLayers, -1, null, "Network has no layers: add layer attributes such as [Conv2d(6, 5)] or [Linear(10)] after [Network]", true));
                return new NetworkLayout(input, layouts, issues, 0, 0, 0);
            }

            var shape = input;
            for (int i = 0; i < layers.Count; i++)
            {
                var spec = layers[i];
                string where = TorchName(spec.Kind, shape.IsSpatial) + " (layer " + i.ToString(c) + ")";
                var output = InferLayer(spec, shape, i, where, issues);
                if (output is null) return new NetworkLayout(input, layouts, issues, parameters, buffers, counters);

                var layout = new LayerLayout(i, spec, shape, output.Value);
                AssignTensors(layout, ref parameters, ref buffers, ref counters);
                if (parameters > MaxElements)
                {
                    issues.Add(new ShapeIssue(ShapeIssueKind.TooLarge, i, null, where + " brings the parameter count past " + MaxElements.ToString("N0", c), true));
                    return new NetworkLayout(input, layouts, issues, parameters, buffers, counters);
                }
                layouts.Add(layout);
                shape = output.Value;

                if (spec.Kind == LayerKind.Softmax && i != layers.Count - 1)
                    issues.Add(new ShapeIssue(ShapeIssueKind.SoftmaxNotLast, i, null,
                        "Softmax (layer " + i.ToString(c) + ") is not the last layer; layers after it see probabilities, not logits", false));
            }

            if (shape.IsSpatial)
                issues.Add(new ShapeIssue(ShapeIssueKind.OutputNotVector, -1, null,
                    "Network output is " + shape + ", not a vector: end the network with [Flatten] and [Linear(...)]", true));

            return new NetworkLayout(input, layouts, issues, parameters, buffers, counters);
        }

        /// <summary>Output shape of one layer, or null (with an error added) when it cannot be computed.</summary>
        private static TensorShape? InferLayer(LayerSpec spec, TensorShape shape, int i, string where, List<ShapeIssue> issues)
        {
            var c = CultureInfo.InvariantCulture;
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                case LayerKind.MaxPool:
                case LayerKind.AvgPool:
                {
                    bool conv = spec.Kind == LayerKind.Conv2d;
                    if (!shape.IsSpatial)
                    {
                        issues.Add(new ShapeIssue(ShapeIssueKind.SpatialLayerOnVector, i, null,
                            where + " needs a CxHxW input but sees the vector " + shape + " (after Flatten or Linear)", true));
                        return null;
                    }
                    if (conv && spec.Units <= 0) return Fail(ShapeIssueKind.NonPositiveArgument, "outChannels", where + " needs positive out channels; got " + spec.Units.ToString(c));
                    if (spec.Kernel <= 0) return Fail(ShapeIssueKind.NonPositiveArgument, "kernelSize", where + " needs a positive kernel size; got " + spec.Kernel.ToString(c));
                    if (spec.Stride <= 0) return Fail(ShapeIssueKind.NonPositiveArgument, "Stride", where + " needs a positive stride; got " + spec.Stride.ToString(c));
                    if (spec.Padding < 0) return Fail(ShapeIssueKind.NegativePadding, "Padding", where + " needs a padding of 0 or more; got " + spec.Padding.ToString(c));
                    if (!conv && spec.Padding * 2 > spec.Kernel)
                        return Fail(ShapeIssueKind.PoolPaddingTooLarge, "Padding",
                            where + ": padding " + spec.Padding.ToString(c) + " is more than half the kernel " + spec.Kernel.ToString(c) + " (PyTorch rejects it); use at most " + (spec.Kernel / 2).ToString(c));

                    long paddedH = (long)shape.Height + 2L * spec.Padding, paddedW = (long)shape.Width + 2L * spec.Padding;
                    if (spec.Kernel > paddedH || spec.Kernel > paddedW)
                    {
                        return Fail(ShapeIssueKind.KernelLargerThanInput, "kernelSize",
                            where + " sees " + shape + "; kernel " + spec.Kernel.ToString(c) + " with padding " + spec.Padding.ToString(c)
                            + " does not fit the padded " + paddedH.ToString(c) + "x" + paddedW.ToString(c) + " input, so the output would be "
                            + Math.Max(0, FloorDiv(paddedH - spec.Kernel, spec.Stride) + 1).ToString(c) + "x" + Math.Max(0, FloorDiv(paddedW - spec.Kernel, spec.Stride) + 1).ToString(c));
                    }
                    long outH = (paddedH - spec.Kernel) / spec.Stride + 1, outW = (paddedW - spec.Kernel) / spec.Stride + 1;
                    long droppedH = (paddedH - spec.Kernel) % spec.Stride, droppedW = (paddedW - spec.Kernel) % spec.Stride;
                    if (droppedH != 0 || droppedW != 0)
                    {
                        issues.Add(new ShapeIssue(ShapeIssueKind.StrideDropsCells, i, "Stride",
                            where + " sees " + shape + "; stride " + spec.Stride.ToString(c) + " with kernel " + spec.Kernel.ToString(c) + " and padding " + spec.Padding.ToString(c)
                            + " does not cover the padded " + paddedH.ToString(c) + "x" + paddedW.ToString(c) + " input evenly: the last "
                            + droppedH.ToString(c) + " row(s) and " + droppedW.ToString(c) + " column(s) are dropped", false));
                    }
                    long channels = conv ? spec.Units : shape.Channels;
                    if (channels * outH * outW > MaxElements || (conv && (long)spec.Units * shape.Channels * spec.Kernel * spec.Kernel > MaxElements))
                        return Fail(ShapeIssueKind.TooLarge, null, where + " is too large: more than " + MaxElements.ToString("N0", c) + " elements");
                    return TensorShape.Spatial((int)channels, (int)outH, (int)outW);
                }
                case LayerKind.Linear:
                    if (shape.IsSpatial)
                        return Fail(ShapeIssueKind.LinearNeedsFlatten, null,
                            "Linear (layer " + i.ToString(c) + ") sees the spatial tensor " + shape + "; insert [Flatten] before it to get a vector of " + shape.Length.ToString(c));
                    if (spec.Units <= 0) return Fail(ShapeIssueKind.NonPositiveArgument, "outFeatures", where + " needs positive out features; got " + spec.Units.ToString(c));
                    if ((long)spec.Units * shape.Channels > MaxElements)
                        return Fail(ShapeIssueKind.TooLarge, null, where + " is too large: more than " + MaxElements.ToString("N0", c) + " weights");
                    return TensorShape.Vector(spec.Units);
                case LayerKind.Flatten:
                    if (!shape.IsSpatial)
                        return Fail(ShapeIssueKind.FlattenOnVector, null, "Flatten (layer " + i.ToString(c) + ") sees the vector " + shape + ", which is already flat");
                    return TensorShape.Vector(shape.Length);
                case LayerKind.BatchNorm:
                    if (!(spec.Eps > 0)) return Fail(ShapeIssueKind.InvalidBatchNormArgument, "Eps", where + " needs a positive Eps; got " + spec.Eps.ToString("R", c));
                    if (!(spec.Momentum >= 0 && spec.Momentum <= 1)) return Fail(ShapeIssueKind.InvalidBatchNormArgument, "Momentum", where + " needs a Momentum in [0, 1]; got " + spec.Momentum.ToString("R", c));
                    return shape;
                case LayerKind.Dropout:
                    if (!(spec.P >= 0 && spec.P < 1)) return Fail(ShapeIssueKind.ProbabilityOutOfRange, "p", where + " needs a probability in [0, 1); got " + spec.P.ToString("R", c));
                    return shape;
                case LayerKind.LeakyReLU:
                    if (double.IsNaN(spec.Slope) || double.IsInfinity(spec.Slope)) return Fail(ShapeIssueKind.NonFiniteSlope, "negativeSlope", where + " needs a finite negative slope; got " + spec.Slope.ToString("R", c));
                    return shape;
                default:
                    return shape;
            }

            // PyTorch's floor division; C#'s '/' truncates toward zero, which overstates a negative size.
            static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

            TensorShape? Fail(ShapeIssueKind kind, string? argument, string message)
            {
                issues.Add(new ShapeIssue(kind, i, argument, message, true));
                return null;
            }
        }

        /// <summary>Names and places the layer's tensors in PyTorch <c>state_dict</c> order.</summary>
        private static void AssignTensors(LayerLayout layout, ref int parameters, ref int buffers, ref int counters)
        {
            var spec = layout.Spec;
            string prefix = layout.Index.ToString(CultureInfo.InvariantCulture) + ".";
            var tensors = new List<TensorEntry>();
            layout.ParameterOffset = parameters;
            layout.BufferOffset = buffers;
            switch (spec.Kind)
            {
                case LayerKind.Conv2d:
                    Add(TensorBlock.Parameters, "weight", new[] { spec.Units, layout.Input.Channels, spec.Kernel, spec.Kernel }, ref parameters);
                    if (spec.Bias) Add(TensorBlock.Parameters, "bias", new[] { spec.Units }, ref parameters);
                    break;
                case LayerKind.Linear:
                    Add(TensorBlock.Parameters, "weight", new[] { spec.Units, layout.Input.Channels }, ref parameters);
                    if (spec.Bias) Add(TensorBlock.Parameters, "bias", new[] { spec.Units }, ref parameters);
                    break;
                case LayerKind.BatchNorm:
                    int channels = layout.Input.Channels;
                    Add(TensorBlock.Parameters, "weight", new[] { channels }, ref parameters);
                    Add(TensorBlock.Parameters, "bias", new[] { channels }, ref parameters);
                    Add(TensorBlock.Buffers, "running_mean", new[] { channels }, ref buffers);
                    Add(TensorBlock.Buffers, "running_var", new[] { channels }, ref buffers);
                    layout.CounterIndex = counters;
                    Add(TensorBlock.Counters, "num_batches_tracked", Array.Empty<int>(), ref counters);
                    break;
            }
            layout.ParameterCount = parameters - layout.ParameterOffset;
            layout.BufferCount = buffers - layout.BufferOffset;
            layout.Tensors = tensors;

            void Add(TensorBlock block, string name, int[] shape, ref int cursor)
            {
                var entry = new TensorEntry(prefix + name, block, cursor, shape);
                tensors.Add(entry);
                cursor += entry.Length;
            }
        }
    }
}
