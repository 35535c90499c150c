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
    public async Task Each_run_id_is_accounted_apart_so_a_device_id_reused_by_a_later_run_is_not_duplicated()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var topics = new DeviceTopics("d1");
        async Task SendAsync(string run, long seq)
        {
            var bag = PropertyBag.Encode([new(FleetSimProperties.Sequence, seq.ToString(System.Globalization.CultureInfo.InvariantCulture)), new(FleetSimProperties.Run, run)]);
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(topics.Telemetry(bag)).WithPayload("{}"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess);
        }

        foreach (var seq in new long[] { 1, 2, 3 })
            await SendAsync("run-1", seq);
        foreach (var seq in new long[] { 1, 2 })
            await SendAsync("run-2", seq);

        Assert.Equal(2, hub.Hub.Stats().Duplicated); // hub-wide, as before: run 2's numbers repeat run 1's
        var first = hub.Hub.Stats("run-1");
        Assert.Equal((3, 0, 0, 0), (first.Ingested, first.Lost, first.Duplicated, first.OutOfOrder));
        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "fleetsim/stats?run=run-2"));
        var second = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal((2L, 0L, 0L, "run-2"), ((long)second["ingested"]!, (long)second["lost"]!, (long)second["duplicated"]!, (string)second["run"]!));
        Assert.Equal(0, hub.Hub.Stats("never-ran").Ingested);
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
