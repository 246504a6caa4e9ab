// The single source of shape truth. The files of this folder are compiled into the runtime (CnnGen) and linked
// into the generator (CnnGen.Generator), so the generator, the analyzers and the reference interpreter agree on
// every shape, offset and message. They must build for netstandard2.0: no spans, no newer BCL APIs, and they must
// never throw on any input (the analyzers run them on code as it is being typed).
//
// This file: the model (specs, shapes, tensors, the layout tree) and inference over the tree of blocks. What each
// layer kind computes (its shape rule, tensors, initialization, description) is its LayerRule in LayerRules.cs.
#nullable enable
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.Shapes
{
    /// <summary>
    /// The layer kinds CnnGen knows, one per attribute; and the block markers (<see cref="Residual"/>,
    /// <see cref="Shortcut"/>, <see cref="Concat"/>, <see cref="Branch"/>, <see cref="End"/>) that turn the
    /// attribute list into a graph.
    /// </summary>
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
        ConvTranspose2d,
        GlobalAvgPool,
        AdaptiveAvgPool,
        Upsample,
        ReLU6,
        Hardswish,
        SiLU,
        GELU,
        // Block markers: not layers, they open, divide and close blocks.
        Residual,
        Shortcut,
        Concat,
        Branch,
        End,
    }

    /// <summary>Interpolation of <see cref="LayerKind.Upsample"/>.</summary>
    public enum InterpolationMode
    {
        /// <summary>Each output cell copies the input cell it falls in (PyTorch <c>mode='nearest'</c>).</summary>
        Nearest,
        /// <summary>Bilinear with <c>align_corners=False</c> (PyTorch <c>mode='bilinear'</c>).</summary>
        Bilinear,
    }

    /// <summary>
    /// One layer (or block marker) as declared, defaults applied. Only the fields of its kind are meaningful:
    /// <see cref="Units"/> is a convolution's out channels or a linear layer's out features; <see cref="Kernel"/>,
    /// <see cref="Stride"/>, <see cref="Padding"/>, <see cref="Dilation"/> are the height values (and the width
    /// values of pools, which are square) and the <c>…Width</c> fields the width values of convolutions;
    /// <see cref="Groups"/>, <see cref="OutputPadding"/> belong to convolutions; <see cref="Eps"/> and
    /// <see cref="Momentum"/> to batch-norm; <see cref="Slope"/> to LeakyReLU; <see cref="P"/> to dropout;
    /// <see cref="Scale"/> and <see cref="Mode"/> to upsampling; <see cref="OutHeight"/>, <see cref="OutWidth"/> to
    /// adaptive pooling; <see cref="TanhApproximation"/> to GELU.
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
        double P = 0,
        int KernelWidth = 0,
        int StrideWidth = 0,
        int PaddingWidth = 0,
        int Dilation = 1,
        int DilationWidth = 1,
        int Groups = 1,
        int OutputPadding = 0,
        int OutputPaddingWidth = 0,
        int Scale = 0,
        InterpolationMode Mode = InterpolationMode.Nearest,
        int OutHeight = 0,
        int OutWidth = 0,
        bool TanhApproximation = false)
    {
        public static LayerSpec Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true) =>
            Conv2d(outChannels, kernel, kernel, stride, stride, padding, padding, 1, 1, 1, bias);

        /// <summary>A convolution with a value per axis for the kernel, stride, padding and dilation (PyTorch's tuples).</summary>
        public static LayerSpec Conv2d(int outChannels, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth, int groups, bool bias) =>
            new(LayerKind.Conv2d, Units: outChannels, Kernel: kernelHeight, KernelWidth: kernelWidth, Stride: strideHeight, StrideWidth: strideWidth,
                Padding: paddingHeight, PaddingWidth: paddingWidth, Dilation: dilationHeight, DilationWidth: dilationWidth, Groups: groups, Bias: bias);

        /// <summary>A transposed convolution (PyTorch's <c>ConvTranspose2d</c>, one group, no dilation).</summary>
        public static LayerSpec ConvTranspose2d(int outChannels, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            int paddingHeight, int paddingWidth, int outputPaddingHeight, int outputPaddingWidth, bool bias) =>
            new(LayerKind.ConvTranspose2d, Units: outChannels, Kernel: kernelHeight, KernelWidth: kernelWidth, Stride: strideHeight, StrideWidth: strideWidth,
                Padding: paddingHeight, PaddingWidth: paddingWidth, OutputPadding: outputPaddingHeight, OutputPaddingWidth: outputPaddingWidth, Bias: bias);

        public static LayerSpec ConvTranspose2d(int outChannels, int kernel, int stride = 1, int padding = 0, int outputPadding = 0, bool bias = true) =>
            ConvTranspose2d(outChannels, kernel, kernel, stride, stride, padding, padding, outputPadding, outputPadding, bias);

        /// <summary>Max pooling; a null <paramref name="stride"/> means the kernel size, as in PyTorch.</summary>
        public static LayerSpec MaxPool(int kernel, int? stride = null, int padding = 0) =>
            new(LayerKind.MaxPool, Kernel: kernel, Stride: stride ?? kernel, Padding: padding, KernelWidth: kernel, StrideWidth: stride ?? kernel, PaddingWidth: padding);

        /// <summary>Average pooling; a null <paramref name="stride"/> means the kernel size, as in PyTorch.</summary>
        public static LayerSpec AvgPool(int kernel, int? stride = null, int padding = 0) =>
            new(LayerKind.AvgPool, Kernel: kernel, Stride: stride ?? kernel, Padding: padding, KernelWidth: kernel, StrideWidth: stride ?? kernel, PaddingWidth: padding);

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
        public static LayerSpec GlobalAvgPool() => new(LayerKind.GlobalAvgPool, OutHeight: 1, OutWidth: 1);
        public static LayerSpec AdaptiveAvgPool(int outHeight, int outWidth) => new(LayerKind.AdaptiveAvgPool, OutHeight: outHeight, OutWidth: outWidth);
        public static LayerSpec Upsample(int scale, InterpolationMode mode = InterpolationMode.Nearest) => new(LayerKind.Upsample, Scale: scale, Mode: mode);
        public static LayerSpec ReLU6() => new(LayerKind.ReLU6);
        public static LayerSpec Hardswish() => new(LayerKind.Hardswish);
        public static LayerSpec SiLU() => new(LayerKind.SiLU);
        public static LayerSpec GELU(bool tanhApproximation = false) => new(LayerKind.GELU, TanhApproximation: tanhApproximation);
        public static LayerSpec Residual() => new(LayerKind.Residual);
        public static LayerSpec Shortcut() => new(LayerKind.Shortcut);
        public static LayerSpec Concat() => new(LayerKind.Concat);
        public static LayerSpec Branch() => new(LayerKind.Branch);
        public static LayerSpec End() => new(LayerKind.End);

        /// <summary>Whether this is a block marker rather than a layer.</summary>
        public bool IsMarker => Kind >= LayerKind.Residual;

        /// <summary>The declaration as a user writes it, e.g. <c>Conv2d(6, 5, Padding = 2)</c>.</summary>
        public override string ToString() => LayerRules.For(Kind).Declaration(this);
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

    /// <summary>How a freshly constructed PyTorch module fills a tensor.</summary>
    public enum TensorInit
    {
        /// <summary>U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from the network's stream (Conv2d, ConvTranspose2d, Linear weights and biases).</summary>
        UniformFanIn,
        Ones,
        Zeros,
    }

    /// <summary>One entry of the model's <c>state_dict</c>: PyTorch's name, shape, and where it lives.</summary>
    public sealed class TensorEntry
    {
        public TensorEntry(string name, TensorBlock block, int offset, int[] shape, TensorInit init = TensorInit.Zeros, int fanIn = 0)
        {
            Name = name;
            Block = block;
            Offset = offset;
            Shape = shape;
            Init = init;
            FanIn = fanIn;
            int length = 1;
            foreach (int d in shape) length *= d;
            Length = length;
        }

        /// <summary>PyTorch's key, e.g. <c>0.weight</c>, <c>1.running_mean</c> or <c>3.body.0.weight</c>.</summary>
        public string Name { get; }
        public TensorBlock Block { get; }
        /// <summary>Offset in its block (for counters: the counter's index).</summary>
        public int Offset { get; }
        /// <summary>PyTorch's shape; empty for a scalar.</summary>
        public int[] Shape { get; }
        public int Length { get; }
        /// <summary>How PyTorch initializes it.</summary>
        public TensorInit Init { get; }
        /// <summary>For <see cref="TensorInit.UniformFanIn"/>: PyTorch's fan-in of the layer's weight.</summary>
        public int FanIn { get; }

        public string ShapeText => "[" + string.Join(", ", Array.ConvertAll(Shape, d => d.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>A node of the network's tree: a layer, a residual block or a concatenation.</summary>
    public abstract class NodeLayout
    {
        internal NodeLayout(string path, int position, TensorShape input, TensorShape output)
        {
            Path = path;
            Position = position;
            Input = input;
            Output = output;
        }

        /// <summary>PyTorch's module path: <c>3</c>, <c>3.body.0</c>, <c>2.branches.1.4</c>.</summary>
        public string Path { get; }
        /// <summary>Index of the node's attribute among the network's layer and marker attributes, in source order.</summary>
        public int Position { get; }
        public TensorShape Input { get; }
        public TensorShape Output { get; }
        /// <summary>Nesting depth: 1 for the network's own modules (torchinfo's depth).</summary>
        public int Depth => 1 + Count(Path, ".body.") + Count(Path, ".shortcut.") + Count(Path, ".branches.");

        private static int Count(string text, string part)
        {
            int count = 0;
            for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal)) count++;
            return count;
        }

        /// <summary>A C# identifier for the path: <c>3</c> → <c>Layer3</c>, <c>3.body.0</c> → <c>Layer3_Body0</c>, <c>2.branches.1.4</c> → <c>Layer2_Branch1_4</c>.</summary>
        public string Identifier => "Layer" + Path.Replace(".body.", "_Body").Replace(".shortcut.", "_Shortcut").Replace(".branches.", "_Branch").Replace('.', '_');
    }

    /// <summary>A sequence of nodes: the network, a residual's body or shortcut, a concatenation's branch.</summary>
    public sealed class SequenceLayout
    {
        internal SequenceLayout(string prefix, TensorShape input, IReadOnlyList<NodeLayout> nodes)
        {
            Prefix = prefix;
            Input = input;
            Nodes = nodes;
        }

        /// <summary>The path prefix of its nodes: empty for the network, <c>3.body.</c>, <c>2.branches.1.</c>.</summary>
        public string Prefix { get; }
        public TensorShape Input { get; }
        public IReadOnlyList<NodeLayout> Nodes { get; }
        /// <summary>The output: the last node's, or the input for an empty (identity) sequence.</summary>
        public TensorShape Output => Nodes.Count > 0 ? Nodes[Nodes.Count - 1].Output : Input;
        public bool IsIdentity => Nodes.Count == 0;
    }

    /// <summary><c>y = body(x) + shortcut(x)</c>; the shortcut is the identity when it has no layers.</summary>
    public sealed class ResidualLayout : NodeLayout
    {
        internal ResidualLayout(string path, int position, TensorShape input, SequenceLayout body, SequenceLayout shortcut)
            : base(path, position, input, body.Output)
        {
            Body = body;
            Shortcut = shortcut;
        }

        public SequenceLayout Body { get; }
        /// <summary>The shortcut's layers; empty for the identity shortcut.</summary>
        public SequenceLayout Shortcut { get; }

        public string Describe() => "Residual " + Path + ": " + Input + " -> " + Output
            + (Shortcut.IsIdentity ? " (identity shortcut)" : " (shortcut of " + Shortcut.Nodes.Count.ToString(CultureInfo.InvariantCulture) + " layers)");
    }

    /// <summary><c>y = cat([branch(x) for each branch], dim=1)</c>; an empty branch is the identity.</summary>
    public sealed class ConcatLayout : NodeLayout
    {
        internal ConcatLayout(string path, int position, TensorShape input, TensorShape output, IReadOnlyList<SequenceLayout> branches)
            : base(path, position, input, output)
        {
            Branches = branches;
        }

        public IReadOnlyList<SequenceLayout> Branches { get; }

        public string Describe()
        {
            var parts = new List<string>();
            foreach (var branch in Branches) parts.Add(branch.Output.Channels.ToString(CultureInfo.InvariantCulture));
            return "Concat " + Path + ": " + Input + " -> " + Output + " (channels " + string.Join(" + ", parts.ToArray()) + ")";
        }
    }

    /// <summary>A layer with its shapes and the places of its tensors.</summary>
    public sealed class LayerLayout : NodeLayout
    {
        internal LayerLayout(int index, string path, int position, LayerSpec spec, TensorShape input, TensorShape output)
            : base(path, position, input, output)
        {
            Index = index;
            Spec = spec;
        }

        /// <summary>The layer's index among all layers of the network, in <c>state_dict</c> (depth-first) order.</summary>
        public int Index { get; }
        public LayerSpec Spec { get; }
        public LayerKind Kind => Spec.Kind;
        public int ParameterOffset { get; internal set; }
        public int ParameterCount { get; internal set; }
        public int BufferOffset { get; internal set; }
        public int BufferCount { get; internal set; }
        /// <summary>Index of this layer's <c>num_batches_tracked</c> counter, or -1.</summary>
        public int CounterIndex { get; internal set; } = -1;
        public IReadOnlyList<TensorEntry> Tensors { get; internal set; } = Array.Empty<TensorEntry>();
        /// <summary>Multiply-adds (or comparable operations) of one sample through this layer.</summary>
        public long MultiplyAdds => LayerRules.For(Kind).MultiplyAdds(Spec, Input, Output);
        /// <summary>Bytes of this layer's <c>state_dict</c> entries: float32 parameters and running statistics, 8 per <c>num_batches_tracked</c>.</summary>
        public long ParameterBytes => 4L * ParameterCount + 4L * BufferCount + (CounterIndex >= 0 ? 8 : 0);
        /// <summary>Bytes of this layer's output for one sample (float32).</summary>
        public long ActivationBytes => 4L * Output.Length;
        /// <summary>Rows of the network input that one output cell of this layer depends on (at most the input's height).</summary>
        public int ReceptiveHeight { get; internal set; } = 1;
        /// <summary>Columns of the network input that one output cell of this layer depends on (at most the input's width).</summary>
        public int ReceptiveWidth { get; internal set; } = 1;
        /// <summary>The receptive field as <c>HxW</c>.</summary>
        public string ReceptiveField => ReceptiveHeight.ToString(CultureInfo.InvariantCulture) + "x" + ReceptiveWidth.ToString(CultureInfo.InvariantCulture);

        /// <summary>PyTorch's module name: Conv2d, MaxPool2d, BatchNorm2d, BatchNorm1d, ...</summary>
        public string TorchName => ShapeInference.TorchName(Spec.Kind, Input.IsSpatial);

        /// <summary>The readable header of this layer, e.g. <c>Conv2d #0: 1x28x28 -> 6x28x28 (k=5, s=1, p=2), 156 params</c>.</summary>
        public string Describe()
        {
            var c = CultureInfo.InvariantCulture;
            string args = LayerRules.For(Kind).Arguments(Spec);
            string parameters = ParameterCount > 0 ? ", " + ParameterCount.ToString("N0", c) + " params" : "";
            string where = Path == Index.ToString(c) ? "" : " (" + Path + ")";
            return TorchName + " #" + Index.ToString(c) + where + ": " + Input + " -> " + Output + (args.Length > 0 ? " (" + args + ")" : "") + parameters;
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
        TooLarge,
        /// <summary>A LeakyReLU negative slope that is NaN or infinite.</summary>
        NonFiniteSlope,
        /// <summary>A block marker out of place: [Shortcut] outside a residual, [Branch] outside a concat, [End] with nothing open.</summary>
        UnbalancedBlock,
        /// <summary>A block never closed by [End] (the same diagnostic as <see cref="UnbalancedBlock"/>; kept apart so the code fix that adds [End] knows it applies).</summary>
        UnclosedBlock,
        /// <summary>A residual whose body output differs from its shortcut output (the identity's when it has none).</summary>
        ResidualShapeMismatch,
        /// <summary>Concatenated branches whose outputs differ in height or width (or mix vectors and feature maps).</summary>
        ConcatShapeMismatch,
        /// <summary>Groups that do not divide the input or output channels.</summary>
        GroupsDoNotDivide,
        /// <summary>A transposed convolution's output padding not smaller than its stride.</summary>
        OutputPaddingTooLarge,
    }

    /// <summary>
    /// A problem found by shape inference. <see cref="LayerIndex"/> is the position of the offending attribute among
    /// the layer and marker attributes (-1 for the network itself); <see cref="Argument"/> names the offending
    /// attribute argument (<c>Padding</c>, <c>kernelSize</c>, ...) or is null when the whole attribute is at fault.
    /// </summary>
    public readonly record struct ShapeIssue(ShapeIssueKind Kind, int LayerIndex, string? Argument, string Message, bool IsError);

    /// <summary>The result of shape inference: the tree of nodes, every layer's shapes and tensor places, and any issues.</summary>
    public sealed class NetworkLayout
    {
        internal NetworkLayout(TensorShape input, SequenceLayout root, IReadOnlyList<LayerLayout> layers, IReadOnlyList<ShapeIssue> issues,
            int parameterCount, int bufferCount, int counterCount)
        {
            Input = input;
            Root = root;
            Layers = layers;
            Issues = issues;
            ParameterCount = parameterCount;
            BufferCount = bufferCount;
            CounterCount = counterCount;
            var tensors = new List<TensorEntry>();
            foreach (var layer in layers) tensors.AddRange(layer.Tensors);
            Tensors = tensors;
            var field = ReceptiveFieldOf(root, new Field(1, 1, 1, 1));
            ReceptiveHeight = input.Height <= 0 ? 0 : field.SpanHeight >= input.Height ? input.Height : Math.Max(1, (int)Math.Ceiling(field.SpanHeight - 1e-9));
            ReceptiveWidth = input.Width <= 0 ? 0 : field.SpanWidth >= input.Width ? input.Width : Math.Max(1, (int)Math.Ceiling(field.SpanWidth - 1e-9));
        }

        /// <summary>A receptive field in network-input cells and the step, in input cells, between neighbouring cells of a tensor.</summary>
        private readonly record struct Field(double SpanHeight, double SpanWidth, double StepHeight, double StepWidth);

        private Field ReceptiveFieldOf(SequenceLayout sequence, Field field)
        {
            foreach (var node in sequence.Nodes)
            {
                switch (node)
                {
                    case LayerLayout layer:
                    {
                        var window = LayerRules.For(layer.Kind).Window(layer.Spec, layer.Input, layer.Output);
                        field = new Field(field.SpanHeight + (window.SpanHeight - 1) * field.StepHeight, field.SpanWidth + (window.SpanWidth - 1) * field.StepWidth,
                            field.StepHeight * window.StepHeight, field.StepWidth * window.StepWidth);
                        layer.ReceptiveHeight = Clamp(field.SpanHeight, Input.Height);
                        layer.ReceptiveWidth = Clamp(field.SpanWidth, Input.Width);
                        break;
                    }
                    case ResidualLayout residual:
                        field = Widest(field, new[] { residual.Body, residual.Shortcut });
                        break;
                    case ConcatLayout concat:
                        field = Widest(field, concat.Branches);
                        break;
                }
            }
            return field;

            Field Widest(Field input, IReadOnlyList<SequenceLayout> parts)
            {
                Field? widest = null;
                foreach (var part in parts)
                {
                    var f = ReceptiveFieldOf(part, input);
                    widest = widest is not { } w ? f : new Field(Math.Max(w.SpanHeight, f.SpanHeight), Math.Max(w.SpanWidth, f.SpanWidth), Math.Max(w.StepHeight, f.StepHeight), Math.Max(w.StepWidth, f.StepWidth));
                }
                return widest ?? input;
            }

            static int Clamp(double span, int size) => span >= size ? size : Math.Max(1, (int)Math.Ceiling(span - 1e-9));
        }

        public TensorShape Input { get; }
        /// <summary>The network as a tree: its modules, with residual and concatenation blocks holding their sequences.</summary>
        public SequenceLayout Root { get; }
        /// <summary>Every layer (blocks' layers included), depth-first in <c>state_dict</c> order; all of them when <see cref="HasErrors"/> is false.</summary>
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

        /// <summary>Whether the network is a plain sequence of layers (no residual or concatenation blocks).</summary>
        public bool IsSequential
        {
            get
            {
                foreach (var node in Root.Nodes) if (node is not LayerLayout) return false;
                return true;
            }
        }

        public TensorShape Output => Root.Output;
        /// <summary>Trainable parameters (the torchinfo "Total params").</summary>
        public int ParameterCount { get; }
        /// <summary>Floats of batch-norm running statistics.</summary>
        public int BufferCount { get; }
        /// <summary>Batch-norm <c>num_batches_tracked</c> counters.</summary>
        public int CounterCount { get; }
        /// <summary>The <c>state_dict</c> entries, in PyTorch's order.</summary>
        public IReadOnlyList<TensorEntry> Tensors { get; }

        /// <summary>Multiply-adds of one sample through the whole network.</summary>
        public long MultiplyAdds
        {
            get
            {
                long total = 0;
                foreach (var layer in Layers) total += layer.MultiplyAdds;
                return total;
            }
        }

        /// <summary>Bytes of the whole <c>state_dict</c>: parameters and running statistics as float32, 8 per counter.</summary>
        public long ParameterBytes => 4L * ParameterCount + 4L * BufferCount + 8L * CounterCount;
        /// <summary>Bytes of every layer's output for one sample, as if none were shared (float32).</summary>
        public long ActivationBytes
        {
            get
            {
                long total = 0;
                foreach (var layer in Layers) total += layer.ActivationBytes;
                return total;
            }
        }
        /// <summary>Rows of the network input one output cell depends on.</summary>
        public int ReceptiveHeight { get; }
        /// <summary>Columns of the network input one output cell depends on.</summary>
        public int ReceptiveWidth { get; }

        /// <summary>
        /// The layer table in torchinfo's layout: blocks as rows of their own, their layers indented under them; with the
        /// cost model per layer (parameter bytes, output bytes per sample, multiply-adds, receptive field) and in total.
        /// <paramref name="workspaceFloatsPerSample"/> is the execution plan's activation floats per sample (the generator
        /// knows it; a negative value leaves the line out).
        /// </summary>
        public string FormatTable(string modelName, long workspaceFloatsPerSample = -1)
        {
            const int nameWidth = 40, keyWidth = 16, shapeWidth = 20, paramWidth = 11, bytesWidth = 13, addsWidth = 14;
            string rule = new string('=', 136);
            var c = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append(rule).Append('\n');
            sb.Append(Pad("Layer (type:depth-idx)", nameWidth)).Append(Pad("Key", keyWidth)).Append(Pad("Output Shape", shapeWidth)).Append(Pad("Param #", paramWidth))
                .Append(Pad("Param bytes", bytesWidth)).Append(Pad("Output bytes", bytesWidth)).Append(Pad("Mult-Adds", addsWidth)).Append("Receptive").Append('\n');
            sb.Append(rule).Append('\n');
            sb.Append(Pad(modelName, nameWidth)).Append(Pad("", keyWidth)).Append(Pad(Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth))
                .Append(Pad("--", bytesWidth)).Append(Pad("--", bytesWidth)).Append(Pad("--", addsWidth)).Append("--").Append('\n');
            var counters = new Dictionary<int, int>();
            AppendSequence(Root, 1);
            sb.Append(rule).Append('\n');
            sb.Append("Key: the state_dict prefix (0.weight, 3.body.0.weight); diagnostics name layers by attribute position (\"layer 0\"), the same number in a plain sequence.").Append('\n');
            sb.Append(rule).Append('\n');
            sb.Append("Total params: ").Append(ParameterCount.ToString("N0", c)).Append('\n');
            sb.Append("Trainable params: ").Append(ParameterCount.ToString("N0", c)).Append('\n');
            sb.Append("Non-trainable params: 0").Append('\n');
            sb.Append("Total mult-adds: ").Append(MultiplyAdds.ToString("N0", c)).Append('\n');
            sb.Append("Parameter bytes: ").Append(ParameterBytes.ToString("N0", c)).Append(" (float32 weights and running statistics)").Append('\n');
            sb.Append("Output bytes per sample: ").Append(ActivationBytes.ToString("N0", c)).Append(" (every layer's output, unshared)").Append('\n');
            if (workspaceFloatsPerSample >= 0)
                sb.Append("Peak workspace bytes per sample: ").Append((4 * workspaceFloatsPerSample).ToString("N0", c)).Append(" (the execution plan's activation arrays, shared by liveness)").Append('\n');
            sb.Append("Training adds: ").Append((4L * ParameterCount).ToString("N0", c)).Append(" bytes of parameter gradients per trainer thread, and the optimizer's state").Append('\n');
            sb.Append("Receptive field: ").Append(ReceptiveHeight.ToString(c)).Append('x').Append(ReceptiveWidth.ToString(c)).Append(" of the ").Append(Input.Height.ToString(c)).Append('x').Append(Input.Width.ToString(c)).Append(" input").Append('\n');
            sb.Append(rule);
            return sb.ToString();

            void AppendSequence(SequenceLayout sequence, int depth)
            {
                foreach (var node in sequence.Nodes)
                {
                    // torchinfo numbers the modules of each depth in order: 1-1, 1-2, ..., 2-1, ...
                    counters.TryGetValue(depth, out int count);
                    counters[depth] = ++count;
                    string tag = ": " + depth.ToString(c) + "-" + count.ToString(c);
                    string indent = new string(' ', 4 * (depth - 1)) + "\u251c\u2500";
                    switch (node)
                    {
                        case LayerLayout layer:
                        {
                            string parameters = layer.ParameterCount > 0 ? layer.ParameterCount.ToString("N0", c) : "--";
                            string bytes = layer.ParameterBytes > 0 ? layer.ParameterBytes.ToString("N0", c) : "--";
                            string adds = layer.MultiplyAdds > 0 ? layer.MultiplyAdds.ToString("N0", c) : "--";
                            sb.Append(Pad(indent + layer.TorchName + tag, nameWidth)).Append(Pad(layer.Path, keyWidth)).Append(Pad(layer.Output.ToTorchString(), shapeWidth)).Append(Pad(parameters, paramWidth))
                                .Append(Pad(bytes, bytesWidth)).Append(Pad(layer.ActivationBytes.ToString("N0", c), bytesWidth)).Append(Pad(adds, addsWidth)).Append(layer.ReceptiveField).Append('\n');
                            break;
                        }
                        case ResidualLayout residual:
                            sb.Append(Pad(indent + "Residual" + tag, nameWidth)).Append(Pad(residual.Path, keyWidth)).Append(Pad(residual.Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth))
                                .Append(Pad("--", bytesWidth)).Append(Pad((4L * residual.Output.Length).ToString("N0", c), bytesWidth)).Append(Pad("--", addsWidth)).Append("--").Append('\n');
                            AppendSequence(residual.Body, depth + 1);
                            AppendSequence(residual.Shortcut, depth + 1);
                            break;
                        case ConcatLayout concat:
                            sb.Append(Pad(indent + "Concat" + tag, nameWidth)).Append(Pad(concat.Path, keyWidth)).Append(Pad(concat.Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth))
                                .Append(Pad("--", bytesWidth)).Append(Pad((4L * concat.Output.Length).ToString("N0", c), bytesWidth)).Append(Pad("--", addsWidth)).Append("--").Append('\n');
                            foreach (var branch in concat.Branches) AppendSequence(branch, depth + 1);
                            break;
                    }
                }
            }

            static string Pad(string text, int width) => text.Length >= width ? text + " " : text.PadRight(width);
        }
    }

    /// <summary>
    /// Shape inference: from the declared layers and block markers to the tree, shapes, tensor places and issues.
    /// Pure; never throws.
    /// </summary>
    public static class ShapeInference
    {
        /// <summary>Activations, parameter blocks and every intermediate stay below this many elements.</summary>
        public const long MaxElements = 1L << 28;

        public static string TorchName(LayerKind kind, bool spatialInput) => LayerRules.For(kind).TorchName(spatialInput);

        public static NetworkLayout Infer(TensorShape input, IReadOnlyList<LayerSpec> layers)
        {
            var state = new InferenceState(layers);
            var c = CultureInfo.InvariantCulture;
            var empty = new SequenceLayout("", input, Array.Empty<NodeLayout>());

            if (input.Channels <= 0 || input.Height <= 0 || input.Width <= 0)
            {
                string arg = input.Channels <= 0 ? "channels" : input.Height <= 0 ? "height" : "width";
                state.Issues.Add(new ShapeIssue(ShapeIssueKind.NonPositiveInput, -1, arg,
                    "Network input must have positive channels, height and width; got " + input.Channels.ToString(c) + "x" + input.Height.ToString(c) + "x" + input.Width.ToString(c) + " ([Network(channels, height, width)])", true));
                return state.Result(input, empty);
            }
            if ((long)input.Channels * input.Height * input.Width > MaxElements)
            {
                state.Issues.Add(new ShapeIssue(ShapeIssueKind.TooLarge, -1, null, "Network input " + input + " has more than " + MaxElements.ToString("N0", c) + " elements", true));
                return state.Result(input, empty);
            }
            if (layers.Count == 0)
            {
                state.Issues.Add(new ShapeIssue(ShapeIssueKind.NoLayers, -1, null, "Network has no layers: add layer attributes such as [Conv2d(6, 5)] or [Linear(10)] after [Network]", true));
                return state.Result(input, empty);
            }

            var root = state.Sequence("", input, topLevel: true);
            if (root is null) return state.Result(input, empty);
            if (state.Cursor < layers.Count && !state.Failed)
            {
                // Only an [End], [Shortcut] or [Branch] with no block open stops the top-level sequence early.
                var marker = layers[state.Cursor];
                state.Fail(ShapeIssueKind.UnbalancedBlock, state.Cursor, null,
                    "[" + marker.Kind + "] at attribute " + state.Cursor.ToString(c) + " has no open block: "
                    + (marker.Kind == LayerKind.Shortcut ? "[Shortcut] belongs inside [Residual] ... [End]" : marker.Kind == LayerKind.Branch ? "[Branch] belongs inside [Concat] ... [End]" : "[End] closes a [Residual] or [Concat]"));
                return state.Result(input, root);
            }
            if (state.Failed) return state.Result(input, root);

            // Softmax anywhere but at the very end hands probabilities to what follows.
            if (state.LastSoftmax is { } softmax && !(root.Nodes.Count > 0 && root.Nodes[root.Nodes.Count - 1] == softmax))
                state.Issues.Add(new ShapeIssue(ShapeIssueKind.SoftmaxNotLast, softmax.Position, null,
                    "Softmax (layer " + softmax.Position.ToString(c) + (softmax.Path == softmax.Position.ToString(c) ? "" : ", " + softmax.Path) + ") is not the last layer; layers after it see probabilities, not logits (put [Softmax] last, or leave it out: the trainer's cross-entropy applies softmax itself)", false));
            return state.Result(input, root);
        }

        /// <summary>The walk over the attribute list: a cursor, the issues, and the running tensor offsets.</summary>
        internal sealed class InferenceState
        {
            private readonly IReadOnlyList<LayerSpec> _specs;
            public readonly List<ShapeIssue> Issues = new();
            public readonly List<LayerLayout> Layers = new();
            public int Cursor;
            public bool Failed;
            public LayerLayout? LastSoftmax;
            private int _parameters, _buffers, _counters;

            public InferenceState(IReadOnlyList<LayerSpec> specs) => _specs = specs;

            public NetworkLayout Result(TensorShape input, SequenceLayout root) =>
                new(input, root, Layers, Issues, _parameters, _buffers, _counters);

            public void Fail(ShapeIssueKind kind, int position, string? argument, string message)
            {
                Issues.Add(new ShapeIssue(kind, position, argument, message, true));
                Failed = true;
            }

            /// <summary>
            /// Reads nodes until a marker that ends the sequence ([Shortcut], [Branch], [End]) or the end of the list.
            /// Null when an error stopped inference (the error is recorded).
            /// </summary>
            public SequenceLayout? Sequence(string prefix, TensorShape input, bool topLevel)
            {
                var c = CultureInfo.InvariantCulture;
                var nodes = new List<NodeLayout>();
                var shape = input;
                while (Cursor < _specs.Count)
                {
                    var spec = _specs[Cursor];
                    if (spec.Kind is LayerKind.Shortcut or LayerKind.Branch or LayerKind.End) break;
                    int position = Cursor;
                    string path = prefix + nodes.Count.ToString(c);
                    NodeLayout? node = spec.Kind switch
                    {
                        LayerKind.Residual => ResidualBlock(path, position, shape),
                        LayerKind.Concat => ConcatBlock(path, position, shape),
                        _ => Layer(path, position, spec, shape),
                    };
                    if (node is null) return null;
                    nodes.Add(node);
                    shape = node.Output;
                }
                return new SequenceLayout(prefix, input, nodes);
            }

            private LayerLayout? Layer(string path, int position, LayerSpec spec, TensorShape shape)
            {
                var c = CultureInfo.InvariantCulture;
                Cursor++;
                var rule = LayerRules.For(spec.Kind);
                int index = Layers.Count;
                string where = rule.TorchName(shape.IsSpatial) + " (layer " + position.ToString(c) + (path == position.ToString(c) ? "" : ", " + path) + ")";
                var context = new RuleContext(this, position, where);
                var output = rule.Infer(spec, shape, context);
                if (output is null) { Failed = true; return null; }
                if ((long)output.Value.Channels * output.Value.Height * output.Value.Width > MaxElements)
                {
                    Fail(ShapeIssueKind.TooLarge, position, null, where + " is too large: its output " + output.Value + " has more than " + MaxElements.ToString("N0", c) + " elements");
                    return null;
                }

                var layout = new LayerLayout(index, path, position, spec, shape, output.Value);
                if (!AssignTensors(layout, rule))
                {
                    Fail(ShapeIssueKind.TooLarge, position, null, where + " brings the parameter count past " + MaxElements.ToString("N0", c));
                    return null;
                }
                Layers.Add(layout);
                if (spec.Kind == LayerKind.Softmax) LastSoftmax = layout;
                return layout;
            }

            private ResidualLayout? ResidualBlock(string path, int position, TensorShape input)
            {
                var c = CultureInfo.InvariantCulture;
                Cursor++;
                var body = Sequence(path + ".body.", input, topLevel: false);
                if (body is null) return null;
                SequenceLayout shortcut = new(path + ".shortcut.", input, Array.Empty<NodeLayout>());
                int shortcutPosition = -1;
                if (Cursor < _specs.Count && _specs[Cursor].Kind == LayerKind.Shortcut)
                {
                    shortcutPosition = Cursor;
                    Cursor++;
                    var read = Sequence(path + ".shortcut.", input, topLevel: false);
                    if (read is null) return null;
                    shortcut = read;
                }
                if (!Close(position, "Residual")) return null;
                if (body.IsIdentity)
                {
                    Fail(ShapeIssueKind.UnbalancedBlock, position, null, "Residual " + path + " has no layers in its body: put the layers of the block between [Residual] and [End] (or [Shortcut])");
                    return null;
                }
                if (body.Output != shortcut.Output)
                {
                    string message = shortcut.IsIdentity
                        ? "Residual " + path + " adds its input " + input + " to its body's output " + body.Output + ": the body changes the shape, so give it a [Shortcut] with layers that map " + input + " to " + body.Output + " (e.g. a 1x1 convolution with the body's stride)"
                        : "Residual " + path + " adds its body's output " + body.Output + " to its shortcut's output " + shortcut.Output + ": they must have the same shape";
                    Fail(ShapeIssueKind.ResidualShapeMismatch, shortcut.IsIdentity ? position : shortcutPosition, null, message);
                    return null;
                }
                return new ResidualLayout(path, position, input, body, shortcut);
            }

            private ConcatLayout? ConcatBlock(string path, int position, TensorShape input)
            {
                var c = CultureInfo.InvariantCulture;
                Cursor++;
                var branches = new List<SequenceLayout>();
                var branchPositions = new List<int>();
                if (Cursor >= _specs.Count || _specs[Cursor].Kind != LayerKind.Branch)
                {
                    Fail(ShapeIssueKind.UnbalancedBlock, position, null, "Concat " + path + " must start each branch with [Branch]: write [Concat], then [Branch] and its layers for each branch (a [Branch] with no layers is the identity), then [End]");
                    return null;
                }
                while (Cursor < _specs.Count && _specs[Cursor].Kind == LayerKind.Branch)
                {
                    branchPositions.Add(Cursor);
                    Cursor++;
                    var branch = Sequence(path + ".branches." + branches.Count.ToString(c) + ".", input, topLevel: false);
                    if (branch is null) return null;
                    branches.Add(branch);
                }
                if (!Close(position, "Concat")) return null;

                var first = branches[0].Output;
                long channels = 0;
                for (int k = 0; k < branches.Count; k++)
                {
                    var o = branches[k].Output;
                    if (o.IsSpatial != first.IsSpatial || o.Height != first.Height || o.Width != first.Width)
                    {
                        Fail(ShapeIssueKind.ConcatShapeMismatch, branchPositions[k], null,
                            "Concat " + path + ": branch " + k.ToString(c) + " gives " + o + " but branch 0 gives " + first
                            + "; concatenation over channels needs the same height and width in every branch");
                        return null;
                    }
                    channels += o.Channels;
                }
                if (channels * first.Height * first.Width > MaxElements)
                {
                    Fail(ShapeIssueKind.TooLarge, position, null, "Concat " + path + " is too large: more than " + MaxElements.ToString("N0", c) + " elements");
                    return null;
                }
                var output = first.IsSpatial ? TensorShape.Spatial((int)channels, first.Height, first.Width) : TensorShape.Vector((int)channels);
                return new ConcatLayout(path, position, input, output, branches);
            }

            /// <summary>Expects the [End] of the block opened at <paramref name="position"/>.</summary>
            private bool Close(int position, string block)
            {
                var c = CultureInfo.InvariantCulture;
                if (Cursor < _specs.Count && _specs[Cursor].Kind == LayerKind.End)
                {
                    Cursor++;
                    return true;
                }
                if (Cursor < _specs.Count)
                {
                    string kind = _specs[Cursor].Kind.ToString();
                    Fail(ShapeIssueKind.UnbalancedBlock, Cursor, null, "[" + kind + "] at attribute " + Cursor.ToString(c) + " does not belong to the " + block + " opened at attribute " + position.ToString(c)
                        + (block == "Residual" ? ": a residual has a body, at most one [Shortcut], and [End]" : ": a concatenation has [Branch]es, then [End]"));
                    return false;
                }
                Fail(ShapeIssueKind.UnclosedBlock, position, null, "[" + block + "] at attribute " + position.ToString(c) + " is never closed: add [End] after its last layer");
                return false;
            }

            private bool AssignTensors(LayerLayout layout, LayerRule rule)
            {
                var tensors = new List<TensorEntry>();
                layout.ParameterOffset = _parameters;
                layout.BufferOffset = _buffers;
                long parameters = _parameters;
                foreach (var t in rule.Tensors(layout.Spec, layout.Input))
                {
                    long length = 1;
                    foreach (int d in t.Shape) length *= d;
                    if (t.Block == TensorBlock.Parameters && parameters + length > MaxElements) return false;
                    int offset = t.Block switch
                    {
                        TensorBlock.Parameters => _parameters,
                        TensorBlock.Buffers => _buffers,
                        _ => _counters,
                    };
                    var entry = new TensorEntry(layout.Path + "." + t.Name, t.Block, offset, t.Shape, t.Init, t.FanIn);
                    tensors.Add(entry);
                    switch (t.Block)
                    {
                        case TensorBlock.Parameters: _parameters += entry.Length; parameters += entry.Length; break;
                        case TensorBlock.Buffers: _buffers += entry.Length; break;
                        default: layout.CounterIndex = _counters; _counters += 1; break;
                    }
                }
                layout.ParameterCount = _parameters - layout.ParameterOffset;
                layout.BufferCount = _buffers - layout.BufferOffset;
                layout.Tensors = tensors;
                return true;
            }
        }

        /// <summary>What a <see cref="LayerRule"/> sees while inferring one layer: where it is, and how to report.</summary>
        public sealed class RuleContext
        {
            private readonly InferenceState _state;

            internal RuleContext(InferenceState state, int position, string where)
            {
                _state = state;
                Position = position;
                Where = where;
            }

            /// <summary>The layer's attribute position.</summary>
            public int Position { get; }
            /// <summary>How messages name the layer: <c>Conv2d (layer 3)</c>.</summary>
            public string Where { get; }

            /// <summary>Records an error on <paramref name="argument"/> (null: the whole attribute) and returns null for the output shape.</summary>
            public TensorShape? Fail(ShapeIssueKind kind, string? argument, string message)
            {
                _state.Issues.Add(new ShapeIssue(kind, Position, argument, message, true));
                return null;
            }

            /// <summary>Records a warning.</summary>
            public void Warn(ShapeIssueKind kind, string? argument, string message) =>
                _state.Issues.Add(new ShapeIssue(kind, Position, argument, message, false));
        }
    }
}
