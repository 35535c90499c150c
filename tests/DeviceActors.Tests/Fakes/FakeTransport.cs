using System.Collections.Concurrent;
using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Tests.Fakes;

/// <summary>Every call a device makes on its transport, reported to a probe with the means to complete it.</summary>
public abstract record TransportCall(FakeTransport Transport);

public sealed record ConnectCall(FakeTransport Transport, int Generation, string? Password, TaskCompletionSource<ConnectOutcome> Result)
    : TransportCall(Transport)
{
    public void Succeed(bool sessionPresent = false) => Result.SetResult(ConnectOutcome.Connected(Generation, sessionPresent));

    public void Refuse(FailureKind kind) => Result.SetResult(ConnectOutcome.Refused(Generation, kind, "CONNACK from test"));

    public void Fail(Exception e) => Result.SetException(e);
}

public sealed record SubscribeCall(FakeTransport Transport, Subscriptions Which, TaskCompletionSource Result) : TransportCall(Transport);

public sealed record PublishCall(FakeTransport Transport, string Topic, byte[] Payload, bool AtLeastOnce, TaskCompletionSource Result)
    : TransportCall(Transport)
{
    public long Sequence => PropertyBag.TryGetValue(Bag, FleetSimProperties.Sequence, out var v) ? long.Parse(v) : -1;

    public string Bag => Topic[(Topic.LastIndexOf('/') + 1)..];

    public void Ack() => Result.TrySetResult();
}

public sealed record AckCall(FakeTransport Transport, object Handle) : TransportCall(Transport);

public sealed record DisconnectCall(FakeTransport Transport) : TransportCall(Transport);

/// <summary>A transport whose every operation waits for the test (or completes at once where configured).</summary>
public sealed class FakeTransport(string deviceId, IActorRef probe, bool autoAckPublishes) : IDeviceTransport
{
    private int _generation;
    private IActorRef _device = ActorRefs.Nobody;

    public string DeviceId { get; } = deviceId;

    public int Generation => _generation;

    public IActorRef Device => _device;

    public bool Disposed { get; private set; }

    public void Attach(IActorRef device) => _device = device;

    public Task<ConnectOutcome> ConnectAsync(string? password)
    {
        var call = new ConnectCall(this, Interlocked.Increment(ref _generation), password,
            new TaskCompletionSource<ConnectOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        probe.Tell(call);
        return call.Result.Task;
    }

    public Task SubscribeAsync(Subscriptions which)
    {
        var call = new SubscribeCall(this, which, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        probe.Tell(call);
        return call.Result.Task;
    }

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce)
    {
        var call = new PublishCall(this, topic, payload.ToArray(), atLeastOnce,
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (autoAckPublishes || !atLeastOnce)
            call.Ack();
        probe.Tell(call);
        return call.Result.Task;
    }

    public Task AcknowledgeAsync(object ackHandle)
    {
        probe.Tell(new AckCall(this, ackHandle));
        return Task.CompletedTask;
    }

    public Task DisconnectAsync()
    {
        probe.Tell(new DisconnectCall(this));
        return Task.CompletedTask;
    }

    /// <summary>The hub (or the network) closes the current connection.</summary>
    public void DropConnection(FailureKind reason = FailureKind.Network) =>
        _device.Tell(new TransportDisconnected(_generation, reason, "dropped by test"));

    /// <summary>The hub publishes to the device on the current connection.</summary>
    public object? Deliver(string topic, string payload = "", bool atLeastOnce = false)
    {
        var handle = atLeastOnce ? new object() : null;
        _device.Tell(new TransportMessage(_generation, topic, System.Text.Encoding.UTF8.GetBytes(payload), handle));
        return handle;
    }

    public void Dispose() => Disposed = true;
}

public sealed class FakeTransportFactory(IActorRef probe, bool autoAckPublishes = false) : IDeviceTransportFactory
{
    public ConcurrentDictionary<string, FakeTransport> ByDevice { get; } = new();

    public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics) =>
        ByDevice[identity.DeviceId] = new FakeTransport(identity.DeviceId, probe, autoAckPublishes);
}
