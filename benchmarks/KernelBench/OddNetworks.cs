using CnnGen;

namespace KernelBench.Networks
{
    // Designs and layers mode "eval-cpu" times in thread CPU time (steady on a loaded machine, where the zoo's wall-clock
    // rounds are not) besides the zoo's own, which it takes from ZooSharedNetworks.cs (linked).

    /// <summary>The zoo's 7x7 stem at 112 (ZooSharedNetworks.cs Stem7x7At112) alone, without its pooling.</summary>
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
}
