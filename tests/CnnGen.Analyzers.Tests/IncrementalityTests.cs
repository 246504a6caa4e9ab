extern alias generator;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using NetworkGenerator = generator::CnnGen.Generator.NetworkGenerator;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// An unrelated edit leaves every tracked step Cached or Unchanged, and no step output holds a Roslyn object
    /// (which would pin old compilations in the IDE and defeat the caching).
    /// </summary>
    public sealed class IncrementalityTests
    {
        private static readonly string[] TrackingNames = typeof(NetworkGenerator.TrackingNames)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

        [Fact]
        public void TrackingNames_AreFound() => Assert.NotEmpty(TrackingNames);

        [Fact]
        public void AddingAnotherFile_LeavesEveryStepCached()
        {
            var compilation = TestCompiler.Compile(SampleNetworks.All);
            var (driver, first) = RunTwice(compilation, compilation.AddSyntaxTrees(
                CSharpSyntaxTree.ParseText("namespace Other { public static class Helper { public static int Two => 2; } }", TestCompiler.ParseOptions)));
            AssertAllCachedOrUnchanged(driver, first);
        }

        [Fact]
        public void EditingAComment_LeavesEveryStepCachedOrUnchanged()
        {
            var compilation = TestCompiler.Compile(SampleNetworks.All);
            var tree = compilation.SyntaxTrees.First();
            var edited = tree.WithChangedText(tree.GetText().Replace(0, 0, "// a comment typed above the network\n"));
            var (driver, first) = RunTwice(compilation, compilation.ReplaceSyntaxTree(tree, edited));
            AssertAllCachedOrUnchanged(driver, first);
        }

        [Fact]
        public void EditingAnotherClassInTheSameFile_LeavesEveryStepCachedOrUnchanged()
        {
            var compilation = TestCompiler.Compile(SampleNetworks.All);
            var tree = compilation.SyntaxTrees.First();
            var edited = tree.WithChangedText(tree.GetText().Replace(tree.Length, 0, "\ninternal sealed class Unrelated { private int _x = 1; }\n"));
            var (driver, first) = RunTwice(compilation, compilation.ReplaceSyntaxTree(tree, edited));
            AssertAllCachedOrUnchanged(driver, first);
        }

        [Fact]
        public void ChangingALayer_IsSeen()
        {
            // The control: a real change must reach the output, or the tests above prove nothing.
            var compilation = TestCompiler.Compile(SampleNetworks.All);
            var tree = compilation.SyntaxTrees.First();
            string text = tree.GetText().ToString();
            var edited = tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(text.Replace("[Linear(10)]", "[Linear(11)]", StringComparison.Ordinal)));
            var (driver, _) = RunTwice(compilation, compilation.ReplaceSyntaxTree(tree, edited));
            var steps = driver.GetRunResult().Results.Single().TrackedSteps;
            Assert.Contains(steps[NetworkGenerator.TrackingNames.Emit].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        }

        [Fact]
        public void Walker_FindsRoslynObjectsDeepInside()
        {
            // The control for the walk: a syntax node three levels down (record, array, tuple) is found.
            var node = CSharpSyntaxTree.ParseText("class C { }").GetRoot();
            var holder = new Holder("name", new object[] { 1, ("x", node) });
            Assert.ThrowsAny<Exception>(() => Walk(holder, "holder", new HashSet<object>(ReferenceEqualityComparer.Instance)));
            Walk(new Holder("name", new object[] { 1, ("x", "y") }), "holder", new HashSet<object>(ReferenceEqualityComparer.Instance));
        }

        private sealed record Holder(string Name, object[] Items);

        private static (GeneratorDriver Driver, GeneratorRunResult First) RunTwice(Compilation before, Compilation after)
        {
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: TestCompiler.ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
            driver = driver.RunGenerators(before);
            var first = driver.GetRunResult().Results.Single();
            Assert.Equal(SampleNetworks.All.Length, first.GeneratedSources.Length);
            AssertNoRoslynObjects(first);
            driver = driver.RunGenerators(after);
            AssertNoRoslynObjects(driver.GetRunResult().Results.Single());
            return (driver, first);
        }

        private static void AssertAllCachedOrUnchanged(GeneratorDriver driver, GeneratorRunResult first)
        {
            var second = driver.GetRunResult().Results.Single();
            Assert.Equal(first.GeneratedSources.Select(s => s.SourceText.ToString()), second.GeneratedSources.Select(s => s.SourceText.ToString()));
            foreach (string name in TrackingNames)
            {
                Assert.True(second.TrackedSteps.TryGetValue(name, out var steps), "No step named " + name);
                foreach (var step in steps)
                {
                    foreach (var (_, reason) in step.Outputs)
                        Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, name + " output was " + reason);
                }
            }
        }

        private static void AssertNoRoslynObjects(GeneratorRunResult result)
        {
            foreach (string name in TrackingNames)
            {
                if (!result.TrackedSteps.TryGetValue(name, out var steps)) continue;
                foreach (var step in steps)
                {
                    foreach (var (value, _) in step.Outputs)
                        Walk(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }

        /// <summary>Every object reachable from a step output, through fields and collections; none may be a Roslyn object.</summary>
        internal static void Walk(object? node, string path, HashSet<object> seen)
        {
            if (node is null) return;
            var type = node.GetType();
            Assert.False(node is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location or AttributeData,
                "A step output holds a " + type.FullName + " at " + path);
            if (type.IsPrimitive || type.IsEnum || node is string or decimal or Type) return;
            if (!type.IsValueType && !seen.Add(node)) return;

            if (node is IEnumerable sequence)
            {
                int i = 0;
                foreach (var item in sequence) Walk(item, path + "[" + i++ + "]", seen);
                if (type.IsArray) return;
            }
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType.IsPointer || field.FieldType.IsByRefLike) continue;
                    Walk(field.GetValue(node), path + "." + field.Name, seen);
                }
            }
        }
    }
}
