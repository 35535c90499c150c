using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.DeviceActors.Twin;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Twin;

public sealed class TwinTests : DeviceTestKit
{
    private DeviceOptions TwinOptions(TwinOptions? twin = null) =>
        Options() with { Twin = twin ?? new TwinOptions { RequestTimeout = TimeSpan.FromSeconds(5) } };

    private (Akka.Actor.IActorRef Device, FakeTransport Transport) Synced(DeviceOptions options, long desiredVersion)
    {
        var device = StartedDevice(options);
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed();
        var subscribe = Io.ExpectMsg<SubscribeCall>();
        Assert.Equal(Subscriptions.TwinResponses | Subscriptions.TwinDesired, subscribe.Which);
        subscribe.Result.SetResult();
        var get = Io.ExpectMsg<PublishCall>();
        Assert.Equal("$iothub/twin/GET/?$rid=1", get.Topic);
        connect.Transport.Deliver("$iothub/twin/res/200/?$rid=1",
            "{\"desired\":{\"$version\":" + desiredVersion + "},\"reported\":{\"$version\":1}}");
        AwaitState(device, DeviceState.Running);
        return (device, connect.Transport);
    }

    [Fact]
    public void After_connecting_the_device_gets_its_twin_and_then_runs()
    {
        var (device, _) = Synced(TwinOptions(), 3);

        Assert.Equal(3, Status(device).DesiredVersion);
        Assert.Equal(1, Metrics.Operation(Operations.TwinGet).OkCount);
    }

    [Fact]
    public void Without_ensure_desired_properties_the_device_never_gets_its_twin_and_misses_what_came_while_offline()
    {
        var device = StartedDevice(TwinOptions(new TwinOptions { EnsureDesiredProperties = false }));
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed();
        Io.ExpectMsg<SubscribeCall>().Result.SetResult();
        AwaitState(device, DeviceState.Running); // straight to Running: no GET
        connect.Transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(100));
        Io.ExpectMsg<ConnectCall>().Succeed(sessionPresent: true);
        AwaitState(device, DeviceState.Running);

        ExpectNoIo(device); // no twin GET after the reconnect either
        Assert.Equal(0, Metrics.Operation(Operations.TwinGet).OkCount + Metrics.Operation(Operations.TwinGet).FailedCount);
        Assert.Equal(0, Status(device).DesiredVersion);
    }

    [Fact]
    public void A_twin_get_without_answer_times_out_and_the_device_runs_anyway()
    {
        var device = StartedDevice(TwinOptions());
        Io.ExpectMsg<ConnectCall>().Succeed();
        Io.ExpectMsg<SubscribeCall>().Result.SetResult();
        Io.ExpectMsg<PublishCall>();
        Assert.Equal(DeviceState.SyncingTwin, Status(device).State);

        Advance(device, TimeSpan.FromSeconds(4.9));
        Assert.Equal(DeviceState.SyncingTwin, Status(device).State);
        Advance(device, TimeSpan.FromSeconds(0.1));
        AwaitState(device, DeviceState.Running);
        Assert.Equal(1, Metrics.Operation(Operations.TwinGet).FailedCount);
    }

    [Fact]
    public void Desired_patches_not_newer_than_the_known_version_are_ignored()
    {
        var (device, transport) = Synced(TwinOptions(), 3);

        transport.Deliver("$iothub/twin/PATCH/properties/desired/?$version=3", """{"mode":"old","$version":3}""");
        var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 40;
        transport.Deliver("$iothub/twin/PATCH/properties/desired/?$version=4", $$"""{"mode":"eco","fleetsim-sent":{{sent}},"$version":4}""");

        AwaitAssert(() => Assert.Equal(4, Status(device).DesiredVersion));
        Assert.Equal(1, Count(DeviceMetrics.TwinDesiredStale));
        Assert.Equal(2, Count(DeviceMetrics.TwinDesiredReceived));
        Assert.Equal(1, Metrics.Operation(Operations.DesiredDelivery).OkCount);
    }

    [Fact]
    public void Desired_state_missed_while_offline_is_applied_from_the_get_after_reconnecting()
    {
        var (device, transport) = Synced(TwinOptions(), 3);
        transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
        Advance(device, TimeSpan.FromMilliseconds(100));

        Io.ExpectMsg<ConnectCall>().Succeed(sessionPresent: true);
        var get = Io.ExpectMsg<PublishCall>();
        Assert.Equal("$iothub/twin/GET/?$rid=2", get.Topic);
        transport.Deliver("$iothub/twin/res/200/?$rid=2", """{"desired":{"mode":"eco","$version":5},"reported":{"$version":1}}""");

        AwaitState(device, DeviceState.Running);
        Assert.Equal(5, Status(device).DesiredVersion);
        Assert.Equal(1, Count(DeviceMetrics.TwinMissedApplied));
    }

    [Fact]
    public void Desired_values_are_reported_back_when_asked_and_the_204_is_measured()
    {
        var options = TwinOptions(new TwinOptions { RequestTimeout = TimeSpan.FromSeconds(5), ReportDesiredBack = true });
        var (_, transport) = Synced(options, 0);

        transport.Deliver("$iothub/twin/PATCH/properties/desired/?$version=2", """{"mode":"eco","$version":2}""");
        var report = Io.ExpectMsg<PublishCall>();
        Assert.Equal("$iothub/twin/PATCH/properties/reported/?$rid=2", report.Topic);
        Assert.Equal("""{"mode":"eco"}""", System.Text.Encoding.UTF8.GetString(report.Payload));
        transport.Deliver("$iothub/twin/res/204/?$rid=2&$version=2");

        AwaitAssert(() => Assert.Equal(1, Metrics.Operation(Operations.ReportedPatch).OkCount));
    }

    [Fact]
    public void Periodic_reported_patches_time_out_when_unanswered()
    {
        var twin = new TwinOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(5),
            ReportedInterval = TimeSpan.FromSeconds(30),
            ReportedPatch = new FixedReportedPatch("""{"battery":90}"""),
        };
        var (device, _) = Synced(TwinOptions(twin), 1);

        Advance(device, TimeSpan.FromSeconds(30));
        var report = Io.ExpectMsg<PublishCall>();
        Assert.Equal("""{"battery":90}""", System.Text.Encoding.UTF8.GetString(report.Payload));
        Advance(device, TimeSpan.FromSeconds(5));
        AwaitAssert(() => Assert.Equal(1, Metrics.Operation(Operations.ReportedPatch).FailedCount));
    }
}
