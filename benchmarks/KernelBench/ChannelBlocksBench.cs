using System;
using System.Linq;
using CnnGen;
using CnnGen.Kernels;

namespace KernelBench
{
    // "blocked": MobileNetV1-112's six 1x1 + 3x3 depthwise pairs after its first depthwise layer (16->32 @56x56 to 256->256
    // @7x7, bias and ReLU), as the NCHW kernels run them (PointwiseConvolution, DepthwiseConvolution) against the
    // channel-blocked chain evaluation runs (ChannelBlocks: the first 1x1 layer reads NCHW, the last writes NCHW), thread CPU,
    // best of interleaved rounds in both orders; then each layer alone both ways. The basis of Conv2dEmitter.LinkBlockedChains.
    public static class ChannelBlocksBench
    {
        // 1x1 layers as (input channels, map side, output channels): BLOCKED_SHAPES=256x14x64,... or the mode's own list.
        private static (int C, int H, int OC)[] Shapes((int C, int H, int OC)[] defaults) =>
            Environment.GetEnvironmentVariable("BLOCKED_SHAPES") is { } list
                ? list.Split(',').Select(t => t.Split('x').Select(int.Parse).ToArray()).Select(a => (a[0], a[1], a[2])).ToArray()
                : defaults;

        // "blocked knob groups|runs": each 1x1 layer of the chain (and MobileNetV1-112's blocks of 64 and 256 on other maps) with its
        // blocks of output channels in even groups of up to 3 against groups of 3 and the rest (ChannelBlocks.EvenBlockGroups).
        public static void Groups(string knob)
        {
            static void Set(string knob, bool on)
            {
                if (knob == "groups") ChannelBlocks.EvenBlockGroups = on;
                else if (knob == "runs") ChannelBlocks.InputRuns = on;
                else if (knob == "half") ChannelBlocks.HalfBlocks = on;
                else throw new ArgumentException("Expected groups, runs or half.");
            }
            Console.WriteLine($"knob {knob}: on against off");
            // "half": projections and expansions onto channels whose last block holds 8 or fewer (MobileNetV2's and MnasNet's 24 and 40, 72, 120).
            var shapes = knob == "half"
                ? Shapes(new (int C, int H, int OC)[] { (96, 8, 24), (64, 8, 24), (144, 32, 24), (144, 16, 24), (96, 16, 24), (120, 8, 40), (240, 8, 40), (24, 16, 72), (40, 8, 120), (16, 32, 24), (480, 4, 40) })
                : Shapes(new (int C, int H, int OC)[] { (16, 56, 32), (32, 28, 64), (64, 14, 128), (128, 14, 128), (128, 7, 256), (256, 7, 256), (64, 56, 64), (256, 14, 256), (512, 7, 512) });
            Console.WriteLine($"load {System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]}; thread CPU us, best of interleaved rounds, knob on / off (> 1: on faster)");
            foreach (var (c, h, oc) in shapes)
            {
                foreach (bool last in new[] { false, true })
                {
                    int lanes = ChannelBlocks.BlockLanes(oc);
                    float[] x = Program.Fill(c * h * h, 1), w = Program.Fill(oc * c, 2), bias = new float[lanes], packed = new float[lanes * c];
                    Program.Fill(oc, 3).CopyTo(bias, 0);
                    float[] y = new float[ChannelBlocks.PaddedLength(lanes, h, h)], y2 = new float[y.Length], staging = new float[lanes * h * h];
                    ChannelBlocks.PackPointwise(w, c, oc, packed);
                    void Run(bool even, float[] into)
                    {
                        Set(knob, even);
                        ChannelBlocks.Pointwise(x, c >= 16 && c % 16 == 0, c, h, h, packed, bias, oc, into, last, last ? staging : default, 0f, float.PositiveInfinity);
                    }
                    Run(true, y); Run(false, y2);
                    bool same = y.AsSpan().SequenceEqual(y2);
                    var (even, rest) = Program.InterleavedCpu(() => Run(true, y), () => Run(false, y2));
                    var (rest2, even2) = Program.InterleavedCpu(() => Run(false, y2), () => Run(true, y));
                    Console.WriteLine($"  1x1 {c} -> {oc} @{h}x{h}{(last ? " to NCHW" : "")}: on {even * 1e6,7:F2} off {rest * 1e6,7:F2} ({rest / even:F2}x); other order {even2 * 1e6,7:F2} / {rest2 * 1e6,7:F2} ({rest2 / even2:F2}x), on {2.0 * c * oc * h * h / Math.Min(even, even2) / 1e9:F0} GFLOP/s{(same ? "" : " OUTPUTS DIFFER")}");
                }
            }
            Set(knob, true);
        }

