namespace FleetSim.HubEmulator.Ingest;

/// <summary>
/// Telemetry accounting for one device. Devices number their messages 1, 2, 3, ... (application property
/// fleetsim-seq); from that the hub counts losses (gaps), duplicates and late arrivals (out of order).
/// A gap counts as lost until the missing numbers arrive; a late arrival then moves one from lost to
/// out-of-order. Only the last <see cref="Window"/> numbers are remembered exactly: a number older than that
/// is counted as a duplicate. The lock is per device and almost never contended (one connection per device).
/// </summary>
internal sealed class DeviceIngestCounter
{
    /// <summary>How many sequence numbers below the highest one are tracked exactly.</summary>
    public const int Window = 1024;

    private readonly Lock _gate = new();
    private ulong[]? _seen; // ring bitmap for (max - Window, max]; allocated at the first gap
    private long _ingested;
    private long _lost;
    private long _duplicated;
    private long _outOfOrder;
    private long _max;
    private readonly IngestAccounting? _owner;
    private RunCounter? _lastRun; // the run this device sent for last: a standing hub sees one run at a time per device id

    public DeviceIngestCounter(string deviceId, IngestAccounting? owner = null)
    {
        DeviceId = deviceId;
        _owner = owner;
    }

    public string DeviceId { get; }

    /// <summary>Messages counted so far (a cheap read for the idle sweep).</summary>
    public long Ingested => Interlocked.Read(ref _ingested);

    /// <summary>Counts a message without a sequence number.</summary>
    public void Record() => Interlocked.Increment(ref _ingested);

    /// <summary>Counts a message carrying sequence number <paramref name="sequence"/> (1-based).</summary>
    public void Record(long sequence)
    {
        if (sequence <= 0)
        {
            Record();
            return;
        }

        lock (_gate)
        {
            _ingested++;
            var max = _max;
            if (sequence == max + 1 && _seen is null)
            {
                _max = sequence;
                return;
            }

            if (sequence > max)
            {
                _seen ??= NewWindowAllSeen();
                var gap = sequence - max - 1;
                var toClear = Math.Min(gap, Window);
                for (var s = sequence - toClear; s < sequence; s++)
                {
                    Clear(s);
                }

                Set(sequence);
                _lost += gap;
                _max = sequence;
                return;
            }

            if (_seen is null || max - sequence >= Window || IsSet(sequence))
            {
                _duplicated++;
                return;
            }

            Set(sequence);
            _lost--;
            _outOfOrder++;
        }
    }

    /// <summary>
    /// This device's counter within run <paramref name="runId"/> (the raw fleetsim-run value), or null when the counter
    /// belongs to no accounting. The last run's counter is cached, so the hot path allocates only when the run changes.
    /// </summary>
    public DeviceIngestCounter? ForRun(ReadOnlySpan<char> runId)
    {
        if (_owner is null)
        {
            return null;
        }

        var last = Volatile.Read(ref _lastRun);
        if (last is not null && !last.Run.Forgotten && runId.SequenceEqual(last.RunId))
        {
            return last.Counter;
        }

        var id = runId.ToString();
        var run = _owner.Run(id);
        var counter = run.CounterFor(DeviceId);
        Volatile.Write(ref _lastRun, new RunCounter(id, run, counter));
        return counter;
    }

    public DeviceIngest Snapshot()
    {
        lock (_gate)
        {
            return new DeviceIngest(DeviceId, _ingested, _lost, _duplicated, _outOfOrder, _max);
        }
    }

    private sealed record RunCounter(string RunId, RunIngest Run, DeviceIngestCounter Counter);

    private static ulong[] NewWindowAllSeen()
    {
        var bits = new ulong[Window / 64];
        Array.Fill(bits, ulong.MaxValue);
        return bits;
    }

    private bool IsSet(long s) => (_seen![(s % Window) >> 6] & (1UL << (int)(s & 63))) != 0;

    private void Set(long s) => _seen![(s % Window) >> 6] |= 1UL << (int)(s & 63);

    private void Clear(long s) => _seen![(s % Window) >> 6] &= ~(1UL << (int)(s & 63));
}
