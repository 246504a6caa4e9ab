using System;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The geometry of a PyTorch <c>ConvTranspose2d</c> (groups 1, dilation 1) for one sample: per-axis kernel, stride,
    /// padding and output padding. The constructor checks it completely.
    /// </summary>
    /// <remarks>
    /// Output size per axis: <c>(in − 1)·stride − 2·padding + kernel + outputPadding</c>. The weight is PyTorch's
    /// <c>[inChannels, outChannels, kernelHeight, kernelWidth]</c>. As in PyTorch, the output padding must be smaller than
    /// the stride; it adds rows and columns at the bottom and right that no input reaches (they hold the bias).
    /// </remarks>
    public readonly struct TransposedConvolutionGeometry
    {
        /// <summary>Checks and stores a transposed convolution's geometry.</summary>
        /// <exception cref="ArgumentOutOfRangeException">
        /// A size, kernel or stride is not positive, a padding is negative, an output padding is not smaller than its
        /// stride, or the output would be empty.
        /// </exception>
        public TransposedConvolutionGeometry(int inChannels, int inHeight, int inWidth, int outChannels,
            int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            int paddingHeight, int paddingWidth, int outputPaddingHeight, int outputPaddingWidth)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inWidth);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelWidth);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strideHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strideWidth);
            ArgumentOutOfRangeException.ThrowIfNegative(paddingHeight);
            ArgumentOutOfRangeException.ThrowIfNegative(paddingWidth);
            ArgumentOutOfRangeException.ThrowIfNegative(outputPaddingHeight);
            ArgumentOutOfRangeException.ThrowIfNegative(outputPaddingWidth);
            if (outputPaddingHeight >= strideHeight)
                throw new ArgumentOutOfRangeException(nameof(outputPaddingHeight), outputPaddingHeight, $"The output padding must be smaller than the stride ({strideHeight}).");
            if (outputPaddingWidth >= strideWidth)
                throw new ArgumentOutOfRangeException(nameof(outputPaddingWidth), outputPaddingWidth, $"The output padding must be smaller than the stride ({strideWidth}).");
            long outHeight = (inHeight - 1L) * strideHeight - 2L * paddingHeight + kernelHeight + outputPaddingHeight;
            long outWidth = (inWidth - 1L) * strideWidth - 2L * paddingWidth + kernelWidth + outputPaddingWidth;
            if (outHeight <= 0)
                throw new ArgumentOutOfRangeException(nameof(paddingHeight), paddingHeight, $"The padding leaves no output rows ({outHeight}).");
            if (outWidth <= 0)
                throw new ArgumentOutOfRangeException(nameof(paddingWidth), paddingWidth, $"The padding leaves no output columns ({outWidth}).");
            long inLength = (long)inChannels * inHeight * inWidth, outLength = outChannels * outHeight * outWidth;
            long weightLength = (long)inChannels * outChannels * kernelHeight * kernelWidth;
            long columns = (long)outChannels * kernelHeight * kernelWidth * inHeight * inWidth;
            if (inLength > int.MaxValue || outLength > int.MaxValue || weightLength > int.MaxValue || columns > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "The tensors of this transposed convolution do not fit in a span.");
            InChannels = inChannels; InHeight = inHeight; InWidth = inWidth; OutChannels = outChannels;
            KernelHeight = kernelHeight; KernelWidth = kernelWidth; StrideHeight = strideHeight; StrideWidth = strideWidth;
            PaddingHeight = paddingHeight; PaddingWidth = paddingWidth;
            OutputPaddingHeight = outputPaddingHeight; OutputPaddingWidth = outputPaddingWidth;
            OutHeight = (int)outHeight; OutWidth = (int)outWidth;
            InLength = (int)inLength; OutLength = (int)outLength; WeightLength = (int)weightLength;
        }

        /// <summary>Input channels.</summary>
        public int InChannels { get; }
        /// <summary>Input rows.</summary>
        public int InHeight { get; }
        /// <summary>Input columns.</summary>
        public int InWidth { get; }
        /// <summary>Output channels.</summary>
        public int OutChannels { get; }
        /// <summary>Kernel rows.</summary>
        public int KernelHeight { get; }
        /// <summary>Kernel columns.</summary>
        public int KernelWidth { get; }
        /// <summary>Vertical stride (the spacing of the input rows in the output).</summary>
        public int StrideHeight { get; }
        /// <summary>Horizontal stride.</summary>
        public int StrideWidth { get; }
        /// <summary>Rows cropped from the top and bottom of the full output.</summary>
        public int PaddingHeight { get; }
        /// <summary>Columns cropped from the left and right of the full output.</summary>
        public int PaddingWidth { get; }
        /// <summary>Rows added at the bottom.</summary>
        public int OutputPaddingHeight { get; }
        /// <summary>Columns added at the right.</summary>
        public int OutputPaddingWidth { get; }
        /// <summary>Output rows: <c>(H − 1)·s − 2p + k + outputPadding</c>.</summary>
        public int OutHeight { get; }
        /// <summary>Output columns: <c>(W − 1)·s − 2p + k + outputPadding</c>.</summary>
        public int OutWidth { get; }
        /// <summary>Floats of one input sample.</summary>
        public int InLength { get; }
        /// <summary>Floats of one output sample.</summary>
        public int OutLength { get; }
        /// <summary>Floats of the weight: inChannels · outChannels · kernelHeight · kernelWidth.</summary>
        public int WeightLength { get; }

        /// <inheritdoc/>
        public override string ToString() =>
            $"{InChannels}x{InHeight}x{InWidth} -> {OutChannels}x{OutHeight}x{OutWidth} (k={KernelHeight}x{KernelWidth}, s={StrideHeight}x{StrideWidth}, " +
            $"p={PaddingHeight}x{PaddingWidth}, output padding={OutputPaddingHeight}x{OutputPaddingWidth})";
    }
}
