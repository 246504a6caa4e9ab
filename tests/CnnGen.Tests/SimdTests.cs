using System;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>What <see cref="Simd"/> reads from the processor, checked against what Linux reports of it.</summary>
    public sealed class SimdTests
    {
        [Fact]
        public void HalfRateVector512_IsAmdFamily19hWithAvx512_AsProcCpuinfoSaysIt()
        {
            // Zen 4 (family 19h, 25) runs each 512-bit multiply-add as two 256-bit halves; Zen 3 (also 19h) has no AVX-512,
            // Zen 5 (1Ah) and Intel run them whole. The kernels' rules read the flag (StridedWinogradConvolution.TileFor and others).
            if (!Avx512F.IsSupported) { Assert.False(Simd.HalfRateVector512); return; }
            if (!File.Exists("/proc/cpuinfo")) return; // nothing independent to compare with
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(line => line.Length > 0).ToList();
            string Field(string name) => lines.Where(l => l.StartsWith(name, StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault() ?? "";
            bool zen4 = Field("vendor_id") == "AuthenticAMD" && Field("cpu family") == "25";
            Assert.Equal(zen4, Simd.HalfRateVector512);
        }
    }
}
