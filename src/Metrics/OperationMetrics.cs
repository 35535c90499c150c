using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace FleetSim.Metrics;

/// <summary>
/// Latency and outcome of one kind of operation (connect, telemetry, ...). Recording is lock-free and
/// allocation-free so every device can call it per message; reading (sampling, snapshots) is serialized by
/// <see cref="FleetMetrics"/>. Latencies are stored in microseconds, 3 significant digits, up to one hour.
/// </summary>
public sealed class OperationMetrics
{
    internal const long HighestTrackableMicros = 3_600_000_000L;
    private const int SignificantDigits = 3;
    private static readonly double MicrosPerStopwatchTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly Recorder _recorder;
    private readonly ConcurrentDictionary<string, Counter> _failures = new(StringComparer.Ordinal);
    private HistogramBase? _cumulative; // these two are made at the first drain: an operation a run never uses costs no pages
    private HistogramBase? _pending;
    private readonly HistogramBase? _exported; // drained since the last TakeInterval (a worker node's metrics only)
    private readonly Lock _absorbLock = new();
    private HistogramBase? _absorbed; // intervals from other nodes, folded in at the next drain
    private HistogramBase? _recycled;
    private long _ok;
    private long _failed;

    // Reader-side state (touched only under FleetMetrics' lock): totals at the previous sample.
    private long _lastOk;
    private long _lastFailed;
    private long _okAtDrain; // OkCount read just before the last drain: unchanged means nothing new to drain
    private LatencyStats? _stats; // of _cumulative when it held _statsCount values
    private long _statsCount = -1;
    private readonly Dictionary<string, long> _lastFailures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastExportedFailures = new(StringComparer.Ordinal);

    internal OperationMetrics(string name, bool exportIntervals = false)
    {
        Name = name;
        // The recorder's active histogram takes writes from every device thread at once: it must be the
        // concurrent kind (a LongHistogram there loses counts under contention). The reader-side ones are not shared.
        _recorder = new Recorder(1, HighestTrackableMicros, SignificantDigits, CreateConcurrentHistogram);
        _exported = exportIntervals ? NewHistogram() : null;
    }

    /// <summary>An empty histogram of the shape every recorder uses (so histograms of different nodes add exactly).</summary>
    public static HistogramBase NewHistogram() => new LongHistogram(1, HighestTrackableMicros, SignificantDigits);

    public string Name { get; }

    public long OkCount => Interlocked.Read(ref _ok);

    public long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>Records a successful operation measured from its intended start.</summary>
    public void RecordOk(TimeSpan latency) => RecordMicros(latency.Ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>Records a successful operation whose latency is a <see cref="Stopwatch"/> tick difference.</summary>
    public void RecordOkTicks(long stopwatchTicks) => RecordMicros((long)(stopwatchTicks * MicrosPerStopwatchTick));

    /// <summary>Records a failed operation; <paramref name="reason"/> should be a short, stable label.</summary>
    public void RecordFailure(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        _failures.GetOrAdd(reason, static _ => new Counter()).Increment();
        Interlocked.Increment(ref _failed);
    }

    private void RecordMicros(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }
        else if (micros > HighestTrackableMicros)
        {
            micros = HighestTrackableMicros;
        }

        _recorder.RecordValue(micros);
        Interlocked.Increment(ref _ok);
    }

    /// <summary>
    /// Merges what another process recorded for this operation during one interval: its latency histogram (the
    /// same shape as this one's, so the merge is exact) and its failures by reason. Local recording stays lock-free:
    /// the absorbed histogram waits behind its own lock until the next drain.
    /// </summary>
    public void Absorb(HistogramBase interval, IReadOnlyDictionary<string, long> failures)
    {
        ArgumentNullException.ThrowIfNull(interval);
        ArgumentNullException.ThrowIfNull(failures);
        if (interval.TotalCount > 0)
        {
            lock (_absorbLock)
            {
                (_absorbed ??= NewHistogram()).Add(interval);
                // Counted under the same lock as the histogram, so a drain never sees the count without the values.
                Interlocked.Add(ref _ok, interval.TotalCount);
            }
        }

        foreach (var (reason, count) in failures)
        {
            if (count <= 0)
                continue;
            _failures.GetOrAdd(reason, static _ => new Counter()).Add(count);
            Interlocked.Add(ref _failed, count);
        }
    }

