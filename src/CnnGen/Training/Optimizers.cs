using System;
using System.Collections.Generic;
using System.Numerics;

namespace CnnGen.Training
{
    /// <summary>
    /// Updates a parameter block from a gradient block laid out like it. State (momentum, moments) is allocated once,
    /// at construction; <see cref="Step"/> allocates nothing. The update rules are PyTorch 1.13's, operation for operation.
    /// </summary>
    public abstract class Optimizer
    {
        protected Optimizer(int parameterCount, float learningRate)
        {
            if (parameterCount < 0) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "The parameter count cannot be negative.");
            ParameterCount = parameterCount;
            LearningRate = learningRate;
        }

        public int ParameterCount { get; }

        /// <summary>The learning rate of the next step (schedules set it).</summary>
        public float LearningRate
        {
            get => _learningRate;
            set
            {
                if (!(value >= 0) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number of 0 or more.");
                _learningRate = value;
            }
        }
        private float _learningRate;

        /// <summary>Steps taken so far.</summary>
        public long StepCount { get; private set; }

        /// <summary>The state arrays by stable names, for checkpoints (the arrays themselves, not copies).</summary>
        public abstract IReadOnlyList<KeyValuePair<string, float[]>> State { get; }

        /// <summary>
        /// One update of <paramref name="parameters"/> from <paramref name="gradients"/>. With a <see cref="Mask"/>, only
        /// the trainable parameters are updated; frozen ones, their gradients and their state are not read or written.
        /// </summary>
        public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
        {
            NetworkChecks.RequireLength(parameters.Length, ParameterCount, nameof(parameters));
            NetworkChecks.RequireLength(gradients.Length, ParameterCount, nameof(gradients));
            CountStep();
            UpdatePart(parameters, gradients, 0, _mask);
        }

        /// <summary>
        /// Whether <see cref="Update"/> treats each parameter alone: its new value and state depend on its own value, gradient
        /// and state only (and on the step and hyperparameters), never on other parameters, so the update of a run may be
        /// split into any parts in any order, e.g. across threads, with the same result. False unless a subclass says so.
        /// </summary>
        protected internal virtual bool UpdatesEachParameterAlone => false;

        /// <summary>The first half of <see cref="Step"/>: counts the step. <see cref="UpdatePart"/> then updates the parameters part by part.</summary>
        internal void CountStep() => StepCount++;

        /// <summary>
        /// The step's update of parameters <paramref name="start"/> to <paramref name="start"/> + part length − 1 (the trainable
        /// ones under <paramref name="mask"/>): <paramref name="parameters"/> and <paramref name="gradients"/> are that part of
        /// the blocks. Over the whole block it is <see cref="Step"/>'s update; over parts only when <see cref="UpdatesEachParameterAlone"/>.
        /// </summary>
        internal void UpdatePart(Span<float> parameters, ReadOnlySpan<float> gradients, int start, ParameterMask? mask)
        {
            if (mask is null)
            {
                Update(parameters, gradients, start, StepCount);
                return;
            }
            int end = start + parameters.Length;
            foreach (var (offset, length) in mask.TrainableRanges)
            {
                int from = Math.Max(offset, start), to = Math.Min(offset + length, end);
                if (from < to) Update(parameters.Slice(from - start, to - from), gradients.Slice(from - start, to - from), from, StepCount);
            }
        }

        /// <summary>
        /// The update itself over one contiguous run of trainable parameters: <paramref name="parameters"/> and
        /// <paramref name="gradients"/> are the run, which starts at <paramref name="offset"/> of the parameter block (where
        /// its state starts too); <paramref name="step"/> is 1 for the first step.
        /// </summary>
        protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset, long step);

        private ParameterMask? _mask;

        /// <summary>Which parameters train; null (the default) trains them all. See <see cref="Freeze"/>.</summary>
        public ParameterMask? Mask
        {
            get => _mask;
            set
            {
                if (value is not null) NetworkChecks.RequireLength(value.Layout.ParameterCount, ParameterCount, "mask.Layout.ParameterCount");
                _mask = value;
            }
        }

        /// <summary>
        /// Honours <paramref name="mask"/> from the next step on: frozen parameters get no gradient step, no weight decay
        /// and no change of momentum or Adam state (PyTorch's behaviour for parameters with <c>requires_grad=False</c>).
        /// The mask is read at each step, so freezing or unfreezing it later takes effect at the next step. Returns the mask.
        /// </summary>
        /// <exception cref="ArgumentException">The mask is for a network with another parameter count.</exception>
        public ParameterMask Freeze(ParameterMask mask)
        {
            ArgumentNullException.ThrowIfNull(mask);
            Mask = mask;
            return mask;
        }

