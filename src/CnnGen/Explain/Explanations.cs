using System;
using CnnGen.Shapes;

namespace CnnGen.Explain
{
    /// <summary>
    /// Why a network predicts what it predicts, for one image, in evaluation mode (batch-norm's running statistics, no
    /// dropout, nothing updated): saliency (the gradient of a class score with respect to the input) and Grad-CAM (a
    /// layer's maps weighted by the spatial mean of the class score's gradient, then ReLU). The class score is the class's
    /// logit; for a network with per-pixel outputs, the sum of the class's logits over the pixels.
    /// </summary>
    /// <remarks>Diagnostic tools: each call makes its own workspace and buffers.</remarks>
    public static class Explanations
    {
        /// <summary>Writes d score(<paramref name="classIndex"/>) / d input for one image (C x H x W) to <paramref name="inputGradient"/>.</summary>
        public static void Saliency(INetwork network, ReadOnlySpan<float> image, int classIndex, Span<float> inputGradient)
        {
            ArgumentNullException.ThrowIfNull(network);
            var layout = network.Layout;
            NetworkChecks.RequireLength(image.Length, layout.Input.Length, nameof(image));
            NetworkChecks.RequireLength(inputGradient.Length, layout.Input.Length, nameof(inputGradient));
            RequireClass(layout, classIndex);
            var workspace = network.CreateWorkspace(1);
            var output = new float[layout.Output.Length];
            network.ForwardForGradients(image, output, 1, workspace);
            network.Backward(ClassScoreGradient(layout, classIndex), new float[layout.ParameterCount], workspace, inputGradient);
        }

        /// <summary>
        /// Grad-CAM of layer <paramref name="layer"/> (depth-first index; its output must be a feature map) for class
        /// <paramref name="classIndex"/>: <paramref name="map"/> at the layer's resolution (H' x W'), and, when
        /// <paramref name="upsampled"/> is not empty, resized bilinearly (align_corners=False) to the input's H x W.
        /// </summary>
        /// <exception cref="ArgumentException">The layer is not a feature map, or its output is not kept for backward
        /// (pick the ReLU after a convolution, as Grad-CAM usually does).</exception>
        public static void GradCam(INetwork network, ReadOnlySpan<float> image, int layer, int classIndex, Span<float> map, Span<float> upsampled = default)
        {
            ArgumentNullException.ThrowIfNull(network);
            var layout = network.Layout;
            NetworkChecks.RequireLength(image.Length, layout.Input.Length, nameof(image));
            RequireClass(layout, classIndex);
            if ((uint)layer >= (uint)layout.Layers.Count)
                throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The network has {layout.Layers.Count} layers.");
            var shape = layout.Layers[layer].Output;
            if (!shape.IsSpatial)
                throw new ArgumentException($"Layer {layer} ({layout.Layers[layer].Describe()}) gives a vector; Grad-CAM needs a layer whose output is a feature map.", nameof(layer));
            int plane = shape.Height * shape.Width;
            NetworkChecks.RequireLength(map.Length, plane, nameof(map));
            if (!upsampled.IsEmpty) NetworkChecks.RequireLength(upsampled.Length, layout.Input.Height * layout.Input.Width, nameof(upsampled));

            var workspace = network.CreateWorkspace(1);
            var output = new float[layout.Output.Length];
            network.ForwardForGradients(image, output, 1, workspace);
            float[] activations;
            try
            {
                activations = workspace.LayerOutput(layer).ToArray();
            }
            catch (InvalidOperationException kept)
            {
                throw new ArgumentException($"Layer {layer}: {kept.Message} Explain the layer after it (its activation) instead.", nameof(layer), kept);
            }
            var gradient = new float[shape.Length];
            network.Backward(ClassScoreGradient(layout, classIndex), new float[layout.ParameterCount], workspace, default, layer, gradient);

            // Each map's weight is the spatial mean of the score's gradient; the weighted sum, ReLU.
            var cam = new double[plane];
            for (int c = 0; c < shape.Channels; c++)
            {
                double weight = 0;
                for (int i = 0; i < plane; i++) weight += gradient[c * plane + i];
                weight /= plane;
                for (int i = 0; i < plane; i++) cam[i] += weight * activations[c * plane + i];
            }
            for (int i = 0; i < plane; i++) map[i] = (float)Math.Max(cam[i], 0);
            if (!upsampled.IsEmpty) ResizeBilinear(map, shape.Height, shape.Width, upsampled, layout.Input.Height, layout.Input.Width);
        }

        /// <summary>
        /// PyTorch's <c>F.interpolate(size=(outHeight, outWidth), mode='bilinear', align_corners=False)</c> of one plane:
        /// source = (o + 0.5) · in / out − 0.5, clamped at 0, neighbours clamped at the edge.
        /// </summary>
        public static void ResizeBilinear(ReadOnlySpan<float> source, int height, int width, Span<float> target, int outHeight, int outWidth)
        {
            if (height <= 0 || width <= 0 || outHeight <= 0 || outWidth <= 0) throw new ArgumentOutOfRangeException(nameof(height), "Sizes must be positive.");
            NetworkChecks.RequireLength(source.Length, height * width, nameof(source));
            NetworkChecks.RequireLength(target.Length, outHeight * outWidth, nameof(target));
            float scaleY = (float)height / outHeight, scaleX = (float)width / outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                var (y0, y1, wy) = Source(oy, scaleY, height);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    var (x0, x1, wx) = Source(ox, scaleX, width);
                    target[oy * outWidth + ox] = (1 - wy) * ((1 - wx) * source[y0 * width + x0] + wx * source[y0 * width + x1])
                        + wy * ((1 - wx) * source[y1 * width + x0] + wx * source[y1 * width + x1]);
                }
            }

            static (int Low, int High, float Weight) Source(int o, float scale, int size)
            {
                float position = Math.Max(scale * (o + 0.5f) - 0.5f, 0f);
                int low = Math.Min((int)position, size - 1);
                return (low, Math.Min(low + 1, size - 1), position - low);
            }
        }

        /// <summary>d score / d output: 1 at the class's logit (at every pixel for per-pixel outputs), 0 elsewhere.</summary>
        private static float[] ClassScoreGradient(NetworkLayout layout, int classIndex)
        {
            var output = layout.Output;
            var gradient = new float[output.Length];
            int plane = output.Height * output.Width;
            gradient.AsSpan(classIndex * plane, plane).Fill(1f);
            return gradient;
        }

        private static void RequireClass(NetworkLayout layout, int classIndex)
        {
            int classes = layout.Output.Channels;
            if ((uint)classIndex >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"The network has {classes} classes (output channels) [0, {classes - 1}].");
        }
    }
}
