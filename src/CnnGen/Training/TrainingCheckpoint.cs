using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using CnnGen.IO;

namespace CnnGen.Training
{
    /// <summary>What a checkpoint held besides the weights.</summary>
    public sealed record CheckpointState(int Epoch, long OptimizerStep, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>
    /// A training checkpoint as one safetensors file: the network's <c>state_dict</c> under PyTorch's keys, the optimizer's
    /// state under <c>optimizer.*</c>, the epoch, step and learning rate in the metadata, and a SHA-256 of all tensor data so
    /// a torn or altered file is refused. Written atomically (temporary file, then rename): a crash leaves the old
    /// checkpoint or the new one, never half of one. Loading validates everything before changing anything.
    /// </summary>
    public static class TrainingCheckpoint
    {
        private const string OptimizerPrefix = "optimizer.";

        public static void Save(string path, INetwork network, Optimizer optimizer, int epoch, IReadOnlyDictionary<string, string>? metadata = null)
        {
            var tensors = new List<SafeTensor>(NetworkWeights.ToTensors(network));
            foreach (var (name, values) in optimizer.State)
                tensors.Add(SafeTensor.FromFloats(OptimizerPrefix + name, values, values.Length));

            var c = CultureInfo.InvariantCulture;
            var header = new Dictionary<string, string>();
            if (metadata is not null) foreach (var (key, value) in metadata) header[key] = value;
            header["cnngen.epoch"] = epoch.ToString(c);
            header["cnngen.optimizer_step"] = optimizer.StepCount.ToString(c);
            header["cnngen.learning_rate"] = optimizer.LearningRate.ToString("R", c);
            header["cnngen.sha256"] = Checksum(tensors);
            SafeTensorsWriter.Write(path, tensors, header);
        }

        public static CheckpointState Load(string path, INetwork network, Optimizer optimizer)
        {
            var file = SafeTensorsFile.Read(path);
            var metadata = file.Metadata;
            if (!metadata.TryGetValue("cnngen.sha256", out var expected))
                throw new WeightFileException(path, null, "not a CnnGen checkpoint: the metadata has no cnngen.sha256");
            string actual = Checksum(file.Tensors);
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
                throw new WeightFileException(path, null, $"checksum mismatch: the metadata says {expected}, the tensors hash to {actual}; the file is damaged");
            var c = CultureInfo.InvariantCulture;
            int epoch = ReadInt(path, metadata, "cnngen.epoch", c);
            long step = ReadInt(path, metadata, "cnngen.optimizer_step", c);
            if (!metadata.TryGetValue("cnngen.learning_rate", out var rateText) || !float.TryParse(rateText, NumberStyles.Float, c, out float learningRate))
                throw new WeightFileException(path, null, "the metadata has no valid cnngen.learning_rate");

            var state = new Dictionary<string, float[]>();
            foreach (var tensor in file.Tensors)
            {
                if (!tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) continue;
                if (tensor.DType != SafeTensorDType.F32) throw new WeightFileException(path, tensor.Name, $"expected dtype F32, found {tensor.DType}");
                state[tensor.Name.Substring(OptimizerPrefix.Length)] = tensor.ToFloats();
            }

            // The network first (it validates before copying); if the optimizer then refuses its state, put the network back.
            var parameters = network.Parameters.ToArray();
            var buffers = network.Buffers.ToArray();
            var counters = network.Counters.ToArray();
            NetworkWeights.Load(network, file, allowExtraKeys: true);
            try
            {
                optimizer.RestoreState(step, state);
            }
            catch (Exception error) when (error is ArgumentException)
            {
                parameters.CopyTo(network.Parameters);
                buffers.CopyTo(network.Buffers);
                counters.CopyTo(network.Counters);
                throw new WeightFileException(path, null, "the optimizer state does not fit: " + error.Message, error);
            }
            optimizer.LearningRate = learningRate;
            return new CheckpointState(epoch, step, metadata);
        }

        private static int ReadInt(string path, IReadOnlyDictionary<string, string> metadata, string key, IFormatProvider culture)
        {
            if (!metadata.TryGetValue(key, out var text) || !int.TryParse(text, NumberStyles.Integer, culture, out int value) || value < 0)
                throw new WeightFileException(path, null, $"the metadata has no valid {key}");
            return value;
        }

        /// <summary>SHA-256 over every tensor's name, dtype, shape and bytes, in file order.</summary>
        private static string Checksum(IEnumerable<SafeTensor> tensors)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var tensor in tensors)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(tensor.Name + "\n" + tensor.DType + "\n" + tensor.ShapeText + "\n"));
                hash.AppendData(tensor.Data.Span);
            }
            return Convert.ToHexString(hash.GetHashAndReset());
        }
    }
}
