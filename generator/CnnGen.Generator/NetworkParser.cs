using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Helpers;
using CnnGen.Generator.Model;
using CnnGen.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator
{
    /// <summary>
    /// Reads a <c>[Network]</c> class into a <see cref="NetworkSpec"/>. Returns null for anything the generator
    /// must not emit for (not partial, generic, split layers, erroneous arguments); the analyzers report those.
    /// Nothing Roslyn-specific leaves this class.
    /// </summary>
    internal static class NetworkParser
    {
        public static NetworkSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax declaration)
                return null;
            if (type.TypeKind != TypeKind.Class || type.TypeParameters.Length > 0 || type.IsStatic)
                return null;
            if (!IsPartialAllTheWay(type))
                return null;
            if (HasLayerElsewhere(type, declaration))
                return null;

            var network = context.Attributes[0];
            if (network.ConstructorArguments.Length != 3 || !TryInt(network.ConstructorArguments[0], out int channels)
                || !TryInt(network.ConstructorArguments[1], out int height) || !TryInt(network.ConstructorArguments[2], out int width))
                return null;

            var layers = new List<LayerSpec>();
            foreach (var attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var kind = LayerAttributes.KindOf(attribute.AttributeClass);
                if (kind is null) continue;
                var layer = ReadLayer(kind.Value, attribute);
                if (layer is null) return null;
                layers.Add(layer.Value);
            }

            // Invalid shapes: emit nothing, the analyzers explain.
            var layout = ShapeInference.Infer(TensorShape.Spatial(channels, height, width), layers);
            if (layout.HasErrors) return null;

            return new NetworkSpec(
                type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
                EquatableArray.From(ContainingTypes(type)),
                type.Name,
                channels, height, width,
                EquatableArray.From(layers));
        }

        /// <summary>The class and every type it is nested in are declared partial everywhere.</summary>
        private static bool IsPartialAllTheWay(INamedTypeSymbol type)
        {
            for (var current = type; current is not null; current = current.ContainingType)
            {
                foreach (var reference in current.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax() is not TypeDeclarationSyntax syntax || !syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
                        return false;
                }
            }
            return true;
        }

        /// <summary>True when some layer attribute sits on another partial declaration than the [Network] one.</summary>
        private static bool HasLayerElsewhere(INamedTypeSymbol type, ClassDeclarationSyntax networkDeclaration)
        {
            foreach (var attribute in type.GetAttributes())
            {
                if (LayerAttributes.KindOf(attribute.AttributeClass) is null) continue;
                var syntax = attribute.ApplicationSyntaxReference;
                if (syntax is null) continue;
                if (syntax.SyntaxTree != networkDeclaration.SyntaxTree || !networkDeclaration.Span.Contains(syntax.Span))
                    return true;
            }
            return false;
        }

        private static IEnumerable<ContainingType> ContainingTypes(INamedTypeSymbol type)
        {
            var chain = new List<ContainingType>();
            for (var current = type.ContainingType; current is not null; current = current.ContainingType)
            {
                string keyword = current.IsRecord
                    ? (current.TypeKind == TypeKind.Struct ? "record struct" : "record")
                    : current.TypeKind switch
                    {
                        TypeKind.Struct => "struct",
                        TypeKind.Interface => "interface",
                        _ => "class",
                    };
                string name = current.Name;
                if (current.TypeParameters.Length > 0)
                    name += "<" + string.Join(", ", current.TypeParameters.Select(p => p.Name)) + ">";
                chain.Insert(0, new ContainingType(keyword, name));
            }
            return chain;
        }

        /// <summary>One layer attribute as a <see cref="LayerSpec"/>, defaults applied; null when an argument is erroneous. Shared with the analyzers.</summary>
        internal static LayerSpec? ReadLayer(LayerKind kind, AttributeData attribute)
        {
            // An attribute that does not bind (PyTorch's [Linear(400, 120)], CS1729) has no arguments at all: the compiler
            // reports it, and reading it would invent a 0.
            if (attribute.AttributeConstructor is null) return null;
            var args = attribute.ConstructorArguments;
            if (args.Any(a => a.Kind == TypedConstantKind.Error)) return null;
            int Arg(int index, int fallback = 0) => index < args.Length && args[index].Value is int value ? value : fallback;
            double DoubleArg(int index, double fallback) => index < args.Length ? ToDouble(args[index].Value, fallback) : fallback;

            var named = new Dictionary<string, object?>();
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Value.Kind == TypedConstantKind.Error) return null;
                named[argument.Key] = argument.Value.Value;
            }
            int Named(string name, int fallback) => named.TryGetValue(name, out var value) && value is int i ? i : fallback;
            bool Flag(string name, bool fallback) => named.TryGetValue(name, out var value) && value is bool b ? b : fallback;
            double Real(string name, double fallback) => named.TryGetValue(name, out var value) ? ToDouble(value, double.NaN) : fallback;
            // A per-axis value: the axis property when set (a stride or dilation above 0, a padding of 0 or more), else the square one.
            int Axis(string square, string axis, int squareDefault, int unset)
            {
                int value = Named(axis, unset);
                return value != unset ? value : Named(square, squareDefault);
            }

            switch (kind)
            {
                case LayerKind.Conv2d:
                    return LayerSpec.Conv2d(Arg(0), Arg(1), Arg(2, Arg(1)),
                        Axis("Stride", "StrideHeight", 1, 0), Axis("Stride", "StrideWidth", 1, 0),
                        Axis("Padding", "PaddingHeight", 0, -1), Axis("Padding", "PaddingWidth", 0, -1),
                        Axis("Dilation", "DilationHeight", 1, 0), Axis("Dilation", "DilationWidth", 1, 0),
                        Named("Groups", 1), Flag("Bias", true));
                case LayerKind.ConvTranspose2d:
                    return LayerSpec.ConvTranspose2d(Arg(0), Arg(1), Arg(2, Arg(1)),
                        Axis("Stride", "StrideHeight", 1, 0), Axis("Stride", "StrideWidth", 1, 0),
                        Axis("Padding", "PaddingHeight", 0, -1), Axis("Padding", "PaddingWidth", 0, -1),
                        Axis("OutputPadding", "OutputPaddingHeight", 0, -1), Axis("OutputPadding", "OutputPaddingWidth", 0, -1),
                        Flag("Bias", true));
                case LayerKind.MaxPool:
                case LayerKind.AvgPool:
                {
                    // An unwritten stride is the kernel size, as in PyTorch; a written one is kept as it is for the analyzer.
                    int? stride = named.TryGetValue("Stride", out var written) && written is int value ? value : null;
                    return kind == LayerKind.MaxPool ? LayerSpec.MaxPool(Arg(0), stride, Named("Padding", 0)) : LayerSpec.AvgPool(Arg(0), stride, Named("Padding", 0));
                }
                case LayerKind.BatchNorm: return LayerSpec.BatchNorm(Real("Eps", 1e-5), Real("Momentum", 0.1));
                case LayerKind.LeakyReLU: return LayerSpec.LeakyReLU(DoubleArg(0, 0.01));
                case LayerKind.Linear: return LayerSpec.Linear(Arg(0), Flag("Bias", true));
                case LayerKind.Dropout: return LayerSpec.Dropout(DoubleArg(0, 0.5));
                case LayerKind.AdaptiveAvgPool: return LayerSpec.AdaptiveAvgPool(Arg(0), Arg(1));
                case LayerKind.GlobalAvgPool: return LayerSpec.GlobalAvgPool();
                case LayerKind.Upsample: return LayerSpec.Upsample(Arg(0), (InterpolationMode)Named("Mode", 0));
                case LayerKind.GELU: return LayerSpec.GELU(Named("Approximate", 0) == 1);
                default: return new LayerSpec(kind);
            }
        }

        private static double ToDouble(object? value, double fallback) => value switch
        {
            double d => d,
            float f => f,
            int i => i,
            _ => fallback,
        };

        internal static bool TryInt(TypedConstant constant, out int value)
        {
            if (constant.Kind != TypedConstantKind.Error && constant.Value is int v)
            {
                value = v;
                return true;
            }
            value = 0;
            return false;
        }
    }

    /// <summary>The layer attributes, by metadata name. Shared by the parser and the analyzers.</summary>
    internal static class LayerAttributes
    {
        public static LayerKind? KindOf(INamedTypeSymbol? attributeClass)
        {
            if (attributeClass is null || attributeClass.ContainingNamespace is not { Name: "CnnGen" } ns || !ns.ContainingNamespace.IsGlobalNamespace)
                return null;
            // Every kind's attribute is named after it: Conv2d -> Conv2dAttribute, Residual -> ResidualAttribute.
            string name = attributeClass.Name;
            if (!name.EndsWith("Attribute", System.StringComparison.Ordinal)) return null;
            return s_kinds.TryGetValue(name.Substring(0, name.Length - "Attribute".Length), out var kind) ? kind : null;
        }

        private static readonly Dictionary<string, LayerKind> s_kinds =
            System.Enum.GetValues(typeof(LayerKind)).Cast<LayerKind>().ToDictionary(kind => kind.ToString(), kind => kind);
    }
}
