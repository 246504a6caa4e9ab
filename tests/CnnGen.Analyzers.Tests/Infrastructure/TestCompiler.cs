extern alias generator;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using NetworkAnalyzer = generator::CnnGen.Generator.Diagnostics.NetworkAnalyzer;
using NetworkGenerator = generator::CnnGen.Generator.NetworkGenerator;

namespace CnnGen.Analyzers.Tests.Infrastructure
{
    /// <summary>In-memory compilations against the .NET 10 reference assemblies and the CnnGen runtime, with the analyzer and generator run on them.</summary>
    public static class TestCompiler
    {
        public static readonly ImmutableArray<MetadataReference> References =
            Basic.Reference.Assemblies.Net100.References.All.Cast<MetadataReference>()
                .Append(MetadataReference.CreateFromFile(typeof(CnnGen.NetworkAttribute).Assembly.Location))
                .ToImmutableArray();

        public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

        public static CSharpCompilationOptions CompilationOptions { get; } =
            new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);

        public static CSharpCompilation Compile(params string[] sources) =>
            CSharpCompilation.Create("Test", sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: "Source" + i + ".cs")),
                References, CompilationOptions);

        /// <summary>The analyzer's diagnostics, sorted by position. Any exception it throws fails the test (it would be an AD0001).</summary>
        public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, bool logTime = false)
        {
            var exceptions = new List<string>();
            var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                (exception, _, diagnostic) => { lock (exceptions) exceptions.Add(exception + " / " + diagnostic); },
                concurrentAnalysis: true, logAnalyzerExecutionTime: logTime);
            var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer()), options);
            var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
            if (exceptions.Count > 0) throw new InvalidOperationException("The analyzer threw:\n" + string.Join("\n", exceptions));
            if (diagnostics.FirstOrDefault(d => d.Id == "AD0001") is { } crash) throw new InvalidOperationException("AD0001: " + crash);
            return diagnostics.OrderBy(d => d.Location.SourceSpan.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToImmutableArray();
        }

        /// <summary>Runs the generator once; fails on an exception in it (CS8785 or the run result's exception).</summary>
        public static (GeneratorRunResult Result, Compilation Output) Generate(Compilation compilation)
        {
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
            var result = driver.GetRunResult().Results.Single();
            if (result.Exception is not null) throw new InvalidOperationException("The generator threw", result.Exception);
            if (diagnostics.FirstOrDefault(d => d.Id == "CS8785") is { } crash) throw new InvalidOperationException("CS8785: " + crash);
            return (result, output);
        }

        /// <summary>The generator's own time (the driver's timing), and how many files it emitted.</summary>
        public static (TimeSpan Elapsed, int Generated) GenerateTimed(Compilation compilation)
        {
            GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
            driver = driver.RunGenerators(compilation);
            return (driver.GetTimingInfo().ElapsedTime, driver.GetRunResult().Results.Single().GeneratedSources.Length);
        }

        /// <summary>The analyzer's own execution time (Roslyn's analyzer telemetry), and its diagnostics.</summary>
        public static async Task<(TimeSpan Elapsed, ImmutableArray<Diagnostic> Diagnostics)> AnalyzeTimedAsync(Compilation compilation)
        {
            var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null,
                concurrentAnalysis: true, logAnalyzerExecutionTime: true);
            var analyzer = new NetworkAnalyzer();
            var withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(analyzer), options);
            var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
            var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, default).ConfigureAwait(false);
            return (telemetry.ExecutionTime, diagnostics);
        }

        public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
            string.Join("\n", diagnostics.Select(d => d.Id + " " + d.Location.SourceSpan + " " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
