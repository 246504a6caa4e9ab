using System;
using CnnGen.Shapes;

namespace CnnGen
{
    /// <summary>
    /// The oracle: every layer evaluated generically from the layout, in double precision, written to be
    /// obviously right rather than fast. Tests compare the generated code against it.
    /// </summary>
    /// <remarks>
    /// Tensors are flat arrays in NCHW order (vectors are N x features). After <see cref="Forward"/> the
    /// activations of every layer are kept in <see cref="Activations"/> (index 0 is the input, index i + 1
    /// the output of layer i, layers numbered depth-first as in <see cref="NetworkLayout.Layers"/>). Residual and
    /// concatenation blocks are evaluated from the tree (<see cref="NetworkLayout.Root"/>): a residual adds its body's
    /// and shortcut's outputs, a concatenation stacks its branches' outputs over channels, body before shortcut and
    /// branches in order.
    /// </remarks>
    public sealed class ReferenceInterpreter
    {
        public ReferenceInterpreter(NetworkLayout layout)
        {
            if (layout.HasErrors) throw new ArgumentException("The layout has shape errors: " + layout.Issues[0].Message, nameof(layout));
            Layout = layout;
            Activations = new double[layout.Layers.Count + 1][];
            _layerInputs = new double[layout.Layers.Count][];
        }

        // Each layer's input in the last forward pass (a block's layers see the block's input, not the previous layer's output).
        private readonly double[][] _layerInputs;

        public NetworkLayout Layout { get; }

        /// <summary>Index 0: the input; index i + 1: the output of layer i; from the last forward pass.</summary>
        public double[][] Activations { get; }

        // Whether the last forward's activations were used by a backward pass already.
        private bool _consumed = true;

        /// <summary>The batch size of the last forward pass.</summary>
        public int BatchSize { get; private set; }

        /// <summary>Whether the last forward pass was in training mode.</summary>
        public bool Training { get; private set; }

        // What training mode needs to remember for the backward pass.
        private readonly System.Collections.Generic.Dictionary<int, double[]> _dropoutMasks = new();
        private readonly System.Collections.Generic.Dictionary<int, (double[] Mean, double[] InvStd)> _batchStats = new();

        /// <summary>
        /// Runs a batch through the network. In training mode batch-norm uses batch statistics and updates
        /// <paramref name="buffers"/> and <paramref name="counters"/>; dropout draws from <paramref name="dropoutRandom"/>
        /// layer by layer, sample by sample, element by element (the order the generated code uses).
        /// </summary>
        public double[] Forward(ReadOnlySpan<float> parameters, Span<float> buffers, Span<long> counters,
            ReadOnlySpan<float> input, int batchSize, bool training, ref CnnRandom dropoutRandom)
        {
            NetworkChecks.RequireBlocks(Layout, parameters.Length, buffers.Length, counters.Length);
            if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize));
            NetworkChecks.RequireLength(input.Length, batchSize * Layout.Input.Length, nameof(input));

            BatchSize = batchSize;
            Training = training;
            _consumed = false;
            _dropoutMasks.Clear();
            _batchStats.Clear();
            var x = new double[input.Length];
            for (int i = 0; i < x.Length; i++) x[i] = input[i];
            Activations[0] = x;

