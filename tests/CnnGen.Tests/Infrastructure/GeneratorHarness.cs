extern alias generator;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetworkGenerator = generator::CnnGen.Generator.NetworkGenerator;

namespace CnnGen.Tests.Infrastructure
{
    /// <summary>Runs the generator on source text in memory, compiles the result, and loads it in a collectible context.</summary>
    public static class GeneratorHarness
    {
        private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
            Basic.Reference.Assemblies.Net100.References.All.Cast<MetadataReference>()
                .Append(MetadataReference.CreateFromFile(typeof(INetwork).Assembly.Location))
                .ToImmutableArray());

        public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

        public static CSharpCompilation CreateCompilation(params string[] sources) =>
            CSharpCompilation.Create(
                "Generated" + Guid.NewGuid().ToString("N"),
                sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
                References.Value,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable));

        /// <summary>Runs the generator; returns the driver result and the compilation with the generated trees added.</summary>
        public static (GeneratorDriverRunResult Result, Compilation Output) Run(CSharpCompilation compilation)
        {
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
            if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
                throw new InvalidOperationException("Generator failed: " + string.Join("\n", diagnostics));
            return (driver.GetRunResult(), output);
        }

        /// <summary>The generated source for each hint name.</summary>
        public static IReadOnlyDictionary<string, string> GeneratedSources(params string[] sources)
        {
            var (result, _) = Run(CreateCompilation(sources));
            return result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        }

        /// <summary>All the generated sources as one text, for tests that look for the calls a network's code makes.</summary>
        public static string GeneratedText(params string[] sources) => string.Join("\n", GeneratedSources(sources).Values);

        /// <summary>Generates, compiles and loads; fails with the compiler's errors if the generated code does not compile.</summary>
        public static LoadedAssembly CompileAndLoad(params string[] sources)
        {
            var (_, output) = Run(CreateCompilation(sources));
            using var stream = new MemoryStream();
            var emit = output.Emit(stream);
            if (!emit.Success)
            {
                var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20);
                throw new InvalidOperationException("Generated code does not compile:\n" + string.Join("\n", errors));
            }
            stream.Position = 0;
            var context = new CollectibleContext();
            return new LoadedAssembly(context, context.LoadFromStream(stream));
        }

        private sealed class CollectibleContext : AssemblyLoadContext
        {
            public CollectibleContext() : base(isCollectible: true) { }

            // The runtime library is shared with the test's own context, so INetwork is the same type on both sides.
            protected override Assembly? Load(AssemblyName assemblyName) =>
                assemblyName.Name == typeof(INetwork).Assembly.GetName().Name ? typeof(INetwork).Assembly : null;
        }
    }

    public sealed class LoadedAssembly : IDisposable
    {
        private readonly AssemblyLoadContext _context;

        public LoadedAssembly(AssemblyLoadContext context, Assembly assembly)
        {
            _context = context;
            Assembly = assembly;
        }

        public Assembly Assembly { get; }

        public INetwork CreateNetwork(string fullName) =>
            (INetwork)Activator.CreateInstance(Assembly.GetType(fullName, throwOnError: true)!)!;

        public void Dispose() => _context.Unload();
    }
}
