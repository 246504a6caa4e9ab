using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.CodeFixes
{
    /// <summary>
    /// CNN0023 for a block never closed: appends <c>[End]</c> after the class's last attribute list, on its own line and
    /// indented as that list (the block then holds every layer after its opening, the usual intent at the end of a network).
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CloseBlockCodeFix)), Shared]
    public sealed class CloseBlockCodeFix : CodeFixProvider
    {
        public const string Title = "Close the block with [End]";

        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnbalancedBlock.Id);

        public override FixAllProvider? GetFixAllProvider() => null; // inference stops at the first error: one at a time.

        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.ContainsKey(DiagnosticDescriptors.UnclosedBlockProperty)) continue;
                var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                var declaration = attribute?.FirstAncestorOrSelf<TypeDeclarationSyntax>();
                if (declaration is null || declaration.AttributeLists.Count == 0) continue;
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => AppendEndAsync(context.Document, declaration, ct), equivalenceKey: Title),
                    diagnostic);
            }
        }

        private static async Task<Document> AppendEndAsync(Document document, TypeDeclarationSyntax declaration, CancellationToken cancellationToken)
        {
            var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var last = declaration.AttributeLists.Last();
            var line = text.Lines.GetLineFromPosition(last.SpanStart);
            string before = text.ToString(TextSpan.FromBounds(line.Start, last.SpanStart));
            string indentation = before.Trim().Length == 0 ? before : "";
            // After the list and anything else on its line (a trailing comment), before the line break.
            var change = new TextChange(new TextSpan(line.End, 0), NewLine(text) + indentation + "[End]");
            return document.WithText(text.WithChanges(change));
        }

        private static string NewLine(SourceText text)
        {
            foreach (var line in text.Lines)
            {
                if (line.EndIncludingLineBreak > line.End)
                    return text.ToString(TextSpan.FromBounds(line.End, line.EndIncludingLineBreak));
            }
            return "\n";
        }
    }
}
