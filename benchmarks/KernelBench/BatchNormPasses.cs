using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;

namespace KernelBench
{
    // "bnpasses": training batch-norm's passes over one thread's batch of 64 (or a two-thread chunk of 32), this thread's CPU µs,
    // best of 40 interleaved rounds. Forward: the batch-norm's own sums and normalize pass channel by channel (session 10:
    // a channel's sums, then its normalize pass while its planes are in L2) against what is left once the sums are added
    // sample by sample in the convolution's loop: each sample written (a copy stands in for the convolution's output) and
    // its sums added while it is in cache, then the normalize pass alone; the copy alone is the baseline both include.
    // Backward: BackwardSums as session 10 left it (copied below, "before") against BatchNormalization's.
    public static class BatchNormPasses
    {
        private static readonly (string Name, int Batch, int C, int Plane)[] Shapes =
        {
            ("ResNet-8 16x32x32", 64, 16, 1024), ("ResNet-8 32x16x16", 64, 32, 256), ("ResNet-8 64x8x8", 64, 64, 64),
            ("CIFAR 32x32x32", 64, 32, 1024), ("CIFAR 64x16x16", 64, 64, 256), ("strided 128x8x8", 64, 128, 64),
            ("MobileNetV2 96x8x8 /32", 32, 96, 64), ("MobileNetV2 16x16x16 /32", 32, 16, 256), ("odd 20x19x19", 64, 20, 361),
            ("odd 24x5x5", 64, 24, 25), ("odd 40x7x7", 64, 40, 49), ("16x4x4", 64, 16, 16), ("BatchNorm1d-like 120x1", 64, 120, 1), ("strided 256x2x2", 64, 256, 4), ("strided 256x2x2 /32", 32, 256, 4), ("BatchNorm1d-like 512x1", 64, 512, 1),
        };

        public static void Run()
        {
            var shapes = Shapes;
            Console.WriteLine($"{"shape",-26} {"write+own sums+norm",20} {"write+sample sums+norm",23} {"saved",7} {"norm sample-major",18} {"saved",7} {"write alone",12} {"bwd sums before",16} {"after",8} {"saved",7}");
            foreach (var s in shapes)
            {
                int sample = s.C * s.Plane, length = s.Batch * sample;
                float[] source = Program.Fill(length, 6), x = new float[length], dy = Program.Fill(length, 8), y = new float[length];
                double[] sums = new double[s.C * BatchNormalization.SampleSumsWidth];
                double sink = 0;
                void Write(int n) => source.AsSpan(n * sample, sample).CopyTo(x.AsSpan(n * sample, sample));
                void Own()
                {
                    for (int n = 0; n < s.Batch; n++) Write(n);
                    for (int c = 0; c < s.C; c++)
                    {
                        float shift = (float)(BatchNormalization.Sum(x, 1, s.C, s.Plane, c) / s.Plane);
                        var (deviations, squares) = BatchNormalization.SumsAboutShift(x, s.Batch, s.C, s.Plane, c, shift);
                        BatchNormalization.Normalize(x, y, s.Batch, s.C, s.Plane, c, shift + (float)(deviations * 1e-9), 1.2f, 0.9f, (float)(squares * 1e-12), relu: true);
                    }
                }
                float[] mean = new float[s.C], invStd = Enumerable.Repeat(1.2f, s.C).ToArray(), p = Enumerable.Repeat(0.9f, 2 * s.C).ToArray();
                void SampleBySample(bool sampleMajor)
                {
                    for (int n = 0; n < s.Batch; n++)
                    {
                        Write(n);
                        BatchNormalization.AddSampleSums(x.AsSpan(n * sample, sample), s.C, s.Plane, n == 0, sums);
                    }
                    for (int c = 0; c < s.C; c++)
                    {
                        var (shift, deviations, squares) = BatchNormalization.SampleSums(sums, c);
                        if (sampleMajor)
                        {
                            mean[c] = shift + (float)(deviations * 1e-9);
                            p[s.C + c] = (float)(squares * 1e-12);
                        }
                        else BatchNormalization.Normalize(x, y, s.Batch, s.C, s.Plane, c, shift + (float)(deviations * 1e-9), 1.2f, 0.9f, (float)(squares * 1e-12), relu: true);
                    }
                    if (sampleMajor) BatchNormalization.NormalizeBatch(x, y, s.Batch, s.C, s.Plane, mean, invStd, p, relu: true);
                }
                var (own, bySample) = Program.InterleavedCpu(Own, () => SampleBySample(sampleMajor: false));
                var (_, sampleMajor) = Program.InterleavedCpu(Own, () => SampleBySample(sampleMajor: true));
                var (writeAlone, _) = Program.InterleavedCpu(() => { for (int n = 0; n < s.Batch; n++) Write(n); }, () => { });
                var (backwardBefore, backwardAfter) = Program.InterleavedCpu(
                    () => { for (int c = 0; c < s.C; c++) sink += Before.BackwardSums(x, dy, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f).Item2; },
                    () => { for (int c = 0; c < s.C; c++) sink += BatchNormalization.BackwardSums(x, dy, s.Batch, s.C, s.Plane, c, 0.1f, 1.2f).SumDyXhat; });
                Console.WriteLine($"{s.Name,-26} {own * 1e6,20:F1} {bySample * 1e6,23:F1} {1 - (bySample - writeAlone) / (own - writeAlone),6:P0} {sampleMajor * 1e6,18:F1} {1 - (sampleMajor - writeAlone) / (own - writeAlone),6:P0} {writeAlone * 1e6,12:F1} "
                    + $"{backwardBefore * 1e6,16:F1} {backwardAfter * 1e6,8:F1} {1 - backwardAfter / backwardBefore,6:P0}" + (sink == 1.5 ? "!" : ""));
            }
        }

