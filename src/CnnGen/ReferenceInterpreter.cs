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
    /// the output of layer i).
    /// </remarks>
    public sealed class ReferenceInterpreter
    {
        public ReferenceInterpreter(NetworkLayout layout)
        {
            if (layout.HasErrors) throw new ArgumentException("The layout has shape errors: " + layout.Issues[0].Message, nameof(layout));
            Layout = layout;
            Activations = new double[layout.Layers.Count + 1][];
        }

        public NetworkLayout Layout { get; }

        /// <summary>Index 0: the input; index i + 1: the output of layer i; from the last forward pass.</summary>
        public double[][] Activations { get; }

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
            _dropoutMasks.Clear();
            _batchStats.Clear();
            var x = new double[input.Length];
            for (int i = 0; i < x.Length; i++) x[i] = input[i];
            Activations[0] = x;

            foreach (var layer in Layout.Layers)
            {
                var p = parameters.Slice(layer.ParameterOffset, layer.ParameterCount);
                x = layer.Kind switch
                {
                    LayerKind.Conv2d => Conv2d(layer, x, p),
                    LayerKind.MaxPool => Pool(layer, x, max: true),
                    LayerKind.AvgPool => Pool(layer, x, max: false),
                    LayerKind.BatchNorm => BatchNorm(layer, x, p, buffers.Slice(layer.BufferOffset, layer.BufferCount), counters, training),
                    LayerKind.ReLU => Map(x, v => Math.Max(v, 0)),
                    LayerKind.LeakyReLU => Map(x, v => v > 0 ? v : v * (double)(float)layer.Spec.Slope),
                    LayerKind.Sigmoid => Map(x, v => 1 / (1 + Math.Exp(-v))),
                    LayerKind.Tanh => Map(x, Math.Tanh),
                    LayerKind.Flatten => (double[])x.Clone(),
                    LayerKind.Linear => Linear(layer, x, p),
                    LayerKind.Dropout => training ? Dropout(layer, x, ref dropoutRandom) : (double[])x.Clone(),
                    LayerKind.Softmax => Softmax(layer, x),
                    _ => throw new NotSupportedException(layer.Kind.ToString()),
                };
                Activations[layer.Index + 1] = x;
            }
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

        private static double[] Map(double[] x, Func<double, double> f)
        {
            var y = new double[x.Length];
            for (int i = 0; i < x.Length; i++) y[i] = f(x[i]);
            return y;
        }

        private double[] Conv2d(LayerLayout layer, double[] x, ReadOnlySpan<float> p)
        {
            var (inShape, outShape, s) = (layer.Input, layer.Output, layer.Spec);
            int weightLength = outShape.Channels * inShape.Channels * s.Kernel * s.Kernel;
            var y = new double[N * outShape.Length];
            for (int n = 0; n < N; n++)
            for (int oc = 0; oc < outShape.Channels; oc++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double sum = s.Bias ? p[weightLength + oc] : 0;
                for (int ic = 0; ic < inShape.Channels; ic++)
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue; // zero padding
                    sum += x[Index(inShape, n, ic, iy, ix)] * p[((oc * inShape.Channels + ic) * s.Kernel + ky) * s.Kernel + kx];
                }
                y[Index(outShape, n, oc, oy, ox)] = sum;
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
            if (training)
            {
                counters[layer.CounterIndex]++;
                _batchStats[layer.Index] = (means, invStds);
            }
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
        /// gradient of every parameter (laid out like the parameter block) and of the input. The last forward must have been
        /// in training mode: batch-norm is differentiated through its batch statistics and dropout through its mask.
        /// </summary>
        public (double[] ParameterGradients, double[] InputGradient) Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<double> outputGradient)
        {
            if (!Training || Activations[0] is null) throw new InvalidOperationException("Backward needs a training-mode Forward first.");
            NetworkChecks.RequireLength(parameters.Length, Layout.ParameterCount, nameof(parameters));
            NetworkChecks.RequireLength(outputGradient.Length, N * Layout.Output.Length, nameof(outputGradient));
            var parameterGradients = new double[Layout.ParameterCount];
            var dy = outputGradient.ToArray();
            for (int i = Layout.Layers.Count - 1; i >= 0; i--)
            {
                var layer = Layout.Layers[i];
                var x = Activations[i];
                var y = Activations[i + 1];
                var p = parameters.Slice(layer.ParameterOffset, layer.ParameterCount);
                var dp = new Span<double>(parameterGradients, layer.ParameterOffset, layer.ParameterCount);
                dy = layer.Kind switch
                {
                    LayerKind.Conv2d => Conv2dBackward(layer, x, dy, p, dp),
                    LayerKind.MaxPool => MaxPoolBackward(layer, x, dy),
                    LayerKind.AvgPool => AvgPoolBackward(layer, dy),
                    LayerKind.BatchNorm => BatchNormBackward(layer, x, dy, p, dp),
                    LayerKind.ReLU => Zip(x, dy, (v, g) => v > 0 ? g : 0),
                    LayerKind.LeakyReLU => Zip(x, dy, (v, g) => v > 0 ? g : g * (double)(float)layer.Spec.Slope),
                    LayerKind.Sigmoid => Zip(y, dy, (s, g) => g * s * (1 - s)),
                    LayerKind.Tanh => Zip(y, dy, (t, g) => g * (1 - t * t)),
                    LayerKind.Flatten => (double[])dy.Clone(),
                    LayerKind.Linear => LinearBackward(layer, x, dy, p, dp),
                    LayerKind.Dropout => Zip(_dropoutMasks[layer.Index], dy, (m, g) => m * g),
                    LayerKind.Softmax => SoftmaxBackward(layer, y, dy),
                    _ => throw new NotSupportedException(layer.Kind.ToString()),
                };
            }
            Training = false; // one backward per forward, as the generated code
            return (parameterGradients, dy);
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
            int weightLength = outShape.Channels * inShape.Channels * s.Kernel * s.Kernel;
            var dx = new double[x.Length];
            for (int n = 0; n < N; n++)
            for (int oc = 0; oc < outShape.Channels; oc++)
            for (int oy = 0; oy < outShape.Height; oy++)
            for (int ox = 0; ox < outShape.Width; ox++)
            {
                double g = dy[Index(outShape, n, oc, oy, ox)];
                if (s.Bias) dp[weightLength + oc] += g;
                for (int ic = 0; ic < inShape.Channels; ic++)
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                    if (iy < 0 || iy >= inShape.Height || ix < 0 || ix >= inShape.Width) continue;
                    int w = ((oc * inShape.Channels + ic) * s.Kernel + ky) * s.Kernel + kx;
                    int at = Index(inShape, n, ic, iy, ix);
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
                for (int n = 0; n < N; n++)
                for (int i = 0; i < plane; i++)
                {
                    int at = (n * channels + c) * plane + i;
                    double xhat = (x[at] - means[c]) * invStds[c];
                    dx[at] = p[c] * invStds[c] * (dy[at] - sumDy / count - xhat * sumDyXhat / count);
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
