using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "blocked": MobileNetV1-112's six 1x1 + 3x3 depthwise pairs after its first depthwise layer (16->32 @56x56 to 256->256
    // @7x7, bias and ReLU), as the NCHW kernels run them (PointwiseConvolution, DepthwiseConvolution) against the
    // channel-blocked chain evaluation runs (ChannelBlocks: the first 1x1 layer reads NCHW, the last writes NCHW), thread CPU,
    // best of interleaved rounds in both orders; then each layer alone both ways. The basis of Conv2dEmitter.LinkBlockedChains.
    public static class ChannelBlocksBench
    {
        public static void Run()
        {
            var path = DirectConvolution.KernelPath.Vector512;
            // depthwise channels and map in, its stride, the 1x1 layer's output channels (the first pair has no depthwise layer here)
            var layers = new (int C, int H, int S, int OC)[] { (16, 56, 1, 32), (32, 56, 2, 64), (64, 28, 2, 128), (128, 14, 1, 128), (128, 14, 2, 256), (256, 7, 1, 256) };
            int count = layers.Length;
            var dwWeights = new float[count][]; var dwBias = new float[count][]; var pwWeights = new float[count][]; var pwBias = new float[count][];
            var dwPacked = new float[count][]; var pwPacked = new float[count][]; var geometry = new ConvolutionGeometry[count];
            int scratch = 1;
            for (int i = 0; i < count; i++)
            {
                var (c, h, s, oc) = layers[i];
                dwWeights[i] = Program.Fill(c * 9, 10 + i); dwBias[i] = Program.Fill(c, 20 + i); pwWeights[i] = Program.Fill(oc * c, 30 + i); pwBias[i] = Program.Fill(oc, 40 + i);
                dwPacked[i] = new float[c * 9]; ChannelBlocks.PackDepthwise(dwWeights[i], c, dwPacked[i]);
                pwPacked[i] = new float[oc * c]; ChannelBlocks.PackPointwise(pwWeights[i], c, oc, pwPacked[i]);
                geometry[i] = new ConvolutionGeometry(c, h, h, c, 3, 3, s, s, 1, 1, 1, 1, c);
                scratch = Math.Max(scratch, DepthwiseConvolution.ScratchLength(geometry[i]));
            }
            float[] first = Program.Fill(16 * 56 * 56, 1), maps = new float[64 * 56 * 56], depthwise = new float[64 * 56 * 56], columns = new float[scratch];
            float[] nchwOut = new float[256 * 49], blockedOut = new float[256 * 49], padded = new float[64 * 58 * 58], blocked = new float[64 * 56 * 56];
            void Nchw()
            {
                for (int i = 0; i < count; i++)
                {
                    var (c, h, s, oc) = layers[i];
                    int oh = (h - 1) / s + 1;
                    if (i > 0) DepthwiseConvolution.Forward(geometry[i], maps.AsSpan(0, c * h * h), dwWeights[i], dwBias[i], depthwise.AsSpan(0, c * oh * oh), columns, path, 0f, float.PositiveInfinity);
                    var x = i == 0 ? first.AsSpan() : depthwise.AsSpan(0, c * oh * oh);
                    PointwiseConvolution.Forward(x, c, oh * oh, pwWeights[i], pwBias[i], oc, i == count - 1 ? nchwOut : maps.AsSpan(0, oc * oh * oh), 0f, float.PositiveInfinity);
                }
            }
            void Blocked()
            {
                for (int i = 0; i < count; i++)
                {
                    var (c, h, s, oc) = layers[i];
                    int oh = (h - 1) / s + 1;
                    if (i > 0) ChannelBlocks.Depthwise(padded, c, h, h, s, dwPacked[i], dwBias[i], blocked, 0f, float.PositiveInfinity);
                    bool last = i == count - 1;
                    ChannelBlocks.Pointwise(i == 0 ? first : blocked, i > 0, c, oh, oh, pwPacked[i], pwBias[i], oc, last ? blockedOut : padded, last, last ? padded : default,
                        0f, float.PositiveInfinity);
                }
            }
            Nchw();
            Blocked();
            double largest = 0;
            for (int i = 0; i < nchwOut.Length; i++) largest = Math.Max(largest, Math.Abs(nchwOut[i] - blockedOut[i]));
            Console.WriteLine($"load {System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]}; outputs differ by at most {largest:E1}");
            var (nchw, chain) = Program.InterleavedCpu(Nchw, Blocked);
            var (chain2, nchw2) = Program.InterleavedCpu(Blocked, Nchw);
            Console.WriteLine($"MobileNetV1-112's chain, thread CPU us: NCHW {nchw * 1e6:F1} blocked {chain * 1e6:F1} ({nchw / chain:F2}x); the other order {nchw2 * 1e6:F1} / {chain2 * 1e6:F1} ({nchw2 / chain2:F2}x)");
            for (int i = 0; i < count; i++)
            {
                var (c, h, s, oc) = layers[i];
                int oh = (h - 1) / s + 1, index = i;
                if (i > 0)
                {
                    var (a, b) = Program.InterleavedCpu(
                        () => DepthwiseConvolution.Forward(geometry[index], maps.AsSpan(0, c * h * h), dwWeights[index], dwBias[index], depthwise.AsSpan(0, c * oh * oh), columns, path, 0f, float.PositiveInfinity),
                        () => ChannelBlocks.Depthwise(padded, c, h, h, s, dwPacked[index], dwBias[index], blocked, 0f, float.PositiveInfinity));
                    Console.WriteLine($"  depthwise {c} @{h}x{h} stride {s}: NCHW {a * 1e6,7:F2} blocked {b * 1e6,7:F2} ({a / b:F2}x)");
                }
                bool lastLayer = i == count - 1;
                var (p, q) = Program.InterleavedCpu(
                    () => PointwiseConvolution.Forward(i == 0 ? first : depthwise.AsSpan(0, c * oh * oh), c, oh * oh, pwWeights[index], pwBias[index], oc, maps.AsSpan(0, oc * oh * oh), 0f, float.PositiveInfinity),
                    () => ChannelBlocks.Pointwise(index == 0 ? first : blocked, index > 0, c, oh, oh, pwPacked[index], pwBias[index], oc, lastLayer ? blockedOut : padded, lastLayer,
                        lastLayer ? padded : default, 0f, float.PositiveInfinity));
                Console.WriteLine($"  1x1 {c} -> {oc} @{oh}x{oh}{(i == 0 ? " (from NCHW)" : lastLayer ? " (to NCHW)" : "")}: NCHW {p * 1e6,7:F2} blocked {q * 1e6,7:F2} ({p / q:F2}x)");
            }
        }
    }
}
