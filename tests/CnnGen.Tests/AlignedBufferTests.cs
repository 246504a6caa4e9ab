using System;
using System.Linq;
using CnnGen.Tests.Fixtures;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// <see cref="AlignedBuffer"/>: zeros from a 64-byte boundary, bounded to the length asked for; the generated workspaces
    /// keep every float array in one.
    /// </summary>
    public sealed class AlignedBufferTests
    {
        private static unsafe long Address(Span<float> span)
        {
            fixed (float* p = span) return (long)p;
        }

        [Theory]
        [InlineData(1)]
        [InlineData(15)]
        [InlineData(16)]
        [InlineData(1000)]
        [InlineData(300_000)]
        public void StartsOnA64ByteBoundary_HoldsZeros_AndNothingPastItsLength(int length)
        {
            for (int k = 0; k < 8; k++)
            {
                // Other allocations in between move where the next array starts.
                var spacer = new float[k + 1];
                var buffer = new AlignedBuffer(length);
                GC.KeepAlive(spacer);
                Assert.Equal(0, Address(buffer.AsSpan()) % 64);
                Assert.Equal(length, buffer.Length);
                Assert.Equal(length, buffer.AsSpan().Length);
                Assert.All(buffer.AsSpan().ToArray(), v => Assert.Equal(0f, v));
                Assert.Throws<ArgumentOutOfRangeException>(() => buffer.AsSpan(length - 1, 2));
                Assert.Throws<ArgumentOutOfRangeException>(() => buffer.AsSpan(length + 1));
                Assert.Throws<IndexOutOfRangeException>(() => buffer[length]);
            }
        }

        [Fact]
        public void WritesThroughOneView_ReadBackThroughTheOthers()
        {
            var buffer = new AlignedBuffer(40);
            buffer[3] = 1.5f;
            buffer.AsSpan(10, 5).Fill(2f);
            Span<float> all = buffer;
            ReadOnlySpan<float> read = buffer;
            Assert.Equal(1.5f, all[3]);
            Assert.Equal(2f, read[14]);
            Assert.Equal(0f, read[15]);
            Assert.Equal(2f, buffer.AsSpan(12)[0]);
        }

        [Fact]
        public void GeneratedWorkspaces_KeepTheirFloatArraysOnTheBoundary()
        {
            foreach (var workspace in new NetworkWorkspace[] { new LeNet5().CreateWorkspace(3), new ResNet8().CreateWorkspace(2), new MobileNetV2().CreateWorkspace(1) })
            {
                var fields = workspace.GetType().GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);
                Assert.DoesNotContain(fields, f => f.FieldType == typeof(float[]));
                var buffers = fields.Where(f => f.FieldType == typeof(AlignedBuffer)).Select(f => (f.Name, Buffer: (AlignedBuffer)f.GetValue(workspace)!)).ToList();
                Assert.True(buffers.Count > 5, workspace.GetType().FullName);
                foreach (var (name, buffer) in buffers)
                    if (buffer.Length > 0) Assert.True(Address(buffer.AsSpan()) % 64 == 0, workspace.GetType().FullName + "." + name);
            }
        }
    }
}
