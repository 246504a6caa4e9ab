using System;
using System.Runtime.Intrinsics.X86;
using System.Threading;
using CnnGen.Shapes;

namespace CnnGen.Training
{
    /// <summary>Loss and accuracy over a data set.</summary>
    public readonly record struct Evaluation(double Loss, int Correct, int Count)
    {
        public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
    }

    /// <summary>
    /// A training step produced a loss, a gradient or an update that is not finite. The step changed nothing: parameters,
    /// optimizer state, batch-norm statistics and counters are those from before it.
    /// </summary>
    public sealed class TrainingDivergedException : Exception
    {
        public TrainingDivergedException(long step, double loss)
            : this(step, loss, $"the loss is {loss}")
        {
        }

        public TrainingDivergedException(long step, double loss, string reason)
            : base($"Training diverged at step {step}: {reason}. The step was undone (weights, optimizer state and batch-norm statistics are as they were before it); lower the learning rate or check the data.")
        {
            Step = step;
            Loss = loss;
        }

        public long Step { get; }
        public double Loss { get; }
    }

    /// <summary>
    /// Trains a network with cross-entropy on its logits: training-mode forward, loss, backward, optimizer step.
    /// The batch is split across threads in contiguous chunks, each thread with its own workspace and gradient
    /// buffer; gradients and losses are summed in thread order, so the same seed and thread count reproduce a run
    /// bit for bit. After the first step a step allocates nothing.
    /// </summary>
    /// <remarks>
    /// The step's tail (summing the threads' gradients, checking them, keeping the parameters and optimizer state to undo,
    /// the optimizer's update, checking its result) runs on every thread, each over its own range of the parameter block,
    /// 1,024 values at a time while they are in its L1, when the optimizer updates each parameter alone (SGD, Adam, AdamW):
    /// the threads meet once, after their backward passes, and nothing of the step is left to one thread. Each value is
    /// the sum of the same threads' gradients in the same order either way, so the floats do not depend on it.
    /// <para>
    /// Batch-norm in training mode normalizes with the statistics of the whole batch (PyTorch's semantics), on any number
    /// of threads: at each batch-norm the threads meet to combine their chunks' partial sums (in thread order, so every
    /// thread normalizes with the same mean and variance), and again in its backward pass (<see cref="BatchStatisticsTeam"/>).
    /// Running statistics and counters are updated once per step, from the whole batch.
    /// </para>
    /// </remarks>
    public sealed class Trainer : IDisposable
    {
        private readonly NetworkWorkspace[] _workspaces;
        private readonly float[][] _gradients;
        private readonly float[][] _logits;
        private readonly double[] _losses;
        private readonly int[] _correct;
        // The threads' gradients summed: by the serial tail, else only when Gradients is read (the tails sum each chunk in a
        // scratch of their own and never write the whole block); _gradientsSummed says whether it holds the last step's.
        private readonly float[] _summedGradients;
        private bool _gradientsSummed = true;
        private readonly float[][] _tailSums;
        private readonly WorkerPool _pool;
        // Shared by the workspaces when the network has batch-norm and more than one thread; otherwise null.
        private readonly BatchStatisticsTeam? _batchStatisticsTeam;
        private readonly int _classes;
        // Labels per sample: 1 for a classifier, height x width for per-pixel outputs (segmentation).
        private readonly int _pixels;

        // What a step may change, saved before it so a refused or diverged step is undone (allocated once).
        private readonly float[] _parameterBackup;
        private readonly float[] _bufferBackup;
        private readonly long[] _counterBackup;
        private readonly float[][] _optimizerState;
        private readonly float[][] _optimizerBackup;
        private int _busy;

