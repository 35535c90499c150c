using HdrHistogram;

namespace FleetSim.Metrics.Tests;

/// <summary>
/// The reader side read cheaply: statistics from one walk over a histogram equal HdrHistogram's own, and operations
/// with nothing new are not walked again, without losing or repeating a value.
/// </summary>
public sealed class MetricsReadingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 },
        { 7, 3 },
        { 1000, 2_000 }, // around a millisecond
        { 5000, 40_000_000 }, // up to 40 s: many buckets, the long tail of a connect storm
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Statistics_from_one_walk_equal_HdrHistograms_own(int values, int maxMicros)
    {
        var random = new Random(values);
        var h = OperationMetrics.NewHistogram();
        for (var i = 0; i < values; i++)
        {
            // skewed towards small values, as latencies are
            h.RecordValue((long)(Math.Pow(random.NextDouble(), 3) * maxMicros) + 1);
        }

        var recorded = RecordedDistribution.Of(h);

        foreach (var p in LatencyStats.CurvePercentiles.Concat([0.1, 33.3, 99.999]))
            Assert.Equal(h.GetValueAtPercentile(p), recorded.ValueAtPercentile(p));
        Assert.Equal(h.GetMaxValue(), recorded.MaxValue);
        Assert.Equal(h.GetMean(), recorded.Mean);
        Assert.Equal(h.GetStdDeviation(), recorded.StdDeviation());
    }

    [Fact]
    public void An_operation_idle_for_seconds_samples_as_empty_and_its_next_value_lands_in_its_own_interval()
    {
        var time = new FakeTimeProvider(T0);
        var metrics = new FleetMetrics(time);
        var op = metrics.Operation(Operations.TwinGet);
        op.RecordOk(TimeSpan.FromMicroseconds(700));
        metrics.Sample(Next(time));
        metrics.Sample(Next(time));
        metrics.Sample(Next(time));
        op.RecordOk(TimeSpan.FromMicroseconds(900));
        op.RecordFailure("timeout");
        metrics.Sample(Next(time));

        var series = metrics.Snapshot().Series;
        Assert.Equal((1L, 0.7), (series[0].Operations[Operations.TwinGet].Ok, series[0].Operations[Operations.TwinGet].P99Ms));
        foreach (var idle in new[] { series[1], series[2] })
        {
            var point = idle.Operations[Operations.TwinGet];
            Assert.Equal((0L, 0L, (double?)null, (double?)null, (double?)null), (point.Ok, point.Failed, point.P50Ms, point.P95Ms, point.P99Ms));
            Assert.Empty(point.FailuresByReason);
        }

        var last = series[3].Operations[Operations.TwinGet];
        Assert.Equal((1L, 1L, 0.9, 0.9), (last.Ok, last.Failed, last.P50Ms, last.P99Ms));
        Assert.Equal(1, last.FailuresByReason["timeout"]);
    }

    [Fact]
    public void Repeated_snapshots_keep_their_statistics_until_something_new_is_recorded()
    {
        var metrics = new FleetMetrics();
        var op = metrics.Operation(Operations.Connect);
        op.RecordOk(TimeSpan.FromMicroseconds(1000));

        var first = metrics.Snapshot().Operations[Operations.Connect].Latency;
        var second = metrics.Snapshot().Operations[Operations.Connect].Latency;
        Assert.Same(first, second); // nothing new: not computed again
        Assert.Equal((1L, 1.0), (second.Count, second.MaxMs));

        op.RecordOk(TimeSpan.FromMicroseconds(1500));
        var third = metrics.Snapshot().Operations[Operations.Connect].Latency;
        Assert.Equal((2L, 1.5), (third.Count, third.MaxMs));
    }

    [Fact]
    public void A_worker_interval_after_an_idle_one_carries_only_the_new_values()
    {
        var metrics = new FleetMetrics(exportIntervals: true);
        var op = metrics.Operation(Operations.Telemetry);
        op.RecordOk(TimeSpan.FromMilliseconds(2));
        Assert.Equal(1, Histogram(metrics).TotalCount);
        Assert.Equal(0, Histogram(metrics).TotalCount);
        op.RecordOk(TimeSpan.FromMilliseconds(5));
        op.RecordOk(TimeSpan.FromMilliseconds(5));
        Assert.Equal(2, Histogram(metrics).TotalCount);
    }

    private static HistogramBase Histogram(FleetMetrics metrics) =>
        metrics.TakeInterval().Operations is [var only] ? only.Decode() : OperationMetrics.NewHistogram();

    private static DateTimeOffset Next(FakeTimeProvider time)
    {
        time.Advance(TimeSpan.FromSeconds(1));
        return time.GetUtcNow();
    }
}
