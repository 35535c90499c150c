using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.DeviceActors.Transport;
using FleetSim.DeviceActors.Twin;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Twin;

/// <summary>The end-of-run twin check a device makes as it stops (issue 12, item 4).</summary>
public sealed class ConvergenceTests : DeviceTestKit
{
    private DeviceOptions TwinOptions(bool ensureDesired = true) => Options() with
    {
        Twin = new TwinOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(5),
            EnsureDesiredProperties = ensureDesired,
            ReportedInterval = TimeSpan.FromSeconds(10),
            ReportedPatch = new FixedReportedPatch("""{"firmware":"1.2.0","cfg":{"mode":"eco","level":1.5}}"""),
        },
    };

    /// <summary>Connected, twin synced at desired version 2, one reported patch sent and answered; returns the transport.</summary>
    private FakeTransport Running(Akka.Actor.IActorRef device)
    {
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed();
        Io.ExpectMsg<SubscribeCall>().Result.SetResult();
        var get = Io.ExpectMsg<PublishCall>();
        connect.Transport.Deliver("$iothub/twin/res/200/?$rid=1", """{"desired":{"mode":"eco","$version":2},"reported":{"$version":1}}""");
        AwaitState(device, DeviceState.Running);
        Advance(device, TimeSpan.FromSeconds(10));
        var patch = Io.ExpectMsg<PublishCall>();
        Assert.StartsWith("$iothub/twin/PATCH/properties/reported/?$rid=2", patch.Topic, StringComparison.Ordinal);
        connect.Transport.Deliver("$iothub/twin/res/204/?$rid=2&$version=2");
        return connect.Transport;
    }

    /// <summary>Stops the device and answers its check GET with <paramref name="twin"/>; returns the recorded check.</summary>
    private TwinCheck StopAndAnswer(Akka.Actor.IActorRef device, FakeTransport transport, string twin)
    {
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        var get = Io.ExpectMsg<PublishCall>();
        Assert.StartsWith("$iothub/twin/GET/?$rid=", get.Topic, StringComparison.Ordinal);
        transport.Deliver("$iothub/twin/res/200/?$rid=" + get.Topic.Split("$rid=")[1], twin);
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();
        return Assert.Single(Metrics.Twin.Latest());
    }

    [Fact]
    public void A_device_whose_reports_and_desired_version_are_at_the_hub_has_converged()
    {
        var device = StartedDevice(TwinOptions());
        var transport = Running(device);

        // The hub writes 1.5 its own way and holds a property from an earlier run: both still agree.
        var check = StopAndAnswer(device, transport,
            """{"desired":{"mode":"eco","$version":2},"reported":{"firmware":"1.2.0","cfg":{"mode":"eco","level":1.50},"old":1,"$version":2}}""");

        Assert.True(check.Checked);
        Assert.False(check.Diverged);
        Assert.Equal((2L, 2L), (check.DesiredApplied, check.DesiredAtHub));
        Assert.Equal(1, Metrics.Operation(Operations.TwinGet).OkCount); // the check's GET is not the device's operation
    }

    [Fact]
    public void Reported_properties_that_differ_at_the_hub_and_a_desired_version_never_applied_are_divergence()
    {
        var device = StartedDevice(TwinOptions());
        var transport = Running(device);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        var get = Io.ExpectMsg<PublishCall>();
        transport.Deliver("$iothub/twin/res/200/?$rid=" + get.Topic.Split("$rid=")[1],
            """{"desired":{"mode":"off","$version":5},"reported":{"firmware":"1.1.0","cfg":{"mode":"eco","level":1.5},"$version":2}}""");
        Advance(device, DeviceActor.DesiredGrace); // version 5 never arrives
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();

        var check = Assert.Single(Metrics.Twin.Latest());
        Assert.True(check.ReportedDiverged);
        Assert.True(check.DesiredBehind);
        Assert.Equal((2L, 5L), (check.DesiredApplied, check.DesiredAtHub));
    }

    [Fact]
    public void A_desired_patch_that_arrives_within_the_grace_after_the_check_counts_as_applied()
    {
        var device = StartedDevice(TwinOptions());
        var transport = Running(device);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        var get = Io.ExpectMsg<PublishCall>();
        transport.Deliver("$iothub/twin/res/200/?$rid=" + get.Topic.Split("$rid=")[1],
            """{"desired":{"mode":"off","$version":3},"reported":{"firmware":"1.2.0","cfg":{"mode":"eco","level":1.5}}}""");
        transport.Deliver("$iothub/twin/PATCH/properties/desired/?$version=3", """{"mode":"off","$version":3}""");
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();

        var check = Assert.Single(Metrics.Twin.Latest());
        Assert.False(check.Diverged);
        Assert.Equal(3, check.DesiredApplied);
    }

    [Fact]
    public void Without_ensure_desired_properties_a_patch_missed_while_offline_is_found_at_the_end()
    {
        var device = StartedDevice(TwinOptions(ensureDesired: false) with { Twin = new TwinOptions { EnsureDesiredProperties = false } });
        var connect = Io.ExpectMsg<ConnectCall>();
        connect.Succeed();
        Io.ExpectMsg<SubscribeCall>().Result.SetResult();
        AwaitState(device, DeviceState.Running);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        var get = Io.ExpectMsg<PublishCall>();
        connect.Transport.Deliver("$iothub/twin/res/200/?$rid=" + get.Topic.Split("$rid=")[1], """{"desired":{"mode":"eco","$version":4},"reported":{"$version":1}}""");
        Advance(device, DeviceActor.DesiredGrace);
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();

        var check = Assert.Single(Metrics.Twin.Latest());
        Assert.True(check.DesiredBehind);
        Assert.False(check.ReportedDiverged); // it reported nothing, so nothing can differ
    }

    [Fact]
    public void A_device_that_is_not_connected_when_it_stops_is_unchecked_and_says_why()
    {
        var device = StartedDevice(TwinOptions());
        Io.ExpectMsg<ConnectCall>().Fail(new TimeoutException());
        AwaitState(device, DeviceState.Backoff);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        ExpectMsg<DeviceActor.DeviceStopped>();

        var check = Assert.Single(Metrics.Twin.Latest());
        Assert.False(check.Checked);
        Assert.Equal("not connected when it stopped", check.Unchecked);
    }

    [Fact]
    public void A_check_the_hub_never_answers_is_unchecked_and_the_device_still_stops()
    {
        var device = StartedDevice(TwinOptions());
        Running(device);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Io.ExpectMsg<PublishCall>();
        Advance(device, TimeSpan.FromSeconds(5));
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();

        Assert.Equal("the hub did not answer the twin GET in time", Assert.Single(Metrics.Twin.Latest()).Unchecked);
    }

    [Fact]
    public void A_device_without_twin_behaviour_makes_no_check()
    {
        var device = StartedDevice(Options());
        Io.ExpectMsg<ConnectCall>().Succeed();
        AwaitState(device, DeviceState.Running);

        device.Tell(DeviceActor.Stop.Instance, TestActor);
        Io.ExpectMsg<DisconnectCall>();
        ExpectMsg<DeviceActor.DeviceStopped>();

        Assert.Empty(Metrics.Twin.Latest());
    }
}
