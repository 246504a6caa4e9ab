using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    public static partial class StridedConvolution
    {
        /// <summary>
        /// What a strided layer's evaluation forward pass is linked to: nothing, another strided convolution (the one after it
        /// reads its output, or the one before it wrote its input), or a global average pooling after it. Between two layers
        /// that both run <see cref="StridedWinogradConvolution"/> on this machine the maps pass in that kernel's padded layout,
        /// in a region of the shared scratch at its start or its end (consecutive links alternate), with no transposes to NCHW
        /// and back; a pooling after a Winograd layer takes the channel sums from its output transform.
        /// </summary>
        public readonly struct Link
        {
            internal readonly int Kind;
            internal readonly int InChannels, Height, Width, OutChannels, Kernel, Stride, Padding;
            internal readonly bool AtEnd;
            internal readonly int Samples;

            private Link(int kind, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool atEnd, int samples = 1)
            {
                Kind = kind; InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels;
                Kernel = kernel; Stride = stride; Padding = padding; AtEnd = atEnd; Samples = samples;
            }

            internal const int NoKind = 0, ConvolutionKind = 1, MeanKind = 2, GroupKind = 3;

            /// <summary>No link: the input is read from x, the output written to y in NCHW.</summary>
            public static Link None => default;

            /// <summary>
            /// The strided convolution on the other side of the link (its input shape, output channels, kernel, stride and
            /// padding); both layers name the same region: <paramref name="atEnd"/> at the scratch's end, else at its start.
            /// </summary>
            public static Link Convolution(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool atEnd) =>
                new(ConvolutionKind, inChannels, height, width, outChannels, kernel, stride, padding, atEnd);

            /// <summary>A global average pooling after the layer: y is [outChannels], each channel's mean over its maps.</summary>
            public static Link GlobalMean => new(MeanKind, 0, 0, 0, 0, 0, 0, 0, false);

            /// <summary>
            /// The next layer runs groups of <paramref name="samples"/> (<see cref="ForwardPreparedSamples"/>): y is this sample's
            /// slot of its input, <see cref="GroupLinkLength"/> floats, holding its padded input where both layers run Winograd
            /// kernels here, else this layer's maps.
            /// </summary>
            public static Link Group(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int samples) =>
                new(GroupKind, inChannels, height, width, outChannels, kernel, stride, padding, false, samples);
        }

        /// <summary>
        /// Floats per sample between a strided layer (<paramref name="first"/>: its shape as a <see cref="Link.Convolution"/>)
        /// and the grouped layer after it (this shape, in groups of <paramref name="samples"/>): the grouped kernel's padded input
        /// where the first hands its maps on in that layout, else the maps themselves (inChannels x height x width).
        /// </summary>
        public static int GroupLinkLength(Link first, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int samples)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            return first.Kind == Link.ConvolutionKind && HandingToGroup(Before(first, inChannels), g, outChannels, samples, out _, out var second)
                ? second.PaddedLength : inChannels * height * width;
        }

        // Whether layer a's maps go to grouped layer b (as b's group kernel's padded input): a runs the Winograd kernel or the
        // lanes kernel that can write that layout, and b's group runs its kernel on this machine.
        private static bool HandingToGroup((Geometry Geometry, int OutChannels) before, in Geometry b, int bOutChannels, int samples,
            out StridedWinogradConvolution.Layout first, out StridedWinogradConvolution.Layout second)
        {
            first = default; second = default;
            var a = before.Geometry;
            if (!Valid(a) || !Valid(b) || b.InChannels != before.OutChannels || b.Height != a.OutHeight || b.Width != a.OutWidth) return false;
            bool winograd = UseWinograd(a, before.OutChannels, KernelPaths.Default, winograd: true);
            if (!(winograd || LanesLink(a, before.OutChannels)) || !Grouped(b, bOutChannels, samples)) return false;
            if (winograd) first = WinogradLayout(a, before.OutChannels);
            second = GroupLayout(b, bOutChannels, samples);
            return true;
        }

        /// <summary>Floats of scratch <see cref="ForwardPreparedLinked"/> needs with these links.</summary>
        public static int LinkedScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, Link previous, Link next)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            var input = default(WinogradF4Convolution.PaddedMaps);
            var output = default(WinogradF4Convolution.PaddedMaps);
            bool from = previous.Kind == Link.ConvolutionKind && Handing(Before(previous, inChannels), g, outChannels, out input);
            bool to = next.Kind == Link.ConvolutionKind && Handing(g, outChannels, After(next, outChannels), out output);
            return ScratchWithRegions(g, outChannels, from ? input.PaddedLength : -1, to ? output.PaddedLength : -1, next.Kind == Link.MeanKind);
        }

        // The layer's own scratch, each region taken (its floats, -1 where the link is not) and the channels' sums where the
        // next link is the global mean, each with the up to 15 floats its alignment skips.
        private static int ScratchWithRegions(in Geometry g, int outChannels, int inputRegion, int outputRegion, bool means) =>
            ScratchLength(g.InChannels, g.Height, g.Width, outChannels, g.Kernel, g.Stride, g.Padding)
            + (inputRegion < 0 ? 0 : inputRegion + 16) + (outputRegion < 0 ? 0 : outputRegion + 16) + (means ? outChannels * g.Cells + 16 : 0);

        /// <summary>
        /// <see cref="ForwardPrepared"/>
        /// linked to the layers around it (see <see cref="Link"/>): where the previous link is taken, x is not read (the layer
        /// before left the input padded in scratch); where the next one is, y is not written (the maps go to the next layer's
        /// region of scratch); with <see cref="Link.GlobalMean"/>, y is [outChannels] means. The scratch is the same span for
        /// all linked layers, <see cref="LinkedScratchLength"/> floats at least.
        /// </summary>
        public static void ForwardPreparedLinked(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> prepared,
            int outChannels, int kernel, int stride, int padding, Span<float> y, Span<float> scratch, bool relu, Link previous, Link next)
        {
            var g = new Geometry(inChannels, height, width, kernel, stride, padding);
            bool valid = inChannels > 0 && height > 0 && width > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0
                && height + 2 * padding >= kernel && width + 2 * padding >= kernel;
            // Each link decided once: the scratch it needs and the regions it takes come from the same answer.
            var inputMaps = default(WinogradF4Convolution.PaddedMaps);
            var following = default(WinogradF4Convolution.PaddedMaps);
            bool from = valid && previous.Kind == Link.ConvolutionKind && Handing(Before(previous, inChannels), g, outChannels, out inputMaps);
            bool to = valid && next.Kind == Link.ConvolutionKind && Handing(g, outChannels, After(next, outChannels), out following);
            if (valid)
            {
                int needed = ScratchWithRegions(g, outChannels, from ? inputMaps.PaddedLength : -1, to ? following.PaddedLength : -1, next.Kind == Link.MeanKind);
                Require(scratch.Length >= needed, nameof(scratch), needed);
            }
            int startReserve = 0, endReserve = 0;
            Span<float> input = default, output = default;
            if (from)
            {
                input = LinkRegion.Of(scratch, inputMaps.PaddedLength, previous.AtEnd);
                LinkRegion.Reserve(ref startReserve, ref endReserve, inputMaps.PaddedLength, previous.AtEnd);
            }
            if (to)
            {
                output = LinkRegion.Of(scratch, following.PaddedLength, next.AtEnd);
                LinkRegion.Reserve(ref startReserve, ref endReserve, following.PaddedLength, next.AtEnd);
            }
            else if (valid && next.Kind == Link.GroupKind && HandingToGroup((g, outChannels), After(next, outChannels).Geometry, next.OutChannels, next.Samples, out _, out var group))
            {
                following = group.Maps;
                Require(y.Length >= following.PaddedLength, nameof(y), following.PaddedLength);
                output = y.Slice(0, following.PaddedLength); // the sample's slot of the grouped layer's input
            }
            bool means = next.Kind == Link.MeanKind;
            if (valid && UseWinograd(g, outChannels, KernelPaths.Default, winograd: true))
            {
                var layout = WinogradLayout(g, outChannels);
                Require(prepared.Length >= layout.FiltersLength + outChannels, nameof(prepared), layout.FiltersLength + outChannels);
                var own = scratch.Slice(startReserve, scratch.Length - startReserve - endReserve);
                var handoff = !output.IsEmpty ? StridedWinogradConvolution.Handoff.NextInput
                    : means ? StridedWinogradConvolution.Handoff.Means : StridedWinogradConvolution.Handoff.Maps;
                StridedWinogradConvolution.ForwardLinked(x, input, prepared.Slice(0, layout.FiltersLength), prepared.Slice(layout.FiltersLength, outChannels),
                    output.IsEmpty ? y : output, own, relu, layout, following, handoff);
                return;
            }
            if (!output.IsEmpty)
            {
                // Not Winograd, but the next layer is: the lanes kernel writes its [cell][16 channels] results there.
                int length = WeightsLength(g, outChannels, KernelPaths.Default);
                Require(prepared.Length >= length + outChannels, nameof(prepared), length + outChannels);
                ForwardLanesInto(x, prepared.Slice(0, length), prepared.Slice(length, outChannels), outChannels, output, following,
                    scratch.Slice(startReserve, scratch.Length - startReserve - endReserve), relu, g, weightsPacked: PacksLanes(g, outChannels, KernelPaths.Default));
                return;
            }
            if (!means)
            {
                ForwardPrepared(x, inChannels, height, width, prepared, outChannels, kernel, stride, padding, y, scratch, relu);
                return;
            }
            // The maps at the scratch's end, then their means.
            int cells = g.Cells;
            Require(y.Length >= outChannels, nameof(y), outChannels);
            var maps = scratch.Slice(scratch.Length - outChannels * cells, outChannels * cells);
            ForwardPrepared(x, inChannels, height, width, prepared, outChannels, kernel, stride, padding, maps, scratch.Slice(0, scratch.Length - outChannels * cells - 16), relu);
            for (int oc = 0; oc < outChannels; oc++)
            {
                var plane = maps.Slice(oc * cells, cells);
                float sum = 0f;
                for (int i = 0; i < plane.Length; i++) sum += plane[i];
                y[oc] = sum / cells;
            }
        }

        // The geometry of the layer before a link, whose output channels are this layer's input channels.
        private static (Geometry Geometry, int OutChannels) Before(in Link link, int outChannels) =>
            (new Geometry(link.InChannels, link.Height, link.Width, link.Kernel, link.Stride, link.Padding), outChannels);

        // The layer after a link, whose input is this layer's output.
        private static (Geometry Geometry, int OutChannels) After(in Link link, int inChannels) =>
            (new Geometry(link.InChannels, link.Height, link.Width, link.Kernel, link.Stride, link.Padding), link.OutChannels);

        private static bool Handing((Geometry Geometry, int OutChannels) before, in Geometry g, int outChannels, out WinogradF4Convolution.PaddedMaps second) =>
            Handing(before.Geometry, before.OutChannels, (g, outChannels), out second);

        /// <summary>
        /// Whether a layer of shape a hands its maps to the layer of shape b after it in a Winograd kernel's padded layout
        /// (<paramref name="maps"/>: b's padded input), one of the two strided: DirectConvolution.ForwardLinked asks this for
        /// its links to and from strided layers, so both sides of a link decide alike.
        /// </summary>
        internal static bool HandsInPaddedLayout(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding,
            int nextOutChannels, int nextKernel, int nextStride, int nextPadding, out WinogradF4Convolution.PaddedMaps maps)
        {
            var a = new Geometry(inChannels, height, width, kernel, stride, padding);
            maps = default;
            return Valid(a) && Handing(a, outChannels, (new Geometry(outChannels, a.OutHeight, a.OutWidth, nextKernel, nextStride, nextPadding), nextOutChannels), out maps);
        }

        // Whether the maps pass from layer a to layer b in a Winograd kernel's padded layout: b's input is a's output; a runs the
        // strided Winograd kernel, or the lanes kernel that can write that layout, or at stride 1 F(4x4, 3x3) or F(2x2, 5x5)
        // (DirectConvolution); b runs the strided Winograd kernel, or at stride 1 one of those, on this machine. (Two stride-1
        // layers link through DirectConvolution.Link.)
        private static bool Handing(in Geometry a, int aOutChannels, (Geometry Geometry, int OutChannels) b, out WinogradF4Convolution.PaddedMaps second)
        {
            second = default;
            var bg = b.Geometry;
            if (!Valid(a) || !Valid(bg) || bg.InChannels != aOutChannels || bg.Height != a.OutHeight || bg.Width != a.OutWidth) return false;
            if (a.Stride == 1 && bg.Stride == 1) return false;
            bool aHands = a.Stride == 1 ? DirectConvolution.RunsWinogradHere(a.InChannels, a.Height, a.Width, aOutChannels, a.Kernel, a.Padding)
                : UseWinograd(a, aOutChannels, KernelPaths.Default, winograd: true) || LanesLink(a, aOutChannels);
            if (!aHands) return false;
            if (bg.Stride == 1)
            {
                if (!DirectConvolution.RunsWinogradHere(bg.InChannels, bg.Height, bg.Width, b.OutChannels, bg.Kernel, bg.Padding)) return false;
                second = DirectConvolution.WinogradInputMaps(bg.InChannels, bg.Height, bg.Width, b.OutChannels, bg.Kernel, bg.Padding);
                return true;
            }
            if (!UseWinograd(bg, b.OutChannels, KernelPaths.Default, winograd: true)) return false;
            second = WinogradLayout(bg, b.OutChannels).Maps;
            return true;
        }

        // A layer before a Winograd one that does not run Winograd itself (a stem: 3 input channels) links where the lanes
        // kernel can run it (output channels in whole vectors, stride 2 to 4): its results are [cell][16 channels] already,
        // the next layer's padded layout, so they go there with no transposes and no padding pass. Measured against its own
        // kernel's NCHW output and the next layer's padding pass (KernelBench strided-stem-link, 11 shapes, interleaved, load
        // 22-25): 1.08-1.47x from 32 output channels (3 to 8 in, 32x32 to 64x64 out) and with 16 of each (1.07-1.15x, where
        // the alternative is the lanes kernel with transposes); 0.80-0.87x for 16 output channels from 3 or 8 (the phases
        // kernel's stems: one block of 16 a broadcast, against the phases' whole rows).
        // Without AVX-512 the Vector256 lanes kernel links wherever it runs the layer (ForwardLanes256 copying its results'
        // rows there): it has no phases kernel to weigh against.
        private static bool LanesLink(in Geometry a, int aOutChannels) =>
            aOutChannels % 16 == 0 && a.Stride >= 2 && a.Stride <= 4 && (KernelPaths.Default == KernelPath.Vector512
                ? Avx512F.IsSupported && (aOutChannels >= 32 || !UsePhases(a, aOutChannels, KernelPath.Vector512))
                  && !UsePolyphase(a, aOutChannels, KernelPath.Vector512, winograd: true) // its prepared weights are polyphase filters, not lanes
                : KernelPaths.Default == KernelPath.Vector256 && PacksLanes(a, aOutChannels, KernelPath.Vector256) // the lanes kernel, its weights packed
                  && !UsePolyphase(a, aOutChannels, KernelPath.Vector256, winograd: true));

        /// <summary>
        /// Cells of a row a tile of two blocks takes at stride 2 in <see cref="ForwardLanesInto"/> (up to 12; 8: the
        /// tiles of before, which KernelBench stem-cells compares). Measured there, interleaved: 3x64x64 -> 32 11.60 -> 10.56 µs,
        /// 3x128x128 -> 32 43.60 -> 39.34; a tile's fixed cost (its start, ReLU and stores) over more multiply-adds.
        /// </summary>
        internal static int LanesIntoWideCells { get; set; } = 12;

        // ForwardLanes512's tiles (of up to 12 cells where two blocks remain), each storing its cells (through ReLU) at their
        // place in the next layer's padded input.
        private static void ForwardLanesInto(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels,
            Span<float> target, in WinogradF4Convolution.PaddedMaps next, Span<float> scratch, bool relu, in Geometry g, bool weightsPacked)
        {
            if (KernelPaths.Default == KernelPath.Vector256)
            {
                ForwardLanes256(x, weight, bias, outChannels, target, scratch, relu, g, weightsPacked, next, handOn: true);
                return;
            }
            int taps = g.Taps;
            var padded = scratch.Slice(0, g.PaddedLength);
            var packed = scratch.Slice(g.PaddedLength, outChannels * taps);
            Pad(x, padded, g);
            ReadOnlySpan<float> lanes = weight;
            if (!weightsPacked)
            {
                DirectConvolution.PackLanes(weight, outChannels, taps, packed);
                lanes = packed;
            }
            WinogradF4Convolution.ClearMargins(target, next);
            ref float p = ref MemoryMarshal.GetReference(padded);
            int pitch = next.PaddedWidth, groupStride = next.PaddedGroupStride;
            ref float t0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(target), next.MapsOffset);
            for (int block = 0; block < outChannels;)
            {
                bool two = block + 32 <= outChannels;
                int cellsPerTile = two && g.Stride == 2 ? Math.Clamp(LanesIntoWideCells, 8, 12) : 8;
                int tilesPerRow = (g.OutWidth + cellsPerTile - 1) / cellsPerTile;
                ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(lanes), block * taps);
                ref float w1 = ref Unsafe.Add(ref w0, 16 * taps);
                var b0 = bias.IsEmpty ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)block);
                var b1 = !two || bias.IsEmpty ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)(block + 16));
                ref float group0 = ref Unsafe.Add(ref t0, block / 16 * groupStride);
                ref float group1 = ref Unsafe.Add(ref group0, groupStride);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int tile = 0; tile < tilesPerRow; tile++)
                    {
                        int ox = tile * g.OutWidth / tilesPerRow, count = (tile + 1) * g.OutWidth / tilesPerRow - ox;
                        ref float origin = ref Unsafe.Add(ref p, oy * g.Stride * g.PaddedWidth + ox * g.Stride);
                        int at = (oy * pitch + ox) * 16;
                        ref float o0 = ref Unsafe.Add(ref group0, at), o1 = ref Unsafe.Add(ref group1, at);
                        // Rows of 9 to 12 cells (two blocks at stride 2) go straight to their tile: no dispatch levels per tile.
                        switch (count)
                        {
                            case 9: Tile<C2, C2, C9, C9>(ref origin, ref w0, ref w1, b0, b1, ref o0, ref o1, g, relu); continue;
                            case 10: Tile<C2, C2, C10, C10>(ref origin, ref w0, ref w1, b0, b1, ref o0, ref o1, g, relu); continue;
                            case 11: Tile<C2, C2, C11, C11>(ref origin, ref w0, ref w1, b0, b1, ref o0, ref o1, g, relu); continue;
                            case 12: Tile<C2, C2, C12, C12>(ref origin, ref w0, ref w1, b0, b1, ref o0, ref o1, g, relu); continue;
                        }
                        if (two) Tile<C2>(count, ref origin, ref w0, ref w1, b0, b1, ref o0, ref o1, g, relu);
                        else Tile<C1>(count, ref origin, ref w0, ref w0, b0, b0, ref Unsafe.Add(ref group0, at), ref Unsafe.Add(ref group0, at), g, relu);
                    }
                }
                block += two ? 32 : 16;
            }
        }

        private static bool Valid(in Geometry g) =>
            g.InChannels > 0 && g.Height > 0 && g.Width > 0 && g.Kernel > 0 && g.Stride > 0 && g.Padding >= 0
            && g.Height + 2 * g.Padding >= g.Kernel && g.Width + 2 * g.Padding >= g.Kernel;
    }
}
