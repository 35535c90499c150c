using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Twin;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Connection;

/// <summary>The transitions the other test classes do not already walk through, and messages a state must not act on.</summary>
public sealed class TransitionTests : DeviceTestKit
{
    private DeviceOptions WithTwin() => Options() with { Twin = new TwinOptions { RequestTimeout = TimeSpan.FromSeconds(5) } };

    [Fact]
    public void Idle_to_Stopped_on_Stop_without_ever_connecting()
    {
        var device = Device(Options());
        device.Tell(DeviceActor.Stop.Instance, TestActor);

        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        ExpectNoIo(device);
    }

    [Fact]
    public void Subscribing_to_Backoff_when_the_hub_refuses_a_subscription()
    {
        var device = StartedDevice(Options() with { C2d = new() });
        Io.ExpectMsg<ConnectCall>().Succeed();
        Io.ExpectMsg<SubscribeCall>().Result.SetException(new InvalidOperationException("SUBACK 0x80"));

        Io.ExpectMsg<DisconnectCall>();
        AwaitState(device, DeviceState.Backoff);
        Assert.Equal(1, Count(DeviceMetrics.ErrorsPrefix + "subscribeFailed"));
        Assert.Equal(0, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void Subscribing_to_Backoff_when_the_connection_drops()
    {
        var device = StartedDevice(Options() with { C2d = new() });
        var connect = Connect(device);
        Io.ExpectMsg<SubscribeCall>();

        LoseConnection(device, connect.Transport);
    }

    [Fact]
    public void SyncingTwin_to_Backoff_when_the_connection_drops_and_the_get_counts_as_failed()
    {
        var device = StartedDevice(WithTwin());
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed(sessionPresent: true);
        Io.ExpectMsg<PublishCall>(); // GET
        Assert.Equal(DeviceState.SyncingTwin, Status(device).State);

        LoseConnection(device, connect.Transport);
        Assert.Equal(1, Metrics.Operation(Operations.TwinGet).FailedCount);
        Advance(device, TimeSpan.FromSeconds(5)); // the GET's timer went with the connection
        Assert.Equal(1, Metrics.Operation(Operations.TwinGet).FailedCount);
    }

    [Fact]
    public void Stop_in_SyncingTwin_waits_until_the_device_runs_then_stops_cleanly()
    {
        var device = StartedDevice(WithTwin());
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed(sessionPresent: true);
        Io.ExpectMsg<PublishCall>();
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal(DeviceState.SyncingTwin, Status(device).State);

        connect.Transport.Deliver("$iothub/twin/res/200/?$rid=1", """{"desired":{"$version":1},"reported":{"$version":1}}""");
        Assert.Equal("$iothub/twin/GET/?$rid=2", Io.ExpectMsg<PublishCall>().Topic); // the convergence check as it stops
        connect.Transport.Deliver("$iothub/twin/res/200/?$rid=2", """{"desired":{"$version":1},"reported":{"$version":1}}""");
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();
    }

    [Fact]
    public void Renewing_to_Backoff_when_the_connection_drops_during_the_drain()
    {
        var options = Options(new TelemetryOptions { Interval = TimeSpan.FromHours(1) }) with
        {
            SasTtl = TimeSpan.FromSeconds(60),
            SasRenewalMargin = TimeSpan.FromSeconds(10),
            OperationTimeout = TimeSpan.FromMinutes(2), // the PUBACK may wait that long before the device gives up
        };
        var device = StartedDevice(options);
        var connect = Connect(device);
        Io.ExpectMsg<PublishCall>(); // in flight: renewal waits for it
        Advance(device, TimeSpan.FromSeconds(50.1));
        AwaitState(device, DeviceState.Renewing);

        LoseConnection(device, connect.Transport);
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed();
        Assert.Equal(1, Io.ExpectMsg<PublishCall>().Sequence);
        Assert.Equal(0, Metrics.Operation(Operations.SasRenewal).OkCount); // it became a reconnect
        Assert.Equal(1, Metrics.Operation(Operations.Reconnect).OkCount);
    }

    [Fact]
    public void Stopping_to_Stopped_when_the_connection_drops_during_the_drain()
    {
        var device = StartedDevice(Options(new TelemetryOptions()));
        var connect = Connect(device);
        Io.ExpectMsg<PublishCall>();
        BeginStop(device);

        connect.Transport.DropConnection();
        Assert.Equal("stopped", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        Assert.Equal(1, Count(DeviceMetrics.TelemetryUnacked));
    }

    [Fact]
    public void Running_ignores_a_second_Start_and_a_stray_retry()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);

        device.Tell(new DeviceActor.Start(0), ActorRefs.NoSender);
        device.Tell(DeviceActor.RetryDue.Instance, ActorRefs.NoSender);

        Assert.Equal(DeviceState.Running, Status(device).State);
        ExpectNoIo(device);
    }

    [Fact]
    public void Stopped_answers_every_later_Stop_and_ignores_Start()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Refuse(FailureKind.Unauthorized);
        ExpectMsg<DeviceActor.DeviceStopped>();

        device.Tell(new DeviceActor.Start(0), TestActor);
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Assert.Equal("unauthorized", ExpectMsg<DeviceActor.DeviceStopped>().Reason);
        ExpectNoIo(device);
    }
}