        // The tail on every thread (see remarks): thread t takes parameters [_tailStart[t], _tailStart[t + 1]) in chunks of
        // TailChunk, and records what it found and how far it has backed up, each thread a cache line apart (Spaced).
        private readonly bool _tailOnEveryThread;
        private readonly int[] _tailStart;
        private readonly int[] _firstBadGradient;
        private readonly int[] _firstBadParameter;
        private readonly int[] _firstBadState;
        private readonly int[] _backedUpTo;
        private const int TailChunk = 1024;
        private const int Spaced = 16;
        private MemoryHandle _parameters;
        private ParameterMask? _stepMask;

        // The job the workers run, set before each Run (fields, not closures, so nothing is allocated).
        private Job _job;
        private int _batchSize;
        private MemoryHandle _images;
        private MemoryHandle _labels;

        public Trainer(INetwork network, Optimizer optimizer, int batchCapacity, int threads = 0, ulong dropoutSeed = 0)
        {
            Network = network ?? throw new ArgumentNullException(nameof(network));
            Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
            if (batchCapacity <= 0) throw new ArgumentOutOfRangeException(nameof(batchCapacity), batchCapacity, "The batch capacity must be positive.");
            // Refused here rather than at the first step: an optimizer sized for another network, and a network whose
            // output is already softmax (the cross-entropy here takes logits and applies softmax itself, as PyTorch's CrossEntropyLoss).
            string name = network.GetType().Name;
            if (optimizer.ParameterCount != network.Layout.ParameterCount)
                throw new ArgumentException($"The optimizer was created for {optimizer.ParameterCount:N0} parameters, but {name} has {network.Layout.ParameterCount:N0}: "
                    + $"create it with {name}.ParameterCount (e.g. new Sgd({name}.ParameterCount, ...)).", nameof(optimizer));
            var layers = network.Layout.Root.Nodes;
            if (layers.Count > 0 && layers[layers.Count - 1] is LayerLayout { Kind: LayerKind.Softmax })
                throw new ArgumentException($"{name} ends in [Softmax], but the trainer's cross-entropy takes logits and applies softmax itself (as PyTorch's "
                    + "CrossEntropyLoss), so training would apply it twice: remove [Softmax] from the network and apply softmax to Forward's output "
                    + "when you need probabilities (or train with your own loss through Backward).", nameof(network));
            BatchCapacity = batchCapacity;
            // A vector output is one sample's logits; a feature map holds each pixel's logits over its channels.
            var output = network.Layout.Output;
            _classes = output.Channels;
            _pixels = output.IsSpatial ? output.Height * output.Width : 1;
            NetworkChecks.RequireBlocks(network.Layout, network.Parameters.Length, network.Buffers.Length, network.Counters.Length);
            NetworkChecks.RequireLength(optimizer.ParameterCount, network.Layout.ParameterCount, "optimizer.ParameterCount");
            Threads = Math.Max(1, Math.Min(threads <= 0 ? Environment.ProcessorCount : threads, batchCapacity));
            bool hasBatchNorm = false;
            foreach (var layer in network.Layout.Layers) hasBatchNorm |= layer.Kind == LayerKind.BatchNorm;
            if (hasBatchNorm && Threads > 1) _batchStatisticsTeam = new BatchStatisticsTeam(network.Layout, Threads);

            _workspaces = new NetworkWorkspace[Threads];
            _gradients = new float[Threads][];
            _logits = new float[Threads][];
            int chunkCapacity = (int)(((long)batchCapacity + Threads - 1) / Threads);
            // Before allocating anything: every batch-sized array must fit in one .NET array.
            NetworkChecks.RequireCapacity(chunkCapacity, Math.Max(NetworkChecks.LargestSampleLength(network.Layout), _classes * _pixels), network.GetType().Name);
            for (int t = 0; t < Threads; t++)
            {
                // Each thread's dropout stream is its own, derived from the seed and the thread's index.
                _workspaces[t] = network.CreateWorkspace(chunkCapacity, dropoutSeed * 0x9E3779B97F4A7C15UL + (ulong)t);
                if (_batchStatisticsTeam is not null) _workspaces[t].JoinTeam(_batchStatisticsTeam, t);
                _gradients[t] = new float[network.Layout.ParameterCount];
                _logits[t] = new float[chunkCapacity * _classes * _pixels];
            }
            _losses = new double[Threads];
            _correct = new int[Threads];
            _summedGradients = new float[network.Layout.ParameterCount];
            _tailSums = new float[Threads][];
            for (int t = 0; t < Threads; t++) _tailSums[t] = new float[TailChunk];
            _parameterBackup = new float[network.Layout.ParameterCount];
            _bufferBackup = new float[network.Layout.BufferCount];
            _counterBackup = new long[network.Layout.CounterCount];
            var state = optimizer.State;
            _optimizerState = new float[state.Count][];
            _optimizerBackup = new float[state.Count][];
            for (int i = 0; i < state.Count; i++)
            {
                _optimizerState[i] = state[i].Value;
                _optimizerBackup[i] = new float[state[i].Value.Length];
            }
            // Each thread's part of the tail: whole chunks of 64 values (whole vectors and cache lines), as even as they come.
            int parameters = network.Layout.ParameterCount, blocks = (parameters + 63) / 64;
            _tailStart = new int[Threads + 1];
            for (int t = 0; t <= Threads; t++) _tailStart[t] = (int)Math.Min(parameters, (long)blocks * t / Threads * 64);
            _tailOnEveryThread = optimizer.UpdatesEachParameterAlone;
            foreach (var (_, value) in state) _tailOnEveryThread &= value.Length == parameters;
            _firstBadGradient = new int[Threads * Spaced];
            _firstBadParameter = new int[Threads * Spaced];
            _firstBadState = new int[Threads * Spaced * Math.Max(1, state.Count)];
            _backedUpTo = new int[Threads * Spaced];
            _pool = new WorkerPool(Threads, RunWorker);
        }