        // "blocked align": one 1x1 layer with its weights, input and output at 64-byte boundaries against 16 bytes past them.
        public static unsafe void Align()
        {
            var shapes = Shapes(new (int C, int H, int OC)[] { (256, 7, 256), (128, 14, 128), (64, 28, 64) });
            static Span<float> At(float[] pinned, int length, int bytes)
            {
                fixed (float* p = pinned)
                {
                    int skip = (int)(((64 - (long)p % 64) % 64 + bytes) / 4);
                    return pinned.AsSpan(skip, length);
                }
            }
            foreach (var (c, h, oc) in shapes)
            {
                int yLength = ChannelBlocks.PaddedLength(oc, h, h);
                float[] xa = GC.AllocateArray<float>(c * h * h + 64, pinned: true), wa = GC.AllocateArray<float>(oc * c + 64, pinned: true), ya = GC.AllocateArray<float>(yLength + 64, pinned: true);
                float[] bias = Program.Fill(oc, 3);
                Program.Fill(c * h * h, 1).CopyTo(At(xa, c * h * h, 0));
                float[] packed = new float[oc * c];
                ChannelBlocks.PackPointwise(Program.Fill(oc * c, 2), c, oc, packed);
                foreach (int offset in new[] { 16, 32, 48 })
                {
                    void Run(int bytes)
                    {
                        var x = At(xa, c * h * h, bytes);
                        ChannelBlocks.Pointwise(x, true, c, h, h, At(wa, oc * c, bytes), bias, oc, At(ya, yLength, bytes), false, default, 0f, float.PositiveInfinity);
                    }
                    At(xa, c * h * h, 0).CopyTo(At(xa, c * h * h, offset)); packed.CopyTo(At(wa, oc * c, offset));
                    Run(offset); var off = At(ya, yLength, offset).ToArray();
                    At(xa, c * h * h, offset).CopyTo(At(xa, c * h * h, 0)); packed.CopyTo(At(wa, oc * c, 0));
                    Run(0); bool same = At(ya, yLength, 0).SequenceEqual(off);
                    // Both layouts in one buffer is not possible at once: time each with its own copy in place, alternated.
                    double aligned = double.MaxValue, shifted = double.MaxValue;
                    for (int round = 0; round < 4; round++)
                    {
                        packed.CopyTo(At(wa, oc * c, 0)); Program.Fill(c * h * h, 1).CopyTo(At(xa, c * h * h, 0));
                        aligned = Math.Min(aligned, Program.InterleavedCpu(() => Run(0), () => Run(0)).Item1);
                        packed.CopyTo(At(wa, oc * c, offset)); Program.Fill(c * h * h, 1).CopyTo(At(xa, c * h * h, offset));
                        shifted = Math.Min(shifted, Program.InterleavedCpu(() => Run(offset), () => Run(offset)).Item1);
                    }
                    Console.WriteLine($"  1x1 {c} -> {oc} @{h}x{h}: 64-byte aligned {aligned * 1e6,7:F2} us ({2.0 * c * oc * h * h / aligned / 1e9:F0} GFLOP/s), {offset} bytes past {shifted * 1e6,7:F2} us ({shifted / aligned:F2}x){(same ? "" : " OUTPUTS DIFFER")}");
                }
            }
        }

