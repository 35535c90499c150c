using Akka.Actor;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Metrics;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Connection;

/// <summary>The per-process limit on connects in flight (ConnectSlots), in virtual time with a fake transport.</summary>
public sealed class ConnectSlotTests : DeviceTestKit
{
    private OperationMetrics Queue => Metrics.Operation(DeviceMetrics.ConnectQueueName);

    private long Queued => Metrics.Gauge(DeviceMetrics.ConnectQueuedName).Value;

    private (IActorRef[] Devices, ConnectSlots Slots) StartDevices(int count, int limit, DeviceOptions? options = null)
    {
        var slots = new ConnectSlots(limit);
        options = (options ?? Options()) with { ConnectSlots = slots };
        var devices = new IActorRef[count];
        for (var i = 0; i < count; i++)
            devices[i] = StartedDevice(options, Identity("d" + i, i));
        return (devices, slots);
    }

    [Fact]
    public void Devices_beyond_the_limit_wait_and_the_next_one_connects_when_a_connect_completes()
    {
        var (devices, slots) = StartDevices(3, limit: 2);
        var first = Io.ExpectMsg<ConnectCall>();
        var second = Io.ExpectMsg<ConnectCall>();
        var waiting = Array.Find(["d0", "d1", "d2"], id => id != first.Transport.DeviceId && id != second.Transport.DeviceId)!;
        var waitingDevice = devices[waiting[1] - '0'];
        ExpectNoIo(waitingDevice);
        Assert.Equal(DeviceState.Connecting, Status(waitingDevice).State);
        Assert.Equal(1, Queued);
        Assert.Equal(1, slots.Waiting);

        first.Succeed();
        var third = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(waiting, third.Transport.DeviceId);
        Assert.Equal(0, Queued);
        Assert.Equal(1, Queue.OkCount); // one connect waited
        Assert.Equal(0, Queue.FailedCount);

        second.Succeed();
        third.Succeed();
        AwaitAssert(() => Assert.Equal(0, slots.InUse), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
        Assert.Equal(3, Metrics.Operation(Operations.Connect).OkCount);
    }

    [Fact]
    public void A_slot_is_held_through_SUBACK_not_just_CONNACK()
    {
        var (devices, slots) = StartDevices(2, limit: 1, Options() with { C2d = new() });
        var first = Io.ExpectMsg<ConnectCall>();
        var other = first.Transport.DeviceId == "d0" ? "d1" : "d0";
        first.Succeed();
        var subscribe = Io.ExpectMsg<SubscribeCall>();
        ExpectNoIo(devices[other[1] - '0']);
        Assert.Equal(1, slots.InUse);

        subscribe.Result.SetResult();
        var next = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(other, next.Transport.DeviceId);
    }

    [Fact]
    public void A_failed_connect_gives_its_slot_back_and_the_wait_is_not_a_failure()
    {
        var (devices, slots) = StartDevices(2, limit: 1);
        var refused = Io.ExpectMsg<ConnectCall>();
        var refusedDevice = devices[refused.Transport.DeviceId[1] - '0'];
        refused.Refuse(FailureKind.Network);
        var next = Io.ExpectMsg<ConnectCall>();
        Assert.NotEqual(refused.Transport.DeviceId, next.Transport.DeviceId);
        AwaitState(refusedDevice, DeviceState.Backoff);

        var connect = Metrics.Operation(Operations.Connect);
        Assert.Equal(1, connect.FailedCount); // the refusal only; waiting for a slot failed nothing
        Assert.Equal(0, Queue.FailedCount);
        next.Succeed();

        // The retry of the first device takes a slot again (none in use now) and connects.
        Advance(refusedDevice, TimeSpan.FromSeconds(11));
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(refusedDevice, DeviceState.Running);
        AwaitAssert(() => Assert.Equal(0, slots.InUse), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public void Connect_latency_counts_from_the_intended_start_including_the_wait()
    {
        var (devices, _) = StartDevices(2, limit: 1);
        var first = Io.ExpectMsg<ConnectCall>();
        var waiting = devices[first.Transport.DeviceId == "d0" ? 1 : 0];
        Advance(waiting, TimeSpan.FromSeconds(5)); // the first handshake takes 5 s; the other device waits
        first.Succeed();
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(waiting, DeviceState.Running);

        var latency = Metrics.Snapshot().Operations[Operations.Connect].Latency;
        Assert.InRange(latency.MaxMs, 5_000, 5_100); // the waiting device's connect: 5 s queued + 0 s handshake
        Assert.InRange(Metrics.Snapshot().Operations[DeviceMetrics.ConnectQueueName].Latency.MaxMs, 5_000, 5_100);
    }

    [Fact]
    public void A_device_stopped_while_waiting_leaves_the_queue_and_the_next_one_gets_the_slot()
    {
        var (devices, slots) = StartDevices(3, limit: 1);
        var first = Io.ExpectMsg<ConnectCall>();
        var others = Array.FindAll(["d0", "d1", "d2"], id => id != first.Transport.DeviceId);
        ExpectNoIo(devices[others[0][1] - '0']);
        ExpectNoIo(devices[others[1][1] - '0']);
        Assert.Equal(2, slots.Waiting);

        devices[others[0][1] - '0'].Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>(s => s.DeviceId == others[0]).Reason);
        Assert.Equal(1, Queued);

        first.Succeed();
        var next = Io.ExpectMsg<ConnectCall>();
        Assert.Equal(others[1], next.Transport.DeviceId);
        next.Succeed();
        AwaitAssert(() => Assert.Equal(0, slots.InUse), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
        Assert.Equal(0, Queued);
    }

    [Fact]
    public void A_device_that_dies_while_waiting_does_not_keep_a_slot()
    {
        var (devices, slots) = StartDevices(2, limit: 1);
        var first = Io.ExpectMsg<ConnectCall>();
        var waiting = devices[first.Transport.DeviceId == "d0" ? 1 : 0];
        ExpectNoIo(waiting);
        Assert.Equal(1, slots.Waiting);
        Watch(waiting);
        Sys.Stop(waiting);
        ExpectTerminated(waiting);

        first.Succeed();
        AwaitAssert(() => Assert.Equal(0, slots.InUse), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
        Assert.Equal(0, slots.Waiting);
    }

    [Fact]
    public void A_slot_granted_to_a_device_that_gave_up_its_place_goes_back_once()
    {
        var slots = new ConnectSlots(1);
        Assert.Null(slots.TryEnter(TestActor));
        var ticket = slots.TryEnter(TestActor)!;
        slots.Leave(); // handed to the waiting ticket
        var granted = ExpectMsg<ConnectSlots.Granted>();
        Assert.Same(ticket, granted.Ticket);
        Assert.False(slots.Cancel(ticket)); // too late to cancel: the holder must leave
        slots.Leave();
        Assert.Equal(0, slots.InUse);
        Assert.Null(slots.TryEnter(TestActor));
        Assert.Equal(1, slots.InUse);
    }

    [Fact]
    public void A_limit_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectSlots(0));
        Assert.True(ConnectSlots.DefaultLimit >= ConnectSlots.DefaultPerCore);
    }
}
