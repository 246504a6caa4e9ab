using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <summary>
    /// 2x2 max pooling at stride 2 without padding, the most common pooling layer, forward and backward for one sample.
    /// PyTorch's rule throughout: each window is scanned in row order, the first maximum wins (a later equal value does
    /// not replace it, so −0 before +0 stays −0), and a NaN wins over everything. The backward pass routes each output
    /// gradient to that same winner, found again from the input and the forward's output.
    /// </summary>
    /// <remarks>
    /// The vector path takes 4 windows at a time: 8 floats of each of the two input rows, even and odd lanes pulled
    /// apart with a shuffle. Row ends are handled by an overlapping last chunk, which writes the same values again.
    /// </remarks>
    public static partial class Pooling
    {
        /// <summary>
        /// y [channels x H/2 x W/2] = 2x2 max pooling, stride 2, of x [channels x height x width] (odd trailing rows and
        /// columns are not covered, as in PyTorch).
        /// </summary>
        public static void MaxPool2x2(ReadOnlySpan<float> x, int channels, int height, int width, Span<float> y) =>
            MaxPool2x2(x, channels, height, width, y, Simd.Enabled);

        internal static void MaxPool2x2(ReadOnlySpan<float> x, int channels, int height, int width, Span<float> y, bool vector)
        {
            var (outHeight, outWidth) = Check(x.Length, channels, height, width, y.Length, nameof(y));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            bool chunks = vector && Vector256.IsHardwareAccelerated && outWidth >= 4;
            for (int c = 0; c < channels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    ref float top = ref Unsafe.Add(ref xs, (c * height + 2 * oy) * width);
                    ref float bottom = ref Unsafe.Add(ref top, width);
                    ref float row = ref Unsafe.Add(ref ys, (c * outHeight + oy) * outWidth);
                    PoolRow(ref top, ref bottom, ref row, outWidth, chunks, relu: false);
                }
            }
        }

        /// <summary>
        /// One row of 2x2 windows over two input rows (of at least 2·<paramref name="outWidth"/> floats), each input
        /// passed through ReLU first when <paramref name="relu"/> (a convolution's fused epilogue).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void PoolRow(ref float top, ref float bottom, ref float row, int outWidth, bool vector, bool relu)
        {
            if (vector && outWidth >= 8 && Vector512.IsHardwareAccelerated)
            {
                // 8 windows at a time from 16 floats of each row.
                var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
                var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15);
                for (int ox = 0; ; ox += 8)
                {
                    if (ox > outWidth - 8) ox = outWidth - 8;
                    var a = Vector512.LoadUnsafe(ref top, (nuint)(2 * ox));
                    var b = Vector512.LoadUnsafe(ref bottom, (nuint)(2 * ox));
                    if (relu)
                    {
                        a = Elementwise.Relu(a);
                        b = Elementwise.Relu(b);
                    }
                    Vector256<float> m;
                    if (Avx512F.IsSupported && Avx512F.CompareUnordered(a, b) == Vector512<float>.Zero)
                    {
                        // No NaN: MAXPS(value, max) is value > max ? value : max, Later itself, in one instruction instead
                        // of two compares, a mask or and a blend.
                        var top2 = Avx512F.Max(Vector512.Shuffle(a, odd), Vector512.Shuffle(a, even)).GetLower();
                        var bottom2 = Avx512F.Max(Vector512.Shuffle(b, odd), Vector512.Shuffle(b, even)).GetLower();
                        // The first maximum of a window is its bottom pair's if strictly greater than its top pair's, else the top pair's.
                        m = Avx.Max(bottom2, top2);
                    }
                    else
                    {
                        var later = Later(Vector512.Shuffle(a, odd), Vector512.Shuffle(a, even));
                        later = Later(Vector512.Shuffle(b, even), later);
                        m = Later(Vector512.Shuffle(b, odd), later).GetLower();
                    }
                    m.StoreUnsafe(ref row, (nuint)ox);
                    if (ox == outWidth - 8) break;
                }
                return;
            }
            if (vector && outWidth >= 4 && Vector256.IsHardwareAccelerated)
            {
                for (int ox = 0; ; ox += 4)
                {
                    if (ox > outWidth - 4) ox = outWidth - 4; // the last chunk overlaps the one before
                    var (e0, o0, e1, o1) = Windows(ref top, ref bottom, ox);
                    if (relu)
                    {
                        e0 = Elementwise.Relu(e0); o0 = Elementwise.Relu(o0); e1 = Elementwise.Relu(e1); o1 = Elementwise.Relu(o1);
                    }
                    var m = Later(o0, e0);
                    m = Later(e1, m);
                    m = Later(o1, m);
                    m.GetLower().StoreUnsafe(ref row, (nuint)ox);
                    if (ox == outWidth - 4) break;
                }
                return;
            }
            for (int ox = 0; ox < outWidth; ox++)
            {
                float m = Relu(Unsafe.Add(ref top, 2 * ox), relu);
                m = Later(Relu(Unsafe.Add(ref top, 2 * ox + 1), relu), m);
                m = Later(Relu(Unsafe.Add(ref bottom, 2 * ox), relu), m);
                m = Later(Relu(Unsafe.Add(ref bottom, 2 * ox + 1), relu), m);
                Unsafe.Add(ref row, ox) = m;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Relu(float v, bool apply) => apply ? Elementwise.Relu(v) : v;

        /// <summary>
        /// dx = the gradient of <see cref="MaxPool2x2(ReadOnlySpan{float}, int, int, int, Span{float})"/>: each of dy's
        /// values at its window's winner, zero elsewhere (dx is written, not accumulated). x and y are the forward's input
        /// and output.
        /// </summary>
        public static void MaxPool2x2Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy,
            int channels, int height, int width, Span<float> dx) =>
            MaxPool2x2Backward(x, y, dy, channels, height, width, dx, Simd.Enabled);

        internal static void MaxPool2x2Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy,
            int channels, int height, int width, Span<float> dx, bool vector)
        {
            var (outHeight, outWidth) = Check(x.Length, channels, height, width, y.Length, nameof(y));
            if (dy.Length < y.Length || dy.Length < channels * outHeight * outWidth)
                throw new ArgumentException("Expected at least " + channels * outHeight * outWidth + " floats.", nameof(dy));
            if (dx.Length < channels * height * width)
                throw new ArgumentException("Expected at least " + channels * height * width + " floats.", nameof(dx));
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            ref float gs = ref MemoryMarshal.GetReference(dy);
            ref float ds = ref MemoryMarshal.GetReference(dx);
            bool chunks = vector && Vector256.IsHardwareAccelerated && outWidth >= 4;
            for (int c = 0; c < channels; c++)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int topAt = (c * height + 2 * oy) * width;
                    ref float top = ref Unsafe.Add(ref xs, topAt);
                    ref float bottom = ref Unsafe.Add(ref top, width);
                    ref float dTop = ref Unsafe.Add(ref ds, topAt);
                    ref float dBottom = ref Unsafe.Add(ref dTop, width);
                    int outAt = (c * outHeight + oy) * outWidth;
                    ref float yRow = ref Unsafe.Add(ref ys, outAt);
                    ref float gRow = ref Unsafe.Add(ref gs, outAt);
                    if (chunks)
                    {
                        for (int ox = 0; ; ox += 4)
                        {
                            if (ox > outWidth - 4) ox = outWidth - 4;
                            RouteChunk(ref top, ref bottom, ref yRow, ref gRow, ref dTop, ref dBottom, ox);
                            if (ox == outWidth - 4) break;
                        }
                    }
                    else
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            float m = Unsafe.Add(ref yRow, ox), g = Unsafe.Add(ref gRow, ox);
                            ref float a = ref Unsafe.Add(ref top, 2 * ox);
                            ref float b = ref Unsafe.Add(ref bottom, 2 * ox);
                            bool w0 = Wins(a, m), w1 = !w0 && Wins(Unsafe.Add(ref a, 1), m);
                            bool w2 = !w0 && !w1 && Wins(b, m), w3 = !w0 && !w1 && !w2;
                            Unsafe.Add(ref dTop, 2 * ox) = w0 ? g : 0f;
                            Unsafe.Add(ref dTop, 2 * ox + 1) = w1 ? g : 0f;
                            Unsafe.Add(ref dBottom, 2 * ox) = w2 ? g : 0f;
                            Unsafe.Add(ref dBottom, 2 * ox + 1) = w3 ? g : 0f;
                        }
                    }
                    // An odd width leaves a column no window covers.
                    for (int ix = 2 * outWidth; ix < width; ix++)
                    {
                        Unsafe.Add(ref dTop, ix) = 0f;
                        Unsafe.Add(ref dBottom, ix) = 0f;
                    }
                }
                // An odd height leaves a row no window covers.
                if (2 * outHeight < height) dx.Slice((c * height + height - 1) * width, width).Clear();
            }
        }

        private static (int OutHeight, int OutWidth) Check(int xLength, int channels, int height, int width, int yLength, string yName)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
            if (height < 2) throw new ArgumentOutOfRangeException(nameof(height), height, "A 2x2 window needs at least 2 rows.");
            if (width < 2) throw new ArgumentOutOfRangeException(nameof(width), width, "A 2x2 window needs at least 2 columns.");
            if (xLength < channels * height * width)
                throw new ArgumentException("Expected at least " + channels * height * width + " floats.", "x");
            int outHeight = height / 2, outWidth = width / 2;
            if (yLength < channels * outHeight * outWidth)
                throw new ArgumentException("Expected at least " + channels * outHeight * outWidth + " floats.", yName);
            return (outHeight, outWidth);
        }

        // The scan rule: a later value replaces the running maximum when it is greater, or NaN.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Later(float value, float max) => value > max || float.IsNaN(value) ? value : max;

        // Whether a cell wins its window, given the window's maximum (the first such cell in scan order is the winner).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool Wins(float value, float max) => value == max || float.IsNaN(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<float> Later(Vector256<float> value, Vector256<float> max)
        {
            var replace = Vector256.GreaterThan(value, max) | IsNaN(value);
            return Vector256.ConditionalSelect(replace, value, max);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<float> Later(Vector512<float> value, Vector512<float> max)
        {
            var replace = Vector512.GreaterThan(value, max) | ~Vector512.Equals(value, value);
            return Vector512.ConditionalSelect(replace, value, max);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> IsNaN(Vector256<float> value) => ~Vector256.Equals(value, value);

        // The 4 windows starting at output column ox: their top-left, top-right, bottom-left and bottom-right cells
        // in the low 4 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Windows(ref float top, ref float bottom, int ox)
        {
            var a = Vector256.LoadUnsafe(ref top, (nuint)(2 * ox));
            var b = Vector256.LoadUnsafe(ref bottom, (nuint)(2 * ox));
            var even = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
            var odd = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);
            return (Vector256.Shuffle(a, even), Vector256.Shuffle(a, odd), Vector256.Shuffle(b, even), Vector256.Shuffle(b, odd));
        }

        // Backward for 4 windows: in the input's own layout (8 lanes per row), each lane is compared with its window's
        // maximum; a lane wins when it matches and no earlier cell of its window did.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void RouteChunk(ref float top, ref float bottom, ref float yRow, ref float gRow, ref float dTop, ref float dBottom, int ox)
        {
            var pairs = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
            var swap = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
            var oddLanes = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
            var m = Vector256.Shuffle(Vector128.LoadUnsafe(ref yRow, (nuint)ox).ToVector256Unsafe(), pairs);
            var g = Vector256.Shuffle(Vector128.LoadUnsafe(ref gRow, (nuint)ox).ToVector256Unsafe(), pairs);
            var a = Vector256.LoadUnsafe(ref top, (nuint)(2 * ox));
            var b = Vector256.LoadUnsafe(ref bottom, (nuint)(2 * ox));
            var matchTop = Vector256.Equals(a, m) | IsNaN(a);
            var matchBottom = Vector256.Equals(b, m) | IsNaN(b);
            var topPartner = Vector256.Shuffle(matchTop, swap);
            var winTop = Vector256.AndNot(matchTop, topPartner & oddLanes);
            var winBottom = Vector256.AndNot(Vector256.AndNot(matchBottom, Vector256.Shuffle(matchBottom, swap) & oddLanes), matchTop | topPartner);
            (g & winTop).StoreUnsafe(ref dTop, (nuint)(2 * ox));
            (g & winBottom).StoreUnsafe(ref dBottom, (nuint)(2 * ox));
        }
    }
}
