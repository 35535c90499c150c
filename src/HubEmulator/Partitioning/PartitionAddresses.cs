using System.Net;

namespace FleetSim.HubEmulator.Partitioning;

/// <summary>
/// Where the partitions of a partitioned hub listen: partition k on 127.0.0.(10+k). Each partition is a process of its
/// own (its own open-file budget), and each destination address has its own ~28k ephemeral ports per source address,
/// so neither limit of one process binds the hub. Loopback only: the whole 127/8 block answers on Linux without setup.
/// </summary>
public static class PartitionAddresses
{
    /// <summary>The most partitions one hub has (each a process; 64 × ~19,900 connections is far past this machine).</summary>
    public const int MaxPartitions = 64;

    private const int FirstHost = 10;

    public static IPAddress Of(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, MaxPartitions);
        return new IPAddress([127, 0, 0, (byte)(FirstHost + partition)]);
    }

    /// <summary>The addresses of partitions 0 to <paramref name="count"/>-1, in partition order.</summary>
    public static IReadOnlyList<IPAddress> All(int count) => [.. Enumerable.Range(0, count).Select(Of)];
}
