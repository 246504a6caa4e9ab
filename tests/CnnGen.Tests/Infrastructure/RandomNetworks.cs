using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using CnnGen.Shapes;

namespace CnnGen.Tests.Infrastructure
{
    /// <summary>A random valid network: its input shape and layers, and its declaration as a user would write it.</summary>
    public sealed record RandomNetwork(string Name, TensorShape Input, LayerSpec[] Layers)
    {
        public NetworkLayout Layout => ShapeInference.Infer(Input, Layers);

        public string Declaration()
        {
            var c = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append("[Network(").Append(Input.Channels.ToString(c)).Append(", ").Append(Input.Height.ToString(c)).Append(", ").Append(Input.Width.ToString(c)).Append(")]\n");
            foreach (var layer in Layers) sb.Append('[').Append(Attribute(layer)).Append("]\n");
            sb.Append("public partial class ").Append(Name).Append(" { }\n");
            return sb.ToString();
        }

        /// <summary>The attribute text for a layer or block marker, writing only the arguments that differ from the defaults.</summary>
        public static string Attribute(LayerSpec layer) => layer.ToString();
    }

    /// <summary>Seeded random layer stacks that shape inference accepts: convolutions, pools, batch-norm, activations, dropout.</summary>
    public static class RandomNetworks
    {
        public static RandomNetwork Create(int seed)
        {
            var random = new Random(seed);
            while (true)
            {
                var network = TryCreate(random, "Random" + seed.ToString(CultureInfo.InvariantCulture));
                if (network is not null) return network;
            }
        }

        private static RandomNetwork? TryCreate(Random random, string name)
        {
            var input = TensorShape.Spatial(random.Next(1, 5), random.Next(3, 15), random.Next(3, 15));
            var layers = new List<LayerSpec>();
            var shape = input;
            int spatialLayers = random.Next(1, 6);
            for (int i = 0; i < spatialLayers; i++)
            {
                LayerSpec layer;
                int side = Math.Min(shape.Height, shape.Width);
                switch (random.Next(6))
                {
                    case 0:
                    case 1:
                    {
                        int kernel = random.Next(1, Math.Min(5, side + 2) + 1);
                        int padding = random.Next(0, kernel / 2 + 2);
                        layer = LayerSpec.Conv2d(random.Next(1, 9), kernel, random.Next(1, 4), padding, random.Next(4) != 0);
                        break;
                    }
                    case 2:
                    {
                        int kernel = random.Next(1, Math.Min(4, side + 1) + 1);
                        int padding = random.Next(0, kernel / 2 + 1);
                        int? stride = random.Next(3) == 0 ? null : random.Next(1, 4);
                        layer = random.Next(2) == 0 ? LayerSpec.MaxPool(kernel, stride, padding) : LayerSpec.AvgPool(kernel, stride, padding);
                        break;
                    }
                    case 3:
                        layer = LayerSpec.BatchNorm(random.Next(2) == 0 ? 1e-5 : 1e-3, random.Next(2) == 0 ? 0.1 : 0.3);
                        break;
                    case 4:
                        layer = RandomActivation(random);
                        break;
                    default:
                        layer = LayerSpec.Dropout(random.Next(4) * 0.2);
                        break;
                }
                var candidate = new List<LayerSpec>(layers) { layer };
                var layout = ShapeInference.Infer(input, candidate);
                // The stack is still open (Flatten and Linear come after), so its spatial output is not an error yet.
                if (HasErrorsBesidesSpatialOutput(layout) || layout.Layers[layout.Layers.Count - 1].Output.Length > 4096) continue;
                layers.Add(layer);
                shape = layout.Layers[layout.Layers.Count - 1].Output;
            }

            layers.Add(LayerSpec.Flatten());
            int denseLayers = random.Next(0, 3);
            for (int i = 0; i < denseLayers; i++)
            {
                layers.Add(random.Next(3) switch
                {
                    0 => LayerSpec.Linear(random.Next(1, 17), random.Next(4) != 0),
                    1 => LayerSpec.BatchNorm(),
                    _ => random.Next(2) == 0 ? RandomActivation(random) : LayerSpec.Dropout(0.25),
                });
            }
            layers.Add(LayerSpec.Linear(random.Next(1, 8)));
            if (random.Next(5) == 0) layers.Add(LayerSpec.Softmax());

            var result = ShapeInference.Infer(input, layers);
            return result.HasErrors ? null : new RandomNetwork(name, input, layers.ToArray());
        }

        private static bool HasErrorsBesidesSpatialOutput(NetworkLayout layout)
        {
            foreach (var issue in layout.Issues)
                if (issue.IsError) return true; // a feature-map output is no longer an error
            return false;
        }

        private static LayerSpec RandomActivation(Random random) => random.Next(5) switch
        {
            0 => LayerSpec.ReLU(),
            1 => LayerSpec.LeakyReLU(random.Next(2) == 0 ? 0.01 : 0.2),
            2 => LayerSpec.Sigmoid(),
            3 => LayerSpec.Tanh(),
            _ => LayerSpec.Softmax(),
        };
    }
}
