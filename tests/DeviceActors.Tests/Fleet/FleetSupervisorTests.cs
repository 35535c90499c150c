using Akka.Actor;
using FleetSim.DeviceActors.Fleet;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Tests.Fakes;
using FleetSim.Metrics;

namespace FleetSim.DeviceActors.Tests.Fleet;

public sealed class FleetSupervisorTests : DeviceTestKit
{
    public FleetSupervisorTests() : base(autoAckPublishes: true)
    {
    }

    private static IReadOnlyList<DeviceIdentity> Devices(int n) =>
        Enumerable.Range(0, n).Select(i => new DeviceIdentity($"dev-{i}", i, Key)).ToArray();

    private IActorRef Fleet() => Sys.ActorOf(FleetSupervisor.Props(Metrics, Transports));

    [Fact]
    public void Devices_are_created_at_the_connect_rate()
    {
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(4), Options(), ConnectsPerSecond: 10), TestActor);

        Io.ExpectMsg<ConnectCall>(); // the first one at once
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        for (var i = 1; i < 4; i++)
        {
            Advance(fleet, TimeSpan.FromMilliseconds(99));
            Io.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
            Advance(fleet, TimeSpan.FromMilliseconds(1));
            Io.ExpectMsg<ConnectCall>();
        }

        Assert.Equal(new FleetSupervisor.DevicesCreated(4, 0), ExpectMsg<FleetSupervisor.DevicesCreated>());
    }

    [Fact]
    public void A_crashing_device_restarts_alone_and_keeps_its_sequence()
    {
        var payload = new CrashOnce(crashIndex: 1, crashSequence: 2);
        var options = Options(new TelemetryOptions { Interval = TimeSpan.FromSeconds(1), Payload = payload });
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(2), options, ConnectsPerSecond: 0), TestActor);
        ExpectMsg<FleetSupervisor.DevicesCreated>();
        foreach (var connect in Calls(2).OfType<ConnectCall>())
            connect.Succeed();
        var first = Calls(2).Cast<PublishCall>().ToList();
        Assert.All(first, p => Assert.Equal(1, p.Sequence));
        // The automatic PUBACKs reach the devices asynchronously: let both be counted before the crash, or dev-1 would
        // (rightly) hand message 1 to its successor as unacknowledged and re-send it first.
        AwaitAssert(() => Assert.Equal(2, Count(Counters.TelemetryAcked)));

        Advance(fleet, TimeSpan.FromSeconds(1)); // dev-1 throws while writing message 2
        var next = Io.ExpectMsg<PublishCall>();
        Assert.Equal("dev-0", next.Transport.DeviceId);
        AwaitAssert(() => Assert.Equal(1, Count(DeviceMetrics.DeviceRestarts)));
        var crashed = first.Single(p => p.Transport.DeviceId == "dev-1").Transport;
        AwaitAssert(() => Assert.NotSame(crashed, Transports.ByDevice["dev-1"])); // the successor made its own
        Assert.True(crashed.Disposed);
        Advance(Transports.ByDevice["dev-1"].Device, TimeSpan.FromMilliseconds(100)); // restart backoff: at most 100 ms

        var reconnect = Io.ExpectMsg<ConnectCall>();
        Assert.Equal("dev-1", reconnect.Transport.DeviceId);
        reconnect.Succeed();
        var resumed = Io.ExpectMsg<PublishCall>();
        Assert.Equal("dev-1", resumed.Transport.DeviceId);
        Assert.Equal(2, resumed.Sequence);
        fleet.Tell(FleetSupervisor.GetFleetStatus.Instance, TestActor);
        Assert.Equal(2, ExpectMsg<FleetSupervisor.FleetStatus>().Running);
    }

    [Fact]
    public void StopAll_stops_every_device_cleanly_and_reports_each_reason()
    {
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(3), Options(), ConnectsPerSecond: 0), TestActor);
        var connects = Calls(3).Cast<ConnectCall>().OrderBy(c => c.Transport.DeviceId).ToList();
        connects[0].Succeed();
        connects[1].Succeed();
        connects[2].Refuse(FailureKind.Unauthorized);
        ExpectMsg<FleetSupervisor.DevicesCreated>();
        AwaitAssert(() => Assert.Equal(2, Metrics.Gauge(Gauges.DevicesConnected).Value));
        AwaitAssert(() => Assert.Equal(1, Count(DeviceMetrics.StoppedPrefix + "unauthorized")));

        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(10)), TestActor);

        Io.ExpectMsg<DisconnectCall>();
        Io.ExpectMsg<DisconnectCall>();
        var all = ExpectMsg<FleetSupervisor.AllStopped>();
        Assert.Equal(3, all.Stopped);
        Assert.False(all.TimedOut);
        Assert.Equal(2, all.Reasons["stopped"]);
        Assert.Equal(1, all.Reasons["unauthorized"]);
        Assert.Equal(0, Metrics.Gauge(Gauges.DevicesConnected).Value);
    }

    [Fact]
    public void StopAll_during_the_ramp_counts_devices_never_started()
    {
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(10), Options(), ConnectsPerSecond: 1), TestActor);
        Io.ExpectMsg<ConnectCall>().Succeed();

        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(10)), TestActor);
        Io.ExpectMsg<DisconnectCall>();
        var all = ExpectMsg<FleetSupervisor.AllStopped>();
        Assert.Equal(1, all.Stopped);
        Assert.Equal(9, all.NotStarted);
    }

    [Fact]
    public void StopAll_reports_devices_that_missed_the_deadline()
    {
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(1), Options(), ConnectsPerSecond: 0), TestActor);
        Io.ExpectMsg<ConnectCall>(); // never answered: the device stays Connecting
        ExpectMsg<FleetSupervisor.DevicesCreated>();

        fleet.Tell(new FleetSupervisor.StopAll(TimeSpan.FromSeconds(10)), TestActor);
        Advance(fleet, TimeSpan.FromSeconds(10));
        var all = ExpectMsg<FleetSupervisor.AllStopped>();
        Assert.True(all.TimedOut);
        Assert.Equal(1, all.StillRunning);
    }

    [Fact]
    public void Invalid_options_are_rejected_with_their_errors_and_no_device_starts()
    {
        var fleet = Sys.ActorOf(FleetSupervisor.Props(Metrics)); // the real transport factory: nothing may connect
        fleet.Tell(new FleetSupervisor.StartDevices(Devices(3), Options() with { KeepAlive = TimeSpan.FromHours(1) }, 10), TestActor);

        var rejected = ExpectMsg<FleetSupervisor.StartRejected>();
        Assert.Contains(rejected.Errors, e => e.Contains("keep-alive"));
        fleet.Tell(FleetSupervisor.GetFleetStatus.Instance, TestActor);
        Assert.Equal(0, ExpectMsg<FleetSupervisor.FleetStatus>().Created);
    }

    [Fact]
    public void A_device_id_given_twice_starts_once()
    {
        var fleet = Fleet();
        fleet.Tell(new FleetSupervisor.StartDevices([new DeviceIdentity("same", 0, Key), new DeviceIdentity("same", 1, Key)], Options(), 0), TestActor);

        Assert.Equal(new FleetSupervisor.DevicesCreated(1, 1), ExpectMsg<FleetSupervisor.DevicesCreated>());
        Io.ExpectMsg<ConnectCall>();
        Io.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Throws once, for one device at one sequence number: a device bug.</summary>
    private sealed class CrashOnce(int crashIndex, long crashSequence) : ITelemetryPayload
    {
        private int _crashed;

        public int MaxLength => 16;

        public int Write(int deviceIndex, long sequence, Span<byte> destination)
        {
            if (deviceIndex == crashIndex && sequence == crashSequence && Interlocked.Exchange(ref _crashed, 1) == 0)
                throw new InvalidOperationException("payload bug");
            destination[0] = (byte)'1';
            return 1;
        }
    }
}
