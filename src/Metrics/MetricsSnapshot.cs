using HdrHistogram;

namespace FleetSim.Metrics;

/// <summary>An immutable copy of every metric of a run, taken at <see cref="TakenAt"/>.</summary>
public sealed record MetricsSnapshot(
    DateTimeOffset StartedAt,
    DateTimeOffset TakenAt,
    IReadOnlyDictionary<string, OperationSnapshot> Operations,
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyDictionary<string, GaugeSnapshot> Gauges,
    IReadOnlyList<MetricsSample> Series);

public sealed record GaugeSnapshot(long Value, long Peak);

/// <summary>Totals of one operation: ok count, failures by reason, latency statistics of the ok ones.</summary>
public sealed record OperationSnapshot(
    string Name,
    long OkCount,
    long FailedCount,
    IReadOnlyDictionary<string, long> FailuresByReason,
    LatencyStats Latency);

/// <summary>One point of the 1-second time series: cumulative counters and gauges, per-interval operations.</summary>
public sealed record MetricsSample(
    DateTimeOffset At,
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyDictionary<string, long> Gauges,
    IReadOnlyDictionary<string, OperationSample> Operations);

/// <summary>
/// What one operation did during one sample interval: ok and failed counts in the interval, the interval's
/// latency percentiles in milliseconds (null when nothing succeeded), failures by reason in the interval.
/// </summary>
public sealed record OperationSample(
    long Ok,
    long Failed,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    IReadOnlyDictionary<string, long> FailuresByReason);

public sealed record PercentilePoint(double Percentile, double ValueMs);

/// <summary>Latency statistics in milliseconds; all zero when nothing was recorded.</summary>
public sealed record LatencyStats(
    long Count,
    double P50Ms,
    double P75Ms,
    double P90Ms,
    double P95Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MeanMs,
    double StdDevMs,
    IReadOnlyList<PercentilePoint> Distribution)
{
    /// <summary>Percentiles of the distribution curve (denser towards the tail, where latency hurts).</summary>
    public static IReadOnlyList<double> CurvePercentiles { get; } =
    [
        0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 100,
    ];

    public static LatencyStats Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, []);

    internal static LatencyStats From(HistogramBase h)
    {
        if (h.TotalCount == 0)
        {
            return Empty;
        }

        var curve = new PercentilePoint[CurvePercentiles.Count];
        for (var i = 0; i < curve.Length; i++)
        {
            var p = CurvePercentiles[i];
            curve[i] = new PercentilePoint(p, Ms(h.GetValueAtPercentile(p)));
        }

        return new LatencyStats(
            h.TotalCount,
            Ms(h.GetValueAtPercentile(50)),
            Ms(h.GetValueAtPercentile(75)),
            Ms(h.GetValueAtPercentile(90)),
            Ms(h.GetValueAtPercentile(95)),
            Ms(h.GetValueAtPercentile(99)),
            Ms(h.GetValueAtPercentile(99.9)),
            Ms(h.GetMaxValue()),
            WholeMicrosToMs(h.GetMean()),
            WholeMicrosToMs(h.GetStdDeviation()),
            curve);
    }

    private static double Ms(long micros) => micros / 1000.0;

    private static double WholeMicrosToMs(double micros) => Math.Round(micros, MidpointRounding.AwayFromZero) / 1000.0;
}
