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
    /// CNN0014, for an odd kernel at stride 1: sets <c>Padding = (K-1)/2</c>, the padding that keeps the input's size
    /// (so the kernel always fits). The analyzer computes the value from the layer it read and passes it in the
    /// diagnostic's properties; this fix only writes it: replaces an existing <c>Padding = ...</c> or appends one.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SamePaddingCodeFix)), Shared]
    public sealed class SamePaddingCodeFix : CodeFixProvider
    {
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.KernelLargerThanInput.Id);

        public override FixAllProvider? GetFixAllProvider() => null; // shape inference stops at the first error: one at a time.

        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null) return;
            foreach (var diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(DiagnosticDescriptors.SamePaddingProperty, out var padding) || padding is null) continue;
                var attribute = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>();
                if (attribute?.ArgumentList is null) continue;
                string title = "Set Padding = " + padding + " to keep the input size";
                context.RegisterCodeFix(
                    CodeAction.Create(title, ct => SetPaddingAsync(context.Document, attribute, padding, ct), equivalenceKey: "SetSamePadding"),
                    diagnostic);
            }
        }

        private static async Task<Document> SetPaddingAsync(Document document, AttributeSyntax attribute, string padding, CancellationToken cancellationToken)
        {
            var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var arguments = attribute.ArgumentList!;
            foreach (var argument in arguments.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == "Padding")
                    return document.WithText(text.WithChanges(new TextChange(argument.Expression.Span, padding)));
            }
            var change = arguments.Arguments.Count == 0
                ? new TextChange(new TextSpan(arguments.OpenParenToken.Span.End, 0), "Padding = " + padding)
                : new TextChange(new TextSpan(arguments.Arguments[arguments.Arguments.Count - 1].Span.End, 0), ", Padding = " + padding);
            return document.WithText(text.WithChanges(change));
        }
    }
}
