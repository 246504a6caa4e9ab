using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator
{
    /// <summary>
    /// Turns each <c>[Network]</c> partial class into shape-specialized forward code.
    /// Flow: find the attribute → parse to a <see cref="NetworkSpec"/> → infer shapes → emit.
    /// Invalid declarations produce nothing; the analyzers say why.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class NetworkGenerator : IIncrementalGenerator
    {
        public const string NetworkAttributeName = "CnnGen.NetworkAttribute";

        /// <summary>Names of the pipeline steps, for the incrementality tests.</summary>
        public static class TrackingNames
        {
            public const string Parse = "Parse";
            public const string Valid = "Valid";
            public const string Emit = "Emit";
            public const string Diagnostics = "Diagnostics";
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var specs = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    NetworkAttributeName,
                    predicate: static (node, _) => node is ClassDeclarationSyntax,
                    transform: static (attributeContext, cancellationToken) => NetworkParser.Parse(attributeContext, cancellationToken))
                .WithTrackingName(TrackingNames.Parse);

            var valid = specs
                .Where(static spec => spec is not null)
                .Select(static (spec, _) => spec!)
                .WithTrackingName(TrackingNames.Valid);

            var sources = valid
                .Select(static (spec, _) => NetworkEmitter.Emit(spec))
                .WithTrackingName(TrackingNames.Emit);

            context.RegisterSourceOutput(sources, static (output, source) =>
            {
                if (source is not null) output.AddSource(source.HintName, source.Text);
            });

            // The analyzer's diagnostics, reported by the generator only while a C# error in a CnnGen attribute would
            // make the command-line compiler drop them (see FallbackDiagnostics).
            var diagnostics = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    NetworkAttributeName,
                    predicate: static (node, _) => node is ClassDeclarationSyntax,
                    transform: static (attributeContext, cancellationToken) => Diagnostics.FallbackDiagnostics.Collect(attributeContext, cancellationToken))
                .WithTrackingName(TrackingNames.Diagnostics)
                .Collect();
            context.RegisterSourceOutput(diagnostics, static (output, networks) => Diagnostics.FallbackDiagnostics.Report(output, networks));
        }
    }
}
