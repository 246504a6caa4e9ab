using System;
using System.IO;
using CnnGen.IO;
using CnnGen.Onnx;

namespace FashionMnist
{
    /// <summary>
    /// Saved weights to an ONNX model: the same LeNet-5, in evaluation mode, with input <c>input</c> (N, 1, 28, 28),
    /// pixels scaled to [0, 1] as the sample feeds them, and output <c>output</c> (N, 10) logits.
    /// </summary>
    public static class ExportCommand
    {
        public static int Run(string weightsPath, string onnxPath, TextWriter output)
        {
            var network = new LeNet5();
            NetworkWeights.Load(network, weightsPath);
            OnnxExporter.Export(network, onnxPath, "LeNet5");
            output.WriteLine($"{onnxPath}: ONNX opset {OnnxExporter.Opset}, input '{OnnxExporter.InputName}' [N, 1, 28, 28], output '{OnnxExporter.OutputName}' [N, 10] (logits), "
                + $"{LeNet5.ParameterCount:N0} parameters, {new FileInfo(onnxPath).Length:N0} bytes");
            return 0;
        }
    }
}