            x = ForwardSequence(Layout.Root, x, parameters, buffers, counters, training, ref dropoutRandom);
            return x;
        }

        /// <summary>Forward pass returning floats; convenience for comparisons.</summary>
        public float[] ForwardFloat(ReadOnlySpan<float> parameters, Span<float> buffers, Span<long> counters,
            ReadOnlySpan<float> input, int batchSize, bool training, ref CnnRandom dropoutRandom)
        {
            var y = Forward(parameters, buffers, counters, input, batchSize, training, ref dropoutRandom);
            return Array.ConvertAll(y, v => (float)v);
        }

        private int N => BatchSize;

        private double[] ForwardSequence(SequenceLayout sequence, double[] x, ReadOnlySpan<float> parameters, Span<float> buffers, Span<long> counters,
            bool training, ref CnnRandom dropoutRandom)
        {
            foreach (var node in sequence.Nodes)
            {
                switch (node)
                {
                    case LayerLayout layer:
                        _layerInputs[layer.Index] = x;
                        x = ForwardLayer(layer, x, parameters, buffers, counters, training, ref dropoutRandom);
                        Activations[layer.Index + 1] = x;
                        break;
                    case ResidualLayout residual:
                    {
                        var body = ForwardSequence(residual.Body, x, parameters, buffers, counters, training, ref dropoutRandom);
                        var shortcut = ForwardSequence(residual.Shortcut, x, parameters, buffers, counters, training, ref dropoutRandom);
                        var sum = new double[body.Length];
                        for (int i = 0; i < sum.Length; i++) sum[i] = body[i] + shortcut[i];
                        x = sum;
                        break;
                    }
                    case ConcatLayout concat:
                    {
                        var outputs = new double[concat.Branches.Count][];
                        for (int k = 0; k < outputs.Length; k++)
                            outputs[k] = ForwardSequence(concat.Branches[k], x, parameters, buffers, counters, training, ref dropoutRandom);
                        var y = new double[N * concat.Output.Length];
                        for (int n = 0; n < N; n++)
                        {
                            int offset = n * concat.Output.Length;
                            for (int k = 0; k < outputs.Length; k++)
                            {
                                int length = concat.Branches[k].Output.Length;
                                Array.Copy(outputs[k], n * length, y, offset, length);
                                offset += length;
                            }
                        }
                        x = y;
                        break;
                    }
                }
            }
            return x;
        }

        private double[] ForwardLayer(LayerLayout layer, double[] x, ReadOnlySpan<float> parameters, Span<float> buffers, Span<long> counters,
            bool training, ref CnnRandom dropoutRandom)
        {
            var p = parameters.Slice(layer.ParameterOffset, layer.ParameterCount);
            switch (layer.Kind)
            {
                case LayerKind.Conv2d: return Conv2d(layer, x, p);
                case LayerKind.ConvTranspose2d: return ConvTranspose2d(layer, x, p);
                case LayerKind.MaxPool: return Pool(layer, x, max: true);
                case LayerKind.AvgPool: return Pool(layer, x, max: false);
                case LayerKind.GlobalAvgPool:
                case LayerKind.AdaptiveAvgPool: return AdaptiveAvgPool(layer, x);
                case LayerKind.Upsample: return Upsample(layer, x);
                case LayerKind.BatchNorm: return BatchNorm(layer, x, p, buffers.Slice(layer.BufferOffset, layer.BufferCount), counters, training);
                case LayerKind.ReLU: return Map(x, v => Math.Max(v, 0));
                case LayerKind.LeakyReLU: { double slope = (float)layer.Spec.Slope; return Map(x, v => v > 0 ? v : v * slope); }
                case LayerKind.Sigmoid: return Map(x, v => 1 / (1 + Math.Exp(-v)));
                case LayerKind.Tanh: return Map(x, Math.Tanh);
                case LayerKind.ReLU6: return Map(x, v => Math.Min(Math.Max(v, 0), 6));
                case LayerKind.Hardswish: return Map(x, v => v * Math.Min(Math.Max(v + 3, 0), 6) / 6);
                case LayerKind.SiLU: return Map(x, v => v / (1 + Math.Exp(-v)));
                case LayerKind.GELU: return layer.Spec.TanhApproximation ? Map(x, GeluTanh) : Map(x, v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))));
                case LayerKind.Flatten: return (double[])x.Clone();
                case LayerKind.Linear: return Linear(layer, x, p);
                case LayerKind.Dropout: return training ? Dropout(layer, x, ref dropoutRandom) : (double[])x.Clone();
                case LayerKind.Softmax: return Softmax(layer, x);
                case LayerKind.Residual:
                case LayerKind.Shortcut:
                case LayerKind.Concat:
                case LayerKind.Branch:
                case LayerKind.End:
                    throw new InvalidOperationException("A block marker is not a layer: " + layer.Kind);
            }
            throw new NotSupportedException("The reference interpreter has no case for " + layer.Kind);
        }

        private const double GeluTanhScale = 0.7978845608028654; // sqrt(2 / pi)

        private static double GeluTanh(double v) => 0.5 * v * (1 + Math.Tanh(GeluTanhScale * (v + 0.044715 * v * v * v)));

        private static double GeluTanhDerivative(double v)
        {
            double inner = GeluTanhScale * (v + 0.044715 * v * v * v);
            double t = Math.Tanh(inner);
            return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GeluTanhScale * (1 + 3 * 0.044715 * v * v);
        }

        /// <summary>The error function to about 1e-15: its Taylor series near 0, a continued fraction for erfc beyond 2.5.</summary>
        internal static double Erf(double x)
        {
            if (double.IsNaN(x)) return x;
            double a = Math.Abs(x);
            double result;
            if (a < 2.5)
            {
                double term = a, sum = a, square = a * a;
                for (int n = 1; n < 100 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
                {
                    term *= -square / n;
                    sum += term / (2 * n + 1);
                }
                result = 2 / Math.Sqrt(Math.PI) * sum;
            }
            else
            {
                // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))), evaluated with Lentz's method.
                double tiny = 1e-300, f = a, c = a, d = 0;
                for (int n = 1; n < 200; n++)
                {
                    double an = n / 2.0;
                    d = a + an * d;
                    d = Math.Abs(d) < tiny ? tiny : d;
                    c = a + an / c;
                    c = Math.Abs(c) < tiny ? tiny : c;
                    d = 1 / d;
                    double delta = c * d;
                    f *= delta;
                    if (Math.Abs(delta - 1) < 1e-16) break;
                }
                result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
            }
            return x < 0 ? -result : result;
        }

        private static double[] Map(double[] x, Func<double, double> f)
        {
            var y = new double[x.Length];
            for (int i = 0; i < x.Length; i++) y[i] = f(x[i]);
            return y;
        }

        private double[] Conv2d(LayerLayout layer, double[] x, ReadOnlySpan<float> p)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            int groupIn = inShape.Channels / s.Groups, groupOut = outShape.Channels / s.Groups;
            int weightLength = outShape.Channels * groupIn * s.Kernel * s.KernelWidth;
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            for (int oc = 0; oc < outShape.Channels; oc++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double sum = s.Bias ? p[weightLength + oc] : 0;
                int firstIn = oc / groupOut * groupIn; // the input channels of this output channel's group
                for (int g = 0; g < groupIn; g++)
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.KernelWidth; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky * s.Dilation, ix = ox * s.StrideWidth - s.PaddingWidth + kx * s.DilationWidth;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue; // zero padding
                    sum += x[Index(inShape, n, firstIn + g, iy, ix)] * p[((oc * groupIn + g) * s.Kernel + ky) * s.KernelWidth + kx];
                }
                y[Index(outShape, n, oc, oy, ox)] = sum;
            }
            return y;
        }

        // The transposed convolution scatters each input cell times the kernel: y[oc, iy*s - p + ky, ix*s - p + kx] += x[ic, iy, ix] w[ic, oc, ky, kx].
        private double[] ConvTranspose2d(LayerLayout layer, double[] x, ReadOnlySpan<float> p)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            int weightLength = inShape.Channels * outShape.Channels * s.Kernel * s.KernelWidth;
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            {
                for (int oc = 0; oc < outShape.Channels; oc++)
                for (int i = 0; i < outShape.Height * outShape.Width; i++)
                    y[(n * outShape.Channels + oc) * outShape.Height * outShape.Width + i] = s.Bias ? p[weightLength + oc] : 0;
                for (int ic = 0; ic < inShape.Channels; ic++)
                for (int iy = 0; iy < inShape.Height; iy++)
                for (int ix = 0; ix < inShape.Width; ix++)
                {
                    double v = x[Index(inShape, n, ic, iy, ix)];
                    for (int oc = 0; oc < outShape.Channels; oc++)
                    for (int ky = 0; ky < s.Kernel; ky++)
                    for (int kx = 0; kx < s.KernelWidth; kx++)
                    {
                        int oy = iy * s.Stride - s.Padding + ky, ox = ix * s.StrideWidth - s.PaddingWidth + kx;
                        if (oy < 0 || oy >= outShape.Height || ox < 0 || ox >= outShape.Width) continue;
                        y[Index(outShape, n, oc, oy, ox)] += v * p[((ic * outShape.Channels + oc) * s.Kernel + ky) * s.KernelWidth + kx];
                    }
                }
            }
            return y;
        }

        /// <summary>PyTorch's adaptive window along one axis: [floor(i*in/out), ceil((i+1)*in/out)).</summary>
        internal static (int Start, int End) AdaptiveWindow(int i, int inSize, int outSize) =>
            ((int)((long)i * inSize / outSize), (int)(((long)(i + 1) * inSize + outSize - 1) / outSize));

        private double[] AdaptiveAvgPool(LayerLayout layer, double[] x)
        {
            var (inShape, outShape) = (layer.Input, layer.Output);
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                var (y0, y1) = AdaptiveWindow(oy, inShape.Height, outShape.Height);
                var (x0, x1) = AdaptiveWindow(ox, inShape.Width, outShape.Width);
                double sum = 0;
                for (int iy = y0; iy < y1; iy++) for (int ix = x0; ix < x1; ix++) sum += x[Index(inShape, n, c, iy, ix)];
                y[Index(outShape, n, c, oy, ox)] = sum / ((y1 - y0) * (x1 - x0));
            }
            return y;
        }

        /// <summary>
        /// Bilinear source position along one axis, PyTorch's align_corners=False rule with the user's scale: (o + 0.5) / s - 0.5,
        /// clamped at 0; the two neighbours (the second clamped at the edge) and the weight of the second.
        /// </summary>
        internal static (int Low, int High, double Weight) BilinearSource(int o, int scale, int inSize)
        {
            double source = Math.Max((o + 0.5) / scale - 0.5, 0);
            int low = Math.Min((int)source, inSize - 1);
            int high = Math.Min(low + 1, inSize - 1);
            return (low, high, source - low);
        }

        private double[] Upsample(LayerLayout layer, double[] x)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double v;
                if (s.Mode == InterpolationMode.Nearest)
                {
                    v = x[Index(inShape, n, c, oy / s.Scale, ox / s.Scale)];
                }
                else
                {
                    var (y0, y1, wy) = BilinearSource(oy, s.Scale, inShape.Height);
                    var (x0, x1, wx) = BilinearSource(ox, s.Scale, inShape.Width);
                    v = (1 - wy) * ((1 - wx) * x[Index(inShape, n, c, y0, x0)] + wx * x[Index(inShape, n, c, y0, x1)])
                        + wy * ((1 - wx) * x[Index(inShape, n, c, y1, x0)] + wx * x[Index(inShape, n, c, y1, x1)]);
                }
                y[Index(outShape, n, c, oy, ox)] = v;
            }
            return y;
        }

        private double[] Pool(LayerLayout layer, double[] x, bool max)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double acc = max ? double.NegativeInfinity : 0; // max pooling pads with -inf, average pooling with 0
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                    double v = x[Index(inShape, n, c, iy, ix)];
                    acc = max ? (v > acc || double.IsNaN(v) ? v : acc) : acc + v;
                }
                // count_include_pad=True: the divisor is the whole window, padded cells included.
                y[Index(outShape, n, c, oy, ox)] = max ? acc : acc / (s.Kernel * s.Kernel);
            }
            return y;
        }

        private double[] BatchNorm(LayerLayout layer, double[] x, ReadOnlySpan<float> p, Span<float> buffers, Span<long> counters, bool training)
        {
            var shape = layer.Input;
            int channels = shape.Channels, plane = shape.Height * shape.Width, count = N * plane;
            var y = new double[x.Length];
            var means = new double[channels];
            var invStds = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                double mean, variance;
                if (training)
                {
                    NetworkChecks.RequireBatchStatistics(count, layer.Index);
                    double sum = 0;
                    for (int n = 0; n < N; n++) for (int i = 0; i < plane; i++) sum += x[(n * channels + c) * plane + i];
                    mean = sum / count;
                    double squares = 0;
                    for (int n = 0; n < N; n++) for (int i = 0; i < plane; i++) { double d = x[(n * channels + c) * plane + i] - mean; squares += d * d; }
                    variance = squares / count; // biased, for normalizing
                    double m = (float)layer.Spec.Momentum;
                    buffers[c] = (float)((1 - m) * buffers[c] + m * mean);
                    buffers[channels + c] = (float)((1 - m) * buffers[channels + c] + m * squares / (count - 1)); // unbiased, for the running estimate
                }
                else
                {
                    mean = buffers[c];
                    variance = buffers[channels + c];
                }
                double invStd = 1 / Math.Sqrt(variance + (float)layer.Spec.Eps);
                means[c] = mean;
                invStds[c] = invStd;
                for (int n = 0; n < N; n++)
                for (int i = 0; i < plane; i++)
                {
                    int at = (n * channels + c) * plane + i;
                    y[at] = (x[at] - mean) * invStd * p[c] + p[channels + c];
                }
            }
            if (training) counters[layer.CounterIndex]++;
            // Backward reads the statistics the forward used: the batch's in training, the running ones in evaluation.
            _batchStats[layer.Index] = (means, invStds);
            return y;
        }

        private double[] Linear(LayerLayout layer, double[] x, ReadOnlySpan<float> p)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length;
            var y = new double[N * outFeatures];
            for (int n = 0; n < N; n++)
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = layer.Spec.Bias ? p[outFeatures * inFeatures + o] : 0;
                for (int i = 0; i < inFeatures; i++) sum += p[o * inFeatures + i] * x[n * inFeatures + i];
                y[n * outFeatures + o] = sum;
            }
            return y;
        }

        private double[] Dropout(LayerLayout layer, double[] x, ref CnnRandom random)
        {
            float p = (float)layer.Spec.P;
            double scale = 1.0f / (1 - p);
            var mask = new double[x.Length];
            var y = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                mask[i] = random.NextFloat() < p ? 0 : scale;
                y[i] = x[i] * mask[i];
            }
            _dropoutMasks[layer.Index] = mask;
            return y;
        }

        private double[] Softmax(LayerLayout layer, double[] x)
        {
            var shape = layer.Input;
            int plane = shape.Height * shape.Width;
            var y = new double[x.Length];
            for (int n = 0; n < N; n++)
            for (int i = 0; i < plane; i++)
            {
                double max = double.NegativeInfinity;
                for (int c = 0; c < shape.Channels; c++) max = Math.Max(max, x[(n * shape.Channels + c) * plane + i]);
                double sum = 0;
                for (int c = 0; c < shape.Channels; c++) sum += Math.Exp(x[(n * shape.Channels + c) * plane + i] - max);
                for (int c = 0; c < shape.Channels; c++)
                {
                    int at = (n * shape.Channels + c) * plane + i;
                    y[at] = Math.Exp(x[at] - max) / sum;
                }
            }
            return y;
        }

        /// <summary>
        /// Backpropagates <paramref name="outputGradient"/> (d loss / d output for the batch of the last forward) and returns the
        /// gradient of every parameter (laid out like the parameter block) and of the input. After a training forward batch-norm
        /// is differentiated through its batch statistics and dropout through its mask; after an evaluation forward through
        /// the fixed running statistics, dropout being the identity.
        /// </summary>
        public (double[] ParameterGradients, double[] InputGradient) Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<double> outputGradient)
        {
            if (_consumed || Activations[0] is null) throw new InvalidOperationException("Backward needs a Forward first (one backward per forward).");
            NetworkChecks.RequireLength(parameters.Length, Layout.ParameterCount, nameof(parameters));
            NetworkChecks.RequireLength(outputGradient.Length, N * Layout.Output.Length, nameof(outputGradient));
            var parameterGradients = new double[Layout.ParameterCount];
            var dy = BackwardSequence(Layout.Root, outputGradient.ToArray(), parameters, parameterGradients);
            _consumed = true; // one backward per forward, as the generated code
            return (parameterGradients, dy);
        }

        private double[] BackwardSequence(SequenceLayout sequence, double[] dy, ReadOnlySpan<float> parameters, double[] parameterGradients)
        {
            for (int i = sequence.Nodes.Count - 1; i >= 0; i--)
            {
                switch (sequence.Nodes[i])
                {
                    case LayerLayout layer:
                        dy = BackwardLayer(layer, dy, parameters, parameterGradients);
                        break;
                    case ResidualLayout residual:
                    {
                        // The sum's gradient flows unchanged into both terms; the input gathers both.
                        var body = BackwardSequence(residual.Body, dy, parameters, parameterGradients);
                        var shortcut = BackwardSequence(residual.Shortcut, dy, parameters, parameterGradients);
                        var dx = new double[body.Length];
                        for (int j = 0; j < dx.Length; j++) dx[j] = body[j] + shortcut[j];
                        dy = dx;
                        break;
                    }
                    case ConcatLayout concat:
                    {
                        double[]? dx = null;
                        int offset = 0;
                        for (int k = 0; k < concat.Branches.Count; k++)
                        {
                            var branch = concat.Branches[k];
                            int length = branch.Output.Length;
                            var slice = new double[N * length];
                            for (int n = 0; n < N; n++) Array.Copy(dy, n * concat.Output.Length + offset, slice, n * length, length);
                            offset += length;
                            var branchDx = BackwardSequence(branch, slice, parameters, parameterGradients);
                            if (dx is null) dx = branchDx;
                            else for (int j = 0; j < dx.Length; j++) dx[j] += branchDx[j];
                        }
                        dy = dx!;
                        break;
                    }
                }
            }
            return dy;
        }

        private double[] BackwardLayer(LayerLayout layer, double[] dy, ReadOnlySpan<float> parameters, double[] parameterGradients)
        {
            var x = _layerInputs[layer.Index];
            var y = Activations[layer.Index + 1];
            var p = parameters.Slice(layer.ParameterOffset, layer.ParameterCount);
            var dp = new Span<double>(parameterGradients, layer.ParameterOffset, layer.ParameterCount);
            switch (layer.Kind)
            {
                case LayerKind.Conv2d: return Conv2dBackward(layer, x, dy, p, dp);
                case LayerKind.ConvTranspose2d: return ConvTranspose2dBackward(layer, x, dy, p, dp);
                case LayerKind.MaxPool: return MaxPoolBackward(layer, x, dy);
                case LayerKind.AvgPool: return AvgPoolBackward(layer, dy);
                case LayerKind.GlobalAvgPool:
                case LayerKind.AdaptiveAvgPool: return AdaptiveAvgPoolBackward(layer, dy);
                case LayerKind.Upsample: return UpsampleBackward(layer, dy);
                case LayerKind.BatchNorm: return BatchNormBackward(layer, x, dy, p, dp);
                case LayerKind.ReLU: return Zip(x, dy, (v, g) => v > 0 ? g : 0);
                case LayerKind.LeakyReLU: { double slope = (float)layer.Spec.Slope; return Zip(x, dy, (v, g) => v > 0 ? g : g * slope); }
                case LayerKind.Sigmoid: return Zip(y, dy, (s, g) => g * s * (1 - s));
                case LayerKind.Tanh: return Zip(y, dy, (t, g) => g * (1 - t * t));
                // PyTorch's hardtanh backward: the gradient passes only strictly inside (0, 6).
                case LayerKind.ReLU6: return Zip(x, dy, (v, g) => v > 0 && v < 6 ? g : 0);
                // PyTorch 1.13's hardswish backward (its vectorized loop): 0 below -3, the gradient from 3 on, (2x + 3) / 6 between.
                case LayerKind.Hardswish: return Zip(x, dy, (v, g) => v < -3 ? 0 : v < 3 ? g * (2 * v + 3) / 6 : g);
                case LayerKind.SiLU: return Zip(x, dy, (v, g) => { double s = 1 / (1 + Math.Exp(-v)); return g * s * (1 + v * (1 - s)); });
                case LayerKind.GELU:
                    return layer.Spec.TanhApproximation
                        ? Zip(x, dy, (v, g) => g * GeluTanhDerivative(v))
                        : Zip(x, dy, (v, g) => g * (0.5 * (1 + Erf(v / Math.Sqrt(2))) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI)));
                case LayerKind.Flatten: return (double[])dy.Clone();
                case LayerKind.Linear: return LinearBackward(layer, x, dy, p, dp);
                case LayerKind.Dropout: return Training ? Zip(_dropoutMasks[layer.Index], dy, (m, g) => m * g) : (double[])dy.Clone();
                case LayerKind.Softmax: return SoftmaxBackward(layer, y, dy);
                case LayerKind.Residual:
                case LayerKind.Shortcut:
                case LayerKind.Concat:
                case LayerKind.Branch:
                case LayerKind.End:
                    throw new InvalidOperationException("A block marker is not a layer: " + layer.Kind);
            }
            throw new NotSupportedException("The reference interpreter has no backward case for " + layer.Kind);
        }

        private double[] ConvTranspose2dBackward(LayerLayout layer, double[] x, double[] dy, ReadOnlySpan<float> p, Span<double> dp)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            int weightLength = inShape.Channels * outShape.Channels * s.Kernel * s.KernelWidth;
            var dx = new double[x.Length];
            for (int n = 0; n < N; n++)
            {
                if (s.Bias)
                    for (int oc = 0; oc < outShape.Channels; oc++)
                    for (int i = 0; i < outShape.Height * outShape.Width; i++)
                        dp[weightLength + oc] += dy[(n * outShape.Channels + oc) * outShape.Height * outShape.Width + i];
                for (int ic = 0; ic < inShape.Channels; ic++)
                for (int iy = 0; iy < inShape.Height; iy++)
                for (int ix = 0; ix < inShape.Width; ix++)
                {
                    int at = Index(inShape, n, ic, iy, ix);
                    double sum = 0;
                    for (int oc = 0; oc < outShape.Channels; oc++)
                    for (int ky = 0; ky < s.Kernel; ky++)
                    for (int kx = 0; kx < s.KernelWidth; kx++)
                    {
                        int oy = iy * s.Stride - s.Padding + ky, ox = ix * s.StrideWidth - s.PaddingWidth + kx;
                        if (oy < 0 || oy >= outShape.Height || ox < 0 || ox >= outShape.Width) continue;
                        int w = ((ic * outShape.Channels + oc) * s.Kernel + ky) * s.KernelWidth + kx;
                        double g = dy[Index(outShape, n, oc, oy, ox)];
                        dp[w] += g * x[at];
                        sum += g * p[w];
                    }
                    dx[at] = sum;
                }
            }
            return dx;
        }

        private double[] AdaptiveAvgPoolBackward(LayerLayout layer, double[] dy)
        {
            var (inShape, outShape) = (layer.Input, layer.Output);
            var dx = new double[N * inShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                var (y0, y1) = AdaptiveWindow(oy, inShape.Height, outShape.Height);
                var (x0, x1) = AdaptiveWindow(ox, inShape.Width, outShape.Width);
                double g = dy[Index(outShape, n, c, oy, ox)] / ((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++) for (int ix = x0; ix < x1; ix++) dx[Index(inShape, n, c, iy, ix)] += g;
            }
            return dx;
        }

        private double[] UpsampleBackward(LayerLayout layer, double[] dy)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            var dx = new double[N * inShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double g = dy[Index(outShape, n, c, oy, ox)];
                if (s.Mode == InterpolationMode.Nearest)
                {
                    dx[Index(inShape, n, c, oy / s.Scale, ox / s.Scale)] += g;
                    continue;
                }
                var (y0, y1, wy) = BilinearSource(oy, s.Scale, inShape.Height);
                var (x0, x1, wx) = BilinearSource(ox, s.Scale, inShape.Width);
                dx[Index(inShape, n, c, y0, x0)] += g * (1 - wy) * (1 - wx);
                dx[Index(inShape, n, c, y0, x1)] += g * (1 - wy) * wx;
                dx[Index(inShape, n, c, y1, x0)] += g * wy * (1 - wx);
                dx[Index(inShape, n, c, y1, x1)] += g * wy * wx;
            }
            return dx;
        }

                private static double[] Zip(double[] a, double[] b, Func<double, double, double> f)
        {
            var result = new double[a.Length];
            for (int i = 0; i < a.Length; i++) result[i] = f(a[i], b[i]);
            return result;
        }

        private double[] Conv2dBackward(LayerLayout layer, double[] x, double[] dy, ReadOnlySpan<float> p, Span<double> dp)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            int groupIn = inShape.Channels / s.Groups, groupOut = outShape.Channels / s.Groups;
            int weightLength = outShape.Channels * groupIn * s.Kernel * s.KernelWidth;
            var dx = new double[x.Length];
            for (int n = 0; n < N; n++)
            for (int oc = 0; oc < outShape.Channels; oc++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double g = dy[Index(outShape, n, oc, oy, ox)];
                if (s.Bias) dp[weightLength + oc] += g;
                int firstIn = oc / groupOut * groupIn;
                for (int gi = 0; gi < groupIn; gi++)
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.KernelWidth; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky * s.Dilation, ix = ox * s.StrideWidth - s.PaddingWidth + kx * s.DilationWidth;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                    int w = ((oc * groupIn + gi) * s.Kernel + ky) * s.KernelWidth + kx;
                    int at = Index(inShape, n, firstIn + gi, iy, ix);
                    dp[w] += g * x[at];
                    dx[at] += g * p[w];
                }
            }
            return dx;
        }

        private double[] MaxPoolBackward(LayerLayout layer, double[] x, double[] dy)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            var dx = new double[x.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                // The forward's winner: the first maximum in scan order (PyTorch's rule).
                int winner = -1;
                double best = double.NegativeInfinity;
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                    int at = Index(inShape, n, c, iy, ix);
                    if (winner < 0 || x[at] > best || double.IsNaN(x[at])) { best = x[at]; winner = at; }
                }
                dx[winner] += dy[Index(outShape, n, c, oy, ox)];
            }
            return dx;
        }

        private double[] AvgPoolBackward(LayerLayout layer, double[] dy)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            var dx = new double[N * inShape.Length];
            for (int n = 0; n < N; n++)
            for (int c = 0; c < outShape.Channels; c++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double g = dy[Index(outShape, n, c, oy, ox)] / (s.Kernel * s.Kernel); // padded cells take their share too
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                    dx[Index(inShape, n, c, iy, ix)] += g;
                }
            }
            return dx;
        }

        private double[] BatchNormBackward(LayerLayout layer, double[] x, double[] dy, ReadOnlySpan<float> p, Span<double> dp)
        {
            var shape = layer.Input;
            int channels = shape.Channels, plane = shape.Height * shape.Width, count = N * plane;
            var (means, invStds) = _batchStats[layer.Index];
            var dx = new double[x.Length];
            for (int c = 0; c < channels; c++)
            {
                double sumDy = 0, sumDyXhat = 0;
                for (int n = 0; n < N; n++)
                for (int i = 0; i < plane; i++)
                {
                    int at = (n * channels + c) * plane + i;
                    sumDy += dy[at];
                    sumDyXhat += dy[at] * (x[at] - means[c]) * invStds[c];
                }
                dp[c] += sumDyXhat;
                dp[channels + c] += sumDy;
                // In evaluation the statistics are fixed (running): they do not depend on x.
                double meanDy = Training ? sumDy / count : 0, meanDyXhat = Training ? sumDyXhat / count : 0;
                for (int n = 0; n < N; n++)
                for (int i = 0; i < plane; i++)
                {
                    int at = (n * channels + c) * plane + i;
                    double xhat = (x[at] - means[c]) * invStds[c];
                    dx[at] = p[c] * invStds[c] * (dy[at] - meanDy - xhat * meanDyXhat);
                }
            }
            return dx;
        }

        private double[] LinearBackward(LayerLayout layer, double[] x, double[] dy, ReadOnlySpan<float> p, Span<double> dp)
        {
            int inFeatures = layer.Input.Length, outFeatures = layer.Output.Length;
            var dx = new double[x.Length];
            for (int n = 0; n < N; n++)
            for (int o = 0; o < outFeatures; o++)
            {
                double g = dy[n * outFeatures + o];
                if (layer.Spec.Bias) dp[outFeatures * inFeatures + o] += g;
                for (int i = 0; i < inFeatures; i++)
                {
                    dp[o * inFeatures + i] += g * x[n * inFeatures + i];
                    dx[n * inFeatures + i] += g * p[o * inFeatures + i];
                }
            }
            return dx;
        }

        private double[] SoftmaxBackward(LayerLayout layer, double[] y, double[] dy)
        {
            var shape = layer.Input;
            int plane = shape.Height * shape.Width;
            var dx = new double[y.Length];
            for (int n = 0; n < N; n++)
            for (int i = 0; i < plane; i++)
            {
                double dot = 0;
                for (int c = 0; c < shape.Channels; c++) { int at = (n * shape.Channels + c) * plane + i; dot += dy[at] * y[at]; }
                for (int c = 0; c < shape.Channels; c++) { int at = (n * shape.Channels + c) * plane + i; dx[at] = y[at] * (dy[at] - dot); }
            }
            return dx;
        }

        private static int Index(TensorShape shape, int n, int c, int y, int x) =>
            ((n * shape.Channels + c) * shape.Height + y) * shape.Width + x;
    }
}
