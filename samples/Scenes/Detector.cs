using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.Training;

namespace Scenes
{
    /// <summary>
    /// What the grid detector predicts, cell by cell (8x8 cells of 8 pixels; the network's 16 output planes):
    /// planes 0-1 objectness logits (no object, object), planes 2-11 class logits, planes 12-15 the box
    /// (tx, ty: the box centre's offset in the cell in cell units; tw, th: width and height over 32 pixels).
    /// The cell holding a box's centre is responsible for it.
    /// </summary>
    public static class GridCoding
    {
        public const int Cells = SceneSet.Grid * SceneSet.Grid, Channels = 16, ClassPlane = 2, BoxPlane = 12, ObjectClasses = 10;
        public const float BoxScale = 32f;

        /// <summary>Per scene and cell: objectness 0/1, the class (-1 for none) and the 4 box targets.</summary>
        public sealed record Targets(int[] Objectness, int[] Classes, float[] Boxes);

        public static Targets Encode(SceneSet set)
        {
            var objectness = new int[set.Count * Cells];
            var classes = new int[set.Count * Cells];
            var boxes = new float[set.Count * Cells * 4];
            classes.AsSpan().Fill(-1);
            for (int s = 0; s < set.Count; s++)
                foreach (var item in set.ItemsOf(s))
                {
                    int cell = SceneSet.CellOf(item), row = cell / SceneSet.Grid, column = cell % SceneSet.Grid;
                    int at = s * Cells + cell;
                    objectness[at] = 1;
                    classes[at] = item.Class;
                    boxes[at * 4 + 0] = (item.X0 + item.X1) * 0.5f / SceneSet.CellSize - column;
                    boxes[at * 4 + 1] = (item.Y0 + item.Y1) * 0.5f / SceneSet.CellSize - row;
                    boxes[at * 4 + 2] = (item.X1 - item.X0) / BoxScale;
                    boxes[at * 4 + 3] = (item.Y1 - item.Y0) / BoxScale;
                }
            return new Targets(objectness, classes, boxes);
        }

        /// <summary>
        /// Every cell's detection (score = P(object) x P(class), class = the most likely) above <paramref name="minScore"/>,
        /// then non-maximum suppression per class at <paramref name="nmsThreshold"/>.
        /// </summary>
        public static List<Detection> Decode(ReadOnlySpan<float> output, float minScore = 0.01f, float nmsThreshold = 0.45f)
        {
            var raw = new List<Detection>();
            for (int cell = 0; cell < Cells; cell++)
            {
                float a = output[cell], b = output[Cells + cell];
                float pObject = 1f / (1f + MathF.Exp(a - b));
                float max = float.NegativeInfinity;
                int best = 0;
                for (int c = 0; c < ObjectClasses; c++)
                {
                    float v = output[(ClassPlane + c) * Cells + cell];
                    if (v > max) { max = v; best = c; }
                }
                double sum = 0;
                for (int c = 0; c < ObjectClasses; c++) sum += Math.Exp(output[(ClassPlane + c) * Cells + cell] - max);
                float score = pObject * (float)(1 / sum);
                if (score < minScore) continue;
                int row = cell / SceneSet.Grid, column = cell % SceneSet.Grid;
                float cx = (column + output[BoxPlane * Cells + cell]) * SceneSet.CellSize;
                float cy = (row + output[(BoxPlane + 1) * Cells + cell]) * SceneSet.CellSize;
                float w = MathF.Max(1f, output[(BoxPlane + 2) * Cells + cell] * BoxScale), h = MathF.Max(1f, output[(BoxPlane + 3) * Cells + cell] * BoxScale);
                var box = new Box(Math.Clamp(cx - w / 2, 0, SceneSet.Size), Math.Clamp(cy - h / 2, 0, SceneSet.Size),
                    Math.Clamp(cx + w / 2, 0, SceneSet.Size), Math.Clamp(cy + h / 2, 0, SceneSet.Size));
                raw.Add(new Detection(box, best, score));
            }
            return DetectionMetrics.NonMaximumSuppression(raw, nmsThreshold);
        }
    }

