using Akka.Actor;
using Akka.TestKit;
using FleetSim.DeviceActors.Tests.Fakes;

namespace FleetSim.DeviceActors.Tests.Connection;

/// <summary>Debug logging is per device: only the listed ids log their transitions, and never a secret.</summary>
public sealed class DebugLoggingTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = DEBUG")
{
    [Fact]
    public void Only_the_listed_devices_log_their_transitions()
    {
        var io = CreateTestProbe();
        var transports = new FakeTransportFactory(io.Ref);
        var options = new DeviceOptions { HostName = "hub.test", Telemetry = null, DebugDeviceIds = new HashSet<string> { "loud" } };
        var group = new DeviceGroup(options, new DeviceMetrics(new FleetSim.Metrics.FleetMetrics()), transports);
        var loud = Sys.ActorOf(DeviceActor.Props(new DeviceIdentity("loud", 0, "a2V5"), group));
        var quiet = Sys.ActorOf(DeviceActor.Props(new DeviceIdentity("quiet", 1, "a2V5"), group));

        EventFilter.Debug(contains: "device loud: Idle -> Connecting").ExpectOne(() => loud.Tell(new DeviceActor.Start(0)));
        io.ExpectMsg<ConnectCall>();
        EventFilter.Debug(contains: "device quiet").Expect(0, TimeSpan.FromMilliseconds(300), () => quiet.Tell(new DeviceActor.Start(0)));
        io.ExpectMsg<ConnectCall>();
        EventFilter.Debug(contains: "sig=").Expect(0, TimeSpan.FromMilliseconds(300),
            () => transports.ByDevice["loud"].DropConnection());
    }
}
