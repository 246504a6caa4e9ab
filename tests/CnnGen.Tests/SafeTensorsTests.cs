using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.IO;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>The safetensors reader and writer on their own: exact bytes, round trips, every malformed input, atomic writes.</summary>
    public sealed class SafeTensorsTests : IDisposable
    {
        private const string Source = "weights.safetensors";
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-safetensors-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        // ---- Writing ------------------------------------------------------------------------------------------

        [Fact]
        public void WriterProducesHandComputedBytes()
        {
            var tensors = new[]
            {
                SafeTensor.FromFloats("w", new[] { 1f, -2f }, 2),
                SafeTensor.FromInt64s("n", new[] { 7L }),
            };
            byte[] actual = SafeTensorsWriter.ToBytes(tensors, new Dictionary<string, string> { ["note"] = "hi!" });

            // 137 bytes of JSON: metadata first, tensors in the order given; the I64 data goes first (widest elements
            // first keeps each tensor aligned), so "n" holds bytes [0, 8) and "w" [8, 16). Padded with 7 spaces to 144.
            const string json = "{\"__metadata__\":{\"note\":\"hi!\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
            Assert.Equal(137, json.Length);
            var expected = new List<byte> { 0x90, 0, 0, 0, 0, 0, 0, 0 }; // 144, little-endian u64
            expected.AddRange(Encoding.ASCII.GetBytes(json + "       "));
            expected.AddRange(new byte[] { 7, 0, 0, 0, 0, 0, 0, 0 });     // n = 7
            expected.AddRange(new byte[] { 0x00, 0x00, 0x80, 0x3F });     // 1.0f
            expected.AddRange(new byte[] { 0x00, 0x00, 0x00, 0xC0 });     // -2.0f
            Assert.Equal(expected.ToArray(), actual);
        }

        [Fact]
        public void WriterEscapesStringsAsJson()
        {
            byte[] bytes = SafeTensorsWriter.ToBytes(new[] { SafeTensor.FromFloats("a\"b\\c\nd\u0001é", new[] { 0f }) });
            string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes)).TrimEnd(' ');
            Assert.Equal("{\"a\\\"b\\\\c\\nd\\u0001é\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", header);
            Assert.Equal("a\"b\\c\nd\u0001é", SafeTensorsFile.Read(bytes, Source).Names.Single());
        }

        [Fact]
        public void WriterIsDeterministicWhateverTheMetadataOrder()
        {
            var tensors = new[] { SafeTensor.FromFloats("x", new[] { 0.5f, 0.25f, -1f }, 3), SafeTensor.FromInt64s("y", new[] { 1L, 2L }, 2, 1) };
            var forward = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" };
            var backward = new Dictionary<string, string> { ["c"] = "3", ["b"] = "2", ["a"] = "1" };
            byte[] first = SafeTensorsWriter.ToBytes(tensors, forward);
            Assert.Equal(first, SafeTensorsWriter.ToBytes(tensors, forward));
            Assert.Equal(first, SafeTensorsWriter.ToBytes(tensors, backward));
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(first) % 8); // padded: the data starts 8-aligned
        }

        [Fact]
        public void RoundTripKeepsNamesShapesMetadataAndEveryBit()
        {
            float nanWithPayload = BitConverter.Int32BitsToSingle(0x7FC0_1234);
            var floats = new[] { 1.5f, -0f, float.PositiveInfinity, float.Epsilon, nanWithPayload, float.MaxValue };
            var tensors = new[]
            {
                SafeTensor.FromFloats("b.values", floats, 2, 3),
                SafeTensor.FromInt64s("a.count", new[] { long.MinValue }),
                SafeTensor.FromFloats("c.empty", Array.Empty<float>(), 0, 3),
                SafeTensor.FromInt64s("d.longs", new[] { -1L, long.MaxValue, 0L }, 3),
            };
            var metadata = new Dictionary<string, string> { ["format"] = "pt", ["ünïcode"] = "✓" };
            string path = Path.Combine(_folder, "round.safetensors");
            SafeTensorsWriter.Write(path, tensors, metadata);

            var file = SafeTensorsFile.Read(path);
            Assert.Equal(path, file.SourceName);
            Assert.Equal(new[] { "b.values", "a.count", "c.empty", "d.longs" }, file.Names);
            Assert.Equal(metadata.OrderBy(p => p.Key), file.Metadata.OrderBy(p => p.Key));
            Assert.Equal(new long[] { 2, 3 }, file.GetShape("b.values"));
            Assert.Empty(file.GetShape("a.count"));
            Assert.Equal(new long[] { 0, 3 }, file["c.empty"].Shape);
            Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), file.GetFloats("b.values").Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(new[] { long.MinValue }, file.GetInt64s("a.count"));
            Assert.Empty(file.GetFloats("c.empty"));
            Assert.Equal(new[] { -1L, long.MaxValue, 0L }, file.GetInt64s("d.longs"));
            Assert.Equal("F32", file["b.values"].DType);
            Assert.Equal("I64", file["d.longs"].DType);
            Assert.Equal("[2, 3]", file["b.values"].ShapeText);
        }

        [Fact]
        public void ReaderAcceptsAFileLaidOutAsTheRustCrateWritesIt()
        {
            // As safetensors.torch.save_file writes: __metadata__ first, keys in data order, F64 and F16 among them.
            string json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]}}";
            json += new string(' ', (8 - json.Length % 8) % 8);
            var data = new byte[20];
            BinaryPrimitives.WriteDoubleLittleEndian(data, 0.5);
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(8), 3f);
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(12), -4f);
            var file = SafeTensorsFile.Read(Build(json, data), Source);

            Assert.Equal(new[] { "d", "w", "h" }, file.Names);
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal(new[] { 3f, -4f }, file.GetFloats("w"));
            Assert.Equal("F64", file["d"].DType);
            Assert.Equal(data.AsSpan(0, 8).ToArray(), file["d"].Data.ToArray());
            Assert.Equal(4, file["h"].Data.Length);
        }

        [Fact]
        public void AccessorsNameTheFileAndKey()
        {
            var file = SafeTensorsFile.Read(SafeTensorsWriter.ToBytes(new[] { SafeTensor.FromInt64s("n", new[] { 3L }) }), Source);
            Assert.True(file.Contains("n"));
            Assert.False(file.TryGet("m", out _));
            Assert.True(file.TryGet("n", out var n));
            Assert.Equal(3L, n.ToInt64s().Single());
            Assert.Empty(file.Metadata);

            var missing = Assert.Throws<WeightFileException>(() => file["m"]);
            Assert.Equal("m", missing.TensorName);
            Assert.Contains(Source, missing.Message);
            var wrongType = Assert.Throws<WeightFileException>(() => file.GetFloats("n"));
            Assert.Equal("Weight file 'weights.safetensors': key 'n': expected dtype F32, found I64 []", wrongType.Message);
            Assert.Throws<InvalidOperationException>(() => n.ToFloats());
            Assert.Throws<ArgumentException>(() => n.CopyTo(new long[2]));
        }

        [Fact]
        public void TensorConstructorChecksItsArguments()
        {
            Assert.Throws<ArgumentException>(() => new SafeTensor("t", "F32", new long[] { 3 }, new byte[8]));
            Assert.Throws<ArgumentException>(() => new SafeTensor("t", "F33", new long[] { 2 }, new byte[8]));
            Assert.Throws<ArgumentException>(() => new SafeTensor("t", "F32", new long[] { -2 }, new byte[8]));
            Assert.Throws<ArgumentException>(() => SafeTensor.FromFloats("t", new float[3], 2, 2));
            Assert.Equal(2, new SafeTensor("t", "BF16", new long[] { 1 }, new byte[2]).ElementSize);
        }

        [Fact]
        public void WriterRejectsDuplicateReservedAndInvalidNames()
        {
            var a = SafeTensor.FromFloats("a", new[] { 1f });
            Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => SafeTensorsWriter.ToBytes(new[] { a, a })).Message);
            Assert.Throws<ArgumentException>(() => SafeTensorsWriter.ToBytes(new[] { SafeTensor.FromFloats("__metadata__", new[] { 1f }) }));
            Assert.Throws<ArgumentException>(() => SafeTensorsWriter.ToBytes(new[] { SafeTensor.FromFloats("bad\uD800", new[] { 1f }) }));
        }

        // ---- Atomic writes ------------------------------------------------------------------------------------

        [Fact]
        public void WriteReplacesAnExistingFile()
        {
            string path = Path.Combine(_folder, "model.safetensors");
            File.WriteAllText(path, "OLD");
            SafeTensorsWriter.Write(path, new[] { SafeTensor.FromFloats("a", new[] { 2f }) });
            Assert.Equal(new[] { 2f }, SafeTensorsFile.Read(path).GetFloats("a"));
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
        }

        [Fact]
        public void FailureWhileEnumeratingLeavesTheOldFileAndNoTemporaryFile()
        {
            string path = Path.Combine(_folder, "model.safetensors");
            File.WriteAllText(path, "OLD");
            var error = Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Write(path, Throwing(), null));
            Assert.Equal("disk of sand", error.Message);
            Assert.Equal("OLD", File.ReadAllText(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder));

            static IEnumerable<SafeTensor> Throwing()
            {
                yield return SafeTensor.FromFloats("a", new[] { 1f });
                throw new InvalidOperationException("disk of sand");
            }
        }

        [Fact]
        public void FailureWhileEnumeratingWritesNothingToAStream()
        {
            using var stream = new MemoryStream();
            Assert.Throws<InvalidOperationException>(() => SafeTensorsWriter.Write(stream, Throwing()));
            Assert.Equal(0, stream.Length);

            static IEnumerable<SafeTensor> Throwing()
            {
                yield return SafeTensor.FromFloats("a", new[] { 1f });
                throw new InvalidOperationException("no more");
            }
        }

        [Fact]
        public void InvalidTensorsLeaveTheOldFileAndNoTemporaryFile()
        {
            string path = Path.Combine(_folder, "model.safetensors");
            File.WriteAllText(path, "OLD");
            var a = SafeTensor.FromFloats("a", new[] { 1f });
            Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, new[] { a, a }));
            Assert.Equal("OLD", File.ReadAllText(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
        }

        [Fact]
        public void WritingOverAFolderFailsAndLeavesNoTemporaryFile()
        {
            string target = Directory.CreateDirectory(Path.Combine(_folder, "taken")).FullName;
            File.WriteAllText(Path.Combine(target, "inside.txt"), "keep");
            var error = Record.Exception(() => SafeTensorsWriter.Write(target, new[] { SafeTensor.FromFloats("a", new[] { 1f }) }));
            Assert.True(error is IOException or UnauthorizedAccessException, $"expected an I/O error, got {error}");
            Assert.Empty(Directory.GetFiles(_folder));
            Assert.Equal("keep", File.ReadAllText(Path.Combine(target, "inside.txt")));
        }

        [Fact]
        public void WritingIntoAMissingFolderFails()
        {
            string path = Path.Combine(_folder, "missing", "model.safetensors");
            Assert.Throws<DirectoryNotFoundException>(() => SafeTensorsWriter.Write(path, new[] { SafeTensor.FromFloats("a", new[] { 1f }) }));
            Assert.Empty(Directory.GetFileSystemEntries(_folder));
        }

        // ---- Malformed input ----------------------------------------------------------------------------------

        private const string A8 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

        /// <summary>A bad input, the key the error must name (null: the file as a whole) and a phrase of the problem.</summary>
        private sealed record BadInput(Func<byte[]> Bytes, string? Key, string Problem);

        private static readonly Dictionary<string, BadInput> BadInputs = new()
        {
            ["empty file"] = new(() => Array.Empty<byte>(), null, "fewer than the 8"),
            ["shorter than 8 bytes"] = new(() => new byte[] { 16, 0, 0 }, null, "fewer than the 8"),
            ["header length beyond the file"] = new(() => Build("{" + A8 + "}", new byte[8], headerLength: 1000), null, "only"),
            ["huge header length"] = new(() => Build("{" + A8 + "}", new byte[8], headerLength: 1UL << 40), null, "above the limit"),
            ["header length u64 max"] = new(() => Build("{}", Array.Empty<byte>(), headerLength: ulong.MaxValue), null, "above the limit"),
            ["empty header"] = new(() => Build("", new byte[8]), null, "malformed"),
            ["header not an object"] = new(() => Build("[1, 2]", new byte[8]), null, "not an object"),
            ["malformed JSON"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",,\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "malformed"),
            ["truncated JSON"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]", new byte[8]), "a", "malformed"),
            ["trailing comma"] = new(() => Build("{" + A8 + ",}", new byte[8]), null, "malformed"),
            ["content after the object"] = new(() => Build("{" + A8 + "} {}", new byte[8]), null, "malformed"),
            ["entry not an object"] = new(() => Build("{\"a\":[0, 8]}", new byte[8]), "a", "expected an object"),
            ["missing dtype"] = new(() => Build("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "no \"dtype\""),
            ["missing shape"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", new byte[8]), "a", "no \"shape\""),
            ["missing data_offsets"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8]), "a", "no \"data_offsets\""),
            ["unexpected field"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"stride\":[1]}}", new byte[8]), "a", "unexpected field \"stride\""),
            ["field twice"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "appears twice"),
            ["dtype not a string"] = new(() => Build("{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "not a string"),
            ["unknown dtype"] = new(() => Build("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "unknown dtype \"F33\""),
            ["negative dimension"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "negative"),
            ["fractional dimension"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]), "a", "not an integer"),
            ["dimension beyond 64 bits"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", new byte[8]), "a", "not an integer"),
            ["huge dimension"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,8]}}", new byte[8]), "a", "too large"),
            ["shape product overflows"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", new byte[8]), "a", "more bytes than fit in 64 bits"),
            ["byte count overflows"] = new(() => Build("{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", new byte[8]), "a", "more bytes than fit in 64 bits"),
            ["shape does not match the offsets"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]), "a", "needs 3 x 4 = 12 bytes"),
            ["one offset"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", new byte[8]), "a", "not 2"),
            ["begin after end"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8]), "a", "begins after it ends"),
            ["offsets out of range"] = new(() => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[8]), "a", "go past the end"),
            ["truncated body"] = new(() => Build("{" + A8 + "}", new byte[5]), "a", "go past the end"),
            ["overlapping tensors"] = new(() => Build("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "b", "overlap those of 'a'"),
            ["aliased tensors"] = new(() => Build("{" + A8 + ",\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "b", "overlap"),
            ["hole between tensors"] = new(() => Build("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", new byte[16]), "b", "unused"),
            ["bytes after the last tensor"] = new(() => Build("{" + A8 + "}", new byte[12]), "a", "4 bytes follow"),
            ["duplicate key"] = new(() => Build("{" + A8 + "," + A8 + "}", new byte[8]), "a", "appears twice"),
            ["invalid UTF-8 in a key"] = new(() => Build("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a\uFFFD", "not valid UTF-8"),
            ["invalid UTF-8 in a dtype"] = new(() => Build("{\"a\":{\"dtype\":\"F3\xc3\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a", "not valid UTF-8"),
            ["escaped lone surrogate"] = new(() => Build("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "a\\ud800", "invalid escape"),
            ["metadata not an object"] = new(() => Build("{\"__metadata__\":[1]," + A8 + "}", new byte[8]), "__metadata__", "expected an object of strings"),
            ["metadata value not a string"] = new(() => Build("{\"__metadata__\":{\"epoch\":3}," + A8 + "}", new byte[8]), "__metadata__", "'epoch' is a number"),
            ["metadata key twice"] = new(() => Build("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," + A8 + "}", new byte[8]), "__metadata__", "'k' appears twice"),
            ["nested metadata value"] = new(() => Build("{\"__metadata__\":{\"k\":[[[[[[\"x\"]]]]]]}}", Array.Empty<byte>()), "__metadata__", "not a string"),
        };

        public static IEnumerable<object[]> BadInputNames => BadInputs.Keys.Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(BadInputNames))]
        public void MalformedInputThrowsWeightFileExceptionNamingFileAndKey(string name)
        {
            var bad = BadInputs[name];
            var error = Assert.Throws<WeightFileException>(() => SafeTensorsFile.Read(bad.Bytes(), Source));
            Assert.Equal(Source, error.FilePath);
            Assert.Equal(bad.Key, error.TensorName);
            Assert.StartsWith($"Weight file '{Source}': " + (bad.Key is null ? "" : $"key '{bad.Key}': "), error.Message);
            Assert.Contains(bad.Problem, error.Problem);
        }

        [Fact]
        public void MalformedFileOnDiskIsNamedByItsPath()
        {
            string path = Path.Combine(_folder, "broken.safetensors");
            File.WriteAllBytes(path, Build("{" + A8 + "}", new byte[5]));
            var error = Assert.Throws<WeightFileException>(() => SafeTensorsFile.Read(path));
            Assert.Equal(path, error.FilePath);
            Assert.Contains(path, error.Message);
            Assert.Contains("key 'a'", error.Message);
        }

        [Fact]
        public void MissingFileIsAnIOExceptionNotAWeightFileException()
        {
            var error = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Read(Path.Combine(_folder, "none.safetensors")));
            Assert.IsNotType<WeightFileException>(error);
        }

        // ---- PyTorch's files ----------------------------------------------------------------------------------

        /// <summary>
        /// Every file tests/fixtures/make_fixtures.py wrote parses, and each has F32 tensors. Passes vacuously when the
        /// fixtures have not been generated yet (xunit 2 cannot skip at run time).
        /// </summary>
        [Fact]
        public void EveryPyTorchFixtureFileParses()
        {
            string folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch");
            string[] files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.safetensors") : Array.Empty<string>();
            foreach (string path in files)
            {
                var file = SafeTensorsFile.Read(path);
                Assert.NotEmpty(file.Names);
                foreach (var tensor in file.Tensors.Where(t => t.DType == SafeTensorDType.F32))
                    Assert.Equal(tensor.ElementCount, file.GetFloats(tensor.Name).LongLength);
            }
        }

        // ---- Helpers ------------------------------------------------------------------------------------------

        /// <summary>
        /// A file from a header written exactly as given (no padding) and data bytes. Characters U+0080..U+00FF in
        /// <paramref name="header"/> become the single bytes 0x80..0xFF, to write invalid UTF-8.
        /// </summary>
        internal static byte[] Build(string header, byte[] data, ulong? headerLength = null)
        {
            byte[] headerBytes = header.Any(c => c is >= '\u0080' and <= '\u00FF') ? Encoding.Latin1.GetBytes(header) : Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + headerBytes.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)headerBytes.Length);
            headerBytes.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + headerBytes.Length);
            return bytes;
        }
    }
}
