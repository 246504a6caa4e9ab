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
    /// <see cref="DirectConvolution.BackwardOverBatch"/> (wide layers on small maps: the samples of a group as the inner
    /// dimension of one GEMM per kernel tap, or of one GEMM for a pointwise layer) against one sample at a time through <see cref="DirectConvolution.Backward"/>: the weight gradient
    /// summed over the batch, each sample's input gradient, to rounding (the sums run in another order).
    /// </summary>
    public sealed class BackwardOverBatchTests
    {
        [Theory]
        [InlineData(512, 2, 2, 512, 3, 1, 5)]   // VGG-11's last layers: groups of 32, one short group
        [InlineData(16, 4, 4, 32, 3, 1, 11)]    // groups of 8, the last of 3
        [InlineData(24, 3, 5, 48, 3, 0, 1)]     // unpadded, odd map, one sample
        [InlineData(8, 6, 6, 16, 5, 2, 9)]      // 5x5, padding 2: groups of 3
        [InlineData(3, 1, 1, 7, 3, 1, 130)]     // a 1x1 map: groups of 128 and one of 2
        [InlineData(512, 4, 4, 512, 1, 0, 9)]   // pointwise: groups of 8, the last of 1
        [InlineData(40, 2, 2, 72, 1, 0, 33)]    // pointwise on 2x2: a group of 32 and one of 1
        [InlineData(192, 3, 3, 384, 3, 1, 32)]  // by taps from here: AlexNet's on 3x3, where 32 of 81 products per cell read the padding
        [InlineData(16, 4, 4, 32, 3, 1, 37)]    // groups of 32 and one of 5
        [InlineData(8, 4, 4, 16, 5, 2, 9)]      // 5x5 on 4x4, padding 2: the corner taps read one cell
        [InlineData(20, 7, 7, 12, 3, 1, 23)]    // 7x7: groups of 10; the middle column's taps as whole-row runs
        [InlineData(6, 2, 3, 10, 3, 2, 4)]      // padding 2 on 2x3: output cells no tap reads the input for
        public void MatchesOneSampleAtATime(int inChannels, int height, int width, int outChannels, int kernel, int padding, int batch)
        {
            var random = new Random(inChannels * 7 + height + outChannels + batch);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int sampleLength = inChannels * height * width, outLength = outChannels * outHeight * outWidth, taps = inChannels * kernel * kernel;
            float[] x = RandomValues(random, batch * sampleLength), w = RandomValues(random, outChannels * taps), dy = RandomValues(random, batch * outLength);
            float[] initial = RandomValues(random, w.Length), expectedDw = (float[])initial.Clone(), expectedDx = new float[x.Length];
            float[] dw = (float[])initial.Clone(), dx = Filled(x.Length, float.NaN); // d weight accumulates; dx is written
            float[] scratch = new float[DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding)];
            for (int n = 0; n < batch; n++)
                DirectConvolution.Backward(x.AsSpan(n * sampleLength, sampleLength), inChannels, height, width, w, dy.AsSpan(n * outLength, outLength),
                    outChannels, kernel, padding, expectedDw, expectedDx.AsSpan(n * sampleLength, sampleLength), scratch);
            float[] batchScratch = Filled(DirectConvolution.BackwardOverBatchScratch(inChannels, height, width, outChannels, kernel, padding), float.NaN);
            DirectConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, padding, dw, dx, batchScratch);
            // 1e-4, as the PyTorch fixtures: sums of up to 4,608 products in two orders (a wrong tap or cell is off by 0.1 or more).
            Compare.Close(dw, expectedDw, 1e-4, "d weight");
            Compare.Close(dx, expectedDx, 1e-4, "d x");

            // Either gradient alone gives the same values, and leaves the other alone.
            float[] dwOnly = (float[])initial.Clone(), dxOnly = Filled(x.Length, float.NaN);
            DirectConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, padding, dwOnly, default, batchScratch);
            DirectConvolution.BackwardOverBatch(x, batch, inChannels, height, width, w, dy, outChannels, kernel, padding, default, dxOnly, batchScratch);
            Assert.Equal(dw, dwOnly);
            Assert.Equal(dx, dxOnly);
        }

        [Fact]
        public void GeneratedNetworkWithWideLayers_TrainsAsTheInterpreter()
        {
            // 16 -> 256 on 4x4 (37 k weights), 256 -> 256 on 4x4 (590 k, with bias) and 256 -> 128 on 2x2 (295 k, without): the
            // generated backward runs them over the batch by taps, the 3 -> 16 layer on 8x8 a sample at a time; forward and
            // backward against the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(16, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1, bias: false), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("WideLayersNet", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace Wide;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(3, generated.Split("BackwardOverBatch(x, batchSize").Length - 1);
            // The two from 256 KiB of weights run their forward over the batch too, in evaluation and in training.
            Assert.Equal(2, generated.Split("DirectConvolution.ForwardOverBatch(x, batchSize").Length - 1);
            Assert.Equal(4, generated.Split("DirectConvolution.ForwardOverBatch(").Length - 1);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("Wide." + network.Name));
        }

        [Fact]
        public void GeneratedWideLayersOn8x8_TrainAsTheInterpreter()
        {
            // 128 -> 256 and 256 -> 256 on 8x8 (1.1 and 2.25 MiB of weights), which the backward runs a sample at a time by
            // Winograd (the weight gradient summed over the samples), and 256 -> 512 (4.5 MiB) over the batch; forward and
            // backward against the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(512, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.MaxPool(4), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("Wide8Net", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace Wide8;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(1, generated.Split("BackwardOverBatch(x, batchSize").Length - 1);
            Assert.Equal(2, generated.Split("DirectConvolution.BackwardWithFilters(").Length - 1); // the two 8x8 layers a sample at a time
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("Wide8." + network.Name));
        }

        [Fact]
        public void GeneratedWide5x5LayersOn7x7_TrainAsTheInterpreter()
        {
            // 5x5 layers on 7x7, 128 -> 128 (1.56 MiB of weights) and 128 -> 192 (2.3 MiB, with a batch-norm): the backward splits,
            // the weight gradient over the batch by taps, the input gradient a sample at a time by F(2x2, 5x5) on the turned
            // filters; forward and backward against the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(128, 5, stride: 1, padding: 2), LayerSpec.ReLU(),
                LayerSpec.Conv2d(192, 5, stride: 1, padding: 2, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(), LayerSpec.MaxPool(7),
                LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("Wide5Net", TensorShape.Spatial(3, 7, 7), layers);
            string source = "using CnnGen;\nnamespace Wide5;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(2, generated.Split("BackwardOverBatch(x, batchSize").Length - 1);
            Assert.Equal(2, generated.Split("The weight gradient over the batch by taps, the input gradient a sample at a time").Length - 1);
            Assert.Equal(2, generated.Split("DirectConvolution.BackwardWithFilters(").Length - 1); // the two 5x5 layers (3 -> 128 keeps no filters)
            Assert.DoesNotContain("WeightGradientProducts", generated);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("Wide5." + network.Name));
        }

        [Fact]
        public void GeneratedNetworkWithPointwiseLayers_TrainsAsTheInterpreter()
        {
            // Pointwise layers on 4x4 and 2x2 maps: 512 -> 512 (262 k weights on 16 cells) runs backward over the batch; the other
            // three a sample at a time, their input gradient from the transposed weights where the runtime keeps them (64 -> 512
            // and 512 -> 96, on Vector512), else by a GEMM (96 -> 24 always: too few output channels); every pointwise forward by
            // PointwiseConvolution. Forward and backward against the reference
            // interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(64, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(512, 1, stride: 1, padding: 0, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(512, 1, stride: 1, padding: 0), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(96, 1, stride: 1, padding: 0), LayerSpec.ReLU(),
                LayerSpec.Conv2d(24, 1, stride: 1, padding: 0, bias: false), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("PointwiseLayersNet", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace Pointwise;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(1, generated.Split("BackwardOverBatch(x, batchSize").Length - 1);
            Assert.Equal(2, generated.Split("PointwiseConvolution.InputGradient(").Length - 1);
            Assert.Equal(2, generated.Split("PointwiseConvolution.TransposeWeights(").Length - 1);
            Assert.DoesNotContain("Gemm.Multiply(false, false, 512, 16, 512", generated); // the training forward the GEMM ran before
            Assert.DoesNotContain("Gemm.Multiply(false, false, 96, 4, 512", generated);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            DifferentialTests.CheckAgainstInterpreter(network, assembly.CreateNetwork("Pointwise." + network.Name));
        }

        [Fact]
        public void PaysOnWideLayersOnSmallMapsOnly()
        {
            Assert.True(DirectConvolution.BackwardPaysOverBatch(512, 4, 4, 512, 1, 0), "pointwise, 16 cells");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(1024, 2, 2, 1024, 1, 0), "pointwise, 4 cells");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(512, 8, 8, 512, 1, 0), "pointwise on 8x8: per sample");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 4, 4, 512, 1, 0), "pointwise, 131 k weights");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(512, 2, 2, 512, 3, 1));
            Assert.True(DirectConvolution.BackwardPaysOverBatch(256, 4, 4, 512, 3, 1));
            Assert.True(DirectConvolution.BackwardPaysOverBatch(256, 4, 4, 256, 3, 1), "16 cells");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(256, 8, 8, 512, 3, 1), "4.5 MiB of weights on 8x8");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(512, 8, 8, 512, 3, 1));
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 10, 10, 256, 3, 0), "onto 8x8 without padding");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(256, 6, 6, 256, 3, 0), "onto 4x4 without padding");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 8, 8, 256, 5, 2), "5x5, 6.25 MiB on 8x8: split");
            Assert.True(DirectConvolution.BackwardMixedPays(256, 8, 8, 256, 5, 2), "5x5, 6.25 MiB on 8x8: split");
            Assert.True(DirectConvolution.BackwardMixedPays(64, 7, 7, 192, 5, 2), "5x5, AlexNet's 64 -> 192 on 7x7: split");
            Assert.False(DirectConvolution.BackwardMixedPays(32, 7, 7, 64, 5, 2), "5x5, 200 KiB: a sample at a time");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(32, 7, 7, 64, 5, 2), "5x5, 200 KiB: a sample at a time");
            Assert.False(DirectConvolution.BackwardMixedPays(128, 4, 4, 256, 5, 2), "5x5 on 16 cells: over the batch");
            Assert.False(DirectConvolution.BackwardMixedPays(256, 8, 8, 256, 3, 1), "3x3: never split");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(64, 7, 7, 192, 5, 2), "5x5, AlexNet's 64 -> 192 on 7x7: split");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(128, 11, 11, 128, 5, 0), "5x5 onto 7x7 without padding");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(512, 8, 8, 256, 5, 2), "5x5, 12.5 MiB: split");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(128, 4, 4, 256, 5, 2), "5x5 on 16 cells");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 8, 8, 256, 3, 1), "2.25 MiB on 8x8: a sample at a time by Winograd");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(128, 8, 8, 256, 3, 1), "1.1 MiB on 8x8");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(256, 5, 5, 256, 3, 1), "25 cells");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 6, 6, 256, 3, 1), "36 cells");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(16, 4, 4, 32, 3, 1), "16 cells: any weights");
            Assert.True(DirectConvolution.BackwardPaysOverBatch(96, 3, 3, 96, 3, 1), "9 cells");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(128, 6, 6, 128, 3, 1), "36 cells, 576 KiB");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(16, 4, 4, 32, 1, 0), "pointwise, 2 KiB");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(256, 16, 16, 256, 3, 1), "a 16x16 map: per sample");
            Assert.False(DirectConvolution.BackwardPaysOverBatch(64, 8, 8, 64, 3, 1), "ResNet-8's last stage: 147 KB of weights");
        }

        [Fact]
        public void TheGeneratorPicksAsTheRuntimeRule()
        {
            // Wide 3x3 layers either side of the rule's edges (2.25 MiB of weights, 36 cells; padding 1 and 0), 5x5 ones either
            // side of theirs (1.56 MiB), and a narrow one on 16 cells: the generated backward runs over the batch exactly the
            // layers DirectConvolution.BackwardPaysOverBatch names.
            var layers = new[]
            {
                LayerSpec.Conv2d(128, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 0), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(512, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(128, 5, stride: 1, padding: 2), LayerSpec.ReLU(),
                LayerSpec.Conv2d(128, 5, stride: 1, padding: 2), LayerSpec.ReLU(),
                LayerSpec.Conv2d(192, 5, stride: 1, padding: 2), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(16, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.Flatten(), LayerSpec.Linear(4),
            };
            var network = new RandomNetwork("EdgesNet", TensorShape.Spatial(3, 10, 10), layers);
            string generated = GeneratorHarness.GeneratedText("using CnnGen;\nnamespace Edges;\n" + network.Declaration());
            var shapes = new (int Index, int InChannels, int Size, int OutChannels, int Kernel, int Padding)[]
            {
                (0, 3, 10, 128, 3, 1), (2, 128, 10, 256, 3, 0), (4, 256, 8, 256, 3, 1), (7, 256, 8, 512, 3, 1), (9, 512, 8, 128, 5, 2), (11, 128, 8, 128, 5, 2),
                (13, 128, 8, 192, 5, 2), (16, 192, 4, 256, 3, 1), (18, 256, 4, 16, 3, 1),
            };
            int split = 0;
            foreach (var (index, inChannels, size, outChannels, kernel, padding) in shapes)
            {
                bool overBatch = DirectConvolution.BackwardPaysOverBatch(inChannels, size, size, outChannels, kernel, padding);
                bool splits = DirectConvolution.BackwardMixedPays(inChannels, size, size, outChannels, kernel, padding);
                Assert.False(overBatch && splits, $"layer {index}: both");
                string call = "Layer" + index + "Conv2dBackwardOverBatch(";
                Assert.True((overBatch || splits) == generated.Contains(call), $"layer {index}: {inChannels} -> {outChannels} on {size}x{size}, over the batch {overBatch}, split {splits}");
                if (splits) split++;
            }
            Assert.Equal(3, split);
            Assert.Equal(6, generated.Split("BackwardOverBatch(x, batchSize").Length - 1); // three over the batch, three split
            Assert.Equal(split, generated.Split("The weight gradient over the batch by taps, the input gradient a sample at a time").Length - 1);
        }
    }
}
