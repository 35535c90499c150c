using FleetSim.HubEmulator.Registry;
using FleetSim.Protocol;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// A device may subscribe only to its own C2D topic and the twin and method topics (PROTOCOL.md section 3).
/// Anything else gets SUBACK failure (0x80); QoS 2 is granted as QoS 1. Accepted subscriptions are remembered
/// per device so the hub knows where it may deliver.
/// </summary>
internal sealed class SubscriptionRules
{
    private readonly DeviceRegistry _registry;

    public SubscriptionRules(DeviceRegistry registry) => _registry = registry;

    /// <summary>Raised when a device's subscription was accepted.</summary>
    public event Action<RegisteredDevice, DeviceSubscriptions>? Subscribed;

    public static DeviceSubscriptions Classify(RegisteredDevice device, string filter)
    {
        if (string.Equals(filter, device.Topics.C2dSubscription, StringComparison.Ordinal))
        {
            return DeviceSubscriptions.C2d;
        }

        return filter switch
        {
            TwinTopics.ResponseSubscription => DeviceSubscriptions.TwinResponses,
            TwinTopics.DesiredSubscription => DeviceSubscriptions.DesiredPatches,
            MethodTopics.Subscription => DeviceSubscriptions.Methods,
            _ => DeviceSubscriptions.None,
        };
    }

    public Task OnSubscribeAsync(InterceptingSubscriptionEventArgs e)
    {
        var device = _registry.Find(e.ClientId);
        var kind = device is null ? DeviceSubscriptions.None : Classify(device, e.TopicFilter.Topic);
        if (kind == DeviceSubscriptions.None)
        {
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.TopicFilterInvalid;
            return Task.CompletedTask;
        }

        if (e.TopicFilter.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            e.TopicFilter.QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce;
            e.Response.ReasonCode = MqttSubscribeReasonCode.GrantedQoS1;
        }

        device!.Connection.Subscribed(kind);
        Subscribed?.Invoke(device, kind);
        return Task.CompletedTask;
    }

    public Task OnUnsubscribeAsync(InterceptingUnsubscriptionEventArgs e)
    {
        var device = _registry.Find(e.ClientId);
        if (device is not null)
        {
            var kind = Classify(device, e.Topic);
            if (kind != DeviceSubscriptions.None)
            {
                device.Connection.Unsubscribed(kind);
            }
        }

        return Task.CompletedTask;
    }
}
