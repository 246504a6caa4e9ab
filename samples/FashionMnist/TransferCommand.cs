using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using CnnGen;
using CnnGen.IO;
using CnnGen.Training;

namespace FashionMnist
{
    /// <summary>What <c>transfer</c> was asked to do.</summary>
    public sealed record TransferOptions(int PretrainEpochs, int Epochs, int Shots, int Repeats, ulong Seed, int Threads, string Output, string? Data)
    {
        public void Validate()
        {
            var c = CultureInfo.InvariantCulture;
            if (PretrainEpochs < 1 || PretrainEpochs > 1000) throw new UsageException(string.Create(c, $"--pretrain-epochs must be between 1 and 1,000; got {PretrainEpochs}"));
            if (Epochs < 1 || Epochs > 10_000) throw new UsageException(string.Create(c, $"--epochs must be between 1 and 10,000; got {Epochs}"));
            if (Shots < 1 || Shots > 5000) throw new UsageException(string.Create(c, $"--shots must be between 1 and 5,000; got {Shots}"));
            if (Repeats < 1 || Repeats > 100) throw new UsageException(string.Create(c, $"--repeats must be between 1 and 100; got {Repeats}"));
            if (Threads < 0 || Threads > TrainOptions.MaxThreads) throw new UsageException(string.Create(c, $"--threads must be between 0 (all cores) and {TrainOptions.MaxThreads}; got {Threads}"));
            if (string.IsNullOrWhiteSpace(Output)) throw new UsageException("--output must name a folder");
        }
    }

    /// <summary>
    /// The transfer-learning experiment: pre-train a five-class LeNet-5 on classes 0-4 (T-shirt/top, Trouser, Pullover,
    /// Dress, Coat), then learn classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) from <c>--shots</c> training images
    /// per class, (a) with the pre-trained convolutions frozen, (b) fine-tuning everything from the pre-trained weights,
    /// (c) from scratch; each on the same images, with a new head, the same optimizer and epochs, tested on the 5,000
    /// test images of classes 5-9. Repeated over <c>--repeats</c> draws of the few images.
    /// </summary>
    public static class TransferCommand
    {
        private const int BatchSize = 25;
        private const float FineTuneLearningRate = 0.02f;

        private sealed record Regime(string Name, bool Pretrained, int[] Frozen);

        private static readonly Regime[] Regimes =
        {
            new("(a) pre-trained, convolutions frozen (--freeze 0,3)", true, new[] { 0, 3 }),
            new("(a') pre-trained, convolutions and first linear frozen (--freeze 0,3,7)", true, new[] { 0, 3, 7 }),
            new("(b) pre-trained, full fine-tuning", true, Array.Empty<int>()),
            new("(c) from scratch", false, Array.Empty<int>()),
        };

        public static int Run(TransferOptions options, CancellationToken cancellation, TextWriter? output = null)
        {
            output ??= Console.Out;
            options.Validate();
            string folder = FashionMnistData.Locate(options.Data, training: true);
            try
            {
                Directory.CreateDirectory(options.Output);
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--output {options.Output}: cannot create or use the folder: {problem.Message}");
            }
            var data = FashionMnistData.Load(folder);
            var c = CultureInfo.InvariantCulture;

            // 1. Pre-training on classes 0-4.
            var (sourceTrain, sourceTrainLabels) = Select(data.TrainImages, data.TrainLabels, 0);
            var (sourceTest, sourceTestLabels) = Select(data.TestImages, data.TestLabels, 0);
            var pretrained = new LeNet5Five();
            pretrained.ResetParameters(options.Seed);
            var optimizer = new Sgd(LeNet5Five.ParameterCount, 0.05f, momentum: 0.9f, weightDecay: 5e-4f);
            var clock = Stopwatch.StartNew();
            using (var trainer = new Trainer(pretrained, optimizer, 64, options.Threads))
            {
                var schedule = new CosineAnnealingLR(0.05f, options.PretrainEpochs);
                for (int epoch = 0; epoch < options.PretrainEpochs; epoch++)
                {
                    schedule.Apply(optimizer, epoch);
                    Epoch(trainer, sourceTrain, sourceTrainLabels, Enumerable.Range(0, sourceTrainLabels.Length).ToArray(), 64, options.Seed * 7919UL + (ulong)epoch, cancellation);
                }
                var test = trainer.Evaluate(sourceTest, sourceTestLabels);
                output.WriteLine(string.Create(c, $"Pre-trained on classes 0-4 ({sourceTrainLabels.Length:N0} images, {options.PretrainEpochs} epochs, {clock.Elapsed.TotalSeconds:F1} s): test accuracy {100 * test.Accuracy:F2}% on their {sourceTestLabels.Length:N0} test images"));
            }
            string pretrainedPath = Path.Combine(options.Output, "pretrained-classes-0-4.safetensors");
            NetworkWeights.Save(pretrained, pretrainedPath);
            output.WriteLine($"Weights: {pretrainedPath}");

            // 2. Few-shot learning of classes 5-9.
            var (targetTrain, targetTrainLabels) = Select(data.TrainImages, data.TrainLabels, 5);
            var (targetTest, targetTestLabels) = Select(data.TestImages, data.TestLabels, 5);
            var accuracies = new double[Regimes.Length][];
            var seconds = new double[Regimes.Length];
            for (int r = 0; r < Regimes.Length; r++) accuracies[r] = new double[options.Repeats];
            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                var subset = FewShots(targetTrainLabels, options.Shots, options.Seed * 31UL + (ulong)repeat);
                for (int r = 0; r < Regimes.Length; r++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var regime = Regimes[r];
                    var network = new LeNet5Five();
                    network.ResetParameters(options.Seed * 1_000UL + (ulong)repeat + 17);
                    if (regime.Pretrained)
                    {
                        var report = NetworkWeights.LoadPartial(network, pretrainedPath, new PartialLoadOptions { Skip = new[] { "11." } });
                        if (repeat == 0 && r == 0) output.WriteLine("Backbone: " + report);
                    }
                    var sgd = new Sgd(LeNet5Five.ParameterCount, FineTuneLearningRate, momentum: 0.9f, weightDecay: 5e-4f);
                    if (regime.Frozen.Length > 0) sgd.Freeze(new ParameterMask(network).FreezeLayers(regime.Frozen));
                    using var trainer = new Trainer(network, sgd, BatchSize, options.Threads);
                    var schedule = new CosineAnnealingLR(FineTuneLearningRate, options.Epochs);
                    var started = Stopwatch.StartNew();
                    for (int epoch = 0; epoch < options.Epochs; epoch++)
                    {
                        schedule.Apply(sgd, epoch);
                        Epoch(trainer, targetTrain, targetTrainLabels, subset, BatchSize, options.Seed * 104_729UL + (ulong)(repeat * 10_000 + epoch), cancellation);
                    }
                    seconds[r] += started.Elapsed.TotalSeconds;
                    accuracies[r][repeat] = trainer.Evaluate(targetTest, targetTestLabels).Accuracy;
                }
                output.WriteLine(string.Create(c, $"draw {repeat + 1}/{options.Repeats}: ") + string.Join("  ", Regimes.Select((g, r) => g.Name[..g.Name.IndexOf(')')] + ") " + (100 * accuracies[r][repeat]).ToString("F2", c) + "%")));
            }

