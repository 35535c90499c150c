using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// How much worse the current run may be than the baseline before a metric counts as a regression. Relative
/// limits are fractions (0.10 = 10 %); the absolute tolerances keep noise on tiny values from being flagged.
/// </summary>
public sealed record ComparisonLimits
{
    /// <summary>p95 and p99 latency may grow by this fraction.</summary>
    public double LatencyIncrease { get; init; } = 0.10;

    /// <summary>Latency growth below this many milliseconds is never a regression.</summary>
    public double LatencyToleranceMs { get; init; } = 1.0;

    /// <summary>Throughput (ok per second) may fall by this fraction.</summary>
    public double ThroughputDecrease { get; init; } = 0.10;

    /// <summary>The error rate (failed / all) may grow by this fraction.</summary>
    public double ErrorRateIncrease { get; init; } = 0.10;

    /// <summary>Error-rate growth below this absolute amount (0.001 = 0.1 percentage point) is never a regression.</summary>
    public double ErrorRateTolerance { get; init; } = 0.001;

    /// <summary>Lost and duplicated telemetry may grow by this fraction (any growth from zero is a regression).</summary>
    public double LossIncrease { get; init; }

    /// <summary>The peak of connected devices may fall by this fraction.</summary>
    public double ConnectedDecrease { get; init; } = 0.01;

    public static ComparisonLimits Default { get; } = new();

    /// <summary>Null when every limit is usable, else a message naming the bad one.</summary>
    public string? Validate()
    {
        (string Name, double Value)[] all =
        [
            (nameof(LatencyIncrease), LatencyIncrease), (nameof(LatencyToleranceMs), LatencyToleranceMs),
            (nameof(ThroughputDecrease), ThroughputDecrease), (nameof(ErrorRateIncrease), ErrorRateIncrease),
            (nameof(ErrorRateTolerance), ErrorRateTolerance), (nameof(LossIncrease), LossIncrease),
            (nameof(ConnectedDecrease), ConnectedDecrease),
        ];
        foreach (var (name, value) in all)
        {
            if (!double.IsFinite(value) || value < 0)
            {
                return $"comparison limit {name} must be a finite number >= 0, got {value}.";
            }
        }

        return ThroughputDecrease > 1 || ConnectedDecrease > 1
            ? "comparison limits ThroughputDecrease and ConnectedDecrease are fractions and must be <= 1."
            : null;
    }
}

/// <summary>
/// One compared metric. <see cref="Metric"/> is its report.json path (e.g. "latency.telemetry.p99");
/// <see cref="RelativeDelta"/> is null when the baseline is zero; <see cref="Limit"/> is null for
/// informational rows that are never flagged.
/// </summary>
public sealed record ComparisonRow(
    string Metric,
    double Baseline,
    double Current,
    double Delta,
    double? RelativeDelta,
    double? Limit,
    bool Regression);

/// <summary>The current run against a baseline: every compared metric, regressions flagged.</summary>
public sealed record ComparisonResult(
    string BaselineName,
    DateTimeOffset BaselineStart,
    ComparisonLimits Limits,
    IReadOnlyList<ComparisonRow> Rows)
{
    public IReadOnlyList<ComparisonRow> Regressions => [.. Rows.Where(static r => r.Regression)];

    public bool HasRegressions => Rows.Any(static r => r.Regression);
}
