using System;

namespace CnnGen
{
    /// <summary>
    /// CnnGen's own pseudo-random generator (xoshiro256**, seeded through SplitMix64). The same seed gives
    /// the same sequence on every runtime and platform, which System.Random does not promise.
    /// Used for initialization, dropout masks and shuffling.
    /// </summary>
    public struct CnnRandom
    {
        private ulong _s0, _s1, _s2, _s3;

        public CnnRandom(ulong seed)
        {
            _s0 = SplitMix(ref seed);
            _s1 = SplitMix(ref seed);
            _s2 = SplitMix(ref seed);
            _s3 = SplitMix(ref seed);
        }

        private static ulong SplitMix(ref ulong state)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public ulong NextUInt64()
        {
            ulong result = RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = RotateLeft(_s3, 45);
            return result;
        }

        private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

        /// <summary>A float in [0, 1) with 24 random bits.</summary>
        public float NextFloat() => (NextUInt64() >> 40) * (1.0f / 16777216.0f);

        /// <summary>A double in [0, 1) with 53 random bits.</summary>
        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

        /// <summary>A float uniform in [low, high).</summary>
        public float NextUniform(float low, float high) => low + (high - low) * NextFloat();

        /// <summary>An integer in [0, count), without modulo bias worth measuring (Lemire's multiply-shift on 32 bits).</summary>
        public int NextInt(int count)
        {
            if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive");
            return (int)(((NextUInt64() >> 32) * (ulong)count) >> 32);
        }

        /// <summary>Fisher-Yates shuffle of <paramref name="items"/>.</summary>
        public void Shuffle<T>(Span<T> items)
        {
            for (int i = items.Length - 1; i > 0; i--)
            {
                int j = NextInt(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }
}
