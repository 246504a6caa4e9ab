using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    /// <remarks>
    /// The input gradient is the forward's adjoint: the forward computes Y = Aᵀ [Σ_ic U ⊙ (Bᵀ d B)] A per tile, so
    /// d(window) = B [Σ_oc U ⊙ (A dY Aᵀ)] Bᵀ, added into the input windows (which overlap by one row and column). The same
    /// positions, filter slots and products as the forward (81 per 4x4 tile instead of the direct kernel's 144, 25 per 2x2
    /// tile instead of 36), the products a GEMM per position over the output channels, from the filters laid out
    /// U[slot][output channel][input channel lanes] (<see cref="TransformFiltersTransposed"/>, once per backward pass).
    /// Along one axis A spreads a tile's outputs y over the window's positions (the transpose of Aᵀ = [A₂ᵀ | I]) and B
    /// gathers the positions back onto the window's samples (the transpose of Bᵀ: B₂ on the evens, the odd samples as they
    /// are).
    /// </remarks>
    internal static partial class StridedWinogradConvolution
    {
        internal readonly partial struct Layout
        {
            /// <summary>Input channels rounded up to whole vectors: the input gradient's product lanes.</summary>
            public int InLanes => InGroups * V;

            /// <summary>Floats between slots of the transposed filters U[slot][output channel][input channel lanes].</summary>
            public int TransposedFilterPositionStride => OutChannels * InLanes + V;

            /// <summary>Floats of <see cref="TransformFiltersTransposed"/>'s filters.</summary>
            public int TransposedFiltersLength => FilterSlots * TransposedFilterPositionStride;

            // d y as [output group][row][column][16], rows and columns rounded up to whole tiles (zeros past the maps).
            internal int GradientPitch => TileColumns * TileWidth;
            internal int GradientGroupStride => TileRows * TileHeight * GradientPitch * V;
            // Ṽ[position][output group][tile − first][16] and M̃[tile][position][input lanes] of a chunk (one vector more
            // between positions and tiles, as the forward's V and M).
            internal int GradientTransformedPositionStride => OutGroups * ChunkTiles * V + V;
            internal int GradientProductTileStride => Positions * InLanes + V;

            /// <summary>Floats of scratch <see cref="InputGradient"/> needs.</summary>
            public int InputGradientScratchLength => GradientStaging + PaddedLength + OutGroups * GradientGroupStride
                + Positions * GradientTransformedPositionStride + ChunkTiles * GradientProductTileStride + V;
        }

        // Pad's 512 floats, a 16x16 transpose, the transforms' intermediates (9 x 9 vectors at most).
        private const int GradientStaging = 96 * V;

        /// <summary>
        /// The filters of <paramref name="weight"/> [outChannels x inChannels x 3 x 3] as <see cref="TransformFilters"/>
        /// computes them (the same floats), laid out U[slot][output channel][input channel lanes] for
        /// <see cref="InputGradient"/>: <see cref="Layout.TransposedFiltersLength"/> floats, the lanes past the last input
        /// channel zero.
        /// </summary>
        public static void TransformFiltersTransposed(ReadOnlySpan<float> weight, Span<float> filters, in Layout l) => TransformFilterSlots(weight, filters, l, transposed: true);

        /// <summary>
        /// Whether <see cref="WeightGradientOfSample"/> on layout <paramref name="weights"/> leaves d y padded in its scratch
        /// exactly where <see cref="InputGradient"/> on <paramref name="input"/> pads it, the same floats: both pad it after
        /// the staging and the padded input, into whole tiles of the same sides. A backward that runs both on one scratch then
        /// pads d y once.
        /// </summary>
        internal static bool SharesPaddedGradient(in Layout weights, in Layout input) =>
            weights.PaddedLength == input.PaddedLength && weights.OutGroups == input.OutGroups
            && weights.GradientPitch == input.GradientPitch && weights.GradientGroupStride == input.GradientGroupStride;

        /// <summary>
        /// d x [InChannels x Height x Width] of the layer's 3x3 stride-2 convolution for one sample, from d y [OutChannels x
        /// OH x OW] and the filters of <see cref="TransformFiltersTransposed"/>; overwrites d x. Scratch:
        /// <see cref="Layout.InputGradientScratchLength"/> floats. Allocates nothing. With <paramref name="gradientPadded"/>
        /// the scratch already holds d y padded where this call would pad it (<see cref="SharesPaddedGradient"/>).
        /// </summary>
        public static void InputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> filters, Span<float> inputGradient, Span<float> scratch, in Layout l,
            bool gradientPadded = false)
        {
            if (!RunsTile(l.Tile)) throw new PlatformNotSupportedException("StridedWinogradConvolution needs AVX-512, or AVX2 and FMA for the 4x4 tile.");
            Require(outputGradient.Length >= l.OutChannels * l.OutHeight * l.OutWidth, nameof(outputGradient));
            Require(filters.Length >= l.TransposedFiltersLength, nameof(filters));
            Require(inputGradient.Length >= l.InChannels * l.Height * l.Width, nameof(inputGradient));
            Require(scratch.Length >= l.InputGradientScratchLength, nameof(scratch));
            scratch = scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch));
            var staging = scratch.Slice(0, GradientStaging);
            int at = GradientStaging;
            var plane = scratch.Slice(at, l.PaddedLength); at += l.PaddedLength;
            var gradient = scratch.Slice(at, l.OutGroups * l.GradientGroupStride); at += gradient.Length;
            var transformed = scratch.Slice(at, l.Positions * l.GradientTransformedPositionStride); at += transformed.Length;
            var products = scratch.Slice(at, l.ChunkTiles * l.GradientProductTileStride);

            if (!gradientPadded) PadGradient(outputGradient, gradient, staging, l);
            plane.Clear();
            for (int chunk = 0; chunk < l.Chunks; chunk++)
            {
                int first = chunk * l.ChunkTiles, count = Math.Min(l.ChunkTiles, l.Tiles - first);
                TransformGradients(gradient, transformed, staging, first, count, l);
                ProductsOnWidth(transformed, filters, products, count, l.Positions, l.GradientTransformedPositionStride, l.ChunkTiles * V,
                    l.TransposedFilterPositionStride, l.InLanes, l.GradientProductTileStride, l.OutChannels, l.InGroups, l.SlotOfPosition);
                if (l.Tile == 2) AddWindows<Axis2, Axis2>(products, plane, staging, first, count, l);
                else if (l.Tile == Wide) AddWindows<Axis2, Axis4>(products, plane, staging, first, count, l);
                else if (Vector512Here) AddWindows<Axis4, Axis4>(products, plane, staging, first, count, l);
                else AddWindows4x256(products, plane, staging, first, count, l);
            }
            for (int group = 0; group < l.InGroups; group++)
            {
                if (Vector512Here)
                    StridedConvolution.StorePlane(plane.Slice(group * l.PaddedGroupStride, l.PaddedGroupStride), staging, inputGradient, group,
                        l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth);
                else StorePlane256(plane, inputGradient, group, l);
            }
        }

        // Ṽ[a·across + b][group][tile − first] = (A dY Aᵀ)[a][b] of each tile's outputs: along the rows first (e[i][b]), then
        // down the columns.
        private static void TransformGradient<TDown, TAcross>(Span<float> gradient, Span<float> transformed, Span<float> staging, int first, int count, in Layout l)
            where TDown : struct, IGradientAxis where TAcross : struct, IGradientAxis
        {
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float e = ref MemoryMarshal.GetReference(staging);
            int across = TAcross.Window, pitch = l.GradientPitch;
            nuint rowStride = (nuint)(pitch * V), positionStride = (nuint)l.GradientTransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    ref float d = ref Unsafe.Add(ref g0, group * l.GradientGroupStride + (TDown.Side * ty * pitch + TAcross.Side * tx) * V);
                    for (int i = 0; i < TDown.Side; i++)
                        TAcross.Spread(ref Unsafe.Add(ref d, (nuint)i * rowStride), V, ref Unsafe.Add(ref e, i * across * V), V);
                    ref float target = ref Unsafe.Add(ref v0, group * l.ChunkTiles * V + (t - first) * V);
                    for (int b = 0; b < across; b++)
                        TDown.Spread(ref Unsafe.Add(ref e, b * V), (nuint)(across * V), ref Unsafe.Add(ref target, (nuint)b * positionStride), (nuint)across * positionStride);
                }
            }
        }

        // Each tile's window B M̃ Bᵀ, added into the padded plane [group][row][column][16] where the forward read it: down
        // the columns first (e[r][b]), then along the rows into the plane.
        private static void AddWindows<TDown, TAcross>(Span<float> products, Span<float> plane, Span<float> staging, int first, int count, in Layout l)
            where TDown : struct, IGradientAxis where TAcross : struct, IGradientAxis
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float p0 = ref MemoryMarshal.GetReference(plane);
            ref float e = ref MemoryMarshal.GetReference(staging);
            int across = TAcross.Window, down = TDown.Window;
            nuint rowStride = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.InLanes;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    ref float m = ref Unsafe.Add(ref m0, (t - first) * l.GradientProductTileStride + group * V);
                    for (int b = 0; b < across; b++)
                        TDown.Gather(ref Unsafe.Add(ref m, (nuint)b * positionStride), (nuint)across * positionStride, ref Unsafe.Add(ref e, b * V), (nuint)(across * V), add: false);
                    ref float window = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + ((down - 1) * ty * l.PaddedWidth + (across - 1) * tx) * V);
                    for (int r = 0; r < down; r++)
                        TAcross.Gather(ref Unsafe.Add(ref e, r * across * V), V, ref Unsafe.Add(ref window, (nuint)r * rowStride), V, add: true);
                }
            }
        }

        // One axis of the input gradient's transforms: Side outputs, a Window of positions (and of input samples).
        private interface IGradientAxis
        {
            static abstract int Side { get; }
            static abstract int Window { get; }
            // m[0..Window) = A y: the transpose of the output transform Aᵀ, from y[0..Side).
            static abstract void Spread(ref float source, nuint sourceStride, ref float target, nuint targetStride);
            // d[0..Window) (+)= B m, in window order: the transpose of the input transform Bᵀ.
            static abstract void Gather(ref float source, nuint sourceStride, ref float target, nuint targetStride, bool add);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(ref float target, nuint offset, Vector512<float> value, bool add)
        {
            if (add) value += Vector512.LoadUnsafe(ref target, offset);
            value.StoreUnsafe(ref target, offset);
        }

        // The 4x4 tile's axis: Aᵀ = [A₂ᵀ | I] with A₂ᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 0; 0 1 −1 8 1]; Bᵀ = B₂ᵀ on the
        // evens (d0, d2, .., d8) with B₂ᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1], the odds as they are.
        private readonly struct Axis4 : IGradientAxis
        {
            public static int Side => 4;
            public static int Window => 9;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Spread(ref float source, nuint sourceStride, ref float target, nuint targetStride)
            {
                var y0 = Vector512.LoadUnsafe(ref source); var y1 = Vector512.LoadUnsafe(ref source, sourceStride);
                var y2 = Vector512.LoadUnsafe(ref source, 2 * sourceStride); var y3 = Vector512.LoadUnsafe(ref source, 3 * sourceStride);
                var sum02 = y0 + y2; var sum13 = y1 + y3;
                y0.StoreUnsafe(ref target);
                (sum02 + sum13).StoreUnsafe(ref target, targetStride);
                (sum02 - sum13).StoreUnsafe(ref target, 2 * targetStride);
                (y0 + Fused.MultiplyAdd(y2, Vector512.Create(4f), Fused.MultiplyAdd(y3, Vector512.Create(8f), y1 + y1))).StoreUnsafe(ref target, 3 * targetStride);
                y3.StoreUnsafe(ref target, 4 * targetStride);
                y0.StoreUnsafe(ref target, 5 * targetStride); y1.StoreUnsafe(ref target, 6 * targetStride);
                y2.StoreUnsafe(ref target, 7 * targetStride); y3.StoreUnsafe(ref target, 8 * targetStride);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Gather(ref float source, nuint sourceStride, ref float target, nuint targetStride, bool add)
            {
                var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, sourceStride);
                var m2 = Vector512.LoadUnsafe(ref source, 2 * sourceStride); var m3 = Vector512.LoadUnsafe(ref source, 3 * sourceStride);
                var m4 = Vector512.LoadUnsafe(ref source, 4 * sourceStride);
                var two = Vector512.Create(2f);
                // d2 = −m0 + 2(m1 − m2 + m4) − m3, d4 = −2 m0 + m1 + 3 m2 − m4, d6 = m0 − m1 − m2 + m3 − 2 m4.
                var m03 = m0 + m3;
                Put(ref target, 0, m0 * two, add);
                Put(ref target, targetStride, Vector512.LoadUnsafe(ref source, 5 * sourceStride), add);
                Put(ref target, 2 * targetStride, Fused.MultiplyAdd(m1 - m2 + m4, two, -m03), add);
                Put(ref target, 3 * targetStride, Vector512.LoadUnsafe(ref source, 6 * sourceStride), add);
                Put(ref target, 4 * targetStride, Fused.MultiplyAdd(m2, Vector512.Create(3f), Fused.MultiplyAdd(m0, -two, m1 - m4)), add);
                Put(ref target, 5 * targetStride, Vector512.LoadUnsafe(ref source, 7 * sourceStride), add);
                Put(ref target, 6 * targetStride, Fused.MultiplyAdd(m4, -two, m03 - m1 - m2), add);
                Put(ref target, 7 * targetStride, Vector512.LoadUnsafe(ref source, 8 * sourceStride), add);
                Put(ref target, 8 * targetStride, m4, add);
            }
        }

        // The 2x2 tile's axis: Aᵀ = [1 1 0 1 0; 0 1 1 0 1], Bᵀ = F(2, 2)'s [1 −1 0; 0 1 0; 0 −1 1] on (d0, d2, d4), then d1, d3.
        private readonly struct Axis2 : IGradientAxis
        {
            public static int Side => 2;
            public static int Window => 5;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Spread(ref float source, nuint sourceStride, ref float target, nuint targetStride)
            {
                var y0 = Vector512.LoadUnsafe(ref source); var y1 = Vector512.LoadUnsafe(ref source, sourceStride);
                y0.StoreUnsafe(ref target);
                (y0 + y1).StoreUnsafe(ref target, targetStride);
                y1.StoreUnsafe(ref target, 2 * targetStride);
                y0.StoreUnsafe(ref target, 3 * targetStride);
                y1.StoreUnsafe(ref target, 4 * targetStride);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static void Gather(ref float source, nuint sourceStride, ref float target, nuint targetStride, bool add)
            {
                var m0 = Vector512.LoadUnsafe(ref source); var m1 = Vector512.LoadUnsafe(ref source, sourceStride);
                var m2 = Vector512.LoadUnsafe(ref source, 2 * sourceStride);
                Put(ref target, 0, m0, add);
                Put(ref target, targetStride, Vector512.LoadUnsafe(ref source, 3 * sourceStride), add);
                Put(ref target, 2 * targetStride, m1 - m0 - m2, add);
                Put(ref target, 3 * targetStride, Vector512.LoadUnsafe(ref source, 4 * sourceStride), add);
                Put(ref target, 4 * targetStride, m2, add);
            }
        }
    }
}
