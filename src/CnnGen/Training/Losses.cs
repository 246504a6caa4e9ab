using System;

namespace CnnGen.Training
{
    /// <summary>
    /// Loss functions with their gradients, batch-major (N x classes), allocation-free. Arguments are checked before
    /// anything is written.
    /// </summary>
    public static class Losses
    {
        /// <summary>
        /// PyTorch's <c>nn.CrossEntropyLoss()</c> on logits: mean over the batch of logsumexp(z) - z[label], computed with
        /// the maximum subtracted so large logits stay finite. Writes d(mean loss)/d logits = (softmax - onehot) / N.
        /// </summary>
        public static float CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> logitsGradient)
        {
            if (labels.IsEmpty) throw new ArgumentException("The batch is empty.", nameof(labels));
            return (float)(CrossEntropySum(logits, labels, logitsGradient, 1f / labels.Length) / labels.Length);
        }

        /// <summary>
        /// The sum of the per-sample cross-entropy losses (in double), with the gradient (softmax - onehot) scaled by
        /// <paramref name="gradientScale"/>: the building block for a batch split across threads. The gradient may alias the logits.
        /// </summary>
        public static double CrossEntropySum(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> logitsGradient, float gradientScale)
        {
            int classes = CheckClassification(logits, labels, logitsGradient);
            double total = 0;
            for (int n = 0; n < labels.Length; n++)
            {
                var row = logits.Slice(n * classes, classes);
                var gradient = logitsGradient.Slice(n * classes, classes);
                float max = float.NegativeInfinity;
                for (int c = 0; c < classes; c++) max = MathF.Max(max, row[c]);
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(row[c] - max);
                double logSumExp = max + Math.Log(sum);
                total += logSumExp - row[labels[n]];
                int label = labels[n];
                for (int c = 0; c < classes; c++)
                {
                    double softmax = Math.Exp(row[c] - logSumExp);
                    gradient[c] = (float)((softmax - (c == label ? 1 : 0)) * gradientScale);
                }
            }
            return total;
        }