        public INetwork Network { get; }
        public Optimizer Optimizer { get; }
        public int BatchCapacity { get; }
        /// <summary>Threads a step uses (at most one per sample of the batch capacity).</summary>
        public int Threads { get; }
        /// <summary>Optimizer steps taken by this trainer.</summary>
        public long Steps { get; private set; }
        /// <summary>The gradient of the last step's mean loss, laid out like the parameter block (frozen parameters' zero).</summary>
        public ReadOnlySpan<float> Gradients
        {
            get
            {
                if (!_gradientsSummed) SumGradients();
                return _summedGradients;
            }
        }

        // The threads' gradients added in thread order, frozen parameters' zeroed: the values each tail summed chunk by chunk.
        private void SumGradients()
        {
            var summed = _summedGradients.AsSpan();
            _gradients[0].CopyTo(summed);
            for (int t = 1; t < Threads; t++) Kernels.Elementwise.Add(_gradients[t], summed);
            _stepMask?.ZeroFrozen(summed);
            _gradientsSummed = true;
        }

        /// <summary>
        /// One step on a batch (NCHW images; one label per image, or for a network whose output is a feature map one label
        /// per output pixel, N x H x W): returns the batch's mean cross-entropy loss (over images, or over pixels).
        /// Throws before changing anything for bad labels or sizes. The step is a transaction: when the loss, the summed
        /// gradient or the updated parameters and optimizer state are not all finite it throws
        /// <see cref="TrainingDivergedException"/>, and when anything in it throws, parameters, optimizer state, batch-norm
        /// running statistics and counters, and <see cref="Steps"/> are left exactly as they were before the step.
        /// </summary>
        /// <exception cref="InvalidOperationException">Another thread is running a step or an evaluation on this trainer.</exception>
        public unsafe float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
        {
            int batchSize = SamplesOf(labels);
            ValidateBatch(images, labels, batchSize);
            RequireBatchStatistics(batchSize);
            Enter();
            bool committed = false;
            long optimizerStep = Optimizer.StepCount;
            bool optimizerTouched = false;
            try
            {
                // Training-mode forward passes update batch-norm running statistics and counters: keep them to undo.
                Network.Buffers.CopyTo(_bufferBackup);
                Network.Counters.CopyTo(_counterBackup);
                // Taken once (taking them counts as a change of the weights), for the threads' tails.
                var parameters = Network.Parameters;
                _stepMask = Optimizer.Mask;
                _gradientsSummed = false;
                for (int t = 0; t < Threads; t++) _backedUpTo[t * Spaced] = _tailStart[t];
                if (_tailOnEveryThread)
                {
                    Optimizer.CountStep();
                    optimizerTouched = true;
                }
                fixed (float* imagePointer = images)
                fixed (int* labelPointer = labels)
                fixed (float* parameterPointer = parameters)
                {
                    _images = new MemoryHandle(imagePointer, images.Length);
                    _labels = new MemoryHandle(labelPointer, labels.Length);
                    _parameters = new MemoryHandle(parameterPointer, parameters.Length);
                    _batchSize = batchSize;
                    _job = Job.Train;
                    // The threads with a non-empty chunk meet at each batch-norm.
                    _batchStatisticsTeam?.Begin(Math.Min(batchSize, Threads));
                    try
                    {
                        _pool.Run();
                    }
                    finally
                    {
                        _images = default;
                        _labels = default;
                        _parameters = default;
                    }
                }

                double loss = SummedLoss() / ((double)batchSize * _pixels);
                if (!double.IsFinite(loss)) throw new TrainingDivergedException(Steps + 1, loss);
                if (_tailOnEveryThread) ThrowIfTheTailFoundNonFinite(loss, parameters);
                else SerialTail(loss, parameters, ref optimizerTouched);
                Steps++;
                committed = true;
                return (float)loss;
            }
            finally
            {
                if (!committed)
                {
                    _bufferBackup.CopyTo(Network.Buffers);
                    _counterBackup.CopyTo(Network.Counters);
                    if (optimizerTouched)
                    {
                        RestoreBackedUp(Network.Parameters);
                        Optimizer.ResetStepCount(optimizerStep);
                    }
                }
                Exit();
            }
        }

