using System;
using CnnGen.Training;

namespace CnnGen
{
    /// <summary>
    /// Evaluation of a batch on several threads: the batch is split into as many runs of consecutive samples as there are
    /// threads, each run evaluated by <see cref="INetwork.Forward"/> on its own workspace, on threads started once (the
    /// caller's is the first). Outputs are those of one <c>Forward</c> over the whole batch, sample for sample. Allocates
    /// nothing per call, where <c>Parallel.For</c> allocates its tasks and closures on every batch.
    /// </summary>
    /// <remarks>
    /// One call at a time: the threads and workspaces are this object's. The network's weights are read, never written, so
    /// several evaluators (or a trainer's threads between steps) may share one network.
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
        private bool _disposed;

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
            int longestRun = (batchCapacity + threads - 1) / threads; // no run of any batch up to the capacity is longer
            for (int i = 0; i < threads; i++) _workspaces[i] = network.CreateWorkspace(longestRun);
            _pool = new WorkerPool(threads, Evaluate);
        }

        /// <summary>Threads in all, the caller's included.</summary>
        public int Threads { get; }

        /// <summary>The largest batch <see cref="Forward"/> takes.</summary>
        public int BatchCapacity { get; }

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
            try
            {
                _pool.Run();
            }
            finally
            {
                (_input, _output) = (default, default); // the caller's buffers are not held past the call
            }
        }

        // Run i of a batch: samples [First(i), First(i + 1)), as even as they go (7 on 2 threads: 4 + 3).
        private int First(int batchSize, int run) => (int)((long)batchSize * run / Threads);

        private void Evaluate(int run)
        {
            int first = First(_batchSize, run), count = First(_batchSize, run + 1) - first;
            if (count == 0) return;
            _network.Forward(_input.Span.Slice(first * _inputLength, count * _inputLength), _output.Span.Slice(first * _outputLength, count * _outputLength),
                count, _workspaces[run], training: false);
        }

        /// <summary>Stops the threads.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _pool.Dispose();
        }
    }
}
