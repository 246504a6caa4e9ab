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
    }

    /// <summary>A 2-d convolution (cross-correlation, zero padding): PyTorch's <c>torch.nn.Conv2d</c>.</summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
    public sealed class Conv2dAttribute : Attribute
    {
        public Conv2dAttribute(int outChannels, int kernelSize)
        {
            OutChannels = outChannels;
            KernelSize = kernelSize;
        }

        public int OutChannels { get; }
        /// <summary>The square kernel's side.</summary>
        public int KernelSize { get; }
        /// <summary>Step between kernel positions; default 1.</summary>
        public int Stride { get; set; } = 1;
        /// <summary>Zeros added on each side; default 0.</summary>
        public int Padding { get; set; }
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
}