        /// <summary>The threads' losses in thread order: deterministic for a given thread count (every thread sums them alike).</summary>
        private double SummedLoss()
        {
            double loss = 0;
            for (int t = 0; t < Threads; t++) loss += _losses[t];
            return loss;
        }

        /// <summary>
        /// Thread <paramref name="t"/>'s part of the step's tail, once every thread's gradients are in and the loss is finite:
        /// for each chunk of its range, the summed gradient (frozen parameters' zeroed), the backup, the update, and the first
        /// non-finite gradient, parameter and optimizer state value found. A non-finite value does not stop it: the step is
        /// undone from the backups afterwards, and the report names the first of each kind, as the serial tail would.
        /// </summary>
        private unsafe void RunTail(int t)
        {
            int start = _tailStart[t], end = _tailStart[t + 1], states = _optimizerState.Length;
            var parameters = new Span<float>(_parameters.Pointer, _parameters.Length);
            var mask = _stepMask;
            int badGradient = -1, badParameter = -1;
            for (int i = 0; i < states; i++) _firstBadState[(t * states + i) * Spaced] = -1;
            for (int at = start; at < end; at += TailChunk)
            {
                int length = Math.Min(TailChunk, end - at);
                // The sum stays in this thread's L1 (Gradients adds the whole block again when it is read).
                var summed = _tailSums[t].AsSpan(0, length);
                _gradients[0].AsSpan(at, length).CopyTo(summed);
                // Vectorized, the same additions in the same order as a plain loop: bit for bit what it was.
                for (int u = 1; u < Threads; u++) Kernels.Elementwise.Add(_gradients[u].AsSpan(at, length), summed);
                // Frozen parameters (Optimizer.Mask) have no gradient, as in PyTorch: not reported, not checked, not used.
                mask?.ZeroFrozen(summed, at);
                if (badGradient < 0 && FirstNonFinite(summed) is int gradient and >= 0) badGradient = at + gradient;

                var part = parameters.Slice(at, length);
                // The backups are read only to undo a step: stored past the caches, so they neither read their lines first nor
                // push out what the update reads.
                CopyPastTheCaches(part, _parameterBackup.AsSpan(at, length));
                for (int i = 0; i < states; i++) CopyPastTheCaches(_optimizerState[i].AsSpan(at, length), _optimizerBackup[i].AsSpan(at, length));
                _backedUpTo[t * Spaced] = at + length;
                Optimizer.UpdatePart(part, summed, at, mask);
                if (badParameter < 0 && FirstNonFinite(part) is int parameter and >= 0) badParameter = at + parameter;
                for (int i = 0; i < states; i++)
                {
                    ref int bad = ref _firstBadState[(t * states + i) * Spaced];
                    if (bad < 0 && FirstNonFinite(_optimizerState[i].AsSpan(at, length)) is int value and >= 0) bad = at + value;
                }
            }
            _firstBadGradient[t * Spaced] = badGradient;
            _firstBadParameter[t * Spaced] = badParameter;
            // The streaming stores in order before the thread's meeting with the others (the undo reads the backups after it).
            if (Sse.IsSupported) Sse.StoreFence();
        }

