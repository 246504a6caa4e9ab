using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace CnnGen.IO
{
    /// <summary>
    /// Writes safetensors files. The output is deterministic (the same tensors and metadata give the same bytes) and
    /// readable by <c>safetensors.torch.load_file</c>:
    /// <list type="bullet">
    /// <item>the header is compact JSON, <c>__metadata__</c> first (keys in ordinal order), then the tensors in the order
    /// given, padded with spaces to a multiple of 8 bytes;</item>
    /// <item>the data holds the tensors with the widest elements first (I64 before F32), in the order given within a
    /// width. As in the Rust crate this keeps every tensor aligned to its element size within the file, which readers
    /// that map the file into typed arrays rely on; the header's <c>data_offsets</c> say where each one is.</item>
    /// </list>
    /// </summary>
    public static class SafeTensorsWriter
    {
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        /// <summary>
        /// Writes the file at <paramref name="path"/> atomically: the bytes go to a temporary file in the same folder,
        /// which is flushed to disk and then moved over <paramref name="path"/>. On any failure (the tensors, the disk,
        /// the move) the temporary file is deleted and an existing file at <paramref name="path"/> is left as it was.
        /// </summary>
        /// <exception cref="ArgumentException">Duplicate or reserved tensor names, or names that are not valid Unicode.</exception>
        public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentNullException.ThrowIfNull(tensors);
            string fullPath = Path.GetFullPath(path);
            string fileName = Path.GetFileName(fullPath);
            string? folder = Path.GetDirectoryName(fullPath);
            if (fileName.Length == 0 || folder is null)
                throw new ArgumentException($"'{path}' names a folder, not a file.", nameof(path));

            // Same folder, so the final move is a rename within one file system (atomic), never a copy.
            string temp = Path.Combine(folder, "." + fileName + "." + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)) + ".tmp");
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
                {
                    Write(stream, tensors, metadata);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, fullPath, overwrite: true);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        /// <summary>
        /// Writes the file to <paramref name="stream"/> (not flushed, not closed). The tensors are enumerated and
        /// checked before the first byte is written, so a failure there leaves the stream untouched.
        /// </summary>
        /// <exception cref="ArgumentException">Duplicate or reserved tensor names, or names that are not valid Unicode.</exception>
        public static void Write(Stream stream, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ArgumentNullException.ThrowIfNull(tensors);
            var list = new List<SafeTensor>(tensors);
            byte[] header = BuildHeader(list, metadata, out var dataOrder);

            Span<byte> length = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (int i in dataOrder) stream.Write(list[i].Data.Span);
        }

        /// <summary>The file's bytes.</summary>
        public static byte[] ToBytes(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            using var stream = new MemoryStream();
            Write(stream, tensors, metadata);
            return stream.ToArray();
        }

        /// <summary>The padded header, and the order of the tensors' data (indices into <paramref name="tensors"/>).</summary>
        private static byte[] BuildHeader(List<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata, out int[] dataOrder)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i] ?? throw new ArgumentException($"Tensor {i} is null.", nameof(tensors));
                if (t.Name == SafeTensorsFile.MetadataKey)
                    throw new ArgumentException($"'{SafeTensorsFile.MetadataKey}' is reserved for the metadata and cannot name a tensor.", nameof(tensors));
                if (!names.Add(t.Name))
                    throw new ArgumentException($"Two tensors are named '{t.Name}'.", nameof(tensors));
                RequireUnicode(t.Name, "tensor name", nameof(tensors));
            }

            // Widest elements first, stable within a width (see the class remarks).
            dataOrder = new int[tensors.Count];
            for (int i = 0; i < dataOrder.Length; i++) dataOrder[i] = i;
            Array.Sort(dataOrder, (a, b) =>
            {
                int c = tensors[b].ElementSize.CompareTo(tensors[a].ElementSize);
                return c != 0 ? c : a.CompareTo(b);
            });
            var begin = new long[tensors.Count];
            long offset = 0;
            foreach (int i in dataOrder)
            {
                begin[i] = offset;
                offset += tensors[i].Data.Length;
            }

            var culture = CultureInfo.InvariantCulture;
            var json = new StringBuilder();
            json.Append('{');
            bool first = true;
            if (metadata is { Count: > 0 })
            {
                var keys = new List<string>(metadata.Keys);
                keys.Sort(StringComparer.Ordinal);
                AppendString(json, SafeTensorsFile.MetadataKey);
                json.Append(":{");
                for (int k = 0; k < keys.Count; k++)
                {
                    string value = metadata[keys[k]] ?? throw new ArgumentException($"Metadata '{keys[k]}' is null.", nameof(metadata));
                    RequireUnicode(keys[k], "metadata key", nameof(metadata));
                    RequireUnicode(value, "metadata value", nameof(metadata));
                    if (k > 0) json.Append(',');
                    AppendString(json, keys[k]);
                    json.Append(':');
                    AppendString(json, value);
                }
                json.Append('}');
                first = false;
            }
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                if (!first) json.Append(',');
                first = false;
                AppendString(json, t.Name);
                json.Append(":{\"dtype\":");
                AppendString(json, t.DType);
                json.Append(",\"shape\":[");
                for (int d = 0; d < t.Shape.Length; d++)
                {
                    if (d > 0) json.Append(',');
                    json.Append(t.Shape[d].ToString(culture));
                }
                json.Append("],\"data_offsets\":[").Append(begin[i].ToString(culture)).Append(',').Append((begin[i] + t.Data.Length).ToString(culture)).Append("]}");
            }
            json.Append('}');

            int length = StrictUtf8.GetByteCount(json.ToString());
            int padded = (length + 7) & ~7;
            if (padded > SafeTensorsFile.MaxHeaderSize)
                throw new ArgumentException($"The header would take {padded:N0} bytes, above the format's limit of {SafeTensorsFile.MaxHeaderSize:N0}.", nameof(tensors));
            var header = new byte[padded];
            StrictUtf8.GetBytes(json.ToString(), header);
            header.AsSpan(length).Fill((byte)' ');
            return header;
        }

        /// <summary>A JSON string escaped as serde_json (the Rust crate's JSON) escapes it: quote, backslash, control characters.</summary>
        private static void AppendString(StringBuilder json, string value)
        {
            json.Append('"');
            foreach (char ch in value)
            {
                switch (ch)
                {
                    case '"': json.Append("\\\""); break;
                    case '\\': json.Append("\\\\"); break;
                    case '\n': json.Append("\\n"); break;
                    case '\r': json.Append("\\r"); break;
                    case '\t': json.Append("\\t"); break;
                    case '\b': json.Append("\\b"); break;
                    case '\f': json.Append("\\f"); break;
                    default:
                        if (ch < 0x20) json.Append("\\u00").Append(((int)ch).ToString("x2", CultureInfo.InvariantCulture));
                        else json.Append(ch);
                        break;
                }
            }
            json.Append('"');
        }

        private static void RequireUnicode(string text, string what, string parameterName)
        {
            try
            {
                StrictUtf8.GetByteCount(text);
            }
            catch (EncoderFallbackException)
            {
                throw new ArgumentException($"The {what} '{text}' is not valid Unicode (it holds a lone surrogate).", parameterName);
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Best effort: the original exception is the one worth reporting.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
