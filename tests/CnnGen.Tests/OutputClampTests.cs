using System;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The convolutions' epilogue bounds (ReLU, ReLU6, none) on vectors give the scalar comparisons' results bit for bit, on
    /// the values where an instruction could differ from them: NaN, both zeros, the bounds themselves, infinities.
    /// </summary>
    public sealed class OutputClampTests
    {
        private static readonly float[] Specials =
        {
            float.NaN, -float.NaN, 0f, -0f, 6f, -6f, 5.999999f, 6.000001f, float.PositiveInfinity, float.NegativeInfinity,
            float.Epsilon, -float.Epsilon, 1e-38f, -1e-38f, 3.5f, -3.5f, float.MaxValue, float.MinValue, 1f, -1f,
            BitConverter.Int32BitsToSingle(0x7FC01234), BitConverter.Int32BitsToSingle(unchecked((int)0xFF800001)), 0.5f, -0.5f,
        };

        [Theory]
        [InlineData(0f, float.PositiveInfinity)]
        [InlineData(0f, 6f)]
        [InlineData(float.NegativeInfinity, float.PositiveInfinity)]
        [InlineData(-1f, 1f)]
        public void VectorBounds_GiveTheScalarComparisonsBits(float low, float high)
        {
            var clamp = new OutputClamp(low, high);
            // Every special value in every lane position of a Vector512 and a Vector256 (rotated through the lanes).
            for (int shift = 0; shift < Specials.Length; shift++)
            {
                var values = new float[16];
                for (int lane = 0; lane < 16; lane++) values[lane] = Specials[(lane + shift) % Specials.Length];
                var wide = OutputClamp.Apply(Vector512.Create(values), Vector512.Create(low), Vector512.Create(high));
                var narrow = OutputClamp.Apply(Vector256.Create(values.AsSpan(0, 8)), Vector256.Create(low), Vector256.Create(high));
                for (int lane = 0; lane < 16; lane++)
                {
                    int expected = BitConverter.SingleToInt32Bits(clamp.Apply(values[lane]));
                    Assert.True(expected == BitConverter.SingleToInt32Bits(wide[lane]), $"Vector512, [{low}, {high}], {values[lane]:R} (0x{BitConverter.SingleToInt32Bits(values[lane]):X8}): 0x{BitConverter.SingleToInt32Bits(wide[lane]):X8}, expected 0x{expected:X8}");
                    if (lane < 8)
                        Assert.True(expected == BitConverter.SingleToInt32Bits(narrow[lane]), $"Vector256, [{low}, {high}], {values[lane]:R}: 0x{BitConverter.SingleToInt32Bits(narrow[lane]):X8}, expected 0x{expected:X8}");
                }
            }
        }

        [Fact]
        public void StoredThroughTheEpilogue_TheSameBits()
        {
            // Store is what the kernels call: with none it stores v as it is; otherwise clamped as Apply.
            var relu6 = new OutputClamp(0f, 6f);
            var values = new float[16];
            Array.Copy(Specials, values, 16);
            var stored = new float[16];
            OutputClamp.Store(Vector512.Create(values), none: false, Vector512.Create(0f), Vector512.Create(6f), ref stored[0]);
            for (int lane = 0; lane < 16; lane++)
                Assert.Equal(BitConverter.SingleToInt32Bits(relu6.Apply(values[lane])), BitConverter.SingleToInt32Bits(stored[lane]));
            OutputClamp.Store(Vector512.Create(values), none: true, Vector512.Create(0f), Vector512.Create(6f), ref stored[0]);
            for (int lane = 0; lane < 16; lane++)
                Assert.Equal(BitConverter.SingleToInt32Bits(values[lane]), BitConverter.SingleToInt32Bits(stored[lane]));
        }
    }
}
