using System;
using CnnGen;

namespace FashionMnist
{
    /// <summary>
    /// Data augmentation from the course notes, applied on the fly to each training batch: random shifts of up to
    /// <see cref="MaxShift"/> pixels (zero fill) and horizontal flips (clothes look alike mirrored; digits would not).
    /// </summary>
    public sealed class Augmentation
    {
        public const int MaxShift = 2;

        public Augmentation(bool shift, bool flip)
        {
            Shift = shift;
            Flip = flip;
        }

        public bool Shift { get; }
        public bool Flip { get; }
        public bool Enabled => Shift || Flip;

        public override string ToString() => !Enabled ? "none" : Shift && Flip ? "shift+flip" : Shift ? "shift" : "flip";

        /// <summary>Writes the augmented 28x28 <paramref name="source"/> to <paramref name="target"/>, drawing from <paramref name="random"/>.</summary>
        public void Apply(ReadOnlySpan<float> source, Span<float> target, ref CnnRandom random)
        {
            int dx = Shift ? random.NextInt(2 * MaxShift + 1) - MaxShift : 0;
            int dy = Shift ? random.NextInt(2 * MaxShift + 1) - MaxShift : 0;
            bool mirror = Flip && random.NextInt(2) == 1;
            for (int y = 0; y < 28; y++)
            {
                int sy = y - dy;
                for (int x = 0; x < 28; x++)
                {
                    int sx = (mirror ? 27 - x : x) - dx;
                    target[y * 28 + x] = (uint)sy < 28u && (uint)sx < 28u ? source[sy * 28 + sx] : 0f;
                }
            }
        }
    }
}
