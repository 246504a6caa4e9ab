using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Analyzers.Tests.Infrastructure
{
    /// <summary>
    /// Checks a source written with <see cref="Markup"/>: the analyzer reports exactly the marked diagnostics (ID and span);
    /// the source is otherwise valid C#; and the generator agrees — it emits nothing, and does not throw, for a network
    /// with an error, and emits code that compiles for one without (CommunityToolkit's "the rest still compiles").
    /// </summary>
    public static class AnalyzerVerifier
    {
        public const string Usings = "using CnnGen;\n\n";

        /// <summary>Verifies <paramref name="markup"/> (after <see cref="Usings"/>) and returns the diagnostics, for message checks.</summary>
        public static async Task<ImmutableArray<Diagnostic>> VerifyAsync(string markup, params string[] otherSources)
        {
            var (source, expected) = Markup.Parse(Usings + markup);
            var compilation = TestCompiler.Compile(new[] { source }.Concat(otherSources).ToArray());

            var compilerErrors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(compilerErrors.Count == 0, "The test source does not compile:\n" + TestCompiler.Describe(compilerErrors));

            var actual = await TestCompiler.AnalyzeAsync(compilation);
            var inFirst = actual.Where(d => d.Location.SourceTree == compilation.SyntaxTrees.First()).ToList();
            var expectedText = string.Join("\n", expected.OrderBy(e => e.Span.Start).Select(e => e.Id + " " + e.Span + " '" + source.Substring(e.Span.Start, e.Span.Length) + "'"));
            var actualText = string.Join("\n", inFirst.Select(d => d.Id + " " + d.Location.SourceSpan + " '" + source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length) + "'"));
            Assert.True(expectedText == actualText,
                "Diagnostics differ.\nExpected:\n" + expectedText + "\nActual:\n" + actualText + "\nMessages:\n" + TestCompiler.Describe(actual));

            foreach (var diagnostic in actual)
            {
                Assert.Equal("https://github.com/cnngen/cnngen/blob/main/docs/diagnostics.md#" + diagnostic.Id.ToLowerInvariant(), diagnostic.Descriptor.HelpLinkUri);
                Assert.DoesNotContain('\n', diagnostic.GetMessage(CultureInfo.InvariantCulture));
            }

            // A network over a budget is still generated (only the budget error fails the build, with no cascade of missing members).
            VerifyGenerator(compilation, hasErrors: actual.Any(d => d.Severity == DiagnosticSeverity.Error && d.Descriptor.Category != "CnnGen.Budget"));
            return actual;
        }

        /// <summary>The generator never throws; it emits nothing when the analyzer found an error, and compiling code otherwise.</summary>
        public static void VerifyGenerator(Compilation compilation, bool hasErrors)
        {
            var (result, output) = TestCompiler.Generate(compilation);
            if (hasErrors)
            {
                Assert.True(result.GeneratedSources.IsEmpty,
                    "The generator emitted for an invalid network: " + string.Join(", ", result.GeneratedSources.Select(s => s.HintName)));
            }
            else
            {
                var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
                Assert.True(errors.Count == 0, "The generated code does not compile:\n" + TestCompiler.Describe(errors.Take(10)));
            }
            Assert.Empty(result.Diagnostics);
        }

        public static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(CultureInfo.InvariantCulture);

        public static string SingleMessage(IReadOnlyList<Diagnostic> diagnostics, string id) => Message(diagnostics.Single(d => d.Id == id));
    }
}
