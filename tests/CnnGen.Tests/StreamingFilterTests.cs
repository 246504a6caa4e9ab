using System;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The Winograd filter transforms that prepare filters ahead write large ones with streaming stores (Streaming): the same
    /// floats as plain stores, into aligned buffers (every store streamed) and into misaligned ones (none can be).
    /// </summary>
    public sealed class StreamingFilterTests
    {
        [Theory]
        [InlineData(32, 32, 64, 4)]
        [InlineData(64, 16, 128, 4)]
        [InlineData(20, 16, 36, 2)]
        [InlineData(48, 12, 40, StridedWinogradConvolution.Wide)]
        public void StridedFilters_StreamedAreThePlainOnes(int inChannels, int size, int outChannels, int tile)
        {
            var layout = new StridedWinogradConvolution.Layout(inChannels, size, size, outChannels, 1, tile);
            float[] weight = GroupedConvolutionTests.RandomValues(new Random(inChannels + size + outChannels + tile), outChannels * inChannels * 9);
            AssertStreamingChangesNoFloat(layout.FiltersLength, filters => StridedWinogradConvolution.TransformFilters(weight, filters, layout));
            AssertStreamingChangesNoFloat(layout.TransposedFiltersLength, filters => StridedWinogradConvolution.TransformFiltersTransposed(weight, filters, layout));
        }

        [Theory]
        [InlineData(64, 16, 128)]
        [InlineData(128, 8, 256)]
        [InlineData(24, 15, 40)]
        public void StrideOneFilters_StreamedAreThePlainOnes(int inChannels, int size, int outChannels)
        {
            var layout = new WinogradF4Convolution.Layout(inChannels, size, size, outChannels, 1);
            var transposedLayout = new WinogradF4Convolution.Layout(outChannels, size, size, inChannels, 1);
            float[] weight = GroupedConvolutionTests.RandomValues(new Random(inChannels * 3 + size + outChannels), outChannels * inChannels * 9);
            AssertStreamingChangesNoFloat(layout.FiltersLength, filters => WinogradF4Convolution.TransformFilters(weight, filters, layout));
            AssertStreamingChangesNoFloat(transposedLayout.FiltersLength,
                filters => WinogradF4Convolution.TransformFiltersTransposed(weight, outChannels, inChannels, filters, transposedLayout));
        }

        [Fact]
        public void OnlyLargeFilters_AreStreamed()
        {
            bool streams = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
            Assert.Equal(streams, Streaming.Pays(Streaming.MinimumFloats));
            Assert.False(Streaming.Pays(Streaming.MinimumFloats - 1));
        }

        // The transform into an aligned buffer and into one a float past a 64-byte boundary, every filter streamed
        // (MinimumFloats 0), against the same with none streamed; the floats past the filters untouched.
        private static void AssertStreamingChangesNoFloat(int length, Action<Span<float>> transform)
        {
            var plain = Transformed(length, 0, int.MaxValue, transform);
            for (int offset = 0; offset < 2; offset++)
            {
                var streamed = Transformed(length, offset, 0, transform);
                Assert.Equal(plain, streamed);
            }
        }

        private static float[] Transformed(int length, int offset, int minimumFloats, Action<Span<float>> transform)
        {
            var buffer = new AlignedBuffer(length + offset + 16);
            buffer.AsSpan().Fill(float.NaN);
            int before = Streaming.MinimumFloats;
            try
            {
                Streaming.MinimumFloats = minimumFloats;
                transform(buffer.AsSpan(offset, length));
            }
            finally
            {
                Streaming.MinimumFloats = before;
            }
            for (int i = 0; i < offset; i++) Assert.True(float.IsNaN(buffer[i]));
            for (int i = offset + length; i < buffer.Length; i++) Assert.True(float.IsNaN(buffer[i]));
            return buffer.AsSpan(offset, length).ToArray();
        }
    }
}
