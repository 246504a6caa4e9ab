using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using CnnGen.Data;
using CnnGen.IO;
using Scenes;

// Scenes composed from Fashion-MNIST: segment them (U-Net) and detect their items (grid detector); export, predict.
var tasks = new Argument<string[]>("tasks") { Description = "What to train: segment, detect, or both (the default)", Arity = ArgumentArity.ZeroOrMore };
tasks.AcceptOnlyFromAmong("segment", "detect");
var segmentEpochs = new Option<int>("--segment-epochs") { Description = "Epochs of the U-Net", DefaultValueFactory = _ => Defaults.SegmentEpochs };
var detectEpochs = new Option<int>("--detect-epochs") { Description = "Epochs of the detector", DefaultValueFactory = _ => Defaults.DetectEpochs };
var batchSize = new Option<int>("--batch-size") { Description = "Scenes per optimizer step", DefaultValueFactory = _ => Defaults.BatchSize };
var segmentLr = new Option<float>("--segment-lr") { Description = "Adam learning rate of the U-Net (cosine schedule)", DefaultValueFactory = _ => Defaults.SegmentLearningRate };
var detectLr = new Option<float>("--detect-lr") { Description = "Adam learning rate of the detector (cosine schedule)", DefaultValueFactory = _ => Defaults.DetectLearningRate };
var perEpoch = new Option<int>("--scenes-per-epoch") { Description = "Training scenes per epoch, drawn afresh each epoch from the training scenes", DefaultValueFactory = _ => Defaults.ScenesPerEpoch };
var trainScenes = new Option<int>("--train-scenes") { Description = "Training scenes composed from the training images", DefaultValueFactory = _ => SceneData.DefaultTrainScenes };
var testScenes = new Option<int>("--test-scenes") { Description = "Test scenes composed from the test images", DefaultValueFactory = _ => SceneData.DefaultTestScenes };
var seed = new Option<ulong>("--seed") { Description = "Seed for the scenes, initialization and shuffling", DefaultValueFactory = _ => 1UL };
var threads = new Option<int>("--threads") { Description = "Training threads (0: all cores)", DefaultValueFactory = _ => 0 };
var output = new Option<string>("--output") { Description = "Folder for weights, checkpoints and pictures", DefaultValueFactory = _ => "scenes-run" };
var data = new Option<string?>("--data") { Description = "Folder with the four Fashion-MNIST .gz files (default: Debian's dataset-fashion-mnist, then the copy shipped with the main job)" };
var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoints in --output" };

var root = new RootCommand("Segment (U-Net) and detect (grid detector) Fashion-MNIST items in composed 64x64 scenes, with CnnGen")
{
    tasks, segmentEpochs, detectEpochs, batchSize, segmentLr, detectLr, perEpoch, trainScenes, testScenes, seed, threads, output, data, resume,
};
root.SetAction((result, cancellation) => Guarded(() =>
{
    var chosen = result.GetValue(tasks) ?? Array.Empty<string>();
    bool all = chosen.Length == 0;
    return SceneTraining.Run(new SceneOptions(all || chosen.Contains("segment"), all || chosen.Contains("detect"),
        result.GetValue(segmentEpochs), result.GetValue(detectEpochs), result.GetValue(batchSize), result.GetValue(segmentLr), result.GetValue(detectLr),
        result.GetValue(perEpoch), result.GetValue(trainScenes), result.GetValue(testScenes), result.GetValue(seed), result.GetValue(threads),
        result.GetValue(output)!, result.GetValue(data), result.GetValue(resume)), cancellation);
}));

