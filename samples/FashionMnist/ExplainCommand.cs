using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CnnGen;
using CnnGen.Explain;
using CnnGen.IO;
using CnnGen.Training;
using SkiaSharp;

namespace FashionMnist
{
    /// <summary>
    /// What the network learned and sees: the first layer's filters as a grid, the feature maps of chosen layers, and why
    /// it predicts a class — Grad-CAM and saliency (<see cref="Explanations"/>) as heat maps blended over the image — for
    /// one image (a file, or a test image by index). Feature maps come from the generated workspace's
    /// <c>LayerOutput(i)</c> after a training-mode forward pass of the one image (LeNet-5 has no batch-norm or dropout, so
    /// it equals evaluation); the generated code does not keep a convolution's output when its ReLU is fused into it, and
    /// those come from the reference interpreter instead (the output says which).
    /// </summary>
    public static class ExplainCommand
    {
        public const int Scale = 8;

        /// <summary>How much of the heat-map colour an overlay pixel takes; the rest is the grayscale image.</summary>
        public const float OverlayOpacity = 0.5f;

        public static int Run(string weightsPath, string? imagePath, int? index, string? layersText, string outputFolder, string? dataFolder, TextWriter? output = null,
            int? classIndex = null, int? gradCamLayer = null)
        {
            output ??= Console.Out;
            // 1. Options, before any work.
            if (imagePath is null == index is null) throw new UsageException("explain: give an image file or --index N (a test image), one of the two");
            if (index is int i0 && i0 < 0) throw new UsageException($"--index must be 0 or more; got {i0}");
            int layerCount = LeNet5.Layout.Layers.Count;
            int[] layers = layersText is null ? new[] { 0, 1, 2, 3, 4, 5 } : TrainOptions.ParseLayerList("--layers", layersText);
            foreach (int l in layers)
                if (l < 0 || l >= layerCount) throw new UsageException($"--layers: layer {l} does not exist; LeNet-5's layers are 0 to {layerCount - 1}");
            int classes = LeNet5.OutputLength;
            if (classIndex is int c0 && (c0 < 0 || c0 >= classes)) throw new UsageException($"--class must be a class from 0 to {classes - 1}; got {c0}");
            if (gradCamLayer is int g0 && (g0 < 0 || g0 >= layerCount || !LeNet5.Layout.Layers[g0].Output.IsSpatial))
                throw new UsageException($"--gradcam-layer must be a layer with feature maps (0 to {LastSpatialLayer}); got {g0}");
            if (string.IsNullOrWhiteSpace(outputFolder)) throw new UsageException("--output must name a folder");
            if (File.Exists(outputFolder)) throw new UsageException($"--output {outputFolder}: exists and is not a folder");
            string? folder = index is not null ? FashionMnistData.Locate(dataFolder, training: false) : null;

            var network = new LeNet5();
            NetworkWeights.Load(network, weightsPath);
            float[] pixels;
            string what;
            if (index is int i)
            {
                var data = FashionMnistData.LoadTest(folder!);
                if (i >= data.TestLabels.Length) throw new UsageException($"--index {i}: the test set has {data.TestLabels.Length:N0} images (0 to {data.TestLabels.Length - 1})");
                pixels = data.TestImages.AsSpan(i * FashionMnistData.ImageLength, FashionMnistData.ImageLength).ToArray();
                what = $"test image {i} ({FashionMnistData.ClassNames[data.TestLabels[i]]})";
            }
            else
            {
                pixels = ImageInput.Load(imagePath!);
                what = imagePath!;
            }
            try
            {
                Directory.CreateDirectory(outputFolder);
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--output {outputFolder}: cannot create or use the folder: {problem.Message}");
            }

            // 2. One training-mode forward pass: the workspace keeps what backward would need.
            var workspace = network.CreateWorkspace(1);
            var logits = new float[LeNet5.OutputLength];
            network.Forward(pixels, logits, 1, workspace, training: true);
            var probabilities = Softmax(logits);
            var top = Enumerable.Range(0, logits.Length).OrderByDescending(k => probabilities[k]).Take(3).ToArray();
            output.WriteLine($"{what}: " + string.Join(", ", top.Select(k => string.Create(CultureInfo.InvariantCulture, $"{FashionMnistData.ClassNames[k]} {100 * probabilities[k]:F1}%"))));

            var written = new List<string>();
            string inputPath = Path.Combine(outputFolder, "input.png");
            WritePng(inputPath, Grid(new[] { pixels }, 28, 28, 1, Scale * 2, grayscale: true, shared: false));
            written.Add(inputPath);

            string filtersPath = Path.Combine(outputFolder, "filters.png");
            WritePng(filtersPath, Filters(network));
            written.Add(filtersPath);

            ReferenceInterpreter? interpreter = null;
            foreach (int layer in layers)
            {
                var info = LeNet5.Layout.Layers[layer];
                float[] values;
                string source = "LayerOutput";
                try
                {
                    values = workspace.LayerOutput(layer).ToArray();
                }
                catch (InvalidOperationException)
                {
                    if (interpreter is null)
                    {
                        interpreter = new ReferenceInterpreter(LeNet5.Layout);
                        var random = new CnnRandom(0);
                        interpreter.Forward(network.Parameters, network.Buffers.ToArray(), network.Counters.ToArray(), pixels, 1, false, ref random);
                    }
                    values = Array.ConvertAll(interpreter.Activations[layer + 1], v => (float)v);
                    source = "reference interpreter (the generated code fuses this output away)";
                }
                var shape = info.Output;
                int channels = shape.IsSpatial ? shape.Channels : 1, height = shape.IsSpatial ? shape.Height : 1, width = shape.IsSpatial ? shape.Width : shape.Channels;
                var maps = Enumerable.Range(0, channels).Select(c => values.AsSpan(c * height * width, height * width).ToArray()).ToArray();
                int cell = Math.Max(2, 28 * Scale / Math.Max(height, 8));
                if (!shape.IsSpatial) cell = Math.Max(4, 800 / width);
                string path = Path.Combine(outputFolder, $"layer{layer}-{info.TorchName.ToLowerInvariant()}.png");
                WritePng(path, Grid(maps, height, width, Math.Min(channels, 8), cell, grayscale: true, shared: true));
                written.Add(path);
                output.WriteLine($"  layer {layer} {info.TorchName} {shape}: {channels} map(s), max {values.Max():G4}, min {values.Min():G4} (from {source})");
            }

            // Why: Grad-CAM of a layer and saliency for a class (the predicted one unless --class), in evaluation mode.
            int target = classIndex ?? Array.IndexOf(logits, logits.Max());
            string className = FashionMnistData.ClassNames[target] + (classIndex is null ? " (predicted)" : "");
            var (camLayer, cam) = GradCam(network, pixels, gradCamLayer, target);
            string camPath = Path.Combine(outputFolder, "gradcam.png");
            WritePng(camPath, Overlay(pixels, cam, 28, 28, Scale));
            written.Add(camPath);
            output.WriteLine($"  Grad-CAM of layer {camLayer} ({LeNet5.Layout.Layers[camLayer].Describe()}) for {className}: {camPath}");
            string saliencyPath = Path.Combine(outputFolder, "saliency.png");
            WritePng(saliencyPath, Overlay(pixels, SaliencyHeat(network, pixels, target), 28, 28, Scale));
            written.Add(saliencyPath);
            output.WriteLine($"  saliency (|d score / d pixel|) for {className}: {saliencyPath}");

            output.WriteLine("Wrote " + string.Join(", ", written));
            return 0;
        }

