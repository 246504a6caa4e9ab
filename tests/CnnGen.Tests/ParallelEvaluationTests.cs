using System;
using CnnGen.Tests.Fixtures;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary><see cref="ParallelEvaluation"/>: a batch split across threads gives one Forward's outputs, allocates nothing, says what it expects.</summary>
    [Collection(nameof(AllocationTests))] // the process-wide allocation count below wants no other collection running
    public sealed class ParallelEvaluationTests
    {
        [Theory]
        [InlineData(2, 64, 64)]
        [InlineData(2, 7, 5)]   // uneven runs: 3 + 2
        [InlineData(3, 5, 2)]   // fewer samples than threads: a thread with nothing to do
        [InlineData(1, 4, 4)]
        [InlineData(2, 64, 33)] // guided runs 9, 8, 8, 8: the last one short
        [InlineData(3, 64, 64)] // guided runs 11, 9, 8, 8, 8, 8, 8, 4 over three threads
        [InlineData(2, 64, 17)]
        public void GivesOneForwardsOutputs(int threads, int capacity, int batch)
        {
            var network = new ResNet8();
            network.ResetParameters(4);
            var random = new CnnRandom(5);
            var input = new float[batch * ResNet8.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat() * 2 - 1;
            var expected = new float[batch * ResNet8.OutputLength];
            network.Forward(input, expected, batch, network.CreateWorkspace(batch));
            using var evaluation = new ParallelEvaluation(network, threads, capacity);
            var output = new float[expected.Length];
            evaluation.Forward(input, output, batch);
            Compare.Close(output, expected, 1e-5, "outputs"); // the batch-wide Linear sums in blocks of another size
            Assert.Equal(threads, evaluation.Threads);
            Assert.Equal(threads > 1, evaluation.Guided); // ResNet-8 uses each weight ~160 times per sample
            var again = new float[expected.Length];
            evaluation.Forward(input, again, batch);
            Assert.Equal(output, again); // the runs' sizes depend on the batch alone, not on which thread took which run
        }

        [Fact]
        public void CutsTheBatchByHowOftenASampleUsesEachWeight()
        {
            var lenet = new LeNet5();
            var resnet = new ResNet8();
            // LeNet-5: 416K multiply-adds per sample over 61.7K parameters; ResNet-8's convolutions reuse theirs far more.
            Assert.InRange(ParallelEvaluation.ReusePerSample(LeNet5.Layout), 6, 8);
            Assert.True(ParallelEvaluation.ReusePerSample(ResNet8.Layout) >= ParallelEvaluation.ChunkingReuse);
            using var even = new ParallelEvaluation(lenet, 2, 8);
            using var guided = new ParallelEvaluation(resnet, 2, 8);
            using var alone = new ParallelEvaluation(resnet, 1, 8);
            Assert.False(even.Guided);
            Assert.True(guided.Guided);
            Assert.False(alone.Guided); // one thread: one run, the whole batch
            float[] input = new float[8 * ResNet8.InputLength], output = new float[8 * ResNet8.OutputLength];
            Allocations.AssertNone(() => guided.Forward(input, output, 8), calls: 5); // taking runs allocates nothing either
        }

        [Fact]
        public void AllocatesNothing_AndRejectsWhatItDoesNotTake()
        {
            var network = new LeNet5();
            network.ResetParameters(1);
            using var evaluation = new ParallelEvaluation(network, 2, 8);
            float[] input = new float[8 * LeNet5.InputLength], output = new float[8 * LeNet5.OutputLength];
            Allocations.AssertNone(() => evaluation.Forward(input, output, 8), calls: 20);
            // The worker thread's allocations show only in the process's count: 1,000 calls allocating even one object each on
            // it would be 24 KB or more; the runtime's own bookkeeping is a few KB. The quietest of five rounds.
            long fewest = long.MaxValue;
            for (int round = 0; round < 5 && fewest >= 16 * 1024; round++)
            {
                long process = GC.GetTotalAllocatedBytes(precise: true);
                for (int call = 0; call < 1000; call++) evaluation.Forward(input, output, 8);
                fewest = Math.Min(fewest, GC.GetTotalAllocatedBytes(precise: true) - process);
            }
            Assert.True(fewest < 16 * 1024, $"the process allocated {fewest} bytes over 1,000 calls in the quietest of 5 rounds");
            Assert.Throws<ArgumentOutOfRangeException>(() => evaluation.Forward(input, output, 9));
            Assert.Throws<ArgumentException>(() => evaluation.Forward(input.AsMemory(1), output, 8));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelEvaluation(network, 0, 8));
            evaluation.Dispose();
            Assert.Throws<ObjectDisposedException>(() => evaluation.Forward(input, output, 8));
        }
    }
}
