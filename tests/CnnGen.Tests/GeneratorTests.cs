using System.Linq;
using CnnGen.Tests.Infrastructure;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Where a network may be declared, and what the generator does with declarations it must not touch.</summary>
    public sealed class GeneratorTests
    {
        private const string Layers = "[Network(1, 6, 6)] [Conv2d(2, 3)] [ReLU] [Flatten] [Linear(3)]";

        [Theory]
        [InlineData("namespace A.B; " + Layers + " public partial class Net { }", "A.B.Net")]
        [InlineData("namespace A { namespace B { " + Layers + " internal partial class Net { } } }", "A.B.Net")]
        [InlineData(Layers + " partial class Net { }", "Net")]
        [InlineData("namespace A; public partial record Outer { private partial struct Middle { " + Layers + " internal sealed partial class Net { } } }", "A.Outer+Middle+Net")]
        [InlineData("namespace A; public partial class Outer<T> where T : class { " + Layers + " public partial class Net { } }", "A.Outer`1+Net")]
        public void GeneratesCompilableCodeWhereverTheClassIs(string source, string typeName)
        {
            using var assembly = GeneratorHarness.CompileAndLoad("using CnnGen;\n" + source);
            var type = assembly.Assembly.GetType(typeName, throwOnError: true)!;
            if (type.IsGenericTypeDefinition) type = type.MakeGenericType(typeof(string));
            var network = (INetwork)System.Activator.CreateInstance(type, nonPublic: true)!;
            Assert.Equal(2 * 3 * 3 + 2 + 2 * 4 * 4 * 3 + 3, network.Layout.ParameterCount);
            var output = new float[3];
            network.Forward(new float[36], output, 1, network.CreateWorkspace());
        }

        [Theory]
        [InlineData("not partial", Layers + " public class Net { }")]
        [InlineData("nested in a non-partial type", "public class Outer { " + Layers + " public partial class Net { } }")]
        [InlineData("generic", Layers + " public partial class Net<T> { }")]
        [InlineData("kernel larger than input", "[Network(1, 4, 4)] [Conv2d(2, 5)] [Flatten] [Linear(3)] public partial class Net { }")]
        [InlineData("no layers", "[Network(1, 4, 4)] public partial class Net { }")]
        [InlineData("residual never closed", "[Network(1, 4, 4)] [Residual] [Conv2d(1, 3, Padding = 1)] public partial class Net { }")]
        [InlineData("residual changes the shape", "[Network(1, 4, 4)] [Residual] [Conv2d(2, 3, Padding = 1)] [End] public partial class Net { }")]
        [InlineData("concat of mismatched sizes", "[Network(1, 4, 4)] [Concat] [Branch] [Branch] [MaxPool(2)] [End] public partial class Net { }")]
        [InlineData("groups not dividing", "[Network(3, 4, 4)] [Conv2d(4, 3, Groups = 2)] public partial class Net { }")]
        [InlineData("linear without flatten", "[Network(1, 4, 4)] [Linear(3)] public partial class Net { }")]
        [InlineData("bad dropout", "[Network(1, 4, 4)] [Flatten] [Dropout(1.5)] [Linear(3)] public partial class Net { }")]
        [InlineData("negative padding", "[Network(1, 4, 4)] [Conv2d(2, 3, Padding = -1)] [Flatten] [Linear(3)] public partial class Net { }")]
        [InlineData("pool padding over half the kernel", "[Network(1, 4, 4)] [MaxPool(2, Padding = 2)] [Flatten] [Linear(3)] public partial class Net { }")]
        [InlineData("split layers", "[Network(1, 4, 4)] [Flatten] public partial class Net { } [Linear(3)] public partial class Net { }")]
        [InlineData("argument with an error", "[Network(1, 4, 4)] [Conv2d(2, Missing)] [Flatten] [Linear(3)] public partial class Net { }")]
        public void EmitsNothingForDeclarationsItMustNotTouch(string why, string source)
        {
            var (result, _) = GeneratorHarness.Run(GeneratorHarness.CreateCompilation("using CnnGen;\n" + source));
            var run = result.Results.Single();
            Assert.Null(run.Exception);
            Assert.True(run.GeneratedSources.IsEmpty, why + ": expected no output, got " + string.Join(", ", run.GeneratedSources.Select(s => s.HintName)));
        }
    }
}