        // "bnsmall": training batch-norm's forward on planes of up to BatchNormalization.SmallPlane values, whose sums no loop
        // before it added (a layer over the batch before it, or a BatchNorm1d), this thread's CPU µs, best of interleaved rounds:
        // a channel at a time (Sum, SumsAboutShift, Normalize: the generated code's pass until session 42) against one pass for
        // the sums (AddBatchSums, channels in the lanes) and NormalizeBatch (each block's parameters spread over its values).
        public static void RunSmallPlanes()
        {
            var shapes = new (string Name, int Batch, int C, int Plane)[]
            {
                ("256x2x2, batch 64", 64, 256, 4), ("256x2x2, chunk 32", 32, 256, 4), ("512x2x2, batch 64", 64, 512, 4),
                ("BatchNorm1d 120, batch 64", 64, 120, 1), ("BatchNorm1d 512, batch 64", 64, 512, 1), ("BatchNorm1d 84, chunk 32", 32, 84, 1),
                ("64x1x3, batch 64", 64, 64, 3), ("48x7x1, batch 64", 64, 48, 7),
            };
            Console.WriteLine($"{"shape",-28} {"channel at a time",18} {"batch sums + spread",20} {"speed-up",9} {"sums/sample",12} {"sums lanes",11} {"bwd/sample",12} {"bwd lanes",11}");
            foreach (var s in shapes)
            {
                int length = s.Batch * s.C * s.Plane;
                float[] x = Program.Fill(length, 6), y = new float[length];
                double[] sums = new double[s.C * BatchNormalization.SampleSumsWidth];
                float[] mean = new float[s.C], invStd = new float[s.C], p = Enumerable.Repeat(0.9f, 2 * s.C).ToArray();
                var (channelAtATime, batchSums) = Program.InterleavedCpu(
                    () =>
                    {
                        for (int c = 0; c < s.C; c++)
                        {
                            float shift = (float)(BatchNormalization.Sum(x, 1, s.C, s.Plane, c) / s.Plane);
                            var (deviations, squares) = BatchNormalization.SumsAboutShift(x, s.Batch, s.C, s.Plane, c, shift);
                            BatchNormalization.Normalize(x, y, s.Batch, s.C, s.Plane, c, shift + (float)(deviations * 1e-9), 1.2f, 0.9f, (float)(squares * 1e-12), relu: true);
                        }
                    },
                    () =>
                    {
                        BatchNormalization.AddBatchSums(x, s.Batch, s.C, s.Plane, sums);
                        for (int c = 0; c < s.C; c++)
                        {
                            var (shift, deviations, squares) = BatchNormalization.SampleSums(sums, c);
                            mean[c] = shift + (float)(deviations * 1e-9);
                            invStd[c] = 1.2f;
                            p[s.C + c] = (float)(squares * 1e-12);
                        }
                        BatchNormalization.NormalizeBatch(x, y, s.Batch, s.C, s.Plane, mean, invStd, p, relu: true);
                    });
                // The sums alone: a sample at a time (AddSampleSums, AddSampleBackwardSums: the scalar loops per channel) against
                // one pass with the channels in the lanes (AddBatchSums, BackwardSumsBatch).
                float[] dy = Program.Fill(length, 8);
                double[] backwardSums = new double[s.C * BatchNormalization.BackwardSumsWidth];
                int sample = s.C * s.Plane;
                var (sampleSums, laneSums) = Program.InterleavedCpu(
                    () => { for (int n = 0; n < s.Batch; n++) BatchNormalization.AddSampleSums(x.AsSpan(n * sample, sample), s.C, s.Plane, n == 0, sums); },
                    () => BatchNormalization.AddBatchSums(x, s.Batch, s.C, s.Plane, sums));
                var (sampleBackward, laneBackward) = Program.InterleavedCpu(
                    () => { for (int n = 0; n < s.Batch; n++) BatchNormalization.AddSampleBackwardSums(x.AsSpan(n * sample, sample), dy.AsSpan(n * sample, sample), s.C, s.Plane, mean, n == 0, backwardSums); },
                    () => BatchNormalization.BackwardSumsBatch(x, dy, s.Batch, s.C, s.Plane, mean, backwardSums));
                Console.WriteLine($"{s.Name,-28} {channelAtATime * 1e6,18:F1} {batchSums * 1e6,20:F1} {channelAtATime / batchSums,8:F2}x"
                    + $" {sampleSums * 1e6,12:F1} {laneSums * 1e6,11:F1} {sampleBackward * 1e6,12:F1} {laneBackward * 1e6,11:F1}");
            }
        }

