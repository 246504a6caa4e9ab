using System;
using System.IO;
using CnnGen.IO;
using CnnGen.Training;

namespace FashionMnist
{
    public static class EvaluateCommand
    {
        public static int Run(string weightsPath, string? dataFolder, int? limit, TextWriter? output = null)
        {
            output ??= Console.Out;
            if (limit is int n && n < 1) throw new UsageException($"--limit must be 1 or more; got {n}");
            string folder = FashionMnistData.Locate(dataFolder, training: false);
            var network = new LeNet5();
            NetworkWeights.Load(network, weightsPath);
            var data = FashionMnistData.LoadTest(folder, limit);
            var predictions = Reports.Predict(network, data.TestImages, data.TestLabels.Length);
            int correct = 0;
            for (int i = 0; i < predictions.Length; i++) if (predictions[i] == data.TestLabels[i]) correct++;
            output.WriteLine($"{weightsPath}: test accuracy {100.0 * correct / predictions.Length:F2}% ({correct:N0} of {predictions.Length:N0})");
            output.WriteLine(Reports.FormatConfusion(Reports.ConfusionMatrix(predictions, data.TestLabels)));
            return 0;
        }
    }

    public static class PredictCommand
    {
        public static int Run(string weightsPath, string imagePath, TextWriter? output = null)
        {
            output ??= Console.Out;
            var network = new LeNet5();
            NetworkWeights.Load(network, weightsPath);
            var pixels = ImageInput.Load(imagePath);
            var logits = new float[LeNet5.OutputLength];
            network.Forward(pixels, logits, network.CreateWorkspace());

            // Softmax, shifted by the maximum.
            float max = float.NegativeInfinity;
            foreach (var v in logits) max = MathF.Max(max, v);
            var probabilities = new double[logits.Length];
            double sum = 0;
            for (int i = 0; i < logits.Length; i++) sum += probabilities[i] = Math.Exp(logits[i] - max);
            var order = new int[logits.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (a, b) => probabilities[b].CompareTo(probabilities[a]));
            output.WriteLine(imagePath + ":");
            for (int k = 0; k < 3; k++)
                output.WriteLine($"  {FashionMnistData.ClassNames[order[k]],-12} {100 * probabilities[order[k]] / sum,6:F2}%");
            return 0;
        }
    }
}
