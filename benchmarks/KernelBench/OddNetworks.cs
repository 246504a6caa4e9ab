using CnnGen;

namespace KernelBench.Networks
{
    // The zoo's (ZooSweep2.cs) odd-channel and stem designs, declared again here so that mode "eval-cpu" times their
    // generated Forward in thread CPU time (steady on a loaded machine, where the zoo's wall-clock rounds are not).

    /// <summary>An odd map (3x37x37) and channel counts that are no multiple of 16 (5, 12, 20, 40, 80), stride 2 twice.</summary>
    [Network(3, 37, 37)]
    [Conv2d(5, 3, Padding = 1)] [ReLU]
    [Conv2d(12, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(20, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(40, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(80, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class OddMapNet { }

    /// <summary>The zoo's probe: 3x3 stride 2, 12 -> 20 channels at 37x37.</summary>
    [Network(12, 37, 37)] [Conv2d(20, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    public partial class Odd20s2At37 { }

    /// <summary>The zoo's probe: the 7x7 stride-2 stem at 112x112 and its 3x3 stride-2 max pooling.</summary>
    [Network(3, 112, 112)] [Conv2d(32, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
    public partial class Stem7x7At112 { }

    /// <summary>The stem alone, without its pooling.</summary>
    [Network(3, 112, 112)] [Conv2d(32, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
    public partial class Stem7x7At112Alone { }

    /// <summary>The zoo's MLP (ZooSweep.cs): 784 -> 512 -> 256 -> 10 with GELU, Linear layers only.</summary>
    [Network(1, 28, 28)]
    [Flatten] [Linear(512)] [GELU] [Linear(256)] [GELU] [Linear(10)]
    public partial class MlpNet { }

    /// <summary>VGG-11's and ResNet-18's widest layer on CIFAR: 512 -> 512 on 4x4, 9.4 MB of weights for 16 cells.</summary>
    [Network(512, 4, 4)] [Conv2d(512, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Wide512At4 { }

    /// <summary>The zoo's dilated network (ZooSweep.cs): 3x3 convolutions with dilation 2 and 4 at full resolution, SiLU after each.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1)] [SiLU]
    [Conv2d(32, 3, Padding = 2, Dilation = 2)] [SiLU]
    [Conv2d(64, 3, Padding = 4, Dilation = 4)] [SiLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class DilatedSiluNet { }

    /// <summary>The zoo's ResNet-50-style bottlenecks (ZooSweep2.cs Bottleneck14Net): 1x1 reduce, 3x3 (stride 2 in the second), 1x1 expand, a 1x1 stride-2 shortcut.</summary>
    [Network(256, 14, 14)]
    [Residual]
        [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(256, 1, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [Residual]
        [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(512, 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [GlobalAvgPool] [Conv2d(128, 1)] [ReLU] [Flatten] [Linear(10)]
    public partial class Bottleneck14Net { }

    /// <summary>ResNeXt-style's downsampling block (ZooSweep2.cs ResNeXtNet's second): grouped 3x3 stride 2 (8 groups of 16) and a 1x1 stride-2 shortcut.</summary>
    [Network(64, 32, 32)]
    [Residual]
        [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End] [ReLU]
    public partial class ResNeXtDownBlock { }

    /// <summary>1x1 stride-2 shortcuts alone: output channels in whole vectors at 14x14 -> 7x7, and 72 at 38x38 -> 19x19.</summary>
    [Network(256, 14, 14)] [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Shortcut256To512At14 { }

    [Network(40, 38, 38)] [Conv2d(72, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Shortcut40To72At38 { }

    /// <summary>ZooSweep2's MobileNetV1-style on 3x112x112 (depthwise-separable blocks, maps 56 to 7), and MobileNetV3-style.</summary>
    [Network(3, 112, 112)]
    [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(16, 3, Padding = 1, Groups = 16, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(256, 3, Padding = 1, Groups = 256, Bias = false)] [BatchNorm] [ReLU] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MobileNet112Net { }

    [Network(3, 64, 64)]
    [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [Hardswish]
    [Residual]
        [Conv2d(16, 3, Padding = 1, Groups = 16, Bias = false)] [BatchNorm] [ReLU6]
        [Conv2d(16, 1, Bias = false)] [BatchNorm]
    [End]
    [Conv2d(72, 1, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(72, 5, Stride = 2, Padding = 2, Groups = 72, Bias = false)] [BatchNorm] [ReLU6]
    [Conv2d(40, 1, Bias = false)] [BatchNorm]
    [Residual]
        [Conv2d(120, 1, Bias = false)] [BatchNorm] [Hardswish]
        [Conv2d(120, 5, Padding = 2, Groups = 120, Bias = false)] [BatchNorm] [Hardswish]
        [Conv2d(40, 1, Bias = false)] [BatchNorm]
    [End]
    [Conv2d(240, 1, Bias = false)] [BatchNorm] [Hardswish]
    [Conv2d(240, 5, Stride = 2, Padding = 2, Groups = 240, Bias = false)] [BatchNorm] [Hardswish]
    [Conv2d(80, 1, Bias = false)] [BatchNorm]
    [Conv2d(480, 1, Bias = false)] [BatchNorm] [Hardswish]
    [GlobalAvgPool] [Flatten] [Linear(128)] [Hardswish] [Linear(10)]
    public partial class MobileNetV3Net { }
}
