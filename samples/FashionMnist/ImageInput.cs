using System;
using System.IO;
using CnnGen.Data;
using CnnGen.IO;
using StbImageSharp;

namespace FashionMnist
{
    /// <summary>An image file as Fashion-MNIST's input: 28x28 grayscale in [0, 1], a light item on a dark background.</summary>
    public static class ImageInput
    {
        /// <summary>Image files above this size are refused before they are read (a 4096x4096 photo is well below it).</summary>
        public const long MaxFileBytes = 64L << 20;

        /// <summary>
        /// Reads the file (a regular file of at most <see cref="MaxFileBytes"/>), reads the PNG or JPEG header, refuses
        /// dimensions over <see cref="ImagePreprocessing.MaxPixels"/>, and only then decodes.
        /// </summary>
        public static float[] Load(string path)
        {
            if (InputFiles.DescribeIfNotRegular(path) is string kind) throw new DataFileException(path, $"is {kind}, not an image file");
            if (!File.Exists(path)) throw new DataFileException(path, "file not found");
            byte[] bytes;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
                if (stream.Length > MaxFileBytes) throw new DataFileException(path, $"the file has {stream.Length:N0} bytes; images above {MaxFileBytes:N0} bytes are refused");
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            catch (Exception error) when (error is IOException and not DataFileException or UnauthorizedAccessException or NotSupportedException)
            {
                throw new DataFileException(path, "cannot be read: " + error.Message, error);
            }

            ImageInfo? info;
            try
            {
                using var header = new MemoryStream(bytes, writable: false);
                info = ImageInfo.FromStream(header);
            }
            catch (Exception error)
            {
                throw new DataFileException(path, "not a PNG or JPEG image this program can read: " + error.Message, error);
            }
            if (info is not ImageInfo dimensions) throw new DataFileException(path, "not a PNG or JPEG image this program can read (unrecognized header)");
            ImagePreprocessing.RequirePixelBudget(dimensions.Width, dimensions.Height, path);

            ImageResult image;
            try
            {
                using var stream = new MemoryStream(bytes, writable: false);
                image = ImageResult.FromStream(stream, ColorComponents.Grey);
            }
            catch (Exception error)
            {
                throw new DataFileException(path, "not a PNG or JPEG image this program can read: " + error.Message, error);
            }
            if (image.Width != dimensions.Width || image.Height != dimensions.Height || image.Data is null || image.Data.Length != (long)image.Width * image.Height)
                throw new DataFileException(path, "the image decoded to other dimensions than its header gives");
            return ImagePreprocessing.ToSquareInput(image.Data, image.Width, image.Height);
        }
    }
}
