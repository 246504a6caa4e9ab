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

            return ImagePreprocessing.ToSquareInput(image.Data, image.Width, image.Height);
        }
    }
}
