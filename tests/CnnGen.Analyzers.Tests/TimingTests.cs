using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// Generator and analyzer time on a project of 20 LeNet-sized networks (the target: under 100 ms in total).
    /// Reported, cold and warm; asserted only loosely (10x the target, warm), since CI machines are noisy.
    /// </summary>
    public sealed class TimingTests
    {
        private readonly ITestOutputHelper _output;

        public TimingTests(ITestOutputHelper output) => _output = output;

        public static string TwentyNetworks()
        {
            var source = new StringBuilder("using CnnGen;\n\nnamespace Zoo\n{\n");
            for (int i = 0; i < 20; i++)
            {
                int c1 = 4 + i % 5, c2 = 12 + i % 7;
                source.Append($$"""
                        [Network({{1 + i % 3}}, 28, 28)]
                        [Conv2d({{c1}}, 5, Padding = 2)]
                        [{{(i % 2 == 0 ? "ReLU" : "Tanh")}}]
                        [MaxPool(2)]
                        [Conv2d({{c2}}, 5)]
                        [BatchNorm]
                        [ReLU]
                        [{{(i % 3 == 0 ? "AvgPool" : "MaxPool")}}(2)]
                        [Flatten]
                        [Linear({{100 + i}})]
                        [ReLU]
                        [Dropout(0.25)]
                        [Linear(84)]
                        [ReLU]
                        [Linear(10)]
                        public partial class LeNet{{i}} { }

                    """);
            }
            return source.Append("}\n").ToString();
        }

        [Fact]
        public async Task TwentyLeNets_GeneratorAndAnalyzer()
        {
            var compilation = TestCompiler.Compile(TwentyNetworks());
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

            (double Generator, double Analyzer) Measure()
            {
                var (generator, generated) = TestCompiler.GenerateTimed(compilation);
                Assert.Equal(20, generated);
                var (analyzer, diagnostics) = TestCompiler.AnalyzeTimedAsync(compilation).GetAwaiter().GetResult();
                Assert.Empty(diagnostics);
                return (generator.TotalMilliseconds, analyzer.TotalMilliseconds);
            }

            var cold = Measure();
            var warm = Enumerable.Range(0, 7).Select(_ => Measure()).ToArray();
            double generatorWarm = Median(warm.Select(w => w.Generator)), analyzerWarm = Median(warm.Select(w => w.Analyzer));
            _output.WriteLine($"20 LeNet-sized networks: cold generator {cold.Generator:F1} ms + analyzer {cold.Analyzer:F1} ms; " +
                              $"warm (median of 7) generator {generatorWarm:F1} ms + analyzer {analyzerWarm:F1} ms = {generatorWarm + analyzerWarm:F1} ms");
            Assert.True(generatorWarm + analyzerWarm < 1000, $"generator {generatorWarm:F1} ms + analyzer {analyzerWarm:F1} ms");
            await Task.CompletedTask;
        }

        private static double Median(System.Collections.Generic.IEnumerable<double> values)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            return sorted[sorted.Length / 2];
        }
    }
}
