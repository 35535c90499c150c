using Akka.Cluster.Sharding;
using FleetSim.Cluster.Protocol;

namespace FleetSim.Cluster.Worker;

/// <summary>
/// How devices are sharded: entity id = device id, shard = MurmurHash of the id modulo a fixed shard count (stable across
/// processes and runs, unlike string.GetHashCode), shard regions only on nodes with the <see cref="Role"/> role.
/// </summary>
public sealed class DeviceShards : HashCodeMessageExtractor
{
    public const string TypeName = "device";
    public const string Role = "worker";
    public const string CoordinatorRole = "coordinator";

    /// <summary>Enough shards to spread evenly over tens of nodes, few enough that each holds many devices.</summary>
    public const int ShardCount = 100;

    public static DeviceShards Instance { get; } = new();

    private DeviceShards() : base(ShardCount)
    {
    }

    public override string? EntityId(object message) => message switch
    {
        StartDevice s => s.DeviceId,
        StopDevice s => s.DeviceId,
        _ => null,
    };

    /// <summary>The shard a device lives in.</summary>
    public string ShardOf(string deviceId) => ShardId(deviceId, null);
}
