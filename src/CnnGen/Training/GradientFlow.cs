using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Shapes;

namespace CnnGen.Training
{
    /// <summary>
    /// What a backward pass computes, layer by layer (depth-first index), given which parameters are frozen: a frozen layer
    /// gets no parameter gradient, and a layer's input gradient is computed only when a trainable layer lies between the
    /// network input and that layer (going backward, a trainable parameter can still be reached). So a network frozen from
    /// its input up to some layer stops its backward pass there. Generated code reads these flags; a workspace holds the
    /// flow of the mask its trainer gave it (<see cref="NetworkWorkspace.ApplyMask"/>).
    /// </summary>
    /// <remarks>
    /// A backward pass that is asked for the input gradient (saliency) or a layer's gradient (Grad-CAM) runs every layer's
    /// input gradient (<see cref="EveryInputGradient"/>); frozen parameter gradients are still not written.
    /// </remarks>
    public sealed class GradientFlow
    {
        private readonly bool[] _parameterGradient;
        private readonly bool[] _inputGradient;
        private readonly bool[] _runningStatistics;
        private readonly bool[] _everyInputGradient;

        /// <summary>The flow over <paramref name="layout"/> with what <paramref name="mask"/> freezes (null: nothing frozen).</summary>
        public GradientFlow(NetworkLayout layout, ParameterMask? mask = null)
        {
            Layout = layout ?? throw new ArgumentNullException(nameof(layout));
            if (mask is not null && !ReferenceEquals(mask.Layout, layout) && mask.Layout.ParameterCount != layout.ParameterCount)
                throw new ArgumentException($"The mask is over a network of {mask.Layout.ParameterCount:N0} parameters, this one has {layout.ParameterCount:N0}.", nameof(mask));
            int count = layout.Layers.Count;
            _parameterGradient = new bool[count];
            _inputGradient = new bool[count];
            _runningStatistics = new bool[count];
            _everyInputGradient = new bool[count];
            Array.Fill(_everyInputGradient, true);
            foreach (var layer in layout.Layers)
            {
                bool frozen = mask is not null && mask.IsLayerFrozen(layer);
                _parameterGradient[layer.Index] = layer.ParameterCount > 0 && !frozen;
                _runningStatistics[layer.Index] = frozen && layer.Kind == LayerKind.BatchNorm && mask!.FreezeBatchNormStatistics;
            }
            Walk(layout.Root, reachesTrainable: false);
        }

        public NetworkLayout Layout { get; }

        /// <summary>Per layer: whether backward adds its parameter gradients (it has parameters and they are not all frozen).</summary>
        public ReadOnlySpan<bool> ParameterGradient => _parameterGradient;

        /// <summary>Per layer: whether backward computes its input gradient (a trainable layer lies below it).</summary>
        public ReadOnlySpan<bool> InputGradient => _inputGradient;

        /// <summary>Per layer: every one true, for a pass asked for the input or a layer's gradient.</summary>
        public ReadOnlySpan<bool> EveryInputGradient => _everyInputGradient;

        /// <summary>
        /// Per layer: whether this is a frozen batch-norm kept in evaluation mode (<see cref="ParameterMask.FreezeBatchNormStatistics"/>):
        /// its training forward normalizes with the running statistics and updates nothing, and backward goes through them.
        /// </summary>
        public ReadOnlySpan<bool> RunningStatistics => _runningStatistics;

        /// <summary>Whether backward runs layer <paramref name="layer"/> at all (its parameter or its input gradient).</summary>
        public bool Runs(int layer) => _parameterGradient[layer] || _inputGradient[layer];

        /// <summary>The layers backward runs (depth-first indices, ascending).</summary>
        public IReadOnlyList<int> LayersRun
        {
            get
            {
                var run = new List<int>();
                for (int i = 0; i < _parameterGradient.Length; i++) if (Runs(i)) run.Add(i);
                return run;
            }
        }

        // Forward order: a value needs its gradient when a trainable layer lies between the input and it.
        private bool Walk(SequenceLayout sequence, bool reachesTrainable)
        {
            foreach (var node in sequence.Nodes)
            {
                switch (node)
                {
                    case LayerLayout layer:
                        _inputGradient[layer.Index] = reachesTrainable;
                        reachesTrainable |= _parameterGradient[layer.Index];
                        break;
                    case ResidualLayout residual:
                        bool body = Walk(residual.Body, reachesTrainable);
                        bool shortcut = Walk(residual.Shortcut, reachesTrainable);
                        reachesTrainable = body || shortcut;
                        break;
                    case ConcatLayout concat:
                        bool any = false;
                        foreach (var branch in concat.Branches) any |= Walk(branch, reachesTrainable);
                        reachesTrainable = any;
                        break;
                }
            }
            return reachesTrainable;
        }

        /// <summary>"Backward runs layers 6 to 11 of 12 (0 to 5 skipped)": the layers run and skipped.</summary>
        public override string ToString()
        {
            var c = CultureInfo.InvariantCulture;
            var run = LayersRun;
            var skipped = new List<string>();
            for (int i = 0; i < _parameterGradient.Length; i++) if (!Runs(i)) skipped.Add(i.ToString(c));
            return "Backward runs " + run.Count.ToString(c) + " of " + _parameterGradient.Length.ToString(c) + " layers"
                + (skipped.Count > 0 ? " (skipped: " + string.Join(", ", skipped) + ")" : "");
        }
    }
}
