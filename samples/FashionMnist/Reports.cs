using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen.Training;
using SkiaSharp;

namespace FashionMnist
{
    /// <summary>What a practitioner looks at after training: curves, the confusion matrix, mistakes.</summary>
    public static class Reports
    {
        /// <summary>The confusion matrix on <paramref name="output"/> and, with <paramref name="plots"/>, the three PNGs, each written atomically.</summary>
        public static void WriteAll(LeNet5 network, FashionMnistData data, IReadOnlyList<EpochResult> history, string folder, TextWriter? output = null, bool plots = true)
        {
            output ??= Console.Out;
            var predictions = Predict(network, data.TestImages, data.TestLabels.Length);
            var confusion = ConfusionMatrix(predictions, data.TestLabels);
            output.WriteLine();
            output.WriteLine(FormatConfusion(confusion));
            if (!plots) return;
            if (history.Count > 0) PlotHistory(history, Path.Combine(folder, "training.png"));
            PlotConfusion(confusion, Path.Combine(folder, "confusion.png"));
            DrawMisclassified(data, predictions, Path.Combine(folder, "misclassified.png"));
            output.WriteLine($"Plots: {Path.Combine(folder, "training.png")}, {Path.Combine(folder, "confusion.png")}, {Path.Combine(folder, "misclassified.png")}");
        }

        /// <summary>Predicted classes for <paramref name="count"/> images, in evaluation mode, 256 at a time.</summary>
        public static int[] Predict(LeNet5 network, float[] images, int count)
        {
            const int batch = 256;
            var workspace = network.CreateWorkspace(batch);
            var logits = new float[batch * LeNet5.OutputLength];
            var predictions = new int[count];
            for (int start = 0; start < count; start += batch)
            {
                int n = Math.Min(batch, count - start);
                network.Forward(images.AsSpan(start * LeNet5.InputLength, n * LeNet5.InputLength), logits.AsSpan(0, n * LeNet5.OutputLength), n, workspace);
                for (int i = 0; i < n; i++) predictions[start + i] = Losses.ArgMax(logits.AsSpan(i * LeNet5.OutputLength, LeNet5.OutputLength));
            }
            return predictions;
        }

        /// <summary>Rows: true class; columns: predicted class.</summary>
        public static int[,] ConfusionMatrix(int[] predictions, int[] labels)
        {
            var matrix = new int[10, 10];
            for (int i = 0; i < labels.Length; i++) matrix[labels[i], predictions[i]]++;
            return matrix;
        }

        public static string FormatConfusion(int[,] matrix)
        {
            var sb = new StringBuilder("Confusion matrix (rows: true class, columns: predicted)\n");
            sb.Append(string.Empty.PadRight(13));
            for (int j = 0; j < 10; j++) sb.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(6));
            sb.Append("  accuracy\n");
            for (int i = 0; i < 10; i++)
            {
                sb.Append((i + " " + FashionMnistData.ClassNames[i]).PadRight(13));
                int total = 0;
                for (int j = 0; j < 10; j++)
                {
                    sb.Append(matrix[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(6));
                    total += matrix[i, j];
                }
                sb.Append((total == 0 ? "-" : (100.0 * matrix[i, i] / total).ToString("F1", CultureInfo.InvariantCulture) + "%").PadLeft(10)).Append('\n');
            }
            return sb.ToString();
        }

        // Written atomically: a full disk leaves the previous picture, never a truncated one.
        private static void PlotHistory(IReadOnlyList<EpochResult> history, string path) =>
            AtomicFile.WriteAllBytes(path, HistoryPlot(history).GetImageBytes(800, 500, ScottPlot.ImageFormat.Png));

        /// <summary>Losses and accuracy per epoch; the legend sits below the axes, where it hides no point.</summary>
        public static ScottPlot.Plot HistoryPlot(IReadOnlyList<EpochResult> history)
        {
            var plot = new ScottPlot.Plot();
            double[] epochs = history.Select(r => (double)r.Epoch).ToArray();
            var train = plot.Add.Scatter(epochs, history.Select(r => r.TrainLoss).ToArray());
            train.LegendText = "train loss";
            var test = plot.Add.Scatter(epochs, history.Select(r => r.TestLoss).ToArray());
            test.LegendText = "test loss";
            var accuracy = plot.Add.Scatter(epochs, history.Select(r => r.TestAccuracy).ToArray());
            accuracy.LegendText = "test accuracy";
            accuracy.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "accuracy";
            plot.Axes.Left.Label.Text = "cross-entropy";
            plot.Axes.Bottom.Label.Text = "epoch";
            plot.Title("LeNet-5 on Fashion-MNIST");
            // Inside the axes the legend covered the last epochs' points (top right, where the accuracy ends): put it outside.
            plot.ShowLegend(ScottPlot.Edge.Bottom);
            return plot;
        }

