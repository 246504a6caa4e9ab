using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using CnnGen.IO;
using CnnGen.Shapes;
using CnnGen.Tests.Fixtures;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Networks' weights to and from safetensors: PyTorch's keys, round trips, and refusal without side effects.</summary>
    public sealed class NetworkWeightsTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-weights-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private static readonly Dictionary<string, Func<INetwork>> Networks = new()
        {
            [nameof(LeNet5)] = () => new LeNet5(),
            [nameof(Strided)] = () => new Strided(),
            [nameof(PaddedPools)] = () => new PaddedPools(),
            [nameof(OverlappingPool)] = () => new OverlappingPool(),
            [nameof(NonSquare)] = () => new NonSquare(),
            [nameof(BatchNormNet)] = () => new BatchNormNet(),
            [nameof(Activations)] = () => new Activations(),
            [nameof(MaxPoolTies)] = () => new MaxPoolTies(),
        };

        public static IEnumerable<object[]> NetworkNames => Networks.Keys.Select(k => new object[] { k });

        /// <summary>Fresh parameters from <paramref name="seed"/>, and running statistics and counters away from their defaults.</summary>
        private static INetwork Scrambled(string name, ulong seed)
        {
            var network = Networks[name]();
            Initialization.ResetParameters(network.Layout, network.Parameters, network.Buffers, network.Counters, seed);
            var random = new CnnRandom(seed + 1000);
            foreach (ref float b in network.Buffers) b = random.NextUniform(0.1f, 2f);
            for (int i = 0; i < network.Counters.Length; i++) network.Counters[i] = (long)(seed * 100) + i + 1;
            return network;
        }

        private sealed record Snapshot(byte[] Parameters, byte[] Buffers, byte[] Counters)
        {
            public static Snapshot Of(INetwork n) => new(
                MemoryMarshal.AsBytes(n.Parameters).ToArray(), MemoryMarshal.AsBytes(n.Buffers).ToArray(), MemoryMarshal.AsBytes(n.Counters).ToArray());

            public void AssertSame(Snapshot other)
            {
                Assert.Equal(Parameters, other.Parameters);
                Assert.Equal(Buffers, other.Buffers);
                Assert.Equal(Counters, other.Counters);
            }
        }

        [Theory]
        [MemberData(nameof(NetworkNames))]
        public void RoundTripIsBitExact(string name)
        {
            var saved = Scrambled(name, 1);
            string path = Path.Combine(_folder, name + ".safetensors");
            NetworkWeights.Save(saved, path, new Dictionary<string, string> { ["network"] = name });

            var loaded = Scrambled(name, 2);
            Assert.NotEqual(Snapshot.Of(saved).Parameters, Snapshot.Of(loaded).Parameters);
            NetworkWeights.Load(loaded, path);
            Snapshot.Of(saved).AssertSame(Snapshot.Of(loaded));
        }

        [Theory]
        [MemberData(nameof(NetworkNames))]
        public void SavedFileHasPyTorchKeysShapesAndDTypes(string name)
        {
            var network = Scrambled(name, 3);
            using var stream = new MemoryStream();
            NetworkWeights.Save(network, stream);
            var file = SafeTensorsFile.Read(stream.ToArray(), name);

            var layout = network.Layout;
            Assert.Equal(layout.Tensors.Select(t => t.Name), file.Names);
            Assert.Empty(file.Metadata);
            foreach (var entry in layout.Tensors)
            {
                var tensor = file[entry.Name];
                Assert.Equal(entry.Shape.Select(d => (long)d), tensor.Shape);
                switch (entry.Block)
                {
                    case TensorBlock.Parameters:
                        Assert.Equal("F32", tensor.DType);
                        Assert.Equal(network.Parameters.Slice(entry.Offset, entry.Length).ToArray(), tensor.ToFloats());
                        break;
                    case TensorBlock.Buffers:
                        Assert.Equal("F32", tensor.DType);
                        Assert.Equal(network.Buffers.Slice(entry.Offset, entry.Length).ToArray(), tensor.ToFloats());
                        break;
                    default:
                        Assert.EndsWith(".num_batches_tracked", entry.Name);
                        Assert.Equal("I64", tensor.DType);
                        Assert.Empty(tensor.Shape);
                        Assert.Equal(network.Counters[entry.Offset], tensor.ToInt64s().Single());
                        break;
                }
            }
        }

        [Fact]
        public void BatchNormNetKeysAreThoseOfItsStateDict()
        {
            var file = SafeTensorsFile.Read(ToBytes(new BatchNormNet()), "bn");
            Assert.Equal(new[]
            {
                "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked",
                "8.weight", "8.bias", "9.weight", "9.bias", "9.running_mean", "9.running_var", "9.num_batches_tracked",
                "11.weight", "11.bias",
            }, file.Names);
            Assert.Equal(new long[] { 6, 3, 3, 3 }, file.GetShape("0.weight"));
            Assert.Equal(new long[] { 16, 72 }, file.GetShape("8.weight"));
        }

        [Fact]
        public void LoadsAStateDictLaidOutAsPyTorchSavesIt()
        {
            // safetensors.torch.save_file orders the data by dtype and the keys alphabetically-ish; num_batches_tracked
            // may come as [1] from other exporters; a "format" metadata entry is common.
            var source = Scrambled(nameof(BatchNormNet), 4);
            var tensors = NetworkWeights.ToTensors(source)
                .Select(t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? new SafeTensor(t.Name, t.DType, new long[] { 1 }, t.Data) : t)
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .ToList();
            byte[] bytes = SafeTensorsWriter.ToBytes(tensors, new Dictionary<string, string> { ["format"] = "pt" });

            var target = Scrambled(nameof(BatchNormNet), 5);
            NetworkWeights.Load(target, bytes, "pytorch.safetensors");
            Snapshot.Of(source).AssertSame(Snapshot.Of(target));
        }

        [Fact]
        public void KeyPrefixLoadsOneModuleOfALargerFile()
        {
            // As the parity fixtures hold them: the weights under "param.", and inputs and outputs beside them.
            var source = Scrambled(nameof(LeNet5), 6);
            var tensors = NetworkWeights.ToTensors(source).Select(t => new SafeTensor("param." + t.Name, t.DType, t.Shape.AsSpan(), t.Data)).ToList();
            tensors.Add(SafeTensor.FromFloats("input", new float[784], 1, 1, 28, 28));
            tensors.Add(SafeTensor.FromFloats("eval.output", new float[10], 1, 10));
            byte[] bytes = SafeTensorsWriter.ToBytes(tensors);

            var target = Scrambled(nameof(LeNet5), 7);
            var before = Snapshot.Of(target);
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.Load(target, bytes, "lenet5.safetensors"));
            Assert.Equal("0.weight", error.TensorName);
            Assert.Contains("keyPrefix: \"param.\"", error.Message);
            before.AssertSame(Snapshot.Of(target));

            NetworkWeights.Load(target, bytes, "lenet5.safetensors", keyPrefix: "param.");
            Snapshot.Of(source).AssertSame(Snapshot.Of(target));
        }

        [Fact]
        public void ExtraKeysAreAnErrorUnlessAllowed()
        {
            var source = Scrambled(nameof(Strided), 8);
            var tensors = NetworkWeights.ToTensors(source).Append(SafeTensor.FromFloats("head.weight", new[] { 1f }, 1, 1)).ToList();
            byte[] bytes = SafeTensorsWriter.ToBytes(tensors);

            var target = Scrambled(nameof(Strided), 9);
            var before = Snapshot.Of(target);
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.Load(target, bytes, "strided.safetensors"));
            Assert.Equal("head.weight", error.TensorName);
            Assert.Contains("Strided has no such tensor", error.Message);
            Assert.Contains("allowExtraKeys", error.Message);
            before.AssertSame(Snapshot.Of(target));

            NetworkWeights.Load(target, bytes, "strided.safetensors", allowExtraKeys: true);
            Snapshot.Of(source).AssertSame(Snapshot.Of(target));
        }

        // ---- Refusals -----------------------------------------------------------------------------------------

        /// <summary>Builds a bad file from BatchNormNet's tensors (scrambled with seed 1); the key the error names; a phrase of it.</summary>
        private sealed record BadFile(Func<List<SafeTensor>, byte[]> Make, string? Key, string Problem);

        private static byte[] Write(List<SafeTensor> tensors) => SafeTensorsWriter.ToBytes(tensors);

        private static List<SafeTensor> Replace(List<SafeTensor> tensors, string name, Func<SafeTensor, SafeTensor> change) =>
            tensors.Select(t => t.Name == name ? change(t) : t).ToList();

        private static readonly Dictionary<string, BadFile> BadFiles = new()
        {
            ["missing key"] = new(t => Write(t.Where(x => x.Name != "5.running_var").ToList()), "5.running_var", "missing; BatchNormNet needs F32 [8] here"),
            ["wrong shape"] = new(t => Write(Replace(t, "4.weight", x => SafeTensor.FromFloats(x.Name, new float[8 * 6 * 5 * 5], 8, 6, 5, 5))),
                "4.weight", "expected shape [8, 6, 3, 3], found [8, 6, 5, 5]"),
            ["same count, wrong shape"] = new(t => Write(Replace(t, "8.weight", x => new SafeTensor(x.Name, x.DType, new long[] { 72, 16 }, x.Data))),
                "8.weight", "expected shape [16, 72], found [72, 16]"),
            ["last tensor wrong"] = new(t => Write(Replace(t, "11.bias", x => SafeTensor.FromFloats(x.Name, new float[5], 5))), "11.bias", "expected shape [4], found [5]"),
            ["parameter as F64"] = new(t => Write(Replace(t, "1.weight", x => new SafeTensor(x.Name, "F64", x.Shape.AsSpan(), new byte[x.ElementCount * 8]))),
                "1.weight", "expected dtype F32, found F64"),
            ["buffer as I64"] = new(t => Write(Replace(t, "9.running_mean", x => SafeTensor.FromInt64s(x.Name, new long[16], 16))), "9.running_mean", "expected dtype F32, found I64"),
            ["counter as F32"] = new(t => Write(Replace(t, "5.num_batches_tracked", x => SafeTensor.FromFloats(x.Name, new[] { 3f }))),
                "5.num_batches_tracked", "expected dtype I64, found F32"),
            ["counter of two"] = new(t => Write(Replace(t, "1.num_batches_tracked", x => SafeTensor.FromInt64s(x.Name, new[] { 3L, 4L }, 2))),
                "1.num_batches_tracked", "expected shape [], found [2]"),
            ["extra key"] = new(t => Write(t.Append(SafeTensor.FromFloats("12.weight", new[] { 1f })).ToList()), "12.weight", "no such tensor"),
            // Files broken below the level of tensors: the header text or the bytes edited after writing.
            ["truncated body"] = new(t => Write(t)[..^5], "11.bias", "go past the end"),
            ["header length beyond the file"] = new(t => WithHeaderLength(Write(t), l => (ulong)Write(t).Length), null, "only"),
            ["huge header length"] = new(t => WithHeaderLength(Write(t), _ => 1UL << 40), null, "above the limit"),
            ["overlapping offsets"] = new(t => EditOffsets(Write(t), "11.bias", -4), "11.bias", "overlap those of '11.weight'"),
            ["out-of-range offsets"] = new(t => EditOffsets(Write(t), "11.bias", +4), "11.bias", "go past the end"),
            ["malformed JSON"] = new(t => EditHeader(Write(t), h => h.Replace("\"8.bias\":{\"dtype\":\"F32\",", "\"8.bias\":{\"dtype\":\"F32\",,")), "8.bias", "malformed"),
            ["duplicate key"] = new(t => EditHeader(Write(t), h =>
            {
                int start = h.IndexOf("\"8.bias\":", StringComparison.Ordinal), end = h.IndexOf('}', start) + 1;
                return h.Insert(end, "," + h[start..end]);
            }), "8.bias", "appears twice"),
            ["invalid UTF-8"] = new(t =>
            {
                byte[] bytes = Write(t);
                int at = bytes.AsSpan().IndexOf("\"8.bias\":{\"dtype\":\"F32\""u8);
                bytes[at + "\"8.bias\":{\"dtype\":\"".Length] = 0xFF;
                return bytes;
            }, "8.bias", "not valid UTF-8"),
        };

        public static IEnumerable<object[]> BadFileNames => BadFiles.Keys.Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(BadFileNames))]
        public void BadFileIsRefusedByNameAndLeavesTheNetworkUnchanged(string name)
        {
            var bad = BadFiles[name];
            string path = Path.Combine(_folder, "bnnet.safetensors");
            File.WriteAllBytes(path, bad.Make(NetworkWeights.ToTensors(Scrambled(nameof(BatchNormNet), 1)).ToList()));

            var network = Scrambled(nameof(BatchNormNet), 2);
            var before = Snapshot.Of(network);
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.Load(network, path));
            Assert.Equal(path, error.FilePath);
            Assert.Equal(bad.Key, error.TensorName);
            Assert.Contains("bnnet.safetensors", error.Message);
            if (bad.Key is not null) Assert.Contains($"key '{bad.Key}'", error.Message);
            Assert.Contains(bad.Problem, error.Message);
            before.AssertSame(Snapshot.Of(network));
        }

        [Fact]
        public void MismatchMessageReadsAsDocumented()
        {
            var lenet = Scrambled(nameof(LeNet5), 1);
            var tensors = Replace(NetworkWeights.ToTensors(lenet).ToList(), "3.weight", x => SafeTensor.FromFloats(x.Name, new float[16 * 6 * 9], 16, 6, 3, 3));
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.Load(lenet, Write(tensors), "lenet.safetensors"));
            Assert.Equal("Weight file 'lenet.safetensors': key '3.weight': expected shape [16, 6, 5, 5], found [16, 6, 3, 3]", error.Message);
        }

        [Fact]
        public void FailedSaveKeepsThePreviousFile()
        {
            string path = Path.Combine(_folder, "model.safetensors");
            var first = Scrambled(nameof(Activations), 1);
            NetworkWeights.Save(first, path);
            byte[] saved = File.ReadAllBytes(path);

            // Metadata that cannot be encoded fails the save after the temporary file exists.
            var bad = new Dictionary<string, string> { ["note"] = "\uDC00" };
            Assert.Throws<ArgumentException>(() => NetworkWeights.Save(Scrambled(nameof(Activations), 2), path, bad));
            Assert.Equal(saved, File.ReadAllBytes(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(_folder));
        }

        // ---- Helpers ------------------------------------------------------------------------------------------

        private static byte[] ToBytes(INetwork network)
        {
            using var stream = new MemoryStream();
            NetworkWeights.Save(network, stream);
            return stream.ToArray();
        }

        private static byte[] WithHeaderLength(byte[] file, Func<ulong, ulong> change)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(file, change(BinaryPrimitives.ReadUInt64LittleEndian(file)));
            return file;
        }

        /// <summary>The file with its header text edited (and re-padded), the data unchanged.</summary>
        private static byte[] EditHeader(byte[] file, Func<string, string> edit)
        {
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
            string header = edit(Encoding.UTF8.GetString(file, 8, length).TrimEnd(' '));
            header += new string(' ', (8 - header.Length % 8) % 8);
            byte[] headerBytes = Encoding.UTF8.GetBytes(header);
            var result = new byte[8 + headerBytes.Length + file.Length - 8 - length];
            BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)headerBytes.Length);
            headerBytes.CopyTo(result, 8);
            file.AsSpan(8 + length).CopyTo(result.AsSpan(8 + headerBytes.Length));
            return result;
        }

        /// <summary>Moves one tensor's data_offsets by <paramref name="delta"/> bytes.</summary>
        private static byte[] EditOffsets(byte[] file, string key, int delta) => EditHeader(file, header =>
        {
            int at = header.IndexOf("\"" + key + "\":", StringComparison.Ordinal);
            int open = header.IndexOf("\"data_offsets\":[", at, StringComparison.Ordinal) + "\"data_offsets\":[".Length;
            int close = header.IndexOf(']', open);
            long[] offsets = header[open..close].Split(',').Select(long.Parse).ToArray();
            return header[..open] + (offsets[0] + delta) + "," + (offsets[1] + delta) + header[close..];
        });
    }
}
