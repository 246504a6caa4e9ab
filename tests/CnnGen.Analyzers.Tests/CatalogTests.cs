extern alias generator;

using System;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;
using DiagnosticDescriptors = generator::CnnGen.Generator.Diagnostics.DiagnosticDescriptors;
using NetworkAnalyzer = generator::CnnGen.Generator.Diagnostics.NetworkAnalyzer;
using ShapeIssueKind = generator::CnnGen.Shapes.ShapeIssueKind;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>The catalog is complete and consistent with the release file and the docs.</summary>
    public sealed class CatalogTests
    {
        private static readonly DiagnosticDescriptor[] Supported = new NetworkAnalyzer().SupportedDiagnostics.ToArray();

        [Fact]
        public void EveryShapeIssueKind_HasItsOwnRule()
        {
            var kinds = Enum.GetValues<ShapeIssueKind>();
            var rules = kinds.Select(k => DiagnosticDescriptors.ForShapeIssue(k)).ToArray();
            Assert.All(rules, r => Assert.NotNull(r));
            // One rule per kind, except that a block never closed is CNN0023 like any other misplaced marker: it is a kind
            // of its own only so that the code fix adding [End] can tell it apart.
            Assert.Equal(kinds.Length - 1, rules.Select(r => r!.Id).Distinct().Count());
            Assert.Equal(DiagnosticDescriptors.ForShapeIssue(ShapeIssueKind.UnbalancedBlock), DiagnosticDescriptors.ForShapeIssue(ShapeIssueKind.UnclosedBlock));
            Assert.All(rules, r => Assert.Contains(r!, Supported));
        }

        [Fact]
        public void Ids_AreContiguous_WithHelpLinks()
        {
            // IDs are never reused: a retired rule keeps its number (CNN0021, once "output is not a vector").
            var retired = new[] { "CNN0021" };
            var ids = Supported.Select(d => d.Id).ToArray();
            Assert.Equal(Enumerable.Range(1, ids.Length + retired.Length).Select(i => "CNN" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).Except(retired), ids);
            // Absolute, so the link works for a package user: the reference page on GitHub (also in the package's docs/).
            Assert.All(Supported, d => Assert.Equal("https://github.com/cnngen/cnngen/blob/main/docs/diagnostics.md#" + d.Id.ToLowerInvariant(), d.HelpLinkUri));
        }

        [Fact]
        public void EveryRule_IsInTheReleaseFile_AndTheDocs()
        {
            string root = RepositoryRoot();
            string releases = File.ReadAllText(Path.Combine(root, "generator", "CnnGen.Generator", "AnalyzerReleases.Unshipped.md"));
            string docs = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));
            foreach (var rule in Supported)
            {
                Assert.Contains(rule.Id + " | " + rule.Category + " | " + rule.DefaultSeverity + " |", releases, StringComparison.Ordinal);
                string anchor = "<a id=\"" + rule.Id.ToLowerInvariant() + "\"></a>";
                int at = docs.IndexOf(anchor, StringComparison.Ordinal);
                Assert.True(at >= 0, "docs/diagnostics.md has no section for " + rule.Id);
                // Each section shows the broken declaration, the message, and the fix.
                int next = docs.IndexOf("<a id=\"cnn", at + anchor.Length, StringComparison.Ordinal);
                string section = docs.Substring(at, (next < 0 ? docs.Length : next) - at);
                Assert.Contains("## " + rule.Id, section, StringComparison.Ordinal);
                Assert.Contains("Broken", section, StringComparison.Ordinal);
                Assert.Contains("Message", section, StringComparison.Ordinal);
                Assert.Contains("Fixed", section, StringComparison.Ordinal);
            }
        }

        [Fact]
        public async System.Threading.Tasks.Task DocsExamples_BrokenGetsTheMessage_FixedGetsNothing()
        {
            string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "diagnostics.md"));
            foreach (var rule in Supported)
            {
                string anchor = "<a id=\"" + rule.Id.ToLowerInvariant() + "\"></a>";
                int at = docs.IndexOf(anchor, StringComparison.Ordinal);
                int next = docs.IndexOf("<a id=\"cnn", at + anchor.Length, StringComparison.Ordinal);
                string section = docs.Substring(at, (next < 0 ? docs.Length : next) - at);
                string broken = Block(section, "Broken:\n\n```csharp\n");
                string message = Block(section, "Message:\n\n```text\n").Trim();
                string fixedCode = Block(section, "Fixed:\n\n```csharp\n");

                var brokenDiagnostics = await Infrastructure.TestCompiler.AnalyzeAsync(Infrastructure.TestCompiler.Compile(Infrastructure.AnalyzerVerifier.Usings + broken));
                Assert.Contains(brokenDiagnostics, d => d.Id + ": " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture) == message);
                if (fixedCode.Contains("...", StringComparison.Ordinal)) continue; // an excerpt
                var fixedDiagnostics = await Infrastructure.TestCompiler.AnalyzeAsync(Infrastructure.TestCompiler.Compile(Infrastructure.AnalyzerVerifier.Usings + fixedCode));
                Assert.True(fixedDiagnostics.IsEmpty, rule.Id + " fixed example still has " + Infrastructure.TestCompiler.Describe(fixedDiagnostics));
            }

            static string Block(string section, string start)
            {
                int from = section.IndexOf(start, StringComparison.Ordinal);
                Assert.True(from >= 0, "missing " + start);
                from += start.Length;
                return section.Substring(from, section.IndexOf("```", from, StringComparison.Ordinal) - from);
            }
        }

        private static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln"))) return dir.FullName;
            }
            throw new InvalidOperationException("CnnGen.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
