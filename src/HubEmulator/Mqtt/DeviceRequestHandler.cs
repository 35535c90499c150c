using FleetSim.HubEmulator.Registry;
using MQTTnet;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>Handles device PUBLISHes on one <c>$iothub/…</c> topic family (twin requests, method responses).</summary>
internal interface IDeviceRequestHandler
{
    /// <summary>The topic prefix this handler owns, e.g. "$iothub/twin/".</summary>
    string TopicPrefix { get; }

    /// <summary>Handles the message; false means the topic is not one the hub supports (the connection is closed).</summary>
    bool TryHandle(RegisteredDevice device, MqttApplicationMessage message);
}
