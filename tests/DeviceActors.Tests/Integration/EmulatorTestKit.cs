using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using Microsoft.Extensions.Time.Testing;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// What the tests of real device actors against the in-process emulator share: the hub on free ports (on a fake clock
/// when the test needs a fault's period to end on its word; devices keep real time), the CA its devices trust, device
/// options pointing at it, identities registered in it, the fleet's metrics, and a fleet started and stopped.
/// The hub and the CA are released after each test, also when it failed.
/// </summary>
public abstract class EmulatorTestKit : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly FakeTimeProvider? _hubTime;
    private IoTHubEmulator? _hub;
    private X509Certificate2? _ca;

    /// <param name="hubTime">The hub's clock; null for real time.</param>
    protected EmulatorTestKit(FakeTimeProvider? hubTime = null) : base("akka.loglevel = WARNING") => _hubTime = hubTime;

    protected FleetMetrics Metrics { get; } = new();

    protected IoTHubEmulator Hub => _hub ?? throw new InvalidOperationException("the hub starts in InitializeAsync");

    /// <summary>The hub's fake clock: advance it to end a fault's period.</summary>
    protected FakeTimeProvider HubTime => _hubTime ?? throw new InvalidOperationException("this test's hub runs on real time");

    public virtual async Task InitializeAsync()
    {
        _hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0, TimeProvider = _hubTime ?? TimeProvider.System });
        _ca = X509Certificate2.CreateFromPem(_hub.CaCertificatePem);
    }

    public virtual async Task DisposeAsync()
    {
        if (_hub is not null)
        {
            _hub.Faults.Clear();
            await _hub.DisposeAsync();
        }

        _ca?.Dispose();
    }

    /// <summary>Options for a device of this hub over MQTT/TLS, sending telemetry every <paramref name="telemetryInterval"/> (none when null).</summary>
    protected DeviceOptions DeviceOptions(TimeSpan? telemetryInterval) => new()
    {
        HostName = Hub.HostName,
        EndpointPort = Hub.MqttPort,
        TrustedCa = _ca,
        Telemetry = telemetryInterval is { } interval ? new TelemetryOptions { Interval = interval } : null,
        StopDrainTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Registers <paramref name="deviceId"/> in the hub and returns its identity (index <paramref name="index"/>).</summary>
    protected DeviceIdentity Register(string deviceId, int index = 0) => new(deviceId, index, Hub.Registry.Add(deviceId).PrimaryKey);

    /// <summary>Registers <c>{prefix}-0</c> to <c>{prefix}-{n-1}</c>.</summary>
    protected IReadOnlyList<DeviceIdentity> Register(int n, string prefix) =>
        Enumerable.Range(0, n).Select(i => Register($"{prefix}-{i}", i)).ToArray();

    protected long Count(string name) => Metrics.Counter(name).Value;

    /// <summary>A fleet with <paramref name="devices"/> started at <paramref name="perSecond"/> a second (0: at once), once it has created them.</summary>
    protected IActorRef StartFleet(IReadOnlyList<DeviceIdentity> devices, DeviceOptions options, int perSecond = 0, FleetMetrics? metrics = null)
    {
        var fleet = Sys.ActorOf(FleetSupervisor.Props(metrics ?? Metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(devices, options, perSecond), TestActor);
        ExpectMsg<FleetSupervisor.DevicesCreated>(TimeSpan.FromSeconds(10));
        return fleet;
    }

    /// <summary>Stops every device of <paramref name="fleet"/> and waits for the answer (generous deadlines: a loaded machine).</summary>
    protected FleetSupervisor.AllStopped StopFleet(IActorRef fleet, TimeSpan? drain = null)
    {
        var timeout = drain ?? TimeSpan.FromSeconds(20);
        fleet.Tell(new FleetSupervisor.StopAll(timeout), TestActor);
        return FishForMessage<FleetSupervisor.AllStopped>(_ => true, timeout + TimeSpan.FromSeconds(10));
    }
}
