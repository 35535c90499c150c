using Akka.Actor;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Running;

namespace FleetSim.Cluster.Coordinator;

/// <summary>
/// The <see cref="IFleetDriver"/> of a run over worker nodes: the runner's decisions go to the
/// <see cref="FleetCoordinator"/>, which reaches each device through the shard region and broadcasts to every node.
/// </summary>
public sealed class ShardedFleetDriver(IActorRef coordinator) : IFleetDriver
{
    public void Start(int group, int index, DateTimeOffset dueAt) => coordinator.Tell(new FleetCoordinator.DriverStart(group, index, dueAt));

    public void Stop(int group, int index) => coordinator.Tell(new FleetCoordinator.DriverStop(group, index));

    public void SetTelemetryInterval(int group, TimeSpan interval) => coordinator.Tell(new FleetCoordinator.DriverInterval(group, interval));

    public void SetPaused(bool paused) => coordinator.Tell(new FleetCoordinator.DriverPaused(paused));

    public void StopAll(IActorRef whenStopped) => coordinator.Tell(new FleetCoordinator.DriverStopAll(whenStopped, ScenarioRunner.StopTimeout));
}
