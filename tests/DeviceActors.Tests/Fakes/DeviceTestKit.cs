using Akka.Actor;
using Akka.TestKit;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Reporting;

namespace FleetSim.DeviceActors.Tests.Fakes;

/// <summary>
/// TestKit in virtual time (TestScheduler) with a fake transport whose calls arrive at <see cref="Io"/>.
/// Timers only fire on <see cref="Advance"/>, which first does an Identify round trip with the device so every
/// timer it started has been registered.
/// </summary>
public abstract class DeviceTestKit : Akka.TestKit.Xunit2.TestKit
{
    private const string VirtualTimeConfig = """
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.loglevel = WARNING
        """;

    protected DeviceTestKit(bool autoAckPublishes = false) : base(VirtualTimeConfig)
    {
        Io = CreateTestProbe("io");
        Transports = new FakeTransportFactory(Io.Ref, autoAckPublishes);
        DeviceMetrics = new DeviceMetrics(Metrics);
    }

    protected const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";

    protected FleetMetrics Metrics { get; } = new();

    protected DeviceMetrics DeviceMetrics { get; }

    protected TestProbe Io { get; }

    protected FakeTransportFactory Transports { get; }

    protected TestScheduler VirtualTime => (TestScheduler)Sys.Scheduler;

    protected static DeviceOptions Options(TelemetryOptions? telemetry = null) => new()
    {
        HostName = "hub.test",
        Telemetry = telemetry,
    };

    protected static DeviceIdentity Identity(string id = "d1", int index = 0) => new(id, index, Key);

    /// <summary>A device (child of TestActor, which receives its DeviceStopped) with its own group.</summary>
    protected IActorRef Device(DeviceOptions options, DeviceIdentity? identity = null) =>
        ChildActorOf(DeviceActor.Props(identity ?? Identity(), new DeviceGroup(options, DeviceMetrics, Transports)));

    protected IActorRef StartedDevice(DeviceOptions options, DeviceIdentity? identity = null)
    {
        var device = Device(options, identity);
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));
        return device;
    }

    /// <summary>Start, connect (no session), subscribe if asked, and return the connect call.</summary>
    protected ConnectCall Connect(IActorRef device, bool sessionPresent = false)
    {
        var call = Io.ExpectMsg<ConnectCall>();
        call.Succeed(sessionPresent);
        return call;
    }

    protected void Advance(IActorRef actor, TimeSpan by)
    {
        actor.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        VirtualTime.Advance(by);
    }

    protected DeviceActor.DeviceStatus Status(IActorRef device)
    {
        device.Tell(DeviceActor.GetStatus.Instance, TestActor);
        return ExpectMsg<DeviceActor.DeviceStatus>();
    }

    protected void AwaitState(IActorRef device, DeviceState state) =>
        AwaitAssert(() => Assert.Equal(state, Status(device).State), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));

    protected long Count(string counter) => Metrics.Counter(counter).Value;
}
