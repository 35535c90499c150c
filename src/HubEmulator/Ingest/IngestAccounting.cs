using System.Collections.Concurrent;

namespace FleetSim.HubEmulator.Ingest;

/// <summary>Telemetry received from one device, as the hub counted it.</summary>
/// <param name="HighestSequence">Highest fleetsim-seq seen (0 when the device sent none).</param>
public sealed record DeviceIngest(string DeviceId, long Ingested, long Lost, long Duplicated, long OutOfOrder, long HighestSequence);

/// <summary>Telemetry received from all devices.</summary>
public readonly record struct IngestTotals(long Ingested, long Lost, long Duplicated, long OutOfOrder, int Devices);

/// <summary>
/// What the hub ingested, per device and in total, with losses and duplicates derived from each device's
/// sequence numbers (see <see cref="DeviceIngestCounter"/>). The hot path touches only the sending device's
/// counter; totals are summed when read, so there is no shared counter for all devices to contend on.
/// Counts outlive a device's removal from the registry.
/// Messages that carry a run id (fleetsim-run) are also counted per run and device (<see cref="ForRun"/>): a standing
/// hub serves one run after another, or several at once, and each run's accounting must be its own (a device id
/// re-used by a later run starts again at sequence 1, which the hub-wide counter sees as duplicates). A standing hub
/// would keep every run's counters forever, so a run that neither sent telemetry nor had its stats read for
/// <see cref="RunIdleTimeout"/> is forgotten (its stats read as zero; a message naming it again starts it afresh).
/// Activity is seen by a periodic sweep comparing each run's count with the last sweep's, so the hot path pays nothing.
/// </summary>
public sealed class IngestAccounting
{
    /// <summary>How long a standing hub keeps the per-run counts of a run after its last message or stats read.</summary>
    public static readonly TimeSpan DefaultRunIdleTimeout = TimeSpan.FromMinutes(30);

    private readonly ConcurrentDictionary<string, DeviceIngestCounter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RunIngest> _runs = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _sweepGate = new();
    private readonly ITimer _sweep;

    public IngestAccounting()
        : this(TimeProvider.System, DefaultRunIdleTimeout)
    {
    }

    /// <param name="time">The clock of the idle sweep.</param>
    /// <param name="runIdleTimeout">How long an idle run's counts are kept; swept every tenth of it.</param>
    internal IngestAccounting(TimeProvider time, TimeSpan runIdleTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(runIdleTimeout, TimeSpan.Zero);
        _time = time;
        RunIdleTimeout = runIdleTimeout;
        var every = runIdleTimeout / 10;
        _sweep = time.CreateTimer(static s => ((IngestAccounting)s!).SweepIdleRuns(), this, every, every);
    }

    /// <summary>How long the counts of a run without telemetry or stats reads are kept.</summary>
    public TimeSpan RunIdleTimeout { get; }

    /// <summary>How many runs' counts are kept now.</summary>
    public int RunsKept => _runs.Count;

    /// <summary>Hub-wide totals: every message, whichever run (if any) sent it.</summary>
    public IngestTotals Totals => Sum(_counters.Values);

    /// <summary>Totals of the messages that carried run id <paramref name="runId"/> (all zero for a run the hub never saw or forgot).</summary>
    public IngestTotals ForRun(string runId)
    {
        if (!_runs.TryGetValue(runId, out var run))
        {
            return default;
        }

        run.Touch(_time.GetTimestamp()); // a run whose stats are read is in use
        return Sum(run.Devices.Values);
    }

    private static IngestTotals Sum(ICollection<DeviceIngestCounter> counters)
    {
        long ingested = 0, lost = 0, duplicated = 0, outOfOrder = 0;
        var devices = 0;
        foreach (var counter in counters)
        {
            var s = counter.Snapshot();
            ingested += s.Ingested;
            lost += s.Lost;
            duplicated += s.Duplicated;
            outOfOrder += s.OutOfOrder;
            if (s.Ingested > 0)
            {
                devices++;
            }
        }

        return new IngestTotals(ingested, lost, duplicated, outOfOrder, devices);
    }

    /// <summary>The device's counts, or null if it never sent telemetry and was never registered.</summary>
    public DeviceIngest? ForDevice(string deviceId) =>
        _counters.TryGetValue(deviceId, out var counter) ? counter.Snapshot() : null;

    /// <summary>Counts of every device, in no particular order.</summary>
    public IReadOnlyList<DeviceIngest> Devices()
    {
        var list = new List<DeviceIngest>(_counters.Count);
        foreach (var counter in _counters.Values)
        {
            list.Add(counter.Snapshot());
        }

        return list;
    }

    internal DeviceIngestCounter CounterFor(string deviceId) =>
        _counters.GetOrAdd(deviceId, static (id, owner) => new DeviceIngestCounter(id, owner), this);

    /// <summary>Run <paramref name="runId"/>'s counts (created, or created again after it was forgotten).</summary>
    internal RunIngest Run(string runId) =>
        _runs.GetOrAdd(runId, static (_, now) => new RunIngest(now), _time.GetTimestamp());

    /// <summary>
    /// Forgets the runs idle for <see cref="RunIdleTimeout"/>: a run whose ingested count moved since the last sweep was
    /// active then. Counted conservatively (a run counts as active until the sweep that saw its last change), so a run
    /// still sending is never forgotten.
    /// </summary>
    internal void SweepIdleRuns()
    {
        if (!_sweepGate.TryEnter())
        {
            return;
        }

        try
        {
            var now = _time.GetTimestamp();
            foreach (var (id, run) in _runs)
            {
                long ingested = 0;
                foreach (var counter in run.Devices.Values)
                {
                    ingested += counter.Ingested;
                }

                if (ingested != run.IngestedAtLastSweep)
                {
                    run.IngestedAtLastSweep = ingested;
                    run.Touch(now);
                }
                else if (_time.GetElapsedTime(run.LastActive, now) >= RunIdleTimeout && _runs.TryRemove(KeyValuePair.Create(id, run)))
                {
                    run.Forget();
                }
            }
        }
        finally
        {
            _sweepGate.Exit();
        }
    }
}

/// <summary>One run's per-device counters, and when it was last seen active (a <see cref="TimeProvider"/> timestamp).</summary>
internal sealed class RunIngest(long createdAt)
{
    private long _lastActive = createdAt;
    private volatile bool _forgotten;

    public ConcurrentDictionary<string, DeviceIngestCounter> Devices { get; } = new(StringComparer.Ordinal);

    public long LastActive => Interlocked.Read(ref _lastActive);

    /// <summary>Only the sweep reads and writes it.</summary>
    public long IngestedAtLastSweep { get; set; }

    /// <summary>True once the accounting dropped this run: devices caching its counter must look the run up again.</summary>
    public bool Forgotten => _forgotten;

    public void Touch(long now) => Interlocked.Exchange(ref _lastActive, now);

    public void Forget() => _forgotten = true;

    public DeviceIngestCounter CounterFor(string deviceId) =>
        Devices.GetOrAdd(deviceId, static id => new DeviceIngestCounter(id));
}
