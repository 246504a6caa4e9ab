using System.Collections.Generic;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Planning;
using CnnGen.Shapes;
using static CnnGen.Generator.Helpers.Literal;

namespace CnnGen.Generator.Emit
{
    /// <summary>
    /// <c>BatchNorm</c> (2d over N,H,W per channel; 1d over N per feature). Evaluation normalizes with the running
    /// statistics, one sample at a time. Training needs the whole batch: it computes the batch mean and biased
    /// variance (two passes: float within a plane, double across planes; BatchNormalization), normalizes with them, keeps them for the backward pass, and moves the
    /// running statistics toward them (unbiased variance), as PyTorch does. When the workspace belongs to a
    /// <c>BatchStatisticsTeam</c> (a trainer splitting the batch across threads), the workspace holds one chunk and the
    /// team combines every chunk's partial sums, so the statistics are still the whole batch's.
    /// </summary>
    internal sealed class BatchNormEmitter : LayerEmitter
    {
        public static readonly BatchNormEmitter Instance = new();

        public override BackwardReads BackwardReads(PlannedLayer layer) => Planning.BackwardReads.Input;
        public override bool DiscardsFrozenParameterGradients(PlannedLayer layer) => true;

        public override IEnumerable<WorkspaceArray> WorkspaceArrays(PlannedLayer layer)
        {
            yield return new WorkspaceArray(MeanArray(layer), Int(layer.Input.Channels), "batch mean per channel, from the last training forward");
            yield return new WorkspaceArray(InvStdArray(layer), Int(layer.Input.Channels), "1 / sqrt(batch variance + eps) per channel, from the last training forward");
            if (HasSampleSums(layer))
                yield return new WorkspaceArray(SampleSumsArray(layer), Int(layer.Input.Channels) + " * global::CnnGen.Kernels.BatchNormalization.SampleSumsWidth",
                    "the batch statistics' sums per channel, added sample by sample in the training forward's loop of the layer before", "double");
            else if (TakesBatchSums(layer))
                yield return new WorkspaceArray(SampleSumsArray(layer), Int(layer.Input.Channels) + " * global::CnnGen.Kernels.BatchNormalization.SampleSumsWidth",
                    "the batch statistics' sums per channel, taken in one pass over the batch with the channels in the lanes (small planes)", "double");
            yield return new WorkspaceArray(BackwardSumsArray(layer), Int(layer.Input.Channels) + " * global::CnnGen.Kernels.BatchNormalization.BackwardSumsWidth",
                "the backward's sums per channel (Σdy and Σdy·(x - mean)), added sample after sample", "double");
            yield return new WorkspaceArray(BackwardCoefficientsArray(layer), Int(3 * layer.Input.Channels), "the input gradient's scale, mean dy and mean dy·x̂ per channel");
        }

        private const string Team = "global::CnnGen.Training.BatchStatisticsTeam?";

        private static string MeanArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "Mean";
        private static string InvStdArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "InvStd";
        private static string SampleSumsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "SampleSums";
        private static string BackwardSumsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "BackwardSums";
        private static string BackwardCoefficientsArray(PlannedLayer layer) => "Layer" + Int(layer.Index) + "BackwardCoefficients";

        /// <summary>
        /// Whether training adds this batch-norm's sums (<c>BatchNormalization.AddSampleSums</c>) in the loop over the samples of
        /// the convolution before it, each sample right after the convolution wrote it, so its own pass over the batch only
        /// normalizes: one read of the batch fewer. The convolution's output must be this layer's alone (so both are in one
        /// segment, this layer right after it), and a per-sample layer, which training always runs in a loop over the batch.
        /// The normalize pass then runs sample after sample (<c>NormalizeBatch</c>), a stream the prefetchers follow. Where it
        /// pays (KernelBench bnpasses, one thread's batch of 64 or a chunk of 32, the batch-norm's CPU time besides the
        /// convolution's writes, 2026-12-02, load 29-36): planes of 5x5 to 32x32 on 11 shapes within −6% (noise) to +33%
        /// (ResNet-8's 32x16x16 −6%, 64x8x8 +4%; CIFAR's 32x32x32 +22%; 20x19x19 +12%; 24x5x5 +33%), one value per plane
        /// −34% (a call per channel and sample for one value): so planes of at least one vector, 8 values.
        /// </summary>
        public static bool HasSampleSums(PlannedLayer layer) =>
            layer.Kind == LayerKind.BatchNorm && layer.Input.Height * layer.Input.Width >= 8
            && layer.In.Consumers.Count == 1 && layer.In.Producer is LayerStep { Layer: var before }
            && before.Kind == LayerKind.Conv2d && For(before).IsPerSample && before.Step.Order + 1 == layer.Step.Order;

