using System;
using System.Runtime.InteropServices;
using CnnGen.Kernels;

namespace KernelBench
{
    // "transpose": the 16x16 transposes around the Winograd kernels over the networks' real shapes (ResNet-8's 16@32x32,
    // 32@16x16, 64@8x8; CIFAR's 32@32x32, 64@16x16; odd ones), this thread's CPU µs per call, best of 40 interleaved rounds:
    // F(4x4, 3x3)'s Pad alone (NCHW -> padded channel-interleaved, whole maps; StridedWinogradConvolution's), Unpack (back to
    // NCHW), the whole Forward (with ReLU; with ReLU and 2x2 pooling), and the weight gradient's Block of x and of d y.
    public static class Transposes
    {
        public static void Run(string? only)
        {
            var shapes = new (string Name, int C, int H, int W, int OC)[]
            {
                ("ResNet-8 16@32x32", 16, 32, 32, 16), ("ResNet-8 32@16x16", 32, 16, 16, 32), ("ResNet-8 64@8x8", 64, 8, 8, 64),
                ("CIFAR 32@32x32", 32, 32, 32, 32), ("CIFAR 64@16x16", 64, 16, 16, 64), ("odd 24@15x15->40", 24, 15, 15, 40),
                ("odd 20@9x13->36", 20, 9, 13, 36), ("odd 16@7x7", 16, 7, 7, 16),
            };
            Console.WriteLine($"{"shape",-20} {"pad",7} {"unpack",7} {"forward",8} {"pooled",8} {"wg x",7} {"wg dy",7}");
            foreach (var s in shapes)
            {
                if (only != null && !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
                var l = new WinogradF4Convolution.Layout(s.C, s.H, s.W, s.OC, 1);
                float[] x = Program.Fill(s.C * s.H * s.W, 1), w = Program.Fill(s.OC * s.C * 9, 2), bias = Program.Fill(s.OC, 3), y = new float[s.OC * l.OutHeight * l.OutWidth];
                float[] filters = new float[l.FiltersLength], scratch = new float[l.ScratchLength];
                WinogradF4Convolution.TransformFilters(w, filters, l);
                float[] padded = new float[l.InGroups * l.PaddedGroupStride], staging = new float[l.StagingLength], outputs = new float[l.OutputLength];
                int cells = l.OutHeight * l.OutWidth;
                var gl = new WinogradWeightGradient.Layout(s.C, s.H, s.W, s.OC, 1);
                float[] dy = Program.Fill(s.OC * cells, 4), wgScratch = new float[gl.ScratchLength];
                var (pad, forward) = Program.InterleavedCpu(
                    () => WinogradF4Convolution.Pad(x, padded, staging, l.InChannels, l.Height, l.Width, l.Padding, l.PaddedWidth, l.PaddedGroupStride),
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch, relu: true, pool: false, l));
                var (pooled, unpack) = Program.InterleavedCpu(
                    () => WinogradF4Convolution.Forward(x, filters, bias, y, scratch, relu: true, pool: true, l),
                    () => WinogradF4Convolution.Unpack(outputs, y, staging, cells, l.OutChannels, l.OutputGroupStride));
                var (blockX, blockDy) = Program.InterleavedCpu(
                    () => WinogradWeightGradient.Block(x, gl.InChannels, gl.Height, gl.Width, gl.Padding, gl.PaddedRows, gl.PaddedColumns, wgScratch.AsSpan(0, gl.InputLength)),
                    () => WinogradWeightGradient.Block(dy, gl.OutChannels, gl.OutHeight, gl.OutWidth, 0, gl.GradientRows, gl.GradientColumns, wgScratch.AsSpan(gl.InputLength, gl.GradientLength)));
                Console.WriteLine($"{s.Name,-20} {pad * 1e6,7:F2} {unpack * 1e6,7:F2} {forward * 1e6,8:F2} {pooled * 1e6,8:F2} {blockX * 1e6,7:F2} {blockDy * 1e6,7:F2}");
            }
        }
    }
}
