using CnnGen;

// The networks of tests/fixtures/make_fixtures.py, declared as users declare them. Layer i is module i of the
// script's nn.Sequential; the fixture files hold PyTorch's weights, inputs, outputs and gradients for each.
namespace CnnGen.Tests.Fixtures
{
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

    /// <summary>The classic LeNet-5 of the course notes: 32x32 input, tanh, average pooling (fixture lenet5_classic).</summary>
    [Network(1, 32, 32)]
    [Conv2d(6, 5)]
    [Tanh]
    [AvgPool(2)]
    [Conv2d(16, 5)]
    [Tanh]
    [AvgPool(2)]
    [Flatten]
    [Linear(120)]
    [Tanh]
    [Linear(84)]
    [Tanh]
    [Linear(10)]
    public partial class ClassicLeNet5 { }

    [Network(3, 17, 17)]
    [Conv2d(8, 3, Stride = 2, Padding = 1)]
    [Tanh]
    [Conv2d(4, 3, Stride = 2, Bias = false)]
    [Sigmoid]
    [Flatten]
    [Linear(5)]
    public partial class Strided { }

    [Network(2, 12, 12)]
    [Conv2d(4, 3, Padding = 1)]
    [MaxPool(2, Padding = 1)]
    [Conv2d(6, 3, Padding = 1)]
    [AvgPool(3, Stride = 2, Padding = 1)]
    [Flatten]
    [Linear(3)]
    public partial class PaddedPools { }

    // AvgPool(3, Stride = 2) on 6x6 drops the last row and column (CNN0015): deliberate, to test PyTorch's floor division.
#pragma warning disable CNN0015
    [Network(3, 15, 15)]
    [Conv2d(8, 3)]
    [ReLU]
    [MaxPool(3, Stride = 2)]
    [Conv2d(8, 1)]
    [LeakyReLU(0.1)]
    [AvgPool(3, Stride = 2)]
    [Flatten]
    [Linear(4)]
    public partial class OverlappingPool { }
#pragma warning restore CNN0015

