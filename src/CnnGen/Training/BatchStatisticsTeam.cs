using System;
using System.ComponentModel;
using System.Threading;
using CnnGen.Kernels;
using CnnGen.Shapes;

namespace CnnGen.Training
{
    /// <summary>
    /// Lets the threads of one <see cref="Trainer"/>, each with its own contiguous chunk of the batch, run training-mode
    /// batch-norm with the statistics of the whole batch (PyTorch's semantics). At each batch-norm every thread computes
    /// its chunk's partial sums channel by channel and publishes them a block of channels at a time (at least 64K of its
    /// values: small planes are not a meeting each); once every thread has published a block, each combines those
    /// channels' sums in thread order, so every thread gets the same mean and 1/std bit for bit, and normalizes its own
    /// chunk of them, one block behind its sums (the block's planes still in cache). Backward does the same with Σ dy and
    /// Σ dy·x̂. A workspace that belongs to no team (<see cref="NetworkWorkspace.BatchStatisticsTeam"/>
    /// null) runs batch-norm on its own batch, as always.
    /// </summary>
    /// <remarks>
    /// Each batch-norm layer has its own slots for the forward and for the backward pass, so a thread that runs ahead
    /// into the next layer never overwrites partial sums another thread is still reading; between steps the worker pool
    /// waits for everyone. A thread waiting for a channel spins briefly, then yields, then blocks until the partner
    /// publishes, so a partner descheduled by other processes does not cost a core, and it throws when another thread failed
    /// (<see cref="Abort"/>), so a failing worker never leaves the others waiting.
    /// </remarks>
    public sealed class BatchStatisticsTeam
    {
        // Per channel and thread: the forward's shift (the chunk's own mean, in float), Σ(x − shift) and Σ(x − shift)²;
        // the backward's Σdy and Σdy·x̂. Indexed [layer][(thread · channels + channel) · width].
        private const int ForwardWidth = 3, BackwardWidth = 2;
        private readonly double[]?[] _forwardSlots;
        private readonly double[]?[] _backwardSlots;
        // Values per channel in each thread's chunk, per layer and pass: [layer][thread].
        private readonly long[]?[] _forwardCounts;
        private readonly long[]?[] _backwardCounts;
        private readonly int[] _channels;

        // Channels each thread has published sums for since Begin, one cache line apart: a thread finishes a block of channels
        // (its second pass) once every participant has published it, a block behind its own sums, while the block's planes
        // are still in its L2 (after all the sums, as a meeting would have them, they are not: KernelBench batchnorm).
        private const int PublishedStride = 16;
        private readonly long[] _published;
        // How many meetings behind its sums a thread finishes: one leaves the partner a meeting's time of slack.
        private const int Lag = 1;

        // 64K values (256 KB of floats) a meeting: the block a thread finishes is still in its L2 (1 MB) with the block it
        // is summing and the outputs it writes, and the threads meet 4 to 30 times less often on MobileNetV2 (planes of 8x8
        // and 16x16, chunks of 32 samples: 2K and 8K values a channel) and 2 to 32 times less on the strided network.
        // train-loop mobilenetv2 2 10, CPU µs per image (best round; the waits count, spinning or yielding), two
        // interleaved sweeps at load 31-49 (2026-12-02; others building): a channel at a time 356, 317 (and 360, 325 in an
        // earlier pair); 4K values 349, 301; 16K 297, 355 (330, 292); 64K 289, 286 (321, 297); 256K 272, 290; a meeting
        // per layer 273, 278 (that build also counted the meetings with an atomic add, which charged a channel at a time
        // most). The committed code against its base, interleaved, 6 runs each at load 18-47: 269-403 µs per image, median
        // 295, against 301-405, median 321; the strided network's 539-702 against 524-703 (3 runs each): within the noise.
        // One thread, the blocked order of passes costs nothing measurable against a channel at a time for blocks of 16K
        // to 256K values on nine shapes (KernelBench batchnorm's last table: within ±10%, the noise at load 32-47), while
        // all the sums before any second pass (a meeting per layer) measured up to 15% slower on 32x32 planes.
        internal const int DefaultMeetingValues = 64 * 1024;

        /// <summary>
        /// The fewest values of its chunk a thread sums (whole channels, one after another) before it publishes them and
        /// meets the others: channels of fewer values are published together. Any value gives the same floats (each
        /// channel's sums and their combination do not depend on it); it sets how often the threads meet.
        /// </summary>
        internal int MeetingValues { get; init; } = DefaultMeetingValues;

