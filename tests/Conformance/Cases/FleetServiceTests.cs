using System.Text.Json.Nodes;
using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

/// <summary>azure-iothub's fleet-level calls against the emulator: bulk add/remove, registry statistics, paged queries.</summary>
[Collection(ConformanceCollection.Name)]
public sealed class FleetServiceTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task Azure_iothub_bulk_registry_statistics_and_paged_query_work_against_the_emulator()
    {
        var prefix = $"conf-fleet-{Guid.NewGuid().ToString("N")[..8]}";
        var env = fixture.Environment();
        env["FLEETSIM_PREFIX"] = prefix;

        var result = await fixture.RunAsync("fleet.js", env, TimeSpan.FromSeconds(60));

        result.AssertPassed();
        var added = result.Single("added");
        Assert.Equal(200, (int?)added["statusCode"]);
        Assert.Equal(0, (int?)added["errors"]);
        var rejected = result.Single("addExistingRejected");
        Assert.Equal(400, (int?)rejected["error"]!["statusCode"]);
        Assert.False((bool?)rejected["isSuccessful"]);
        var error = Assert.Single(rejected["errors"]!.AsArray())!;
        Assert.Equal($"{prefix}-0", (string?)error["deviceId"]);
        Assert.Equal("DeviceAlreadyExists", (string?)error["errorCode"]);
        var stats = result.Single("statistics");
        Assert.True((int)stats["totalDeviceCount"]! >= 6, result.Describe());
        Assert.Equal((int)stats["totalDeviceCount"]!, (int)stats["enabledDeviceCount"]! + (int)stats["disabledDeviceCount"]!);
        var queried = result.Single("queried");
        Assert.Equal(3, (int?)queried["pages"]); // 5 devices, 2 a page
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{prefix}-{i}"), queried["deviceIds"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(6, (int?)result.Single("counted")["rows"]![0]!["n"]);
        Assert.True((bool?)result.Single("removed")["isSuccessful"]);
    }

    [Fact]
    public async Task Azure_iothub_JobClient_schedules_twin_updates_and_methods_over_a_query_and_reads_their_status()
    {
        var prefix = $"conf-jobs-{Guid.NewGuid().ToString("N")[..8]}";
        var env = fixture.Environment();
        env["FLEETSIM_PREFIX"] = prefix;

        var result = await fixture.RunAsync("jobs.js", env, TimeSpan.FromSeconds(60));

        result.AssertPassed();
        var scheduled = result.Single("twinJobScheduled");
        Assert.Equal($"{prefix}-twin", (string?)scheduled["jobId"]);
        Assert.Equal("scheduleUpdateTwin", (string?)scheduled["type"]);
        var twinJob = result.Single("twinJobDone");
        Assert.Equal("completed", (string?)twinJob["status"]);
        Assert.Equal(2, (int?)twinJob["deviceJobStatistics"]!["succeededCount"]);
        Assert.Equal(5, (int?)result.Single("twin")["rate"]);
        // The devices never connect: the method job fails on both (404103 per device).
        var methodJob = result.Single("methodJobDone");
        Assert.Equal("completed", (string?)methodJob["status"]);
        Assert.Equal(2, (int?)methodJob["deviceJobStatistics"]!["failedCount"]);
    }
}
