using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using FleetSim.HubEmulator.Faults;
using FleetSim.Metrics;
using Microsoft.Extensions.Time.Testing;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// Churn against the emulator over MQTT/TLS: a device stopped while a message of its is undelivered, and started again,
/// must leave no gap in the hub's sequence accounting (the soak's "lost"). The hub runs on a fake clock, so its blackhole
/// (the way to hold a message undelivered on a real connection) lasts until the test ends.
/// </summary>
public sealed class StopAccountingIntegrationTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly FleetMetrics _metrics = new();
    private readonly FakeTimeProvider _hubTime = new(DateTimeOffset.UtcNow);
    private IoTHubEmulator _hub = null!;
    private X509Certificate2 _ca = null!;

    public StopAccountingIntegrationTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _hub = await IoTHubEmulator.StartAsync(new HubEmulatorOptions { MqttPort = 0, HttpsPort = 0, TimeProvider = _hubTime });
        _ca = X509Certificate2.CreateFromPem(_hub.CaCertificatePem);
    }

    public async Task DisposeAsync()
    {
        _hub.Faults.Clear();
        await _hub.DisposeAsync();
        _ca.Dispose();
    }

    private long Count(string name) => _metrics.Counter(name).Value;

    private string Diagnose(string id) =>
        $"hub {_hub.Ingest.ForDevice(id)}; device: sent {Count(Counters.TelemetrySent)}, acked {Count(Counters.TelemetryAcked)}, " +
        $"resent {Count(DeviceMetrics.TelemetryResent)}, unackedAtStop {Count(DeviceMetrics.TelemetryUnacked)}, lost connections {Count(Counters.ConnectionLost)}";

    /// <summary>Polls with a generous deadline (a loaded 2-core machine) and says what it saw when the condition never came.</summary>
    private void Await(Func<bool> condition, string what, string id) =>
        AwaitAssert(() => Assert.True(condition(), what + ": " + Diagnose(id)), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

    [Fact]
    public async Task A_device_stopped_with_telemetry_undelivered_and_started_again_leaves_no_gap_at_the_hub()
    {
        const string id = "churn-0";
        var identity = new DeviceIdentity(id, 0, _hub.Registry.Add(id).PrimaryKey);
        var options = new DeviceOptions
        {
            HostName = _hub.HostName,
            EndpointPort = _hub.MqttPort,
            TrustedCa = _ca,
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(200), OfflineQueueCapacity = 100 },
            OperationTimeout = TimeSpan.FromSeconds(1), // the PUBACK wait that notices the blackhole
            StopDrainTimeout = TimeSpan.FromSeconds(1),
            Retry = RetryPolicy.Fixed with { FixedInterval = TimeSpan.FromMinutes(5) }, // stays disconnected until stopped
        };
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.RegisterGroup(0, options));
        fleet.Tell(new FleetSupervisor.StartDevice(0, identity, options.Time.GetTimestamp()));
        Await(() => Count(Counters.TelemetryAcked) >= 3, "connected and sending", id);

        // The hub stops reading this connection: the next message is published and never reaches it; the device gives
        // up on its PUBACK, disconnects and queues what it makes meanwhile.
        await _hub.Faults.BlackholeAsync(1.0, TimeSpan.FromHours(1), FaultTarget.Of([id]));
        Await(() => Count(Counters.ConnectionLost) >= 1 && Count(RecoveryMetrics.TelemetryQueuedOffline) >= 1, "gave up on its PUBACK and queues", id);

        fleet.Tell(new FleetSupervisor.StopDevice(id)); // churn: stopped while reconnecting
        Await(() => Count(DeviceMetrics.StoppedPrefix + "stopped") == 1, "stopped", id);
        var undelivered = Count(Counters.TelemetrySent) - Count(Counters.TelemetryAcked);
        Assert.True(undelivered >= 1, Diagnose(id));

        fleet.Tell(new FleetSupervisor.StartDevice(0, identity, options.Time.GetTimestamp()));
        var acked = Count(Counters.TelemetryAcked);
        Await(() => Count(Counters.TelemetryAcked) >= acked + undelivered + 3, "started again and delivered what it held", id);
        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(10)), TestActor);
        FishForMessage<FleetSupervisor.AllStopped>(_ => true, TimeSpan.FromSeconds(20));

        var hub = _hub.Ingest.ForDevice(id)!;
        Assert.True(hub.Lost == 0, Diagnose(id));
        Assert.Equal(hub.HighestSequence, hub.Ingested - hub.Duplicated); // every number from 1 up arrived
        Assert.True(Count(DeviceMetrics.TelemetryResent) >= undelivered, Diagnose(id));
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked) + Count(DeviceMetrics.TelemetryUnacked));
    }
}
