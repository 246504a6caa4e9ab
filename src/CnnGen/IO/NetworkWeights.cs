using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Shapes;

namespace CnnGen.IO
{
    /// <summary>
    /// A network's <c>state_dict</c> to and from safetensors, with PyTorch's key names and shapes: parameters and
    /// running statistics as F32, <c>num_batches_tracked</c> as an I64 scalar. A <c>state_dict</c> saved in PyTorch with
    /// <c>safetensors.torch.save_file(model.state_dict(), path)</c> loads as it is, and a saved file loads in PyTorch
    /// with <c>model.load_state_dict(safetensors.torch.load_file(path))</c>.
    /// </summary>
    public static partial class NetworkWeights
    {
        /// <summary>Copies of the network's tensors, in <c>state_dict</c> order, as they are saved.</summary>
        public static IReadOnlyList<SafeTensor> ToTensors(INetwork network)
        {
            ArgumentNullException.ThrowIfNull(network);
            var layout = network.Layout;
            NetworkChecks.RequireBlocks(layout, network.Parameters.Length, network.Buffers.Length, network.Counters.Length);
            var tensors = new List<SafeTensor>(layout.Tensors.Count);
            foreach (var entry in layout.Tensors)
            {
                long[] shape = Array.ConvertAll(entry.Shape, d => (long)d);
                tensors.Add(entry.Block switch
                {
                    TensorBlock.Parameters => SafeTensor.FromFloats(entry.Name, network.Parameters.Slice(entry.Offset, entry.Length), shape),
                    TensorBlock.Buffers => SafeTensor.FromFloats(entry.Name, network.Buffers.Slice(entry.Offset, entry.Length), shape),
                    _ => SafeTensor.FromInt64s(entry.Name, network.Counters.Slice(entry.Offset, entry.Length), shape),
                });
            }
            return tensors;
        }

        /// <summary>Saves the network's weights to <paramref name="path"/>, atomically (see <see cref="SafeTensorsWriter.Write(string, IEnumerable{SafeTensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
        public static void Save(INetwork network, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
            SafeTensorsWriter.Write(path, ToTensors(network), metadata);

        /// <summary>Saves the network's weights to <paramref name="stream"/>.</summary>
        public static void Save(INetwork network, Stream stream, IReadOnlyDictionary<string, string>? metadata = null) =>
            SafeTensorsWriter.Write(stream, ToTensors(network), metadata);

        /// <summary>Loads weights from the safetensors file at <paramref name="path"/>; see <see cref="Load(INetwork, SafeTensorsFile, bool, string)"/>.</summary>
        /// <exception cref="WeightFileException">The file is invalid or does not fit the network; the network is unchanged.</exception>
        public static void Load(INetwork network, string path, bool allowExtraKeys = false, string keyPrefix = "")
        {
            ArgumentNullException.ThrowIfNull(network);
            Load(network, SafeTensorsFile.Read(path), allowExtraKeys, keyPrefix);
        }

        /// <summary>Loads weights from a safetensors file's bytes; <paramref name="sourceName"/> names them in messages.</summary>
        /// <exception cref="WeightFileException">The bytes are invalid or do not fit the network; the network is unchanged.</exception>
        public static void Load(INetwork network, ReadOnlySpan<byte> bytes, string sourceName, bool allowExtraKeys = false, string keyPrefix = "")
        {
            ArgumentNullException.ThrowIfNull(network);
            Load(network, SafeTensorsFile.Read(bytes, sourceName), allowExtraKeys, keyPrefix);
        }

        /// <summary>
        /// Loads weights from a read file. Every tensor of the network must be there as <paramref name="keyPrefix"/> +
        /// its PyTorch key, with its exact shape and dtype (F32; I64 for <c>num_batches_tracked</c>, whose shape may be
        /// <c>[]</c>, as PyTorch saves it, or <c>[1]</c>). Keys under the prefix that the network does not have are an
        /// error unless <paramref name="allowExtraKeys"/>; keys outside a non-empty prefix are other content and ignored
        /// (a prefix such as <c>"model."</c> loads the state_dict of a wrapped module).
        /// Everything is checked before anything is copied: on an exception the network is unchanged.
        /// </summary>
        /// <exception cref="WeightFileException">The file does not fit the network; the message names the key and the problem.</exception>
        public static void Load(INetwork network, SafeTensorsFile file, bool allowExtraKeys = false, string keyPrefix = "")
        {
            var found = Validate(network, file, allowExtraKeys, keyPrefix);
            CopyValidated(network, found);
        }

        /// <summary>
        /// Everything <see cref="Load(INetwork, SafeTensorsFile, bool, string)"/> checks, without copying: the file's tensors
        /// for the network's entries, in layout order.
        /// </summary>
        /// <exception cref="WeightFileException">The file does not fit the network.</exception>
        internal static SafeTensor[] Validate(INetwork network, SafeTensorsFile file, bool allowExtraKeys, string keyPrefix)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(file);
            ArgumentNullException.ThrowIfNull(keyPrefix);
            var layout = network.Layout;
            NetworkChecks.RequireBlocks(layout, network.Parameters.Length, network.Buffers.Length, network.Counters.Length);
            string source = file.SourceName;

            // 1. Validate all.
            var found = new SafeTensor[layout.Tensors.Count];
            for (int i = 0; i < found.Length; i++)
            {
                var entry = layout.Tensors[i];
                string key = keyPrefix + entry.Name;
                bool counter = entry.Block == TensorBlock.Counters;
                string dtype = counter ? SafeTensorDType.I64 : SafeTensorDType.F32;
                if (!file.TryGet(key, out var tensor))
                    throw new WeightFileException(source, key, $"missing; {network.GetType().Name} needs {dtype} {entry.ShapeText} here{SuggestPrefix(file, entry.Name, keyPrefix)}");
                if (tensor.DType != dtype)
                    throw new WeightFileException(source, key, $"expected dtype {dtype}, found {tensor.DType} (shape {tensor.ShapeText})");
                if (!ShapeMatches(entry, tensor, counter))
                    throw new WeightFileException(source, key, $"expected shape {entry.ShapeText}, found {tensor.ShapeText}");
                found[i] = tensor;
            }
            if (!allowExtraKeys)
            {
                var expected = new HashSet<string>(layout.Tensors.Select(t => keyPrefix + t.Name), StringComparer.Ordinal);
                foreach (string name in file.Names)
                {
                    if (name.StartsWith(keyPrefix, StringComparison.Ordinal) && !expected.Contains(name))
                        throw new WeightFileException(source, name,
                            $"{network.GetType().Name} has no such tensor (its keys are {ListKeys(layout, keyPrefix)}); pass allowExtraKeys: true to ignore extra keys");
                }
            }

            return found;
        }

