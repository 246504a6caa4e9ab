using System;
using CnnGen.Training;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Per-pixel cross-entropy (PyTorch's cross_entropy on N x C x H x W logits) against a double definition.</summary>
    public sealed class PixelCrossEntropyTests
    {
        private static (double Loss, double[] Gradient) Reference(float[] logits, int[] labels, int classes, int height, int width)
        {
            int plane = height * width, samples = labels.Length / plane, pixels = labels.Length;
            var gradient = new double[logits.Length];
            double loss = 0;
            for (int n = 0; n < samples; n++)
                for (int p = 0; p < plane; p++)
                {
                    double sum = 0;
                    for (int c = 0; c < classes; c++) sum += Math.Exp(logits[(n * classes + c) * plane + p]);
                    int label = labels[n * plane + p];
                    loss += Math.Log(sum) - logits[(n * classes + label) * plane + p];
                    for (int c = 0; c < classes; c++)
                    {
                        int at = (n * classes + c) * plane + p;
                        gradient[at] = (Math.Exp(logits[at]) / sum - (c == label ? 1 : 0)) / pixels;
                    }
                }
            return (loss / pixels, gradient);
        }

        [Theory]
        [InlineData(1, 2, 1, 1)]
        [InlineData(3, 5, 4, 7)]
        [InlineData(2, 21, 6, 5)]
        [InlineData(4, 1, 3, 3)]
        public void MatchesTheDefinition(int samples, int classes, int height, int width)
        {
            var random = new Random(samples * 100 + classes);
            int pixels = samples * height * width;
            float[] logits = new float[pixels * classes];
            for (int i = 0; i < logits.Length; i++) logits[i] = (float)(random.NextDouble() * 8 - 4);
            int[] labels = new int[pixels];
            for (int i = 0; i < pixels; i++) labels[i] = random.Next(classes);
            var (expectedLoss, expectedGradient) = Reference(logits, labels, classes, height, width);
            float[] gradient = new float[logits.Length];
            float loss = Losses.PixelCrossEntropy(logits, labels, classes, height, width, gradient);
            Assert.True(Math.Abs(loss - expectedLoss) <= 1e-6 * Math.Max(1, expectedLoss), $"loss {loss} vs {expectedLoss}");
            GroupedConvolutionTests.Close(gradient, expectedGradient, 1e-6, "gradient");

            // The sum with a scale, and in place over the logits.
            float[] inPlace = (float[])logits.Clone();
            double sum = Losses.PixelCrossEntropySum(inPlace, labels, classes, height, width, inPlace, 2f);
            Assert.True(Math.Abs(sum - expectedLoss * pixels) <= 1e-6 * Math.Max(1, sum));
            for (int i = 0; i < gradient.Length; i++) Assert.True(Math.Abs(inPlace[i] - 2 * pixels * expectedGradient[i]) <= 1e-6);
        }

        [Fact]
        public void LargeLogits_StayFinite_AndOnePixelAgreesWithCrossEntropy()
        {
            // One pixel per image is the ordinary classification loss.
            float[] logits = { 1000f, -1000f, 3f, 1f, 2f, 0.5f }; // 2 samples x 3 classes x 1 x 1
            int[] labels = { 1, 2 };
            float[] a = new float[6], b = new float[6];
            float pixel = Losses.PixelCrossEntropy(logits, labels, 3, 1, 1, a);
            float plain = Losses.CrossEntropy(new float[] { 1000f, -1000f, 3f, 1f, 2f, 0.5f }, labels, b);
            Assert.True(float.IsFinite(pixel));
            Assert.Equal(plain, pixel);
            Assert.Equal(b, a);
        }

        [Fact]
        public void RejectsBadArguments_NamingThePixel()
        {
            float[] logits = new float[2 * 3 * 2 * 2], gradient = new float[logits.Length];
            int[] labels = new int[2 * 2 * 2];
            labels[6] = 3;
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.PixelCrossEntropy(logits, labels, 3, 2, 2, gradient));
            Assert.Contains("pixel 6", error.Message);
            Assert.Contains("Label 3", error.Message);
            Assert.All(gradient, v => Assert.Equal(0f, v)); // nothing written
            labels[6] = -1;
            Assert.Throws<ArgumentOutOfRangeException>(() => Losses.PixelCrossEntropy(logits, labels, 3, 2, 2, gradient));
            labels[6] = 0;
            Assert.Throws<ArgumentException>(() => Losses.PixelCrossEntropy(logits.AsSpan(1), labels, 3, 2, 2, gradient));
            Assert.Throws<ArgumentException>(() => Losses.PixelCrossEntropy(logits, labels, 3, 2, 2, gradient.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Losses.PixelCrossEntropy(logits, labels.AsSpan(1), 3, 2, 2, gradient));
            Assert.Throws<ArgumentException>(() => Losses.PixelCrossEntropy(logits, ReadOnlySpan<int>.Empty, 3, 2, 2, gradient));
            Assert.Throws<ArgumentOutOfRangeException>(() => Losses.PixelCrossEntropy(logits, labels, 0, 2, 2, gradient));
            Assert.Throws<ArgumentOutOfRangeException>(() => Losses.PixelCrossEntropy(logits, labels, 3, 0, 2, gradient));

            Allocations.AssertNone(() => Losses.PixelCrossEntropy(logits, labels, 3, 2, 2, gradient));
        }
    }
}
