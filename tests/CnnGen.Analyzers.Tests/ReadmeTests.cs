using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// The README as a new user meets it: every <c>```csharp</c> block compiles as written (with the generator), the
    /// declarations together, each block of statements as a program of its own; and the clone ignores what runs leave.
    /// </summary>
    public sealed class ReadmeTests
    {
        private static readonly string Root = RepositoryRoot();

        public static IEnumerable<object[]> ProgramBlocks() =>
            Blocks().Where(IsProgram).Select(b => new object[] { FirstLine(b), b });

        [Fact]
        public void TheReadmeHasCodeBlocks()
        {
            var blocks = Blocks().ToList();
            Assert.True(blocks.Count >= 5, "README.md has " + blocks.Count + " csharp blocks");
            Assert.Contains(blocks, IsProgram);
        }

        [Fact]
        public async Task DeclarationBlocks_CompileTogether_WithTheGenerator() =>
            await CompileAsync(Declarations(), OutputKind.DynamicallyLinkedLibrary);

        [Theory]
        [MemberData(nameof(ProgramBlocks))]
        public async Task ProgramBlock_CompilesAsWritten(string firstLine, string block)
        {
            Assert.NotNull(firstLine);
            await CompileAsync(Declarations().Append(block).ToArray(), OutputKind.ConsoleApplication);
        }

        [Fact]
        public void GitIgnore_CoversRunOutputsAndPackedPackages()
        {
            var lines = File.ReadAllLines(Path.Combine(Root, ".gitignore")).Select(l => l.Trim()).ToHashSet();
            foreach (var expected in new[] { "bin/", "obj/", "fashion-mnist-run/", "/packages/", "*.nupkg" })
                Assert.Contains(expected, lines);
        }

        [Fact]
        public void TestCommand_ShowsProgress()
        {
            // README's second command stays `dotnet test CnnGen.sln`; every test project's default logger prints each test.
            string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
            Assert.Contains("dotnet test CnnGen.sln", readme, StringComparison.Ordinal);
            Assert.Contains("<VSTestLogger Condition=\"'$(VSTestLogger)' == ''\">console%3Bverbosity=normal</VSTestLogger>",
                File.ReadAllText(Path.Combine(Root, "Directory.Build.props")), StringComparison.Ordinal);
        }

        private static async Task CompileAsync(string[] sources, OutputKind kind)
        {
            var compilation = TestCompiler.Compile(sources).WithOptions(TestCompiler.CompilationOptions.WithOutputKind(kind));
            var (result, output) = TestCompiler.Generate(compilation);
            Assert.Empty(result.Diagnostics);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, "A README block does not compile:\n" + TestCompiler.Describe(errors.Take(10)) + "\n\n" + sources.Last());
            var analyzer = await TestCompiler.AnalyzeAsync(compilation);
            Assert.DoesNotContain(analyzer, d => d.Severity == DiagnosticSeverity.Error);
        }

        private static string[] Declarations() => Blocks().Where(b => !IsProgram(b)).ToArray();

        private static IEnumerable<string> Blocks()
        {
            string readme = File.ReadAllText(Path.Combine(Root, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
            foreach (Match match in Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline))
                yield return match.Groups[1].Value;
        }

        /// <summary>A block with top-level statements (a program), rather than only declarations.</summary>
        private static bool IsProgram(string block) =>
            CSharpSyntaxTree.ParseText(block, TestCompiler.ParseOptions).GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();

        private static string FirstLine(string block) => block.Split('\n').First(l => l.Trim().Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).Trim();

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
