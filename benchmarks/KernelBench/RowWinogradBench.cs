using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "row-winograd": stride-1 3x3 and 5x5 layers from few input channels, the direct kernels (DirectConvolution.ForwardOn
    // without Winograd: the lanes kernel or the flat channel blocks, whichever the layer runs) against RowWinogradConvolution
    // with its filters transformed on the call and prepared once, in this thread's CPU time (best of 40 interleaved rounds).
    internal static class RowWinogradBench
    {
        public static void Run(string[] args)
        {
            var shapes = new (string Name, int C, int H, int W, int OC, int K, int P, bool Pool)[]
            {
                ("LeNet-5 1x28x28 -> 6 k5 p2 +pool", 1, 28, 28, 6, 5, 2, true),
                ("LeNet-5 6x14x14 -> 16 k5 +pool", 6, 14, 14, 16, 5, 0, true),
                ("1x28x28 -> 32 k3 p1", 1, 28, 28, 32, 3, 1, false),
                ("1x28x28 -> 16 k5 p2", 1, 28, 28, 16, 5, 2, false),
                ("3x32x32 -> 16 k3 p1", 3, 32, 32, 16, 3, 1, false),
                ("3x32x32 -> 32 k3 p1", 3, 32, 32, 32, 3, 1, false),
                ("3x32x32 -> 6 k5 (LeNet RGB) +pool", 3, 32, 32, 6, 5, 0, true),
                ("3x32x32 -> 32 k5 p2", 3, 32, 32, 32, 5, 2, false),
                ("3x64x64 -> 16 k3 p1", 3, 64, 64, 16, 3, 1, false),
                ("3x224x224 -> 32 k3 p1", 3, 224, 224, 32, 3, 1, false),
                ("6x14x14 -> 16 k3 p1", 6, 14, 14, 16, 3, 1, false),
                ("4x16x16 -> 8 k3 p1", 4, 16, 16, 8, 3, 1, false),
                ("2x12x12 -> 4 k5 p2", 2, 12, 12, 4, 5, 2, false),
                ("1x8x8 -> 16 k3 p1", 1, 8, 8, 16, 3, 1, false),
                ("5x32x32 -> 16 k3 p1", 5, 32, 32, 16, 3, 1, false),
                ("3x32x32 -> 64 k3 p1", 3, 32, 32, 64, 3, 1, false),
                ("7x32x32 -> 32 k5 p2", 7, 32, 32, 32, 5, 2, false),
                ("3x48x48 -> 24 k3 p1", 3, 48, 48, 24, 3, 1, false),
                ("4x32x32 -> 16 k5 p2 +pool", 4, 32, 32, 16, 5, 2, true),
                ("3x32x32 -> 16 k3 p0", 3, 32, 32, 16, 3, 0, false),
                ("3x28x28 -> 16 k3 p1", 3, 28, 28, 16, 3, 1, false),
                ("3x28x28 -> 32 k5 p2", 3, 28, 28, 32, 5, 2, false),
                ("1x28x28 -> 16 k3 p1", 1, 28, 28, 16, 3, 1, false),
                ("1x28x28 -> 64 k3 p1", 1, 28, 28, 64, 3, 1, false),
                ("1x28x28 -> 32 k5 p2", 1, 28, 28, 32, 5, 2, false),
                ("1x28x28 -> 32 k3 p1 +pool", 1, 28, 28, 32, 3, 1, true),
                ("2x32x32 -> 16 k3 p1", 2, 32, 32, 16, 3, 1, false),
                ("1x64x64 -> 16 k3 p1", 1, 64, 64, 16, 3, 1, false),
                ("3x32x32 -> 64 k3 p1 +pool", 3, 32, 32, 64, 3, 1, true),
                ("3x32x32 -> 16 k3 p1 +pool", 3, 32, 32, 16, 3, 1, true),
                ("3x32x32 -> 32 k5 p2 +pool", 3, 32, 32, 32, 5, 2, true),
                ("1x28x28 -> 32 k5 p2 +pool", 1, 28, 28, 32, 5, 2, true),
            };
            Console.WriteLine($"{"shape (us per call, CPU)",-36} {"direct",8} {"row call",9} {"prepared",9} {"call x",7} {"prep x",7} {"largest diff",13}");
            // row-winograd loop N: shape N's prepared call for 5 seconds (for perf).
            bool loop = args.Length == 3 && args[1] == "loop";
            if (loop) shapes = new[] { shapes[int.Parse(args[2])] };
            foreach (var s in shapes)
            {
                var l = new RowWinogradConvolution.Layout(s.C, s.H, s.W, s.OC, s.K, s.P);
                float[] x = Program.Fill(s.C * s.H * s.W, 1), w = Program.Fill(s.OC * s.C * s.K * s.K, 2), b = Program.Fill(s.OC, 3);
                int outLength = s.Pool ? s.OC * (l.OutHeight / 2) * (l.OutWidth / 2) : s.OC * l.OutHeight * l.OutWidth;
                float[] yDirect = new float[outLength], yRow = new float[outLength], yPrepared = new float[outLength];
                float[] directScratch = new float[DirectConvolution.ScratchLength(s.C, s.H, s.W, s.OC, s.K, s.P) + l.ScratchLength];
                float[] scratch = new float[l.ScratchLength], filters = new float[l.FiltersLength];
                RowWinogradConvolution.TransformFilters(w, filters, l);
                Action direct = () => DirectConvolution.ForwardOn(x, s.C, s.H, s.W, w, b, s.OC, s.K, s.P, yDirect, directScratch, relu: true, s.Pool,
                    DirectConvolution.KernelPath.Vector512, allowWinograd: false);
                Action row = () => RowWinogradConvolution.Forward(x, w, b, yRow, scratch, relu: true, s.Pool, l);
                Action prepared = () => RowWinogradConvolution.ForwardPrepared(x, filters, b, yPrepared, scratch, relu: true, s.Pool, l);
                if (loop)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    while (clock.Elapsed.TotalSeconds < 5) for (int i = 0; i < 1000; i++) prepared();
                    return;
                }
                var (d1, r) = Program.InterleavedCpu(direct, row);
                var (d2, p) = Program.InterleavedCpu(direct, prepared);
                double d = Math.Min(d1, d2), largest = 0;
                for (int i = 0; i < outLength; i++) largest = Math.Max(largest, Math.Abs(yDirect[i] - yRow[i]));
                Console.WriteLine($"{s.Name,-36} {d * 1e6,8:F2} {r * 1e6,9:F2} {p * 1e6,9:F2} {d / r,6:F2}x {d / p,6:F2}x {largest,13:E1}");
            }
        }
    }
}
