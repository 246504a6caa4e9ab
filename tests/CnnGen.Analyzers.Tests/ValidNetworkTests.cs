using System.Linq;
using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>A valid network with each layer kind: no diagnostic, and the generator emits one file that compiles.</summary>
    public sealed class ValidNetworkTests
    {
        public static TheoryData<string, string> Networks => new()
        {
            { "Conv2d", "[Network(3, 8, 8)] [Conv2d(4, 3, Stride = 1, Padding = 1, Bias = false)] [Conv2d(2, 1)] [Flatten] [Linear(2)]" },
            { "MaxPool", "[Network(1, 8, 8)] [MaxPool(2)] [MaxPool(3, Stride = 1, Padding = 1)] [Flatten] [Linear(2)]" },
            { "AvgPool", "[Network(1, 8, 8)] [AvgPool(2)] [AvgPool(kernelSize: 3, Stride = 1, Padding = 1)] [Flatten] [Linear(2)]" },
            { "BatchNorm", "[Network(2, 6, 6)] [Conv2d(4, 3)] [BatchNorm] [Flatten] [Linear(8)] [BatchNorm(Eps = 1e-3, Momentum = 0.2)] [Linear(2)]" },
            { "ReLU", "[Network(1, 4, 4)] [ReLU] [Flatten] [Linear(3)] [ReLU]" },
            { "LeakyReLU", "[Network(1, 4, 4)] [LeakyReLU] [Flatten] [Linear(3)] [LeakyReLU(-0.5)]" },
            { "Sigmoid", "[Network(1, 4, 4)] [Sigmoid] [Flatten] [Linear(3)] [Sigmoid]" },
            { "Tanh", "[Network(1, 4, 4)] [Tanh] [Flatten] [Linear(3)] [Tanh]" },
            { "Flatten", "[Network(2, 3, 5)] [Flatten]" },
            { "Linear", "[Network(1, 1, 1)] [Flatten] [Linear(1)] [Linear(outFeatures: 4, Bias = false)]" },
            { "Dropout", "[Network(1, 4, 4)] [Dropout] [Flatten] [Dropout(0)] [Linear(3)] [Dropout(p: 0.99)]" },
            { "Softmax", "[Network(1, 4, 4)] [Flatten] [Linear(3)] [Softmax]" },
        };

        [Theory]
        [MemberData(nameof(Networks))]
        public async Task ValidNetwork_NoDiagnostics_AndGenerates(string kind, string attributes)
        {
            string source = attributes + "\npublic partial class " + kind + "Net { }\n";
            var diagnostics = await AnalyzerVerifier.VerifyAsync(source);
            Assert.Empty(diagnostics);

            var (result, _) = TestCompiler.Generate(TestCompiler.Compile(AnalyzerVerifier.Usings + source));
            Assert.Equal(kind + "Net.g.cs", result.GeneratedSources.Single().HintName);
        }

        [Fact]
        public async Task NestedInPartialTypes_InNamespace_NoDiagnostics()
        {
            var diagnostics = await AnalyzerVerifier.VerifyAsync("""
                namespace Models.Vision
                {
                    public static partial class Zoo
                    {
                        internal partial struct Holder
                        {
                            [Network(1, 28, 28)]
                            [Conv2d(6, 5, Padding = 2)]
                            [ReLU]
                            [MaxPool(2)]
                            [Conv2d(16, 5)]
                            [ReLU]
                            [MaxPool(2)]
                            [Flatten]
                            [Linear(120)]
                            [ReLU]
                            [Linear(84)]
                            [ReLU]
                            [Linear(10)]
                            public sealed partial class LeNet5 { }
                        }
                    }
                }
                """);
            Assert.Empty(diagnostics);
        }

        [Fact]
        public async Task NestedInGenericType_NoDiagnostics()
        {
            // Only the network class itself must not be generic; the generator emits it inside Outer<TKey, TValue>.
            Assert.Empty(await AnalyzerVerifier.VerifyAsync("""
                public partial class Outer<TKey, TValue>
                {
                    [Network(1, 4, 4)]
                    [Flatten]
                    [Linear(2)]
                    public partial class Net { }
                }
                """));
        }

        [Fact]
        public async Task OtherAttributes_AndOtherPartsWithoutLayers_AreFine()
        {
            var diagnostics = await AnalyzerVerifier.VerifyAsync("""
                [System.Obsolete("old")]
                [Network(1, 4, 4)]
                [System.Serializable]
                [Flatten, Linear(2)]
                public partial class Net { }

                [System.Diagnostics.DebuggerDisplay("net")]
                public partial class Net { public int Extra => 1; }
                """);
            Assert.Empty(diagnostics);
        }

        [Fact]
        public async Task ClassWithoutCnnGenAttributes_IsIgnored()
        {
            Assert.Empty(await AnalyzerVerifier.VerifyAsync("public class Plain { }\n[System.Obsolete] public partial class Other<T> { }\n"));
        }
    }
}
