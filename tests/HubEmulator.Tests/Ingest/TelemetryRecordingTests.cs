using System.Text.Json.Nodes;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Ingest;

public sealed class TelemetryRecordingTests
{
    [Fact]
    public async Task Recorded_telemetry_keeps_body_and_split_properties_and_is_served_over_https()
    {
        await using var hub = await TestHub.StartAsync(o => o.RecordTelemetryPerDevice = 2);
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var bag = PropertyBag.Encode([new("$.mid", "m1"), new("$.ct", "application/json"), new("color", "red & blue")]);

        await client.PublishStringAsync(new DeviceTopics("d1").Telemetry(bag), """{"t":1}""", MqttQualityOfServiceLevel.AtLeastOnce);

        var message = Assert.Single(hub.Hub.Telemetry.Recent("d1"));
        Assert.Equal("""{"t":1}""", System.Text.Encoding.UTF8.GetString(message.Body));
        Assert.Equal("m1", message.SystemProperties["$.mid"]);
        Assert.Equal("application/json", message.SystemProperties["$.ct"]);
        Assert.Equal("red & blue", message.ApplicationProperties["color"]);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "fleetsim/devices/d1/messages"));
        var served = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["messages"]![0]!;
        Assert.Equal("red & blue", (string)served["properties"]!["color"]!);
        Assert.Equal("m1", (string)served["systemProperties"]!["$.mid"]!);
    }

    [Fact]
    public async Task Recording_keeps_only_the_newest_messages_and_is_off_by_default()
    {
        await using var recording = await TestHub.StartAsync(o => o.RecordTelemetryPerDevice = 2);
        await using var plain = await TestHub.StartAsync();
        foreach (var hub in new[] { recording, plain })
        {
            var (_, client) = await hub.ConnectNewDeviceAsync("d1");
            using var _ = client;
            for (var i = 1; i <= 3; i++)
            {
                await client.PublishStringAsync(new DeviceTopics("d1").Telemetry(null), i.ToString(System.Globalization.CultureInfo.InvariantCulture), MqttQualityOfServiceLevel.AtLeastOnce);
            }
        }

        Assert.Equal(["2", "3"], recording.Hub.Telemetry.Recent("d1").Select(m => System.Text.Encoding.UTF8.GetString(m.Body)).ToArray());
        Assert.Empty(plain.Hub.Telemetry.Recent("d1"));
        Assert.Equal(3, plain.Hub.Ingest.ForDevice("d1")!.Ingested);
    }

    [Fact]
    public async Task Retained_telemetry_is_not_stored_but_marked()
    {
        await using var hub = await TestHub.StartAsync(o => o.RecordTelemetryPerDevice = 5);
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(new DeviceTopics("d1").Telemetry(null)).WithPayload("r"u8.ToArray()).WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        var message = Assert.Single(hub.Hub.Telemetry.Recent("d1"));
        Assert.Equal("true", message.ApplicationProperties[SystemProperties.MqttRetain]);
        Assert.Empty(await hub.Hub.Mqtt.Server.GetRetainedMessagesAsync());
    }
}
