using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.IO;
using CnnGen.Training;
using Spectre.Console;

namespace Scenes
{
    /// <summary>What a run was asked to do.</summary>
    public sealed record SceneOptions(
        bool Segment, bool Detect, int SegmentEpochs, int DetectEpochs, int BatchSize, float SegmentLearningRate, float DetectLearningRate,
        int ScenesPerEpoch, int TrainScenes, int TestScenes, ulong Seed, int Threads, string Output, string? Data, bool Resume);

    /// <summary>One epoch's figures; kept in the checkpoint so a resumed run reports the whole history.</summary>
    public sealed record EpochLine(int Epoch, double TrainLoss, double TestLoss, double TestMetric, double ScenesPerSecond, double Seconds);

    public static class SceneTraining
    {
        public const string UNetFile = "unet.safetensors", DetectorFile = "detector.safetensors";

        public static int Run(SceneOptions options, CancellationToken cancellation)
        {
            var total = Stopwatch.StartNew();
            Directory.CreateDirectory(options.Output);
            var clock = Stopwatch.StartNew();
            var data = SceneData.Load(options.Data, options.Seed, options.TrainScenes, options.TestScenes);
            Console.WriteLine($"Scenes: {data.Train.Count:N0} training scenes from the training images, {data.Test.Count:N0} test scenes from the test images of {data.Folder} (seed {options.Seed}, {clock.Elapsed.TotalSeconds:F1} s)");
            Console.WriteLine($"Each epoch: {Math.Min(options.ScenesPerEpoch, data.Train.Count):N0} scenes drawn from the {data.Train.Count:N0}; batch {options.BatchSize}; Adam, cosine schedule");
            string? segmentSummary = null, detectSummary = null;
            if (options.Segment) segmentSummary = SegmentationTask.Train(options, data, cancellation);
            if (options.Detect) detectSummary = DetectionTask.Train(options, data, cancellation);
            Console.WriteLine();
            if (segmentSummary is not null) Console.WriteLine(segmentSummary);
            if (detectSummary is not null) Console.WriteLine(detectSummary);
            Console.WriteLine($"Total {total.Elapsed.TotalSeconds:F1} s; outputs in {options.Output}/");
            return 0;
        }

        /// <summary>The scenes of one epoch: a shuffle of all training scenes drawn from (seed, epoch) alone, the first <c>ScenesPerEpoch</c> of it.</summary>
        public static int[] EpochOrder(SceneOptions options, int trainCount, int epoch, int task)
        {
            var order = Enumerable.Range(0, trainCount).ToArray();
            var random = new CnnRandom(options.Seed * 1_000_003UL + (ulong)epoch * 7919UL + (ulong)task);
            random.Shuffle<int>(order);
            return order[..Math.Min(options.ScenesPerEpoch, trainCount)];
        }

        public static Optimizer CreateOptimizer(int parameters, float learningRate) => new Adam(parameters, learningRate);

