using System;
using Xunit;

namespace CnnGen.Tests.Infrastructure
{
    public static class Allocations
    {
        /// <summary>
        /// Asserts that <paramref name="action"/> allocates nothing on this thread once warmed up. Up to three rounds of
        /// <paramref name="calls"/> calls are measured and one clean round suffices: an allocation on every call shows in
        /// every round, while a one-off allocation by the runtime itself (tiering up a method while a busy test run
        /// measures) does not repeat.
        /// </summary>
        public static void AssertNone(Action action, int calls = 50)
        {
            for (int i = 0; i < 3; i++) action();
            long smallest = long.MaxValue;
            for (int round = 0; round < 3 && smallest != 0; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < calls; i++) action();
                smallest = Math.Min(smallest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, smallest);
        }
    }
}