        /// <summary>
        /// source copied to target with non-temporal stores where the target is 32-byte aligned (AVX); else a plain copy. The
        /// same floats either way.
        /// </summary>
        private static unsafe void CopyPastTheCaches(ReadOnlySpan<float> source, Span<float> target)
        {
            if (!Avx.IsSupported || !Kernels.Simd.Enabled || source.Length < 64)
            {
                source.CopyTo(target);
                return;
            }
            fixed (float* from = source)
            fixed (float* to = target)
            {
                int length = source.Length;
                int head = (int)(((32 - ((nuint)to & 31)) & 31) / sizeof(float)); // floats up to the first 32-byte boundary
                int i = 0;
                for (; i < head && i < length; i++) to[i] = from[i];
                for (; i + 8 <= length; i += 8) Avx.StoreAlignedNonTemporal(to + i, Avx.LoadVector256(from + i));
                for (; i < length; i++) to[i] = from[i];
            }
        }

        /// <summary>After the threads' tails: the first non-finite gradient, else parameter, else state value (as the serial tail checks them).</summary>
        private void ThrowIfTheTailFoundNonFinite(double loss, Span<float> parameters)
        {
            int states = _optimizerState.Length;
            for (int t = 0; t < Threads; t++)
            {
                int bad = _firstBadGradient[t * Spaced];
                if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the loss is {loss} but the gradient of parameter {bad} is {Gradients[bad]}");
            }
            for (int t = 0; t < Threads; t++)
            {
                int bad = _firstBadParameter[t * Spaced];
                if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the update made parameter {bad} {parameters[bad]}");
            }
            for (int i = 0; i < states; i++)
                for (int t = 0; t < Threads; t++)
                {
                    int bad = _firstBadState[(t * states + i) * Spaced];
                    if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the update made optimizer state {Optimizer.State[i].Key}[{bad}] {_optimizerState[i][bad]}");
                }
        }

