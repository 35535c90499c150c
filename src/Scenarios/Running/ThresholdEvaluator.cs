using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Running;

/// <summary>
/// One rule checked against a run: the value it saw (null when not measurable), whether it passed, and why not when a note
/// says so. A rule that was not <see cref="Evaluated"/> (a percentile over too few samples) neither passed nor failed: it
/// does not decide the verdict, and the reports list it as not evaluated with its <see cref="Note"/>.
/// </summary>
public sealed record ThresholdOutcome(ThresholdRule Rule, double? Actual, bool Passed, string? Note)
{
    /// <summary>False when the rule could not be judged (its <see cref="Note"/> says why); <see cref="Passed"/> is then false too.</summary>
    public bool Evaluated { get; init; } = true;

    /// <summary>True when this outcome fails the run: evaluated and not passed.</summary>
    public bool Failed => Evaluated && !Passed;

    /// <summary>A percentile rule over fewer samples than it needs (<see cref="ThresholdRule.MinSamples"/>): measured, not judged.</summary>
    public static ThresholdOutcome NotEnoughSamples(ThresholdRule rule, double? actual, long samples) =>
        new(rule, actual, false, $"not enough samples ({samples} < {rule.MinSamples})") { Evaluated = false };
}

/// <summary>Hub-side message accounting, when the hub can report it (the embedded emulator can, a real hub cannot).</summary>
public sealed record IngestTotals(long Ingested, long Lost, long Duplicated, long OutOfOrder);

/// <summary>Checks threshold rules against metrics: at the end of a run, and every second when the scenario aborts on a breach.</summary>
public static class ThresholdEvaluator
{
    /// <param name="recovery">Recovery over the run's faults, known only at the end (null: no fault ran, or not yet computed).</param>
    /// <param name="convergence">The end-of-run twin check, known only at the end.</param>
    public static IReadOnlyList<ThresholdOutcome> Evaluate(IReadOnlyList<ThresholdRule> rules, MetricsSnapshot snapshot, IngestTotals? ingest,
        RecoverySummary? recovery = null, ConvergenceSection? convergence = null)
    {
        var elapsed = Math.Max(0.001, (snapshot.TakenAt - snapshot.StartedAt).TotalSeconds);
        var outcomes = new List<ThresholdOutcome>(rules.Count);
        foreach (var rule in rules)
        {
            if (rule.Operation == ThresholdSections.Recovery)
            {
                outcomes.Add(EvaluateRecovery(rule, recovery));
                continue;
            }

            if (rule.Operation == ThresholdSections.Convergence)
            {
                outcomes.Add(EvaluateConvergence(rule, convergence));
                continue;
            }

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
            else if (rule.IsPercentile && op!.Latency.Count < rule.MinSamples)
                outcomes.Add(ThresholdOutcome.NotEnoughSamples(rule, actual, op.Latency.Count));
            else if (actual is null)
                outcomes.Add(new ThresholdOutcome(rule, null, false, "this hub does not report message accounting (only the embedded emulator does)"));
            else
                outcomes.Add(new ThresholdOutcome(rule, actual, rule.IsMet(actual.Value), null));
        }

        return outcomes;
    }

    private static ThresholdOutcome EvaluateRecovery(ThresholdRule rule, RecoverySummary? recovery)
    {
        if (recovery is null or { Faults: 0 })
            return new ThresholdOutcome(rule, null, false, "no fault was applied during the run, so recovery was not measured");
        double? actual = rule.Metric switch
        {
            ThresholdMetric.P50 => recovery.P50,
            ThresholdMetric.P99 => recovery.P99,
            ThresholdMetric.Max => recovery.Max,
            ThresholdMetric.Count => recovery.DevicesAffected,
            ThresholdMetric.NeverReconnected => recovery.NeverReconnected,
            _ => null,
        };
        if (actual is null)
            return new ThresholdOutcome(rule, null, false, "no device reconnected after a fault, so there is no recovery time to check");
        // Recovery percentiles are over the devices that came back, one recovery time each.
        return rule.IsPercentile && recovery.DevicesRecovered < rule.MinSamples
            ? ThresholdOutcome.NotEnoughSamples(rule, actual, recovery.DevicesRecovered)
            : new ThresholdOutcome(rule, actual, rule.IsMet(actual.Value), null);
    }

    private static ThresholdOutcome EvaluateConvergence(ThresholdRule rule, ConvergenceSection? convergence)
    {
        if (convergence is null)
            return new ThresholdOutcome(rule, null, false, "no device checked its twin at the end (no device group has twin behaviour)");
        double actual = rule.Metric == ThresholdMetric.TwinUnchecked ? convergence.Unchecked : convergence.Diverged;
        return new ThresholdOutcome(rule, actual, rule.IsMet(actual), null);
    }

    /// <summary>
    /// During a run only rules that can no longer recover are a breach: latency and error rules already broken by
    /// what was measured, and count rules with an upper bound (lost, failed) already exceeded. A percentile over too few
    /// samples so far is no breach: more samples may bring it under its bound.
    /// </summary>
    public static ThresholdOutcome? FirstBreach(IReadOnlyList<ThresholdRule> rules, MetricsSnapshot snapshot, IngestTotals? ingest)
    {
        foreach (var outcome in Evaluate(rules, snapshot, ingest))
        {
            if (!outcome.Failed || outcome.Actual is null)
                continue;
            var upperBound = outcome.Rule.Comparison is Comparison.Less or Comparison.LessOrEqual;
            if (outcome.Rule.IsLatency || outcome.Rule.Metric == ThresholdMetric.ErrorRate || upperBound && outcome.Rule.Metric is ThresholdMetric.Lost or ThresholdMetric.Duplicated or ThresholdMetric.Dropped or ThresholdMetric.Failed)
                return outcome;
        }

        return null;
    }
}
