using System;
using System.Globalization;
using System.IO;
using CnnGen.Data;
using CnnGen.IO;
using StbImageSharp;

namespace Scenes
{
    public static class Predict
    {
        public static int Run(string weightsPath, string imagePath, string? outputPath)
        {
            var file = SafeTensorsFile.Read(weightsPath);
            var pixels = LoadScene(imagePath);
            var input = new float[SceneSet.Pixels];
            for (int i = 0; i < input.Length; i++) input[i] = pixels[i] / 255f;
            // The U-Net's second module is a concatenation; the detector is a plain sequence.
            if (file.Contains("2.branches.1.1.weight"))
            {
                var network = new SceneUNet();
                NetworkWeights.Load(network, file);
                var logits = new float[SceneUNet.OutputLength];
                network.Forward(input, logits, network.CreateWorkspace());
                var classes = new int[SceneSet.Pixels];
                SegmentationTask.ArgMaxPixels(logits, classes);
                var mask = new byte[SceneSet.Pixels];
                var counts = new int[SceneSet.Classes];
                for (int p = 0; p < mask.Length; p++) { mask[p] = (byte)classes[p]; counts[classes[p]]++; }
                string output = outputPath ?? Path.ChangeExtension(imagePath, ".mask.png");
                Pictures.MaskPng(mask, output);
                Console.WriteLine($"{imagePath}: mask written to {output} (64x64, 4x, class palette); pixels per class:");
                for (int c = 0; c < counts.Length; c++)
                    if (counts[c] > 0) Console.WriteLine($"  {Pictures.ClassName(c),-12} {counts[c],5}");
            }
            else
            {
                var network = new GridDetector();
                NetworkWeights.Load(network, file);
                var raw = new float[GridDetector.OutputLength];
                network.Forward(input, raw, network.CreateWorkspace());
                var detections = GridCoding.Decode(raw, minScore: 0.3f);
                detections.Sort((a, b) => b.Score.CompareTo(a.Score));
                string output = outputPath ?? Path.ChangeExtension(imagePath, ".boxes.png");
                Pictures.BoxesPng(pixels, detections, output);
                Console.WriteLine($"{imagePath}: {detections.Count} item(s) with score >= 0.3 (boxes x0 y0 x1 y1 in 64x64 pixels); picture {output}");
                foreach (var d in detections)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {FashionMnist.FashionMnistData.ClassNames[d.Class],-12} {d.Score:F3}  {d.Box.X0:F1} {d.Box.Y0:F1} {d.Box.X1:F1} {d.Box.Y1:F1}"));
            }
            return 0;
        }

        /// <summary>An image file as a 64x64 grayscale scene (bilinear resize when it is another size).</summary>
        public static byte[] LoadScene(string path)
        {
            if (!File.Exists(path)) throw new DataFileException(path, "file not found");
            ImageResult image;
            try
            {
                using var stream = File.OpenRead(path);
                image = ImageResult.FromStream(stream, ColorComponents.Grey);
            }
            catch (Exception error)
            {
                throw new DataFileException(path, "not a PNG or JPEG image this program can read: " + error.Message, error);
            }
            var result = new byte[SceneSet.Pixels];
            for (int y = 0; y < SceneSet.Size; y++)
                for (int x = 0; x < SceneSet.Size; x++)
                {
                    float sx = Math.Clamp((x + 0.5f) * image.Width / SceneSet.Size - 0.5f, 0, image.Width - 1);
                    float sy = Math.Clamp((y + 0.5f) * image.Height / SceneSet.Size - 0.5f, 0, image.Height - 1);
                    int x0 = (int)sx, y0 = (int)sy, x1 = Math.Min(x0 + 1, image.Width - 1), y1 = Math.Min(y0 + 1, image.Height - 1);
                    float fx = sx - x0, fy = sy - y0;
                    float v = (1 - fy) * ((1 - fx) * image.Data[y0 * image.Width + x0] + fx * image.Data[y0 * image.Width + x1])
                        + fy * ((1 - fx) * image.Data[y1 * image.Width + x0] + fx * image.Data[y1 * image.Width + x1]);
                    result[y * SceneSet.Size + x] = (byte)Math.Clamp(MathF.Round(v), 0, 255);
                }
            return result;
        }
    }
}
