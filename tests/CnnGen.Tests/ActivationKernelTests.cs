using System;
using System.Collections.Generic;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>ReLU6, Hardswish, SiLU, GELU, Sigmoid and Tanh and their gradients, each path, against double-precision definitions.</summary>
    public sealed class ActivationKernelTests
    {
        public static IEnumerable<object[]> Cases()
        {
            string[] kinds = { "Relu6", "Hardswish", "Silu", "GeluErf", "GeluTanh", "Sigmoid", "Tanh" };
            foreach (object[] path in DirectConvolutionTests.Paths())
                foreach (string kind in kinds)
                    foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 17, 33, 301 })
                        yield return [path[0], kind, length];
        }

        private static readonly float[] s_special = { -3f, 3f, 0f, -0f, 6f, -6f, 10f, -10f, 20f, -20f, 50f, -50f, -100f, 100f, 1e-4f, -1e-4f, 2.9999998f, -2.9999998f, 5.9999995f,
            0.5f, -0.5f, 0.49999997f, -0.49999997f, 0.25f, 1e-30f, 9f, -9f,
            // exp near its clamps: 2ⁿ at n = 128 (a finite result past 2¹²⁷) and n = −126 (subnormal products).
            88.5f, -88.5f, 44.3f, -44.3f, 13.2f, -13.2f, 13.19f, -13.19f };

        private static float[] Inputs(int length, int seed)
        {
            var random = new Random(seed);
            var x = new float[length];
            for (int i = 0; i < length; i++) x[i] = i % 5 == 0 ? s_special[(i / 5) % s_special.Length] : (float)(random.NextDouble() * 16 - 8);
            return x;
        }

        // erf in double: the Taylor series up to |z| = 3, the continued fraction of erfc beyond.
        internal static double Erf(double z)
        {
            if (Math.Abs(z) <= 3)
            {
                double term = z, sum = z;
                for (int n = 1; n < 200; n++)
                {
                    term *= -z * z / n;
                    double add = term / (2 * n + 1);
                    sum += add;
                    if (Math.Abs(add) < 1e-18 * Math.Abs(sum)) break;
                }
                return 2 / Math.Sqrt(Math.PI) * sum;
            }
            double a = Math.Abs(z), fraction = 0;
            for (int k = 60; k >= 1; k--) fraction = k / 2.0 / (a + fraction);
            double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + fraction);
            return z > 0 ? 1 - erfc : erfc - 1;
        }

        // Φ(x) with its left tail kept accurate (erfc computed directly there).
        internal static double NormalCdf(double x)
        {
            double z = x / Math.Sqrt(2);
            if (z < -3)
            {
                double a = -z, fraction = 0;
                for (int k = 60; k >= 1; k--) fraction = k / 2.0 / (a + fraction);
                return 0.5 * Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + fraction);
            }
            return 0.5 * (1 + Erf(z));
        }

        internal static double Forward(string kind, double x) => kind switch
        {
            "Relu6" => Math.Min(Math.Max(x, 0), 6),
            "Hardswish" => x * Math.Min(Math.Max(x + 3, 0), 6) / 6,
            "Silu" => x / (1 + Math.Exp(-x)),
            "GeluErf" => x * NormalCdf(x),
            "GeluTanh" => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
            "Sigmoid" => 1 / (1 + Math.Exp(-x)),
            "Tanh" => Math.Tanh(x),
            _ => throw new ArgumentException(kind),
        };

        internal static double Derivative(string kind, double x)
        {
            switch (kind)
            {
                case "Relu6": return x > 0 && x < 6 ? 1 : 0;
                case "Hardswish": return x < -3 ? 0 : x >= 3 ? 1 : x / 3 + 0.5; // PyTorch 1.13's vectorized convention at 3
                case "Silu": { double s = 1 / (1 + Math.Exp(-x)); return s * (1 + x * (1 - s)); }
                case "GeluErf": return NormalCdf(x) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
                case "GeluTanh":
                {
                    double beta = Math.Sqrt(2 / Math.PI), t = Math.Tanh(beta * (x + 0.044715 * x * x * x));
                    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * beta * (1 + 3 * 0.044715 * x * x);
                }
                case "Sigmoid": { double s = 1 / (1 + Math.Exp(-x)); return s * (1 - s); }
                case "Tanh": { double t = Math.Tanh(x); return 1 - t * t; }
                default: throw new ArgumentException(kind);
            }
        }

        // Sigmoid's and Tanh's backward kernels take the forward's output, as the generated backward passes them.
        private static bool BackwardReadsOutput(string kind) => kind is "Sigmoid" or "Tanh";

        private static void RunForward(string kind, ReadOnlySpan<float> x, Span<float> y, DirectConvolution.KernelPath path)
        {
            switch (kind)
            {
                case "Relu6": Activations.Relu6On(x, y, path); break;
                case "Hardswish": Activations.HardswishOn(x, y, path); break;
                case "Silu": Activations.SiluOn(x, y, path); break;
                case "GeluErf": Activations.GeluOn(x, y, false, path); break;
                case "GeluTanh": Activations.GeluOn(x, y, true, path); break;
                case "Sigmoid": Activations.SigmoidOn(x, y, path); break;
                case "Tanh": Activations.TanhOn(x, y, path); break;
            }
        }

        private static void RunBackward(string kind, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, DirectConvolution.KernelPath path)
        {
            switch (kind)
            {
                case "Relu6": Activations.Relu6BackwardOn(x, dy, dx, path); break;
                case "Hardswish": Activations.HardswishBackwardOn(x, dy, dx, path); break;
                case "Silu": Activations.SiluBackwardOn(x, dy, dx, path); break;
                case "GeluErf": Activations.GeluBackwardOn(x, dy, dx, false, path); break;
                case "GeluTanh": Activations.GeluBackwardOn(x, dy, dx, true, path); break;
                case "Sigmoid": Activations.SigmoidBackwardOn(x, dy, dx, path); break;
                case "Tanh": Activations.TanhBackwardOn(x, dy, dx, path); break;
            }
        }

        private static void Close(float actual, double expected, string what)
        {
            double error = Math.Abs(actual - expected) / Math.Max(1, Math.Abs(expected));
            Assert.True(error <= 1e-6, $"{what}: {actual:R}, expected {expected:R} (error {error:E2})");
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void ForwardAndBackward_MatchTheDefinition_AndTheScalarPathBitForBit(string pathName, string kind, int length)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            float[] x = Inputs(length, length + kind.Length), dy = Inputs(length, length * 3 + 1);
            float[] y = new float[length], dx = new float[length];
            RunForward(kind, x, y, path);
            float[] source = BackwardReadsOutput(kind) ? y : x;
            RunBackward(kind, source, dy, dx, path);
            for (int i = 0; i < length; i++)
            {
                Close(y[i], Forward(kind, x[i]), $"{path} {kind}({x[i]:R})");
                Close(dx[i], dy[i] * Derivative(kind, x[i]), $"{path} {kind}'({x[i]:R})·{dy[i]:R}");
            }

            float[] scalarY = new float[length], scalarDx = new float[length];
            RunForward(kind, x, scalarY, DirectConvolution.KernelPath.Scalar);
            RunBackward(kind, source, dy, scalarDx, DirectConvolution.KernelPath.Scalar);
            Assert.Equal(scalarY, y);
            Assert.Equal(scalarDx, dx);

            // In place: y over x, dx over dy.
            float[] inPlace = (float[])x.Clone();
            RunForward(kind, inPlace, inPlace, path);
            Assert.Equal(y, inPlace);
            float[] gradientInPlace = (float[])dy.Clone();
            RunBackward(kind, source, gradientInPlace, gradientInPlace, path);
            Assert.Equal(dx, gradientInPlace);
        }

        [Theory]
        [InlineData("Silu")]
        [InlineData("GeluErf")]
        [InlineData("GeluTanh")]
        public void TheReferenceDerivatives_MatchFiniteDifferences(string kind)
        {
            for (double x = -7; x <= 7; x += 0.37)
            {
                double numeric = (Forward(kind, x + 1e-5) - Forward(kind, x - 1e-5)) / 2e-5;
                Assert.True(Math.Abs(numeric - Derivative(kind, x)) < 1e-8, $"{kind}'({x}) = {Derivative(kind, x)}, numeric {numeric}");
            }
        }

        [Fact]
        public void EdgeValues_FollowPyTorch()
        {
            foreach (object[] p in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                float[] x = new float[17];
                Array.Fill(x, float.NaN);
                x[3] = -0f; x[4] = float.PositiveInfinity; x[5] = float.NegativeInfinity;
                float[] y = new float[17];
                Activations.Relu6On(x, y, path);
                Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[16]), "ReLU6 passes NaN through");
                Assert.True(float.IsNegative(y[3]) && y[3] == 0, "ReLU6(-0) = -0");
                Assert.Equal(6f, y[4]);
                Assert.Equal(0f, y[5]);
                float[] dy = new float[17];
                Array.Fill(dy, 1f);
                float[] dx = new float[17];
                Activations.Relu6BackwardOn(new float[] { 0, 6, 3, -1, 7, float.NaN, 0, 6, 3, -1, 7, float.NaN, 0, 6, 3, -1, 5.999f }, dy, dx, path);
                Assert.Equal(new float[] { 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1 }, dx);
                Activations.HardswishBackwardOn(new float[] { -3, 3, -3.0001f, 3.0001f, 0, -3, 3, -3.0001f, 3.0001f, 0, -3, 3, -3.0001f, 3.0001f, 0, -3, 3 }, dy, dx, path);
                Assert.Equal(new float[] { -0.5f, 1, 0, 1, 0.5f, -0.5f, 1, 0, 1, 0.5f, -0.5f, 1, 0, 1, 0.5f, -0.5f, 1 }, dx);
                Activations.SiluOn(x, y, path);
                Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[16]), "SiLU passes NaN through");
                Activations.GeluOn(x, y, false, path);
                Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[16]), "GELU passes NaN through");
                Assert.Equal(float.PositiveInfinity, y[4]);
                Activations.TanhOn(x, y, path);
                Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[16]), "Tanh passes NaN through");
                Assert.True(float.IsNegative(y[3]) && y[3] == 0, "Tanh(-0) = -0");
                Assert.Equal(1f, y[4]);
                Assert.Equal(-1f, y[5]);
                Activations.SigmoidOn(x, y, path);
                Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[16]), "Sigmoid passes NaN through");
                Assert.Equal(1f, y[4]);
                Assert.Equal(0f, y[5]);
            }
        }

        // ReLU6's vector clamps are max and min with x second, which must give the scalar comparisons' results for every
        // float, NaN payloads, −0, subnormals and infinities included: every 251st bit pattern (17 million), both signs.
        [Theory]
        [InlineData("Relu6")]
        [InlineData("Hardswish")]
        public void Relu6AndHardswish_VectorPaths_MatchTheScalarPath_OverTheBitPatterns(string kind)
        {
            const int chunk = 1 << 16;
            float[] x = new float[chunk], scalar = new float[chunk], vector = new float[chunk];
            ulong pattern = 0;
            while (pattern <= uint.MaxValue)
            {
                int count = 0;
                for (; count < chunk && pattern <= uint.MaxValue; count++, pattern += 251) x[count] = BitConverter.UInt32BitsToSingle((uint)pattern);
                RunForward(kind, x.AsSpan(0, count), scalar.AsSpan(0, count), DirectConvolution.KernelPath.Scalar);
                foreach (object[] p in DirectConvolutionTests.Paths())
                {
                    var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                    if (path == DirectConvolution.KernelPath.Scalar) continue;
                    RunForward(kind, x.AsSpan(0, count), vector.AsSpan(0, count), path);
                    for (int i = 0; i < count; i++)
                    {
                        uint want = BitConverter.SingleToUInt32Bits(scalar[i]), got = BitConverter.SingleToUInt32Bits(vector[i]);
                        if (want != got) Assert.Fail($"{path} {kind}(0x{BitConverter.SingleToUInt32Bits(x[i]):X8}) = 0x{got:X8}, the scalar path 0x{want:X8}");
                    }
                }
            }
        }

        [Fact]
        public void Tanh_KeepsItsRelativeAccuracy_FromTinyToSaturated()
        {
            // Both sides of the switch from the series to the exp form at ½, and values far below 1 where an absolute
            // tolerance would hide a relative error.
            var x = new List<float>();
            for (double v = 1e-8; v < 12; v *= 1.013) { x.Add((float)v); x.Add((float)-v); }
            for (int i = -40; i <= 40; i++) x.Add(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(0.5f) + i));
            foreach (object[] p in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                float[] input = x.ToArray(), y = new float[input.Length];
                Activations.TanhOn(input, y, path);
                for (int i = 0; i < input.Length; i++)
                {
                    double expected = Math.Tanh(input[i]), error = Math.Abs(y[i] - expected) / Math.Abs(expected);
                    Assert.True(error <= 4e-7, $"{path} tanh({input[i]:R}) = {y[i]:R}, expected {expected:R} (relative error {error:E2})");
                }
            }
        }

        [Fact]
        public void GeluErf_KeepsItsRelativeAccuracy_IntoTheLeftTail()
        {
            // x·Φ(x) from −12 (Φ ≈ 2e−33, where 1 + erf would have cancelled to 0 long before) to 12, 480,001 points: 4.1e−7 at
            // most (session 53, −x²/2 exact inside the reduction; session 44's 4.5e−7; session 25's 4.2e−6, its x²/2 rounded once; before it 1.7e−5).
            var x = new List<float>();
            for (int i = -240_000; i <= 240_000; i++) x.Add(i / 20_000f);
            float[] input = x.ToArray(), y = new float[input.Length];
            foreach (object[] p in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                Activations.GeluOn(input, y, false, path);
                double worst = 0;
                for (int i = 0; i < input.Length; i++)
                {
                    if (input[i] == 0) continue;
                    double expected = input[i] * NormalCdf(input[i]), error = Math.Abs(y[i] - expected) / Math.Abs(expected);
                    Assert.True(error <= 1e-6, $"{path} GELU({input[i]:R}) = {y[i]:R}, expected {expected:R} (relative error {error:E2})");
                    worst = Math.Max(worst, error);
                }
                Console.WriteLine($"{path}: largest relative error {worst:E2}");
            }
        }

        [Fact]
        public void GeluErfGradient_KeepsItsRelativeAccuracy_IntoTheLeftTail()
        {
            // Φ(x) + x·φ(x) over the same points, measured against the sum of its terms' sizes Φ(x) + |x|·φ(x) (the two cancel
            // near x = −0.75): 4.7e−7 at most (session 53; 3.7e−7 in session 44), Φ and φ from one e^(−x²/2) (3.7e−6 before session 44, φ from a second exp of x²/2 rounded).
            var x = new List<float>();
            for (int i = -240_000; i <= 240_000; i++) x.Add(i / 20_000f);
            float[] input = x.ToArray(), dy = new float[input.Length], dx = new float[input.Length];
            Array.Fill(dy, 1f);
            foreach (object[] p in DirectConvolutionTests.Paths())
            {
                var path = Enum.Parse<DirectConvolution.KernelPath>((string)p[0]);
                Activations.GeluBackwardOn(input, dy, dx, false, path);
                double worst = 0;
                for (int i = 0; i < input.Length; i++)
                {
                    double v = input[i], density = Math.Exp(-v * v / 2) / Math.Sqrt(2 * Math.PI);
                    double expected = NormalCdf(v) + v * density, error = Math.Abs(dx[i] - expected) / (NormalCdf(v) + Math.Abs(v) * density);
                    Assert.True(error <= 1e-6, $"{path} GELU'({input[i]:R}) = {dx[i]:R}, expected {expected:R} (relative error {error:E2})");
                    worst = Math.Max(worst, error);
                }
                Console.WriteLine($"{path}: largest relative error {worst:E2}");
            }
        }

        [Fact]
        public void RejectsMismatchedLengths_AndAllocatesNothing()
        {
            float[] x = new float[40], y = new float[40], dy = new float[40];
            Assert.Throws<ArgumentException>(() => Activations.Relu6(x, y.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Activations.Hardswish(x, y.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Activations.Silu(x.AsSpan(1), y));
            Assert.Throws<ArgumentException>(() => Activations.Gelu(x, y.AsSpan(1), true));
            Assert.Throws<ArgumentException>(() => Activations.Relu6Backward(x, dy.AsSpan(1), y));
            Assert.Throws<ArgumentException>(() => Activations.HardswishBackward(x, dy, y.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Activations.SiluBackward(x.AsSpan(1), dy, y));
            Assert.Throws<ArgumentException>(() => Activations.GeluBackward(x, dy, y.AsSpan(1), false));
            Assert.Throws<ArgumentException>(() => Activations.Sigmoid(x, y.AsSpan(1)));
            Assert.Throws<ArgumentException>(() => Activations.Tanh(x.AsSpan(1), y));
            Assert.Throws<ArgumentException>(() => Activations.SigmoidBackward(x, dy.AsSpan(1), y));
            Assert.Throws<ArgumentException>(() => Activations.TanhBackward(x, dy, y.AsSpan(1)));
            void All()
            {
                Activations.Relu6(x, y); Activations.Relu6Backward(x, dy, y);
                Activations.Hardswish(x, y); Activations.HardswishBackward(x, dy, y);
                Activations.Silu(x, y); Activations.SiluBackward(x, dy, y);
                Activations.Gelu(x, y, false); Activations.GeluBackward(x, dy, y, false);
                Activations.Gelu(x, y, true); Activations.GeluBackward(x, dy, y, true);
                Activations.Sigmoid(x, y); Activations.SigmoidBackward(x, dy, y);
                Activations.Tanh(x, y); Activations.TanhBackward(x, dy, y);
            }
            Allocations.AssertNone(All);
        }
    }
}
