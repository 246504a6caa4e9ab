using CnnGen;

namespace CnnGen.Benchmarks
{
    /// <summary>LeNet-5 as in the fixtures and benchmarks/export_onnx.py.</summary>
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
}
