using System;
using System.Threading;

namespace CnnGen.Training
{
    /// <summary>
    /// A fixed set of threads that run one job together and wait for each other: the calling thread is worker 0.
    /// Started once; running a job allocates nothing (no tasks, no closures, and every wait primitive's lazily created
    /// parts are created up front), which keeps training steps allocation-free.
    /// </summary>
    internal sealed class WorkerPool : IDisposable
    {
        private readonly Action<int> _work;
        private readonly ManualResetEventSlim[] _start;
        private readonly ManualResetEventSlim[] _done;
        private readonly Thread[] _threads;
        private readonly Exception?[] _errors;
        private volatile bool _stopping;

        // The one meeting of a run (Meet): workers arrived so far, and the event the last arrival (or a failing worker) sets
        // for those that stopped spinning. A failed worker never arrives, so it releases the others instead.
        private int _arrived;
        private volatile bool _failed;
        private readonly ManualResetEventSlim _met = Prepared(spinCount: 1);
        // Iterations of SpinWait (spinning, then yielding) before a worker waiting at the meeting blocks.
        private const int SpinsBeforeBlocking = 100;

        /// <param name="workers">Threads in all, the caller included.</param>
        /// <param name="work">Called with the worker index, once per worker per <see cref="Run"/>.</param>
        public WorkerPool(int workers, Action<int> work)
        {
            if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "At least one worker.");
            _work = work;
            Workers = workers;
            _errors = new Exception?[workers];
            _start = new ManualResetEventSlim[workers];
            _done = new ManualResetEventSlim[workers];
            for (int i = 1; i < workers; i++)
            {
                _start[i] = Prepared();
                _done[i] = Prepared();
            }
            _threads = new Thread[workers - 1];
            for (int i = 1; i < workers; i++)
            {
                int index = i;
                _threads[i - 1] = new Thread(() => Loop(index)) { IsBackground = true, Name = "CnnGen worker " + index };
                _threads[i - 1].Start();
            }
        }

        /// <summary>An event whose lock and kernel handle exist already, so no later wait allocates them.</summary>
        private static ManualResetEventSlim Prepared(int spinCount = 200)
        {
            var signal = new ManualResetEventSlim(false, spinCount);
            _ = signal.WaitHandle;
            signal.Wait(1);
            return signal;
        }

        public int Workers { get; }

        /// <summary>Runs the work on every worker and returns when all are done; rethrows the first worker's exception.</summary>
        public void Run()
        {
            _arrived = 0;
            _failed = false;
            _met.Reset();
            for (int i = 1; i < Workers; i++)
            {
                _done[i].Reset();
                _start[i].Set();
            }
            Execute(0);
            for (int i = 1; i < Workers; i++) _done[i].Wait();
            for (int i = 0; i < _errors.Length; i++)
            {
                var error = _errors[i];
                if (error is null) continue;
                Array.Clear(_errors);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
        }

        /// <summary>
        /// Waits until every worker of this run has called it (at most once each per run); false when a worker failed instead,
        /// and the caller should stop. A worker that waits spins briefly, then yields, then blocks (a partner descheduled
        /// by other processes does not cost this core). The arrivals are full fences: what each worker wrote before it is
        /// visible to all after it.
        /// </summary>
        public bool Meet()
        {
            if (Interlocked.Increment(ref _arrived) == Workers)
            {
                _met.Set();
                return !_failed;
            }
            var spinner = new SpinWait();
            while (Volatile.Read(ref _arrived) < Workers && !_failed)
            {
                if (spinner.Count < SpinsBeforeBlocking) spinner.SpinOnce(sleep1Threshold: -1);
                else _met.Wait();
            }
            return !_failed;
        }

        private void Loop(int index)
        {
            while (true)
            {
                _start[index].Wait();
                _start[index].Reset(); // before signalling done, so the next Run's Set is never lost
                if (_stopping) return;
                Execute(index);
                _done[index].Set();
            }
        }

        private void Execute(int index)
        {
            try
            {
                _work(index);
            }
            catch (Exception error)
            {
                _errors[index] = error;
                // Release those waiting at the meeting this worker will not reach.
                _failed = true;
                _met.Set();
            }
        }

        public void Dispose()
        {
            if (_stopping) return;
            _stopping = true;
            for (int i = 1; i < Workers; i++) _start[i].Set();
            foreach (var thread in _threads) thread.Join();
            for (int i = 1; i < Workers; i++)
            {
                _start[i].Dispose();
                _done[i].Dispose();
            }
            _met.Dispose();
        }
    }
}
