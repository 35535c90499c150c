using System.Collections.Concurrent;

namespace FleetSim.Metrics;

/// <summary>
/// All metrics of one run, shared by every device. Get-or-create lookups are for set-up: callers keep the
/// returned <see cref="OperationMetrics"/>, <see cref="Counter"/> and <see cref="Gauge"/> instances and record
/// on them directly, which is lock-free. <see cref="Sample"/> (once per second) and <see cref="Snapshot"/> are
/// the reader side and are serialized with each other.
/// </summary>
public sealed class FleetMetrics
{
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, OperationMetrics> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);
    private readonly List<MetricsSample> _series = [];
    private readonly Lock _readLock = new();
    private readonly bool _exportIntervals;
    private readonly Dictionary<string, long> _absorbedCounters = new(StringComparer.Ordinal);
    private long _recoveryDiscardedReported;

    /// <param name="time">The clock of samples and snapshots.</param>
    /// <param name="exportIntervals">True on a worker node: <see cref="TakeInterval"/> hands what was recorded since its
    /// previous call to the coordinator.</param>
    public FleetMetrics(TimeProvider? time = null, bool exportIntervals = false)
    {
        _time = time ?? TimeProvider.System;
        _exportIntervals = exportIntervals;
        StartedAt = _time.GetUtcNow();
        Twin = new ConvergenceLog(exportIntervals);
    }

    /// <summary>Every device's connection losses and reconnects (recovery after faults is computed from them).</summary>
    public RecoveryLog Recovery { get; } = new();

    /// <summary>Every device's end-of-run twin check (convergence).</summary>
    public ConvergenceLog Twin { get; }

    /// <summary>When this instance was created (the time provider's clock).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The most recent time-series point (for a live view or exporter), null before the first sample.</summary>
    public MetricsSample? LatestSample
    {
        get
        {
            lock (_readLock)
            {
                return _series.Count == 0 ? null : _series[^1];
            }
        }
    }

    public OperationMetrics Operation(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _operations.GetOrAdd(name, static (n, export) => new OperationMetrics(n, export), _exportIntervals);
    }

    public Counter Counter(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _counters.GetOrAdd(name, static _ => new Counter());
    }

    public Gauge Gauge(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _gauges.GetOrAdd(name, static _ => new Gauge());
    }

    /// <summary>
    /// Appends one time-series point: every counter and gauge value at <paramref name="now"/>, and per
    /// operation what happened since the previous sample (counts, failures by reason, p50/p95/p99).
    /// </summary>
    public void Sample(DateTimeOffset now)
    {
        lock (_readLock)
        {
            var operations = new SortedDictionary<string, OperationSample>(StringComparer.Ordinal);
            foreach (var (name, op) in _operations)
            {
                operations[name] = op.TakeSample();
            }

            _series.Add(new MetricsSample(now, CounterValues(), GaugeValues(), operations));
        }
    }

    /// <summary>An immutable copy of everything recorded so far, including the time series.</summary>
    public MetricsSnapshot Snapshot()
    {
        lock (_readLock)
        {
            var operations = new SortedDictionary<string, OperationSnapshot>(StringComparer.Ordinal);
            foreach (var (name, op) in _operations)
            {
                operations[name] = op.TakeSnapshot();
            }

            var gauges = new SortedDictionary<string, GaugeSnapshot>(StringComparer.Ordinal);
            foreach (var (name, gauge) in _gauges)
            {
                gauges[name] = new GaugeSnapshot(gauge.Value, gauge.Peak);
            }

            return new MetricsSnapshot(
                StartedAt, _time.GetUtcNow(), operations, CounterValues(), gauges, _series.ToArray());
        }
    }

    /// <summary>
    /// A worker node's once-a-second report: every counter and gauge as it stands, and per operation what happened
    /// since the previous call (only operations with activity). Needs <c>exportIntervals: true</c>.
    /// </summary>
    public MetricsInterval TakeInterval()
    {
        lock (_readLock)
        {
            var operations = new List<OperationInterval>();
            foreach (var (_, op) in _operations)
            {
                var interval = op.TakeInterval();
                if (interval.Histogram.Length > 0 || interval.Failures.Count > 0)
                    operations.Add(interval);
            }

            var gauges = new SortedDictionary<string, GaugeSnapshot>(StringComparer.Ordinal);
            foreach (var (name, gauge) in _gauges)
            {
                gauges[name] = new GaugeSnapshot(gauge.Value, gauge.Peak);
            }

            return new MetricsInterval(CounterValues(), gauges, operations)
            {
                Recovery = Recovery.Drain(),
                RecoveryDiscarded = Recovery.TakeDiscarded(ref _recoveryDiscardedReported),
                Twin = Twin.Drain(),
            };
        }
    }

    /// <summary>
    /// Merges one interval of another node's metrics into these: operation histograms and failures are added exactly
    /// (a merged percentile is the percentile of the union of all samples); counters, which the node sends as running
    /// totals, grow by what they grew on that node since its previous interval. Gauges are left to the caller, who
    /// knows how levels of several nodes add up (<see cref="ClusterMetricsMerger"/>).
    /// </summary>
    /// <param name="node">Names the sender, so its running counter totals are told apart from other nodes'.</param>
    public void Absorb(string node, MetricsInterval interval)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(interval);
        foreach (var op in interval.Operations)
        {
            Operation(op.Name).Absorb(op.Decode(), op.Failures);
        }

        Recovery.Absorb(interval.Recovery, interval.RecoveryDiscarded);
        Twin.Absorb(interval.Twin);

        lock (_absorbedCounters)
        {
            foreach (var (name, total) in interval.Counters)
            {
                var key = node + "\n" + name;
                _absorbedCounters.TryGetValue(key, out var before);
                if (total > before)
                {
                    Counter(name).Add(total - before);
                    _absorbedCounters[key] = total;
                }
            }
        }
    }

    private SortedDictionary<string, long> CounterValues()
    {
        var values = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, counter) in _counters)
        {
            values[name] = counter.Value;
        }

        return values;
    }

    private SortedDictionary<string, long> GaugeValues()
    {
        var values = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, gauge) in _gauges)
        {
            values[name] = gauge.Value;
        }

        return values;
    }
}
