using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.IO;
using CnnGen.Kernels;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;
using static CnnGen.Tests.Infrastructure.ConvolutionReference;

namespace CnnGen.Tests
{
    /// <summary>
    /// ConvTranspose2d(4, stride 2, padding 1) by Winograd on its four output phases (<see cref="TransposedWinogradConvolution"/>,
    /// Vector512 only) against the definition in double on every shape, whatever Pays says: channel counts that fill no whole
    /// vector, odd input sides (a partial 4x4 output tile at the bottom and right), one row, no bias; then against PyTorch
    /// through TransposedConvolution's prepared entry points on every path, and in a generated network against the reference
    /// interpreter.
    /// </summary>
    /// <remarks>
    /// The bound: |y − y_exact| ≤ 1e-5 · S with S = |bias| + Σ |x·w| over the cell's terms. Every transform constant is ±1
    /// and G adds two taps at most, so a product carries a few roundings more than the definition's; a wrong coefficient,
    /// tap, phase or tile is off by about S/10 or more.
    /// </remarks>
    public sealed class TransposedWinogradConvolutionTests
    {
        private const double Tolerance = 1e-5;

        // The kernel runs here: with AVX-512, or with AVX2 and FMA (session 60).
        private static bool Available => WinogradF4Convolution.RunsHere;

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, bias
            var shapes = new List<object[]>
            {
                new object[] { 512, 4, 4, 64, false },   // DCGAN's generator from 4x4 (its outputs cut to 64 here)
                new object[] { 128, 16, 16, 64, false }, // its 16x16 -> 32x32 layer
                new object[] { 64, 32, 32, 3, true },    // its last layer onto 3 channels
                new object[] { 1, 1, 1, 1, true },       // one input cell: a partial tile of 2x2 outputs
                new object[] { 5, 3, 7, 17, true },      // odd everything
                new object[] { 17, 9, 6, 33, false },    // 17 channels: an input group of 1; 3 output vectors
                new object[] { 16, 1, 12, 16, true },    // one input row
                new object[] { 130, 6, 5, 20, false },   // 9 input groups, a partial last one
                new object[] { 32, 40, 24, 16, true },   // tiles in several chunks
                new object[] { 48, 11, 13, 80, false },  // 5 output vectors, odd sides
            };
            var random = new Random(83);
            int[] channels = { 1, 3, 5, 16, 17, 32, 64 };
            for (int trial = 0; trial < 10; trial++)
                shapes.Add(new object[] { channels[random.Next(channels.Length)], random.Next(1, 20), random.Next(1, 20), channels[random.Next(channels.Length)], random.Next(2) == 0 });
            return shapes;
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, bool hasBias)
        {
            if (!Available) return; // no vector path here; TransposedConvolutionTests cover these layers on the scalar one
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels);
            int outLength = outChannels * 4 * height * width;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, inChannels * outChannels * 16);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            var (expected, scale) = TransposedDefinition(x, inChannels, height, width, weight, bias, outChannels, 4, 2, 1);
            foreach (bool phases in new[] { false, true })
            {
                var layout = TransposedWinogradConvolution.LayoutOf(inChannels, height, width, outChannels, phases);
                float[] filters = Filled(layout.FiltersLength, float.NaN);
                TransposedWinogradConvolution.TransformFilters(weight, filters, layout);
                float[] scratch = Filled(layout.ScratchLength, float.NaN); // whatever the scratch held must not reach y
                float[] y = Filled(outLength + 5, float.NaN);
                TransposedWinogradConvolution.Forward(x, filters, bias, y.AsSpan(0, outLength), scratch, layout);
                AssertWithinScale(y, outLength, expected, scale, relu: false, Tolerance, phases ? "transposed, direct phases" : "transposed Winograd");
            }
        }

        [Fact]
        public void LayoutFor_TakesThePhases_OnFewTilesWithLargeFilters()
        {
            static TransposedConvolutionGeometry G(int c, int h, int oc) => new(c, h, h, oc, 4, 4, 2, 2, 1, 1, 0, 0);
            // With AVX-512 only: on Vector256 the phases lost wherever they would be taken (session 60), and those layers keep
            // the product and col2im (Pays).
            bool wide = WinogradF4Convolution.Wide;
            Assert.Equal(wide, TransposedWinogradConvolution.LayoutFor(G(1024, 4, 512)).Phases);   // 75 MB of Winograd filters on 4 tiles
            Assert.Equal(wide, TransposedWinogradConvolution.LayoutFor(G(1024, 3, 512)).Phases);
            // DCGAN's generator from 4x4: 18.9 MB, by Winograd where 512-bit multiply-adds run at half rate (session 47: 1.25x).
            Assert.Equal(wide && !Simd.HalfRateVector512, TransposedWinogradConvolution.LayoutFor(G(512, 4, 256)).Phases);
            Assert.True(TransposedWinogradConvolution.PhasesPay(G(512, 4, 256), halfRateVector512: false));
            Assert.False(TransposedWinogradConvolution.PhasesPay(G(512, 4, 256), halfRateVector512: true));
            Assert.True(TransposedWinogradConvolution.PhasesPay(G(1024, 4, 512), halfRateVector512: true));
            Assert.False(TransposedWinogradConvolution.LayoutFor(G(256, 4, 128)).Phases);   // 4.7 MB
            Assert.False(TransposedWinogradConvolution.LayoutFor(G(1024, 8, 512)).Phases);  // 16 tiles
            var phases = TransposedWinogradConvolution.LayoutOf(1024, 4, 4, 512, phases: true);
            Assert.Equal(4, phases.Positions);
            Assert.Equal(16 * 1024 * 512, phases.FiltersLength - 4 * 16); // 16 floats per input and output channel, a vector between phases
        }

        private static readonly Lazy<SafeTensorsFile> s_fixture = new(() =>
            SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", "strided_convolutions.safetensors")));

        public static IEnumerable<object[]> FixtureCases() =>
            s_fixture.Value.Metadata.Keys.Where(k => k.StartsWith("transposed", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal)
                .Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(FixtureCases))]
        public void MatchesPyTorch_ThroughThePreparedEntryPoints_AndDirectly(string name)
        {
            // conv_transpose2d(x, w, b, 4x4, stride 2, padding 1) recorded by tests/fixtures/make_strided_fixtures.py, to 1e-4:
            // through TransposedConvolution's prepared entry points (the Winograd kernel where this process picks it, the
            // product and col2im elsewhere: Vector256, scalar), then the kernel itself.
            var fixture = s_fixture.Value;
            int[] d = fixture.Metadata[name].Split(',').Select(int.Parse).ToArray();
            var g = new TransposedConvolutionGeometry(d[0], d[1], d[2], d[3], 4, 4, 2, 2, 1, 1, 0, 0);
            float[] x = fixture.GetFloats(name + ".x"), weight = fixture.GetFloats(name + ".weight"), bias = fixture.GetFloats(name + ".bias");
            float[] expected = fixture.GetFloats(name + ".y");
            bool pays = TransposedWinogradConvolution.Pays(g);
            Assert.Equal(Available && Simd.Enabled, pays); // every case is one the kernel takes where it runs
            float[] prepared = new float[TransposedConvolution.PreparedLength(g)];
            Assert.Equal(pays, prepared.Length > 0);
            TransposedConvolution.Prepare(g, weight, prepared);
            float[] y = new float[expected.Length];
            TransposedConvolution.ForwardPrepared(g, x, weight, prepared, bias, y, new float[TransposedConvolution.ScratchLength(g)]);
            Compare.Close(y, expected, 1e-4, name + (pays ? " (Winograd)" : " (product and col2im)"));
            if (!Available) return;
            foreach (bool phases in new[] { false, true })
            {
                var layout = TransposedWinogradConvolution.LayoutOf(d[0], d[1], d[2], d[3], phases);
                float[] filters = new float[layout.FiltersLength];
                TransposedWinogradConvolution.TransformFilters(weight, filters, layout);
                Array.Clear(y);
                TransposedWinogradConvolution.Forward(x, filters, bias, y, new float[layout.ScratchLength], layout);
                Compare.Close(y, expected, 1e-4, name + (phases ? " direct phases" : " Winograd"));
            }
        }

        [Theory]
        [InlineData(1, 1)]
        [InlineData(3, 17)] // output channels past one vector: lanes 17-31 zero
        [InlineData(18, 40)]
        public void TransformFilters_IsGgGt_WithZeroLanesPastTheLastChannel(int inChannels, int outChannels)
        {
            // U = G g Gᵀ with the 6x4 G written out here in double: the even outputs' taps (w3, w1) by F(2, 2)'s G₂, then the
            // odd outputs' (w2, w0).
            double[,] g = { { 0, 0, 0, 1 }, { 0, 1, 0, 1 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 1, 0, 1, 0 }, { 1, 0, 0, 0 } };
            var random = new Random(inChannels * 10 + outChannels);
            float[] weight = RandomValues(random, inChannels * outChannels * 16);
            var layout = TransposedWinogradConvolution.LayoutOf(inChannels, 6, 6, outChannels);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            TransposedWinogradConvolution.TransformFilters(weight, filters, layout);
            int positionStride = layout.FilterPositionStride;
            for (int ic = 0; ic < inChannels; ic++)
                for (int lane = 0; lane < layout.OutLanes; lane++)
                    for (int a = 0; a < 6; a++)
                        for (int b = 0; b < 6; b++)
                        {
                            double expected = 0;
                            if (lane < outChannels)
                                for (int ky = 0; ky < 4; ky++)
                                    for (int kx = 0; kx < 4; kx++)
                                        expected += g[a, ky] * weight[((ic * outChannels + lane) * 4 + ky) * 4 + kx] * g[b, kx];
                            float actual = filters[(a * 6 + b) * positionStride + WinogradF4Convolution.FilterAt(ic, lane, inChannels, layout.OutGroups)];
                            Assert.True(Math.Abs(actual - expected) <= 1e-6 * (1 + Math.Abs(expected)), $"U[{a},{b}] ic {ic} lane {lane}: {actual}, expected {expected}");
                        }
        }

        [Fact]
        public void Pays_TakesOnly4x4Stride2Padding1_FromEnoughChannels()
        {
            static TransposedConvolutionGeometry G(int c, int h, int oc, int k = 4, int s = 2, int p = 1, int op = 0) => new(c, h, h, oc, k, k, s, s, p, p, op, op);
            Assert.False(TransposedWinogradConvolution.Pays(G(64, 8, 32, k: 3)));        // 3x3
            Assert.False(TransposedWinogradConvolution.Pays(G(64, 8, 32, s: 1)));        // stride 1
            Assert.False(TransposedWinogradConvolution.Pays(G(64, 8, 32, p: 0)));        // no padding
            Assert.False(TransposedWinogradConvolution.Pays(G(64, 8, 32, op: 1)));       // output padding
            Assert.False(TransposedWinogradConvolution.Pays(G(64, 32, 3)));              // 3 channels out (of 16 lanes)
            Assert.False(TransposedWinogradConvolution.Pays(G(4, 8, 32)));               // 4 in
            if (!Available || !Simd.Enabled)
            {
                Assert.False(TransposedWinogradConvolution.Pays(G(64, 8, 32)));          // no AVX-512, or SIMD switched off
                return;
            }
            // DCGAN's generator from 4x4: on Vector256 col2im (Winograd 0.90x, the phases 0.61x; session 60).
            Assert.Equal(WinogradF4Convolution.Wide, TransposedWinogradConvolution.Pays(G(512, 4, 256)));
            Assert.True(TransposedWinogradConvolution.Pays(G(256, 4, 128)));             // 4.7 MB on 4 tiles
            Assert.True(TransposedWinogradConvolution.Pays(G(256, 8, 128)));
            Assert.True(TransposedWinogradConvolution.Pays(G(128, 16, 64)));
            Assert.True(TransposedWinogradConvolution.Pays(G(8, 32, 8)));                // 8 in and out
        }

        [Fact]
        public void PrepareAndForwardPrepared_RejectBadSpans_AndAllocateNothing()
        {
            var g = new TransposedConvolutionGeometry(32, 8, 8, 16, 4, 4, 2, 2, 1, 1, 0, 0);
            float[] x = new float[g.InLength], weight = new float[g.WeightLength], bias = new float[16], y = new float[g.OutLength];
            float[] scratch = new float[TransposedConvolution.ScratchLength(g)], prepared = new float[TransposedConvolution.PreparedLength(g)];
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Prepare(g, weight, new float[prepared.Length + 1]));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.Prepare(g, weight.AsSpan(1), prepared));
            TransposedConvolution.Prepare(g, weight, prepared);
            Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(g, x.AsSpan(1), weight, prepared, bias, y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(g, x, weight, prepared, bias, y.AsSpan(1), scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(g, x, weight, prepared, bias.AsSpan(1), y, scratch));
            Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(g, x, weight, prepared, bias, y, scratch.AsSpan(1)));
            if (prepared.Length > 0)
            {
                Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(g, x, weight, prepared.AsSpan(1), bias, y, scratch));
                // Filters prepared for this layer handed to a layer the kernel does not take: refused, not misread.
                var other = new TransposedConvolutionGeometry(32, 8, 8, 16, 3, 3, 2, 2, 1, 1, 1, 1);
                Assert.Throws<ArgumentException>(() => TransposedConvolution.ForwardPrepared(other, x, new float[other.WeightLength], prepared, bias,
                    new float[other.OutLength], new float[TransposedConvolution.ScratchLength(other)]));
            }
            Allocations.AssertNone(() => TransposedConvolution.ForwardPrepared(g, x, weight, prepared, bias, y, scratch), calls: 5);
        }

        [Fact]
        public void GeneratedNetwork_DcganGeneratorStyle_MatchesTheInterpreter()
        {
            // A DCGAN-style generator a size smaller (a 16-value code through 4x4 transposed layers 64 -> 32 -> 16 -> 3 onto
            // 3x32x32, batch-norm and ReLU between, tanh last) compiled from its declaration: evaluation prepares the 64 -> 32 and
            // 32 -> 16 layers' Winograd filters once per change of the weights where this machine runs the kernel; the first
            // (stride 1 from 1x1) and the last (3 channels) run the product and col2im. Against the reference interpreter at
            // batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.ConvTranspose2d(64, 4, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.ConvTranspose2d(32, 4, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.ConvTranspose2d(16, 4, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.ConvTranspose2d(3, 4, stride: 2, padding: 1), LayerSpec.Tanh(),
            };
            var network = new RandomNetwork("TransposedNet", TensorShape.Spatial(16, 1, 1), layers);
            string source = GeneratorHarness.GeneratedText("using CnnGen;\nnamespace Transposed;\n" + network.Declaration());
            // The three stride-2 layers prepared in the evaluation refresh, before the training pass and before the forward for
            // gradients, and run on those weights (the runtime decides which have any); the first layer, stride 1, as it was.
            // Backward prepares their input gradients' weights once a pass and hands them to each sample's call.
            Assert.Equal(9, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.Prepare("));
            Assert.Equal(3, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.ForwardPrepared("));
            Assert.Equal(3, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.PrepareInputGradient("));
            Assert.Equal(3, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.BackwardPrepared("));
            Assert.Equal(1, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.Backward("));
            // The weight gradient summed over the batch where the runtime's rule says (the 64 -> 32 layer from 4x4), the
            // generator's copy of the rule held to the runtime's for every layer.
            // and the projection of the code (one input cell)
            Assert.Equal(2, CountOf(source, "global::CnnGen.Kernels.TransposedConvolution.WeightGradientOverBatch("));
            Assert.True(TransposedConvolution.WeightGradientPaysOverBatch(new TransposedConvolutionGeometry(64, 4, 4, 32, 4, 4, 2, 2, 1, 1, 0, 0)));
            Assert.False(TransposedConvolution.WeightGradientPaysOverBatch(new TransposedConvolutionGeometry(32, 8, 8, 16, 4, 4, 2, 2, 1, 1, 0, 0)));
            Assert.False(TransposedConvolution.WeightGradientPaysOverBatch(new TransposedConvolutionGeometry(16, 16, 16, 3, 4, 4, 2, 2, 1, 1, 0, 0)));
            Assert.True(TransposedConvolution.WeightGradientPaysOverBatch(new TransposedConvolutionGeometry(16, 1, 1, 64, 4, 4, 1, 1, 0, 0, 0, 0)));
            using var assembly = GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace Transposed;\n" + network.Declaration());
            var generated = assembly.CreateNetwork("Transposed." + network.Name);
            if (Available && Simd.Enabled) Assert.True(TransposedWinogradConvolution.Pays(new TransposedConvolutionGeometry(64, 4, 4, 32, 4, 4, 2, 2, 1, 1, 0, 0)));
            DifferentialTests.CheckAgainstInterpreter(network, generated);
        }

        private static int CountOf(string text, string part)
        {
            int count = 0;
            for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
            return count;
        }
    }
}
