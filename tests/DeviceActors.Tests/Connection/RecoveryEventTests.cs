using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Connection;

/// <summary>What a device tells the metrics side about its outages, for recovery after faults (issue 12, item 3).</summary>
public sealed class RecoveryEventTests : DeviceTestKit
{
    private long NowMs => VirtualTime.Now.ToUnixTimeMilliseconds();

    [Fact]
    public void A_lost_connection_and_the_reconnect_that_ends_it_are_recorded_with_their_times_retries_and_attempts()
    {
        var device = StartedDevice(Options());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);
        var lostAt = NowMs;

        first.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(100)); // attempt 0 waits at most 100 ms
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Throttled);
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromSeconds(60)); // throttled: at most the throttled ceiling
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
        var backAt = NowMs;

        Assert.Equal(
        [
            new RecoveryEvent("d1", RecoveryEventKind.Lost, lostAt, "network"),
            new RecoveryEvent("d1", RecoveryEventKind.Reconnected, backAt, null),
        ], Metrics.Recovery.Events());
        Assert.True(backAt - lostAt >= 10_000, "the throttled wait is in the outage");
        Assert.Equal(3, Count(RecoveryMetrics.ConnectAttempts));
        Assert.Equal(1, Count(RecoveryMetrics.RetriesBecause("network")));
        Assert.Equal(1, Count(RecoveryMetrics.RetriesBecause("throttled")));
    }

    [Fact]
    public void A_device_stopped_while_disconnected_ends_its_outage_with_the_stop_reason()
    {
        var device = StartedDevice(Options());
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);

        first.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>();

        Assert.Equal([RecoveryEventKind.Lost, RecoveryEventKind.Stopped], Metrics.Recovery.Events().Select(e => e.Kind));
        Assert.Equal("stopped", Metrics.Recovery.Events()[1].Reason);
    }

    [Fact]
    public void Telemetry_generated_while_disconnected_is_counted_as_queued_offline()
    {
        var device = StartedDevice(Options(new TelemetryOptions { Interval = TimeSpan.FromSeconds(1), OfflineQueueCapacity = 10 }));
        var first = Io.ExpectMsg<ConnectCall>();
        first.Succeed();
        AwaitState(device, DeviceState.Running);
        Io.ExpectMsg<PublishCall>().Ack();

        first.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(1000)); // one message due; the reconnect (<= 100 ms) is refused first
        var retry = Io.ExpectMsg<ConnectCall>();
        retry.Refuse(FailureKind.Throttled);
        Advance(device, TimeSpan.FromSeconds(1));

        AwaitAssert(() => Assert.True(Count(RecoveryMetrics.TelemetryQueuedOffline) >= 1));
        Assert.Equal(0, Count(Counters.TelemetryDropped));
    }
}
