using System;
using System.Diagnostics;
using FashionMnist;

// Until training lands: build LeNet-5 with PyTorch's default initialization, print its layer table,
// and run a forward pass on a synthetic image.
var network = new LeNet5();
network.ResetParameters(seed: 42);
Console.WriteLine(LeNet5.LayerTable);

var image = new float[LeNet5.InputLength];
for (int y = 0; y < LeNet5.InputHeight; y++)
    for (int x = 0; x < LeNet5.InputWidth; x++)
        image[y * LeNet5.InputWidth + x] = MathF.Sin(x * 0.3f) * MathF.Cos(y * 0.2f);

var workspace = network.CreateWorkspace();
var logits = new float[LeNet5.OutputLength];
network.Forward(image, logits, workspace);
var clock = Stopwatch.StartNew();
const int runs = 200;
for (int i = 0; i < runs; i++) network.Forward(image, logits, workspace);
clock.Stop();

Console.WriteLine("Logits: " + string.Join(", ", Array.ConvertAll(logits, v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
Console.WriteLine($"Forward pass: {clock.Elapsed.TotalMicroseconds / runs:F1} µs per image (scalar code, one thread)");
