using System.Text.Json.Nodes;

namespace FleetSim.Simulator.Tests;

/// <summary>The scenario's hub quotas reach the embedded emulator, and the devices feel them.</summary>
public sealed class ThrottlingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-quota-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Scenario_quotas_throttle_connects_and_telemetry_in_the_report()
    {
        var path = Path.Combine(_dir, "throttled.yaml");
        await File.WriteAllTextAsync(path, """
            name: throttled
            hub:
              embedded:
                quotas: {connectsPerSecond: 1, telemetryPerSecond: 4}
            deviceGroups:
              - {name: sensors, count: 4, idPattern: "thr-{index}", telemetry: {interval: 100ms}}
            load:
              - ramp: {to: 4, over: 1s}
            duration: 4s
            """);
        var outDir = Path.Combine(_dir, "out");
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(2), _dir, "run", path, "--out", outDir, "--quiet");

        Assert.True(result.ExitCode == 0, result.All);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
        // Four connects within a second against 1/s: some get CONNACK 3, which the devices see as throttling and retry later.
        var connect = report["latency"]!["connect"]!;
        Assert.True(connect["failures"]?["throttled"]?.GetValue<long>() >= 1, connect.ToJsonString());
        Assert.True(report["counters"]!["connect.retries"]!.GetValue<long>() >= 1);
        // (Not asserted: how many were connected at once. With retries that depends on how busy the machine is.)

        // Telemetry: the one connected device asks for 10/s; the hub acknowledges no faster than 4/s (after a
        // one-second burst), so PUBACK latency grows to seconds, while every message is still ingested once.
        var telemetry = report["telemetry"]!;
        var seconds = report["run"]!["durationSeconds"]!.GetValue<double>();
        var acked = telemetry["acked"]!.GetValue<long>();
        Assert.True(acked <= (4 * seconds) + 4 + 1, $"{acked} acked in {seconds} s against a 4/s quota");
        var latency = report["latency"]!["telemetry"]!;
        Assert.True(latency["p50"]!.GetValue<double>() >= 500, latency.ToJsonString());
        Assert.Equal(telemetry["sent"]!.GetValue<long>(), telemetry["ingested"]!.GetValue<long>());
        Assert.Equal(0, telemetry["duplicated"]!.GetValue<long>());

        // The hub's own account of what its quotas did is in the report: counters and a warning.
        var counters = report["counters"]!;
        Assert.Equal(connect["failures"]!["throttled"]!.GetValue<long>(), counters["hub.throttling.refusedConnects"]!.GetValue<long>());
        Assert.True(counters["hub.throttling.delayedTelemetry"]!.GetValue<long>() >= 1);
        Assert.Equal(0, counters["hub.throttling.rejectedTwinOperations"]!.GetValue<long>());
        Assert.Contains(report["environment"]!["warnings"]!.AsArray(), w => w!.GetValue<string>().StartsWith("the hub's quotas throttled the fleet", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--max-connects-per-second", "-1")]
    [InlineData("--max-telemetry-per-second", "0")]
    [InlineData("--max-twin-ops-per-second", "NaN")]
    public async Task Hub_refuses_a_quota_that_is_not_a_positive_rate(string option, string value)
    {
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "hub", "--mqtt-port", "0", "--https-port", "0", "--data-dir", _dir, option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"error: {option}: {value} is not a rate", result.Stderr);
        Assert.Contains("more than 0", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
        Assert.DoesNotContain("listening", result.Stdout);
    }
}
