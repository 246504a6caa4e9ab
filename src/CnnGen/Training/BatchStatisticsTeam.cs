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
    /// its chunk's per-channel partial sums, publishes them, meets the others, and combines all of them in thread order,
    /// so every thread gets the same mean and 1/std bit for bit; then it normalizes its own chunk. Backward does the same
    /// with Σ dy and Σ dy·x̂. A workspace that belongs to no team (<see cref="NetworkWorkspace.BatchStatisticsTeam"/> null)
    /// runs batch-norm on its own batch, as always.
    /// </summary>
    /// <remarks>
    /// Each batch-norm layer has its own slots for the forward and for the backward pass, so a thread that runs ahead
    /// into the next layer never overwrites partial sums another thread is still reading; between steps the worker pool
    /// waits for everyone. The meeting point spins briefly, then yields, then blocks until the last thread arrives, so a
    /// partner descheduled by other processes does not cost a core, and it is released with an exception when another thread failed
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

        private int _participants;
        private int _arrived;
        private int _generation;
        private volatile bool _aborted;
        // What a thread blocks on once it has spun long enough: meeting g is released by _released[g & 1].
        private readonly ManualResetEventSlim[] _released = { Prepared(), Prepared() };

        // Iterations of SpinWait (spinning, then yielding) before a waiting thread blocks: the partner is probably descheduled.
        private const int SpinsBeforeBlocking = 100;

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
            _arrived = 0;
            _aborted = false;
            _released[(_generation + 1) & 1].Reset(); // set by an abort; the current meeting's is reset already
            _released[_generation & 1].Reset();
        }

        /// <summary>A thread failed: every thread waiting (or about to wait) at a meeting point throws <see cref="BatchStatisticsTeamAbortedException"/>.</summary>
        internal void Abort()
        {
            _aborted = true;
            _released[0].Set();
            _released[1].Set();
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
        /// <paramref name="relu"/>, <paramref name="y"/> receives the ReLU of the normalized values (one pass for both).
        /// </summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void Forward(int member, int layer, ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane,
            ReadOnlySpan<float> p, Span<float> running, ref long batchesTracked, Span<float> batchMean, Span<float> batchInvStd,
            float eps, float keep, float take, bool relu = false)
        {
            var slots = Slots(_forwardSlots, layer, channels, member);
            var counts = _forwardCounts[layer]!;
            // This chunk's sums about a shift near its mean, its first plane's mean: small deviations, in one pass over the
            // chunk (the combination below is exact for any shift; a shift within a few standard deviations of the mean costs
            // a bit or two of the squares, not the pass over the whole chunk that its exact mean would).
            long chunkCount = (long)batchSize * plane;
            for (int c = 0; c < channels; c++)
            {
                float shift = (float)(BatchNormalization.Sum(x, 1, channels, plane, c) / plane);
                var (deviations, squares) = BatchNormalization.SumsAboutShift(x, batchSize, channels, plane, c, shift);
                int at = (member * channels + c) * ForwardWidth;
                slots[at] = shift;
                slots[at + 1] = deviations;
                slots[at + 2] = squares;
            }
            counts[member] = chunkCount;
            Meet();

            long count = 0;
            for (int t = 0; t < _participants; t++) count += counts[t];
            NetworkChecks.RequireBatchStatistics((int)Math.Min(count, int.MaxValue), layer);
            for (int c = 0; c < channels; c++)
            {
                // In thread order, so every thread computes the same values. Σx = Σ_t [n_t·s_t + Σ(x − s_t)].
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
                BatchNormalization.Normalize(x, y, batchSize, channels, plane, c, (float)mean, invStd, p[c], p[channels + c], relu);
            }
            if (member == 0) batchesTracked++;
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
            for (int c = 0; c < channels; c++)
            {
                var (sumDy, sumDyXhat) = BatchNormalization.BackwardSums(x, dy, batchSize, channels, plane, c, batchMean[c], batchInvStd[c]);
                dp[c] += (float)sumDyXhat;
                dp[channels + c] += (float)sumDy;
                int at = (member * channels + c) * BackwardWidth;
                slots[at] = sumDy;
                slots[at + 1] = sumDyXhat;
            }
            counts[member] = (long)batchSize * plane;
            Meet();

            long values = 0;
            for (int t = 0; t < _participants; t++) values += counts[t];
            float count = values;
            for (int c = 0; c < channels; c++)
            {
                double sumDy = 0, sumDyXhat = 0;
                for (int t = 0; t < _participants; t++)
                {
                    int at = (t * channels + c) * BackwardWidth;
                    sumDy += slots[at];
                    sumDyXhat += slots[at + 1];
                }
                float mean = batchMean[c], invStd = batchInvStd[c];
                float scale = p[c] * invStd, meanDy = (float)(sumDy / count), meanDyXhat = (float)(sumDyXhat / count);
                BatchNormalization.BackwardInput(x, dy, dx, batchSize, channels, plane, c, mean, invStd, scale, meanDy, meanDyXhat);
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

        /// <summary>Waits until every participant has arrived; the slots written before are then visible to all.</summary>
        private void Meet()
        {
            if (_participants == 1) return;
            int generation = Volatile.Read(ref _generation);
            if (Interlocked.Increment(ref _arrived) == _participants)
            {
                // The last to arrive prepares the next meeting, then releases this one. Nobody still waits on the next
                // meeting's event: its previous use (two meetings ago) ended before anyone could arrive here.
                _released[(generation + 1) & 1].Reset();
                Volatile.Write(ref _arrived, 0);
                Interlocked.Increment(ref _generation);
                _released[generation & 1].Set();
                return;
            }
            var spinner = new SpinWait();
            while (Volatile.Read(ref _generation) == generation)
            {
                if (_aborted) throw new BatchStatisticsTeamAbortedException();
                if (spinner.Count < SpinsBeforeBlocking) spinner.SpinOnce(sleep1Threshold: -1);
                else _released[generation & 1].Wait();
            }
            if (_aborted) throw new BatchStatisticsTeamAbortedException();
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
