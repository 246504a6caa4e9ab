using System;

namespace CnnGen.Training
{
    /// <summary>A learning rate per epoch, applied to an optimizer at the start of each epoch.</summary>
    public abstract class LearningRateSchedule
    {
        protected LearningRateSchedule(float baseLearningRate)
        {
            if (!(baseLearningRate >= 0) || float.IsInfinity(baseLearningRate))
                throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate, "The learning rate must be a finite number of 0 or more.");
            BaseLearningRate = baseLearningRate;
        }

        public float BaseLearningRate { get; }

        /// <summary>The learning rate for <paramref name="epoch"/> (0 for the first).</summary>
        public abstract float LearningRateAt(int epoch);

        public void Apply(Optimizer optimizer, int epoch) => optimizer.LearningRate = LearningRateAt(epoch);
    }

    /// <summary><c>torch.optim.lr_scheduler.StepLR</c>: the base rate times gamma^(epoch / stepSize).</summary>
    public sealed class StepLR : LearningRateSchedule
    {
        public StepLR(float baseLearningRate, int stepSize, float gamma = 0.1f) : base(baseLearningRate)
        {
            if (stepSize <= 0) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be positive.");
            StepSize = stepSize;
            Gamma = gamma;
        }

        public int StepSize { get; }
        public float Gamma { get; }

        public override float LearningRateAt(int epoch) => (float)(BaseLearningRate * Math.Pow(Gamma, Math.Max(0, epoch) / StepSize));
    }

    /// <summary>
    /// <c>torch.optim.lr_scheduler.CosineAnnealingLR</c> in closed form: etaMin + (base - etaMin)(1 + cos(π·epoch/tMax))/2.
    /// </summary>
    public sealed class CosineAnnealingLR : LearningRateSchedule
    {
        public CosineAnnealingLR(float baseLearningRate, int tMax, float etaMin = 0) : base(baseLearningRate)
        {
            if (tMax <= 0) throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "tMax must be positive.");
            TMax = tMax;
            EtaMin = etaMin;
        }

        public int TMax { get; }
        public float EtaMin { get; }

        public override float LearningRateAt(int epoch) =>
            (float)(EtaMin + (BaseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2);
    }
}
