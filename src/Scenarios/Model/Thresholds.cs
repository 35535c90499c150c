namespace FleetSim.Scenarios.Model;

/// <summary>Pass/fail rules; AbortOnBreach asks the runner to check them during the run too.</summary>
public sealed record Thresholds(IReadOnlyList<ThresholdRule> Rules, bool AbortOnBreach)
{
    public static Thresholds None { get; } = new([], false);
}

public enum ThresholdMetric { P50, P75, P90, P95, P99, Max, Mean, ErrorRate, Count, Failed, Throughput, Lost, Duplicated, Dropped, NeverReconnected, TwinDiverged, TwinUnchecked }

/// <summary>Threshold sections that are not operations: recovery after faults and the end-of-run twin convergence.</summary>
public static class ThresholdSections
{
    /// <summary><c>recovery: ["p99 &lt; 30s", "neverReconnected == 0"]</c>: over every affected device of every fault.</summary>
    public const string Recovery = "recovery";

    /// <summary><c>convergence: ["twinDiverged == 0"]</c>: the end-of-run twin check.</summary>
    public const string Convergence = "convergence";

    /// <summary>The metrics each of these sections accepts.</summary>
    public static IReadOnlyList<ThresholdMetric> MetricsOf(string section) => section switch
    {
        Recovery => [ThresholdMetric.P50, ThresholdMetric.P99, ThresholdMetric.Max, ThresholdMetric.Count, ThresholdMetric.NeverReconnected],
        Convergence => [ThresholdMetric.TwinDiverged, ThresholdMetric.TwinUnchecked],
        _ => [],
    };
}

public enum Comparison { Less, LessOrEqual, Greater, GreaterOrEqual, Equal, NotEqual }

/// <summary>
/// One rule such as "p99 &lt; 200ms" on an operation (FleetSim.Reporting.Operations names). Value is
/// normalised: latency metrics in milliseconds, ErrorRate as a fraction 0..1 (failed / (ok + failed)),
/// Throughput in ok operations per second, the others as counts. Text is the rule as written. Operation may also be a
/// <see cref="ThresholdSections"/> name (recovery: latency metrics are recovery times, count is the devices affected).
/// </summary>
public sealed record ThresholdRule(string Operation, ThresholdMetric Metric, Comparison Comparison, double Value, string Text)
{
    public bool IsLatency => Metric is ThresholdMetric.P50 or ThresholdMetric.P75 or ThresholdMetric.P90
        or ThresholdMetric.P95 or ThresholdMetric.P99 or ThresholdMetric.Max or ThresholdMetric.Mean;

    /// <summary>True for the percentile metrics (p50 to p99), which need <see cref="MinSamples"/> samples to mean anything.</summary>
    public bool IsPercentile => Metric is ThresholdMetric.P50 or ThresholdMetric.P75 or ThresholdMetric.P90 or ThresholdMetric.P95 or ThresholdMetric.P99;

    /// <summary>
    /// The fewest samples on which this rule is evaluated. A pN over fewer than 1/(1 - N/100) samples is the slowest sample
    /// (p99 of 25 calls is the slowest call), not a percentile: p50 needs 2, p75 4, p90 10, p95 20, p99 100. Other metrics
    /// (max, mean, counts, rates) need none beyond what they already require.
    /// </summary>
    public long MinSamples => Metric switch
    {
        ThresholdMetric.P50 => 2,
        ThresholdMetric.P75 => 4,
        ThresholdMetric.P90 => 10,
        ThresholdMetric.P95 => 20,
        ThresholdMetric.P99 => 100,
        _ => 0,
    };

    /// <summary>True when <paramref name="actual"/> (in this rule's unit) satisfies the rule.</summary>
    public bool IsMet(double actual) => Comparison switch
    {
        Comparison.Less => actual < Value,
        Comparison.LessOrEqual => actual <= Value,
        Comparison.Greater => actual > Value,
        Comparison.GreaterOrEqual => actual >= Value,
        Comparison.Equal => actual == Value,
        _ => actual != Value,
    };

    public override string ToString() => $"{Operation}: {Text}";
}
