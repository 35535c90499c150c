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
/// </summary>
public sealed class IngestAccounting
{
    private readonly ConcurrentDictionary<string, DeviceIngestCounter> _counters = new(StringComparer.Ordinal);

    public IngestTotals Totals
    {
        get
        {
            long ingested = 0, lost = 0, duplicated = 0, outOfOrder = 0;
            var devices = 0;
            foreach (var counter in _counters.Values)
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
        _counters.GetOrAdd(deviceId, static id => new DeviceIngestCounter(id));
}
