using System;
using CnnGen.Tests.Fixtures;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Tests
{
    /// <summary>Runtime messages that name the real culprit (issue 18).</summary>
    public sealed class TrainerMessageTests
    {
        [Fact]
        public void AnOptimizerSizedForAnotherNetwork_IsRefusedByTheConstructor_NamingBothSizes()
        {
            var network = new LeNet5();
            var error = Assert.Throws<ArgumentException>(() => new Trainer(network, new Sgd(BatchNormNet.ParameterCount, 0.1f), 4));
            Assert.Equal("optimizer", error.ParamName);
            Assert.Contains($"created for {BatchNormNet.ParameterCount:N0} parameters, but LeNet5 has 61,706", error.Message);
            Assert.Contains("LeNet5.ParameterCount", error.Message);
        }

        [Fact]
        public void TooFewLabels_AreReportedAsTheLabels_NotTheImages()
        {
            var network = new LeNet5();
            using var trainer = new Trainer(network, new Sgd(LeNet5.ParameterCount, 0.1f), 8, threads: 1);
            var images = new float[4 * LeNet5.InputLength];
            var labels = new int[3];
            var before = network.Parameters.ToArray();

            var step = Assert.Throws<ArgumentException>(() => trainer.TrainStep(images, labels));
            Assert.Equal("labels", step.ParamName);
            Assert.StartsWith("4 images (3136 floats of 784 each) but 3 labels: expected 4 labels, one label per image.", step.Message);
            var evaluate = Assert.Throws<ArgumentException>(() => trainer.Evaluate(images, labels));
            Assert.Equal("labels", evaluate.ParamName);
            Assert.Equal(before, network.Parameters.ToArray());

            // Images that are not a whole number of samples are still the images' fault.
            var ragged = Assert.Throws<ArgumentException>(() => trainer.TrainStep(new float[4 * LeNet5.InputLength - 1], new int[4]));
            Assert.Equal("images", ragged.ParamName);
        }

        [Fact]
        public void ANetworkEndingInSoftmax_IsRefused_WithTheReason()
        {
            var error = Assert.Throws<ArgumentException>(() => new Trainer(new Activations(), new Sgd(Activations.ParameterCount, 0.1f), 4));
            Assert.Equal("network", error.ParamName);
            Assert.Contains("Activations ends in [Softmax], but the trainer's cross-entropy takes logits and applies softmax itself", error.Message);
        }
    }
}
