using System;
using System.CommandLine;
using System.IO;
using CnnGen.Data;
using CnnGen.IO;
using FashionMnist;

// The main job: train LeNet-5 on Fashion-MNIST (the default command), evaluate saved weights, classify an image.
var epochs = new Option<int>("--epochs") { Description = "Passes over the 60,000 training images", DefaultValueFactory = _ => 20 };
var batchSize = new Option<int>("--batch-size") { Description = "Images per optimizer step", DefaultValueFactory = _ => 64 };
var learningRate = new Option<float>("--lr") { Description = "Learning rate (the schedule's starting value)", DefaultValueFactory = _ => 0.05f };
var optimizer = new Option<string>("--optimizer") { Description = "sgd, nesterov, adam or adamw", DefaultValueFactory = _ => "sgd" };
optimizer.AcceptOnlyFromAmong("sgd", "nesterov", "adam", "adamw");
var momentum = new Option<float>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0.9f };
var weightDecay = new Option<float>("--weight-decay") { Description = "L2 penalty (decoupled for adamw)", DefaultValueFactory = _ => 5e-4f };
var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine, step or none", DefaultValueFactory = _ => "cosine" };
schedule.AcceptOnlyFromAmong("cosine", "step", "none");
var seed = new Option<ulong>("--seed") { Description = "Seed for initialization, shuffling and augmentation", DefaultValueFactory = _ => 1UL };
var threads = new Option<int>("--threads") { Description = "Training threads (0: all cores)", DefaultValueFactory = _ => 0 };
var output = new Option<string>("--output") { Description = "Folder for weights, checkpoints and plots", DefaultValueFactory = _ => "fashion-mnist-run" };
var data = new Option<string?>("--data") { Description = "Folder with the four Fashion-MNIST .gz files (default: Debian's dataset-fashion-mnist, then the copy shipped with the sample)" };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --output" };
var augment = new Option<string>("--augment") { Description = "Data augmentation: none, shift, flip or shift+flip", DefaultValueFactory = _ => "none" };
augment.AcceptOnlyFromAmong("none", "shift", "flip", "shift+flip");
var limit = new Option<int?>("--limit") { Description = "Use only the first N training and test images (quick runs)" };

var root = new RootCommand("Train LeNet-5 on Fashion-MNIST with CnnGen")
{
    epochs, batchSize, learningRate, optimizer, momentum, weightDecay, schedule, seed, threads, output, data, resume, augment, limit,
};
root.SetAction((result, cancellation) => Guarded(() => TrainCommand.Run(new TrainOptions(
    result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(learningRate), result.GetValue(optimizer)!, result.GetValue(momentum),
    result.GetValue(weightDecay), result.GetValue(schedule)!, result.GetValue(seed), result.GetValue(threads), result.GetValue(output)!,
    result.GetValue(data), result.GetValue(resume), result.GetValue(augment)!.Contains("shift"), result.GetValue(augment)!.Contains("flip"),
    result.GetValue(limit)), cancellation)));

var weights = new Option<string>("--weights") { Description = "A safetensors file with LeNet-5 weights (PyTorch nn.Sequential keys)", Required = true };
var evaluate = new Command("evaluate", "Report test accuracy and the confusion matrix of saved weights") { weights, data, limit };
evaluate.SetAction((result, cancellation) => Guarded(() => EvaluateCommand.Run(result.GetValue(weights)!, result.GetValue(data), result.GetValue(limit))));
root.Subcommands.Add(evaluate);

var image = new Argument<string>("image") { Description = "A PNG or JPEG image of a clothing item" };
var predict = new Command("predict", "Classify an image: the top three classes with probabilities") { weights, image };
predict.SetAction((result, cancellation) => Guarded(() => PredictCommand.Run(result.GetValue(weights)!, result.GetValue(image)!)));
root.Subcommands.Add(predict);

var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (opset 17, dynamic batch axis, input 'input', output 'output')", Required = true };
var export = new Command("export", "Write saved weights as an ONNX model, for ONNX Runtime and what runs ONNX") { weights, onnx };
export.SetAction((result, cancellation) => Guarded(() => ExportCommand.Run(result.GetValue(weights)!, result.GetValue(onnx)!)));
root.Subcommands.Add(export);

return await root.Parse(args).InvokeAsync();

// Bad input ends with a message naming the file and the problem, and exit code 2.
static System.Threading.Tasks.Task<int> Guarded(Func<int> command)
{
    try
    {
        return System.Threading.Tasks.Task.FromResult(command());
    }
    catch (Exception error) when (error is DataFileException or WeightFileException or FileNotFoundException or ArgumentException or CnnGen.Onnx.OnnxExportException)
    {
        Console.Error.WriteLine("error: " + error.Message);
        return System.Threading.Tasks.Task.FromResult(2);
    }
    catch (CnnGen.Training.TrainingDivergedException error)
    {
        Console.Error.WriteLine("error: " + error.Message + " The last epoch's checkpoint is intact; --resume with a lower --lr.");
        return System.Threading.Tasks.Task.FromResult(3);
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("Interrupted; the last completed epoch's checkpoint is kept (use --resume).");
        return System.Threading.Tasks.Task.FromResult(130);
    }
}