        // "bnbackward": training batch-norm's backward over one thread's batch of 64 (or a two-thread chunk of 32), this thread's
        // CPU µs, best of 40 interleaved rounds: BackwardSums then BackwardInput a channel at a time (session 11) against both
        // passes sample after sample over every channel (BackwardSumsBatch, BackwardInputBatch; the same floats); and, after dy
        // written sample by sample, both sample-major passes against the sums added in that loop (AddSampleBackwardSums) and dx's
        // pass alone ("saved" is of the batch-norm's part, the writes excepted).
        public static void RunBackward()
        {
            Console.WriteLine($"{"shape",-26} {"channel by channel",19} {"sample-major",13} {"saved",7} {"sums: by channel",17} {"sample-major",13} {"saved",7}"
                + $" {"write alone",12} {"write+own sums",16} {"sums in loop",14} {"saved",7}");
            foreach (var s in Shapes)
            {
                int length = s.Batch * s.C * s.Plane;
                float[] x = Program.Fill(length, 6), dy = Program.Fill(length, 8), dx = new float[length];
                float[] mean = Enumerable.Repeat(0.1f, s.C).ToArray(), invStd = Enumerable.Repeat(1.2f, s.C).ToArray(), coefficients = new float[3 * s.C];
                double[] sums = new double[s.C * BatchNormalization.BackwardSumsWidth];
                double sink = 0;
                void ByChannel(bool input)
                {
                    for (int c = 0; c < s.C; c++)
                    {
                        var (sumDy, sumDyXhat) = BatchNormalization.BackwardSums(x, dy, s.Batch, s.C, s.Plane, c, mean[c], invStd[c]);
                        sink += sumDy;
                        if (input) BatchNormalization.BackwardInput(x, dy, dx, s.Batch, s.C, s.Plane, c, mean[c], invStd[c], 0.9f, (float)(sumDy * 1e-9), (float)(sumDyXhat * 1e-9));
                    }
                }
                void SampleMajor(bool input)
                {
                    BatchNormalization.BackwardSumsBatch(x, dy, s.Batch, s.C, s.Plane, mean, sums);
                    for (int c = 0; c < s.C; c++)
                    {
                        var (sumDy, sumDyXhat) = BatchNormalization.BackwardSampleSums(sums, c, invStd[c]);
                        sink += sumDy;
                        coefficients[c] = 0.9f;
                        coefficients[s.C + c] = (float)(sumDy * 1e-9);
                        coefficients[2 * s.C + c] = (float)(sumDyXhat * 1e-9);
                    }
                    if (input) BatchNormalization.BackwardInputBatch(x, dy, dx, s.Batch, s.C, s.Plane, mean, invStd, coefficients);
                }
                // Training's loop over the samples that writes dy (a copy stands in for the layer's input gradient), then the
                // batch-norm's backward: its own sums over the batch, or the sums added in that loop right after each sample's write.
                float[] written = Program.Fill(length, 9);
                int sample = s.C * s.Plane;
                void Write(int n) => written.AsSpan(n * sample, sample).CopyTo(dy.AsSpan(n * sample, sample));
                var (ownSums, sumsInLoop) = Program.InterleavedCpu(
                    () => { for (int n = 0; n < s.Batch; n++) Write(n); SampleMajor(true); },
                    () =>
                    {
                        for (int n = 0; n < s.Batch; n++)
                        {
                            Write(n);
                            BatchNormalization.AddSampleBackwardSums(x.AsSpan(n * sample, sample), dy.AsSpan(n * sample, sample), s.C, s.Plane, mean, n == 0, sums);
                        }
                        for (int c = 0; c < s.C; c++)
                        {
                            var (sumDy, sumDyXhat) = BatchNormalization.BackwardSampleSums(sums, c, invStd[c]);
                            coefficients[s.C + c] = (float)(sumDy * 1e-9);
                            coefficients[2 * s.C + c] = (float)(sumDyXhat * 1e-9);
                        }
                        BatchNormalization.BackwardInputBatch(x, dy, dx, s.Batch, s.C, s.Plane, mean, invStd, coefficients);
                    });
                var (writeAlone, _) = Program.InterleavedCpu(() => { for (int n = 0; n < s.Batch; n++) Write(n); }, () => { });
                var (byChannel, sampleMajor) = Program.InterleavedCpu(() => ByChannel(true), () => SampleMajor(true));
                var (sumsByChannel, sumsSampleMajor) = Program.InterleavedCpu(() => ByChannel(false), () => SampleMajor(false));
                Console.WriteLine($"{s.Name,-26} {byChannel * 1e6,19:F1} {sampleMajor * 1e6,13:F1} {1 - sampleMajor / byChannel,6:P0} {sumsByChannel * 1e6,17:F1} {sumsSampleMajor * 1e6,13:F1} {1 - sumsSampleMajor / sumsByChannel,6:P0}"
                    + $" {writeAlone * 1e6,12:F1} {ownSums * 1e6,16:F1} {sumsInLoop * 1e6,14:F1} {1 - (sumsInLoop - writeAlone) / (ownSums - writeAlone),6:P0}"
                    + (sink == 1.5 ? "!" : ""));
            }
        }


