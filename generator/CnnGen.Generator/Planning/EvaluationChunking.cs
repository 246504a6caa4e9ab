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
    /// the first Linear on, the layers run over the whole batch (a Linear reads its weights once for all the samples). So do
    /// the layers from where the chunked ones would keep more than <see cref="WeightBytes"/> of weights: the chunks would
    /// read them all from memory once each, where layer by layer each layer's weights stay in the L3 for the batch; and the
    /// layers from the first that evaluation runs over the batch (Conv2dEmitter.ForwardOverBatch: its samples side by side
    /// make one GEMM, the weights read once per group of them), which needs the batch's samples together.
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

        /// <summary>The schedule before the cut, run a chunk at a time (empty when <see cref="Chunk"/> is 0).</summary>
        public IReadOnlyList<object> Chunked { get; }

        /// <summary>The schedule from the cut on (the first Linear, or the layer past the weights' budget), over the whole batch.</summary>
        public IReadOnlyList<object> Batched { get; }

        /// <summary>The only value the batched part reads from the chunked part (the network's output when nothing is batched).</summary>
        public Value? Carried { get; }

        /// <summary>Samples per chunk; 0 when the batch goes layer by layer (no layer before a Linear, or no cut that only one value crosses).</summary>
        public int Chunk { get; }

        /// <summary>
        /// Whether the chunks run the whole network: each chunk's output then goes straight to the caller's output, with no
        /// batch-sized copy set aside and put back (on a network ending in a feature map that was three copies of it).
        /// </summary>
        public bool ChunksWriteOutput => Chunk > 0 && Batched.Count == 0;

        /// <summary>Whether a batch-sized array sets <see cref="Carried"/> aside chunk by chunk for the layers after the cut.</summary>
        public bool SetsCarriedAside => Carried is not null && !ChunksWriteOutput;

        /// <summary>Whether the layer's output, after a chunked evaluation of more than one chunk, holds only the last chunk's samples.</summary>
        public bool OverwrittenByChunks(PlannedLayer layer) =>
            Chunk > 0 && (layer.Out != Carried || ChunksWriteOutput) && Chunked.Any(item => item is Segment segment && segment.Layers.Contains(layer));

        public static EvaluationChunking Plan(ExecutionPlan plan)
        {
            // The cut: before the first Linear, or, where the layers before it keep more weights than the L3 can hold for
            // them, before the layer that passes WeightBytes, and then at the latest point before it that only one value crosses.
            var units = Units(plan.Schedule);
            int firstLinear = units.FindIndex(u => u.Layer?.Kind == LayerKind.Linear);
            int end = firstLinear < 0 ? units.Count : firstLinear;
            long weights = 0;
            for (int i = 0; i < end; i++)
            {
                weights += KeptWeightBytes(units[i].Layer);
                // A layer evaluation runs over the batch (Conv2dEmitter.ForwardOverBatch) needs the batch: the cut goes before it too.
                if (weights > WeightBytes || units[i].Layer is { } layer && Emit.Conv2dEmitter.ForwardOverBatch(layer)) { end = i; break; }
            }
            bool weightBound = end < (firstLinear < 0 ? units.Count : firstLinear);
            for (int cut = end; cut > 0; cut--)
            {
                if (units[cut - 1].Layer?.FusedInto is not null) continue; // not through a fusion (a convolution and its batch-norm, activation, pooling)
                if (units[cut - 1].Layer?.HandedTo is not null) continue; // nor through a link (a strided layer's maps handed on in its kernel's layout)
                if (units[cut - 1].Step is AddStep { JoinedInto.Fusion.JoinRelu: not null }) continue; // nor between a joined sum and the ReLU its layer takes
                var (chunked, batched) = Split(units, cut);
                var before = new HashSet<Step>(chunked.SelectMany(StepsOf));
                var crossing = plan.Values
                    .Where(v => (v.IsNetworkInput || before.Contains(v.Producer!)) && v.Consumers.Any(c => !before.Contains(c)))
                    .ToList();
                Value? carried = batched.Count == 0 ? (crossing.Count == 0 ? plan.Output : null) : crossing.Count == 1 && !crossing[0].IsNetworkInput ? crossing[0] : null;
                if (carried is null)
                {
                    if (!weightBound) break; // a skip connection reaches past the first Linear: the batch goes layer by layer
                    continue;
                }
                long sampleBytes = System.Math.Max(1, 4 * plan.SharedActivationLength); // an upper bound of what a sample touches
                int chunk = (int)System.Math.Max(1, System.Math.Min(1024, ChunkBytes / sampleBytes));
                // A layer that runs a group of samples at a time (Conv2dEmitter.GroupSamples) gets at least one whole group in a
                // chunk; a chunk that is not a multiple of it ends with a partial group, which the kernel takes as well.
                int group = chunked.OfType<Segment>().SelectMany(segment => segment.Layers).Select(Emit.Conv2dEmitter.GroupSamples).DefaultIfEmpty(1).Max();
                chunk = System.Math.Max(chunk, group);
                return new EvaluationChunking(chunked, batched, carried, chunk);
            }
            return new EvaluationChunking(System.Array.Empty<object>(), plan.Schedule, null, 0);
        }

        // What the layers a chunk runs may keep in weights: a quarter of a 32 MiB L3 (Zen 4/5 server CCDs; Skylake-SP and later
        // have 1.375-2 MiB a core), so that the chunks, which read them all once each, find them there. Beyond it (VGG-11's
        // 512-channel layers, 38 MB) the rest of the network runs layer by layer over the batch, each layer's weights read
        // from the L3 by every sample.
        public const long WeightBytes = 8L << 20;

        // A layer's weights as evaluation keeps them: 3x3 and 5x5 layers' Winograd filters take up to 4 times their weights.
        private static long KeptWeightBytes(PlannedLayer? layer) =>
            layer is null ? 0 : 4L * layer.ParameterCount * (Emit.Conv2dEmitter.HasWinogradFilters(layer) ? 4 : 1);

        private static IEnumerable<Step> StepsOf(object item) => item switch
        {
            Segment segment => segment.Layers.Select(layer => (Step)layer.Step),
            Step step => new[] { step },
            _ => System.Array.Empty<Step>(),
        };

        /// <summary>A schedule item cut to the layer: each layer of a segment, or a graph step, in order.</summary>
        private readonly struct Unit
        {
            public Unit(Segment? segment, PlannedLayer? layer, object? step) { Segment = segment; Layer = layer; Step = step; }
            public Segment? Segment { get; }
            public PlannedLayer? Layer { get; }
            public object? Step { get; }
        }

        private static List<Unit> Units(IReadOnlyList<object> schedule)
        {
            var units = new List<Unit>();
            foreach (var item in schedule)
            {
                if (item is Segment segment) units.AddRange(segment.Layers.Select(layer => new Unit(segment, layer, null)));
                else units.Add(new Unit(null, null, item));
            }
            return units;
        }

        /// <summary>The schedule cut before unit <paramref name="cut"/>, a segment cut there in two.</summary>
        private static (List<object> Before, List<object> From) Split(List<Unit> units, int cut) => (Regroup(units.Take(cut)), Regroup(units.Skip(cut)));

        private static List<object> Regroup(IEnumerable<Unit> units)
        {
            var items = new List<object>();
            Segment? current = null;
            List<PlannedLayer>? layers = null;
            foreach (var unit in units)
            {
                if (unit.Layer is not null && unit.Segment == current && layers is not null)
                {
                    layers.Add(unit.Layer);
                    continue;
                }
                if (layers is not null) items.Add(new Segment(layers));
                layers = null;
                current = unit.Segment;
                if (unit.Layer is not null) layers = new List<PlannedLayer> { unit.Layer };
                else items.Add(unit.Step!);
            }
            if (layers is not null) items.Add(new Segment(layers));
            return items;
        }
    }
}