var exportFile = new Argument<string>("file") { Description = "The safetensors file to write", DefaultValueFactory = _ => "scenes.safetensors" };
var export = new Command("export", "Write the composed scenes (images, masks, boxes, classes) to a safetensors file for other tools") { exportFile, trainScenes, testScenes, seed, data };
export.SetAction((result, cancellation) => Guarded(() =>
{
    var scenes = SceneData.Load(result.GetValue(data), result.GetValue(seed), result.GetValue(trainScenes), result.GetValue(testScenes));
    string file = result.GetValue(exportFile)!;
    SafeTensorsWriter.Write(file, scenes.Train.ToTensors("train_").Concat(scenes.Test.ToTensors("test_")), SceneSet.ExportMetadata(result.GetValue(seed), scenes.Folder));
    Console.WriteLine($"{file}: {scenes.Train.Count:N0} training and {scenes.Test.Count:N0} test scenes (train_/test_ images, masks, boxes, classes, sources)");
    return 0;
}));
root.Subcommands.Add(export);

var traceTasks = new Argument<string[]>("tasks") { Description = "Which networks: segment, detect, or both (the default)", Arity = ArgumentArity.ZeroOrMore };
traceTasks.AcceptOnlyFromAmong("segment", "detect");
var traceSteps = new Option<int>("--steps") { Description = "Training steps to record", DefaultValueFactory = _ => 300 };
var trace = new Command("trace", "Record the first training steps (initial weights, the scenes of each step, the losses, the weights after) for scenes_pytorch.py --replay")
{
    traceTasks, traceSteps, segmentEpochs, detectEpochs, batchSize, segmentLr, detectLr, perEpoch, trainScenes, testScenes, seed, threads, output, data,
};
trace.SetAction((result, cancellation) => Guarded(() =>
{
    var chosen = result.GetValue(traceTasks) ?? Array.Empty<string>();
    bool all = chosen.Length == 0;
    return SceneTrace.Run(new SceneOptions(all || chosen.Contains("segment"), all || chosen.Contains("detect"),
        result.GetValue(segmentEpochs), result.GetValue(detectEpochs), result.GetValue(batchSize), result.GetValue(segmentLr), result.GetValue(detectLr),
        result.GetValue(perEpoch), result.GetValue(trainScenes), result.GetValue(testScenes), result.GetValue(seed), result.GetValue(threads),
        result.GetValue(output)!, result.GetValue(data), Resume: false), result.GetValue(traceSteps));
}));
root.Subcommands.Add(trace);

var weights = new Option<string>("--weights") { Description = "unet.safetensors (segment) or detector.safetensors (detect) from a run", Required = true };
var image = new Argument<string>("image") { Description = "A PNG or JPEG scene: light items on a dark background, resized to 64x64" };
var predictOutput = new Option<string?>("--output") { Description = "The PNG to write (default: beside the image, .mask.png or .boxes.png)" };
var predict = new Command("predict", "Segment an image (U-Net weights: a mask PNG) or find its items (detector weights: boxes)") { weights, image, predictOutput };
predict.SetAction((result, cancellation) => Guarded(() => Predict.Run(result.GetValue(weights)!, result.GetValue(image)!, result.GetValue(predictOutput))));
root.Subcommands.Add(predict);

return await root.Parse(args).InvokeAsync();

// Bad input ends with a message naming the file and the problem, and exit code 2.
static System.Threading.Tasks.Task<int> Guarded(Func<int> command)
{
    try
    {
        return System.Threading.Tasks.Task.FromResult(command());
    }
    catch (Exception error) when (error is DataFileException or WeightFileException or FileNotFoundException or ArgumentException)
    {
        Console.Error.WriteLine("error: " + error.Message);
        return System.Threading.Tasks.Task.FromResult(2);
    }
    catch (CnnGen.Training.TrainingDivergedException error)
    {
        Console.Error.WriteLine("error: " + error.Message + " The last epoch's checkpoint is intact; --resume with a lower learning rate.");
        return System.Threading.Tasks.Task.FromResult(3);
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("Interrupted; the last completed epoch's checkpoints are kept (use --resume).");
        return System.Threading.Tasks.Task.FromResult(130);
    }
}

namespace Scenes
{
    /// <summary>The recipe (the PyTorch script uses the same numbers).</summary>
    public static class Defaults
    {
        public const int SegmentEpochs = 6, DetectEpochs = 8, BatchSize = 16, ScenesPerEpoch = 12_000;
        public const float SegmentLearningRate = 0.003f, DetectLearningRate = 0.002f;
    }
}
