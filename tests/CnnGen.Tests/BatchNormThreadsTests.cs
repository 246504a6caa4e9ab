using System;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Kernels;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Networks with batch-norm trained on several threads: the statistics are the whole batch's (the threads combine
    /// their chunks' partial sums), so the run matches the one-thread run, and a thread count reproduces itself bit for bit.
    /// </summary>
    public sealed class BatchNormThreadsTests
    {
        private readonly ITestOutputHelper _output;

        public BatchNormThreadsTests(ITestOutputHelper output) => _output = output;

        private static INetwork Create(string name) => name switch
        {
            "batchnorm" => new BatchNormNet(),
            "resnet8" => new ResNet8(),
            "mobilenetv2" => new MobileNetV2(),
            _ => throw new ArgumentException(name),
        };

        /// <summary>A trained network's state after some steps, and each step's loss.</summary>
        private sealed record Run(float[] Losses, float[] Parameters, float[] Buffers, long[] Counters, int Threads);

        private static (float[] Images, int[] Labels) Batch(INetwork network, int batch, ulong seed)
        {
            var random = new CnnRandom(seed);
            var images = new float[batch * network.Layout.Input.Length];
            // Not centred on 0, so the batch mean matters and a chunk's mean differs from the batch's.
            for (int i = 0; i < images.Length; i++) images[i] = 0.5f + 2f * random.NextFloat();
            var labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = (int)(random.NextFloat() * network.Layout.Output.Channels) % network.Layout.Output.Channels;
            return (images, labels);
        }

        private static Run Train(string name, int threads, int batch, int steps, bool freezeStemInEvaluationMode = false, int nudgeEvery = 0)
        {
            var network = Create(name);
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 17);
            if (nudgeEvery > 0)
            {
                var parameters = network.Parameters;
                for (int i = 0; i < parameters.Length; i += nudgeEvery) parameters[i] = MathF.BitIncrement(parameters[i]);
            }
            var optimizer = new Sgd(network.Layout.ParameterCount, 0.05f, momentum: 0.9f);
            if (freezeStemInEvaluationMode)
                optimizer.Freeze(new ParameterMask(network).FreezeLayers(0, 1)).FreezeBatchNormStatistics = true;
            using var trainer = new Trainer(network, optimizer, batch, threads);
            var losses = new float[steps];
            for (int step = 0; step < steps; step++)
            {
                // The last step's batch is smaller than the capacity: its chunks differ from the others'.
                int size = step == steps - 1 ? batch - 1 : batch;
                var (images, labels) = Batch(network, size, (ulong)(100 + step));
                losses[step] = trainer.TrainStep(images, labels);
            }
            return new Run(losses, network.Parameters.ToArray(), network.Buffers.ToArray(), network.Counters.ToArray(), trainer.Threads);
        }

        public static readonly TheoryData<string, int, int> Cases = new()
        {
            // Uneven chunks (7 = 4 + 3, 7 = 3 + 2 + 2, 3 = 2 + 1), chunks of one sample (3 on 3 threads; the last step's
            // smaller batch: 2 on 3 threads leaves a thread idle, 2 on 2 threads is 1 + 1), which for BatchNormNet's
            // batch-norm over features (BatchNorm1d) is one value per channel in a chunk but more in the batch.
            { "batchnorm", 2, 7 }, { "batchnorm", 3, 7 }, { "batchnorm", 3, 3 }, { "batchnorm", 2, 3 },
            { "resnet8", 2, 6 }, { "resnet8", 3, 5 }, { "resnet8", 2, 7 },
            { "mobilenetv2", 2, 5 },
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void TrainingOnSeveralThreadsMatchesOneThread(string name, int threads, int batch)
        {
            // ResNet-8 one step here: from the second step on its runs may part by 1e-5 to 1e-4, which is the training's own
            // sensitivity, not the threads' (ResNet8OnSeveralThreadsPartsNoMoreThanOneThreadFromANudgedStart below).
            int steps = name == "resnet8" ? 1 : 4;
            var one = Train(name, 1, batch, steps);
            var many = Train(name, threads, batch, steps);
            Assert.Equal(1, one.Threads);
            Assert.Equal(threads, many.Threads);
            for (int step = 0; step < steps; step++)
                Assert.Equal(one.Losses[step], many.Losses[step], 1e-5f * Math.Max(1f, Math.Abs(one.Losses[step])));
            Compare.Close(many.Parameters, one.Parameters, 1e-5, name + " parameters");
            Compare.Close(many.Buffers, one.Buffers, 1e-5, name + " running statistics");
            Assert.Equal(one.Counters, many.Counters);
            Assert.All(many.Counters, c => Assert.Equal(steps, c));
            _output.WriteLine($"{name}, {threads} threads, batch {batch}: largest parameter difference {Compare.MaxError(many.Parameters, one.Parameters):E2}, buffers {Compare.MaxError(many.Buffers, one.Buffers):E2}");
        }

        [Theory]
        [InlineData(2, 6)]
        [InlineData(3, 5)]
        [InlineData(2, 7)]
        public void ResNet8OnSeveralThreadsPartsNoMoreThanOneThreadFromANudgedStart(int threads, int batch)
        {
            // From the second step on ResNet-8's runs on different thread counts may part by 1e-5 to 1e-4. One thread against
            // itself does the same from a start one ulp away (every parameter, or every 997th, nudged up), by the same discrete
            // jumps: measured 2026-12-01 over steps 1-4 (parameters, largest relative difference), threads / all nudged / every
            // 997th nudged — batch 5 on 3 threads, step 3: 7.66e-5 / 7.66e-5 / 7.66e-5, step 4: 1.8e-7 / 2.8e-4 / 1.2e-7;
            // batch 6 on 2, steps 3 and 4: 1.2e-7 / 2.9e-4 / 2.9e-4 and 1.2e-7 / 7.5e-4 / 7.5e-4; batch 7 on 2, step 3:
            // 2.8e-5 / 1.8e-7 / 1.05e-4; the first step 6e-8 to 2.4e-7 in every run (scalar and Vector256 paths, no
            // Winograd: batch 7 on 2, step 3, 2.79e-5 for the threads and the nudged start alike). The same jump from different
            // starts is a discontinuous gradient: one value landing on the other side of a kink (a ReLU's, by all appearances,
            // whose gradient switches on or off for it; batch-norm's backward spreads that over its channel): rounding decides,
            // not the threads. So three steps
            // here, held to what a one-ulp start does (twice the larger of the two nudged runs, or 1e-5 when neither parts),
            // and below 1e-3: threads normalizing with their own chunk's statistics instead of the batch's part by 5e-3 to 8e-3 here.
            // Four nudged starts (every parameter, every 997th, 101st, 13th): which of them trip the kink moves with any change
            // of the forward's rounding. Since training runs the stride-2 Winograd tiles (session 8), batch 5 on 3 threads
            // parts by 7.67e-5 at step 3, and so do the every-101st and every-13th starts (7.67e-5 both), where the first two
            // part by 2.4e-7 and 1.2e-7 only; batch 7 on 2: 1.05e-4, the every-997th start the same. Since the stride-2 input
            // gradient runs by Winograd (session 14), batch 5 on 3 threads parts by 7.66e-5 at step 3 and of the four starts
            // above none does (2.4e-7 at most), the every-7th start by the same 7.66e-5: six starts (every 7th and 3rd added).
            // Since the stride-2 and F(4x4) gradients run by Winograd on Vector256 too (session 58), batch 6 on 2 threads parts by
            // 3.00e-4 (parameters) and 6.84e-5 (running statistics) at step 3 on a machine without AVX-512, the six starts by at
            // most 1.68e-4 and 4.9e-6, the every-37th and every-41st starts by the same 3.00e-4 and 6.84e-5: eight starts.
            const int steps = 3;
            var one = Train("resnet8", 1, batch, steps);
            var many = Train("resnet8", threads, batch, steps);
            var nudged = new[] { 1, 997, 101, 13, 7, 3, 37, 41 }.Select(every => Train("resnet8", 1, batch, steps, nudgeEvery: every)).ToArray();
            foreach (var (what, of) in new (string, Func<Run, float[]>)[] { ("parameters", r => r.Parameters), ("running statistics", r => r.Buffers) })
            {
                double threadsApart = Compare.MaxError(of(many), of(one));
                double nudgedApart = nudged.Max(run => Compare.MaxError(of(run), of(one)));
                _output.WriteLine($"ResNet-8, {threads} threads, batch {batch}, {steps} steps, {what}: threads {threadsApart:E2}, one thread from a nudged start {nudgedApart:E2} ({string.Join(" / ", nudged.Select(run => Compare.MaxError(of(run), of(one)).ToString("E2")))})");
                Assert.True(threadsApart <= Math.Max(1e-5, 2 * nudgedApart) && threadsApart < 1e-3,
                    $"{what}: {threads} threads part from one by {threadsApart:E2}, one thread from a start one ulp away by {nudgedApart:E2}");
            }
            Assert.Equal(one.Counters, many.Counters);
        }

        [Theory]
        [InlineData("batchnorm", 3)]
        [InlineData("resnet8", 2)]
        public void AFrozenBatchNormInEvaluationModeStaysOutOfTheThreadsMeetings(string name, int threads)
        {
            // Layer 1 (a batch-norm) frozen with its running statistics: each thread normalizes its chunk with them, while
            // the trainable batch-norms still combine the whole batch's statistics across the threads.
            // Two steps (a full batch, then an uneven one): from the third on, this configuration is chaotic — a 1e-6 change of one
            // weight moves ResNet-8's parameters by 3e-4 after three steps, one thread against itself — so rounding would decide.
            const int steps = 2;
            var one = Train(name, 1, 6, steps, freezeStemInEvaluationMode: true);
            var many = Train(name, threads, 6, steps, freezeStemInEvaluationMode: true);
            var untrained = Create(name);
            Initialization.ResetParameters(untrained.Layout, untrained.Parameters, untrained.Buffers, untrained.Counters, 17);
            var frozen = untrained.Layout.Layers[1];
            Assert.Equal(LayerKind.BatchNorm, frozen.Kind);
            Assert.Equal(threads, many.Threads);
            for (int step = 0; step < steps; step++)
                Assert.Equal(one.Losses[step], many.Losses[step], 1e-5f * Math.Max(1f, Math.Abs(one.Losses[step])));
            _output.WriteLine($"{name}, {threads} threads, frozen stem: largest parameter difference {Compare.MaxError(many.Parameters, one.Parameters):E2}, buffers {Compare.MaxError(many.Buffers, one.Buffers):E2}, losses {string.Join(" ", one.Losses)}");
            Compare.Close(many.Parameters, one.Parameters, 1e-5, name + " parameters");
            Compare.Close(many.Buffers, one.Buffers, 1e-5, name + " running statistics");
            // The frozen batch-norm's running statistics and counter did not move; the others' did.
            var untouchedBuffers = untrained.Buffers.ToArray();
            var frozenBuffers = frozen.Tensors.Where(t => t.Block == TensorBlock.Buffers).ToArray();
            Assert.NotEmpty(frozenBuffers);
            foreach (var tensor in frozenBuffers)
                Assert.True(many.Buffers.AsSpan(tensor.Offset, tensor.Length).SequenceEqual(untouchedBuffers.AsSpan(tensor.Offset, tensor.Length)), tensor.Name + " moved");
            Assert.Equal(0, many.Counters[0]);
            Assert.All(many.Counters.Skip(1), c => Assert.Equal(steps, c));
        }

        [Theory]
        [InlineData("batchnorm", 3, 7)]
        [InlineData("resnet8", 2, 6)]
        public void TheSameThreadCountReproducesBitForBit(string name, int threads, int batch)
        {
            var first = Train(name, threads, batch, 3);
            var second = Train(name, threads, batch, 3);
            Assert.Equal(first.Losses, second.Losses);
            Assert.True(first.Parameters.AsSpan().SequenceEqual(second.Parameters), "parameters differ between two identical runs");
            Assert.True(first.Buffers.AsSpan().SequenceEqual(second.Buffers), "running statistics differ between two identical runs");
        }

        [Fact]
        public void ABatchWithOneValuePerChannelIsRefusedBeforeAnyThreadStarts()
        {
            // BatchNormNet's last batch-norm is over features: one sample gives one value per channel, as PyTorch refuses.
            INetwork network = new BatchNormNet();
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 3);
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.1f), 4, threads: 2);
            var (images, labels) = Batch(network, 1, 5);
            var buffers = network.Buffers.ToArray();
            var error = Assert.Throws<ArgumentException>(() => trainer.TrainStep(images, labels));
            Assert.Contains("more than 1 value per channel", error.Message);
            Assert.Equal(buffers, network.Buffers.ToArray());
            Assert.Equal(0, trainer.Steps);
        }

        [Fact]
        public void ABatchOfOneSampleTrainsOnOneThreadWhenItsPlanesHoldSeveralValues()
        {
            // ResNet-8 normalizes 2-d planes only: one sample is enough, and the trainer's second thread has nothing to do.
            INetwork network = new ResNet8();
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 3);
            INetwork reference = new ResNet8();
            network.Parameters.CopyTo(reference.Parameters);
            network.Buffers.CopyTo(reference.Buffers);
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.1f), 4, threads: 2);
            using var single = new Trainer(reference, new Sgd(reference.Layout.ParameterCount, 0.1f), 4, threads: 1);
            var (images, labels) = Batch(network, 1, 5);
            float expected = single.TrainStep(images, labels);
            Assert.Equal(expected, trainer.TrainStep(images, labels), 1e-6f * Math.Abs(expected));
            Compare.Close(network.Parameters, reference.Parameters, 1e-6, "parameters");
            Compare.Close(network.Buffers, reference.Buffers, 1e-6, "running statistics");
            Assert.Equal(reference.Counters.ToArray(), network.Counters.ToArray());
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void AWorkerThatThrowsReleasesTheOthersAndTheStepIsUndone(bool inBackward)
        {
            // The second thread's workspace fails in its forward (the first waits at the first batch-norm) or its backward
            // (the first waits at the last batch-norm's backward). The step must end with that exception, undo everything,
            // and the trainer must train normally afterwards.
            var network = new FailingNetwork(new ResNet8());
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 9);
            var optimizer = new Sgd(network.Layout.ParameterCount, 0.05f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, 4, threads: 2);
            var (images, labels) = Batch(network, 4, 21);
            trainer.TrainStep(images, labels);
            var parameters = network.Parameters.ToArray();
            var buffers = network.Buffers.ToArray();
            var counters = network.Counters.ToArray();
            var velocity = optimizer.State[0].Value.ToArray();

            network.FailingWorkspace = network.Workspaces[1];
            network.FailInBackward = inBackward;
            var step = Task.Run(() => trainer.TrainStep(images, labels));
            Assert.True(Finishes(step), "the step hung");
            var error = Assert.IsType<InvalidOperationException>(step.Exception!.InnerException);
            Assert.Equal(FailingNetwork.Message, error.Message);
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(buffers, network.Buffers.ToArray());
            Assert.Equal(counters, network.Counters.ToArray());
            Assert.Equal(velocity, optimizer.State[0].Value);
            Assert.Equal(1, trainer.Steps);

            // The team works again, and the run is bit for bit the run in which the failed step never happened.
            network.FailingWorkspace = null;
            trainer.TrainStep(images, labels);
            INetwork reference = new ResNet8();
            Initialization.ResetParameters(reference.Layout, reference.Parameters, reference.Buffers, reference.Counters, 9);
            using var referenceTrainer = new Trainer(reference, new Sgd(reference.Layout.ParameterCount, 0.05f, momentum: 0.9f), 4, threads: 2);
            referenceTrainer.TrainStep(images, labels);
            referenceTrainer.TrainStep(images, labels);
            Assert.True(network.Parameters.SequenceEqual(reference.Parameters), "parameters differ from the run without the failed step");
            Assert.True(network.Buffers.SequenceEqual(reference.Buffers), "running statistics differ from the run without the failed step");
            Assert.Equal(reference.Counters.ToArray(), network.Counters.ToArray());
            Assert.Equal(2, trainer.Steps);
        }

        [Fact]
        public void ANonFiniteInputInOneThreadsChunkThrowsDivergedAndUndoesTheStep()
        {
            INetwork network = new ResNet8();
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 9);
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.05f), 4, threads: 2);
            var (images, labels) = Batch(network, 4, 21);
            var parameters = network.Parameters.ToArray();
            var buffers = network.Buffers.ToArray();
            images[3 * network.Layout.Input.Length + 5] = float.NaN; // the second thread's chunk
            var step = Task.Run(() => trainer.TrainStep(images, labels));
            Assert.True(Finishes(step), "the step hung");
            Assert.IsType<TrainingDivergedException>(step.Exception!.InnerException);
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(buffers, network.Buffers.ToArray());
            Assert.All(network.Counters.ToArray(), c => Assert.Equal(0, c));
            Assert.Equal(0, trainer.Steps);
        }

        /// <summary>
        /// The team's forward and backward against the definition in double precision, on threads of its own: uneven chunks,
        /// values far from 0 (so a chunk's shift and the batch mean differ and the combination has to be exact), and a
        /// thread that is late now and then, so the others block rather than spin (and allocate nothing doing so); meetings
        /// a channel at a time, a few channels at a time (uneven chunks: a different number per thread, and a last meeting
        /// with fewer), and once per layer.
        /// </summary>
        [Theory]
        [InlineData(1, 6, 100, 2, 1)]       // BatchNormNet's BatchNorm2d over 6 channels of 10x10
        [InlineData(1, 6, 100, 2, 1000)]    // chunks of 400 and 300 values per channel: meetings of 3 and 4 channels
        [InlineData(5, 8, 9, 3, 1)]         // its second, over 8 channels of 3x3
        [InlineData(5, 8, 9, 3, 50)]        // chunks of 27, 18, 18 values: meetings of 2 and 3 channels (8 = 3 + 3 + 2)
        [InlineData(9, 16, 1, 3, 1)]        // its BatchNorm1d over 16 features: chunks of 3, 2, 2 values per channel
        [InlineData(9, 16, 1, 2, 1)]
        [InlineData(9, 16, 1, 3, int.MaxValue)] // one meeting for the whole layer
        public void TeamStatisticsAndGradientsMatchTheDefinition(int layer, int channels, int plane, int threads, int meetingValues)
        {
            const int batch = 7; // chunks 4 + 3, or 3 + 2 + 2
            var layout = BatchNormNet.Layout;
            Assert.Equal(LayerKind.BatchNorm, layout.Layers[layer].Kind);
            var team = new BatchStatisticsTeam(layout, threads) { MeetingValues = meetingValues };
            var random = new CnnRandom(5);
            int sample = channels * plane, length = batch * sample;
            float[] x = new float[length], dy = new float[length], y = new float[length], dx = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = 1000f + 3f * random.NextFloat() + (i / sample) * 0.5f; // chunks with different means
                dy[i] = random.NextFloat() - 0.4f;
            }
            var p = new float[2 * channels];
            for (int c = 0; c < channels; c++)
            {
                p[c] = 0.5f + random.NextFloat();
                p[channels + c] = random.NextFloat() - 0.5f;
            }
            var running = new float[2 * channels];
            for (int c = 0; c < channels; c++) running[channels + c] = 1f;
            var dp = new float[threads][];
            var means = new float[threads][];
            var invStds = new float[threads][];
            long tracked = 0;
            // What thread 0 allocates in the rounds where it blocks for the late thread (after the first few, so warmed up).
            long blockedAllocations = long.MaxValue;

            for (int round = 0; round < 20; round++)
            {
                team.Begin(threads);
                var workers = new System.Threading.Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    int member = t;
                    dp[member] = new float[2 * channels];
                    means[member] = new float[channels];
                    invStds[member] = new float[channels];
                    workers[t] = new System.Threading.Thread(() =>
                    {
                        int start = member * (batch / threads) + Math.Min(member, batch % threads);
                        int count = batch / threads + (member < batch % threads ? 1 : 0);
                        // The last thread is late now and then: the others block waiting for its sums.
                        if (member == threads - 1 && round % 4 == 1) System.Threading.Thread.Sleep(20);
                        long allocated = GC.GetAllocatedBytesForCurrentThread();
                        team.Forward(member, layer, x.AsSpan(start * sample, count * sample), y.AsSpan(start * sample, count * sample), count, channels, plane,
                            p, running, ref tracked, means[member], invStds[member], 1e-5f, 0.9f, 0.1f);
                        if (member == 0 && round % 4 == 3) System.Threading.Thread.Sleep(20);
                        team.Backward(member, layer, x.AsSpan(start * sample, count * sample), dy.AsSpan(start * sample, count * sample), count, channels, plane,
                            p, dp[member], means[member], invStds[member], dx.AsSpan(start * sample, count * sample));
                        if (member == 0 && round >= 8 && round % 4 == 1)
                            blockedAllocations = Math.Min(blockedAllocations, GC.GetAllocatedBytesForCurrentThread() - allocated);
                    });
                    workers[t].Start();
                }
                foreach (var worker in workers) Assert.True(worker.Join(TimeSpan.FromMinutes(2)), "a meeting hung");
            }
            Assert.Equal(20, tracked);
            Assert.Equal(0, blockedAllocations); // a thread blocked waiting for a partner's sums allocates nothing

            int values = batch * plane;
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++) for (int i = 0; i < plane; i++) sum += x[(n * channels + c) * plane + i];
                double mean = sum / values, squares = 0;
                for (int n = 0; n < batch; n++) for (int i = 0; i < plane; i++) squares += Math.Pow(x[(n * channels + c) * plane + i] - mean, 2);
                double invStd = 1 / Math.Sqrt(squares / values + 1e-5);
                for (int t = 0; t < threads; t++)
                {
                    // Every thread holds the same statistics, bit for bit.
                    Assert.Equal(means[0][c], means[t][c]);
                    Assert.Equal(invStds[0][c], invStds[t][c]);
                }
                Assert.Equal(mean, means[0][c], 1e-6 * mean);
                Assert.Equal(invStd, invStds[0][c], 1e-6 * invStd);
                // Normalization and backward then use those float statistics (as with one thread, and as PyTorch keeps them).
                double usedMean = means[0][c], usedInvStd = invStds[0][c];
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < batch; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        double xhat = (x[at] - usedMean) * usedInvStd;
                        Assert.Equal(xhat * p[c] + p[channels + c], y[at], 1e-5);
                        sumDy += dy[at];
                        sumDyXhat += dy[at] * xhat;
                    }
                }
                double gammaGradient = 0, betaGradient = 0;
                for (int t = 0; t < threads; t++)
                {
                    gammaGradient += dp[t][c];
                    betaGradient += dp[t][channels + c];
                }
                Assert.Equal(sumDyXhat, gammaGradient, 1e-5 * Math.Max(1, Math.Abs(sumDyXhat)));
                Assert.Equal(sumDy, betaGradient, 1e-5);
                for (int n = 0; n < batch; n++)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        int at = (n * channels + c) * plane + i;
                        double xhat = (x[at] - usedMean) * usedInvStd;
                        double expected = p[c] * usedInvStd * (dy[at] - sumDy / values - xhat * sumDyXhat / values);
                        Assert.Equal(expected, dx[at], 1e-5);
                    }
                }
                // The running statistics moved 20 times toward the batch's (the variance unbiased), once per round.
                double keep = Math.Pow(0.9, 20);
                Assert.Equal(mean * (1 - keep), running[c], 1e-3);
                Assert.Equal(keep + squares / (values - 1) * (1 - keep), running[channels + c], 1e-4);
            }
        }

        /// <summary>
        /// How many channels the threads publish at a meeting changes when they wait, not what they compute: the statistics,
        /// outputs, gradients and running statistics are the same floats for meetings a channel at a time, a few channels at a
        /// time (different on each thread, the chunks being uneven) and once per layer.
        /// </summary>
        [Theory]
        [InlineData(1, 6, 100, 2)]
        [InlineData(5, 8, 9, 3)]
        [InlineData(9, 16, 1, 3)]
        public void MeetingsOfSeveralChannelsGiveTheSameFloatsAsOneChannelAtATime(int layer, int channels, int plane, int threads)
        {
            var perChannel = TeamPass(layer, channels, plane, threads, meetingValues: 1);
            foreach (int meetingValues in new[] { 2, 50, 1000, int.MaxValue })
            {
                var grouped = TeamPass(layer, channels, plane, threads, meetingValues);
                for (int i = 0; i < perChannel.Length; i++) Assert.Equal(perChannel[i], grouped[i]);
            }
        }

        /// <summary>
        /// Sums a thread added sample by sample in the convolution's loop (BatchNormalization.AddSampleSums, then one meeting
        /// for the layer) give the same floats as the team's own pass over the chunk.
        /// </summary>
        [Theory]
        [InlineData(1, 6, 100, 2)]
        [InlineData(5, 8, 9, 3)]
        [InlineData(9, 16, 1, 3)]
        public void SumsAddedSampleBySampleGiveTheSameFloatsAsTheTeamsOwnPass(int layer, int channels, int plane, int threads)
        {
            var own = TeamPass(layer, channels, plane, threads, meetingValues: BatchStatisticsTeam.DefaultMeetingValues);
            var added = TeamPass(layer, channels, plane, threads, meetingValues: BatchStatisticsTeam.DefaultMeetingValues, sampleSums: true);
            for (int i = 0; i < own.Length; i++) Assert.Equal(own[i], added[i]);
        }

        // One forward and backward of the team over a batch of 7 (uneven chunks), two rounds (the running statistics move
        // twice); everything it wrote, end to end: y, dx, each thread's dp, means and 1/std, the running statistics. With
        // sampleSums each thread hands the forward its chunk's sums, added sample by sample as training's convolution loop does.
        private static float[][] TeamPass(int layer, int channels, int plane, int threads, int meetingValues, bool sampleSums = false)
        {
            const int batch = 7;
            var team = new BatchStatisticsTeam(BatchNormNet.Layout, threads) { MeetingValues = meetingValues };
            var random = new CnnRandom(11);
            int sample = channels * plane, length = batch * sample;
            float[] x = new float[length], dy = new float[length], y = new float[length], dx = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = 100f + 3f * random.NextFloat() + (i / sample) * 0.25f;
                dy[i] = random.NextFloat() - 0.4f;
            }
            var p = new float[2 * channels];
            for (int c = 0; c < 2 * channels; c++) p[c] = 0.5f + random.NextFloat();
            var running = new float[2 * channels];
            var results = new System.Collections.Generic.List<float[]> { y, dx, running };
            long tracked = 0;
            for (int round = 0; round < 2; round++)
            {
                team.Begin(threads);
                var workers = new System.Threading.Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    int member = t;
                    float[] dp = new float[2 * channels], means = new float[channels], invStds = new float[channels];
                    results.Add(dp);
                    results.Add(means);
                    results.Add(invStds);
                    workers[t] = new System.Threading.Thread(() =>
                    {
                        int start = member * (batch / threads) + Math.Min(member, batch % threads);
                        int count = batch / threads + (member < batch % threads ? 1 : 0);
                        var chunk = x.AsSpan(start * sample, count * sample);
                        double[] sums = sampleSums ? new double[channels * BatchNormalization.SampleSumsWidth] : Array.Empty<double>();
                        for (int n = 0; sampleSums && n < count; n++) BatchNormalization.AddSampleSums(chunk.Slice(n * sample, sample), channels, plane, n == 0, sums);
                        team.Forward(member, layer, chunk, y.AsSpan(start * sample, count * sample), count, channels, plane,
                            p, running, ref tracked, means, invStds, 1e-5f, 0.9f, 0.1f, relu: false, sampleSums: sums);
                        team.Backward(member, layer, chunk, dy.AsSpan(start * sample, count * sample), count, channels, plane,
                            p, dp, means, invStds, dx.AsSpan(start * sample, count * sample));
                    });
                    workers[t].Start();
                }
                foreach (var worker in workers) Assert.True(worker.Join(TimeSpan.FromMinutes(2)), "a meeting hung");
            }
            return results.ToArray();
        }

        /// <summary>Whether the task ends (faulted or not) within two minutes: a hung step fails the test instead of the test run.</summary>
        private static bool Finishes(Task task) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(2));

        /// <summary>A network that throws from one chosen workspace's forward or backward, to fail one worker of a trainer.</summary>
        /// <summary>A network whose chosen workspace fails in forward or backward (ParallelTailTrainingTests uses it too).</summary>
        internal sealed class FailingNetwork : INetwork
        {
            public const string Message = "This worker fails on purpose.";
            private readonly INetwork _inner;

            public FailingNetwork(INetwork inner) => _inner = inner;

            public System.Collections.Generic.List<NetworkWorkspace> Workspaces { get; } = new();
            public NetworkWorkspace? FailingWorkspace { get; set; }
            public bool FailInBackward { get; set; }

            public NetworkLayout Layout => _inner.Layout;
            public Span<float> Parameters => _inner.Parameters;
            public Span<float> Buffers => _inner.Buffers;
            public Span<long> Counters => _inner.Counters;

            public NetworkWorkspace CreateWorkspace(int batchCapacity = 1, ulong dropoutSeed = 0)
            {
                var workspace = _inner.CreateWorkspace(batchCapacity, dropoutSeed);
                Workspaces.Add(workspace);
                return workspace;
            }

            public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace, bool training = false)
            {
                if (!FailInBackward && workspace == FailingWorkspace) throw new InvalidOperationException(Message);
                _inner.Forward(input, output, batchSize, workspace, training);
            }

            public void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient = default)
            {
                if (FailInBackward && workspace == FailingWorkspace) throw new InvalidOperationException(Message);
                _inner.Backward(outputGradient, parameterGradients, workspace, inputGradient);
            }
        }
    }

    [Collection(nameof(AllocationTests))]
    public sealed class BatchNormThreadsAllocationTests
    {
        [Theory]
        [InlineData("batchnorm", 7)]
        [InlineData("resnet8", 8)]
        [InlineData("transposed", 10)] // transposed layers on prepared weights, the weight gradient of one summed over the batch
        public void TrainStepOnTwoThreadsAllocatesNothingAfterWarmUp(string name, int batch)
        {
            INetwork network = name switch { "batchnorm" => new BatchNormNet(), "transposed" => new TransposedGeneratorNet(), _ => new ResNet8() };
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 4);
            var random = new CnnRandom(8);
            var images = new float[batch * network.Layout.Input.Length];
            for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
            var labels = Enumerable.Range(0, batch).Select(i => i % network.Layout.Output.Channels).ToArray();
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.01f, momentum: 0.9f), batch, threads: 2);
            Assert.Equal(2, trainer.Threads);
            // Warm up past tiered compilation on both threads, then measure the process (the second thread allocates too if anything does).
            for (int step = 0; step < 40; step++) trainer.TrainStep(images, labels);
            System.Threading.Thread.Sleep(300);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            trainer.TrainStep(images, labels);
            Allocations.AssertNone(() => trainer.TrainStep(images, labels), calls: 20);
            // The process's count also holds whatever other test collections allocate meanwhile, so take the quietest of a
            // few rounds: a worker thread allocating per step shows in every round.
            long fewest = long.MaxValue;
            for (int round = 0; round < 5 && fewest >= 64 * 1024; round++)
            {
                long process = GC.GetTotalAllocatedBytes(precise: true);
                for (int step = 0; step < 20; step++) trainer.TrainStep(images, labels);
                fewest = Math.Min(fewest, GC.GetTotalAllocatedBytes(precise: true) - process);
            }
            // The worker thread allocating per step would show as at least 20 allocations; the runtime's own bookkeeping is a few KB.
            Assert.True(fewest < 64 * 1024, $"the process allocated {fewest} bytes over 20 steps in the quietest of 5 rounds");
        }
    }
}
