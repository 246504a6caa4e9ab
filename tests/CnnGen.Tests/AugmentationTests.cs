using System;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Data;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Each augmentation transform against its definition, and the pipeline's reproducibility and allocations.</summary>
    public sealed class AugmentationTests
    {
        private const int C = 2, H = 9, W = 11;

        private static float[] RandomImage(ulong seed, int length = C * H * W)
        {
            var random = new CnnRandom(seed);
            var image = new float[length];
            for (int i = 0; i < image.Length; i++) image[i] = random.NextFloat();
            return image;
        }

        private static float At(float[] image, int c, int y, int x, float fill = 0) =>
            (uint)y < H && (uint)x < W ? image[(c * H + y) * W + x] : fill;

        /// <summary>Applies one transform with the stream the pipeline would use, and returns a copy of that stream from before.</summary>
        private static (float[] Output, CnnRandom Draws) Run(ImageTransform transform, float[] input, int epoch, long index)
        {
            var pipeline = new ImageAugmentation(C, H, W, 42, transform);
            var output = new float[input.Length];
            pipeline.Apply(input, output, epoch, index);
            return (output, pipeline.RandomFor(epoch, index));
        }

        [Fact]
        public void RandomCropIsAShiftWithFilledBorder_OverEveryOffset()
        {
            var input = RandomImage(1);
            var seen = new bool[5, 5];
            for (int index = 0; index < 400; index++)
            {
                var (output, draws) = Run(new RandomCrop(2, fill: -1), input, 0, index);
                int i = draws.NextInt(5), j = draws.NextInt(5);
                seen[i, j] = true;
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++)
                            Assert.Equal(At(input, c, y + i - 2, x + j - 2, -1), output[(c * H + y) * W + x]);
            }
            Assert.All(Enumerable.Range(0, 25), k => Assert.True(seen[k / 5, k % 5], $"offset {k / 5},{k % 5} never drawn"));
        }

        [Fact]
        public void HorizontalFlipMirrorsWithItsProbability()
        {
            var input = RandomImage(2);
            int flipped = 0;
            for (int index = 0; index < 2000; index++)
            {
                var (output, draws) = Run(new HorizontalFlip(0.3), input, 1, index);
                bool mirror = draws.NextDouble() < 0.3;
                if (mirror) flipped++;
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++)
                            Assert.Equal(At(input, c, y, mirror ? W - 1 - x : x), output[(c * H + y) * W + x]);
            }
            Assert.InRange(flipped, 520, 680); // 600 expected
        }

        /// <summary>The definition, evaluated independently: the inverse map of each output pixel, bilinear over the input with fill outside.</summary>
        private static float Expected(float[] input, int c, int y, int x, double degrees, double scale, float fill)
        {
            double t = degrees * Math.PI / 180, cx = (W - 1) / 2.0, cy = (H - 1) / 2.0;
            // Output pixel p = centre + R(θ)·s·(q - centre) for input point q, R counter-clockwise on screen (y down):
            // R(θ) = [[cos, sin], [-sin, cos]]; so q = centre + R(-θ)·(p - centre) / s.
            double px = (x - cx) / scale, py = (y - cy) / scale;
            double u = cx + Math.Cos(t) * px - Math.Sin(t) * py, v = cy + Math.Sin(t) * px + Math.Cos(t) * py;
            int u0 = (int)Math.Floor(u), v0 = (int)Math.Floor(v);
            double fu = u - u0, fv = v - v0;
            return (float)((1 - fv) * ((1 - fu) * At(input, c, v0, u0, fill) + fu * At(input, c, v0, u0 + 1, fill))
                + fv * ((1 - fu) * At(input, c, v0 + 1, u0, fill) + fu * At(input, c, v0 + 1, u0 + 1, fill)));
        }

        [Theory]
        [InlineData(30.0, 1.0, 1)]
        [InlineData(0.0, 1.3, 2)]
        [InlineData(15.0, 0.8, 3)]
        public void RandomAffineIsTheBilinearInverseMapAboutTheCentre(double maxDegrees, double maxScale, int seed)
        {
            var input = RandomImage((ulong)seed);
            var transform = new RandomAffine(maxDegrees, Math.Min(1, maxScale), Math.Max(1, maxScale), fill: 0.25f);
            for (int index = 0; index < 50; index++)
            {
                var (output, draws) = Run(transform, input, 0, index);
                double degrees = maxDegrees > 0 ? (2 * draws.NextDouble() - 1) * maxDegrees : 0;
                double scale = transform.MinScale + (transform.MaxScale - transform.MinScale) * draws.NextDouble();
                Assert.InRange(degrees, -maxDegrees, maxDegrees);
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++)
                            Assert.Equal(Expected(input, c, y, x, degrees, scale, 0.25f), output[(c * H + y) * W + x], 1e-5f);
            }
        }

        [Fact]
        public void QuarterTurnIsCounterClockwise_AndFourOfThemAreTheIdentity()
        {
            const int n = 7;
            var input = RandomImage(9, n * n);
            var image = (float[])input.Clone();
            var scratch = new float[n * n];
            RandomAffine.Transform(image, scratch, 1, n, n, 90, 1, 0);
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                    Assert.Equal(input[x * n + (n - 1 - y)], image[y * n + x], 1e-5f); // the top-right corner comes to the top-left
            for (int k = 0; k < 3; k++) RandomAffine.Transform(image, scratch, 1, n, n, 90, 1, 0);
            for (int i = 0; i < input.Length; i++) Assert.Equal(input[i], image[i], 1e-5f);
        }

        [Fact]
        public void BrightnessThenContrastFollowTheirFormulas()
        {
            var input = RandomImage(4);
            for (int index = 0; index < 200; index++)
            {
                var (output, draws) = Run(new BrightnessContrast(0.4, 0.5), input, 2, index);
                float b = (float)(0.6 + 0.8 * draws.NextDouble());
                float k = (float)(0.5 + 1.0 * draws.NextDouble());
                var bright = input.Select(v => Math.Clamp(v * b, 0f, 1f)).ToArray();
                float mean = (float)(bright.Sum(v => (double)v) / bright.Length);
                for (int i = 0; i < input.Length; i++) Assert.Equal(Math.Clamp(mean + k * (bright[i] - mean), 0f, 1f), output[i], 1e-6f);
            }
        }

        [Fact]
        public void RandomErasingBlanksOneRectangleOfTheDrawnSize()
        {
            var input = RandomImage(5);
            var transform = new RandomErasing(0.5, 0.05, 0.3, 0.5, 2.0, value: -3f);
            int erased = 0;
            for (int index = 0; index < 1000; index++)
            {
                var (output, draws) = Run(transform, input, 0, index);
                bool apply = draws.NextDouble() < 0.5;
                var rectangle = apply ? transform.Rectangle(H, W, ref draws) : null;
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++)
                        {
                            bool inside = rectangle is var (top, left, h, w) && y >= top && y < top + h && x >= left && x < left + w;
                            Assert.Equal(inside ? -3f : At(input, c, y, x), output[(c * H + y) * W + x]);
                        }
                if (rectangle is var (_, _, rh, rw))
                {
                    erased++;
                    // round(√(s·A·r)) x round(√(s·A/r)): the area within rounding of [0.05, 0.3]·A.
                    double s = (double)rh * rw / (H * W);
                    Assert.InRange(s, 0.01, 0.45);
                    Assert.InRange(rh, 1, H - 1);
                    Assert.InRange(rw, 1, W - 1);
                }
            }
            Assert.InRange(erased, 400, 520); // about half (an attempt that never fits leaves the image)
        }

        [Fact]
        public void PipelineIsReproduciblePerEpochAndIndex_WhateverTheThreads_AndAllocatesNothing()
        {
            const int images = 64, length = 28 * 28;
            var data = RandomImage(6, images * length);
            var pipeline = new ImageAugmentation(1, 28, 28, 7, new RandomCrop(2), new HorizontalFlip(), RandomAffine.Rotation(10),
                RandomAffine.Scale(0.9, 1.1), new BrightnessContrast(0.2, 0.2), new RandomErasing());
            var indices = Enumerable.Range(0, images).Reverse().ToArray();
            var sequential = new float[images * length];
            pipeline.ApplyBatch(data, indices, sequential, epoch: 3);

            var parallel = new float[images * length];
            Parallel.For(0, images, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
                pipeline.Apply(data.AsSpan(indices[k] * length, length), parallel.AsSpan(k * length, length), 3, indices[k]));
            Assert.Equal(sequential, parallel);

            var nextEpoch = new float[images * length];
            pipeline.ApplyBatch(data, indices, nextEpoch, epoch: 4);
            Assert.NotEqual(sequential, nextEpoch);
            Assert.NotEqual(data.AsSpan(indices[0] * length, length).ToArray(), sequential.AsSpan(0, length).ToArray());

            Allocations.AssertNone(() => pipeline.ApplyBatch(data, indices, sequential, epoch: 3), calls: 10);
            Assert.Equal("crop(padding 2) + flip(p 0.5) + rotate(±10°) + scale(0.9-1.1) + brightness ±0.2, contrast ±0.2 + erase(p 0.5, area 0.02-0.33)", pipeline.ToString());
        }

        [Fact]
        public void BadArgumentsAreRefused()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCrop(-1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new HorizontalFlip(1.5));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(200));
            Assert.Throws<ArgumentOutOfRangeException>(() => RandomAffine.Scale(1.2, 1.1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new BrightnessContrast(double.NaN, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomErasing(minArea: 0));
            var pipeline = new ImageAugmentation(1, 4, 4, 0, new HorizontalFlip());
            Assert.Throws<ArgumentException>(() => pipeline.Apply(new float[15], new float[16], 0, 0));
        }
    }
}
