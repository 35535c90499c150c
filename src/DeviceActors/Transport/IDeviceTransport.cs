using Akka.Actor;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors.Transport;

/// <summary>The subscriptions a device asks for after CONNACK (when the hub has no session for it).</summary>
[Flags]
public enum Subscriptions
{
    None = 0,
    C2d = 1,
    Methods = 2,
    TwinResponses = 4,
    TwinDesired = 8,
}

/// <summary>The outcome of one connect attempt: success, or a classified refusal (CONNACK code or exception).</summary>
public sealed record ConnectOutcome(int Generation, bool Success, bool SessionPresent, FailureKind Failure, string Detail)
{
    public static ConnectOutcome Connected(int generation, bool sessionPresent) =>
        new(generation, true, sessionPresent, FailureKind.Network, "connected");

    public static ConnectOutcome Refused(int generation, FailureKind failure, string detail) =>
        new(generation, false, false, failure, detail);
}

/// <summary>
/// One device's connection to the hub. Every call returns at once with a Task (the actor pipes it back to itself);
/// unsolicited events (<see cref="TransportDisconnected"/>, <see cref="TransportMessage"/>) are told to the attached
/// actor, never handled in the transport. One instance per device; <see cref="MqttDeviceTransport"/> is the real one.
/// </summary>
public interface IDeviceTransport : IDisposable
{
    /// <summary>The actor that receives this transport's events.</summary>
    void Attach(IActorRef device);

    /// <summary>Opens a new connection with <paramref name="password"/> (a SAS token, or null for X.509).</summary>
    Task<ConnectOutcome> ConnectAsync(string? password);

    /// <summary>Subscribes to the given topics; faults if the hub refuses any of them.</summary>
    Task SubscribeAsync(Subscriptions which);

    /// <summary>Publishes; with <paramref name="atLeastOnce"/> the task completes at PUBACK.</summary>
    Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool atLeastOnce);

    /// <summary>Sends the PUBACK for a received QoS 1 message (the handle came with its <see cref="TransportMessage"/>).</summary>
    Task AcknowledgeAsync(object ackHandle);

    /// <summary>Sends DISCONNECT and closes the connection; completes when it is closed.</summary>
    Task DisconnectAsync();
}

/// <summary>Creates the transport of one device; shared by a group.</summary>
public interface IDeviceTransportFactory
{
    IDeviceTransport Create(DeviceIdentity identity, DeviceOptions options, DeviceTopics topics);
}

/// <summary>The connection of <paramref name="Generation"/> closed without the device asking for it.</summary>
public sealed record TransportDisconnected(int Generation, FailureKind Reason, string Detail);

/// <summary>A PUBLISH from the hub (C2D, twin response, desired patch, method request).</summary>
public sealed record TransportMessage(int Generation, string Topic, ReadOnlyMemory<byte> Payload, object? AckHandle);

/// <summary>The server certificate did not chain to the trusted CA or did not match the host name.</summary>
public sealed class ServerCertificateRejectedException(string message) : Exception(message);
