using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>Devices against the in-process hub emulator over real MQTT/TLS on loopback.</summary>
public sealed class HubIntegrationTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly FleetMetrics _metrics = new();
    private IoTHubEmulator _hub = null!;
    private X509Certificate2 _ca = null!;

    public HubIntegrationTests() : base("akka.loglevel = WARNING")
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

    private DeviceOptions Options(TimeSpan interval) => new()
    {
        HostName = _hub.HostName,
        EndpointPort = _hub.MqttPort,
        TrustedCa = _ca,
        Telemetry = new TelemetryOptions { Interval = interval },
        StopDrainTimeout = TimeSpan.FromSeconds(5),
    };

    private IReadOnlyList<DeviceIdentity> Register(int n, string prefix) =>
        Enumerable.Range(0, n).Select(i => new DeviceIdentity($"{prefix}-{i}", i, _hub.Registry.Add($"{prefix}-{i}").PrimaryKey)).ToArray();

    private long Count(string name) => _metrics.Counter(name).Value;

    [Fact]
    public void Fifty_devices_send_for_a_few_seconds_and_every_message_is_ingested_exactly_once()
    {
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(Register(50, "fifty"), Options(TimeSpan.FromMilliseconds(250)), 100), TestActor);
        ExpectMsg<FleetSupervisor.DevicesCreated>(TimeSpan.FromSeconds(10));

        AwaitCondition(() => _metrics.Gauge(Gauges.DevicesConnected).Value == 50, TimeSpan.FromSeconds(30));
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 50 * 8, TimeSpan.FromSeconds(30));
        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(30)), TestActor);
        var stopped = ExpectMsg<FleetSupervisor.AllStopped>(TimeSpan.FromSeconds(40));

        Assert.False(stopped.TimedOut);
        Assert.Equal(50, stopped.Reasons["stopped"]);
        var sent = Count(Counters.TelemetrySent);
        Assert.Equal(sent, Count(Counters.TelemetryAcked));
        var ingest = _hub.Ingest.Totals;
        Assert.Equal(sent, ingest.Ingested);
        Assert.Equal(0, ingest.Lost);
        Assert.Equal(0, ingest.Duplicated);
        Assert.Equal(50, _metrics.Operation(Operations.Connect).OkCount);
    }

    [Fact]
    public void A_device_with_a_wrong_key_stops_as_unauthorized_without_a_retry_storm()
    {
        _hub.Registry.Add("wrong-key");
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("wrong-key", 0, Convert.ToBase64String(new byte[32])),
            new DeviceGroup(Options(TimeSpan.FromSeconds(1)), new DeviceMetrics(_metrics))));
        device.Tell(new DeviceActor.Start(TimeProvider.System.GetTimestamp()));

        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10)).Reason);
        ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, Count(Counters.ConnectRetries));
        var stats = _hub.Stats();
        Assert.Equal(1, stats.ConnectsRefused); // one attempt, no storm
        Assert.Equal(1, stats.RefusedByReason["badSignature"]);
    }

    [Fact]
    public async Task When_the_hub_drops_every_connection_all_devices_come_back_and_nothing_is_lost()
    {
        const int n = 20;
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(Register(n, "drop"), Options(TimeSpan.FromMilliseconds(100)), 0), TestActor);
        ExpectMsg<FleetSupervisor.DevicesCreated>(TimeSpan.FromSeconds(10));
        AwaitCondition(() => _metrics.Gauge(Gauges.DevicesConnected).Value == n, TimeSpan.FromSeconds(30));
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= n * 3, TimeSpan.FromSeconds(30));

        var dropped = await _hub.Faults.DropAllAsync();
        Assert.Equal(n, dropped);
        AwaitCondition(() => Count(Counters.ConnectionLost) == n && _metrics.Gauge(Gauges.DevicesConnected).Value == n,
            TimeSpan.FromSeconds(30));
        var acked = Count(Counters.TelemetryAcked);
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= acked + n * 3, TimeSpan.FromSeconds(30));
        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(30)), TestActor);
        Assert.False(ExpectMsg<FleetSupervisor.AllStopped>(TimeSpan.FromSeconds(40)).TimedOut);

        Assert.Equal(n, _metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked));
        var ingest = _hub.Ingest.Totals;
        Assert.Equal(0, ingest.Lost); // QoS 1: a re-sent message may be a duplicate, never a loss
        Assert.Equal(Count(Counters.TelemetrySent), ingest.Ingested - ingest.Duplicated);
    }

    [Fact]
    public void Devices_refused_with_CONNACK_3_back_off_as_throttled_and_connect_when_the_hub_recovers()
    {
        _hub.Faults.RefuseConnects(TimeSpan.FromMinutes(1));
        var options = Options(TimeSpan.FromSeconds(1)) with
        {
            Retry = RetryPolicy.Exponential with { ThrottledBase = TimeSpan.FromMilliseconds(300), ThrottledCap = TimeSpan.FromSeconds(1) },
        };
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(Register(5, "refused"), options, 0), TestActor);

        AwaitCondition(() => _metrics.Operation(Operations.Connect).FailedCount >= 10, TimeSpan.FromSeconds(30));
        Assert.Equal(0, _metrics.Gauge(Gauges.DevicesConnected).Value);
        _hub.Faults.RefuseConnects(TimeSpan.Zero); // the hub recovers

        AwaitCondition(() => _metrics.Gauge(Gauges.DevicesConnected).Value == 5, TimeSpan.FromSeconds(30));
        Assert.True(_hub.Faults.RefusedConnects >= 10);
        Assert.True(Count(Counters.ConnectRetries) >= 10);
        Assert.True(Count(DeviceMetrics.RetryWaitMs) >= Count(Counters.ConnectRetries) * 300); // never less than the throttled base
        Assert.Equal(0, Count(DeviceMetrics.StoppedPrefix + "unauthorized"));
        Assert.Equal(5, _metrics.Operation(Operations.Connect).OkCount);
    }

    [Fact]
    public void Short_lived_tokens_are_renewed_before_the_hub_would_close_the_connection()
    {
        var options = Options(TimeSpan.FromMilliseconds(100)) with { SasTtl = TimeSpan.FromSeconds(4), SasRenewalMargin = TimeSpan.FromSeconds(2) };
        var fleet = Sys.ActorOf(FleetSupervisor.Props(_metrics));
        fleet.Tell(new FleetSupervisor.StartDevices(Register(5, "renew"), options, 0), TestActor);

        AwaitCondition(() => _metrics.Operation(Operations.SasRenewal).OkCount >= 10, TimeSpan.FromSeconds(20));
        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(30)), TestActor);
        FishForMessage<FleetSupervisor.AllStopped>(_ => true, TimeSpan.FromSeconds(40));

        Assert.Equal(0, Count(Counters.ConnectionLost)); // the hub never had to close an expired connection
        var ingest = _hub.Ingest.Totals;
        Assert.Equal(0, ingest.Lost);
        Assert.Equal(0, ingest.Duplicated);
        Assert.Equal(Count(Counters.TelemetrySent), ingest.Ingested);
    }
}
