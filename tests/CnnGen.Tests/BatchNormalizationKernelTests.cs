using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The batch-norm passes against double-precision sums and the scalar expressions they vectorize.</summary>
    public sealed class BatchNormalizationKernelTests
    {
        [Theory]
        [InlineData(1, 1, 1)]     // BatchNorm1d-like: one value per plane
        [InlineData(3, 5, 1)]
        [InlineData(2, 3, 7)]
        [InlineData(4, 2, 100)]
        [InlineData(2, 4, 1024)]
        [InlineData(5, 3, 33)]
        [InlineData(3, 17, 45)]   // the sums' 32-wide loop, an 8-wide step and a scalar tail; channels not a multiple of 16
        [InlineData(4, 3, 64)]
        [InlineData(2, 5, 361)]   // 19x19
        public void Passes_MatchTheDefinition(int batchSize, int channels, int plane)
        {
            var random = new Random(batchSize * 100 + channels * 10 + plane);
            int length = batchSize * channels * plane;
            float[] x = new float[length], dy = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = (float)(random.NextDouble() * 4 + 3); // an offset mean makes the deviations matter
                dy[i] = (float)(random.NextDouble() * 2 - 1);
            }
            for (int c = 0; c < channels; c++)
            {
                double sum = 0, dySum = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        sum += x[(n * channels + c) * plane + i];
                        dySum += dy[(n * channels + c) * plane + i];
                    }
                }
                float mean = (float)(sum / (batchSize * plane));
                double squares = 0, dyXhat = 0;
                const float invStd = 0.7f;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        squares += ((double)x[at] - mean) * ((double)x[at] - mean);
                        dyXhat += dy[at] * (((double)x[at] - mean) * invStd);
                    }
                }
                Assert.Equal(sum, BatchNormalization.Sum(x, batchSize, channels, plane, c), 1e-6 * Math.Abs(sum));
                Assert.Equal(squares, BatchNormalization.SumSquaredDeviations(x, batchSize, channels, plane, c, mean), 1e-5 * squares + 1e-9);
                // About a shift off the mean (as a thread's chunk mean is off the batch's): Σ(x − s) and Σ(x − s)² in one pass.
                float shift = mean + 0.3f;
                double deviations = 0, shiftedSquares = 0, absolute = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        double d = (double)x[(n * channels + c) * plane + i] - shift;
                        deviations += d;
                        shiftedSquares += d * d;
                        absolute += Math.Abs(d);
                    }
                }
                var (sumAbout, squaresAbout) = BatchNormalization.SumsAboutShift(x, batchSize, channels, plane, c, shift);
                Assert.Equal(deviations, sumAbout, 1e-5 * absolute);
                Assert.Equal(shiftedSquares, squaresAbout, 1e-5 * shiftedSquares);
                var (sumDy, sumDyXhat) = BatchNormalization.BackwardSums(x, dy, batchSize, channels, plane, c, mean, invStd);
                Assert.Equal(dySum, sumDy, 1e-5 * Math.Max(1, Math.Abs(dySum)));
                Assert.Equal(dyXhat, sumDyXhat, 1e-5 * Math.Max(1, Math.Abs(dyXhat)));

                // Element-wise passes: exactly the scalar expression, element by element.
                float[] y = new float[length], dx = new float[length];
                BatchNormalization.Normalize(x, y, batchSize, channels, plane, c, mean, invStd, 1.5f, -0.25f);
                BatchNormalization.BackwardInput(x, dy, dx, batchSize, channels, plane, c, mean, invStd, 1.1f, 0.01f, -0.02f);
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        Assert.Equal((x[at] - mean) * invStd * 1.5f + -0.25f, y[at]);
                        Assert.Equal(1.1f * (dy[at] - 0.01f - (x[at] - mean) * invStd * -0.02f), dx[at]);
                    }
                }
                for (int other = 0; other < length; other++)
                {
                    if ((other / plane) % channels != c) Assert.Equal(0f, y[other]); // other channels untouched
                }
            }
            float[] shifted = new float[length];
            BatchNormalization.ScaleShift(x, shifted, 2f, 0.5f, 1f);
            for (int i = 0; i < length; i++) Assert.Equal((x[i] - 2f) * 0.5f + 1f, shifted[i]);
        }

        [Theory]
        [InlineData(1, 1, 1)]
        [InlineData(2, 3, 7)]
        [InlineData(3, 2, 64)]
        [InlineData(2, 4, 1024)]
        [InlineData(5, 3, 33)]
        public void NormalizeWithRelu_IsTheReluOfTheNormalizedValue_BitForBit(int batchSize, int channels, int plane)
        {
            // Training writes the ReLU's output in batch-norm's normalize pass (the ReLU's backward reads only that): each value
            // must be what the separate ReLU kernel makes of the separate normalize's, on whichever path runs (CI runs this
            // with SIMD off too). Half the values fall below zero; a NaN and a -0 pass through as the ReLU kernel passes them.
            var random = new Random(batchSize * 1000 + channels * 10 + plane);
            int length = batchSize * channels * plane;
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
            x[length / 2] = float.NaN;
            const float mean = 0.1f, invStd = 1.3f, weight = -0.8f, bias = -0f; // at x = mean: +0 · 1.3 · −0.8 + −0 = −0
            x[length - 1] = mean;
            for (int c = 0; c < channels; c++)
            {
                float[] normalized = new float[length], expected = new float[length], fused = new float[length];
                if (c == channels - 1) Assert.True(float.IsNegative(Normalized(x[length - 1])), "the −0 case");
                BatchNormalization.Normalize(x, normalized, batchSize, channels, plane, c, mean, invStd, weight, bias);
                Elementwise.Relu(normalized, expected);
                BatchNormalization.Normalize(x, fused, batchSize, channels, plane, c, mean, invStd, weight, bias, relu: true);
                for (int i = 0; i < length; i++)
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(fused[i]));
                    if ((i / plane) % channels != c) continue;
                    float value = Normalized(x[i]); // the definition, element by element
                    Assert.Equal(BitConverter.SingleToInt32Bits(value < 0f ? 0f : value), BitConverter.SingleToInt32Bits(fused[i]));
                }
            }

            static float Normalized(float v) => (v - mean) * invStd * weight + bias;
        }

        [Theory]
        [InlineData(1, 1, 1)]
        [InlineData(2, 3, 7)]
        [InlineData(3, 2, 64)]
        [InlineData(5, 3, 33)]
        [InlineData(9, 64, 4)]    // small planes: NormalizeBatch spreads the parameters
        public void NormalizeWithRelu6_IsTheRelu6OfTheNormalizedValue_BitForBit(int batchSize, int channels, int plane)
        {
            // Training writes a ReLU6's output in batch-norm's normalize pass too: each value must be what Activations.Relu6 makes
            // of the separate normalize's, channel by channel and sample after sample. The values span −8 to 8 (both clamps); a
            // NaN passes through as ReLU6 passes it.
            var random = new Random(batchSize * 1000 + channels * 10 + plane + 6);
            int length = batchSize * channels * plane;
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 8 - 4);
            x[length / 2] = float.NaN;
            float[] mean = new float[channels], invStd = new float[channels], p = new float[2 * channels];
            for (int c = 0; c < channels; c++)
            {
                mean[c] = (float)(random.NextDouble() - 0.5);
                invStd[c] = (float)(random.NextDouble() + 1.5);
                p[c] = (float)(random.NextDouble() * 4 - 2);
                p[channels + c] = (float)(random.NextDouble() * 2 - 1);
            }
            float[] normalized = new float[length], expected = new float[length], byChannel = new float[length], batch = new float[length];
            BatchNormalization.NormalizeBatch(x, normalized, batchSize, channels, plane, mean, invStd, p);
            Activations.Relu6(normalized, expected);
            if (length >= 64)
            {
                Assert.Contains(expected, v => v == 6f);
                Assert.Contains(expected, v => v == 0f);
            }
            for (int c = 0; c < channels; c++)
                BatchNormalization.Normalize(x, byChannel, batchSize, channels, plane, c, mean[c], invStd[c], p[c], p[channels + c], relu6: true);
            BatchNormalization.NormalizeBatch(x, batch, batchSize, channels, plane, mean, invStd, p, relu6: true);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(byChannel[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(batch[i]));
            }
        }

        [Theory]
        [InlineData(1, 3, 1)]
        [InlineData(3, 2, 7)]     // planes below a vector: the scalar sums
        [InlineData(5, 17, 45)]   // a 32-wide step, an 8-wide step and a scalar tail; 17 channels
        [InlineData(4, 3, 64)]
        [InlineData(3, 5, 361)]   // 19x19
        [InlineData(2, 4, 1024)]
        public void SampleBySampleSums_AreTheFloatsOfTheSumsOverTheBatch_BitForBit(int batchSize, int channels, int plane)
        {
            // Training adds the sums sample by sample in the convolution's loop (AddSampleSums): each channel's shift, Σ(x − shift)
            // and Σ(x − shift)² must be exactly what the batch-norm's own pass (Sum over the first plane, SumsAboutShift) gives,
            // on whichever path runs (CI runs this with SIMD off and with AVX-512 off too).
            var random = new Random(batchSize * 1000 + channels * 10 + plane);
            int sample = channels * plane, length = batchSize * sample;
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 3 + 40 + (i / sample) * 0.5); // means apart from 0
            double[] sums = new double[channels * BatchNormalization.SampleSumsWidth];
            Array.Fill(sums, double.NaN); // the first sample starts the sums: nothing left from before may count
            for (int n = 0; n < batchSize; n++) BatchNormalization.AddSampleSums(x.AsSpan(n * sample, sample), channels, plane, n == 0, sums);
            for (int c = 0; c < channels; c++)
            {
                var (shift, deviations, squares) = AssertSumsAboutShift(x, batchSize, channels, plane, sums, c);
                // And against the definition, in double.
                double expectedDeviations = 0, expectedSquares = 0, absolute = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        double d = (double)x[(n * channels + c) * plane + i] - shift;
                        expectedDeviations += d;
                        expectedSquares += d * d;
                        absolute += Math.Abs(d);
                    }
                }
                Assert.Equal(expectedDeviations, deviations, 1e-5 * absolute);
                Assert.Equal(expectedSquares, squares, 1e-5 * expectedSquares);
            }
            Assert.Throws<ArgumentException>(() => BatchNormalization.AddSampleSums(x.AsSpan(0, sample - 1), channels, plane, true, sums));
            Assert.Throws<ArgumentException>(() => BatchNormalization.AddSampleSums(x.AsSpan(0, sample), channels, plane, true, sums.AsSpan(1)));
        }

        // Channel c's shift, Σ(x − shift) and Σ(x − shift)² in sums (SampleSums' layout) are, bit for bit, Sum over the first
        // plane and SumsAboutShift over the batch; returns those.
        private static (float Shift, double Deviations, double Squares) AssertSumsAboutShift(float[] x, int batchSize, int channels, int plane, double[] sums, int c)
        {
            float shift = (float)(BatchNormalization.Sum(x, 1, channels, plane, c) / plane);
            var (deviations, squares) = BatchNormalization.SumsAboutShift(x, batchSize, channels, plane, c, shift);
            var taken = BatchNormalization.SampleSums(sums, c);
            Assert.Equal(BitConverter.SingleToInt32Bits(shift), BitConverter.SingleToInt32Bits(taken.Shift));
            Assert.Equal(BitConverter.DoubleToInt64Bits(deviations), BitConverter.DoubleToInt64Bits(taken.Deviations));
            Assert.Equal(BitConverter.DoubleToInt64Bits(squares), BitConverter.DoubleToInt64Bits(taken.SquaredDeviations));
            return (shift, deviations, squares);
        }

        [Theory]
        [InlineData(1, 1, 1)]
        [InlineData(64, 120, 1)]  // BatchNorm1d-like: 15 blocks of 8 channels in the lanes
        [InlineData(5, 19, 1)]    // two blocks and 3 channels after them
        [InlineData(9, 256, 4)]   // 2x2 planes: the last maps of a deep CIFAR network
        [InlineData(3, 13, 3)]
        [InlineData(4, 8, 7)]     // the largest small plane
        [InlineData(3, 9, 8)]     // past SmallPlane: a sample at a time
        [InlineData(2, 5, 45)]
        public void BatchSums_AreTheFloatsOfTheSumsOverTheBatch_BitForBit(int batchSize, int channels, int plane)
        {
            // A batch-norm whose sums no loop added takes them in one pass over the batch (AddBatchSums): each channel's shift,
            // Σ(x − shift) and Σ(x − shift)² must be exactly what Sum over the first plane and SumsAboutShift give, on whichever
            // path runs (8 channels in the lanes on small planes; CI runs this with SIMD off and with AVX-512 off too).
            var random = new Random(batchSize * 1000 + channels * 10 + plane + 3);
            int sample = channels * plane, length = batchSize * sample;
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 3 - 1 + (i / plane % channels) * 0.25); // channels apart
            double[] sums = new double[channels * BatchNormalization.SampleSumsWidth];
            Array.Fill(sums, double.NaN); // started afresh: nothing left from before may count
            BatchNormalization.AddBatchSums(x, batchSize, channels, plane, sums);
            for (int c = 0; c < channels; c++) AssertSumsAboutShift(x, batchSize, channels, plane, sums, c);
            Assert.Throws<ArgumentException>(() => BatchNormalization.AddBatchSums(x.AsSpan(0, length - 1), batchSize, channels, plane, sums));
            Assert.Throws<ArgumentException>(() => BatchNormalization.AddBatchSums(x, batchSize, channels, plane, sums.AsSpan(1)));
        }

        [Theory]
        [InlineData(1, 1, 1)]
        [InlineData(3, 17, 7)]
        [InlineData(2, 5, 45)]
        [InlineData(4, 3, 64)]
        [InlineData(2, 3, 361)]
        [InlineData(9, 256, 4)]   // small planes: channels spread in blocks of 64 (256 values), whole vectors
        [InlineData(3, 120, 1)]   // BatchNorm1d-like, two blocks
        [InlineData(2, 37, 3)]    // a block of 85 channels' 255 values: a scalar tail
        [InlineData(3, 100, 5)]   // blocks of 51 channels, the last partial
        public void NormalizeBatch_IsEveryChannelsNormalize_BitForBit(int batchSize, int channels, int plane)
        {
            // With the sums added in the convolution's loop, training normalizes sample after sample: each value must be the
            // float the channel-at-a-time pass writes, with the ReLU and without, on whichever path runs.
            var random = new Random(batchSize * 1000 + channels * 10 + plane);
            int length = batchSize * channels * plane;
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
            float[] mean = new float[channels], invStd = new float[channels], p = new float[2 * channels];
            for (int c = 0; c < channels; c++)
            {
                mean[c] = (float)(random.NextDouble() - 0.5);
                invStd[c] = (float)(random.NextDouble() + 0.5);
                p[c] = (float)(random.NextDouble() * 2 - 1);
                p[channels + c] = (float)(random.NextDouble() - 0.5);
            }
            foreach (bool relu in new[] { false, true })
            {
                float[] expected = new float[length], actual = new float[length];
                for (int c = 0; c < channels; c++)
                    BatchNormalization.Normalize(x, expected, batchSize, channels, plane, c, mean[c], invStd[c], p[c], p[channels + c], relu);
                BatchNormalization.NormalizeBatch(x, actual, batchSize, channels, plane, mean, invStd, p, relu);
                for (int i = 0; i < length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]));
            }
            Assert.Throws<ArgumentException>(() => BatchNormalization.NormalizeBatch(x, new float[length - 1], batchSize, channels, plane, mean, invStd, p));
            Assert.Throws<ArgumentException>(() => BatchNormalization.NormalizeBatch(x, new float[length], batchSize, channels, plane, mean, invStd, p.AsSpan(1)));
        }

        [Theory]
        [InlineData(1, 1, 1)]     // BatchNorm1d-like
        [InlineData(3, 17, 7)]    // planes below a vector: the scalar sums; 17 channels
        [InlineData(5, 17, 45)]   // a 32-wide step, an 8-wide step and a scalar tail
        [InlineData(2, 5, 45)]
        [InlineData(4, 3, 64)]
        [InlineData(3, 20, 16)]   // 4x4 planes, 20 channels
        [InlineData(2, 3, 361)]   // 19x19
        [InlineData(2, 4, 1024)]
        [InlineData(9, 256, 4)]   // small planes: 8 channels in the lanes, coefficients spread in blocks of 64 channels
        [InlineData(5, 120, 1)]   // BatchNorm1d-like, two blocks
        [InlineData(4, 13, 3)]    // a block of 8 and 5 channels after it; a scalar tail
        [InlineData(3, 100, 5)]   // blocks of 51 channels, the last partial
        public void SampleMajorBackward_IsEveryChannelsBackward_BitForBit(int batchSize, int channels, int plane)
        {
            // Training's backward runs both passes sample after sample over every channel (BackwardSumsBatch, or AddSampleBackwardSums
            // a sample at a time, then BackwardInputBatch): each channel's Σdy and Σdy·x̂, and each dx, must be the floats the
            // channel-at-a-time BackwardSums and BackwardInput give, on whichever path runs (CI runs this with SIMD off and with
            // AVX-512 off too).
            var random = new Random(batchSize * 1000 + channels * 10 + plane + 7);
            int sample = channels * plane, length = batchSize * sample;
            float[] x = new float[length], dy = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = (float)(random.NextDouble() * 4 + 1);
                dy[i] = (float)(random.NextDouble() * 2 - 1);
            }
            float[] mean = new float[channels], invStd = new float[channels], coefficients = new float[3 * channels];
            for (int c = 0; c < channels; c++)
            {
                mean[c] = (float)(random.NextDouble() * 2 + 2);
                invStd[c] = (float)(random.NextDouble() + 0.5);
                coefficients[c] = (float)(random.NextDouble() * 2 - 1);
                coefficients[channels + c] = (float)(random.NextDouble() * 0.1 - 0.05);
                coefficients[2 * channels + c] = (float)(random.NextDouble() * 0.1 - 0.05);
            }
            double[] batchSums = new double[channels * BatchNormalization.BackwardSumsWidth], sampleSums = new double[batchSums.Length];
            Array.Fill(batchSums, double.NaN); // the sums start from nothing left from before
            Array.Fill(sampleSums, double.NaN);
            BatchNormalization.BackwardSumsBatch(x, dy, batchSize, channels, plane, mean, batchSums);
            for (int n = 0; n < batchSize; n++)
                BatchNormalization.AddSampleBackwardSums(x.AsSpan(n * sample, sample), dy.AsSpan(n * sample, sample), channels, plane, mean, n == 0, sampleSums);
            float[] expected = new float[length], actual = new float[length];
            for (int c = 0; c < channels; c++)
            {
                var (sumDy, sumDyXhat) = BatchNormalization.BackwardSums(x, dy, batchSize, channels, plane, c, mean[c], invStd[c]);
                foreach (var sums in new[] { batchSums, sampleSums })
                {
                    var (batchDy, batchDyXhat) = BatchNormalization.BackwardSampleSums(sums, c, invStd[c]);
                    Assert.Equal(sumDy, batchDy); // Equals: bit for bit, a zero's sign aside (the scalar path has no lanes to add it to)
                    Assert.Equal(sumDyXhat, batchDyXhat);
                }
                // And against the definition, in double.
                double definitionDy = 0, definitionDyXhat = 0, absolute = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        definitionDy += dy[at];
                        definitionDyXhat += dy[at] * (((double)x[at] - mean[c]) * invStd[c]);
                        absolute += Math.Abs(dy[at]) * (Math.Abs((double)x[at] - mean[c]) * invStd[c] + 1);
                    }
                }
                Assert.Equal(definitionDy, sumDy, 1e-5 * absolute);
                Assert.Equal(definitionDyXhat, sumDyXhat, 1e-5 * absolute);
                BatchNormalization.BackwardInput(x, dy, expected, batchSize, channels, plane, c, mean[c], invStd[c],
                    coefficients[c], coefficients[channels + c], coefficients[2 * channels + c]);
            }
            BatchNormalization.BackwardInputBatch(x, dy, actual, batchSize, channels, plane, mean, invStd, coefficients);
            for (int i = 0; i < length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]));
            Assert.Throws<ArgumentException>(() => BatchNormalization.BackwardSumsBatch(x, dy, batchSize, channels, plane, mean, batchSums.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => BatchNormalization.AddSampleBackwardSums(x.AsSpan(0, sample - 1), dy, channels, plane, mean, true, sampleSums));
            Assert.Throws<ArgumentException>(() => BatchNormalization.BackwardInputBatch(x, dy, new float[length - 1], batchSize, channels, plane, mean, invStd, coefficients));
            Assert.Throws<ArgumentException>(() => BatchNormalization.BackwardInputBatch(x, dy, actual, batchSize, channels, plane, mean, invStd, coefficients.AsSpan(1)));
        }

        public static TheoryData<string, int, int, int> PathsAndJoinShapes()
        {
            var data = new TheoryData<string, int, int, int>();
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                data.Add((string)path[0], 1, 1, 1);     // BatchNorm1d-like
                data.Add((string)path[0], 3, 17, 7);    // planes below a vector
                data.Add((string)path[0], 5, 17, 45);   // a 32-wide step, an 8-wide step and a scalar tail
                data.Add((string)path[0], 3, 3, 64);
                data.Add((string)path[0], 2, 16, 1024); // ResNet-8's first stage, two samples
            }
            return data;
        }

        // A residual join's ReLU backward with the batch-norm's sums below it added a sample at a time as dy is written: the
        // dy of ReluBackwardOfSum and the sums of BackwardSumsBatch over that dy, bit for bit, on every path; the sums also
        // against the definition in double.
        [Theory]
        [MemberData(nameof(PathsAndJoinShapes))]
        public void ReluBackwardOfSumWithBackwardSums_IsReluBackwardOfSumThenBackwardSumsBatch_BitForBit(string pathName, int batchSize, int channels, int plane)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(batchSize * 1000 + channels * 10 + plane + 11);
            int sample = channels * plane, length = batchSize * sample;
            float[] x = new float[length], y = new float[length], a = new float[length], b = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = (float)(random.NextDouble() * 4 + 1);
                y[i] = Math.Max(0f, (float)(random.NextDouble() * 2 - 1)); // ReLU outputs: zeros and positives
                a[i] = (float)(random.NextDouble() * 2 - 1);
                b[i] = (float)(random.NextDouble() * 2 - 1);
            }
            float[] mean = new float[channels], invStd = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                mean[c] = (float)(random.NextDouble() * 2 + 2);
                invStd[c] = (float)(random.NextDouble() + 0.5);
            }
            float[] expectedDy = new float[length], actualDy = new float[length];
            Elementwise.ReluBackwardOfSumOn(y, a, b, expectedDy, path);
            double[] expectedSums = new double[channels * BatchNormalization.BackwardSumsWidth], actualSums = new double[expectedSums.Length];
            BatchNormalization.BackwardSumsBatch(x, expectedDy, batchSize, channels, plane, mean, expectedSums);
            Array.Fill(actualSums, double.NaN); // the sums start from nothing left from before
            BatchNormalization.ReluBackwardOfSumWithBackwardSumsOn(y, a, b, actualDy, x, batchSize, channels, plane, mean, actualSums, path);
            for (int i = 0; i < length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(expectedDy[i]), BitConverter.SingleToInt32Bits(actualDy[i]));
            for (int i = 0; i < expectedSums.Length; i++) Assert.Equal(BitConverter.DoubleToInt64Bits(expectedSums[i]), BitConverter.DoubleToInt64Bits(actualSums[i]));
            for (int c = 0; c < channels; c++)
            {
                var (sumDy, sumDyXhat) = BatchNormalization.BackwardSampleSums(actualSums, c, invStd[c]);
                double definitionDy = 0, definitionDyXhat = 0, absolute = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        double dy = y[at] > 0 ? (double)a[at] + b[at] : 0;
                        definitionDy += dy;
                        definitionDyXhat += dy * (((double)x[at] - mean[c]) * invStd[c]);
                        absolute += Math.Abs(dy) * (Math.Abs((double)x[at] - mean[c]) * invStd[c] + 1);
                    }
                }
                Assert.Equal(definitionDy, sumDy, 1e-5 * absolute + 1e-12);
                Assert.Equal(definitionDyXhat, sumDyXhat, 1e-5 * absolute + 1e-12);
            }
            Assert.Throws<ArgumentException>(() => BatchNormalization.ReluBackwardOfSumWithBackwardSumsOn(y, a, b.AsSpan(1), actualDy, x, batchSize, channels, plane, mean, actualSums, path));
            Assert.Throws<ArgumentException>(() => BatchNormalization.ReluBackwardOfSumWithBackwardSumsOn(y, a, b, actualDy, x, batchSize, channels, plane, mean, actualSums.AsSpan(1), path));
        }

        [Fact]
        public void RejectsBadArguments()
        {
            float[] x = new float[24];
            Assert.Throws<ArgumentException>(() => BatchNormalization.Sum(x, 2, 3, 5, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalization.Sum(x, 2, 3, 4, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalization.Sum(x, 0, 3, 4, 0));
            Assert.Throws<ArgumentException>(() => BatchNormalization.Normalize(x, new float[23], 2, 3, 4, 0, 0, 1, 1, 0));
            Assert.Throws<ArgumentException>(() => BatchNormalization.Normalize(x, new float[23], 2, 3, 4, 0, 0, 1, 1, 0, relu: true));
        }
    }
}
