using System.Net;
using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Tests.Rest;

/// <summary>Jobs v2 over real HTTPS: a twin update and a method call scheduled over a query condition.</summary>
public sealed class JobTests
{
    [Fact]
    public async Task A_twin_update_job_patches_exactly_the_devices_its_condition_selects()
    {
        await using var hub = await TestHub.StartAsync();
        foreach (var id in new[] { "j0", "j1", "j2" })
        {
            hub.Hub.Registry.Add(id);
        }

        var job = await PutJobAsync(hub, "job-twin", """
            {"jobId":"job-twin","type":"scheduleUpdateTwin","queryCondition":"deviceId IN ['j0', 'j2']",
             "updateTwin":{"etag":"*","tags":{"site":"north"},"properties":{"desired":{"rate":5}}},"startTime":null,"maxExecutionTimeInSeconds":60}
            """);
        Assert.Equal("job-twin", (string?)job["jobId"]);
        Assert.Equal("scheduleUpdateTwin", (string?)job["type"]);

        var done = await WaitForAsync(hub, "job-twin");

        Assert.Equal("completed", (string?)done["status"]);
        var stats = done["deviceJobStatistics"]!;
        Assert.Equal((2, 2, 0), ((int)stats["deviceCount"]!, (int)stats["succeededCount"]!, (int)stats["failedCount"]!));
        Assert.Equal("north", (string?)hub.Hub.Registry.Find("j2")!.Twin.ServiceTags()["site"]);
        Assert.Empty(hub.Hub.Registry.Find("j1")!.Twin.ServiceTags());
    }

    [Fact]
    public async Task A_method_job_counts_offline_devices_as_failed_and_an_unknown_job_is_404()
    {
        await using var hub = await TestHub.StartAsync();
        hub.Hub.Registry.Add("m0");
        hub.Hub.Registry.Add("m1");

        await PutJobAsync(hub, "job-method", """
            {"jobId":"job-method","type":"scheduleDeviceMethod","queryCondition":"STARTSWITH(deviceId, 'm')",
             "cloudToDeviceMethod":{"methodName":"reboot","payload":{},"responseTimeoutInSeconds":5,"connectTimeoutInSeconds":0}}
            """);
        var done = await WaitForAsync(hub, "job-method");

        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(2, (int)done["deviceJobStatistics"]!["failedCount"]!);
        using var unknown = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, "jobs/v2/nope"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static async Task<JsonNode> PutJobAsync(TestHub hub, string id, string body)
    {
        using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Put, $"jobs/v2/{id}", body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    private static async Task<JsonNode> WaitForAsync(TestHub hub, string id)
    {
        // Polls the job until it finished, with a deadline generous enough for a loaded machine.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await hub.Http.SendAsync(hub.ServiceRequest(HttpMethod.Get, $"jobs/v2/{id}"));
            var job = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if ((string?)job["status"] is "completed" or "failed")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {id} did not finish within 60 s: {job.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}
