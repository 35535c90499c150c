using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>Compares two runs metric by metric and flags regressions beyond <see cref="ComparisonLimits"/>.</summary>
public static class ReportComparison
{
    public static ComparisonResult Compare(RunReport current, RunReport baseline, ComparisonLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(baseline);
        limits ??= ComparisonLimits.Default;
        if (limits.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(limits));
        }

        var rows = new List<ComparisonRow>();
        var names = new SortedSet<string>(current.Latency.Keys, StringComparer.Ordinal);
        names.UnionWith(baseline.Latency.Keys);
        foreach (var name in names)
        {
            var now = current.Latency.GetValueOrDefault(name);
            var before = baseline.Latency.GetValueOrDefault(name);
            if (Activity(now) == 0 && Activity(before) == 0)
            {
                continue;
            }

            var prefix = "latency." + name + ".";
            rows.Add(Info(prefix + "count", before?.Count ?? 0, now?.Count ?? 0));
            rows.Add(Info(prefix + "failed", before?.Failed ?? 0, now?.Failed ?? 0));
            rows.Add(Higher(prefix + "errorRate", before?.ErrorRate ?? 0, now?.ErrorRate ?? 0, limits.ErrorRateIncrease, limits.ErrorRateTolerance));
            rows.Add(Lower(prefix + "throughput", before?.Throughput ?? 0, now?.Throughput ?? 0, limits.ThroughputDecrease));
            if ((now?.Count ?? 0) > 0 && (before?.Count ?? 0) > 0)
            {
                rows.Add(Info(prefix + "p50", before!.P50, now!.P50));
                rows.Add(Higher(prefix + "p95", before.P95, now.P95, limits.LatencyIncrease, limits.LatencyToleranceMs));
                rows.Add(Higher(prefix + "p99", before.P99, now.P99, limits.LatencyIncrease, limits.LatencyToleranceMs));
                rows.Add(Info(prefix + "max", before.Max, now.Max));
            }
        }

        rows.Add(Info("devices.target", baseline.Devices.Target, current.Devices.Target));
        rows.Add(Lower("devices.connectedPeak", baseline.Devices.ConnectedPeak, current.Devices.ConnectedPeak, limits.ConnectedDecrease));
        rows.Add(Info("telemetry.sent", baseline.Telemetry.Sent, current.Telemetry.Sent));
        rows.Add(Info("telemetry.acked", baseline.Telemetry.Acked, current.Telemetry.Acked));
        rows.Add(Higher("telemetry.dropped", baseline.Telemetry.Dropped, current.Telemetry.Dropped, limits.LossIncrease, 0));
        if (baseline.Telemetry.Lost is { } lostBefore && current.Telemetry.Lost is { } lostNow)
        {
            rows.Add(Higher("telemetry.lost", lostBefore, lostNow, limits.LossIncrease, 0));
        }

        if (baseline.Telemetry.Duplicated is { } dupBefore && current.Telemetry.Duplicated is { } dupNow)
        {
            rows.Add(Higher("telemetry.duplicated", dupBefore, dupNow, limits.LossIncrease, 0));
        }

        return new ComparisonResult(baseline.Scenario.Name, baseline.Run.Start, limits, rows);
    }

    private static long Activity(OperationReport? op) => op is null ? 0 : op.Count + op.Failed;

    private static ComparisonRow Info(string metric, double baseline, double current) =>
        new(metric, baseline, current, current - baseline, Relative(baseline, current), null, false);

    /// <summary>Worse when higher: flagged when it grew by more than the relative limit and the tolerance.</summary>
    private static ComparisonRow Higher(string metric, double baseline, double current, double limit, double tolerance)
    {
        var delta = current - baseline;
        var regression = delta > tolerance && current > baseline * (1 + limit);
        return new(metric, baseline, current, delta, Relative(baseline, current), limit, regression);
    }

    /// <summary>Worse when lower: flagged when it fell by more than the relative limit.</summary>
    private static ComparisonRow Lower(string metric, double baseline, double current, double limit)
    {
        var regression = current < baseline * (1 - limit);
        return new(metric, baseline, current, current - baseline, Relative(baseline, current), -limit, regression);
    }

    private static double? Relative(double baseline, double current) =>
        baseline == 0 ? null : (current - baseline) / baseline;
}