        // "blocked single": one 1x1 layer from NCHW to NCHW, the NCHW kernel (PointwiseConvolution) against the channel-blocked
        // one (a chain of one layer: input read in place, output blocked into staging, then turned), every array on a 64-byte
        // boundary, thread CPU, best of interleaved rounds in both orders (the bottlenecks' and MobileNets' shapes).
        public static void Single()
        {
            var shapes = Shapes(new (int C, int H, int OC)[] { (256, 14, 64), (64, 14, 256), (256, 14, 128), (128, 7, 512), (512, 7, 128), (128, 14, 128), (256, 7, 256),
                    (32, 32, 64), (64, 16, 128), (16, 56, 32), (24, 28, 144), (144, 28, 32), (96, 14, 576), (576, 14, 96), (512, 4, 512), (64, 56, 64), (16, 32, 96),
                    (320, 7, 1280), (960, 7, 320), (160, 7, 960), (16, 112, 96), (32, 112, 16), (96, 56, 24), (144, 56, 24),
                    (256, 56, 64), (64, 56, 256), (256, 56, 128), (512, 28, 128), (128, 28, 512), (1024, 14, 256), (256, 14, 1024), (2048, 7, 512), (512, 7, 2048) });
            // BLOCKED_COLD=1: each call reads and writes the next of enough copies of x and y to pass 96 MB, so the maps come
            // from the L3 or memory, as in a network whose maps outgrow the L2.
            bool cold = Environment.GetEnvironmentVariable("BLOCKED_COLD") == "1";
            bool blockedPrefetch = Environment.GetEnvironmentVariable("BLOCKED_AGAINST") == "blocked-prefetch";
            bool againstPrefetch = blockedPrefetch || Environment.GetEnvironmentVariable("BLOCKED_AGAINST") == "prefetch";
            Console.WriteLine($"load {System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]}; thread CPU us, NCHW / blocked (> 1: blocked faster){(cold ? "; maps cold" : "")}");
            foreach (var (c, h, oc) in shapes)
            {
                int cells = h * h;
                int copies = cold ? Math.Max(2, (96 << 20) / ((c + oc) * cells * 4)) : 1;
                var xs = new AlignedBuffer[copies];
                AlignedBuffer[] y1s = new AlignedBuffer[copies], y2s = new AlignedBuffer[copies];
                for (int k = 0; k < copies; k++)
                {
                    xs[k] = new AlignedBuffer(c * cells); Program.Fill(c * cells, 1).CopyTo(xs[k].AsSpan());
                    y1s[k] = new AlignedBuffer(oc * cells); y2s[k] = new AlignedBuffer(oc * cells);
                }
                int lanes = ChannelBlocks.BlockLanes(oc); // a partly filled last block: zero weights and bias in its other lanes
                float[] w = Program.Fill(oc * c, 2), bias = new float[lanes];
                Program.Fill(oc, 3).CopyTo(bias, 0);
                var weights = new AlignedBuffer(oc * c); w.CopyTo(weights.AsSpan());
                var packed = new AlignedBuffer(lanes * c); ChannelBlocks.PackPointwise(w, c, oc, packed);
                var staging = new AlignedBuffer(lanes * cells);
                int nchwTurn = 0, blockedTurn = 0;
                void Nchw()
                {
                    int k = nchwTurn++ % copies;
                    if (blockedPrefetch) ChannelBlocks.Pointwise(xs[k], false, c, h, h, packed, bias, oc, y1s[k], true, staging, 0f, float.PositiveInfinity);
                    else PointwiseConvolution.Forward(xs[k], c, cells, weights, bias.AsSpan(0, oc), oc, y1s[k], 0f, float.PositiveInfinity);
                }
                void Blocked()
                {
                    int k = blockedTurn++ % copies;
                    if (!againstPrefetch) ChannelBlocks.Pointwise(xs[k], false, c, h, h, packed, bias, oc, y2s[k], true, staging, 0f, float.PositiveInfinity);
                    else if (blockedPrefetch)
                    {
                        // BLOCKED_AGAINST=blocked-prefetch: the blocked kernel without its NCHW input's prefetches (the first column runs it with them).
                        ChannelBlocks.PrefetchInput = false;
                        ChannelBlocks.Pointwise(xs[k], false, c, h, h, packed, bias, oc, y2s[k], true, staging, 0f, float.PositiveInfinity);
                        ChannelBlocks.PrefetchInput = true;
                    }
                    else
                    {
                        // BLOCKED_AGAINST=prefetch: in place of the blocked kernel, the NCHW one without its block copies' prefetches.
                        PointwiseConvolution.PrefetchBlocks = false;
                        PointwiseConvolution.Forward(xs[k], c, cells, weights, bias.AsSpan(0, oc), oc, y2s[k], 0f, float.PositiveInfinity);
                        PointwiseConvolution.PrefetchBlocks = true;
                    }
                }
                Nchw(); Blocked();
                double largest = 0;
                for (int i = 0; i < oc * cells; i++) largest = Math.Max(largest, Math.Abs(y1s[0][i] - y2s[0][i]));
                var (a, b) = Program.InterleavedCpu(Nchw, Blocked);
                var (b2, a2) = Program.InterleavedCpu(Blocked, Nchw);
                Console.WriteLine($"  1x1 {c} -> {oc} @{h}x{h}: NCHW {a * 1e6,7:F2} blocked {b * 1e6,7:F2} ({a / b:F2}x); other order {a2 * 1e6,7:F2} / {b2 * 1e6,7:F2} ({a2 / b2:F2}x); {2.0 * c * oc * cells / Math.Min(a, a2) / 1e9:F0} / {2.0 * c * oc * cells / Math.Min(b, b2) / 1e9:F0} GFLOP/s; differ by {largest:E1}");
            }
        }

