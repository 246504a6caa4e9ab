using System;
using Xunit;

namespace CnnGen.Tests.Infrastructure
{
    public static class Compare
    {
        /// <summary>
        /// The largest error, absolute for values up to 1 and relative above (|a - e| / max(1, |e|)).
        /// </summary>
        public static double MaxError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
        {
            Assert.Equal(expected.Length, actual.Length);
            double worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                double e = expected[i], a = actual[i];
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                double error = Math.Abs(a - e) / Math.Max(1, Math.Abs(e));
                if (double.IsNaN(error)) return double.PositiveInfinity;
                worst = Math.Max(worst, error);
            }
            return worst;
        }

        public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                double e = expected[i], a = actual[i];
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                double error = Math.Abs(a - e) / Math.Max(1, Math.Abs(e));
                if (!(error <= tolerance))
                    Assert.Fail($"{what}: element {i} is {a:R}, expected {e:R} (error {error:E2} > {tolerance:E0})");
            }
        }
    }
}
