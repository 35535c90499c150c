using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Html;

public sealed class DownsamplerTests
{
    [Fact]
    public void Short_series_are_returned_unchanged()
    {
        double[] x = [1, 2, 3];
        double[] y = [4, 5, 6];

        var (dx, dy) = Downsampler.Apply(x, y, Downsampling.Mean, 3);

        Assert.Same(x, dx);
        Assert.Same(y, dy);
    }

    [Fact]
    public void Mean_keeps_averages_and_max_keeps_spikes()
    {
        double[] x = [0, 1, 2, 3, 4, 5];
        double[] y = [1, 3, 2, 100, double.NaN, double.NaN];

        var mean = Downsampler.Apply(x, y, Downsampling.Mean, 3);
        var max = Downsampler.Apply(x, y, Downsampling.Max, 3);

        Assert.Equal([0.0, 2, 4], mean.X);
        Assert.Equal([2.0, 51, double.NaN], mean.Y);
        Assert.Equal([3.0, 100, double.NaN], max.Y);
    }
}
