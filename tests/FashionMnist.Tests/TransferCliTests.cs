using System;
using System.IO;
using System.Linq;
using CnnGen.IO;
using Xunit;

namespace FashionMnist.Tests
{
    /// <summary>Issue 15 in the main job: --init-weights, --freeze, the new --augment choices, explain.</summary>
    public sealed class TransferCliTests : IDisposable
    {
        private static readonly string Subset = InProcess.Subset;
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-transfer-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private string P(string name) => Path.Combine(_folder, name);

        /// <summary>A five-class LeNet-5's weights: the backbone loads into the ten-class network, the head stays at initialization.</summary>
        private string FiveClassWeights()
        {
            var five = new LeNet5Five();
            five.ResetParameters(11);
            NetworkWeights.Save(five, P("five.safetensors"));
            return P("five.safetensors");
        }

        [Fact]
        public void InitWeightsAndFreeze_KeepTheFrozenLayersBitIdentical_AndTrainTheRest()
        {
            string init = FiveClassWeights();
            var (code, text, error) = InProcess.Run("--epochs", "1", "--limit", "200", "--batch-size", "50", "--threads", "1", "--data", Subset,
                "--output", P("run"), "--no-plots", "--init-weights", init, "--freeze", "0,3", "--augment", "shift+rotate+erase");
            Assert.True(code == 0, error);
            Assert.Contains("shape differs, left at initialization: 11.weight (network [10, 84], file '11.weight' [5, 84])", text);
            Assert.Contains("--freeze 0,3: Trainable params: 59,134 of 61,706 (2,572 frozen: 0.weight, 0.bias, 3.weight, 3.bias)", text);
            var before = SafeTensorsFile.Read(init);
            var after = SafeTensorsFile.Read(P("run/lenet5.safetensors"));
            foreach (var key in new[] { "0.weight", "0.bias", "3.weight", "3.bias" }) Assert.Equal(before.GetFloats(key), after.GetFloats(key));
            foreach (var key in new[] { "7.weight", "9.weight" }) Assert.NotEqual(before.GetFloats(key), after.GetFloats(key));

            // The checkpoint remembers the frozen layers: resuming without them is refused.
            (code, _, error) = InProcess.Run("--epochs", "2", "--limit", "200", "--batch-size", "50", "--threads", "1", "--data", Subset,
                "--output", P("run"), "--no-plots", "--resume", "--augment", "shift+rotate+erase");
            Assert.Equal(Cli.UsageError, code);
            Assert.Contains("--freeze none (the checkpoint has 0,3)", error);
        }

        [Theory]
        [InlineData("--freeze 1", "--freeze: layer 1 (ReLU) has no parameters")]
        [InlineData("--freeze 12", "--freeze: layer 12 does not exist")]
        [InlineData("--freeze 0,,3", "--freeze: '0,,3' is not a comma-separated list")]
        [InlineData("--freeze 0,3,7,9,11", "nothing would train")]
        [InlineData("--init-weights MISSING", "--init-weights")]
        [InlineData("--init-weights BAD", "bad.safetensors")]
        [InlineData("--resume --init-weights GOOD", "--init-weights cannot be combined with --resume")]
        [InlineData("--augment shift+twirl", "--augment: 'twirl' is not a transform")]
        public void BadOptionsAreOneLineErrorsBeforeAnyWork(string options, string message)
        {
            File.WriteAllBytes(P("bad.safetensors"), new byte[] { 1, 2, 3 });
            string good = FiveClassWeights();
            var args = options.Split(' ').Select(a => a switch { "MISSING" => P("missing.safetensors"), "BAD" => P("bad.safetensors"), "GOOD" => good, _ => a })
                .Concat(new[] { "--epochs", "1", "--limit", "50", "--data", Subset, "--output", P("out"), "--no-plots" }).ToArray();
            var (code, _, error) = InProcess.Run(args);
            Assert.Equal(Cli.UsageError, code);
            InProcess.AssertOneLineError(error, message);
            Assert.False(Directory.Exists(P("out")), "an output folder was created before the options were checked");
        }

