using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace CnnGen.IO
{
    /// <summary>
    /// A safetensors file (https://github.com/huggingface/safetensors), read and validated in full:
    /// an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each key to
    /// <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (plus an optional <c>"__metadata__"</c> object of
    /// strings), then the tensors' bytes. Every structural problem is a <see cref="WeightFileException"/> naming the
    /// file, the key and what is wrong; nothing that parses here can index outside the file.
    /// </summary>
    /// <remarks>
    /// The checks are those of the reference Rust crate, which is what <c>safetensors.torch.load_file</c> runs, so a file
    /// accepted here loads in PyTorch and vice versa: header at most <see cref="MaxHeaderSize"/> bytes and inside the
    /// file, a JSON object without duplicate keys, known dtypes, dimensions that multiply (without overflow) to the
    /// byte length of <c>data_offsets</c>, and tensors packed back to back from the first data byte to the last.
    /// </remarks>
    public sealed class SafeTensorsFile
    {
        /// <summary>The largest header accepted, as in the safetensors crate: a bigger one is corruption, not a model.</summary>
        public const long MaxHeaderSize = 100_000_000;

        /// <summary>The key of the optional string-to-string metadata object.</summary>
        public const string MetadataKey = "__metadata__";

        private readonly Dictionary<string, SafeTensor> _byName;

        private SafeTensorsFile(string sourceName, SafeTensor[] tensors, IReadOnlyDictionary<string, string> metadata)
        {
            SourceName = sourceName;
            Tensors = tensors;
            Metadata = metadata;
            var names = new string[tensors.Length];
            _byName = new Dictionary<string, SafeTensor>(tensors.Length, StringComparer.Ordinal);
            for (int i = 0; i < tensors.Length; i++)
            {
                names[i] = tensors[i].Name;
                _byName.Add(tensors[i].Name, tensors[i]);
            }
            Names = names;
        }

        /// <summary>The path the file was read from, or the source name given with its bytes; used in every message.</summary>
        public string SourceName { get; }

        /// <summary>The tensors' keys in the order the header lists them (<c>__metadata__</c> excluded).</summary>
        public IReadOnlyList<string> Names { get; }

        /// <summary>The tensors, in the order of <see cref="Names"/>.</summary>
        public IReadOnlyList<SafeTensor> Tensors { get; }

        /// <summary>The <c>__metadata__</c> entries; empty when the file has none.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; }

        /// <summary>The number of tensors.</summary>
        public int Count => Tensors.Count;

        /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
        /// <exception cref="WeightFileException">The file is not a valid safetensors file.</exception>
        /// <exception cref="IOException">The file cannot be opened or read (not found, no access, ...).</exception>
        public static SafeTensorsFile Read(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            byte[] bytes;
            if (InputFiles.DescribeIfNotRegular(path) is string kind)
                throw new WeightFileException(path, null, $"is {kind}, not a regular file");
            FileStream opened;
            try
            {
                opened = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            }
            catch (Exception error) when (error is UnauthorizedAccessException or NotSupportedException)
            {
                throw new WeightFileException(path, null, "cannot be opened: " + error.Message, error);
            }
            using (var stream = opened)
            {
                if (!stream.CanSeek) throw new WeightFileException(path, null, "is not a regular file (it cannot report its length)");
                long length = stream.Length;
                if (length > Array.MaxLength)
                    throw new WeightFileException(path, null, $"the file has {length:N0} bytes; files above {Array.MaxLength:N0} bytes are not supported");
                bytes = GC.AllocateUninitializedArray<byte>((int)length);
                try
                {
                    stream.ReadExactly(bytes);
                }
                catch (EndOfStreamException e)
                {
                    throw new WeightFileException(path, null, "the file got shorter while it was being read", e);
                }
            }
            return Parse(bytes, path);
        }

        /// <summary>Reads and validates a file's bytes (copied); <paramref name="sourceName"/> names them in messages.</summary>
        /// <exception cref="WeightFileException">The bytes are not a valid safetensors file.</exception>
        public static SafeTensorsFile Read(ReadOnlySpan<byte> bytes, string sourceName)
        {
            ArgumentNullException.ThrowIfNull(sourceName);
            return Parse(bytes.ToArray(), sourceName);
        }

        /// <summary>Whether the file has a tensor named <paramref name="name"/>.</summary>
        public bool Contains(string name) => _byName.ContainsKey(name);

        /// <summary>The tensor named <paramref name="name"/>, if the file has one.</summary>
        public bool TryGet(string name, [NotNullWhen(true)] out SafeTensor? tensor) => _byName.TryGetValue(name, out tensor);

        /// <summary>The tensor named <paramref name="name"/>.</summary>
        /// <exception cref="WeightFileException">The file has no such tensor.</exception>
        public SafeTensor this[string name] => _byName.TryGetValue(name, out var tensor)
            ? tensor
            : throw new WeightFileException(SourceName, name, $"no such tensor (the file has {Count} tensors)");

        /// <summary>The shape of the tensor named <paramref name="name"/>.</summary>
        public ImmutableArray<long> GetShape(string name) => this[name].Shape;

        /// <summary>The elements of the F32 tensor named <paramref name="name"/>.</summary>
        /// <exception cref="WeightFileException">No such tensor, or it is not F32.</exception>
        public float[] GetFloats(string name) => Require(name, SafeTensorDType.F32).ToFloats();

        /// <summary>The elements of the I64 tensor named <paramref name="name"/>.</summary>
        /// <exception cref="WeightFileException">No such tensor, or it is not I64.</exception>
        public long[] GetInt64s(string name) => Require(name, SafeTensorDType.I64).ToInt64s();

        private SafeTensor Require(string name, string dtype)
        {
            var tensor = this[name];
            if (tensor.DType != dtype)
                throw new WeightFileException(SourceName, name, $"expected dtype {dtype}, found {tensor.DType} {tensor.ShapeText}");
            return tensor;
        }

        // ---- Parsing ---------------------------------------------------------------------------------------------

        /// <summary>One header entry, before the offsets are checked against each other.</summary>
        private readonly record struct Entry(string Name, string DType, long[] Shape, long Begin, long End, int ElementSize, long ElementCount);

        private static SafeTensorsFile Parse(byte[] file, string source)
        {
            if (file.Length < 8)
                throw new WeightFileException(source, null, $"the file has {file.Length} bytes, fewer than the 8 of the header length; it is empty, truncated or not a safetensors file");

            ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(file);
            if (headerSize > MaxHeaderSize)
                throw new WeightFileException(source, null,
                    $"the header length field says {headerSize.ToString(CultureInfo.InvariantCulture)} bytes, above the limit of {MaxHeaderSize.ToString(CultureInfo.InvariantCulture)}; the file is corrupt or not a safetensors file");
            if (headerSize > (ulong)(file.Length - 8))
                throw new WeightFileException(source, null,
                    $"the header length field says {headerSize.ToString(CultureInfo.InvariantCulture)} bytes but only {(file.Length - 8).ToString(CultureInfo.InvariantCulture)} follow it; the file is truncated or not a safetensors file");

            int dataStart = 8 + (int)headerSize;
            var entries = ParseHeader(file.AsSpan(8, (int)headerSize), source, out var metadata);
            long dataLength = file.Length - dataStart;
            CheckOffsets(entries, dataLength, source);

            var tensors = new SafeTensor[entries.Count];
            var data = new ReadOnlyMemory<byte>(file, dataStart, file.Length - dataStart);
            for (int i = 0; i < tensors.Length; i++)
            {
                var e = entries[i];
                tensors[i] = new SafeTensor(e.Name, e.DType, e.Shape, data.Slice((int)e.Begin, (int)(e.End - e.Begin)), e.ElementSize, e.ElementCount);
            }
            return new SafeTensorsFile(source, tensors, metadata);
        }

        private static List<Entry> ParseHeader(ReadOnlySpan<byte> header, string source, out IReadOnlyDictionary<string, string> metadata)
        {
            var entries = new List<Entry>();
            Dictionary<string, string>? meta = null;
            // The key being read, so that a JSON syntax error inside an entry names it.
            string? key = null;
            // Depth: the root object, an entry object, its shape array. Anything deeper is rejected by the walk below
            // anyway; the limit keeps a hostile header from making the reader nest far.
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
            try
            {
                if (!reader.Read())
                    throw new WeightFileException(source, null, "the JSON header is empty");
                if (reader.TokenType != JsonTokenType.StartObject)
                    throw new WeightFileException(source, null, $"the JSON header is not an object: it starts with {Describe(reader.TokenType)}");

                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (true)
                {
                    Next(ref reader);
                    if (reader.TokenType == JsonTokenType.EndObject) break;
                    key = ReadString(ref reader, source, null, "the key");
                    if (!seen.Add(key))
                        throw new WeightFileException(source, key, "the key appears twice in the header");
                    if (key == MetadataKey)
                        meta = ParseMetadata(ref reader, source);
                    else
                        entries.Add(ParseEntry(ref reader, source, key));
                    // A syntax error between entries belongs to none of them.
                    key = null;
                }
                // The reader itself rejects anything but whitespace (the writer's padding) after the root object.
                if (reader.Read())
                    throw new WeightFileException(source, null, $"unexpected {Describe(reader.TokenType)} after the header's JSON object");
            }
            catch (JsonException e)
            {
                // The reader's message gives the position (BytePositionInLine: the header is one line).
                throw new WeightFileException(source, key, $"the JSON header is malformed: {e.Message}", e);
            }
            metadata = meta ?? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(StringComparer.Ordinal);
            return entries;
        }

        /// <summary><c>"__metadata__": {"key": "value", ...}</c>; null is taken as no metadata, as the crate does.</summary>
        private static Dictionary<string, string> ParseMetadata(ref Utf8JsonReader reader, string source)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.Null) return metadata;
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new WeightFileException(source, MetadataKey, $"expected an object of strings, found {Describe(reader.TokenType)}");
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject) return metadata;
                string name = ReadString(ref reader, source, MetadataKey, "a metadata key");
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.String)
                    throw new WeightFileException(source, MetadataKey, $"the value of '{name}' is {Describe(reader.TokenType)}, not a string");
                string value = ReadString(ref reader, source, MetadataKey, $"the value of '{name}'");
                if (!metadata.TryAdd(name, value))
                    throw new WeightFileException(source, MetadataKey, $"'{name}' appears twice");
            }
        }

        /// <summary><c>{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}</c>, each field exactly once, nothing else.</summary>
        private static Entry ParseEntry(ref Utf8JsonReader reader, string source, string key)
        {
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new WeightFileException(source, key, $"expected an object {{\"dtype\", \"shape\", \"data_offsets\"}}, found {Describe(reader.TokenType)}");

            string? dtype = null;
            long[]? shape = null, offsets = null;
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string field = ReadString(ref reader, source, key, "a field name");
                switch (field)
                {
                    case "dtype":
                        if (dtype is not null) throw Twice();
                        Next(ref reader);
                        if (reader.TokenType != JsonTokenType.String)
                            throw new WeightFileException(source, key, $"\"dtype\" is {Describe(reader.TokenType)}, not a string");
                        dtype = ReadString(ref reader, source, key, "\"dtype\"");
                        break;
                    case "shape":
                        if (shape is not null) throw Twice();
                        shape = ReadIntegers(ref reader, source, key, "shape");
                        break;
                    case "data_offsets":
                        if (offsets is not null) throw Twice();
                        offsets = ReadIntegers(ref reader, source, key, "data_offsets");
                        break;
                    default:
                        throw new WeightFileException(source, key, $"unexpected field \"{field}\" (an entry has \"dtype\", \"shape\" and \"data_offsets\")");
                }

                WeightFileException Twice() => new(source, key, $"the field \"{field}\" appears twice");
            }

            if (dtype is null) throw Missing("dtype");
            if (shape is null) throw Missing("shape");
            if (offsets is null) throw Missing("data_offsets");

            int elementSize = SafeTensorDType.ElementSize(dtype);
            if (elementSize == 0)
                throw new WeightFileException(source, key, $"unknown dtype \"{dtype}\"; expected one of {SafeTensorDType.KnownList}");
            if (offsets.Length != 2)
                throw new WeightFileException(source, key, $"\"data_offsets\" has {offsets.Length} numbers, not 2 ([begin, end])");
            long begin = offsets[0], end = offsets[1];
            if (begin > end)
                throw new WeightFileException(source, key, $"\"data_offsets\" [{begin}, {end}] begins after it ends");

            string shapeText = SafeTensor.FormatShape(shape);
            long count = 1, bytes;
            foreach (long d in shape)
            {
                // No .NET array holds more than int.MaxValue elements along one dimension; larger is corruption.
                if (d > int.MaxValue)
                    throw new WeightFileException(source, key, $"dimension {d} of shape {shapeText} is too large");
            }
            try
            {
                foreach (long d in shape) count = checked(count * d);
                bytes = checked(count * elementSize);
            }
            catch (OverflowException)
            {
                throw new WeightFileException(source, key, $"shape {shapeText} of {dtype} has more bytes than fit in 64 bits");
            }
            if (bytes != end - begin)
                throw new WeightFileException(source, key,
                    $"shape {shapeText} of {dtype} needs {count} x {elementSize} = {bytes} bytes but \"data_offsets\" [{begin}, {end}] hold {end - begin}");
            return new Entry(key, dtype, shape, begin, end, elementSize, count);

            WeightFileException Missing(string field) => new(source, key, $"the entry has no \"{field}\"");
        }

        /// <summary>An array of non-negative integers (dimensions or offsets).</summary>
        private static long[] ReadIntegers(ref Utf8JsonReader reader, string source, string key, string field)
        {
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.StartArray)
                throw new WeightFileException(source, key, $"\"{field}\" is {Describe(reader.TokenType)}, not an array of integers");
            var values = new List<long>();
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndArray) return values.ToArray();
                if (reader.TokenType != JsonTokenType.Number)
                    throw new WeightFileException(source, key, $"\"{field}\" holds {Describe(reader.TokenType)}, not an integer");
                if (!reader.TryGetInt64(out long value))
                    throw new WeightFileException(source, key, $"\"{field}\" holds {Encoding.ASCII.GetString(reader.ValueSpan)}, not an integer (or beyond 64 bits)");
                if (value < 0)
                    throw new WeightFileException(source, key, $"\"{field}\" holds the negative number {value}");
                values.Add(value);
            }
        }

        /// <summary>
        /// The current string or property name, with its UTF-8 checked: the reader does not validate the bytes of a
        /// string until it is decoded, and a key with invalid UTF-8 would otherwise decode to replacement characters.
        /// </summary>
        private static string ReadString(ref Utf8JsonReader reader, string source, string? key, string what)
        {
            ReadOnlySpan<byte> raw = reader.ValueSpan;
            if (!reader.ValueIsEscaped)
            {
                if (!Utf8.IsValid(raw))
                    throw new WeightFileException(source, key ?? Encoding.UTF8.GetString(raw), $"{what} is not valid UTF-8");
                return Encoding.UTF8.GetString(raw);
            }
            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException e)
            {
                // Invalid UTF-8 among escapes, or an escaped lone surrogate such as "\ud800".
                throw new WeightFileException(source, key ?? Encoding.UTF8.GetString(raw), $"{what} is not valid UTF-8 or holds an invalid escape", e);
            }
        }

        /// <summary>Reads a token that must exist: the header ends before its JSON does otherwise.</summary>
        private static void Next(ref Utf8JsonReader reader)
        {
            // With isFinalBlock (the default for a span) the reader throws JsonException itself on truncated JSON;
            // a false here is a defensive backstop.
            if (!reader.Read()) throw new JsonException("The JSON header ends early.");
        }

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => token.ToString(),
        };

        /// <summary>
        /// Every tensor inside the data section, and the tensors packed back to back from its first byte to its last,
        /// as the safetensors crate requires: no overlap (two keys aliasing one buffer), no holes, no trailing bytes.
        /// </summary>
        private static void CheckOffsets(List<Entry> entries, long dataLength, string source)
        {
            foreach (var e in entries)
            {
                if (e.End > dataLength)
                    throw new WeightFileException(source, e.Name,
                        $"\"data_offsets\" [{e.Begin}, {e.End}] go past the end of the data ({dataLength} bytes after the header); the file is truncated or corrupt");
            }

            var order = entries.ToArray();
            // Stable order by (begin, end), ties by header position, so messages do not depend on the sort.
            var index = new int[order.Length];
            for (int i = 0; i < index.Length; i++) index[i] = i;
            Array.Sort(index, (a, b) =>
            {
                int c = order[a].Begin.CompareTo(order[b].Begin);
                if (c == 0) c = order[a].End.CompareTo(order[b].End);
                return c != 0 ? c : a.CompareTo(b);
            });

            long cursor = 0;
            string? previous = null;
            foreach (int i in index)
            {
                var e = order[i];
                if (e.Begin < cursor)
                    throw new WeightFileException(source, e.Name,
                        $"\"data_offsets\" [{e.Begin}, {e.End}] overlap those of '{previous}', which end at {cursor}");
                if (e.Begin > cursor)
                    throw new WeightFileException(source, e.Name,
                        $"\"data_offsets\" [{e.Begin}, {e.End}] leave bytes {cursor} to {e.Begin} of the data unused; safetensors packs tensors back to back");
                cursor = e.End;
                previous = e.Name;
            }
            if (cursor != dataLength)
                throw new WeightFileException(source, previous,
                    $"{dataLength - cursor} bytes follow the last tensor's data, which ends at {cursor} of {dataLength}; the file is corrupt");
        }
    }
}