        // "blocked five": inverted residuals through 5x5 depthwise layers (MobileNetV3's and MnasNet's: 1x1 expansion, 5x5
        // depthwise at stride 1 or 2, 1x1 projection to NCHW, ReLU6 after the first two), the NCHW kernels against the
        // channel-blocked chain, thread CPU, best of interleaved rounds in both orders; then the depthwise layer alone both ways.
        // The last rows: expansions onto channels off the blocks (72, 120, 48: the last block partly filled), 3x3 and 5x5.
        public static void Five()
        {
            // input channels, map, expansion, depthwise stride, projection
            var chains = new (int C, int H, int E, int S, int P, int K, int D)[]
            {
                (40, 16, 240, 2, 80, 5, 1), (80, 8, 480, 1, 80, 5, 1), (40, 16, 240, 1, 40, 5, 1), (24, 32, 144, 2, 40, 5, 1), (16, 32, 96, 1, 16, 5, 1), (80, 4, 480, 1, 80, 5, 1),
                (40, 12, 240, 1, 40, 5, 1), (40, 12, 240, 2, 80, 5, 1),
                (24, 16, 72, 2, 40, 5, 1), (40, 8, 120, 1, 40, 5, 1), (16, 32, 72, 2, 40, 5, 1), (24, 16, 72, 1, 24, 3, 1), (16, 32, 48, 2, 24, 3, 1), (40, 8, 120, 1, 40, 3, 1),
            };
            Chains(chains);
        }

        // "blocked dilated": inverted residuals through dilated depthwise layers (DeepLab-style MobileNetV2 tails: 3x3 at
        // dilation 2 to 4, padded to keep the map), the NCHW kernels (GroupedConvolution's, as the generated code calls them)
        // against the channel-blocked chain.
        public static void Dilated() => Chains(new (int C, int H, int E, int S, int P, int K, int D)[]
        {
            (24, 8, 96, 1, 24, 3, 2), (32, 8, 192, 1, 32, 3, 2), (16, 16, 64, 1, 16, 3, 2), (64, 16, 384, 1, 64, 3, 2), (32, 8, 192, 1, 32, 3, 4), (24, 16, 144, 1, 24, 3, 2),
            (24, 8, 96, 1, 24, 5, 2), (40, 12, 240, 1, 40, 3, 2), (32, 32, 192, 1, 32, 3, 2),
        });

