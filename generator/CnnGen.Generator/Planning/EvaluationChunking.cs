using System.Collections.Generic;
using System.Linq;
using CnnGen.Shapes;

namespace CnnGen.Generator.Planning
{
    /// <summary>
    /// How evaluation takes a batch through the network. The layers before the first Linear run <see cref="Chunk"/>
    /// samples at a time, every chunk in the places of the batch's first samples, so a sample's activations are written
    /// over the previous chunk's, still in cache, instead of each sample's going out to memory in a place of its own (layer
    /// by layer over a batch of 32, two threads lost 10-25% per image to that; KernelBench "batch"). The one value the
    /// rest reads, <see cref="Carried"/>, is set aside per chunk and put back in its batch places after the last one; from
    /// the first Linear on, the layers run over the whole batch (a Linear reads its weights once for all the samples).
    /// </summary>
    internal sealed class EvaluationChunking
    {
        // What a chunk's activations may take: half of a 1 MiB L2 (Zen 4/5, Skylake-SP and later server cores; client cores
        // have 1.25-2 MiB), the other half left to the weights and the kernels' scratch.
        public const long ChunkBytes = 512 * 1024;

        private EvaluationChunking(IReadOnlyList<object> chunked, IReadOnlyList<object> batched, Value? carried, int chunk)
        {
            Chunked = chunked;
            Batched = batched;
            Carried = carried;
            Chunk = chunk;
        }

        /// <summary>The schedule before the first Linear: run a chunk at a time (all of it when <see cref="Chunk"/> is 0).</summary>
        public IReadOnlyList<object> Chunked { get; }

        /// <summary>The schedule from the first Linear on, over the whole batch.</summary>
        public IReadOnlyList<object> Batched { get; }

        /// <summary>The only value the batched part reads from the chunked part (the network's output when nothing is batched).</summary>
        public Value? Carried { get; }

        /// <summary>Samples per chunk; 0 when the batch goes layer by layer (no layer before a Linear, or more than one value crosses the cut).</summary>
        public int Chunk { get; }

        /// <summary>Whether the layer's output, after a chunked evaluation of more than one chunk, holds only the last chunk's samples.</summary>
        public bool OverwrittenByChunks(PlannedLayer layer) =>
            Chunk > 0 && layer.Out != Carried && Chunked.Any(item => item is Segment segment && segment.Layers.Contains(layer));

        public static EvaluationChunking Plan(ExecutionPlan plan)
        {
            var (chunked, batched) = SplitAtFirstLinear(plan.Schedule);
            if (chunked.Count == 0) return new EvaluationChunking(chunked, batched, null, 0);

            var before = new HashSet<Step>(chunked.SelectMany(StepsOf));
            var crossing = plan.Values
                .Where(v => (v.IsNetworkInput || before.Contains(v.Producer!)) && v.Consumers.Any(c => !before.Contains(c)))
                .ToList();
            Value carried = batched.Count == 0 ? plan.Output : crossing.Count == 1 ? crossing[0] : null!;
            if (carried is null || (batched.Count == 0 && crossing.Count > 0))
                return new EvaluationChunking(chunked, batched, null, 0); // a skip connection reaches past the first Linear

            long sampleBytes = System.Math.Max(1, 4 * plan.SharedActivationLength); // an upper bound of what a sample touches
            int chunk = (int)System.Math.Max(1, System.Math.Min(1024, ChunkBytes / sampleBytes));
            return new EvaluationChunking(chunked, batched, carried, chunk);
        }

        private static IEnumerable<Step> StepsOf(object item) => item switch
        {
            Segment segment => segment.Layers.Select(layer => (Step)layer.Step),
            Step step => new[] { step },
            _ => System.Array.Empty<Step>(),
        };

        /// <summary>The schedule cut before its first Linear layer (a segment holding it is cut in two).</summary>
        private static (List<object> Before, List<object> From) SplitAtFirstLinear(IReadOnlyList<object> schedule)
        {
            var before = new List<object>();
            for (int index = 0; index < schedule.Count; index++)
            {
                if (schedule[index] is Segment segment && IndexOfKind(segment.Layers, LayerKind.Linear) is int at and >= 0)
                {
                    if (at > 0) before.Add(new Segment(segment.Layers.Take(at).ToList()));
                    var from = new List<object> { new Segment(segment.Layers.Skip(at).ToList()) };
                    from.AddRange(schedule.Skip(index + 1));
                    return (before, from);
                }
                before.Add(schedule[index]);
            }
            return (before, new List<object>());
        }

        private static int IndexOfKind(IReadOnlyList<PlannedLayer> layers, LayerKind kind)
        {
            for (int i = 0; i < layers.Count; i++) if (layers[i].Kind == kind) return i;
            return -1;
        }
    }
}