        /// <summary>The last layer whose output is a feature map (Grad-CAM's candidates are 0 to it).</summary>
        public static int LastSpatialLayer => LeNet5.Layout.Layers.Last(l => l.Output.IsSpatial).Index;

        /// <summary>
        /// Grad-CAM for <paramref name="target"/>, upsampled to the image and scaled to [0, 1] (by its maximum). Without a chosen
        /// layer: the last convolution, or its activation when the convolution's own output is not kept for backward.
        /// </summary>
        public static (int Layer, float[] Heat) GradCam(LeNet5 network, float[] pixels, int? layer, int target)
        {
            var layout = LeNet5.Layout;
            int chosen = layer ?? layout.Layers.Last(l => l.Kind == CnnGen.Shapes.LayerKind.Conv2d).Index;
            var upsampled = new float[layout.Input.Height * layout.Input.Width];
            while (true)
            {
                var map = new float[layout.Layers[chosen].Output.Height * layout.Layers[chosen].Output.Width];
                try
                {
                    Explanations.GradCam(network, pixels, chosen, target, map, upsampled);
                    return (chosen, ScaleToUnit(upsampled));
                }
                catch (ArgumentException) when (layer is null && chosen + 1 < layout.Layers.Count && layout.Layers[chosen + 1].Output.IsSpatial)
                {
                    chosen++; // the convolution's output is not kept: its ReLU's is the same maps, rectified
                }
            }
        }

        /// <summary>Saliency for <paramref name="target"/>: |d score / d pixel|, scaled to [0, 1] by its maximum.</summary>
        public static float[] SaliencyHeat(LeNet5 network, float[] pixels, int target)
        {
            var gradient = new float[LeNet5.InputLength];
            Explanations.Saliency(network, pixels, target, gradient);
            for (int i = 0; i < gradient.Length; i++) gradient[i] = Math.Abs(gradient[i]);
            return ScaleToUnit(gradient);
        }

        private static float[] ScaleToUnit(float[] values)
        {
            float max = values.Max();
            return max > 0 ? values.Select(v => v / max).ToArray() : new float[values.Length];
        }

        /// <summary>
        /// A heat map (values in [0, 1], one per image pixel) over the grayscale image: each pixel a square of
        /// <paramref name="cell"/> pixels in <see cref="OverlayColor"/>.
        /// </summary>
        public static SKBitmap Overlay(float[] image, float[] heat, int height, int width, int cell)
        {
            var bitmap = new SKBitmap(width * cell, height * cell);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    var color = OverlayColor(image[y * width + x], heat[y * width + x]);
                    for (int dy = 0; dy < cell; dy++)
                        for (int dx = 0; dx < cell; dx++)
                            bitmap.SetPixel(x * cell + dx, y * cell + dy, color);
                }
            return bitmap;
        }