        // "relu-bn-sums": a residual join's ReLU backward (Elementwise.ReluBackwardOfSum over the chunk) and the batch-norm's
        // backward below it (BackwardSumsBatch, the coefficients, BackwardInputBatch), as the generated code ran them before
        // session 15, against the join written a sample at a time with the batch-norm's sums added behind each sample
        // (BatchNormalization.ReluBackwardOfSumWithBackwardSums) and the same dx pass; the same floats. This thread's CPU µs,
        // best of 40 interleaved rounds, three times; batches of 32 (a two-thread chunk) and 64 (one thread).
        public static void RunReluJoin()
        {
            var shapes = new (string Name, int Batch, int C, int Plane)[]
            {
                ("ResNet-8 16x32x32", 32, 16, 1024), ("ResNet-8 16x32x32", 64, 16, 1024), ("ResNet-8 32x16x16", 32, 32, 256),
                ("ResNet-8 64x8x8", 32, 64, 64), ("CIFAR 32x32x32", 32, 32, 1024),
            };
            Console.WriteLine($"{"shape",-20} {"batch",5} {"join, then bn us",17} {"join with sums us",18} {"saved",7}");
            foreach (var s in shapes)
            {
                int length = s.Batch * s.C * s.Plane;
                float[] x = Program.Fill(length, 6), y = Program.Fill(length, 7), a = Program.Fill(length, 8), b = Program.Fill(length, 9);
                float[] dy = new float[length], dx = new float[length];
                float[] mean = Enumerable.Repeat(0.1f, s.C).ToArray(), invStd = Enumerable.Repeat(1.2f, s.C).ToArray(), coefficients = new float[3 * s.C];
                double[] sums = new double[s.C * BatchNormalization.BackwardSumsWidth];
                void Rest()
                {
                    for (int c = 0; c < s.C; c++)
                    {
                        var (sumDy, sumDyXhat) = BatchNormalization.BackwardSampleSums(sums, c, invStd[c]);
                        coefficients[c] = 0.9f;
                        coefficients[s.C + c] = (float)(sumDy * 1e-9);
                        coefficients[2 * s.C + c] = (float)(sumDyXhat * 1e-9);
                    }
                    BatchNormalization.BackwardInputBatch(x, dy, dx, s.Batch, s.C, s.Plane, mean, invStd, coefficients);
                }
                for (int round = 0; round < 3; round++)
                {
                    var (separate, joined) = Program.InterleavedCpu(
                        () =>
                        {
                            Elementwise.ReluBackwardOfSum(y, a, b, dy);
                            BatchNormalization.BackwardSumsBatch(x, dy, s.Batch, s.C, s.Plane, mean, sums);
                            Rest();
                        },
                        () =>
                        {
                            BatchNormalization.ReluBackwardOfSumWithBackwardSums(y, a, b, dy, x, s.Batch, s.C, s.Plane, mean, sums);
                            Rest();
                        });
                    Console.WriteLine($"{s.Name,-20} {s.Batch,5} {separate * 1e6,17:F1} {joined * 1e6,18:F1} {1 - joined / separate,6:P0}");
                }
            }
        }

        // BackwardSums before this session (two accumulators per sum, a horizontal sum per plane, x̂ formed element by element).
        private static class Before
        {
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
