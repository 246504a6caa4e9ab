using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Planning
{
    /// <summary>
    /// A tensor of the forward pass: the network input, a layer's output, a residual sum or a concatenation. Each sample
    /// holds <see cref="Length"/> floats; the batch lives in the workspace array <see cref="Array"/>, which values whose
    /// lifetimes do not overlap share.
    /// </summary>
    internal sealed class Value
    {
        public Value(int id, TensorShape shape, string name)
        {
            Id = id;
            Shape = shape;
            Name = name;
        }

        public int Id { get; }
        public TensorShape Shape { get; }
        public int Length => Shape.Length;
        /// <summary>What it is, for comments and names: <c>Layer3</c>, <c>Residual2</c>, <c>Input</c>.</summary>
        public string Name { get; }
        public bool IsNetworkInput => Id == 0;
        public Step? Producer { get; internal set; }
        public List<Step> Consumers { get; } = new();
        /// <summary>The workspace array holding it (<c>workspace.Input</c>, <c>workspace.Activation2</c>).</summary>
        public string Array { get; internal set; } = "";
        /// <summary>Whether no later value takes its array, so it is still there after the forward pass.</summary>
        public bool SurvivesForward { get; internal set; } = true;
        /// <summary>
        /// The workspace array evaluation writes it to: evaluation keeps nothing for backward, so its values share arrays by
        /// their evaluation lifetimes alone and a chain of layers runs through two or three arrays that stay in cache.
        /// </summary>
        public string EvaluationArray { get; internal set; } = "";
        /// <summary>Whether evaluation writes it (not an output it fuses away, nor a residual sum it adds into the ReLU after it).</summary>
        public bool WrittenInEvaluation { get; internal set; }
        /// <summary>Whether evaluation writes it and no later value of evaluation takes its array.</summary>
        public bool SurvivesEvaluation { get; internal set; }
        /// <summary>Whether a backward pass reads it, so training must keep it until then.</summary>
        public bool NeededByBackward { get; internal set; }
        /// <summary>The workspace array of its gradient, when it is a boundary between graph steps.</summary>
        public string GradientArray { get; internal set; } = "";
    }

    /// <summary>One step of the forward pass, in execution order.</summary>
    internal abstract class Step
    {
        public int Order { get; internal set; }
        public abstract IEnumerable<Value> Inputs { get; }
        public abstract Value Output { get; }
    }

    /// <summary>A layer reading one value and writing another.</summary>
    internal sealed class LayerStep : Step
    {
        public LayerStep(PlannedLayer layer) => Layer = layer;
        public PlannedLayer Layer { get; }
        public override IEnumerable<Value> Inputs => new[] { Layer.In };
        public override Value Output => Layer.Out;
    }

    /// <summary>A residual's sum: body output plus shortcut output (or the block input).</summary>
    internal sealed class AddStep : Step
    {
        public AddStep(ResidualLayout block, Value body, Value shortcut, Value output)
        {
            Block = block;
            Body = body;
            Shortcut = shortcut;
            Sum = output;
        }

        public ResidualLayout Block { get; }
        public Value Body { get; }
        public Value Shortcut { get; }
        public Value Sum { get; }
        /// <summary>
        /// In evaluation, the body's last convolution that adds the shortcut (and rectifies, <see cref="Conv2dEmitter.Fusion.JoinRelu"/>)
        /// as its kernel writes its maps, so the sum is no pass of its own (see <see cref="Conv2dEmitter.JoinResiduals"/>); or null.
        /// </summary>
        public PlannedLayer? JoinedInto { get; internal set; }
        public override IEnumerable<Value> Inputs => new[] { Body, Shortcut };
        public override Value Output => Sum;
    }

    /// <summary>A concatenation over channels: each sample's parts one after the other.</summary>
    internal sealed class ConcatStep : Step
    {
        public ConcatStep(ConcatLayout block, IReadOnlyList<Value> parts, Value output)
        {
            Block = block;
            Parts = parts;
            Joined = output;
        }

        public ConcatLayout Block { get; }
        public IReadOnlyList<Value> Parts { get; }
        public Value Joined { get; }
        public override IEnumerable<Value> Inputs => Parts;
        public override Value Output => Joined;
    }

    /// <summary>
    /// A maximal chain of layer steps, each reading only its predecessor's output, which nothing else reads: the unit
    /// inside which forward runs share loops over the batch, evaluation fuses layers, and backward hands gradients on
    /// through its two ping-pong arrays.
    /// </summary>
    internal sealed class Segment
    {
        public Segment(IReadOnlyList<PlannedLayer> layers) => Layers = layers;
        public IReadOnlyList<PlannedLayer> Layers { get; }
        public Value In => Layers[0].In;
        public Value Out => Layers[Layers.Count - 1].Out;

        /// <summary>Where a layer stands in a list of layers (a segment's), or -1.</summary>
        public static int IndexOf(IReadOnlyList<PlannedLayer> layers, PlannedLayer layer)
        {
            for (int k = 0; k < layers.Count; k++) if (layers[k] == layer) return k;
            return -1;
        }
    }

    /// <summary>
    /// The execution plan, computed once per network before anything is emitted: the steps in order, the values
    /// between them, segments, evaluation fusions, what backward needs kept, and which values share workspace arrays
    /// (liveness). Emitters render it and do not recompute any of it.
    /// </summary>
    internal sealed class ExecutionPlan
    {
        private ExecutionPlan(NetworkLayout layout)
        {
            Layout = layout;
        }

        public NetworkLayout Layout { get; }
        public List<Value> Values { get; } = new();
        public List<Step> Steps { get; } = new();
        public List<PlannedLayer> Layers { get; } = new();
        /// <summary>The forward pass as segments and graph steps, in order: each item a <see cref="Segment"/> or an <see cref="AddStep"/>/<see cref="ConcatStep"/>.</summary>
        public List<object> Schedule { get; } = new();
        public Value Input => Values[0];
        public Value Output { get; private set; } = null!;
        /// <summary>Activation arrays: name and floats per sample.</summary>
        public List<(string Name, int Length)> ActivationArrays { get; } = new();
        /// <summary>Gradient arrays of graph boundaries: name and floats per sample.</summary>
        public List<(string Name, int Length)> GradientArrays { get; } = new();
        /// <summary>Floats per sample of activations if every value had its own array.</summary>
        public long UnsharedActivationLength => Values.Where(v => !v.IsNetworkInput).Sum(v => (long)v.Length);
        /// <summary>Floats per sample of the activation arrays after sharing by liveness.</summary>
        public long SharedActivationLength => ActivationArrays.Sum(a => (long)a.Length);
        /// <summary>Floats per sample evaluation's values take in their arrays (the most each array holds, summed).</summary>
        public long EvaluationActivationLength { get; private set; }
        public bool IsGraph => Steps.Any(s => s is not LayerStep);
        /// <summary>How evaluation takes a batch: which layers a chunk of samples at a time, and how many.</summary>
        public EvaluationChunking EvaluationChunking => _evaluationChunking ??= EvaluationChunking.Plan(this);
        private EvaluationChunking? _evaluationChunking;

        public static ExecutionPlan Create(NetworkLayout layout)
        {
            var plan = new ExecutionPlan(layout);
            var input = plan.NewValue(layout.Input, "Input");
            plan.Output = plan.Walk(layout.Root, input);
            for (int i = 0; i < plan.Steps.Count; i++) plan.Steps[i].Order = i;
            foreach (var step in plan.Steps)
            {
                step.Output.Producer = step;
                foreach (var value in step.Inputs) value.Consumers.Add(step);
            }
            plan.BuildSchedule();
            plan.MarkBackwardNeeds();
            plan.AssignActivationArrays();
            plan.AssignEvaluationArrays();
            plan.AssignGradientArrays();
            return plan;
        }

        private Value NewValue(TensorShape shape, string name)
        {
            var value = new Value(Values.Count, shape, name);
            Values.Add(value);
            return value;
        }

        private Value Walk(SequenceLayout sequence, Value input)
        {
            var current = input;
            foreach (var node in sequence.Nodes)
            {
                switch (node)
                {
                    case LayerLayout layer:
                    {
                        var output = NewValue(layer.Output, "Layer" + Int(layer.Index));
                        var planned = new PlannedLayer(layer, current, output);
                        Layers.Add(planned);
                        Steps.Add(new LayerStep(planned));
                        current = output;
                        break;
                    }
                    case ResidualLayout residual:
                    {
                        var body = Walk(residual.Body, current);
                        var shortcut = Walk(residual.Shortcut, current);
                        var sum = NewValue(residual.Output, "Residual" + residual.Identifier.Substring("Layer".Length));
                        Steps.Add(new AddStep(residual, body, shortcut, sum));
                        current = sum;
                        break;
                    }
                    case ConcatLayout concat:
                    {
                        var parts = concat.Branches.Select(branch => Walk(branch, current)).ToList();
                        var joined = NewValue(concat.Output, "Concat" + concat.Identifier.Substring("Layer".Length));
                        Steps.Add(new ConcatStep(concat, parts, joined));
                        current = joined;
                        break;
                    }
                }
            }
            return current;
        }

        private void BuildSchedule()
        {
            List<PlannedLayer>? chain = null;
            foreach (var step in Steps)
            {
                if (step is LayerStep layerStep)
                {
                    var layer = layerStep.Layer;
                    bool continues = chain is not null && chain[chain.Count - 1].Out == layer.In && layer.In.Consumers.Count == 1;
                    if (!continues)
                    {
                        if (chain is not null) Schedule.Add(new Segment(chain));
                        chain = new List<PlannedLayer>();
                    }
                    chain!.Add(layer);
                    continue;
                }
                if (chain is not null) Schedule.Add(new Segment(chain));
                chain = null;
                Schedule.Add(step);
            }
            if (chain is not null) Schedule.Add(new Segment(chain));

            // Evaluation fusions live inside a segment: a direct convolution absorbs what follows it there.
            foreach (var segment in Schedule.OfType<Segment>())
            {
                for (int i = 0; i < segment.Layers.Count; i++)
                {
                    var fusion = Conv2dEmitter.EvaluationFusion(segment.Layers, i);
                    segment.Layers[i].Fusion = fusion;
                    for (int f = 0; f < fusion.Absorbed; f++) segment.Layers[i + f].FusedInto = segment.Layers[i + fusion.Absorbed];
                }
                Conv2dEmitter.LinkStridedLayers(segment.Layers);
                Conv2dEmitter.LinkWinogradLayers(segment.Layers);
                Conv2dEmitter.LinkBlockedChains(segment.Layers);
            }
            Conv2dEmitter.JoinResiduals(Schedule);
        }

        private void MarkBackwardNeeds()
        {
            foreach (var layer in Layers)
            {
                var reads = LayerEmitter.For(layer).BackwardReads(layer);
                if ((reads & BackwardReads.Input) != 0) layer.In.NeededByBackward = true;
                if ((reads & BackwardReads.Output) != 0) layer.Out.NeededByBackward = true;
            }
        }

        /// <summary>
        /// Gives every value an array, sharing arrays between values whose lifetimes do not overlap. A lifetime runs from
        /// the loop that writes the value to the loop that last reads it: a run of per-sample layers is one loop over the
        /// batch, so no value written inside a loop takes the array of a value read inside the same loop (a later sample
        /// would overwrite it). Runs differ between training and evaluation, so each step's loop is the union of both.
        /// Values backward reads live to the end; so does the output.
        /// </summary>
        private void AssignActivationArrays()
        {
            Input.Array = "workspace.Input";
            int count = Steps.Count;
            var loopStart = _loopStart = new int[count];
            var loopEnd = _loopEnd = new int[count];
            for (int i = 0; i < count; i++) { loopStart[i] = i; loopEnd[i] = i; }
            foreach (var segment in Schedule.OfType<Segment>())
            {
                foreach (bool training in new[] { true, false })
                {
                    var layers = segment.Layers;
                    for (int i = 0; i < layers.Count;)
                    {
                        int end = i;
                        while (end < layers.Count && (training ? LayerEmitter.For(layers[end]).IsPerSample : LayerEmitter.For(layers[end]).IsPerSampleInEvaluation)) end++;
                        if (end == i) { i++; continue; }
                        int first = layers[i].Step.Order, last = layers[end - 1].Step.Order;
                        for (int j = i; j < end; j++)
                        {
                            int order = layers[j].Step.Order;
                            loopStart[order] = System.Math.Min(loopStart[order], first);
                            loopEnd[order] = System.Math.Max(loopEnd[order], last);
                        }
                        i = end;
                    }
                }
            }

            var lifetimes = new List<(Value Value, Lifetime Lifetime)>();
            foreach (var value in Values)
            {
                if (value.IsNetworkInput) continue;
                int producer = value.Producer!.Order;
                bool kept = value == Output || value.NeededByBackward || value.Consumers.Count == 0;
                lifetimes.Add((value, new Lifetime(loopStart[producer], kept ? Forever : value.Consumers.Max(c => loopEnd[c.Order]),
                    producer, kept ? Forever : value.Consumers.Max(c => c.Order), value.Length)));
            }
            var arrays = ShareArrays(lifetimes.Select(l => l.Lifetime).ToList());
            for (int i = 0; i < lifetimes.Count; i++) lifetimes[i].Value.Array = "workspace.Activation" + Int(arrays.Of[i]);
            for (int a = 0; a < arrays.Lengths.Count; a++) ActivationArrays.Add(("Activation" + Int(a), arrays.Lengths[a]));
            // A value is still there after the forward pass when no later value took its array.
            foreach (var value in Values)
                value.SurvivesForward = value.IsNetworkInput || !Values.Any(other => other.Id > value.Id && other.Array == value.Array);
        }

        private const int Forever = int.MaxValue;
        // Each step's loop over the samples (the union of training's and evaluation's runs), from AssignActivationArrays.
        private int[] _loopStart = System.Array.Empty<int>(), _loopEnd = System.Array.Empty<int>();

        /// <summary>
        /// A value's life: written inside the loop (over the samples) that starts at step <see cref="LoopStart"/>, by step
        /// <see cref="Written"/>; read last by step <see cref="StepEnd"/>, inside a loop that ends at step <see cref="LoopEnd"/>.
        /// </summary>
        private readonly struct Lifetime
        {
            public Lifetime(int loopStart, int loopEnd, int written, int stepEnd, int length)
            {
                LoopStart = loopStart;
                LoopEnd = loopEnd;
                Written = written;
                StepEnd = stepEnd;
                Length = length;
            }

            public int LoopStart { get; }
            public int LoopEnd { get; }
            public int Written { get; }
            public int StepEnd { get; }
            public int Length { get; }
        }

        /// <summary>
        /// Arrays for values written in the order given. Each array keeps its occupants' lifetimes. A value may join an array
        /// when every occupant is dead before it is written (step order), and either the occupant's loops ended before the
        /// value's began, or both have the same length per sample: then sample n of each lies at the same place, and a loop
        /// writing one sample never touches another sample's part. Returns each value's array and each array's floats per sample.
        /// </summary>
        private static (int[] Of, List<int> Lengths) ShareArrays(IReadOnlyList<Lifetime> values)
        {
            var arrays = new List<List<Lifetime>>();
            var of = new int[values.Count];
            for (int v = 0; v < values.Count; v++)
            {
                var value = values[v];
                int chosen = -1, chosenLength = 0;
                for (int i = 0; i < arrays.Count; i++)
                {
                    bool fits = arrays[i].All(o => o.StepEnd < value.Written && (o.LoopEnd < value.LoopStart || o.Length == value.Length));
                    if (!fits) continue;
                    int length = arrays[i].Max(o => o.Length);
                    // Best fit: the smallest array that is long enough, else the longest (which grows least).
                    bool better = chosen < 0
                        || (length >= value.Length && (chosenLength < value.Length || length < chosenLength))
                        || (length < value.Length && chosenLength < value.Length && length > chosenLength);
                    if (better) { chosen = i; chosenLength = length; }
                }
                if (chosen < 0)
                {
                    arrays.Add(new List<Lifetime>());
                    chosen = arrays.Count - 1;
                }
                arrays[chosen].Add(value);
                of[v] = chosen;
            }
            return (of, arrays.Select(a => a.Max(o => o.Length)).ToList());
        }

        /// <summary>
        /// Gives every value evaluation writes an array by evaluation's lifetimes alone: it keeps nothing for backward and
        /// writes no output it fuses away, so a chain of layers goes through two or three arrays, which stay in the L2, where
        /// training's arrays (one per value backward reads) would take each layer's output to a place last touched a whole
        /// pass ago (MobileNetV1-style 3x112x112 at batch 1: 1.7 MB of arrays against 0.8 MB). A fused chain reads its first
        /// layer's input when it writes its last layer's output; a residual sum the ReLU after it takes is not written (the
        /// ReLU's output is, by the sum). Inside a chunk of one sample a loop over the samples runs once, so values of
        /// different lengths may follow each other in an array there. Evaluation's arrays are training's, lengthened or
        /// added to where it needs more.
        /// </summary>
        private void AssignEvaluationArrays()
        {
            Input.EvaluationArray = Input.Array;
            var chunking = EvaluationChunking;
            var ops = new List<(int Order, IReadOnlyList<Value> Reads, Value Writes, bool OneSample)>();
            if (chunking.Chunk == 0) ops.AddRange(EvaluationOps(Schedule, oneSample: false));
            else
            {
                ops.AddRange(EvaluationOps(chunking.Chunked, oneSample: chunking.Chunk == 1));
                ops.AddRange(EvaluationOps(chunking.Batched, oneSample: false));
            }
            var lastRead = new Dictionary<Value, (int StepEnd, int LoopEnd)>();
            foreach (var op in ops)
            {
                foreach (var read in op.Reads)
                {
                    int loopEnd = op.OneSample ? op.Order : _loopEnd[op.Order];
                    lastRead[read] = lastRead.TryGetValue(read, out var last)
                        ? (System.Math.Max(last.StepEnd, op.Order), System.Math.Max(last.LoopEnd, loopEnd)) : (op.Order, loopEnd);
                }
            }
            var lifetimes = new List<Lifetime>();
            foreach (var op in ops)
            {
                var value = op.Writes;
                bool kept = value == Output || chunking.Carried == value && chunking.ChunksWriteOutput || !lastRead.ContainsKey(value);
                var (stepEnd, loopEnd) = kept ? (Forever, Forever) : lastRead[value];
                lifetimes.Add(new Lifetime(op.OneSample ? op.Order : _loopStart[op.Order], loopEnd, op.Order, stepEnd, value.Length));
                value.WrittenInEvaluation = true;
            }
            var (of, lengths) = ShareArrays(lifetimes);
            EvaluationActivationLength = lengths.Sum(length => (long)length);

            // Onto training's arrays: the longest evaluation needs on the longest there is, and so on down.
            var needs = Enumerable.Range(0, lengths.Count).OrderByDescending(a => lengths[a]).ThenBy(a => a).ToList();
            var haves = Enumerable.Range(0, ActivationArrays.Count).OrderByDescending(a => ActivationArrays[a].Length).ThenBy(a => a).ToList();
            var physical = new int[lengths.Count];
            for (int k = 0; k < needs.Count; k++)
            {
                int need = needs[k];
                if (k < haves.Count)
                {
                    int have = haves[k];
                    physical[need] = have;
                    if (ActivationArrays[have].Length < lengths[need]) ActivationArrays[have] = (ActivationArrays[have].Name, lengths[need]);
                }
                else
                {
                    physical[need] = ActivationArrays.Count;
                    ActivationArrays.Add(("Activation" + Int(ActivationArrays.Count), lengths[need]));
                }
            }
            for (int i = 0; i < ops.Count; i++) ops[i].Writes.EvaluationArray = "workspace." + ActivationArrays[physical[of[i]]].Name;
            // What a layer's output is after evaluation: there when no later value of evaluation took its array.
            for (int i = 0; i < ops.Count; i++)
                ops[i].Writes.SurvivesEvaluation = !ops.Skip(i + 1).Any(later => later.Writes.EvaluationArray == ops[i].Writes.EvaluationArray);
        }

        /// <summary>
        /// Runs <paramref name="emit"/> with every value's <see cref="Value.Array"/> set to its evaluation array, so that the
        /// emitters, which name a value's array through it, write evaluation's code; then puts training's back.
        /// </summary>
        public void WithEvaluationArrays(System.Action emit)
        {
            var training = Values.Select(v => v.Array).ToList();
            foreach (var value in Values) if (value.WrittenInEvaluation) value.Array = value.EvaluationArray;
            try
            {
                emit();
            }
            finally
            {
                for (int i = 0; i < Values.Count; i++) Values[i].Array = training[i];
            }
        }

        /// <summary>
        /// What evaluation runs of <paramref name="schedule"/>, in order, as the emitted code does it: each layer it keeps
        /// (a fused chain reading its first layer's input), each residual sum (writing the ReLU's output where it takes the
        /// ReLU after it) and each concatenation.
        /// </summary>
        private static IEnumerable<(int Order, IReadOnlyList<Value> Reads, Value Writes, bool OneSample)> EvaluationOps(IReadOnlyList<object> schedule, bool oneSample)
        {
            PlannedLayer? taken = null;
            for (int index = 0; index < schedule.Count; index++)
            {
                switch (schedule[index])
                {
                    case Segment segment:
                        foreach (var layer in segment.Layers)
                        {
                            if (layer.FusedInto is not null || layer == taken) continue;
                            var first = segment.Layers.FirstOrDefault(l => l.FusedInto == layer) ?? layer;
                            // A joined last layer of a body reads the block's shortcut too and writes the sum (or the ReLU after it).
                            if (first.Fusion.Join is { } join)
                                yield return (layer.Step.Order, new[] { first.In, join.Shortcut }, first.Fusion.JoinRelu?.Out ?? join.Sum, oneSample);
                            else yield return (layer.Step.Order, new[] { first.In }, layer.Out, oneSample);
                        }
                        break;
                    case AddStep { JoinedInto: { } joined }:
                        taken = joined.Fusion.JoinRelu;
                        break;
                    case AddStep add when ReluOfSumOnly(schedule, index) is { } relu:
                        taken = relu;
                        yield return (add.Order, new[] { add.Body, add.Shortcut }, relu.Out, oneSample);
                        break;
                    case AddStep add:
                        yield return (add.Order, new[] { add.Body, add.Shortcut }, add.Sum, oneSample);
                        break;
                    case ConcatStep concat:
                        yield return (concat.Order, concat.Parts, concat.Joined, oneSample);
                        break;
                }
            }
        }

        /// <summary>
        /// The ReLU that opens the segment after residual sum <paramref name="index"/> of <paramref name="schedule"/>, when it
        /// is the sum's only reader: training and evaluation then add and rectify in one pass, and the sum is not written.
        /// </summary>
        public static PlannedLayer? ReluOfSumOnly(IReadOnlyList<object> schedule, int index)
        {
            if (schedule[index] is not AddStep add || index + 1 >= schedule.Count || schedule[index + 1] is not Segment next) return null;
            var relu = next.Layers[0];
            return relu.Kind == LayerKind.ReLU && relu.In == add.Sum && add.Sum.Consumers.Count == 1 ? relu : null;
        }

        /// <summary>
        /// Gradient arrays for the values at graph boundaries (a segment's input and output, a block's parts); inside a
        /// segment gradients move through the workspace's two ping-pong arrays. A residual's body and shortcut outputs
        /// share the sum's gradient array: the sum passes its gradient to both unchanged. So does an identity shortcut's
        /// input that only the body's first layer reads besides (<see cref="InputTakesSumGradient"/>).
        /// </summary>
        private void AssignGradientArrays()
        {
            if (!IsGraph) return;
            int index = 0;
            var takenByInput = new HashSet<string>();
            string NewArray(int length)
            {
                string name = "GradientOf" + Int(index++);
                GradientArrays.Add((name, length));
                return "workspace." + name;
            }
            // Backward order: a value's gradient array is decided before the steps that write it.
            for (int i = Steps.Count - 1; i >= 0; i--)
            {
                var step = Steps[i];
                if (step.Output.GradientArray.Length == 0) step.Output.GradientArray = NewArray(step.Output.Length);
                switch (step)
                {
                    case AddStep add:
                        if (add.Body.GradientArray.Length == 0 && add.Body.Consumers.Count == 1) add.Body.GradientArray = add.Sum.GradientArray;
                        if (add.Shortcut != add.Body && add.Shortcut.GradientArray.Length == 0
                            && (add.Shortcut.Consumers.Count == 1 || InputTakesSumGradient(add) && takenByInput.Add(add.Sum.GradientArray)))
                            add.Shortcut.GradientArray = add.Sum.GradientArray;
                        break;
                }
            }
            foreach (var value in Values)
            {
                if (value.IsNetworkInput) value.GradientArray = "inputGradient";
                else if (value.GradientArray.Length == 0 && (value.Consumers.Count != 1 || value.Consumers[0] is not LayerStep || value == Output))
                    value.GradientArray = NewArray(value.Length);
            }
        }

        /// <summary>
        /// Whether an identity residual's input can take the sum's gradient array as its own, instead of a copy of it (a
        /// pass over the batch's gradient: 1% of ResNet-8's training step). Backward writes the input's gradient in two
        /// steps: the sum's gradient, then the body's input gradient added once the body is done, and the body only reads
        /// the sum's gradient. That holds when the body's first layer is the input's only other reader, and when no enclosing
        /// identity residual's input already took the array (a nested block ending an outer body inherits the outer sum's
        /// array, which the outer input must keep unchanged until the outer body is done: the caller's set).
        /// </summary>
        private static bool InputTakesSumGradient(AddStep add) =>
            add.Block.Shortcut.IsIdentity && !add.Shortcut.IsNetworkInput && add.Shortcut.Consumers.Count == 2
            && add.Shortcut.Consumers.Count(c => c == add) == 1 && add.Shortcut.Consumers.Any(c => c is LayerStep);
    }

    /// <summary>What a layer's backward pass reads besides the output gradient.</summary>
    [System.Flags]
    internal enum BackwardReads
    {
        None = 0,
        Input = 1,
        Output = 2,
        Both = Input | Output,
    }

    /// <summary>
    /// A layer as the plan runs it: its layout, the values it reads and writes (and so its arrays), and what evaluation
    /// fuses into it.
    /// </summary>
    internal sealed class PlannedLayer
    {
        public PlannedLayer(LayerLayout layout, Value input, Value output)
        {
            Layout = layout;
            In = input;
            Out = output;
        }

        public LayerLayout Layout { get; }
        public Value In { get; }
        public Value Out { get; }
        public LayerStep Step => (LayerStep)Out.Producer!;
        /// <summary>The layers evaluation fuses into this one (a direct convolution's batch-norm, ReLU, pooling).</summary>
        public Conv2dEmitter.Fusion Fusion { get; internal set; }
        /// <summary>When evaluation fuses this layer into an earlier one: the layer whose output evaluation keeps.</summary>
        public PlannedLayer? FusedInto { get; internal set; }
        /// <summary>When evaluation may hand this layer's output straight to a linked strided convolution (not kept): that layer.</summary>
        public PlannedLayer? HandedTo { get; internal set; }

        public int Index => Layout.Index;
        public LayerSpec Spec => Layout.Spec;
        public LayerKind Kind => Layout.Kind;
        public TensorShape Input => Layout.Input;
        public TensorShape Output => Layout.Output;
        public int ParameterOffset => Layout.ParameterOffset;
        public int ParameterCount => Layout.ParameterCount;
        public int BufferOffset => Layout.BufferOffset;
        public int BufferCount => Layout.BufferCount;
        public int CounterIndex => Layout.CounterIndex;
        public IReadOnlyList<TensorEntry> Tensors => Layout.Tensors;
        public string TorchName => Layout.TorchName;
        public string Path => Layout.Path;
        public string Describe() => Layout.Describe();
        /// <summary>Whether its input is the network's input (whose gradient is written only when asked for).</summary>
        public bool ReadsNetworkInput => In.IsNetworkInput;
    }
}
