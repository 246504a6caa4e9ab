using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Shapes;

namespace CnnGen.Tests.Infrastructure
{
    /// <summary>
    /// Seeded random graph networks that shape inference accepts: residual blocks (identity and projection shortcuts),
    /// concatenations (identity branches included), blocks nested in blocks, grouped, depthwise, dilated and rectangular
    /// convolutions, transposed convolutions, upsampling, adaptive pooling, every activation, non-square inputs, and
    /// outputs that are vectors or feature maps. Each block is built shape-correct; the whole is checked by inference.
    /// </summary>
    public static class RandomGraphs
    {
        public static RandomNetwork Create(int seed)
        {
            var random = new Random(seed * 7919 + 17);
            for (int attempt = 0; ; attempt++)
            {
                var network = TryCreate(random, "Graph" + seed.ToString(CultureInfo.InvariantCulture));
                if (network is not null) return network;
            }
        }

        private static RandomNetwork? TryCreate(Random random, string name)
        {
            var input = TensorShape.Spatial(random.Next(1, 5), random.Next(4, 11), random.Next(4, 11));
            var specs = new List<LayerSpec>();
            var shape = input;
            int items = random.Next(1, 4);
            for (int i = 0; i < items; i++) shape = Item(random, specs, shape, depth: 0);

            switch (random.Next(3))
            {
                case 0: // a vector output through flattening
                    specs.Add(LayerSpec.Flatten());
                    if (random.Next(2) == 0) specs.Add(LayerSpec.Linear(random.Next(2, 9)));
                    specs.Add(LayerSpec.Linear(random.Next(1, 6)));
                    break;
                case 1: // a vector output through global pooling
                    specs.Add(LayerSpec.GlobalAvgPool());
                    specs.Add(LayerSpec.Flatten());
                    specs.Add(LayerSpec.Linear(random.Next(1, 6)));
                    break;
                default: // a feature map: per-pixel outputs
                    specs.Add(LayerSpec.Conv2d(random.Next(1, 4), 1));
                    break;
            }

            var layout = ShapeInference.Infer(input, specs);
            if (layout.HasErrors || layout.Layers.Count > 40) return null;
            foreach (var layer in layout.Layers) if (layer.Output.Length > 3000) return null;
            return new RandomNetwork(name, input, specs.ToArray());
        }

        /// <summary>Appends one layer or block to <paramref name="specs"/> and returns the shape after it.</summary>
        private static TensorShape Item(Random random, List<LayerSpec> specs, TensorShape shape, int depth)
        {
            int choice = random.Next(depth >= 2 ? 5 : 8);
            switch (choice)
            {
                case 5:
                case 6:
                    return Residual(random, specs, shape, depth);
                case 7:
                    return Concat(random, specs, shape, depth);
                default:
                    return Layer(random, specs, shape, keepSize: false);
            }
        }

        /// <summary>One random layer; with <paramref name="keepSize"/> it keeps height and width.</summary>
        private static TensorShape Layer(Random random, List<LayerSpec> specs, TensorShape shape, bool keepSize)
        {
            int c = shape.Channels;
            switch (random.Next(keepSize ? 6 : 9))
            {
                case 0:
                case 1:
                {
                    // A size-keeping convolution: odd kernels per axis, padding d*(k-1)/2, maybe grouped or depthwise.
                    int kh = 1 + 2 * random.Next(2), kw = random.Next(3) == 0 ? 1 + 2 * random.Next(2) : kh;
                    int dh = random.Next(4) == 0 ? 2 : 1, dw = random.Next(4) == 0 ? 2 : dh;
                    int outChannels = random.Next(1, 9);
                    int groups = 1;
                    if (random.Next(3) == 0) { groups = c; outChannels = c * random.Next(1, 3); }
                    else if (random.Next(3) == 0) { groups = Gcd(c, outChannels); }
                    var spec = LayerSpec.Conv2d(outChannels, kh, kw, 1, 1, dh * (kh - 1) / 2, dw * (kw - 1) / 2, dh, dw, groups, random.Next(3) != 0);
                    if (Fits(shape, spec)) { specs.Add(spec); return TensorShape.Spatial(outChannels, shape.Height, shape.Width); }
                    return shape;
                }
                case 2:
                    specs.Add(LayerSpec.BatchNorm(random.Next(2) == 0 ? 1e-5 : 1e-3, random.Next(2) == 0 ? 0.1 : 0.3));
                    return shape;
                case 3:
                case 4:
                    specs.Add(Activation(random));
                    return shape;
                case 5:
                    if (random.Next(2) == 0) specs.Add(LayerSpec.MaxPool(3, 1, 1));
                    else specs.Add(LayerSpec.Dropout(random.Next(3) * 0.25));
                    return shape;
                case 6:
                {
                    // Downsampling: a strided (maybe rectangular, maybe dilated) convolution or a pool.
                    if (Math.Min(shape.Height, shape.Width) < 4) return shape;
                    LayerSpec spec = random.Next(3) switch
                    {
                        0 => LayerSpec.Conv2d(random.Next(1, 9), 3, 3, 2, random.Next(1, 3), 1, 1, 1, random.Next(1, 3), 1, true),
                        1 => LayerSpec.MaxPool(2),
                        _ => LayerSpec.AvgPool(2, null, random.Next(2)),
                    };
                    var after = ShapeInference.Infer(shape, new[] { spec });
                    if (after.HasErrors) return shape;
                    specs.Add(spec);
                    return after.Output;
                }
                case 7:
                {
                    // Upsampling: nearest or bilinear, or a transposed convolution.
                    if (shape.Length * 4 > 2000) return shape;
                    LayerSpec spec = random.Next(3) switch
                    {
                        0 => LayerSpec.Upsample(2, random.Next(2) == 0 ? InterpolationMode.Nearest : InterpolationMode.Bilinear),
                        1 => LayerSpec.ConvTranspose2d(random.Next(1, 6), 2, 2),
                        _ => LayerSpec.ConvTranspose2d(random.Next(1, 6), 3, 3, 2, random.Next(1, 3), 1, 1, 1, 0, random.Next(2) == 0),
                    };
                    var after = ShapeInference.Infer(shape, new[] { spec });
                    if (after.HasErrors) return shape;
                    specs.Add(spec);
                    return after.Output;
                }
                default:
                {
                    var spec = LayerSpec.AdaptiveAvgPool(random.Next(1, shape.Height + 2), random.Next(1, shape.Width + 2));
                    specs.Add(spec);
                    return TensorShape.Spatial(shape.Channels, spec.OutHeight, spec.OutWidth);
                }
            }
        }

