using System.Security.Cryptography.X509Certificates;
using FleetSim.DeviceActors.Fleet;
using FleetSim.HubEmulator;
using FleetSim.Metrics;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>The limit on connects in flight over real MQTT/TLS against the in-process emulator.</summary>
public sealed class ConnectSlotIntegrationTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly FleetMetrics _metrics = new();
    private IoTHubEmulator _hub = null!;
    private X509Certificate2 _ca = null!;

    public ConnectSlotIntegrationTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0 });
        _ca = X509Certificate2.CreateFromPem(_hub.CaCertificatePem);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _ca.Dispose();
    }

    [Fact]
    public async Task Devices_started_at_once_connect_and_reconnect_through_two_slots_with_no_failure()
    {
        const int n = 24;
        var slots = new ConnectSlots(2);
        var options = new DeviceOptions
        {
            HostName = _hub.HostName,
            EndpointPort = _hub.MqttPort,
            TrustedCa = _ca,
            Telemetry = null,
            C2d = new(), // each connect holds its slot through SUBSCRIBE too
            ConnectSlots = slots,
        };
        var devices = Enumerable.Range(0, n).Select(i => new DeviceIdentity($"slot-{i}", i, _hub.Registry.Add($"slot-{i}").PrimaryKey)).ToArray();
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(devices, options, 0), TestActor);
        ExpectMsg<FleetSupervisor.DevicesCreated>(TimeSpan.FromSeconds(10));

        var connected = _metrics.Gauge(Gauges.DevicesConnected);
        AwaitCondition(() => connected.Value == n && slots.InUse == 0, TimeSpan.FromSeconds(60));
        var queue = _metrics.Operation(DeviceMetrics.ConnectQueueName);
        Assert.InRange(queue.OkCount, n - 2, n); // all but the first two (or those a slot freed for at once) waited
        Assert.Equal(0, queue.FailedCount);
        Assert.Equal(n, _metrics.Operation(Operations.Connect).OkCount);
        Assert.Equal(0, _metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, _metrics.Gauge(DeviceMetrics.ConnectQueuedName).Value);

        // A mass drop: every device reconnects through the slots (each gives its slot back once connected again).
        Assert.Equal(n, await _hub.Faults.DropAllAsync());
        AwaitCondition(() => _metrics.Operation(Operations.Reconnect).OkCount == n && connected.Value == n && slots.InUse == 0,
            TimeSpan.FromSeconds(60));
        Assert.Equal(0, _metrics.Operation(Operations.Reconnect).FailedCount);
        Assert.Equal(0, slots.Waiting);

        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(30)), TestActor);
        Assert.False(ExpectMsg<FleetSupervisor.AllStopped>(TimeSpan.FromSeconds(40)).TimedOut);
        Assert.Equal(0, slots.InUse);
    }
}