        [Fact]
        public void ExplainWritesFiltersAndFeatureMaps()
        {
            var network = new LeNet5();
            network.ResetParameters(2);
            NetworkWeights.Save(network, P("w.safetensors"));
            var (code, text, error) = InProcess.Run("explain", "--weights", P("w.safetensors"), "--index", "5", "--layers", "0,1,5,7", "--data", Subset, "--output", P("explain"));
            Assert.True(code == 0, error);
            Assert.Contains("test image 5", text);
            foreach (var file in new[] { "input.png", "filters.png", "layer0-conv2d.png", "layer1-relu.png", "layer5-maxpool2d.png", "layer7-linear.png" })
                Assert.True(new FileInfo(P("explain/" + file)).Length > 100, file);

            (code, _, error) = InProcess.Run("explain", "--weights", P("w.safetensors"), "--data", Subset, "--output", P("explain2"));
            Assert.Equal(Cli.UsageError, code);
            InProcess.AssertOneLineError(error, "give an image file or --index N");
        }

        /// <summary>
        /// Grad-CAM and saliency overlays: 224x224 pictures whose every cell is the heat colour of Explanations' map (scaled to
        /// [0, 1]) blended over the image's gray, for the chosen class and layer, or the predicted class and the last convolution.
        /// </summary>
        [Fact]
        public void ExplainWritesGradCamAndSaliencyOverlays()
        {
            var network = new LeNet5();
            network.ResetParameters(4);
            NetworkWeights.Save(network, P("w.safetensors"));
            var image = FashionMnistData.LoadTest(Subset).TestImages.AsSpan(5 * 784, 784).ToArray();

            var (code, text, error) = InProcess.Run("explain", "--weights", P("w.safetensors"), "--index", "5", "--class", "7", "--gradcam-layer", "2",
                "--data", Subset, "--output", P("explain"));
            Assert.True(code == 0, error);
            Assert.Contains("Grad-CAM of layer 2", text);
            var cam = new float[14 * 14];
            var camUpsampled = new float[784];
            CnnGen.Explain.Explanations.GradCam(network, image, 2, 7, cam, camUpsampled);
            AssertOverlay(P("explain/gradcam.png"), image, camUpsampled);
            var saliency = new float[784];
            CnnGen.Explain.Explanations.Saliency(network, image, 7, saliency);
            AssertOverlay(P("explain/saliency.png"), image, saliency.Select(Math.Abs).ToArray());

            // Defaults: the predicted class, the last convolution (its ReLU, whose output backward keeps).
            (code, text, error) = InProcess.Run("explain", "--weights", P("w.safetensors"), "--index", "5", "--data", Subset, "--output", P("defaults"));
            Assert.True(code == 0, error);
            Assert.Contains("(predicted)", text);
            var logits = new float[10];
            network.Forward(image, logits, network.CreateWorkspace());
            int predicted = Array.IndexOf(logits, logits.Max());
            var (layer, heat) = ExplainCommand.GradCam(network, image, null, predicted);
            Assert.True(layer is 3 or 4, $"layer {layer}");
            Assert.Contains($"Grad-CAM of layer {layer}", text);
            AssertOverlay(P("defaults/gradcam.png"), image, heat);

            foreach (var (option, value, message) in new[] { ("--class", "10", "--class must be a class from 0 to 9"), ("--gradcam-layer", "7", "--gradcam-layer must be a layer with feature maps") })
            {
                (code, _, error) = InProcess.Run("explain", "--weights", P("w.safetensors"), "--index", "5", option, value, "--data", Subset, "--output", P("bad"));
                Assert.Equal(Cli.UsageError, code);
                InProcess.AssertOneLineError(error, message);
            }
        }

        private static void AssertOverlay(string path, float[] image, float[] map)
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(path);
            Assert.Equal((28 * ExplainCommand.Scale, 28 * ExplainCommand.Scale), (bitmap.Width, bitmap.Height));
            float max = map.Max();
            Assert.True(max > 0, path + ": an empty map");
            int warm = 0;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                {
                    float heat = map[y * 28 + x] / max;
                    var expected = ExplainCommand.OverlayColor(image[y * 28 + x], heat);
                    var actual = bitmap.GetPixel(x * ExplainCommand.Scale + 3, y * ExplainCommand.Scale + 5);
                    // One unit per channel: the heat's scaling may round differently.
                    Assert.True(Math.Abs(expected.Red - actual.Red) <= 1 && Math.Abs(expected.Green - actual.Green) <= 1 && Math.Abs(expected.Blue - actual.Blue) <= 1,
                        $"{path} ({x}, {y}): expected {expected}, got {actual}");
                    if (heat > 0.75f) warm++;
                }
            Assert.True(warm > 0, path + ": no hot pixel");
        }
    }
}
