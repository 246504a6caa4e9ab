using CnnGen.Tests.Fixtures;
using System;
using System.IO;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using CnnGen.IO;
using CnnGen.Training;
using Microsoft.ML.OnnxRuntime;

namespace CnnGen.Benchmarks
{
    /// <summary>
    /// One network, three engines, one run: CnnGen's generated code, the reference interpreter, and ONNX Runtime with
    /// inputs and outputs bound once. Batch 1 on one thread; batch 64 on two threads; a training step at batch 64.
    /// The median beside the mean: pytorch_bench.py reports medians, and on a shared host one disturbed iteration moves a
    /// mean of a few far more than their median.
    /// </summary>
    [MemoryDiagnoser]
    [MedianColumn]
    public abstract class NetworkBenchmarks<TNetwork> where TNetwork : INetwork, new()
    {
        public const int Batch = 64;
        private readonly TNetwork _network = new();
        private NetworkWorkspace _single = null!;
        private NetworkWorkspace[] _halves = null!;
        private ParallelEvaluation _parallel = null!;
        private float[] _input1 = null!, _output1 = null!, _input64 = null!, _output64 = null!;
        private int[] _labels = null!;
        private ReferenceInterpreter _interpreter = null!;
        private InferenceSession _ortSingle = null!, _ortBatched = null!;
        private OrtValue _ortIn1 = null!, _ortOut1 = null!, _ortIn64 = null!, _ortOut64 = null!;
        private RunOptions _runOptions = null!;
        private readonly string[] _inputNames = { "input" }, _outputNames = { "output" };
        private OrtValue[] _in1 = null!, _out1 = null!, _in64 = null!, _out64 = null!;
        private Trainer _trainer = null!, _trainer1 = null!;

        /// <summary>The model's base name in models/: &lt;name&gt;.onnx for ONNX Runtime, &lt;name&gt;.safetensors for CnnGen.</summary>
        protected abstract string ModelName { get; }

        [GlobalSetup]
        public void Setup()
        {
            var layout = _network.Layout;
            string models = Path.Combine(AppContext.BaseDirectory, "models");
            NetworkWeights.Load(_network, Path.Combine(models, ModelName + ".safetensors"));
            var random = new CnnRandom(1);
            _input1 = new float[layout.Input.Length];
            _input64 = new float[Batch * layout.Input.Length];
            for (int i = 0; i < _input64.Length; i++) _input64[i] = random.NextFloat();
            _input64.AsSpan(0, _input1.Length).CopyTo(_input1);
            _output1 = new float[layout.Output.Length];
            _output64 = new float[Batch * layout.Output.Length];
            _labels = new int[Batch];
            for (int i = 0; i < Batch; i++) _labels[i] = random.NextInt(layout.Output.Length);
            _single = _network.CreateWorkspace(1);
            _halves = new[] { _network.CreateWorkspace(Batch / 2), _network.CreateWorkspace(Batch / 2) };
            _parallel = new ParallelEvaluation(_network, threads: 2, Batch);
            _interpreter = new ReferenceInterpreter(layout);

            string model = Path.Combine(models, ModelName + ".onnx");
            using (var options = new SessionOptions { IntraOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL })
                _ortSingle = new InferenceSession(model, options);
            using (var options = new SessionOptions { IntraOpNumThreads = 2 })
                _ortBatched = new InferenceSession(model, options);
            long[] inShape1 = { 1, layout.Input.Channels, layout.Input.Height, layout.Input.Width };
            long[] inShape64 = { Batch, layout.Input.Channels, layout.Input.Height, layout.Input.Width };
            _ortIn1 = OrtValue.CreateTensorValueFromMemory(_input1, inShape1);
            _ortOut1 = OrtValue.CreateTensorValueFromMemory(_output1, new long[] { 1, layout.Output.Length });
            _ortIn64 = OrtValue.CreateTensorValueFromMemory(_input64, inShape64);
            _ortOut64 = OrtValue.CreateTensorValueFromMemory(_output64, new long[] { Batch, layout.Output.Length });
            _in1 = new[] { _ortIn1 }; _out1 = new[] { _ortOut1 }; _in64 = new[] { _ortIn64 }; _out64 = new[] { _ortOut64 };
            _runOptions = new RunOptions();

            // Same weights in both engines: their outputs must agree before anything is timed. Checked by a session of its own
            // without pool threads, so that the two-thread session's pool stays idle in the processes that time CnnGen (every
            // benchmark of this class runs this setup).
            int half = Batch / 2;
            _network.Forward(_input64.AsSpan(0, half * layout.Input.Length), _output64.AsSpan(0, half * layout.Output.Length), half, _halves[0]);
            var cnnGen = (float[])_output64.Clone();
            using (var options = new SessionOptions { IntraOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL })
            using (var check = new InferenceSession(model, options))
                check.Run(_runOptions, _inputNames, _in64, _outputNames, _out64);
            float worst = 0, scale = 0;
            for (int i = 0; i < half * layout.Output.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(cnnGen[i] - _output64[i]));
                scale = Math.Max(scale, Math.Abs(_output64[i]));
            }
            Console.WriteLine($"// {ModelName}: CnnGen vs ONNX Runtime, largest difference {worst:G3} (largest output {scale:G3})");
            if (!(worst <= 1e-3f * Math.Max(1f, scale))) throw new InvalidOperationException($"{ModelName}: CnnGen and ONNX Runtime disagree by {worst}");

