using System;
using System.Threading;
using CnnGen.IO;

namespace CnnGen
{
    /// <summary>
    /// Serves a model to many threads while its weights are replaced: copy-on-write with an atomic reference swap.
    /// Readers take <see cref="Current"/> and run <c>Forward</c> on it with their own workspace; writers build a new
    /// network (<see cref="LoadWeights"/>, <see cref="Update"/>, <see cref="Publish"/>) and swap it in whole. A published
    /// network is never modified again, so every <c>Forward</c> sees the old weights or the new ones entirely, never a
    /// mix, and readers never wait. A failed load or update publishes nothing.
    /// </summary>
    /// <remarks>
    /// Workspaces belong to the network type, not to an instance: one created from any <typeparamref name="TNetwork"/>
    /// serves every version. Do not modify <see cref="Current"/> in place (<see cref="NetworkWeights.Load(INetwork, string, bool, string)"/>
    /// on it, training it): that is the mixing this class exists to prevent. Writers are serialized with each other.
    /// </remarks>
    public sealed class ModelHost<TNetwork> where TNetwork : class, INetwork, new()
    {
        private readonly object _writeLock = new();
        private TNetwork _current;
        private long _version;

        /// <param name="initial">The first model served; the host owns it from now on (do not modify it).</param>
        public ModelHost(TNetwork initial)
        {
            _current = initial ?? throw new ArgumentNullException(nameof(initial));
        }

        /// <summary>The model to run now. Take it once per call (<c>var model = host.Current;</c>) and use that reference.</summary>
        public TNetwork Current => Volatile.Read(ref _current);

        /// <summary>How many times a new model was swapped in.</summary>
        public long Version => Interlocked.Read(ref _version);

        /// <summary>Runs <paramref name="batchSize"/> samples through the current model (evaluation mode) with the caller's workspace.</summary>
        public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, NetworkWorkspace workspace) =>
            Current.Forward(input, output, batchSize, workspace, training: false);

        /// <summary>Swaps in <paramref name="network"/>, which the host owns from now on (do not modify it after).</summary>
        public void Publish(TNetwork network)
        {
            ArgumentNullException.ThrowIfNull(network);
            lock (_writeLock)
            {
                Volatile.Write(ref _current, network);
                Interlocked.Increment(ref _version);
            }
        }

        /// <summary>
        /// Copies the current model, applies <paramref name="change"/> to the copy, and swaps the copy in. If
        /// <paramref name="change"/> throws, nothing is published and the exception propagates.
        /// </summary>
        public void Update(Action<TNetwork> change)
        {
            ArgumentNullException.ThrowIfNull(change);
            lock (_writeLock)
            {
                var source = _current;
                var copy = new TNetwork();
                source.Parameters.CopyTo(copy.Parameters);
                source.Buffers.CopyTo(copy.Buffers);
                source.Counters.CopyTo(copy.Counters);
                change(copy);
                Volatile.Write(ref _current, copy);
                Interlocked.Increment(ref _version);
            }
        }

        /// <summary>Loads a safetensors weight file into a copy of the model and swaps it in; a bad file changes nothing.</summary>
        /// <exception cref="WeightFileException">The file is invalid or does not fit the network.</exception>
        public void LoadWeights(string path, bool allowExtraKeys = false, string keyPrefix = "")
        {
            ArgumentNullException.ThrowIfNull(path);
            var file = SafeTensorsFile.Read(path); // read and parsed outside the lock
            Update(network => NetworkWeights.Load(network, file, allowExtraKeys, keyPrefix));
        }
    }
}
