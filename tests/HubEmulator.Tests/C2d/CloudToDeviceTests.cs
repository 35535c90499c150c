using System.Net;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.C2d;

public sealed class CloudToDeviceTests
{
    [Fact]
    public async Task C2d_message_is_delivered_with_properties_and_completed_by_puback()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, new DeviceTopics("d1").C2dSubscription);

        var request = hub.ServiceRequest(HttpMethod.Post, "devices/d1/messages/deviceBound");
        request.Content = new StringContent("hello");
        request.Headers.TryAddWithoutValidation("iothub-messageid", "m-1");
        request.Headers.TryAddWithoutValidation("iothub-app-color", "blue/green");
        request.Headers.TryAddWithoutValidation("iothub-contenttype", "text/plain");
        using var response = await hub.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var (topic, body) = await inbox.WaitForAsync(t => t.StartsWith("devices/d1/messages/devicebound/", StringComparison.Ordinal), "the C2D message");
        Assert.Equal("hello", body);
        Assert.True(C2dTopic.TryParse(topic, out var deviceId, out var bag));
        Assert.Equal("d1", deviceId);
        var properties = PropertyBag.Decode(bag).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("m-1", properties["$.mid"]);
        Assert.Equal("/devices/d1/messages/deviceBound", properties["$.to"]);
        Assert.Equal("blue/green", properties["color"]);
        Assert.Equal("text/plain", properties["$.ct"]);
        Assert.DoesNotContain("blue/green", topic, StringComparison.Ordinal); // '/' in values is percent-encoded
        await TestHub.Eventually(() => hub.Hub.Stats().C2dCompleted == 1, "the PUBACK completes the message");
        Assert.Equal(0, await CountOfAsync(hub, "d1"));
    }

    [Fact]
    public async Task C2d_for_an_offline_device_waits_and_arrives_on_reconnect_without_resubscribing()
    {
        await using var hub = await TestHub.StartAsync();
        var (device, first) = await hub.ConnectNewDeviceAsync("d1", cleanSession: false);
        await first.SubscribeAsync(new DeviceTopics("d1").C2dSubscription, MqttQualityOfServiceLevel.AtLeastOnce);
        await first.DisconnectAsync();
        first.Dispose();
        await TestHub.Eventually(() => !hub.Hub.Registry.Find("d1")!.IsConnected, "the hub sees d1 offline");

        var request = hub.ServiceRequest(HttpMethod.Post, "devices/d1/messages/deviceBound");
        request.Content = new StringContent("while you were away");
        using var response = await hub.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1, await CountOfAsync(hub, "d1"));

        using var second = new MqttClientFactory().CreateMqttClient();
        var inbox = new DeviceInbox(second);
        var result = await second.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device), cleanSession: false));

        Assert.True(result.IsSessionPresent);
        var (_, body) = await inbox.WaitForAsync(t => t.StartsWith("devices/d1/messages/devicebound/", StringComparison.Ordinal), "the queued C2D message");
        Assert.Equal("while you were away", body);
    }

    [Fact]
    public async Task C2d_queue_holds_at_most_50_messages()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");

        for (var i = 0; i < 50; i++)
        {
            using var ok = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices/d1/messages/deviceBound", "{}"));
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }

        using var full = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices/d1/messages/deviceBound", "{}"));
        Assert.Equal(HttpStatusCode.Forbidden, full.StatusCode);
        Assert.Equal("DeviceMaximumQueueDepthExceeded", full.Headers.GetValues("iothub-errorcode").Single());
    }

    private static async Task<int> CountOfAsync(TestHub hub, string deviceId)
    {
        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/" + deviceId));
        return (int)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["cloudToDeviceMessageCount"]!;
    }
}