        private static TensorShape Residual(Random random, List<LayerSpec> specs, TensorShape shape, int depth)
        {
            specs.Add(LayerSpec.Residual());
            bool project = random.Next(3) == 0 && Math.Min(shape.Height, shape.Width) >= 3;
            if (project)
            {
                // ResNet's downsampling block: a stride-2 3x3 body, a stride-2 1x1 projection shortcut.
                int outChannels = random.Next(1, 9);
                specs.Add(LayerSpec.Conv2d(outChannels, 3, 2, 1, random.Next(2) == 0));
                if (random.Next(2) == 0) specs.Add(LayerSpec.BatchNorm());
                specs.Add(Activation(random));
                var body = ShapeInference.Infer(shape, new[] { LayerSpec.Conv2d(outChannels, 3, 2, 1) }).Output;
                Body(random, specs, body, depth);
                specs.Add(LayerSpec.Shortcut());
                specs.Add(LayerSpec.Conv2d(outChannels, 1, 2, 0, random.Next(2) == 0));
                if (random.Next(2) == 0) specs.Add(LayerSpec.BatchNorm());
                specs.Add(LayerSpec.End());
                return body;
            }
            // Identity shortcut: a body that keeps the shape (its last convolution back to the input channels).
            var inner = shape;
            int layers = random.Next(1, 4);
            for (int i = 0; i < layers; i++) inner = random.Next(4) == 0 && depth < 2 ? Concat(random, specs, inner, depth + 1) : Layer(random, specs, inner, keepSize: true);
            if (inner.Channels != shape.Channels) specs.Add(LayerSpec.Conv2d(shape.Channels, 1));
            specs.Add(LayerSpec.End());
            return shape;
        }

        /// <summary>Size-keeping layers (and maybe a nested block) that keep the channels.</summary>
        private static void Body(Random random, List<LayerSpec> specs, TensorShape shape, int depth)
        {
            if (random.Next(2) == 0) return;
            if (depth < 1 && random.Next(2) == 0) { Residual(random, specs, shape, depth + 1); return; }
            var after = Layer(random, specs, shape, keepSize: true);
            if (after.Channels != shape.Channels) specs.Add(LayerSpec.Conv2d(shape.Channels, 1));
        }

        private static TensorShape Concat(Random random, List<LayerSpec> specs, TensorShape shape, int depth)
        {
            specs.Add(LayerSpec.Concat());
            int branches = random.Next(1, 4), channels = 0;
            for (int b = 0; b < branches; b++)
            {
                specs.Add(LayerSpec.Branch());
                var branch = shape;
                int layers = random.Next(0, 3);
                for (int i = 0; i < layers; i++)
                    branch = depth < 2 && random.Next(5) == 0 ? Residual(random, specs, branch, depth + 1) : Layer(random, specs, branch, keepSize: true);
                channels += branch.Channels;
            }
            specs.Add(LayerSpec.End());
            return TensorShape.Spatial(channels, shape.Height, shape.Width);
        }

        private static LayerSpec Activation(Random random) => random.Next(9) switch
        {
            0 => LayerSpec.ReLU(),
            1 => LayerSpec.LeakyReLU(0.1),
            2 => LayerSpec.Sigmoid(),
            3 => LayerSpec.Tanh(),
            4 => LayerSpec.ReLU6(),
            5 => LayerSpec.Hardswish(),
            6 => LayerSpec.SiLU(),
            7 => LayerSpec.GELU(tanhApproximation: false),
            _ => LayerSpec.GELU(tanhApproximation: true),
        };

        private static bool Fits(TensorShape shape, LayerSpec spec) => !ShapeInference.Infer(shape, new[] { spec }).HasErrors;

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    }
}
