using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using CnnGen.IO;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("FashionMnist.Tests")]

namespace CnnGen.Training
{
    /// <summary>What a checkpoint held besides the weights.</summary>
    public sealed record CheckpointState(int Epoch, long OptimizerStep, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>
    /// A training checkpoint as one safetensors file: the network's <c>state_dict</c> under PyTorch's keys, the optimizer's
    /// state under <c>optimizer.*</c>, the epoch, step and learning rate in the metadata, and a SHA-256 of the metadata and
    /// all tensor data so a torn or altered file is refused. Written atomically (temporary file, then rename): a crash leaves the old
    /// checkpoint or the new one, never half of one. Loading validates everything before changing anything.
    /// </summary>
    public static class TrainingCheckpoint
    {
        private const string OptimizerPrefix = "optimizer.";

        /// <summary>
        /// Writes the checkpoint atomically. <paramref name="metadata"/> is stored beside CnnGen's own keys (which start with
        /// <c>cnngen.</c> and may not be given); the checksum covers it and every tensor.
        /// </summary>
        public static void Save(string path, INetwork network, Optimizer optimizer, int epoch, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(optimizer);
            if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch cannot be negative.");
            var tensors = new List<SafeTensor>(NetworkWeights.ToTensors(network));
            foreach (var (name, values) in optimizer.State)
                tensors.Add(SafeTensor.FromFloats(OptimizerPrefix + name, values, values.Length));

            var c = CultureInfo.InvariantCulture;
            var header = new Dictionary<string, string>();
            if (metadata is not null)
            {
                foreach (var (key, value) in metadata)
                {
                    if (key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                        throw new ArgumentException($"Metadata key '{key}' is reserved: keys starting with '{ReservedPrefix}' are CnnGen's own.", nameof(metadata));
                    header[key] = value;
                }
            }
            header[FormatKey] = "2";
            header[EpochKey] = epoch.ToString(c);
            header[StepKey] = optimizer.StepCount.ToString(c);
            header[LearningRateKey] = optimizer.LearningRate.ToString("R", c);
            header[ChecksumKey] = Checksum(tensors, header);
            SafeTensorsWriter.Write(path, tensors, header);
        }

        /// <summary>
        /// Loads a checkpoint into <paramref name="network"/> and <paramref name="optimizer"/>. Everything is validated
        /// before anything is applied: the checksum (over tensors and metadata), the epoch, step and learning rate, every
        /// tensor's key, dtype and shape, every value finite (running variances and Adam's second moments also not
        /// negative, counters not negative), the optimizer state's names and lengths, and then
        /// <paramref name="validateMetadata"/>, the caller's own check of its metadata. A file that fails any of these
        /// changes nothing and throws a <see cref="WeightFileException"/> naming the file, the key and the problem.
        /// </summary>
        public static CheckpointState Load(string path, INetwork network, Optimizer optimizer, Action<IReadOnlyDictionary<string, string>>? validateMetadata = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(optimizer);
            var file = SafeTensorsFile.Read(path);
            var metadata = file.Metadata;

            // 1. Integrity: the checksum over tensors and metadata (format 2), or over the tensors alone (files written
            //    before format 2, which have no format key; a format-2 file that lost its key fails both).
            if (!metadata.TryGetValue(ChecksumKey, out var expected))
                throw new WeightFileException(path, ChecksumKey, "missing: not a CnnGen checkpoint");
            bool current = metadata.TryGetValue(FormatKey, out var format);
            if (current && format != "2")
                throw new WeightFileException(path, FormatKey, $"unknown checkpoint format '{format}' (this version reads format 2)");
            string actual = current ? Checksum(file.Tensors, metadata) : LegacyChecksum(file.Tensors);
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
                throw new WeightFileException(path, ChecksumKey, $"checksum mismatch: the file says {expected}, its contents hash to {actual}; the file is damaged or was edited");

            // 2. Metadata values.
            var c = CultureInfo.InvariantCulture;
            int epoch = (int)ReadInteger(path, metadata, EpochKey, int.MaxValue);
            long step = ReadInteger(path, metadata, StepKey, long.MaxValue);
            if (!metadata.TryGetValue(LearningRateKey, out var rateText))
                throw new WeightFileException(path, LearningRateKey, "missing from the metadata");
            if (!float.TryParse(rateText, NumberStyles.Float, c, out float learningRate) || !float.IsFinite(learningRate) || learningRate < 0)
                throw new WeightFileException(path, LearningRateKey, $"'{Shorten(rateText)}' is not a finite number of 0 or more");

            // 3. Tensors: the network's (keys, dtypes, shapes), every value, the optimizer's state.
            var found = NetworkWeights.Validate(network, file, allowExtraKeys: true, keyPrefix: "");
            var state = new Dictionary<string, float[]>();
            foreach (var tensor in file.Tensors)
            {
                if (tensor.DType == SafeTensorDType.F32)
                {
                    bool optimizerState = tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal);
                    var values = tensor.ToFloats();
                    bool nonNegative = tensor.Name.EndsWith(".running_var", StringComparison.Ordinal) || (optimizerState && tensor.Name.EndsWith("exp_avg_sq", StringComparison.Ordinal));
                    for (int i = 0; i < values.Length; i++)
                    {
                        if (!float.IsFinite(values[i]))
                            throw new WeightFileException(path, tensor.Name, $"element {i} is {values[i].ToString(c)}; a checkpoint holds finite numbers only");
                        if (nonNegative && values[i] < 0)
                            throw new WeightFileException(path, tensor.Name, $"element {i} is {values[i].ToString(c)}; it cannot be negative");
                    }
                    if (optimizerState) state[tensor.Name.Substring(OptimizerPrefix.Length)] = values;
                }
                else if (tensor.DType == SafeTensorDType.I64)
                {
                    var values = tensor.ToInt64s();
                    for (int i = 0; i < values.Length; i++)
                        if (values[i] < 0) throw new WeightFileException(path, tensor.Name, $"element {i} is {values[i].ToString(c)}; a counter cannot be negative");
                }
                else if (tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                {
                    throw new WeightFileException(path, tensor.Name, $"expected dtype F32, found {tensor.DType}");
                }
            }
            try
            {
                optimizer.ValidateState(step, state);
            }
            catch (ArgumentException error)
            {
                throw new WeightFileException(path, OptimizerPrefix + "*", "the optimizer state does not fit: " + error.Message, error);
            }

            // 4. The caller's own metadata.
            validateMetadata?.Invoke(metadata);

            // 5. Apply. Nothing below can fail: everything was checked above.
            NetworkWeights.CopyValidated(network, found);
            optimizer.RestoreState(step, state);
            optimizer.LearningRate = learningRate;
            return new CheckpointState(epoch, step, metadata);
        }

        private const string ReservedPrefix = "cnngen.";
        private const string FormatKey = "cnngen.format";
        private const string EpochKey = "cnngen.epoch";
        private const string StepKey = "cnngen.optimizer_step";
        private const string LearningRateKey = "cnngen.learning_rate";
        private const string ChecksumKey = "cnngen.sha256";

        private static long ReadInteger(string path, IReadOnlyDictionary<string, string> metadata, string key, long max)
        {
            if (!metadata.TryGetValue(key, out var text))
                throw new WeightFileException(path, key, "missing from the metadata");
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > max)
                throw new WeightFileException(path, key, $"'{Shorten(text)}' is not a whole number between 0 and {max.ToString("N0", CultureInfo.InvariantCulture)}");
            return value;
        }

        private static string Shorten(string text) => text.Length <= 40 ? text : text.Substring(0, 40) + "...";

        /// <summary>
        /// SHA-256 over every metadata entry but the checksum itself (ordinal key order; lengths prefixed so no two
        /// different dictionaries hash alike), then every tensor's name, dtype, shape and bytes, in file order.
        /// </summary>
        internal static string Checksum(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var keys = new List<string>();
            foreach (var key in metadata.Keys) if (key != ChecksumKey) keys.Add(key);
            keys.Sort(StringComparer.Ordinal);
            AppendText(hash, "metadata " + keys.Count.ToString(CultureInfo.InvariantCulture));
            foreach (var key in keys)
            {
                AppendText(hash, key);
                AppendText(hash, metadata[key]);
            }
            AppendTensors(hash, tensors);
            return Convert.ToHexString(hash.GetHashAndReset());
        }

        private static void AppendText(IncrementalHash hash, string text)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        private static void AppendTensors(IncrementalHash hash, IEnumerable<SafeTensor> tensors)
        {
            foreach (var tensor in tensors)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(tensor.Name + "\n" + tensor.DType + "\n" + tensor.ShapeText + "\n"));
                hash.AppendData(tensor.Data.Span);
            }
        }

        /// <summary>Checkpoints written before format 2: SHA-256 over the tensors only.</summary>
        private static string LegacyChecksum(IEnumerable<SafeTensor> tensors)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            AppendTensors(hash, tensors);
            return Convert.ToHexString(hash.GetHashAndReset());
        }
    }
}
