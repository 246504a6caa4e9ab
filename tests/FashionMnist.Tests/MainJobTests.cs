using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using CnnGen.IO;
using CnnGen.Training;
using FashionMnist;
using Xunit;

namespace FashionMnist.Tests
{
    /// <summary>The main job on the committed 4,000-image subset: resume, the CLI end to end, bad input.</summary>
    public sealed class MainJobTests : IDisposable
    {
        private static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "fashion-subset");
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-fashion-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private TrainOptions Options(string output, int epochs) =>
            new(epochs, BatchSize: 32, LearningRate: 0.05f, Optimizer: "sgd", Momentum: 0.9f, WeightDecay: 5e-4f, Schedule: "cosine",
                Seed: 3, Threads: 2, Output: output, Data: Subset, Resume: false, Shift: true, Flip: true, Limit: 640);

        [Fact]
        public void ResumingFromACheckpointGivesTheSameWeightsAsAnUninterruptedRun()
        {
            string straight = Path.Combine(_folder, "straight"), interrupted = Path.Combine(_folder, "interrupted");
            Assert.Equal(0, TrainCommand.Run(Options(straight, 3), CancellationToken.None));

            // Stop after one epoch (as a killed run leaves it: the last checkpoint), then resume to three.
            Assert.Equal(0, TrainCommand.Run(Options(interrupted, 1), CancellationToken.None));
            Assert.Equal(0, TrainCommand.Run(Options(interrupted, 3) with { Resume = true }, CancellationToken.None));

            var a = SafeTensorsFile.Read(Path.Combine(straight, "lenet5.safetensors"));
            var b = SafeTensorsFile.Read(Path.Combine(interrupted, "lenet5.safetensors"));
            Assert.Equal(a.Names, b.Names);
            foreach (var name in a.Names) Assert.Equal(a.GetFloats(name), b.GetFloats(name));
        }

        [Fact]
        public void TheCommandLineTrainsEvaluatesAndPredicts()
        {
            string output = Path.Combine(_folder, "cli");
            var (code, text) = Run("--epochs", "1", "--limit", "500", "--batch-size", "50", "--data", Subset, "--output", output);
            Assert.True(code == 0, text);
            Assert.Contains("epoch   1/1", text);
            Assert.Contains("test accuracy", text);
            Assert.Contains("images/s", text);
            Assert.Contains("Confusion matrix", text);
            foreach (var file in new[] { "lenet5.safetensors", "checkpoint.safetensors", "training.png", "confusion.png", "misclassified.png" })
                Assert.True(File.Exists(Path.Combine(output, file)), file + " is missing");

            string weights = Path.Combine(output, "lenet5.safetensors");
            (code, text) = Run("evaluate", "--weights", weights, "--data", Subset, "--limit", "200");
            Assert.True(code == 0, text);
            Assert.Contains("test accuracy", text);

            (code, text) = Run("predict", "--weights", weights, Path.Combine(output, "misclassified.png"));
            Assert.True(code == 0, text);
            Assert.Equal(3, text.Split('%').Length - 1);
        }

        [Fact]
        public void BadDataEndsWithAMessageNamingTheFileAndExitCode2()
        {
            string broken = Path.Combine(_folder, "broken");
            Directory.CreateDirectory(broken);
            foreach (var file in Directory.GetFiles(Subset, "*.gz")) File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
            File.WriteAllBytes(Path.Combine(broken, "t10k-labels-idx1-ubyte.gz"), new byte[] { 0, 0, 8, 3, 0, 0, 0, 1 });

            var (code, text) = Run("--epochs", "1", "--data", broken, "--output", Path.Combine(_folder, "out"));
            Assert.Equal(2, code);
            Assert.Contains("t10k-labels-idx1-ubyte.gz", text);
            Assert.Contains("wrong magic number", text);

            (code, text) = Run("--epochs", "1", "--data", Path.Combine(_folder, "nowhere"), "--output", Path.Combine(_folder, "out"));
            Assert.Equal(2, code);
            Assert.Contains("file not found", text);
        }

