using System.Runtime.Intrinsics;
using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The element-wise kernels against plain loops, on lengths around the vector width, NaN included. CI runs them on both paths.</summary>
    public sealed class ElementwiseKernelTests
    {
        public static readonly TheoryData<int> Lengths = new() { 1, 7, 8, 9, 16, 31, 100, 4704 };

        private static float[] Random(int length, int seed)
        {
            var random = new CnnRandom((ulong)seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = random.NextUniform(-2, 2);
            if (length > 3) values[3] = float.NaN;
            if (length > 5) values[5] = 0f;
            return values;
        }

        // The vector ReLU every fused epilogue uses (MAXPS(0, v) on x86) is the scalar rule bit for bit: -0 stays -0, and a
        // NaN passes through with its sign and payload.
        [Fact]
        public void VectorRelu_IsTheScalarRuleBitForBit()
        {
            float[] values =
            {
                -0f, 0f, float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC12345)), BitConverter.Int32BitsToSingle(0x7FA00001),
                -1f, 2.5f, float.NegativeInfinity, float.PositiveInfinity, -float.Epsilon, float.Epsilon, -3e38f, 3e38f, -1e-40f, 1e-40f,
            };
            var expected = Array.ConvertAll(values, v => BitConverter.SingleToInt32Bits(Elementwise.Relu(v)));
            Assert.Equal(BitConverter.SingleToInt32Bits(-0f), expected[0]);
            var wide = Elementwise.Relu(Vector512.Create(values));
            var narrow = (Elementwise.Relu(Vector256.Create(values.AsSpan(0, 8))), Elementwise.Relu(Vector256.Create(values.AsSpan(8, 8))));
            for (int i = 0; i < 16; i++)
            {
                Assert.Equal(expected[i], BitConverter.SingleToInt32Bits(wide[i]));
                Assert.Equal(expected[i], BitConverter.SingleToInt32Bits(i < 8 ? narrow.Item1[i] : narrow.Item2[i - 8]));
            }
        }

        [Theory]
        [MemberData(nameof(Lengths))]
        public void ActivationsAndGradientsMatchPlainLoops(int length)
        {
            var x = Random(length, 1);
            var dy = Random(length, 2);
            var y = new float[length];
            Elementwise.Relu(x, y);
            for (int i = 0; i < length; i++) Assert.Equal(x[i] < 0f ? 0f : x[i], y[i]);
            Elementwise.LeakyRelu(x, y, 0.2f);
            for (int i = 0; i < length; i++) Assert.Equal(x[i] > 0f ? x[i] : x[i] * 0.2f, y[i]);
            Elementwise.ReluBackward(x, dy, y);
            for (int i = 0; i < length; i++) Assert.Equal(x[i] > 0f ? dy[i] : dy[i] * 0f, y[i]);
            Elementwise.ReluBackward(x, dy, y, 0.2f);
            for (int i = 0; i < length; i++) Assert.Equal(x[i] > 0f ? dy[i] : dy[i] * 0.2f, y[i]);
            Elementwise.Multiply(x, dy, y);
            for (int i = 0; i < length; i++) Assert.Equal(x[i] * dy[i], y[i]);
        }

        [Theory]
        [MemberData(nameof(Lengths))]
        public void AddsAndSumsMatchPlainLoops(int length)
        {
            var x = Random(length, 3);
            x[Math.Min(3, length - 1)] = 1f; // no NaN for sums
            var y = Random(length, 4);
            var expected = (float[])y.Clone();
            for (int i = 0; i < length; i++) expected[i] += x[i];
            Elementwise.Add(x, y);
            Assert.Equal(expected, y);
            for (int i = 0; i < length; i++) expected[i] += 0.5f;
            Elementwise.AddScalar(y, 0.5f);
            Assert.Equal(expected, y);

            double sum = 0;
            foreach (var v in x) sum += v;
            Assert.Equal(sum, Elementwise.Sum(x), 1e-4 * Math.Max(1, Math.Abs(sum)));
        }

        [Theory]
        [MemberData(nameof(Lengths))]
        public void SumReluIsSumThenRelu_BitForBit(int length)
        {
            var x = Random(length, 5);
            var y = Random(length, 6);
            if (length > 7) { x[7] = -0f; y[7] = 0f; } // -0 + 0 is +0
            if (length > 8) { x[8] = 1f; y[8] = -1f; }
            var sum = new float[length];
            var expected = new float[length];
            Elementwise.Sum(x, y, sum);
            Elementwise.Relu(sum, expected);
            var fused = new float[length];
            Elementwise.SumRelu(x, y, fused);
            for (int i = 0; i < length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(fused[i]));
        }

        [Theory]
        [InlineData(0, 0.25f)]
        [InlineData(1, 0.25f)]
        [InlineData(7, 0.5f)]
        [InlineData(8, 0.25f)]
        [InlineData(9, 0.1f)]
        [InlineData(7200, 0.25f)]   // the Keras CIFAR network's first dropout, a sample
        [InlineData(1001, 0f)]      // keeps everything
        [InlineData(1003, 0.9f)]
        public void Dropout_DrawsAsThePlainLoop_BitForBit(int length, float p)
        {
            // Training's dropout: each value's keep is NextFloat() < p ? 0 : 1 / (1 − p), in order; the kernel (8 draws' keeps at
            // once) must make the same masks and outputs and leave the generator where the loop leaves it, on whichever path
            // runs (CI runs this with SIMD off too).
            float scale = 1f / (1f - p);
            var random = new Random(length + 17);
            float[] x = new float[length];
            for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
            float[] expectedY = new float[length], expectedMask = new float[length], y = new float[length], mask = new float[length];
            var loop = new CnnRandom(42);
            loop.NextUInt64(); // a generator partway through its stream
            var kernel = loop;
            for (int i = 0; i < length; i++)
            {
                float keep = loop.NextFloat() < p ? 0f : scale;
                expectedMask[i] = keep;
                expectedY[i] = x[i] * keep;
            }
            Elementwise.Dropout(x, y, mask, ref kernel, p, scale);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expectedMask[i]), BitConverter.SingleToInt32Bits(mask[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(expectedY[i]), BitConverter.SingleToInt32Bits(y[i]));
            }
            Assert.Equal(loop.NextUInt64(), kernel.NextUInt64());
            if (length > 0) Assert.Throws<ArgumentException>(() => Elementwise.Dropout(x, new float[length - 1], mask, ref kernel, p, scale));
        }

        [Fact]
        public void MismatchedLengthsAreRefused()
        {
            Assert.Throws<ArgumentException>(() => Elementwise.SumRelu(new float[3], new float[3], new float[4]));
            Assert.Throws<ArgumentException>(() => Elementwise.Relu(new float[3], new float[4]));
            Assert.Throws<ArgumentException>(() => Elementwise.ReluBackward(new float[3], new float[3], new float[2]));
        }

        public static TheoryData<string, int> PathsAndLengths()
        {
            var data = new TheoryData<string, int>();
            foreach (object[] path in DirectConvolutionTests.Paths())
            {
                foreach (int length in new[] { 1, 7, 8, 9, 16, 31, 33, 100, 4704 }) data.Add((string)path[0], length);
            }
            return data;
        }

        // A residual join's two gradient parts and the ReLU before it in one pass: bit for bit what Add and then ReluBackward
        // (the generated code's two passes) give, -0, NaN and infinities included, in place over either part too.
        [Theory]
        [MemberData(nameof(PathsAndLengths))]
        public void ReluBackwardOfSum_IsAddThenReluBackwardBitForBit(string pathName, int length)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            float[] y = Random(length, 41), a = Random(length, 42), b = Random(length, 43);
            for (int i = 0; i < length; i += 5) y[i] = Math.Max(y[i], 0f); // ReLU outputs: zeros and positives, a NaN
            if (length > 8) { y[7] = -0f; a[8] = float.PositiveInfinity; b[8] = float.NegativeInfinity; a[6] = -1e-30f; b[6] = 0f; y[6] = 0f; }
            float[] expected = (float[])a.Clone();
            Elementwise.Add(b, expected);
            Elementwise.ReluBackward(y, expected, expected);
            var dx = new float[length];
            Elementwise.ReluBackwardOfSumOn(y, a, b, dx, path);
            for (int i = 0; i < length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(dx[i]));
            float[] inPlace = (float[])b.Clone();
            Elementwise.ReluBackwardOfSumOn(y, a, inPlace, inPlace, path);
            Assert.Equal(dx, inPlace);
        }
    }
}
