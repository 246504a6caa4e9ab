using System;
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

        /// <summary>A workspace for batches of up to <paramref name="batchCapacity"/> samples; one per thread.</summary>
        NetworkWorkspace CreateWorkspace(int batchCapacity = 1, ulong dropoutSeed = 0);

        /// <summary>
        /// Runs a batch (NCHW) through the network. In training mode batch-norm uses the batch's statistics and
        /// updates its running statistics, and dropout draws its mask from the workspace's random stream.
        /// </summary>
        void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace, bool training = false);

        /// <summary>
        /// Backpropagates d loss / d output through the last training forward on <paramref name="workspace"/>: parameter gradients
        /// are added to <paramref name="parameterGradients"/> (laid out like <see cref="Parameters"/>), the input gradient is
        /// written to <paramref name="inputGradient"/> when it is not empty.
        /// </summary>
        void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient = default);
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

        /// <summary>The largest batch this workspace holds.</summary>
        public int BatchCapacity { get; }

        /// <summary>The stream dropout masks are drawn from, layer by layer, sample by sample, element by element.</summary>
        public CnnRandom DropoutRandom;
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
