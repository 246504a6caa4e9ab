using CnnGen;

// The zoo's designs KernelBench times too (its eval-cpu mode, in thread CPU time): declared once, in this file, which
// KernelBench links.
namespace CnnGen.Benchmarks.Zoo.Sweep2
{
    /// <summary>MobileNetV1-style on 3x112x112 (session 10): depthwise-separable blocks on 56x56 to 7x7 maps, whose planes (196, 49 cells) are no multiple of 16.</summary>
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

    /// <summary>ResNet-50-style bottlenecks on 256x14x14 and 7x7 (1x1 reduce, 3x3, 1x1 expand, a 1x1 stride-2 shortcut), a 1x1 head on the pooled 1x1 map.</summary>
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

    /// <summary>MobileNetV3-style: Hardswish stem, inverted residuals with 5x5 depthwise (stride 1 and 2), ReLU6 and Hardswish.</summary>
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

    /// <summary>An odd map (3x37x37) and channel counts that are no multiple of 16 (5, 12, 20, 40, 80), stride 2 twice.</summary>
    [Network(3, 37, 37)]
    [Conv2d(5, 3, Padding = 1)] [ReLU]
    [Conv2d(12, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(20, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(40, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(80, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class OddMapNet { }
}

namespace CnnGen.Benchmarks.Zoo.Sweep2.Probes
{
    [Network(3, 112, 112)] [Conv2d(32, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
    public partial class Stem7x7At112 { }

    [Network(12, 37, 37)] [Conv2d(20, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
    public partial class Odd20s2At37 { }
}
