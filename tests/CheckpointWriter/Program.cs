using System;
using CnnGen;
using CnnGen.Training;

// Usage: CheckpointWriter PATH. Writes checkpoint after checkpoint to PATH, version k holding every weight equal to k
// and the optimizer at step k, until killed; says "ready" once the first is on disk. The crash-safety test kills it at random moments and checks what is left.
string path = args[0];
var network = new CheckpointWriter.Net();
var optimizer = new Sgd(CheckpointWriter.Net.ParameterCount, 0.1f, momentum: 0.9f);
for (int version = 1; ; version++)
{
    if (version == 2) Console.WriteLine("ready"); // a first checkpoint exists from here on
    network.Parameters.Fill(version);
    foreach (var (_, state) in optimizer.State) state.AsSpan().Fill(version);
    optimizer.RestoreState(version, new System.Collections.Generic.Dictionary<string, float[]> { ["momentum_buffer"] = optimizer.State[0].Value });
    TrainingCheckpoint.Save(path, network, optimizer, epoch: version);
}

namespace CheckpointWriter
{
    // Large enough (about 1 MB) that a write takes a while and a kill lands mid-write.
    [Network(8, 32, 32)]
    [Conv2d(16, 3, Padding = 1)]
    [ReLU]
    [Flatten]
    [Linear(16)]
    public partial class Net { }
}