        /// <summary>Runs <paramref name="epoch"/> with a progress bar when the console is interactive.</summary>
        public static double WithProgress(string title, int count, Func<Action<int>?, double> run)
        {
            bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
            if (!interactive) return run(null);
            double result = 0;
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask(title, maxValue: count);
                    result = run(done => task.Value = done);
                });
            return result;
        }

        public static Dictionary<string, string> Metadata(IEnumerable<EpochLine> history, SceneOptions options)
        {
            var c = CultureInfo.InvariantCulture;
            var metadata = new Dictionary<string, string> { ["seed"] = options.Seed.ToString(c), ["batch_size"] = options.BatchSize.ToString(c) };
            foreach (var r in history)
                metadata["epoch." + r.Epoch.ToString(c)] = string.Join(",", new[] { r.TrainLoss, r.TestLoss, r.TestMetric, r.ScenesPerSecond, r.Seconds }.Select(v => v.ToString("R", c)));
            return metadata;
        }

        public static IEnumerable<EpochLine> History(IReadOnlyDictionary<string, string> metadata)
        {
            var c = CultureInfo.InvariantCulture;
            for (int epoch = 1; metadata.TryGetValue("epoch." + epoch.ToString(c), out var text); epoch++)
            {
                var f = text.Split(',').Select(v => double.Parse(v, c)).ToArray();
                yield return new EpochLine(epoch, f[0], f[1], f[2], f[3], f[4]);
            }
        }

        /// <summary>Loads the checkpoint when resuming; returns the epochs already done.</summary>
        public static int Resume(SceneOptions options, string path, INetwork network, Optimizer optimizer, List<EpochLine> history)
        {
            if (!options.Resume) return 0;
            if (!File.Exists(path)) throw new FileNotFoundException($"--resume: no checkpoint at {path}", path);
            var state = TrainingCheckpoint.Load(path, network, optimizer);
            history.AddRange(History(state.Metadata));
            Console.WriteLine($"Resumed from {path}: {state.Epoch} epoch(s) done, step {optimizer.StepCount}.");
            return state.Epoch;
        }
    }

    public static class SegmentationTask
    {
        public static string Train(SceneOptions options, SceneData data, CancellationToken cancellation)
        {
            var network = new SceneUNet();
            network.ResetParameters(options.Seed);
            var optimizer = SceneTraining.CreateOptimizer(SceneUNet.ParameterCount, options.SegmentLearningRate);
            string checkpoint = Path.Combine(options.Output, "segment-checkpoint.safetensors");
            var history = new List<EpochLine>();
            int first = SceneTraining.Resume(options, checkpoint, network, optimizer, history);
            using var trainer = new Trainer(network, optimizer, options.BatchSize, options.Threads);
            Console.WriteLine();
            Console.WriteLine($"Segmentation: U-Net, {SceneUNet.ParameterCount:N0} parameters, 11 classes per pixel, {options.SegmentEpochs} epochs, lr {options.SegmentLearningRate.ToString(CultureInfo.InvariantCulture)}, {trainer.Threads} thread(s)");

            var testImages = new float[data.Test.Count * SceneSet.Pixels];
            data.Test.CopyImages(0, data.Test.Count, testImages);
            var testLabels = new int[data.Test.Count * SceneSet.Pixels];
            for (int i = 0; i < testLabels.Length; i++) testLabels[i] = data.Test.Labels[i];

            var images = new float[options.BatchSize * SceneSet.Pixels];
            var labels = new int[options.BatchSize * SceneSet.Pixels];
            double trainSeconds = history.Sum(h => h.Seconds);
            for (int epoch = first; epoch < options.SegmentEpochs; epoch++)
            {
                new CosineAnnealingLR(options.SegmentLearningRate, options.SegmentEpochs).Apply(optimizer, epoch);
                var order = SceneTraining.EpochOrder(options, data.Train.Count, epoch, task: 0);
                var clock = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                double loss = SceneTraining.WithProgress($"segment {epoch + 1}/{options.SegmentEpochs}", order.Length, progress =>
                {
                    double sum = 0;
                    for (int start = 0; start < order.Length; start += options.BatchSize)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        int n = Math.Min(options.BatchSize, order.Length - start);
                        for (int i = 0; i < n; i++)
                        {
                            data.Train.CopyImage(order[start + i], images.AsSpan(i * SceneSet.Pixels, SceneSet.Pixels));
                            data.Train.CopyLabels(order[start + i], labels.AsSpan(i * SceneSet.Pixels, SceneSet.Pixels));
                        }
                        sum += (double)trainer.TrainStep(images.AsSpan(0, n * SceneSet.Pixels), labels.AsSpan(0, n * SceneSet.Pixels)) * n;
                        progress?.Invoke(start + n);
                    }
                    return sum / order.Length;
                });
                double seconds = clock.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                trainSeconds += seconds;
                var test = trainer.Evaluate(testImages, testLabels);
                var line = new EpochLine(epoch + 1, loss, test.Loss, test.Accuracy, order.Length / seconds, seconds);
                history.Add(line);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"segment epoch {line.Epoch,2}/{options.SegmentEpochs}  train loss {loss:F4}  test loss {test.Loss:F4}  pixel accuracy {100 * test.Accuracy:F2}%  {line.ScenesPerSecond:N0} scenes/s  {seconds:F1} s (CPU {cpuSeconds:F1} s)"));
                TrainingCheckpoint.Save(checkpoint, network, optimizer, epoch + 1, SceneTraining.Metadata(history, options));
            }

            string weights = Path.Combine(options.Output, SceneTraining.UNetFile);
            NetworkWeights.Save(network, weights);
            var (metrics, predictions) = Evaluate(network, data.Test, options.Threads);
            Console.WriteLine(Format(metrics));
            Pictures.SegmentationGrid(data.Test, predictions, Path.Combine(options.Output, "segmentation.png"));
            Pictures.IoUChart(metrics, Path.Combine(options.Output, "iou.png"));
            Console.WriteLine($"Weights (PyTorch keys): {weights}; pictures: segmentation.png, iou.png");
            return string.Create(CultureInfo.InvariantCulture,
                $"Segmentation: mean IoU {100 * metrics.MeanIoU:F2}%, pixel accuracy {100 * metrics.PixelAccuracy:F2}% on {data.Test.Count:N0} test scenes; training {trainSeconds:F1} s");
        }

        /// <summary>The confusion matrix over every test pixel and each scene's predicted mask (the most likely of 11 classes per pixel).</summary>
        public static (SegmentationMetrics Metrics, byte[] Predictions) Evaluate(SceneUNet network, SceneSet set, int threads)
        {
            const int batch = 32;
            var predictions = new byte[set.Count * SceneSet.Pixels];
            int workers = Math.Max(1, threads <= 0 ? Environment.ProcessorCount : threads);
            var partial = new SegmentationMetrics[workers];
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                var metrics = partial[w] = new SegmentationMetrics(SceneSet.Classes);
                var workspace = network.CreateWorkspace(batch);
                var images = new float[batch * SceneSet.Pixels];
                var logits = new float[batch * SceneUNet.OutputLength];
                var truth = new int[SceneSet.Pixels];
                var predicted = new int[SceneSet.Pixels];
                for (int start = w * batch; start < set.Count; start += workers * batch)
                {
                    int n = Math.Min(batch, set.Count - start);
                    set.CopyImages(start, n, images);
                    network.Forward(images.AsSpan(0, n * SceneSet.Pixels), logits.AsSpan(0, n * SceneUNet.OutputLength), n, workspace);
                    for (int i = 0; i < n; i++)
                    {
                        ArgMaxPixels(logits.AsSpan(i * SceneUNet.OutputLength, SceneUNet.OutputLength), predicted);
                        set.CopyLabels(start + i, truth);
                        metrics.Add(truth, predicted);
                        for (int p = 0; p < SceneSet.Pixels; p++) predictions[(start + i) * SceneSet.Pixels + p] = (byte)predicted[p];
                    }
                }
            });
            var all = new SegmentationMetrics(SceneSet.Classes);
            foreach (var m in partial) all.Add(m);
            return (all, predictions);
        }

        /// <summary>Per pixel, the class plane with the largest logit (the first on ties).</summary>
        public static void ArgMaxPixels(ReadOnlySpan<float> logits, Span<int> classes)
        {
            for (int p = 0; p < SceneSet.Pixels; p++)
            {
                int best = 0;
                for (int c = 1; c < SceneSet.Classes; c++)
                    if (logits[c * SceneSet.Pixels + p] > logits[best * SceneSet.Pixels + p]) best = c;
                classes[p] = best;
            }
        }

        public static string Format(SegmentationMetrics metrics)
        {
            var c = CultureInfo.InvariantCulture;
            var iou = metrics.IoU;
            var lines = new List<string> { string.Create(c, $"Pixel accuracy {100 * metrics.PixelAccuracy:F2}%, mean IoU over 11 classes {100 * metrics.MeanIoU:F2}%"), "IoU per class:" };
            for (int k = 0; k < iou.Length; k++) lines.Add(string.Create(c, $"  {k,2} {Pictures.ClassName(k),-12} {100 * iou[k],6:F2}%"));
            return string.Join(Environment.NewLine, lines);
        }
    }

    public static class DetectionTask
    {
        public static string Train(SceneOptions options, SceneData data, CancellationToken cancellation)
        {
            var network = new GridDetector();
            network.ResetParameters(options.Seed);
            var optimizer = SceneTraining.CreateOptimizer(GridDetector.ParameterCount, options.DetectLearningRate);
            string checkpoint = Path.Combine(options.Output, "detect-checkpoint.safetensors");
            var history = new List<EpochLine>();
            int first = SceneTraining.Resume(options, checkpoint, network, optimizer, history);
            var trainer = new DetectorTrainer(network, optimizer, options.BatchSize, options.Threads);
            Console.WriteLine();
            Console.WriteLine($"Detection: grid detector (8x8 cells), {GridDetector.ParameterCount:N0} parameters, {options.DetectEpochs} epochs, lr {options.DetectLearningRate.ToString(CultureInfo.InvariantCulture)}, {trainer.Threads} thread(s)");

            var trainTargets = GridCoding.Encode(data.Train);
            var testTargets = GridCoding.Encode(data.Test);
            double trainSeconds = history.Sum(h => h.Seconds);
            for (int epoch = first; epoch < options.DetectEpochs; epoch++)
            {
                new CosineAnnealingLR(options.DetectLearningRate, options.DetectEpochs).Apply(optimizer, epoch);
                var order = SceneTraining.EpochOrder(options, data.Train.Count, epoch, task: 1);
                var clock = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                double loss = SceneTraining.WithProgress($"detect {epoch + 1}/{options.DetectEpochs}", order.Length, progress =>
                {
                    double sum = 0;
                    for (int start = 0; start < order.Length; start += options.BatchSize)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        int n = Math.Min(options.BatchSize, order.Length - start);
                        sum += (double)trainer.Step(data.Train, trainTargets, order.AsSpan(start, n)).Total * n;
                        progress?.Invoke(start + n);
                    }
                    return sum / order.Length;
                });
                double seconds = clock.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                trainSeconds += seconds;
                var (testLoss, outputs) = Evaluate(network, data.Test, testTargets, options.Threads);
                var (map, _) = MeanAveragePrecision(data.Test, outputs);
                var line = new EpochLine(epoch + 1, loss, testLoss, map, order.Length / seconds, seconds);
                history.Add(line);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"detect epoch {line.Epoch,2}/{options.DetectEpochs}  train loss {loss:F4}  test loss {testLoss:F4}  mAP@0.5 {100 * map:F2}%  {line.ScenesPerSecond:N0} scenes/s  {seconds:F1} s (CPU {cpuSeconds:F1} s)"));
                TrainingCheckpoint.Save(checkpoint, network, optimizer, epoch + 1, SceneTraining.Metadata(history, options));
            }

            string weights = Path.Combine(options.Output, SceneTraining.DetectorFile);
            NetworkWeights.Save(network, weights);
            var (finalLoss, finalOutputs) = Evaluate(network, data.Test, testTargets, options.Threads);
            var (mean, perClass) = MeanAveragePrecision(data.Test, finalOutputs);
            Console.WriteLine(Format(mean, perClass));
            Pictures.DetectionGrid(data.Test, finalOutputs, Path.Combine(options.Output, "detection.png"));
            Pictures.PrecisionRecall(perClass, Path.Combine(options.Output, "precision-recall.png"));
            Console.WriteLine($"Weights (PyTorch keys): {weights}; pictures: detection.png, precision-recall.png");
            return string.Create(CultureInfo.InvariantCulture,
                $"Detection: mAP@0.5 {100 * mean:F2}% on {data.Test.Count:N0} test scenes (test loss {finalLoss:F4}); training {trainSeconds:F1} s");
        }

        /// <summary>The mean test loss and every scene's raw output (N x 16 x 8 x 8), in evaluation mode.</summary>
        public static (double Loss, float[] Outputs) Evaluate(GridDetector network, SceneSet set, GridCoding.Targets targets, int threads)
        {
            const int batch = 64;
            var outputs = new float[set.Count * GridDetector.OutputLength];
            int workers = Math.Max(1, threads <= 0 ? Environment.ProcessorCount : threads);
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                var workspace = network.CreateWorkspace(batch);
                var images = new float[batch * SceneSet.Pixels];
                for (int start = w * batch; start < set.Count; start += workers * batch)
                {
                    int n = Math.Min(batch, set.Count - start);
                    set.CopyImages(start, n, images);
                    network.Forward(images.AsSpan(0, n * SceneSet.Pixels), outputs.AsSpan(start * GridDetector.OutputLength, n * GridDetector.OutputLength), n, workspace);
                }
            });
            var scenes = Enumerable.Range(0, set.Count).ToArray();
            var gradient = new float[outputs.Length];
            double loss = new DetectorLoss().Compute(outputs, targets, scenes, gradient).Total;
            return (loss, outputs);
        }

        public static List<Detection>[] Detections(SceneSet set, float[] outputs)
        {
            var result = new List<Detection>[set.Count];
            for (int s = 0; s < set.Count; s++) result[s] = GridCoding.Decode(outputs.AsSpan(s * GridDetector.OutputLength, GridDetector.OutputLength));
            return result;
        }

        public static (double Mean, DetectionMetrics.ClassResult[] PerClass) MeanAveragePrecision(SceneSet set, float[] outputs)
        {
            var detections = Detections(set, outputs);
            var truths = new List<(Box, int)>[set.Count];
            for (int s = 0; s < set.Count; s++)
            {
                truths[s] = new List<(Box, int)>();
                foreach (var item in set.ItemsOf(s)) truths[s].Add((item.Box, item.Class));
            }
            return DetectionMetrics.MeanAveragePrecision(detections, truths, GridCoding.ObjectClasses);
        }

        public static string Format(double mean, DetectionMetrics.ClassResult[] perClass)
        {
            var c = CultureInfo.InvariantCulture;
            var lines = new List<string> { string.Create(c, $"mAP@0.5 (VOC, every point) {100 * mean:F2}%"), "AP per class (truths, final precision / recall):" };
            foreach (var r in perClass)
                lines.Add(string.Create(c, $"  {r.Class,2} {FashionMnist.FashionMnistData.ClassNames[r.Class],-12} AP {100 * r.AveragePrecision,6:F2}%  ({r.Truths} truths, {r.Precision.Length} detections, recall {100 * (r.Recall.Length == 0 ? 0 : r.Recall[^1]):F1}%)"));
            return string.Join(Environment.NewLine, lines);
        }
    }
}
