using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Shapes;

namespace CnnGen.IO
{
    /// <summary>
    /// How <see cref="NetworkWeights.LoadPartial(INetwork, string, PartialLoadOptions?)"/> matches the network's tensors to a
    /// file's keys, for transfer learning: a backbone from a file whose head differs.
    /// </summary>
    /// <remarks>
    /// For each tensor of the network (key <c>k</c>, PyTorch's name): if <see cref="Skip"/> holds <c>k</c> or a prefix of it,
    /// the tensor is skipped; otherwise its file key is <see cref="Rename"/>'s (an exact key, or the longest prefix ending
    /// in a dot, replaced), else <see cref="MapKey"/>'s (null skips), else <see cref="KeyPrefix"/> + <c>k</c>. A tensor the
    /// file lacks is left as it is (reported), unless <see cref="RequireAll"/>; an explicit rename to a key the file lacks
    /// is an error. A shape that differs (a 5-class head against a 10-class file) is an error unless
    /// <see cref="SkipShapeMismatches"/>, when the tensor is left as it is and reported.
    /// </remarks>
    public sealed class PartialLoadOptions
    {
        /// <summary>Prepended to the network's keys that no rename or map gives a file key (e.g. <c>"model."</c>).</summary>
        public string KeyPrefix { get; init; } = "";

        /// <summary>Network keys, or key prefixes (<c>"11."</c>: module 11), to leave as they are (a new head).</summary>
        public IReadOnlyList<string> Skip { get; init; } = Array.Empty<string>();

        /// <summary>
        /// Network key → file key. A pair whose both sides end with a dot renames a prefix (<c>"0." → "features.0."</c>);
        /// other pairs are exact keys. Every pair must match a network tensor, and its file key must be in the file.
        /// </summary>
        public IReadOnlyDictionary<string, string> Rename { get; init; } = new Dictionary<string, string>();

        /// <summary>Network key → file key, or null to skip it; used for keys <see cref="Rename"/> does not cover.</summary>
        public Func<string, string?>? MapKey { get; init; }

        /// <summary>Leave tensors whose shape differs from the file's as they are (reported) instead of refusing the file.</summary>
        public bool SkipShapeMismatches { get; init; }

        /// <summary>Refuse the file when a tensor that is not skipped is missing from it (default: leave it, report it).</summary>
        public bool RequireAll { get; init; }

        /// <summary>Refuse the file when it has keys (under <see cref="KeyPrefix"/>) that nothing loads (default: report them).</summary>
        public bool RejectUnusedKeys { get; init; }
    }

    /// <summary>A tensor whose shape in the file differs from the network's; it was left as it was.</summary>
    public readonly record struct ShapeMismatch(string Key, string FileKey, string Expected, string Found);

    /// <summary>What <see cref="NetworkWeights.LoadPartial(INetwork, string, PartialLoadOptions?)"/> did, tensor by tensor.</summary>
    public sealed class PartialLoadReport
    {
        internal PartialLoadReport(string source, IReadOnlyList<(string Key, string FileKey)> loaded, IReadOnlyList<string> skipped,
            IReadOnlyList<string> leftAtInitialization, IReadOnlyList<ShapeMismatch> shapeMismatches, IReadOnlyList<string> unusedFileKeys,
            long loadedValues, long keptValues)
        {
            Source = source;
            Loaded = loaded;
            Skipped = skipped;
            LeftAtInitialization = leftAtInitialization;
            ShapeMismatches = shapeMismatches;
            UnusedFileKeys = unusedFileKeys;
            LoadedValues = loadedValues;
            KeptValues = keptValues;
        }

        /// <summary>The file (or source name) read.</summary>
        public string Source { get; }
        /// <summary>Network keys loaded, with the file key each came from.</summary>
        public IReadOnlyList<(string Key, string FileKey)> Loaded { get; }
        /// <summary>Network keys skipped by <see cref="PartialLoadOptions.Skip"/> or <see cref="PartialLoadOptions.MapKey"/>: left as they were.</summary>
        public IReadOnlyList<string> Skipped { get; }
        /// <summary>Network keys the file does not have: left as they were (their initialization).</summary>
        public IReadOnlyList<string> LeftAtInitialization { get; }
        /// <summary>Network keys whose shape differs from the file's (with <see cref="PartialLoadOptions.SkipShapeMismatches"/>): left as they were.</summary>
        public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }
        /// <summary>File keys nothing loaded.</summary>
        public IReadOnlyList<string> UnusedFileKeys { get; }
        /// <summary>Values (parameters, statistics, counters) copied from the file.</summary>
        public long LoadedValues { get; }
        /// <summary>Values left as they were.</summary>
        public long KeptValues { get; }

