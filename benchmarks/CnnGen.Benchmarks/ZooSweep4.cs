using CnnGen;
using System;

namespace CnnGen.Benchmarks.Zoo.Sweep4
{
    // `-- zoo sweep4`: classic designs with shapes the other sweeps have none of (session 32): even 4x4 kernels, an 11x11
    // stride-4 stem, a 9x9 kernel from one channel at full resolution, mlpconv stacks of 1x1 layers after 5x5 ones, a 2x2
    // stride-2 patch stem with 5x5 depthwise mixing, and a small residual network on MNIST's 1x28x28. Each runs at batch 1
    // and at batch 64 against ONNX Runtime.

    /// <summary>DCGAN's discriminator (Radford et al. 2016) on 3x64x64: 4x4 stride-2 convolutions, 64-512 channels, batch-norm, LeakyReLU(0.2), a 4x4 convolution to one logit, sigmoid.</summary>
    [Network(3, 64, 64)]
    [Conv2d(64, 4, Stride = 2, Padding = 1, Bias = false)] [LeakyReLU(0.2)]
    [Conv2d(128, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.2)]
    [Conv2d(256, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.2)]
    [Conv2d(512, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [LeakyReLU(0.2)]
    [Conv2d(1, 4, Bias = false)] [Sigmoid] [Flatten]
    public partial class DcganDiscriminatorNet { }

    /// <summary>DCGAN's generator (Radford et al. 2016): a 100-value code through 4x4 transposed convolutions (stride 1 onto 4x4, then stride 2 with padding 1 up to 3x64x64), 512-64 channels, batch-norm, ReLU, tanh.</summary>
    [Network(100, 1, 1)]
    [ConvTranspose2d(512, 4, Bias = false)] [BatchNorm] [ReLU]
    [ConvTranspose2d(256, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [ConvTranspose2d(128, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [ConvTranspose2d(64, 4, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [ConvTranspose2d(3, 4, Stride = 2, Padding = 1, Bias = false)] [Tanh]
    public partial class DcganGeneratorNet { }

    /// <summary>AlexNet's layout (Krizhevsky et al. 2012, torchvision's channels) on 3x64x64: an 11x11 stride-4 stem, 3x3 stride-2 max pooling, a 5x5 layer, three 3x3 layers, dropout, two hidden Linear layers.</summary>
    [Network(3, 64, 64)]
    [Conv2d(64, 11, Stride = 4, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2)]
    [Conv2d(192, 5, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2)]
    [Conv2d(384, 3, Padding = 1)] [ReLU]
    [Conv2d(256, 3, Padding = 1)] [ReLU]
    [Conv2d(256, 3, Padding = 1)] [ReLU] [MaxPool(3, Stride = 2)]
    [Flatten] [Dropout] [Linear(512)] [ReLU] [Dropout] [Linear(512)] [ReLU] [Linear(10)]
    public partial class AlexNetNet { }

    /// <summary>Network in Network for CIFAR (Lin et al. 2014): 5x5 layers of 192 channels each followed by two 1x1 layers, 3x3 stride-2 pooling, a 1x1 layer onto the 10 classes, global average pooling.</summary>
    [Network(3, 32, 32)]
    [Conv2d(192, 5, Padding = 2)] [ReLU] [Conv2d(160, 1)] [ReLU] [Conv2d(96, 1)] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)] [Dropout]
    [Conv2d(192, 5, Padding = 2)] [ReLU] [Conv2d(192, 1)] [ReLU] [Conv2d(192, 1)] [ReLU] [AvgPool(3, Stride = 2, Padding = 1)] [Dropout]
    [Conv2d(192, 3, Padding = 1)] [ReLU] [Conv2d(192, 1)] [ReLU] [Conv2d(10, 1)] [ReLU]
    [GlobalAvgPool] [Flatten]
    public partial class NetworkInNetworkNet { }

    /// <summary>SRCNN (Dong et al. 2014) on a 1x64x64 luminance patch: a 9x9 layer of 64 channels, a 1x1 layer of 32, a 5x5 layer back to one channel, no pooling (an image out).</summary>
    [Network(1, 64, 64)]
    [Conv2d(64, 9, Padding = 4)] [ReLU]
    [Conv2d(32, 1)] [ReLU]
    [Conv2d(1, 5, Padding = 2)]
    public partial class SrcnnNet { }

    /// <summary>ConvMixer-style (Trockman and Kolter 2022) on 3x32x32: a 2x2 stride-2 patch stem of 128 channels, residual 5x5 depthwise mixing and 1x1 layers, GELU and batch-norm after each.</summary>
    [Network(3, 32, 32)]
    [Conv2d(128, 2, Stride = 2)] [GELU] [BatchNorm]
    [Residual] [Conv2d(128, 5, Padding = 2, Groups = 128)] [GELU] [BatchNorm] [End] [Conv2d(128, 1)] [GELU] [BatchNorm]
    [Residual] [Conv2d(128, 5, Padding = 2, Groups = 128)] [GELU] [BatchNorm] [End] [Conv2d(128, 1)] [GELU] [BatchNorm]
    [Residual] [Conv2d(128, 5, Padding = 2, Groups = 128)] [GELU] [BatchNorm] [End] [Conv2d(128, 1)] [GELU] [BatchNorm]
    [Residual] [Conv2d(128, 5, Padding = 2, Groups = 128)] [GELU] [BatchNorm] [End] [Conv2d(128, 1)] [GELU] [BatchNorm]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ConvMixerNet { }

    /// <summary>The strided network at other widths: three stride-2 3x3 convolutions with batch-norm on 3x64x64, 16-32-64 channels.</summary>
    [Network(3, 64, 64)]
    [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class StridedNarrowNet { }

    /// <summary>The strided network at other widths: 64-128-256 channels.</summary>
    [Network(3, 64, 64)]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class StridedWideNet { }

    /// <summary>The strided network on 3x96x96 with 24-48-96 channels (no multiples of 16 from the first).</summary>
    [Network(3, 96, 96)]
    [Conv2d(24, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(48, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(96, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class StridedOddNet { }

    /// <summary>A small residual network for MNIST's 1x28x28: a 3x3 stem of 32 channels, a basic block, a stride-2 block to 64 channels on 14x14 with a 1x1 shortcut, a basic block, global average pooling.</summary>
    [Network(1, 28, 28)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut] [Conv2d(64, 1, Stride = 2, Bias = false)] [BatchNorm] [End] [ReLU]
    [Residual] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class MnistResNetNet { }
}

namespace CnnGen.Benchmarks
{
    public static partial class ZooComparison
    {
        private static readonly (string Name, Func<INetwork> Create)[] Sweep4Networks =
        {
            ("DCGAN discriminator, 4x4 s2, 3x64x64", () => Initialized(new Zoo.Sweep4.DcganDiscriminatorNet())),
            ("DCGAN generator, 4x4 s2 transposed, 100 -> 3x64x64", () => Initialized(new Zoo.Sweep4.DcganGeneratorNet())),
            ("AlexNet-style, 11x11 s4 stem, 3x64x64", () => Initialized(new Zoo.Sweep4.AlexNetNet())),
            ("Network in Network, 5x5 + 1x1 stacks", () => Initialized(new Zoo.Sweep4.NetworkInNetworkNet())),
            ("SRCNN, 9x9 from 1 channel, 1x64x64", () => Initialized(new Zoo.Sweep4.SrcnnNet())),
            ("ConvMixer-style, 2x2 s2 patches, 5x5 dw", () => Initialized(new Zoo.Sweep4.ConvMixerNet())),
            ("ResNet for MNIST, 1x28x28, 32-64 ch", () => Initialized(new Zoo.Sweep4.MnistResNetNet())),
            ("strided 3x64x64, three s2 + BN, 16-64 ch", () => Initialized(new Zoo.Sweep4.StridedNarrowNet())),
            ("strided 3x64x64, three s2 + BN, 64-256 ch", () => Initialized(new Zoo.Sweep4.StridedWideNet())),
            ("strided 3x96x96, three s2 + BN, 24-96 ch", () => Initialized(new Zoo.Sweep4.StridedOddNet())),
        };
    }
}
