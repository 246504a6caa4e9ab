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
    /// The stride-2 3x3 Winograd convolution (<see cref="StridedWinogradConvolution"/>, Vector512 only) against the
    /// definition in double precision on every shape, whatever Pays says: channel counts that fill no whole vector (1, 3,
    /// 5, 17), odd and even maps (an odd padded size leaves its last row unread), partial tiles (4x4, 2x2, 2x4) at the bottom and right,
    /// padding 0 to 2, ReLU, no bias.
    /// </summary>
    /// <remarks>
    /// The bound: |y − y_exact| ≤ 2e-5 · S with S = |bias| + Σ |x·w| over the cell's 3x3xC window (at least 1e-30), as for
    /// F(4x4, 3x3) stride 1, whose constants are of the same size (up to 8 in Aᵀ, 3 in Bᵀ, 1/6 in G). A wrong coefficient,
    /// tap or tile is off by about S/10 or more.
    /// </remarks>
    public sealed class StridedWinogradConvolutionTests
    {
        private const double Tolerance = 2e-5;

        public static IEnumerable<object[]> Shapes()
        {
            // inChannels, height, width, outChannels, padding, bias
            var shapes = new List<object[]>
            {
                new object[] { 32, 32, 32, 64, 1, true },    // the strided network's second layer
                new object[] { 64, 16, 16, 128, 1, true },   // and its third
                new object[] { 16, 32, 32, 32, 1, false },   // ResNet-8's first downsampling
                new object[] { 3, 64, 64, 32, 1, true },     // a stem: 3 channels
                new object[] { 1, 3, 3, 1, 0, false },       // one output cell
                new object[] { 5, 9, 11, 17, 0, true },      // odd everything, no padding
                new object[] { 17, 13, 7, 5, 2, false },     // padding 2, 17 channels: a group of 1
                new object[] { 64, 33, 33, 3, 1, true },     // padded 35: every padded row and column is read
                new object[] { 16, 34, 34, 16, 1, false },   // padded 36: the last padded row and column are read by no output
                new object[] { 16, 6, 30, 48, 1, false },    // 3 output vectors, one row of tiles
                new object[] { 3, 4, 5, 64, 2, true },       // small map, padding 2
                new object[] { 32, 18, 18, 32, 0, true },
                new object[] { 1, 33, 4, 1, 1, false },
                new object[] { 40, 40, 40, 80, 1, true },    // 5 output vectors: blocks of 3 + 2
                new object[] { 130, 8, 8, 20, 1, false },    // 9 input groups, a partial last one
                new object[] { 128, 48, 44, 128, 1, true },  // tiles in several chunks (the last test checks that)
                new object[] { 24, 9, 17, 32, 1, true },     // a 5x9 output: partial 2x4 (and 4x4) tiles at the bottom and right
                new object[] { 48, 16, 12, 96, 0, false },   // 7x5 output, no padding: a 2x4 tile's last column of one cell
            };
            shapes.AddRange(RandomShapes(seed: 53, count: 12, smallest: 3, largest: 40));
            return shapes;
        }

        private static bool Available => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

        // The tiles this machine runs: all three with AVX-512, the 4x4 tile on Vector256 with AVX2 and FMA, none without SIMD.
        private static int[] TilesHere => new[] { 4, 2, StridedWinogradConvolution.Wide }.Where(StridedWinogradConvolution.RunsTile).ToArray();

        [Theory]
        [MemberData(nameof(Shapes))]
        public void Forward_MatchesTheDefinition(int inChannels, int height, int width, int outChannels, int padding, bool hasBias)
        {
            if (TilesHere.Length == 0) return; // no SIMD: StridedConvolutionTests cover these layers on the scalar path
            var random = new Random(inChannels * 1000 + height * 31 + width * 7 + outChannels + padding);
            int outHeight = (height + 2 * padding - 3) / 2 + 1, outWidth = (width + 2 * padding - 3) / 2 + 1, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 3, 2, padding);
            foreach (int tile in TilesHere)
            {
                var layout = new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, padding, tile);
                Assert.Equal(outHeight, layout.OutHeight);
                Assert.Equal(outWidth, layout.OutWidth);
                float[] filters = Filled(layout.FiltersLength, float.NaN);
                StridedWinogradConvolution.TransformFilters(weight, filters, layout);
                float[] scratch = Filled(layout.ScratchLength, float.NaN); // whatever the scratch held must not reach y
                foreach (bool relu in new[] { false, true })
                {
                    float[] y = Filled(outLength + 5, float.NaN);
                    StridedWinogradConvolution.Forward(x, filters, bias, y.AsSpan(0, outLength), scratch, relu, layout);
                    AssertWithinScale(y, outLength, expected, scale, relu, Tolerance, "tile " + tile);
                }
            }
        }

        [Fact]
        public void TransformFilters_IsGgGt_WithZeroLanesPastTheLastChannel()
        {
            // One filter: U = G g Gᵀ with the 9x3 G (F(4, 2)'s on the outer taps, ones on the middle tap) computed here in
            // double, and the 15 lanes of the other output channels zero.
            float[] weight = { 1, -2, 3, 0.5f, 4, -1, 2, 7, -3 };
            double[,] g =
            {
                { 0.5, 0, 0 }, { 0.5, 0, 0.5 }, { 1.0 / 6, 0, -1.0 / 6 }, { 1.0 / 6, 0, 1.0 / 3 }, { 0, 0, 1 },
                { 0, 1, 0 }, { 0, 1, 0 }, { 0, 1, 0 }, { 0, 1, 0 },
            };
            var layout = new StridedWinogradConvolution.Layout(1, 9, 9, 1, 0);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            StridedWinogradConvolution.TransformFilters(weight, filters, layout);
            Assert.Equal(36, layout.FilterSlots); // 25 even x even, 5 + 5 of the middle row and column, 1 middle tap
            int positionStride = layout.FiltersLength / layout.FilterSlots;
            for (int a = 0; a < 9; a++)
            {
                for (int b = 0; b < 9; b++)
                {
                    double u = 0;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) u += g[a, i] * weight[i * 3 + j] * g[b, j];
                    int at = layout.SlotOfPosition[a * 9 + b] * positionStride;
                    Assert.True(Math.Abs(filters[at] - u) <= 1e-6 * (1 + Math.Abs(u)), $"U[{a},{b}] = {filters[at]}, expected {u}");
                    for (int lane = 1; lane < 16; lane++) Assert.Equal(0f, filters[at + lane]);
                }
            }
        }

        [Theory]
        [InlineData(1, 1, 4)]
        [InlineData(3, 17, 4)]   // output channels past one vector: lanes 17-31 zero
        [InlineData(5, 40, 2)]
        [InlineData(16, 32, 24)] // the 2x4 tile
        [InlineData(7, 8, 24)]
        [InlineData(33, 48, 2)]
        public void TransformFilters_IsGgGtInDouble_RoundedOnce_ForEveryChannelAndLane(int inChannels, int outChannels, int tile)
        {
            // U = G g Gᵀ per filter, the rows' G then the columns', in double with the same expressions as the tiles'
            // definitions (G₂ of F(4, 2) or F(2, 2) on the outer taps, the middle tap as it is), rounded to float once: the
            // kernel transforms 8 output channels at a time and must give these floats exactly.
            var random = new Random(inChannels * 100 + outChannels + tile);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            var layout = new StridedWinogradConvolution.Layout(inChannels, 12, 12, outChannels, 1, tile);
            float[] filters = Filled(layout.FiltersLength, float.NaN);
            StridedWinogradConvolution.TransformFilters(weight, filters, layout);
            int windowHeight = layout.WindowHeight, windowWidth = layout.WindowWidth, stride = layout.FiltersLength / layout.FilterSlots;
            Assert.Equal(tile == 4 ? 36 : tile == 2 ? 16 : 24, layout.FilterSlots);
            for (int ic = 0; ic < inChannels; ic++)
            {
                for (int lane = 0; lane < layout.OutLanes; lane++)
                {
                    var rows = new double[windowHeight, 3];
                    for (int j = 0; j < 3; j++)
                    {
                        double[] column = G(At(lane, ic, 0, j), At(lane, ic, 1, j), At(lane, ic, 2, j), layout.TileHeight);
                        for (int a = 0; a < windowHeight; a++) rows[a, j] = column[a];
                    }
                    for (int a = 0; a < windowHeight; a++)
                    {
                        double[] u = G(rows[a, 0], rows[a, 1], rows[a, 2], layout.TileWidth);
                        for (int b = 0; b < windowWidth; b++)
                            Assert.Equal((float)u[b], filters[layout.SlotOfPosition[a * windowWidth + b] * stride + WinogradF4Convolution.FilterAt(ic, lane, layout.InChannels, layout.OutGroups)]);
                    }
                }
            }

            double At(int lane, int ic, int row, int column) => lane < outChannels ? weight[((lane * inChannels + ic) * 3 + row) * 3 + column] : 0.0;

            static double[] G(double g0, double g1, double g2, int side) => side == 2
                ? new[] { g0, g0 + g2, g2, g1, g1 }
                : new[] { g0 / 2, (g0 + g2) / 2, (g0 - g2) / 6, g0 / 6 + g2 / 3, g2, g1, g1, g1, g1 };
        }

        [Theory]
        [InlineData(32, 32, 32, 64, true)]   // the strided network's second layer: the 4x4 tile
        [InlineData(64, 16, 16, 128, false)] // its third: the 4x4 tile
        [InlineData(96, 28, 28, 80, true)]   // a 14x14 output past 4608: the 2x2 tile (it covers it exactly)
        [InlineData(48, 16, 16, 96, true)]   // an 8x8 output with small filters: the 2x4 tile
        [InlineData(32, 8, 8, 64, true)]     // a 4x4 output: the 2x2 tile
        [InlineData(128, 8, 8, 160, false)]  // a 4x4 output past 8192 Cin·Cout, 10 output vectors: the 2x2 tile
        [InlineData(64, 14, 14, 80, true)]   // a 7x7 output: the 4x4 tile, its last row and column of tiles partly outside
        [InlineData(32, 13, 14, 48, false)]  // a 7x7 output from an odd map
        [InlineData(40, 15, 17, 48, false)]  // odd maps, channels off the vector
        public void StridedConvolution_RunsIt_WherePays_FromPreparedWeights(int inChannels, int height, int width, int outChannels, bool hasBias)
        {
            // Through the public entry points the generated code calls: Prepare (once per weight change), ForwardPrepared.
            var random = new Random(inChannels + height + width + outChannels);
            int outHeight = (height + 2 - 3) / 2 + 1, outWidth = (width + 2 - 3) / 2 + 1, outLength = outChannels * outHeight * outWidth;
            float[] x = RandomValues(random, inChannels * height * width);
            float[] weight = RandomValues(random, outChannels * inChannels * 9);
            float[] bias = hasBias ? RandomValues(random, outChannels) : Array.Empty<float>();
            int tile = StridedWinogradConvolution.TileFor(inChannels, height, width, outChannels, 1);
            int directLength = outChannels * inChannels * 9 + outChannels;
            int preparedLength = StridedConvolution.PreparedLength(inChannels, height, width, outChannels, 3, 2, 1);
            if (!StridedWinogradConvolution.Runs) Assert.Equal(0, tile);
            if (tile == 0) Assert.Equal(directLength, preparedLength);
            else Assert.Equal(new StridedWinogradConvolution.Layout(inChannels, height, width, outChannels, 1, tile).FiltersLength + outChannels, preparedLength);
            float[] prepared = RandomValues(random, preparedLength); // garbage must be overwritten
            StridedConvolution.Prepare(weight, bias, inChannels, height, width, outChannels, 3, 2, 1, prepared);
            float[] scratch = Filled(StridedConvolution.ScratchLength(inChannels, height, width, outChannels, 3, 2, 1), float.NaN);
            float[] y = Filled(outLength + 3, float.NaN);
            StridedConvolution.ForwardPrepared(x, inChannels, height, width, prepared, outChannels, 3, 2, 1, y.AsSpan(0, outLength), scratch, relu: true);
            var (expected, scale) = Definition(x, inChannels, height, width, weight, bias, outChannels, 3, 2, 1);
            AssertWithinScale(y, outLength, expected, scale, relu: true, Tolerance, "tile " + tile);
        }

        private static readonly Lazy<SafeTensorsFile> s_fixture = new(() =>
            SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", "strided_convolutions.safetensors")));

        public static IEnumerable<object[]> FixtureCases() =>
            s_fixture.Value.Metadata.Keys.Where(k => k.StartsWith("strided", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal)
                .Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(FixtureCases))]
        public void MatchesPyTorch_OnEveryPathAndTile(string name)
        {
            // relu(conv2d(x, w, b, stride 2)) recorded by tests/fixtures/make_strided_fixtures.py, to 1e-4: through StridedConvolution's
            // prepared entry points (Winograd where this process picks it, the direct kernels elsewhere), then each tile directly.
            var fixture = s_fixture.Value;
            int[] g = fixture.Metadata[name].Split(',').Select(int.Parse).ToArray();
            int c = g[0], h = g[1], w = g[2], oc = g[3], p = g[4];
            float[] x = fixture.GetFloats(name + ".x"), weight = fixture.GetFloats(name + ".weight"), bias = fixture.GetFloats(name + ".bias");
            float[] expected = fixture.GetFloats(name + ".y");
            float[] prepared = new float[StridedConvolution.PreparedLength(c, h, w, oc, 3, 2, p)];
            StridedConvolution.Prepare(weight, bias, c, h, w, oc, 3, 2, p, prepared);
            float[] y = new float[expected.Length];
            StridedConvolution.ForwardPrepared(x, c, h, w, prepared, oc, 3, 2, p, y, new float[StridedConvolution.ScratchLength(c, h, w, oc, 3, 2, p)], relu: true);
            Infrastructure.Compare.Close(y, expected, 1e-4, name + " (tile " + StridedWinogradConvolution.TileFor(c, h, w, oc, p) + ")");
            foreach (int tile in TilesHere)
            {
                var layout = new StridedWinogradConvolution.Layout(c, h, w, oc, p, tile);
                float[] filters = new float[layout.FiltersLength];
                StridedWinogradConvolution.TransformFilters(weight, filters, layout);
                Array.Clear(y);
                StridedWinogradConvolution.Forward(x, filters, bias, y, new float[layout.ScratchLength], relu: true, layout);
                Infrastructure.Compare.Close(y, expected, 1e-4, name + " tile " + tile);
            }
        }

        [Fact]
        public void GeneratedNetwork_WithEveryTile_MatchesTheInterpreter()
        {
            // A smaller strided network (3x32x32 -> 32, then stride 2: 32 -> 48 -> 96 with batch-norm, then 96 -> 48 on a 4x4
            // output) compiled from its declaration: evaluation folds the batch-norm, Prepare transforms the filters (the 4x4
            // tile on the 16x16 output, the 2x4 tile on 8x8, the 2x2 tile on 4x4 where this machine runs Winograd; the 2x2 tile
            // on 8x8 is StridedConvolution_RunsIt_WherePays_FromPreparedWeights' 64x16x16 -> 128), sized at run time;
            // training and backward run the direct kernels. Against the reference interpreter at batch 3, as DifferentialTests does.
            var layers = new[]
            {
                LayerSpec.Conv2d(32, 3, stride: 1, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(48, 3, stride: 2, padding: 1, bias: false), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(96, 3, stride: 2, padding: 1), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.Conv2d(48, 3, stride: 2, padding: 1), LayerSpec.BatchNorm(), LayerSpec.ReLU(),
                LayerSpec.GlobalAvgPool(), LayerSpec.Flatten(), LayerSpec.Linear(10),
            };
            var network = new RandomNetwork("StridedWinogradNet", TensorShape.Spatial(3, 32, 32), layers);
            using var assembly = GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace Strided;\n" + network.Declaration());
            var generated = assembly.CreateNetwork("Strided." + network.Name);
            if (!Available && StridedWinogradConvolution.Runs) Assert.Equal(4, StridedWinogradConvolution.TileFor(32, 32, 32, 48, 1));
            if (Available && Simd.Enabled)
            {
                Assert.Equal(4, StridedWinogradConvolution.TileFor(32, 32, 32, 48, 1));
                Assert.Equal(StridedWinogradConvolution.Wide, StridedWinogradConvolution.TileFor(48, 16, 16, 96, 1));
                Assert.Equal(2, StridedWinogradConvolution.TileFor(96, 8, 8, 48, 1));
            }
            DifferentialTests.CheckAgainstInterpreter(network, generated);
        }

        [Fact]
        public void TileFor_FollowsTheMeasuredTable()
        {
            Assert.Equal(0, StridedWinogradConvolution.TileFor(3, 64, 64, 32, 1));    // a stem
            Assert.Equal(0, StridedWinogradConvolution.TileFor(8, 32, 32, 32, 1));    // 8 channels in
            Assert.Equal(0, StridedWinogradConvolution.TileFor(16, 32, 32, 16, 1));   // 16 out
            Assert.Equal(0, StridedWinogradConvolution.TileFor(64, 4, 4, 128, 1));    // a 2x2 output
            if (!StridedWinogradConvolution.Runs)
            {
                Assert.Equal(0, StridedWinogradConvolution.TileFor(32, 32, 32, 64, 1)); // SIMD switched off, or no AVX2 and FMA
                return;
            }
            if (!Available)
            {
                // Vector256 (session 58): the 4x4 tile only, on outputs of 64 cells or more whose tiles' cells are three in four real.
                Assert.Equal(4, StridedWinogradConvolution.TileFor(32, 32, 32, 64, 1));  // 16x16
                Assert.Equal(4, StridedWinogradConvolution.TileFor(16, 32, 32, 32, 1));  // ResNet-8's first downsampling
                Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 16, 16, 128, 1)); // 8x8
                Assert.Equal(4, StridedWinogradConvolution.TileFor(32, 16, 16, 64, 1));  // 8x8, small filters (the 2x4 tile with AVX-512)
                Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 22, 22, 128, 1)); // 11x11: 121 of 144 cells
                Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 28, 28, 128, 1)); // 14x14: 196 of 256
                Assert.Equal(0, StridedWinogradConvolution.TileFor(64, 20, 20, 128, 1)); // 10x10: 100 of 144
                Assert.Equal(0, StridedWinogradConvolution.TileFor(32, 18, 18, 64, 1));  // 9x9
                Assert.Equal(0, StridedWinogradConvolution.TileFor(64, 14, 14, 128, 1)); // 7x7: under 64 cells
                Assert.Equal(0, StridedWinogradConvolution.TileFor(32, 8, 8, 64, 1));    // 4x4
                return;
            }
            Assert.Equal(4, StridedWinogradConvolution.TileFor(32, 32, 32, 64, 1));
            Assert.Equal(4, StridedWinogradConvolution.TileFor(16, 32, 32, 32, 1));   // ResNet-8's first downsampling
            Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 64, 64, 128, 1));
            Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 16, 16, 128, 1));  // 8x8 past 4608: the 4x4 tile on filters read block by block
            Assert.Equal(4, StridedWinogradConvolution.TileFor(128, 16, 16, 256, 1));
            Assert.Equal(2, StridedWinogradConvolution.TileFor(64, 8, 8, 128, 1));
            Assert.Equal(StridedWinogradConvolution.Wide, StridedWinogradConvolution.TileFor(32, 16, 16, 64, 1));  // 8x8, small filters
            Assert.Equal(StridedWinogradConvolution.Wide, StridedWinogradConvolution.TileFor(48, 24, 24, 96, 1));  // 12x12, 4608
            Assert.Equal(2, StridedWinogradConvolution.TileFor(32, 18, 18, 64, 1));   // 9x9: 2x4 tiles would cover 10x12
            Assert.Equal(2, StridedWinogradConvolution.TileFor(32, 8, 8, 64, 1));     // 4x4 outputs keep the 2x2 tile
            // Outputs of 16 to 63 cells (session 47): sides both even, the 2x2 tile; 7x7 (the 4x4 tiles' cells 49 of 64 real) the
            // 4x4 tile; 5x5 (25 of 64) the direct kernels; up to Cin·Cout 131072 where 512-bit multiply-adds run at half rate,
            // 8192 elsewhere.
            foreach (bool halfRate in new[] { true, false })
            {
                int Tile(int c, int h, int oc) => StridedWinogradConvolution.TileForRate(c, h, h, oc, 1, halfRate);
                Assert.Equal(2, Tile(32, 8, 64));    // 4x4
                Assert.Equal(2, Tile(64, 12, 128));  // 6x6
                Assert.Equal(4, Tile(32, 14, 64));   // 7x7
                Assert.Equal(0, Tile(64, 10, 64));   // 5x5
                Assert.Equal(0, Tile(64, 6, 128));   // 3x3: under 16 cells
                Assert.Equal(halfRate ? 2 : 0, Tile(128, 8, 128));  // 4x4 past 8192
                Assert.Equal(halfRate ? 2 : 0, Tile(256, 12, 256)); // 6x6
                Assert.Equal(halfRate ? 4 : 0, Tile(128, 14, 128)); // 7x7: the bottlenecks' 14 -> 7
                Assert.Equal(halfRate ? 4 : 0, Tile(256, 14, 512)); // 131072
                Assert.Equal(0, Tile(512, 14, 512));                // ResNet-50's 14 -> 7
                Assert.Equal(0, Tile(512, 8, 512));
            }
            Assert.Equal(StridedWinogradConvolution.TileForRate(128, 14, 14, 128, 1, Simd.HalfRateVector512), StridedWinogradConvolution.TileFor(128, 14, 14, 128, 1));
            // 64 to 255 cells past 4608: the 4x4 tile unless the 2x2 tiles cover the output more closely by more than 1.2x.
            Assert.Equal(2, StridedWinogradConvolution.TileFor(128, 28, 28, 128, 1)); // 14x14: 196 of 196 against 256
            Assert.Equal(2, StridedWinogradConvolution.TileFor(256, 20, 20, 256, 1)); // 10x10
            Assert.Equal(2, StridedWinogradConvolution.TileFor(128, 18, 18, 128, 1)); // 9x9: 100 against 144
            Assert.Equal(4, StridedWinogradConvolution.TileFor(128, 22, 22, 128, 1)); // 11x11: both cover 144
            Assert.Equal(4, StridedWinogradConvolution.TileFor(64, 24, 24, 128, 1));  // 12x12
            Assert.Equal(4, StridedWinogradConvolution.TileFor(128, 36, 36, 128, 1)); // 18x18: 256 cells or more, the 4x4 tile
        }

        [Fact]
        public void Forward_AllocatesNothing_OverSeveralChunks()
        {
            Assert.True(new StridedWinogradConvolution.Layout(128, 48, 44, 128, 1).Chunks > 1, "a shape of the tests covers several chunks");
            foreach (int tile in TilesHere)
            {
                var layout = new StridedWinogradConvolution.Layout(32, 32, 32, 64, 1, tile);
                float[] x = new float[32 * 32 * 32], w = new float[64 * 32 * 9], b = new float[64], y = new float[64 * 16 * 16];
                float[] filters = new float[layout.FiltersLength], scratch = new float[layout.ScratchLength];
                Infrastructure.Allocations.AssertNone(() =>
                {
                    StridedWinogradConvolution.TransformFilters(w, filters, layout);
                    StridedWinogradConvolution.Forward(x, filters, b, y, scratch, relu: true, layout);
                }, calls: 20);
            }
            // And through StridedConvolution's prepared entry points, as the generated code calls them.
            float[] px = new float[64 * 16 * 16], pw = new float[128 * 64 * 9], pb = new float[128], py = new float[128 * 8 * 8];
            float[] prepared = new float[StridedConvolution.PreparedLength(64, 16, 16, 128, 3, 2, 1)];
            float[] pscratch = new float[StridedConvolution.ScratchLength(64, 16, 16, 128, 3, 2, 1)];
            Infrastructure.Allocations.AssertNone(() =>
            {
                StridedConvolution.Prepare(pw, pb, 64, 16, 16, 128, 3, 2, 1, prepared);
                StridedConvolution.ForwardPrepared(px, 64, 16, 16, prepared, 128, 3, 2, 1, py, pscratch, relu: true);
            }, calls: 20);
        }

        // TileFor's picks as measured (benchmarks/README.md): the 2x4 tile on 8x8 outputs only while its filters stay in L2
        // (Cin·Cout ≤ 4608), above that the 4x4 tile (the strided network's 64 -> 128 since session 37, its filters read block
        // by block), the 4x4 tile from 256 output cells, the 2x2 tile on 4x4 outputs up to 8192, the direct kernels below
        // 16 channels in or 32 out and on 2x2 outputs. Without AVX-512 (Vector256) the 4x4 tile from 8x8 outputs, else the direct kernels.
        [Fact]
        public void TileForPicksTheMeasuredTile()
        {
            var cases = new (int C, int H, int OC, int Tile, int Vector256Tile)[]
            {
                (32, 32, 64, 4, 4), (64, 16, 128, 4, 4), (32, 16, 64, StridedWinogradConvolution.Wide, 4), (64, 16, 64, StridedWinogradConvolution.Wide, 4),
                (64, 8, 128, 2, 0), (128, 8, 64, 2, 0), (64, 4, 128, 0, 0), (8, 32, 16, 0, 0), (3, 64, 32, 0, 0), (32, 18, 64, 2, 0),
            };
            foreach (var c in cases)
            {
                int expected = StridedWinogradConvolution.Available ? c.Tile : StridedWinogradConvolution.Runs ? c.Vector256Tile : 0;
                Assert.Equal(expected, StridedWinogradConvolution.TileFor(c.C, c.H, c.H, c.OC, 1));
            }
        }
    }
}
