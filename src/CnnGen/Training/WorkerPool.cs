using System;
using System.Threading;

namespace CnnGen.Training
{
    /// <summary>
    /// A fixed set of threads that run one job together and wait for each other: the calling thread is worker 0.
    /// Started once; running a job allocates nothing (no tasks, no closures), which keeps training steps allocation-free.
    /// </summary>
    internal sealed class WorkerPool : IDisposable
    {
        private readonly Action<int> _work;
        private readonly Barrier _start;
        private readonly Barrier _finish;
        private readonly Thread[] _threads;
        private readonly Exception?[] _errors;
        private volatile bool _stopping;

        /// <param name="workers">Threads in all, the caller included.</param>
        /// <param name="work">Called with the worker index, once per worker per <see cref="Run"/>.</param>
        public WorkerPool(int workers, Action<int> work)
        {
            if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "At least one worker.");
            _work = work;
            Workers = workers;
            _errors = new Exception?[workers];
            _start = new Barrier(workers);
            _finish = new Barrier(workers);
            _threads = new Thread[workers - 1];
            for (int i = 1; i < workers; i++)
            {
                int index = i;
                _threads[i - 1] = new Thread(() => Loop(index)) { IsBackground = true, Name = "CnnGen worker " + index };
                _threads[i - 1].Start();
            }
        }

        public int Workers { get; }

        /// <summary>Runs the work on every worker and returns when all are done; rethrows the first worker's exception.</summary>
        public void Run()
        {
            if (Workers > 1) _start.SignalAndWait();
            Execute(0);
            if (Workers > 1) _finish.SignalAndWait();
            for (int i = 0; i < _errors.Length; i++)
            {
                var error = _errors[i];
                if (error is null) continue;
                Array.Clear(_errors);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
        }

        private void Loop(int index)
        {
            while (true)
            {
                _start.SignalAndWait();
                if (_stopping) return;
                Execute(index);
                _finish.SignalAndWait();
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
            }
        }

        public void Dispose()
        {
            if (_stopping) return;
            _stopping = true;
            if (Workers > 1) _start.SignalAndWait();
            foreach (var thread in _threads) thread.Join();
            _start.Dispose();
            _finish.Dispose();
        }
    }
}
