using System;
using System.IO;
using CnnGen.Data;

namespace FashionMnist
{
    /// <summary>The Fashion-MNIST training and test sets, as floats in [0, 1] (NCHW, 1x28x28) and labels 0-9.</summary>
    public sealed record FashionMnistData(float[] TrainImages, int[] TrainLabels, float[] TestImages, int[] TestLabels, string Folder)
    {
        public const int ImageLength = 28 * 28;

        public static readonly string[] ClassNames =
        {
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        };

        private static readonly string[] Files =
        {
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
        };

        /// <summary>No set holds more images than this (Fashion-MNIST has 60,000 and 10,000): a header promising more is refused before reading.</summary>
        public const int MaxImages = 100_000;

        /// <summary>
        /// The first folder holding the files a command needs (all four to train, the two test files to evaluate):
        /// <paramref name="explicitFolder"/> if given (and then only it), else Debian's <c>dataset-fashion-mnist</c>, else the
        /// copy shipped beside this sample.
        /// </summary>
        public static string Locate(string? explicitFolder, bool training = true)
        {
            var needed = training ? Files : Files[2..];
            if (explicitFolder is not null)
            {
                if (CnnGen.IO.InputFiles.DescribeIfNotRegular(explicitFolder) is string kind && kind != "a directory")
                    throw new DataFileException(explicitFolder, $"--data must name a folder; this is {kind}");
                if (File.Exists(explicitFolder))
                    throw new DataFileException(explicitFolder, "--data must name a folder holding the Fashion-MNIST .gz files; this is a file");
                foreach (var file in needed)
                    if (!File.Exists(Path.Combine(explicitFolder, file)) && CnnGen.IO.InputFiles.DescribeIfNotRegular(Path.Combine(explicitFolder, file)) is null)
                        throw new DataFileException(Path.Combine(explicitFolder, file), "file not found (--data must name a folder holding the Fashion-MNIST .gz files)");
                return explicitFolder;
            }
            var candidates = new[]
            {
                "/usr/share/datasets/fashion-mnist",
                Path.Combine(AppContext.BaseDirectory, "data"),
            };
            foreach (var folder in candidates)
                if (Array.TrueForAll(needed, f => File.Exists(Path.Combine(folder, f)))) return folder;
            throw new DataFileException(candidates[^1], "Fashion-MNIST not found: pass --data DIR, install Debian's dataset-fashion-mnist, or restore the repository's samples/FashionMnist/data");
        }

        /// <summary>Loads and validates the four files; <paramref name="limit"/> keeps the first images of each set (for quick runs).</summary>
        public static FashionMnistData Load(string folder, int? limit = null)
        {
            var (trainImages, trainCount) = Images(Path.Combine(folder, Files[0]));
            var trainLabels = Labels(Path.Combine(folder, Files[1]), trainCount, Files[0]);
            var (testImages, testLabels) = LoadTestSet(folder);
            if (limit is int n)
            {
                int train = Math.Min(n, trainCount), test = Math.Min(n, testLabels.Length);
                return new FashionMnistData(trainImages[..(train * ImageLength)], trainLabels[..train], testImages[..(test * ImageLength)], testLabels[..test], folder);
            }
            return new FashionMnistData(trainImages, trainLabels, testImages, testLabels, folder);
        }

        /// <summary>The test set alone (what <c>evaluate</c> uses; the training set is not read).</summary>
        public static FashionMnistData LoadTest(string folder, int? limit = null)
        {
            var (testImages, testLabels) = LoadTestSet(folder);
            if (limit is int n)
            {
                int test = Math.Min(n, testLabels.Length);
                (testImages, testLabels) = (testImages[..(test * ImageLength)], testLabels[..test]);
            }
            return new FashionMnistData(Array.Empty<float>(), Array.Empty<int>(), testImages, testLabels, folder);
        }

        private static (float[] Images, int[] Labels) LoadTestSet(string folder)
        {
            var (testImages, testCount) = Images(Path.Combine(folder, Files[2]));
            var testLabels = Labels(Path.Combine(folder, Files[3]), testCount, Files[2]);
            return (testImages, testLabels);
        }

        private static (float[] Pixels, int Count) Images(string path)
        {
            var (pixels, count, rows, columns) = IdxReader.ReadImages(path, (long)MaxImages * ImageLength);
            if (rows != 28 || columns != 28) throw new DataFileException(path, $"images are {rows}x{columns}, expected 28x28");
            return (pixels, count);
        }

        private static int[] Labels(string path, int imageCount, string imageFile)
        {
            var labels = IdxReader.ReadLabels(path, classes: 10, maxDataBytes: MaxImages);
            if (labels.Length != imageCount)
                throw new DataFileException(path, $"holds {labels.Length:N0} labels but {imageFile} holds {imageCount:N0} images");
            return labels;
        }
    }
}