        /// <summary>
        /// Whether training takes this batch-norm's sums in a pass of its own over the batch with 8 channels in the lanes
        /// (<c>BatchNormalization.AddBatchSums</c>) and normalizes sample after sample (<c>NormalizeBatch</c>, each block's
        /// parameters spread over its values), instead of a channel at a time: planes of at most
        /// <c>BatchNormalization.SmallPlane</c> (7) values, which no loop before adds the sums of (<see cref="HasSampleSums"/>
        /// takes planes of 8 and more). A channel at a time reads a few values a sample apart, the batch's samples often a
        /// multiple of 4 KB apart in one L1 set. KernelBench bnsmall (this thread's CPU, interleaved, 2026-12-06): 256x2x2 at
        /// batch 64 631 -> 50 µs (12.7x), a chunk of 32 6.7x, BatchNorm1d of 120 and 512 features 11x and 15x, 64x1x3 5.1x,
        /// 48x7x1 4.7x. The same floats. (The backward's kernels take small planes the same way on their own.)
        /// </summary>
        public static bool TakesBatchSums(PlannedLayer layer) =>
            layer.Kind == LayerKind.BatchNorm && layer.Input.Height * layer.Input.Width <= 7 && !HasSampleSums(layer);

        /// <summary>The batch-norm whose sums training adds in <paramref name="layer"/>'s loop over the samples (<see cref="HasSampleSums"/>), or null.</summary>
        public static PlannedLayer? SampleSumsAfter(PlannedLayer layer) =>
            layer.Out.Consumers.Count == 1 && layer.Out.Consumers[0] is LayerStep { Layer: var next } && HasSampleSums(next) && next.In == layer.Out ? next : null;

        /// <summary>In the producer's loop, after its statement for sample <c>n</c>: that sample's planes added to the sums.</summary>
        public static void EmitSampleSumsStatement(IndentedWriter w, PlannedLayer layer)
        {
            w.Line("// " + layer.Kind + " #" + Int(layer.Index) + "'s sums for the batch statistics, the sample still in cache");
            w.Line("global::CnnGen.Kernels.BatchNormalization.AddSampleSums(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + Int(layer.Input.Channels) + ", "
                + Int(layer.Input.Height * layer.Input.Width) + ", n == 0, workspace." + SampleSumsArray(layer) + ");");
        }

        /// <summary>
        /// The ReLU or ReLU6 that training runs inside this batch-norm's normalize pass, or null. It must read only this layer's
        /// output, run right after it (so its output array holds nothing live by then: every other occupant died before the
        /// batch-norm, whose own input backward keeps), and backward must not read the batch-norm's output (the ReLU's and
        /// ReLU6's backward read only their own), which training then never writes. ReLU6 since session 42 (MobileNetV2's
        /// expansions: one pass over the activations fewer a layer).
        /// </summary>
        public static PlannedLayer? ReluTakenInTraining(PlannedLayer layer)
        {
            if (layer.Kind != LayerKind.BatchNorm || layer.Out.NeededByBackward || layer.Out.Consumers.Count != 1) return null;
            if (layer.Out.Consumers[0] is not LayerStep { Layer: { Kind: LayerKind.ReLU or LayerKind.ReLU6 } relu }) return null;
            return relu.Step.Order == layer.Step.Order + 1 && relu.In == layer.Out ? relu : null;
        }

