using System;
using System.ComponentModel;
using System.Globalization;
using System.Threading;
using CnnGen.Shapes;

namespace CnnGen
{
    /// <summary>
    /// What every generated network offers to generic code (weight files, training loops, tests).
    /// The generated class has typed members of its own as well; this interface is the common ground.
    /// </summary>
    public interface INetwork
    {
        /// <summary>Shapes, tensor names and offsets, from the same shape inference the generator ran.</summary>
        NetworkLayout Layout { get; }

        /// <summary>All trainable parameters in <c>state_dict</c> order.</summary>
        Span<float> Parameters { get; }

        /// <summary>Batch-norm running means and variances in <c>state_dict</c> order.</summary>
        Span<float> Buffers { get; }

        /// <summary>Batch-norm <c>num_batches_tracked</c> counters.</summary>
        Span<long> Counters { get; }

        /// <summary>
        /// Tells the network its parameters or buffers were written, so that evaluation recomputes what it derives from them
        /// (batch-norm folded into convolutions). Taking <see cref="Parameters"/> or <see cref="Buffers"/> already counts as a
        /// change; call this after writing through a span taken before an evaluation <c>Forward</c>.
        /// </summary>
        void ParametersChanged() { }

        /// <summary>A workspace for batches of up to <paramref name="batchCapacity"/> samples; one per thread.</summary>
        NetworkWorkspace CreateWorkspace(int batchCapacity = 1, ulong dropoutSeed = 0);

        /// <summary>
        /// Runs a batch (NCHW) through the network. In training mode batch-norm uses the batch's statistics and
        /// updates its running statistics, and dropout draws its mask from the workspace's random stream.
        /// </summary>
        void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace, bool training = false);

        /// <summary>
        /// An evaluation-mode forward pass (batch-norm with its running statistics, dropout the identity, nothing updated) that
        /// keeps what <see cref="Backward(ReadOnlySpan{float}, Span{float}, NetworkWorkspace, Span{float})"/> needs, so that gradients can be taken in evaluation mode: saliency maps (the input
        /// gradient), Grad-CAM (a layer's output and its gradient). The outputs equal <see cref="Forward"/>'s in evaluation mode.
        /// </summary>
        void ForwardForGradients(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace) =>
            throw new NotSupportedException(GetType().Name + " does not offer a forward pass for gradients in evaluation mode.");