        /// <summary>
        /// The tail on the calling thread, for an optimizer whose update may depend on other parameters: the summed gradient
        /// checked before anything changes, then the backup, the whole step and its checks.
        /// </summary>
        private void SerialTail(double loss, Span<float> parameters, ref bool optimizerTouched)
        {
            SumGradients();
            var summed = _summedGradients.AsSpan();
            int bad = FirstNonFinite(summed);
            if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the loss is {loss} but the gradient of parameter {bad} is {summed[bad]}");

            parameters.CopyTo(_parameterBackup);
            for (int i = 0; i < _optimizerState.Length; i++) _optimizerState[i].CopyTo(_optimizerBackup[i], 0);
            // The whole block is backed up: the undo restores all of it.
            for (int t = 0; t < Threads; t++) _backedUpTo[t * Spaced] = _tailStart[t + 1];
            optimizerTouched = true;
            Optimizer.Step(parameters, summed);
            bad = FirstNonFinite(parameters);
            if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the update made parameter {bad} {parameters[bad]}");
            for (int i = 0; i < _optimizerState.Length; i++)
            {
                bad = FirstNonFinite(_optimizerState[i]);
                if (bad >= 0) throw new TrainingDivergedException(Steps + 1, loss, $"the update made optimizer state {Optimizer.State[i].Key}[{bad}] {_optimizerState[i][bad]}");
            }
        }

        /// <summary>Undoes a step: puts back the parameters and optimizer state of every range backed up during it (nothing else was written).</summary>
        private void RestoreBackedUp(Span<float> parameters)
        {
            for (int t = 0; t < Threads; t++)
            {
                int start = _tailStart[t], length = _backedUpTo[t * Spaced] - start;
                _parameterBackup.AsSpan(start, length).CopyTo(parameters.Slice(start, length));
                for (int i = 0; i < _optimizerState.Length; i++) _optimizerBackup[i].AsSpan(start, length).CopyTo(_optimizerState[i].AsSpan(start, length));
            }
        }

        /// <summary>The index of the first value that is NaN or infinite, or -1.</summary>
        private static int FirstNonFinite(ReadOnlySpan<float> values)
        {
            // x - x is 0 for finite x and NaN otherwise: one vectorized pass, then a scalar search only when something is off.
            int i = 0;
            if (System.Numerics.Vector.IsHardwareAccelerated && values.Length >= System.Numerics.Vector<float>.Count)
            {
                var accumulator = System.Numerics.Vector<float>.Zero;
                var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(values);
                foreach (var v in vectors) accumulator += v - v;
                bool clean = true;
                for (int k = 0; k < System.Numerics.Vector<float>.Count; k++) clean &= accumulator[k] == 0;
                if (clean) i = vectors.Length * System.Numerics.Vector<float>.Count;
            }
            for (; i < values.Length; i++)
                if (!float.IsFinite(values[i])) return i;
            return -1;
        }

        private void Enter()
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
                throw new InvalidOperationException(
                    $"This Trainer (of {Network.GetType().Name}) is already running TrainStep or Evaluate on another thread. A trainer runs one call at a time: serialize the calls or give each thread its own trainer and network.");
        }

        private void Exit() => Volatile.Write(ref _busy, 0);