        /// <summary>
        /// PyTorch's <c>F.cross_entropy</c> on logits (N, classes, height, width) with integer targets (N, height, width):
        /// the mean over all N·height·width pixels of logsumexp(z) − z[label], each pixel's classes read across the class
        /// planes, with the maximum subtracted so large logits stay finite. Writes d(mean loss)/d logits =
        /// (softmax − onehot) / (N·height·width). N is labels.Length / (height·width).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or a label is outside [0, classes) (the message names the pixel and the value).</exception>
        /// <exception cref="ArgumentException">The labels are empty or not whole images, or the logits or gradient do not have N·classes·height·width floats.</exception>
        public static float PixelCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, int height, int width, Span<float> logitsGradient)
        {
            if (labels.IsEmpty) throw new ArgumentException("The batch is empty.", nameof(labels));
            return (float)(PixelCrossEntropySum(logits, labels, classes, height, width, logitsGradient, 1f / labels.Length) / labels.Length);
        }

        /// <summary>
        /// The sum of the per-pixel cross-entropy losses of <see cref="PixelCrossEntropy"/> (in double), with the gradient
        /// (softmax − onehot) scaled by <paramref name="gradientScale"/>: the building block for a batch split across
        /// threads. The gradient may alias the logits. Arguments are checked before anything is written.
        /// </summary>
        public static double PixelCrossEntropySum(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, int height, int width,
            Span<float> logitsGradient, float gradientScale)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            if (labels.IsEmpty) throw new ArgumentException("The batch is empty.", nameof(labels));
            int plane = height * width;
            if (labels.Length % plane != 0)
                throw new ArgumentException($"Expected labels for whole {height}x{width} images (a multiple of {plane}) but got {labels.Length}.", nameof(labels));
            int samples = labels.Length / plane;
            long expected = (long)samples * classes * plane;
            if (logits.Length != expected)
                throw new ArgumentException($"Expected {expected} logits ({samples}x{classes}x{height}x{width}) but got {logits.Length}.", nameof(logits));
            NetworkChecks.RequireLength(logitsGradient.Length, logits.Length, nameof(logitsGradient));
            for (int i = 0; i < labels.Length; i++)
            {
                if ((uint)labels[i] >= (uint)classes)
                {
                    int n = i / plane, row = i % plane / width, column = i % width;
                    throw new ArgumentOutOfRangeException(nameof(labels), labels[i],
                        $"Label {labels[i]} of pixel {i} (sample {n}, row {row}, column {column}) is outside the {classes} classes [0, {classes - 1}].");
                }
            }

            double total = 0;
            for (int n = 0; n < samples; n++)
            {
                var sample = logits.Slice(n * classes * plane, classes * plane);
                var gradient = logitsGradient.Slice(n * classes * plane, classes * plane);
                for (int p = 0; p < plane; p++)
                {
                    float max = float.NegativeInfinity;
                    for (int c = 0; c < classes; c++) max = MathF.Max(max, sample[c * plane + p]);
                    double sum = 0;
                    for (int c = 0; c < classes; c++) sum += Math.Exp(sample[c * plane + p] - max);
                    double logSumExp = max + Math.Log(sum);
                    int label = labels[n * plane + p];
                    total += logSumExp - sample[label * plane + p];
                    for (int c = 0; c < classes; c++)
                    {
                        double softmax = Math.Exp(sample[c * plane + p] - logSumExp);
                        gradient[c * plane + p] = (float)((softmax - (c == label ? 1 : 0)) * gradientScale);
                    }
                }
            }
            return total;
        }

        /// <summary>PyTorch's <c>nn.MSELoss()</c>: the mean of (y - t)² over all elements; writes the gradient 2 (y - t) / count.</summary>
        public static float MeanSquaredError(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> gradient)
        {
            if (output.IsEmpty) throw new ArgumentException("The batch is empty.", nameof(output));
            return (float)(SquaredErrorSum(output, target, gradient, 1f / output.Length) / output.Length);
        }

        /// <summary>The sum of (y - t)² (in double), with the gradient 2 (y - t) scaled by <paramref name="gradientScale"/>.</summary>
        public static double SquaredErrorSum(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> gradient, float gradientScale)
        {
            NetworkChecks.RequireLength(target.Length, output.Length, nameof(target));
            NetworkChecks.RequireLength(gradient.Length, output.Length, nameof(gradient));
            double total = 0;
            for (int i = 0; i < output.Length; i++)
            {
                float difference = output[i] - target[i];
                total += (double)difference * difference;
                gradient[i] = 2 * difference * gradientScale;
            }
            return total;
        }

        /// <summary>The index of the largest value (the first, on ties).</summary>
        public static int ArgMax(ReadOnlySpan<float> row)
        {
            if (row.IsEmpty) throw new ArgumentException("The row is empty.", nameof(row));
            int best = 0;
            for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
            return best;
        }

        private static int CheckClassification(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> gradient)
        {
            if (labels.IsEmpty) throw new ArgumentException("The batch is empty.", nameof(labels));
            if (logits.Length == 0 || logits.Length % labels.Length != 0)
                throw new ArgumentException($"Expected logits for {labels.Length} samples (a multiple of {labels.Length} floats) but got {logits.Length}.", nameof(logits));
            NetworkChecks.RequireLength(gradient.Length, logits.Length, "logitsGradient");
            int classes = logits.Length / labels.Length;
            for (int n = 0; n < labels.Length; n++)
                if ((uint)labels[n] >= (uint)classes)
                    throw new ArgumentOutOfRangeException(nameof(labels), labels[n], $"Label {labels[n]} of sample {n} is outside the {classes} classes [0, {classes - 1}].");
            return classes;
        }
    }
}
