using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CnnGen.Shapes;

namespace CnnGen.Training
{
    /// <summary>
    /// Which parameter tensors of a network train and which are frozen, decided at run time (fine-tuning: freeze the
    /// early layers of a pre-trained network, train the rest). Give it to an optimizer (<see cref="Optimizer.Freeze"/>):
    /// a frozen tensor is never touched by a step (no gradient step, no weight decay, no momentum or Adam state change,
    /// as PyTorch skips parameters whose <c>requires_grad</c> is false), so it stays bit-identical through training.
    /// </summary>
    /// <remarks>
    /// A workspace given the mask (<see cref="NetworkWorkspace.ApplyMask"/>; the <see cref="Trainer"/> does it for its
    /// optimizer's mask before every step) makes the generated backward pass skip the frozen layers' parameter gradients and
    /// stop below the lowest trainable layer (<see cref="GradientFlow"/>). With <see cref="FreezeBatchNormStatistics"/>, a
    /// frozen batch-norm also stays in evaluation mode in training, as <c>module.eval()</c> on the frozen part does in PyTorch.
    /// </remarks>
    public sealed class ParameterMask
    {
        private readonly bool[] _frozenTensors;   // per entry of Layout.Tensors (only parameter entries may be true)
        private (int Offset, int Length)[] _trainable = Array.Empty<(int, int)>();
        private bool _freezeBatchNormStatistics;

        /// <summary>A mask over <paramref name="layout"/> with every parameter trainable.</summary>
        public ParameterMask(NetworkLayout layout)
        {
            Layout = layout ?? throw new ArgumentNullException(nameof(layout));
            _frozenTensors = new bool[layout.Tensors.Count];
            Rebuild();
        }

        /// <summary>A mask over <paramref name="network"/>'s layout with every parameter trainable.</summary>
        public ParameterMask(INetwork network) : this((network ?? throw new ArgumentNullException(nameof(network))).Layout)
        {
        }

        public NetworkLayout Layout { get; }

        /// <summary>Changes with every change of the mask, so a workspace knows when to recompute its <see cref="GradientFlow"/>.</summary>
        public int Version { get; private set; }

        /// <summary>
        /// Whether a batch-norm whose parameters are all frozen stays in evaluation mode during training: its training forward
        /// normalizes with the running statistics and updates neither them nor <c>num_batches_tracked</c>, and backward goes
        /// through those fixed statistics (PyTorch's fine-tuning practice: <c>module.eval()</c> on the frozen part). Off by
        /// default: a frozen batch-norm then still uses and updates batch statistics, as PyTorch does in <c>train()</c> mode.
        /// </summary>
        public bool FreezeBatchNormStatistics
        {
            get => _freezeBatchNormStatistics;
            set
            {
                _freezeBatchNormStatistics = value;
                Version++;
            }
        }

        /// <summary>Whether every parameter of <paramref name="layer"/> is frozen (false for a layer without parameters).</summary>
        public bool IsLayerFrozen(LayerLayout layer)
        {
            ArgumentNullException.ThrowIfNull(layer);
            if (layer.ParameterCount == 0) return false;
            foreach (var tensor in layer.Tensors)
                if (tensor.Block == TensorBlock.Parameters && tensor.Length > 0 && IsTrainable(tensor.Offset)) return false;
            return true;
        }

        /// <summary>Parameters a step may change.</summary>
        public int TrainableCount { get; private set; }

        /// <summary>Parameters no step changes.</summary>
        public int FrozenCount => Layout.ParameterCount - TrainableCount;

        /// <summary>Whether any parameter is frozen.</summary>
        public bool HasFrozen => FrozenCount > 0;

        /// <summary>The trainable parts of the parameter block as (offset, length), in order, adjacent tensors merged.</summary>
        public ReadOnlySpan<(int Offset, int Length)> TrainableRanges => _trainable;

        /// <summary>
        /// Freezes every parameter of top-level module <paramref name="layers"/> (layer i is module i of the equivalent
        /// <c>nn.Sequential</c>; a residual or concatenation block is frozen whole). A module without parameters (an
        /// activation, a pooling) is accepted and changes nothing.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">An index is not a module of the network; nothing changed.</exception>
        public ParameterMask FreezeLayers(params int[] layers) => SetLayers(layers, frozen: true);

        /// <summary>Makes every parameter of the given top-level modules trainable again.</summary>
        public ParameterMask UnfreezeLayers(params int[] layers) => SetLayers(layers, frozen: false);

        /// <summary>
        /// Freezes every parameter tensor whose <c>state_dict</c> key starts with <paramref name="keyPrefix"/>
        /// (<c>"3."</c>: module 3; <c>"3.body."</c>: a residual's body; <c>"0.weight"</c>: one tensor). Note that
        /// <c>"1"</c> matches <c>1.weight</c> and <c>10.weight</c>: end a module prefix with a dot.
        /// </summary>
        /// <exception cref="ArgumentException">No parameter tensor has a key with that prefix; nothing changed.</exception>
        public ParameterMask FreezePrefix(string keyPrefix) => SetPrefix(keyPrefix, frozen: true);

