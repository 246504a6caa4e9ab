using System;
using System.Collections.Generic;
using System.Linq;

namespace Scenes
{
    /// <summary>An axis-aligned box in pixels, [X0, X1) x [Y0, Y1).</summary>
    public readonly record struct Box(float X0, float Y0, float X1, float Y1)
    {
        public float Area => Math.Max(0, X1 - X0) * Math.Max(0, Y1 - Y0);

        /// <summary>Intersection over union; 0 when both are empty.</summary>
        public static float IoU(Box a, Box b)
        {
            float w = Math.Min(a.X1, b.X1) - Math.Max(a.X0, b.X0), h = Math.Min(a.Y1, b.Y1) - Math.Max(a.Y0, b.Y0);
            float intersection = w > 0 && h > 0 ? w * h : 0;
            float union = a.Area + b.Area - intersection;
            return union <= 0 ? 0 : intersection / union;
        }
    }

    /// <summary>A detection: a box, its class and a score in [0, 1].</summary>
    public readonly record struct Detection(Box Box, int Class, float Score);

    /// <summary>Pixel accuracy and intersection over union from an 11x11 confusion matrix (rows: truth, columns: prediction).</summary>
    public sealed class SegmentationMetrics
    {
        public SegmentationMetrics(int classes) => Confusion = new long[classes, classes];

        public long[,] Confusion { get; }
        public int Classes => Confusion.GetLength(0);

        public void Add(ReadOnlySpan<int> truth, ReadOnlySpan<int> prediction)
        {
            for (int i = 0; i < truth.Length; i++) Confusion[truth[i], prediction[i]]++;
        }

        public void Add(SegmentationMetrics other)
        {
            for (int i = 0; i < Classes; i++)
                for (int j = 0; j < Classes; j++) Confusion[i, j] += other.Confusion[i, j];
        }

        public double PixelAccuracy
        {
            get
            {
                long correct = 0, total = 0;
                for (int i = 0; i < Classes; i++)
                    for (int j = 0; j < Classes; j++) { total += Confusion[i, j]; if (i == j) correct += Confusion[i, j]; }
                return total == 0 ? 0 : (double)correct / total;
            }
        }

        /// <summary>TP / (TP + FP + FN) per class; NaN for a class absent from both truth and prediction.</summary>
        public double[] IoU
        {
            get
            {
                var iou = new double[Classes];
                for (int c = 0; c < Classes; c++)
                {
                    long tp = Confusion[c, c], fp = 0, fn = 0;
                    for (int k = 0; k < Classes; k++)
                    {
                        if (k == c) continue;
                        fp += Confusion[k, c];
                        fn += Confusion[c, k];
                    }
                    long union = tp + fp + fn;
                    iou[c] = union == 0 ? double.NaN : (double)tp / union;
                }
                return iou;
            }
        }

        /// <summary>The mean of the per-class IoU over the classes present (all 11 on the test scenes).</summary>
        public double MeanIoU => IoU.Where(v => !double.IsNaN(v)).DefaultIfEmpty(0).Average();
    }

    public static class DetectionMetrics
    {
        /// <summary>
        /// Greedy non-maximum suppression per class: detections by descending score, each dropped when it overlaps a kept
        /// detection of its class with IoU above <paramref name="iouThreshold"/>. Ties keep the earlier detection.
        /// </summary>
        public static List<Detection> NonMaximumSuppression(IEnumerable<Detection> detections, float iouThreshold)
        {
            var sorted = detections.Select((d, i) => (d, i)).OrderByDescending(x => x.d.Score).ThenBy(x => x.i).Select(x => x.d).ToList();
            var kept = new List<Detection>();
            foreach (var candidate in sorted)
            {
                bool suppressed = false;
                foreach (var k in kept)
                    if (k.Class == candidate.Class && Box.IoU(k.Box, candidate.Box) > iouThreshold) { suppressed = true; break; }
                if (!suppressed) kept.Add(candidate);
            }
            return kept;
        }

