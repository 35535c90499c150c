using System.Text;

namespace FleetSim.Protocol;

/// <summary>
/// Where a device lives when the emulated hub is split over several partition processes (one process holds at most
/// ~19,900 connections here). Both sides use this one function: the hub's service front routes a device's REST
/// calls to its partition, and the device side connects the device to that partition's MQTT endpoint. It must be
/// stable across processes and runs, so it is FNV-1a over the UTF-8 id, never <see cref="string.GetHashCode()"/>.
/// </summary>
public static class HubPartitions
{
    /// <summary>The 0-based partition of <paramref name="deviceId"/> among <paramref name="partitions"/>.</summary>
    public static int PartitionOf(string deviceId, int partitions)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        if (partitions == 1)
            return 0;
        const uint offsetBasis = 2166136261;
        const uint prime = 16777619;
        var hash = offsetBasis;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(deviceId) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(deviceId, buffer)] : Encoding.UTF8.GetBytes(deviceId);
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= prime;
        }

        return (int)(hash % (uint)partitions);
    }
}
