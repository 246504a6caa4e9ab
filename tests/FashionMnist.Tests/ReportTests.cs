using System.Linq;
using FashionMnist;
using Xunit;

namespace FashionMnist.Tests
{
    /// <summary>The plots of a run are readable (issue 18): no legend over the data, no captions running into each other.</summary>
    public sealed class ReportTests
    {
        [Fact]
        public void TrainingPlot_PutsTheLegendOutsideTheAxes()
        {
            var history = Enumerable.Range(1, 20).Select(e => new EpochResult(e, 1.0 / e, 1.1 / e, 0.8 + e * 0.005, 1000, 2)).ToList();
            var plot = Reports.HistoryPlot(history);
            Assert.False(plot.Legend.IsVisible); // the legend inside the axes, over the last epochs, is off
            Assert.Contains(plot.Axes.GetPanels(), panel => panel.GetType().Name == "LegendPanel");
            Assert.NotEmpty(plot.GetImage(800, 500).GetImageBytes());
        }

        [Fact]
        public void MisclassifiedCaptions_FitUnderTheirImage_ForEveryPairOfClasses()
        {
            using var font = Reports.CaptionFont();
            foreach (var truth in FashionMnistData.ClassNames)
                foreach (var predicted in FashionMnistData.ClassNames)
                    foreach (var line in Reports.CaptionLines(truth, predicted))
                        Assert.True(font.MeasureText(line) <= Reports.CaptionWidth, $"'{line}' is {font.MeasureText(line)} px wide, more than the image's {Reports.CaptionWidth}");
        }
    }
}
