using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelPath = CnnGen.Kernels.DirectConvolution.KernelPath;

namespace CnnGen.Kernels
{
    // The lanes kernel on machines without AVX-512: the weights packed as for ForwardLanes512 ([16-channel block][tap][16]),
    // each block's 16 channels two Vector256 halves. A tile is up to 6 output cells (consecutive in the map, across rows
    // where they run on) x one block: 12 accumulators, per tap two weight loads and a broadcast of each cell's input value,
    // summed from the bias in PyTorch's order (input channel, ky, kx), as ForwardLanes512's lanes. Before it these layers
    // ran im2col + GEMM, which on a Zen 3 took half the strided network's batch-1 call in the expansion alone.
    public static partial class StridedConvolution
    {
        /// <summary>Whether stride 2-4 layers run the Vector256 lanes kernel instead of im2col + GEMM (KernelBench and the zoo's A/B turn it off to compare).</summary>
        internal static bool Lanes256 { get; set; } = true;

        private static bool UseLanes256(in Geometry g, KernelPath path) =>
            path == KernelPath.Vector256 && Lanes256 && Fma.IsSupported && Avx2.IsSupported && g.Stride >= 2 && g.Stride <= 4;

        private const int CellsPerTile256 = 6;

        /// <summary>
        /// A stride-1 layer (square kernel) through the same tiles: DirectConvolution's Vector256 lanes path (small maps, where
        /// the flat rows' padding columns and short rows cost it most). weight as PyTorch lays it out or, with
        /// <paramref name="weightsPacked"/>, as <see cref="DirectConvolution.PackLanes"/> gives it; y NCHW;
        /// <see cref="Stride1LanesScratch"/> floats of scratch.
        /// </summary>
        internal static void ForwardStride1Lanes256(ReadOnlySpan<float> x, int inChannels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, int kernel, int padding, Span<float> y, Span<float> scratch, bool relu, bool weightsPacked) =>
            ForwardLanes256(x, weight, bias, outChannels, y, scratch, relu, new Geometry(inChannels, height, width, kernel, 1, padding), weightsPacked);

        /// <summary>Floats of scratch <see cref="ForwardStride1Lanes256"/> takes.</summary>
        internal static int Stride1LanesScratch(int inChannels, int height, int width, int outChannels, int kernel, int padding) =>
            LanesScratch(new Geometry(inChannels, height, width, kernel, 1, padding), outChannels);

        private static void ForwardLanes256(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, in Geometry g, bool weightsPacked) =>
            ForwardLanes256(x, weight, bias, outChannels, y, scratch, relu, g, weightsPacked, default, handOn: false);

        // handOn: y is the next layer's padded input (next: its layout, whose maps are this layer's output; output channels in
        // whole blocks), each block's [cell][16 channels] results copied there a row at a time instead of turned into planes:
        // no transposes here and no padding pass there (ForwardLanesInto's way on Vector256).
        private static void ForwardLanes256(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels,
            Span<float> y, Span<float> scratch, bool relu, in Geometry g, bool weightsPacked, in WinogradF4Convolution.PaddedMaps next, bool handOn)
        {
            int taps = g.Taps, cells = g.Cells, laneChannels = LaneChannels(outChannels);
            var padded = scratch.Slice(0, g.PaddedLength);
            var packed = scratch.Slice(g.PaddedLength, laneChannels * taps);
            var results = scratch.Slice(g.PaddedLength + laneChannels * taps, 16 * cells);
            bool direct = g.Padding == 0 && ReadsUnpaddedInput;
            if (!direct) Pad(x, padded, g);
            ReadOnlySpan<float> lanes;
            if (weightsPacked) lanes = weight.Slice(0, laneChannels * taps);
            else
            {
                PackLanes(weight.Slice(0, outChannels * taps), outChannels, taps, packed);
                lanes = packed;
            }
            ref float p = ref MemoryMarshal.GetReference(direct ? x : (ReadOnlySpan<float>)padded);
            ref float r = ref MemoryMarshal.GetReference(results);
            if (handOn) WinogradF4Convolution.ClearMargins(y, next);
            // Even splits of the map's cells: 20 cells are 5 + 5 + 5 + 5, not 6 + 6 + 6 + 2; the smaller tiles first, each size's
            // run one call that loops over its tiles (a call, a switch and two divisions per tile before: the strided stem probe
            // 37.8-38.0 -> 35.8-36.4 µs without them, session 59).
            int tiles = (cells + CellsPerTile256 - 1) / CellsPerTile256, small = cells / tiles, largeTiles = cells - small * tiles;
            for (int block = 0; block < outChannels; block += 16)
            {
                int channels = Math.Min(16, outChannels - block);
                var biasLanes = BiasLanes(bias, block, outChannels);
                ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(lanes), block * taps);
                var (bl, bh) = (biasLanes.GetLower(), biasLanes.GetUpper());
                Tiles256Of(small, tiles - largeTiles, 0, ref p, ref w, bl, bh, relu, ref r, g);
                if (largeTiles > 0) Tiles256Of(small + 1, largeTiles, small * (tiles - largeTiles), ref p, ref w, bl, bh, relu, ref r, g);
                if (!handOn)
                {
                    ChannelBlocks.LanesToPlanes256(ref r, cells, channels, ref Unsafe.Add(ref MemoryMarshal.GetReference(y), block * cells), cells);
                    continue;
                }
                int rowFloats = g.OutWidth * 16;
                for (int oy = 0; oy < g.OutHeight; oy++)
                    results.Slice(oy * rowFloats, rowFloats).CopyTo(y.Slice(next.MapsOffset + block / 16 * next.PaddedGroupStride + oy * next.PaddedWidth * 16));
            }
        }

