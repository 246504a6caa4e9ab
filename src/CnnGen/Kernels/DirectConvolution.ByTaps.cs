using System;

namespace CnnGen.Kernels
{
    public static partial class DirectConvolution
    {
        // The scratch of BackwardByTaps and ForwardByTaps: the weights and their gradient tap-major, a group's input, input
        // gradient and output (gradient) cell-major, the group's outputs sample-major before pooling.
        private static int ByTapsScratch(in Geometry g, int outChannels)
        {
            int group = TapGroupSamples(g);
            return 2 * g.Taps * outChannels + group * (2 * g.InChannels * g.Height * g.Width + 2 * outChannels * g.OutHeight * g.OutWidth);
        }

        // Samples whose cells make the inner dimension of each tap's GEMM: about 512 cells.
        private static int TapGroupSamples(in Geometry g) => Math.Max(1, 512 / (g.OutHeight * g.OutWidth));

        // BackwardOverBatch of a layer with more than one tap (or padding), arguments checked: one GEMM per kernel tap (and
        // output row where the tap's cells are no whole rows) over only the cells whose input the tap reads. On small maps
        // the padding takes a large share of im2col's columns (3x3 on 3x3: 32 of 81 products read it; on 2x2: 20 of 36),
        // and these GEMMs skip it, with no im2col copy: the group's maps are turned cell-major, sample-minor
        // ([channel][cell][sample]), so a tap's cells of one output row are one run of columns in both the output gradient
        // and the input, shifted by the tap. The weights (for the input gradient) and the weight gradient are kept
        // tap-major, [tap][out channel][in channel], so each tap's matrix is whole; turned once a call (8x8 transposes). KernelBench
        // backward-over-batch (32 samples, µs a sample, im2col columns / by taps): 192 -> 384 on 3x3 159.7 / 101.3,
        // 384 -> 256 on 3x3 252.9 / 139.5, 512 -> 512 on 4x4 979.8 / 656.4, on 2x2 250.2 / 215.0, 256 -> 256 on 5x5 434.4 / 290.7.
        private static void BackwardByTaps(ReadOnlySpan<float> x, int batch, in Geometry g, ReadOnlySpan<float> weight,
            ReadOnlySpan<float> outputGradient, int outChannels, Span<float> weightGradient, Span<float> inputGradient, Span<float> scratch)
        {
            int inChannels = g.InChannels, height = g.Height, width = g.Width;
            int inCells = height * width, outCells = g.OutHeight * g.OutWidth, area = g.KernelArea, sampleLength = inChannels * inCells;
            int needed = ByTapsScratch(g, outChannels);
            Require(scratch.Length >= needed, nameof(scratch), needed);
            if (weightGradient.IsEmpty && inputGradient.IsEmpty) return;
            int group = TapGroupSamples(g), tapLength = outChannels * inChannels;

            var tapWeights = scratch.Slice(0, area * tapLength);                 // [tap][oc][ic]
            var tapGradient = scratch.Slice(area * tapLength, area * tapLength); // [tap][oc][ic]
            var rest = scratch.Slice(2 * area * tapLength);
            var xs = rest.Slice(0, inChannels * inCells * group);
            var dxs = rest.Slice(inChannels * inCells * group, inChannels * inCells * group);
            var dys = rest.Slice(2 * inChannels * inCells * group, outChannels * outCells * group);
            if (!inputGradient.IsEmpty) Gemm.Transpose(weight, outChannels * inChannels, area, tapWeights); // [oc·ic][tap] -> [tap][oc·ic]
            if (!weightGradient.IsEmpty) tapGradient.Clear();

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first);
                ToCellMajor(outputGradient.Slice(first * outChannels * outCells, count * outChannels * outCells), count, outChannels, outCells, dys);
                if (!weightGradient.IsEmpty) ToCellMajor(x.Slice(first * sampleLength, count * sampleLength), count, inChannels, inCells, xs);
                if (!inputGradient.IsEmpty) dxs.Slice(0, inChannels * inCells * count).Clear();
                for (var run = new TapRuns(g); run.MoveNext();)
                {
                    int outAt = run.OutputCell * count, inAt = run.InputCell * count, k = run.Cells * count, tap = run.Tap;
                    if (!weightGradient.IsEmpty)
                        Gemm.Multiply(false, true, outChannels, inChannels, k, dys.Slice(outAt), outCells * count, xs.Slice(inAt), inCells * count,
                            tapGradient.Slice(tap * tapLength, tapLength), inChannels, accumulate: true);
                    if (!inputGradient.IsEmpty)
                        Gemm.Multiply(true, false, inChannels, k, outChannels, tapWeights.Slice(tap * tapLength, tapLength), inChannels, dys.Slice(outAt), outCells * count,
                            dxs.Slice(inAt), inCells * count, accumulate: true);
                }
                if (!inputGradient.IsEmpty) FromCellMajor(dxs, count, inChannels, inCells, inputGradient.Slice(first * sampleLength, count * sampleLength));
            }
            if (weightGradient.IsEmpty) return;
            // weightGradient [oc·ic][tap] += the taps' [tap][oc·ic], turned back through the tap-major weights' room (free now).
            Gemm.Transpose(tapGradient, area, tapLength, tapWeights);
            Elementwise.Add(tapWeights, weightGradient.Slice(0, area * tapLength));
        }

        // ForwardOverBatch of a layer with more than one tap (or padding), arguments checked: the group's input cell-major,
        // its outputs started at the bias, and one GEMM per kernel tap (and output row) over the cells the tap reads, as
        // BackwardByTaps; then each sample's outputs out of the group's, ReLU and pooling on the way.
        private static void ForwardByTaps(ReadOnlySpan<float> x, int batch, in Geometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
            int outChannels, Span<float> y, Span<float> scratch, bool relu, bool pool, KernelPath path)
        {
            int inChannels = g.InChannels, inCells = g.Height * g.Width, outCells = g.OutHeight * g.OutWidth, area = g.KernelArea;
            int sampleLength = inChannels * inCells, outputLength = outChannels * (pool ? (g.OutHeight / 2) * (g.OutWidth / 2) : outCells);
            int needed = ByTapsScratch(g, outChannels);
            Require(scratch.Length >= needed, nameof(scratch), needed);
            int group = TapGroupSamples(g), tapLength = outChannels * inChannels;
            var tapWeights = scratch.Slice(0, area * tapLength);
            var rest = scratch.Slice(2 * area * tapLength);
            var xs = rest.Slice(0, inChannels * inCells * group);
            var ys = rest.Slice(2 * inChannels * inCells * group, outChannels * outCells * group);
            var unpacked = rest.Slice((2 * inChannels * inCells + outChannels * outCells) * group, outChannels * outCells * group); // the group's outputs sample-major, to pool
            Gemm.Transpose(weight, tapLength, area, tapWeights); // [oc·ic][tap] -> [tap][oc·ic]

            for (int first = 0; first < batch; first += group)
            {
                int count = Math.Min(group, batch - first);
                ToCellMajor(x.Slice(first * sampleLength, count * sampleLength), count, inChannels, inCells, xs);
                for (int oc = 0; oc < outChannels; oc++) ys.Slice(oc * outCells * count, outCells * count).Fill(bias.IsEmpty ? 0f : bias[oc]);
                for (var run = new TapRuns(g); run.MoveNext();)
                {
                    int outAt = run.OutputCell * count, inAt = run.InputCell * count, k = run.Cells * count;
                    var tapWeight = tapWeights.Slice(run.Tap * tapLength, tapLength);
                    if (path == KernelPath.Scalar)
                        Gemm.MultiplyScalar(false, false, outChannels, k, inChannels, tapWeight, inChannels, xs.Slice(inAt), inCells * count, ys.Slice(outAt), outCells * count, accumulate: true);
                    else
                        Gemm.Multiply(false, false, outChannels, k, inChannels, tapWeight, inChannels, xs.Slice(inAt), inCells * count, ys.Slice(outAt), outCells * count, accumulate: true);
                }
                if (!pool)
                {
                    var target = y.Slice(first * outputLength, count * outputLength);
                    FromCellMajor(ys, count, outChannels, outCells, target);
                    if (relu) Elementwise.Relu(target, target);
                    continue;
                }
                FromCellMajor(ys, count, outChannels, outCells, unpacked);
                for (int s = 0; s < count; s++)
                    PoolColumns(unpacked.Slice(s * outChannels * outCells, outChannels * outCells), outCells, 0, outChannels, relu, g, y.Slice((first + s) * outputLength, outputLength));
            }
        }

        // The runs of cells each kernel tap reads inside the input: per tap, its output cells whose input lies inside the map,
        // as whole rows where the tap's cells and their input cells are whole rows on both sides (one run), else one run per
        // output row; a run's output cells and the input cells they read are each consecutive.
        private ref struct TapRuns
        {
            private readonly Geometry _g;
            private int _ky, _kx, _row, _rowEnd, _colFirst, _colEnd, _step;
            public int Tap, OutputCell, InputCell, Cells;

            public TapRuns(in Geometry g)
            {
                _g = g;
                _ky = 0; _kx = -1; _row = 0; _rowEnd = 0; _colFirst = 0; _colEnd = 0; _step = 1;
                Tap = OutputCell = InputCell = Cells = 0;
            }

            public bool MoveNext()
            {
                while (_row >= _rowEnd)
                {
                    if (++_kx == _g.KernelWidth) { _kx = 0; _ky++; }
                    if (_ky >= _g.KernelHeight) return false;
                    _row = Math.Max(0, _g.PaddingHeight - _ky);
                    _rowEnd = Math.Min(_g.OutHeight, _g.Height + _g.PaddingHeight - _ky);
                    _colFirst = Math.Max(0, _g.PaddingWidth - _kx);
                    _colEnd = Math.Min(_g.OutWidth, _g.Width + _g.PaddingWidth - _kx);
                    if (_colFirst >= _colEnd) _row = _rowEnd; // no cell of this tap reads the input
                    bool wholeRows = _colFirst == 0 && _colEnd == _g.OutWidth && _g.OutWidth == _g.Width && _kx == _g.PaddingWidth;
                    _step = wholeRows ? Math.Max(1, _rowEnd - _row) : 1;
                }
                Tap = _ky * _g.KernelWidth + _kx;
                OutputCell = _row * _g.OutWidth + _colFirst;
                InputCell = (_row + _ky - _g.PaddingHeight) * _g.Width + _colFirst + _kx - _g.PaddingWidth;
                Cells = _step * (_colEnd - _colFirst);
                _row += _step;
                return true;
            }
        }

        // count samples' [channel][cell] -> [channel][cell][sample].
        private static void ToCellMajor(ReadOnlySpan<float> maps, int count, int channels, int cells, Span<float> target) =>
            Gemm.Transpose(maps, count, channels * cells, target);

        // [channel][cell][sample] -> count samples' [channel][cell].
        private static void FromCellMajor(ReadOnlySpan<float> source, int count, int channels, int cells, Span<float> maps) =>
            Gemm.Transpose(source, channels * cells, count, maps);
    }
}