        /// <summary>Makes the parameter tensors under <paramref name="keyPrefix"/> trainable again.</summary>
        public ParameterMask UnfreezePrefix(string keyPrefix) => SetPrefix(keyPrefix, frozen: false);

        /// <summary>Makes every parameter trainable.</summary>
        public ParameterMask UnfreezeAll()
        {
            Array.Clear(_frozenTensors);
            Rebuild();
            return this;
        }

        /// <summary>Whether the tensor with this <c>state_dict</c> key is frozen (buffers and counters never train: false).</summary>
        public bool IsFrozen(string key)
        {
            for (int i = 0; i < Layout.Tensors.Count; i++)
                if (Layout.Tensors[i].Name == key) return _frozenTensors[i];
            throw new ArgumentException($"The network has no tensor '{key}'.", nameof(key));
        }

        /// <summary>Whether parameter <paramref name="index"/> of the parameter block is trainable.</summary>
        public bool IsTrainable(int index)
        {
            if ((uint)index >= (uint)Layout.ParameterCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"The network has {Layout.ParameterCount} parameters.");
            foreach (var (offset, length) in _trainable)
                if (index >= offset && index < offset + length) return true;
            return false;
        }

        /// <summary>The <c>state_dict</c> keys of the frozen tensors, in order.</summary>
        public IReadOnlyList<string> FrozenKeys
        {
            get
            {
                var keys = new List<string>();
                for (int i = 0; i < _frozenTensors.Length; i++) if (_frozenTensors[i]) keys.Add(Layout.Tensors[i].Name);
                return keys;
            }
        }

        /// <summary>Writes 0 over the frozen parts of a gradient block laid out like the parameters.</summary>
        public void ZeroFrozen(Span<float> gradients)
        {
            NetworkChecks.RequireLength(gradients.Length, Layout.ParameterCount, nameof(gradients));
            ZeroFrozen(gradients, 0);
        }

        /// <summary>
        /// Writes 0 over the frozen parameters of a part of a gradient block: <paramref name="part"/> holds the gradients of
        /// parameters <paramref name="start"/> on (a trainer's thread takes a range of the block).
        /// </summary>
        internal void ZeroFrozen(Span<float> part, int start)
        {
            int end = start + part.Length, next = start;
            foreach (var (offset, length) in _trainable)
            {
                if (offset >= end) break;
                if (offset > next) part.Slice(next - start, offset - next).Clear();
                next = Math.Max(next, offset + length);
            }
            if (next < end) part.Slice(next - start).Clear();
        }

        private ParameterMask SetLayers(int[] layers, bool frozen)
        {
            ArgumentNullException.ThrowIfNull(layers);
            int modules = Layout.Root.Nodes.Count;
            foreach (int layer in layers)
                if ((uint)layer >= (uint)modules)
                    throw new ArgumentOutOfRangeException(nameof(layers), layer, $"Layer {layer} is not a module of the network: its top-level modules are 0 to {modules - 1}.");
            foreach (int layer in layers)
            {
                string prefix = layer.ToString(CultureInfo.InvariantCulture) + ".";
                for (int i = 0; i < _frozenTensors.Length; i++)
                    if (Layout.Tensors[i].Block == TensorBlock.Parameters && Layout.Tensors[i].Name.StartsWith(prefix, StringComparison.Ordinal))
                        _frozenTensors[i] = frozen;
            }
            Rebuild();
            return this;
        }

        private ParameterMask SetPrefix(string keyPrefix, bool frozen)
        {
            ArgumentNullException.ThrowIfNull(keyPrefix);
            bool any = false;
            for (int i = 0; i < _frozenTensors.Length; i++)
                any |= Layout.Tensors[i].Block == TensorBlock.Parameters && Layout.Tensors[i].Name.StartsWith(keyPrefix, StringComparison.Ordinal);
            if (!any)
            {
                var names = new List<string>();
                foreach (var t in Layout.Tensors) if (t.Block == TensorBlock.Parameters) names.Add(t.Name);
                throw new ArgumentException($"No parameter tensor's key starts with '{keyPrefix}' (the parameters are {string.Join(", ", names)}).", nameof(keyPrefix));
            }
            for (int i = 0; i < _frozenTensors.Length; i++)
                if (Layout.Tensors[i].Block == TensorBlock.Parameters && Layout.Tensors[i].Name.StartsWith(keyPrefix, StringComparison.Ordinal))
                    _frozenTensors[i] = frozen;
            Rebuild();
            return this;
        }

        private void Rebuild()
        {
            var ranges = new List<(int Offset, int Length)>();
            int trainable = 0;
            for (int i = 0; i < _frozenTensors.Length; i++)
            {
                var t = Layout.Tensors[i];
                if (t.Block != TensorBlock.Parameters || _frozenTensors[i] || t.Length == 0) continue;
                trainable += t.Length;
                if (ranges.Count > 0 && ranges[^1].Offset + ranges[^1].Length == t.Offset)
                    ranges[^1] = (ranges[^1].Offset, ranges[^1].Length + t.Length);
                else
                    ranges.Add((t.Offset, t.Length));
            }
            _trainable = ranges.ToArray();
            TrainableCount = trainable;
            Version++;
        }

