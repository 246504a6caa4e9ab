using CnnGen;
using System;

namespace CnnGen.Benchmarks.Zoo.Sweep2
{
    // `-- zoo sweep2`: a second scan for cliffs over designs neither the zoo nor `zoo sweep` has (issue 14's targets are
    // checked on networks we have not seen). Each runs at batch 1 and at batch 64 against ONNX Runtime.

    /// <summary>ResNeXt-style: 1x1 reduce, grouped 3x3 (32, 8 and 4 groups, not depthwise), 1x1 expand, residual adds.</summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Residual]
        [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 1, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [Residual]
        [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [Residual]
        [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 3, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(128, 1, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNeXtNet { }

    /// <summary>
    /// U-Net-style encoder-decoder on 3x64x64: stride-2 and pooled encoders, transposed 2x2 s2, 4x4 s2 p1 (DCGAN) and
    /// 3x3 s2 p1 op1 decoders, concatenated skips, a sigmoid mask at the end.
    /// </summary>
    [Network(3, 64, 64)]
    [Conv2d(16, 3, Padding = 1)] [ReLU]
    [Concat]
        [Branch]
        [Branch]
            [Conv2d(32, 3, Stride = 2, Padding = 1)] [ReLU]
            [Concat]
                [Branch]
                [Branch]
                    [MaxPool(2)] [Conv2d(64, 3, Padding = 1)] [ReLU]
                    [Concat]
                        [Branch]
                        [Branch]
                            [Conv2d(128, 3, Stride = 2, Padding = 1)] [ReLU]
                            [ConvTranspose2d(64, 3, Stride = 2, Padding = 1, OutputPadding = 1)] [ReLU]
                    [End]
                    [Conv2d(64, 3, Padding = 1)] [ReLU]
                    [ConvTranspose2d(32, 4, Stride = 2, Padding = 1)] [ReLU]
            [End]
            [Conv2d(32, 3, Padding = 1)] [ReLU]
            [ConvTranspose2d(16, 2, Stride = 2)] [ReLU]
    [End]
    [Conv2d(16, 3, Padding = 1)] [ReLU]
    [Conv2d(1, 1)] [Sigmoid]
    public partial class UNetNet { }

    /// <summary>An upsampling decoder: nearest and bilinear x2 each followed by a 3x3 convolution, from a 4x4 code to 3x32x32.</summary>
    [Network(64, 4, 4)]
    [Conv2d(128, 3, Padding = 1)] [ReLU]
    [Upsample(2)] [Conv2d(64, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Upsample(2, Mode = UpsampleMode.Bilinear)] [Conv2d(32, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Upsample(2, Mode = UpsampleMode.Bilinear)] [Conv2d(3, 3, Padding = 1)] [Tanh]
    public partial class UpsampleDecoderNet { }

    /// <summary>DenseNet-style: growth 12 through concatenations, 1x1 bottlenecks, batch-norm and ReLU first, an AvgPool(2) transition.</summary>
    [Network(3, 32, 32)]
    [Conv2d(24, 3, Padding = 1, Bias = false)]
    [Concat] [Branch] [Branch] [BatchNorm] [ReLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(12, 3, Padding = 1, Bias = false)] [End]
    [Concat] [Branch] [Branch] [BatchNorm] [ReLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(12, 3, Padding = 1, Bias = false)] [End]
    [Concat] [Branch] [Branch] [BatchNorm] [ReLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(12, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU] [Conv2d(30, 1, Bias = false)] [AvgPool(2)]
    [Concat] [Branch] [Branch] [BatchNorm] [ReLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(12, 3, Padding = 1, Bias = false)] [End]
    [Concat] [Branch] [Branch] [BatchNorm] [ReLU] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(12, 3, Padding = 1, Bias = false)] [End]
    [BatchNorm] [ReLU] [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class DenseNet { }

    /// <summary>Inception-style: four branches (1x1; 1x1 then 1x3 and 3x1; 1x1 then 5x5; 3x3 s1 p1 average pooling then 1x1), concatenated.</summary>
    [Network(3, 32, 32)]
    [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Concat]
        [Branch] [Conv2d(16, 1)] [ReLU]
        [Branch] [Conv2d(16, 1)] [ReLU] [Conv2d(24, 1, 3, PaddingHeight = 0, PaddingWidth = 1)] [ReLU] [Conv2d(24, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]
        [Branch] [Conv2d(8, 1)] [ReLU] [Conv2d(16, 5, Padding = 2)] [ReLU]
        [Branch] [AvgPool(3, Stride = 1, Padding = 1)] [Conv2d(16, 1)] [ReLU]
    [End]
    [MaxPool(2)]
    [Concat]
        [Branch] [Conv2d(32, 1)] [ReLU]
        [Branch] [Conv2d(32, 1)] [ReLU] [Conv2d(48, 1, 3, PaddingHeight = 0, PaddingWidth = 1)] [ReLU] [Conv2d(48, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]
        [Branch] [Conv2d(16, 1)] [ReLU] [Conv2d(32, 5, Padding = 2)] [ReLU]
        [Branch] [AvgPool(3, Stride = 1, Padding = 1)] [Conv2d(32, 1)] [ReLU]
    [End]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class InceptionNet { }

    /// <summary>
    /// Inception-v3-style (session 48): a stride-2 stem onto 17x17 with 64 channels, then the 17x17 grid's block (Szegedy et
    /// al. 2016, figure 6) at 48 channels a branch: 1x1; 1x1, 1x7, 7x1; 1x1, 7x1, 1x7, 7x1, 1x7; 3x3 average pooling, 1x1;
    /// batch-norm and ReLU after each convolution.
    /// </summary>
    [Network(3, 35, 35)]
    [Conv2d(64, 3, Stride = 2, Bias = false)] [BatchNorm] [ReLU]
    [Concat]
        [Branch] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
        [Branch] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(48, 1, 7, PaddingHeight = 0, PaddingWidth = 3, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(64, 7, 1, PaddingHeight = 3, PaddingWidth = 0, Bias = false)] [BatchNorm] [ReLU]
        [Branch] [Conv2d(48, 1, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(48, 7, 1, PaddingHeight = 3, PaddingWidth = 0, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(48, 1, 7, PaddingHeight = 0, PaddingWidth = 3, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(48, 7, 1, PaddingHeight = 3, PaddingWidth = 0, Bias = false)] [BatchNorm] [ReLU]
            [Conv2d(64, 1, 7, PaddingHeight = 0, PaddingWidth = 3, Bias = false)] [BatchNorm] [ReLU]
        [Branch] [AvgPool(3, Stride = 1, Padding = 1)] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
    [End]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class InceptionV3Net { }

    /// <summary>ResNet downsampling on 3x112x112: 7x7 s2 stem, 3x3 s2 p1 max pooling, a basic block, a stride-2 block with a 1x1 s2 shortcut.</summary>
    [Network(3, 112, 112)]
    [Conv2d(32, 7, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
    [Residual]
        [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(32, 3, Padding = 1, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [Residual]
        [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm]
    [Shortcut]
        [Conv2d(64, 1, Stride = 2, Bias = false)] [BatchNorm]
    [End] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class ResNetDownsampleNet { }

    /// <summary>A non-square map, 3x48x96, 12 to 48 channels, max pooling.</summary>
    [Network(3, 48, 96)]
    [Conv2d(12, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [Conv2d(24, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [Conv2d(48, 3, Padding = 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class WideMapNet { }

    /// <summary>Few channels (8) on a large map (3x128x128), then 16 after pooling.</summary>
    [Network(3, 128, 128)]
    [Conv2d(8, 3, Padding = 1)] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [Conv2d(16, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [Conv2d(16, 3, Padding = 1)] [ReLU]
    [GlobalAvgPool] [Flatten] [Linear(10)]
    public partial class SmallChannelsLargeMapNet { }

    /// <summary>A VGG head: two 3x3 stages, AdaptiveAvgPool to 2x2, two Linear layers with Dropout, softmax at the end.</summary>
    [Network(3, 32, 32)]
    [Conv2d(64, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [Conv2d(128, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [AdaptiveAvgPool(2, 2)] [Flatten]
    [Linear(256)] [ReLU] [Dropout]
    [Linear(256)] [ReLU] [Dropout]
    [Linear(10)] [Softmax]
    public partial class VggHead2Net { }

    /// <summary>A VGG head to 7x7 (torchvision's): 64 channels on 14x14 pooled to 7x7, 3136 -> 512 -> 512 -> 10, softmax.</summary>
    [Network(3, 28, 28)]
    [Conv2d(32, 3, Padding = 1)] [ReLU]
    [Conv2d(64, 3, Padding = 1)] [ReLU] [MaxPool(2)]
    [AdaptiveAvgPool(7, 7)] [Flatten]
    [Linear(512)] [ReLU] [Dropout]
    [Linear(512)] [ReLU] [Dropout]
    [Linear(10)] [Softmax]
    public partial class VggHead7Net { }
}

namespace CnnGen.Benchmarks
{
    public static partial class ZooComparison
    {
        // `-- zoo sweep2`: ZooSweep2.cs, at batch 1 and at batch 64 (`-- zoo sweep2 probe`: the probes, by name).
        private static readonly (string Name, Func<INetwork> Create)[] Sweep2Networks =
        {
            ("ResNeXt-style, groups 32/8/4", () => Initialized(new Zoo.Sweep2.ResNeXtNet())),
            ("MobileNetV3-style, 5x5 dw, hswish", () => Initialized(new Zoo.Sweep2.MobileNetV3Net())),
            ("MobileNetV1-style 3x112x112, maps 56-7", () => Initialized(new Zoo.Sweep2.MobileNet112Net())),
            ("bottlenecks 256x14x14 -> 7x7, 1x1 head", () => Initialized(new Zoo.Sweep2.Bottleneck14Net())),
            ("U-Net-style, transposed, concat", () => Initialized(new Zoo.Sweep2.UNetNet())),
            ("upsample decoder, nearest+bilinear", () => Initialized(new Zoo.Sweep2.UpsampleDecoderNet())),
            ("DenseNet-style, growth 12", () => Initialized(new Zoo.Sweep2.DenseNet())),
            ("Inception-style, 1x3/3x1, 4 branches", () => Initialized(new Zoo.Sweep2.InceptionNet())),
            ("Inception-v3-style 17x17, 1x7/7x1", () => Initialized(new Zoo.Sweep2.InceptionV3Net())),
            ("ResNet downsampling, 3x112x112", () => Initialized(new Zoo.Sweep2.ResNetDownsampleNet())),
            ("odd map 3x37x37, 5-80 ch", () => Initialized(new Zoo.Sweep2.OddMapNet())),
            ("non-square 3x48x96, 12-48 ch", () => Initialized(new Zoo.Sweep2.WideMapNet())),
            ("8 ch on 3x128x128", () => Initialized(new Zoo.Sweep2.SmallChannelsLargeMapNet())),
            ("VGG head, adaptive 2x2, softmax", () => Initialized(new Zoo.Sweep2.VggHead2Net())),
            ("VGG head, adaptive 7x7, softmax", () => Initialized(new Zoo.Sweep2.VggHead7Net())),
        };
    }
}

namespace CnnGen.Benchmarks.Zoo.Sweep2.Probes
{
    // The second sweep's layers one at a time (`-- zoo sweep2 probe`).
    [Network(128, 32, 32)] [Conv2d(128, 3, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU]
    public partial class Grouped32At32 { }

    [Network(128, 32, 32)] [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 8, Bias = false)] [BatchNorm] [ReLU]
    public partial class Grouped8s2At32 { }

    [Network(128, 16, 16)] [Conv2d(128, 3, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [ReLU]
    public partial class Grouped4At16 { }

    [Network(64, 32, 32)] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Pointwise64To128At32 { }

    [Network(16, 32, 32)] [Conv2d(24, 1, 3, PaddingHeight = 0, PaddingWidth = 1)] [ReLU]
    public partial class Row1x3At32 { }

    [Network(24, 32, 32)] [Conv2d(24, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]
    public partial class Column3x1At32 { }

    [Network(32, 16, 16)] [Conv2d(48, 1, 3, PaddingHeight = 0, PaddingWidth = 1)] [ReLU]
    public partial class Row1x3At16 { }

    [Network(48, 16, 16)] [Conv2d(48, 3, 1, PaddingHeight = 1, PaddingWidth = 0)] [ReLU]
    public partial class Column3x1At16 { }

    [Network(8, 32, 32)] [Conv2d(16, 5, Padding = 2)] [ReLU]
    public partial class Conv5x5Small8At32 { }

    [Network(32, 32, 32)] [AvgPool(3, Stride = 1, Padding = 1)] [Conv2d(16, 1)] [ReLU]
    public partial class AvgPool3s1At32 { }

    [Network(32, 32, 32)] [Conv2d(16, 1)] [ReLU]
    public partial class Pointwise32To16At32 { }

    [Network(72, 32, 32)] [Conv2d(72, 5, Stride = 2, Padding = 2, Groups = 72, Bias = false)] [BatchNorm] [ReLU6]
    public partial class Depthwise5x5s2At32 { }

    [Network(120, 16, 16)] [Conv2d(120, 5, Padding = 2, Groups = 120, Bias = false)] [BatchNorm] [Hardswish]
    public partial class Depthwise5x5At16 { }

    [Network(40, 16, 16)] [Conv2d(120, 1, Bias = false)] [BatchNorm] [Hardswish]
    public partial class Pointwise40To120Hswish { }

    [Network(3, 37, 37)] [Conv2d(5, 3, Padding = 1)] [ReLU] [Conv2d(12, 3, Padding = 1)] [BatchNorm] [ReLU]
    public partial class OddStemAt37 { }

    // ResNeXt-style's other layers (session 10): its stem, the 1x1 expands and the stride-2 shortcut, a residual block's sum.
    [Network(3, 32, 32)] [Conv2d(64, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Stem3x3To64At32 { }

    [Network(128, 32, 32)] [Conv2d(64, 1, Bias = false)] [BatchNorm]
    public partial class Pointwise128To64At32 { }

    [Network(128, 16, 16)] [Conv2d(128, 1, Bias = false)] [BatchNorm]
    public partial class Pointwise128To128At16 { }

    [Network(64, 32, 32)] [Conv2d(128, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Pointwise64To128s2At32 { }

    [Network(64, 32, 32)]
    [Residual] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU] [Conv2d(64, 1, Bias = false)] [BatchNorm] [End] [ReLU]
    public partial class PointwisePairResidualAt32 { }

    // Session 11 (branch bottleneck): the strided layers of ResNet-50-style bottlenecks, 3x3 stride 2 at 28->14 and 14->7
    // with 64-256 channels, and 1x1 stride-2 shortcuts.
    [Network(128, 14, 14)] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided128At14 { }

    [Network(256, 14, 14)] [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided256At14 { }

    [Network(64, 14, 14)] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided64At14 { }

    [Network(64, 28, 28)] [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided64At28 { }

    [Network(128, 28, 28)] [Conv2d(128, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided128At28 { }

    [Network(256, 28, 28)] [Conv2d(256, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Strided256At28 { }

    [Network(256, 14, 14)] [Conv2d(512, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Pointwise256To512s2At14 { }

    [Network(128, 28, 28)] [Conv2d(256, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Pointwise128To256s2At28 { }

    [Network(40, 38, 38)] [Conv2d(72, 1, Stride = 2, Bias = false)] [BatchNorm]
    public partial class Pointwise40To72s2At38 { }

    // MobileNetV1-style 3x112x112's layers (session 11): the stem, each depthwise layer and the 1x1 after it, with its batch-norm and ReLU.
    [Network(3, 112, 112)] [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Stem3x3s2At112 { }

    [Network(16, 56, 56)] [Conv2d(16, 3, Padding = 1, Groups = 16, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise16At56 { }

    [Network(16, 56, 56)] [Conv2d(32, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise16To32At56 { }

    [Network(32, 56, 56)] [Conv2d(32, 3, Stride = 2, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise32s2At56 { }

    [Network(32, 28, 28)] [Conv2d(64, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise32To64At28 { }

    [Network(64, 28, 28)] [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise64s2At28 { }

    [Network(64, 14, 14)] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise64To128At14 { }

    [Network(128, 14, 14)] [Conv2d(128, 3, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise128At14 { }

    [Network(128, 14, 14)] [Conv2d(128, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise128To128At14 { }

    [Network(128, 14, 14)] [Conv2d(128, 3, Stride = 2, Padding = 1, Groups = 128, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise128s2At14 { }

    [Network(128, 7, 7)] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise128To256At7 { }

    [Network(256, 7, 7)] [Conv2d(256, 3, Padding = 1, Groups = 256, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Depthwise256At7 { }

    [Network(256, 7, 7)] [Conv2d(256, 1, Bias = false)] [BatchNorm] [ReLU]
    public partial class Mbv1Pointwise256To256At7 { }
}

namespace CnnGen.Benchmarks
{
    public static partial class ZooComparison
    {
        private static readonly (string Name, Func<INetwork> Create)[] Sweep2Probes =
        {
            ("probe g32 3x3 128 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Grouped32At32())),
            ("probe g8 3x3 s2 128 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Grouped8s2At32())),
            ("probe g4 3x3 128 @16 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Grouped4At16())),
            ("probe 1x1 64->128 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Pointwise64To128At32())),
            ("probe 1x3 16->24 @32 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Row1x3At32())),
            ("probe 3x1 24->24 @32 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Column3x1At32())),
            ("probe 1x3 32->48 @16 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Row1x3At16())),
            ("probe 3x1 48->48 @16 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Column3x1At16())),
            ("probe 5x5 8->16 @32 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Conv5x5Small8At32())),
            ("probe avg 3x3 s1 p1 + 1x1 32->16 @32", () => Initialized(new Zoo.Sweep2.Probes.AvgPool3s1At32())),
            ("probe 1x1 32->16 @32 +ReLU", () => Initialized(new Zoo.Sweep2.Probes.Pointwise32To16At32())),
            ("probe dw 5x5 s2 72 @32 +BN+ReLU6", () => Initialized(new Zoo.Sweep2.Probes.Depthwise5x5s2At32())),
            ("probe dw 5x5 120 @16 +BN+hswish", () => Initialized(new Zoo.Sweep2.Probes.Depthwise5x5At16())),
            ("probe 1x1 40->120 @16 +BN+hswish", () => Initialized(new Zoo.Sweep2.Probes.Pointwise40To120Hswish())),
            ("probe 7x7 s2 3->32 @112 +BN+ReLU+max", () => Initialized(new Zoo.Sweep2.Probes.Stem7x7At112())),
            ("probe 3->5->12 @37 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.OddStemAt37())),
            ("probe 3x3 s2 12->20 @37 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Odd20s2At37())),
            ("probe 3x3 3->64 @32 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Stem3x3To64At32())),
            ("probe 1x1 128->64 @32 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise128To64At32())),
            ("probe 1x1 128->128 @16 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise128To128At16())),
            ("probe 1x1 s2 64->128 @32 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise64To128s2At32())),
            ("probe 1x1 pair residual 64 @32", () => Initialized(new Zoo.Sweep2.Probes.PointwisePairResidualAt32())),
            ("probe 3x3 s2 128 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided128At14())),
            ("probe 3x3 s2 256 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided256At14())),
            ("probe 3x3 s2 64 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided64At14())),
            ("probe 3x3 s2 64 @28 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided64At28())),
            ("probe 3x3 s2 128 @28 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided128At28())),
            ("probe 3x3 s2 256 @28 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Strided256At28())),
            ("probe 1x1 s2 256->512 @14 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise256To512s2At14())),
            ("probe 1x1 s2 128->256 @28 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise128To256s2At28())),
            ("probe 1x1 s2 40->72 @38 +BN", () => Initialized(new Zoo.Sweep2.Probes.Pointwise40To72s2At38())),
            ("probe mbv1 stem 3x3 s2 3->16 @112 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Stem3x3s2At112())),
            ("probe mbv1 dw 16 @56 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise16At56())),
            ("probe mbv1 1x1 16->32 @56 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise16To32At56())),
            ("probe mbv1 dw s2 32 @56 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise32s2At56())),
            ("probe mbv1 1x1 32->64 @28 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise32To64At28())),
            ("probe mbv1 dw s2 64 @28 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise64s2At28())),
            ("probe mbv1 1x1 64->128 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise64To128At14())),
            ("probe mbv1 dw 128 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise128At14())),
            ("probe mbv1 1x1 128->128 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise128To128At14())),
            ("probe mbv1 dw s2 128 @14 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise128s2At14())),
            ("probe mbv1 1x1 128->256 @7 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise128To256At7())),
            ("probe mbv1 dw 256 @7 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Depthwise256At7())),
            ("probe mbv1 1x1 256->256 @7 +BN+ReLU", () => Initialized(new Zoo.Sweep2.Probes.Mbv1Pointwise256To256At7())),
        };
    }
}
