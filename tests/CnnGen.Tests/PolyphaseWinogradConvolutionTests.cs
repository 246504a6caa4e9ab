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
    /// The stride-2 4x4 polyphase Winograd convolution (<see cref="PolyphaseWinogradConvolution"/>, Vector512 only) against
    /// the definition in double precision on every shape, whatever Pays says: channel counts that fill no whole vector,
    /// odd output sides (a partial 2x2 tile at the bottom and right), padding 0 to 2, rectangular maps, ReLU, no bias; then
    /// through StridedConvolution's prepared entry points and in a generated network against the reference interpreter.
    /// </summary>
    /// <remarks>
    /// The bound: |y − y_exact| ≤ 1e-5 · S with S = |bias| + Σ |x·w| over the cell's 4x4xC window. Every transform
    /// constant is ±1 and G adds two taps at most, so a product carries a few roundings more than the definition's; a wrong
    /// coefficient, tap or tile is off by about S/10 or more.
    /// </remarks>
    public sealed class PolyphaseWinogradConvolutionTests
    {
        private const double Tolerance = 1e-5;

        // The kernel runs here: with AVX-512, or with AVX2 and FMA (session 60).
        private static bool Available => WinogradF4Convolution.RunsHere;

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 64, 32, 32, 128, 1, false },  // DCGAN's second layer: 16x16 outputs
                new object[] { 128, 16, 16, 256, 1, true },  // its third: 8x8
                new object[] { 3, 64, 64, 64, 1, false },    // its stem: 3 channels
                new object[] { 1, 4, 4, 1, 0, false },       // one output cell, one tile
                new object[] { 5, 9, 11, 17, 0, true },      // odd everything, no padding: 3x4 outputs
                new object[] { 17, 13, 7, 5, 2, false },     // padding 2, 17 channels: a group of 1
                new object[] { 20, 30, 30, 40, 1, true },    // 15x15 outputs: partial tiles at the bottom and right
                new object[] { 16, 6, 26, 48, 1, false },    // 3 output vectors, one row of tiles
                new object[] { 130, 8, 8, 20, 1, false },    // 9 input groups, a partial last one
                new object[] { 32, 10, 10, 64, 1, true },    // 5x5 outputs
                new object[] { 64, 96, 80, 32, 1, true },    // tiles in several chunks
                new object[] { 48, 17, 35, 80, 0, false },   // 7x16 outputs, 5 output vectors
            };
            shapes.AddRange(RandomShapes(seed: 71, count: 10, smallest: 4, largest: 40));
            return shapes;
        }

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (!Available) return; // no vector path here; StridedConvolutionTests cover these layers on the scalar one
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = (height + 2 * padding - 4) / 2 + 1, outWidth = (width + 2 * padding - 4) / 2 + 1, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 16);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 4, 2, padding);
            var layout = PolyphaseWinogradConvolution.LayoutOf(inChannels, height, width, outChannels, padding);
            Assert.Equal(outHeight, layout.OutHeight);
            Assert.Equal(outWidth, layout.OutWidth);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            PolyphaseWinogradConvolution.TransformFilters(weight, filters, layout);
            float[] scratch = Filled(layout.ScratchLength, float.NaN); // whatever the scratch held must not reach y
            foreach (bool relu in new[] { false, true })
            {
                float[] y = Filled(outLength + 5, float.NaN);
                PolyphaseWinogradConvolution.Forward(x, filters, bias, y.AsSpan(0, outLength), scratch, relu, layout);
                AssertWithinScale(y, outLength, expected, scale, relu, Tolerance, "polyphase");
            }
        }

        private static readonly Lazy<SafeTensorsFile> s_fixture = new(() =>
            SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", "strided_convolutions.safetensors")));

        public static IEnumerable<object[]> FixtureCases() =>
            s_fixture.Value.Metadata.Keys.Where(k => k.StartsWith("polyphase", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal)
                .Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(FixtureCases))]
        public void MatchesPyTorch_ThroughThePreparedEntryPoints_AndDirectly(string name)
        {
            // relu(conv2d(x, w, b, 4x4, stride 2)) recorded by tests/fixtures/make_strided_fixtures.py, to 1e-4: through
            // StridedConvolution's prepared entry points (the polyphase kernel where this process picks it, the direct
            // kernels elsewhere: Vector256, scalar), then the kernel itself.
            var fixture = s_fixture.Value;
            int[] g = fixture.Metadata[name].Split(',').Select(int.Parse).ToArray();
            int c = g[0], h = g[1], w = g[2], oc = g[3], p = g[4];
            float[] x = fixture.GetFloats(name + ".x"), weight = fixture.GetFloats(name + ".weight"), bias = fixture.GetFloats(name + ".bias");
            float[] expected = fixture.GetFloats(name + ".y");
            bool pays = PolyphaseWinogradConvolution.Pays(c, h, w, oc, p);
            Assert.Equal(Available && Simd.Enabled, pays); // every case is one the kernel takes where it runs
            float[] prepared = new float[StridedConvolution.PreparedLength(c, h, w, oc, 4, 2, p)];
            StridedConvolution.Prepare(weight, bias, c, h, w, oc, 4, 2, p, prepared);
            float[] y = new float[expected.Length];
            StridedConvolution.ForwardPrepared(x, c, h, w, prepared, oc, 4, 2, p, y, new float[StridedConvolution.ScratchLength(c, h, w, oc, 4, 2, p)], relu: true);
            Compare.Close(y, expected, 1e-4, name + (pays ? " (polyphase)" : " (direct)"));
            if (!Available) return;
            var layout = PolyphaseWinogradConvolution.LayoutOf(c, h, w, oc, p);
            float[] filters = new float[layout.FiltersLength];
            PolyphaseWinogradConvolution.TransformFilters(weight, filters, layout);
            Array.Clear(y);
            PolyphaseWinogradConvolution.Forward(x, filters, bias, y, new float[layout.ScratchLength], relu: true, layout);
            Compare.Close(y, expected, 1e-4, name + " kernel");
        }

        [Theory]
        [InlineData(1, 1)]
        [InlineData(3, 17)] // output channels past one vector: lanes 17-31 zero
        [InlineData(18, 40)]
        public void TransformFilters_IsGgGt_WithZeroLanesPastTheLastChannel(int inChannels, int outChannels)
        {
            // U = G g Gᵀ with the 6x4 G (F(2, 2)'s G₂ on taps 0 and 2, and on taps 1 and 3) written out here in double.
            double[,] g = { { 1, 0, 0, 0 }, { 1, 0, 1, 0 }, { 0, 0, 1, 0 }, { 0, 1, 0, 0 }, { 0, 1, 0, 1 }, { 0, 0, 0, 1 } };
            var random = new Random(inChannels * 10 + outChannels);
            float[] weight = RandomValues(random, outChannels * inChannels * 16);
            var layout = PolyphaseWinogradConvolution.LayoutOf(inChannels, 12, 12, outChannels, 1);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            PolyphaseWinogradConvolution.TransformFilters(weight, filters, layout);
            int positionStride = layout.FilterPositionStride;
            for (int ic = 0; ic < inChannels; ic++)
                for (int lane = 0; lane < layout.OutLanes; lane++)
                    for (int a = 0; a < 6; a++)
                        for (int b = 0; b < 6; b++)
                        {
                            double u = 0;
                            if (lane < outChannels)
                                for (int i = 0; i < 4; i++)
                                    for (int j = 0; j < 4; j++) u += g[a, i] * weight[((lane * inChannels + ic) * 4 + i) * 4 + j] * g[b, j];
                            float actual = filters[(a * 6 + b) * positionStride + WinogradF4Convolution.FilterAt(ic, lane, inChannels, layout.OutGroups)];
                            Assert.True(Math.Abs(actual - u) <= 1e-6 * (1 + Math.Abs(u)), $"U[{a},{b}] of {ic} -> {lane} = {actual}, expected {u}");
                        }
        }

        [Theory]
        [InlineData(64, 32, 32, 128, true)]  // DCGAN's 64 -> 128: 16x16 outputs
        [InlineData(128, 16, 16, 256, false)] // its 128 -> 256: 8x8
        [InlineData(256, 8, 8, 512, false)]   // its 256 -> 512: a 4x4 output, 18.9 MB of filters
        [InlineData(128, 10, 10, 96, true)]   // a 5x5 output on 9 tiles, 6 output vectors
        [InlineData(64, 8, 8, 64, true)]      // a 4x4 output with small filters
        [InlineData(40, 15, 17, 48, false)]   // odd maps, channels off the vector
        [InlineData(3, 64, 64, 64, true)]     // a stem: the direct kernels
        public void StridedConvolution_RunsIt_WherePays_FromPreparedWeights(int inChannels, int height, int width, int outChannels, bool hasBias)
        {
            // Through the public entry points the generated code calls: Prepare (once per weight change), ForwardPrepared.
            var random = new Random(inChannels + height + width + outChannels);
            int outHeight = (height + 2 - 4) / 2 + 1, outWidth = (width + 2 - 4) / 2 + 1, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 16);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            bool pays = PolyphaseWinogradConvolution.Pays(inChannels, height, width, outChannels, 1);
            if (!Available || !Simd.Enabled) Assert.False(pays);
            int preparedLength = StridedConvolution.PreparedLength(inChannels, height, width, outChannels, 4, 2, 1);
            if (pays) Assert.Equal(PolyphaseWinogradConvolution.LayoutOf(inChannels, height, width, outChannels, 1).FiltersLength + outChannels, preparedLength);
            float[] prepared = RandomValues(random, preparedLength); // garbage must be overwritten
            StridedConvolution.Prepare(weight, bias, inChannels, height, width, outChannels, 4, 2, 1, prepared);
            float[] scratch = Filled(StridedConvolution.ScratchLength(inChannels, height, width, outChannels, 4, 2, 1), float.NaN);
            float[] y = Filled(outLength + 3, float.NaN);
            StridedConvolution.ForwardPrepared(x, inChannels, height, width, prepared, outChannels, 4, 2, 1, y.AsSpan(0, outLength), scratch, relu: true);
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 4, 2, 1);
            AssertWithinScale(y, outLength, expected, scale, relu: true, Tolerance, pays ? "polyphase" : "direct");
        }

        [Fact]
        public void Pays_FollowsTheMeasuredTable()
        {
            Assert.False(PolyphaseWinogradConvolution.Pays(3, 64, 64, 64, 1));     // a stem
            Assert.False(PolyphaseWinogradConvolution.Pays(8, 32, 32, 64, 1));     // 8 channels in
            Assert.False(PolyphaseWinogradConvolution.Pays(64, 32, 32, 16, 1));    // 16 out
            Assert.False(PolyphaseWinogradConvolution.Pays(512, 8, 8, 512, 1));    // 4x4 outputs, 37.7 MB of filters
            Assert.False(PolyphaseWinogradConvolution.Pays(64, 4, 4, 64, 1));      // a 2x2 output: one tile
            if (!Available || !Simd.Enabled)
            {
                Assert.False(PolyphaseWinogradConvolution.Pays(64, 32, 32, 128, 1)); // no AVX-512, or SIMD switched off
                return;
            }
            Assert.True(PolyphaseWinogradConvolution.Pays(64, 32, 32, 128, 1));   // DCGAN's 64 -> 128
            Assert.True(PolyphaseWinogradConvolution.Pays(128, 16, 16, 256, 1));  // and 128 -> 256
            Assert.True(PolyphaseWinogradConvolution.Pays(48, 30, 30, 96, 1));    // 15x15 outputs
            // 6x6 outputs on 9 whole tiles; on Vector256 wide layers need 16 tiles (0.85x; session 60), narrower ones not.
            Assert.Equal(WinogradF4Convolution.Wide, PolyphaseWinogradConvolution.Pays(256, 12, 12, 256, 1));
            Assert.True(PolyphaseWinogradConvolution.Pays(128, 12, 12, 128, 1));
            Assert.True(PolyphaseWinogradConvolution.Pays(256, 16, 16, 256, 1));  // 16 tiles
            Assert.True(PolyphaseWinogradConvolution.Pays(64, 8, 8, 64, 1));      // 4x4 outputs, filters within 1 MB
            Assert.True(PolyphaseWinogradConvolution.Pays(64, 10, 10, 64, 1));    // 5x5 outputs, filters within 1 MB
            // Where 512-bit multiply-adds run at half rate, up to Cin·Cout 131072 (session 47): 256 -> 512 onto 4x4 1.39x, 128 ->
            // 128 onto 5x5 1.16x; elsewhere the filters within 1 MB.
            Assert.Equal(Simd.HalfRateVector512, PolyphaseWinogradConvolution.Pays(256, 8, 8, 512, 1));
            Assert.Equal(Simd.HalfRateVector512, PolyphaseWinogradConvolution.Pays(128, 10, 10, 128, 1));
            foreach (bool halfRate in new[] { true, false })
            {
                Assert.Equal(halfRate, PolyphaseWinogradConvolution.FewTileFiltersPay(256, 512, halfRate));
                Assert.Equal(halfRate, PolyphaseWinogradConvolution.FewTileFiltersPay(128, 128, halfRate));
                Assert.True(PolyphaseWinogradConvolution.FewTileFiltersPay(64, 64, halfRate));
                Assert.False(PolyphaseWinogradConvolution.FewTileFiltersPay(512, 512, halfRate));
            }
        }

        [Fact]
        public void Forward_RejectsShortSpans_AndAllocatesNothing()
        {
            if (!Available) return;
            var layout = PolyphaseWinogradConvolution.LayoutOf(32, 16, 16, 64, 1);
            float[] x = new float[32 * 16 * 16], filters = new float[layout.FiltersLength], bias = new float[64], y = new float[64 * 64];
            float[] scratch = new float[layout.ScratchLength];
            Assert.Throws<ArgumentException>(() => PolyphaseWinogradConvolution.Forward(x.AsSpan(1), filters, bias, y, scratch, false, layout));
            Assert.Throws<ArgumentException>(() => PolyphaseWinogradConvolution.Forward(x, filters.AsSpan(1), bias, y, scratch, false, layout));
            Assert.Throws<ArgumentException>(() => PolyphaseWinogradConvolution.Forward(x, filters, bias.AsSpan(1), y, scratch, false, layout));
            Assert.Throws<ArgumentException>(() => PolyphaseWinogradConvolution.Forward(x, filters, bias, y.AsSpan(1), scratch, false, layout));
            Assert.Throws<ArgumentException>(() => PolyphaseWinogradConvolution.Forward(x, filters, bias, y, scratch.AsSpan(1), false, layout));
            Allocations.AssertNone(() => PolyphaseWinogradConvolution.Forward(x, filters, bias, y, scratch, true, layout), calls: 5);
        }

        [Fact]
        public void GeneratedNetwork_PolyphaseBeforeAStridedWinogradLayer_MatchesTheInterpreter()
        {
            // A polyphase 4x4 layer (16x32x32 -> 32 onto 16x16) right before a stride-2 3x3 Winograd layer (32 -> 64 onto 8x8):
            // the generated code links consecutive strided layers, and a layer whose prepared weights are polyphase filters
            // must not hand its maps on through the lanes kernel (which would read those filters as packed weights).
            var layers = new[]
            {
                LayerSpec.Conv2d(32, 4, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(64, 3, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.GlobalAvgPool(), LayerSpec.Flatten(), LayerSpec.Linear(10),
            };
            var network = new RandomNetwork("PolyphaseThenWinograd", TensorShape.Spatial(16, 32, 32), layers);
            using var assembly = GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace Polyphase;\n" + network.Declaration());
            var generated = assembly.CreateNetwork("Polyphase." + network.Name);
            if (Available && Simd.Enabled)
            {
                Assert.True(PolyphaseWinogradConvolution.Pays(16, 32, 32, 32, 1));
                Assert.True(StridedWinogradConvolution.Pays(32, 16, 16, 64, 1));
            }
            DifferentialTests.CheckAgainstInterpreter(network, generated);
        }

        [Fact]
        public void GeneratedNetwork_DcganStyle_MatchesTheInterpreter()
        {
            // A DCGAN-style discriminator a size smaller (3x32x32: 4x4 stride-2 layers 3 -> 32 -> 64 -> 128 with batch-norm and
            // LeakyReLU, then a 4x4 layer onto one logit) compiled from its declaration: evaluation folds the batch-norm and
            // Prepare transforms the 32 -> 64 (8x8 outputs) and 64 -> 128 (4x4, 1.2 MB of filters: direct) layers' filters
            // where this machine runs the polyphase kernel; training runs the pass's prepared weights the same way. Against
            // the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(32, 4, stride: 2, padding: 1, bias: false), LayerSpec.LeakyReLU(0.2),
                LayerSpec.Conv2d(64, 4, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.LeakyReLU(0.2),
                LayerSpec.Conv2d(128, 4, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.LeakyReLU(0.2),
                LayerSpec.Conv2d(1, 4, stride: 1, padding: 0, bias: false), LayerSpec.Flatten(),
            };
            var network = new RandomNetwork("PolyphaseNet", TensorShape.Spatial(3, 32, 32), layers);
            using var assembly = GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace Polyphase;\n" + network.Declaration());
            var generated = assembly.CreateNetwork("Polyphase." + network.Name);
            if (Available && Simd.Enabled) Assert.True(PolyphaseWinogradConvolution.Pays(32, 16, 16, 64, 1));
            DifferentialTests.CheckAgainstInterpreter(network, generated);
        }
    }
}