        // Channels a thread sums before it publishes them: at least MeetingValues of its chunk's values, whole channels.
        private int ChannelsPerMeeting(long valuesPerChannel, int channels) =>
            (int)Math.Clamp((MeetingValues + Math.Max(1, valuesPerChannel) - 1) / Math.Max(1, valuesPerChannel), 1, channels);

        private int _participants;
        private volatile bool _aborted;

        // Iterations of SpinWait (spinning, then yielding) before a waiting thread blocks: the partner is probably descheduled.
        private const int SpinsBeforeBlocking = 100;
        // Threads blocked (or about to block) on _progress, which a thread publishing a channel sets while there are any.
        private int _sleepers;
        private readonly ManualResetEventSlim _progress = Prepared();

        internal BatchStatisticsTeam(NetworkLayout layout, int threads)
        {
            ArgumentNullException.ThrowIfNull(layout);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
            Threads = threads;
            int layers = 0;
            foreach (var layer in layout.Layers) layers = Math.Max(layers, layer.Index + 1);
            _forwardSlots = new double[]?[layers];
            _backwardSlots = new double[]?[layers];
            _forwardCounts = new long[]?[layers];
            _backwardCounts = new long[]?[layers];
            _channels = new int[layers];
            foreach (var layer in layout.Layers)
            {
                if (layer.Kind != LayerKind.BatchNorm) continue;
                int channels = layer.Input.Channels;
                _channels[layer.Index] = channels;
                _forwardSlots[layer.Index] = new double[threads * channels * ForwardWidth];
                _backwardSlots[layer.Index] = new double[threads * channels * BackwardWidth];
                _forwardCounts[layer.Index] = new long[threads];
                _backwardCounts[layer.Index] = new long[threads];
            }
            _published = new long[threads * PublishedStride];
            _participants = threads;
        }

        /// <summary>Threads the team was made for.</summary>
        public int Threads { get; }

        /// <summary>Threads taking part in the current step (those with a non-empty chunk).</summary>
        public int Participants => _participants;

        /// <summary>Starts a step with threads 0 to <paramref name="participants"/> − 1; clears an earlier abort. Call while no thread runs.</summary>
        internal void Begin(int participants)
        {
            if (participants < 1 || participants > Threads)
                throw new ArgumentOutOfRangeException(nameof(participants), participants, "Expected between 1 and " + Threads + " participants.");
            _participants = participants;
            for (int t = 0; t < Threads; t++) _published[t * PublishedStride] = 0;
            _aborted = false;
            _progress.Reset(); // set by an abort
        }

        /// <summary>A thread failed: every thread waiting (or about to wait) for another's sums throws <see cref="BatchStatisticsTeamAbortedException"/>.</summary>
        internal void Abort()
        {
            _aborted = true;
            _progress.Set();
        }

        /// <summary>An event whose lock exists already, so no later wait allocates it.</summary>
        private static ManualResetEventSlim Prepared()
        {
            var signal = new ManualResetEventSlim(false, spinCount: 1);
            signal.Wait(1);
            return signal;
        }

