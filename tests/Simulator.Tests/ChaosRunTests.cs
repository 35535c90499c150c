using System.Diagnostics;
using System.Text.Json.Nodes;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// hub.chaos end to end: <c>fleetsim run</c> against a <c>fleetsim hub</c> in another process, its devices through the
/// chaos proxy; and the scenario and command-line errors around the key.
/// </summary>
public sealed class ChaosRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-chaos-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Run_against_a_hub_in_another_process_applies_proxy_faults_and_reports_each_recovery()
    {
        var stateFile = Path.Combine(_dir, "state.json");
        using var hub = await StartHubAsync(stateFile);
        try
        {
            var scenario = Path.Combine(_dir, "chaos.yaml");
            await File.WriteAllTextAsync(scenario, """
                name: chaos
                hub:
                  chaos:
                    - {at: 3s, dropConnections: {fraction: 0.5}}
                    - {at: 7s, hubRestart: {for: 2s}}
                deviceGroups:
                  - {name: tcp, count: 6, idPrefix: chaos-, telemetry: {interval: 500ms}, retry: {policy: fixed, interval: 500ms}}
                duration: 16s
                """);
            var outDir = Path.Combine(_dir, "out");

            var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(3), _dir, "run", scenario, "--hub-state", stateFile, "--out", outDir, "--quiet");

            Assert.True(result.ExitCode == 0, result.All);
            Assert.Contains("chaos proxy on 127.0.0.1:", result.Stdout);
            var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "report.json")))!;
            Assert.Equal("external", report["run"]!["hubKind"]!.GetValue<string>());
            var faults = report["faults"]!.AsArray();
            Assert.Equal(2, faults.Count);
            Assert.All(faults, f => Assert.Equal("chaos", f!["source"]!.GetValue<string>()));

            var drop = faults[0]!;
            Assert.Equal("drop", drop["kind"]!.GetValue<string>());
            var dropRecovery = drop["recovery"]!;
            var cut = drop["affected"]!.GetValue<int>();
            var lost = dropRecovery["devicesAffected"]!.GetValue<int>();
            Assert.Equal(lost, dropRecovery["devicesRecovered"]!.GetValue<int>());
            Assert.Equal(0, dropRecovery["neverReconnected"]!.GetValue<int>());
            if (ReportFacts.ConnectedWhenApplied(report, drop) == 6)
            {
                Assert.Equal(3, cut); // half of the six tunnels, chosen by the proxy
                Assert.Equal(3, lost); // the devices themselves saw their connection go
            }
            else
            {
                // A loaded machine: some devices were still connecting at the planned 3 s. The proxy cut half of the tunnels
                // open then; one cut before its CONNACK is a connect failure that device retries, not a loss it records.
                Assert.InRange(cut, 0, 3);
                Assert.InRange(lost, 0, cut);
            }

            var restart = faults[1]!;
            Assert.Equal("hub-restart", restart["kind"]!.GetValue<string>());
            var restartRecovery = restart["recovery"]!;
            var recovered = restartRecovery["devicesRecovered"]!.GetValue<int>();
            Assert.Equal(restartRecovery["devicesAffected"]!.GetValue<int>(), recovered);
            if (ReportFacts.ConnectedWhenApplied(report, restart) == 6)
            {
                Assert.Equal(6, restart["affected"]!.GetValue<int>());
                Assert.Equal(6, recovered);
            }
            else
            {
                Assert.InRange(recovered, 0, restart["affected"]!.GetValue<int>()); // as for the drop: cut while connecting
            }

            // Nobody reconnects while the listener is down: the median recovery took at least most of the 2 s outage (ms).
            if (recovered > 0)
                Assert.True(restartRecovery["p50"]!.GetValue<double>() >= 1500, restartRecovery.ToJsonString());
        }
        finally
        {
            await StopHubAsync(hub);
        }
    }

    [Fact]
    public async Task Chaos_against_the_embedded_hub_exits_2_naming_the_key_and_the_embedded_faults()
    {
        var scenario = Path.Combine(_dir, "embedded.yaml");
        await File.WriteAllTextAsync(scenario, "name: e\nhub:\n  chaos: [{at: 1s, dropConnections: {fraction: 0.5}}]\ndevices: {count: 1, idPrefix: e-}\nduration: 2s\n");

        var result = await Fleetsim.RunAsync(TimeSpan.FromMinutes(1), _dir, "run", scenario, "--out", Path.Combine(_dir, "out"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("embedded.yaml:3:3: hub.chaos applies to an existing hub", result.Stderr);
        Assert.Contains("hub.embedded.faults", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public void Chaos_takes_the_network_faults_with_their_targets_and_timing()
    {
        var scenario = Load("""
            name: ok
            hub:
              connectionString: HostName=h.example.org;SharedAccessKeyName=o;SharedAccessKey=a2V5
              chaos:
                - {at: 10s, dropConnections: {fraction: 0.1}, every: 20s, until: 50s}
                - {at: 20s, blackhole: {fraction: 0.2, for: 10s}, group: b}
                - {at: 30s, latency: {by: 200ms, jitter: 50ms, for: 20s}, ids: 'a-*'}
                - {at: 40s, refuseConnects: {for: 5s}}
                - {at: 45s, hubRestart: {for: 3s}}
            deviceGroups:
              - {name: a, count: 2, idPrefix: a-}
              - {name: b, count: 2, idPrefix: b-}
            duration: 1m
            """).Scenario!;

        var chaos = scenario.Hub.Chaos;
        Assert.IsType<ConnectionStringHub>(scenario.Hub);
        Assert.Equal(5, chaos.Count);
        Assert.Equal(TimeSpan.FromSeconds(20), chaos[0].Every);
        Assert.Equal(TimeSpan.FromSeconds(50), chaos[0].Until);
        Assert.Equal(new BlackholeFault(TimeSpan.FromSeconds(20), 0.2, TimeSpan.FromSeconds(10)) { Target = chaos[1].Target }, chaos[1]);
        Assert.Equal("b", chaos[1].Target!.Group);
        Assert.Equal(["a-*"], chaos[2].Target!.Ids);
        Assert.IsType<RefuseConnectsFault>(chaos[3]);
        Assert.IsType<HubRestartFault>(chaos[4]);
    }

    [Theory]
    [InlineData("[{at: 1s, failTwin: {status: 500, for: 2s}}]", "3:20", "hub.chaos: failTwin needs the hub's cooperation")]
    [InlineData("[{at: 1s, expireTokens: {fraction: 1}}]", "3:20", "hub.chaos: expireTokens needs the hub's cooperation")]
    [InlineData("{at: 1s}", "3:10", "hub.chaos: expected a list of faults")]
    [InlineData("[{at: 5m, dropConnections: {fraction: 1}}]", "3:16", "would never happen")]
    [InlineData("[{at: 1s, blackhole: {for: 2s}, group: nope}]", "3:49", "fault targets group 'nope', which is not defined")]
    public void Bad_chaos_faults_are_errors_at_their_position(string chaos, string position, string message)
    {
        var result = Load($"name: bad\nhub:\n  chaos: {chaos}\ndevices: {{count: 2, idPrefix: d-}}\nduration: 10s\n");

        Assert.False(result.Success);
        Assert.Contains(result.Errors, e => $"{e.Line}:{e.Column}" == position && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Chaos_next_to_the_embedded_hub_is_an_error_pointing_to_the_embedded_faults()
    {
        var result = Load("name: bad\nhub:\n  embedded: {}\n  chaos: [{at: 1s, dropConnections: {fraction: 1}}]\ndevices: {count: 1, idPrefix: d-}\nduration: 10s\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal((4, 3), (error.Line, error.Column));
        Assert.Contains("hub.chaos applies to an existing hub", error.Message);
        Assert.Contains("hub.embedded.faults", error.Hint);
    }

    private static ScenarioLoadResult Load(string text) => ScenarioLoader.LoadFromText(text, "chaos.yaml");

    /// <summary>Starts `fleetsim hub` in its own process on free ports and waits for its state file.</summary>
    private async Task<Process> StartHubAsync(string stateFile)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Fleetsim.Dll, "hub", "--mqtt-port", "0", "--https-port", "0", "--state-file", stateFile, "--data-dir", Path.Combine(_dir, "hub") })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Poll.UntilAsync(() => File.Exists(stateFile), "state file", TimeSpan.FromSeconds(60),
            gaveUp: () => process.HasExited ? $"the hub exited with {process.ExitCode}" : null);

        return process;
    }

    private static async Task StopHubAsync(Process hub)
    {
        if (!hub.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", hub.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await hub.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            hub.Kill(entireProcessTree: true);
        }
    }
}