        private static (int Code, string Output) Run(params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FashionMnist.dll"));
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
    }

    public sealed class CheckpointTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-checkpoint-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void ACheckpointRestoresWeightsAndOptimizerStateAndRefusesDamage()
        {
            var network = new LeNet5();
            network.ResetParameters(4);
            var optimizer = new Sgd(LeNet5.ParameterCount, 0.1f, momentum: 0.9f);
            var gradients = new float[LeNet5.ParameterCount];
            for (int i = 0; i < gradients.Length; i++) gradients[i] = (i % 7) * 1e-3f;
            optimizer.Step(network.Parameters, gradients);
            optimizer.LearningRate = 0.03f;
            string path = Path.Combine(_folder, "checkpoint.safetensors");
            TrainingCheckpoint.Save(path, network, optimizer, epoch: 5);

            var restored = new LeNet5();
            var restoredOptimizer = new Sgd(LeNet5.ParameterCount, 0.1f, momentum: 0.9f);
            var state = TrainingCheckpoint.Load(path, restored, restoredOptimizer);
            Assert.Equal(5, state.Epoch);
            Assert.Equal(1, restoredOptimizer.StepCount);
            Assert.Equal(0.03f, restoredOptimizer.LearningRate);
            Assert.Equal(network.Parameters.ToArray(), restored.Parameters.ToArray());
            optimizer.Step(network.Parameters, gradients);
            restoredOptimizer.Step(restored.Parameters, gradients);
            Assert.Equal(network.Parameters.ToArray(), restored.Parameters.ToArray()); // the momentum came back too

            // One flipped bit in the data: refused by the checksum, the target untouched.
            var bytes = File.ReadAllBytes(path);
            bytes[^10] ^= 1;
            File.WriteAllBytes(path, bytes);
            var target = new LeNet5();
            var before = target.Parameters.ToArray();
            var error = Assert.Throws<WeightFileException>(() => TrainingCheckpoint.Load(path, target, new Sgd(LeNet5.ParameterCount, 0.1f, momentum: 0.9f)));
            Assert.Contains("checksum", error.Message);
            Assert.Equal(before, target.Parameters.ToArray());

            // An optimizer of another kind refuses the state, and the network is put back.
            TrainingCheckpoint.Save(path, network, optimizer, epoch: 6);
            error = Assert.Throws<WeightFileException>(() => TrainingCheckpoint.Load(path, target, new Adam(LeNet5.ParameterCount)));
            Assert.Contains("optimizer state", error.Message);
            Assert.Equal(before, target.Parameters.ToArray());
        }
    }
}

namespace FashionMnist.Tests
{
    public sealed class DivergenceTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-diverge-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        /// <summary>A huge learning rate blows the loss up: the run stops with a message, and the last good checkpoint survives.</summary>
        [Fact]
        public void ADivergingRunStopsAndKeepsTheLastGoodCheckpoint()
        {
            string subset = Path.Combine(AppContext.BaseDirectory, "fashion-subset");
            var options = new TrainOptions(1, 32, 0.05f, "sgd", 0.9f, 0f, "none", 1, 2, _folder, subset, false, false, false, 320);
            Assert.Equal(0, TrainCommand.Run(options, CancellationToken.None));
            string checkpoint = Path.Combine(_folder, "checkpoint.safetensors");
            byte[] good = File.ReadAllBytes(checkpoint);

            var error = Assert.Throws<TrainingDivergedException>(() =>
                TrainCommand.Run(options with { Epochs = 3, Resume = true, LearningRate = 1e6f, OverrideSettings = true }, CancellationToken.None));
            Assert.Contains("diverged at step", error.Message);
            Assert.Equal(good, File.ReadAllBytes(checkpoint));
        }
    }
}
