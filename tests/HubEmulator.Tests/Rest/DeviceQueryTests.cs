using System.Net;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.HubEmulator.Tests.Rest;

/// <summary><c>POST /devices/query</c>: the SQL subset, paging with x-ms-continuation, over real HTTPS.</summary>
public sealed class DeviceQueryTests
{
    [Fact]
    public async Task A_tag_query_pages_through_every_match_once_in_device_id_order()
    {
        await using var hub = await TestHub.StartAsync();
        for (var i = 0; i < 250; i++)
        {
            var device = hub.Hub.Registry.Add($"q{i:000}");
            if (i % 2 == 0)
            {
                await SetTagsAsync(hub, device.DeviceId, """{"fleetsim":{"run":"r1"}}""");
            }
        }

        var (rows, pages) = await QueryAllAsync(hub, "SELECT * FROM devices WHERE tags.fleetsim.run = 'r1'", pageSize: 50);

        Assert.Equal(125, rows.Count);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 125).Select(i => $"q{i * 2:000}"), rows.Select(r => (string)r["deviceId"]!));
        Assert.Equal("r1", (string?)rows[0]["tags"]!["fleetsim"]!["run"]); // whole twins
    }

    [Theory]
    [InlineData("SELECT COUNT() AS n FROM devices", 4)]
    [InlineData("SELECT COUNT() AS n FROM devices WHERE STARTSWITH(deviceId, 'run-') AND IS_DEFINED(tags.fleetsim.run)", 1)]
    [InlineData("select count() as n from devices where deviceId IN ['run-a', 'other'] OR status = 'disabled'", 3)]
    [InlineData("SELECT COUNT() AS n FROM devices WHERE NOT (connectionState = 'Connected') AND tags.size > 2", 1)]
    public async Task Conditions_count_the_devices_they_select(string sql, int expected)
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("run-a");
        hub.Hub.Registry.Add("run-b");
        hub.Hub.Registry.Add("other");
        hub.Hub.Registry.Put(new DeviceSpec("off", Enabled: false), ifMatch: null);
        await SetTagsAsync(hub, "run-a", """{"fleetsim":{"run":"r"},"size":3}""");
        await SetTagsAsync(hub, "other", """{"size":1}""");

        var (rows, _) = await QueryAllAsync(hub, sql, pageSize: 100);

        Assert.Equal(expected, (int)Assert.Single(rows)["n"]!);
    }

    [Fact]
    public async Task A_projection_returns_the_selected_properties_only()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("p1");
        await SetTagsAsync(hub, "p1", """{"site":"north"}""");

        var (rows, _) = await QueryAllAsync(hub, "SELECT deviceId, tags.site FROM devices", pageSize: 100);

        var row = Assert.Single(rows);
        Assert.Equal("""{"deviceId":"p1","site":"north"}""", row.ToJsonString());
    }

    [Theory]
    [InlineData("SELECT * FROM devices.modules")]
    [InlineData("SELECT properties.reported.x, COUNT() AS n FROM devices GROUP BY properties.reported.x")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'unclosed")]
    public async Task Unsupported_or_malformed_queries_are_400_with_a_reason(string sql)
    {
        await using var hub = await TestHub.StartAsync();

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "devices/query", new JsonObject { ["query"] = sql }.ToJsonString()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not supported", await response.Content.ReadAsStringAsync());
    }

    private static async Task SetTagsAsync(TestHub hub, string id, string tags)
    {
        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Patch, $"twins/{id}", $$"""{"tags":{{tags}}}"""));
        response.EnsureSuccessStatusCode();
    }

    private static async Task<(List<JsonObject> Rows, int Pages)> QueryAllAsync(TestHub hub, string sql, int pageSize)
    {
        var rows = new List<JsonObject>();
        string? continuation = null;
        var pages = 0;
        do
        {
            using var request = hub.ServiceRequest(HttpMethod.Post, "devices/query", new JsonObject { ["query"] = sql }.ToJsonString());
            request.Headers.TryAddWithoutValidation("x-ms-max-item-count", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (continuation is not null)
            {
                request.Headers.TryAddWithoutValidation("x-ms-continuation", continuation);
            }

            using var response = await hub.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            rows.AddRange(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(n => n!.AsObject()));
            continuation = response.Headers.TryGetValues("x-ms-continuation", out var values) ? values.Single() : null;
            pages++;
        }
        while (continuation is not null);
        return (rows, pages);
    }
}
