using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// Every numeric argument of every CnnGen attribute (found by reflection, so a new one is covered without editing
    /// this test), set one at a time to extreme values — negative, zero, huge, non-finite, beyond a float — goes through
    /// the analyzer and the generator: each network either gets a CNN error, or generates a file that compiles.
    /// Never a broken generated file (issue 18: <c>[BatchNorm(Eps = 1e300)]</c> generated <c>Infinity</c>).
    /// </summary>
    public sealed class ExtremeValueTests
    {
        private static readonly string[] IntValues =
            { "int.MinValue", "-1000000", "-2", "-1", "0", "1", "2", "3", "7", "1 << 20", "int.MaxValue" };
        private static readonly string[] LongValues = { "long.MinValue", "-1", "0", "1", "1000", "long.MaxValue" };
        private static readonly string[] DoubleValues =
        {
            "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "double.MaxValue", "-double.MaxValue", "1e300", "-1e300",
            "1e-300", "-1e-300", "double.Epsilon", "0.0", "-0.0", "1e-46", "3.5e38", "-3.5e38", "0.5", "0.99999999999", "0.9999999", "1.0", "1.0000001", "2.0", "-0.5",
        };

        private readonly ITestOutputHelper _output;
        public ExtremeValueTests(ITestOutputHelper output) => _output = output;

        public static IEnumerable<object[]> Attributes() =>
            typeof(NetworkAttribute).Assembly.GetExportedTypes()
                .Where(t => t.Namespace == "CnnGen" && typeof(Attribute).IsAssignableFrom(t) && Numeric(t).Any())
                .Select(t => new object[] { t.Name });

        [Fact]
        public void EveryNumericAttribute_IsCovered()
        {
            var names = Attributes().Select(a => (string)a[0]).ToArray();
            foreach (var expected in new[] { "NetworkAttribute", "Conv2dAttribute", "ConvTranspose2dAttribute", "MaxPoolAttribute", "AvgPoolAttribute",
                "BatchNormAttribute", "LeakyReLUAttribute", "LinearAttribute", "DropoutAttribute", "AdaptiveAvgPoolAttribute", "UpsampleAttribute" })
                Assert.Contains(expected, names);
        }

        [Theory]
        [MemberData(nameof(Attributes))]
        public async Task ExtremeValues_GiveACnnErrorOrCompilingCode(string attributeName)
        {
            var type = typeof(NetworkAttribute).Assembly.GetType("CnnGen." + attributeName)!;
            var classes = new List<string>();
            var source = new StringBuilder(AnalyzerVerifier.Usings);
            foreach (var declaration in Declarations(type))
            {
                string name = "Net" + classes.Count.ToString(CultureInfo.InvariantCulture);
                classes.Add(name + ": " + declaration.Replace("\n", " ", StringComparison.Ordinal));
                source.Append(declaration).Append("public partial class ").Append(name).Append(" { }\n\n");
            }

            var compilation = TestCompiler.Compile(source.ToString());
            var sourceErrors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(sourceErrors.Count == 0, "The test source does not compile:\n" + TestCompiler.Describe(sourceErrors.Take(5)));

            var diagnostics = await TestCompiler.AnalyzeAsync(compilation);
            var (result, output) = TestCompiler.Generate(compilation);
            Assert.Empty(result.Diagnostics);
            var broken = output.GetDiagnostics()
                .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree is { } tree && result.GeneratedSources.Any(g => g.SyntaxTree == tree))
                .ToList();

            // Each class: a CNN error, or a generated file (the compile errors above are the generated files').
            var root = compilation.SyntaxTrees.Single().GetRoot();
            int errors = 0, generated = 0;
            foreach (var declaration in root.DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax>())
            {
                bool hasError = diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error && declaration.FullSpan.Contains(d.Location.SourceSpan));
                bool hasFile = result.GeneratedSources.Any(g => g.HintName == declaration.Identifier.ValueText + ".g.cs");
                if (hasError) errors++;
                if (hasFile) generated++;
                Assert.True(hasError || hasFile, "Neither a CNN error nor a generated file: " + classes[int.Parse(declaration.Identifier.ValueText.Substring(3), CultureInfo.InvariantCulture)]);
            }
            Assert.True(broken.Count == 0, "Generated code does not compile:\n" + string.Join("\n", broken.Take(10).Select(d =>
                d.Location.SourceTree!.FilePath + ": " + d.GetMessage(CultureInfo.InvariantCulture))));
            _output.WriteLine(attributeName + ": " + classes.Count + " declarations, " + errors + " with a CNN error, " + generated + " generated and compiled");
        }

        /// <summary>
        /// A padding near int.MaxValue made an output height past int.MaxValue, which wrapped to a small "valid" size when
        /// narrowed to int: a network generated with the wrong shape. It is CNN0022 on the padding.
        /// </summary>
        [Fact]
        public async Task HugePadding_IsTooLarge_NotAWrappedShape()
        {
            var diagnostics = await AnalyzerVerifier.VerifyAsync("""
                [Network(2, 8, 8)]
                [Conv2d(2, 2, {|CNN0022:Padding = int.MaxValue|})]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) is too large: its output 2x4294967301x4294967301 has more than 268,435,456 elements", AnalyzerVerifier.SingleMessage(diagnostics, "CNN0022"));
        }

        /// <summary>The attribute's numeric constructor parameters and settable properties.</summary>
        private static IEnumerable<string> Numeric(Type type) =>
            type.GetConstructors().SelectMany(c => c.GetParameters()).Where(p => IsNumeric(p.ParameterType)).Select(p => p.Name!)
                .Concat(type.GetProperties().Where(p => p.CanWrite && IsNumeric(p.PropertyType)).Select(p => p.Name));

        private static bool IsNumeric(Type type) => type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(float);

        private static string[] ValuesOf(Type type) => type == typeof(long) ? LongValues : type == typeof(int) ? IntValues : DoubleValues;

        /// <summary>Declarations with one argument at an extreme value each, the others at ordinary ones.</summary>
        private static IEnumerable<string> Declarations(Type type)
        {
            string short_ = type.Name.Substring(0, type.Name.Length - "Attribute".Length);
            foreach (var constructor in type.GetConstructors())
            {
                var parameters = constructor.GetParameters();
                // Every constructor argument, one at a time.
                for (int i = 0; i < parameters.Length; i++)
                {
                    if (!IsNumeric(parameters[i].ParameterType)) continue;
                    foreach (var value in ValuesOf(parameters[i].ParameterType))
                    {
                        var args = parameters.Select((p, j) => j == i ? value : Ordinary(p.ParameterType)).ToArray();
                        yield return Network(short_, short_ + "(" + string.Join(", ", args) + ")");
                    }
                }
                // Every settable property, on the first constructor.
                if (constructor != type.GetConstructors()[0]) continue;
                var ordinary = string.Join(", ", parameters.Select(p => Ordinary(p.ParameterType)));
                foreach (var property in type.GetProperties().Where(p => p.CanWrite && IsNumeric(p.PropertyType)))
                {
                    foreach (var value in ValuesOf(property.PropertyType))
                        yield return Network(short_, short_ + "(" + ordinary + (ordinary.Length > 0 ? ", " : "") + property.Name + " = " + value + ")");
                }
            }
        }

        private static string Ordinary(Type type) => type == typeof(double) ? "0.5" : "2";

        /// <summary>A small network around the layer under test; the [Network] attribute itself stands alone before a convolution.</summary>
        private static string Network(string kind, string attribute) => kind switch
        {
            "Network" => "[" + attribute.Replace("Network(2, 2, 2", "Network(2, 8, 8", StringComparison.Ordinal) + "]\n[Conv2d(2, 3)]\n",
            "Linear" => "[Network(2, 8, 8)]\n[Flatten]\n[" + attribute + "]\n",
            _ => "[Network(2, 8, 8)]\n[" + attribute + "]\n",
        };
    }
}
