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
/// re-used by a later run starts again at sequence 1, which the hub-wide counter sees as duplicates).
/// </summary>
public sealed class IngestAccounting
{
    private readonly ConcurrentDictionary<string, DeviceIngestCounter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, DeviceIngestCounter>> _runs = new(StringComparer.Ordinal);

    /// <summary>Hub-wide totals: every message, whichever run (if any) sent it.</summary>
    public IngestTotals Totals => Sum(_counters.Values);

    /// <summary>Totals of the messages that carried run id <paramref name="runId"/> (all zero for a run the hub never saw).</summary>
    public IngestTotals ForRun(string runId) =>
        _runs.TryGetValue(runId, out var run) ? Sum(run.Values) : default;

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

    /// <summary>The counter of <paramref name="deviceId"/> within run <paramref name="runId"/>.</summary>
    internal DeviceIngestCounter CounterFor(string runId, string deviceId) =>
        _runs.GetOrAdd(runId, static _ => new ConcurrentDictionary<string, DeviceIngestCounter>(StringComparer.Ordinal))
            .GetOrAdd(deviceId, static id => new DeviceIngestCounter(id));
}
