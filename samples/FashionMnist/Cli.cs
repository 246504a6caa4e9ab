using System;
using System.CommandLine;
using System.IO;
using System.Threading;
using CnnGen.Training;

namespace FashionMnist
{
    /// <summary>A mistake in the command line or the environment, reported as one line and exit code 2.</summary>
    public sealed class UsageException : Exception
    {
        public UsageException(string message) : base(message) { }
    }

    /// <summary>
    /// The command line, callable in-process (the tests and the fuzz test run it so). Exit codes: 0 done, 2 a user's or
    /// the environment's error (bad option, bad or missing file, unwritable folder, full disk: one line on stderr naming
    /// the option or file), 3 training diverged, 130 interrupted. Anything else escaping is a bug.
    /// </summary>
    public static class Cli
    {
        public const int Success = 0, UsageError = 2, Diverged = 3, Interrupted = 130;

        public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation)
        {
            var epochs = new Option<int>("--epochs") { Description = $"Passes over the training images (1 to {TrainOptions.MaxEpochs:N0})", DefaultValueFactory = _ => 20 };
            var batchSize = new Option<int>("--batch-size") { Description = $"Images per optimizer step (1 to {TrainOptions.MaxBatchSize:N0})", DefaultValueFactory = _ => 64 };
            var learningRate = new Option<float>("--lr") { Description = "Learning rate (the schedule's starting value; finite, above 0)", DefaultValueFactory = _ => 0.05f };
            var optimizer = new Option<string>("--optimizer") { Description = "sgd, nesterov, adam or adamw", DefaultValueFactory = _ => "sgd" };
            optimizer.AcceptOnlyFromAmong("sgd", "nesterov", "adam", "adamw");
            var momentum = new Option<float>("--momentum") { Description = "SGD momentum (0 to 1)", DefaultValueFactory = _ => 0.9f };
            var weightDecay = new Option<float>("--weight-decay") { Description = "L2 penalty (decoupled for adamw; 0 or more)", DefaultValueFactory = _ => 5e-4f };
            var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine, step or none", DefaultValueFactory = _ => "cosine" };
            schedule.AcceptOnlyFromAmong("cosine", "step", "none");
            var seed = new Option<ulong>("--seed") { Description = "Seed for initialization, shuffling and augmentation", DefaultValueFactory = _ => 1UL };
            var threads = new Option<int>("--threads") { Description = $"Training threads (0: all cores; at most {TrainOptions.MaxThreads})", DefaultValueFactory = _ => 0 };
            var outputFolder = new Option<string>("--output") { Description = "Folder for weights, checkpoints and plots", DefaultValueFactory = _ => "fashion-mnist-run" };
            var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST .gz files (default: Debian's dataset-fashion-mnist, then the copy shipped with the sample)" };
            var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --output (its settings must match, see --override-settings)" };
            var overrideSettings = new Option<bool>("--override-settings") { Description = "With --resume: continue even if the options differ from the checkpoint's" };
            var augment = new Option<string>("--augment") { Description = "Data augmentation: " + AugmentationChoices.Help, DefaultValueFactory = _ => "none" };
            var limit = new Option<int?>("--limit") { Description = "Use only the first N training and test images (quick runs; 1 or more)" };
            var noPlots = new Option<bool>("--no-plots") { Description = "Skip training.png, confusion.png and misclassified.png" };
            var initWeights = new Option<string?>("--init-weights") { Description = "Start from these weights (safetensors); tensors whose shape differs (another head) stay at their initialization, and a report says what was loaded" };
            var freeze = new Option<string?>("--freeze") { Description = "Layers to keep frozen, by index (e.g. 0,3: the two convolutions); no step, weight decay or momentum touches them" };

            var root = new RootCommand("Train LeNet-5 on Fashion-MNIST with CnnGen")
            {
                epochs, batchSize, learningRate, optimizer, momentum, weightDecay, schedule, seed, threads, outputFolder, data, resume, overrideSettings, augment, limit, noPlots,
                initWeights, freeze,
            };
            root.SetAction(result => Guarded(error, () => TrainCommand.Run(new TrainOptions(
                result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(learningRate), result.GetValue(optimizer)!, result.GetValue(momentum),
                result.GetValue(weightDecay), result.GetValue(schedule)!, result.GetValue(seed), result.GetValue(threads), result.GetValue(outputFolder)!,
                result.GetValue(data), result.GetValue(resume), result.GetValue(augment)!.Contains("shift"), result.GetValue(augment)!.Contains("flip"),
                result.GetValue(limit), result.GetValue(overrideSettings), Plots: !result.GetValue(noPlots),
                InitWeights: result.GetValue(initWeights), Augment: result.GetValue(augment),
                Freeze: result.GetValue(freeze) is string layers ? TrainOptions.ParseLayerList("--freeze", layers) : null), cancellation, output, error)));

            var weights = new Option<string>("--weights") { Description = "A safetensors file with LeNet-5 weights (PyTorch nn.Sequential keys)", Required = true };
            var evaluate = new Command("evaluate", "Report test accuracy and the confusion matrix of saved weights (reads the test set only)") { weights, data, limit };
            evaluate.SetAction(result => Guarded(error, () => EvaluateCommand.Run(result.GetValue(weights)!, result.GetValue(data), result.GetValue(limit), output)));
            root.Subcommands.Add(evaluate);

            var image = new Argument<string>("image") { Description = $"A PNG or JPEG image of a clothing item (at most {CnnGen.Data.ImagePreprocessing.MaxPixels:N0} pixels)" };
            var predict = new Command("predict", "Classify an image: the top three classes with probabilities") { weights, image };
            predict.SetAction(result => Guarded(error, () => PredictCommand.Run(result.GetValue(weights)!, result.GetValue(image)!, output)));
            root.Subcommands.Add(predict);

            var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (opset 17, dynamic batch axis, input 'input', output 'output')", Required = true };
            var export = new Command("export", "Write saved weights as an ONNX model, for ONNX Runtime and what runs ONNX") { weights, onnx };
            export.SetAction(result => Guarded(error, () => ExportCommand.Run(result.GetValue(weights)!, result.GetValue(onnx)!, output)));
            root.Subcommands.Add(export);

            var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Epochs of pre-training on classes 0-4", DefaultValueFactory = _ => 3 };
            var fineTuneEpochs = new Option<int>("--epochs") { Description = "Epochs over the few images of classes 5-9", DefaultValueFactory = _ => 40 };
            var shots = new Option<int>("--shots") { Description = "Training images per class of 5-9", DefaultValueFactory = _ => 50 };
            var repeats = new Option<int>("--repeats") { Description = "Draws of the few images (the table gives mean, min, max)", DefaultValueFactory = _ => 3 };
            var transferOutput = new Option<string>("--output") { Description = "Folder for the pre-trained weights", DefaultValueFactory = _ => "fashion-transfer" };
            var transfer = new Command("transfer", "The transfer-learning experiment: pre-train on classes 0-4, learn 5-9 from a few images with frozen convolutions, full fine-tuning and from scratch")
            {
                pretrainEpochs, fineTuneEpochs, shots, repeats, seed, threads, transferOutput, data,
            };
            transfer.SetAction(result => Guarded(error, () => TransferCommand.Run(new TransferOptions(
                result.GetValue(pretrainEpochs), result.GetValue(fineTuneEpochs), result.GetValue(shots), result.GetValue(repeats), result.GetValue(seed),
                result.GetValue(threads), result.GetValue(transferOutput)!, result.GetValue(data)), cancellation, output)));
            root.Subcommands.Add(transfer);

            var explainImage = new Argument<string?>("image") { Description = "A PNG or JPEG image (or --index for a test image)", Arity = ArgumentArity.ZeroOrOne };
            var index = new Option<int?>("--index") { Description = "A test image by index (0 to 9,999) instead of an image file" };
            var explainLayers = new Option<string?>("--layers") { Description = "Layers whose feature maps to draw (default 0,1,2,3,4,5)" };
            var explainOutput = new Option<string>("--output") { Description = "Folder for input.png, filters.png, layerN-*.png, gradcam.png and saliency.png", DefaultValueFactory = _ => "explain" };
            var explainClass = new Option<int?>("--class") { Description = "The class Grad-CAM and saliency explain (0 to 9; default the predicted one)" };
            var gradCamLayer = new Option<int?>("--gradcam-layer") { Description = "The layer Grad-CAM weighs (a feature map, 0 to 5; default the last convolution)" };
            var explain = new Command("explain", "Draw the first layer's filters, the feature maps of chosen layers, and Grad-CAM and saliency overlays for an image")
            {
                weights, explainImage, index, explainLayers, explainClass, gradCamLayer, explainOutput, data,
            };
            explain.SetAction(result => Guarded(error, () => ExplainCommand.Run(result.GetValue(weights)!, result.GetValue(explainImage), result.GetValue(index),
                result.GetValue(explainLayers), result.GetValue(explainOutput)!, result.GetValue(data), output, result.GetValue(explainClass), result.GetValue(gradCamLayer))));
            root.Subcommands.Add(explain);

            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var problem in parsed.Errors) error.WriteLine("error: " + Culprit(problem) + OneLine(problem.Message));
                error.WriteLine("(--help lists the commands and options)");
                return UsageError;
            }
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Program handles Ctrl+C: training stops at a step boundary
            });
        }

        /// <summary>
        /// Runs a command: a user's or the environment's error becomes one line on stderr and exit code 2 (no stack trace);
        /// divergence 3; an interruption 130. Anything else is a bug and propagates.
        /// </summary>
        private static int Guarded(TextWriter error, Func<int> command)
        {
            try
            {
                return command();
            }
            catch (TrainingDivergedException diverged)
            {
                error.WriteLine("error: " + diverged.Message + " The last epoch's checkpoint is intact; --resume with a lower --lr (and --override-settings).");
                return Diverged;
            }
            catch (OperationCanceledException)
            {
                error.WriteLine("Interrupted.");
                return Interrupted;
            }
            catch (Exception problem) when (IsUserOrEnvironmentError(problem))
            {
                error.WriteLine("error: " + OneLine(problem.Message));
                return UsageError;
            }
        }

        /// <summary>Errors that come from what the user asked or from the machine (files, folders, disk), not from a bug.</summary>
        public static bool IsUserOrEnvironmentError(Exception problem) =>
            problem is UsageException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException
                or System.Security.SecurityException or OutOfMemoryException;

        /// <summary>"--option: " when the parser's message may not name the option it is about.</summary>
        private static string Culprit(System.CommandLine.Parsing.ParseError problem)
        {
            for (var symbol = problem.SymbolResult; symbol is not null; symbol = symbol.Parent)
            {
                if (symbol is System.CommandLine.Parsing.OptionResult option)
                    return problem.Message.Contains(option.Option.Name, StringComparison.Ordinal) ? "" : option.Option.Name + ": ";
                if (symbol is System.CommandLine.Parsing.CommandResult) break;
            }
            return "";
        }

        private static string OneLine(string text) => text.ReplaceLineEndings(" ").Replace("\t", " ", StringComparison.Ordinal).Replace(":  ", ": ", StringComparison.Ordinal);
    }
}
