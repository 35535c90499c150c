using System.Net;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol.Tiers;
using Microsoft.Extensions.Time.Testing;

namespace FleetSim.HubEmulator.Tests.Rest;

/// <summary><c>POST /devices</c> (bulk registry), <c>/statistics/*</c> and the registry throttle, over real HTTPS.</summary>
public sealed class BulkRegistryTests
{
    [Fact]
    public async Task Bulk_create_registers_new_devices_with_tags_and_names_the_one_that_exists()
    {
        await using var hub = await TestHub.StartAsync();
        var existing = hub.Hub.Registry.Add("b1");
        const string key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        var body = $$$$"""
            [
              {"id":"b0","importMode":"create","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"{{{{key}}}}","secondaryKey":"{{{{key}}}}"}},"tags":{"fleetsim":{"run":"r1"}}},
              {"id":"b1","importMode":"create","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}},
              {"id":"b2","importMode":"Create","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"{{{{new string('A', 40)}}}}"}}}
            ]
            """;

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices", body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.False((bool)result["isSuccessful"]!);
        var error = Assert.Single(result["errors"]!.AsArray())!;
        Assert.Equal("b1", (string?)error["deviceId"]);
        Assert.Equal("DeviceAlreadyExists", (string?)error["errorCode"]);
        Assert.Empty(result["warnings"]!.AsArray());
        Assert.Equal(key, hub.Hub.Registry.Get("b0")!.PrimaryKey);
        Assert.Equal("r1", (string?)hub.Hub.Registry.Find("b0")!.Twin.ServiceTags()["fleetsim"]!["run"]);
        Assert.Equal(new string('A', 40), hub.Hub.Registry.Get("b2")!.PrimaryThumbprint);
        Assert.Equal(existing, hub.Hub.Registry.Get("b1")); // untouched
    }

    [Fact]
    public async Task Bulk_delete_removes_devices_and_reports_unknown_ones_and_an_all_good_call_is_200()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d0");
        hub.Hub.Registry.Add("d1");

        using var partly = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices",
            """[{"id":"d0","importMode":"delete"},{"id":"nope","importMode":"Delete"}]"""));
        Assert.Equal(HttpStatusCode.BadRequest, partly.StatusCode);
        var error = Assert.Single(JsonNode.Parse(await partly.Content.ReadAsStringAsync())!["errors"]!.AsArray())!;
        Assert.Equal(("nope", "DeviceNotFound"), ((string?)error["deviceId"], (string?)error["errorCode"]));
        Assert.Null(hub.Hub.Registry.Get("d0"));

        using var ok = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices", """[{"id":"d1","importMode":"delete"}]"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.True((bool)JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["isSuccessful"]!);
        Assert.Equal(0, hub.Hub.Registry.Count);
    }

    [Fact]
    public async Task Bulk_calls_with_more_than_100_devices_or_a_device_twice_are_refused()
    {
        await using var hub = await TestHub.StartAsync();
        var tooMany = new JsonArray([.. Enumerable.Range(0, 101).Select(i => (JsonNode)new JsonObject { ["id"] = $"x{i}", ["importMode"] = "create" })]);

        using var big = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices", tooMany.ToJsonString()));
        using var twice = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices",
            """[{"id":"t","importMode":"create"},{"id":"t","importMode":"create"}]"""));

        Assert.Equal(HttpStatusCode.BadRequest, big.StatusCode);
        Assert.Equal("ArgumentInvalid", big.Headers.GetValues("iothub-errorcode").Single());
        Assert.Contains("101", await big.Content.ReadAsStringAsync());
        Assert.Equal(0, hub.Hub.Registry.Count - (hub.Hub.Registry.Get("t") is null ? 0 : 1));
        var error = Assert.Single(JsonNode.Parse(await twice.Content.ReadAsStringAsync())!["errors"]!.AsArray())!;
        Assert.Equal("DeviceDefinedMultipleTimes", (string?)error["errorCode"]);
    }

    [Fact]
    public async Task Registry_operations_over_the_tier_throttle_get_429_with_retry_after_and_count_a_bulk_call_once()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s1 = HubTier.Create("S1");
        await using var hub = await TestHub.StartAsync(o => { o.TimeProvider = time; o.Quotas = ThrottlingQuotas.ForTier(s1); });
        var hundred = new JsonArray([.. Enumerable.Range(0, 100).Select(i => (JsonNode)new JsonObject { ["id"] = $"s{i}", ["importMode"] = "create" })]);

        using var first = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices", hundred.ToJsonString()));
        using var second = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/s0"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(100, hub.Hub.Registry.Count);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("ThrottlingException", second.Headers.GetValues("iothub-errorcode").Single());
        Assert.Equal(TimeSpan.FromSeconds(1), second.Headers.RetryAfter!.Delta);

        time.Advance(TimeSpan.FromSeconds(60 / 100.0)); // one token at 100 per minute
        using var third = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "devices/s0"));
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        var stats = hub.Hub.Stats();
        Assert.Equal(2, stats.RegistryOperations);
        Assert.Equal(1, stats.ThrottledRegistryOperations);
    }

    [Fact]
    public async Task Statistics_count_total_enabled_disabled_and_connected_devices()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("e0");
        hub.Hub.Registry.Put(new Registry.DeviceSpec("e1", Enabled: false), ifMatch: null);
        var (_, client) = await hub.ConnectNewDeviceAsync("e2");
        using var _ = client;

        using var devices = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "statistics/devices"));
        using var service = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "statistics/service"));

        var d = JsonNode.Parse(await devices.Content.ReadAsStringAsync())!;
        Assert.Equal((3, 2, 1), ((int)d["totalDeviceCount"]!, (int)d["enabledDeviceCount"]!, (int)d["disabledDeviceCount"]!));
        Assert.Equal(1, (int)JsonNode.Parse(await service.Content.ReadAsStringAsync())!["connectedDeviceCount"]!);
    }
}
