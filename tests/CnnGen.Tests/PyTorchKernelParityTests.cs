using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Kernels;
using CnnGen.Tests.Infrastructure;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The newer kernels against values recorded from PyTorch 1.13 by tests/fixtures/make_kernel_fixtures.py
    /// (kernels.safetensors): forward outputs and every gradient, to 1e-5, on every path.
    /// </summary>
    public sealed class PyTorchKernelParityTests
    {
        private static readonly Lazy<SafeTensorsFile> s_fixture = new(() =>
            SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "pytorch", "kernels.safetensors")));

        private static SafeTensorsFile Fixture => s_fixture.Value;

        private static int[] Geometry(string name) => Fixture.Metadata[name].Split(',').Select(int.Parse).ToArray();

        private static IEnumerable<string> Cases(string prefix) =>
            Fixture.Metadata.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && char.IsDigit(k[prefix.Length])).OrderBy(k => k, StringComparer.Ordinal);

        public static IEnumerable<object[]> Paths() => DirectConvolutionTests.Paths();

        private static void Close(ReadOnlySpan<float> actual, string key, string what) => Compare.Close(actual, Fixture.GetFloats(key), 1e-5, what + " " + key);

        [Theory]
        [MemberData(nameof(Paths))]
        public void Convolution_MatchesPyTorch(string pathName)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int count = 0;
            foreach (string name in Cases("conv"))
            {
                int[] p = Geometry(name);
                var g = new ConvolutionGeometry(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]);
                bool bias = p[13] == 1;
                float[] x = Fixture.GetFloats(name + ".x"), w = Fixture.GetFloats(name + ".weight");
                float[] b = bias ? Fixture.GetFloats(name + ".bias") : Array.Empty<float>();
                float[] scratch = new float[GroupedConvolution.ScratchLength(g)], y = new float[g.OutLength];
                GroupedConvolution.ForwardOn(g, x, w, b, y, scratch, path);
                Close(y, name + ".y", path.ToString());
                float[] dW = new float[g.WeightLength], dB = bias ? new float[g.OutChannels] : Array.Empty<float>(), dX = new float[g.InLength];
                GroupedConvolution.BackwardOn(g, x, w, Fixture.GetFloats(name + ".dy"), dW, dB, dX, scratch, path);
                Close(dX, name + ".dx", path.ToString());
                Close(dW, name + ".dweight", path.ToString());
                if (bias) Close(dB, name + ".dbias", path.ToString());
                count++;
            }
            Assert.Equal(5, count);
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void TransposedConvolution_MatchesPyTorch(string pathName)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int count = 0;
            foreach (string name in Cases("convt"))
            {
                int[] p = Geometry(name);
                var g = new TransposedConvolutionGeometry(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]);
                float[] x = Fixture.GetFloats(name + ".x"), w = Fixture.GetFloats(name + ".weight"), b = Fixture.GetFloats(name + ".bias");
                float[] scratch = new float[TransposedConvolution.ScratchLength(g)], y = new float[g.OutLength];
                TransposedConvolution.ForwardOn(g, x, w, b, y, scratch, path);
                Close(y, name + ".y", path.ToString());
                float[] dW = new float[g.WeightLength], dB = new float[g.OutChannels], dX = new float[g.InLength];
                TransposedConvolution.BackwardOn(g, x, w, Fixture.GetFloats(name + ".dy"), dW, dB, dX, scratch, path);
                Close(dX, name + ".dx", path.ToString());
                Close(dW, name + ".dweight", path.ToString());
                Close(dB, name + ".dbias", path.ToString());
                count++;
            }
            Assert.Equal(3, count);
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void ResamplingAndAdaptivePooling_MatchPyTorch(string pathName)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int count = 0;
            foreach (string prefix in new[] { "nearest", "bilinear", "adaptive" })
            {
                foreach (string name in Cases(prefix))
                {
                    int[] p = Geometry(name);
                    int c = p[0], h = p[1], w = p[2], a = p[3], b = p[4];
                    float[] x = Fixture.GetFloats(name + ".x"), dy = Fixture.GetFloats(name + ".dy");
                    float[] y = new float[Fixture.GetFloats(name + ".y").Length], dx = new float[x.Length];
                    switch (prefix)
                    {
                        case "nearest":
                            Resampling.UpsampleNearestOn(x, c, h, w, a, b, y, path);
                            Resampling.UpsampleNearestBackwardOn(dy, c, h, w, a, b, dx, path);
                            break;
                        case "bilinear":
                            Resampling.UpsampleBilinearOn(x, c, h, w, a, b, y, path);
                            Resampling.UpsampleBilinearBackwardOn(dy, c, h, w, a, b, dx, path);
                            break;
                        default:
                            Resampling.AdaptiveAvgPoolOn(x, c, h, w, a, b, y, path);
                            Resampling.AdaptiveAvgPoolBackwardOn(dy, c, h, w, a, b, dx, path);
                            break;
                    }
                    Close(y, name + ".y", path.ToString());
                    Close(dx, name + ".dx", path.ToString());
                    count++;
                }
            }
            Assert.Equal(10, count);
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void AveragePooling_MatchesPyTorch(string pathName)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            int count = 0;
            foreach (string name in Cases("avgpool"))
            {
                int[] p = Geometry(name);
                int c = p[0], h = p[1], w = p[2], kernel = p[3], stride = p[4], padding = p[5];
                float[] x = Fixture.GetFloats(name + ".x"), dy = Fixture.GetFloats(name + ".dy");
                float[] y = new float[Fixture.GetFloats(name + ".y").Length], dx = new float[x.Length];
                Pooling.AvgPoolOn(x, c, h, w, kernel, stride, padding, y, path);
                Pooling.AvgPoolBackwardOn(dy, c, h, w, kernel, stride, padding, dx, path);
                Close(y, name + ".y", path.ToString());
                Close(dx, name + ".dx", path.ToString());
                count++;
            }
            Assert.Equal(6, count);
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void Activations_MatchPyTorch(string pathName)
        {
            var path = Enum.Parse<DirectConvolution.KernelPath>(pathName);
            foreach (string name in new[] { "relu6", "hardswish", "silu", "gelu", "gelu_tanh" })
            {
                float[] x = Fixture.GetFloats(name + ".x"), dy = Fixture.GetFloats(name + ".dy");
                float[] y = new float[x.Length], dx = new float[x.Length];
                switch (name)
                {
                    case "relu6": Activations.Relu6On(x, y, path); Activations.Relu6BackwardOn(x, dy, dx, path); break;
                    case "hardswish": Activations.HardswishOn(x, y, path); Activations.HardswishBackwardOn(x, dy, dx, path); break;
                    case "silu": Activations.SiluOn(x, y, path); Activations.SiluBackwardOn(x, dy, dx, path); break;
                    case "gelu": Activations.GeluOn(x, y, false, path); Activations.GeluBackwardOn(x, dy, dx, false, path); break;
                    default: Activations.GeluOn(x, y, true, path); Activations.GeluBackwardOn(x, dy, dx, true, path); break;
                }
                Close(y, name + ".y", path.ToString());
                Close(dx, name + ".dx", path.ToString());
            }
        }

        [Fact]
        public void PixelCrossEntropy_MatchesPyTorch()
        {
            int[] p = Geometry("pixel_ce");
            float[] logits = Fixture.GetFloats("pixel_ce.logits");
            int[] labels = Fixture.GetInt64s("pixel_ce.target").Select(v => (int)v).ToArray();
            float[] gradient = new float[logits.Length];
            float loss = Losses.PixelCrossEntropy(logits, labels, p[1], p[2], p[3], gradient);
            Compare.Close(new[] { loss }, Fixture.GetFloats("pixel_ce.loss"), 1e-5, "loss");
            Close(gradient, "pixel_ce.dlogits", "gradient");
        }
    }
}