            output.WriteLine();
            output.WriteLine(string.Create(c, $"Classes 5-9 from {options.Shots} images per class ({5 * options.Shots} in all), {options.Epochs} epochs of batch {BatchSize}, SGD lr {FineTuneLearningRate} (cosine), momentum 0.9, weight decay 5e-4; test: {targetTestLabels.Length:N0} images; {options.Repeats} draw(s) of the images"));
            output.WriteLine("| regime | trainable params | test accuracy (mean) | min | max | training time per run |");
            output.WriteLine("| --- | --- | --- | --- | --- | --- |");
            for (int r = 0; r < Regimes.Length; r++)
            {
                var mask = new ParameterMask(LeNet5Five.Layout).FreezeLayers(Regimes[r].Frozen);
                output.WriteLine(string.Create(c, $"| {Regimes[r].Name} | {mask.TrainableCount:N0} | {100 * accuracies[r].Average():F2}% | {100 * accuracies[r].Min():F2}% | {100 * accuracies[r].Max():F2}% | {seconds[r] / options.Repeats:F2} s |"));
            }
            return 0;
        }

        /// <summary>The images of classes first..first+4, labels shifted to 0-4.</summary>
        private static (float[] Images, int[] Labels) Select(float[] images, int[] labels, int first)
        {
            var indices = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= first && labels[i] < first + 5).ToArray();
            var selected = new float[indices.Length * FashionMnistData.ImageLength];
            var shifted = new int[indices.Length];
            for (int k = 0; k < indices.Length; k++)
            {
                data(indices[k]).CopyTo(selected.AsSpan(k * FashionMnistData.ImageLength));
                shifted[k] = labels[indices[k]] - first;
            }
            return (selected, shifted);

            ReadOnlySpan<float> data(int i) => images.AsSpan(i * FashionMnistData.ImageLength, FashionMnistData.ImageLength);
        }

        /// <summary><paramref name="shots"/> indices per class, drawn from <paramref name="seed"/>.</summary>
        private static int[] FewShots(int[] labels, int shots, ulong seed)
        {
            var order = Enumerable.Range(0, labels.Length).ToArray();
            var random = new CnnRandom(seed);
            random.Shuffle<int>(order);
            var chosen = new List<int>();
            var counts = new int[5];
            foreach (int i in order)
                if (counts[labels[i]] < shots)
                {
                    counts[labels[i]]++;
                    chosen.Add(i);
                }
            return chosen.ToArray();
        }

        private static void Epoch(Trainer trainer, float[] images, int[] labels, int[] indices, int batchSize, ulong seed, CancellationToken cancellation)
        {
            var order = (int[])indices.Clone();
            var random = new CnnRandom(seed);
            random.Shuffle<int>(order);
            var batch = new float[batchSize * FashionMnistData.ImageLength];
            var batchLabels = new int[batchSize];
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, order.Length - start);
                for (int k = 0; k < n; k++)
                {
                    images.AsSpan(order[start + k] * FashionMnistData.ImageLength, FashionMnistData.ImageLength).CopyTo(batch.AsSpan(k * FashionMnistData.ImageLength));
                    batchLabels[k] = labels[order[start + k]];
                }
                trainer.TrainStep(batch.AsSpan(0, n * FashionMnistData.ImageLength), batchLabels.AsSpan(0, n));
            }
        }
    }
}
