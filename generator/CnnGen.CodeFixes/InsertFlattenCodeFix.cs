using System.Collections.Immutable;
using System.Composition;
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
    /// CNN0018: inserts <c>[Flatten]</c> before a <c>Linear</c> that sees a spatial tensor — on its own line, indented
    /// as the <c>Linear</c>'s line, or as <c>Flatten, </c> inside a list that holds several attributes.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InsertFlattenCodeFix)), Shared]
    public sealed class InsertFlattenCodeFix : CodeFixProvider
    {
        public const string Title = "Insert [Flatten] before Linear";

        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.LinearNeedsFlatten.Id);

        public override FixAllProvider? GetFixAllProvider() => null; // shape inference stops at the first error: one at a time.

        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                if (attribute?.Parent is not AttributeListSyntax) continue;
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => InsertFlattenAsync(context.Document, attribute, ct), equivalenceKey: Title),
                    diagnostic);
            }
        }

        private static async Task<Document> InsertFlattenAsync(Document document, AttributeSyntax linear, CancellationToken cancellationToken)
        {
            var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var list = (AttributeListSyntax)linear.Parent!;
            string flatten = FlattenName(linear.Name);

            TextChange change;
            if (list.Attributes.Count == 1 && list.Target is null && LineIndentation(text, list.SpanStart) is { } indentation)
            {
                change = new TextChange(new TextSpan(list.SpanStart, 0), "[" + flatten + "]" + NewLine(text) + indentation);
            }
            else
            {
                change = new TextChange(new TextSpan(linear.SpanStart, 0), flatten + ", ");
            }
            return document.WithText(text.WithChanges(change));
        }

        /// <summary>Written as the Linear attribute is written: <c>Linear</c> → <c>Flatten</c>, <c>CnnGen.LinearAttribute</c> → <c>CnnGen.FlattenAttribute</c>.</summary>
        private static string FlattenName(NameSyntax name)
        {
            string written = name.ToString();
            string simple = name is QualifiedNameSyntax q ? q.Right.Identifier.ValueText : name is AliasQualifiedNameSyntax a ? a.Name.Identifier.ValueText : written;
            string prefix = written.Substring(0, written.Length - simple.Length);
            return prefix + (simple.EndsWith("Attribute", System.StringComparison.Ordinal) ? "FlattenAttribute" : "Flatten");
        }

        /// <summary>The whitespace before <paramref name="position"/> on its line, or null when other text precedes it there.</summary>
        private static string? LineIndentation(SourceText text, int position)
        {
            var line = text.Lines.GetLineFromPosition(position);
            string before = text.ToString(TextSpan.FromBounds(line.Start, position));
            return before.Trim().Length == 0 ? before : null;
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
