using Akka.Actor;
using Akka.TestKit;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Metrics;

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

    /// <summary>Options whose clock is the virtual scheduler's, so SAS expiry and timers agree.</summary>
    protected DeviceOptions Options(TelemetryOptions? telemetry = null) => new()
    {
        HostName = "hub.test",
        Telemetry = telemetry,
        Time = new VirtualClock(VirtualTime),
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

    /// <summary>A TimeProvider reading the TestScheduler's virtual now.</summary>
    private sealed class VirtualClock(TestScheduler scheduler) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => scheduler.Now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => scheduler.Now.UtcTicks;
    }

    protected void Advance(IActorRef actor, TimeSpan by)
    {
        var probe = CreateTestProbe();
        actor.Tell(new Identify(null), probe.Ref);
        probe.ExpectMsg<ActorIdentity>();
        VirtualTime.Advance(by);
    }

    /// <summary>The next <paramref name="n"/> transport calls, whatever their kind (several devices interleave).</summary>
    protected List<TransportCall> Calls(int n) => Enumerable.Range(0, n).Select(_ => Io.ExpectMsg<TransportCall>()).ToList();

    /// <summary>
    /// Nothing went to the transport: a status round trip first, so everything the device was told before has been
    /// handled (and any transport call it made is already with the probe), then the probe must be empty. Deterministic,
    /// unlike waiting a few wall-clock milliseconds for a message that should not come.
    /// </summary>
    protected void ExpectNoIo(IActorRef device)
    {
        Status(device);
        Assert.False(Io.HasMessages, Io.HasMessages ? "unexpected transport call: " + Io.ReceiveOne(TimeSpan.Zero) : "");
    }

    protected DeviceActor.DeviceStatus Status(IActorRef device)
    {
        device.Tell(DeviceActor.GetStatus.Instance, TestActor);
        return ExpectMsg<DeviceActor.DeviceStatus>();
    }

    protected void AwaitState(IActorRef device, DeviceState state) =>
        AwaitAssert(() => Assert.Equal(state, Status(device).State), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));

    protected long Count(string counter) => Metrics.Counter(counter).Value;

    /// <summary>Asks the device to stop and waits until it drains what it has in flight (Stopping).</summary>
    protected void BeginStop(IActorRef device)
    {
        device.Tell(DeviceActor.Stop.Instance, TestActor);
        AwaitState(device, DeviceState.Stopping);
    }

    /// <summary>
    /// Stops a device whose messages stay unacknowledged: it drains until <paramref name="drainTimeout"/> (virtual time),
    /// gives up, disconnects and tells TestActor it stopped.
    /// </summary>
    protected DeviceActor.DeviceStopped StopAtDrainDeadline(IActorRef device, TimeSpan drainTimeout)
    {
        BeginStop(device);
        Advance(device, drainTimeout);
        Io.ExpectMsg<DisconnectCall>();
        return ExpectMsg<DeviceActor.DeviceStopped>();
    }

    /// <summary>The connection goes (the fake hub drops it) and the device waits in Backoff to reconnect.</summary>
    protected void LoseConnection(IActorRef device, FakeTransport transport)
    {
        transport.DropConnection();
        AwaitState(device, DeviceState.Backoff);
    }
}
