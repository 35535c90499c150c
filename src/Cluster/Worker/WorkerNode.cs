using Akka.Actor;
using Akka.Event;
using FleetSim.Cluster.Protocol;
using FleetSim.DeviceActors;

namespace FleetSim.Cluster.Worker;

/// <summary>
/// One per worker node (/user/fleetsim-node). Accepts the coordinator's <see cref="RunPlan"/> (derives the node's copy of
/// the fleet), keeps track of the device entities hosted here, applies broadcasts (telemetry interval, pause, stop all)
/// to them, and sends the coordinator a report every second (metrics interval, CPU, RSS, shards). When the coordinator
/// is gone the node leaves the cluster, and the process ends.
/// States: WaitingForPlan -> Running -> Stopping (devices stopped; waits for the coordinator to go).
/// </summary>
public sealed class WorkerNode : ReceiveActor, IWithTimers
{
    public const string Name = "fleetsim-node";
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    private const string ReportTimer = "report";
    private const string StopTimer = "stop-deadline";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerRuntime _runtime;
    private readonly string _node;
    private readonly ProcessSampler _sampler = new();
    private readonly Dictionary<IActorRef, (int Group, string Shard)> _entities = [];
    private readonly Dictionary<string, int> _shards = new(StringComparer.Ordinal);
    private readonly Dictionary<int, TimeSpan> _intervals = [];
    private readonly HashSet<IActorRef> _stopping = [];
    private IActorRef _coordinator = ActorRefs.Nobody;
    private NodePlan? _plan;
    private bool _paused;
    private int _stopped;

    public WorkerNode(WorkerRuntime runtime, string node)
    {
        _runtime = runtime;
        _node = node;
        WaitingForPlan();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(WorkerRuntime runtime, string node) => Akka.Actor.Props.Create<WorkerNode>(runtime, node);

    private sealed record ReportTick
    {
        public static ReportTick Instance { get; } = new();
    }

    private sealed record StopDeadline
    {
        public static StopDeadline Instance { get; } = new();
    }

    protected override void PreStart() => _runtime.Node = Self;

    protected override void PostStop() => _plan?.Dispose();

    private void WaitingForPlan()
    {
        Receive<RunPlan>(OnPlan);
        ReceiveAny(m => _log.Warning("node {0}: {1} before the run plan; ignored", _node, m.GetType().Name));
    }

    private void OnPlan(RunPlan plan)
    {
        var built = NodePlan.Build(plan, _runtime, out var errors);
        if (built is null)
        {
            _log.Error("node {0}: the run plan was rejected: {1}", _node, string.Join("; ", errors));
            plan.Coordinator.Tell(new NodePlanRejected(_node, [.. errors]));
            return;
        }

        _plan = built;
        _coordinator = plan.Coordinator;
        _runtime.SetPlan(built);
        Context.Watch(_coordinator);
        _coordinator.Tell(new NodeJoined(_node, Self));
        Timers.StartPeriodicTimer(ReportTimer, ReportTick.Instance, ReportInterval);
        Become(Running);
    }

    private void Running()
    {
        Receive<RunPlan>(_ => _coordinator.Tell(new NodeJoined(_node, Self))); // a repeated delivery
        Receive<DeviceEntity.DeviceHosted>(OnHosted);
        Receive<Terminated>(OnTerminated);
        Receive<SetTelemetryInterval>(s =>
        {
            _intervals[s.Group] = s.Interval;
            var message = new DeviceActor.SetTelemetryInterval(s.Interval);
            foreach (var (entity, (group, _)) in _entities)
            {
                if (group == s.Group)
                    entity.Tell(message);
            }
        });
        Receive<SetPaused>(s =>
        {
            _paused = s.Paused;
            var message = new DeviceActor.SetPaused(s.Paused);
            foreach (var entity in _entities.Keys)
                entity.Tell(message);
        });
        Receive<StopAllDevices>(OnStopAll);
        Receive<ReportTick>(_ => Report());
    }

    private void OnHosted(DeviceEntity.DeviceHosted hosted)
    {
        if (_entities.TryAdd(Sender, (hosted.Group, hosted.Shard)))
        {
            _shards[hosted.Shard] = _shards.GetValueOrDefault(hosted.Shard) + 1;
            Context.Watch(Sender);
        }

        Sender.Tell(new DeviceEntity.CurrentBehaviour(_intervals.TryGetValue(hosted.Group, out var i) ? i : null, _paused));
    }

    private void OnTerminated(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_coordinator))
        {
            _log.Warning("node {0}: the coordinator is gone; leaving the cluster", _node);
            CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
            return;
        }

        if (!_entities.Remove(terminated.ActorRef, out var entry))
            return;
        if (--_shards[entry.Shard] == 0)
            _shards.Remove(entry.Shard);
        if (_stopping.Remove(terminated.ActorRef))
            OneStopped();
    }

    private void OnStopAll(StopAllDevices stop)
    {
        Timers.Cancel(ReportTimer);
        foreach (var entity in _entities.Keys)
        {
            _stopping.Add(entity);
            entity.Tell(DeviceEntity.StopForRunEnd.Instance);
        }

        Become(() =>
        {
            Receive<DeviceEntity.EntityStopped>(_ =>
            {
                if (_stopping.Remove(Sender))
                    OneStopped();
            });
            Receive<Terminated>(OnTerminated);
            Receive<StopDeadline>(_ => Finish(timedOut: true));
            Receive<DeviceEntity.DeviceHosted>(h => Sender.Tell(DeviceEntity.StopForRunEnd.Instance)); // started just now: stop it too
            ReceiveAny(_ => { });
        });
        if (_stopping.Count == 0)
            Finish(timedOut: false);
        else
            Timers.StartSingleTimer(StopTimer, StopDeadline.Instance, stop.Deadline);
    }

    private void OneStopped()
    {
        _stopped++;
        if (_stopping.Count == 0)
            Finish(timedOut: false);
    }

    /// <summary>The last report (everything measured up to the stop) goes before <see cref="NodeStopped"/>, on the same path.</summary>
    private void Finish(bool timedOut)
    {
        Timers.Cancel(StopTimer);
        Report();
        _coordinator.Tell(new NodeStopped(_node, _stopped, _stopping.Count, timedOut));
        Become(() =>
        {
            Receive<Terminated>(OnTerminated);
            ReceiveAny(_ => { });
        });
    }

    private void Report()
    {
        var (cpu, rss) = _sampler.Sample();
        _coordinator.Tell(new NodeReport(_node, _runtime.Metrics.TakeInterval(), _entities.Count, cpu, rss, [.. _shards.Keys], _runtime.Recovery.Drain()));
    }
}
