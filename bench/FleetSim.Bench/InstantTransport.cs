using Akka.Actor;
using FleetSim.DeviceActors;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.Bench;

/// <summary>
/// The baseline transport: no socket, no TLS, no MQTT. Connect, subscribe and publish complete at once (a PUBACK in
/// zero time), so what remains is the cost of the device actor itself.
/// </summary>
public sealed class InstantTransport : IDeviceTransport
{
    private int _generation;

    public void Attach(IActorRef device)
    {
    }

    public Task<ConnectOutcome> ConnectAsync(string? password) =>
        Task.FromResult(ConnectOutcome.Connected(Interlocked.Increment(ref _generation), sessionPresent: false));

    public Task SubscribeAsync(Subscriptions which) => Task.CompletedTask;

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce) => Task.CompletedTask;

    public Task AcknowledgeAsync(object ackHandle) => Task.CompletedTask;

    public Task DisconnectAsync() => Task.CompletedTask;

    public void Dispose()
    {
    }
}

public sealed class InstantTransportFactory : IDeviceTransportFactory
{
    public IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics) => new InstantTransport();
}
