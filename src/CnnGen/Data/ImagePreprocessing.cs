using System;

namespace CnnGen.Data
{
    /// <summary>Turns a decoded grayscale image into a network input shaped like (Fashion-)MNIST.</summary>
    public static class ImagePreprocessing
    {
        /// <summary>
        /// Area-averages (or, for small images, repeats) <paramref name="grayscale"/> (row-major bytes) to
        /// <paramref name="size"/> x <paramref name="size"/> floats in [0, 1]. With <paramref name="lightItemOnDark"/>, an image
        /// whose mean is light — a photo of a dark item on a white background — is inverted, since (Fashion-)MNIST shows light
        /// items on black.
        /// </summary>
        public static float[] ToSquareInput(ReadOnlySpan<byte> grayscale, int width, int height, int size = 28, bool lightItemOnDark = true)
        {
            if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"The image must have positive dimensions; got {width}x{height}.");
            if (grayscale.Length != width * height) throw new ArgumentException($"Expected {width * height} bytes for a {width}x{height} image but got {grayscale.Length}.", nameof(grayscale));
            var pixels = new float[size * size];
            for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int y0 = y * height / size, y1 = Math.Max(y0 + 1, (y + 1) * height / size);
                int x0 = x * width / size, x1 = Math.Max(x0 + 1, (x + 1) * width / size);
                double total = 0;
                for (int sy = y0; sy < y1; sy++)
                    for (int sx = x0; sx < x1; sx++) total += grayscale[sy * width + sx];
                pixels[y * size + x] = (float)(total / ((y1 - y0) * (x1 - x0)) / 255.0);
            }
            if (lightItemOnDark)
            {
                double mean = 0;
                foreach (var p in pixels) mean += p;
                if (mean / pixels.Length > 0.5)
                    for (int i = 0; i < pixels.Length; i++) pixels[i] = 1f - pixels[i];
            }
            return pixels;
        }
    }
}
