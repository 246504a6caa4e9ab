using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;

namespace KernelBench
{
    // "bnpasses": training batch-norm's passes over one thread's batch of 64 (or a two-thread chunk of 32), channel by channel
    // as the generated code runs them (a channel's sums, then its second pass while its planes are in L2), the statistics
    // kernels as session 10 left them (copied below, "before") against BatchNormalization's, interleaved, this thread's CPU µs.
    public static class BatchNormPasses
    {
        public static void Run()
        {
            var shapes = new (string Name, int Batch, int C, int Plane)[]
            {
                ("ResNet-8 16x32x32", 64, 16, 1024), ("ResNet-8 32x16x16", 64, 32, 256), ("ResNet-8 64x8x8", 64, 64, 64),
                ("CIFAR 32x32x32", 64, 32, 1024), ("CIFAR 64x16x16", 64, 64, 256), ("strided 128x8x8", 64, 128, 64),
                ("MobileNetV2 96x8x8 /32", 32, 96, 64), ("MobileNetV2 16x16x16 /32", 32, 16, 256), ("odd 20x19x19", 64, 20, 361),
                ("odd 24x5x5", 64, 24, 25), ("BatchNorm1d 120", 64, 120, 1),
            };
            Console.WriteLine($"{"shape",-26} {"fwd sums before",16} {"after",8} {"saved",7} {"bwd sums before",16} {"after",8} {"saved",7} {"normalize",10} {"bwd input",10}");
            foreach (var s in shapes)
            {
                int length = s.Batch * s.C * s.Plane;
                float[] x = Fill(length, 7), dy = Fill(length, 8), y = new float[length];
                double sink = 0;
                var (forwardBefore, forwardAfter) = Interleaved(
                    () => { for (int c = 0; c < s.C; c++) sink += Before.SumsAboutShift(x, s.Batch, s.C, s.Plane, c, 0.1f).Item2; },
                    () => { for (int c = 0; c < s.C; c++) sink += BatchNormalization.SumsAboutShift(x, s.Batch, s.C, s.Plane, c, 0.1f).SquaredDeviations; });
                var (backwardBefore, backwardAfter) = Interleaved(
                    () => { for (int c = 0; c < s.C; c++) sink += Before.BackwardSums(x, dy, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f).Item2; },
                    () => { for (int c = 0; c < s.C; c++) sink += BatchNormalization.BackwardSums(x, dy, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f).SumDyXhat; });
                var (normalize, input) = Interleaved(
                    () => { for (int c = 0; c < s.C; c++) BatchNormalization.Normalize(x, y, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, 0.05f, relu: true); },
                    () => { for (int c = 0; c < s.C; c++) BatchNormalization.BackwardInput(x, dy, y, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f, 0.9f, 0.01f, 0.02f); });
                Console.WriteLine($"{s.Name,-26} {forwardBefore * 1e6,16:F1} {forwardAfter * 1e6,8:F1} {1 - forwardAfter / forwardBefore,6:P0} "
                    + $"{backwardBefore * 1e6,16:F1} {backwardAfter * 1e6,8:F1} {1 - backwardAfter / backwardBefore,6:P0} {normalize * 1e6,10:F1} {input * 1e6,10:F1}"
                    + (sink == 1.5 ? "!" : ""));
            }
        }

        private static float[] Fill(int length, int seed)
        {
            var random = new Random(seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() - 0.5);
            return values;
        }

        // Seconds of this thread's CPU per call of a and of b, the best of 40 rounds of alternating batches (~5 ms each).
        private static (double A, double B) Interleaved(Action a, Action b)
        {
            for (int i = 0; i < 50; i++) { a(); b(); }
            int calls = 1;
            while (true)
            {
                long start = ThreadNanoseconds();
                for (int i = 0; i < calls; i++) a();
                if (ThreadNanoseconds() - start > 5_000_000) break;
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

        // The statistics kernels before this session (Vector256, two accumulators per sum, x̂ formed element by element).
        private static class Before
        {
            public static (double, double) SumsAboutShift(ReadOnlySpan<float> x, int batchSize, int channels, int plane, int channel, float shift)
            {
                double deviations = 0, squares = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    ref float xs = ref MemoryMarshal.GetReference(x.Slice((n * channels + channel) * plane, plane));
                    float planeDeviations = 0f, planeSquares = 0f;
                    int i = 0;
                    if (plane >= 16)
                    {
                        var s = Vector256.Create(shift);
                        Vector256<float> d0 = default, d1 = default, q0 = default, q1 = default;
                        for (; i <= plane - 16; i += 16)
                        {
                            var v0 = Vector256.LoadUnsafe(ref xs, (nuint)i) - s;
                            var v1 = Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)) - s;
                            d0 += v0; d1 += v1;
                            q0 += v0 * v0; q1 += v1 * v1;
                        }
                        planeDeviations = Vector256.Sum(d0 + d1);
                        planeSquares = Vector256.Sum(q0 + q1);
                    }
                    for (; i < plane; i++)
                    {
                        float v = Unsafe.Add(ref xs, i) - shift;
                        planeDeviations += v;
                        planeSquares += v * v;
                    }
                    deviations += planeDeviations;
                    squares += planeSquares;
                }
                return (deviations, squares);
            }

            public static (double, double) BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane, int channel, float mean, float invStd)
            {
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < batchSize; n++)
                {
                    int start = (n * channels + channel) * plane;
                    ref float xs = ref MemoryMarshal.GetReference(x.Slice(start, plane));
                    ref float gs = ref MemoryMarshal.GetReference(dy.Slice(start, plane));
                    float planeDy = 0f, planeDyXhat = 0f;
                    int i = 0;
                    if (plane >= 16)
                    {
                        var m = Vector256.Create(mean); var s = Vector256.Create(invStd);
                        Vector256<float> d0 = default, d1 = default, h0 = default, h1 = default;
                        for (; i <= plane - 16; i += 16)
                        {
                            var g0 = Vector256.LoadUnsafe(ref gs, (nuint)i);
                            var g1 = Vector256.LoadUnsafe(ref gs, (nuint)(i + 8));
                            d0 += g0; d1 += g1;
                            h0 += g0 * ((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * s);
                            h1 += g1 * ((Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)) - m) * s);
                        }
                        planeDy = Vector256.Sum(d0 + d1);
                        planeDyXhat = Vector256.Sum(h0 + h1);
                    }
                    for (; i < plane; i++)
                    {
                        float g = Unsafe.Add(ref gs, i);
                        planeDy += g;
                        planeDyXhat += g * ((Unsafe.Add(ref xs, i) - mean) * invStd);
                    }
                    sumDy += planeDy;
                    sumDyXhat += planeDyXhat;
                }
                return (sumDy, sumDyXhat);
            }
        }
    }
}
