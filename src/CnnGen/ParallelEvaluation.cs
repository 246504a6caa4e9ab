using System;
using System.Threading;
using CnnGen.Training;

namespace CnnGen
{
    /// <summary>
    /// Evaluation of a batch on several threads: the batch is cut into runs of consecutive samples, each run evaluated by
    /// <see cref="INetwork.Forward"/> on its thread's own workspace, on threads started once (the caller's is the first).
    /// Outputs are those of one <c>Forward</c> over the whole batch, sample for sample, up to float rounding where a kernel
    /// sums over a run's samples in blocks of the run's size (Linear over a batch); the runs' sizes depend on the batch size
    /// alone, not on which thread takes which, so a batch gives the same floats on every call. Allocates nothing per call,
    /// where <c>Parallel.For</c> allocates its tasks and closures on every batch.
    /// </summary>
    /// <remarks>
    /// How the batch is cut: a network whose weights are each used many times per sample (convolutions: the multiply-adds
    /// per sample are <see cref="ChunkingReuse"/> or more times the parameters) is handed out in shrinking runs that the
    /// threads take as they come free (guided: a run is the samples left over twice the threads, down to
    /// <see cref="SmallestRun"/>), so a thread the machine slows down takes fewer samples instead of holding up the batch.
    /// A network that reads its weights about once per sample (Linear layers) pays for each run in weight traffic, so it
    /// keeps one run per thread, the batch split evenly.
    /// <para>One call at a time: the threads and workspaces are this object's. The network's weights are read, never written, so
    /// several evaluators (or a trainer's threads between steps) may share one network.</para>
    /// </remarks>
    public sealed class ParallelEvaluation : IDisposable
    {
        private readonly INetwork _network;
        private readonly NetworkWorkspace[] _workspaces;
        private readonly WorkerPool _pool;
        private readonly int _inputLength, _outputLength;
        private ReadOnlyMemory<float> _input;
        private Memory<float> _output;
        private int _batchSize;
        private int _nextSample; // the first sample no thread has taken yet (taken by Interlocked.CompareExchange)
        private bool _disposed;

        /// <summary>Multiply-adds per sample over parameters from which the batch is handed out in shrinking runs.</summary>
        internal const double ChunkingReuse = 32;

        /// <summary>The shortest run handed out while the batch lasts (a run per sample costs convolutions ~5-10% per image).</summary>
        internal const int SmallestRun = 8;

        /// <param name="network">The network to evaluate.</param>
        /// <param name="threads">Threads in all, the caller's included: at least 1.</param>
        /// <param name="batchCapacity">The largest batch <see cref="Forward"/> takes.</param>
        public ParallelEvaluation(INetwork network, int threads, int batchCapacity)
        {
            ArgumentNullException.ThrowIfNull(network);
            if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "At least one thread.");
            if (batchCapacity < 1) throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity, "A batch holds at least one sample.");
            _network = network;
            Threads = threads;
            BatchCapacity = batchCapacity;
            _inputLength = network.Layout.Input.Length;
            _outputLength = network.Layout.Output.Length;
            _workspaces = new NetworkWorkspace[threads];
            Guided = threads > 1 && ReusePerSample(network.Layout) >= ChunkingReuse;
            int longestRun = (batchCapacity + threads - 1) / threads; // no run of any batch up to the capacity is longer
            for (int i = 0; i < threads; i++) _workspaces[i] = network.CreateWorkspace(longestRun);
            _pool = new WorkerPool(threads, Evaluate);
        }

        /// <summary>Threads in all, the caller's included.</summary>
        public int Threads { get; }

        /// <summary>The largest batch <see cref="Forward"/> takes.</summary>
        public int BatchCapacity { get; }

        /// <summary>
        /// Whether the batch is handed out in shrinking runs as threads come free (true) or split evenly, one run per thread
        /// (false); see the class remarks. Settable inside the library for benchmarks that compare the two.
        /// </summary>
        internal bool Guided { get; set; }

        /// <summary>Multiply-adds per sample over parameters: how many times a sample uses each weight, on average.</summary>
        internal static double ReusePerSample(Shapes.NetworkLayout layout) =>
            layout.ParameterCount == 0 ? double.PositiveInfinity : (double)layout.MultiplyAdds / layout.ParameterCount;

        /// <summary>
        /// output [batchSize x output length] = the network's evaluation-mode forward of input [batchSize x input length],
        /// the batch split across the threads.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The batch size is not between 1 and <see cref="BatchCapacity"/>.</exception>
        /// <exception cref="ArgumentException">A buffer's length is not the batch's.</exception>
        public void Forward(ReadOnlyMemory<float> input, Memory<float> output, int batchSize)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            NetworkChecks.RequireBatch(batchSize, BatchCapacity);
            NetworkChecks.RequireLength(input.Length, batchSize * _inputLength, nameof(input));
            NetworkChecks.RequireLength(output.Length, batchSize * _outputLength, nameof(output));
            (_input, _output, _batchSize) = (input, output, batchSize);
            _nextSample = 0;
            try
            {
                _pool.Run();
            }
            finally
            {
                (_input, _output) = (default, default); // the caller's buffers are not held past the call
            }
        }

        // Run i of a batch split evenly: samples [First(i), First(i + 1)), as even as they go (7 on 2 threads: 4 + 3).
        private int First(int batchSize, int run) => (int)((long)batchSize * run / Threads);

        private void Evaluate(int thread)
        {
            if (!Guided)
            {
                int first = First(_batchSize, thread), count = First(_batchSize, thread + 1) - first;
                if (count > 0) EvaluateRun(first, count, thread);
                return;
            }
            // No run is longer than an even split's (the workspaces hold that many samples), none shorter than SmallestRun
            // unless the batch is small (then an even split's) or ends.
            int evenRun = (_batchSize + Threads - 1) / Threads, smallest = Math.Min(SmallestRun, evenRun);
            while (true)
            {
                int first = Volatile.Read(ref _nextSample), left = _batchSize - first;
                if (left <= 0) return;
                int count = Math.Min(left, Math.Min(evenRun, Math.Max(smallest, (left + 2 * Threads - 1) / (2 * Threads))));
                if (Interlocked.CompareExchange(ref _nextSample, first + count, first) != first) continue; // another thread took it
                EvaluateRun(first, count, thread);
            }
        }

        private void EvaluateRun(int first, int count, int thread) =>
            _network.Forward(_input.Span.Slice(first * _inputLength, count * _inputLength), _output.Span.Slice(first * _outputLength, count * _outputLength),
                count, _workspaces[thread], training: false);

        /// <summary>Stops the threads.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _pool.Dispose();
        }
    }
}