        private static void PlotConfusion(int[,] matrix, string path)
        {
            var values = new double[10, 10];
            for (int i = 0; i < 10; i++)
            {
                int total = 0;
                for (int j = 0; j < 10; j++) total += matrix[i, j];
                for (int j = 0; j < 10; j++) values[i, j] = total == 0 ? 0 : (double)matrix[i, j] / total;
            }
            var plot = new ScottPlot.Plot();
            var heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heatmap);
            for (int i = 0; i < 10; i++)
                for (int j = 0; j < 10; j++)
                {
                    var label = plot.Add.Text(matrix[i, j].ToString(CultureInfo.InvariantCulture), j, 9 - i);
                    label.LabelFontColor = values[i, j] > 0.5 ? ScottPlot.Colors.Black : ScottPlot.Colors.White;
                    label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                }
            plot.Title("Confusion matrix (rows: true, columns: predicted)");
            var classes = Enumerable.Range(0, 10).ToArray();
            plot.Axes.Bottom.SetTicks(classes.Select(j => (double)j).ToArray(), classes.Select(j => j + " " + Short(j)).ToArray());
            plot.Axes.Left.SetTicks(classes.Select(i => (double)(9 - i)).ToArray(), classes.Select(i => i + " " + Short(i)).ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
            plot.Axes.Bottom.Label.Text = "predicted class";
            plot.Axes.Left.Label.Text = "true class";
            AtomicFile.WriteAllBytes(path, plot.GetImageBytes(900, 800, ScottPlot.ImageFormat.Png));

            static string Short(int label) => FashionMnistData.ClassNames[label];
        }

        /// <summary>Width of one image of misclassified.png (28 pixels at 4x); a caption line must fit it.</summary>
        public const int CaptionWidth = 28 * 4;
        private const int CaptionLineHeight = 14;

        /// <summary>The caption font of misclassified.png.</summary>
        public static SKFont CaptionFont() => new(SKTypeface.Default, 11);

        /// <summary>
        /// A caption on two lines, the true class, then "→ predicted": on one line, long pairs ("T-shirt/top → Ankle boot")
        /// ran into the next image's caption.
        /// </summary>
        public static string[] CaptionLines(string trueClass, string predictedClass) => new[] { trueClass, "\u2192 " + predictedClass };

        /// <summary>Up to 24 misclassified test images, scaled 4x, each captioned "true" over "→ predicted".</summary>
        private static void DrawMisclassified(FashionMnistData data, int[] predictions, string path)
        {
            const int scale = 4, cell = 28 * scale, columns = 6, maxImages = 24;
            int captionHeight = 2 * CaptionLineHeight + 6;
            var wrong = Enumerable.Range(0, predictions.Length).Where(i => predictions[i] != data.TestLabels[i]).Take(maxImages).ToArray();
            int rows = Math.Max(1, (wrong.Length + columns - 1) / columns);
            using var bitmap = new SKBitmap(columns * (cell + 8), rows * (cell + captionHeight + 8));
            using var canvas = new SKCanvas(bitmap);
            canvas.Clear(SKColors.White);
            using var font = CaptionFont();
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (int k = 0; k < wrong.Length; k++)
            {
                int index = wrong[k], left = (k % columns) * (cell + 8) + 4, top = (k / columns) * (cell + captionHeight + 8) + 4;
                for (int y = 0; y < 28; y++)
                    for (int x = 0; x < 28; x++)
                    {
                        byte v = (byte)Math.Clamp(data.TestImages[index * 784 + y * 28 + x] * 255f, 0f, 255f);
                        using var pixel = new SKPaint { Color = new SKColor(v, v, v) };
                        canvas.DrawRect(left + x * scale, top + y * scale, scale, scale, pixel);
                    }
                var lines = CaptionLines(Short(data.TestLabels[index]), Short(predictions[index]));
                for (int line = 0; line < lines.Length; line++)
                    canvas.DrawText(lines[line], left, top + cell + 4 + CaptionLineHeight * (line + 1), SKTextAlign.Left, font, paint);
            }
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            AtomicFile.WriteAllBytes(path, png.AsSpan());

            static string Short(int label) => FashionMnistData.ClassNames[label];
        }
    }
}
