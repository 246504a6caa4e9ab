using System;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels
{
    /// <summary>
    /// PyTorch's general <c>Conv2d</c> for one sample: any groups (depthwise included), stride, padding and dilation per
    /// axis, rectangular kernels; forward and backward. x is [C x H x W], the weight PyTorch's
    /// [outChannels x C/groups x kh x kw], y [outChannels x OH x OW].
    /// </summary>
    /// <remarks>
    /// <para>
    /// Depthwise layers (one input channel per group, any channel multiplier) run the direct kernel of
    /// <see cref="DepthwiseConvolution"/>, vectorized along the output row. Grouped 3x3 layers at stride 1 (and stride 2 from
    /// 16 channels a group) run each group on its slices by <see cref="DirectConvolution"/> or <see cref="StridedConvolution"/>. Dilated stride-1 layers of one group run as d²
    /// undilated convolutions on the input's phases (<see cref="DilatedConvolution"/>), where that identity holds. A grouped 1x1 stride-1 unpadded kernel runs
    /// each group as a <see cref="PointwiseConvolution"/> (its input is its columns). Ungrouped, undilated stride-1 layers
    /// with a rectangular kernel or padding per axis (Inception's 1x3, 7x1) run <see cref="DirectConvolution"/>'s tiles forward,
    /// and backward up to <see cref="DirectBackwardMaximumWeights"/> weights where that measured faster (<see cref="RunsDirect"/>, <see cref="RunsDirectBackward"/>);
    /// their 1x3 and 3x1 kernels from 16 channels by Winograd's F(4, 3) along the kernel's axis on the Vector512 path, forward
    /// and input gradient, and their 1x5, 5x1, 1x7 and 7x1 ones by F(4, 5) and F(4, 7) (<see cref="LineWinogradConvolution"/>,
    /// <see cref="RunsLineWinograd"/>, <see cref="RunsLineWinogradInputGradient"/>; their weight gradient then alone by the
    /// direct kernels, <see cref="LineWeightGradientRunsDirect"/>), from filters a caller may prepare once
    /// (<see cref="Prepare"/>, <see cref="PrepareInputGradient"/>). Every other layer runs per group as
    /// im2col (<see cref="ConvolutionColumns"/>) and a <see cref="Gemm"/> product: y_g = W_g · cols_g, started at the bias.
    /// </para>
    /// <para>
    /// The backward pass adds dW_g += dy_g · cols_gᵀ and db[oc] += Σ dy[oc] to the gradients it is given, and overwrites the
    /// input gradient with col2im(W_gᵀ · dy_g). The scratch (<see cref="ScratchLength"/> floats) holds one group's columns.
    /// </para>
    /// </remarks>
    public static class GroupedConvolution
    {
        /// <summary>Floats of scratch <see cref="Forward(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/> and <see cref="Backward"/> need for this geometry.</summary>
        public static int ScratchLength(in ConvolutionGeometry g)
        {
            if (g.GroupInChannels == 1) return DepthwiseConvolution.ScratchLength(g);
            if (IsPointwise(g)) return 0;
            if (DilatedConvolution.Handles(g)) return DilatedConvolution.ScratchLength(g);
            if (GroupsAsDense(g)) return DenseScratchLength(g);
            long length = (long)g.GroupInChannels * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth;
            if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(g), "The columns of this convolution do not fit in a span.");
            if (!DirectShape(g)) return (int)length;
            // Room for every route (which one runs depends on the kernel path): the direct kernels' padded input and tiles, the
            // columns, and for 1xk and kx1 kernels Winograd's buffers (forward, and the input gradient where it takes the padding).
            int direct = DirectConvolution.ScratchLengthPerAxis(g.InChannels, g.InHeight, g.InWidth, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth);
            int winograd = IsLine(g) ? LineWinogradLayout(g).ScratchLength : 0;
            if (IsLine(g) && LineWinogradConvolution.TakesInputGradient(g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth))
                winograd = Math.Max(winograd, LineInputGradientLayout(g).ScratchLength);
            return Math.Max(Math.Max(direct, winograd), (int)length);
        }

        // A 1xk or kx1 kernel of 3, 5 or 7 (of a direct-shaped layer: ungrouped, undilated, stride 1).
        private static bool IsLine(in ConvolutionGeometry g) => LineWinogradConvolution.IsLineKernel(g.KernelHeight, g.KernelWidth);

        private static LineWinogradConvolution.Layout LineWinogradLayout(in ConvolutionGeometry g) =>
            new(g.InChannels, g.InHeight, g.InWidth, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth);

        private static LineWinogradConvolution.Layout LineInputGradientLayout(in ConvolutionGeometry g) =>
            LineWinogradConvolution.InputGradientLayout(g.InChannels, g.InHeight, g.InWidth, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth);

        // 1x3 and 3x1 layers by F(4, 3) along the kernel's axis (LineWinogradConvolution, filters transformed per call) against
        // the direct route, KernelBench line-winograd, µs, 2026-12-06, Zen 4 (half-rate Vector512), interleaved by thread
        // CPU time; direct / Winograd:
        //   16 or more channels in, 16 out or a number that fills five sixths of its 16-lane groups, 16+ tiles:
        //   32->48 @16 1x3 26.8/16.3, 48->48 @16 3x1 36.3/22.9 (Inception-style's); 16->16 @32 1x3 19.9/17.5, 3x1 18.9/17.5;
        //   16->32 @32 1x3 37.0/29.8; 32->32 @32 3x1 67.3/52.4; 24->32 @32 1x3 53.4/42.6; 24->48 @16 1x3 20.6/14.0; 40->40 @16
        //   3x1 25.6/21.4; 16->16 @16 1x3 5.45/3.87; 32->32 @16 3x1 16.7/11.9; 16->16 @8 1x3 1.68/1.42, 3x1 1.46/1.34;
        //   32->32 @8 1x3 5.47/3.92; 64->64 @8 3x1 15.8/13.8; 96->96 @12 1x3 91.6/52.3, 3x1 75.5/52.8; 64->96 @35 1x3
        //   453/259, 3x1 467/262; 128->128 @8 1x3 72.1/50.7; 192->192 @8 3x1 129/121; 256->256 @8 1x3 280/184; 384->384 @8
        //   3x1 502/473; 448->384 @8 1x3 728/589; 64->64 @32 1x3 254/166; 16->16 @64 1x3 77.1/73.0 (1.06x to 1.79x).
        //   Not taken: 24 out, whose lanes a third of the second group leaves empty: 16->24 @32 1x3 28.1/28.9, 24->24 @32 3x1
        //   38.7/41.8, 32->24 @32 3x1 50.9/51.6, 16->24 @16 3x1 7.09/7.85, 24->24 @16 1x3 11.3/10.4, 48->24 @16 1x3 21.2/17.7;
        //   fewer than 16 channels: 8->8 @32 1x3 6.36/11.9, 8->16 @32 3x1 11.1/12.7, 12->12 @16 1x3 3.39/4.03, 16->8 @16 3x1
        //   2.99/4.55, 3->16 @32 1x3 5.99/10.6, 16->3 @32 3x1 5.96/17.1; fewer than 16 tiles (4x4 maps), where the per-call
        //   filters are not paid back: 64->64 @4 1x3 6.50/7.08, 256->256 @4 3x1 90.2/114 (but 32->32 @4 3x1 2.14/1.79).
        // 1x5 and 5x1 by F(4, 5) (8 multiplications for 4 outputs instead of 20), the same rule, µs, load 7-9:
        //   48->64 @35 1x5 385/185, 5x1 360/187; 16->32 @32 1x5 59.7/37.6; 32->48 @16 1x5 55.8/30.1; 16->16 @16 5x1 7.32/5.11;
        //   32->32 @8 1x5 12.0/6.36; 64->64 @8 5x1 24.8/18.5; 128->128 @8 1x5 111/70.5; 256->256 @8 5x1 371/315; 16->16 @8 1x5
        //   3.17/1.78 (1.18x to 2.08x). Not taken: 8 channels in (8->16 @32 5x1 15.3/16.4).
        // 1x7 and 7x1 by F(4, 7) (10 multiplications for 4 outputs instead of 28), 2026-12-06 (session 49), load 3-7, direct /
        // F(4, 7), and F(2, 7) (8 for 2, which it replaced) / F(4, 7) in the same run: 48->48 @17 1x7 103/55.1, 1.21x; 48->64
        //   @17 7x1 120/70.8, 1.23x; 128->128 @17 1x7 645/329, 1.31x; 192->192 @17 7x1 1,376/763, 1.32x; 160->192 @17 7x1
        //   1,152/607, 1.30x (Inception-v3's); 16->16 @16 1x7 14.5/6.16, 1.36x; 48->48 @12 7x1 43.4/25.2, 1.35x; 24->48 @16 1x7
        //   53.7/22.3; 16->16 @32 7x1 37.7/25.5; on 8x8 maps (16 tiles; F(2, 7)'s 32 did not pay there) 16->16 1x7 3.81/2.31;
        //   32->32 7x1 9.06/7.17, 1x7 11.9/7.39; 64->64 1x7 40.8/25.3; 128->128 1x7 150/98.2, 7x1 132/100; 256->256 1x7
        //   583/402. Not taken: wider 7-tap layers on fewer than 64 tiles, whose per-call filters (10 floats a 7 taps, read
        //   past L2) are half the call: 384->384 @8 7x1 1,153/998 in one run, 1,243/1,601 in the next (filters 459-559).
        // The saving is arithmetic, so it holds on a full-rate unit too, where both sides' products run twice as fast; only
        // the transforms do not.
        internal static bool RunsLineWinograd(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            LineWinogradRuns(g, path) && g.InChannels >= 16 && FillsLanes(g.OutChannels)
            && LineWinogradPays(g, LineWinogradConvolution.TilesOf(g.KernelHeight, g.KernelWidth, g.OutHeight, g.OutWidth));

        // A direct-shaped 1xk or kx1 layer on the machine's own vector path (Vector512, or Vector256 without AVX-512), where
        // LineWinogradConvolution runs at all.
        private static bool LineWinogradRuns(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            DirectShape(g) && IsLine(g) && DirectConvolution.WinogradOn(path) && LineWinogradConvolution.Handles(g.KernelHeight, g.KernelWidth);

        // 16 or more channels in the lanes, filling at least five sixths of their 16-lane groups.
        private static bool FillsLanes(int channels) => channels >= 16 && 6 * channels >= 5 * ((channels + 15) / 16 * 16);

        // Tiles from which the per-call filter transform is paid back (the tables above): 16, an 8x8 map's tiles of 4 outputs.
        private const int MinimumLineWinogradTiles = 16;

        // 7 taps on fewer than 64 tiles (an 8x8 map's 16, a 12x12 one's 36) up to this many weights a tap (256 -> 256).
        private const int SevenTapSmallMapMaximumChannelPairs = 65_536;

        private static bool LineWinogradPays(in ConvolutionGeometry g, int tiles) =>
            tiles >= MinimumLineWinogradTiles
            && (Math.Max(g.KernelHeight, g.KernelWidth) < 7 || tiles >= 64 || g.InChannels * g.OutChannels <= SevenTapSmallMapMaximumChannelPairs);

        // The input gradient of the same layers by F(4, 3) as the convolution of dy with the kernel turned and the channels
        // swapped (LineWinogradConvolution.InputGradient; padding 0 across the kernel's axis), the same rule on that
        // convolution's channels (the layer's input channels are its outputs) and tiles; the weight gradient then runs alone
        // (LineWeightGradientRunsDirect). KernelBench line-winograd, µs, 2026-12-06, Zen 4, the input gradient alone, direct kernels / im2col /
        // Winograd: 16->24 @32 1x3 29.6/37.7/25.5; 32->48 @16 1x3 29.3/31.3/16.3; 48->48 @16 3x1 35.9/41.0/23.1; 16->16 @8
        // 1x3 1.87/3.01/1.27, 3x1 1.58/2.26/1.31; 32->32 @8 1x3 5.96/7.67/3.80; 64->64 @8 3x1 16.6/19.2/11.7; 96->96 @12 1x3
        // 106/88.8/48.5, 3x1 82.8/88.5/48.1; 64->96 @35 1x3 492/460/256; 128->128 @8 1x3 79.2/70.6/43.7; 256->256 @8 1x3
        // 333/251/172; 384->384 @8 3x1 516/521/398; 448->384 @8 1x3 875/636/458; 16->16 @64 1x3 82.8/108/69.0 (1.16x to
        // 2.18x the route each took). Not taken: 24 channels in (24->24 @32 3x1 41.3/47.8/40.9), 8 (8->8 @32 1x3
        // 7.29/12.1/11.9, 8->16 @32 3x1 12.0/13.9/17.1), 3 (3->16 @32 1x3 6.99/8.29/16.5).
        // 5 and 7 taps likewise (session 49, F(4, 5) and F(4, 7), im2col's columns now k deep: session 48 timed them 3 deep
        // and so kept these layers above 12,288 weights on im2col), direct kernels / im2col / Winograd with its per-call turned
        // filters / on filters prepared once: 48->48 @17 1x7 124/120/58.1/50.1; 48->64 @17 7x1 134/162/70.8/58.0; 128->128 @17
        // 1x7 858/769/362/272; 192->192 @17 7x1 1,722/1,482/811/588; 160->192 @17 7x1 1,459/1,237/652/495 (Inception-v3's);
        // 48->48 @12 7x1 47.4/60.5/28.1/19.1; 32->48 @16 1x5 48.3/51.2/23.2/18.8; 48->64 @35 1x5 406/398/183/171; 64->64 @8
        // 5x1 26.2/31.1/23.1/11.8; 128->128 @8 1x5 179/118/88.7/42.0 (1.33x to 2.29x the better of the other two per call).
        internal static bool RunsLineWinogradInputGradient(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            LineWinogradRuns(g, path) && LineWinogradConvolution.TakesInputGradient(g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth)
            // The transposed convolution's output is the layer's input: its channels fill the lanes.
            && g.OutChannels >= 16 && FillsLanes(g.InChannels)
            && LineWinogradPays(g, LineWinogradConvolution.TilesOf(g.KernelHeight, g.KernelWidth, g.InHeight, g.InWidth));

        // Grouped 3x3 layers (not depthwise), KernelBench grouped, µs, 2026-12-02, load 17-20, interleaved: im2col + GEMM per
        // group against each group run on its slices by DirectConvolution (stride 1) or StridedConvolution (stride 2):
        //   128 @32x32 g32 258.2 / 80.3; 128 @16 g4 192.5 / 59.0; 64 @32 g4 348.1 / 78.9; 64 @16 g8 46.1 / 17.3; 256 @8 g32
        //   128.0 / 29.6; 256 @8 g8 151.2 / 71.1; 128 @16 g2 403.5 / 112.1; 96 @14 g3 182.1 / 54.7; 48 @28 g4 141.9 / 49.1;
        //   512 @4 g32 103.4 / 28.9 (stride 1: every shape, 2.1x to 4.4x); stride 2: 128 @32 g8 162.9 / 78.9, 64 @32 g2 102.0 /
        //   56.2, but 256 @16 g32 (8 channels a group) 85.7 / 114.5. So stride 1 always, stride 2 from 16 channels a group.
        //   Backward (both gradients), im2col + GEMM against the route this picks, load 17-21: 128 @32 g32 685.2 / 186.7; 128 @16
        //   g4 343.0 / 183.0; 128 @32 g8 s2 570.9 / 377.8; 64 @16 g8 176.4 / 44.8; 256 @8 g32 194.2 / 68.0; 128 @16 g2 514.3 /
        //   360.3; 512 @4 g32 169.2 / 98.7; 64 @32 g2 s2 232.3 / 186.9 (every shape the rule takes; 256 @16 g32 s2 stays im2col).
        internal static bool GroupsAsDense(in ConvolutionGeometry g) =>
            g.Groups > 1 && g.GroupInChannels > 1 && g.KernelHeight == 3 && g.KernelWidth == 3 && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.StrideHeight == g.StrideWidth && g.PaddingHeight == g.PaddingWidth && 2 * g.PaddingHeight <= 3
            && (g.StrideHeight == 1 || (g.StrideHeight == 2 && g.GroupInChannels >= 16));

        private static int DenseScratchLength(in ConvolutionGeometry g) =>
            g.StrideHeight == 1
                ? DirectConvolution.ScratchLength(g.GroupInChannels, g.InHeight, g.InWidth, g.GroupOutChannels, 3, g.PaddingHeight)
                : StridedConvolution.ScratchLength(g.GroupInChannels, g.InHeight, g.InWidth, g.GroupOutChannels, 3, g.StrideHeight, g.PaddingHeight);

        // Ungrouped, undilated stride-1 layers with a kernel or padding that differs between the axes (Inception's 1x3, 3x1,
        // 1x7, 7x1 with padding (0, k/2) or (k/2, 0)): DirectConvolution's tiles over flat padded rows instead of im2col + GEMM.
        // KernelBench nonsquare, µs, 2026-12-02, load 20-22, interleaved; im2col + GEMM / direct, forward then backward (both gradients):
        //   16->16 @8 1x3 2.23/1.06, 4.33/2.49; 3x1 3.57/1.34, 3.51/2.19; 32->48 @16 1x3 19.5/15.4, 35.4/34.9; 48->32 @16 3x1
        //   23.4/14.3, 39.5/30.0; 64->64 @8 1x3 13.7/10.2, 27.2/24.5; 3x1 13.4/8.8, 24.0/20.6; 96->96 @12 1x3 56.2/49.1,
        //   101.3/122.2; 3x1 56.7/44.9, 100.5/100.4; 128->128 @17 1x7 409/345, 754/1015; 7x1 425/338, 754/901; 192->192 @17
        //   1x7 866/776, 1615/2477; 7x1 885/754, 1636/2267; 160->192 @17 7x1 751/624, 1407/2411; 64->96 @35 1x3 274/239,
        //   503/597; 3x1 265/267, 469/553; 48->64 @35 1x5 241/190, 433/483; 5x1 253/210, 451/464; 192->192 @8 1x3 84.2/84.6,
        //   166/237; 3x1 81.1/66.5, 154/182; 24->40 @20 1x3 p0 20.5/14.1, 37.4/34.2; 40->24 @20 3x1 p0 25.3/12.1, 44.3/34.2;
        //   17->33 @13 1x7 16.1/10.8, 28.3/28.1; 33->17 @13 7x1 23.4/8.1, 41.0/26.4; 16->32 @32 1x3 31.1/21.7, 57.2/46.6.
        // The same on the Vector256 path (DOTNET_EnableAVX512=0), load 34-38:
        //   16->16 @8 1x3 2.85/1.74, 5.25/4.92; 3x1 2.65/1.55, 4.24/4.59; 32->48 @16 1x3 29.9/29.2, 58.2/68.4; 48->32 @16 3x1
        //   36.2/27.2, 118/74.6; 64->64 @8 1x3 26.4/29.4, 48.3/64.8; 3x1 26.7/26.6, 37.2/112; 96->96 @12 1x3 88.6/98.9; 3x1
        //   108/96.8; 128->128 @17 1x7 729/867; 7x1 738/700; 192->192 @17 1x7 1861/2441; 7x1 1554/1513; 160->192 @17 7x1
        //   1304/1278; 64->96 @35 1x3 466/466; 3x1 470/469; 48->64 @35 1x5 416/419; 5x1 417/401; 192->192 @8 1x3 144/172; 3x1
        //   141/139; 24->40 @20 1x3 p0 28.7/25.1, 54.7/59.9; 40->24 @20 3x1 p0 33.7/22.7, 59.0/54.2; 17->33 @13 1x7 26.3/22.4,
        //   49.8/64.5; 33->17 @13 7x1 29.4/16.7, 50.7/45.5; 16->32 @32 1x3 46.6/36.5, 79.0/96.6 (the backward of the shapes above
        //   12,288 weights ran im2col both times, 0.99x-1.02x: the noise).
        // So on Vector512 the forward runs direct on every shape (0.99x to 2.9x) and the backward up to 12,288 weights (every
        // such shape 1.01x to 1.74x; above, 0.58x to 1.00x: the direct gradients stream d y through the cache once per group
        // of taps, which the packed GEMM does not). On Vector256 the forward runs direct up to 8,192 weights (1.02x to 1.76x;
        // above, 0.76x to 1.11x) and the backward never (0.33x to 1.58x up to 12,288 weights, most below 1). The scalar path
        // (the definition either way) follows Vector512's rule.
        private static bool DirectShape(in ConvolutionGeometry g) =>
            g.Groups == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1 && !IsPointwise(g);

        /// <summary>Weights up to which a direct-shaped layer's backward runs direct on Vector512 (the table above).</summary>
        internal const int DirectBackwardMaximumWeights = 12_288;

        /// <summary>Weights up to which a direct-shaped layer's forward runs direct on Vector256 (the table above).</summary>
        internal const int DirectForwardMaximumWeights256 = 8_192;

        // A 1xk or kx1 layer's weight gradient alone (its input gradient by Winograd, or none wanted) on Vector512: the direct
        // kernels' against im2col's, KernelBench line-wgrad, µs, 2026-12-06 (session 49), Zen 4: 48->48 @17 1x7 88.3/121;
        // 48->64 @17 7x1 117/151; 64->48 @17 1x7 117/163; 128->128 @17 1x7 622/704; 192->192 @17 7x1 1,384/1,502; 96->96 @12
        // 1x3 79.3/88.8; 48->64 @35 1x5 350/424; 128->128 @8 1x5 114/122 (1.06x to 1.39x); but 256->256 @8 1x3 283/266. So
        // direct up to 131,072 weights, and on maps of 144 cells or more (12x12) at any width. (Both gradients together stay
        // on RunsDirectBackward's rule: the direct input gradient is what lost above 12,288 weights.)
        private static bool LineWeightGradientRunsDirect(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            DirectShape(g) && IsLine(g) && path == DirectConvolution.KernelPath.Vector512
            && (g.WeightLength <= 131_072 || g.OutHeight * g.OutWidth >= 144);

        internal static bool RunsDirect(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            DirectShape(g) && (path != DirectConvolution.KernelPath.Vector256 || g.WeightLength <= DirectForwardMaximumWeights256);

        internal static bool RunsDirectBackward(in ConvolutionGeometry g, DirectConvolution.KernelPath path) =>
            DirectShape(g) && path != DirectConvolution.KernelPath.Vector256 && g.WeightLength <= DirectBackwardMaximumWeights;

        // A 1x1 kernel at stride 1 without padding reads the input as it is: its columns are the input's rows.
        private static bool IsPointwise(in ConvolutionGeometry g) =>
            g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.PaddingHeight == 0 && g.PaddingWidth == 0;

        /// <summary>
        /// y[oc, oy, ox] = bias[oc] + Σ over the input channels ic of oc's group and the taps (ky, kx) of
        /// w[oc, ic − groupStart, ky, kx] · x[ic, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw] (zero outside the input).
        /// An empty <paramref name="bias"/> means no bias.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor (the scratch than <see cref="ScratchLength"/>), or the bias is neither empty nor outChannels long.</exception>
        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch) =>
            ForwardOn(g, x, weight, bias, y, scratch, KernelPaths.Default);

        /// <summary>
        /// <see cref="Forward(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
        /// with each output clamped to [<paramref name="low"/>, <paramref name="high"/>] as the element-wise kernels clamp
        /// (v &lt; low ? low : v, then v &gt; high ? high : v): a fused ReLU is (0, +∞), ReLU6 (0, 6). Depthwise layers
        /// and 1x1 layers on planes of whole vectors clamp in their kernels' registers; the others in a pass over the output.
        /// </summary>
        /// <exception cref="ArgumentException">As the other overload, or <paramref name="low"/> is above <paramref name="high"/> or either is NaN.</exception>
        public static void Forward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, float low, float high) =>
            ForwardOn(g, x, weight, bias, y, scratch, KernelPaths.Default, low, high);

        /// <summary>
        /// Floats of the filters <see cref="Prepare"/> writes for this geometry: a 1xk or kx1 layer's one-dimensional Winograd
        /// filters where it runs that kernel here (16+ channels in and out on enough tiles, AVX-512), else 0 (nothing to prepare:
        /// <see cref="ForwardPrepared(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
        /// then runs as <see cref="Forward(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>).
        /// </summary>
        public static int PreparedLength(in ConvolutionGeometry g)
        {
            CheckGeometry(g);
            return RunsLineWinograd(g, KernelPaths.Default) ? LineWinogradLayout(g).FiltersLength : 0;
        }

        /// <summary>
        /// Writes the layer's prepared filters (<see cref="PreparedLength"/> floats) from its weight, PyTorch's [outChannels x
        /// inChannels/groups x kh x kw]: once per change of the weights, so that each forward call does not transform them again.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void Prepare(in ConvolutionGeometry g, ReadOnlySpan<float> weight, Span<float> prepared)
        {
            int length = PreparedLength(g);
            Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            Require(prepared.Length >= length, nameof(prepared), length, prepared.Length);
            if (length > 0) LineWinogradConvolution.TransformFilters(weight, prepared, LineWinogradLayout(g));
        }

        /// <summary>
        /// <see cref="Forward(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
        /// on the filters <see cref="Prepare"/> wrote from the same weight (where <see cref="PreparedLength"/> is 0, on the
        /// weight alone: <paramref name="prepared"/> may then be empty).
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor (the prepared filters than <see cref="PreparedLength"/>).</exception>
        public static void ForwardPrepared(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> prepared,
            ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch) =>
            ForwardPrepared(g, x, weight, prepared, bias, y, scratch, float.NegativeInfinity, float.PositiveInfinity);

        /// <summary>
        /// <see cref="ForwardPrepared(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/>
        /// with each output clamped to [<paramref name="low"/>, <paramref name="high"/>], as the other Forward overload clamps.
        /// </summary>
        /// <exception cref="ArgumentException">As the other overload, or <paramref name="low"/> is above <paramref name="high"/> or either is NaN.</exception>
        public static void ForwardPrepared(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> prepared,
            ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch, float low, float high)
        {
            int length = PreparedLength(g);
            Require(prepared.Length >= length, nameof(prepared), length, prepared.Length);
            ForwardOn(g, x, weight, bias, y, scratch, KernelPaths.Default, low, high, prepared.Slice(0, length));
        }

        internal static void ForwardOn(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            Span<float> y, Span<float> scratch, DirectConvolution.KernelPath path, float low = float.NegativeInfinity, float high = float.PositiveInfinity,
            ReadOnlySpan<float> prepared = default)
        {
            var clamp = new OutputClamp(low, high);
            CheckGeometry(g);
            Require(x.Length >= g.InLength, nameof(x), g.InLength, x.Length);
            Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            if (!bias.IsEmpty) Require(bias.Length >= g.OutChannels, nameof(bias), g.OutChannels, bias.Length);
            Require(y.Length >= g.OutLength, nameof(y), g.OutLength, y.Length);
            int scratchLength = ScratchLength(g);
            Require(scratch.Length >= scratchLength, nameof(scratch), scratchLength, scratch.Length);

            if (g.GroupInChannels == 1)
            {
                DepthwiseConvolution.Forward(g, x, weight, bias, y, scratch, path, low, high);
                return;
            }
            if (DilatedConvolution.Handles(g))
            {
                DilatedConvolution.Forward(g, x, weight, bias, y, scratch, path);
                clamp.ApplyInPlace(y.Slice(0, g.OutLength), path);
                return;
            }
            int plane = g.OutHeight * g.OutWidth, inPlane = g.InHeight * g.InWidth;
            int groupIn = g.GroupInChannels, groupOut = g.GroupOutChannels, depth = groupIn * g.KernelHeight * g.KernelWidth;
            if (GroupsAsDense(g))
            {
                for (int group = 0; group < g.Groups; group++)
                {
                    var input = x.Slice(group * groupIn * inPlane, groupIn * inPlane);
                    var w = weight.Slice(group * groupOut * depth, groupOut * depth);
                    var b = bias.IsEmpty ? default : bias.Slice(group * groupOut, groupOut);
                    var output = y.Slice(group * groupOut * plane, groupOut * plane);
                    if (g.StrideHeight == 1)
                        DirectConvolution.ForwardOn(input, groupIn, g.InHeight, g.InWidth, w, b, groupOut, 3, g.PaddingHeight, output, scratch, relu: false, pool: false, path);
                    else
                        StridedConvolution.ForwardOn(input, groupIn, g.InHeight, g.InWidth, w, b, groupOut, 3, g.StrideHeight, g.PaddingHeight, output, scratch, relu: false, path);
                }
                clamp.ApplyInPlace(y.Slice(0, g.OutLength), path);
                return;
            }
            if (RunsLineWinograd(g, path))
            {
                // Prepared filters where the caller has them (evaluation, once per change of the weights), else this call's.
                if (prepared.IsEmpty) LineWinogradConvolution.Forward(x, weight, bias, y, scratch, clamp, LineWinogradLayout(g));
                else LineWinogradConvolution.ForwardPrepared(x, prepared, bias, y, scratch, clamp, LineWinogradLayout(g));
                return;
            }
            if (RunsDirect(g, path))
            {
                // ReLU's bounds go into the kernel's copy-out (the same comparison, v < 0 ? 0 : v); others take a pass after.
                bool relu = BitConverter.SingleToInt32Bits(clamp.Low) == 0 && float.IsPositiveInfinity(clamp.High); // +0 exactly: a low of −0 keeps −0s
                DirectConvolution.ForwardOn(x, g.InChannels, g.InHeight, g.InWidth, weight, bias, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth,
                    y, scratch, relu, pool: false, path);
                if (!relu) clamp.ApplyInPlace(y.Slice(0, g.OutLength), path);
                return;
            }
            if (IsPointwise(g) && GroupsAsPointwisePays(g, path))
            {
                // Each group is a pointwise product of its own: the register-tiled kernel, bias and bounds in its accumulators
                // (no fill of the output with the bias before, no clamping pass after).
                for (int group = 0; group < g.Groups; group++)
                {
                    PointwiseConvolution.ForwardOn(x.Slice(group * groupIn * plane, groupIn * plane), groupIn, plane,
                        weight.Slice(group * groupOut * groupIn, groupOut * groupIn), bias.IsEmpty ? default : bias.Slice(group * groupOut, groupOut),
                        groupOut, y.Slice(group * groupOut * plane, groupOut * plane), path, low, high);
                }
                return;
            }
            for (int oc = 0; oc < g.OutChannels; oc++) y.Slice(oc * plane, plane).Fill(bias.IsEmpty ? 0f : bias[oc]);
            bool pointwise = IsPointwise(g);
            for (int group = 0; group < g.Groups; group++)
            {
                var input = x.Slice(group * groupIn * inPlane, groupIn * inPlane);
                ReadOnlySpan<float> cols = input;
                if (!pointwise)
                {
                    ConvolutionColumns.Expand(input, groupIn, g, scratch);
                    cols = scratch.Slice(0, depth * plane);
                }
                Multiply(path, false, false, groupOut, plane, depth, weight.Slice(group * groupOut * depth), depth, cols, plane,
                    y.Slice(group * groupOut * plane), plane, accumulate: true);
            }
            clamp.ApplyInPlace(y.Slice(0, g.OutLength), path);
        }

        // Grouped 1x1 (+ReLU6), KernelBench grouped-pointwise, µs, 2026-12-01, load ~25: each group a PointwiseConvolution
        // against the output filled with the bias, a GEMM per group and a clamping pass:
        //   24->64 g4 @8x8 0.48 / 0.91; 64->64 g4 @16x16 2.77 / 5.58; 64->64 g2 @16x16 4.64 / 7.46; 128->128 g2 @8x8 4.20 / 5.64;
        //   256->256 g8 @4x4 2.63 / 3.30; 32->32 g2 @32x32 7.33 / 12.16; 256->512 g2 @8x8 31.9 / 35.7; 96->96 g3 @8x8 1.75 / 2.81;
        //   16->64 g2 @16x16 1.76 / 3.29; 120->120 g4 @12x12 5.49 / 7.93; 120->120 g4 @28x28 29.1 / 39.9; 32->64 g4 @4x4
        //   0.38 / 0.45; but 120->120 g4 @14x14 18.75 / 11.69: 196 cells leave 4 past the last vector, which the pointwise
        //   kernel computes one by one. So: vector paths, on planes of whole vectors (64->64 g4 @10x10 and @7x7 then keep the
        //   GEMM route: 2.82 and 1.77).
        private static bool GroupsAsPointwisePays(in ConvolutionGeometry g, DirectConvolution.KernelPath path)
        {
            int lanes = path == DirectConvolution.KernelPath.Vector512 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16
                : path != DirectConvolution.KernelPath.Scalar && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 8 : 0;
            return lanes > 0 && g.OutHeight * g.OutWidth % lanes == 0;
        }

        /// <summary>
        /// The backward pass of <see cref="Forward(in ConvolutionGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float})"/> for one sample, from dy = <paramref name="outputGradient"/>:
        /// <paramref name="weightGradient"/> and <paramref name="biasGradient"/> accumulate (+=) this sample's
        /// contribution (an empty bias gradient is skipped); <paramref name="inputGradient"/> is overwritten with dL/dx, or
        /// skipped when empty.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor, or the scratch shorter than <see cref="ScratchLength"/>.</exception>
        public static void Backward(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch) =>
            BackwardOn(g, x, weight, outputGradient, weightGradient, biasGradient, inputGradient, scratch, KernelPaths.Default);

        /// <summary>
        /// Floats of the weights <see cref="PrepareInputGradient"/> writes: a 1xk or kx1 layer's turned one-dimensional Winograd
        /// filters where its input gradient runs that kernel here, else 0 (<see cref="BackwardPrepared"/> then runs as
        /// <see cref="Backward"/>).
        /// </summary>
        public static int InputGradientWeightsLength(in ConvolutionGeometry g)
        {
            CheckGeometry(g);
            return RunsLineWinogradInputGradient(g, KernelPaths.Default) ? LineInputGradientLayout(g).FiltersLength : 0;
        }

        /// <summary>
        /// Writes the weights <see cref="BackwardPrepared"/> takes the input gradient from (<see cref="InputGradientWeightsLength"/>
        /// floats) out of the layer's weight: once per backward pass rather than once per sample.
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void PrepareInputGradient(in ConvolutionGeometry g, ReadOnlySpan<float> weight, Span<float> prepared)
        {
            int length = InputGradientWeightsLength(g);
            Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            Require(prepared.Length >= length, nameof(prepared), length, prepared.Length);
            if (length > 0) LineWinogradConvolution.TransformFiltersTransposed(weight, prepared, LineInputGradientLayout(g));
        }

        /// <summary>
        /// <see cref="Backward"/> with the input gradient from the weights <see cref="PrepareInputGradient"/> wrote from the same
        /// weight (where <see cref="InputGradientWeightsLength"/> is 0, from the weight alone: the span may then be empty).
        /// </summary>
        /// <exception cref="ArgumentException">A span is shorter than its tensor.</exception>
        public static void BackwardPrepared(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> inputGradientWeights,
            ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch)
        {
            int length = InputGradientWeightsLength(g);
            Require(inputGradientWeights.Length >= length, nameof(inputGradientWeights), length, inputGradientWeights.Length);
            BackwardOn(g, x, weight, outputGradient, weightGradient, biasGradient, inputGradient, scratch, KernelPaths.Default, inputGradientWeights.Slice(0, length));
        }

        internal static void BackwardOn(in ConvolutionGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
            Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient, Span<float> scratch, DirectConvolution.KernelPath path,
            ReadOnlySpan<float> inputGradientWeights = default)
        {
            CheckGeometry(g);
            Require(x.Length >= g.InLength, nameof(x), g.InLength, x.Length);
            Require(weight.Length >= g.WeightLength, nameof(weight), g.WeightLength, weight.Length);
            Require(outputGradient.Length >= g.OutLength, nameof(outputGradient), g.OutLength, outputGradient.Length);
            // An empty weight gradient skips it (a frozen layer that only passes the input gradient on).
            if (!weightGradient.IsEmpty) Require(weightGradient.Length >= g.WeightLength, nameof(weightGradient), g.WeightLength, weightGradient.Length);
            if (!biasGradient.IsEmpty) Require(biasGradient.Length >= g.OutChannels, nameof(biasGradient), g.OutChannels, biasGradient.Length);
            if (!inputGradient.IsEmpty) Require(inputGradient.Length >= g.InLength, nameof(inputGradient), g.InLength, inputGradient.Length);
            int scratchLength = ScratchLength(g);
            Require(scratch.Length >= scratchLength, nameof(scratch), scratchLength, scratch.Length);

            int plane = g.OutHeight * g.OutWidth, inPlane = g.InHeight * g.InWidth;
            if (!biasGradient.IsEmpty)
            {
                ref float dy = ref MemoryMarshal.GetReference(outputGradient);
                for (int oc = 0; oc < g.OutChannels; oc++)
                    biasGradient[oc] += VectorRows.Sum(ref System.Runtime.CompilerServices.Unsafe.Add(ref dy, oc * plane), plane, path);
            }
            if (g.GroupInChannels == 1)
            {
                DepthwiseConvolution.Backward(g, x, weight, outputGradient, weightGradient, inputGradient, scratch, path);
                return;
            }
            if (DilatedConvolution.Handles(g))
            {
                DilatedConvolution.Backward(g, x, weight, outputGradient, weightGradient, inputGradient, scratch, path);
                return;
            }
            int groupIn = g.GroupInChannels, groupOut = g.GroupOutChannels, depth = groupIn * g.KernelHeight * g.KernelWidth;
            if (GroupsAsDense(g))
            {
                // Each kernel adds its group's weight gradient and writes its input gradient (an empty span skips either).
                for (int group = 0; group < g.Groups; group++)
                {
                    var input = x.Slice(group * groupIn * inPlane, groupIn * inPlane);
                    var dy = outputGradient.Slice(group * groupOut * plane, groupOut * plane);
                    var w = weight.Slice(group * groupOut * depth, groupOut * depth);
                    var dw = weightGradient.IsEmpty ? default : weightGradient.Slice(group * groupOut * depth, groupOut * depth);
                    var dx = inputGradient.IsEmpty ? default : inputGradient.Slice(group * groupIn * inPlane, groupIn * inPlane);
                    if (g.StrideHeight == 1)
                        DirectConvolution.BackwardOn(input, groupIn, g.InHeight, g.InWidth, w, dy, groupOut, 3, g.PaddingHeight, dw, dx, scratch, path);
                    else
                        StridedConvolution.BackwardOn(input, groupIn, g.InHeight, g.InWidth, w, dy, groupOut, 3, g.StrideHeight, g.PaddingHeight, dw, dx, scratch, path);
                }
                return;
            }
            if (!inputGradient.IsEmpty && RunsLineWinogradInputGradient(g, path))
            {
                // The weight gradient alone (the direct kernels', or the route below), then the input gradient by Winograd (each
                // uses the scratch in turn).
                if (!weightGradient.IsEmpty) BackwardOn(g, x, weight, outputGradient, weightGradient, default, default, scratch, path);
                if (inputGradientWeights.IsEmpty) LineWinogradConvolution.InputGradient(outputGradient, weight, inputGradient, scratch, LineInputGradientLayout(g));
                else LineWinogradConvolution.InputGradientPrepared(outputGradient, inputGradientWeights, inputGradient, scratch, LineInputGradientLayout(g));
                return;
            }
            if (inputGradient.IsEmpty && LineWeightGradientRunsDirect(g, path))
            {
                DirectConvolution.BackwardOn(x, g.InChannels, g.InHeight, g.InWidth, weight, outputGradient, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth,
                    weightGradient, default, scratch, path);
                return;
            }
            if (RunsDirectBackward(g, path))
            {
                DirectConvolution.BackwardOn(x, g.InChannels, g.InHeight, g.InWidth, weight, outputGradient, g.OutChannels, g.KernelHeight, g.KernelWidth, g.PaddingHeight, g.PaddingWidth,
                    weightGradient, inputGradient, scratch, path);
                return;
            }
            bool pointwise = IsPointwise(g);
            for (int group = 0; group < g.Groups; group++)
            {
                var input = x.Slice(group * groupIn * inPlane, groupIn * inPlane);
                var dy = outputGradient.Slice(group * groupOut * plane, groupOut * plane);
                var w = weight.Slice(group * groupOut * depth, groupOut * depth);
                if (!weightGradient.IsEmpty)
                {
                    ReadOnlySpan<float> cols = input;
                    if (!pointwise)
                    {
                        ConvolutionColumns.Expand(input, groupIn, g, scratch);
                        cols = scratch.Slice(0, depth * plane);
                    }
                    // dW_g [groupOut x depth] += dy_g [groupOut x plane] · cols_gᵀ [plane x depth]
                    Multiply(path, false, true, groupOut, depth, plane, dy, plane, cols, plane,
                        weightGradient.Slice(group * groupOut * depth, groupOut * depth), depth, accumulate: true);
                }
                if (inputGradient.IsEmpty) continue;
                var dx = inputGradient.Slice(group * groupIn * inPlane, groupIn * inPlane);
                if (pointwise)
                {
                    // dx_g [groupIn x plane] = W_gᵀ [groupIn x groupOut] · dy_g
                    Multiply(path, true, false, groupIn, plane, groupOut, w, depth, dy, plane, dx, plane, accumulate: false);
                    continue;
                }
                // dcols [depth x plane] = W_gᵀ · dy_g, then col2im into the cleared input gradient.
                var dcols = scratch.Slice(0, depth * plane);
                Multiply(path, true, false, depth, plane, groupOut, w, depth, dy, plane, dcols, plane, accumulate: false);
                dx.Clear();
                ConvolutionColumns.AccumulateBack(dcols, groupIn, g, dx);
            }
        }

        internal static void Multiply(DirectConvolution.KernelPath path, bool transposeA, bool transposeB, int m, int n, int k,
            ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
        {
            if (path == DirectConvolution.KernelPath.Scalar) Gemm.MultiplyScalar(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            else Gemm.Multiply(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        }

        // default(ConvolutionGeometry) has zero channels: a geometry that never went through its constructor.
        private static void CheckGeometry(in ConvolutionGeometry g)
        {
            if (g.InChannels <= 0)
                throw new ArgumentException("The geometry is uninitialized; create it with the ConvolutionGeometry constructor.", nameof(g));
        }

        internal static void Require(bool ok, string name, int expected, int actual)
        {
            if (!ok) throw new ArgumentException($"Expected at least {expected} floats but got {actual}.", name);
        }
    }
}
