using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Telemetry;

/// <summary>
/// A device stopped on request (a ramp-down, churn) keeps the telemetry it has not delivered and, started again, re-sends
/// it with the same sequence numbers: the hub must never see a gap for a message the device counted as sent.
/// </summary>
public sealed class StopAccountingTests : DeviceTestKit
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static TelemetryOptions Telemetry(int queue = 100) =>
        new() { Interval = Interval, InFlightWindow = 16, OfflineQueueCapacity = queue, OfflinePolicy = OfflinePolicy.Queue };

    private DeviceOptions Options() => Options(Telemetry()) with { Retry = RetryPolicy.Fixed, StopDrainTimeout = TimeSpan.FromSeconds(5) };

    private void Restart(Akka.Actor.IActorRef device)
    {
        device.Tell(new DeviceActor.Start(0), TestActor);
        Io.ExpectMsg<ConnectCall>().Succeed();
    }

    [Fact]
    public void A_device_stopped_while_reconnecting_resends_what_was_in_flight_and_queued_when_started_again()
    {
        var device = StartedDevice(Options());
        var transport = Connect(device);
        var first = Io.ExpectMsg<PublishCall>(); // seq 1: the connection goes before its PUBACK
        LoseConnection(device, transport.Transport);
        Advance(device, Interval); // seq 2 waits in the offline queue
        AwaitAssert(() => Assert.Equal(1, Status(device).Queued));

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked)); // held, not forgotten
        Assert.Equal(1, Status(device).InFlight);

        Restart(device);
        var resent = Io.ExpectMsg<PublishCall>();
        Assert.Equal(1, resent.Sequence);
        Assert.Equal(first.Topic, resent.Topic); // the same message: same number, same sent time
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence);
        Assert.Equal(3, Io.ExpectMsg<PublishCall>().Sequence); // then the new ones
        Assert.Equal(0, Count(DeviceMetrics.TelemetryUnacked)); // in flight again, not held by a stopped device
        Assert.Equal(3, Count(Counters.TelemetrySent));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryResent));
        Assert.Equal(0, Count(Counters.TelemetryDropped));
    }

    [Fact]
    public void A_message_unacknowledged_at_the_drain_deadline_is_resent_with_its_number_after_a_restart()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        Io.ExpectMsg<PublishCall>(); // seq 1: no PUBACK before the deadline

        StopAtDrainDeadline(device, TimeSpan.FromSeconds(5));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));

        Restart(device);
        var resent = Io.ExpectMsg<PublishCall>();
        Assert.Equal(1, resent.Sequence);
        resent.Ack();
        Advance(device, Interval);
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence);
        AwaitAssert(() => Assert.Equal(1, Count(Counters.TelemetryAcked)));
        Assert.Equal(0, Count(DeviceMetrics.TelemetryUnacked));
    }

    [Fact]
    public void A_connection_lost_during_the_drain_keeps_the_message_for_the_restart()
    {
        var device = StartedDevice(Options());
        var connect = Connect(device);
        Io.ExpectMsg<PublishCall>();
        BeginStop(device);

        connect.Transport.DropConnection();
        ExpectMsg<DeviceActor.DeviceStopped>();
        Restart(device);
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence);
    }

    [Fact]
    public void A_PUBACK_that_arrives_after_the_stop_counts_and_the_message_is_not_resent()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        var first = Io.ExpectMsg<PublishCall>();
        StopAtDrainDeadline(device, TimeSpan.FromSeconds(5));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));

        first.Ack(); // the PUBACK was on its way
        AwaitAssert(() => Assert.Equal(1, Count(Counters.TelemetryAcked)));
        Assert.Equal(0, Count(DeviceMetrics.TelemetryUnacked));
        Assert.Equal(0, Status(device).InFlight);

        Restart(device);
        Assert.Equal(2, Io.ExpectMsg<PublishCall>().Sequence); // seq 1 is not sent twice
    }

    [Fact]
    public void At_the_end_sent_equals_acked_plus_what_stopped_devices_hold()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        Io.ExpectMsg<PublishCall>().Ack();
        Advance(device, Interval);
        Io.ExpectMsg<PublishCall>(); // seq 2 never acknowledged
        AwaitAssert(() => Assert.Equal(1, Count(Counters.TelemetryAcked)));

        StopAtDrainDeadline(device, TimeSpan.FromSeconds(5));

        Assert.Equal(Count(Counters.TelemetrySent), Count(Counters.TelemetryAcked) + Count(DeviceMetrics.TelemetryUnacked));
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));
    }

    [Fact]
    public void A_start_that_arrives_while_the_device_drains_is_carried_out_after_the_stop()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        var first = Io.ExpectMsg<PublishCall>();
        BeginStop(device);

        device.Tell(new DeviceActor.Start(0), TestActor); // a ramp-up right after a ramp-down
        first.Ack();
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);
    }

    [Fact]
    public void A_device_stopped_for_good_counts_what_waited_in_its_queue_as_dropped()
    {
        var device = StartedDevice(Options() with { GroupName = "g" });
        var connect = Connect(device);
        Io.ExpectMsg<PublishCall>(); // seq 1 in flight when the connection goes
        LoseConnection(device, connect.Transport);
        Advance(device, Interval);
        Advance(device, Interval);
        AwaitAssert(() => Assert.Equal(2, Status(device).Queued));

        Advance(device, TimeSpan.FromSeconds(8)); // the retry: the hub refuses the credentials (never retried)
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);
        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>().Reason);

        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));
        Assert.Equal(Count(Counters.TelemetryDropped), Count(GroupMetrics.TelemetryDropped("g")));
        Assert.True(Count(Counters.TelemetryDropped) >= 2, $"dropped {Count(Counters.TelemetryDropped)}");
        Assert.Equal(0, Status(device).Queued);
    }
}
