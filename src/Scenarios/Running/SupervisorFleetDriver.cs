using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.Scenarios.Load;

namespace FleetSim.Scenarios.Running;

/// <summary>The production <see cref="IFleetDriver"/>: forwards the runner's decisions to the FleetSupervisor.</summary>
public sealed class SupervisorFleetDriver : IFleetDriver
{
    private readonly IActorRef _fleet;
    private readonly FleetPlan _plan;

    public SupervisorFleetDriver(IActorRef fleet, FleetPlan plan)
    {
        _fleet = fleet;
        _plan = plan;
        for (var g = 0; g < plan.Groups.Count; g++)
            fleet.Tell(new FleetSupervisor.RegisterGroup(g, plan.Groups[g].Options));
    }

    public void Start(int group, int index, DateTimeOffset dueAt)
    {
        var g = _plan.Groups[group];
        var time = g.Options.Time;
        var lateBy = time.GetUtcNow() - dueAt;
        var intended = time.GetTimestamp() - (long)(Math.Max(0, lateBy.TotalSeconds) * time.TimestampFrequency);
        _fleet.Tell(new FleetSupervisor.StartDevice(group, g.Identity(index), intended));
    }

    public void Stop(int group, int index) => _fleet.Tell(new FleetSupervisor.StopDevice(_plan.Groups[group].DeviceId(index)));

    public void SetTelemetryInterval(int group, TimeSpan interval) => _fleet.Tell(new FleetSupervisor.SetTelemetryInterval(group, interval));

    public void SetPaused(bool paused) => _fleet.Tell(new FleetSupervisor.SetPaused(paused));

    public void StopAll(IActorRef whenStopped) =>
        _fleet.Ask<FleetSupervisor.AllStopped>(new FleetSupervisor.StopAll(ScenarioRunner.StopTimeout), ScenarioRunner.StopTimeout + TimeSpan.FromSeconds(5))
            .ContinueWith(_ => (object)new ScenarioRunner.FleetStopped(), TaskScheduler.Default)
            .PipeTo(whenStopped);
}

/// <summary>Per group: the device options (built once) and how to name and credential its devices.</summary>
public sealed record GroupPlan(DeviceOptions Options, Func<int, string> DeviceId, string[] Keys)
{
    public DeviceIdentity Identity(int index) => new(DeviceId(index), index, Keys[index]);
}

public sealed record FleetPlan(IReadOnlyList<GroupPlan> Groups);
