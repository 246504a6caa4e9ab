using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CnnGen.Onnx.Protobuf
{
    /// <summary>
    /// One protobuf message being built: fields in the order added, each a varint, a fixed32 or a length-delimited
    /// payload (bytes, a UTF-8 string or a nested message). The encoded size of every message is computed before the
    /// first byte is written, so a tree of messages streams straight to its destination: a tensor's bytes are copied
    /// once, from the network's weights to the stream, however deeply the tensor is nested.
    /// </summary>
    /// <remarks>
    /// Only what ONNX's schema needs is here (wire types 0, 2 and 5). Repeated scalars are written unpacked, one
    /// tag per value, as proto2 declares them in onnx.proto (no <c>[packed = true]</c> on the fields we use).
    /// </remarks>
    internal sealed class ProtoMessage
    {
        private const int WireVarint = 0, WireLengthDelimited = 2, WireFixed32 = 5;
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly List<Field> _fields = new();
        private long _size = -1;

        private readonly record struct Field(int Number, int Wire, ulong Scalar, ReadOnlyMemory<byte> Bytes, ProtoMessage? Message);

        /// <summary>An <c>int32</c>, <c>int64</c>, <c>bool</c> or enum field. Negative values take ten bytes, as protobuf encodes them.</summary>
        public ProtoMessage Varint(int number, long value) => Add(new Field(number, WireVarint, unchecked((ulong)value), default, null));

        /// <summary>A <c>float</c> field (fixed32, little-endian IEEE 754).</summary>
        public ProtoMessage Float(int number, float value) =>
            Add(new Field(number, WireFixed32, BitConverter.SingleToUInt32Bits(value), default, null));

        /// <summary>A <c>string</c> field, UTF-8; a string that is not valid Unicode is refused.</summary>
        public ProtoMessage String(int number, string value) => Bytes(number, StrictUtf8.GetBytes(value));

        /// <summary>A <c>bytes</c> field. The memory is referenced, not copied, until the message is written.</summary>
        public ProtoMessage Bytes(int number, ReadOnlyMemory<byte> value) => Add(new Field(number, WireLengthDelimited, 0, value, null));

        /// <summary>A nested message field.</summary>
        public ProtoMessage Message(int number, ProtoMessage value) => Add(new Field(number, WireLengthDelimited, 0, default, value));

        private ProtoMessage Add(Field field)
        {
            if (field.Number <= 0 || field.Number > (1 << 29) - 1) throw new ArgumentOutOfRangeException(nameof(field), field.Number, "Protobuf field numbers are 1 to 2^29 - 1.");
            _fields.Add(field);
            _size = -1;
            return this;
        }

        /// <summary>The encoded size in bytes (computed once, then cached until a field is added).</summary>
        public long Size
        {
            get
            {
                if (_size >= 0) return _size;
                long size = 0;
                foreach (var entry in _fields)
                {
                    size += VarintLength(Tag(entry));
                    switch (entry.Wire)
                    {
                        case WireVarint: size += VarintLength(entry.Scalar); break;
                        case WireFixed32: size += 4; break;
                        default:
                            long payload = entry.Message?.Size ?? entry.Bytes.Length;
                            size += VarintLength((ulong)payload) + payload;
                            break;
                    }
                }
                return _size = size;
            }
        }

        /// <summary>Writes the message (without a length prefix: a top-level message is the whole file) to <paramref name="stream"/>.</summary>
        public void WriteTo(Stream stream)
        {
            Span<byte> scratch = stackalloc byte[10];
            foreach (var field in _fields)
            {
                WriteVarint(stream, Tag(field), scratch);
                switch (field.Wire)
                {
                    case WireVarint:
                        WriteVarint(stream, field.Scalar, scratch);
                        break;
                    case WireFixed32:
                        BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)field.Scalar);
                        stream.Write(scratch[..4]);
                        break;
                    default:
                        if (field.Message is { } message)
                        {
                            WriteVarint(stream, (ulong)message.Size, scratch);
                            message.WriteTo(stream);
                        }
                        else
                        {
                            WriteVarint(stream, (ulong)field.Bytes.Length, scratch);
                            stream.Write(field.Bytes.Span);
                        }
                        break;
                }
            }
        }

        /// <summary>The encoded message as an array (tests and small messages).</summary>
        public byte[] ToArray()
        {
            using var stream = new MemoryStream(checked((int)Size));
            WriteTo(stream);
            return stream.ToArray();
        }

        private static ulong Tag(Field field) => ((ulong)(uint)field.Number << 3) | (uint)field.Wire;

        internal static int VarintLength(ulong value)
        {
            int length = 1;
            while (value >= 0x80)
            {
                value >>= 7;
                length++;
            }
            return length;
        }

        private static void WriteVarint(Stream stream, ulong value, Span<byte> scratch)
        {
            int n = 0;
            while (value >= 0x80)
            {
                scratch[n++] = (byte)(value | 0x80);
                value >>= 7;
            }
            scratch[n++] = (byte)value;
            stream.Write(scratch[..n]);
        }
    }
}
