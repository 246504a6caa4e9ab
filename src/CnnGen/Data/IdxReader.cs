using System;
using System.IO;
using CnnGen.IO;
using System.IO.Compression;

namespace CnnGen.Data
{
    /// <summary>A data file that is missing, truncated or not what it claims to be. The message names the file and the problem.</summary>
    public sealed class DataFileException : IOException
    {
        public DataFileException(string filePath, string problem, Exception? inner = null)
            : base($"{filePath}: {problem}", inner)
        {
            FilePath = filePath;
        }

        public string FilePath { get; }
    }

    /// <summary>An IDX tensor of unsigned bytes: its dimensions and its data, row-major.</summary>
    public sealed record IdxTensor(int[] Dimensions, byte[] Data);

    /// <summary>
    /// Reads the IDX format of MNIST and Fashion-MNIST, raw or gzipped: a big-endian magic number
    /// (0x00000803 for images [n, rows, cols], 0x00000801 for labels [n]), big-endian dimensions, then the bytes.
    /// Everything is validated: the magic, the dimensions, the exact data length.
    /// </summary>
    public static class IdxReader
    {
        public const int ImagesMagic = 0x00000803;
        public const int LabelsMagic = 0x00000801;

        /// <summary>No IDX file we read holds more than this many bytes of data (Fashion-MNIST's training images are 47 MB).</summary>
        public const long MaxDataBytes = 1L << 30;

        public static IdxTensor Read(string path, int expectedMagic) => Read(path, expectedMagic, MaxDataBytes);

        /// <summary>
        /// Reads an IDX file whose data may hold at most <paramref name="maxDataBytes"/> bytes: a header that describes more
        /// is refused before anything is allocated (callers that know how much they expect pass a tighter bound).
        /// </summary>
        public static IdxTensor Read(string path, int expectedMagic, long maxDataBytes)
        {
            if (maxDataBytes <= 0 || maxDataBytes > MaxDataBytes) throw new ArgumentOutOfRangeException(nameof(maxDataBytes), maxDataBytes, $"The bound must lie in [1, {MaxDataBytes:N0}].");
            if (InputFiles.DescribeIfNotRegular(path) is string kind) throw new DataFileException(path, $"is {kind}, not a regular file");
            if (!File.Exists(path)) throw new DataFileException(path, "file not found");
            try
            {
                using var file = File.OpenRead(path);
                using var stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
                return Read(stream, path, expectedMagic, maxDataBytes);
            }
            catch (DataFileException)
            {
                throw;
            }
            catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                throw new DataFileException(path, "cannot be read: " + error.Message, error);
            }
        }

        /// <summary>Reads an IDX tensor from bytes already in memory (raw or gzipped); <paramref name="sourceName"/> names it in errors.</summary>
        public static IdxTensor Read(byte[] content, string sourceName, int expectedMagic)
        {
            try
            {
                using var memory = new MemoryStream(content, writable: false);
                bool gzip = content.Length >= 2 && content[0] == 0x1f && content[1] == 0x8b;
                using var stream = gzip ? new GZipStream(memory, CompressionMode.Decompress) : (Stream)memory;
                return Read(stream, sourceName, expectedMagic, MaxDataBytes);
            }
            catch (DataFileException)
            {
                throw;
            }
            catch (Exception error) when (error is InvalidDataException or IOException)
            {
                throw new DataFileException(sourceName, "cannot be read: " + error.Message, error);
            }
        }

        /// <summary>Images as floats in [0, 1] (byte / 255), n x rows x cols.</summary>
        public static (float[] Pixels, int Count, int Rows, int Columns) ReadImages(string path) => ReadImages(path, MaxDataBytes);

        /// <summary>Images as floats in [0, 1]; a header promising more than <paramref name="maxDataBytes"/> pixels is refused before reading.</summary>
        public static (float[] Pixels, int Count, int Rows, int Columns) ReadImages(string path, long maxDataBytes)
        {
            var tensor = Read(path, ImagesMagic, maxDataBytes);
            var pixels = new float[tensor.Data.Length];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = tensor.Data[i] / 255f;
            return (pixels, tensor.Dimensions[0], tensor.Dimensions[1], tensor.Dimensions[2]);
        }

        /// <summary>Labels as integers, checked to lie below <paramref name="classes"/>.</summary>
        public static int[] ReadLabels(string path, int classes = 10) => ReadLabels(path, classes, MaxDataBytes);

        /// <summary>Labels as integers; a header promising more than <paramref name="maxDataBytes"/> labels is refused before reading.</summary>
        public static int[] ReadLabels(string path, int classes, long maxDataBytes)
        {
            var tensor = Read(path, LabelsMagic, maxDataBytes);
            var labels = new int[tensor.Data.Length];
            for (int i = 0; i < labels.Length; i++)
            {
                labels[i] = tensor.Data[i];
                if (labels[i] >= classes) throw new DataFileException(path, $"label {labels[i]} of item {i} is outside the {classes} classes");
            }
            return labels;
        }

        private static bool IsGzip(FileStream file)
        {
            Span<byte> start = stackalloc byte[2];
            int read = file.Read(start);
            file.Position = 0;
            return read == 2 && start[0] == 0x1f && start[1] == 0x8b;
        }

        private static IdxTensor Read(Stream stream, string path, int expectedMagic, long maxDataBytes)
        {
            Span<byte> word = stackalloc byte[4];
            if (!ReadExactly(stream, word)) throw new DataFileException(path, "truncated: no IDX header");
            int magic = ReadBigEndian(word);
            if (magic != expectedMagic)
                throw new DataFileException(path, $"wrong magic number 0x{magic:X8}, expected 0x{expectedMagic:X8} ({(expectedMagic == ImagesMagic ? "unsigned-byte images" : "unsigned-byte labels")})");

            int rank = expectedMagic & 0xFF;
            var dimensions = new int[rank];
            long length = 1;
            for (int d = 0; d < rank; d++)
            {
                if (!ReadExactly(stream, word)) throw new DataFileException(path, $"truncated in the header: dimension {d} of {rank} is missing");
                dimensions[d] = ReadBigEndian(word);
                if (dimensions[d] <= 0) throw new DataFileException(path, $"dimension {d} is {dimensions[d]}; dimensions must be positive");
                length *= dimensions[d];
                if (length > maxDataBytes) throw new DataFileException(path, $"the dimensions [{string.Join(", ", dimensions[..(d + 1)])}] describe more than {maxDataBytes:N0} bytes, the most this reader was asked to accept");
            }

            // Grow the buffer as bytes arrive rather than trusting the header: a damaged header cannot make us allocate
            // more than twice what the file really holds.
            var data = new byte[Math.Min(length, 1 << 20)];
            long total = 0;
            while (total < length)
            {
                if (total == data.Length) Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
                int read = stream.Read(data, (int)total, data.Length - (int)total);
                if (read == 0) throw new DataFileException(path, $"truncated: the header promises {length:N0} bytes of data [{string.Join(", ", dimensions)}] but only {total:N0} follow");
                total += read;
            }
            if (stream.ReadByte() >= 0) throw new DataFileException(path, $"{length:N0} bytes of data [{string.Join(", ", dimensions)}] are followed by more bytes; the file is not a single IDX tensor");
            return new IdxTensor(dimensions, data);
        }

        private static bool ReadExactly(Stream stream, Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int read = stream.Read(buffer[total..]);
                if (read == 0) return false;
                total += read;
            }
            return true;
        }

        private static int ReadBigEndian(ReadOnlySpan<byte> bytes) => (bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
    }
}
