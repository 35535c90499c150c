using System.Net;
using System.Text.Json.Nodes;
using FleetSim.Protocol;
using MQTTnet;
using MQTTnet.Protocol;

namespace FleetSim.HubEmulator.Tests.Twins;

public sealed class TwinOverMqttTests
{
    [Fact]
    public async Task Twin_get_returns_desired_and_reported_with_versions_only()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.ResponseSubscription);

        await client.PublishStringAsync(TwinTopics.Get("r1"), " ");

        var (topic, body) = await inbox.WaitForAsync(t => t.StartsWith("$iothub/twin/res/", StringComparison.Ordinal), "the twin GET response");
        Assert.Equal("$iothub/twin/res/200/?$rid=r1", topic);
        var twin = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(["desired", "reported"], twin.Select(p => p.Key).Order().ToArray());
        Assert.Equal(1, (long)twin["desired"]!["$version"]!);
        Assert.Equal(1, (long)twin["reported"]!["$version"]!);
    }

    [Fact]
    public async Task Reported_patch_merges_answers_204_with_version_and_shows_in_service_twin()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.ResponseSubscription);

        await client.PublishStringAsync(TwinTopics.PatchReported("a"), """{"fw":{"version":"1.0","ok":true},"temp":20}""");
        var first = await inbox.WaitForAsync(t => t.EndsWith("$rid=a&$version=2", StringComparison.Ordinal) || t.Contains("rid=a", StringComparison.Ordinal), "the first patch response");
        Assert.Equal(TwinTopics.Response(204, "a", 2), first.Topic);
        Assert.Equal("", first.Body);
        await client.PublishStringAsync(TwinTopics.PatchReported("b"), """{"fw":{"ok":null},"temp":21}""");
        var second = await inbox.WaitForAsync(t => t.Contains("rid=b", StringComparison.Ordinal), "the second patch response");
        Assert.Equal(TwinTopics.Response(204, "b", 3), second.Topic);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "twins/d1"));
        var reported = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["properties"]!["reported"]!;
        Assert.Equal(3, (long)reported["$version"]!);
        Assert.Equal(21, (int)reported["temp"]!);
        Assert.Equal("1.0", (string)reported["fw"]!["version"]!);
        Assert.Null(reported["fw"]!["ok"]);
        Assert.NotNull(reported["$metadata"]!["fw"]!["version"]!["$lastUpdated"]);
        Assert.Null(reported["$metadata"]!["fw"]!["ok"]);
    }

    [Fact]
    public async Task Malformed_or_over_limit_reported_patch_answers_400_with_error_code_body()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.ResponseSubscription);

        await client.PublishStringAsync(TwinTopics.PatchReported("x"), "not json");
        await client.PublishStringAsync(TwinTopics.PatchReported("y"), $$"""{"big":"{{new string('a', 5000)}}"}""");

        foreach (var rid in new[] { "x", "y" })
        {
            var (topic, body) = await inbox.WaitForAsync(t => t.EndsWith("$rid=" + rid, StringComparison.Ordinal), "the 400 response");
            Assert.Equal(TwinTopics.Response(400, rid), topic);
            Assert.Equal(400004, (int)JsonNode.Parse(body)!["errorCode"]!);
        }

        Assert.Equal(1, hub.Hub.Registry.Find("d1")!.Twin.ReportedVersion);
    }

    [Fact]
    public async Task Service_desired_patch_is_pushed_to_the_device_with_its_version()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.DesiredSubscription);

        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Patch, "twins/d1",
            """{"tags":{"site":"a"},"properties":{"desired":{"interval":5,"mode":{"x":1}}}}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var twin = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("a", (string)twin["tags"]!["site"]!);
        Assert.Equal(2, (long)twin["properties"]!["desired"]!["$version"]!);
        Assert.Equal(2, (long)twin["properties"]!["desired"]!["$metadata"]!["interval"]!["$lastUpdatedVersion"]!);

        var (topic, body) = await inbox.WaitForAsync(t => t.StartsWith(TwinTopics.DesiredPatchPrefix, StringComparison.Ordinal), "the desired patch");
        Assert.Equal(TwinTopics.DesiredPatch(2), topic);
        var patch = JsonNode.Parse(body)!;
        Assert.Equal(5, (int)patch["interval"]!);
        Assert.Equal(2, (long)patch["$version"]!);
    }

    [Fact]
    public async Task Service_twin_put_replaces_desired_and_pushes_the_full_document()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.DesiredSubscription);
        (await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Patch, "twins/d1", """{"properties":{"desired":{"a":1,"b":2}}}"""))).Dispose();

        using var put = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, "twins/d1", """{"tags":{},"properties":{"desired":{"c":3}}}"""));

        var desired = JsonNode.Parse(await put.Content.ReadAsStringAsync())!["properties"]!["desired"]!.AsObject();
        Assert.False(desired.ContainsKey("a"));
        Assert.Equal(3, (int)desired["c"]!);
        var (_, body) = await inbox.WaitForAsync(t => t == TwinTopics.DesiredPatch(3), "the replacement push");
        Assert.Equal(3, (int)JsonNode.Parse(body)!["c"]!);
    }

    [Fact]
    public async Task Twin_patch_with_stale_if_match_is_412()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("d1");
        var request = hub.ServiceRequest(HttpMethod.Patch, "twins/d1", """{"tags":{"a":1}}""");
        request.Headers.TryAddWithoutValidation("If-Match", "\"AAAAAAAAAAk=\"");

        using var response = await hub.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
    }

    [Fact]
    public async Task Injected_twin_failures_answer_the_status_with_an_error_body()
    {
        await using var hub = await TestHub.StartAsync();
        var (_, client) = await hub.ConnectNewDeviceAsync("d1");
        using var _ = client;
        var inbox = await DeviceInbox.SubscribeAsync(client, TwinTopics.ResponseSubscription);
        using var fault = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Post, "fleetsim/faults/twin-failures", """{"status":429,"ratio":1,"seconds":60}"""));
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);

        await client.PublishStringAsync(TwinTopics.Get("f"), " ", MqttQualityOfServiceLevel.AtLeastOnce);

        var (topic, body) = await inbox.WaitForAsync(t => t.EndsWith("$rid=f", StringComparison.Ordinal), "the failed response");
        Assert.Equal(TwinTopics.Response(429, "f"), topic);
        Assert.Equal(429001, (int)JsonNode.Parse(body)!["errorCode"]!);
        Assert.Equal(1, hub.Hub.Faults.FailedTwinOperations);
    }
}
