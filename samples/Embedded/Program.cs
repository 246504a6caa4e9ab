using System;
using System.Diagnostics;
using System.IO;
using CnnGen;
using CnnGen.IO;
using StbImageSharp;

// Classifies clothing images with the LeNet-5 trained by samples/FashionMnist (91.06% on the Fashion-MNIST test set).
//   Embedded IMAGE...      top three classes for each PNG or JPEG
//   Embedded --latency     per-image latency on one thread
string[] classes = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

var network = new LeNet5();
using (var resource = typeof(LeNet5).Assembly.GetManifestResourceStream("lenet5.safetensors")!)
using (var memory = new MemoryStream())
{
    resource.CopyTo(memory);
    NetworkWeights.Load(network, memory.ToArray(), "embedded lenet5.safetensors");
}
var workspace = network.CreateWorkspace();
var logits = new float[LeNet5.OutputLength];

if (args.Length == 1 && args[0] == "--latency")
{
    var image = new float[LeNet5.InputLength];
    for (int i = 0; i < image.Length; i++) image[i] = (i % 28) / 28f;
    for (int i = 0; i < 2000; i++) network.Forward(image, logits, workspace);
    // The best of 40 rounds of 500 images: on a machine shared with other work the best round is the steadiest
    // figure (a mean counts every time the thread was descheduled); the mean is printed beside it.
    const int rounds = 40, runs = 500;
    double best = double.MaxValue, total = 0;
    var clock = new Stopwatch();
    for (int round = 0; round < rounds; round++)
    {
        clock.Restart();
        for (int i = 0; i < runs; i++) network.Forward(image, logits, workspace);
        double perImage = clock.Elapsed.TotalMicroseconds / runs;
        best = Math.Min(best, perImage);
        total += perImage;
    }
    Console.WriteLine($"{best:F1} µs per image (best of {rounds} rounds of {runs}; mean {total / rounds:F1} µs; batch 1, one thread; kernels on {KernelWidth()})");
    return 0;
}
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Embedded IMAGE... | --latency");
    return 2;
}

foreach (var path in args)
{
    float[] pixels;
    try
    {
        pixels = Load(path);
    }
    catch (Exception error) when (error is IOException or InvalidOperationException or ArgumentException)
    {
        Console.Error.WriteLine($"{path}: not a readable PNG or JPEG image ({error.Message})");
        return 2;
    }
    network.Forward(pixels, logits, workspace);
    var order = new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    Array.Sort(order, (a, b) => logits[b].CompareTo(logits[a]));
    float max = logits[order[0]];
    double sum = 0;
    foreach (var v in logits) sum += Math.Exp(v - max);
    Console.Write(path + ":");
    for (int k = 0; k < 3; k++) Console.Write($"  {classes[order[k]]} {100 * Math.Exp(logits[order[k]] - max) / sum:F1}%");
    Console.WriteLine();
}
return 0;

static string KernelWidth() =>
    !CnnGen.Kernels.Simd.Enabled ? "scalar code" : System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256";

// Grayscale, area-averaged to 28x28, inverted when the background is light (Fashion-MNIST shows light items on black).
static float[] Load(string path)
{
    using var stream = File.OpenRead(path);
    var image = ImageResult.FromStream(stream, ColorComponents.Grey);
    return CnnGen.Data.ImagePreprocessing.ToSquareInput(image.Data, image.Width, image.Height);
}

/// <summary>LeNet-5, as trained by samples/FashionMnist.</summary>
[Network(1, 28, 28)]
[Conv2d(6, 5, Padding = 2)]
[ReLU]
[MaxPool(2)]
[Conv2d(16, 5)]
[ReLU]
[MaxPool(2)]
[Flatten]
[Linear(120)]
[ReLU]
[Linear(84)]
[ReLU]
[Linear(10)]
public partial class LeNet5 { }
