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
            var args = attribute.ConstructorArguments;
            if (args.Any(a => a.Kind == TypedConstantKind.Error)) return null;
            int Arg(int index) => index < args.Length && args[index].Value is int value ? value : 0;
            double DoubleArg(int index, double fallback) => index < args.Length ? ToDouble(args[index].Value, fallback) : fallback;

            int? stride = null, padding = null;
            bool? bias = null;
            double? eps = null, momentum = null;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Value.Kind == TypedConstantKind.Error) return null;
                switch (named.Key)
                {
                    case "Stride": stride = named.Value.Value as int?; break;
                    case "Padding": padding = named.Value.Value as int?; break;
                    case "Bias": bias = named.Value.Value as bool?; break;
                    case "Eps": eps = ToDouble(named.Value.Value, double.NaN); break;
                    case "Momentum": momentum = ToDouble(named.Value.Value, double.NaN); break;
                }
            }

            return kind switch
            {
                LayerKind.Conv2d => LayerSpec.Conv2d(Arg(0), Arg(1), stride ?? 1, padding ?? 0, bias ?? true),
                LayerKind.MaxPool => LayerSpec.MaxPool(Arg(0), stride, padding ?? 0),
                LayerKind.AvgPool => LayerSpec.AvgPool(Arg(0), stride, padding ?? 0),
                LayerKind.BatchNorm => LayerSpec.BatchNorm(eps ?? 1e-5, momentum ?? 0.1),
                LayerKind.LeakyReLU => LayerSpec.LeakyReLU(DoubleArg(0, 0.01)),
                LayerKind.Linear => LayerSpec.Linear(Arg(0), bias ?? true),
                LayerKind.Dropout => LayerSpec.Dropout(DoubleArg(0, 0.5)),
                _ => new LayerSpec(kind),
            };
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
            return attributeClass.Name switch
            {
                "Conv2dAttribute" => LayerKind.Conv2d,
                "MaxPoolAttribute" => LayerKind.MaxPool,
                "AvgPoolAttribute" => LayerKind.AvgPool,
                "BatchNormAttribute" => LayerKind.BatchNorm,
                "ReLUAttribute" => LayerKind.ReLU,
                "LeakyReLUAttribute" => LayerKind.LeakyReLU,
                "SigmoidAttribute" => LayerKind.Sigmoid,
                "TanhAttribute" => LayerKind.Tanh,
                "FlattenAttribute" => LayerKind.Flatten,
                "LinearAttribute" => LayerKind.Linear,
                "DropoutAttribute" => LayerKind.Dropout,
                "SoftmaxAttribute" => LayerKind.Softmax,
                _ => null,
            };
        }
    }
}
