using System.Collections.Concurrent;

namespace FleetSim.Metrics;

/// <summary>What happened to one device's connection: the hub or network took it, it came back, or it stopped.</summary>
public enum RecoveryEventKind : byte
{
    /// <summary>The connection was lost (not a planned disconnect such as a SAS renewal or a stop).</summary>
    Lost = 1,

    /// <summary>The first successful connect after a loss.</summary>
    Reconnected = 2,

    /// <summary>The device stopped: on request (reason <c>stopped</c>, a ramp-down or the end of the run) or because it gave up.</summary>
    Stopped = 3,
}

/// <summary>
/// One connection event of one device, at <see cref="AtUnixMs"/> (the device's clock, Unix milliseconds).
/// <see cref="Reason"/>: the loss reason (a failure label such as <c>network</c>) or the stop reason.
/// A record of primitives, so it crosses processes in <see cref="MetricsInterval.Recovery"/>.
/// </summary>
public readonly record struct RecoveryEvent(string DeviceId, RecoveryEventKind Kind, long AtUnixMs, string? Reason);

/// <summary>
/// The device side's record of every connection loss and the reconnect that ended it, kept per event (not per
/// message): what recovery after each fault is computed from once the run is over (<see cref="RecoveryAnalysis"/>).
/// Devices know when they lost their connection and when they had it back, whatever the cause (an emulator fault, a
/// proxy between the devices and a real hub, a hub that failed by itself), so nothing here depends on the kind of fault.
/// Recording is lock-free (a concurrent queue of small structs); the log keeps at most <see cref="Capacity"/> events
/// and counts what it had to leave out, so a very long soak cannot exhaust memory.
/// On a worker node (<c>exportIntervals</c>) events wait only until the next <see cref="FleetMetrics.TakeInterval"/>.
/// </summary>
public sealed class RecoveryLog(int capacity = RecoveryLog.DefaultCapacity)
{
    /// <summary>About 130 MB of events at most (32 bytes each, plus the queue's segments).</summary>
    public const int DefaultCapacity = 4_000_000;

    private readonly ConcurrentQueue<RecoveryEvent> _events = new();
    private long _count;
    private long _discarded;

    public int Capacity { get; } = capacity;

    /// <summary>Events not kept because the log was full.</summary>
    public long Discarded => Interlocked.Read(ref _discarded);

    public void Lost(string deviceId, DateTimeOffset at, string reason) =>
        Record(new RecoveryEvent(deviceId, RecoveryEventKind.Lost, at.ToUnixTimeMilliseconds(), reason));

    public void Reconnected(string deviceId, DateTimeOffset at) =>
        Record(new RecoveryEvent(deviceId, RecoveryEventKind.Reconnected, at.ToUnixTimeMilliseconds(), null));

    public void Stopped(string deviceId, DateTimeOffset at, string reason) =>
        Record(new RecoveryEvent(deviceId, RecoveryEventKind.Stopped, at.ToUnixTimeMilliseconds(), reason));

    public void Record(RecoveryEvent e)
    {
        ArgumentNullException.ThrowIfNull(e.DeviceId);
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _discarded);
            return;
        }

        _events.Enqueue(e);
    }

    /// <summary>Every event kept so far, in recording order (per device that is time order).</summary>
    public IReadOnlyList<RecoveryEvent> Events() => _events.ToArray();

    /// <summary>Takes the events out (a worker node's interval); they are not kept here afterwards.</summary>
    internal RecoveryEvent[] Drain()
    {
        var drained = new List<RecoveryEvent>();
        while (_events.TryDequeue(out var e))
        {
            drained.Add(e);
            Interlocked.Decrement(ref _count);
        }

        return [.. drained];
    }

    /// <summary>Events another node recorded (its interval), appended to these.</summary>
    internal void Absorb(IReadOnlyList<RecoveryEvent> events, long discarded)
    {
        foreach (var e in events)
            Record(e);
        if (discarded > 0)
            Interlocked.Add(ref _discarded, discarded);
    }

    /// <summary>Counts of events discarded since the previous call, for a node's interval.</summary>
    internal long TakeDiscarded(ref long reported)
    {
        var now = Discarded;
        var since = now - reported;
        reported = now;
        return since;
    }
}
