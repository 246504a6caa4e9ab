using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    [Network(2, 8, 8)]
    [Conv2d(4, 3, Padding = 1)]
    [ReLU]
    [MaxPool(2)]
    [Flatten]
    [Linear(5)]
    public partial class SmallNet { }

    /// <summary>Many threads over one set of weights; training beside inference on a snapshot.</summary>
    public sealed class ConcurrencyTests
    {
        private readonly ITestOutputHelper _output;

        public ConcurrencyTests(ITestOutputHelper output) => _output = output;

        private static float[] Inputs(int samples, int length)
        {
            var random = new CnnRandom(12);
            var inputs = new float[samples * length];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextUniform(-1, 1);
            return inputs;
        }

        /// <summary>8 threads x 125,000 inferences on one network, each bit-identical to the single-threaded result.</summary>
        [Fact]
        public void AMillionInferencesOnEightThreadsMatchOneThreadBitForBit()
        {
            var network = new SmallNet();
            network.ResetParameters(21);
            const int samples = 97, threads = 8, perThread = 125_000;
            var inputs = Inputs(samples, SmallNet.InputLength);
            var expected = new float[samples * SmallNet.OutputLength];
            var workspace = network.CreateWorkspace();
            for (int s = 0; s < samples; s++)
                network.Forward(inputs.AsSpan(s * SmallNet.InputLength, SmallNet.InputLength), expected.AsSpan(s * SmallNet.OutputLength, SmallNet.OutputLength), workspace);

            long mismatches = 0;
            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var own = network.CreateWorkspace();
                var output = new float[SmallNet.OutputLength];
                long wrong = 0;
                for (int k = 0, s = t; k < perThread; k++, s = (s + 7) % samples)
                {
                    network.Forward(inputs.AsSpan(s * SmallNet.InputLength, SmallNet.InputLength), output, own);
                    if (!output.AsSpan().SequenceEqual(expected.AsSpan(s * SmallNet.OutputLength, SmallNet.OutputLength))) wrong++;
                }
                Interlocked.Add(ref mismatches, wrong);
            })).ToArray();
            foreach (var worker in workers) worker.Start();
            foreach (var worker in workers) worker.Join();
            _output.WriteLine($"{threads} threads x {perThread:N0} inferences in {clock.Elapsed.TotalSeconds:F1} s, {mismatches} mismatches");
            Assert.Equal(0, mismatches);
        }

        /// <summary>Training one model while four threads infer on a snapshot of its weights: the snapshot's answers never change.</summary>
        [Fact]
        public void InferenceOnASnapshotIsUnaffectedByTrainingTheOriginal()
        {
            var model = new SmallNet();
            model.ResetParameters(5);
            var snapshot = new SmallNet();
            model.Parameters.CopyTo(snapshot.Parameters);

            const int samples = 32;
            var inputs = Inputs(samples, SmallNet.InputLength);
            var labels = Enumerable.Range(0, samples).Select(i => i % SmallNet.OutputLength).ToArray();
            var expected = new float[samples * SmallNet.OutputLength];
            snapshot.Forward(inputs, expected, samples, snapshot.CreateWorkspace(samples));

            using var trainer = new Trainer(model, new Sgd(SmallNet.ParameterCount, 0.1f, momentum: 0.9f), samples, threads: 2);
            int done = 0;
            long mismatches = 0, inferences = 0;
            var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                var workspace = snapshot.CreateWorkspace(samples);
                var output = new float[expected.Length];
                while (Volatile.Read(ref done) == 0)
                {
                    snapshot.Forward(inputs, output, samples, workspace);
                    if (!output.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref mismatches);
                    Interlocked.Increment(ref inferences);
                }
            })).ToArray();
            foreach (var reader in readers) reader.Start();
            var before = model.Parameters.ToArray();
            for (int step = 0; step < 200; step++) trainer.TrainStep(inputs, labels);
            Volatile.Write(ref done, 1);
            foreach (var reader in readers) reader.Join();

            Assert.NotEqual(before, model.Parameters.ToArray()); // the original did train
            Assert.Equal(0, mismatches);
            _output.WriteLine($"200 train steps beside {inferences:N0} batch inferences on the snapshot: 0 mismatches");
        }
    }
}
