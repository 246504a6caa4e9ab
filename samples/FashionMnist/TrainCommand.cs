using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using CnnGen;
using CnnGen.IO;
using CnnGen.Training;
using Spectre.Console;

namespace FashionMnist
{
    /// <summary>What <c>train</c> was asked to do.</summary>
    public sealed record TrainOptions(
        int Epochs, int BatchSize, float LearningRate, string Optimizer, float Momentum, float WeightDecay, string Schedule,
        ulong Seed, int Threads, string Output, string? Data, bool Resume, bool Shift, bool Flip, int? Limit);

    /// <summary>One epoch's figures, kept in the checkpoint so a resumed run reports and plots the whole history.</summary>
    public sealed record EpochResult(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy, double ImagesPerSecond, double Seconds);

    /// <summary>Trains LeNet-5: per epoch a shuffled pass over the training set, a test evaluation and a checkpoint.</summary>
    public static class TrainCommand
    {
        public static int Run(TrainOptions options, CancellationToken cancellation)
        {
            var data = FashionMnistData.Load(FashionMnistData.Locate(options.Data), options.Limit);
            Directory.CreateDirectory(options.Output);
            string checkpointPath = Path.Combine(options.Output, "checkpoint.safetensors");

            var network = new LeNet5();
            network.ResetParameters(options.Seed);
            var optimizer = CreateOptimizer(options, network);
            var history = new List<EpochResult>();
            int firstEpoch = 0;
            if (options.Resume)
            {
                if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"--resume: no checkpoint at {checkpointPath}", checkpointPath);
                var state = TrainingCheckpoint.Load(checkpointPath, network, optimizer);
                firstEpoch = state.Epoch;
                history.AddRange(HistoryFromMetadata(state.Metadata));
                Console.WriteLine($"Resumed from {checkpointPath}: {firstEpoch} epoch(s) done, step {optimizer.StepCount}.");
            }

            var augmentation = new Augmentation(options.Shift, options.Flip);
            using var trainer = new Trainer(network, optimizer, options.BatchSize, options.Threads);
            Console.WriteLine($"LeNet-5, {LeNet5.ParameterCount:N0} parameters; {data.TrainLabels.Length:N0} training and {data.TestLabels.Length:N0} test images from {data.Folder}");
            Console.WriteLine($"{options.Epochs} epochs, batch {options.BatchSize}, {options.Optimizer} lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)} ({options.Schedule}), augmentation {augmentation}, seed {options.Seed}, {trainer.Threads} thread(s)");

            bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
            for (int epoch = firstEpoch; epoch < options.Epochs; epoch++)
            {
                ApplySchedule(options, optimizer, epoch);
                var clock = Stopwatch.StartNew();
                double trainLoss = interactive
                    ? RunEpochWithProgressBar(trainer, data, options, augmentation, epoch, cancellation)
                    : RunEpoch(trainer, data, options, augmentation, epoch, cancellation, null);
                double seconds = clock.Elapsed.TotalSeconds;
                var test = trainer.Evaluate(data.TestImages, data.TestLabels);
                var result = new EpochResult(epoch + 1, trainLoss, test.Loss, test.Accuracy, data.TrainLabels.Length / seconds, seconds);
                history.Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {result.Epoch,3}/{options.Epochs}  train loss {trainLoss:F4}  test loss {test.Loss:F4}  test accuracy {100 * test.Accuracy:F2}%  {result.ImagesPerSecond:N0} images/s  {seconds:F1} s"));
                TrainingCheckpoint.Save(checkpointPath, network, optimizer, epoch + 1, MetadataFromHistory(history, options));
            }

            string weightsPath = Path.Combine(options.Output, "lenet5.safetensors");
            NetworkWeights.Save(network, weightsPath);
            Console.WriteLine($"Weights (PyTorch nn.Sequential keys): {weightsPath}");
            Reports.WriteAll(network, data, history, options.Output);
            return 0;
        }

