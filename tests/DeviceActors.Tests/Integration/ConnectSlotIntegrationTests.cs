using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>The limit on connects in flight over real MQTT/TLS against the in-process emulator.</summary>
public sealed class ConnectSlotIntegrationTests : EmulatorTestKit
{
    [Fact]
    public async Task Devices_started_at_once_connect_and_reconnect_through_two_slots_with_no_failure()
    {
        const int n = 24;
        var slots = new ConnectSlots(2);
        var options = DeviceOptions(telemetryInterval: null) with
        {
            C2d = new(), // each connect holds its slot through SUBSCRIBE too
            ConnectSlots = slots,
        };
        var fleet = StartFleet(Register(n, "slot"), options);

        var connected = Metrics.Gauge(Gauges.DevicesConnected);
        AwaitCondition(() => connected.Value == n && slots.InUse == 0, TimeSpan.FromSeconds(60));
        var queue = Metrics.Operation(DeviceMetrics.ConnectQueueName);
        Assert.InRange(queue.OkCount, n - 2, n); // all but the first two (or those a slot freed for at once) waited
        Assert.Equal(0, queue.FailedCount);
        Assert.Equal(n, Metrics.Operation(Operations.Connect).OkCount);
        Assert.Equal(0, Metrics.Operation(Operations.Connect).FailedCount);
        Assert.Equal(0, Metrics.Gauge(DeviceMetrics.ConnectQueuedName).Value);

        // A mass drop: every device reconnects through the slots (each gives its slot back once connected again).
        Assert.Equal(n, await Hub.Faults.DropAllAsync());
        AwaitCondition(() => Metrics.Operation(Operations.Reconnect).OkCount == n && connected.Value == n && slots.InUse == 0,
            TimeSpan.FromSeconds(60));
        Assert.Equal(0, Metrics.Operation(Operations.Reconnect).FailedCount);
        Assert.Equal(0, slots.Waiting);

        Assert.False(StopFleet(fleet, TimeSpan.FromSeconds(30)).TimedOut);
        Assert.Equal(0, slots.InUse);
    }
}
