using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Ingest;

public sealed class IngestOverMqttTests
{
    [Fact]
    public async Task Crafted_sequence_numbers_are_counted_as_lost_duplicated_and_out_of_order()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var topics = new DeviceTopics("d1");

        foreach (var seq in new long[] { 1, 2, 4, 4, 3, 7 })
        {
            var bag = PropertyBag.Encode([new("$.mid", $"m{seq}"), new(FleetSimProperties.Sequence, seq.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("app", "x y")]);
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(topics.Telemetry(bag)).WithPayload("{}"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess);
        }

        var device = hub.Hub.Ingest.ForDevice("d1")!;
        Assert.Equal((6, 2, 1, 1, 7), (device.Ingested, device.Lost, device.Duplicated, device.OutOfOrder, device.HighestSequence));
        var stats = hub.Hub.Stats();
        Assert.Equal((6, 2, 1, 1), (stats.Ingested, stats.Lost, stats.Duplicated, stats.OutOfOrder));
    }

    [Fact]
    public async Task Telemetry_without_sequence_or_bag_is_ingested()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("devices/d1/messages/events/").WithPayload("a"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("devices/d1/messages/events/%24.ct=application%2Fjson").WithPayload("{}"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        var device = hub.Hub.Ingest.ForDevice("d1")!;
        Assert.Equal(2, device.Ingested);
        Assert.Equal(0, device.Lost);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Will_message_on_the_telemetry_topic_is_ingested_when_the_connection_drops()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var options = hub.DeviceOptions("d1", hub.DeviceToken(device));
        options.WillTopic = new DeviceTopics("d1").Telemetry(FleetSimProperties.Sequence + "=1");
        options.WillPayload = "gone"u8.ToArray();
        options.WillQualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce;
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(options);
        await TestHub.Eventually(() => hub.Hub.Registry.Find("d1")!.IsConnected, "d1 is connected");

        Assert.True(await hub.Hub.Faults.DropDeviceAsync("d1"));

        await TestHub.Eventually(() => hub.Hub.Ingest.ForDevice("d1")!.Ingested == 1, "the will is ingested as telemetry");
        Assert.Equal(1, hub.Hub.Ingest.ForDevice("d1")!.HighestSequence);
    }
}
