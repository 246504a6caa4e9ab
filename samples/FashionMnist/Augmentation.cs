using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Data;

namespace FashionMnist
{
    /// <summary>
    /// The <c>--augment</c> choices, built from the library's transforms (<see cref="CnnGen.Data.ImageAugmentation"/>):
    /// "none", or any of these joined with '+' (applied in this order whatever order they are given in).
    /// </summary>
    public static class AugmentationChoices
    {
        /// <summary>Each choice and what it stands for.</summary>
        public static readonly IReadOnlyList<(string Name, Func<ImageTransform> Create, string Description)> All = new (string, Func<ImageTransform>, string)[]
        {
            ("shift", () => new RandomCrop(2), "random crop with 2 pixels of zero padding (a shift of up to 2 pixels)"),
            ("flip", () => new HorizontalFlip(0.5), "horizontal flip, probability 0.5"),
            ("rotate", () => RandomAffine.Rotation(10), "rotation by up to 10 degrees either way"),
            ("scale", () => RandomAffine.Scale(0.9, 1.1), "zoom by 0.9 to 1.1 about the centre"),
            ("color", () => new BrightnessContrast(0.2, 0.2), "brightness and contrast factors 0.8 to 1.2"),
            ("erase", () => new RandomErasing(0.5), "random erasing, probability 0.5, 2-33% of the image"),
        };

        public static string Help => "none, or any of " + string.Join(", ", All.Select(a => a.Name)) + " joined with + (e.g. shift+flip)";

        /// <summary>The canonical form of <paramref name="text"/> (choices in the fixed order, no repeats), or an error naming the bad part.</summary>
        public static string Normalize(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) throw new UsageException("--augment: empty; expected " + Help);
            if (text.Trim() == "none") return "none";
            var parts = text.Split('+', StringSplitOptions.TrimEntries);
            foreach (var part in parts)
                if (!All.Any(a => a.Name == part))
                    throw new UsageException($"--augment: '{part}' is not a transform; expected {Help}");
            return string.Join("+", All.Where(a => parts.Contains(a.Name)).Select(a => a.Name));
        }

        /// <summary>The pipeline for a normalized choice, seeded.</summary>
        public static ImageAugmentation Create(string normalized, ulong seed)
        {
            var names = normalized == "none" ? Array.Empty<string>() : normalized.Split('+');
            var transforms = All.Where(a => names.Contains(a.Name)).Select(a => a.Create()).ToArray();
            return new ImageAugmentation(1, 28, 28, seed, transforms);
        }
    }
}