    /// <summary>
    /// <see cref="Drain"/>, unless nothing was counted since the last one: each drain walks every bucket of three
    /// histograms (about 24,000 each), and most operations of a run (twin, methods, uploads, reconnects) record nothing
    /// most seconds. A value is recorded before it is counted, so a count unchanged since the count read before the last
    /// drain means that drain took every value there is.
    /// </summary>
    private void DrainIfRecorded()
    {
        var ok = OkCount;
        if (ok == _okAtDrain)
            return;
        _okAtDrain = ok;
        Drain();
    }

    /// <summary>Moves everything recorded (or absorbed) since the last drain into the cumulative, pending and exported histograms.</summary>
    private void Drain()
    {
        var interval = _recorder.GetIntervalHistogram(_recycled);
        var cumulative = _cumulative ??= NewHistogram();
        var pending = _pending ??= NewHistogram();
        cumulative.Add(interval);
        pending.Add(interval);
        _exported?.Add(interval);
        _recycled = interval;
        lock (_absorbLock)
        {
            if (_absorbed is { TotalCount: > 0 } absorbed)
            {
                cumulative.Add(absorbed);
                pending.Add(absorbed);
                _exported?.Add(absorbed);
                absorbed.Reset();
            }
        }
    }

    /// <summary>What happened since the previous call (the wire form for another node); call under the owner's lock.</summary>
    internal OperationInterval TakeInterval()
    {
        if (_exported is null)
            throw new InvalidOperationException("this FleetMetrics was not created to export intervals (FleetMetrics(exportIntervals: true))");
        DrainIfRecorded();
        var interval = new OperationInterval(Name, HistogramWire.Encode(_exported), FailuresSince(_lastExportedFailures));
        _exported.Reset();
        return interval;
    }

    /// <summary>Failures by reason since the totals in <paramref name="last"/>, which it then moves forward.</summary>
    private Dictionary<string, long> FailuresSince(Dictionary<string, long> last)
    {
        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (reason, counter) in _failures)
        {
            var total = counter.Value;
            last.TryGetValue(reason, out var before);
            if (total != before)
            {
                since[reason] = total - before;
                last[reason] = total;
            }
        }

        return since;
    }

    /// <summary>One time-series point for this operation; call under the owner's lock.</summary>
    internal OperationSample TakeSample()
    {
        DrainIfRecorded();
        var ok = OkCount;
        var failed = FailedCount;
        var byReason = FailuresSince(_lastFailures);

        double? p50 = null, p95 = null, p99 = null;
        if (_pending is { TotalCount: > 0 } pending) // an operation that recorded nothing costs no walk over its buckets
        {
            var recorded = RecordedDistribution.Of(pending);
            (p50, p95, p99) = (Ms(recorded.ValueAtPercentile(50)), Ms(recorded.ValueAtPercentile(95)), Ms(recorded.ValueAtPercentile(99)));
            pending.Reset();
        }

        var sample = new OperationSample(ok - _lastOk, failed - _lastFailed, p50, p95, p99, byReason);
        _lastOk = ok;
        _lastFailed = failed;
        return sample;
    }

    /// <summary>Everything recorded so far; call under the owner's lock.</summary>
    internal OperationSnapshot TakeSnapshot()
    {
        DrainIfRecorded();
        var count = _cumulative?.TotalCount ?? 0;
        if (_stats is null || _statsCount != count) // unchanged since the last snapshot: the same statistics
            (_stats, _statsCount) = (_cumulative is null ? LatencyStats.Empty : LatencyStats.From(_cumulative), count);
        var failures = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (reason, counter) in _failures)
        {
            failures[reason] = counter.Value;
        }

        return new OperationSnapshot(Name, OkCount, FailedCount, failures, _stats);
    }

    private static double Ms(long micros) => micros / 1000.0;

    private static HistogramBase CreateConcurrentHistogram(long instanceId, long lowest, long highest, int digits) =>
        new LongConcurrentHistogram(instanceId, lowest, highest, digits);
}
