using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Security.Cryptography;
using CnnGen.Onnx.Graph;
using CnnGen.Onnx.Protobuf;

namespace CnnGen.Onnx
{
    /// <summary>
    /// Exports a CnnGen network with its current weights to an ONNX model: opset 17, IR version 8, one float input
    /// <c>input</c> (N, C, H, W) and one output <c>output</c> ((N, features), or (N, C, H, W) for a network ending in a
    /// feature map), the batch axis symbolic (<c>N</c>). The graph is the network in evaluation mode, layer for layer and
    /// block for block (a residual block's Add, a concatenation's Concat along channels, nested as declared): batch-norm
    /// stays a BatchNormalization node with its running statistics (not folded), dropout is an inference-mode Dropout.
    /// Initializers carry PyTorch's <c>state_dict</c> keys (<c>0.weight</c>, <c>3.body.1.running_mean</c>); each node is
    /// named after its row of the layer table (<c>Conv2d #0</c>, <c>Conv2d #4 (3.body.1)</c>, <c>Residual 3</c>) with the
    /// row's description as its doc string.
    /// </summary>
    public static class OnnxExporter
    {
        /// <summary>The graph input's name.</summary>
        public const string InputName = "input";
        /// <summary>The graph output's name.</summary>
        public const string OutputName = "output";
        /// <summary>The ai.onnx operator set the file is written against.</summary>
        public const int Opset = (int)OnnxProto.OpsetVersion;

        /// <summary>
        /// Writes the model to <paramref name="path"/> atomically: the bytes go to a temporary file in the same folder, which is
        /// flushed and then renamed over <paramref name="path"/>. On any failure the temporary file is deleted and an existing
        /// file at <paramref name="path"/> is left as it was.
        /// </summary>
        /// <param name="network">The network, its weights as they are now.</param>
        /// <param name="path">The .onnx file to write.</param>
        /// <param name="modelName">The graph's name; the network's class name by default.</param>
        /// <exception cref="ArgumentException">The network's layout has errors.</exception>
        /// <exception cref="OnnxExportException">The file cannot be written; the message names it.</exception>
        public static void Export(INetwork network, string path, string? modelName = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(path);
            // Build the whole model (weights copied) before touching the disk.
            var model = BuildModel(network, modelName);

            string fullPath;
            try
            {
                fullPath = Path.GetFullPath(path);
            }
            catch (Exception error) when (error is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new OnnxExportException(path, $"Cannot write the ONNX file '{path}': {error.Message}", error);
            }
            string fileName = Path.GetFileName(fullPath);
            string? folder = Path.GetDirectoryName(fullPath);
            if (fileName.Length == 0 || folder is null)
                throw new OnnxExportException(path, $"Cannot write the ONNX file '{path}': it names a folder, not a file.");
            if (Directory.Exists(fullPath))
                throw new OnnxExportException(path, $"Cannot write the ONNX file '{path}': a folder of that name exists.");

            // Same folder, so the final move is a rename within one file system (atomic), never a copy.
            string temp = Path.Combine(folder, "." + fileName + "." + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)) + ".tmp");
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
                {
                    model.WriteTo(stream);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, fullPath, overwrite: true);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                TryDelete(temp);
                string reason = error is DirectoryNotFoundException ? "the folder '" + folder + "' does not exist" : error.Message;
                throw new OnnxExportException(path, $"Cannot write the ONNX file '{path}': {reason}", error);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        /// <summary>
        /// Writes the model to <paramref name="stream"/> (not flushed, not closed). The model is built, and the weights copied,
        /// before the first byte is written, so a network that cannot be exported leaves the stream untouched.
        /// </summary>
        public static void Export(INetwork network, Stream stream, string? modelName = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(stream);
            BuildModel(network, modelName).WriteTo(stream);
        }

        /// <summary>The model file's bytes.</summary>
        public static byte[] ToBytes(INetwork network, string? modelName = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            return BuildModel(network, modelName).ToArray();
        }

        private static ProtoMessage BuildModel(INetwork network, string? modelName)
        {
            string name = modelName ?? network.GetType().Name;
            var graph = BuildGraph(network, name);
            string version = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
            int plus = version.IndexOf('+');
            if (plus >= 0) version = version[..plus];
            var metadata = new Dictionary<string, string>
            {
                ["cnngen.layer_table"] = network.Layout.FormatTable(name),
                ["cnngen.weights"] = "Initializers are named by PyTorch state_dict keys; BatchNorm num_batches_tracked is not exported.",
            };
            return OnnxProto.ModelMessage(graph, version, "CnnGen network " + name + " (evaluation mode)", metadata);
        }

        /// <summary>The graph in memory (tests inspect it node by node).</summary>
        internal static OnnxGraph BuildGraph(INetwork network, string name)
        {
            var layout = network.Layout;
            if (layout.HasErrors || layout.Layers.Count == 0)
                throw new ArgumentException($"The network {name} has shape errors and cannot be exported.", nameof(network));

            var graph = new OnnxGraph(name) { DocString = layout.FormatTable(name) };
            string input = graph.Reserve(InputName);
            graph.Inputs.Add(new OnnxValueInfo(input, OnnxDataType.Float, Dims(layout.Input), "NCHW, " + layout.Input + " per sample"));
            string output = new LayerExport(graph, network).EmitSequence(layout.Root, input);
            graph.Rename(output, OutputName);
            graph.Outputs.Add(new OnnxValueInfo(OutputName, OnnxDataType.Float, Dims(layout.Output), layout.Output + " per sample"));
            return graph;
        }

        private static IReadOnlyList<long?> Dims(Shapes.TensorShape shape) => shape.IsSpatial
            ? new long?[] { null, shape.Channels, shape.Height, shape.Width }
            : new long?[] { null, shape.Channels };

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // Best effort: the original error is the one to report.
            }
        }
    }
}