        /// <summary>Whether training runs this ReLU or ReLU6 inside the batch-norm before it (<see cref="ReluTakenInTraining"/>).</summary>
        public static bool IsTakenInTraining(PlannedLayer layer) =>
            layer.Kind is LayerKind.ReLU or LayerKind.ReLU6 && layer.In.Producer is LayerStep { Layer: var before } && ReluTakenInTraining(before) == layer;

        public override void EmitTrainingForwardCall(IndentedWriter w, PlannedLayer layer) => EmitTrainingForwardCall(w, layer, normalizeBySample: false);

        /// <summary>
        /// The training call; with <paramref name="normalizeBySample"/> (<see cref="NormalizesBySample"/>) the statistics only,
        /// each sample then normalized in the next layer's loop (<see cref="SampleNormalize"/>).
        /// </summary>
        public void EmitTrainingForwardCall(IndentedWriter w, PlannedLayer layer, bool normalizeBySample)
        {
            var relu = ReluTakenInTraining(layer);
            // A frozen batch-norm kept in evaluation mode (ParameterMask.FreezeBatchNormStatistics): running statistics, nothing
            // updated, and backward goes through them as after ForwardForGradients.
            using (w.OpenBlock("if (workspace.GradientFlow.RunningStatistics[" + Int(layer.Index) + "])"))
            {
                EmitGradientEvaluationPrologue(w, layer);
                using (w.OpenBlock("for (int n = 0; n < batchSize; n++)"))
                {
                    EmitEvaluationSampleStatement(w, layer);
                    if (relu is not null) For(relu).EmitSampleStatement(w, relu);
                }
            }
            using (w.OpenBlock("else"))
                EmitBatchStatisticsForwardCall(w, layer, relu, normalizeBySample);
        }

        /// <summary>
        /// Whether training may normalize this layer a sample at a time in the next layer's loop, its training call making the
        /// statistics only: its sums come from the loop before it (<see cref="HasSampleSums"/>), so the normalize pass over the
        /// batch would read every sample from memory and the next layer read the result from memory again. Planes of 16x16 and more.
        /// </summary>
        public static bool NormalizesBySample(PlannedLayer layer) => HasSampleSums(layer) && WorksInSampleLoops(layer);

        /// <summary>Sample <c>n</c> normalized (and its ReLU taken) into the array the next layer reads, on the statistics the training call made; nothing when the statistics are the running ones (that branch wrote it).</summary>
        public static string SampleNormalize(PlannedLayer layer)
        {
            var relu = ReluTakenInTraining(layer);
            return "if (!workspace.GradientFlow.RunningStatistics[" + Int(layer.Index) + "]) global::CnnGen.Kernels.BatchNormalization.NormalizeBatch("
                + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + SampleSlice(OutputArray(relu ?? layer), layer.Input.Length) + ", 1, "
                + Int(layer.Input.Channels) + ", " + Int(layer.Input.Height * layer.Input.Width) + ", workspace." + MeanArray(layer) + ", workspace." + InvStdArray(layer)
                + ", " + ParameterSlice(layer) + ReluArgument(relu) + ");";
        }

        private static void EmitBatchStatisticsForwardCall(IndentedWriter w, PlannedLayer layer, PlannedLayer? relu, bool normalizeBySample)
        {
            int length = layer.Input.Length;
            if (normalizeBySample) w.Line("// The statistics only: each sample normalized in the next layer's loop, where it reads it");
            else if (relu is not null) w.Line("// " + relu.Describe() + " in the normalize pass: its output written straight away, this layer's never");
            w.Line(MethodName(layer) + "Training(" + BatchSlice(InputArray(layer), length) + ", " + BatchSlice(OutputArray(relu ?? layer), length)
                + ", batchSize, " + ParameterSlice(layer) + ", " + BufferSlice(layer) + ", ref _counters[" + Int(layer.CounterIndex) + "], workspace."
                + MeanArray(layer) + ", workspace." + InvStdArray(layer) + (HasSampleSums(layer) || TakesBatchSums(layer) ? ", workspace." + SampleSumsArray(layer) : "")
                + ", workspace.BatchStatisticsTeam, workspace.BatchStatisticsMember" + (normalizeBySample ? ", normalizeBySample: true" : "") + ");");
        }