        /// <summary>
        /// Backpropagates d loss / d output through the last training forward on <paramref name="workspace"/>: parameter gradients
        /// are added to <paramref name="parameterGradients"/> (laid out like <see cref="Parameters"/>), the input gradient is
        /// written to <paramref name="inputGradient"/> when it is not empty.
        /// </summary>
        void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient = default);

        /// <summary>
        /// <see cref="Backward(ReadOnlySpan{float}, Span{float}, NetworkWorkspace, Span{float})"/>, also writing the gradient of
        /// layer <paramref name="gradientOfLayer"/>'s output (depth-first index, batch x its output length) to <paramref name="layerGradient"/>.
        /// </summary>
        void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient,
            int gradientOfLayer, Span<float> layerGradient) =>
            throw new NotSupportedException(GetType().Name + " does not report a layer's gradient.");
    }

    /// <summary>
    /// Activations (and, for training, what the backward pass needs) for one thread. Weights live in the
    /// network and are shared; each thread running the network needs its own workspace.
    /// </summary>
    public abstract class NetworkWorkspace
    {
        protected NetworkWorkspace(int batchCapacity, ulong dropoutSeed)
        {
            if (batchCapacity <= 0) throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity, "A workspace needs room for at least one sample.");
            BatchCapacity = batchCapacity;
            DropoutRandom = new CnnRandom(dropoutSeed);
        }

        /// <summary>A workspace of a network with this layout: its backward pass can skip what a mask freezes (<see cref="ApplyMask"/>).</summary>
        protected NetworkWorkspace(int batchCapacity, ulong dropoutSeed, NetworkLayout layout) : this(batchCapacity, dropoutSeed)
        {
            _layout = layout ?? throw new ArgumentNullException(nameof(layout));
        }

        private readonly NetworkLayout? _layout;
        private Training.GradientFlow? _gradientFlow;
        private Training.ParameterMask? _mask;
        private int _maskVersion;

        /// <summary>
        /// What the backward pass computes per layer: everything until a mask is applied, then what the mask leaves trainable
        /// (frozen layers get no parameter gradient, the pass stops below the lowest trainable layer).
        /// </summary>
        public Training.GradientFlow GradientFlow =>
            _gradientFlow ??= new Training.GradientFlow(_layout ?? throw new NotSupportedException(GetType().Name + " does not know its network's layout."));

        /// <summary>
        /// Makes the following passes on this workspace skip what <paramref name="mask"/> freezes (null: nothing), and keep
        /// frozen batch-norm in evaluation mode when the mask says so. Cheap when the mask has not changed since the last
        /// call (the trainer calls it before every step); allocates only when it has.
        /// </summary>
        public void ApplyMask(Training.ParameterMask? mask)
        {
            if (ReferenceEquals(mask, _mask) && (mask is null || mask.Version == _maskVersion)) return;
            if (_layout is null)
            {
                if (mask is null) return;
                throw new NotSupportedException(GetType().Name + " does not know its network's layout, so it cannot skip frozen layers.");
            }
            _gradientFlow = new Training.GradientFlow(_layout, mask);
            _mask = mask;
            _maskVersion = mask?.Version ?? 0;
        }

        /// <summary>The largest batch this workspace holds.</summary>
        public int BatchCapacity { get; }

        /// <summary>The stream dropout masks are drawn from, layer by layer, sample by sample, element by element.</summary>
        public CnnRandom DropoutRandom;

        private int _inUse;

        /// <summary>
        /// The team whose threads share training-mode batch-norm statistics with this workspace (a <see cref="Training.Trainer"/>
        /// splitting a batch across threads), or null: batch-norm uses the statistics of this workspace's own batch.
        /// </summary>
        public Training.BatchStatisticsTeam? BatchStatisticsTeam { get; private set; }

        /// <summary>This workspace's thread in <see cref="BatchStatisticsTeam"/>.</summary>
        public int BatchStatisticsMember { get; private set; }

        internal void JoinTeam(Training.BatchStatisticsTeam team, int member)
        {
            BatchStatisticsTeam = team;
            BatchStatisticsMember = member;
        }

        /// <summary>
        /// Marks the workspace as used by one <c>Forward</c> or <c>Backward</c> call; the generated code calls it first and
        /// <see cref="ExitUse"/> in a <c>finally</c>. A second call while one is running (two threads sharing a workspace) throws
        /// instead of silently mixing their activations. One interlocked operation; allocates nothing.
        /// </summary>
        /// <exception cref="InvalidOperationException">Another call is using this workspace.</exception>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void EnterUse()
        {
            if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0) ThrowInUse();
        }

        /// <summary>Releases the workspace taken by <see cref="EnterUse"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void ExitUse() => Volatile.Write(ref _inUse, 0);

        /// <summary>
        /// The output of layer <paramref name="layer"/> (depth-first index) for the samples of the last forward pass; throws
        /// <see cref="InvalidOperationException"/> for outputs not kept (fused away in evaluation, or sharing their array).
        /// </summary>
        public virtual ReadOnlySpan<float> LayerOutput(int layer) =>
            throw new NotSupportedException(GetType().Name + " does not expose layer outputs.");

        /// <summary>Whether a <c>Forward</c> or <c>Backward</c> call is using this workspace right now.</summary>
        public bool InUse => Volatile.Read(ref _inUse) != 0;

        private void ThrowInUse() =>
            throw new InvalidOperationException(
                $"This workspace ({GetType().FullName}) is already in use by another Forward or Backward call, probably on another thread. " +
                "A workspace holds one call's activations: give each thread its own (CreateWorkspace).");
    }

    /// <summary>Argument checks shared by generated code and the runtime, with messages that name expected and actual values.</summary>
    public static class NetworkChecks
    {
        public static void RequireLength(int actual, int expected, string parameterName)
        {
            if (actual != expected)
                throw new ArgumentException($"Expected a span of {expected} floats for '{parameterName}' but got {actual}.", parameterName);
        }

        public static void RequireBatch(int batchSize, int batchCapacity)
        {
            if (batchSize <= 0 || batchSize > batchCapacity)
                throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Batch size must be between 1 and the workspace's capacity {batchCapacity}.");
        }

        /// <summary>
        /// The workspace constructor's first check (generated code calls it before allocating): a workspace whose largest
        /// array holds <paramref name="batchCapacity"/> x <paramref name="floatsPerSample"/> floats must fit in one .NET array.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The capacity is not positive or too large; the message gives the largest that fits.</exception>
        public static void RequireCapacity(int batchCapacity, long floatsPerSample, string networkName)
        {
            var c = CultureInfo.InvariantCulture;
            if (batchCapacity <= 0)
                throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity, "A workspace needs room for at least one sample.");
            if (floatsPerSample <= 0) return;
            long largest = MaxBatchCapacity(floatsPerSample);
            if (batchCapacity > largest)
                throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity, string.Format(c,
                    "A batch capacity of {0:N0} is too large for {1}: its largest activation ({2:N0} floats per sample) would need {3:N0} floats in one array, and a .NET array holds at most {4:N0}. Use a capacity of at most {5:N0}.",
                    batchCapacity, networkName, floatsPerSample, (long)batchCapacity * floatsPerSample, Array.MaxLength, largest));
        }

        /// <summary>The largest batch capacity whose arrays of <paramref name="floatsPerSample"/> floats per sample fit in one array.</summary>
        public static int MaxBatchCapacity(long floatsPerSample) =>
            floatsPerSample <= 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, Array.MaxLength / floatsPerSample);

        /// <summary>Floats per sample of the largest batch-sized activation: the input or any layer's output.</summary>
        /// <summary>The layer exists and <paramref name="length"/> holds its output for the batch of the last forward.</summary>
        public static void RequireLayerGradient(NetworkLayout layout, int layer, int length, int batchSize)
        {
            if (layout is null) throw new ArgumentNullException(nameof(layout));
            if ((uint)layer >= (uint)layout.Layers.Count)
                throw new ArgumentOutOfRangeException(nameof(layer), layer, "The network has " + layout.Layers.Count.ToString(CultureInfo.InvariantCulture) + " layers (0 to " + (layout.Layers.Count - 1).ToString(CultureInfo.InvariantCulture) + ").");
            RequireLength(length, batchSize * layout.Layers[layer].Output.Length, "layerGradient");
        }

        public static long LargestSampleLength(NetworkLayout layout)
        {
            if (layout is null) throw new ArgumentNullException(nameof(layout));
            long largest = Math.Max(layout.Input.Length, layout.Output.Length);
            foreach (var layer in layout.Layers)
                largest = Math.Max(largest, Math.Max(layer.Input.Length, layer.Output.Length));
            return largest;
        }

        public static void RequireBlocks(NetworkLayout layout, int parameters, int buffers, int counters)
        {
            RequireLength(parameters, layout.ParameterCount, "parameters");
            RequireLength(buffers, layout.BufferCount, "buffers");
            if (counters != layout.CounterCount)
                throw new ArgumentException($"Expected {layout.CounterCount} batch-norm counters but got {counters}.", nameof(counters));
        }

        public static void RequireTrainingForward(int forwardBatchSize, bool forwardWasTraining)
        {
            if (forwardBatchSize == 0 || !forwardWasTraining)
                throw new InvalidOperationException("Backward needs a training-mode Forward (training: true) on this workspace first, and each forward allows one backward.");
        }

        /// <summary>PyTorch refuses to normalize a channel from one value in training mode; so do we.</summary>
        public static void RequireBatchStatistics(int valuesPerChannel, int layerIndex)
        {
            if (valuesPerChannel < 2)
                throw new ArgumentException($"BatchNorm (layer {layerIndex}) in training mode needs more than 1 value per channel; got {valuesPerChannel}. Use a larger batch or evaluation mode.");
        }
    }
}
