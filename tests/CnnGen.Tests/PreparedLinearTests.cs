using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The Linear layer on transposed weights (PreparedLinear), each path (scalar, Vector256, Vector512), against the definition in double precision.</summary>
    public sealed class PreparedLinearTests
    {
        public static IEnumerable<object[]> Shapes()
        {
            // inFeatures, outFeatures, bias
            var shapes = new List<object[]>
            {
                new object[] { 400, 120, true },  // LeNet-5's first: 8 vectors of 16 (the last half padding), one tile
                new object[] { 120, 84, true },   // LeNet-5's second: 6 vectors on Vector512, 4 + 7 halves on Vector256
                new object[] { 84, 10, true },    // less than a vector
                new object[] { 1, 1, false },     // one input feature (no pair), one output
                new object[] { 7, 16, false },    // odd inputs: the last one on the even chain alone
                new object[] { 33, 129, true },   // a tile of 8 vectors, then one of a single output
                new object[] { 64, 257, true },   // two whole tiles and one output
                new object[] { 3, 200, false },   // 13 vectors: a tile of 8 and one of 5
                new object[] { 256, 64, true },
            };
            var random = new Random(53);
            for (int trial = 0; trial < 12; trial++) shapes.Add(new object[] { random.Next(1, 300), random.Next(1, 300), random.Next(2) == 0 });
            return shapes;
        }

        public static IEnumerable<object[]> ShapesOnEveryPath()
        {
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (object[] shape in Shapes()) yield return [.. path, .. shape];
            }
        }

        private static float[] RandomValues(Random random, int length)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        [Theory]
        [MemberData(nameof(ShapesOnEveryPath))]
        public void Forward_MatchesTheDefinition(string pathName, int inFeatures, int outFeatures, bool hasBias)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            var random = new Random(inFeatures * 1000 + outFeatures);
            float[] x = RandomValues(random, inFeatures);
            float[] weight = RandomValues(random, outFeatures * inFeatures);
            float[] bias = hasBias ? RandomValues(random, outFeatures) : Array.Empty<float>();
            float[] prepared = RandomValues(random, PreparedLinear.PreparedLength(inFeatures, outFeatures)); // garbage must be overwritten
            PreparedLinear.Prepare(weight, bias, inFeatures, outFeatures, prepared);

            foreach (bool relu in new[] { false, true })
            {
                float[] y = new float[outFeatures + 9];
                Array.Fill(y, float.NaN);
                PreparedLinear.ForwardOn(x, prepared, inFeatures, outFeatures, y, relu, path);
                for (int j = 0; j < outFeatures; j++)
                {
                    double sum = hasBias ? bias[j] : 0, scale = Math.Abs(sum);
                    for (int k = 0; k < inFeatures; k++)
                    {
                        double product = (double)x[k] * weight[j * inFeatures + k];
                        sum += product;
                        scale += Math.Abs(product);
                    }
                    if (relu) sum = Math.Max(sum, 0);
                    if (!(Math.Abs(y[j] - sum) <= 1e-5 * Math.Max(scale, 1e-30)))
                        Assert.Fail($"{path} relu={relu}: y[{j}] = {y[j]}, expected {sum}");
                }
                for (int i = outFeatures; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
            }
        }

        [Fact]
        public void ScalarPath_SumsInTheDefinitionsOrder()
        {
            var random = new Random(5);
            const int inFeatures = 37, outFeatures = 21;
            float[] x = RandomValues(random, inFeatures), weight = RandomValues(random, outFeatures * inFeatures), bias = RandomValues(random, outFeatures);
            float[] prepared = new float[PreparedLinear.PreparedLength(inFeatures, outFeatures)], y = new float[outFeatures];
            PreparedLinear.Prepare(weight, bias, inFeatures, outFeatures, prepared);
            PreparedLinear.ForwardOn(x, prepared, inFeatures, outFeatures, y, relu: false, DirectConvolution.KernelPath.Scalar);
            for (int j = 0; j < outFeatures; j++)
            {
                float sum = bias[j];
                for (int k = 0; k < inFeatures; k++) sum += x[k] * weight[j * inFeatures + k];
                Assert.Equal(sum, y[j]);
            }
        }

        [Fact]
        public void ShortSpans_AreRejected()
        {
            float[] prepared = new float[PreparedLinear.PreparedLength(20, 30)];
            Assert.Throws<ArgumentException>(() => PreparedLinear.Prepare(new float[599], default, 20, 30, prepared));
            Assert.Throws<ArgumentException>(() => PreparedLinear.Prepare(new float[600], new float[29], 20, 30, prepared));
            Assert.Throws<ArgumentException>(() => PreparedLinear.Prepare(new float[600], default, 20, 30, new float[prepared.Length - 1]));
            Assert.Throws<ArgumentException>(() => PreparedLinear.Forward(new float[19], prepared, 20, 30, new float[30], relu: false));
            Assert.Throws<ArgumentException>(() => PreparedLinear.Forward(new float[20], prepared.AsSpan(1), 20, 30, new float[30], relu: false));
            Assert.Throws<ArgumentException>(() => PreparedLinear.Forward(new float[20], prepared, 20, 30, new float[29], relu: false));
            Assert.Throws<ArgumentOutOfRangeException>(() => PreparedLinear.PreparedLength(0, 30));
        }
    }
}
