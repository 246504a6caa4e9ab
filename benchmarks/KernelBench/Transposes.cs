using System;
using System.Runtime.InteropServices;
using CnnGen.Kernels;

namespace KernelBench
{
    // "transpose": the 16x16 transposes around the Winograd kernels over the networks' real shapes (ResNet-8's 16@32x32,
    // 32@16x16, 64@8x8; CIFAR's 32@32x32, 64@16x16; odd ones), this thread's CPU µs per call, best of 40 interleaved rounds:
    // F(4x4, 3x3)'s Pad alone (NCHW -> padded channel-interleaved, whole maps; StridedWinogradConvolution's), Unpack (back to
    // NCHW), the whole Forward (with ReLU; with ReLU and 2x2 pooling), and the weight gradient's Block of x and of d y.
    public static class Transposes
    {
        public static void Run(string? only)
        {
            var shapes = new (string Name, int C, int H, int W, int OC)[]
            {
                ("ResNet-8 16@32x32", 16, 32, 32, 16), ("ResNet-8 32@16x16", 32, 16, 16, 32), ("ResNet-8 64@8x8", 64, 8, 8, 64),
                ("CIFAR 32@32x32", 32, 32, 32, 32), ("CIFAR 64@16x16", 64, 16, 16, 64), ("odd 24@15x15->40", 24, 15, 15, 40),
                ("odd 20@9x13->36", 20, 9, 13, 36), ("odd 16@7x7", 16, 7, 7, 16),
            };
            Console.WriteLine($"{"shape",-20} {"pad",7} {"unpack",7} {"forward",8} {"pooled",8} {"wg x",7} {"wg dy",7}");
            foreach (var s in shapes)
            {
                if (only != null && !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
                var l = new WinogradF4Convolution.Layout(s.C, s.H, s.W, s.OC, 1);
                float[] x = Fill(s.C * s.H * s.W, 1), w = Fill(s.OC * s.C * 9, 2), bias = Fill(s.OC, 3), y = new float[s.OC * l.OutHeight * l.OutWidth];
                float[] filters = new float[l.FiltersLength], scratch = new float[l.ScratchLength];
                WinogradF4Convolution.TransformFilters(w, filters, l);
                float[] padded = new float[l.InGroups * l.PaddedGroupStride], staging = new float[l.StagingLength], outputs = new float[l.OutputLength];
                int cells = l.OutHeight * l.OutWidth;
                var gl = new WinogradWeightGradient.Layout(s.C, s.H, s.W, s.OC, 1);
                float[] dy = Fill(s.OC * cells, 4), wgScratch = new float[gl.ScratchLength];
                var (pad, forward) = Interleaved(
                    () => WinogradF4Convolution.Pad(x, padded, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride),
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch, relu: true, pool: false, l));
                var (pooled, unpack) = Interleaved(
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch, relu: true, pool: true, l),
                    () => WinogradF4Convolution.Unpack(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride));
                var (blockX, blockDy) = Interleaved(
                    () => WinogradWeightGradient.Block(x, gl.InChannels, gl.Height, gl.Width, gl.Padding, gl.PaddedRows, gl.PaddedColumns, wgScratch.AsSpan(0, gl.InputLength)),
                    () => WinogradWeightGradient.Block(dy, gl.OutChannels, gl.OutHeight, gl.OutWidth, 0, gl.GradientRows, gl.GradientColumns, wgScratch.AsSpan(gl.InputLength, gl.GradientLength)));
                Console.WriteLine($"{s.Name,-20} {pad * 1e6,7:F2} {unpack * 1e6,7:F2} {forward * 1e6,8:F2} {pooled * 1e6,8:F2} {blockX * 1e6,7:F2} {blockDy * 1e6,7:F2}");
            }
        }

        private static float[] Fill(int length, int seed)
        {
            var random = new Random(seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() - 0.5);
            return values;
        }

        // Seconds of this thread's CPU per call of a and of b, the best of 40 rounds of alternating batches (~3 ms each).
        private static (double A, double B) Interleaved(Action a, Action b)
        {
            for (int i = 0; i < 50; i++) { a(); b(); }
            int calls = 1;
            while (true)
            {
                long start = ThreadNanoseconds();
                for (int i = 0; i < calls; i++) a();
                if (ThreadNanoseconds() - start > 3_000_000) break;
                calls *= 2;
            }
            double bestA = double.MaxValue, bestB = double.MaxValue;
            for (int round = 0; round < 40; round++)
            {
                long start = ThreadNanoseconds();
                for (int i = 0; i < calls; i++) a();
                bestA = Math.Min(bestA, (ThreadNanoseconds() - start) * 1e-9 / calls);
                start = ThreadNanoseconds();
                for (int i = 0; i < calls; i++) b();
                bestB = Math.Min(bestB, (ThreadNanoseconds() - start) * 1e-9 / calls);
            }
            return (bestA, bestB);
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec { public long Seconds, Nanoseconds; }

        [DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        private static long ThreadNanoseconds()
        {
            ClockGetTime(3, out var t); // CLOCK_THREAD_CPUTIME_ID
            return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        }
    }
}
