using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// A run over several worker nodes (<c>fleetsim run --nodes N</c>): one row per node, what happened to nodes during
/// the run (lost, joined), and each node's connected devices per second (aligned with <see cref="RunReport.TimeSeries"/>).
/// </summary>
public sealed record ClusterSection(IReadOnlyList<NodeReport> Nodes, IReadOnlyList<NodeEvent> Events, IReadOnlyList<NodeLine> Connected);

/// <summary>
/// One worker node: devices it hosted at most, connects that succeeded on it, acknowledged telemetry per second over the
/// run, failed operations, its CPU (percent of one core: mean and peak of the 1-second samples) and peak resident memory.
/// </summary>
public sealed record NodeReport(string Name, long DevicesPeak, long Connects, double MessagesPerSecond, long Errors, double CpuPercentMean,
    double CpuPercentPeak, long RssPeakBytes);

/// <summary>
/// Something that happened to a node. <see cref="Kind"/> "lost": the node left without stopping its devices (killed,
/// crashed, unreachable); its <see cref="DevicesAffected"/> devices were started again on the surviving nodes,
/// <see cref="DevicesRecovered"/> of them connected again there, after an outage (from the node's last report to the
/// reconnect) of <see cref="OutageSecondsMedian"/> / <see cref="OutageSecondsMax"/> seconds; meanwhile they did not send
/// <see cref="TelemetryNotSent"/> messages their schedule asked for, and <see cref="UnacknowledgedAtLoss"/> messages the
/// node had sent were never acknowledged. "joined": a node joined after the run started and took a share of the devices.
/// </summary>
public sealed record NodeEvent(double AtSeconds, string Kind, string Node, long DevicesAffected, long DevicesRecovered, double? OutageSecondsMedian,
    double? OutageSecondsMax, long TelemetryNotSent, long UnacknowledgedAtLoss, string Description);

/// <summary>One node's connected devices at each point of the time series.</summary>
public sealed record NodeLine(string Node, IReadOnlyList<long> Connected);

/// <summary>Values of <see cref="NodeEvent.Kind"/>.</summary>
public static class NodeEventKinds
{
    public const string Lost = "lost";
    public const string Joined = "joined";
}

/// <summary>Builds the <see cref="ClusterSection"/> from the per-node metrics (<see cref="NodeMetrics"/> names) the coordinator kept.</summary>
internal static class ClusterSectionBuilder
{
    public static ClusterSection Build(MetricsSnapshot metrics, IReadOnlyList<NodeEvent> events, double seconds)
    {
        var nodes = NodeMetrics.NodesIn(metrics.Gauges.Keys);
        var rows = new List<NodeReport>(nodes.Count);
        var lines = new List<NodeLine>(nodes.Count);
        foreach (var node in nodes)
        {
            var cpuName = NodeMetrics.CpuPermille(node);
            var cpuSum = 0L;
            var cpuSamples = 0;
            var connected = new long[metrics.Series.Count];
            for (var i = 0; i < connected.Length; i++)
            {
                var sample = metrics.Series[i];
                connected[i] = sample.Gauges.GetValueOrDefault(NodeMetrics.DevicesConnected(node));
                if (sample.Gauges.TryGetValue(cpuName, out var cpu) && sample.Gauges.GetValueOrDefault(NodeMetrics.RssBytes(node)) > 0)
                {
                    cpuSum += cpu;
                    cpuSamples++;
                }
            }

            rows.Add(new NodeReport(
                node,
                Peak(metrics, NodeMetrics.DevicesHosted(node)),
                metrics.Counters.GetValueOrDefault(NodeMetrics.Connects(node)),
                seconds > 0 ? metrics.Counters.GetValueOrDefault(NodeMetrics.TelemetryAcked(node)) / seconds : 0,
                metrics.Counters.GetValueOrDefault(NodeMetrics.Errors(node)),
                cpuSamples == 0 ? 0 : Math.Round(cpuSum / (double)cpuSamples / 10, 1),
                Peak(metrics, cpuName) / 10.0,
                Peak(metrics, NodeMetrics.RssBytes(node))));
            lines.Add(new NodeLine(node, connected));
        }

        return new ClusterSection(rows, [.. events.OrderBy(static e => e.AtSeconds)], lines);
    }

    private static long Peak(MetricsSnapshot metrics, string gauge) => metrics.Gauges.TryGetValue(gauge, out var g) ? g.Peak : 0;
}
