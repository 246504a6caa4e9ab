using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// Code as it is being typed: the sample networks with random tokens deleted, duplicated or replaced (seeded, so a
    /// failure replays). The generator and the analyzer must never throw (no CS8785, no AD0001), and must agree: when the
    /// source compiles and the analyzer reports no error, the generator emits and its code compiles; when the analyzer
    /// reports an error, the generator emits nothing.
    /// </summary>
    public sealed class FuzzTests
    {
        private const int Seed = 20240604;
        private const int Variants = 2400;

        // Tokens worth trying in place of others: edge values, keywords that change the declaration, stray punctuation.
        private static readonly string[] Interesting =
        {
            "0", "-1", "1", "2", "3", "7", "100000", "int.MaxValue", "int.MinValue", "-0.5", "1.0", "1e-9", "double.NaN",
            "double.PositiveInfinity", "partial", "static", "abstract", "sealed", "record", "struct", "<T>", "[", "]", "(", ")",
            ",", "=", ":", ";", "{", "}", "Flatten", "Linear", "Conv2d", "MaxPool", "AvgPool", "BatchNorm", "Softmax", "Dropout",
            "Network", "Padding", "Stride", "Bias", "Eps", "Momentum", "true", "null", "\"text\"", "class", "namespace", "//",
            "/*", "#if", "kernelSize:", "p:", "outFeatures:",
        };

        private readonly ITestOutputHelper _output;

        public FuzzTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async Task MutatedSamples_NeverCrash_AndGeneratorAgreesWithAnalyzer()
        {
            var random = new Random(Seed);
            var seeds = SampleNetworks.All.Select(s => CSharpSyntaxTree.ParseText(s, TestCompiler.ParseOptions).GetRoot().DescendantTokens().ToArray()).ToArray();
            int compiled = 0, generated = 0, reported = 0;
            var disagreements = new List<string>();

            for (int variant = 0; variant < Variants; variant++)
            {
                var tokens = seeds[random.Next(seeds.Length)];
                string source = Mutate(tokens, random, random.Next(1, 4));
                string context = "variant " + variant + ":\n" + source;

                var compilation = TestCompiler.Compile(source);
                System.Collections.Immutable.ImmutableArray<Diagnostic> diagnostics;
                GeneratorRunResult result;
                Compilation output;
                try
                {
                    diagnostics = await TestCompiler.AnalyzeAsync(compilation);
                    (result, output) = TestCompiler.Generate(compilation);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException("Crash on " + context, e);
                }

                bool compiles = !compilation.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
                bool analyzerError = diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
                if (compiles) compiled++;
                if (!result.GeneratedSources.IsEmpty) generated++;
                if (!diagnostics.IsEmpty) reported++;

                if (analyzerError && !result.GeneratedSources.IsEmpty)
                    disagreements.Add("generator emitted although the analyzer reported " + TestCompiler.Describe(diagnostics) + "\n" + context);
                if (compiles && !analyzerError && HasNetwork(compilation))
                {
                    if (result.GeneratedSources.IsEmpty)
                        disagreements.Add("generator emitted nothing and the analyzer said nothing\n" + context);
                    else if (output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList() is { Count: > 0 } errors)
                        disagreements.Add("generated code does not compile: " + TestCompiler.Describe(errors.Take(3)) + "\n" + context);
                }
            }

            _output.WriteLine($"{Variants} variants: {compiled} compile, {generated} generated, {reported} with CnnGen diagnostics, {disagreements.Count} disagreements");
            Assert.True(disagreements.Count == 0, disagreements.Count + " disagreements; first ones:\n\n" + string.Join("\n\n", disagreements.Take(5)));
            // The mutations must exercise both sides, or the test proves nothing.
            Assert.True(compiled > Variants / 10 && generated > Variants / 20 && reported > Variants / 20, $"compiled {compiled}, generated {generated}, reported {reported}");
        }

        // Same-kind replacements keep many variants compiling, so the generator and the analyzer's shape checks are reached too.
        private static readonly string[] Numbers = { "0", "-1", "1", "2", "3", "4", "5", "7", "9", "28", "100000", "0.0", "0.5", "1.0", "1.5", "-0.1", "1e-3" };
        private static readonly string[] Names =
        {
            "Conv2d", "MaxPool", "AvgPool", "BatchNorm", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Flatten", "Linear", "Dropout", "Softmax",
            "Network", "Padding", "Stride", "Bias", "Eps", "Momentum",
        };
        private static readonly string[] Modifiers = { "partial", "static", "abstract", "sealed", "public", "internal", "file" };

        private static string Mutate(SyntaxToken[] tokens, Random random, int mutations)
        {
            var texts = tokens.Select(t => (Leading: t.LeadingTrivia.ToFullString(), Text: t.Text, Trailing: t.TrailingTrivia.ToFullString(), Kind: t.Kind())).ToList();
            for (int m = 0; m < mutations && texts.Count > 1; m++)
            {
                int i = random.Next(texts.Count - 1); // keep the end-of-file token
                var token = texts[i];
                switch (random.Next(6))
                {
                    case 0: // delete
                        texts.RemoveAt(i);
                        break;
                    case 1: // duplicate
                        texts.Insert(i, token);
                        break;
                    case 2: // replace with anything
                        string replacement = random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : tokens[random.Next(tokens.Length)].Text;
                        texts[i] = token with { Text = replacement, Trailing = token.Trailing.Length == 0 ? " " : token.Trailing };
                        break;
                    case 3: // delete or duplicate a whole attribute list: "[" ... "]"
                    {
                        int open = texts.FindLastIndex(i, t => t.Kind == SyntaxKind.OpenBracketToken);
                        int close = open < 0 ? -1 : texts.FindIndex(open, t => t.Kind == SyntaxKind.CloseBracketToken);
                        if (open < 0 || close < 0) break;
                        var list = texts.GetRange(open, close - open + 1);
                        if (random.Next(2) == 0) texts.RemoveRange(open, list.Count);
                        else texts.InsertRange(random.Next(2) == 0 ? open : close + 1, list);
                        break;
                    }
                    default: // replace with a token of the same kind
                    {
                        string[] pool = token.Kind == SyntaxKind.NumericLiteralToken ? Numbers
                            : token.Kind == SyntaxKind.IdentifierToken ? Names
                            : SyntaxFacts.IsKeywordKind(token.Kind) ? Modifiers
                            : Interesting;
                        texts[i] = token with { Text = pool[random.Next(pool.Length)], Trailing = token.Trailing.Length == 0 && pool == Modifiers ? " " : token.Trailing };
                        break;
                    }
                }
            }
            var text = new StringBuilder();
            foreach (var (leading, token, trailing, _) in texts) text.Append(leading).Append(token).Append(trailing);
            return text.ToString();
        }

        private static bool HasNetwork(Compilation compilation) =>
            compilation.SyntaxTrees.Any(t => t.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax>()
                .Any(a => a.Name.ToString() is "Network" or "NetworkAttribute" or "CnnGen.Network"));
    }
}
