namespace FleetSim.Scenarios.Load;

/// <summary>
/// What the scenario runner needs from the device side: start and stop single devices and steer behaviours.
/// The production implementation forwards to the FleetSupervisor; tests use a recording fake.
/// </summary>
public interface IFleetDriver
{
    /// <summary>Start device <paramref name="index"/> of group <paramref name="group"/>; it was due at <paramref name="dueAt"/>.</summary>
    void Start(int group, int index, DateTimeOffset dueAt);

    /// <summary>Disconnect the device cleanly (ramp-down).</summary>
    void Stop(int group, int index);

    /// <summary>Change a group's telemetry interval from now on (a phase's rate change).</summary>
    void SetTelemetryInterval(int group, TimeSpan interval);

    /// <summary>Pause or resume telemetry and periodic reported updates (pause phases).</summary>
    void SetPaused(bool paused);

    /// <summary>Stop every device cleanly; <paramref name="whenStopped"/> receives <see cref="ScenarioRunner.FleetStopped"/> when all are down.</summary>
    void StopAll(Akka.Actor.IActorRef whenStopped);
}