        /// <summary>One class's precision-recall curve (after each detection, by descending score) and its average precision.</summary>
        public sealed record ClassResult(int Class, int Truths, double AveragePrecision, double[] Precision, double[] Recall);

        /// <summary>
        /// PASCAL VOC's mean average precision at an IoU threshold (0.5): per class, detections of all images by descending
        /// score; a detection is a true positive when its best-overlapping truth of the class in its image has IoU ≥ the
        /// threshold and is not yet matched, else a false positive. AP is the area under the precision-recall curve with
        /// precision made monotone (every point, as VOC 2010 onwards). The mean is over classes with at least one truth.
        /// </summary>
        public static (double MeanAP, ClassResult[] PerClass) MeanAveragePrecision(
            IReadOnlyList<IReadOnlyList<Detection>> detections, IReadOnlyList<IReadOnlyList<(Box Box, int Class)>> truths, int classes, float iouThreshold = 0.5f)
        {
            if (detections.Count != truths.Count) throw new ArgumentException("One list of detections per image is needed.", nameof(detections));
            var results = new ClassResult[classes];
            for (int c = 0; c < classes; c++)
            {
                int truthCount = 0;
                var matched = new bool[truths.Count][];
                for (int i = 0; i < truths.Count; i++)
                {
                    matched[i] = new bool[truths[i].Count];
                    foreach (var t in truths[i]) if (t.Class == c) truthCount++;
                }
                var ranked = new List<(float Score, int Image, Box Box)>();
                for (int i = 0; i < detections.Count; i++)
                    foreach (var d in detections[i]) if (d.Class == c) ranked.Add((d.Score, i, d.Box));
                // A stable sort: equal scores keep image order.
                ranked = ranked.Select((r, k) => (r, k)).OrderByDescending(x => x.r.Score).ThenBy(x => x.k).Select(x => x.r).ToList();

                var precision = new double[ranked.Count];
                var recall = new double[ranked.Count];
                int tp = 0, fp = 0;
                for (int k = 0; k < ranked.Count; k++)
                {
                    var (_, image, box) = ranked[k];
                    float best = -1;
                    int bestIndex = -1;
                    for (int t = 0; t < truths[image].Count; t++)
                    {
                        if (truths[image][t].Class != c) continue;
                        float iou = Box.IoU(box, truths[image][t].Box);
                        if (iou > best) { best = iou; bestIndex = t; }
                    }
                    if (bestIndex >= 0 && best >= iouThreshold && !matched[image][bestIndex]) { tp++; matched[image][bestIndex] = true; }
                    else fp++;
                    precision[k] = (double)tp / (tp + fp);
                    recall[k] = truthCount == 0 ? 0 : (double)tp / truthCount;
                }
                results[c] = new ClassResult(c, truthCount, truthCount == 0 ? double.NaN : AveragePrecision(precision, recall), precision, recall);
            }
            var present = results.Where(r => r.Truths > 0).ToArray();
            return (present.Length == 0 ? 0 : present.Average(r => r.AveragePrecision), results);
        }

        /// <summary>VOC's every-point AP: precision made non-increasing from the right, summed over the steps in recall.</summary>
        public static double AveragePrecision(ReadOnlySpan<double> precision, ReadOnlySpan<double> recall)
        {
            int n = precision.Length;
            var mrec = new double[n + 2];
            var mpre = new double[n + 2];
            mrec[0] = 0; mpre[0] = 0; mrec[n + 1] = 1; mpre[n + 1] = 0;
            for (int i = 0; i < n; i++) { mrec[i + 1] = recall[i]; mpre[i + 1] = precision[i]; }
            for (int i = n; i >= 0; i--) mpre[i] = Math.Max(mpre[i], mpre[i + 1]);
            double ap = 0;
            for (int i = 1; i <= n + 1; i++) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
            return ap;
        }
    }
}
