using System.Linq;
using System.Text.RegularExpressions;
using CnnGen.Analyzers.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>What the generated code leaves out: no layer method that nothing calls.</summary>
    public sealed class GeneratedCodeTests
    {
        /// <summary>
        /// Every private method of the generated files is called (a batch-norm folded into its convolution for evaluation
        /// still runs on its own in ForwardForGradients, which does not fuse).
        /// </summary>
        [Fact]
        public void EveryGeneratedMethod_IsCalled()
        {
            var (result, _) = TestCompiler.Generate(TestCompiler.Compile(SampleNetworks.All));
            Assert.NotEmpty(result.GeneratedSources);
            foreach (var source in result.GeneratedSources)
            {
                string text = source.SourceText.ToString();
                foreach (Match method in Regex.Matches(text, @"private static [\w<>\.:]+ (\w+)\("))
                {
                    string name = method.Groups[1].Value;
                    int uses = Regex.Matches(text, @"\b" + name + @"\b").Count;
                    Assert.True(uses > 1, source.HintName + ": " + name + " is generated but never called");
                }
            }
        }
    }
}
