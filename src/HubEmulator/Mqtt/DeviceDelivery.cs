using FleetSim.HubEmulator.Registry;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>Sends hub-originated messages (twin responses, desired patches, method requests, C2D) into one device's session.</summary>
internal static class DeviceDelivery
{
    public static MqttApplicationMessage Message(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfServiceLevel qos) =>
        new()
        {
            Topic = topic,
            Payload = new System.Buffers.ReadOnlySequence<byte>(payload),
            QualityOfServiceLevel = qos,
        };

    /// <summary>Delivers when the device has the subscription; false (dropped) otherwise, as the real hub does.</summary>
    public static async Task<bool> SendIfSubscribedAsync(
        HubMqttServer mqtt, RegisteredDevice device, DeviceSubscriptions needed, string topic, ReadOnlyMemory<byte> payload, MqttQualityOfServiceLevel qos)
    {
        if ((device.Connection.Subscriptions & needed) == 0)
        {
            return false;
        }

        return await mqtt.EnqueueAsync(device.DeviceId, Message(topic, payload, qos)).ConfigureAwait(false);
    }
}