        /// <summary>Copies tensors returned by <see cref="Validate"/>; cannot fail.</summary>
        internal static void CopyValidated(INetwork network, SafeTensor[] found)
        {
            var layout = network.Layout;
            for (int i = 0; i < found.Length; i++)
            {
                var entry = layout.Tensors[i];
                switch (entry.Block)
                {
                    case TensorBlock.Parameters: found[i].CopyTo(network.Parameters.Slice(entry.Offset, entry.Length)); break;
                    case TensorBlock.Buffers: found[i].CopyTo(network.Buffers.Slice(entry.Offset, entry.Length)); break;
                    default: found[i].CopyTo(network.Counters.Slice(entry.Offset, entry.Length)); break;
                }
            }
        }

        private static bool ShapeMatches(TensorEntry entry, SafeTensor tensor, bool counter)
        {
            // PyTorch saves num_batches_tracked as a 0-d tensor; some exporters write it as [1].
            if (counter && entry.Shape.Length == 0 && tensor.Shape.Length == 1 && tensor.Shape[0] == 1) return true;
            if (tensor.Shape.Length != entry.Shape.Length) return false;
            for (int d = 0; d < entry.Shape.Length; d++)
                if (tensor.Shape[d] != entry.Shape[d]) return false;
            return true;
        }

        /// <summary>A hint when the key is there under another prefix, as when a wrapped module's state_dict was saved.</summary>
        private static string SuggestPrefix(SafeTensorsFile file, string name, string keyPrefix)
        {
            foreach (string candidate in file.Names)
            {
                if (candidate.Length > name.Length && candidate.EndsWith("." + name, StringComparison.Ordinal))
                {
                    string prefix = candidate.Substring(0, candidate.Length - name.Length);
                    if (prefix != keyPrefix)
                        return $" (the file has '{candidate}': load with keyPrefix: \"{prefix}\"?)";
                }
            }
            return "";
        }

        private static string ListKeys(NetworkLayout layout, string keyPrefix)
        {
            const int shown = 8;
            var names = layout.Tensors.Take(shown).Select(t => keyPrefix + t.Name);
            string list = string.Join(", ", names);
            return layout.Tensors.Count > shown ? list + $", ... ({layout.Tensors.Count} in all)" : list;
        }
    }
}
