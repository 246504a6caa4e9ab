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
    /// <see cref="DirectConvolution.ForwardOverBatch"/> (evaluation's wide layers on small maps, a group of samples' cells as
    /// one GEMM's columns) against the definition and against one sample at a time through <see cref="DirectConvolution.Forward"/>
    /// and <see cref="DirectConvolution.ForwardPooled"/>, on the GEMM's scalar and vector paths; and generated networks that
    /// run it against the reference interpreter and against each sample alone.
    /// </summary>
    public sealed class ForwardOverBatchTests
    {
        public static readonly TheoryData<int, int, int, int, int, int, int, string, string> Shapes = new()
        {
            { 512, 2, 2, 512, 3, 1, 37, "relu pool", "Scalar" },      // VGG-11's last layer, pooled to 1x1: groups of 32, one of 5
            { 512, 2, 2, 512, 3, 1, 37, "relu pool", "Vector" },
            { 256, 4, 4, 512, 3, 1, 9, "relu bias", "Vector" },       // groups of 8 and one of 1
            { 24, 3, 5, 40, 3, 0, 1, "bias", "Vector" },        // unpadded odd map, channels in no whole vector, one sample
            { 24, 3, 5, 40, 3, 0, 1, "bias", "Scalar" },
            { 20, 5, 7, 36, 3, 1, 11, "relu pool bias", "Vector" },         // odd map pooled (the last row and column dropped)
            { 20, 5, 7, 36, 3, 1, 11, "pool", "Scalar" },       // pooled without ReLU, no bias
            { 8, 6, 6, 17, 5, 2, 9, "relu bias", "Vector" },          // 5x5, padding 2: groups of 3
            { 3, 1, 1, 7, 3, 1, 130, "bias", "Vector" },        // a 1x1 map: groups of 128 and one of 2
            { 96, 3, 3, 80, 3, 1, 61, "relu bias", "Vector" },        // by taps: 3x3 on 3x3, groups of 56 and one of 5
            { 6, 2, 3, 10, 3, 2, 4, "relu pool bias", "Vector" },    // padding 2 on 2x3: output cells no tap reads the input for
            { 6, 2, 3, 10, 3, 2, 4, "bias", "Scalar" },
            { 12, 7, 7, 20, 3, 1, 23, "relu bias", "Vector" },        // 7x7: the middle column's taps as whole-row runs
        };

        [Theory]
        [MemberData(nameof(Shapes))]
        public void MatchesTheDefinitionAndOneSampleAtATime(int inChannels, int height, int width, int outChannels, int kernel, int padding, int batch,
            string epilogue, string pathName)
        {
            bool relu = epilogue.Contains("relu", StringComparison.Ordinal), pool = epilogue.Contains("pool", StringComparison.Ordinal), withBias = epilogue.Contains("bias", StringComparison.Ordinal);
            var path = pathName == "Scalar" ? DirectConvolution.KernelPath.Scalar : KernelPaths.Default;
            var random = new Random(inChannels * 7 + height + outChannels + batch);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            int sampleLength = inChannels * height * width, cells = outHeight * outWidth;
            int outLength = outChannels * (pool ? (outHeight / 2) * (outWidth / 2) : cells);
            float[] x = RandomValues(random, batch * sampleLength), w = RandomValues(random, outChannels * inChannels * kernel * kernel);
            float[] bias = withBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            // One float past the batch's outputs stays NaN: nothing is written past them.
            float[] y = Filled(batch * outLength + 1, float.NaN);
            float[] scratch = Filled(DirectConvolution.ForwardOverBatchScratch(inChannels, height, width, outChannels, kernel, padding), float.NaN);
            DirectConvolution.ForwardOverBatchOn(x, batch, inChannels, height, width, w, bias, outChannels, kernel, padding, y, scratch, relu, pool, path);
            Assert.True(float.IsNaN(y[^1]), "wrote past the batch's outputs");

            float[] sampleScratch = new float[DirectConvolution.ScratchLength(inChannels, height, width, outChannels, kernel, padding)];
            bool winograd = DirectConvolution.WinogradOn(path) && DirectConvolution.ForwardByWinograd(inChannels, height, width, outChannels, kernel, padding);
            float[] expected = new float[outLength];
            for (int n = 0; n < batch; n++)
            {
                float[] sample = x.AsSpan(n * sampleLength, sampleLength).ToArray();
                float[] actual = y.AsSpan(n * outLength, outLength).ToArray();
                // The definition in double, each cell within 1e-5 of the magnitude of its terms.
                var (value, scale) = Definition(sample, inChannels, height, width, w, bias, outChannels, kernel, 1, padding);
                if (!pool) AssertWithinScale(actual, outLength, value, scale, relu, 1e-5, $"sample {n}");
                if (pool) DirectConvolution.ForwardPooled(sample, inChannels, height, width, w, bias, outChannels, kernel, padding, expected, sampleScratch, relu);
                else DirectConvolution.Forward(sample, inChannels, height, width, w, bias, outChannels, kernel, padding, expected, sampleScratch, relu);
                // 1e-4, as the PyTorch fixtures: sums of up to 4,608 products in two orders (a wrong tap or cell is off by 0.1 or more);
                // where the sample runs by Winograd, whose rounding is about ten times the direct kernel's, 2e-5 of the largest
                // magnitude of a cell's terms (WinogradF4ConvolutionTests' bound; 0.01 for 256 -> 512 channels on unit-scale data).
                Compare.Close(actual, expected, winograd ? 2e-5 * scale.Max() : 1e-4, $"sample {n}");
            }
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void NaNPassesThroughReluAndPoolingWhereTheDefinitionReadsIt(bool pool)
        {
            // PyTorch's ReLU and max pooling keep a NaN: exactly the outputs whose window reads it are NaN (by the definition;
            // a Winograd tile would spread it over the tile), in every output channel of that sample.
            const int inChannels = 32, size = 6, outChannels = 48, batch = 3;
            var random = new Random(5);
            float[] x = RandomValues(random, batch * inChannels * size * size), w = RandomValues(random, outChannels * inChannels * 9), bias = RandomValues(random, outChannels);
            x[inChannels * size * size + 2 * size + 1] = float.NaN; // sample 1, channel 0, cell (2, 1)
            int outSize = pool ? size / 2 : size, outLength = outChannels * outSize * outSize;
            float[] y = new float[batch * outLength];
            float[] scratch = new float[DirectConvolution.ForwardOverBatchScratch(inChannels, size, size, outChannels, 3, 1)];
            DirectConvolution.ForwardOverBatch(x, batch, inChannels, size, size, w, bias, outChannels, 3, 1, y, scratch, relu: true, pool);
            static bool ReadsTheNaN(int oy, int ox) => Math.Abs(oy - 2) <= 1 && Math.Abs(ox - 1) <= 1;
            for (int n = 0; n < batch; n++)
            {
                for (int i = 0; i < outLength; i++)
                {
                    int oy = i % (outSize * outSize) / outSize, ox = i % outSize;
                    bool expected = n == 1 && (pool
                        ? ReadsTheNaN(2 * oy, 2 * ox) || ReadsTheNaN(2 * oy, 2 * ox + 1) || ReadsTheNaN(2 * oy + 1, 2 * ox) || ReadsTheNaN(2 * oy + 1, 2 * ox + 1)
                        : ReadsTheNaN(oy, ox));
                    Assert.True(expected == float.IsNaN(y[n * outLength + i]), $"sample {n}, output {i}: {y[n * outLength + i]}");
                }
            }
        }

        [Fact]
        public void AllocatesNothing()
        {
            float[] x = new float[9 * 256 * 16], w = new float[256 * 256 * 9], bias = new float[256], y = new float[9 * 256 * 4];
            float[] scratch = new float[DirectConvolution.ForwardOverBatchScratch(256, 4, 4, 256, 3, 1)];
            Allocations.AssertNone(() => DirectConvolution.ForwardOverBatch(x, 9, 256, 4, 4, w, bias, 256, 3, 1, y, scratch, relu: true, pool: true), calls: 3);
        }

        [Fact]
        public void PaysOnWideLayersOnSmallMapsWithEnoughCells()
        {
            Assert.True(DirectConvolution.ForwardPaysOverBatch(32, 512, 2, 2, 512, 3, 1));
            Assert.True(DirectConvolution.ForwardPaysOverBatch(8, 512, 2, 2, 512, 3, 1), "8 samples of 4 cells: 32 columns");
            Assert.False(DirectConvolution.ForwardPaysOverBatch(7, 512, 2, 2, 512, 3, 1), "28 columns starve the GEMM");
            Assert.True(DirectConvolution.ForwardPaysOverBatch(2, 256, 4, 4, 512, 3, 1));
            Assert.False(DirectConvolution.ForwardPaysOverBatch(1, 256, 4, 4, 512, 3, 1), "one sample");
            Assert.True(DirectConvolution.ForwardPaysOverBatch(32, 128, 4, 4, 256, 3, 1), "1.1 MiB of weights");
            Assert.True(DirectConvolution.ForwardPaysOverBatch(32, 128, 4, 4, 128, 3, 1), "576 KiB of weights");
            Assert.True(DirectConvolution.ForwardPaysOverBatch(32, 96, 4, 4, 96, 3, 1), "324 KiB of weights");
            Assert.False(DirectConvolution.ForwardPaysOverBatch(32, 64, 4, 4, 64, 3, 1), "144 KiB of weights: the Winograd kernel");
            Assert.False(DirectConvolution.ForwardPaysOverBatch(32, 256, 8, 8, 256, 3, 1), "8x8: Winograd a sample at a time");
            Assert.False(DirectConvolution.ForwardPaysOverBatch(32, 512, 6, 6, 512, 3, 1), "6x6");
        }

        [Fact]
        public void GeneratedNetworkWithWideLayers_EvaluatesAsTheInterpreterAndEachSampleAlone()
        {
            // 256 -> 256 on 4x4 with a folded batch-norm, ReLU and pooling; 256 -> 288 on 2x2 with SiLU (an activation applied
            // after the kernel); 288 -> 256 on 2x2 with nothing fused (a Flatten after it). The generated evaluation runs the three
            // over the batch once it has enough samples (16 -> 256 on 4x4, 37 k weights, a sample at a time); at batches of 11
            // (every layer over the batch, 2x2's groups of 32 short) and 7 (too few for the 2x2 layers: a sample at a time).
            var layers = new[]
            {
                LayerSpec.Conv2d(16, 3, stride: 1, padding: 1), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1), LayerSpec.ReLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(), LayerSpec.MaxPool(2),
                LayerSpec.Conv2d(288, 3, stride: 1, padding: 1), LayerSpec.SiLU(),
                LayerSpec.Conv2d(256, 3, stride: 1, padding: 1, bias: false), LayerSpec.Flatten(), LayerSpec.Linear(6),
            };
            var network = new RandomNetwork("WideEvaluationNet", TensorShape.Spatial(3, 8, 8), layers);
            string source = "using CnnGen;\nnamespace WideEvaluation;\n" + network.Declaration();
            string generated = GeneratorHarness.GeneratedText(source);
            Assert.Equal(3, generated.Split("DirectConvolution.ForwardOverBatch(x, batchSize").Length - 1);
            using var assembly = GeneratorHarness.CompileAndLoad(source);
            var generatedNetwork = assembly.CreateNetwork("WideEvaluation." + network.Name);
            var layout = generatedNetwork.Layout;
            generatedNetwork.ResetParametersForTest(seed: 7);
            // Running statistics other than 0 and 1, so that the fold shows.
            var buffers = generatedNetwork.Buffers;
            var statistics = new Random(3);
            for (int i = 0; i < buffers.Length; i++) buffers[i] = (float)(statistics.NextDouble() * 0.5 + 0.5); // means and variances alike
            foreach (int batch in new[] { 11, 7 })
            {
                var random = new CnnRandom(11);
                var input = new float[batch * layout.Input.Length];
                for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-2, 2);
                var dropout = new CnnRandom(5);
                var expected = new ReferenceInterpreter(layout).ForwardFloat(generatedNetwork.Parameters, generatedNetwork.Buffers.ToArray(), generatedNetwork.Counters.ToArray(),
                    input, batch, false, ref dropout);
                var actual = new float[batch * layout.Output.Length];
                generatedNetwork.Forward(input, actual, batch, generatedNetwork.CreateWorkspace(batch), training: false);
                Compare.Close(actual, expected, 1e-4, $"batch {batch}\n" + network.Declaration());
                var one = new float[layout.Output.Length];
                var alone = generatedNetwork.CreateWorkspace(1);
                for (int n = 0; n < batch; n++)
                {
                    generatedNetwork.Forward(input.AsSpan(n * layout.Input.Length, layout.Input.Length), one, 1, alone, training: false);
                    Compare.Close(actual.AsSpan(n * layout.Output.Length, layout.Output.Length).ToArray(), one, 1e-5, $"batch {batch}, sample {n}");
                }
            }
            // Allocation-free over the batch as a sample at a time.
            var workspace = generatedNetwork.CreateWorkspace(11);
            float[] batchInput = new float[11 * layout.Input.Length], batchOutput = new float[11 * layout.Output.Length];
            Allocations.AssertNone(() => generatedNetwork.Forward(batchInput, batchOutput, 11, workspace, training: false), calls: 3);
        }
    }
}
