using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SkiaSharp;

namespace Scenes
{
    /// <summary>The pictures: scenes, masks in a class palette, boxes, the IoU bar chart and precision-recall curves.</summary>
    public static class Pictures
    {
        /// <summary>Background black, then one colour per Fashion-MNIST class (label = class + 1).</summary>
        public static readonly SKColor[] Palette =
        {
            new(0, 0, 0), new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200), new(245, 130, 48),
            new(145, 30, 180), new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212),
        };

        public static string ClassName(int label) => label == 0 ? "background" : FashionMnist.FashionMnistData.ClassNames[label - 1];

        /// <summary>Rows of test scenes: input | ground truth | prediction, scaled 3x, with a legend.</summary>
        public static void SegmentationGrid(SceneSet set, byte[] predictions, string path, int rows = 8)
        {
            const int scale = 3, cell = SceneSet.Size * scale, gap = 8, top = 24, legend = 130;
            rows = Math.Min(rows, set.Count);
            using var bitmap = new SKBitmap(3 * (cell + gap) + gap + legend, top + rows * (cell + gap) + gap);
            using var canvas = new SKCanvas(bitmap);
            canvas.Clear(SKColors.White);
            using var font = new SKFont(SKTypeface.Default, 13);
            using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            string[] titles = { "input", "ground truth", "prediction" };
            for (int k = 0; k < 3; k++) canvas.DrawText(titles[k], gap + k * (cell + gap), 17, SKTextAlign.Left, font, ink);
            for (int r = 0; r < rows; r++)
            {
                int y = top + r * (cell + gap);
                DrawGray(canvas, set.Images.AsSpan(r * SceneSet.Pixels, SceneSet.Pixels), gap, y, scale);
                DrawMask(canvas, set.Labels.AsSpan(r * SceneSet.Pixels, SceneSet.Pixels), gap + cell + gap, y, scale);
                DrawMask(canvas, predictions.AsSpan(r * SceneSet.Pixels, SceneSet.Pixels), gap + 2 * (cell + gap), y, scale);
            }
            int lx = 3 * (cell + gap) + gap;
            for (int c = 0; c < SceneSet.Classes; c++)
            {
                using var swatch = new SKPaint { Color = Palette[c] };
                canvas.DrawRect(lx, top + c * 20, 14, 14, swatch);
                canvas.DrawText(ClassName(c), lx + 20, top + c * 20 + 12, SKTextAlign.Left, font, ink);
            }
            Save(bitmap, path);
        }

        /// <summary>A 64x64 mask in the class palette, as a PNG of <paramref name="scale"/> x the size.</summary>
        public static void MaskPng(ReadOnlySpan<byte> mask, string path, int scale = 4)
        {
            using var bitmap = new SKBitmap(SceneSet.Size * scale, SceneSet.Size * scale);
            using var canvas = new SKCanvas(bitmap);
            DrawMask(canvas, mask, 0, 0, scale);
            Save(bitmap, path);
        }

        public static void IoUChart(SegmentationMetrics metrics, string path)
        {
            var iou = metrics.IoU;
            var plot = new ScottPlot.Plot();
            var bars = new List<ScottPlot.Bar>();
            for (int c = 0; c < iou.Length; c++)
            {
                var color = Palette[c];
                bars.Add(new ScottPlot.Bar { Position = c, Value = double.IsNaN(iou[c]) ? 0 : iou[c], FillColor = new ScottPlot.Color(color.Red, color.Green, color.Blue), Label = double.IsNaN(iou[c]) ? "-" : (100 * iou[c]).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) });
            }
            plot.Add.Bars(bars);
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, iou.Length).Select(c => (double)c).ToArray(), Enumerable.Range(0, iou.Length).Select(ClassName).ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 110;
            plot.Axes.SetLimitsY(0, 1.08);
            plot.Axes.Left.Label.Text = "IoU";
            plot.Title($"IoU per class on the test scenes (mean {100 * metrics.MeanIoU:F1}%)");
            plot.SavePng(path, 900, 550);
        }

        /// <summary>Test scenes with their true boxes (white, dashed) and the detector's boxes after NMS (class colour, label, score).</summary>
        public static void DetectionGrid(SceneSet set, float[] outputs, string path, int count = 16, float minScore = 0.3f)
        {
            const int scale = 3, cell = SceneSet.Size * scale, gap = 8, columns = 4;
            count = Math.Min(count, set.Count);
            int rows = (count + columns - 1) / columns;
            using var bitmap = new SKBitmap(columns * (cell + gap) + gap, rows * (cell + gap) + gap);
            using var canvas = new SKCanvas(bitmap);
            canvas.Clear(SKColors.White);
            for (int s = 0; s < count; s++)
            {
                int x = gap + (s % columns) * (cell + gap), y = gap + (s / columns) * (cell + gap);
                DrawGray(canvas, set.Images.AsSpan(s * SceneSet.Pixels, SceneSet.Pixels), x, y, scale);
                var detections = GridCoding.Decode(outputs.AsSpan(s * GridDetector.OutputLength, GridDetector.OutputLength)).Where(d => d.Score >= minScore);
                DrawBoxes(canvas, set.ItemsOf(s).ToArray().Select(i => new Detection(i.Box, i.Class, float.NaN)), x, y, scale);
                DrawBoxes(canvas, detections, x, y, scale);
            }
            Save(bitmap, path);
        }

        /// <summary>The image with boxes drawn (predict's picture).</summary>
        public static void BoxesPng(ReadOnlySpan<byte> image, IEnumerable<Detection> detections, string path, int scale = 4)
        {
            using var bitmap = new SKBitmap(SceneSet.Size * scale, SceneSet.Size * scale);
            using var canvas = new SKCanvas(bitmap);
            DrawGray(canvas, image, 0, 0, scale);
            DrawBoxes(canvas, detections, 0, 0, scale);
            Save(bitmap, path);
        }

        public static void PrecisionRecall(DetectionMetrics.ClassResult[] perClass, string path)
        {
            var plot = new ScottPlot.Plot();
            foreach (var r in perClass)
            {
                if (r.Recall.Length == 0) continue;
                var line = plot.Add.Scatter(r.Recall, r.Precision);
                line.MarkerSize = 0;
                var color = Palette[r.Class + 1];
                line.Color = new ScottPlot.Color(color.Red, color.Green, color.Blue);
                line.LegendText = $"{FashionMnist.FashionMnistData.ClassNames[r.Class]} (AP {100 * r.AveragePrecision:F1})";
            }
            plot.Axes.SetLimits(0, 1.02, 0, 1.02);
            plot.Axes.Bottom.Label.Text = "recall";
            plot.Axes.Left.Label.Text = "precision";
            plot.Title("Precision-recall per class at IoU 0.5 (test scenes)");
            plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
            plot.SavePng(path, 900, 650);
        }

        private static void DrawBoxes(SKCanvas canvas, IEnumerable<Detection> detections, int x, int y, int scale)
        {
            using var font = new SKFont(SKTypeface.Default, 10);
            foreach (var d in detections)
            {
                bool truth = float.IsNaN(d.Score);
                using var stroke = new SKPaint
                {
                    Color = truth ? SKColors.White : Palette[d.Class + 1], Style = SKPaintStyle.Stroke, StrokeWidth = truth ? 1 : 2, IsAntialias = true,
                    PathEffect = truth ? SKPathEffect.CreateDash(new float[] { 4, 3 }, 0) : null,
                };
                var rect = new SKRect(x + d.Box.X0 * scale, y + d.Box.Y0 * scale, x + d.Box.X1 * scale, y + d.Box.Y1 * scale);
                canvas.DrawRect(rect, stroke);
                if (!truth)
                {
                    using var fill = new SKPaint { Color = Palette[d.Class + 1] };
                    string text = $"{FashionMnist.FashionMnistData.ClassNames[d.Class]} {d.Score:F2}";
                    canvas.DrawText(text, rect.Left + 1, Math.Max(y + 9, rect.Top - 2), SKTextAlign.Left, font, fill);
                }
            }
        }

        private static void DrawGray(SKCanvas canvas, ReadOnlySpan<byte> pixels, int x, int y, int scale)
        {
            for (int r = 0; r < SceneSet.Size; r++)
                for (int c = 0; c < SceneSet.Size; c++)
                {
                    byte v = pixels[r * SceneSet.Size + c];
                    using var paint = new SKPaint { Color = new SKColor(v, v, v) };
                    canvas.DrawRect(x + c * scale, y + r * scale, scale, scale, paint);
                }
        }

        private static void DrawMask(SKCanvas canvas, ReadOnlySpan<byte> mask, int x, int y, int scale)
        {
            var paints = Palette.Select(c => new SKPaint { Color = c }).ToArray();
            for (int r = 0; r < SceneSet.Size; r++)
                for (int c = 0; c < SceneSet.Size; c++)
                    canvas.DrawRect(x + c * scale, y + r * scale, scale, scale, paints[mask[r * SceneSet.Size + c]]);
            foreach (var p in paints) p.Dispose();
        }

        private static void Save(SKBitmap bitmap, string path)
        {
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(path);
            png.SaveTo(file);
        }
    }
}
