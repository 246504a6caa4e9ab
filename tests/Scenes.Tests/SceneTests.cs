using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using CnnGen.IO;
using FashionMnist;
using Scenes;
using Xunit;

namespace Scenes.Tests
{
    /// <summary>The scene composer on the committed Fashion-MNIST subset.</summary>
    public sealed class ComposerTests
    {
        internal static readonly string Subset = Path.Combine(AppContext.BaseDirectory, "fashion-subset");
        private static readonly Lazy<FashionMnistData> Mnist = new(() => FashionMnistData.Load(Subset));

        private static SceneSet Compose(int count, ulong seed, int split = 0) =>
            SceneSet.Compose(Mnist.Value.TrainImages, Mnist.Value.TrainLabels, count, seed, split);

        [Fact]
        public void TheSameSeedGivesTheSameScenesAndAPrefixDoesNotDependOnTheCount()
        {
            var a = Compose(300, seed: 7);
            var b = Compose(300, seed: 7);
            var prefix = Compose(100, seed: 7);
            var other = Compose(300, seed: 8);
            Assert.Equal(a.Images, b.Images);
            Assert.Equal(a.Labels, b.Labels);
            Assert.Equal(a.Items, b.Items);
            Assert.Equal(a.Images.AsSpan(0, 100 * SceneSet.Pixels).ToArray(), prefix.Images);
            Assert.Equal(a.Items.AsSpan(0, 100 * SceneSet.MaxItems).ToArray(), prefix.Items);
            Assert.NotEqual(a.Images, other.Images);
            // Test scenes (split 1) are another stream.
            Assert.NotEqual(a.Items.AsSpan(0, 30).ToArray(), Compose(10, seed: 7, split: 1).Items);
        }

