using System;
using System.Linq;
using CnnGen.Kernels;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// <see cref="StridedConvolution.ForwardOverBatch"/> and <see cref="StridedConvolution.BackwardOverBatch"/> (strided
    /// layers with few output cells, a group of samples' cells as one GEMM's inner dimension): the forward against the
    /// definition, the backward against one sample at a time through <see cref="StridedConvolution.Backward"/>; the rule that
    /// picks them, and the generated training that runs them against the reference interpreter.
    /// </summary>
    public sealed class StridedOverBatchTests
    {
        [Theory]
        [InlineData(128, 4, 4, 256, 3, 2, 1, 37)]  // the strided CIFAR network's last layer onto 2x2: a group of 32 and one of 5
        [InlineData(16, 8, 8, 32, 3, 2, 1, 9)]     // onto 4x4: groups of 8, the last of 1
        [InlineData(24, 7, 5, 40, 3, 2, 0, 3)]     // unpadded, odd map (3x2 outputs)
        [InlineData(8, 9, 9, 12, 5, 3, 2, 6)]      // 5x5 at stride 3
        [InlineData(5, 3, 3, 7, 3, 2, 1, 130)]     // a 2x2 output: groups of 32
        [InlineData(6, 4, 4, 9, 3, 4, 1, 200)]     // a 1x1 output: a group of 128 and one of 72
        [InlineData(128, 8, 8, 256, 1, 2, 0, 11)]  // a ResNet shortcut onto 4x4: a group of 8 and one of 3
        public void ForwardMatchesTheDefinition(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int batch)
        {
            var random = new Random(inChannels * 13 + height * 7 + outChannels + batch);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int sampleLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, batch * sampleLength), w = RandomValues(random, outChannels * inChannels * kernel * kernel), b = RandomValues(random, outChannels);
            float[] scratch = Filled(StridedConvolution.ForwardOverBatchScratch(inChannels, height, width, outChannels, kernel, stride, padding), float.NaN);
            foreach (bool withBias in new[] { true, false })
            {
                float[] y = Filled(batch * outLength + 5, float.NaN);
                StridedConvolution.ForwardOverBatch(x, batch, inChannels, height, width, w, withBias ? b : default, outChannels, kernel, stride, padding, y, scratch);
                var expected = new double[batch * outLength];
                var scale = new double[batch * outLength];
                for (int n = 0; n < batch; n++)
                {
                    var (value, magnitude) = Definition(x.AsSpan(n * sampleLength, sampleLength).ToArray(), inChannels, height, width, w, withBias ? b : Array.Empty<float>(),
                        outChannels, kernel, stride, padding);
                    value.CopyTo(expected, n * outLength);
                    magnitude.CopyTo(scale, n * outLength);
                }
                // Float sums in the GEMM's order: within 1e-5 of the terms' magnitude (a wrong tap or cell is off by far more).
                AssertWithinScale(y, batch * outLength, expected, scale, relu: false, 1e-5, $"bias={withBias}");
            }
        }

        [Theory]
        [InlineData(128, 4, 4, 256, 3, 2, 1, 37)]
        [InlineData(16, 8, 8, 32, 3, 2, 1, 9)]
        [InlineData(24, 7, 5, 40, 3, 2, 0, 3)]
        [InlineData(8, 9, 9, 12, 5, 3, 2, 6)]
        [InlineData(5, 3, 3, 7, 3, 2, 1, 130)]
        [InlineData(6, 4, 4, 9, 3, 4, 1, 200)]
        [InlineData(128, 8, 8, 256, 1, 2, 0, 11)]
        [InlineData(40, 7, 7, 24, 1, 2, 0, 5)]     // a 1x1 shortcut on an odd map (4x4 outputs)
        public void BackwardMatchesOneSampleAtATime(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int batch)
        {
            var random = new Random(inChannels * 7 + height + outChannels + batch);
            int outHeight = (height + 2 * padding - kernel) / stride + 1, outWidth = (width + 2 * padding - kernel) / stride + 1;
            int sampleLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, batch * sampleLength), w = RandomValues(random, outChannels * taps), dy = RandomValues(random, batch * outLength);
            float[] initial = RandomValues(random, w.Length), expectedDw = (float[])initial.Clone(), expectedDx = new float[x.Length];
            float[] dw = (float[])initial.Clone(), dx = Filled(x.Length, float.NaN); // d weight accumulates; dx is written
            float[] scratch = new float[StridedConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, stride, padding)];
            for (int n = 0; n < batch; n++)
                StridedConvolution.Backward(x.AsSpan(n * sampleLength, sampleLength), inChannels, height, width, w, dy.AsSpan(n * outLength, outLength),
                    outChannels, kernel, stride, padding, expectedDw, expectedDx.AsSpan(n * sampleLength, sampleLength), scratch);
            float[] batchScratch = Filled(StridedConvolution.BackwardOverBatchScratch(inChannels, height, width, outChannels, kernel, stride, padding), float.NaN);
            StridedConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, stride, padding, dw, dx, batchScratch);
            // 1e-4, as the PyTorch fixtures: sums of up to 1,152 products (the weight gradient's over up to 200 samples) in two orders.
            Compare.Close(dw, expectedDw, 1e-4, "d weight");
            Compare.Close(dx, expectedDx, 1e-4, "d x");

            // Either gradient alone gives the same values, and leaves the other alone.
            float[] dwOnly = (float[])initial.Clone(), dxOnly = Filled(x.Length, float.NaN);
            StridedConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, stride, padding, dwOnly, default, batchScratch);
            StridedConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, stride, padding, default, dxOnly, batchScratch);
            Assert.Equal(dw, dwOnly);
            Assert.Equal(dx, dxOnly);
        }

        [Fact]
        public void ShortSpansAreRefusedBeforeAnythingIsWritten()
        {
            float[] x = new float[2 * 16 * 4 * 4], w = new float[32 * 16 * 9], dy = new float[2 * 32 * 4], dw = Filled(w.Length, 1f);
            float[] scratch = new float[StridedConvolution.BackwardOverBatchScratch(16, 4, 4, 32, 3, 2, 1)];
            Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardOverBatch(x, 2, 16, 4, 4, w, dy.AsSpan(0, dy.Length - 1), 32, 3, 2, 1, dw, default, scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.BackwardOverBatch(x, 2, 16, 4, 4, w, dy, 32, 3, 2, 1, dw, new float[x.Length - 1], scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.ForwardOverBatch(x, 2, 16, 4, 4, w, default, 32, 3, 2, 1, new float[2 * 32 * 4 - 1], scratch));
            Assert.Throws<ArgumentException>(() => StridedConvolution.ForwardOverBatch(x, 2, 16, 4, 4, w, default, 32, 3, 2, 1, new float[2 * 32 * 4], new float[scratch.Length - 1]));
            Assert.Throws<ArgumentOutOfRangeException>(() => StridedConvolution.BackwardOverBatch(x, 0, 16, 4, 4, w, dy, 32, 3, 2, 1, dw, default, scratch));
            Assert.All(dw, value => Assert.Equal(1f, value));
        }

        [Fact]
        public void GeneratedShortcutOnto4x4_TrainsAsTheInterpreter()
        {
            // A ResNet downsampling block onto 4x4 whose 1x1 stride-2 shortcut (128 -> 256, 33 k weights) runs its backward over
            // the batch, its forward a sample at a time; against the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Residual(), LayerSpec.Conv2d(256, 3, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(),
                LayerSpec.Shortcut(), LayerSpec.Conv2d(256, 1, stride: 2, padding: 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.End(),
                LayerSpec.ReLU(), LayerSpec.GlobalAvgPool(), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("ShortcutOverBatchNet", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace ShortcutOverBatch;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Contains("StridedConvolution.BackwardOverBatch(x, batchSize, 128, 8, 8, p.Slice(0, 32768), dy, 256, 1, 2, 0,", generated);
            Assert.DoesNotContain("StridedConvolution.ForwardOverBatch(", generated);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("ShortcutOverBatch." + network.Name));
        }

        [Fact]
        public void AllocateNothing()
        {
            // The strided CIFAR design's 128 -> 256 layer onto 2x2 over a thread's 32 samples: both passes, as training calls them.
            const int batch = 32;
            float[] x = new float[batch * 128 * 16], w = new float[256 * 128 * 9], y = new float[batch * 256 * 4], dw = new float[w.Length], dx = new float[x.Length];
            float[] scratch = new float[StridedConvolution.BackwardOverBatchScratch(128, 4, 4, 256, 3, 2, 1)];
            Infrastructure.Allocations.AssertNone(() =>
            {
                StridedConvolution.ForwardOverBatch(x, batch, 128, 4, 4, w, default, 256, 3, 2, 1, y, scratch);
                StridedConvolution.BackwardOverBatch(x, batch, 128, 4, 4, w, y, 256, 3, 2, 1, dw, dx, scratch);
            }, calls: 5);
        }

        [Fact]
        public void PaysOnWideLayersOntoFewCellsOnly()
        {
            Assert.True(StridedConvolution.BackwardPaysOverBatch(128, 4, 4, 256, 3, 2, 1), "onto 2x2, 295 k weights");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(64, 4, 4, 128, 3, 2, 1), "onto 2x2, 74 k weights");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(48, 4, 4, 128, 3, 2, 1), "onto 2x2, 55 k weights");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(128, 8, 8, 256, 3, 2, 1), "onto 4x4, 295 k weights");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(96, 8, 8, 192, 3, 2, 1), "onto 4x4, 166 k weights");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(64, 8, 8, 128, 3, 2, 1), "onto 4x4, 74 k weights");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(128, 16, 16, 256, 3, 2, 1), "onto 8x8");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(256, 14, 14, 512, 3, 2, 1), "onto 7x7");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(256, 6, 6, 512, 3, 2, 1), "onto 3x3");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(256, 8, 8, 512, 1, 2, 0), "1x1 onto 4x4, 131 k weights");
            Assert.True(StridedConvolution.BackwardPaysOverBatch(128, 8, 8, 256, 1, 2, 0), "1x1 onto 4x4, 33 k weights");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(64, 8, 8, 128, 1, 2, 0), "1x1 onto 4x4, 8 k weights");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(256, 14, 14, 512, 1, 2, 0), "1x1 onto 7x7");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(256, 8, 8, 512, 1, 2, 1), "1x1 with padding: not measured");
            Assert.False(StridedConvolution.TrainingForwardPaysOverBatch(512, 4, 4, 1024, 1, 2, 0), "a 1x1 layer's forward: a sample at a time");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(128, 4, 4, 256, 5, 2, 2), "5x5: not measured");
            Assert.False(StridedConvolution.BackwardPaysOverBatch(128, 4, 4, 256, 3, 1, 1), "stride 1: DirectConvolution's rule");

            Assert.True(StridedConvolution.TrainingForwardPaysOverBatch(128, 4, 4, 256, 3, 2, 1), "the forward onto 2x2");
            Assert.True(StridedConvolution.TrainingForwardPaysOverBatch(256, 2, 2, 512, 3, 2, 1), "the forward onto 1x1");
            Assert.False(StridedConvolution.TrainingForwardPaysOverBatch(256, 8, 8, 512, 3, 2, 1), "the forward onto 4x4: a sample at a time");
            Assert.False(StridedConvolution.TrainingForwardPaysOverBatch(48, 4, 4, 128, 3, 2, 1), "the forward where the backward runs a sample at a time");
        }

        [Fact]
        public void TheGeneratorPicksAsTheRuntimeRule_AndTrainsAsTheInterpreter()
        {
            // Strided layers either side of the rules' edges: 64 -> 128 onto 4x4 (74 k weights) and 96 -> 192 onto 2x2 (166 k)
            // with a batch-norm, 192 -> 256 onto 1x1 with a bias; the generated training runs the backward over the batch for
            // exactly the layers StridedConvolution.BackwardPaysOverBatch names, the forward for those TrainingForwardPaysOverBatch
            // names, and agrees with the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(64, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(128, 3, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(96, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(192, 3, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 2, padding: 1), LayerSpec.ReLU(), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("StridedOverBatchNet", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace StridedOverBatch;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            var shapes = new (int Index, int InChannels, int Size, int OutChannels)[] { (2, 64, 8, 128), (7, 96, 4, 192), (10, 192, 2, 256) };
            foreach (var (index, inChannels, size, outChannels) in shapes)
            {
                bool overBatch = StridedConvolution.BackwardPaysOverBatch(inChannels, size, size, outChannels, 3, 2, 1);
                Assert.True(overBatch == generated.Contains("Layer" + index + "Conv2dBackwardOverBatch("), $"layer {index}: {inChannels} -> {outChannels} on {size}x{size}, the runtime says over the batch {overBatch}");
                bool forward = StridedConvolution.TrainingForwardPaysOverBatch(inChannels, size, size, outChannels, 3, 2, 1);
                Assert.True(forward == generated.Contains("ForwardOverBatch(workspace.Activation" + (index - 1) + ".AsSpan(0, batchSize * " + (inChannels * size * size) + "), batchSize, " + inChannels + ", "),
                    $"layer {index}: the runtime says the training forward over the batch {forward}");
            }
            Assert.Equal(2, generated.Split("StridedConvolution.BackwardOverBatch(x, batchSize").Length - 1);
            Assert.Equal(2, generated.Split("StridedConvolution.ForwardOverBatch(").Length - 1);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("StridedOverBatch." + network.Name));
        }
    }
}