        /// <summary>
        /// Mean cross-entropy loss and accuracy in evaluation mode, in batches of <see cref="BatchCapacity"/>. For per-pixel
        /// outputs both are over pixels (the count is the number of labelled pixels).
        /// </summary>
        public unsafe Evaluation Evaluate(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
        {
            int inputLength = Network.Layout.Input.Length;
            int samples = SamplesOf(labels);
            RequireImagesPerLabels(images, labels, samples);
            ValidateLabels(labels);
            Enter();
            try
            {
                return EvaluateBatches(images, labels, inputLength, samples);
            }
            finally
            {
                Exit();
            }
        }

        private unsafe Evaluation EvaluateBatches(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, int inputLength, int samples)
        {
            double loss = 0;
            int correct = 0;
            for (int start = 0; start < samples; start += BatchCapacity)
            {
                int count = Math.Min(BatchCapacity, samples - start);
                var batchImages = images.Slice(start * inputLength, count * inputLength);
                var batchLabels = labels.Slice(start * _pixels, count * _pixels);
                fixed (float* imagePointer = batchImages)
                fixed (int* labelPointer = batchLabels)
                {
                    _images = new MemoryHandle(imagePointer, batchImages.Length);
                    _labels = new MemoryHandle(labelPointer, batchLabels.Length);
                    _batchSize = count;
                    _job = Job.Evaluate;
                    try
                    {
                        _pool.Run();
                    }
                    finally
                    {
                        _images = default;
                        _labels = default;
                    }
                }
                for (int t = 0; t < Threads; t++)
                {
                    loss += _losses[t];
                    correct += _correct[t];
                }
            }
            return new Evaluation(labels.Length == 0 ? 0 : loss / labels.Length, correct, labels.Length);
        }

        /// <summary>Training-mode batch-norm needs more than one value per channel in the batch: checked before any thread starts.</summary>
        private void RequireBatchStatistics(int batchSize)
        {
            var layers = Network.Layout.Layers;
            for (int i = 0; i < layers.Count; i++) // not foreach: an interface's enumerator is allocated
            {
                var layer = layers[i];
                if (layer.Kind == LayerKind.BatchNorm)
                    NetworkChecks.RequireBatchStatistics(batchSize * layer.Input.Height * layer.Input.Width, layer.Index);
            }
        }

        private void ValidateBatch(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, int batchSize)
        {
            if (batchSize == 0 || batchSize > BatchCapacity)
                throw new ArgumentOutOfRangeException(nameof(labels), batchSize, $"A batch must hold between 1 and {BatchCapacity} samples (the trainer's capacity).");
            RequireImagesPerLabels(images, labels, batchSize);
            ValidateLabels(labels);
        }

        /// <summary>
        /// The images and labels count the same samples. When the images are a whole number of samples and the labels
        /// count another number, the labels are named (too few or too many of them), not the images.
        /// </summary>
        private void RequireImagesPerLabels(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, int samples)
        {
            int inputLength = Network.Layout.Input.Length;
            if (images.Length == samples * inputLength) return;
            if (images.Length % inputLength == 0)
            {
                int imageCount = images.Length / inputLength;
                string perImage = _pixels == 1 ? "one label per image" : $"{_pixels} labels per image (one per output pixel)";
                throw new ArgumentException($"{imageCount} images ({images.Length} floats of {inputLength} each) but {labels.Length} labels: "
                    + $"expected {imageCount * _pixels} labels, {perImage}.", nameof(labels));
            }
            NetworkChecks.RequireLength(images.Length, samples * inputLength, nameof(images));
        }

        private void ValidateLabels(ReadOnlySpan<int> labels)
        {
            for (int i = 0; i < labels.Length; i++)
            {
                if ((uint)labels[i] < (uint)_classes) continue;
                string where = _pixels == 1 ? $"sample {i}" : $"pixel {i % _pixels} of sample {i / _pixels}";
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label {labels[i]} of {where} is outside the {_classes} classes [0, {_classes - 1}].");
            }
        }

        /// <summary>Samples in a batch of labels: one label each, or one per output pixel.</summary>
        private int SamplesOf(ReadOnlySpan<int> labels)
        {
            if (labels.Length % _pixels != 0)
                throw new ArgumentException($"The network labels each of the {_pixels} output pixels of a sample: {labels.Length} labels are not a whole number of samples.", nameof(labels));
            return labels.Length / _pixels;
        }

        /// <summary>The contiguous part of the batch worker <paramref name="t"/> takes: the first (size mod threads) chunks are one larger.</summary>
        private (int Start, int Count) Chunk(int t)
        {
            int baseSize = _batchSize / Threads, extra = _batchSize % Threads;
            int start = t * baseSize + Math.Min(t, extra);
            return (start, baseSize + (t < extra ? 1 : 0));
        }

        private unsafe void RunWorker(int t)
        {
            var (start, count) = Chunk(t);
            _losses[t] = 0;
            _correct[t] = 0;
            var gradients = _gradients[t];
            bool training = _job == Job.Train;
            if (training)
            {
                Array.Clear(gradients);
                // A thread without samples (a batch smaller than the threads) still takes its part of the tail.
                if (count > 0 && !TrainChunk(t, start, count, gradients)) return;
                if (_tailOnEveryThread && _pool.Meet() && double.IsFinite(SummedLoss())) RunTail(t);
                return;
            }
            if (count == 0) return;

            int inputLength = Network.Layout.Input.Length;
            var images = new ReadOnlySpan<float>(_images.Pointer, _images.Length).Slice(start * inputLength, count * inputLength);
            var labels = new ReadOnlySpan<int>((int*)_labels.Pointer, _labels.Length).Slice(start * _pixels, count * _pixels);
            var logits = _logits[t].AsSpan(0, count * _classes * _pixels);
            Network.Forward(images, logits, count, _workspaces[t], false);
            _correct[t] = CountCorrect(logits, labels, count);
            _losses[t] = Loss(logits, labels, 0f);
        }

        /// <summary>Forward, loss and backward of thread <paramref name="t"/>'s chunk; false when another thread failed and released it from a batch-norm meeting.</summary>
        private unsafe bool TrainChunk(int t, int start, int count, float[] gradients)
        {
            int inputLength = Network.Layout.Input.Length;
            var images = new ReadOnlySpan<float>(_images.Pointer, _images.Length).Slice(start * inputLength, count * inputLength);
            var labels = new ReadOnlySpan<int>((int*)_labels.Pointer, _labels.Length).Slice(start * _pixels, count * _pixels);
            var logits = _logits[t].AsSpan(0, count * _classes * _pixels);
            var workspace = _workspaces[t];
            try
            {
                // Frozen layers (the optimizer's mask): backward skips them, frozen batch-norm may stay in evaluation mode.
                workspace.ApplyMask(_stepMask);
                Network.Forward(images, logits, count, workspace, true);
                // d(mean loss)/d logits: the whole batch's size divides, whatever this chunk's size.
                _losses[t] = Loss(logits, labels, 1f / ((float)_batchSize * _pixels));
                Network.Backward(logits, gradients, workspace);
                return true;
            }
            catch (BatchStatisticsTeamAbortedException)
            {
                // Another worker failed and released this one from a wait for its batch-norm sums; its exception is the one reported.
                return false;
            }
            catch
            {
                // Release the threads waiting for this one's batch-norm sums.
                _batchStatisticsTeam?.Abort();
                throw;
            }
        }

        private double Loss(Span<float> logits, ReadOnlySpan<int> labels, float gradientScale)
        {
            if (_pixels == 1) return Losses.CrossEntropySum(logits, labels, logits, gradientScale);
            var output = Network.Layout.Output;
            return Losses.PixelCrossEntropySum(logits, labels, _classes, output.Height, output.Width, logits, gradientScale);
        }

        /// <summary>Samples (or pixels) whose largest logit is their label's; the first maximum wins ties.</summary>
        private int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int count)
        {
            int correct = 0;
            if (_pixels == 1)
            {
                for (int i = 0; i < count; i++)
                    if (Losses.ArgMax(logits.Slice(i * _classes, _classes)) == labels[i]) correct++;
                return correct;
            }
            for (int n = 0; n < count; n++)
            {
                var sample = logits.Slice(n * _classes * _pixels, _classes * _pixels);
                for (int pixel = 0; pixel < _pixels; pixel++)
                {
                    int best = 0;
                    for (int c = 1; c < _classes; c++)
                        if (sample[c * _pixels + pixel] > sample[best * _pixels + pixel]) best = c;
                    if (best == labels[n * _pixels + pixel]) correct++;
                }
            }
            return correct;
        }

        public void Dispose() => _pool.Dispose();

        private enum Job { Train, Evaluate }

        /// <summary>A pinned span handed to the workers for the duration of one run.</summary>
        private readonly unsafe struct MemoryHandle
        {
            public MemoryHandle(void* pointer, int length)
            {
                Pointer = pointer;
                Length = length;
            }

            public void* Pointer { get; }
            public int Length { get; }
        }
    }
}
