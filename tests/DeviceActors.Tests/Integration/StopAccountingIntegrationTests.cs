using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.HubEmulator.Faults;
using FleetSim.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>
/// Churn against the emulator over MQTT/TLS: a device stopped while messages of its are unacknowledged, and started
/// again, re-sends them with their numbers, so the hub's sequence accounting has no gap (the soak's "lost") and the
/// device's accounting closes (sent = acked + what stopped devices hold). The hub runs on a fake clock, so its blackhole
/// (the way to hold a PUBACK back on a real connection) lasts until the test ends. The emulator still reads what a
/// blackholed connection carried when that connection closes, so here the re-sends arrive as duplicates; when a hub
/// drops a connection with a message unread (the soak's churn), the re-send is what fills the gap.
/// </summary>
public sealed class StopAccountingIntegrationTests() : EmulatorTestKit(new FakeTimeProvider(DateTimeOffset.UtcNow))
{
    private string Diagnose(string id) =>
        $"hub {Hub.Ingest.ForDevice(id)}; device: sent {Count(Counters.TelemetrySent)}, acked {Count(Counters.TelemetryAcked)}, " +
        $"resent {Count(DeviceMetrics.TelemetryResent)}, unackedAtStop {Count(DeviceMetrics.TelemetryUnacked)}, lost connections {Count(Counters.ConnectionLost)}";

    /// <summary>Polls with a generous deadline (a loaded 2-core machine) and says what it saw when the condition never came.</summary>
    private void Await(Func<bool> condition, string what, string id) =>
        AwaitAssert(() => Assert.True(condition(), what + ": " + Diagnose(id)), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

    [Fact]
    public async Task A_device_stopped_with_telemetry_undelivered_and_started_again_leaves_no_gap_at_the_hub()
    {
        const string id = "churn-0";
        var identity = Register(id);
        var options = DeviceOptions(telemetryInterval: null) with
        {
            Telemetry = new TelemetryOptions { Interval = TimeSpan.FromMilliseconds(200), InFlightWindow = 4 },
            OperationTimeout = TimeSpan.FromSeconds(60), // no PUBACK timeout before the stop
            StopDrainTimeout = TimeSpan.FromSeconds(1),
        };
        var fleet = Sys.ActorOf(FleetSupervisor.Props(Metrics));
        fleet.Tell(new FleetSupervisor.RegisterGroup(0, options));
        fleet.Tell(new FleetSupervisor.StartDevice(0, identity, options.Time.GetTimestamp()));
        Await(() => Count(Counters.TelemetryAcked) >= 3, "connected and sending", id);

        // The hub stops reading this connection: the next messages get no PUBACK.
        await Hub.Faults.BlackholeAsync(1.0, TimeSpan.FromHours(1), FaultTarget.Of([id]));
        var ackedBefore = Count(Counters.TelemetryAcked);
        Await(() => Count(Counters.TelemetrySent) > ackedBefore + 1, "a message in flight that the hub does not read", id);

        fleet.Tell(new FleetSupervisor.StopDevice(id)); // churn: its PUBACK does not come before the drain deadline
        Await(() => Count(DeviceMetrics.StoppedPrefix + "stopped") == 1, "stopped", id);
        var undelivered = Count(Counters.TelemetrySent) - Count(Counters.TelemetryAcked);
        Assert.True(undelivered >= 1, Diagnose(id));

        fleet.Tell(new FleetSupervisor.StartDevice(0, identity, options.Time.GetTimestamp()));
        var acked = Count(Counters.TelemetryAcked);
        Await(() => Count(Counters.TelemetryAcked) >= acked + undelivered + 3, "started again and delivered what it held", id);
        StopFleet(fleet, TimeSpan.FromSeconds(10));

        var hub = Hub.Ingest.ForDevice(id)!;
        Assert.True(hub.Lost == 0, Diagnose(id));
        Assert.Equal(hub.HighestSequence, hub.Ingested - hub.Duplicated); // every number from 1 up arrived
        Assert.True(Count(DeviceMetrics.TelemetryResent) >= undelivered, Diagnose(id)); // held, then re-sent after the restart
        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked) + Count(DeviceMetrics.TelemetryUnacked));
    }
}
