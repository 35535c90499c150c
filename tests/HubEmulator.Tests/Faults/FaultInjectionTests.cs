using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Faults;

public sealed class FaultInjectionTests
{
    [Fact]
    public async Task Drop_all_closes_every_connection()
    {
        await using var hub = await TestHub.StartAsync();
        var clients = new List<IMqttClient>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add((await hub.ConnectNewDeviceAsync($"d{i}")).Client);
        }

        await TestHub.Eventually(() => hub.Hub.Stats().DevicesConnected == 4, "all four are connected");
        var dropped = await hub.Hub.Faults.DropAllAsync();

        Assert.Equal(4, dropped);
        await TestHub.Eventually(() => clients.All(c => !c.IsConnected), "every client sees its connection closed");
        Assert.Equal(4, hub.Hub.Stats().DisconnectsByReason["faultInjected"]);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Drop_fraction_over_https_closes_that_share_and_drop_device_closes_one()
    {
        await using var hub = await TestHub.StartAsync();
        var clients = new List<IMqttClient>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add((await hub.ConnectNewDeviceAsync($"d{i}")).Client);
        }

        await TestHub.Eventually(() => hub.Hub.Stats().DevicesConnected == 4, "all four are connected");
        using var half = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/drop", """{"fraction":0.5}"""));
        Assert.Equal(2, (int)JsonNode.Parse(await half.Content.ReadAsStringAsync())!["dropped"]!);
        await TestHub.Eventually(() => clients.Count(c => c.IsConnected) == 2, "two clients remain");

        var survivor = hub.Hub.Registry.Find("d0")!.IsConnected ? "d0" : hub.Hub.Registry.Find("d1")!.IsConnected ? "d1" : hub.Hub.Registry.Find("d2")!.IsConnected ? "d2" : "d3";
        using var one = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/drop", $$"""{"deviceId":"{{survivor}}"}"""));
        Assert.Equal(1, (int)JsonNode.Parse(await one.Content.ReadAsStringAsync())!["dropped"]!);
        await TestHub.Eventually(() => clients.Count(c => c.IsConnected) == 1, "one client remains");
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Ack_delay_holds_back_pubacks()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        hub.Hub.Faults.DelayAcknowledgements(TimeSpan.FromMilliseconds(600), TimeSpan.FromMinutes(1));

        var watch = Stopwatch.StartNew();
        await client.PublishStringAsync(new DeviceTopics("d1").Telemetry(null), "x", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(550), $"PUBACK came after {watch.Elapsed}");
        Assert.Equal(1, hub.Hub.Ingest.ForDevice("d1")!.Ingested);
    }

    [Fact]
    public async Task Unknown_fault_or_bad_values_are_400()
    {
        await using var hub = await TestHub.StartAsync();

        foreach (var (fault, body) in new[] { ("explode", "{}"), ("drop", """{"fraction":2}"""), ("twin-failures", """{"status":200,"seconds":1}"""), ("refuse-connects", "{}") })
        {
            using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/" + fault, body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }
}
