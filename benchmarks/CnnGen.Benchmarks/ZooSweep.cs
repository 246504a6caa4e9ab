using CnnGen;

namespace CnnGen.Benchmarks.Zoo.Sweep
{
    // `-- zoo sweep`: more shapes the benchmark table has not, each a common design of its own (a scan for cliffs: the
    // targets are checked on networks we have not seen). Each runs at batch 1 and at batch 64 against ONNX Runtime.

    /// <summary>MobileNetV1-style: depthwise-separable blocks (3x3 depthwise + 1x1), batch-norm and ReLU, 32 to 256 channels.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(256, 3, Padding = 1, Groups = 256, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MobileNetV1Net { }

    /// <summary>A larger image with few channels: 3x96x96, 16 to 128 channels, max pooling between.</summary>
    [Network(3, 96, 96)]
    [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class Image96Net { }

    /// <summary>Channel counts that are no multiple of 16 (24, 48, 96) on a 28x28 map, leaky ReLU, average pooling.</summary>
    [Network(3, 28, 28)]
    [Conv2d(24, 3, Padding = 1)] [LeakyReLU] [AvgPool(2)]
    [Conv2d(48, 3, Padding = 1)] [LeakyReLU] [AvgPool(2)]
    [Conv2d(96, 3, Padding = 1)] [LeakyReLU]
    [Flatten] [Linear(10)]
    public partial class OddChannelsNet { }

    /// <summary>A dilated (atrous) network: 3x3 convolutions with dilation 2 and 4 at full resolution, SiLU.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [SiLU]
    [Conv2d(32, 3, Padding = 2, Dilation = 2)] [SiLU]
    [Conv2d(64, 3, Padding = 4, Dilation = 4)] [SiLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class DilatedNet { }

    /// <summary>SqueezeNet-style fire modules: a 1x1 squeeze, then 1x1 and 3x3 expands side by side, concatenated.</summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(16, 1)] [ReLU]
    [Concat]
        [Branch] [Conv2d(64, 1)] [ReLU]
        [Branch] [Conv2d(64, 3, Padding = 1)] [ReLU]
    [End]
    [MaxPool(2)]
    [Conv2d(32, 1)] [ReLU]
    [Concat]
        [Branch] [Conv2d(128, 1)] [ReLU]
        [Branch] [Conv2d(128, 3, Padding = 1)] [ReLU]
    [End]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class FireNet { }

    /// <summary>A multilayer perceptron on MNIST-sized input: Flatten, 512 and 256 hidden units, GELU.</summary>
    [Network(1, 28, 28)]
    [Flatten] [Linear(512)] [GELU] [Linear(256)] [GELU] [Linear(10)]
    public partial class MlpNet { }

    /// <summary>Grayscale 1x64x64 with 5x5 and 7x7 kernels, stride 2, batch-norm, tanh.</summary>
    [Network(1, 64, 64)]
    [Conv2d(16, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [Tanh]
    [Conv2d(32, 5, Stride = 2, Padding = 2, Bias = false)] [BatchNorm] [Tanh]
    [Conv2d(64, 5, Padding = 2, Bias = false)] [BatchNorm] [Tanh] [MaxPool(2)]
    [Flatten] [Linear(10)]
    public partial class GrayWideKernelNet { }
}

namespace CnnGen.Benchmarks.Zoo.Sweep.Probes
{
    // The sweep's layers one at a time (`-- zoo sweep probe`).
    [Network(1, 64, 64)] [Conv2d(16, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [Tanh]
    public partial class Gray7x7s2 { }

    [Network(1, 64, 64)] [Conv2d(16, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
    public partial class Gray7x7s2Relu { }

    [Network(16, 32, 32)] [Conv2d(32, 5, Stride = 2, Padding = 2, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv5x5s2 { }

    [Network(32, 16, 16)] [Conv2d(64, 5, Padding = 2, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    public partial class Conv5x5At16Pooled { }

    [Network(32, 32, 32)] [Conv2d(32, 3, Padding = 2, Dilation = 2)] [ReLU]
    public partial class Dilated2 { }

    [Network(32, 32, 32)] [Conv2d(64, 3, Padding = 4, Dilation = 4)] [ReLU]
    public partial class Dilated4 { }

    [Network(32, 32, 32)] [Conv2d(32, 3, Padding = 1)] [SiLU]
    public partial class Conv3x3Silu { }

    [Network(32, 32, 32)] [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU]
    public partial class Depthwise32At32 { }

    [Network(32, 32, 32)] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Pointwise32To64At32 { }

    [Network(64, 32, 32)] [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU]
    public partial class Depthwise64s2At32 { }

    [Network(128, 16, 16)] [Conv2d(128, 3, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU]
    public partial class Depthwise128At16 { }

    [Network(128, 16, 16)] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Pointwise128At16 { }

    [Network(128, 8, 8)] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Pointwise128To256At8 { }

    [Network(256, 8, 8)] [Conv2d(256, 3, Padding = 1, Groups = 256, Bias = false)] [BatchNorm] [ReLU]
    public partial class Depthwise256At8 { }

    [Network(1, 28, 28)] [Flatten] [Linear(512)] [GELU]
    public partial class Linear784To512Gelu { }

    [Network(1, 28, 28)] [Flatten] [Linear(512)] [ReLU]
    public partial class Linear784To512Relu { }
}