        /// <summary>
        /// Training-mode batch-norm of thread <paramref name="member"/>'s chunk with the whole batch's statistics: the same
        /// results as the single-workspace method the generator emits, up to the order of summation. Running statistics
        /// (unbiased variance over the whole batch) and <paramref name="batchesTracked"/> are updated by thread 0 only. With
        /// <paramref name="relu"/> (<paramref name="relu6"/>), <paramref name="y"/> receives the ReLU (ReLU6) of the normalized values (one pass for both). With
        /// <paramref name="sampleSums"/> (<see cref="BatchNormalization.AddSampleSums"/> over the chunk, in the loop of the layer
        /// before) the chunk's sums are in already: one meeting for every channel, then the normalize pass, unless
        /// <paramref name="normalize"/> is false: then the statistics only, the caller normalizing each sample where the layer
        /// after reads it (BatchNormalization.NormalizeBatch on one sample: the same floats).
        /// </summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Forward(int member, int layer, ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane,
            ReadOnlySpan<float> p, Span<float> running, ref long batchesTracked, Span<float> batchMean, Span<float> batchInvStd,
            float eps, float keep, float take, bool relu = false, ReadOnlySpan<double> sampleSums = default, bool relu6 = false, bool normalize = true)
        {
            var slots = Slots(_forwardSlots, layer, channels, member);
            var counts = _forwardCounts[layer]!;
            if (!normalize && sampleSums.IsEmpty) throw new ArgumentException("Only statistics from the chunk's sums leave the normalizing to the caller.", nameof(normalize));
            if (!sampleSums.IsEmpty)
            {
                ForwardFromSampleSums(member, layer, sampleSums, slots, counts, x, y, batchSize, channels, plane, p, running, batchMean, batchInvStd, eps, keep, take, relu, relu6, normalize);
                if (member == 0) batchesTracked++;
                return;
            }
            // This chunk's sums about a shift near its mean, its first plane's mean: small deviations, in one pass over the
            // chunk (the combination below is exact for any shift; a shift within a few standard deviations of the mean costs
            // a bit or two of the squares, not the pass over the whole chunk that its exact mean would).
            counts[member] = (long)batchSize * plane;
            long first = _published[member * PublishedStride]; // the same on every thread: each publishes every channel of every layer
            long count = 0;
            int block = ChannelsPerMeeting(counts[member], channels), blocks = (channels + block - 1) / block;
            for (int b = 0; b < blocks + Lag; b++)
            {
                if (b < blocks)
                {
                    int end = Math.Min(channels, (b + 1) * block);
                    for (int c = b * block; c < end; c++)
                    {
                        float shift = (float)(BatchNormalization.Sum(x, 1, channels, plane, c) / plane);
                        var (deviations, squares) = BatchNormalization.SumsAboutShift(x, batchSize, channels, plane, c, shift);
                        int at = (member * channels + c) * ForwardWidth;
                        slots[at] = shift;
                        slots[at + 1] = deviations;
                        slots[at + 2] = squares;
                    }
                    Publish(member, end - b * block);
                }
                int finish = b - Lag;
                if (finish < 0) continue;
                int finishEnd = Math.Min(channels, (finish + 1) * block);
                WaitForAll(first + finishEnd);
                if (finish == 0)
                {
                    for (int t = 0; t < _participants; t++) count += counts[t];
                    NetworkChecks.RequireBatchStatistics((int)Math.Min(count, int.MaxValue), layer);
                }
                for (int c = finish * block; c < finishEnd; c++)
                    FinishForward(c, slots, counts, count, x, y, batchSize, channels, plane, p, running, member, batchMean, batchInvStd, eps, keep, take, relu, relu6);
            }
            if (member == 0) batchesTracked++;
        }

        // The chunk's sums came with the call: publish them all, meet once, and normalize the chunk sample after sample (the
        // planes are no longer in cache from the sums, so nothing is gained by finishing a block behind them).
        private void ForwardFromSampleSums(int member, int layer, ReadOnlySpan<double> sampleSums, double[] slots, long[] counts, ReadOnlySpan<float> x, Span<float> y,
            int batchSize, int channels, int plane, ReadOnlySpan<float> p, Span<float> running, Span<float> batchMean, Span<float> batchInvStd,
            float eps, float keep, float take, bool relu, bool relu6, bool normalize)
        {
            if (sampleSums.Length < channels * BatchNormalization.SampleSumsWidth)
                throw new ArgumentException("Expected the sums of " + channels + " channels.", nameof(sampleSums));
            counts[member] = (long)batchSize * plane;
            long first = _published[member * PublishedStride];
            for (int c = 0; c < channels; c++)
            {
                var (shift, deviations, squares) = BatchNormalization.SampleSums(sampleSums, c);
                int at = (member * channels + c) * ForwardWidth;
                slots[at] = shift;
                slots[at + 1] = deviations;
                slots[at + 2] = squares;
            }
            Publish(member, channels);
            WaitForAll(first + channels);
            long count = 0;
            for (int t = 0; t < _participants; t++) count += counts[t];
            NetworkChecks.RequireBatchStatistics((int)Math.Min(count, int.MaxValue), layer);
            for (int c = 0; c < channels; c++) FinishStatistics(c, slots, counts, count, channels, running, member, batchMean, batchInvStd, eps, keep, take);
            if (normalize) BatchNormalization.NormalizeBatch(x, y, batchSize, channels, plane, batchMean, batchInvStd, p, relu, relu6);
        }

        // Channel c once every thread's sums are in: the whole batch's statistics, combined in thread order so every thread
        // computes the same values, the running statistics (thread 0), and this chunk normalized.
        private void FinishForward(int c, double[] slots, long[] counts, long count, ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane,
            ReadOnlySpan<float> p, Span<float> running, int member, Span<float> batchMean, Span<float> batchInvStd, float eps, float keep, float take, bool relu, bool relu6)
        {
            FinishStatistics(c, slots, counts, count, channels, running, member, batchMean, batchInvStd, eps, keep, take);
            BatchNormalization.Normalize(x, y, batchSize, channels, plane, c, batchMean[c], batchInvStd[c], p[c], p[channels + c], relu, relu6);
        }

