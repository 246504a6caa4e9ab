using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace CnnGen.Analyzers.Tests.Infrastructure
{
    /// <summary>Applies a code fix to the first diagnostic of an ID in a document of an ad-hoc workspace, and checks the result.</summary>
    public static class CodeFixVerifier
    {
        /// <summary>
        /// Fixes the diagnostic <paramref name="id"/> in <paramref name="before"/> with <paramref name="fix"/>'s first action
        /// and asserts the text becomes <paramref name="after"/>, which no longer has that diagnostic and compiles.
        /// </summary>
        public static async Task VerifyFixAsync(CodeFixProvider fix, string id, string before, string after, string? expectedTitle = null)
        {
            string fixedText = await ApplyAsync(fix, id, AnalyzerVerifier.Usings + before);
            Assert.Equal(Normalize(AnalyzerVerifier.Usings + after), Normalize(fixedText));

            var compilation = TestCompiler.Compile(fixedText);
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            var diagnostics = await TestCompiler.AnalyzeAsync(compilation);
            Assert.DoesNotContain(diagnostics, d => d.Id == id);

            if (expectedTitle is not null)
                Assert.Equal(expectedTitle, (await ActionsAsync(fix, id, AnalyzerVerifier.Usings + before)).Single().Title);
        }

        /// <summary>Asserts <paramref name="fix"/> offers nothing for the diagnostic <paramref name="id"/> in <paramref name="source"/>.</summary>
        public static async Task VerifyNoFixAsync(CodeFixProvider fix, string id, string source) =>
            Assert.Empty(await ActionsAsync(fix, id, AnalyzerVerifier.Usings + source));

        private static async Task<string> ApplyAsync(CodeFixProvider fix, string id, string source)
        {
            var actions = await ActionsAsync(fix, id, source, keepDocument: true);
            Assert.NotEmpty(actions);
            var operations = await actions[0].GetOperationsAsync(CancellationToken.None);
            var solution = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
            var document = solution.Projects.Single().Documents.Single();
            return (await document.GetTextAsync()).ToString();
        }

        private static async Task<List<CodeAction>> ActionsAsync(CodeFixProvider fix, string id, string source, bool keepDocument = false)
        {
            var workspace = new AdhocWorkspace();
            var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "Test", "Test", LanguageNames.CSharp,
                compilationOptions: TestCompiler.CompilationOptions, parseOptions: TestCompiler.ParseOptions, metadataReferences: TestCompiler.References));
            var document = workspace.AddDocument(project.Id, "Test.cs", SourceText.From(source));

            var compilation = (await document.Project.GetCompilationAsync())!;
            var diagnostics = await TestCompiler.AnalyzeAsync(compilation);
            var diagnostic = diagnostics.FirstOrDefault(d => d.Id == id)
                ?? throw new InvalidOperationException("No " + id + " in:\n" + TestCompiler.Describe(diagnostics));
            Assert.Contains(id, fix.FixableDiagnosticIds);

            var actions = new List<CodeAction>();
            var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
            await fix.RegisterCodeFixesAsync(context);
            return actions;
        }

        private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