        public override bool IsPerSampleInEvaluation => true;

        // Backward then differentiates through fixed statistics: the running ones, recorded where training keeps the batch's.
        public override void EmitGradientEvaluationPrologue(IndentedWriter w, PlannedLayer layer) =>
            w.Line(MethodName(layer) + "RecordRunningStatistics(" + BufferSlice(layer) + ", workspace." + MeanArray(layer) + ", workspace." + InvStdArray(layer) + ");");

        public override void EmitEvaluationSampleStatement(IndentedWriter w, PlannedLayer layer)
        {
            int length = layer.Input.Length;
            w.Line(MethodName(layer) + "(" + SampleSlice(InputArray(layer), length) + ", " + SampleSlice(OutputArray(layer), length)
                + ", " + ParameterSlice(layer) + ", " + BufferSlice(layer) + ");");
        }

        public override void EmitForwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            int channels = layer.Input.Channels, plane = layer.Input.Height * layer.Input.Width;
            string eps = Float(layer.Spec.Eps);
            string C = Int(channels);

            // Evaluation: one sample, running statistics. Used even when evaluation folds it into the convolution before it:
            // ForwardForGradients runs the layers unfused.
            {
            MethodHeader(w, layer, MethodName(layer), ReadOnlySpan + " x, " + Span + " y, " + ReadOnlySpan + " p, " + ReadOnlySpan + " running");
            using (w.OpenBlock())
            {
                w.Line("// p: weight [" + C + "], bias [" + C + "]; running: mean [" + C + "], var [" + C + "]");
                using (w.OpenBlock("for (int c = 0; c < " + C + "; c++)"))
                {
                    w.Line("float invStd = 1f / global::System.MathF.Sqrt(running[" + C + " + c] + " + eps + ");");
                    w.Line("float mean = running[c], scale = p[c] * invStd, shift = p[" + C + " + c];");
                    if (plane == 1)
                        w.Line("y[c] = (x[c] - mean) * scale + shift;");
                    else
                        w.Line("global::CnnGen.Kernels.BatchNormalization.ScaleShift(x.Slice(c * " + Int(plane) + ", " + Int(plane) + "), y.Slice(c * " + Int(plane) + ", " + Int(plane) + "), mean, scale, shift);");
                }
            }
            w.Line();
            }

            // Evaluation for gradients: the statistics backward uses are the running ones.
            w.Line("/// <summary>" + Xml(layer.Describe()) + ": the running statistics as the mean and 1 / sqrt(var + eps) backward reads.</summary>");
            w.Line("private static void " + MethodName(layer) + "RecordRunningStatistics(" + ReadOnlySpan + " running, " + Span + " mean, " + Span + " invStd)");
            using (w.OpenBlock())
            using (w.OpenBlock("for (int c = 0; c < " + C + "; c++)"))
            {
                w.Line("mean[c] = running[c];");
                w.Line("invStd[c] = 1f / global::System.MathF.Sqrt(running[" + C + " + c] + " + eps + ");");
            }
            w.Line();

