using System;

namespace CnnGen.Kernels
{
    /// <summary>
    /// The geometry of a PyTorch <c>Conv2d</c> for one sample: per-axis kernel, stride, padding and dilation, and groups.
    /// The constructor checks it completely, so a geometry that exists is one the kernels can run.
    /// </summary>
    /// <remarks>
    /// Output size per axis is PyTorch's floor formula <c>(H + 2p − d·(k − 1) − 1) / s + 1</c>. The weight is PyTorch's
    /// <c>[outChannels, inChannels / groups, kernelHeight, kernelWidth]</c>.
    /// </remarks>
    public readonly struct ConvolutionGeometry
    {
        /// <summary>Checks and stores a convolution's geometry.</summary>
        /// <exception cref="ArgumentOutOfRangeException">
        /// A size, kernel, stride, dilation or group count is not positive, a padding is negative, the channels are not
        /// multiples of the groups, or the (dilated) kernel is larger than the padded input.
        /// </exception>
        public ConvolutionGeometry(int inChannels, int inHeight, int inWidth, int outChannels,
            int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
            int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth, int groups)
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
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dilationHeight);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dilationWidth);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
            if (inChannels % groups != 0)
                throw new ArgumentOutOfRangeException(nameof(groups), groups, $"The {inChannels} input channels are not a multiple of the {groups} groups.");
            if (outChannels % groups != 0)
                throw new ArgumentOutOfRangeException(nameof(groups), groups, $"The {outChannels} output channels are not a multiple of the {groups} groups.");
            long spanHeight = (long)dilationHeight * (kernelHeight - 1) + 1, spanWidth = (long)dilationWidth * (kernelWidth - 1) + 1;
            if (spanHeight > inHeight + 2L * paddingHeight)
                throw new ArgumentOutOfRangeException(nameof(kernelHeight), kernelHeight,
                    $"The dilated kernel ({spanHeight} rows) is taller than the padded input ({inHeight + 2L * paddingHeight} rows).");
            if (spanWidth > inWidth + 2L * paddingWidth)
                throw new ArgumentOutOfRangeException(nameof(kernelWidth), kernelWidth,
                    $"The dilated kernel ({spanWidth} columns) is wider than the padded input ({inWidth + 2L * paddingWidth} columns).");
            InChannels = inChannels; InHeight = inHeight; InWidth = inWidth; OutChannels = outChannels;
            KernelHeight = kernelHeight; KernelWidth = kernelWidth; StrideHeight = strideHeight; StrideWidth = strideWidth;
            PaddingHeight = paddingHeight; PaddingWidth = paddingWidth; DilationHeight = dilationHeight; DilationWidth = dilationWidth;
            Groups = groups;
            OutHeight = (int)((inHeight + 2L * paddingHeight - spanHeight) / strideHeight + 1);
            OutWidth = (int)((inWidth + 2L * paddingWidth - spanWidth) / strideWidth + 1);
            long inLength = (long)inChannels * inHeight * inWidth, outLength = (long)outChannels * OutHeight * OutWidth;
            long weightLength = (long)outChannels * (inChannels / groups) * kernelHeight * kernelWidth;
            if (inLength > int.MaxValue || outLength > int.MaxValue || weightLength > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "The tensors of this convolution do not fit in a span.");
            InLength = (int)inLength; OutLength = (int)outLength; WeightLength = (int)weightLength;
        }

        /// <summary>Input channels (C).</summary>
        public int InChannels { get; }
        /// <summary>Input rows (H).</summary>
        public int InHeight { get; }
        /// <summary>Input columns (W).</summary>
        public int InWidth { get; }
        /// <summary>Output channels.</summary>
        public int OutChannels { get; }
        /// <summary>Kernel rows.</summary>
        public int KernelHeight { get; }
        /// <summary>Kernel columns.</summary>
        public int KernelWidth { get; }
        /// <summary>Vertical stride.</summary>
        public int StrideHeight { get; }
        /// <summary>Horizontal stride.</summary>
        public int StrideWidth { get; }
        /// <summary>Zero rows added above and below.</summary>
        public int PaddingHeight { get; }
        /// <summary>Zero columns added left and right.</summary>
        public int PaddingWidth { get; }
        /// <summary>Vertical spacing of the kernel taps.</summary>
        public int DilationHeight { get; }
        /// <summary>Horizontal spacing of the kernel taps.</summary>
        public int DilationWidth { get; }
        /// <summary>Groups: each output channel sees <c>InChannels / Groups</c> input channels of its group.</summary>
        public int Groups { get; }
        /// <summary>Output rows: <c>(H + 2p − d·(k − 1) − 1) / s + 1</c>.</summary>
        public int OutHeight { get; }
        /// <summary>Output columns: <c>(W + 2p − d·(k − 1) − 1) / s + 1</c>.</summary>
        public int OutWidth { get; }
        /// <summary>Floats of one input sample: C·H·W.</summary>
        public int InLength { get; }
        /// <summary>Floats of one output sample: outChannels·OutHeight·OutWidth.</summary>
        public int OutLength { get; }
        /// <summary>Floats of the weight: outChannels · (inChannels / groups) · kernelHeight · kernelWidth.</summary>
        public int WeightLength { get; }

        /// <summary>Input channels per group.</summary>
        public int GroupInChannels => InChannels / Groups;
        /// <summary>Output channels per group.</summary>
        public int GroupOutChannels => OutChannels / Groups;

        /// <inheritdoc/>
        public override string ToString() =>
            $"{InChannels}x{InHeight}x{InWidth} -> {OutChannels}x{OutHeight}x{OutWidth} (k={KernelHeight}x{KernelWidth}, s={StrideHeight}x{StrideWidth}, " +
            $"p={PaddingHeight}x{PaddingWidth}, d={DilationHeight}x{DilationWidth}, groups={Groups})";
    }
}