        private static void Chains((int C, int H, int E, int S, int P, int K, int D)[] chains)
        {
            var path = DirectConvolution.KernelPath.Vector512;
            Console.WriteLine($"load {System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]}; thread CPU us, NCHW / blocked (> 1: blocked faster)");
            foreach (var (c, h, e, s, pc, k, d) in chains)
            {
                int oh = (h - 1) / s + 1, cells = h * h, outCells = oh * oh, lanes = ChannelBlocks.BlockLanes(e), taps = k * k, pad = d * (k / 2);
                // Every array on a 64-byte boundary, as the workspace's are.
                var x = Aligned(Program.Fill(c * cells, 1)); var w1 = Aligned(Program.Fill(e * c, 2)); var wd = Aligned(Program.Fill(e * taps, 4)); var w2 = Aligned(Program.Fill(pc * e, 6));
                float[] b1 = new float[lanes], bd = new float[lanes], b2 = new float[ChannelBlocks.BlockLanes(pc)];
                Program.Fill(e, 3).CopyTo(b1, 0); Program.Fill(e, 5).CopyTo(bd, 0); Program.Fill(pc, 7).CopyTo(b2, 0);
                AlignedBuffer p1 = new(lanes * c), pd = new(lanes * taps), p2 = new(ChannelBlocks.BlockLanes(pc) * e);
                ChannelBlocks.PackPointwise(w1, c, e, p1); ChannelBlocks.PackDepthwise(wd, e, pd, kernel: k); ChannelBlocks.PackPointwise(w2, e, pc, p2);
                var g = new ConvolutionGeometry(e, h, h, e, k, k, s, s, pad, pad, d, d, e);
                var expanded = new AlignedBuffer(e * cells); var depthwise = new AlignedBuffer(e * outCells);
                var columns = new AlignedBuffer(Math.Max(DepthwiseConvolution.ScratchLength(g), GroupedConvolution.ScratchLength(g)));
                var nchwOut = new AlignedBuffer(pc * outCells); var blockedOut = new AlignedBuffer(pc * outCells);
                var padded = new AlignedBuffer(Math.Max(ChannelBlocks.PaddedLength(lanes, h, h, pad), ChannelBlocks.BlockLanes(pc) * outCells));
                var blocked = new AlignedBuffer(lanes * outCells);
                void Nchw()
                {
                    PointwiseConvolution.Forward(x, c, cells, w1, b1.AsSpan(0, e), e, expanded, 0f, 6f);
                    NchwDepthwise();
                    PointwiseConvolution.Forward(depthwise, e, outCells, w2, b2.AsSpan(0, pc), pc, nchwOut);
                }
                void NchwDepthwise()
                {
                    if (d == 1) DepthwiseConvolution.Forward(g, expanded, wd, bd.AsSpan(0, e), depthwise, columns, path, 0f, 6f);
                    else GroupedConvolution.Forward(g, expanded, wd, bd.AsSpan(0, e), depthwise, columns, 0f, 6f);
                }
                void Blocked()
                {
                    ChannelBlocks.Pointwise(x, false, c, h, h, p1, b1, e, padded, false, default, 0f, 6f, padding: pad);
                    ChannelBlocks.Depthwise(padded, e, h, h, s, pd, bd, blocked, 0f, 6f, kernel: k, dilation: d);
                    ChannelBlocks.Pointwise(blocked, true, e, oh, oh, p2, b2, pc, blockedOut, true, padded);
                }
                Nchw(); Blocked();
                double largest = 0;
                for (int i = 0; i < nchwOut.Length; i++) largest = Math.Max(largest, Math.Abs(nchwOut[i] - blockedOut[i]));
                var (a, b) = Program.InterleavedCpu(Nchw, Blocked);
                var (b2t, a2) = Program.InterleavedCpu(Blocked, Nchw);
                Console.WriteLine($"  {c} -> {e} @{h}x{h}, {k}x{k} stride {s}{(d > 1 ? " dilation " + d : "")}, -> {pc}: NCHW {a * 1e6,7:F2} blocked {b * 1e6,7:F2} ({a / b:F2}x); other order {a2 * 1e6,7:F2} / {b2t * 1e6,7:F2} ({a2 / b2t:F2}x); differ by {largest:E1}");
                ChannelBlocks.Pointwise(x, false, c, h, h, p1, b1, e, padded, false, default, 0f, 6f, padding: pad);
                var (da, db) = Program.InterleavedCpu(NchwDepthwise, () => ChannelBlocks.Depthwise(padded, e, h, h, s, pd, bd, blocked, 0f, 6f, kernel: k, dilation: d));
                Console.WriteLine($"    the depthwise layer alone: NCHW {da * 1e6,7:F2} blocked {db * 1e6,7:F2} ({da / db:F2}x)");
                var (ea, eb) = Program.InterleavedCpu(() => PointwiseConvolution.Forward(x, c, cells, w1, b1.AsSpan(0, e), e, expanded, 0f, 6f),
                    () => ChannelBlocks.Pointwise(x, false, c, h, h, p1, b1, e, padded, false, default, 0f, 6f, padding: pad));
                var (pa, pb) = Program.InterleavedCpu(() => PointwiseConvolution.Forward(depthwise, e, outCells, w2, b2.AsSpan(0, pc), pc, nchwOut),
                    () => ChannelBlocks.Pointwise(blocked, true, e, oh, oh, p2, b2, pc, blockedOut, true, padded));
                Console.WriteLine($"    the expansion alone: NCHW {ea * 1e6,7:F2} blocked {eb * 1e6,7:F2} ({ea / eb:F2}x); the projection alone: NCHW {pa * 1e6,7:F2} blocked {pb * 1e6,7:F2} ({pa / pb:F2}x)");
            }
        }

        // values copied into the library's 64-byte-aligned array.
        private static AlignedBuffer Aligned(float[] values)
        {
            var buffer = new AlignedBuffer(values.Length);
            values.CopyTo(buffer.AsSpan());
            return buffer;
        }

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