            _trainer = new Trainer(_network, new Sgd(layout.ParameterCount, 0.001f, momentum: 0.9f), Batch, threads: 2);
            _trainer1 = new Trainer(_network, new Sgd(layout.ParameterCount, 0.001f, momentum: 0.9f), Batch, threads: 1);
        }

        /// <summary>
        /// The training rows' setup: the shared one, then train steps on both trainers for two seconds (at least 40 each).
        /// BenchmarkDotNet's pilot sizes its iterations by the first calls; a step still running tier-0 code there made one
        /// step per iteration, and the measured steps ran before the tier-1 code came (ResNet-8: 849-895 µs per image on two
        /// threads, 923-965 on one, against 577-605 once tiered). Forward rows keep the untouched weights.
        /// </summary>
        [GlobalSetup(Targets = new[] { nameof(CnnGenTrainStep), nameof(CnnGenTrainStep1Thread) })]
        public void SetupTraining()
        {
            Setup();
            var warm = System.Diagnostics.Stopwatch.StartNew();
            for (int steps = 0; steps < 40 || warm.Elapsed.TotalSeconds < 2; steps++)
            {
                _trainer.TrainStep(_input64, _labels);
                _trainer1.TrainStep(_input64, _labels);
            }
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _trainer.Dispose();
            _trainer1.Dispose();
            _parallel.Dispose();
            _ortSingle.Dispose();
            _ortBatched.Dispose();
        }

        [Benchmark(Baseline = true, Description = "CnnGen forward, batch 1, 1 thread")]
        public void CnnGenBatch1() => _network.Forward(_input1, _output1, 1, _single);

        [Benchmark(Description = "Interpreter forward, batch 1")]
        public void InterpreterBatch1()
        {
            var random = new CnnRandom(0);
            _interpreter.Forward(_network.Parameters, _network.Buffers.ToArray(), _network.Counters.ToArray(), _input1, 1, false, ref random);
        }

        [Benchmark(Description = "ONNX Runtime forward, batch 1, 1 thread, bound")]
        public void OnnxRuntimeBatch1() => _ortSingle.Run(_runOptions, _inputNames, _in1, _outputNames, _out1);

        // The library's multi-threaded evaluation on threads started once (ParallelEvaluation: convolutional networks in runs
        // handed out as threads come free, Linear-heavy ones in two halves).
        [Benchmark(OperationsPerInvoke = Batch, Description = "CnnGen forward, batch 64, 2 threads (per image)")]
        public void CnnGenBatch64() => _parallel.Forward(_input64, _output64, Batch);

        // As the table's rows before session 6 ran it: Parallel.For over the two halves (its tasks allocate per batch).
        [Benchmark(OperationsPerInvoke = Batch, Description = "CnnGen forward, batch 64, 2 threads, Parallel.For (per image)")]
        public void CnnGenBatch64ParallelFor() => Parallel.For(0, 2, half =>
        {
            int n = Batch / 2, inLength = _network.Layout.Input.Length, outLength = _network.Layout.Output.Length;
            _network.Forward(_input64.AsSpan(half * n * inLength, n * inLength), _output64.AsSpan(half * n * outLength, n * outLength), n, _halves[half]);
        });

        [Benchmark(OperationsPerInvoke = Batch, Description = "ONNX Runtime forward, batch 64, 2 threads (per image)")]
        public void OnnxRuntimeBatch64() => _ortBatched.Run(_runOptions, _inputNames, _in64, _outputNames, _out64);

        [Benchmark(OperationsPerInvoke = Batch, Description = "CnnGen train step, batch 64, SGD, 2 threads (per image)")]
        public float CnnGenTrainStep() => _trainer.TrainStep(_input64, _labels);

        [Benchmark(OperationsPerInvoke = Batch, Description = "CnnGen train step, batch 64, SGD, 1 thread (per image)")]
        public float CnnGenTrainStep1Thread() => _trainer1.TrainStep(_input64, _labels);
    }

    public class LeNet5Benchmarks : NetworkBenchmarks<LeNet5>
    {
        protected override string ModelName => "lenet5";
    }

    public class CifarBenchmarks : NetworkBenchmarks<CifarNet>
    {
        protected override string ModelName => "cifar";
    }

    public class ResNet8Benchmarks : NetworkBenchmarks<ResNet8>
    {
        protected override string ModelName => "resnet8";
    }

    public class MobileNetV2Benchmarks : NetworkBenchmarks<MobileNetV2>
    {
        protected override string ModelName => "mobilenetv2";
    }

    public class StridedBenchmarks : NetworkBenchmarks<StridedNet>
    {
        protected override string ModelName => "strided";
    }
}
