using System;
using System.Collections.Generic;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The optimizers' updates, on whole vectors where SIMD runs, against PyTorch 1.13's rules written out element by
    /// element in float, operation for operation: equal bit for bit over several steps, on lengths that leave a tail after
    /// the last vector, and on a mask whose trainable runs start off the vectors' grid.
    /// </summary>
    public sealed class OptimizerKernelTests
    {
        public static IEnumerable<object[]> Cases()
        {
            foreach (int length in new[] { 1, 7, 8, 17, 100, 1003 })
            {
                foreach (string kind in new[] { "sgd", "sgd_momentum", "sgd_dampening_decay", "sgd_nesterov", "adam", "adam_decay", "adamw" })
                    yield return new object[] { kind, length };
            }
        }

        private static Optimizer Create(string kind, int length) => kind switch
        {
            "sgd" => new Sgd(length, 0.05f),
            "sgd_momentum" => new Sgd(length, 0.05f, momentum: 0.9f),
            "sgd_dampening_decay" => new Sgd(length, 0.03f, momentum: 0.5f, dampening: 0.3f, weightDecay: 1e-3f),
            "sgd_nesterov" => new Sgd(length, 0.05f, momentum: 0.9f, weightDecay: 5e-4f, nesterov: true),
            "adam" => new Adam(length, 1e-3f),
            "adam_decay" => new Adam(length, 2e-3f, beta1: 0.8f, beta2: 0.99f, eps: 1e-6f, weightDecay: 1e-2f),
            _ => new AdamW(length, 1e-3f, weightDecay: 1e-2f),
        };

        /// <summary>One step of the rule by the definition, element <paramref name="i"/>; <paramref name="state"/> as the optimizer keeps it.</summary>
        private static void ReferenceStep(Optimizer optimizer, float[] parameters, float[] gradients, float[][] state, int i, long step)
        {
            float lr = optimizer.LearningRate;
            switch (optimizer)
            {
                case Sgd sgd:
                {
                    float g = sgd.WeightDecay != 0 ? gradients[i] + sgd.WeightDecay * parameters[i] : gradients[i];
                    if (sgd.Momentum != 0)
                    {
                        float[] buffer = state[0];
                        buffer[i] = step == 1 ? g : buffer[i] * sgd.Momentum + (1 - sgd.Dampening) * g;
                        g = sgd.Nesterov ? g + sgd.Momentum * buffer[i] : buffer[i];
                    }
                    parameters[i] -= lr * g;
                    break;
                }
                case Adam adam:
                {
                    bool decoupled = adam is AdamW;
                    double correction1 = 1 - Math.Pow(adam.Beta1, step), correction2 = 1 - Math.Pow(adam.Beta2, step);
                    float stepSize = (float)(lr / correction1), correction2Sqrt = (float)Math.Sqrt(correction2);
                    float g = gradients[i];
                    if (decoupled) parameters[i] *= 1 - lr * adam.WeightDecay;
                    else if (adam.WeightDecay != 0) g += adam.WeightDecay * parameters[i];
                    float[] m = state[0], v = state[1];
                    m[i] = m[i] * adam.Beta1 + (1 - adam.Beta1) * g;
                    v[i] = v[i] * adam.Beta2 + (1 - adam.Beta2) * g * g;
                    float denominator = MathF.Sqrt(v[i]) / correction2Sqrt + adam.Eps;
                    parameters[i] -= stepSize * (m[i] / denominator);
                    break;
                }
            }
        }

        private static float[] Values(Random random, int length, float scale)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
            return values;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void UpdatesEqualTheRuleElementByElement(string kind, int length)
        {
            var random = new Random(length * 31 + kind.Length);
            var optimizer = Create(kind, length);
            float[] parameters = Values(random, length, 1f), expected = (float[])parameters.Clone();
            var state = new float[optimizer.State.Count][];
            for (int s = 0; s < state.Length; s++) state[s] = new float[length];
            for (long step = 1; step <= 4; step++)
            {
                float[] gradients = Values(random, length, 0.5f);
                optimizer.Step(parameters, gradients);
                for (int i = 0; i < length; i++) ReferenceStep(optimizer, expected, gradients, state, i, step);
                Assert.Equal(expected, parameters);
                for (int s = 0; s < state.Length; s++) Assert.Equal(state[s], optimizer.State[s].Value);
            }
        }

        [Theory]
        [InlineData("sgd_nesterov", 0)]
        [InlineData("adamw", 0)]
        [InlineData("adam_decay", 4)]
        public void UpdatesOnlyTheTrainableRuns_OffTheVectorGrid(string kind, int frozenLayer)
        {
            // SmallNet: a convolution of 76 parameters, then a Linear of 325; frozen either, the other's run is off the grid of 8 or 16.
            var network = new SmallNet();
            int length = SmallNet.Layout.ParameterCount;
            var random = new Random(7 + frozenLayer);
            var optimizer = Create(kind, length);
            var mask = new ParameterMask(network).FreezeLayers(frozenLayer);
            optimizer.Mask = mask;
            Assert.True(mask.TrainableRanges.Length > 0 && (mask.TrainableRanges[0].Offset % 8 != 0 || mask.TrainableRanges[0].Length % 8 != 0));
            float[] parameters = Values(random, length, 1f), expected = (float[])parameters.Clone();
            var state = new float[optimizer.State.Count][];
            for (int s = 0; s < state.Length; s++) state[s] = new float[length];
            for (long step = 1; step <= 3; step++)
            {
                float[] gradients = Values(random, length, 0.5f);
                optimizer.Step(parameters, gradients);
                foreach (var (offset, count) in mask.TrainableRanges)
                    for (int i = offset; i < offset + count; i++) ReferenceStep(optimizer, expected, gradients, state, i, step);
                Assert.Equal(expected, parameters);
                for (int s = 0; s < state.Length; s++) Assert.Equal(state[s], optimizer.State[s].Value);
            }
        }
    }
}
