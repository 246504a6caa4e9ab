using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Diagnostics
{
    /// <summary>A diagnostic as plain values, so it can travel through the incremental pipeline.</summary>
    internal sealed record DiagnosticInfo(string Id, string Message, string Path, TextSpan Span, LinePositionSpan LineSpan);

    /// <summary>
    /// One network class's analyzer diagnostics, and whether one of its CnnGen attributes has a C# error (a PyTorch-style
    /// <c>[Linear(400, 120)]</c>, CS1729).
    /// </summary>
    internal sealed record NetworkDiagnostics(bool HasAttributeError, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// Why the generator reports diagnostics at all: the command-line compiler stops after declaration errors — an
    /// attribute that does not bind is one — before it reports any analyzer's diagnostics, so one C# error in a CnnGen
    /// attribute would hide the CNN diagnostics of every other network. Generator diagnostics are reported before that
    /// point. So when some network class has such an error, the generator reports the CNN diagnostics of every network
    /// (the analyzer's checks, run the same way); otherwise it reports nothing and the analyzer alone speaks.
    /// </summary>
    internal static class FallbackDiagnostics
    {
        public static NetworkDiagnostics Collect(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type) return new NetworkDiagnostics(false, EquatableArray<DiagnosticInfo>.Empty);
            bool hasError = type.GetAttributes().Any(a => IsCnnGen(a.AttributeClass) && (a.AttributeConstructor is null
                || a.ConstructorArguments.Any(arg => arg.Kind == TypedConstantKind.Error) || a.NamedArguments.Any(arg => arg.Value.Kind == TypedConstantKind.Error)));
            var infos = new List<DiagnosticInfo>();
            NetworkChecks.Check(type, diagnostic =>
            {
                var location = diagnostic.Location;
                if (location.SourceTree is null) return;
                infos.Add(new DiagnosticInfo(diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture), location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span));
            }, cancellationToken);
            return new NetworkDiagnostics(hasError, EquatableArray.From(infos));
        }

        public static void Report(SourceProductionContext output, ImmutableArray<NetworkDiagnostics> networks)
        {
            if (!networks.Any(n => n.HasAttributeError)) return;
            foreach (var network in networks)
            {
                foreach (var info in network.Diagnostics)
                {
                    if (!s_descriptors.TryGetValue(info.Id, out var descriptor)) continue;
                    output.ReportDiagnostic(Diagnostic.Create(descriptor, Location.Create(info.Path, info.Span, info.LineSpan), info.Message));
                }
            }
        }

        private static bool IsCnnGen(INamedTypeSymbol? attributeClass) =>
            attributeClass is { ContainingNamespace: { Name: "CnnGen" } ns } && ns.ContainingNamespace.IsGlobalNamespace;

        // The analyzer's rules with the finished message as their whole format (the message was formatted by the checks).
#pragma warning disable RS1017, RS2008 // the IDs are the catalog's own, tracked there
        private static readonly Dictionary<string, DiagnosticDescriptor> s_descriptors = new NetworkAnalyzer().SupportedDiagnostics.ToDictionary(
            d => d.Id,
            d => new DiagnosticDescriptor(d.Id, d.Title, "{0}", d.Category, d.DefaultSeverity, d.IsEnabledByDefault, d.Description, d.HelpLinkUri));
#pragma warning restore RS1017, RS2008
    }
}
