using System.Collections.Concurrent;
using Akka.Actor;
using FleetSim.Cluster.Protocol;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Worker;

/// <summary>
/// What every device entity of one worker node shares: the node's metrics, its plan once the coordinator sent it, the
/// node actor, and the watch for devices that reconnect after a node loss. Made before the actor system, so the shard
/// region's entity factory can close over it.
/// </summary>
public sealed class WorkerRuntime(FleetMetrics metrics, IDeviceTransportFactory? transports = null)
{
    private readonly TaskCompletionSource<NodePlan> _plan = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile NodePlan? _current;

    /// <summary>The node's own metrics; <see cref="FleetMetrics.TakeInterval"/> feeds its reports to the coordinator.</summary>
    public FleetMetrics Metrics { get; } = metrics;

    public DeviceMetrics DeviceMetrics { get; } = new(metrics);

    /// <summary>Transport of the node's devices (tests may pass a fake); null is MQTT over MQTTnet.</summary>
    public IDeviceTransportFactory? Transports { get; } = transports;

    public RecoveryWatch Recovery { get; } = new();

    /// <summary>The plan, once it arrived; null before.</summary>
    public NodePlan? Current => _current;

    /// <summary>Completes when the plan arrives (entities that get a start before it wait for it).</summary>
    public Task<NodePlan> Plan => _plan.Task;

    /// <summary>The node actor (<see cref="WorkerNode"/>); set when it starts.</summary>
    public IActorRef Node { get; set; } = ActorRefs.Nobody;

    internal void SetPlan(NodePlan plan)
    {
        _current = plan;
        _plan.TrySetResult(plan);
    }
}

/// <summary>
/// Devices restarted here after their node was lost, waiting to connect: when one does, its reconnect time goes to the
/// coordinator with the next report. Checked on every connect of every device, so the common case (nobody waiting) is
/// one volatile read.
/// </summary>
public sealed class RecoveryWatch
{
    private readonly ConcurrentDictionary<long, string> _waiting = new();
    private readonly ConcurrentQueue<RecoveredDevice> _recovered = new();
    private int _count;

    public void Expect(int group, int index, string deviceId)
    {
        if (_waiting.TryAdd(Key(group, index), deviceId))
            Interlocked.Increment(ref _count);
    }

    public void Connected(int group, int index)
    {
        if (Volatile.Read(ref _count) == 0 || !_waiting.TryRemove(Key(group, index), out var id))
            return;
        Interlocked.Decrement(ref _count);
        _recovered.Enqueue(new RecoveredDevice(id, DateTimeOffset.UtcNow));
    }

    /// <summary>Devices that reconnected since the previous call.</summary>
    public RecoveredDevice[] Drain()
    {
        if (_recovered.IsEmpty)
            return [];
        var list = new List<RecoveredDevice>();
        while (_recovered.TryDequeue(out var r))
            list.Add(r);
        return [.. list];
    }

    private static long Key(int group, int index) => ((long)group << 32) | (uint)index;
}

/// <summary>Tells the node's <see cref="RecoveryWatch"/> when a device of a group connects.</summary>
internal sealed class RecoveryObserver(int group, RecoveryWatch watch) : IConnectionObserver
{
    public void Connected(int deviceIndex) => watch.Connected(group, deviceIndex);

    public void Disconnected(int deviceIndex)
    {
    }
}