        // Where a tile's cells read the padded input: the first cell's top-left tap (Origin), and each cell's offset from it
        // (a cell on the next output row is stride rows of the padded plane down).
        private readonly struct TileOrigins
        {
            public readonly int Origin;
            public readonly nuint O1, O2, O3, O4, O5;

            public TileOrigins(int first, int count, in Geometry g)
            {
                // One division for the first cell; the next ones step along the row and wrap onto the next.
                int row = first / g.OutWidth, column = first - row * g.OutWidth;
                Origin = (row * g.PaddedWidth + column) * g.Stride;
                O1 = count > 1 ? Next(ref row, ref column, g) - (nuint)Origin : 0;
                O2 = count > 2 ? Next(ref row, ref column, g) - (nuint)Origin : 0;
                O3 = count > 3 ? Next(ref row, ref column, g) - (nuint)Origin : 0;
                O4 = count > 4 ? Next(ref row, ref column, g) - (nuint)Origin : 0;
                O5 = count > 5 ? Next(ref row, ref column, g) - (nuint)Origin : 0;
            }

            private static nuint Next(ref int row, ref int column, in Geometry g)
            {
                if (++column == g.OutWidth) { column = 0; row++; }
                return (nuint)((row * g.PaddedWidth + column) * g.Stride);
            }
        }

        // `tiles` tiles of `cells` cells from cell firstCell on, one after the other.
        private static void Tiles256Of(int cells, int tiles, int firstCell, ref float input, ref float w, Vector256<float> bl, Vector256<float> bh, bool relu, ref float results, in Geometry g)
        {
            switch (cells)
            {
                case 6: Tile256<C6>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
                case 5: Tile256<C5>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
                case 4: Tile256<C4>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
                case 3: Tile256<C3>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
                case 2: Tile256<C2>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
                default: Tile256<C1>(tiles, firstCell, ref input, ref w, bl, bh, relu, ref results, g); break;
            }
        }

        // `tiles` tiles of TCells cells x 16 channels from cell firstCell on: [cell][16] results, through ReLU when asked.
        private static void Tile256<TCells>(int tiles, int firstCell, ref float input, ref float w, Vector256<float> bl, Vector256<float> bh, bool relu, ref float results, in Geometry g)
            where TCells : struct, IConstant
        {
            int n = TCells.Value;
            for (int tile = 0, first = firstCell; tile < tiles; tile++, first += n)
            {
                var o = new TileOrigins(first, n, g);
                Cells256<TCells>(ref Unsafe.Add(ref input, o.Origin), o, ref w, bl, bh, relu, ref Unsafe.Add(ref results, first * 16), g);
            }
        }

