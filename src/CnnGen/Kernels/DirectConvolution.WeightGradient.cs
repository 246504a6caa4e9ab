using System;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    // The weight gradient of the stride-1 direct convolution: d weight[oc, tap] = Σ over output cells of d y[oc, cell] times
    // the padded input at the cell plus the tap's offset ic·plane + ky·(W+2p) + kx.
    public static partial class DirectConvolution
    {
        /// <summary>The two weight-gradient kernels of the vector paths; tests and KernelBench run each on any shape.</summary>
        internal enum WeightKernel
        {
            /// <summary>Dot products along the flat rows (Vector512 only): 4 channels x 4 taps, sums across lanes at the end.</summary>
            Dot,
            /// <summary>Output channels in the lanes (d y transposed): no sums across lanes.</summary>
            Lanes,
        }

        // Floats of d y transposed to [block][cell][lanes] and of d weight transposed to [block][tap][lanes], channels
        // rounded up to whole vectors of 16 (which covers the Vector256 path's 8).
        private static int WeightScratch(in Geometry g, int outChannels) => (outChannels + 15) / 16 * 16 * (g.OutHeight * g.OutWidth + g.Taps);

        // Measured (KernelBench "backward", Vector512, Dot against Lanes interleaved in thread CPU time, 2026-12-01, load 29-30; us):
        //   1x28x28->6 k5 2.3 / 8.3; 6x14x14->16 k5 4.9 / 3.4; 3x32x32->32 11.6 / 11.8; 32x32x32->32 90.6 / 84.8;
        //   32x16x16->64 58.2 / 43.6; 64x16x16->64 114.0 / 86.2; 3x32x32->16 6.0 / 7.4; 16x32x32->16 24.0 / 27.3;
        //   32x16x16->32 28.9 / 21.5; 64x8x8->64 53.8 / 25.4; 128x8x8->128 208.5 / 102.8; 16x64x64->16 89.6 / 106.8;
        //   24x20x20->40 p0 32.7 / 34.1.
        // Channel lanes win from two whole blocks of 16 channels on (each broadcast of x feeds two FMAs) and on short rows;
        // fewer channels on long rows (one block is load-bound: a broadcast per FMA; a partial second block wastes lanes)
        // go to the dot products, and so do 8 channels or fewer.
        private static WeightKernel PickWeightKernel(in Geometry g, int outChannels, KernelPath path) =>
            path == KernelPath.Vector512 && (outChannels <= 8 || (outChannels < 32 && g.FlatLength >= 512)) ? WeightKernel.Dot : WeightKernel.Lanes;

        /// <summary>The kernel the default path runs for this shape's weight gradient (KernelBench prints it).</summary>
        internal static WeightKernel PickedWeightKernel(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            PickWeightKernel(new Geometry(inChannels, height, width, kernel, padding), outChannels, KernelPaths.Default);

        /// <summary>
        /// Adds d weight to <paramref name="weightGradient"/> from the padded input (already in the scratch) with the chosen kernel;
        /// true when it left d y in flat rows after the padded input (the Dot kernel reads them there).
        /// </summary>
        private static bool WeightGradient(ReadOnlySpan<float> padded, ReadOnlySpan<float> outputGradient, int outChannels,
            Span<float> weightGradient, Span<float> scratch, in Geometry g, KernelPath path, WeightKernel kernel)
        {
            if (kernel == WeightKernel.Dot && path == KernelPath.Vector512 && g.OutWidth % 16 == 0)
            {
                // Rows of whole vectors: the dot products run along d y's own rows and the padded input's, no flat copy.
                for (int first = 0; first < outChannels; first += ChannelBlock)
                    WeightGradientDotRows512(padded, outputGradient, first, Math.Min(ChannelBlock, outChannels - first), weightGradient, g);
                return false;
            }
            if (kernel == WeightKernel.Dot && path == KernelPath.Vector512)
            {
                var dyFlat = scratch.Slice(g.PaddedLength, outChannels * g.FlatLength);
                FlattenRows(outputGradient, outChannels, dyFlat, g);
                for (int first = 0; first < outChannels; first += ChannelBlock)
                    WeightGradientDot512(padded, dyFlat, first, Math.Min(ChannelBlock, outChannels - first), weightGradient, g);
                return true;
            }
            int width = path == KernelPath.Vector512 ? 16 : 8;
            int lanes = (outChannels + width - 1) / width * width, cells = g.OutHeight * g.OutWidth;
            var rest = scratch.Slice(g.PaddedLength + outChannels * g.FlatLength);
            var dyT = rest.Slice(0, cells * lanes);
            var dWT = rest.Slice(cells * lanes, g.Taps * lanes);
            TransposeToBlocks(outputGradient, outChannels, cells, dyT, width);
            dWT.Clear();
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float dy = ref MemoryMarshal.GetReference(dyT);
            ref float dw = ref MemoryMarshal.GetReference(dWT);
            if (width == 16)
            {
                for (int block = 0; block < lanes;)
                {
                    bool pair = block + 32 <= lanes;
                    int rows = RowsPerPass(g.OutWidth, pair ? 32 : 16);
                    for (int oy = 0; oy < g.OutHeight; oy += rows)
                    {
                        if (pair) LanesPass512<C2>(ref x, ref dy, cells, block, oy, Math.Min(rows, g.OutHeight - oy), ref dw, g);
                        else LanesPass512<C1>(ref x, ref dy, cells, block, oy, Math.Min(rows, g.OutHeight - oy), ref dw, g);
                    }
                    block += pair ? 32 : 16;
                }
            }
            else
            {
                for (int block = 0; block < lanes;)
                {
                    bool pair = PairedBlocks256 && block + 16 <= lanes;
                    int rows = RowsPerPass(g.OutWidth, pair ? 16 : 8);
                    for (int oy = 0; oy < g.OutHeight; oy += rows)
                    {
                        if (pair) LanesPairPass256(ref x, ref dy, cells, block, oy, Math.Min(rows, g.OutHeight - oy), ref dw, g);
                        else LanesPass256(ref x, ref dy, cells, block, oy, Math.Min(rows, g.OutHeight - oy), ref dw, g);
                    }
                    block += pair ? 16 : 8;
                }
            }
            AddTransposedBack(dWT, outChannels, g.Taps, weightGradient, width);
            return false;
        }

        /// <summary>
        /// The weight gradient alone with the given kernel (the scalar path ignores it): for tests and KernelBench, which
        /// run each kernel on shapes the rule gives to the other.
        /// </summary>
        internal static void WeightGradientOn(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> outputGradient,
            int outChannels, int kernel, int padding, Span<float> weightGradient, Span<float> scratch, KernelPath path, WeightKernel weightKernel)
        {
            var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, x.Length, outChannels * inChannels * kernel * kernel);
            Require(outputGradient.Length >= outChannels * g.OutHeight * g.OutWidth, nameof(outputGradient), outChannels * g.OutHeight * g.OutWidth);
            Require(weightGradient.Length >= outChannels * g.Taps, nameof(weightGradient), outChannels * g.Taps);
            Require(scratch.Length >= BackwardScratch(g, outChannels), nameof(scratch), BackwardScratch(g, outChannels));
            if (path == KernelPath.Scalar)
            {
                BackwardScalar(x, default, outputGradient, outChannels, weightGradient, default, g);
                return;
            }
            var padded = scratch.Slice(0, g.PaddedLength);
            Pad(x, padded, g);
            WeightGradient(padded, outputGradient, outChannels, weightGradient, scratch, g, path, weightKernel);
        }

        /// <summary>
        /// The padded-input offsets of up to 8 consecutive taps (ic, ky, kx in PyTorch's order), the taps past the last
        /// repeating it: two divisions for the first, then steps (a division per tap cost as much as a short tile's FMAs).
        /// </summary>
        internal readonly struct TapOffsets8
        {
            public readonly int O0, O1, O2, O3, O4, O5, O6, O7;

            public TapOffsets8(int tap, int count, int kernel, int rowStride, int plane)
                : this(tap, count, kernel, kernel, rowStride, plane)
            {
            }

            public TapOffsets8(int tap, int count, int kernelHeight, int kernelWidth, int rowStride, int plane)
            {
                int kk = kernelHeight * kernelWidth, ic = tap / kk, rest = tap - ic * kk, ky = rest / kernelWidth, kx = rest - ky * kernelWidth;
                int offset = ic * plane + ky * rowStride + kx;
                O0 = offset;
                O1 = count > 1 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O2 = count > 2 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O3 = count > 3 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O4 = count > 4 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O5 = count > 5 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O6 = count > 6 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
                O7 = count > 7 ? Step(ref offset, ref ky, ref kx, kernelHeight, kernelWidth, rowStride, plane) : offset;
            }

            private static int Step(ref int offset, ref int ky, ref int kx, int kernelHeight, int kernelWidth, int rowStride, int plane)
            {
                offset++;
                if (++kx == kernelWidth)
                {
                    kx = 0;
                    offset += rowStride - kernelWidth;
                    if (++ky == kernelHeight)
                    {
                        ky = 0;
                        offset += plane - kernelHeight * rowStride;
                    }
                }
                return offset;
            }
        }

        // Rows of output cells per pass over the taps: a pass's d y (cells x lanes) stays in L1 (half of its 48 KB on this
        // machine's cores, the rest for the padded input rows the taps read) while every tap group reads it again.
        private const int PassFloats = 6 * 1024;

        private static int RowsPerPass(int outWidth, int lanes) => Math.Max(1, PassFloats / (outWidth * lanes));

        // d y [channels x cells] to [block of V channels][cell][V], the lanes past the last channel zero; whole 16 x 16 squares
        // by register transposes.
        internal static void TransposeToBlocks(ReadOnlySpan<float> dy, int channels, int cells, Span<float> dyT, int width)
        {
            ref float source = ref MemoryMarshal.GetReference(dy);
            ref float target = ref MemoryMarshal.GetReference(dyT);
            for (int block = 0; block < channels; block += width)
            {
                int count = Math.Min(width, channels - block);
                ref float from = ref Unsafe.Add(ref source, block * cells);
                ref float to = ref Unsafe.Add(ref target, block * cells);
                int cell = 0;
                if (width == 16 && count == 16 && Avx512F.IsSupported)
                {
                    for (; cell + 16 <= cells; cell += 16) Transpose16(ref Unsafe.Add(ref from, cell), cells, ref Unsafe.Add(ref to, cell * 16));
                }
                else if (width == 16 && count == 16 && Avx2.IsSupported && Simd.Enabled)
                {
                    // Each half of the block by 8 x 8 transposes (machines without AVX-512).
                    for (; cell + 8 <= cells; cell += 8)
                    {
                        Gemm.Transpose8x8(ref Unsafe.Add(ref from, cell), cells, ref Unsafe.Add(ref to, cell * 16), 16);
                        Gemm.Transpose8x8(ref Unsafe.Add(ref from, 8 * cells + cell), cells, ref Unsafe.Add(ref to, cell * 16 + 8), 16);
                    }
                }
                for (; cell < cells; cell++)
                {
                    ref float lanes = ref Unsafe.Add(ref to, cell * width);
                    int l = 0;
                    for (; l < count; l++) Unsafe.Add(ref lanes, l) = Unsafe.Add(ref from, l * cells + cell);
                    for (; l < width; l++) Unsafe.Add(ref lanes, l) = 0f;
                }
            }
        }

        // d weight [channels x taps] += d weightᵀ [block][tap][V]: whole 16 x 16 squares by register transposes.
        internal static void AddTransposedBack(ReadOnlySpan<float> dWT, int channels, int taps, Span<float> weightGradient, int width)
        {
            Span<float> square = stackalloc float[256];
            ref float sq = ref MemoryMarshal.GetReference(square);
            ref float source = ref MemoryMarshal.GetReference(dWT);
            ref float target = ref MemoryMarshal.GetReference(weightGradient);
            for (int block = 0; block < channels; block += width)
            {
                int count = Math.Min(width, channels - block);
                ref float from = ref Unsafe.Add(ref source, block * taps);
                ref float to = ref Unsafe.Add(ref target, block * taps);
                int tap = 0;
                if (width == 16 && count == 16 && Avx512F.IsSupported)
                {
                    for (; tap + 16 <= taps; tap += 16)
                    {
                        Transpose16(ref Unsafe.Add(ref from, tap * 16), 16, ref sq);
                        for (int l = 0; l < 16; l++)
                        {
                            ref float row = ref Unsafe.Add(ref to, l * taps + tap);
                            (Vector512.LoadUnsafe(ref row) + Vector512.LoadUnsafe(ref sq, (nuint)(l * 16))).StoreUnsafe(ref row);
                        }
                    }
                }
                else if (width == 16 && count == 16 && Avx2.IsSupported && Simd.Enabled)
                {
                    // 8 taps of each half of the block by an 8 x 8 transpose (machines without AVX-512): one add per value, as below.
                    for (; tap + 8 <= taps; tap += 8)
                        for (int h = 0; h < 2; h++)
                        {
                            Gemm.Transpose8x8(ref Unsafe.Add(ref from, tap * 16 + h * 8), 16, ref sq, 8);
                            for (int l = 0; l < 8; l++)
                            {
                                ref float row = ref Unsafe.Add(ref to, (h * 8 + l) * taps + tap);
                                (Vector256.LoadUnsafe(ref row) + Vector256.LoadUnsafe(ref sq, (nuint)(l * 8))).StoreUnsafe(ref row);
                            }
                        }
                }
                for (; tap < taps; tap++)
                {
                    for (int l = 0; l < count; l++) Unsafe.Add(ref to, l * taps + tap) += Unsafe.Add(ref from, tap * width + l);
                }
            }
        }

        // One pass over rows [firstRow, firstRow + rows) of output cells for 1 or 2 blocks of 16 channels: 8 taps per tile,
        // each broadcast of x feeding one FMA per block; the tile's sums are added to d weightᵀ.
        private static void LanesPass512<TBlocks>(ref float x, ref float dyT, int cells, int block, int firstRow, int rows, ref float dWT, in Geometry g)
            where TBlocks : struct, IConstant
        {
            const int V = 16;
            int pw = g.PaddedWidth, outWidth = g.OutWidth, taps = g.Taps;
            ref float d0 = ref Unsafe.Add(ref dyT, block * cells + firstRow * outWidth * V);
            ref float d1 = ref Unsafe.Add(ref d0, TBlocks.Value > 1 ? V * cells : 0);
            ref float w0 = ref Unsafe.Add(ref dWT, block * taps);
            ref float w1 = ref Unsafe.Add(ref w0, TBlocks.Value > 1 ? V * taps : 0);
            ref float x0 = ref Unsafe.Add(ref x, firstRow * pw);
            for (int tap = 0; tap < taps; tap += 8)
            {
                int count = Math.Min(8, taps - tap);
                // Taps past the last repeat it and are not added back.
                var offsets = new TapOffsets8(tap, count, g.KernelHeight, g.KernelWidth, g.PaddedWidth, g.Plane);
                int o0 = offsets.O0, o1 = offsets.O1, o2 = offsets.O2, o3 = offsets.O3, o4 = offsets.O4, o5 = offsets.O5, o6 = offsets.O6, o7 = offsets.O7;
                var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                var b0 = a0; var b1 = a0; var b2 = a0; var b3 = a0; var b4 = a0; var b5 = a0; var b6 = a0; var b7 = a0;
                nuint cell = 0;
                for (int oy = 0; oy < rows; oy++)
                {
                    ref float row = ref Unsafe.Add(ref x0, oy * pw);
                    for (int ox = 0; ox < outWidth; ox++, cell += V)
                    {
                        var d = Vector512.LoadUnsafe(ref d0, cell);
                        var e = TBlocks.Value > 1 ? Vector512.LoadUnsafe(ref d1, cell) : default;
                        ref float at = ref Unsafe.Add(ref row, ox);
                        var c = Vector512.Create(Unsafe.Add(ref at, o0)); a0 = Fused.MultiplyAdd(c, d, a0); if (TBlocks.Value > 1) b0 = Fused.MultiplyAdd(c, e, b0);
                        c = Vector512.Create(Unsafe.Add(ref at, o1)); a1 = Fused.MultiplyAdd(c, d, a1); if (TBlocks.Value > 1) b1 = Fused.MultiplyAdd(c, e, b1);
                        c = Vector512.Create(Unsafe.Add(ref at, o2)); a2 = Fused.MultiplyAdd(c, d, a2); if (TBlocks.Value > 1) b2 = Fused.MultiplyAdd(c, e, b2);
                        c = Vector512.Create(Unsafe.Add(ref at, o3)); a3 = Fused.MultiplyAdd(c, d, a3); if (TBlocks.Value > 1) b3 = Fused.MultiplyAdd(c, e, b3);
                        c = Vector512.Create(Unsafe.Add(ref at, o4)); a4 = Fused.MultiplyAdd(c, d, a4); if (TBlocks.Value > 1) b4 = Fused.MultiplyAdd(c, e, b4);
                        c = Vector512.Create(Unsafe.Add(ref at, o5)); a5 = Fused.MultiplyAdd(c, d, a5); if (TBlocks.Value > 1) b5 = Fused.MultiplyAdd(c, e, b5);
                        c = Vector512.Create(Unsafe.Add(ref at, o6)); a6 = Fused.MultiplyAdd(c, d, a6); if (TBlocks.Value > 1) b6 = Fused.MultiplyAdd(c, e, b6);
                        c = Vector512.Create(Unsafe.Add(ref at, o7)); a7 = Fused.MultiplyAdd(c, d, a7); if (TBlocks.Value > 1) b7 = Fused.MultiplyAdd(c, e, b7);
                    }
                }
                AddTaps(ref Unsafe.Add(ref w0, tap * V), count, a0, a1, a2, a3, a4, a5, a6, a7);
                if (TBlocks.Value > 1) AddTaps(ref Unsafe.Add(ref w1, tap * V), count, b0, b1, b2, b3, b4, b5, b6, b7);
            }
        }

        // target[k·16 .. k·16 + 15] += a_k for the first count taps; the strided weight gradient shares it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void AddTaps(ref float target, int count, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
            Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7)
        {
            const int V = 16;
            (Vector512.LoadUnsafe(ref target) + a0).StoreUnsafe(ref target);
            if (count > 1) (Vector512.LoadUnsafe(ref target, 1 * V) + a1).StoreUnsafe(ref target, 1 * V);
            if (count > 2) (Vector512.LoadUnsafe(ref target, 2 * V) + a2).StoreUnsafe(ref target, 2 * V);
            if (count > 3) (Vector512.LoadUnsafe(ref target, 3 * V) + a3).StoreUnsafe(ref target, 3 * V);
            if (count > 4) (Vector512.LoadUnsafe(ref target, 4 * V) + a4).StoreUnsafe(ref target, 4 * V);
            if (count > 5) (Vector512.LoadUnsafe(ref target, 5 * V) + a5).StoreUnsafe(ref target, 5 * V);
            if (count > 6) (Vector512.LoadUnsafe(ref target, 6 * V) + a6).StoreUnsafe(ref target, 6 * V);
            if (count > 7) (Vector512.LoadUnsafe(ref target, 7 * V) + a7).StoreUnsafe(ref target, 7 * V);
        }

        /// <summary>
        /// Off: the Vector256 weight gradient takes one block of 8 output channels x 8 taps at a time (8 accumulators, 9 loads
        /// a cell), not two blocks x 6 taps (12 accumulators, 8 loads).
        /// </summary>
        internal static bool PairedBlocks256 { get; set; } = true;

        // Two blocks of 8 output channels (16 lanes of d y: the block's cell and the next block's) x 6 taps.
        private static void LanesPairPass256(ref float x, ref float dyT, int cells, int block, int firstRow, int rows, ref float dWT, in Geometry g)
        {
            const int V = 8;
            int pw = g.PaddedWidth, outWidth = g.OutWidth, taps = g.Taps;
            ref float d0 = ref Unsafe.Add(ref dyT, block * cells + firstRow * outWidth * V);
            nuint next = (nuint)(V * cells), nextTaps = (nuint)(V * taps);
            ref float w0 = ref Unsafe.Add(ref dWT, block * taps);
            ref float x0 = ref Unsafe.Add(ref x, firstRow * pw);
            for (int tap = 0; tap < taps; tap += 6)
            {
                int count = Math.Min(6, taps - tap);
                var offsets = new TapOffsets8(tap, count, g.KernelHeight, g.KernelWidth, g.PaddedWidth, g.Plane);
                int o0 = offsets.O0, o1 = offsets.O1, o2 = offsets.O2, o3 = offsets.O3, o4 = offsets.O4, o5 = offsets.O5;
                var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0;
                var b0 = a0; var b1 = a0; var b2 = a0; var b3 = a0; var b4 = a0; var b5 = a0;
                nuint cell = 0;
                for (int oy = 0; oy < rows; oy++)
                {
                    ref float row = ref Unsafe.Add(ref x0, oy * pw);
                    for (int ox = 0; ox < outWidth; ox++, cell += V)
                    {
                        var d = Vector256.LoadUnsafe(ref d0, cell);
                        var e = Vector256.LoadUnsafe(ref d0, cell + next);
                        ref float at = ref Unsafe.Add(ref row, ox);
                        var k = Vector256.Create(Unsafe.Add(ref at, o0)); a0 = Fused.MultiplyAdd(k, d, a0); b0 = Fused.MultiplyAdd(k, e, b0);
                        k = Vector256.Create(Unsafe.Add(ref at, o1)); a1 = Fused.MultiplyAdd(k, d, a1); b1 = Fused.MultiplyAdd(k, e, b1);
                        k = Vector256.Create(Unsafe.Add(ref at, o2)); a2 = Fused.MultiplyAdd(k, d, a2); b2 = Fused.MultiplyAdd(k, e, b2);
                        k = Vector256.Create(Unsafe.Add(ref at, o3)); a3 = Fused.MultiplyAdd(k, d, a3); b3 = Fused.MultiplyAdd(k, e, b3);
                        k = Vector256.Create(Unsafe.Add(ref at, o4)); a4 = Fused.MultiplyAdd(k, d, a4); b4 = Fused.MultiplyAdd(k, e, b4);
                        k = Vector256.Create(Unsafe.Add(ref at, o5)); a5 = Fused.MultiplyAdd(k, d, a5); b5 = Fused.MultiplyAdd(k, e, b5);
                    }
                }
                ref float target = ref Unsafe.Add(ref w0, tap * V);
                AddTo(ref target, 0, a0, b0, nextTaps);
                if (count > 1) AddTo(ref target, 1 * V, a1, b1, nextTaps);
                if (count > 2) AddTo(ref target, 2 * V, a2, b2, nextTaps);
                if (count > 3) AddTo(ref target, 3 * V, a3, b3, nextTaps);
                if (count > 4) AddTo(ref target, 4 * V, a4, b4, nextTaps);
                if (count > 5) AddTo(ref target, 5 * V, a5, b5, nextTaps);
            }
        }

        // A tap's sums of two blocks added to d weight transposed: the first block's at `at`, the next's nextTaps floats on.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddTo(ref float target, nuint at, Vector256<float> first, Vector256<float> second, nuint nextTaps)
        {
            (Vector256.LoadUnsafe(ref target, at) + first).StoreUnsafe(ref target, at);
            (Vector256.LoadUnsafe(ref target, at + nextTaps) + second).StoreUnsafe(ref target, at + nextTaps);
        }

        // The Vector256 pass: one block of 8 channels x 8 taps (10 of the 16 registers).
        private static void LanesPass256(ref float x, ref float dyT, int cells, int block, int firstRow, int rows, ref float dWT, in Geometry g)
        {
            const int V = 8;
            int pw = g.PaddedWidth, outWidth = g.OutWidth, taps = g.Taps;
            ref float d0 = ref Unsafe.Add(ref dyT, block * cells + firstRow * outWidth * V);
            ref float w0 = ref Unsafe.Add(ref dWT, block * taps);
            ref float x0 = ref Unsafe.Add(ref x, firstRow * pw);
            for (int tap = 0; tap < taps; tap += 8)
            {
                int count = Math.Min(8, taps - tap);
                var offsets = new TapOffsets8(tap, count, g.KernelHeight, g.KernelWidth, g.PaddedWidth, g.Plane);
                int o0 = offsets.O0, o1 = offsets.O1, o2 = offsets.O2, o3 = offsets.O3, o4 = offsets.O4, o5 = offsets.O5, o6 = offsets.O6, o7 = offsets.O7;
                var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                nuint cell = 0;
                for (int oy = 0; oy < rows; oy++)
                {
                    ref float row = ref Unsafe.Add(ref x0, oy * pw);
                    for (int ox = 0; ox < outWidth; ox++, cell += V)
                    {
                        var d = Vector256.LoadUnsafe(ref d0, cell);
                        ref float at = ref Unsafe.Add(ref row, ox);
                        a0 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o0)), d, a0);
                        a1 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o1)), d, a1);
                        a2 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o2)), d, a2);
                        a3 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o3)), d, a3);
                        a4 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o4)), d, a4);
                        a5 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o5)), d, a5);
                        a6 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o6)), d, a6);
                        a7 = Fused.MultiplyAdd(Vector256.Create(Unsafe.Add(ref at, o7)), d, a7);
                    }
                }
                ref float target = ref Unsafe.Add(ref w0, tap * V);
                (Vector256.LoadUnsafe(ref target) + a0).StoreUnsafe(ref target);
                if (count > 1) (Vector256.LoadUnsafe(ref target, 1 * V) + a1).StoreUnsafe(ref target, 1 * V);
                if (count > 2) (Vector256.LoadUnsafe(ref target, 2 * V) + a2).StoreUnsafe(ref target, 2 * V);
                if (count > 3) (Vector256.LoadUnsafe(ref target, 3 * V) + a3).StoreUnsafe(ref target, 3 * V);
                if (count > 4) (Vector256.LoadUnsafe(ref target, 4 * V) + a4).StoreUnsafe(ref target, 4 * V);
                if (count > 5) (Vector256.LoadUnsafe(ref target, 5 * V) + a5).StoreUnsafe(ref target, 5 * V);
                if (count > 6) (Vector256.LoadUnsafe(ref target, 6 * V) + a6).StoreUnsafe(ref target, 6 * V);
                if (count > 7) (Vector256.LoadUnsafe(ref target, 7 * V) + a7).StoreUnsafe(ref target, 7 * V);
            }
        }

        // Few output channels: 4 channels x 4 taps of Vector512 dot products along the flat rows (long rows amortize the
        // sums across lanes at the end).
        private static void WeightGradientDot512(ReadOnlySpan<float> padded, ReadOnlySpan<float> dyFlat, int first, int count,
            Span<float> weightGradient, in Geometry g)
        {
            const int V = 16;
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float dy = ref MemoryMarshal.GetReference(dyFlat);
            int fl = g.FlatLength;
            ref float d0 = ref Unsafe.Add(ref dy, first * fl);
            ref float d1 = ref Unsafe.Add(ref dy, (first + Math.Min(1, count - 1)) * fl);
            ref float d2 = ref Unsafe.Add(ref dy, (first + Math.Min(2, count - 1)) * fl);
            ref float d3 = ref Unsafe.Add(ref dy, (first + Math.Min(3, count - 1)) * fl);
            for (int tap = 0; tap < g.Taps; tap += 4)
            {
                int taps = Math.Min(4, g.Taps - tap);
                var offsets = new TapOffsets8(tap, taps, g.KernelHeight, g.KernelWidth, g.PaddedWidth, g.Plane);
                ref float x0 = ref Unsafe.Add(ref x, offsets.O0);
                ref float x1 = ref Unsafe.Add(ref x, offsets.O1);
                ref float x2 = ref Unsafe.Add(ref x, offsets.O2);
                ref float x3 = ref Unsafe.Add(ref x, offsets.O3);
                var a00 = Vector512<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
                var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
                var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
                var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
                for (int j = 0; j < fl; j += V)
                {
                    nuint at = (nuint)j;
                    var c0 = Vector512.LoadUnsafe(ref x0, at); var c1 = Vector512.LoadUnsafe(ref x1, at);
                    var c2 = Vector512.LoadUnsafe(ref x2, at); var c3 = Vector512.LoadUnsafe(ref x3, at);
                    var r = Vector512.LoadUnsafe(ref d0, at);
                    a00 = Fused.MultiplyAdd(r, c0, a00); a01 = Fused.MultiplyAdd(r, c1, a01); a02 = Fused.MultiplyAdd(r, c2, a02); a03 = Fused.MultiplyAdd(r, c3, a03);
                    r = Vector512.LoadUnsafe(ref d1, at);
                    a10 = Fused.MultiplyAdd(r, c0, a10); a11 = Fused.MultiplyAdd(r, c1, a11); a12 = Fused.MultiplyAdd(r, c2, a12); a13 = Fused.MultiplyAdd(r, c3, a13);
                    r = Vector512.LoadUnsafe(ref d2, at);
                    a20 = Fused.MultiplyAdd(r, c0, a20); a21 = Fused.MultiplyAdd(r, c1, a21); a22 = Fused.MultiplyAdd(r, c2, a22); a23 = Fused.MultiplyAdd(r, c3, a23);
                    r = Vector512.LoadUnsafe(ref d3, at);
                    a30 = Fused.MultiplyAdd(r, c0, a30); a31 = Fused.MultiplyAdd(r, c1, a31); a32 = Fused.MultiplyAdd(r, c2, a32); a33 = Fused.MultiplyAdd(r, c3, a33);
                }
                // Sixteen sums across lanes, eight at a time side by side.
                AddSums(weightGradient, first, count, tap, taps, g.Taps,
                    Gemm.SumEach(a00, a01, a02, a03, a10, a11, a12, a13), Gemm.SumEach(a20, a21, a22, a23, a30, a31, a32, a33));
            }
        }

        // WeightGradientDot512 on output rows of whole vectors (OutWidth a multiple of 16): d y read where it is, row by row,
        // against the padded input's rows at the tap's offset; the sums stay in registers across rows. Against the flat rows
        // it saves d y's copy into them (a pass over d y per sample) and the products of their zero columns (2 in 34 at 32
        // wide). Both in one process, interleaved thread CPU time (load 15), Pad and all, µs, flat -> rows: 16x32x32->16
        // 38.4 -> 36.6, 3x32x32->16 9.3 -> 6.9, 16x64x64->16 143.8 -> 113.4, 8x32x32->8 10.6 -> 9.3, 3x32x32->32 17.8 -> 13.4.
        private static void WeightGradientDotRows512(ReadOnlySpan<float> padded, ReadOnlySpan<float> outputGradient, int first, int count,
            Span<float> weightGradient, in Geometry g)
        {
            const int V = 16;
            ref float x = ref MemoryMarshal.GetReference(padded);
            ref float dy = ref MemoryMarshal.GetReference(outputGradient);
            int cells = g.OutHeight * g.OutWidth, outWidth = g.OutWidth, pw = g.PaddedWidth;
            ref float d0 = ref Unsafe.Add(ref dy, first * cells);
            ref float d1 = ref Unsafe.Add(ref dy, (first + Math.Min(1, count - 1)) * cells);
            ref float d2 = ref Unsafe.Add(ref dy, (first + Math.Min(2, count - 1)) * cells);
            ref float d3 = ref Unsafe.Add(ref dy, (first + Math.Min(3, count - 1)) * cells);
            for (int tap = 0; tap < g.Taps; tap += 4)
            {
                int taps = Math.Min(4, g.Taps - tap);
                var offsets = new TapOffsets8(tap, taps, g.KernelHeight, g.KernelWidth, g.PaddedWidth, g.Plane);
                ref float x0 = ref Unsafe.Add(ref x, offsets.O0);
                ref float x1 = ref Unsafe.Add(ref x, offsets.O1);
                ref float x2 = ref Unsafe.Add(ref x, offsets.O2);
                ref float x3 = ref Unsafe.Add(ref x, offsets.O3);
                var a00 = Vector512<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
                var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
                var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
                var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    nuint xRow = (nuint)(oy * pw), dRow = (nuint)(oy * outWidth);
                    for (int j = 0; j < outWidth; j += V)
                    {
                        nuint at = xRow + (nuint)j, dAt = dRow + (nuint)j;
                        var c0 = Vector512.LoadUnsafe(ref x0, at); var c1 = Vector512.LoadUnsafe(ref x1, at);
                        var c2 = Vector512.LoadUnsafe(ref x2, at); var c3 = Vector512.LoadUnsafe(ref x3, at);
                        var r = Vector512.LoadUnsafe(ref d0, dAt);
                        a00 = Fused.MultiplyAdd(r, c0, a00); a01 = Fused.MultiplyAdd(r, c1, a01); a02 = Fused.MultiplyAdd(r, c2, a02); a03 = Fused.MultiplyAdd(r, c3, a03);
                        r = Vector512.LoadUnsafe(ref d1, dAt);
                        a10 = Fused.MultiplyAdd(r, c0, a10); a11 = Fused.MultiplyAdd(r, c1, a11); a12 = Fused.MultiplyAdd(r, c2, a12); a13 = Fused.MultiplyAdd(r, c3, a13);
                        r = Vector512.LoadUnsafe(ref d2, dAt);
                        a20 = Fused.MultiplyAdd(r, c0, a20); a21 = Fused.MultiplyAdd(r, c1, a21); a22 = Fused.MultiplyAdd(r, c2, a22); a23 = Fused.MultiplyAdd(r, c3, a23);
                        r = Vector512.LoadUnsafe(ref d3, dAt);
                        a30 = Fused.MultiplyAdd(r, c0, a30); a31 = Fused.MultiplyAdd(r, c1, a31); a32 = Fused.MultiplyAdd(r, c2, a32); a33 = Fused.MultiplyAdd(r, c3, a33);
                    }
                }
                AddSums(weightGradient, first, count, tap, taps, g.Taps,
                    Gemm.SumEach(a00, a01, a02, a03, a10, a11, a12, a13), Gemm.SumEach(a20, a21, a22, a23, a30, a31, a32, a33));
            }
        }

        // dW[first + r, tap + c] += s_rc for the channels and taps that exist: the tile's sixteen sums across lanes, rows 0-1 in
        // upper and rows 2-3 in lower (Gemm.SumEach's order: row by row, four taps each).
        private static void AddSums(Span<float> weightGradient, int first, int count, int tap, int taps, int tapCount, Vector256<float> upper, Vector256<float> lower)
        {
            AddRowSums(weightGradient.Slice(first * tapCount + tap), taps, upper.GetElement(0), upper.GetElement(1), upper.GetElement(2), upper.GetElement(3));
            if (count > 1) AddRowSums(weightGradient.Slice((first + 1) * tapCount + tap), taps, upper.GetElement(4), upper.GetElement(5), upper.GetElement(6), upper.GetElement(7));
            if (count > 2) AddRowSums(weightGradient.Slice((first + 2) * tapCount + tap), taps, lower.GetElement(0), lower.GetElement(1), lower.GetElement(2), lower.GetElement(3));
            if (count > 3) AddRowSums(weightGradient.Slice((first + 3) * tapCount + tap), taps, lower.GetElement(4), lower.GetElement(5), lower.GetElement(6), lower.GetElement(7));
        }

        private static void AddRowSums(Span<float> row, int taps, float s0, float s1, float s2, float s3)
        {
            row[0] += s0;
            if (taps > 1) row[1] += s1;
            if (taps > 2) row[2] += s2;
            if (taps > 3) row[3] += s3;
        }
    }
}
