using CnnGen;

namespace CnnGen.Benchmarks.Zoo
{
    // Networks of shapes the benchmark table does not have (`-- zoo`: CnnGen against ONNX Runtime at batch 1 on each), to
    // find the layer kinds and shapes where CnnGen is not ahead before a user does.

    /// <summary>VGG-style: 3x3 convolutions with batch-norm, 64 to 256 channels, 32x32 down to 4x4.</summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [MaxPool(2)]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class VggNet { }

    /// <summary>Issue 14's first network: VGG-style, five 3x3 convolutions with batch-norm, 32-64-128 channels, Linear on the 4x4 map.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(10)]
    public partial class Vgg5Net { }

    /// <summary>VGG-11 for CIFAR: 64 to 512 channels down to 2x2, 9.2 M parameters (37 MB: more than the L3 holds).</summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(10)]
    public partial class Vgg11Net { }

    /// <summary>
    /// ResNet-18 for CIFAR (3x32x32; a 3x3 stem, no max pooling): four stages of two basic blocks, 64-128-256-512 channels on
    /// 32x32 down to 4x4, stride-2 downsampling blocks with 1x1 shortcuts, batch-norm, global average pooling, Linear(10).
    /// 11.2 M parameters (45 MB).
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(256, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(512, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNet18CifarNet { }

    /// <summary>ResNet-18's stem and first stage at 3x64x64: a 7x7 stride-2 convolution, 3x3 stride-2 max pooling, two basic blocks of 64.</summary>
    [Network(3, 64, 64)]
    [Conv2d(64, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
    [MaxPool(3, Stride = 2, Padding = 1)]
    [Residual]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End]
    [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNetStemNet { }

    /// <summary>5x5 convolutions with bias and no batch-norm (the classic CIFAR CNN, wider).</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    [Conv2d(64, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    [Conv2d(128, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(256)] [ReLU] [Linear(10)]
    public partial class Wide5x5Net { }

    /// <summary>A small MNIST CNN: few channels, 3x3, no padding (valid convolutions), dropout, two Linear layers.</summary>
    [Network(1, 28, 28)]
    [Conv2d(8, 3)] [ReLU]
    [Conv2d(16, 3)] [ReLU] [MaxPool(2)]
    [Conv2d(32, 3)] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(64)] [ReLU] [Dropout(0.25)] [Linear(10)]
    public partial class SmallMnistNet { }

    /// <summary>An encoder-decoder: stride-2 convolutions down, transposed convolutions and upsampling back, a skip concatenation.</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Padding = 1)] [ReLU]
    [Concat]
        [Branch]
        [Branch]
            [Conv2d(32, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
            [Conv2d(64, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
            [ConvTranspose2d(32, 2, Stride = 2)] [ReLU]
            [Upsample(2)]
    [End]
    [Conv2d(16, 3, Padding = 1)] [ReLU]
    [Conv2d(4, 1)]
    [GlobalAvgPool] [Flatten]
    public partial class EncoderDecoderNet { }
}

namespace CnnGen.Benchmarks.Zoo.Probes
{
    // Single layers of the zoo's networks (`-- zoo probes`), to see which one loses.
    [Network(3, 64, 64)] [Conv2d(64, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
    public partial class Stem7x7 { }

    [Network(64, 32, 32)] [MaxPool(3, Stride = 2, Padding = 1)]
    public partial class MaxPool3s2 { }

    [Network(64, 16, 16)] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv3x3At16 { }

    [Network(64, 16, 16)] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv3x3s2At16 { }

    [Network(64, 16, 16)] [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Conv1x1s2At16 { }

    [Network(3, 32, 32)] [Conv2d(32, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    public partial class Conv5x5Stem { }

    [Network(32, 16, 16)] [Conv2d(64, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    public partial class Conv5x5At16 { }

    [Network(64, 8, 8)] [Conv2d(128, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    public partial class Conv5x5At8 { }

    [Network(64, 8, 8)] [ConvTranspose2d(32, 2, Stride = 2)] [ReLU]
    public partial class Transposed2x2 { }

    [Network(32, 16, 16)] [Upsample(2)]
    public partial class Upsample2 { }

    // VGG-11's wide layers: 256 and 512 channels on 8x8, 4x4 and 2x2 maps.
    [Network(128, 8, 8)] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv256At8 { }

    [Network(256, 8, 8)] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    public partial class Conv256At8Pooled { }

    [Network(256, 4, 4)] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv512At4 { }

    [Network(512, 4, 4)] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
    public partial class Conv512At4Pooled { }

    [Network(512, 2, 2)] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Conv512At2 { }

    [Network(3, 32, 32)] [Conv2d(16, 3, Padding = 1)] [ReLU]
    public partial class Conv3x3Stem16 { }

    [Network(16, 32, 32)] [Conv2d(32, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    public partial class Conv3x3s2At32 { }

    // The benchmark's strided network one layer at a time (session 11): its stem, its middle layer, its last with the pooling.
    [Network(3, 64, 64)] [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class StridedStem { }

    [Network(32, 32, 32)] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class StridedMiddle { }

    [Network(64, 16, 16)] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [GlobalAvgPool]
    public partial class StridedLast { }
}
