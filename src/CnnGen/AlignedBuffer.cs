using System;
using System.Runtime.CompilerServices;

namespace CnnGen
{
    /// <summary>
    /// A zeroed buffer of floats whose first element sits on a 64-byte boundary: a cache line, and a Vector512. The generated
    /// workspaces keep their arrays in these, so that the kernels' vector loads and stores at multiples of 16 floats from the
    /// start never straddle two cache lines (a .NET array's elements start wherever the allocator put it, 8 bytes apart: a
    /// 1x1 layer ran 1.03-1.57x slower 16, 32 or 48 bytes off the boundary than on it, KernelBench <c>blocked align</c>).
    /// </summary>
    /// <remarks>
    /// The floats live in a pinned array (which the garbage collector never moves) 15 floats longer than asked, from the
    /// first element on the boundary. Reads and writes go through spans bounded to <see cref="Length"/>.
    /// </remarks>
    public sealed class AlignedBuffer
    {
        private const int Boundary = 64;

        private readonly float[] _array;
        private readonly int _offset;

        /// <summary>A buffer of <paramref name="length"/> zeros.</summary>
        public AlignedBuffer(int length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            _array = GC.AllocateArray<float>(length + Boundary / sizeof(float) - 1, pinned: true);
            _offset = OffsetToBoundary(_array);
            Length = length;
        }

        /// <summary>How many floats the buffer holds.</summary>
        public int Length { get; }

        /// <summary>Element <paramref name="index"/>.</summary>
        public ref float this[int index] => ref AsSpan()[index];

        /// <summary>All the floats.</summary>
        public Span<float> AsSpan() => new(_array, _offset, Length);

        /// <summary>The floats from <paramref name="start"/> to the end.</summary>
        public Span<float> AsSpan(int start) => AsSpan().Slice(start);

        /// <summary><paramref name="length"/> floats from <paramref name="start"/>.</summary>
        public Span<float> AsSpan(int start, int length) => AsSpan().Slice(start, length);

        /// <summary>All the floats, as a span.</summary>
        public static implicit operator Span<float>(AlignedBuffer buffer) => buffer.AsSpan();

        /// <summary>All the floats, as a read-only span.</summary>
        public static implicit operator ReadOnlySpan<float>(AlignedBuffer buffer) => buffer.AsSpan();

        // Floats from the array's first element to the first one on the boundary. Elements are 4-byte aligned, so the
        // distance is whole floats; the array is pinned, so it holds for the array's life.
        private static unsafe int OffsetToBoundary(float[] pinned)
        {
            ref float first = ref pinned[0];
            nint address = (nint)Unsafe.AsPointer(ref first);
            return (int)((Boundary - (address & (Boundary - 1))) & (Boundary - 1)) / sizeof(float);
        }
    }
}
