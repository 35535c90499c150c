using System.Net;
using System.Text.Json.Nodes;
using FleetSim.Protocol;
using MQTTnet;

namespace FleetSim.HubEmulator.Tests.Methods;

public sealed class DirectMethodTests
{
    [Fact]
    public async Task Method_is_delivered_and_the_device_answer_is_returned()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        client.ApplicationMessageReceivedAsync += async e =>
        {
            if (MethodTopics.TryParseRequest(e.ApplicationMessage.Topic, out var name, out var rid))
            {
                var echo = JsonNode.Parse(e.ApplicationMessage.ConvertPayloadToString())!;
                await client.PublishStringAsync(MethodTopics.Response(201, rid), new JsonObject { ["method"] = name, ["echo"] = echo }.ToJsonString());
            }
        };
        await client.SubscribeAsync(MethodTopics.Subscription);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "twins/d1/methods",
            """{"methodName":"reboot","payload":{"delay":3},"responseTimeoutInSeconds":10}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(201, (int)result["status"]!);
        Assert.Equal("reboot", (string)result["payload"]!["method"]!);
        Assert.Equal(3, (int)result["payload"]!["echo"]!["delay"]!);
    }

    [Fact]
    public async Task Method_to_an_offline_device_is_404103_DeviceNotOnline()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "twins/d1/methods", """{"methodName":"reboot"}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("DeviceNotOnline", response.Headers.GetValues("iothub-errorcode").Single());
        // The hub's newer form: a JSON document inside Message, with the numeric code and the connect timeout used.
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("", (string)body["ExceptionMessage"]!);
        var inner = JsonNode.Parse((string)body["Message"]!)!;
        Assert.Equal(404103, (int)inner["errorCode"]!);
        Assert.Contains("https://aka.ms/iothub404103", (string)inner["message"]!);
        Assert.Equal("00:00:00", (string)inner["info"]!["timeout"]!);
        Assert.Contains("-TimeStamp:", (string)inner["trackingId"]!);
    }

    [Fact]
    public async Task Method_without_an_answer_is_504_GatewayTimeout()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        await client.SubscribeAsync(MethodTopics.Subscription);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "twins/d1/methods",
            """{"methodName":"silent","responseTimeoutInSeconds":5}"""));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("GatewayTimeout", response.Headers.GetValues("iothub-errorcode").Single());
    }

    [Fact]
    public async Task Method_waits_for_a_device_that_comes_online_within_the_connect_timeout()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var call = hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "twins/d1/methods",
            """{"methodName":"late","connectTimeoutInSeconds":20,"responseTimeoutInSeconds":10}"""));

        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
            MethodTopics.TryParseRequest(e.ApplicationMessage.Topic, out _, out var rid)
                ? client.PublishStringAsync(MethodTopics.Response(200, rid), "")
                : Task.CompletedTask;
        await client.ConnectAsync(hub.DeviceOptions("d1", hub.DeviceToken(device)));
        await client.SubscribeAsync(MethodTopics.Subscription);

        using var response = await call;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["payload"]);
    }

    [Fact]
    public async Task Invalid_method_requests_are_400()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");

        foreach (var body in new[] { "{}", """{"methodName":"a/b"}""", """{"methodName":"m","responseTimeoutInSeconds":1}""" })
        {
            using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "twins/d1/methods", body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }
}
