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

        foreach (var (fault, body) in new[]
                 {
                     ("explode", "{}"), ("drop", """{"fraction":2}"""), ("twin-failures", """{"status":200,"seconds":1}"""), ("refuse-connects", "{}"),
                     ("hub-restart", "{}"), ("blackhole", """{"fraction":0.5}"""), ("expire-tokens", """{"fraction":-1}"""),
                     ("latency", """{"milliseconds":100,"jitterMilliseconds":200,"seconds":1}"""), ("drop", """{"ids":3}"""),
                 })
        {
            using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/" + fault, body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task Fault_endpoints_answer_with_the_fault_event_and_honour_an_id_pattern()
    {
        await using var hub = await TestHub.StartAsync();
        var clients = new List<IMqttClient>();
        foreach (var id in new[] { "eu-1", "eu-2", "us-1" })
        {
            clients.Add((await hub.ConnectNewDeviceAsync(id)).Client);
        }

        await TestHub.Eventually(() => hub.Hub.Stats().DevicesConnected == 3, "all three are connected");
        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/expire-tokens", """{"fraction":1,"ids":"eu-*"}"""));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("expire-tokens", (string)json["kind"]!);
        Assert.Equal(2, (int)json["affected"]!);
        Assert.Equal(["eu-1", "eu-2"], json["deviceIds"]!.AsArray().Select(n => (string)n!).Order());
        Assert.Null(json["end"]);
        await TestHub.Eventually(() => clients.Count(c => c.IsConnected) == 1, "the eu devices are disconnected");

        using var latency = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/latency", """{"milliseconds":50,"seconds":2,"ids":["us-*"]}"""));
        var latencyEvent = JsonNode.Parse(await latency.Content.ReadAsStringAsync())!;
        Assert.Equal("latency", (string)latencyEvent["kind"]!);
        Assert.Equal(2, (latencyEvent["end"]!.GetValue<DateTimeOffset>() - latencyEvent["start"]!.GetValue<DateTimeOffset>()).TotalSeconds, 3);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_token_the_hub_expired_is_refused_and_a_renewed_one_is_accepted()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var token = hub.DeviceToken(device, TimeSpan.FromHours(1));
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(hub.DeviceOptions("d1", token));

        var expired = await hub.Hub.Faults.ExpireTokensAsync(1.0, null);

        Assert.Equal(["d1"], expired.AffectedDeviceIds);
        await TestHub.Eventually(() => !client.IsConnected, "the connection is closed");
        Assert.Equal(5, await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), token)); // CONNACK 5
        var renewed = SasToken.Create($"{hub.Hub.HostName}/devices/d1", device.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(1).AddSeconds(2));
        Assert.Equal(0, await hub.RawConnectAsync("d1", MqttUsername.Build(hub.Hub.HostName, "d1"), renewed));
        Assert.Equal(1, hub.Hub.Stats().RefusedByReason["tokenExpired"]);
    }

    [Fact]
    public async Task A_blackholed_connection_gets_no_answer_until_the_period_ends()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hub = await TestHub.StartAsync(o => o.TimeProvider = time);
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;

        var silenced = await hub.Hub.Faults.BlackholeAsync(1.0, TimeSpan.FromSeconds(30), null);
        Assert.Equal(["d1"], silenced.AffectedDeviceIds);
        var publish = client.PublishStringAsync(new DeviceTopics("d1").Telemetry(null), "x", MqttQualityOfServiceLevel.AtLeastOnce);

        await Assert.ThrowsAnyAsync<Exception>(() => publish.WaitAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(0, hub.Hub.Ingest.ForDevice("d1")?.Ingested ?? 0); // the hub did not even read it
        Assert.True(client.IsConnected);

        time.Advance(TimeSpan.FromSeconds(30));
        await publish.WaitAsync(TimeSpan.FromSeconds(10)); // what waited flows once the period ends
        Assert.Equal(1, hub.Hub.Ingest.ForDevice("d1")!.Ingested);
    }

    [Fact]
    public void Id_patterns_match_exact_ids_and_globs()
    {
        var target = FleetSim.HubEmulator.Faults.FaultTarget.Of(["sensor-*", "gw-1", "*-eu-*"]);

        Assert.True(target.Matches("sensor-0001"));
        Assert.True(target.Matches("gw-1"));
        Assert.True(target.Matches("cam-eu-7"));
        Assert.False(target.Matches("gw-10"));
        Assert.False(target.Matches("cam-us-7"));
        Assert.True(FleetSim.HubEmulator.Faults.FaultTarget.Of(null).Matches("anything"));
    }
}
