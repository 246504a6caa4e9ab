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
        private static ManualResetEventSlim Prepared()
        {
            var signal = new ManualResetEventSlim(false, spinCount: 200);
            _ = signal.WaitHandle;
            signal.Wait(1);
            return signal;
        }

        public int Workers { get; }

        /// <summary>Runs the work on every worker and returns when all are done; rethrows the first worker's exception.</summary>
        public void Run()
        {
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
        }
    }
}
