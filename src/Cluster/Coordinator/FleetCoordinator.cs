using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FleetSim.Cluster.Protocol;
using FleetSim.Cluster.Worker;
using FleetSim.Metrics;
using FleetSim.Reporting;
using FleetSim.Scenarios.Running;

namespace FleetSim.Cluster.Coordinator;

/// <summary>
/// The coordinator's side of a run over worker nodes (/user/fleetsim-coordinator). It sends each worker the
/// <see cref="RunPlan"/> when it joins (also mid-run), turns the runner's decisions (through
/// <see cref="ShardedFleetDriver"/>) into device starts and stops through the shard region proxy and into broadcasts to
/// every node, merges the nodes' metrics into the run's, and handles node loss: the devices of a lost node are started
/// again from here on the surviving nodes (their shards are re-homed by the sharding coordinator), continuing their
/// telemetry numbering where the hub last saw it. The events end up in the report.
/// </summary>
public sealed partial class FleetCoordinator : ReceiveActor, IWithTimers
{
    public const string Name = "fleetsim-coordinator";

    /// <summary>Time between a lost node's removal and the restart of its devices, so every region has dropped its shards.</summary>
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(2);

    /// <summary>Devices of a lost node that have not reconnected are started again this often (a start is idempotent).</summary>
    public static readonly TimeSpan RestartRetry = TimeSpan.FromSeconds(10);

    private const int RestartAttempts = 3;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RunPlan _plan;
    private readonly FleetPlan _fleet;
    private readonly IActorRef _region;
    private readonly ClusterMetricsMerger _merger;
    private readonly Func<IReadOnlyList<string>, Task<IReadOnlyDictionary<string, long>>> _resumePositions;
    private readonly DateTimeOffset _runStart;
    private readonly Dictionary<Address, NodeState> _nodes = [];
    private readonly bool[][] _active;
    private readonly TimeSpan?[] _intervals;
    private readonly List<LossEvent> _losses = [];
    private readonly List<NodeEvent> _joins = [];
    private readonly List<(int Count, IActorRef Requester)> _waiters = [];
    private readonly HashSet<Address> _awaitingStop = [];
    private IActorRef? _stopRequester;
    private bool _started;
    private bool _stopping;
    private bool _paused;

    public FleetCoordinator(RunPlan plan, FleetPlan fleet, IReadOnlyList<int> groupSizes, IActorRef region, FleetMetrics metrics,
        Func<IReadOnlyList<string>, Task<IReadOnlyDictionary<string, long>>> resumePositions, DateTimeOffset runStart)
    {
        _plan = plan;
        _fleet = fleet;
        _region = region;
        _merger = new ClusterMetricsMerger(metrics);
        _resumePositions = resumePositions;
        _runStart = runStart;
        _active = new bool[fleet.Groups.Count][];
        _intervals = new TimeSpan?[fleet.Groups.Count];
        for (var g = 0; g < _active.Length; g++)
        {
            _active[g] = new bool[groupSizes[g]];
            _intervals[g] = fleet.Groups[g].Options.Telemetry?.Interval;
        }

        ReceiveMembership();
        ReceiveDriver();
        ReceiveNodes();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(RunPlan plan, FleetPlan fleet, IReadOnlyList<int> groupSizes, IActorRef region, FleetMetrics metrics,
        Func<IReadOnlyList<string>, Task<IReadOnlyDictionary<string, long>>> resumePositions, DateTimeOffset runStart) =>
        Akka.Actor.Props.Create(() => new FleetCoordinator(plan, fleet, groupSizes, region, metrics, resumePositions, runStart));

    // ---- Local protocol (the driver, the run session) ----

    public sealed record DriverStart(int Group, int Index, DateTimeOffset DueAt);

    public sealed record DriverStop(int Group, int Index);

    public sealed record DriverInterval(int Group, TimeSpan Interval);

    public sealed record DriverPaused(bool Paused);

    public sealed record DriverStopAll(IActorRef WhenStopped, TimeSpan Deadline);

    /// <summary>Answered with <see cref="NodesReady"/> once that many workers accepted the plan, or <see cref="NodesFailed"/>.</summary>
    public sealed record WaitForNodes(int Count);

    public sealed record NodesReady(IReadOnlyList<string> Nodes);

    public sealed record NodesFailed(string Reason);

    /// <summary>Answered with <see cref="NodeEvents"/>: what happened to nodes, for the report.</summary>
    public sealed record GetNodeEvents
    {
        public static GetNodeEvents Instance { get; } = new();
    }

    public sealed record NodeEvents(IReadOnlyList<NodeEvent> Events);

    /// <summary>
    /// Published on the event stream when the last worker holding devices is lost mid-run: no node is left to start its
    /// devices on, so the run cannot go on (the run session aborts it: a run without devices must not pass).
    /// </summary>
    public sealed record AllWorkersLost(string Reason);

    private sealed record ResendPlan(Address Node);

    private sealed record RestartDue(int Loss);

    private sealed record RestartPositions(int Loss, IReadOnlyDictionary<string, long> Positions);

    private sealed class NodeState(string name)
    {
        public string Name { get; } = name;

        public IActorRef? Actor { get; set; }

        public bool Lost { get; set; }

        public bool Stopped { get; set; }

        public DateTimeOffset? LastReport { get; set; }

        public DateTimeOffset? UnreachableSince { get; set; }

        public string[] Shards { get; set; } = [];

        public long Sent { get; set; }

        public long Acked { get; set; }
    }

    private sealed class LossEvent(string node, DateTimeOffset lostAt, List<(int Group, int Index, string Id)> devices, long unacked)
    {
        public string Node { get; } = node;

        public DateTimeOffset LostAt { get; } = lostAt;

        public List<(int Group, int Index, string Id)> Devices { get; } = devices;

        public Dictionary<string, DateTimeOffset> Recovered { get; } = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, long> Positions { get; set; } = new Dictionary<string, long>();

        public long Unacked { get; } = unacked;

        public int Attempts { get; set; }

        public int Survivors { get; set; }
    }

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private string NodeName(Address address) => $"{address.Host}:{address.Port}";

    private DateTimeOffset Now => DateTimeOffset.UtcNow;
}
