using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace FashionMnist.Tests
{
    /// <summary>
    /// A process killed (SIGKILL) at random moments while writing checkpoints leaves the previous checkpoint or the new
    /// one, never a torn file: every trial's file loads, passes its checksum, and holds one consistent version.
    /// </summary>
    public sealed class CrashSafetyTests : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-crash-").FullName;

        public CrashSafetyTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void KilledWritersLeaveTheOldOrTheNewCheckpointNeverATornOne()
        {
            const int trials = 50;
            string path = Path.Combine(_folder, "checkpoint.safetensors");
            var random = new Random(1123);
            int loaded = 0, none = 0;
            int lastVersion = 0;
            for (int trial = 0; trial < trials; trial++)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CheckpointWriter.dll"));
                start.ArgumentList.Add(path);
                using var process = Process.Start(start)!;
                Assert.Equal("ready", process.StandardOutput.ReadLine());
                System.Threading.Thread.Sleep(random.Next(1, 250));
                process.Kill(); // SIGKILL on Linux: no chance to clean up
                process.WaitForExit();

                if (!File.Exists(path))
                {
                    none++;
                    continue;
                }
                var network = new CheckpointWriter.Net();
                var optimizer = new Sgd(CheckpointWriter.Net.ParameterCount, 0.1f, momentum: 0.9f);
                var state = TrainingCheckpoint.Load(path, network, optimizer); // throws on a torn or damaged file
                int version = state.Epoch;
                Assert.All(network.Parameters.ToArray(), p => Assert.Equal(version, p));
                Assert.Equal(version, optimizer.StepCount);
                Assert.All(optimizer.State[0].Value, m => Assert.Equal(version, m));
                lastVersion = version;
                loaded++;
            }
            _output.WriteLine($"{trials} kills: {loaded} left a valid checkpoint (the last at version {lastVersion}); 0 torn");
            Assert.Equal(0, none); // the writer says "ready" only once its first checkpoint is on disk
            Assert.Equal(trials, loaded);
        }
    }
}
