using CnnGen;

namespace CnnGen.Benchmarks
{
    // LeNet-5, ResNet-8 and the MobileNetV2-style network are the test fixtures' declarations
    // (tests/CnnGen.Tests/FixtureNetworks.cs, linked into this project), so the two cannot drift apart.
    /// <summary>A CIFAR-sized network: 3x3 convolutions with padding 1, batch-norm, 32 to 64 channels (export_onnx.py's cifar()).</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)]
    [BatchNorm]
    [ReLU]
    [Conv2d(32, 3, Padding = 1)]
    [BatchNorm]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1)]
    [BatchNorm]
    [ReLU]
    [Conv2d(64, 3, Padding = 1)]
    [BatchNorm]
    [ReLU]
    [MaxPool(2)]
    [Flatten]
    [Linear(10)]
    public partial class CifarNet { }

    /// <summary>Three stride-2 3x3 convolutions with batch-norm on 3x64x64, 3 -> 32 -> 64 -> 128 (export_onnx.py's strided()).</summary>
    [Network(3, 64, 64)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(10)]
    public partial class StridedNet { }
}