            // Training: the whole batch, batch statistics.
            var relu = ReluTakenInTraining(layer);
            bool batchSums = TakesBatchSums(layer), sampleSums = HasSampleSums(layer) || batchSums, bySample = NormalizesBySample(layer);
            string reluArgument = ReluArgument(relu);
            w.Line("/// <summary>" + Xml(layer.Describe()) + ", training mode: batch statistics, running statistics updated"
                + (relu is null ? "" : "; y is the output of " + Xml(relu.Describe()) + " after it") + ".</summary>");
            w.Line("private static void " + MethodName(layer) + "Training(" + ReadOnlySpan + " x, " + Span + " y, int batchSize, " + ReadOnlySpan + " p, "
                + Span + " running, ref long batchesTracked, " + Span + " batchMean, " + Span + " batchInvStd, "
                + (batchSums ? "global::System.Span<double> sampleSums, " : sampleSums ? "global::System.ReadOnlySpan<double> sampleSums, " : "") + Team + " team, int teamMember"
                + (bySample ? ", bool normalizeBySample = false" : "") + ")");
            using (w.OpenBlock())
            {
                string keep = Float(1 - (float)layer.Spec.Momentum), take = Float(layer.Spec.Momentum);
                if (batchSums)
                {
                    w.Line("// Small planes: this chunk's sums in one pass over it, 8 channels in the lanes (the floats SumsAboutShift gives)");
                    w.Line("global::CnnGen.Kernels.BatchNormalization.AddBatchSums(x, batchSize, " + C + ", " + Int(plane) + ", sampleSums);");
                }
                using (w.OpenBlock("if (team is not null)"))
                {
                    w.Line("// This thread's chunk of a batch split across threads: statistics over the whole batch.");
                    w.Line("team.Forward(teamMember, " + Int(layer.Index) + ", x, y, batchSize, " + C + ", " + Int(plane) + ", p, running, ref batchesTracked, batchMean, batchInvStd, "
                        + eps + ", " + keep + ", " + take + reluArgument + (sampleSums ? ", sampleSums: sampleSums" : "")
                        + (bySample ? ", normalize: !normalizeBySample" : "") + ");");
                    w.Line("return;");
                }
                w.Line("int count = batchSize * " + Int(plane) + ";");
                w.Line("global::CnnGen.NetworkChecks.RequireBatchStatistics(count, " + Int(layer.Index) + ");");
                using (w.OpenBlock("for (int c = 0; c < " + C + "; c++)"))
                {
                    string where = "batchSize, " + C + ", " + Int(plane) + ", c";
                    // One pass for both statistics: sums about a shift near the mean (the first plane's), small deviations.
                    if (sampleSums)
                    {
                        w.Line(batchSums ? "// Taken above: the same floats SumsAboutShift gives" : "// Added sample by sample in the convolution's loop: the same floats SumsAboutShift gives");
                        w.Line("var (shift, deviations, squaredDeviations) = global::CnnGen.Kernels.BatchNormalization.SampleSums(sampleSums, c);");
                    }
                    else
                    {
                        w.Line("float shift = (float)(global::CnnGen.Kernels.BatchNormalization.Sum(x, 1, " + C + ", " + Int(plane) + ", c) / " + Int(plane) + ");");
                        w.Line("var (deviations, squaredDeviations) = global::CnnGen.Kernels.BatchNormalization.SumsAboutShift(x, " + where + ", shift);");
                    }
                    w.Line("double mean = shift + deviations / count;");
                    w.Line("double squares = global::System.Math.Max(0, squaredDeviations - deviations * deviations / count);");
                    w.Line("float invStd = (float)(1.0 / global::System.Math.Sqrt(squares / count + " + eps + "));");
                    w.Line("batchMean[c] = (float)mean;");
                    w.Line("batchInvStd[c] = invStd;");
                    w.Line("// running = (1 - momentum) * running + momentum * batch; the variance unbiased");
                    w.Line("running[c] = " + keep + " * running[c] + " + take + " * (float)mean;");
                    w.Line("running[" + C + " + c] = " + keep + " * running[" + C + " + c] + " + take + " * (float)(squares / (count - 1));");
                    if (!sampleSums) w.Line("global::CnnGen.Kernels.BatchNormalization.Normalize(x, y, " + where + ", (float)mean, invStd, p[c], p[" + C + " + c]" + reluArgument + ");");
                }
                if (sampleSums)
                {
                    w.Line("// Every channel's statistics known: normalize sample after sample, one stream through x and y"
                        + (bySample ? " (or each sample in the next layer's loop)" : ""));
                    w.Line((bySample ? "if (!normalizeBySample) " : "")
                        + "global::CnnGen.Kernels.BatchNormalization.NormalizeBatch(x, y, batchSize, " + C + ", " + Int(plane) + ", batchMean, batchInvStd, p" + reluArgument + ");");
                }
                w.Line("batchesTracked++;");
            }
        }

