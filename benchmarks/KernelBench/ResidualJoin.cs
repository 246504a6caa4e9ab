using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "residual-join [shape prefix]": a residual block's last 3x3 stride-1 layer and its sum (and ReLU) at batch 1 in this
    // thread's CPU time, best of interleaved rounds: the layer writing its NCHW maps and the sum as a pass into a third array
    // (what evaluation ran before session 41), the sum as a pass in place right after the kernel (DirectConvolution.JoinsInKernel
    // off), and DirectConvolution.ForwardJoined adding the shortcut as the Winograd kernel turns the maps into NCHW. The basis
    // of the generator's joined last layers (Conv2dEmitter.JoinResiduals).
    internal static class ResidualJoin
    {
        public static void Run(string? only)
        {
            var shapes = new (int C, int H)[] { (16, 32), (32, 16), (64, 8), (64, 32), (128, 16), (128, 8), (256, 8), (256, 4), (64, 56), (24, 20) };
            Console.WriteLine($"{"3x3 p1, then + shortcut, ReLU",-32} {"pass into 3rd",14} {"pass in place",14} {"in kernel",10} {"3rd/kernel",11} {"place/kernel",13}");
            foreach (var (c, h) in shapes)
            {
                string name = $"{c}x{h}x{h} -> {c}";
                if (only is not null && !name.StartsWith(only, StringComparison.Ordinal)) continue;
                int length = c * h * h;
                float[] x = Program.Fill(length, 1), w = Program.Fill(c * c * 9, 2), bias = Program.Fill(c, 3), shortcut = Program.Fill(length, 4);
                float[] body = new float[length], joined = new float[length], separate = new float[length], inPlace = new float[length];
                float[] filters = new float[Math.Max(1, DirectConvolution.WinogradFiltersLength(c, h, h, c, 3, 1))];
                DirectConvolution.TransformFilters(w, c, h, h, c, 3, 1, filters);
                var link = DirectConvolution.Link.None;
                float[] scratch = new float[DirectConvolution.LinkedScratchLength(c, h, h, c, 3, 1, pool: false, link, link)];
                Action Joined(bool inKernel, float[] y) => () =>
                {
                    DirectConvolution.JoinsInKernel = inKernel;
                    DirectConvolution.ForwardJoined(x, c, h, h, w, bias, c, 3, 1, y, scratch, relu: false, pool: false, filters, link, shortcut, reluAfterSum: true);
                    DirectConvolution.JoinsInKernel = true;
                };
                var times = Program.InterleavedCpuAll(
                    () =>
                    {
                        var written = DirectConvolution.ForwardLinked(x, c, h, h, w, bias, c, 3, 1, body, scratch, relu: false, pool: false, filters, link, link);
                        Elementwise.SumRelu(written, shortcut, separate);
                    },
                    Joined(false, inPlace), Joined(true, joined));
                double largest = 0;
                for (int i = 0; i < length; i++) largest = Math.Max(largest, Math.Max(Math.Abs(joined[i] - separate[i]), Math.Abs(inPlace[i] - separate[i])));
                Console.WriteLine($"{name,-32} {times[0] * 1e6,14:F2} {times[1] * 1e6,14:F2} {times[2] * 1e6,10:F2} {times[0] / times[2],10:F3}x {times[1] / times[2],12:F3}x  (largest difference {largest:E1})");
            }
        }
    }
}
