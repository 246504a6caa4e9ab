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
using Spectre.Console;

namespace FashionMnist
{
    /// <summary>What <c>train</c> was asked to do.</summary>
    public sealed record TrainOptions(
        int Epochs, int BatchSize, float LearningRate, string Optimizer, float Momentum, float WeightDecay, string Schedule,
        ulong Seed, int Threads, string Output, string? Data, bool Resume, bool Shift, bool Flip, int? Limit,
        bool OverrideSettings = false, bool Plots = true, string? InitWeights = null, int[]? Freeze = null, string? Augment = null)
    {
        /// <summary>The augmentation as <c>--augment</c> takes it, normalized: <see cref="Augment"/> if given, else from <see cref="Shift"/> and <see cref="Flip"/>.</summary>
        public string AugmentText => Augment is not null ? AugmentationChoices.Normalize(Augment)
            : !Shift && !Flip ? "none" : Shift && Flip ? "shift+flip" : Shift ? "shift" : "flip";

        public const int MaxEpochs = 100_000;
        /// <summary>Activations and gradients take about 100 KB per image: 4,096 images is about 400 MB.</summary>
        public const int MaxBatchSize = 4096;
        public const int MaxThreads = 256;

        /// <summary>Refuses out-of-range options before any work, naming the option.</summary>
        public void Validate()
        {
            var c = CultureInfo.InvariantCulture;
            if (Epochs < 1 || Epochs > MaxEpochs) throw new UsageException(string.Create(c, $"--epochs must be between 1 and {MaxEpochs:N0}; got {Epochs}"));
            if (BatchSize < 1 || BatchSize > MaxBatchSize) throw new UsageException(string.Create(c, $"--batch-size must be between 1 and {MaxBatchSize:N0}; got {BatchSize}"));
            if (!float.IsFinite(LearningRate) || LearningRate <= 0) throw new UsageException(string.Create(c, $"--lr must be a finite number above 0; got {LearningRate}"));
            if (!(Momentum >= 0 && Momentum <= 1)) throw new UsageException(string.Create(c, $"--momentum must be between 0 and 1; got {Momentum}"));
            if (Optimizer == "nesterov" && Momentum == 0) throw new UsageException("--optimizer nesterov needs a --momentum above 0");
            if (!float.IsFinite(WeightDecay) || WeightDecay < 0) throw new UsageException(string.Create(c, $"--weight-decay must be a finite number of 0 or more; got {WeightDecay}"));
            if (Threads < 0 || Threads > MaxThreads) throw new UsageException(string.Create(c, $"--threads must be between 0 (all cores) and {MaxThreads}; got {Threads}"));
            if (Limit is int n && n < 1) throw new UsageException(string.Create(c, $"--limit must be 1 or more; got {n}"));
            if (string.IsNullOrWhiteSpace(Output)) throw new UsageException("--output must name a folder");
            if (Data is not null && string.IsNullOrWhiteSpace(Data)) throw new UsageException("--data must name a folder");
            if (OverrideSettings && !Resume) throw new UsageException("--override-settings only makes sense with --resume");
            _ = AugmentText; // refuses an unknown transform
            if (InitWeights is not null)
            {
                if (string.IsNullOrWhiteSpace(InitWeights)) throw new UsageException("--init-weights must name a safetensors file");
                if (Resume) throw new UsageException("--init-weights cannot be combined with --resume: the checkpoint holds the weights");
                if (CnnGen.IO.InputFiles.DescribeIfNotRegular(InitWeights) is string kind) throw new UsageException($"--init-weights {InitWeights}: not a regular file ({kind})");
                if (!File.Exists(InitWeights)) throw new UsageException($"--init-weights {InitWeights}: file not found");
            }
            if (Freeze is not null)
            {
                int modules = LeNet5.Layout.Root.Nodes.Count;
                var withParameters = new List<int>();
                foreach (var layer in LeNet5.Layout.Layers) if (layer.ParameterCount > 0) withParameters.Add(layer.Index);
                foreach (int layer in Freeze)
                {
                    if (layer < 0 || layer >= modules) throw new UsageException(string.Create(c, $"--freeze: layer {layer} does not exist; LeNet-5's layers are 0 to {modules - 1} (with parameters: {string.Join(",", withParameters)})"));
                    if (!withParameters.Contains(layer)) throw new UsageException(string.Create(c, $"--freeze: layer {layer} ({LeNet5.Layout.Layers[layer].TorchName}) has no parameters; the layers with parameters are {string.Join(",", withParameters)}"));
                }
                if (withParameters.TrueForAll(l => Array.IndexOf(Freeze, l) >= 0)) throw new UsageException("--freeze: every layer with parameters is frozen; nothing would train");
            }
        }

        /// <summary>Parses <c>--freeze</c>'s "0,3" (layer indices, comma-separated).</summary>
        public static int[] ParseLayerList(string option, string text)
        {
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            var layers = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out layers[i]))
                    throw new UsageException($"{option}: '{text}' is not a comma-separated list of layer indices (e.g. 0,3)");
            return layers;
        }

        /// <summary>The frozen layers as given to <c>--freeze</c>, sorted ("none" when nothing is frozen).</summary>
        public string FreezeText => Freeze is null || Freeze.Length == 0 ? "none" : string.Join(",", Freeze.Distinct().OrderBy(l => l));

        /// <summary>The options a resumed run must share with the checkpoint (the epoch count may grow), as stored in its metadata.</summary>
        public IReadOnlyList<(string Key, string Option, string Value)> Settings()
        {
            var c = CultureInfo.InvariantCulture;
            string augment = AugmentText;
            return new[]
            {
                ("seed", "--seed", Seed.ToString(c)),
                ("optimizer", "--optimizer", Optimizer),
                ("batch_size", "--batch-size", BatchSize.ToString(c)),
                ("lr", "--lr", LearningRate.ToString("R", c)),
                ("momentum", "--momentum", Momentum.ToString("R", c)),
                ("weight_decay", "--weight-decay", WeightDecay.ToString("R", c)),
                ("schedule", "--schedule", Schedule),
                ("augment", "--augment", augment),
                ("limit", "--limit", Limit is int n ? n.ToString(c) : "all"),
                ("freeze", "--freeze", FreezeText),
            };
        }
    }

    /// <summary>One epoch's figures, kept in the checkpoint so a resumed run reports and plots the whole history.</summary>
    public sealed record EpochResult(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy, double ImagesPerSecond, double Seconds);

    /// <summary>Trains LeNet-5: per epoch a shuffled pass over the training set, a test evaluation and a checkpoint.</summary>
    public static class TrainCommand
    {
        /// <summary>The files a training run writes in its output folder, and nothing else.</summary>
        public static readonly string[] OutputFiles = { "checkpoint.safetensors", "lenet5.safetensors", "training.png", "confusion.png", "misclassified.png" };

        public static int Run(TrainOptions options, CancellationToken cancellation, TextWriter? output = null, TextWriter? error = null)
        {
            output ??= Console.Out;
            error ??= Console.Error;
            // 1. Everything that can be refused is refused before any work: options, data files, the checkpoint.
            options.Validate();
            string dataFolder = FashionMnistData.Locate(options.Data, training: true);
            if (File.Exists(options.Output) || InputFilesKind(options.Output) is string kind && kind != "a directory")
                throw new UsageException($"--output {options.Output}: exists and is not a folder");
            string checkpointPath = Path.Combine(options.Output, "checkpoint.safetensors");

            var network = new LeNet5();
            network.ResetParameters(options.Seed);
            if (options.InitWeights is not null)
            {
                // A backbone from another run: what fits is loaded, a head of another shape stays at its initialization.
                var report = NetworkWeights.LoadPartial(network, options.InitWeights, new PartialLoadOptions { SkipShapeMismatches = true });
                output.WriteLine("--init-weights: " + report);
            }
            var optimizer = CreateOptimizer(options, network);
            if (options.Freeze is { Length: > 0 } frozen)
            {
                var mask = optimizer.Freeze(new ParameterMask(network).FreezeLayers(frozen));
                output.WriteLine($"--freeze {options.FreezeText}: {mask}");
            }
            var history = new List<EpochResult>();
            int firstEpoch = 0;
            if (options.Resume)
            {
                if (!File.Exists(checkpointPath)) throw new UsageException($"--resume: no checkpoint at {checkpointPath}");
                List<EpochResult> restored = new();
                var warnings = new List<string>();
                var state = TrainingCheckpoint.Load(checkpointPath, network, optimizer, metadata =>
                {
                    restored = HistoryFromMetadata(checkpointPath, metadata);
                    warnings = CheckSettings(checkpointPath, metadata, options);
                });
                foreach (var warning in warnings) error.WriteLine("warning: " + warning);
                firstEpoch = state.Epoch;
                history.AddRange(restored);
                output.WriteLine($"Resumed from {checkpointPath}: {firstEpoch} epoch(s) done, step {optimizer.StepCount}.");
            }
            var data = FashionMnistData.Load(dataFolder, options.Limit);

            // 2. The output folder: created, and cleared of temporary files that killed runs left behind.
            try
            {
                Directory.CreateDirectory(options.Output);
                AtomicFile.RemoveStaleTemporaries(options.Output, OutputFiles);
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--output {options.Output}: cannot create or use the folder: {problem.Message}");
            }

            var augmentation = AugmentationChoices.Create(options.AugmentText, options.Seed);
            using var trainer = new Trainer(network, optimizer, options.BatchSize, options.Threads);
            output.WriteLine($"LeNet-5, {LeNet5.ParameterCount:N0} parameters; {data.TrainLabels.Length:N0} training and {data.TestLabels.Length:N0} test images from {data.Folder}");
            output.WriteLine($"{options.Epochs} epochs, batch {options.BatchSize}, {options.Optimizer} lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)} ({options.Schedule}), augmentation {augmentation}, seed {options.Seed}, {trainer.Threads} thread(s)");

            bool interactive = ReferenceEquals(output, Console.Out) && AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
            for (int epoch = firstEpoch; epoch < options.Epochs; epoch++)
            {
                ApplySchedule(options, optimizer, epoch);
                var clock = Stopwatch.StartNew();
                double trainLoss;
                try
                {
                    trainLoss = interactive
                        ? RunEpochWithProgressBar(trainer, data, options, augmentation, epoch, cancellation)
                        : RunEpoch(trainer, data, options, augmentation, epoch, cancellation, null);
                }
                catch (OperationCanceledException)
                {
                    // Stopped between two steps: the checkpoint on disk is the last completed epoch's (or none yet).
                    error.WriteLine(epoch == 0
                        ? $"Interrupted during epoch 1 at step {trainer.Steps}; no epoch was completed, so no checkpoint was written."
                        : $"Interrupted during epoch {epoch + 1} at step {optimizer.StepCount}; the checkpoint of epoch {epoch} is kept: {checkpointPath} (--resume continues from it).");
                    return Cli.Interrupted;
                }
                double seconds = clock.Elapsed.TotalSeconds;
                var test = trainer.Evaluate(data.TestImages, data.TestLabels);
                var result = new EpochResult(epoch + 1, trainLoss, test.Loss, test.Accuracy, data.TrainLabels.Length / Math.Max(seconds, 1e-9), seconds);
                history.Add(result);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {result.Epoch,3}/{options.Epochs}  train loss {trainLoss:F4}  test loss {test.Loss:F4}  test accuracy {100 * test.Accuracy:F2}%  {result.ImagesPerSecond:N0} images/s  {seconds:F1} s"));
                Writing(checkpointPath, () => TrainingCheckpoint.Save(checkpointPath, network, optimizer, epoch + 1, MetadataFromHistory(history, options)));
            }

            string weightsPath = Path.Combine(options.Output, "lenet5.safetensors");
            Writing(weightsPath, () => NetworkWeights.Save(network, weightsPath));
            output.WriteLine($"Weights (PyTorch nn.Sequential keys): {weightsPath}");
            Writing(options.Output, () => Reports.WriteAll(network, data, history, options.Output, output, options.Plots));
            return 0;
        }

        /// <summary>A write that fails for the environment's reasons (full disk, no permission) names the file it was writing; the file itself is written atomically.</summary>
        private static void Writing(string path, Action write)
        {
            try
            {
                write();
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot write {path}: {problem.Message} (the previous version of each file, if any, is intact)");
            }
        }

        private static string? InputFilesKind(string path) => CnnGen.IO.InputFiles.DescribeIfNotRegular(path);

        /// <summary>
        /// The options this run shares with the checkpoint's: a difference is refused (naming each) unless
        /// <see cref="TrainOptions.OverrideSettings"/>, when it becomes a warning. Checkpoints that predate a setting skip it.
        /// </summary>
        private static List<string> CheckSettings(string path, IReadOnlyDictionary<string, string> metadata, TrainOptions options)
        {
            var differences = new List<string>();
            foreach (var (key, option, value) in options.Settings())
                if (metadata.TryGetValue(key, out var saved) && saved != value)
                    differences.Add($"{option} {value} (the checkpoint has {saved})");
            if (differences.Count == 0) return differences;
            string list = string.Join(", ", differences);
            if (!options.OverrideSettings)
                throw new UsageException($"--resume: {path} was trained with other settings: {list}. Pass the checkpoint's values, or --override-settings to continue with these.");
            return new List<string> { $"--override-settings: continuing {path} with {list}" };
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

        private static double RunEpochWithProgressBar(Trainer trainer, FashionMnistData data, TrainOptions options, CnnGen.Data.ImageAugmentation augmentation, int epoch, CancellationToken cancellation)
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
        public static double RunEpoch(Trainer trainer, FashionMnistData data, TrainOptions options, CnnGen.Data.ImageAugmentation augmentation, int epoch,
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
                    // Each image's transforms are drawn from (seed, epoch, image index): the same on a resumed run.
                    if (augmentation.Enabled) augmentation.Apply(source, target, epoch, index);
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
            var metadata = new Dictionary<string, string>();
            foreach (var (key, _, value) in options.Settings()) metadata[key] = value;
            foreach (var r in history)
                metadata["epoch." + r.Epoch.ToString(c)] = string.Join(",", r.TrainLoss.ToString("R", c), r.TestLoss.ToString("R", c), r.TestAccuracy.ToString("R", c), r.ImagesPerSecond.ToString("R", c), r.Seconds.ToString("R", c));
            return metadata;
        }

        /// <summary>
        /// The per-epoch history a checkpoint carries: entries epoch.1 to epoch.N for the N epochs it completed, each five
        /// finite numbers. Anything else is refused with the file, the key and the problem (before the checkpoint is applied).
        /// </summary>
        private static List<EpochResult> HistoryFromMetadata(string path, IReadOnlyDictionary<string, string> metadata)
        {
            var c = CultureInfo.InvariantCulture;
            int epochs = int.Parse(metadata["cnngen.epoch"], c); // validated by TrainingCheckpoint.Load before this runs
            var history = new List<EpochResult>();
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                string key = "epoch." + epoch.ToString(c);
                if (!metadata.TryGetValue(key, out var text))
                    throw new WeightFileException(path, key, $"missing: the checkpoint completed {epochs} epoch(s) but has no history for epoch {epoch}");
                var fields = text.Split(',');
                if (fields.Length != 5)
                    throw new WeightFileException(path, key, $"expected 5 comma-separated numbers (train loss, test loss, test accuracy, images/s, seconds), found {fields.Length} field(s)");
                var values = new double[5];
                for (int i = 0; i < 5; i++)
                    if (!double.TryParse(fields[i], NumberStyles.Float, c, out values[i]) || !double.IsFinite(values[i]) || values[i] < 0)
                        throw new WeightFileException(path, key, $"field {i + 1} '{(fields[i].Length > 30 ? fields[i][..30] + "..." : fields[i])}' is not a finite number of 0 or more");
                if (values[2] > 1) throw new WeightFileException(path, key, $"the test accuracy {values[2].ToString(c)} is above 1");
                history.Add(new EpochResult(epoch, values[0], values[1], values[2], values[3], values[4]));
            }
            if (metadata.ContainsKey("epoch." + (epochs + 1).ToString(c)))
                throw new WeightFileException(path, "epoch." + (epochs + 1).ToString(c), $"history beyond the {epochs} epoch(s) the checkpoint completed");
            return history;
        }
    }
}
