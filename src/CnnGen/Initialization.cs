using System;
using CnnGen.Shapes;

namespace CnnGen
{
    /// <summary>PyTorch's default initialization, drawn from <see cref="CnnRandom"/>.</summary>
    public static class Initialization
    {
        /// <summary>
        /// Fills the blocks as a freshly constructed PyTorch module would be: <c>Conv2d</c> and <c>Linear</c> weights
        /// from <c>kaiming_uniform_(a=sqrt(5))</c>, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and biases from the same
        /// bound; batch-norm weight 1, bias 0, running mean 0, running variance 1, <c>num_batches_tracked</c> 0.
        /// Layers draw in order, weight before bias, from one stream seeded with <paramref name="seed"/>.
        /// </summary>
        public static void ResetParameters(NetworkLayout layout, Span<float> parameters, Span<float> buffers, Span<long> counters, ulong seed)
        {
            NetworkChecks.RequireBlocks(layout, parameters.Length, buffers.Length, counters.Length);
            ResetParameters(layout, parameters, seed);
            ResetBuffers(layout, buffers, counters);
        }

        /// <summary>Only the trainable parameters: see <see cref="ResetParameters(NetworkLayout, Span{float}, Span{float}, Span{long}, ulong)"/>.</summary>
        public static void ResetParameters(NetworkLayout layout, Span<float> parameters, ulong seed)
        {
            NetworkChecks.RequireLength(parameters.Length, layout.ParameterCount, nameof(parameters));
            var random = new CnnRandom(seed);
            // Each tensor says how PyTorch fills it (its layer's rule in LayerRules decides): the uniform draws come from one
            // stream in state_dict order, weight before bias.
            foreach (var tensor in layout.Tensors)
            {
                if (tensor.Block != TensorBlock.Parameters) continue;
                var target = parameters.Slice(tensor.Offset, tensor.Length);
                switch (tensor.Init)
                {
                    case TensorInit.Ones: target.Fill(1f); break;
                    case TensorInit.Zeros: target.Fill(0f); break;
                    case TensorInit.UniformFanIn:
                    {
                        float bound = 1f / MathF.Sqrt(tensor.FanIn);
                        for (int i = 0; i < target.Length; i++) target[i] = random.NextUniform(-bound, bound);
                        break;
                    }
                    default:
                        throw new NotSupportedException("No initialization for " + tensor.Name + ": " + tensor.Init);
                }
            }
        }

        /// <summary>Batch-norm running means at 0, running variances at 1, counters at 0.</summary>
        public static void ResetBuffers(NetworkLayout layout, Span<float> buffers, Span<long> counters)
        {
            NetworkChecks.RequireLength(buffers.Length, layout.BufferCount, nameof(buffers));
            foreach (var tensor in layout.Tensors)
            {
                if (tensor.Block == TensorBlock.Buffers)
                    buffers.Slice(tensor.Offset, tensor.Length).Fill(tensor.Init == TensorInit.Ones ? 1f : 0f);
                else if (tensor.Block == TensorBlock.Counters)
                    counters[tensor.Offset] = 0;
            }
        }
    }
}
