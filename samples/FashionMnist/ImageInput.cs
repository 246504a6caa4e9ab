using System;
using System.IO;
using CnnGen.Data;
using StbImageSharp;

namespace FashionMnist
{
    /// <summary>An image file as Fashion-MNIST's input: 28x28 grayscale in [0, 1], a light item on a dark background.</summary>
    public static class ImageInput
    {
        public static float[] Load(string path)
        {
            if (!File.Exists(path)) throw new DataFileException(path, "file not found");
            ImageResult image;
            try
            {
                using var stream = File.OpenRead(path);
                image = ImageResult.FromStream(stream, ColorComponents.Grey);
            }
            catch (Exception error) when (error is not DataFileException)
            {
                throw new DataFileException(path, "not a PNG or JPEG image this program can read: " + error.Message, error);
            }

            // Area-average down (or nearest up) to 28x28.
            var pixels = new float[28 * 28];
            for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                int y0 = y * image.Height / 28, y1 = Math.Max(y0 + 1, (y + 1) * image.Height / 28);
                int x0 = x * image.Width / 28, x1 = Math.Max(x0 + 1, (x + 1) * image.Width / 28);
                double sum = 0;
                for (int sy = y0; sy < y1; sy++)
                    for (int sx = x0; sx < x1; sx++) sum += image.Data[sy * image.Width + sx];
                pixels[y * 28 + x] = (float)(sum / ((y1 - y0) * (x1 - x0)) / 255.0);
            }

            // Photos usually show a dark item on a light background; Fashion-MNIST is the other way round.
            double mean = 0;
            foreach (var p in pixels) mean += p;
            if (mean / pixels.Length > 0.5)
                for (int i = 0; i < pixels.Length; i++) pixels[i] = 1f - pixels[i];
            return pixels;
        }
    }
}
