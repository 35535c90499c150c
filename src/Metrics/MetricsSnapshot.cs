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

        var recorded = RecordedDistribution.Of(h);
        var curve = new PercentilePoint[CurvePercentiles.Count];
        for (var i = 0; i < curve.Length; i++)
        {
            var p = CurvePercentiles[i];
            curve[i] = new PercentilePoint(p, Ms(recorded.ValueAtPercentile(p)));
        }

        return new LatencyStats(
            recorded.TotalCount,
            Ms(recorded.ValueAtPercentile(50)),
            Ms(recorded.ValueAtPercentile(75)),
            Ms(recorded.ValueAtPercentile(90)),
            Ms(recorded.ValueAtPercentile(95)),
            Ms(recorded.ValueAtPercentile(99)),
            Ms(recorded.ValueAtPercentile(99.9)),
            Ms(recorded.MaxValue),
            WholeMicrosToMs(recorded.Mean),
            WholeMicrosToMs(recorded.StdDeviation()),
            curve);
    }

    private static double Ms(long micros) => micros / 1000.0;

    private static double WholeMicrosToMs(double micros) => Math.Round(micros, MidpointRounding.AwayFromZero) / 1000.0;
}

/// <summary>
/// The recorded values of a histogram, read in one walk over its buckets. HdrHistogram's GetValueAtPercentile,
/// GetMaxValue, GetMean and GetStdDeviation each walk the buckets from the start: a snapshot's 31 statistics were 31
/// walks per operation, every second the live view reads one. These give the same values (the same bucket values, the
/// same arithmetic in the same order) from one walk.
/// </summary>
internal sealed class RecordedDistribution
{
    private readonly HistogramBase _histogram;
    private readonly List<long> _values = []; // the highest equivalent value of each non-empty bucket, ascending
    private readonly List<long> _running = []; // values recorded up to and including that bucket

    private RecordedDistribution(HistogramBase histogram) => _histogram = histogram;

    public long TotalCount { get; private init; }

    /// <summary>Sum of the recorded values, each counted at the middle of its bucket (as HdrHistogram's mean).</summary>
    public long TotalValue { get; private set; }

    /// <summary>The largest recorded value (its bucket's highest equivalent value, as GetMaxValue).</summary>
    public long MaxValue => _values.Count == 0 ? 0 : _histogram.HighestEquivalentValue(_values[^1]);

    public double Mean => TotalValue * 1.0 / TotalCount;

    public static RecordedDistribution Of(HistogramBase histogram)
    {
        var d = new RecordedDistribution(histogram) { TotalCount = histogram.TotalCount };
        foreach (var v in histogram.RecordedValues())
        {
            d._values.Add(v.ValueIteratedTo);
            d._running.Add(v.TotalCountToThisValue);
            d.TotalValue = v.TotalValueToThisValue;
        }

        return d;
    }

    /// <summary>As HdrHistogram's GetValueAtPercentile: the value of the first bucket where the running count reaches the percentile's share.</summary>
    public long ValueAtPercentile(double percentile)
    {
        if (_values.Count == 0)
            return 0;
        var countAtPercentile = Math.Max((long)((Math.Min(percentile, 100.0) / 100.0 * TotalCount) + 0.5), 1);
        var index = _running.BinarySearch(countAtPercentile);
        if (index < 0)
            index = ~index; // the first bucket whose running count is larger
        return _values[Math.Min(index, _values.Count - 1)];
    }

    /// <summary>As HdrHistogram's GetStdDeviation.</summary>
    public double StdDeviation()
    {
        var mean = Mean;
        var total = 0.0;
        long before = 0;
        for (var i = 0; i < _values.Count; i++)
        {
            var deviation = (_histogram.MedianEquivalentValue(_values[i]) * 1.0) - mean;
            total += deviation * deviation * (_running[i] - before);
            before = _running[i];
        }

        return Math.Sqrt(total / TotalCount);
    }
}
