using System;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Tests.Fixtures;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The step's tail (summing the threads' gradients, checking, backing up, the optimizer's update) on every thread, each
    /// over its range of the parameter block: the same floats as the tail on one thread after the run (what an optimizer
    /// whose update is not per parameter gets), the same refusals and undo, and a worker that fails releases the others.
    /// </summary>
    public sealed class ParallelTailTrainingTests
    {
        /// <summary>
        /// Adam (or, decoupled, AdamW) with the tail on the calling thread after the run, as for an optimizer that does not
        /// update each parameter alone.
        /// </summary>
        private sealed class SerialTailAdam : Adam
        {
            private readonly bool _decoupled;
            public SerialTailAdam(int parameterCount, float weightDecay, bool decoupled) : base(parameterCount, 1e-3f, weightDecay: weightDecay) => _decoupled = decoupled;
            protected internal override bool UpdatesEachParameterAlone => false;
            protected override bool DecoupledWeightDecay => _decoupled;
        }

        private static (float[] Images, int[] Labels) Batch(int batch, ulong seed)
        {
            var random = new CnnRandom(seed);
            var images = new float[batch * LeNet5.InputLength];
            for (int i = 0; i < images.Length; i++) images[i] = random.NextFloat();
            var labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = random.NextInt(10);
            return (images, labels);
        }

        private static Optimizer Create(string kind, bool serialTail) => (kind, serialTail) switch
        {
            ("adam", false) => new Adam(LeNet5.ParameterCount, 1e-3f, weightDecay: 0.01f),
            ("adam", true) => new SerialTailAdam(LeNet5.ParameterCount, 0.01f, decoupled: false),
            ("adamw", false) => new AdamW(LeNet5.ParameterCount, 1e-3f, weightDecay: 0.01f),
            ("adamw", true) => new SerialTailAdam(LeNet5.ParameterCount, 0.01f, decoupled: true),
            _ => throw new ArgumentException(kind),
        };

        /// <summary>
        /// LeNet-5 (61,706 parameters: two and three threads split its 48,000-weight Linear) for a few steps, the last with
        /// fewer samples than threads (a thread without samples still takes its range), frozen tensors across the threads'
        /// boundaries or not: the parameters, the optimizer state and the summed gradient bit for bit those of the serial tail.
        /// </summary>
        [Theory]
        [InlineData("adam", 1, false)]
        [InlineData("adam", 2, false)]
        [InlineData("adam", 3, false)]
        [InlineData("adam", 3, true)]
        [InlineData("adamw", 2, true)]
        public void TheTailOnEveryThreadGivesTheSerialTailsFloats(string kind, int threads, bool freeze)
        {
            var runs = new[] { false, true }.Select(serialTail =>
            {
                var network = new LeNet5();
                network.ResetParameters(29);
                var optimizer = Create(kind, serialTail);
                // The first layer, and Linear(120)'s weight, which spans the threads' ranges.
                if (freeze) optimizer.Freeze(new ParameterMask(network).FreezeLayers(0).FreezePrefix("7.weight"));
                using var trainer = new Trainer(network, optimizer, 8, threads);
                Assert.Equal(threads, trainer.Threads);
                var losses = new float[4];
                for (int step = 0; step < losses.Length; step++)
                {
                    var (images, labels) = Batch(step == losses.Length - 1 ? 2 : 7, 40 + (ulong)step);
                    losses[step] = trainer.TrainStep(images, labels);
                }
                return (Losses: losses, Parameters: network.Parameters.ToArray(), Gradients: trainer.Gradients.ToArray(),
                        State: optimizer.State.Select(s => s.Value.ToArray()).ToArray(), optimizer.StepCount);
            }).ToArray();
            var (everyThread, serial) = (runs[0], runs[1]);
            Assert.Equal(serial.Losses, everyThread.Losses);
            Assert.Equal(serial.StepCount, everyThread.StepCount);
            Assert.True(serial.Parameters.SequenceEqual(everyThread.Parameters), "parameters differ");
            Assert.True(serial.Gradients.SequenceEqual(everyThread.Gradients), "summed gradients differ");
            for (int i = 0; i < serial.State.Length; i++) Assert.True(serial.State[i].SequenceEqual(everyThread.State[i]), $"optimizer state {i} differs");
            if (freeze) Assert.All(everyThread.Gradients.AsSpan(2572, 48000).ToArray(), g => Assert.Equal(0f, g));
        }

        /// <summary>SGD with momentum and weight decay, tail on every thread: each step is Optimizer.Step's update of the summed gradient.</summary>
        [Theory]
        [InlineData(2)]
        [InlineData(3)]
        public void SgdOnEveryThreadIsTheOptimizersStepOfTheSummedGradient(int threads)
        {
            var network = new LeNet5();
            network.ResetParameters(31);
            var optimizer = new Sgd(LeNet5.ParameterCount, 0.05f, momentum: 0.9f, weightDecay: 1e-3f, nesterov: true);
            var definition = new Sgd(LeNet5.ParameterCount, 0.05f, momentum: 0.9f, weightDecay: 1e-3f, nesterov: true);
            var expected = network.Parameters.ToArray();
            using var trainer = new Trainer(network, optimizer, 8, threads);
            for (int step = 0; step < 3; step++)
            {
                var (images, labels) = Batch(7, 50 + (ulong)step);
                trainer.TrainStep(images, labels);
                definition.Step(expected, trainer.Gradients);
                Assert.True(expected.AsSpan().SequenceEqual(network.Parameters), $"step {step + 1}: parameters differ from Sgd.Step's");
                Assert.True(definition.State[0].Value.AsSpan().SequenceEqual(optimizer.State[0].Value), $"step {step + 1}: momentum differs");
            }
        }

        /// <summary>
        /// Non-finite gradients or updates in the second thread's range only, or in both: the step is refused naming the first
        /// such parameter, nothing changes, and the trainer trains on afterwards.
        /// </summary>
        [Theory]
        [InlineData(float.NaN, new[] { 1500 }, 1500, "gradient")]
        [InlineData(float.NaN, new[] { 1500, 30 }, 30, "gradient")]
        [InlineData(1.5e38f, new[] { 1600, 1500 }, 1500, "update made parameter")] // summed over two threads 3e38, then x lr 10
        public void ANonFiniteValueInAnotherThreadsRangeIsNamedAndTheStepUndone(float value, int[] at, int named, string kind)
        {
            // 200 inputs x 10 classes: 2,010 parameters, the second thread's range from 1,024.
            var network = new ScriptedNetwork(inputs: 200, classes: 10) { Gradient = 0.25f };
            network.Parameters.Fill(0.5f);
            var optimizer = new Sgd(network.Layout.ParameterCount, 10f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, batchCapacity: 4, threads: 2);
            var images = new float[4 * 200];
            var labels = new[] { 0, 1, 2, 3 };
            trainer.TrainStep(images, labels); // a good step first: momentum is not trivial
            var parameters = network.Parameters.ToArray();
            var momentum = optimizer.State[0].Value.ToArray();

            network.GradientAt = at;
            network.GradientAtValue = value;
            var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(images, labels));
            Assert.Contains(kind + (kind == "gradient" ? " of parameter " : " ") + named + " ", error.Message);
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(momentum, optimizer.State[0].Value);
            Assert.Equal(1, optimizer.StepCount);
            Assert.Equal(1, trainer.Steps);

            network.GradientAt = null;
            trainer.TrainStep(images, labels);
            Assert.Equal(2, trainer.Steps);
            Assert.All(network.Parameters.ToArray(), p => Assert.True(float.IsFinite(p)));
        }

        /// <summary>
        /// A network without batch-norm, so nothing but the tail's meeting holds the threads together: a worker that fails in
        /// forward or backward releases the other from it, the step is undone, and the next step is the one the failure never saw.
        /// </summary>
        [Theory]
        [InlineData(false, 0)]
        [InlineData(true, 0)]
        [InlineData(false, 1)]
        [InlineData(true, 1)]
        public void AWorkerThatFailsReleasesTheOtherFromTheTailsMeeting(bool inBackward, int failing)
        {
            var network = new BatchNormThreadsTests.FailingNetwork(new LeNet5());
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, 9);
            var optimizer = new Sgd(network.Layout.ParameterCount, 0.05f, momentum: 0.9f);
            using var trainer = new Trainer(network, optimizer, 4, threads: 2);
            var (images, labels) = Batch(4, 21);
            trainer.TrainStep(images, labels);
            var parameters = network.Parameters.ToArray();
            var velocity = optimizer.State[0].Value.ToArray();

            network.FailingWorkspace = network.Workspaces[failing];
            network.FailInBackward = inBackward;
            var step = Task.Run(() => trainer.TrainStep(images, labels));
            Assert.True(((IAsyncResult)step).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(2)), "the step hung");
            var error = Assert.IsType<InvalidOperationException>(step.Exception!.InnerException);
            Assert.Equal(BatchNormThreadsTests.FailingNetwork.Message, error.Message);
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(velocity, optimizer.State[0].Value);
            Assert.Equal(1, optimizer.StepCount);

            network.FailingWorkspace = null;
            trainer.TrainStep(images, labels);
            var reference = new LeNet5();
            Initialization.ResetParameters(LeNet5.Layout, ((INetwork)reference).Parameters, ((INetwork)reference).Buffers, ((INetwork)reference).Counters, 9);
            using var referenceTrainer = new Trainer(reference, new Sgd(LeNet5.ParameterCount, 0.05f, momentum: 0.9f), 4, threads: 2);
            referenceTrainer.TrainStep(images, labels);
            referenceTrainer.TrainStep(images, labels);
            Assert.True(network.Parameters.SequenceEqual(((INetwork)reference).Parameters), "parameters differ from the run without the failed step");
        }
    }
}
