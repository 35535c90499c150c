using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>One rule checked against a run: the value it saw (null when not measurable) and whether it passed.</summary>
public sealed record ThresholdOutcome(ThresholdRule Rule, double? Actual, bool Passed, string? Note);

/// <summary>Hub-side message accounting, when the hub can report it (the embedded emulator can, a real hub cannot).</summary>
public sealed record IngestTotals(long Ingested, long Lost, long Duplicated, long OutOfOrder);

/// <summary>Checks threshold rules against metrics: at the end of a run, and every second when the scenario aborts on a breach.</summary>
public static class ThresholdEvaluator
{
    public static IReadOnlyList<ThresholdOutcome> Evaluate(IReadOnlyList<ThresholdRule> rules, MetricsSnapshot snapshot, IngestTotals? ingest)
    {
        var elapsed = Math.Max(0.001, (snapshot.TakenAt - snapshot.StartedAt).TotalSeconds);
        var outcomes = new List<ThresholdOutcome>(rules.Count);
        foreach (var rule in rules)
        {
            snapshot.Operations.TryGetValue(rule.Operation, out var op);
            double? actual = rule.Metric switch
            {
                ThresholdMetric.P50 => op?.Latency.P50Ms,
                ThresholdMetric.P75 => op?.Latency.P75Ms,
                ThresholdMetric.P90 => op?.Latency.P90Ms,
                ThresholdMetric.P95 => op?.Latency.P95Ms,
                ThresholdMetric.P99 => op?.Latency.P99Ms,
                ThresholdMetric.Max => op?.Latency.MaxMs,
                ThresholdMetric.Mean => op?.Latency.MeanMs,
                ThresholdMetric.ErrorRate => op is null || op.OkCount + op.FailedCount == 0 ? 0 : (double)op.FailedCount / (op.OkCount + op.FailedCount),
                ThresholdMetric.Count => op?.OkCount ?? 0,
                ThresholdMetric.Failed => op?.FailedCount ?? 0,
                ThresholdMetric.Throughput => (op?.OkCount ?? 0) / elapsed,
                ThresholdMetric.Lost => ingest?.Lost,
                ThresholdMetric.Duplicated => ingest?.Duplicated,
                // Counted by the devices (never numbered, so the hub cannot see them): known with any hub.
                ThresholdMetric.Dropped => snapshot.Counters.GetValueOrDefault(Counters.TelemetryDropped),
                _ => null,
            };

            if (rule.IsLatency && (op is null || op.Latency.Count == 0))
                outcomes.Add(new ThresholdOutcome(rule, null, false, $"no successful '{rule.Operation}' operation was measured"));
            else if (actual is null)
                outcomes.Add(new ThresholdOutcome(rule, null, false, "this hub does not report message accounting (only the embedded emulator does)"));
            else
                outcomes.Add(new ThresholdOutcome(rule, actual, rule.IsMet(actual.Value), null));
        }

        return outcomes;
    }

    /// <summary>
    /// During a run only rules that can no longer recover are a breach: latency and error rules already broken by
    /// what was measured, and count rules with an upper bound (lost, failed) already exceeded.
    /// </summary>
    public static ThresholdOutcome? FirstBreach(IReadOnlyList<ThresholdRule> rules, MetricsSnapshot snapshot, IngestTotals? ingest)
    {
        foreach (var outcome in Evaluate(rules, snapshot, ingest))
        {
            if (outcome.Passed || outcome.Actual is null)
                continue;
            var upperBound = outcome.Rule.Comparison is Comparison.Less or Comparison.LessOrEqual;
            if (outcome.Rule.IsLatency || outcome.Rule.Metric == ThresholdMetric.ErrorRate || upperBound && outcome.Rule.Metric is ThresholdMetric.Lost or ThresholdMetric.Duplicated or ThresholdMetric.Dropped or ThresholdMetric.Failed)
                return outcome;
        }

        return null;
    }
}
