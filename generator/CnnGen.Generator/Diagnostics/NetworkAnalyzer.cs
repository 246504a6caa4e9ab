using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using CnnGen.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CnnGen.Generator.Diagnostics
{
    /// <summary>
    /// Reports what keeps a <c>[Network]</c> class from being generated: declaration problems (CNN0001–CNN0006) and
    /// every shape issue of <see cref="ShapeInference"/> (CNN0007–CNN0022), each on the most precise place — the
    /// offending attribute argument, else the attribute, else the class name. It reads layers with the generator's
    /// own <see cref="NetworkParser.ReadLayer"/>, so the two never disagree on what was declared; locations stay in
    /// here and never reach the generator's model.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class NetworkAnalyzer : DiagnosticAnalyzer
    {
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.NetworkNotPartial,
            DiagnosticDescriptors.ContainingTypeNotPartial,
            DiagnosticDescriptors.NetworkGeneric,
            DiagnosticDescriptors.NetworkNotPlainClass,
            DiagnosticDescriptors.LayerWithoutNetwork,
            DiagnosticDescriptors.LayersSplitAcrossPartials,
            DiagnosticDescriptors.NoLayers,
            DiagnosticDescriptors.NonPositiveInput,
            DiagnosticDescriptors.NonPositiveArgument,
            DiagnosticDescriptors.NegativePadding,
            DiagnosticDescriptors.ProbabilityOutOfRange,
            DiagnosticDescriptors.InvalidBatchNormArgument,
            DiagnosticDescriptors.NonFiniteSlope,
            DiagnosticDescriptors.KernelLargerThanInput,
            DiagnosticDescriptors.StrideDropsCells,
            DiagnosticDescriptors.PoolPaddingTooLarge,
            DiagnosticDescriptors.SpatialLayerOnVector,
            DiagnosticDescriptors.LinearNeedsFlatten,
            DiagnosticDescriptors.FlattenOnVector,
            DiagnosticDescriptors.SoftmaxNotLast,
            DiagnosticDescriptors.TooLarge,
            DiagnosticDescriptors.UnbalancedBlock,
            DiagnosticDescriptors.ResidualShapeMismatch,
            DiagnosticDescriptors.ConcatShapeMismatch,
            DiagnosticDescriptors.GroupsDoNotDivide,
            DiagnosticDescriptors.OutputPaddingTooLarge);

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
        }

        private static void AnalyzeType(SymbolAnalysisContext context)
        {
            if (context.Symbol is not INamedTypeSymbol type) return;

            AttributeData? network = null;
            var layers = new List<(LayerKind Kind, AttributeData Attribute)>();
            foreach (var attribute in type.GetAttributes())
            {
                if (IsNetworkAttribute(attribute.AttributeClass)) network ??= attribute;
                else if (LayerAttributes.KindOf(attribute.AttributeClass) is { } kind) layers.Add((kind, attribute));
            }

            if (network is null)
            {
                if (layers.Count > 0 && SyntaxOf(layers[0].Attribute, context) is { } first)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LayerWithoutNetwork, first.GetLocation(), type.Name));
                return;
            }
            // [Network] is only allowed on classes (AttributeUsage); the compiler reports the rest.
            if (type.TypeKind != TypeKind.Class) return;

            var networkSyntax = SyntaxOf(network, context);
            var declaration = networkSyntax?.FirstAncestorOrSelf<TypeDeclarationSyntax>();
            if (networkSyntax is null || declaration is null) return;

            CheckDeclaration(context, type, declaration);

            // Layers on other partial declarations have no defined order: say so, and infer no shapes from them.
            bool split = false;
            foreach (var (_, attribute) in layers)
            {
                var syntax = SyntaxOf(attribute, context);
                if (syntax is null || (syntax.SyntaxTree == declaration.SyntaxTree && declaration.Span.Contains(syntax.Span))) continue;
                split = true;
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LayersSplitAcrossPartials, syntax.GetLocation(),
                    syntax.Name.ToString(), type.Name));
            }
            if (split) return;

            CheckShapes(context, network, networkSyntax, layers);
        }

        private static void CheckDeclaration(SymbolAnalysisContext context, INamedTypeSymbol type, TypeDeclarationSyntax declaration)
        {
            var name = declaration.Identifier.GetLocation();

            if (type.IsStatic)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NetworkNotPlainClass, name, type.Name, "static class"));
            else if (type.IsRecord)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NetworkNotPlainClass, name, type.Name, "record"));

            // Only the class's own type parameters: one nested in a generic type is generated inside it, as the parser does.
            if (type.TypeParameters.Length > 0)
            {
                var where = declaration.TypeParameterList?.GetLocation() ?? name;
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NetworkGeneric, where, Display(type)));
            }

            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NetworkNotPartial, name, type.Name));

            for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            {
                foreach (var reference in outer.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(context.CancellationToken) is TypeDeclarationSyntax outerDeclaration
                        && !outerDeclaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContainingTypeNotPartial, name, type.Name, Display(outer)));
                        break;
                    }
                }
            }
        }

        private static void CheckShapes(SymbolAnalysisContext context, AttributeData network, AttributeSyntax networkSyntax,
            List<(LayerKind Kind, AttributeData Attribute)> layers)
        {
            // Erroneous arguments are the compiler's to report; the shapes are unknown until they are fixed.
            var args = network.ConstructorArguments;
            if (args.Length != 3 || !NetworkParser.TryInt(args[0], out int channels)
                || !NetworkParser.TryInt(args[1], out int height) || !NetworkParser.TryInt(args[2], out int width))
                return;

            var specs = new List<LayerSpec>(layers.Count);
            foreach (var (kind, attribute) in layers)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                if (NetworkParser.ReadLayer(kind, attribute) is not { } spec) return;
                specs.Add(spec);
            }

            var layout = ShapeInference.Infer(TensorShape.Spatial(channels, height, width), specs);
            foreach (var issue in layout.Issues)
            {
                var descriptor = DiagnosticDescriptors.ForShapeIssue(issue.Kind);
                if (descriptor is null) continue;

                bool isLayer = issue.LayerIndex >= 0 && issue.LayerIndex < layers.Count;
                var attribute = isLayer ? layers[issue.LayerIndex].Attribute : network;
                var attributeSyntax = isLayer ? SyntaxOf(attribute, context) : networkSyntax;
                if (attributeSyntax is null) continue;
                var location = (ArgumentSyntax(attribute, attributeSyntax, issue.Argument) ?? (SyntaxNode)attributeSyntax).GetLocation();

                var properties = ImmutableDictionary<string, string?>.Empty;
                if (issue.Kind == ShapeIssueKind.KernelLargerThanInput && isLayer)
                {
                    // The padding that keeps the size exists for an odd kernel at stride 1; the code fix offers it.
                    var spec = specs[issue.LayerIndex];
                    if (spec.Kind is LayerKind.Conv2d or LayerKind.MaxPool or LayerKind.AvgPool && spec.Kernel % 2 == 1 && spec.Stride == 1 && spec.Kernel == spec.KernelWidth && spec.Dilation == 1 && spec.DilationWidth == 1)
                        properties = properties.Add(DiagnosticDescriptors.SamePaddingProperty, ((spec.Kernel - 1) / 2).ToString(CultureInfo.InvariantCulture));
                }
                if (issue.Kind == ShapeIssueKind.UnbalancedBlock && issue.Message.EndsWith("is never closed: add [End] after its last layer", System.StringComparison.Ordinal))
                    properties = properties.Add(DiagnosticDescriptors.UnclosedBlockProperty, "true");
                context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, issue.Message));
            }
        }

        /// <summary>
        /// The argument the issue names: a named argument (<c>Padding = 7</c>) by its name, a positional one by its
        /// constructor parameter's name (<c>kernelSize</c>), written positionally or as <c>kernelSize: 5</c>.
        /// Null when it is not written (a default) or the issue names none.
        /// </summary>
        private static AttributeArgumentSyntax? ArgumentSyntax(AttributeData attribute, AttributeSyntax syntax, string? argument)
        {
            if (argument is null || syntax.ArgumentList is not { } list) return null;
            var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            int position = 0;
            foreach (var arg in list.Arguments)
            {
                if (arg.NameEquals is { } nameEquals)
                {
                    if (nameEquals.Name.Identifier.ValueText == argument) return arg;
                    continue;
                }
                string? parameter = arg.NameColon is { } nameColon
                    ? nameColon.Name.Identifier.ValueText
                    : position < parameters.Length ? parameters[position].Name : null;
                position++;
                if (parameter == argument) return arg;
            }
            return null;
        }

        private static AttributeSyntax? SyntaxOf(AttributeData attribute, SymbolAnalysisContext context) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) as AttributeSyntax;

        private static bool IsNetworkAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: "NetworkAttribute", ContainingNamespace: { Name: "CnnGen" } ns } && ns.ContainingNamespace.IsGlobalNamespace;

        private static string Display(INamedTypeSymbol type) =>
            type.TypeParameters.Length == 0 ? type.Name : type.Name + "<" + string.Join(", ", System.Linq.Enumerable.Select(type.TypeParameters, p => p.Name)) + ">";
    }
}
