using System;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels
{
    public static partial class DirectConvolution
    {
        /// <summary>
        /// What a stride-1 layer's evaluation forward pass is linked to: nothing, or the convolution on the other side (the one
        /// after it reads its output, or the one before it wrote its input): another stride-1 layer, or a strided one
        /// (<see cref="StridedConvolution.ForwardPreparedLinked"/> on the other side). Where both run a Winograd kernel on this
        /// machine (a strided layer before: or the lanes kernel that writes that layout) the maps pass in the padded layout
        /// those kernels share ([group][padded row][padded column][16 channels]), in a region of the shared scratch at its start
        /// or its end (consecutive links alternate), with no transposes to NCHW and back and no padding pass; elsewhere each
        /// layer reads and writes NCHW as it would unlinked.
        /// </summary>
        public readonly struct Link
        {
            internal readonly bool IsConvolution;
            internal readonly int InChannels, Height, Width, OutChannels, Kernel, Stride, Padding;
            /// <summary>The layer's 2x2 max pooling after it, fused into its epilogue (its output is the pooled map).</summary>
            internal readonly bool Pool;
            internal readonly bool AtEnd;

            private Link(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool pool, bool atEnd)
            {
                IsConvolution = true; InChannels = inChannels; Height = height; Width = width; OutChannels = outChannels;
                Kernel = kernel; Stride = stride; Padding = padding; Pool = pool; AtEnd = atEnd;
            }

            /// <summary>No link: the input is read from x, the output written to y in NCHW.</summary>
            public static Link None => default;

            /// <summary>
            /// The stride-1 convolution on the other side of the link (its input shape, output channels, kernel, padding, and
            /// whether a 2x2 max pooling is fused after it); both layers name the same region: <paramref name="atEnd"/> at the
            /// scratch's end, else at its start.
            /// </summary>
            public static Link Convolution(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool pool, bool atEnd) =>
                new(inChannels, height, width, outChannels, kernel, 1, padding, pool, atEnd);

            /// <summary>
            /// A strided convolution on the other side of the link (its input shape, output channels, kernel, stride and
            /// padding), which names this layer in its own <see cref="StridedConvolution.Link.Convolution"/> (stride 1). A layer
            /// whose output is pooled hands nothing on to a strided one.
            /// </summary>
            public static Link Strided(int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, bool atEnd) =>
                new(inChannels, height, width, outChannels, kernel, stride, padding, pool: false, atEnd);
        }

        /// <summary>Floats of scratch <see cref="ForwardLinked"/> needs with these links.</summary>
        public static int LinkedScratchLength(int inChannels, int height, int width, int outChannels, int kernel, int padding, bool pool, Link previous, Link next)
        {
            var own = new LinkedShape(inChannels, height, width, outChannels, kernel, padding, pool);
            bool from = HandedFrom(previous, own, out var input), to = HandingTo(own, next, out var output);
            return ScratchWithRegions(own, from ? input.PaddedLength : -1, to ? output.PaddedLength : -1);
        }

        // The layer's own scratch and each region taken (its floats, -1 where the link is not), and the up to 15 floats each
        // region's alignment skips.
        private static int ScratchWithRegions(in LinkedShape own, int inputRegion, int outputRegion) =>
            ScratchLengthWithFilters(own.InChannels, own.Height, own.Width, own.OutChannels, own.Kernel, own.Padding)
            + (inputRegion < 0 ? 0 : inputRegion + 16) + (outputRegion < 0 ? 0 : outputRegion + 16);

        /// <summary>
        /// <see cref="ForwardWithFilters"/> (or <see cref="ForwardPooledWithFilters"/> with <paramref name="pool"/>) linked to the
        /// layers around it (see <see cref="Link"/>): where the previous link is taken, x is not read (the layer before left
        /// the input padded in scratch); where the next one is, y is not written (the maps go to the next layer's region of
        /// scratch). The scratch is the same span for all linked layers, <see cref="LinkedScratchLength"/> floats at least.
        /// The same operations per tile as unlinked, so the same floats. Returns what it wrote: y's maps, or the next layer's
        /// padded input (zero outside the maps), for an activation that keeps zero to run in place over it.
        /// </summary>
        public static Span<float> ForwardLinked(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, bool pool, ReadOnlySpan<float> winogradFilters, Link previous, Link next) =>
            ForwardLinkedAdding(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool, winogradFilters, previous, next,
                shortcut: default, reluAfterSum: false);

        // The same, with a shortcut (ForwardJoined, only where the layer runs Winograd here) added as the Winograd kernel turns
        // its maps into NCHW.
        private static Span<float> ForwardLinkedAdding(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, bool pool, ReadOnlySpan<float> winogradFilters, Link previous, Link next,
            ReadOnlySpan<float> shortcut, bool reluAfterSum)
        {
            var own = new LinkedShape(inChannels, height, width, outChannels, kernel, padding, pool);
            bool valid = own.Valid;
            // Each link decided once: the scratch it needs and the regions it takes come from the same answer.
            var maps = default(WinogradF4Convolution.PaddedMaps);
            var following = default(WinogradF4Convolution.PaddedMaps);
            bool from = valid && HandedFrom(previous, own, out maps), to = valid && HandingTo(own, next, out following);
            if (valid)
            {
                int needed = ScratchWithRegions(own, from ? maps.PaddedLength : -1, to ? following.PaddedLength : -1);
                Require(scratch.Length >= needed, nameof(scratch), needed);
            }
            int startReserve = 0, endReserve = 0;
            Span<float> input = default, output = default;
            if (from)
            {
                input = LinkRegion.Of(scratch, maps.PaddedLength, previous.AtEnd);
                LinkRegion.Reserve(ref startReserve, ref endReserve, maps.PaddedLength, previous.AtEnd);
            }
            if (to)
            {
                output = LinkRegion.Of(scratch, following.PaddedLength, next.AtEnd);
                LinkRegion.Reserve(ref startReserve, ref endReserve, following.PaddedLength, next.AtEnd);
            }
            if (input.IsEmpty && output.IsEmpty && shortcut.IsEmpty)
            {
                // Neither link taken here: the layer as it runs unlinked, NCHW in and out (invalid shapes throw there).
                ForwardOn(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool, DefaultPath, winogradFilters: winogradFilters);
                return y.Slice(0, outChannels * own.OutHeight * own.OutWidth);
            }
            if (!RunsWinogradHere(own.Geometry, outChannels))
            {
                // A stem that does not run Winograd hands on from the lanes kernel: its results are [cell][16 channels] already.
                var g = CheckedGeometry(inChannels, height, width, outChannels, kernel, padding, x.Length, weight.Length);
                if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
                var lanesScratch = scratch.Slice(startReserve, scratch.Length - startReserve - endReserve);
                WinogradF4Convolution.ClearMargins(output, following);
                Pad(x, lanesScratch.Slice(0, g.PaddedLength), g);
                ForwardLanes512(lanesScratch.Slice(0, g.PaddedLength), weight, default, bias, outChannels, output, lanesScratch.Slice(g.PaddedLength), relu, pool: false, g,
                    handOn: true, following);
                return output;
            }
            var layout = F4Layout(own);
            Require(winogradFilters.Length >= layout.FiltersLength, nameof(winogradFilters), layout.FiltersLength);
            if (!bias.IsEmpty) Require(bias.Length >= outChannels, nameof(bias), outChannels);
            WinogradF4Convolution.ForwardLinked(x, input, winogradFilters, bias, output.IsEmpty ? y : output,
                scratch.Slice(startReserve, scratch.Length - startReserve - endReserve), relu, pool, layout, following, handOn: !output.IsEmpty, shortcut, reluAfterSum);
            return output.IsEmpty ? y.Slice(0, outChannels * own.OutHeight * own.OutWidth) : output;
        }

        /// <summary>
        /// A residual block's last layer with the block's join taken into its epilogue (evaluation): y = this layer's output
        /// (<see cref="ForwardLinked"/>, its input maybe handed on by the layer before) plus <paramref name="shortcut"/> (the
        /// block's shortcut, NCHW, y's shape), then ReLU with <paramref name="reluAfterSum"/>. Where the layer runs Winograd
        /// here the sum is added as its maps are turned into NCHW; elsewhere the kernel writes y and the sum follows in place.
        /// Either way the same floats as the layer, then <see cref="Elementwise.Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>
        /// (or <see cref="Elementwise.SumRelu"/>) into y. The scratch is <see cref="LinkedScratchLength"/>'s with no next link.
        /// </summary>
        public static void ForwardJoined(ReadOnlySpan<float> x, int inChannels, int height, int width,
            ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int kernel, int padding,
            Span<float> y, Span<float> scratch, bool relu, bool pool, ReadOnlySpan<float> winogradFilters, Link previous, ReadOnlySpan<float> shortcut, bool reluAfterSum)
        {
            var own = new LinkedShape(inChannels, height, width, outChannels, kernel, padding, pool);
            int length = own.Valid ? outChannels * own.OutHeight * own.OutWidth : 0;
            if (own.Valid) Require(shortcut.Length >= length, nameof(shortcut), length);
            bool inKernel = own.Valid && JoinsInKernel && !winogradFilters.IsEmpty && RunsWinogradHere(own.Geometry, outChannels);
            var written = ForwardLinkedAdding(x, inChannels, height, width, weight, bias, outChannels, kernel, padding, y, scratch, relu, pool, winogradFilters, previous, Link.None,
                inKernel ? shortcut.Slice(0, length) : default, reluAfterSum);
            if (inKernel) return;
            if (reluAfterSum) Elementwise.SumRelu(written, shortcut.Slice(0, length), written);
            else Elementwise.Sum(written, shortcut.Slice(0, length), written);
        }

        /// <summary>Whether <see cref="ForwardJoined"/> adds the sum in the Winograd kernel (KernelBench residual-join turns it off to compare with the pass after the layer).</summary>
        internal static bool JoinsInKernel { get; set; } = true;

        // A linked layer's shape: stride 1, square kernel and padding, and whether its output is pooled.
        private readonly record struct LinkedShape(int InChannels, int Height, int Width, int OutChannels, int Kernel, int Padding, bool Pool)
        {
            public static LinkedShape Of(in Link link) =>
                new(link.InChannels, link.Height, link.Width, link.OutChannels, link.Kernel, link.Padding, link.Pool);

            public bool Valid =>
                InChannels > 0 && Height > 0 && Width > 0 && OutChannels > 0 && Kernel > 0 && Padding >= 0
                && Height + 2 * Padding >= Kernel && Width + 2 * Padding >= Kernel
                && (!Pool || Height + 2 * Padding - Kernel + 1 >= 2 && Width + 2 * Padding - Kernel + 1 >= 2);

            public int OutHeight => (Height + 2 * Padding - Kernel + 1) / (Pool ? 2 : 1);

            public int OutWidth => (Width + 2 * Padding - Kernel + 1) / (Pool ? 2 : 1);

            public Geometry Geometry => new(InChannels, Height, Width, Kernel, Padding);
        }

        private static WinogradF4Convolution.Layout F4Layout(in LinkedShape s) => F4Layout(s.Geometry, s.OutChannels);

        // Whether the layer before hands this one its input padded (maps: this layer's padded input): a stride-1 layer where
        // both run Winograd here, a strided one where StridedConvolution says so.
        private static bool HandedFrom(in Link previous, in LinkedShape own, out WinogradF4Convolution.PaddedMaps maps)
        {
            maps = default;
            if (!previous.IsConvolution) return false;
            if (previous.Stride != 1)
                return StridedConvolution.HandsInPaddedLayout(previous.InChannels, previous.Height, previous.Width, previous.OutChannels, previous.Kernel, previous.Stride,
                    previous.Padding, own.OutChannels, own.Kernel, 1, own.Padding, out maps)
                    && maps.InChannels == own.InChannels && maps.Height == own.Height && maps.Width == own.Width;
            if (!Handing(LinkedShape.Of(previous), own)) return false;
            maps = F4Layout(own).Maps;
            return true;
        }

        // Whether this layer hands its maps to the next one padded (maps: the next layer's padded input): a stride-1 layer where
        // both run Winograd here, a strided one (from an unpooled output) where StridedConvolution says so.
        private static bool HandingTo(in LinkedShape own, in Link next, out WinogradF4Convolution.PaddedMaps maps)
        {
            maps = default;
            if (!next.IsConvolution) return false;
            if (next.Stride != 1)
                return !own.Pool && StridedConvolution.HandsInPaddedLayout(own.InChannels, own.Height, own.Width, own.OutChannels, own.Kernel, 1, own.Padding,
                    next.OutChannels, next.Kernel, next.Stride, next.Padding, out maps)
                    && maps.InChannels == next.InChannels && maps.Height == next.Height && maps.Width == next.Width;
            if (!Handing(own, LinkedShape.Of(next))) return false;
            maps = F4Layout(LinkedShape.Of(next)).Maps;
            return true;
        }

        // Whether the maps pass from stride-1 layer a to stride-1 layer b in the Winograd kernel's padded layout: both run it
        // on this machine, and b's input is a's (pooled) output.
        private static bool Handing(in LinkedShape a, in LinkedShape b) =>
            a.Valid && b.Valid && b.InChannels == a.OutChannels && b.Height == a.OutHeight && b.Width == a.OutWidth
            && (RunsWinogradHere(a.Geometry, a.OutChannels) || LanesHandOn(a)) && RunsWinogradHere(b.Geometry, b.OutChannels);

        // A stem (fewer input channels than Winograd takes) onto a Winograd layer: the lanes kernel writes the next layer's
        // padded input as it goes, instead of its own kernel's NCHW maps and the next layer's padding pass. Whole blocks of 16
        // output channels, no pooling.
        private static bool LanesHandOn(in LinkedShape a) =>
            StemLinks && a.InChannels < MinimumWinogradChannels && a.OutChannels % 16 == 0 && !a.Pool && DefaultPath == KernelPath.Vector512 && Avx512F.IsSupported;

        /// <summary>Whether stems hand on from the lanes kernel (KernelBench stem-link turns it off to compare).</summary>
        internal static bool StemLinks { get; set; } = true;

        /// <summary>Whether this stride-1 layer's forward runs F(4x4, 3x3) or F(2x2, 5x5) on this machine (so it can take part in a link).</summary>
        internal static bool RunsWinogradHere(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            inChannels > 0 && height > 0 && width > 0 && outChannels > 0 && kernel > 0 && padding >= 0 && height + 2 * padding >= kernel && width + 2 * padding >= kernel
            && RunsWinogradHere(new Geometry(inChannels, height, width, kernel, padding), outChannels);

        private static bool RunsWinogradHere(in Geometry g, int outChannels) =>
            WinogradOn(DefaultPath) && ForwardByWinograd(g, outChannels);

        /// <summary>The padded input of a stride-1 layer that runs Winograd (<see cref="RunsWinogradHere(int, int, int, int, int, int)"/>), as the layer before writes it.</summary>
        internal static WinogradF4Convolution.PaddedMaps WinogradInputMaps(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            F4Layout(new Geometry(inChannels, height, width, kernel, padding), outChannels).Maps;
    }
}
