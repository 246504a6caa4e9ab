using System;

namespace CnnGen
{
    /// <summary>
    /// Marks a partial class as a network and gives its input shape (one sample, PyTorch's NCHW without N).
    /// The layer attributes that follow, in source order, are the modules of the equivalent
    /// <c>torch.nn.Sequential</c>: layer i is module i.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NetworkAttribute : Attribute
    {
        public NetworkAttribute(int channels, int height, int width)
        {
            Channels = channels;
            Height = height;
            Width = width;
        }

        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }

        /// <summary>
        /// Optional budget: the most multiply-adds one sample may take through the network (the generated
        /// <c>MultiplyAdds</c>). Exceeding it is compile error CNN0028, naming the layers that cost the most. Unset: no budget.
        /// </summary>
        public long MaxMultiplyAdds { get; set; }

        /// <summary>
        /// Optional budget: the most bytes the weights may take (the generated <c>ParameterBytes</c>: float32 parameters and
        /// batch-norm running statistics). Exceeding it is compile error CNN0029. Unset: no budget.
        /// </summary>
        public long MaxParameterBytes { get; set; }

        /// <summary>
        /// Optional budget: the most workspace bytes one sample may need (the generated <c>WorkspaceBytesPerSample</c>: the
        /// execution plan's activation arrays, shared by liveness). Exceeding it is compile error CNN0030. Unset: no budget.
        /// </summary>
        public long MaxWorkspaceBytes { get; set; }
    }

    /// <summary>
    /// A 2-d convolution (cross-correlation, zero padding): PyTorch's <c>torch.nn.Conv2d</c>. Kernel, stride, padding
    /// and dilation are square unless a height or width is given (<c>[Conv2d(16, 1, 3, PaddingWidth = 1)]</c> is
    /// PyTorch's <c>Conv2d(c, 16, (1, 3), padding=(0, 1))</c>); <see cref="Groups"/> splits the channels into groups
    /// (depthwise when it equals the input channels).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2dAttribute : Attribute
    {
        public Conv2dAttribute(int outChannels, int kernelSize)
        {
            OutChannels = outChannels;
            KernelSize = kernelSize;
            KernelWidth = kernelSize;
        }

        /// <summary>A kernel of <paramref name="kernelSize"/> rows and <paramref name="kernelWidth"/> columns.</summary>
        public Conv2dAttribute(int outChannels, int kernelSize, int kernelWidth)
        {
            OutChannels = outChannels;
            KernelSize = kernelSize;
            KernelWidth = kernelWidth;
        }

        public int OutChannels { get; }
        /// <summary>The kernel's height (and width, unless given).</summary>
        public int KernelSize { get; }
        /// <summary>The kernel's width.</summary>
        public int KernelWidth { get; }
        /// <summary>Step between kernel positions along both axes; default 1.</summary>
        public int Stride { get; set; } = 1;
        /// <summary>Step along the height, overriding <see cref="Stride"/>.</summary>
        public int StrideHeight { get; set; }
        /// <summary>Step along the width, overriding <see cref="Stride"/>.</summary>
        public int StrideWidth { get; set; }
        /// <summary>Zeros added on each side; default 0.</summary>
        public int Padding { get; set; }
        /// <summary>Zero rows added above and below, overriding <see cref="Padding"/>.</summary>
        public int PaddingHeight { get; set; } = -1;
        /// <summary>Zero columns added left and right, overriding <see cref="Padding"/>.</summary>
        public int PaddingWidth { get; set; } = -1;
        /// <summary>Spacing between kernel taps; default 1.</summary>
        public int Dilation { get; set; } = 1;
        /// <summary>Spacing between taps along the height, overriding <see cref="Dilation"/>.</summary>
        public int DilationHeight { get; set; }
        /// <summary>Spacing between taps along the width, overriding <see cref="Dilation"/>.</summary>
        public int DilationWidth { get; set; }
        /// <summary>Channel groups; must divide the input and output channels; default 1.</summary>
        public int Groups { get; set; } = 1;
        /// <summary>Whether the layer has a bias; default true.</summary>
        public bool Bias { get; set; } = true;
    }

    /// <summary>
    /// A transposed convolution: PyTorch's <c>torch.nn.ConvTranspose2d</c> (one group, no dilation). Output size per
    /// axis: <c>(in - 1) * stride - 2 * padding + kernel + outputPadding</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConvTranspose2dAttribute : Attribute
    {
        public ConvTranspose2dAttribute(int outChannels, int kernelSize)
        {
            OutChannels = outChannels;
            KernelSize = kernelSize;
            KernelWidth = kernelSize;
        }

        public ConvTranspose2dAttribute(int outChannels, int kernelSize, int kernelWidth)
        {
            OutChannels = outChannels;
            KernelSize = kernelSize;
            KernelWidth = kernelWidth;
        }

        public int OutChannels { get; }
        public int KernelSize { get; }
        public int KernelWidth { get; }
        /// <summary>Default 1.</summary>
        public int Stride { get; set; } = 1;
        public int StrideHeight { get; set; }
        public int StrideWidth { get; set; }
        /// <summary>Cells removed from each side of the full output; default 0.</summary>
        public int Padding { get; set; }
        public int PaddingHeight { get; set; } = -1;
        public int PaddingWidth { get; set; } = -1;
        /// <summary>Cells added at the end of each axis, smaller than the stride; default 0.</summary>
        public int OutputPadding { get; set; }
        public int OutputPaddingHeight { get; set; } = -1;
        public int OutputPaddingWidth { get; set; } = -1;
        /// <summary>Whether the layer has a bias; default true.</summary>
        public bool Bias { get; set; } = true;
    }

    /// <summary>Max pooling (pads with negative infinity): PyTorch's <c>torch.nn.MaxPool2d</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class MaxPoolAttribute : Attribute
    {
        public MaxPoolAttribute(int kernelSize) => KernelSize = kernelSize;

        public int KernelSize { get; }
        /// <summary>Step between windows; when not set, the kernel size (PyTorch's default).</summary>
        public int Stride { get; set; }
        /// <summary>Padding on each side, at most half the kernel; default 0.</summary>
        public int Padding { get; set; }
    }

    /// <summary>
    /// Average pooling, counting padded cells in the divisor: PyTorch's <c>torch.nn.AvgPool2d</c>
    /// with <c>count_include_pad=True</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AvgPoolAttribute : Attribute
    {
        public AvgPoolAttribute(int kernelSize) => KernelSize = kernelSize;

        public int KernelSize { get; }
        /// <summary>Step between windows; when not set, the kernel size (PyTorch's default).</summary>
        public int Stride { get; set; }
        /// <summary>Zero padding on each side, at most half the kernel; default 0.</summary>
        public int Padding { get; set; }
    }

    /// <summary>
    /// Batch normalization: PyTorch's <c>torch.nn.BatchNorm2d</c> after a spatial layer and
    /// <c>torch.nn.BatchNorm1d</c> after <c>Linear</c> or <c>Flatten</c>. Training uses the batch's
    /// statistics (biased variance) and updates the running ones (unbiased variance); evaluation uses
    /// the running statistics.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BatchNormAttribute : Attribute
    {
        /// <summary>Added to the variance for stability; default 1e-5.</summary>
        public double Eps { get; set; } = 1e-5;
        /// <summary>Weight of the new batch in the running statistics; default 0.1.</summary>
        public double Momentum { get; set; } = 0.1;
    }

    /// <summary><c>max(0, x)</c>: PyTorch's <c>torch.nn.ReLU</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLUAttribute : Attribute { }

    /// <summary><c>x</c> for positive x, else <c>negativeSlope * x</c>: PyTorch's <c>torch.nn.LeakyReLU</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LeakyReLUAttribute : Attribute
    {
        public LeakyReLUAttribute(double negativeSlope = 0.01) => NegativeSlope = negativeSlope;

        public double NegativeSlope { get; }
    }

    /// <summary><c>1 / (1 + exp(-x))</c>: PyTorch's <c>torch.nn.Sigmoid</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SigmoidAttribute : Attribute { }

    /// <summary>Hyperbolic tangent: PyTorch's <c>torch.nn.Tanh</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class TanhAttribute : Attribute { }

    /// <summary>CxHxW to a vector of C*H*W (channel-major, as PyTorch): <c>torch.nn.Flatten</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class FlattenAttribute : Attribute { }

    /// <summary>A fully connected layer <c>y = W x + b</c>: PyTorch's <c>torch.nn.Linear</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class LinearAttribute : Attribute
    {
        public LinearAttribute(int outFeatures) => OutFeatures = outFeatures;

        public int OutFeatures { get; }
        /// <summary>Whether the layer has a bias; default true.</summary>
        public bool Bias { get; set; } = true;
    }

    /// <summary>
    /// In training, zeroes each element with probability <c>p</c> and scales the rest by <c>1/(1-p)</c>;
    /// the identity in evaluation: PyTorch's <c>torch.nn.Dropout</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class DropoutAttribute : Attribute
    {
        public DropoutAttribute(double p = 0.5) => P = p;

        public double P { get; }
    }

    /// <summary>Softmax over the channels (features) of each sample: PyTorch's <c>torch.nn.Softmax(dim=1)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SoftmaxAttribute : Attribute { }

    /// <summary>The mean over each channel's whole plane: PyTorch's <c>torch.nn.AdaptiveAvgPool2d(1)</c>; CxHxW to Cx1x1.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GlobalAvgPoolAttribute : Attribute { }

    /// <summary>
    /// Average pooling to a fixed output size: PyTorch's <c>torch.nn.AdaptiveAvgPool2d((outputHeight, outputWidth))</c>
    /// (window i spans rows floor(i*H/oh) to ceil((i+1)*H/oh)).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class AdaptiveAvgPoolAttribute : Attribute
    {
        public AdaptiveAvgPoolAttribute(int outputHeight, int outputWidth)
        {
            OutputHeight = outputHeight;
            OutputWidth = outputWidth;
        }

        public int OutputHeight { get; }
        public int OutputWidth { get; }
    }

    /// <summary>How <see cref="UpsampleAttribute"/> interpolates.</summary>
    public enum UpsampleMode
    {
        /// <summary>PyTorch <c>mode='nearest'</c>.</summary>
        Nearest,
        /// <summary>PyTorch <c>mode='bilinear', align_corners=False</c>.</summary>
        Bilinear,
    }

    /// <summary>Upsampling by an integer factor: PyTorch's <c>torch.nn.Upsample(scale_factor=s, mode=...)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class UpsampleAttribute : Attribute
    {
        public UpsampleAttribute(int scaleFactor) => ScaleFactor = scaleFactor;

        public int ScaleFactor { get; }
        /// <summary>Default <see cref="UpsampleMode.Nearest"/>.</summary>
        public UpsampleMode Mode { get; set; }
    }

    /// <summary><c>min(max(0, x), 6)</c>: PyTorch's <c>torch.nn.ReLU6</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ReLU6Attribute : Attribute { }

    /// <summary><c>x * ReLU6(x + 3) / 6</c>: PyTorch's <c>torch.nn.Hardswish</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class HardswishAttribute : Attribute { }

    /// <summary><c>x * sigmoid(x)</c>: PyTorch's <c>torch.nn.SiLU</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class SiLUAttribute : Attribute { }

    /// <summary>Which form of GELU <see cref="GELUAttribute"/> computes.</summary>
    public enum GeluApproximation
    {
        /// <summary><c>x * Φ(x)</c> with the exact normal CDF (erf): PyTorch's <c>approximate='none'</c>.</summary>
        None,
        /// <summary>The tanh form: PyTorch's <c>approximate='tanh'</c>.</summary>
        Tanh,
    }

    /// <summary>Gaussian error linear unit: PyTorch's <c>torch.nn.GELU(approximate=...)</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class GELUAttribute : Attribute
    {
        /// <summary>Default <see cref="GeluApproximation.None"/> (erf).</summary>
        public GeluApproximation Approximate { get; set; }
    }

    /// <summary>
    /// Opens a residual block: <c>y = body(x) + shortcut(x)</c>. The layers up to <see cref="ShortcutAttribute"/> (or
    /// <see cref="EndAttribute"/>) are the body; those between <c>[Shortcut]</c> and <c>[End]</c> the shortcut (the identity
    /// when there is none). PyTorch keys: <c>{i}.body.{j}.*</c>, <c>{i}.shortcut.{j}.*</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ResidualAttribute : Attribute { }

    /// <summary>Starts the shortcut of the open <see cref="ResidualAttribute"/> (for example a 1x1 projection with the body's stride).</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ShortcutAttribute : Attribute { }

    /// <summary>
    /// Opens a concatenation: every <see cref="BranchAttribute"/> that follows, up to <see cref="EndAttribute"/>, is applied to
    /// the block's input and the results are concatenated over channels. A branch with no layers is the identity (a U-Net
    /// skip). PyTorch keys: <c>{i}.branches.{k}.{j}.*</c>.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class ConcatAttribute : Attribute { }

    /// <summary>Starts the next branch of the open <see cref="ConcatAttribute"/>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class BranchAttribute : Attribute { }

    /// <summary>Closes the innermost open <see cref="ResidualAttribute"/> or <see cref="ConcatAttribute"/>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class EndAttribute : Attribute { }
}
