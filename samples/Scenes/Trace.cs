using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CnnGen;
using CnnGen.IO;
using CnnGen.Training;

namespace Scenes
{
    /// <summary>
    /// The first steps of a run, written down so that PyTorch can replay them exactly (<c>scenes_pytorch.py --replay</c>):
    /// the initial weights, the scenes of every step (the run's own epoch-1 order), CnnGen's loss at every step, and the
    /// weights after the first and after the last step. The steps are the training loop's own calls (<see cref="Trainer.TrainStep"/>,
    /// <see cref="DetectorTrainer.Step"/>) with the recipe's first-epoch learning rate.
    /// </summary>
    public static class SceneTrace
    {
        public const string SegmentFile = "segment-trace.safetensors", DetectFile = "detect-trace.safetensors";

        public static int Run(SceneOptions options, int steps)
        {
            Directory.CreateDirectory(options.Output);
            var data = SceneData.Load(options.Data, options.Seed, options.TrainScenes, options.TestScenes);
            int possible = Math.Min(options.ScenesPerEpoch, data.Train.Count) / options.BatchSize;
            if (steps < 1 || steps > possible)
                throw new ArgumentException($"--steps must lie in 1..{possible} (the full batches of the first epoch).");
            if (options.Segment) Write(Path.Combine(options.Output, SegmentFile), Segment(options, data, steps));
            if (options.Detect) Write(Path.Combine(options.Output, DetectFile), Detect(options, data, steps));
            return 0;
        }

        /// <summary>What one network's trace holds before it is written.</summary>
        private sealed record Trace(float LearningRate, int[] Order, float[] Losses, IReadOnlyList<SafeTensor> Initial, IReadOnlyList<SafeTensor> AfterFirst, IReadOnlyList<SafeTensor> AfterLast, SceneOptions Options);

        private static Trace Segment(SceneOptions options, SceneData data, int steps)
        {
            var network = new SceneUNet();
            network.ResetParameters(options.Seed);
            var optimizer = SceneTraining.CreateOptimizer(SceneUNet.ParameterCount, options.SegmentLearningRate);
            new CosineAnnealingLR(options.SegmentLearningRate, options.SegmentEpochs).Apply(optimizer, 0);
            using var trainer = new Trainer(network, optimizer, options.BatchSize, options.Threads);
            var order = SceneTraining.EpochOrder(options, data.Train.Count, 0, task: 0)[..(steps * options.BatchSize)];
            var initial = NetworkWeights.ToTensors(network);
            IReadOnlyList<SafeTensor> afterFirst = initial;
            var images = new float[options.BatchSize * SceneSet.Pixels];
            var labels = new int[options.BatchSize * SceneSet.Pixels];
            var losses = new float[steps];
            for (int step = 0; step < steps; step++)
            {
                for (int i = 0; i < options.BatchSize; i++)
                {
                    int scene = order[step * options.BatchSize + i];
                    data.Train.CopyImage(scene, images.AsSpan(i * SceneSet.Pixels, SceneSet.Pixels));
                    data.Train.CopyLabels(scene, labels.AsSpan(i * SceneSet.Pixels, SceneSet.Pixels));
                }
                losses[step] = trainer.TrainStep(images, labels);
                if (step == 0) afterFirst = NetworkWeights.ToTensors(network);
            }
            return new Trace(optimizer.LearningRate, order, losses, initial, afterFirst, NetworkWeights.ToTensors(network), options);
        }

        private static Trace Detect(SceneOptions options, SceneData data, int steps)
        {
            var network = new GridDetector();
            network.ResetParameters(options.Seed);
            var optimizer = SceneTraining.CreateOptimizer(GridDetector.ParameterCount, options.DetectLearningRate);
            new CosineAnnealingLR(options.DetectLearningRate, options.DetectEpochs).Apply(optimizer, 0);
            var trainer = new DetectorTrainer(network, optimizer, options.BatchSize, options.Threads);
            var targets = GridCoding.Encode(data.Train);
            var order = SceneTraining.EpochOrder(options, data.Train.Count, 0, task: 1)[..(steps * options.BatchSize)];
            var initial = NetworkWeights.ToTensors(network);
            IReadOnlyList<SafeTensor> afterFirst = initial;
            var losses = new float[steps];
            for (int step = 0; step < steps; step++)
            {
                losses[step] = trainer.Step(data.Train, targets, order.AsSpan(step * options.BatchSize, options.BatchSize)).Total;
                if (step == 0) afterFirst = NetworkWeights.ToTensors(network);
            }
            return new Trace(optimizer.LearningRate, order, losses, initial, afterFirst, NetworkWeights.ToTensors(network), options);
        }

        private static void Write(string path, Trace trace)
        {
            int steps = trace.Losses.Length, batch = trace.Options.BatchSize;
            var tensors = new List<SafeTensor>
            {
                SafeTensor.FromInt64s("order", trace.Order.Select(i => (long)i).ToArray(), steps, batch),
                SafeTensor.FromFloats("loss", trace.Losses, steps),
            };
            tensors.AddRange(Prefixed("initial.", trace.Initial));
            tensors.AddRange(Prefixed("step1.", trace.AfterFirst));
            tensors.AddRange(Prefixed("final.", trace.AfterLast));
            var c = CultureInfo.InvariantCulture;
            SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string>
            {
                ["lr"] = trace.LearningRate.ToString("R", c),
                ["seed"] = trace.Options.Seed.ToString(c),
                ["threads"] = trace.Options.Threads.ToString(c),
            });
            Console.WriteLine($"{path}: {steps} steps of {batch} scenes; loss {trace.Losses[0].ToString("F4", c)} at step 1, {trace.Losses[^1].ToString("F4", c)} at step {steps}");
        }

        private static IEnumerable<SafeTensor> Prefixed(string prefix, IEnumerable<SafeTensor> tensors) =>
            tensors.Select(t => new SafeTensor(prefix + t.Name, t.DType, t.Shape.AsSpan(), t.Data));
    }
}