    /// <summary>
    /// 1xk and kx1 layers from 16 channels, which the runtime runs by a one-dimensional Winograd on AVX-512 (F(4, 3), F(4, 5),
    /// F(4, 7)), batch-norm folded into two of them in evaluation, the last fusing nothing (tests/fixtures/pytorch/line_winograd).
    /// </summary>
    [Network(16, 12, 12)]
    [Conv2d(32, 1, 3, PaddingWidth = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(32, 5, 1, PaddingHeight = 2)] [ReLU6]
    [Conv2d(16, 1, 7, PaddingWidth = 3)] [BatchNorm] [ReLU]
    [Conv2d(16, 7, 1, PaddingHeight = 3, Bias = false)]
    [AdaptiveAvgPool(2, 2)] [Flatten] [Linear(5)]
    public partial class LineWinograd { }

    /// <summary>
    /// 3x3 and 5x5 layers from few channels on 32x32 maps, which evaluation runs by a one-dimensional Winograd along the rows
    /// on AVX-512 (DirectConvolution.ForwardByRows): an RGB 3x3 stem with a batch-norm folded in, a 5x5 layer from 4
    /// channels with ReLU and pooling (tests/fixtures/pytorch/row_winograd).
    /// </summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
    [Conv2d(4, 1)] [ReLU]
    [Conv2d(16, 5, Padding = 2)] [ReLU] [MaxPool(2)]
    [GlobalAvgPool] [Flatten] [Linear(5)]
    public partial class RowWinograd { }

    [Network(1, 20, 12)]
    [Conv2d(4, 3)]
    [MaxPool(2)]
    [Conv2d(5, 3, Stride = 2, Padding = 1)]
    [LeakyReLU]
    [Flatten]
    [Linear(7)]
    [Softmax]
    public partial class NonSquare { }

    [Network(3, 10, 10)]
    [Conv2d(6, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(8, 3)]
    [BatchNorm(Eps = 1e-3, Momentum = 0.2)]
    [Tanh]
    [Flatten]
    [Linear(16)]
    [BatchNorm]
    [Sigmoid]
    [Linear(4)]
    public partial class BatchNormNet { }

    // 3x3 layers wide enough for the Winograd kernels on Vector512, without batch-norm: evaluation transforms the
    // parameters themselves (not folded weights) once per change of the weights, and the second layer's pooling is fused.
    [Network(16, 32, 32)]
    [Conv2d(16, 3, Padding = 1)]
    [ReLU]
    [Conv2d(16, 3, Padding = 1)]
    [MaxPool(2)]
    [Flatten]
    [Linear(4)]
    public partial class WinogradNet { }

    // 5x5 layers wide enough for F(2x2, 5x5) on Vector512 (the second with its pooling fused); their input gradients run direct.
    [Network(16, 16, 16)]
    [Conv2d(32, 5, Padding = 2)]
    [ReLU]
    [Conv2d(32, 5, Padding = 2)]
    [MaxPool(2)]
    [Flatten]
    [Linear(4)]
    public partial class Winograd5Net { }

    [Network(2, 8, 8)]
    [Conv2d(3, 3, Padding = 1)]
    [Sigmoid]
    [Conv2d(3, 3, Padding = 1)]
    [Tanh]
    [Conv2d(3, 1)]
    [LeakyReLU(0.2)]
    [Flatten]
    [Dropout(0.3)]
    [Linear(10)]
    [ReLU]
    [Linear(3)]
    [Softmax]
    public partial class Activations { }

    [Network(1, 6, 6)]
    [MaxPool(2, Stride = 1)]
    [Conv2d(2, 2)]
    [ReLU]
    [MaxPool(2)]
    [Flatten]
    [Linear(2)]
    public partial class MaxPoolTies { }
}

namespace CnnGen.Tests.Fixtures
{
    // Graph networks: the DESIGN.md Residual and Concat modules in tests/fixtures/make_fixtures.py.

    /// <summary>A ResNet-8-style CIFAR network: identity and projection shortcuts, global average pooling.</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Residual]
        [Conv2d(16, 3, Padding = 1, Bias = false)]
        [BatchNorm]
        [ReLU]
        [Conv2d(16, 3, Padding = 1, Bias = false)]
        [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(32, 3, Stride = 2, Padding = 1, Bias = false)]
        [BatchNorm]
        [ReLU]
        [Conv2d(32, 3, Padding = 1, Bias = false)]
        [BatchNorm]
    [Shortcut]
        [Conv2d(32, 1, Stride = 2, Bias = false)]
        [BatchNorm]
    [End]
    [ReLU]
    [Residual]
        [Conv2d(64, 3, Stride = 2, Padding = 1, Bias = false)]
        [BatchNorm]
        [ReLU]
        [Conv2d(64, 3, Padding = 1, Bias = false)]
        [BatchNorm]
    [Shortcut]
        [Conv2d(64, 1, Stride = 2, Bias = false)]
        [BatchNorm]
    [End]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(10)]
    public partial class ResNet8 { }

    /// <summary>A MobileNetV2-style network: inverted residuals, depthwise and dilated convolutions, ReLU6, Hardswish, GELU.</summary>
    [Network(3, 32, 32)]
    [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU6]
    [Residual]
        [Conv2d(64, 1, Bias = false)]
        [BatchNorm]
        [ReLU6]
        [Conv2d(64, 3, Padding = 1, Groups = 64, Bias = false)]
        [BatchNorm]
        [ReLU6]
        [Conv2d(16, 1, Bias = false)]
        [BatchNorm]
    [End]
    [Conv2d(64, 1, Bias = false)]
    [BatchNorm]
    [ReLU6]
    [Conv2d(64, 3, Stride = 2, Padding = 1, Groups = 64, Bias = false)]
    [BatchNorm]
    [ReLU6]
    [Conv2d(24, 1, Bias = false)]
    [BatchNorm]
    [Residual]
        [Conv2d(96, 1, Bias = false)]
        [BatchNorm]
        [ReLU6]
        [Conv2d(96, 3, Padding = 2, Dilation = 2, Groups = 96, Bias = false)]
        [BatchNorm]
        [ReLU6]
        [Conv2d(24, 1, Bias = false)]
        [BatchNorm]
    [End]
    [Conv2d(64, 1, Groups = 4, Bias = false)]
    [BatchNorm]
    [Hardswish]
    [GlobalAvgPool]
    [Flatten]
    [Linear(32)]
    [GELU(Approximate = GeluApproximation.Tanh)]
    [Linear(10)]
    public partial class MobileNetV2 { }

    /// <summary>
    /// Wide layers past a budget of weights: the first 3x3 layers run a chunk of samples at a time, the 256-channel layer on
    /// 4x4 (590 k weights) and what follows layer by layer over the batch (EvaluationChunking.WeightBytes).
    /// </summary>
    [Network(3, 8, 8)]
    [Conv2d(16, 3, Padding = 1)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(256, 3, Padding = 1, Bias = false)]
    [BatchNorm]
    [ReLU]
    [Conv2d(256, 3, Padding = 1)]
    [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(5)]
    public partial class WideTailNet { }

    /// <summary>
    /// A concatenation of a Linear branch and a flattened skip from before it: two values cross the first Linear, so
    /// evaluation cannot take the layers before it a chunk at a time (EvaluationChunk is 0).
    /// </summary>
    [Network(2, 6, 6)]
    [Conv2d(4, 3, Padding = 1)]
    [Concat]
    [Branch]
        [ReLU]
        [Flatten]
        [Linear(8)]
    [Branch]
        [Flatten]
    [End]
    [Linear(3)]
    public partial class SkipPastLinearNet { }

    /// <summary>An Inception-style block: four branches (1x1; 1x1, 1x3, 3x1; pool, 1x1; identity) concatenated.</summary>
    [Network(3, 12, 12)]
    [Conv2d(16, 3, Padding = 1)]
    [ReLU]
    [Concat]
    [Branch]
        [Conv2d(8, 1)]
        [ReLU]
    [Branch]
        [Conv2d(8, 1)]
        [ReLU]
        [Conv2d(8, 1, 3, PaddingWidth = 1)]
        [ReLU]
        [Conv2d(8, 3, 1, PaddingHeight = 1)]
        [ReLU]
    [Branch]
        [MaxPool(3, Stride = 1, Padding = 1)]
        [Conv2d(8, 1)]
        [ReLU]
    [Branch]
    [End]
    [BatchNorm]
    [AdaptiveAvgPool(2, 2)]
    [Flatten]
    [Linear(10)]
    public partial class Inception { }

    /// <summary>A U-Net-style network: two levels of concatenated skips, a transposed convolution, bilinear upsampling, per-pixel logits.</summary>
    [Network(1, 16, 16)]
    [Conv2d(8, 3, Padding = 1)]
    [BatchNorm]
    [ReLU]
    [Concat]
    [Branch]
    [Branch]
        [MaxPool(2)]
        [Conv2d(16, 3, Padding = 1)]
        [BatchNorm]
        [ReLU]
        [Concat]
        [Branch]
        [Branch]
            [MaxPool(2)]
            [Conv2d(32, 3, Padding = 1)]
            [ReLU]
            [ConvTranspose2d(16, 2, Stride = 2)]
        [End]
        [Conv2d(16, 3, Padding = 1)]
        [ReLU]
        [Upsample(2, Mode = UpsampleMode.Bilinear)]
    [End]
    [Conv2d(8, 3, Padding = 1)]
    [ReLU]
    [Conv2d(4, 1)]
    public partial class UNet { }

    /// <summary>Every remaining option: rectangular, strided and dilated kernels per axis, GELU (erf), transposed convolution with output padding, SiLU, nearest upsampling, Hardswish, adaptive pooling, ReLU6, groups.</summary>
    [Network(2, 9, 7)]
    [Conv2d(6, 3, 2, StrideHeight = 2, PaddingWidth = 1, DilationHeight = 2)]
    [GELU]
    [ConvTranspose2d(4, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    [SiLU]
    [Upsample(2)]
    [Hardswish]
    [AdaptiveAvgPool(5, 3)]
    [ReLU6]
    [Conv2d(8, 3, Padding = 1, Groups = 2)]
    [GELU(Approximate = GeluApproximation.Tanh)]
    [Flatten]
    [Linear(5)]
    public partial class Vocabulary { }
}