        // TCells cells x 16 channels: [cell][16] results, through ReLU when asked.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Cells256<TCells>(ref float origin, in TileOrigins o, ref float w, Vector256<float> bl, Vector256<float> bh, bool relu, ref float to, in Geometry g)
            where TCells : struct, IConstant
        {
            int n = TCells.Value;
            Vector256<float> l0 = bl, l1 = bl, l2 = bl, l3 = bl, l4 = bl, l5 = bl, h0 = bh, h1 = bh, h2 = bh, h3 = bh, h4 = bh, h5 = bh;
            nuint o1 = o.O1, o2 = o.O2, o3 = o.O3, o4 = o.O4, o5 = o.O5;
            int kernel = g.Kernel, plane = g.Plane, paddedWidth = g.PaddedWidth;
            ref float wt = ref w;
            for (int ic = 0; ic < g.InChannels; ic++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    ref float row = ref Unsafe.Add(ref origin, ic * plane + ky * paddedWidth);
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        ref float at = ref Unsafe.Add(ref row, kx);
                        var wl = Vector256.LoadUnsafe(ref wt);
                        var wh = Vector256.LoadUnsafe(ref wt, 8);
                        { var v = Vector256.Create(at); l0 = Fused.MultiplyAdd(v, wl, l0); h0 = Fused.MultiplyAdd(v, wh, h0); }
                        if (n > 1) { var v = Vector256.Create(Unsafe.Add(ref at, o1)); l1 = Fused.MultiplyAdd(v, wl, l1); h1 = Fused.MultiplyAdd(v, wh, h1); }
                        if (n > 2) { var v = Vector256.Create(Unsafe.Add(ref at, o2)); l2 = Fused.MultiplyAdd(v, wl, l2); h2 = Fused.MultiplyAdd(v, wh, h2); }
                        if (n > 3) { var v = Vector256.Create(Unsafe.Add(ref at, o3)); l3 = Fused.MultiplyAdd(v, wl, l3); h3 = Fused.MultiplyAdd(v, wh, h3); }
                        if (n > 4) { var v = Vector256.Create(Unsafe.Add(ref at, o4)); l4 = Fused.MultiplyAdd(v, wl, l4); h4 = Fused.MultiplyAdd(v, wh, h4); }
                        if (n > 5) { var v = Vector256.Create(Unsafe.Add(ref at, o5)); l5 = Fused.MultiplyAdd(v, wl, l5); h5 = Fused.MultiplyAdd(v, wh, h5); }
                        wt = ref Unsafe.Add(ref wt, 16);
                    }
                }
            }
            if (relu)
            {
                l0 = Elementwise.Relu(l0); h0 = Elementwise.Relu(h0); l1 = Elementwise.Relu(l1); h1 = Elementwise.Relu(h1);
                l2 = Elementwise.Relu(l2); h2 = Elementwise.Relu(h2); l3 = Elementwise.Relu(l3); h3 = Elementwise.Relu(h3);
                l4 = Elementwise.Relu(l4); h4 = Elementwise.Relu(h4); l5 = Elementwise.Relu(l5); h5 = Elementwise.Relu(h5);
            }
            l0.StoreUnsafe(ref to); h0.StoreUnsafe(ref to, 8);
            if (n > 1) { l1.StoreUnsafe(ref to, 16); h1.StoreUnsafe(ref to, 24); }
            if (n > 2) { l2.StoreUnsafe(ref to, 32); h2.StoreUnsafe(ref to, 40); }
            if (n > 3) { l3.StoreUnsafe(ref to, 48); h3.StoreUnsafe(ref to, 56); }
            if (n > 4) { l4.StoreUnsafe(ref to, 64); h4.StoreUnsafe(ref to, 72); }
            if (n > 5) { l5.StoreUnsafe(ref to, 80); h5.StoreUnsafe(ref to, 88); }
        }

        /// <summary>Whether the input gradient runs the Vector256 lanes kernel instead of GEMM + col2im (the train loop's A/B turns it off to compare).</summary>
        internal static bool InputGradientLanes256 { get; set; } = true;

        // The input gradient with the input channels in the lanes on Vector256: InputGradientLanes512's packed weights and
        // [pixel][16] plane, a block's 16 channels as two halves; a pass is up to 6 output cells x one tap (12 accumulators,
        // summed over the output channels from zero, then added into the plane where the tap reaches).
        private static void InputGradientLanes256Of(ReadOnlySpan<float> outputGradient, int outChannels, ReadOnlySpan<float> packed,
            Span<float> inputGradient, Span<float> scratch, in Geometry g)
        {
            const int V = 16;
            int area = g.Kernel * g.Kernel, blocks = (g.InChannels + V - 1) / V, cells = g.Cells;
            var plane = scratch.Slice(0, V * g.Plane);
            ref float dy = ref MemoryMarshal.GetReference(outputGradient);
            int tiles = (cells + CellsPerTile256 - 1) / CellsPerTile256;
            for (int block = 0; block < blocks; block++)
            {
                plane.Clear();
                ref float p = ref MemoryMarshal.GetReference(plane);
                ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(packed), block * outChannels * area * V);
                for (int tile = 0; tile < tiles; tile++)
                {
                    int first = tile * cells / tiles, count = (tile + 1) * cells / tiles - first;
                    switch (count)
                    {
                        case 6: InputGradientCells256<C6>(ref dy, outChannels, ref w, ref p, first, g); break;
                        case 5: InputGradientCells256<C5>(ref dy, outChannels, ref w, ref p, first, g); break;
                        case 4: InputGradientCells256<C4>(ref dy, outChannels, ref w, ref p, first, g); break;
                        case 3: InputGradientCells256<C3>(ref dy, outChannels, ref w, ref p, first, g); break;
                        case 2: InputGradientCells256<C2>(ref dy, outChannels, ref w, ref p, first, g); break;
                        default: InputGradientCells256<C1>(ref dy, outChannels, ref w, ref p, first, g); break;
                    }
                }
                StorePlane256(ref p, inputGradient, block, g);
            }
        }

        private static void InputGradientCells256<TCells>(ref float dy, int outChannels, ref float w, ref float plane, int firstCell, in Geometry g)
            where TCells : struct, IConstant
        {
            const int V = 16;
            int n = TCells.Value, area = g.Kernel * g.Kernel, cells = g.Cells, wStep = area * V;
            // Each cell's pixel in the padded [pixel][16] plane for tap (0, 0), in floats.
            nuint c0 = (nuint)Origin(firstCell, g), c1 = n > 1 ? (nuint)Origin(firstCell + 1, g) : 0, c2 = n > 2 ? (nuint)Origin(firstCell + 2, g) : 0;
            nuint c3 = n > 3 ? (nuint)Origin(firstCell + 3, g) : 0, c4 = n > 4 ? (nuint)Origin(firstCell + 4, g) : 0, c5 = n > 5 ? (nuint)Origin(firstCell + 5, g) : 0;
            ref float d = ref Unsafe.Add(ref dy, firstCell);
            for (int tap = 0; tap < area; tap++)
            {
                ref float wt = ref Unsafe.Add(ref w, tap * V);
                var l0 = Vector256<float>.Zero; var l1 = l0; var l2 = l0; var l3 = l0; var l4 = l0; var l5 = l0;
                var h0 = l0; var h1 = l0; var h2 = l0; var h3 = l0; var h4 = l0; var h5 = l0;
                for (int oc = 0; oc < outChannels; oc++)
                {
                    var wl = Vector256.LoadUnsafe(ref wt, (nuint)(oc * wStep));
                    var wh = Vector256.LoadUnsafe(ref wt, (nuint)(oc * wStep + 8));
                    ref float dc = ref Unsafe.Add(ref d, oc * cells);
                    { var e = Vector256.Create(dc); l0 = Fused.MultiplyAdd(e, wl, l0); h0 = Fused.MultiplyAdd(e, wh, h0); }
                    if (n > 1) { var e = Vector256.Create(Unsafe.Add(ref dc, 1)); l1 = Fused.MultiplyAdd(e, wl, l1); h1 = Fused.MultiplyAdd(e, wh, h1); }
                    if (n > 2) { var e = Vector256.Create(Unsafe.Add(ref dc, 2)); l2 = Fused.MultiplyAdd(e, wl, l2); h2 = Fused.MultiplyAdd(e, wh, h2); }
                    if (n > 3) { var e = Vector256.Create(Unsafe.Add(ref dc, 3)); l3 = Fused.MultiplyAdd(e, wl, l3); h3 = Fused.MultiplyAdd(e, wh, h3); }
                    if (n > 4) { var e = Vector256.Create(Unsafe.Add(ref dc, 4)); l4 = Fused.MultiplyAdd(e, wl, l4); h4 = Fused.MultiplyAdd(e, wh, h4); }
                    if (n > 5) { var e = Vector256.Create(Unsafe.Add(ref dc, 5)); l5 = Fused.MultiplyAdd(e, wl, l5); h5 = Fused.MultiplyAdd(e, wh, h5); }
                }
                ref float at = ref Unsafe.Add(ref plane, TapOffset(tap, g));
                AddHalves(ref at, c0, l0, h0);
                if (n > 1) AddHalves(ref at, c1, l1, h1);
                if (n > 2) AddHalves(ref at, c2, l2, h2);
                if (n > 3) AddHalves(ref at, c3, l3, h3);
                if (n > 4) AddHalves(ref at, c4, l4, h4);
                if (n > 5) AddHalves(ref at, c5, l5, h5);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddHalves(ref float at, nuint offset, Vector256<float> low, Vector256<float> high)
        {
            (Vector256.LoadUnsafe(ref at, offset) + low).StoreUnsafe(ref at, offset);
            (Vector256.LoadUnsafe(ref at, offset + 8) + high).StoreUnsafe(ref at, offset + 8);
        }

        // The plane's inner pixels [pixel][16 channels] to d x's channels of this block, row by row, as StorePlane.
        private static void StorePlane256(ref float plane, Span<float> inputGradient, int block, in Geometry g)
        {
            const int V = 16;
            int channels = Math.Min(V, g.InChannels - block * V), rowLength = g.Height * g.Width;
            ref float dx = ref Unsafe.Add(ref MemoryMarshal.GetReference(inputGradient), block * V * rowLength);
            for (int iy = 0; iy < g.Height; iy++)
                ChannelBlocks.LanesToPlanes256(ref Unsafe.Add(ref plane, ((iy + g.Padding) * g.PaddedWidth + g.Padding) * V), g.Width, channels,
                    ref Unsafe.Add(ref dx, iy * g.Width), rowLength);
        }

        /// <summary>Whether the weight gradient runs the Vector256 lanes kernel instead of im2col + GEMM (the train loop's A/B turns it off to compare).</summary>
        internal static bool WeightGradientLanes256 { get; set; } = true;

        private static bool UseWeightGradientLanes256(KernelPath path) => path == KernelPath.Vector256 && WeightGradientLanes256 && Fma.IsSupported && Avx2.IsSupported;

        // d weight with the output channels in the lanes on Vector256: WeightGradientLanes512's d yᵀ [block][cell][16] and d
        // weightᵀ [block][tap][16], a block's 16 channels as two halves; a pass is up to 6 taps x one block (12 accumulators,
        // per output cell two d y loads and a broadcast of the input under each tap), over rows whose d y stays in L1.
        private static void WeightGradientLanes256Of(ReadOnlySpan<float> x, ReadOnlySpan<float> outputGradient, int outChannels,
            Span<float> weightGradient, Span<float> scratch, in Geometry g, Span<float> products, int sample, int samples)
        {
            const int V = 16;
            int lanes = (outChannels + V - 1) / V * V, cells = g.Cells;
            bool summed = !products.IsEmpty;
            if (summed) Require(products.Length >= lanes * g.Taps, nameof(products), lanes * g.Taps);
            var padded = scratch.Slice(0, g.PaddedLength);
            var dyT = scratch.Slice(g.PaddedLength, lanes * cells);
            var transposed = summed ? products.Slice(0, lanes * g.Taps) : scratch.Slice(g.PaddedLength + lanes * cells, lanes * g.Taps);
            DirectConvolution.TransposeToBlocks(outputGradient, outChannels, cells, dyT, V);
            bool direct = g.Padding == 0 && ReadsUnpaddedInput;
            if (!direct) Pad(x, padded, g);
            if (!summed || sample == 0) transposed.Clear();
            ref float p = ref MemoryMarshal.GetReference(direct ? x : padded);
            ref float dy = ref MemoryMarshal.GetReference(dyT);
            ref float wT = ref MemoryMarshal.GetReference(transposed);
            int rows = Math.Max(1, 6 * 1024 / (g.OutWidth * V));
            for (int block = 0; block < lanes; block += V)
                for (int oy = 0; oy < g.OutHeight; oy += rows)
                    WeightPass256(ref p, ref dy, block, oy, Math.Min(rows, g.OutHeight - oy), ref wT, g);
            if (!summed || sample == samples - 1) DirectConvolution.AddTransposedBack(transposed, outChannels, g.Taps, weightGradient, V);
        }

        private static void WeightPass256(ref float x, ref float dyT, int block, int firstRow, int rows, ref float wT, in Geometry g)
        {
            int taps = g.Taps;
            for (int tap = 0; tap < taps;)
            {
                // Even splits: 27 taps are 6 6 5 5 5, not 6 6 6 6 3.
                int left = taps - tap, count = left <= 6 ? left : (left + (left + 5) / 6 - 1) / ((left + 5) / 6);
                switch (count)
                {
                    case 6: WeightTaps256<C6>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                    case 5: WeightTaps256<C5>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                    case 4: WeightTaps256<C4>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                    case 3: WeightTaps256<C3>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                    case 2: WeightTaps256<C2>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                    default: WeightTaps256<C1>(ref x, ref dyT, block, firstRow, rows, ref wT, tap, g); break;
                }
                tap += count;
            }
        }

        // Taps [tap, tap + TTaps) of one block over rows [firstRow, firstRow + rows): sums from zero over the rows' cells in
        // order, then added to d weightᵀ.
        private static void WeightTaps256<TTaps>(ref float x, ref float dyT, int block, int firstRow, int rows, ref float wT, int tap, in Geometry g)
            where TTaps : struct, IConstant
        {
            const int V = 16;
            int n = TTaps.Value, s = g.Stride, pw = g.PaddedWidth, outWidth = g.OutWidth, cells = g.Cells;
            ref float d0 = ref Unsafe.Add(ref dyT, block * cells + firstRow * outWidth * V);
            ref float x0 = ref Unsafe.Add(ref x, firstRow * s * pw);
            var offsets = new DirectConvolution.TapOffsets8(tap, n, g.Kernel, g.PaddedWidth, g.Plane);
            nuint o0 = (nuint)offsets.O0, o1 = (nuint)offsets.O1, o2 = (nuint)offsets.O2, o3 = (nuint)offsets.O3, o4 = (nuint)offsets.O4, o5 = (nuint)offsets.O5;
            var l0 = Vector256<float>.Zero; var l1 = l0; var l2 = l0; var l3 = l0; var l4 = l0; var l5 = l0;
            var h0 = l0; var h1 = l0; var h2 = l0; var h3 = l0; var h4 = l0; var h5 = l0;
            for (int oy = 0; oy < rows; oy++)
            {
                ref float row = ref Unsafe.Add(ref x0, oy * s * pw);
                ref float dRow = ref Unsafe.Add(ref d0, oy * outWidth * V);
                nuint cell = 0;
                for (int ox = 0; ox < outWidth; ox++, cell += V)
                {
                    var dl = Vector256.LoadUnsafe(ref dRow, cell);
                    var dh = Vector256.LoadUnsafe(ref dRow, cell + 8);
                    ref float at = ref Unsafe.Add(ref row, ox * s);
                    { var c = Vector256.Create(Unsafe.Add(ref at, o0)); l0 = Fused.MultiplyAdd(c, dl, l0); h0 = Fused.MultiplyAdd(c, dh, h0); }
                    if (n > 1) { var c = Vector256.Create(Unsafe.Add(ref at, o1)); l1 = Fused.MultiplyAdd(c, dl, l1); h1 = Fused.MultiplyAdd(c, dh, h1); }
                    if (n > 2) { var c = Vector256.Create(Unsafe.Add(ref at, o2)); l2 = Fused.MultiplyAdd(c, dl, l2); h2 = Fused.MultiplyAdd(c, dh, h2); }
                    if (n > 3) { var c = Vector256.Create(Unsafe.Add(ref at, o3)); l3 = Fused.MultiplyAdd(c, dl, l3); h3 = Fused.MultiplyAdd(c, dh, h3); }
                    if (n > 4) { var c = Vector256.Create(Unsafe.Add(ref at, o4)); l4 = Fused.MultiplyAdd(c, dl, l4); h4 = Fused.MultiplyAdd(c, dh, h4); }
                    if (n > 5) { var c = Vector256.Create(Unsafe.Add(ref at, o5)); l5 = Fused.MultiplyAdd(c, dl, l5); h5 = Fused.MultiplyAdd(c, dh, h5); }
                }
            }
            ref float w = ref Unsafe.Add(ref wT, block * g.Taps + tap * V);
            AddHalves(ref w, 0, l0, h0);
            if (n > 1) AddHalves(ref w, 1 * V, l1, h1);
            if (n > 2) AddHalves(ref w, 2 * V, l2, h2);
            if (n > 3) AddHalves(ref w, 3 * V, l3, h3);
            if (n > 4) AddHalves(ref w, 4 * V, l4, h4);
            if (n > 5) AddHalves(ref w, 5 * V, l5, h5);
        }
    }
}
