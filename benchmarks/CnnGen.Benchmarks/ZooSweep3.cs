using CnnGen;
using System;

namespace CnnGen.Benchmarks.Zoo.Sweep3
{
    // `-- zoo sweep3`: the classic CIFAR designs as their papers and torchvision lay them out (issue 14's targets are checked
    // on networks we have not seen; these are the likeliest ones). Each runs at batch 1 and at batch 64 against ONNX Runtime.

    /// <summary>ResNet-20 (He et al. 2016, CIFAR): 16-32-64 channels, three stages of three basic blocks, 1x1 stride-2 shortcuts.</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(32, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(64, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNet20Net { }

    /// <summary>MobileNetV2 at torchvision's widths for CIFAR (stride 1 stem, 16-24-32-64-96 channels, expansion 6, ReLU6), shortened to one or two blocks a stage.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(16, 1, Bias = false)] [BatchNorm]
    [Conv2d(96, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 3, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(144, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(144, 3, Padding = 1, Groups = 144, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(24, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(144, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(144, 3, Stride = 2, Padding = 1, Groups = 144, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(32, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(192, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(192, 3, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(32, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(192, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(192, 3, Stride = 2, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 1, Bias = false)] [BatchNorm]
    [Conv2d(320, 1, Bias = false)] [BatchNorm] [ReLU6]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MobileNetV2CifarNet { }

    /// <summary>All-convolutional net (Springenberg et al. 2015, model C): 96 and 192 channels, stride-2 3x3 convolutions instead of pooling, 1x1 head, global average.</summary>
    [Network(3, 32, 32)]
    [Conv2d(96, 3, Padding = 1)] [ReLU] [Conv2d(96, 3, Padding = 1)] [ReLU] [Conv2d(96, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(192, 3, Padding = 1)] [ReLU] [Conv2d(192, 3, Padding = 1)] [ReLU] [Conv2d(192, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(192, 3)] [ReLU] [Conv2d(192, 1)] [ReLU] [Conv2d(10, 1)] [ReLU]
    [GlobalAvgPool] [Flatten]
    public partial class AllConvNet { }

    /// <summary>VGG-13 with batch-norm for CIFAR, halved widths (32-256): pairs of 3x3 convolutions, 2x2 max pooling, a 256-unit head.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(256)] [ReLU] [Linear(10)]
    public partial class Vgg13HalfNet { }

    /// <summary>
    /// ConvNeXt-style blocks for CIFAR with batch-norm for layer norm (Liu et al. 2022's block: a 7x7 depthwise layer, a 1x1
    /// expansion by 4 with GELU, a 1x1 projection, a residual join): a 2x2 stride-2 patchify stem, 48 channels on 16x16, a 2x2
    /// stride-2 downsampling, 96 on 8x8, two blocks each.
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(48, 2, Stride = 2)] [BatchNorm]
    [Residual] [Conv2d(48, 7, Padding = 3, Groups = 48)] [BatchNorm] [Conv2d(192, 1)] [GELU] [Conv2d(48, 1)] [End]
    [Residual] [Conv2d(48, 7, Padding = 3, Groups = 48)] [BatchNorm] [Conv2d(192, 1)] [GELU] [Conv2d(48, 1)] [End]
    [BatchNorm] [Conv2d(96, 2, Stride = 2)]
    [Residual] [Conv2d(96, 7, Padding = 3, Groups = 96)] [BatchNorm] [Conv2d(384, 1)] [GELU] [Conv2d(96, 1)] [End]
    [Residual] [Conv2d(96, 7, Padding = 3, Groups = 96)] [BatchNorm] [Conv2d(384, 1)] [GELU] [Conv2d(96, 1)] [End]
    [BatchNorm] [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ConvNextNet { }

    /// <summary>ConvNeXt-style blocks at ImageNet-like map sizes (session 25): a 4x4 stride-4 patchify stem onto 14x14 with 48 channels, a 2x2 stride-2 downsampling onto 7x7 with 96, two blocks each (7x7 depthwise, batch-norm, 1x1 by 4 with GELU, 1x1, residual).</summary>
    [Network(3, 56, 56)]
    [Conv2d(48, 4, Stride = 4)] [BatchNorm]
    [Residual] [Conv2d(48, 7, Padding = 3, Groups = 48)] [BatchNorm] [Conv2d(192, 1)] [GELU] [Conv2d(48, 1)] [End]
    [Residual] [Conv2d(48, 7, Padding = 3, Groups = 48)] [BatchNorm] [Conv2d(192, 1)] [GELU] [Conv2d(48, 1)] [End]
    [BatchNorm] [Conv2d(96, 2, Stride = 2)]
    [Residual] [Conv2d(96, 7, Padding = 3, Groups = 96)] [BatchNorm] [Conv2d(384, 1)] [GELU] [Conv2d(96, 1)] [End]
    [Residual] [Conv2d(96, 7, Padding = 3, Groups = 96)] [BatchNorm] [Conv2d(384, 1)] [GELU] [Conv2d(96, 1)] [End]
    [BatchNorm] [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ConvNext14Net { }

    /// <summary>YOLO-tiny-style backbone on 3x64x64 (session 25): 3x3 convolutions with batch-norm and LeakyReLU(0.1), 2x2 max pooling, 16 to 256 channels, a 1x1 head.</summary>
    [Network(3, 64, 64)]
    [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)] [MaxPool(2)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)] [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)] [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)] [Conv2d(128, 1, Bias = false)] [BatchNorm] [LeakyReLU(0.1)]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class YoloTinyNet { }

    /// <summary>EfficientNet-lite-style on 3x32x32 (session 25): MBConv blocks (1x1 expansion by 4, 3x3 depthwise, 1x1 projection) with batch-norm and SiLU, 16 to 96 channels.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [SiLU]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [SiLU] [Conv2d(16, 1, Bias = false)] [BatchNorm]
    [Conv2d(64, 1, Bias = false)] [BatchNorm] [SiLU] [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [SiLU] [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(96, 1, Bias = false)] [BatchNorm] [SiLU] [Conv2d(96, 3, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [SiLU] [Conv2d(24, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(96, 1, Bias = false)] [BatchNorm] [SiLU] [Conv2d(96, 3, Stride = 2, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [SiLU] [Conv2d(48, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(192, 1, Bias = false)] [BatchNorm] [SiLU] [Conv2d(192, 3, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [SiLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(192, 1, Bias = false)] [BatchNorm] [SiLU] [Conv2d(192, 3, Stride = 2, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [SiLU] [Conv2d(96, 1, Bias = false)] [BatchNorm]
    [Conv2d(384, 1, Bias = false)] [BatchNorm] [SiLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class EfficientLiteNet { }

    /// <summary>Four stride-2 3x3 convolutions with batch-norm on CIFAR's 3x32x32 (session 26): 32-64-128-256 channels down to 2x2, the table's strided network a size smaller and a layer deeper.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class StridedCifarNet { }

    /// <summary>
    /// A pre-activation ResNet for CIFAR (session 28; He et al. 2016's v2 block): batch-norm and ReLU before each 3x3
    /// convolution, so no batch-norm follows a convolution to fold into it; 32-64-128 channels, two blocks a stage, the
    /// downsampling blocks' shortcut a 1x1 stride-2 convolution of the pre-activated input.
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)]
    [Residual] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU]
    [Residual] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [Shortcut] [Conv2d(64, 1, Stride = 2, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU]
    [Residual] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [Shortcut] [Conv2d(128, 1, Stride = 2, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU] [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class PreActResNetNet { }

    /// <summary>Wide ResNet 16-4 for CIFAR (session 28; Zagoruyko and Komodakis 2016): pre-activation blocks, 64-128-256 channels on 32x32, 16x16 and 8x8, two blocks a stage.</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [Shortcut] [Conv2d(64, 1, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU]
    [Residual] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [Shortcut] [Conv2d(128, 1, Stride = 2, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU]
    [Residual] [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [Shortcut] [Conv2d(256, 1, Stride = 2, Bias = false)] [End]
    [Residual] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU] [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class WideResNet16Net { }

    /// <summary>MnasNet-style on 3x64x64 (session 28): inverted residuals with 3x3 and 5x5 depthwise layers, expansion 3 and 6, ReLU, batch-norm, 16-80 channels.</summary>
    [Network(3, 64, 64)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU] [Conv2d(16, 1, Bias = false)] [BatchNorm]
    [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(48, 3, Stride = 2, Padding = 1, Groups = 48, Bias = false)] [BatchNorm] [ReLU] [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(72, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(72, 3, Padding = 1, Groups = 72, Bias = false)] [BatchNorm] [ReLU] [Conv2d(24, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(72, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(72, 5, Stride = 2, Padding = 2, Groups = 72, Bias = false)] [BatchNorm] [ReLU] [Conv2d(40, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(120, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(120, 5, Padding = 2, Groups = 120, Bias = false)] [BatchNorm] [ReLU] [Conv2d(40, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(240, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(240, 5, Stride = 2, Padding = 2, Groups = 240, Bias = false)] [BatchNorm] [ReLU] [Conv2d(80, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(480, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(480, 5, Padding = 2, Groups = 480, Bias = false)] [BatchNorm] [ReLU] [Conv2d(80, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(320, 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MnasNetNet { }

    /// <summary>Four stride-2 3x3 convolutions with biases and no batch-norm on 3x64x64 (session 26): 16-32-64-128 channels.</summary>
    [Network(3, 64, 64)]
    [Conv2d(16, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1)] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class StridedBiasNet { }

    /// <summary>A ResNet-14 for CIFAR (session 26): 32-64-128 channels, two basic blocks a stage, 1x1 stride-2 shortcuts.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(64, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNet14Net { }

    /// <summary>MobileNetV1-style without batch-norm (session 26): depthwise-separable blocks with biases and ReLU, 32 to 256 channels on 3x32x32.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [ReLU]
    [Conv2d(32, 3, Padding = 1, Groups = 32)] [ReLU] [Conv2d(64, 1)] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64)] [ReLU] [Conv2d(128, 1)] [ReLU]
    [Conv2d(128, 3, Padding = 1, Groups = 128)] [ReLU] [Conv2d(128, 1)] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 128)] [ReLU] [Conv2d(256, 1)] [ReLU]
    [Conv2d(256, 3, Padding = 1, Groups = 256)] [ReLU] [Conv2d(256, 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MobileNetNoBatchNormNet { }

    /// <summary>LeNet-5 as LeCun et al. 1998 drew it (session 25): 5x5 convolutions with tanh, 2x2 average pooling, 120-84-10 with tanh.</summary>
    [Network(1, 32, 32)]
    [Conv2d(6, 5)] [Tanh] [AvgPool(2)] [Conv2d(16, 5)] [Tanh] [AvgPool(2)]
    [Flatten] [Linear(120)] [Tanh] [Linear(84)] [Tanh] [Linear(10)]
    public partial class LeNet1998Net { }

    /// <summary>
    /// ResNet-18 as torchvision builds it for ImageNet (session 27): 3x224x224, a 7x7 stride-2 stem and a 3x3 stride-2 max
    /// pooling, four stages of two basic blocks on 56x56 down to 7x7, Linear(1000). 11.7 M parameters, 1.8 G multiply-adds.
    /// </summary>
    [Network(3, 224, 224)]
    [Conv2d(64, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(256, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(512, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(1000)]
    public partial class ResNet18ImageNetNet { }

    /// <summary>
    /// The Keras examples' CIFAR-10 network (session 27): pairs of 3x3 convolutions, the second unpadded (32x32 -> 30x30),
    /// biases and ReLU, no batch-norm, max pooling and dropout, then Linear(512) and Linear(10).
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [ReLU] [Conv2d(32, 3)] [ReLU] [MaxPool(2)] [Dropout(0.25)]
    [Conv2d(64, 3, Padding = 1)] [ReLU] [Conv2d(64, 3)] [ReLU] [MaxPool(2)] [Dropout(0.25)]
    [Flatten] [Linear(512)] [ReLU] [Dropout(0.5)] [Linear(10)]
    public partial class KerasCifarNet { }

    /// <summary>PyTorch's CIFAR-10 tutorial network (session 27): 5x5 convolutions 3 -> 6 -> 16 with ReLU and max pooling, then 120-84-10.</summary>
    [Network(3, 32, 32)]
    [Conv2d(6, 5)] [ReLU] [MaxPool(2)] [Conv2d(16, 5)] [ReLU] [MaxPool(2)]
    [Flatten] [Linear(120)] [ReLU] [Linear(84)] [ReLU] [Linear(10)]
    public partial class TorchTutorialNet { }

    /// <summary>A VGG-style network with its batch-norms after the ReLU (session 27), as some tutorials order them: nothing folds into the convolutions.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [ReLU] [BatchNorm] [Conv2d(32, 3, Padding = 1)] [ReLU] [BatchNorm] [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1)] [ReLU] [BatchNorm] [Conv2d(64, 3, Padding = 1)] [ReLU] [BatchNorm] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1)] [ReLU] [BatchNorm] [MaxPool(2)]
    [Flatten] [Linear(128)] [ReLU] [Linear(10)]
    public partial class BatchNormAfterReluNet { }

    /// <summary>
    /// MobileNetV2 as torchvision builds it for ImageNet (session 27): 3x224x224, width 1.0, seventeen inverted residual
    /// blocks (expansion 6, ReLU6) on 112x112 down to 7x7, a 1x1 layer onto 1280, Linear(1000). 3.5 M parameters, 0.3 G multiply-adds.
    /// </summary>
    [Network(3, 224, 224)]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(32, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(16, 1, Bias = false)] [BatchNorm]
    [Conv2d(96, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 3, Stride = 2, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(24, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(144, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(144, 3, Padding = 1, Groups = 144, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(24, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(144, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(144, 3, Stride = 2, Padding = 1, Groups = 144, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(32, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(192, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(192, 3, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(32, 1, Bias = false)] [BatchNorm] [End]
    [Residual] [Conv2d(192, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(192, 3, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(32, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(192, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(192, 3, Stride = 2, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm] [End]
    [Residual] [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm] [End]
    [Residual] [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(64, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(384, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(384, 3, Padding = 1, Groups = 384, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(576, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(576, 3, Padding = 1, Groups = 576, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 1, Bias = false)] [BatchNorm] [End]
    [Residual] [Conv2d(576, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(576, 3, Padding = 1, Groups = 576, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(96, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(576, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(576, 3, Stride = 2, Padding = 1, Groups = 576, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(160, 1, Bias = false)] [BatchNorm]
    [Residual] [Conv2d(960, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(960, 3, Padding = 1, Groups = 960, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(160, 1, Bias = false)] [BatchNorm] [End]
    [Residual] [Conv2d(960, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(960, 3, Padding = 1, Groups = 960, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(160, 1, Bias = false)] [BatchNorm] [End]
    [Conv2d(960, 1, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(960, 3, Padding = 1, Groups = 960, Bias = false)] [BatchNorm] [ReLU6] [Conv2d(320, 1, Bias = false)] [BatchNorm]
    [Conv2d(1280, 1, Bias = false)] [BatchNorm] [ReLU6]
    [GlobalAvgPool] [Flatten] [Dropout(0.2)] [Linear(1000)]
    public partial class MobileNetV2ImageNetNet { }

    /// <summary>
    /// ResNet-50 as torchvision builds it (session 27): 3x224x224, bottleneck blocks (1x1, 3x3 carrying the stride, 1x1 onto
    /// four times the width) in stages of 3, 4, 6 and 3 on 56x56 down to 7x7, Linear(1000). 25.6 M parameters, 4.1 G multiply-adds.
    /// </summary>
    [Network(3, 224, 224)]
    [Conv2d(64, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
    [Residual] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [Shortcut] [Conv2d(256, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 1, Bias = false)] [BatchNorm] [Shortcut] [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [Shortcut] [Conv2d(1024, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(1024, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(512, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(2048, 1, Bias = false)] [BatchNorm] [Shortcut] [Conv2d(2048, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(512, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(2048, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(512, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(2048, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(1000)]
    public partial class ResNet50ImageNetNet { }
}

namespace CnnGen.Benchmarks
{
    public static partial class ZooComparison
    {
        private static readonly (string Name, Func<INetwork> Create)[] Sweep3Networks =
        {
            ("ResNet-20 for CIFAR, 16-64 ch", () => Initialized(new Zoo.Sweep3.ResNet20Net())),
            ("MobileNetV2 CIFAR, torchvision widths", () => Initialized(new Zoo.Sweep3.MobileNetV2CifarNet())),
            ("All-convolutional C, 96-192 ch", () => Initialized(new Zoo.Sweep3.AllConvNet())),
            ("VGG-13-BN halved, 32-256 ch", () => Initialized(new Zoo.Sweep3.Vgg13HalfNet())),
            ("ConvNeXt-style, 7x7 dw, BN, GELU", () => Initialized(new Zoo.Sweep3.ConvNextNet())),
            ("ConvNeXt-style on 14x14 and 7x7 maps", () => Initialized(new Zoo.Sweep3.ConvNext14Net())),
            ("YOLO-tiny-style, LeakyReLU, 3x64x64", () => Initialized(new Zoo.Sweep3.YoloTinyNet())),
            ("EfficientNet-lite-style, SiLU", () => Initialized(new Zoo.Sweep3.EfficientLiteNet())),
            ("LeNet-5 of 1998, tanh, avg pool", () => Initialized(new Zoo.Sweep3.LeNet1998Net())),
            ("strided 3x32x32, four s2 + BN, 32-256 ch", () => Initialized(new Zoo.Sweep3.StridedCifarNet())),
            ("strided 3x64x64, four s2 with bias, 16-128", () => Initialized(new Zoo.Sweep3.StridedBiasNet())),
            ("ResNet-14 for CIFAR, 32-128 ch", () => Initialized(new Zoo.Sweep3.ResNet14Net())),
            ("MobileNetV1-style without batch-norm", () => Initialized(new Zoo.Sweep3.MobileNetNoBatchNormNet())),
            ("ResNet-18, ImageNet size 3x224x224", () => Initialized(new Zoo.Sweep3.ResNet18ImageNetNet())),
            ("Keras CIFAR-10 CNN, valid 3x3, dropout", () => Initialized(new Zoo.Sweep3.KerasCifarNet())),
            ("PyTorch CIFAR-10 tutorial, 5x5, 6-16 ch", () => Initialized(new Zoo.Sweep3.TorchTutorialNet())),
            ("VGG-style, batch-norm after ReLU", () => Initialized(new Zoo.Sweep3.BatchNormAfterReluNet())),
            ("MobileNetV2, ImageNet size 3x224x224", () => Initialized(new Zoo.Sweep3.MobileNetV2ImageNetNet())),
            ("ResNet-50, ImageNet size 3x224x224", () => Initialized(new Zoo.Sweep3.ResNet50ImageNetNet())),
            ("pre-activation ResNet for CIFAR, 32-128", () => Initialized(new Zoo.Sweep3.PreActResNetNet())),
            ("Wide ResNet 16-4 for CIFAR, 64-256 ch", () => Initialized(new Zoo.Sweep3.WideResNet16Net())),
            ("MnasNet-style, 3x3 and 5x5 dw, 3x64x64", () => Initialized(new Zoo.Sweep3.MnasNetNet())),
        };
    }
}
