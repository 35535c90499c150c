using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Fleet;
using FleetSim.Scenarios.Load;
using FleetSim.Scenarios.Model;

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
public sealed record GroupPlan(DeviceOptions Options, Func<int, string> DeviceId, GroupCredentials Credentials, CredentialKind Kind, ConnectedDevices Connected)
{
    public DeviceIdentity Identity(int index)
    {
        var id = DeviceId(index);
        return Kind switch
        {
            CredentialKind.X509 => new DeviceIdentity(id, index, null, ClientCertificate: Credentials.Certificates![index]),
            // A ready-made token, as an application that gets its tokens from a token service would hold; renewed
            // through the group's token provider.
            CredentialKind.SasToken => new DeviceIdentity(id, index, null,
                SasToken: Protocol.SasToken.Create($"{Options.HostName}/devices/{id}", Credentials.Keys![index], Options.Time.GetUtcNow() + Options.SasTtl)),
            _ => new DeviceIdentity(id, index, Credentials.Keys![index]),
        };
    }
}

/// <summary>What registration produced for a group: symmetric keys, or X.509 client certificates with their private keys.</summary>
public sealed record GroupCredentials(string[]? Keys, System.Security.Cryptography.X509Certificates.X509Certificate2[]? Certificates);

/// <summary>
/// The token service of a group using ready-made SAS tokens (the SDKs' update_sastoken / on_new_sastoken_required): mints
/// a new token from the device's key when the device asks ahead of expiry.
/// </summary>
public sealed class KeyedTokenProvider(string hostName, string[] keys, TimeSpan ttl, TimeProvider time) : ISasTokenProvider
{
    public Task<string> GetTokenAsync(DeviceIdentity identity, CancellationToken cancellationToken) =>
        Task.FromResult(Protocol.SasToken.Create($"{hostName}/devices/{identity.DeviceId}", keys[identity.Index], time.GetUtcNow() + ttl));
}

public sealed record FleetPlan(IReadOnlyList<GroupPlan> Groups);
