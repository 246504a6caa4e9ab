using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The per-channel passes of training-mode batch normalization over a batch laid out [n][channels][plane]: one
    /// channel's values are one contiguous plane per sample, <c>channels · plane</c> floats apart.
    /// </summary>
    /// <remarks>
    /// Sums run in float within a plane (four vector accumulators, so no long dependency chain) and in double across
    /// planes, which keeps them accurate to about 1e-7 relative for any batch. Element-wise passes compute exactly the
    /// expression the scalar path does, in the same order, so every path (Vector512 where accelerated, the L2-resident
    /// second passes being compute-bound at Vector256; Vector256; scalar) gives the same values bit for bit.
    /// </remarks>
    public static class BatchNormalization
    {
        /// <summary>Σ x over the channel's planes.</summary>
        public static double Sum(ReadOnlySpan<float> x, int batchSize, int channels, int plane, int channel)
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            double sum = 0;
            for (int n = 0; n < batchSize; n++) sum += PlaneSum(x.Slice((n * channels + channel) * plane, plane), 0f, false);
            return sum;
        }

        /// <summary>Σ (x − mean)² over the channel's planes.</summary>
        public static double SumSquaredDeviations(ReadOnlySpan<float> x, int batchSize, int channels, int plane, int channel, float mean)
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            double sum = 0;
            for (int n = 0; n < batchSize; n++) sum += PlaneSum(x.Slice((n * channels + channel) * plane, plane), mean, true);
            return sum;
        }

        /// <summary>
        /// Σ (x − shift) and Σ (x − shift)² over the channel's planes, in one pass: with the shift near the mean both are
        /// sums of small deviations, so they stay accurate, and the statistics of several chunks combine exactly from them.
        /// </summary>
        public static (double Deviations, double SquaredDeviations) SumsAboutShift(ReadOnlySpan<float> x, int batchSize, int channels, int plane, int channel, float shift)
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            double deviations = 0, squares = 0;
            for (int n = 0; n < batchSize; n++)
                AddPlaneSums(ref MemoryMarshal.GetReference(x.Slice((n * channels + channel) * plane, plane)), plane, shift, ref deviations, ref squares);
            return (deviations, squares);
        }

        /// <summary>Doubles per channel of the running sums <see cref="AddSampleSums"/> keeps: the shift, Σ(x − shift) and Σ(x − shift)².</summary>
        public const int SampleSumsWidth = 3;

        /// <summary>
        /// Adds one sample's planes (<paramref name="channels"/> x <paramref name="plane"/>) to the running sums of
        /// <see cref="SumsAboutShift"/> for every channel, about a shift taken from the first sample's plane (its mean, as
        /// <c>Sum(x, 1, …) / plane</c> gives it; <paramref name="first"/> starts the sums): training calls it in the loop of the
        /// layer before batch-norm, right after that layer wrote the sample, so these reads hit the cache and batch-norm's
        /// own pass over the batch only normalizes. Over samples 0 to N − 1 in order, <see cref="SampleSums"/> gives exactly
        /// the floats <see cref="SumsAboutShift"/> gives over the N samples.
        /// </summary>
        public static void AddSampleSums(ReadOnlySpan<float> sample, int channels, int plane, bool first, Span<double> sums)
        {
            Check(sample.Length, 1, channels, plane, 0, nameof(sample));
            if (sums.Length < channels * SampleSumsWidth) throw new ArgumentException("Expected at least " + channels * SampleSumsWidth + " doubles.", nameof(sums));
            AddChannelSums(sample, 0, channels, plane, first, sums);
        }

        // AddSampleSums of channels [from, channels) of one sample.
        private static void AddChannelSums(ReadOnlySpan<float> sample, int from, int channels, int plane, bool first, Span<double> sums)
        {
            ref float xs = ref MemoryMarshal.GetReference(sample);
            for (int c = from; c < channels; c++)
            {
                ref float planeStart = ref Unsafe.Add(ref xs, c * plane);
                ref double shift = ref sums[c * SampleSumsWidth];
                ref double deviations = ref Unsafe.Add(ref shift, 1);
                ref double squares = ref Unsafe.Add(ref shift, 2);
                if (first)
                {
                    shift = (float)((double)PlaneSum(sample.Slice(c * plane, plane), 0f, false) / plane);
                    deviations = 0;
                    squares = 0;
                }
                AddPlaneSums(ref planeStart, plane, (float)shift, ref deviations, ref squares);
            }
        }

        /// <summary>Planes up to this many values are small: <see cref="AddBatchSums"/> and <see cref="NormalizeBatch"/> take their channels in the lanes.</summary>
        public const int SmallPlane = 7;

        /// <summary>
        /// <see cref="AddSampleSums"/> over samples 0 to <paramref name="batchSize"/> − 1 of x (started afresh): for every channel
        /// the sums <see cref="SumsAboutShift"/> gives, in one pass over the batch, for a batch-norm whose sums no loop before it
        /// added. On small planes (up to <see cref="SmallPlane"/> values: the last maps of deep CIFAR networks, 2x2, and a
        /// BatchNorm1d's single value) 8 channels go in the lanes, a gather for each position of their planes: a channel at a
        /// time reads a few values a sample apart (and, a batch's samples 4 KB apart, from one L1 set), and a sample at a time
        /// spends a loop's fixed cost on each few values. The same operations per channel in the same order: the same floats.
        /// </summary>
        public static unsafe void AddBatchSums(ReadOnlySpan<float> x, int batchSize, int channels, int plane, Span<double> sums)
        {
            Check(x.Length, batchSize, channels, plane, 0, nameof(x));
            if (sums.Length < channels * SampleSumsWidth) throw new ArgumentException("Expected at least " + channels * SampleSumsWidth + " doubles.", nameof(sums));
            int sample = channels * plane, laned = 0;
            if (Simd.Enabled && System.Runtime.Intrinsics.X86.Avx2.IsSupported && plane <= SmallPlane)
            {
                laned = channels / 8 * 8;
                var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * plane; // lane l: channel c + l's plane
                var size = Vector256.Create((double)plane);
                fixed (float* x0 = x)
                fixed (double* s0 = sums)
                {
                    for (int c = 0; c < laned; c += 8)
                    {
                        // The shift: the first sample's plane mean, (float)((double)Σx / plane) as PlaneSum sums it.
                        var first = Vector256<float>.Zero;
                        for (int i = 0; i < plane; i++) first += PlanePosition(x0 + c * plane + i, lanes, plane);
                        var shift = Vector256.Narrow(Vector256.WidenLower(first) / size, Vector256.WidenUpper(first) / size);
                        Vector256<double> deviationsLow = default, deviationsHigh = default, squaresLow = default, squaresHigh = default;
                        for (int n = 0; n < batchSize; n++)
                        {
                            float* planes = x0 + n * sample + c * plane;
                            // AddPlaneSums: in float within a plane, then in double.
                            Vector256<float> deviations = default, squares = default;
                            for (int i = 0; i < plane; i++)
                            {
                                var v = PlanePosition(planes + i, lanes, plane) - shift;
                                deviations += v;
                                squares += v * v;
                            }
                            deviationsLow += Vector256.WidenLower(deviations); deviationsHigh += Vector256.WidenUpper(deviations);
                            squaresLow += Vector256.WidenLower(squares); squaresHigh += Vector256.WidenUpper(squares);
                        }
                        double* at = s0 + c * SampleSumsWidth;
                        StoreLanes(at, SampleSumsWidth, Vector256.WidenLower(shift), Vector256.WidenUpper(shift));
                        StoreLanes(at + 1, SampleSumsWidth, deviationsLow, deviationsHigh);
                        StoreLanes(at + 2, SampleSumsWidth, squaresLow, squaresHigh);
                    }
                }
            }
            if (laned == channels) return;
            for (int n = 0; n < batchSize; n++) AddChannelSums(x.Slice(n * sample, sample), laned, channels, plane, n == 0, sums);
        }

        // 8 channels' doubles (lanes 0-3 in low, 4-7 in high) into their places in the per-channel sums, stride apart.
        private static unsafe void StoreLanes(double* first, int stride, Vector256<double> low, Vector256<double> high)
        {
            for (int l = 0; l < 4; l++)
            {
                first[l * stride] = low[l];
                first[(l + 4) * stride] = high[l];
            }
        }

        // Value i of 8 consecutive channels' planes, at their first's: one load when a plane is one value, else a gather.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<float> PlanePosition(float* at, Vector256<int> lanes, int plane) =>
            plane == 1 ? Vector256.Load(at) : System.Runtime.Intrinsics.X86.Avx2.GatherVector256(at, lanes, 4);

        /// <summary>A channel's shift and its sums about it, from the running sums of <see cref="AddSampleSums"/>.</summary>
        public static (float Shift, double Deviations, double SquaredDeviations) SampleSums(ReadOnlySpan<double> sums, int channel)
        {
            var at = sums.Slice(channel * SampleSumsWidth, SampleSumsWidth);
            return ((float)at[0], at[1], at[2]);
        }

        // One plane's Σ(x − shift) and Σ(x − shift)², in float within the plane (two vector accumulators a sum), added to the
        // channel's sums in double. (Four accumulators and double lanes across planes ran 10-30% faster on their own, KernelBench
        // bnpasses, but round differently: ResNet-8's five PyTorch training steps, a batch of 4 through 9 batch-norms, then flip
        // a pre-activation near 0 at the second step and end 1.8e-4 apart, past the fixture's 1e-4. The sums here are the
        // floats they were.)
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddPlaneSums(ref float xs, int plane, float shift, ref double deviations, ref double squares)
        {
            float planeDeviations = 0f, planeSquares = 0f;
            int i = 0;
            if (Simd.Enabled && plane >= 16)
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

        // A float vector's eight lanes as four doubles, lanes i and i + 4 added in double.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Widened(Vector256<float> v)
        {
            var (lower, upper) = Vector256.Widen(v);
            return lower + upper;
        }

        /// <summary>
        /// y = (x − mean) · invStd · weight + bias over the channel's planes; with <paramref name="relu"/> the ReLU after it in the
        /// same pass (training writes the ReLU's output straight away: its backward reads only that), the value
        /// <see cref="Elementwise.Relu(ReadOnlySpan{float}, Span{float})"/> would give bit for bit; with <paramref name="relu6"/> the
        /// ReLU6 after it, as <see cref="Activations.Relu6"/> gives it.
        /// </summary>
        public static void Normalize(ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane, int channel,
            float mean, float invStd, float weight, float bias, bool relu = false, bool relu6 = false)
        {
            if (relu6) Normalize<Clamped6>(x, y, batchSize, channels, plane, channel, mean, invStd, weight, bias);
            else if (relu) Normalize<Rectified>(x, y, batchSize, channels, plane, channel, mean, invStd, weight, bias);
            else Normalize<AsIs>(x, y, batchSize, channels, plane, channel, mean, invStd, weight, bias);
        }

        // What the normalize pass stores: the value as it is, or its ReLU (Elementwise.Relu's, bit for bit).
        private interface IOutput
        {
            static abstract Vector512<float> Of(Vector512<float> v);
            static abstract Vector256<float> Of(Vector256<float> v);
            static abstract float Of(float v);
        }

        private readonly struct AsIs : IOutput
        {
            public static Vector512<float> Of(Vector512<float> v) => v;
            public static Vector256<float> Of(Vector256<float> v) => v;
            public static float Of(float v) => v;
        }

        private readonly struct Rectified : IOutput
        {
            public static Vector512<float> Of(Vector512<float> v) => Elementwise.Relu(v);
            public static Vector256<float> Of(Vector256<float> v) => Elementwise.Relu(v);
            public static float Of(float v) => Elementwise.Relu(v);
        }

        // ReLU6's (Activations.Relu6's, bit for bit).
        private readonly struct Clamped6 : IOutput
        {
            public static Vector512<float> Of(Vector512<float> v) => Activations.Relu6Op.Apply(v);
            public static Vector256<float> Of(Vector256<float> v) => Activations.Relu6Op.Apply(v);
            public static float Of(float v) => Activations.Relu6Op.Apply(v);
        }

        private static void Normalize<TOutput>(ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane, int channel,
            float mean, float invStd, float weight, float bias) where TOutput : struct, IOutput
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            Check(y.Length, batchSize, channels, plane, channel, nameof(y));
            for (int n = 0; n < batchSize; n++)
            {
                int start = (n * channels + channel) * plane;
                NormalizePlane<TOutput>(ref MemoryMarshal.GetReference(x.Slice(start, plane)), ref MemoryMarshal.GetReference(y.Slice(start, plane)), plane, mean, invStd, weight, bias);
            }
        }

        /// <summary>
        /// <see cref="Normalize(ReadOnlySpan{float}, Span{float}, int, int, int, int, float, float, float, float, bool, bool)"/> of every
        /// channel, the same floats, sample after sample: one contiguous stream through x and y, where a channel at a time
        /// reads a plane per sample a sample apart, which the prefetchers follow badly on small planes (8x8: 256 bytes 16 KB
        /// apart; KernelBench bnpasses). For statistics known before the pass: the sums added in the convolution's loop.
        /// <paramref name="p"/> is γ then β.
        /// </summary>
        public static void NormalizeBatch(ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane,
            ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> p, bool relu = false, bool relu6 = false)
        {
            Check(x.Length, batchSize, channels, plane, 0, nameof(x));
            Check(y.Length, batchSize, channels, plane, 0, nameof(y));
            if (mean.Length < channels || invStd.Length < channels || p.Length < 2 * channels)
                throw new ArgumentException("Expected the statistics of " + channels + " channels and their weights and biases.");
            if (relu6) NormalizeBatch<Clamped6>(x, y, batchSize, channels, plane, mean, invStd, p);
            else if (relu) NormalizeBatch<Rectified>(x, y, batchSize, channels, plane, mean, invStd, p);
            else NormalizeBatch<AsIs>(x, y, batchSize, channels, plane, mean, invStd, p);
        }

        private static void NormalizeBatch<TOutput>(ReadOnlySpan<float> x, Span<float> y, int batchSize, int channels, int plane,
            ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> p) where TOutput : struct, IOutput
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            if (Simd.Enabled && plane <= SmallPlane)
            {
                NormalizeSmallPlanes<TOutput>(ref xs, ref ys, batchSize, channels, plane, mean, invStd, p);
                return;
            }
            for (int n = 0; n < batchSize; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int start = (n * channels + c) * plane;
                    NormalizePlane<TOutput>(ref Unsafe.Add(ref xs, start), ref Unsafe.Add(ref ys, start), plane, mean[c], invStd[c], p[c], p[channels + c]);
                }
            }
        }

        // The values of a block of small planes that NormalizeSmallPlanes and SmallPlaneBackwardInput take at once: each of its
        // per-channel parameters a 1 KB row of the stack.
        private const int BlockValues = 256;

        // perChannel[c] into values [c · plane, (c + 1) · plane) of target: a block's parameter for each of its values.
        private static void Spread(ReadOnlySpan<float> perChannel, int plane, Span<float> target)
        {
            if (plane == 1)
            {
                perChannel.CopyTo(target);
                return;
            }
            for (int j = 0; j < perChannel.Length * plane; j++) target[j] = perChannel[j / plane];
        }

        // NormalizeBatch on small planes: each block of channels' mean, 1 / std, weight and bias spread over their planes' values
        // (value j of the block is channel j / plane's), then each sample's block is one element-wise stream of
        // ((x − mean) · invStd) · weight + bias, the expression NormalizePlane computes per value: the same floats.
        private static void NormalizeSmallPlanes<TOutput>(ref float xs, ref float ys, int batchSize, int channels, int plane,
            ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> p) where TOutput : struct, IOutput
        {
            Span<float> spread = stackalloc float[4 * BlockValues];
            Span<float> means = spread.Slice(0, BlockValues), scales = spread.Slice(BlockValues, BlockValues);
            Span<float> weights = spread.Slice(2 * BlockValues, BlockValues), biases = spread.Slice(3 * BlockValues, BlockValues);
            int blockChannels = BlockValues / plane, sample = channels * plane;
            for (int first = 0; first < channels; first += blockChannels)
            {
                int count = Math.Min(blockChannels, channels - first), values = count * plane;
                Spread(mean.Slice(first, count), plane, means);
                Spread(invStd.Slice(first, count), plane, scales);
                Spread(p.Slice(first, count), plane, weights);
                Spread(p.Slice(channels + first, count), plane, biases);
                ref float m = ref MemoryMarshal.GetReference(means), s = ref MemoryMarshal.GetReference(scales);
                ref float w = ref MemoryMarshal.GetReference(weights), b = ref MemoryMarshal.GetReference(biases);
                for (int n = 0; n < batchSize; n++)
                {
                    ref float xb = ref Unsafe.Add(ref xs, n * sample + first * plane);
                    ref float yb = ref Unsafe.Add(ref ys, n * sample + first * plane);
                    int j = 0;
                    for (; j <= values - 8; j += 8)
                    {
                        var v = (Vector256.LoadUnsafe(ref xb, (nuint)j) - Vector256.LoadUnsafe(ref m, (nuint)j)) * Vector256.LoadUnsafe(ref s, (nuint)j)
                            * Vector256.LoadUnsafe(ref w, (nuint)j) + Vector256.LoadUnsafe(ref b, (nuint)j);
                        TOutput.Of(v).StoreUnsafe(ref yb, (nuint)j);
                    }
                    for (; j < values; j++)
                        Unsafe.Add(ref yb, j) = TOutput.Of((Unsafe.Add(ref xb, j) - Unsafe.Add(ref m, j)) * Unsafe.Add(ref s, j) * Unsafe.Add(ref w, j) + Unsafe.Add(ref b, j));
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void NormalizePlane<TOutput>(ref float xs, ref float ys, int plane, float mean, float invStd, float weight, float bias) where TOutput : struct, IOutput
        {
            int i = 0;
            if (Simd.Enabled && Vector512.IsHardwareAccelerated)
            {
                var m = Vector512.Create(mean); var s = Vector512.Create(invStd); var w = Vector512.Create(weight); var b = Vector512.Create(bias);
                for (; i <= plane - 16; i += 16)
                    TOutput.Of((Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * s * w + b).StoreUnsafe(ref ys, (nuint)i);
            }
            if (Simd.Enabled)
            {
                var m = Vector256.Create(mean); var s = Vector256.Create(invStd); var w = Vector256.Create(weight); var b = Vector256.Create(bias);
                for (; i <= plane - 8; i += 8)
                    TOutput.Of((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * s * w + b).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < plane; i++) Unsafe.Add(ref ys, i) = TOutput.Of((Unsafe.Add(ref xs, i) - mean) * invStd * weight + bias);
        }

        /// <summary>y = (x − mean) · scale + shift, element by element: evaluation mode, one channel's plane.</summary>
        public static void ScaleShift(ReadOnlySpan<float> x, Span<float> y, float mean, float scale, float shift)
        {
            if (y.Length < x.Length) throw new ArgumentException("Expected at least " + x.Length + " floats.", nameof(y));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            int i = 0;
            if (Simd.Enabled)
            {
                var m = Vector256.Create(mean); var k = Vector256.Create(scale); var b = Vector256.Create(shift);
                for (; i <= x.Length - 8; i += 8) ((Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * k + b).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < x.Length; i++) Unsafe.Add(ref ys, i) = (Unsafe.Add(ref xs, i) - mean) * scale + shift;
        }

        /// <summary>
        /// Evaluation-mode batch-norm folded into the convolution before it: with s = γ / √(running var + eps) per
        /// output channel, the weights become W·s and the bias (b − running mean)·s + β. <paramref name="folded"/> receives
        /// the weights [outChannels x taps] followed by the bias [outChannels]; <paramref name="bias"/> may be empty (no bias).
        /// <paramref name="batchNorm"/> is γ then β, <paramref name="running"/> the running mean then variance.
        /// </summary>
        public static void FoldIntoConvolution(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> batchNorm,
            ReadOnlySpan<float> running, int outChannels, float eps, Span<float> folded)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            if (weight.Length % outChannels != 0) throw new ArgumentException("Expected a whole number of taps per output channel.", nameof(weight));
            int taps = weight.Length / outChannels;
            if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException("Expected " + outChannels + " floats.", nameof(bias));
            if (batchNorm.Length != 2 * outChannels) throw new ArgumentException("Expected " + 2 * outChannels + " floats.", nameof(batchNorm));
            if (running.Length != 2 * outChannels) throw new ArgumentException("Expected " + 2 * outChannels + " floats.", nameof(running));
            if (folded.Length < weight.Length + outChannels) throw new ArgumentException("Expected at least " + (weight.Length + outChannels) + " floats.", nameof(folded));
            for (int oc = 0; oc < outChannels; oc++)
            {
                // The same factor evaluation-mode batch-norm computes on its own.
                float scale = batchNorm[oc] * (1f / MathF.Sqrt(running[outChannels + oc] + eps));
                var source = weight.Slice(oc * taps, taps);
                var target = folded.Slice(oc * taps, taps);
                for (int t = 0; t < taps; t++) target[t] = source[t] * scale;
                float b = bias.IsEmpty ? 0f : bias[oc];
                folded[weight.Length + oc] = (b - running[oc]) * scale + batchNorm[outChannels + oc];
            }
        }

        /// <summary>
        /// Σ dy and Σ dy · (x − mean) · invStd over the channel's planes: the batch-norm backward's two sums. invStd, the same
        /// for every value, multiplies the sum once (Σ dy · (x − mean), in double across planes) rather than each term.
        /// </summary>
        public static (double SumDy, double SumDyXhat) BackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane, int channel,
            float mean, float invStd)
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            Check(dy.Length, batchSize, channels, plane, channel, nameof(dy));
            if (Simd.Enabled && plane >= 8) return BackwardSumsVector(x, dy, batchSize, channels, plane, channel, mean, invStd);
            double sumDy = 0, sumDyDeviation = 0;
            for (int n = 0; n < batchSize; n++)
            {
                int start = (n * channels + channel) * plane;
                AddPlaneBackwardSumsScalar(ref MemoryMarshal.GetReference(x.Slice(start, plane)), ref MemoryMarshal.GetReference(dy.Slice(start, plane)), plane, mean,
                    ref sumDy, ref sumDyDeviation);
            }
            return (sumDy, sumDyDeviation * invStd);
        }

        // As AddPlaneSums: float lanes within a plane, double lanes across planes, one horizontal sum at the end.
        private static (double SumDy, double SumDyXhat) BackwardSumsVector(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane, int channel,
            float mean, float invStd)
        {
            Vector256<double> sumDy = default, sumDyDeviation = default;
            double tailDy = 0, tailDyDeviation = 0;
            for (int n = 0; n < batchSize; n++)
            {
                int start = (n * channels + channel) * plane;
                AddPlaneBackwardSums(ref MemoryMarshal.GetReference(x.Slice(start, plane)), ref MemoryMarshal.GetReference(dy.Slice(start, plane)), plane, mean,
                    ref sumDy, ref sumDyDeviation, ref tailDy, ref tailDyDeviation);
            }
            return (Vector256.Sum(sumDy) + tailDy, (Vector256.Sum(sumDyDeviation) + tailDyDeviation) * invStd);
        }

        // One plane of BackwardSumsVector (plane >= 8): its float lanes widened into the channel's double lanes, its scalar tail
        // added to the tails.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddPlaneBackwardSums(ref float xs, ref float gs, int plane, float mean,
            ref Vector256<double> sumDy, ref Vector256<double> sumDyDeviation, ref double tailDy, ref double tailDyDeviation)
        {
            var m = Vector256.Create(mean);
            Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default, h0 = default, h1 = default, h2 = default, h3 = default;
            int i = 0;
            for (; i <= plane - 32; i += 32)
            {
                var g0 = Vector256.LoadUnsafe(ref gs, (nuint)i);
                var g1 = Vector256.LoadUnsafe(ref gs, (nuint)(i + 8));
                var g2 = Vector256.LoadUnsafe(ref gs, (nuint)(i + 16));
                var g3 = Vector256.LoadUnsafe(ref gs, (nuint)(i + 24));
                d0 += g0; d1 += g1; d2 += g2; d3 += g3;
                h0 = Fused.MultiplyAdd(g0, Vector256.LoadUnsafe(ref xs, (nuint)i) - m, h0);
                h1 = Fused.MultiplyAdd(g1, Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)) - m, h1);
                h2 = Fused.MultiplyAdd(g2, Vector256.LoadUnsafe(ref xs, (nuint)(i + 16)) - m, h2);
                h3 = Fused.MultiplyAdd(g3, Vector256.LoadUnsafe(ref xs, (nuint)(i + 24)) - m, h3);
            }
            for (; i <= plane - 8; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref gs, (nuint)i);
                d0 += g;
                h0 = Fused.MultiplyAdd(g, Vector256.LoadUnsafe(ref xs, (nuint)i) - m, h0);
            }
            sumDy += Widened((d0 + d1) + (d2 + d3));
            sumDyDeviation += Widened((h0 + h1) + (h2 + h3));
            if (i == plane) return;
            float planeDy = 0f, planeDyDeviation = 0f;
            for (; i < plane; i++)
            {
                float g = Unsafe.Add(ref gs, i);
                planeDy += g;
                planeDyDeviation += g * (Unsafe.Add(ref xs, i) - mean);
            }
            tailDy += planeDy;
            tailDyDeviation += planeDyDeviation;
        }

        // One plane of BackwardSums' scalar path (no SIMD, or planes under a vector).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddPlaneBackwardSumsScalar(ref float xs, ref float gs, int plane, float mean, ref double sumDy, ref double sumDyDeviation)
        {
            float planeDy = 0f, planeDyDeviation = 0f;
            for (int i = 0; i < plane; i++)
            {
                float g = Unsafe.Add(ref gs, i);
                planeDy += g;
                planeDyDeviation += g * (Unsafe.Add(ref xs, i) - mean);
            }
            sumDy += planeDy;
            sumDyDeviation += planeDyDeviation;
        }

        /// <summary>
        /// Doubles per channel of the running sums <see cref="AddSampleBackwardSums"/> keeps: Σdy and Σdy·(x − mean) in four double
        /// lanes each, then the planes' scalar tails of both.
        /// </summary>
        public const int BackwardSumsWidth = 10;

        /// <summary>
        /// Adds one sample's planes (<paramref name="channels"/> x <paramref name="plane"/> of x and dy) to the running backward
        /// sums of every channel (<paramref name="first"/> starts them). Over samples 0 to N − 1 in order,
        /// <see cref="BackwardSampleSums"/> gives exactly the floats <see cref="BackwardSums"/> gives over the N samples: the same
        /// per-plane code, the same order, the channel's accumulators kept in <paramref name="sums"/> between samples. So the sums
        /// can run sample after sample (one stream through x and dy, where a channel at a time reads a plane per sample a
        /// sample apart), or inside the loop that writes dy.
        /// </summary>
        public static void AddSampleBackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int channels, int plane, ReadOnlySpan<float> mean, bool first, Span<double> sums)
        {
            Check(x.Length, 1, channels, plane, 0, nameof(x));
            Check(dy.Length, 1, channels, plane, 0, nameof(dy));
            if (mean.Length < channels) throw new ArgumentException("Expected " + channels + " means.", nameof(mean));
            if (sums.Length < channels * BackwardSumsWidth) throw new ArgumentException("Expected at least " + channels * BackwardSumsWidth + " doubles.", nameof(sums));
            if (first) sums.Slice(0, channels * BackwardSumsWidth).Clear();
            AddSampleBackwardSumsUnchecked(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(dy), channels, plane, mean, sums);
        }

        // AddSampleBackwardSums of channels [from, channels) of one sample.
        private static void AddSampleBackwardSumsUnchecked(ref float xs, ref float gs, int channels, int plane, ReadOnlySpan<float> mean, Span<double> sums, int from = 0)
        {
            ref double at = ref MemoryMarshal.GetReference(sums);
            if (Simd.Enabled && plane >= 8)
            {
                for (int c = from; c < channels; c++)
                {
                    ref double channelSums = ref Unsafe.Add(ref at, c * BackwardSumsWidth);
                    var sumDy = Vector256.LoadUnsafe(ref channelSums);
                    var sumDyDeviation = Vector256.LoadUnsafe(ref channelSums, 4);
                    AddPlaneBackwardSums(ref Unsafe.Add(ref xs, c * plane), ref Unsafe.Add(ref gs, c * plane), plane, mean[c],
                        ref sumDy, ref sumDyDeviation, ref Unsafe.Add(ref channelSums, 8), ref Unsafe.Add(ref channelSums, 9));
                    sumDy.StoreUnsafe(ref channelSums);
                    sumDyDeviation.StoreUnsafe(ref channelSums, 4);
                }
            }
            else
            {
                for (int c = from; c < channels; c++)
                {
                    ref double channelSums = ref Unsafe.Add(ref at, c * BackwardSumsWidth);
                    AddPlaneBackwardSumsScalar(ref Unsafe.Add(ref xs, c * plane), ref Unsafe.Add(ref gs, c * plane), plane, mean[c],
                        ref Unsafe.Add(ref channelSums, 8), ref Unsafe.Add(ref channelSums, 9));
                }
            }
        }

        /// <summary>
        /// <see cref="AddSampleBackwardSums"/> over the batch's samples in order: every channel's backward sums in one stream
        /// through x and dy, the floats <see cref="BackwardSums"/> gives channel by channel.
        /// </summary>
        public static void BackwardSumsBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane, ReadOnlySpan<float> mean, Span<double> sums)
        {
            Check(x.Length, batchSize, channels, plane, 0, nameof(x));
            Check(dy.Length, batchSize, channels, plane, 0, nameof(dy));
            if (mean.Length < channels) throw new ArgumentException("Expected " + channels + " means.", nameof(mean));
            if (sums.Length < channels * BackwardSumsWidth) throw new ArgumentException("Expected at least " + channels * BackwardSumsWidth + " doubles.", nameof(sums));
            sums.Slice(0, channels * BackwardSumsWidth).Clear();
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float gs = ref MemoryMarshal.GetReference(dy);
            int sample = channels * plane;
            // One value per plane (BatchNorm1d): 8 channels in the lanes, 2.0x a sample at a time (KernelBench bnsmall, 120 and 512
            // features). On planes of 2-7 values their gathers only tie with it (2x2: 0.9-1.2x), so those keep the per-sample loops.
            int laned = Simd.Enabled && System.Runtime.Intrinsics.X86.Avx2.IsSupported && plane == 1 ? SmallPlaneBackwardSums(x, dy, batchSize, channels, plane, mean, sums) : 0;
            if (laned == channels) return;
            for (int n = 0; n < batchSize; n++)
                AddSampleBackwardSumsUnchecked(ref Unsafe.Add(ref xs, n * sample), ref Unsafe.Add(ref gs, n * sample), channels, plane, mean, sums, laned);
        }

        // BackwardSumsBatch on small planes for the first channels / 8 · 8 channels, 8 in the lanes (a load or a gather per
        // plane position, as AddBatchSums): each plane's Σdy and Σdy·(x − mean) in float in order, then into the channel's tail
        // doubles, which is where AddPlaneBackwardSums puts a plane under a vector (its double lanes stay 0): the same floats.
        // Returns the channels it took.
        private static unsafe int SmallPlaneBackwardSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int batchSize, int channels, int plane, ReadOnlySpan<float> mean, Span<double> sums)
        {
            int laned = channels / 8 * 8, sample = channels * plane;
            var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * plane;
            fixed (float* x0 = x)
            fixed (float* g0 = dy)
            fixed (float* m0 = mean)
            fixed (double* s0 = sums)
            {
                for (int c = 0; c < laned; c += 8)
                {
                    var m = Vector256.Load(m0 + c);
                    Vector256<double> dyLow = default, dyHigh = default, deviationLow = default, deviationHigh = default;
                    for (int n = 0; n < batchSize; n++)
                    {
                        int start = n * sample + c * plane;
                        Vector256<float> planeDy = default, planeDyDeviation = default;
                        for (int i = 0; i < plane; i++)
                        {
                            var g = PlanePosition(g0 + start + i, lanes, plane);
                            planeDy += g;
                            planeDyDeviation += g * (PlanePosition(x0 + start + i, lanes, plane) - m);
                        }
                        dyLow += Vector256.WidenLower(planeDy); dyHigh += Vector256.WidenUpper(planeDy);
                        deviationLow += Vector256.WidenLower(planeDyDeviation); deviationHigh += Vector256.WidenUpper(planeDyDeviation);
                    }
                    StoreLanes(s0 + c * BackwardSumsWidth + 8, BackwardSumsWidth, dyLow, dyHigh);
                    StoreLanes(s0 + c * BackwardSumsWidth + 9, BackwardSumsWidth, deviationLow, deviationHigh);
                }
            }
            return laned;
        }

        /// <summary>
        /// A residual join's ReLU backward (<see cref="Elementwise.ReluBackwardOfSum"/>: dy = relu'(<paramref name="y"/>) ·
        /// (<paramref name="a"/> + <paramref name="b"/>)) written into <paramref name="dy"/> a sample at a time, each sample's
        /// dy added to the backward sums of the batch-norm below it (input <paramref name="x"/>) right after it is written, while
        /// it is still in cache: the floats of <see cref="Elementwise.ReluBackwardOfSum"/> over the batch and then
        /// <see cref="BackwardSumsBatch"/>, bit for bit, with one pass over dy fewer (a chunk's dy of ResNet-8's first stage is
        /// 2 MB, past L2).
        /// </summary>
        public static void ReluBackwardOfSumWithBackwardSums(ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dy,
            ReadOnlySpan<float> x, int batchSize, int channels, int plane, ReadOnlySpan<float> mean, Span<double> sums) =>
            ReluBackwardOfSumWithBackwardSumsOn(y, a, b, dy, x, batchSize, channels, plane, mean, sums, KernelPaths.Default);

        internal static void ReluBackwardOfSumWithBackwardSumsOn(ReadOnlySpan<float> y, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dy,
            ReadOnlySpan<float> x, int batchSize, int channels, int plane, ReadOnlySpan<float> mean, Span<double> sums, DirectConvolution.KernelPath path)
        {
            Check(x.Length, batchSize, channels, plane, 0, nameof(x));
            Check(dy.Length, batchSize, channels, plane, 0, nameof(dy));
            if (y.Length != dy.Length || a.Length != dy.Length || b.Length != dy.Length)
                throw new ArgumentException("Expected y, a and b of " + dy.Length + " values each, as dy.");
            if (mean.Length < channels) throw new ArgumentException("Expected " + channels + " means.", nameof(mean));
            if (sums.Length < channels * BackwardSumsWidth) throw new ArgumentException("Expected at least " + channels * BackwardSumsWidth + " doubles.", nameof(sums));
            sums.Slice(0, channels * BackwardSumsWidth).Clear();
            int sample = channels * plane;
            for (int n = 0; n < batchSize; n++)
            {
                int start = n * sample;
                var dySample = dy.Slice(start, sample);
                Elementwise.ReluBackwardOfSumOn(y.Slice(start, sample), a.Slice(start, sample), b.Slice(start, sample), dySample, path);
                AddSampleBackwardSumsUnchecked(ref MemoryMarshal.GetReference(x.Slice(start, sample)), ref MemoryMarshal.GetReference(dySample), channels, plane, mean, sums);
            }
        }

        /// <summary>A channel's Σdy and Σdy·x̂ from the running sums of <see cref="AddSampleBackwardSums"/>, as <see cref="BackwardSums"/> returns them.</summary>
        public static (double SumDy, double SumDyXhat) BackwardSampleSums(ReadOnlySpan<double> sums, int channel, float invStd)
        {
            var at = sums.Slice(channel * BackwardSumsWidth, BackwardSumsWidth);
            var sumDy = Vector256.Create(at[0], at[1], at[2], at[3]);
            var sumDyDeviation = Vector256.Create(at[4], at[5], at[6], at[7]);
            return (Vector256.Sum(sumDy) + at[8], (Vector256.Sum(sumDyDeviation) + at[9]) * invStd);
        }

        /// <summary>dx = scale · (dy − meanDy − (x − mean) · invStd · meanDyXhat) over the channel's planes.</summary>
        public static void BackwardInput(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batchSize, int channels, int plane, int channel,
            float mean, float invStd, float scale, float meanDy, float meanDyXhat)
        {
            Check(x.Length, batchSize, channels, plane, channel, nameof(x));
            Check(dy.Length, batchSize, channels, plane, channel, nameof(dy));
            Check(dx.Length, batchSize, channels, plane, channel, nameof(dx));
            for (int n = 0; n < batchSize; n++)
            {
                int start = (n * channels + channel) * plane;
                BackwardInputPlane(ref MemoryMarshal.GetReference(x.Slice(start, plane)), ref MemoryMarshal.GetReference(dy.Slice(start, plane)),
                    ref MemoryMarshal.GetReference(dx.Slice(start, plane)), plane, mean, invStd, scale, meanDy, meanDyXhat);
            }
        }

        /// <summary>
        /// <see cref="BackwardInput"/> of every channel, the same floats, sample after sample: one stream through x, dy and dx.
        /// <paramref name="coefficients"/> holds each channel's scale, then each one's meanDy, then each one's meanDyXhat
        /// (3 x <paramref name="channels"/>).
        /// </summary>
        public static void BackwardInputBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batchSize, int channels, int plane,
            ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> coefficients)
        {
            Check(x.Length, batchSize, channels, plane, 0, nameof(x));
            Check(dy.Length, batchSize, channels, plane, 0, nameof(dy));
            Check(dx.Length, batchSize, channels, plane, 0, nameof(dx));
            if (mean.Length < channels || invStd.Length < channels || coefficients.Length < 3 * channels)
                throw new ArgumentException("Expected the statistics and the backward coefficients of " + channels + " channels.");
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float gs = ref MemoryMarshal.GetReference(dy);
            ref float ds = ref MemoryMarshal.GetReference(dx);
            if (Simd.Enabled && plane <= SmallPlane)
            {
                SmallPlaneBackwardInput(ref xs, ref gs, ref ds, batchSize, channels, plane, mean, invStd, coefficients);
                return;
            }
            for (int n = 0; n < batchSize; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int start = (n * channels + c) * plane;
                    BackwardInputPlane(ref Unsafe.Add(ref xs, start), ref Unsafe.Add(ref gs, start), ref Unsafe.Add(ref ds, start), plane,
                        mean[c], invStd[c], coefficients[c], coefficients[channels + c], coefficients[2 * channels + c]);
                }
            }
        }

        // BackwardInputBatch on small planes: as NormalizeSmallPlanes, each block of channels' five coefficients spread over
        // its values, then each sample's block one stream of scale · (dy − mean dy − (x − mean) · invStd · mean dy·x̂), the
        // expression BackwardInputPlane computes per value: the same floats.
        private static void SmallPlaneBackwardInput(ref float xs, ref float gs, ref float ds, int batchSize, int channels, int plane,
            ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, ReadOnlySpan<float> coefficients)
        {
            Span<float> spread = stackalloc float[5 * BlockValues];
            int blockChannels = BlockValues / plane, sample = channels * plane;
            for (int first = 0; first < channels; first += blockChannels)
            {
                int count = Math.Min(blockChannels, channels - first), values = count * plane;
                Spread(mean.Slice(first, count), plane, spread);
                Spread(invStd.Slice(first, count), plane, spread.Slice(BlockValues));
                for (int part = 0; part < 3; part++) Spread(coefficients.Slice(part * channels + first, count), plane, spread.Slice((2 + part) * BlockValues));
                ref float m = ref MemoryMarshal.GetReference(spread);
                ref float s = ref Unsafe.Add(ref m, BlockValues), k = ref Unsafe.Add(ref m, 2 * BlockValues);
                ref float md = ref Unsafe.Add(ref m, 3 * BlockValues), mh = ref Unsafe.Add(ref m, 4 * BlockValues);
                for (int n = 0; n < batchSize; n++)
                {
                    int start = n * sample + first * plane;
                    ref float xb = ref Unsafe.Add(ref xs, start), gb = ref Unsafe.Add(ref gs, start), db = ref Unsafe.Add(ref ds, start);
                    int j = 0;
                    for (; j <= values - 8; j += 8)
                    {
                        var v = Vector256.LoadUnsafe(ref k, (nuint)j) * (Vector256.LoadUnsafe(ref gb, (nuint)j) - Vector256.LoadUnsafe(ref md, (nuint)j)
                            - (Vector256.LoadUnsafe(ref xb, (nuint)j) - Vector256.LoadUnsafe(ref m, (nuint)j)) * Vector256.LoadUnsafe(ref s, (nuint)j) * Vector256.LoadUnsafe(ref mh, (nuint)j));
                        v.StoreUnsafe(ref db, (nuint)j);
                    }
                    for (; j < values; j++)
                        Unsafe.Add(ref db, j) = Unsafe.Add(ref k, j) * (Unsafe.Add(ref gb, j) - Unsafe.Add(ref md, j)
                            - (Unsafe.Add(ref xb, j) - Unsafe.Add(ref m, j)) * Unsafe.Add(ref s, j) * Unsafe.Add(ref mh, j));
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void BackwardInputPlane(ref float xs, ref float gs, ref float ds, int plane, float mean, float invStd, float scale, float meanDy, float meanDyXhat)
        {
            int i = 0;
            if (Simd.Enabled && Vector512.IsHardwareAccelerated)
            {
                var m = Vector512.Create(mean); var s = Vector512.Create(invStd); var k = Vector512.Create(scale);
                var md = Vector512.Create(meanDy); var mh = Vector512.Create(meanDyXhat);
                for (; i <= plane - 16; i += 16)
                {
                    var v = k * (Vector512.LoadUnsafe(ref gs, (nuint)i) - md - (Vector512.LoadUnsafe(ref xs, (nuint)i) - m) * s * mh);
                    v.StoreUnsafe(ref ds, (nuint)i);
                }
            }
            if (Simd.Enabled)
            {
                var m = Vector256.Create(mean); var s = Vector256.Create(invStd); var k = Vector256.Create(scale);
                var md = Vector256.Create(meanDy); var mh = Vector256.Create(meanDyXhat);
                for (; i <= plane - 8; i += 8)
                {
                    var v = k * (Vector256.LoadUnsafe(ref gs, (nuint)i) - md - (Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * s * mh);
                    v.StoreUnsafe(ref ds, (nuint)i);
                }
            }
            for (; i < plane; i++)
                Unsafe.Add(ref ds, i) = scale * (Unsafe.Add(ref gs, i) - meanDy - (Unsafe.Add(ref xs, i) - mean) * invStd * meanDyXhat);
        }

        // Σ x (or Σ (x − mean)² when squared) over one plane, in float.
        private static float PlaneSum(ReadOnlySpan<float> values, float mean, bool squared)
        {
            ref float xs = ref MemoryMarshal.GetReference(values);
            int i = 0;
            float sum = 0f;
            if (Simd.Enabled && values.Length >= 32)
            {
                var m = Vector256.Create(mean);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i <= values.Length - 32; i += 32)
                {
                    var v0 = Vector256.LoadUnsafe(ref xs, (nuint)i);
                    var v1 = Vector256.LoadUnsafe(ref xs, (nuint)(i + 8));
                    var v2 = Vector256.LoadUnsafe(ref xs, (nuint)(i + 16));
                    var v3 = Vector256.LoadUnsafe(ref xs, (nuint)(i + 24));
                    if (squared)
                    {
                        v0 -= m; v1 -= m; v2 -= m; v3 -= m;
                        a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
                    }
                    else
                    {
                        a0 += v0; a1 += v1; a2 += v2; a3 += v3;
                    }
                }
                sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            }
            for (; i < values.Length; i++)
            {
                float v = Unsafe.Add(ref xs, i);
                if (squared)
                {
                    v -= mean;
                    sum += v * v;
                }
                else
                {
                    sum += v;
                }
            }
            return sum;
        }

        private static void Check(int length, int batchSize, int channels, int plane, int channel, string name)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(plane);
            if ((uint)channel >= (uint)channels) throw new ArgumentOutOfRangeException(nameof(channel), channel, "Expected a channel below " + channels + ".");
            if (length < batchSize * channels * plane)
                throw new ArgumentException("Expected at least " + batchSize * channels * plane + " floats.", name);
        }
    }
}