        public override string ToString()
        {
            var c = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append(c, $"Loaded {Loaded.Count} tensor(s), {LoadedValues:N0} values, from {Source}; {KeptValues:N0} values kept as they were.");
            if (Skipped.Count > 0) sb.Append("\n  skipped: ").Append(string.Join(", ", Skipped));
            if (LeftAtInitialization.Count > 0) sb.Append("\n  not in the file, left at initialization: ").Append(string.Join(", ", LeftAtInitialization));
            if (ShapeMismatches.Count > 0)
                sb.Append("\n  shape differs, left at initialization: ").Append(string.Join(", ", ShapeMismatches.Select(m => $"{m.Key} (network {m.Expected}, file '{m.FileKey}' {m.Found})")));
            if (UnusedFileKeys.Count > 0) sb.Append("\n  in the file, not used: ").Append(string.Join(", ", UnusedFileKeys));
            return sb.ToString();
        }
    }

    public static partial class NetworkWeights
    {
        /// <summary>Loads what fits from the safetensors file at <paramref name="path"/>; see <see cref="LoadPartial(INetwork, SafeTensorsFile, PartialLoadOptions?)"/>.</summary>
        /// <exception cref="WeightFileException">The file is invalid, or the options do not fit it or the network; the network is unchanged.</exception>
        public static PartialLoadReport LoadPartial(INetwork network, string path, PartialLoadOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            return LoadPartial(network, SafeTensorsFile.Read(path), options);
        }

        /// <summary>Loads what fits from a safetensors file's bytes; <paramref name="sourceName"/> names them in messages.</summary>
        public static PartialLoadReport LoadPartial(INetwork network, ReadOnlySpan<byte> bytes, string sourceName, PartialLoadOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(network);
            return LoadPartial(network, SafeTensorsFile.Read(bytes, sourceName), options);
        }

        /// <summary>
        /// Loads a backbone for transfer learning: the tensors of the network that the file has (after skipping, renaming
        /// and mapping keys, see <see cref="PartialLoadOptions"/>) with the same dtype and shape; the others keep their
        /// current values (a fresh network's initialization) and are reported. Everything is checked before anything is
        /// copied: on an exception the network is unchanged, and the exception names the file and the key.
        /// </summary>
        /// <exception cref="WeightFileException">
        /// A dtype differs; a shape differs (without <see cref="PartialLoadOptions.SkipShapeMismatches"/>); a rename or skip
        /// names no tensor of the network; a rename's file key is missing; a tensor is missing with
        /// <see cref="PartialLoadOptions.RequireAll"/>; an unused key with <see cref="PartialLoadOptions.RejectUnusedKeys"/>;
        /// or nothing at all matched (most likely the wrong file or prefix).
        /// </exception>
        public static PartialLoadReport LoadPartial(INetwork network, SafeTensorsFile file, PartialLoadOptions? options = null)
        {
            var (report, plan) = PlanPartial(network, file, options ?? new PartialLoadOptions());
            var layout = network.Layout;
            foreach (var (entryIndex, tensor) in plan)
            {
                var entry = layout.Tensors[entryIndex];
                switch (entry.Block)
                {
                    case TensorBlock.Parameters: tensor.CopyTo(network.Parameters.Slice(entry.Offset, entry.Length)); break;
                    case TensorBlock.Buffers: tensor.CopyTo(network.Buffers.Slice(entry.Offset, entry.Length)); break;
                    default: tensor.CopyTo(network.Counters.Slice(entry.Offset, entry.Length)); break;
                }
            }
            return report;
        }

        /// <summary>Everything <see cref="LoadPartial(INetwork, SafeTensorsFile, PartialLoadOptions?)"/> checks, without copying.</summary>
        public static PartialLoadReport ValidatePartial(INetwork network, SafeTensorsFile file, PartialLoadOptions? options = null) =>
            PlanPartial(network, file, options ?? new PartialLoadOptions()).Report;

        private static (PartialLoadReport Report, List<(int Entry, SafeTensor Tensor)> Plan) PlanPartial(INetwork network, SafeTensorsFile file, PartialLoadOptions options)
        {
            ArgumentNullException.ThrowIfNull(network);
            ArgumentNullException.ThrowIfNull(file);
            ArgumentNullException.ThrowIfNull(options);
            var layout = network.Layout;
            NetworkChecks.RequireBlocks(layout, network.Parameters.Length, network.Buffers.Length, network.Counters.Length);
            string source = file.SourceName;
            string prefix = options.KeyPrefix ?? "";
            var skip = options.Skip ?? Array.Empty<string>();
            var rename = options.Rename ?? new Dictionary<string, string>();

            // The options themselves: every skip and rename must name something the network has (a typo would otherwise
            // silently load what it meant to skip, or leave at initialization what it meant to load).
            foreach (string s in skip)
            {
                if (string.IsNullOrEmpty(s)) throw new WeightFileException(source, null, "the skip list holds an empty key");
                if (!layout.Tensors.Any(t => t.Name.StartsWith(s, StringComparison.Ordinal)))
                    throw new WeightFileException(source, s, $"the skip list names '{s}', which matches no tensor of {network.GetType().Name} (its keys are {ListKeys(layout, "")})");
            }
            foreach (var (from, to) in rename)
            {
                bool isPrefix = from.EndsWith('.') && to.EndsWith('.');
                if (!layout.Tensors.Any(t => isPrefix ? t.Name.StartsWith(from, StringComparison.Ordinal) : t.Name == from))
                    throw new WeightFileException(source, from, $"the rename '{from}' -> '{to}' matches no tensor of {network.GetType().Name} (its keys are {ListKeys(layout, "")})");
            }

            var loaded = new List<(string, string)>();
            var skipped = new List<string>();
            var missing = new List<string>();
            var mismatches = new List<ShapeMismatch>();
            var plan = new List<(int, SafeTensor)>();
            var used = new HashSet<string>(StringComparer.Ordinal);
            long loadedValues = 0, keptValues = 0;
            for (int i = 0; i < layout.Tensors.Count; i++)
            {
                var entry = layout.Tensors[i];
                string key = entry.Name;
                if (skip.Any(s => key.StartsWith(s, StringComparison.Ordinal)))
                {
                    skipped.Add(key);
                    keptValues += entry.Length;
                    continue;
                }
                string? fileKey;
                bool explicitRename = true;
                if (rename.TryGetValue(key, out var exact)) fileKey = exact;
                else
                {
                    string? bestFrom = null;
                    foreach (var (from, to) in rename)
                        if (from.EndsWith('.') && to.EndsWith('.') && key.StartsWith(from, StringComparison.Ordinal) && (bestFrom is null || from.Length > bestFrom.Length))
                            bestFrom = from;
                    if (bestFrom is not null) fileKey = rename[bestFrom] + key.Substring(bestFrom.Length);
                    else
                    {
                        explicitRename = false;
                        fileKey = options.MapKey is null ? prefix + key : options.MapKey(key);
                    }
                }
                if (fileKey is null)
                {
                    skipped.Add(key);
                    keptValues += entry.Length;
                    continue;
                }
                bool counter = entry.Block == TensorBlock.Counters;
                string dtype = counter ? SafeTensorDType.I64 : SafeTensorDType.F32;
                if (!file.TryGet(fileKey, out var tensor))
                {
                    if (explicitRename)
                        throw new WeightFileException(source, fileKey, $"missing: the rename maps the network's '{key}' ({dtype} {entry.ShapeText}) here");
                    if (options.RequireAll)
                        throw new WeightFileException(source, fileKey, $"missing; {network.GetType().Name} needs {dtype} {entry.ShapeText} here for '{key}' (RequireAll is set)");
                    missing.Add(key);
                    keptValues += entry.Length;
                    continue;
                }
                used.Add(fileKey);
                if (tensor.DType != dtype)
                    throw new WeightFileException(source, fileKey, $"expected dtype {dtype} for the network's '{key}', found {tensor.DType} (shape {tensor.ShapeText})");
                if (!ShapeMatches(entry, tensor, counter))
                {
                    if (!options.SkipShapeMismatches)
                        throw new WeightFileException(source, fileKey, $"expected shape {entry.ShapeText} for the network's '{key}', found {tensor.ShapeText} (skip '{key}', or set SkipShapeMismatches to leave such tensors at initialization)");
                    mismatches.Add(new ShapeMismatch(key, fileKey, entry.ShapeText, tensor.ShapeText));
                    keptValues += entry.Length;
                    continue;
                }
                loaded.Add((key, fileKey));
                plan.Add((i, tensor));
                loadedValues += entry.Length;
            }

            var unused = new List<string>();
            foreach (string name in file.Names)
                if (!used.Contains(name) && name.StartsWith(prefix, StringComparison.Ordinal)) unused.Add(name);
            if (options.RejectUnusedKeys && unused.Count > 0)
                throw new WeightFileException(source, unused[0], $"nothing in {network.GetType().Name} loads this key (RejectUnusedKeys is set)");
            if (loaded.Count == 0)
                throw new WeightFileException(source, null,
                    $"nothing in the file fits {network.GetType().Name}: no tensor was loaded (file keys: {string.Join(", ", file.Names.Take(8))}{(file.Names.Count > 8 ? ", ..." : "")}; network keys: {ListKeys(layout, prefix)})");
            return (new PartialLoadReport(source, loaded, skipped, missing, mismatches, unused, loadedValues, keptValues), plan);
        }
    }
}
