using CnnGen;
using CnnGen.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Fixtures
{
    /// <summary>A deep plain stack: twelve convolution, batch-norm, ReLU groups (the shape of a VGG trunk).</summary>
    [Network(8, 16, 16)]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [Conv2d(8, 3, Padding = 1)] [BatchNorm] [ReLU]
    [GlobalAvgPool]
    [Flatten]
    [Linear(10)]
    public partial class DeepStack { }
}

namespace CnnGen.Tests
{
    /// <summary>The execution plan's workspace: activation arrays shared by liveness.</summary>
    public sealed class ExecutionPlanTests
    {
        private readonly ITestOutputHelper _output;

        public ExecutionPlanTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void LivenessSharing_ShrinksTheWorkspaceOfADeepNetwork()
        {
            // Backward reads a convolution's input and batch-norm's input, and ReLU's own output (y > 0 exactly where x > 0):
            // so each batch-norm output dies as soon as its ReLU has read it, and one array serves all twelve of them.
            _output.WriteLine($"DeepStack: {DeepStack.WorkspaceActivationLength} floats per sample shared, {DeepStack.ActivationLengthWithoutSharing} without");
            Assert.Equal(12 * 3 * 2048 + 8 + 8 + 10, DeepStack.ActivationLengthWithoutSharing);
            // Convolution and ReLU outputs are kept for backward (24 x 2048); the twelve batch-norm outputs share one array,
            // and the small tail (pooled, flattened, logits) fits beside them.
            Assert.InRange(DeepStack.WorkspaceActivationLength, 12 * 2 * 2048 + 2048, 12 * 2 * 2048 + 2048 + 8 + 8 + 10);
            Assert.True(DeepStack.WorkspaceActivationLength < 0.7 * DeepStack.ActivationLengthWithoutSharing);
        }

        [Fact]
        public void Evaluation_SharesArraysByItsOwnLifetimes()
        {
            // Evaluation keeps nothing for backward and fuses each convolution with its batch-norm and ReLU: the twelve groups
            // go back and forth between two arrays of 2,048 floats, and the small tail (pooled, flattened, logits) beside them.
            _output.WriteLine($"DeepStack: evaluation writes {DeepStack.EvaluationActivationLength} floats per sample, training's workspace {DeepStack.WorkspaceActivationLength}");
            Assert.InRange(DeepStack.EvaluationActivationLength, 2 * 2048, 2 * 2048 + 8 + 8 + 10);
            foreach (var (name, evaluation, workspace) in new[]
            {
                ("ResNet8", ResNet8.EvaluationActivationLength, ResNet8.WorkspaceActivationLength),
                ("MobileNetV2", MobileNetV2.EvaluationActivationLength, MobileNetV2.WorkspaceActivationLength),
                ("Inception", Inception.EvaluationActivationLength, Inception.WorkspaceActivationLength),
                ("UNet", UNet.EvaluationActivationLength, UNet.WorkspaceActivationLength),
                ("LeNet5", LeNet5.EvaluationActivationLength, LeNet5.WorkspaceActivationLength),
            })
            {
                _output.WriteLine($"{name}: evaluation writes {evaluation:N0} floats per sample, {100.0 * evaluation / workspace:F0}% of training's {workspace:N0}");
                Assert.True(evaluation < workspace, name);
                // Chains of layers between the graph steps (Inception's branches all live until their concatenation is written).
                if (name is "ResNet8" or "MobileNetV2") Assert.True(evaluation < 0.3 * workspace, name);
            }
        }

        [Fact]
        public void WorkspaceOfTheFixtureGraphs()
        {
            foreach (var (name, shared, unshared) in new[]
            {
                ("ResNet8", ResNet8.WorkspaceActivationLength, ResNet8.ActivationLengthWithoutSharing),
                ("MobileNetV2", MobileNetV2.WorkspaceActivationLength, MobileNetV2.ActivationLengthWithoutSharing),
                ("Inception", Inception.WorkspaceActivationLength, Inception.ActivationLengthWithoutSharing),
                ("UNet", UNet.WorkspaceActivationLength, UNet.ActivationLengthWithoutSharing),
                ("LeNet5", LeNet5.WorkspaceActivationLength, LeNet5.ActivationLengthWithoutSharing),
            })
            {
                _output.WriteLine($"{name}: {shared:N0} floats per sample ({shared * 4:N0} bytes), {unshared:N0} without sharing ({100.0 * shared / unshared:F0}%)");
                Assert.True(shared <= unshared, name);
                Assert.True(shared < unshared, name + " shares nothing");
            }
        }
    }
}
