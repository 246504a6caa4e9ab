extern alias generator;

using System.Linq;
using System.Threading.Tasks;
using CnnGen.CodeFixes;
using Xunit;
using static CnnGen.Analyzers.Tests.Infrastructure.CodeFixVerifier;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>Before and after for each code fix; the result has no such diagnostic left and compiles.</summary>
    public sealed class CodeFixTests
    {
        [Fact]
        public Task MakePartial_AddsPartialBeforeClass() => VerifyFixAsync(new MakePartialCodeFix(), "CNN0001",
            """
            [Network(1, 4, 4)]
            [Flatten]
            [Linear(2)]
            public sealed class Net { }
            """,
            """
            [Network(1, 4, 4)]
            [Flatten]
            [Linear(2)]
            public sealed partial class Net { }
            """,
            MakePartialCodeFix.Title);

        [Fact]
        public Task MakePartial_NoModifiers_KeepsLeadingComment() => VerifyFixAsync(new MakePartialCodeFix(), "CNN0001",
            """
            [Network(1, 4, 4)]
            [Flatten]
            [Linear(2)]
            /* the network */ class Net { }
            """,
            """
            [Network(1, 4, 4)]
            [Flatten]
            [Linear(2)]
            /* the network */ partial class Net { }
            """);

        [Fact]
        public Task MakePartial_FixesContainingTypesToo() => VerifyFixAsync(new MakePartialCodeFix(), "CNN0002",
            """
            namespace Models
            {
                public static class Zoo
                {
                    internal struct Holder
                    {
                        [Network(1, 4, 4)]
                        [Flatten]
                        [Linear(2)]
                        public class Net { }
                    }
                }
            }
            """,
            """
            namespace Models
            {
                public static partial class Zoo
                {
                    internal partial struct Holder
                    {
                        [Network(1, 4, 4)]
                        [Flatten]
                        [Linear(2)]
                        public partial class Net { }
                    }
                }
            }
            """);

        [Fact]
        public Task InsertFlatten_OwnLine() => VerifyFixAsync(new InsertFlattenCodeFix(), "CNN0018",
            """
            [Network(1, 28, 28)]
            [Conv2d(6, 5, Padding = 2)]
            [ReLU]
                [MaxPool(2)] // pooled
                [Linear(120)]
            [Linear(10)]
            public partial class Net { }
            """,
            """
            [Network(1, 28, 28)]
            [Conv2d(6, 5, Padding = 2)]
            [ReLU]
                [MaxPool(2)] // pooled
                [Flatten]
                [Linear(120)]
            [Linear(10)]
            public partial class Net { }
            """,
            InsertFlattenCodeFix.Title);

        [Fact]
        public Task CloseBlock_AppendsEnd() => VerifyFixAsync(new CloseBlockCodeFix(), "CNN0023",
            """
            [Network(16, 8, 8)]
            [Conv2d(16, 3, Padding = 1)]
            [Residual]
                [Conv2d(16, 3, Padding = 1)]
                [BatchNorm] // last
            public partial class Net { }
            """,
            """
            [Network(16, 8, 8)]
            [Conv2d(16, 3, Padding = 1)]
            [Residual]
                [Conv2d(16, 3, Padding = 1)]
                [BatchNorm] // last
                [End]
            public partial class Net { }
            """,
            CloseBlockCodeFix.Title);

        [Fact]
        public async Task CloseBlock_NotOfferedForAStrayEnd()
        {
            var diagnostics = await Infrastructure.TestCompiler.AnalyzeAsync(Infrastructure.TestCompiler.Compile(Infrastructure.AnalyzerVerifier.Usings + """
                [Network(1, 8, 8)]
                [Conv2d(1, 3)]
                [End]
                public partial class Net { }
                """));
            var diagnostic = Assert.Single(diagnostics, d => d.Id == "CNN0023");
            Assert.False(diagnostic.Properties.ContainsKey(generator::CnnGen.Generator.Diagnostics.DiagnosticDescriptors.UnclosedBlockProperty));
        }

        [Fact]
        public Task InsertFlatten_InsideAList() => VerifyFixAsync(new InsertFlattenCodeFix(), "CNN0018",
            """
            [Network(1, 28, 28), Conv2d(6, 5), ReLU, MaxPool(2), Linear(10)]
            public partial class Net { }
            """,
            """
            [Network(1, 28, 28), Conv2d(6, 5), ReLU, MaxPool(2), Flatten, Linear(10)]
            public partial class Net { }
            """);

        [Fact]
        public Task InsertFlatten_KeepsQualifiedName() => VerifyFixAsync(new InsertFlattenCodeFix(), "CNN0018",
            """
            [Network(1, 4, 4)]
            [CnnGen.LinearAttribute(10)]
            public partial class Net { }
            """,
            """
            [Network(1, 4, 4)]
            [CnnGen.FlattenAttribute]
            [CnnGen.LinearAttribute(10)]
            public partial class Net { }
            """);

        [Fact]
        public Task SamePadding_AppendsPadding() => VerifyFixAsync(new SamePaddingCodeFix(), "CNN0014",
            """
            [Network(1, 28, 28)]
            [Conv2d(6, 5)]
            [MaxPool(2)]
            [Conv2d(16, 5)]
            [MaxPool(2)]
            [Conv2d(16, 5)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """,
            """
            [Network(1, 28, 28)]
            [Conv2d(6, 5)]
            [MaxPool(2)]
            [Conv2d(16, 5)]
            [MaxPool(2)]
            [Conv2d(16, 5, Padding = 2)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """,
            "Set Padding = 2 to keep the input size");

        [Fact]
        public Task SamePadding_ReplacesPadding() => VerifyFixAsync(new SamePaddingCodeFix(), "CNN0014",
            """
            [Network(2, 3, 3)]
            [Conv2d(4, 7, Padding = 1, Stride = 1, Bias = false)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """,
            """
            [Network(2, 3, 3)]
            [Conv2d(4, 7, Padding = 3, Stride = 1, Bias = false)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """);

        [Fact]
        public Task SamePadding_NotOfferedForEvenKernel() => VerifyNoFixAsync(new SamePaddingCodeFix(), "CNN0014",
            """
            [Network(1, 3, 3)]
            [Conv2d(4, 4)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """);

        [Fact]
        public Task SamePadding_NotOfferedForStride2() => VerifyNoFixAsync(new SamePaddingCodeFix(), "CNN0014",
            """
            [Network(1, 3, 3)]
            [Conv2d(4, 5, Stride = 2)]
            [Flatten]
            [Linear(10)]
            public partial class Net { }
            """);
    }
}
