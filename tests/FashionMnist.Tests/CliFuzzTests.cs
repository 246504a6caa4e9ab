using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading;
using CnnGen.Data;
using FashionMnist;
using Xunit;
using Xunit.Abstractions;

namespace FashionMnist.Tests
{
    /// <summary>
    /// Property-based test of the command line, in-process: random commands, option combinations, values (valid, boundary,
    /// garbage) and files (valid, damaged, lying headers, pipes, folders, devices, read-only places). For every run: no
    /// exception escapes, the exit code is 0, 2 (one line on stderr, no stack trace) or 3, and no file changes but those the
    /// run was asked to write (a training run's five outputs in its --output folder). 2,000 runs by default (seed fixed);
    /// set CNNGEN_CLI_FUZZ_RUNS for more and CNNGEN_CLI_FUZZ_SEED for another sequence.
    /// </summary>
    public sealed class CliFuzzTests : IDisposable
    {
        private readonly ITestOutputHelper _log;
        private readonly string _root = Directory.CreateTempSubdirectory("cnngen-fuzz-").FullName;

        public CliFuzzTests(ITestOutputHelper log) => _log = log;

        public void Dispose() => Directory.Delete(_root, recursive: true);

        private string P(string name) => Path.Combine(_root, name);

        /// <summary>A tiny data set (40 training, 20 test images from the committed subset), so a training run takes milliseconds.</summary>
        private void WriteData(string folder, int train, int test)
        {
            Directory.CreateDirectory(folder);
            var (trainImages, _, _, _) = IdxReader.ReadImages(Path.Combine(InProcess.Subset, "train-images-idx3-ubyte.gz"));
            var trainLabels = IdxReader.ReadLabels(Path.Combine(InProcess.Subset, "train-labels-idx1-ubyte.gz"));
            var (testImages, _, _, _) = IdxReader.ReadImages(Path.Combine(InProcess.Subset, "t10k-images-idx3-ubyte.gz"));
            var testLabels = IdxReader.ReadLabels(Path.Combine(InProcess.Subset, "t10k-labels-idx1-ubyte.gz"));
            WriteIdx(Path.Combine(folder, "train-images-idx3-ubyte.gz"), 0x803, trainImages.Take(train * 784).Select(v => (byte)(v * 255)).ToArray(), train, 28, 28);
            WriteIdx(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), 0x801, trainLabels.Take(train).Select(v => (byte)v).ToArray(), train);
            WriteIdx(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), 0x803, testImages.Take(test * 784).Select(v => (byte)(v * 255)).ToArray(), test, 28, 28);
            WriteIdx(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), 0x801, testLabels.Take(test).Select(v => (byte)v).ToArray(), test);
        }

        private static void WriteIdx(string path, int magic, byte[] data, params int[] dimensions)
        {
            using var file = File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            foreach (int v in new[] { magic }.Concat(dimensions)) gzip.Write(new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
            gzip.Write(data);
        }

        [Fact]
        public void TheCommandLineNeverThrowsAndWritesOnlyWhatItIsAskedTo()
        {
            int runs = int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_CLI_FUZZ_RUNS"), out int r) ? r : 2000;
            int seed = int.TryParse(Environment.GetEnvironmentVariable("CNNGEN_CLI_FUZZ_SEED"), out int s) ? s : 16;

            // The sandbox: every file the runs may name lives here (or is a system path nothing can write).
            WriteData(P("data"), 40, 20);
            WriteData(P("data-bad"), 40, 20);
            File.WriteAllBytes(P("data-bad/t10k-labels-idx1-ubyte.gz"), new byte[] { 0, 0, 8, 1, 0, 0, 0, 20, 11, 12 });
            WriteData(P("data-fifo"), 40, 20);
            File.Delete(P("data-fifo/train-images-idx3-ubyte.gz"));
            ReliabilityCliTests.Mkfifo(P("data-fifo/train-images-idx3-ubyte.gz"));
            Directory.CreateDirectory(P("data-test-only"));
            foreach (var f in new[] { "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" }) File.Copy(P("data/" + f), P("data-test-only/" + f));
            ReliabilityCliTests.Mkfifo(P("fifo"));
            Directory.CreateDirectory(P("folder"));
            var (code0, _, error0) = InProcess.Run("--epochs", "1", "--limit", "40", "--threads", "1", "--data", P("data"), "--output", P("trained"), "--no-plots");
            Assert.True(code0 == 0, error0);
            File.Copy(P("trained/lenet5.safetensors"), P("weights.safetensors"));
            var damaged = File.ReadAllBytes(P("weights.safetensors"));
            damaged[damaged.Length / 2] ^= 0x40;
            File.WriteAllBytes(P("damaged.safetensors"), damaged.Take(damaged.Length - 7).ToArray());
            File.WriteAllBytes(P("garbage.safetensors"), new byte[] { 255, 255, 255, 255, 255, 255, 255, 127, 1, 2 });
            Directory.CreateDirectory(P("tampered"));
            var checkpoint = File.ReadAllBytes(P("trained/checkpoint.safetensors"));
            checkpoint[checkpoint.Length - 100] ^= 1;
            File.WriteAllBytes(P("tampered/checkpoint.safetensors"), checkpoint);
            File.WriteAllBytes(P("huge.png"), ReliabilityCliTests.HugePng());
            File.WriteAllBytes(P("small.png"), ReliabilityCliTests.HugePng(30, 20));
            File.WriteAllText(P("notes.txt"), "not an image");

            var random = new Random(seed);
            string[] paths =
            {
                P("weights.safetensors"), P("damaged.safetensors"), P("garbage.safetensors"), P("small.png"), P("huge.png"), P("notes.txt"),
                P("fifo"), P("folder"), P("missing"), P("trained/checkpoint.safetensors"), "/proc/self/mem", "/dev/zero", "/dev/null", "/proc",
                "", " ", "a\0b", P("data"),
            };
            string[] dataFolders = { P("data"), P("data"), P("data-bad"), P("data-fifo"), P("data-test-only"), P("fifo"), P("missing"), P("notes.txt"), "/proc", "" };
            string[] outputs = { P("out-a"), P("out-b"), P("trained"), P("tampered"), P("notes.txt"), P("fifo"), P("folder/sub"), "/proc/cnngen-fuzz", "/dev/null", P("data"), "", "a\0b" };
            string[] ints = { "-1", "0", "1", "2", "3", "7", "16", "40", "4096", "4097", "2147483647", "-2147483648", "99999999999", "1e3", "abc", "", "0x10" };
            string[] floats = { "0", "0.01", "0.05", "0.5", "1", "1.5", "1e6", "1e38", "3.5e38", "-0.1", "NaN", "Infinity", "-Infinity", "abc", "" };
            (string Name, Func<string[]> Values, double Chance)[] trainOptions =
            {
                ("--epochs", () => new[] { "1", "1", "2", "0", "-1", "100001", "abc", "1e1" }, 0.8),
                ("--batch-size", () => ints, 0.6),
                ("--lr", () => floats, 0.4),
                ("--optimizer", () => new[] { "sgd", "nesterov", "adam", "adamw", "rmsprop", "" }, 0.4),
                ("--momentum", () => floats, 0.3),
                ("--weight-decay", () => floats, 0.3),
                ("--schedule", () => new[] { "cosine", "step", "none", "linear" }, 0.3),
                ("--seed", () => new[] { "0", "1", "18446744073709551615", "-1", "x" }, 0.3),
                ("--threads", () => new[] { "0", "1", "2", "3", "-1", "257", "abc" }, 0.5),
                ("--augment", () => new[] { "none", "shift", "flip", "shift+flip", "rotate" }, 0.3),
                ("--limit", () => new[] { "1", "5", "20", "40", "0", "-3", "x" }, 0.7),
                ("--resume", () => Array.Empty<string>(), 0.3),
                ("--override-settings", () => Array.Empty<string>(), 0.15),
                ("--no-plots", () => Array.Empty<string>(), 0.9),
                ("--bogus", () => new[] { "1" }, 0.03),
            };

            int[] codes = new int[256];
            var failures = new List<string>();
            var clock = Stopwatch.StartNew();
            for (int run = 0; run < runs && failures.Count < 5; run++)
            {
                var args = new List<string>();
                string? output = null;
                bool train = false;
                double kind = random.NextDouble();
                if (kind < 0.05)
                {
                    // Garbage: random tokens.
                    string[] tokens = { "--", "-", "--help", "-h", "evaluate", "predict", "train", "--weights", "--epochs", "--epochs=1", "-x", "\t", "\u00e9", "--data" };
                    for (int k = random.Next(1, 5); k > 0; k--) args.Add(tokens[random.Next(tokens.Length)]);
                    // Never the default data or output folders (the full data set, a folder outside the sandbox): name sandbox ones.
                    args.AddRange(new[] { "--data", P("data"), "--output", P("out-garbage"), "--limit", "8" });
                    output = P("out-garbage");
                    train = !args.Contains("evaluate") && !args.Contains("predict");
                }
                else if (kind < 0.6)
                {
                    train = true;
                    foreach (var (name, values, chance) in trainOptions)
                    {
                        if (random.NextDouble() >= chance) continue;
                        args.Add(name);
                        var pool = values();
                        if (pool.Length > 0) args.Add(pool[random.Next(pool.Length)]);
                    }
                    args.Add("--data");
                    args.Add(dataFolders[random.Next(dataFolders.Length)]);
                    if (!args.Contains("--limit") || random.NextDouble() < 0.5) { args.Add("--limit"); args.Add("40"); }
                    output = outputs[random.Next(outputs.Length)];
                    args.Add("--output");
                    args.Add(output);
                }
                else if (kind < 0.8)
                {
                    args.Add("evaluate");
                    if (random.NextDouble() < 0.95) { args.Add("--weights"); args.Add(random.NextDouble() < 0.5 ? P("weights.safetensors") : paths[random.Next(paths.Length)]); }
                    args.Add("--data");
                    args.Add(dataFolders[random.Next(dataFolders.Length)]);
                    if (random.NextDouble() < 0.5) { args.Add("--limit"); args.Add(new[] { "1", "10", "0", "-1", "x" }[random.Next(5)]); }
                }
                else
                {
                    args.Add("predict");
                    if (random.NextDouble() < 0.95) { args.Add("--weights"); args.Add(random.NextDouble() < 0.5 ? P("weights.safetensors") : paths[random.Next(paths.Length)]); }
                    if (random.NextDouble() < 0.95) args.Add(random.NextDouble() < 0.4 ? P("small.png") : paths[random.Next(paths.Length)]);
                    if (random.NextDouble() < 0.05) args.Add("extra");
                }
                // Shuffle option order now and then (pairs stay together: shuffle whole runs of tokens is enough for the parser).
                if (args.Count > 2 && random.NextDouble() < 0.1) (args[^1], args[^2]) = (args[^2], args[^1]);

                var before = Snapshot();
                string line = string.Join(" ", args.Select(a => a.Contains(' ') || a.Length == 0 ? "'" + a + "'" : a)).Replace("\0", "\\0");
                int code;
                string error;
                try
                {
                    (code, _, error) = InProcess.Run(args.ToArray());
                }
                catch (Exception unhandled)
                {
                    failures.Add($"run {run}: {line}\n  unhandled {unhandled.GetType().Name}: {unhandled.Message}\n{unhandled.StackTrace}");
                    continue;
                }
                codes[code & 255]++;
                if (code != 0 && code != 2 && code != 3)
                    failures.Add($"run {run}: {line}\n  exit code {code}: {error}");
                if (code == 2 && (!error.StartsWith("error: ", StringComparison.Ordinal) || error.Contains("   at ", StringComparison.Ordinal)))
                    failures.Add($"run {run}: {line}\n  exit code 2 without a one-line error: {error}");

                var after = Snapshot();
                var allowed = new HashSet<string>(StringComparer.Ordinal);
                if (train && output is not null && output.Length > 0 && !output.Contains('\0'))
                {
                    string full = Path.GetFullPath(output);
                    allowed.Add(full);
                    foreach (var f in TrainCommand.OutputFiles) allowed.Add(Path.Combine(full, f));
                }
                foreach (var path in before.Keys.Union(after.Keys))
                {
                    before.TryGetValue(path, out var was);
                    after.TryGetValue(path, out var now);
                    if (was != now && !allowed.Contains(path))
                        failures.Add($"run {run}: {line}\n  changed {path}: {was} -> {now} (exit {code}: {error.Trim()})");
                }
            }
            _log.WriteLine($"{runs} runs in {clock.Elapsed.TotalSeconds:F1} s; exit codes: " +
                string.Join(", ", Enumerable.Range(0, 256).Where(c => codes[c] > 0).Select(c => $"{c}: {codes[c]}")));
            Assert.True(failures.Count == 0, string.Join("\n\n", failures));
            Assert.True(codes[0] > runs / 20, "too few runs succeeded to exercise the commands' work");
        }

        /// <summary>Every file and folder under the sandbox with its size and last write time (FIFOs as they are, never opened).</summary>
        private Dictionary<string, string> Snapshot()
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in new DirectoryInfo(_root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
                map[entry.FullName] = entry is FileInfo file ? $"{file.Length} bytes, {file.LastWriteTimeUtc.Ticks}" : "folder";
            return map;
        }
    }
}
