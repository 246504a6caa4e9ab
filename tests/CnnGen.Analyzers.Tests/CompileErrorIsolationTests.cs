using System.Linq;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>An ordinary C# error in one network class does not hide the CNN diagnostics of the others (issue 18).</summary>
    public sealed class CompileErrorIsolationTests
    {
        private const string Source = AnalyzerVerifier.Usings + """
            [Network(1, 28, 28)]
            [Flatten]
            [Linear(400, 120)]
            public partial class TorchStyle { }

            [Network(1, 28, 28)]
            [Conv2d(6, 5, Padding = -1)]
            [Flatten]
            [Linear(10)]
            public partial class Broken { }

            [Network(1, 4, 4)]
            [Linear(10)]
            public partial class NoFlatten { }
            """;

        [Fact]
        public async Task CSharpErrorInOneClass_KeepsTheOthersDiagnostics()
        {
            var compilation = TestCompiler.Compile(Source);
            Assert.Contains(compilation.GetDiagnostics(), d => d.Id == "CS1729");
            var diagnostics = await TestCompiler.AnalyzeAsync(compilation);
            Assert.Contains(diagnostics, d => d.Id == "CNN0010");
            Assert.Contains(diagnostics, d => d.Id == "CNN0018");
            // The class with the C# error gets no invented CNN diagnostic (its unbound [Linear] has no arguments, not a 0).
            Assert.Equal(2, diagnostics.Length);
        }

        /// <summary>
        /// The command-line compiler stops after declaration errors (CS1729 on an attribute is one) before it reports any
        /// analyzer diagnostics; generator diagnostics come earlier. So with such an error the generator reports them.
        /// </summary>
        [Fact]
        public void CSharpErrorInACnnGenAttribute_TheGeneratorReportsTheOtherNetworksDiagnostics()
        {
            var (result, _) = TestCompiler.Generate(TestCompiler.Compile(Source));
            var ids = result.Diagnostics.Select(d => d.Id).ToArray();
            Assert.Equal(new[] { "CNN0010", "CNN0018" }, ids.OrderBy(id => id).ToArray());
            var padding = result.Diagnostics.Single(d => d.Id == "CNN0010");
            Assert.Equal("Padding = -1", padding.Location.SourceTree is null
                ? Source.Substring(padding.Location.SourceSpan.Start, padding.Location.SourceSpan.Length)
                : padding.Location.SourceTree.ToString().Substring(padding.Location.SourceSpan.Start, padding.Location.SourceSpan.Length));
            Assert.Equal("Conv2d (layer 0) needs a padding of 0 or more; got -1", padding.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
            Assert.StartsWith("https://", padding.Descriptor.HelpLinkUri);
        }

        [Fact]
        public void WithoutACSharpError_TheGeneratorReportsNothing_TheAnalyzerDoes()
        {
            var (result, _) = TestCompiler.Generate(TestCompiler.Compile(Source.Replace("[Linear(400, 120)]", "[Linear(120)]")));
            Assert.Empty(result.Diagnostics);
        }
    }
}