    /// <summary>
    /// The detector's loss, built from the library's losses: cross-entropy over all cells for objectness (mean over cells),
    /// cross-entropy over the responsible cells for the class (mean over them), and <see cref="BoxWeight"/> x the squared
    /// error of the responsible cells' box numbers (summed over the 4, mean over the cells).
    /// PyTorch: <c>F.cross_entropy(obj, t_obj) + F.cross_entropy(cls[pos], t_cls) + 5 * F.mse_loss(box[pos], t_box, reduction='sum') / P</c>.
    /// </summary>
    public sealed class DetectorLoss
    {
        public const float BoxWeight = 5f;
        private float[] _objRows = Array.Empty<float>(), _objGradient = Array.Empty<float>();
        private int[] _objLabels = Array.Empty<int>();
        private float[] _clsRows = Array.Empty<float>(), _clsGradient = Array.Empty<float>();
        private int[] _clsLabels = Array.Empty<int>();
        private float[] _boxRows = Array.Empty<float>(), _boxTargets = Array.Empty<float>(), _boxGradient = Array.Empty<float>();
        private int[] _positives = Array.Empty<int>();

        public readonly record struct Parts(float Total, float Objectness, float Class, float Box);

        /// <summary>
        /// The mean loss of a batch (outputs N x 16 x 8 x 8; targets of scenes <paramref name="first"/>..) and its gradient
        /// with respect to the outputs, written to <paramref name="gradient"/> (which may not alias the outputs).
        /// </summary>
        public Parts Compute(ReadOnlySpan<float> output, GridCoding.Targets targets, ReadOnlySpan<int> scenes, Span<float> gradient)
        {
            const int cells = GridCoding.Cells, channels = GridCoding.Channels, classes = GridCoding.ObjectClasses;
            int n = scenes.Length;
            CnnGen.NetworkChecks.RequireLength(output.Length, n * channels * cells, "output");
            CnnGen.NetworkChecks.RequireLength(gradient.Length, output.Length, "gradient");
            Grow(ref _objRows, n * cells * 2); Grow(ref _objGradient, n * cells * 2); Grow(ref _objLabels, n * cells);
            Grow(ref _positives, n * cells);
            int p = 0;
            for (int i = 0; i < n; i++)
            {
                var o = output.Slice(i * channels * cells, channels * cells);
                for (int cell = 0; cell < cells; cell++)
                {
                    int k = i * cells + cell, at = scenes[i] * cells + cell;
                    _objRows[2 * k] = o[cell];
                    _objRows[2 * k + 1] = o[cells + cell];
                    _objLabels[k] = targets.Objectness[at];
                    if (targets.Objectness[at] == 1) _positives[p++] = k;
                }
            }
            Grow(ref _clsRows, p * classes); Grow(ref _clsGradient, p * classes); Grow(ref _clsLabels, p);
            Grow(ref _boxRows, p * 4); Grow(ref _boxTargets, p * 4); Grow(ref _boxGradient, p * 4);
            for (int j = 0; j < p; j++)
            {
                int k = _positives[j], i = k / cells, cell = k % cells, at = scenes[i] * cells + cell;
                var o = output.Slice(i * channels * cells, channels * cells);
                for (int c = 0; c < classes; c++) _clsRows[j * classes + c] = o[(GridCoding.ClassPlane + c) * cells + cell];
                _clsLabels[j] = targets.Classes[at];
                for (int b = 0; b < 4; b++)
                {
                    _boxRows[j * 4 + b] = o[(GridCoding.BoxPlane + b) * cells + cell];
                    _boxTargets[j * 4 + b] = targets.Boxes[at * 4 + b];
                }
            }

            int m = n * cells;
            double objectness = Losses.CrossEntropySum(_objRows.AsSpan(0, 2 * m), _objLabels.AsSpan(0, m), _objGradient.AsSpan(0, 2 * m), 1f / m) / m;
            double classLoss = 0, boxLoss = 0;
            if (p > 0)
            {
                classLoss = Losses.CrossEntropySum(_clsRows.AsSpan(0, p * classes), _clsLabels.AsSpan(0, p), _clsGradient.AsSpan(0, p * classes), 1f / p) / p;
                boxLoss = BoxWeight * Losses.SquaredErrorSum(_boxRows.AsSpan(0, p * 4), _boxTargets.AsSpan(0, p * 4), _boxGradient.AsSpan(0, p * 4), BoxWeight / p) / p;
            }

            gradient.Clear();
            for (int k = 0; k < m; k++)
            {
                int i = k / cells, cell = k % cells;
                gradient[i * channels * cells + cell] = _objGradient[2 * k];
                gradient[i * channels * cells + cells + cell] = _objGradient[2 * k + 1];
            }
            for (int j = 0; j < p; j++)
            {
                int k = _positives[j], i = k / cells, cell = k % cells;
                var g = gradient.Slice(i * channels * cells, channels * cells);
                for (int c = 0; c < classes; c++) g[(GridCoding.ClassPlane + c) * cells + cell] = _clsGradient[j * classes + c];
                for (int b = 0; b < 4; b++) g[(GridCoding.BoxPlane + b) * cells + cell] = _boxGradient[j * 4 + b];
            }
            return new Parts((float)(objectness + classLoss + boxLoss), (float)objectness, (float)classLoss, (float)boxLoss);
        }

