using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.Cluster.Hosting;
using FleetSim.Cluster.Protocol;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Telemetry;

namespace FleetSim.Cluster.Worker;

/// <summary>
/// The sharded entity of one device (entity id = device id): a thin shell that creates the <see cref="DeviceActor"/>
/// child on the first start, because only that start carries the device's credential. It forwards starts, stops and
/// behaviour changes to the device, tells the node when it hosts a device (so broadcasts and the end-of-run stop reach
/// it), and when its shard moves to another node it stops the device cleanly and hands its telemetry position to the
/// coordinator, which starts it again there. States: Waiting -> (WaitingForPlan) -> Hosting -> HandingOff.
/// </summary>
public sealed class DeviceEntity : ReceiveActor, IWithStash
{
    private readonly string _deviceId;
    private readonly WorkerRuntime _runtime;
    private IActorRef _device = ActorRefs.Nobody;
    private IActorRef _coordinator = ActorRefs.Nobody;
    private int _group;
    private int _index;
    private bool _stopForRunEnd;

    public DeviceEntity(string deviceId, WorkerRuntime runtime)
    {
        _deviceId = deviceId;
        _runtime = runtime;
        Waiting();
    }

    public IStash Stash { get; set; } = null!;

    /// <summary>
    /// On the thread pool (a shard would otherwise create it on the default dispatcher, which in a cluster member is the
    /// cluster's own: <see cref="ClusterDispatchers"/>).
    /// </summary>
    public static Props Props(string deviceId, WorkerRuntime runtime) =>
        Akka.Actor.Props.Create<DeviceEntity>(deviceId, runtime).WithDispatcher(ClusterDispatchers.Work);

    // ---- Local protocol (never leaves the node) ----

    /// <summary>The shard region's hand-off stop message: the shard moves to another node.</summary>
    public sealed record HandOff
    {
        public static HandOff Instance { get; } = new();
    }

    /// <summary>To the node: this entity hosts a device of <paramref name="Group"/> in shard <paramref name="Shard"/>.</summary>
    internal sealed record DeviceHosted(string DeviceId, int Group, string Shard);

    /// <summary>From the node: the behaviour in force (phase interval, pause) for a device that starts now.</summary>
    internal sealed record CurrentBehaviour(TimeSpan? Interval, bool Paused);

    /// <summary>From the node at the end of the run; answered with <see cref="EntityStopped"/> once the device stopped.</summary>
    internal sealed record StopForRunEnd
    {
        public static StopForRunEnd Instance { get; } = new();
    }

    internal sealed record EntityStopped(string DeviceId);

    private sealed record PlanReady;

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: e =>
        {
            if (e is ActorInitializationException)
                return Directive.Stop;
            _runtime.DeviceMetrics.Restarts.Increment();
            return Directive.Restart;
        });

    // ---- States ----

    private void Waiting()
    {
        Receive<StartDevice>(start =>
        {
            if (_runtime.Current is { } plan)
            {
                Host(plan, start);
                return;
            }

            // The start overtook the run plan (a node that joined a moment ago): wait for it.
            Stash.Stash();
            _runtime.Plan.PipeTo(Self, success: _ => new PlanReady());
            Become(WaitingForPlan);
        });
        Receive<StopDevice>(_ => { }); // never started here: nothing to stop
        Receive<HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private void WaitingForPlan()
    {
        Receive<PlanReady>(_ =>
        {
            Become(Waiting);
            Stash.UnstashAll();
        });
        Receive<HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Host(NodePlan plan, StartDevice start)
    {
        _group = start.Group;
        _index = start.Index;
        _coordinator = plan.Coordinator;
        var groupPlan = plan.Fleet.Groups[start.Group];
        if (start.Key is not null && groupPlan.Credentials.Keys is { } keys)
            keys[start.Index] = start.Key;
        if (start.Certificate is not null && groupPlan.Credentials.Certificates is { } certificates)
            certificates[start.Index] ??= X509CertificateLoader.LoadPkcs12(start.Certificate, null);

        // The dispatcher and telemetry scheduler of a one-process fleet (FleetSupervisor): a device woken for telemetry runs
        // on the scheduler's thread, with no thread-pool hop (the group's options name the shared precise scheduler).
        var props = DeviceActor.Props(groupPlan.Identity(start.Index), plan.Groups[start.Group]).WithDispatcher(SchedulerThreadDispatcher.For(Context.System));
        _device = Context.ActorOf(props, "device");
        Context.Watch(_device);
        // The entity's parent is its shard: the node reports which shards it hosts, so the coordinator knows what a lost node held.
        _runtime.Node.Tell(new DeviceHosted(_deviceId, start.Group, Context.Parent.Path.Name));
        Become(Hosting);
        StartHostedDevice(start);
    }

    private void Hosting()
    {
        Receive<StartDevice>(StartHostedDevice);
        Receive<StopDevice>(_ => _device.Tell(DeviceActor.Stop.Instance));
        Receive<CurrentBehaviour>(b =>
        {
            if (b.Interval is { } interval)
                _device.Tell(new DeviceActor.SetTelemetryInterval(interval));
            if (b.Paused)
                _device.Tell(new DeviceActor.SetPaused(true));
        });
        Receive<DeviceActor.SetTelemetryInterval>(m => _device.Tell(m));
        Receive<DeviceActor.SetPaused>(m => _device.Tell(m));
        Receive<StopForRunEnd>(_ =>
        {
            _stopForRunEnd = true;
            _device.Tell(DeviceActor.Stop.Instance);
        });
        Receive<DeviceActor.DeviceStopped>(_ =>
        {
            if (!_stopForRunEnd)
                return;
            _stopForRunEnd = false;
            _runtime.Node.Tell(new EntityStopped(_deviceId));
        });
        Receive<HandOff>(_ =>
        {
            _device.Tell(DeviceActor.Stop.Instance);
            Become(HandingOff);
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_device), _ => Context.Stop(Self)); // the device could not be kept alive
        ReceiveAny(_ => { });
    }

    private void HandingOff()
    {
        Receive<DeviceActor.DeviceStopped>(_ => _device.Tell(DeviceActor.GetStatus.Instance));
        Receive<DeviceActor.DeviceStatus>(status =>
        {
            _coordinator.Tell(new DeviceHandedOff(_deviceId, _group, _index, status.LastSequence));
            Context.Stop(Self);
        });
        Receive<Terminated>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private void StartHostedDevice(StartDevice start)
    {
        if (start.Recovering)
            _runtime.Recovery.Expect(start.Group, start.Index, _deviceId);
        // Latency is measured from when the coordinator's schedule asked for the device, not from when it got here.
        var time = _runtime.Current!.Groups[start.Group].Options.Time;
        var lateBy = time.GetUtcNow() - start.DueAt;
        var intended = time.GetTimestamp() - (long)(Math.Max(0, lateBy.TotalSeconds) * time.TimestampFrequency);
        _device.Tell(new DeviceActor.Start(intended, start.ResumeAfterSequence));
    }
}
