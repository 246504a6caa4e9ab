using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels
{
    // The stride-2 gradients' 4x4 tile on Vector256 (no AVX-512, AVX2 and FMA): InputGradient's and WeightGradientOfSample's
    // layouts and steps, each group's 16 lanes taken as two halves, the transforms Axis4's operations lane for lane, the
    // GEMMs on WinogradF4Convolution's and WinogradWeightGradient's Vector256 register tiles.
    internal static partial class StridedWinogradConvolution
    {
        // StridedConvolution.StorePlane on Vector256: group `group`'s image rows of the padded plane [group][row][column][16]
        // into d x's channel planes, a row at a time by 8x8 transposes.
        private static void StorePlane256(ReadOnlySpan<float> plane, Span<float> inputGradient, int group, in Layout l)
        {
            int rowLength = l.Height * l.Width, channels = Math.Min(V, l.InChannels - group * V);
            ref float p = ref MemoryMarshal.GetReference(plane);
            ref float dx = ref MemoryMarshal.GetReference(inputGradient);
            for (int iy = 0; iy < l.Height; iy++)
                ChannelBlocks.LanesToPlanes256(ref Unsafe.Add(ref p, group * l.PaddedGroupStride + ((iy + l.Padding) * l.PaddedWidth + l.Padding) * V), l.Width, channels,
                    ref Unsafe.Add(ref dx, group * V * rowLength + iy * l.Width), rowLength);
        }

        // TransformGradient<Axis4, Axis4> with each group as two halves.
        private static void TransformGradient4x256(Span<float> gradient, Span<float> transformed, Span<float> staging, int first, int count, in Layout l)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gradient);
            ref float v0 = ref MemoryMarshal.GetReference(transformed);
            ref float e = ref MemoryMarshal.GetReference(staging);
            int pitch = l.GradientPitch;
            nuint rowStride = (nuint)(pitch * V), positionStride = (nuint)l.GradientTransformedPositionStride;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.OutGroups; group++)
                {
                    for (int half = 0; half < V; half += Half)
                    {
                        ref float d = ref Unsafe.Add(ref g0, group * l.GradientGroupStride + (4 * ty * pitch + 4 * tx) * V + half);
                        for (int i = 0; i < 4; i++)
                            Spread4x256(ref Unsafe.Add(ref d, (nuint)i * rowStride), V, ref Unsafe.Add(ref e, i * 9 * V + half), V);
                        ref float target = ref Unsafe.Add(ref v0, group * l.ChunkTiles * V + (t - first) * V + half);
                        for (int b = 0; b < 9; b++)
                            Spread4x256(ref Unsafe.Add(ref e, b * V + half), 9 * V, ref Unsafe.Add(ref target, (nuint)b * positionStride), 9 * positionStride);
                    }
                }
            }
        }

        // AddWindows<Axis4, Axis4> with each group as two halves.
        private static void AddWindows4x256(Span<float> products, Span<float> plane, Span<float> staging, int first, int count, in Layout l)
        {
            ref float m0 = ref MemoryMarshal.GetReference(products);
            ref float p0 = ref MemoryMarshal.GetReference(plane);
            ref float e = ref MemoryMarshal.GetReference(staging);
            nuint rowStride = (nuint)(l.PaddedWidth * V), positionStride = (nuint)l.InLanes;
            for (int t = first; t < first + count; t++)
            {
                int ty = t / l.TileColumns, tx = t - ty * l.TileColumns;
                for (int group = 0; group < l.InGroups; group++)
                {
                    for (int half = 0; half < V; half += Half)
                    {
                        ref float m = ref Unsafe.Add(ref m0, (t - first) * l.GradientProductTileStride + group * V + half);
                        for (int b = 0; b < 9; b++)
                            Gather4x256(ref Unsafe.Add(ref m, (nuint)b * positionStride), 9 * positionStride, ref Unsafe.Add(ref e, b * V + half), 9 * V, add: false);
                        ref float window = ref Unsafe.Add(ref p0, group * l.PaddedGroupStride + (8 * ty * l.PaddedWidth + 8 * tx) * V + half);
                        for (int r = 0; r < 9; r++)
                            Gather4x256(ref Unsafe.Add(ref e, r * 9 * V + half), V, ref Unsafe.Add(ref window, (nuint)r * rowStride), V, add: true);
                    }
                }
            }
        }

        // FoldProducts on Vector256: each half of 16 input channels folded by the same multiply-adds, then the nine taps added
        // in PyTorch's [ic][tap] order (WinogradWeightGradient.AddTaps256). Staging as FoldProducts.
        private static void FoldProducts256(ReadOnlySpan<float> products, Span<float> weightGradient, Span<float> staging, in Layout l)
        {
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
                    for (int half = 0; half < V; half += Half)
                    {
                        ref float m = ref Unsafe.Add(ref m0, oc * l.InLanes + first + half);
                        ref float rh = ref Unsafe.Add(ref r, half);
                        for (int sd = 0; sd < slotsDown; sd++)
                        {
                            var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0;
                            for (int sb = 0; sb < slotsAcross; sb++)
                            {
                                var value = Vector256.LoadUnsafe(ref m, (nuint)(sd * slotsAcross + sb) * slotStride);
                                s0 = Fused.MultiplyAdd(value, Vector256.Create(across[3 * sb]), s0);
                                s1 = Fused.MultiplyAdd(value, Vector256.Create(across[3 * sb + 1]), s1);
                                s2 = Fused.MultiplyAdd(value, Vector256.Create(across[3 * sb + 2]), s2);
                            }
                            s0.StoreUnsafe(ref rh, (nuint)(3 * sd * V)); s1.StoreUnsafe(ref rh, (nuint)((3 * sd + 1) * V)); s2.StoreUnsafe(ref rh, (nuint)((3 * sd + 2) * V));
                        }
                        ref float th = ref Unsafe.Add(ref taps, half);
                        for (int i = 0; i < 3; i++)
                        {
                            var t0 = Vector256<float>.Zero; var t1 = t0; var t2 = t0;
                            for (int sd = 0; sd < slotsDown; sd++)
                            {
                                var weight = Vector256.Create(down[3 * sd + i]);
                                t0 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref rh, (nuint)(3 * sd * V)), weight, t0);
                                t1 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref rh, (nuint)((3 * sd + 1) * V)), weight, t1);
                                t2 = Fused.MultiplyAdd(Vector256.LoadUnsafe(ref rh, (nuint)((3 * sd + 2) * V)), weight, t2);
                            }
                            t0.StoreUnsafe(ref th, (nuint)(3 * i * V)); t1.StoreUnsafe(ref th, (nuint)((3 * i + 1) * V)); t2.StoreUnsafe(ref th, (nuint)((3 * i + 2) * V));
                        }
                    }
                    WinogradWeightGradient.AddTaps256(ref taps, ref turned, ref Unsafe.Add(ref dw, (oc * l.InChannels + first) * 9), Math.Min(V, l.InChannels - first));
                }
            }
        }

        // Axis4.Spread on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Spread4x256(ref float source, nuint sourceStride, ref float target, nuint targetStride)
        {
            var y0 = Vector256.LoadUnsafe(ref source); var y1 = Vector256.LoadUnsafe(ref source, sourceStride);
            var y2 = Vector256.LoadUnsafe(ref source, 2 * sourceStride); var y3 = Vector256.LoadUnsafe(ref source, 3 * sourceStride);
            var sum02 = y0 + y2; var sum13 = y1 + y3;
            y0.StoreUnsafe(ref target);
            (sum02 + sum13).StoreUnsafe(ref target, targetStride);
            (sum02 - sum13).StoreUnsafe(ref target, 2 * targetStride);
            (y0 + Fused.MultiplyAdd(y2, Vector256.Create(4f), Fused.MultiplyAdd(y3, Vector256.Create(8f), y1 + y1))).StoreUnsafe(ref target, 3 * targetStride);
            y3.StoreUnsafe(ref target, 4 * targetStride);
            y0.StoreUnsafe(ref target, 5 * targetStride); y1.StoreUnsafe(ref target, 6 * targetStride);
            y2.StoreUnsafe(ref target, 7 * targetStride); y3.StoreUnsafe(ref target, 8 * targetStride);
        }

        // Axis4.Gather on 8 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Gather4x256(ref float source, nuint sourceStride, ref float target, nuint targetStride, bool add)
        {
            var m0 = Vector256.LoadUnsafe(ref source); var m1 = Vector256.LoadUnsafe(ref source, sourceStride);
            var m2 = Vector256.LoadUnsafe(ref source, 2 * sourceStride); var m3 = Vector256.LoadUnsafe(ref source, 3 * sourceStride);
            var m4 = Vector256.LoadUnsafe(ref source, 4 * sourceStride);
            var two = Vector256.Create(2f);
            var m03 = m0 + m3;
            Put(ref target, 0, m0 * two, add);
            Put(ref target, targetStride, Vector256.LoadUnsafe(ref source, 5 * sourceStride), add);
            Put(ref target, 2 * targetStride, Fused.MultiplyAdd(m1 - m2 + m4, two, -m03), add);
            Put(ref target, 3 * targetStride, Vector256.LoadUnsafe(ref source, 6 * sourceStride), add);
            Put(ref target, 4 * targetStride, Fused.MultiplyAdd(m2, Vector256.Create(3f), Fused.MultiplyAdd(m0, -two, m1 - m4)), add);
            Put(ref target, 5 * targetStride, Vector256.LoadUnsafe(ref source, 7 * sourceStride), add);
            Put(ref target, 6 * targetStride, Fused.MultiplyAdd(m4, -two, m03 - m1 - m2), add);
            Put(ref target, 7 * targetStride, Vector256.LoadUnsafe(ref source, 8 * sourceStride), add);
            Put(ref target, 8 * targetStride, m4, add);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(ref float target, nuint offset, Vector256<float> value, bool add)
        {
            if (add) value += Vector256.LoadUnsafe(ref target, offset);
            value.StoreUnsafe(ref target, offset);
        }
    }
}