        // Channel c's statistics from every thread's sums, and the running statistics (thread 0).
        private void FinishStatistics(int c, double[] slots, long[] counts, long count, int channels, Span<float> running, int member,
            Span<float> batchMean, Span<float> batchInvStd, float eps, float keep, float take)
        {
            // Σx = Σ_t [n_t·s_t + Σ(x − s_t)].
            double total = 0;
            for (int t = 0; t < _participants; t++)
            {
                int at = (t * channels + c) * ForwardWidth;
                total += counts[t] * slots[at] + slots[at + 1];
            }
            double mean = total / count;
            // Σ(x − mean)² = Σ_t [ Σ(x − s_t)² + 2(s_t − mean)·Σ(x − s_t) + n_t·(s_t − mean)² ]: exact, from small terms.
            double squares = 0;
            for (int t = 0; t < _participants; t++)
            {
                int at = (t * channels + c) * ForwardWidth;
                double offset = slots[at] - mean;
                squares += slots[at + 2] + offset * (2 * slots[at + 1] + counts[t] * offset);
            }
            squares = Math.Max(0, squares);
            float invStd = (float)(1.0 / Math.Sqrt(squares / count + eps));
            batchMean[c] = (float)mean;
            batchInvStd[c] = invStd;
            if (member == 0)
            {
                running[c] = keep * running[c] + take * (float)mean;
                running[channels + c] = keep * running[channels + c] + take * (float)(squares / (count - 1));
            }
        }

