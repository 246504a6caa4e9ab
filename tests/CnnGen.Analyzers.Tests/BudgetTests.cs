using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Xunit;
using static CnnGen.Analyzers.Tests.Infrastructure.AnalyzerVerifier;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// The cost budgets of [Network] (CNN0028–CNN0031): over a budget is an error on the budget's argument that names the
    /// costliest layers; the network is still generated (see <see cref="AnalyzerVerifier"/>).
    /// </summary>
    public sealed class BudgetTests
    {
        private const string LeNet5Layers = """
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
            public partial class LeNet5 { }
            """;

        [Fact]
        public async Task CNN0028_OverTheMultiplyAddBudget()
        {
            var diagnostics = await VerifyAsync("[Network(1, 28, 28, {|CNN0028:MaxMultiplyAdds = 300_000|})]\n" + LeNet5Layers);
            Assert.Equal("LeNet5 needs 429,332 multiply-adds per sample, over its budget MaxMultiplyAdds = 300,000 by 129,332; the most: Conv2d (layer 3) 240,000 (56%), Conv2d (layer 0) 117,600 (27%), Linear (layer 7) 48,000 (11%)", SingleMessage(diagnostics, "CNN0028"));
        }

        [Fact]
        public async Task CNN0029_OverTheParameterBudget()
        {
            var diagnostics = await VerifyAsync("[Network(1, 28, 28, {|CNN0029:MaxParameterBytes = 200_000|})]\n" + LeNet5Layers);
            Assert.Equal("LeNet5 has 246,824 parameter bytes (float32 weights and running statistics), over its budget MaxParameterBytes = 200,000 by 46,824; the most: Linear (layer 7) 192,480 (78%), Linear (layer 9) 40,656 (16%), Conv2d (layer 3) 9,664 (4%)", SingleMessage(diagnostics, "CNN0029"));
        }

        [Fact]
        public async Task CNN0030_OverTheWorkspaceBudget()
        {
            var diagnostics = await VerifyAsync("[Network(1, 28, 28, {|CNN0030:MaxWorkspaceBytes = 16_000|})]\n" + LeNet5Layers);
            Assert.Equal("LeNet5 needs 58,672 workspace bytes per sample (activations, shared by liveness), over its budget MaxWorkspaceBytes = 16,000 by 42,672; the largest layer outputs: Conv2d (layer 0) 18,816, ReLU (layer 1) 18,816, Conv2d (layer 3) 6,400", SingleMessage(diagnostics, "CNN0030"));
        }

        [Fact]
        public async Task CNN0031_BudgetNotPositive()
        {
            var diagnostics = await VerifyAsync("[Network(1, 28, 28, {|CNN0031:MaxMultiplyAdds = 0|}, {|CNN0031:MaxParameterBytes = -1|})]\n" + LeNet5Layers);
            Assert.Equal("The budget MaxMultiplyAdds must be positive; got 0 (leave it out for no budget)", Message(diagnostics[0]));
        }

        [Fact]
        public async Task WithinEveryBudget_NoDiagnostic()
        {
            await VerifyAsync("[Network(1, 28, 28, MaxMultiplyAdds = 500_000, MaxParameterBytes = 256_000, MaxWorkspaceBytes = 64_000)]\n" + LeNet5Layers);
        }

        [Fact]
        public async Task AGraphNetwork_NamesItsLayersByPath()
        {
            var diagnostics = await VerifyAsync("""
                [Network(8, 16, 16, {|CNN0028:MaxMultiplyAdds = 1000|})]
                [Residual]
                [Conv2d(8, 3, Padding = 1)]
                [ReLU]
                [Conv2d(8, 3, Padding = 1)]
                [End]
                [GlobalAvgPool]
                public partial class Block { }
                """);
            Assert.Equal("Block needs 299,008 multiply-adds per sample, over its budget MaxMultiplyAdds = 1,000 by 298,008; the most: Conv2d (layer 1, 0.body.0) 147,456 (49%), Conv2d (layer 3, 0.body.2) 147,456 (49%), ReLU (layer 2, 0.body.1) 2,048 (1%)", SingleMessage(diagnostics, "CNN0028"));
        }
    }
}
