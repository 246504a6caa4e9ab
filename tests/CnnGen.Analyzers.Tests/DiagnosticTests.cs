using System.Threading.Tasks;
using CnnGen.Analyzers.Tests.Infrastructure;
using Xunit;
using static CnnGen.Analyzers.Tests.Infrastructure.AnalyzerVerifier;

namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// One test (or more) per diagnostic: the exact span is marked inline, the message is asserted whole (its numbers
    /// included), and <see cref="AnalyzerVerifier"/> also checks that the generator emits nothing for the invalid network.
    /// </summary>
    public sealed class DiagnosticTests
    {
        [Fact]
        public async Task CNN0001_NotPartial()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Linear(10)]
                public class {|CNN0001:Net|} { }
                """);
            Assert.Equal("Network class 'Net' must be declared partial: the generator adds its members in another part", SingleMessage(diagnostics, "CNN0001"));
        }

        [Fact]
        public async Task CNN0002_NestedInNonPartial()
        {
            var diagnostics = await VerifyAsync("""
                public partial class Models
                {
                    public class Outer
                    {
                        [Network(1, 28, 28)]
                        [Flatten]
                        [Linear(10)]
                        public partial class {|CNN0002:Net|} { }
                    }
                }
                """);
            Assert.Equal("Network class 'Net' is nested in 'Outer', which must be declared partial too", SingleMessage(diagnostics, "CNN0002"));
        }

        [Fact]
        public async Task CNN0003_Generic()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 4, 4)]
                [Flatten]
                [Linear(2)]
                public partial class Net{|CNN0003:<T>|} { }
                """);
            Assert.Equal("Network class 'Net<T>' cannot be generic: the generated code fixes every shape and type", SingleMessage(diagnostics, "CNN0003"));
        }

        [Fact]
        public async Task CNN0004_Static()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 4, 4)]
                [Flatten]
                [Linear(2)]
                public static partial class {|CNN0004:Net|} { }
                """);
            Assert.Equal("'Net' cannot be a network: [Network] goes on a non-static class, not on a static class", SingleMessage(diagnostics, "CNN0004"));
        }

        [Fact]
        public async Task CNN0004_Record()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 4, 4)]
                [Flatten]
                [Linear(2)]
                public partial record {|CNN0004:Net|};
                """);
            Assert.Equal("'Net' cannot be a network: [Network] goes on a non-static class, not on a record", SingleMessage(diagnostics, "CNN0004"));
        }

        [Fact]
        public async Task CNN0005_LayersWithoutNetwork()
        {
            var diagnostics = await VerifyAsync("""
                [{|CNN0005:Conv2d(6, 5)|}]
                [ReLU]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("'Net' has layer attributes but no [Network(channels, height, width)], so no network is generated", SingleMessage(diagnostics, "CNN0005"));
        }

        [Fact]
        public async Task CNN0006_LayersSplitAcrossPartials()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 4, 4)]
                [Flatten]
                public partial class Net { }

                [{|CNN0006:Linear(2)|}]
                [{|CNN0006:ReLU|}]
                public partial class Net { }
                """);
            Assert.Equal("[Linear] is on another partial declaration of 'Net' than its [Network]; declare every layer on the [Network] declaration, where their order is defined",
                Message(diagnostics[0]));
        }

        [Fact]
        public async Task CNN0006_LayersInAnotherFile()
        {
            await VerifyAsync("""
                [Network(1, 4, 4)]
                [Flatten]
                [Linear(2)]
                public partial class Net { }
                """,
                "using CnnGen;\n[Softmax]\npublic partial class Net { }\n");
        }

        [Fact]
        public async Task CNN0007_NoLayers()
        {
            var diagnostics = await VerifyAsync("""
                [{|CNN0007:Network(1, 28, 28)|}]
                public partial class Net { }
                """);
            Assert.Equal("Network has no layers: add layer attributes such as [Conv2d(6, 5)] or [Linear(10)] after [Network]", SingleMessage(diagnostics, "CNN0007"));
        }

        [Fact]
        public async Task CNN0008_NonPositiveInput()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, {|CNN0008:0|}, 28)]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Network input must have positive channels, height and width; got 1x0x28 ([Network(channels, height, width)])", SingleMessage(diagnostics, "CNN0008"));
        }

        [Fact]
        public async Task CNN0008_NonPositiveInput_NamedParameter()
        {
            await VerifyAsync("""
                [Network({|CNN0008:width: -3|}, channels: 1, height: 28)]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
        }

        [Fact]
        public async Task CNN0009_NonPositiveKernel()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, {|CNN0009:0|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) needs a positive kernel size; got 0", SingleMessage(diagnostics, "CNN0009"));
        }

        [Fact]
        public async Task CNN0009_NonPositiveStride()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5)]
                [MaxPool(2, {|CNN0009:Stride = 0|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("MaxPool2d (layer 1) needs a positive stride; got 0", SingleMessage(diagnostics, "CNN0009"));
        }

        [Fact]
        public async Task CNN0009_NonPositiveFeatures_NamedParameter()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Linear({|CNN0009:outFeatures: -1|}, Bias = false)]
                public partial class Net { }
                """);
            Assert.Equal("Linear (layer 1) needs positive out features; got -1", SingleMessage(diagnostics, "CNN0009"));
        }

        [Fact]
        public async Task CNN0009_NonPositiveOutChannels()
        {
            var diagnostics = await VerifyAsync("""
                [Network(3, 32, 32)]
                [Conv2d({|CNN0009:0|}, 3)]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) needs positive out channels; got 0", SingleMessage(diagnostics, "CNN0009"));
        }

        [Fact]
        public async Task CNN0010_NegativePadding()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 3, {|CNN0010:Padding = -1|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) needs a padding of 0 or more; got -1", SingleMessage(diagnostics, "CNN0010"));
        }

        [Fact]
        public async Task CNN0011_DropoutProbability()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Dropout({|CNN0011:1.0|})]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Dropout (layer 1) needs a probability in [0, 1); got 1", SingleMessage(diagnostics, "CNN0011"));
        }

        [Fact]
        public async Task CNN0011_NegativeDropoutProbability_NamedParameter()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Linear(10)]
                [Dropout({|CNN0011:p: -0.25|})]
                public partial class Net { }
                """);
            Assert.Equal("Dropout (layer 2) needs a probability in [0, 1); got -0.25", SingleMessage(diagnostics, "CNN0011"));
        }

        [Fact]
        public async Task CNN0012_BatchNormEps()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5)]
                [BatchNorm({|CNN0012:Eps = 0|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("BatchNorm2d (layer 1) needs a positive Eps; got 0", SingleMessage(diagnostics, "CNN0012"));
        }

        [Fact]
        public async Task CNN0012_BatchNormMomentum()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Linear(10)]
                [BatchNorm(Eps = 1e-3, {|CNN0012:Momentum = 1.5|})]
                public partial class Net { }
                """);
            Assert.Equal("BatchNorm1d (layer 2) needs a Momentum in [0, 1]; got 1.5", SingleMessage(diagnostics, "CNN0012"));
        }

        [Fact]
        public async Task CNN0013_NonFiniteSlope()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5)]
                [LeakyReLU({|CNN0013:double.NaN|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("LeakyReLU (layer 1) needs a finite negative slope; got NaN", SingleMessage(diagnostics, "CNN0013"));
        }

        [Fact]
        public async Task CNN0014_KernelLargerThanInput()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5)]
                [MaxPool(2)]
                [Conv2d(16, 5)]
                [MaxPool(2)]
                [Conv2d(16, {|CNN0014:5|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 4) sees 16x4x4; kernel 5 with padding 0 does not fit the padded 4x4 input, so the output would be 0x0",
                SingleMessage(diagnostics, "CNN0014"));
        }

        [Fact]
        public async Task CNN0014_KernelTallerThanInput_FloorsTheOutputSize()
        {
            // (4 - 5) / 2 + 1 is 1 with C#'s truncating division; PyTorch floors to 0.
            var diagnostics = await VerifyAsync("""
                [Network(1, 4, 9)]
                [Conv2d(2, {|CNN0014:kernelSize: 5|}, Stride = 2)]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) sees 1x4x9; kernel 5 with padding 0 does not fit the padded 4x9 input, so the output would be 0x3",
                SingleMessage(diagnostics, "CNN0014"));
        }

        [Fact]
        public async Task CNN0014_PoolingKernel()
        {
            var diagnostics = await VerifyAsync("""
                [Network(3, 2, 2)]
                [AvgPool({|CNN0014:3|}, Padding = 0)]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("AvgPool2d (layer 0) sees 3x2x2; kernel 3 with padding 0 does not fit the padded 2x2 input, so the output would be 0x0",
                SingleMessage(diagnostics, "CNN0014"));
        }

        [Fact]
        public async Task CNN0015_StrideDropsCells_DefaultStride()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 9, 9)]
                [Conv2d(6, 3)]
                [{|CNN0015:MaxPool(2)|}]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("MaxPool2d (layer 1) sees 6x7x7; stride 2 with kernel 2 and padding 0 never reads the last 1 input row(s) and the last 1 input column(s): change the padding or the stride to use them",
                SingleMessage(diagnostics, "CNN0015"));
        }

        [Fact]
        public async Task CNN0015_StrideDropsCells_WrittenStride()
        {
            var diagnostics = await VerifyAsync("""
                [Network(3, 10, 8)]
                [Conv2d(8, 3, {|CNN0015:Stride = 3|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) sees 3x10x8; stride 3 with kernel 3 and padding 0 never reads the last 1 input row(s) and the last 2 input column(s): change the padding or the stride to use them",
                SingleMessage(diagnostics, "CNN0015"));
        }

        [Fact]
        public async Task CNN0016_PoolPaddingTooLarge()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [MaxPool(2, {|CNN0016:Padding = 2|})]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("MaxPool2d (layer 0): padding 2 is more than half the kernel 2 (PyTorch rejects it); use at most 1", SingleMessage(diagnostics, "CNN0016"));
        }

        [Fact]
        public async Task CNN0017_SpatialLayerOnVector()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [{|CNN0017:Conv2d(4, 3)|}]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 1) needs a CxHxW input but sees the vector 784 (after Flatten or Linear); spatial layers go before [Flatten]", SingleMessage(diagnostics, "CNN0017"));
        }

        [Fact]
        public async Task CNN0018_LinearNeedsFlatten()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5, Padding = 2)]
                [ReLU]
                [MaxPool(2)]
                [{|CNN0018:Linear(10)|}]
                public partial class Net { }
                """);
            Assert.Equal("Linear (layer 3) sees the spatial tensor 6x14x14; insert [Flatten] before it to get a vector of 1176", SingleMessage(diagnostics, "CNN0018"));
        }

        [Fact]
        public async Task CNN0019_FlattenTwice()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [{|CNN0019:Flatten|}]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Flatten (layer 1) sees the vector 784, which is already flat; remove this [Flatten]", SingleMessage(diagnostics, "CNN0019"));
        }

        [Fact]
        public async Task CNN0020_SoftmaxNotLast()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [Linear(10)]
                [{|CNN0020:Softmax|}]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Softmax (layer 2) is not the last layer; layers after it see probabilities, not logits (put [Softmax] last, or leave it out: the trainer's cross-entropy applies softmax itself)", SingleMessage(diagnostics, "CNN0020"));
        }

        [Fact]
        public async Task FeatureMapOutput_IsValid_CNN0021Retired()
        {
            // Per-pixel outputs (segmentation) are allowed: the network may end in a feature map.
            await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5)]
                [ReLU]
                public partial class Net { }
                """);
        }

        [Fact]
        public async Task CNN0023_ResidualNeverClosed()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 8, 8)]
                [{|CNN0023:Residual|}]
                [Conv2d(1, 3, Padding = 1)]
                public partial class Net { }
                """);
            Assert.Equal("[Residual] at attribute 0 is never closed: add [End] after its last layer", SingleMessage(diagnostics, "CNN0023"));
        }

        [Fact]
        public async Task CNN0023_EndWithNothingOpen()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 8, 8)]
                [Conv2d(1, 3)]
                [{|CNN0023:End|}]
                public partial class Net { }
                """);
            Assert.Equal("[End] at attribute 1 has no open block: [End] closes a [Residual] or [Concat]", SingleMessage(diagnostics, "CNN0023"));
        }

        [Fact]
        public async Task CNN0023_ConcatWithoutBranch()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 8, 8)]
                [{|CNN0023:Concat|}]
                [Conv2d(1, 3)]
                [End]
                public partial class Net { }
                """);
            Assert.StartsWith("Concat 0 must start each branch with [Branch]", SingleMessage(diagnostics, "CNN0023"));
        }

        [Fact]
        public async Task CNN0024_ResidualBodyChangesShape_NoShortcut()
        {
            var diagnostics = await VerifyAsync("""
                [Network(16, 32, 32)]
                [{|CNN0024:Residual|}]
                [Conv2d(32, 3, Stride = 2, Padding = 1)]
                [End]
                public partial class Net { }
                """);
            Assert.Equal("Residual 0 adds its input 16x32x32 to its body's output 32x16x16: the body changes the shape, so give it a [Shortcut] with layers that map 16x32x32 to 32x16x16 (e.g. a 1x1 convolution with the body's stride)",
                SingleMessage(diagnostics, "CNN0024"));
        }

        [Fact]
        public async Task CNN0024_ShortcutGivesAnotherShape()
        {
            var diagnostics = await VerifyAsync("""
                [Network(16, 32, 32)]
                [Residual]
                [Conv2d(32, 3, Stride = 2, Padding = 1)]
                [{|CNN0024:Shortcut|}]
                [Conv2d(32, 1)]
                [End]
                public partial class Net { }
                """);
            Assert.Equal("Residual 0 adds its body's output 32x16x16 to its shortcut's output 32x32x32: they must have the same shape", SingleMessage(diagnostics, "CNN0024"));
        }

        [Fact]
        public async Task CNN0025_ConcatBranchesOfDifferentSizes()
        {
            var diagnostics = await VerifyAsync("""
                [Network(8, 12, 12)]
                [Concat]
                [Branch]
                [{|CNN0025:Branch|}]
                [MaxPool(2)]
                [End]
                public partial class Net { }
                """);
            Assert.Equal("Concat 0: branch 1 gives 8x6x6 but branch 0 gives 8x12x12; concatenation over channels needs the same height and width in every branch",
                SingleMessage(diagnostics, "CNN0025"));
        }

        [Fact]
        public async Task CNN0026_GroupsDoNotDivideTheChannels()
        {
            var diagnostics = await VerifyAsync("""
                [Network(6, 8, 8)]
                [Conv2d(8, 3, {|CNN0026:Groups = 4|})]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0): groups 4 must divide both the 6 input channels and the 8 output channels (6 % 4 = 2)", SingleMessage(diagnostics, "CNN0026"));
        }

        [Fact]
        public async Task CNN0027_OutputPaddingNotSmallerThanStride()
        {
            var diagnostics = await VerifyAsync("""
                [Network(4, 4, 4)]
                [ConvTranspose2d(2, 3, Stride = 2, {|CNN0027:OutputPadding = 2|})]
                public partial class Net { }
                """);
            Assert.Equal("ConvTranspose2d (layer 0): output padding 2 must be smaller than the stride 2 (PyTorch rejects it)", SingleMessage(diagnostics, "CNN0027"));
        }

        [Fact]
        public async Task CNN0014_DilationMakesTheKernelTooWide()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 5, 5)]
                [Conv2d(1, 3, {|CNN0014:Dilation = 3|})]
                public partial class Net { }
                """);
            Assert.Equal("Conv2d (layer 0) sees 1x5x5; kernel 3 with dilation 3 (spanning 7x7) with padding 0 does not fit the padded 5x5 input, so the output would be 0x0",
                SingleMessage(diagnostics, "CNN0014"));
        }

        [Fact]
        public async Task CNN0017_UpsampleOfAVector()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 8, 8)]
                [Flatten]
                [{|CNN0017:Upsample(2)|}]
                public partial class Net { }
                """);
            Assert.Equal("Upsample (layer 1) upsamples height and width, but sees the vector 64 (after Flatten or Linear); upsample the feature map before flattening",
                SingleMessage(diagnostics, "CNN0017"));
        }

        [Fact]
        public async Task CNN0015_StrideTwoDroppingOnlyPadding_IsNotWarned()
        {
            // torchvision's ResNet stem: the cells the stride skips are zero padding, not input.
            await VerifyAsync("""
                [Network(3, 224, 224)]
                [Conv2d(64, 7, Stride = 2, Padding = 3)]
                [MaxPool(3, Stride = 2, Padding = 1)]
                [Conv2d(64, 3, Stride = 2, Padding = 1)]
                public partial class Net { }
                """);
        }

        [Fact]
        public async Task CNN0022_LayerTooLarge()
        {
            var diagnostics = await VerifyAsync("""
                [Network(1, 28, 28)]
                [Flatten]
                [{|CNN0022:Linear(1000000)|}]
                public partial class Net { }
                """);
            Assert.Equal("Linear (layer 1) is too large: more than 268,435,456 weights (CnnGen's limit per tensor)", SingleMessage(diagnostics, "CNN0022"));
        }

        [Fact]
        public async Task CNN0022_InputTooLarge()
        {
            var diagnostics = await VerifyAsync("""
                [{|CNN0022:Network(1, 100000, 100000)|}]
                [Flatten]
                [Linear(10)]
                public partial class Net { }
                """);
            Assert.Equal("Network input 1x100000x100000 has more than 268,435,456 elements", SingleMessage(diagnostics, "CNN0022"));
        }

        [Fact]
        public async Task SeveralProblems_AreAllReported()
        {
            // Declaration problems and the first shape error are reported together; shape inference stops at its first error.
            await VerifyAsync("""
                [Network(1, 28, 28)]
                [Conv2d(6, 5, {|CNN0010:Padding = -2|})]
                [Linear(10)]
                public class {|CNN0001:Net|} { }
                """);
        }

        [Fact]
        public async Task Warnings_DoNotStopGeneration()
        {
            // CNN0015 and CNN0020 are warnings: the generator still emits, and what it emits compiles (checked by the verifier).
            await VerifyAsync("""
                [Network(1, 9, 9)]
                [Conv2d(6, 3)]
                [{|CNN0015:MaxPool(2)|}]
                [Flatten]
                [{|CNN0020:Softmax|}]
                [Linear(10)]
                public partial class Net { }
                """);
        }
    }
}
