using Akka.Actor;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Protocol;

/// <summary>Marks the messages that cross processes; <see cref="ClusterSerializer"/> is bound to it (never the default JSON one).</summary>
public interface IClusterMessage;

/// <summary>One partition of a partitioned emulator, as the run plan carries it.</summary>
public sealed record PlanPartition(string Host, int MqttPort, int HttpsPort) : IClusterMessage;

/// <summary>
/// Everything a worker needs to derive the same fleet as the coordinator: the scenario text with the run's overrides,
/// scale and seed, where the hub is (host names, ports, CA, partitions), which loopback source addresses to spread
/// connections over, and who the coordinator is. Sent to each worker node when it joins (also mid-run); credentials
/// are not in it, they travel with each device's start. Holds the scenario text, which may hold secrets: ToString is redacted.
/// </summary>
public sealed record RunPlan(
    string RunId,
    string ScenarioText,
    string ScenarioFile,
    string[] Overrides,
    double Scale,
    int Seed,
    string HostName,
    string MqttHost,
    int MqttPort,
    int HttpsPort,
    string? TrustedCaPem,
    PlanPartition[] Partitions,
    string[] SourceAddresses,
    IActorRef Coordinator) : IClusterMessage
{
    public override string ToString() =>
        $"RunPlan {{ RunId = {RunId}, ScenarioFile = {ScenarioFile}, Seed = {Seed}, Hub = {HostName} ({MqttHost}:{MqttPort}), Partitions = {Partitions.Length}, Text = *** }}";
}

/// <summary>A worker accepted the plan: it hosts device shards from now on.</summary>
public sealed record NodeJoined(string Node, IActorRef NodeActor) : IClusterMessage;

/// <summary>A worker could not derive the fleet from the plan (e.g. a file the scenario names is missing on its machine).</summary>
public sealed record NodePlanRejected(string Node, string[] Errors) : IClusterMessage;

/// <summary>
/// A worker's once-a-second report: its metrics interval, how many devices it hosts, its CPU and RSS, the shards it
/// hosts (so the coordinator knows which devices a lost node held) and devices that reconnected on it after a node loss.
/// </summary>
public sealed record NodeReport(string Node, MetricsInterval Metrics, int DevicesHosted, long CpuPermille, long RssBytes, string[] Shards,
    RecoveredDevice[] Recovered) : IClusterMessage;

/// <summary>A device restarted after a node loss that is connected again.</summary>
public sealed record RecoveredDevice(string DeviceId, DateTimeOffset ConnectedAt) : IClusterMessage;

/// <summary>A worker stopped its devices at the end of the run (after sending its last report).</summary>
public sealed record NodeStopped(string Node, int Stopped, int StillRunning, bool TimedOut) : IClusterMessage;

/// <summary>
/// Start (or start again) one device. Sent through the shard region to the entity named <see cref="DeviceId"/>; carries
/// the device's credential (a symmetric key, or an X.509 certificate with its key as PKCS#12), so ToString is redacted.
/// <see cref="DueAt"/> is when the schedule asked for it (latency is measured from then); <see cref="ResumeAfterSequence"/>
/// continues its telemetry numbering; <see cref="Recovering"/> marks a restart after its node was lost.
/// </summary>
public sealed record StartDevice(string DeviceId, int Group, int Index, string? Key, byte[]? Certificate, DateTimeOffset DueAt,
    long ResumeAfterSequence, bool Recovering) : IClusterMessage
{
    public override string ToString() =>
        $"StartDevice {{ DeviceId = {DeviceId}, Group = {Group}, Index = {Index}, Credential = {(Key is not null ? "key ***" : Certificate is not null ? "certificate ***" : "none")}, DueAt = {DueAt:O} }}";
}

/// <summary>Stop one device cleanly (a ramp-down).</summary>
public sealed record StopDevice(string DeviceId) : IClusterMessage;

/// <summary>A device whose shard moved to another node (rebalancing) stopped cleanly here: the coordinator starts it again there.</summary>
public sealed record DeviceHandedOff(string DeviceId, int Group, int Index, long LastSequence) : IClusterMessage;

/// <summary>Broadcast to every worker: a group's telemetry interval from now on.</summary>
public sealed record SetTelemetryInterval(int Group, TimeSpan Interval) : IClusterMessage;

/// <summary>Broadcast to every worker: pause or resume telemetry (pause phases).</summary>
public sealed record SetPaused(bool Paused) : IClusterMessage;

/// <summary>Broadcast to every worker at the end of the run: stop every device; answer <see cref="NodeStopped"/>.</summary>
public sealed record StopAllDevices(TimeSpan Deadline) : IClusterMessage;

