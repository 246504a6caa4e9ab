using System;
using System.IO;
using System.IO.Compression;
using CnnGen.Data;
using Xunit;

namespace CnnGen.Tests
{
    public sealed class IdxReaderTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-idx-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private static byte[] Header(int magic, params int[] dimensions)
        {
            var bytes = new byte[4 + 4 * dimensions.Length];
            void Put(int at, int value)
            {
                bytes[at] = (byte)(value >> 24);
                bytes[at + 1] = (byte)(value >> 16);
                bytes[at + 2] = (byte)(value >> 8);
                bytes[at + 3] = (byte)value;
            }
            Put(0, magic);
            for (int i = 0; i < dimensions.Length; i++) Put(4 + 4 * i, dimensions[i]);
            return bytes;
        }

        private string Write(string name, byte[] content, bool gzip)
        {
            string path = Path.Combine(_folder, name);
            if (gzip)
            {
                using var file = File.Create(path);
                using var zip = new GZipStream(file, CompressionLevel.Fastest);
                zip.Write(content);
            }
            else
            {
                File.WriteAllBytes(path, content);
            }
            return path;
        }

        private static byte[] Concat(byte[] a, byte[] b)
        {
            var result = new byte[a.Length + b.Length];
            a.CopyTo(result, 0);
            b.CopyTo(result, a.Length);
            return result;
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void ReadsImagesAndLabels(bool gzip)
        {
            var pixels = new byte[2 * 3 * 4];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 10);
            string images = Write("images", Concat(Header(IdxReader.ImagesMagic, 2, 3, 4), pixels), gzip);
            string labels = Write("labels", Concat(Header(IdxReader.LabelsMagic, 2), new byte[] { 7, 3 }), gzip);

            var (values, count, rows, columns) = IdxReader.ReadImages(images);
            Assert.Equal((2, 3, 4), (count, rows, columns));
            Assert.Equal(230 / 255f, values[23]);
            Assert.Equal(new[] { 7, 3 }, IdxReader.ReadLabels(labels));
        }

        [Fact]
        public void ReadsTheCommittedFashionMnistSubset()
        {
            string folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "fashion-subset");
            var (pixels, count, rows, columns) = IdxReader.ReadImages(Path.Combine(folder, "train-images-idx3-ubyte.gz"));
            var labels = IdxReader.ReadLabels(Path.Combine(folder, "train-labels-idx1-ubyte.gz"));
            Assert.Equal((28, 28), (rows, columns));
            Assert.Equal(count, labels.Length);
            Assert.Equal(count * 784, pixels.Length);
            Assert.InRange(count, 1000, 10000);
        }

        [Theory]
        [InlineData("wrong magic", "wrong magic number 0x00000801")]
        [InlineData("truncated header", "truncated in the header")]
        [InlineData("truncated data", "truncated: the header promises 24 bytes")]
        [InlineData("extra data", "followed by more bytes")]
        [InlineData("zero dimension", "dimension 1 is 0")]
        [InlineData("huge dimensions", "describe more than")]
        [InlineData("empty", "truncated: no IDX header")]
        public void RejectsCorruptImageFiles(string corruption, string expectedProblem)
        {
            byte[] good = Concat(Header(IdxReader.ImagesMagic, 2, 3, 4), new byte[24]);
            byte[] content = corruption switch
            {
                "wrong magic" => Concat(Header(IdxReader.LabelsMagic, 2), new byte[2]),
                "truncated header" => good[..9],
                "truncated data" => good[..30],
                "extra data" => Concat(good, new byte[] { 1 }),
                "zero dimension" => Concat(Header(IdxReader.ImagesMagic, 2, 0, 4), Array.Empty<byte>()),
                "huge dimensions" => Header(IdxReader.ImagesMagic, 60000, 60000, 60000),
                "empty" => Array.Empty<byte>(),
                _ => throw new ArgumentException(corruption),
            };
            foreach (bool gzip in new[] { false, true })
            {
                string path = Write("corrupt" + (gzip ? ".gz" : ""), content, gzip);
                var error = Assert.Throws<DataFileException>(() => IdxReader.ReadImages(path));
                Assert.Contains(path, error.Message);
                Assert.Contains(expectedProblem, error.Message);
            }
        }

        [Fact]
        public void RejectsCorruptGzipMissingFilesAndBadLabels()
        {
            string gz = Write("bad.gz", new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5 }, gzip: false);
            Assert.Contains("cannot be read", Assert.Throws<DataFileException>(() => IdxReader.ReadImages(gz)).Message);

            string missing = Path.Combine(_folder, "missing.gz");
            Assert.Contains("file not found", Assert.Throws<DataFileException>(() => IdxReader.ReadImages(missing)).Message);

            string labels = Write("labels", Concat(Header(IdxReader.LabelsMagic, 3), new byte[] { 1, 12, 2 }), gzip: false);
            Assert.Contains("label 12 of item 1", Assert.Throws<DataFileException>(() => IdxReader.ReadLabels(labels)).Message);
        }
    }
}
