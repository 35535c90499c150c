using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using DeviceIdentity = FleetSim.DeviceActors.DeviceIdentity;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>Devices against the in-process hub emulator over real MQTT/TLS on loopback.</summary>
public sealed class HubIntegrationTests : EmulatorTestKit
{
    private DeviceOptions Options(TimeSpan interval) => DeviceOptions(interval);

    [Fact]
    public void Fifty_devices_send_for_a_few_seconds_and_every_message_is_ingested_exactly_once()
    {
        var fleet = StartFleet(Register(50, "fifty"), Options(TimeSpan.FromMilliseconds(250)), perSecond: 100);

        AwaitCondition(() => Metrics.Gauge(Gauges.DevicesConnected).Value == 50, TimeSpan.FromSeconds(30));
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= 50 * 8, TimeSpan.FromSeconds(30));
        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(30)), TestActor);
        var stopped = ExpectMsg<FleetSupervisor.AllStopped>(TimeSpan.FromSeconds(40));

        Assert.False(stopped.TimedOut);
        Assert.Equal(50, stopped.Reasons["stopped"]);
        var sent = Count(Counters.TelemetrySent);
        Assert.Equal(sent, Count(Counters.TelemetryAcked));
        var ingest = Hub.Ingest.Totals;
        Assert.Equal(sent, ingest.Ingested);
        Assert.Equal(0, ingest.Lost);
        Assert.Equal(0, ingest.Duplicated);
        Assert.Equal(50, Metrics.Operation(Operations.Connect).OkCount);
    }

    [Fact]
    public void A_device_with_a_wrong_key_stops_as_unauthorized_without_a_retry_storm()
    {
        Hub.Registry.Add("wrong-key");
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("wrong-key", 0, Convert.ToBase64String(new byte[32])),
            new DeviceGroup(Options(TimeSpan.FromSeconds(1)), new DeviceMetrics(Metrics))));
        device.Tell(new DeviceActor.Start(TimeProvider.System.GetTimestamp()));

        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>(TimeSpan.FromSeconds(10)).Reason);
        ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, Count(Counters.ConnectRetries));
        var stats = Hub.Stats();
        Assert.Equal(1, stats.ConnectsRefused); // one attempt, no storm
        Assert.Equal(1, stats.RefusedByReason["badSignature"]);
    }

    [Fact]
    public async Task When_the_hub_drops_every_connection_all_devices_come_back_and_nothing_is_lost()
    {
        const int n = 20;
        var fleet = StartFleet(Register(n, "drop"), Options(TimeSpan.FromMilliseconds(100)));
        AwaitCondition(() => Metrics.Gauge(Gauges.DevicesConnected).Value == n, TimeSpan.FromSeconds(30));
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= n * 3, TimeSpan.FromSeconds(30));

        var dropped = await Hub.Faults.DropAllAsync();
        Assert.Equal(n, dropped);
        AwaitCondition(() => Count(Counters.ConnectionLost) == n && Metrics.Gauge(Gauges.DevicesConnected).Value == n,
            TimeSpan.FromSeconds(30));
        var acked = Count(Counters.TelemetryAcked);
        AwaitCondition(() => Count(Counters.TelemetryAcked) >= acked + n * 3, TimeSpan.FromSeconds(30));
        Assert.False(StopFleet(fleet, TimeSpan.FromSeconds(30)).TimedOut);

        Assert.Equal(n, Metrics.Operation(Operations.Reconnect).OkCount);
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked));
        var ingest = Hub.Ingest.Totals;
        Assert.Equal(0, ingest.Lost); // QoS 1: a re-sent message may be a duplicate, never a loss
        Assert.Equal(Count(Counters.TelemetrySent), ingest.Ingested - ingest.Duplicated);
    }

    [Fact]
    public void Devices_refused_with_CONNACK_3_back_off_as_throttled_and_connect_when_the_hub_recovers()
    {
        Hub.Faults.RefuseConnects(TimeSpan.FromMinutes(1));
        var options = Options(TimeSpan.FromSeconds(1)) with
        {
            Retry = RetryPolicy.Exponential with { ThrottledBase = TimeSpan.FromMilliseconds(300), ThrottledCap = TimeSpan.FromSeconds(1) },
        };
        StartFleet(Register(5, "refused"), options);

        AwaitCondition(() => Metrics.Operation(Operations.Connect).FailedCount >= 10, TimeSpan.FromSeconds(30));
        Assert.Equal(0, Metrics.Gauge(Gauges.DevicesConnected).Value);
        Hub.Faults.RefuseConnects(TimeSpan.Zero); // the hub recovers

        AwaitCondition(() => Metrics.Gauge(Gauges.DevicesConnected).Value == 5, TimeSpan.FromSeconds(30));
        Assert.True(Hub.Faults.RefusedConnects >= 10);
        Assert.True(Count(Counters.ConnectRetries) >= 10);
        Assert.True(Count(DeviceMetrics.RetryWaitMs) >= Count(Counters.ConnectRetries) * 300); // never less than the throttled base
        Assert.Equal(0, Count(DeviceMetrics.StoppedPrefix + "unauthorized"));
        Assert.Equal(5, Metrics.Operation(Operations.Connect).OkCount);
    }

    [Fact]
    public void Short_lived_tokens_are_renewed_before_the_hub_would_close_the_connection()
    {
        var options = Options(TimeSpan.FromMilliseconds(100)) with { SasTtl = TimeSpan.FromSeconds(4), SasRenewalMargin = TimeSpan.FromSeconds(2) };
        var fleet = StartFleet(Register(5, "renew"), options);

        AwaitCondition(() => Metrics.Operation(Operations.SasRenewal).OkCount >= 10, TimeSpan.FromSeconds(20));
        StopFleet(fleet, TimeSpan.FromSeconds(30));

        Assert.Equal(0, Count(Counters.ConnectionLost)); // the hub never had to close an expired connection
        var ingest = Hub.Ingest.Totals;
        Assert.Equal(0, ingest.Lost);
        Assert.Equal(0, ingest.Duplicated);
        Assert.Equal(Count(Counters.TelemetrySent), ingest.Ingested);
    }
}
