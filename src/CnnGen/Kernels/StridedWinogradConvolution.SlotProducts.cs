using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    internal static partial class StridedWinogradConvolution
    {
        private static readonly byte[] SlotStarts4 = StartsOfSlots(Slots4), SlotStarts2 = StartsOfSlots(Slots2), SlotStartsWide = StartsOfSlots(SlotsWide);
        private static readonly byte[] IdentityStarts = StartsOfSlots(Identity4);

        private static byte[] StartsOfSlots(byte[] slots)
        {
            var starts = new byte[slots[^1] + 2];
            foreach (byte slot in slots) starts[slot + 1]++;
            for (int s = 1; s < starts.Length; s++) starts[s] += starts[s - 1];
            return starts;
        }

        /// <summary>
        /// Whether <see cref="ForwardLinked"/> and <see cref="ForwardSamples"/> run one GEMM per filter slot over all its
        /// positions' tiles (<see cref="SlotProducts"/>) where a chunk has fewer than 12 tiles, instead of one per position:
        /// the same floats. KernelBench sets it off to compare.
        /// </summary>
        internal static bool SlotGemmOff { get; set; }

        private const int SlotGemmTiles = 12;

        /// <summary>
        /// M[tile][position][oc lanes] = Σ_ic V[position][ic][tile] · U[slot][ic][oc lanes] for the chunk's <paramref name="count"/>
        /// tiles, as WinogradF4Convolution.Products with the layout's slots, but one GEMM per filter slot: its rows are every
        /// (position, tile) of the slot's positions, so where a chunk has few tiles (a 4x4-tile layer on 8x8 outputs: 4) the
        /// 16 odd x odd positions make one GEMM of 64 rows and the 4 of each odd row or column one of 16, in register tiles of
        /// 6 rows instead of 4. Each M value is the same sum in the same order as Products': the same floats.
        /// </summary>
        internal static void SlotProducts(Span<float> transformed, ReadOnlySpan<float> filters, Span<float> products, int count, in Layout l)
        {
            byte[] order = SlotOrder(l);
            byte[] starts = ReferenceEquals(order, SlotOrder4) ? SlotStarts4 : ReferenceEquals(order, SlotOrder2) ? SlotStarts2
                : ReferenceEquals(order, SlotOrderWide) ? SlotStartsWide : IdentityStarts;
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float u0 = ref MemoryMarshal.GetReference(filters);
            ref float m0 = ref MemoryMarshal.GetReference(products);
            int outGroups = l.OutGroups, outLanes = l.OutLanes, vectorBlocks = (outGroups + 3) / 4;
            Span<int> offsets = stackalloc int[2 * MostRows];
            for (int slot = 0; slot < l.FilterSlots; slot++)
            {
                int start = starts[slot], rows = (starts[slot + 1] - start) * count;
                ref float u = ref Unsafe.Add(ref u0, slot * l.FilterPositionStride);
                for (int block = 0; block < vectorBlocks; block++)
                {
                    int first = block * outGroups / vectorBlocks, vectors = (block + 1) * outGroups / vectorBlocks - first;
                    int most = vectors == 4 ? 6 : MostRows;
                    int rowBlocks = (rows + most - 1) / most;
                    for (int rb = 0; rb < rowBlocks; rb++)
                    {
                        int r0 = rb * rows / rowBlocks, n = (rb + 1) * rows / rowBlocks - r0;
                        // Row r is tile r mod count of the slot's position r / count.
                        for (int i = 0; i < n; i++)
                        {
                            int j = (r0 + i) / count, t = r0 + i - j * count, position = order[start + j];
                            offsets[i] = position * l.TransformedPositionStride + t * V;
                            offsets[MostRows + i] = t * l.ProductTileStride + position * outLanes + first * V;
                        }
                        SlotTileOf(vectors, n, ref v0, offsets, l.TransformedGroupStride, l.InChannels, ref Unsafe.Add(ref u, first * V), outLanes, ref m0);
                    }
                }
            }
        }

        // Rows a register tile takes at most (8: 3, 2 or 1 vectors of output channels; 4 vectors take 6).
        private const int MostRows = 8;

        private static void SlotTileOf(int vectors, int rows, ref float v, ReadOnlySpan<int> offsets, int groupStride, int inChannels, ref float u, int filterStride, ref float m)
        {
            switch (vectors * 16 + rows)
            {
                case 17: SlotTile<C1, C1>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 18: SlotTile<C1, C2>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 19: SlotTile<C1, C3>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 20: SlotTile<C1, C4>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 21: SlotTile<C1, C5>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 22: SlotTile<C1, C6>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 23: SlotTile<C1, C7>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 24: SlotTile<C1, C8>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 33: SlotTile<C2, C1>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 34: SlotTile<C2, C2>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 35: SlotTile<C2, C3>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 36: SlotTile<C2, C4>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 37: SlotTile<C2, C5>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 38: SlotTile<C2, C6>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 39: SlotTile<C2, C7>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 40: SlotTile<C2, C8>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 49: SlotTile<C3, C1>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 50: SlotTile<C3, C2>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 51: SlotTile<C3, C3>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 52: SlotTile<C3, C4>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 53: SlotTile<C3, C5>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 54: SlotTile<C3, C6>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 55: SlotTile<C3, C7>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 56: SlotTile<C3, C8>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 65: SlotTile<C4, C1>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 66: SlotTile<C4, C2>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 67: SlotTile<C4, C3>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 68: SlotTile<C4, C4>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 69: SlotTile<C4, C5>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                case 70: SlotTile<C4, C6>(ref v, offsets, groupStride, inChannels, ref u, filterStride, ref m); break;
                default: throw new ArgumentOutOfRangeException(nameof(rows));
            }
        }

        // TOc vectors of output channels x TRows rows, each row its own place in V (offsets[i]: its tile of its position, in
        // group 0) and in M (offsets[MostRows + i]). Per input channel: TOc filter loads, TRows broadcasts, TOc x TRows
        // multiply-adds, in input-channel order (as WinogradF4Convolution's Tile).
        private static void SlotTile<TOc, TRows>(ref float v, ReadOnlySpan<int> offsets, int groupStride, int inChannels, ref float u, int filterStride, ref float m)
            where TOc : struct, IConstant where TRows : struct, IConstant
        {
            var a0_0 = Vector512<float>.Zero; var a1_0 = Vector512<float>.Zero; var a2_0 = Vector512<float>.Zero; var a3_0 = Vector512<float>.Zero;
            var a0_1 = Vector512<float>.Zero; var a1_1 = Vector512<float>.Zero; var a2_1 = Vector512<float>.Zero; var a3_1 = Vector512<float>.Zero;
            var a0_2 = Vector512<float>.Zero; var a1_2 = Vector512<float>.Zero; var a2_2 = Vector512<float>.Zero; var a3_2 = Vector512<float>.Zero;
            var a0_3 = Vector512<float>.Zero; var a1_3 = Vector512<float>.Zero; var a2_3 = Vector512<float>.Zero; var a3_3 = Vector512<float>.Zero;
            var a0_4 = Vector512<float>.Zero; var a1_4 = Vector512<float>.Zero; var a2_4 = Vector512<float>.Zero; var a3_4 = Vector512<float>.Zero;
            var a0_5 = Vector512<float>.Zero; var a1_5 = Vector512<float>.Zero; var a2_5 = Vector512<float>.Zero; var a3_5 = Vector512<float>.Zero;
            var a0_6 = Vector512<float>.Zero; var a1_6 = Vector512<float>.Zero; var a2_6 = Vector512<float>.Zero;
            var a0_7 = Vector512<float>.Zero; var a1_7 = Vector512<float>.Zero; var a2_7 = Vector512<float>.Zero;
            ref float r0 = ref Unsafe.Add(ref v, offsets[0]);
            ref float r1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref v, offsets[1]) : ref v;
            ref float r2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref v, offsets[2]) : ref v;
            ref float r3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref v, offsets[3]) : ref v;
            ref float r4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref v, offsets[4]) : ref v;
            ref float r5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref v, offsets[5]) : ref v;
            ref float r6 = ref TRows.Value > 6 ? ref Unsafe.Add(ref v, offsets[6]) : ref v;
            ref float r7 = ref TRows.Value > 7 ? ref Unsafe.Add(ref v, offsets[7]) : ref v;
            for (int first = 0; first < inChannels; first += V)
            {
                int count = Math.Min(V, inChannels - first);
                nint group = first / V * groupStride;
                ref float filter = ref Unsafe.Add(ref u, first * filterStride);
                for (nint l = group; l < group + count; l++)
                {
                    var u0 = Vector512.LoadUnsafe(ref filter);
                    var u1 = TOc.Value > 1 ? Vector512.LoadUnsafe(ref filter, V) : default;
                    var u2 = TOc.Value > 2 ? Vector512.LoadUnsafe(ref filter, 2 * V) : default;
                    var u3 = TOc.Value > 3 ? Vector512.LoadUnsafe(ref filter, 3 * V) : default;
                    { var b = Vector512.Create(Unsafe.Add(ref r0, l)); a0_0 = Fused.MultiplyAdd(u0, b, a0_0); if (TOc.Value > 1) a1_0 = Fused.MultiplyAdd(u1, b, a1_0); if (TOc.Value > 2) a2_0 = Fused.MultiplyAdd(u2, b, a2_0); if (TOc.Value > 3) a3_0 = Fused.MultiplyAdd(u3, b, a3_0); }
                    if (TRows.Value > 1) { var b = Vector512.Create(Unsafe.Add(ref r1, l)); a0_1 = Fused.MultiplyAdd(u0, b, a0_1); if (TOc.Value > 1) a1_1 = Fused.MultiplyAdd(u1, b, a1_1); if (TOc.Value > 2) a2_1 = Fused.MultiplyAdd(u2, b, a2_1); if (TOc.Value > 3) a3_1 = Fused.MultiplyAdd(u3, b, a3_1); }
                    if (TRows.Value > 2) { var b = Vector512.Create(Unsafe.Add(ref r2, l)); a0_2 = Fused.MultiplyAdd(u0, b, a0_2); if (TOc.Value > 1) a1_2 = Fused.MultiplyAdd(u1, b, a1_2); if (TOc.Value > 2) a2_2 = Fused.MultiplyAdd(u2, b, a2_2); if (TOc.Value > 3) a3_2 = Fused.MultiplyAdd(u3, b, a3_2); }
                    if (TRows.Value > 3) { var b = Vector512.Create(Unsafe.Add(ref r3, l)); a0_3 = Fused.MultiplyAdd(u0, b, a0_3); if (TOc.Value > 1) a1_3 = Fused.MultiplyAdd(u1, b, a1_3); if (TOc.Value > 2) a2_3 = Fused.MultiplyAdd(u2, b, a2_3); if (TOc.Value > 3) a3_3 = Fused.MultiplyAdd(u3, b, a3_3); }
                    if (TRows.Value > 4) { var b = Vector512.Create(Unsafe.Add(ref r4, l)); a0_4 = Fused.MultiplyAdd(u0, b, a0_4); if (TOc.Value > 1) a1_4 = Fused.MultiplyAdd(u1, b, a1_4); if (TOc.Value > 2) a2_4 = Fused.MultiplyAdd(u2, b, a2_4); if (TOc.Value > 3) a3_4 = Fused.MultiplyAdd(u3, b, a3_4); }
                    if (TRows.Value > 5) { var b = Vector512.Create(Unsafe.Add(ref r5, l)); a0_5 = Fused.MultiplyAdd(u0, b, a0_5); if (TOc.Value > 1) a1_5 = Fused.MultiplyAdd(u1, b, a1_5); if (TOc.Value > 2) a2_5 = Fused.MultiplyAdd(u2, b, a2_5); if (TOc.Value > 3) a3_5 = Fused.MultiplyAdd(u3, b, a3_5); }
                    if (TRows.Value > 6) { var b = Vector512.Create(Unsafe.Add(ref r6, l)); a0_6 = Fused.MultiplyAdd(u0, b, a0_6); if (TOc.Value > 1) a1_6 = Fused.MultiplyAdd(u1, b, a1_6); if (TOc.Value > 2) a2_6 = Fused.MultiplyAdd(u2, b, a2_6); }
                    if (TRows.Value > 7) { var b = Vector512.Create(Unsafe.Add(ref r7, l)); a0_7 = Fused.MultiplyAdd(u0, b, a0_7); if (TOc.Value > 1) a1_7 = Fused.MultiplyAdd(u1, b, a1_7); if (TOc.Value > 2) a2_7 = Fused.MultiplyAdd(u2, b, a2_7); }
                    filter = ref Unsafe.Add(ref filter, filterStride);
                }
            }
            Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows]), a0_0, a1_0, a2_0, a3_0);
            if (TRows.Value > 1) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 1]), a0_1, a1_1, a2_1, a3_1);
            if (TRows.Value > 2) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 2]), a0_2, a1_2, a2_2, a3_2);
            if (TRows.Value > 3) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 3]), a0_3, a1_3, a2_3, a3_3);
            if (TRows.Value > 4) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 4]), a0_4, a1_4, a2_4, a3_4);
            if (TRows.Value > 5) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 5]), a0_5, a1_5, a2_5, a3_5);
            if (TRows.Value > 6) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 6]), a0_6, a1_6, a2_6, default);
            if (TRows.Value > 7) Store<TOc>(ref Unsafe.Add(ref m, offsets[MostRows + 7]), a0_7, a1_7, a2_7, default);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store<TOc>(ref float row, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3) where TOc : struct, IConstant
        {
            a0.StoreUnsafe(ref row);
            if (TOc.Value > 1) a1.StoreUnsafe(ref row, V);
            if (TOc.Value > 2) a2.StoreUnsafe(ref row, 2 * V);
            if (TOc.Value > 3) a3.StoreUnsafe(ref row, 3 * V);
        }
    }
}
