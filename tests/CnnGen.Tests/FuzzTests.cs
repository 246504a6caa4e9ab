using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using CnnGen.Data;
using CnnGen.IO;
using CnnGen.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// Hostile files: seeded mutations of valid safetensors and IDX files. Every case must load or throw the library's
    /// documented exception (<see cref="WeightFileException"/>, <see cref="DataFileException"/>), never another type,
    /// and a failed load must leave the model's weights as they were. CNNGEN_FUZZ_ITERATIONS raises the counts for a long run.
    /// </summary>
    public sealed class FuzzTests
    {
        private readonly ITestOutputHelper _output;

        public FuzzTests(ITestOutputHelper output) => _output = output;

        private static int Iterations(int normal) =>
            int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : normal;

        [Fact]
        public void SafeTensorsReaderSurvivesMutatedFiles()
        {
            var source = new BatchNormNet();
            source.ResetParameters(5);
            byte[] valid = SafeTensorsWriter.ToBytes(NetworkWeights.ToTensors(source), new Dictionary<string, string> { ["origin"] = "fuzz" });
            var target = new BatchNormNet();
            target.ResetParameters(6);
            var before = Snapshot(target);

            int cases = Iterations(100_000);
            var outcomes = new Dictionary<string, int>();
            var random = new Random(20261123);
            for (int i = 0; i < cases; i++)
            {
                byte[] mutated = MutateSafeTensors(valid, random);
                try
                {
                    var file = SafeTensorsFile.Read(mutated, "fuzz.safetensors");
                    NetworkWeights.Load(target, file);
                    Count(outcomes, "loaded");
                    NetworkWeights.Load(target, valid, "valid"); // put a known state back for the next comparison
                    target.ResetParameters(6);
                }
                catch (WeightFileException)
                {
                    Count(outcomes, nameof(WeightFileException));
                    Assert.True(Snapshot(target).SequenceEqual(before), $"case {i}: a failed load changed the weights");
                }
                catch (Exception other)
                {
                    Assert.Fail($"case {i}: {other.GetType().Name}: {other.Message}\n{Convert.ToBase64String(mutated)}");
                }
            }
            _output.WriteLine($"safetensors: {cases:N0} mutated files; " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value:N0}")));
            Assert.True(outcomes.GetValueOrDefault(nameof(WeightFileException)) > cases / 2, "most mutations should be refused");
        }

        [Fact]
        public void IdxReaderSurvivesMutatedFiles()
        {
            var images = new byte[4 + 12 + 6 * 5 * 4];
            images[2] = 8; images[3] = 3; images[7] = 6; images[11] = 5; images[15] = 4;
            var random = new Random(7);
            for (int i = 16; i < images.Length; i++) images[i] = (byte)random.Next(256);
            byte[] gzipped = Gzip(images);

            int cases = Iterations(50_000);
            var outcomes = new Dictionary<string, int>();
            for (int i = 0; i < cases; i++)
            {
                byte[] seed = i % 4 == 0 ? gzipped : images;
                byte[] mutated = MutateBytes(seed, random, seed == images ? 4 + 12 : 10);
                try
                {
                    var tensor = IdxReader.Read(mutated, "fuzz.idx", IdxReader.ImagesMagic);
                    Assert.Equal(tensor.Dimensions.Aggregate(1L, (a, d) => a * d), tensor.Data.LongLength);
                    Count(outcomes, "loaded");
                }
                catch (DataFileException)
                {
                    Count(outcomes, nameof(DataFileException));
                }
                catch (Exception other)
                {
                    Assert.Fail($"case {i}: {other.GetType().Name}: {other.Message}\n{Convert.ToBase64String(mutated)}");
                }
            }
            _output.WriteLine($"IDX: {cases:N0} mutated files; " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value:N0}")));
        }

        private static float[] Snapshot(INetwork network) =>
            network.Parameters.ToArray().Concat(network.Buffers.ToArray()).Concat(network.Counters.ToArray().Select(c => (float)c)).ToArray();

        private static void Count(Dictionary<string, int> outcomes, string key) => outcomes[key] = outcomes.GetValueOrDefault(key) + 1;

        private static byte[] Gzip(byte[] content)
        {
            using var memory = new MemoryStream();
            using (var zip = new GZipStream(memory, CompressionLevel.Fastest)) zip.Write(content);
            return memory.ToArray();
        }

        /// <summary>Byte-level damage: flips, overwrites, truncation, extension, spliced chunks; the header region is hit more often.</summary>
        private static byte[] MutateBytes(byte[] seed, Random random, int headerLength)
        {
            var bytes = new List<byte>(seed);
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits && bytes.Count > 0; e++)
            {
                int at = random.Next(2) == 0 ? random.Next(Math.Min(headerLength, bytes.Count)) : random.Next(bytes.Count);
                switch (random.Next(7))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes[at] = (byte)random.Next(256); break;
                    case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                    case 3: for (int k = random.Next(1, 64); k > 0; k--) bytes.Add((byte)random.Next(256)); break;
                    case 4: bytes[at] = random.Next(2) == 0 ? (byte)0xFF : (byte)0x00; break;
                    case 5:
                    {
                        int from = random.Next(bytes.Count);
                        bytes.InsertRange(at, bytes.GetRange(from, Math.Min(16, bytes.Count - from)));
                        break;
                    }
                    default: bytes.RemoveAt(at); break;
                }
            }
            return bytes.ToArray();
        }

        /// <summary>Byte damage, plus structure-aware attacks on the header: lengths, numbers, keys, nesting, encoding.</summary>
        private static byte[] MutateSafeTensors(byte[] valid, Random random)
        {
            ulong headerLength = BitConverter.ToUInt64(valid, 0);
            string header = Encoding.UTF8.GetString(valid, 8, (int)headerLength);
            byte[] data = valid[(8 + (int)headerLength)..];
            switch (random.Next(10))
            {
                case 0:
                case 1:
                case 2:
                    return MutateBytes(valid, random, 8 + (int)headerLength);
                case 3: // the length field itself: zero, huge, beyond the file, off by a little
                {
                    var copy = (byte[])valid.Clone();
                    ulong[] choices = { 0, ulong.MaxValue, (ulong)valid.Length, headerLength + 1, headerLength - 1, 200_000_000, (ulong)long.MaxValue + 5 };
                    BitConverter.GetBytes(choices[random.Next(choices.Length)]).CopyTo(copy, 0);
                    return copy;
                }
                case 4: // numbers in the JSON: negative, enormous, fractional
                {
                    string[] numbers = { "-1", "4294967296", "9223372036854775807", "18446744073709551616", "1e308", "0.5", "-0", "99999999999999999999999" };
                    var digits = System.Text.RegularExpressions.Regex.Matches(header, "[0-9]+");
                    if (digits.Count == 0) return valid;
                    var m = digits[random.Next(digits.Count)];
                    return Assemble(header[..m.Index] + numbers[random.Next(numbers.Length)] + header[(m.Index + m.Length)..], data);
                }
                case 5: // a duplicate key: copy one entry
                {
                    int start = header.IndexOf("\"0.weight\"", StringComparison.Ordinal);
                    int end = header.IndexOf('}', start) + 1;
                    return Assemble(header.Insert(end, "," + header[start..end]), data);
                }
                case 6: // deep nesting
                {
                    int depth = random.Next(10, 5000);
                    return Assemble("{\"x\":" + new string('[', depth) + new string(']', depth) + "," + header[1..], data);
                }
                case 7: // invalid UTF-8 inside a key
                {
                    var headerBytes = Encoding.UTF8.GetBytes(header).ToList();
                    int at = header.IndexOf("weight", StringComparison.Ordinal);
                    headerBytes.InsertRange(at, new byte[] { 0xC3, 0x28, 0xFF });
                    return AssembleBytes(headerBytes.ToArray(), data);
                }
                case 8: // offsets past the end, reversed, or shared
                {
                    var offsets = System.Text.RegularExpressions.Regex.Matches(header, "\\[([0-9]+),([0-9]+)\\]");
                    var m = offsets[random.Next(offsets.Count)];
                    string replacement = random.Next(3) switch
                    {
                        0 => $"[{m.Groups[1].Value},{data.Length + 4}]",
                        1 => $"[{m.Groups[2].Value},{m.Groups[1].Value}]",
                        _ => "[0,4]",
                    };
                    return Assemble(header[..m.Index] + replacement + header[(m.Index + m.Length)..], data);
                }
                default: // truncated JSON, or not JSON
                {
                    string broken = random.Next(2) == 0 ? header[..random.Next(header.Length)] : header.Replace(':', random.Next(2) == 0 ? ';' : ' ');
                    return Assemble(broken, data);
                }
            }
        }

        private static byte[] Assemble(string header, byte[] data) => AssembleBytes(Encoding.UTF8.GetBytes(header), data);

        private static byte[] AssembleBytes(byte[] header, byte[] data)
        {
            var bytes = new byte[8 + header.Length + data.Length];
            BitConverter.GetBytes((ulong)header.Length).CopyTo(bytes, 0);
            header.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + header.Length);
            return bytes;
        }
    }
}
