using System;
using System.Linq;
using CnnGen.Shapes;
using CnnGen.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>
    /// The interpreter's backward pass against central differences of its own double-precision forward pass, on random
    /// small networks in training mode (batch-norm through its batch statistics, dropout with a fixed mask). The generated
    /// backward is compared with the interpreter's in <see cref="DifferentialTests"/>, so both rest on calculus.
    /// </summary>
    public sealed class GradientCheckTests
    {
        private readonly ITestOutputHelper _output;

        public GradientCheckTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void InterpreterGradientsMatchCentralDifferences()
        {
            int checkedValues = 0, networks = 0;
            double worst = 0;
            foreach (int seed in Enumerable.Range(5000, 40))
            {
                var network = RandomNetworks.Create(seed);
                var layout = network.Layout;
                if (layout.ParameterCount > 20000) continue;
                networks++;
                var random = new CnnRandom((ulong)seed);
                var parameters = new float[layout.ParameterCount];
                var buffers = new float[layout.BufferCount];
                var counters = new long[layout.CounterCount];
                Initialization.ResetParameters(layout, parameters, buffers, counters, (ulong)seed);
                // Make batch-norm's affine part non-trivial so its gradient paths are exercised.
                foreach (var layer in layout.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
                    for (int i = 0; i < layer.ParameterCount; i++) parameters[layer.ParameterOffset + i] = random.NextUniform(0.5f, 1.5f);

                const int batch = 3;
                var input = new float[batch * layout.Input.Length];
                for (int i = 0; i < input.Length; i++) input[i] = random.NextUniform(-2, 2);
                var weights = new double[batch * layout.Output.Length];
                for (int i = 0; i < weights.Length; i++) weights[i] = random.NextUniform(-1, 1);

                // L = sum(weights * output): its gradient with respect to the output is the weights.
                double Loss(float[] p, float[] x)
                {
                    var interpreter = new ReferenceInterpreter(layout);
                    var dropout = new CnnRandom(77);
                    var y = interpreter.Forward(p, (float[])buffers.Clone(), (long[])counters.Clone(), x, batch, training: true, ref dropout);
                    double sum = 0;
                    for (int i = 0; i < y.Length; i++) sum += weights[i] * y[i];
                    return sum;
                }

                var analytic = new ReferenceInterpreter(layout);
                var stream = new CnnRandom(77);
                analytic.Forward(parameters, (float[])buffers.Clone(), (long[])counters.Clone(), input, batch, training: true, ref stream);
                var (parameterGradients, inputGradient) = analytic.Backward(parameters, weights);

                for (int k = 0; k < Math.Min(30, parameters.Length); k++)
                {
                    int index = random.NextInt(parameters.Length);
                    worst = Math.Max(worst, Check(parameters, index, parameterGradients[index], p => Loss(p, input), $"{network.Name} parameter {index}\n{network.Declaration()}"));
                    checkedValues++;
                }
                for (int k = 0; k < 10; k++)
                {
                    int index = random.NextInt(input.Length);
                    worst = Math.Max(worst, Check(input, index, inputGradient[index], x => Loss(parameters, x), $"{network.Name} input {index}\n{network.Declaration()}"));
                    checkedValues++;
                }
            }
            _output.WriteLine($"{networks} networks, {checkedValues} partial derivatives, largest error {worst:E2}");
            Assert.True(networks >= 30, $"only {networks} networks were small enough");
        }

        /// <summary>Central difference at two step sizes: a kink (ReLU, max-pool switch) within one step can spoil one, not both.</summary>
        private static double Check(float[] values, int index, double analytic, Func<float[], double> loss, string what)
        {
            double best = double.PositiveInfinity;
            foreach (double h in new[] { 1e-3, 1e-4 })
            {
                float original = values[index];
                values[index] = (float)(original + h);
                float plus = values[index];
                double up = loss(values);
                values[index] = (float)(original - h);
                float minus = values[index];
                double down = loss(values);
                values[index] = original;
                double numeric = (up - down) / ((double)plus - minus);
                double error = Math.Abs(numeric - analytic) / Math.Max(1, Math.Abs(analytic));
                best = Math.Min(best, error);
                if (best <= 2e-3) return best;
            }
            Assert.Fail($"{what}: analytic {analytic:R} disagrees with central differences (best error {best:E2})");
            return best;
        }
    }
}
