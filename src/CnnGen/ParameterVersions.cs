using System.ComponentModel;
using System.Threading;

namespace CnnGen
{
    /// <summary>
    /// Stamps for a network's weights, unique in the process: a generated network takes a new one whenever its parameters or
    /// running statistics may have changed, and a workspace keeps the stamp of the weights it derived its folded copies from.
    /// Unique across networks, so a workspace moved to another network of the same class (a <see cref="ModelHost{TNetwork}"/>
    /// swap) never mistakes that network's weights for the ones it folded.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static class ParameterVersions
    {
        private static long _last;

        /// <summary>A stamp no network has had before (never 0, which a workspace holds before its first evaluation).</summary>
        public static long Next() => Interlocked.Increment(ref _last);
    }
}
