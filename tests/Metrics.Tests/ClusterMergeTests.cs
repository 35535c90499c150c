namespace FleetSim.Metrics.Tests;

/// <summary>Metrics recorded on several nodes and merged on the coordinator (issue 11).</summary>
public sealed class ClusterMergeTests
{
    [Fact]
    public void Merged_percentiles_equal_the_percentiles_of_the_union_of_all_samples()
    {
        var random = new Random(11);
        var union = new FleetMetrics();
        var coordinator = new FleetMetrics();
        var nodes = new[] { new FleetMetrics(exportIntervals: true), new FleetMetrics(exportIntervals: true), new FleetMetrics(exportIntervals: true) };
        for (var second = 0; second < 5; second++)
        {
            for (var n = 0; n < nodes.Length; n++)
            {
                // Each node sees a different latency distribution, so a merge of percentiles would be wrong.
                for (var i = 0; i < 2000; i++)
                {
                    var micros = (long)(random.NextDouble() * random.NextDouble() * 50_000 * (n + 1)) + 1;
                    nodes[n].Operation(Operations.Telemetry).RecordOk(TimeSpan.FromMicroseconds(micros));
                    union.Operation(Operations.Telemetry).RecordOk(TimeSpan.FromMicroseconds(micros));
                }

                coordinator.Absorb("node-" + n, RoundTrip(nodes[n].TakeInterval()));
            }
        }

        var merged = coordinator.Snapshot().Operations[Operations.Telemetry];
        var expected = union.Snapshot().Operations[Operations.Telemetry];
        Assert.Equal(30_000, merged.OkCount);
        Assert.Equal(expected.Latency, merged.Latency with { Distribution = expected.Latency.Distribution });
        Assert.Equal(expected.Latency.Distribution, merged.Latency.Distribution);
        Assert.Equal(expected.Latency.P99Ms, merged.Latency.P99Ms);
    }

    [Fact]
    public void Intervals_carry_only_what_happened_since_the_previous_one()
    {
        var node = new FleetMetrics(exportIntervals: true);
        var op = node.Operation(Operations.Connect);
        op.RecordOk(TimeSpan.FromMilliseconds(5));
        op.RecordFailure("timeout");
        var first = node.TakeInterval();
        op.RecordOk(TimeSpan.FromMilliseconds(7));
        op.RecordOk(TimeSpan.FromMilliseconds(9));
        var second = node.TakeInterval();
        var third = node.TakeInterval();

        Assert.Equal(1, Assert.Single(first.Operations).CountOk());
        Assert.Equal(1, first.Operations[0].Failures["timeout"]);
        var again = Assert.Single(second.Operations);
        Assert.Equal(2, again.CountOk());
        Assert.Empty(again.Failures);
        Assert.Empty(third.Operations);
    }

    [Fact]
    public void Counters_grow_by_each_nodes_growth_and_gauges_sum_the_live_nodes()
    {
        var coordinator = new FleetMetrics();
        var merger = new ClusterMetricsMerger(coordinator);
        var a = new FleetMetrics(exportIntervals: true);
        var b = new FleetMetrics(exportIntervals: true);
        a.Counter(Counters.TelemetrySent).Add(10);
        b.Counter(Counters.TelemetrySent).Add(5);
        a.Gauge(Gauges.DevicesConnected).Set(3);
        b.Gauge(Gauges.DevicesConnected).Set(4);
        merger.Absorb("a", a.TakeInterval(), new NodeProcessSample(3, 250, 1_000_000));
        merger.Absorb("b", b.TakeInterval(), new NodeProcessSample(4, 500, 2_000_000));
        a.Counter(Counters.TelemetrySent).Add(1);
        merger.Absorb("a", a.TakeInterval(), new NodeProcessSample(3, 250, 1_000_000));

        Assert.Equal(16, coordinator.Counter(Counters.TelemetrySent).Value);
        Assert.Equal(7, coordinator.Gauge(Gauges.DevicesConnected).Value);
        Assert.Equal(11, coordinator.Counter(NodeMetrics.TelemetrySent("a")).Value);
        Assert.Equal(4, coordinator.Gauge(NodeMetrics.DevicesConnected("b")).Value);
        Assert.Equal(["a", "b"], NodeMetrics.NodesIn(coordinator.Snapshot().Gauges.Keys));

        merger.Forget("b"); // a lost node's devices are no longer connected
        Assert.Equal(3, coordinator.Gauge(Gauges.DevicesConnected).Value);
        Assert.Equal(16, coordinator.Counter(Counters.TelemetrySent).Value);
    }

    [Fact]
    public void A_histogram_survives_its_compressed_encoding()
    {
        var h = OperationMetrics.NewHistogram();
        for (var v = 1; v < 100_000; v += 7)
            h.RecordValue(v);
        var back = HistogramWire.Decode(HistogramWire.Encode(h));
        Assert.Equal(h.TotalCount, back.TotalCount);
        Assert.Equal(h.GetValueAtPercentile(99), back.GetValueAtPercentile(99));
        Assert.Throws<FormatException>(() => HistogramWire.Decode([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    }

    private static MetricsInterval RoundTrip(MetricsInterval interval) =>
        interval with { Operations = [.. interval.Operations.Select(o => o with { Histogram = [.. o.Histogram] })] };
}