        private static void Grow<T>(ref T[] array, int length)
        {
            if (array.Length < length) array = new T[Math.Max(length, array.Length * 2)];
        }
    }

    /// <summary>
    /// Training steps for the detector, driven by hand: the batch split across threads in contiguous chunks (each with its
    /// workspace), training forward, the loss on the whole batch, backward per chunk, gradients summed in thread order, one
    /// optimizer step. Deterministic for a given thread count.
    /// </summary>
    public sealed class DetectorTrainer
    {
        private readonly GridDetector _network;
        private readonly Optimizer _optimizer;
        private readonly GridDetector.Workspace[] _workspaces;
        private readonly float[][] _gradients;
        private readonly float[] _summed;
        private readonly float[] _images, _output, _outputGradient;
        private readonly DetectorLoss _loss = new();

        public DetectorTrainer(GridDetector network, Optimizer optimizer, int batchCapacity, int threads)
        {
            _network = network;
            _optimizer = optimizer;
            Threads = Math.Max(1, Math.Min(threads <= 0 ? Environment.ProcessorCount : threads, batchCapacity));
            int chunk = (batchCapacity + Threads - 1) / Threads;
            _workspaces = new GridDetector.Workspace[Threads];
            _gradients = new float[Threads][];
            for (int t = 0; t < Threads; t++)
            {
                _workspaces[t] = network.CreateWorkspace(chunk);
                _gradients[t] = new float[GridDetector.ParameterCount];
            }
            _summed = new float[GridDetector.ParameterCount];
            _images = new float[batchCapacity * SceneSet.Pixels];
            _output = new float[batchCapacity * GridDetector.OutputLength];
            _outputGradient = new float[batchCapacity * GridDetector.OutputLength];
            BatchCapacity = batchCapacity;
        }

        public int Threads { get; }
        public int BatchCapacity { get; }

        public DetectorLoss.Parts Step(SceneSet set, GridCoding.Targets targets, ReadOnlySpan<int> scenes)
        {
            int n = scenes.Length;
            for (int i = 0; i < n; i++) set.CopyImage(scenes[i], _images.AsSpan(i * SceneSet.Pixels, SceneSet.Pixels));
            Parallel.For(0, Threads, t =>
            {
                var (start, count) = Chunk(t, n);
                if (count == 0) return;
                _network.Forward(_images.AsSpan(start * SceneSet.Pixels, count * SceneSet.Pixels),
                    _output.AsSpan(start * GridDetector.OutputLength, count * GridDetector.OutputLength), count, _workspaces[t], training: true);
            });
            var parts = _loss.Compute(_output.AsSpan(0, n * GridDetector.OutputLength), targets, scenes, _outputGradient.AsSpan(0, n * GridDetector.OutputLength));
            if (!float.IsFinite(parts.Total)) throw new TrainingDivergedException(_optimizer.StepCount + 1, parts.Total);
            Parallel.For(0, Threads, t =>
            {
                var (start, count) = Chunk(t, n);
                Array.Clear(_gradients[t]);
                if (count == 0) return;
                _network.Backward(_outputGradient.AsSpan(start * GridDetector.OutputLength, count * GridDetector.OutputLength), _gradients[t], _workspaces[t]);
            });
            _gradients[0].CopyTo(_summed, 0);
            for (int t = 1; t < Threads; t++)
            {
                var g = _gradients[t];
                for (int i = 0; i < _summed.Length; i++) _summed[i] += g[i];
            }
            _optimizer.Step(_network.Parameters, _summed);
            return parts;
        }

        private (int Start, int Count) Chunk(int t, int n)
        {
            int baseSize = n / Threads, extra = n % Threads;
            return (t * baseSize + Math.Min(t, extra), baseSize + (t < extra ? 1 : 0));
        }
    }
}
