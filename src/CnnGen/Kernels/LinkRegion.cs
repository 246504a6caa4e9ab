using System;

namespace CnnGen.Kernels
{
    /// <summary>
    /// Where two linked layers' kernels meet in the scratch they share (StridedConvolution.Link, DirectConvolution.Link):
    /// the handed-on maps lie in a region at the scratch's start or its end, and each layer's own buffers in what is left.
    /// </summary>
    internal static class LinkRegion
    {
        /// <summary>
        /// A link's region: length floats from a 64-byte boundary, at the start of the scratch or as near its end as that
        /// allows. Both layers of the link compute the same place from the same span.
        /// </summary>
        public static Span<float> Of(Span<float> scratch, int length, bool atEnd)
        {
            if (!atEnd) return scratch.Slice(WinogradF4Convolution.FloatsToCacheLine(scratch), length);
            int start = scratch.Length - length;
            int back = (16 - WinogradF4Convolution.FloatsToCacheLine(scratch.Slice(start))) & 15;
            return scratch.Slice(start - back, length);
        }

        /// <summary>Keeps a region (and the up to 15 floats its alignment skips) out of the layer's own scratch.</summary>
        public static void Reserve(ref int startReserve, ref int endReserve, int length, bool atEnd)
        {
            if (atEnd) endReserve = length + 16;
            else startReserve = length + 16;
        }
    }
}
