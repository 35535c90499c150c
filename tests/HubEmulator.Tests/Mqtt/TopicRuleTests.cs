using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Mqtt;

public sealed class TopicRuleTests
{
    [Fact]
    public async Task Device_publishing_on_another_devices_topic_is_disconnected()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d2");
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        await PublishIgnoringFailureAsync(client, new DeviceTopics("d2").Telemetry(null), MqttQualityOfServiceLevel.AtLeastOnce);

        await TestHub.Eventually(() => !client.IsConnected, "the hub closes d1's connection");
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["topicNotAllowed"]);
        Assert.Null(hub.Hub.Ingest.ForDevice("d2") is { Ingested: > 0 } ? "counted" : null);
    }

    [Fact]
    public async Task Device_publishing_on_an_unsupported_topic_is_disconnected()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        await PublishIgnoringFailureAsync(client, "some/random/topic", MqttQualityOfServiceLevel.AtMostOnce);

        await TestHub.Eventually(() => !client.IsConnected, "the hub closes the connection");
        Assert.False(hub.Hub.Registry.Find("d1")!.IsConnected);
    }

    [Fact]
    public async Task Qos2_publish_closes_the_connection()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        await PublishIgnoringFailureAsync(client, new DeviceTopics("d1").Telemetry(null), MqttQualityOfServiceLevel.ExactlyOnce);

        await TestHub.Eventually(() => !client.IsConnected, "the hub closes the connection");
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["qoS2NotSupported"]);
    }

    [Fact]
    public async Task Subscribing_to_another_devices_topic_is_refused_and_own_topics_are_granted()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        // One filter per SUBSCRIBE, as the SDKs do: MQTTnet orders SUBACK codes by QoS when one packet mixes QoS levels.
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await SubscribeAsync(client, new DeviceTopics("d2").C2dSubscription, MqttQualityOfServiceLevel.AtLeastOnce));
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await SubscribeAsync(client, new DeviceTopics("d1").C2dSubscription, MqttQualityOfServiceLevel.AtLeastOnce));
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await SubscribeAsync(client, TwinTopics.ResponseSubscription, MqttQualityOfServiceLevel.ExactlyOnce));
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, await SubscribeAsync(client, MethodTopics.Subscription, MqttQualityOfServiceLevel.AtMostOnce));
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await SubscribeAsync(client, "#", MqttQualityOfServiceLevel.AtMostOnce));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Message_over_256_KB_closes_the_connection()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        var message = new MqttApplicationMessageBuilder()
            .WithTopic(new DeviceTopics("d1").Telemetry(null))
            .WithPayload(new byte[MessageLimits.MaxMessageBytes + 1])
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        try
        {
            await client.PublishAsync(message).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is not TimeoutException)
        {
        }

        await TestHub.Eventually(() => !client.IsConnected, "the hub closes the connection");
        Assert.Equal(1, hub.Hub.Stats().DisconnectsByReason["messageTooLarge"]);
        Assert.Equal(0, hub.Hub.Ingest.Totals.Ingested);
    }

    private static async Task<MqttClientSubscribeResultCode> SubscribeAsync(IMqttClient client, string filter, MqttQualityOfServiceLevel qos)
    {
        var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, qos).Build());
        return Assert.Single(result.Items).ResultCode;
    }

    private static async Task PublishIgnoringFailureAsync(IMqttClient client, string topic, MqttQualityOfServiceLevel qos)
    {
        try
        {
            await client.PublishAsync(
                new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload("x"u8.ToArray()).WithQualityOfServiceLevel(qos).Build())
                .WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            // the hub closed the connection before acknowledging: that is the behaviour under test
        }
    }
}