        /// <summary>The heat colour (<see cref="HeatColor"/>) blended with the gray of the pixel (0 black, 1 white) at <see cref="OverlayOpacity"/>.</summary>
        public static SKColor OverlayColor(float gray, float heat)
        {
            var (r, g, b) = HeatColor(heat);
            float under = 255f * Math.Clamp(gray, 0f, 1f) * (1 - OverlayOpacity);
            byte Mix(float channel) => (byte)Math.Clamp(MathF.Round(under + OverlayOpacity * channel), 0f, 255f);
            return new SKColor(Mix(r), Mix(g), Mix(b));
        }

        /// <summary>A "jet"-like palette: 0 dark blue, then blue, cyan, yellow, red at 1.</summary>
        public static (float R, float G, float B) HeatColor(float heat)
        {
            float t = Math.Clamp(heat, 0f, 1f);
            float Ramp(float center) => 255f * Math.Clamp(1.5f - Math.Abs(4f * t - center), 0f, 1f);
            return (Ramp(3f), Ramp(2f), Ramp(1f));
        }

        private static double[] Softmax(float[] logits)
        {
            double max = logits.Max(), sum = 0;
            var p = logits.Select(v => Math.Exp(v - max)).ToArray();
            foreach (double v in p) sum += v;
            return p.Select(v => v / sum).ToArray();
        }

        /// <summary>The first convolution's 5x5 filters, each on its own symmetric scale: red positive, blue negative, white 0.</summary>
        public static SKBitmap Filters(LeNet5 network)
        {
            var entry = LeNet5.Layout.Tensors.First(t => t.Name == "0.weight");
            int filters = entry.Shape[0], inChannels = entry.Shape[1], kh = entry.Shape[2], kw = entry.Shape[3];
            var weights = network.Parameters.Slice(entry.Offset, entry.Length).ToArray();
            var maps = Enumerable.Range(0, filters * inChannels).Select(f => weights.AsSpan(f * kh * kw, kh * kw).ToArray()).ToArray();
            return Grid(maps, kh, kw, Math.Min(filters * inChannels, 8), 24, grayscale: false, shared: false);
        }

        /// <summary>
        /// Maps of height x width values in a grid of <paramref name="columns"/>, each value a square of <paramref name="cell"/>
        /// pixels, 4 pixels apart. Grayscale: black at the minimum, white at the maximum (of each map, or of all when
        /// <paramref name="shared"/>, so maps compare). Otherwise a diverging red/blue scale symmetric about 0.
        /// </summary>
        public static SKBitmap Grid(IReadOnlyList<float[]> maps, int height, int width, int columns, int cell, bool grayscale, bool shared)
        {
            const int gap = 4;
            int rows = (maps.Count + columns - 1) / columns;
            var bitmap = new SKBitmap(columns * (width * cell + gap) + gap, rows * (height * cell + gap) + gap);
            using (var canvas = new SKCanvas(bitmap)) canvas.Clear(new SKColor(200, 200, 200));
            float sharedMin = maps.Min(m => m.Min()), sharedMax = maps.Max(m => m.Max());
            for (int k = 0; k < maps.Count; k++)
            {
                var map = maps[k];
                float min = shared ? sharedMin : map.Min(), max = shared ? sharedMax : map.Max();
                float extent = Math.Max(Math.Abs(min), Math.Abs(max));
                int left = gap + (k % columns) * (width * cell + gap), top = gap + (k / columns) * (height * cell + gap);
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        float v = map[y * width + x];
                        SKColor color;
                        if (grayscale)
                        {
                            byte g = (byte)Math.Clamp(max > min ? 255f * (v - min) / (max - min) : 0f, 0f, 255f);
                            color = new SKColor(g, g, g);
                        }
                        else
                        {
                            float t = extent > 0 ? v / extent : 0;
                            byte fade = (byte)Math.Clamp(255f * (1 - Math.Abs(t)), 0f, 255f);
                            color = t >= 0 ? new SKColor(255, fade, fade) : new SKColor(fade, fade, 255);
                        }
                        for (int dy = 0; dy < cell; dy++)
                            for (int dx = 0; dx < cell; dx++)
                                bitmap.SetPixel(left + x * cell + dx, top + y * cell + dy, color);
                    }
            }
            return bitmap;
        }

        private static void WritePng(string path, SKBitmap bitmap)
        {
            using (bitmap)
            using (var image = SKImage.FromBitmap(bitmap))
            using (var png = image.Encode(SKEncodedImageFormat.Png, 100))
            {
                try
                {
                    AtomicFile.WriteAllBytes(path, png.AsSpan());
                }
                catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"cannot write {path}: {problem.Message}");
                }
            }
        }
    }
}
