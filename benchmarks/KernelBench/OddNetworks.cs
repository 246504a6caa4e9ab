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