        /// <summary>
        /// Training-mode backward through the batch statistics: with x̂ = (x - mean) · invStd and M values per channel,
        /// dγ = Σ dy·x̂, dβ = Σ dy, dx = γ·invStd·(dy - Σdy/M - x̂·Σ(dy·x̂)/M).
        /// </summary>
        public override void EmitBackwardCall(IndentedWriter w, PlannedLayer layer, BackwardBuffers gradients)
        {
            int length = layer.Input.Length;
            // A frozen layer's two sums per channel go to scratch (dx needs them); fixed statistics after ForwardForGradients or when kept in evaluation mode.
            w.Line(MethodName(layer) + "Backward(" + BatchSlice(InputArray(layer), length) + ", " + gradients.OutputBatch(layer) + ", batchSize, "
                + ParameterSlice(layer) + ", " + ParameterGradientOrDiscarded(layer) + ", workspace." + MeanArray(layer) + ", workspace." + InvStdArray(layer) + ", "
                + (gradients.InputBySample ? "default" : InputGradientOrEmpty(layer, gradients.InputBatch(layer))) + ", workspace.ForwardUsedRunningStatistics || workspace.GradientFlow.RunningStatistics[" + Int(layer.Index) + "], "
                + "workspace." + BackwardSumsArray(layer) + ", workspace." + BackwardCoefficientsArray(layer) + ", workspace.BatchStatisticsTeam, workspace.BatchStatisticsMember"
                + (gradients.SumsAdded is null ? "" : ", " + gradients.SumsAdded)
                + (gradients.InputBySample ? ", dxBySample: " + InputGradientCondition(layer) : "") + ");");
        }

        /// <summary>
        /// Whether this layer's planes are large enough (16x16 or more) that its per-sample work pays inside the loop over the
        /// samples next to it, where the sample is in cache, rather than in a pass over the batch that reads every sample back
        /// from memory: its sums added as a residual join's ReLU backward writes dy (NetworkEmitter.JoinAddsBatchNormSums),
        /// its input gradient made in the loop below it (<see cref="SampleInputGradient"/>), its normalize in the loop after
        /// it (<see cref="NormalizesBySample"/>). On 8x8 planes the separate passes stream as well (benchmarks/README.md,
        /// sessions 15 and 43).
        /// </summary>
        public static bool WorksInSampleLoops(PlannedLayer layer) => layer.Input.Height * layer.Input.Width >= 256;

        // ", relu: true" or ", relu6: true" where the activation after the layer runs in its normalize pass in training.
        private static string ReluArgument(PlannedLayer? relu) =>
            relu is null ? "" : relu.Kind == LayerKind.ReLU6 ? ", relu6: true" : ", relu: true";

        /// <summary>Sample <c>n</c>'s input gradient from its output gradient <paramref name="dySample"/> into <paramref name="dxSample"/>, on the coefficients the backward call made.</summary>
        public static string SampleInputGradient(PlannedLayer layer, string dySample, string dxSample) =>
            "global::CnnGen.Kernels.BatchNormalization.BackwardInputBatch(" + SampleSlice(InputArray(layer), layer.Input.Length) + ", " + dySample + ", " + dxSample + ", 1, "
            + Int(layer.Input.Channels) + ", " + Int(layer.Input.Height * layer.Input.Width) + ", workspace." + MeanArray(layer) + ", workspace." + InvStdArray(layer)
            + ", workspace." + BackwardCoefficientsArray(layer) + ");";