        /// <summary>
        /// Restores the state a checkpoint saved. Every name must be present with the right length; nothing changes unless
        /// everything fits.
        /// </summary>
        public void RestoreState(long stepCount, IReadOnlyDictionary<string, float[]> state)
        {
            ValidateState(stepCount, state);
            foreach (var (name, array) in State) state[name].CopyTo(array, 0);
            StepCount = stepCount;
        }

        /// <summary>
        /// Checks what <see cref="RestoreState"/> would restore, changing nothing: every name present with the right
        /// length, nothing else, and a step count of 0 or more.
        /// </summary>
        /// <exception cref="ArgumentException">The state does not fit this optimizer.</exception>
        public void ValidateState(long stepCount, IReadOnlyDictionary<string, float[]> state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "The step count cannot be negative.");
            foreach (var (name, array) in State)
            {
                if (!state.TryGetValue(name, out var saved))
                    throw new ArgumentException($"The saved optimizer state has no '{name}' (it has: {string.Join(", ", state.Keys)}).", nameof(state));
                if (saved.Length != array.Length)
                    throw new ArgumentException($"The saved optimizer state '{name}' has {saved.Length} floats, expected {array.Length}.", nameof(state));
            }
            if (state.Count != State.Count)
                throw new ArgumentException($"The saved optimizer state has {state.Count} arrays, expected {State.Count} ({string.Join(", ", StateNames())}).", nameof(state));
        }

        /// <summary>Puts the step count back (the trainer's rollback of a refused step).</summary>
        internal void ResetStepCount(long stepCount) => StepCount = stepCount;

        private IEnumerable<string> StateNames()
        {
            foreach (var (name, _) in State) yield return name;
        }

        protected static void RequireNonNegative(float value, string name)
        {
            if (!(value >= 0) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number of 0 or more.");
        }
    }

    /// <summary>
    /// Stochastic gradient descent, <c>torch.optim.SGD</c>: g = grad + wd·p; with momentum, buf = g on the first step and
    /// buf = momentum·buf + (1 - dampening)·g after; Nesterov uses g + momentum·buf, plain momentum buf; p -= lr·g.
    /// </summary>
    public sealed class Sgd : Optimizer
    {
        private readonly float[] _momentumBuffer;

        public Sgd(int parameterCount, float learningRate, float momentum = 0, float dampening = 0, float weightDecay = 0, bool nesterov = false)
            : base(parameterCount, learningRate)
        {
            RequireNonNegative(momentum, nameof(momentum));
            RequireNonNegative(dampening, nameof(dampening));
            RequireNonNegative(weightDecay, nameof(weightDecay));
            if (nesterov && (momentum <= 0 || dampening != 0))
                throw new ArgumentException("Nesterov momentum requires a momentum above 0 and zero dampening (as in PyTorch).", nameof(nesterov));
            Momentum = momentum;
            Dampening = dampening;
            WeightDecay = weightDecay;
            Nesterov = nesterov;
            _momentumBuffer = momentum != 0 ? new float[parameterCount] : Array.Empty<float>();
        }

        public float Momentum { get; }
        public float Dampening { get; }
        public float WeightDecay { get; }
        public bool Nesterov { get; }

        protected internal override bool UpdatesEachParameterAlone => true;

        public override IReadOnlyList<KeyValuePair<string, float[]>> State => Momentum != 0
            ? new[] { new KeyValuePair<string, float[]>("momentum_buffer", _momentumBuffer) }
            : Array.Empty<KeyValuePair<string, float[]>>();

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset, long step)
        {
            float lr = LearningRate, momentum = Momentum, keep = 1 - Dampening, decay = WeightDecay;
            var buffer = momentum != 0 ? _momentumBuffer.AsSpan(offset, parameters.Length) : default;
            int i = 0;
            if (Kernels.Simd.Enabled)
            {
                // Whole vectors, the same operations in the same order as the loop below (no fused multiply-adds): the same bits.
                var lrs = new Vector<float>(lr);
                var momenta = new Vector<float>(momentum);
                var keeps = new Vector<float>(keep);
                var decays = new Vector<float>(decay);
                for (; i <= parameters.Length - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var g = new Vector<float>(gradients.Slice(i));
                    var p = new Vector<float>(parameters.Slice(i));
                    if (decay != 0) g += decays * p;
                    if (momentum != 0)
                    {
                        var b = step == 1 ? g : new Vector<float>(buffer.Slice(i)) * momenta + keeps * g;
                        b.CopyTo(buffer.Slice(i));
                        g = Nesterov ? g + momenta * b : b;
                    }
                    (p - lrs * g).CopyTo(parameters.Slice(i));
                }
            }
            for (; i < parameters.Length; i++)
            {
                float g = decay != 0 ? gradients[i] + decay * parameters[i] : gradients[i];
                if (momentum != 0)
                {
                    buffer[i] = step == 1 ? g : buffer[i] * momentum + keep * g;
                    g = Nesterov ? g + momentum * buffer[i] : buffer[i];
                }
                parameters[i] -= lr * g;
            }
        }
    }

    /// <summary>
    /// Adam, <c>torch.optim.Adam</c> (and, with decoupled weight decay, <see cref="AdamW"/>): m = β1·m + (1-β1)·g,
    /// v = β2·v + (1-β2)·g², p -= (lr / (1-β1^t)) · m / (√v / √(1-β2^t) + ε). Weight decay is added to the gradient.
    /// </summary>
    public class Adam : Optimizer
    {
        private readonly float[] _exponentialAverage;
        private readonly float[] _exponentialAverageSquared;

        public Adam(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0)
            : base(parameterCount, learningRate)
        {
            if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1).");
            if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1).");
            RequireNonNegative(eps, nameof(eps));
            RequireNonNegative(weightDecay, nameof(weightDecay));
            Beta1 = beta1;
            Beta2 = beta2;
            Eps = eps;
            WeightDecay = weightDecay;
            _exponentialAverage = new float[parameterCount];
            _exponentialAverageSquared = new float[parameterCount];
        }

        public float Beta1 { get; }
        public float Beta2 { get; }
        public float Eps { get; }
        public float WeightDecay { get; }

        protected internal override bool UpdatesEachParameterAlone => true;

        /// <summary>Whether weight decay shrinks the parameters directly (AdamW) instead of joining the gradient.</summary>
        protected virtual bool DecoupledWeightDecay => false;

        public override IReadOnlyList<KeyValuePair<string, float[]>> State => new[]
        {
            new KeyValuePair<string, float[]>("exp_avg", _exponentialAverage),
            new KeyValuePair<string, float[]>("exp_avg_sq", _exponentialAverageSquared),
        };

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset, long step)
        {
            float lr = LearningRate, beta1 = Beta1, beta2 = Beta2, eps = Eps, decay = WeightDecay;
            // PyTorch computes the bias corrections in Python floats (double).
            double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
            float stepSize = (float)(lr / correction1), correction2Sqrt = (float)Math.Sqrt(correction2);
            float shrink = DecoupledWeightDecay ? 1 - lr * decay : 1;
            var m = _exponentialAverage.AsSpan(offset, parameters.Length);
            var v = _exponentialAverageSquared.AsSpan(offset, parameters.Length);
            int i = 0;
            if (Kernels.Simd.Enabled)
            {
                // Whole vectors, the same operations in the same order as the loop below (no fused multiply-adds; square root and
                // division are correctly rounded in both): the same bits, eight or more square roots and divisions at a time.
                var betas1 = new Vector<float>(beta1);
                var betas2 = new Vector<float>(beta2);
                var rests1 = new Vector<float>(1 - beta1);
                var rests2 = new Vector<float>(1 - beta2);
                var decays = new Vector<float>(decay);
                var shrinks = new Vector<float>(shrink);
                var epsilons = new Vector<float>(eps);
                var corrections = new Vector<float>(correction2Sqrt);
                var steps = new Vector<float>(stepSize);
                for (; i <= parameters.Length - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var g = new Vector<float>(gradients.Slice(i));
                    var p = new Vector<float>(parameters.Slice(i));
                    if (DecoupledWeightDecay) p *= shrinks;
                    else if (decay != 0) g += decays * p;
                    var mi = new Vector<float>(m.Slice(i)) * betas1 + rests1 * g;
                    var vi = new Vector<float>(v.Slice(i)) * betas2 + rests2 * g * g;
                    mi.CopyTo(m.Slice(i));
                    vi.CopyTo(v.Slice(i));
                    var denominator = Vector.SquareRoot(vi) / corrections + epsilons;
                    (p - steps * (mi / denominator)).CopyTo(parameters.Slice(i));
                }
            }
            for (; i < parameters.Length; i++)
            {
                float g = gradients[i];
                if (DecoupledWeightDecay) parameters[i] *= shrink;
                else if (decay != 0) g += decay * parameters[i];
                m[i] = m[i] * beta1 + (1 - beta1) * g;
                v[i] = v[i] * beta2 + (1 - beta2) * g * g;
                float denominator = MathF.Sqrt(v[i]) / correction2Sqrt + eps;
                parameters[i] -= stepSize * (m[i] / denominator);
            }
        }
    }

    /// <summary><c>torch.optim.AdamW</c>: Adam with decoupled weight decay, p *= 1 - lr·wd before the Adam step; default wd 0.01.</summary>
    public sealed class AdamW : Adam
    {
        public AdamW(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 1e-2f)
            : base(parameterCount, learningRate, beta1, beta2, eps, weightDecay)
        {
        }

        protected override bool DecoupledWeightDecay => true;
    }
}