        /// <summary>
        /// The layer table in torchinfo's layout with this mask applied: a layer whose parameters are all frozen shows its
        /// count in parentheses (as torchinfo does for modules with <c>requires_grad=False</c>), a partly frozen one shows
        /// trainable/total, and the totals split trainable and non-trainable parameters. (The generated
        /// <c>LayerTable</c> is written at compile time and cannot know what is frozen at run time.)
        /// </summary>
        public string FormatTable(string modelName)
        {
            // Nothing frozen: the generated table itself (with its cost columns).
            if (FrozenCount == 0) return Layout.FormatTable(modelName);
            const int nameWidth = 46, shapeWidth = 22, paramWidth = 12;
            string rule = new string('=', 100);
            var c = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append(rule).Append('\n');
            sb.Append(Pad("Layer (type:depth-idx)", nameWidth)).Append(Pad("Output Shape", shapeWidth)).Append(Pad("Param #", paramWidth)).Append("Mult-Adds").Append('\n');
            sb.Append(rule).Append('\n');
            sb.Append(Pad(modelName, nameWidth)).Append(Pad(Layout.Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth)).Append("--").Append('\n');
            var counters = new Dictionary<int, int>();
            AppendSequence(Layout.Root, 1);
            sb.Append(rule).Append('\n');
            sb.Append("Total params: ").Append(Layout.ParameterCount.ToString("N0", c)).Append('\n');
            sb.Append("Trainable params: ").Append(TrainableCount.ToString("N0", c)).Append('\n');
            sb.Append("Non-trainable params: ").Append(FrozenCount.ToString("N0", c)).Append('\n');
            sb.Append("Total mult-adds: ").Append(Layout.MultiplyAdds.ToString("N0", c)).Append('\n');
            sb.Append(rule);
            return sb.ToString();

            void AppendSequence(SequenceLayout sequence, int depth)
            {
                foreach (var node in sequence.Nodes)
                {
                    counters.TryGetValue(depth, out int count);
                    counters[depth] = ++count;
                    string tag = ": " + depth.ToString(c) + "-" + count.ToString(c);
                    string indent = new string(' ', 4 * (depth - 1)) + "\u251c\u2500";
                    switch (node)
                    {
                        case LayerLayout layer:
                        {
                            int frozen = 0;
                            foreach (var t in layer.Tensors)
                                if (t.Block == TensorBlock.Parameters && IsFrozenEntry(t)) frozen += t.Length;
                            string parameters = layer.ParameterCount == 0 ? "--"
                                : frozen == 0 ? layer.ParameterCount.ToString("N0", c)
                                : frozen == layer.ParameterCount ? "(" + layer.ParameterCount.ToString("N0", c) + ")"
                                : (layer.ParameterCount - frozen).ToString("N0", c) + "/" + layer.ParameterCount.ToString("N0", c);
                            string adds = layer.MultiplyAdds > 0 ? layer.MultiplyAdds.ToString("N0", c) : "--";
                            sb.Append(Pad(indent + layer.TorchName + tag, nameWidth)).Append(Pad(layer.Output.ToTorchString(), shapeWidth)).Append(Pad(parameters, paramWidth)).Append(adds).Append('\n');
                            break;
                        }
                        case ResidualLayout residual:
                            sb.Append(Pad(indent + "Residual" + tag, nameWidth)).Append(Pad(residual.Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth)).Append("--").Append('\n');
                            AppendSequence(residual.Body, depth + 1);
                            AppendSequence(residual.Shortcut, depth + 1);
                            break;
                        case ConcatLayout concat:
                            sb.Append(Pad(indent + "Concat" + tag, nameWidth)).Append(Pad(concat.Output.ToTorchString(), shapeWidth)).Append(Pad("--", paramWidth)).Append("--").Append('\n');
                            foreach (var branch in concat.Branches) AppendSequence(branch, depth + 1);
                            break;
                    }
                }
            }

            static string Pad(string text, int width) => text.Length >= width ? text + " " : text.PadRight(width);
        }

        /// <summary>One line: "Trainable params: 59,786 of 61,706 (1,920 frozen: 0.weight, 0.bias, ...)".</summary>
        public override string ToString()
        {
            var c = CultureInfo.InvariantCulture;
            string text = "Trainable params: " + TrainableCount.ToString("N0", c) + " of " + Layout.ParameterCount.ToString("N0", c);
            return HasFrozen ? text + " (" + FrozenCount.ToString("N0", c) + " frozen: " + string.Join(", ", FrozenKeys) + ")" : text;
        }

        private bool IsFrozenEntry(TensorEntry entry)
        {
            for (int i = 0; i < Layout.Tensors.Count; i++)
                if (ReferenceEquals(Layout.Tensors[i], entry)) return _frozenTensors[i];
            return false;
        }
    }
}