        /// <summary>
        /// A residual join's ReLU backward right above this batch-norm, over the batch into <paramref name="dy"/>, with this
        /// layer's backward sums added a sample at a time as dy is written (<c>ReluBackwardOfSumWithBackwardSums</c>), so its
        /// backward reads them instead of dy again (the call then passes <c>sumsAdded</c>, <see cref="BackwardBuffers.SumsAdded"/>).
        /// </summary>
        public static string ReluBackwardOfSumWithSums(PlannedLayer layer, string reluOutput, string sum, string addend, string dy) =>
            "global::CnnGen.Kernels.BatchNormalization.ReluBackwardOfSumWithBackwardSums(" + reluOutput + ", " + sum + ", " + addend + ", " + dy + ", "
            + BatchSlice(InputArray(layer), layer.Input.Length) + ", batchSize, " + Int(layer.Input.Channels) + ", " + Int(layer.Input.Height * layer.Input.Width)
            + ", workspace." + MeanArray(layer) + ", workspace." + BackwardSumsArray(layer) + ");";

        // Every pass sample after sample, over all channels: a channel at a time reads a plane per sample a sample apart, which
        // the prefetchers follow badly on small planes (KernelBench bnbackward; benchmarks/README.md, session 12, bnback).
        public override void EmitBackwardMethods(IndentedWriter w, PlannedLayer layer)
        {
            int channels = layer.Input.Channels, plane = layer.Input.Height * layer.Input.Width;
            string C = Int(channels);
            string shape = C + ", " + Int(plane);
            w.Line("/// <summary>" + Xml(layer.Describe()) + ", backward through the batch statistics (or fixed running ones); <paramref name=\"dx\"/> may be empty.</summary>");
            w.Line("private static void " + MethodName(layer) + "Backward(" + ReadOnlySpan + " x, " + ReadOnlySpan + " dy, int batchSize, " + ReadOnlySpan + " p, "
                + Span + " dp, " + ReadOnlySpan + " batchMean, " + ReadOnlySpan + " batchInvStd, " + Span + " dx, bool fixedStatistics, "
                + "global::System.Span<double> sums, " + Span + " coefficients, " + Team + " team, int teamMember, bool sumsAdded = false, bool dxBySample = false)");
            using (w.OpenBlock())
            {
                // dxBySample: the coefficients only, dx a sample at a time by the caller (the team meets all the same).
                using (w.OpenBlock("if (team is not null && !fixedStatistics && (!dx.IsEmpty || dxBySample))"))
                {
                    w.Line("// This thread's chunk of a batch split across threads: dx needs Σdy and Σdy·x̂ over the whole batch.");
                    w.Line("team.Backward(teamMember, " + Int(layer.Index) + ", x, dy, batchSize, " + shape + ", p, dp, batchMean, batchInvStd, dx, sums, coefficients, sumsAdded);");
                    w.Line("return;");
                }
                w.Line("float count = batchSize * " + Int(plane) + ";");
                w.Line("// The sums may have been added already, in the pass that wrote dy.");
                w.Line("if (!sumsAdded) global::CnnGen.Kernels.BatchNormalization.BackwardSumsBatch(x, dy, batchSize, " + shape + ", batchMean, sums);");
                using (w.OpenBlock("for (int c = 0; c < " + C + "; c++)"))
                {
                    w.Line("float invStd = batchInvStd[c];");
                    w.Line("var (sumDy, sumDyXhat) = global::CnnGen.Kernels.BatchNormalization.BackwardSampleSums(sums, c, invStd);");
                    w.Line("dp[c] += (float)sumDyXhat;");
                    w.Line("dp[" + C + " + c] += (float)sumDy;");
                    w.Line("// With fixed (running) statistics the mean and variance do not depend on x: dx = γ·invStd·dy.");
                    w.Line("coefficients[c] = p[c] * invStd;");
                    w.Line("coefficients[" + C + " + c] = fixedStatistics ? 0f : (float)(sumDy / count);");
                    w.Line("coefficients[" + Int(2 * channels) + " + c] = fixedStatistics ? 0f : (float)(sumDyXhat / count);");
                }
                w.Line("if (!dx.IsEmpty) global::CnnGen.Kernels.BatchNormalization.BackwardInputBatch(x, dy, dx, batchSize, " + shape + ", batchMean, batchInvStd, coefficients);");
            }
        }
    }
}
