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
            DiagnosticDescriptors.OutputPaddingTooLarge,
            DiagnosticDescriptors.MultiplyAddBudgetExceeded,
            DiagnosticDescriptors.ParameterBudgetExceeded,
            DiagnosticDescriptors.WorkspaceBudgetExceeded,
            DiagnosticDescriptors.InvalidBudget);

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterSymbolAction(static context =>
            {
                if (context.Symbol is INamedTypeSymbol type) NetworkChecks.Check(type, context.ReportDiagnostic, context.CancellationToken);
            }, SymbolKind.NamedType);
        }
    }

    /// <summary>
    /// The checks behind <see cref="NetworkAnalyzer"/>, on a type symbol, reporting through a callback: the analyzer runs
    /// them, and the generator runs them too when a C# error in a CnnGen attribute would make the command-line compiler
    /// stop before it reports analyzer diagnostics (see <c>NetworkGenerator</c>).
    /// </summary>
    internal static class NetworkChecks
    {

        public static void Check(INamedTypeSymbol type, System.Action<Diagnostic> report, System.Threading.CancellationToken cancellationToken)
        {
            var context = new Context(report, cancellationToken);

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

        private static void CheckDeclaration(Context context, INamedTypeSymbol type, TypeDeclarationSyntax declaration)
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

        private static void CheckShapes(Context context, AttributeData network, AttributeSyntax networkSyntax,
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
                if (issue.Kind == ShapeIssueKind.UnclosedBlock)
                    properties = properties.Add(DiagnosticDescriptors.UnclosedBlockProperty, "true");
                context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, issue.Message));
            }
            if (!layout.HasErrors) CheckBudgets(context, network, networkSyntax, layout);
        }

        /// <summary>The optional cost budgets of [Network]: each written one must be positive, and the network must fit it.</summary>
        private static void CheckBudgets(Context context, AttributeData network, AttributeSyntax networkSyntax, NetworkLayout layout)
        {
            if (network.NamedArguments.IsEmpty) return;
            var c = CultureInfo.InvariantCulture;
            string name = network.ApplicationSyntaxReference is null ? "The network" : (networkSyntax.FirstAncestorOrSelf<TypeDeclarationSyntax>()?.Identifier.ValueText ?? "The network");
            foreach (var argument in network.NamedArguments)
            {
                if (argument.Value.Kind == TypedConstantKind.Error || argument.Value.Value is not long budget) continue;
                var location = (ArgumentSyntax(network, networkSyntax, argument.Key) ?? (SyntaxNode)networkSyntax).GetLocation();
                if (budget <= 0)
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidBudget, location, argument.Key, budget.ToString("N0", c)));
                    continue;
                }
                var costs = Costs.Of(argument.Key, layout);
                if (costs is null || costs.Value.Total <= budget) continue;
                var (total, what, descriptor, top) = costs.Value;
                context.ReportDiagnostic(Diagnostic.Create(descriptor, location,
                    name + " " + what.Replace("{0}", total.ToString("N0", c)) + ", over its budget " + argument.Key + " = " + budget.ToString("N0", c)
                    + " by " + (total - budget).ToString("N0", c) + "; " + top));
            }
        }

        /// <summary>The cost a budget limits, with the layers that cost the most.</summary>
        private static class Costs
        {
            public static (long Total, string What, DiagnosticDescriptor Descriptor, string Top)? Of(string budget, NetworkLayout layout)
            {
                switch (budget)
                {
                    case "MaxMultiplyAdds":
                        return (layout.MultiplyAdds, "needs {0} multiply-adds per sample", DiagnosticDescriptors.MultiplyAddBudgetExceeded,
                            "the most: " + Top(layout, layout.MultiplyAdds, l => l.MultiplyAdds));
                    case "MaxParameterBytes":
                        return (layout.ParameterBytes, "has {0} parameter bytes (float32 weights and running statistics)", DiagnosticDescriptors.ParameterBudgetExceeded,
                            "the most: " + Top(layout, layout.ParameterBytes, l => l.ParameterBytes));
                    case "MaxWorkspaceBytes":
                    {
                        long bytes = 4 * Planning.ExecutionPlan.Create(layout).SharedActivationLength;
                        return (bytes, "needs {0} workspace bytes per sample (activations, shared by liveness)", DiagnosticDescriptors.WorkspaceBudgetExceeded,
                            "the largest layer outputs: " + Top(layout, 0, l => l.ActivationBytes));
                    }
                    default: return null;
                }
            }

            /// <summary>The three layers with the largest cost, with their share of <paramref name="total"/> (none when 0): <c>Conv2d (layer 3) 240,000 (56%)</c>.</summary>
            private static string Top(NetworkLayout layout, long total, System.Func<LayerLayout, long> cost)
            {
                var c = CultureInfo.InvariantCulture;
                var parts = new List<string>();
                foreach (var layer in System.Linq.Enumerable.Take(System.Linq.Enumerable.OrderByDescending(layout.Layers, cost), 3))
                {
                    long value = cost(layer);
                    if (value <= 0) break;
                    string where = layer.TorchName + " (layer " + layer.Position.ToString(c) + (layer.Path == layer.Position.ToString(c) ? "" : ", " + layer.Path) + ")";
                    parts.Add(where + " " + value.ToString("N0", c) + (total > 0 ? " (" + (100.0 * value / total).ToString("0", c) + "%)" : ""));
                }
                return string.Join(", ", parts);
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

        /// <summary>What the checks need of an analysis context: a way to report, and cancellation.</summary>
        private readonly struct Context
        {
            private readonly System.Action<Diagnostic> _report;
            public Context(System.Action<Diagnostic> report, System.Threading.CancellationToken cancellationToken)
            {
                _report = report;
                CancellationToken = cancellationToken;
            }
            public System.Threading.CancellationToken CancellationToken { get; }
            public void ReportDiagnostic(Diagnostic diagnostic) => _report(diagnostic);
        }

        private static AttributeSyntax? SyntaxOf(AttributeData attribute, Context context) =>
            attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) as AttributeSyntax;

        private static bool IsNetworkAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: "NetworkAttribute", ContainingNamespace: { Name: "CnnGen" } ns } && ns.ContainingNamespace.IsGlobalNamespace;

        private static string Display(INamedTypeSymbol type) =>
            type.TypeParameters.Length == 0 ? type.Name : type.Name + "<" + string.Join(", ", System.Linq.Enumerable.Select(type.TypeParameters, p => p.Name)) + ">";
    }
}
