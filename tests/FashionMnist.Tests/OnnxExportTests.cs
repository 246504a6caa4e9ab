using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Training;
using FashionMnist;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace FashionMnist.Tests
{
    /// <summary>
    /// The main job's LeNet-5 (weights trained by the default run) exported with the sample's <c>export</c> command and run
    /// in ONNX Runtime 1.31.1 classifies the test set as CnnGen's <c>evaluate</c> does: the same accuracy, and the same
    /// prediction for every image (a prediction may differ only where two logits are within 1e-4 of each other).
    /// </summary>
    public sealed class OnnxExportTests : IDisposable
    {
        private static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "fashion-subset");
        /// <summary>The embedded sample's weights, or any LeNet-5 weights named by CNNGEN_ONNX_WEIGHTS (to check other runs).</summary>
        private static readonly string Trained = Environment.GetEnvironmentVariable("CNNGEN_ONNX_WEIGHTS") is { Length: > 0 } other
            ? Path.GetFullPath(other)
            : Path.Combine(AppContext.BaseDirectory, "trained", "lenet5.safetensors");
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-onnx-").FullName;
        private readonly ITestOutputHelper _output;

        public OnnxExportTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void TheExportedLeNet5GivesEvaluatesAccuracyInOnnxRuntime()
        {
            string onnx = Path.Combine(_folder, "lenet5.onnx");
            var (code, text) = Run("export", "--weights", Trained, "--onnx", onnx);
            Assert.True(code == 0, text);
            Assert.Contains("ONNX opset 17", text);

            (code, text) = Run("evaluate", "--weights", Trained, "--data", Subset);
            Assert.True(code == 0, text);
            string evaluateLine = text.Split('\n').Single(l => l.Contains("test accuracy")).Trim();

            // The committed 1,000-image subset, and the full 10,000-image test set when it is there (it ships with the sample).
            var subset = FashionMnistData.Load(Subset);
            var (onnxCorrect, cnnCorrect) = Compare(onnx, subset, "subset");
            Assert.Equal($"{Trained}: test accuracy {100.0 * onnxCorrect / subset.TestLabels.Length:F2}% ({onnxCorrect:N0} of {subset.TestLabels.Length:N0})", evaluateLine);

            string full;
            try
            {
                full = FashionMnistData.Locate(null);
            }
            catch (CnnGen.Data.DataFileException)
            {
                return;
            }
            Compare(onnx, FashionMnistData.Load(full), "full test set");
        }

        private (int Onnx, int CnnGen) Compare(string onnxPath, FashionMnistData data, string what)
        {
            int count = data.TestLabels.Length;
            var network = new LeNet5();
            NetworkWeights.Load(network, Trained);
            var watch = Stopwatch.StartNew();
            var expected = Reports.Predict(network, data.TestImages, count);
            double cnnSeconds = watch.Elapsed.TotalSeconds;

            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(onnxPath, options);
            watch.Restart();
            var tensor = new DenseTensor<float>(data.TestImages.AsMemory(0, count * LeNet5.InputLength), new[] { count, 1, 28, 28 });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", tensor) });
            float[] logits = results.Single().AsTensor<float>().ToArray();
            double onnxSeconds = watch.Elapsed.TotalSeconds;
            Assert.Equal(count * LeNet5.OutputLength, logits.Length);

            // CnnGen's logits for the near-tie check.
            var cnnLogits = new float[count * LeNet5.OutputLength];
            network.Forward(data.TestImages.AsSpan(0, count * LeNet5.InputLength), cnnLogits, count, network.CreateWorkspace(count));

            int onnxCorrect = 0, cnnCorrect = 0, differing = 0;
            double worst = 0;
            for (int i = 0; i < count; i++)
            {
                var row = logits.AsSpan(i * LeNet5.OutputLength, LeNet5.OutputLength);
                var cnnRow = cnnLogits.AsSpan(i * LeNet5.OutputLength, LeNet5.OutputLength);
                for (int k = 0; k < row.Length; k++) worst = Math.Max(worst, Math.Abs(row[k] - cnnRow[k]) / Math.Max(1, Math.Abs(cnnRow[k])));
                int predicted = Losses.ArgMax(row);
                if (predicted == data.TestLabels[i]) onnxCorrect++;
                if (expected[i] == data.TestLabels[i]) cnnCorrect++;
                if (predicted != expected[i])
                {
                    differing++;
                    Assert.True(Math.Abs(cnnRow[predicted] - cnnRow[expected[i]]) < 1e-4, $"image {i}: ONNX Runtime says {predicted}, CnnGen {expected[i]}");
                }
            }
            _output.WriteLine($"{what}: {count:N0} images, ONNX Runtime {100.0 * onnxCorrect / count:F2}% ({onnxCorrect:N0}) in {onnxSeconds:F2} s, "
                + $"CnnGen {100.0 * cnnCorrect / count:F2}% ({cnnCorrect:N0}) in {cnnSeconds:F2} s, {differing} predictions differ, largest logit error {worst:E2}");
            Assert.Equal(cnnCorrect, onnxCorrect);
            Assert.True(worst <= 1e-5, $"largest logit error {worst:E2}");
            return (onnxCorrect, cnnCorrect);
        }

        [Fact]
        public void ExportWithBadFilesEndsWithAMessageAndExitCode2()
        {
            string onnx = Path.Combine(_folder, "out.onnx");
            var (code, text) = Run("export", "--weights", Path.Combine(_folder, "missing.safetensors"), "--onnx", onnx);
            Assert.Equal(2, code);
            Assert.Contains("missing.safetensors", text);

            string broken = Path.Combine(_folder, "broken.safetensors");
            File.WriteAllBytes(broken, new byte[] { 1, 2, 3 });
            (code, text) = Run("export", "--weights", broken, "--onnx", onnx);
            Assert.Equal(2, code);
            Assert.Contains("broken.safetensors", text);

            string nowhere = Path.Combine(_folder, "no-such-folder", "lenet5.onnx");
            (code, text) = Run("export", "--weights", Trained, "--onnx", nowhere);
            Assert.Equal(2, code);
            Assert.Contains("error: Cannot write the ONNX file", text);
            Assert.Contains("no-such-folder", text);
            Assert.Single(text.Trim().Split('\n')); // one clear line, no stack trace

            Assert.Equal(new[] { broken }, Directory.GetFileSystemEntries(_folder)); // nothing written
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
}
