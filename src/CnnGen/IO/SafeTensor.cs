using System;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;

namespace CnnGen.IO
{
    /// <summary>The safetensors element types CnnGen reads, with their sizes in bytes.</summary>
    public static class SafeTensorDType
    {
        public const string F32 = "F32";
        public const string I64 = "I64";
        public const string F64 = "F64";
        public const string F16 = "F16";
        public const string BF16 = "BF16";
        public const string I32 = "I32";

        /// <summary>
        /// Bytes per element of <paramref name="dtype"/>, or 0 when CnnGen does not know it. Every byte-sized dtype of
        /// the safetensors format is known (its tensors are read as raw bytes); the sub-byte ones (F4, F6_*) are not.
        /// </summary>
        public static int ElementSize(string dtype) => dtype switch
        {
            "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
            "I16" or "U16" or "F16" or "BF16" => 2,
            "I32" or "U32" or "F32" => 4,
            "I64" or "U64" or "F64" or "C64" => 8,
            _ => 0,
        };

        /// <summary>The known dtypes, for messages.</summary>
        internal const string KnownList = "F32, I64, F64, F16, BF16, I32, U32, I16, U16, I8, U8, BOOL, F8_E5M2, F8_E4M3, F8_E8M0, U64, C64";
    }

    /// <summary>
    /// One tensor of a safetensors file: its key, dtype, shape and little-endian bytes (row-major, as the file holds them).
    /// Immutable; tensors read from a file share the file's buffer.
    /// </summary>
    public sealed class SafeTensor
    {
        /// <summary>
        /// A tensor over raw little-endian bytes. <paramref name="data"/> is kept, not copied: do not change it afterwards.
        /// </summary>
        /// <exception cref="ArgumentException">Unknown dtype, a negative dimension, or a data length that is not the shape's.</exception>
        public SafeTensor(string name, string dtype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(dtype);
            int elementSize = SafeTensorDType.ElementSize(dtype);
            if (elementSize == 0)
                throw new ArgumentException($"Tensor '{name}': unknown dtype '{dtype}'; expected one of {SafeTensorDType.KnownList}.", nameof(dtype));
            long count = 1;
            foreach (long d in shape)
            {
                if (d < 0) throw new ArgumentException($"Tensor '{name}': negative dimension {d} in shape {FormatShape(shape)}.", nameof(shape));
                count = d == 0 || count == 0 ? 0 : count <= long.MaxValue / d ? count * d : throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} has too many elements.", nameof(shape));
            }
            if (count > long.MaxValue / elementSize || count * elementSize != data.Length)
                throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} of {dtype} needs {count} x {elementSize} bytes but the data has {data.Length}.", nameof(data));

            Name = name;
            DType = dtype;
            Shape = ImmutableArray.Create(shape);
            Data = data;
            ElementSize = elementSize;
            ElementCount = count;
        }

        /// <summary>For the reader, which has validated everything already.</summary>
        internal SafeTensor(string name, string dtype, long[] shape, ReadOnlyMemory<byte> data, int elementSize, long elementCount)
        {
            Name = name;
            DType = dtype;
            Shape = ImmutableArray.Create(shape);
            Data = data;
            ElementSize = elementSize;
            ElementCount = elementCount;
        }

        /// <summary>An F32 tensor holding a copy of <paramref name="values"/>; an empty <paramref name="shape"/> is a scalar.</summary>
        public static SafeTensor FromFloats(string name, ReadOnlySpan<float> values, params ReadOnlySpan<long> shape)
        {
            var bytes = new byte[checked(values.Length * sizeof(float))];
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
            }
            else
            {
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            }
            return new SafeTensor(name, SafeTensorDType.F32, shape, bytes);
        }

        /// <summary>An I64 tensor holding a copy of <paramref name="values"/>; an empty <paramref name="shape"/> is a scalar.</summary>
        public static SafeTensor FromInt64s(string name, ReadOnlySpan<long> values, params ReadOnlySpan<long> shape)
        {
            var bytes = new byte[checked(values.Length * sizeof(long))];
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
            }
            else
            {
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
            }
            return new SafeTensor(name, SafeTensorDType.I64, shape, bytes);
        }

        /// <summary>The key, e.g. <c>0.weight</c>.</summary>
        public string Name { get; }

        /// <summary>The safetensors dtype: <c>F32</c>, <c>I64</c>, ... (see <see cref="SafeTensorDType"/>).</summary>
        public string DType { get; }

        /// <summary>The shape, outermost dimension first; empty for a scalar.</summary>
        public ImmutableArray<long> Shape { get; }

        /// <summary>The elements' bytes, little-endian, row-major.</summary>
        public ReadOnlyMemory<byte> Data { get; }

        /// <summary>Bytes per element.</summary>
        public int ElementSize { get; }

        /// <summary>The product of the dimensions (1 for a scalar).</summary>
        public long ElementCount { get; }

        /// <summary>The shape as PyTorch prints it: <c>[16, 6, 5, 5]</c>, <c>[]</c> for a scalar.</summary>
        public string ShapeText => FormatShape(Shape.AsSpan());

        /// <summary>The elements of an F32 tensor.</summary>
        /// <exception cref="InvalidOperationException">The tensor is not F32.</exception>
        public float[] ToFloats()
        {
            var values = new float[ElementCount];
            CopyTo(values);
            return values;
        }

        /// <summary>The elements of an I64 tensor.</summary>
        /// <exception cref="InvalidOperationException">The tensor is not I64.</exception>
        public long[] ToInt64s()
        {
            var values = new long[ElementCount];
            CopyTo(values);
            return values;
        }

        /// <summary>Copies the elements of an F32 tensor into <paramref name="destination"/>, which must hold exactly <see cref="ElementCount"/>.</summary>
        public void CopyTo(Span<float> destination)
        {
            RequireCopy(SafeTensorDType.F32, destination.Length);
            var source = Data.Span;
            if (BitConverter.IsLittleEndian)
            {
                // A byte copy: the file's data need not be 4-byte aligned in memory.
                source.CopyTo(MemoryMarshal.AsBytes(destination));
            }
            else
            {
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(i * sizeof(float)));
            }
        }

        /// <summary>Copies the elements of an I64 tensor into <paramref name="destination"/>, which must hold exactly <see cref="ElementCount"/>.</summary>
        public void CopyTo(Span<long> destination)
        {
            RequireCopy(SafeTensorDType.I64, destination.Length);
            var source = Data.Span;
            if (BitConverter.IsLittleEndian)
            {
                source.CopyTo(MemoryMarshal.AsBytes(destination));
            }
            else
            {
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt64LittleEndian(source.Slice(i * sizeof(long)));
            }
        }

        public override string ToString() => $"{Name}: {DType} {ShapeText}";

        private void RequireCopy(string dtype, int destinationLength)
        {
            if (DType != dtype)
                throw new InvalidOperationException($"Tensor '{Name}' is {DType} {ShapeText}, not {dtype}.");
            if (destinationLength != ElementCount)
                throw new ArgumentException($"Tensor '{Name}' has {ElementCount} elements; the destination holds {destinationLength}.", "destination");
        }

        internal static string FormatShape(ReadOnlySpan<long> shape)
        {
            var parts = new string[shape.Length];
            for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
            return "[" + string.Join(", ", parts) + "]";
        }
    }
}