        [Fact]
        public void LabelsAgreeWithTheBoxesAndItemsDoNotOverlap()
        {
            var set = Compose(500, seed: 3);
            var counts = new int[SceneSet.MaxItems + 1];
            for (int s = 0; s < set.Count; s++)
            {
                var items = set.ItemsOf(s).ToArray();
                counts[items.Length]++;
                Assert.InRange(items.Length, 1, SceneSet.MaxItems);
                var image = set.Images.AsSpan(s * SceneSet.Pixels, SceneSet.Pixels);
                var mask = set.Labels.AsSpan(s * SceneSet.Pixels, SceneSet.Pixels);
                for (int i = 0; i < items.Length; i++)
                {
                    var it = items[i];
                    Assert.True(it.X1 - it.X0 <= SceneSet.ItemSize && it.Y1 - it.Y0 <= SceneSet.ItemSize);
                    // The labelled pixels inside the box touch all four of its edges (the box is tight).
                    int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
                    for (int y = it.Y0; y < it.Y1; y++)
                        for (int x = it.X0; x < it.X1; x++)
                            if (mask[y * SceneSet.Size + x] == it.Class + 1) { x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); x1 = Math.Max(x1, x + 1); y1 = Math.Max(y1, y + 1); }
                    Assert.Equal((it.X0, it.Y0, it.X1, it.Y1), (x0, y0, x1, y1));
                    // The item is the same picture as its Fashion-MNIST source.
                    Assert.Equal(it.Class, Mnist.Value.TrainLabels[set.SourceIndices[s * SceneSet.MaxItems + i]]);
                    for (int j = i + 1; j < items.Length; j++)
                    {
                        Assert.Equal(0f, Box.IoU(it.Box, items[j].Box));
                        Assert.NotEqual(SceneSet.CellOf(it), SceneSet.CellOf(items[j]));
                    }
                }
                // Every pixel: labelled exactly when it is ink, and then inside a box of its class.
                for (int p = 0; p < SceneSet.Pixels; p++)
                {
                    Assert.Equal(image[p] > SceneSet.InkThreshold, mask[p] != 0);
                    if (mask[p] == 0) continue;
                    int x = p % SceneSet.Size, y = p / SceneSet.Size, label = mask[p];
                    Assert.Contains(items, it => it.Class + 1 == label && x >= it.X0 && x < it.X1 && y >= it.Y0 && y < it.Y1);
                }
            }
            // 1, 2 and 3 items all occur, about equally.
            for (int k = 1; k <= 3; k++) Assert.InRange(counts[k], 120, 220);
        }
    }

    public sealed class MetricTests
    {
        [Fact]
        public void BoxIoUOnHandComputedCases()
        {
            Assert.Equal(25f / 175f, Box.IoU(new Box(0, 0, 10, 10), new Box(5, 5, 15, 15)), 6);
            Assert.Equal(1f, Box.IoU(new Box(2, 3, 7, 9), new Box(2, 3, 7, 9)));
            Assert.Equal(0f, Box.IoU(new Box(0, 0, 10, 10), new Box(10, 0, 20, 10))); // touching edges
            Assert.Equal(50f / 100f, Box.IoU(new Box(0, 0, 10, 10), new Box(0, 0, 10, 5)), 6);
        }

        [Fact]
        public void SegmentationIoUOnAHandComputedCase()
        {
            // truth 0 0 1 1 2, prediction 0 1 1 1 0:
            // class 0: TP 1, FP 1 (the 2 predicted 0), FN 1 -> 1/3; class 1: TP 2, FP 1 -> 2/3; class 2: TP 0, FN 1 -> 0.
            var m = new SegmentationMetrics(3);
            m.Add(new[] { 0, 0, 1, 1, 2 }, new[] { 0, 1, 1, 1, 0 });
            Assert.Equal(new[] { 1.0 / 3, 2.0 / 3, 0 }, m.IoU, new ToleranceComparer(1e-12));
            Assert.Equal(1.0 / 3, m.MeanIoU, 12);
            Assert.Equal(3.0 / 5, m.PixelAccuracy, 12);
        }

        [Fact]
        public void NonMaximumSuppressionOnHandMadeBoxes()
        {
            var a = new Detection(new Box(0, 0, 10, 10), 0, 0.9f);
            var b = new Detection(new Box(1, 1, 11, 11), 0, 0.8f);   // IoU with a: 81 / 119 = 0.68: suppressed
            var c = new Detection(new Box(5, 0, 15, 10), 0, 0.7f);   // IoU with a: 50 / 150 = 0.33: kept
            var d = new Detection(new Box(0, 0, 10, 10), 1, 0.6f);   // another class: kept
            var e = new Detection(new Box(30, 30, 40, 40), 0, 0.95f);
            var kept = DetectionMetrics.NonMaximumSuppression(new[] { a, b, c, d, e }, 0.45f);
            Assert.Equal(new[] { e, a, c, d }, kept);
            Assert.Equal(new[] { e, a, d }, DetectionMetrics.NonMaximumSuppression(new[] { a, b, c, d, e }, 0.3f));
        }

        [Fact]
        public void MeanAveragePrecisionOnAHandComputedCase()
        {
            // Class 0: truths in images 0 and 1. Detections by score: 0.9 hits image 0's (TP), 0.8 hits it again (FP, already
            // matched), 0.7 misses image 1's truth by IoU < 0.5 (FP), 0.6 hits image 1's (TP).
            // precision 1, 1/2, 1/3, 1/2; recall 1/2, 1/2, 1/2, 1. Made monotone: 1 up to recall 1/2, then 1/2: AP = 0.75.
            // Class 1: one truth, one detection of the wrong place (FP): AP 0. Class 2 has no truths: left out. mAP = 0.375.
            var truths = new List<IReadOnlyList<(Box, int)>>
            {
                new List<(Box, int)> { (new Box(0, 0, 10, 10), 0), (new Box(20, 20, 30, 30), 1) },
                new List<(Box, int)> { (new Box(40, 40, 50, 50), 0) },
            };
            var detections = new List<IReadOnlyList<Detection>>
            {
                new List<Detection> { new(new Box(0, 0, 10, 10), 0, 0.9f), new(new Box(1, 0, 10, 10), 0, 0.8f), new(new Box(0, 40, 10, 50), 1, 0.5f), new(new Box(0, 0, 5, 5), 2, 0.3f) },
                new List<Detection> { new(new Box(40, 40, 60, 60), 0, 0.7f), new(new Box(41, 40, 50, 50), 0, 0.6f) },
            };
            var (mean, perClass) = DetectionMetrics.MeanAveragePrecision(detections, truths, classes: 3);
            Assert.Equal(0.75, perClass[0].AveragePrecision, 12);
            Assert.Equal(new[] { 1, 0.5, 1.0 / 3, 0.5 }, perClass[0].Precision, new ToleranceComparer(1e-12));
            Assert.Equal(new[] { 0.5, 0.5, 0.5, 1 }, perClass[0].Recall, new ToleranceComparer(1e-12));
            Assert.Equal(0, perClass[1].AveragePrecision, 12);
            Assert.True(double.IsNaN(perClass[2].AveragePrecision));
            Assert.Equal(0.375, mean, 12);
            // A perfect detector scores 1.
            var perfect = truths.Select(t => (IReadOnlyList<Detection>)t.Select(x => new Detection(x.Item1, x.Item2, 1f)).ToList()).ToList();
            Assert.Equal(1.0, DetectionMetrics.MeanAveragePrecision(perfect, truths, 3).MeanAP, 12);
        }

        private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
        {
            public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
            public int GetHashCode(double obj) => 0;
        }
    }

    public sealed class DetectorLossTests
    {
        /// <summary>The analytic gradient of the detector loss against central differences (in double) at every output.</summary>
        [Fact]
        public void TheGradientMatchesFiniteDifferences()
        {
            var mnist = FashionMnistData.Load(ComposerTests.Subset);
            var set = SceneSet.Compose(mnist.TrainImages, mnist.TrainLabels, 3, seed: 5, split: 0);
            var targets = GridCoding.Encode(set);
            var scenes = new[] { 2, 0, 1 };
            var random = new Random(11);
            var output = new float[scenes.Length * GridDetector.OutputLength];
            for (int i = 0; i < output.Length; i++) output[i] = (float)(random.NextDouble() * 2 - 1);
            var loss = new DetectorLoss();
            var gradient = new float[output.Length];
            loss.Compute(output, targets, scenes, gradient);
            var scratch = new float[output.Length];
            const float h = 1e-2f;
            double worst = 0;
            for (int i = 0; i < output.Length; i++)
            {
                float saved = output[i];
                output[i] = saved + h;
                double plus = Total(loss, output, targets, scenes, scratch);
                output[i] = saved - h;
                double minus = Total(loss, output, targets, scenes, scratch);
                output[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                worst = Math.Max(worst, Math.Abs(numeric - gradient[i]));
                Assert.True(Math.Abs(numeric - gradient[i]) < 2e-4 + 1e-3 * Math.Abs(numeric), $"output {i}: analytic {gradient[i]}, numeric {numeric}");
            }
            Assert.True(gradient.Count(g => g != 0) > 3 * 64 * 2, "the gradient reaches the objectness of every cell");
        }

        private static double Total(DetectorLoss loss, float[] output, GridCoding.Targets targets, int[] scenes, float[] scratch) =>
            loss.Compute(output, targets, scenes, scratch).Total;
    }

    /// <summary>The sample end to end on the committed subset: train both networks briefly, resume, export, predict.</summary>
    public sealed class EndToEndTests : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-scenes-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private SceneOptions Options(string output, int epochs) => new(
            Segment: true, Detect: true, SegmentEpochs: epochs, DetectEpochs: epochs, BatchSize: 16, SegmentLearningRate: 0.003f, DetectLearningRate: 0.002f,
            ScenesPerEpoch: 96, TrainScenes: 200, TestScenes: 40, Seed: 2, Threads: 2, Output: output, Data: ComposerTests.Subset, Resume: false);

        [Fact]
        public void ResumingGivesTheSameWeightsAsAnUninterruptedRun()
        {
            string straight = Path.Combine(_folder, "straight"), interrupted = Path.Combine(_folder, "interrupted");
            Assert.Equal(0, SceneTraining.Run(Options(straight, 2), CancellationToken.None));
            Assert.Equal(0, SceneTraining.Run(Options(interrupted, 1), CancellationToken.None));
            Assert.Equal(0, SceneTraining.Run(Options(interrupted, 2) with { Resume = true }, CancellationToken.None));
            foreach (var file in new[] { SceneTraining.UNetFile, SceneTraining.DetectorFile })
            {
                var a = SafeTensorsFile.Read(Path.Combine(straight, file));
                var b = SafeTensorsFile.Read(Path.Combine(interrupted, file));
                Assert.Equal(a.Names, b.Names);
                foreach (var name in a.Names) Assert.Equal(a.GetFloats(name), b.GetFloats(name));
            }
            foreach (var picture in new[] { "segmentation.png", "iou.png", "detection.png", "precision-recall.png" })
                Assert.True(File.Exists(Path.Combine(straight, picture)), picture + " is missing");
            // PyTorch keys of the graph syntax.
            Assert.Contains("2.branches.1.3.branches.1.3.branches.1.5.weight", SafeTensorsFile.Read(Path.Combine(straight, SceneTraining.UNetFile)).Names);
        }

        [Fact]
        public void TheTraceRecordsTheTrainingLoopsOwnSteps()
        {
            // One epoch of 3 batches is exactly the 3 steps a trace records: the same initial weights, batches and weights after.
            string trained = Path.Combine(_folder, "trained"), traced = Path.Combine(_folder, "traced");
            var options = Options(trained, 1) with { ScenesPerEpoch = 48 };
            Assert.Equal(0, SceneTraining.Run(options, CancellationToken.None));
            Assert.Equal(0, SceneTrace.Run(options with { Output = traced }, steps: 3));
            var unet = new SceneUNet();
            unet.ResetParameters(options.Seed);
            var detector = new GridDetector();
            detector.ResetParameters(options.Seed);
            foreach (var (traceFile, weightsFile, task, initial) in new[]
            {
                (SceneTrace.SegmentFile, SceneTraining.UNetFile, 0, NetworkWeights.ToTensors(unet)),
                (SceneTrace.DetectFile, SceneTraining.DetectorFile, 1, NetworkWeights.ToTensors(detector)),
            })
            {
                var trace = SafeTensorsFile.Read(Path.Combine(traced, traceFile));
                var weights = SafeTensorsFile.Read(Path.Combine(trained, weightsFile));
                Assert.Equal(3, trace.GetFloats("loss").Length);
                Assert.All(trace.GetFloats("loss"), loss => Assert.True(float.IsFinite(loss) && loss > 0));
                Assert.Equal(SceneTraining.EpochOrder(options, options.TrainScenes, 0, task).Select(i => (long)i), trace.GetInt64s("order"));
                foreach (var name in weights.Names)
                {
                    Assert.Equal(initial.Single(t => t.Name == name).ToFloats(), trace.GetFloats("initial." + name));
                    Assert.Equal(weights.GetFloats(name), trace.GetFloats("final." + name));
                    Assert.NotEqual(trace.GetFloats("initial." + name), trace.GetFloats("step1." + name));
                }
            }
        }

        [Fact]
        public void TheCommandLineTrainsExportsAndPredicts()
        {
            string output = Path.Combine(_folder, "cli");
            var (code, text) = Run("segment", "detect", "--segment-epochs", "1", "--detect-epochs", "1", "--train-scenes", "100", "--test-scenes", "30",
                "--scenes-per-epoch", "64", "--data", ComposerTests.Subset, "--output", output);
            Assert.True(code == 0, text);
            Assert.Contains("mean IoU", text);
            Assert.Contains("mAP@0.5", text);
            Assert.Contains("IoU per class", text);

            string scenes = Path.Combine(_folder, "scenes.safetensors");
            (code, text) = Run("export", scenes, "--train-scenes", "50", "--test-scenes", "20", "--data", ComposerTests.Subset);
            Assert.True(code == 0, text);
            var file = SafeTensorsFile.Read(scenes);
            Assert.Equal(new long[] { 50, 64, 64 }, file.GetShape("train_masks").ToArray());
            Assert.Equal(new long[] { 20, 3, 4 }, file.GetShape("test_boxes").ToArray());

            string mask = Path.Combine(_folder, "mask.png");
            (code, text) = Run("predict", "--weights", Path.Combine(output, SceneTraining.UNetFile), Path.Combine(output, "segmentation.png"), "--output", mask);
            Assert.True(code == 0, text);
            Assert.True(File.Exists(mask));
            Assert.Contains("background", text);

            (code, text) = Run("predict", "--weights", Path.Combine(output, SceneTraining.DetectorFile), Path.Combine(output, "segmentation.png"), "--output", Path.Combine(_folder, "boxes.png"));
            Assert.True(code == 0, text);
            Assert.Contains("item(s)", text);

            (code, text) = Run("predict", "--weights", Path.Combine(output, SceneTraining.UNetFile), Path.Combine(_folder, "missing.png"));
            Assert.Equal(2, code);
            Assert.Contains("file not found", text);
        }

        private static (int Code, string Output) Run(params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Scenes.dll"));
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
    }
}
