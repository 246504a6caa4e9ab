using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Data
{
    /// <summary>
    /// One random image transform of an <see cref="ImageAugmentation"/> pipeline. It draws its random numbers from the
    /// stream it is given (one stream per image) and writes the transformed image in place; <c>scratch</c> is a buffer of
    /// the image's length it may use. Images are C x H x W floats (one sample of an NCHW batch), pixels usually in [0, 1].
    /// </summary>
    public abstract class ImageTransform
    {
        /// <summary>Transforms <paramref name="image"/> (<paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>) in place.</summary>
        public abstract void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random);

        /// <summary>Short description, e.g. <c>crop(padding 2)</c>.</summary>
        public abstract override string ToString();

        private protected static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A composition of random transforms applied in order, as torchvision's <c>Compose</c>. Each image's randomness is
    /// drawn from a stream seeded by (seed, epoch, the image's index in the data set), so an epoch's augmented images are
    /// the same whatever the batch order, batch size or number of threads augmenting them; a new epoch draws anew.
    /// Thread-safe (the pipeline holds no per-call state); allocates nothing per image or batch (the scratch buffer is on
    /// the stack for images up to 16,384 floats, rented from the shared pool above).
    /// </summary>
    public sealed class ImageAugmentation
    {
        private const int StackLimit = 16_384;
        private readonly ImageTransform[] _transforms;

        public ImageAugmentation(int channels, int height, int width, ulong seed, params ImageTransform[] transforms)
        {
            if (channels <= 0 || height <= 0 || width <= 0)
                throw new ArgumentOutOfRangeException(nameof(channels), $"An image must have positive channels, height and width; got {channels}x{height}x{width}.");
            ArgumentNullException.ThrowIfNull(transforms);
            foreach (var t in transforms) ArgumentNullException.ThrowIfNull(t, nameof(transforms));
            Channels = channels;
            Height = height;
            Width = width;
            Seed = seed;
            _transforms = (ImageTransform[])transforms.Clone();
        }

        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }
        public int ImageLength => Channels * Height * Width;
        public ulong Seed { get; }
        public IReadOnlyList<ImageTransform> Transforms => _transforms;
        public bool Enabled => _transforms.Length > 0;

        /// <summary>The transforms joined with " + " ("none" when there are none).</summary>
        public override string ToString() => _transforms.Length == 0 ? "none" : string.Join(" + ", Array.ConvertAll(_transforms, t => t.ToString()));

        /// <summary>
        /// Writes the augmented <paramref name="source"/> (one image) to <paramref name="target"/>; <paramref name="index"/> is
        /// the image's index in the data set (what makes its randomness its own).
        /// </summary>
        public void Apply(ReadOnlySpan<float> source, Span<float> target, int epoch, long index)
        {
            NetworkChecks.RequireLength(source.Length, ImageLength, nameof(source));
            NetworkChecks.RequireLength(target.Length, ImageLength, nameof(target));
            source.CopyTo(target);
            if (_transforms.Length == 0) return;
            var random = RandomFor(epoch, index);
            float[]? rented = null;
            Span<float> scratch = ImageLength <= StackLimit ? stackalloc float[ImageLength] : (rented = ArrayPool<float>.Shared.Rent(ImageLength)).AsSpan(0, ImageLength);
            try
            {
                foreach (var transform in _transforms) transform.Apply(target, scratch, Channels, Height, Width, ref random);
            }
            finally
            {
                if (rented is not null) ArrayPool<float>.Shared.Return(rented);
            }
        }

        /// <summary>
        /// Augments a batch: image k of <paramref name="target"/> is image <paramref name="indices"/>[k] of
        /// <paramref name="dataSet"/>, augmented. Spread over threads or not, the result is the same.
        /// </summary>
        public void ApplyBatch(ReadOnlySpan<float> dataSet, ReadOnlySpan<int> indices, Span<float> target, int epoch)
        {
            int length = ImageLength;
            NetworkChecks.RequireLength(target.Length, indices.Length * length, nameof(target));
            for (int k = 0; k < indices.Length; k++)
            {
                int i = indices[k];
                if (i < 0 || (long)(i + 1) * length > dataSet.Length)
                    throw new ArgumentOutOfRangeException(nameof(indices), i, $"Index {i} is outside the data set of {dataSet.Length / length} images.");
                Apply(dataSet.Slice(i * length, length), target.Slice(k * length, length), epoch, i);
            }
        }

        /// <summary>The random stream of image <paramref name="index"/> in <paramref name="epoch"/>.</summary>
        public CnnRandom RandomFor(int epoch, long index)
        {
            // SplitMix64-style mixing of the three numbers (CnnRandom seeds through SplitMix64 again).
            ulong z = Seed + 0x9E3779B97F4A7C15UL * ((ulong)(uint)epoch + 1);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z += 0x94D049BB133111EBUL * ((ulong)index + 1);
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return new CnnRandom(z ^ (z >> 31));
        }
    }

    /// <summary>
    /// torchvision's <c>RandomCrop(size, padding)</c> at the image's own size: pad every side with <see cref="Padding"/>
    /// pixels of <see cref="Fill"/>, crop at a random offset (i, j), each uniform in 0..2·padding. Equivalently a random
    /// shift by (dy, dx) = (padding - i, padding - j) with the uncovered border filled: out[c, y, x] = in[c, y + i - p, x + j - p].
    /// </summary>
    public sealed class RandomCrop : ImageTransform
    {
        public RandomCrop(int padding, float fill = 0)
        {
            if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "The padding cannot be negative.");
            Padding = padding;
            Fill = fill;
        }

        public int Padding { get; }
        public float Fill { get; }

        public override void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random)
        {
            int top = random.NextInt(2 * Padding + 1), left = random.NextInt(2 * Padding + 1);
            Crop(image, scratch, channels, height, width, top - Padding, left - Padding, Fill);
        }

        /// <summary>out[c, y, x] = in[c, y + dy, x + dx], or <paramref name="fill"/> outside the image.</summary>
        public static void Crop(Span<float> image, Span<float> scratch, int channels, int height, int width, int dy, int dx, float fill)
        {
            if (dy == 0 && dx == 0) return;
            image.CopyTo(scratch);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                {
                    int sy = y + dy;
                    var row = image.Slice((c * height + y) * width, width);
                    if ((uint)sy >= (uint)height)
                    {
                        row.Fill(fill);
                        continue;
                    }
                    var sourceRow = scratch.Slice((c * height + sy) * width, width);
                    for (int x = 0; x < width; x++)
                    {
                        int sx = x + dx;
                        row[x] = (uint)sx < (uint)width ? sourceRow[sx] : fill;
                    }
                }
        }

        public override string ToString() => $"crop(padding {Padding})";
    }

    /// <summary>torchvision's <c>RandomHorizontalFlip(p)</c>: with probability <see cref="Probability"/>, out[c, y, x] = in[c, y, W - 1 - x].</summary>
    public sealed class HorizontalFlip : ImageTransform
    {
        public HorizontalFlip(double probability = 0.5)
        {
            if (!(probability >= 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must lie in [0, 1].");
            Probability = probability;
        }

        public double Probability { get; }

        public override void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random)
        {
            if (random.NextDouble() >= Probability) return;
            for (int r = 0; r < channels * height; r++) image.Slice(r * width, width).Reverse();
        }

        public override string ToString() => $"flip(p {F(Probability)})";
    }

    /// <summary>
    /// Rotation and scaling about the image centre ((W - 1) / 2, (H - 1) / 2), bilinear, <see cref="Fill"/> outside:
    /// out[c, y, x] = bilinear(in[c], u, v) where (u, v) is (x, y) rotated by -angle and divided by the scale about the
    /// centre (the inverse map), a sample outside the image counting as <see cref="Fill"/>. The angle is uniform in
    /// [-<see cref="MaxDegrees"/>, <see cref="MaxDegrees"/>] (positive: counter-clockwise on screen, as torchvision), the
    /// scale uniform in [<see cref="MinScale"/>, <see cref="MaxScale"/>] (above 1: zoom in).
    /// </summary>
    public sealed class RandomAffine : ImageTransform
    {
        public RandomAffine(double maxDegrees, double minScale = 1, double maxScale = 1, float fill = 0)
        {
            if (!(maxDegrees >= 0 && maxDegrees <= 180)) throw new ArgumentOutOfRangeException(nameof(maxDegrees), maxDegrees, "The largest angle must lie in [0, 180] degrees.");
            if (!(minScale > 0 && maxScale >= minScale && double.IsFinite(maxScale))) throw new ArgumentOutOfRangeException(nameof(minScale), $"The scales must satisfy 0 < min <= max; got {minScale}, {maxScale}.");
            MaxDegrees = maxDegrees;
            MinScale = minScale;
            MaxScale = maxScale;
            Fill = fill;
        }

        /// <summary>torchvision's <c>RandomRotation(degrees)</c> with bilinear interpolation.</summary>
        public static RandomAffine Rotation(double maxDegrees, float fill = 0) => new(maxDegrees, 1, 1, fill);

        /// <summary>A random zoom about the centre, scale uniform in [min, max] (<c>RandomAffine(0, scale=(min, max))</c>).</summary>
        public static RandomAffine Scale(double minScale, double maxScale, float fill = 0) => new(0, minScale, maxScale, fill);

        public double MaxDegrees { get; }
        public double MinScale { get; }
        public double MaxScale { get; }
        public float Fill { get; }

        public override void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random)
        {
            double degrees = MaxDegrees > 0 ? (2 * random.NextDouble() - 1) * MaxDegrees : 0;
            double scale = MaxScale > MinScale ? MinScale + (MaxScale - MinScale) * random.NextDouble() : MinScale;
            Transform(image, scratch, channels, height, width, degrees, scale, Fill);
        }

        /// <summary>The deterministic core: rotate by <paramref name="degrees"/> and scale by <paramref name="scale"/> about the centre.</summary>
        public static void Transform(Span<float> image, Span<float> scratch, int channels, int height, int width, double degrees, double scale, float fill)
        {
            if (degrees == 0 && scale == 1) return;
            image.CopyTo(scratch);
            double radians = degrees * Math.PI / 180, cos = Math.Cos(radians) / scale, sin = Math.Sin(radians) / scale;
            double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
            for (int y = 0; y < height; y++)
            {
                double dy = y - cy;
                for (int x = 0; x < width; x++)
                {
                    double dx = x - cx;
                    // The inverse of a counter-clockwise rotation on screen (y down): rotate (dx, dy) the other way.
                    double u = cx + cos * dx - sin * dy;
                    double v = cy + sin * dx + cos * dy;
                    int x0 = (int)Math.Floor(u), y0 = (int)Math.Floor(v);
                    float fx = (float)(u - x0), fy = (float)(v - y0);
                    for (int c = 0; c < channels; c++)
                    {
                        var plane = scratch.Slice(c * height * width, height * width);
                        float a = Sample(plane, height, width, y0, x0, fill), b = Sample(plane, height, width, y0, x0 + 1, fill);
                        float d = Sample(plane, height, width, y0 + 1, x0, fill), e = Sample(plane, height, width, y0 + 1, x0 + 1, fill);
                        float top = a + (b - a) * fx, bottom = d + (e - d) * fx;
                        image[(c * height + y) * width + x] = top + (bottom - top) * fy;
                    }
                }
            }
        }

        private static float Sample(ReadOnlySpan<float> plane, int height, int width, int y, int x, float fill) =>
            (uint)y < (uint)height && (uint)x < (uint)width ? plane[y * width + x] : fill;

        public override string ToString() =>
            MaxScale == MinScale && MinScale == 1 ? $"rotate(±{F(MaxDegrees)}°)"
            : MaxDegrees == 0 ? $"scale({F(MinScale)}-{F(MaxScale)})"
            : $"affine(±{F(MaxDegrees)}°, scale {F(MinScale)}-{F(MaxScale)})";
    }

    /// <summary>
    /// torchvision's <c>ColorJitter(brightness, contrast)</c> for these two, in this order: brightness factor b uniform in
    /// [max(0, 1 - brightness), 1 + brightness], x = clamp(b·x, 0, 1); then contrast factor k uniform in
    /// [max(0, 1 - contrast), 1 + contrast], m = the mean of the image (over all channels; torchvision uses the grayscale
    /// mean, the same for one channel), x = clamp(m + k·(x - m), 0, 1). A factor of 0 for either skips it (no draw).
    /// </summary>
    public sealed class BrightnessContrast : ImageTransform
    {
        public BrightnessContrast(double brightness, double contrast)
        {
            if (!(brightness >= 0 && double.IsFinite(brightness))) throw new ArgumentOutOfRangeException(nameof(brightness), brightness, "The brightness range must be a finite number of 0 or more.");
            if (!(contrast >= 0 && double.IsFinite(contrast))) throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "The contrast range must be a finite number of 0 or more.");
            Brightness = brightness;
            Contrast = contrast;
        }

        public double Brightness { get; }
        public double Contrast { get; }

        public override void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random)
        {
            if (Brightness > 0)
            {
                float b = (float)Factor(Brightness, ref random);
                foreach (ref float v in image) v = Math.Clamp(v * b, 0f, 1f);
            }
            if (Contrast > 0)
            {
                float k = (float)Factor(Contrast, ref random);
                double sum = 0;
                foreach (float v in image) sum += v;
                float mean = (float)(sum / image.Length);
                foreach (ref float v in image) v = Math.Clamp(mean + k * (v - mean), 0f, 1f);
            }
        }

        private static double Factor(double range, ref CnnRandom random)
        {
            double low = Math.Max(0, 1 - range), high = 1 + range;
            return low + (high - low) * random.NextDouble();
        }

        public override string ToString() => $"brightness ±{F(Brightness)}, contrast ±{F(Contrast)}";
    }

    /// <summary>
    /// torchvision's <c>RandomErasing(p, scale, ratio, value)</c>: with probability p, up to 10 attempts draw an area
    /// fraction s uniform in [scale min, scale max] and an aspect ratio r log-uniform in [ratio min, ratio max];
    /// h = round(√(s·H·W·r)), w = round(√(s·H·W / r)); the first with h &lt; H and w &lt; W erases the rectangle at top
    /// uniform in 0..H-h, left uniform in 0..W-w, in every channel, with <see cref="Value"/>. No attempt fitting: unchanged.
    /// </summary>
    public sealed class RandomErasing : ImageTransform
    {
        public RandomErasing(double probability = 0.5, double minArea = 0.02, double maxArea = 0.33, double minRatio = 0.3, double maxRatio = 3.3, float value = 0)
        {
            if (!(probability >= 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must lie in [0, 1].");
            if (!(minArea > 0 && maxArea >= minArea && maxArea <= 1)) throw new ArgumentOutOfRangeException(nameof(minArea), $"The area fractions must satisfy 0 < min <= max <= 1; got {minArea}, {maxArea}.");
            if (!(minRatio > 0 && maxRatio >= minRatio && double.IsFinite(maxRatio))) throw new ArgumentOutOfRangeException(nameof(minRatio), $"The aspect ratios must satisfy 0 < min <= max; got {minRatio}, {maxRatio}.");
            Probability = probability;
            MinArea = minArea;
            MaxArea = maxArea;
            MinRatio = minRatio;
            MaxRatio = maxRatio;
            Value = value;
        }

        public double Probability { get; }
        public double MinArea { get; }
        public double MaxArea { get; }
        public double MinRatio { get; }
        public double MaxRatio { get; }
        public float Value { get; }

        public override void Apply(Span<float> image, Span<float> scratch, int channels, int height, int width, ref CnnRandom random)
        {
            if (random.NextDouble() >= Probability) return;
            if (Rectangle(height, width, ref random) is not var (top, left, h, w)) return;
            for (int c = 0; c < channels; c++)
                for (int y = top; y < top + h; y++)
                    image.Slice((c * height + y) * width + left, w).Fill(Value);
        }

        /// <summary>The rectangle the draws give (after the probability draw), or null when no attempt fits.</summary>
        public (int Top, int Left, int Height, int Width)? Rectangle(int height, int width, ref CnnRandom random)
        {
            double area = (double)height * width, logLow = Math.Log(MinRatio), logHigh = Math.Log(MaxRatio);
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double target = area * (MinArea + (MaxArea - MinArea) * random.NextDouble());
                double ratio = Math.Exp(logLow + (logHigh - logLow) * random.NextDouble());
                int h = (int)Math.Round(Math.Sqrt(target * ratio)), w = (int)Math.Round(Math.Sqrt(target / ratio));
                if (h < 1 || w < 1 || h >= height || w >= width) continue;
                int top = random.NextInt(height - h + 1), left = random.NextInt(width - w + 1);
                return (top, left, h, w);
            }
            return null;
        }

        public override string ToString() => $"erase(p {F(Probability)}, area {F(MinArea)}-{F(MaxArea)})";
    }
}
