using System;
using System.Collections.Generic;
using Xunit;

namespace CnnGen.Tests.Infrastructure
{
    /// <summary>
    /// What the convolution kernels' tests check against: conv2d by its definition in double precision, with each output
    /// cell's scale S = |bias| + Σ |x·w| over its window, and the check |y − y_exact| ≤ tolerance · S that the Winograd
    /// kernels' bounds are stated in (a wrong coefficient, tap or tile is off by about S/10 or more).
    /// </summary>
    public static class ConvolutionReference
    {
        /// <summary>Values uniform in [−1, 1).</summary>
        public static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        /// <summary>An array of <paramref name="value"/> (NaN: whatever a kernel leaves unwritten shows).</summary>
        public static float[] Filled(int length, float value)
        {
            var values = new float[length];
            Array.Fill(values, value);
            return values;
        }

        /// <summary>
        /// Random layer shapes for a theory's rows, { inChannels, height, width, outChannels, padding, bias }: channel counts
        /// that fill no whole vector and some that do, maps of <paramref name="smallest"/> to <paramref name="largest"/> − 1,
        /// padding 0 to 2; the same rows for the same seed.
        /// </summary>
        public static IEnumerable<object[]> RandomShapes(int seed, int count, int smallest, int largest)
        {
            var random = new Random(seed);
            int[] channels = { 1, 3, 5, 16, 17, 32, 64 };
            for (int trial = 0; trial < count; trial++)
            {
                yield return new object[]
                {
                    channels[random.Next(channels.Length)], random.Next(smallest, largest), random.Next(smallest, largest), channels[random.Next(channels.Length)],
                    random.Next(0, 3), random.Next(2) == 0,
                };
            }
        }

        /// <summary>
        /// conv2d of x [inChannels x height x width] with a square <paramref name="kernel"/>, <paramref name="stride"/> and
        /// <paramref name="padding"/>, in double: each output cell's value and the sum of the magnitudes of its terms.
        /// </summary>
        public static (double[] Value, double[] Scale) Definition(float[] x, int inChannels, int height, int width, float[] weight, float[] bias,
            int outChannels, int kernel, int stride, int padding)
        {
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            var value = new double[outChannels * outHeight * outWidth];
            var scale = new double[value.Length];
            for (int oc = 0; oc < outChannels; oc++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        double sum = bias.Length == 0 ? 0 : bias[oc], magnitude = Math.Abs(sum);
                        for (int ic = 0; ic < inChannels; ic++)
                        {
                            for (int ky = 0; ky < kernel; ky++)
                            {
                                int iy = stride * oy + ky - padding;
                                if (iy < 0 || iy >= height) continue;
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int ix = stride * ox + kx - padding;
                                    if (ix < 0 || ix >= width) continue;
                                    double product = (double)x[(ic * height + iy) * width + ix] * weight[((oc * inChannels + ic) * kernel + ky) * kernel + kx];
                                    sum += product;
                                    magnitude += Math.Abs(product);
                                }
                            }
                        }
                        int at = (oc * outHeight + oy) * outWidth + ox;
                        value[at] = sum;
                        scale[at] = magnitude;
                    }
                }
            }
            return (value, scale);
        }

        /// <summary>
        /// conv_transpose2d of x [inChannels x height x width] with a square <paramref name="kernel"/> (weight [inChannels x
        /// outChannels x k x k]), <paramref name="stride"/> and <paramref name="padding"/>, no output padding, in double: each
        /// output cell's value and the sum of the magnitudes of its terms.
        /// </summary>
        public static (double[] Value, double[] Scale) TransposedDefinition(float[] x, int inChannels, int height, int width, float[] weight, float[] bias,
            int outChannels, int kernel, int stride, int padding)
        {
            int outHeight = (height - 1) * stride - 2 * padding + kernel, outWidth = (width - 1) * stride - 2 * padding + kernel;
            var value = new double[outChannels * outHeight * outWidth];
            var scale = new double[value.Length];
            for (int oc = 0; oc < outChannels; oc++)
                for (int i = 0; i < outHeight * outWidth; i++)
                {
                    value[oc * outHeight * outWidth + i] = bias.Length == 0 ? 0 : bias[oc];
                    scale[oc * outHeight * outWidth + i] = bias.Length == 0 ? 0 : Math.Abs(bias[oc]);
                }
            for (int ic = 0; ic < inChannels; ic++)
                for (int iy = 0; iy < height; iy++)
                    for (int ix = 0; ix < width; ix++)
                        for (int oc = 0; oc < outChannels; oc++)
                            for (int ky = 0; ky < kernel; ky++)
                            {
                                int oy = iy * stride - padding + ky;
                                if (oy < 0 || oy >= outHeight) continue;
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int ox = ix * stride - padding + kx;
                                    if (ox < 0 || ox >= outWidth) continue;
                                    double product = (double)x[(ic * height + iy) * width + ix] * weight[((ic * outChannels + oc) * kernel + ky) * kernel + kx];
                                    int at = (oc * outHeight + oy) * outWidth + ox;
                                    value[at] += product;
                                    scale[at] += Math.Abs(product);
                                }
                            }
            return (value, scale);
        }

        /// <summary>
        /// Fails unless each of y's first <paramref name="outLength"/> cells is within <paramref name="tolerance"/> · S of the
        /// definition (its ReLU when <paramref name="relu"/>) and the cells after them are still NaN; gives the worst error in S.
        /// </summary>
        public static double AssertWithinScale(float[] y, int outLength, double[] expected, double[] scale, bool relu, double tolerance, string what)
        {
            double worst = 0;
            for (int i = 0; i < outLength; i++)
            {
                double exact = relu ? Math.Max(expected[i], 0) : expected[i];
                double error = Math.Abs(y[i] - exact) / Math.Max(scale[i], 1e-30);
                if (!(error <= tolerance))
                    Assert.Fail($"{what}, relu={relu}: y[{i}] = {y[i]}, expected {exact} (error {error:E2} of the magnitude)");
                worst = Math.Max(worst, error);
            }
            for (int i = outLength; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), what + ": wrote past the output");
            return worst;
        }
    }
}
