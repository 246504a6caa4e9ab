using System;
using System.Diagnostics;
using System.Linq;
using CnnGen.Benchmarks.Zoo;
using CnnGen.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CnnGen.Benchmarks
{
    /// <summary>
    /// <c>-- zoo</c>: networks of other shapes (ZooNetworks.cs), each exported to ONNX by CnnGen.Onnx from the same weights, at
    /// batch 1 on one thread: CnnGen's evaluation forward against ONNX Runtime's, interleaved in rounds on this thread (so a busy
    /// machine slows both alike), best round of each, after checking that the outputs agree. Not a BenchmarkDotNet job: a
    /// scan for weak spots; the table to quote is BenchmarkDotNet's.
    /// </summary>
    public static class ZooComparison
    {
        public static void Run(bool probes)
        {
            if (probes)
            {
                Compare("stem 7x7 s2 3->64 @64x64 +BN+ReLU", () => new Zoo.Probes.Stem7x7());
                Compare("max pool 3x3 s2 p1 64 @32x32", () => new Zoo.Probes.MaxPool3s2());
                Compare("3x3 64->64 @16x16 +BN+ReLU", () => new Zoo.Probes.Conv3x3At16());
                Compare("3x3 s2 64->128 @16x16 +BN+ReLU", () => new Zoo.Probes.Conv3x3s2At16());
                Compare("1x1 s2 64->128 @16x16 +BN", () => new Zoo.Probes.Conv1x1s2At16());
                Compare("5x5 3->32 @32x32 +ReLU+pool", () => new Zoo.Probes.Conv5x5Stem());
                Compare("5x5 32->64 @16x16 +ReLU+pool", () => new Zoo.Probes.Conv5x5At16());
                Compare("5x5 64->128 @8x8 +ReLU+pool", () => new Zoo.Probes.Conv5x5At8());
                Compare("transposed 2x2 s2 64->32 @8x8", () => new Zoo.Probes.Transposed2x2());
                Compare("upsample x2 32 @16x16", () => new Zoo.Probes.Upsample2());
                Compare("3x3 3->16 @32x32 +ReLU", () => new Zoo.Probes.Conv3x3Stem16());
                Compare("3x3 s2 16->32 @32x32 +BN+ReLU", () => new Zoo.Probes.Conv3x3s2At32());
                return;
            }
            Compare("VGG-style 3x32x32, 64-256 ch", () => { var n = new VggNet(); n.ResetParameters(1); return n; });
            Compare("ResNet-18 stem + stage, 3x64x64", () => { var n = new ResNetStemNet(); n.ResetParameters(1); return n; });
            Compare("5x5 convolutions, 32-128 ch", () => { var n = new Wide5x5Net(); n.ResetParameters(1); return n; });
            Compare("small MNIST CNN, 8-32 ch", () => { var n = new SmallMnistNet(); n.ResetParameters(1); return n; });
            Compare("encoder-decoder, s2 + transposed", () => { var n = new EncoderDecoderNet(); n.ResetParameters(1); return n; });
        }

        private static void Compare(string name, Func<INetwork> create)
        {
            var network = create();
            var layout = network.Layout;
            var random = new CnnRandom(2);
            float[] input = new float[layout.Input.Length], output = new float[layout.Output.Length], ortOutput = new float[layout.Output.Length];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextFloat();
            var workspace = network.CreateWorkspace(1, 0);

            using var options = new SessionOptions { IntraOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            using var session = new InferenceSession(OnnxExporter.ToBytes(network), options);
            using var ortIn = OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, layout.Input.Channels, layout.Input.Height, layout.Input.Width });
            using var ortOut = OrtValue.CreateTensorValueFromMemory(ortOutput, session.OutputMetadata.Values.First().Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray());
            var inputNames = new[] { session.InputMetadata.Keys.First() };
            var outputNames = new[] { session.OutputMetadata.Keys.First() };
            var inputs = new[] { ortIn };
            var outputs = new[] { ortOut };
            using var runOptions = new RunOptions();

            network.Forward(input, output, 1, workspace, false);
            session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            float worst = 0, scale = 0;
            for (int i = 0; i < output.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(output[i] - ortOutput[i]));
                scale = Math.Max(scale, Math.Abs(ortOutput[i]));
            }
            if (!(worst <= 1e-3f * Math.Max(1f, scale))) throw new InvalidOperationException($"{name}: CnnGen and ONNX Runtime disagree by {worst}");

            Action cnnGen = () => network.Forward(input, output, 1, workspace, false);
            Action ort = () => session.Run(runOptions, inputNames, inputs, outputNames, outputs);
            double bestCnnGen = double.MaxValue, bestOrt = double.MaxValue;
            for (int round = 0; round < 15; round++)
            {
                bestCnnGen = Math.Min(bestCnnGen, PerCall(cnnGen));
                bestOrt = Math.Min(bestOrt, PerCall(ort));
            }
            Console.WriteLine($"{name,-36} CnnGen {bestCnnGen * 1e6,9:F1} us   ORT {bestOrt * 1e6,9:F1} us   {bestOrt / bestCnnGen,5:F2}x   ({layout.MultiplyAdds / 1e6:F1} M mult-adds, max diff {worst:G2})");
        }

        // Calls for about 20 ms, seconds per call.
        private static double PerCall(Action action)
        {
            action();
            var clock = Stopwatch.StartNew();
            int calls = 0;
            while (clock.Elapsed.TotalMilliseconds < 20) { action(); calls++; }
            return clock.Elapsed.TotalSeconds / calls;
        }
    }
}
