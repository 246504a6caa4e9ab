using System;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>
    /// The generated source for four networks (one a graph), checked in under Baselines/ and compared line by line.
    /// Set CNNGEN_UPDATE_BASELINES=1 to rewrite them after an intended change, then review the diff.
    /// </summary>
    public sealed class BaselineTests
    {
        private const string Networks = """
            using CnnGen;

            namespace Baselines;

            [Network(1, 28, 28)]
            [Conv2d(6, 5, Padding = 2)]
            [ReLU]
            [MaxPool(2)]
            [Conv2d(16, 5)]
            [ReLU]
            [MaxPool(2)]
            [Flatten]
            [Linear(120)]
            [ReLU]
            [Linear(84)]
            [ReLU]
            [Linear(10)]
            public partial class LeNet5 { }

            [Network(3, 10, 10)]
            [Conv2d(6, 3, Padding = 1, Bias = false)]
            [BatchNorm]
            [ReLU]
            [AvgPool(2)]
            [Flatten]
            [Linear(16)]
            [BatchNorm(Eps = 1e-3, Momentum = 0.2)]
            [Sigmoid]
            [Linear(4)]
            public partial class BatchNormNet { }

            public static partial class Outer
            {
                internal partial class Inner
                {
                    [Network(2, 9, 7)]
                    [Conv2d(3, 3, Stride = 2, Padding = 1)]
                    [LeakyReLU(0.2)]
                    [MaxPool(3, Stride = 1, Padding = 1)]
                    [Tanh]
                    [Flatten]
                    [Dropout(0.25)]
                    [Linear(5)]
                    [Softmax]
                    private partial class Classifier { }
                }
            }

            // A residual stage with a projection shortcut, and a concatenation with an identity branch.
            [Network(8, 8, 8)]
            [Conv2d(8, 3, Padding = 1, Bias = false)]
            [BatchNorm]
            [ReLU]
            [Residual]
                [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)]
                [BatchNorm]
                [ReLU]
                [Conv2d(16, 3, Padding = 1, Groups = 16, Bias = false)]
                [BatchNorm]
            [Shortcut]
                [Conv2d(16, 1, Stride = 2, Bias = false)]
            [End]
            [ReLU]
            [Concat]
            [Branch]
            [Branch]
                [Conv2d(8, 1)]
                [ReLU6]
            [End]
            [GlobalAvgPool]
            [Flatten]
            [Linear(10)]
            public partial class ResidualNet { }

            // Batch-norms on 16x16 maps between layers run a sample at a time: each sample normalized in the loop after
            // them, and its input gradient taken in the loop below them.
            [Network(3, 32, 32)]
            [Conv2d(16, 3, Stride = 2, Padding = 1, Bias = false)]
            [BatchNorm]
            [ReLU]
            [Conv2d(16, 3, Padding = 1, Bias = false)]
            [BatchNorm]
            [ReLU]
            [GlobalAvgPool]
            [Flatten]
            [Linear(10)]
            public partial class SampleLoopNet { }
            """;

        [Theory]
        [InlineData("Baselines.LeNet5.g.cs", "LeNet5.generated.txt")]
        [InlineData("Baselines.BatchNormNet.g.cs", "BatchNormNet.generated.txt")]
        [InlineData("Baselines.Outer.Inner.Classifier.g.cs", "NestedClassifier.generated.txt")]
        [InlineData("Baselines.ResidualNet.g.cs", "ResidualNet.generated.txt")]
        [InlineData("Baselines.SampleLoopNet.g.cs", "SampleLoopNet.generated.txt")]
        public void GeneratedSourceMatchesBaseline(string hintName, string baselineFile)
        {
            var sources = GeneratorHarness.GeneratedSources(Networks);
            Assert.True(sources.ContainsKey(hintName), "Generated: " + string.Join(", ", sources.Keys));
            AssertMatchesBaseline(sources[hintName], baselineFile);
        }

        [Fact]
        public void OutputDoesNotDependOnTheCurrentCulture()
        {
            var invariant = GeneratorHarness.GeneratedSources(Networks);
            var original = CultureInfo.CurrentCulture;
            try
            {
                // A culture whose minus sign is U+2212 and whose decimal separator is a comma.
                var hostile = (CultureInfo)CultureInfo.InvariantCulture.Clone();
                hostile.NumberFormat.NegativeSign = "\u2212";
                hostile.NumberFormat.NumberDecimalSeparator = ",";
                hostile.NumberFormat.NumberGroupSeparator = "\u00a0";
                CultureInfo.CurrentCulture = hostile;
                CultureInfo.CurrentUICulture = hostile;
                var localized = GeneratorHarness.GeneratedSources(Networks);
                Assert.Equal(invariant, localized);
            }
            finally
            {
                CultureInfo.CurrentCulture = original;
                CultureInfo.CurrentUICulture = original;
            }
        }

        private static void AssertMatchesBaseline(string actual, string baselineFile, [CallerFilePath] string testFile = "")
        {
            string path = Path.Combine(Path.GetDirectoryName(testFile)!, "Baselines", baselineFile);
            actual = actual.Replace("\r\n", "\n");
            if (Environment.GetEnvironmentVariable("CNNGEN_UPDATE_BASELINES") == "1")
            {
                File.WriteAllText(path, actual);
                return;
            }
            Assert.True(File.Exists(path), $"Missing baseline {path}; run the tests with CNNGEN_UPDATE_BASELINES=1 to create it.");
            string[] expectedLines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
            string[] actualLines = actual.Split('\n');
            for (int i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
            {
                string? e = i < expectedLines.Length ? expectedLines[i] : null;
                string? a = i < actualLines.Length ? actualLines[i] : null;
                if (e != a)
                    Assert.Fail($"{baselineFile} differs at line {i + 1}:\n  expected: {e ?? "<end of file>"}\n  actual:   {a ?? "<end of file>"}\n(set CNNGEN_UPDATE_BASELINES=1 to accept the new output)");
            }
        }
    }
}