        /// <summary>
        /// Training-mode batch-norm backward of thread <paramref name="member"/>'s chunk through the whole batch's statistics:
        /// this chunk's part of dγ and dβ is added to <paramref name="dp"/> (the trainer sums the threads' gradients), and
        /// dx uses Σ dy and Σ dy·x̂ over the whole batch.
        /// </summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Backward(int member, int layer, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane,
            ReadOnlySpan<float> p, Span<float> dp, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx)
        {
            var slots = Slots(_backwardSlots, layer, channels, member);
            var counts = _backwardCounts[layer]!;
            counts[member] = (long)batchSize * plane;
            long first = _published[member * PublishedStride];
            float count = 0;
            int block = ChannelsPerMeeting(counts[member], channels), blocks = (channels + block - 1) / block;
            for (int b = 0; b < blocks + Lag; b++)
            {
                if (b < blocks)
                {
                    int end = Math.Min(channels, (b + 1) * block);
                    for (int c = b * block; c < end; c++)
                    {
                        var (sumDy, sumDyXhat) = BatchNormalization.BackwardSums(x, dy, batchSize, channels, plane, c, batchMean[c], batchInvStd[c]);
                        dp[c] += (float)sumDyXhat;
                        dp[channels + c] += (float)sumDy;
                        int at = (member * channels + c) * BackwardWidth;
                        slots[at] = sumDy;
                        slots[at + 1] = sumDyXhat;
                    }
                    Publish(member, end - b * block);
                }
                int finish = b - Lag;
                if (finish < 0) continue;
                int finishEnd = Math.Min(channels, (finish + 1) * block);
                WaitForAll(first + finishEnd);
                if (finish == 0)
                {
                    long values = 0;
                    for (int t = 0; t < _participants; t++) values += counts[t];
                    count = values;
                }
                for (int c = finish * block; c < finishEnd; c++)
                {
                    double totalDy = 0, totalDyXhat = 0;
                    for (int t = 0; t < _participants; t++)
                    {
                        int at = (t * channels + c) * BackwardWidth;
                        totalDy += slots[at];
                        totalDyXhat += slots[at + 1];
                    }
                    float mean = batchMean[c], invStd = batchInvStd[c];
                    float scale = p[c] * invStd, meanDy = (float)(totalDy / count), meanDyXhat = (float)(totalDyXhat / count);
                    BatchNormalization.BackwardInput(x, dy, dx, batchSize, channels, plane, c, mean, invStd, scale, meanDy, meanDyXhat);
                }
            }
        }

        /// <summary>
        /// <see cref="Backward(int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, ReadOnlySpan{float}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>
        /// with every pass sample after sample: the chunk's sums of every channel in one stream through x and dy
        /// (<see cref="BatchNormalization.BackwardSumsBatch"/>, into <paramref name="sums"/>), one meeting, then dx in one stream
        /// (<see cref="BatchNormalization.BackwardInputBatch"/>, its coefficients in <paramref name="coefficients"/>). The same
        /// floats as the blocked meetings: each chunk's sums as BackwardSums gives them, combined in thread order. With
        /// <paramref name="sumsAdded"/> the chunk's sums are in <paramref name="sums"/> already (added in the pass that wrote dy,
        /// <see cref="BatchNormalization.ReluBackwardOfSumWithBackwardSums"/>). An empty <paramref name="dx"/>: the coefficients
        /// only, the caller taking dx a sample at a time.
        /// </summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Backward(int member, int layer, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane,
            ReadOnlySpan<float> p, Span<float> dp, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx,
            Span<double> sums, Span<float> coefficients, bool sumsAdded = false)
        {
            var slots = Slots(_backwardSlots, layer, channels, member);
            var counts = _backwardCounts[layer]!;
            counts[member] = (long)batchSize * plane;
            long first = _published[member * PublishedStride];
            if (!sumsAdded) BatchNormalization.BackwardSumsBatch(x, dy, batchSize, channels, plane, batchMean, sums);
            for (int c = 0; c < channels; c++)
            {
                var (sumDy, sumDyXhat) = BatchNormalization.BackwardSampleSums(sums, c, batchInvStd[c]);
                dp[c] += (float)sumDyXhat;
                dp[channels + c] += (float)sumDy;
                int at = (member * channels + c) * BackwardWidth;
                slots[at] = sumDy;
                slots[at + 1] = sumDyXhat;
            }
            Publish(member, channels);
            WaitForAll(first + channels);
            long values = 0;
            for (int t = 0; t < _participants; t++) values += counts[t];
            float count = values;
            for (int c = 0; c < channels; c++)
            {
                double totalDy = 0, totalDyXhat = 0;
                for (int t = 0; t < _participants; t++)
                {
                    int at = (t * channels + c) * BackwardWidth;
                    totalDy += slots[at];
                    totalDyXhat += slots[at + 1];
                }
                coefficients[c] = p[c] * batchInvStd[c];
                coefficients[channels + c] = (float)(totalDy / count);
                coefficients[2 * channels + c] = (float)(totalDyXhat / count);
            }
            if (!dx.IsEmpty) BatchNormalization.BackwardInputBatch(x, dy, dx, batchSize, channels, plane, batchMean, batchInvStd, coefficients);
        }

        // More channels' sums of this thread are in its slots (and its chunk's count before them): the write releases them.
        // A full fence between it and the read of _sleepers (the waiter's are the other way round), so either a blocking
        // thread sees the new count before it waits or this one sees it and wakes it.
        private void Publish(int member, int channels)
        {
            ref long published = ref _published[member * PublishedStride];
            Interlocked.Exchange(ref published, published + channels);
            if (Volatile.Read(ref _sleepers) != 0) _progress.Set();
        }

        /// <summary>Waits until every participant has published <paramref name="channels"/> channels since <see cref="Begin"/>; their sums are then visible.</summary>
        private void WaitForAll(long channels)
        {
            if (_participants == 1) return;
            for (int t = 0; t < _participants; t++)
            {
                var spinner = new SpinWait();
                while (Volatile.Read(ref _published[t * PublishedStride]) < channels)
                {
                    if (_aborted) throw new BatchStatisticsTeamAbortedException();
                    // Spin, then yield, then block: a partner descheduled by other processes must not cost this core.
                    if (spinner.Count < SpinsBeforeBlocking) spinner.SpinOnce(sleep1Threshold: -1);
                    else Block(t, channels);
                }
            }
            if (_aborted) throw new BatchStatisticsTeamAbortedException();
        }

        // Blocks until thread t has published the channels, or an abort. The reset comes before the check, so a publication
        // after the check sets the event again; the wait's timeout only bounds a wake-up lost to another waiter's reset.
        private void Block(int t, long channels)
        {
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (!_aborted)
                {
                    _progress.Reset();
                    if (_aborted || Volatile.Read(ref _published[t * PublishedStride]) >= channels) return;
                    _progress.Wait(1);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }

        private double[] Slots(double[]?[] slots, int layer, int channels, int member)
        {
            if ((uint)layer >= (uint)slots.Length || slots[layer] is null || _channels[layer] != channels)
                throw new ArgumentException("Layer " + layer + " is not a batch-norm over " + channels + " channels in the network this team was made for.", nameof(layer));
            if ((uint)member >= (uint)_participants)
                throw new ArgumentOutOfRangeException(nameof(member), member, "Expected a thread below " + _participants + ".");
            return slots[layer]!;
        }
    }

    /// <summary>Another thread of the batch-norm team failed; that thread's exception is the one to report.</summary>
    public sealed class BatchStatisticsTeamAbortedException : Exception
    {
        public BatchStatisticsTeamAbortedException()
            : base("Another thread sharing batch-norm statistics failed during this step; its exception says why.")
        {
        }
    }
}
