using System.Text.Json.Nodes;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// Issue 14 item 2 end to end: the embedded hub shaped as S1 with a compressed connect limit (hub.embedded.quotas), a
/// fleet asked to connect all at once: paced, the hub never refuses a connect; with --no-pace it does (CONNACK 3).
/// </summary>
public sealed class TierPacingRunTests : IDisposable
{
    private const string Scenario = """
        name: paced
        hub:
          embedded:
            tier: S1
            quotas: {connectsPerSecond: 5, telemetryPerSecond: 5}
        devices: {count: 20, idPrefix: pace-}
        telemetry: {interval: 1s}
        duration: 3s
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-pacing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Paced_to_the_hubs_connect_limit_no_connect_is_refused_and_the_console_and_report_say_so()
    {
        var (result, report) = await RunAsync("paced");

        Assert.True(result.ExitCode == 0, result.All);
        const string connects = "connects paced to 4.5/s by tier S1 x 1 with hub.embedded.quotas (5 new connections/s, paced at 90%): the ramps take 4s instead of 0s; "
                                + "the phases after them (and faults) start up to 4s later and the run lasts 7s instead of 3s";
        Assert.Contains(connects, result.Stdout);
        Assert.Contains("telemetry paced to 4.5 messages/s by tier S1 x 1 with hub.embedded.quotas (5 device-to-cloud sends/s, paced at 90%): the scenario asks up to 20/s, "
                        + "so every telemetry interval is 4.44 times longer (default 1s -> 4s)", result.Stdout);
        var counters = report["counters"]!;
        Assert.Equal(0, counters["hub.throttling.refusedConnects"]!.GetValue<long>());
        Assert.Null(report["latency"]!["connect"]!["failures"]?["throttled"]);
        Assert.Equal(20, report["devices"]!["connectedPeak"]!.GetValue<long>());
        Assert.True(report["run"]!["durationSeconds"]!.GetValue<double>() >= 7, "the run lasts the paced ramp plus the whole hold");
        Assert.Contains(report["environment"]!["warnings"]!.AsArray(), w => w!.GetValue<string>() == connects);
    }

    [Fact]
    public async Task With_no_pace_the_same_fleet_meets_the_hubs_connect_throttle()
    {
        var (result, report) = await RunAsync("unpaced", "--no-pace");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.DoesNotContain("paced to", result.Stdout);
        // Twenty connects at once against 5/s: the hub answers the excess with CONNACK 3, which the devices retry.
        Assert.True(report["counters"]!["hub.throttling.refusedConnects"]!.GetValue<long>() >= 1, report["counters"]!.ToJsonString());
        Assert.True(report["latency"]!["connect"]!["failures"]?["throttled"]?.GetValue<long>() >= 1);
    }

    [Fact]
    public async Task A_dry_run_prints_the_paced_ramp_and_telemetry_and_with_no_pace_the_warnings()
    {
        var path = Path.Combine(_dir, "big.yaml");
        await File.WriteAllTextAsync(path, """
            name: big
            hub: {embedded: {tier: S1}}
            devices: {count: 20000, idPrefix: big-}
            telemetry: {interval: 1s}
            load:
              - ramp: {to: 20000, over: 4s}
            duration: 1m
            """);

        var paced = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", path, "--dry-run");
        var unpaced = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", path, "--dry-run", "--no-pace");

        Assert.True(paced.ExitCode == 0, paced.All);
        Assert.Contains("connects paced to 90/s by tier S1 x 1 (100 new connections/s, paced at 90%): the ramps take 3m42s instead of 4s; "
                        + "the phases after them (and faults) start up to 3m38s later and the run lasts 4m38s instead of 1m", paced.Stdout);
        Assert.Contains("telemetry paced to 90 messages/s by tier S1 x 1 (100 device-to-cloud sends/s, paced at 90%): the scenario asks up to 20,000/s, "
                        + "so every telemetry interval is 222.22 times longer (default 1s -> 3m42s)", paced.Stdout);
        Assert.DoesNotContain("warning: the load phases connect", paced.Stdout);
        Assert.DoesNotContain("daily quota", paced.Stdout); // paced, the run sends about 25,000 messages
        Assert.True(unpaced.ExitCode == 0, unpaced.All);
        Assert.Contains("pacing: off (--no-pace or hub.pace: false)", unpaced.Stdout);
        Assert.Contains("warning: the load phases connect devices 5000/s at the peak, more than S1 x 1's 100 new connections/s", unpaced.Stdout);
        Assert.Contains("warning: telemetry asks 20000 messages/s, more than S1 x 1's 100 device-to-cloud sends/s", unpaced.Stdout);
        Assert.Contains("more than S1 x 1's daily quota of 400,000", unpaced.Stdout);
        Assert.DoesNotContain("paced to", unpaced.Stdout);
    }

    private async Task<(Fleetsim.Result Result, JsonNode Report)> RunAsync(string name, params string[] extra)
    {
        var path = Path.Combine(_dir, name + ".yaml");
        await File.WriteAllTextAsync(path, Scenario);
        var outDir = Path.Combine(_dir, name);
        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir, ["run", path, "--out", outDir, "--quiet", .. extra]);
        Assert.True(File.Exists(Path.Combine(outDir, "report.json")), result.All);
        return (result, JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!);
    }
}
