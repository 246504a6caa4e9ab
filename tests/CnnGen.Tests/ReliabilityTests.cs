using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using CnnGen.IO;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// A hand-written network (one Linear layer's layout) whose forward and backward are scripted by the test: it produces
    /// chosen gradients, blocks inside Forward on request, and uses the workspace guard the generated code calls.
    /// </summary>
    internal sealed class ScriptedNetwork : INetwork
    {
        private readonly float[] _parameters;

        public ScriptedNetwork(int inputs = 4, int classes = 3)
        {
            Layout = ShapeInference.Infer(TensorShape.Vector(inputs), new[] { LayerSpec.Linear(classes) });
            _parameters = new float[Layout.ParameterCount];
        }

        public NetworkLayout Layout { get; }
        public Span<float> Parameters => _parameters;
        public Span<float> Buffers => Span<float>.Empty;
        public Span<long> Counters => Span<long>.Empty;

        /// <summary>The value every parameter gradient gets in Backward.</summary>
        public float Gradient { get; set; } = 0.5f;

        /// <summary>Parameters whose gradient is <see cref="GradientAtValue"/> instead (none when null).</summary>
        public int[]? GradientAt { get; set; }
        public float GradientAtValue { get; set; }

        /// <summary>When set, Forward signals <see cref="Entered"/> and waits for <see cref="Release"/> (at most 2 s).</summary>
        public bool Block { get; set; }
        public ManualResetEventSlim Entered { get; } = new(false);
        public ManualResetEventSlim Release { get; } = new(false);

        public NetworkWorkspace CreateWorkspace(int batchCapacity = 1, ulong dropoutSeed = 0) => new ScriptedWorkspace(batchCapacity, dropoutSeed, Layout);

        public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace, bool training = false)
        {
            // What the generated Forward does first: the guard, then the body in try/finally.
            workspace.EnterUse();
            try
            {
                NetworkChecks.RequireBatch(batchSize, workspace.BatchCapacity);
                if (Block)
                {
                    Entered.Set();
                    Release.Wait(2000);
                }
                for (int i = 0; i < output.Length; i++) output[i] = input[i % input.Length] * 0.01f;
                ((ScriptedWorkspace)workspace).TrainingBatch = training ? batchSize : 0;
            }
            finally
            {
                workspace.ExitUse();
            }
        }

        public void Backward(ReadOnlySpan<float> outputGradient, Span<float> parameterGradients, NetworkWorkspace workspace, Span<float> inputGradient = default)
        {
            workspace.EnterUse();
            try
            {
                parameterGradients.Fill(Gradient);
                foreach (int i in GradientAt ?? Array.Empty<int>()) parameterGradients[i] = GradientAtValue;
            }
            finally
            {
                workspace.ExitUse();
            }
        }
    }

    internal sealed class ScriptedWorkspace : NetworkWorkspace
    {
        public ScriptedWorkspace(int batchCapacity, ulong dropoutSeed, NetworkLayout layout) : base(batchCapacity, dropoutSeed)
        {
            // What the generated constructor does first: refuse a capacity whose arrays cannot exist.
            NetworkChecks.RequireCapacity(batchCapacity, NetworkChecks.LargestSampleLength(layout), "ScriptedNetwork");
        }

        public int TrainingBatch;
    }

    /// <summary>Issue 16: transactional steps, validate-then-apply checkpoints, concurrency guards, safe weight swaps.</summary>
    public sealed class ReliabilityTests
    {
        private readonly ITestOutputHelper _output;

        public ReliabilityTests(ITestOutputHelper output) => _output = output;

        private static float[] Random(int length, ulong seed, float scale = 1)
        {
            var random = new CnnRandom(seed);
            var values = new float[length];
            for (int i = 0; i < values.Length; i++) values[i] = random.NextUniform(-scale, scale);
            return values;
        }

        private static (float[] Parameters, float[] Buffers, long[] Counters, float[][] State, long Step) Snapshot(INetwork network, Optimizer optimizer) =>
            (network.Parameters.ToArray(), network.Buffers.ToArray(), network.Counters.ToArray(),
             optimizer.State.Select(s => (float[])s.Value.Clone()).ToArray(), optimizer.StepCount);

        private static void AssertUnchanged((float[] Parameters, float[] Buffers, long[] Counters, float[][] State, long Step) before, INetwork network, Optimizer optimizer)
        {
            Assert.Equal(before.Parameters, network.Parameters.ToArray());
            Assert.Equal(before.Buffers, network.Buffers.ToArray());
            Assert.Equal(before.Counters, network.Counters.ToArray());
            Assert.Equal(before.Step, optimizer.StepCount);
            var state = optimizer.State.Select(s => s.Value).ToArray();
            for (int i = 0; i < state.Length; i++) Assert.Equal(before.State[i], state[i]);
        }

        // ---- Transactional steps -------------------------------------------------------------------------------------

        /// <summary>A NaN in the batch: the step is refused and nothing moves, batch-norm statistics and counters included.</summary>
        [Fact]
        public void ADivergedStepLeavesBatchNormStatisticsCountersAndOptimizerAsTheyWere()
        {
            var network = new BatchNormNet();
            network.ResetParameters(3);
            var optimizer = new Sgd(BatchNormNet.ParameterCount, 0.1f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, batchCapacity: 4);
            var images = Random(4 * BatchNormNet.InputLength, 1);
            var labels = new[] { 0, 1, 2, 3 };
            trainer.TrainStep(images, labels); // a good step first, so the momentum buffer and statistics are not trivial
            var before = Snapshot(network, optimizer);

            images[5] = float.NaN;
            var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(images, labels));
            Assert.Equal(2, error.Step);
            AssertUnchanged(before, network, optimizer);
            Assert.Equal(1, trainer.Steps);

            // And training goes on from there as if the bad batch had never come.
            images[5] = 0.25f;
            Assert.True(float.IsFinite(trainer.TrainStep(images, labels)));
            Assert.Equal(2, trainer.Steps);
        }

        /// <summary>A finite loss with a non-finite gradient (what huge inputs produce) is refused too.</summary>
        [Fact]
        public void ANonFiniteGradientIsRefusedEvenWhenTheLossIsFinite()
        {
            var network = new ScriptedNetwork { Gradient = float.PositiveInfinity };
            network.Parameters.Fill(0.5f);
            var optimizer = new Sgd(network.Layout.ParameterCount, 0.1f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, batchCapacity: 2, threads: 1);
            var before = Snapshot(network, optimizer);
            var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(new float[8], new[] { 0, 1 }));
            Assert.Contains("gradient", error.Message);
            AssertUnchanged(before, network, optimizer);
            Assert.Equal(0, trainer.Steps);
        }

        /// <summary>Finite gradients whose update overflows (3e38 x lr 10): the update is rolled back, momentum and step count too.</summary>
        [Fact]
        public void AnUpdateThatOverflowsIsRolledBack()
        {
            var network = new ScriptedNetwork { Gradient = 3e38f };
            network.Parameters.Fill(0.5f);
            var optimizer = new Sgd(network.Layout.ParameterCount, 10f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, batchCapacity: 2, threads: 1);
            var before = Snapshot(network, optimizer);
            var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(new float[8], new[] { 0, 1 }));
            Assert.Contains("update", error.Message);
            AssertUnchanged(before, network, optimizer);
            Assert.Equal(0, trainer.Steps);
        }

        /// <summary>
        /// Huge but finite inputs, at every magnitude up to float's limit: each step either leaves every parameter and
        /// optimizer value finite or is refused with nothing changed. Never non-finite weights after a "successful" step.
        /// </summary>
        [Fact]
        public void HugeFiniteInputsNeverLeaveNonFiniteWeights()
        {
            foreach (float magnitude in new[] { 1e6f, 1e12f, 1e18f, 1e24f, 1e30f, 1e36f, 3e38f })
            {
                var network = new LeNet5();
                network.ResetParameters(2);
                var optimizer = new Adam(LeNet5.ParameterCount, 0.01f);
                using var trainer = new Trainer(network, optimizer, batchCapacity: 4, threads: 1);
                var images = Random(4 * LeNet5.InputLength, 9, magnitude);
                var labels = new[] { 0, 3, 5, 9 };
                for (int step = 0; step < 3; step++)
                {
                    var before = Snapshot(network, optimizer);
                    try
                    {
                        trainer.TrainStep(images, labels);
                        Assert.True(network.Parameters.ToArray().All(float.IsFinite), $"non-finite weights after a step at {magnitude}");
                        Assert.True(optimizer.State.All(s => s.Value.All(float.IsFinite)), $"non-finite optimizer state after a step at {magnitude}");
                    }
                    catch (TrainingDivergedException)
                    {
                        AssertUnchanged(before, network, optimizer);
                    }
                }
            }
        }

        // ---- Concurrency guards ----------------------------------------------------------------------------------------

        /// <summary>A second thread calling TrainStep on a trainer that is mid-step gets an exception naming the trainer.</summary>
        [Fact]
        public void TwoThreadsOnOneTrainerAreDetected()
        {
            var network = new ScriptedNetwork { Block = true };
            using var trainer = new Trainer(network, new Sgd(network.Layout.ParameterCount, 0.1f), batchCapacity: 2, threads: 1);
            var first = new Thread(() => trainer.TrainStep(new float[8], new[] { 0, 1 }));
            first.Start();
            Assert.True(network.Entered.Wait(5000));
            try
            {
                var error = Assert.Throws<InvalidOperationException>(() => trainer.TrainStep(new float[8], new[] { 0, 1 }));
                Assert.Contains("Trainer", error.Message);
                Assert.Throws<InvalidOperationException>(() => trainer.Evaluate(new float[8], new[] { 0, 1 }));
            }
            finally
            {
                network.Release.Set();
                first.Join();
            }
            network.Block = false;
            trainer.TrainStep(new float[8], new[] { 0, 1 }); // free again once the first call returned
            Assert.Equal(2, trainer.Steps);
        }

        /// <summary>The workspace guard (what generated Forward and Backward call): a second user of a busy workspace throws.</summary>
        [Fact]
        public void TwoThreadsOnOneWorkspaceAreDetected()
        {
            var network = new ScriptedNetwork { Block = true };
            var workspace = network.CreateWorkspace(2);
            var first = new Thread(() => network.Forward(new float[8], new float[6], 2, workspace));
            first.Start();
            Assert.True(network.Entered.Wait(5000));
            try
            {
                var error = Assert.Throws<InvalidOperationException>(() => network.Forward(new float[8], new float[6], 2, workspace));
                Assert.Contains(nameof(ScriptedWorkspace), error.Message);
                Assert.Throws<InvalidOperationException>(() => network.Backward(new float[6], new float[network.Layout.ParameterCount], workspace));
            }
            finally
            {
                network.Release.Set();
                first.Join();
            }
            network.Block = false;
            network.Forward(new float[8], new float[6], 2, workspace); // released: usable again
            // A call that throws inside releases the workspace too.
            Assert.Throws<ArgumentOutOfRangeException>(() => network.Forward(new float[8], new float[6], 3, workspace));
            network.Forward(new float[8], new float[6], 2, workspace);
        }

        /// <summary>Many threads hammering one workspace through the guard: every collision is an exception, never a silent overlap.</summary>
        [Fact]
        public void TheWorkspaceGuardNeverLetsTwoCallsOverlap()
        {
            var workspace = new ScriptedNetwork().CreateWorkspace(1);
            int inside = 0, overlaps = 0, refused = 0, ran = 0;
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                for (int k = 0; k < 20_000; k++)
                {
                    try
                    {
                        workspace.EnterUse();
                    }
                    catch (InvalidOperationException)
                    {
                        Interlocked.Increment(ref refused);
                        continue;
                    }
                    if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
                    Interlocked.Increment(ref ran);
                    Interlocked.Decrement(ref inside);
                    workspace.ExitUse();
                }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            _output.WriteLine($"{ran} entries, {refused} refused, {overlaps} overlaps");
            Assert.Equal(0, overlaps);
            Assert.Equal(80_000, ran + refused);
        }

        // ---- Capacity -------------------------------------------------------------------------------------------------

        [Fact]
        public void AHugeBatchCapacityIsRefusedWithAPlainMessage()
        {
            var network = new LeNet5();
            var optimizer = new Sgd(LeNet5.ParameterCount, 0.1f);
            foreach (int capacity in new[] { 3_000_000, 100_000_000, int.MaxValue })
            {
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(network, optimizer, capacity, threads: 1));
                Assert.Contains(capacity.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), error.Message);
                Assert.DoesNotContain("-", error.Message.Replace("-bit", ""));
                Assert.Contains("at most", error.Message);
            }

            // The check the generated workspace constructor calls (see ScriptedWorkspace), with the largest per-sample array.
            long largest = NetworkChecks.LargestSampleLength(LeNet5.Layout);
            Assert.Equal(4704, largest); // 6x28x28, Conv2d #0's output
            var direct = Assert.Throws<ArgumentOutOfRangeException>(() => NetworkChecks.RequireCapacity(int.MaxValue, largest, "LeNet5"));
            Assert.Contains("LeNet5", direct.Message);
            Assert.Contains("2,147,483,647", direct.Message);
            NetworkChecks.RequireCapacity(1000, largest, "LeNet5");
            Assert.Throws<ArgumentOutOfRangeException>(() => new ScriptedNetwork(inputs: 1 << 20).CreateWorkspace(1 << 12));
        }

        // ---- The generated code's hooks (unskip once the emitter calls them; see NetworkWorkspace.EnterUse, NetworkChecks.RequireCapacity) ----


        [Fact]
        public void GeneratedWorkspacesRefuseAHugeCapacityWithAPlainMessage()
        {
            foreach (int capacity in new[] { 3_000_000, int.MaxValue })
            {
                var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5().CreateWorkspace(capacity));
                Assert.Contains("LeNet5", error.Message);
                Assert.Contains(capacity.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), error.Message);
                Assert.Throws<ArgumentOutOfRangeException>(() => ((INetwork)new LeNet5()).CreateWorkspace(capacity));
            }
        }

        [Fact]
        public void GeneratedForwardOnASharedWorkspaceThrowsInsteadOfMixing()
        {
            var network = new LeNet5();
            var workspace = network.CreateWorkspace(4);
            var input = Random(4 * LeNet5.InputLength, 3);
            var expected = new float[4 * LeNet5.OutputLength];
            network.Forward(input, expected, 4, workspace);
            long refused = 0, wrong = 0;
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                var output = new float[expected.Length];
                for (int k = 0; k < 2000; k++)
                {
                    try
                    {
                        network.Forward(input, output, 4, workspace);
                        if (!output.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref wrong);
                    }
                    catch (InvalidOperationException error) when (error.Message.Contains("Workspace"))
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            _output.WriteLine($"{refused} overlapping calls refused, {wrong} wrong outputs");
            Assert.Equal(0, wrong);
            Assert.True(refused > 0);
        }

        // ---- Safe weight swaps ---------------------------------------------------------------------------------------

        /// <summary>
        /// Four threads infer without pause while a fifth swaps weights A and B in, from memory and from files: every output
        /// is exactly A's or exactly B's, never a mix.
        /// </summary>
        [Fact]
        public void SwappingWeightsUnderLoadGivesEveryInferenceTheOldOrTheNewWeightsEntirely()
        {
            var a = new SmallNet();
            a.ResetParameters(1);
            var b = new SmallNet();
            b.ResetParameters(2);
            string folder = Directory.CreateTempSubdirectory("cnngen-host-").FullName;
            try
            {
                string fileA = Path.Combine(folder, "a.safetensors"), fileB = Path.Combine(folder, "b.safetensors");
                NetworkWeights.Save(a, fileA);
                NetworkWeights.Save(b, fileB);
                const int batch = 8;
                var input = Random(batch * SmallNet.InputLength, 4);
                var expectedA = new float[batch * SmallNet.OutputLength];
                var expectedB = new float[expectedA.Length];
                a.Forward(input, expectedA, batch, a.CreateWorkspace(batch));
                b.Forward(input, expectedB, batch, b.CreateWorkspace(batch));
                Assert.NotEqual(expectedA, expectedB);

                var host = new ModelHost<SmallNet>(a);
                int stop = 0;
                long mixed = 0, sawA = 0, sawB = 0;
                var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
                {
                    var workspace = host.Current.CreateWorkspace(batch);
                    var output = new float[expectedA.Length];
                    while (Volatile.Read(ref stop) == 0)
                    {
                        host.Current.Forward(input, output, batch, workspace);
                        if (output.AsSpan().SequenceEqual(expectedA)) Interlocked.Increment(ref sawA);
                        else if (output.AsSpan().SequenceEqual(expectedB)) Interlocked.Increment(ref sawB);
                        else Interlocked.Increment(ref mixed);
                    }
                })).ToArray();
                foreach (var r in readers) r.Start();
                long before = host.Version;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                int swaps = 0;
                while (clock.ElapsedMilliseconds < 1500)
                {
                    if (swaps % 2 == 0) host.LoadWeights(swaps % 4 == 0 ? fileB : fileA);
                    else host.Update(n => (swaps % 4 == 1 ? a : b).Parameters.CopyTo(n.Parameters));
                    swaps++;
                }
                Volatile.Write(ref stop, 1);
                foreach (var r in readers) r.Join();
                _output.WriteLine($"{swaps} swaps beside {sawA + sawB + mixed:N0} inferences: {sawA:N0} A, {sawB:N0} B, {mixed} mixed");
                Assert.Equal(0, mixed);
                Assert.True(sawA > 0 && sawB > 0);
                Assert.Equal(before + swaps, host.Version);

                // A bad file changes nothing: the current model stays, the version too.
                File.WriteAllBytes(Path.Combine(folder, "bad.safetensors"), new byte[] { 1, 2, 3 });
                var current = host.Current;
                Assert.Throws<WeightFileException>(() => host.LoadWeights(Path.Combine(folder, "bad.safetensors")));
                Assert.Same(current, host.Current);
                Assert.Throws<InvalidOperationException>(() => host.Update(n => throw new InvalidOperationException("no")));
                Assert.Same(current, host.Current);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        // ---- Checkpoints: validate, then apply -----------------------------------------------------------------------

        /// <summary>Writes a copy of a checkpoint with some metadata changed and the checksum recomputed (a well-formed but lying file).</summary>
        private static void Rewrite(string from, string to, Action<Dictionary<string, string>> changeMetadata, Func<SafeTensor, SafeTensor>? changeTensor = null, bool fixChecksum = true)
        {
            var file = SafeTensorsFile.Read(from);
            var metadata = new Dictionary<string, string>(file.Metadata);
            changeMetadata(metadata);
            var tensors = file.Tensors.Select(t => changeTensor?.Invoke(t) ?? t).ToList();
            if (fixChecksum) metadata["cnngen.sha256"] = TrainingCheckpoint.Checksum(tensors, metadata);
            SafeTensorsWriter.Write(to, tensors, metadata);
        }

        private (string Path, BatchNormNet Network, Sgd Optimizer) GoodCheckpoint(string folder)
        {
            var network = new BatchNormNet();
            network.ResetParameters(5);
            var optimizer = new Sgd(BatchNormNet.ParameterCount, 0.1f, momentum: 0.9f);
            using (var trainer = new Trainer(network, optimizer, 4))
                trainer.TrainStep(Random(4 * BatchNormNet.InputLength, 3), new[] { 0, 1, 2, 3 });
            string path = Path.Combine(folder, "good.safetensors");
            TrainingCheckpoint.Save(path, network, optimizer, epoch: 1, new Dictionary<string, string> { ["note"] = "hello" });
            return (path, network, optimizer);
        }

        [Fact]
        public void ACheckpointWithBadMetadataOrValuesIsRefusedBeforeAnythingIsApplied()
        {
            string folder = Directory.CreateTempSubdirectory("cnngen-checkpoint-").FullName;
            try
            {
                var (good, _, _) = GoodCheckpoint(folder);
                string bad = Path.Combine(folder, "bad.safetensors");
                var cases = new (string Key, Action<Dictionary<string, string>> Metadata, Func<SafeTensor, SafeTensor>? Tensor)[]
                {
                    ("cnngen.learning_rate", m => m["cnngen.learning_rate"] = "NaN", null),
                    ("cnngen.learning_rate", m => m["cnngen.learning_rate"] = "-1", null),
                    ("cnngen.learning_rate", m => m["cnngen.learning_rate"] = "Infinity", null),
                    ("cnngen.epoch", m => m["cnngen.epoch"] = "-3", null),
                    ("cnngen.optimizer_step", m => m["cnngen.optimizer_step"] = "1e3", null),
                    ("cnngen.optimizer_step", m => m.Remove("cnngen.optimizer_step"), null),
                    ("0.weight", _ => { }, t => t.Name == "0.weight" ? WithValue(t, float.NaN) : null!),
                    ("1.running_var", _ => { }, t => t.Name == "1.running_var" ? WithValue(t, -1f) : null!),
                    ("optimizer.momentum_buffer", _ => { }, t => t.Name == "optimizer.momentum_buffer" ? WithValue(t, float.PositiveInfinity) : null!),
                };
                foreach (var (key, metadata, tensor) in cases)
                {
                    Rewrite(good, bad, metadata, tensor is null ? null : t => tensor(t) ?? t);
                    var network = new BatchNormNet();
                    network.ResetParameters(9);
                    var optimizer = new Sgd(BatchNormNet.ParameterCount, 0.3f, momentum: 0.9f);
                    var before = Snapshot(network, optimizer);
                    var error = Assert.Throws<WeightFileException>(() => TrainingCheckpoint.Load(bad, network, optimizer));
                    Assert.Contains("bad.safetensors", error.Message);
                    Assert.Contains(key, error.Message);
                    AssertUnchanged(before, network, optimizer);
                    Assert.Equal(0.3f, optimizer.LearningRate);
                }
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        [Fact]
        public void TheChecksumCoversTheMetadata()
        {
            string folder = Directory.CreateTempSubdirectory("cnngen-checkpoint-").FullName;
            try
            {
                var (good, _, _) = GoodCheckpoint(folder);
                string bad = Path.Combine(folder, "bad.safetensors");
                foreach (var change in new Action<Dictionary<string, string>>[]
                {
                    m => m["cnngen.epoch"] = "7",
                    m => m["note"] = "hellO",
                    m => m["extra"] = "x",
                    m => m.Remove("note"),
                })
                {
                    Rewrite(good, bad, change, fixChecksum: false);
                    var network = new BatchNormNet();
                    var before = network.Parameters.ToArray();
                    var error = Assert.Throws<WeightFileException>(() => TrainingCheckpoint.Load(bad, network, new Sgd(BatchNormNet.ParameterCount, 0.1f, momentum: 0.9f)));
                    Assert.Contains("checksum", error.Message);
                    Assert.Equal(before, network.Parameters.ToArray());
                }

                // The untouched file still loads, with the caller's validation of its own metadata run before anything is applied.
                var target = new BatchNormNet();
                var targetBefore = target.Parameters.ToArray();
                var refused = Assert.Throws<WeightFileException>(() => TrainingCheckpoint.Load(good, target, new Sgd(BatchNormNet.ParameterCount, 0.1f, momentum: 0.9f),
                    metadata => throw new WeightFileException(good, "note", "not what this program wrote")));
                Assert.Contains("note", refused.Message);
                Assert.Equal(targetBefore, target.Parameters.ToArray());
                var state = TrainingCheckpoint.Load(good, target, new Sgd(BatchNormNet.ParameterCount, 0.1f, momentum: 0.9f));
                Assert.Equal(1, state.Epoch);
                Assert.Equal("hello", state.Metadata["note"]);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        private static SafeTensor WithValue(SafeTensor tensor, float value)
        {
            var values = tensor.ToFloats();
            values[values.Length / 2] = value;
            return SafeTensor.FromFloats(tensor.Name, values, tensor.Shape.AsSpan());
        }
    }
}
