namespace FleetSim.Metrics;

/// <summary>
/// The coordinator's side of metrics across nodes: every node's once-a-second <see cref="MetricsInterval"/> is absorbed
/// into the run's <see cref="FleetMetrics"/> (exact histogram merge, counters by growth), gauges become the sum of
/// every live node's latest level, and each node's own figures are kept under <see cref="NodeMetrics"/> names for the
/// report's per-node table and chart lines. Not thread-safe: one actor owns it.
/// </summary>
public sealed class ClusterMetricsMerger(FleetMetrics target)
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, GaugeSnapshot>> _latest = new(StringComparer.Ordinal);

    /// <summary>Nodes whose gauges currently count.</summary>
    public IReadOnlyCollection<string> Nodes => _latest.Keys;

    /// <summary>Merges one interval of <paramref name="node"/>, with its process figures (devices hosted, CPU, RSS).</summary>
    public void Absorb(string node, MetricsInterval interval, NodeProcessSample process)
    {
        target.Absorb(node, interval);
        _latest[node] = interval.Gauges;
        foreach (var name in interval.Gauges.Keys)
            SumGauge(name);

        // The node's own lines: levels as gauges (sampled into the time series each second), totals as counters.
        target.Gauge(NodeMetrics.DevicesConnected(node)).Set(interval.Gauges.TryGetValue(Gauges.DevicesConnected, out var c) ? c.Value : 0);
        target.Gauge(NodeMetrics.DevicesHosted(node)).Set(process.DevicesHosted);
        target.Gauge(NodeMetrics.CpuPermille(node)).Set(process.CpuPermille);
        target.Gauge(NodeMetrics.RssBytes(node)).Set(process.RssBytes);
        Grow(NodeMetrics.TelemetryAcked(node), interval.Counters.GetValueOrDefault(Counters.TelemetryAcked));
        Grow(NodeMetrics.TelemetrySent(node), interval.Counters.GetValueOrDefault(Counters.TelemetrySent));
        var connects = 0L;
        var errors = 0L;
        foreach (var op in interval.Operations)
        {
            if (op.Name == Operations.Connect)
                connects += op.CountOk();
            foreach (var (_, n) in op.Failures)
                errors += n;
        }

        target.Counter(NodeMetrics.Connects(node)).Add(connects);
        target.Counter(NodeMetrics.Errors(node)).Add(errors);
    }

    /// <summary>A node left (or was lost): its levels stop counting in the fleet's gauges; its totals stay.</summary>
    public void Forget(string node)
    {
        if (!_latest.Remove(node, out var gauges))
            return;
        foreach (var name in gauges.Keys)
            SumGauge(name);
        target.Gauge(NodeMetrics.DevicesConnected(node)).Set(0);
        target.Gauge(NodeMetrics.DevicesHosted(node)).Set(0);
    }

    private void SumGauge(string name)
    {
        var sum = 0L;
        foreach (var (_, gauges) in _latest)
        {
            if (gauges.TryGetValue(name, out var g))
                sum += g.Value;
        }

        target.Gauge(name).Set(sum);
    }

    private void Grow(string counter, long total)
    {
        var c = target.Counter(counter);
        if (total > c.Value)
            c.Add(total - c.Value);
    }
}

/// <summary>CPU and memory of one node process at one moment, and how many device entities it hosts.</summary>
/// <param name="CpuPermille">CPU used since the previous sample, in thousandths of one core (1500 = 1.5 cores).</param>
public sealed record NodeProcessSample(int DevicesHosted, long CpuPermille, long RssBytes);

/// <summary>Per-node metric names in the coordinator's metrics (the report's per-node table and chart lines read them).</summary>
public static class NodeMetrics
{
    public const string Prefix = "node.";

    public static string DevicesConnected(string node) => Prefix + node + ".devices.connected";

    public static string DevicesHosted(string node) => Prefix + node + ".devices.hosted";

    public static string CpuPermille(string node) => Prefix + node + ".cpuPermille";

    public static string RssBytes(string node) => Prefix + node + ".rssBytes";

    public static string TelemetrySent(string node) => Prefix + node + ".telemetry.sent";

    public static string TelemetryAcked(string node) => Prefix + node + ".telemetry.acked";

    public static string Connects(string node) => Prefix + node + ".connects";

    public static string Errors(string node) => Prefix + node + ".errors";

    /// <summary>The node names that appear in a set of gauge names (those with a devices.connected line).</summary>
    public static IReadOnlyList<string> NodesIn(IEnumerable<string> gaugeNames)
    {
        const string suffix = ".devices.connected";
        var nodes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in gaugeNames)
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal) && name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > Prefix.Length + suffix.Length)
                nodes.Add(name[Prefix.Length..^suffix.Length]);
        }

        return [.. nodes];
    }
}
