using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <remarks>
    /// <para>
    /// The weight gradient of the polyphase stride-2 Winograd. The forward computes, per tile, input channel ic and output
    /// channel oc, Y = Aᵀ [U ⊙ X̂] A with U = G g Gᵀ and X̂ = Bᵀ d B (the window's transform, positions P = WindowHeight x
    /// WindowWidth). Its adjoint in U is dU = Ŷ ⊙ X̂ with Ŷ = A dY Aᵀ (the input gradient's <see cref="TransformGradient"/>),
    /// and in g, dg = Gᵀ dU G. All three maps are linear, so the sum over the tiles of every sample of a pass goes inside:
    /// dg[oc][ic] = Gᵀ M[oc][ic] G with M[p][oc][ic] = Σ_tiles Ŷ[p][tile][oc] · X̂[p][tile][ic]: per position a GEMM
    /// whose shared dimension is the tiles (K), whose rows are the output channels and whose vector columns the input
    /// channels.
    /// </para>
    /// <para>
    /// Along each axis every odd window position's G row is the middle tap alone, (0, 1, 0) (the forward's shared filter
    /// slots): positions in one slot meet G identically, so Gᵀ M G only needs their sum, and the GEMM sums them straight
    /// into one accumulator: M[slot] = Σ_{p in slot} Σ_tiles Ŷ[p]ᵀ X̂[p] (36 slots for the 4x4 tile, 24 for 2x4, 16 for 2x2).
    /// Per axis the folding matrix G' (slots x 3 taps) is then, for the 4-output axis (F(4, 2) on the evens, then g1):
    /// [½ 0 0; ½ 0 ½; ⅙ 0 −⅙; ⅙ 0 ⅓; 0 0 1; 0 1 0], and for the 2-output axis (F(2, 2)): [1 0 0; 1 0 1; 0 0 1; 0 1 0];
    /// dg = G'_downᵀ M G'_across over the slot grid. The products cost P per tile, input and output channel (81 for a 4x4
    /// tile of 16 outputs: 5.06 per output against the direct kernel's 9).
    /// </para>
    /// <para>
    /// The pass carries M[slot][oc][input lanes] between its samples (the caller's weight-gradient products): set by the first
    /// sample, added to by the others, folded into d weight once at the last. Per sample and chunk of tiles, x and d y are
    /// laid out and transformed by the forward's and the input gradient's own steps (X̂[position][input group][tile][16],
    /// Ŷ[position][output group][tile][16]); the GEMM broadcasts Ŷ per output channel and loads X̂ in vectors of 16 input
    /// channels. Tiles past the output's edge read zeros of d y (Pad rounds it up to whole tiles) and add nothing.
    /// </para>
    /// </remarks>
    internal static partial class StridedWinogradConvolution
    {
        internal readonly partial struct Layout
        {
            // M[slot][output channel][input lanes], one vector more between slots (4 KB multiples would share L1 sets).
            internal int WeightProductSlotStride => OutChannels * InLanes + V;

            // M's floats; after them, with Samples > 1, the transforms of the samples gathered for one GEMM.
            internal int WeightProductsLength => WeightSlots * WeightProductSlotStride;

            /// <summary>
            /// Floats of the sums <see cref="WeightGradientOfSample"/> carries between a pass's samples: M, and where
            /// <see cref="Samples"/> &gt; 1 the transforms of up to that many samples, whose tiles make one GEMM.
            /// </summary>
            public int WeightGradientProductsLength => WeightProductsLength
                + (Samples > 1 ? Positions * (TransformedPositionStride + GradientTransformedPositionStride) : 0);

            // The shared slots whatever SharedFiltersOff says (the fold's G' rows are per shared slot).
            internal int WeightSlots => (SlotsDown + 1) * (SlotsAcross + 1);
            internal int SlotsDown => TileHeight == 4 ? 5 : 3;
            internal int SlotsAcross => TileWidth == 4 ? 5 : 3;

            /// <summary>Floats of scratch <see cref="WeightGradientOfSample"/> needs.</summary>
            public int WeightGradientScratchLength => GradientStaging + PaddedLength + OutGroups * GradientGroupStride
                + Positions * TransformedPositionStride + Positions * GradientTransformedPositionStride + V;
        }

        // Positions by shared slot (the GEMM sums a slot's positions into one accumulator): order, and each slot's first index.
        private static readonly (byte[] Order, int[] Start) WeightSlots4 = BySlot(Slots4), WeightSlots2 = BySlot(Slots2), WeightSlotsWide = BySlot(SlotsWide);

        private static (byte[] Order, int[] Start) BySlot(byte[] slots)
        {
            int count = slots[^1] + 1;
            var start = new int[count + 1];
            foreach (byte s in slots) start[s + 1]++;
            for (int s = 0; s < count; s++) start[s + 1] += start[s];
            var order = new byte[slots.Length];
            var next = (int[])start.Clone();
            for (int p = 0; p < slots.Length; p++) order[next[slots[p]]++] = (byte)p;
            return (order, start);
        }

        // G' per axis: a row of three taps per slot (evens by F(m, 2)'s G₂, the last slot the middle tap).
        private static readonly float[] FoldAxis4 = { 0.5f, 0, 0, 0.5f, 0, 0.5f, 1f / 6, 0, -1f / 6, 1f / 6, 0, 1f / 3, 0, 0, 1, 0, 1, 0 };
        private static readonly float[] FoldAxis2 = { 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0 };

        /// <summary>
        /// One sample's share of the 3x3 stride-2 weight gradient: x [InChannels x Height x Width] and d y [OutChannels x OH x
        /// OW] of sample <paramref name="sample"/> of <paramref name="samples"/> (call them in order 0, 1, …). The sums gather
        /// in <paramref name="products"/> (<see cref="Layout.WeightGradientProductsLength"/> floats; whatever it held is
        /// overwritten at sample 0) and are added to <paramref name="weightGradient"/> [OutChannels x InChannels x 3 x 3] at
        /// the last sample. Scratch: <see cref="Layout.WeightGradientScratchLength"/> floats. Allocates nothing.
        /// </summary>
        public static void WeightGradientOfSample(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, Span<float> products, Span<float> weightGradient,
            Span<float> scratch, int sample, int samples, in Layout l)
        {
            if (!RunsTile(l.Tile)) throw new PlatformNotSupportedException("StridedWinogradConvolution needs AVX-512, or AVX2 and FMA for the 4x4 tile.");
            if (sample < 0 || sample >= samples) throw new ArgumentOutOfRangeException(nameof(sample), sample, "From 0 to samples − 1.");
            Require(x.Length >= l.InChannels * l.Height * l.Width, nameof(x));
            Require(outputGradient.Length >= l.OutChannels * l.OutHeight * l.OutWidth, nameof(outputGradient));
            Require(products.Length >= l.WeightGradientProductsLength, nameof(products));
            Require(weightGradient.Length >= l.OutChannels * l.InChannels * 9, nameof(weightGradient));
            Require(scratch.Length >= l.WeightGradientScratchLength, nameof(scratch));
            scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
            var staging = scratch.Slice(0, GradientStaging);
            int at = GradientStaging;
            var padded = scratch.Slice(at, l.PaddedLength); at += l.PaddedLength;
            var gradient = scratch.Slice(at, l.OutGroups * l.GradientGroupStride); at += gradient.Length;
            var transformedInput = scratch.Slice(at, l.Positions * l.TransformedPositionStride); at += transformedInput.Length;
            var transformedGradient = scratch.Slice(at, l.Positions * l.GradientTransformedPositionStride);

            PadInput(x, padded, staging, l);
            PadGradient(outputGradient, gradient, staging, l);
            var (order, start) = l.Tile == 4 ? WeightSlots4 : l.Tile == 2 ? WeightSlots2 : WeightSlotsWide;
            if (l.Samples > 1)
            {
                // Few tiles a sample: the transforms of l.Samples samples gather after M (the tiles of the k-th side by side
                // from k·Tiles, as ForwardSamples lays them) and make one GEMM with K = their tiles, instead of one short
                // GEMM a sample that loads and stores all of M.
                int k = sample % l.Samples;
                var batchInput = products.Slice(l.WeightProductsLength, l.Positions * l.TransformedPositionStride);
                var batchGradient = products.Slice(l.WeightProductsLength + batchInput.Length, l.Positions * l.GradientTransformedPositionStride);
                TransformInput(padded, batchInput.Slice(k * l.Tiles * V), staging, 0, l.Tiles, l);
                TransformGradients(gradient, batchGradient.Slice(k * l.Tiles * V), staging, 0, l.Tiles, l);
                if (k == l.Samples - 1 || sample == samples - 1)
                    WeightProducts(batchInput, batchGradient, products, (k + 1) * l.Tiles, sample - k > 0, order, start, l);
                if (sample == samples - 1) FoldProducts(products, weightGradient, staging, l);
                return;
            }
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TransformInput(padded, transformedInput, staging, first, count, l);
                TransformGradients(gradient, transformedGradient, staging, first, count, l);
                WeightProducts(transformedInput, transformedGradient, products, count, sample > 0 || chunk > 0, order, start, l);
            }
            if (sample == samples - 1) FoldProducts(products, weightGradient, staging, l);
        }

        // Ŷ of a chunk's tiles by the layout's tile, on this machine's width (the 4x4 tile's halves on Vector256).
        private static void TransformGradients(Span<float> gradient, Span<float> transformed, Span<float> staging, int first, int count, in Layout l)
        {
            if (l.Tile == 2) TransformGradient<Axis2, Axis2>(gradient, transformed, staging, first, count, l);
            else if (l.Tile == Wide) TransformGradient<Axis2, Axis4>(gradient, transformed, staging, first, count, l);
            else if (Vector512Here) TransformGradient<Axis4, Axis4>(gradient, transformed, staging, first, count, l);
            else TransformGradient4x256(gradient, transformed, staging, first, count, l);
        }

        // M[slot][oc][ic lanes] (+)= Σ over the slot's positions and the chunk's tiles of Ŷ[p][tile][oc] · X̂[p][tile][ic lanes]:
        // WinogradWeightGradient's register tiles of up to 6 output channels (inside one group of 16) x 2 vectors of input
        // channels, over the slot's positions in turn.
        private static void WeightProducts(Span<float> transformedInput, Span<float> transformedGradient, Span<float> products, int count, bool accumulate,
            byte[] order, int[] start, in Layout l)
        {
            bool wide = Vector512Here;
            // Ŷ's tiles are 16 floats apart, X̂'s too, its next vector of input channels a group further.
            var strides = new WinogradWeightGradient.ProductStrides(l.GradientTransformedPositionStride, l.TransformedPositionStride, V, V, l.TransformedGroupStride, l.InLanes);
            ref float input = ref MemoryMarshal.GetReference(transformedInput);
            ref float gradient = ref MemoryMarshal.GetReference(transformedGradient);
            ref float m0 = ref MemoryMarshal.GetReference(products);
            int gradientGroupStride = l.ChunkTiles * V;
            for (int slot = 0; slot + 1 < start.Length; slot++)
            {
                var positions = new ReadOnlySpan<byte>(order, start[slot], start[slot + 1] - start[slot]);
                for (int group = 0; group < l.OutGroups; group++)
                {
                    int lanes = Math.Min(V, l.OutChannels - group * V);
                    // 16 rows as 5 + 5 + 6 (6 + 6 + 4 would leave a short tile): rows per block as even as blocks allow.
                    int blocks = (lanes + 5) / 6;
                    for (int b = 0, lane = 0; b < blocks; b++)
                    {
                        int rows = (b + 1) * lanes / blocks - lane;
                        ref float dy = ref Unsafe.Add(ref gradient, group * gradientGroupStride + lane);
                        ref float m = ref Unsafe.Add(ref m0, slot * l.WeightProductSlotStride + (group * V + lane) * l.InLanes);
                        int vector = 0;
                        if (!wide)
                        {
                            WinogradWeightGradient.ProductRows256(rows, ref dy, ref input, ref m, strides, positions, count, accumulate, l.InGroups, l.TransformedGroupStride);
                            lane += rows;
                            continue;
                        }
                        for (; vector + 2 <= l.InGroups; vector += 2)
                            WinogradWeightGradient.ProductRows<C2>(rows, ref dy, ref Unsafe.Add(ref input, vector * l.TransformedGroupStride), ref Unsafe.Add(ref m, vector * V),
                                strides, positions, count, accumulate);
                        if (vector < l.InGroups)
                            WinogradWeightGradient.ProductRows<C1>(rows, ref dy, ref Unsafe.Add(ref input, vector * l.TransformedGroupStride), ref Unsafe.Add(ref m, vector * V),
                                strides, positions, count, accumulate);
                        lane += rows;
                    }
                }
            }
        }

        // d g[oc][ic] += G'_downᵀ M[oc][ic] G'_across for 16 input channels at a time: across first (r[sd][j]), then down into
        // the nine taps [tap][lane], turned to PyTorch's [ic][tap] by one 16x16 transpose. Staging: 6 x 3 + 16 + 16 vectors.
        private static void FoldProducts(ReadOnlySpan<float> products, Span<float> weightGradient, Span<float> staging, in Layout l)
        {
            if (!Vector512Here)
            {
                FoldProducts256(products, weightGradient, staging, l);
                return;
            }
            float[] down = l.TileHeight == 4 ? FoldAxis4 : FoldAxis2, across = l.TileWidth == 4 ? FoldAxis4 : FoldAxis2;
            int slotsDown = l.SlotsDown + 1, slotsAcross = l.SlotsAcross + 1;
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float r = ref MemoryMarshal.GetReference(staging);
            ref float taps = ref Unsafe.Add(ref r, 18 * V);
            ref float turned = ref Unsafe.Add(ref taps, V * V);
            ref float dw = ref MemoryMarshal.GetReference(weightGradient);
            nuint slotStride = (nuint)l.WeightProductSlotStride;
            for (int oc = 0; oc < l.OutChannels; oc++)
            {
                for (int first = 0; first < l.InChannels; first += V)
                {
                    ref float m = ref Unsafe.Add(ref m0, oc * l.InLanes + first);
                    for (int sd = 0; sd < slotsDown; sd++)
                    {
                        var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0;
                        for (int sb = 0; sb < slotsAcross; sb++)
                        {
                            var value = Vector512.LoadUnsafe(ref m, (nuint)(sd * slotsAcross + sb) * slotStride);
                            s0 = Fused.MultiplyAdd(value, Vector512.Create(across[3 * sb]), s0);
                            s1 = Fused.MultiplyAdd(value, Vector512.Create(across[3 * sb + 1]), s1);
                            s2 = Fused.MultiplyAdd(value, Vector512.Create(across[3 * sb + 2]), s2);
                        }
                        s0.StoreUnsafe(ref r, (nuint)(3 * sd * V)); s1.StoreUnsafe(ref r, (nuint)((3 * sd + 1) * V)); s2.StoreUnsafe(ref r, (nuint)((3 * sd + 2) * V));
                    }
                    for (int i = 0; i < 3; i++)
                    {
                        var t0 = Vector512<float>.Zero; var t1 = t0; var t2 = t0;
                        for (int sd = 0; sd < slotsDown; sd++)
                        {
                            var weight = Vector512.Create(down[3 * sd + i]);
                            t0 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, (nuint)(3 * sd * V)), weight, t0);
                            t1 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, (nuint)((3 * sd + 1) * V)), weight, t1);
                            t2 = Fused.MultiplyAdd(Vector512.LoadUnsafe(ref r, (nuint)((3 * sd + 2) * V)), weight, t2);
                        }
                        t0.StoreUnsafe(ref taps, (nuint)(3 * i * V)); t1.StoreUnsafe(ref taps, (nuint)((3 * i + 1) * V)); t2.StoreUnsafe(ref taps, (nuint)((3 * i + 2) * V));
                    }
                    int count = Math.Min(V, l.InChannels - first);
                    ref float target = ref Unsafe.Add(ref dw, (oc * l.InChannels + first) * 9);
                    if (count == V)
                    {
                        // Rows 9..15 of the square are left over and never read back.
                        DirectConvolution.Transpose16(ref taps, V, ref turned);
                        for (int lane = 0; lane < V; lane++)
                        {
                            ref float row = ref Unsafe.Add(ref turned, lane * V);
                            ref float to = ref Unsafe.Add(ref target, lane * 9);
                            (Vector256.LoadUnsafe(ref to) + Vector256.LoadUnsafe(ref row)).StoreUnsafe(ref to);
                            Unsafe.Add(ref to, 8) += Unsafe.Add(ref row, 8);
                        }
                        continue;
                    }
                    for (int lane = 0; lane < count; lane++)
                        for (int tap = 0; tap < 9; tap++)
                            Unsafe.Add(ref target, lane * 9 + tap) += Unsafe.Add(ref taps, tap * V + lane);
                }
            }
        }
    }
}
