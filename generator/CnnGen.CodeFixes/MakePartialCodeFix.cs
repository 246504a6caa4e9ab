using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CnnGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.CodeFixes
{
    /// <summary>
    /// CNN0001 and CNN0002: adds <c>partial</c> to the network class and to every type it is nested in that lacks it.
    /// The keyword goes right before <c>class</c>/<c>struct</c>/<c>record</c>, where C# requires it, as a text edit,
    /// so the declaration's trivia and the rest of the file stay exactly as written.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
    public sealed class MakePartialCodeFix : CodeFixProvider
    {
        public const string Title = "Make the network class partial";

        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.NetworkNotPartial.Id, DiagnosticDescriptors.ContainingTypeNotPartial.Id);

        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                var declaration = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<TypeDeclarationSyntax>();
                if (declaration is null) continue;
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => MakePartialAsync(context.Document, declaration, ct), equivalenceKey: Title),
                    diagnostic);
            }
        }

        private static async Task<Document> MakePartialAsync(Document document, TypeDeclarationSyntax declaration, CancellationToken cancellationToken)
        {
            var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var changes = new List<TextChange>();
            for (SyntaxNode? node = declaration; node is not null; node = node.Parent)
            {
                if (node is TypeDeclarationSyntax type && !type.Modifiers.Any(SyntaxKind.PartialKeyword))
                    changes.Add(new TextChange(new TextSpan(type.Keyword.SpanStart, 0), "partial "));
            }
            return changes.Count == 0 ? document : document.WithText(text.WithChanges(changes.OrderBy(c => c.Span.Start)));
        }
    }
}