        private static Optimizer CreateOptimizer(TrainOptions options, LeNet5 network) => options.Optimizer switch
        {
            "sgd" => new Sgd(LeNet5.ParameterCount, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
            "nesterov" => new Sgd(LeNet5.ParameterCount, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay, nesterov: true),
            "adam" => new Adam(LeNet5.ParameterCount, options.LearningRate, weightDecay: options.WeightDecay),
            "adamw" => new AdamW(LeNet5.ParameterCount, options.LearningRate, weightDecay: options.WeightDecay),
            _ => throw new ArgumentException($"Unknown optimizer '{options.Optimizer}': expected sgd, nesterov, adam or adamw."),
        };

        private static void ApplySchedule(TrainOptions options, Optimizer optimizer, int epoch)
        {
            switch (options.Schedule)
            {
                case "cosine": new CosineAnnealingLR(options.LearningRate, options.Epochs).Apply(optimizer, epoch); break;
                case "step": new StepLR(options.LearningRate, Math.Max(1, options.Epochs / 3), 0.3f).Apply(optimizer, epoch); break;
                case "none": optimizer.LearningRate = options.LearningRate; break;
                default: throw new ArgumentException($"Unknown schedule '{options.Schedule}': expected cosine, step or none.");
            }
        }

        private static double RunEpochWithProgressBar(Trainer trainer, FashionMnistData data, TrainOptions options, Augmentation augmentation, int epoch, CancellationToken cancellation)
        {
            double loss = 0;
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"epoch {epoch + 1}/{options.Epochs}", maxValue: data.TrainLabels.Length);
                    loss = RunEpoch(trainer, data, options, augmentation, epoch, cancellation, done => task.Value = done);
                });
            return loss;
        }

        /// <summary>
        /// One pass in an order drawn from (seed, epoch) alone, so a resumed run sees the same batches as an uninterrupted one.
        /// Returns the mean training loss.
        /// </summary>
        public static double RunEpoch(Trainer trainer, FashionMnistData data, TrainOptions options, Augmentation augmentation, int epoch,
            CancellationToken cancellation, Action<int>? progress)
        {
            int count = data.TrainLabels.Length, batchSize = options.BatchSize;
            var order = new int[count];
            for (int i = 0; i < count; i++) order[i] = i;
            var random = new CnnRandom(options.Seed * 1_000_003UL + (ulong)epoch);
            random.Shuffle<int>(order);

            var images = new float[batchSize * FashionMnistData.ImageLength];
            var labels = new int[batchSize];
            double lossSum = 0;
            for (int start = 0; start < count; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, count - start);
                for (int i = 0; i < n; i++)
                {
                    int index = order[start + i];
                    var source = data.TrainImages.AsSpan(index * FashionMnistData.ImageLength, FashionMnistData.ImageLength);
                    var target = images.AsSpan(i * FashionMnistData.ImageLength, FashionMnistData.ImageLength);
                    if (augmentation.Enabled) augmentation.Apply(source, target, ref random);
                    else source.CopyTo(target);
                    labels[i] = data.TrainLabels[index];
                }
                lossSum += (double)trainer.TrainStep(images.AsSpan(0, n * FashionMnistData.ImageLength), labels.AsSpan(0, n)) * n;
                progress?.Invoke(start + n);
            }
            return lossSum / count;
        }

        private static Dictionary<string, string> MetadataFromHistory(List<EpochResult> history, TrainOptions options)
        {
            var c = CultureInfo.InvariantCulture;
            var metadata = new Dictionary<string, string>
            {
                ["seed"] = options.Seed.ToString(c),
                ["optimizer"] = options.Optimizer,
                ["batch_size"] = options.BatchSize.ToString(c),
            };
            foreach (var r in history)
                metadata["epoch." + r.Epoch.ToString(c)] = string.Join(",", r.TrainLoss.ToString("R", c), r.TestLoss.ToString("R", c), r.TestAccuracy.ToString("R", c), r.ImagesPerSecond.ToString("R", c), r.Seconds.ToString("R", c));
            return metadata;
        }

        private static IEnumerable<EpochResult> HistoryFromMetadata(IReadOnlyDictionary<string, string> metadata)
        {
            var c = CultureInfo.InvariantCulture;
            for (int epoch = 1; metadata.TryGetValue("epoch." + epoch.ToString(c), out var text); epoch++)
            {
                var f = text.Split(',');
                yield return new EpochResult(epoch, double.Parse(f[0], c), double.Parse(f[1], c), double.Parse(f[2], c), double.Parse(f[3], c), double.Parse(f[4], c));
            }
        }
    }
}
