using System;

namespace CnnGen.Data
{
    /// <summary>Turns a decoded grayscale image into a network input shaped like (Fashion-)MNIST.</summary>
    public static class ImagePreprocessing
    {
        /// <summary>
        /// The most pixels an image may have to be decoded (16,777,216: 4096 x 4096, 16 MiB as grayscale bytes). Decoders
        /// read the header first and call <see cref="RequirePixelBudget"/> before decoding anything, so a small file that
        /// claims huge dimensions (a 389 KB PNG of 20000 x 20000) is refused before it allocates.
        /// </summary>
        public const long MaxPixels = 4096L * 4096;

        /// <summary>Refuses dimensions that are not positive or exceed <see cref="MaxPixels"/>; <paramref name="source"/> names the image.</summary>
        /// <exception cref="DataFileException">The dimensions are out of bounds.</exception>
        public static void RequirePixelBudget(long width, long height, string source)
        {
            if (width <= 0 || height <= 0)
                throw new DataFileException(source, $"the image header gives dimensions {width}x{height}; they must be positive");
            if (width * height > MaxPixels)
                throw new DataFileException(source, $"the image is {width:N0}x{height:N0} = {width * height:N0} pixels, over the limit of {MaxPixels:N0} pixels (4096x4096); scale it down first");
        }

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
