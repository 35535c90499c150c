using FleetSim.HubEmulator.Ingest;
using FleetSim.HubEmulator.Mqtt;
using FleetSim.HubEmulator.Twins;
using FleetSim.Protocol;

namespace FleetSim.HubEmulator.Registry;

/// <summary>
/// A registered device and everything the hub keeps for it: identity, twin, connection state and ingest
/// counters. One object per device so the hot paths need a single registry lookup.
/// </summary>
public sealed class RegisteredDevice
{
    private DeviceIdentity _identity;
    private string? _lastTelemetryTopic;

    internal RegisteredDevice(DeviceIdentity identity, DeviceIngestCounter ingest, DeviceTwin twin)
    {
        _identity = identity;
        DeviceId = identity.DeviceId;
        Topics = new DeviceTopics(identity.DeviceId);
        Ingest = ingest;
        Twin = twin;
    }

    public string DeviceId { get; }

    public DeviceIdentity Identity
    {
        get => Volatile.Read(ref _identity);
        internal set => Volatile.Write(ref _identity, value);
    }

    public DeviceTwin Twin { get; }

    /// <summary>True while the device has an open MQTT connection.</summary>
    public bool IsConnected => Connection.IsConnected;

    internal DeviceTopics Topics { get; }

    internal DeviceConnectionState Connection { get; } = new();

    internal DeviceIngestCounter Ingest { get; }

    /// <summary>Topic (with its property bag) of the last telemetry message: the received string kept, nothing copied.</summary>
    internal string? LastTelemetryTopic
    {
        get => Volatile.Read(ref _lastTelemetryTopic);
        set => Volatile.Write(ref _lastTelemetryTopic, value);
    }
}
