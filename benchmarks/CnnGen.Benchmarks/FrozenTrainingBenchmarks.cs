using CnnGen.Tests.Fixtures;
using System;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using CnnGen.IO;
using CnnGen.Shapes;
using CnnGen.Training;

namespace CnnGen.Benchmarks
{
    /// <summary>What a fine-tuning run freezes.</summary>
    public enum Frozen
    {
        /// <summary>Everything trains.</summary>
        Nothing,
        /// <summary>Every convolution's weights (batch-norm, if any, still trains).</summary>
        Convolutions,
        /// <summary>Everything but the last Linear, frozen batch-norm in evaluation mode.</summary>
        Backbone,
    }

    /// <summary>
    /// A training step (batch 64, SGD with momentum, one thread) with parts of the network frozen: backward skips frozen
    /// parameter gradients and stops below the lowest trainable layer (GradientFlow).
    /// </summary>
    [MemoryDiagnoser]
    public abstract class FrozenTrainingBenchmarks<TNetwork> where TNetwork : INetwork, new()
    {
        public const int Batch = 64;
        private readonly TNetwork _network = new();
        private float[] _images = null!;
        private int[] _labels = null!;
        private Trainer _trainer = null!;

        [Params(Frozen.Nothing, Frozen.Convolutions, Frozen.Backbone)]
        public Frozen Freeze { get; set; }

        protected abstract string ModelName { get; }

        [GlobalSetup]
        public void Setup()
        {
            var layout = _network.Layout;
            NetworkWeights.Load(_network, Path.Combine(AppContext.BaseDirectory, "models", ModelName + ".safetensors"));
            var random = new CnnRandom(1);
            _images = new float[Batch * layout.Input.Length];
            for (int i = 0; i < _images.Length; i++) _images[i] = random.NextFloat();
            _labels = new int[Batch];
            for (int i = 0; i < Batch; i++) _labels[i] = random.NextInt(layout.Output.Length);
            var optimizer = new Sgd(layout.ParameterCount, 0.001f, momentum: 0.9f);
            var mask = new ParameterMask(layout);
            int head = layout.Layers.Last(l => l.Kind == LayerKind.Linear).Index;
            foreach (var layer in layout.Layers.Where(l => l.ParameterCount > 0))
            {
                bool frozen = Freeze switch
                {
                    Frozen.Convolutions => layer.Kind == LayerKind.Conv2d,
                    Frozen.Backbone => layer.Index != head,
                    _ => false,
                };
                if (frozen) mask.FreezePrefix(layer.Path + ".");
            }
            mask.FreezeBatchNormStatistics = Freeze == Frozen.Backbone;
            optimizer.Freeze(mask);
            _trainer = new Trainer(_network, optimizer, Batch, threads: 1);
            _trainer.TrainStep(_images, _labels);
            Console.WriteLine($"// {ModelName}, {Freeze} frozen: {mask}; backward runs {new GradientFlow(layout, mask).LayersRun.Count} of {layout.Layers.Count} layers");
        }

        [GlobalCleanup]
        public void Cleanup() => _trainer.Dispose();

        [Benchmark(OperationsPerInvoke = Batch, Description = "CnnGen train step, batch 64, SGD, 1 thread (per image)")]
        public float TrainStep() => _trainer.TrainStep(_images, _labels);
    }

    public class LeNet5FrozenBenchmarks : FrozenTrainingBenchmarks<LeNet5>
    {
        protected override string ModelName => "lenet5";
    }

    public class ResNet8FrozenBenchmarks : FrozenTrainingBenchmarks<ResNet8>
    {
        protected override string ModelName => "resnet8";
    }
}
