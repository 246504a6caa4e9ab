using System;
using CnnGen.Kernels;

namespace KernelBench
{
    // "pointwise-training": a training pass's 1x1 stride-1 layer on one sample, as the generated code ran it (im2col-free
    // GEMM, y = weight · x, its B operand packed per call) against PointwiseConvolution (no packing, the bias in the
    // accumulators), for the forward (y = W·x + b) and the input gradient (dx = Wᵀ·dy: the GEMM transposing A, against
    // PointwiseConvolution on Wᵀ transposed once per pass, the copy not timed). Thread CPU µs, best of interleaved rounds.
    public static class PointwiseTraining
    {
        public static void Run(string? prefix)
        {
            var shapes = new (int C, int H, int OC)[]
            {
                (32, 32, 64), (64, 16, 128), (128, 16, 128), (128, 8, 256), (256, 8, 256), (16, 32, 64), (64, 32, 16),
                (16, 16, 96), (96, 8, 24), (24, 8, 96), (96, 16, 24), (64, 8, 64), (256, 4, 512), (512, 4, 512), (128, 14, 256),
                (256, 7, 512), (64, 56, 64), (32, 28, 192), (192, 28, 32), (1024, 2, 1024), (40, 10, 240), (512, 14, 128),
            };
            Console.WriteLine($"{"1x1 C x H x H -> OC",-22} {"fwd GEMM",9} {"pointwise",10} {"x",6} {"dx GEMM",9} {"pointwise",10} {"x",6} {"bwd/sample",11} {"over batch",11} {"x",6}");
            foreach (var s in shapes)
            {
                string name = $"{s.C}x{s.H}x{s.H} -> {s.OC}";
                if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                int cells = s.H * s.H;
                float[] x = Program.Fill(s.C * cells, 1), w = Program.Fill(s.OC * s.C, 2), bias = Program.Fill(s.OC, 3), y = new float[s.OC * cells];
                float[] dy = Program.Fill(s.OC * cells, 4), dx = new float[s.C * cells], wt = new float[s.C * s.OC];
                for (int oc = 0; oc < s.OC; oc++) for (int c = 0; c < s.C; c++) wt[c * s.OC + oc] = w[oc * s.C + c];
                void ForwardGemm()
                {
                    Gemm.Multiply(false, false, s.OC, cells, s.C, w, s.C, x, cells, y, cells, accumulate: false);
                    for (int oc = 0; oc < s.OC; oc++) Elementwise.AddScalar(y.AsSpan(oc * cells, cells), bias[oc]);
                }
                void ForwardPointwise() => PointwiseConvolution.Forward(x, s.C, cells, w, bias, s.OC, y);
                void InputGemm() => Gemm.Multiply(true, false, s.C, cells, s.OC, w, s.C, dy, cells, dx, cells, accumulate: false);
                void InputPointwise() => PointwiseConvolution.Forward(dy, s.OC, cells, wt, default, s.C, dx);
                var (f0, f1) = Program.InterleavedCpu(ForwardGemm, ForwardPointwise);
                var (i0, i1) = Program.InterleavedCpu(InputGemm, InputPointwise);
                // Both gradients of a batch of 16: per sample (d weight by GEMM, dx by GEMM or by the tiles on weightᵀ) against
                // DirectConvolution.BackwardOverBatch (a group's cells side by side as one GEMM's depth).
                const int batch = 16;
                float[] xs = Program.Fill(batch * s.C * cells, 5), dys = Program.Fill(batch * s.OC * cells, 6), dw = new float[s.OC * s.C], dxs = new float[batch * s.C * cells];
                float[] scratch = new float[DirectConvolution.BackwardOverBatchScratch(s.C, s.H, s.H, s.OC, 1, 0)];
                void PerSample()
                {
                    for (int n = 0; n < batch; n++)
                    {
                        var xn = xs.AsSpan(n * s.C * cells, s.C * cells);
                        var dyn = dys.AsSpan(n * s.OC * cells, s.OC * cells);
                        Gemm.Multiply(false, true, s.OC, s.C, cells, dyn, cells, xn, cells, dw, s.C, accumulate: true);
                        PointwiseConvolution.InputGradient(dyn, s.OC, cells, wt, s.C, dxs.AsSpan(n * s.C * cells, s.C * cells));
                    }
                }
                void OverBatch() => DirectConvolution.BackwardOverBatch(xs, batch, s.C, s.H, s.H, w, dys, s.OC, 1, 0, dw, dxs, scratch);
                var (b0, b1) = Program.InterleavedCpu(PerSample, OverBatch);
                Console.WriteLine($"{name,-22} {f0 * 1e6,9:F2} {f1 * 1e6,10:F2} {f0 / f1,5:F2}x {i0 * 1e6,9:F2} {i1 * 1e6,10:F2} {i0 / i1,5:F2}x {b0 * 1e6 / batch,11:F2} {b1 * 1e6 / batch,11:F2} {b0 / b1,5:F2}x");
            }
        }
    }
}
